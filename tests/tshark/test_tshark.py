#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Our client's TCP traffic, dissected by tshark's libvirt dissector (from
libvirt-wireshark, libvirt's own protocol description): no malformed packet
and no expert warning, and the dissector really decoded our frames (the
procedures we called, the strings we sent and received).

A private libvirtd listens on a free TCP port; tshark captures that port on
the loopback while examples/virtwire-list lists the domains, prints the XML
of "test", and watches lifecycle events while virsh (over TCP too) suspends
and resumes "test".

usage: test_tshark.py VIRTWIRE_LIST_BINARY
"""

import os
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from vwtest import LAUNCH, Capture, Libvirtd  # noqa: E402

# Procedure numbers, from libvirt's remote_protocol.x.
CONNECT_OPEN, CONNECT_CLOSE = 1, 2
DOMAIN_GET_XML_DESC, DOMAIN_LOOKUP_BY_NAME = 14, 23
CONNECT_SUPPORTS_FEATURE, AUTH_LIST = 60, 66
DOMAIN_GET_STATE, CONNECT_LIST_ALL_DOMAINS = 212, 273
EVENT_REGISTER_ANY, EVENT_DEREGISTER_ANY, EVENT_LIFECYCLE = 316, 317, 318
HANDSHAKE = [AUTH_LIST, CONNECT_SUPPORTS_FEATURE, CONNECT_OPEN]
# virNetMessageType
CALL, REPLY, MESSAGE = 0, 1, 2


class Tshark(unittest.TestCase):
    binary = None

    @classmethod
    def setUpClass(cls):
        cls.tshark = shutil.which("tshark")
        if not cls.tshark:
            raise RuntimeError("tshark not found: tests/install-deps installs tshark and "
                               "libvirt-wireshark")
        protocols = subprocess.run([cls.tshark, "-G", "protocols"], capture_output=True,
                                   text=True, timeout=30).stdout
        if "\tlibvirt\t" not in protocols and not protocols.startswith("libvirt\t"):
            raise RuntimeError("tshark has no libvirt dissector: install libvirt-wireshark")
        cls.daemon = Libvirtd(tcp=True, prefix="vw-ts-")
        cls.dir = cls.daemon.dir
        cls.pcap = os.path.join(cls.dir, "capture.pcapng")
        cls.port = cls.daemon.port
        cls.capture = None
        ok = False
        try:
            cls.uri = cls.daemon.tcp_uri
            cls.start_capture()
            cls.run_clients()
            ok = True
        finally:
            cls.stop_capture()
            cls.daemon.stop(remove=False)
            if not ok:  # tearDownClass will not run
                shutil.rmtree(cls.dir, ignore_errors=True)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    @classmethod
    def start_capture(cls):
        cls.capture = Capture(cls.port, cls.pcap, tshark=cls.tshark)

    @classmethod
    def stop_capture(cls):
        if cls.capture:
            cls.capture.stop()

    @classmethod
    def ours(cls, *args):
        r = subprocess.run([LAUNCH, cls.binary, cls.uri, *args], capture_output=True, text=True,
                           timeout=60)
        if r.returncode != 0:
            raise RuntimeError(f"virtwire-list {' '.join(args)}: {r.stderr}")
        return r.stdout

    @classmethod
    def virsh(cls, *args):
        subprocess.run(["virsh", "-c", cls.uri, *args], check=True, capture_output=True,
                       timeout=30)

    @classmethod
    def run_clients(cls):
        """Three connections of ours, then virsh's."""
        cls.listing = cls.ours()
        cls.xml = cls.ours("xml", "test")
        watcher = subprocess.Popen([LAUNCH, cls.binary, cls.uri, "events", "3"],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            # Registered once it says so: virsh's connections come after.
            first = watcher.stdout.readline()
            if not first.startswith("watching"):
                raise RuntimeError(f"virtwire-list events: {first!r}")
            cls.virsh("suspend", "test")
            cls.virsh("resume", "test")
            out, err = watcher.communicate(timeout=30)
        finally:
            if watcher.poll() is None:
                watcher.kill()
                watcher.wait()
        if watcher.returncode != 0:
            raise RuntimeError(f"virtwire-list events: {err}")
        cls.events = out

    def dissect(self, *args):
        r = subprocess.run([self.tshark, "-r", self.pcap, "-d", f"tcp.port=={self.port},libvirt",
                            *args], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def sessions(self):
        """{tcp.stream: [(type, procedure, status) of every libvirt frame]}.
        A segment may carry several frames: their fields come comma-separated."""
        out = self.dissect("-Y", "libvirt", "-T", "fields", "-e", "tcp.stream",
                           "-e", "libvirt.type", "-e", "libvirt.procedure", "-e", "libvirt.status")
        sessions = {}
        for line in out.splitlines():
            stream, *cols = line.split("\t")
            cols = [c.split(",") for c in cols]
            sessions.setdefault(int(stream), []).extend(
                tuple(int(v) for v in f) for f in zip(*cols))
        return sessions

    def session(self, proc):
        """The TCP stream and frames of the one session that called proc."""
        found = [(s, f) for s, f in self.sessions().items() if (CALL, proc, 0) in f]
        self.assertEqual(len(found), 1, f"sessions calling {proc}: {found}")
        return found[0]

    @staticmethod
    def calls(frames):
        return [p for t, p, _ in frames if t == CALL]

    def test_clients_worked(self):
        # The session did what it should, so that the capture is worth dissecting.
        self.assertRegex(self.listing, r"\n\s*1\s+test\s+running\n")
        self.assertIn("<name>test</name>", self.xml)
        self.assertIn("event 'lifecycle' for domain 'test': Suspended", self.events)
        self.assertIn("event 'lifecycle' for domain 'test': Resumed", self.events)

    def test_nothing_malformed(self):
        # Any malformed packet fails the test, and so does any warning on a
        # packet that carries libvirt data.  TCP's own notes on a loaded
        # machine (a D-SACK on a bare ACK after a tail-loss probe, sequence
        # analysis) say nothing about libvirt's framing and are left out.
        self.assertEqual(self.dissect(
            "-Y", "_ws.malformed || (libvirt && _ws.expert.severity >= warning"
                  " && !tcp.analysis.flags)"), "")

    def test_list_session_decoded(self):
        stream, frames = self.session(CONNECT_LIST_ALL_DOMAINS)
        calls = self.calls(frames)
        self.assertEqual(calls[:4], HANDSHAKE + [CONNECT_LIST_ALL_DOMAINS])
        self.assertEqual(calls[-1], CONNECT_CLOSE)
        self.assertIn(DOMAIN_GET_STATE, calls)
        # Every call answered with an OK reply of the same procedure.
        replies = [p for t, p, s in frames if t == REPLY and s == 0]
        self.assertEqual(replies, calls)
        names = self.dissect("-Y", f"tcp.stream == {stream}", "-T", "fields", "-e",
                             "libvirt.remote_connect_list_all_domains_ret.domains.domains")
        self.assertTrue(names.strip(), "the LIST_ALL_DOMAINS reply's domains were not decoded")

    def test_xml_session_decoded(self):
        stream, frames = self.session(DOMAIN_GET_XML_DESC)
        self.assertEqual(self.calls(frames), HANDSHAKE + [DOMAIN_LOOKUP_BY_NAME,
                                                          DOMAIN_GET_XML_DESC, CONNECT_CLOSE])
        name = self.dissect("-Y", f"tcp.stream == {stream}", "-T", "fields",
                            "-e", "libvirt.remote_domain_lookup_by_name_args.name").split()
        self.assertEqual(name, ["test"])
        xml = self.dissect("-Y", f"tcp.stream == {stream}", "-T", "fields",
                           "-e", "libvirt.remote_domain_get_xml_desc_ret.xml")
        self.assertIn("<name>test</name>", xml)

    def test_events_session_decoded(self):
        _, frames = self.session(EVENT_REGISTER_ANY)
        self.assertEqual(self.calls(frames), HANDSHAKE + [EVENT_REGISTER_ANY,
                                                          EVENT_DEREGISTER_ANY, CONNECT_CLOSE])
        events = [p for t, p, _ in frames if t == MESSAGE]
        self.assertEqual(events, [EVENT_LIFECYCLE, EVENT_LIFECYCLE])


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    Tshark.binary = sys.argv.pop(1)
    unittest.main(verbosity=2)
