# SPDX-License-Identifier: LGPL-2.1-or-later
"""Command line of virtwire-gen."""

from __future__ import annotations

import argparse
import os
import sys
from typing import List, Optional

from . import __version__, since
from .emit_c import write_file
from .emitters import module_outputs
from .ir import XdrError
from .parser import parse_file
from .preprocess import CppOptions, PreprocessorError
from .resolve import Model
from .tables import (DEFAULT_CONSTANTS, DEFAULT_EVENTS, DEFAULT_OVERRIDES, read_constants,
                     read_events, read_overrides)


def base_name(path: str) -> str:
    b = os.path.basename(path)
    return b[:-2] if b.endswith(".x") else b


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="virtwire-gen",
        usage="%(prog)s [options] --out-dir DIR FILE.x\n"
              "       %(prog)s diff [options] OLD NEW",
        description="Generate typed C encoders, decoders and procedure tables for the virtwire "
                    "runtime from an XDR (.x) file. Writes DIR/NAME.h and DIR/NAME.c (types, "
                    "codecs, procedure tables), DIR/NAME_client.h (typed calls for virtwire_client) "
                    "and DIR/NAME_server.h (typed handler tables for virtwire_server), where NAME "
                    "is the .x file's base name.",
        epilog="'virtwire-gen diff OLD NEW' compares two versions of a protocol (two .x files "
               "or two directories of them) and says which changes are wire-incompatible; see "
               "'virtwire-gen diff --help'. To compile a file named 'diff', write './diff'.")
    p.add_argument("xfile", metavar="FILE.x", help="the XDR specification to compile")
    p.add_argument("--out-dir", required=True, metavar="DIR", help="where to write NAME.h and NAME.c")
    p.add_argument("--constants", metavar="FILE",
                   help="table of constants the .x uses but does not define (NAME<TAB>VALUE lines); "
                        "default: the project's protocol/constants.tsv")
    p.add_argument("--overrides", metavar="FILE",
                   help="table of per-procedure facts the .x does not state (fd passing, "
                        "bidirectional streams); default: the project's protocol/overrides.tsv")
    p.add_argument("--events", metavar="FILE",
                   help="table of event registrations: which message the daemon sends for "
                        "which eventID (family and event rows); default: the project's "
                        "protocol/events.tsv")
    p.add_argument("--import", dest="imports", action="append", default=[], metavar="OTHER.x",
                   help="a .x file whose types and constants FILE.x uses; its generated header "
                        "OTHER.h is included (repeatable)")
    p.add_argument("--since-from", metavar="DIR",
                   help="directory holding libvirt's version scripts (libvirt_public.syms, "
                        "libvirt_qemu.syms, libvirt_lxc.syms, libvirt_admin_public.syms, as "
                        "protocol/fetch-libvirt leaves them): each procedure of libvirt's "
                        "programs gets the release it exists since (virtwire_proc.since)")
    p.add_argument("-D", dest="defines", action="append", default=[], metavar="NAME[=VALUE]",
                   help="define NAME for the C preprocessor (repeatable), as rpcgen's -D")
    p.add_argument("-I", dest="include_dirs", action="append", default=[], metavar="DIR",
                   help="where the C preprocessor looks for #include files (repeatable)")
    p.add_argument("--cpp", metavar="COMMAND", default=None,
                   help="the C preprocessor (default: $CPP, else cpp). Like rpcgen, virtwire-gen "
                        "runs FILE.x (and each --import) through it as 'cpp -C [-D...] [-I...] "
                        "-DRPC_HDR FILE.x' for NAME.h, and checks that the RPC_XDR, RPC_CLNT and "
                        "RPC_SVC passes define the same; a file without any # line is read as "
                        "it is unless -D or -I is given")
    p.add_argument("--passthrough", action="store_true",
                   help="copy the .x file's %%-lines into the header (off by default: libvirt's "
                        "name libvirt-internal headers)")
    p.add_argument("--json", action="store_true",
                   help="write DIR/NAME_json.h and DIR/NAME_json.c instead: JSON conversion of "
                        "every type with jansson, for tools (the codecs need no library; this "
                        "code needs jansson and the tool's virtwire_json.h)")
    p.add_argument("--version", action="version", version=f"virtwire-gen {__version__}")
    return p


def generate(xfile: str, out_dir: str, constants: Optional[str] = None,
             overrides: Optional[str] = None, imports: Optional[List[str]] = None,
             passthrough: bool = False, events: Optional[str] = None,
             json: bool = False, since_from: Optional[str] = None,
             cpp: Optional[CppOptions] = None, functions=()) -> Model:
    ext = read_constants(constants or DEFAULT_CONSTANTS)
    ov_path = overrides or DEFAULT_OVERRIDES
    ov = read_overrides(ov_path) if os.path.exists(ov_path) or overrides else {}
    ev_path = events or DEFAULT_EVENTS
    ev = read_events(ev_path) if os.path.exists(ev_path) or events else []
    cpp = cpp or CppOptions()
    specs = [parse_file(i, cpp=cpp) for i in (imports or [])]
    spec = parse_file(xfile, cpp=cpp, all_passes=True)
    model = Model(spec, specs, ext, ov)
    if since_from:
        since.apply(model, since_from)
    outputs = module_outputs(model, base_name(xfile), os.path.basename(xfile),
                             [base_name(i) for i in imports or []], passthrough, ev, json,
                             functions)
    os.makedirs(out_dir, exist_ok=True)
    for name, text in outputs:
        write_file(os.path.join(out_dir, name), text)
    return model


def main(argv: Optional[List[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["diff"]:
        from .diff import main as diff_main
        return diff_main(argv[1:])
    args = build_parser().parse_args(argv)
    cpp = CppOptions(args.defines, args.include_dirs,
                     args.cpp or os.environ.get("CPP") or "cpp")
    try:
        generate(args.xfile, args.out_dir, args.constants, args.overrides, args.imports,
                 args.passthrough, args.events, args.json, args.since_from, cpp)
    except XdrError as e:
        print(f"{e.loc}: error: {e.message}", file=sys.stderr)
        return 1
    except PreprocessorError as e:
        print(e.message, file=sys.stderr)
        return 1
    except OSError as e:
        print(f"{e.filename or 'virtwire-gen'}: error: {e.strerror}", file=sys.stderr)
        return 1
    return 0
