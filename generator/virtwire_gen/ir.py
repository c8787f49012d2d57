# SPDX-License-Identifier: LGPL-2.1-or-later
"""Intermediate representation of an XDR (.x) specification.

The parser builds these dataclasses; resolve.py fills in the computed fields
(resolved constant values, procedure tables); the emitters only read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional


class XdrError(Exception):
    """An error in a .x file, reported as file:line:col: message."""

    def __init__(self, loc: "Loc", message: str):
        super().__init__(f"{loc}: {message}")
        self.loc = loc
        self.message = message


@dataclass(frozen=True)
class Loc:
    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass
class Comment:
    text: str  # including the /* */ markers (or the // of a line comment)
    loc: Loc
    end_line: int

    @property
    def is_doc(self) -> bool:
        return self.text.startswith("/**")

    def text_lines(self) -> List[str]:
        """The comment's text without its markers, line by line: leading
        blanks and a leading '*' (the comment's margin) go, the indentation
        after the margin stays; empty first and last lines are dropped."""
        if self.text.startswith("//"):
            return [self.text[2:].strip()]
        body = self.text[2:-2]
        while body.startswith("*"):
            body = body[1:]
        lines = []
        for i, ln in enumerate(body.split("\n")):
            ln = ln.rstrip()
            if i > 0:
                ln = ln.lstrip()
                if ln.startswith("*"):
                    ln = ln[1:]
                if ln.startswith(" "):
                    ln = ln[1:]
            else:
                ln = ln.strip()
            lines.append(ln)
        while lines and not lines[0].strip():
            lines.pop(0)
        while lines and not lines[-1].strip():
            lines.pop()
        return lines

    def body_lines(self) -> List[str]:
        """The comment's lines without markers and leading '*'."""
        body = self.text[2:-2] if self.text.startswith("/*") else self.text[2:]
        lines = []
        for ln in body.splitlines():
            ln = ln.strip()
            while ln.startswith("*"):
                ln = ln[1:]
            lines.append(ln.strip())
        return lines


@dataclass
class Value:
    """A constant in the source: an integer literal, a name, or (only as
    the value of a const) a string literal."""

    loc: Loc
    literal: Optional[int] = None  # set for literals
    name: Optional[str] = None  # set for references
    resolved: Optional[int] = None  # filled by resolve
    external: bool = False  # the name comes from the constants table or a %#define
    text: Optional[str] = field(default=None, compare=False)  # a literal as written
    string: Optional[str] = None  # a string literal, with its quotes

    def __str__(self) -> str:
        if self.string is not None:
            return self.string
        return self.name if self.name is not None else str(self.literal)

    def source(self) -> str:
        """As written in the .x file."""
        if self.text is not None:
            return self.text
        return str(self)


# Base type kinds.  long and ulong are rpcgen's long and unsigned long: 32
# bits on the wire, C long and unsigned long in memory.
PRIMITIVES = (
    "int", "uint", "hyper", "uhyper", "float", "double", "quadruple",
    "bool", "char", "uchar", "short", "ushort", "long", "ulong",
)

# rpcgen's library types: names a .x file uses without defining them, which
# rpcgen leaves to libtirpc's headers (xdr_NAME comes from libtirpc).  The
# scalar ones are base types under another spelling; netobj (opaque<1024>
# as struct netobj { u_int n_len; char *n_bytes; }) and des_block (opaque[8]
# as union des_block) are kinds of their own (virtwire_xdr_lib.h).  A .x
# file that defines a type of one of these names uses its own.
LIBRARY_TYPES = {
    "u_int": "uint", "u_long": "ulong", "u_short": "ushort", "u_char": "uchar",
    "bool_t": "bool", "enum_t": "int",
    "int32_t": "int", "uint32_t": "uint", "u_int32_t": "uint",
    "int16_t": "short", "uint16_t": "ushort", "u_int16_t": "ushort",
    "uint8_t": "uchar", "u_int8_t": "uchar",
    "int64_t": "hyper", "uint64_t": "uhyper", "u_int64_t": "uhyper",
    "quad_t": "hyper", "u_quad_t": "uhyper",
    "netobj": "netobj", "des_block": "des_block",
}

# Constants of libtirpc's headers that .x files use as bounds without
# defining them (key_prot.x: string netnamestr<MAXNETNAMELEN>).  A .x file,
# its %#define lines and the constants table come first.
LIBRARY_CONSTANTS = {"MAXNETNAMELEN": 255, "MAX_NETOBJ_SZ": 1024, "MAX_AUTH_BYTES": 400}


@dataclass
class TypeRef:
    """A type as written: a primitive kind, string, opaque, void, or a name."""

    kind: str  # one of PRIMITIVES, "string", "opaque", "void", "netobj", "des_block", "named"
    loc: Loc
    name: Optional[str] = None  # for "named"; the spelling of a library type
    # Inline definitions (struct/union/enum written in place of a type name)
    # are lifted by the parser into named definitions; name refers to them.


@dataclass
class Decl:
    """A declaration: a type, a name and a shape."""

    type: TypeRef
    name: Optional[str]  # None for void
    shape: str  # "scalar", "fixed", "var", "optional", "void"
    loc: Loc
    size: Optional[Value] = None  # [N] or <N>; None for <>
    tags: List[str] = field(default_factory=list)  # trailing comment words
    # Comments on the lines before it (struct members and union arms) and
    # after it on its own line.
    comments: List[Comment] = field(default_factory=list, compare=False)
    trailing: List[Comment] = field(default_factory=list, compare=False)

    @property
    def is_void(self) -> bool:
        return self.shape == "void"

    def max_len(self) -> Optional[int]:
        """The <N> bound, or None if unbounded (var shape only)."""
        if self.size is None:
            return None
        return self.size.resolved


@dataclass
class Const:
    name: str
    value: Value
    loc: Loc
    comments: List[Comment] = field(default_factory=list, compare=False)  # its doc comment
    trailing: List[Comment] = field(default_factory=list, compare=False)


@dataclass
class EnumMember:
    name: str
    value: Optional[Value]  # None: previous + 1
    loc: Loc
    resolved: int = 0
    annotations: Dict[str, List[str]] = field(default_factory=dict)
    tags: List[str] = field(default_factory=list)
    comments: List[Comment] = field(default_factory=list, compare=False)  # those before it
    trailing: List[Comment] = field(default_factory=list, compare=False)


@dataclass
class Enum:
    name: str
    members: List[EnumMember]
    loc: Loc
    tags: List[str] = field(default_factory=list)
    comments: List[Comment] = field(default_factory=list, compare=False)  # its doc comment
    trailing: List[Comment] = field(default_factory=list, compare=False)  # after its '{'


@dataclass
class Struct:
    name: str
    fields: List[Decl]
    loc: Loc
    tags: List[str] = field(default_factory=list)
    comments: List[Comment] = field(default_factory=list, compare=False)  # its doc comment
    trailing: List[Comment] = field(default_factory=list, compare=False)  # after its '{'


@dataclass
class UnionArm:
    cases: List[Value]  # empty for the default arm
    decl: Decl


@dataclass
class Union:
    name: str
    discriminant: Decl
    arms: List[UnionArm]
    default: Optional[UnionArm]
    loc: Loc
    tags: List[str] = field(default_factory=list)
    comments: List[Comment] = field(default_factory=list, compare=False)  # its doc comment
    trailing: List[Comment] = field(default_factory=list, compare=False)  # after its '{'


@dataclass
class Typedef:
    name: str
    decl: Decl
    loc: Loc
    tags: List[str] = field(default_factory=list)
    comments: List[Comment] = field(default_factory=list, compare=False)  # its doc comment


@dataclass
class Procedure:
    name: str
    number: Value
    ret: TypeRef
    args: List[TypeRef]
    loc: Loc
    comments: List[Comment] = field(default_factory=list, compare=False)


@dataclass
class Version:
    name: str
    number: Value
    procedures: List[Procedure]
    loc: Loc


@dataclass
class Program:
    name: str
    number: Value
    versions: List[Version]
    loc: Loc
    comments: List[Comment] = field(default_factory=list, compare=False)


@dataclass
class PassThrough:
    text: str
    loc: Loc


TypeDef = (Enum, Struct, Union, Typedef)


@dataclass
class Spec:
    """One parsed .x file."""

    file: str
    definitions: list  # Const, Enum, Struct, Union, Typedef, Program, in order
    passthrough: List[PassThrough]

    def types(self):
        return [d for d in self.definitions if isinstance(d, TypeDef)]


# ---------------------------------------------------------------------------
# What resolve.py computes for the emitters.


@dataclass
class ProcInfo:
    """One procedure, in libvirt's convention or from a program block."""

    name: str  # the constant, e.g. REMOTE_PROC_CONNECT_OPEN
    short: str  # CONNECT_OPEN
    number: int
    args: Optional[str]  # type names, None for void
    ret: Optional[str]
    msg: Optional[str]
    loc: Loc
    annotations: Dict[str, List[str]] = field(default_factory=dict)
    tags: List[str] = field(default_factory=list)
    overrides: Dict[str, str] = field(default_factory=dict)
    comments: List[Comment] = field(default_factory=list, compare=False)  # its doc comment
    # The libvirt release it exists since, and whether that is inferred
    # (a lower bound) rather than its API's release (since.py); None: unknown.
    since: Optional[Tuple[Tuple[int, int, int], bool]] = None


@dataclass
class ProgramInfo:
    name: str  # e.g. "remote"
    number: int
    version: int
    number_name: Optional[str]  # the constant naming the program number
    version_name: Optional[str]
    procs: List[ProcInfo]
    loc: Loc
    comments: List[Comment] = field(default_factory=list, compare=False)
    from_enum: bool = False  # libvirt's convention: a procedure enum, not a program block
