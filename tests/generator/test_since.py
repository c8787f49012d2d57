#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Since which libvirt release each procedure exists (virtwire_gen/since.py).

- Hand-made version scripts and a small libvirt-style .x: a procedure
  named after an API gets that API's release; one without an API gets the
  latest release below it that is not later than the next API's, marked
  VIRTWIRE_PROC_SINCE_INFERRED; one below every API gets none; a symbol in
  two sections keeps the older; a broken line or a missing script is an
  error naming the file.
- libvirt's own scripts (the default release's, $VIRTWIRE_XDIR_<X_Y_Z>):
  every remote, qemu, lxc and admin procedure whose API the installed
  libvirt-dev describes (/usr/share/libvirt/api/*.xml, built from the
  "Since:" of libvirt's comments, not from the scripts) gets exactly that
  release, and every procedure of those programs gets a release.
"""

import os
import re
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(REPO, "generator"))
from virtwire_gen import since  # noqa: E402
from virtwire_gen.ir import XdrError  # noqa: E402
from virtwire_gen.libvirt import APIS  # noqa: E402
from virtwire_gen.parser import parse_file  # noqa: E402
from virtwire_gen.resolve import Model  # noqa: E402
from virtwire_gen.tables import DEFAULT_CONSTANTS, read_constants  # noqa: E402

GENERATOR = os.path.join(REPO, "generator", "virtwire-gen")

SYMS = """\
# comment
LIBVIRT_0.0.3 {
    global:
        virConnectOpen;
        virDomainGetInfo;
};

LIBVIRT_1.2.1 {
    global:
        virDomainGetInfo;      # listed again: the older section wins
        virConnectNetworkEventRegisterAny;
} LIBVIRT_0.0.3;

LIBVIRT_0.9.0 {
    global:
        virDomainOldRenamedOnce;
} LIBVIRT_1.2.1;

LIBVIRT_2.0.0 {
    global:
        virDomainNewer;
} LIBVIRT_0.9.0;
"""

X = """\
program REMOTE_PROGRAM { version REMOTE_PROTOCOL_VERSION { } = 1; } = 1;
const REMOTE_PROGRAM = 0x20008086;
const REMOTE_PROTOCOL_VERSION = 1;
struct remote_domain_event_callback_lifecycle_msg { int callbackID; };
enum remote_procedure {
    REMOTE_PROC_AUTH_FIRST = 0,
    REMOTE_PROC_CONNECT_OPEN = 1,
    REMOTE_PROC_DOMAIN_GET_INFO = 2,
    REMOTE_PROC_AUTH_LIST = 3,
    REMOTE_PROC_CONNECT_NETWORK_EVENT_REGISTER_ANY = 4,
    REMOTE_PROC_DOMAIN_OLD_RENAMED_ONCE = 5,
    REMOTE_PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE = 6,
    REMOTE_PROC_DOMAIN_NEWER = 7,
    REMOTE_PROC_DOMAIN_EVENT_LAST = 8
};
"""


class Rules(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.dir = self.tmp.name
        with open(os.path.join(self.dir, "libvirt_public.syms"), "w") as f:
            f.write(SYMS)
        self.x = os.path.join(self.dir, "remote_protocol.x")
        with open(self.x, "w") as f:
            f.write(X.replace("program REMOTE_PROGRAM { version REMOTE_PROTOCOL_VERSION "
                              "{ } = 1; } = 1;\n", ""))

    def model(self):
        return Model(parse_file(self.x), [], read_constants(DEFAULT_CONSTANTS), {})

    def test_releases(self):
        m = self.model()
        since.apply(m, self.dir)
        (prog,) = [p for p in m.programs if p.name == "remote"]
        got = {p.short: p.since for p in prog.procs}
        self.assertEqual(got, {
            "AUTH_FIRST": None,                          # below every API
            "CONNECT_OPEN": ((0, 0, 3), False),
            "DOMAIN_GET_INFO": ((0, 0, 3), False),       # the older section
            "AUTH_LIST": ((0, 0, 3), True),              # inferred
            "CONNECT_NETWORK_EVENT_REGISTER_ANY": ((1, 2, 1), False),
            "DOMAIN_OLD_RENAMED_ONCE": ((0, 9, 0), False),
            # below: 0.0.3, 0.0.3, 1.2.1, 0.9.0; capped by 2.0.0 above
            "DOMAIN_EVENT_CALLBACK_LIFECYCLE": ((1, 2, 1), True),
            "DOMAIN_NEWER": ((2, 0, 0), False),
            "DOMAIN_EVENT_LAST": ((2, 0, 0), True),      # nothing above
        })

    def test_cap(self):
        # A procedure renamed after a newer API (number 1, 2.0.0 here) does
        # not lift the procedures after it above the next API's release.
        table = since.releases([(1, "NEWER"), (2, "NO_API"), (3, "OPEN")],
                               {"virNewer": (2, 0, 0), "virOpen": (0, 0, 3)},
                               APIS[0])
        self.assertEqual(table, {1: ((2, 0, 0), False), 3: ((0, 0, 3), False)})

    def test_generated_table(self):
        out = os.path.join(self.dir, "out")
        r = subprocess.run([sys.executable, GENERATOR, "--out-dir", out,
                            "--since-from", self.dir, self.x],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(out, "remote_protocol.c")) as f:
            c = f.read()
        self.assertIn(".since = VIRTWIRE_LIBVIRT_VERSION(1, 2, 1)", c)
        self.assertRegex(c, r"REMOTE_PROC_AUTH_LIST[^}]*VIRTWIRE_PROC_SINCE_INFERRED")
        self.assertNotRegex(c, r"REMOTE_PROC_AUTH_FIRST[^}]*\.since")

    def test_errors(self):
        with open(os.path.join(self.dir, "libvirt_public.syms"), "a") as f:
            f.write("LIBVIRT_3.0.0 {\n    global:\n        not a symbol\n};\n")
        with self.assertRaises(XdrError) as e:
            since.apply(self.model(), self.dir)
        self.assertIn("libvirt_public.syms", str(e.exception.loc))
        os.unlink(os.path.join(self.dir, "libvirt_public.syms"))
        with self.assertRaises(XdrError) as e:
            since.apply(self.model(), self.dir)
        self.assertIn("libvirt_public.syms", e.exception.message)


def api_xml(program):
    """{API words, lower case: release} from the installed libvirt-dev."""
    name = {"remote": "libvirt-api.xml", "qemu": "libvirt-qemu-api.xml",
            "lxc": "libvirt-lxc-api.xml", "admin": "libvirt-admin-api.xml"}[program]
    with open(os.path.join("/usr/share/libvirt/api", name)) as f:
        text = f.read()
    api = [a for a in APIS if a.program == program][0]
    out = {}
    for fn, v in re.findall(r"<function name='(\w+)'[^>]* version='([\d.]+)'", text):
        key = since.api_key(fn, api)
        if key is not None:
            out[key] = tuple(int(x) for x in v.split("."))
    return out


class Libvirt(unittest.TestCase):
    def test_against_libvirt_docs(self):
        releases = os.environ.get("VIRTWIRE_LIBVIRT_RELEASES", "").split(",")
        self.assertTrue(releases[0], "VIRTWIRE_LIBVIRT_RELEASES is not set")
        for release in releases:
            xdir = os.environ.get("VIRTWIRE_XDIR_" + release.replace(".", "_"))
            self.assertTrue(xdir, release)
            with self.subTest(release=release):
                ext = read_constants(DEFAULT_CONSTANTS)
                remote = parse_file(os.path.join(xdir, "remote_protocol.x"))
                for base, imports in (("remote_protocol", []),
                                      ("qemu_protocol", [remote]),
                                      ("lxc_protocol", [remote]),
                                      ("admin_protocol", [])):
                    m = Model(parse_file(os.path.join(xdir, base + ".x")), imports, ext, {})
                    since.apply(m, xdir)
                    for prog in m.programs:
                        docs = api_xml(prog.name)
                        checked = 0
                        for p in prog.procs:
                            self.assertIsNotNone(p.since, p.name)
                            key = since.proc_key(p.short)
                            if key in docs:
                                self.assertEqual(p.since, (docs[key], False), p.name)
                                checked += 1
                        self.assertGreater(checked, len(prog.procs) // 2, prog.name)


if __name__ == "__main__":
    unittest.main(verbosity=2)
