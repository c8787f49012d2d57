#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The tour: examples/tour (C) and examples/tour.py (python3-libvirt) print
the same lines against one private libvirtd, and the C version is at most
1.5 times the Python version's lines of code (without blank lines,
comments and docstrings: line_counts()).

usage: test_tour.py TOUR_BINARY   (the system's /usr/bin/python3, which has
                                   python3-libvirt)
"""

import ast
import os
import re
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from vwtest import LAUNCH, LibvirtdTestCase  # noqa: E402

TOUR = sys.argv.pop(1) if len(sys.argv) > 1 else None
TOUR_C = os.path.join(REPO, "examples", "tour", "main.c")
TOUR_PY = os.path.join(REPO, "examples", "tour.py")


def line_counts():
    """(C lines, Python lines): lines that are not blank and not only
    comments; for Python, docstrings are comments too."""
    c = open(TOUR_C).read()
    c = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), c, flags=re.S)
    c = re.sub(r"//[^\n]*", "", c)
    c_lines = sum(1 for line in c.splitlines() if line.strip())
    py = open(TOUR_PY).read()
    doc = set()
    for node in ast.walk(ast.parse(py)):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef)) and \
                ast.get_docstring(node):
            doc.update(range(node.body[0].lineno, node.body[0].end_lineno + 1))
    py_lines = sum(1 for i, line in enumerate(py.splitlines(), 1)
                   if line.strip() and not line.strip().startswith("#") and i not in doc)
    return c_lines, py_lines


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, **kw)


class Tour(LibvirtdTestCase):
    def test_same_lines(self):
        c = run([LAUNCH, TOUR, self.daemon.uri, "test"])
        py = run(["/usr/bin/python3", TOUR_PY, self.daemon.uri, "test"])
        self.assertEqual((c.returncode, c.stderr), (0, ""), c)
        self.assertEqual(py.returncode, 0, py)
        self.assertEqual(c.stdout, py.stdout)
        # what the lines say, checked apart
        lines = c.stdout.splitlines()
        self.assertRegex(lines[0], r"^libvirt \d+\.\d+\.\d+$")
        self.assertRegex(lines[1], r"^node: \S+, \d+ CPUs, \d+ MiB$")
        self.assertEqual(lines[2], "test 6695eb01-f6a4-8304-79aa-97f2502e193f running")
        self.assertIn("<name>test</name>", c.stdout)
        self.assertEqual(lines[-3:], ["event test: stopped 1", "event test: started 0",
                                      "error 42: Domain not found"])

    def test_failures(self):
        # a driver the daemon lacks: libvirt's words, as virsh says them
        qemu = "qemu+unix:///system?socket=" + self.daemon.sock
        c = run([LAUNCH, TOUR, qemu, "test"])
        self.assertEqual((c.returncode, c.stdout), (1, ""), c)
        self.assertEqual(c.stderr, "error: no connection driver available for qemu:///system\n")
        py = run(["/usr/bin/python3", TOUR_PY, qemu, "test"])
        self.assertNotEqual(py.returncode, 0)
        self.assertIn("no connection driver available for qemu:///system", py.stderr)
        # a domain that is not there: its error ends both
        c = run([LAUNCH, TOUR, self.daemon.uri, "nosuch"])
        self.assertEqual(c.returncode, 1, c)
        self.assertTrue(c.stderr.startswith("error: Domain not found"), c.stderr)

    def test_help(self):
        for argv in ([LAUNCH, TOUR, "--help"], ["/usr/bin/python3", TOUR_PY, "--help"]):
            r = run(argv)
            self.assertEqual((r.returncode, r.stderr), (0, ""), r)
            self.assertTrue(r.stdout.startswith("usage: tour"), r.stdout)
        r = run([LAUNCH, TOUR])
        self.assertEqual(r.returncode, 2)

    def test_line_counts(self):
        c_lines, py_lines = line_counts()
        print(f"tour: C {c_lines} lines, Python {py_lines} lines "
              f"({c_lines / py_lines:.2f} times)")
        self.assertLessEqual(c_lines, 1.5 * py_lines)
        # the README says them
        readme = open(os.path.join(REPO, "README.md")).read()
        self.assertIn(f"`examples/tour/main.c` has {c_lines} lines", readme)
        self.assertIn(f"`examples/tour.py` {py_lines}", readme)


if __name__ == "__main__":
    unittest.main(verbosity=2)
