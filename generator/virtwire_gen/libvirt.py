# SPDX-License-Identifier: LGPL-2.1-or-later
"""libvirt's nine protocol modules, how they depend on each other, and where
each lives in libvirt's source tree; and which of libvirt's version scripts
records the API that each program's procedures serve.

This table is the one list of them: generator/regenerate generates them in
this order (and prints it with --list-modules, which is how CMake learns
it), the umbrella modules (libvirt_protocols.{h,c}) list their descriptors
in this order, and the tests and tools take the list from here.
"""

from __future__ import annotations

from typing import List, NamedTuple, Optional, Tuple


class Module(NamedTuple):
    name: str  # the .x file's base name, and the generated files'
    imports: Tuple[str, ...]  # modules whose types and constants it uses
    source: str  # the .x file's place in libvirt's source tree


# In an order that respects imports (a module after those it imports).
MODULES: Tuple[Module, ...] = (
    Module("virnetprotocol", (), "src/rpc/virnetprotocol.x"),
    Module("virkeepaliveprotocol", (), "src/rpc/virkeepaliveprotocol.x"),
    Module("remote_protocol", (), "src/remote/remote_protocol.x"),
    Module("qemu_protocol", ("remote_protocol",), "src/remote/qemu_protocol.x"),
    Module("lxc_protocol", ("remote_protocol",), "src/remote/lxc_protocol.x"),
    Module("admin_protocol", (), "src/admin/admin_protocol.x"),
    Module("lock_protocol", (), "src/locking/lock_protocol.x"),
    Module("log_protocol", (), "src/logging/log_protocol.x"),
    Module("lxc_monitor_protocol", (), "src/lxc/lxc_monitor_protocol.x"),
)


def module_names() -> List[str]:
    """The modules' names, in the table's order."""
    return [m.name for m in MODULES]


def find(name: str):
    """The module called name, or None."""
    return next((m for m in MODULES if m.name == name), None)


def api_name(program: str, short: str, functions) -> Optional[str]:
    """The function of libvirt's public API that a procedure serves, named
    as libvirt's dispatcher generator names it (REMOTE_PROC_DOMAIN_GET_XML_DESC
    is virDomainGetXMLDesc, QEMU_PROC_DOMAIN_MONITOR_COMMAND
    virDomainQemuMonitorCommand, ADMIN_PROC_CONNECT_LIST_SERVERS
    virAdmConnectListServers), when the public headers declare such a
    function (functions: their names); None otherwise (the daemon's own
    procedures: AUTH_LIST, the migration steps, events)."""
    by_lower = {f.lower(): f for f in functions}
    words = short.lower().split("_")
    if program == "remote":
        candidates = ["vir" + "".join(words)]
    elif program == "admin":
        candidates = ["viradm" + "".join(words)]
    elif program in ("qemu", "lxc"):
        candidates = ["vir" + "".join(words[:i] + [program] + words[i:])
                      for i in range(len(words) + 1)]
    else:
        return None
    return next((by_lower[c] for c in candidates if c in by_lower), None)


class Api(NamedTuple):
    """The public API behind one program's procedures: libvirt's version
    script (.syms) lists every API function in a section named after the
    release that introduced it (LIBVIRT_0.0.3, LIBVIRT_QEMU_0.8.3 ...)."""
    program: str  # the program's name in the .x (remote_program -> "remote")
    syms: str  # the version script's place in libvirt's source tree
    prefix: str  # what every API name starts with
    infix: str  # a word API names carry that procedure names do not


# virDomainGetInfo serves REMOTE_PROC_DOMAIN_GET_INFO,
# virDomainQemuMonitorCommand QEMU_PROC_DOMAIN_MONITOR_COMMAND,
# virAdmConnectOpen ADMIN_PROC_CONNECT_OPEN (since.py has the rule).  The
# other programs (keepalive, lock, log, lxc_monitor) are libvirt's own
# plumbing, with no public API.
APIS: Tuple[Api, ...] = (
    Api("remote", "src/libvirt_public.syms", "vir", ""),
    Api("qemu", "src/libvirt_qemu.syms", "vir", "Qemu"),
    Api("lxc", "src/libvirt_lxc.syms", "vir", "Lxc"),
    Api("admin", "src/admin/libvirt_admin_public.syms", "virAdm", ""),
)


def syms_file(api: Api) -> str:
    """The version script's base name, as fetch-libvirt leaves it."""
    return api.syms.rsplit("/", 1)[-1]
