"""Taking the program out of a model's answer.

The flows ask for exactly one fenced ```python block; the first such block is the program.
An answer without one is not an error of the flow: it is a recorded failure that the debug
loop reports back to the model in words.
"""

from __future__ import annotations

import re

__all__ = ["NO_CODE_FEEDBACK", "extract_code"]

_FENCE = re.compile(r"```[ \t]*(?:python3?|py)[ \t]*\r?\n(.*?)```", re.DOTALL | re.IGNORECASE)

NO_CODE_FEEDBACK = (
    "Your answer contained no ```python code block, so there was nothing to run. "
    "Answer with the complete program inside one ```python ... ``` block."
)


def extract_code(answer: str) -> str | None:
    """The first ```python block of `answer` (without the fences), or None when there is none.

    >>> extract_code("Here:\\n```python\\nprint(1)\\n```")
    'print(1)\\n'
    >>> extract_code("no code") is None
    True
    """
    match = _FENCE.search(answer or "")
    if match is None:
        return None
    code = match.group(1)
    return code if code.strip() else None
