# SPDX-License-Identifier: LGPL-2.1-or-later
"""virtwire starts the ssh and ext commands of a URI as libvirt does.

A probe (ssh_probe) stands for ssh (named by ?command=, or found as "ssh"
in PATH) and for ext commands: it records how it was started (argv, the
environment in order, open fds, blocked and ignored signals,
capabilities), writes a line on its standard error and exits with status
7.  For every URI below, python3-libvirt opens a connection (the probe
records libvirt's child), then connect_tool opens one with virtwire (the
probe records ours).  Both records must be the same, and both errors must
carry the probe's line.

libvirt here is Debian's 9.0.0; virtwire follows 11.3.0, whose sources
differ in two ways, allowed for below and nowhere else:
  - virt-ssh-helper gets the URI with its mode and socket parameters kept
    (remoteConnectFormatURI(..., true)): uri_tool prints both names;
  - ssh also gets SSH_ASKPASS_REQUIRE, and GPG_TTY and TERM unless no_tty,
    last (virNetSocketNewConnectSSH()); Debian's 9.0.0 passes GPG_TTY and
    TERM always, after SSH_ASKPASS.

Batches: read-write and read-only; as root, a second pair runs both clients
as an unprivileged user (session daemons: proxy=native by default).  The
clients run with SIGPIPE ignored and SIGUSR1 blocked, and with variables
that must not reach the child.

Usage: python3 test_ssh_libvirt.py SSH_PROBE CONNECT_TOOL URI_TOOL
(connect_tool runs as it is, never under valgrind, whose own variables
would reach the child: the client.ssh tests run the same code under it)
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile

NOBODY = 65534
TIMEOUT = 60
PROBE_LINE = "vw-probe: recorded, now failing like ssh"

# {P}: the probe given with ?command=.  fake-ext and ssh are the probe
# found in PATH.
URIS = [
    "test+ssh://127.0.0.1/default?command={P}",
    "qemu+ssh://user@host.example:2222/system?keyfile=/k%20x&no_tty=1&no_verify=1&command={P}",
    "qemu+ssh://u%40x@h/system?no_verify=0&no_tty=0&command={P}",
    "qemu+ssh://h/system?socket=/var/run/x%20y/sock&command={P}",
    "qemu+ssh://h/system?netcat=/opt/my%20nc/nc%27x&command={P}",
    "qemu+ssh://h/system?proxy=netcat&command={P}",
    "qemu+ssh://h/system?proxy=native&mode=legacy&command={P}",
    "qemu+ssh://h/system?proxy=auto&Socket=/s&netcat=nc&command={P}",
    "qemu+ssh://h/system?proxy=auto&socket=/s%27q&mode=auto&command={P}",
    "qemu+ssh://h/session?command={P}",
    "qemu+ssh://[::1]:2022/system?command={P}",
    "test+ssh://h/default?foo=a%20b&bar=%24x%60&command={P}",
    "test+ssh://h/default?name=test:///x%3Fy&socket=/s&command={P}",
    "remote+ssh://h/?command={P}",
    "lxc+ssh://h/system?no_tty=1&command={P}",
    "network+ssh://h/system?mode=legacy&no_tty=1&command={P}",
    "test+ssh://h/default",
    "test+ext:///default?command={P}",
    "test+ext:///default?command=fake-ext",
]

# What the clients have in their environment: every variable libvirt
# passes, and some it does not.
PASSED = {
    "LD_LIBRARY_PATH": "/nonexistent-vw-lib", "DYLD_INSERT_LIBRARIES": "/x.dylib",
    "DYLD_FORCE_FLAT_NAMESPACE": "1", "USER": "vw-user", "LOGNAME": "vw-logname",
    "KRB5CCNAME": "FILE:/nonexistent/krb5cc", "SSH_AUTH_SOCK": "/nonexistent/agent",
    "SSH_ASKPASS": "/bin/false", "SSH_ASKPASS_REQUIRE": "never",
    "OPENSSL_CONF": "/nonexistent/openssl.cnf", "DISPLAY": ":4242",
    "XAUTHORITY": "/nonexistent/Xauthority", "GPG_TTY": "/dev/null", "TERM": "dumb",
}
NOT_PASSED = {"LC_ALL": "POSIX", "LANG": "C.UTF-8", "VW_SECRET": "must-not-pass",
              "SSH_CONNECTION": "1 2 3 4"}

CHILD = r"""
import os, signal, sys, libvirt
libvirt.registerErrorHandler(lambda *args: None, None)
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR1])
opener = libvirt.openReadOnly if sys.argv[1] == "ro" else libvirt.open
tag = sys.argv[2]
for i, uri in enumerate(sys.argv[3:]):
    with open("probe/current", "w") as f:
        f.write("%s-%d" % (tag, i))
    try:
        opener(uri).close()
        msg = "@@OPENED"
    except libvirt.libvirtError as e:
        msg = str(e).replace("\n", " ")
    sys.stdout.write(msg + "\n")
sys.stdout.flush()
"""


def shell_escape(s):
    """libvirt's virBufferEscapeShell()."""
    if not s:
        return "''"
    if not any(c in "\r\t\n !\"#$&'()*;<>?[\\]^`{|}~" for c in s):
        return s
    return "'" + s.replace("'", "'\\''") + "'"


def read_record(path):
    if not os.path.exists(path):
        return None
    rec = {"argv": [], "env": []}
    with open(path) as f:
        for line in f:
            key, _, value = line.rstrip("\n").partition("\t")
            if key in ("argv", "env"):
                rec[key].append(bytes.fromhex(value).decode())
            else:
                rec[key] = value
    return rec


def as_user(uid):
    def setup():
        if uid is not None:
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(uid)
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)
        signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR1])
    return setup


def libvirt_errors(uris, readonly, tag, env, cwd, uid):
    current = os.path.join(cwd, "probe", "current")
    if os.path.exists(current):
        os.remove(current)  # the child may run as another user
    proc = subprocess.run([sys.executable, "-c", CHILD, "ro" if readonly else "rw", tag] + uris,
                          env=env, cwd=cwd, preexec_fn=as_user(uid), capture_output=True,
                          text=True, timeout=TIMEOUT)
    lines = proc.stdout.splitlines()
    if proc.returncode != 0 or len(lines) != len(uris):
        sys.exit("libvirt child failed (%d):\n%s\n%s" % (proc.returncode, proc.stdout,
                                                          proc.stderr[-3000:]))
    return lines


def virtwire_errors(tool, uris, readonly, tag, env, cwd, uid):
    out = []
    for i, uri in enumerate(uris):
        with open(os.path.join(cwd, "probe", "current"), "w") as f:
            f.write("%s-%d" % (tag, i))
        os.chmod(os.path.join(cwd, "probe", "current"), 0o644)
        r = subprocess.run([tool] + (["--readonly"] if readonly else []) + [uri], env=env,
                           cwd=cwd, preexec_fn=as_user(uid), capture_output=True, text=True,
                           timeout=TIMEOUT)
        fields = dict(line.split(" ", 1) for line in r.stdout.splitlines() if " " in line)
        out.append((fields.get("rc", "?"), fields.get("err", r.stderr)))
    return out


def names(uri_tool, uris, env, euid, readonly):
    args = [uri_tool, "--euid", str(euid)] + (["--readonly"] if readonly else []) + uris
    out = subprocess.run(args, env=env, stdout=subprocess.PIPE, check=True,
                         timeout=TIMEOUT).stdout.decode()
    return [json.loads(line) for line in out.splitlines()]


def compare(uri, ssh, no_tty, view, theirs, ours, lv_err, vw):
    """The differences between libvirt's record and ours, as messages."""
    problems = []
    if theirs is None or ours is None:
        if (theirs is None) != (ours is None):
            problems.append("libvirt %s the command, virtwire %s it (libvirt: %r; virtwire: %r)"
                            % ("ran" if theirs else "did not run",
                               "ran" if ours else "did not run", lv_err, vw))
        return problems
    want_argv = list(theirs["argv"])
    if ssh and view["name"] != view["helper"] and "virt-ssh-helper" in want_argv[-1]:
        old = shell_escape(shell_escape(view["name"]))
        new = shell_escape(shell_escape(view["helper"]))
        assert old in want_argv[-1], (old, want_argv[-1])
        want_argv[-1] = want_argv[-1].replace(old, new, 1)
    if ours["argv"] != want_argv:
        problems.append("argv:\n  virtwire %r\n  libvirt  %r%s" % (
            ours["argv"], theirs["argv"],
            "\n  (expected %r)" % want_argv if want_argv != theirs["argv"] else ""))
    # GPG_TTY and TERM: Debian's 9.0.0 passes both always (after
    # SSH_ASKPASS), 11.3.0 unless no_tty (last); SSH_ASKPASS_REQUIRE: 11.3.0.
    tty = ["GPG_TTY=" + PASSED["GPG_TTY"], "TERM=" + PASSED["TERM"]]
    want_extra = []
    if ssh:
        want_extra = ["SSH_ASKPASS_REQUIRE=" + PASSED["SSH_ASKPASS_REQUIRE"]]
        want_extra += [] if no_tty else tty
    mine = [v for v in ours["env"] if v not in want_extra]
    base = [v for v in theirs["env"] if v not in tty]
    if mine != base or any(v not in ours["env"] for v in want_extra) or \
            [v for v in ours["env"] if v in tty] != ([] if no_tty or not ssh else tty):
        problems.append("environment:\n  virtwire %r\n  libvirt  %r (11.3.0: + %r)"
                        % (ours["env"], theirs["env"], want_extra))
    for key in ("fds", "SigBlk", "SigIgn", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        if ours.get(key) != theirs.get(key):
            problems.append("%s: virtwire %r, libvirt %r" % (key, ours.get(key),
                                                             theirs.get(key)))
    # libvirt says nothing of the command's words when its first write
    # fails ("Cannot write data: Broken pipe"); virtwire does.
    if PROBE_LINE not in lv_err and not lv_err.startswith("Cannot write data"):
        problems.append("libvirt's error lacks the probe's line: %r" % lv_err)
    if PROBE_LINE not in vw[1] or vw[0] != "VIRTWIRE_ECLOSED":
        problems.append("virtwire's error: %s %r" % vw)
    return problems


def main():
    probe_src, tool, uri_tool = (os.path.abspath(a) for a in sys.argv[1:4])
    top = tempfile.mkdtemp(prefix="vw-sshcmd-")
    try:
        os.chmod(top, 0o755)
        bindir = os.path.join(top, "bin")
        os.makedirs(bindir)
        probe = os.path.join(top, "fake-ssh")
        for dst in (probe, os.path.join(bindir, "ssh"), os.path.join(bindir, "fake-ext")):
            shutil.copy(probe_src, dst)
            os.chmod(dst, 0o755)
        for sub in ("probe", "run", "tmp"):
            os.makedirs(os.path.join(top, sub))
            os.chmod(os.path.join(top, sub), 0o777)
        os.chmod(bindir, 0o755)
        env = {"PATH": bindir + ":/usr/bin:/bin", "HOME": top,
               "XDG_RUNTIME_DIR": os.path.join(top, "run"), "TMPDIR": os.path.join(top, "tmp"),
               "XDG_CONFIG_HOME": os.path.join(top, "config"), "LIBVIRT_AUTOSTART": "0",
               "PYTHONDONTWRITEBYTECODE": "1"}
        env.update(PASSED)
        env.update(NOT_PASSED)
        for name in ("ASAN_OPTIONS", "UBSAN_OPTIONS"):
            if name in os.environ:  # for our programs (not passed to the child)
                env[name] = os.environ[name]
        uris = [u.replace("{P}", probe) for u in URIS]
        runs = [(None, os.geteuid())]
        if os.geteuid() == 0:
            runs.append((NOBODY, NOBODY))
        failures = checked = ran = 0
        for uid, euid in runs:
            for readonly in (False, True):
                tag = "%d-%s" % (euid, "ro" if readonly else "rw")
                lv = libvirt_errors(uris, readonly, "lv-" + tag, env, top, uid)
                vw = virtwire_errors(tool, uris, readonly, "vw-" + tag, env, top, uid)
                views = names(uri_tool, uris, env, euid, readonly)
                for i, uri in enumerate(uris):
                    checked += 1
                    theirs = read_record(os.path.join(top, "probe", "lv-%s-%d" % (tag, i)))
                    ours = read_record(os.path.join(top, "probe", "vw-%s-%d" % (tag, i)))
                    ran += ours is not None
                    ssh = uri.split(":", 1)[0].endswith("+ssh")
                    no_tty = "no_tty=1" in uri
                    for p in compare(uri, ssh, no_tty, views[i], theirs, ours, lv[i], vw[i]):
                        failures += 1
                        print("FAIL uid=%d %s %s: %s" % (euid, "ro" if readonly else "rw", uri, p))
                    if readonly is False and uid is None and ours:
                        print("%s\n  argv %r" % (uri, ours["argv"][1:]))
        if ran < checked * 3 // 4:
            failures += 1
            print("FAIL: the command ran for %d URIs of %d only" % (ran, checked))
        print("%d URIs compared with libvirt, %d commands run, %d failures"
              % (checked, ran, failures))
        return 1 if failures else 0
    finally:
        shutil.rmtree(top)


if __name__ == "__main__":
    sys.exit(main())
