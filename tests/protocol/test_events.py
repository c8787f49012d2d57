#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Check protocol/events.tsv.

1. The table is well formed: family rows before their events, event IDs
   named VIR_<FAMILY>_EVENT_ID_<NAME> and numbered 0, 1, 2... within each
   family, no event twice, procedures of the row's program, and each
   message named after its event ID (<PROGRAM>_PROC_<FAMILY>_EVENT_
   [CALLBACK_]<NAME>), as libvirt names them.
2. Its event IDs agree with the installed libvirt headers (Debian:
   libvirt-dev): every VIR_*_EVENT_ID_* enumerator the headers define is in
   the table, and a C file with one _Static_assert per row the headers know
   is compiled with $CC (default: cc) -c, plus $CFLAGS and, if pkg-config
   knows them, libvirt's cflags. Rows the headers do not know must come
   after every ID they do (libvirt only appends).
3. Against the .x files of every release in protocol/manifest.tsv, read
   from $VIRTWIRE_XDIR_9_0_0 (libvirt 9.0.0) and $VIRTWIRE_XDIR_11_3_0 (11.3.0):
   every row's procedures exist in the newest release, and in 9.0.0 when
   the installed headers (9.0.0) know its event ID; the generator accepts
   every row it has the procedures of (registration replies and messages
   start with int callbackID, deregistrations take only it); and every
   event message that starts with int callbackID is in the table. A
   missing variable is a failure, not a skip.

Run:
  VIRTWIRE_XDIR_9_0_0=DIR9 VIRTWIRE_XDIR_11_3_0=DIR11 \\
      python3 tests/protocol/test_events.py
"""

import os
import re
import sys
import unittest

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vwtestlib as lib  # noqa: E402
import test_constants as constants  # noqa: E402

sys.path.insert(0, os.path.join(lib.REPO, "generator"))
from virtwire_gen.emit_client import ClientEmitter  # noqa: E402
from virtwire_gen.libvirt import MODULES  # noqa: E402
from virtwire_gen.parser import parse_file  # noqa: E402
from virtwire_gen.resolve import Model  # noqa: E402
from virtwire_gen.tables import read_constants, read_events  # noqa: E402

EVENTS = os.path.join(lib.PROTOCOL, "events.tsv")
PROC_PREFIX = {"remote": "REMOTE_PROC_", "qemu": "QEMU_PROC_"}
ENUMERATOR = re.compile(r"^\s*(VIR_[A-Z_]+_EVENT_ID_[A-Z0-9_]+)\s*=\s*([0-9]+)", re.M)


def table():
    """(families {(program, family): (register, deregister)},
    events [(line, program, family, event_id, number, msg)]); raises
    ValueError when malformed."""
    families, events = {}, []
    for num, cols in lib.read_tsv(EVENTS):
        where = "events.tsv:%d" % num
        if cols[0] == "family" and len(cols) == 5:
            key = (cols[1], cols[2])
            if key in families:
                raise ValueError("%s: family listed twice" % where)
            families[key] = (cols[3], cols[4])
        elif cols[0] == "event" and len(cols) == 6:
            if (cols[1], cols[2]) not in families:
                raise ValueError("%s: no family row above" % where)
            number = None if cols[4] == "-" else int(cols[4])
            event_id = None if cols[3] == "-" else cols[3]
            events.append((num, cols[1], cols[2], event_id, number, cols[5]))
        else:
            raise ValueError("%s: neither a family row (5 columns) nor an event "
                             "row (6 columns)" % where)
    return families, events


def installed_ids():
    """{VIR_..._EVENT_ID_...: value} from the installed libvirt headers
    (the sentinels *_LAST left out)."""
    rc, out = constants.compile_c(constants.c_source([]), extra_args=("-M",))
    if rc != 0:
        raise lib.SetupError("cannot find the libvirt headers (install "
                             "libvirt-dev or set CFLAGS):\n" + out)
    ids = {}
    for dep in out.replace("\\\n", " ").split():
        if re.search(r"/libvirt/libvirt-[\w-]+\.h$", dep):
            with open(dep, encoding="utf-8") as f:
                for name, value in ENUMERATOR.findall(f.read()):
                    if not name.endswith("_LAST"):
                        ids[name] = int(value)
    return ids


def static_asserts(rows):
    return constants.c_source(rows)


class WellFormed(unittest.TestCase):

    def test_rows(self):
        try:
            families, events = table()
        except ValueError as e:
            self.fail(str(e))
        self.assertTrue(events, "events.tsv has no event rows")
        for (program, family), procs in families.items():
            self.assertIn(program, PROC_PREFIX)
            self.assertRegex(family, r"^[a-z][a-z_]*$")
            for p in procs:
                self.assertTrue(p.startswith(PROC_PREFIX[program]), p)
        seen = set()
        numbers = {}
        for num, program, family, event_id, number, msg in events:
            where = "events.tsv:%d" % num
            self.assertTrue(msg.startswith(PROC_PREFIX[program]), where)
            self.assertNotIn((program, family, event_id), seen, where + ": twice")
            seen.add((program, family, event_id))
            self.assertNotIn(msg, {e[5] for e in events if e[0] != num},
                             where + ": message used by another row")
            if event_id is None:
                self.assertIsNone(number, where)
                continue
            self.assertTrue(event_id.startswith("VIR_%s_EVENT_ID_" % family.upper()),
                            where + ": want VIR_%s_EVENT_ID_<NAME>" % family.upper())
            # libvirt names each message after its event ID.
            name = event_id[len("VIR_%s_EVENT_ID_" % family.upper()):]
            base = "%s%s_EVENT_" % (PROC_PREFIX[program], family.upper())
            self.assertIn(msg, (base + name, base + "CALLBACK_" + name),
                          where + ": message not named after " + event_id)
            numbers.setdefault((program, family), []).append(number)
        for key, nums in numbers.items():
            self.assertEqual(nums, list(range(len(nums))),
                             "%s %s: event IDs not 0, 1, 2... in order" % key)

    def test_generator_reads_it(self):
        rows = read_events(EVENTS)
        self.assertEqual(len(rows), len(table()[1]))


class AgainstHeaders(unittest.TestCase):

    def ids(self):
        return lib.require(self, installed_ids)

    def test_every_installed_id_is_listed(self):
        ids = self.ids()
        self.assertGreaterEqual(len(ids), 30, "too few event IDs found in the "
                                "installed headers: scanner broken? %r" % ids)
        listed = {e[3] for e in table()[1]}
        self.assertEqual(sorted(set(ids) - listed), [], "event IDs of the "
                         "installed headers missing from events.tsv")

    def test_numbers_match_installed_headers(self):
        ids = self.ids()
        rows = [(e[3], e[4]) for e in table()[1] if e[3] in ids]
        self.assertGreaterEqual(len(rows), 30)
        rc, out = constants.compile_c(static_asserts(rows))
        self.assertEqual(rc, 0, "events.tsv disagrees with the installed "
                         "libvirt headers:\n" + out)

    def test_static_assert_check_can_fail(self):
        rc, out = constants.compile_c(static_asserts([("VIR_DOMAIN_EVENT_ID_REBOOT", "0")]))
        self.assertNotEqual(rc, 0, "a wrong value compiled:\n" + out)

    def test_newer_ids_come_last(self):
        ids = self.ids()
        for num, program, family, event_id, number, _ in table()[1]:
            if event_id is None or event_id in ids:
                continue
            known = [ids[e[3]] for e in table()[1]
                     if e[2] == family and e[3] in ids]
            with self.subTest(event_id=event_id):
                self.assertGreater(number, max(known, default=-1))


def models(version):
    """{program: (Model, ProgramInfo)} of VERSION's .x files."""
    directory = lib.xdir(version)
    paths = {p: lib.xfile_path(directory, p, path)
             for p, path, _ in lib.manifest_files()[version]}
    ext = read_constants(os.path.join(lib.PROTOCOL, "constants.tsv"))
    out = {}
    for name, imports, _ in MODULES:
        model = Model(parse_file(paths[name]), [parse_file(paths[i]) for i in imports], ext)
        for prog in model.programs:
            out[prog.name] = (model, prog)
    return out


class AgainstXdr(unittest.TestCase):

    def procs(self, version):
        return lib.require(self, lib.procedures, version)

    def test_procedures_exist(self):
        families, events = table()
        ids = lib.require(self, installed_ids)
        versions = sorted(lib.manifest_files(), key=lambda v: [int(x) for x in v.split(".")])
        newest = self.procs(versions[-1])
        for num, program, family, event_id, _, msg in events:
            with self.subTest(line=num):
                for p in families[(program, family)] + (msg,):
                    self.assertIn(p, newest)
        oldest = self.procs("9.0.0")
        for num, program, family, event_id, _, msg in events:
            if event_id is None or event_id in ids:
                with self.subTest(line=num, version="9.0.0"):
                    for p in families[(program, family)] + (msg,):
                        self.assertIn(p, oldest)

    def test_generator_accepts_rows_and_table_is_complete(self):
        rows = read_events(EVENTS)
        for version in sorted(lib.manifest_files()):
            with self.subTest(version=version):
                progs = lib.require(self, models, version)
                accepted, callback_msgs = set(), set()
                for name, (model, prog) in progs.items():
                    em = ClientEmitter(model, name, name + ".x", rows)
                    accepted |= {r.msg for r, _, _, _ in em.registrations(prog)}
                    callback_msgs |= {pr.name for pr in prog.procs
                                      if pr.msg and em.has_callback_id(pr.msg)}
                self.assertGreaterEqual(len(accepted), 30)
                self.assertEqual(sorted(callback_msgs - accepted), [],
                                 "libvirt %s events with a callbackID that "
                                 "events.tsv does not map" % version)
                present = {r.msg for r in rows
                           if r.msg in self.procs(version)}
                self.assertEqual(accepted, present)


if __name__ == "__main__":
    if any(a in ("-h", "--help") for a in sys.argv[1:]):
        print(__doc__.strip() + "\n")
    unittest.main(verbosity=2)
