#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Vendoring: examples/vendor-codec builds from copies of runtime/ and
generated/ alone, with the one cc command its README shows, and prints the
bytes docs/protocol.md quotes ("Connection setup").

The test copies only the files a vendoring project copies (runtime/core/*.[ch],
generated/*.[ch], the example's main.c) into a temporary directory, runs the
README's command there with plain `cc` (at -O1 instead of -O2 to save time,
and with -Wall -Wextra -Werror), runs the program and compares its output
with values worked out by hand below.
"""

import glob
import os
import re
import shutil
import subprocess
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
EXAMPLE = os.path.join(REPO, "examples", "vendor-codec")

# The CONNECT_OPEN call virsh sends first after auth (docs/protocol.md,
# "Connection setup"), serial 2:
CALL_FRAME = " ".join([
    "00000038",  # length word: 4 + 24 + 28 = 56 = 0x38, itself included
    # virNetMessageHeader, six words
    "20008086",  # prog: REMOTE_PROGRAM
    "00000001",  # vers: REMOTE_PROTOCOL_VERSION
    "00000001",  # proc: REMOTE_PROC_CONNECT_OPEN
    "00000000",  # type: VIR_NET_CALL
    "00000002",  # serial 2
    "00000000",  # status: VIR_NET_OK
    # remote_connect_open_args { remote_string name; unsigned int flags; }
    "00000001",  # name is optional data: present
    "0000000f",  # string length 15 = len("test:///default")
    "74657374",  # "test"
    "3a2f2f2f",  # ":///"
    "64656661",  # "defa"
    "756c7400",  # "ult" + 1 zero padding byte (15 -> 16)
    "00000000",  # flags 0
])

EXPECTED_OUTPUT = [
    "call frame (56 bytes): " + CALL_FRAME,
    # the hand-written reply: REPLY = 1, serial echoed, status ERROR = 1
    "reply header: prog=0x20008086 vers=1 proc=1 type=1 serial=2 status=1",
    'remote_error: code=42 domain=12 message="Domain not found" level=2 dom=NULL '
    "str1=NULL str2=NULL str3=NULL int1=0 int2=0 net=NULL",
    "procedure 1: REMOTE_PROC_CONNECT_OPEN (args remote_connect_open_args, ret void)",
]


def readme_command():
    """The cc line of the README's build instructions."""
    with open(os.path.join(EXAMPLE, "README.md"), encoding="utf-8") as f:
        lines = [ln.strip() for ln in f if ln.strip().startswith("cc ")]
    if len(lines) != 1:
        raise AssertionError(f"README.md should show exactly one cc command, found {lines}")
    return lines[0]


def copy_vendored(dest):
    """Copies what a vendoring project copies, and nothing else."""
    for sub in ("runtime/core", "generated"):
        os.makedirs(os.path.join(dest, sub))
        for path in glob.glob(os.path.join(REPO, sub, "*.[ch]")):
            shutil.copy(path, os.path.join(dest, sub))
    os.makedirs(os.path.join(dest, "examples", "vendor-codec"))
    shutil.copy(os.path.join(EXAMPLE, "main.c"), os.path.join(dest, "examples", "vendor-codec"))


class VendoringTest(unittest.TestCase):
    def test_readme_command(self):
        cmd = readme_command()
        self.assertEqual(cmd, "cc -std=c11 -O2 -Iruntime/core -Igenerated runtime/core/*.c generated/*.c "
                              "examples/vendor-codec/main.c -o vendor-codec")

    def test_build_and_run(self):
        # -O1: remote_protocol.c alone takes ~17 s at -O2
        cmd = readme_command().replace(" -O2 ", " -O1 -Wall -Wextra -Werror ")
        self.assertIn("-Werror", cmd)
        # In the sanitizer build the vendored program runs sanitized too.
        san = os.environ.get("VIRTWIRE_SANITIZE", "")
        if san:
            cmd += f" -fsanitize={san} -fno-omit-frame-pointer -fno-sanitize-recover=all"
        with tempfile.TemporaryDirectory() as tmp:
            copy_vendored(tmp)
            build = subprocess.run(["sh", "-c", cmd], cwd=tmp, capture_output=True, text=True,
                                   timeout=300)
            self.assertEqual(build.returncode, 0, build.stderr)
            self.assertEqual(build.stderr, "", "the build must be warning-free")
            run = subprocess.run([os.path.join(tmp, "vendor-codec")], capture_output=True,
                                 text=True, timeout=30)
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertEqual(run.stdout.splitlines(), EXPECTED_OUTPUT)

    def test_frame_matches_protocol_md(self):
        """docs/protocol.md, "Connection setup", quotes the frame with the
        string as text followed by its padding byte; spelled out, that is
        CALL_FRAME."""
        quoted = ('00000038 20008086 00000001 00000001 00000000 00000002 00000000 | '
                  '00000001 0000000f "test:///default" 00 | 00000000')
        spelled = re.sub(r'"([^"]*)"', lambda m: m.group(1).encode().hex(), quoted)
        spelled = spelled.replace("|", "").replace(" ", "")
        self.assertEqual(spelled, CALL_FRAME.replace(" ", ""))
        self.assertEqual(len(bytes.fromhex(spelled)), 56)

if __name__ == "__main__":
    unittest.main()
