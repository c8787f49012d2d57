# SPDX-License-Identifier: LGPL-2.1-or-later
"""virtwire's URI handling against libvirt's own, URI by URI.

For every URI below, python3-libvirt opens a connection with debug logging
on.  libvirt logs how it split the URI ("Split ... to URI components"), the
name its remote driver is about to send in CONNECT_OPEN ("proceeding with
name = ..."), and the unix socket it chose ("Chosen UNIX socket ..."), and
then fails to connect (the sockets do not exist, TCP goes to port 1, TLS
has no certificates, ssh and ext run a command that exits at once).  The
uri_tool prints what virtwire derives from the same URIs in the same
environment; both must agree on every field, and a URI that libvirt refuses
before connecting must be refused by virtwire with the matching error code.

Each batch runs libvirt in a child process, once with read-write and once
with read-only connections.  As root, a second pair of batches runs the
child as an unprivileged user so that libvirt picks session sockets too;
as another user, one pair covers system and session URIs alike.  A private
runtime directory holds fake session sockets (libvirt, like virtwire, only
checks that they exist) so that mode=auto has something to choose from.

Usage: python3 test_libvirt.py URI_TOOL   (a python3 with python3-libvirt)
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

NOBODY = 65534
TIMEOUT = 60

# URIs the remote driver handles (client-side drivers such as test:/// or
# esx:// never reach it).  Hosts are IP literals (no DNS) and TCP ports 1
# (refused at once).
URIS = [
    "qemu:///system",
    "qemu:///session",
    "qemu+unix:///system",
    "QEMU+UNIX:///system",
    "qemu+Unix:///session",
    "qemu:///system?socket=/nonexistent/sock",
    "qemu:///system?foo=a%20b&mode=direct",
    "qemu:///system?foo=a%20b&mode=legacy",
    "qemu:///system?Mode=legacy&SOCKET=/nonexistent/x&Name=qemu:///other",
    "qemu:///session?mode=direct",
    "qemu:///session?mode=legacy",
    "network:///session",
    "network:///session?mode=direct",
    "test+unix:///default",
    "test+unix:///default?mode=direct",
    "test+tcp://127.0.0.1:1/default",
    "test+tcp://user@127.0.0.1:1/default?x=1",
    "lxc:///system?no_verify=1&no_tty=0&x=y",
    "network:///system",
    "nodedev:///system?mode=direct",
    "remote:///",
    "remote:///system?x=1",
    "remote+unix:///?socket=/nonexistent/r",
    "qemu:///system?name=qemu:///embed",
    "qemu:///system?name=",
    "qemu:///system?name=&name=foo",
    "qemu:///system#frag%20x",
    "qemu:///system#",
    "qemu:///system#[x]",
    "qemu:///system#a?b/c:d@e!$'()*+,;=~%5B%5D%7B",
    "qemu:///system?",
    "qemu:///sys%20tem",
    "qemu:///p%3Aa%2Fb%40%7E%25",
    "qemu:///system?a=%26%3D%2F%3A%40&b=~._-&c=%C3%A9&d=!$'()*+,:@/?",
    "qemu:///system?a%20b=1&%26=2",
    "qemu:///system?a&b=&=c&&d=1",
    "qemu:///x?a=b;c=d&e=f;g=h",
    "qemu:///x?a=1;b=2;;c",
    "qemu:///system?authfile=/x&auth=polkit&pkipath=/p&keyfile=/k"
    "&known_hosts=/k&known_hosts_verify=ignore&sshauth=agent&netcat=nc"
    "&tls_priority=NORMAL&proxy=netcat&no_sanity=0&kept=1",
    "qemu://127.0.0.1/system?socket=/x",
    "qemu+tls://[::1]:1/system",
    "qemu+tcp://[::1]:1/system",
    "qemu+tcp://127.0.0.1:1/session",
    "qemu+ssh://user@127.0.0.1:1/system?command=/bin/true",
    "qemu+ssh://127.0.0.1:1/session?command=/bin/true",
    "qemu+ssh://127.0.0.1:1/system?command=/bin/true&mode=legacy",
    "qemu+ext:///system?command=/bin/true",
    "qemu+libssh2://127.0.0.1:1/system",
    "qemu+LibSSH://127.0.0.1:1/system?known_hosts=/nonexistent",
    "vbox:///session",
    "qemu:system",
    "qemu:/system",
    "qemu:",
    "qemu:////x",
    "qemu://127.0.0.1?x=1#f",
    "qemu+tcp://system/x?x=1",
    "qemu://127.0.0.1",
    "qemu://127.0.0.1:0/system",
    "qemu://us%40er:pw@127.0.0.1/system?x=%7E",
    "qemu+ssh://[fe80::1%25lo]:1/system?command=/bin/true",
    "bhyve:///system?x=1&socket=/nonexistent/b#f",
    # Refused before connecting: (URI, virtwire's code, libvirt's message).
    ("qemu:///a b", -40, "Unable to parse URI"),
    ("qemu:///a%zz", -40, "Unable to parse URI"),
    ("qemu:///a%4", -40, "Unable to parse URI"),
    ("qemu:///x#a#b", -40, "Unable to parse URI"),
    ("qemu://127.0.0.1:5:6/x", -40, "Unable to parse URI"),
    ("qemu://127.0.0.1:/x", -40, "Unable to parse URI"),
    ("qemu:///x?a=[b]", -40, "Unable to parse URI"),
    ("qemu:///\u00e9", -40, "Unable to parse URI"),
    ("1qemu:///x", -40, "Unable to parse URI"),
    ("/system", -40, "does not include a driver name"),
    ("qemu://system", -40, "maybe you want qemu:///system"),
    ("qemu://session/x", -40, "maybe you want qemu:///session"),
    ("qemu+foo:///system", -41, "transport in URL not recognised"),
    ("qemu+:///system", -41, "transport in URL not recognised"),
    ("qemu+tcp+tls://127.0.0.1/system", -41, "transport in URL not recognised"),
    ("qemu+unix://127.0.0.1/system", -42, "using unix socket and remote server"),
    ("qemu+UNIX://[::1]/system", -42, "using unix socket and remote server"),
    ("qemu:///system?no_sanity=yes", -43, "Failed to parse value of URI component"),
    ("qemu:///system?NO_TTY=1x", -43, "Failed to parse value of URI component"),
    ("qemu:///system?no_verify=99999999999", -43,
     "Failed to parse value of URI component"),
    ("qemu:///system?mode=Direct", -43, "Unknown remote mode"),
    ("qemu:///system?proxy=ssh", -43, "proxy type"),
]

CHILD = r"""
import os, sys, libvirt
libvirt.registerErrorHandler(lambda *args: None, None)
opener = libvirt.openReadOnly if sys.argv[1] == "ro" else libvirt.open
probe = os.path.join(os.environ["XDG_RUNTIME_DIR"], "libvirt", "virtqemud-sock")
os.write(2, b"\n@@SEES %d\n" % os.path.exists(probe))
for i, uri in enumerate(sys.argv[2:]):
    os.write(2, b"\n@@URI %d\n" % i)
    try:
        opener(uri).close()
        os.write(2, b"@@OPENED\n")
    except libvirt.libvirtError as e:
        os.write(2, ("@@ERR " + str(e).replace("\n", " ") + "\n").encode())
os.write(2, b"\n@@END\n")
"""

SPLIT_RE = re.compile(
    r'Split ".*" to URI components:\n'
    r"  scheme (.*)\n  server (.*)\n  user (.*)\n  port (-?\d+)\n  path (.*)\n")
NAME_RE = re.compile(r"proceeding with name = (.*)\n")
SOCKET_RE = re.compile(r"doRemoteOpen:\d+ : Chosen UNIX socket (.*)\n")


def libvirt_view(uris, readonly, env, uid):
    """Opens each URI with libvirt; returns per URI the logged facts."""
    def drop_privileges():
        if uid is not None:
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(uid)

    proc = subprocess.run(
        [sys.executable, "-c", CHILD, "ro" if readonly else "rw"] + uris,
        env=env, preexec_fn=drop_privileges, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, timeout=TIMEOUT)
    log = proc.stderr.decode("utf-8", "replace")
    if proc.returncode != 0 or "\n@@END\n" not in log:
        sys.exit("libvirt child failed (%d):\n%s" % (proc.returncode, log[-3000:]))
    # Both sides must see the same files: the child may run as another user.
    if "\n@@SEES 1\n" not in log:
        sys.exit("the libvirt child (uid %s) cannot see the fake sockets under %s: "
                 "make the temporary directory's parents searchable"
                 % (uid, env["XDG_RUNTIME_DIR"]))
    segments = re.split(r"\n@@URI \d+\n", log.split("\n@@END\n")[0])[1:]
    if len(segments) != len(uris):
        sys.exit("expected %d log segments, got %d" % (len(uris), len(segments)))
    views = []
    for seg in segments:
        view = {}
        m = SPLIT_RE.search(seg)
        if m:
            view["split"] = m.groups()
        m = NAME_RE.search(seg)
        if m:
            view["name"] = m.group(1)
        m = SOCKET_RE.search(seg)
        if m:
            view["socket"] = None if m.group(1) == "<null>" else m.group(1)
        m = re.search(r"\n@@ERR (.*)", seg)
        view["error"] = m.group(1) if m else None
        views.append(view)
    return views


def virtwire_view(tool, uris, readonly, env, euid):
    args = [tool, "--euid", str(euid)] + (["--readonly"] if readonly else []) + uris
    out = subprocess.run(args, env=env, stdout=subprocess.PIPE, check=True,
                         timeout=TIMEOUT).stdout.decode()
    views = [json.loads(line) for line in out.splitlines()]
    if len(views) != len(uris):
        sys.exit("uri_tool printed %d lines for %d URIs" % (len(views), len(uris)))
    return views


def nullstr(value):
    return "<null>" if value is None else value


def compare(uri, expect, ours, theirs):
    """Returns a list of differences for one URI."""
    problems = []
    if expect is not None:
        code, message = expect
        if ours["rc"] != code:
            problems.append("virtwire rc %d, expected %d" % (ours["rc"], code))
        if "name" in theirs or message not in (theirs["error"] or ""):
            problems.append("libvirt did not refuse it with %r: %r"
                            % (message, theirs["error"]))
        return problems
    if ours["rc"] != 0:
        return ["virtwire refused it (rc %d); libvirt: %r" % (ours["rc"], theirs)]
    if "name" not in theirs or "split" not in theirs:
        return ["libvirt derived no name: %r" % theirs]
    scheme, server, user, port, path = theirs["split"]
    mine = (ours["scheme"], nullstr(ours["host"]), nullstr(ours["user"]),
            str(ours["port"]), ours["path"])
    if mine != (scheme, server, user, port, path):
        problems.append("components: virtwire %r, libvirt %r"
                        % (mine, theirs["split"]))
    if ours["name"] != theirs["name"]:
        problems.append("name: virtwire %r, libvirt %r" % (ours["name"], theirs["name"]))
    if "socket" not in theirs:
        problems.append("libvirt chose no socket: %r" % theirs)
    elif ours["transport"] in ("tcp", "tls", "ext"):
        # libvirt logs ?socket= even where it goes unused; virtwire says
        # that such a URI designates no socket.
        if ours["socket_rc"] != -44:
            problems.append("socket for %s: rc %d" % (ours["transport"], ours["socket_rc"]))
    elif ours["socket"] != theirs["socket"]:
        problems.append("socket: virtwire %r (rc %d), libvirt %r"
                        % (ours["socket"], ours["socket_rc"], theirs["socket"]))
    return problems


def make_runtime_dir(top):
    """A session runtime directory where virtqemud and libvirtd 'listen'."""
    run = os.path.join(top, "run")
    sockets = os.path.join(run, "libvirt")
    os.makedirs(sockets)
    for name in ("virtqemud-sock", "libvirt-sock"):
        open(os.path.join(sockets, name), "w").close()
    for d in (top, run, sockets):
        os.chmod(d, 0o755)
    return run


def main():
    tool = os.path.abspath(sys.argv[1])
    uris = [u if isinstance(u, str) else u[0] for u in URIS]
    expects = [None if isinstance(u, str) else u[1:] for u in URIS]
    top = tempfile.mkdtemp(prefix="virtwire-uri-")
    try:
        run = make_runtime_dir(top)
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("LIBVIRT", "XDG_", "VIRSH"))}
        env.update(XDG_RUNTIME_DIR=run, HOME=top, LIBVIRT_AUTOSTART="0",
                   LIBVIRT_DEBUG="1", LIBVIRT_LOG_OUTPUTS="1:stderr",
                   XDG_CONFIG_HOME=os.path.join(top, "config"))
        # (child uid or None for ourselves, euid virtwire is told)
        runs = [(None, os.geteuid())]
        if os.geteuid() == 0:
            runs.append((NOBODY, NOBODY))
        failures = 0
        checked = 0
        chosen = set()
        for uid, euid in runs:
            for readonly in (False, True):
                theirs = libvirt_view(uris, readonly, env, uid)
                chosen.update(t.get("socket") for t in theirs)
                ours = virtwire_view(tool, uris, readonly, env, euid)
                for uri, expect, o, t in zip(uris, expects, ours, theirs):
                    checked += 1
                    for p in compare(uri, expect, o, t):
                        failures += 1
                        print("FAIL euid=%d %s %s: %s"
                              % (euid, "ro" if readonly else "rw", uri, p))
        # The batches must have made libvirt choose each kind of socket.
        wanted = [os.path.join(run, "libvirt", "virtqemud-sock"),  # auto: direct
                  os.path.join(run, "libvirt", "libvirt-sock"),    # auto: legacy
                  os.path.join(run, "libvirt", "virtnetworkd-sock"),
                  "/var/run/libvirt/virtnodedevd-sock",
                  "/var/run/libvirt/virtnodedevd-sock-ro"]
        for path in wanted:
            if path not in chosen:
                failures += 1
                print("FAIL: libvirt never chose %s: the batches miss a case" % path)
        print("%d URI checks against libvirt, %d failures" % (checked, failures))
        return 1 if failures else 0
    finally:
        shutil.rmtree(top)


if __name__ == "__main__":
    sys.exit(main())
