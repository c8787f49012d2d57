# SPDX-License-Identifier: LGPL-2.1-or-later
"""Readers for the checked-in tables of protocol/: constants and overrides."""

from __future__ import annotations

import os
from typing import Dict

from .ir import Loc, XdrError

HERE = os.path.dirname(os.path.abspath(__file__))
PROTOCOL_DIR = os.path.normpath(os.path.join(HERE, "..", "..", "protocol"))
DEFAULT_CONSTANTS = os.path.join(PROTOCOL_DIR, "constants.tsv")
DEFAULT_OVERRIDES = os.path.join(PROTOCOL_DIR, "overrides.tsv")


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
