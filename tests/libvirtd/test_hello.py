#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The generated codecs against a real libvirtd, checked with python3-libvirt.

usage: test_hello.py HELLO_LIBVIRTD_BINARY

Starts a private libvirtd (test driver), runs examples/hello-libvirtd against
it, and compares what it printed with what libvirt's own Python binding
reports for the same daemon: host name, library version, every domain's id,
name and UUID, and the error of a failed lookup.
"""

import os
import re
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from vwtest import LAUNCH, LibvirtdTestCase  # noqa: E402

PY_LIBVIRT = "/usr/bin/python3"  # Debian's interpreter, where python3-libvirt lives

REFERENCE = r"""
import json, sys, libvirt
c = libvirt.open(sys.argv[1])
doms = [{"id": d.ID(), "name": d.name(), "uuid": d.UUIDString()}
        for d in c.listAllDomains()]
err = None
try:
    c.lookupByName("no-such-domain")
except libvirt.libvirtError as e:
    err = [e.get_error_code(), e.get_error_domain(), e.get_error_message()]
print(json.dumps({"host": c.getHostname(), "ver": c.getLibVersion(), "doms": doms, "err": err}))
c.close()
"""


class HelloLibvirtd(LibvirtdTestCase):
    binary = None

    def test_against_python_libvirt(self):
        import json
        sock = self.daemon.sock
        ours = subprocess.run([LAUNCH, self.binary, sock], capture_output=True, text=True,
                              timeout=60)
        self.assertEqual(ours.returncode, 0, ours.stderr)
        ref = subprocess.run([PY_LIBVIRT, "-c", REFERENCE, f"test+unix:///default?socket={sock}"],
                             capture_output=True, text=True, timeout=30, check=True)
        ref = json.loads(ref.stdout)
        out = ours.stdout
        self.assertIn("auth types: 0\n", out)  # auth_unix_rw = "none"
        self.assertIn("opened test:///default\n", out)
        self.assertIn(f"hostname: {ref['host']}\n", out)
        self.assertIn(f"libvirt version: {ref['ver']}\n", out)
        self.assertIn(f"domains: {len(ref['doms'])}\n", out)
        got = re.findall(r"^  id=(-?\d+) name=(\S+) uuid=([0-9a-f-]{36})$", out, re.M)
        self.assertEqual(sorted(got), sorted((str(d["id"]), d["name"], d["uuid"]) for d in ref["doms"]))
        code, domain, message = ref["err"]
        self.assertEqual(code, 42)
        self.assertIn(f'lookup no-such-domain: error code={code} domain={domain} message="', out)
        self.assertIn("Domain not found", message)
        self.assertIn("closed\n", out)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__.strip())
    HelloLibvirtd.binary = os.path.abspath(sys.argv.pop(1))
    unittest.main()
