# SPDX-License-Identifier: LGPL-2.1-or-later
"""virtwire-gen diff: what changed between two versions of a protocol.

Both versions are parsed and resolved like the generator does; the two
models (the generator's IR: ir.py's definitions and declarations, resolved
by resolve.py) are then compared program by program, procedure by
procedure, type by type and constant by constant. Every change is
classified as wire-compatible or wire-INCOMPATIBLE by a rule of compat.py,
the one table of them (also printed by `virtwire-gen diff --help`).
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import sys
import textwrap
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Set, Tuple

from . import compat
from .compat import INCOMPAT, SAME
from .ir import Decl, Enum, Loc, ProcInfo, Spec, Struct, TypeRef, Typedef, Union, XdrError
from .libvirt import find as find_module
from .parser import parse_file
from .preprocess import CppOptions
from .resolve import Model
from .tables import DEFAULT_CONSTANTS, DEFAULT_OVERRIDES, read_constants, read_overrides

PRIM_SRC = {
    "int": "int", "uint": "unsigned int", "hyper": "hyper", "uhyper": "unsigned hyper",
    "float": "float", "double": "double", "quadruple": "quadruple", "bool": "bool",
    "char": "char", "uchar": "unsigned char", "short": "short", "ushort": "unsigned short",
}

# Integer-like kinds: (encoded size, lowest value, highest value).
INT_RANGES = {
    "int": (4, -2**31, 2**31 - 1), "uint": (4, 0, 2**32 - 1),
    "char": (4, -2**7, 2**7 - 1), "uchar": (4, 0, 2**8 - 1),
    "short": (4, -2**15, 2**15 - 1), "ushort": (4, 0, 2**16 - 1),
    "hyper": (8, -2**63, 2**63 - 1), "uhyper": (8, 0, 2**64 - 1),
}

ANON = re.compile(r"^(.+)_anon[0-9]+$")

# Annotations whose effect is compared as a procedure fact instead.
FACT_KEYS = {"priority": "priority", "readstream": "stream from server",
             "writestream": "stream to server", "sparseflag": "sparse stream flag"}


# ---------------------------------------------------------------------------
# Results


@dataclass
class Item:
    """One detail of a changed entry."""

    text: str
    level: int  # COMPAT or INCOMPAT
    why: Optional[str] = None
    same_encoding: bool = False  # a change of names only

    def to_json(self):
        return {"text": self.text, "compatible": self.level != INCOMPAT, "reason": self.why}


@dataclass
class Entry:
    """One added, removed or changed program, procedure, type or constant."""

    section: str  # "program", "procedure", "type", "constant"
    change: str  # "added", "removed", "changed"
    name: str
    text: str  # the line, without sign and verdict
    level: Optional[int]  # COMPAT or INCOMPAT; None for constants
    why: Optional[str] = None
    items: List[Item] = field(default_factory=list)
    extra: Dict[str, object] = field(default_factory=dict)
    used_by: List[str] = field(default_factory=list)
    sort_key: tuple = ()

    @property
    def incompatible(self) -> bool:
        return self.level == INCOMPAT


@dataclass
class FileDiff:
    label: str
    old: Optional[str]
    new: Optional[str]
    entries: List[Entry]
    rules: Set[str] = field(default_factory=set)  # compat.RULES keys that decided something

    @property
    def incompatible(self) -> int:
        return sum(1 for e in self.entries if e.incompatible)

    @property
    def status(self) -> str:
        if self.old is None:
            return "added"
        if self.new is None:
            return "removed"
        return "changed" if self.entries else "unchanged"


def worst(levels) -> int:
    return max(levels, default=SAME)


# ---------------------------------------------------------------------------
# Encodings, read off the IR's declarations (ir.Decl). A declaration's type
# as a typedef name is kept by name, so that two uses of one typedef
# compare equal without looking inside; procedure messages and array
# elements are compared as declarations made for them (no name).

NOWHERE = Loc("", 0, 0)


def named(name: Optional[str]) -> Decl:
    """A procedure's args/ret/msg: a declaration of that type, or void."""
    if name is None:
        return Decl(TypeRef("void", NOWHERE), None, "void", NOWHERE)
    return Decl(TypeRef("named", NOWHERE, name), None, "scalar", NOWHERE)


def element(d: Decl) -> Decl:
    """One element of an array or optional declaration."""
    return Decl(d.type, None, "scalar", d.loc)


def encoding(d: Decl) -> str:
    """The shape of a declaration's encoding: prim, named, fixed, var (a
    variable-length array, optional data included), opaque_fixed,
    opaque_var, string or void."""
    k = d.type.kind
    if d.shape == "void":
        return "void"
    if k == "opaque":
        return "opaque_fixed" if d.shape == "fixed" else "opaque_var"
    if k == "string":
        return "string"
    if d.shape == "scalar":
        return "named" if k == "named" else "prim"
    return "fixed" if d.shape == "fixed" else "var"


def length(d: Decl) -> Optional[int]:
    """A fixed length or a bound (None: unbounded); optional data is an
    array of at most one."""
    if d.shape == "optional":
        return 1
    return d.size.resolved if d.size is not None else None


def type_src(d: Decl) -> str:
    """A declaration's type as written, without its name."""
    k = d.type.kind
    size = str(d.size) if d.size is not None else ""
    base = PRIM_SRC.get(k) or (d.type.name if k == "named" else k)
    if d.shape == "void":
        return "void"
    if d.shape == "scalar":
        return base
    if d.shape == "optional":
        return base + " *"
    if d.shape == "fixed":
        return f"{base}[{size}]"
    return f"{base}<{size}>"


def decl_src(d: Decl) -> str:
    if d.shape == "void":
        return "void"
    if d.shape == "optional":
        return f"{type_src(d)}{d.name}"
    t = type_src(d)
    if d.shape == "scalar":
        return f"{t} {d.name}"
    cut = t.index("[") if d.shape == "fixed" else t.index("<")
    return f"{t[:cut]} {d.name}{t[cut:]}"


def kind_word(t) -> str:
    return {Enum: "enum", Struct: "struct", Union: "union", Typedef: "typedef"}[type(t)]


# ---------------------------------------------------------------------------
# Comparing two models


class Comparer:
    def __init__(self, old: Model, new: Model):
        self.old = old
        self.new = new
        self._busy: Set[Tuple[str, str]] = set()
        self.fired: Set[str] = set()  # the rules that decided something

    def rule(self, key: str, **fields) -> Tuple[int, Optional[str]]:
        """compat.verdict(), noting which rules were used."""
        self.fired.add(key)
        return compat.verdict(key, **fields)

    def item(self, text: str, key: str, same_encoding: bool = False, **fields) -> Item:
        level, why = self.rule(key, **fields)
        return Item(text, level, why, same_encoding)

    @staticmethod
    def is_anon(m: Model, name: str) -> bool:
        mt = ANON.match(name)
        return bool(mt) and isinstance(m.types.get(mt.group(1)), (Struct, Union))

    # -- descriptions --------------------------------------------------------
    def desc(self, m: Model, d: Decl) -> str:
        enc = encoding(d)
        if enc == "prim":
            return PRIM_SRC[d.type.kind]
        if enc == "void":
            return "void"
        if enc == "named":
            name = d.type.name
            t = m.types.get(name)
            if t is not None and self.is_anon(m, name):
                return kind_word(t) + " {...}"
            return f"{kind_word(t)} {name}" if isinstance(t, (Enum, Struct, Union)) else name
        n = length(d)
        b = "" if n is None else str(n)
        if enc == "opaque_fixed":
            return f"opaque[{b}]"
        if enc == "opaque_var":
            return f"opaque<{b}>"
        if enc == "string":
            return f"string<{b}>"
        e = self.desc(m, element(d))
        if enc == "fixed":
            return f"{e}[{b}]"
        return f"{e} *" if d.shape == "optional" else f"{e}<{b}>"

    # -- values of integer-like types ---------------------------------------
    @staticmethod
    def int_values(m: Model, d: Decl):
        """(size, values) for integer-like types, values a (lo, hi) range or
        a frozenset; None for other types."""
        enc = encoding(d)
        if enc == "prim":
            if d.type.kind in INT_RANGES:
                size, lo, hi = INT_RANGES[d.type.kind]
                return size, (lo, hi)
            if d.type.kind == "bool":
                return 4, frozenset((0, 1))
            return None
        if enc == "named" and isinstance(m.types.get(d.type.name), Enum):
            return 4, frozenset(mb.resolved for mb in m.types[d.type.name].members)
        return None

    @staticmethod
    def subset(a, b) -> bool:
        if isinstance(a, tuple) and isinstance(b, tuple):
            return b[0] <= a[0] and a[1] <= b[1]
        if isinstance(a, frozenset) and isinstance(b, tuple):
            return all(b[0] <= v <= b[1] for v in a)
        if isinstance(a, frozenset) and isinstance(b, frozenset):
            return a <= b
        return a[1] - a[0] < len(b) and all(v in b for v in range(a[0], a[1] + 1))

    # -- the comparison ------------------------------------------------------
    @staticmethod
    def expand(m: Model, d: Decl) -> Decl:
        """A typedef name replaced by what it names (repeatedly)."""
        seen = set()
        while (encoding(d) == "named" and isinstance(m.types.get(d.type.name), Typedef)
               and d.type.name not in seen):
            seen.add(d.type.name)
            d = m.types[d.type.name].decl
        return d

    def compare(self, o: Decl, n: Decl) -> Tuple[int, Optional[str]]:
        """How a value of old declaration o fares as new declaration n:
        (level, why)."""
        om, nm = self.old, self.new
        oe, ne = encoding(o), encoding(n)
        if (oe == ne == "named" and o.type.name == n.type.name
                and not self.is_anon(om, o.type.name) and not self.is_anon(nm, n.type.name)):
            return SAME, None  # its own changes are reported at its definition
        o2, n2 = self.expand(om, o), self.expand(nm, n)
        if o2 is not o or n2 is not n:
            return self.compare(o2, n2)
        oi, ni = self.int_values(om, o), self.int_values(nm, n)
        if oi and ni:
            od, nd = self.desc(om, o), self.desc(nm, n)
            if oi[0] != ni[0]:
                return self.rule("other-size", old=oi[0], new=ni[0])
            if oi[1] == ni[1]:
                return SAME, None
            if self.subset(oi[1], ni[1]):
                return self.rule("holds-every-value", old=od, new=nd)
            if isinstance(oi[1], frozenset) and isinstance(ni[1], frozenset):
                lost = sorted(oi[1] - ni[1])
                values = (f"value{'s' if len(lost) > 1 else ''} "
                          + ", ".join(str(v) for v in lost[:5]) + (", ..." if len(lost) > 5 else ""))
                return self.rule("enum-lacks-values", new=nd, values=values)
            return self.rule("lacks-values", old=od, new=nd)
        if oe == ne == "prim":
            if o.type.kind == n.type.kind:
                return SAME, None
            return self.rule("other-encoding")
        if oe == ne == "named":
            od, nd = self.old.types[o.type.name], self.new.types[n.type.name]
            if type(od) is not type(nd):
                return self.rule("construct-changed", old=kind_word(od), new=kind_word(nd))
            key = (o.type.name, n.type.name)
            if key in self._busy:
                return SAME, None  # recursion: decided by the outer comparison
            self._busy.add(key)
            try:
                items = self.def_items(od, nd)
            finally:
                self._busy.discard(key)
            level = worst(i.level for i in items if not i.same_encoding)
            if level == INCOMPAT:
                first = next(i for i in items if i.level == INCOMPAT)
                return INCOMPAT, first.text + (f" ({first.why})" if first.why else "")
            return level, "; ".join(i.text + (f" ({i.why})" if i.why else "")
                                    for i in items if not i.same_encoding) or None
        if oe == ne == "void":
            return SAME, None
        if oe == ne == "opaque_fixed" or oe == ne == "fixed":
            if length(o) != length(n):
                return self.rule("fixed-length", old=length(o), new=length(n))
            if oe == "opaque_fixed":
                return SAME, None
            return self.compare(element(o), element(n))
        vark = {"var", "string", "opaque_var"}
        if oe in vark and ne in vark and (oe == "var") == (ne == "var"):
            levels, whys = [], []
            if oe == "var":
                lv, why = self.compare(element(o), element(n))
            elif oe == ne:
                lv, why = SAME, None
            elif oe == "string":
                lv, why = self.rule("string-to-opaque")
            else:
                lv, why = self.rule("opaque-to-string")
            levels.append(lv)
            if why:
                whys.append(why)
            lv, why = self.bound(length(o), length(n))
            levels.append(lv)
            if why:
                whys.append(why)
            level = worst(levels)
            if level == INCOMPAT:
                whys = [w for w, l in zip(whys, [x for x in levels if x]) if l == INCOMPAT] or whys
            return level, "; ".join(whys) or None
        return self.rule("other-encoding")

    def bound(self, o: Optional[int], n: Optional[int]) -> Tuple[int, Optional[str]]:
        if o == n:
            return SAME, None
        if o is None:
            return self.rule("bound-set", new=n)
        if n is None:
            return self.rule("bound-removed", old=o)
        if n > o:
            return self.rule("bound-raised", old=o, new=n)
        return self.rule("bound-lowered", old=o, new=n)

    def decl_item(self, label: str, od: Decl, nd: Decl) -> Optional[Item]:
        """The change of one member's type, or None."""
        level, why = self.compare(od, nd)
        os_, ns = type_src(od), type_src(nd)
        if self.is_anon_decl(self.old, od) or self.is_anon_decl(self.new, nd):
            os_, ns = self.desc(self.old, od), self.desc(self.new, nd)
        if level == SAME:
            if os_ == ns:
                return None
            return self.item(f"{label}: {os_} -> {ns}", "same-encoding", same_encoding=True)
        text = f"{label}: {os_} -> {ns}" if os_ != ns else f"{label}: {os_}"
        return Item(text, level, why)

    def is_anon_decl(self, m: Model, d: Decl) -> bool:
        return d.type.kind == "named" and self.is_anon(m, d.type.name)

    def retyped(self, text: str, level: int, why: Optional[str]) -> Item:
        """A change of what a name stands for (a message's type, a typedef
        for a struct): as compatible as its encoding's change, and at least
        reported."""
        if level == SAME:
            return self.item(text, "same-encoding", same_encoding=True)
        return Item(text, level, why)

    # -- definitions ---------------------------------------------------------
    def def_items(self, od, nd) -> List[Item]:
        """What changed in a definition; od and nd of one kind, or any two
        kinds when one is a typedef (compared by encoding)."""
        if isinstance(od, Struct) and isinstance(nd, Struct):
            return self.struct_items(od, nd)
        if isinstance(od, Union) and isinstance(nd, Union):
            return self.union_items(od, nd)
        if isinstance(od, Enum) and isinstance(nd, Enum):
            return self.enum_items(od, nd)
        if isinstance(od, Typedef) and isinstance(nd, Typedef):
            it = self.decl_item("type", od.decl, nd.decl)
            return [it] if it else []
        if not isinstance(od, Typedef) and not isinstance(nd, Typedef):
            # struct, union or enum for another of them: not compared by
            # their bytes
            return [self.item(f"{kind_word(od)} -> {kind_word(nd)}", "construct-changed",
                              old=kind_word(od), new=kind_word(nd))]
        o = od.decl if isinstance(od, Typedef) else named(od.name)
        n = nd.decl if isinstance(nd, Typedef) else named(nd.name)
        if encoding(o) == encoding(n) == "named" and o.type.name == n.type.name:
            # typedef foo <-> struct foo: compare the bodies themselves
            o, n = self.expand(self.old, o), self.expand(self.new, n)
            if encoding(o) == encoding(n) == "named" and o.type.name == n.type.name:
                level, why = SAME, None
            else:
                level, why = self.compare(o, n)
        else:
            level, why = self.compare(o, n)
        return [self.retyped(f"{kind_word(od)} -> {kind_word(nd)}", level, why)]

    def struct_items(self, o: Struct, n: Struct) -> List[Item]:
        items: List[Item] = []
        on, nn = [f.name for f in o.fields], [f.name for f in n.fields]
        removed, added = [], []
        sm = difflib.SequenceMatcher(None, on, nn, autojunk=False)
        for tag, i1, i2, j1, j2 in sm.get_opcodes():
            if tag == "equal" or (tag == "replace" and i2 - i1 == j2 - j1):
                for a, b in zip(o.fields[i1:i2], n.fields[j1:j2]):
                    if a.name != b.name:
                        items.append(self.item(f"member {a.name} renamed to {b.name}",
                                               "member-renamed", same_encoding=True))
                    it = self.decl_item(f"member {b.name}", a, b)
                    if it:
                        items.append(it)
                continue
            removed += [(i, o.fields[i]) for i in range(i1, i2)]
            added += [(j, n.fields[j]) for j in range(j1, j2)]
        moved = {f.name for _, f in removed} & {f.name for _, f in added}
        for i, f in removed:
            if f.name in moved:
                j, g = next((j, g) for j, g in added if g.name == f.name)
                items.append(self.item(f"member {f.name} moved from position {i + 1} to {j + 1}",
                                       "member-moved"))
                it = self.decl_item(f"member {f.name}", f, g)
                if it:
                    items.append(it)
            else:
                items.append(self.item(f"member removed: {decl_src(f)}", "member-removed"))
        for j, g in added:
            if g.name not in moved:
                items.append(self.item(f"member added: {decl_src(g)} (position {j + 1})",
                                       "member-added"))
        return items

    @staticmethod
    def case_label(v) -> str:
        return str(v) if v.name is None else f"{v.name} ({v.resolved})"

    def union_items(self, o: Union, n: Union) -> List[Item]:
        items: List[Item] = []
        if o.discriminant.name != n.discriminant.name:
            items.append(self.item(f"discriminant {o.discriminant.name} renamed to "
                                   f"{n.discriminant.name}", "discriminant-renamed",
                                   same_encoding=True))
        it = self.decl_item(f"discriminant {n.discriminant.name}", o.discriminant, n.discriminant)
        if it:
            items.append(it)

        def cases(u: Union):
            """Arms by the discriminant's word on the wire."""
            out = {}
            for idx, arm in enumerate(u.arms):
                for c in arm.cases:
                    out[c.resolved & 0xFFFFFFFF] = (idx, arm, c)
            return out

        oc, nc = cases(o), cases(n)
        groups: Dict[tuple, List[str]] = {}
        order: List[tuple] = []

        def add(key, label):
            if key not in groups:
                groups[key] = []
                order.append(key)
            groups[key].append(label)

        for v in sorted(set(oc) | set(nc)):
            if v in oc and v in nc:
                add(("both", oc[v][0], nc[v][0]), self.case_label(nc[v][2]))
            elif v in oc:
                add(("old", oc[v][0]), self.case_label(oc[v][2]))
            else:
                add(("new", nc[v][0]), self.case_label(nc[v][2]))
        for key in order:
            labels = "case " + ", ".join(groups[key])
            if key[0] == "both":
                a, b = o.arms[key[1]].decl, n.arms[key[2]].decl
                items += self.arm_items(labels, a, b)
            elif key[0] == "old":
                a = o.arms[key[1]].decl
                if n.default is None:
                    items.append(self.item(f"{labels} removed", "case-removed"))
                else:
                    items += self.arm_items(f"{labels} now takes the default arm", a,
                                            n.default.decl, renames=False)
            else:
                b = n.arms[key[1]].decl
                if o.default is None:
                    items.append(self.item(f"{labels} added", "case-added"))
                else:
                    items += self.arm_items(f"{labels} was the default arm", o.default.decl, b,
                                            renames=False)
        if o.default and not n.default:
            items.append(self.item("default arm removed", "default-removed"))
        elif n.default and not o.default:
            items.append(self.item("default arm added", "default-added"))
        elif o.default and n.default:
            items += self.arm_items("default arm", o.default.decl, n.default.decl)
        return items

    def arm_items(self, label: str, a: Decl, b: Decl, renames: bool = True) -> List[Item]:
        out = []
        if renames and a.name != b.name and not a.is_void and not b.is_void:
            out.append(self.item(f"{label}: arm {a.name} renamed to {b.name}", "arm-renamed",
                                 same_encoding=True))
        it = self.decl_item(label, a, b)
        if it:
            out.append(it)
        elif not renames:
            out.append(self.item(label, "same-encoding", same_encoding=True))
        return out

    def enum_items(self, o: Enum, n: Enum) -> List[Item]:
        items: List[Item] = []
        ov = {m.name: m.resolved for m in o.members}
        nv = {m.name: m.resolved for m in n.members}
        n_by_value: Dict[int, List[str]] = {}
        for m in n.members:
            n_by_value.setdefault(m.resolved, []).append(m.name)
        renamed_to: Set[str] = set()
        for m in o.members:
            if m.name in nv:
                if nv[m.name] != m.resolved:
                    items.append(self.item(f"{m.name} renumbered from {m.resolved} to "
                                           f"{nv[m.name]}", "enum-value-renumbered"))
                continue
            new_names = [x for x in n_by_value.get(m.resolved, []) if x not in ov]
            if new_names:
                items.append(self.item(f"{m.name} renamed to {new_names[0]} ({m.resolved})",
                                       "enum-value-renamed", same_encoding=True))
                renamed_to.add(new_names[0])
            elif m.resolved in n_by_value:
                items.append(self.item(f"{m.name} removed ({m.resolved} stays as "
                                       f"{n_by_value[m.resolved][0]})", "enum-alias-removed",
                                       same_encoding=True))
            else:
                items.append(self.item(f"{m.name} = {m.resolved} removed", "enum-value-removed"))
        old_values = set(ov.values())
        for m in n.members:
            if m.name in ov or m.name in renamed_to:
                continue
            alias = " (a second name for a value)" if m.resolved in old_values else ""
            items.append(self.item(f"{m.name} = {m.resolved} added{alias}", "enum-value-added"))
        return items


# ---------------------------------------------------------------------------
# Procedures


def proc_facts(pr: ProcInfo) -> Dict[str, object]:
    ann, ov = pr.annotations, pr.overrides
    return {
        "priority": "high" if any(v.strip() == "high" for v in ann.get("priority", []))
        else "normal",
        "stream from server": "readstream" in ann or ov.get("stream") in ("read", "both"),
        "stream to server": "writestream" in ann or ov.get("stream") in ("write", "both"),
        "sparse stream flag": ann["sparseflag"][-1] if ann.get("sparseflag") else None,
        "fds in the call": ov.get("fds") in ("call", "both"),
        "fds in the reply": ov.get("fds") in ("reply", "both"),
    }


def proc_signature(pr: ProcInfo) -> str:
    parts = [f"args {pr.args}" if pr.args else "no args"]
    if pr.ret:
        parts.append(f"ret {pr.ret}")
    if pr.msg:
        parts.append(f"msg {pr.msg}")
    return ", ".join(parts)


def fmt_values(vals: Optional[List[str]]) -> str:
    return ", ".join(vals) if vals else "(none)"


class FileComparer:
    def __init__(self, label: str, old_path: Optional[str], new_path: Optional[str],
                 old: Model, new: Model):
        self.label = label
        self.old_path, self.new_path = old_path, new_path
        self.old, self.new = old, new
        self.cmp = Comparer(old, new)
        self.entries: List[Entry] = []
        self.both_procs: List[Tuple[ProcInfo, ProcInfo, str]] = []  # (old, new, program)

    def run(self) -> FileDiff:
        self.programs()
        self.types()
        self.entries.extend(constants_entries(self.old, self.new))
        return FileDiff(self.label, self.old_path, self.new_path, self.entries, self.cmp.fired)

    # -- programs and procedures --------------------------------------------
    def programs(self):
        op = {p.name: p for p in self.old.programs}
        np_ = {p.name: p for p in self.new.programs}
        order = [p.name for p in self.new.programs] + \
            [p.name for p in self.old.programs if p.name not in np_]
        for pi, name in enumerate(order):
            o, n = op.get(name), np_.get(name)
            head = f"program {name}"
            if o is None or n is None:
                what, p = ("added", n) if o is None else ("removed", o)
                level, why = self.cmp.rule("program-" + what)
                self.entries.append(Entry("program", what, name,
                                          f"{head} (number 0x{p.number:x}, version {p.version})",
                                          level, why,
                                          extra={"number": p.number, "version": p.version},
                                          sort_key=(0, pi, 0, 0, "")))
            else:
                items = []
                if o.number != n.number:
                    items.append(self.cmp.item(f"number 0x{o.number:x} -> 0x{n.number:x}",
                                               "program-number"))
                if o.version != n.version:
                    items.append(self.cmp.item(f"version {o.version} -> {n.version}",
                                               "program-version"))
                if items:
                    self.entries.append(Entry("program", "changed", name, head,
                                              worst(i.level for i in items),
                                              items=items, sort_key=(0, pi, 0, 0, ""),
                                              extra={"number": n.number, "version": n.version,
                                                     "old_number": o.number,
                                                     "old_version": o.version}))
            self.procedures(name, pi, o.procs if o else [], n.procs if n else [])

    def procedures(self, prog: str, pi: int, olds: List[ProcInfo], news: List[ProcInfo]):
        o_by_name = {p.name: p for p in olds}
        n_by_name = {p.name: p for p in news}
        pairs = []
        for p in olds:
            if p.name in n_by_name:
                pairs.append((p, n_by_name[p.name]))
        paired_o = {a.name for a, _ in pairs}
        paired_n = {b.name for _, b in pairs}
        n_by_num = {p.number: p for p in news if p.name not in paired_n}
        for p in olds:
            if p.name not in paired_o and p.number in n_by_num:
                q = n_by_num.pop(p.number)
                pairs.append((p, q))
                paired_o.add(p.name)
                paired_n.add(q.name)

        def entry(change, name, text, verdict, items=None, number=0, extra=None):
            level, why = verdict
            self.entries.append(Entry("procedure", change, name, text, level, why, items or [],
                                      extra=dict({"program": prog}, **(extra or {})),
                                      sort_key=(0, pi, 1, number, name)))

        for p in news:
            if p.name not in paired_n:
                entry("added", p.name,
                      f"procedure {prog} {p.number} {p.name} ({proc_signature(p)})",
                      self.cmp.rule("procedure-added"), number=p.number, extra=self.proc_json(p))
        for p in olds:
            if p.name not in paired_o:
                entry("removed", p.name, f"procedure {prog} {p.number} {p.name}",
                      self.cmp.rule("procedure-removed"), number=p.number,
                      extra=self.proc_json(p))
        for a, b in pairs:
            items = []
            if a.number != b.number:
                items.append(self.cmp.item(f"renumbered from {a.number} to {b.number}",
                                           "procedure-renumbered"))
            if a.name != b.name:
                items.append(self.cmp.item(f"renamed from {a.name}", "procedure-renamed"))
            for role in ("args", "ret", "msg"):
                ot, nt = getattr(a, role), getattr(b, role)
                if ot == nt:
                    continue
                level, why = self.cmp.compare(named(ot), named(nt))
                items.append(self.cmp.retyped(f"{role}: {ot or 'void'} -> {nt or 'void'}",
                                              level, why))
            items += self.fact_items(a, b)
            if items:
                extra = self.proc_json(b)
                if a.name != b.name:
                    extra["old_name"] = a.name
                if a.number != b.number:
                    extra["old_number"] = a.number
                entry("changed", b.name, f"procedure {prog} {b.number} {b.name}",
                      (worst(i.level for i in items), None), items=items, number=b.number,
                      extra=extra)
            self.both_procs.append((a, b, prog))

    @staticmethod
    def proc_json(p: ProcInfo) -> Dict[str, object]:
        return {"number": p.number, "args": p.args, "ret": p.ret, "msg": p.msg}

    def fact_items(self, a: ProcInfo, b: ProcInfo) -> List[Item]:
        items = []
        fa, fb = proc_facts(a), proc_facts(b)
        changed_facts = set()
        for key in fa:
            x, y = fa[key], fb[key]
            if x == y:
                continue
            changed_facts.add(key)
            if key == "priority":
                items.append(self.cmp.item(f"priority {x} -> {y}", "priority"))
            elif key == "sparse stream flag":
                if y is None:
                    items.append(self.cmp.item(f"sparse stream flag {x} removed",
                                               "sparseflag-removed"))
                elif x is None:
                    items.append(self.cmp.item(f"sparse stream flag {y} added",
                                               "sparseflag-added"))
                else:
                    items.append(self.cmp.item(f"sparse stream flag {x} -> {y}",
                                               "sparseflag-changed"))
            elif key.startswith("stream"):
                items.append(self.cmp.item(f"{key} {'added' if y else 'removed'}", "stream"))
            else:
                what = "CALL_WITH_FDS" if key == "fds in the call" else "REPLY_WITH_FDS"
                items.append(self.cmp.item(f"{key} {'added' if y else 'removed'}", "fds",
                                           what=what))
        for key in sorted(set(a.annotations) | set(b.annotations)):
            x, y = a.annotations.get(key), b.annotations.get(key)
            if x == y or FACT_KEYS.get(key) in changed_facts:
                continue
            items.append(self.cmp.item(f"@{key}: {fmt_values(x)} -> {fmt_values(y)}",
                                       "annotation"))
        if a.tags != b.tags:
            items.append(self.cmp.item(f"tags: {fmt_values(a.tags)} -> {fmt_values(b.tags)}",
                                       "tags"))
        return items

    # -- types ---------------------------------------------------------------
    def local_types(self, m: Model) -> Dict[str, object]:
        prog_enums = {p.loc for p in m.programs}
        return {d.name: d for d in m.spec.types()
                if not self.cmp.is_anon(m, d.name)
                and not (isinstance(d, Enum) and d.loc in prog_enums)}

    def types(self):
        ot, nt = self.local_types(self.old), self.local_types(self.new)
        incompatible: List[Entry] = []
        for name in sorted(set(ot) | set(nt)):
            o, n = ot.get(name), nt.get(name)
            key = (1, name)
            if o is None:
                level, why = self.cmp.rule("type-added")
                self.entries.append(Entry("type", "added", name, f"{kind_word(n)} {name}", level,
                                          why, extra={"kind": kind_word(n)}, sort_key=key))
                continue
            if n is None:
                level, why = self.cmp.rule("type-removed")
                e = Entry("type", "removed", name, f"{kind_word(o)} {name}", level, why,
                          extra={"kind": kind_word(o)}, sort_key=key)
                self.entries.append(e)
                incompatible.append(e)
                continue
            items = self.cmp.def_items(o, n)
            if not items:
                continue
            e = Entry("type", "changed", name, f"{kind_word(n)} {name}",
                      worst(i.level for i in items),
                      items=items, extra={"kind": kind_word(n)}, sort_key=key)
            self.entries.append(e)
            if e.incompatible:
                incompatible.append(e)
        self.incompatible_types = incompatible

    def used_by(self, bad: Set[Tuple[str, str]]) -> Dict[Tuple[str, str], List[str]]:
        """For each incompatible type in bad, given as (file base name, type
        name) from every file compared, the procedures of this file present
        in both versions whose messages contain it."""
        hits: Dict[Tuple[str, str], List[str]] = {}
        if not bad:
            return hits
        reach_o, reach_n = Reach(self.old), Reach(self.new)
        for a, b, prog in sorted(self.both_procs, key=lambda x: (x[2], x[1].number)):
            found = set()
            for m, r, p in ((self.old, reach_o, a), (self.new, reach_n, b)):
                for t in (p.args, p.ret, p.msg):
                    for x in r.closure(t) if t else ():
                        k = (os.path.basename(m.origin.get(x, "")), x)
                        if k in bad:
                            found.add(k)
            for k in found:
                hits.setdefault(k, []).append(f"{prog} {b.number} {b.name}")
        return hits


class Reach:
    """The named types a type's encoding contains."""

    def __init__(self, m: Model):
        self.m = m
        self.memo: Dict[str, Set[str]] = {}

    def closure(self, name: str) -> Set[str]:
        if name in self.memo:
            return self.memo[name]
        seen = {name}
        todo = [name]
        while todo:
            t = self.m.types.get(todo.pop())
            if t is None:
                continue
            for d in Model._decls_of(t):
                if d.type.kind == "named" and d.type.name not in seen:
                    seen.add(d.type.name)
                    todo.append(d.type.name)
        self.memo[name] = seen
        return seen


# ---------------------------------------------------------------------------
# Constants


def constants_entries(old: Model, new: Model) -> List[Entry]:
    # a string constant (const NAME = "text") has its literal as value
    oc = {c.name: old.consts.get(c.name, c.value.string) for c in old.local_consts}
    nc = {c.name: new.consts.get(c.name, c.value.string) for c in new.local_consts}
    out = []
    for name in sorted(set(oc) | set(nc)):
        key = (2, name)
        if name not in oc:
            out.append(Entry("constant", "added", name, f"constant {name} = {nc[name]}", None,
                             extra={"new": nc[name]}, sort_key=key))
        elif name not in nc:
            out.append(Entry("constant", "removed", name, f"constant {name} = {oc[name]}", None,
                             extra={"old": oc[name]}, sort_key=key))
        elif oc[name] != nc[name]:
            out.append(Entry("constant", "changed", name,
                             f"constant {name}: {oc[name]} -> {nc[name]}", None,
                             extra={"old": oc[name], "new": nc[name]}, sort_key=key))
    return out


# ---------------------------------------------------------------------------
# Loading


class Loader:
    def __init__(self, constants: Optional[str], overrides: Optional[str]):
        self.ext = read_constants(constants or DEFAULT_CONSTANTS)
        ov_path = overrides or DEFAULT_OVERRIDES
        self.ov = read_overrides(ov_path) if os.path.exists(ov_path) or overrides else {}
        self.specs: Dict[str, Spec] = {}

    def parse(self, path: str) -> Spec:
        """Each file is parsed once (remote_protocol.x is imported twice);
        resolving a Spec only fills in values that do not depend on who
        imports it."""
        if path not in self.specs:
            self.specs[path] = parse_file(path, cpp=CppOptions())
        return self.specs[path]

    def model(self, path: Optional[str], imports: List[str], label: str) -> Model:
        if path is None:
            return Model(Spec(label, [], []), [], self.ext, self.ov)
        specs = [self.parse(i) for i in imports]
        return Model(self.parse(path), specs, self.ext, self.ov)


def libvirt_imports(path: str) -> List[str]:
    """The files a libvirt module imports, from its own directory."""
    base = os.path.basename(path)[:-2] if path.endswith(".x") else os.path.basename(path)
    module = find_module(base)
    if module is None:
        return []
    d = os.path.dirname(path)
    return [p for p in (os.path.join(d, i + ".x") for i in module.imports) if os.path.exists(p)]


def diff_files(pairs, loader: Loader) -> List[FileDiff]:
    """pairs: (label, old path or None, new path or None, old imports,
    new imports)."""
    done = []
    for label, op, np_, oi, ni in pairs:
        old = loader.model(op, oi, label)
        new = loader.model(np_, ni, label)
        fc = FileComparer(label, op, np_, old, new)
        done.append((fc, fc.run()))
    # an incompatible type of one file may be used by another file's
    # procedures (qemu_protocol.x uses remote_protocol.x's types)
    by_key: Dict[Tuple[str, str], Entry] = {}
    for fc, _ in done:
        for e in fc.incompatible_types:
            m = fc.old if e.change == "removed" else fc.new
            by_key[(os.path.basename(m.origin[e.name]), e.name)] = e
    for fc, fd in done:
        for k, procs in fc.used_by(set(by_key)).items():
            by_key[k].used_by += procs
        fd.entries.sort(key=lambda e: e.sort_key)
    return [fd for _, fd in done]


# ---------------------------------------------------------------------------
# Output


def verdict(fd: FileDiff) -> str:
    n = len(fd.entries)
    if not n:
        return "no changes"
    changes = f"{n} change{'s' if n != 1 else ''}"
    if fd.incompatible:
        return f"wire-INCOMPATIBLE, {changes} ({fd.incompatible} incompatible)"
    return f"wire-compatible, {changes}"


def mark(level: Optional[int], why: Optional[str]) -> str:
    if level == INCOMPAT:
        return f"  [INCOMPATIBLE: {why}]" if why else "  [INCOMPATIBLE]"
    return f"  ({why})" if why else ""


USED_BY_SHOWN = 8


def text_report(files: List[FileDiff], directories: bool) -> str:
    out = []
    signs = {"added": "+", "removed": "-", "changed": "~"}
    for fd in files:
        head = fd.label
        if fd.old is None:
            head += " (only in NEW)"
        elif fd.new is None:
            head += " (only in OLD)"
        out.append(f"{head}: {verdict(fd)}")
        for e in fd.entries:
            out.append(f"  {signs[e.change]} {e.text}{mark(e.level, e.why)}")
            for it in e.items:
                out.append(f"      {it.text}{mark(it.level, it.why)}")
            if e.used_by:
                shown = e.used_by[:USED_BY_SHOWN]
                more = len(e.used_by) - len(shown)
                out.append("      used by: " + ", ".join(shown)
                           + (f" and {more} more" if more else ""))
    if directories:
        changed = sum(1 for f in files if f.entries)
        bad = sum(1 for f in files if f.incompatible)
        out.append(f"{len(files)} files compared, {changed} changed: "
                   + ("wire-INCOMPATIBLE" if bad else "wire-compatible"))
    return "\n".join(out) + "\n"


def json_report(files: List[FileDiff], old: str, new: str) -> str:
    def entry(e: Entry):
        d = {"change": e.change, "name": e.name, "text": e.text,
             "compatible": None if e.level is None else e.level != INCOMPAT,
             "reason": e.why}
        d.update(e.extra)
        d["details"] = [i.to_json() for i in e.items]
        if e.section == "type":
            d["used_by"] = e.used_by
        return d

    doc = {
        "old": old, "new": new,
        "compatible": not any(f.incompatible for f in files),
        "files": [{
            "file": f.label, "old": f.old, "new": f.new, "status": f.status,
            "compatible": not f.incompatible,
            "programs": [entry(e) for e in f.entries if e.section == "program"],
            "procedures": [entry(e) for e in f.entries if e.section == "procedure"],
            "types": [entry(e) for e in f.entries if e.section == "type"],
            "constants": [entry(e) for e in f.entries if e.section == "constant"],
        } for f in files],
    }
    return json.dumps(doc, indent=2) + "\n"


# ---------------------------------------------------------------------------
# Command line


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="virtwire-gen diff",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=textwrap.fill(
            "Compare two versions of an XDR protocol: programs, procedures (number, name, "
            "args/ret/msg types, annotations, the fds and stream facts of the overrides "
            "table), types and constants, each change classified as wire-compatible or "
            "wire-INCOMPATIBLE. OLD and NEW are two .x files, or two directories whose "
            "same-named .x files are compared (a file in one only is compared with an empty "
            "one). libvirt's modules find the modules they import (qemu_protocol.x and "
            "lxc_protocol.x use remote_protocol.x) next to them.", 76) + "\n\n" + textwrap.fill(
            "Exit status: 0 when every change is wire-compatible, 1 when one is not, 2 on a "
            "usage error or a broken input (FILE:LINE:COL: error: ...).", 76),
        epilog="Rules:\n\n" + compat.rules_text())
    p.add_argument("old", metavar="OLD", help="the old .x file or directory")
    p.add_argument("new", metavar="NEW", help="the new .x file or directory")
    p.add_argument("--json", action="store_true",
                   help="print JSON instead of text: {old, new, compatible, files: [{file, old, "
                        "new, status, compatible, programs, procedures, types, constants}]}, "
                        "each entry with change (added, removed, changed), name, text, "
                        "compatible (null for constants), reason and details [{text, "
                        "compatible, reason}]; procedures with program, number, args, ret, msg "
                        "(and old_number, old_name), types with kind and used_by, constants "
                        "with their old and new values")
    p.add_argument("--constants", metavar="FILE",
                   help="table of constants the .x files use but do not define (NAME<TAB>VALUE "
                        "lines), for both versions; default: the project's protocol/constants.tsv")
    p.add_argument("--overrides", metavar="FILE",
                   help="table of per-procedure facts (fd passing, bidirectional streams), for "
                        "both versions; default: the project's protocol/overrides.tsv")
    p.add_argument("--import", dest="imports", nargs=2, action="append", default=[],
                   metavar=("OLD_OTHER.x", "NEW_OTHER.x"),
                   help="a .x file whose types and constants the compared files use, in its old "
                        "and new version (repeatable; two files only)")
    return p


class UsageError(Exception):
    pass


def plan(args) -> Tuple[list, bool]:
    old, new = args.old, args.new
    for p in (old, new):
        if not os.path.exists(p):
            raise OSError(2, "No such file or directory", p)
    od, nd = os.path.isdir(old), os.path.isdir(new)
    if od != nd:
        raise UsageError("OLD and NEW must both be .x files or both be directories")
    if not od:
        if args.imports:
            oi = [a for a, _ in args.imports]
            ni = [b for _, b in args.imports]
        else:
            oi, ni = libvirt_imports(old), libvirt_imports(new)
        bo, bn = os.path.basename(old), os.path.basename(new)
        label = bo if bo == bn else f"{bo} -> {bn}"
        return [(label, old, new, oi, ni)], False
    if args.imports:
        raise UsageError("--import applies to two files; directories use libvirt's module table")

    def xfiles(d):
        return {f for f in os.listdir(d) if f.endswith(".x") and os.path.isfile(os.path.join(d, f))}

    of, nf = xfiles(old), xfiles(new)
    if not of and not nf:
        raise UsageError(f"no .x files in {old} or {new}")
    pairs = []
    for f in sorted(of | nf):
        op = os.path.join(old, f) if f in of else None
        np_ = os.path.join(new, f) if f in nf else None
        pairs.append((f, op, np_, libvirt_imports(op) if op else [],
                      libvirt_imports(np_) if np_ else []))
    return pairs, True


def main(argv: List[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        pairs, directories = plan(args)
        files = diff_files(pairs, Loader(args.constants, args.overrides))
    except UsageError as e:
        parser.error(str(e))
    except XdrError as e:
        print(f"{e.loc}: error: {e.message}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"{e.filename or 'virtwire-gen'}: error: {e.strerror}", file=sys.stderr)
        return 2
    sys.stdout.write(json_report(files, args.old, args.new) if args.json
                     else text_report(files, directories))
    return 1 if any(f.incompatible for f in files) else 0

