# SPDX-License-Identifier: LGPL-2.1-or-later
"""Typed client calls: <base>_client.h, over runtime/virtwire_client.h.

For every procedure of every program that carries data, a synchronous and an
asynchronous call whose argument and result types are the procedure's own:

    int remote_call_domain_lookup_by_name(virtwire_client *c,
            const remote_domain_lookup_by_name_args *args,
            remote_domain_lookup_by_name_ret *ret, virtwire_call_opts *opts);
    int remote_call_domain_lookup_by_name_async(virtwire_client *c,
            const remote_domain_lookup_by_name_args *args,
            const virtwire_call_opts *opts, virtwire_client_done_fn done, void *opaque);

stream procedures also get remote_stream_<name>() (virtwire_client_stream_call)
and events a typed handler type and remote_on_<name>() (virtwire_client_on_event
through a dispatcher that, for the *_CALLBACK_* events, keeps only the
callbackID the handler was registered for).  All are static
inline wrappers: the header costs nothing to code that does not use it.
"""

from __future__ import annotations

from typing import List

from .emit_c import BANNER
from .resolve import Model


class ClientEmitter:
    def __init__(self, model: Model, base: str, src_name: str):
        self.m = model
        self.base = base
        self.src = src_name

    @staticmethod
    def carries_data(prog) -> bool:
        """Programs none of whose procedures carry data (keepalive) are
        message-only: the transport handles them, there is nothing to call."""
        return any(p.args or p.ret or p.msg for p in prog.procs)

    def proc_const(self, prog, pr) -> str:
        return pr.name if pr.name in self.m.consts else str(pr.number)

    def call_functions(self, prog, pr) -> List[str]:
        fn = f"{prog.name}_call_{pr.short.lower()}"
        num = self.proc_const(prog, pr)
        params = ["virtwire_client *c"]
        if pr.args:
            params.append(f"const {pr.args} *args")
        sync = params + ([f"{pr.ret} *ret"] if pr.ret else []) + ["virtwire_call_opts *opts"]
        args = "args" if pr.args else "NULL"
        ret = "ret" if pr.ret else "NULL"
        out = [f"/* {pr.name} = {pr.number} */",
               f"static inline int {fn}({', '.join(sync)})",
               "{",
               f"    return virtwire_client_call(c, &{prog.name}_program, {num}, {args}, {ret}, opts);",
               "}", "",
               f"static inline int {fn}_async({', '.join(params + ['const virtwire_call_opts *opts', 'virtwire_client_done_fn done', 'void *opaque'])})",
               "{",
               f"    return virtwire_client_call_async(c, &{prog.name}_program, {num}, {args}, opts, done, opaque);",
               "}", ""]
        if pr.overrides.get("stream") or any(k in pr.annotations for k in ("readstream", "writestream")):
            stream = sync + ["virtwire_client_stream **stream"]
            out += [f"static inline int {prog.name}_stream_{pr.short.lower()}({', '.join(stream)})",
                    "{",
                    f"    return virtwire_client_stream_call(c, &{prog.name}_program, {num}, {args}, "
                    f"{ret}, opts, stream);",
                    "}", ""]
        return out

    def has_callback_id(self, msg: str) -> bool:
        """Whether an event's message starts with 'int callbackID' (the
        *_EVENT_CALLBACK_* events): such events are demultiplexed by the
        callbackID their registration call returned."""
        t = self.m.types.get(msg)
        fields = getattr(t, "fields", None)
        return bool(fields) and fields[0].name == "callbackID" and fields[0].type.kind == "int" \
            and fields[0].shape == "scalar"

    def event_binding(self, prog) -> List[str]:
        n = prog.name
        return [f"/** A typed event handler's registration, owned by the caller: it must",
                f" *  stay valid until virtwire_client_remove_event() of the id that",
                f" *  {n}_on_<event>() returned (or the client is closed). */",
                f"typedef struct {n}_event_binding {{",
                "    void (*fn)(void);  /* the typed handler */",
                "    void *opaque;",
                "    int callback_id;   /* only this callbackID; -1: every one */",
                f"}} {n}_event_binding;", ""]

    def event_function(self, prog, pr) -> List[str]:
        n, short = prog.name, pr.short.lower()
        fn_t = f"{n}_{short}_fn"
        demux = self.has_callback_id(pr.msg)
        filt = (["    if (b->callback_id >= 0 && m->callbackID != b->callback_id)", "        return;"]
                if demux else [])
        doc = ("callback_id: the callbackID the registration call returned, or -1 for all"
               if demux else "callback_id: unused (this event carries no callbackID); pass -1")
        return [f"/* {pr.name} = {pr.number} */",
                f"typedef void (*{fn_t})(virtwire_client *c, const {pr.msg} *msg, void *opaque);",
                "",
                f"static inline void {n}_dispatch_{short}(virtwire_client *c, const virtwire_program *prog,",
                "                                          int32_t proc, const void *msg, void *opaque)",
                "{",
                f"    const {n}_event_binding *b = (const {n}_event_binding *)opaque;",
                f"    const {pr.msg} *m = (const {pr.msg} *)msg;",
                "    (void)prog;",
                "    (void)proc;"] + filt + [
                f"    (({fn_t})b->fn)(c, m, b->opaque);",
                "}", "",
                f"/** Calls fn for every {pr.name} message; {doc}.",
                " *  Returns the id for virtwire_client_remove_event() or an error. */",
                f"static inline int {n}_on_{short}(virtwire_client *c, {n}_event_binding *b, {fn_t} fn,",
                "                                  int callback_id, void *opaque)",
                "{",
                "    b->fn = (void (*)(void))fn;",
                "    b->opaque = opaque;",
                "    b->callback_id = callback_id;",
                f"    return virtwire_client_on_event(c, &{n}_program, {self.proc_const(prog, pr)}, "
                f"{n}_dispatch_{short}, b);",
                "}", ""]

    def program(self, prog) -> List[str]:
        out = [f"/* Program {prog.name}: {len(prog.procs)} procedures. */", ""]
        if any(pr.msg for pr in prog.procs):
            out += self.event_binding(prog)
        for pr in prog.procs:
            out += self.event_function(prog, pr) if pr.msg else self.call_functions(prog, pr)
        return out

    def header(self) -> str:
        return wrapper_header(self, "client")


def wrapper_header(emitter, role: str) -> str:
    """<base>_<role>.h: the guard, the includes and emitter.program() for
    every program that carries data (shared by the client and server
    emitters)."""
    guard = ("VIRTWIRE_GEN_" + "".join(c if c.isalnum() else "_" for c in emitter.base.upper())
             + f"_{role.upper()}_H")
    out = [BANNER.format(src=emitter.src).rstrip("\n"), f"#ifndef {guard}", f"#define {guard}", "",
           f'#include "virtwire_{role}.h"', f'#include "{emitter.base}.h"', "",
           "#ifdef __cplusplus", 'extern "C" {', "#endif", ""]
    progs = [p for p in emitter.m.programs if ClientEmitter.carries_data(p)]
    if not progs:
        out += [f"/* {emitter.src} defines no program with calls. */", ""]
    for prog in progs:
        out += emitter.program(prog)
    out += ["#ifdef __cplusplus", "}", "#endif", "", f"#endif /* {guard} */", ""]
    return "\n".join(out)
