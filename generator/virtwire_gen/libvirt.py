# SPDX-License-Identifier: LGPL-2.1-or-later
"""libvirt's nine protocol modules, how they depend on each other, and where
each lives in libvirt's source tree.

This table is the one list of them: generator/regenerate generates them in
this order (and prints it with --list-modules, which is how CMake learns
it), the umbrella modules (libvirt_protocols.{h,c}) list their descriptors
in this order, and the tests and tools take the list from here.
"""

from __future__ import annotations

from typing import List, NamedTuple, Tuple


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
