from flows_hub.cc.code_blocks import extract_code


def test_takes_the_first_python_block() -> None:
    answer = "Idea.\n```text\nnot code\n```\n```python\nprint(1)\n```\n```python\nprint(2)\n```"
    assert extract_code(answer) == "print(1)\n"


def test_accepts_py_and_python3_fences_in_any_case() -> None:
    assert extract_code("```Py\nx = 1\n```") == "x = 1\n"
    assert extract_code("```python3\nx = 2\n```") == "x = 2\n"


def test_no_block_an_unclosed_block_or_an_empty_block_give_none() -> None:
    assert extract_code("just words") is None
    assert extract_code("```python\nprint(1)\n") is None
    assert extract_code("```python\n   \n```") is None
    assert extract_code("```\nprint(1)\n```") is None
