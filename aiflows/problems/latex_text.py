"""Turn a problem statement written in LaTeX (problemtools/BAPCtools style) into markdown.

A prompt needs the words, the sections and the math, not the typesetting. Math (`$...$`) is kept
verbatim because models read TeX math well; layout commands are dropped; sections become
markdown headings; lists become bullets. This is a converter for statements, not a TeX engine:
an unknown command keeps its argument text.
"""

from __future__ import annotations

import re

__all__ = ["latex_to_markdown"]

_SECTION_ENVS = {
    "Input": "Input",
    "Output": "Output",
    "Interaction": "Interaction",
    "Scoring": "Scoring",
    "Explanation": "Explanation",
}
_DROP_ENVS = ("figure", "wrapfigure", "tikzpicture", "comment")
_STYLE = {
    "textbf": "**{}**",
    "bf": "**{}**",
    "emph": "*{}*",
    "textit": "*{}*",
    "it": "*{}*",
    "texttt": "`{}`",
    "tt": "`{}`",
    "underline": "{}",
    "textsc": "{}",
    "textrm": "{}",
    "mbox": "{}",
    "url": "{}",
    "text": "{}",
}
_DROP_CMDS = (
    "illustration",
    "includegraphics",
    "label",
    "nextsample",
    "remainingsamples",
    "vspace",
    "hspace",
    "centering",
    "noindent",
    "newpage",
    "clearpage",
    "medskip",
    "bigskip",
    "smallskip",
    "sampletable",
    "hline",
    "toprule",
    "midrule",
    "bottomrule",
    "footnotesize",
    "small",
)


def latex_to_markdown(tex: str) -> str:
    """Convert a LaTeX problem statement to markdown text.

    Example:
        >>> latex_to_markdown(r"\\problemname{Add}\\section*{Input}Two integers $a, b$.")
        '# Add\\n\\n## Input\\n\\nTwo integers $a, b$.'
    """
    text = _expand_simple_macros(_strip_comments(tex))
    text, math = _protect_math(text)
    for env in _DROP_ENVS:
        text = re.sub(rf"\\begin\{{{env}\*?\}}.*?\\end\{{{env}\*?\}}", "", text, flags=re.S)
    text = re.sub(r"\\problemname\{([^{}]*)\}", lambda m: f"# {m[1].strip()}\n\n" if m[1].strip() else "", text)
    text = re.sub(r"\\(?:sub)*section\*?\{([^{}]*)\}", lambda m: f"\n\n## {m[1].strip()}\n\n", text)
    for env, title in _SECTION_ENVS.items():
        text = re.sub(rf"\\begin\{{{env}\}}", f"\n\n## {title}\n\n", text)
        text = re.sub(rf"\\end\{{{env}\}}", "\n\n", text)
    text = re.sub(r"\\begin\{(?:itemize|enumerate|description)\}(?:\[[^\]]*\])?", "\n", text)
    text = re.sub(r"\\end\{(?:itemize|enumerate|description)\}", "\n", text)
    text = re.sub(r"\\item(?:\[([^\]]*)\])?\s*", lambda m: f"\n- {m[1] + ': ' if m[1] else ''}", text)
    text = re.sub(r"\\href\{([^{}]*)\}\{([^{}]*)\}", r"\2 (\1)", text)
    text = re.sub(r"\\footnote\{([^{}]*)\}", r" (\1)", text)
    for cmd in _DROP_CMDS:
        text = re.sub(rf"\\{cmd}\*?(?:\[[^\]]*\])?(?:\{{[^{{}}]*\}})*", "", text)
    text = re.sub(r"\\(?:begin|end)\{[^{}]*\}(?:\{[^{}]*\})*", "\n", text)  # center, tabular, ...
    for _ in range(3):  # nested styles such as \textbf{\emph{x}}
        text = re.sub(
            r"\\([A-Za-z]+)\{([^{}]*)\}",
            lambda m: _STYLE.get(m[1], "{}").format(m[2]) if m[1] in _STYLE else m[2],
            text,
        )
    text = (
        text.replace("``", '"')
        .replace("''", '"')
        .replace("\\\\", "\n")
        .replace("~", " ")
        .replace("\\%", "%")
        .replace("\\&", "&")
        .replace("\\_", "_")
        .replace("\\#", "#")
        .replace("\\-", "")
        .replace("\\{", "{")
        .replace("\\}", "}")
        .replace("---", "—")
        .replace("--", "–")
    )
    text = re.sub(r"\s*&\s*", " | ", text)
    text = re.sub(r"\\[A-Za-z]+\*?\s?", "", text)  # leftover argument-less commands
    text = text.replace("{", "").replace("}", "")
    text = _restore_math(text, math)
    return _tidy(text)


def _strip_comments(tex: str) -> str:
    return re.sub(r"(?<!\\)%.*", "", tex)


def _protect_math(text: str) -> tuple[str, list[str]]:
    math: list[str] = []

    def keep(m: re.Match[str]) -> str:
        math.append(m[0])
        return f"\x00{len(math) - 1}\x00"

    text = re.sub(r"\$\$.+?\$\$|\\\[.+?\\\]|\\\(.+?\\\)|(?<!\\)\$.+?(?<!\\)\$", keep, text, flags=re.S)
    return text, math


def _restore_math(text: str, math: list[str]) -> str:
    return re.sub(r"\x00(\d+)\x00", lambda m: math[int(m[1])], text)


def _expand_simple_macros(text: str) -> str:
    """Expand argument-less `\\newcommand{\\x}{body}` definitions, which statements use for limits."""
    macros: dict[str, str] = {}

    def record(m: re.Match[str]) -> str:
        macros[m[1]] = m[2]
        return ""

    text = re.sub(r"\\(?:re)?newcommand\*?\{?\\([A-Za-z]+)\}?\{((?:[^{}]|\{[^{}]*\})*)\}", record, text)
    for name, body in macros.items():
        text = re.sub(rf"\\{name}(?![A-Za-z])", body.replace("\\", "\\\\"), text)
    return text


def _tidy(text: str) -> str:
    lines = [line.strip() for line in text.splitlines()]
    text = "\n".join(lines)
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return re.sub(r"(?m)^(- .*)\n\n(?=- )", r"\1\n", text).strip()
