#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""examples/virtwire-list (the generated typed client calls) against a real
libvirtd, checked against virsh on the same daemon.

usage: test_list.py VIRTWIRE_LIST_BINARY
"""

import os
import re
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from vwtest import LAUNCH, LibvirtdTestCase  # noqa: E402


class VirtwireList(LibvirtdTestCase):
    binary = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.uri = cls.daemon.uri
        # test:///default keeps its state only while a connection is open: hold one
        # (an event watcher that outlives every check) and define an inactive domain.
        cls.holder = subprocess.Popen([LAUNCH, cls.binary, cls.uri, "events", "120"],
                                      stdout=subprocess.PIPE, text=True)
        cls.holder.stdout.readline()
        xml = ("<domain type='test'><name>vw-inactive</name><memory>1024</memory>"
               "<os><type>hvm</type></os></domain>")
        with tempfile.NamedTemporaryFile("w", suffix=".xml", delete=False) as f:
            f.write(xml)
        cls.virsh("define", f.name)
        os.unlink(f.name)

    @classmethod
    def tearDownClass(cls):
        # SIGTERM ends the watch: the holder deregisters, closes and exits
        # cleanly (its leaks and fds are checked like any other run's).
        cls.holder.terminate()
        rc = cls.holder.wait(timeout=60)
        super().tearDownClass()
        if rc != 0:
            raise AssertionError(f"the holder (virtwire-list events) exited with {rc}")

    @classmethod
    def virsh(cls, *args):
        return subprocess.run(["virsh", "-c", cls.uri, *args], capture_output=True, text=True,
                              check=True, timeout=30).stdout

    def ours(self, *args):
        r = subprocess.run([LAUNCH, self.binary, self.uri, *args], capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    @staticmethod
    def rows(text):
        out = set()
        for line in text.splitlines():
            m = re.match(r"^\s*(-|\d+)\s+(\S+)\s+(.+?)\s*$", line)
            if m and m.group(1) != "Id":
                out.add(m.groups())
        return out

    def test_list_matches_virsh(self):
        ref = self.rows(self.virsh("list", "--all"))
        self.assertIn(("-", "vw-inactive", "shut off"), ref)
        self.assertEqual(self.rows(self.ours()), ref)

    def test_xml_matches_virsh(self):
        # virsh prints one newline after the daemon's XML, which ends in one already
        self.assertEqual(self.ours("xml", "test"), self.virsh("dumpxml", "test")[:-1])

    def test_missing_domain(self):
        r = subprocess.run([LAUNCH, self.binary, self.uri, "xml", "no-such-domain"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 1)
        self.assertIn("Domain not found", r.stderr)

    def test_events(self):
        watcher = subprocess.Popen([LAUNCH, self.binary, self.uri, "events", "4"],
                                   stdout=subprocess.PIPE, text=True)
        self.assertIn("watching", watcher.stdout.readline())
        self.virsh("suspend", "test")
        self.virsh("resume", "test")
        out, _ = watcher.communicate(timeout=30)
        self.assertEqual(watcher.returncode, 0)
        self.assertIn("event 'lifecycle' for domain 'test': Suspended 0", out)
        self.assertIn("event 'lifecycle' for domain 'test': Resumed 0", out)
        self.assertLess(out.index("Suspended"), out.index("Resumed"))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__.strip())
    VirtwireList.binary = os.path.abspath(sys.argv.pop(1))
    unittest.main()
