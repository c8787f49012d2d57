# SPDX-License-Identifier: LGPL-2.1-or-later
"""Tokenizer for XDR (.x) files, RFC 4506 plus rpcgen's extensions.

Comments are kept (attached to the token that follows them) because libvirt
puts its annotations there.  Lines starting with '%' are passed through.
String literals ("...", no escapes, as rpcgen has them) are tokens of their
own, for string constants.

The text may be the C preprocessor's output (preprocess.py): its line
markers (# LINE "FILE" FLAGS) say where the lines that follow come from, and
the tokens are located there; columns are found again in the original line
(the preprocessor collapses white space), through origin_line().  Comments
of system headers (the preprocessor's implicit <stdc-predef.h>) are dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, List, Optional

from .ir import Comment, Loc, PassThrough, XdrError

PUNCT = set("{}[]<>();,=*:-")


@dataclass
class Token:
    kind: str  # "ident", "number", "string", "punct", "eof"
    text: str
    loc: Loc
    end_line: int
    comments: List[Comment] = field(default_factory=list)  # before this token
    value: int = 0  # for numbers


def _is_ident_start(c: str) -> bool:
    return c.isalpha() or c == "_"


def _is_ident_char(c: str) -> bool:
    return c.isalnum() or c == "_"


# A line marker of the C preprocessor: # 12 "file.x" 1 3
_LINE_MARKER = re.compile(r'#\s*(?:line\s+)?([0-9]+)(?:\s+"((?:[^"\\]|\\.)*)")?([ 0-9]*)\s*$')
_IGNORED_DIRECTIVE = re.compile(r"#\s*(pragma|ident)\b")


def _unescape(name: str) -> str:
    return re.sub(r"\\(.)", r"\1", name)


def tokenize(text: str, filename: str,
             origin_line: Optional[Callable[[str, int], Optional[str]]] = None):
    """Returns (tokens, passthrough lines).  origin_line(file, line), when
    given, returns a line of an original file (for the columns of the
    preprocessor's output)."""
    tokens: List[Token] = []
    passthrough: List[PassThrough] = []
    pending: List[Comment] = []
    i = 0
    line = 1
    line_start = 0
    n = len(text)
    cur_file = filename
    system = False  # inside a system header
    # Column search state, per output line: where the last token ended in
    # the original line.
    col_line = [-1, 0]

    def loc_at(pos: int) -> Loc:
        return Loc(cur_file, line, pos - line_start + 1)

    def token_loc(pos: int, lit: str) -> Loc:
        loc = loc_at(pos)
        if origin_line is None:
            return loc
        src = origin_line(cur_file, line)
        if src is None:
            return loc
        if col_line[0] != line_start:
            col_line[0], col_line[1] = line_start, 0
        k = src.find(lit, col_line[1])
        if k < 0:
            return loc  # made by a macro: the preprocessor's column
        col_line[1] = k + len(lit)
        return Loc(cur_file, line, k + 1)

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
            j = text.find("\n", i)
            j = n if j < 0 else j
            directive = text[i:j]
            m = _LINE_MARKER.match(directive)
            if m and origin_line is not None:
                # the line after the marker is line m.group(1) of the file
                line = int(m.group(1)) - 1
                if m.group(2) is not None:
                    cur_file = _unescape(m.group(2))
                    system = "3" in m.group(3).split()
                i = j
                continue
            if _IGNORED_DIRECTIVE.match(directive) and origin_line is not None:
                i = j
                continue
            raise XdrError(loc_at(i), "C preprocessor directive in a file that was not "
                           "preprocessed")
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            if j < 0:
                raise XdrError(loc_at(i), "unterminated comment")
            start = loc_at(i)
            body = text[i:j + 2]
            nl = body.count("\n")
            if not system:
                pending.append(Comment(body, start, line + nl))
            if nl:
                line += nl
                line_start = i + body.rfind("\n") + 1
            i = j + 2
            continue
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            if not system:
                pending.append(Comment(text[i:j], loc_at(i), line))
            i = j
            continue
        if c == '"':
            j = i + 1
            while j < n and text[j] not in '"\n':
                j += 1
            if j >= n or text[j] != '"':
                raise XdrError(loc_at(i), "unterminated string")
            lit = text[i:j + 1]
            tokens.append(Token("string", lit, token_loc(i, lit), line, pending))
            pending = []
            i = j + 1
            continue
        start = i
        if _is_ident_start(c):
            while i < n and _is_ident_char(text[i]):
                i += 1
            tokens.append(Token("ident", text[start:i], token_loc(start, text[start:i]), line,
                                pending))
            pending = []
            continue
        if c.isdigit():
            while i < n and (_is_ident_char(text[i])):
                i += 1
            lit = text[start:i]
            loc = token_loc(start, lit)
            tokens.append(Token("number", lit, loc, line, pending, _parse_number(lit, loc)))
            pending = []
            continue
        if c in PUNCT:
            tokens.append(Token("punct", c, token_loc(start, c), line, pending))
            pending = []
            i += 1
            continue
        raise XdrError(token_loc(i, c), f"unexpected character {c!r}")
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
