# SPDX-License-Identifier: LGPL-2.1-or-later
"""libvirt's public C headers (include/libvirt/*.h), read for their facts.

What is taken from them, names and values only (never their prose):

    enums       every `typedef enum { ... } NAME;`: its members with their
                values, except the sentinels libvirt keeps behind
                `#ifdef VIR_ENUM_SENTINELS` (their values change from
                release to release)
    macros      every object-like `#define VIR_...` whose value is a string
                literal (the well-known typed parameter field names) or an
                integer expression of numbers and known names
                (VIR_UUID_BUFLEN (16), VIR_TYPED_PARAM_FIELD_LENGTH 80)
    functions   the name of every function the headers declare
                (virDomainGetInfo), to name the API a procedure serves
    since       the release each of them appeared in, where the header
                says so ("Since: 0.9.2" in a member's comment or the
                documentation block before a definition)

Values are evaluated here (a C subset: decimal, hex and octal numbers with
U/L suffixes, names defined before, unary - ~ +, * / % + - << >> & ^ |,
parentheses); anything else is an error naming file and line, so a new
kind of definition cannot slip by unnoticed.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple, Union

from .ir import Loc, XdrError


@dataclass
class CConst:
    """An enum member or a macro."""
    name: str
    value: Union[int, str]  # a str for string macros
    alias: Optional[str]    # the name it was defined as, for `A = B`
    shifted: bool           # written with << (a flag): shown in hex
    loc: Loc
    since: Optional[str] = None


@dataclass
class CEnum:
    name: str
    loc: Loc
    since: Optional[str]
    members: List[CConst] = field(default_factory=list)


@dataclass
class CHeaders:
    """What a set of headers defines, in the order of their files."""
    files: List[str] = field(default_factory=list)         # base names
    guards: Dict[str, str] = field(default_factory=dict)    # file -> include guard
    enums: List[CEnum] = field(default_factory=list)
    macros: List[CConst] = field(default_factory=list)
    functions: Dict[str, Loc] = field(default_factory=dict)

    def enum(self, name: str) -> Optional[CEnum]:
        return next((e for e in self.enums if e.name == name), None)

    def values(self) -> Dict[str, Union[int, str]]:
        out: Dict[str, Union[int, str]] = {}
        for e in self.enums:
            for m in e.members:
                out[m.name] = m.value
        for m in self.macros:
            out[m.name] = m.value
        return out


# libvirt.h includes its parts in this order (common first: the types the
# others use); the other libraries' headers follow.  Files in a directory
# that are not listed here come last, sorted.
HEADER_ORDER = (
    "libvirt-common.h.in", "libvirt-host.h", "libvirt-domain.h",
    "libvirt-domain-checkpoint.h", "libvirt-domain-snapshot.h", "libvirt-event.h",
    "libvirt-interface.h", "libvirt-network.h", "libvirt-nodedev.h", "libvirt-nwfilter.h",
    "libvirt-secret.h", "libvirt-storage.h", "libvirt-stream.h", "virterror.h",
    "libvirt.h", "libvirt-admin.h", "libvirt-qemu.h", "libvirt-lxc.h",
)
HEADER_RE = re.compile(r"^(libvirt(-[a-z-]+)?|virterror)\.h(\.in)?$")


def header_files(directory: str) -> List[str]:
    """libvirt's public headers in directory (as protocol/fetch-libvirt
    leaves them, next to the .x files), in HEADER_ORDER."""
    names = [n for n in os.listdir(directory) if HEADER_RE.match(n)]
    rank = {n: i for i, n in enumerate(HEADER_ORDER)}
    names.sort(key=lambda n: (rank.get(n, len(rank)), n))
    return [os.path.join(directory, n) for n in names]


TOKEN = re.compile(
    r"""(?P<comment>/\*.*?\*/|//[^\n]*)
      | (?P<pp>^[ \t]*\#(?:[^\n\\]|\\\n|\\.)*)
      | (?P<string>"(?:[^"\\\n]|\\.)*")
      | (?P<char>'(?:[^'\\\n]|\\.)*')
      | (?P<number>(?:0[xX][0-9a-fA-F]+|\d+)[uUlL]*)
      | (?P<name>[A-Za-z_]\w*)
      | (?P<op><<|>>|[-+*/%&|^~()\[\]{};,=<>!?:.])
      | (?P<space>\s+)
      | (?P<other>.)""", re.S | re.M | re.X)
SINCE = re.compile(r"\bSince:\s*(\d+\.\d+\.\d+)")


@dataclass
class Tok:
    kind: str
    text: str
    line: int


def tokens(text: str, path: str) -> List[Tok]:
    out: List[Tok] = []
    line = 1
    for m in TOKEN.finditer(text):
        kind = m.lastgroup
        t = m.group(0)
        if kind == "other":
            raise XdrError(Loc(path, line, 1), f"unexpected character {t!r}")
        if kind != "space":
            out.append(Tok(kind, t, line))
        line += t.count("\n")
    return out


# -- integer expressions ----------------------------------------------------
class Expr:
    """Evaluates an integer expression given as tokens."""

    def __init__(self, toks: List[Tok], known: Dict[str, Union[int, str]], loc: Loc):
        self.t = toks
        self.i = 0
        self.known = known
        self.loc = loc

    def fail(self, why: str):
        raise XdrError(self.loc, f"cannot evaluate '{' '.join(t.text for t in self.t)}': {why}")

    def peek(self) -> Optional[str]:
        return self.t[self.i].text if self.i < len(self.t) else None

    def take(self) -> Tok:
        if self.i >= len(self.t):
            self.fail("it ends early")
        self.i += 1
        return self.t[self.i - 1]

    def value(self) -> int:
        v = self.binary(0)
        if self.i != len(self.t):
            self.fail(f"unexpected '{self.peek()}'")
        return v

    LEVELS = (("|",), ("^",), ("&",), ("<<", ">>"), ("+", "-"), ("*", "/", "%"))
    OPS = {"|": lambda a, b: a | b, "^": lambda a, b: a ^ b, "&": lambda a, b: a & b,
           "<<": lambda a, b: a << b, ">>": lambda a, b: a >> b, "+": lambda a, b: a + b,
           "-": lambda a, b: a - b, "*": lambda a, b: a * b,
           "/": lambda a, b: abs(a) // abs(b) * (1 if (a < 0) == (b < 0) else -1),
           "%": lambda a, b: a - b * (abs(a) // abs(b) * (1 if (a < 0) == (b < 0) else -1))}

    def binary(self, level: int) -> int:
        if level == len(self.LEVELS):
            return self.unary()
        v = self.binary(level + 1)
        while self.peek() in self.LEVELS[level]:
            op = self.take().text
            r = self.binary(level + 1)
            if op in ("/", "%") and r == 0:
                self.fail("division by zero")
            if op in ("<<", ">>") and not 0 <= r < 64:
                self.fail("shift out of range")
            v = self.OPS[op](v, r)
        return v

    def unary(self) -> int:
        t = self.take()
        if t.text == "-":
            return -self.unary()
        if t.text == "+":
            return self.unary()
        if t.text == "~":
            return ~self.unary()
        if t.text == "(":
            v = self.binary(0)
            if self.take().text != ")":
                self.fail("unbalanced parentheses")
            return v
        if t.kind == "number":
            digits = t.text.rstrip("uUlL")
            if digits.startswith(("0x", "0X")):
                return int(digits, 16)
            return int(digits, 8) if len(digits) > 1 and digits[0] == "0" else int(digits)
        if t.kind == "name":
            v = self.known.get(t.text)
            if isinstance(v, int):
                return v
            self.fail(f"'{t.text}' is not an integer defined before")
        self.fail(f"unexpected '{t.text}'")
        return 0


# -- the reader -------------------------------------------------------------
class Reader:
    def __init__(self, out: CHeaders):
        self.out = out
        self.known = out.values()

    def read(self, path: str):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        base = os.path.basename(path)
        self.out.files.append(base)
        toks = tokens(text, base)
        self.path = base
        self.doc = ""  # the last documentation block
        stmt: List[Tok] = []
        depth = 0
        skip = 0  # inside #ifdef VIR_ENUM_SENTINELS: nesting level
        i = 0
        while i < len(toks):
            t = toks[i]
            i += 1
            if t.kind == "pp":
                skip = self.directive(t, skip)
                continue
            if skip:
                continue
            if t.kind == "comment":
                if depth == 0 and t.text.startswith("/**"):
                    self.doc = t.text
                stmt.append(t)
                continue
            if t.text in ("{", "("):
                depth += 1
            elif t.text in ("}", ")"):
                depth -= 1
                if depth < 0:  # the } closing extern "C" {
                    depth = 0
                    stmt = []
                    continue
            stmt.append(t)
            if depth == 0 and t.text == ";":
                self.statement(stmt)
                stmt = []
            elif depth == 1 and t.text == "{" and [x.text for x in stmt if x.kind != "comment"] \
                    == ["extern", '"C"', "{"]:
                depth = 0
                stmt = []

    def directive(self, t: Tok, skip: int) -> int:
        words = t.text.lstrip()[1:].replace("\\\n", " ").split(None, 2)
        if not words:
            return skip
        what = words[0]
        if what == "ifndef" and not skip and self.path not in self.out.guards and len(words) > 1:
            self.out.guards[self.path] = words[1]
        if what in ("if", "ifdef", "ifndef"):
            if skip:
                return skip + 1
            return 1 if what == "ifdef" and words[1:2] == ["VIR_ENUM_SENTINELS"] else 0
        if what == "endif":
            return max(skip - 1, 0)
        if what in ("else", "elif") and skip == 1:
            return 0  # never seen after a sentinel block; keep reading
        if what == "define" and not skip and len(words) >= 2:
            self.define(t, words[1], words[2] if len(words) > 2 else "")
        return skip

    def define(self, t: Tok, name: str, rest: str):
        if not name.startswith("VIR_") or "(" in name:
            return  # guards, LIBVIR_VERSION_NUMBER, function-like macros
        loc = Loc(self.path, t.line, 1)
        body = [x for x in tokens(rest, self.path) if x.kind != "comment"]
        if not body:
            return
        if len(body) == 1 and body[0].kind == "string":
            value: Union[int, str] = body[0].text[1:-1]
            alias = None
        else:
            if any(x.kind not in ("number", "name", "op") for x in body) or \
                    any(x.kind == "name" and x.text not in self.known for x in body):
                return  # VIR_EXPORT_VAR extern, VIR_DEPRECATED __attribute__...
            if any(isinstance(self.known.get(x.text), str) for x in body if x.kind == "name"):
                return
            value = Expr(body, self.known, loc).value()
            alias = body[0].text if len(body) == 1 and body[0].kind == "name" else None
        c = CConst(name, value, alias, any(x.text == "<<" for x in body), loc,
                   self.since_of(name))
        if name in self.known:
            prev = next(m for m in self.out.macros if m.name == name) \
                if any(m.name == name for m in self.out.macros) else None
            if prev is None or prev.value != value:
                raise XdrError(loc, f"'{name}' defined twice with different values")
            return
        self.out.macros.append(c)
        self.known[name] = value

    def since_of(self, name: str) -> Optional[str]:
        """The release the last documentation block says name appeared in,
        when that block documents name (libvirt's blocks start "NAME:")."""
        m = re.match(r"/\*\*\s*\*?\s*(\w+):", self.doc)
        if not m or m.group(1) != name:
            return None
        m = SINCE.search(self.doc)
        return m.group(1) if m else None

    def statement(self, stmt: List[Tok]):
        code = [t for t in stmt if t.kind != "comment"]
        texts = [t.text for t in code]
        if texts[:2] == ["typedef", "enum"]:
            self.enum(stmt, code)
            return
        if texts[:1] == ["typedef"] or "{" in texts or "(" not in texts:
            return
        # A function declaration: the name before the first parenthesis.
        k = texts.index("(")
        if k > 0 and code[k - 1].kind == "name" and re.match(r"vir[A-Z]\w*$", texts[k - 1]):
            self.out.functions.setdefault(texts[k - 1], Loc(self.path, code[k - 1].line, 1))

    def enum(self, stmt: List[Tok], code: List[Tok]):
        texts = [t.text for t in code]
        if "{" not in texts or texts[-1] != ";" or code[-2].kind != "name":
            raise XdrError(Loc(self.path, code[0].line, 1), "a typedef enum of an unknown shape")
        name = code[-2].text
        e = CEnum(name, Loc(self.path, code[0].line, 1), self.since_of(name))
        open_at = stmt.index(next(t for t in stmt if t.text == "{"))
        close_at = max(i for i, t in enumerate(stmt) if t.text == "}")
        body = stmt[open_at + 1:close_at]
        # Members, split at commas; a comment belongs to the member on whose
        # line it starts, or else to the next member.
        items: List[List[Tok]] = [[]]
        notes: List[List[Tok]] = [[]]
        for t in body:
            if t.text == ",":
                items.append([])
                notes.append([])
            elif t.kind == "comment":
                prev_line = items[-2][-1].line if not items[-1] and len(items) > 1 and items[-2] \
                    else None
                if prev_line is not None and t.line == prev_line:
                    notes[-2].append(t)
                else:
                    notes[-1].append(t)
            else:
                items[-1].append(t)
        nxt = 0
        for toks, comments in zip(items, notes):
            if not toks:
                continue
            loc = Loc(self.path, toks[0].line, 1)
            mname = toks[0].text
            if toks[0].kind != "name":
                raise XdrError(loc, f"unexpected '{mname}' in enum {name}")
            alias = None
            if len(toks) > 1:
                if toks[1].text != "=":
                    raise XdrError(loc, f"unexpected '{toks[1].text}' after {mname}")
                expr = toks[2:]
                value = Expr(expr, self.known, loc).value()
                if len(expr) == 1 and expr[0].kind == "name":
                    alias = expr[0].text
            else:
                value = nxt
            since = None
            for c in comments:
                m = SINCE.search(c.text)
                if m:
                    since = m.group(1)
            member = CConst(mname, value, alias, any(x.text == "<<" for x in toks), loc, since)
            if mname in self.known:
                raise XdrError(loc, f"'{mname}' defined twice")
            e.members.append(member)
            self.known[mname] = value
            nxt = value + 1
        if not e.members:
            raise XdrError(e.loc, f"enum {name} has no members")
        self.out.enums.append(e)


def read_headers(paths: List[str]) -> CHeaders:
    """The facts of the given headers, read in the order given."""
    out = CHeaders()
    r = Reader(out)
    for p in paths:
        r.read(p)
    return out


def read_header_dir(directory: str) -> CHeaders:
    paths = header_files(directory)
    if not paths:
        raise XdrError(Loc(directory, 1, 1), "no libvirt public headers here (libvirt-domain.h "
                                             "...); protocol/fetch-libvirt puts them next to "
                                             "the .x files")
    return read_headers(paths)
