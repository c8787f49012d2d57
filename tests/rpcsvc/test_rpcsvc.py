#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The ONC RPC .x files Debian ships in /usr/include/rpcsvc, as a new user
would try them: `virtwire-gen FILE.x --out-dir DIR` (nis_callback.x with the
imports it needs, see tests/differential/rpcsvc.cmake), then every output
compiled with cc -Wall -Wextra -Werror (NAME.c, and NAME_client.h and
NAME_server.h included), and NAME.h included beside <sys/mount.h> and
<stdlib.h> (no generated global may collide with the C library).

The constants rpcgen's header defines (rpcgen -h), except those of the
file's %-lines, must be defined by virtwire's header with the same value:
the .x file's constants and the program, version and procedure numbers of
its program blocks.

Needs rpcgen (rpcsvc-proto), libnsl-dev's .x files and a C compiler
($VIRTWIRE_CC, default cc).
"""

import glob
import os
import re
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import vwtest  # noqa: E402
REPO = os.path.dirname(os.path.dirname(HERE))
GENERATOR = os.path.join(REPO, "generator", "virtwire-gen")
# the runtime's layers, and generated/ (virtwire_client.h includes
# virnetprotocol.h)
RUNTIME_INCLUDES = [a for d in sorted(glob.glob(os.path.join(REPO, "runtime", "*", "")))
                    for a in ("-I", d)] + ["-I", os.path.join(REPO, "generated")]
CC = os.environ.get("VIRTWIRE_CC", "cc")
CFLAGS = ["-std=c11", "-Wall", "-Wextra", "-Werror"]
RPCSVC = os.environ.get("VIRTWIRE_RPCSVC_DIR", "/usr/include/rpcsvc")

# rpcsvc-proto's twelve, then libnsl-dev's that rpcgen takes
MODULES = ["bootparam_prot", "key_prot", "klm_prot", "mount", "nfs_prot", "nlm_prot", "rex",
           "rquota", "rstat", "rusers", "sm_inter", "spray",
           "nis_object", "yp", "yppasswd", "nis_callback"]
IMPORTS = {"nis_callback": ["nis_object", "nis_error"]}
DEFINE = re.compile(r"^#define\s+(\w+)\s+(.*?)\s*$", re.M)


def run(argv, cwd=None):
    return subprocess.run(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True)


def number(text: str):
    """A C integer literal's value (octal too), or the text."""
    text = text.split("/*")[0].strip().rstrip("uUlL")
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1]
    try:
        if re.fullmatch(r"-?0[0-7]+", text):
            return int(text, 8)
        return int(text, 0)
    except ValueError:
        return text


class Rpcsvc(vwtest.TmpDirTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        missing = [m for m in MODULES if not os.path.exists(os.path.join(RPCSVC, m + ".x"))]
        if missing:
            raise AssertionError(f"{RPCSVC} lacks {', '.join(missing)}.x: install rpcsvc-proto "
                                 f"and libnsl-dev (tests/install-deps)")
        # nis.x's enum nis_error, for nis_callback.x
        cls.xfiles = {m: os.path.join(RPCSVC, m + ".x") for m in MODULES}
        cls.xfiles["nis_error"] = os.path.join(cls.tmp, "nis_error.x")
        r = run([sys.executable, os.path.join(HERE, "cut_enum.py"), os.path.join(RPCSVC, "nis.x"),
                 "nis_error", cls.xfiles["nis_error"]])
        assert r.returncode == 0, r.stderr

    def generate(self, m):
        out = os.path.join(self.tmp, m)
        args = [a for i in IMPORTS.get(m, []) for a in ("--import", self.xfiles[i])]
        r = run([sys.executable, GENERATOR, self.xfiles[m], "--out-dir", out] + args)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "")
        return out

    def compile(self, out, m, source, name):
        path = os.path.join(out, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(source)
        incs = ["-I", out] + [a for i in IMPORTS.get(m, []) for a in ("-I", os.path.join(self.tmp, i))]
        r = run([CC] + CFLAGS + incs + RUNTIME_INCLUDES + ["-c", path, "-o", path + ".o"])
        self.assertEqual(r.returncode, 0, f"{m}: {name}:\n{r.stderr}")
        self.assertEqual(r.stderr, "", f"{m}: {name}")

    def test_generate_and_compile(self):
        for m in ["nis_object", "nis_error"] + [m for m in MODULES if m != "nis_object"]:
            with self.subTest(m):
                out = self.generate(m)
                r = run([CC] + CFLAGS + ["-I", out]
                        + [a for i in IMPORTS.get(m, []) for a in ("-I", os.path.join(self.tmp, i))]
                        + RUNTIME_INCLUDES + ["-c", os.path.join(out, m + ".c"), "-o",
                                              os.path.join(out, m + ".o")])
                self.assertEqual(r.returncode, 0, f"{m}.c:\n{r.stderr}")
                self.assertEqual(r.stderr, "", f"{m}.c")
                self.compile(out, m, f'#include "{m}_client.h"\n#include "{m}_server.h"\n'
                             f"int headers(void);\nint headers(void)\n{{\n    return 0;\n}}\n",
                             "headers.c")
                # beside the C library: mount.h and <sys/mount.h>, and a
                # program that names the module's descriptor
                self.compile(out, m, "#define _DEFAULT_SOURCE\n#include <stdlib.h>\n"
                             "#include <sys/mount.h>\n#include <unistd.h>\n"
                             f'#include "{m}.h"\n'
                             "const virtwire_protocol *module(void);\n"
                             "const virtwire_protocol *module(void)\n{\n"
                             f"    return &virtwire_module_{m};\n}}\n", "libc.c")

    def test_constants_as_rpcgen(self):
        for m in MODULES:
            with self.subTest(m):
                out = os.path.join(self.tmp, "rpcgen-" + m)
                os.makedirs(out, exist_ok=True)
                r = run(["rpcgen", "-h", "-o", os.path.join(out, m + ".h"), self.xfiles[m]])
                self.assertEqual(r.returncode, 0, r.stderr)
                with open(os.path.join(out, m + ".h"), encoding="utf-8") as f:
                    theirs = dict(DEFINE.findall(f.read()))
                with open(self.xfiles[m], encoding="utf-8") as f:
                    passthrough = set(re.findall(r"^%\s*#\s*define\s+(\w+)", f.read(), re.M))
                ours_dir = self.generate(m)
                with open(os.path.join(ours_dir, m + ".h"), encoding="utf-8") as f:
                    ours = dict(DEFINE.findall(f.read()))
                wanted = {n: v for n, v in theirs.items()
                          if n not in passthrough and not n.endswith("_H_RPCGEN")}
                self.assertTrue(wanted, m)
                for name, value in sorted(wanted.items()):
                    self.assertIn(name, ours, f"{m}.h: rpcgen defines {name}")
                    self.assertEqual(number(ours[name]), number(value), f"{m}.h: {name}")


if __name__ == "__main__":
    unittest.main()
