# SPDX-License-Identifier: LGPL-2.1-or-later
"""Tokenizer for XDR (.x) files, RFC 4506 plus rpcgen's extensions.

Comments are kept (attached to the token that follows them) because libvirt
puts its annotations there.  Lines starting with '%' are passed through.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import List

from .ir import Comment, Loc, PassThrough, XdrError

PUNCT = set("{}[]<>();,=*:-")


@dataclass
class Token:
    kind: str  # "ident", "number", "punct", "eof"
    text: str
    loc: Loc
    end_line: int
    comments: List[Comment] = field(default_factory=list)  # before this token
    value: int = 0  # for numbers


def _is_ident_start(c: str) -> bool:
    return c.isalpha() or c == "_"


def _is_ident_char(c: str) -> bool:
    return c.isalnum() or c == "_"


def tokenize(text: str, filename: str):
    """Returns (tokens, passthrough lines)."""
    tokens: List[Token] = []
    passthrough: List[PassThrough] = []
    pending: List[Comment] = []
    i = 0
    line = 1
    line_start = 0
    n = len(text)

    def loc_at(pos: int) -> Loc:
        return Loc(filename, line, pos - line_start + 1)

    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
            line_start = i
            continue
        if c in " \t\r\f\v":
            i += 1
            continue
        at_line_start = text[line_start:i].strip() == ""
        if c == "%" and at_line_start:
            j = text.find("\n", i)
            j = n if j < 0 else j
            passthrough.append(PassThrough(text[i + 1:j], loc_at(i)))
            i = j
            continue
        if c == "#" and at_line_start:
            raise XdrError(loc_at(i), "C preprocessor directives are not supported; "
                           "run the file through cpp first")
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            if j < 0:
                raise XdrError(loc_at(i), "unterminated comment")
            start = loc_at(i)
            body = text[i:j + 2]
            nl = body.count("\n")
            pending.append(Comment(body, start, line + nl))
            if nl:
                line += nl
                line_start = i + body.rfind("\n") + 1
            i = j + 2
            continue
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            pending.append(Comment(text[i:j], loc_at(i), line))
            i = j
            continue
        start = i
        if _is_ident_start(c):
            while i < n and _is_ident_char(text[i]):
                i += 1
            tokens.append(Token("ident", text[start:i], loc_at(start), line, pending))
            pending = []
            continue
        if c.isdigit():
            while i < n and (_is_ident_char(text[i])):
                i += 1
            lit = text[start:i]
            tokens.append(Token("number", lit, loc_at(start), line, pending,
                                _parse_number(lit, loc_at(start))))
            pending = []
            continue
        if c in PUNCT:
            tokens.append(Token("punct", c, loc_at(start), line, pending))
            pending = []
            i += 1
            continue
        raise XdrError(loc_at(i), f"unexpected character {c!r}")
    tokens.append(Token("eof", "", Loc(filename, line, i - line_start + 1), line, pending))
    return tokens, passthrough


def _parse_number(lit: str, loc: Loc) -> int:
    try:
        if lit.lower().startswith("0x"):
            if len(lit) == 2:
                raise ValueError
            return int(lit[2:], 16)
        if len(lit) > 1 and lit.startswith("0"):
            return int(lit[1:], 8)
        return int(lit, 10)
    except ValueError:
        raise XdrError(loc, f"invalid number {lit!r}") from None
