#!/usr/bin/env python3
"""What a connection carries through a live update (tests/e2e/lu-state.sh).

lu-state.py SOCKET UPDATE-CMD...

Before the update: a relative watch, a depth-1 watch, a request of which
only half is sent, a connection that does not read while 3000 watch events
(about 600 KiB, more than the socket buffers hold) are queued for it, and
an open UNIX connection with no request at all. UPDATE-CMD then runs (a
live update). After it: the rest of the half request gets its reply,
every queued event arrives in order, the watches fire in their relative
form and at their depth only, the idle connection answers. Prints one
"ok"/"FAIL" line per check.
"""
import socket
import subprocess
import sys

from lu_wire import (XS_READ, XS_WATCH, XS_WATCH_EVENT, XS_WRITE, SEEN,
                     call, check, conn, msg, recv_msg)


def main():
    sock = sys.argv[1]
    w = conn(sock)
    call(w, XS_WRITE, b"/local/domain/0/rel\0x")
    call(w, XS_WRITE, b"/d1/a/b\0x")
    call(w, XS_WATCH, b"rel\0relative\0")
    call(w, XS_WATCH, b"/d1\0depth\0" + b"1\0")
    # Drain the initial events.
    w.settimeout(0.5)
    try:
        while True:
            recv_msg(w)
    except socket.timeout:
        pass
    w.settimeout(None)

    half = conn(sock)
    m = msg(XS_READ, b"/local/domain/0/rel\0", req=77)
    half.sendall(m[:10])

    slow = conn(sock)
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    call(slow, XS_WATCH, b"/flood\0f\0")
    idle = conn(sock)
    writer = conn(sock)
    value = b"v" * 150
    n = 3000
    for i in range(n):
        call(writer, XS_WRITE, b"/flood/%05d\0" % i + value, req=i + 1)

    rc = subprocess.call(sys.argv[2:])
    check("the update succeeded", rc == 0, rc)

    half.sendall(m[10:])
    t, r, body = recv_msg(half)
    check("a request half sent before the update is answered after it",
          (t, r, body) == (XS_READ, 77, b"x"), (t, r, body))

    got = []
    first = recv_msg(slow)  # WATCH OK was read by call(); initial event
    while len(got) < n:
        t, _r, body = recv_msg(slow)
        if t == XS_WATCH_EVENT:
            got.append(body.split(b"\0")[0])
    want = [b"/flood/%05d" % i for i in range(n)]
    check("%d queued events arrive after the update, in order" % n,
          got == want and first[2] == b"/flood\0f\0",
          (first, got[:2], len(got)))

    del SEEN[:]
    call(w, XS_WRITE, b"/local/domain/0/rel\0y")
    call(w, XS_WRITE, b"/d1/a/b\0y")
    call(w, XS_WRITE, b"/d1/a\0y")
    events = SEEN
    w.settimeout(2)
    try:
        while True:
            t, _r, body = recv_msg(w)
            events.append(tuple(body.split(b"\0")[:2]))
    except socket.timeout:
        pass
    check("a relative watch fires in its relative form",
          (b"rel", b"relative") in events, events)
    check("a depth-1 watch fires for depth 1 only",
          (b"/d1/a", b"depth") in events and
          (b"/d1/a/b", b"depth") not in events, events)
    t, _r, body = call(idle, XS_READ, b"/d1/a\0")
    check("an idle connection answers after the update",
          (t, body) == (XS_READ, b"y"), (t, body))


main()
