# SPDX-License-Identifier: LGPL-2.1-or-later
"""Readers for the checked-in tables of protocol/: constants, overrides and
events."""

from __future__ import annotations

import os
from typing import Dict, List, Optional, Tuple

from .ir import Loc, XdrError

HERE = os.path.dirname(os.path.abspath(__file__))
PROTOCOL_DIR = os.path.normpath(os.path.join(HERE, "..", "..", "protocol"))
DEFAULT_CONSTANTS = os.path.join(PROTOCOL_DIR, "constants.tsv")
DEFAULT_OVERRIDES = os.path.join(PROTOCOL_DIR, "overrides.tsv")
DEFAULT_EVENTS = os.path.join(PROTOCOL_DIR, "events.tsv")


def _rows(path: str):
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            yield lineno, line.split("\t")


def read_constants(path: str) -> Dict[str, int]:
    """NAME<TAB>VALUE[<TAB>where it comes from] lines."""
    out: Dict[str, int] = {}
    for lineno, cols in _rows(path):
        if len(cols) < 2:
            raise XdrError(Loc(path, lineno, 1), "expected NAME<TAB>VALUE")
        try:
            out[cols[0].strip()] = int(cols[1].strip(), 0)
        except ValueError:
            raise XdrError(Loc(path, lineno, len(cols[0]) + 2),
                           f"invalid value {cols[1]!r}") from None
    return out


OVERRIDE_KEYS = {"fds": ("call", "reply", "both"), "stream": ("read", "write", "both")}


def read_overrides(path: str) -> Dict[str, Dict[str, str]]:
    """PROCEDURE<TAB>key=value[ key=value...] lines."""
    out: Dict[str, Dict[str, str]] = {}
    for lineno, cols in _rows(path):
        if len(cols) < 2:
            raise XdrError(Loc(path, lineno, 1), "expected PROCEDURE<TAB>key=value...")
        name = cols[0].strip()
        kv = out.setdefault(name, {})
        for item in " ".join(cols[1:]).split():
            key, _, val = item.partition("=")
            if key not in OVERRIDE_KEYS or val not in OVERRIDE_KEYS[key]:
                raise XdrError(Loc(path, lineno, 1), f"unknown override {item!r}")
            kv[key] = val
    return out


class EventFamily:
    """A family row: the registration procedures of one kind of object."""

    def __init__(self, program: str, name: str, register: str, deregister: str, loc: Loc):
        self.program = program
        self.name = name
        self.register = register
        self.deregister = deregister
        self.loc = loc


class EventRow:
    """An event row: the message the daemon sends for one eventID."""

    def __init__(self, family: EventFamily, event_id: Optional[str], number: Optional[int],
                 msg: str, loc: Loc):
        self.family = family
        self.event_id = event_id  # None for a family without eventIDs
        self.number = number
        self.msg = msg
        self.loc = loc


def read_events(path: str) -> List[EventRow]:
    """family<TAB>PROGRAM<TAB>FAMILY<TAB>REGISTER<TAB>DEREGISTER and
    event<TAB>PROGRAM<TAB>FAMILY<TAB>EVENT_ID<TAB>NUMBER<TAB>MESSAGE lines."""
    families: Dict[Tuple[str, str], EventFamily] = {}
    out: List[EventRow] = []
    seen: Dict[Tuple[str, str, str], int] = {}
    for lineno, cols in _rows(path):
        cols = [c.strip() for c in cols]
        loc = Loc(path, lineno, 1)
        kind = cols[0]
        if kind == "family":
            if len(cols) != 5:
                raise XdrError(loc, "expected family<TAB>PROGRAM<TAB>FAMILY<TAB>REGISTER<TAB>"
                                    "DEREGISTER")
            key = (cols[1], cols[2])
            if key in families:
                raise XdrError(loc, f"family {cols[1]} {cols[2]} listed twice")
            families[key] = EventFamily(cols[1], cols[2], cols[3], cols[4], loc)
        elif kind == "event":
            if len(cols) != 6:
                raise XdrError(loc, "expected event<TAB>PROGRAM<TAB>FAMILY<TAB>EVENT_ID<TAB>"
                                    "NUMBER<TAB>MESSAGE")
            fam = families.get((cols[1], cols[2]))
            if fam is None:
                raise XdrError(loc, f"event of family {cols[1]} {cols[2]}, which no family row "
                                    "above declares")
            if (cols[3] == "-") != (cols[4] == "-"):
                raise XdrError(loc, "EVENT_ID and NUMBER must both be '-' or neither")
            number = None
            if cols[4] != "-":
                try:
                    number = int(cols[4], 10)
                except ValueError:
                    raise XdrError(Loc(path, lineno, len("\t".join(cols[:4])) + 2),
                                   f"invalid number {cols[4]!r}") from None
            key = (cols[1], cols[2], cols[3])
            if key in seen:
                raise XdrError(loc, f"{cols[3]} of {cols[1]} {cols[2]} listed twice "
                                    f"(line {seen[key]})")
            seen[key] = lineno
            out.append(EventRow(fam, None if cols[3] == "-" else cols[3], number, cols[5], loc))
        else:
            raise XdrError(loc, f"unknown row kind {kind!r} (family or event)")
    return out
