# SPDX-License-Identifier: LGPL-2.1-or-later
"""Authentication against real peers, in private namespaces as the users
polkit knows:

  * our client (tests/auth/auth_probe) beside python3-libvirt, as the same
    users, against libvirtd 9.0.0 whose unix sockets authenticate with
    polkit (auth_unix_rw = auth_unix_ro = "polkit") through a real polkitd
    on a system bus of the test's own;
  * virsh, python3-libvirt and our client against our server with
    libvirtwire_session (tests/auth/auth_server), and raw frames sent to
    both servers, whose answers must be the same bytes.

usage: test_auth.py GROUP PROBE SERVER

GROUP is one of:
  libvirtd_polkit  users polkit allows, refuses and cannot ask (no agent),
                   on libvirtd's read-write and read-only sockets;
  libvirtd_bypass  root passes without polkit, even once polkitd has gone,
                   while a user then gets the daemon's D-Bus error;
  libvirtd_auth    the auth= parameter (polkit, sasl, an unknown name);
  libvirtd_sasl    a daemon whose socket offers SASL only, with no SASL
                   method given (no polkit needed);
  server_polkit    virsh, python3-libvirt and ours against our server:
                   allowed, refused, root, the read-only listener's action;
  server_auth      auth= and SASL listeners of our server;
  server_gate      calls before authentication and the authentication
                   procedures themselves, as raw frames, to libvirtd and to
                   our server: the same replies, byte for byte;
  scripted         a daemon of the test's answers AUTH_LIST and AUTH_POLKIT
                   with good and bad replies: ours beside python3-libvirt
                   (no polkit, no namespace).

PROBE and SERVER start through the valgrind launcher.

What the test sets up, all of it private and gone when it ends:
  * a mount and PID namespace (unshare): the test's own /etc/passwd and
    /etc/group with three users added (vwpk-allow, vwpk-deny, vwpk-other,
    on ids nobody uses), and its own polkit configuration bind-mounted
    over /usr/share/polkit-1/actions (libvirt's two actions, with the
    defaults libvirt ships), /etc/polkit-1/rules.d (the test's rules) and
    /usr/share/polkit-1/rules.d (empty).  polkitd 122 reads its actions and
    rules from those fixed directories only, so a namespace is the one way
    to give it the test's without touching the machine's; the PID
    namespace ends every process the test started when the test ends,
    however it ends;
  * dbus-daemon with a configuration of type "system" on a socket in the
    test's directory, allowing everything; DBUS_SYSTEM_BUS_ADDRESS points
    polkitd and libvirtd at it;
  * polkitd (it drops to its own user, polkitd);
  * libvirtd through tests/libvirtd/private-libvirtd.
The clients run with the users' uids and gids (and no supplementary
groups), as polkit sees them through the server's SO_PEERCRED.
"""
import os
import shutil
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import vwtest  # noqa: E402

GROUP, PROBE, SERVER = sys.argv[1], os.path.abspath(sys.argv[2]), os.path.abspath(sys.argv[3])
TIMEOUT = 60
POLKITD = "/usr/lib/polkit-1/polkitd"
INSIDE = "VIRTWIRE_POLKIT_NAMESPACE"


def policy_action(name, what, default):
    """One <action> of a polkit policy: who may do what by default."""
    return ("""  <action id="org.libvirt.unix.%s">
    <description>%s local virtualized systems</description>
    <message>System policy prevents %s of local virtualized systems</message>
    <defaults>
""" % (name, name.capitalize(), what)
            + "".join("      <allow_%s>%s</allow_%s>\n" % (k, default, k)
                      for k in ("any", "inactive", "active"))
            + """    </defaults>
  </action>
""")


# The actions libvirt's daemon package installs (org.libvirt.unix.policy),
# with its defaults: anyone may monitor, managing asks an administrator.
ACTIONS = ("""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE policyconfig PUBLIC
 "-//freedesktop//DTD PolicyKit Policy Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/PolicyKit/1.0/policyconfig.dtd">
<policyconfig>
""" + policy_action("monitor", "monitoring", "yes")
           + policy_action("manage", "management", "auth_admin_keep") + "</policyconfig>\n")

# vwpk-allow may do anything; vwpk-deny may not manage (monitoring keeps
# its default, yes); vwpk-other has no rule (managing then needs an
# administrator's password, which nobody can give: no agent).
RULES = """polkit.addRule(function(action, subject) {
    if (action.id.indexOf("org.libvirt.unix.") != 0)
        return polkit.Result.NOT_HANDLED;
    if (subject.user == "vwpk-allow")
        return polkit.Result.YES;
    if (subject.user == "vwpk-deny" && action.id == "org.libvirt.unix.manage")
        return polkit.Result.NO;
    return polkit.Result.NOT_HANDLED;
});
"""

BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=%s</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
  </policy>
</busconfig>
"""

# python3-libvirt's open, printed as the probe prints ours.
PY_PROBE = r"""
import sys, libvirt
libvirt.registerErrorHandler(lambda ctx, err: None, None)
uri, ro = sys.argv[1], sys.argv[2] == "ro"
try:
    c = libvirt.openReadOnly(uri) if ro else libvirt.open(uri)
except libvirt.libvirtError as e:
    print("err %d %d %s" % (e.get_error_code(), e.get_error_domain(), e.get_error_message()))
    sys.exit(0)
print("ok " + c.getHostname())
c.close()
"""

# Sends frames (hex) one by one, printing each reply frame (hex).
RAW_CLIENT = r"""
import socket, struct, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(20)
s.connect(sys.argv[1])
def exact(n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise SystemExit("connection closed")
        b += c
    return b
for f in sys.argv[2:]:
    s.sendall(bytes.fromhex(f))
    head = exact(4)
    print((head + exact(struct.unpack(">I", head)[0] - 4)).hex())
"""

USERS = ("vwpk-allow", "vwpk-deny", "vwpk-other")


def enter_namespace():
    """Runs this test again inside new mount and PID namespaces (a shell
    as their init, which reaps the daemons that daemonize); returns its
    exit status."""
    if shutil.which("unshare") is None:
        raise SystemExit("unshare (util-linux) is missing")
    env = dict(os.environ, **{INSIDE: "1"})
    argv = ["unshare", "--mount", "--pid", "--fork", "--kill-child", "--mount-proc",
            "--propagation", "private", "sh", "-c", '"$@" & wait $!', "sh",
            sys.executable, os.path.abspath(__file__), *sys.argv[1:]]
    return subprocess.run(argv, env=env, timeout=300).returncode


def reachable_tmpdir():
    """Makes the temporary directories (vwtest.short_tmpdir) go where the
    test's users can reach their sockets: TMPDIR when every directory
    above it lets others through, /tmp otherwise."""
    path = tempfile.gettempdir()
    while path != "/":
        if not os.stat(path).st_mode & stat.S_IXOTH:
            tempfile.tempdir = "/tmp"
            return
        path = os.path.dirname(path)


def free_ids(count, start=64210):
    """count ids that are neither a uid nor a gid on this machine."""
    used = set()
    for path in ("/etc/passwd", "/etc/group"):
        with open(path) as f:
            for line in f:
                parts = line.split(":")
                if len(parts) > 2 and parts[2].isdigit():
                    used.add(int(parts[2]))
    ids, n = [], start
    while len(ids) < count:
        if n not in used:
            ids.append(n)
        n += 1
    return ids


def bind(src, dst):
    subprocess.run(["mount", "--bind", src, dst], check=True, timeout=TIMEOUT)


class World:
    """The private users, bus and polkitd (inside the namespace), libvirtd
    with auth (None: no libvirtd), our server (with server set)."""

    def __init__(self, auth="polkit", polkit=True, server=False):
        t0 = time.monotonic()
        self.dir = vwtest.short_tmpdir("vwpk.")
        os.chmod(self.dir, 0o755)
        self.users = {}
        self.procs = []
        self.lvd = self.srv = None
        self.bus_env = {}
        if polkit:
            self._users()
            self._polkit_config()
            self.bus_env = self._bus()
            self.polkitd = self._polkitd()
        if auth:
            env = dict(os.environ, VIRTWIRE_AUTH_UNIX_RW=auth, VIRTWIRE_AUTH_UNIX_RO=auth,
                       **self.bus_env)
            self.lvd = vwtest.Libvirtd(prefix="vwpkd.", env=env)
            os.chmod(self.lvd.dir, 0o755)
            self.uri = self.lvd.uri
            self.sock_ro = os.path.join(self.lvd.dir, "libvirt-sock-ro")
            self.uri_ro = "test+unix:///default?socket=" + self.sock_ro
        if server:
            self._server()
        self.setup_s = time.monotonic() - t0

    def _server(self):
        """Our server, vwpk-allow the one user allowed to manage."""
        self.srv_dir = os.path.join(self.dir, "srv")
        os.mkdir(self.srv_dir)
        os.chmod(self.srv_dir, 0o755)
        self.srv_log = open(os.path.join(self.dir, "server.log"), "w+")
        self.srv = subprocess.Popen([vwtest.LAUNCH, SERVER, self.srv_dir,
                                     str(self.users["vwpk-allow"][0])],
                                    stdout=subprocess.PIPE, stderr=self.srv_log, text=True)
        self.srv_out = vwtest.LineReader(self.srv.stdout, strip=True)
        assert self.srv_out.line(timeout=TIMEOUT) == "ready", "the server did not start"

    def srv_uri(self, listener):
        return "test+unix:///default?socket=" + os.path.join(self.srv_dir, listener)

    def questions(self):
        """The polkit questions our server printed since the last call."""
        out = []
        while True:
            line = self.srv_out.line(timeout=0.3)
            if line is None:
                return out
            out.append(line)

    def _users(self):
        ids = free_ids(len(USERS))
        with open("/etc/passwd") as f:
            passwd = f.read()
        with open("/etc/group") as f:
            group = f.read()
        for name, uid in zip(USERS, ids):
            home = os.path.join(self.dir, name)
            os.mkdir(home)
            os.chown(home, uid, uid)
            passwd += "%s:x:%d:%d::%s:/usr/sbin/nologin\n" % (name, uid, uid, home)
            group += "%s:x:%d:\n" % (name, uid)
            self.users[name] = (uid, home)
        for name, text in (("passwd", passwd), ("group", group)):
            path = os.path.join(self.dir, name)
            with open(path, "w") as f:
                f.write(text)
            os.chmod(path, 0o644)
            bind(path, "/etc/" + name)

    def _polkit_config(self):
        for sub, files in (("actions", {"org.libvirt.unix.policy": ACTIONS}),
                           ("rules", {"10-virtwire-test.rules": RULES}), ("empty", {})):
            d = os.path.join(self.dir, sub)
            os.mkdir(d)
            os.chmod(d, 0o755)
            for name, text in files.items():
                with open(os.path.join(d, name), "w") as f:
                    f.write(text)
                os.chmod(os.path.join(d, name), 0o644)
        for sub, dst in (("actions", "/usr/share/polkit-1/actions"),
                         ("rules", "/etc/polkit-1/rules.d"),
                         ("empty", "/usr/share/polkit-1/rules.d")):
            os.makedirs(dst, exist_ok=True)
            bind(os.path.join(self.dir, sub), dst)

    def _bus(self):
        sock = os.path.join(self.dir, "bus")
        conf = os.path.join(self.dir, "bus.conf")
        with open(conf, "w") as f:
            f.write(BUS_CONFIG % sock)
        p = subprocess.Popen(["dbus-daemon", "--config-file=" + conf, "--nofork", "--nopidfile",
                              "--print-address"], stdout=subprocess.PIPE, text=True,
                             stderr=open(os.path.join(self.dir, "dbus.log"), "w"))
        self.procs.append(p)
        line = vwtest.LineReader(p.stdout).line(timeout=TIMEOUT)
        assert line and line.startswith("unix:"), ("dbus-daemon did not start", line)
        return {"DBUS_SYSTEM_BUS_ADDRESS": "unix:path=" + sock}

    def _polkitd(self):
        log = open(os.path.join(self.dir, "polkitd.log"), "w+")
        p = subprocess.Popen([POLKITD], env=dict(os.environ, **self.bus_env),
                             stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(p)
        # It says so once it owns its name on the bus.
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            log.seek(0)
            text = log.read()
            if "Acquired the name org.freedesktop.PolicyKit1" in text:
                assert "Finished loading, compiling and executing 1 rules" in text, text
                return p
            assert p.poll() is None, ("polkitd exited", text)
            time.sleep(0.02)
        raise AssertionError("polkitd did not come up: " + text)

    def stop_polkitd(self):
        self.polkitd.terminate()
        self.polkitd.wait(timeout=TIMEOUT)

    def close(self):
        if self.srv:
            self.srv.terminate()
            rc = self.srv.wait(timeout=TIMEOUT)
            self.srv_log.seek(0)
            log = self.srv_log.read()
            assert rc == 0 and "AddressSanitizer" not in log and "runtime error" not in log, \
                (rc, log)
        if self.lvd:
            self.lvd.stop()
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
                p.wait(timeout=TIMEOUT)
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- the clients ---------------------------------------------------------

    def run_as(self, user, argv, ok=True):
        """argv's output (stripped), run with user's ids (None: root); with
        ok, it must succeed, else (status, stdout, stderr)."""
        kw = {}
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C"}
        for k in ("VIRTWIRE_VALGRIND", "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if k in os.environ:
                env[k] = os.environ[k]
        if user:
            uid, home = self.users[user]
            kw = dict(user=uid, group=uid, extra_groups=[])
            env.update(HOME=home, TMPDIR=home)
        else:
            env.update(HOME=self.dir, TMPDIR=self.dir)
        r = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT, env=env,
                           cwd="/", **kw)
        if not ok:
            return r.returncode, r.stdout, r.stderr
        assert r.returncode == 0, (argv, user, r.returncode, r.stdout, r.stderr)
        return r.stdout.strip()

    def virsh(self, user, uri, *args):
        """virsh -c URI ARGS as user: (status, stdout, stderr)."""
        return self.run_as(user, ["virsh", "-q", "-c", uri, *args], ok=False)

    def raw(self, user, sock, frames):
        """Each frame sent in turn on one connection to sock, as user, and
        the reply frame read after each (hex strings in, raw bytes out)."""
        out = self.run_as(user, ["/usr/bin/python3", "-c", RAW_CLIENT, sock,
                                 *[f.hex() for f in frames]])
        return [bytes.fromhex(x) for x in out.split()]

    def ours(self, user, uri, ro=False):
        return self.run_as(user, [vwtest.LAUNCH, PROBE] + (["-r"] if ro else []) + [uri])

    def python(self, user, uri, ro=False):
        return self.run_as(user, ["/usr/bin/python3", "-c", PY_PROBE, uri,
                                  "ro" if ro else "rw"])

    def both(self, user, uri, ro=False):
        """(ours, python's) for one user and URI, checked to agree: both
        opened, or both failed with the same message."""
        a, b = self.ours(user, uri, ro), self.python(user, uri, ro)
        print("  %-10s %-3s ours: %s\n  %-10s %-3s python: %s" % (
            user or "root", "ro" if ro else "rw", a, "", "", b))
        if b.startswith("ok "):
            assert a == b, (user, uri, a, b)
        else:
            assert a.startswith("err "), (user, uri, a, b)
            ours_msg = a.split(" ", 2)[2]
            py_msg = b.split(" ", 3)[3]
            assert ours_msg == py_msg, (user, uri, ours_msg, py_msg)
        return a, b


def expect_err(result, code, message):
    ours, py = result
    assert ours == "err %s %s" % (code, message), (ours, code, message)
    assert py.split(" ", 3)[3] == message, (py, message)


# --------------------------------------------------------------------------


def test_libvirtd_polkit(w):
    host = w.python(None, w.uri)
    assert host.startswith("ok "), host
    # Allowed: both sockets.
    assert w.both("vwpk-allow", w.uri)[0] == host
    assert w.both("vwpk-allow", w.uri_ro, ro=True)[0] == host
    # Refused by a rule: libvirtd's VIR_ERR_AUTH_FAILED from polkit.
    expect_err(w.both("vwpk-deny", w.uri), "VIRTWIRE_EAUTH",
               "authentication failed: access denied by policy")
    # The read-only socket asks for org.libvirt.unix.monitor, which the
    # rules leave to its default (yes).
    assert w.both("vwpk-deny", w.uri_ro, ro=True)[0] == host
    # No rule: managing needs an administrator, and nobody can be asked.
    expect_err(w.both("vwpk-other", w.uri), "VIRTWIRE_EAUTH",
               "authentication unavailable: no polkit agent available to authenticate "
               "action 'org.libvirt.unix.manage'")
    assert w.both("vwpk-other", w.uri_ro, ro=True)[0] == host
    # A refused user cannot sneak in through the read-write socket with a
    # read-only open: the socket decides the action, not the flag.
    expect_err(w.both("vwpk-deny", w.uri, ro=True), "VIRTWIRE_EAUTH",
               "authentication failed: access denied by policy")


def test_libvirtd_bypass(w):
    host = w.python(None, w.uri)
    assert w.both(None, w.uri)[0] == host
    assert w.both(None, w.uri_ro, ro=True)[0] == host
    w.stop_polkitd()
    # libvirtd lets root through before it would ask polkit ...
    assert w.both(None, w.uri)[0] == host
    # ... while a user now gets the daemon's error from the bus.
    ours, py = w.both("vwpk-allow", w.uri)
    assert ours.startswith("err VIRTWIRE_EAUTH "), ours
    assert "org.freedesktop.PolicyKit1" in ours, ours


def test_libvirtd_auth(w):
    host = w.python(None, w.uri)
    # polkit offered and asked for (any case, as libvirt compares).
    assert w.both("vwpk-allow", w.uri + "&auth=polkit")[0] == host
    assert w.both("vwpk-allow", w.uri + "&auth=PolKit")[0] == host
    expect_err(w.both("vwpk-deny", w.uri + "&auth=polkit"), "VIRTWIRE_EAUTH",
               "authentication failed: access denied by policy")
    # SASL asked of a daemon that offers polkit only.
    for want in ("sasl", "sasl.digest-md5", "SASL"):
        expect_err(w.both("vwpk-allow", w.uri + "&auth=" + want), "VIRTWIRE_EAUTH",
                   "authentication failed: requested authentication type %s rejected" % want)
    # A name libvirt does not know.
    expect_err(w.both("vwpk-allow", w.uri + "&auth=kerberos"), "VIRTWIRE_EAUTH",
               "authentication failed: unknown authentication type kerberos")
    # Root is let through at AUTH_LIST, which then offers "none" only: asking
    # for polkit is refused, as libvirt's client refuses it.
    expect_err(w.both(None, w.uri + "&auth=polkit"), "VIRTWIRE_EAUTH",
               "authentication failed: requested authentication type polkit rejected")


def test_libvirtd_sasl(w):
    # libvirt's client always has SASL, so python3-libvirt tries it (and
    # fails on its own terms); ours has no SASL method unless the caller
    # gives one, and says so as a libvirt built without SASL does.
    ours = w.ours(None, w.uri)
    py = w.python(None, w.uri)
    print("  root rw ours: %s\n  root rw python: %s" % (ours, py))
    assert ours == "err VIRTWIRE_EAUTH authentication failed: unsupported authentication type 1", \
        ours
    assert py.startswith("err "), py
    # auth=polkit of a SASL daemon: rejected before anything else, by both.
    expect_err(w.both(None, w.uri + "&auth=polkit"), "VIRTWIRE_EAUTH",
               "authentication failed: requested authentication type polkit rejected")


HOST = "ok virtwire-auth-test"


def asked(w, *want):
    """Our server's polkit questions since the last look are want's
    (user, action, allow) in order."""
    got = w.questions()
    lines = ["polkit uid=%d action=org.libvirt.unix.%s allow=%d" % (
        w.users[user][0], action, allow) for user, action, allow in want]
    assert got == lines, (got, lines)


def virsh_fails(w, user, uri, message, *args):
    rc, out, err = w.virsh(user, uri, *(args or ("hostname",)))
    print("  %-10s virsh: %s" % (user or "root", err.strip().replace("\n", " | ")))
    assert rc == 1 and "error: failed to connect to the hypervisor" in err, (rc, out, err)
    assert "error: " + message in err, (err, message)


def virsh_ok(w, user, uri, *args):
    rc, out, err = w.virsh(user, uri, *(args or ("hostname",)))
    assert rc == 0 and out.strip() == "virtwire-auth-test", (rc, out, err)


def test_server_polkit(w):
    rw, ro = w.srv_uri("polkit"), w.srv_uri("polkit-ro")
    # Allowed to manage: ours, python3-libvirt, virsh; one question each.
    assert w.both("vwpk-allow", rw)[0] == HOST
    virsh_ok(w, "vwpk-allow", rw)
    asked(w, *[("vwpk-allow", "manage", 1)] * 3)
    # Refused: libvirtd's error.  virsh asks again while the refusal comes
    # from polkit (VIR_FROM_POLKIT), five times in all, as it does with
    # libvirtd.
    for user in ("vwpk-deny", "vwpk-other"):
        expect_err(w.both(user, rw), "VIRTWIRE_EAUTH",
                   "authentication failed: access denied by policy")
        virsh_fails(w, user, rw, "authentication failed: access denied by policy")
        asked(w, *[(user, "manage", 0)] * 7)
    # The read-only listener asks about monitoring, which anyone may do.
    assert w.both("vwpk-deny", ro, ro=True)[0] == HOST
    virsh_ok(w, "vwpk-deny", ro, "-r", "hostname")
    asked(w, *[("vwpk-deny", "monitor", 1)] * 3)
    # Root: let through at AUTH_LIST, polkit is never asked.
    assert w.both(None, rw)[0] == HOST
    assert w.both(None, ro, ro=True)[0] == HOST
    virsh_ok(w, None, rw)
    asked(w)


def test_server_auth(w):
    rw = w.srv_uri("polkit")
    assert w.both("vwpk-allow", rw + "&auth=polkit")[0] == HOST
    asked(w, *[("vwpk-allow", "manage", 1)] * 2)
    expect_err(w.both("vwpk-allow", rw + "&auth=sasl"), "VIRTWIRE_EAUTH",
               "authentication failed: requested authentication type sasl rejected")
    virsh_fails(w, "vwpk-allow", rw + "&auth=sasl",
                "authentication failed: requested authentication type sasl rejected")
    expect_err(w.both("vwpk-allow", rw + "&auth=kerberos"), "VIRTWIRE_EAUTH",
               "authentication failed: unknown authentication type kerberos")
    asked(w)
    # A listener without authentication offers none: polkit asked for is
    # refused, nothing asked is fine.
    assert w.both("vwpk-deny", w.srv_uri("none"))[0] == HOST
    expect_err(w.both("vwpk-deny", w.srv_uri("none") + "&auth=polkit"), "VIRTWIRE_EAUTH",
               "authentication failed: requested authentication type polkit rejected")
    # SASL only.  Ours has no SASL method unless given one; libvirt's
    # client has, and our server refuses its AUTH_SASL_INIT with
    # libvirtd's words (no SASL library installed there).
    for uri in (w.srv_uri("sasl"), w.srv_uri("polkit-sasl") + "&auth=sasl"):
        ours, py = w.ours("vwpk-allow", uri), w.python("vwpk-allow", uri)
        print("  vwpk-allow ours: %s\n             python: %s" % (ours, py))
        assert ours == "err VIRTWIRE_EAUTH authentication failed: unsupported authentication " \
                       "type 1", ours
        assert py == "err 45 7 authentication failed: authentication failed", py
        virsh_fails(w, "vwpk-allow", uri, "authentication failed: authentication failed")
    # Polkit, then SASL: the first is what a client without auth= runs.
    assert w.both("vwpk-allow", w.srv_uri("polkit-sasl"))[0] == HOST
    asked(w, *[("vwpk-allow", "manage", 1)] * 2)


# Frames for the gate: the remote program's procedures by number.
def call(proc, serial, payload=b""):
    return vwtest.frame(proc, serial, payload)


OPEN_ARGS = struct.pack(">I", 1) + vwtest.xdr_string("test:///default") + struct.pack(">I", 0)
AUTH_LIST, AUTH_POLKIT = call(66, 1), call(70, 2)
OPEN = call(1, 3, OPEN_ARGS)
SASL_INIT = call(67, 4)
SASL_START = call(68, 5, vwtest.xdr_string("PLAIN") + struct.pack(">II", 0, 0))
SASL_STEP = call(69, 6, struct.pack(">II", 0, 0))
HOSTNAME = call(59, 7)
FEATURE = call(60, 8, struct.pack(">i", 10))
OPEN_GARBAGE = call(1, 9, b"\xff\xff\xff\xff")
PING = vwtest.frame(1, 0, prog=vwtest.KEEPALIVE_PROGRAM, mtype=vwtest.MESSAGE)
UNKNOWN = call(9999, 10)


def remote_error(reply):
    """(code, domain, message, level, str1, str2, str3, int1, int2) of an
    error reply."""
    body, pos, out = reply[28:], 0, []

    def word():
        nonlocal pos
        (v,) = struct.unpack(">i", body[pos:pos + 4])
        pos += 4
        return v

    def opt_string():
        nonlocal pos
        if not word():
            return None
        n = word()
        text = body[pos:pos + n].decode()
        pos += n + (-n % 4)
        return text
    out += [word(), word(), opt_string(), word()]
    assert word() == 0  # dom
    out += [opt_string(), opt_string(), opt_string(), word(), word()]
    return tuple(out)


def test_server_gate(w):
    lvd_none = vwtest.Libvirtd(prefix="vwpkn.")
    try:
        sockets = {"rw": (w.lvd.sock, os.path.join(w.srv_dir, "polkit")),
                   "ro": (w.sock_ro, os.path.join(w.srv_dir, "polkit-ro")),
                   "none": (lvd_none.sock, os.path.join(w.srv_dir, "none"))}
        # AUTH_POLKIT where polkit is not (or no longer) the client's
        # method: libvirtd's handler fails without an error of its own, and
        # its RPC layer then sends whatever error its worker thread last
        # saw, or "Library function returned error but did not set
        # virError" when there was none (what ours always sends).  Only
        # the header of those replies is compared.
        stale = "stale"
        cases = [
            # Calls before authentication: refused, the keepalive answered,
            # and the authentication procedures are not refused by the gate.
            (None, "rw", [OPEN, HOSTNAME, FEATURE, OPEN_GARBAGE, PING]),
            ("vwpk-deny", "rw", [AUTH_LIST, AUTH_POLKIT, OPEN, AUTH_LIST, HOSTNAME]),
            # (vwpk-other is left out: polkit cannot ask an administrator
            # for it, which the server's policy, a yes or a no, does not
            # model; it answers no.)
            ("vwpk-allow", "rw", [HOSTNAME, AUTH_LIST, AUTH_POLKIT, (AUTH_POLKIT, stale), AUTH_LIST,
                                  FEATURE, OPEN]),
            ("vwpk-allow", "ro", [AUTH_LIST, AUTH_POLKIT, OPEN]),
            ("vwpk-deny", "ro", [AUTH_LIST, AUTH_POLKIT, OPEN]),
            # Root: polkit says yes to root without AUTH_LIST's bypass; after
            # the bypass, AUTH_POLKIT is no longer the client's method.
            (None, "rw", [AUTH_POLKIT, OPEN]),
            (None, "rw", [AUTH_LIST, (AUTH_POLKIT, stale), AUTH_LIST, OPEN]),
            # SASL's procedures where SASL is not the method.
            ("vwpk-allow", "rw", [SASL_INIT, SASL_START, SASL_STEP, OPEN]),
            # AUTH_POLKIT where no authentication is needed.
            (None, "none", [AUTH_LIST, (AUTH_POLKIT, stale), OPEN]),
        ]
        generic = (1, 7, "Library function returned error but did not set virError", 2, None,
                   None, None, 0, 0)
        for user, kind, frames in cases:
            loose = [isinstance(f, tuple) for f in frames]
            frames = [f[0] if isinstance(f, tuple) else f for f in frames]
            theirs = w.raw(user, sockets[kind][0], frames)
            ours = w.raw(user, sockets[kind][1], frames)
            assert len(theirs) == len(ours) == len(frames)
            for i, (t, o) in enumerate(zip(theirs, ours)):
                if loose[i]:
                    assert t[4:28] == o[4:28], (user, kind, i, t, o)
                    assert remote_error(o) == generic, remote_error(o)
                else:
                    assert t == o, (user, kind, i, t, o)
        asked(w, ("vwpk-deny", "manage", 0), ("vwpk-allow", "manage", 1), ("vwpk-allow", "monitor", 1),
              ("vwpk-deny", "monitor", 1))
        # What the gate says, decoded (the same bytes came from libvirtd).
        reply = w.raw(None, sockets["rw"][1], [HOSTNAME])[0]
        assert remote_error(reply) == (39, 7, "authentication required", 2, "%s",
                                       "authentication required", None, -1, -1), \
            remote_error(reply)
        reply = w.raw("vwpk-deny", sockets["rw"][1], [AUTH_LIST, AUTH_POLKIT])[1]
        assert remote_error(reply) == (45, 60, "authentication failed: access denied by policy",
                                       2, "authentication failed: %s",
                                       "access denied by policy", None, -1, -1), \
            remote_error(reply)
        w.questions()
        # A procedure nobody serves: libvirtd's code, domain and words
        # before authentication as after (the server's general error
        # layout, without str1 and str2).
        t = remote_error(w.raw(None, sockets["rw"][0], [UNKNOWN])[0])
        o = remote_error(w.raw(None, sockets["rw"][1], [UNKNOWN])[0])
        assert t[:4] == o[:4] == (39, 7, "unknown procedure: 9999", 2), (t, o)
    finally:
        lvd_none.stop()


# -- scripted daemons: python3-libvirt's reading of bad replies beside ours


def scripted_daemon(path, auth_list, polkit):
    """A thread serving one connection on path: AUTH_LIST and AUTH_POLKIT
    answered with the payloads given, the rest of the handshake properly."""
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(path)
    srv.listen(1)
    srv.settimeout(TIMEOUT)

    def run():
        c, _ = srv.accept()
        c.settimeout(TIMEOUT)
        with c:
            while True:
                f = vwtest.read_frame(c, eof_ok=True)
                if f is None:
                    break
                (prog, vers, proc, _typ, serial, _st), _body = f
                if prog != vwtest.REMOTE_PROGRAM:
                    continue
                payload = {66: auth_list, 70: polkit, 60: struct.pack(">i", 0),
                           59: vwtest.xdr_string("scripted")}.get(proc, b"")
                c.sendall(vwtest.frame(proc, serial, payload, mtype=vwtest.REPLY))
        srv.close()
    t = threading.Thread(target=run)
    t.start()
    return t


def types(*values):
    return struct.pack(">I", len(values)) + b"".join(struct.pack(">i", v) for v in values)


def test_scripted(w):
    decode = "Unable to decode message payload"
    ok = "ok scripted"
    unsupported = "authentication failed: unsupported authentication type %d"
    cases = [
        # AUTH_LIST's reply, AUTH_POLKIT's, auth=, ours, python3-libvirt's
        (types(2), types(1)[4:], "", ok, ok),
        (types(*[2] * 20), types(1)[4:], "", ok, ok),
        (types(99), b"", "", "err VIRTWIRE_EAUTH " + unsupported % 99, unsupported % 99),
        (types(-1), b"", "", "err VIRTWIRE_EAUTH " + unsupported % -1, unsupported % -1),
        (types(99, 2), b"", "", "err VIRTWIRE_EAUTH " + unsupported % 99, unsupported % 99),
        (types(2, 99), types(1)[4:], "", ok, ok),
        (types(99, 2), types(1)[4:], "&auth=polkit", ok, ok),
        (types(), b"", "&auth=polkit", ok, ok),
        (types(2), types(7)[4:], "", ok, ok),
        # Replies that do not decode: libvirt's one message, ours says which.
        (types(*[2] * 21), b"", "", "err VIRTWIRE_ETOOLONG the daemon's reply to AUTH_LIST does "
         "not decode: length exceeds the protocol bound", decode),
        (struct.pack(">Ii", 3, 2), b"", "", "err VIRTWIRE_ETRUNCATED the daemon's reply to "
         "AUTH_LIST does not decode: input truncated", decode),
        (types(2), b"", "", "err VIRTWIRE_ETRUNCATED the daemon's reply to AUTH_POLKIT does not "
         "decode: input truncated", decode),
        # Where ours is stricter: bytes after the value, and complete = 0,
        # which libvirt's client does not look at.
        (types(2) + b"\0\0\0\7", types(1)[4:], "", "err VIRTWIRE_ETRAILING the daemon's reply to "
         "AUTH_LIST does not decode: trailing bytes after value", "ok scripted"),
        (types(2), types(0)[4:], "", "err VIRTWIRE_EAUTH authentication failed: polkit "
         "authentication did not complete", "ok scripted"),
    ]
    for auth_list, polkit, extra, want_ours, want_py in cases:
        got = []
        for who in ("ours", "python"):
            path = os.path.join(w.dir, "scripted")
            t = scripted_daemon(path, auth_list, polkit)
            uri = "test+unix:///default?socket=" + path + extra
            out = w.ours(None, uri) if who == "ours" else w.python(None, uri)
            t.join(TIMEOUT)
            os.unlink(path)
            got.append(out if who == "ours" or out.startswith("ok ") else out.split(" ", 3)[3])
        print("  %s%s\n    ours: %s\n    python: %s" % (auth_list.hex(), extra, got[0], got[1]))
        assert got == [want_ours, want_py], (auth_list.hex(), polkit.hex(), extra, got)


# name: (function, libvirtd's auth_unix_*, polkitd and users, our server)
GROUPS = {
    "libvirtd_polkit": (test_libvirtd_polkit, "polkit", True, False),
    "libvirtd_bypass": (test_libvirtd_bypass, "polkit", True, False),
    "libvirtd_auth": (test_libvirtd_auth, "polkit", True, False),
    "libvirtd_sasl": (test_libvirtd_sasl, "sasl", False, False),
    "server_polkit": (test_server_polkit, None, True, True),
    "server_auth": (test_server_auth, None, True, True),
    "server_gate": (test_server_gate, "polkit", True, True),
    "scripted": (test_scripted, None, False, False),
}


def main():
    fn, auth, polkit, server = GROUPS[GROUP]
    for need in ([POLKITD, "/usr/bin/dbus-daemon"] if polkit else []) + \
            (["/usr/sbin/libvirtd"] if auth else []):
        if not os.path.exists(need):
            raise SystemExit("%s is missing (tests/install-deps installs it)" % need)
    if polkit and os.environ.get(INSIDE) != "1":
        return enter_namespace()
    reachable_tmpdir()
    w = World(auth=auth, polkit=polkit, server=server)
    print("%s: set up in %.2f s (%s)" % (GROUP, w.setup_s, ", ".join(
        x for x, on in (("users, bus and polkitd", polkit), ("libvirtd", auth),
                        ("our server", server)) if on)))
    try:
        fn(w)
    finally:
        w.close()
    print("auth.%s: passed" % GROUP)
    return 0


if __name__ == "__main__":
    sys.exit(main())
