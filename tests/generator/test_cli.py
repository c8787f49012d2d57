#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""virtwire-gen's command line: error messages for broken .x input, --help,
--passthrough, --events, determinism.

Every broken input must give exactly one line on stderr,
`FILE:LINE:COL: error: MESSAGE`, exit status 1, no Python traceback, and
write no output file. The positions below were counted by hand in the
source text next to them.

Needs only Python, and a C compiler ($VIRTWIRE_CC, default cc) for the
event registration helpers --events adds; the rest of the generated code is
compiled and checked by the C harnesses next to this file.
"""

import filecmp
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
# -I for each layer of the runtime (runtime/LAYER/).
RUNTIME_INCLUDES = [a for d in sorted(glob.glob(os.path.join(REPO, "runtime", "*", "")))
                    for a in ("-I", d)]
GENERATOR = os.path.join(REPO, "generator", "virtwire-gen")
CC = os.environ.get("VIRTWIRE_CC", "cc")
CFLAGS = ["-std=c11", "-Wall", "-Wextra", "-Wshadow", "-Wstrict-prototypes",
          "-Wmissing-prototypes", "-Werror"]

# A libvirt-style program with one event family: a registration that
# returns a callbackID, its deregistration, an event that carries the
# callbackID first and one that does not.
EVENTS_X = """\
const EV_PROGRAM = 0x7e570001;
const EV_PROTOCOL_VERSION = 1;
typedef string ev_nonnull_string<64>;
typedef ev_nonnull_string *ev_string;
struct ev_nonnull_thing {
    ev_nonnull_string name;
};
typedef ev_nonnull_thing *ev_thing;
struct ev_connect_thing_event_register_any_args {
    int eventID;
    ev_thing thing;
    ev_string label;
};
struct ev_connect_thing_event_register_any_ret {
    int callbackID;
};
struct ev_connect_thing_event_deregister_any_args {
    int callbackID;
};
struct ev_thing_event_ping_msg {
    int callbackID;
    ev_nonnull_thing thing;
};
struct ev_thing_event_plain_msg {
    int n;
};
enum ev_procedure {
    EV_PROC_CONNECT_THING_EVENT_REGISTER_ANY = 1,
    EV_PROC_CONNECT_THING_EVENT_DEREGISTER_ANY = 2,
    EV_PROC_THING_EVENT_PING = 3,
    EV_PROC_THING_EVENT_PLAIN = 4
};
"""
EVENTS_FAMILY = ("family\tev\tthing\tEV_PROC_CONNECT_THING_EVENT_REGISTER_ANY\t"
                 "EV_PROC_CONNECT_THING_EVENT_DEREGISTER_ANY\n")


def run_generator(args, cwd):
    return subprocess.run([sys.executable, GENERATOR] + args, cwd=cwd, capture_output=True,
                          text=True, timeout=60)


# (file name, .x text, line, column, part of the message).  Columns count
# from 1; the comment on each case says which token the position names.
ERROR_CASES = [
    # the '}' that comes where the ';' should be
    ("missing_semicolon",
     "struct a {\n"
     "    int x\n"
     "};\n",
     3, 1, "expected ';'"),
    # NOPE inside [ ]
    ("undefined_constant",
     "struct a {\n"
     "    int x[NOPE];\n"
     "};\n",
     2, 11, "undefined constant 'NOPE'"),
    # the type name
    ("undefined_type",
     "struct a {\n"
     "    missing_t x;\n"
     "};\n",
     2, 5, "undefined type 'missing_t'"),
    ("undefined_type_in_procedure",
     "program P {\n"
     "  version V {\n"
     "    void F(nothing_t) = 1;\n"
     "  } = 1;\n"
     "} = 1;\n",
     3, 12, "undefined type 'nothing_t'"),
    # the second definition's name
    ("duplicate_type",
     "struct a { int x; };\n"
     "union a switch (int d) { default: void; };\n",
     2, 7, "type 'a' is already defined"),
    ("duplicate_constant",
     "const A = 1;\n"
     "const A = 2;\n",
     2, 7, "'A' is already defined at duplicate_constant.x:1:7"),
    # an enum member and a constant share one name space
    ("duplicate_enum_member",
     "enum color { X, Y };\n"
     "const Y = 3;\n",
     2, 7, "'Y' is already defined at duplicate_enum_member.x:1:17"),
    ("duplicate_member",
     "struct a {\n"
     "    int x;\n"
     "    hyper x;\n"
     "};\n",
     3, 11, "duplicate member 'x'"),
    # the second label: 0x1 is 1 again
    ("duplicate_case",
     "union u switch (int d) {\n"
     "case 1:\n"
     "    int a;\n"
     "case 0x1:\n"
     "    int b;\n"
     "};\n",
     4, 6, "duplicate case value 1 (first at duplicate_case.x:2:6)"),
    # an enum label and a literal with the same value
    ("duplicate_case_enum",
     "enum color { A, B };\n"
     "union u switch (color d) {\n"
     "case A:\n"
     "    void;\n"
     "case 0:\n"
     "    void;\n"
     "};\n",
     5, 6, "duplicate case value 0"),
    # -1 and 0xFFFFFFFF are one unsigned value
    ("duplicate_case_unsigned",
     "union u switch (unsigned int d) {\n"
     "case -1:\n"
     "    void;\n"
     "case 0xFFFFFFFF:\n"
     "    void;\n"
     "};\n",
     4, 6, "duplicate case value 4294967295"),
    ("bad_number_suffix", "const A = 12abc;\n", 1, 11, "invalid number '12abc'"),
    ("bad_number_octal", "const A = 09;\n", 1, 11, "invalid number '09'"),
    ("bad_number_hex", "const A = 0x;\n", 1, 11, "invalid number '0x'"),
    ("minus_without_number", "const A = - ;\n", 1, 13, "expected a number after '-'"),
    # where the comment starts
    ("unterminated_comment",
     "struct a { int x; };\n"
     "/* never\n"
     "closed\n",
     2, 1, "unterminated comment"),
    # the ';' where '<' should be
    ("string_without_bound",
     "struct a {\n"
     "    string s;\n"
     "};\n",
     2, 13, "expected '<' after string name"),
    ("opaque_without_size",
     "struct a {\n"
     "    opaque o;\n"
     "};\n",
     2, 13, "expected '[' or '<' after opaque name"),
    # the struct's name
    ("recursive_without_optional",
     "struct a {\n"
     "    int x;\n"
     "    a next;\n"
     "};\n",
     1, 8, "type 'a' contains itself; use optional data (*)"),
    # the quadruple keyword
    ("quadruple",
     "struct a {\n"
     "  quadruple q;\n"
     "};\n",
     2, 3, "quadruple is not supported"),
    # the procedure's name
    ("several_arguments",
     "struct a { int x; };\n"
     "program P {\n"
     "  version V {\n"
     "    void F(a, a) = 1;\n"
     "  } = 1;\n"
     "} = 1;\n",
     4, 10, "procedures with several arguments"),
    # rpcgen refuses it too ("opaque -- illegal argument type")
    ("opaque_argument",
     "program P {\n"
     "  version V {\n"
     "    void F(opaque) = 1;\n"
     "  } = 1;\n"
     "} = 1;\n",
     3, 12, "opaque is not allowed as a procedure argument or result"),
    ("quadruple_argument",
     "program P {\n"
     "  version V {\n"
     "    quadruple F(void) = 1;\n"
     "  } = 1;\n"
     "} = 1;\n",
     3, 5, "quadruple is not supported as a procedure argument or result"),
    # rpcgen #defines P, V and F: they share the constants' name space
    ("program_name_taken",
     "const P = 7;\n"
     "program P {\n"
     "  version V {\n"
     "    void F(void) = 1;\n"
     "  } = 1;\n"
     "} = 1;\n",
     2, 1, "'P' is already defined at program_name_taken.x:1:7"),
    ("procedure_renumbered_in_version",
     "program P {\n"
     "  version V1 {\n"
     "    void F(void) = 1;\n"
     "  } = 1;\n"
     "  version V2 {\n"
     "    void F(void) = 2;\n"
     "  } = 2;\n"
     "} = 1;\n",
     6, 10, "'F' is 2 here but 1 in another version"),
    # string constants: their literal, and nowhere else
    ("string_constant_as_size",
     "const S = \"abc\";\n"
     "struct a {\n"
     "    int v[S];\n"
     "};\n",
     3, 11, "constant 'S' is a string; a number is needed here"),
    ("string_as_size",
     "struct a {\n"
     "    int v<\"abc\">;\n"
     "};\n",
     2, 11, "a string is only allowed as the value of a const"),
    ("unterminated_string", "const S = \"abc;\n", 1, 11, "unterminated string"),
    # a %#define used as a number must be an integer constant expression
    ("define_not_a_number",
     "%#define N sizeof(int)\n"
     "struct a {\n"
     "    int v<N>;\n"
     "};\n",
     3, 11, "'N' is used as a number, but its %#define (at define_not_a_number.x:1:1) "
            "is not an integer constant expression"),
    ("define_cycle",
     "%#define N M\n"
     "%#define M N\n"
     "struct a {\n"
     "    int v<N>;\n"
     "};\n",
     4, 11, "'N' (a %#define) refers to itself"),
    # the generated code's and the runtime's prefixes
    ("reserved_prefix", "struct virtwire_a { int x; };\n", 1, 8,
     "names starting with vw_ or virtwire_ are reserved"),
    ("duplicate_procedure_number",
     "struct a { int x; };\n"
     "program P {\n"
     "  version V {\n"
     "    void F(a) = 1;\n"
     "    void G(void) = 1;\n"
     "  } = 1;\n"
     "} = 1;\n",
     5, 10, "procedure number 1 used twice (F, G)"),
    ("enum_value_too_big",
     "enum e {\n"
     "    BIG = 0x80000000\n"
     "};\n",
     2, 5, "enum value 2147483648 does not fit in 32 bits"),
    ("negative_array_size",
     "struct a {\n"
     "    int v[-1];\n"
     "};\n",
     2, 11, "array size -1 out of range"),
    ("bad_discriminant",
     "union u switch (hyper h) {\n"
     "case 1:\n"
     "    void;\n"
     "};\n",
     1, 23, "union discriminant must be int, unsigned int, long, unsigned long, bool or an enum"),
    ("constant_cycle",
     "const A = B;\n"
     "const B = A;\n",
     1, 7, "constant 'A' refers to itself"),
    ("unexpected_character",
     "struct a {\n"
     "    int x; @\n"
     "};\n",
     2, 12, "unexpected character '@'"),
    # what only the RPC_HDR pass defines (the file goes through cpp, and the
    # definition's own line is reported)
    ("definition_in_one_pass",
     "#ifdef RPC_HDR\n"
     "struct a { int x; };\n"
     "#endif\n",
     2, 8, "struct a is defined only when RPC_HDR is"),
    ("definition_differs_by_pass",
     "struct a {\n"
     "#ifdef RPC_XDR\n"
     "    hyper x;\n"
     "#else\n"
     "    int x;\n"
     "#endif\n"
     "};\n",
     1, 8, "struct a is not the same when RPC_HDR and when RPC_XDR is defined"),
    # columns are those of the original line, not of cpp's output (which
    # folds white space): '@' is at column 16 of the .x file
    ("error_column_after_cpp",
     "#define UNUSED 1\n"
     "struct a {\n"
     "\tint    x;     @\n"
     "};\n",
     3, 16, "unexpected character '@'"),
    ("keyword_as_name", "struct int { int x; };\n", 1, 8, "expected struct name"),
    ("end_of_file",
     "struct a {\n"
     "    int x;\n",
     3, 1, "found end of file"),
    ("procedure_enum_without_program",
     "enum x_procedure {\n"
     "    X_PROC_A = 1\n"
     "};\n",
     1, 6, "no constant X_PROGRAM"),
    ("procedure_prefix",
     "const X_PROGRAM = 1;\n"
     "const X_PROTOCOL_VERSION = 1;\n"
     "enum x_procedure {\n"
     "    X_PROC_A = 1,\n"
     "    Y_PROC_B = 2\n"
     "};\n",
     5, 5, "procedure 'Y_PROC_B' does not start with 'X_PROC_'"),
    # the procedure constant the annotation belongs to
    ("bad_generate_annotation",
     "const X_PROGRAM = 1;\n"
     "const X_PROTOCOL_VERSION = 1;\n"
     "enum x_procedure {\n"
     "    /**\n"
     "     * @generate: sometimes\n"
     "     */\n"
     "    X_PROC_A = 1\n"
     "};\n",
     7, 5, "unknown @generate value 'sometimes'"),
    # names of every emitter are checked against each other, whichever
    # files are written: here the codecs, against the JSON conversion's
    # names, the typed client calls' and the server handlers'
    ("collision_with_json_name",
     "struct a { int x; };\n"
     "struct a_to_json { int y; };\n",
     1, 1, "generated name 'a_to_json' (function a_to_json) collides with type a_to_json"),
    ("collision_with_client_name",
     "const X_PROGRAM = 1;\n"
     "const X_PROTOCOL_VERSION = 1;\n"
     "struct x_call_ping { int y; };\n"
     "enum x_procedure {\n"
     "    X_PROC_PING = 1\n"
     "};\n",
     1, 1, "generated name 'x_call_ping' (client function x_call_ping) collides with "
           "type x_call_ping"),
    ("collision_with_server_name",
     "const X_PROGRAM = 1;\n"
     "const X_PROTOCOL_VERSION = 1;\n"
     "struct x_serve_ping { int y; };\n"
     "enum x_procedure {\n"
     "    X_PROC_PING = 1\n"
     "};\n",
     1, 1, "generated name 'x_serve_ping' (server function x_serve_ping) collides with "
           "type x_serve_ping"),
]


class GeneratorTestCase(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.tmp = self._tmp.name
        self.addCleanup(self._tmp.cleanup)

    def write(self, name, data):
        path = os.path.join(self.tmp, name)
        with open(path, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
        return path

    def assert_error(self, args, where, message):
        """Runs the generator in the temp dir and checks the one error line.
        where is the expected 'FILE:LINE:COL' text."""
        r = run_generator(args + ["--out-dir", "out"], self.tmp)
        self.assertNotIn("Traceback", r.stderr)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(r.stdout, "")
        lines = r.stderr.splitlines()
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertTrue(lines[0].startswith(where + ": error: "),
                        f"want {where}: error: ..., got {lines[0]!r}")
        self.assertIn(message, lines[0])
        out = os.path.join(self.tmp, "out")
        self.assertEqual(os.listdir(out) if os.path.isdir(out) else [], [],
                         "nothing may be written on error")


class ErrorTests(GeneratorTestCase):
    def test_broken_inputs(self):
        for name, text, line, col, message in ERROR_CASES:
            with self.subTest(name):
                self.write(name + ".x", text)
                self.assert_error([name + ".x"], f"{name}.x:{line}:{col}", message)

    def test_not_utf8(self):
        # 0xff can start no UTF-8 sequence: the first byte of the file
        self.write("latin1.x", b"\xffconst A = 1;\n")
        self.assert_error(["latin1.x"], "latin1.x:1:1", "not UTF-8")

    def test_error_in_imported_file(self):
        # the position is in the imported file: the '}' after 'int y'
        self.write("imp.x", "struct b { int y };\n")
        self.write("main.x", "struct a { b x; };\n")
        self.assert_error(["main.x", "--import", "imp.x"], "imp.x:1:18", "expected ';'")

    def test_bad_constants_table(self):
        # column of the value: after NAME and the tab
        self.write("t.x", "struct a {\n    int v[EXTX];\n};\n")
        self.write("bad.tsv", "# comment\nEXTX\tzz\n")
        self.assert_error(["t.x", "--constants", "bad.tsv"], "bad.tsv:2:6", "invalid value 'zz'")

    def test_bad_overrides_table(self):
        self.write("t.x", "struct a { int x; };\n")
        self.write("bad.tsv", "X_PROC_A\tfds=sideways\n")
        self.assert_error(["t.x", "--overrides", "bad.tsv"], "bad.tsv:1:1",
                          "unknown override 'fds=sideways'")

    def test_bad_events_table(self):
        self.write("t.x", "struct a { int x; };\n")
        self.write("bad.tsv", "# comment\nfamilies\tev\tthing\tA\tB\n")
        self.assert_error(["t.x", "--events", "bad.tsv"], "bad.tsv:2:1",
                          "unknown row kind 'families'")

    def test_events_table_event_before_family(self):
        self.write("t.x", "struct a { int x; };\n")
        self.write("bad.tsv", "event\tev\tthing\tVIR_THING_EVENT_ID_PING\t0\tEV_PROC_X\n")
        self.assert_error(["t.x", "--events", "bad.tsv"], "bad.tsv:1:1",
                          "which no family row above declares")

    def test_events_table_bad_number(self):
        # column of the number: after four columns and their tabs
        self.write("t.x", "struct a { int x; };\n")
        self.write("bad.tsv", EVENTS_FAMILY +
                   "event\tev\tthing\tVIR_THING_EVENT_ID_PING\tzero\tEV_PROC_X\n")
        self.assert_error(["t.x", "--events", "bad.tsv"], "bad.tsv:2:40", "invalid number 'zero'")

    def test_events_table_message_without_callback_id(self):
        self.write("ev.x", EVENTS_X)
        self.write("bad.tsv", EVENTS_FAMILY +
                   "event\tev\tthing\tVIR_THING_EVENT_ID_PLAIN\t0\tEV_PROC_THING_EVENT_PLAIN\n")
        self.assert_error(["ev.x", "--events", "bad.tsv"], "bad.tsv:2:1",
                          "EV_PROC_THING_EVENT_PLAIN is not an event whose message starts with "
                          "int callbackID")

    def test_events_table_gives_helpers(self):
        """The registration helper of each event row and the program's
        deregistration, which compile cleanly; rows of other programs and
        of procedures the .x lacks are left out."""
        self.write("ev.x", EVENTS_X)
        self.write("ev.tsv", EVENTS_FAMILY +
                   "event\tev\tthing\tVIR_THING_EVENT_ID_PING\t0\tEV_PROC_THING_EVENT_PING\n"
                   "event\tev\tthing\tVIR_THING_EVENT_ID_NEWER\t1\tEV_PROC_THING_EVENT_NEWER\n"
                   "family\tother\tthing\tO_PROC_A\tO_PROC_B\n"
                   "event\tother\tthing\tVIR_THING_EVENT_ID_PING\t0\tO_PROC_C\n")
        r = run_generator(["ev.x", "--events", "ev.tsv", "--out-dir", "out"], self.tmp)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(self.tmp, "out", "ev_client.h"), encoding="utf-8") as f:
            header = f.read()
        self.assertIn("static inline int ev_register_thing_event_ping(virtwire_client *c, "
                      "ev_event_registration *reg, ev_thing thing, const char *label, "
                      "ev_thing_event_ping_fn fn, void *opaque, virtwire_call_opts *opts)", header)
        self.assertIn("    args.eventID = 0; /* VIR_THING_EVENT_ID_PING */\n"
                      "    args.thing = thing;\n"
                      "    char *label_str = (char *)label;\n"
                      "    args.label = label ? &label_str : NULL;\n", header)
        self.assertIn("static inline int ev_deregister_event(", header)
        self.assertIn("case EV_PROC_CONNECT_THING_EVENT_DEREGISTER_ANY:", header)
        self.assertNotIn("newer", header)
        self.assertNotIn("O_PROC", header)
        self.write("use.c", '#include "ev_client.h"\n'
                            "int use(void);\n"
                            "int use(void) { return (int)sizeof(ev_event_registration); }\n")
        cc = subprocess.run([CC] + CFLAGS + RUNTIME_INCLUDES + [
                                             "-I", os.path.join(REPO, "generated"), "-I", "out",
                                             "-c", "use.c", "-o", "use.o"],
                            cwd=self.tmp, capture_output=True, text=True, timeout=60)
        self.assertEqual(cc.returncode, 0, cc.stderr)

    def test_constant_from_table_is_used(self):
        # the same input is fine once the table defines the name
        self.write("t.x", "struct a {\n    int v[EXTX];\n};\n")
        self.write("good.tsv", "EXTX\t2\n")
        r = run_generator(["t.x", "--constants", "good.tsv", "--out-dir", "out"], self.tmp)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(self.tmp, "out", "t.h"), encoding="utf-8") as f:
            self.assertIn("int v[2 /* EXTX */];", f.read())

    def test_missing_file(self):
        r = run_generator(["missing.x", "--out-dir", "out"], self.tmp)
        self.assertEqual(r.returncode, 1)
        self.assertNotIn("Traceback", r.stderr)
        lines = r.stderr.splitlines()
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertIn("missing.x", lines[0])
        self.assertIn("No such file or directory", lines[0])

    def test_usage_error(self):
        # argparse: no input file
        r = run_generator(["--out-dir", "out"], self.tmp)
        self.assertEqual(r.returncode, 2)
        self.assertNotIn("Traceback", r.stderr)
        self.assertIn("usage: virtwire-gen", r.stderr)


class PreprocessorTests(GeneratorTestCase):
    """The C preprocessor pass, as rpcgen makes it."""

    def header(self, name="p"):
        with open(os.path.join(self.tmp, "out", name + ".h"), encoding="utf-8") as f:
            return f.read()

    def test_defines_and_include_dirs(self):
        """-D and -I reach cpp; RPC_HDR is defined for the header."""
        os.makedirs(os.path.join(self.tmp, "inc"))
        self.write("inc/shared.x", "struct shared { int x; };\n")
        self.write("p.x", "#include \"shared.x\"\n"
                          "#ifdef WITH_B\nstruct b { shared s; int y[WIDTH]; };\n#endif\n"
                          "#ifdef RPC_HDR\n%#define ONLY_IN_HEADER 1\n#endif\n")
        r = run_generator(["p.x", "-DWITH_B", "-D", "WIDTH=3", "-I", "inc", "--passthrough",
                           "--out-dir", "out"], self.tmp)
        self.assertEqual(r.returncode, 0, r.stderr)
        h = self.header()
        self.assertIn("struct shared {", h)
        self.assertIn("    int y[3];", h)
        self.assertIn("#define ONLY_IN_HEADER 1", h)
        # the origins (in each definition's documentation) name the file
        # each definition comes from
        self.assertIn("/** shared.x:1 */\nstruct shared {", h)
        self.assertIn("/** p.x:3 */\nstruct b {", h)
        r = run_generator(["p.x", "-I", "inc", "--out-dir", "out2"], self.tmp)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(self.tmp, "out2", "p.h"), encoding="utf-8") as f:
            self.assertNotIn("struct b {", f.read())

    def test_error_in_included_file(self):
        """An error in an #included file names that file, line and column."""
        self.write("inc.x", "struct a {\n    int  x; @\n};\n")
        self.write("main.x", "#include \"inc.x\"\n")
        self.assert_error(["main.x"], "inc.x:2:13", "unexpected character '@'")

    def test_cpp_error(self):
        """cpp's own diagnostics (file:line:col) are passed on, and nothing
        is written."""
        self.write("e.x", "struct a { int x; };\n#include \"missing.x\"\n")
        r = run_generator(["e.x", "--out-dir", "out"], self.tmp)
        self.assertEqual(r.returncode, 1)
        self.assertNotIn("Traceback", r.stderr)
        self.assertTrue(r.stderr.startswith("e.x:2:10: fatal error: missing.x"), r.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "out", "e.h")))

    def test_cpp_missing(self):
        self.write("m.x", "#define N 1\nstruct a { int x[N]; };\n")
        self.assert_error(["m.x", "--cpp", "/nonexistent/cpp"], "m.x",
                          "cannot run the C preprocessor '/nonexistent/cpp'")

    def test_no_directives_no_cpp(self):
        """A file without directives is read as it is: the predefined macros
        of cpp (unix, linux) do not touch it."""
        self.write("n.x", "struct a { int unix; };\n")
        r = run_generator(["n.x", "--cpp", "/nonexistent/cpp", "--out-dir", "out"], self.tmp)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("int unix;", self.header("n"))

    def test_descriptor_name(self):
        """A file named like one of its types (rquota.x), and one named like
        a C library function (mount.x): the module descriptor is
        virtwire_module_NAME."""
        self.write("mount.x", "struct mount { int x; };\n")
        r = run_generator(["mount.x", "--out-dir", "out"], self.tmp)
        self.assertEqual(r.returncode, 0, r.stderr)
        h = self.header("mount")
        self.assertIn("extern const virtwire_protocol virtwire_module_mount;", h)
        self.assertIsNone(re.search(r"\bvirtwire_protocol mount\b", h))


class CommandLineTests(GeneratorTestCase):
    def test_help(self):
        r = run_generator(["--help"], self.tmp)
        self.assertEqual(r.returncode, 0, r.stderr)
        for option in ("--constants", "--out-dir", "--import", "--overrides", "--events",
                       "--passthrough", "-D NAME", "-I DIR", "--cpp"):
            self.assertIn(option, r.stdout)

    def test_deterministic(self):
        """Two runs give identical bytes, and the output does not depend on
        where the input file is (no paths in the output)."""
        copy = os.path.join(self.tmp, "elsewhere")
        os.makedirs(copy)
        for name in ("libvirt_style.x", "libvirt_style.tsv"):
            shutil.copy(os.path.join(HERE, name), copy)
        runs = [
            [os.path.join(HERE, "libvirt_style.x"), "--overrides",
             os.path.join(HERE, "libvirt_style.tsv")],
            [os.path.join(HERE, "libvirt_style.x"), "--overrides",
             os.path.join(HERE, "libvirt_style.tsv")],
            ["libvirt_style.x", "--overrides", "libvirt_style.tsv"],
        ]
        for i, args in enumerate(runs):
            cwd = copy if i == 2 else self.tmp
            r = run_generator(args + ["--out-dir", os.path.join(self.tmp, f"run{i}")], cwd)
            self.assertEqual(r.returncode, 0, r.stderr)
        for name in ("libvirt_style.h", "libvirt_style.c"):
            first = os.path.join(self.tmp, "run0", name)
            for i in (1, 2):
                self.assertTrue(filecmp.cmp(first, os.path.join(self.tmp, f"run{i}", name),
                                            shallow=False), f"{name} differs in run {i}")
            with open(first, encoding="utf-8") as f:
                text = f.read()
            self.assertNotIn(HERE, text)
            self.assertNotIn(self.tmp, text)

    def test_passthrough_default_lists_lines(self):
        """Without --passthrough the %-lines are only named in a comment."""
        r = run_generator([os.path.join(HERE, "passthrough.x"), "--out-dir", "out"], self.tmp)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(self.tmp, "out", "passthrough.h"), encoding="utf-8") as f:
            header = f.read()
        self.assertIn(" *   %#define PASSTHROUGH_MARKER 1234\n", header)
        self.assertIn(" *   %#define PASSTHROUGH_LAST (PASSTHROUGH_MARKER + 1)\n", header)
        self.assertIsNone(re.search(r"^#define PASSTHROUGH_MARKER", header, re.M))

    def test_passthrough_copies_lines(self):
        """With --passthrough the lines are copied, in order, without '%'."""
        r = run_generator([os.path.join(HERE, "passthrough.x"), "--passthrough",
                           "--out-dir", "out"], self.tmp)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(self.tmp, "out", "passthrough.h"), encoding="utf-8") as f:
            header = f.read()
        want = ("#define PASSTHROUGH_MARKER 1234\n"
                "/* a pass-through C comment */\n"
                "#define PASSTHROUGH_LAST (PASSTHROUGH_MARKER + 1)\n")
        self.assertIn(want, header)
        self.assertNotIn("%#define", header)


# Comments of every kind, where the generated code must carry them: a
# licence and a banner that stand apart (blank lines) and stay behind, doc
# comments of constants, types and procedures, trailing comments, and
# comment text that would end or nest a C comment or form a trigraph.
COMMENTS_X = """\
/* licence-like text
 * that stays behind */

/*----- a banner, also behind -----*/

/* The largest list.
 *   (indented as written)
 */
const CM_LIST_MAX = 16;
const CM_NEXT = 17; /* right after: one group with CM_LIST_MAX */

// a line comment holding */ and /* and ??/ too
const CM_PROGRAM = 0x7e570002;
const CM_PROTOCOL_VERSION = 1;

/** A thing: its name and its parts. */
struct cm_thing { /* insert@1 */
    /* the name, before it */
    string name<CM_LIST_MAX>;
    int parts<CM_LIST_MAX>; // up to CM_LIST_MAX */
};

union cm_choice switch (int kind) {
/* an arm's own comment */
case 1:
    int one; /* the one */
default:
    void;
};

enum cm_procedure {
    /**
     * @generate: both
     * @acl: thing:read
     */
    CM_PROC_GET = 1, /* autogen autogen */
    /* the second */
    CM_PROC_PUT = 2
};

struct cm_get_ret {
    int n;
};
"""


class CommentTests(GeneratorTestCase):
    def test_comments_and_origins(self):
        """The .x comments come beside what they document, made safe for
        C and Doxygen (documentation comments, command characters
        escaped), and every type, constant, member and procedure names its
        line or what its declaration says."""
        self.write("cm.x", COMMENTS_X)
        r = run_generator(["cm.x", "--out-dir", "out"], self.tmp)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(self.tmp, "out", "cm.h"), encoding="utf-8") as f:
            header = f.read()
        with open(os.path.join(self.tmp, "out", "cm.c"), encoding="utf-8") as f:
            source = f.read()
        with open(os.path.join(self.tmp, "out", "cm_client.h"), encoding="utf-8") as f:
            client = f.read()
        self.assertNotIn("licence", header)
        self.assertNotIn("banner", header)
        self.assertIn("/* Constants */\n\n"
                      "/**\n"
                      " * The largest list.\n"
                      " *   (indented as written)\n"
                      " *\n"
                      " * cm.x:9\n"
                      " */\n"
                      "#define CM_LIST_MAX 16\n"
                      "#define CM_NEXT 17 /**< right after: one group with CM_LIST_MAX */\n\n"
                      "/**\n"
                      " * a line comment holding * / and / * and ? ?/ too\n"
                      " *\n"
                      " * cm.x:13\n"
                      " */\n"
                      "#define CM_PROGRAM 2119630850\n"
                      "#define CM_PROTOCOL_VERSION 1 /**< cm.x:14 */\n", header)
        self.assertIn("/**\n"
                      " * A thing: its name and its parts.\n"
                      " *\n"
                      " * cm.x:17\n"
                      " */\n"
                      "struct cm_thing { /* insert@1 */\n"
                      "    /**\n"
                      "     * the name, before it\n"
                      "     *\n"
                      "     * at most CM_LIST_MAX bytes\n"
                      "     */\n"
                      "    char *name;\n"
                      "    struct { unsigned int parts_len; /**< the number of elements */ "
                      "int *parts_val; /**< the elements */ } parts;"
                      " /**< up to CM_LIST_MAX * / */\n"
                      "};\n", header)
        self.assertIn("/** cm.x:23 */\n"
                      "struct cm_choice {\n"
                      "    int kind; /**< the discriminant: which member of the union is set */\n"
                      "    union {\n"
                      "        /**\n"
                      "         * an arm's own comment\n"
                      "         *\n"
                      "         * cm.x:26\n"
                      "         */\n"
                      "        int one; /* the one */\n"
                      "    } cm_choice_u; /**< the arms */\n"
                      "};\n", header)
        self.assertIn("/** cm.x:31 */\n"
                      "typedef enum cm_procedure {\n"
                      "    /**\n"
                      "     * \\@generate: both\n"
                      "     * \\@acl: thing:read\n"
                      "     *\n"
                      "     * cm.x:36\n"
                      "     */\n"
                      "    CM_PROC_GET = 1, /* autogen autogen */\n"
                      "    /**\n"
                      "     * the second\n"
                      "     *\n"
                      "     * cm.x:38\n"
                      "     */\n"
                      "    CM_PROC_PUT = 2\n"
                      "} cm_procedure;\n", header)
        self.assertIn("/**\n"
                      " * The reply of CM_PROC_GET (cm_call_get()).\n"
                      " *\n"
                      " * cm.x:41\n"
                      " */\n"
                      "struct cm_get_ret {\n", header)
        self.assertIn("/**\n * The procedure table of program cm (cm.x:31): its 2 procedures by "
                      "number (virtwire_program.h).\n */\nextern const virtwire_program cm_program;\n",
                      header)
        # the procedure table: designated initializers without the zero and
        # NULL members, each row after its origin
        self.assertIn("/* Program cm (cm.x:31): its procedures, by number. */\n"
                      "static const virtwire_proc cm_procs[] = {\n"
                      "    /* cm.x:36 */\n"
                      "    { .number = CM_PROC_GET, .name = \"CM_PROC_GET\",\n"
                      "      .ret = &cm_get_ret_desc,\n"
                      "      .generate = VIRTWIRE_GENERATE_BOTH,\n"
                      "      .readstream = -1, .writestream = -1, .acl = cm_acl_1 },\n"
                      "    /* cm.x:38 */\n"
                      "    { .number = CM_PROC_PUT, .name = \"CM_PROC_PUT\",\n"
                      "      .readstream = -1, .writestream = -1 },\n"
                      "};\n", source)
        self.assertIn("/* struct cm_thing, cm.x:17 */\n", source)
        self.assertIn("/**\n"
                      " * CM_PROC_GET = 1 (cm.x:36).\n"
                      " *\n"
                      " * \\@generate: both\n"
                      " * \\@acl: thing:read\n"
                      " *\n"
                      " * Calls it as virtwire_client_call() does, its reply into ret (cm_get_ret): "
                      "0 or a negative\n"
                      " * virtwire_error.\n"
                      " */\n"
                      "static inline int cm_call_get(", client)
        self.write("use.c", '#include "cm.h"\n#include "cm_client.h"\n#include "cm_server.h"\n'
                            "int use(void);\n"
                            "int use(void) { return (int)sizeof(cm_thing); }\n")
        for src in ("use.c", os.path.join("out", "cm.c")):
            cc = subprocess.run([CC] + CFLAGS + RUNTIME_INCLUDES + ["-Wcomment", "-Wtrigraphs",
                                                 "-I", os.path.join(REPO, "generated"),
                                                 "-I", "out", "-c", src, "-o", "x.o"],
                                cwd=self.tmp, capture_output=True, text=True, timeout=60)
            self.assertEqual(cc.returncode, 0, cc.stderr)
            self.assertEqual(cc.stderr, "")


if __name__ == "__main__":
    unittest.main()
