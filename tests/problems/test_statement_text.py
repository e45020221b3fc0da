"""Statement conversion: LaTeX and HTML to prompt-ready markdown."""

from __future__ import annotations

from aiflows.problems import html_to_markdown, latex_to_markdown


def test_latex_sections_lists_styles_and_macros() -> None:
    tex = r"""
\problemname{Sum It}
\newcommand{\maxn}{1000}
% a comment that must vanish
Compute the \textbf{sum} of \emph{two} numbers $a + b \le \maxn$.
\illustration{0.3}{pic.png}{A picture}
\begin{Input}
  \begin{itemize}
    \item One line with ``\texttt{a b}''.
  \end{itemize}
\end{Input}
\section*{Output}
The sum~$s$.\\ Done 50\%.
"""
    md = latex_to_markdown(tex)
    assert md.startswith("# Sum It")
    assert "comment" not in md and "pic.png" not in md and "\\" not in md.replace("\\le", "")
    assert "**sum**" in md and "*two*" in md and "$a + b \\le 1000$" in md
    assert '## Input\n\n- One line with "`a b`".' in md
    assert "## Output" in md and "The sum $s$." in md and "Done 50%." in md


def test_html_headings_code_samples_and_noise() -> None:
    html = """<html><head><style>.x{}</style><script>var a=1;</script></head><body>
    <h1>Trace</h1><h3>Problem</h3><p>Given <b>N</b> and M<sub>i,j</sub> &le; 10<sup>9</sup>,
    output <code>Case #x: y</code> and $$$\\mathbf{T}$$$.</p>
    <ul><li>first</li><li>second</li></ul>
    <div class="sample-header"><div class="sample-header-text">Sample Input</div>
      <div class="sample-header-copy-button"><i class="material-icons">content_copy</i>
      <span class="sample-header-copy-popup">Copied!</span></div></div>
    <pre class="sample-content-text">2
1 2
</pre><img src="a.png" alt="a tree"><table><tr><td>1</td><td>2</td></tr></table></body></html>"""
    md = html_to_markdown(html)
    assert md.startswith("# Trace\n\n## Problem")
    assert "Given N and M_i,j ≤ 10^9" in md and "`Case #x: y`" in md and "$\\mathbf{T}$" in md
    assert "- first\n- second" in md
    assert "Sample Input:\n\n```\n2\n1 2\n```" in md
    assert "Copied" not in md and "content_copy" not in md and "var a" not in md and ".x{}" not in md
    assert "[image: a tree]" in md and "| 1 | 2 |" in md


def test_html_sample_interaction_transcript() -> None:
    html = """<div class="sample-interaction-wrapper">
      <div class="sample-interaction-header"><div class="sample-interaction-header-text">Sample Interaction</div></div>
      <div class="sample-interaction-judge-solution-labels"><div>Judge</div><div>Solution</div></div>
      <div class="sample-interaction-block-section-label">Case 1<br></div>
      <div class="sample-interaction-judge-output-wrapper"><pre class="sample-interaction-judge-output-test">3
</pre></div>
      <div class="sample-interaction-judge-note">Judge gives 3<br></div>
      <div class="sample-interaction-solution-output-wrapper"><pre class="sample-interaction-solution-output-test">1
</pre></div></div>"""
    md = html_to_markdown(html)
    assert md == "```\nSample Interaction\n-- Case 1 --\njudge: 3\n# Judge gives 3\nsolution: 1\n```"
