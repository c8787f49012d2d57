# SPDX-License-Identifier: LGPL-2.1-or-later
"""The encoders' bodies (virtwire_xdr.h, "Writers over a local position").

Each type T gets a worker

    static inline unsigned char *vw_T_encode(unsigned char *vw_w, unsigned char *vw_end,
                                             const T *v, int *vw_rc);

that writes at the position vw_w and returns the new one, or NULL with the
error in *vw_rc.  The position stays in a local from the first value to the
last.

Values whose encoding has a size the .x file fixes and that cannot fail but
for room ("plain": numbers, enums, bools, fixed opaque data, fixed arrays
and structures of them) are written with unchecked stores, and the room for
each run of consecutive plain values is checked once, before the run.  A
variable array of plain elements has the room for all of them checked with
its length.  Plain types of this file also get

    static inline unsigned char *vw_T_raw(unsigned char *vw_w, const T *v);

the unchecked store of a whole value, which the runs of other types use.

The error codes, and which one a value that has several faults gets, are
those of writing value after value with the virtwire_put_* writers: a run
can only fail for room, and the first value of a run that would not fit
fails for room there too.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Tuple

from .ir import Decl, Enum, Struct, TypeRef, Typedef, Union

# Kinds written by virtwire_raw_* (no failure but room), with their sizes.
RAW = {
    "int": ("i32", 4), "uint": ("u32", 4), "hyper": ("i64", 8), "uhyper": ("u64", 8),
    "float": ("float", 4), "double": ("double", 8), "bool": ("bool", 4),
    "char": ("i32", 4), "uchar": ("u32", 4), "short": ("i32", 4), "ushort": ("u32", 4),
}

FAIL_ROOM = "return virtwire_w_fail(vw_rc, VIRTWIRE_ENOSPACE);"


def _addr(lv: str) -> str:
    from .emit_c import addr
    return addr(lv)


def _cond(lv: str) -> str:
    from .emit_c import cond
    return cond(lv)


def _indent(lines: List[str], n: int = 1) -> List[str]:
    pad = "    " * n
    return [pad + ln if ln else ln for ln in lines]


# An item of a body: ("raw", bytes, lines) for a plain value, ("stmt", lines)
# for anything else.
Item = Tuple


def room_check(n: int) -> List[str]:
    return [f"if (VIRTWIRE_UNLIKELY((size_t)(vw_end - vw_w) < {n}u))", "    " + FAIL_ROOM]


class Encoder:
    """Encoder bodies for the types of one model; code is the DeclCode."""

    def __init__(self, model, code):
        self.m = model
        self.code = code
        self._plain: Dict[str, Optional[int]] = {}

    # -- which values are plain ---------------------------------------------
    def plain_type(self, name: str) -> Optional[int]:
        """Bytes of a plain named type, None if it is not plain.  Types of
        other files are plain only if they are enums (written as ints): their
        raw stores are not visible here."""
        if name in self._plain:
            return self._plain[name]
        self._plain[name] = None  # recursion: not plain
        node = self.m.types.get(name)
        size: Optional[int] = None
        if isinstance(node, Enum):
            size = 4
        elif name in self.code.local:
            if isinstance(node, Typedef):
                size = self.plain_decl(node.decl)
            elif isinstance(node, Struct):
                total = 0
                for f in node.fields:
                    s = self.plain_decl(f)
                    if s is None:
                        total = None
                        break
                    total += s
                size = total
        self._plain[name] = size
        return size

    def plain_elem(self, t: TypeRef) -> Optional[int]:
        if t.kind in RAW:
            return RAW[t.kind][1]
        if t.kind == "des_block":
            return 8
        if t.kind == "named":
            if self.code.string_typedef(t) is not None:
                return None
            return self.plain_type(t.name)
        return None

    def plain_decl(self, d: Decl) -> Optional[int]:
        if d.shape == "void":
            return 0
        if d.shape == "fixed":
            n = d.size.resolved
            if d.type.kind == "opaque":
                return n + (-n % 4)
            e = self.plain_elem(d.type)
            return None if e is None else e * n
        if d.shape in ("optional", "var"):
            return None
        return self.plain_elem(d.type)

    # -- unchecked stores -----------------------------------------------------
    def raw_elem(self, t: TypeRef, lv: str) -> List[str]:
        if t.kind in RAW:
            return [f"vw_w = virtwire_raw_{RAW[t.kind][0]}(vw_w, {lv});"]
        if t.kind == "des_block":
            return [f"vw_w = virtwire_raw_fixed_opaque(vw_w, {lv}.c, 8);"]
        if isinstance(self.m.types.get(t.name), Enum):
            return [f"vw_w = virtwire_raw_i32(vw_w, (int32_t){lv});"]
        return [f"vw_w = vw_{t.name}_raw(vw_w, {_addr(lv)});"]

    def raw_decl(self, d: Decl, lv: str) -> List[str]:
        if d.shape == "void":
            return []
        if d.shape == "fixed":
            if d.type.kind == "opaque":
                return [f"vw_w = virtwire_raw_fixed_opaque(vw_w, {lv}, {self.code.bound(d)});"]
            return ([f"for (unsigned int i = 0; i < {self.code.bound(d)}; i++)"]
                    + _indent(self.raw_elem(d.type, f"{lv}[i]")))
        return self.raw_elem(d.type, lv)

    # -- items ------------------------------------------------------------------
    def elem_items(self, t: TypeRef, lv: str) -> List[Item]:
        p = self.plain_elem(t)
        if p is not None:
            return [("raw", p, self.raw_elem(t, lv))]
        if t.kind in ("long", "ulong"):
            return [("stmt", [f"VIRTWIRE_WTRY(vw_w, virtwire_w_{t.kind}(vw_w, vw_end, {lv}, vw_rc));"])]
        if t.kind == "netobj":
            return [("stmt", [f"VIRTWIRE_WTRY(vw_w, virtwire_w_opaque(vw_w, vw_end, {lv}.n_bytes, "
                              f"{lv}.n_len, VIRTWIRE_NETOBJ_MAX, vw_rc));"])]
        sd = self.code.string_typedef(t)
        if sd is not None:
            return [("stmt", [f"VIRTWIRE_WTRY(vw_w, virtwire_w_string(vw_w, vw_end, {lv}, "
                              f"{self.code.bound(sd)}, vw_rc));"])]
        if t.name in self.code.local:
            return [("stmt", [f"VIRTWIRE_WTRY(vw_w, vw_{t.name}_encode(vw_w, vw_end, {_addr(lv)}, "
                              f"vw_rc));"])]
        # A type of another file: through its public encoder.
        return [("stmt", ["{",
                          "    virtwire_enc vw_e = { vw_w, vw_end };",
                          f"    if (VIRTWIRE_UNLIKELY((*vw_rc = {t.name}_encode(&vw_e, {_addr(lv)})) < 0))",
                          "        return NULL;",
                          "    vw_w = vw_e.p;",
                          "}"])]

    def decl_items(self, d: Decl, a) -> List[Item]:
        k = d.type.kind
        p = self.plain_decl(d)
        if p is not None:
            return [("raw", p, self.raw_decl(d, a.lv))] if d.shape != "void" else []
        if d.shape == "optional":
            inner = self.body(self.elem_items(d.type, f"(*{a.lv})"))
            return [("raw", 4, [f"vw_w = virtwire_raw_bool(vw_w, {a.lv} != NULL);"]),
                    ("stmt", [f"if ({_cond(a.lv)}) {{"] + _indent(inner) + ["}"])]
        if d.shape == "fixed":
            inner = self.body(self.elem_items(d.type, f"{a.lv}[i]"))
            return [("stmt", [f"for (unsigned int i = 0; i < {self.code.bound(d)}; i++) {{"]
                     + _indent(inner) + ["}"])]
        if d.shape == "var":
            bound = self.code.bound(d)
            if k == "string":
                return [("stmt", [f"VIRTWIRE_WTRY(vw_w, virtwire_w_string(vw_w, vw_end, {a.lv}, {bound}, "
                                  f"vw_rc));"])]
            if k == "opaque":
                return [("stmt", [f"VIRTWIRE_WTRY(vw_w, virtwire_w_opaque(vw_w, vw_end, {a.val}, {a.len}, "
                                  f"{bound}, vw_rc));"])]
            e = self.plain_elem(d.type)
            head = (f"VIRTWIRE_WTRY(vw_w, virtwire_w_array_len(vw_w, vw_end, {a.len}, {a.val}, {bound}, "
                    f"{e or 0}, vw_rc));")
            # Length and elements in locals: the stores to the output may
            # alias anything, and would make them reloaded each time.
            loop = [f"const {self.code.ctype(d.type)} *vw_a = {a.val};",
                    f"for (unsigned int i = 0, vw_n = {a.len}; i < vw_n; i++)"]
            if e is not None:
                # The room for every element was checked with the length.
                body = self.raw_elem(d.type, "vw_a[i]")
                return [("stmt", [head, "{"] + _indent(loop + _indent(body)) + ["}"])]
            inner = self.body(self.elem_items(d.type, "vw_a[i]"))
            return [("stmt", [head, "{"] + _indent(loop[:-1] + [loop[-1] + " {"] + _indent(inner) + ["}"])
                     + ["}"])]
        return self.elem_items(d.type, a.lv)

    # -- bodies -----------------------------------------------------------------
    @staticmethod
    def body(items: List[Item]) -> List[str]:
        """Statements for items: one room check per run of plain values."""
        out: List[str] = []
        run: List[str] = []
        size = 0

        def flush():
            nonlocal run, size
            if run:
                if size:
                    out.extend(room_check(size))
                out.extend(run)
            run, size = [], 0

        for it in items:
            if it[0] == "raw":
                size += it[1]
                run += it[2]
            else:
                flush()
                out.extend(it[1])
        flush()
        return out

    def union_body(self, u: Union, access) -> List[str]:
        disc = u.discriminant
        dp = self.plain_decl(disc)
        lead: List[Item] = []
        if dp is None:
            # Written first, on its own (a long may be out of range).
            pre = self.body(self.decl_items(disc, access(None, disc)))
        else:
            pre = []
            lead = self.decl_items(disc, access(None, disc))
        out = pre + [f"switch (v->{disc.name}) {{"]
        for arm in u.arms:
            out += [self.code_case(u, c) for c in arm.cases]
            out += _indent(self.body(lead + self.decl_items(arm.decl, access(u, arm.decl)))
                           + ["break;"])
        out.append("default:")
        if u.default:
            out += _indent(self.body(lead + self.decl_items(u.default.decl, access(u, u.default.decl)))
                           + ["break;"])
        elif dp:
            # The discriminant would have been written first: no room for it
            # is the first fault.
            out += _indent([f"return virtwire_w_fail(vw_rc, (size_t)(vw_end - vw_w) < {dp}u ? "
                            "VIRTWIRE_ENOSPACE : VIRTWIRE_EUNION);"])
        else:
            out += _indent(["return virtwire_w_fail(vw_rc, VIRTWIRE_EUNION);"])
        return out + ["}"]

    def code_case(self, u: Union, c) -> str:
        unsigned = self.m.underlying(u.discriminant.type).kind in ("uint", "ulong")
        return f"case {self.code.value(c, unsigned)}:"
