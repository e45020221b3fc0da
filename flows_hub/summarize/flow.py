"""aiflows/summarize: a one-shot summarizer built on `aiflows.llm.ChatFlow`."""

from aiflows.llm import ChatFlow

__all__ = ["Summarize"]


class Summarize(ChatFlow):
    """Input `text` and optional `max_words` (default 50); output `content`, the summary."""
