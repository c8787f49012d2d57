# SPDX-License-Identifier: LGPL-2.1-or-later
"""docs/guides/remote.md, "A test daemon with TLS in five commands": the
five commands of its sh block run as written, with its temporary paths
and port replaced by fresh ones (and the build tree's virtwire-list); the
daemon must list the test driver's domain to virsh and to virtwire-list
alike, and stop.

usage: test_guide.py VIRTWIRE_LIST
"""
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import vwtest  # noqa: E402

LIST = sys.argv[1]
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GUIDE = os.path.join(REPO, "docs", "guides", "remote.md")


def commands():
    with open(GUIDE, encoding="utf-8") as f:
        text = f.read()
    section = text.split("### A test daemon with TLS in five commands", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    return [line for line in block.splitlines() if line.strip()]


def main():
    cmds = commands()
    assert len(cmds) == 5, cmds
    pki = vwtest.short_tmpdir("vwg-pki.")
    lvd = vwtest.short_tmpdir("vwg-tls.")
    port = str(vwtest.free_port())
    out = []
    try:
        for cmd in cmds:
            cmd = (cmd.replace("/tmp/vw-pki", pki).replace("/tmp/vw-tls", lvd)
                   .replace("VIRTWIRE_TLS_PORT=16514", "VIRTWIRE_TLS_PORT=" + port)
                   .replace("localhost/", "localhost:%s/" % port)
                   .replace("build/examples/virtwire-list", vwtest.LAUNCH + " " + LIST))
            r = subprocess.run(cmd, shell=True, cwd=REPO, capture_output=True, text=True,
                               timeout=120)
            assert r.returncode == 0, (cmd, r.stdout, r.stderr)
            out.append(r.stdout)
        virsh_rows = [line.split() for line in out[2].splitlines()[2:] if line.strip()]
        ours_rows = [line.split() for line in out[3].splitlines() if line.strip()][1:]
        assert virsh_rows == [["1", "test", "running"]], out[2]
        assert ours_rows == virsh_rows, (out[3], out[2])
        assert not os.path.exists(os.path.join(lvd, "libvirtd.pid")), "the daemon did not stop"
    finally:
        subprocess.run([vwtest.PRIVATE_LIBVIRTD, "stop", lvd], timeout=60)
        shutil.rmtree(pki, ignore_errors=True)
        shutil.rmtree(lvd, ignore_errors=True)
    print("tls.guide: ok")


if __name__ == "__main__":
    main()
