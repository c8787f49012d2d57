# SPDX-License-Identifier: LGPL-2.1-or-later
"""What the Python tests share: daemons they start for themselves (a private
libvirtd through tests/libvirtd/private-libvirtd, a private sshd in front of
it through tests/libvirtd/private-sshd, and programs such as
examples/virtwire-mockd that print one line once they listen), the TLS
tests' certificates (make_pki), free ports,
short temporary directories, virsh, reading lines with a timeout, tshark
capturing a port, libvirt RPC frames built and read by hand, and sparse
files.

A test puts tests/lib on its path first:

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                    "..", "lib"))
    import vwtest
"""
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import unittest

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Starts and stops a private libvirtd (test driver) in a directory.
PRIVATE_LIBVIRTD = os.path.join(TESTS, "libvirtd", "private-libvirtd")
# ... and a private sshd in front of it.
PRIVATE_SSHD = os.path.join(TESTS, "libvirtd", "private-sshd")
# Makes the TLS tests' certificates (its comment lists them).
MAKE_PKI = os.path.join(TESTS, "lib", "make-pki")
# Our programs start through this (under valgrind with VIRTWIRE_VALGRIND=1).
LAUNCH = os.path.join(TESTS, "valgrind", "launch")

REMOTE_PROGRAM, KEEPALIVE_PROGRAM = 0x20008086, 0x6B656570
# virNetMessageType
CALL, REPLY, MESSAGE = 0, 1, 2


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def short_tmpdir(prefix="vw."):
    """A new directory under TMPDIR (unix socket paths must stay short)."""
    return tempfile.mkdtemp(prefix=prefix, dir=tempfile.gettempdir())


def virsh_command():
    """The virsh to run, as (argv prefix, environment or None): the system's
    (9.0.0), or with VIRTWIRE_LIBVIRT_SUITE=SUITE in the environment the one
    of that Debian suite (bookworm-backports: 11.3.0), unpacked privately by
    tests/libvirtd/unpack-libvirt and run with its own libraries."""
    suite = os.environ.get("VIRTWIRE_LIBVIRT_SUITE")
    if not suite:
        return ["virsh"], None
    unpack = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "libvirtd",
                          "unpack-libvirt")
    root = subprocess.run([unpack, suite], capture_output=True, text=True, check=True,
                          timeout=300).stdout.strip()
    libdirs = [os.path.join(root, "usr", "lib", t) for t in os.listdir(os.path.join(root, "usr", "lib"))]
    libdir = [d for d in libdirs if os.path.exists(os.path.join(d, "libvirt.so.0"))][0]
    return [os.path.join(root, "usr", "bin", "virsh")], dict(os.environ, LD_LIBRARY_PATH=libdir)


def virsh(uri, *args, ok=True, timeout=30):
    """virsh -c URI ARGS (virsh_command()'s); ok=True asserts that it
    succeeded."""
    argv, env = virsh_command()
    r = subprocess.run([*argv, "-c", uri, *args], capture_output=True, text=True,
                       timeout=timeout, env=env)
    if ok:
        assert r.returncode == 0, (args, r.stdout, r.stderr)
    return r


def make_pki(prefix="vw-pki-"):
    """A fresh directory with the TLS tests' certificates (tests/lib/make-pki)."""
    d = short_tmpdir(prefix)
    subprocess.run([MAKE_PKI, d], check=True, timeout=120)
    return d


class Libvirtd:
    """A private libvirtd (test driver) in a short temporary directory,
    listening on a free TCP port too when tcp is set, and with TLS on
    another when tls_pki names a directory of certificates (tls_env: more
    of private-libvirtd's VIRTWIRE_TLS_* variables) (script: the
    private-libvirtd to use, when the test is given its path; env: the
    script's and the daemon's environment, e.g. VIRTWIRE_AUTH_UNIX_RW)."""

    def __init__(self, tcp=False, prefix="vw-lvd-", timeout=30, script=PRIVATE_LIBVIRTD,
                 tls_pki=None, tls_env=None, env=None):
        self.timeout, self.script = timeout, script
        self.dir = short_tmpdir(prefix)
        self.port = free_port() if tcp else None
        self.tls_port = free_port() if tls_pki else None
        env = dict(os.environ if env is None else env)
        if tls_pki:
            env.update(VIRTWIRE_TLS_PORT=str(self.tls_port), VIRTWIRE_TLS_PKI=tls_pki,
                       **(tls_env or {}))
        subprocess.run([script, "start", self.dir] + ([str(self.port)] if tcp else []),
                       check=True, stdout=subprocess.DEVNULL, timeout=timeout, env=env)
        self.tls_uri = ("test+tls://localhost:%d/default" % self.tls_port) if tls_pki else None
        self.sock = os.path.join(self.dir, "libvirt-sock")
        self.uri = "test+unix:///default?socket=" + self.sock
        self.admin_uri = "libvirtd:///system?socket=" + os.path.join(self.dir,
                                                                     "libvirt-admin-sock")
        self.tcp_uri = "test+tcp://127.0.0.1:%d/default" % self.port if tcp else None

    def stop(self, remove=True):
        """Stops the daemon; removes its directory unless told not to."""
        subprocess.run([self.script, "stop", self.dir], timeout=self.timeout)
        if remove:
            shutil.rmtree(self.dir, ignore_errors=True)


class Sshd:
    """A private sshd (tests/libvirtd/private-sshd, as root) in front of a
    running Libvirtd: virt-ssh-helper on the "remote" side reaches that
    daemon at the system socket path.  key and nohelper_key are authorized
    (the second's sessions have no virt-ssh-helper in PATH); ssh and
    unknown_ssh run the real ssh with a private configuration, knowing the
    host key or not; bin holds ssh, to put first in PATH (Host alias
    "vwtest": 127.0.0.1:port as root with key)."""

    def __init__(self, libvirtd, prefix="vw-sshd-", timeout=30, script=PRIVATE_SSHD):
        self.timeout, self.script = timeout, script
        self.dir = short_tmpdir(prefix)
        self.port = free_port()
        subprocess.run([script, "start", self.dir, str(self.port), libvirtd.dir], check=True,
                       stdout=subprocess.DEVNULL, timeout=timeout)
        self.key = os.path.join(self.dir, "key")
        self.nohelper_key = os.path.join(self.dir, "nohelper_key")
        self.bin = os.path.join(self.dir, "bin")
        self.ssh = os.path.join(self.bin, "ssh")
        self.unknown_ssh = os.path.join(self.dir, "unknown", "ssh")
        self.authorized_keys = os.path.join(self.dir, "authorized_keys")

    def uri(self, query="", key=None, ssh=None, path="test+ssh://root@127.0.0.1:%d/default"):
        """A URI to the daemon through this sshd, as root with key (default:
        self.key) and the ssh wrapper ssh (default: self.ssh); query adds
        parameters ("socket=...&proxy=netcat")."""
        params = "keyfile=%s&command=%s" % (key or self.key, ssh or self.ssh)
        return (path % self.port) + "?" + params + ("&" + query if query else "")

    def pid(self):
        with open(os.path.join(self.dir, "sshd.pid")) as f:
            return int(f.read())

    def stop(self):
        subprocess.run([self.script, "stop", self.dir], timeout=self.timeout)
        shutil.rmtree(self.dir, ignore_errors=True)


def process_tree(top):
    """{pid: (command name, argv)} of the processes below pid top."""
    found = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        pid = int(name)
        try:
            with open("/proc/%d/stat" % pid) as f:
                stat = f.read()
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                argv = [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        p = pid
        while p > 1:
            try:
                with open("/proc/%d/stat" % p) as f:
                    st = f.read()
            except OSError:
                break
            p = int(st[st.rindex(")") + 2:].split()[1])
            if p == top:
                found[pid] = (comm, argv)
                break
    return found


class Daemon:
    """A program that takes a unix socket path as its first argument and
    prints one line once it listens there (examples/virtwire-mockd, the
    test servers, the guides' server): on DIR/s in a short temporary
    directory, its stderr kept in DIR/log; through LAUNCH when launch is
    set; with --tcp PORT on a free port when tcp is set."""

    def __init__(self, exe, *args, launch=False, tcp=False, prefix="vw.", timeout=20,
                 check_status=True):
        self.timeout, self.check_status = timeout, check_status
        self.dir = short_tmpdir(prefix)
        self.sock = os.path.join(self.dir, "s")
        self.port = free_port() if tcp else None
        self.log = open(os.path.join(self.dir, "log"), "w+")
        argv = ([LAUNCH] if launch else []) + [exe, self.sock, *args]
        if tcp:
            argv += ["--tcp", str(self.port)]
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self.log, text=True)
        assert self.proc.stdout.readline(), "daemon did not start"
        self.uri = "test+unix:///default?socket=" + self.sock

    def stop(self, exits_itself=False):
        """Ends it (SIGTERM, unless it exits by itself) and returns its log,
        which must hold no sanitizer report; with check_status (given when
        it started), it must have exited with status 0."""
        if not exits_itself and self.proc.poll() is None:
            self.proc.terminate()
        rc = self.proc.wait(timeout=self.timeout)
        self.log.seek(0)
        log = self.log.read()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)
        assert "AddressSanitizer" not in log and "runtime error" not in log, log
        if self.check_status:
            assert rc == 0, (rc, log)
        return log


class LineReader:
    """Lines of a pipe, with a timeout (select on the raw fd, own buffer)."""

    def __init__(self, f, strip=False):
        self.fd, self.buf, self.strip = f.fileno(), b"", strip

    def line(self, timeout=30):
        """The next line (without its newline; stripped with strip), or None
        at end of file or after timeout seconds."""
        end = time.time() + timeout
        while b"\n" not in self.buf:
            left = end - time.time()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                return None
            chunk = os.read(self.fd, 65536)
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode().strip() if self.strip else line.decode()


class Capture:
    """tshark capturing one TCP port on the loopback into path; returns
    once packets reach the file."""

    def __init__(self, port, path, tshark="tshark"):
        self.proc = subprocess.Popen(
            [tshark, "-i", "lo", "-B", "64", "-f", "tcp port %d" % port, "-w", path],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        # tshark says "Capturing on 'Loopback: lo'" once the capture runs.
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            line = self.proc.stderr.readline()
            if not line:
                raise RuntimeError("tshark exited: %s" % self.proc.wait())
            if line.startswith("Capturing on"):
                break
        else:
            raise RuntimeError("tshark did not say it was capturing within 20 s")
        # It says so a little before packets reach the file: connect to the
        # port (the daemon accepts and sees us leave) until the file grows.
        base = None
        while time.monotonic() < deadline:
            size = os.path.getsize(path) if os.path.exists(path) else None
            if base is not None and size > base:
                return
            if base is None and size is not None:
                base = size
            with socket.create_connection(("127.0.0.1", port), timeout=5):
                pass
            time.sleep(0.1)
        raise RuntimeError("tshark captured nothing within 20 s")

    def stop(self):
        time.sleep(0.5)  # the last packets reach the file
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# -- libvirt RPC frames, built and read here (independent of the project's codecs)


def frame(proc, serial, payload=b"", prog=REMOTE_PROGRAM, mtype=CALL, status=0):
    """One frame: length word, header (version 1), payload."""
    return struct.pack(">IIIiiIi", 28 + len(payload), prog, 1, proc, mtype, serial,
                       status) + payload


def read_raw_frame(s):
    """The next whole frame from socket s as bytes, or None at end of file
    (end of file inside a frame fails)."""
    def exact(n):
        buf = b""
        while len(buf) < n:
            chunk = s.recv(n - len(buf))
            if not chunk:
                assert not buf, "end of file inside a frame"
                return None
            buf += chunk
        return buf
    head = exact(4)
    if head is None:
        return None
    (n,) = struct.unpack(">I", head)
    body = exact(n - 4)
    assert body is not None, "end of file inside a frame"
    return head + body


def read_frame(s, eof_ok=False):
    """((prog, vers, proc, type, serial, status), payload) of the next frame;
    at end of file None with eof_ok, else a failure."""
    raw = read_raw_frame(s)
    if raw is None:
        assert eof_ok, "connection closed"
        return None
    return struct.unpack(">IIiiIi", raw[4:28]), raw[28:]


def xdr_string(text):
    """An XDR string."""
    b = text.encode()
    return struct.pack(">I", len(b)) + b + b"\0" * (-len(b) % 4)


# -- sparse files


def sparse_file(path, mib=1 << 20):
    """A 4 MiB file: 1 MiB of data, a 2 MiB hole, 1 MiB of data; ends the
    test (SystemExit) where the file system does not keep holes."""
    with open(path, "wb") as f:
        f.truncate(4 * mib)
        f.write(os.urandom(mib))
        f.seek(3 * mib)
        f.write(os.urandom(mib))
    layout = data_and_holes(path)
    if layout != [("data", 0, mib), ("hole", mib, 3 * mib), ("data", 3 * mib, 4 * mib)]:
        raise SystemExit("the file system of TMPDIR does not keep holes: %r" % layout)


def data_and_holes(path):
    """[(kind, start, end)] of a file, from SEEK_DATA / SEEK_HOLE."""
    out, size = [], os.path.getsize(path)
    with open(path, "rb") as f:
        fd, pos = f.fileno(), 0
        while pos < size:
            try:
                data = os.lseek(fd, pos, os.SEEK_DATA)
            except OSError:
                data = size
            if data > pos:
                out.append(("hole", pos, data))
            if data >= size:
                break
            hole = os.lseek(fd, data, os.SEEK_HOLE)
            out.append(("data", data, hole))
            pos = hole
    return out



def read_to_eof(fd):
    """Everything fd gives until end of file (bytes)."""
    data = b""
    while True:
        chunk = os.read(fd, 4096)
        if not chunk:
            return data
        data += chunk



class TmpDirTestCase(unittest.TestCase):
    """A test class whose tests share cls.tmp, a temporary directory made
    before the first and removed after the last."""

    @classmethod
    def setUpClass(cls):
        cls._tmp = tempfile.TemporaryDirectory()
        cls.tmp = cls._tmp.name

    @classmethod
    def tearDownClass(cls):
        cls._tmp.cleanup()


class LibvirtdTestCase(unittest.TestCase):
    """A test class whose tests share cls.daemon, a private libvirtd
    (Libvirtd()) started before the first and stopped after the last."""

    @classmethod
    def setUpClass(cls):
        cls.daemon = Libvirtd()

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop()


# -- running a test program's group


def run_group(tests, group, suite):
    """Runs tests[group] (a dict of functions) and prints
    'SUITE.GROUP: ok (SECONDS s)'."""
    start = time.time()
    tests[group]()
    print("%s.%s: ok (%.1f s)" % (suite, group, time.time() - start))
