"""Pieces the fault tests share: a deployment with verified guardians (tests/mail/deployment.py,
the real anshin-admin and anshin-server, aiosmtpd in this process), the real anshin-agent set up
from its enrolment bundle with the simulated reader, and the checkers of what the server holds.
Standard library and python3-aiosmtpd only."""
import collections
import os
import re
import sqlite3
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "mail"))
from deployment import Deployment  # noqa: E402,F401
from smtp_server import SmtpServer, parse  # noqa: E402,F401

MAILED_REASONS = ("arrival", "departure", "inferred_departure", "correction", "backfilled_arrival")


class Failure(Exception):
    pass


def check(cond, message):
    if not cond:
        raise Failure(message)


def wait_for(predicate, timeout, what, interval=0.05):
    deadline = time.time() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.time() > deadline:
            raise Failure("timed out after %d s waiting for %s" % (timeout, what))
        time.sleep(interval)


def db_rows(path, sql, args=()):
    db = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=30)
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()


def server_rows(d, sql, args=()):
    return db_rows(os.path.join(d.home, "anshin.db"), sql, args)


def idm(n):
    return "01020304%08X" % n


def make_children(d, facility, count):
    """`count` children with a card and a guardian each; returns their card tokens."""
    tokens = []
    for i in range(count):
        child = d.add_child(facility, "テスト %d" % i)
        tokens.append(d.assign_card(child, idm(i)))
        d.add_guardian(child, "g%d@example.jp" % i)
    return tokens


def verify_guardians(d, smtp, count):
    """Verifies every guardian with the code its verification mail carries; returns the
    verification mails' Message-IDs (not notices)."""
    mails = wait_for(lambda: len(smtp.messages) >= count and list(smtp.messages), 60,
                     "the verification mails")
    for _, rcpts, raw in mails:
        code = re.search(r"確認コード: (\d{6})", parse(raw).get_body().get_content()).group(1)
        gid = server_rows(d, "SELECT id FROM guardians WHERE email = ?", (rcpts[0],))[0][0]
        d.admin("guardian", "verify", "--guardian", str(gid), "--code", code)
    return {parse(raw)["Message-ID"] for _, _, raw in mails}


def outbox_pending(d):
    return server_rows(d, "SELECT count(*) FROM outbox WHERE state <> 'sent'")[0][0]


def check_taps_and_mail(d, smtp, verification_ids, expected_seqs=None, max_duplicates=0):
    """The checker shared by the fault tests: every tap stored once with one decision, one notice
    per guardian for every mailed tap, every notice delivered once (or at most `max_duplicates`
    delivered twice). `expected_seqs`: the agent seqs that must be there (each exactly once).
    Returns (taps stored, notices delivered, notices delivered twice)."""
    stored = server_rows(d, "SELECT seq, count(*) FROM taps GROUP BY agent_id, seq")
    check(all(c == 1 for _, c in stored), "a tap stored twice: %r" % [s for s in stored if s[1] != 1][:5])
    seqs = {s for s, _ in stored}
    if expected_seqs is not None:
        missing = sorted(set(expected_seqs) - seqs)
        check(not missing, "%d accepted taps never reached the server, e.g. %r" % (len(missing), missing[:5]))
    undecided = server_rows(d, "SELECT count(*) FROM taps WHERE reason = ''")[0][0]
    check(undecided == 0, "%d taps without a decision" % undecided)
    mailed = server_rows(d, "SELECT count(*) FROM taps WHERE reason IN (%s)"
                         % ",".join("'%s'" % r for r in MAILED_REASONS))[0][0]
    notices = server_rows(d, "SELECT guardian_id, child_id, tap_at, kind, count(*) FROM outbox "
                             "WHERE kind <> 'verification' GROUP BY guardian_id, child_id, tap_at, kind")
    check(all(n[4] == 1 for n in notices), "a notice queued twice: %r" % [n for n in notices if n[4] != 1][:3])
    check(len(notices) == mailed, "%d notices for %d mailed taps" % (len(notices), mailed))
    outbox_ids = {r[0] for r in server_rows(d, "SELECT message_id FROM outbox WHERE kind <> 'verification'")}
    counts = collections.Counter(parse(raw)["Message-ID"] for _, _, raw in list(smtp.messages))
    for mid in verification_ids:
        counts.pop(mid, None)
    missing = outbox_ids - set(counts)
    check(not missing, "%d notices never reached the relay" % len(missing))
    twice = {m: c for m, c in counts.items() if c > 1}
    check(all(c == 2 for c in twice.values()) and len(twice) <= max_duplicates,
          "%d notices delivered more than once (at most %d allowed), e.g. %r"
          % (len(twice), max_duplicates, list(twice.items())[:3]))
    return len(seqs), len(outbox_ids), len(twice)


class RealAgent:
    """The anshin-agent binary set up from the bundle `anshin-admin agent enroll` wrote, reading
    taps from a FIFO (the simulated reader), its database in `data_dir`."""

    def __init__(self, binary, workdir, bundle, data_dir, uplink_extra=""):
        self.binary = binary
        self.workdir = workdir
        self.data_dir = data_dir
        self.db = os.path.join(data_dir, "agent.db")
        self.fifo = os.path.join(workdir, "taps.fifo")
        os.mkfifo(self.fifo, 0o600)
        self.fifo_fd = os.open(self.fifo, os.O_RDWR)  # never blocks; outlives every agent
        self.config = os.path.join(bundle, "agent.toml")
        with open(self.config) as f:
            text = f.read()
        text = re.sub(r'database = "[^"]*"', 'database = "%s"' % self.db, text)
        text = text.replace('ca = "ca.crt"\n', 'ca = "ca.crt"\nbackoff_min = "50ms"\nbackoff_max = "500ms"\n'
                            'timeout = "5s"\n' + uplink_extra)
        text += ('\n[reader]\ndevice = "simulated-fifo:%s"\npoll_interval = "10ms"\ndebounce = "0s"\n'
                 '[log]\nlevel = "debug"\n' % self.fifo)
        with open(self.config, "w") as f:
            f.write(text)
        self.console_path = os.path.join(workdir, "agent-console.log")
        self.log_path = os.path.join(workdir, "agent.log")
        self.proc = None

    def start(self, env=None):
        self.proc = subprocess.Popen([self.binary, "run", "--config", self.config],
                                     stdin=subprocess.DEVNULL, stdout=open(self.console_path, "a"),
                                     stderr=open(self.log_path, "a"), env=dict(os.environ, **(env or {})))

    def kill9(self):
        self.proc.kill()
        self.proc.wait()
        self.proc = None

    def stop(self):
        if self.proc is None:
            return 0
        self.proc.terminate()
        code = self.proc.wait(20)
        self.proc = None
        return code

    def tap(self, n, present_ms=40):
        os.write(self.fifo_fd, ("0 %s %d\n" % (idm(n), present_ms)).encode())

    def accepted_seqs(self):
        """The taps the reader told the child were saved (the console's feedback lines)."""
        with open(self.console_path, encoding="utf-8", errors="replace") as f:
            return [int(m) for m in re.findall(r"(?:accepted|see_staff): tap #(\d+) saved", f.read())]

    def status(self):
        out = subprocess.run([self.binary, "status", "--config", self.config], capture_output=True,
                             text=True, timeout=20)
        values = {"_rc": out.returncode, "_err": out.stderr}
        for line in out.stdout.splitlines():
            key, _, value = line.partition(":")
            values[key.strip()] = value.strip()
        return values

    def allowlist_cards(self):
        """How many cards the agent's allowlist holds (None before the first fetch)."""
        status = self.status()
        m = re.match(r"\d+ \((\d+) cards", status.get("allowlist_version", ""))
        if status["_rc"] != 0:
            sys.stderr.write("anshin-agent status: %s\n" % status["_err"])
        return int(m.group(1)) if m else None

    def log(self):
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()
