"""Turn an HTML problem statement (Code Jam) into markdown text for prompts.

Built on the standard library's `html.parser`: the statements are machine-written, well-formed
HTML, so a tolerant tag walker is enough and adds no dependency. Scripts, styles and the page's
buttons are dropped; headings, paragraphs, lists, tables and preformatted samples are kept;
`<sub>`/`<sup>` become `_`/`^` and MathJax's `$$$x$$$` becomes `$x$`, so formulas stay readable.
Sample interactions (interactive problems) become `judge: ...` / `solution: ...` transcripts.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

__all__ = ["html_to_markdown"]

_VOID = {"br", "img", "hr", "input", "meta", "link", "source", "wbr", "col", "area", "base"}
_SKIP_TAGS = {"script", "style", "head", "noscript", "svg", "button", "textarea"}
_SKIP_CLASSES = (
    "material-icons",
    "sample-header-download-button",
    "sample-header-copy-button",
    "sample-interaction-judge-solution-labels",
    "test-data-download-wrapper",
)
_BLOCK = {"p", "div", "section", "article", "table", "ul", "ol", "blockquote", "center", "dl", "dd", "dt", "figure"}
_HEADINGS = {"h1": "# ", "h2": "## ", "h3": "## ", "h4": "### ", "h5": "#### ", "h6": "#### "}
_INLINE = {"i": "*", "em": "*", "code": "`", "tt": "`", "kbd": "`", "var": "", "b": "", "strong": ""}


def html_to_markdown(html: str) -> str:
    """Convert HTML to markdown-flavoured plain text.

    Example:
        >>> html_to_markdown("<h1>Sum</h1><p>Print <b>A</b>+<b>B</b>, with 10<sup>9</sup>.</p>")
        '# Sum\\n\\nPrint A+B, with 10^9.'
    """
    parser = _Converter()
    parser.feed(html)
    parser.close()
    return parser.text()


class _Converter(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip_depth = 0  # > 0 while inside an element whose text is dropped
        self.stack: list[tuple[str, bool, str]] = []  # (tag, skipping starts here, closing text)
        self.pre_depth = 0
        self.pre_prefix = ""  # "judge: " / "solution: " inside sample interactions
        self.list_depth = 0

    # -- parser callbacks -------------------------------------------------------------
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = dict(attrs).get("class") or ""
        if tag in _VOID:
            if not self.skip_depth:
                self._void(tag, dict(attrs))
            return
        skip = tag in _SKIP_TAGS or any(c in classes for c in _SKIP_CLASSES)
        if self.skip_depth or skip:
            self.skip_depth += 1
            self.stack.append((tag, True, ""))
            return
        self.stack.append((tag, False, self._open(tag, classes)))

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID:
            return
        # Pop up to the matching tag; tolerate unclosed children (<p> inside <li> etc.).
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                for open_tag, skipping, closing in reversed(self.stack[i:]):
                    if skipping:
                        self.skip_depth -= 1
                    else:
                        self._close(open_tag, closing)
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        if self.skip_depth:
            return
        if self.pre_depth:
            if self.pre_prefix:
                lines = [ln for ln in data.splitlines() if ln.strip()]
                self.out.append("".join(f"{self.pre_prefix}{ln}\n" for ln in lines))
            else:
                self.out.append(data)
            return
        self.out.append(re.sub(r"\s+", " ", data))

    # -- rendering ----------------------------------------------------------------------
    def _void(self, tag: str, attrs: dict[str, str | None]) -> None:
        if tag == "br":
            self.out.append("\n")
        elif tag == "hr":
            self.out.append("\n\n---\n\n")
        elif tag == "img":
            alt = (attrs.get("alt") or "").strip()
            self.out.append(f"[image{': ' + alt if alt else ''}]")

    def _open(self, tag: str, classes: str) -> str:
        """Emit what starts `tag` and return what its end tag should emit."""
        if tag in _HEADINGS:
            self.out.append("\n\n" + _HEADINGS[tag])
            return "\n\n"
        if tag == "pre":
            self.pre_depth += 1
            if "judge-output" in classes:
                self.pre_prefix = "judge: "
                return "\n"
            if "solution-output" in classes:
                self.pre_prefix = "solution: "
                return "\n"
            self.out.append("\n```\n")
            return "\n```\n"
        if "sample-interaction-wrapper" in classes:
            self.out.append("\n\n```interaction\n")
            return "\n```\n\n"
        if "sample-interaction-block-section-label" in classes:
            self.out.append("\n-- ")
            return " --\n"
        if "sample-interaction-judge-note" in classes or "sample-interaction-solution-note" in classes:
            self.out.append("   # ")
            return "\n"
        if "sample-interaction-header" in classes:
            return "\n"
        if "sample-header-text" in classes:
            self.out.append("\n\n")
            return ":"
        if tag == "li":
            self.out.append("\n" + "  " * max(self.list_depth - 1, 0) + "- ")
            return ""
        if tag in ("ul", "ol"):
            self.list_depth += 1
            self.out.append("\n")
            return "\n"
        if tag == "tr":
            self.out.append("\n| ")
            return ""
        if tag in ("td", "th"):
            return " | "
        if tag == "sub":
            self.out.append("_")
            return ""
        if tag == "sup":
            self.out.append("^")
            return ""
        if tag in _INLINE:
            self.out.append(_INLINE[tag])
            return _INLINE[tag]
        if tag in _BLOCK:
            self.out.append("\n\n")
            return "\n\n"
        return ""

    def _close(self, tag: str, closing: str) -> None:
        if tag == "pre":
            self.pre_depth -= 1
            self.pre_prefix = ""
            if not closing.startswith("\n```") or (self.out and self.out[-1].endswith("\n")):
                closing = closing.lstrip("\n") if closing.startswith("\n```") else closing
        if tag in ("ul", "ol"):
            self.list_depth -= 1
        self.out.append(closing)

    def text(self) -> str:
        raw = "".join(self.out)
        raw = re.sub(r"\${3}(.+?)\${3}", r"$\1$", raw, flags=re.S)  # MathJax inline delimiters
        lines: list[str] = []
        fenced = transcript = False
        for line in raw.split("\n"):
            if line.strip().startswith("```"):
                fenced = not fenced
                transcript = fenced and line.strip() == "```interaction"
                lines.append("```" if transcript else line.strip())
            elif transcript:  # layout whitespace of the interaction boxes carries no meaning
                if line.strip() == "--" and lines:
                    lines[-1] += " --"
                elif line.strip():
                    lines.append(line.strip())
            elif fenced:
                lines.append(line.rstrip())
            else:
                lines.append(
                    re.sub(r" {2,}", " ", line).strip()
                    if not line.lstrip().startswith("- ")
                    else re.sub(r"(?<=\S) {2,}", " ", line.rstrip())
                )
        text = "\n".join(lines)
        text = re.sub(r"\n{3,}", "\n\n", text)
        text = re.sub(r"(?m)^(\s*- .*)\n\n(?=\s*- )", r"\1\n", text)
        return text.strip()
