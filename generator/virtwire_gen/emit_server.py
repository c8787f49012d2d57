# SPDX-License-Identifier: LGPL-2.1-or-later
"""Typed server dispatch: <base>_server.h, over runtime/server/virtwire_server.h.

Per program, a table of typed handlers, one member per procedure that is
called (events are sent, not called):

    typedef struct remote_server_handlers {
        int (*connect_open)(virtwire_server_call *call,
                            const remote_connect_open_args *args, void *opaque);
        int (*domain_lookup_by_name)(virtwire_server_call *call,
                                     const remote_domain_lookup_by_name_args *args,
                                     remote_domain_lookup_by_name_ret *ret, void *opaque);
        ...
    } remote_server_handlers;

remote_server_bind() installs every non-NULL member as the procedure's
handler (the others keep libvirt's "unknown procedure" error), and
remote_send_<event>() sends a typed event.  Everything is static inline.
"""

from __future__ import annotations

from typing import List, Tuple

from .emit_c import C_KEYWORDS, CXX_KEYWORDS, const_pointer, doc_block, indent, origin
from .emit_client import wrapper_header
from .resolve import Model


class ServerEmitter:
    def __init__(self, model: Model, base: str, src_name: str):
        self.m = model
        self.base = base
        self.src = src_name

    @staticmethod
    def file_names(base: str) -> List[str]:
        """The files this emitter writes for the module base."""
        return [f"{base}_server.h"]

    @staticmethod
    def declared_names(model: Model, base: str) -> List[Tuple[str, str]]:
        """The file-scope C names the header defines, each with what it is."""
        out = []
        for p in model.programs:
            for suffix in ("_server_handlers", "_server_binding", "_server_bind"):
                out.append((p.name + suffix, f"server table {p.name}{suffix}"))
            for pr in p.procs:
                for kind in ("serve", "send"):
                    name = f"{p.name}_{kind}_{pr.short.lower()}"
                    out.append((name, f"server function {name}"))
        return out

    def outputs(self) -> List[Tuple[str, str]]:
        """(file name, text) of each file."""
        return [(self.file_names(self.base)[0], self.header())]

    def proc_const(self, pr) -> str:
        return pr.name if pr.name in self.m.consts else str(pr.number)

    def params(self, pr) -> List[str]:
        out = ["virtwire_server_call *call"]
        if pr.args:
            out.append(f"{const_pointer(self.m.proc_ctype(pr.args))}args")
        if pr.ret:
            out.append(f"{self.m.proc_ctype(pr.ret)} *ret".replace("* *", "**"))
        return out + ["void *opaque"]

    @staticmethod
    def member(pr) -> str:
        """The handler's member name: the procedure's short name, with a
        trailing _ when it is a C or C++ keyword (lock's REGISTER, RESTRICT,
        NEW)."""
        short = pr.short.lower()
        return short + "_" if short in C_KEYWORDS or short in CXX_KEYWORDS else short

    def program(self, prog) -> List[str]:
        n = prog.name
        calls = [pr for pr in prog.procs if not pr.msg]
        events = [pr for pr in prog.procs if pr.msg]
        return (self.handlers(n, calls) if calls else []) + self.events(n, events)

    def handlers(self, n: str, calls) -> List[str]:
        out = [f"/** Program {n}: the handlers of its {len(calls)} called procedures, each",
               " *  typed as its procedure's arguments and reply; NULL for the procedures not",
               " *  served (the client gets libvirt's \"unknown procedure\" error). */",
               f"typedef struct {n}_server_handlers {{"]
        for pr in calls:
            out.append(f"    int (*{self.member(pr)})({', '.join(self.params(pr))}); "
                       f"/**< {pr.name} ({origin(pr.loc)}) */")
        out += [f"}} {n}_server_handlers;", "",
                f"/** Handlers and the opaque pointer they get; must outlive the server. */",
                f"typedef struct {n}_server_binding {{",
                f"    const {n}_server_handlers *handlers; /**< the table */",
                "    void *opaque; /**< what every handler gets as opaque */",
                f"}} {n}_server_binding;", ""]
        for pr in calls:
            short, member = pr.short.lower(), self.member(pr)
            # Cast: C++ converts no void * implicitly.
            args = ([f"({const_pointer(self.m.proc_ctype(pr.args)).rstrip()})call->args"]
                    if pr.args else []) + \
                ([f"({self.m.proc_ctype(pr.ret)} *)call->ret".replace("* *", "**")]
                 if pr.ret else [])
            out += [f"/** The handler {n}_server_bind() installs for {pr.name}. */",
                    f"static inline int {n}_serve_{short}(virtwire_server_call *call, void *opaque)",
                    "{",
                    f"    const {n}_server_binding *b = (const {n}_server_binding *)opaque;",
                    f"    return b->handlers->{member}({', '.join(['call'] + args + ['b->opaque'])});",
                    "}", ""]
        body = []
        for pr in calls:
            short, member = pr.short.lower(), self.member(pr)
            body += [f"if (b->handlers->{member} &&",
                     f"    (rc = virtwire_server_set_handler(srv, &{n}_program, {self.proc_const(pr)}, "
                     f"{n}_serve_{short}, (void *)b)) < 0)",
                     "    return rc;"]
        out += [f"/** Installs every handler b->handlers has; returns 0 or the first error of",
                f" *  virtwire_server_set_handler() (register {n}_program first). */",
                f"static inline int {n}_server_bind(virtwire_server *srv, const {n}_server_binding *b)",
                "{",
                "    int rc = 0;"] + indent(body) + ["    return rc;", "}", ""]
        return out

    def events(self, n: str, events) -> List[str]:
        out = []
        for pr in events:
            out += [f"/** Sends the event {pr.name} = {pr.number} ({origin(pr.loc)}) to client c, "
                    "as virtwire_server_send_event() does. */",
                    f"static inline int {n}_send_{pr.short.lower()}(virtwire_server_client *c, "
                    f"const {pr.msg} *msg)",
                    "{",
                    f"    return virtwire_server_send_event(c, &{n}_program, {self.proc_const(pr)}, msg);",
                    "}", ""]
        return out

    def header(self) -> str:
        return wrapper_header(self, "server")
