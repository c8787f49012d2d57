#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Generator bugs found while writing tests/generator, one test each.

- a '%' line containing "*/" ends the comment that lists pass-through lines
  early, and the header no longer compiles;
- names the .x (or its file name) gives that are not usable in C (a C
  keyword, a name spelled like a parameter of the generated functions)
  produce C that does not compile instead of an error;
- "void" as a struct member is reported at the ';' after it, with a
  misleading ", found ';'";
- a byte that is not UTF-8 is always reported at 1:1;
- a missing input file is not reported as FILE: error: MESSAGE.

Same conventions as test_cli.py.
"""

import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
GENERATOR = os.path.join(REPO, "generator", "virtwire-gen")
RUNTIME = os.path.join(REPO, "runtime", "core")
CC = os.environ.get("VIRTWIRE_CC", "cc")
CFLAGS = ["-std=c11", "-Wall", "-Wextra", "-Wshadow", "-Wstrict-prototypes",
          "-Wmissing-prototypes", "-Werror"]


def run_generator(args, cwd):
    return subprocess.run([sys.executable, GENERATOR] + args, cwd=cwd, capture_output=True,
                          text=True, timeout=60)


class RegressionTests(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.tmp = self._tmp.name
        self.addCleanup(self._tmp.cleanup)

    def write(self, name, data):
        with open(os.path.join(self.tmp, name), "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)

    def compile(self, base):
        """Compiles out/BASE.c (which includes BASE.h); returns cc's result."""
        return subprocess.run([CC] + CFLAGS + ["-I", RUNTIME, "-I", "out", "-c",
                                               os.path.join("out", base + ".c"), "-o",
                                               os.path.join("out", base + ".o")],
                              cwd=self.tmp, capture_output=True, text=True, timeout=60)

    def assert_one_error(self, r, where, message):
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertNotIn("Traceback", r.stderr)
        lines = r.stderr.splitlines()
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertTrue(lines[0].startswith(where + ": error: "), lines[0])
        self.assertIn(message, lines[0])

    def test_passthrough_comment_in_default_header(self):
        r = run_generator([os.path.join(HERE, "passthrough.x"), "--out-dir", "out"], self.tmp)
        self.assertEqual(r.returncode, 0, r.stderr)
        c = self.compile("passthrough")
        self.assertEqual(c.returncode, 0, c.stderr)

    def test_names_unusable_in_c(self):
        """Each input must either give one FILE:LINE:COL error or C that
        compiles cleanly."""
        cases = [
            ("inline.x", "struct s { int a; };\n"),                 # module name: a keyword
            ("my-proto.x", "struct s { int a; };\n"),               # module name: not an identifier
            ("type_e.x", "enum e { E1 = 1 };\n"),                   # the encoder's parameter
            ("member_x.x", "enum axis { x = 0, y = 1 };\n"),        # the _valid helper's parameter
            ("const_n.x", "const n = 3;\nstruct s { string a<>; };\n"),  # the _size local
            ("c_keyword.x", "struct for { int a; };\n"),            # a C keyword, not an XDR one
            ("member_kw.x", "struct s { int while; };\n"),
        ]
        for name, text in cases:
            with self.subTest(name):
                self.write(name, text)
                out = os.path.join(self.tmp, "out")
                for f in os.listdir(out) if os.path.isdir(out) else []:
                    os.remove(os.path.join(out, f))
                r = run_generator([name, "--out-dir", "out"], self.tmp)
                self.assertNotIn("Traceback", r.stderr)
                if r.returncode == 0:
                    c = self.compile(name[:-2])
                    self.assertEqual(c.returncode, 0,
                                     f"{name}: generated C does not compile:\n{c.stderr[:2000]}")
                else:
                    self.assertEqual(r.returncode, 1)
                    lines = r.stderr.splitlines()
                    self.assertEqual(len(lines), 1, r.stderr)
                    self.assertRegex(lines[0], "^" + name.replace(".", r"\.") +
                                     r":\d+:\d+: error: ")

    def test_void_member_position(self):
        # 'void' on line 3, column 5
        self.write("v.x", "struct a {\n    int x;\n    void;\n};\n")
        r = run_generator(["v.x", "--out-dir", "out"], self.tmp)
        self.assert_one_error(r, "v.x:3:5", "void is not allowed as a struct member")
        self.assertNotIn("found", r.stderr)

    def test_not_utf8_position(self):
        # "/* caf" is 6 characters: the 0xe9 byte is column 7 of line 2
        self.write("latin1.x", b"const A = 1;\n/* caf\xe9 */\n")
        r = run_generator(["latin1.x", "--out-dir", "out"], self.tmp)
        self.assert_one_error(r, "latin1.x:2:7", "not UTF-8")

    def test_missing_file(self):
        r = run_generator(["missing.x", "--out-dir", "out"], self.tmp)
        self.assert_one_error(r, "missing.x", "No such file or directory")


if __name__ == "__main__":
    unittest.main()
