#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The guides' example programs (docs/guides/examples) against real peers,
their output checked.

usage: test_guides.py GROUP NAME=PATH...

  calls         guide-calls against a private libvirtd, checked with virsh,
                and against guide-server for timeouts
  streams       guide-streams against virtwire-mockd, checked with virsh
  events        guide-events against virtwire-mockd, checked with virsh
  fds           guide-fds (its own server and client)
  server        guide-server with virsh, python3-libvirt and raw sockets
  regenerating  guide-procs built on libvirt 9.0.0's and 11.3.0's bindings,
                against `virtwire-gen diff` of the two releases
  own           guide-kv-server and guide-kv-client (kv.x, a program of
                one's own), and the server's replies read byte by byte

NAME=PATH gives the programs and directories: calls, streams, events, fds, server,
kvserver, kvclient,
mockd, private (tests/libvirtd/private-libvirtd), procs9 and procs11
(guide-procs on each release's bindings), xdr9 and xdr11 (the releases'
.x files), gen (generator/virtwire-gen).
"""
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import vwtest  # noqa: E402
from vwtest import (KEEPALIVE_PROGRAM, MESSAGE, REPLY, Daemon, Libvirtd, frame,  # noqa: E402
                    read_frame, short_tmpdir)

GROUP = sys.argv[1]
BIN = dict(a.split("=", 1) for a in sys.argv[2:])
TIMEOUT = 20


def run(argv, ok=True):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT)
    if ok:
        assert r.returncode == 0, (argv, r.returncode, r.stdout, r.stderr)
    return r


def virsh(uri, *args, ok=True):
    return vwtest.virsh(uri, *args, ok=ok, timeout=TIMEOUT)


# --------------------------------------------------------------------------


def test_calls():
    lvd = Libvirtd(prefix="vwg.", script=BIN["private"])
    try:
        uri = lvd.uri
        out = run([BIN["calls"], uri, "test"]).stdout.splitlines()
        assert len(out) == 5, out

        assert out[0] == "hostname: " + virsh(uri, "hostname").stdout.strip(), out[0]

        info = {k.strip(): v.strip() for k, v in
                (line.split(":", 1) for line in virsh(uri, "dominfo", "test").stdout.splitlines()
                 if ":" in line)}
        assert info["State"] == "running", info  # VIR_DOMAIN_RUNNING = 1
        want = "domain test: id %s, state 1, %s vcpus, %s" % (info["Id"], info["CPU(s)"],
                                                                info["Max memory"])
        assert out[1] == want, (out[1], want)

        # VIR_ERR_NO_DOMAIN (42) from VIR_FROM_TEST (12), libvirt's wording.
        assert re.fullmatch(r"no-such-domain: remote error 42 \(domain 12\): "
                            r"Domain not found.*", out[2]), out[2]

        rows = [line for line in virsh(uri, "list", "--all").stdout.splitlines()[2:]
                if line.strip()]
        assert out[3] == "domains: %d" % len(rows), (out[3], rows)

        daemon = re.search(r"Running against daemon: (\d+)\.(\d+)\.(\d+)",
                           virsh(uri, "version", "--daemon").stdout)
        major, minor, micro = map(int, daemon.groups())
        assert out[4] == "library version: %d" % (major * 1000000 + minor * 1000 + micro), out[4]
    finally:
        lvd.stop()

    # Timeouts, against guide-server, which answers CONNECT_GET_SYSINFO
    # after 200 ms.
    s = Daemon(BIN["server"])
    try:
        out = run([BIN["calls"], "--timeouts", s.uri]).stdout
        assert out.splitlines() == [
            "sysinfo within 50 ms: call timed out (VIRTWIRE_ETIMEDOUT)",
            "hostname: guide-host",
            "sysinfo within 5000 ms: %d bytes" % len(SYSINFO),
        ], out
    finally:
        s.stop()


# --------------------------------------------------------------------------

DATA1, HOLE, DATA2 = 64 * 1024, 1024 * 1024, 4 * 1024


def expected_volume(capacity):
    first = bytes(1 + i % 251 for i in range(DATA1))
    return (first + bytes(HOLE) + b"\xab" * DATA2 +
            bytes(capacity - DATA1 - HOLE - DATA2))


def test_streams():
    d = Daemon(BIN["mockd"])
    try:
        shot = os.path.join(d.dir, "ours.png")
        out = run([BIN["streams"], d.uri, "default", "disk.img", "test", shot]).stdout
        cap = 4 * 1024 * 1024
        tail = cap - DATA1 - HOLE - DATA2
        assert out.splitlines() == [
            "volume disk.img: capacity %d" % cap,
            "uploaded: data %d, hole %d, data %d" % (DATA1, HOLE, DATA2),
            "downloaded:",
            "  data 0 +%d" % DATA1,
            "  hole %d +%d" % (DATA1, HOLE),
            "  data %d +%d" % (DATA1 + HOLE, DATA2),
            "  hole %d +%d" % (DATA1 + HOLE + DATA2, tail),
            "  %d bytes, as uploaded" % cap,
            "refused: invalid argument: data beyond the upload range",
            "screenshot: image/png, %d bytes" % os.path.getsize(shot),
        ], out

        # What virsh sees of the same volume and the same screen.
        vol = virsh(d.uri, "vol-info", "--pool", "default", "disk.img", "--bytes").stdout
        assert re.search(r"Allocation:\s+%d bytes" % (DATA1 + DATA2), vol), vol
        got = os.path.join(d.dir, "virsh.img")
        virsh(d.uri, "vol-download", "--pool", "default", "disk.img", got, "--sparse")
        with open(got, "rb") as f:
            assert f.read() == expected_volume(cap)
        theirs = os.path.join(d.dir, "virsh.png")
        virsh(d.uri, "screenshot", "test", theirs)
        with open(shot, "rb") as a, open(theirs, "rb") as b:
            mine = a.read()
            assert mine[:8] == b"\x89PNG\r\n\x1a\n" and mine == b.read()
    finally:
        d.stop()


# --------------------------------------------------------------------------


def test_events():
    d = Daemon(BIN["mockd"])
    try:
        out = run([BIN["events"], d.uri, "test", "vm1"]).stdout.splitlines()
        ids = re.fullmatch(r"callbackIDs (\d+) and (\d+)", out[0])
        assert ids and ids.group(1) != ids.group(2), out
        assert out[1:] == [
            "every domain:",
            "  suspended test", "  resumed test", "  started vm1", "  stopped vm1",
            "one domain:",
            "  suspended test", "  resumed test",
        ], out
        # The changes happened, as virsh sees them.
        assert virsh(d.uri, "domstate", "test").stdout.strip() == "running"
        assert virsh(d.uri, "domstate", "vm1").stdout.strip() == "shut off"
        # A domain that does not exist: the lookup's remote_error, exit 1.
        r = run([BIN["events"], d.uri, "test", "nosuch"], ok=False)
        assert r.returncode == 1 and "lookup:" in r.stderr and "nosuch" in r.stderr, r
    finally:
        d.stop()


# --------------------------------------------------------------------------


def test_fds():
    d = short_tmpdir()
    try:
        sock = os.path.join(d, "s")
        out = run([BIN["fds"], sock]).stdout
        assert out.splitlines() == [
            "REMOTE_PROC_DOMAIN_CREATE_XML_WITH_FILES: fds in the call: yes",
            "REMOTE_PROC_DOMAIN_OPEN_GRAPHICS_FD: fds in the reply: yes",
            'server: fd 0 said "alpha", fd 1 said "beta"; keeping fd 1',
            'client: created "alpha+beta"',
            'client: received fd, read "graphics of demo, screen 0"',
            "server: kept fd at end of file: yes",
        ], out
        assert not os.path.exists(sock), "the server left its socket behind"
    finally:
        shutil.rmtree(d, ignore_errors=True)


# --------------------------------------------------------------------------

PROC_SUPPORTS_FEATURE, PROC_HOSTNAME, PROC_SYSINFO = 60, 59, 203
PICTURE = (b"P6\n2 2\n255\n" b"\xff\x00\x00\x00\xff\x00" b"\x00\x00\xff\xff\xff\xff")
SYSINFO = ("<sysinfo type='smbios'>\n  <system>\n    <entry name='product'>guide</entry>\n"
           "  </system>\n</sysinfo>\n")


def xdr_string(b):
    n = struct.unpack(">I", b[:4])[0]
    return b[4:4 + n].decode()


def test_server():
    d = Daemon(BIN["server"], "--max-requests", "1", "--keepalive-interval-ms", "300",
               "--keepalive-count", "2")
    try:
        # virsh: a plain call, a deferred one, a stream.
        assert virsh(d.uri, "hostname").stdout.strip() == "guide-host"
        t0 = time.monotonic()
        assert virsh(d.uri, "sysinfo").stdout.strip() == SYSINFO.strip()
        assert time.monotonic() - t0 >= 0.2
        pic = os.path.join(d.dir, "p.ppm")
        virsh(d.uri, "screenshot", "demo", pic)
        with open(pic, "rb") as f:
            assert f.read() == PICTURE

        # python3-libvirt: the handler's remote_error as libvirt reports it.
        py = run(["/usr/bin/python3", "-c", """
import libvirt, sys
libvirt.registerErrorHandler(lambda *a: None, None)
c = libvirt.open(sys.argv[1])
print(c.lookupByName("demo").UUIDString())
try:
    c.lookupByName("nosuch")
except libvirt.libvirtError as e:
    print(e.get_error_code(), e.get_error_domain(), e.get_error_message())
c.close()
""", d.uri]).stdout.splitlines()
        assert py == ["de300102-0304-0506-0708-090a0b0c0d0e",
                      "42 12 Domain not found: no domain with matching name 'nosuch'"], py

        # The request limit (1): of two deferred calls and a plain one sent
        # together, the second waits for the first and the plain one for both.
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(TIMEOUT)
        s.connect(d.sock)
        t0 = time.monotonic()
        s.sendall(frame(PROC_SYSINFO, 1, struct.pack(">I", 0)) +
                  frame(PROC_SYSINFO, 2, struct.pack(">I", 0)) + frame(PROC_HOSTNAME, 3))
        got = []
        for _ in range(3):
            hdr, body = read_frame(s)
            got.append((hdr[4], round(time.monotonic() - t0, 2), body))
        assert [g[0] for g in got] == [1, 2, 3], got
        assert xdr_string(got[2][2]) == "guide-host" and xdr_string(got[0][2]) == SYSINFO
        assert got[0][1] >= 0.2 and got[1][1] >= got[0][1] + 0.15 and got[2][1] >= got[1][1], got
        s.close()

        # Keepalive: once a client says it supports it, a PING after every
        # 300 ms of silence; after 2 unanswered ones the client is dropped.
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(TIMEOUT)
        s.connect(d.sock)
        s.sendall(frame(PROC_SUPPORTS_FEATURE, 1, struct.pack(">i", 10)))
        hdr, body = read_frame(s)
        assert hdr[3] == REPLY and body == struct.pack(">i", 1), (hdr, body)
        t0 = time.monotonic()
        events = []
        while True:
            f = read_frame(s, eof_ok=True)
            events.append((None if f is None else (f[0][0], f[0][2], f[0][3]),
                           time.monotonic() - t0))
            if f is None:
                break
        s.close()
        assert [e[0] for e in events] == [(KEEPALIVE_PROGRAM, 1, MESSAGE)] * 2 + [None], events
        assert events[0][1] >= 0.25 and events[1][1] >= events[0][1] + 0.25, events
        assert 0.85 <= events[2][1] < 5, events
    finally:
        log = d.stop()
    assert log.count("client dropped: keepalive timeout") == 1, log
    assert "unknown procedure" not in log, log


# --------------------------------------------------------------------------


def procs(which, program, *names):
    r = run([BIN[which], program, *names], ok=False)
    assert r.returncode in (0, 1), r
    return r.returncode, r.stdout


def test_regenerating():
    r = run([sys.executable, BIN["gen"], "diff", "--json", BIN["xdr9"], BIN["xdr11"]])
    diff = json.loads(r.stdout)
    assert diff["compatible"] is True, diff
    changes = [p for f in diff["files"] for p in f["procedures"]]
    added = [p for p in changes if p["change"] == "added"]
    assert len(added) >= 10, changes
    # 9.0.0 to 11.3.0 removes nothing; what changed (annotations) keeps
    # its number and types, so both builds agree on it.
    assert {p["change"] for p in changes} <= {"added", "changed"}, changes
    for p in changes:
        if p["change"] == "changed":
            assert "old_number" not in p and "old_name" not in p, p
            assert procs("procs9", p["program"], p["name"]) == \
                procs("procs11", p["program"], p["name"]), p
    for p in added:
        # Built on 11.3.0's bindings: there, as the diff describes it.
        rc, out = procs("procs11", p["program"], p["name"])
        line = "%s %d args=%s ret=%s" % (p["name"], p["number"], p["args"] or "-",
                                         p["ret"] or "-")
        assert rc == 0 and out.startswith(line), (out, line)
        # Added after 9.0.0: the release it exists since is later.
        since = re.search(r" since=(>=)?(\d+)\.(\d+)\.(\d+)$", out.strip())
        assert since and tuple(map(int, since.groups()[1:])) > (9, 0, 0), out
        # Built on 9.0.0's: unknown.
        assert procs("procs9", p["program"], p["name"]) == (1, p["name"] + " unknown\n")
    # Nothing else differs: the counts of procedures follow.
    for program in sorted({p["program"] for p in added}):
        n = {}
        for which in ("procs9", "procs11"):
            rc, out = procs(which, program)
            n[which] = int(re.search(r"(\d+) procedures", out).group(1))
        assert n["procs11"] - n["procs9"] == sum(p["program"] == program for p in added), n
    # Names without the prefix, in any case.
    rc, out = procs("procs11", "remote", "domain_get_info")
    assert out.startswith("REMOTE_PROC_DOMAIN_GET_INFO 16 args=remote_domain_get_info_args "
                          "ret=remote_domain_get_info_ret"), out


def test_own():
    d = Daemon(BIN["kvserver"])
    try:
        def kv(*args, ok=True):
            return run([BIN["kvclient"], d.sock, *args], ok=ok)
        assert kv("count").stdout == "0 keys\n"
        kv("put", "color", "blue")
        kv("put", "size", "42")
        kv("put", "color", "green")  # replaced
        assert kv("get", "color").stdout == "green\n"
        assert kv("get", "nosuch").stdout == "nosuch: no value\n"
        assert kv("count").stdout == "2 keys\n"
        # No server there: the socket and errno, and status 1.
        r = run([BIN["kvclient"], d.sock + ".x", "count"], ok=False)
        assert r.returncode == 1 and r.stderr == (
            "guide-kv-client: Failed to connect socket to '%s.x': No such file or directory\n"
            % d.sock), r
        # The wire, by hand: KV_GET (program 0x20009001, version 1, procedure
        # 2) of "size" is a reply of found = 1 and the two bytes "42"; an
        # unknown procedure, libvirt's error.
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(TIMEOUT)
        s.connect(d.sock)
        s.sendall(frame(2, 7, vwtest.xdr_string("size"), prog=0x20009001))
        hdr, payload = read_frame(s)
        assert hdr == (0x20009001, 1, 2, REPLY, 7, 0), hdr
        assert payload == struct.pack(">II", 1, 2) + b"42\0\0", payload
        s.sendall(frame(9, 8, b"", prog=0x20009001))
        hdr, payload = read_frame(s)
        assert hdr == (0x20009001, 1, 9, REPLY, 8, 1), hdr
        assert b"unknown procedure: 9" in payload, payload
        s.close()
    finally:
        d.stop()


{"calls": test_calls, "streams": test_streams, "events": test_events, "fds": test_fds, "server": test_server,
 "regenerating": test_regenerating, "own": test_own}[GROUP]()
print("ok: " + GROUP)
