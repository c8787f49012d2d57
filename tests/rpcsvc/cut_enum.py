#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""usage: cut_enum.py FILE.x ENUM OUT.x

Writes OUT.x with the definition `enum ENUM { ... };` of FILE.x alone.

nis_callback.x takes nis_object and nis_error from libnsl's hand-written
<rpcsvc/nis.h>; virtwire-gen takes them from .x files: nis_object.x, and
nis.x's enum nis_error cut out of it with this (nis.x itself is refused by
rpcgen and by virtwire-gen: a %#define continued on lines without '%').
"""

import re
import sys


def main(argv):
    if len(argv) != 4:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"^enum\s+" + re.escape(argv[2]) + r"\s*\{.*?\};", text, re.S | re.M)
    if not m:
        print(f"cut_enum.py: {argv[1]} has no enum {argv[2]}", file=sys.stderr)
        return 1
    with open(argv[3], "w", encoding="utf-8") as f:
        f.write(f"/* enum {argv[2]} of {argv[1]} */\n{m.group(0)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
