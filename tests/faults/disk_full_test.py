#!/usr/bin/python3
"""Faults: the disk fills up under the server's database, or under the agent's queue.

usage: disk_full_test.py BIN_DIR MODE [--agent PATH]

Each mode mounts a small tmpfs (so it needs root: without it, or without mount, it exits 77,
which ctest reports as skipped), puts the directory under test on it and fills it with a file
until ENOSPC; later it deletes the file (space returns).

MODE server: the whole server home (anshin.db and its WAL) on the tmpfs. Taps are uploaded in
batches until the store cannot commit. Checker: the answer is 503 with Retry-After and a reason
in words (no SQL), the server's log names the full disk, the server keeps running, every tap it
acknowledged is stored (nothing acknowledged that is not stored); when space returns the same
batch is accepted and every tap is stored exactly once.

MODE agent: the agent's database directory on the tmpfs, the server away. Taps queued before the
disk filled stay queued; a tap that cannot be saved is refused to the child ("tap not saved,
please tap again") and logged as a full disk, and the agent keeps running; when space returns
taps are saved again, and every tap reported saved reaches the server exactly once.
"""
import argparse
import datetime
import errno
import http.client
import json
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fault_common import (Deployment, Failure, RealAgent, SmtpServer, check, make_children,  # noqa: E402
                          server_rows, wait_for)
from deployment import rfc3339  # noqa: E402

SKIP = 77


def mount_tmpfs(path, size):
    os.makedirs(path)
    if os.geteuid() != 0:
        print("SKIP: mounting a tmpfs needs root (this test fills a small filesystem)")
        sys.exit(SKIP)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=0700" % size, "tmpfs", path],
                       capture_output=True, text=True)
    if r.returncode != 0:
        print("SKIP: cannot mount a tmpfs here: %s" % r.stderr.strip())
        sys.exit(SKIP)


def fill(path):
    """Writes a file until the filesystem is full; returns its path."""
    filler = os.path.join(path, "filler")
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for chunk in (1 << 20, 4096, 512, 1):
            block = b"\0" * chunk
            try:
                while True:
                    os.write(fd, block)
            except OSError as e:
                if e.errno != errno.ENOSPC:
                    raise
    finally:
        os.close(fd)
    return filler


def post(agent, d, taps, first_seq):
    """One upload with explicit seqs (a retry re-sends the same ones); (status, headers, body)."""
    body = {"agent": agent.name, "sent_at": rfc3339(datetime.datetime.now(datetime.timezone.utc)),
            "taps": [{"seq": first_seq + i, "card": t, "at": rfc3339(at), "reader": "entrance",
                      "direction": "auto"} for i, (t, at) in enumerate(taps)]}
    conn = http.client.HTTPSConnection("127.0.0.1", d.agents_port, context=agent.ctx, timeout=30)
    try:
        conn.request("POST", "/v1/taps", body=json.dumps(body).encode(),
                     headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read().decode("utf-8", "replace")
    finally:
        conn.close()


def server_mode(args, tmp):
    fs = os.path.join(tmp, "fs")
    mount_tmpfs(fs, "24m")
    smtp = SmtpServer().start()
    d = None
    try:
        d = Deployment(args.bin_dir, fs)
        d.add_facility("hg1", "光が丘第一学童クラブ", departure_from="23:59", double_tap_window="1s")
        agent = d.enroll_agent("hg1", "hg1-entrance")
        tokens = make_children(d, "hg1", 10)
        log_path = os.path.join(tmp, "server.log")
        d.start_server(smtp.port, log_path)
        start = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=1)
        batch = 50

        def taps(first):
            return [(tokens[n % len(tokens)], start + datetime.timedelta(seconds=2 * n))
                    for n in range(first - 1, first - 1 + batch)]

        seq, acked = 1, 0
        for _ in range(4):  # before the disk fills
            status, _, body = post(agent, d, taps(seq), seq)
            check(status == 200, "upload before the disk filled: %d %s" % (status, body))
            acked = json.loads(body)["acked_through"]
            seq += batch
        filler = fill(fs)
        refused = None
        for _ in range(400):  # until the store cannot commit (the WAL may have room for a while)
            status, headers, body = post(agent, d, taps(seq), seq)
            if status != 200:
                refused = (status, headers, body)
                break
            acked = json.loads(body)["acked_through"]
            seq += batch
        check(refused is not None, "400 uploads accepted on a full disk")
        status, headers, body = refused
        check(status == 503, "a full disk answered %d %s" % (status, body))
        check(headers.get("Retry-After"), "503 without Retry-After")
        check("SQL" not in body and "sqlite" not in body.lower() and "INSERT" not in body,
              "internal text in the answer: %s" % body)
        check(d.server.poll() is None, "the server died on a full disk")
        again = post(agent, d, taps(seq), seq)
        check(again[0] == 503, "the retry on a full disk answered %d" % again[0])
        with open(log_path, errors="replace") as f:
            log = f.read()
        check("disk is full" in log, "the server's log does not name the full disk")
        stored = {r[0] for r in server_rows(d, "SELECT seq FROM taps")}
        check(set(range(1, acked + 1)) <= stored, "acknowledged through %d, %d stored"
              % (acked, len(stored)))
        check(max(stored) < seq, "a tap of the refused batch was stored: %d" % max(stored))
        os.unlink(filler)
        t_free = time.time()
        status, _, body = post(agent, d, taps(seq), seq)
        check(status == 200, "after space returned: %d %s" % (status, body))
        recovered = time.time() - t_free
        last = seq + batch - 1
        check(json.loads(body)["acked_through"] == last, "acknowledged %s, expected %d" % (body, last))
        seqs = server_rows(d, "SELECT seq, count(*) FROM taps GROUP BY seq")
        check([s for s, _ in seqs] == list(range(1, last + 1)) and all(c == 1 for _, c in seqs),
              "after recovery: %d taps stored, expected 1..%d once each" % (len(seqs), last))
        logged = [line for line in log.splitlines() if "disk is full" in line][0]
        print("server: %d taps acknowledged on the full disk before the store could not commit; then 503 "
              "with Retry-After: %s; log: %s; space back: the same batch accepted at once (%.2f s), "
              "%d taps stored once each" % (acked - 4 * batch, refused[2].strip(), logged[:200], recovered, last))
        return 0
    finally:
        if d is not None and d.server is not None:
            d.server.kill()
            d.server.wait()
        smtp.stop()
        subprocess.run(["umount", "-l", fs])


def agent_mode(args, tmp):
    fs = os.path.join(tmp, "fs")
    mount_tmpfs(fs, "4m")
    smtp = SmtpServer().start()
    d = Deployment(args.bin_dir, os.path.join(tmp, "deploy"))
    agent = None
    try:
        d.add_facility("hg1", "光が丘第一学童クラブ", departure_from="23:59", double_tap_window="1s")
        bundle = os.path.join(tmp, "bundle")
        d.start_server(smtp.port, os.path.join(tmp, "server.log"))
        d.admin("agent", "enroll", "--facility", "hg1", "--name", "hg1-entrance", "--out", bundle,
                "--server-url", "https://127.0.0.1:%d" % d.agents_port)
        make_children(d, "hg1", 10)
        agent = RealAgent(args.agent, tmp, bundle, os.path.join(fs, "agent"))
        agent.start()
        wait_for(lambda: agent.allowlist_cards() == 10, 60, "the allowlist")
        for n in range(3):
            agent.tap(n)
        wait_for(lambda: len(server_rows(d, "SELECT seq FROM taps")) == 3, 30, "3 taps at the server")
        d.stop_server()  # the server away: what is saved stays queued
        for n in range(3, 6):
            agent.tap(n)
        wait_for(lambda: len(agent.accepted_seqs()) == 6, 30, "3 taps queued")
        filler = fill(fs)
        refused = 0
        for n in range(200):
            agent.tap(n % 10)
            time.sleep(0.08)
            with open(agent.console_path, errors="replace") as f:
                refused = f.read().count("tap not saved, please tap again")
            if refused:
                break
        check(refused, "200 taps saved on a full disk")
        check(agent.proc.poll() is None, "the agent died on a full disk")
        full_saved = len(agent.accepted_seqs()) - 6
        check("disk is full" in agent.log(), "the agent's log does not name the full disk")
        status = agent.status()  # the queue can still be read, and holds what was saved
        check(status["_rc"] == 0 and status.get("queue_depth") == str(3 + full_saved),
              "status on the full disk: %r" % status)
        for n in range(3):  # still refused, still running
            agent.tap(n)
        time.sleep(0.5)
        check(agent.proc.poll() is None, "the agent died on a full disk")
        os.unlink(filler)
        before = len(agent.accepted_seqs())
        for n in range(3):
            agent.tap(n + 3)
        wait_for(lambda: len(agent.accepted_seqs()) == before + 3, 30, "taps saved once space returned")
        d.start_server(smtp.port, os.path.join(tmp, "server.log"))
        # The agent had the old port: point it at the new one and restart it (as after an outage).
        with open(agent.config) as f:
            text = f.read()
        with open(agent.config, "w") as f:
            f.write(re.sub(r'server_url = "[^"]*"', 'server_url = "https://127.0.0.1:%d"' % d.agents_port, text))
        check(agent.stop() == 0, "the agent did not stop cleanly")
        agent.start()
        wait_for(lambda: agent.status().get("queue_depth") == "0", 60, "the queue drained")
        accepted = agent.accepted_seqs()
        seqs = server_rows(d, "SELECT seq, count(*) FROM taps GROUP BY seq")
        check(all(c == 1 for _, c in seqs), "a tap stored twice")
        check(sorted(s for s, _ in seqs) == sorted(accepted), "server seqs %r, reported saved %r"
              % ([s for s, _ in seqs], accepted))
        print("agent: 6 taps saved before the disk filled (3 queued with the server away), %d more saved on "
              "the full disk before a tap was refused ('tap not saved, please tap again'); the agent kept "
              "running and status showed the queue; space back: taps saved at once; all %d saved taps stored at the server once each"
              % (full_saved, len(accepted)))
        return 0
    finally:
        if agent is not None and agent.proc is not None:
            agent.proc.kill()
            agent.proc.wait()
        if d.server is not None:
            d.server.kill()
            d.server.wait()
        smtp.stop()
        subprocess.run(["umount", "-l", fs])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bin_dir")
    ap.add_argument("mode", choices=["server", "agent"])
    ap.add_argument("--agent")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="anshin-disk-full-")
    try:
        code = server_mode(args, tmp) if args.mode == "server" else agent_mode(args, tmp)
        print("ok")
        return code
    except Failure as e:
        for name in ("server.log", "agent.log"):
            path = os.path.join(tmp, name)
            if os.path.exists(path):
                sys.stderr.write("--- %s (tail) ---\n%s\n" % (name, open(path, errors="replace").read()[-3000:]))
        print("FAIL: %s" % e, file=sys.stderr)
        return 1
    finally:
        subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    sys.exit(main())
