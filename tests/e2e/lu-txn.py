#!/usr/bin/env python3
"""Open transactions carried through a live update (tests/e2e/lu-txn.sh).

lu-txn.py SOCKET UPDATE-CMD...

Transactions are opened (and used) before UPDATE-CMD runs, and used and
ended after it, in the new daemon. Prints one "ok"/"FAIL" line per check.
"""
import subprocess
import sys

from lu_wire import (XS_DIRECTORY, XS_READ, XS_RM, XS_TRANSACTION_END,
                     XS_TRANSACTION_START, XS_WRITE, XS_ERROR, call, check,
                     conn)


def start(s):
    t, _r, body = call(s, XS_TRANSACTION_START, b"\0")
    assert t == XS_TRANSACTION_START, body
    return int(body.rstrip(b"\0"))


def end(s, tx, commit=True):
    return call(s, XS_TRANSACTION_END, b"T\0" if commit else b"F\0", tx=tx)[2]


def read(s, path, tx=0):
    t, _r, body = call(s, XS_READ, path + b"\0", tx=tx)
    return b"E:" + body.rstrip(b"\0") if t == XS_ERROR else body


def write(s, path, value, tx=0):
    return call(s, XS_WRITE, path + b"\0" + value, tx=tx)[2]


def main():
    sock = sys.argv[1]
    c = conn(sock)          # holds the transactions
    o = conn(sock)          # everybody else
    for p in (b"/t/a", b"/t/d", b"/t/e", b"/t/g/x", b"/t/dir/y"):
        write(o, p, b"0")

    t1 = start(c)           # reads and writes on both sides
    read(c, b"/t/a", t1)
    write(c, b"/t/b", b"before", t1)
    t2 = start(c)           # doomed before the update
    read(c, b"/t/d", t2)
    write(c, b"/t/d2", b"x", t2)
    write(o, b"/t/d", b"changed")
    t3 = start(c)           # doomed after it
    read(c, b"/t/e", t3)
    write(c, b"/t/e2", b"x", t3)
    t4 = start(c)           # depends on a child list
    call(c, XS_DIRECTORY, b"/t/dir\0", tx=t4)
    write(c, b"/t/dir2", b"x", t4)
    t5 = start(c)           # its own uncommitted write
    write(c, b"/t/f", b"mine", t5)
    t6 = start(c)           # removes a subtree
    call(c, XS_RM, b"/t/g\0", tx=t6)
    t7 = start(c)           # to be aborted
    write(c, b"/t/h", b"x", t7)

    rc = subprocess.call(sys.argv[2:])
    check("the update succeeded with 7 transactions open", rc == 0, rc)

    write(o, b"/t/e", b"changed")
    write(o, b"/t/dir/z", b"new child")
    check("a transaction's own write is seen inside it after the update",
          read(c, b"/t/f", t5) == b"mine", read(c, b"/t/f", t5))
    check("and not outside it", read(o, b"/t/f") == b"E:ENOENT",
          read(o, b"/t/f"))
    check("a subtree removed in a transaction stays hidden in it",
          read(c, b"/t/g/x", t6) == b"E:ENOENT", read(c, b"/t/g/x", t6))
    write(c, b"/t/c", b"after", t1)
    check("a transaction used on both sides commits",
          end(c, t1) == b"OK\0", "")
    check("with both its writes",
          (read(o, b"/t/b"), read(o, b"/t/c")) == (b"before", b"after"),
          (read(o, b"/t/b"), read(o, b"/t/c")))
    check("a conflict before the update: EAGAIN",
          end(c, t2) == b"EAGAIN\0", "")
    check("a conflict after the update (rebound dependency): EAGAIN",
          end(c, t3) == b"EAGAIN\0", "")
    check("a child list changed after the update: EAGAIN",
          end(c, t4) == b"EAGAIN\0", "")
    check("an uncommitted write commits after the update",
          end(c, t5) == b"OK\0" and read(o, b"/t/f") == b"mine", "")
    check("a removal commits after the update",
          end(c, t6) == b"OK\0" and read(o, b"/t/g") == b"E:ENOENT", "")
    check("an abort after the update",
          end(c, t7, False) == b"OK\0" and read(o, b"/t/h") == b"E:ENOENT",
          "")
    check("nothing of the failed transactions leaked",
          [read(o, p) for p in (b"/t/d2", b"/t/e2", b"/t/dir2")] ==
          [b"E:ENOENT"] * 3, "")
    t8 = start(c)
    check("new transaction ids go on after the old ones", t8 > t7,
          (t7, t8))
    end(c, t8, False)


main()
