#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Checks that a directory of generated code is byte-identical to what the
generator produces now.

usage: check_generated.py XDIR GENERATED_DIR

Regenerates the nine libvirt modules from XDIR into a temporary directory
and compares every file both ways (nothing missing, nothing extra, no byte
different). Exit status 0 when identical, 1 otherwise.
"""

import filecmp
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REGENERATE = os.path.join(HERE, "..", "generator", "regenerate")


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    xdir, committed = argv[1], argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, REGENERATE, xdir, tmp], check=True)
        fresh = sorted(os.listdir(tmp))
        have = sorted(f for f in os.listdir(committed) if f.endswith((".c", ".h")))
        bad = []
        for name in sorted(set(fresh) | set(have)):
            if name not in have:
                bad.append(f"missing from {committed}: {name}")
            elif name not in fresh:
                bad.append(f"not produced by the generator: {name}")
            elif not filecmp.cmp(os.path.join(tmp, name), os.path.join(committed, name),
                                 shallow=False):
                bad.append(f"differs: {name}")
        # A second run must give the same bytes (no timestamps, stable order).
        with tempfile.TemporaryDirectory() as tmp2:
            subprocess.run([sys.executable, REGENERATE, xdir, tmp2], check=True)
            for name in fresh:
                if not filecmp.cmp(os.path.join(tmp, name), os.path.join(tmp2, name),
                                   shallow=False):
                    bad.append(f"not deterministic: {name}")
    for b in bad:
        print(b)
    if bad:
        print("generated/ is stale: run `cmake --build BUILD --target regenerate`")
        return 1
    print(f"{len(fresh)} generated files identical")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
