#!/usr/bin/python3
"""The staff console in a real browser (headless Chromium driven by playwright-core), against the
real anshin-server (staff listener over TLS), the real anshin-agent (simulated reader on a FIFO)
and a real SMTP server (aiosmtpd):

    console_browser_test.py BIN_DIR ARTIFACTS_DIR

each role logs in (and an account locks after five failures); a CSRF-less POST is refused; a
facility account asking for another facility's child gets 403 and an audit entry; the call
centre finds a child and enters the verification code the guardian reads out; the call centre
marks the card lost — the card's next tap gives no mail, the facility board shows the alert
within 2 s and the staff alert mail reaches the SMTP server — and binds the new card by the IDm
printed on it, whose tap then reaches the guardian; a forgotten departure recorded by
facility staff reaches the guardian, saying staff recorded it. Screenshots of every page go to
ARTIFACTS_DIR. The browser steps are tests/browser/console_steps.cjs.
"""
import datetime
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
sys.path.insert(0, os.path.join(HERE, "..", "mail"))
from deployment import TOKYO, Deployment, wait_for  # noqa: E402
from smtp_server import SmtpServer  # noqa: E402

BIN_DIR = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build/bin")
ARTIFACTS = os.path.abspath(sys.argv[2] if len(sys.argv) > 2 else "build/artifacts")
NODE_MODULES = os.path.join(os.path.dirname(BIN_DIR), "browser", "node_modules")
PASSWORD = "a long enough password"
CARD_SAKURA, CARD_HARUTO = "0123456789abcdef", "1111222233334444"
CARD_SAKURA_NEW = "fedcba9876543210"
SAKURA_MAMA, HARUTO_PAPA = "sakura-mama@example.jp", "haruto-papa@example.jp"


class ConsoleInBrowser(unittest.TestCase):
    def setUp(self):
        if not os.path.isdir(os.path.join(NODE_MODULES, "playwright-core")):
            self.fail("playwright-core is not installed in %s (scripts/setup installs it)" % NODE_MODULES)
        os.makedirs(ARTIFACTS, exist_ok=True)
        self.tmp = tempfile.TemporaryDirectory(prefix="anshin-browser-")
        self.smtp = SmtpServer().start()
        self.d = Deployment(BIN_DIR, self.tmp.name)
        self.agent = None
        self.fifo_fd = None

    def tearDown(self):
        if self.agent is not None:
            self.agent.terminate()
            try:
                self.agent.wait(10)
            except subprocess.TimeoutExpired:
                self.agent.kill()
        if self.fifo_fd is not None:
            os.close(self.fifo_fd)
        self.d.stop_server()
        self.smtp.stop()
        self.tmp.cleanup()

    def staff(self, name, role, facility=None, mail=None):
        args = [os.path.join(BIN_DIR, "anshin-admin"), "--home", self.d.home, "staff", "add",
                "--name", name, "--role", role]
        if facility:
            args += ["--facility", facility]
        if mail:
            args += ["--email", mail]
        subprocess.run(args, input=PASSWORD + "\n", text=True, check=True, capture_output=True)

    def step(self, step, **values):
        config = dict(url="https://127.0.0.1:%d" % self.staff_port, password=PASSWORD,
                      artifacts=ARTIFACTS, fifo=self.fifo, **values)
        path = os.path.join(self.tmp.name, "step.json")
        with open(path, "w") as f:
            json.dump(config, f)
        p = subprocess.run(["node", os.path.join(HERE, "console_steps.cjs"), step, path],
                           capture_output=True, text=True, timeout=120,
                           env=dict(os.environ, NODE_PATH=NODE_MODULES))
        sys.stderr.write(p.stdout)
        self.assertEqual(p.returncode, 0, "browser step %s: %s" % (step, p.stderr.strip()[-2000:]))

    def mails_to(self, address):
        out = []
        for _, rcpts, raw in list(self.smtp.messages):
            if address in rcpts:
                out.append(email.message_from_bytes(raw, policy=email.policy.default))
        return out

    def notices_to(self, address):
        return [m for m in self.mails_to(address) if "メールアドレスの確認" not in m["Subject"]]

    def code_for(self, address):
        msg = wait_for(lambda: self.mails_to(address), "the verification mail to " + address)[-1]
        return re.search(r"確認コード: (\d{6})",
                         msg.get_body(preferencelist=("plain",)).get_content()).group(1)

    def start_agent(self, bundle):
        self.fifo = os.path.join(self.tmp.name, "taps.fifo")
        os.mkfifo(self.fifo, 0o600)
        self.fifo_fd = os.open(self.fifo, os.O_RDWR)  # keeps the FIFO open between writers
        config = os.path.join(bundle, "agent.toml")
        with open(config) as f:
            text = f.read()
        text = re.sub(r'server_url = "[^"]*"', 'server_url = "https://127.0.0.1:%d"'
                      % self.d.agents_port, text)
        text = text.replace('ca = "ca.crt"\n', 'ca = "ca.crt"\nbackoff_min = "100ms"\n'
                            'backoff_max = "1s"\nheartbeat = "1s"\n'
                            'heartbeat_hours = "00:00-24:00"\nheartbeat_days = "sun-sat"\n')
        text += '\n[reader]\ndevice = "simulated-fifo:%s"\npoll_interval = "20ms"\n' % self.fifo
        with open(config, "w") as f:
            f.write(text)
        self.agent_config = config
        log = open(os.path.join(self.tmp.name, "agent.log"), "a")
        self.agent = subprocess.Popen([os.path.join(BIN_DIR, "anshin-agent"), "run", "--config",
                                       config], stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        log.close()

    def agent_console(self):
        with open(os.path.join(self.tmp.name, "agent.log"), encoding="utf-8", errors="replace") as f:
            return f.read()

    def agent_caught_up(self):
        db = sqlite3.connect("file:%s?mode=ro" % os.path.join(self.d.home, "anshin.db"), uri=True,
                             timeout=5)
        try:
            want = db.execute("SELECT COALESCE(MAX(version), 0) FROM allowlist_changes").fetchone()[0]
        finally:
            db.close()

        def version():
            out = subprocess.run([os.path.join(BIN_DIR, "anshin-agent"), "status", "--config",
                                  self.agent_config], capture_output=True, text=True, timeout=10)
            for line in out.stdout.splitlines():
                k, _, v = line.partition(":")
                if k.strip() == "allowlist_version":
                    return v.strip().split(" ")[0] == str(want)
            return False
        wait_for(version, "the agent's allowlist at version %d" % want)
        time.sleep(1.2)  # past the double-tap window of the previous tap

    def tap(self, idm):
        os.write(self.fifo_fd, ("0 %s 60\n" % idm).encode())

    def test_console(self):
        d = self.d
        d.add_facility("hikari-1", "光が丘第一学童クラブ", departure_from="23:59",
                       double_tap_window="1s")  # every tap of the day (no open visit) an arrival
        d.add_facility("asahi-2", "旭町学童クラブ")
        bundle = os.path.join(self.tmp.name, "agent-hikari")
        d.admin("agent", "enroll", "--facility", "hikari-1", "--name", "hikari-1-pc", "--out", bundle)
        sakura = d.add_child("hikari-1", "練馬 さくら")
        d.admin("child", "update", "--child", str(sakura), "--kana", "ねりま さくら")
        haruto = d.add_child("hikari-1", "練馬 はると")
        other = d.add_child("asahi-2", "旭 めい")
        d.assign_card(sakura, CARD_SAKURA)
        d.assign_card(haruto, CARD_HARUTO)
        sakura_mama = d.add_guardian(sakura, SAKURA_MAMA)
        haruto_papa = d.add_guardian(haruto, HARUTO_PAPA)
        self.staff("sato", "facility", "hikari-1", "sato@staff.example.jp")
        self.staff("abe", "callcenter", None, "abe@staff.example.jp")
        self.staff("mori", "operator")
        self.staff("kanno", "auditor")
        self.staff("locked", "callcenter")
        d.start_server(self.smtp.port,
                       extra_server='staff_listen = "127.0.0.1:0"\ncard_key = "card.key"')
        with open(os.path.join(self.tmp.name, "server.ready")) as f:
            self.staff_port = json.load(f)["staff_port"]
        self.fifo = ""
        d.admin("guardian", "verify", "--guardian", str(haruto_papa), "--code",
                self.code_for(HARUTO_PAPA))
        code = self.code_for(SAKURA_MAMA)
        self.start_agent(bundle)
        self.agent_caught_up()
        # Haruto arrives first thing (his departure is recorded by staff later, in a later minute).
        self.tap(CARD_HARUTO)
        wait_for(lambda: len(self.notices_to(HARUTO_PAPA)) == 1, "haruto's arrival mail")
        haruto_arrived = datetime.datetime.now(TOKYO)

        self.step("roles")
        self.step("csrf", child=sakura)
        self.assertIn('"status": "active"', d.admin("card", "list", "--format", "json"))
        self.step("forbidden", other_child=other)
        self.step("verify", child=sakura, kana="ねりま", name="練馬 さくら", guardian=sakura_mama,
                  code=code)

        # Sakura arrives (her guardian is verified now): the arrival mail.
        self.tap(CARD_SAKURA)
        wait_for(lambda: len(self.notices_to(SAKURA_MAMA)) == 1, "sakura's arrival mail")

        # Lost: marked by the call centre; the agent learns it with its allowlist (heartbeat).
        self.step("lost", child=sakura)
        self.agent_caught_up()
        self.step("board_alert", idm=CARD_SAKURA, upload_ms=1000)
        wait_for(lambda: "please see staff" in self.agent_console(), "the reader's 'please see staff'")
        staff_mail = wait_for(lambda: self.mails_to("sato@staff.example.jp"), "the staff alert mail")
        self.assertIn("紛失", staff_mail[0]["Subject"])
        wait_for(lambda: self.mails_to("abe@staff.example.jp"), "the call centre's alert mail")
        time.sleep(1.0)  # a notice would have gone by now
        self.assertEqual(len(self.notices_to(SAKURA_MAMA)), 1, "the lost card's tap was mailed")

        # The call centre binds a new card by the IDm printed on it; the reader learns it and
        # the new card's tap reaches sakura's guardian; the old card is out of every allowlist.
        self.step("replace", child=sakura, idm_printed=" ".join(
            CARD_SAKURA_NEW[i:i + 2].upper() for i in range(0, 16, 2)))
        self.agent_caught_up()
        self.tap(CARD_SAKURA_NEW)
        wait_for(lambda: len(self.notices_to(SAKURA_MAMA)) == 2, "the new card's notice")
        cards = json.loads(d.admin("card", "list", "--format", "json"))
        self.assertEqual(sorted(c["status"] for c in cards if c["child"] == sakura),
                         ["active", "retired"])

        # A forgotten departure recorded by facility staff reaches haruto's guardian.
        # Staff give the minute: it must not be before his arrival's minute is over.
        while datetime.datetime.now(TOKYO).replace(second=0, microsecond=0) <= haruto_arrived:
            time.sleep(0.5)
        now = datetime.datetime.now(TOKYO).strftime("%H:%M")
        self.step("forgotten", child=haruto, time=now)
        notices = wait_for(lambda: self.notices_to(HARUTO_PAPA)[1:], "haruto's departure mail")
        body = notices[0].get_body(preferencelist=("plain",)).get_content()
        self.assertIn("退館", notices[0]["Subject"])
        self.assertIn("施設の職員が入力しました", body)

        self.step("pages")
        self.assertEqual(d.personal_data_in_logs(), [])


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]] + sys.argv[3:], verbosity=2)
