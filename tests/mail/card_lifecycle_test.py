#!/usr/bin/python3
"""A card's lifecycle end to end: the real anshin-agent (simulated reader on a FIFO), the real
anshin-server, a real SMTP server (aiosmtpd), the call centre's commands in anshin-admin.

    card_lifecycle_test.py BIN_DIR

lost   -> the next tap: "see_staff" at the reader, no mail, a lost_card_seen alert
found  -> the card's taps are mailed again
replace-> the old card is refused at the reader ("not registered"), the new one mails
(A tap made before `card lost` and uploaded after it is judged by the card's status at the
tap's time: tests/server/ingest_test.cpp covers it against the real store.)
"""

import email
import email.policy
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from deployment import Deployment, wait_for  # noqa: E402
from smtp_server import SmtpServer  # noqa: E402

BIN_DIR = sys.argv[1] if len(sys.argv) > 1 else "build/bin"
CARD_A, CARD_B = "0123456789abcdef", "1111222233334444"
GUARDIAN = "sakura-mama@example.jp"


class CardLifecycle(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="anshin-cards-")
        self.smtp = SmtpServer().start()
        self.d = Deployment(BIN_DIR, self.tmp.name)
        self.agent = None

    def tearDown(self):
        if self.agent is not None and self.agent.poll() is None:
            self.agent.kill()
            self.agent.wait()
        self.d.stop_server()
        self.smtp.stop()
        try:
            # The server (at debug: a line per tap) and the agent log IDs and tokens only.
            self.assertEqual(self.d.personal_data_in_logs(), [], "a name or an address in a log")
        finally:
            self.tmp.cleanup()

    # ---- helpers ---------------------------------------------------------------------------

    def notice_count(self):
        """The attendance mails the guardian got (verification mails apart)."""
        out = 0
        for _, rcpts, raw in list(self.smtp.messages):
            if GUARDIAN not in rcpts:
                continue
            msg = email.message_from_bytes(raw, policy=email.policy.default)
            if "メールアドレスの確認" not in msg["Subject"]:
                out += 1
        return out

    def start_agent(self, bundle, fifo):
        config = os.path.join(bundle, "agent.toml")
        with open(config) as f:
            text = f.read()
        text = re.sub(r'server_url = "[^"]*"', 'server_url = "https://127.0.0.1:%d"'
                      % self.d.agents_port, text)
        if "[reader]" not in text:
            # The heartbeat brings allowlist changes without a tap (fast, for the test).
            text = text.replace('ca = "ca.crt"\n', 'ca = "ca.crt"\nbackoff_min = "100ms"\n'
                                'backoff_max = "1s"\nheartbeat = "1s"\n'
                                'heartbeat_hours = "00:00-24:00"\nheartbeat_days = "sun-sat"\n')
            text += ('\n[reader]\ndevice = "simulated-fifo:%s"\npoll_interval = "20ms"\n'
                     '[log]\nlevel = "debug"\n' % fifo)
        with open(config, "w") as f:
            f.write(text)
        self.agent_log = os.path.join(self.tmp.name, "agent.log")
        log = open(self.agent_log, "a")
        self.agent = subprocess.Popen([os.path.join(BIN_DIR, "anshin-agent"), "run", "--config",
                                       config], stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        log.close()
        self.config = config

    def agent_status(self, key):
        out = subprocess.run([os.path.join(BIN_DIR, "anshin-agent"), "status", "--config",
                              self.config], capture_output=True, text=True, timeout=10)
        for line in out.stdout.splitlines():
            k, _, v = line.partition(":")
            if k.strip() == key:
                return v.strip()
        return ""

    def server_allowlist_version(self):
        db = sqlite3.connect("file:%s?mode=ro" % os.path.join(self.d.home, "anshin.db"),
                             uri=True, timeout=5)
        try:
            return db.execute("SELECT COALESCE(MAX(version), 0) FROM allowlist_changes"
                              ).fetchone()[0]
        finally:
            db.close()

    def agent_caught_up(self):
        want = self.server_allowlist_version()
        wait_for(lambda: self.agent_status("allowlist_version").split(" ")[0] == str(want),
                 "the agent's allowlist at version %d" % want)

    def console(self):
        with open(self.agent_log, encoding="utf-8", errors="replace") as f:
            return f.read()

    def tap(self, idm):
        os.write(self.fifo_fd, ("0 %s 60\n" % idm).encode())

    def wait_console(self, text, count=1):
        try:
            wait_for(lambda: self.console().count(text) >= count, "agent console: %s" % text)
        except AssertionError as e:
            lines = [line for line in self.console().splitlines() if "heartbeat" not in line]
            raise AssertionError("%s\n--- agent log ---\n%s" % (e, "\n".join(lines)[-4000:]))

    def admin_json(self, *args):
        return json.loads(self.d.admin(*args, "--format", "json"))

    def server_taps(self, child):
        return self.admin_json("tap", "list", "--child", str(child))

    # ---- the test --------------------------------------------------------------------------

    def test_lost_found_replace_and_a_tap_queued_before_lost(self):
        d = self.d
        # Every tap opens or closes a visit (departure_from at the end of the day) and taps a
        # few seconds apart are not double taps.
        d.add_facility("day", "光が丘第一学童クラブ", departure_from="23:59",
                       double_tap_window="1s")
        bundle = os.path.join(self.tmp.name, "agent-day-pc")
        d.admin("agent", "enroll", "--facility", "day", "--name", "day-pc", "--out", bundle)
        sakura = d.add_child("day", "練馬 さくら")
        d.assign_card(sakura, CARD_A)
        guardian = d.add_guardian(sakura, GUARDIAN)
        d.start_server(self.smtp.port)
        verification = wait_for(lambda: [raw for _, rcpts, raw in list(self.smtp.messages)
                                         if GUARDIAN in rcpts], "the verification mail")[0]
        msg = email.message_from_bytes(verification, policy=email.policy.default)
        code = re.search(r"確認コード: (\d{6})",
                         msg.get_body(preferencelist=("plain",)).get_content()).group(1)
        d.admin("guardian", "verify", "--guardian", str(guardian), "--code", code)

        fifo = os.path.join(self.tmp.name, "taps.fifo")
        os.mkfifo(fifo, 0o600)
        self.fifo_fd = os.open(fifo, os.O_RDWR)
        self.start_agent(bundle, fifo)
        self.agent_caught_up()

        # An ordinary tap: accepted, arrival mailed.
        self.tap(CARD_A)
        self.wait_console("accepted: tap #1 saved")
        wait_for(lambda: self.notice_count() == 1, "the arrival mail")

        # Lost: the next tap is saved and sent, the child told to see staff, nobody mailed,
        # the staff alerted.
        d.admin("card", "lost", "--child", str(sakura))
        self.agent_caught_up()
        time.sleep(1.2)
        self.tap(CARD_A)
        self.wait_console("see_staff: tap #2 saved")
        self.assertIn("please see staff", self.console())
        wait_for(lambda: len(self.server_taps(sakura)) == 2, "the lost card's tap at the server")
        self.assertEqual(self.server_taps(sakura)[1]["reason"], "lost_card")
        alerts = wait_for(lambda: self.admin_json("alert", "list", "--open"), "the alert")
        self.assertEqual(alerts[0]["kind"], "lost_card_seen")
        self.assertEqual(alerts[0]["child"], sakura)
        time.sleep(1.0)  # a mail would have been sent by now
        self.assertEqual(self.notice_count(), 1)

        # Found: active again, its taps mailed again (the open visit closes: departure).
        d.admin("card", "found", "--child", str(sakura))
        self.agent_caught_up()
        time.sleep(1.2)
        self.tap(CARD_A)
        self.wait_console("accepted: tap #3 saved")
        wait_for(lambda: self.notice_count() == 2, "the departure mail after found")

        # Replaced: the old card is refused at the reader, the new one is mailed.
        d.admin("card", "replace", "--child", str(sakura), "--idm", CARD_B)
        self.agent_caught_up()
        time.sleep(1.2)
        self.tap(CARD_A)
        self.wait_console("not_registered")
        self.tap(CARD_B)
        self.wait_console("accepted: tap #4 saved")
        wait_for(lambda: self.notice_count() == 3, "the new card's arrival mail")
        self.assertEqual(len(self.server_taps(sakura)), 4)  # the old card never left the PC

        self.assertEqual(len(self.admin_json("alert", "list", "--open")), 1)
        os.close(self.fifo_fd)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]] + sys.argv[2:], verbosity=2)
