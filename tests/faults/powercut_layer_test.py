#!/usr/bin/python3
"""The power-cut layer itself (powercut_shim.c): it must drop what was not synced, or the agent's
power-cut test proves nothing.

usage: powercut_layer_test.py SHIM

A child process opens an SQLite database in WAL mode (the agent's settings: mmap on) under the
layer, commits 500 rows one by one, and is killed with SIGKILL. Checked, with and without the
random writeback before the cut: with synchronous=FULL (the agent's) every committed row is
there and the database is intact; with synchronous=NORMAL (no fsync at commit) the last commits
are gone, i.e. the layer really drops writes that were never synced.
"""
import os
import sqlite3
import subprocess
import sys
import tempfile

CHILD = r"""
import os, sqlite3, sys
db = sqlite3.connect(os.path.join(sys.argv[1], "t.db"), isolation_level=None)
db.execute("PRAGMA journal_mode=WAL")
db.execute("PRAGMA synchronous=" + sys.argv[2])
db.execute("PRAGMA mmap_size=268435456")
db.execute("CREATE TABLE t(x INTEGER)")
for i in range(500):
    db.execute("INSERT INTO t VALUES (?)", (i,))
print(db.execute("SELECT count(*) FROM t").fetchone()[0], flush=True)
os.kill(os.getpid(), 9)
"""


def run(shim, sync, writeback):
    with tempfile.TemporaryDirectory(prefix="anshin-powercut-layer-") as d:
        env = dict(os.environ, LD_PRELOAD=shim, ANSHIN_POWERCUT_DIR=d,
                   ANSHIN_POWERCUT_WRITEBACK=str(writeback), ANSHIN_POWERCUT_SEED="12345")
        p = subprocess.run([sys.executable, "-c", CHILD, d, sync], env=env, capture_output=True, text=True,
                           timeout=60)
        seen = int(p.stdout.strip() or "-1")
        db = sqlite3.connect(os.path.join(d, "t.db"))
        try:
            # Nothing synced at all (NORMAL before its first checkpoint): not even the table.
            has_table = db.execute("SELECT count(*) FROM sqlite_master WHERE name = 't'").fetchone()[0]
            after = db.execute("SELECT count(*) FROM t").fetchone()[0] if has_table else 0
            integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            db.close()
        return seen, after, integrity


def main():
    shim = sys.argv[1]
    ok = True
    for writeback in (0, 50):
        seen, after, integrity = run(shim, "FULL", writeback)
        print("synchronous=FULL, writeback %d %%: %d committed, %d after the cut, %s" % (writeback, seen, after, integrity))
        ok &= seen == 500 and after == 500 and integrity == "ok"
        seen, after, integrity = run(shim, "NORMAL", writeback)
        print("synchronous=NORMAL, writeback %d %%: %d committed, %d after the cut, %s" % (writeback, seen, after, integrity))
        ok &= seen == 500 and after < 500 and integrity == "ok"
    print("ok" if ok else "FAIL: the layer kept unsynced writes or lost synced ones")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
