#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""docs/vendoring.md: every layer of its "What to copy" table, with the
layers it builds on, compiles and links from copies of its files alone.

For each layer the test copies the listed files into an empty directory,
compiles every .c file there with -Wall -Wextra -Werror (at -O0, to save
time) together with a main() that includes every header, and links them:
a file missing from the list shows up as a missing header or an undefined
reference.  It also checks that the table covers every file of runtime/.
"""

import glob
import os
import re
import shutil
import subprocess
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
GUIDE = os.path.join(REPO, "docs", "vendoring.md")
CC = os.environ.get("VIRTWIRE_CC", "cc")


def expand(pattern):
    """runtime/core/x.{c,h} -> [runtime/core/x.c, runtime/core/x.h]."""
    m = re.fullmatch(r"(.*)\{([^}]*)\}(.*)", pattern)
    if not m:
        return [pattern]
    return [m.group(1) + alt + m.group(3) for alt in m.group(2).split(",")]


def layers():
    """{layer: (files, [layers it builds on])} from the guide's table."""
    with open(GUIDE, encoding="utf-8") as f:
        text = f.read()
    table = text.split("| layer | files | builds on | what for |", 1)[1]
    out = {}
    for line in table.splitlines()[2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        files = [p for item in re.findall(r"`([^`]*)`", cells[1]) for p in expand(item)]
        out[cells[0]] = (files, cells[2].split())
    return out


def closure(table, layer):
    files, deps = table[layer]
    result = list(files)
    for d in deps:
        result += [f for f in closure(table, d) if f not in result]
    return result


class VendoringGuide(unittest.TestCase):
    def test_table(self):
        table = layers()
        self.assertEqual(list(table), ["codec", "uri", "transport", "conn", "client", "server",
                                       "session", "sasl", "tls", "libvirt"])
        listed = {f for files, _ in table.values() for f in files}
        runtime = {os.path.relpath(p, REPO) for p in glob.glob(os.path.join(REPO, "runtime", "*", "*.[ch]"))}
        self.assertEqual(runtime - listed, set(), "runtime files the guide does not list")
        for f in listed:
            self.assertTrue(os.path.isfile(os.path.join(REPO, f)), f)

    def test_layers_build_alone(self):
        table = layers()
        for layer in table:
            with self.subTest(layer=layer), tempfile.TemporaryDirectory() as tmp:
                files = closure(table, layer)
                for f in files:
                    shutil.copy(os.path.join(REPO, f), tmp)
                names = [os.path.basename(f) for f in files]
                with open(os.path.join(tmp, "vw_main.c"), "w", encoding="utf-8") as m:
                    for h in sorted(n for n in names if n.endswith(".h")):
                        m.write(f'#include "{h}"\n')
                    m.write("int main(void)\n{\n    return 0;\n}\n")
                sources = sorted(n for n in names if n.endswith(".c")) + ["vw_main.c"]
                extra = []
                if layer == "tls":
                    # The layer with a dependency: GnuTLS, as the guide says.
                    gnutls = subprocess.run(["pkg-config", "--cflags", "--libs", "gnutls"],
                                            capture_output=True, text=True)
                    if gnutls.returncode != 0:
                        continue  # GnuTLS is not installed: nothing to build it with
                    extra = gnutls.stdout.split()
                build = subprocess.run(
                    [CC, "-std=c11", "-O0", "-Wall", "-Wextra", "-Werror", "-pthread",
                     *sources, "-o", "vw_layer", *extra,
                     *(["-lsasl2"] if layer == "sasl" else [])],
                    cwd=tmp, capture_output=True, text=True, timeout=300)
                self.assertEqual(build.returncode, 0, build.stderr)
                self.assertEqual(build.stderr, "")


if __name__ == "__main__":
    unittest.main()
