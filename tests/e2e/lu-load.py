#!/usr/bin/env python3
"""Socket clients busy through live updates (tests/e2e/lu-load.sh).

lu-load.py SOCKET CLIENTS STOP-FILE

Each client owns /lu-load/c<i>: it watches it, then loops over writes,
reads checked against its model, two-write transactions and directory
listings until STOP-FILE exists (the shell runs the updates meanwhile).
Then every client writes a last marker and waits for its event.

Checks (one line each, "ok ..." or "FAIL ..."): no error reply, no
connection closed, every watch event expected arrived exactly once per
change (none lost, none extra), the tree equals the model. Prints the
longest wait for a reply seen by any client (information only).
"""
import os
import socket
import struct
import sys
import threading
import time

XS_DIRECTORY, XS_READ, XS_WATCH = 1, 2, 4
XS_TRANSACTION_START, XS_TRANSACTION_END = 6, 7
XS_WRITE, XS_WATCH_EVENT, XS_ERROR = 11, 15, 16
HDR = struct.Struct("=IIII")


class Client:
    def __init__(self, path, idx):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.idx = idx
        self.base = "/lu-load/c%d" % idx
        self.req = 0
        self.model = {}
        self.events = {}
        self.expected = {}
        self.errors = []
        self.max_wait = 0.0
        self.ops = 0

    def recv_exact(self, n):
        out = b""
        while len(out) < n:
            chunk = self.s.recv(n - len(out))
            if not chunk:
                raise EOFError("connection closed by the daemon")
            out += chunk
        return out

    def call(self, typ, payload, tx=0):
        self.req += 1
        t0 = time.monotonic()
        self.s.sendall(HDR.pack(typ, self.req, tx, len(payload)) + payload)
        while True:
            typ2, req, _tx, ln = HDR.unpack(self.recv_exact(16))
            body = self.recv_exact(ln)
            if typ2 == XS_WATCH_EVENT:
                path = body.split(b"\0")[0].decode()
                self.events[path] = self.events.get(path, 0) + 1
                continue
            wait = time.monotonic() - t0
            self.max_wait = max(self.max_wait, wait)
            if req != self.req:
                raise RuntimeError("reply %d to request %d" % (req, self.req))
            if typ2 == XS_ERROR:
                self.errors.append("%d: %s" % (typ, body))
                return None
            self.ops += 1
            return body

    def expect(self, path):
        self.expected[path] = self.expected.get(path, 0) + 1

    def write(self, key, value, tx=0):
        path = "%s/%s" % (self.base, key)
        if self.call(XS_WRITE, path.encode() + b"\0" + value.encode(),
                     tx) is not None:
            return path
        return None

    def step(self, n):
        kind = n % 4
        key = "k%d" % (n % 17)
        if kind == 0:
            path = self.write(key, "v%d" % n)
            if path:
                self.model[path] = "v%d" % n
                self.expect(path)
        elif kind == 1:
            path = "%s/%s" % (self.base, key)
            want = self.model.get(path)
            if want is None:        # not written yet: ENOENT is right
                return
            got = self.call(XS_READ, path.encode() + b"\0")
            if got != want.encode():
                self.errors.append("read %s: %r, model %r" % (path, got, want))
        elif kind == 2:
            tx = self.call(XS_TRANSACTION_START, b"\0")
            if tx is None:
                return
            txid = int(tx.rstrip(b"\0"))
            a = self.write("t%d" % (n % 5), "a%d" % n, txid)
            b = self.write("u%d" % (n % 5), "b%d" % n, txid)
            if self.call(XS_TRANSACTION_END, b"T\0", txid) is not None:
                for p, v in ((a, "a%d" % n), (b, "b%d" % n)):
                    if p:
                        self.model[p] = v
                        self.expect(p)
        else:
            self.call(XS_DIRECTORY, self.base.encode() + b"\0")


def main():
    sock, nclients, = sys.argv[1], int(sys.argv[2])
    stop_file = sys.argv[3]
    clients = []
    for i in range(nclients):
        c = Client(sock, i)
        c.call(XS_WRITE, c.base.encode() + b"\0")
        c.call(XS_WATCH, c.base.encode() + b"\0tok\0")
        c.expect(c.base)            # the initial event
        clients.append(c)
    failures = []

    def run(c):
        n = 0
        try:
            while not os.path.exists(stop_file):
                c.step(n)
                n += 1
            marker = c.write("marker", "end")
            c.expect(marker)
            deadline = time.monotonic() + 30
            while c.events.get(marker, 0) == 0 and \
                    time.monotonic() < deadline:
                c.call(XS_READ, marker.encode() + b"\0")
        except Exception as e:      # noqa: BLE001 (report anything)
            failures.append("client %d: %s" % (c.idx, e))

    threads = [threading.Thread(target=run, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    def check(name, good, detail=""):
        print(("ok   " if good else "FAIL ") + name +
              ("" if good else ": " + detail))

    check("no connection dropped", not failures, "; ".join(failures[:5]))
    errs = [e for c in clients for e in c.errors]
    check("no error reply", not errs, "; ".join(errs[:5]))
    bad = []
    for c in clients:
        if c.events != c.expected:
            diff = {p: (c.events.get(p, 0), c.expected.get(p, 0))
                    for p in set(c.events) | set(c.expected)
                    if c.events.get(p, 0) != c.expected.get(p, 0)}
            bad.append("client %d (got, want): %s" % (c.idx,
                                                      list(diff.items())[:3]))
    check("every watch event arrived once per change", not bad,
          "; ".join(bad[:3]))
    wrong = []
    for c in clients:
        for path, want in c.model.items():
            got = c.call(XS_READ, path.encode() + b"\0")
            if got != want.encode():
                wrong.append("%s: %r != %r" % (path, got, want))
    check("the tree equals the model", not wrong, "; ".join(wrong[:3]))
    ops = sum(c.ops for c in clients)
    check("the clients were busy (%d requests)" % ops, ops > 100 * nclients,
          "too few requests")
    print("# longest wait for a reply: %.1f ms" %
          (1000 * max(c.max_wait for c in clients)))


main()
