#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Check protocol/overrides.tsv.

- Every row is well formed: a procedure constant and known key=value pairs,
  no procedure twice, no key twice in a row.
- Every row names a procedure present in the .x files of every release in
  protocol/manifest.tsv, read from $VIRTWIRE_XDIR_9_0_0 (libvirt 9.0.0) and
  $VIRTWIRE_XDIR_11_3_0 (11.3.0); fill them with `protocol/fetch-libvirt VERSION
  DIR`. A missing variable is a failure, not a skip.
- stream=both only corrects a procedure the .x annotates as a stream;
  stream=read/write only adds one the .x does not annotate.
- Every *_WITH_FILES procedure has an fds row.

Run:
  VIRTWIRE_XDIR_9_0_0=DIR9 VIRTWIRE_XDIR_11_3_0=DIR11 \\
      python3 tests/protocol/test_overrides.py
"""

import os
import re
import sys
import unittest

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vwtestlib as lib  # noqa: E402

VALID = {
    "fds": {"call", "reply", "both"},
    "stream": {"both", "read", "write"},
}


def overrides():
    """[(line, procedure, {key: value})]; raises ValueError when malformed."""
    out = []
    for num, cols in lib.read_tsv(lib.OVERRIDES):
        where = "overrides.tsv:%d" % num
        if len(cols) != 2:
            raise ValueError("%s: want PROCEDURE<TAB>key=value..." % where)
        keys = {}
        for pair in cols[1].split(" "):
            key, sep, value = pair.partition("=")
            if not sep or not key or not value:
                raise ValueError("%s: %r is not key=value" % (where, pair))
            if key in keys:
                raise ValueError("%s: key %s given twice" % (where, key))
            keys[key] = value
        out.append((num, cols[0], keys))
    return out


class Overrides(unittest.TestCase):

    def procs(self, version):
        return lib.require(self, lib.procedures, version)

    def test_well_formed(self):
        try:
            rows = overrides()
        except ValueError as e:
            self.fail(str(e))
        self.assertTrue(rows, "overrides.tsv has no rows")
        seen = set()
        for num, proc, keys in rows:
            where = "overrides.tsv:%d" % num
            self.assertRegex(proc, r"^[A-Z][A-Z0-9_]*_PROC_[A-Z0-9_]+$",
                             where)
            self.assertNotIn(proc, seen, where + ": procedure listed twice")
            seen.add(proc)
            self.assertTrue(keys, where + ": no key=value")
            for key, value in keys.items():
                self.assertIn(key, VALID, "%s: unknown key %r" % (where, key))
                self.assertIn(value, VALID[key], "%s: bad value %s=%s"
                              % (where, key, value))

    def test_procedures_exist_in_every_release(self):
        for version in sorted(lib.manifest_files()):
            with self.subTest(version=version):
                procs = self.procs(version)
                self.assertGreater(len(procs), 400, "too few procedures "
                                   "found in %s: parser broken?" % version)
                missing = [p for _, p, _ in overrides() if p not in procs]
                self.assertEqual(missing, [], "not procedures of libvirt %s"
                                 % version)

    def test_stream_rows_match_annotations(self):
        for version in sorted(lib.manifest_files()):
            procs = self.procs(version)
            for num, proc, keys in overrides():
                if "stream" not in keys or proc not in procs:
                    continue
                with self.subTest(version=version, procedure=proc):
                    doc = procs[proc][2]
                    annotated = bool(re.search(r"@(read|write)stream:",
                                               doc))
                    if keys["stream"] == "both":
                        self.assertTrue(annotated, "stream=both on %s, which "
                                        "libvirt %s does not annotate as a "
                                        "stream" % (proc, version))
                    else:
                        self.assertFalse(annotated, "stream=%s on %s, which "
                                         "libvirt %s already annotates"
                                         % (keys["stream"], proc, version))

    def test_with_files_procedures_have_fds(self):
        with_fds = {p for _, p, k in overrides() if "fds" in k}
        for version in sorted(lib.manifest_files()):
            with self.subTest(version=version):
                procs = self.procs(version)
                lacking = sorted(p for p in procs
                                 if p.endswith("_WITH_FILES")
                                 and p not in with_fds)
                self.assertEqual(lacking, [], "procedures named *_WITH_FILES "
                                 "without an fds row")


if __name__ == "__main__":
    if any(a in ("-h", "--help") for a in sys.argv[1:]):
        print(__doc__.strip() + "\n")
    unittest.main(verbosity=2)
