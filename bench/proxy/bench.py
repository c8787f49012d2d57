#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The proxy benchmark's orchestrator (bench/proxy/README.md): run by
bench/proxy/run with the built programs.

usage: bench.py REPO CLIENT VIRTWIRE MOCKD RELAY [--check]
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from benchlib import cpu_ns, fields, finish, loadavg  # noqa: E402

REPO, CLIENT, TOOL, MOCKD, RELAY = sys.argv[1:6]
CHECK = "--check" in sys.argv[6:]
REPS = int(os.environ.get("VIRTWIRE_BENCH_REPS", "7"))
REP_MS = int(os.environ.get("VIRTWIRE_BENCH_REP_MS", "300"))
PRIVATE = os.path.join(REPO, "tests", "libvirtd", "private-libvirtd")
TIMEOUT = 120


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def measured(argv, watch):
    """Runs a client that says "ready", is told to go, and prints its
    result; returns the result's fields and the CPU time each watched pid
    spent meanwhile."""
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    if line.strip() != "ready":
        p.kill()
        raise SystemExit("bench proxy: %s did not start" % " ".join(argv))
    before = [cpu_ns(w) for w in watch]
    p.stdin.write("go\n")
    p.stdin.flush()
    result = p.stdout.readline()
    after = [cpu_ns(w) for w in watch]
    p.stdin.close()
    if p.wait(timeout=TIMEOUT) != 0 or not result:
        raise SystemExit("bench proxy: %s failed" % " ".join(argv))
    return fields(result), [a - b for a, b in zip(after, before)]


class Proxy:
    """`virtwire proxy` in front of a daemon's socket or, with floor=True,
    the floor relay (relay.c)."""

    def __init__(self, d, name, daemon_sock, floor=False):
        self.sock = os.path.join(d, name)
        self.err = open(os.path.join(d, name + ".err"), "w")
        if floor:
            argv = [RELAY, self.sock, daemon_sock]
        else:
            argv = [TOOL, "proxy", "--listen", "unix:" + self.sock, "--to",
                    "test+unix:///default?socket=" + daemon_sock]
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=self.err)
        end = time.time() + 10
        while not os.path.exists(self.sock):
            if time.time() > end or self.proc.poll() is not None:
                raise SystemExit("bench proxy: %s did not start" % argv[0])
            time.sleep(0.02)
        self.uri = "test+unix:///default?socket=" + self.sock

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=TIMEOUT)
        self.err.close()


def spread(values):
    return min(values), statistics.median(values), max(values)


verdicts = []


def target(what, value, op, bound, floor):
    """A target's verdict, with the floor relay's figure beside it: what
    a relay that does nothing but carry bytes reaches in the same run."""
    ok = value >= bound if op == ">=" else value <= bound
    verdicts.append("bench proxy target %s %.3f (%s %s) %s floor=%.3f" %
                    (what, value, op, bound, "PASS" if ok else "MISS", floor))
    return ok


def main():
    d = tempfile.mkdtemp(prefix="vw-bp-")
    daemon = os.path.join(d, "lv")
    holder = mock = None
    proxies = []
    try:
        subprocess.run([PRIVATE, "start", daemon], check=True, stdout=subprocess.DEVNULL,
                       timeout=TIMEOUT)
        lvpid = int(open(os.path.join(daemon, "libvirtd.pid")).read())
        lvsock = os.path.join(daemon, "libvirt-sock")
        direct = "test+unix:///default?socket=" + lvsock
        # The 100 extra domains of list_all, held for the whole run.
        holder = subprocess.Popen([CLIENT, direct, "hold", "100"], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        if holder.stdout.readline().strip() != "ready":
            raise SystemExit("bench proxy: defining the 100 extra domains failed")
        px = Proxy(d, "p", lvsock)
        proxies.append(px)
        fl = Proxy(d, "f", lvsock, floor=True)
        proxies.append(fl)
        print("bench proxy load before=%s cores=%d reps=%d rep_ms=%d" %
              (loadavg(), os.cpu_count(), REPS, REP_MS))
        sys.stdout.flush()

        for w in ("lib_version", "get_info", "list_all"):
            for mode in ("seq", "threads4", "pipelined"):
                ours, ref, p50, p99, rp50, rp99, pcpu, dcpu = [], [], [], [], [], [], [], []
                floor, fcpu = [], []
                for _ in range(REPS):
                    r, (proxy_ns, lv_ns) = measured(
                        [CLIENT, px.uri, "call", w, mode, str(REP_MS)], [px.proc.pid, lvpid])
                    ours.append(r["calls"] / r["secs"])
                    p50.append(r["p50_us"])
                    p99.append(r["p99_us"])
                    pcpu.append(proxy_ns / r["calls"] / 1000)
                    r, (lv_ns,) = measured([CLIENT, direct, "call", w, mode, str(REP_MS)],
                                           [lvpid])
                    ref.append(r["calls"] / r["secs"])
                    rp50.append(r["p50_us"])
                    rp99.append(r["p99_us"])
                    dcpu.append(lv_ns / r["calls"] / 1000)
                    r, (relay_ns, lv_ns) = measured(
                        [CLIENT, fl.uri, "call", w, mode, str(REP_MS)], [fl.proc.pid, lvpid])
                    floor.append(r["calls"] / r["secs"])
                    fcpu.append(relay_ns / r["calls"] / 1000)
                o, rf = spread(ours), spread(ref)
                pc, dc = statistics.median(pcpu), statistics.median(dcpu)
                fo, fc = statistics.median(floor), statistics.median(fcpu)
                print("bench proxy %s-%s ours=%.0f ref=%.0f ratio=%.2f ours_min=%.0f ours_max=%.0f "
                      "ref_min=%.0f ref_max=%.0f ours_p50_us=%.1f ours_p99_us=%.1f "
                      "ref_p50_us=%.1f ref_p99_us=%.1f proxy_cpu_us=%.2f daemon_cpu_us=%.2f "
                      "cpu_ratio=%.3f floor=%.0f floor_ratio=%.2f floor_cpu_us=%.2f "
                      "floor_cpu_ratio=%.3f" %
                      (w, mode, o[1], rf[1], o[1] / rf[1], o[0], o[2], rf[0], rf[2],
                       statistics.median(p50), statistics.median(p99),
                       statistics.median(rp50), statistics.median(rp99), pc, dc, pc / dc,
                       fo, fo / rf[1], fc, fc / dc))
                sys.stdout.flush()
                if mode == "seq":
                    target("seq-ratio %s" % w, o[1] / rf[1], ">=", 0.8, fo / rf[1])
                target("cpu-share %s-%s" % (w, mode), pc / dc, "<=", 0.3, fc / dc)

        # Stream throughput: downloads of virtwire-mockd's 4 MiB volume.
        msock = os.path.join(d, "m")
        mock = subprocess.Popen([MOCKD, msock], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                text=True)
        if not mock.stdout.readline():
            raise SystemExit("bench proxy: virtwire-mockd did not start")
        mdirect = "test+unix:///default?socket=" + msock
        pm = Proxy(d, "pm", msock)
        proxies.append(pm)
        fm = Proxy(d, "fm", msock, floor=True)
        proxies.append(fm)
        ours, ref, pcpu, mcpu, floor, fcpu = [], [], [], [], [], []
        for _ in range(REPS):
            r, (proxy_ns, mock_ns) = measured([CLIENT, pm.uri, "stream", str(REP_MS)],
                                              [pm.proc.pid, mock.pid])
            mib = r["bytes"] / (1 << 20)
            ours.append(mib / r["secs"])
            pcpu.append(proxy_ns / 1000 / mib)
            r, (mock_ns,) = measured([CLIENT, mdirect, "stream", str(REP_MS)], [mock.pid])
            mib = r["bytes"] / (1 << 20)
            ref.append(mib / r["secs"])
            mcpu.append(mock_ns / 1000 / mib)
            r, (relay_ns, mock_ns) = measured([CLIENT, fm.uri, "stream", str(REP_MS)],
                                              [fm.proc.pid, mock.pid])
            mib = r["bytes"] / (1 << 20)
            floor.append(mib / r["secs"])
            fcpu.append(relay_ns / 1000 / mib)
        o, rf = spread(ours), spread(ref)
        fo = statistics.median(floor)
        # The CPU each MiB costs the proxy and the daemon: with fewer free
        # cores than busy processes, throughput follows the sum.
        print("bench proxy stream-download ours=%.0f ref=%.0f ratio=%.2f unit=MiB/s "
              "ours_min=%.0f ours_max=%.0f ref_min=%.0f ref_max=%.0f proxy_cpu_us_per_mib=%.0f "
              "daemon_cpu_us_per_mib=%.0f floor=%.0f floor_ratio=%.2f "
              "floor_cpu_us_per_mib=%.0f" %
              (o[1], rf[1], o[1] / rf[1], o[0], o[2], rf[0], rf[2], statistics.median(pcpu),
               statistics.median(mcpu), fo, fo / rf[1], statistics.median(fcpu)))
        target("stream-ratio", o[1] / rf[1], ">=", 0.9, fo / rf[1])

        # Resident memory with 100 idle clients (each with its connection
        # to libvirtd).
        base = rss_kib(px.proc.pid)
        idle = subprocess.Popen([CLIENT, px.uri, "idle", "100"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True)
        if idle.stdout.readline().strip() != "ready":
            raise SystemExit("bench proxy: 100 idle clients failed")
        time.sleep(0.5)
        rss = rss_kib(px.proc.pid)
        idle.stdin.close()
        idle.wait(timeout=TIMEOUT)
        print("bench proxy idle100 rss_kib=%d before_kib=%d per_client_kib=%.1f" %
              (rss, base, (rss - base) / 100))
        return finish("proxy", verdicts, CHECK)
    finally:
        for p in proxies:
            p.stop()
        if mock:
            mock.terminate()
            mock.wait(timeout=TIMEOUT)
        if holder:
            holder.stdin.close()
            holder.wait(timeout=TIMEOUT)
        subprocess.run([PRIVATE, "stop", daemon], stdout=subprocess.DEVNULL, timeout=TIMEOUT)
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
