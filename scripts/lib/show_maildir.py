#!/usr/bin/python3
"""Prints the messages of a Maildir as a guardian would read them: decoded subject and body.

  show_maildir.py MAILDIR [--wait N] [--seen FILE] [--count N]

With --wait, waits up to N seconds for at least --count messages. With --seen, prints only
messages not printed before (their keys are appended to FILE).
"""
import argparse
import email
import email.policy
import mailbox
import pathlib
import sys
import time


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("maildir")
    ap.add_argument("--wait", type=float, default=0)
    ap.add_argument("--count", type=int, default=1)
    ap.add_argument("--seen")
    args = ap.parse_args()

    seen = set()
    seen_path = pathlib.Path(args.seen) if args.seen else None
    if seen_path and seen_path.exists():
        seen = set(seen_path.read_text().split())

    deadline = time.monotonic() + args.wait
    while True:
        box = mailbox.Maildir(args.maildir, factory=None, create=False)
        keys = sorted((k for k in box.keys() if k not in seen), key=lambda k: box.get_file(k).name)
        if len(keys) >= args.count or time.monotonic() >= deadline:
            break
        time.sleep(0.2)

    messages = []
    for key in keys:
        with box.get_file(key) as f:
            msg = email.message_from_binary_file(f, policy=email.policy.default)
        messages.append((msg["Date"].datetime if msg["Date"] else None, key, msg))
    messages.sort(key=lambda m: (m[0] is None, m[0], m[1]))
    for _, key, msg in messages:
        print(f"  ── To: {msg['To']}   {msg['Date']}")
        print(f"  件名: {msg['Subject']}")
        body = msg.get_body(preferencelist=("plain",)).get_content()
        for line in body.rstrip().splitlines():
            print(f"  │ {line}")
        print()
    if seen_path:
        with seen_path.open("a") as f:
            for _, key, _ in messages:
                f.write(key + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
