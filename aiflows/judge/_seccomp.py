"""A seccomp filter for sandboxed programs: no debugging, no new namespaces, no kernel-admin calls.

Why: bubblewrap's namespaces hide the filesystem and network, but a program inside may still
call into kernel surfaces a judged program never needs and that widen the attack surface:
`ptrace` and `process_vm_*` (reach other processes of its uid), `unshare`/`setns`/namespace
`clone` flags (build a user namespace and gain capabilities inside it), `mount`, `keyctl`,
`bpf`, `perf_event_open`, `userfaultfd`, `io_uring_*`, module loading. Those fail with EPERM.
`clone3` fails with ENOSYS (its flags live in memory a filter cannot read), so the C library
falls back to `clone`, whose flags are checked.

The program is classic BPF, assembled here (no libseccomp needed) for x86_64 and aarch64;
bubblewrap loads it from a file descriptor (`--seccomp FD`). On other architectures
`filter_program()` returns None and the sandbox runs without it (the log says so).
"""

from __future__ import annotations

import errno
import os
import platform
import struct

__all__ = ["filter_fd", "filter_program"]

# struct seccomp_data: int nr; u32 arch; u64 instruction_pointer; u64 args[6]
NR_OFFSET, ARCH_OFFSET, ARG0_LOW_OFFSET = 0, 4, 16

LD_W_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS
JEQ_K = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
JGE_K = 0x35  # BPF_JMP | BPF_JGE | BPF_K
JSET_K = 0x45  # BPF_JMP | BPF_JSET | BPF_K
RET_K = 0x06  # BPF_RET | BPF_K

RET_ALLOW = 0x7FFF0000
RET_ERRNO = 0x00050000
X32_SYSCALL_BIT = 0x40000000

# CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET
NAMESPACE_FLAGS = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000

DENIED = (
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "unshare",
    "setns",
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "keyctl",
    "add_key",
    "request_key",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "open_by_handle_at",
    "name_to_handle_at",
    "swapon",
    "swapoff",
    "reboot",
    "acct",
    "quotactl",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "open_tree",
    "move_mount",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "mount_setattr",
)


def _numbers(table: str) -> dict[str, int]:
    words = table.split()
    return {name: int(nr) for name, nr in zip(words[::2], words[1::2], strict=True)}


# (AUDIT_ARCH value, syscall numbers by name); from <asm/unistd_64.h> and <asm-generic/unistd.h>
ARCHES: dict[str, tuple[int, dict[str, int]]] = {
    "x86_64": (
        0xC000003E,
        _numbers("""
            clone 56  clone3 435  ptrace 101  pivot_root 155  chroot 161  acct 163  mount 165  umount2 166
            swapon 167  swapoff 168  reboot 169  init_module 175  delete_module 176  quotactl 179
            kexec_load 246  add_key 248  request_key 249  keyctl 250  unshare 272  perf_event_open 298
            name_to_handle_at 303  open_by_handle_at 304  setns 308  process_vm_readv 310
            process_vm_writev 311  finit_module 313  kexec_file_load 320  bpf 321  userfaultfd 323
            io_uring_setup 425  io_uring_enter 426  io_uring_register 427  open_tree 428  move_mount 429
            fsopen 430  fsconfig 431  fsmount 432  fspick 433  mount_setattr 442
        """),
    ),
    "aarch64": (
        0xC00000B7,
        _numbers("""
            clone 220  clone3 435  umount2 39  mount 40  pivot_root 41  chroot 51  quotactl 60  acct 89
            unshare 97  kexec_load 104  init_module 105  delete_module 106  ptrace 117  reboot 142
            add_key 217  request_key 218  keyctl 219  swapon 224  swapoff 225  perf_event_open 241
            name_to_handle_at 264  open_by_handle_at 265  setns 268  process_vm_readv 270
            process_vm_writev 271  finit_module 273  bpf 280  userfaultfd 282  kexec_file_load 294
            io_uring_setup 425  io_uring_enter 426  io_uring_register 427  open_tree 428  move_mount 429
            fsopen 430  fsconfig 431  fsmount 432  fspick 433  mount_setattr 442
        """),
    ),
}


def filter_program(machine: str | None = None) -> bytes | None:
    """The compiled filter (an array of `struct sock_filter`) for `machine`, or None if unknown."""
    machine = machine or platform.machine()
    if machine not in ARCHES:
        return None
    audit_arch, numbers = ARCHES[machine]
    # instructions as (code, jump-if-true label, jump-if-false label, k); labels resolve below
    code: list[tuple[int, str | None, str | None, int]] = [
        (LD_W_ABS, None, None, ARCH_OFFSET),
        (JEQ_K, None, "deny", audit_arch),  # another ABI (i386 on x86_64): nothing is allowed
        (LD_W_ABS, None, None, NR_OFFSET),
    ]
    if machine == "x86_64":
        code.append((JGE_K, "deny", None, X32_SYSCALL_BIT))  # the x32 ABI's numbers alias ours
    code += [(JEQ_K, "deny", None, numbers[name]) for name in DENIED]
    code += [
        (JEQ_K, "clone", None, numbers["clone"]),
        (JEQ_K, "enosys", None, numbers["clone3"]),
        (RET_K, None, None, RET_ALLOW),
    ]
    labels = {"clone": len(code)}
    code += [
        (LD_W_ABS, None, None, ARG0_LOW_OFFSET),  # clone's flags (the low word holds them all)
        (JSET_K, "deny", "allow", NAMESPACE_FLAGS),
    ]
    labels["deny"] = len(code)
    code.append((RET_K, None, None, RET_ERRNO | errno.EPERM))
    labels["enosys"] = len(code)
    code.append((RET_K, None, None, RET_ERRNO | errno.ENOSYS))
    labels["allow"] = len(code)
    code.append((RET_K, None, None, RET_ALLOW))
    out = bytearray()
    for i, (op, jt, jf, k) in enumerate(code):
        out += struct.pack("HBBI", op, _jump(labels, jt, i), _jump(labels, jf, i), k)
    return bytes(out)


def _jump(labels: dict[str, int], label: str | None, at: int) -> int:
    """BPF jumps are relative to the next instruction and must fit in a byte."""
    if label is None:
        return 0
    offset = labels[label] - at - 1
    if not 0 <= offset <= 255:
        raise ValueError(f"seccomp filter jump to {label!r} out of range ({offset})")
    return offset


_PROGRAM = filter_program()


def filter_fd() -> int | None:
    """A fresh memfd holding the filter, positioned at its start (bwrap reads it to the end).

    The caller passes it to bwrap (`--seccomp FD`, in `pass_fds`) and closes it afterwards.
    """
    if _PROGRAM is None:
        return None
    fd = os.memfd_create("aiflows-seccomp")  # close-on-exec: only pass_fds hands it on
    os.write(fd, _PROGRAM)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd
