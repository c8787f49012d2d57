#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""libvirtwire_sasl against real peers, each SASL side with a private sasldb
(sasl2-bin's saslpasswd2) and a private SASL configuration (SASL_CONF_PATH):

  ours -> libvirtd 9.0.0   SCRAM-SHA-256 on its unix socket (auth_unix_rw =
                           "sasl"); DIGEST-MD5 on plain TCP (auth_tcp = "sasl")
                           with the security layer on: calls, events and a
                           stream through it, and tshark's libvirt dissector
                           finds no plain XDR past the SASL steps; a wrong
                           password and an unknown user give libvirtd's own
                           error, as virsh reports it; credentials from an
                           auth.conf; the allow-list of the daemon.
  virsh, python3-libvirt -> ours (virtwire-mockd with SASL): the same
                           mechanisms, the security layer with calls, events
                           and a sparse stream (virsh vol-upload --sparse), a
                           user outside the allow-list refused.
  ours -> ours             the sparse stream both ways through the layer.

usage: test_sasl.py SASL_CLIENT VIRTWIRE_MOCKD
"""
import os
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import vwtest  # noqa: E402
from vwtest import Capture, Daemon, Libvirtd, LAUNCH, short_tmpdir, sparse_file  # noqa: E402

CLIENT = MOCKD = None
TIMEOUT = 120
USERS = {"alice": "alicepw", "bob": "bobpw", "eve": "evepw"}
DENIED = "authentication failed: authentication failed"


def sasl_dir():
    """A private SASL configuration (libvirt.conf) and sasldb with USERS."""
    d = short_tmpdir("vw-sasl-")
    with open(os.path.join(d, "libvirt.conf"), "w") as f:
        f.write("mech_list: digest-md5 scram-sha-256\nsasldb_path: %s/passwd.db\n" % d)
    for user, pw in USERS.items():
        subprocess.run(["saslpasswd2", "-p", "-c", "-f", os.path.join(d, "passwd.db"), "-a",
                        "libvirt", user], input=pw + "\n", text=True, check=True, timeout=30)
    return d


def client(uri, *steps, user="alice", password=None, env=None, launch=True):
    e = dict(os.environ)
    e.pop("LIBVIRT_AUTH_FILE", None)
    if user:
        e["VW_SASL_USER"] = user
        e["VW_SASL_PASS"] = password if password is not None else USERS.get(user, "x")
    else:
        e.pop("VW_SASL_USER", None)
        e.pop("VW_SASL_PASS", None)
    e.update(env or {})
    r = subprocess.run(([LAUNCH] if launch else []) + [CLIENT, uri, *steps], env=e,
                       capture_output=True, text=True, timeout=TIMEOUT)
    return r


class Libvirtd9(unittest.TestCase):
    """Our client against libvirtd 9.0.0."""

    @classmethod
    def setUpClass(cls):
        cls.sasl = sasl_dir()
        env = {"SASL_CONF_PATH": cls.sasl, "VIRTWIRE_AUTH_UNIX_RW": "sasl",
               "VIRTWIRE_AUTH_TCP": "sasl", "VIRTWIRE_SASL_ALLOWED": '"alice", "b*"'}
        saved = dict(os.environ)
        os.environ.update(env)
        try:
            cls.d = Libvirtd(tcp=True, prefix="vw-sl-")
        finally:
            os.environ.clear()
            os.environ.update(saved)
        cls.unix = cls.d.uri
        cls.tcp = cls.d.tcp_uri

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        shutil.rmtree(cls.sasl, ignore_errors=True)

    def ok(self, r):
        self.assertEqual(r.returncode, 0, (r.stdout, r.stderr))
        return r.stdout.splitlines()

    def test_scram_unix(self):
        out = self.ok(client(self.unix + "&auth=sasl.SCRAM-SHA-256", "channel", "hostname",
                             "list", "events"))
        self.assertEqual(out[0], "channel unix ssf 0")  # no layer on a secure channel
        self.assertTrue(out[1].startswith("hostname "))
        self.assertEqual(out[2:], ["domains 1", "events 3 4"])

    def test_mechanism_not_offered(self):
        r = client(self.unix + "&auth=sasl.GSSAPI", "hostname")
        self.assertEqual(r.returncode, 3)
        self.assertIn("authentication failed: SASL mechanism GSSAPI not supported by server",
                      r.stdout)

    def test_digest_tcp_layer(self):
        """DIGEST-MD5 on plain TCP: the layer carries calls, events and a
        stream; tshark finds plain XDR only up to the last SASL step."""
        pcap = os.path.join(self.d.dir, "sasl.pcap")
        cap = Capture(self.d.port, pcap)
        try:
            out = self.ok(client(self.tcp, "channel", "hostname", "list", "events",
                                 "screenshot", "fds", "repeat:50"))
        finally:
            cap.stop()
        channel, ssf = out[0].split()[1], int(out[0].split()[3])
        self.assertEqual(channel, "sasl")
        self.assertGreaterEqual(ssf, 56)
        self.assertEqual(out[2:], ["domains 1", "events 3 4", "screenshot 33443 bytes",
                                   "fds VIRTWIRE_EFDPASS", "repeat 50"])
        r = subprocess.run(["tshark", "-r", pcap, "-d", "tcp.port==%d,libvirt" % self.d.port,
                            "-Y", "libvirt", "-T", "fields", "-e", "tcp.stream", "-e",
                            "libvirt.program", "-e", "libvirt.procedure"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        procs = {}
        for line in r.stdout.splitlines():
            stream, prog, proc = (line.split("\t") + ["", ""])[:3]
            for p, q in zip(prog.split(","), proc.split(",")):
                if p and int(p, 0) == vwtest.REMOTE_PROGRAM:
                    procs.setdefault(stream, []).append(int(q))
        main = max(procs.values(), key=len)
        # AUTH_LIST (66), SASL_INIT (67), START (68), STEP (69) calls and
        # replies; nothing of the calls made after them.
        self.assertEqual(set(main), {66, 67, 68, 69}, main)
        payload = subprocess.run(["tshark", "-r", pcap, "-T", "fields", "-e", "tcp.payload"],
                                 capture_output=True, text=True, timeout=60).stdout
        raw = bytes.fromhex(payload.replace(":", "").replace("\n", ""))
        # Neither the domain's name as XDR (events, lookups) nor the
        # screenshot's PNG is in the clear.
        self.assertIn(b"DIGEST-MD5", raw)  # the SASL steps are
        self.assertNotIn(b"\x00\x00\x00\x04test", raw)
        self.assertNotIn(b"\x89PNG", raw)

    def test_init_after_success(self):
        """A second AUTH_SASL_INIT once authenticated: refused, and the
        connection stays authenticated (OurServer checks ours says the
        same)."""
        for uri in (self.unix + "&auth=sasl.SCRAM-SHA-256", self.tcp):
            out = self.ok(client(uri, "init", "list"))
            self.assertEqual(out[0], "init 45 " + DENIED, uri)
            self.assertTrue(out[1].startswith("domains "), out)

    def test_wrong_password_and_unknown_user(self):
        """libvirtd's own error, the one virsh shows."""
        for uri in (self.tcp, self.unix):
            r = client(uri, "hostname", password="wrong")
            self.assertEqual(r.returncode, 3, r.stdout)
            self.assertEqual(r.stdout.strip(), "error VIRTWIRE_EAUTH: " + DENIED)
            r = client(uri, "hostname", user="mallory", password="x")
            self.assertEqual(r.returncode, 3, r.stdout)
            self.assertEqual(r.stdout.strip(), "error VIRTWIRE_EAUTH: " + DENIED)
        # The allow-list: eve has a password but is not on the list.
        r = client(self.unix, "hostname", user="eve")
        self.assertEqual(r.stdout.strip(), "error VIRTWIRE_EAUTH: " + DENIED)
        # virsh says the same.
        conf = os.path.join(self.d.dir, "bad.conf")
        with open(conf, "w") as f:
            f.write("[credentials-t]\nauthname=alice\npassword=wrong\n"
                    "[auth-libvirt-127.0.0.1]\ncredentials=t\n")
        v = subprocess.run(["virsh", "-c", self.tcp, "hostname"], capture_output=True,
                           text=True, timeout=60, env=dict(os.environ, LIBVIRT_AUTH_FILE=conf))
        self.assertIn("error: " + DENIED, v.stderr)

    def test_auth_conf(self):
        conf = os.path.join(self.d.dir, "auth.conf")
        with open(conf, "w") as f:
            f.write("[credentials-t]\nauthname=bob\nusername=bob\npassword=bobpw\n"
                    "[auth-libvirt-127.0.0.1]\ncredentials=t\n"
                    "[credentials-u]\nauthname=alice\npassword=alicepw\n"
                    "[auth-libvirt-default]\ncredentials=u\n")
        out = self.ok(client(self.tcp, "hostname", user=None,
                             env={"LIBVIRT_AUTH_FILE": conf}))
        self.assertTrue(out[0].startswith("hostname "))
        # authfile= in the URI; the unix URI has no host: "localhost", so
        # auth-libvirt-default.
        out = self.ok(client(self.unix + "&authfile=" + conf, "hostname", user=None))
        self.assertTrue(out[0].startswith("hostname "))
        # Nothing anywhere: libvirt's message.
        r = client(self.tcp, "hostname", user=None,
                   env={"XDG_CONFIG_HOME": self.d.dir, "HOME": self.d.dir})
        if not os.access("/etc/libvirt/auth.conf", os.R_OK):
            self.assertIn("authentication failed: No authentication callback available",
                          r.stdout)


class OurServer(unittest.TestCase):
    """virsh and python3-libvirt (and our client) against virtwire-mockd."""

    @classmethod
    def setUpClass(cls):
        cls.sasl = sasl_dir()
        os.environ["SASL_CONF_PATH"] = cls.sasl
        cls.m = Daemon(MOCKD, "--auth-unix", "sasl", "--auth-tcp", "sasl", "--sasl-allow",
                       "alice", "--sasl-allow", "b?b", launch=True, tcp=True, prefix="vw-sm-")
        cls.unix = cls.m.uri
        cls.tcp = "test+tcp://127.0.0.1:%d/default" % cls.m.port
        cls.conf = os.path.join(cls.m.dir, "auth.conf")
        with open(cls.conf, "w") as f:
            f.write("[credentials-t]\nauthname=alice\nusername=alice\npassword=alicepw\n"
                    "[auth-libvirt-default]\ncredentials=t\n")

    @classmethod
    def tearDownClass(cls):
        cls.m.stop()
        shutil.rmtree(cls.sasl, ignore_errors=True)

    def virsh(self, uri, *args, conf=None, ok=True):
        env = dict(os.environ, LIBVIRT_AUTH_FILE=conf or self.conf)
        r = subprocess.run(["virsh", "-c", uri, *args], capture_output=True, text=True,
                           timeout=60, env=env)
        if ok:
            self.assertEqual(r.returncode, 0, (args, r.stdout, r.stderr))
        return r

    def test_virsh_scram_unix(self):
        r = self.virsh(self.unix + "&auth=sasl.SCRAM-SHA-256", "list", "--all")
        self.assertIn("test", r.stdout)

    def test_virsh_digest_tcp_layer(self):
        r = self.virsh(self.tcp, "list", "--all")
        self.assertIn("vm1", r.stdout)
        src = os.path.join(self.m.dir, "src.img")
        dst = os.path.join(self.m.dir, "dst.img")
        sparse_file(src)
        self.virsh(self.tcp, "vol-upload", "--sparse", "--pool", "default", "disk.img", src)
        self.virsh(self.tcp, "vol-download", "--sparse", "--pool", "default", "disk.img", dst)
        with open(src, "rb") as a, open(dst, "rb") as b:
            self.assertEqual(a.read(), b.read())
        self.assertEqual(vwtest.data_and_holes(src), vwtest.data_and_holes(dst))
        r = self.virsh(self.tcp, "domstate", "test")
        self.assertIn("running", r.stdout)

    def test_virsh_refused(self):
        bad = os.path.join(self.m.dir, "eve.conf")
        with open(bad, "w") as f:
            f.write("[credentials-t]\nauthname=eve\npassword=evepw\n"
                    "[auth-libvirt-default]\ncredentials=t\n")
        for uri in (self.unix, self.tcp):
            r = self.virsh(uri, "list", conf=bad, ok=False)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("error: " + DENIED, r.stderr)

    def test_python_libvirt(self):
        code = r"""
import libvirt, sys
def cb(creds, data):
    for c in creds:
        if c[0] in (libvirt.VIR_CRED_AUTHNAME, libvirt.VIR_CRED_USERNAME):
            c[4] = sys.argv[2]
        elif c[0] == libvirt.VIR_CRED_PASSPHRASE:
            c[4] = sys.argv[3]
    return 0
auth = [[libvirt.VIR_CRED_AUTHNAME, libvirt.VIR_CRED_USERNAME, libvirt.VIR_CRED_PASSPHRASE],
        cb, None]
try:
    c = libvirt.openAuth(sys.argv[1], auth, 0)
except libvirt.libvirtError as e:
    print("error", e.get_error_message()); sys.exit(0)
print("domains", len(c.listAllDomains()))
libvirt.virEventRegisterDefaultImpl()
c.close()
"""
        # No auth.conf anywhere: the callback answers.
        env = dict(os.environ, XDG_CONFIG_HOME=self.m.dir)
        env.pop("LIBVIRT_AUTH_FILE", None)
        for uri in (self.unix + "&auth=sasl.SCRAM-SHA-256", self.tcp):
            r = subprocess.run(["/usr/bin/python3", "-c", code, uri, "bob", "bobpw"],
                               capture_output=True, text=True, timeout=60, env=env)
            self.assertEqual(r.stdout.strip(), "domains 3", (uri, r.stdout, r.stderr))
            r = subprocess.run(["/usr/bin/python3", "-c", code, uri, "eve", "evepw"],
                               capture_output=True, text=True, timeout=60, env=env)
            self.assertEqual(r.stdout.strip(), "error " + DENIED, (uri, r.stdout, r.stderr))

    def test_init_after_success(self):
        """As libvirtd 9.0.0 (Libvirtd9.test_init_after_success)."""
        for uri in (self.unix + "&auth=sasl.SCRAM-SHA-256", self.tcp):
            r = client(uri, "init", "list")
            self.assertEqual(r.returncode, 0, (r.stdout, r.stderr))
            out = r.stdout.splitlines()
            self.assertEqual(out[0], "init 45 " + DENIED, uri)
            self.assertTrue(out[1].startswith("domains "), out)

    def test_our_client_through_our_layer(self):
        r = client(self.tcp, "channel", "list", "events", "sparse", "screenshot")
        self.assertEqual(r.returncode, 0, (r.stdout, r.stderr))
        out = r.stdout.splitlines()
        self.assertTrue(out[0].startswith("channel sasl ssf "), out)
        self.assertEqual(out[1:3], ["domains 3", "events 3 4"])
        # the volume is larger than what was uploaded: a hole to its end
        self.assertTrue(out[3].startswith("sparse data 100000 hole 1048576 data 70000"), out)
        self.assertTrue(out[4].startswith("screenshot "), out)
        r = client(self.unix, "channel", "hostname", user="eve")
        self.assertEqual(r.stdout.strip(), "error VIRTWIRE_EAUTH: " + DENIED)


if __name__ == "__main__":
    CLIENT, MOCKD = sys.argv[1], sys.argv[2]
    del sys.argv[1:3]
    unittest.main(verbosity=2)
