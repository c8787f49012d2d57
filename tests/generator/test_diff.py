#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""virtwire-gen diff.

Hand-written pairs: diff/old/NAME.x and diff/new/NAME.x cover the rules of
the compatibility table (generator/virtwire_gen/compat.py) one construct at
a time, each rule deciding at least one of their changes;
diff/expected/NAME.txt is the exact text output (after an SPDX line), from
`virtwire-gen diff --overrides overrides.tsv old/NAME.x new/NAME.x` run in
diff/, and the exit status is checked per case. The same two directories compared whole (diff/expected/
directories.txt) cover directory mode, with a file only in OLD and one only
in NEW.

libvirt: 9.0.0 against 11.3.0 (VIRTWIRE_XDIR_9, VIRTWIRE_XDIR_11). What the
diff reports is checked against facts this test finds in the .x text
itself with regular expressions: the procedure constants, the type names,
the annotations before each procedure, the constants and the type bodies.
"""

import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
GENERATOR = os.path.join(REPO, "generator", "virtwire-gen")
CASES_DIR = os.path.join(HERE, "diff")

# case -> exit status
CASES = {
    "procs": 1, "annotations": 1, "structs": 1, "enums": 1, "unions": 1,
    "typedefs": 1, "usedby": 1, "same": 0, "compatible": 0,
}



def run(args, cwd=CASES_DIR):
    return subprocess.run([sys.executable, GENERATOR] + args, cwd=cwd, capture_output=True,
                          text=True, timeout=120)


sys.path.insert(0, os.path.join(REPO, "generator"))
from virtwire_gen.cli import main as generator_main  # noqa: E402
from virtwire_gen.compat import COMPAT, RULES  # noqa: E402
from virtwire_gen.diff import Loader, diff_files  # noqa: E402
from virtwire_gen.libvirt import module_names  # noqa: E402

# Sorted by name, as directory mode reports the files.
LIBVIRT_MODULES = sorted(module_names())


def run_here(args, cwd=CASES_DIR):
    """The same as run(), in this process: the many small cases start no
    interpreter each. Only for arguments that parse."""
    out, err = io.StringIO(), io.StringIO()
    here = os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = generator_main(args)
    finally:
        os.chdir(here)
    return subprocess.CompletedProcess(args, status, out.getvalue(), err.getvalue())


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


SPDX = "# SPDX-License-Identifier: LGPL-2.1-or-later\n"


def expected(name):
    """diff/expected/NAME: the exact output, after the file's SPDX line."""
    text = read(os.path.join(CASES_DIR, "expected", name))
    assert text.startswith(SPDX), name
    return text[len(SPDX):]


def xdir(major):
    d = os.environ.get(f"VIRTWIRE_XDIR_{major}")
    if not d:
        raise AssertionError(f"VIRTWIRE_XDIR_{major} is not set (see protocol/README.md)")
    return d


class HandWrittenCases(unittest.TestCase):
    def test_each_case(self):
        for case, status in CASES.items():
            with self.subTest(case):
                r = run_here(["diff", "--overrides", "overrides.tsv", f"old/{case}.x",
                              f"new/{case}.x"])
                self.assertEqual(r.stderr, "")
                self.assertEqual(r.returncode, status, r.stdout)
                self.assertEqual(r.stdout, expected(case + ".txt"))

    def test_every_rule_is_covered(self):
        """Each rule of the compatibility table decides at least one change
        of the hand-written cases."""
        loader = Loader(None, os.path.join(CASES_DIR, "overrides.tsv"))
        pairs = [(case, os.path.join(CASES_DIR, "old", case + ".x"),
                  os.path.join(CASES_DIR, "new", case + ".x"), [], []) for case in CASES]
        fired = set()
        for fd in diff_files(pairs, loader):
            fired |= fd.rules
        self.assertEqual(sorted(set(RULES) - fired), [])
        self.assertEqual(sorted(fired - set(RULES)), [])

    def test_every_case_is_listed(self):
        names = sorted(f[:-2] for f in os.listdir(os.path.join(CASES_DIR, "new"))
                       if f.endswith(".x") and os.path.exists(os.path.join(CASES_DIR, "old", f)))
        self.assertEqual(names, sorted(CASES))

    def test_directories(self):
        r = run(["diff", "--overrides", "overrides.tsv", "old", "new"])
        self.assertEqual(r.stderr, "")
        self.assertEqual(r.returncode, 1)
        want = expected("directories.txt")
        self.assertEqual(r.stdout, want)
        # the files in both directories read as they do one by one
        for case in CASES:
            self.assertIn(expected(case + ".txt"), want)

    def test_directories_compatible(self):
        """Directory mode exits 0 when every file's changes are compatible."""
        with tempfile.TemporaryDirectory() as tmp:
            for side in ("old", "new"):
                os.makedirs(os.path.join(tmp, side))
                for case in ("compatible", "same"):
                    shutil.copy(os.path.join(CASES_DIR, side, case + ".x"),
                                os.path.join(tmp, side))
            r = run_here(["diff", "old", "new"], cwd=tmp)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertEqual(r.stdout,
                             expected("compatible.txt")
                             + "same.x: no changes\n"
                             + "2 files compared, 1 changed: wire-compatible\n")

    def test_json(self):
        r = run_here(["diff", "--json", "--overrides", "overrides.tsv", "old/procs.x",
                      "new/procs.x"])
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(r.stdout, expected("procs.json"))
        doc = json.loads(r.stdout)
        self.assertFalse(doc["compatible"])
        procs = {p["name"]: p for p in doc["files"][0]["procedures"]}
        self.assertEqual(procs["DIV"]["old_number"], 5)
        self.assertEqual(procs["DIV"]["number"], 9)
        self.assertFalse(procs["DIV"]["compatible"])
        self.assertEqual(procs["TIMES"]["old_name"], "MUL")
        self.assertTrue(procs["TIMES"]["compatible"])
        self.assertEqual(procs["NEWCALL"]["change"], "added")
        self.assertEqual(procs["OLDCALL"]["change"], "removed")

    def test_json_text_agree(self):
        """--json says what the text says, for every case."""
        for case, status in CASES.items():
            with self.subTest(case):
                r = run_here(["diff", "--json", "--overrides", "overrides.tsv", f"old/{case}.x",
                         f"new/{case}.x"])
                self.assertEqual(r.returncode, status)
                f = json.loads(r.stdout)["files"][0]
                text = expected(case + ".txt")
                signs = {"added": "+", "removed": "-", "changed": "~"}
                for section in ("programs", "procedures", "types", "constants"):
                    for e in f[section]:
                        self.assertIn(f"  {signs[e['change']]} {e['text']}", text)
                        if e["compatible"] is False and not e["details"]:
                            self.assertIn(f"{e['text']}  [INCOMPATIBLE: {e['reason']}]", text)
                self.assertEqual(f["compatible"], status == 0)


class Options(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.tmp = self._tmp.name
        self.addCleanup(self._tmp.cleanup)

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def assert_error(self, args, status, first):
        r = run(args, cwd=self.tmp)
        self.assertNotIn("Traceback", r.stderr)
        self.assertEqual(r.returncode, status, r.stderr)
        self.assertEqual(r.stdout, "")
        self.assertTrue(r.stderr.startswith(first), r.stderr)
        return r

    def test_parse_error(self):
        self.write("old/p.x", "struct a { int x; };\n")
        self.write("new/p.x", "struct a {\n    int x\n};\n")
        r = self.assert_error(["diff", "old/p.x", "new/p.x"], 2, "new/p.x:3:1: error: expected ';'")
        self.assertEqual(len(r.stderr.splitlines()), 1)
        r = self.assert_error(["diff", "old", "new"], 2, "new/p.x:3:1: error: expected ';'")
        self.assertEqual(len(r.stderr.splitlines()), 1)

    def test_semantic_error(self):
        self.write("old/p.x", "struct a { int x; };\n")
        self.write("new/p.x", "struct a { b x; };\n")
        self.assert_error(["diff", "old/p.x", "new/p.x"], 2,
                          "new/p.x:1:12: error: undefined type 'b'")

    def test_constants(self):
        """--constants supplies what the .x files use but do not define,
        for both versions; without it the name is an error."""
        self.write("old/c.x", "struct a {\n    int v<EXT_MAX>;\n};\n")
        self.write("new/c.x", "struct a {\n    int v<EXT_MAX>;\n    int w;\n};\n")
        self.write("ext.tsv", "EXT_MAX\t8\n")
        self.assert_error(["diff", "old/c.x", "new/c.x"], 2,
                          "old/c.x:2:11: error: undefined constant 'EXT_MAX'")
        r = run(["diff", "--constants", "ext.tsv", "old/c.x", "new/c.x"], cwd=self.tmp)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(r.stdout,
                         "c.x: wire-INCOMPATIBLE, 1 change (1 incompatible)\n"
                         "  ~ struct a  [INCOMPATIBLE]\n"
                         "      member added: int w (position 2)  [INCOMPATIBLE: a struct's "
                         "members are its encoding, in order]\n")
        self.assert_error(["diff", "--constants", "missing.tsv", "old/c.x", "new/c.x"], 2,
                          "missing.tsv: error: No such file or directory")

    def test_rpcgen_files(self):
        """Files that go through the C preprocessor, with string constants
        and a %#define bound, as rpcgen takes them."""
        self.write("old/r.x", "#define N 4\nconst S = \"one\";\n%#define M 2\n"
                              "struct a {\n    u_int v<N>;\n    int w<M>;\n};\n")
        self.write("new/r.x", "#define N 8\nconst S = \"two\";\n%#define M 2\n"
                              "struct a {\n    u_int v<N>;\n    int w<M>;\n};\n")
        r = run(["diff", "old/r.x", "new/r.x"], cwd=self.tmp)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('~ constant S: "one" -> "two"', r.stdout)
        self.assertIn("bound raised from 4 to 8", r.stdout)

    def test_import(self):
        """--import OLD NEW: the types a file uses from another, per version.
        The imported file's own changes are not reported; the importing
        file's procedures are named under them when they compare files
        together, so here only the importer's view counts."""
        self.write("old/base.x", "struct item { int id; };\n")
        self.write("new/base.x", "struct item { int id; };\n")
        body = ("struct get_args { item it; };\n"
                "program P { version P_V1 { void GET(get_args) = 1; } = 1; } = 0x30000002;\n")
        self.write("old/use.x", body)
        self.write("new/use.x", body.replace("void GET", "item GET"))
        self.assert_error(["diff", "old/use.x", "new/use.x"], 2,
                          "old/use.x:1:19: error: undefined type 'item'")
        r = run(["diff", "--import", "old/base.x", "new/base.x", "old/use.x", "new/use.x"],
                cwd=self.tmp)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(r.stdout,
                         "use.x: wire-INCOMPATIBLE, 1 change (1 incompatible)\n"
                         "  ~ procedure P 1 GET  [INCOMPATIBLE]\n"
                         "      ret: void -> item  [INCOMPATIBLE: another encoding]\n")

    def test_usage_errors(self):
        self.write("old/a.x", "struct a { int x; };\n")
        os.makedirs(os.path.join(self.tmp, "empty1"))
        os.makedirs(os.path.join(self.tmp, "empty2"))
        self.assert_error(["diff", "old/a.x"], 2, "usage: virtwire-gen diff")
        self.assert_error(["diff", "old/a.x", "old"], 2, "usage: virtwire-gen diff")
        self.assert_error(["diff", "empty1", "empty2"], 2, "usage: virtwire-gen diff")
        self.assert_error(["diff", "--import", "x.x", "y.x", "old", "old"], 2,
                          "usage: virtwire-gen diff")
        self.assert_error(["diff", "old/a.x", "new/a.x"], 2,
                          "new/a.x: error: No such file or directory")

    def test_same_file(self):
        self.write("a.x", "enum e { A, B };\nstruct s { e v<>; };\n")
        r = run(["diff", "a.x", "a.x"], cwd=self.tmp)
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, "a.x: no changes\n", ""))

    def test_labels(self):
        """Files of different names are labelled with both names."""
        self.write("a.x", "enum e { A, B };\n")
        self.write("b.x", "enum e { A, B, C };\n")
        r = run(["diff", "a.x", "b.x"], cwd=self.tmp)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "a.x -> b.x: wire-compatible, 1 change\n"
                                   "  ~ enum e\n"
                                   "      C = 2 added\n")

    def test_help(self):
        r = run(["diff", "--help"])
        self.assertEqual(r.returncode, 0, r.stderr)
        for word in ("--json", "--constants", "--overrides", "--import", "wire-INCOMPATIBLE",
                     "Exit status", "enum value removed", "enum value renumbered",
                     "bound lowered"):
            self.assertIn(word, r.stdout)
        # every rule of the table, under its verdict
        rules = " ".join(r.stdout.split("Rules:", 1)[1].split())
        compatible, incompatible = rules.split("wire-INCOMPATIBLE:", 1)
        for rule in RULES.values():
            where = compatible if rule.level == COMPAT else incompatible
            self.assertIn(" ".join(rule.summary.split()), where)
        r = run(["--help"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("diff [options] OLD NEW", r.stdout)
        self.assertIn("virtwire-gen diff --help", r.stdout)


# ---------------------------------------------------------------------------
# libvirt 9.0.0 against 11.3.0


PROC_RE = re.compile(r"^\s*([A-Z][A-Z0-9_]*_PROC_[A-Z0-9_]+)\s*=\s*([0-9]+)", re.M)
TYPE_RE = re.compile(r"^(struct|union|enum)\s+(\w+)\s*(?:switch\s*\([^)]*\)\s*)?\{(.*?)^\};",
                     re.M | re.S)
TYPEDEF_RE = re.compile(r"^typedef\s+([^;]*?)\s*;", re.M)
CONST_RE = re.compile(r"^const\s+(\w+)\s*=\s*([^;]+?)\s*;", re.M)
DOC_PROC_RE = re.compile(r"/\*\*((?:(?!\*/).)*)\*/\s*([A-Z][A-Z0-9_]*_PROC_[A-Z0-9_]+)\s*=",
                         re.S)
ANNOT_RE = re.compile(r"@(\w+)\s*:\s*(.*)")


def strip_comments(text):
    return re.sub(r"/\*.*?\*/", "", text, flags=re.S)


class XFile:
    """Facts about one .x file, read with regular expressions."""

    def __init__(self, path):
        raw = read(path)
        text = strip_comments(raw)
        self.procs = {m.group(1): int(m.group(2)) for m in PROC_RE.finditer(text)}
        self.types = {}
        self.proc_enums = set()
        for kind, name, body in TYPE_RE.findall(text):
            self.types[name] = (kind, " ".join(body.split()))
            if kind == "enum" and "_PROC_" in body:
                self.proc_enums.add(name)
        self.self_aliases = set()
        for decl in TYPEDEF_RE.findall(text):
            words = decl.replace("*", " * ").split()
            name = re.match(r"\w+", words[-1]).group(0)
            if words[:1] == ["struct"] and words[1:] == [name, name]:
                # 'typedef struct X X;' after struct X: a C alias, nothing on the wire
                self.self_aliases.add(name)
                continue
            self.types[name] = ("typedef", " ".join(decl.split()))
        self.consts = {m.group(1): m.group(2) for m in CONST_RE.finditer(text)}
        self.annotations = {}
        for m in DOC_PROC_RE.finditer(raw):
            ann = []
            for line in m.group(1).splitlines():
                a = ANNOT_RE.search(line)
                if a:
                    ann.append((a.group(1), a.group(2).strip()))
            self.annotations[m.group(2)] = ann


def const_value(text):
    return int(text, 0) if not text.startswith("0") or text.lower().startswith("0x") \
        or text == "0" else int(text, 8)


class Libvirt(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.old_dir, cls.new_dir = xdir(9), xdir(11)
        cls.old = {m: XFile(os.path.join(cls.old_dir, m + ".x")) for m in LIBVIRT_MODULES}
        cls.new = {m: XFile(os.path.join(cls.new_dir, m + ".x")) for m in LIBVIRT_MODULES}
        r = run(["diff", "--json", cls.old_dir, cls.new_dir], cwd=REPO)
        cls.status, cls.stderr = r.returncode, r.stderr
        cls.doc = json.loads(r.stdout) if r.stdout else None
        cls.files = {f["file"]: f for f in cls.doc["files"]} if cls.doc else {}

    def test_compatible(self):
        self.assertEqual(self.stderr, "")
        self.assertEqual(self.status, 0)
        self.assertTrue(self.doc["compatible"])
        self.assertEqual(sorted(self.files), [m + ".x" for m in LIBVIRT_MODULES])

    def test_procedures_added(self):
        """Exactly the procedure constants of 11.3.0 that 9.0.0 lacks are
        added, with their numbers; none is removed or renumbered."""
        total = 0
        for m in LIBVIRT_MODULES:
            old, new = self.old[m].procs, self.new[m].procs
            self.assertTrue(set(old) <= set(new), m)
            for name in old:
                self.assertEqual(old[name], new[name], name)
            want = {n: new[n] for n in set(new) - set(old)}
            procs = self.files[m + ".x"]["procedures"]
            got = {p["name"]: p["number"] for p in procs if p["change"] == "added"}
            self.assertEqual(got, want, m)
            self.assertEqual([p for p in procs if p["change"] == "removed"], [])
            total += len(want)
        # 10 in remote_protocol.x, 1 in admin_protocol.x
        self.assertEqual(total, 11)
        self.assertIn("REMOTE_PROC_DOMAIN_SET_THROTTLE_GROUP",
                      {p["name"] for p in self.files["remote_protocol.x"]["procedures"]})

    def test_annotations(self):
        """The procedures whose doc-comment annotations differ between the
        releases are exactly the changed ones."""
        for m in LIBVIRT_MODULES:
            old, new = self.old[m].annotations, self.new[m].annotations
            want = sorted(n for n in old if n in new and old[n] != new[n])
            procs = self.files[m + ".x"]["procedures"]
            got = sorted(p["name"] for p in procs if p["change"] == "changed")
            self.assertEqual(got, want, m)
            for p in procs:
                if p["change"] == "changed":
                    self.assertTrue(p["compatible"])
                    self.assertTrue(all(d["text"].startswith("@") for d in p["details"]))
        changed = {p["name"]: p for p in self.files["remote_protocol.x"]["procedures"]}
        self.assertEqual(changed["REMOTE_PROC_NODE_DEVICE_DEFINE_XML"]["details"][0]["text"],
                         "@acl: node_device:write -> node_device:write, node_device:save")

    def test_types(self):
        """Types added are the names only 11.3.0 defines; no type is
        removed; a type whose definition reads the same in both (comments
        and spacing aside) is not reported."""
        for m in LIBVIRT_MODULES:
            old, new = self.old[m], self.new[m]
            types = self.files[m + ".x"]["types"]
            want_added = sorted(set(new.types) - set(old.types) - new.proc_enums)
            self.assertEqual(sorted(t["name"] for t in types if t["change"] == "added"),
                             want_added, m)
            self.assertEqual(sorted(set(old.types) - set(new.types)), [], m)
            for t in types:
                if t["change"] == "changed":
                    self.assertNotEqual(old.types[t["name"]], new.types[t["name"]], t["name"])
        added = {t["name"] for t in self.files["remote_protocol.x"]["types"]}
        self.assertIn("remote_domain_event_nic_mac_change_msg", added)

    def test_types_rewritten_not_changed(self):
        """Two definitions differ in text but not on the wire: libvirt 11
        numbers virLXCMonitorExitStatus's values explicitly (the values it
        had), and drops log_protocol.x's two 'typedef struct X X;' lines."""
        differ = []
        for m in LIBVIRT_MODULES:
            old, new = self.old[m], self.new[m]
            for name in set(old.types) & set(new.types):
                if old.types[name] != new.types[name] and name not in old.proc_enums:
                    differ.append(name)
        self.assertEqual(differ, ["virLXCMonitorExitStatus"])
        body_old = self.old["lxc_monitor_protocol"].types["virLXCMonitorExitStatus"][1]
        body_new = self.new["lxc_monitor_protocol"].types["virLXCMonitorExitStatus"][1]
        names_old = [w.strip() for w in body_old.split(",")]
        pairs_new = [tuple(x.strip() for x in w.split("=")) for w in body_new.split(",")]
        self.assertEqual([(n, str(i)) for i, n in enumerate(names_old)], pairs_new)
        self.assertEqual(self.files["lxc_monitor_protocol.x"]["types"], [])
        self.assertEqual(self.old["log_protocol"].self_aliases,
                         {"virLogManagerProtocolDomain", "virLogManagerProtocolLogFilePosition"})
        self.assertEqual(self.new["log_protocol"].self_aliases, set())
        self.assertEqual(self.files["log_protocol.x"]["status"], "unchanged")

    def test_constants(self):
        for m in LIBVIRT_MODULES:
            old, new = self.old[m].consts, self.new[m].consts
            want = {}
            for n in set(old) | set(new):
                if n not in old:
                    want[n] = "added"
                elif n not in new:
                    want[n] = "removed"
                elif old[n] != new[n]:
                    if re.fullmatch(r"-?\w+", old[n]) and re.fullmatch(r"-?\w+", new[n]) \
                            and old[n][0].isdigit() and new[n][0].isdigit() \
                            and const_value(old[n]) == const_value(new[n]):
                        continue
                    want[n] = "changed"
            got = {c["name"]: c["change"] for c in self.files[m + ".x"]["constants"]}
            self.assertEqual(got, want, m)

    def test_text(self):
        """The text form of one file: the same procedures, one per line."""
        r = run(["diff", os.path.join(self.old_dir, "remote_protocol.x"),
                 os.path.join(self.new_dir, "remote_protocol.x")], cwd=REPO)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertTrue(lines[0].startswith("remote_protocol.x: wire-compatible, "), lines[0])
        added = {ln.split()[4] for ln in lines if ln.startswith("  + procedure remote ")}
        old, new = self.old["remote_protocol"].procs, self.new["remote_protocol"].procs
        self.assertEqual(added, set(new) - set(old))
        self.assertNotIn("INCOMPATIBLE", r.stdout)

    def test_imports_found(self):
        """qemu_protocol.x uses remote_protocol.x's types: found next to it."""
        r = run(["diff", os.path.join(self.old_dir, "qemu_protocol.x"),
                 os.path.join(self.new_dir, "qemu_protocol.x")], cwd=REPO)
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, "qemu_protocol.x: no changes\n",
                                                              ""))

    def test_backwards(self):
        """11.3.0 -> 9.0.0: the added procedures are removed, and that is
        incompatible."""
        r = run(["diff", "--json", os.path.join(self.new_dir, "remote_protocol.x"),
                 os.path.join(self.old_dir, "remote_protocol.x")], cwd=REPO)
        self.assertEqual(r.returncode, 1, r.stderr)
        doc = json.loads(r.stdout)
        self.assertFalse(doc["compatible"])
        f = doc["files"][0]
        removed = {p["name"] for p in f["procedures"] if p["change"] == "removed"}
        old, new = self.old["remote_protocol"].procs, self.new["remote_protocol"].procs
        self.assertEqual(removed, set(new) - set(old))
        self.assertTrue(all(not p["compatible"] for p in f["procedures"]
                            if p["change"] == "removed"))

    def test_same_release(self):
        r = run(["diff", os.path.join(self.new_dir, "remote_protocol.x"),
                 os.path.join(self.new_dir, "remote_protocol.x")], cwd=REPO)
        self.assertEqual((r.returncode, r.stdout, r.stderr),
                         (0, "remote_protocol.x: no changes\n", ""))

if __name__ == "__main__":
    unittest.main()
