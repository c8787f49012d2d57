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
and events remote_on_<name>() (virtwire_client_on_event).  All are static
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

    def event_function(self, prog, pr) -> List[str]:
        fn = f"{prog.name}_on_{pr.short.lower()}"
        return [f"/* {pr.name} = {pr.number}: fn gets a const {pr.msg} * as msg. */",
                f"static inline int {fn}(virtwire_client *c, virtwire_client_event_fn fn, void *opaque)",
                "{",
                f"    return virtwire_client_on_event(c, &{prog.name}_program, {self.proc_const(prog, pr)}, "
                "fn, opaque);",
                "}", ""]

    def program(self, prog) -> List[str]:
        out = [f"/* Program {prog.name}: {len(prog.procs)} procedures. */", ""]
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
