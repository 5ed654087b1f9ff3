#!/usr/bin/python3
"""anshin-server --check-config and the one-server-per-database lock, on the real binaries.

`anshin-admin init` with the operator's answers writes a complete server.toml that checks
clean against a real SMTP server (tests/mail/smtp_server.py); a relay without STARTTLS, a
misspelt key, a key that does not match the certificate, an example public URL and a relay
that is down are each named, all in one run; a second anshin-server on the same database
refuses to start and names the first one's pid.

Usage: check_config_test.py BIN_DIR
"""
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "mail"))
from deployment import Deployment  # noqa: E402
from smtp_server import SmtpServer  # noqa: E402

BIN_DIR = sys.argv.pop(1)


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class CheckConfig(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="anshin-check-")
        self.smtp = SmtpServer().start()
        self.d = Deployment(BIN_DIR, self.tmp.name)
        self.config = os.path.join(self.d.home, "server.toml")

    def tearDown(self):
        self.d.stop_server()
        self.smtp.stop()
        self.tmp.cleanup()

    def init(self, *flags):
        return self.d.admin("init", "--server-san", "127.0.0.1", "--force", *flags)

    def check(self):
        return subprocess.run([os.path.join(BIN_DIR, "anshin-server"), "--config", self.config,
                               "--check-config"], capture_output=True, text=True, timeout=60)

    def edit(self, pattern, replacement):
        with open(self.config) as f:
            text = f.read()
        new = re.sub(pattern, replacement, text, flags=re.MULTILINE)
        self.assertNotEqual(new, text, pattern)
        with open(self.config, "w") as f:
            f.write(new)

    def good_flags(self, starttls="none", port=None):
        return ["--relay", "smtp://127.0.0.1:%d" % (port or self.smtp.port), "--starttls", starttls,
                "--sender-domain", "anshin.city.nerima.tokyo.jp",
                "--public-url", "https://anshin.city.nerima.tokyo.jp",
                "--callcenter-phone", "03-1234-5678"]

    def test_init_writes_a_complete_config_that_checks_clean(self):
        out = self.init(*self.good_flags())
        self.assertNotIn("placeholder", out)
        with open(self.config) as f:
            text = f.read()
        for line in ('starttls = "none"', 'public_url = "https://anshin.city.nerima.tokyo.jp"',
                     'from = "noreply@anshin.city.nerima.tokyo.jp"',
                     'callcenter_phone = "03-1234-5678"'):
            self.assertIn(line, text)
        p = self.check()
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("configuration OK", p.stdout)
        self.assertIn("relay smtp://127.0.0.1:%d answers" % self.smtp.port, p.stdout)
        self.assertRegex(p.stdout, r"server certificate \"127\.0\.0\.1\" valid until .* \(8\d\d days\)")
        self.assertIn("binds replacement cards by IDm", p.stdout)

    def test_a_card_key_others_can_read_or_that_is_no_key_is_named(self):
        self.init(*self.good_flags())
        key = os.path.join(self.d.home, "card.key")
        os.chmod(key, 0o644)
        p = self.check()
        self.assertEqual(p.returncode, 1, p.stdout)
        self.assertIn("server.card_key: %s is readable by other users" % key, p.stderr)
        with open(key, "w") as f:
            f.write("not a key\n")
        os.chmod(key, 0o600)
        p = self.check()
        self.assertEqual(p.returncode, 1, p.stdout)
        self.assertIn("server.card_key: %s: the card key is 64 hex digits" % key, p.stderr)
        # And the server itself refuses to start on it, naming the key.
        run = subprocess.run([os.path.join(BIN_DIR, "anshin-server"), "--config", self.config],
                             capture_output=True, text=True, timeout=30)
        self.assertNotEqual(run.returncode, 0)
        self.assertIn("server.card_key", run.stderr)

    def test_init_without_answers_names_the_placeholders_and_the_check_flags_them(self):
        out = self.init()
        for flag in ("--relay", "--sender-domain", "--public-url", "--callcenter-phone"):
            self.assertIn(flag, out)
        p = self.check()
        self.assertEqual(p.returncode, 1)
        self.assertIn("mail.from", p.stderr)  # noreply@kids-anshin.invalid
        self.assertIn("example address", p.stderr)

    def test_a_relay_without_starttls_is_named_when_starttls_is_required(self):
        self.init(*self.good_flags(starttls="required"))
        p = self.check()
        self.assertEqual(p.returncode, 1, p.stdout)
        self.assertIn("mail.relay", p.stderr)
        self.assertIn("STARTTLS", p.stderr)

    def test_every_problem_is_listed_in_one_run(self):
        self.init(*self.good_flags(port=closed_port()))
        self.edit(r"^workers = 2$", "workerz = 2")
        self.edit(r'^key = "pki/server.key"$', 'key = "pki/ca.key"')
        self.edit(r'^public_url = .*$', 'public_url = "https://kids-anshin.example.jp"')
        p = self.check()
        self.assertEqual(p.returncode, 1)
        self.assertRegex(p.stderr, r"4 problems")
        self.assertIn('unknown key "server.workerz" (did you mean "server.workers"?)', p.stderr)
        self.assertIn("tls.key", p.stderr)
        self.assertIn("does not match the certificate", p.stderr)
        self.assertIn("mail.public_url", p.stderr)
        self.assertIn("mail.relay", p.stderr)

    def test_a_second_server_on_the_same_database_refuses_to_start(self):
        self.d.start_server(self.smtp.port)
        first = self.d.server.pid
        second = subprocess.run([os.path.join(BIN_DIR, "anshin-server"), "--config", self.config],
                                capture_output=True, text=True, timeout=30)
        self.assertEqual(second.returncode, 1)
        self.assertIn("another process (pid %d) is using the database" % first, second.stderr)
        self.assertIsNone(self.d.server.poll(), "the first server keeps running")
        # The lock goes with the process, even after kill -9.
        self.d.server.kill()
        self.d.server.wait()
        self.d.server = None
        self.d.start_server(self.smtp.port)
        self.assertIsNone(self.d.server.poll())


if __name__ == "__main__":
    unittest.main()
