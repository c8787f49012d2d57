#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Check protocol/manifest.tsv and protocol/fetch-libvirt.

- The manifest is well formed: one default release, which is the newest, a
  debian line and exactly the nine protocol .x files and the four .syms
  version scripts for every release, and other files (libvirt's public
  headers) each under the name its path ends with.
- The files in $VIRTWIRE_XDIR_<X_Y_Z> of every release (VIRTWIRE_XDIR_9_0_0,
  VIRTWIRE_XDIR_11_3_0, ...) match the manifest (fill them with
  `protocol/fetch-libvirt VERSION DIR`). A missing variable is a failure,
  not a skip.
- fetch-libvirt, run on a fake libvirt tree and tarball built in a temporary
  directory from the default release's files: copies good files (.x
  files, version scripts and headers alike), refuses a tree with one
  modified .x or header (leaving DEST without it), refuses unknown
  versions, takes the fast path when DEST is already complete.
- Only with VIRTWIRE_TEST_DEBIAN=1 (network, root): fetch-libvirt downloads
  the default release from Debian into an empty cache.

Run:
  VIRTWIRE_XDIR_9_0_0=DIR9 VIRTWIRE_XDIR_11_3_0=DIR11 \\
      python3 tests/protocol/test_manifest.py
"""

import hashlib
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import unittest

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vwtestlib as lib  # noqa: E402


def fetch(*args):
    """Run fetch-libvirt; return (returncode, stderr+stdout)."""
    r = subprocess.run([sys.executable, lib.FETCH] + list(args),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       universal_newlines=True)
    return r.returncode, r.stdout


def sha256_file(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


class Manifest(unittest.TestCase):

    def setUp(self):
        self.rows = lib.read_tsv(lib.MANIFEST)

    def test_well_formed(self):
        defaults, debian, files, others = [], {}, {}, {}
        for num, cols in self.rows:
            where = "manifest.tsv:%d" % num
            if cols[0] == "default":
                self.assertEqual(len(cols), 2, where)
                defaults.append(cols[1])
            elif cols[0] == "debian":
                self.assertEqual(len(cols), 4, where)
                _, version, suite, pkg = cols
                self.assertNotIn(version, debian, where + ": repeated")
                self.assertRegex(suite, r"^[a-z]+$", where)
                m = re.match(r"^([a-z0-9][a-z0-9+.-]*)=(?:\d+:)?([^-]+)-\S+$",
                             pkg)
                self.assertTrue(m, where + ": want package=debianversion")
                self.assertEqual(m.group(2), version,
                                 where + ": upstream version differs")
                debian[version] = (suite, pkg)
            else:
                self.assertEqual(len(cols), 4, where)
                version, program, path, digest = cols
                self.assertRegex(version, r"^\d+\.\d+\.\d+$", where)
                self.assertRegex(digest, r"^[0-9a-f]{64}$", where)
                base = os.path.basename(path)
                self.assertNotIn(base, [os.path.basename(p) for p in
                                        others.get(version, []) +
                                        list(files.get(version, {}).values())],
                                 where + ": two files land on one name")
                if not path.endswith((".x", ".syms")):
                    self.assertEqual(program, base, where + ": NAME is the file's name")
                    self.assertTrue(path.startswith("include/libvirt/"), where)
                    others.setdefault(version, []).append(path)
                    continue
                self.assertEqual(program, os.path.splitext(base)[0],
                                 where + ": NAME is the base name")
                self.assertNotIn(program, files.get(version, {}),
                                 where + ": repeated")
                files.setdefault(version, {})[program] = path
        self.assertEqual(len(defaults), 1, "want one 'default' line")
        self.assertIn(defaults[0], files, "default release has no files")
        newest = max(files, key=lambda v: tuple(map(int, v.split("."))))
        self.assertEqual(defaults[0], newest, "the default is the newest")
        for version, progs in files.items():
            with self.subTest(version=version):
                self.assertEqual(sorted(progs.values()),
                                 sorted(lib.XFILES + lib.SYMS),
                                 "want exactly the nine protocol files and "
                                 "the four version scripts")
                self.assertIn(version, debian, "no 'debian' line")

    def test_xdirs_match_manifest(self):
        for version, entries in sorted(lib.manifest_entries().items()):
            with self.subTest(version=version):
                directory = lib.require(self, lib.xdir, version)
                paths = [(p, lib.require(self, lib.xfile_path, directory, p,
                                         path), want)
                         for p, path, want in entries]
                bad = [path for _, path, want in paths
                       if sha256_file(path) != want]
                self.assertEqual(bad, [], "differ from manifest.tsv")


class FetchLibvirt(unittest.TestCase):

    VERSION = lib.manifest_default()

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="vw-manifest-")
        self.addCleanup(self.tmp.cleanup)
        self.entries = lib.manifest_entries()[self.VERSION]

    def fake_tree(self, name):
        """A libvirt-like tree with the manifest's files at their paths,
        copied from the default release's directory."""
        src = lib.require(self, lib.xdir, self.VERSION)
        paths = [(lib.require(self, lib.xfile_path, src, p, path), path)
                 for p, path, _ in self.entries]
        root = os.path.join(self.tmp.name, name)
        for from_path, path in paths:
            os.makedirs(os.path.dirname(os.path.join(root, path)),
                        exist_ok=True)
            with open(from_path, "rb") as f, \
                    open(os.path.join(root, path), "wb") as g:
                g.write(f.read())
        return root

    def assert_complete(self, dest):
        names = sorted(os.listdir(dest))
        self.assertEqual(names, sorted(os.path.basename(path)
                                       for _, path, _ in self.entries))
        self.assertIn("remote_protocol.x", names)
        self.assertIn("libvirt_public.syms", names)
        self.assertIn("libvirt-domain.h", names)
        for _, path, want in self.entries:
            self.assertEqual(sha256_file(os.path.join(
                dest, os.path.basename(path))), want)

    def test_help(self):
        rc, out = fetch("--help")
        self.assertEqual(rc, 0, out)
        for word in ("--from", "--tarball", "--cache", "VERSION", "DEST",
                     "VIRTWIRE_DEBIAN_MIRROR", "VIRTWIRE_CACHE"):
            self.assertIn(word, out)

    def test_from_good_tree_then_fast_path(self):
        tree = self.fake_tree("libvirt-good")
        dest = os.path.join(self.tmp.name, "dest")
        rc, out = fetch("--from", tree, self.VERSION, dest)
        self.assertEqual(rc, 0, out)
        self.assert_complete(dest)
        # Second run: DEST is complete, so the source is not even read.
        rc, out = fetch("--from", os.path.join(self.tmp.name, "nowhere"),
                        self.VERSION, dest)
        self.assertEqual(rc, 0, out)
        self.assertIn("nothing to do", out)

    def test_from_modified_tree_refused(self):
        for which in ("remote_protocol", "libvirt-domain.h"):
            with self.subTest(file=which):
                tree = self.fake_tree("libvirt-bad-" + which)
                program, path, _ = [e for e in self.entries if e[0] == which][0]
                with open(os.path.join(tree, path), "ab") as f:
                    f.write(b"/* modified */\n")
                dest = os.path.join(self.tmp.name, "dest-" + which)
                rc, out = fetch("--from", tree, self.VERSION, dest)
                self.assertNotEqual(rc, 0, out)
                self.assertIn("mismatch", out)
                self.assertIn(os.path.basename(path), out)
                self.assertFalse(os.path.exists(dest), "something was written")

    def test_from_incomplete_tree_refused(self):
        tree = self.fake_tree("libvirt-short")
        os.unlink(os.path.join(tree, self.entries[-1][1]))
        dest = os.path.join(self.tmp.name, "dest")
        rc, out = fetch("--from", tree, self.VERSION, dest)
        self.assertNotEqual(rc, 0, out)
        self.assertFalse(os.path.exists(dest))

    def test_tarball_any_top_dir(self):
        tree = self.fake_tree("libvirt-tar")
        tarball = os.path.join(self.tmp.name, "some-release.tar.gz")
        with tarfile.open(tarball, "w:gz") as tar:
            tar.add(tree, arcname="whatever-top-dir")
        dest = os.path.join(self.tmp.name, "dest")
        rc, out = fetch("--tarball", tarball, self.VERSION, dest)
        self.assertEqual(rc, 0, out)
        self.assert_complete(dest)

    def test_wrong_version_refused(self):
        tree = self.fake_tree("libvirt-wrong")
        dest = os.path.join(self.tmp.name, "dest")
        others = [v for v in lib.manifest_files() if v != self.VERSION]
        # Releases whose files are all the same as this one's
        # would be accepted, rightly; the manifest has none.
        for version in others + ["0.0.1"]:
            with self.subTest(version=version):
                rc, out = fetch("--from", tree, version, dest)
                self.assertNotEqual(rc, 0, out)
                self.assertFalse(os.path.exists(dest))

    @unittest.skipUnless(os.environ.get("VIRTWIRE_TEST_DEBIAN") == "1",
                         "downloads from Debian; set VIRTWIRE_TEST_DEBIAN=1 "
                         "to run (needs network and root)")
    def test_debian_download(self):
        cache = os.path.join(self.tmp.name, "cache")
        dest = os.path.join(self.tmp.name, "dest")
        rc, out = fetch("--cache", cache, self.VERSION, dest)
        self.assertEqual(rc, 0, out)
        self.assert_complete(dest)
        self.assertTrue(any(n.endswith(".orig.tar.xz")
                            for n in os.listdir(cache)), out)
        # Second run into a new DEST uses the cache.
        rc, out = fetch("--cache", cache, self.VERSION, dest + "2")
        self.assertEqual(rc, 0, out)
        self.assertIn("cached", out)
        self.assert_complete(dest + "2")


class Headers(unittest.TestCase):

    def test_spdx(self):
        files = [os.path.join(d, n)
                 for d in (lib.PROTOCOL, lib.TESTS_DIR)
                 for n in os.listdir(d)
                 if os.path.isfile(os.path.join(d, n))]
        self.assertTrue(files)
        for path in files:
            with self.subTest(path=os.path.relpath(path, lib.REPO)):
                with open(path, encoding="utf-8") as f:
                    head = f.read(400)
                self.assertIn("SPDX-License-Identifier: LGPL-2.1-or-later",
                              head)


if __name__ == "__main__":
    if any(a in ("-h", "--help") for a in sys.argv[1:]):
        print(__doc__.strip() + "\n")
    unittest.main(verbosity=2)
