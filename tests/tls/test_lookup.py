# SPDX-License-Identifier: LGPL-2.1-or-later
"""Where the TLS client finds its certificates when the URI has no
pkipath=, against libvirt's own client: virsh and virtwire-list run side by
side, as an unprivileged user (setpriv, uid 65534) whose $HOME holds
various ~/.pki/libvirt directories, and as root, which libvirt never lets
look there.  Both must succeed or fail alike, with the same message where
it is about the files.

usage: test_lookup.py VIRTWIRE_LIST

The daemon is a private libvirtd with TLS (server certificate for
localhost); the system's places (/etc/pki/CA/cacert.pem ...) are whatever
this machine has, the same for both clients.
"""
import os
import shutil
import stat
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import vwtest  # noqa: E402

LIST = sys.argv[1]
TIMEOUT = 60
NOBODY = 65534


def readable(path):
    """Every directory and file under path readable by anyone."""
    os.chmod(path, 0o755)
    for root, dirs, files in os.walk(path):
        for d in dirs:
            os.chmod(os.path.join(root, d), 0o755)
        for f in files:
            os.chmod(os.path.join(root, f), 0o644)


def run(argv, home, as_user):
    env = dict(os.environ, HOME=home)
    if as_user:
        argv = ["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups",
                *argv]
    return subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT, env=env)


def both(uri, home, as_user):
    """(virsh, ours): each (ok, message)."""
    v = run(["virsh", "-q", "-c", uri, "hostname"], home, as_user)
    o = run([vwtest.LAUNCH, LIST, uri], home, as_user)
    vmsg = [ln[len("error: "):] for ln in v.stderr.splitlines()
            if ln.startswith("error: ") and "failed to connect" not in ln]
    omsg = o.stderr.strip().split(": ", 1)[1] if ": " in o.stderr else o.stderr.strip()
    return (v.returncode == 0, vmsg[0] if vmsg else ""), (o.returncode == 0, omsg)


def user_dir(base, name, files, pki):
    """base/name/.pki/libvirt holding files ({name in there: source})."""
    home = os.path.join(base, name)
    d = os.path.join(home, ".pki", "libvirt")
    os.makedirs(d)
    for dest, src in files.items():
        shutil.copy(os.path.join(pki, src), os.path.join(d, dest))
    return home


def main():
    pki = vwtest.make_pki()
    lvd = vwtest.Libvirtd(tls_pki=os.path.join(pki, "srv-dns"))
    base = vwtest.short_tmpdir("vw-home-")
    try:
        full = {"cacert.pem": "ca/cacert.pem", "clientcert.pem": "client/clientcert.pem",
                "clientkey.pem": "client/clientkey.pem"}
        homes = {
            "full": user_dir(base, "full", full, pki),
            "crl": user_dir(base, "crl", dict(full, **{"cacrl.pem": "crl.pem"}), pki),
            "no-ca": user_dir(base, "no-ca", {"clientcert.pem": "client/clientcert.pem",
                                              "clientkey.pem": "client/clientkey.pem"}, pki),
            "no-key": user_dir(base, "no-key", {"cacert.pem": "ca/cacert.pem",
                                                "clientcert.pem": "client/clientcert.pem"}, pki),
            "other-ca": user_dir(base, "other-ca", dict(full, **{"cacert.pem":
                                                                 "otherca/cacert.pem"}), pki),
        }
        readable(base)
        readable(pki)
        uri = lvd.tls_uri
        system_ca = "/etc/pki/CA/cacert.pem"
        # (home, as the user?, expected to succeed?, words both messages hold)
        cases = [
            ("full", True, True, None),
            ("crl", True, True, None),
            # No CA in the user's directory: the system's, which must exist.
            ("no-ca", True, os.path.exists(system_ca) and None,
             None if os.path.exists(system_ca) else "Cannot read CA certificate '%s'" % system_ca),
            # The certificate without its key: neither is taken from there.
            ("no-key", True, os.path.exists("/etc/pki/libvirt/clientcert.pem") and None, None),
            ("other-ca", True, False, "Our own certificate"),
            # root never looks in $HOME/.pki/libvirt.
            ("full", False, os.path.exists(system_ca) and None, None),
        ]
        for home, as_user, want_ok, words in cases:
            (vok, vmsg), (ook, omsg) = both(uri, homes[home], as_user)
            what = (home, "user" if as_user else "root", vmsg, omsg)
            assert vok == ook, what
            if want_ok is not None:
                assert ook == want_ok, what
            if words:
                assert words in vmsg and words in omsg, what
            if not ook and ("Cannot read" in vmsg or "Our own certificate" in vmsg):
                assert vmsg == omsg, what  # libvirt's words about the files, exactly
            if home == "no-key" and not ook:
                assert "we sent no client certificate (none at " \
                       "/etc/pki/libvirt/clientcert.pem)" in omsg, what
            if home == "full" and not as_user and not ook and not os.path.exists(system_ca):
                assert vmsg == omsg == "Cannot read CA certificate '%s': No such file or " \
                                       "directory" % system_ca, what
            # pkipath= wins over the user's directory.
        (vok, _), (ook, omsg) = both(uri + "?pkipath=" + os.path.join(pki, "cli"),
                                     homes["other-ca"], True)
        assert vok and ook, omsg
    finally:
        lvd.stop()
        shutil.rmtree(base, ignore_errors=True)
        shutil.rmtree(pki, ignore_errors=True)
    print("tls.lookup: ok")


if __name__ == "__main__":
    main()
