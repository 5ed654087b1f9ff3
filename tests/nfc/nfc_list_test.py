#!/usr/bin/python3
"""libnfc's own nfc-list (Debian libnfc-bin, unmodified) sees the emulated FeliCa card.

Checks, against tests/nfc/pn532_emulator.py on a pty:
  1. with a card present, `nfc-list -t 2` lists its IDm as the FeliCa 212 kbps NFCID2;
  2. with the card removed, it opens the reader and lists no target;
  3. a card answering only at 424 kbps is listed by `-t 4` and not by `-t 2`;
  4. after the emulator is SIGKILLed and restarted on the same link, nfc-list works again;
  5. nfc-list's open and listing take well under 2 s.
Exit status 0 on success; prints what failed otherwise.
"""

import os
import re
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pn532_control import Pn532Emulator  # noqa: E402

NFC_LIST = os.environ.get("NFC_LIST", "/usr/bin/nfc-list")
IDM = "0123456789abcdef"
IDM_424 = "fedcba9876543210"


def spaced(idm_hex):
    """nfc-list prints bytes as "01  23  45 …"."""
    return "  ".join(idm_hex[i:i + 2] for i in range(0, 16, 2))


def nfc_list(emu, types):
    start = time.monotonic()
    res = subprocess.run([NFC_LIST, "-t", str(types)], env=emu.libnfc_env(),
                         capture_output=True, text=True, timeout=20)
    elapsed = time.monotonic() - start
    return res, elapsed


def listed_ids(stdout):
    return [re.sub(r"\s+", "", m) for m in re.findall(r"ID \(NFCID2\):\s*([0-9a-f ]+)", stdout)]


def main():
    failures = []

    def check(cond, what, res=None):
        if not cond:
            detail = ""
            if res is not None:
                detail = "\n--- stdout\n%s--- stderr\n%s" % (res.stdout, res.stderr)
            failures.append(what + detail)

    with Pn532Emulator() as emu:
        emu.present(IDM)
        res, elapsed = nfc_list(emu, 2)
        check(res.returncode == 0, "nfc-list -t 2 exit status %d" % res.returncode, res)
        check("NFC device: " in res.stdout and "opened" in res.stdout,
              "nfc-list did not open the emulated reader", res)
        check("1 Felica (212 kbps) passive target(s) found" in res.stdout,
              "nfc-list -t 2 did not find one FeliCa 212 kbps target", res)
        check(listed_ids(res.stdout) == [IDM], "nfc-list -t 2 listed %s, expected %s"
              % (listed_ids(res.stdout), [IDM]), res)
        check(spaced(IDM) in res.stdout, "IDm not printed as nfc-list formats it", res)
        check(elapsed < 2.0, "nfc-list took %.2f s (expected well under 2 s)" % elapsed)
        print("nfc-list -t 2 with card: %.0f ms" % (elapsed * 1000))

        emu.remove()
        res, elapsed = nfc_list(emu, 2)
        check(res.returncode == 0, "nfc-list (no card) exit status %d" % res.returncode, res)
        check("opened" in res.stdout, "nfc-list (no card) did not open the reader", res)
        check(listed_ids(res.stdout) == [], "nfc-list listed a removed card", res)
        print("nfc-list -t 2 without card: %.0f ms" % (elapsed * 1000))

        emu.present(IDM_424, baud=424)
        res, _ = nfc_list(emu, 2)
        check(listed_ids(res.stdout) == [], "a 424-only card was listed at 212 kbps", res)
        res, _ = nfc_list(emu, 4)
        check("1 Felica (424 kbps) passive target(s) found" in res.stdout and
              listed_ids(res.stdout) == [IDM_424], "nfc-list -t 4 missed the 424 kbps card", res)

        status = emu.status()
        check(status["errors"] == 0, "emulator saw %s bad frames" % status["errors"])
        check(status["polls"] >= 4, "emulator saw only %s FeliCa polls" % status["polls"])

        emu.kill()
        res, _ = nfc_list(emu, 2)
        check("ID (NFCID2)" not in res.stdout, "nfc-list listed a card with the reader unplugged",
              res)
        check("opened" not in res.stdout, "nfc-list opened an unplugged reader", res)

        emu.start()
        emu.present(IDM)
        res, _ = nfc_list(emu, 2)
        check(listed_ids(res.stdout) == [IDM], "nfc-list after emulator restart listed %s"
              % listed_ids(res.stdout), res)

        if failures:
            print("frame log:\n" + emu.frame_log()[-4000:])

    for f in failures:
        print("FAIL: " + f)
    print("%s" % ("FAILED" if failures else "ok"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
