# SPDX-License-Identifier: LGPL-2.1-or-later
"""Semantic analysis: constants, type references, sizes and programs.

A Model wraps one parsed Spec (plus the Specs it imports) and answers what
the emitters need: the value of every constant, what each type name refers
to, the smallest and largest encoding of every type, which types own heap
memory, and the procedure tables.
"""

from __future__ import annotations

import re
from typing import Dict, List, Optional, Set, Tuple

from .ir import (LIBRARY_CONSTANTS, LIBRARY_TYPES, Const, Decl, Enum, Loc, ProcInfo, Program, ProgramInfo, Spec,
                 Struct, TypeDef, TypeRef, Typedef, Union, Value, XdrError)

U32_MAX = 0xFFFFFFFF

# Wire sizes of the primitive kinds (char and short take a whole XDR word,
# long too).
PRIMITIVE_WIRE = {
    "int": 4, "uint": 4, "bool": 4, "char": 4, "uchar": 4, "short": 4,
    "ushort": 4, "float": 4, "hyper": 8, "uhyper": 8, "double": 8, "long": 4, "ulong": 4,
}

# The library kinds that are not base types: (smallest, largest) encoding.
LIBRARY_WIRE = {"netobj": (4, 4 + 1024), "des_block": (8, 8)}

# What a procedure may take or return besides a type of the .x file: the
# name ProcInfo gives it, its C type and the runtime's descriptor of it
# (virtwire_xdr.h, virtwire_xdr_lib.h).
BASE_PROC_TYPES = {
    "int": ("int", "int", "virtwire_type_int"),
    "uint": ("unsigned int", "unsigned int", "virtwire_type_uint"),
    "hyper": ("hyper", "int64_t", "virtwire_type_hyper"),
    "uhyper": ("unsigned hyper", "uint64_t", "virtwire_type_uhyper"),
    "bool": ("bool", "int", "virtwire_type_bool"),
    "float": ("float", "float", "virtwire_type_float"),
    "double": ("double", "double", "virtwire_type_double"),
    "char": ("char", "char", "virtwire_type_char"),
    "uchar": ("unsigned char", "unsigned char", "virtwire_type_uchar"),
    "short": ("short", "short", "virtwire_type_short"),
    "ushort": ("unsigned short", "unsigned short", "virtwire_type_ushort"),
    "long": ("long", "long", "virtwire_type_long"),
    "ulong": ("unsigned long", "unsigned long", "virtwire_type_ulong"),
    "string": ("string", "char *", "virtwire_type_string"),
    "netobj": ("netobj", "netobj", "virtwire_type_netobj"),
    "des_block": ("des_block", "des_block", "virtwire_type_des_block"),
}
BASE_BY_NAME = {v[0]: v for v in BASE_PROC_TYPES.values()}

# A %-line defining a constant: %#define NAME VALUE (object-like macros only).
_PT_DEFINE = re.compile(r"^\s*#\s*define\s+([A-Za-z_][A-Za-z0-9_]*)(?![A-Za-z0-9_(])\s*(.*)$")


BUILTIN_CONSTANTS = {"FALSE": 0, "TRUE": 1}


def pad4(n: int) -> int:
    return (n + 3) & ~3


class Model:
    def __init__(self, spec: Spec, imports: List[Spec], external: Dict[str, int],
                 overrides: Optional[Dict[str, Dict[str, str]]] = None):
        self.spec = spec
        self.imports = imports
        self.external = dict(external)
        self.overrides = overrides or {}
        self.consts: Dict[str, int] = {}  # every constant visible, resolved
        self.local_consts: List[Const] = []
        self.types: Dict[str, object] = {}  # name -> Enum/Struct/Union/Typedef
        self.origin: Dict[str, str] = {}  # type name -> spec file it comes from
        self.external_used: Set[str] = set()
        self.programs: List[ProgramInfo] = []
        self._min: Dict[str, int] = {}
        self._max: Dict[str, Optional[int]] = {}
        self._heap: Dict[str, bool] = {}
        self._pending_consts: Dict[str, Const] = {}  # every const definition
        self._seen_values: Dict[str, Loc] = {}  # const and enum member names
        self._enum_done: Set[str] = set()
        self._enum_active: Set[str] = set()  # enums whose members are being resolved
        self.string_consts: Dict[str, str] = {}  # const NAME = "text": the literal
        # %#define NAME VALUE lines: (value text, where), evaluated when used
        self.defines: Dict[str, Tuple[str, Loc]] = {}
        self.defines_used: Set[str] = set()
        self._define_values: Dict[str, int] = {}
        self._program_names: Set[str] = set()
        # rpcgen's constants of the program blocks, in order: (name, value as
        # written, value, where)
        self.program_consts: List[Tuple[str, str, int, Loc]] = []

        for s in imports:
            self._collect(s, local=False)
        self._collect(spec, local=True)
        for s in imports + [spec]:
            self._library_types(s)
            self._collect_defines(s)
        for s in imports + [spec]:
            self._resolve_values(s)
        self._check_types(spec)
        self._programs(spec)

    # -- symbols ------------------------------------------------------------
    def _collect(self, spec: Spec, local: bool):
        for d in spec.definitions:
            if isinstance(d, Const):
                self._define_value(d.name, d.loc)
                if d.value.string is not None:
                    self.string_consts[d.name] = d.value.string
                else:
                    self._pending_consts[d.name] = d
                if local:
                    self.local_consts.append(d)
            elif isinstance(d, TypeDef):
                if d.name in self.types:
                    raise XdrError(d.loc, f"type '{d.name}' is already defined")
                self.types[d.name] = d
                self.origin[d.name] = spec.file
                if isinstance(d, Enum):
                    for m in d.members:
                        self._define_value(m.name, m.loc)

    def _library_types(self, spec: Spec):
        """Names of rpcgen's library types that the .x files do not define
        become what they stand for (ir.LIBRARY_TYPES)."""
        refs: List[TypeRef] = []
        for d in spec.definitions:
            refs += [decl.type for decl in self._decls_of(d)]
            if isinstance(d, Program):
                for v in d.versions:
                    for pr in v.procedures:
                        refs += [pr.ret] + list(pr.args)
        for ref in refs:
            if ref.kind == "named" and ref.name not in self.types and ref.name in LIBRARY_TYPES:
                ref.kind = LIBRARY_TYPES[ref.name]

    def _collect_defines(self, spec: Spec):
        """The constants of %#define lines: usable where the .x file names
        a constant it does not define (rpcgen's output gets them from the
        header), the .x file's own definitions first."""
        for p in spec.passthrough:
            m = _PT_DEFINE.match(p.text)
            if m and m.group(1) not in self.defines:
                text = re.sub(r"/\*.*?\*/|//.*$", " ", m.group(2)).strip()
                self.defines[m.group(1)] = (text, p.loc)

    def _define_value(self, name: str, loc: Loc):
        seen = self._seen_values
        if name in seen:
            raise XdrError(loc, f"'{name}' is already defined at {seen[name]}")
        seen[name] = loc

    def _resolve_values(self, spec: Spec):
        for d in spec.definitions:
            if isinstance(d, Const) and d.value.string is None:
                self.const_value(d.name, d.loc)
            elif isinstance(d, Enum):
                self._resolve_enum(d)
        for d in spec.definitions:
            for decl in self._decls_of(d):
                if decl.size is not None:
                    self.value(decl.size)
                    if decl.size.resolved < 0 or decl.size.resolved > U32_MAX:
                        raise XdrError(decl.size.loc, f"array size {decl.size.resolved} out of range")
            if isinstance(d, Union):
                for arm in d.arms:
                    for c in arm.cases:
                        self.value(c)

    @staticmethod
    def _decls_of(d) -> List[Decl]:
        if isinstance(d, Struct):
            return list(d.fields)
        if isinstance(d, Union):
            arms = [a.decl for a in d.arms]
            if d.default:
                arms.append(d.default.decl)
            return [d.discriminant] + arms
        if isinstance(d, Typedef):
            return [d.decl]
        return []

    def _resolve_enum(self, e: Enum):
        if e.name in self._enum_done:
            return
        self._enum_active.add(e.name)
        prev = -1
        for m in e.members:
            if m.value is None:
                m.resolved = prev + 1
            else:
                m.resolved = self.value(m.value)
            if not -0x80000000 <= m.resolved <= 0x7FFFFFFF:
                raise XdrError(m.loc, f"enum value {m.resolved} does not fit in 32 bits")
            self.consts[m.name] = m.resolved
            prev = m.resolved
        self._enum_active.discard(e.name)
        self._enum_done.add(e.name)

    def const_value(self, name: str, loc: Loc, stack: Optional[List[str]] = None) -> int:
        if name in self.consts:
            return self.consts[name]
        stack = stack or []
        c = self._pending_consts.get(name)
        if c is not None:
            if name in stack:
                raise XdrError(c.loc, f"constant '{name}' refers to itself")
            v = self._value(c.value, stack + [name])
            self.consts[name] = v
            return v
        for t in self.types.values():
            if isinstance(t, Enum):
                for m in t.members:
                    if m.name == name:
                        # Members resolve in order: one not known yet while
                        # its enum is being resolved comes after the member
                        # that uses it (or is that member).
                        if t.name in self._enum_active:
                            raise XdrError(loc, f"'{name}' is used before its value is "
                                                f"defined (enum '{t.name}')")
                        self._resolve_enum(t)
                        return self.consts[name]
        if name in self.string_consts:
            raise XdrError(loc, f"constant '{name}' is a string; a number is needed here")
        if name in self.defines:
            if name in stack:
                raise XdrError(loc, f"'{name}' (a %#define) refers to itself")
            if name not in self._define_values:
                text, where = self.defines[name]
                self._define_values[name] = CExpr(
                    text, loc, where, name,
                    lambda n, at: self.const_value(n, at, stack + [name])).value()
            self.defines_used.add(name)
            return self._define_values[name]
        if name in self.external:
            self.external_used.add(name)
            return self.external[name]
        if name in LIBRARY_CONSTANTS:
            return LIBRARY_CONSTANTS[name]
        if name in BUILTIN_CONSTANTS:  # RFC 4506: bool is enum { FALSE = 0, TRUE = 1 }
            return BUILTIN_CONSTANTS[name]
        raise XdrError(loc, f"undefined constant '{name}' (define it in the .x file or "
                            f"in the constants table)")

    def _value(self, v: Value, stack: List[str]) -> int:
        if v.literal is not None:
            v.resolved = v.literal
        else:
            v.resolved = self.const_value(v.name, v.loc, stack)
            # names the header does not define are emitted as numbers
            v.external = (v.name not in self._pending_consts and not self._is_enum_member(v.name)
                          and v.name not in self._program_names)
        return v.resolved

    def _is_enum_member(self, name: str) -> bool:
        return any(isinstance(t, Enum) and any(m.name == name for m in t.members)
                   for t in self.types.values())

    def value(self, v: Value) -> int:
        if v.resolved is None:
            self._value(v, [])
        return v.resolved

    # -- types --------------------------------------------------------------
    def lookup(self, ref: TypeRef):
        t = self.types.get(ref.name)
        if t is None:
            raise XdrError(ref.loc, f"undefined type '{ref.name}'")
        return t

    def underlying(self, ref: TypeRef) -> TypeRef:
        """Follows scalar typedefs to the type they name."""
        seen = set()
        while ref.kind == "named":
            t = self.lookup(ref)
            if isinstance(t, Typedef) and t.decl.shape == "scalar" and t.name not in seen:
                seen.add(t.name)
                ref = t.decl.type
                continue
            break
        return ref

    def _check_types(self, spec: Spec):
        for d in spec.definitions:
            for decl in self._decls_of(d):
                self._check_decl(decl)
            if isinstance(d, Union):
                self._check_union(d)
        for d in spec.types():
            self.min_size(d.name)
            self.max_size(d.name)

    def _check_decl(self, decl: Decl):
        k = decl.type.kind
        if k == "quadruple":
            raise XdrError(decl.type.loc, "quadruple is not supported: C has no portable "
                                          "128-bit floating type")
        if k == "named":
            self.lookup(decl.type)
        if k == "string" and decl.shape != "var":
            raise XdrError(decl.loc, "string must be declared as string NAME<N> or NAME<>")
        if k == "opaque" and decl.shape not in ("fixed", "var"):
            raise XdrError(decl.loc, "opaque must be declared with [N] or <N>")

    def _check_union(self, u: Union):
        disc = self.underlying(u.discriminant.type)
        ok = disc.kind in ("int", "uint", "bool", "long", "ulong") or (
            disc.kind == "named" and isinstance(self.lookup(disc), Enum))
        if not ok:
            raise XdrError(u.discriminant.loc, "union discriminant must be int, unsigned int, "
                                                "long, unsigned long, bool or an enum")
        seen: Dict[int, Loc] = {}
        for arm in u.arms:
            for c in arm.cases:
                v = c.resolved
                if disc.kind in ("uint", "ulong"):
                    v &= U32_MAX
                if v in seen:
                    raise XdrError(c.loc, f"duplicate case value {c.resolved} (first at {seen[v]})")
                seen[v] = c.loc
        names = [a.decl.name for a in u.arms + ([u.default] if u.default else []) if a.decl.name]
        for i, n in enumerate(names):
            if n in names[:i]:
                raise XdrError(u.loc, f"duplicate arm name '{n}' in union {u.name}")

    # -- sizes --------------------------------------------------------------
    def min_size(self, name: str) -> int:
        if name in self._min:
            return self._min[name]
        self._min[name] = 4  # provisional, only reachable through optional data
        t = self.types[name]
        if isinstance(t, Enum):
            v = 4
        elif isinstance(t, Struct):
            v = sum(self.decl_min(f) for f in t.fields)
        elif isinstance(t, Union):
            arms = [a.decl for a in t.arms] + ([t.default.decl] if t.default else [])
            v = 4 + min(self.decl_min(a) for a in arms)
        else:
            v = self.decl_min(t.decl)
        self._min[name] = v
        return v

    def decl_min(self, d: Decl) -> int:
        if d.shape == "void":
            return 0
        if d.shape == "optional" or d.shape == "var":
            return 4
        one = self.elem_min(d.type)
        if d.shape == "fixed":
            n = d.size.resolved
            return pad4(n) if d.type.kind == "opaque" else n * one
        return one

    def elem_min(self, t: TypeRef) -> int:
        if t.kind in PRIMITIVE_WIRE:
            return PRIMITIVE_WIRE[t.kind]
        if t.kind in LIBRARY_WIRE:
            return LIBRARY_WIRE[t.kind][0]
        if t.kind == "opaque":
            return 1
        if t.kind == "string":
            return 4
        return self.min_size(t.name)

    def max_size(self, name: str) -> Optional[int]:
        """Largest encoding of a type in bytes, or None if unbounded."""
        if name in self._max:
            return self._max[name]
        self._max[name] = None  # recursion means unbounded
        t = self.types[name]
        if isinstance(t, Enum):
            v = 4
        elif isinstance(t, Struct):
            v = 0
            for f in t.fields:
                m = self.decl_max(f)
                v = None if m is None or v is None else v + m
        elif isinstance(t, Union):
            arms = [a.decl for a in t.arms] + ([t.default.decl] if t.default else [])
            sizes = [self.decl_max(a) for a in arms]
            v = None if any(s is None for s in sizes) else 4 + max(sizes)
        else:
            v = self.decl_max(t.decl)
        self._max[name] = v
        return v

    def decl_max(self, d: Decl) -> Optional[int]:
        if d.shape == "void":
            return 0
        k = d.type.kind
        if d.shape == "optional":
            m = self.elem_max(d.type)
            return None if m is None else 4 + m
        if d.shape == "fixed":
            n = d.size.resolved
            if k == "opaque":
                return pad4(n)
            m = self.elem_max(d.type)
            return None if m is None else n * m
        if d.shape == "var":
            if d.size is None:
                return None
            n = d.size.resolved
            if k in ("opaque", "string"):
                return 4 + pad4(n)
            m = self.elem_max(d.type)
            return None if m is None else 4 + n * m
        return self.elem_max(d.type)

    def elem_max(self, t: TypeRef) -> Optional[int]:
        if t.kind in PRIMITIVE_WIRE:
            return PRIMITIVE_WIRE[t.kind]
        if t.kind in LIBRARY_WIRE:
            return LIBRARY_WIRE[t.kind][1]
        return self.max_size(t.name)

    def fixed_size(self, t: TypeRef) -> Optional[int]:
        """The encoded size of an element type if every value has it."""
        lo, hi = self.elem_min(t), self.elem_max(t)
        return lo if lo == hi else None

    def has_heap(self, name: str, stack: Optional[Set[str]] = None) -> bool:
        """Whether a value of this type can own heap memory (needs _free)."""
        if name in self._heap:
            return self._heap[name]
        stack = stack or set()
        if name in stack:
            return True
        stack = stack | {name}
        t = self.types[name]
        if isinstance(t, Enum):
            v = False
        else:
            v = any(self.decl_heap(d, stack) for d in self._decls_of(t))
        self._heap[name] = v
        return v

    def is_recursive(self, name: str) -> bool:
        """Whether a value of this type can contain another value of it
        (through optional data or a variable-length array)."""
        seen: Set[str] = set()
        todo = [name]
        while todo:
            for d in self._decls_of(self.types[todo.pop()]):
                if d.type.kind != "named":
                    continue
                if d.type.name == name:
                    return True
                if d.type.name not in seen:
                    seen.add(d.type.name)
                    todo.append(d.type.name)
        return False

    def decl_heap(self, d: Decl, stack: Optional[Set[str]] = None) -> bool:
        if d.shape in ("void",):
            return False
        if d.shape in ("optional", "var"):
            return True
        if d.type.kind == "named":
            return self.has_heap(d.type.name, stack)
        return d.type.kind == "netobj"

    # -- programs -----------------------------------------------------------
    def _programs(self, spec: Spec):
        for d in spec.definitions:
            if isinstance(d, Program):
                self.programs.extend(self._rpcgen_program(d))
        for d in spec.definitions:
            if isinstance(d, Enum) and (d.name.endswith("_procedure") or d.name.endswith("Procedure")):
                p = self._libvirt_program(d)
                if p:
                    self.programs.append(p)
        known = {pr.name for p in self.programs for pr in p.procs}
        for p in self.programs:
            for pr in p.procs:
                pr.overrides = dict(self.overrides.get(pr.name, {}))
        self.unknown_overrides = sorted(n for n in self.overrides if n not in known)

    def _program_const(self, name: str, v: Value, loc: Loc, seen: Dict[str, int]):
        """One of rpcgen's constants of a program block: the program, a
        version or a procedure, each #defined to its number.  A procedure
        of several versions is defined once (with one number)."""
        n = self.value(v)
        if name in seen:
            if seen[name] != n:
                raise XdrError(loc, f"'{name}' is {n} here but {seen[name]} in another version "
                                    f"(rpcgen #defines it to both)")
            return
        self._define_value(name, loc)
        seen[name] = n
        self._program_names.add(name)
        self.program_consts.append((name, v.source(), n, loc))

    def _rpcgen_program(self, prog: Program) -> List[ProgramInfo]:
        out = []
        num = self.value(prog.number)
        seen: Dict[str, int] = {}
        self._program_const(prog.name, prog.number, prog.loc, seen)
        for ver in prog.versions:
            self._program_const(ver.name, ver.number, ver.loc, seen)
            for pr in ver.procedures:
                self._program_const(pr.name, pr.number, pr.loc, seen)
        for name, n in seen.items():
            self.consts[name] = n
        for ver in prog.versions:
            procs = []
            for pr in ver.procedures:
                if len(pr.args) > 1:
                    raise XdrError(pr.loc, "procedures with several arguments (rpcgen -N) are "
                                           "not supported")
                args = self._proc_type(pr.args[0]) if pr.args else None
                procs.append(ProcInfo(pr.name, pr.name, self.value(pr.number), args,
                                      self._proc_type(pr.ret), None, pr.loc,
                                      comments=list(pr.comments)))
            procs.sort(key=lambda p: p.number)
            self._check_unique(procs)
            out.append(ProgramInfo(f"{prog.name}_{ver.name}" if len(prog.versions) > 1 else prog.name,
                                   num, self.value(ver.number), prog.name, ver.name, procs, prog.loc,
                                   list(prog.comments)))
        return out

    def _proc_type(self, t: TypeRef) -> Optional[str]:
        """The name ProcInfo gives an argument or result: a type of the .x
        files, or a base type's (BASE_PROC_TYPES)."""
        if t.kind == "void":
            return None
        if t.kind == "named":
            self.lookup(t)
            return t.name
        if t.kind not in BASE_PROC_TYPES:
            raise XdrError(t.loc, f"{t.kind} is not supported as a procedure argument or result")
        return BASE_PROC_TYPES[t.kind][0]

    def proc_ctype(self, name: str) -> str:
        """The C type of a procedure's argument or result named name."""
        if name in self.types:
            return name
        return BASE_BY_NAME[name][1]

    def proc_desc(self, name: str) -> str:
        """The descriptor (a virtwire_type) of a procedure's argument or
        result named name."""
        if name in self.types:
            return f"{name}_desc"
        return BASE_BY_NAME[name][2]

    def uses_library(self) -> bool:
        """Whether the module needs virtwire_xdr_lib.h: it has a netobj or
        des_block, or a procedure takes or returns one."""
        for d in self.spec.definitions:
            for decl in self._decls_of(d):
                if decl.type.kind in LIBRARY_WIRE:
                    return True
        return any(x in ("netobj", "des_block") and x not in self.types
                   for p in self.programs for pr in p.procs for x in (pr.args, pr.ret))

    @staticmethod
    def _check_unique(procs: List[ProcInfo]):
        for a, b in zip(procs, procs[1:]):
            if a.number == b.number:
                raise XdrError(b.loc, f"procedure number {b.number} used twice ({a.name}, {b.name})")

    def _libvirt_program(self, e: Enum) -> Optional[ProgramInfo]:
        """libvirt's convention: const P_PROGRAM, P_PROTOCOL_VERSION (or
        P_PROGRAM_VERSION) and enum ..._procedure { P_PROC_NAME = n, ... }
        with argument structs named like the procedure."""
        first = e.members[0].name
        idx = first.find("_PROC_")
        if idx < 0:
            return None
        base = first[:idx]
        prefix = first[:idx + 6]
        for m in e.members:
            if not m.name.startswith(prefix):
                raise XdrError(m.loc, f"procedure '{m.name}' does not start with '{prefix}'")
        pname = f"{base}_PROGRAM"
        if pname not in self.consts and pname not in self._pending_consts:
            raise XdrError(e.loc, f"procedure enum {e.name}: no constant {pname}")
        vname = next((v for v in (f"{base}_PROTOCOL_VERSION", f"{base}_PROGRAM_VERSION")
                      if v in self._pending_consts), None)
        if vname is None:
            raise XdrError(e.loc, f"procedure enum {e.name}: no constant {base}_PROTOCOL_VERSION "
                                  f"or {base}_PROGRAM_VERSION")
        if e.name.endswith("_procedure"):
            sprefix = e.name[:-len("procedure")]
            short_name = sprefix.rstrip("_")

            def candidates(short):
                low = short.lower()
                return [f"{sprefix}{low}_args", f"{sprefix}{low}_ret", f"{sprefix}{low}_msg"]
        else:
            sprefix = e.name[:-len("Procedure")]
            short_name = sprefix

            def candidates(short):
                camel = "".join(w.capitalize() for w in short.split("_"))
                return [f"{sprefix}{camel}Args", f"{sprefix}{camel}Ret", f"{sprefix}{camel}Msg"]
        procs = []
        for m in e.members:
            short = m.name[len(prefix):]
            a, r, g = (c if c in self.types else None for c in candidates(short))
            procs.append(ProcInfo(m.name, short, m.resolved, a, r, g, m.loc,
                                  dict(m.annotations), list(m.tags),
                                  comments=list(m.comments)))
        procs.sort(key=lambda p: p.number)
        self._check_unique(procs)
        return ProgramInfo(short_name, self.consts[pname], self.consts[vname], pname, vname,
                           procs, e.loc, list(e.comments), from_enum=True)


class CExpr:
    """The value of a %#define: an integer constant expression of C (numbers
    with their suffixes, names of other constants, unary + - ~ !, binary
    * / % + - << >> < <= > >= == != & ^ | && ||, parentheses)."""

    _TOKEN = re.compile(r"\s*(?:(0[xX][0-9a-fA-F]+|[0-9]+)[uUlL]*|([A-Za-z_][A-Za-z0-9_]*)|"
                        r"(<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%()~!&|^<>]))")
    _BINARY = [("||",), ("&&",), ("|",), ("^",), ("&",), ("==", "!="), ("<", "<=", ">", ">="),
               ("<<", ">>"), ("+", "-"), ("*", "/", "%")]

    def __init__(self, text: str, loc: Loc, where: Loc, name: str, lookup):
        """loc: where the constant is used; where: its %#define."""
        self.loc, self.where, self.name, self.lookup = loc, where, name, lookup
        self.toks: List[Tuple[str, str]] = []
        pos = 0
        text = text.rstrip()
        while pos < len(text):
            m = self._TOKEN.match(text, pos)
            if not m or m.end() == pos:
                self.fail()
            pos = m.end()
            if m.group(1):
                lit = m.group(1)
                base = 16 if lit[:2].lower() == "0x" else 8 if len(lit) > 1 and lit[0] == "0" else 10
                try:
                    self.toks.append(("num", str(int(lit, base))))
                except ValueError:
                    self.fail()
            elif m.group(2):
                self.toks.append(("name", m.group(2)))
            else:
                self.toks.append(("op", m.group(3)))
        self.i = 0

    def fail(self):
        raise XdrError(self.loc, f"'{self.name}' is used as a number, but its %#define (at "
                                 f"{self.where}) is not an integer constant expression")

    def value(self) -> int:
        if not self.toks:
            self.fail()
        v = self.binary(0)
        if self.i != len(self.toks):
            self.fail()
        return v

    def peek(self) -> Optional[str]:
        return self.toks[self.i][1] if self.i < len(self.toks) and self.toks[self.i][0] == "op" \
            else None

    def binary(self, level: int) -> int:
        if level == len(self._BINARY):
            return self.unary()
        v = self.binary(level + 1)
        while self.peek() in self._BINARY[level]:
            op = self.toks[self.i][1]
            self.i += 1
            w = self.binary(level + 1)
            if op in ("/", "%") and w == 0:
                self.fail()
            v = {"||": lambda: int(bool(v) or bool(w)), "&&": lambda: int(bool(v) and bool(w)),
                 "|": lambda: v | w, "^": lambda: v ^ w, "&": lambda: v & w,
                 "==": lambda: int(v == w), "!=": lambda: int(v != w), "<": lambda: int(v < w),
                 "<=": lambda: int(v <= w), ">": lambda: int(v > w), ">=": lambda: int(v >= w),
                 "<<": lambda: v << w if 0 <= w < 64 else self.fail(),
                 ">>": lambda: v >> w if 0 <= w < 64 else self.fail(),
                 "+": lambda: v + w, "-": lambda: v - w, "*": lambda: v * w,
                 "/": lambda: int(v / w), "%": lambda: v - w * int(v / w)}[op]()
        return v

    def unary(self) -> int:
        if self.i >= len(self.toks):
            self.fail()
        kind, text = self.toks[self.i]
        self.i += 1
        if kind == "num":
            return int(text)
        if kind == "name":
            if self.peek() == "(":  # a call, sizeof(...)
                self.fail()
            return self.lookup(text, self.loc)
        if text == "(":
            v = self.binary(0)
            if self.peek() != ")":
                self.fail()
            self.i += 1
            return v
        if text in ("-", "+", "~", "!"):
            v = self.unary()
            return {"-": -v, "+": v, "~": ~v, "!": int(not v)}[text]
        self.fail()
