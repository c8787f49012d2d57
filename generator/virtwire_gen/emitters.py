# SPDX-License-Identifier: LGPL-2.1-or-later
"""The emitters of one .x module, and what they share.

Every emitter class declares what it produces:

    file_names(base)              the files it writes for the module base
    declared_names(model, base)   the file-scope C names they define, as
                                  (name, what it is) pairs
    outputs()                     (file name, text) of each file

The codec emitter (emit_c) writes NAME.h and NAME.c, the client and server
emitters NAME_client.h and NAME_server.h, and the JSON emitter (--json)
NAME_json.h and NAME_json.c instead.  Only this module knows them all: the
names of every emitter are checked against each other whichever files are
written, so that a .x file that compiles into codecs also compiles into the
rest.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Tuple

from .emit_c import ModuleEmitter, check_c_names
from .emit_client import ClientEmitter
from .emit_json import JsonEmitter
from .emit_server import ServerEmitter
from .ir import Loc, XdrError
from .resolve import Model
from .tables import EventRow

# Every emitter, in the order their names are checked.
EMITTERS = (ModuleEmitter, JsonEmitter, ClientEmitter, ServerEmitter)


def check_names(model: Model, base: str):
    """Generated names must not collide with each other or with .x names,
    and every name the .x gives must be usable as it is in C."""
    seen: Dict[str, str] = {}
    for emitter in EMITTERS:
        for name, what in emitter.declared_names(model, base):
            if name in seen and seen[name] != what:
                raise XdrError(Loc(model.spec.file, 1, 1),
                               f"generated name '{name}' ({what}) collides with {seen[name]}")
            seen[name] = what
    check_c_names(model, base)


def module_outputs(model: Model, base: str, src_name: str, import_bases: List[str],
                   passthrough: bool = False, events: Optional[List[EventRow]] = None,
                   json: bool = False, functions=()) -> List[Tuple[str, str]]:
    """(file name, text) of every file of one module: the codecs, typed
    client calls and server handlers, or with json the JSON conversion.
    functions: the names of libvirt's public API, to say which one each
    procedure serves."""
    if json:
        emitters = [JsonEmitter(model, base, src_name, import_bases, events, functions)]
    else:
        emitters = [ModuleEmitter(model, base, src_name, import_bases, passthrough),
                    ClientEmitter(model, base, src_name, events, functions),
                    ServerEmitter(model, base, src_name)]
    check_names(model, base)
    return [out for emitter in emitters for out in emitter.outputs()]
