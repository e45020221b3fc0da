"""Python 2 Code Jam judges made to run on Python 3, with their Python 2 meaning kept.

lib2to3's fixers (from fissix, its maintained fork: Python 3.13 removed lib2to3) do the syntax; then `/` is turned back into Python 2 division (floor for two
ints) unless the module imported true division, and a small prelude restores `file`, `cmp`,
Python 2 `round` and byte-transparent `open`.
"""

from __future__ import annotations

import ast
import re
import threading

__all__ = ["convert_python2", "looks_like_python2"]

_TRUE_DIVISION = re.compile(r"^from\s+__future__\s+import\s+[^#\n]*\bdivision\b", re.MULTILINE)
_PY2_HINT = re.compile(
    r"^\s*print\s+[^(\s=]|print\s*>>|\bfile\(|\bxrange\(|except\s+\w+\s*,\s*\w+\s*:|\.iter(items|keys|values)\("
    r"|\braw_input\(|\bunicode\(|\blong\(|\bbasestring\b|^#!.*python2",
    re.MULTILINE,
)

# CPython 3.11 builds `ast` objects with a recursion counter shared by the interpreter's threads: two
# threads parsing at once can fail with "SystemError: AST constructor recursion depth mismatch"
# (python/cpython#106905), so judges are converted one at a time
_AST_LOCK = threading.Lock()

# lib2to3's fixers exactly: fissix adds `fix_sorted` (cmp= to key=), which the prelude's `sorted` already covers
_EXTRA_FIXERS = frozenset({"fissix.fixes.fix_sorted"})

# Python 2 builtins that lib2to3 leaves alone; `open`/`file` read bytes as latin-1 text, as
# Python 2's str would, so no attempt can make the judge fail on decoding.
_PRELUDE = """\
import builtins as _py2_builtins, functools as _py2_functools, math as _py2_math

def _py2_div(a, b):
    if isinstance(a, int) and isinstance(b, int):
        return a // b
    return a / b

def open(name, mode="r", *args, **kwargs):
    if "b" not in mode and not args and "encoding" not in kwargs:
        kwargs["encoding"] = "latin-1"
    return _py2_builtins.open(name, mode, *args, **kwargs)

file = open

def cmp(a, b):
    return (a > b) - (a < b)

def round(x, n=0):
    scale = 10.0 ** n
    return _py2_math.copysign(_py2_math.floor(abs(x) * scale + 0.5) / scale, x)

def sorted(iterable, cmp=None, key=None, reverse=False):
    if cmp is not None:
        key = _py2_functools.cmp_to_key(cmp if key is None else (lambda a, b: cmp(key(a), key(b))))
    return _py2_builtins.sorted(iterable, key=key, reverse=reverse)
"""


def looks_like_python2(text: str) -> bool:
    """Python 2 by its syntax: a Python 2 idiom, or source that Python 3 cannot compile."""
    return _PY2_HINT.search(text) is not None or not _compiles(text)


def _compiles(text: str) -> bool:
    try:
        compile(text, "<judge>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return False
    return True


def convert_python2(source: str) -> str:
    """Python 2 source -> equivalent Python 3 source (raises ValueError when it cannot).

    `/` keeps its Python 2 meaning (floor for two ints) unless the module imported true division.
    """
    # imported here, not at the top: 75 ms, and only Python 2 judges need it
    from fissix import refactor

    fixers = [f for f in refactor.get_fixers_from_package("fissix.fixes") if f not in _EXTRA_FIXERS]
    tool = refactor.RefactoringTool(fixers, options={"print_function": False})
    try:
        converted = str(tool.refactor_string(source.rstrip("\n") + "\n", "judge"))
    except Exception as exc:  # noqa: BLE001 - lib2to3 raises its own ParseError and friends
        raise ValueError(f"lib2to3 failed: {type(exc).__name__}: {exc}") from None
    with _AST_LOCK:
        return _python2_division(source, converted)


def _python2_division(source: str, converted: str) -> str:
    try:
        tree = ast.parse(converted)
    except SyntaxError as exc:
        raise ValueError(f"the converted code does not parse (line {exc.lineno}): {exc.msg}") from None
    if not _TRUE_DIVISION.search(source):  # read before lib2to3, which drops __future__ imports
        tree = _Py2Division().visit(tree)
    body = [s for s in tree.body if not (isinstance(s, ast.ImportFrom) and s.module == "__future__")]
    tree.body = [*ast.parse(_PRELUDE).body, *body]  # after the division pass: the prelude is Python 3
    ast.fix_missing_locations(tree)
    return ast.unparse(tree) + "\n"


class _Py2Division(ast.NodeTransformer):
    """`a / b` -> `_py2_div(a, b)`; `x /= y` -> `x = _py2_div(x, y)` for side-effect-free targets."""

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.op, ast.Div):
            return ast.copy_location(_div_call(node.left, node.right), node)
        return node

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        self.generic_visit(node)
        if not isinstance(node.op, ast.Div):
            return node
        if any(isinstance(n, (ast.Call, ast.Await, ast.Yield, ast.NamedExpr)) for n in ast.walk(node.target)):
            raise ValueError(f"line {node.lineno}: `/=` on a target with side effects")
        load = _as_load(node.target)
        return ast.copy_location(ast.Assign(targets=[node.target], value=_div_call(load, node.value)), node)


def _div_call(left: ast.expr, right: ast.expr) -> ast.Call:
    return ast.Call(func=ast.Name(id="_py2_div", ctx=ast.Load()), args=[left, right], keywords=[])


def _as_load(target: ast.expr) -> ast.expr:
    """The same target, read instead of written."""
    return ast.parse(ast.unparse(target), mode="eval").body
