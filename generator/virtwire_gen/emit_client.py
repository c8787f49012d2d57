# SPDX-License-Identifier: LGPL-2.1-or-later
"""Typed client calls: <base>_client.h, over runtime/client/virtwire_client.h.

For every procedure of every program that carries data, a synchronous and an
asynchronous call whose argument and result types are the procedure's own
(and, for those with a reply, remote_reply_<name>(), the reply as the
call's value: virtwire_client_call_reply()):

    int remote_call_domain_lookup_by_name(virtwire_client *c,
            const remote_domain_lookup_by_name_args *args,
            remote_domain_lookup_by_name_ret *ret, virtwire_call_opts *opts);
    int remote_call_domain_lookup_by_name_async(virtwire_client *c,
            const remote_domain_lookup_by_name_args *args,
            const virtwire_call_opts *opts, virtwire_client_done_fn done, void *opaque);

stream procedures also get remote_stream_<name>() (virtwire_client_stream_call)
and events a typed handler type and remote_on_<name>() (virtwire_client_on_event
through a dispatcher that, for the *_CALLBACK_* events, keeps only the
callbackID the handler was registered for).  The events of protocol/events.tsv
also get one-step registrations, remote_register_<family>_event_<name>()
(virtwire_client_register_event: the daemon's REGISTER_ANY call and the typed
handler for the callbackID it returns), and remote_deregister_event().  All
are static inline wrappers: the header costs nothing to code that does not
use it.
"""

from __future__ import annotations

from typing import List, Optional, Tuple

from .emit_c import BANNER, DeclCode, const_pointer, doc_block, doc_text, guard_name, origin
from .ir import Struct, Typedef, XdrError
from .libvirt import api_name
from .resolve import Model
from .tables import EventRow


class ClientEmitter:
    def __init__(self, model: Model, base: str, src_name: str,
                 events: Optional[List[EventRow]] = None, functions=()):
        self.m = model
        self.base = base
        self.src = src_name
        self.events = events or []
        self.functions = list(functions)  # libvirt's public API, to name
        self.code = DeclCode(model)

    @staticmethod
    def file_names(base: str) -> List[str]:
        """The files this emitter writes for the module base."""
        return [f"{base}_client.h"]

    @staticmethod
    def declared_names(model: Model, base: str) -> List[Tuple[str, str]]:
        """The file-scope C names the header defines, each with what it is
        (the per-event registrations of protocol/events.tsv aside)."""
        out = []
        for p in model.programs:
            for suffix in ("_event_binding", "_event_registration"):
                out.append((p.name + suffix, f"client type {p.name}{suffix}"))
            for name in (f"{p.name}_register_event_common", f"{p.name}_deregister_event"):
                out.append((name, f"client function {name}"))
            for pr in p.procs:
                short = pr.short.lower()
                for name in (f"{p.name}_call_{short}", f"{p.name}_call_{short}_async",
                             f"{p.name}_stream_{short}", f"{p.name}_on_{short}",
                             f"{p.name}_dispatch_{short}", f"{p.name}_next_{short}",
                             f"{p.name}_reply_{short}"):
                    out.append((name, f"client function {name}"))
                fn_type = f"{p.name}_{short}_fn"
                out.append((fn_type, f"event handler type {fn_type}"))
        return out

    def outputs(self) -> List[Tuple[str, str]]:
        """(file name, text) of each file."""
        return [(self.file_names(self.base)[0], self.header())]

    @staticmethod
    def carries_data(prog) -> bool:
        """Programs none of whose procedures carry data (keepalive) are
        message-only: the transport handles them, there is nothing to call."""
        return any(p.args or p.ret or p.msg for p in prog.procs)

    def proc_const(self, prog, pr) -> str:
        return pr.name if pr.name in self.m.consts else str(pr.number)

    def api(self, prog, pr) -> Optional[str]:
        """The libvirt API the procedure serves, if any: "virDomainGetState()",
        or for an event of protocol/events.tsv the registration function
        and the event ID ("virConnectDomainEventRegisterAny() with
        VIR_DOMAIN_EVENT_ID_LIFECYCLE")."""
        if pr.msg:
            prefix = prog.name.upper() + "_PROC_"
            for row in self.events:
                fam = row.family
                if row.msg != pr.name or fam.program != prog.name or \
                        not fam.register.startswith(prefix):
                    continue
                short = fam.register[len(prefix):]
                fn = (api_name(prog.name, short, self.functions)
                      or api_name(prog.name, short.replace("_CALLBACK_", "_"), self.functions))
                if fn:
                    return fn + "()" + (f" with {row.event_id}" if row.event_id else "")
            return None
        fn = api_name(prog.name, pr.short, self.functions)
        return fn + "()" if fn else None

    def proc_doc(self, prog, pr) -> List[str]:
        """A procedure's Doxygen text: its constant, number and origin, the
        libvirt API it serves, and its .x comment."""
        api = self.api(prog, pr)
        out = [f"{pr.name} = {pr.number} ({origin(pr.loc)})"
               + (f": libvirt's {api}." if api else ".")]
        xc = doc_text(pr.comments)
        return out + ([""] + xc if xc else [])

    def is_list(self, pr) -> bool:
        """A list procedure: its arguments hold need_results, without which
        the daemon sends only the count."""
        t = self.m.types.get(pr.args) if pr.args else None
        return isinstance(t, Struct) and any(
            f.name == "need_results" and f.shape == "scalar" and f.type.kind in ("int", "uint")
            for f in t.fields)

    def call_functions(self, prog, pr) -> List[str]:
        fn = f"{prog.name}_call_{pr.short.lower()}"
        num = self.proc_const(prog, pr)
        params = ["virtwire_client *c"]
        if pr.args:
            params.append(f"{const_pointer(self.m.proc_ctype(pr.args))}args")
        ret_t = self.m.proc_ctype(pr.ret) if pr.ret else None
        sync = params + ([f"{ret_t} *ret".replace("* *", "**")] if pr.ret else []) \
            + ["virtwire_call_opts *opts"]
        args = "args" if pr.args else "NULL"
        ret = "ret" if pr.ret else "NULL"
        what = []
        if pr.args:
            what.append(f"its arguments in args ({pr.args})")
        if pr.ret:
            what.append(f"its reply into ret ({pr.ret})")
        how = (f"Calls it as virtwire_client_call() does{', ' if what else ''}"
               f"{' and '.join(what)}: 0 or a negative virtwire_error.")
        prelude: List[str] = []
        if self.is_list(pr):
            # Asked for the list, always: need_results 0 would get the count.
            how += (" A list: need_results is sent as 1 whatever args says (0 would get only"
                    " the count), and args may be NULL (all else zero).")
            prelude = [f"    {pr.args} a;",
                       "    if (args)",
                       "        a = *args;",
                       "    else",
                       "        memset(&a, 0, sizeof a);",
                       "    a.need_results = 1;"]
            args = "&a"
        out = doc_block(self.proc_doc(prog, pr) + ["", how])
        out += [f"static inline int {fn}({', '.join(sync)})",
                "{"] + prelude + [
                f"    return virtwire_client_call(c, &{prog.name}_program, {num}, {args}, {ret}, opts);",
                "}", ""]
        if pr.ret:
            reply = params + ["virtwire_call_opts *opts"]
            ret_ptr = f"{ret_t} *".replace("* *", "**")
            out += doc_block([f"{pr.name}'s reply as the call's value, as "
                              "virtwire_client_call_reply() returns it: in opts->arena (no arena: "
                              "on the heap), NULL when the call failed."])
            out += [f"static inline {ret_ptr}{prog.name}_reply_{pr.short.lower()}"
                    f"({', '.join(reply)})",
                    "{"] + prelude + [
                    f"    return ({ret_ptr.rstrip()})virtwire_client_call_reply(c, &{prog.name}_program, "
                    f"{num}, {args}, opts);",
                    "}", ""]
        out += doc_block([f"{pr.name} without waiting, as virtwire_client_call_async() calls it."])
        out += [f"static inline int {fn}_async({', '.join(params + ['const virtwire_call_opts *opts', 'virtwire_client_done_fn done', 'void *opaque'])})",
                "{"] + prelude + [
                f"    return virtwire_client_call_async(c, &{prog.name}_program, {num}, {args}, opts, done, opaque);",
                "}", ""]
        if pr.overrides.get("stream") or any(k in pr.annotations for k in ("readstream", "writestream")):
            stream = sync + ["virtwire_client_stream **stream"]
            out += doc_block([f"{pr.name} with its stream, as virtwire_client_stream_call() opens "
                              "it in *stream."])
            out += [f"static inline int {prog.name}_stream_{pr.short.lower()}({', '.join(stream)})",
                    "{"] + prelude + [
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
                "    void (*fn)(void);  /**< the typed handler */",
                "    void *opaque;      /**< what it gets as opaque */",
                "    int callback_id;   /**< only this callbackID; -1: every one */",
                f"}} {n}_event_binding;", ""]

    def event_function(self, prog, pr) -> List[str]:
        n, short = prog.name, pr.short.lower()
        fn_t = f"{n}_{short}_fn"
        demux = self.has_callback_id(pr.msg)
        filt = (["    if (b->callback_id >= 0 && m->callbackID != b->callback_id)", "        return;"]
                if demux else [])
        doc = ("callback_id: the callbackID the registration call returned, or -1 for all"
               if demux else "callback_id: unused (this event carries no callbackID); pass -1")
        return (doc_block(self.proc_doc(prog, pr)
                          + ["", f"A handler of its messages ({pr.msg}), on the client's I/O "
                                 f"thread: see {n}_on_{short}()."]) + [
                f"typedef void (*{fn_t})(virtwire_client *c, const {pr.msg} *msg, void *opaque);",
                "",
                f"/** The dispatcher {n}_on_{short}() installs. */",
                f"static inline void {n}_dispatch_{short}(virtwire_client *c, const virtwire_program *prog,",
                "                                          int32_t proc, const void *msg, void *opaque)",
                "{",
                f"    const {n}_event_binding *b = (const {n}_event_binding *)opaque;",
                f"    const {pr.msg} *m = (const {pr.msg} *)msg;",
                "    (void)prog;",
                "    (void)proc;"] + filt + [
                f"    (({fn_t})b->fn)(c, m, b->opaque);",
                "}", ""] + [
                f"/** Calls fn for every {pr.name} message; {doc}.",
                f" *  With fn NULL the messages are kept for {n}_next_{short}().",
                " *  Returns the id for virtwire_client_remove_event() or an error. */",
                f"static inline int {n}_on_{short}(virtwire_client *c, {n}_event_binding *b, {fn_t} fn,",
                "                                  int callback_id, void *opaque)",
                "{",
                "    b->fn = (void (*)(void))fn;",
                "    b->opaque = opaque;",
                "    b->callback_id = callback_id;",
                f"    return virtwire_client_on_event(c, &{n}_program, {self.proc_const(prog, pr)}, "
                f"fn ? {n}_dispatch_{short} : NULL, b);",
                "}", "",
                f"/** The next {pr.name} message kept by handler_id (a handler or registration made",
                " *  without a function: reg.handler_id), waiting as opts says, as",
                " *  virtwire_client_next_event() does. */",
                f"static inline int {n}_next_{short}(virtwire_client *c, int handler_id, {pr.msg} *msg,",
                " " * len(f"static inline int {n}_next_{short}(") + "const virtwire_call_opts *opts)",
                "{",
                "    return virtwire_client_next_event(c, handler_id, msg, opts);",
                "}", ""])

    # -- one-step event registrations (protocol/events.tsv) ------------------
    def struct_fields(self, name: Optional[str], row_loc, what: str):
        t = self.m.types.get(name) if name else None
        if not isinstance(t, Struct):
            raise XdrError(row_loc, f"{what} has no struct type")
        return t.fields

    @staticmethod
    def is_int(f, name: Optional[str] = None) -> bool:
        return f.type.kind == "int" and f.shape == "scalar" and (name is None or f.name == name)

    def registrations(self, prog):
        """[(row, register ProcInfo, deregister ProcInfo, msg ProcInfo)] for
        the rows of events.tsv this program has every procedure of, checked
        against the .x: registrations reply with int callbackID first, the
        messages start with it, deregistrations take only it."""
        procs = {pr.name: pr for pr in prog.procs}
        out = []
        for row in self.events:
            fam = row.family
            if fam.program != prog.name:
                continue
            reg, dereg, msg = procs.get(fam.register), procs.get(fam.deregister), procs.get(row.msg)
            if not (reg and dereg and msg):
                continue  # a release older than the event
            if not msg.msg or not self.has_callback_id(msg.msg):
                raise XdrError(row.loc, f"{row.msg} is not an event whose message starts with "
                                        "int callbackID")
            ret = self.struct_fields(reg.ret, fam.loc, f"the reply of {reg.name}")
            if not self.is_int(ret[0], "callbackID"):
                raise XdrError(fam.loc, f"the reply of {reg.name} does not start with int "
                                        "callbackID")
            args = self.struct_fields(reg.args, fam.loc, f"{reg.name}")
            if row.event_id is not None and not any(self.is_int(f, "eventID") for f in args):
                raise XdrError(row.loc, f"{reg.name} takes no int eventID")
            dargs = self.struct_fields(dereg.args, fam.loc, f"{dereg.name}")
            if len(dargs) != 1 or not self.is_int(dargs[0]) or dereg.ret:
                raise XdrError(fam.loc, f"{dereg.name} does not take just an int callbackID")
            out.append((row, reg, dereg, msg))
        return out

    def string_param(self, f) -> bool:
        """An optional string (remote_string): taken as const char *."""
        t = self.m.types.get(f.type.name) if f.type.kind == "named" else None
        return (f.shape == "scalar" and isinstance(t, Typedef) and t.decl.shape == "optional"
                and self.code.string_typedef(t.decl.type) is not None)

    def registration_doc(self, n: str) -> List[str]:
        pad = " " * len(f"static inline int {n}_register_event_common(")
        return [
            "/*",
            " * Event registrations, as libvirt's virConnectDomainEventRegisterAny() and",
            " * its siblings make them: each",
            f" *   {n}_register_<family>_event[_<event>](c, &reg, [args...,] fn, opaque, opts)",
            " * calls the family's registration procedure, with the event's eventID and",
            " * the procedure's other arguments as args (an optional object or name:",
            " * NULL for all), and binds the typed handler fn to the messages that carry",
            " * the callbackID of the reply (protocol/events.tsv says which message",
            " * belongs to which eventID).  Returns 0 (reg->callback_id is then the",
            " * daemon's callbackID) or a negative error, as",
            " * virtwire_client_register_event() does; no handler remains on error.  The",
            " * daemon takes one registration per event and object on a connection (a",
            " * second is refused, VIRTWIRE_EREMOTE): libvirt's own client shares it",
            " * among its callbacks.",
            " *",
            " * No event is lost between the reply and the binding: the handler is in",
            " * place before the call is sent and keeps what arrives until the reply;",
            " * then the kept messages of its callbackID run first, in arrival order,",
            " * and fn sees nothing but its own callbackID.  fn runs on the client's I/O",
            " * thread, possibly before the helper returns.  With fn NULL the messages are",
            f" * kept instead, for {n}_next_<event>(c, reg.handler_id, &msg, opts) to take on",
            " * the program's own thread (virtwire_client_next_event()).",
            " *",
            f" * {n}_deregister_event(c, &reg, opts) removes the handler, then calls the",
            " * family's deregistration procedure: once it returns (whatever the call",
            " * gave), fn is not running and will not run again.  Neither may be called",
            " * from a client callback (their calls are synchronous).",
            " */",
            "",
            f"/** A registration, owned by the caller: valid until {n}_deregister_event()",
            " *  (or the client is closed). */",
            f"typedef struct {n}_event_registration {{",
            f"    {n}_event_binding binding; /**< fn and opaque; the client keeps the callbackID */",
            "    int handler_id;             /**< for virtwire_client_remove_event() */",
            "    int callback_id;            /**< the daemon's callbackID */",
            "    int32_t deregister_proc;    /**< the procedure that ends it */",
            f"}} {n}_event_registration;",
            "",
            "/** What the helpers below share. */",
            f"static inline int {n}_register_event_common(virtwire_client *c, "
            f"{n}_event_registration *reg,",
            f"{pad}int32_t register_proc, const void *args,",
            f"{pad}int32_t event_proc, virtwire_client_event_fn dispatch,",
            f"{pad}void (*fn)(void), void *opaque,",
            f"{pad}int32_t deregister_proc, virtwire_call_opts *opts)",
            "{",
            "    reg->binding.fn = fn;",
            "    reg->binding.opaque = opaque;",
            "    reg->binding.callback_id = -1;",
            "    reg->callback_id = -1;",
            "    reg->deregister_proc = deregister_proc;",
            f"    int id = virtwire_client_register_event(c, &{n}_program, register_proc, args, "
            "event_proc,",
            "                                            fn ? dispatch : NULL, &reg->binding, opts,",
            "                                            &reg->callback_id);",
            "    reg->handler_id = id > 0 ? id : 0;",
            "    return id < 0 ? id : 0;",
            "}",
            ""]

    def register_function(self, prog, row: EventRow, reg, dereg, msg) -> List[str]:
        n = prog.name
        fam = row.family
        prefix = f"VIR_{fam.name.upper()}_EVENT_ID_"
        suffix = (row.event_id or "").lower()
        if row.event_id and row.event_id.startswith(prefix):
            suffix = row.event_id[len(prefix):].lower()
        fname = f"{n}_register_{fam.name}_event" + (f"_{suffix}" if suffix else "")
        params = ["virtwire_client *c", f"{n}_event_registration *reg"]
        # Zeroed, then set member by member: C++ before C++20 has no
        # designated initializers.
        inits = [f"    {reg.args} args;", "    memset(&args, 0, sizeof args);"]
        for f in self.struct_fields(reg.args, fam.loc, reg.name):
            if row.event_id is not None and self.is_int(f, "eventID"):
                inits.append(f"    args.eventID = {row.number}; /* {row.event_id} */")
            elif self.string_param(f):
                params.append(f"const char *{f.name}")
                inits.append(f"    char *{f.name}_str = (char *){f.name};")
                inits.append(f"    args.{f.name} = {f.name} ? &{f.name}_str : NULL;")
            else:
                params.append(self.code.declare(f, f.name))
                inits.append(f"    args.{f.name} = {f.name};")
        params += [f"{n}_{msg.short.lower()}_fn fn", "void *opaque", "virtwire_call_opts *opts"]
        what = f" for {row.event_id} ({row.number})" if row.event_id else ""
        pad = " " * len(f"    return {n}_register_event_common(")
        return [f"/** Registers with {reg.name}{what}",
                f" *  and calls fn for each {msg.name} of the new callbackID. */",
                f"static inline int {fname}({', '.join(params)})",
                "{"] + inits + [
                f"    return {n}_register_event_common(c, reg, {self.proc_const(prog, reg)}, "
                "&args,",
                f"{pad}{self.proc_const(prog, msg)}, {n}_dispatch_{msg.short.lower()},",
                f"{pad}(void (*)(void))fn, opaque, {self.proc_const(prog, dereg)}, opts);",
                "}", ""]

    def deregister_function(self, prog, families) -> List[str]:
        n = prog.name
        out = [f"/** Ends a registration of a {n}_register_*() helper, as libvirt does:",
               " *  removes the handler (events still on their way are dropped), then makes",
               " *  the deregistration call with its callbackID.  Returns 0, the call's",
               " *  error, or VIRTWIRE_EINVAL for a registration already ended. */",
               f"static inline int {n}_deregister_event(virtwire_client *c, "
               f"{n}_event_registration *reg,",
               " " * len(f"static inline int {n}_deregister_event(") + "virtwire_call_opts *opts)",
               "{",
               "    int rc = reg->handler_id > 0 ? virtwire_client_remove_event(c, reg->handler_id)",
               "                                 : VIRTWIRE_EINVAL;",
               "    reg->handler_id = 0;",
               "    if (rc < 0)",
               "        return rc;",
               "    switch (reg->deregister_proc) {"]
        for dereg in families:
            field = self.struct_fields(dereg.args, None, dereg.name)[0].name
            out += [f"    case {self.proc_const(prog, dereg)}: {{",
                    f"        {dereg.args} args;",
                    "        memset(&args, 0, sizeof args);",
                    f"        args.{field} = reg->callback_id;",
                    f"        rc = {n}_call_{dereg.short.lower()}(c, &args, opts);",
                    "        break;",
                    "    }"]
        out += ["    default:",
                "        rc = VIRTWIRE_EINVAL;",
                "    }",
                "    return rc;",
                "}", ""]
        return out

    def program(self, prog) -> List[str]:
        out = [f"/* Program {prog.name}: {len(prog.procs)} procedures. */", ""]
        if any(pr.msg for pr in prog.procs):
            out += self.event_binding(prog)
        for pr in prog.procs:
            out += self.event_function(prog, pr) if pr.msg else self.call_functions(prog, pr)
        regs = self.registrations(prog)
        if regs:
            out += self.registration_doc(prog.name)
            deregs = []
            for row, reg, dereg, msg in regs:
                out += self.register_function(prog, row, reg, dereg, msg)
                if dereg not in deregs:
                    deregs.append(dereg)
            out += self.deregister_function(prog, deregs)
        return out

    def header(self) -> str:
        return wrapper_header(self, "client")


WRAPPER_DOC = {
    "client": "typed calls of virtwire_client.h: per procedure P_call_X() and P_call_X_async(),\n"
              "P_stream_X() for stream procedures, a handler type and P_on_X() per event, and\n"
              "the one-step event registrations P_register_..._event_...()",
    "server": "typed handlers of virtwire_server.h: per program a table of handlers, one per\n"
              "procedure a client calls (P_server_handlers), installed with P_server_bind(),\n"
              "and a typed sender P_send_X() per event",
}


def wrapper_header(emitter, role: str) -> str:
    """<base>_<role>.h: the guard, the includes and emitter.program() for
    every program that carries data (shared by the client and server
    emitters)."""
    guard = guard_name(f"{emitter.base}_{role}")
    out = [BANNER.format(src=emitter.src).rstrip("\n"),
           *doc_block(["@file", f"The {WRAPPER_DOC[role].splitlines()[0]}"]
                      + WRAPPER_DOC[role].splitlines()[1:]
                      + [f"(P a program of {emitter.src}, X a procedure, lower case, without "
                         "its P_PROC_ prefix)."]),
           f"#ifndef {guard}", f"#define {guard}", "",
           "#include <string.h>", "",
           f'#include "virtwire_{role}.h"', f'#include "{emitter.base}.h"', "",
           "#ifdef __cplusplus", 'extern "C" {', "#endif", ""]
    progs = [p for p in emitter.m.programs if ClientEmitter.carries_data(p)]
    if not progs:
        out += [f"/* {emitter.src} defines no program with calls. */", ""]
    for prog in progs:
        out += emitter.program(prog)
    out += ["#ifdef __cplusplus", "}", "#endif", "", f"#endif /* {guard} */", ""]
    return "\n".join(out)
