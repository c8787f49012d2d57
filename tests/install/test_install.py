#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The installed package.

Installs the build tree with `cmake --install --prefix` into a temporary
directory and checks what is there: headers, static and shared libraries
(SONAMEs, dependencies, only the public API exported), the generator (it
finds its package and tables), the CMake package and the pkg-config files.
Then builds consumer projects against the prefix, one with find_package()
and virtwire_generate() (consumer-cmake), one with pkg-config and make
(consumer-pkgconfig); each runs the nfslike round trip and calls a private
libvirtd, whose answers are compared with python3-libvirt's.  A third, in
C++ (consumer-cxx), includes every installed header as C++17 and as C++20
and calls the daemon too.  The CMake consumer also checks that the generated code
is rebuilt when the .x file or the installed generator changes.

Environment (tests/install/CMakeLists.txt sets it): VW_BUILD_DIR,
VW_SOURCE_DIR, VW_CMAKE, VW_CMAKE_GENERATOR, VW_CC, VW_CXX, VW_SANITIZE, VW_LIBDIR,
VW_VERSION, VW_SOVERSION, VW_LIBVIRT_VERSION, VW_GENERATED_DIR (the
build's libvirt bindings) and VW_NFSLIKE_GENERATED (the tree's
virtwire_generate() output for nfslike.x).
"""

import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from vwtest import Libvirtd, make_pki  # noqa: E402

PY_LIBVIRT = "/usr/bin/python3"  # Debian's interpreter, where python3-libvirt lives
ENV = os.environ

sys.path.insert(0, os.path.join(REPO, "generator"))
from virtwire_gen.libvirt import module_names  # noqa: E402

# library -> the library of ours it is linked against directly
LIBS = {
    "virtwire": None,
    "virtwire_virnet": "virtwire",
    "virtwire_libvirt": "virtwire_virnet",
    "virtwire_transport": "virtwire_virnet",
    "virtwire_conn": "virtwire_transport",
    "virtwire_client": "virtwire_conn",
    "virtwire_server": "virtwire_conn",
    "virtwire_session": "virtwire_server",
}
PC_FILES = ["virtwire", "virtwire-virnet", "virtwire-libvirt", "virtwire-transport",
            "virtwire-conn", "virtwire-client", "virtwire-server", "virtwire-session"]
# libvirtwire_tls, when the build has it (GnuTLS found).
HAVE_TLS = ENV.get("VW_HAVE_TLS") == "ON"
if HAVE_TLS:
    LIBS["virtwire_tls"] = "virtwire_conn"
    PC_FILES.append("virtwire-tls")
# What the consumer projects take from tests/install/.
CONSUMER_FILES = ["nfslike.x", "nfslike_virtwire.c", "nfslike_cases.h", "nfslike_bytes.h",
                  "libversion.c"]


def run(cmd, timeout=240, **kw):
    """Runs cmd; fails the test with its output if it fails."""
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    if p.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} exited {p.returncode}\n{p.stdout}\n{p.stderr}")
    return p


def readelf_dynamic(path):
    """(SONAME or None, [NEEDED...], [RUNPATH/RPATH entries...])."""
    out = run(["readelf", "-d", path]).stdout
    soname = re.findall(r"\(SONAME\)\s+Library soname: \[(.*)\]", out)
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[(.*)\]", out)
    paths = re.findall(r"\((?:RUNPATH|RPATH)\)\s+Library r(?:un)?path: \[(.*)\]", out)
    return (soname[0] if soname else None, needed,
            [p for entry in paths for p in entry.split(":")])


def exported(path):
    """Names of the symbols a shared library defines and exports (linker
    and compiler symbols, which start with '_', left out)."""
    out = run(["nm", "-D", "--defined-only", path]).stdout
    names = {line.split()[-1].split("@")[0] for line in out.splitlines() if line.strip()}
    return {n for n in names if not n.startswith("_")}


def archive_globals(path):
    """Names of the external symbols an archive defines."""
    out = run(["nm", "-g", "--defined-only", path]).stdout
    names = {parts[2] for parts in (line.split() for line in out.splitlines()) if len(parts) == 3}
    return {n for n in names if not n.startswith("_")}


class InstalledPackage(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="vw-install-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, ignore_errors=True)
        cls.prefix = os.path.join(cls.tmp, "prefix")
        run([ENV["VW_CMAKE"], "--install", ENV["VW_BUILD_DIR"], "--prefix", cls.prefix])
        cls.libdir = os.path.join(cls.prefix, ENV["VW_LIBDIR"])
        cls.incdir = os.path.join(cls.prefix, "include", "virtwire")
        cls.gen = os.path.join(cls.prefix, "bin", "virtwire-gen")
        cls.sov = ENV["VW_SOVERSION"]
        san = ENV.get("VW_SANITIZE", "")
        cls.san_flags = [f"-fsanitize={san}", "-fno-omit-frame-pointer"] if san else []

        cls.pki = None
        if HAVE_TLS:
            cls.pki = make_pki()
            cls.addClassCleanup(shutil.rmtree, cls.pki, True)
        cls.lvd = Libvirtd(timeout=60, tls_pki=cls.pki and os.path.join(cls.pki, "srv"))
        cls.addClassCleanup(cls.lvd.stop)
        cls.uri = cls.lvd.uri
        cls.tls_uri = cls.pki and "%s?pkipath=%s" % (cls.lvd.tls_uri,
                                                      os.path.join(cls.pki, "cli"))
        ref = run([PY_LIBVIRT, "-c", "import libvirt, sys; "
                   "print(libvirt.open(sys.argv[1]).getLibVersion())", cls.uri])
        cls.expected_client_output = (f"libvirt version: {int(ref.stdout)}\n"
                                      "lookup: code=42 domain=12\n")

    def consumer_dir(self, name):
        """A copy of tests/install/NAME with the files it uses."""
        dest = os.path.join(self.tmp, name)
        shutil.copytree(os.path.join(HERE, name), dest)
        for f in CONSUMER_FILES:
            shutil.copy(os.path.join(HERE, f), dest)
        return dest

    def check_client(self, exe, uri=None):
        out = run([exe, uri or self.uri], timeout=60).stdout
        self.assertEqual(out, self.expected_client_output)

    def check_roundtrip(self, exe):
        out = run([exe], timeout=60).stdout
        self.assertRegex(out, r"^nfslike \(virtwire\): \d+ checks, 0 failed\n$")

    # -- what is installed ----------------------------------------------------

    def test_headers(self):
        want = {os.path.basename(h)
                for h in glob.glob(os.path.join(REPO, "runtime", "*", "virtwire_*.h"))
                if not h.endswith("_internal.h") and (HAVE_TLS or "/tls/" not in h)}
        want |= {m + s + ".h" for m in module_names() for s in ("", "_client", "_server")}
        want |= {"libvirt_protocols.h", "libvirt_constants.h"}
        self.assertEqual(set(os.listdir(self.incdir)), want)
        # the generated headers are the build's
        for m in ("remote_protocol.h", "virnetprotocol_client.h", "libvirt_protocols.h",
                  "libvirt_constants.h"):
            with open(os.path.join(self.incdir, m), "rb") as a, \
                 open(os.path.join(ENV["VW_GENERATED_DIR"], m), "rb") as b:
                self.assertEqual(a.read(), b.read(), m)

    def test_files(self):
        for rel in ["bin/virtwire-gen",
                    f"{ENV['VW_LIBDIR']}/cmake/virtwire/virtwireConfig.cmake",
                    f"{ENV['VW_LIBDIR']}/cmake/virtwire/virtwireConfigVersion.cmake",
                    f"{ENV['VW_LIBDIR']}/cmake/virtwire/virtwireTargets.cmake",
                    f"{ENV['VW_LIBDIR']}/cmake/virtwire/VirtwireGenerate.cmake",
                    "share/virtwire/generator/virtwire_gen/cli.py",
                    "share/virtwire/protocol/constants.tsv",
                    "share/virtwire/protocol/overrides.tsv",
                    "share/virtwire/protocol/events.tsv"]:
            self.assertTrue(os.path.isfile(os.path.join(self.prefix, rel)), rel)
        self.assertTrue(os.access(self.gen, os.X_OK))
        for pc in PC_FILES:
            self.assertTrue(os.path.isfile(os.path.join(self.libdir, "pkgconfig", pc + ".pc")), pc)

    def test_relocatable(self):
        """No installed text file names the build or source tree."""
        for top in (os.path.realpath(ENV["VW_BUILD_DIR"]), os.path.realpath(ENV["VW_SOURCE_DIR"])):
            for path in glob.glob(os.path.join(self.prefix, "**"), recursive=True):
                if os.path.isfile(path) and not re.search(r"\.(a|so)(\.[0-9.]+)?$", path):
                    with open(path, "rb") as f:
                        data = f.read()
                    if data.startswith(b"\x7fELF"):  # a program (bin/virtwire), not text
                        continue
                    self.assertNotIn(top.encode(), data, path)

    def test_libraries(self):
        for lib, dep in LIBS.items():
            self.assertTrue(os.path.isfile(os.path.join(self.libdir, f"lib{lib}.a")), lib)
            so = os.path.join(self.libdir, f"lib{lib}.so")
            self.assertEqual(os.readlink(so), f"lib{lib}.so.{self.sov}")
            real = os.path.realpath(so)
            self.assertEqual(os.path.basename(real), f"lib{lib}.so.{ENV['VW_VERSION']}")
            soname, needed, runpath = readelf_dynamic(real)
            self.assertEqual(soname, f"lib{lib}.so.{self.sov}")
            if dep:
                self.assertIn(f"lib{dep}.so.{self.sov}", needed, lib)
                # the libraries it needs are found next to it
                self.assertEqual(runpath, ["$ORIGIN"], lib)
            if lib == "virtwire_tls":
                self.assertTrue([n for n in needed if n.startswith("libgnutls.so.")], needed)

    def test_exports(self):
        """The runtime's shared libraries export exactly the virtwire_*
        functions of their archives; the generated one exports its protocol
        symbols and, of the virtwire_ prefix, only the umbrella module's
        list of them and each module's descriptor (virtwire_module_NAME);
        every exported name is in an installed header."""
        headers = ""
        for h in glob.glob(os.path.join(self.incdir, "*.h")):
            with open(h, encoding="utf-8") as f:
                headers += f.read()
        declared = set(re.findall(r"\b[A-Za-z_]\w*\b", headers))
        for lib in LIBS:
            names = exported(os.path.join(self.libdir, f"lib{lib}.so"))
            archive = archive_globals(os.path.join(self.libdir, f"lib{lib}.a"))
            self.assertTrue(names, lib)
            if lib in ("virtwire_libvirt", "virtwire_virnet"):
                self.assertEqual(names, archive)
                # virtwire_ names: each module's descriptor
                # (virtwire_module_NAME), the umbrella module's list,
                # libvirt's constants and their lookups, the libvirt layer's
                # helpers
                ours = {n for n in names if n.startswith("virtwire_")
                        and not n.startswith("virtwire_module_")}
                if lib == "virtwire_virnet":
                    self.assertEqual(ours, set())
                else:
                    self.assertLessEqual({"virtwire_libvirt_protocols",
                                          "virtwire_libvirt_nprotocols",
                                          "virtwire_domain_state_name", "virtwire_uuid_format",
                                          "virtwire_typed_params_get_int"}, ours)
                    layer = ""
                    for h in ("libvirt_protocols.h", "libvirt_constants.h", "virtwire_libvirt.h"):
                        with open(os.path.join(self.incdir, h), encoding="utf-8") as f:
                            layer += f.read()
                    self.assertEqual(ours - set(re.findall(r"\bvirtwire_\w+", layer)), set())
                self.assertIn("virtwire_module_remote_protocol" if lib == "virtwire_libvirt"
                              else "virtwire_module_virnetprotocol", names)
                self.assertIn("remote_program" if lib == "virtwire_libvirt"
                              else "virNetMessageHeader_encode", names)
            else:
                self.assertEqual({n for n in names if not n.startswith("virtwire_")}, set(), lib)
                self.assertEqual(names, {n for n in archive if n.startswith("virtwire_")}, lib)
            self.assertEqual(names - declared, set(), f"{lib} exports undeclared symbols")
        self.assertIn("virtwire_client_connect", exported(
            os.path.join(self.libdir, "libvirtwire_client.so")))

    # -- the generator --------------------------------------------------------

    def test_generator(self):
        env = dict(ENV, PYTHONDONTWRITEBYTECODE="1")
        ours = run([self.gen, "--version"], env=env).stdout
        tree = run([os.path.join(REPO, "generator", "virtwire-gen"), "--version"], env=env).stdout
        self.assertEqual(ours, tree)
        # through a symlink elsewhere, as packagers sometimes install it
        link = os.path.join(self.tmp, "vg-link")
        os.symlink(self.gen, link)
        self.assertEqual(run([link, "--version"], env=env).stdout, tree)

        # the same output as the tree's generator
        out = os.path.join(self.tmp, "gen-nfslike")
        run([self.gen, "--out-dir", out, os.path.join(HERE, "nfslike.x")], env=env, cwd=self.tmp)
        names = ["nfslike.h", "nfslike.c", "nfslike_client.h", "nfslike_server.h"]
        self.assertEqual(sorted(os.listdir(out)), sorted(names))
        for n in names:
            with open(os.path.join(out, n), "rb") as a, \
                 open(os.path.join(ENV["VW_NFSLIKE_GENERATED"], n), "rb") as b:
                self.assertEqual(a.read(), b.read(), n)

        # the default constants table is the installed one
        x = os.path.join(self.tmp, "uuid.x")
        with open(x, "w", encoding="utf-8") as f:
            f.write("typedef opaque my_uuid[VIR_UUID_BUFLEN];\n")
        run([self.gen, "--out-dir", os.path.join(self.tmp, "gen-uuid"), x], env=env)
        with open(os.path.join(self.tmp, "gen-uuid", "uuid.h"), encoding="utf-8") as f:
            self.assertIn("typedef char my_uuid[16 /* VIR_UUID_BUFLEN */];", f.read())
        empty = os.path.join(self.tmp, "empty.tsv")
        open(empty, "w", encoding="utf-8").close()
        p = subprocess.run([self.gen, "--constants", empty, "--out-dir",
                            os.path.join(self.tmp, "gen-uuid2"), x],
                           capture_output=True, text=True, env=env, timeout=60)
        self.assertEqual(p.returncode, 1)
        self.assertIn("VIR_UUID_BUFLEN", p.stderr)

    # -- pkg-config -------------------------------------------------------------

    def pkg_config(self, *args):
        env = dict(ENV, PKG_CONFIG_PATH=os.path.join(self.libdir, "pkgconfig"))
        return run(["pkg-config", *args], env=env).stdout.strip()

    def test_pkgconfig_files(self):
        for pc in PC_FILES:
            self.pkg_config("--validate", pc)
            self.assertEqual(self.pkg_config("--modversion", pc), ENV["VW_VERSION"])
        self.assertEqual(self.pkg_config("--cflags", "virtwire-client"), f"-I{self.incdir}")
        libs = self.pkg_config("--libs", "virtwire-client").split()
        self.assertEqual(libs[0], f"-L{self.libdir}")
        self.assertEqual(libs[1:], ["-lvirtwire_client", "-lvirtwire_conn", "-lvirtwire_transport",
                                    "-lvirtwire_libvirt", "-lvirtwire_virnet", "-lvirtwire"])
        self.assertIn("-pthread", self.pkg_config("--static", "--libs", "virtwire-server").split())
        self.assertEqual(self.pkg_config("--variable=virtwire_gen", "virtwire"), self.gen)
        self.assertEqual(self.pkg_config("--variable=libvirt_version", "virtwire-libvirt"),
                         ENV["VW_LIBVIRT_VERSION"])

    def test_pkgconfig_consumer(self):
        src = self.consumer_dir("consumer-pkgconfig")
        flags = " ".join(self.san_flags)
        run(["make", f"CC={ENV['VW_CC']}", f"CFLAGS=-O1 -Wall -Wextra -Werror {flags}",
             f"LDFLAGS={flags}"], cwd=src,
            env=dict(ENV, PKG_CONFIG_PATH=os.path.join(self.libdir, "pkgconfig")))
        self.assertTrue(os.path.exists(os.path.join(src, "nfslike_client.h")))
        self.check_roundtrip(os.path.join(src, "nfslike_roundtrip"))
        exe = os.path.join(src, "libversion")
        self.check_client(exe)
        _, needed, rpath = readelf_dynamic(exe)
        self.assertIn(f"libvirtwire_client.so.{self.sov}", needed)
        self.assertIn(self.libdir, rpath)
        if HAVE_TLS:
            self.check_client(os.path.join(src, "libversion_tls"), self.tls_uri)

    # -- the CMake package ------------------------------------------------------

    def test_cmake_consumer(self):
        src = self.consumer_dir("consumer-cmake")
        build = os.path.join(src, "build")
        flags = " ".join(self.san_flags)
        run([ENV["VW_CMAKE"], "-S", src, "-B", build, "-G", ENV["VW_CMAKE_GENERATOR"],
             f"-DCMAKE_PREFIX_PATH={self.prefix}", f"-DCMAKE_C_COMPILER={ENV['VW_CC']}",
             f"-DCMAKE_C_FLAGS=-Wall -Wextra -Werror {flags}",
             f"-DCMAKE_EXE_LINKER_FLAGS={flags}"])
        run([ENV["VW_CMAKE"], "--build", build, "-j1"])

        self.check_roundtrip(os.path.join(build, "nfslike_roundtrip"))
        self.check_client(os.path.join(build, "libversion"))
        self.check_client(os.path.join(build, "libversion_static"))
        if HAVE_TLS:
            self.check_client(os.path.join(build, "libversion_tls"), self.tls_uri)
            self.check_client(os.path.join(build, "libversion_tls_static"), self.tls_uri)
        _, needed, _ = readelf_dynamic(os.path.join(build, "libversion"))
        self.assertIn(f"libvirtwire_client.so.{self.sov}", needed)
        self.assertIn(f"libvirtwire.so.{self.sov}", needed)
        _, needed, _ = readelf_dynamic(os.path.join(build, "libversion_static"))
        self.assertEqual([n for n in needed if "virtwire" in n], [])

        # the .x file changes: the code is generated again
        header = os.path.join(build, "nfslike", "nfslike.h")
        with open(os.path.join(src, "nfslike.x"), "a", encoding="utf-8") as f:
            f.write("const NFSL_REGENERATED = 7;\n")
        run([ENV["VW_CMAKE"], "--build", build, "-j1"])
        with open(header, encoding="utf-8") as f:
            self.assertRegex(f.read(), r"\n#define NFSL_REGENERATED 7\b")

        # the installed generator changes: the same
        before = os.stat(header).st_mtime_ns
        time.sleep(1.1)
        os.utime(os.path.join(self.prefix, "share", "virtwire", "generator", "virtwire_gen",
                              "emit_c.py"))
        run([ENV["VW_CMAKE"], "--build", build, "-j1"])
        self.assertGreater(os.stat(header).st_mtime_ns, before)
        # and nothing is left to do
        before = os.stat(header).st_mtime_ns
        run([ENV["VW_CMAKE"], "--build", build, "-j1"])
        self.assertEqual(os.stat(header).st_mtime_ns, before)

    def test_cxx_consumer(self):
        """Every installed header compiles as C++17 and C++20 (warnings as
        errors, -Wpedantic), in a C++ project linking the installed
        libraries; its client prints what the C one prints."""
        src = os.path.join(self.tmp, "consumer-cxx")
        shutil.copytree(os.path.join(HERE, "consumer-cxx"), src)
        shutil.copy(os.path.join(HERE, "libversion.cc"), src)
        headers = sorted(os.listdir(self.incdir))
        self.assertIn("remote_protocol_server.h", headers)
        with open(os.path.join(src, "all_headers.h"), "w", encoding="utf-8") as f:
            f.write("// every installed header, in name order\n")
            f.write("".join(f'#include "{h}"\n' for h in headers))
        build = os.path.join(src, "build")
        flags = " ".join(self.san_flags)
        run([ENV["VW_CMAKE"], "-S", src, "-B", build, "-G", ENV["VW_CMAKE_GENERATOR"],
             f"-DCMAKE_PREFIX_PATH={self.prefix}", f"-DCMAKE_CXX_COMPILER={ENV['VW_CXX']}",
             f"-DCMAKE_CXX_FLAGS={flags}", f"-DCMAKE_EXE_LINKER_FLAGS={flags}"])
        run([ENV["VW_CMAKE"], "--build", build, "-j1"])
        for std in ("17", "20"):
            self.check_client(os.path.join(build, f"libversion_cxx{std}"))

    def test_cmake_version_check(self):
        """find_package(virtwire X.Y) accepts this minor version only."""
        src = os.path.join(self.tmp, "version-check")
        os.makedirs(src)
        major, minor = ENV["VW_VERSION"].split(".")[:2]
        with open(os.path.join(src, "CMakeLists.txt"), "w", encoding="utf-8") as f:
            f.write("cmake_minimum_required(VERSION 3.16)\nproject(v LANGUAGES C)\n"
                    "find_package(virtwire ${WANT} REQUIRED)\n"
                    "message(STATUS \"virtwire ${virtwire_VERSION} libvirt "
                    "${virtwire_LIBVIRT_VERSION} gen ${virtwire_GENERATOR}\")\n")
        base = [ENV["VW_CMAKE"], "-S", src, "-G", ENV["VW_CMAKE_GENERATOR"],
                f"-DCMAKE_PREFIX_PATH={self.prefix}"]
        ok = run(base + ["-B", os.path.join(src, "b1"), f"-DWANT={major}.{minor}"]).stdout
        self.assertIn(f"virtwire {ENV['VW_VERSION']} libvirt {ENV['VW_LIBVIRT_VERSION']} "
                      f"gen {self.gen}", ok)
        p = subprocess.run(base + ["-B", os.path.join(src, "b2"), f"-DWANT={major}.{int(minor) + 1}"],
                           capture_output=True, text=True, timeout=120)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(f'compatible with requested version "{major}.{int(minor) + 1}"', p.stderr)
        self.assertIn(f"version: {ENV['VW_VERSION']}", p.stderr)


if __name__ == "__main__":
    unittest.main()
