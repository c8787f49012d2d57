# SPDX-License-Identifier: LGPL-2.1-or-later
"""vg-run and launch themselves: what they must catch, they catch.

usage: test_vg_run.py LEAKY_BINARY
"""
import os
import signal
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
VG_RUN = os.path.join(HERE, "vg-run")
LAUNCH = os.path.join(HERE, "launch")
LEAKY = None


def run(*argv, env=None):
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, env=env)


class VgRun(unittest.TestCase):
    def test_clean(self):
        r = run(VG_RUN, LEAKY, "clean")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "")

    def test_leak_and_fd(self):
        r = run(VG_RUN, LEAKY, "leak")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("definitely lost: 10 bytes in 1 blocks", r.stderr)
        self.assertRegex(r.stderr, r"fd left open: Open file descriptor \d+: /dev/null")

    def test_invalid_read(self):
        r = run(VG_RUN, LEAKY, "overrun")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("Invalid read of size 1", r.stderr)

    def test_exit_status_passes_through(self):
        r = run(VG_RUN, LEAKY, "exit", "7")
        self.assertEqual(r.returncode, 7, r.stderr)

    def test_sigterm_reaches_the_program(self):
        p = subprocess.Popen([VG_RUN, LEAKY, "wait"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        self.assertEqual(p.stdout.readline(), "ready\n")
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=120)
        self.assertEqual(p.returncode, 0, err)

    def test_launch(self):
        env = dict(os.environ)
        env.pop("VIRTWIRE_VALGRIND", None)
        r = run(LAUNCH, LEAKY, "leak", env=env)  # as it is: nothing checks
        self.assertEqual(r.returncode, 0, r.stderr)
        env["VIRTWIRE_VALGRIND"] = "0"
        self.assertEqual(run(LAUNCH, LEAKY, "leak", env=env).returncode, 0)
        env["VIRTWIRE_VALGRIND"] = "1"
        r = run(LAUNCH, LEAKY, "leak", env=env)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("definitely lost", r.stderr)


if __name__ == "__main__":
    LEAKY = os.path.abspath(sys.argv.pop(1))
    unittest.main()
