#!/usr/bin/python3
"""End-to-end tests of the real anshin-agent against a test HTTPS server with client-certificate
checking (agent_harness.py). Taps come from the simulated reader's FIFO.

    agent_uplink_test.py AGENT_BINARY CASE      (CASE: see CASES below; "all" runs every one)
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent_harness import Harness, TestFailure, check, idm, wait_for  # noqa: E402

REGISTERED = [idm(n) for n in range(1, 200)]
STRANGER = "0000feedfacecafe"  # e.g. a parent's Suica: not in the allowlist


def start_fetched(h, **kw):
    """Starts the agent and waits for its first-start allowlist fetch."""
    a = h.agent(**kw)
    a.start()
    wait_for(lambda: a.status_value("allowlist_version").startswith("1 "), what="allowlist")
    return a


def wait_queue(a, depth, timeout=20):
    wait_for(lambda: a.status_value("queue_depth") == str(depth), timeout=timeout,
             what="queue_depth %d (now %s)" % (depth, a.status_value("queue_depth")))


def check_arrived_once_in_order(h, n):
    seqs = h.server.committed_seqs()
    check(seqs == list(range(1, n + 1)), "server committed %r, want 1..%d" % (seqs, n))
    # Retries may deliver a batch again (the server's idempotency absorbs it), but every
    # delivery is in seq order: the first deliveries, de-duplicated, are 1..n.
    first = []
    for seq in h.server.received:
        if seq not in first:
            first.append(seq)
    check(first == list(range(1, n + 1)), "taps arrived out of order: %r" % h.server.received)


def case_offline_afternoon(binary):
    """Offline for a whole (compressed) afternoon, then online: every tap arrives once, in
    order."""
    with Harness(binary, REGISTERED) as h:
        h.server.start()
        a = start_fetched(h)
        h.server.stop()
        n = 30
        for i in range(n):  # children arriving and leaving, one tap line each
            h.tap(REGISTERED[i % 15], present_ms=30)
        wait_queue(a, n)
        check(a.status_value("last_upload_error") != "-", "no upload error while offline")
        time.sleep(1.5)  # a few more failed attempts under backoff
        h.server.start()
        wait_queue(a, 0, timeout=15)
        check_arrived_once_in_order(h, n)
        check(len(h.server.received) == n, "duplicates delivered: %r" % h.server.received)
        check("accepted: tap #30 saved" in a.console(), "no accepted feedback")
        check(a.stop() == 0, "agent did not exit cleanly on SIGTERM")


def case_server_500(binary):
    """500 answers are retried: no loss, no duplicate."""
    with Harness(binary, REGISTERED) as h:
        h.server.start()
        a = start_fetched(h)
        h.server.fail_500 = 3
        for i in range(6):
            h.tap(REGISTERED[i])
        # The queue may be empty before the taps are even read: wait for the server's side.
        wait_for(lambda: len(h.server.committed_seqs()) >= 6, what="six taps committed")
        wait_queue(a, 0)
        check(h.server.fail_500 == 0, "the 500s were not all used")
        check_arrived_once_in_order(h, 6)
        check(a.stop() == 0, "agent did not exit cleanly")


def case_dropped_connection(binary):
    """The server commits a batch and drops the connection before answering: the agent resends,
    the server's idempotency absorbs it: no loss, no duplicate."""
    with Harness(binary, REGISTERED) as h:
        h.server.start()
        a = start_fetched(h)
        h.server.stop()  # let a few taps queue up so they travel as one batch
        for i in range(6):
            h.tap(REGISTERED[i])
        wait_queue(a, 6)
        h.server.drop_after_commit = 1
        h.server.start()
        wait_queue(a, 0)
        check(h.server.drop_after_commit == 0, "no connection was dropped")
        check_arrived_once_in_order(h, 6)
        check(len(h.server.received) > 6, "the dropped batch was not resent")
        check(a.stop() == 0, "agent did not exit cleanly")


def case_kill9_before_upload(binary):
    """kill -9 between commit and upload: nothing is lost after the restart."""
    with Harness(binary, REGISTERED) as h:
        h.server.start()
        a = start_fetched(h)
        h.server.stop()
        for i in range(5):
            h.tap(REGISTERED[i])
        wait_queue(a, 5)
        a.kill9()
        h.server.start()
        a.start()
        wait_queue(a, 0)
        check_arrived_once_in_order(h, 5)
        h.tap(REGISTERED[10])
        wait_for(lambda: h.server.committed_seqs()[-1:] == [6], what="seq 6 after restart")
        check(a.stop() == 0, "agent did not exit cleanly")


def case_idle_no_connection(binary):
    """Ward requirement 2: no connection while nobody taps; one connection per tap burst."""
    with Harness(binary, REGISTERED) as h:
        h.server.start()
        a = start_fetched(h)
        time.sleep(0.5)
        before = h.server.connection_count()
        check(before == 1, "first start made %d connections, want 1" % before)
        time.sleep(4)  # idle
        check(h.server.connection_count() == before,
              "connections while idle: %d" % (h.server.connection_count() - before))
        h.tap(REGISTERED[0])
        wait_for(lambda: h.server.committed_seqs() == [1], what="tap delivered")
        wait_for(lambda: len(h.server.allowlist_gets) == 2, what="allowlist refresh")
        time.sleep(1)
        check(h.server.connection_count() == before + 1,
              "one tap made %d connections, want 1 (taps + health + allowlist share one)"
              % (h.server.connection_count() - before))
        check(h.server.allowlist_gets == [0, 1], "allowlist requests %r" % h.server.allowlist_gets)
        health = h.server.healths[-1]
        check(health.get("reader_state") == "ok", "health: %r" % health)
        check(h.server.peer_names == {Harness.AGENT_NAME}, "peer %r" % h.server.peer_names)
        time.sleep(3)
        check(h.server.connection_count() == before + 1, "connections after the upload")
        check(a.stop() == 0, "agent did not exit cleanly")


def case_rejected_batch(binary):
    """A 4xx-rejected batch is kept, visible in `anshin-agent status`, and sent once allowed."""
    with Harness(binary, REGISTERED) as h:
        h.server.start()
        a = start_fetched(h)
        h.server.reject = True
        h.tap(REGISTERED[0])
        h.tap(REGISTERED[1])
        # Both taps are queued (the second may land after the first upload was refused).
        wait_for(lambda: a.status_value("rejected_batches") not in ("", "0")
                 and a.status_value("queue_depth") == "2", what="rejection of both taps")
        st = a.status()
        check(st["queue_depth"] == "2", "status: %r" % st)
        check("HTTP 403: agent disabled" in st["last_upload_error"], "status: %r" % st)
        check(st["oldest_unsent"] != "-", "status: %r" % st)
        check(h.server.committed_seqs() == [], "a rejected batch was committed")
        h.server.reject = False
        wait_queue(a, 0, timeout=15)
        check_arrived_once_in_order(h, 2)
        check(h.server.healths[-1].get("rejected_batches", 0) >= 1, "health lacks rejections")
        check(a.stop() == 0, "agent did not exit cleanly")


def case_not_registered(binary):
    """A card not in the allowlist: "not registered" feedback, counted, nothing queued or sent;
    no connection either, as the start-up fetch is younger than `unknown_card_refresh` (10m)."""
    with Harness(binary, REGISTERED) as h:
        h.server.start()
        a = start_fetched(h, extra='[feedback]\nnot_registered = "sh -c \'echo beep >> %s\'"\n'
                          % os.path.join(h.dir, "beeps"))
        before = h.server.connection_count()
        h.tap(STRANGER)
        wait_for(lambda: "not_registered" in a.console(), what="not registered feedback")
        wait_for(lambda: os.path.exists(os.path.join(h.dir, "beeps")), what="feedback command")
        check(a.status_value("unknown_taps") == "1", "status: %r" % a.status())
        check(a.status_value("queue_depth") == "0", "status: %r" % a.status())
        time.sleep(1)
        check(h.server.connection_count() == before, "an unknown tap made a connection")
        check(h.server.received == [], "an unknown tap was sent")
        check(STRANGER not in a.log() and STRANGER not in a.console(), "raw IDm in the output")
        db = open(os.path.join(h.dir, "agent.db"), "rb").read()
        check(bytes.fromhex(STRANGER) not in db and STRANGER.encode() not in db,
              "raw IDm in the database")
        check(a.stop() == 0, "agent did not exit cleanly")


def case_card_registered_since_refresh(binary):
    """A card issued after the agent's last allowlist refresh is accepted on its first tap (the
    unknown card refreshes the allowlist at once, in a connection of its own); a stranger's card
    tapped twice within `unknown_card_refresh` costs exactly one refresh."""
    interval = 3.0
    with Harness(binary, REGISTERED) as h:
        h.server.start()
        a = start_fetched(h, debounce="100ms",
                          uplink='unknown_card_refresh = "%ds"' % interval)
        started = time.monotonic()
        new_card = idm(500)  # issued this morning, after the agent's last refresh
        h.server.register(h.token(new_card))
        time.sleep(max(0.0, interval + 0.5 - (time.monotonic() - started)))
        before = h.server.connection_count()
        h.tap(new_card)
        wait_for(lambda: h.server.committed_seqs() == [1], what="the new card's tap delivered")
        wait_for(lambda: len(h.server.allowlist_requests()) == 3, what="the upload's refresh")
        check("accepted: tap #1 saved" in a.console(), "no accepted feedback: %r" % a.console())
        check("not_registered" not in a.console(), "the new card was refused")
        wait_queue(a, 0)
        check(a.status_value("unknown_taps") in ("", "0"), "status: %r" % a.status())
        # The start-up fetch, the unknown card's refresh (since=1 -> version 2), the upload's.
        check(h.server.allowlist_requests() == [0, 1, 2],
              "allowlist requests %r" % h.server.allowlist_requests())
        check(h.server.connection_count() == before + 2,
              "the new card made %d connections, want 2 (refresh, upload)"
              % (h.server.connection_count() - before))
        committed = h.server.committed[(Harness.AGENT_NAME, 1)]
        check(committed["card"] == h.token(new_card), "committed %r" % committed)

        # Two taps of a stranger's card, well within one interval: one refresh between them.
        time.sleep(interval + 0.5)
        before = h.server.connection_count()
        h.tap(STRANGER)
        h.tap(STRANGER, delay_ms=300)
        wait_for(lambda: a.status_value("unknown_taps") == "2", what="two unknown taps")
        time.sleep(1)
        check(h.server.connection_count() == before + 1,
              "two stranger taps made %d connections, want 1"
              % (h.server.connection_count() - before))
        check(h.server.allowlist_requests() == [0, 1, 2, 2],
              "allowlist requests %r" % h.server.allowlist_requests())
        check(a.console().count("not_registered") == 2, "console: %r" % a.console())
        check(h.server.committed_seqs() == [1], "a stranger's tap was sent")
        check(STRANGER not in a.log() and STRANGER not in a.console(), "raw IDm in the output")
        db = open(os.path.join(h.dir, "agent.db"), "rb").read()
        check(bytes.fromhex(STRANGER) not in db and STRANGER.encode() not in db,
              "raw IDm in the database")

        # Offline: the unknown card is "not registered" (reason logged), queued taps unharmed.
        time.sleep(interval + 0.5)
        h.server.stop()
        h.tap(REGISTERED[0])
        wait_queue(a, 1)
        h.tap(idm(501))
        wait_for(lambda: a.status_value("unknown_taps") == "3", what="unknown tap while offline")
        check("allowlist refresh for an unknown card" in a.log(), "reason not logged")
        h.server.start()
        wait_queue(a, 0, timeout=15)
        check(h.server.committed_seqs() == [1, 2], "committed %r" % h.server.committed_seqs())
        check(a.stop() == 0, "agent did not exit cleanly")


def case_config_errors(binary):
    """Bad configs exit non-zero naming the key; --help works; status needs a database."""
    import subprocess
    with Harness(binary, REGISTERED) as h:
        out = subprocess.run([binary, "--help"], capture_output=True, text=True)
        check(out.returncode == 0 and "status" in out.stdout, "--help: %r" % out.stdout)
        bad = os.path.join(h.dir, "bad.toml")
        for text, key in [("[agent]\nname = \"x\"\n", "agent.card_key"),
                          ("[agent]\nnmae = \"x\"\n", "agent.nmae"),
                          ("[agent]\nname = \"x\"\ncard_key = \"%s\"\n[reader]\ndebounce = \"later\"\n"
                           % h.card_key_path, "reader.debounce")]:
            with open(bad, "w") as f:
                f.write(text)
            out = subprocess.run([binary, "run", "--config", bad], capture_output=True,
                                 text=True, timeout=10)
            check(out.returncode != 0, "bad config accepted: %r" % text)
            check(key in out.stderr, "error does not name %s: %r" % (key, out.stderr))
        a = h.agent()
        out = subprocess.run([binary, "status", "--config", a.config], capture_output=True,
                             text=True, timeout=10)
        check(out.returncode != 0, "status without a database succeeded")


def case_reader_fault_recovers(binary):
    """The simulated reader's FIFO vanishes and comes back: fault reported, recovery alone."""
    with Harness(binary, REGISTERED) as h:
        h.server.start()
        fifo2 = os.path.join(h.dir, "late.fifo")
        a = h.agent(device="simulated-fifo:" + fifo2)
        a.start()
        wait_for(lambda: a.status_value("reader_state") == "error", what="reader fault")
        check("No such file" in a.status_value("reader_error"), "status: %r" % a.status())
        check("reader_error" in a.console(), "no reader_error feedback")
        os.mkfifo(fifo2, 0o600)
        wait_for(lambda: a.status_value("reader_state") == "ok", what="recovery")
        check(a.running(), "agent exited")
        check(a.stop() == 0, "agent did not exit cleanly")


def case_log_times_have_offset(binary):
    """Issue 13: log lines carried no time zone (19:16 JST showed as 10:16). Every line now has
    an RFC 3339 time with the process's UTC offset."""
    import re
    with Harness(binary, REGISTERED) as h:
        h.server.start()
        a = h.agent()
        a.start(env={"TZ": "Asia/Tokyo", "JOURNAL_STREAM": None})  # not journald: times shown
        wait_for(lambda: a.status_value("allowlist_version").startswith("1 "), what="allowlist")
        check(a.stop() == 0, "agent did not exit cleanly")
        lines = [line for line in a.log().splitlines() if line.strip()]
        check(lines, "no log lines")
        stamp = re.compile(r"^time=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+09:00 level=")
        bad = [line for line in lines if not stamp.match(line)]
        check(not bad, "lines without an RFC 3339 time with +09:00: %r" % bad[:3])


def case_heartbeat(binary):
    """With the heartbeat on and within hours, an idle agent posts its health (no taps) at most
    once per interval, and a broken reader is seen at the server without any tap."""
    with Harness(binary, REGISTERED) as h:
        h.server.start()
        a = h.agent(device="simulated-fifo:" + os.path.join(h.dir, "no-such.fifo"),
                    uplink='heartbeat = "2s"\nheartbeat_hours = "00:00-24:00"\n'
                           'heartbeat_days = "sun-sat"\n',
                    extra='format = "json"\n')
        a.start(env={"TZ": "UTC", "JOURNAL_STREAM": None})
        wait_for(lambda: len(h.server.health_only_times) >= 3, timeout=20, what="3 heartbeats")
        times = list(h.server.health_only_times)
        gaps = [b - t for t, b in zip(times, times[1:])]
        check(all(g >= 1.9 for g in gaps), "heartbeats closer than the interval: %r" % gaps)
        check(h.server.committed_seqs() == [], "a heartbeat carried taps")
        health = h.server.healths[-1]
        check(health.get("reader_state") == "error", "health: %r" % health)
        check("No such file" in health.get("reader_error", ""), "health: %r" % health)
        check(a.stop() == 0, "agent did not exit cleanly")
        events = [json.loads(line) for line in a.log().splitlines() if line.startswith("{")]
        beats = [e for e in events if e.get("event") == "heartbeat"]
        check(beats and beats[0].get("result") == "sent" and beats[0]["time"].endswith("+00:00"),
              "heartbeat log records: %r" % beats[:2])


def case_heartbeat_out_of_hours(binary):
    """Outside the opening hours the heartbeat stays silent: no connection without a tap."""
    hour = time.gmtime().tm_hour
    hours = "20:00-22:00" if hour < 12 else "02:00-04:00"  # hours away from now, in UTC
    with Harness(binary, REGISTERED) as h:
        h.server.start()
        a = start_fetched(h, uplink='heartbeat = "1s"\nheartbeat_hours = "%s"\n'
                                    'heartbeat_days = "sun-sat"\n' % hours)
        before = h.server.connection_count()
        time.sleep(5)
        check(h.server.connection_count() == before,
              "%d connection(s) out of hours" % (h.server.connection_count() - before))
        check(h.server.health_only_times == [], "heartbeats out of hours")
        check(a.stop() == 0, "agent did not exit cleanly")


def case_check_config(binary):
    """--check-config: exit 0 with a summary for a good bundle; every problem listed, exit 1."""
    import subprocess
    with Harness(binary, REGISTERED) as h:
        a = h.agent()
        out = subprocess.run([binary, "--config", a.config, "--check-config"],
                             capture_output=True, text=True, timeout=10)
        check(out.returncode == 0 and "configuration OK" in out.stdout,
              "good config: %d %r %r" % (out.returncode, out.stdout, out.stderr))
        check("valid until" in out.stdout, "no certificate expiry: %r" % out.stdout)
        bad = os.path.join(h.dir, "bad.toml")
        with open(a.config) as f:
            text = f.read()
        text = text.replace('batch_size = 4', 'batch_sise = 4').replace(
            'key = "%s"' % h.pki.agent_key, 'key = "%s"' % h.pki.server_key)
        with open(bad, "w") as f:
            f.write(text)
        out = subprocess.run([binary, "--config", bad, "--check-config"],
                             capture_output=True, text=True, timeout=10)
        check(out.returncode == 1, "bad config: exit %d" % out.returncode)
        check("2 problems" in out.stderr, "summary: %r" % out.stderr)
        check('uplink.batch_sise: unknown key (did you mean "uplink.batch_size"?)' in out.stderr,
              "misspelt key: %r" % out.stderr)
        check("uplink.key:" in out.stderr and "does not match the certificate" in out.stderr,
              "key mismatch: %r" % out.stderr)


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}


def main():
    if len(sys.argv) != 3 or (sys.argv[2] not in CASES and sys.argv[2] != "all"):
        sys.exit("usage: agent_uplink_test.py AGENT_BINARY {%s|all}" % "|".join(CASES))
    binary = sys.argv[1]
    names = list(CASES) if sys.argv[2] == "all" else [sys.argv[2]]
    for name in names:
        start = time.monotonic()
        try:
            CASES[name](binary)
        except TestFailure as e:
            print("FAIL %s: %s" % (name, e))
            sys.exit(1)
        print("ok   %s (%.1f s)" % (name, time.monotonic() - start))


if __name__ == "__main__":
    main()
