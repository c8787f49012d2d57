# SPDX-License-Identifier: LGPL-2.1-or-later
"""Helpers shared by the tests in tests/protocol (not a test itself).

The tests read the libvirt .x files of each release listed in
protocol/manifest.tsv from a directory named by an environment variable
VIRTWIRE_XDIR_<MAJOR>_<MINOR>_<MICRO> (VIRTWIRE_XDIR_9_0_0 for 9.0.0,
VIRTWIRE_XDIR_11_3_0 for 11.3.0). Fill such a directory with:

    protocol/fetch-libvirt 11.3.0 DIR

The directory may also be a libvirt source tree (files at their manifest
paths).
"""

import os
import re
import sys

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(TESTS_DIR))
PROTOCOL = os.path.join(REPO, "protocol")
MANIFEST = os.path.join(PROTOCOL, "manifest.tsv")
CONSTANTS = os.path.join(PROTOCOL, "constants.tsv")
OVERRIDES = os.path.join(PROTOCOL, "overrides.tsv")
FETCH = os.path.join(PROTOCOL, "fetch-libvirt")

# The nine .x files that make up libvirt's RPC protocols, at their places in
# libvirt's source tree: from the generator's module table.
sys.path.insert(0, os.path.join(REPO, "generator"))
from virtwire_gen.libvirt import APIS, MODULES  # noqa: E402

XFILES = tuple(m.source for m in MODULES)
# The version scripts each release also has in the manifest.
SYMS = tuple(a.syms for a in APIS)


class SetupError(Exception):
    """The environment lacks something a test needs."""


def require(testcase, func, *args):
    """Return func(*args); turn a SetupError into a plain test failure."""
    try:
        return func(*args)
    except SetupError as e:
        error = str(e)
    testcase.fail(error)


def read_tsv(path):
    """Return [(line_number, [columns])] for the data lines of PATH."""
    rows = []
    with open(path, encoding="utf-8") as f:
        for num, line in enumerate(f.read().splitlines(), 1):
            if not line.strip() or line.startswith("#"):
                continue
            rows.append((num, line.split("\t")))
    return rows


def manifest_files():
    """{version: [(program, path, sha256)]}: the .x files in the manifest."""
    return {v: [e for e in entries if e[1].endswith(".x")]
            for v, entries in manifest_entries().items()}


def manifest_entries():
    """{version: [(name, path, sha256)]}: every file in the manifest."""
    out = {}
    for _, cols in read_tsv(MANIFEST):
        if cols[0] not in ("default", "debian"):
            out.setdefault(cols[0], []).append(tuple(cols[1:4]))
    return out


def manifest_default():
    return [cols[1] for _, cols in read_tsv(MANIFEST) if cols[0] == "default"][0]


def xdir_var(version):
    return "VIRTWIRE_XDIR_" + version.replace(".", "_")


def xdir(version):
    """The directory holding VERSION's .x files, from the environment."""
    var = xdir_var(version)
    path = os.environ.get(var)
    if not path:
        raise SetupError(
            "%s is not set. Fetch the libvirt %s .x files and point it at "
            "them, e.g.:\n  protocol/fetch-libvirt %s DIR && export %s=DIR\n"
            "(or --from a libvirt source tree, or --tarball a release "
            "tarball)" % (var, version, version, var))
    if not os.path.isdir(path):
        raise SetupError("%s=%s is not a directory" % (var, path))
    return path


def xfile_path(directory, program, path):
    """Where a file is: flat (DIR/remote_protocol.x) or as in a tree."""
    flat = os.path.join(directory, os.path.basename(path))
    if os.path.isfile(flat):
        return flat
    tree = os.path.join(directory, path)
    if os.path.isfile(tree):
        return tree
    raise SetupError("%s is in neither %s nor %s"
                     % (os.path.basename(path), flat, tree))


def load_xfiles(version):
    """{program: text} for the nine .x files of VERSION."""
    directory = xdir(version)
    out = {}
    for program, path, _ in manifest_files()[version]:
        with open(xfile_path(directory, program, path),
                  encoding="utf-8") as f:
            out[program] = f.read()
    return out


def strip_comments(text):
    """Drop C comments and %-pass-through lines of a .x file."""
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    return re.sub(r"^%[^\n]*", " ", text, flags=re.M)


def defined_names(text):
    """Names a (comment-free) .x text defines by const or as enum members."""
    names = set(re.findall(r"\bconst\s+([A-Za-z_]\w*)\s*=", text))
    for body in re.findall(r"\benum\s+\w*\s*\{(.*?)\}", text, flags=re.S):
        names.update(re.findall(r"([A-Za-z_]\w*)\s*(?:=[^,]*)?(?:,|$)",
                                body.strip()))
    return names


USE_PATTERNS = (
    r"\[\s*([A-Za-z_]\w*)\s*\]",                 # fixed array size
    r"<\s*([A-Za-z_]\w*)\s*>",                   # variable array bound
    r"\bconst\s+\w+\s*=\s*([A-Za-z_]\w*)\s*;",   # const value
    r"\bcase\s+([A-Za-z_]\w*)\s*:",              # union case label
    r"\b\w+\s*=\s*([A-Za-z_]\w*)\s*[,}]",        # enum member value
)


def used_names(text):
    """{name: count} of identifiers a (comment-free) .x text uses as values."""
    out = {}
    for pattern in USE_PATTERNS:
        for name in re.findall(pattern, text):
            out[name] = out.get(name, 0) + 1
    return out


def external_names(version):
    """{name: [programs]} used by VERSION's .x files but defined in none."""
    texts = {p: strip_comments(t) for p, t in load_xfiles(version).items()}
    defined = set()
    for text in texts.values():
        defined |= defined_names(text)
    out = {}
    for program, text in sorted(texts.items()):
        for name in used_names(text):
            if name not in defined:
                out.setdefault(name, []).append(program)
    return out


TOKEN_RE = re.compile(r"/\*.*?\*/|//[^\n]*|^%[^\n]*|[A-Za-z_]\w*|"
                      r"0[xX][0-9a-fA-F]+|\d+|\S", re.S | re.M)


def procedures(version):
    """{constant: (program, number, doc_comment)} for every member of every
    *procedure enum in VERSION's .x files; doc_comment is the text of the
    comments on the lines before the member (comments that end a member's
    own line belong to that member and are left out)."""
    out = {}
    for program, text in load_xfiles(version).items():
        toks = [(m.group(0), m.start()) for m in TOKEN_RE.finditer(text)]
        i = 0
        while i < len(toks):
            if (toks[i][0] == "enum" and i + 2 < len(toks)
                    and "procedure" in toks[i + 1][0].lower()
                    and toks[i + 2][0] == "{"):
                i += 3
                comment = []
                last_end = toks[i - 1][1]
                while i < len(toks) and toks[i][0] != "}":
                    t, pos = toks[i]
                    if t.startswith(("/*", "//")):
                        if "\n" in text[last_end:pos]:
                            comment.append(t)
                    elif re.match(r"[A-Za-z_]\w*$", t):
                        num = None
                        if i + 2 < len(toks) and toks[i + 1][0] == "=":
                            num = int(toks[i + 2][0], 0)
                            i += 2
                        out[t] = (program, num, "\n".join(comment))
                        comment = []
                        last_end = toks[i][1] + len(toks[i][0])
                    elif t == ",":
                        last_end = pos + 1
                    i += 1
            i += 1
    return out
