#!/usr/bin/python3
"""Benchmark of anshin-agent with the real libnfc and the PN532 emulator (tests/nfc).

Measures
  * tap-to-durable latency: from the moment the reader reported the card (Poll() returned) to
    the tap's row being committed (WAL, synchronous=FULL) — measured inside the agent, which
    logs it for every tap; and, for reference, from the emulator being told to present the card
    to that commit (adds up to one polling period plus the libnfc round trips);
  * the agent's CPU use and resident memory while it idles, polling the emulated reader.

    agent_bench.py AGENT_BINARY [--taps N] [--idle-seconds S] [--poll-interval 100ms]

Targets (issue 4): p99 tap-to-durable < 20 ms, RSS < 20 MB. Prints a small report; exits 1 when a
target is missed.
"""

import argparse
import os
import re
import sys
import time
from datetime import datetime

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "agent"))
sys.path.insert(0, os.path.join(ROOT, "tests", "nfc"))
from agent_harness import Harness, idm, wait_for  # noqa: E402
from pn532_control import Pn532Emulator  # noqa: E402

LINE = re.compile(r"^(\S+) anshin-agent info: tap #(\d+) queued .* durable ([0-9.]+) ms")
CLK_TCK = os.sysconf("SC_CLK_TCK")


def percentile(values, p):
    v = sorted(values)
    if not v:
        return float("nan")
    k = (len(v) - 1) * p / 100.0
    lo, hi = int(k), min(int(k) + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def memory_kb(pid):
    values = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
                values[key] = int(rest.split()[0])
    return values


def parse_taps(log):
    taps = {}
    for line in log.splitlines():
        m = LINE.match(line)
        if m:
            at = datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%f").timestamp()
            taps[int(m.group(2))] = (at, float(m.group(3)))
    return taps


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("agent")
    ap.add_argument("--taps", type=int, default=200)
    ap.add_argument("--idle-seconds", type=float, default=20.0)
    ap.add_argument("--poll-interval", default="100ms")
    args = ap.parse_args()

    cards = [idm(n) for n in range(1, args.taps + 1)]
    with Harness(args.agent, cards) as h, Pn532Emulator(log=False) as emu:
        h.server.start()
        a = h.agent(device=emu.connstring, poll_interval=args.poll_interval, debounce="0s")
        # info level: the per-tap line carries the latency; debug would add noise.
        with open(a.config) as f:
            text = f.read().replace('level = "debug"', 'level = "info"')
        with open(a.config, "w") as f:
            f.write(text)
        a.start(env={"LIBNFC_AUTO_SCAN": "false", "LIBNFC_INTRUSIVE_SCAN": "false"})
        wait_for(lambda: a.status_value("allowlist_version").startswith("1 "), what="allowlist")
        wait_for(lambda: a.status_value("reader_state") == "ok", what="reader")
        pid = a.proc.pid

        # Idle: the reader is polled, nobody taps, nothing is sent.
        time.sleep(2)
        connections = h.server.connection_count()
        cpu0, t0 = cpu_seconds(pid), time.monotonic()
        polls0 = emu.status()["polls"]
        time.sleep(args.idle_seconds)
        cpu1, t1 = cpu_seconds(pid), time.monotonic()
        polls1 = emu.status()["polls"]
        idle_cpu = 100.0 * (cpu1 - cpu0) / (t1 - t0)
        idle_mem = memory_kb(pid)
        idle_connections = h.server.connection_count() - connections

        # Taps: present each card until its row is committed, then remove it.
        presented = {}
        for i, card in enumerate(cards, start=1):
            presented[i] = time.time()
            emu.present(card)
            wait_for(lambda: ("tap #%d queued" % i) in a.log(), timeout=10, interval=0.005,
                     what="tap %d" % i)
            emu.remove()
            time.sleep(0.12)  # the removal is seen before the next card comes
        wait_for(lambda: a.status_value("queue_depth") == "0", what="uploads")
        busy_mem = memory_kb(pid)
        seqs = h.server.committed_seqs()
        a.stop()
        log = a.log()
    return report(args, log, presented, idle_cpu, idle_mem, busy_mem, idle_connections,
                  polls1 - polls0, t1 - t0, seqs)


def report(args, log, presented, idle_cpu, idle_mem, busy_mem, idle_connections, polls, idle_s,
           seqs):
    taps = parse_taps(log)
    inside = [ms for (_, ms) in taps.values()]
    end_to_end = [(taps[i][0] - presented[i]) * 1000.0 for i in taps if i in presented]
    print("anshin-agent benchmark (libnfc + PN532 emulator, poll interval %s)" % args.poll_interval)
    print("  taps measured:                 %d (server received %d, in order: %s)"
          % (len(inside), len(seqs), seqs == sorted(seqs)))
    print("  tap-to-durable (card seen -> row committed), ms:  p50 %.2f  p99 %.2f  max %.2f"
          % (percentile(inside, 50), percentile(inside, 99), max(inside)))
    print("  present-to-durable (emulator present -> commit, incl. polling), ms:  "
          "p50 %.1f  p99 %.1f" % (percentile(end_to_end, 50), percentile(end_to_end, 99)))
    print("  idle for %.0f s: CPU %.2f %%, %d reader polls (%.1f/s), %d server connections"
          % (idle_s, idle_cpu, polls, polls / idle_s, idle_connections))
    print("  memory: idle RSS %.1f MB, after %d taps RSS %.1f MB (peak %.1f MB; of which "
          "private %.1f MB, shared library pages %.1f MB)"
          % (idle_mem["VmRSS"] / 1024, len(inside), busy_mem["VmRSS"] / 1024,
             busy_mem["VmHWM"] / 1024, busy_mem["RssAnon"] / 1024, busy_mem["RssFile"] / 1024))
    ok = percentile(inside, 99) < 20.0 and busy_mem["VmHWM"] < 20 * 1024
    print("  targets (p99 < 20 ms, RSS < 20 MB): %s" % ("met" if ok else "MISSED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
