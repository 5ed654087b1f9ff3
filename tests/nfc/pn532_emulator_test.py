#!/usr/bin/python3
"""The PN532 emulator's frame layer and chip model, spoken to directly on its pty.

These are the behaviours libnfc relies on (and a few it does not, such as NACK, so that a
different host would not be misled): ACK-then-response framing, wake-up preamble, error frames,
checksums and resynchronisation, extended frames, aborting a waiting InAutoPoll with an ACK,
InListPassiveTarget with and without a card, the register map, and the control socket.
"""

import os
import select
import sys
import termios
import time
import tty
import unittest

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pn532_control import EmulatorError, Pn532Emulator  # noqa: E402
import pn532_emulator as pe  # noqa: E402

ACK = bytes([0x00, 0x00, 0xFF, 0x00, 0xFF, 0x00])
NACK = bytes([0x00, 0x00, 0xFF, 0xFF, 0x00, 0x00])
ERROR_FRAME = bytes([0x00, 0x00, 0xFF, 0x01, 0xFF, 0x7F, 0x81, 0x00])
IDM = bytes.fromhex("0123456789abcdef")
FELICA_POLL = bytes([0x00, 0xFF, 0xFF, 0x01, 0x00])


def host_frame(data, extended=False):
    payload = bytes([0xD4]) + bytes(data)
    dcs = (-sum(payload)) & 0xFF
    n = len(payload)
    if extended:
        hi, lo = n >> 8, n & 0xFF
        head = bytes([0x00, 0x00, 0xFF, 0xFF, 0xFF, hi, lo, (-(hi + lo)) & 0xFF])
    else:
        head = bytes([0x00, 0x00, 0xFF, n, (-n) & 0xFF])
    return head + payload + bytes([dcs, 0x00])


class Port:
    """The host side of the pty, configured as libnfc configures it."""

    def __init__(self, path):
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        tty.setraw(self.fd)
        termios.tcflush(self.fd, termios.TCIFLUSH)

    def close(self):
        os.close(self.fd)

    def write(self, data):
        os.write(self.fd, data)

    def read(self, n, timeout=1.0):
        out = b""
        deadline = time.monotonic() + timeout
        while len(out) < n:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                break
            out += os.read(self.fd, n - len(out))
        return out

    def read_frame(self, timeout=1.0):
        """Reads one chip frame; returns (cmd+1, data) or "ERROR"."""
        head = self.read(5, timeout)
        assert head[:3] == b"\x00\x00\xff", head
        if head[3:5] == b"\x01\xff":
            assert self.read(3) == b"\x7f\x81\x00"
            return "ERROR"
        n = head[3]
        assert (head[3] + head[4]) & 0xFF == 0
        body = self.read(n + 2)
        assert body[0] == 0xD5, body
        assert (sum(body[:n]) + body[n]) & 0xFF == 0, "bad DCS"
        assert body[n + 1] == 0x00
        return body[1], body[2:n]

    def command(self, data, **kw):
        self.write(host_frame(data, **kw))
        assert self.read(6) == ACK
        return self.read_frame()


class EmulatorProtocolTest(unittest.TestCase):
    def setUp(self):
        self.emu = Pn532Emulator()
        self.port = Port(self.emu.link)
        # Wake-up preamble then SAMConfiguration, exactly as pn532_uart sends it first.
        self.port.write(bytes([0x55, 0x55]) + bytes(14))
        self.assertEqual(self.port.command([0x14, 0x01]), (0x15, b""))

    def tearDown(self):
        self.port.close()
        self.emu.close()

    def test_diagnose_echo_and_firmware(self):
        self.assertEqual(self.port.command([0x00, 0x00] + list(b"libnfc")),
                         (0x01, b"\x00libnfc"))
        self.assertEqual(self.port.command([0x02]), (0x03, bytes([0x32, 0x01, 0x06, 0x07])))

    def test_registers_read_back_what_was_written(self):
        self.assertEqual(self.port.command([0x06, 0x63, 0x01, 0x63, 0x3D]), (0x07, b"\x3b\x00"))
        self.assertEqual(self.port.command([0x08, 0x63, 0x3D, 0x07, 0x63, 0x02, 0x80]),
                         (0x09, b""))
        self.assertEqual(self.port.command([0x06, 0x63, 0x3D, 0x63, 0x02]), (0x07, b"\x07\x80"))

    def test_unknown_command_and_bad_parameters_get_the_error_frame(self):
        self.port.write(host_frame([0x7E]))
        self.assertEqual(self.port.read(6), ACK)
        self.assertEqual(self.port.read_frame(), "ERROR")
        self.port.write(host_frame([0x4A, 0x01, 0x01, 0x00]))  # FeliCa without its payload
        self.assertEqual(self.port.read(6), ACK)
        self.assertEqual(self.port.read_frame(), "ERROR")

    def test_nack_repeats_the_last_response(self):
        self.assertEqual(self.port.command([0x02])[0], 0x03)
        self.port.write(NACK)
        self.assertEqual(self.port.read_frame(), (0x03, bytes([0x32, 0x01, 0x06, 0x07])))

    def test_bad_checksums_are_skipped_and_the_parser_resynchronises(self):
        bad = bytearray(host_frame([0x02]))
        bad[-2] ^= 0xFF  # DCS
        self.port.write(bytes(bad) + b"\x55\x00" + host_frame([0x02]))
        self.assertEqual(self.port.read(6), ACK)
        self.assertEqual(self.port.read_frame()[0], 0x03)
        self.port.write(bytes([0x00, 0x00, 0xFF, 0x05, 0x05]) + host_frame([0x02]))  # bad LCS
        self.assertEqual(self.port.read(6), ACK)
        self.assertEqual(self.port.read_frame()[0], 0x03)
        self.assertEqual(self.emu.status()["errors"], 2)

    def test_split_writes_and_extended_frames(self):
        frame = host_frame([0x00, 0x00] + list(b"split"))
        for b in frame:
            self.port.write(bytes([b]))
        self.assertEqual(self.port.read(6), ACK)
        self.assertEqual(self.port.read_frame(), (0x01, b"\x00split"))
        self.assertEqual(self.port.command([0x02], extended=True)[0], 0x03)

    def test_list_passive_target_felica(self):
        self.port.command([0x32, 0x05, 0x00, 0x01, 0x02])  # finite passive activation
        self.assertEqual(self.port.command([0x4A, 0x01, 0x01] + list(FELICA_POLL)),
                         (0x4B, b"\x00"))
        self.emu.present(IDM.hex(), pmm="0102030405060708", system_code="88b4")
        cmd, data = self.port.command([0x4A, 0x01, 0x02] + list(FELICA_POLL))
        self.assertEqual(cmd, 0x4B)
        self.assertEqual(data, bytes([0x01, 0x01, 0x14, 0x01]) + IDM +
                         bytes.fromhex("0102030405060708") + bytes.fromhex("88b4"))
        # Request code 0: no system code; a non-matching system code: no answer.
        cmd, data = self.port.command([0x4A, 0x01, 0x01, 0x00, 0xFF, 0xFF, 0x00, 0x00])
        self.assertEqual(data[2], 0x12)
        self.assertEqual(self.port.command([0x4A, 0x01, 0x01, 0x00, 0x12, 0xFC, 0x01, 0x00]),
                         (0x4B, b"\x00"))
        # The selected card answers FeliCa Request Response through InDataExchange.
        self.port.command([0x4A, 0x01, 0x01] + list(FELICA_POLL))
        self.assertEqual(self.port.command([0x40, 0x01, 0x0A, 0x04] + list(IDM)),
                         (0x41, bytes([0x00, 0x0B, 0x05]) + IDM + b"\x00"))
        self.emu.remove()
        self.assertEqual(self.port.command([0x40, 0x01, 0x0A, 0x04] + list(IDM)),
                         (0x41, bytes([0x27])))
        status = self.emu.status()
        self.assertEqual((status["polls"], status["hits"]), (5, 3))

    def test_infinite_list_passive_target_waits_for_a_card(self):
        self.port.command([0x32, 0x05, 0xFF, 0xFF, 0xFF])
        self.port.write(host_frame([0x4A, 0x01, 0x01] + list(FELICA_POLL)))
        self.assertEqual(self.port.read(6), ACK)
        self.assertEqual(self.port.read(1, timeout=0.3), b"")  # still waiting
        self.emu.present(IDM.hex())
        cmd, data = self.port.read_frame()
        self.assertEqual((cmd, data[0], data[4:12]), (0x4B, 1, IDM))

    def test_in_auto_poll_times_out_finds_a_card_and_can_be_aborted(self):
        start = time.monotonic()
        self.assertEqual(self.port.command([0x60, 0x01, 0x01, 0x11, 0x12]), (0x61, b"\x00"))
        self.assertGreaterEqual(time.monotonic() - start, 0.25)  # 1 poll x 2 types x 150 ms

        self.port.write(host_frame([0x60, 0xFF, 0x01, 0x11]))  # endless
        self.assertEqual(self.port.read(6), ACK)
        self.port.write(ACK)  # libnfc's abort
        time.sleep(0.05)
        self.emu.present(IDM.hex())
        self.assertEqual(self.port.read(1, timeout=0.2), b"")  # aborted: no late answer

        cmd, data = self.port.command([0x60, 0x02, 0x02, 0x12])
        self.assertEqual((cmd, data[0], data[1]), (0x61, 1, 0x12))
        self.assertEqual(data[2], len(data) - 3)
        self.assertEqual(data[3:6], bytes([0x01, 0x12, 0x01]))
        self.assertEqual(data[6:14], IDM)

    def test_power_down_and_wake_up(self):
        self.assertEqual(self.port.command([0x16, 0xF0]), (0x17, b"\x00"))
        self.assertEqual(self.emu.status()["power"], "down")
        self.port.write(bytes([0x55, 0x55]) + bytes(14))
        self.assertEqual(self.port.command([0x14, 0x01]), (0x15, b""))
        self.assertEqual(self.emu.status()["power"], "normal")

    def test_mute_and_control_errors(self):
        self.emu.mute(True)
        self.port.write(host_frame([0x02]))
        self.assertEqual(self.port.read(1, timeout=0.2), b"")
        self.emu.mute(False)
        self.assertEqual(self.port.command([0x02])[0], 0x03)
        for bad in ("present 0123", "present 0123456789abcdef baud=106", "frobnicate"):
            with self.assertRaises(EmulatorError):
                self.emu.command(bad)

    def test_kill_removes_the_link_and_restart_recreates_it(self):
        self.port.close()
        self.emu.kill()
        self.assertFalse(os.path.lexists(self.emu.link))  # unplugged: no device node
        self.emu.start()
        self.port = Port(self.emu.link)
        self.assertTrue(os.path.exists(os.readlink(self.emu.link)))
        self.assertEqual(self.port.command([0x02])[0], 0x03)


class FrameParserTest(unittest.TestCase):
    def test_ack_nack_and_frames_in_one_stream(self):
        p = pe.FrameParser()
        events = p.feed(ACK + NACK + host_frame([0x02]) + b"\x00", 0.0)
        self.assertEqual([e[0] for e in events], ["ack", "nack", "frame"])
        self.assertEqual(events[2][1], b"\x02")

    def test_partial_frame_is_dropped_after_silence(self):
        p = pe.FrameParser()
        frame = host_frame([0x02])
        self.assertEqual(p.feed(frame[:6], 0.0), [])
        events = p.feed(frame, 1.0)  # the first host died mid-frame
        self.assertEqual(events, [("frame", b"\x02")])


if __name__ == "__main__":
    unittest.main(verbosity=2)
