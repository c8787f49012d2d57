# SPDX-License-Identifier: LGPL-2.1-or-later
"""Real libvirt clients against our server listening with TLS
(examples/virtwire-mockd --tls, runtime/tls), and our clients beside them.

usage: test_server.py MOCKD VIRTWIRE_LIST [VIRTWIRE_TOOL]

With certificates made by certtool (tests/lib/make-pki), the mock listens
with TLS on a free port, client certificates required and checked against
a DN list ("C=GB,O=virtwire,CN=*"), its unix socket beside:

  - virsh and python3-libvirt over test+tls:// with pkipath= see what they
    see over the unix socket (list, dominfo, a domain started and
    destroyed); so do virtwire-list and the virtwire tool; by host name and
    by IP address (the server certificate holds both);
  - a client certificate whose DN is not on the list, and no client
    certificate at all, are refused: virsh fails, ours fails with libvirt's
    "server verification" message, and the mock says why (libvirt's
    tls_allowed_dn_list message; GnuTLS's "No certificate was found");
  - a second mock with --tls-no-verify (libvirtd's
    tls_no_verify_certificate) lets the client without a certificate in;
  - each mock exits cleanly (status 0, nothing from the sanitizers).
"""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import vwtest  # noqa: E402

MOCKD, LIST = sys.argv[1:3]
TOOL = sys.argv[3] if len(sys.argv) > 3 and sys.argv[3] else None
TIMEOUT = 60


def run(argv, ok=True):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT)
    if ok:
        assert r.returncode == 0, (argv, r.stdout, r.stderr)
    return r


def ours(*argv, ok=True):
    """One of our programs, through the valgrind launcher."""
    return run([vwtest.LAUNCH, *argv], ok=ok)


def rows(out):
    return [line.split() for line in out.strip().splitlines() if line.strip()]


def python_names(uri):
    code = ("import libvirt, sys\n"
            "c = libvirt.open(sys.argv[1])\n"
            "d = c.lookupByName('test')\n"
            "print(sorted(x.name() for x in c.listAllDomains()), d.info()[0], d.UUIDString())\n"
            "c.close()\n")
    return run(["/usr/bin/python3", "-c", code, uri]).stdout.strip()


def main():
    pki = vwtest.make_pki()
    port = vwtest.free_port()
    mockd = vwtest.Daemon(MOCKD, "--tls", str(port), "--pkipath", os.path.join(pki, "srv"),
                          "--tls-allowed-dn", "C=GB,O=virtwire,CN=*", launch=True,
                          timeout=TIMEOUT)
    open_mockd = None
    try:
        tls = "test+tls://localhost:%d/default?pkipath=%s" % (port, os.path.join(pki, "cli"))
        by_ip = "test+tls://127.0.0.1:%d/default?pkipath=%s" % (port, os.path.join(pki, "cli"))
        unix = mockd.uri

        # virsh: the same over TLS as over the unix socket.
        want = vwtest.virsh(unix, "list", "--all").stdout
        for uri in (tls, by_ip):
            assert vwtest.virsh(uri, "list", "--all", timeout=TIMEOUT).stdout == want, uri
        assert (vwtest.virsh(tls, "dominfo", "vm1", timeout=TIMEOUT).stdout ==
                vwtest.virsh(unix, "dominfo", "vm1").stdout)
        vwtest.virsh(tls, "start", "vm1", timeout=TIMEOUT)
        assert "running" in vwtest.virsh(unix, "domstate", "vm1").stdout
        vwtest.virsh(tls, "destroy", "vm1", timeout=TIMEOUT)
        assert "shut off" in vwtest.virsh(unix, "domstate", "vm1").stdout

        # python3-libvirt.
        assert python_names(tls) == python_names(unix)

        # Ours: virtwire-list and the tool.
        want_rows = rows(ours(LIST, unix).stdout)
        assert want_rows and rows(ours(LIST, tls).stdout) == want_rows
        assert rows(ours(LIST, by_ip).stdout) == want_rows
        if TOOL:
            args = '{"name":"test"}'
            a = ours(TOOL, "call", tls, "domain_lookup_by_name", args).stdout
            b = ours(TOOL, "call", unix, "domain_lookup_by_name", args).stdout
            assert a == b and '"test"' in a, (a, b)

        # Refused: a DN not on the list, no certificate.
        for cli, server_says in (("cli-intruder", "Client's Distinguished Name is not on the "
                                  "list of allowed clients (tls_allowed_dn_list)"),
                                 ("cli-nocert", "No certificate was found")):
            uri = "test+tls://localhost:%d/default?pkipath=%s" % (port, os.path.join(pki, cli))
            r = vwtest.virsh(uri, "list", ok=False, timeout=TIMEOUT)
            assert r.returncode != 0, r
            r = ours(LIST, uri, ok=False)
            assert r.returncode != 0, r
            assert "server verification (of our certificate or IP address) failed" in r.stderr, r
            if cli == "cli-nocert":
                assert "we sent no client certificate" in r.stderr, r
        # The server's side of the refusals (its log, after it stopped).
        log = mockd.stop()
        mockd = None
        assert "Client's Distinguished Name is not on the list" in log, log
        assert "Failed to verify peer's certificate: Unable to verify TLS peer: No certificate " \
               "was found." in log, log

        # tls_no_verify_certificate: the client without a certificate is let in.
        port2 = vwtest.free_port()
        open_mockd = vwtest.Daemon(MOCKD, "--tls", str(port2), "--pkipath",
                                   os.path.join(pki, "srv"), "--tls-no-verify", launch=True,
                                   timeout=TIMEOUT)
        uri = "test+tls://localhost:%d/default?pkipath=%s" % (port2,
                                                               os.path.join(pki, "cli-nocert"))
        assert vwtest.virsh(uri, "list", "--all", timeout=TIMEOUT).stdout == want
        assert rows(ours(LIST, uri).stdout) == want_rows
        open_mockd.stop()
        open_mockd = None
    finally:
        for d in (mockd, open_mockd):
            if d:
                d.stop()
        shutil.rmtree(pki, ignore_errors=True)
    print("tls.server: ok")


if __name__ == "__main__":
    main()
