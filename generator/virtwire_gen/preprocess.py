# SPDX-License-Identifier: LGPL-2.1-or-later
"""The C preprocessor pass that rpcgen makes over a .x file.

rpcgen runs every .x file through the C preprocessor, once per file it
writes, as `cpp -C [-D...] -DRPC_HDR file.x` for the header (RPC_XDR for
the codecs, RPC_CLNT for the client stubs, RPC_SVC for the server), so that
a .x file can #include others, #define names and write `#ifdef RPC_HDR`
around what only one output needs (mostly %-lines).  virtwire-gen does the
same for its outputs: NAME.h is made from the RPC_HDR pass, and NAME.c,
NAME_client.h and NAME_server.h are checked against the RPC_XDR, RPC_CLNT
and RPC_SVC passes: one set of C types serves every file, so each pass must
define the same things (the %-lines may differ; --passthrough copies those
of the RPC_HDR pass into NAME.h).

A file with no directive line is parsed as it is, without the preprocessor,
unless -D or -I options are given: the preprocessor would not change it
(-C keeps its comments, where libvirt's annotations are).

Errors keep pointing into the original files: the preprocessor's line
markers give file and line, and the lexer finds each token's column in the
original line.  The preprocessor's own diagnostics already do.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from .ir import Loc, XdrError

# The macro rpcgen defines for each kind of output, and which of virtwire's
# outputs it stands for.
PASSES = (("RPC_HDR", "NAME.h"), ("RPC_XDR", "NAME.c"), ("RPC_CLNT", "NAME_client.h"),
          ("RPC_SVC", "NAME_server.h"))

_DIRECTIVE = re.compile(r"^[ \t]*#", re.M)


class PreprocessorError(Exception):
    """The preprocessor failed: its diagnostics (already file:line:col) or
    why it could not run."""

    def __init__(self, path: str, message: str):
        super().__init__(message)
        self.path = path
        self.message = message


@dataclass
class CppOptions:
    defines: List[str] = field(default_factory=list)  # NAME or NAME=VALUE (-D)
    include_dirs: List[str] = field(default_factory=list)  # -I
    cpp: str = "cpp"  # the command, split like a shell would
    # "auto": only files with directives (or with -D/-I given); "always";
    # "never" (a directive is then an error)
    mode: str = "auto"

    def wanted(self, text: str) -> bool:
        if self.mode == "never":
            return False
        if self.mode == "always" or self.defines or self.include_dirs:
            return True
        return _DIRECTIVE.search(text) is not None


class Sources:
    """Lines of the original files, read on demand, for the lexer's
    columns."""

    def __init__(self):
        self.lines: Dict[str, Optional[List[str]]] = {}

    def line(self, path: str, n: int) -> Optional[str]:
        if path not in self.lines:
            try:
                with open(path, "rb") as f:
                    data = f.read().decode("utf-8", "replace")
                self.lines[path] = data.replace("\r\n", "\n").replace("\r", "\n").split("\n")
            except OSError:
                self.lines[path] = None
        ls = self.lines[path]
        if ls is None or not 1 <= n <= len(ls):
            return None
        return ls[n - 1]


def run_cpp(path: str, define: str, opts: CppOptions) -> str:
    """The preprocessor's output for path with define set, as rpcgen
    runs it (-C keeps comments)."""
    argv = shlex.split(opts.cpp) or ["cpp"]
    argv += ["-C"] + [f"-D{d}" for d in opts.defines] + [f"-I{i}" for i in opts.include_dirs]
    argv += [f"-D{define}", path]
    try:
        r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
    except OSError as e:
        raise PreprocessorError(path, f"{path}: error: cannot run the C preprocessor "
                                      f"'{argv[0]}': {e.strerror}; rpcgen needs it too "
                                      f"(Debian: apt-get install cpp), or pass --cpp") from None
    err = r.stderr.decode("utf-8", "replace").rstrip("\n")
    if r.returncode != 0:
        raise PreprocessorError(path, err or f"{path}: error: '{' '.join(argv)}' exited with "
                                             f"status {r.returncode}")
    if err:  # warnings: shown, as rpcgen shows them
        print(err, file=sys.stderr)
    try:
        return r.stdout.decode("utf-8")
    except UnicodeDecodeError as e:
        raise XdrError(Loc(path, 1, 1), f"the preprocessor's output is not UTF-8 text: "
                                        f"{e.reason}") from None


def check_same(first, first_pass: str, other, other_pass: str):
    """Raises an XdrError at the first definition that the two passes do
    not share."""
    a = {(type(d).__name__, d.name): d for d in first.definitions}
    b = {(type(d).__name__, d.name): d for d in other.definitions}
    for key, d in list(b.items()) + list(a.items()):
        x, y = a.get(key), b.get(key)
        if x == y:
            continue
        kind = key[0].lower()
        where = d.loc
        if x is None or y is None:
            only = other_pass if x is None else first_pass
            raise XdrError(where, f"{kind} {d.name} is defined only when {only} is: "
                                  f"virtwire-gen writes one set of definitions into every "
                                  f"file, so every preprocessor pass ({', '.join(p for p, _ in PASSES)}) "
                                  f"must define the same")
        raise XdrError(where, f"{kind} {d.name} is not the same when {first_pass} and when "
                              f"{other_pass} is defined: virtwire-gen writes one set of "
                              f"definitions into every file")
    if [(type(d).__name__, d.name) for d in first.definitions] != \
            [(type(d).__name__, d.name) for d in other.definitions]:
        raise XdrError(Loc(first.file, 1, 1), f"the definitions come in another order when "
                                              f"{other_pass} is defined than when {first_pass} is")

