#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The API reference: Doxygen over docs/Doxyfile (the runtime headers, the
generated headers of libvirt's modules and the guides) must warn about
nothing, with undocumented declarations counted as warnings, and the result
must hold a page for every public header, with every function and type it
declares, for every generated header, with every typed call, the libvirt
API each procedure serves and its structures, and for every guide.

usage: test_reference.py DOXYGEN DOXYFILE OUTDIR   (run from the source tree)
"""
import glob
import os
import re
import shutil
import subprocess
import sys

DOXYGEN, DOXYFILE, OUT = sys.argv[1:4]

if shutil.which(DOXYGEN) is None:
    sys.exit(f"test_reference: {DOXYGEN} not found (tests/install-deps installs doxygen)")

# The settings that make this test mean something stay as they are.
settings = {}
with open(DOXYFILE) as f:
    for line in f:
        m = re.match(r"^([A-Z_]+)\s*=\s*(.*?)\s*$", line)
        if m:
            settings[m.group(1)] = m.group(2)
for key, want in (("WARN_AS_ERROR", "FAIL_ON_WARNINGS"), ("WARN_IF_UNDOCUMENTED", "YES"),
                  ("WARN_IF_DOC_ERROR", "YES"), ("EXTRACT_ALL", "NO"),
                  ("EXTRACT_STATIC", "YES")):
    assert settings.get(key) == want, (key, settings.get(key), want)

shutil.rmtree(OUT, ignore_errors=True)
config = f"@INCLUDE = {DOXYFILE}\nOUTPUT_DIRECTORY = {OUT}\n"
r = subprocess.run([DOXYGEN, "-"], input=config, capture_output=True, text=True, timeout=300)
assert r.returncode == 0 and not r.stderr.strip(), (r.returncode, r.stderr)
html = os.path.join(OUT, "html")


def page(path):
    with open(os.path.join(html, path), encoding="utf-8") as f:
        return f.read()


def doxygen_name(name):
    return name.replace("_", "__").replace(".", "_8")


# Declarations outside comments: functions, typedef names, macros.
DECL = re.compile(r"^(?:[A-Za-z_][\w \t*]*?[\s*])?(virtwire_\w+)\s*\(", re.M)
TYPEDEF = re.compile(r"\}\s*(virtwire_\w+)\s*;|typedef\s+[^;(]*?\b(virtwire_\w+)\s*;")
MACRO = re.compile(r"^#define\s+(VIRTWIRE_\w+)", re.M)
headers = sorted(h for h in glob.glob("runtime/*/virtwire_*.h") if not h.endswith("_internal.h"))
assert len(headers) >= 8, headers
for h in headers:
    with open(h) as f:
        text = f.read()
    code = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    names = set(DECL.findall(code))
    names |= {a or b for a, b in TYPEDEF.findall(code)}
    names |= {m for m in MACRO.findall(code)
              if not m.endswith("_H") and "BE32" not in m and "BE64" not in m
              and m != "VIRTWIRE_FAST_ENDIAN"}
    assert names, h
    doc = page(doxygen_name(os.path.basename(h)) + ".html")
    missing = sorted(n for n in names if not re.search(r"\b%s\b" % re.escape(n), doc))
    assert not missing, (h, missing)

# The generated headers: a page each; every procedure's typed call, with the
# libvirt API it serves where the header says one; every struct a page.
generated = sorted(glob.glob("generated/*.h"))
assert len(generated) == 29, generated  # 9 modules, 3 headers each, 2 umbrellas
for h in generated:
    doc = page(doxygen_name(os.path.basename(h)) + ".html")
    with open(h) as f:
        text = f.read()
    calls = re.findall(r"^static inline int (\w+_call_\w+)\(", text, re.M)
    missing = [c for c in calls if not re.search(r"\b%s\b" % c, doc)]
    assert not missing, (h, missing[:5])
    flat = re.sub(r"\n\s*\*\s*", " ", text)  # comments' lines joined
    apis = set(re.findall(r": libvirt's (vir\w+)\(\)", flat))
    missing = [a for a in apis if a + "()" not in doc]
    assert not missing, (h, missing[:5])
    for s in re.findall(r"^struct (\w+) \{", text, re.M):
        page("struct" + doxygen_name(s) + ".html")
client = re.sub(r"\n\s*\*\s*", " ", open("generated/remote_protocol_client.h").read())
assert len(re.findall(r": libvirt's vir\w+\(\)", client)) > 400
assert "libvirt's virDomainGetState()" in page("remote__protocol__client_8h.html")

guides = sorted(glob.glob("docs/guides/*.md")) + ["docs/vendoring.md", "docs/protocol.md"]
assert len(guides) >= 6, guides
for g in guides:
    name = "md_" + g[:-3].replace("/", "_").replace("-", "_") + ".html"
    with open(g) as f:
        title = re.search(r"^# (.+)$", f.read(), re.M).group(1)
    assert title in page(name), (g, name, title)
assert "virtwire API reference" in page("index.html")
print(f"ok: {len(headers)} headers, {len(generated)} generated headers, {len(guides)} guides")
