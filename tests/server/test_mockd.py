# SPDX-License-Identifier: LGPL-2.1-or-later
"""Real libvirt clients against examples/virtwire-mockd (runtime/server).

usage: test_mockd.py GROUP MOCKD LIMIT_SERVER KEEPALIVE_SERVER

Each group starts its own daemon on a fresh socket and stops it at the end;
every subprocess has a timeout.  virsh is the system's (9.0.0), or with
VIRTWIRE_LIBVIRT_SUITE=SUITE in the environment the one of that Debian suite
(bookworm-backports: 11.3.0), unpacked privately by
tests/libvirtd/unpack-libvirt and run with its own libraries.  Expected values come from the mock's
documented inventory (one running domain "test", "vm1" and "vm2" shut off,
pool "default" with the 4 MiB volume "disk.img"), from libvirt's own
output formats, and from libvirt's wording of its errors.
"""
import os
import select
import socket
import struct
import subprocess
import sys
import time
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import vwtest  # noqa: E402
from vwtest import (REMOTE_PROGRAM, LineReader, data_and_holes, frame,  # noqa: E402
                    read_frame, read_raw_frame, sparse_file)

GROUP, MOCKD, LIMIT_SERVER, KEEPALIVE_SERVER = sys.argv[1:5]
TIMEOUT = 20


def start_daemon(argv_tail=(), exe=None):
    """The mock (or exe) on a fresh socket, through the valgrind launcher."""
    return vwtest.Daemon(exe or MOCKD, *argv_tail, launch=True, timeout=TIMEOUT)


def virsh(d, *args, ok=True):
    return vwtest.virsh(d.uri, *args, ok=ok, timeout=TIMEOUT)


def table_rows(out):
    """The rows of `virsh list` as [id, name, state] lists."""
    lines = out.strip().splitlines()[2:]
    return [[line.split()[0], line.split()[1], " ".join(line.split()[2:])] for line in lines]


def dominfo(d, name):
    out = virsh(d, "dominfo", name).stdout
    return {k.strip(): v.strip() for k, v in
            (line.split(":", 1) for line in out.splitlines() if ":" in line)}


# --------------------------------------------------------------------------


def test_virsh(d):
    # The virsh this group runs is the release it names.
    want = os.environ.get("VIRTWIRE_VIRSH_RELEASE")
    if want:
        argv, env = vwtest.virsh_command()
        got = subprocess.run([*argv, "--version"], capture_output=True, text=True, env=env,
                             timeout=TIMEOUT).stdout.strip()
        assert got == want, (got, want)
    assert table_rows(virsh(d, "list", "--all").stdout) == [
        ["1", "test", "running"], ["-", "vm1", "shut off"], ["-", "vm2", "shut off"]]
    info = dominfo(d, "test")
    assert info["Id"] == "1" and info["Name"] == "test", info
    assert info["UUID"] == "10111213-1415-1617-1819-1a1b1c1d1e1f", info
    assert info["OS Type"] == "hvm" and info["State"] == "running", info
    assert info["CPU(s)"] == "1" and info["Max memory"] == "1048576 KiB", info
    assert info["Used memory"] == "524288 KiB" and info["Persistent"] == "yes", info
    assert dominfo(d, "vm2")["State"] == "shut off"

    assert "Domain 'vm1' started" in virsh(d, "start", "vm1").stdout
    assert dominfo(d, "vm1")["State"] == "running"
    assert dominfo(d, "vm1")["Id"] == "2"
    assert "Domain 'vm1' suspended" in virsh(d, "suspend", "vm1").stdout
    assert dominfo(d, "vm1")["State"] == "paused"
    assert "Domain 'vm1' resumed" in virsh(d, "resume", "vm1").stdout
    assert dominfo(d, "vm1")["State"] == "running"
    rows = table_rows(virsh(d, "list").stdout)
    assert rows == [["1", "test", "running"], ["2", "vm1", "running"]], rows
    assert "Domain 'vm1' destroyed" in virsh(d, "destroy", "vm1").stdout
    assert dominfo(d, "vm1")["State"] == "shut off"
    # The daemon's errors reach virsh as libvirt formats them.
    r = virsh(d, "destroy", "vm2", ok=False)
    assert r.returncode == 1 and "domain is not running" in r.stderr, r.stderr
    r = virsh(d, "dominfo", "nosuch", ok=False)
    assert r.returncode == 1 and "failed to get domain 'nosuch'" in r.stderr, r.stderr


def test_events(d):
    argv, env = vwtest.virsh_command()
    ev = subprocess.Popen([*argv, "-c", d.uri, "event", "--loop", "--event", "lifecycle"], env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        lines = LineReader(ev.stdout, strip=True)
        # virsh prints nothing once registered: cycle vm1 until its events
        # show that the registration is in place.
        deadline = time.time() + TIMEOUT
        while time.time() < deadline:
            virsh(d, "start", "vm1")
            virsh(d, "destroy", "vm1")
            line = lines.line(0.5)
            if line:
                # Registration may have landed between start and destroy.
                assert line in ("event 'lifecycle' for domain 'vm1': Started Booted",
                                "event 'lifecycle' for domain 'vm1': Stopped Destroyed"), line
                break
        else:
            raise AssertionError("virsh event got nothing")
        for cmd in (("start", "vm2"), ("suspend", "vm2"), ("resume", "vm2"),
                    ("destroy", "vm2")):
            virsh(d, *cmd)
        expected = ["event 'lifecycle' for domain 'vm2': Started Booted",
                    "event 'lifecycle' for domain 'vm2': Suspended Paused",
                    "event 'lifecycle' for domain 'vm2': Resumed Unpaused",
                    "event 'lifecycle' for domain 'vm2': Stopped Destroyed"]
        got = []
        while len(got) < len(expected):
            line = lines.line(TIMEOUT)
            assert line is not None, got
            if line.startswith("event 'lifecycle' for domain 'vm1'"):
                continue  # a late pair of the warm-up
            got.append(line)
        assert got == expected, got
    finally:
        ev.terminate()
        ev.wait(timeout=TIMEOUT)


def png_pixels(data):
    """Decodes an 8-bit RGB, non-interlaced PNG with filter 0 (Python's zlib)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, []
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        typ, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        (crc,) = struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])
        assert zlib.crc32(typ + body) == crc, typ
        chunks.append((typ, body))
        pos += 12 + n
    assert chunks[0][0] == b"IHDR" and chunks[-1][0] == b"IEND"
    w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    assert (depth, ctype, interlace) == (8, 2, 0)
    raw = zlib.decompress(b"".join(b for t, b in chunks if t == b"IDAT"))
    rows = [raw[y * (1 + 3 * w):(y + 1) * (1 + 3 * w)] for y in range(h)]
    assert all(r[0] == 0 for r in rows)
    return w, h, [[tuple(r[1 + 3 * x:4 + 3 * x]) for x in range(w)] for r in rows]


def test_screenshot(d):
    path = os.path.join(d.dir, "shot.png")
    out = virsh(d, "screenshot", "test", path).stdout
    assert "with type of image/png" in out, out
    w, h, px = png_pixels(open(path, "rb").read())
    # The mock's documented image: 16x16, pixel (x, y) = (16x, 16y, 128).
    assert (w, h) == (16, 16)
    assert all(px[y][x] == (16 * x, 16 * y, 128) for y in range(16) for x in range(16))
    r = virsh(d, "screenshot", "vm1", path + ".2", ok=False)
    assert r.returncode == 1 and "domain is not running" in r.stderr, r.stderr


def test_volume(d):
    mib = 1 << 20
    src = os.path.join(d.dir, "src.img")
    sparse_file(src)
    layout = data_and_holes(src)
    virsh(d, "vol-upload", "--pool", "default", "disk.img", src, "--sparse")
    info = virsh(d, "vol-info", "--pool", "default", "disk.img").stdout
    # Only the data was stored: the hole came as a hole.
    assert "Allocation:     2.00 MiB" in info and "Capacity:       4.00 MiB" in info, info
    dst = os.path.join(d.dir, "dst.img")
    virsh(d, "vol-download", "--pool", "default", "disk.img", dst, "--sparse")
    assert open(src, "rb").read() == open(dst, "rb").read()
    assert data_and_holes(dst) == layout, data_and_holes(dst)
    assert os.stat(dst).st_blocks * 512 <= 2 * mib + 64 * 1024
    # Without --sparse the same bytes come as data (the file has no hole).
    full = os.path.join(d.dir, "full.img")
    virsh(d, "vol-download", "--pool", "default", "disk.img", full)
    assert open(full, "rb").read() == open(src, "rb").read()
    assert os.stat(full).st_blocks * 512 >= 4 * mib


def test_python(d):
    import libvirt
    conn = libvirt.open(d.uri)
    try:
        doms = {dom.name(): dom for dom in conn.listAllDomains()}
        assert sorted(doms) == ["test", "vm1", "vm2"]
        t = conn.lookupByName("test")
        assert t.info() == [libvirt.VIR_DOMAIN_RUNNING, 1048576, 524288, 1, 1234567890]
        assert t.UUIDString() == "10111213-1415-1617-1819-1a1b1c1d1e1f"
        vm1 = conn.lookupByName("vm1")
        assert vm1.info()[0] == libvirt.VIR_DOMAIN_SHUTOFF
        assert vm1.create() == 0
        assert vm1.info()[0] == libvirt.VIR_DOMAIN_RUNNING and vm1.isActive() == 1
        assert vm1.destroy() == 0
        assert vm1.state() == [libvirt.VIR_DOMAIN_SHUTOFF, 2]  # destroyed
        try:
            conn.lookupByName("nosuch")
            raise AssertionError("lookup of a missing domain succeeded")
        except libvirt.libvirtError as e:
            assert e.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN, e.get_error_code()
    finally:
        conn.close()


# -- raw wire checks (frames built here, independent of the project's codecs)


def xdr_string(b, pos):
    (n,) = struct.unpack(">I", b[pos:pos + 4])
    return b[pos + 4:pos + 4 + n].decode(), pos + 4 + ((n + 3) & ~3)


def test_first(d):
    """What libvirt's clients ask first, through virsh and python3-libvirt."""
    assert virsh(d, "hostname").stdout.strip() == socket.gethostname()
    ver = virsh(d, "version", "--daemon").stdout
    assert "Running hypervisor: TEST 0.0.2" in ver, ver
    assert "Running against daemon: 11.3.0" in ver, ver
    info = {k.strip(): v.strip() for k, v in
            (line.split(":", 1) for line in virsh(d, "nodeinfo").stdout.splitlines() if ":" in line)}
    assert info["CPU model"] == "x86_64" and info["CPU(s)"] == "4", info
    assert info["Memory size"] == "8388608 KiB", info
    caps = virsh(d, "capabilities").stdout
    assert "<arch>x86_64</arch>" in caps and "<domain type='test'/>" in caps, caps
    assert "<sysinfo type='smbios'>" in virsh(d, "sysinfo").stdout
    pools = table_rows(virsh(d, "pool-list", "--all").stdout)
    assert pools == [["default", "active", "no"]], pools
    assert "disk.img" in virsh(d, "vol-list", "default").stdout
    for cmd in (("net-list", "--all"), ("iface-list", "--all"), ("secret-list",)):
        assert table_rows(virsh(d, *cmd).stdout) == [], cmd
    assert virsh(d, "nodedev-list").stdout.strip() == ""

    import libvirt
    conn = libvirt.open(d.uri)
    try:
        assert conn.getVersion() == 2 and conn.getLibVersion() == 11003000
        assert conn.getHostname() == socket.gethostname()
        assert conn.getInfo() == ["x86_64", 8192, 4, 2000, 1, 1, 2, 2], conn.getInfo()
        # The older list and count calls.
        assert conn.numOfDomains() == 1 and conn.listDomainsID() == [1]
        assert conn.numOfDefinedDomains() == 2
        assert sorted(conn.listDefinedDomains()) == ["vm1", "vm2"]
        assert conn.numOfStoragePools() == 1 and conn.listStoragePools() == ["default"]
        assert conn.numOfDefinedStoragePools() == 0 and conn.listDefinedStoragePools() == []
        assert [p.name() for p in conn.listAllStoragePools()] == ["default"]
        assert conn.numOfNetworks() == 0 and conn.listNetworks() == []
        assert conn.numOfDefinedNetworks() == 0 and conn.listDefinedNetworks() == []
        assert conn.listAllNetworks() == [] and conn.listAllInterfaces() == []
        assert conn.numOfInterfaces() == 0 and conn.listInterfaces() == []
        assert conn.numOfDefinedInterfaces() == 0 and conn.listDefinedInterfaces() == []
        assert conn.numOfDevices(None) == 0 and conn.listDevices(None) == []
        assert conn.listAllDevices() == []
        assert conn.numOfSecrets() == 0 and conn.listSecrets() == [] and conn.listAllSecrets() == []
        assert "<capabilities>" in conn.getCapabilities()
        assert "<sysinfo type='smbios'>" in conn.getSysinfo()
    finally:
        conn.close()


def test_paused(d):
    """create with START_PAUSED: started, then suspended, as QEMU does it."""
    ev = subprocess.Popen(["virsh", "-c", d.uri, "event", "--loop", "--event", "lifecycle"],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        lines = LineReader(ev.stdout)
        deadline = time.time() + TIMEOUT
        while time.time() < deadline:  # until the registration is in place
            virsh(d, "start", "vm2")
            virsh(d, "destroy", "vm2")
            if lines.line(0.5):
                break
        else:
            raise AssertionError("virsh event got nothing")
        assert "Domain 'vm1' started" in virsh(d, "start", "--paused", "vm1").stdout
        assert virsh(d, "domstate", "--reason", "vm1").stdout.strip() == "paused (user)"
        got = []
        while len(got) < 2:
            line = lines.line(TIMEOUT)
            assert line is not None, got
            if "'vm2'" not in line:
                got.append(line)
        assert got == ["event 'lifecycle' for domain 'vm1': Started Booted",
                       "event 'lifecycle' for domain 'vm1': Suspended Paused"], got
    finally:
        ev.terminate()
        ev.wait(timeout=TIMEOUT)
    virsh(d, "destroy", "vm1")
    import libvirt
    conn = libvirt.open(d.uri)
    try:
        dom = conn.lookupByName("vm1")
        assert dom.createWithFlags(libvirt.VIR_DOMAIN_START_PAUSED) == 0
        assert dom.state() == [libvirt.VIR_DOMAIN_PAUSED, libvirt.VIR_DOMAIN_PAUSED_USER]
        assert dom.resume() == 0 and dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING
        assert dom.destroy() == 0
    finally:
        conn.close()


def test_readonly(d):
    """A read-only connection is refused writes with libvirtd's error: the
    same words from virsh -r, the same fields for python3-libvirt."""
    import libvirt
    ref = vwtest.Libvirtd(timeout=TIMEOUT)
    try:
        ref_uri = "test+unix:///default?socket=" + ref.sock
        # (virsh itself refuses to start a running domain: python below.)
        for cmd in (("destroy", "test"), ("suspend", "test"),
                    ("resume", "test"), ("screenshot", "test", "/dev/null")):
            want = subprocess.run(["virsh", "-r", "-c", ref_uri, *cmd], capture_output=True,
                                  text=True, timeout=TIMEOUT)
            got = subprocess.run(["virsh", "-r", "-c", d.uri, *cmd], capture_output=True,
                                 text=True, timeout=TIMEOUT)
            assert want.returncode == got.returncode == 1, (cmd, want, got)
            assert "read only access prevents" in want.stderr, want.stderr
            assert got.stderr == want.stderr, (cmd, got.stderr, want.stderr)

        def refusal(uri, name):
            c = libvirt.openReadOnly(uri)
            try:
                c.lookupByName(name).create()
                raise AssertionError("a read-only create succeeded")
            except libvirt.libvirtError as e:
                return (e.get_error_code(), e.get_error_domain(), e.get_error_message(),
                        e.get_str1(), e.get_str2(), e.get_str3(), e.get_int1(), e.get_int2())
            finally:
                c.close()
        want = refusal(ref_uri, "test")
        assert want[:2] == (libvirt.VIR_ERR_OPERATION_DENIED, libvirt.VIR_FROM_DOMAIN), want
        assert refusal(d.uri, "vm1") == want
    finally:
        ref.stop()
    # The volume's transfers are writes too (libvirt's storage domain).
    r = virsh(d, "-r", "vol-upload", "--pool", "default", "disk.img", "/dev/null", ok=False)
    assert "operation forbidden: read only access prevents virStorageVolUpload" in r.stderr, r
    # Reading goes on, and nothing was changed.
    assert table_rows(subprocess.run(["virsh", "-r", "-c", d.uri, "list", "--all"],
                                     capture_output=True, text=True,
                                     timeout=TIMEOUT).stdout)[0] == ["1", "test", "running"]


def test_graphics(d):
    """An fd from the daemon: DOMAIN_OPEN_GRAPHICS_FD through python3-libvirt."""
    import libvirt
    conn = libvirt.open(d.uri)
    try:
        fd = conn.lookupByName("test").openGraphicsFD(0)
        try:
            data = vwtest.read_to_eof(fd)
        finally:
            os.close(fd)
        assert data == b"virtwire-mockd graphics\n", data
    finally:
        conn.close()


def opened(path):
    """A raw connection that went through AUTH_LIST and CONNECT_OPEN."""
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(TIMEOUT)
    s.connect(path)
    call(s, 66, 1)
    name = b"test:///default"
    call(s, 1, 2, struct.pack(">II", 1, len(name)) + name + b"\0" + struct.pack(">I", 0))
    return s


def unknown_reply(path, proc):
    """The header and body of the answer to a call of proc."""
    s = opened(path)
    s.sendall(frame(proc, 7))
    got = read_frame(s)
    s.close()
    return got


def test_unknown(d):
    # A number no program has, and NETWORK_UPDATE (291), which the mock
    # does not serve: libvirtd's error for the first, byte for byte.
    ref = vwtest.Libvirtd(timeout=TIMEOUT)
    try:
        want = unknown_reply(ref.sock, 9999)
    finally:
        ref.stop()
    assert unknown_reply(d.sock, 9999) == want, (unknown_reply(d.sock, 9999), want)
    (prog, vers, proc, typ, serial, status), body = unknown_reply(d.sock, 291)
    assert (prog, vers, proc, typ, serial, status) == (REMOTE_PROGRAM, 1, 291, 1, 7, 1)
    code, domain, has_msg = struct.unpack(">iiI", body[:12])
    msg, pos = xdr_string(body, 12)
    (level, has_dom, has_str1) = struct.unpack(">iII", body[pos:pos + 12])
    str1, pos = xdr_string(body, pos + 12)
    (has_str2,) = struct.unpack(">I", body[pos:pos + 4])
    str2, pos = xdr_string(body, pos + 4)
    rest = struct.unpack(">IiiI", body[pos:])
    # libvirt's virnetserverprogram.c: VIR_ERR_RPC, VIR_FROM_RPC, level
    # ERROR; virReportError() fills str1 with the format, str2 with the
    # message, int1 and int2 with -1.
    assert (code, domain, has_msg, msg, level) == (39, 7, 1, "unknown procedure: 291", 2), \
        (code, domain, msg, level)
    assert (has_dom, has_str1, str1, has_str2, str2) == (0, 1, "%s", 1, msg)
    assert rest == (0, -1, -1, 0), rest  # str3 absent, int1, int2, net absent
    # What virsh makes of it.
    r = virsh(d, "net-update", "default", "add", "ip-dhcp-host", "<host/>", ok=False)
    assert r.returncode == 1 and "unknown procedure" in r.stderr, r.stderr


def stream_abort(path, proc, args):
    """Starts a read stream, aborts it after its first packet, and returns
    the packets the daemon sends after the abort up to its final one."""
    s = opened(path)
    s.sendall(frame(proc, 9, args))
    hdr, _ = read_frame(s)
    assert hdr[3:] == (1, 9, 0), hdr  # REPLY OK
    hdr, _ = read_frame(s)
    assert hdr[3:] == (3, 9, 2), hdr  # a first data packet
    s.sendall(struct.pack(">IIIiiII", 28, REMOTE_PROGRAM, 1, proc, 3, 9, 1))  # abort
    after = []
    while True:
        (prog, vers, p, typ, serial, status), body = read_frame(s)
        assert (prog, p, typ, serial) == (REMOTE_PROGRAM, proc, 3, 9)
        if status == 2:
            continue  # data sent before the abort arrived
        after.append((status, body))
        break
    s.close()
    return after


def xdr_str(text):
    b = text.encode()
    return struct.pack(">I", len(b)) + b + b"\0" * (-len(b) % 4)


def test_abort(d):
    """A client's abort is confirmed with an empty STREAM/OK, as libvirtd
    confirms it (daemonStreamHandleAbort)."""
    ref = vwtest.Libvirtd(timeout=TIMEOUT)
    try:
        s = opened(ref.sock)
        s.sendall(frame(23, 3, xdr_str("test")))  # DOMAIN_LOOKUP_BY_NAME
        _, dom = read_frame(s)
        s.close()
        # DOMAIN_SCREENSHOT (211): dom, screen, flags
        want = stream_abort(ref.sock, 211, dom + struct.pack(">II", 0, 0))
    finally:
        ref.stop()
    assert want == [(0, b"")], want
    dom = xdr_str("test") + bytes(range(0x10, 0x20)) + struct.pack(">i", 1)
    assert stream_abort(d.sock, 211, dom + struct.pack(">II", 0, 0)) == want
    # A download aborted in the middle (4 MiB, far more than one packet).
    vol = xdr_str("default") + xdr_str("disk.img") + xdr_str("/mock/default/disk.img")
    assert stream_abort(d.sock, 209, vol + struct.pack(">QQI", 0, 0, 0)) == want
    # The daemon still serves the client's next connection.
    r = virsh(d, "list", "--all")
    assert "vm1" in r.stdout


def test_limit(_unused):
    for limit, calls in ((5, 12), (2, 7)):
        d = start_daemon([str(limit)], exe=LIMIT_SERVER)
        try:
            s = socket.socket(socket.AF_UNIX)
            s.settimeout(TIMEOUT)
            s.connect(d.sock)
            # All calls pipelined in one write: CONNECT_GET_LIB_VERSION (157).
            s.sendall(b"".join(frame(157, 100 + i) for i in range(calls)))
            got = []
            for _ in range(calls):
                hdr, body = read_frame(s)
                assert hdr[3:] == (1, hdr[4], 0), hdr  # REPLY, OK
                got.append((hdr[4], struct.unpack(">Q", body)[0]))
            s.close()
        finally:
            d.stop(exits_itself=True)  # it exits once its client has gone
        # Every call answered once, in order; the handler never held more
        # than the limit at once, and held exactly the limit while the
        # client had more waiting.
        assert [g[0] for g in got] == [100 + i for i in range(calls)], got
        held = [g[1] for g in got]
        full, rest = divmod(calls, limit)
        assert held == [limit] * (full * limit) + [rest] * rest, (limit, held)


def free_tcp_port():
    """A loopback port free a moment ago: the kernel's pick for port 0."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Endpoint:
    """What virsh() needs of a daemon: a URI."""

    def __init__(self, uri):
        self.uri = uri


def test_tcp(_unused):
    """virsh over TCP (--tcp PORT), with the unix listener of the same daemon
    seeing the same state."""
    port = free_tcp_port()
    d = start_daemon(("--tcp", str(port)))
    try:
        tcp = Endpoint("test+tcp://127.0.0.1:%d/default" % port)
        assert table_rows(virsh(tcp, "list", "--all").stdout) == [
            ["1", "test", "running"], ["-", "vm1", "shut off"], ["-", "vm2", "shut off"]]
        assert "Domain 'vm1' started" in virsh(tcp, "start", "vm1").stdout
        # One daemon behind both listeners: the unix client sees the change.
        assert table_rows(virsh(d, "list").stdout) == [
            ["1", "test", "running"], ["2", "vm1", "running"]]
    finally:
        log = d.stop()
    assert "unknown procedure" not in log, log


# -- keepalive: the daemon's own PINGs (libvirtd's keepalive_interval and
# keepalive_count; here 1 s and 1, so a silent client goes after 2 s)

# length 28, program 0x6b656570 version 1, procedure PING (1) or PONG (2),
# type MESSAGE (2), serial 0, status OK
PING = bytes.fromhex("0000001c 6b656570 00000001 00000001 00000002 00000000 00000000")
PONG = bytes.fromhex("0000001c 6b656570 00000001 00000002 00000002 00000000 00000000")
KA_ARGS = ("--keepalive-interval", "1", "--keepalive-count", "1")
DROPPED = "virtwire-mockd: client dropped: keepalive timeout"


def call(s, proc, serial, payload=b""):
    """One call; returns the body of its reply (checked to be REPLY, OK)."""
    s.sendall(frame(proc, serial, payload))
    hdr, body = read_frame(s)
    assert hdr == (REMOTE_PROGRAM, 1, proc, 1, serial, 0), hdr
    return body


def raw_client(d, announce):
    """A connection that starts as libvirt's remote driver does: AUTH_LIST
    (66), CONNECT_SUPPORTS_FEATURE (60) for keepalive (10) when announce,
    CONNECT_OPEN (1).  Returns the socket and the time of the last reply:
    the client's last frame was sent just before."""
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(TIMEOUT)
    s.connect(d.sock)
    assert call(s, 66, 1) == struct.pack(">II", 1, 0)  # [REMOTE_AUTH_NONE]
    if announce:
        assert call(s, 60, 2, struct.pack(">i", 10)) == struct.pack(">i", 1)  # supported
    name = b"test:///default"
    call(s, 1, 3, struct.pack(">II", 1, len(name)) + name + b"\0" + struct.pack(">I", 0))
    return s, time.monotonic()


def silent_until_dropped(s, t0):
    """[(seconds since t0, frame)] received until end of file."""
    got = []
    while True:
        f = read_raw_frame(s)
        got.append((time.monotonic() - t0, f))
        if f is None:
            return got


def near(t, want, early=0.15, late=0.8):
    return want - early <= t <= want + late


def test_keepalive(_unused):
    """A client that announced keepalive and never answers gets count PINGs,
    one per interval of silence, and is dropped after interval x (count + 1);
    one that answers each PING with a PONG stays."""
    for interval, count in ((1, 1), (1, 2), (1, 0)):
        d = start_daemon(("--keepalive-interval", str(interval), "--keepalive-count", str(count)))
        try:
            s, t0 = raw_client(d, announce=True)
            got = silent_until_dropped(s, t0)
            s.close()
            times = [t for t, _ in got]
            frames = [f for _, f in got]
            assert frames == [PING] * count + [None], (interval, count, frames)
            for i in range(count):
                assert near(times[i], interval * (i + 1)), (interval, count, times)
            assert near(times[-1], interval * (count + 1)), (interval, count, times)
        finally:
            log = d.stop()
        assert log.count(DROPPED) == 1, log

    d = start_daemon(KA_ARGS)
    try:
        s, t0 = raw_client(d, announce=True)
        pings = 0
        while time.monotonic() - t0 < 4.5:  # twice the time to be dropped
            f = read_raw_frame(s)
            assert f == PING, f
            pings += 1
            s.sendall(PONG)
        # Each PONG restarted the clock: a PING a second, never dropped.
        assert pings >= 4, pings
        # Still served.
        body = call(s, 3, 9)  # CONNECT_GET_TYPE
        assert xdr_string(body, 0)[0] == "TEST", body
        s.close()
    finally:
        log = d.stop()
    assert DROPPED not in log, log


def test_keepalive_loop(_unused):
    """keepalive_server.c: a loop that polls with no timeout of its own
    wakes for the keepalive deadlines (0.7 s, count 1); the silent client,
    held at its limit of one call with two more kept, an upload stream open,
    is dropped after 1.4 s, and everything it had is released."""
    d = start_daemon(("700", "1"), exe=KEEPALIVE_SERVER)
    try:
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(TIMEOUT)
        s.connect(d.sock)
        assert call(s, 60, 1, struct.pack(">i", 10)) == struct.pack(">i", 1)
        # STORAGE_VOL_UPLOAD (208): vol {pool, name, key}, offset, length, flags
        vol = b"".join(struct.pack(">I", 1) + c + b"\0\0\0" for c in (b"p", b"v", b"k"))
        assert call(s, 208, 2, vol + struct.pack(">QQI", 0, 0, 0)) == b""
        # Three CONNECT_GET_LIB_VERSION (157): one held, two kept.
        s.sendall(b"".join(frame(157, 10 + i) for i in range(3)))
        t0 = time.monotonic()
        got = silent_until_dropped(s, t0)
        s.close()
        frames = [f for _, f in got]
        times = [t for t, _ in got]
        assert frames == [PING, None], frames
        assert near(times[0], 0.7) and near(times[1], 1.4), times
    finally:
        d.stop(exits_itself=True)  # it exits once its client has gone
    out = d.proc.stdout.read().splitlines()
    assert out == ["stream closed", "closed keepalive 1 1", "orphaned 1"], out


def test_keepalive_silent(_unused):
    """A client that never announced keepalive is never pinged nor dropped,
    while one that did, on the same daemon, is."""
    d = start_daemon(KA_ARGS)
    try:
        quiet, _ = raw_client(d, announce=False)
        # Also one that asked about another feature (REMOTE_EVENT_CALLBACK).
        other, _ = raw_client(d, announce=False)
        assert call(other, 60, 4, struct.pack(">i", 14)) == struct.pack(">i", 1)
        pinged, t0 = raw_client(d, announce=True)
        assert read_raw_frame(pinged) == PING
        assert read_raw_frame(pinged) is None  # dropped after 2 s
        while time.monotonic() - t0 < 4.5:
            r, _, _ = select.select([quiet, other], [], [], 4.5 - (time.monotonic() - t0))
            assert not r, "a client that did not announce keepalive got %r" % \
                (r[0].recv(64),)
        for s in (quiet, other):
            body = call(s, 3, 9)  # CONNECT_GET_TYPE: still connected
            assert xdr_string(body, 0)[0] == "TEST", body
            s.close()
        pinged.close()
    finally:
        log = d.stop()
    assert log.count(DROPPED) == 1, log


# python3-libvirt in a process of its own: MODE "loop" registers the default
# event loop and runs it in a thread (the client then announces keepalive
# and answers the daemon's PINGs from there), "noloop" registers it but never
# runs it (announced, never answered), "none" registers none (never
# announced).  It lists the domains, stays idle IDLE seconds, lists again.
PY_CLIENT = r"""
import sys, threading, time, libvirt
mode, uri, idle = sys.argv[1], sys.argv[2], float(sys.argv[3])
if mode != "none":
    libvirt.virEventRegisterDefaultImpl()
if mode == "loop":
    def run():
        while True:
            libvirt.virEventRunDefaultImpl()
    threading.Thread(target=run, daemon=True).start()
conn = libvirt.open(uri)
before = sorted(d.name() for d in conn.listAllDomains())
time.sleep(idle)
try:
    after = sorted(d.name() for d in conn.listAllDomains())
    print("ok" if after == before == ["test", "vm1", "vm2"] else "bad %r %r" % (before, after))
    print("alive %d" % conn.isAlive())
except libvirt.libvirtError as e:
    print("error %d %s" % (e.get_error_code(), e))
"""


def py_client(d, mode, idle):
    r = subprocess.run([sys.executable, "-c", PY_CLIENT, mode, d.uri, str(idle)],
                       capture_output=True, text=True, timeout=TIMEOUT)
    assert r.returncode == 0, (mode, r.stdout, r.stderr)
    return r.stdout.split("\n")


def test_keepalive_python(_unused):
    """python3-libvirt with a running event loop stays connected through
    five intervals of idleness (2.5 times what drops a silent client) and
    can still call; the same client without the loop running is dropped;
    one without an event loop never announces keepalive and stays."""
    d = start_daemon(KA_ARGS)
    try:
        out = py_client(d, "loop", 5)
        assert out[:2] == ["ok", "alive 1"], out
        out = py_client(d, "noloop", 4)
        assert out[0].startswith("error 38 "), out  # VIR_ERR_SYSTEM_ERROR: end of file
        out = py_client(d, "none", 4)
        assert out[:2] == ["ok", "alive 1"], out
    finally:
        log = d.stop()
    assert log.count(DROPPED) == 1, log


def test_bench_domains(_unused):
    """--bench-domains 100 serves what the benchmarks' libvirtd holds: the
    test driver's own "test" and 100 shut-off domains defined there with
    bench/rpc's holder's XML.  A private libvirtd with those definitions is
    the reference: the same names, the same "test" (UUID, id, state,
    memory, vCPUs) and the same shut-off domains, through python3-libvirt."""
    import libvirt
    lv = vwtest.Libvirtd()
    d = start_daemon(("--bench-domains", "100"))
    try:
        ref = libvirt.open(lv.uri)  # test:///default keeps its state while open
        for i in range(100):
            ref.defineXML("<domain type='test'><name>bench-%03d</name><memory>1024</memory>"
                          "<os><type>hvm</type></os></domain>" % i)
        ours = libvirt.open(d.uri)
        try:
            def inventory(conn):
                doms = conn.listAllDomains(0)
                return sorted((x.name(), x.ID(), x.isActive(), x.info()[:4]) for x in doms)
            got, want = inventory(ours), inventory(ref)
            assert len(want) == 101 and got == want, (got[:3], want[:3])
            assert ours.lookupByName("test").UUIDString() == \
                ref.lookupByName("test").UUIDString()
            assert ours.getLibVersion() == 11003000
        finally:
            ours.close()
            ref.close()
    finally:
        log = d.stop()
        lv.stop()
    assert "unknown procedure" not in log, log
    for bad in ("1000", "-1", "x"):
        r = subprocess.run([MOCKD, "/nonexistent/s", "--bench-domains", bad],
                           capture_output=True, text=True, timeout=TIMEOUT)
        assert r.returncode == 2 and "usage:" in r.stderr, (bad, r)


TESTS = {"virsh": test_virsh, "events": test_events, "screenshot": test_screenshot,
         "volume": test_volume, "python": test_python, "unknown": test_unknown,
         "abort": test_abort, "first": test_first, "paused": test_paused,
         "readonly": test_readonly, "graphics": test_graphics,
         "limit": test_limit, "tcp": test_tcp, "keepalive": test_keepalive,
         "keepalive_loop": test_keepalive_loop,
         "keepalive_silent": test_keepalive_silent, "keepalive_python": test_keepalive_python,
         "bench_domains": test_bench_domains}

if __name__ == "__main__":
    start = time.time()
    if GROUP in ("limit", "tcp", "bench_domains") or GROUP.startswith("keepalive"):  # own daemons
        TESTS[GROUP](None)
    else:
        daemon = start_daemon()
        try:
            TESTS[GROUP](daemon)
        finally:
            log = daemon.stop()
        if GROUP in ("virsh", "first", "paused", "readonly", "graphics"):
            # The clients' own needs are all served: nothing was unknown to the mock.
            assert "unknown procedure" not in log, log
    print("server.%s: ok (%.1f s)" % (GROUP, time.time() - start))
