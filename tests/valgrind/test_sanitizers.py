# SPDX-License-Identifier: LGPL-2.1-or-later
"""The sanitizer build's checkers are on, under the environment the whole
suite runs in (ASAN_OPTIONS, UBSAN_OPTIONS): each case of leaky ends with
the sanitizer's report and a failure status, and a clean run stays quiet.

usage: test_sanitizers.py LEAKY_BINARY clean|leak|overrun|ub
"""
import subprocess
import sys

EXPECTED = {
    "leak": "ERROR: LeakSanitizer: detected memory leaks",
    "overrun": "ERROR: AddressSanitizer: heap-buffer-overflow",
    "ub": "runtime error: signed integer overflow",
}


def main():
    leaky, case = sys.argv[1:3]
    r = subprocess.run([leaky, case], capture_output=True, text=True, timeout=60)
    if case == "clean":
        ok = r.returncode == 0 and r.stderr == ""
    else:
        ok = r.returncode != 0 and EXPECTED[case] in r.stderr
    if not ok:
        sys.exit(f"leaky {case}: exit status {r.returncode}, stderr:\n{r.stderr}")
    print(f"leaky {case}: {'clean' if case == 'clean' else 'caught'}")


if __name__ == "__main__":
    main()
