#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The server benchmark's orchestrator (bench/server/README.md): run by
bench/server/run with the built programs.

usage: bench.py REPO OURS_CLIENT REF_CLIENT MOCKD [--check] [--placement unpinned|one|two]
"""
import os
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from benchlib import cpu_ns, fields, finish, loadavg  # noqa: E402

REPO, OURS_CLIENT, REF_CLIENT, MOCKD = sys.argv[1:5]
CHECK = "--check" in sys.argv[5:]
# Where clients and servers run: where the scheduler puts them (unpinned),
# all on CPU 0 (one), or the client on CPU 0 and the server on CPU 1 (two).
PLACEMENT = "unpinned"
for _a in sys.argv[5:]:
    if _a.startswith("--placement="):
        PLACEMENT = _a.split("=", 1)[1]
CLIENT_CPU = {"unpinned": None, "one": "0", "two": "0"}[PLACEMENT]
SERVER_CPU = {"unpinned": None, "one": "0", "two": "1"}[PLACEMENT]
REPS = int(os.environ.get("VIRTWIRE_BENCH_REPS", "7"))
REP_MS = int(os.environ.get("VIRTWIRE_BENCH_REP_MS", "300"))
PRIVATE = os.path.join(REPO, "tests", "libvirtd", "private-libvirtd")
TIMEOUT = 120
EXTRA_DOMAINS = 100  # besides "test": 101 listed by list_all on both servers
TARGET = 0.2         # the virtwire server's CPU per call against libvirtd's

WORKLOADS = ("lib_version", "get_info", "list_all")
CONNS = (1, 8)
MODES = ("seq", "pipelined")
CLIENTS = (("ours", OURS_CLIENT), ("libvirt", REF_CLIENT))


current = []  # the client being measured, killed if the run is cut short


def line_of(p, argv):
    """The next line p prints, waiting TIMEOUT seconds at most (each line
    is read whole, so nothing waits in the pipe's buffer meanwhile)."""
    if not select.select([p.stdout], [], [], TIMEOUT)[0]:
        raise SystemExit("bench server: %s hangs" % " ".join(argv))
    return p.stdout.readline()


def measured(argv, server_pid):
    """Runs a client that says "ready", is told to go, and prints its
    result; returns the result's fields and the CPU time the server spent
    between the go and the result."""
    if CLIENT_CPU is not None:
        argv = ["taskset", "-c", CLIENT_CPU] + argv
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    current.append(p)
    try:
        if line_of(p, argv).strip() != "ready":
            raise SystemExit("bench server: %s did not start" % " ".join(argv))
        before = cpu_ns(server_pid)
        p.stdin.write("go\n")
        p.stdin.flush()
        result = line_of(p, argv)
        after = cpu_ns(server_pid)
        p.stdin.close()  # the client closes its connections now
        if p.wait(timeout=TIMEOUT) != 0 or not result:
            raise SystemExit("bench server: %s failed" % " ".join(argv))
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        current.remove(p)
    return fields(result), after - before


def pin(pid):
    """Every thread of a server on the placement's CPU."""
    if SERVER_CPU is not None:
        subprocess.run(["taskset", "-a", "-p", "-c", SERVER_CPU, str(pid)], check=True,
                       stdout=subprocess.DEVNULL)


def spread(values):
    return "%.2f/%.2f/%.2f" % (min(values), statistics.median(values), max(values))


def on_signal(signum, _frame):
    raise SystemExit(128 + signum)


def main():
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    d = tempfile.mkdtemp(prefix="vw-bs-")  # short: unix socket paths
    lvdir = os.path.join(d, "lv")
    holder = mock = mock_err = None
    started = False
    try:
        started = True
        subprocess.run([PRIVATE, "start", lvdir], check=True, stdout=subprocess.DEVNULL,
                       timeout=TIMEOUT)
        with open(os.path.join(lvdir, "libvirtd.pid")) as f:
            lvpid = int(f.read())
        lv_uri = "test+unix:///default?socket=" + os.path.join(lvdir, "libvirt-sock")
        # The extra domains of list_all, held for the whole run (the test
        # driver keeps test:///default's state while a connection is open).
        argv = [OURS_CLIENT, lv_uri, "hold", str(EXTRA_DOMAINS)]
        holder = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        if line_of(holder, argv).strip() != "ready":
            raise SystemExit("bench server: defining the extra domains failed")
        # The virtwire server with the same inventory ("test" and the extra
        # domains) and, as libvirtd, its default of 5 requests per client.
        msock = os.path.join(d, "m")
        mock_err = open(os.path.join(d, "mockd.err"), "w")
        argv = [MOCKD, msock, "--bench-domains", str(EXTRA_DOMAINS)]
        mock = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=mock_err, text=True)
        if not line_of(mock, argv):
            raise SystemExit("bench server: virtwire-mockd did not start")
        mock_uri = "test+unix:///default?socket=" + msock
        pin(lvpid)
        pin(mock.pid)

        print("bench server load before=%s cores=%d reps=%d rep_ms=%d placement=%s" %
              (loadavg(), os.cpu_count(), REPS, REP_MS, PLACEMENT))
        sys.stdout.flush()
        verdicts = []
        for w in WORKLOADS:
            for n in CONNS:
                for mode in MODES:
                    for cname, client in CLIENTS:
                        o_cpu, r_cpu, o_rate, r_rate = [], [], [], []
                        for _ in range(REPS):
                            # The two servers in turn, so that both see the
                            # same machine over the same seconds.
                            for uri, pid, cpu, rate in ((mock_uri, mock.pid, o_cpu, o_rate),
                                                        (lv_uri, lvpid, r_cpu, r_rate)):
                                r, ns = measured([client, uri, "call", w, str(n), mode,
                                                  str(REP_MS)], pid)
                                if w == "list_all" and r["domains"] != 1 + EXTRA_DOMAINS:
                                    raise SystemExit("bench server: %d domains listed on %s" %
                                                     (r["domains"], uri))
                                cpu.append(ns / 1000 / r["calls"])
                                rate.append(r["calls"] / r["secs"])
                        oc, rc = statistics.median(o_cpu), statistics.median(r_cpu)
                        row = "%s-%d-%s-%s" % (w, n, mode, cname)
                        if PLACEMENT != "unpinned":
                            extra_p = " placement=%s" % PLACEMENT
                        else:
                            extra_p = ""
                        extra = " client_mode=threads4" if (mode, cname) == ("pipelined",
                                                                               "libvirt") else ""
                        print("bench server %s ours_cpu_us=%.2f ref_cpu_us=%.2f ratio=%.3f "
                              "ours=%.0f ref=%.0f ours_cpu_min_med_max=%s ref_cpu_min_med_max=%s "
                              "ours_min_med_max=%s ref_min_med_max=%s%s" %
                              (row, oc, rc, oc / rc, statistics.median(o_rate),
                               statistics.median(r_rate), spread(o_cpu), spread(r_cpu),
                               spread(o_rate), spread(r_rate), extra + extra_p))
                        sys.stdout.flush()
                        at = "" if PLACEMENT == "unpinned" else "@" + PLACEMENT
                        verdicts.append("bench server target cpu-share %s%s %.3f (<= %s) %s" %
                                        (row, at, oc / rc, TARGET,
                                         "PASS" if oc / rc <= TARGET else "MISS"))
        return finish("server", verdicts, CHECK)
    finally:
        # Each step on its own: an interrupted run still stops everything.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for p in list(current):
            p.kill()
        if mock:
            try:
                mock.terminate()
                mock.wait(timeout=TIMEOUT)
            except Exception:  # noqa: BLE001 (cleanup goes on)
                mock.kill()
        if mock_err:
            mock_err.close()
        if holder:
            try:
                holder.stdin.close()
                holder.wait(timeout=TIMEOUT)
            except Exception:  # noqa: BLE001
                holder.kill()
        if started:
            subprocess.run([PRIVATE, "stop", lvdir], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=TIMEOUT)
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
