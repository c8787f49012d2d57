#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The virtwire command-line tool against real peers.

usage: test_tool.py GROUP VIRTWIRE MOCKD XDIR

  procs     procedure listing, checked against the .x files of XDIR
  call      calls to a private libvirtd, checked against python3-libvirt,
            virsh and virt-admin (remote, admin and qemu programs)
  mockd     calls to examples/virtwire-mockd, checked against virsh
  errors    exit codes and messages: refused and silent peers, unknown
            procedures, bad JSON, remote errors, lost connections
  events    events from libvirtd (virsh suspends) and the mock (a domain
            started by a call), --count, --timeout, SIGINT
  streams   screenshots (libvirtd, mock) compared with virsh's, sparse
            volume upload and download through the mock
  progress  the progress bar: on a terminal only
  decode    a tshark capture of the tool's TCP sessions with libvirtd,
            decoded as pcapng, pcap and raw bytes, against what tshark's
            libvirt dissector says about the same packets
  raw       raw byte streams recorded by a proxy between the tool and the
            mock (a sparse upload: data, hole and finish frames)
  install   `cmake --install --component tool`: bin/virtwire alone, working
  ssh       ssh URIs through a private sshd (as root): calls, a stream,
            events, read-only and examples/virtwire-list through
            virt-ssh-helper and nc, against virsh over the same URIs; ssh's
            messages; a passphrase typed on a terminal, or never typed
  synthetic a capture written here byte by byte (out-of-order segments, a
            retransmission, IPv6, four link types, a snap-length cut, a
            gap), against the frames it holds and tshark's dissection

Each group starts its own daemons and stops them; every subprocess has a
timeout.
"""

import json
import os
import re
import pty
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
import vwtest  # noqa: E402
from vwtest import (Capture, Libvirtd, LineReader, data_and_holes, free_port,  # noqa: E402
                    frame, short_tmpdir, sparse_file, virsh, xdr_string)

GROUP, TOOL, MOCKD, XDIR = sys.argv[1:5]
HERE = os.path.dirname(os.path.abspath(__file__))
TIMEOUT = 30
MIB = 1 << 20


def tool(*args, input=None, ok=None, binary=False, timeout=TIMEOUT):
    """Runs the tool; ok=True/False asserts success or failure."""
    r = subprocess.run([TOOL, *args], input=input, capture_output=True, timeout=timeout,
                       text=not binary)
    if ok is True:
        assert r.returncode == 0, (args, r.returncode, r.stdout, r.stderr)
    return r


def call(uri, proc, args=None, *opts):
    r = tool("call", *opts, uri, proc, *([json.dumps(args)] if args is not None else []), ok=True)
    return json.loads(r.stdout)


def remote_error(r):
    """The remote_error a failed call printed on stderr (one JSON line)."""
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    assert r.stdout == "", r.stdout
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    return json.loads(lines[0])


def usage_error(r, *words):
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert r.stdout == ""
    assert r.stderr.startswith("virtwire: ") and len(r.stderr.strip().splitlines()) == 1, r.stderr
    for w in words:
        assert w in r.stderr, (w, r.stderr)


def Mockd(tcp=False):
    """examples/virtwire-mockd on a unix socket (and TCP when asked)."""
    return vwtest.Daemon(MOCKD, tcp=tcp, prefix="vw-m-", timeout=TIMEOUT, check_status=False)


class Events:
    """`virtwire events` in the background; ready once it says it watches."""

    def __init__(self, uri, *opts):
        self.proc = subprocess.Popen([TOOL, "events", *opts, uri], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.out = LineReader(self.proc.stdout)
        self.err = LineReader(self.proc.stderr)
        line = self.err.line()
        assert line and line.startswith("virtwire: watching events ("), line
        self.watching = line

    def event(self, timeout=TIMEOUT):
        line = self.out.line(timeout)
        return json.loads(line) if line else None

    def finish(self, timeout=TIMEOUT):
        rc = self.proc.wait(timeout=timeout)
        rest = self.err.buf.decode() + self.proc.stderr.read().decode()
        return rc, rest

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def after(self, *actions, count=2):
        """Runs actions (functions) while watching, takes count events and
        waits for the end: (events, exit status, rest of stderr).  The
        watch is killed whatever happens."""
        try:
            for action in actions:
                action()
            got = [self.event() for _ in range(count)]
            return (got, *self.finish())
        finally:
            self.kill()


def suspend_resume(uri):
    """Events for a watch: virsh suspends, then resumes, domain "test"."""
    virsh(uri, "suspend", "test")
    virsh(uri, "resume", "test")


def nonnull_domain(d):
    return {"name": d["name"], "uuid": d["uuid"], "id": d["id"]}


# --------------------------------------------------------------------------
# procs


def xfile(name):
    with open(os.path.join(XDIR, name)) as f:
        return f.read()


def procs_from_x(text, prefix):
    """{NAME: number} of the procedure enum, read straight off the .x."""
    import re
    return {m.group(1): int(m.group(2))
            for m in re.finditer(r"\b(%s_PROC_\w+)\s*=\s*(\d+)" % prefix, text)}


def structs_in_x(text):
    import re
    return set(re.findall(r"^struct\s+(\w+)\s*\{", text, re.M))


def api_releases(program):
    """{words of the API name, lower case: release} of the installed
    libvirt-dev's API description (libvirt's docs, built from the "Since:"
    of each function's comment, not from the version scripts the generator
    reads)."""
    import re
    xml = {"remote": "libvirt-api.xml", "qemu": "libvirt-qemu-api.xml",
           "lxc": "libvirt-lxc-api.xml", "admin": "libvirt-admin-api.xml"}[program]
    with open(os.path.join("/usr/share/libvirt/api", xml)) as f:
        text = f.read()
    out = {}
    for name, version in re.findall(r"<function name='(\w+)'[^>]* version='([\d.]+)'", text):
        key = name[6:] if program == "admin" else name[3:]
        key = key.replace({"qemu": "Qemu", "lxc": "Lxc"}.get(program, "\0"), "", 1)
        out[key.lower()] = version
    return out


def test_procs():
    r = tool("procs", ok=True)
    rows = [line.split("\t") for line in r.stdout.splitlines()]
    assert all(len(row) == 8 for row in rows), rows[:3]
    by_prog = {}
    since = {}
    for prog, num, name, args, ret, msg, flags, rel in rows:
        by_prog.setdefault(prog, {})[name] = (int(num), args, ret, msg, flags)
        since.setdefault(prog, {})[name] = rel
    for prog, xname, prefix, sprefix in (("remote", "remote_protocol.x", "REMOTE", "remote_"),
                                         ("qemu", "qemu_protocol.x", "QEMU", "qemu_"),
                                         ("lxc", "lxc_protocol.x", "LXC", "lxc_"),
                                         ("admin", "admin_protocol.x", "ADMIN", "admin_")):
        text = xfile(xname)
        want = procs_from_x(text, prefix)
        got = by_prog[prog]
        assert {k: v[0] for k, v in got.items()} == want, prog
        # Argument, return and message types: the structs named after the
        # procedure, as libvirt's convention has it.
        structs = structs_in_x(text)
        for name, (num, args, ret, msg, flags) in got.items():
            base = sprefix + name[len(prefix) + 6:].lower()
            for col, suffix in ((args, "_args"), (ret, "_ret"), (msg, "_msg")):
                assert col == (base + suffix if base + suffix in structs else "-"), (name, col)
            assert ("event" in flags.split(",")) == (msg != "-"), (name, flags)
    remote = by_prog["remote"]
    assert remote["REMOTE_PROC_DOMAIN_SCREENSHOT"][4] == "stream-read"
    assert remote["REMOTE_PROC_STORAGE_VOL_UPLOAD"][4] == "stream-write,sparse"
    assert remote["REMOTE_PROC_DOMAIN_CREATE_XML_WITH_FILES"][4] == "fds-call"
    assert remote["REMOTE_PROC_CONNECT_GET_HOSTNAME"][1:] == (
        "-", "remote_connect_get_hostname_ret", "-", "priority-high")
    assert set(by_prog) == {"remote", "qemu", "lxc", "admin", "keepalive", "virLockSpaceProtocol",
                            "virLogManagerProtocol", "virLXCMonitor"}, set(by_prog)
    assert by_prog["keepalive"] == {"KEEPALIVE_PROC_PING": (1, "-", "-", "-", "-"),
                                    "KEEPALIVE_PROC_PONG": (2, "-", "-", "-", "-")}

    # Since which release: every procedure whose API the installed libvirt
    # (9.0.0) documents has that API's release; the others are lower
    # bounds (">=") no later than the next procedure's; programs without an
    # API have none.
    import re
    for prog, prefix in (("remote", "REMOTE"), ("qemu", "QEMU"), ("lxc", "LXC"),
                         ("admin", "ADMIN")):
        apis = api_releases(prog)
        rels = since[prog]
        matched = 0
        for name, rel in rels.items():
            key = name[len(prefix) + 6:].replace("_", "").lower()
            assert re.fullmatch(r"(>=)?\d+\.\d+\.\d+", rel), (name, rel)
            if key in apis:
                assert rel == apis[key], (name, rel, apis[key])
                matched += 1
        assert matched > len(rels) // 2, (prog, matched, len(rels))

        def rk(v):
            return tuple(int(x) for x in v.lstrip(">=").split("."))
        ordered = sorted(rels.items(), key=lambda kv: by_prog[prog][kv[0]][0])
        for i, (name, rel) in enumerate(ordered):
            if rel.startswith(">="):
                nxt = [r for _, r in ordered[i + 1:] if not r.startswith(">=")]
                assert not nxt or rk(rel) <= rk(nxt[0]), (name, rel, nxt[0])
    for prog in ("keepalive", "virLockSpaceProtocol", "virLogManagerProtocol", "virLXCMonitor"):
        assert set(since[prog].values()) == {"-"}, prog
    assert since["remote"]["REMOTE_PROC_CONNECT_OPEN"] == "0.0.3"
    assert since["remote"]["REMOTE_PROC_NETWORK_SET_METADATA"] == "9.7.0"
    assert since["qemu"]["QEMU_PROC_DOMAIN_MONITOR_COMMAND"] == "0.8.3"
    assert since["remote"]["REMOTE_PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE"].startswith(">=")

    # One program, by its name or short alias; JSON says the same.
    qemu = tool("procs", "qemu", ok=True).stdout
    assert qemu == "".join(line + "\n" for line in r.stdout.splitlines()
                           if line.startswith("qemu\t"))
    assert tool("procs", "lock", ok=True).stdout == tool("procs", "virLockSpaceProtocol",
                                                          ok=True).stdout
    j = json.loads(tool("procs", "--json", "remote", ok=True).stdout)
    assert len(j) == len(remote)
    for p in j:
        num, args, ret, msg, flags = remote[p["name"]]
        assert (p["program"], p["number"], p["args"] or "-", p["ret"] or "-", p["msg"] or "-",
                ",".join(p["flags"]) or "-") == ("remote", num, args, ret, msg, flags), p
        assert (">=" if p["since_inferred"] else "") + (p["since"] or "-") == \
            since["remote"][p["name"]], p
    usage_error(tool("procs", "nosuch"), "unknown program 'nosuch'")
    usage_error(tool("procs", "--bogus"))
    assert tool("--help", ok=True).stdout.startswith("usage: virtwire")
    assert tool("--version", ok=True).stdout.startswith("virtwire ")
    # Every command takes --help (-h, or `virtwire help COMMAND`): its usage on
    # stdout, status 0, nothing run.
    commands = re.findall(r"^  ([a-z]+) ", tool("--help", ok=True).stdout, re.M)
    assert commands == ["call", "events", "download", "upload", "procs", "const", "decode",
                        "proxy", "replay"], \
        commands
    for cmd in commands:
        for args in ((cmd, "--help"), (cmd, "-h"), ("help", cmd), (cmd, "URI", "--help")):
            r = tool(*args, ok=True)
            assert r.stdout.startswith("usage: virtwire " + cmd) and r.stderr == "", (args, r)
    procs_c(by_prog)
    test_const()


def libvirt_symbols():
    """The functions libvirt's libraries export (the system's 9.0.0)."""
    import ctypes
    libs = [ctypes.CDLL(n) for n in ("libvirt.so.0", "libvirt-qemu.so.0", "libvirt-lxc.so.0",
                                     "libvirt-admin.so.0")]
    return lambda name: any(hasattr(lib, name) for lib in libs)


def procs_c(by_prog):
    """virtwire procs --c: every procedure of the four programs a client
    calls; the API it names is one libvirt's libraries export (or one newer
    than the system's libvirt: a procedure number beyond 9.0.0's); the
    functions it shows are the client header's; structures and example."""
    exported = libvirt_symbols()
    x9 = os.environ.get("VIRTWIRE_XDIR_9")
    last9 = {}
    if x9:
        for prog, xname, prefix in (("remote", "remote_protocol.x", "REMOTE"),
                                    ("qemu", "qemu_protocol.x", "QEMU"),
                                    ("lxc", "lxc_protocol.x", "LXC"),
                                    ("admin", "admin_protocol.x", "ADMIN")):
            with open(os.path.join(x9, xname)) as f:
                last9[prog] = max(procs_from_x(f.read(), prefix).values())
    apis = 0
    for prog in ("remote", "qemu", "lxc", "admin"):
        with open(os.path.join(os.path.dirname(TOOL), "..", "..", "generated",
                               prog + "_protocol_client.h")) as f:
            header = f.read()
        for name, (num, args, ret, msg, flags) in by_prog[prog].items():
            out = tool("procs", "--c", f"{prog}:{num}", ok=True).stdout
            assert out.startswith(f"{name} = {num} ("), out[:200]
            api = re.search(r"^libvirt's API: (vir\w+)\(\)", out, re.M)
            if api:
                apis += 1
                assert exported(api.group(1)) or num > last9.get(prog, 1 << 30), (name, api.group(1))
            else:
                assert "libvirt's API: none" in out, out[:300]
            section = out.split("Calls (", 1)[1].split("\n\n", 1)[0]
            calls = re.findall(r"^    (?:int|typedef void) \(?\*?(\w+)", section, re.M)
            assert calls, out
            for fn in calls:
                assert re.search(r"\b%s\b" % fn, header), (name, fn)
            for t in (args, ret, msg):
                if t != "-":
                    assert "struct %s {" % t in out, (name, t)
            assert "Example" in out, out
            assert (msg != "-") or "virtwire_call_opts o = VIRTWIRE_CALL_OPTS(" in out, out
    assert apis > 400, apis
    out = tool("procs", "--c", "domain_get_state", ok=True).stdout
    assert "libvirt's API: virDomainGetState()" in out
    assert "int remote_call_domain_get_state(virtwire_client *c, " \
           "const remote_domain_get_state_args *args, remote_domain_get_state_ret *ret, " \
           "virtwire_call_opts *opts);" in out
    out = tool("procs", "--c", "connect_list_all_domains", ok=True).stdout
    assert "need_results is sent as 1" in out and ".flags = 0" in out
    out = tool("procs", "--c", "domain_event_callback_lifecycle", ok=True).stdout
    assert "virConnectDomainEventRegisterAny() with VIR_DOMAIN_EVENT_ID_LIFECYCLE" in out
    assert "remote_register_domain_event_lifecycle(c, &reg, NULL, " in out
    usage_error(tool("procs", "--c", "nosuch"), "unknown procedure")
    usage_error(tool("procs", "--c", "keepalive:1"), "no C calls")


def test_const():
    """virtwire const against python3-libvirt's constants."""
    import libvirt
    assert tool("const", "VIR_DOMAIN_RUNNING", ok=True).stdout == "%d\n" % libvirt.VIR_DOMAIN_RUNNING
    assert tool("const", "VIR_DOMAIN_SCHEDULER_CPU_SHARES", ok=True).stdout == \
        libvirt.VIR_DOMAIN_SCHEDULER_CPU_SHARES + "\n"
    assert tool("const", "virErrorNumber", "42", ok=True).stdout == "VIR_ERR_NO_DOMAIN\n"
    assert libvirt.VIR_ERR_NO_DOMAIN == 42
    flags = libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE | libvirt.VIR_CONNECT_LIST_DOMAINS_PERSISTENT
    assert tool("const", "virConnectListAllDomainsFlags", hex(flags), ok=True).stdout == \
        "VIR_CONNECT_LIST_DOMAINS_ACTIVE|VIR_CONNECT_LIST_DOMAINS_PERSISTENT\n"
    members = tool("const", "virDomainState", ok=True).stdout.splitlines()
    assert members[1] == "VIR_DOMAIN_RUNNING\t1", members
    for line in members:
        n, v = line.split("\t")
        assert getattr(libvirt, n) == int(v), line
    enums = tool("const", ok=True).stdout.splitlines()
    assert "virDomainState\t8\tlibvirt-domain.h" in enums, enums[:5]
    usage_error(tool("const", "VIR_NO_SUCH_THING"), "no constant or enum")
    usage_error(tool("const", "virDomainState", "99"), "no member of virDomainState")


# --------------------------------------------------------------------------
# call (libvirtd)


def test_call():
    import libvirt
    import libvirt_qemu
    d = Libvirtd()
    conn = libvirt.open(d.uri)  # holds test:///default's state meanwhile
    try:
        assert call(d.uri, "connect_get_hostname") == {"hostname": conn.getHostname()}
        # A driver the daemon lacks: its error, as virsh and python3-libvirt
        # tell it, with the code and domain named.
        qemu = "qemu+unix:///system?socket=" + d.sock
        r = tool("call", qemu, "connect_get_hostname")
        v = virsh(qemu, "uri", ok=False)
        said = v.stderr.strip().splitlines()[-1]
        assert said == "error: no connection driver available for qemu:///system", v.stderr
        try:
            libvirt.open(qemu)
            assert False, "opened"
        except libvirt.libvirtError as e:
            code, domain = e.get_error_code(), e.get_error_domain()
        assert (code, domain) == (libvirt.VIR_ERR_NO_CONNECT, libvirt.VIR_FROM_NONE)
        assert r.returncode == 3 and r.stdout == "", r
        assert r.stderr == ("virtwire: cannot connect to '%s': no connection driver available "
                            "for qemu:///system (VIR_ERR_NO_CONNECT, VIR_FROM_NONE)\n" % qemu), r
        # A list procedure without need_results gets the list; with 0, the count.
        listed = call(d.uri, "connect_list_all_domains")
        assert [x["name"] for x in listed["domains"]] == [x.name() for x in
                                                           conn.listAllDomains()], listed
        assert listed["domains"][0]["uuid"] == conn.lookupByName("test").UUIDString()
        assert call(d.uri, "connect_list_all_domains", {"need_results": 0})["domains"] == []
        # Every way of naming a procedure.
        for name in ("REMOTE_PROC_CONNECT_GET_LIB_VERSION", "connect_get_lib_version",
                     "connect-get-lib-version", "Connect_Get_Lib_Version", "remote:157",
                     "remote:connect_get_lib_version", "157"):
            assert call(d.uri, name) == {"lib_ver": conn.getLibVersion()}, name

        info = call(d.uri, "node_get_info")
        model, mem_mib, cpus, mhz, nodes, sockets, cores, threads = conn.getInfo()
        assert info == {"model": model, "memory": info["memory"], "cpus": cpus, "mhz": mhz,
                        "nodes": nodes, "sockets": sockets, "cores": cores,
                        "threads": threads}, info
        assert info["memory"] // 1024 == mem_mib

        dom = conn.lookupByName("test")
        found = call(d.uri, "domain_lookup_by_name", {"name": "test"})["dom"]
        assert found == {"name": "test", "uuid": dom.UUIDString(),
                         "id": dom.ID()}, found
        # The arguments from stdin; UUIDs also in their usual form.
        r = tool("call", d.uri, "domain_get_xml_desc", "-", ok=True,
                 input=json.dumps({"dom": dict(found, uuid=dom.UUIDString())}))
        assert json.loads(r.stdout) == {"xml": dom.XMLDesc(0)}
        # --pretty: the same JSON, indented.
        r = tool("--pretty", "call", d.uri, "domain_get_info", json.dumps({"dom": found}), ok=True)
        assert "\n  \"state\": " in r.stdout
        state, maxmem, mem, ncpu, cputime = dom.info()
        got = json.loads(r.stdout)
        assert (got["state"], got["maxMem"], got["memory"], got["nrVirtCpu"]) == (
            state, maxmem, mem, ncpu), got

        # Typed parameters: unions in an array.
        nparams = call(d.uri, "domain_get_scheduler_type", {"dom": found})["nparams"]
        params = call(d.uri, "domain_get_scheduler_parameters",
                      {"dom": found, "nparams": nparams})["params"]
        keys = {1: "i", 2: "ui", 3: "l", 4: "ul", 5: "d", 6: "b", 7: "s"}
        assert {p["field"]: p["value"][keys[p["value"]["type"]]] for p in params} == \
            dom.schedulerParameters(), params

        # The daemon's errors, as python3-libvirt sees them.
        try:
            conn.lookupByName("nosuch")
            raise AssertionError("lookup of a missing domain succeeded")
        except libvirt.libvirtError as e:
            want = (e.get_error_code(), e.get_error_domain(), e.get_error_message())
        err = remote_error(tool("call", d.uri, "domain_lookup_by_name", '{"name":"nosuch"}'))
        assert (err["code"], err["domain"], err["message"]) == want, err
        assert set(err) == {"code", "domain", "message", "level", "dom", "str1", "str2", "str3",
                            "int1", "int2", "net"}, err

        # Read-only connections are refused what they may not do.
        ro = libvirt.openReadOnly(d.uri)
        try:
            ro.lookupByName("test").suspend()
            raise AssertionError("a read-only connection suspended a domain")
        except libvirt.libvirtError as e:
            want = e.get_error_code()
        finally:
            ro.close()
        err = remote_error(tool("call", "--readonly", d.uri, "domain_suspend",
                                json.dumps({"dom": found})))
        assert err["code"] == want, (err, want)
        assert dom.info()[0] == libvirt.VIR_DOMAIN_RUNNING

        # The qemu program: the test driver does not offer it.
        try:
            libvirt_qemu.qemuMonitorCommand(dom, "info", 0)
            raise AssertionError("the test driver ran a monitor command")
        except libvirt.libvirtError as e:
            want = e.get_error_code()
        err = remote_error(tool("call", d.uri, "qemu:domain_monitor_command",
                                json.dumps({"dom": found, "cmd": "info"})))
        assert err["code"] == want and want == libvirt.VIR_ERR_NO_SUPPORT, err

        # The admin program, on the admin socket, against virt-admin.
        servers = call(d.admin_uri, "admin:connect_list_servers", {"need_results": 16})
        out = subprocess.run(["virt-admin", "-c", d.admin_uri, "srv-list"], capture_output=True,
                             text=True, timeout=TIMEOUT, check=True).stdout
        names = [line.split()[1] for line in out.splitlines()[2:] if line.strip()]
        assert [s["name"] for s in servers["servers"]] == names and servers["ret"] == len(names)
        assert call(d.admin_uri, "ADMIN_PROC_CONNECT_GET_LIB_VERSION") == {
            "libVer": conn.getLibVersion()}
    finally:
        conn.close()
        d.stop()


# --------------------------------------------------------------------------
# mockd


def table_rows(out):
    return [line.split()[:2] for line in out.strip().splitlines()[2:]]


def test_mockd():
    m = Mockd(tcp=True)
    try:
        got = call(m.uri, "connect_list_all_domains", {"need_results": 1})
        rows = table_rows(virsh(m.uri, "list", "--all").stdout)
        assert [[str(x["id"]) if x["id"] >= 0 else "-", x["name"]] for x in got["domains"]] == \
            rows and got["ret"] == len(rows), (got, rows)
        test = nonnull_domain(got["domains"][0])
        # The mock's documented inventory.
        assert call(m.uri, "domain_get_info", {"dom": test}) == {
            "state": 1, "maxMem": 1048576, "memory": 524288, "nrVirtCpu": 1,
            "cpuTime": 1234567890}
        vm1 = nonnull_domain(got["domains"][1])
        assert call(m.uri, "domain_create", {"dom": vm1}) is None
        assert "running" in virsh(m.uri, "domstate", "vm1").stdout
        # Over TCP, the same daemon.
        tcp = "test+tcp://127.0.0.1:%d/default" % m.port
        state = call(tcp, "domain_get_state", {"dom": vm1})
        assert state == {"state": 1, "reason": 1}, state
        assert call(tcp, "domain_destroy", {"dom": dict(vm1, id=2)}) is None
        assert "shut off" in virsh(m.uri, "domstate", "vm1").stdout
        # A procedure the mock does not serve: libvirt's error for it.
        err = remote_error(tool("call", m.uri, "network_lookup_by_name", '{"name":"net"}'))
        assert (err["code"], err["domain"], err["message"], err["level"]) == (
            39, 7, "unknown procedure: 46", 2), err  # NETWORK_LOOKUP_BY_NAME
        # The daemon's own errors.
        err = remote_error(tool("call", m.uri, "domain_destroy", json.dumps({"dom": vm1})))
        assert err["code"] == 55 and "domain is not running" in err["message"], err
    finally:
        log = m.stop()
    assert log.count("unknown procedure") == 1, log


# --------------------------------------------------------------------------
# errors


class SilentPeer:
    """A unix socket that accepts connections and never answers (or, with
    hang_up, closes them at once)."""

    def __init__(self, hang_up=False):
        self.dir = short_tmpdir("vw-s-")
        self.path = os.path.join(self.dir, "s")
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.bind(self.path)
        self.sock.listen(4)
        self.hang_up = hang_up
        self.conns = []
        self.stopping = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()
        self.uri = "test+unix:///default?socket=" + self.path

    def run(self):
        while not self.stopping:
            if not select.select([self.sock], [], [], 0.1)[0]:
                continue
            c, _ = self.sock.accept()
            if self.hang_up:
                c.close()
            else:
                self.conns.append(c)

    def stop(self):
        self.stopping = True
        self.thread.join()
        for c in self.conns:
            c.close()
        self.sock.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def test_errors():
    # Nobody listening.
    port = free_port()
    r = tool("call", "test+tcp://127.0.0.1:%d/default" % port, "connect_get_hostname")
    assert r.returncode == 3 and "Connection refused" in r.stderr and r.stdout == "", r
    r = tool("call", "test+unix:///default?socket=/nonexistent/sock", "connect_get_hostname")
    assert r.returncode == 3 and "No such file or directory" in r.stderr, r
    # libvirt's words for it, the socket's path and errno: what virsh says
    v = virsh("test+unix:///default?socket=/nonexistent/sock", "uri", ok=False)
    said = v.stderr.strip().splitlines()[-1]
    assert said.startswith("error: Failed to connect socket to '/nonexistent/sock': "), v.stderr
    assert r.stderr == ("virtwire: cannot connect to 'test+unix:///default?socket=/nonexistent/"
                        "sock': " + said[len("error: "):] + "\n"), (r.stderr, said)
    usage_error(tool("call", "test+nosuch://h/", "connect_get_hostname"), "cannot connect")
    # A peer that never answers: --timeout bounds the wait.
    silent = SilentPeer()
    try:
        start = time.time()
        r = tool("call", "--timeout", "0.5", silent.uri, "connect_get_hostname")
        assert r.returncode == 4 and "no answer in time" in r.stderr, r
        assert time.time() - start < 10
    finally:
        silent.stop()
    # A peer that hangs up.
    closer = SilentPeer(hang_up=True)
    try:
        r = tool("call", closer.uri, "connect_get_hostname")
        assert r.returncode == 3 and "cannot connect" in r.stderr, r
    finally:
        closer.stop()

    m = Mockd()
    try:
        u = m.uri
        usage_error(tool("call", u, "nosuch_procedure"), "unknown procedure 'nosuch_procedure'")
        usage_error(tool("call", u, "nosuch:connect_open"), "unknown program 'nosuch'")
        usage_error(tool("call", u, "qemu:999"), "unknown procedure '999' of program qemu")
        usage_error(tool("call", u, "lock:1"), "cannot be called")
        usage_error(tool("call", u, "domain_lookup_by_name", '{"name": '),
                    "bad JSON arguments", "line 1")
        usage_error(tool("call", u, "domain_lookup_by_name", '{"name":"a","name":"b"}'),
                    "bad JSON arguments", "duplicate")
        usage_error(tool("call", u, "domain_lookup_by_name", '{"nmae":"test"}'),
                    "unknown member 'nmae' of remote_domain_lookup_by_name_args")
        usage_error(tool("call", u, "domain_get_info", '{"dom":{"name":7}}'),
                    "dom.name: expected a string, got an integer")
        usage_error(tool("call", u, "connect_get_hostname", '{"x":1}'), "takes no arguments")
        usage_error(tool("call", u, "domain_screenshot", "{}"), "use virtwire download")
        usage_error(tool("call", u, "storage_vol_upload", "{}"), "use virtwire upload")
        usage_error(tool("call", u, "domain_event_callback_lifecycle"), "use virtwire events")
        usage_error(tool("download", u, "domain_get_info", "{}", "/dev/null"), "use virtwire call")
        usage_error(tool("upload", u, "domain_screenshot", "{}", "/dev/null"),
                    "use virtwire download")
        usage_error(tool("upload", "--sparse", u, "storage_vol_upload", "{}", "-"),
                    "--sparse needs a regular file")
        usage_error(tool("call", "--timeout", "soon", u, "connect_get_hostname"),
                    "'soon' is not a number of seconds")
        usage_error(tool("call", u), "usage: virtwire call")
        usage_error(tool("frobnicate"), "unknown command 'frobnicate'")
        usage_error(tool("--frobnicate"), "unknown option '--frobnicate'")
        err = remote_error(tool("call", u, "domain_lookup_by_name", '{"name":"nosuch"}'))
        assert err["code"] == 42 and err["domain"] == 12, err
        # Nothing was called for the usage errors above.
        assert "unknown procedure" not in open(os.path.join(m.dir, "log")).read()

        # Events: nothing within the timeout, then the daemon goes away.
        ev = Events(u, "--count", "3", "--timeout", "0.5")
        rc, err = ev.finish()
        assert rc == 4 and "0 of 3 events within the timeout" in err, (rc, err)
        _, rc, err = Events(u).after(m.proc.terminate, count=0)
        assert rc == 3 and "connection lost" in err, (rc, err)
    finally:
        m.stop()

    # decode: unreadable input, and input that is no libvirt traffic.
    r = tool("decode", "/nonexistent/capture")
    assert r.returncode == 5 and "No such file or directory" in r.stderr, r
    r = tool("decode", "-", input="GET / HTTP/1.1\r\n\r\n")
    assert r.returncode == 5, r
    assert json.loads(r.stdout)["error"].startswith("bad length word"), r.stdout


# --------------------------------------------------------------------------
# events


def test_events():
    d = Libvirtd()
    try:
        ev = Events(d.uri, "--count", "2", "--timeout", "20")
        got, rc, _ = ev.after(lambda: suspend_resume(d.uri))
        # The test driver offers domain, network, storage pool and node
        # device events; every domain event ID of the daemon.
        assert "domain" in ev.watching and "network" in ev.watching, ev.watching
        assert rc == 0
        for e, event in zip(got, (3, 4)):  # VIR_DOMAIN_EVENT_SUSPENDED, _RESUMED
            assert e["program"] == "remote" and e["number"] == 318, e
            assert e["procedure"] == "REMOTE_PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE", e
            assert e["msg"]["msg"]["dom"]["name"] == "test" and e["msg"]["msg"]["event"] == event, e
        # Without --count: until the timeout, which is no failure then.
        start = time.time()
        ev = Events(d.uri, "--timeout", "0.5")
        rc, _ = ev.finish()
        assert rc == 0 and ev.event(0.1) is None and time.time() - start < 10
    finally:
        d.stop()

    m = Mockd()
    try:
        def start_destroy():
            _, vm1 = call(m.uri, "connect_list_all_domains", {"need_results": 1})["domains"][:2]
            call(m.uri, "domain_create", {"dom": nonnull_domain(vm1)})
            virsh(m.uri, "destroy", "vm1")

        got, rc, _ = Events(m.uri, "--count", "2").after(start_destroy)
        assert rc == 0
        msgs = [e["msg"]["msg"] for e in got]
        # Started Booted, then Stopped Destroyed.
        assert [(x["dom"]["name"], x["event"], x["detail"]) for x in msgs] == [
            ("vm1", 2, 0), ("vm1", 5, 1)], msgs
        assert msgs[0]["dom"]["id"] == 2 and msgs[1]["dom"]["id"] == -1
        # SIGINT ends the watch cleanly, registrations withdrawn.
        ev = Events(m.uri)
        _, rc, _ = ev.after(lambda: ev.proc.send_signal(signal.SIGINT), count=0)
        assert rc == 0
    finally:
        m.stop()


# --------------------------------------------------------------------------
# streams


VOL = {"pool": "default", "name": "disk.img", "key": "/mock/default/disk.img"}


def vol_allocation(uri):
    return call(uri, "storage_vol_get_info", {"vol": VOL})["allocation"]


def test_streams():
    d = Libvirtd()
    try:
        dom = call(d.uri, "domain_lookup_by_name", {"name": "test"})
        shot = os.path.join(d.dir, "shot")
        r = tool("download", d.uri, "domain_screenshot", json.dumps(dom), shot, ok=True)
        assert json.loads(r.stdout) == {"mime": "image/png"} and r.stderr == ""
        virsh(d.uri, "screenshot", "test", shot + ".virsh")
        assert open(shot, "rb").read() == open(shot + ".virsh", "rb").read()
    finally:
        d.stop()

    m = Mockd()
    try:
        u = m.uri
        tmp = m.dir
        # Screenshot, to stdout: the reply's JSON goes to stderr then.
        r = tool("download", u, "domain_screenshot", '{"dom":{"name":"test"}}', "-", binary=True,
                 ok=True)
        virsh(u, "screenshot", "test", os.path.join(tmp, "virsh.png"))
        assert r.stdout == open(os.path.join(tmp, "virsh.png"), "rb").read()
        assert json.loads(r.stderr) == {"mime": "image/png"}
        # A stream the daemon refuses.
        err = remote_error(tool("download", u, "domain_screenshot", '{"dom":{"name":"vm1"}}',
                                os.path.join(tmp, "x")))
        assert "domain is not running" in err["message"], err

        src = os.path.join(tmp, "src.img")
        sparse_file(src)
        r = tool("upload", "--sparse", u, "storage_vol_upload",
                 json.dumps({"vol": VOL, "flags": 1}), src, ok=True)
        assert json.loads(r.stdout) is None and r.stderr == ""
        assert vol_allocation(u) == 2 * MIB  # the hole came as a hole
        virsh_info = virsh(u, "vol-info", "--pool", "default", "disk.img").stdout
        assert "Allocation:     2.00 MiB" in virsh_info, virsh_info
        dst = os.path.join(tmp, "dst.img")
        tool("download", u, "storage_vol_download", json.dumps({"vol": VOL, "flags": 1}), dst,
             ok=True)
        assert open(dst, "rb").read() == open(src, "rb").read()
        assert data_and_holes(dst) == data_and_holes(src)
        # Not sparse, to stdout: the holes come as zeros.
        r = tool("download", u, "storage_vol_download", json.dumps({"vol": VOL}), "-",
                 binary=True, ok=True)
        assert r.stdout == open(src, "rb").read()
        # A window of the volume.
        r = tool("download", u, "storage_vol_download",
                 json.dumps({"vol": VOL, "offset": MIB - 10, "length": 20}), "-", binary=True,
                 ok=True)
        assert r.stdout == open(src, "rb").read()[MIB - 10:MIB + 10]
        # Upload from stdin, not sparse: every byte is data now.
        with open(src, "rb") as f:
            r = subprocess.run([TOOL, "upload", u, "storage_vol_upload", json.dumps({"vol": VOL}),
                                "-"], stdin=f, capture_output=True, timeout=TIMEOUT)
        assert r.returncode == 0, r.stderr
        assert vol_allocation(u) == 4 * MIB
        virsh(u, "vol-download", "--pool", "default", "disk.img", os.path.join(tmp, "v.img"))
        assert open(os.path.join(tmp, "v.img"), "rb").read() == open(src, "rb").read()
    finally:
        m.stop()


# --------------------------------------------------------------------------
# progress


def on_terminal(args):
    """Runs the tool with stderr on a pseudo-terminal; (rc, stdout, what
    the terminal showed)."""
    master, slave = pty.openpty()
    p = subprocess.Popen([TOOL, *args], stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    shown = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the tool is gone
            break
        if not chunk:
            break
        shown += chunk
    os.close(master)
    out = p.stdout.read()
    return p.wait(timeout=TIMEOUT), out, shown.decode()


def test_progress():
    m = Mockd()
    try:
        src = os.path.join(m.dir, "src.img")
        sparse_file(src)
        args = json.dumps({"vol": VOL, "flags": 1})
        rc, out, shown = on_terminal(["upload", "--sparse", m.uri, "storage_vol_upload", args,
                                      src])
        assert rc == 0 and json.loads(out) is None, (rc, out, shown)
        assert "\r[" in shown and "100% 4.0 MiB / 4.0 MiB" in shown, repr(shown)
        assert shown.endswith("\n"), repr(shown)
        rc, out, shown = on_terminal(["download", m.uri, "storage_vol_download", args,
                                      os.path.join(m.dir, "dst.img")])
        assert rc == 0 and "\r4.0 MiB" in shown, (rc, repr(shown))
        # Not on a terminal: nothing on stderr.
        r = tool("upload", m.uri, "storage_vol_upload", json.dumps({"vol": VOL}), src, ok=True)
        assert r.stderr == ""
    finally:
        m.stop()


# --------------------------------------------------------------------------
# decode: a tshark capture


TYPES = {"VIR_NET_CALL": 0, "VIR_NET_REPLY": 1, "VIR_NET_MESSAGE": 2, "VIR_NET_STREAM": 3,
         "VIR_NET_CALL_WITH_FDS": 4, "VIR_NET_REPLY_WITH_FDS": 5, "VIR_NET_STREAM_HOLE": 6}
STATUSES = {"VIR_NET_OK": 0, "VIR_NET_ERROR": 1, "VIR_NET_CONTINUE": 2}


def decode(path, *opts):
    r = tool("decode", *opts, path, ok=True)
    return [json.loads(line) for line in r.stdout.splitlines()]


def tshark_fields(path, port, fields, aggregate="\x1f"):
    out = subprocess.run(["tshark", "-r", path, "-d", "tcp.port==%d,libvirt" % port,
                          "-Y", "libvirt",
                          "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=" + aggregate,
                          "-e", "frame.number"] + [a for f in fields for a in ("-e", f)],
                         capture_output=True, text=True, timeout=TIMEOUT, check=True).stdout
    rows = {}
    for line in out.splitlines():
        pkt, *cols = line.split("\t")
        rows[int(pkt)] = [c.split(aggregate) if c else [] for c in cols]
    return rows


def test_decode():
    import libvirt
    d = Libvirtd(tcp=True)
    try:
        check_capture(d, libvirt)
    finally:
        d.stop()


def capture_sessions(d, pcapng):
    """The tool's sessions (and virsh's) over TCP, captured."""
    cap = Capture(d.port, pcapng)
    try:
        u = d.tcp_uri
        hostname = call(u, "connect_get_hostname")["hostname"]
        err = remote_error(tool("call", u, "domain_lookup_by_name", '{"name":"nosuch"}'))
        dom = call(u, "domain_lookup_by_name", {"name": "test"})
        shot = os.path.join(d.dir, "shot")
        tool("download", u, "domain_screenshot", json.dumps(dom), shot, ok=True)
        got, rc, _ = Events(u, "--count", "2").after(lambda: suspend_resume(u))
        assert got[0] and got[1] and rc == 0
    finally:
        cap.stop()
    return hostname, err, dom, shot


def check_capture(d, libvirt):
    pcapng = os.path.join(d.dir, "capture.pcapng")
    hostname, err, dom, shot = capture_sessions(d, pcapng)
    frames = decode(pcapng)
    assert all("header" in f for f in frames), [f for f in frames if "header" not in f]
    # Frame by frame, what tshark's dissector says of the same packets.
    theirs = []
    for pkt, cols in sorted(tshark_fields(pcapng, d.port, [
            "libvirt.program", "libvirt.procedure", "libvirt.type", "libvirt.serial",
            "libvirt.status", "libvirt.length"]).items()):
        theirs += [(pkt,) + tuple(int(v, 0) for v in f) for f in zip(*cols)]
    ours = [(f["packet"], f["header"]["prog"], f["header"]["proc"], TYPES[f["header"]["type"]],
             f["header"]["serial"], STATUSES[f["header"]["status"]], f["length"])
            for f in frames]
    diff = [(a, b) for a, b in zip(ours, theirs) if a != b][:3]
    assert len(ours) > 100 and ours == theirs, (len(ours), len(theirs), diff)

    # The values: every number and string at the top of a body, where the
    # dissector has a field for it.
    types = {(p["program"], p["number"]): p for p in
             json.loads(tool("procs", "--json", ok=True).stdout)}
    ftypes = {}
    for line in subprocess.run(["tshark", "-G", "fields"], capture_output=True, text=True,
                               timeout=TIMEOUT).stdout.splitlines():
        cols = line.split("\t")
        if len(cols) > 3 and cols[2].startswith("libvirt."):
            ftypes[cols[2]] = cols[3]
    want = {}  # packet -> field -> [values]
    for f in frames:
        h = f["header"]
        for key in ("args", "ret", "msg", "error"):
            if key not in f:
                continue
            tname = "remote_error" if key == "error" else \
                types[(h["program"], h["proc"])][key]
            for member, val in f[key].items():
                field = "libvirt.%s.%s" % (tname, member)
                ft = ftypes.get(field, "")
                if isinstance(val, bool) or not (
                        (isinstance(val, int) and "INT" in ft) or
                        (isinstance(val, str) and ft == "FT_STRING")):
                    continue
                want.setdefault(f["packet"], {}).setdefault(field, []).append(str(val))
    fields = sorted({fl for per in want.values() for fl in per})
    assert "libvirt.remote_connect_get_hostname_ret.hostname" in fields, fields
    assert "libvirt.remote_error.code" in fields and "libvirt.remote_error.message" in fields
    rows = tshark_fields(pcapng, d.port, fields)
    compared = 0
    for pkt, per in want.items():
        for field, vals in per.items():
            got = rows[pkt][fields.index(field)]
            assert [str(int(g, 0)) if "INT" in ftypes[field] else g for g in got] == vals, (
                pkt, field, got, vals)
            compared += len(vals)
    assert compared > 50, compared

    # What the sessions did, as decoded.
    by_proc = {}
    for f in frames:
        by_proc.setdefault(f["header"]["procedure"], []).append(f)
    host = [f for f in by_proc["REMOTE_PROC_CONNECT_GET_HOSTNAME"] if "ret" in f]
    assert host[0]["ret"] == {"hostname": hostname}
    errors = [f for f in by_proc["REMOTE_PROC_DOMAIN_LOOKUP_BY_NAME"] if "error" in f]
    assert errors[0]["error"] == err and errors[0]["header"]["status"] == "VIR_NET_ERROR"
    shots = by_proc["REMOTE_PROC_DOMAIN_SCREENSHOT"]
    # One CALL, one REPLY; the capture interleaves the two directions as
    # the packets came, so the reply need not be the next frame.
    kinds = [(f["src"], f["header"]["type"], f["header"]["status"]) for f in shots]
    calls = [f for f in shots if f["header"]["type"] == "VIR_NET_CALL"]
    replies = [f for f in shots if f["header"]["type"] == "VIR_NET_REPLY"]
    assert len(calls) == 1 and calls[0]["args"]["dom"] == dom["dom"], kinds
    assert len(replies) == 1 and replies[0]["ret"] == {"mime": "image/png"}, (kinds, replies)
    data = [f["data_length"] for f in shots if f["header"]["type"] == "VIR_NET_STREAM"
            and f["header"]["status"] == "VIR_NET_CONTINUE"]
    assert sum(data) == os.path.getsize(shot) and data[-1] == 0, data
    finish = [(f["src"] == calls[0]["src"], f["header"]["status"]) for f in shots
              if f["header"]["type"] == "VIR_NET_STREAM" and
              f["header"]["status"] != "VIR_NET_CONTINUE"]
    assert finish == [(True, "VIR_NET_OK"), (False, "VIR_NET_OK")], finish
    events = [f["msg"]["msg"]["event"] for f in
              by_proc["REMOTE_PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE"]]
    assert events == [libvirt.VIR_DOMAIN_EVENT_SUSPENDED, libvirt.VIR_DOMAIN_EVENT_RESUMED]

    # The same capture as a classic pcap file (microsecond timestamps).
    pcap = os.path.join(d.dir, "capture.pcap")
    subprocess.run(["tshark", "-r", pcapng, "-F", "pcap", "-w", pcap], check=True,
                   capture_output=True, timeout=TIMEOUT)
    classic = decode(pcap)
    assert len(classic) == len(frames)
    for a, b in zip(classic, frames):
        assert abs(a.pop("time") - b["time"]) < 1e-5
        assert a == {k: v for k, v in b.items() if k != "time"}, (a, b)
    # Only the flows of a port: all of them here, none of another.
    assert decode(pcapng, "--port", str(d.port)) == frames
    assert decode(pcapng, "--port", "9") == []

    # The raw bytes of the screenshot session, each direction in a file
    # of its own (tshark follows the TCP stream).
    client, server = shots[0]["src"], shots[0]["dst"]
    stream = subprocess.run(["tshark", "-r", pcapng, "-Y", "libvirt.procedure == 211",
                             "-d", "tcp.port==%d,libvirt" % d.port, "-T", "fields", "-e",
                             "tcp.stream"], capture_output=True, text=True,
                            timeout=TIMEOUT, check=True).stdout.split()[0]
    follow = subprocess.run(["tshark", "-r", pcapng, "-q", "-z", "follow,tcp,raw," + stream],
                            capture_output=True, text=True, timeout=TIMEOUT,
                            check=True).stdout
    halves = {True: b"", False: b""}
    for line in follow.splitlines():
        text = line.strip()
        if text and all(c in "0123456789abcdef" for c in text):
            halves[not line.startswith("\t")] += bytes.fromhex(text)
    for is_client, src, dst in ((True, client, server), (False, server, client)):
        path = os.path.join(d.dir, "client.raw" if is_client else "server.raw")
        with open(path, "wb") as f:
            f.write(halves[is_client])
        raw = decode(path)
        same = [{k: v for k, v in f.items() if k not in ("frame", "packet", "time", "src",
                                                         "dst")}
                for f in frames if (f["src"], f["dst"]) == (src, dst)]
        assert [{k: v for k, v in f.items() if k != "frame"} for f in raw] == same
        assert [f["frame"] for f in raw] == list(range(1, len(raw) + 1))


# --------------------------------------------------------------------------
# raw: a recording proxy


class Proxy:
    """A unix socket in front of another, recording each connection's bytes
    per direction."""

    def __init__(self, target, dir):
        self.target = target
        self.path = os.path.join(dir, "proxy")
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.bind(self.path)
        self.sock.listen(4)
        self.records = []  # [{"c2s": bytes, "s2c": bytes}]
        self.stopping = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()
        self.uri = "test+unix:///default?socket=" + self.path

    def run(self):
        pairs = {}  # socket -> (peer, record, key)
        while not self.stopping:
            ready = select.select([self.sock] + list(pairs), [], [], 0.1)[0]
            for s in ready:
                if s is self.sock:
                    c, _ = self.sock.accept()
                    up = socket.socket(socket.AF_UNIX)
                    up.connect(self.target)
                    rec = {"c2s": b"", "s2c": b"", "closed": False}
                    self.records.append(rec)
                    pairs[c] = (up, rec, "c2s")
                    pairs[up] = (c, rec, "s2c")
                    continue
                if s not in pairs:
                    continue
                peer, rec, key = pairs[s]
                data = s.recv(1 << 16)
                if not data:
                    for x in (s, peer):
                        pairs.pop(x, None)
                        x.close()
                    rec["closed"] = True
                    continue
                rec[key] += data
                peer.sendall(data)

    def stop(self):
        self.stopping = True
        self.thread.join()
        self.sock.close()


def test_raw():
    m = Mockd()
    proxy = Proxy(m.sock, m.dir)
    try:
        src = os.path.join(m.dir, "src.img")
        sparse_file(src)
        tool("upload", "--sparse", proxy.uri, "storage_vol_upload",
             json.dumps({"vol": VOL, "flags": 1}), src, ok=True)
        deadline = time.time() + TIMEOUT
        while time.time() < deadline and not (proxy.records and proxy.records[0]["closed"]):
            time.sleep(0.05)
    finally:
        proxy.stop()
        m.stop()
    rec = proxy.records[0]
    dirs = {}
    for key in ("c2s", "s2c"):
        path = os.path.join(tempfile.gettempdir(), "vw-raw-%d-%s" % (os.getpid(), key))
        with open(path, "wb") as f:
            f.write(rec[key])
        try:
            dirs[key] = decode(path)
        finally:
            os.unlink(path)
    c2s, s2c = dirs["c2s"], dirs["s2c"]
    calls = [f["header"]["procedure"] for f in c2s if f["header"]["type"] == "VIR_NET_CALL"]
    assert calls[:3] == ["REMOTE_PROC_AUTH_LIST", "REMOTE_PROC_CONNECT_SUPPORTS_FEATURE",
                         "REMOTE_PROC_CONNECT_OPEN"], calls
    assert calls[-2:] == ["REMOTE_PROC_STORAGE_VOL_UPLOAD", "REMOTE_PROC_CONNECT_CLOSE"], calls
    opened = [f for f in c2s if f["header"]["procedure"] == "REMOTE_PROC_CONNECT_OPEN"][0]
    assert opened["args"] == {"name": "test:///default", "flags": 0}
    upload = [f for f in c2s if f["header"]["procedure"] == "REMOTE_PROC_STORAGE_VOL_UPLOAD"]
    assert upload[0]["args"] == {"vol": VOL, "offset": 0, "length": 0, "flags": 1}
    serial = upload[0]["header"]["serial"]
    assert all(f["header"]["serial"] == serial for f in upload)
    kinds = [(f["header"]["type"], f["header"]["status"]) for f in upload[1:]]
    data = [f["data_length"] for f in upload if "data_length" in f]
    holes = [f["hole"] for f in upload if "hole" in f]
    assert holes == [{"length": 2 * MIB, "flags": 0}], holes
    assert sum(data) == 2 * MIB, data
    assert kinds[-1] == ("VIR_NET_STREAM", "VIR_NET_OK"), kinds  # finish
    # Every call answered, with the call's serial; the daemon confirms the
    # finish.
    replies = {(f["header"]["proc"], f["header"]["serial"]) for f in s2c
               if f["header"]["type"] == "VIR_NET_REPLY"}
    assert {(f["header"]["proc"], f["header"]["serial"]) for f in c2s
            if f["header"]["type"] == "VIR_NET_CALL"} == replies
    last = [f for f in s2c if f["header"]["serial"] == serial][-1]
    assert (last["header"]["type"], last["header"]["status"]) == ("VIR_NET_STREAM", "VIR_NET_OK")

    # A recording cut inside a frame: the frames before it, then an error.
    cut = rec["c2s"][:len(rec["c2s"]) - 3]
    r = tool("decode", "-", input=cut, binary=True)
    lines = [json.loads(line) for line in r.stdout.splitlines()]
    assert r.returncode == 5 and lines[-1]["error"].startswith("the input ends inside a frame")
    assert [f for f in lines[:-1]] == c2s[:-1]


# --------------------------------------------------------------------------
# synthetic: a capture written here, byte by byte




def inet_csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    return ~(s + (s >> 16)) & 0xffff


def tcp_segment(sp, dp, seq, flags, data, src, dst):
    hdr = struct.pack(">HHIIBBHHH", sp, dp, seq, 0, 5 << 4, flags, 65535, 0, 0)
    if len(src) == 16:
        pseudo = src + dst + struct.pack(">IxxxB", len(hdr) + len(data), 6)
    else:
        pseudo = src + dst + struct.pack(">BBH", 0, 6, len(hdr) + len(data))
    return hdr[:16] + struct.pack(">H", inet_csum(pseudo + hdr + data)) + hdr[18:] + data


def ip_packet(src, dst, payload):
    if len(src) == 16:
        return struct.pack(">IHBB16s16s", 6 << 28, len(payload), 6, 64, src, dst) + payload
    h = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0, 0x4000, 64, 6, 0, src, dst)
    return h[:10] + struct.pack(">H", inet_csum(h)) + h[12:] + payload


def link(linktype, ip):
    v6 = ip[0] >> 4 == 6
    if linktype == 1:  # Ethernet with an 802.1Q tag
        return b"\x02" * 6 + b"\x04" * 6 + struct.pack(">HHH", 0x8100, 5,
                                                        0x86dd if v6 else 0x0800) + ip
    if linktype == 0:  # BSD loopback: the family in host byte order
        return struct.pack("=I", 30 if v6 else 2) + ip
    if linktype == 276:  # Linux cooked v2
        return struct.pack(">HHIHBB8s", 0x86dd if v6 else 0x0800, 0, 1, 772, 0, 6, b"") + ip
    return ip


def synthetic_capture(path, linktype, snap_cut=False, gap=False):
    """Two connections: 10.0.0.1 -> 10.0.0.2 (two calls in one segment, a
    reply split in two and sent out of order, a retransmission, an error
    and an event), and fd00::1 -> fd00::2 (a call split in two)."""
    call1 = frame(59, 1)                                # CONNECT_GET_HOSTNAME
    call2 = frame(23, 2, xdr_string("test"))              # DOMAIN_LOOKUP_BY_NAME
    reply1 = frame(59, 1, xdr_string("vm"), mtype=1)
    error = (struct.pack(">iiI", 42, 12, 1) + xdr_string("Domain not found")
             + struct.pack(">iIIIIiiI", 2, 0, 0, 0, 0, -1, -1, 0))
    reply2 = frame(23, 2, error, mtype=1, status=1)
    event = frame(318, 1, struct.pack(">i", 0) + xdr_string("test") + bytes(range(16))
                  + struct.pack(">iii", 1, 3, 0), mtype=2)
    a, b = socket.inet_aton("10.0.0.1"), socket.inet_aton("10.0.0.2")
    c = socket.inet_pton(socket.AF_INET6, "fd00::1")
    d = socket.inet_pton(socket.AF_INET6, "fd00::2")
    s2c = reply1 + reply2 + event
    segs = [(40000, 16509, 1000, 0x02, b"", a, b),
            (16509, 40000, 5000, 0x12, b"", b, a),
            (40000, 16509, 1001, 0x18, call1 + call2, a, b),
            (16509, 40000, 5021, 0x18, s2c[20:50], b, a),
            (16509, 40000, 5001, 0x18, s2c[:20], b, a),
            (16509, 40000, 5001, 0x18, s2c[:20], b, a),
            (16509, 40000, 5051, 0x18, s2c[50:], b, a),
            (40001, 16509, 7000, 0x02, b"", c, d),
            (40001, 16509, 7001, 0x18, call1[:10], c, d),
            (40001, 16509, 7011, 0x18, call1[10:], c, d)]
    if gap:
        del segs[4:6]  # the first 20 bytes of the replies never come
    out = struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, linktype)
    for i, (sp, dp, seq, flags, data, src, dst) in enumerate(segs):
        pkt = link(linktype, ip_packet(src, dst, tcp_segment(sp, dp, seq, flags, data, src, dst)))
        cap = pkt[:-5] if snap_cut and i == 9 else pkt
        out += struct.pack("<IIII", 1700000000 + i, 250000, len(cap), len(pkt)) + cap
    with open(path, "wb") as f:
        f.write(out)


SYNTHETIC = [
    (3, "10.0.0.1:40000", "10.0.0.2:16509", 59, "VIR_NET_CALL", 1, "VIR_NET_OK", None),
    (3, "10.0.0.1:40000", "10.0.0.2:16509", 23, "VIR_NET_CALL", 2, "VIR_NET_OK",
     ("args", {"name": "test"})),
    (5, "10.0.0.2:16509", "10.0.0.1:40000", 59, "VIR_NET_REPLY", 1, "VIR_NET_OK",
     ("ret", {"hostname": "vm"})),
    (7, "10.0.0.2:16509", "10.0.0.1:40000", 23, "VIR_NET_REPLY", 2, "VIR_NET_ERROR",
     ("error", {"code": 42, "domain": 12, "message": "Domain not found", "level": 2,
                "dom": None, "str1": None, "str2": None, "str3": None, "int1": -1, "int2": -1,
                "net": None})),
    (7, "10.0.0.2:16509", "10.0.0.1:40000", 318, "VIR_NET_MESSAGE", 1, "VIR_NET_OK",
     ("msg", {"callbackID": 0, "msg": {"dom": {"name": "test",
                                               "uuid": "00010203-0405-0607-0809-0a0b0c0d0e0f",
                                               "id": 1}, "event": 3, "detail": 0}})),
    (10, "[fd00::1]:40001", "[fd00::2]:16509", 59, "VIR_NET_CALL", 1, "VIR_NET_OK", None),
]


def test_synthetic():
    tmp = short_tmpdir("vw-y-")
    try:
        want = []
        for n, (pkt, src, dst, proc, typ, serial, status, body) in enumerate(SYNTHETIC, 1):
            length = {59: 28, 23: 36}[proc] if typ == "VIR_NET_CALL" else None
            want.append((n, pkt, 1700000000 + pkt - 1 + 0.25, src, dst, proc, typ, serial,
                         status, body, length))
        for linktype in (1, 0, 101, 276):
            path = os.path.join(tmp, "cap-%d.pcap" % linktype)
            synthetic_capture(path, linktype)
            frames = decode(path)
            got = [(f["frame"], f["packet"], f["time"], f["src"], f["dst"], f["header"]["proc"],
                    f["header"]["type"], f["header"]["serial"], f["header"]["status"],
                    next(((k, f[k]) for k in ("args", "ret", "error", "msg") if k in f), None),
                    f["length"] if f["header"]["type"] == "VIR_NET_CALL" else None)
                   for f in frames]
            assert got == want, (linktype, got)
            # tshark's dissector, following out-of-order segments, agrees.
            out = subprocess.run(["tshark", "-o", "tcp.reassemble_out_of_order:TRUE", "-r", path,
                                  "-d", "tcp.port==16509,libvirt", "-Y", "libvirt", "-T", "fields",
                                  "-e", "frame.number", "-e", "libvirt.procedure", "-e",
                                  "libvirt.serial"], capture_output=True, text=True,
                                 timeout=TIMEOUT, check=True).stdout
            theirs = [(int(pkt), int(p), int(s)) for line in out.splitlines()
                      for pkt, procs, serials in [line.split("\t")]
                      for p, s in zip(procs.split(","), serials.split(","))]
            assert theirs == [(w[1], w[5], w[7]) for w in want], (linktype, theirs)
            # The same packets in pcapng.
            ng = path + "ng"
            subprocess.run(["tshark", "-r", path, "-F", "pcapng", "-w", ng], check=True,
                           capture_output=True, timeout=TIMEOUT)
            assert decode(ng) == frames
        # A packet cut short by the snap length, a segment never captured.
        path = os.path.join(tmp, "cut.pcap")
        synthetic_capture(path, 1, snap_cut=True)
        r = tool("decode", path)
        lines = [json.loads(line) for line in r.stdout.splitlines()]
        assert r.returncode == 5 and lines[-1] == {
            "packet": 10, "src": "[fd00::1]:40001", "dst": "[fd00::2]:16509",
            "error": "the capture cut this packet short (snap length): the flow cannot be "
                     "followed past it"}, lines[-1]
        synthetic_capture(path, 1, gap=True)
        r = tool("decode", path)
        lines = [json.loads(line) for line in r.stdout.splitlines()]
        assert r.returncode == 5 and [x.get("packet") for x in lines[:-1]] == [3, 3, 8], lines
        assert lines[-1] == {"src": "10.0.0.2:16509", "dst": "10.0.0.1:40000",
                             "error": "the capture misses bytes of this flow (a gap before "
                                      "sequence number 5001)"}, lines[-1]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# --------------------------------------------------------------------------
# install


def test_install():
    prefix = short_tmpdir("vw-i-")
    try:
        subprocess.run([os.environ["VW_CMAKE"], "--install", os.environ["VW_BUILD_DIR"],
                        "--prefix", prefix, "--component", "tool"], check=True,
                       capture_output=True, timeout=TIMEOUT)
        installed = sorted(os.path.relpath(os.path.join(d, f), prefix)
                           for d, _, files in os.walk(prefix) for f in files)
        assert installed == ["bin/virtwire"], installed
        exe = os.path.join(prefix, "bin", "virtwire")
        r = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=TIMEOUT)
        assert r.returncode == 0 and r.stdout == "virtwire %s\n" % os.environ["VW_VERSION"], r
        r = subprocess.run([exe, "procs"], capture_output=True, text=True, timeout=TIMEOUT)
        assert r.returncode == 0 and r.stdout == tool("procs", ok=True).stdout
    finally:
        shutil.rmtree(prefix, ignore_errors=True)


# --------------------------------------------------------------------------
# ssh: URIs through a private sshd, with virsh (libvirt over the same ssh)
# as the reference


def on_pty(argv, answer=None, prompt="Enter passphrase", timeout=30):
    """Runs argv as a person at a terminal would: the pseudo-terminal is its
    controlling terminal, standard input and standard error; stdout is a
    pipe.  Answers prompt with answer when given.  Returns (rc, stdout,
    what the terminal showed, seconds taken)."""
    import fcntl
    import termios
    master, slave = pty.openpty()
    start = time.time()
    p = subprocess.Popen(argv, stdin=slave, stdout=subprocess.PIPE, stderr=slave,
                         start_new_session=True,
                         preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))
    os.close(slave)
    shown, answered = b"", False
    end = time.time() + timeout
    while time.time() < end:
        r, _, _ = select.select([master], [], [], 0.2)
        if r:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the last process on the terminal is gone
                break
            if not chunk:
                break
            shown += chunk
        if answer is not None and not answered and prompt.encode() in shown:
            os.write(master, answer.encode() + b"\n")
            answered = True
        if p.poll() is not None and not r:
            break
    out = p.stdout.read()
    rc = p.wait(timeout=timeout)
    took = time.time() - start
    os.close(master)
    return rc, out.decode(), shown.decode(errors="replace"), took


def processes_naming(text):
    """Processes whose command line holds text."""
    found = []
    for name in os.listdir("/proc"):
        try:
            with open("/proc/%s/cmdline" % name, "rb") as f:
                if text.encode() in f.read():
                    found.append(int(name))
        except (OSError, ValueError):
            pass
    return found


def test_ssh():
    if os.geteuid() != 0:
        print("tool.ssh: skipped (a private sshd needs root)")
        return
    lvd = Libvirtd()
    sshd = None
    try:
        sshd = vwtest.Sshd(lvd)
        listp = os.path.join(os.path.dirname(MOCKD), "virtwire-list")
        helper = sshd.uri()  # proxy=auto: virt-ssh-helper
        netcat = sshd.uri("socket=" + lvd.sock)  # ?socket=: nc
        for uri in (helper, netcat):
            # Calls, against virsh over the same ssh URI.
            host = call(uri, "connect_get_hostname")["hostname"]
            assert host == virsh(uri, "hostname").stdout.strip(), host
            doms = call(uri, "connect_list_all_domains", {"need_results": 10, "flags": 0})
            assert [d["name"] for d in doms["domains"]] == ["test"], doms
            # The screenshot stream, against virsh's.
            dom = call(uri, "domain_lookup_by_name", {"name": "test"})
            shot = os.path.join(sshd.dir, "shot")
            r = tool("download", uri, "domain_screenshot", json.dumps(dom), shot, ok=True)
            virsh(uri, "screenshot", "test", shot + ".virsh")
            assert open(shot, "rb").read() == open(shot + ".virsh", "rb").read()
            # Events: virsh suspends and resumes the domain.
            ev = Events(uri, "--count", "2", "--timeout", "20")
            got, rc, rest = ev.after(lambda: suspend_resume(lvd.uri))
            assert rc == 0, (rc, rest)
            assert [e["msg"]["msg"]["event"] for e in got] == [3, 4], got
            # The example, unchanged.
            r = subprocess.run([listp, uri], capture_output=True, text=True, timeout=TIMEOUT)
            assert r.returncode == 0 and "test" in r.stdout and "running" in r.stdout, r
            # Read-only: the daemon refuses a change, as it does to virsh -r.
            err = remote_error(tool("call", "--readonly", uri, "domain_suspend",
                                    json.dumps({"dom": dom["dom"]})))
            assert "read only" in err["message"], err
        print("calls, a stream, events, virtwire-list and read-only over the helper and nc: ok")

        # ssh's own words, as virsh shows them.
        bad = sshd.uri("no_tty=1", ssh=sshd.unknown_ssh)
        r = tool("call", bad, "connect_get_hostname")
        ref = virsh(bad, "hostname", ok=False)
        assert r.returncode == 3 and "Host key verification failed." in r.stderr, r
        assert "Host key verification failed." in ref.stderr, ref
        r = subprocess.run([listp, sshd.uri("proxy=native", key=sshd.nohelper_key)],
                           capture_output=True, text=True, timeout=TIMEOUT)
        assert r.returncode != 0 and "virt-ssh-helper: not found" in r.stderr, r
        print("virtwire:", r.stderr.strip())

        # A passphrase asked on the terminal: typed, the call goes through;
        # never typed, --timeout ends the wait and the ssh child with it; with
        # BatchMode (no_tty=1), ssh does not ask at all.
        enc = os.path.join(sshd.dir, "enc_key")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "s3cret", "-f", enc],
                       check=True, timeout=TIMEOUT)
        with open(sshd.authorized_keys, "a") as f, open(enc + ".pub") as pub:
            f.write(pub.read())
        typed = sshd.uri(key=enc)
        rc, out, shown, took = on_pty([TOOL, "call", "--timeout", "20", typed,
                                       "connect_get_hostname"], answer="s3cret")
        assert rc == 0 and json.loads(out)["hostname"] == host, (rc, out, shown)
        assert "Enter passphrase for key '%s'" % enc in shown, shown
        rc, out, shown, took = on_pty([TOOL, "call", "--timeout", "3", typed,
                                       "connect_get_hostname"])
        assert rc == 4 and "Enter passphrase" in shown and "no answer in time" in shown, \
            (rc, out, shown)
        assert 2.5 < took < 10, took
        waited = took
        assert processes_naming(enc) == [], "an ssh is left: %r" % processes_naming(enc)
        rc, out, shown, took = on_pty([TOOL, "call", "--timeout", "20",
                                       sshd.uri("no_tty=1", key=enc), "connect_get_hostname"])
        assert rc == 3 and "Enter passphrase" not in shown and "Permission denied" in shown, \
            (rc, shown)
        assert took < 10, took
        print("passphrase: typed; not typed (--timeout 3: %.1f s); BatchMode (%.1f s): ok"
              % (waited, took))
        # Nothing of ours is left running: only sshd itself names its directory.
        sshd_side = set(vwtest.process_tree(sshd.pid())) | {sshd.pid()}
        left = [p for p in processes_naming(sshd.dir) if p not in sshd_side]
        assert left == [], left
    finally:
        if sshd:
            sshd.stop()
        lvd.stop()


TESTS = {"procs": test_procs, "call": test_call, "mockd": test_mockd, "errors": test_errors,
         "events": test_events, "streams": test_streams, "progress": test_progress,
         "decode": test_decode, "raw": test_raw, "synthetic": test_synthetic,
         "install": test_install, "ssh": test_ssh}

if __name__ == "__main__":
    start = time.time()
    TESTS[GROUP]()
    print("tool.%s: ok (%.1f s)" % (GROUP, time.time() - start))
