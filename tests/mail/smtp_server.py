#!/usr/bin/python3
"""A real SMTP server for anshin's tests, benchmarks and demo (python3-aiosmtpd).

As a module: SmtpServer(...) runs aiosmtpd on 127.0.0.1 in a background thread, optionally
with STARTTLS required (self-signed certificate made with the openssl CLI) and AUTH required,
and with scripted misbehaviour:
  tempfail=N       answer the first N RCPT commands with 451 (then accept)
  bounce_prefix=P  answer RCPT for addresses starting with P with 550 5.1.1
  drop=N           for the first N messages, close the connection in the middle of DATA
  delay=S          wait S seconds before every reply (a slow relay)
Every accepted message is kept in .messages (envelope + raw bytes) and optionally written to
a Maildir.

As a program (demo): smtp_server.py --port P --maildir DIR [--print] runs until SIGTERM;
--print shows each message's decoded subject and body as it arrives.
"""
import argparse
import asyncio
import email
import email.policy
import mailbox
import os
import signal
import socket
import subprocess
import sys
import threading
import re
import time

from aiosmtpd.smtp import SMTP, AuthResult


_MESSAGE_ID = re.compile(rb"^Message-ID: (<[^>\r\n]*>)", re.MULTILINE | re.IGNORECASE)


def make_self_signed_cert(directory):
    """Creates cert.pem/key.pem for 127.0.0.1 in `directory` with the openssl CLI."""
    cert = os.path.join(directory, "cert.pem")
    key = os.path.join(directory, "key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Handler:
    def __init__(self, server):
        self.server = server

    async def handle_RCPT(self, smtp, session, envelope, address, rcpt_options):
        with self.server.lock:
            self.server.rcpt_count += 1
            if self.server.tempfail_left > 0:
                self.server.tempfail_left -= 1
                return "451 4.7.1 Try again later"
        if self.server.bounce_prefix and address.startswith(self.server.bounce_prefix):
            return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, smtp, session, envelope):
        now = time.time()
        with self.server.lock:
            self.server.accepted += 1
            n = self.server.accepted
            if self.server.keep:
                self.server.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        if self.server.log is not None:
            m = _MESSAGE_ID.search(envelope.original_content)
            self.server.log.write("%.6f %s\n" % (now, m.group(1).decode() if m else "-"))
            self.server.log.flush()
        if self.server.maildir is not None:
            self.server.maildir.add(envelope.original_content)
        if self.server.print_messages:
            print_message(envelope.original_content)
        return "250 2.0.0 Ok: queued as T%05d" % n


class _SMTP(SMTP):
    """aiosmtpd's SMTP with one extra misbehaviour: dropping the connection during DATA."""

    def __init__(self, server, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._anshin = server

    def connection_made(self, transport):
        with self._anshin.lock:
            self._anshin.connections += 1
            self._anshin.transports.add(transport)
        super().connection_made(transport)

    def connection_lost(self, exc):
        with self._anshin.lock:
            self._anshin.transports.discard(self.transport)
        super().connection_lost(exc)

    async def push(self, status):
        if self._anshin.delay > 0:
            await asyncio.sleep(self._anshin.delay)
        await super().push(status)

    async def smtp_DATA(self, arg):
        drop = False
        with self._anshin.lock:
            if self._anshin.drop_left > 0 and self.envelope.rcpt_tos:
                self._anshin.drop_left -= 1
                drop = True
        if drop:
            await self.push("354 End data with <CR><LF>.<CR><LF>")
            await self._reader.readline()  # the first line of the message, then hang up
            self.transport.close()
            return
        await super().smtp_DATA(arg)


class SmtpServer:
    def __init__(self, port=0, tls_dir=None, auth=None, tempfail=0, bounce_prefix=None, drop=0,
                 maildir=None, print_messages=False, log=None, keep=True, delay=0.0):
        self.port = port
        self.auth = auth  # (user, password) or None
        self.tempfail_left = tempfail
        self.bounce_prefix = bounce_prefix
        self.drop_left = drop
        self.delay = delay
        self.transports = set()
        self.maildir = mailbox.Maildir(maildir, create=True) if maildir else None
        self.print_messages = print_messages
        self.log = log      # a file: one line "<unix time> <Message-ID>" per accepted message
        self.keep = keep    # keep messages in memory (.messages)
        self.accepted = 0
        self.messages = []
        self.rcpt_count = 0
        self.connections = 0
        self.lock = threading.Lock()
        self.tls_context = None
        self.cert = None
        if tls_dir is not None:
            import ssl
            self.cert, key = make_self_signed_cert(tls_dir)
            self.tls_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self.tls_context.load_cert_chain(self.cert, key)
        self._loop = asyncio.new_event_loop()
        self._thread = None
        self._server = None

    def _authenticate(self, smtp, session, envelope, mechanism, auth_data):
        ok = (self.auth is not None and auth_data.login.decode() == self.auth[0]
              and auth_data.password.decode() == self.auth[1])
        return AuthResult(success=ok)

    def _factory(self):
        kwargs = dict(hostname="anshin-test", decode_data=False, enable_SMTPUTF8=False)
        if self.tls_context is not None:
            kwargs.update(tls_context=self.tls_context, require_starttls=True)
        if self.auth is not None:
            kwargs.update(authenticator=self._authenticate, auth_required=True,
                          auth_require_tls=self.tls_context is not None)
        return _SMTP(self, _Handler(self), **kwargs)

    def start(self):
        ready = threading.Event()

        def run():
            asyncio.set_event_loop(self._loop)
            self._server = self._loop.run_until_complete(
                self._loop.create_server(self._factory, "127.0.0.1", self.port))
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()
            self._loop.run_forever()
            self._server.close()
            self._loop.run_until_complete(self._server.wait_closed())
            self._loop.close()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("SMTP server did not start")
        return self

    def stop(self):
        """Stops listening and closes every open session (a relay that goes away)."""
        if self._thread is not None:
            def close_all():
                with self.lock:
                    transports = list(self.transports)
                for t in transports:
                    t.abort()
                self._loop.stop()
            self._loop.call_soon_threadsafe(close_all)
            self._thread.join(10)
            self._thread = None


def parse(raw):
    return email.message_from_bytes(raw, policy=email.policy.default)


def print_message(raw):
    msg = parse(raw)
    body = msg.get_body(preferencelist=("plain",))
    print("=" * 72)
    print("To:      %s" % msg["To"])
    print("Subject: %s" % msg["Subject"])
    print("-" * 72)
    print(body.get_content().rstrip() if body is not None else "")
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", help="write the bound port here once listening")
    ap.add_argument("--maildir")
    ap.add_argument("--print", action="store_true", help="print each message decoded")
    ap.add_argument("--log", help="append '<unix time> <Message-ID>' per accepted message to this file")
    args = ap.parse_args()
    log = open(args.log, "a") if args.log else None
    server = SmtpServer(port=args.port, maildir=args.maildir, print_messages=args.print, log=log,
                        keep=False).start()
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write("%d\n" % server.port)
        os.rename(args.port_file + ".tmp", args.port_file)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.wait(0.5):
        pass
    server.stop()


if __name__ == "__main__":
    main()
