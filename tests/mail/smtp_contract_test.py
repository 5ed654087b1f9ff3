#!/usr/bin/python3
"""Contract tests of the libcurl SMTP transport and the mailer against a real SMTP server.

usage: smtp_contract_test.py PATH/TO/mail_smtp_driver [unittest args, e.g. Contract.test_bounce]

Each case starts its own aiosmtpd server on 127.0.0.1 (free port), runs the C++ driver, and
checks what the server received with Python's email package (policy=default) and what the
driver reports (transport outcomes, outbox states, send history, bouncing flag).
"""
import datetime
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from smtp_server import SmtpServer, free_port, parse  # noqa: E402

DRIVER = None
SUBJECT = "【キッズ安心メール】来館のお知らせ"


def run_driver(*args, env=None, timeout=40):
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run([DRIVER] + list(args), capture_output=True, text=True, timeout=timeout, env=e)
    if p.returncode != 0:
        raise AssertionError("driver failed (%d): %s" % (p.returncode, p.stderr))
    return [json.loads(line) for line in p.stdout.splitlines() if line.strip()]


class Contract(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="smtp-contract-")
        self.servers = []

    def tearDown(self):
        for s in self.servers:
            s.stop()
        self.tmp.cleanup()

    def server(self, **kwargs):
        s = SmtpServer(**kwargs).start()
        self.servers.append(s)
        return s

    def db(self):
        return os.path.join(self.tmp.name, "anshin.db")

    def check_message(self, raw, to, minute=2):
        msg = parse(raw)
        self.assertEqual(msg["Subject"], SUBJECT)
        self.assertEqual(msg["To"], to)
        self.assertEqual(msg["From"].addresses[0].display_name, "キッズ安心メール")
        self.assertEqual(msg["From"].addresses[0].addr_spec, "noreply@kids.example.jp")
        self.assertEqual(msg["MIME-Version"], "1.0")
        self.assertEqual(msg.get_content_type(), "text/plain")
        self.assertEqual(msg.get_content_charset(), "utf-8")
        date = msg["Date"].datetime
        self.assertIsNotNone(date)
        self.assertIsNotNone(date.tzinfo)
        mid = msg["Message-ID"]
        self.assertRegex(mid, r"^<[^<>@\s]+@kids\.example\.jp>$")
        # Text in base64 travels in canonical form (CRLF line ends).
        body = msg.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")
        if minute is not None:
            self.assertTrue(
                body.startswith("練馬 さくらさんが11月26日 15:%02dに光が丘第一学童クラブに来館しました。\n" % minute),
                body)
        else:
            self.assertIn("光が丘第一学童クラブに来館しました。", body)
        for line in raw.split(b"\r\n"):
            self.assertLess(len(line), 78)
        return msg

    # ---- transport ---------------------------------------------------------------------------

    def test_delivery_decodes_to_japanese_subject_and_body(self):
        s = self.server()
        out = run_driver("transport", "--url", "smtp://127.0.0.1:%d" % s.port, "--starttls", "none",
                         "--count", "3", "--connections", "2", "--to", "mama@example.jp")
        outcomes, summary = out[:-1], out[-1]
        self.assertEqual([o["kind"] for o in outcomes], ["sent"] * 3)
        for o in outcomes:
            self.assertEqual(o["code"], 250)
            self.assertRegex(o["reply"], r"^250 2\.0\.0 Ok: queued as T\d+$")
        self.assertEqual(len(s.messages), 3)
        seen_ids = set()
        for mail_from, rcpts, raw in s.messages:
            self.assertEqual(mail_from, "noreply@kids.example.jp")
            self.assertEqual(rcpts, ["mama@example.jp"])
            msg = self.check_message(raw, "mama@example.jp", minute=None)
            seen_ids.add(msg["Message-ID"])
        self.assertEqual(seen_ids, {"<t1@kids.example.jp>", "<t2@kids.example.jp>", "<t3@kids.example.jp>"})
        minutes = sorted(re.search(r"\d\d:\d\d", parse(raw).get_body().get_content()).group(0)
                         for _, _, raw in s.messages)
        self.assertEqual(minutes, ["15:02", "15:03", "15:04"])
        self.assertLessEqual(s.connections, 2)
        self.assertLessEqual(summary["connections_opened"], 2)

    def test_sessions_are_reused_for_many_messages(self):
        s = self.server()
        out = run_driver("transport", "--url", "smtp://127.0.0.1:%d" % s.port, "--starttls", "none",
                         "--count", "60", "--connections", "4")
        self.assertEqual([o["kind"] for o in out[:-1]], ["sent"] * 60)
        self.assertEqual(len(s.messages), 60)
        self.assertLessEqual(s.connections, 4)

    def test_starttls_and_auth(self):
        s = self.server(tls_dir=self.tmp.name, auth=("anshin", "pa55-word"))
        url = "smtp://127.0.0.1:%d" % s.port
        out = run_driver("transport", "--url", url, "--ca-file", s.cert, "--username", "anshin",
                         "--count", "2", env={"ANSHIN_SMTP_PASSWORD": "pa55-word"})
        self.assertEqual([o["kind"] for o in out[:-1]], ["sent", "sent"], out)
        self.assertEqual(len(s.messages), 2)
        self.check_message(s.messages[0][2], "mama@example.jp", minute=None)
        # A wrong password is our configuration's fault: temporary, never a bounce.
        out = run_driver("transport", "--url", url, "--ca-file", s.cert, "--username", "anshin",
                         env={"ANSHIN_SMTP_PASSWORD": "wrong"})
        self.assertEqual(out[0]["kind"], "temporary", out)
        self.assertNotIn("wrong", json.dumps(out))
        # Without the CA the relay's certificate is not trusted: nothing is sent.
        out = run_driver("transport", "--url", url, "--username", "anshin",
                         env={"ANSHIN_SMTP_PASSWORD": "pa55-word"})
        self.assertEqual(out[0]["kind"], "temporary", out)
        self.assertEqual(len(s.messages), 2)

    def test_starttls_required_refuses_a_plain_relay(self):
        s = self.server()
        out = run_driver("transport", "--url", "smtp://127.0.0.1:%d" % s.port, "--count", "1")
        self.assertEqual(out[0]["kind"], "temporary", out)
        self.assertEqual(len(s.messages), 0)  # never sent in clear

    # ---- mailer + SQLite store ---------------------------------------------------------------

    def mailer(self, port, *extra, to="mama@example.jp", count=1):
        out = run_driver("mailer", "--db", self.db(), "--url", "smtp://127.0.0.1:%d" % port, "--starttls", "none",
                         "--count", str(count), "--to", to, "--deadline-ms", "15000", "--timeout-ms", "3000", *extra)
        return out[:-1], out[-1]

    def test_4xx_is_retried_then_accepted(self):
        s = self.server(tempfail=2)
        rows, summary = self.mailer(s.port)
        self.assertEqual(len(rows), 1)
        row = rows[0]
        self.assertEqual(row["state"], "sent")
        self.assertEqual([e["result"] for e in row["log"]], ["retry", "retry", "sent"])
        self.assertEqual([e["code"] for e in row["log"]], [451, 451, 250])
        self.assertIn("451", row["log"][0]["reply"])
        self.assertRegex(row["relay_reply"], r"queued as T\d+")
        self.assertFalse(summary["bouncing"])
        self.assertEqual(len(s.messages), 1)
        msg = self.check_message(s.messages[0][2], "mama@example.jp", minute=None)
        self.assertEqual(msg["Message-ID"], row["message_id"])

    def test_5xx_fails_and_marks_the_address_bouncing(self):
        s = self.server(bounce_prefix="nobody")
        rows, summary = self.mailer(s.port, to="nobody@example.jp")
        self.assertEqual(rows[0]["state"], "failed")
        self.assertEqual([e["result"] for e in rows[0]["log"]], ["failed"])
        self.assertEqual(rows[0]["log"][0]["code"], 550)
        self.assertIn("User unknown", rows[0]["last_error"])
        self.assertTrue(summary["bouncing"])
        self.assertEqual(len(s.messages), 0)

    def test_relay_down_then_up(self):
        port = free_port()
        proc = subprocess.Popen([DRIVER, "mailer", "--db", self.db(), "--url", "smtp://127.0.0.1:%d" % port,
                                 "--starttls", "none", "--count", "3", "--deadline-ms", "15000",
                                 "--timeout-ms", "3000"], stdout=subprocess.PIPE, text=True)
        time.sleep(1.5)  # the relay is down: connection refused, rows retry with backoff
        s = self.server(port=port)
        stdout, _ = proc.communicate(timeout=40)
        self.assertEqual(proc.returncode, 0)
        out = [json.loads(line) for line in stdout.splitlines() if line.strip()]
        rows = out[:-1]
        self.assertEqual([r["state"] for r in rows], ["sent"] * 3)
        # One guardian: its rows leave one at a time, in order, so the first is the one retried
        # while the relay is down and the others wait behind it.
        self.assertGreaterEqual(len(rows[0]["log"]), 2)
        self.assertEqual(rows[0]["log"][0]["result"], "retry")
        self.assertEqual(rows[0]["log"][0]["code"], 0)
        for r in rows:
            self.assertEqual(r["log"][-1]["result"], "sent")
        self.assertEqual(len(s.messages), 3)

    def test_connection_closed_mid_message_is_retried(self):
        s = self.server(drop=1)
        rows, summary = self.mailer(s.port)
        self.assertEqual(rows[0]["state"], "sent")
        self.assertEqual([e["result"] for e in rows[0]["log"]], ["retry", "sent"])
        self.assertEqual(len(s.messages), 1)  # the cut message never counted as received
        self.check_message(s.messages[0][2], "mama@example.jp", minute=None)
        self.assertFalse(summary["bouncing"])

    def test_threaded_mailer_delivers_a_batch(self):
        s = self.server()
        rows, summary = self.mailer(s.port, "--started", "--connections", "4", "--batch", "8", count=30)
        self.assertEqual(summary["sent"], 30)
        self.assertEqual(len(s.messages), 30)
        self.assertEqual(len({parse(raw)["Message-ID"] for _, _, raw in s.messages}), 30)
        self.assertLessEqual(s.connections, 4)


if __name__ == "__main__":
    DRIVER = os.path.abspath(sys.argv[1])
    unittest.main(argv=[sys.argv[0]] + sys.argv[2:], verbosity=2)
