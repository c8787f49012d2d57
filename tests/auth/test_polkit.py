# SPDX-License-Identifier: LGPL-2.1-or-later
"""Our client beside python3-libvirt against libvirtd 9.0.0 whose unix
sockets authenticate with polkit (auth_unix_rw = auth_unix_ro = "polkit"),
through a real polkitd on a system bus of the test's own.

usage: test_polkit.py GROUP PROBE

GROUP is one of:
  polkit   users polkit allows, refuses and cannot ask (no agent), on the
           read-write and the read-only socket;
  bypass   root passes without polkit, even once polkitd has gone, while a
           user then gets the daemon's D-Bus error;
  auth     the auth= parameter (polkit, sasl, an unknown name) on that daemon;
  sasl     a daemon whose socket offers SASL only, with no SASL method given
           (no polkit needed).

PROBE is tests/auth/auth_probe (our client), started through the valgrind
launcher.  python3-libvirt (/usr/bin/python3) runs the same open as the
same user: both must end the same way, with the same message.

What the test sets up, all of it private and gone when it ends:
  * a mount and PID namespace (unshare): the test's own /etc/passwd and
    /etc/group with three users added (vwpk-allow, vwpk-deny, vwpk-other,
    on uids nobody uses), and its own polkit configuration bind-mounted
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
groups), as polkit sees them through libvirtd's SO_PEERCRED.
"""
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import vwtest  # noqa: E402

GROUP, PROBE = sys.argv[1], os.path.abspath(sys.argv[2])
TIMEOUT = 60
POLKITD = "/usr/lib/polkit-1/polkitd"
INSIDE = "VIRTWIRE_POLKIT_NAMESPACE"

# The actions libvirt's daemon package installs (org.libvirt.unix.policy),
# with its defaults: anyone may monitor, managing asks an administrator.
ACTIONS = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE policyconfig PUBLIC
 "-//freedesktop//DTD PolicyKit Policy Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/PolicyKit/1.0/policyconfig.dtd">
<policyconfig>
  <action id="org.libvirt.unix.monitor">
    <description>Monitor local virtualized systems</description>
    <message>System policy prevents monitoring of local virtualized systems</message>
    <defaults>
      <allow_any>yes</allow_any>
      <allow_inactive>yes</allow_inactive>
      <allow_active>yes</allow_active>
    </defaults>
  </action>
  <action id="org.libvirt.unix.manage">
    <description>Manage local virtualized systems</description>
    <message>System policy prevents management of local virtualized systems</message>
    <defaults>
      <allow_any>auth_admin_keep</allow_any>
      <allow_inactive>auth_admin_keep</allow_inactive>
      <allow_active>auth_admin_keep</allow_active>
    </defaults>
  </action>
</policyconfig>
"""

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
    """The private users, bus, polkitd and libvirtd (inside the namespace)."""

    def __init__(self, auth="polkit", with_polkit=True):
        t0 = time.monotonic()
        self.dir = vwtest.short_tmpdir("vwpk.")
        os.chmod(self.dir, 0o755)
        self.users = {}
        self.procs = []
        if with_polkit:
            self._users()
            self._polkit_config()
            self.bus_env = self._bus()
            self.polkitd = self._polkitd()
        else:
            self.bus_env = {}
        env = dict(os.environ, VIRTWIRE_AUTH_UNIX_RW=auth, VIRTWIRE_AUTH_UNIX_RO=auth,
                   **self.bus_env)
        self.lvd = vwtest.Libvirtd(prefix="vwpkd.", env=env)
        os.chmod(self.lvd.dir, 0o755)
        self.uri = self.lvd.uri
        self.uri_ro = "test+unix:///default?socket=" + os.path.join(self.lvd.dir,
                                                                    "libvirt-sock-ro")
        self.setup_s = time.monotonic() - t0

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
        self.lvd.stop()
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
                p.wait(timeout=TIMEOUT)
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- the clients ---------------------------------------------------------

    def run_as(self, user, argv):
        """argv's first line of output, run with user's ids (None: root)."""
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
        assert r.returncode == 0, (argv, user, r.returncode, r.stdout, r.stderr)
        return r.stdout.strip()

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


def test_polkit(w):
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


def test_bypass(w):
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


def test_auth(w):
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


def test_sasl(w):
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


GROUPS = {"polkit": (test_polkit, "polkit", True), "bypass": (test_bypass, "polkit", True),
          "auth": (test_auth, "polkit", True), "sasl": (test_sasl, "sasl", False)}


def main():
    fn, auth, with_polkit = GROUPS[GROUP]
    for need in ([POLKITD, "/usr/bin/dbus-daemon"] if with_polkit else []) + ["/usr/sbin/libvirtd"]:
        if not os.path.exists(need):
            raise SystemExit("%s is missing (tests/install-deps installs it)" % need)
    if with_polkit and os.environ.get(INSIDE) != "1":
        return enter_namespace()
    w = World(auth=auth, with_polkit=with_polkit)
    print("%s: private %s set up in %.2f s" % (
        GROUP, "users, bus, polkitd and libvirtd" if with_polkit else "libvirtd", w.setup_s))
    try:
        fn(w)
    finally:
        w.close()
    print("polkit.%s: passed" % GROUP)
    return 0


if __name__ == "__main__":
    sys.exit(main())
