# SPDX-License-Identifier: LGPL-2.1-or-later
"""An umbrella module: one array of the descriptors of several generated
modules, for code that wants them all (a decoder of any libvirt message, a
tool that lists every procedure).

generator/regenerate writes it for libvirt's nine modules, in the order of
the generator's table (libvirt.py):

    libvirt_protocols.h/.c          virtwire_libvirt_protocols[] (each
                                    module's virtwire_protocol) and
                                    virtwire_libvirt_nprotocols
    libvirt_protocols_json.h/.c     with --json: virtwire_libvirt_json_modules[]
                                    (each module's virtwire_json_module) and
                                    virtwire_libvirt_njson_modules
"""

from __future__ import annotations

from typing import List, Tuple

from .emit_c import BANNER, descriptor_name, guard_name, indent

LIBVIRT_UMBRELLA = "libvirt_protocols"
LIBVIRT_PREFIX = "virtwire_libvirt"


class UmbrellaEmitter:
    """NAME.h and NAME.c (or NAME_json.h and NAME_json.c) listing the
    descriptors of modules, in the order given."""

    def __init__(self, name: str, prefix: str, modules: List[str], src: str,
                 json: bool = False):
        self.base = name
        self.name = name + ("_json" if json else "")
        self.prefix = prefix
        self.modules = list(modules)
        self.src = src
        self.json = json

    @staticmethod
    def file_names(name: str, json: bool = False) -> List[str]:
        """The files an umbrella called name is written to."""
        base = name + ("_json" if json else "")
        return [base + ".h", base + ".c"]

    def symbols(self) -> Tuple[str, str]:
        """The array's name and its count's."""
        if self.json:
            return f"{self.prefix}_json_modules", f"{self.prefix}_njson_modules"
        return f"{self.prefix}_protocols", f"{self.prefix}_nprotocols"

    def element(self) -> str:
        return "virtwire_json_module" if self.json else "virtwire_protocol"

    def header(self) -> str:
        guard = guard_name(self.name)
        array, count = self.symbols()
        what = "JSON converter tables" if self.json else "protocol descriptors"
        first = self.modules[0] + ("_json" if self.json else "")
        out = [BANNER.format(src=self.src).rstrip("\n"),
               "/**", " * @file",
               f" * The {what} of {len(self.modules)} modules in one array, for code that wants",
               " * them all.", " */",
               f"#ifndef {guard}", f"#define {guard}",
               "", "#include <stddef.h>", "",
               '#include "virtwire_json.h"' if self.json else '#include "virtwire_program.h"',
               "", "#ifdef __cplusplus", 'extern "C" {', "#endif", "",
               f"/** The {what} of {len(self.modules)} modules, none NULL, in this order:"]
        out += [f" *   - {m}" for m in self.modules]
        sym = first if self.json else descriptor_name(first)
        out += [f" * Each is also declared by its module's own header ({first}.h: {sym}). */",
                f"extern const {self.element()} *const {array}[];",
                f"/** The number of entries of {array}: {len(self.modules)}. */",
                f"extern const size_t {count};", "",
                "#ifdef __cplusplus", "}", "#endif", "", f"#endif /* {guard} */", ""]
        return "\n".join(out)

    def source(self) -> str:
        array, count = self.symbols()
        suffix = "_json" if self.json else ""
        out = [BANNER.format(src=self.src).rstrip("\n"), f'#include "{self.name}.h"', ""]
        out += [f'#include "{m}{suffix}.h"' for m in self.modules]
        out += ["", f"const {self.element()} *const {array}[] = {{"]
        out += indent([f"&{m}_json," if self.json else f"&{descriptor_name(m)}," for m in self.modules])
        out += ["};", "", f"const size_t {count} =", f"    sizeof({array}) / sizeof({array}[0]);", ""]
        return "\n".join(out)

    def outputs(self) -> List[Tuple[str, str]]:
        """(file name, text) of each file."""
        h, c = self.file_names(self.base, self.json)
        return [(h, self.header()), (c, self.source())]
