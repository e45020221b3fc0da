"""The seccomp filter's assembly: every jump lands inside the program, on each architecture."""

from __future__ import annotations

import struct

import pytest

from aiflows.judge._seccomp import ARCHES, DENIED, RET_ALLOW, filter_program


@pytest.mark.parametrize("machine", sorted(ARCHES))
def test_filter_is_well_formed(machine: str) -> None:
    program = filter_program(machine)
    assert program is not None
    size = len(program) // 8
    assert len(program) % 8 == 0 and size < 4096  # BPF_MAXINSNS
    ops = [struct.unpack("HBBI", program[i * 8 : i * 8 + 8]) for i in range(size)]
    for at, (code, jt, jf, _k) in enumerate(ops):
        if code & 0x07 == 0x05:  # BPF_JMP: both targets inside the program
            assert at + 1 + max(jt, jf) < size
    assert ops[-1] == (0x06, 0, 0, RET_ALLOW)  # the last instruction returns
    numbers = ARCHES[machine][1]
    assert all(name in numbers for name in DENIED), "every denied call has a number on every architecture"


def test_unknown_architecture_has_no_filter() -> None:
    assert filter_program("riscv64") is None
