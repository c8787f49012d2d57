#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Mutation test of the generator over libvirt's real .x files.

Each round takes one of the .x files of libvirt 11.3.0 or 9.0.0 (the
directories in $VIRTWIRE_XDIR_11 and $VIRTWIRE_XDIR_9), applies one to three
random mutations (a character or a token deleted, inserted, replaced,
duplicated or swapped; tokens taken from the file itself and from XDR's
keywords; odd characters, and bytes that are not UTF-8), and runs what
virtwire-gen runs: parse_file(), the semantic analysis (Model) and the four
emitters.  Every round must either succeed or raise XdrError whose text is
"FILE:LINE:COL: message" with a position inside the file; anything else (a
Python exception of any other kind) fails the test, which then prints the
seed, the mutations and the traceback, and keeps the input as
$TMPDIR/virtwire-mutation-SEED-ROUND.x.  A few rounds go through the command line as
well, which must print exactly one "FILE:LINE:COL: error: ..." line and no
traceback.

A round that takes more than ROUND_SECONDS fails too (the generator must stay
linear in its input).  Before the rounds, the inputs earlier rounds found
(fuzz/regressions/generator/*.x) go through the command line; each says
what it must give in a comment: "expect: ok" or "expect: error: TEXT".

remote_protocol.x costs a hundred times more than the others and gets few
rounds; its imports are parsed once.  Environment: VIRTWIRE_MUTATION_SEED
(default 1; "random" for a fresh one), VIRTWIRE_MUTATIONS (rounds, default
2000, a few seconds), VIRTWIRE_MUTATION_SECONDS (a time bound that ends the
rounds early on a slow machine, default 60: at least 1000 rounds must have
run by then).
"""

import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "generator"))

from virtwire_gen.emitters import module_outputs  # noqa: E402
from virtwire_gen.ir import XdrError  # noqa: E402
from virtwire_gen.libvirt import MODULES  # noqa: E402
from virtwire_gen.parser import parse, parse_file  # noqa: E402
from virtwire_gen.resolve import Model  # noqa: E402
from virtwire_gen.tables import (DEFAULT_CONSTANTS, DEFAULT_OVERRIDES,  # noqa: E402
                                 read_constants, read_overrides)

GENERATOR = os.path.join(REPO, "generator", "virtwire-gen")
KEYWORDS = ("struct union switch case default enum typedef const program version opaque "
            "string unsigned hyper int char short void bool float double quadruple").split()
ODD = ["\0", "\x7f", "\xe9", "\U0001f600", "@", "$", "\\", '"', "'", "#", "%", "/*", "*/",
       "//", "0x", "0X", "09", "4294967296", "-2147483649", "\n", "\t", "\r", " "]
TOKEN = re.compile(r"/\*.*?\*/|//[^\n]*|%[^\n]*|[A-Za-z_][A-Za-z_0-9]*|[0-9][A-Za-z_0-9]*|"
                   r"\s+|.", re.S)
ROUND_SECONDS = 10
REGRESSIONS = os.path.join(REPO, "fuzz", "regressions", "generator")
LOC = re.compile(r"^(?P<file>.+):(?P<line>[0-9]+):(?P<col>[0-9]+): \S")


def mutate(rng, text, vocabulary):
    """One random mutation of text; returns (new text, description)."""
    tokens = TOKEN.findall(text)
    kind = rng.randrange(9)
    if kind < 4:  # characters
        pos = rng.randrange(len(text) + 1)
        ch = rng.choice(ODD + list("{}[]<>();,=*:-+0123456789azAZ_ "))
        if kind == 0 and pos < len(text):
            return text[:pos] + text[pos + 1:], f"delete char at {pos}"
        if kind == 1:
            return text[:pos] + ch + text[pos:], f"insert {ch!r} at {pos}"
        if kind == 2 and pos < len(text):
            return text[:pos] + ch + text[pos + 1:], f"replace char at {pos} by {ch!r}"
        n = rng.randrange(1, 64)
        return text[:pos] + text[pos + n:], f"delete {n} chars at {pos}"
    i = rng.randrange(len(tokens))
    j = rng.randrange(len(tokens))
    if kind == 4:
        what = f"delete token {i} {tokens[i]!r}"
        del tokens[i]
    elif kind == 5:
        new = rng.choice(vocabulary + KEYWORDS)
        what = f"replace token {i} {tokens[i]!r} by {new!r}"
        tokens[i] = new if not new[0].isalnum() else f" {new} "
    elif kind == 6:
        new = rng.choice(vocabulary + KEYWORDS + ODD)
        what = f"insert {new!r} before token {i}"
        tokens.insert(i, f" {new} " if new[:1].isalnum() else new)
    elif kind == 7:
        what = f"swap tokens {i} and {j}"
        tokens[i], tokens[j] = tokens[j], tokens[i]
    else:
        k = rng.randrange(1, 8)
        what = f"duplicate tokens {i}..{i + k}"
        tokens[i:i] = tokens[i:i + k]
    return "".join(tokens), what


class Generator:
    """What virtwire-gen does with one .x file, in-process, writing nothing."""

    def __init__(self):
        self.constants = read_constants(DEFAULT_CONSTANTS)
        self.overrides = read_overrides(DEFAULT_OVERRIDES)
        self.import_specs = {}

    def run(self, data, work, base, imports):
        """data: the .x file's bytes.  Valid UTF-8 is parsed from memory,
        the rest from the file work (parse_file() reports the bad byte)."""
        specs = []
        for imp in imports:
            if imp not in self.import_specs:
                self.import_specs[imp] = parse_file(imp)
            specs.append(self.import_specs[imp])
        try:
            spec = parse(data.decode("utf-8"), base + ".x")
        except UnicodeDecodeError:
            with open(work, "wb") as f:
                f.write(data)
            spec = parse_file(work, base + ".x")
        model = Model(spec, specs, self.constants, self.overrides)
        names = [os.path.basename(i)[:-2] for i in imports]
        module_outputs(model, base, base + ".x", names)


def check_error(err, name, data):
    """An XdrError must say FILE:LINE:COL inside the file."""
    m = LOC.match(str(err))
    if not m or m.group("file") != name:
        return f"not FILE:LINE:COL: {err}"
    lines = data.count(b"\n") + 1
    line, col = int(m.group("line")), int(m.group("col"))
    if not (1 <= line <= lines and col >= 1):
        return f"position outside the file ({lines} lines): {err}"
    return None


def inputs():
    """[(path, base name, import paths, weight)] of both releases."""
    out = []
    for var in ("VIRTWIRE_XDIR_11", "VIRTWIRE_XDIR_9"):
        xdir = os.environ.get(var)
        if not xdir:
            sys.exit(f"test_mutations: ${var} is not set (the build sets it)")
        for name, imports, _ in MODULES:
            weight = 1 if name == "remote_protocol" else 40
            out.append((os.path.join(xdir, name + ".x"), name,
                        [os.path.join(xdir, i + ".x") for i in imports], weight))
    return out


def cli_round(tmp, path, data, seed):
    """The command line on one mutated file: one clean line, no traceback."""
    with open(path, "wb") as f:
        f.write(data)
    r = subprocess.run([sys.executable, GENERATOR, "--out-dir", os.path.join(tmp, "out"), path],
                       capture_output=True, text=True, timeout=60)
    if "Traceback" in r.stderr or r.returncode not in (0, 1):
        return f"seed {seed}: command line: status {r.returncode}\n{r.stderr}"
    if r.returncode == 1:
        lines = r.stderr.splitlines()
        if len(lines) != 1 or not LOC.match(lines[0]) or ": error: " not in lines[0]:
            return f"seed {seed}: command line: not one FILE:LINE:COL error line:\n{r.stderr}"
    return None


def regressions(tmp):
    """Replays fuzz/regressions/generator/*.x; returns the failures."""
    failures = []
    for name in sorted(os.listdir(REGRESSIONS)):
        if not name.endswith(".x"):
            continue
        path = os.path.join(REGRESSIONS, name)
        expect = re.search(r"expect: (ok|error: (.*))", open(path, encoding="utf-8").read())
        if not expect:
            failures.append(f"{name}: no 'expect:' line")
            continue
        start = time.monotonic()
        try:
            r = subprocess.run([sys.executable, GENERATOR, "--out-dir",
                                os.path.join(tmp, "out"), path],
                               capture_output=True, text=True, timeout=60)
        except subprocess.TimeoutExpired:
            failures.append(f"{name}: no answer in 60 s")
            continue
        took = time.monotonic() - start
        if took > ROUND_SECONDS or "Traceback" in r.stderr:
            failures.append(f"{name}: {took:.1f} s\n{r.stderr}")
        elif expect.group(1) == "ok" and r.returncode != 0:
            failures.append(f"{name}: expected success, got\n{r.stderr}")
        elif expect.group(2) and (r.returncode != 1 or len(r.stderr.splitlines()) != 1 or
                                  not r.stderr.startswith(path + ":") or
                                  expect.group(2).strip() not in r.stderr):
            failures.append(f"{name}: expected one '{expect.group(2).strip()}' error, "
                            f"got\n{r.stderr}")
    return failures


def main():
    tmp = tempfile.mkdtemp(prefix="virtwire-mutation-")
    try:
        failures = regressions(tmp)
        for f in failures:
            print(f"FAIL: regression {f}")
        return 1 if failures else rounds_in(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def rounds_in(tmp):
    seed = os.environ.get("VIRTWIRE_MUTATION_SEED", "1")
    seed = random.randrange(1 << 32) if seed == "random" else int(seed)
    rounds = int(os.environ.get("VIRTWIRE_MUTATIONS", "2000"))
    budget = float(os.environ.get("VIRTWIRE_MUTATION_SECONDS", "60"))
    rng = random.Random(seed)
    files = inputs()
    texts = {p: open(p, encoding="utf-8").read() for p, _, _, _ in files}
    vocab = {p: sorted(set(t for t in TOKEN.findall(texts[p]) if t.strip() and
                           not t.startswith(("/*", "//", "%"))))
             for p in texts}
    weights = [w for _, _, _, w in files]
    gen = Generator()
    work = os.path.join(tmp, "input.x")
    start = time.monotonic()
    done = errors = ok = 0
    cli_every = max(rounds // 6, 1)
    for n in range(rounds):
        if time.monotonic() - start > budget:
            break
        path, base, imports, _ = rng.choices(files, weights)[0]
        text, steps = texts[path], []
        for _ in range(rng.randrange(1, 4)):
            text, what = mutate(rng, text, vocab[path])
            steps.append(what)
        data = text.encode("utf-8")
        if rng.randrange(20) == 0:
            pos = rng.randrange(len(data) + 1)
            bad = rng.choice([b"\xff", b"\xc3", b"\xe2\x82", b"\xed\xa0\x80"])
            data = data[:pos] + bad + data[pos:]
            steps.append(f"insert bytes {bad!r} at byte {pos}")
        failure = None
        began = time.monotonic()
        try:
            gen.run(data, work, base, imports)
            ok += 1
        except XdrError as e:
            errors += 1
            failure = check_error(e, base + ".x", data)
        except Exception:  # noqa: BLE001 - any other exception is the finding
            failure = traceback.format_exc()
        took = time.monotonic() - began
        if failure is None and took > ROUND_SECONDS:
            failure = f"the round took {took:.1f} s"
        if failure is None and n % cli_every == 0:
            failure = cli_round(tmp, os.path.join(tmp, base + ".x"), data, seed)
        if failure:
            keep = os.path.join(tempfile.gettempdir(), f"virtwire-mutation-{seed}-{n}.x")
            with open(keep, "wb") as f:
                f.write(data)
            print(f"FAIL: seed {seed}, round {n}: {base}.x from {path}: {'; '.join(steps)}\n"
                  f"input kept in {keep}\n{failure}")
            return 1
        done += 1
    elapsed = time.monotonic() - start
    print(f"test_mutations: seed {seed}: {done} rounds in {elapsed:.1f} s: "
          f"{errors} clean errors, {ok} accepted")
    if done < min(rounds, 1000):
        print(f"FAIL: only {done} rounds in {budget} s")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
