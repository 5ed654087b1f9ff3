#!/usr/bin/python3
"""The real anshin-agent against the real anshin-server, enrolled with the real anshin-admin.

    agent_real_server_test.py ANSHIN_AGENT ANSHIN_SERVER ANSHIN_ADMIN

A fresh deployment in a temp dir (admin init: CA, server certificate, card key), one facility,
two children with cards, one enrolled agent whose bundle is used as written; the agent's taps
come from its simulated reader's FIFO. Checks: registered taps reach the server's taps table
once each with the right card token, a stranger's card never leaves the PC, and taps made
while the server is down arrive after it comes back.
"""

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent_harness import TestFailure, card_token, check, free_port, wait_for  # noqa: E402

CARDS = ["0123456789abcdef", "0011223344556677"]
STRANGER = "0000feedfacecafe"


def main():
    agent_bin, server_bin, admin_bin = sys.argv[1:4]
    work = tempfile.mkdtemp(prefix="anshin-agent-real-")
    home = os.path.join(work, "home")
    env = dict(os.environ, ANSHIN_HOME=home)
    procs = []

    def admin(*args):
        out = subprocess.run([admin_bin, *args], env=env, capture_output=True, text=True,
                             timeout=30)
        check(out.returncode == 0, "anshin-admin %s: %s" % (" ".join(args), out.stderr))
        return out.stdout + out.stderr

    def start_server():
        ready = os.path.join(work, "ready")
        if os.path.exists(ready):
            os.unlink(ready)
        p = subprocess.Popen([server_bin, "--config", os.path.join(home, "server.toml"),
                              "--ready-file", ready], env=env, stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL,
                             stderr=open(os.path.join(work, "server.log"), "a"))
        procs.append(p)
        wait_for(lambda: os.path.exists(ready), what="server ready")
        return p

    def server_taps():
        db = sqlite3.connect("file:%s?mode=ro" % os.path.join(home, "anshin.db"), uri=True,
                             timeout=5)
        try:
            return db.execute("SELECT seq, card_token FROM taps ORDER BY seq").fetchall()
        finally:
            db.close()

    try:
        admin("init", "--server-san", "127.0.0.1")
        port = free_port()
        server_toml = os.path.join(home, "server.toml")
        with open(server_toml) as f:
            text = f.read()
        text = re.sub(r'agents_listen = "[^"]*"', 'agents_listen = "127.0.0.1:%d"' % port, text)
        text = re.sub(r'public_listen = "[^"]*"', 'public_listen = "127.0.0.1:0"', text)
        with open(server_toml, "w") as f:
            f.write(text)
        admin("facility", "add", "--code", "hg1", "--name", "光が丘第一学童クラブ")
        for i, idm in enumerate(CARDS):
            out = admin("child", "add", "--facility", "hg1", "--name", "テスト %d" % i, "--format", "id")
            child = re.search(r"\d+", out).group(0)
            admin("card", "assign", "--child", child, "--idm", idm)
        bundle = os.path.join(work, "bundle")
        admin("agent", "enroll", "--facility", "hg1", "--name", "hg1-entrance", "--out", bundle,
              "--server-url", "https://127.0.0.1:%d" % port)
        with open(os.path.join(bundle, "card.key")) as f:
            card_key = f.read().strip()

        fifo = os.path.join(work, "taps.fifo")
        os.mkfifo(fifo, 0o600)
        config = os.path.join(bundle, "agent.toml")
        with open(config, "a") as f:
            f.write('\n[reader]\ndevice = "simulated-fifo:%s"\npoll_interval = "20ms"\n'
                    '[log]\nlevel = "debug"\n' % fifo)
        with open(config) as f:  # backoff for a test: fast retries
            text = f.read().replace('ca = "ca.crt"\n',
                                    'ca = "ca.crt"\nbackoff_min = "100ms"\nbackoff_max = "1s"\n')
        with open(config, "w") as f:
            f.write(text)

        server = start_server()
        agent_log = open(os.path.join(work, "agent.log"), "a")
        agent = subprocess.Popen([agent_bin, "run", "--config", config], stdin=subprocess.DEVNULL,
                                 stdout=agent_log, stderr=agent_log)
        procs.append(agent)

        def status(key):
            out = subprocess.run([agent_bin, "status", "--config", config], capture_output=True,
                                 text=True, timeout=10)
            for line in out.stdout.splitlines():
                k, _, v = line.partition(":")
                if k.strip() == key:
                    return v.strip()
            return ""

        # The first fetch follows the agent's start at once; under a full parallel ctest on two
        # cores the server's start and the TLS handshakes can take tens of seconds.
        wait_for(lambda: re.match(r"\d+ \(2 cards", status("allowlist_version")), timeout=60,
                 what="the allowlist with both cards")
        tap_fd = os.open(fifo, os.O_RDWR)
        for idm in CARDS + [STRANGER]:
            os.write(tap_fd, ("0 %s 60\n" % idm).encode())
        wait_for(lambda: len(server_taps()) == 2, what="two taps at the server")
        wait_for(lambda: status("unknown_taps") == "1", what="the stranger counted")
        taps = server_taps()
        check(taps == [(1, card_token(card_key, CARDS[0])), (2, card_token(card_key, CARDS[1]))],
              "server taps %r" % taps)

        server.send_signal(signal.SIGTERM)  # the server goes away for a while
        server.wait(20)
        os.write(tap_fd, ("2500 %s 60\n" % CARDS[0]).encode())
        wait_for(lambda: status("queue_depth") == "1", what="a tap queued while offline")
        time.sleep(1)
        start_server()
        wait_for(lambda: len(server_taps()) == 3, what="the queued tap delivered")
        check(server_taps()[2][0] == 3, "seq after the outage: %r" % server_taps())
        check(all(t[1] != card_token(card_key, STRANGER) for t in server_taps()),
              "the stranger's card reached the server")
        wait_for(lambda: status("queue_depth") == "0", what="queue empty")
        agent.send_signal(signal.SIGTERM)
        check(agent.wait(20) == 0, "agent did not stop cleanly")
        os.close(tap_fd)

        # The heartbeat, against the real server: no reader, no taps, health still arrives.
        with open(config) as f:
            text = f.read()
        text = text.replace('device = "simulated-fifo:%s"' % fifo,
                            'device = "simulated-fifo:%s"' % os.path.join(work, "gone.fifo"))
        text = text.replace('ca = "ca.crt"\n', 'ca = "ca.crt"\nheartbeat = "2s"\n'
                            'heartbeat_hours = "00:00-24:00"\nheartbeat_days = "sun-sat"\n')
        with open(config, "w") as f:
            f.write(text)
        agent = subprocess.Popen([agent_bin, "run", "--config", config], stdin=subprocess.DEVNULL,
                                 stdout=agent_log, stderr=agent_log)
        procs.append(agent)

        def server_health():
            db = sqlite3.connect("file:%s?mode=ro" % os.path.join(home, "anshin.db"), uri=True,
                                 timeout=5)
            try:
                row = db.execute("SELECT last_health FROM agents WHERE name = 'hg1-entrance'")
                value = row.fetchone()[0]
                return json.loads(value) if value else {}
            finally:
                db.close()

        wait_for(lambda: server_health().get("reader_state") == "error",
                 what="the heartbeat's reader error at the server")
        check(len(server_taps()) == 3, "the heartbeat carried taps: %r" % server_taps())
        agent.send_signal(signal.SIGTERM)
        check(agent.wait(20) == 0, "agent did not stop cleanly after the heartbeat")
        print("ok   agent_real_server")
    except TestFailure as e:
        for name in ("agent.log", "server.log"):
            path = os.path.join(work, name)
            if os.path.exists(path):
                sys.stderr.write("--- %s ---\n%s\n" % (name, open(path).read()[-4000:]))
        print("FAIL agent_real_server: %s" % e)
        return 1
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
