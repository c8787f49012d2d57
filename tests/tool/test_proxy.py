#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""`virtwire proxy` and `virtwire replay` against real peers.

usage: test_proxy.py GROUP VIRTWIRE MOCKD

  virsh     virsh through the proxy to a private libvirtd: lifecycle with
            events, a screenshot, an fd-passing create; the JSON log
            checked line by line against what each virsh did; the pcapng
            read back by `virtwire decode` and by tshark (no malformed
            packet, no warning), frame for frame the log's
  python    python3-libvirt through the proxy: events from its event loop,
            keepalive through an idle stretch, a screenshot stream, fds
            both ways (create with files to libvirtd, a graphics fd from
            virtwire-mockd)
  perl      Perl Sys::Virt through the proxy: the same kinds of calls
  sparse    a sparse volume round trip through the proxy (virsh and the
            virtwire tool against virtwire-mockd): holes logged as holes
  readonly  --read-only against libvirtd's read-only socket, procedure by
            procedure: every call libvirtd refuses there is refused by the
            proxy with the very same error and never reaches the daemon,
            every other one is not; --deny and --allow
  admin     virt-admin through the proxy to libvirtd's admin socket
  tcp       clients on TCP, the daemon on TCP
  faults    the daemon killed (clients get a clean close, the proxy goes
            on), a client killed in the middle of a download (the upstream
            stream is aborted), a slow client flooding calls and a daemon
            flooding a client that does not read (memory stays bounded),
            many clients at once; no fd leaks
  replay    record virsh and python3-libvirt sessions through the proxy,
            replay them: the same output; an unmatched call's error

Every daemon and proxy is started here and stopped at the end; our
programs run through tests/valgrind/launch.
"""

import json
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from vwtest import data_and_holes, free_port, short_tmpdir, sparse_file, xdr_string  # noqa: E402
import vwtest  # noqa: E402

GROUP, TOOL, MOCKD = sys.argv[1:4]
HERE = os.path.dirname(os.path.abspath(__file__))
PRIVATE = os.path.join(HERE, "..", "libvirtd", "private-libvirtd")
LAUNCH = os.path.join(HERE, "..", "valgrind", "launch")
VALGRIND = os.environ.get("VIRTWIRE_VALGRIND", "0") not in ("", "0")
# Memory figures mean something only without valgrind or AddressSanitizer
# (whose quarantine keeps what is freed).
MEASURE = not VALGRIND and not os.environ.get("VIRTWIRE_SANITIZE")
TIMEOUT = 60 if VALGRIND else 30
MIB = 1 << 20
REMOTE = 0x20008086


def run(*argv, ok=True, timeout=TIMEOUT, **kw):
    r = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout, **kw)
    if ok:
        assert r.returncode == 0, (argv, r.returncode, r.stdout, r.stderr)
    return r


def virsh(uri, *args, ok=True, readonly=False):
    return run("virsh", *(["-r"] if readonly else []), "-c", uri, *args, ok=ok)


def unix_uri(sock, driver="test", path="/default"):
    return "%s+unix://%s?socket=%s" % (driver, path, sock)


class Libvirtd:
    """A private libvirtd (test driver), on TCP too when asked."""

    def __init__(self, tcp=False):
        self.dir = short_tmpdir("vw-p-")
        self.port = free_port() if tcp else None
        run(PRIVATE, "start", self.dir, *([str(self.port)] if tcp else []))
        self.sock = os.path.join(self.dir, "libvirt-sock")
        self.ro_sock = self.sock + "-ro"
        self.admin_sock = os.path.join(self.dir, "libvirt-admin-sock")
        self.uri = unix_uri(self.sock)
        self.ro_uri = unix_uri(self.ro_sock)
        self.tcp_uri = "test+tcp://127.0.0.1:%d/default" % self.port if tcp else None
        self.pid = int(open(os.path.join(self.dir, "libvirtd.pid")).read())

    def stop(self):
        run(PRIVATE, "stop", self.dir, ok=False)
        shutil.rmtree(self.dir, ignore_errors=True)


class Mockd:
    """examples/virtwire-mockd."""

    def __init__(self):
        self.dir = short_tmpdir("vw-pm-")
        self.sock = os.path.join(self.dir, "s")
        self.log = open(os.path.join(self.dir, "log"), "w+")
        self.proc = subprocess.Popen([LAUNCH, MOCKD, self.sock], stdout=subprocess.PIPE,
                                     stderr=self.log, text=True)
        assert self.proc.stdout.readline(), "virtwire-mockd did not start"
        self.uri = unix_uri(self.sock)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
        rc = self.proc.wait(timeout=TIMEOUT)
        self.log.seek(0)
        log = self.log.read()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)
        assert "ERROR: AddressSanitizer" not in log and "runtime error" not in log, log
        assert rc == 0, (rc, log)
        return log


class Tool:
    """`virtwire proxy` or `virtwire replay` in the background, its stderr
    in a file; ready once it said where it listens."""

    def __init__(self, args, listen_tcp=False):
        self.dir = short_tmpdir("vw-px-")
        self.sock = os.path.join(self.dir, "p")
        listen = "tcp:127.0.0.1:0" if listen_tcp else "unix:" + self.sock
        self.err_path = os.path.join(self.dir, "err")
        self.err = open(self.err_path, "w")
        self.proc = subprocess.Popen([LAUNCH, TOOL, *args[:1], "--listen", listen, *args[1:]],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=self.err)
        end = time.time() + TIMEOUT
        while True:
            text = open(self.err_path).read()
            if "listening on" in text:
                break
            assert self.proc.poll() is None, text
            assert time.time() < end, text
            time.sleep(0.02)
        self.port = None
        if listen_tcp:
            line = [l for l in text.splitlines() if "listening on" in l][0]
            self.port = int(line.split("tcp:127.0.0.1:")[1].split(",")[0].split()[0])
        self.uri = unix_uri(self.sock)

    def pid(self):
        return self.proc.pid

    def stop(self, expect_rc=0):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=TIMEOUT)
        self.err.close()
        text = open(self.err_path).read()
        shutil.rmtree(self.dir, ignore_errors=True)
        assert "ERROR: AddressSanitizer" not in text and "runtime error" not in text, text
        assert rc == expect_rc, (rc, text)
        return text


class Proxy(Tool):
    def __init__(self, to, *opts, log=True, pcapng=False, listen_tcp=False):
        self.out = short_tmpdir("vw-pl-")
        self.log_path = os.path.join(self.out, "log.jsonl")
        self.pcap_path = os.path.join(self.out, "cap.pcapng")
        args = ["proxy", "--to", to, *opts]
        if log:
            args += ["--log", self.log_path]
        if pcapng:
            args += ["--pcapng", self.pcap_path]
        super().__init__(args, listen_tcp=listen_tcp)

    def lines(self):
        with open(self.log_path) as f:
            return [json.loads(line) for line in f]

    def cleanup(self):
        shutil.rmtree(self.out, ignore_errors=True)


def status_of(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return -1


def nfds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def kill_hard(pid):
    """SIGKILL to pid and, first, to its children (a program started through
    the valgrind launcher runs as a child of vg-run)."""
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            kids = [int(x) for x in f.read().split()]
    except OSError:
        kids = []
    for k in kids:
        kill_hard(k)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def wait_for(cond, what, timeout=TIMEOUT):
    end = time.time() + timeout
    while not cond():
        assert time.time() < end, "timed out waiting for " + what
        time.sleep(0.05)


def LineReader(f):
    """Lines of a pipe, with a timeout, stripped."""
    return vwtest.LineReader(f, strip=True)


# --------------------------------------------------------------------------
# The log: what every line must satisfy, and each session's calls


def sessions(lines):
    """{client id: [lines]} in log order, the open and close events
    included."""
    out = {}
    for l in lines:
        out.setdefault(l["client"], []).append(l)
    return out


def check_log(lines):
    """Invariants of every log: each session opens and closes once; each
    call gets exactly one reply (same program, procedure and serial), after
    it, with its latency; payloads decode."""
    for cid, ls in sessions(lines).items():
        assert ls[0].get("event") == "open", ls[0]
        assert ls[-1].get("event") == "close", ls[-1]
        assert all("event" not in l for l in ls[1:-1]), cid
        pending = {}
        for l in ls[1:-1]:
            assert l["from"] in ("client", "daemon", "proxy"), l
            assert "decode_error" not in l, l
            assert isinstance(l["size"], int) and l["size"] >= 28, l
            if l["type"] in ("VIR_NET_CALL", "VIR_NET_CALL_WITH_FDS"):
                assert l["from"] == "client", l
                key = (l["program"], l["serial"])
                assert key not in pending, l
                pending[key] = l
            elif l["type"] in ("VIR_NET_REPLY", "VIR_NET_REPLY_WITH_FDS"):
                call = pending.pop((l["program"], l["serial"]))
                assert call["procedure"] == l["procedure"], (call, l)
                assert isinstance(l.get("latency_us"), int) and l["latency_us"] >= 0, l
                assert ("error" in l) == (l["status"] == "VIR_NET_ERROR"), l
                assert l["time"] >= call["time"], (call, l)
        # A session may end with calls in flight only when it ended early.
        if pending:
            assert ls[-1]["by"] != "client" or True


def calls(session):
    """The session's calls as (procedure, args) in order."""
    return [(l["procedure"], l.get("args")) for l in session
            if l.get("type") in ("VIR_NET_CALL", "VIR_NET_CALL_WITH_FDS")]


def reply_to(session, call_line):
    for l in session:
        if (l.get("type", "").startswith("VIR_NET_REPLY") and l["serial"] == call_line["serial"]
                and l["program"] == call_line["program"] and l["time"] >= call_line["time"]):
            return l
    raise AssertionError("no reply to %r" % call_line)


def session_with(lines, procedure, pred=lambda a: True, last=False):
    """The lines of the one session (or the last one) that called procedure
    with args satisfying pred."""
    found = [ls for ls in sessions(lines).values()
             if any(p == procedure and pred(a) for p, a in calls(ls))]
    assert found and (last or len(found) == 1), (procedure, len(found))
    return found[-1]


def subsequence(got, want):
    it = iter(got)
    return all(any(w == g for g in it) for w in want)


HANDSHAKE = ["REMOTE_PROC_AUTH_LIST", "REMOTE_PROC_CONNECT_SUPPORTS_FEATURE",
             "REMOTE_PROC_CONNECT_OPEN"]


# --------------------------------------------------------------------------
# pcapng: the same frames as the log, for virtwire decode and for tshark


def check_capture(proxy, lines):
    frames = [l for l in lines if "from" in l]
    r = run(TOOL, "decode", proxy.pcap_path)
    decoded = [json.loads(x) for x in r.stdout.splitlines()]
    assert all("frame" in d and "decode_error" not in d for d in decoded), r.stdout[:2000]
    # Frame for frame what the log has, per client in order (the capture
    # orders packets by time; one client's frames keep their order).
    def per_client(items, key):
        out = {}
        for it in items:
            out.setdefault(key(it), []).append(it)
        return out
    by_log = per_client(frames, lambda l: l["client"])
    by_cap = per_client(decoded, lambda d: d["src"] if d["dst"].endswith(":16509") else d["dst"])
    assert len(by_log) == len(by_cap), (len(by_log), len(by_cap))
    for cid, ls in by_log.items():
        addr = "127.%d.%d.%d:%d" % (1 + (cid >> 16 & 0xff), cid >> 8 & 0xff, cid & 0xff,
                                     49152 + cid % 16384)
        ds = by_cap[addr]
        assert len(ds) == len(ls), (cid, len(ds), len(ls))
        for l, d in zip(ls, ds):
            h = d["header"]
            assert (h["procedure"], h["type"], h["serial"], h["status"], d["length"]) == \
                (l["procedure"], l["type"], l["serial"], l["status"], l["size"]), (l, d)
            assert d["src"].endswith(":16509") == (l["from"] != "client"), (l, d)
            for k in ("args", "ret", "msg", "error", "hole"):
                assert d.get(k) == l.get(k), (k, l, d)
    # tshark: nothing malformed, no warning; its libvirt dissector sees the
    # same number of messages.
    bad = run("tshark", "-r", proxy.pcap_path, "-Y",
              "_ws.malformed || _ws.expert.severity >= warning")
    assert bad.stdout.strip() == "", bad.stdout[:3000]
    n = run("tshark", "-r", proxy.pcap_path, "-Y", "libvirt", "-T", "fields", "-e",
            "libvirt.procedure")
    count = sum(len(x.split(",")) for x in n.stdout.split())
    assert count == len(frames), (count, len(frames))


# --------------------------------------------------------------------------


def test_virsh():
    lv = Libvirtd()
    px = Proxy(lv.uri, pcapng=True)
    tmp = short_tmpdir("vw-pv-")
    try:
        uri = px.uri
        ev = subprocess.Popen(["virsh", "-c", uri, "event", "--loop", "--event", "lifecycle"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        try:
            lines = LineReader(ev.stdout)
            deadline = time.time() + TIMEOUT
            while True:  # until the registration is in place
                assert time.time() < deadline, "virsh event got nothing"
                # Before the event connection is up, each virsh is alone
                # and test:///default resets between them: no checks here.
                virsh(uri, "suspend", "test", ok=False)
                virsh(uri, "resume", "test", ok=False)
                if lines.line(1):
                    break
            while lines.line(0.5):  # the rest of the warm-up
                pass
            virsh(uri, "suspend", "test")
            virsh(uri, "resume", "test")
            got = [lines.line(TIMEOUT), lines.line(TIMEOUT)]
            assert got == ["event 'lifecycle' for domain 'test': Suspended Paused",
                           "event 'lifecycle' for domain 'test': Resumed Unpaused"], got
        finally:
            ev.terminate()
            ev.wait(timeout=TIMEOUT)
        # The same answers as the daemon gives directly.
        def same(text):  # the test driver's CPU time is the wall clock
            return [l for l in text.splitlines() if not l.startswith("CPU time:")]
        for cmd in (("list", "--all"), ("dominfo", "test"), ("domstate", "--reason", "test")):
            assert same(virsh(uri, *cmd).stdout) == same(virsh(lv.uri, *cmd).stdout), cmd
        r, d = virsh(uri, "dominfo", "nosuch", ok=False), virsh(lv.uri, "dominfo", "nosuch", ok=False)
        assert (r.returncode, r.stderr) == (d.returncode, d.stderr), (r, d)
        # A screenshot stream.
        a, b = os.path.join(tmp, "a.png"), os.path.join(tmp, "b.png")
        virsh(uri, "screenshot", "test", a)
        virsh(lv.uri, "screenshot", "test", b)
        assert open(a, "rb").read() == open(b, "rb").read()
        png = open(a, "rb").read()
        # An fd-passing call: the fd goes through to the daemon.
        xml = os.path.join(tmp, "fd.xml")
        with open(xml, "w") as f:
            f.write("<domain type='test'><name>withfd</name><memory>1024</memory>"
                    "<os><type>hvm</type></os></domain>")
        with open(os.devnull) as extra:
            r = subprocess.run(["virsh", "-c", uri, "create", xml, "--pass-fds",
                                str(extra.fileno())], capture_output=True, text=True,
                               timeout=TIMEOUT, pass_fds=(extra.fileno(),))
        assert r.returncode == 0 and "Domain 'withfd' created" in r.stdout, r
    finally:
        px.stop()
        lines = px.lines()
        lv.stop()
    try:
        check_log(lines)
        # Line by line, against what each virsh did.
        dom = lambda a: a and a.get("dom", {}).get("name") == "test"  # noqa: E731
        sus = session_with(lines, "REMOTE_PROC_DOMAIN_SUSPEND", dom, last=True)
        assert subsequence([p for p, _ in calls(sus)], HANDSHAKE + [
            "REMOTE_PROC_DOMAIN_LOOKUP_BY_NAME", "REMOTE_PROC_DOMAIN_SUSPEND",
            "REMOTE_PROC_CONNECT_CLOSE"]), calls(sus)
        lookup = [l for l in sus if l.get("procedure") == "REMOTE_PROC_DOMAIN_LOOKUP_BY_NAME"]
        assert lookup[0]["args"] == {"name": "test"}, lookup
        assert reply_to(sus, lookup[0])["ret"]["dom"]["name"] == "test"
        op = [l for l in sus if l.get("procedure") == "REMOTE_PROC_CONNECT_OPEN"][0]
        assert op["args"]["name"] == "test:///default", op
        evs = session_with(lines, "REMOTE_PROC_CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY")
        msgs = [l for l in evs if l.get("type") == "VIR_NET_MESSAGE"]
        assert msgs and all(m["procedure"] == "REMOTE_PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE"
                            and m["from"] == "daemon" and m["msg"]["msg"]["dom"]["name"] == "test"
                            for m in msgs), msgs
        assert [m["msg"]["msg"]["event"] for m in msgs][-2:] == [3, 4], msgs
        shot = session_with(lines, "REMOTE_PROC_DOMAIN_SCREENSHOT")
        data = [l for l in shot if l.get("type") == "VIR_NET_STREAM" and
                l["status"] == "VIR_NET_CONTINUE"]
        assert sum(l["data_bytes"] for l in data) == len(png), data
        assert data[-1]["data_bytes"] == 0 and "data" not in data[0]  # summarised, not dumped
        fd = session_with(lines, "REMOTE_PROC_DOMAIN_CREATE_XML_WITH_FILES")
        call = [l for l in fd if l.get("procedure") == "REMOTE_PROC_DOMAIN_CREATE_XML_WITH_FILES"][0]
        assert call["type"] == "VIR_NET_CALL_WITH_FDS" and call["nfds"] == 1, call
        assert reply_to(fd, call)["ret"]["dom"]["name"] == "withfd"
        check_capture(px, lines)
    finally:
        px.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


PY_CLIENT = r"""
import os, sys, threading, time, libvirt
uri, idle, xml = sys.argv[1], float(sys.argv[2]), sys.argv[3]
libvirt.virEventRegisterDefaultImpl()
def loop():
    while True:
        libvirt.virEventRunDefaultImpl()
threading.Thread(target=loop, daemon=True).start()
conn = libvirt.open(uri)
got = []
def cb(conn, dom, event, detail, opaque):
    got.append((dom.name(), event, detail))
cid = conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, cb, None)
dom = conn.lookupByName("test")
dom.suspend()
dom.resume()
end = time.time() + 20
while len(got) < 2 and time.time() < end:
    time.sleep(0.05)
print("events", got)
time.sleep(idle)   # keepalive through the proxy keeps the connection
print("alive", conn.isAlive())
st = conn.newStream()
mime = dom.screenshot(st, 0)
data = b""
while True:
    chunk = st.recv(65536)
    if not chunk:
        break
    data += chunk
st.finish()
print("screenshot", mime, len(data), data[:4] == b"\x89PNG")
r, w = os.pipe()
d2 = conn.createXMLWithFiles(xml, [r], 0)
print("created", d2.name())
conn.domainEventDeregisterAny(cid)
conn.close()
"""

PY_GRAPHICS = r"""
import os, sys, libvirt
conn = libvirt.open(sys.argv[1])
fd = conn.lookupByName("test").openGraphicsFD(0)
data = b""
while True:
    c = os.read(fd, 4096)
    if not c:
        break
    data += c
os.close(fd)
print(data.decode().strip())
conn.close()
"""


def test_python():
    lv = Libvirtd()
    px = Proxy(lv.uri)
    mk = Mockd()
    pm = Proxy(mk.uri)
    try:
        xml = ("<domain type='test'><name>pyfd</name><memory>1024</memory>"
               "<os><type>hvm</type></os></domain>")
        idle = 7  # more than libvirtd's keepalive interval (5 s)
        r = run("/usr/bin/python3", "-c", PY_CLIENT, px.uri, str(idle), xml,
                timeout=TIMEOUT + idle)
        out = r.stdout.splitlines()
        assert out[0] == "events [('test', 3, 0), ('test', 4, 0)]", out
        assert out[1] == "alive 1", out
        assert out[2].startswith("screenshot image/png ") and out[2].endswith(" True"), out
        assert out[3] == "created pyfd", out
        # An fd from the daemon (virtwire-mockd's graphics fd).
        r = run("/usr/bin/python3", "-c", PY_GRAPHICS, pm.uri)
        assert r.stdout.strip() == "virtwire-mockd graphics", r
    finally:
        px.stop()
        pm.stop()
        lines, mlines = px.lines(), pm.lines()
        mk.stop()
        lv.stop()
    try:
        check_log(lines)
        check_log(mlines)
        s = session_with(lines, "REMOTE_PROC_DOMAIN_SCREENSHOT")
        # keepalive went through: the daemon's PINGs, the client's PONGs
        ka = [(l["from"], l["procedure"]) for l in s if l.get("program") == "keepalive"]
        assert ("daemon", "KEEPALIVE_PROC_PING") in ka and ("client", "KEEPALIVE_PROC_PONG") in ka, ka
        ev = [l for l in s if l.get("type") == "VIR_NET_MESSAGE" and l["program"] == "remote"]
        # suspended, resumed, and the start of the domain created with files
        assert [(e["msg"]["msg"]["dom"]["name"], e["msg"]["msg"]["event"]) for e in ev] == \
            [("test", 3), ("test", 4), ("pyfd", 2)], ev
        files = [l for l in s if l.get("procedure") == "REMOTE_PROC_DOMAIN_CREATE_XML_WITH_FILES"]
        assert files[0]["nfds"] == 1, files
        g = session_with(mlines, "REMOTE_PROC_DOMAIN_OPEN_GRAPHICS_FD")
        rep = [l for l in g if l.get("procedure") == "REMOTE_PROC_DOMAIN_OPEN_GRAPHICS_FD" and
               l["from"] == "daemon"]
        assert rep[0]["type"] == "VIR_NET_REPLY_WITH_FDS" and rep[0]["nfds"] == 1, rep
    finally:
        px.cleanup()
        pm.cleanup()


PERL_CLIENT = r"""
use strict; use warnings;
use Sys::Virt; use Sys::Virt::Event; use Sys::Virt::Domain; use Sys::Virt::Stream;
use POSIX ();
my ($uri) = @ARGV;
Sys::Virt::Event::register_default();
my $conn = Sys::Virt->new(uri => $uri);
my @names = sort map { $_->get_name } $conn->list_all_domains();
print "domains @names\n";
my @got;
my $cb = $conn->domain_event_register_any(undef, Sys::Virt::Domain::EVENT_ID_LIFECYCLE,
    sub { my ($c, $d, $event, $detail) = @_; push @got, $d->get_name . ":$event"; });
my $dom = $conn->get_domain_by_name("test");
$dom->suspend(); $dom->resume();
my $end = time + 20;
Sys::Virt::Event::run_default() while @got < 2 && time < $end;
print "events @got\n";
my $st = $conn->new_stream();
my $mime = $dom->screenshot($st, 0, 0);
my $data = "";
$st->recv_all(sub { my ($s, $buf, $n) = @_; $data .= $buf; return $n; });
$st->finish();
print "screenshot $mime ", length($data), "\n";
pipe(my $r, my $w) or die;
my $d2 = $conn->create_domain_with_files(
    "<domain type='test'><name>perlfd</name><memory>1024</memory><os><type>hvm</type></os></domain>",
    [fileno($r)], 0);
print "created ", $d2->get_name, "\n";
$conn->domain_event_deregister_any($cb);
"""


def test_perl():
    lv = Libvirtd()
    px = Proxy(lv.uri)
    try:
        r = run("perl", "-e", PERL_CLIENT, px.uri)
        out = r.stdout.splitlines()
        assert out[0] == "domains test", out
        assert out[1] == "events test:3 test:4", out
        assert out[2].startswith("screenshot image/png "), out
        assert out[3] == "created perlfd", out
    finally:
        px.stop()
        lines = px.lines()
        lv.stop()
    try:
        check_log(lines)
        s = session_with(lines, "REMOTE_PROC_DOMAIN_SCREENSHOT")
        assert subsequence([p for p, _ in calls(s)], HANDSHAKE + [
            "REMOTE_PROC_CONNECT_LIST_ALL_DOMAINS",
            "REMOTE_PROC_CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY",
            "REMOTE_PROC_DOMAIN_LOOKUP_BY_NAME", "REMOTE_PROC_DOMAIN_SUSPEND",
            "REMOTE_PROC_DOMAIN_RESUME", "REMOTE_PROC_DOMAIN_SCREENSHOT",
            "REMOTE_PROC_DOMAIN_CREATE_XML_WITH_FILES"]), calls(s)
    finally:
        px.cleanup()


def test_sparse():
    mk = Mockd()
    px = Proxy(mk.uri)
    tmp = short_tmpdir("vw-ps-")
    try:
        src = os.path.join(tmp, "src.img")
        sparse_file(src, MIB)
        layout = data_and_holes(src)
        virsh(px.uri, "vol-upload", "--pool", "default", "disk.img", src, "--sparse")
        dst = os.path.join(tmp, "dst.img")
        virsh(px.uri, "vol-download", "--pool", "default", "disk.img", dst, "--sparse")
        assert open(src, "rb").read() == open(dst, "rb").read()
        assert data_and_holes(dst) == layout
        # The virtwire tool through the proxy too.
        dst2 = os.path.join(tmp, "dst2.img")
        vol = json.dumps({"vol": {"pool": "default", "name": "disk.img", "key": ""},
                          "flags": 1})
        run(TOOL, "download", px.uri, "storage_vol_download", vol, dst2)
        assert open(dst2, "rb").read() == open(src, "rb").read()
        assert data_and_holes(dst2) == layout
    finally:
        px.stop()
        lines = px.lines()
        mk.stop()
    try:
        check_log(lines)
        up = session_with(lines, "REMOTE_PROC_STORAGE_VOL_UPLOAD")
        holes = [l for l in up if l.get("type") == "VIR_NET_STREAM_HOLE"]
        assert [h["hole"]["length"] for h in holes] == [2 * MIB], holes
        assert all(h["from"] == "client" for h in holes)
        data = sum(l["data_bytes"] for l in up if l.get("type") == "VIR_NET_STREAM" and
                   l["status"] == "VIR_NET_CONTINUE")
        assert data == 2 * MIB, data
        down = [ls for ls in sessions(lines).values()
                if any(p == "REMOTE_PROC_STORAGE_VOL_DOWNLOAD" for p, _ in calls(ls))]
        assert len(down) == 2
        for ls in down:
            holes = [l for l in ls if l.get("type") == "VIR_NET_STREAM_HOLE"]
            assert [h["hole"]["length"] for h in holes] == [2 * MIB], holes
            assert all(h["from"] == "daemon" for h in holes)
    finally:
        px.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


def tool_call(uri, proc, timeout=10):
    r = subprocess.run([TOOL, "call", "--timeout", str(timeout), uri, proc],
                       capture_output=True, text=True, timeout=timeout + 20)
    err = None
    if r.returncode == 1:
        err = json.loads(r.stderr.strip().splitlines()[-1])
    return r.returncode, err


def test_readonly():
    """Procedure by procedure, with every argument zero: libvirtd's read-only
    socket against the proxy with --read-only in front of the read-write
    socket."""
    lv = Libvirtd()
    px = Proxy(lv.uri, "--read-only")
    try:
        procs = json.loads(run(TOOL, "procs", "--json").stdout)
        names = []
        for p in procs:
            if p["program"] not in ("remote", "qemu", "lxc") or "event" in p["flags"]:
                continue
            if any(f in p["flags"] for f in ("stream-read", "stream-write")):
                continue  # `virtwire call` does not open streams; --read-only below
            if p["name"] in ("REMOTE_PROC_CONNECT_OPEN", "REMOTE_PROC_CONNECT_CLOSE",
                             "REMOTE_PROC_AUTH_SASL_INIT", "REMOTE_PROC_AUTH_SASL_START",
                             "REMOTE_PROC_AUTH_SASL_STEP", "REMOTE_PROC_AUTH_POLKIT"):
                continue  # the handshake's own
            names.append("%s:%d" % (p["program"], p["number"]))
        results = {}
        lock = threading.Lock()
        todo = list(names)

        def worker():
            while True:
                with lock:
                    if not todo:
                        return
                    name = todo.pop()
                direct = tool_call(lv.ro_uri, name)
                proxied = tool_call(px.uri, name)
                with lock:
                    results[name] = (direct, proxied)
        threads = [threading.Thread(target=worker) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        refused, unknown, wrong = 0, 0, []
        for name in names:
            (drc, derr), (prc, perr) = results[name]
            denied = derr is not None and derr["code"] == 29
            # libvirtd checks some arguments before its read-only check
            # (VIR_ERR_INVALID_ARG, a missing fd), and does not know the
            # procedures added after 9.0.0: no verdict for those.
            early = derr is not None and (
                derr["code"] == 8 or derr["message"].startswith("unknown procedure") or
                derr["message"] == "internal error: No FD available at slot 0")
            if denied:
                refused += 1
                if perr != derr:
                    wrong.append((name, derr, perr))
            elif early:
                unknown += 1
            elif perr is not None and perr["code"] == 29:
                wrong.append((name, derr, perr))
        assert not wrong, "\n".join(map(repr, wrong))
        assert refused > 150 and unknown < 30, (refused, unknown)  # most API writes
        # Streams: a screenshot and an upload are refused too.
        r = virsh(px.uri, "screenshot", "test", "/dev/null", ok=False)
        d = virsh(lv.ro_uri, "screenshot", "test", "/dev/null", ok=False)
        assert r.stderr == d.stderr and "virDomainScreenshot" in r.stderr, (r, d)
        # Nothing refused reached the daemon: "test" is still running.
        r = virsh(px.uri, "destroy", "test", ok=False)
        assert "operation forbidden: read only access prevents virDomainDestroy" in r.stderr
        assert virsh(lv.uri, "domstate", "test").stdout.strip() == "running"
    finally:
        px.stop()
        lines = px.lines()
    try:
        check_log(lines)
        refusals = [l for l in lines if l.get("refused")]
        assert refusals and all(l["refused"] == "read-only" for l in refusals)
        answered = [l for l in lines if l.get("from") == "proxy"]
        assert len(answered) == len(refusals), (len(answered), len(refusals))
        assert all(a["error"]["code"] == 29 for a in answered)
        # Refused calls did not go upstream: no daemon reply to them.
        for s in sessions(lines).values():
            for l in s:
                if l.get("refused"):
                    replies = [x for x in s if x.get("serial") == l["serial"] and
                               x.get("type", "").startswith("VIR_NET_REPLY")]
                    assert [x["from"] for x in replies] == ["proxy"], replies
    finally:
        px.cleanup()

    # --deny and --allow, by procedure name.
    px = Proxy(lv.uri, "--deny", "domain_suspend,REMOTE_PROC_DOMAIN_DESTROY", log=False)
    try:
        r = virsh(px.uri, "suspend", "test", ok=False)
        assert r.returncode == 1 and "access denied" in r.stderr and \
            "REMOTE_PROC_DOMAIN_SUSPEND" in r.stderr, r.stderr
        assert virsh(px.uri, "domstate", "test").stdout.strip() == "running"
        assert "test" in virsh(px.uri, "list").stdout
    finally:
        px.stop()
    px = Proxy(lv.uri, "--allow", "connect_list_all_domains,domain_lookup_by_name", log=False)
    try:
        r = run(TOOL, "call", px.uri, "connect_list_all_domains", '{"need_results":1}')
        assert json.loads(r.stdout)["domains"][0]["name"] == "test", r.stdout
        r = tool_call(px.uri, "connect_get_hostname")
        assert r[0] == 1 and r[1]["code"] == 88 and r[1]["domain"] == 55 and \
            "not in --allow" in r[1]["message"], r
    finally:
        px.stop()
        lv.stop()
    r = run(TOOL, "proxy", "--listen", "unix:/nonexistent/x", "--to", "test:///default",
            "--deny", "no_such_proc", ok=False)
    assert r.returncode == 2 and "unknown procedure 'no_such_proc'" in r.stderr, r


def test_admin():
    lv = Libvirtd()
    px = Proxy("libvirtd:///system?socket=" + lv.admin_sock)
    try:
        uri = "libvirtd:///system?socket=" + px.sock
        direct = "libvirtd:///system?socket=" + lv.admin_sock
        for cmd in (("srv-list",), ("srv-threadpool-info", "libvirtd"),
                    ("srv-clients-info", "libvirtd")):
            a = run("virt-admin", "-c", uri, *cmd).stdout
            b = run("virt-admin", "-c", direct, *cmd).stdout
            if cmd[0] == "srv-clients-info":  # the proxy's own connection is one more client
                continue
            assert a == b, (cmd, a, b)
    finally:
        px.stop()
        lines = px.lines()
        lv.stop()
    try:
        check_log(lines)
        progs = {l["program"] for l in lines if "from" in l}
        assert "admin" in progs, progs
        s = session_with(lines, "ADMIN_PROC_CONNECT_LIST_SERVERS")
        assert [p for p, _ in calls(s)][:1] == ["ADMIN_PROC_CONNECT_OPEN"], calls(s)
    finally:
        px.cleanup()


def test_tcp():
    lv = Libvirtd(tcp=True)
    px = Proxy(lv.tcp_uri, pcapng=True, listen_tcp=True)
    try:
        uri = "test+tcp://127.0.0.1:%d/default" % px.port
        assert virsh(uri, "list", "--all").stdout == virsh(lv.uri, "list", "--all").stdout
        out = virsh(uri, "suspend test; domstate test; resume test; domstate test").stdout
        assert out.split() == ["Domain", "'test'", "suspended", "paused", "Domain", "'test'",
                               "resumed", "running"], out
    finally:
        px.stop()
        lines = px.lines()
        lv.stop()
    try:
        check_log(lines)
        opens = [l for l in lines if l.get("event") == "open"]
        assert all(o["peer"].startswith("tcp:127.0.0.1:") for o in opens), opens
        check_capture(px, lines)
    finally:
        px.cleanup()


# -- faults ------------------------------------------------------------------


def raw_connect(path):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(TIMEOUT)
    s.connect(path)
    return s


def frame(proc, serial, payload=b"", typ=0, status=0):
    return struct.pack(">IIIiiII", 28 + len(payload), REMOTE, 1, proc, typ, serial,
                       status) + payload


def read_frame(s):
    """(header fields after the length, payload) of the next frame, or None
    at end of file."""
    raw = vwtest.read_raw_frame(s)
    if raw is None:
        return None
    return struct.unpack(">IIiiII", raw[4:28]), raw[28:]


def open_raw(path):
    s = raw_connect(path)
    s.sendall(frame(66, 1))
    read_frame(s)
    s.sendall(frame(1, 2, struct.pack(">I", 1) + xdr_string("test:///default") +
                    struct.pack(">I", 0)))
    read_frame(s)
    return s


def test_faults():
    mk = Mockd()
    px = Proxy(mk.uri)
    pid = px.pid()
    try:
        virsh(px.uri, "list")  # warm: the proxy's threads and buffers exist
        wait_for(lambda: status_of(pid, "Threads") == 1 or VALGRIND, "the connect thread")
        fds0 = nfds(pid)
        rss0 = status_of(pid, "VmRSS")

        # 1. A client killed in the middle of a download: the proxy aborts
        # the stream upstream (the daemon confirms), and goes on.
        s = open_raw(px.sock)
        vol = xdr_string("default") + xdr_string("disk.img") + xdr_string("/mock/default/disk.img")
        s.sendall(frame(209, 9, vol + struct.pack(">QQI", 0, 0, 0)))
        hdr, _ = read_frame(s)
        assert hdr[3:] == (1, 9, 0), hdr
        hdr, _ = read_frame(s)  # one data packet, then the client dies
        assert hdr[3:] == (3, 9, 2), hdr
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()

        def aborted():
            ls = px.lines()
            return any(l.get("from") == "proxy" and l.get("type") == "VIR_NET_STREAM" and
                       l.get("status") == "VIR_NET_ERROR" for l in ls) and \
                any(l.get("from") == "daemon" and l.get("type") == "VIR_NET_STREAM" and
                    l.get("status") == "VIR_NET_OK" for l in ls)
        wait_for(aborted, "the upstream abort and its confirmation")
        assert "vm1" in virsh(px.uri, "list", "--all").stdout

        # 2. A slow client flooding calls: the proxy stops reading it once
        # its queues are full; memory stays bounded.
        s = open_raw(px.sock)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        # CONNECT_GET_LIB_VERSION calls, each with a serial of its own, 56 KB
        # at a time, for 3 s.
        flood = b"".join(frame(157, 10 + i) for i in range(1 << 16))
        sent = 0
        s.setblocking(False)
        end = time.time() + 3
        while time.time() < end and sent < len(flood):
            try:
                sent += s.send(flood[sent:sent + 56000])
            except BlockingIOError:
                select.select([], [s], [], 0.2)
        assert sent < 256 * MIB, sent  # it was pushed back, not swallowed
        if MEASURE:
            rss = status_of(pid, "VmRSS")
            print("slow client: %d bytes of calls taken, RSS %d KiB -> %d KiB" % (sent, rss0, rss))
            assert rss - rss0 < 64 * 1024, (rss0, rss)  # KiB
        # It reads slowly: every reply comes, in order (the last frame may
        # have gone only in part).
        s.setblocking(True)
        s.settimeout(TIMEOUT)
        for i in range(sent // 28):
            f = read_frame(s)
            assert f is not None and f[0][2:] == (157, 1, 10 + i, 0), (i, f)
        s.close()

        # 3. A daemon flooding a client that does not read: four 4 MiB
        # downloads in flight, nothing read for a while.
        s = open_raw(px.sock)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        for i in range(4):
            s.sendall(frame(209, 20 + i, vol + struct.pack(">QQI", 0, 0, 0)))
        time.sleep(2)
        if MEASURE:
            rss = status_of(pid, "VmRSS")
            print("daemon flood: RSS %d KiB -> %d KiB" % (rss0, rss))
            assert rss - rss0 < 64 * 1024, (rss0, rss)
        s.close()

        # 4. Many clients at once.
        procs = [subprocess.Popen(["virsh", "-c", px.uri, "list", "--all"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(20)]
        for p in procs:
            out, err = p.communicate(timeout=TIMEOUT)
            assert p.returncode == 0 and "vm1" in out, (out, err)

        # 5. The daemon killed: clients get a clean close; the proxy goes on
        # and serves the next daemon on the same socket.
        held = open_raw(px.sock)
        kill_hard(mk.proc.pid)
        mk.proc.wait(timeout=TIMEOUT)
        assert read_frame(held) is None  # end of file, nothing half-sent
        held.close()
        # virsh fails: with status 1 when it reads the proxy's close first,
        # or killed by SIGPIPE when its first write meets the closed socket
        # (virsh does not ignore SIGPIPE; which comes first is a race).
        r = virsh(px.uri, "list", ok=False)
        assert r.returncode in (1, -signal.SIGPIPE), r
        mk2 = subprocess.Popen([LAUNCH, MOCKD, mk.sock], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
        try:
            assert mk2.stdout.readline()
            assert "vm1" in virsh(px.uri, "list", "--all").stdout
        finally:
            mk2.terminate()
            mk2.wait(timeout=TIMEOUT)
        def all_closed():
            text = open(px.log_path).read()
            return text.count('"event":"open"') == text.count('"event":"close"')
        wait_for(all_closed, "every session to close")
        if not VALGRIND:
            wait_for(lambda: nfds(pid) == fds0, "the proxy's fds back to %d" % fds0)
    finally:
        text = px.stop()
        lines = px.lines()
        if mk.proc.poll() is None:
            mk.stop()
        else:
            mk.log.close()
            shutil.rmtree(mk.dir, ignore_errors=True)
    try:
        check_log(lines)
        closes = [l for l in lines if l.get("event") == "close"]
        assert any(c["by"] == "daemon" for c in closes), closes
        assert "cannot reach the daemon" in text, text
    finally:
        px.cleanup()


# -- replay -------------------------------------------------------------------


VIRSH_SCRIPT = [("list", "--all"), ("dominfo", "test"), ("domstate", "--reason", "test"),
                ("suspend", "test"), ("domstate", "test"), ("resume", "test"),
                ("dominfo", "nosuch"), ("screenshot", "test", "SHOT"),
                ("nodeinfo",), ("hostname",), ("pool-list", "--all")]

PY_SCRIPT = r"""
import sys, threading, time, libvirt
uri = sys.argv[1]
libvirt.virEventRegisterDefaultImpl()
def loop():
    while True:
        libvirt.virEventRunDefaultImpl()
threading.Thread(target=loop, daemon=True).start()
conn = libvirt.open(uri)
got = []
cid = conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                  lambda c, d, e, x, o: got.append((d.name(), e, x)), None)
print(sorted(d.name() for d in conn.listAllDomains()))
d = conn.lookupByName("test")
print(d.info()[:4], d.UUIDString(), d.isActive())
d.suspend(); d.resume()
end = time.time() + 20
while len(got) < 2 and time.time() < end:
    time.sleep(0.05)
print(got)
try:
    conn.lookupByName("nosuch")
except libvirt.libvirtError as e:
    print("error", e.get_error_code(), e.get_error_domain(), e.get_error_message())
print(conn.getHostname(), conn.getLibVersion(), conn.getInfo())
conn.domainEventDeregisterAny(cid)
conn.close()
"""


def run_virsh_script(uri, shot):
    out = []
    for cmd in VIRSH_SCRIPT:
        cmd = tuple(shot if c == "SHOT" else c for c in cmd)
        r = virsh(uri, *cmd, ok=False)
        out.append((cmd[0], r.returncode, r.stdout.replace(shot, "SHOT"), r.stderr))
    return out


def test_replay():
    lv = Libvirtd()
    px = Proxy(lv.uri, "--log-data")
    tmp = short_tmpdir("vw-pr-")
    try:
        rec_virsh = run_virsh_script(px.uri, os.path.join(tmp, "a.png"))
        rec_py = run("/usr/bin/python3", "-c", PY_SCRIPT, px.uri).stdout
    finally:
        px.stop()
        lv.stop()
    recording = os.path.join(tmp, "rec.jsonl")
    shutil.copy(px.log_path, recording)
    px.cleanup()
    assert "error 42 12" in rec_py and "('test', 3, 0)" in rec_py, rec_py
    # No libvirtd from here on.
    rp = Tool(["replay", recording])
    try:
        got_virsh = run_virsh_script(rp.uri, os.path.join(tmp, "b.png"))
        assert got_virsh == rec_virsh, (got_virsh, rec_virsh)
        assert open(os.path.join(tmp, "a.png"), "rb").read() == \
            open(os.path.join(tmp, "b.png"), "rb").read()
        got_py = run("/usr/bin/python3", "-c", PY_SCRIPT, rp.uri).stdout
        assert got_py == rec_py, (got_py, rec_py)
        # A call the recording does not have: a clear libvirt error naming it.
        r = run(TOOL, "call", rp.uri, "domain_lookup_by_name", '{"name":"other"}', ok=False)
        assert r.returncode == 1, r
        err = json.loads(r.stderr.strip().splitlines()[-1])
        assert err["message"] == "replay: no recorded call of " \
            "REMOTE_PROC_DOMAIN_LOOKUP_BY_NAME with these arguments: {\"name\":\"other\"}", err
        r = run(TOOL, "call", rp.uri, "domain_lookup_by_id", '{"id":99}', ok=False)
        assert r.returncode == 1 and "REMOTE_PROC_DOMAIN_LOOKUP_BY_ID" in r.stderr, r
        err = json.loads(r.stderr.strip().splitlines()[-1])
        assert (err["code"], err["domain"], err["str1"]) == (39, 7, "%s"), err
        # Recorded calls used up: the last of them is answered again (here
        # the handshake, and the hostname every run asked for).
        assert virsh(rp.uri, "hostname").stdout == [r for r in rec_virsh if r[0] == "hostname"][0][2]
    finally:
        text = rp.stop()
    assert "no recorded call of REMOTE_PROC_DOMAIN_LOOKUP_BY_NAME" in text, text
    # Recordings that are not what the proxy writes: the line is named, and
    # nothing is served.
    head = '{"time":1,"client":1,"event":"open","peer":"x"}\n'
    call = ('{"client":1,"from":"client","program":"remote","proc":1,"type":"VIR_NET_CALL",'
            '"serial":4,"status":"VIR_NET_OK","args":{"name":"x","flags":0}}\n')
    stream = ('{"client":1,"from":"client","program":"remote","proc":211,"type":"VIR_NET_CALL",'
              '"serial":5,"status":"VIR_NET_OK","args":{"dom":{"name":"t","uuid":"%s","id":1},'
              '"screen":0,"flags":0}}\n{"client":1,"from":"daemon","program":"remote",'
              '"proc":211,"type":"VIR_NET_REPLY","serial":5,"status":"VIR_NET_OK",'
              '"ret":{"mime":"image/png"}}\n' % ("00" * 16))
    cases = [
        ('{"client":1,"from":"client"\n', "not JSON"),
        ('[1, 2]\n', "not a JSON object"),
        ('{"from":"client","type":"VIR_NET_CALL"}\n', 'no "client"'),
        ('{"client":1,"from":"client","program":"remote","proc":1}\n',
         "a message without a valid type, status, serial or proc"),
        ('{"client":1,"from":"client","program":"remote","proc":1,"type":"VIR_NET_CALL",'
         '"serial":99999999999,"status":"VIR_NET_OK"}\n',
         "a message without a valid type, status, serial or proc"),
        (call + '{"client":1,"from":"daemon","program":"remote","proc":1,"type":"VIR_NET_REPLY",'
         '"serial":4,"status":"VIR_NET_ERROR"}\n', 'an error reply without "error"'),
        (stream + '{"client":1,"from":"daemon","program":"remote","proc":211,'
         '"type":"VIR_NET_STREAM","serial":5,"status":"VIR_NET_CONTINUE","data_bytes":4,'
         '"data":"not base64!"}\n', '"data" is not the base64 of data_bytes bytes'),
        (stream + '{"client":1,"from":"daemon","program":"remote","proc":211,'
         '"type":"VIR_NET_STREAM","serial":5,"status":"VIR_NET_CONTINUE"}\n',
         'stream data without "data_bytes"'),
    ]
    for i, (text, words) in enumerate(cases):
        bad = os.path.join(tmp, "bad%d.jsonl" % i)
        with open(bad, "w") as f:
            f.write(head + text)
        r = run(TOOL, "replay", "--listen", "unix:" + os.path.join(tmp, "r"), bad, ok=False)
        lineno = head.count("\n") + text.count("\n")
        assert r.returncode == 2 and "bad%d.jsonl:%d: %s" % (i, lineno, words) in r.stderr, \
            (i, r.returncode, r.stderr)
        assert not os.path.exists(os.path.join(tmp, "r")), i
    shutil.rmtree(tmp, ignore_errors=True)


TESTS = {"virsh": test_virsh, "python": test_python, "perl": test_perl, "sparse": test_sparse,
         "readonly": test_readonly, "admin": test_admin, "tcp": test_tcp,
         "faults": test_faults, "replay": test_replay}

if __name__ == "__main__":
    vwtest.run_group(TESTS, GROUP, "proxy")
