#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Every example program takes --help: its usage on stdout, nothing on
stderr, exit status 0, and nothing done (no socket called --help, no
connection tried).

usage: test_help.py PROGRAM...
"""
import os
import subprocess
import sys
import tempfile

programs = sys.argv[1:]
assert programs, __doc__
for exe in programs:
    with tempfile.TemporaryDirectory(prefix="vw-help-") as tmp:
        for flag in ("--help", "-h"):
            r = subprocess.run([exe, flag], cwd=tmp, capture_output=True, text=True, timeout=30)
            name = os.path.basename(exe)
            if flag == "-h" and r.returncode == 2:
                continue  # a program may take --help alone
            assert r.returncode == 0, (name, flag, r.returncode, r.stdout, r.stderr)
            assert r.stdout.startswith("usage: ") and r.stderr == "", (name, flag, r)
            assert os.listdir(tmp) == [], (name, flag, os.listdir(tmp))
print(f"ok: {len(programs)} programs")
