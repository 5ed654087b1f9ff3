#!/usr/bin/python3
"""The real anshin-agent reading FeliCa cards through the unmodified Debian libnfc, from the
PN532 emulator (tests/nfc/pn532_emulator.py) on a pseudo-terminal, and uploading to the test
HTTPS server (agent_harness.py).

    agent_nfc_test.py AGENT_BINARY CASE      (CASE: resting_and_represent | not_registered |
                                              unplugged_and_back | all)
"""

import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "nfc"))
from agent_harness import Harness, TestFailure, check, idm, wait_for  # noqa: E402
from pn532_control import Pn532Emulator  # noqa: E402

REGISTERED = [idm(n) for n in range(1, 20)]
STRANGER = "0000feedfacecafe"
NFC_ENV = {"LIBNFC_AUTO_SCAN": "false", "LIBNFC_INTRUSIVE_SCAN": "false"}


def start_agent(h, emu):
    h.server.start()
    a = h.agent(device=emu.connstring, debounce="1s", poll_interval="50ms")
    a.start(env=NFC_ENV)
    wait_for(lambda: a.status_value("allowlist_version").startswith("1 "), what="allowlist")
    wait_for(lambda: a.status_value("reader_state") == "ok", what="reader open")
    return a


def case_resting_and_represent(binary):
    """A card resting 5 s is one tap; removed and presented again, a second."""
    with Harness(binary, REGISTERED) as h, Pn532Emulator() as emu:
        a = start_agent(h, emu)
        polls_before = int(emu.status()["polls"])
        emu.present(REGISTERED[0])
        wait_for(lambda: h.server.committed_seqs() == [1], what="first tap delivered")
        time.sleep(5)  # the card rests on the reader
        check(h.server.committed_seqs() == [1], "resting card: %r" % h.server.committed_seqs())
        check(a.status_value("last_seq") == "1", "status: %r" % a.status())
        check(int(emu.status()["polls"]) > polls_before + 20, "the agent stopped polling")
        emu.remove()
        time.sleep(1.5)  # longer than the debounce
        emu.present(REGISTERED[0])
        wait_for(lambda: h.server.committed_seqs() == [1, 2], what="second tap delivered")
        emu.remove()
        taps = list(h.server.committed.values())
        check(taps[0]["card"] == h.token(REGISTERED[0]), "token %r" % taps[0])
        check(a.console().count("accepted") == 2, "console: %r" % a.console())
        check(REGISTERED[0] not in a.log(), "raw IDm in the log")
        check(a.stop() == 0, "agent did not exit cleanly")


def case_not_registered(binary):
    """An unregistered card: "not registered", nothing queued, nothing sent."""
    with Harness(binary, REGISTERED) as h, Pn532Emulator() as emu:
        a = start_agent(h, emu)
        connections = h.server.connection_count()
        emu.present(STRANGER)
        wait_for(lambda: "not_registered" in a.console(), what="not registered feedback")
        time.sleep(1)
        emu.remove()
        check(a.status_value("unknown_taps") == "1", "status: %r" % a.status())
        check(a.status_value("queue_depth") == "0", "status: %r" % a.status())
        check(a.status_value("last_seq") == "0", "status: %r" % a.status())
        check(h.server.received == [], "sent: %r" % h.server.received)
        check(h.server.connection_count() == connections, "an unknown card made a connection")
        check(a.stop() == 0, "agent did not exit cleanly")


def case_unplugged_and_back(binary):
    """The emulator is SIGKILLed (reader unplugged) and restarted: the agent reports the fault in
    status and recovers by itself, without restarting."""
    with Harness(binary, REGISTERED) as h, Pn532Emulator() as emu:
        a = start_agent(h, emu)
        pid = a.proc.pid
        emu.kill()
        wait_for(lambda: a.status_value("reader_state") == "error", what="fault reported")
        st = a.status()
        check(st["reader_error"] != "-", "no reader error message: %r" % st)
        check("reader" in st["last_error"], "status: %r" % st)
        check("reader_error" in a.console(), "no reader_error feedback")
        time.sleep(2)  # unplugged for a while: retries with backoff, no exit
        check(a.running(), "the agent exited on a reader fault")
        emu.start()
        wait_for(lambda: a.status_value("reader_state") == "ok", timeout=30, what="recovery")
        emu.present(REGISTERED[3])
        wait_for(lambda: h.server.committed_seqs() == [1], what="tap after recovery")
        emu.remove()
        check(a.proc.pid == pid and a.running(), "the agent restarted")
        check("recovered" in a.log(), "no recovery in the log")
        check(a.stop() == 0, "agent did not exit cleanly")


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}


def main():
    if len(sys.argv) != 3 or (sys.argv[2] not in CASES and sys.argv[2] != "all"):
        sys.exit("usage: agent_nfc_test.py AGENT_BINARY {%s|all}" % "|".join(CASES))
    names = list(CASES) if sys.argv[2] == "all" else [sys.argv[2]]
    for name in names:
        start = time.monotonic()
        try:
            CASES[name](sys.argv[1])
        except TestFailure as e:
            print("FAIL %s: %s" % (name, e))
            sys.exit(1)
        print("ok   %s (%.1f s)" % (name, time.monotonic() - start))


if __name__ == "__main__":
    main()
