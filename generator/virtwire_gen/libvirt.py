# SPDX-License-Identifier: LGPL-2.1-or-later
"""The nine libvirt protocol modules and how they depend on each other."""

# (module, modules whose types it uses), in an order that respects imports.
MODULES = [
    ("virnetprotocol", []),
    ("virkeepaliveprotocol", []),
    ("remote_protocol", []),
    ("qemu_protocol", ["remote_protocol"]),
    ("lxc_protocol", ["remote_protocol"]),
    ("admin_protocol", []),
    ("lock_protocol", []),
    ("log_protocol", []),
    ("lxc_monitor_protocol", []),
]
