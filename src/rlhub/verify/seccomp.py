"""Seccomp filters for the sandbox, assembled here as classic BPF (no libseccomp): syscalls that a verified
program never needs fail with EPERM.

Two layers, because the sandbox's fork server itself needs `mount`, `unshare` and `setns` to build each
execution's namespaces:
- `program(namespaces=False)` goes to bubblewrap (`--seccomp FD`) and covers the server and everything
  it starts: kernel keyrings, BPF, perf, ptrace and cross-process memory access, modules, kexec, swap,
  reboot, io_uring...
- `program(namespaces=True)` is stacked on it by each execution just before the untrusted code runs:
  every way to make or enter a namespace or mount (`clone` with a CLONE_NEW* flag included; `clone3`,
  whose flags a classic filter cannot read, returns ENOSYS so that libc falls back to `clone`). It is
  kept short because the kernel prepares it anew for every execution.
A syscall of another architecture (e.g. `int 0x80` on x86_64, or the x32 ABI) kills the process or
fails.
"""

from __future__ import annotations

import errno
import platform
import struct

_DENIED = (
    *("ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "userfaultfd", "perf_event_open", "bpf"),
    *("keyctl", "add_key", "request_key", "init_module", "finit_module", "delete_module", "kexec_load"),
    *("kexec_file_load", "reboot", "swapon", "swapoff", "acct", "quotactl", "syslog", "settimeofday"),
    *("sethostname", "setdomainname", "vhangup", "chroot", "open_by_handle_at", "name_to_handle_at"),
    *("fanotify_init", "lookup_dcookie", "io_uring_setup", "io_uring_enter", "io_uring_register"),
    *("iopl", "ioperm", "uselib"),  # x86 only
)
"""Denied to the fork server and to every program."""
_NAMESPACES = (
    *("mount", "umount2", "pivot_root", "unshare", "setns", "open_tree", "move_mount", "fsopen", "fsconfig"),
    *("fsmount", "fspick", "mount_setattr"),
)
"""Denied to programs only, by the second layer (the fork server uses mount, unshare and setns)."""
DENIED = (*_DENIED, *_NAMESPACES)
"""Every syscall a sandboxed program gets EPERM from (plus `clone` with a namespace flag; `clone3` gets ENOSYS)."""

_CLONE_NEW_FLAGS = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000
"""CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET."""

# fmt: off
_X86_64 = {
    "ptrace": 101, "syslog": 103, "uselib": 134, "vhangup": 153, "pivot_root": 155, "chroot": 161, "acct": 163,
    "settimeofday": 164, "mount": 165, "umount2": 166, "swapon": 167, "swapoff": 168, "reboot": 169,
    "sethostname": 170, "setdomainname": 171, "iopl": 172, "ioperm": 173, "init_module": 175,
    "delete_module": 176, "quotactl": 179, "lookup_dcookie": 212, "kexec_load": 246, "add_key": 248,
    "request_key": 249, "keyctl": 250, "unshare": 272, "perf_event_open": 298, "fanotify_init": 300,
    "name_to_handle_at": 303, "open_by_handle_at": 304, "setns": 308, "process_vm_readv": 310,
    "process_vm_writev": 311, "kcmp": 312, "finit_module": 313, "kexec_file_load": 320, "bpf": 321,
    "userfaultfd": 323, "clone": 56,
}
_AARCH64 = {
    "lookup_dcookie": 18, "umount2": 39, "mount": 40, "pivot_root": 41, "chroot": 51, "vhangup": 58,
    "quotactl": 60, "acct": 89, "unshare": 97, "kexec_load": 104, "init_module": 105, "delete_module": 106,
    "syslog": 116, "ptrace": 117, "reboot": 142, "sethostname": 161, "setdomainname": 162,
    "settimeofday": 170, "add_key": 217, "request_key": 218, "keyctl": 219, "clone": 220, "swapon": 224,
    "swapoff": 225, "perf_event_open": 241, "fanotify_init": 262, "name_to_handle_at": 264,
    "open_by_handle_at": 265, "setns": 268, "process_vm_readv": 270, "process_vm_writev": 271, "kcmp": 272,
    "finit_module": 273, "bpf": 280, "userfaultfd": 282, "kexec_file_load": 294,
}
_COMMON = {  # numbered alike on every architecture (added after the tables were unified)
    "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427, "open_tree": 428, "move_mount": 429,
    "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433, "clone3": 435, "mount_setattr": 442,
}
# fmt: on
_ARCHES = {
    "x86_64": (0xC000003E, _X86_64 | _COMMON),  # AUDIT_ARCH_X86_64
    "aarch64": (0xC00000B7, _AARCH64 | _COMMON),  # AUDIT_ARCH_AARCH64
}
_X32_BIT = 0x40000000

_LD_W_ABS, _JEQ, _JGE, _JSET, _RET = 0x20, 0x15, 0x35, 0x45, 0x06
_RET_KILL_PROCESS, _RET_ERRNO, _RET_ALLOW = 0x80000000, 0x00050000, 0x7FFF0000
_NR, _ARCH, _ARG0_LOW = 0, 4, 16  # offsets in struct seccomp_data (little-endian)


class UnsupportedArchitecture(RuntimeError):
    """No syscall table here for this machine: the sandbox runs without seccomp (and says so)."""


def supported(machine: str | None = None) -> bool:
    return (machine or platform.machine()) in _ARCHES


def program(*, namespaces: bool, machine: str | None = None) -> bytes:
    """The filter as an array of `struct sock_filter`, ready for bwrap's --seccomp or PR_SET_SECCOMP."""
    name = machine or platform.machine()
    if name not in _ARCHES:
        raise UnsupportedArchitecture(f"no seccomp syscall table for {name}")
    arch, numbers = _ARCHES[name]
    denied = _NAMESPACES if namespaces else _DENIED
    lines: list[tuple[int, int | str, int | str, int] | str] = [
        (_LD_W_ABS, 0, 0, _ARCH),
        (_JEQ, 0, "kill", arch),
        (_LD_W_ABS, 0, 0, _NR),
    ]
    if name == "x86_64":
        lines.append((_JGE, "deny", 0, _X32_BIT))
    lines += [(_JEQ, "deny", 0, number) for number in sorted(numbers[name] for name in denied if name in numbers)]
    if namespaces:
        lines += [(_JEQ, "enosys", 0, numbers["clone3"]), (_JEQ, 0, "allow", numbers["clone"])]
        lines += [(_LD_W_ABS, 0, 0, _ARG0_LOW), (_JSET, "deny", 0, _CLONE_NEW_FLAGS)]
    lines += ["allow", (_RET, 0, 0, _RET_ALLOW), "deny", (_RET, 0, 0, _RET_ERRNO | errno.EPERM)]
    lines += ["enosys", (_RET, 0, 0, _RET_ERRNO | errno.ENOSYS), "kill", (_RET, 0, 0, _RET_KILL_PROCESS)]
    return _assemble(lines)


def _assemble(lines: list[tuple[int, int | str, int | str, int] | str]) -> bytes:
    """Resolve label jumps (forward only, as classic BPF requires) and pack each `struct sock_filter`."""
    labels: dict[str, int] = {}
    for line in lines:
        if isinstance(line, str):
            labels[line] = sum(1 for item in lines[: lines.index(line)] if not isinstance(item, str))
    out = []
    for pc, (code, jt, jf, k) in enumerate(line for line in lines if not isinstance(line, str)):
        offsets = [target if isinstance(target, int) else labels[target] - pc - 1 for target in (jt, jf)]
        assert all(0 <= offset < 256 for offset in offsets), offsets
        out.append(struct.pack("=HBBI", code, *offsets, k))
    return b"".join(out)


__all__ = ["DENIED", "UnsupportedArchitecture", "program", "supported"]
