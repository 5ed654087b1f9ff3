#!/usr/bin/python3
"""Faults: the reader agent killed (kill -9) or its power cut, again and again, while children tap.

usage: agent_crash_test.py BIN_DIR MODE [--cycles N] [--seed S] [--shim PATH] [--agent PATH]

MODE kill: SIGKILL of anshin-agent at a random moment while taps stream in from its simulated
reader and it uploads them in small batches to the real anshin-server: the kills land between a
tap and its commit, between a commit and the upload, and between the server's commit and the
agent's deletion of the acknowledged rows (the ACK lost).

MODE powercut: the same with the agent under the power-cut layer (powercut_shim.c, LD_PRELOAD):
its database directory keeps no write that was not fsync'ed when the process dies; half the cycles
also let random sectors of unsynced pages reach the disk before the cut (as writeback would).

Checker, after the last restart and the queue drained:
  - every tap the reader reported as saved to the child ("accepted: tap #N saved" on the console,
    printed after the commit returned) is stored at the server exactly once, with one decision;
  - the agent opened its queue after every kill or cut (no corruption: integrity_check ok at the
    end, seqs never reused for another tap: the server refused no batch);
  - one notice per guardian for every mailed tap, each delivered to the relay exactly once.
It prints the figures for docs/reliability.md.
"""
import argparse
import os
import random
import re
import sqlite3
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fault_common import (Deployment, Failure, RealAgent, SmtpServer, check, check_taps_and_mail,  # noqa: E402
                          db_rows, make_children, outbox_pending, server_rows, verify_guardians, wait_for)

CHILDREN = 24
TAP_EVERY = 0.07  # s between taps of the feeder; one card comes back every 1.7 s


def queued_seqs(agent_db):
    """The seqs still in the agent's queue (read after the agent died: the state it restarts from)."""
    if not os.path.exists(agent_db):
        return set()
    db = sqlite3.connect("file:%s?mode=ro" % agent_db, uri=True, timeout=10)
    try:
        if not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'taps'").fetchall():
            return set()  # nothing of the queue ever synced
        return {r[0] for r in db.execute("SELECT seq FROM taps")}
    finally:
        db.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bin_dir")
    ap.add_argument("mode", choices=["kill", "powercut"])
    ap.add_argument("--cycles", type=int, default=25)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--shim")
    ap.add_argument("--agent", help="anshin-agent (default: BIN_DIR/anshin-agent)")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    print("seed %d" % args.seed)
    if args.mode == "powercut":
        check(args.shim and os.path.exists(args.shim), "--shim: the power-cut layer is needed")

    tmp = tempfile.TemporaryDirectory(prefix="anshin-agent-crash-")
    smtp = SmtpServer().start()
    d = Deployment(args.bin_dir, tmp.name)
    agent = None
    feeding = threading.Event()
    stop_feeder = threading.Event()
    try:
        d.add_facility("hg1", "光が丘第一学童クラブ", departure_from="23:59", double_tap_window="1s")
        bundle = os.path.join(tmp.name, "bundle")
        d.admin("agent", "enroll", "--facility", "hg1", "--name", "hg1-entrance", "--out", bundle,
                "--server-url", "https://127.0.0.1:0")
        make_children(d, "hg1", CHILDREN)
        d.start_server(smtp.port, os.path.join(tmp.name, "server.log"))
        verification_ids = verify_guardians(d, smtp, CHILDREN)
        with open(os.path.join(bundle, "agent.toml")) as f:
            text = f.read()
        with open(os.path.join(bundle, "agent.toml"), "w") as f:
            f.write(re.sub(r'server_url = "[^"]*"', 'server_url = "https://127.0.0.1:%d"' % d.agents_port, text))
        data_dir = os.path.join(tmp.name, "agent-data")
        agent = RealAgent(args.agent or os.path.join(args.bin_dir, "anshin-agent"), tmp.name, bundle, data_dir,
                          uplink_extra="batch_size = 3\n")

        def env_for(cycle):
            if args.mode != "powercut":
                return None
            return {"LD_PRELOAD": args.shim, "ANSHIN_POWERCUT_DIR": data_dir,
                    "ANSHIN_POWERCUT_SEED": str(rng.randrange(1, 2**62)),
                    "ANSHIN_POWERCUT_WRITEBACK": "50" if cycle % 2 else "0"}

        taps_fed = [0]

        def feeder():
            n = 0
            while not stop_feeder.is_set():
                if feeding.is_set():
                    agent.tap(n % CHILDREN)
                    n += 1
                    taps_fed[0] = n
                time.sleep(TAP_EVERY)

        threading.Thread(target=feeder, daemon=True).start()

        # The first start fetches the allowlist; only then do taps count as registered cards.
        starts = agent.log().count(" started; reader ") if os.path.exists(agent.log_path) else 0
        agent.start(env_for(0))
        # (From the log: `status` reads the disk, which under the power-cut layer holds only what
        # was synced.)
        wait_for(lambda: re.search(r"allowlist version \d+: %d cards" % CHILDREN, agent.log()), 60,
                 "the allowlist")
        feeding.set()
        kills = 0
        queued_at_kill = 0      # kills after which taps were still queued at the agent
        acked_unforgotten = 0   # of those, kills after which the server already held some (ACK lost)
        resent = 0              # taps re-sent because of that
        t0 = time.time()
        while kills < args.cycles:
            wait_for(lambda: agent.log().count(" started; reader ") > starts or agent.proc.poll() is not None,
                     30, "the agent to start")
            if agent.proc.poll() is not None:
                raise Failure("the agent exited after a restart (%d): it could not open its queue?"
                              % agent.proc.returncode)
            time.sleep(rng.uniform(0.05, 0.9))
            agent.kill9()
            kills += 1
            queued = queued_seqs(agent.db)
            if queued:
                queued_at_kill += 1
                at_server = {r[0] for r in server_rows(d, "SELECT seq FROM taps")}
                if queued & at_server:
                    acked_unforgotten += 1
                    resent += len(queued & at_server)
            starts = agent.log().count(" started; reader ")
            agent.start(env_for(kills))
        feeding.clear()
        elapsed = time.time() - t0

        # Drain: the last agent (a normal one from here on) uploads what is queued.
        accepted = agent.accepted_seqs()
        check(len(accepted) == len(set(accepted)), "the reader reported one seq twice: %r"
              % sorted(s for s in accepted if accepted.count(s) > 1)[:5])
        wait_for(lambda: agent.status().get("queue_depth") == "0", 60, "the agent's queue to drain")
        status = agent.status()
        check(status.get("rejected_batches", "0") == "0", "the server refused batches: %s"
              % status.get("last_upload_error"))
        check(agent.stop() == 0, "the agent did not stop cleanly")
        integrity = db_rows(agent.db, "PRAGMA integrity_check")
        check(integrity == [("ok",)], "agent.db after the cuts: %r" % integrity[:3])
        wait_for(lambda: outbox_pending(d) == 0, 60, "every notice sent")
        time.sleep(0.3)
        stored, delivered, _ = check_taps_and_mail(d, smtp, verification_ids, accepted)
        latencies = [float(x) for x in re.findall(r"durable ([\d.]+) ms after", agent.log())]
        mean_latency = sum(latencies) / max(1, len(latencies))
        print("%s: %d kills in %.1f s; %d taps fed, %d reported saved, %d stored at the server (each once), "
              "%d notices delivered once each; kills with taps queued %d, with the ACK lost %d (%d taps re-sent, "
              "stored once); tap-to-fsync %.2f ms on average (a tap in that window %.1f %% of the time)"
              % (args.mode, kills, elapsed, taps_fed[0], len(accepted), stored, delivered, queued_at_kill,
                 acked_unforgotten, resent, mean_latency, 100.0 * mean_latency / 1000.0 / TAP_EVERY))
        leaks = d.personal_data_in_logs()
        check(not leaks, "a name or an address in a log: %s" % leaks[:3])
        print("ok")
        return 0
    except Failure as e:
        for name in ("agent.log", "server.log"):
            path = os.path.join(tmp.name, name)
            if os.path.exists(path):
                sys.stderr.write("--- %s (tail) ---\n%s\n" % (name, open(path, errors="replace").read()[-3000:]))
        print("FAIL: %s" % e, file=sys.stderr)
        return 1
    finally:
        stop_feeder.set()
        if agent is not None and agent.proc is not None:
            agent.proc.kill()
            agent.proc.wait()
        if d.server is not None:
            d.server.kill()
            d.server.wait()
        smtp.stop()
        tmp.cleanup()


if __name__ == "__main__":
    sys.exit(main())
