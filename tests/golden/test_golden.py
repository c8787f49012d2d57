#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""libvirt's rpcgen golden vectors against virtwire, and against rpcgen +
libtirpc.

The vectors (demo.x and test_demo_*.bin of scripts/rpcgen/tests, listed with
their sha256 in vectors.tsv) are read at test time from libvirt's release
tarball, the one protocol/fetch-libvirt keeps in its cache (it is run first
when the tarball is not there; --tarball or $VIRTWIRE_LIBVIRT_TARBALL names
another), and never copied into the tree.  Then:

  - virtwire-gen and rpcgen compile demo.x;
  - golden.c is built against each (virtwire's with the runtime, under the
    sanitizers of the build when $VIRTWIRE_SANITIZE says so; rpcgen's with
    libtirpc) and run: every vector byte-identical on encode, decoded and
    encoded again to the same bytes (virtwire: arena, heap and strict mode,
    the strict decoder refusing only the vector with undeclared enum
    values), and every case libvirt's test expects to fail failing;
  - what both print for wire values beyond the vectors (undeclared enum
    values, a flag or bool of 2) must be the same.

usage: test_golden.py [--tarball FILE]
"""

import argparse
import glob
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import vwtest  # noqa: E402
REPO = os.path.dirname(os.path.dirname(HERE))
GENERATOR = os.path.join(REPO, "generator", "virtwire-gen")
FETCH = os.path.join(REPO, "protocol", "fetch-libvirt")
CC = os.environ.get("VIRTWIRE_CC", "cc")
TARBALL = None


def read_list():
    release, sub, files = None, None, {}
    with open(os.path.join(HERE, "vectors.tsv"), encoding="utf-8") as f:
        for line in f:
            if not line.strip() or line.startswith("#"):
                continue
            key, value = line.rstrip("\n").split("\t")
            if key == "release":
                release = value
            elif key == "dir":
                sub = value
            else:
                files[key] = value
    return release, sub, files


def cache_dir():
    if os.environ.get("VIRTWIRE_CACHE"):
        return os.environ["VIRTWIRE_CACHE"]
    if os.environ.get("XDG_CACHE_HOME"):
        return os.path.join(os.environ["XDG_CACHE_HOME"], "virtwire")
    return os.path.join(os.path.expanduser("~"), ".cache", "virtwire")


def find_tarball(release):
    """The release tarball: given, or fetch-libvirt's cached one (fetched
    now if missing)."""
    given = TARBALL or os.environ.get("VIRTWIRE_LIBVIRT_TARBALL")
    if given:
        return given
    cached = os.path.join(cache_dir(), f"libvirt_{release}.orig.tar.xz")
    if not os.path.exists(cached):
        with tempfile.TemporaryDirectory() as d:
            r = subprocess.run([sys.executable, FETCH, release, d], stdin=subprocess.DEVNULL)
            if r.returncode != 0 or not os.path.exists(cached):
                raise AssertionError(f"no libvirt {release} tarball in {cached} and "
                                     f"fetch-libvirt could not get it")
    return cached


def extract(dest):
    """Writes the vectors into dest, each checked against vectors.tsv."""
    release, sub, files = read_list()
    tarball = find_tarball(release)
    got = {}
    with tarfile.open(tarball, "r:*") as tar:
        for member in tar:
            parts = member.name.split("/", 1)
            if len(parts) == 2 and os.path.dirname(parts[1]) == sub and member.isfile():
                name = os.path.basename(parts[1])
                if name in files:
                    got[name] = tar.extractfile(member).read()
    missing = sorted(set(files) - set(got))
    if missing:
        raise AssertionError(f"{tarball} lacks {sub}/{', '.join(missing)}")
    for name, data in got.items():
        digest = hashlib.sha256(data).hexdigest()
        if digest != files[name]:
            raise AssertionError(f"{sub}/{name} of {tarball}: sha256 {digest}, "
                                 f"vectors.tsv says {files[name]}")
        with open(os.path.join(dest, name), "wb") as f:
            f.write(data)
    return len(got)


def run(argv, cwd=None):
    r = subprocess.run(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True)
    return r


class Golden(vwtest.TmpDirTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.vectors = os.path.join(cls.tmp, "vectors")
        os.mkdir(cls.vectors)
        cls.count = extract(cls.vectors)

    def build_and_run(self, rpcgen):
        out = os.path.join(self.tmp, "rpcgen" if rpcgen else "virtwire")
        os.makedirs(out, exist_ok=True)
        demo = os.path.join(self.vectors, "demo.x")
        if rpcgen:
            # a relative name: rpcgen writes it into demo.c's #include
            shutil.copyfile(demo, os.path.join(out, "demo.x"))
            for flag, name in (("-h", "demo.h"), ("-c", "demo.c")):
                r = run(["rpcgen", flag, "-o", name, "demo.x"], cwd=out)
                self.assertEqual(r.returncode, 0, r.stderr)
            argv = [CC, "-std=gnu11", "-w", "-DVW_RPCGEN", "-I", out, "-I", "/usr/include/tirpc",
                    os.path.join(HERE, "golden.c"), os.path.join(out, "demo.c"), "-ltirpc"]
        else:
            r = run([sys.executable, GENERATOR, demo, "--out-dir", out])
            self.assertEqual(r.returncode, 0, r.stderr)
            core = os.path.join(REPO, "runtime", "core")
            argv = [CC, "-std=c11", "-Wall", "-Wextra", "-Werror", "-g", "-I", out, "-I", core,
                    os.path.join(HERE, "golden.c"), os.path.join(out, "demo.c")]
            argv += sorted(glob.glob(os.path.join(core, "*.c")))
            if os.environ.get("VIRTWIRE_SANITIZE"):
                argv += [f"-fsanitize={os.environ['VIRTWIRE_SANITIZE']}",
                         "-fno-sanitize-recover=all"]
        exe = os.path.join(out, "golden")
        r = run(argv + ["-o", exe])
        self.assertEqual(r.returncode, 0, r.stderr)
        r = run([exe, self.vectors])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn(" passed, 0 failed", r.stdout)
        return r.stdout.splitlines()

    def test_vectors(self):
        ours = self.build_and_run(False)
        theirs = self.build_and_run(True)
        bins = self.count - 1  # demo.x
        names = {ln.split()[2] for ln in ours if ln.startswith("ok virtwire ")}
        # every vector, and the five overflows and the union without a default
        self.assertEqual(len(names), bins + 6, names)
        for name in ("enum_fixed_array", "union_no_default_default",
                     "int_variable_array_overflow", "test_struct_all_types"):
            self.assertIn(name, names)
        self.assertIn("ok virtwire enum_fixed_array strict decode fails", ours)
        self.assertEqual(sum(ln.endswith("strict decode fails") for ln in ours), 1)
        beyond = [ln for ln in ours if not ln.startswith(("ok ", "FAIL "))]
        self.assertEqual(beyond[:-1], [ln for ln in theirs
                                       if not ln.startswith(("ok ", "FAIL "))][:-1])
        self.assertIn("bool 2 in a struct: 1", ours)
        print(f"{bins} vectors; virtwire: {ours[-1]}; rpcgen + libtirpc: {theirs[-1]}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--tarball")
    args, rest = ap.parse_known_args()
    TARBALL = args.tarball
    unittest.main(argv=[sys.argv[0]] + rest)
