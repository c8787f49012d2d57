#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""libvirtwire_sasl with GSSAPI (Kerberos 5) against a private MIT Kerberos
realm that the test makes and tears down itself: a KDC database, principals
and keytabs made with kdb5_util and kadmin.local in a private directory
(KRB5_CONFIG, KRB5_KDC_PROFILE, KRB5CCNAME, KRB5_KTNAME all point there),
krb5kdc started on a free loopback port and stopped by its pid.

  ours, virsh -> libvirtd 9.0.0   auth_tcp = "sasl", GSSAPI only in its
                                  SASL configuration, keytab for
                                  libvirt/localhost: calls, events and a
                                  stream through GSSAPI's security layer;
                                  without a ticket, the same error as virsh
  virsh, python3-libvirt, ours -> ours (virtwire-mockd)
                                  the same, and a principal outside the
                                  allow-list refused

It prints how long the realm took to set up (CI logs keep it).

usage: test_gssapi.py SASL_CLIENT VIRTWIRE_MOCKD
"""
import contextlib
import os
import shutil
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from vwtest import Daemon, Libvirtd, LAUNCH, free_port, short_tmpdir  # noqa: E402

CLIENT = MOCKD = None
REALM = "VIRTWIRE.TEST"
DENIED = "authentication failed: authentication failed"
TOOLS = ("krb5kdc", "kdb5_util", "kadmin.local", "kinit")


def tool(name):
    for d in ("/usr/sbin", "/usr/bin", "/sbin", "/bin"):
        if os.access(os.path.join(d, name), os.X_OK):
            return os.path.join(d, name)
    raise AssertionError("%s not found: tests/install-deps installs krb5-kdc, "
                         "krb5-admin-server, krb5-user and libsasl2-modules-gssapi-mit" % name)


class Realm:
    """A private Kerberos realm: its KDC on a free port, a keytab for the
    service libvirt/localhost and one per user, each user's ticket cache."""

    def __init__(self, users):
        t0 = time.monotonic()
        self.dir = short_tmpdir("vw-krb-")
        d, self.port = self.dir, free_port()
        with open(os.path.join(d, "krb5.conf"), "w") as f:
            # No DNS; the name in the URI (localhost) is the service's host
            # as is; the acceptor takes any key of its keytab whatever the
            # machine's host name (Cyrus SASL's server names itself by it).
            f.write("[libdefaults]\n default_realm = %s\n dns_lookup_realm = false\n"
                    " dns_lookup_kdc = false\n dns_canonicalize_hostname = false\n"
                    " rdns = false\n ignore_acceptor_hostname = true\n"
                    " udp_preference_limit = 1\n"
                    "[realms]\n %s = {\n  kdc = 127.0.0.1:%d\n }\n"
                    "[domain_realm]\n localhost = %s\n" % (REALM, REALM, self.port, REALM))
        with open(os.path.join(d, "kdc.conf"), "w") as f:
            f.write("[kdcdefaults]\n kdc_listen = 127.0.0.1:%d\n kdc_tcp_listen = 127.0.0.1:%d\n"
                    "[realms]\n %s = {\n  database_name = %s/principal\n"
                    "  key_stash_file = %s/stash\n  acl_file = %s/kadm5.acl\n"
                    "  supported_enctypes = aes256-cts-hmac-sha1-96:normal\n }\n"
                    "[logging]\n kdc = FILE:%s/kdc.log\n" % (self.port, self.port, REALM, d, d,
                                                              d, d))
        self.env = {"KRB5_CONFIG": os.path.join(d, "krb5.conf"),
                    "KRB5_KDC_PROFILE": os.path.join(d, "kdc.conf")}
        env = dict(os.environ, **self.env)
        self.keytab = os.path.join(d, "libvirt.keytab")

        def run(*argv):
            subprocess.run(argv, env=env, check=True, capture_output=True, timeout=60)

        run(tool("kdb5_util"), "create", "-s", "-r", REALM, "-P", "master-" + str(os.getpid()))
        queries = ["addprinc -randkey libvirt/localhost", "ktadd -k %s libvirt/localhost" % self.keytab]
        for u in users:
            queries += ["addprinc -randkey %s" % u,
                        "ktadd -k %s/%s.keytab %s" % (d, u, u)]
        for q in queries:
            run(tool("kadmin.local"), "-r", REALM, "-q", q)
        self.kdc = subprocess.Popen([tool("krb5kdc"), "-n", "-r", REALM], env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.caches = {}
        for u in users:
            cache = os.path.join(d, "ccache." + u)
            for _ in range(100):
                r = subprocess.run([tool("kinit"), "-k", "-t", "%s/%s.keytab" % (d, u), u],
                                   env=dict(env, KRB5CCNAME="FILE:" + cache),
                                   capture_output=True, timeout=30)
                if r.returncode == 0:
                    break
                assert self.kdc.poll() is None, "krb5kdc exited: " + self.log()
                time.sleep(0.05)
            assert r.returncode == 0, r.stderr
            self.caches[u] = "FILE:" + cache
        self.setup_seconds = time.monotonic() - t0

    def log(self):
        try:
            with open(os.path.join(self.dir, "kdc.log")) as f:
                return f.read()
        except OSError:
            return ""

    def client_env(self, user):
        """The environment of a client with user's ticket (None: none)."""
        e = dict(os.environ, **self.env)
        e["KRB5CCNAME"] = self.caches[user] if user else "FILE:" + os.path.join(self.dir, "none")
        e.pop("LIBVIRT_AUTH_FILE", None)
        return e

    def stop(self):
        self.kdc.terminate()
        self.kdc.wait(timeout=20)
        shutil.rmtree(self.dir, ignore_errors=True)


def sasl_conf(realm):
    """A SASL configuration offering GSSAPI only."""
    d = short_tmpdir("vw-gss-")
    with open(os.path.join(d, "libvirt.conf"), "w") as f:
        f.write("mech_list: gssapi\nkeytab: %s\n" % realm.keytab)
    return d


def server_env(realm, conf):
    """What a daemon needs: the realm, its keytab, the SASL configuration."""
    return dict(realm.env, KRB5_KTNAME="FILE:" + realm.keytab, SASL_CONF_PATH=conf)


@contextlib.contextmanager
def server_environ(realm, conf, **extra):
    """os.environ with server_env (and extra) while a daemon starts, as it
    was afterwards."""
    saved = dict(os.environ)
    os.environ.update(server_env(realm, conf), **extra)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def ours(realm, user, uri, *steps):
    return subprocess.run([LAUNCH, CLIENT, uri, *steps], env=realm.client_env(user),
                          capture_output=True, text=True, timeout=120)


def virsh(realm, user, uri, *args):
    return subprocess.run(["virsh", "-c", uri, *args], env=realm.client_env(user),
                          capture_output=True, text=True, timeout=60)


class GssapiBase(unittest.TestCase):
    realm = None

    @classmethod
    def setUpClass(cls):
        cls.realm = Realm(["alice", "bob"])
        print("\nKerberos realm ready in %.2f s" % cls.realm.setup_seconds, file=sys.stderr)
        cls.conf = sasl_conf(cls.realm)

    @classmethod
    def tearDownClass(cls):
        cls.realm.stop()
        shutil.rmtree(cls.conf, ignore_errors=True)

    def ok(self, r):
        self.assertEqual(r.returncode, 0, (r.stdout, r.stderr))
        return r.stdout.splitlines()


class Libvirtd9(GssapiBase):
    """Our client and virsh against libvirtd 9.0.0 with GSSAPI."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with server_environ(cls.realm, cls.conf, VIRTWIRE_AUTH_TCP="sasl",
                            VIRTWIRE_SASL_ALLOWED='"alice"'):
            cls.d = Libvirtd(tcp=True, prefix="vw-gl-")
        cls.uri = "test+tcp://localhost:%d/default" % cls.d.port

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        super().tearDownClass()

    def test_ours_and_virsh(self):
        out = self.ok(ours(self.realm, "alice", self.uri, "channel", "hostname", "list",
                           "events", "screenshot", "fds"))
        name, ssf = out[0].split()[1], int(out[0].split()[3])
        self.assertEqual(name, "sasl")  # GSSAPI's layer on plain TCP
        self.assertGreaterEqual(ssf, 56)
        self.assertEqual(out[2:], ["domains 1", "events 3 4", "screenshot 33443 bytes",
                                   "fds VIRTWIRE_EFDPASS"])
        v = self.ok(virsh(self.realm, "alice", self.uri, "hostname"))
        self.assertEqual(out[1], "hostname " + v[0])
        # auth=sasl.GSSAPI asks for it by name.
        out = self.ok(ours(self.realm, "alice", self.uri + "?auth=sasl.GSSAPI", "list"))
        self.assertEqual(out, ["domains 1"])

    def test_refused(self):
        # bob has a ticket but is not on sasl_allowed_username_list.
        r = ours(self.realm, "bob", self.uri, "hostname")
        self.assertEqual((r.returncode, r.stdout.strip()), (3, "error VIRTWIRE_EAUTH: " + DENIED))
        self.assertIn("error: " + DENIED, virsh(self.realm, "bob", self.uri, "hostname").stderr)

    def test_no_ticket(self):
        """Without a ticket, libvirt's message with GSSAPI's reason, as virsh
        prints it."""
        r = ours(self.realm, None, self.uri, "hostname")
        self.assertEqual(r.returncode, 3, (r.stdout, r.stderr))
        msg = r.stdout.strip()[len("error VIRTWIRE_EAUTH: "):]
        self.assertTrue(r.stdout.startswith("error VIRTWIRE_EAUTH: authentication failed: "
                                            "Failed to start SASL negotiation: "), r.stdout)
        v = virsh(self.realm, None, self.uri, "hostname")
        self.assertIn("error: " + msg, v.stderr)


class OurServer(GssapiBase):
    """virsh, python3-libvirt and our client against virtwire-mockd with
    GSSAPI."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with server_environ(cls.realm, cls.conf):
            cls.m = Daemon(MOCKD, "--auth-tcp", "sasl", "--sasl-allow", "alice", launch=True,
                           tcp=True, prefix="vw-gm-")
        cls.uri = "test+tcp://localhost:%d/default" % cls.m.port

    @classmethod
    def tearDownClass(cls):
        cls.m.stop()
        super().tearDownClass()

    def test_virsh(self):
        out = self.ok(virsh(self.realm, "alice", self.uri, "list", "--all"))
        self.assertIn("vm1", "\n".join(out))
        self.assertIn("error: " + DENIED, virsh(self.realm, "bob", self.uri, "list").stderr)

    def test_python_libvirt(self):
        code = ("import libvirt, sys\n"
                "try:\n    c = libvirt.openAuth(sys.argv[1], [[], None, None], 0)\n"
                "except libvirt.libvirtError as e:\n"
                "    print('error', e.get_error_message()); sys.exit(0)\n"
                "print('domains', len(c.listAllDomains()))\nc.close()\n")
        for user, want in (("alice", "domains 3"), ("bob", "error " + DENIED)):
            r = subprocess.run(["/usr/bin/python3", "-c", code, self.uri],
                               env=self.realm.client_env(user), capture_output=True, text=True,
                               timeout=60)
            self.assertEqual(r.stdout.strip(), want, (user, r.stdout, r.stderr))

    def test_ours(self):
        out = self.ok(ours(self.realm, "alice", self.uri, "channel", "list", "sparse"))
        self.assertTrue(out[0].startswith("channel sasl ssf "), out)
        self.assertEqual(out[1], "domains 3")
        self.assertTrue(out[2].startswith("sparse data 100000 hole 1048576 data 70000"), out)


if __name__ == "__main__":
    CLIENT, MOCKD = sys.argv[1], sys.argv[2]
    del sys.argv[1:3]
    unittest.main(verbosity=2)
