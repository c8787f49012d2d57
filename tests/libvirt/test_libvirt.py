#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""libvirt_constants.h and the libvirt layer against libvirt itself.

usage: test_libvirt.py LOOKUPS     (the system's /usr/bin/python3: it has
                                    python3-libvirt)

- The constants generated from libvirt 9.0.0's headers ($VIRTWIRE_XDIR_9)
  are, name for name and value for value, those of the installed libvirt
  headers (libvirt-dev 9.0.0): a C file compiled against them asserts each
  integer at compile time and compares each string at run time.  Included
  after libvirt's own headers, the generated header compiles cleanly (its
  parts are left out), and alone it compiles as C and as C++.
- Every constant python3-libvirt (9.0.0) exports has the generated value.
- The name lookups (LOOKUPS, tests/libvirt/lookups.c, built against the
  11.3.0 bindings) give, for every value, the member python3-libvirt names
  with that value, as the documented rule makes it (prefix off, lower case;
  whole names for errors), and NULL for values no member has; the enum
  table gives the first member of each value.
- UUIDs and versions: what libvirt prints for its test domain and version.
"""

import os
import re
import subprocess
import sys
import tempfile
import unittest

import libvirt

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "generator"))
from virtwire_gen.cheaders import read_header_dir  # noqa: E402
from virtwire_gen.emit_constants import (LOOKUPS, PAIRED, ConstantsEmitter,  # noqa: E402
                                         common_prefix)

LOOKUPS_EXE = sys.argv.pop(1) if len(sys.argv) > 1 else None
CC = os.environ.get("CC", "cc")
CXX = os.environ.get("CXX", "c++")


def xdir(major):
    d = os.environ.get(f"VIRTWIRE_XDIR_{major}")
    if not d:
        raise AssertionError(f"VIRTWIRE_XDIR_{major} is not set (see protocol/README.md)")
    return d


def c_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Headers(unittest.TestCase):
    """The 9.0.0 constants against libvirt-dev 9.0.0's headers."""

    @classmethod
    def setUpClass(cls):
        cls.h = read_header_dir(xdir(9))
        cls.tmp = tempfile.TemporaryDirectory(prefix="vw-const-")
        for name, text in ConstantsEmitter(cls.h).outputs():
            with open(os.path.join(cls.tmp.name, name), "w", encoding="utf-8") as f:
                f.write(text)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def compile(self, name, text, cc=None, std="-std=c11", run=False):
        path = os.path.join(self.tmp.name, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        exe = path + ".out"
        r = subprocess.run([cc or CC, std, "-Wall", "-Wextra", "-Werror", "-I", self.tmp.name,
                            path, "-o", exe] + ([] if run else ["-c"]),
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr[-4000:])
        if run:
            r = subprocess.run([exe], capture_output=True, text=True, timeout=60)
            self.assertEqual((r.returncode, r.stdout), (0, ""), r.stderr)

    LIBVIRT_INCLUDES = ("#include <libvirt/libvirt.h>\n#include <libvirt/virterror.h>\n"
                        "#include <libvirt/libvirt-qemu.h>\n#include <libvirt/libvirt-lxc.h>\n"
                        "#include <libvirt/libvirt-admin.h>\n")

    def test_values_are_libvirts(self):
        ints, strings = [], []
        for e in self.h.enums:
            ints += [(m.name, m.value) for m in e.members]
        for m in self.h.macros:
            (strings if isinstance(m.value, str) else ints).append((m.name, m.value))
        self.assertGreater(len(ints), 900)
        self.assertGreater(len(strings), 250)
        body = [self.LIBVIRT_INCLUDES, "#include <stdio.h>\n#include <string.h>\n"]
        body += [f'_Static_assert((long long)({n}) == {v}LL, "{n}");\n' for n, v in ints]
        body.append("int main(void)\n{\n    int bad = 0;\n")
        for n, v in strings:
            body.append(f"    if (strcmp({n}, {c_string(v)}) != 0) {{ printf(\"{n}\\n\"); "
                        "bad = 1; }\n")
        body.append("    return bad;\n}\n")
        self.compile("values.c", "".join(body), run=True)

    def test_after_libvirts_headers(self):
        self.compile("both.c", self.LIBVIRT_INCLUDES + '#include "libvirt_constants.h"\n'
                     "int f(void);\nint f(void) { return VIR_DOMAIN_RUNNING + "
                     "(virtwire_domain_state_name(1) != 0); }\n")

    def test_alone_c_and_cxx(self):
        use = ('#include "libvirt_constants.h"\n'
               "int f(void);\nint f(void) { virDomainState s = VIR_DOMAIN_PAUSED; "
               "return (int)s + VIR_ERR_NO_DOMAIN + (int)sizeof(VIR_MIGRATE_PARAM_URI); }\n")
        self.compile("alone.c", use)
        for std in ("-std=c++17", "-std=c++20"):
            with self.subTest(std=std):
                self.compile("alone.cc", use, cc=CXX, std=std)


class Python(unittest.TestCase):
    """Every constant python3-libvirt exports, against the 9.0.0 table."""

    def test_python_constants(self):
        ours = read_header_dir(xdir(9)).values()
        checked = 0
        for name, value in ours.items():
            if hasattr(libvirt, name) and isinstance(getattr(libvirt, name), (int, str)):
                self.assertEqual(getattr(libvirt, name), value, name)
                checked += 1
        self.assertGreater(checked, 900)
        # and python3-libvirt's VIR_ constants that a header defines are ours
        theirs = [n for n in dir(libvirt) if re.match(r"VIR_[A-Z0-9_]+$", n)
                  and isinstance(getattr(libvirt, n), int)]
        missing = [n for n in theirs if n not in ours and not n.endswith("_LAST")]
        self.assertLess(len(missing), len(theirs) // 20, missing)


@unittest.skipUnless(LOOKUPS_EXE, "needs the lookups program")
class Lookups(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        r = subprocess.run([LOOKUPS_EXE], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        cls.lines = r.stdout.splitlines()
        cls.h = read_header_dir(xdir(11))

    def got(self, kind):
        out = {}
        for ln in self.lines:
            parts = ln.split(" ")
            if parts[0] == kind:
                key = tuple(int(x) for x in parts[1:-1])
                out[key if len(key) > 1 else key[0]] = None if parts[-1] == "-" else parts[-1]
        return out

    def expected(self, enum, full, prefix=None):
        """{value: name} by the rule, each value named by its first member,
        checked against python3-libvirt where it knows the member."""
        e = self.h.enum(enum)
        prefix = prefix or common_prefix([m.name for m in e.members])
        want = {}
        for m in e.members:
            if hasattr(libvirt, m.name):
                self.assertEqual(getattr(libvirt, m.name), m.value, m.name)
            want.setdefault(m.value, m.name if full else m.name[len(prefix):].lower())
        return want

    def test_single(self):
        for fn, enum, _, style, _ in LOOKUPS:
            kind = {"virDomainState": "state", "virDomainEventType": "event",
                    "virDomainEventID": "eventid", "virTypedParameterType": "paramtype",
                    "virErrorNumber": "errcode", "virErrorDomain": "errdomain"}[enum]
            with self.subTest(fn=fn):
                want = self.expected(enum, style == "full")
                got = self.got(kind)
                for v in range(-2, 121):
                    self.assertEqual(got[v], want.get(v), (fn, v))

    def test_paired(self):
        for fn, outer, _, _, pattern, _ in PAIRED:
            kind = "reason" if "Reason" in pattern else "detail"
            got = self.got(kind)
            o = self.h.enum(outer)
            op = common_prefix([m.name for m in o.members])
            for m in o.members:
                word = m.name[len(op):]
                inner = next(e for e in self.h.enums
                             if e.name.lower() == pattern.format(word.replace("_", "")).lower())
                want = self.expected(inner.name, False, m.name + "_")
                for v in range(-2, 21):
                    self.assertEqual(got[(m.value, v)], want.get(v), (fn, m.name, v))
        # what virsh says for the test driver's domain: running (booted);
        # after `virsh destroy`: shut off (destroyed): the same words
        self.assertEqual(self.got("reason")[(libvirt.VIR_DOMAIN_RUNNING,
                                             libvirt.VIR_DOMAIN_RUNNING_BOOTED)], "booted")
        self.assertEqual(self.got("detail")[(libvirt.VIR_DOMAIN_EVENT_STOPPED,
                                             libvirt.VIR_DOMAIN_EVENT_STOPPED_DESTROYED)],
                         "destroyed")

    def test_examples_of_the_docs(self):
        self.assertEqual(self.got("state")[1], "running")
        self.assertEqual(self.got("errcode")[42], "VIR_ERR_NO_DOMAIN")
        self.assertEqual(self.got("errdomain")[12], "VIR_FROM_TEST")
        self.assertEqual(self.got("eventid")[0], "lifecycle")
        self.assertEqual(self.got("paramtype")[1], "int")

    def test_enum_table(self):
        rows = [ln.split(" ") for ln in self.lines if ln.startswith(("enum ", "find "))]
        self.assertFalse([r for r in rows if r[0] == "find"], "constant_find missed")
        for _, enum, value, name in rows:
            e = self.h.enum(enum)
            first = next(m for m in e.members if m.value == int(value))
            self.assertEqual(name, first.name)

    def test_uuid_and_version(self):
        def run(*args):
            r = subprocess.run([LOOKUPS_EXE, *args], capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 0, r.stderr)
            return r.stdout.split()
        # libvirt's test driver: the domain "test" and its UUID
        conn = libvirt.open("test:///default")
        try:
            dom = conn.lookupByName("test")
            text = dom.UUIDString()
            self.assertEqual(run("uuid", dom.UUID().hex().upper()), ["0", text])
            self.assertEqual(run("uuid", " " + text.replace("-", " ") + "\t"), ["0", text])
            ver = conn.getLibVersion()
        finally:
            conn.close()
        self.assertEqual(run("uuid", text[:-1]), ["-13", "-"])
        self.assertEqual(run("uuid", text + "0"), ["-13", "-"])
        major, minor, micro = ver // 1000000, ver // 1000 % 1000, ver % 1000
        self.assertEqual(run("version", str(ver)),
                         [f"{major}.{minor}.{micro}", str(major), str(minor), str(micro), str(ver)])
        self.assertEqual(libvirt.getVersion(), ver)


if __name__ == "__main__":
    unittest.main(verbosity=2)
