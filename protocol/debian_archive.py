# SPDX-License-Identifier: LGPL-2.1-or-later
"""Debian's archive as a verified source of libvirt's release tarballs.

Used by protocol/fetch-libvirt and protocol/libvirt-release. Everything that
is downloaded is checked along the archive's own chain of trust, without the
source package's .dsc (which some mirrors lack):

  1. apt-get update, with a private sources list, state and cache, fetches
     dists/SUITE/InRelease and the deb-src index main/source/Sources (apt
     checks the signature and the index's hashes itself);
  2. gpgv checks InRelease's signature again against Debian's archive
     keyring, and the signed text gives the sha256 and size of the
     uncompressed main/source/Sources;
  3. the index apt stored is decompressed (apt-helper cat-file) and must
     have exactly that sha256 and size;
  4. the index's stanza for the source package gives the sha256 and size of
     its orig tarball; apt-helper download-file fetches the tarball with
     that sha256 (apt checks it), and it is checked once more here.

A Valid-Until date in the past is reported, not fatal: the signature and
hashes still hold, and fetch-libvirt checks every file against
protocol/manifest.tsv in the end. Needs root (apt's state directories), the
archive keyring and apt's tools, as on every Debian system.

The archive's URI is never written in the project: it comes from
VIRTWIRE_DEBIAN_MIRROR or from the machine's apt sources.
"""

import datetime
import email.utils
import hashlib
import os
import re
import shutil
import subprocess
import sys

APT_SOURCE_FILES = ("/etc/apt/sources.list.d/debian.sources",
                    "/etc/apt/sources.list")
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
APT_HELPER = "/usr/lib/apt/apt-helper"
SOURCES_PATH = "main/source/Sources"


class ArchiveError(Exception):
    pass


def log(msg):
    print("%s: %s" % (os.path.basename(sys.argv[0]), msg), file=sys.stderr)


# ---------------------------------------------------------------- mirror

def parse_deb822_uris(text):
    """Yield (types, uris, suites) for each stanza of a deb822 file."""
    for stanza in re.split(r"\n\s*\n", text):
        fields = {}
        key = None
        for line in stanza.splitlines():
            if line.startswith("#"):
                continue
            if line[:1] in (" ", "\t") and key:
                fields[key] += " " + line.strip()
                continue
            mo = re.match(r"([A-Za-z-]+):\s*(.*)$", line)
            if mo:
                key = mo.group(1).lower()
                fields[key] = mo.group(2).strip()
        if "uris" in fields:
            if fields.get("enabled", "yes").lower() == "no":
                continue
            yield (fields.get("types", "").split(),
                   fields["uris"].split(),
                   fields.get("suites", "").split())


def parse_one_line_uris(text):
    """Yield (types, uris, suites) for each line of a sources.list file."""
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        line = re.sub(r"\[[^\]]*\]", " ", line)
        words = line.split()
        if len(words) >= 3 and words[0] in ("deb", "deb-src"):
            yield ([words[0]], [words[1]], [words[2]])


def debian_mirror():
    """The archive URI: $VIRTWIRE_DEBIAN_MIRROR, else the machine's."""
    env = os.environ.get("VIRTWIRE_DEBIAN_MIRROR")
    if env:
        return env.strip()
    for path in APT_SOURCE_FILES:
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except OSError:
            continue
        parse = (parse_deb822_uris if path.endswith(".sources")
                 else parse_one_line_uris)
        for types, uris, suites in parse(text):
            if not ({"deb", "deb-src"} & set(types)):
                continue
            # The main archive carries plain codenames (no "-security",
            # "-updates"...); the security archive has its own URI.
            if not any("-" not in s and "/" not in s for s in suites):
                continue
            for uri in uris:
                if re.match(r"(https?|ftp|file|mirror\+\w+)://", uri):
                    return uri
    raise ArchiveError(
        "no Debian archive URI found in %s; set VIRTWIRE_DEBIAN_MIRROR to "
        "the archive URI (the value apt uses in 'URIs:'), or use --from / "
        "--tarball" % " or ".join(APT_SOURCE_FILES))


# ---------------------------------------------------------------- versions

def upstream_version(pkgversion):
    """'libvirt=1:9.0.0-4+deb12u2' -> ('libvirt', '9.0.0')."""
    name, sep, ver = pkgversion.partition("=")
    if not sep:
        name, ver = "libvirt", pkgversion
    ver = ver.split(":", 1)[-1]
    if "-" in ver:
        ver = ver.rsplit("-", 1)[0]
    return name, ver


def debian_version_newer(a, b):
    """True when Debian version a sorts after b (dpkg --compare-versions)."""
    try:
        return subprocess.run(["dpkg", "--compare-versions", a, "gt", b],
                              stdin=subprocess.DEVNULL).returncode == 0
    except OSError as e:
        raise ArchiveError("cannot run dpkg: %s" % e)


def release_key(release):
    """'12.9.0' -> (12, 9, 0), for ordering upstream releases."""
    return tuple(int(x) for x in release.split("."))


# ---------------------------------------------------------------- apt

class Archive:
    """A private apt state for the deb-src indexes of some suites."""

    def __init__(self, workdir, suites, mirror=None):
        self.mirror = mirror or debian_mirror()
        if not re.match(r"(https?|ftp|file)://", self.mirror):
            raise ArchiveError("archive URI %s: only http, https, ftp and file "
                               "URIs are supported here; set "
                               "VIRTWIRE_DEBIAN_MIRROR" % self.mirror)
        for tool in ("apt-get", "gpgv"):
            if not shutil.which(tool):
                raise ArchiveError("%s not found (Debian's apt and gpgv "
                                   "packages)" % tool)
        if not os.path.isfile(KEYRING):
            raise ArchiveError("%s not found (debian-archive-keyring)"
                               % KEYRING)
        self.suites = list(suites)
        self.workdir = workdir
        state = os.path.join(workdir, "apt")
        self.lists = os.path.join(state, "lists")
        cache = os.path.join(state, "cache")
        os.makedirs(os.path.join(self.lists, "partial"), exist_ok=True)
        os.makedirs(os.path.join(cache, "archives", "partial"), exist_ok=True)
        srcfile = os.path.join(state, "virtwire-libvirt.sources")
        with open(srcfile, "w", encoding="utf-8") as f:
            f.write("Types: deb-src\nURIs: %s\nSuites: %s\nComponents: main\n"
                    "Signed-By: %s\n" % (self.mirror, " ".join(self.suites),
                                         KEYRING))
        self.opts = ["-o", "Dir::Etc::SourceList=/dev/null",
                     "-o", "Dir::Etc::SourceParts=/dev/null",
                     "-o", "Dir::Etc::sourcelist=" + srcfile,
                     "-o", "Dir::State::Lists=" + self.lists,
                     "-o", "Dir::Cache=" + cache,
                     "-o", "APT::Sandbox::User=root",
                     "-o", "Acquire::Languages=none"]
        self.indexes = {}  # suite -> [stanza dict]

    def _run(self, argv):
        try:
            return subprocess.run(argv, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT,
                                  universal_newlines=True)
        except OSError as e:
            raise ArchiveError("cannot run %s: %s" % (argv[0], e))

    def update(self):
        """apt-get update for the suites; then check each suite's chain."""
        log("reading the deb-src indexes of %s from %s"
            % (", ".join(self.suites), self.mirror))
        r = self._run(["apt-get"] + self.opts + ["update"])
        if r.returncode != 0:
            raise ArchiveError("apt-get update failed (exit %d; needs root or "
                               "equivalent):\n%s" % (r.returncode, r.stdout))
        for suite in self.suites:
            self.indexes[suite] = self._verified_index(suite)

    def _list_file(self, suffix):
        """The file apt stored for URI path dists/<suffix> (any compression)."""
        uri = re.sub(r"^[a-z+]+://", "", self.mirror).rstrip("/")
        base = (uri + "/dists/" + suffix).replace("/", "_")
        for name in sorted(os.listdir(self.lists)):
            if name == base or (name.startswith(base + ".") and
                                "." not in name[len(base) + 1:]):
                return os.path.join(self.lists, name)
        return None

    def _verified_index(self, suite):
        inrelease = self._list_file(suite + "/InRelease")
        if not inrelease:
            raise ArchiveError("apt-get update stored no InRelease for suite "
                               "%s (does the archive carry it?)" % suite)
        r = subprocess.run(["gpgv", "--keyring", KEYRING, "--output", "-",
                            inrelease], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if r.returncode != 0:
            raise ArchiveError("gpgv refused the signature of %s's InRelease:\n%s"
                               % (suite, r.stderr.decode("utf-8", "replace")))
        release = r.stdout.decode("utf-8", "replace")
        fields = parse_stanzas(release)[0] if release.strip() else {}
        until = fields.get("Valid-Until")
        if until:
            try:
                when = email.utils.parsedate_to_datetime(until)
                if when < datetime.datetime.now(datetime.timezone.utc):
                    log("warning: %s's InRelease expired on %s (signature and "
                        "hashes still checked)" % (suite, until))
            except (TypeError, ValueError):
                log("warning: %s's InRelease has an unreadable Valid-Until: %s"
                    % (suite, until))
        want = None
        for line in fields.get("SHA256", "").splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[2] == SOURCES_PATH:
                want = (parts[0], int(parts[1]))
        if not want:
            raise ArchiveError("%s's signed InRelease lists no sha256 for %s"
                               % (suite, SOURCES_PATH))
        stored = self._list_file(suite + "/" + SOURCES_PATH)
        if not stored:
            raise ArchiveError("apt-get update stored no %s for suite %s"
                               % (SOURCES_PATH, suite))
        data = self._cat(stored)
        got = (hashlib.sha256(data).hexdigest(), len(data))
        if got != want:
            raise ArchiveError("%s of %s: sha256 %s size %d, the signed "
                               "InRelease says %s size %d"
                               % (SOURCES_PATH, suite, got[0], got[1],
                                  want[0], want[1]))
        return parse_stanzas(data.decode("utf-8", "replace"))

    def _cat(self, path):
        if not os.path.exists(APT_HELPER):
            raise ArchiveError("%s not found (apt)" % APT_HELPER)
        r = subprocess.run([APT_HELPER] + self.opts + ["cat-file", path],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
        if r.returncode != 0:
            raise ArchiveError("apt-helper cat-file %s failed: %s"
                               % (path, r.stderr.decode("utf-8", "replace")))
        return r.stdout

    def versions(self, package="libvirt"):
        """[(suite, debian_version)] of PACKAGE in the verified indexes."""
        out = []
        for suite in self.suites:
            for st in self.indexes.get(suite, []):
                if st.get("Package") == package and "Version" in st:
                    out.append((suite, st["Version"]))
        return out

    def newest(self, package="libvirt"):
        """(suite, debian_version) of the newest PACKAGE, or None."""
        found = self.versions(package)
        if not found:
            return None
        best = found[0]
        for sv in found[1:]:
            if debian_version_newer(sv[1], best[1]):
                best = sv
        return best

    def orig(self, suite, package, version):
        """(pool path, sha256, size) of the orig tarball of package=version
        in SUITE's verified index."""
        for st in self.indexes.get(suite, []):
            if st.get("Package") != package or st.get("Version") != version:
                continue
            _, upstream = upstream_version("%s=%s" % (package, version))
            name = "%s_%s.orig.tar.xz" % (package, upstream)
            for line in st.get("Checksums-Sha256", "").splitlines():
                parts = line.split()
                if len(parts) == 3 and parts[2] == name:
                    return (st.get("Directory", "") + "/" + name, parts[0],
                            int(parts[1]))
            raise ArchiveError("%s=%s in %s lists no %s"
                               % (package, version, suite, name))
        raise ArchiveError("suite %s has no source package %s=%s (it has: %s)"
                           % (suite, package, version,
                              ", ".join(v for s, v in self.versions(package)
                                        if s == suite) or "none"))

    def download_orig(self, suite, package, version, dest_dir):
        """Download the orig tarball into DEST_DIR, checked against the
        verified index; return its path."""
        path, sha, size = self.orig(suite, package, version)
        target = os.path.join(dest_dir, os.path.basename(path))
        uri = self.mirror.rstrip("/") + "/" + path
        log("downloading %s (%d bytes, sha256 %s from %s's signed index)"
            % (os.path.basename(path), size, sha, suite))
        r = self._run([APT_HELPER] + self.opts +
                      ["download-file", uri, target, "SHA256:" + sha])
        if r.returncode != 0 or not os.path.isfile(target):
            raise ArchiveError(
                "the archive did not deliver %s (apt-helper exit %d):\n%s\n"
                "The signed index lists it, but this mirror does not serve "
                "it; point VIRTWIRE_DEBIAN_MIRROR at a mirror that does, or "
                "pass the release tarball with --tarball (it is checked "
                "against the same signed sha256)"
                % (uri, r.returncode, r.stdout.strip()))
        check_file(target, sha, size, "%s's signed index" % suite)
        return target


def check_file(path, sha, size, what):
    h = hashlib.sha256()
    n = 0
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
            n += len(block)
    if (h.hexdigest(), n) != (sha, size):
        raise ArchiveError("%s: sha256 %s size %d, %s says %s size %d"
                           % (path, h.hexdigest(), n, what, sha, size))


def parse_stanzas(text):
    """Parse deb822 text into a list of {field: value} (continuation lines
    joined with newlines, their leading blank removed)."""
    out = []
    cur = {}
    key = None
    for line in text.splitlines():
        if not line.strip():
            if cur:
                out.append(cur)
            cur, key = {}, None
            continue
        if line[0] in " \t" and key:
            cur[key] += "\n" + line.strip()
            continue
        mo = re.match(r"([^:\s]+):\s?(.*)$", line)
        if mo:
            key = mo.group(1)
            cur[key] = mo.group(2).strip()
    if cur:
        out.append(cur)
    return out
