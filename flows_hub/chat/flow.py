"""aiflows/chat: `aiflows.llm.ChatFlow` with this folder's prompts.

The class exists so that prompt files resolve against this folder wherever the hub puts it;
everything else (model choice, retries, streaming, the conversation window) is ChatFlow's.
"""

from aiflows.llm import ChatFlow

__all__ = ["Chat"]


class Chat(ChatFlow):
    """A chat assistant: input `query` (plus any template variables), output `content`."""
