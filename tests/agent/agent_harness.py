"""Test harness for the real anshin-agent binary: a test CA, a test HTTPS server that speaks
protocol v1 with client-certificate checking, and a wrapper that runs the agent.

Everything is made at test time in a fresh temp dir (keys and certificates with the openssl CLI;
nothing is committed) and served on 127.0.0.1 with a free port. Standard library only.

    with Harness(agent_binary) as h:
        h.server.start()                      # HTTPS on 127.0.0.1:<port>, client cert required
        agent = h.agent(device="simulated-fifo:" + h.fifo)
        agent.start(); h.tap("0123456789abcdef"); h.wait_for(lambda: h.server.committed_seqs())

The server behaves like notify-server's ingest (idempotent on (agent, seq), ACKs what it has
committed) and can be told to answer 500, to commit and then drop the connection before
answering, to reject with 403, or to go offline (its listening socket closed) and come back.
"""

import hashlib
import hmac
import http.server
import json
import os
import shutil
import signal
import socket
import socketserver
import ssl
import stat
import subprocess
import sys
import tempfile
import threading
import time

OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"


class TestFailure(Exception):
    pass


def check(cond, message):
    if not cond:
        raise TestFailure(message)


def wait_for(predicate, timeout=20.0, what="condition", interval=0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TestFailure("timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(interval)


def card_token(card_key_hex, idm_hex):
    """HMAC-SHA-256(card key, IDm) truncated to 16 bytes, hex (DESIGN.md §3)."""
    mac = hmac.new(bytes.fromhex(card_key_hex), bytes.fromhex(idm_hex), hashlib.sha256)
    return mac.hexdigest()[:32]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Pki:
    """A throw-away deployment CA with a server certificate and one agent certificate."""

    def __init__(self, directory, agent_name):
        self.dir = directory
        self.ca = os.path.join(directory, "ca.crt")
        self.server_cert = os.path.join(directory, "server.crt")
        self.server_key = os.path.join(directory, "server.key")
        self.agent_cert = os.path.join(directory, "agent.crt")
        self.agent_key = os.path.join(directory, "agent.key")
        ca_key = os.path.join(directory, "ca.key")
        self._run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                  "-nodes", "-keyout", ca_key, "-out", self.ca, "-days", "2",
                  "-subj", "/CN=anshin test CA")
        self._issue(ca_key, self.server_key, self.server_cert, "localhost",
                    "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth")
        self._issue(ca_key, self.agent_key, self.agent_cert, agent_name,
                    "extendedKeyUsage=clientAuth")

    def _run(self, *args):
        subprocess.run([OPENSSL, *args], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)

    def _issue(self, ca_key, key, cert, cn, ext):
        csr = cert + ".csr"
        ext_file = cert + ".ext"
        with open(ext_file, "w") as f:
            f.write(ext + "\n")
        self._run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                  "-keyout", key, "-out", csr, "-subj", "/CN=" + cn)
        self._run("x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey", ca_key,
                  "-CAcreateserial", "-out", cert, "-days", "2", "-extfile", ext_file)


class TestServer:
    """HTTPS server with the two agent endpoints; counts accepted TCP connections."""

    def __init__(self, pki, allowlist_tokens):
        self.pki = pki
        self.port = free_port()
        self.lock = threading.Lock()
        self.allowlist = list(allowlist_tokens)
        self.allowlist_version = 1
        self.connections = 0          # accepted TCP connections
        self.received = []            # every seq delivered in a POST, duplicates included
        self.committed = {}           # (agent, seq) -> tap, the idempotent store
        self.commit_order = []        # seqs in the order they were first committed
        self.posts = 0
        self.allowlist_gets = []      # `since` of each GET /v1/allowlist
        self.healths = []
        self.health_only_times = []  # time.monotonic() of each POST with no taps (heartbeats)
        self.fail_500 = 0             # answer the next N POSTs with 500
        self.drop_after_commit = 0    # commit the next N POSTs, then drop the connection
        self.reject = False           # answer POSTs with 403 while set
        self.peer_names = set()
        self._httpd = None
        self._thread = None

    @property
    def url(self):
        return "https://127.0.0.1:%d" % self.port

    def committed_seqs(self):
        with self.lock:
            return list(self.commit_order)

    def connection_count(self):
        with self.lock:
            return self.connections

    def start(self):
        """Starts listening (again) on the same port."""
        check(self._httpd is None, "server already running")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(self.pki.server_cert, self.pki.server_key)
        ctx.load_verify_locations(self.pki.ca)
        ctx.verify_mode = ssl.CERT_REQUIRED
        server = self

        class Httpd(socketserver.ThreadingMixIn, http.server.HTTPServer):
            allow_reuse_address = True
            daemon_threads = True

            def get_request(self):
                sock, addr = self.socket.accept()
                with server.lock:
                    server.connections += 1
                return sock, addr

            def finish_request(self, request, client_address):
                request.settimeout(10)
                try:
                    tls = ctx.wrap_socket(request, server_side=True)
                except (ssl.SSLError, OSError):
                    return
                self.RequestHandlerClass(tls, client_address, self)

            def handle_error(self, request, client_address):
                pass

        self._httpd = Httpd(("127.0.0.1", self.port), _Handler)
        self._httpd.agent_server = self
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def stop(self):
        """Goes offline: the port refuses connections until start()."""
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()
        self._httpd = None

    # Protocol v1 ------------------------------------------------------------------------

    def handle_taps(self, agent_cn, body):
        batch = json.loads(body)
        with self.lock:
            self.posts += 1
            if batch.get("agent") != agent_cn:
                return 403, {"error": "agent does not match its certificate"}, False
            if self.reject:
                return 403, {"error": "agent disabled"}, False
            if self.fail_500 > 0:
                self.fail_500 -= 1
                return 500, {"error": "internal error"}, False
            drop = False
            if self.drop_after_commit > 0:
                self.drop_after_commit -= 1
                drop = True
            if "health" in batch:
                self.healths.append(batch["health"])
            if not batch["taps"]:
                self.health_only_times.append(time.monotonic())
            last = 0
            for tap in batch["taps"]:
                seq = tap["seq"]
                check(seq > last, "taps out of order in one batch: %r" % batch["taps"])
                last = seq
                self.received.append(seq)
                key = (batch["agent"], seq)
                if key not in self.committed:
                    self.committed[key] = tap
                    self.commit_order.append(seq)
            acked = max([s for (a, s) in self.committed if a == batch["agent"]], default=0)
            answer = {"acked_through": acked, "allowlist_version": self.allowlist_version,
                      "server_time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
            return 200, answer, drop

    def register(self, token):
        """Registers a card (as staff issuing it would): a new allowlist version."""
        with self.lock:
            self.allowlist.append(token)
            self.allowlist_version += 1

    def allowlist_requests(self):
        with self.lock:
            return list(self.allowlist_gets)

    def handle_allowlist(self, since):
        with self.lock:
            self.allowlist_gets.append(since)
            if since == self.allowlist_version:
                return 200, {"version": self.allowlist_version, "full": False, "added": [],
                             "removed": []}
            return 200, {"version": self.allowlist_version, "full": True,
                         "added": sorted(self.allowlist), "removed": []}


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def _peer_cn(self):
        cert = self.connection.getpeercert()
        for rdn in cert.get("subject", ()):
            for key, value in rdn:
                if key == "commonName":
                    return value
        return ""

    def _answer(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        server = self.server.agent_server
        if self.path != "/v1/taps":
            return self._answer(404, {"error": "no such endpoint"})
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        cn = self._peer_cn()
        with server.lock:
            server.peer_names.add(cn)
        status, answer, drop = server.handle_taps(cn, body)
        if drop:
            # Committed, but the answer never reaches the agent: a dropped connection.
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self._answer(status, answer)

    def do_GET(self):
        server = self.server.agent_server
        if not self.path.startswith("/v1/allowlist?since="):
            return self._answer(404, {"error": "no such endpoint"})
        since = int(self.path.split("=", 1)[1])
        status, answer = server.handle_allowlist(since)
        self._answer(status, answer)


class Agent:
    """The anshin-agent binary with its own config and database."""

    def __init__(self, harness, binary, config_path):
        self.h = harness
        self.binary = binary
        self.config = config_path
        self.proc = None
        self.stdout_path = os.path.join(harness.dir, "agent.stdout")
        self.stderr_path = os.path.join(harness.dir, "agent.stderr")

    def start(self, env=None):
        check(self.proc is None, "agent already running")
        run_env = dict(os.environ)
        run_env.update(env or {})
        run_env = {k: v for k, v in run_env.items() if v is not None}  # None: unset
        self.proc = subprocess.Popen(
            [self.binary, "run", "--config", self.config],
            stdout=open(self.stdout_path, "a"), stderr=open(self.stderr_path, "a"),
            stdin=subprocess.DEVNULL, env=run_env)

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.proc = None

    def stop(self, timeout=10):
        """SIGTERM; returns the exit code."""
        if self.proc is None:
            return None
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise TestFailure("agent did not stop within %d s of SIGTERM" % timeout)
        self.proc = None
        return code

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def status(self):
        """`anshin-agent status` as a dict of its "key: value" lines."""
        out = subprocess.run([self.binary, "status", "--config", self.config],
                             capture_output=True, text=True, timeout=10)
        if out.returncode != 0:
            return {"_error": out.stderr}
        values = {}
        for line in out.stdout.splitlines():
            key, _, value = line.partition(":")
            values[key.strip()] = value.strip()
        return values

    def status_value(self, key):
        return self.status().get(key, "")

    def console(self):
        with open(self.stdout_path) as f:
            return f.read()

    def log(self):
        with open(self.stderr_path) as f:
            return f.read()


class Harness:
    AGENT_NAME = "hikarigaoka-1"
    CARD_KEY = "5a" * 32

    def __init__(self, agent_binary, allowlist_idms=()):
        self.binary = agent_binary
        self.dir = tempfile.mkdtemp(prefix="anshin-agent-test-")
        self.pki = Pki(self.dir, self.AGENT_NAME)
        self.card_key_path = os.path.join(self.dir, "card.key")
        with open(self.card_key_path, "w") as f:
            f.write(self.CARD_KEY + "\n")
        self.server = TestServer(self.pki, [self.token(i) for i in allowlist_idms])
        self.fifo = os.path.join(self.dir, "taps.fifo")
        os.mkfifo(self.fifo, 0o600)
        self._fifo_fd = None
        self.agents = []

    def token(self, idm_hex):
        return card_token(self.CARD_KEY, idm_hex)

    def agent(self, device=None, extra="", name=None, debounce="2s", poll_interval="20ms",
              uplink=""):
        """The agent's config; `uplink` adds lines to [uplink], `extra` appends sections."""
        device = device if device is not None else "simulated-fifo:" + self.fifo
        config = os.path.join(self.dir, "agent.toml")
        with open(config, "w") as f:
            f.write("""
[agent]
name = "%s"
database = "%s"
card_key = "%s"
[reader]
device = "%s"
poll_interval = "%s"
debounce = "%s"
[uplink]
server_url = "%s"
cert = "%s"
key = "%s"
ca = "%s"
batch_size = 4
timeout = "3s"
backoff_min = "100ms"
backoff_max = "1s"
%s
[log]
level = "debug"
%s
""" % (name or self.AGENT_NAME, os.path.join(self.dir, "agent.db"), self.card_key_path, device,
       poll_interval, debounce, self.server.url, self.pki.agent_cert, self.pki.agent_key,
       self.pki.ca, uplink, extra))
        a = Agent(self, self.binary, config)
        self.agents.append(a)
        return a

    def tap(self, idm_hex, delay_ms=0, present_ms=60):
        """Writes one tap line into the simulated reader's FIFO."""
        if self._fifo_fd is None:
            # O_RDWR never blocks on a FIFO and keeps it open while agents come and go.
            self._fifo_fd = os.open(self.fifo, os.O_RDWR)
        os.write(self._fifo_fd, ("%d %s %d\n" % (delay_ms, idm_hex, present_ms)).encode())

    def close(self):
        for a in self.agents:
            if a.running():
                a.proc.kill()
                a.proc.wait()
        self.server.stop()
        if self._fifo_fd is not None:
            os.close(self._fifo_fd)
        if os.environ.get("ANSHIN_KEEP_TEST_DIR"):
            print("test dir kept: " + self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if exc[0] is not None:
            for a in self.agents:
                try:
                    sys.stderr.write("--- agent log ---\n" + a.log()[-4000:] + "\n")
                    sys.stderr.write("--- agent console ---\n" + a.console()[-2000:] + "\n")
                except OSError:
                    pass
        self.close()
        return False


def idm(n):
    """A distinct IDm per number."""
    return "0120%012x" % n
