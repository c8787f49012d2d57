# SPDX-License-Identifier: LGPL-2.1-or-later
"""A procedure's C side as text: what `virtwire procs --c NAME` prints.

    REMOTE_PROC_DOMAIN_GET_STATE = 212 (remote_protocol.x:5140): libvirt's
    virDomainGetState().
    <its .x comment>

    Calls (remote_protocol_client.h):  the typed functions' prototypes
    Types (remote_protocol.h):         its argument, reply or message types
                                       and the types they hold, as defined
    Example:                           the call, or the handler and its
                                       registration, with error handling

Everything comes from the emitters that write the headers, so the text
says what the headers hold.
"""

from __future__ import annotations

from typing import List

from .emit_c import EMITTERS, DeclCode, origin
from .emit_client import ClientEmitter
from .ir import Decl, Enum, Struct, Typedef, Union
from .resolve import Model


def prototypes(lines: List[str]) -> List[str]:
    """The prototypes of the static inline functions among lines."""
    out: List[str] = []
    for i, ln in enumerate(lines):
        if ln.startswith("static inline "):
            head = ln[len("static inline "):]
            j = i
            while not lines[j].rstrip().endswith(")"):
                j += 1
                head += " " + lines[j].strip()
            out.append(head + ";")
    return out


def plain(lines: List[str]) -> List[str]:
    """Doxygen comments read as plain text: /** and /**< made /* and /*<."""
    return [ln.replace("/**<", "/*").replace("/**", "/*") for ln in lines]


class ProcDoc:
    def __init__(self, model: Model, base: str, client: ClientEmitter):
        self.m = model
        self.base = base
        self.client = client
        self.code = DeclCode(model)

    def local_type(self, name: str):
        return next((t for t in self.m.spec.types() if t.name == name), None)

    def types_of(self, names: List[str]) -> List[str]:
        """The definitions of the named types and of the types their
        members hold (one level down), as the header has them."""
        order: List[str] = []
        for n in names:
            if n not in order:
                order.append(n)
        for n in list(order):
            t = self.local_type(n)
            decls: List[Decl] = []
            if isinstance(t, Struct):
                decls = t.fields
            elif isinstance(t, Union):
                decls = [a.decl for a in t.arms] + ([t.default.decl] if t.default else [])
            elif isinstance(t, Typedef):
                decls = [t.decl]
            for d in decls:
                if d.type.kind == "named" and d.type.name not in order:
                    inner = self.local_type(d.type.name)
                    # strings (remote_nonnull_string) say enough by their name
                    if inner is not None and self.code.string_typedef(d.type) is None:
                        order.append(d.type.name)
        out: List[str] = []
        for n in order:
            t = self.local_type(n)
            if t is None:
                out.append(f"/* {n}: see its module's header */")
                continue
            out.append(f"/* {origin(t.loc)} */")
            out += plain(EMITTERS[type(t)](self.m, self.code, t).c_definition())
        return out

    def example_args(self, name: str, skip=()) -> str:
        """An initializer of a struct type with example values."""
        t = self.m.types.get(name)
        if not isinstance(t, Struct):
            return "{ 0 }"
        parts = []
        for f in t.fields:
            if f.name in skip or f.is_void or f.shape in ("var", "fixed") and \
                    f.type.kind != "string":
                continue
            k = self.m.underlying(f.type).kind if f.type.kind == "named" else f.type.kind
            inner = self.m.types.get(f.type.name) if f.type.kind == "named" else None
            if f.shape == "optional" or (isinstance(inner, Typedef) and inner.decl.shape == "optional"):
                value = "NULL"
            elif f.type.kind == "string" or self.code.string_typedef(f.type) is not None:
                value = '"..."'
            elif isinstance(inner, (Struct, Union)):
                value = f.name
            elif isinstance(inner, Enum) or k in ("int", "uint", "hyper", "uhyper", "short",
                                                   "ushort", "char", "uchar", "bool", "float",
                                                   "double"):
                value = "0"
            else:
                continue
            parts.append(f".{f.name} = {value}")
        return "{ " + ", ".join(parts) + " }" if parts else "{ 0 }"

    def call_example(self, prog, pr) -> List[str]:
        n, short = prog.name, pr.short.lower()
        out = ["virNetMessageError err;",
               "virtwire_call_opts o = VIRTWIRE_CALL_OPTS(.arena = &arena, .error = &err);"]
        call = ["c"]
        if pr.args:
            skip = ("need_results",) if self.client.is_list(pr) else ()
            out.append(f"{pr.args} args = {self.example_args(pr.args, skip)};")
            call.append("&args")
        if pr.ret:
            out.append(f"{pr.ret} ret;")
            call.append("&ret")
        streams = [ln for ln in self.client.call_functions(prog, pr)
                   if ln.startswith(f"static inline int {n}_stream_")]
        if streams:
            out.append("virtwire_client_stream *s;")
            out.append(f"int rc = {n}_stream_{short}({', '.join(call)}, &o, &s);")
        else:
            out.append(f"int rc = {n}_call_{short}({', '.join(call)}, &o);")
        out += ["if (rc < 0)",
                "    fprintf(stderr, \"%s\\n\", virtwire_error_message(rc, &err));"]
        if streams:
            out += ["/* then virtwire_client_stream_recv() or _send(), _finish(), _free() */"]
        return out

    def event_example(self, prog, pr) -> List[str]:
        n, short = prog.name, pr.short.lower()
        out = [f"static void on_{short}(virtwire_client *c, const {pr.msg} *msg, void *opaque)",
               "{",
               "    /* on the client's I/O thread */",
               "}", ""]
        for row, reg, dereg, msg in self.client.registrations(prog):
            if msg is pr:
                lines = self.client.register_function(prog, row, reg, dereg, msg)
                head = next(ln for ln in lines if ln.startswith("static inline int "))
                fname = head[len("static inline int "):head.index("(")]
                values = ["c", "&reg"]
                for f in self.client.struct_fields(reg.args, None, reg.name):
                    if row.event_id is not None and self.client.is_int(f, "eventID"):
                        continue
                    t = self.m.types.get(f.type.name) if f.type.kind == "named" else None
                    optional = f.shape == "optional" or (
                        isinstance(t, Typedef) and t.decl.shape == "optional")
                    values.append("NULL" if optional or self.client.string_param(f) else "0")
                values += [f"on_{short}", "NULL", "&o"]
                return out + ["virNetMessageError err;",
                              "virtwire_call_opts o = VIRTWIRE_CALL_OPTS(.arena = &arena, "
                              ".error = &err);",
                              f"{n}_event_registration reg;",
                              f"int rc = {fname}({', '.join(values)});",
                              "/* ... */",
                              f"rc = {n}_deregister_event(c, &reg, &o);"]
        return out + [f"{n}_event_binding b; /* lives as long as the handler */",
                      f"int id = {n}_on_{short}(c, &b, on_{short}, -1, NULL);",
                      "/* ... after the daemon was asked to send the event ... */",
                      "virtwire_client_remove_event(c, id);"]

    def text(self, prog, pr) -> str:
        api = self.client.api(prog, pr)
        out = [f"{pr.name} = {pr.number} ({origin(pr.loc)}), program {prog.name}"]
        out.append(f"libvirt's API: {api}" if api else "libvirt's API: none (the daemon's own)")
        xc = [ln for c in pr.comments for ln in c.text_lines()]
        if xc:
            out += ["", "Its .x comment:"] + ["    " + ln if ln else "" for ln in xc]
        if pr.msg:
            funcs = self.client.event_function(prog, pr)
            regs = [ln for row, reg, dereg, msg in self.client.registrations(prog) if msg is pr
                    for ln in self.client.register_function(prog, row, reg, dereg, msg)]
            decls = [ln for ln in funcs if ln.startswith("typedef void")] + prototypes(funcs + regs)
            types = [pr.msg]
            example = self.event_example(prog, pr)
        else:
            decls = prototypes(self.client.call_functions(prog, pr))
            types = [t for t in (pr.args, pr.ret) if t]
            example = self.call_example(prog, pr)
        out += ["", f"Calls ({self.base}_client.h):"] + ["    " + d for d in decls
                                                         if "_dispatch_" not in d]
        if self.client.is_list(pr):
            out += ["    (a list: need_results is sent as 1; args may be NULL)"]
        if types:
            out += ["", f"Types ({self.base}.h):"] + ["    " + ln if ln else ""
                                                       for ln in self.types_of(types)]
        out += ["", "Example (c a connected virtwire_client, arena a virtwire_arena):"]
        out += ["    " + ln if ln else "" for ln in example]
        return "\n".join(out) + "\n"
