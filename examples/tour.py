#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""tour.py URI DOMAIN: examples/tour (C, with the typed calls) with
python3-libvirt, printing the same lines: the daemon's libvirt version, the
node's model, CPUs and memory, every domain with its UUID and state,
DOMAIN's XML, the two lifecycle events that destroying and starting DOMAIN
bring, and libvirt's error for a domain that does not exist."""
import sys

import libvirt

STATES = "nostate running blocked paused shutdown shutoff crashed pmsuspended".split()
EVENTS = "defined undefined started suspended resumed stopped shutdown pmsuspended crashed".split()

if len(sys.argv) != 3:
    print("usage: tour.py URI DOMAIN", file=sys.stdout if sys.argv[1:] == ["--help"] else sys.stderr)
    sys.exit(0 if sys.argv[1:] == ["--help"] else 2)
libvirt.registerErrorHandler(lambda opaque, error: None, None)  # errors are exceptions
libvirt.virEventRegisterDefaultImpl()
conn = libvirt.open(sys.argv[1])
ver = conn.getLibVersion()
print(f"libvirt {ver // 1000000}.{ver // 1000 % 1000}.{ver % 1000}")
model, memory, cpus = conn.getInfo()[:3]
print(f"node: {model}, {cpus} CPUs, {memory} MiB")
for dom in conn.listAllDomains():
    print(dom.name(), dom.UUIDString(), STATES[dom.state()[0]])
dom = conn.lookupByName(sys.argv[2])
print(dom.XMLDesc(), end="")

events = []


def on_lifecycle(conn, dom, event, detail, opaque):
    events.append(f"event {dom.name()}: {EVENTS[event]} {detail}")


callback = conn.domainEventRegisterAny(dom, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, on_lifecycle,
                                       None)
dom.destroy()
dom.create()
while len(events) < 2:
    libvirt.virEventRunDefaultImpl()
print("\n".join(events))
conn.domainEventDeregisterAny(callback)
try:
    conn.lookupByName("no-such-domain")
except libvirt.libvirtError as e:
    print(f"error {e.get_error_code()}: {e.get_error_message()}")
conn.close()
