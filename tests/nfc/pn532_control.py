"""Starts and controls tests/nfc/pn532_emulator.py from Python tests.

    from pn532_control import Pn532Emulator
    with Pn532Emulator() as emu:          # fresh temp dir, link DIR/reader, socket DIR/control
        emu.present("0123456789abcdef")
        run_something(env={"LIBNFC_DEVICE": emu.connstring, "LIBNFC_AUTO_SCAN": "false"})
        emu.remove()
        emu.kill()                        # SIGKILL: the reader is unplugged
        emu.start()                       # plugged in again, same link, same connstring
        emu.status()["polls"]             # counters of what libnfc sent

The emulator runs with --exit-on-stdin-eof and a pipe as stdin, so it dies with the test even
if the test is killed. Standard library only.
"""

import os
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import time

EMULATOR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pn532_emulator.py")
PYTHON = "/usr/bin/python3"


class EmulatorError(Exception):
    pass


class Pn532Emulator:
    """One emulated PN532 reader; survives kill()/start() cycles on the same link path."""

    def __init__(self, directory=None, log=True, start=True, ready_timeout=10.0):
        self._own_dir = directory is None
        self.dir = directory or tempfile.mkdtemp(prefix="anshin-pn532-")
        self.link = os.path.join(self.dir, "reader")
        self.control_path = os.path.join(self.dir, "control")
        self.log_path = os.path.join(self.dir, "frames.log") if log else None
        self.ready_timeout = ready_timeout
        self.proc = None
        if start:
            self.start()

    @property
    def connstring(self):
        return "pn532_uart:" + self.link

    def libnfc_env(self, base=None):
        """Environment for a libnfc program that must use this reader only."""
        env = dict(os.environ if base is None else base)
        env.update({"LIBNFC_AUTO_SCAN": "false", "LIBNFC_INTRUSIVE_SCAN": "false",
                    "LIBNFC_DEVICE": self.connstring})
        return env

    def start(self):
        if self.running():
            raise EmulatorError("emulator already running")
        cmd = [PYTHON, EMULATOR, "--link", self.link, "--control", self.control_path,
               "--exit-on-stdin-eof"]
        if self.log_path:
            cmd += ["--log", self.log_path]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        deadline = time.monotonic() + self.ready_timeout
        line = b""
        fd = self.proc.stdout.fileno()
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                self.kill()
                raise EmulatorError("emulator not ready within %.1f s" % self.ready_timeout)
            chunk = os.read(fd, 256)
            if not chunk:
                code = self.proc.wait()
                raise EmulatorError("emulator exited with %s before ready" % code)
            line += chunk
        if not line.startswith(b"ready "):
            self.kill()
            raise EmulatorError("unexpected emulator output: %r" % line)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def command(self, line, timeout=5.0):
        """Sends one control line; returns the reply after "ok", raises on "error"."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(self.control_path)
            s.sendall(line.encode() + b"\n")
            reply = b""
            while not reply.endswith(b"\n"):
                chunk = s.recv(4096)
                if not chunk:
                    break
                reply += chunk
        text = reply.decode().strip()
        if not text.startswith("ok"):
            raise EmulatorError("%s: %s" % (line, text or "no reply"))
        return text[2:].strip()

    def present(self, idm_hex, pmm=None, system_code=None, baud=None):
        line = "present " + idm_hex
        if pmm:
            line += " pmm=" + pmm
        if system_code:
            line += " sc=" + system_code
        if baud:
            line += " baud=%s" % baud
        self.command(line)

    def remove(self):
        self.command("remove")

    def mute(self, on=True):
        self.command("mute " + ("on" if on else "off"))

    def status(self):
        """{"card": "…"|"none", "polls": int, "frames": int, …}"""
        out = {}
        for word in self.command("status").split():
            key, _, value = word.partition("=")
            out[key] = int(value) if value.isdigit() else value
        return out

    def kill(self):
        """SIGKILL, like pulling the USB plug: the pty disappears under libnfc."""
        if self.proc is not None:
            if self.proc.poll() is None:
                # The device node goes first, as /dev/ttyUSB0 does on unplug: once the pty is
                # freed, its number (maybe reused by another test) is not reachable via the link.
                try:
                    os.unlink(self.link)
                except FileNotFoundError:
                    pass
                self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
            self._close_pipes()
            self.proc = None

    def stop(self):
        """Clean shutdown ("quit"); falls back to SIGKILL."""
        if self.running():
            try:
                self.command("quit")
                self.proc.wait(timeout=5)
            except (OSError, EmulatorError, subprocess.TimeoutExpired):
                pass
        self.kill()

    def restart(self):
        self.kill()
        self.start()

    def frame_log(self):
        if not self.log_path or not os.path.exists(self.log_path):
            return ""
        with open(self.log_path, encoding="utf-8") as f:
            return f.read()

    def close(self):
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def _close_pipes(self):
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe:
                try:
                    pipe.close()
                except OSError:
                    pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
