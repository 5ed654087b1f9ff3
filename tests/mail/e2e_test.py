#!/usr/bin/python3
"""End-to-end: tap -> anshin-server -> SMTP relay, for every notification kind.

usage: e2e_test.py BIN_DIR   (holding anshin-admin and anshin-server)

A fresh deployment (anshin-admin), a real aiosmtpd relay and the real server on 127.0.0.1.
Guardians are verified the two supported ways (the link page, and the code entered by the call
centre) from the verification mails the server itself sent; taps are uploaded over mutual TLS
with an enrolled agent's certificate. The mails received must be, decoded with Python's email
package: an arrival, a departure, a late arrival with the real tap time, an inferred departure
saying the arrival tap was missing, and a correction. A double tap sends nothing, and an
unverified address receives nothing. A child expected and not arrived is mailed to the guardians
where the ward switched it on for the facility, and only there (the server's minute checks).
"""
import datetime
import os
import re
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from deployment import TOKYO, Deployment  # noqa: E402
from smtp_server import SmtpServer, parse  # noqa: E402

BIN_DIR = None
DAY = "光が丘第一学童クラブ"
EVE = "春日町児童館"


def local_hm(t):
    return t.astimezone(TOKYO).strftime("%H:%M")


def local_md(t):
    t = t.astimezone(TOKYO)
    return "%d月%d日" % (t.month, t.day)


class EndToEnd(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="anshin-e2e-")
        self.smtp = SmtpServer().start()
        self.d = Deployment(BIN_DIR, self.tmp.name)

    def tearDown(self):
        self.d.stop_server()
        self.smtp.stop()
        try:
            # The server logs at debug (a line per tap, per mail, per alert): IDs and tokens only.
            self.assertEqual(self.d.personal_data_in_logs(), [], "a name or an address in a log")
        finally:
            self.tmp.cleanup()

    def wait_mails(self, to, count, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            got = [parse(raw) for _, rcpts, raw in list(self.smtp.messages) if to in rcpts]
            if len(got) >= count:
                return got
            time.sleep(0.05)
        self.fail("%s: expected %d mails, got %d" % (to, count, len(got)))

    def body(self, msg):
        return msg.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")

    def check_headers(self, msg):
        self.assertIsNotNone(msg["Date"].datetime.tzinfo)
        self.assertRegex(msg["Message-ID"], r"^<[^<>@\s]+@kids-anshin\.example\.jp>$")
        self.assertEqual(msg["From"].addresses[0].addr_spec, "noreply@kids-anshin.example.jp")
        self.assertEqual(msg["From"].addresses[0].display_name, "ねりまキッズ安心メール")

    def test_every_notification_kind(self):
        d = self.d
        d.add_facility("day", DAY, departure_from="23:59")
        d.add_facility("eve", EVE, departure_from="00:00")
        day_agent = d.enroll_agent("day", "day-pc")
        eve_agent = d.enroll_agent("eve", "eve-pc")
        sakura = d.add_child("day", "練馬 さくら")
        yui = d.add_child("day", "石神井 ゆい")
        haruto = d.add_child("eve", "春日 はると")
        tok_sakura = d.assign_card(sakura, "0123456789abcdef")
        tok_yui = d.assign_card(yui, "0123456789abcd01")
        tok_haruto = d.assign_card(haruto, "0123456789abcd02")
        g_sakura = d.add_guardian(sakura, "sakura-mama@example.jp")
        g_yui = d.add_guardian(yui, "yui-papa@example.jp")
        g_haruto = d.add_guardian(haruto, "haruto-mama@example.jp", "--iso-2022-jp")
        d.add_guardian(sakura, "typo@example.jp")  # never verified

        d.start_server(self.smtp.port)

        # The verification mails: confirm one address by its link, two by their codes.
        codes = {}
        for to in ("sakura-mama@example.jp", "yui-papa@example.jp", "haruto-mama@example.jp", "typo@example.jp"):
            msg = self.wait_mails(to, 1)[0]
            self.check_headers(msg)
            self.assertIn("メールアドレスの確認", msg["Subject"])
            text = self.body(msg)
            codes[to] = (re.search(r"確認コード: (\d{6})", text).group(1),
                         re.search(r"/verify\?token=([0-9a-f]{32})", text).group(1))
        token = codes["sakura-mama@example.jp"][1]
        status, page = d.public("GET", "/verify?token=" + token)
        self.assertEqual(status, 200)
        self.assertIn("確認する", page)
        status, page = d.public("POST", "/verify", "token=" + token)
        self.assertEqual(status, 200, page)
        self.assertIn("確認が完了しました", page)
        d.admin("guardian", "verify", "--guardian", str(g_yui), "--code", codes["yui-papa@example.jp"][0])
        d.admin("guardian", "verify", "--guardian", str(g_haruto), "--code", codes["haruto-mama@example.jp"][0])
        del g_sakura

        now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        arrive, double, leave = now - datetime.timedelta(minutes=4), now - datetime.timedelta(seconds=210), \
            now - datetime.timedelta(minutes=1)
        late = now - datetime.timedelta(minutes=10)
        day_agent.post([(tok_sakura, arrive, "auto"), (tok_sakura, double, "auto"), (tok_yui, late, "auto")])
        day_agent.post([(tok_sakura, leave, "auto")])
        eve_agent.post([(tok_haruto, arrive, "auto")])
        eve_agent.post([(tok_haruto, leave, "auto")])

        sakura_mails = self.wait_mails("sakura-mama@example.jp", 3)  # verification + 2
        time.sleep(1.0)  # a duplicate would arrive by now
        sakura_mails = [m for m in self.wait_mails("sakura-mama@example.jp", 3) if "確認" not in m["Subject"]]
        self.assertEqual(len(sakura_mails), 2, [m["Subject"] for m in sakura_mails])
        arrival, departure = sorted(sakura_mails, key=lambda m: m["Subject"] != "【キッズ安心メール】来館のお知らせ")
        self.check_headers(arrival)
        self.assertEqual(arrival["Subject"], "【キッズ安心メール】来館のお知らせ")
        self.assertTrue(self.body(arrival).startswith(
            "練馬 さくらさんが%s %sに%sに来館しました。\n" % (local_md(arrive), local_hm(arrive), DAY)),
            self.body(arrival))
        self.assertEqual(departure["Subject"], "【キッズ安心メール】退館のお知らせ")
        self.assertTrue(self.body(departure).startswith(
            "練馬 さくらさんが%s %sに%sを退館しました。\n" % (local_md(leave), local_hm(leave), DAY)))

        yui_mail = [m for m in self.wait_mails("yui-papa@example.jp", 2) if "確認" not in m["Subject"]][0]
        self.assertEqual(yui_mail["Subject"], "【キッズ安心メール】来館のお知らせ（遅延）")
        self.assertIn("遅れて送信", self.body(yui_mail))
        self.assertIn("実際のタッチの時刻は%s %sです" % (local_md(late), local_hm(late)), self.body(yui_mail))
        self.assertIn("石神井 ゆいさんが%s %sに%sに来館しました。" % (local_md(late), local_hm(late), DAY),
                      self.body(yui_mail))

        haruto_mails = [m for m in self.wait_mails("haruto-mama@example.jp", 3) if "確認" not in m["Subject"]]
        self.assertEqual(len(haruto_mails), 2)
        inferred = next(m for m in haruto_mails if "来館の記録なし" in m["Subject"])
        correction = next(m for m in haruto_mails if "訂正" in m["Subject"])
        for m in (inferred, correction):
            self.check_headers(m)
            self.assertEqual(m.get_content_charset(), "iso-2022-jp")
        # ISO-2022-JP bodies are 7bit with long lines cut: read them as one text.
        inferred_text = self.body(inferred).replace("\n", "")
        correction_text = self.body(correction).replace("\n", "")
        self.assertIn("春日 はるとさんが%s %sに%sを退館しました。" % (local_md(arrive), local_hm(arrive), EVE),
                      inferred_text)
        self.assertIn("かざし忘れ", inferred_text)
        self.assertNotIn("来館しました", inferred_text)
        self.assertIn("春日 はるとさんが%s %sに%sを退館しました。" % (local_md(leave), local_hm(leave), EVE),
                      correction_text)
        self.assertIn("先ほど%sに「退館」としてお知らせしたタッチは、実際には来館の記録でした" % local_hm(arrive),
                      correction_text)

        # The unverified address got its verification mail and nothing else.
        self.assertEqual(len(self.wait_mails("typo@example.jp", 1)), 1)
        day_agent.close()
        eve_agent.close()

        # The send history and the outbox depth are visible on /metrics.
        status, metrics = d.public("GET", "/metrics")
        self.assertEqual(status, 200)
        self.assertRegex(metrics, r"anshin_mailer_sent_total \d+")
        self.assertIn("anshin_outbox_depth 0\n", metrics)

    def test_not_arrived_is_mailed_only_where_the_ward_enables_it(self):
        d = self.d
        # A fixed zone in which it is 14:xx now, so the facility is open whatever the hour of
        # the run; expected by the minute before now; every weekday attended.
        now = datetime.datetime.now(datetime.timezone.utc)
        offset = 14 - now.hour
        if offset > 14:
            offset -= 24
        if offset < -12:
            offset += 24
        tz = "Etc/GMT" if offset == 0 else "Etc/GMT%+d" % -offset  # Etc/GMT-9 is UTC+9
        zone = datetime.timezone(datetime.timedelta(hours=offset))
        by = (now.astimezone(zone) - datetime.timedelta(minutes=1)).strftime("%H:%M")
        for code, name in (("day", DAY), ("eve", EVE)):
            d.add_facility(code, name, tz=tz, opens="13:00", closing_time="19:00",
                           expected_arrival_by=by)
        d.admin("facility", "set", "day", "--notify-not-arrived", "on")
        every_day = "mon,tue,wed,thu,fri,sat,sun"
        sakura = d.add_child("day", "練馬 さくら")
        haruto = d.add_child("eve", "春日 はると")
        for child in (sakura, haruto):
            d.admin("child", "update", "--child", str(child), "--attends", every_day)
        guardians = {"sakura-mama@example.jp": d.add_guardian(sakura, "sakura-mama@example.jp"),
                     "haruto-mama@example.jp": d.add_guardian(haruto, "haruto-mama@example.jp")}
        d.start_server(self.smtp.port)
        for to, g in guardians.items():
            code = re.search(r"確認コード: (\d{6})", self.body(self.wait_mails(to, 1)[0])).group(1)
            d.admin("guardian", "verify", "--guardian", str(g), "--code", code)

        # The checks run a minute after the start.
        mail = self.wait_mails("sakura-mama@example.jp", 2, timeout=100)[1]
        self.check_headers(mail)
        self.assertEqual(mail["Subject"], "【キッズ安心メール】来館の記録がありません")
        day = now.astimezone(zone)
        self.assertTrue(self.body(mail).startswith(
            "練馬 さくらさんは本日（%d月%d日）%sに来館の予定ですが、%sまでに来館の記録がありません。\n"
            % (day.month, day.day, DAY, by)), self.body(mail))
        # Both facilities raised the alert; the guardian at the one left off got nothing.
        status, metrics = d.public("GET", "/metrics")
        self.assertEqual(status, 200)
        self.assertRegex(metrics, r'anshin_alerts_open\{kind="not_arrived"\} 2\b')
        time.sleep(1.0)
        self.assertEqual(len(self.wait_mails("haruto-mama@example.jp", 1)), 1)  # verification only
        self.assertEqual(len(self.wait_mails("sakura-mama@example.jp", 2)), 2)  # once a day


if __name__ == "__main__":
    BIN_DIR = os.path.abspath(sys.argv[1])
    unittest.main(argv=[sys.argv[0]] + sys.argv[2:], verbosity=2)
