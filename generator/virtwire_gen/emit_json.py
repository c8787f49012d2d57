# SPDX-License-Identifier: LGPL-2.1-or-later
"""JSON conversion for tools: <base>_json.h and <base>_json.c (jansson).

For every type T of the .x file:

    json_t *T_to_json(const T *v);
    int T_from_json(const json_t *j, T *v, virtwire_json_ctx *ctx);

and a table of them, <base>_json (a virtwire_json_module), sorted by type
name.  The mapping and the helpers the generated code calls are in the
virtwire tool's virtwire_json.h.  This code links jansson, so it is
generated for the tool only, never into generated/: the codecs stay free of
dependencies.
"""

from __future__ import annotations

from typing import List, Optional, Tuple

from .emit_c import (BANNER, Access, DeclCode, ModuleEmitter, addr, cond, descriptor_name,
                     guard_name, indent, initializer)
from .cdoc import ProcDoc
from .emit_client import ClientEmitter
from .ir import Decl, Enum, Struct, TypeRef, Typedef, Union, XdrError
from .resolve import Model

PRIMITIVE_TO = {
    "int": "json_integer({})", "uint": "json_integer({})", "short": "json_integer({})",
    "ushort": "json_integer({})", "char": "json_integer({})", "uchar": "json_integer({})",
    "hyper": "json_integer({})", "uhyper": "vwj_uhyper({})", "bool": "json_boolean({})",
    "float": "vwj_real({})", "double": "vwj_real({})", "long": "json_integer({})",
    "ulong": "json_integer((json_int_t){})",
}


def c_string(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def c_text(s: str) -> str:
    """Any text as a C string literal: newlines and tabs escaped, and no
    trigraph."""
    return c_string(s).replace("\n", "\\n").replace("\t", "\\t").replace("??", "?\\?")


class JsonCode:
    """to_json expressions and from_json statements for declarations."""

    def __init__(self, model: Model):
        self.m = model
        self.c = DeclCode(model)
        self.adapters = set()  # named types used as array elements

    def is_char(self, t: TypeRef) -> bool:
        return self.m.underlying(t).kind == "char"

    def elem_adapter(self, t: TypeRef, direction: str) -> str:
        """A function converting one element through a void pointer."""
        self.unsupported(t)
        if t.kind in PRIMITIVE_TO:
            return f"vwj_{t.kind}_{direction}"
        self.adapters.add(t.name)
        return f"vw_{t.name}_{direction}"

    @staticmethod
    def unsupported(t: TypeRef):
        if t.kind in ("netobj", "des_block"):
            raise XdrError(t.loc, f"--json does not convert rpcgen's library type {t.kind}")

    # -- to_json ------------------------------------------------------------
    def elem_to(self, t: TypeRef, lv: str) -> str:
        self.unsupported(t)
        if t.kind in PRIMITIVE_TO:
            return PRIMITIVE_TO[t.kind].format(lv)
        if self.c.string_typedef(t) is not None:
            return f"vwj_string({lv})"
        return f"{t.name}_to_json({addr(lv)})"

    def to_json(self, d: Decl, a: Access) -> str:
        k = d.type.kind
        if d.shape == "optional":
            return f"({cond(a.lv)} ? {self.elem_to(d.type, f'(*{a.lv})')} : json_null())"
        if d.shape == "fixed":
            if k == "opaque" and d.size is not None and d.size.name == "VIR_UUID_BUFLEN":
                return f"vwj_uuid({a.lv})"  # as libvirt shows UUIDs
            if k == "opaque":
                return f"vwj_opaque({a.lv}, {self.c.bound(d)})"
            if self.is_char(d.type):
                return f"vwj_chars((const char *){a.lv}, {self.c.bound(d)}, 1)"
            return (f"vwj_array({a.lv}, {self.c.bound(d)}, sizeof({a.lv}[0]), "
                    f"{self.elem_adapter(d.type, 'tj')})")
        if d.shape == "var":
            if k == "string":
                return f"vwj_string({a.lv})"
            if k == "opaque":
                return f"vwj_opaque({a.val}, {a.len})"
            if self.is_char(d.type):
                return f"vwj_chars((const char *){a.val}, {a.len}, 0)"
            return (f"vwj_array({a.val}, {a.len}, sizeof(*{a.val}), "
                    f"{self.elem_adapter(d.type, 'tj')})")
        return self.elem_to(d.type, a.lv)

    # -- from_json ----------------------------------------------------------
    def elem_from(self, t: TypeRef, jx: str, lv: str) -> str:
        self.unsupported(t)
        if t.kind in PRIMITIVE_TO:
            return f"vwj_get_{t.kind}({jx}, &{lv}, ctx)"
        sd = self.c.string_typedef(t)
        if sd is not None:
            return f"vwj_get_string({jx}, &{lv}, {self.c.bound(sd)}, ctx)"
        return f"{t.name}_from_json({jx}, {addr(lv)}, ctx)"

    def from_json(self, d: Decl, a: Access, jx: str, key: Optional[str]) -> List[str]:
        """Statements filling a from the JSON value jx (may be NULL)."""
        k = d.type.kind

        def tr(expr: str) -> str:
            return f"VWJ_TRY_IN({expr}, {c_string(key)});" if key else f"VWJ_TRY({expr});"

        if d.shape == "optional":
            return ["{",
                    f"    const json_t *vw_j = {jx};",
                    "    void *vw_p;",
                    "    " + tr(f"vwj_get_optional(vw_j, &vw_p, sizeof(*{a.lv}), ctx)"),
                    f"    {a.lv} = vw_p;",
                    f"    if ({cond(a.lv)})",
                    "        " + tr(self.elem_from(d.type, "vw_j", f"(*{a.lv})")),
                    "}"]
        if d.shape == "fixed":
            if k == "opaque":
                return [tr(f"vwj_get_fixed_opaque({jx}, {a.lv}, {self.c.bound(d)}, ctx)")]
            if self.is_char(d.type):
                return [tr(f"vwj_get_fixed_chars({jx}, (char *){a.lv}, {self.c.bound(d)}, ctx)")]
            return [tr(f"vwj_get_fixed_array({jx}, {a.lv}, {self.c.bound(d)}, sizeof({a.lv}[0]), "
                       f"{self.elem_adapter(d.type, 'fj')}, ctx)")]
        if d.shape == "var":
            if k == "string":
                return [tr(f"vwj_get_string({jx}, &{a.lv}, {self.c.bound(d)}, ctx)")]
            if k == "opaque":
                return [tr(f"vwj_get_opaque({jx}, &{a.len}, &{a.val}, {self.c.bound(d)}, ctx)")]
            if self.is_char(d.type):
                return [tr(f"vwj_get_chars({jx}, &{a.len}, (char **)&{a.val}, {self.c.bound(d)}, "
                           f"ctx)")]
            return ["{",
                    "    void *vw_p;",
                    "    " + tr(f"vwj_get_array({jx}, &{a.len}, &vw_p, {self.c.bound(d)}, "
                                f"sizeof(*{a.val}), {self.elem_adapter(d.type, 'fj')}, ctx)"),
                    f"    {a.val} = vw_p;",
                    "}"]
        return [tr(self.elem_from(d.type, jx, a.lv))]


def function(sig: str, body: List[str]) -> List[str]:
    """A function definition; goto labels stay in the first column."""
    return [sig, "{"] + [ln[4:] if ln.strip() == "fail:" else ln for ln in indent(body)] + ["}", ""]


class JsonEmitter:
    """Writes <base>_json.h and <base>_json.c for one .x file."""

    def __init__(self, model: Model, base: str, src_name: str, import_bases: List[str],
                 events=None, functions=()):
        self.m = model
        self.base = base
        self.src = src_name
        self.imports = import_bases
        self.events = events
        self.functions = functions
        # The codec emitter's order: dependencies first.
        self.types = [t.node for t in ModuleEmitter(model, base, src_name, import_bases).types]
        self.code = JsonCode(model)

    @staticmethod
    def file_names(base: str) -> List[str]:
        """The files this emitter writes for the module base."""
        return [f"{base}_json.h", f"{base}_json.c"]

    @staticmethod
    def declared_names(model: Model, base: str) -> List[Tuple[str, str]]:
        """The file-scope C names the header and source define, each with
        what it is."""
        out = []
        for t in model.spec.types():
            for suffix in ("_to_json", "_from_json"):
                out.append((t.name + suffix, f"function {t.name}{suffix}"))
        out.append((base + "_json", f"JSON converter table {base}_json"))
        return out

    def outputs(self) -> List[Tuple[str, str]]:
        """(file name, text) of each file."""
        h, c = self.file_names(self.base)
        return [(h, self.header()), (c, self.source())]

    def header(self) -> str:
        guard = guard_name(self.base + "_json")
        out = [BANNER.format(src=self.src).rstrip("\n"), f"#ifndef {guard}", f"#define {guard}", "",
               '#include "virtwire_json.h"', f'#include "{self.base}.h"']
        out += [f'#include "{b}_json.h"' for b in self.imports]
        out.append("")
        for t in self.types:
            n = t.name
            out += [f"json_t *{n}_to_json(const {n} *v);",
                    f"int {n}_from_json(const json_t *j, {n} *v, virtwire_json_ctx *ctx);"]
        if self.types:
            out.append("")
        out += [f"extern const virtwire_json_module {self.base}_json;", "",
                f"#endif /* {guard} */", ""]
        return "\n".join(out)

    # -- per construct ------------------------------------------------------
    def enum(self, e: Enum) -> List[str]:
        n = e.name
        rows = [f"{{ .name = {c_string(m.name)}, .value = {m.resolved} }}," for m in e.members]
        count = f"sizeof(vw_{n}_members) / sizeof(vw_{n}_members[0])"
        return ([f"static const vwj_enum_member vw_{n}_members[] = {{"] + indent(rows) + ["};", ""]
                + [f"json_t *{n}_to_json(const {n} *v)", "{",
                   f"    return vwj_enum_to_json(vw_{n}_members, {count}, (int32_t)*v);", "}", "",
                   f"int {n}_from_json(const json_t *j, {n} *v, virtwire_json_ctx *ctx)", "{",
                   "    int32_t x;",
                   f"    VWJ_TRY(vwj_enum_from_json(j, vw_{n}_members, {count}, {c_string(n)}, "
                   "&x, ctx));",
                   f"    *v = ({n})x;",
                   "    return 0;", "}", ""])

    @staticmethod
    def keys(name: str, keys: List[str]) -> List[str]:
        return [f"static const char *const {name}[] = {{ "
                + "".join(c_string(k) + ", " for k in keys) + "NULL };"]

    def object_to(self, members) -> List[str]:
        """Statements building object o from (key, decl, access) members."""
        out = ["json_t *o = json_object();", "if (!o)", "    return NULL;"]
        for key, d, a in members:
            out += [f"if (vwj_set(o, {c_string(key)}, {self.code.to_json(d, a)}) < 0)",
                    "    goto fail;"]
        return out

    def struct(self, s: Struct) -> List[str]:
        n = s.name
        members = [(f.name, f, Access.member("v->", f.name)) for f in s.fields if not f.is_void]
        to = self.object_to(members) + ["return o;"]
        if members:
            to += ["fail:", "json_decref(o);", "return NULL;"]
        fr = self.keys("keys", [m[0] for m in members])
        fr.append(f"VWJ_TRY(vwj_object(j, keys, {c_string(n)}, ctx));")
        for key, d, a in members:
            fr += self.code.from_json(d, a, f"vwj_member(j, {c_string(key)})", key)
        if not members:
            fr.append("(void)v;")
        fr.append("return 0;")
        return (function(f"json_t *{n}_to_json(const {n} *v)", to)
                + function(f"int {n}_from_json(const json_t *j, {n} *v, virtwire_json_ctx *ctx)",
                           fr))

    def union(self, u: Union) -> List[str]:
        n = u.name
        disc = u.discriminant
        da = Access(f"v->{disc.name}")
        to = self.object_to([(disc.name, disc, da)])
        fr = [f"if (!json_is_object(j) || !vwj_member(j, {c_string(disc.name)}))",
              f"    return vwj_fail(ctx, \"expected an object with the discriminant "
              f"'{disc.name}' (union {n})\");"]
        fr += self.code.from_json(disc, da, f"vwj_member(j, {c_string(disc.name)})", disc.name)
        to.append(f"switch (v->{disc.name}) {{")
        fr.append(f"switch (v->{disc.name}) {{")
        uc = UnionCases(self.m, self.code.c, u)
        for i, (labels, arm) in enumerate(uc.arms()):
            to += labels
            fr += labels
            d = arm.decl
            keyname = f"keys_{i}"
            if d.is_void:
                to.append("    break;")
                fr += indent(["{"] + indent(self.keys(keyname, [disc.name])
                             + [f"VWJ_TRY(vwj_object(j, {keyname}, {c_string(n)}, ctx));"])
                             + ["}", "break;"])
                continue
            a = Access.member(f"v->{n}_u.", d.name)
            to += [f"    if (vwj_set(o, {c_string(d.name)}, {self.code.to_json(d, a)}) < 0)",
                   "        goto fail;", "    break;"]
            fr += indent(["{"] + indent(
                self.keys(keyname, [disc.name, d.name])
                + [f"VWJ_TRY(vwj_object(j, {keyname}, {c_string(n)}, ctx));"]
                + self.code.from_json(d, a, f"vwj_member(j, {c_string(d.name)})", d.name))
                + ["}", "break;"])
        if not u.default:
            to += ["default:", "    break;"]
            fr += ["default:",
                   f"    return vwj_in(ctx, vwj_fail(ctx, \"no arm of union {n} for this value\"), "
                   f"{c_string(disc.name)});"]
        to += ["}", "return o;", "fail:", "json_decref(o);", "return NULL;"]
        fr += ["}", "return 0;"]
        return (function(f"json_t *{n}_to_json(const {n} *v)", to)
                + function(f"int {n}_from_json(const json_t *j, {n} *v, virtwire_json_ctx *ctx)",
                           fr))

    def typedef(self, t: Typedef) -> List[str]:
        n = t.name
        a = Access.typedef(n)
        return ([f"json_t *{n}_to_json(const {n} *v)", "{",
                 f"    return {self.code.to_json(t.decl, a)};", "}", "",
                 f"int {n}_from_json(const json_t *j, {n} *v, virtwire_json_ctx *ctx)", "{"]
                + indent(self.code.from_json(t.decl, a, "j", None) + ["return 0;"]) + ["}", ""])

    def source(self) -> str:
        body: List[str] = []
        for t in self.types:
            body.append(f"/* {type(t).__name__.lower()} {t.name} */")
            if isinstance(t, Enum):
                body += self.enum(t)
            elif isinstance(t, Struct):
                body += self.struct(t)
            elif isinstance(t, Union):
                body += self.union(t)
            else:
                body += self.typedef(t)
        local = {t.name for t in self.types}
        wanted = sorted(self.code.adapters | local)
        out = [BANNER.format(src=self.src).rstrip("\n"), f'#include "{self.base}_json.h"', ""]
        if wanted:
            out.append("/* Converters through void pointers: array elements and the table. */")
            for n in wanted:
                out += [f"static json_t *vw_{n}_tj(const void *p)", "{",
                        f"    return {n}_to_json((const {n} *)p);", "}", "",
                        f"static int vw_{n}_fj(const json_t *j, void *p, virtwire_json_ctx *ctx)",
                        "{", f"    return {n}_from_json(j, ({n} *)p, ctx);", "}", ""]
        out += body
        names = sorted(local)
        if names:
            out.append(f"static const virtwire_json_type {self.base}_json_types[] = {{")
            for n in names:
                out += indent(initializer([[f".type = &{n}_desc", f".to_json = vw_{n}_tj",
                                            f".from_json = vw_{n}_fj"]]))
            out += ["};", ""]
        # What `virtwire procs --c` prints, per procedure (cdoc.py).
        client = ClientEmitter(self.m, self.base, self.src, self.events, self.functions)
        doc = ProcDoc(self.m, self.base, client)
        rows = []
        for p in self.m.programs:
            if not ClientEmitter.carries_data(p):
                continue
            for pr in p.procs:
                text = doc.text(p, pr).splitlines(keepends=True)
                rows += [f"{{ &{p.name}_program, {pr.number},"] + \
                    ["  " + c_text(ln) for ln in text] + ["},"]
        if rows:
            out.append(f"static const virtwire_json_cdoc {self.base}_json_cdocs[] = {{")
            out += indent(rows)
            out += ["};", ""]
        out.append(f"const virtwire_json_module {self.base}_json = {{")
        members = [f".protocol = &{descriptor_name(self.base)},"]
        if names:
            members += [f".types = {self.base}_json_types,", f".ntypes = {len(names)},"]
        if rows:
            members += [f".cdocs = {self.base}_json_cdocs,",
                        f".ncdocs = sizeof({self.base}_json_cdocs) / sizeof({self.base}_json_cdocs[0]),"]
        out += indent(members)
        out += ["};", ""]
        return "\n".join(out)


class UnionCases:
    """A union's case labels per arm, written like the codec writes them."""

    def __init__(self, model: Model, code: DeclCode, u: Union):
        self.m = model
        self.code = code
        self.u = u

    def arms(self):
        unsigned = self.m.underlying(self.u.discriminant.type).kind == "uint"
        for arm in self.u.arms:
            yield [f"case {self.code.value(c, unsigned)}:" for c in arm.cases], arm
        if self.u.default:
            yield ["default:"], self.u.default
