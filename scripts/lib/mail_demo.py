#!/usr/bin/python3
"""The anshin demo: a scripted afternoon at one club, from card taps to guardians' mail.

  mail_demo.py BIN_DIR

In a temporary folder: `anshin-admin init`, one facility, one agent, three children with cards
and guardians; a local SMTP server (python3-aiosmtpd) writing to a Maildir; anshin-server on
SQLite; the guardians verified with the code or link from the verification mail they received;
then anshin-agent with a simulated reader (reader.device = "simulated:<script>") plays the
afternoon: arrivals, a double tap, a child who forgot to tap on arrival (and taps again, which
corrects the earlier notice), and departures. Every mail is printed as the guardian would read
it. Everything is stopped and removed at the end.

The facility's departure threshold (normally 16:30) is set to a minute or so from now so that
the afternoon fits in about two minutes of wall-clock time.
"""
import datetime
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(root, "tests", "mail"))
from deployment import TOKYO, Deployment  # noqa: E402
from smtp_server import SmtpServer, parse  # noqa: E402

FACILITY = "光が丘第一学童クラブ"
PARENTS_SUICA = "0114b3c2d5e6f708"
DEMO_PASSWORD = "anshin-demo-password"  # the demo's staff logins only; removed with the demo


def say(text):
    print("\n### %s" % text)
    sys.stdout.flush()


def print_decisions(db_path):
    db = sqlite3.connect("file:%s?mode=ro" % db_path, uri=True)
    rows = db.execute("SELECT t.seq, t.corrected_at, t.reason, t.late, c.name FROM taps t "
                      "LEFT JOIN children c ON c.id = t.child_id ORDER BY t.seq").fetchall()
    print("  %-4s %-9s %-20s %-5s %s" % ("seq", "time", "reason", "late", "child"))
    for seq, at_ms, reason, late, name in rows:
        at = datetime.datetime.fromtimestamp(at_ms / 1000.0, TOKYO).strftime("%H:%M:%S")
        print("  %-4d %-9s %-20s %-5s %s" % (seq, at, reason, "yes" if late else "", name or ""))
    db.close()


def main():
    bin_dir = os.path.abspath(sys.argv[1])
    work = tempfile.mkdtemp(prefix="anshin-demo-")
    smtp = SmtpServer(maildir=os.path.join(work, "Maildir"), print_messages=True).start()
    d = None
    agent = None
    try:
        say("Deployment in %s: anshin-admin init, a facility, an agent, three children" % work)
        d = Deployment(bin_dir, work)
        now = datetime.datetime.now(TOKYO)
        threshold = (now + datetime.timedelta(seconds=100)).replace(second=0, microsecond=0)
        d.add_facility("hikari-1", FACILITY, departure_from=threshold.strftime("%H:%M"), double_tap_window="20s")
        print("facility hikari-1 (%s); departures from %s today (instead of 16:30, to keep the demo short)"
              % (FACILITY, threshold.strftime("%H:%M")))
        children = {}
        for name, idm, email in (("練馬 さくら", "0101010101010101", "sakura.mama@example.jp"),
                                 ("光が丘 はると", "0202020202020202", "haruto.papa@example.jp"),
                                 ("石神井 ゆい", "0303030303030303", "yui.mama@example.jp")):
            child = d.add_child("hikari-1", name)
            d.assign_card(child, idm)
            guardian = d.add_guardian(child, email)
            children[name] = (child, idm, email, guardian)
            print("child %d %s: card IDm %s, guardian %d <%s>" % (child, name, idm, guardian, email))
        bundle_agent = d.enroll_agent("hikari-1", "hikari-1-pc")
        logins = (("hikari-staff", "facility", ["--facility", "hikari-1"]),
                  ("callcenter", "callcenter", []), ("operator", "operator", []),
                  ("admin", "admin", []), ("auditor", "auditor", []))
        for name, role, extra in logins:
            subprocess.run([os.path.join(bin_dir, "anshin-admin"), "--home", d.home, "staff", "add",
                            "--name", name, "--role", role] + extra,
                           input=DEMO_PASSWORD + "\n", text=True, check=True, capture_output=True)

        say("Starting the SMTP server (port %d) and anshin-server; verification mails go out" % smtp.port)
        d.start_server(smtp.port, log_path=os.path.join(work, "server.log"),
                       extra_server='staff_listen = "127.0.0.1:0"\ncard_key = "card.key"')
        with open(os.path.join(work, "server.ready")) as f:
            staff_port = json.load(f)["staff_port"]
        say("The staff console: https://127.0.0.1:%d/ (the deployment's own CA: %s/pki/ca.crt)"
            % (staff_port, d.home))
        for name, role, _ in logins:
            print("  %-12s %-10s password: %s" % (name, role, DEMO_PASSWORD))
        wanted = {email for _, _, email, _ in children.values()}
        codes = {}
        deadline = time.time() + 30
        while len(codes) < len(wanted) and time.time() < deadline:
            for _, rcpts, raw in list(smtp.messages):
                text = parse(raw).get_body().get_content()
                m = re.search(r"確認コード: (\d{6})", text)
                link = re.search(r"/verify\?token=([0-9a-f]{32})", text)
                if m and link and rcpts[0] in wanted:
                    codes[rcpts[0]] = (m.group(1), link.group(1))
            time.sleep(0.2)
        time.sleep(0.5)
        say("Verifying the addresses: one by its link (the public page), two by code (the call centre)")
        for i, (name, (child, idm, email, guardian)) in enumerate(children.items()):
            code, token = codes[email]
            if i == 0:
                status, _ = d.public("POST", "/verify", "token=" + token)
                print("POST /verify (link of %s's guardian): HTTP %d" % (name, status))
            else:
                print(d.admin("guardian", "verify", "--guardian", str(guardian), "--code", code))

        # The afternoon, as the simulated reader sees it: "<delay_ms> <idm>", each delay counted
        # from the moment the previous card left the reader.
        start = datetime.datetime.now(TOKYO)
        to_threshold_ms = int((threshold - start).total_seconds() * 1000) + 3000
        sakura, haruto, yui = (children[n][1] for n in ("練馬 さくら", "光が丘 はると", "石神井 ゆい"))
        script = "\n".join([
            "# arrivals",
            "2000 %s" % sakura,
            "4000 %s" % sakura,  # a double tap: recorded, no second mail
            "2000 %s" % yui,
            "2000 %s" % PARENTS_SUICA,  # not registered: refused at the reader, never sent
            "# ... the afternoon passes; from the departure threshold on:",
            "%d %s" % (max(to_threshold_ms - 8000, 1000), haruto),  # forgot to tap on arrival
            "3000 %s" % sakura,  # leaves
            "3000 %s" % yui,     # leaves
            "25000 %s" % haruto,  # taps again: the earlier notice was really his arrival
            "",
        ])
        script_path = os.path.join(work, "afternoon.taps")
        with open(script_path, "w") as f:
            f.write(script)
        toml_path = os.path.join(bundle_agent.bundle, "agent.toml")
        with open(toml_path) as f:
            toml = f.read()
        toml = re.sub(r'server_url = "[^"]*"', 'server_url = "https://127.0.0.1:%d"' % d.agents_port, toml)
        toml = toml.replace("[uplink]", '[reader]\ndevice = "simulated:%s"\n\n[uplink]' % script_path)
        with open(toml_path, "w") as f:
            f.write(toml)
        say("Starting anshin-agent with a simulated reader; the afternoon (about %d s):" %
            ((to_threshold_ms + 30000) // 1000))
        for line in script.splitlines():
            if line and not line.startswith("#"):
                delay, idm = line.split()
                who = next((n for n, v in children.items() if v[1] == idm), "a parent's Suica")
                print("  after %5.1f s: %s taps" % (int(delay) / 1000.0, who))
        agent_log = open(os.path.join(work, "agent.log"), "ab")
        agent = subprocess.Popen([os.path.join(bin_dir, "anshin-agent"), "--config", toml_path],
                                 stdout=agent_log, stderr=agent_log)
        # Mails expected: arrival x2, inferred departure, departure x2, correction.
        expected = len(codes) + 6
        deadline = time.time() + (to_threshold_ms + 30000) / 1000.0 + 30
        while len(smtp.messages) < expected and time.time() < deadline:
            if agent.poll() is not None:
                print("anshin-agent exited with %d (see %s/agent.log)" % (agent.returncode, work))
                break
            time.sleep(0.2)
        time.sleep(2)
        say("What the reader showed the children (anshin-agent's console)")
        agent_log.flush()
        with open(os.path.join(work, "agent.log"), encoding="utf-8", errors="replace") as f:
            for line in f:
                if not re.match(r"^\d{4}-\d\d-\d\dT", line):  # console lines, not log lines
                    print("  " + line.rstrip())
        say("Decisions recorded by the server (taps table)")
        print_decisions(os.path.join(d.home, "anshin.db"))
        say("Done: %d mails received (%d verification, %d attendance)" %
            (len(smtp.messages), len(codes), len(smtp.messages) - len(codes)))
        return 0 if len(smtp.messages) >= expected else 1
    finally:
        if agent is not None:
            agent.terminate()
            try:
                agent.wait(10)
            except subprocess.TimeoutExpired:
                agent.kill()
        if d is not None:
            d.stop_server()
        smtp.stop()
        subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    sys.exit(main())
