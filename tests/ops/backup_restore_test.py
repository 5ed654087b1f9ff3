#!/usr/bin/python3
"""anshin-admin backup and restore on the real binaries, with the server under load.

A deployment made by `anshin-admin init` runs the real anshin-server; three enrolled agents
upload taps without pause over mutual TLS (protocol v1, as anshin-agent does: the test keeps,
for each agent, every acknowledgement with the time it arrived). `anshin-admin backup` runs in
the middle of that; the server is stopped and the backup restored into a fresh home, where every
tap acknowledged before the backup started must be, each agent's seqs a gap-free prefix (the
copy is one snapshot). Also: an encrypted backup round-trips with its key and is refused with
no key, the wrong key, a flipped byte or a cut-off end; restore refuses while the server runs
(naming its pid) and refuses to replace a database without --force; the server runs on a
restored database.

Usage: backup_restore_test.py BIN_DIR
"""
import datetime
import os
import re
import shutil
import sqlite3
import stat
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "mail"))
from deployment import Deployment  # noqa: E402
from smtp_server import SmtpServer  # noqa: E402

BIN_DIR = sys.argv.pop(1)
CHILDREN = 12
AGENTS = 3
BATCH = 20


def admin(home, *args):
    return subprocess.run([os.path.join(BIN_DIR, "anshin-admin"), "--home", home] + list(args),
                          capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, ANSHIN_OPERATOR="backup-test"))


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def seqs_by_agent(db_path):
    db = sqlite3.connect("file:%s?mode=ro" % db_path, uri=True)
    try:
        rows = db.execute("SELECT a.name, t.seq FROM taps t JOIN agents a ON a.id = t.agent_id")
        out = {}
        for name, seq in rows:
            out.setdefault(name, set()).add(seq)
        return out
    finally:
        db.close()


class Loader(threading.Thread):
    """Uploads batches of taps without pause; keeps (monotonic time, acked_through) per ACK."""

    def __init__(self, agent, tokens):
        super().__init__(daemon=True)
        self.agent = agent
        self.tokens = tokens
        self.acks = []
        self.error = None
        self.stop = threading.Event()

    def run(self):
        i = 0
        try:
            while not self.stop.is_set():
                now = datetime.datetime.now(datetime.timezone.utc)
                taps = [(self.tokens[(i + k) % len(self.tokens)], now, "auto") for k in range(BATCH)]
                i += BATCH
                ack = self.agent.post(taps)
                self.acks.append((time.monotonic(), ack["acked_through"]))
        except Exception as e:  # reported by the test
            self.error = e

    def acked_before(self, t):
        return max([a for at, a in self.acks if at < t], default=0)


class BackupRestore(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="anshin-backup-")
        self.work = self.tmp.name
        self.smtp = SmtpServer().start()
        self.d = Deployment(BIN_DIR, self.work)
        self.d.add_facility("hikari-1", "光が丘第一学童クラブ")
        self.tokens = []
        for i in range(CHILDREN):
            child = self.d.add_child("hikari-1", "テスト %d" % i)
            self.tokens.append(self.d.assign_card(child, "01%014x" % i))
        self.tokens.append(self.d.card_token("00feedfacecafe00"))  # a stranger's card
        self.agents = [self.d.enroll_agent("hikari-1", "hikari-1-pc%d" % n) for n in range(AGENTS)]
        self.d.start_server(self.smtp.port)

    def tearDown(self):
        self.d.stop_server()
        for a in self.agents:
            a.close()
        self.smtp.stop()
        self.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.work, name)

    def fresh_home(self, name):
        home = self.path(name)
        os.mkdir(home, 0o700)
        return home

    def upload(self, batches):
        for a in self.agents:
            for _ in range(batches):
                now = datetime.datetime.now(datetime.timezone.utc)
                a.post([(self.tokens[k % len(self.tokens)], now, "auto") for k in range(BATCH)])

    def backup(self, out, *flags):
        p = admin(self.d.home, "backup", "--out", out, *flags)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout.strip()

    def test_a_backup_under_load_restores_every_acknowledged_tap(self):
        self.upload(40)  # some history before the load
        loaders = [Loader(a, self.tokens) for a in self.agents]
        for l in loaders:
            l.start()
        time.sleep(1.0)
        start = time.monotonic()
        acked = {a.name: l.acked_before(start) for a, l in zip(self.agents, loaders)}
        out_file = self.path("anshin-backup.db")
        line = self.backup(out_file)
        done = time.monotonic()
        time.sleep(0.5)  # the load goes on after the backup
        for l in loaders:
            l.stop.set()
        for l in loaders:
            l.join(30)
            self.assertIsNone(l.error, "uploads failed during the backup: %r" % l.error)
        after = {a.name: l.acked_before(time.monotonic() + 1) for a, l in zip(self.agents, loaders)}
        print("\n" + line, file=sys.stderr)

        m = re.fullmatch(r"backup written: (\S+) \((\d+(?:\.\d)? [kMG]B), schema v(\d+), "
                         r"([\d,]+) taps\), not encrypted, in (\d+ ms|\d+\.\d s)", line)
        self.assertIsNotNone(m, line)
        self.assertEqual(m.group(1), out_file)
        self.assertEqual(mode_of(out_file), 0o600)
        with open(out_file, "rb") as f:
            self.assertEqual(f.read(16), b"SQLite format 3\0")
        self.assertEqual([n for n in os.listdir(self.work) if ".tmp" in n], [])
        self.assertEqual([n for n in os.listdir(self.d.home) if ".backup" in n], [])
        taps_in_backup = int(m.group(4).replace(",", ""))
        self.assertGreater(sum(after.values()), sum(acked.values()), "load ran after the backup")
        during = sum(1 for l in loaders for at, _ in l.acks if start < at < done)
        self.assertGreater(during, 0, "no upload was acknowledged while the backup ran")

        self.d.stop_server()
        home = self.fresh_home("restored")
        p = admin(home, "restore", "--from", out_file)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("restored: %s/anshin.db from %s (" % (home, out_file), p.stdout)
        self.assertIn("%s taps), not encrypted" % m.group(4), p.stdout)
        restored = os.path.join(home, "anshin.db")
        self.assertEqual(mode_of(restored), 0o600)
        seqs = seqs_by_agent(restored)
        self.assertEqual(sum(len(s) for s in seqs.values()), taps_in_backup)
        for name, through in acked.items():
            self.assertGreater(through, 0)
            have = seqs.get(name, set())
            missing = [s for s in range(1, through + 1) if s not in have]
            self.assertEqual(missing, [], "%s: acknowledged before the backup, not restored" % name)
            # One snapshot: each agent's taps are 1..n without a hole.
            self.assertEqual(have, set(range(1, max(have) + 1)), name)
        db = sqlite3.connect(restored)
        self.assertEqual(db.execute("PRAGMA integrity_check").fetchone()[0], "ok")
        db.close()

    def test_an_encrypted_backup_needs_its_key_and_refuses_damage(self):
        self.upload(10)
        key = self.path("backup.key")
        p = admin(self.d.home, "backup", "keygen", "--out", key)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("backup key written: %s" % key, p.stdout)
        self.assertEqual(mode_of(key), 0o600)
        with open(key) as f:
            key_text = f.read()
        self.assertRegex(key_text, r"^[0-9a-f]{64}\n$")
        self.assertNotIn(key_text.strip(), p.stdout + p.stderr)
        again = admin(self.d.home, "backup", "keygen", "--out", key)
        self.assertEqual(again.returncode, 1)
        self.assertIn("a key is never replaced", again.stderr)
        with open(key) as f:
            self.assertEqual(f.read(), key_text)
        other_key = self.path("other.key")
        self.assertEqual(admin(self.d.home, "backup", "keygen", "--out", other_key).returncode, 0)

        sealed = self.path("anshin-backup.enc")
        line = self.backup(sealed, "--key-file", key)
        self.assertRegex(line, r"\([\d.]+ kB, schema v\d+, 600 taps\), encrypted, in \d+ ms$")
        self.assertEqual(mode_of(sealed), 0o600)
        with open(sealed, "rb") as f:
            data = f.read()
        self.assertTrue(data.startswith(b"ANSHINBK\x01"))
        self.assertNotIn(b"SQLite format 3", data)
        self.assertNotIn("光が丘".encode(), data)

        def refused(path, *flags):
            home = tempfile.mkdtemp(dir=self.work)
            p = admin(home, "restore", "--from", path, *flags)
            self.assertNotEqual(p.returncode, 0, p.stdout)
            self.assertFalse(os.path.exists(os.path.join(home, "anshin.db")))
            self.assertEqual([n for n in os.listdir(home) if n.startswith(".")], [])
            return p.stderr

        self.assertIn("is encrypted: give its --key-file", refused(sealed))
        self.assertIn("wrong key", refused(sealed, "--key-file", other_key))
        tampered = self.path("tampered.enc")
        with open(tampered, "wb") as f:
            f.write(data[:len(data) // 2] + bytes([data[len(data) // 2] ^ 0x40]) + data[len(data) // 2 + 1:])
        self.assertIn("was altered", refused(tampered, "--key-file", key))
        truncated = self.path("truncated.enc")
        with open(truncated, "wb") as f:
            f.write(data[:-100])
        self.assertIn("truncated", refused(truncated, "--key-file", key))
        self.assertIn("not an anshin backup", refused(key))

        home = self.fresh_home("restored")
        p = admin(home, "restore", "--from", sealed, "--key-file", key)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("600 taps), encrypted", p.stdout)
        self.assertEqual(sum(len(s) for s in seqs_by_agent(os.path.join(home, "anshin.db")).values()),
                         600)

    def test_restore_refuses_while_the_server_runs_and_replaces_only_with_force(self):
        self.upload(5)
        out_file = self.path("anshin-backup.db")
        self.backup(out_file)
        self.upload(5)  # taps after the backup, lost by the restore below
        p = admin(self.d.home, "restore", "--from", out_file, "--force")
        self.assertEqual(p.returncode, 1)
        self.assertIn("another process (pid %d) is using the database" % self.d.server.pid, p.stderr)
        self.assertIn("is anshin-server running?", p.stderr)
        self.assertEqual(sum(len(s) for s in seqs_by_agent(os.path.join(self.d.home, "anshin.db")).values()),
                         2 * 5 * AGENTS * BATCH)

        self.d.stop_server()
        p = admin(self.d.home, "restore", "--from", out_file)
        self.assertEqual(p.returncode, 1)
        self.assertIn("exists: restoring replaces it", p.stderr)
        self.assertIn("--force", p.stderr)
        p = admin(self.d.home, "restore", "--from", out_file, "--force")
        self.assertEqual(p.returncode, 0, p.stderr)
        for suffix in ("-wal", "-shm"):
            self.assertFalse(os.path.exists(os.path.join(self.d.home, "anshin.db" + suffix)))
        self.assertEqual(sum(len(s) for s in seqs_by_agent(os.path.join(self.d.home, "anshin.db")).values()),
                         5 * AGENTS * BATCH)

        # The server runs on the restored database; an agent resending what the restore lost
        # has it stored again (its acknowledgement covers the whole batch).
        self.d.start_server(self.smtp.port)
        a = self.agents[0]
        a.close()
        a.seq = 5 * BATCH
        now = datetime.datetime.now(datetime.timezone.utc)
        ack = a.post([(self.tokens[k % len(self.tokens)], now, "auto") for k in range(BATCH)])
        self.assertEqual(ack["acked_through"], 6 * BATCH)
        # An agent that no longer holds the taps the restore lost (it deleted them when they
        # were acknowledged) is told of the hole; docs/operations.md says what it means.
        b = self.agents[1]
        b.close()
        ack = b.post([(self.tokens[0], datetime.datetime.now(datetime.timezone.utc), "auto")])
        self.assertEqual(ack["acked_through"], 5 * BATCH)
        self.assertEqual(ack["gap"], {"from": 5 * BATCH + 1, "to": 10 * BATCH})


if __name__ == "__main__":
    unittest.main()
