#!/usr/bin/python3
"""A throw-away anshin deployment for end-to-end tests, bench/e2e and scripts/demo.

Deployment(bin_dir, workdir) drives the real binaries: `anshin-admin init` and friends create
the database, PKI and card key; start_server() writes a server.toml pointing the mailer at a
local SMTP server (tests/mail/smtp_server.py) and starts `anshin-server` on 127.0.0.1 free
ports; post_taps() uploads taps over mutual TLS with an enrolled agent's certificate, exactly
as the reader agent does (protocol v1, docs/protocol.md). Only the standard library is used.
"""
import datetime
import hashlib
import hmac
import http.client
import json
import os
import re
import socket
import ssl
import subprocess
import time

TOKYO = datetime.timezone(datetime.timedelta(hours=9))


def rfc3339(t):
    return t.astimezone(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Agent:
    def __init__(self, deployment, name, bundle):
        self.deployment = deployment
        self.name = name
        self.bundle = bundle
        self.seq = 0
        self.ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=os.path.join(bundle, "ca.crt"))
        self.ctx.load_cert_chain(os.path.join(bundle, "agent.crt"), os.path.join(bundle, "agent.key"))
        self.conn = None

    def post(self, taps, sent_at=None):
        """taps: list of (card_token, datetime, direction). Returns the parsed acknowledgement."""
        body = {"agent": self.name, "sent_at": rfc3339(sent_at or datetime.datetime.now(datetime.timezone.utc)),
                "taps": []}
        for token, at, direction in taps:
            self.seq += 1
            body["taps"].append({"seq": self.seq, "card": token, "at": rfc3339(at), "reader": "entrance",
                                 "direction": direction})
        data = json.dumps(body).encode()
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPSConnection("127.0.0.1", self.deployment.agents_port, context=self.ctx,
                                                        timeout=30)
            try:
                self.conn.request("POST", "/v1/taps", body=data, headers={"Content-Type": "application/json"})
                resp = self.conn.getresponse()
                payload = resp.read()
            except (ConnectionError, http.client.HTTPException, ssl.SSLError):
                self.conn.close()
                self.conn = None
                if attempt == 1:
                    raise
                continue
            if resp.status != 200:
                raise RuntimeError("POST /v1/taps: %d %s" % (resp.status, payload[:300]))
            return json.loads(payload)

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None



def wait_for(cond, what, timeout=20):
    """cond()'s first true value, polled every 50 ms; AssertionError after `timeout` seconds."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)

class Deployment:
    def __init__(self, bin_dir, workdir):
        self.bin_dir = bin_dir
        self.workdir = workdir
        self.home = os.path.join(workdir, "home")
        self.server = None
        self.agents_port = None
        self.public_port = None
        self.personal = set()  # the names and addresses given: never to appear in a log
        self.admin("init", "--server-san", "127.0.0.1")
        with open(os.path.join(self.home, "card.key")) as f:
            self.card_key = bytes.fromhex(f.read().strip())

    def admin(self, *args):
        p = subprocess.run([os.path.join(self.bin_dir, "anshin-admin"), "--home", self.home] + list(args),
                           capture_output=True, text=True, timeout=60,
                           env=dict(os.environ, ANSHIN_OPERATOR="e2e"))
        if p.returncode != 0:
            raise RuntimeError("anshin-admin %s: %s" % (" ".join(args), p.stderr.strip()))
        return p.stdout.strip()

    def add_facility(self, code, name, **rules):
        args = ["facility", "add", "--code", code, "--name", name]
        for key, value in rules.items():
            args += ["--" + key.replace("_", "-"), str(value)]
        return int(self.admin(*args).splitlines()[-1])

    def enroll_agent(self, facility_code, name):
        bundle = os.path.join(self.workdir, "agent-" + name)
        self.admin("agent", "enroll", "--facility", facility_code, "--name", name, "--out", bundle)
        return Agent(self, name, bundle)

    def add_child(self, facility_code, name):
        self.personal.add(name)
        return int(self.admin("child", "add", "--facility", facility_code, "--name", name,
                              "--format", "id").splitlines()[-1])

    def card_token(self, idm_hex):
        return hmac.new(self.card_key, bytes.fromhex(idm_hex), hashlib.sha256).hexdigest()[:32]

    def assign_card(self, child, idm_hex):
        self.admin("card", "assign", "--child", str(child), "--idm", idm_hex)
        return self.card_token(idm_hex)

    def add_guardian(self, child, email, *flags):
        self.personal.add(email)
        out = self.admin("guardian", "add", "--child", str(child), "--email", email, *flags,
                         "--format", "id")
        return int(re.findall(r"\d+", out.splitlines()[-1])[0])

    def start_server(self, smtp_port, log_path=None, extra_mail="", extra_server="", log_level="debug",
                     retry=("1s", "5s")):
        config = os.path.join(self.home, "server.toml")
        # The public listener's port is chosen here so that verification links carry it.
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            public_port = probe.getsockname()[1]
        with open(config, "w") as f:
            f.write('[server]\nagents_listen = "127.0.0.1:0"\npublic_listen = "127.0.0.1:%d"\n'
                    'database = "anshin.db"\nlog_level = "%s"\n%s\n'
                    '[tls]\ncert = "pki/server.crt"\nkey = "pki/server.key"\nclient_ca = "pki/ca.crt"\n\n'
                    '[mail]\nrelay = "smtp://127.0.0.1:%d"\nstarttls = "none"\n'
                    'from = "noreply@kids-anshin.example.jp"\nfrom_name = "ねりまキッズ安心メール"\n'
                    'public_url = "http://127.0.0.1:%d"\nretry_min = "%s"\nretry_max = "%s"\n%s\n'
                    % (public_port, log_level, extra_server, smtp_port, public_port, retry[0], retry[1],
                       extra_mail))
        ready = os.path.join(self.workdir, "server.ready")
        if os.path.exists(ready):
            os.unlink(ready)
        log = open(log_path or os.path.join(self.workdir, "server.log"), "ab")
        self.server = subprocess.Popen([os.path.join(self.bin_dir, "anshin-server"), "--config", config,
                                        "--ready-file", ready], stdout=log, stderr=log)
        log.close()
        deadline = time.time() + 30
        while not os.path.exists(ready):
            if self.server.poll() is not None:
                raise RuntimeError("anshin-server exited with %d (see %s)" % (self.server.returncode, log.name))
            if time.time() > deadline:
                raise RuntimeError("anshin-server did not become ready")
            time.sleep(0.05)
        with open(ready) as f:
            ports = json.load(f)
        self.agents_port = ports["agents_port"]
        self.public_port = ports["public_port"]

    def public(self, method, target, body=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.public_port, timeout=10)
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if body is not None else {}
        conn.request(method, target, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read().decode("utf-8", "replace")
        conn.close()
        return resp.status, data

    def stop_server(self):
        if self.server is not None:
            self.server.terminate()
            try:
                self.server.wait(15)
            except subprocess.TimeoutExpired:
                self.server.kill()
                self.server.wait()
            self.server = None

    def personal_data_in_logs(self):
        """Every line of a log under the work directory (the server's, the agents') that holds a
        name or an address this deployment was given: "server.log:12: <line>". Logs carry IDs and
        tokens only (docs/operations.md, "Logs")."""
        found = []
        for root, _, files in os.walk(self.workdir):
            for name in files:
                if not name.endswith(".log"):
                    continue
                path = os.path.join(root, name)
                with open(path, encoding="utf-8", errors="replace") as f:
                    for number, line in enumerate(f, 1):
                        if any(p in line for p in self.personal):
                            found.append("%s:%d: %s" % (os.path.relpath(path, self.workdir), number, line.rstrip()))
        return found
