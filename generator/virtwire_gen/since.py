# SPDX-License-Identifier: LGPL-2.1-or-later
"""Since which libvirt release each procedure exists, from libvirt's record.

libvirt's version scripts (src/libvirt_public.syms, libvirt_qemu.syms,
libvirt_lxc.syms, src/admin/libvirt_admin_public.syms) list every public API
function in a section named after the release that introduced it:

    LIBVIRT_0.0.3 { global: virConnectOpen; ... };
    LIBVIRT_QEMU_0.8.3 { global: virDomainQemuMonitorCommand; };

A procedure serves the API whose name is the procedure's, in libvirt's
naming: REMOTE_PROC_DOMAIN_GET_INFO serves virDomainGetInfo,
QEMU_PROC_DOMAIN_MONITOR_COMMAND virDomainQemuMonitorCommand,
ADMIN_PROC_CONNECT_OPEN virAdmConnectOpen (the words of the procedure's name
after _PROC_, compared case-insensitively with the API name less its prefix
and its program word, both given by the generator's table, libvirt.APIS).
Such a procedure exists since its API's release.

Procedures with no API of their own (events, authentication, the steps of
migration, the callback forms of event registration) are given out numbers
in order, like every procedure, so one came no earlier than those numbered
below it. Their release is inferred: the latest API release among the
procedures numbered below it that is not later than the release of the next
procedure numbered above it that has one (the cap keeps out the rare
procedure renamed after a newer API, such as REMOTE_PROC_DOMAIN_CREATE_XML,
number 10, once DOMAIN_CREATE_LINUX). An inferred release is a lower bound,
marked as such (VIRTWIRE_PROC_SINCE_INFERRED).

Programs with no API (keepalive, lock, log, lxc_monitor) and procedures
numbered below every one that has an API get no release (0).
"""

from __future__ import annotations

import os
import re
from typing import Dict, List, Optional, Tuple

from .ir import Loc, XdrError
from .libvirt import APIS, Api, syms_file

Release = Tuple[int, int, int]

_SECTION = re.compile(r"^\s*LIBVIRT_(?:[A-Z]+_)*(\d+)\.(\d+)\.(\d+)\s*\{")
_SYMBOL = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*;")


def read_syms(path: str) -> Dict[str, Release]:
    """{API name: release} from one of libvirt's version scripts."""
    out: Dict[str, Release] = {}
    release: Optional[Release] = None
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    for num, line in enumerate(lines, 1):
        line = line.split("#", 1)[0]
        m = _SECTION.match(line)
        if m:
            release = (int(m.group(1)), int(m.group(2)), int(m.group(3)))
            continue
        if re.match(r"^\s*(global|local)\s*:", line) or not line.strip():
            continue
        if re.match(r"^\s*\}", line):
            release = None
            continue
        m = _SYMBOL.match(line)
        if not m or release is None:
            raise XdrError(Loc(path, num, 1), f"not a version script line: '{line.strip()}'")
        # A symbol listed twice keeps its first (oldest) section.
        out.setdefault(m.group(1), release)
    return out


def api_key(name: str, api: Api) -> Optional[str]:
    """The words of an API name that a procedure's name has, lower case."""
    if not name.startswith(api.prefix):
        return None
    rest = name[len(api.prefix):]
    if api.infix:
        if api.infix not in rest:
            return None
        rest = rest.replace(api.infix, "", 1)
    return rest.lower()


def proc_key(short: str) -> str:
    """CONNECT_OPEN -> connectopen."""
    return short.replace("_", "").lower()


def releases(procs: List[Tuple[int, str]], apis: Dict[str, Release],
             api: Api) -> Dict[int, Tuple[Release, bool]]:
    """{number: (release, inferred)} for the procedures (number, short name)
    of one program, given its version script's {API name: release}."""
    by_key = {}
    for name, rel in apis.items():
        key = api_key(name, api)
        if key is not None:
            by_key.setdefault(key, rel)
    exact = {num: by_key[proc_key(short)] for num, short in procs if proc_key(short) in by_key}
    out: Dict[int, Tuple[Release, bool]] = {n: (r, False) for n, r in exact.items()}
    numbers = sorted(exact)
    for num, _ in procs:
        if num in exact:
            continue
        below = [exact[n] for n in numbers if n < num]
        above = [exact[n] for n in numbers if n > num]
        cap = above[0] if above else None
        fit = [r for r in below if cap is None or r <= cap]
        if fit:
            out[num] = (max(fit), True)
    return out


def apply(model, syms_dir: str) -> None:
    """Sets ProcInfo.since of every procedure of model's programs that
    libvirt's version scripts in syms_dir cover.  A program whose version
    script is missing from syms_dir is an error (XdrError)."""
    for prog in model.programs:
        api = next((a for a in APIS if a.program == prog.name), None)
        if api is None:
            continue
        path = os.path.join(syms_dir, syms_file(api))
        if not os.path.isfile(path):
            raise XdrError(Loc(path, 1, 1),
                           f"program {prog.name}: libvirt's version script {syms_file(api)} is "
                           f"not in {syms_dir} (protocol/fetch-libvirt puts it beside the .x "
                           f"files)")
        table = releases([(p.number, p.short) for p in prog.procs], read_syms(path), api)
        for p in prog.procs:
            p.since = table.get(p.number)
