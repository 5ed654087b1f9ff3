#!/usr/bin/python3
"""Faults: kill -9 of anshin-server while it delivers mail, again and again.

usage: mail_crash_test.py BIN_DIR [--cycles N] [--taps N]

A real deployment (anshin-admin), a real SMTP server (aiosmtpd, in this process, so it outlives
every kill) and the real server on 127.0.0.1. Guardians are verified from their verification
mails; a few thousand taps are uploaded over mutual TLS and acknowledged; then, while the
mailer drains the outbox, the server is killed with SIGKILL at a random moment and restarted,
at least 20 times. Afterwards (issue 12, defect 5 and the fault suite's checker):

  - every acknowledged tap is stored exactly once (more taps are uploaded between kills when a
    fast machine drains the outbox before the 20th), and the outbox holds one notice per
    guardian for every tap whose decision is mailed (outbox consistent with taps);
  - every outbox row ends `sent`, and the relay received every one of them (nothing lost);
  - messages delivered twice (the same Message-ID) are at most what can be on the wire when
    the process dies: the mailer records each message sent the moment the relay accepts it,
    so a kill duplicates at most a few messages per SMTP connection, never a claimed batch.

It prints the figures (kills, messages, duplicates, worst kill) for docs/reliability.md.
"""
import argparse
import collections
import datetime
import os
import random
import re
import sqlite3
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "mail"))
from deployment import Deployment  # noqa: E402
from smtp_server import SmtpServer, parse  # noqa: E402

CHILDREN = 20
CONNECTIONS = 4  # mail.connections of the server under test
# What one kill may duplicate: the messages accepted and not yet recorded (the mailer lets at
# most 2 x connections be), and one per connection on the wire (accepted by the relay, its
# reply not yet read).
PER_KILL_BOUND = 3 * CONNECTIONS


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def db_rows(home, sql):
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(home, "anshin.db"), uri=True, timeout=30)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def wait_for(predicate, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    fail("timed out after %d s waiting for %s" % (timeout, what))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bin_dir")
    ap.add_argument("--cycles", type=int, default=20)
    ap.add_argument("--taps", type=int, default=6000)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    args = ap.parse_args()
    rng = random.Random(args.seed)
    print("seed %d" % args.seed)

    tmp = tempfile.TemporaryDirectory(prefix="anshin-mail-crash-")
    smtp = SmtpServer().start()
    d = Deployment(args.bin_dir, tmp.name)
    log_path = os.path.join(tmp.name, "server.log")
    extra_mail = "connections = %d\nbatch_size = 64\n" % CONNECTIONS
    try:
        # No tap before 23:59 is read as a departure without an open visit: the taps of a child
        # alternate arrival, departure whatever the hour the test runs at.
        d.add_facility("hg1", "光が丘第一学童クラブ", departure_from="23:59", double_tap_window="1s")
        agent = d.enroll_agent("hg1", "hg1-entrance")
        tokens = []
        for i in range(CHILDREN):
            child = d.add_child("hg1", "テスト %d" % i)
            tokens.append(d.assign_card(child, "01020304%08X" % i))
            d.add_guardian(child, "g%d@example.jp" % i)
        d.start_server(smtp.port, log_path, extra_mail=extra_mail)

        # Verify every guardian with the code its verification mail carries.
        mails = wait_for(lambda: len(smtp.messages) >= CHILDREN and list(smtp.messages), 30,
                         "the verification mails")
        for _, rcpts, raw in mails:
            code = re.search(r"確認コード: (\d{6})", parse(raw).get_body().get_content()).group(1)
            gid = db_rows(d.home, "SELECT id FROM guardians WHERE email = '%s'" % rcpts[0])[0][0]
            d.admin("guardian", "verify", "--guardian", str(gid), "--code", code)
        verification_ids = {parse(raw)["Message-ID"] for _, _, raw in mails}

        # The taps, acknowledged before the kills begin (the ingest side has its own crash test).
        start = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=3)
        taps = []

        def upload(count):
            first = len(taps)
            for n in range(first, first + count):
                taps.append((tokens[n % CHILDREN], start + datetime.timedelta(seconds=2 * n), "auto"))
            acked = 0
            for i in range(first, len(taps), 500):
                acked = agent.post(taps[i:i + 500])["acked_through"]
            agent.close()
            if acked != len(taps):
                fail("acknowledged through %d of %d" % (acked, len(taps)))

        upload(args.taps)

        kills = 0
        per_kill = []
        t0 = time.time()
        while kills < args.cycles:
            before = len(smtp.messages)
            # Die at a random moment while mail is flowing (or just after a restart).
            wait_for(lambda: len(smtp.messages) > before or d.server.poll() is not None, 20,
                     "mail to flow after a restart")
            time.sleep(rng.uniform(0.0, 0.15))
            pending = db_rows(d.home, "SELECT count(*) FROM outbox WHERE state <> 'sent'")[0][0]
            if pending == 0:  # a fast machine drained it: more taps, so that every cycle kills
                upload(args.taps // 2)
                continue
            d.server.kill()
            d.server.wait()
            kills += 1
            per_kill.append(len(smtp.messages))
            d.server = None
            d.start_server(smtp.port, log_path, extra_mail=extra_mail)
        wait_for(lambda: db_rows(d.home, "SELECT count(*) FROM outbox WHERE state <> 'sent'")[0][0] == 0,
                 120, "every outbox row sent")
        time.sleep(0.5)  # a message still on the wire would arrive by now
        elapsed = time.time() - t0
        d.stop_server()

        # Taps: each acknowledged once; the outbox follows from them.
        stored = db_rows(d.home, "SELECT seq, count(*) FROM taps GROUP BY seq")
        if len(stored) != len(taps) or any(c != 1 for _, c in stored):
            fail("taps stored: %d distinct of %d, some more than once" % (len(stored), len(taps)))
        mailed = db_rows(d.home, "SELECT count(*) FROM taps WHERE reason IN ('arrival', 'departure', "
                                 "'inferred_departure', 'correction', 'backfilled_arrival')")[0][0]
        notices = db_rows(d.home, "SELECT count(*) FROM outbox WHERE kind <> 'verification'")[0][0]
        if mailed != len(taps) or notices != mailed:
            fail("%d taps mailed, %d notices in the outbox, for %d taps" % (mailed, notices, len(taps)))

        # Mail: every row delivered, duplicates bounded by what was on the wire.
        outbox_ids = {r[0] for r in db_rows(d.home, "SELECT message_id FROM outbox WHERE kind <> 'verification'")}
        counts = collections.Counter(parse(raw)["Message-ID"] for _, _, raw in smtp.messages)
        for mid in verification_ids:
            counts.pop(mid, None)
        missing = outbox_ids - set(counts)
        if missing:
            fail("%d sent rows never reached the relay, e.g. %s" % (len(missing), sorted(missing)[:3]))
        duplicates = sum(c - 1 for c in counts.values())
        print("kills %d in %.1f s; %d notices delivered, %d duplicated (%.2f %%), at most %d per kill allowed"
              % (kills, elapsed, len(outbox_ids), duplicates, 100.0 * duplicates / max(1, len(outbox_ids)),
                 PER_KILL_BOUND))
        if duplicates > kills * PER_KILL_BOUND:
            fail("%d duplicates after %d kills: more than %d per kill" % (duplicates, kills, PER_KILL_BOUND))
        leaks = d.personal_data_in_logs()
        if leaks:
            fail("a name or an address in a log: %s" % leaks[:3])
        print("ok")
    finally:
        if d.server is not None:
            d.server.kill()
            d.server.wait()
        smtp.stop()
        tmp.cleanup()


if __name__ == "__main__":
    main()
