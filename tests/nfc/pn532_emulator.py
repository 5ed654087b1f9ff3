#!/usr/bin/python3
"""A PN532 (HSU/UART) emulator on a pseudo-terminal, for driving the unmodified libnfc in tests.

libnfc's pn532_uart driver opens the pty slave (through a stable symlink, so the connstring
`pn532_uart:DIR/reader` survives emulator restarts) and talks the PN532 frame protocol to it:

    host -> chip   [00] 00 FF LEN LCS D4 CMD data... DCS [00]      (normal frame, LEN <= 255)
                   [00] 00 FF FF FF LENM LENL LCS D4 CMD ... DCS 00 (extended frame)
    chip -> host   00 00 FF 00 FF 00                               (ACK: command accepted)
                   00 00 FF LEN LCS D5 CMD+1 data... DCS 00         (the response)
                   00 00 FF 01 FF 7F 81 00                          (error frame: syntax error)
    host -> chip   00 00 FF 00 FF 00 (ACK) aborts the pending command; 00 00 FF FF 00 00 (NACK)
                   asks for the last response again. 0x55 0x55 00 00 ... wakes the chip up.

Sources: the NXP PN532 user manual (UM0701-02) and what libnfc 1.8 (chips/pn53x.c,
drivers/pn532_uart.c) sends and expects. The emulated chip reports itself as a PN532 v1.6 and
carries at most one FeliCa card, controlled by the test over a UNIX stream socket with one-line
commands, each answered by one line starting with "ok" or "error":

    present <IDm 16 hex> [pmm=<16 hex>] [sc=<4 hex>] [baud=any|212|424]   a card enters the field
    remove                                   the card leaves the field
    status                                   ok card=<IDm|none> baud=... rf=on|off power=...
                                             frames=N polls=N hits=N errors=N wakeups=N
    mute on|off                              stop/resume answering the host (a hung reader)
    quit                                     exit cleanly (removes the link and the socket)

Killing the process with SIGKILL closes the pty master: libnfc then gets I/O errors, exactly as
when a USB serial reader is unplugged. Python 3 standard library only; no busy loops (poll()).
"""

import argparse
import errno
import os
import select
import signal
import socket
import sys
import time
import tty

ACK_FRAME = bytes([0x00, 0x00, 0xFF, 0x00, 0xFF, 0x00])
ERROR_FRAME = bytes([0x00, 0x00, 0xFF, 0x01, 0xFF, 0x7F, 0x81, 0x00])
HOST_TFI = 0xD4
CHIP_TFI = 0xD5
# A partly received frame is dropped after this much silence (a host that died mid-frame).
INTER_BYTE_TIMEOUT_S = 0.2
# The frame log is rotated (to LOG.1) when it grows past this size.
LOG_ROTATE_BYTES = 4 * 1024 * 1024

# PN532 command codes (UM0701-02 §7).
DIAGNOSE = 0x00
GET_FIRMWARE_VERSION = 0x02
GET_GENERAL_STATUS = 0x04
READ_REGISTER = 0x06
WRITE_REGISTER = 0x08
READ_GPIO = 0x0C
WRITE_GPIO = 0x0E
SET_SERIAL_BAUD_RATE = 0x10
SET_PARAMETERS = 0x12
SAM_CONFIGURATION = 0x14
POWER_DOWN = 0x16
RF_CONFIGURATION = 0x32
IN_DATA_EXCHANGE = 0x40
IN_COMMUNICATE_THRU = 0x42
IN_DESELECT = 0x44
IN_JUMP_FOR_PSL = 0x46
IN_LIST_PASSIVE_TARGET = 0x4A
IN_PSL = 0x4E
IN_ATR = 0x50
IN_RELEASE = 0x52
IN_SELECT = 0x54
IN_JUMP_FOR_DEP = 0x56
IN_AUTO_POLL = 0x60
TG_GET_DATA = 0x86
TG_GET_INITIATOR_COMMAND = 0x88
TG_GET_TARGET_STATUS = 0x8A
TG_INIT_AS_TARGET = 0x8C
TG_SET_DATA = 0x8E
TG_RESPONSE_TO_INITIATOR = 0x90
TG_SET_GENERAL_BYTES = 0x92
TG_SET_META_DATA = 0x94

# Status bytes (UM0701-02 table "Error code list").
ST_OK = 0x00
ST_TIMEOUT = 0x01
ST_NOT_ACCEPTABLE = 0x27

# InListPassiveTarget BrTy values and InAutoPoll target types for FeliCa.
BRTY_FELICA = {0x01: 212, 0x02: 424}
AUTOPOLL_FELICA = {0x11: 212, 0x12: 424}

# Reset values of the CIU registers libnfc reads back (PN532 user manual §8.6 / PN512 data).
CIU_DEFAULTS = {
    0x6301: 0x3B, 0x6302: 0x00, 0x6303: 0x00, 0x6304: 0x80, 0x6305: 0x00, 0x6306: 0x10,
    0x6307: 0x84, 0x6308: 0x84, 0x6309: 0x4D, 0x630A: 0x00, 0x630B: 0x00, 0x630C: 0x62,
    0x630D: 0x00, 0x630E: 0x00, 0x6311: 0xFF, 0x6312: 0xFF, 0x6313: 0x88, 0x6314: 0x26,
    0x6315: 0x87, 0x6316: 0x48, 0x6317: 0x88, 0x6318: 0x20, 0x6319: 0x20, 0x631A: 0x00,
    0x631B: 0x00, 0x631C: 0x00, 0x631D: 0x00, 0x631E: 0x00, 0x631F: 0x00, 0x6327: 0x80,
    0x6331: 0x20, 0x6332: 0x80, 0x6333: 0x00, 0x6334: 0x14, 0x6335: 0x00, 0x6336: 0x00,
    0x6337: 0x21, 0x6338: 0x00, 0x633A: 0x00, 0x633B: 0x08, 0x633C: 0x00, 0x633D: 0x00,
    0x633E: 0x80,
}


def hexs(data):
    return " ".join("%02X" % b for b in data)


def build_frame(payload):
    """Wraps TFI+data in a normal (LEN <= 255) or extended frame."""
    n = len(payload)
    dcs = (-sum(payload)) & 0xFF
    if n <= 0xFF:
        head = bytes([0x00, 0x00, 0xFF, n, (-n) & 0xFF])
    else:
        hi, lo = n >> 8, n & 0xFF
        head = bytes([0x00, 0x00, 0xFF, 0xFF, 0xFF, hi, lo, (-(hi + lo)) & 0xFF])
    return head + bytes(payload) + bytes([dcs, 0x00])


class FrameParser:
    """Splits the byte stream from the host into ACK, NACK and command frames.

    Anything before a start code (wake-up 0x55s, preamble zeros, postambles, noise) is skipped.
    A frame with a bad length or data checksum is reported and skipped by resynchronising on the
    next start code, as the chip does.
    """

    def __init__(self):
        self.buf = bytearray()
        self.last_rx = 0.0

    def feed(self, data, now):
        if self.buf and now - self.last_rx > INTER_BYTE_TIMEOUT_S:
            self.buf.clear()
        self.last_rx = now
        self.buf += data
        events = []
        while True:
            i = self.buf.find(b"\x00\xff")
            if i < 0:
                # Keep a trailing 00: it may be the first half of the next start code.
                keep = 1 if self.buf[-1:] == b"\x00" else 0
                del self.buf[:len(self.buf) - keep]
                return events
            del self.buf[:i]
            if len(self.buf) < 4:
                return events
            length, lcs = self.buf[2], self.buf[3]
            if length == 0x00 and lcs == 0xFF:
                events.append(("ack", None))
                del self.buf[:4]
                continue
            if length == 0xFF and lcs == 0x00:
                events.append(("nack", None))
                del self.buf[:4]
                continue
            if length == 0xFF and lcs == 0xFF:
                if len(self.buf) < 7:
                    return events
                hi, lo, lcs2 = self.buf[4], self.buf[5], self.buf[6]
                if (hi + lo + lcs2) & 0xFF != 0:
                    events.append(("bad", "extended length checksum mismatch"))
                    del self.buf[:2]
                    continue
                length, header = (hi << 8) | lo, 7
            else:
                if (length + lcs) & 0xFF != 0:
                    events.append(("bad", "length checksum mismatch"))
                    del self.buf[:2]
                    continue
                header = 4
            if len(self.buf) < header + length + 1:
                return events
            payload = bytes(self.buf[header:header + length])
            dcs = self.buf[header + length]
            if (sum(payload) + dcs) & 0xFF != 0:
                events.append(("bad", "data checksum mismatch"))
                del self.buf[:2]
                continue
            del self.buf[:header + length + 1]
            if length < 2 or payload[0] != HOST_TFI:
                events.append(("bad", "not a host command frame: " + hexs(payload)))
                continue
            events.append(("frame", payload[1:]))


class Card:
    """A FeliCa card in the field."""

    def __init__(self, idm, pmm, system_code, baud):
        self.idm = idm
        self.pmm = pmm
        self.system_code = system_code
        self.baud = baud  # None: answers at 212 and 424 kbps

    def answers_at(self, baud):
        return self.baud is None or self.baud == baud

    def matches_system_code(self, sc):
        return all(want in (0xFF, have) for want, have in zip(sc, self.system_code))

    def polling_response(self, request_code):
        """POL_RES: length, response code 01, IDm, PMm and, on request, system code."""
        body = bytes([0x01]) + self.idm + self.pmm
        if request_code == 0x01:
            body += self.system_code
        elif request_code == 0x02:
            body += bytes([0x00, 0x83])  # communication performance: 212 and 424 kbps
        return bytes([len(body) + 1]) + body


class Pn532:
    """The chip's state and its command handlers.

    A handler returns ("reply", data), ("error", None) for the syntax-error frame, or
    ("wait", (kind, deadline)) when the chip keeps working on the command (InAutoPoll or an
    infinite InListPassiveTarget without a card): it finishes when a card arrives, at the
    deadline (None: never), or when the host aborts it.
    """

    def __init__(self):
        self.registers = dict(CIU_DEFAULTS)
        self.rf_on = False
        self.max_retry_passive = 0xFF
        self.parameters = 0x00
        self.sam_mode = 0x01
        self.powered_down = True  # a PN532 on HSU starts in Low VBat mode
        self.gpio = [0xFF, 0xFF, 0x00]
        self.card = None
        self.selected_baud = None  # baud of the activated target 1, or None
        self.stats = {"frames": 0, "polls": 0, "hits": 0, "errors": 0, "wakeups": 0}

    # -- card control -------------------------------------------------------------------
    def present(self, card):
        self.card = card
        self.selected_baud = None

    def remove(self):
        self.card = None
        self.selected_baud = None

    # -- helpers ------------------------------------------------------------------------
    def _felica_listing(self, baud, sc, rc):
        """Target data for one FeliCa target found at `baud`, or None."""
        card = self.card
        if card is None or not card.answers_at(baud) or not card.matches_system_code(sc):
            return None
        self.selected_baud = baud
        self.stats["hits"] += 1
        return bytes([0x01]) + card.polling_response(rc)

    def _felica_command(self, data):
        """Answers a raw FeliCa command (length byte first) from the card, or None."""
        card = self.card
        if card is None or len(data) < 2 or data[0] != len(data):
            return None
        code = data[1]
        if code == 0x00 and len(data) == 6:  # Polling
            if not card.matches_system_code(data[2:4]):
                return None
            return card.polling_response(data[4])
        if len(data) < 10 or data[2:10] != card.idm:
            return None
        if code == 0x04:  # Request Response: mode 0
            return bytes([0x0B, 0x05]) + card.idm + bytes([0x00])
        if code == 0x0C:  # Request System Code
            return bytes([0x0D, 0x0D]) + card.idm + bytes([0x01]) + card.system_code
        return None

    def complete_wait(self, kind, cmd, data, timed_out):
        """Finishes a waiting command; returns reply data or None to keep waiting."""
        if kind == "autopoll":
            types = data[2:]
            for t in types:
                baud = AUTOPOLL_FELICA.get(t)
                if baud is None:
                    continue
                found = self._felica_listing(baud, b"\xff\xff", 0x00)
                if found is not None:
                    return bytes([0x01, t, len(found)]) + found
            return bytes([0x00]) if timed_out else None
        if kind == "list":
            baud = BRTY_FELICA.get(data[1])
            if baud is not None:
                found = self._felica_listing(baud, data[3:5], data[5])
                if found is not None:
                    return bytes([0x01]) + found
            return bytes([0x00]) if timed_out else None
        # "target": TgInitAsTarget never sees an external initiator here.
        return None

    # -- dispatch -----------------------------------------------------------------------
    def handle(self, cmd, data, now):
        handler = self.HANDLERS.get(cmd)
        if handler is None:
            return ("error", None)
        return handler(self, cmd, data, now)

    def _diagnose(self, cmd, data, now):
        if not data:
            return ("error", None)
        test = data[0]
        if test == 0x00:  # communication line test: echo
            return ("reply", bytes(data))
        if test in (0x01, 0x02, 0x07):  # ROM, RAM, antenna self-tests pass
            return ("reply", bytes([ST_OK]))
        if test == 0x04:  # polling test to target: number of failures
            return ("reply", bytes([0x00]))
        if test == 0x06:  # attention request / card presence
            present = self.card is not None and self.selected_baud is not None
            return ("reply", bytes([ST_OK if present else ST_TIMEOUT]))
        return ("error", None)

    def _firmware(self, cmd, data, now):
        return ("reply", bytes([0x32, 0x01, 0x06, 0x07]))  # PN532 v1.6, ISO A/B + ISO18092

    def _general_status(self, cmd, data, now):
        out = bytes([0x00, 0x01 if self.rf_on else 0x00])
        if self.selected_baud is not None:
            br = 0x01 if self.selected_baud == 212 else 0x02
            out += bytes([0x01, 0x01, br, br, 0x10])
        else:
            out += bytes([0x00])
        return ("reply", out + bytes([0x00]))

    def _read_register(self, cmd, data, now):
        if not data or len(data) % 2:
            return ("error", None)
        addrs = [(data[i] << 8) | data[i + 1] for i in range(0, len(data), 2)]
        return ("reply", bytes(self.registers.get(a, 0x00) for a in addrs))

    def _write_register(self, cmd, data, now):
        if not data or len(data) % 3:
            return ("error", None)
        for i in range(0, len(data), 3):
            self.registers[(data[i] << 8) | data[i + 1]] = data[i + 2]
        return ("reply", b"")

    def _read_gpio(self, cmd, data, now):
        return ("reply", bytes(self.gpio))

    def _write_gpio(self, cmd, data, now):
        for i, v in enumerate(data[:2]):
            if v & 0x80:
                self.gpio[i] = v & 0x7F
        return ("reply", b"")

    def _empty(self, cmd, data, now):
        return ("reply", b"")

    def _set_parameters(self, cmd, data, now):
        if len(data) != 1:
            return ("error", None)
        self.parameters = data[0]
        return ("reply", b"")

    def _sam_configuration(self, cmd, data, now):
        if not data or data[0] not in (0x01, 0x02, 0x03, 0x04):
            return ("error", None)
        self.sam_mode = data[0]
        return ("reply", b"")

    def _power_down(self, cmd, data, now):
        if not data:
            return ("error", None)
        self.powered_down = True
        self.rf_on = False
        self.selected_baud = None
        return ("reply", bytes([ST_OK]))

    def _rf_configuration(self, cmd, data, now):
        if not data:
            return ("error", None)
        item, cfg = data[0], data[1:]
        expected = {0x01: 1, 0x02: 3, 0x04: 1, 0x05: 3, 0x0A: 11, 0x0B: 8, 0x0C: 3, 0x0D: 9}
        if item not in expected or len(cfg) != expected[item]:
            return ("error", None)
        if item == 0x01:
            self.rf_on = bool(cfg[0] & 0x01)
            if not self.rf_on:
                self.selected_baud = None
        elif item == 0x05:
            self.max_retry_passive = cfg[2]
        return ("reply", b"")

    def _in_list_passive_target(self, cmd, data, now):
        if len(data) < 2 or data[0] not in (0x01, 0x02):
            return ("error", None)
        brty = data[1]
        if brty in BRTY_FELICA:
            if len(data) != 7:  # MaxTg, BrTy, polling payload 00 SC SC RC TSN
                return ("error", None)
            self.stats["polls"] += 1
        elif brty not in (0x00, 0x03, 0x04):
            return ("error", None)
        self.rf_on = True
        self.selected_baud = None
        found = self.complete_wait("list", cmd, data, timed_out=False)
        if found is not None:
            return ("reply", found)
        if self.max_retry_passive == 0xFF:  # "try forever": the chip waits for a card
            return ("wait", ("list", None))
        return ("reply", bytes([0x00]))

    def _in_auto_poll(self, cmd, data, now):
        if len(data) < 3 or len(data) > 17 or data[0] == 0 or not 1 <= data[1] <= 0x0F:
            return ("error", None)
        self.stats["polls"] += 1
        self.rf_on = True
        self.selected_baud = None
        found = self.complete_wait("autopoll", cmd, data, timed_out=False)
        if found is not None:
            return ("reply", found)
        poll_nr, period, ntypes = data[0], data[1], len(data) - 2
        deadline = None if poll_nr == 0xFF else now + poll_nr * ntypes * period * 0.150
        return ("wait", ("autopoll", deadline))

    def _in_release_or_deselect(self, cmd, data, now):
        if len(data) != 1:
            return ("error", None)
        if data[0] not in (0x00, 0x01):
            return ("reply", bytes([ST_NOT_ACCEPTABLE]))
        if cmd == IN_RELEASE or self.selected_baud is not None:
            self.selected_baud = None
        return ("reply", bytes([ST_OK]))

    def _in_select(self, cmd, data, now):
        if len(data) != 1:
            return ("error", None)
        if data[0] == 0x01 and self.card is not None and self.selected_baud is not None:
            return ("reply", bytes([ST_OK]))
        return ("reply", bytes([ST_NOT_ACCEPTABLE]))

    def _in_data_exchange(self, cmd, data, now):
        if not data:
            return ("error", None)
        if data[0] != 0x01 or self.selected_baud is None:
            return ("reply", bytes([ST_NOT_ACCEPTABLE]))
        answer = self._felica_command(data[1:])
        if answer is None:
            return ("reply", bytes([ST_TIMEOUT]))
        return ("reply", bytes([ST_OK]) + answer)

    def _in_communicate_thru(self, cmd, data, now):
        if not data:
            return ("error", None)
        answer = self._felica_command(data) if self.rf_on else None
        if answer is None:
            return ("reply", bytes([ST_TIMEOUT]))
        return ("reply", bytes([ST_OK]) + answer)

    def _no_dep_target(self, cmd, data, now):
        return ("reply", bytes([ST_TIMEOUT]))

    def _not_acceptable(self, cmd, data, now):
        return ("reply", bytes([ST_NOT_ACCEPTABLE]))

    def _tg_get_target_status(self, cmd, data, now):
        return ("reply", bytes([0x00, 0x00]))  # not activated as a target

    def _tg_init_as_target(self, cmd, data, now):
        return ("wait", ("target", None))

    HANDLERS = {
        DIAGNOSE: _diagnose,
        GET_FIRMWARE_VERSION: _firmware,
        GET_GENERAL_STATUS: _general_status,
        READ_REGISTER: _read_register,
        WRITE_REGISTER: _write_register,
        READ_GPIO: _read_gpio,
        WRITE_GPIO: _write_gpio,
        SET_SERIAL_BAUD_RATE: _empty,
        SET_PARAMETERS: _set_parameters,
        SAM_CONFIGURATION: _sam_configuration,
        POWER_DOWN: _power_down,
        RF_CONFIGURATION: _rf_configuration,
        IN_DATA_EXCHANGE: _in_data_exchange,
        IN_COMMUNICATE_THRU: _in_communicate_thru,
        IN_DESELECT: _in_release_or_deselect,
        IN_RELEASE: _in_release_or_deselect,
        IN_SELECT: _in_select,
        IN_LIST_PASSIVE_TARGET: _in_list_passive_target,
        IN_AUTO_POLL: _in_auto_poll,
        IN_JUMP_FOR_DEP: _no_dep_target,
        IN_JUMP_FOR_PSL: _no_dep_target,
        IN_ATR: _not_acceptable,
        IN_PSL: _not_acceptable,
        TG_GET_TARGET_STATUS: _tg_get_target_status,
        TG_INIT_AS_TARGET: _tg_init_as_target,
        TG_GET_DATA: _not_acceptable,
        TG_SET_DATA: _not_acceptable,
        TG_GET_INITIATOR_COMMAND: _not_acceptable,
        TG_RESPONSE_TO_INITIATOR: _not_acceptable,
        TG_SET_GENERAL_BYTES: _not_acceptable,
        TG_SET_META_DATA: _not_acceptable,
    }


def parse_hex(text, size):
    try:
        value = bytes.fromhex(text)
    except ValueError:
        return None
    return value if len(value) == size else None


class Emulator:
    """The event loop: pty master, control socket and the pending-command deadline."""

    def __init__(self, link, control_path, log_file, exit_on_stdin_eof):
        self.link = link
        self.control_path = control_path
        self.log_file = log_file
        self.exit_on_stdin_eof = exit_on_stdin_eof
        self.chip = Pn532()
        self.parser = FrameParser()
        self.out = bytearray()
        self.last_response = None
        self.pending = None  # (kind, cmd, data, deadline)
        self.muted = False
        self.running = True
        self.clients = {}  # fd -> (socket, input buffer)
        self.t0 = time.monotonic()

        self.master, self.slave = os.openpty()
        # Raw from the start: no echo or line discipline before libnfc configures the port.
        # Keeping our own slave fd open means the master never sees a hang-up between hosts.
        tty.setraw(self.slave)
        os.set_blocking(self.master, False)
        slave_name = os.ttyname(self.slave)
        tmp = "%s.%d.tmp" % (link, os.getpid())
        if os.path.lexists(tmp):
            os.unlink(tmp)
        os.symlink(slave_name, tmp)
        os.replace(tmp, link)

        if os.path.lexists(control_path):
            os.unlink(control_path)
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(control_path)
        self.listener.listen(8)
        self.listener.setblocking(False)
        self.log("start pty=%s link=%s" % (slave_name, link))

    # -- logging ------------------------------------------------------------------------
    def log(self, text):
        if self.log_file is None:
            return
        self.log_file.write("%9.3f %s\n" % (time.monotonic() - self.t0, text))
        self.log_file.flush()
        if self.log_file.tell() > LOG_ROTATE_BYTES:  # long benchmark runs: keep two files
            name = self.log_file.name
            self.log_file.close()
            os.replace(name, name + ".1")
            self.log_file = open(name, "a", encoding="utf-8")

    # -- host side ----------------------------------------------------------------------
    def send(self, frame, what):
        self.out += frame
        self.log("chip> %s  (%s)" % (hexs(frame), what))
        self.flush_out()

    def flush_out(self):
        while self.out:
            try:
                n = os.write(self.master, self.out)
            except BlockingIOError:
                if len(self.out) > 65536:  # nobody reads the port: drop, as a UART would
                    self.out.clear()
                return
            except OSError as e:
                if e.errno == errno.EIO:
                    self.out.clear()
                    return
                raise
            del self.out[:n]

    def respond(self, cmd, data):
        frame = build_frame(bytes([CHIP_TFI, (cmd + 1) & 0xFF]) + data)
        self.last_response = frame
        self.send(frame, "response %02X" % ((cmd + 1) & 0xFF))

    def on_host_bytes(self, data, now):
        if self.chip.powered_down:
            self.chip.powered_down = False
            self.chip.stats["wakeups"] += 1
            self.log("wake-up")
        for kind, value in self.parser.feed(data, now):
            if kind == "ack":
                if self.pending is not None:
                    self.log("host> ACK: abort command %02X" % self.pending[1])
                    self.pending = None
                else:
                    self.log("host> ACK (nothing to abort)")
            elif kind == "nack":
                self.log("host> NACK")
                if self.last_response is not None:
                    self.send(self.last_response, "repeat")
            elif kind == "bad":
                self.chip.stats["errors"] += 1
                self.log("host> bad frame: %s" % value)
            else:
                self.on_command(value, now)

    def on_command(self, frame, now):
        cmd, data = frame[0], frame[1:]
        self.chip.stats["frames"] += 1
        self.log("host> %02X %s" % (cmd, hexs(data)))
        if self.pending is not None:
            self.log("command %02X superseded" % self.pending[1])
            self.pending = None
        self.send(ACK_FRAME, "ACK")
        try:
            result, value = self.chip.handle(cmd, data, now)
        except (IndexError, ValueError) as e:  # a malformed command must not kill the chip
            self.log("command %02X failed: %r" % (cmd, e))
            result, value = "error", None
        if result == "reply":
            self.respond(cmd, value)
        elif result == "error":
            self.chip.stats["errors"] += 1
            self.last_response = ERROR_FRAME
            self.send(ERROR_FRAME, "syntax error")
        else:
            kind, deadline = value
            self.pending = (kind, cmd, data, deadline)
            self.log("command %02X waits (%s)" % (cmd, kind))

    def try_complete_pending(self, now):
        if self.pending is None:
            return
        kind, cmd, data, deadline = self.pending
        timed_out = deadline is not None and now >= deadline
        answer = self.chip.complete_wait(kind, cmd, data, timed_out)
        if answer is not None:
            self.pending = None
            self.respond(cmd, answer)

    # -- control side -------------------------------------------------------------------
    def control(self, line):
        words = line.split()
        if not words:
            return "error empty command"
        op, args = words[0], words[1:]
        if op == "present":
            if not args or parse_hex(args[0], 8) is None:
                return "error usage: present <IDm 16 hex> [pmm=HEX16] [sc=HEX4] [baud=any|212|424]"
            opts = {"pmm": "0120220427674EFF", "sc": "0003", "baud": "any"}
            for arg in args[1:]:
                key, _, val = arg.partition("=")
                if key not in opts:
                    return "error unknown option %s" % key
                opts[key] = val
            pmm, sc = parse_hex(opts["pmm"], 8), parse_hex(opts["sc"], 2)
            if pmm is None or sc is None or opts["baud"] not in ("any", "212", "424"):
                return "error bad option value"
            baud = None if opts["baud"] == "any" else int(opts["baud"])
            self.chip.present(Card(parse_hex(args[0], 8), pmm, sc, baud))
            self.log("control: card present")
            self.try_complete_pending(time.monotonic())
            return "ok present"
        if op == "remove":
            self.chip.remove()
            self.log("control: card removed")
            return "ok removed"
        if op == "status":
            c = self.chip
            card = c.card.idm.hex() if c.card else "none"
            baud = ("any" if c.card.baud is None else str(c.card.baud)) if c.card else "-"
            s = c.stats
            return ("ok card=%s baud=%s rf=%s power=%s muted=%s frames=%d polls=%d hits=%d "
                    "errors=%d wakeups=%d" % (card, baud, "on" if c.rf_on else "off",
                                              "down" if c.powered_down else "normal",
                                              "yes" if self.muted else "no", s["frames"],
                                              s["polls"], s["hits"], s["errors"], s["wakeups"]))
        if op == "mute":
            if args not in (["on"], ["off"]):
                return "error usage: mute on|off"
            self.muted = args[0] == "on"
            self.pending = None
            self.log("control: mute %s" % args[0])
            return "ok mute %s" % args[0]
        if op == "quit":
            self.running = False
            return "ok bye"
        return "error unknown command %s" % op

    def on_client_readable(self, fd):
        sock, buf = self.clients[fd]
        try:
            data = sock.recv(4096)
        except OSError:
            data = b""
        if not data:
            self.close_client(fd)
            return
        buf += data
        while b"\n" in buf:
            line, _, rest = bytes(buf).partition(b"\n")
            buf[:] = rest
            reply = self.control(line.decode("utf-8", "replace").strip())
            try:
                sock.sendall((reply + "\n").encode())
            except OSError:
                self.close_client(fd)
                return
        if len(buf) > 4096:
            self.close_client(fd)

    def close_client(self, fd):
        sock, _ = self.clients.pop(fd)
        sock.close()

    # -- loop ---------------------------------------------------------------------------
    def run(self):
        poller = select.poll()
        poller.register(self.listener.fileno(), select.POLLIN)
        if self.exit_on_stdin_eof:
            poller.register(0, select.POLLIN)
        # SIGTERM/SIGINT handlers only clear `running`; the wake-up pipe interrupts poll().
        wake_r, wake_w = os.pipe()
        os.set_blocking(wake_r, False)
        os.set_blocking(wake_w, False)
        signal.set_wakeup_fd(wake_w)
        poller.register(wake_r, select.POLLIN)
        registered = set()
        while self.running:
            poller.register(self.master, select.POLLIN | (select.POLLOUT if self.out else 0))
            for fd in self.clients:
                if fd not in registered:
                    poller.register(fd, select.POLLIN)
                    registered.add(fd)
            for fd in list(registered):
                if fd not in self.clients:
                    registered.discard(fd)
            timeout = None
            if self.pending is not None and self.pending[3] is not None:
                timeout = max(0, int((self.pending[3] - time.monotonic()) * 1000) + 1)
            try:
                ready = poller.poll(timeout)
            except InterruptedError:
                continue
            now = time.monotonic()
            for fd, ev in ready:
                if fd == self.master:
                    if ev & select.POLLOUT:
                        self.flush_out()
                    if ev & select.POLLIN:
                        self.read_host(now)
                elif fd == self.listener.fileno():
                    self.accept_clients()
                elif fd == wake_r:
                    os.read(wake_r, 512)
                elif fd == 0:
                    if not os.read(0, 4096):
                        self.log("stdin closed: parent gone")
                        self.running = False
                elif fd in self.clients:
                    self.on_client_readable(fd)
                    if fd not in self.clients:
                        poller.unregister(fd)
                        registered.discard(fd)
            self.try_complete_pending(time.monotonic())
        signal.set_wakeup_fd(-1)
        os.close(wake_r)
        os.close(wake_w)
        self.shutdown()

    def read_host(self, now):
        try:
            data = os.read(self.master, 4096)
        except BlockingIOError:
            return
        except OSError as e:
            if e.errno == errno.EIO:
                return
            raise
        if self.muted:
            self.log("host> %d bytes ignored (muted)" % len(data))
            return
        self.on_host_bytes(data, now)

    def accept_clients(self):
        while True:
            try:
                sock, _ = self.listener.accept()
            except BlockingIOError:
                return
            sock.setblocking(True)
            sock.settimeout(2.0)
            self.clients[sock.fileno()] = (sock, bytearray())

    def shutdown(self):
        self.log("quit")
        for fd in list(self.clients):
            self.close_client(fd)
        self.listener.close()
        for path in (self.control_path, self.link):
            try:
                if path == self.link and os.readlink(path) != os.ttyname(self.slave):
                    continue  # a newer emulator owns the link now
                os.unlink(path)
            except OSError:
                pass
        os.close(self.master)
        os.close(self.slave)


def main():
    ap = argparse.ArgumentParser(description="PN532 UART emulator on a pseudo-terminal")
    ap.add_argument("--link", required=True, help="symlink to create to the pty (connstring "
                    "pn532_uart:LINK)")
    ap.add_argument("--control", required=True, help="UNIX socket path for control commands")
    ap.add_argument("--log", help="append a frame trace to this file")
    ap.add_argument("--card", help="IDm (16 hex) of a card present from the start")
    ap.add_argument("--exit-on-stdin-eof", action="store_true",
                    help="exit when stdin reaches end of file (the parent died)")
    args = ap.parse_args()

    log_file = open(args.log, "a", encoding="utf-8") if args.log else None
    emu = Emulator(os.path.abspath(args.link), args.control, log_file, args.exit_on_stdin_eof)
    if args.card:
        reply = emu.control("present " + args.card)
        if not reply.startswith("ok"):
            sys.exit("pn532_emulator: --card: " + reply)

    def stop(signum, frame):
        emu.running = False

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    print("ready %s" % emu.link, flush=True)
    emu.run()


if __name__ == "__main__":
    main()
