# SPDX-License-Identifier: LGPL-2.1-or-later
"""What the Python orchestrators of the benchmark suites share
(bench/proxy/bench.py, bench/server/bench.py)."""
import os
import sys


def cpu_ns(pid):
    """CPU time of every thread of pid, in nanoseconds (schedstat: each
    thread's time on a CPU, user and system)."""
    total = 0
    for t in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, t)) as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass  # a thread that ended meanwhile
    return total


def fields(line):
    """A client's result line, key=value words, as numbers."""
    return {k: float(v) for k, v in (x.split("=") for x in line.split())}


def loadavg():
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


def finish(suite, verdicts, check):
    """The closing lines of a suite (the load after, then each target's
    verdict) and its exit status: 3 when check is set and a target is
    missed."""
    print("bench %s load after=%s" % (suite, loadavg()))
    for v in verdicts:
        print(v)
    sys.stdout.flush()
    return 3 if check and any("MISS" in v.split() for v in verdicts) else 0
