#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""protocol/libvirt-release against Debian's archive (network, root).

- `newest` reads the signed indexes of the newest suites and names a
  release; its exit status says whether the manifest has it (0) or is
  behind (3).
- `update` takes a copy of the project whose manifest stops at 9.0.0 to the
  default release (11.3.0, from trixie), with the release tarball
  fetch-libvirt cached (else downloaded), checked against trixie's signed
  index: the checksums (.x, .syms, public headers) and the debian line it writes are the
  manifest's own, the default moves, the regenerated generated/ is
  byte-identical to the project's, and it prints the diff from 9.0.0.
- `update` of a release no suite carries fails and changes nothing.
"""

import filecmp
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vwtestlib as lib  # noqa: E402

RELEASE = os.path.join(lib.PROTOCOL, "libvirt-release")


def run(*args, cwd=None):
    return subprocess.run([sys.executable] + list(args), capture_output=True, text=True,
                          timeout=600, cwd=cwd)


class Release(unittest.TestCase):
    def test_newest(self):
        r = run(RELEASE, "newest")
        self.assertIn(r.returncode, (0, 3), r.stderr)
        lines = r.stdout.splitlines()
        newest = [l for l in lines if l.startswith("newest: libvirt ")]
        self.assertEqual(len(newest), 1, r.stdout)
        release = newest[0].split()[2]
        known = lib.manifest_entries()
        self.assertEqual(r.returncode == 0, release in known or not any(
            tuple(map(int, release.split("."))) > tuple(map(int, v.split(".")))
            for v in known), r.stdout)

    def test_update_to_default(self):
        default = lib.manifest_default()
        self.assertNotEqual(default, "9.0.0")
        with tempfile.TemporaryDirectory(prefix="vw-release-") as tmp:
            tree = os.path.join(tmp, "tree")
            for d in ("protocol", "generator"):
                shutil.copytree(os.path.join(lib.REPO, d), os.path.join(tree, d),
                                ignore=shutil.ignore_patterns("__pycache__"))
            os.mkdir(os.path.join(tree, "generated"))
            manifest = os.path.join(tree, "protocol", "manifest.tsv")
            with open(lib.MANIFEST) as f:
                lines = f.read().splitlines()
            keep = [l for l in lines if not l.startswith(default + "\t")
                    and not l.startswith("debian\t" + default + "\t")]
            keep = ["default\t9.0.0" if l.startswith("default\t") else l for l in keep]
            with open(manifest, "w") as f:
                f.write("\n".join(keep) + "\n")
            cache = os.environ.get("VIRTWIRE_CACHE") or os.path.join(
                os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "virtwire")
            tarball = os.path.join(cache, "libvirt_%s.orig.tar.xz" % default)
            args = ["update", default, "--suite",
                    [c[2] for _, c in lib.read_tsv(lib.MANIFEST)
                     if c[0] == "debian" and c[1] == default][0],
                    "--out", os.path.join(tmp, "out")]
            if os.path.isfile(tarball):
                args += ["--tarball", tarball]
            r = run(os.path.join(tree, "protocol", "libvirt-release"), *args)
            self.assertEqual(r.returncode, 0, r.stderr + r.stdout)
            if os.path.isfile(tarball):
                self.assertIn("matches the sha256", r.stderr)
            with open(manifest) as f:
                got = f.read().splitlines()
            self.assertEqual(sorted(l for l in got if l.startswith(default + "\t")),
                             sorted(l for l in lines if l.startswith(default + "\t")))
            self.assertIn([l for l in lines if l.startswith("debian\t" + default + "\t")][0],
                          got)
            self.assertIn("default\t" + default, got)
            cmp = filecmp.dircmp(os.path.join(tree, "generated"),
                                 os.path.join(lib.REPO, "generated"))
            self.assertEqual((cmp.left_only, cmp.right_only, cmp.diff_files), ([], [], []))
            self.assertIn("generator/virtwire-gen diff", r.stdout)
            self.assertIn("remote_protocol.x: wire-compatible", r.stdout)
            self.assertIn("files compared", r.stdout)

            # A release nobody carries: an error, nothing changed.
            with open(manifest) as f:
                before = f.read()
            r = run(os.path.join(tree, "protocol", "libvirt-release"), "update", "0.0.1",
                    "--suite", "trixie", "--out", os.path.join(tmp, "out"))
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn("carries libvirt 0.0.1", r.stderr)
            with open(manifest) as f:
                self.assertEqual(f.read(), before)


if __name__ == "__main__":
    unittest.main(verbosity=2)
