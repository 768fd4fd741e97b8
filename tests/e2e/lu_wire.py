"""Wire helpers of the live-update client scripts (lu-state.py, lu-txn.py).

Messages are (type, req_id, tx_id, len) in native order plus the payload.
call() returns the reply and keeps the watch events read meanwhile in
SEEN as (path, token) pairs.
"""
import socket
import struct

XS_DIRECTORY, XS_READ, XS_WATCH = 1, 2, 4
XS_TRANSACTION_START, XS_TRANSACTION_END = 6, 7
XS_WRITE, XS_RM, XS_WATCH_EVENT, XS_ERROR = 11, 13, 15, 16
HDR = struct.Struct("=IIII")
SEEN = []


def conn(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    return s


def msg(typ, payload, req=1, tx=0):
    return HDR.pack(typ, req, tx, len(payload)) + payload


def recv_exact(s, n):
    out = b""
    while len(out) < n:
        c = s.recv(n - len(out))
        if not c:
            raise EOFError("closed")
        out += c
    return out


def recv_msg(s):
    typ, req, _tx, ln = HDR.unpack(recv_exact(s, 16))
    return typ, req, recv_exact(s, ln)


def call(s, typ, payload, req=1, tx=0):
    s.sendall(msg(typ, payload, req, tx))
    while True:
        t, r, body = recv_msg(s)
        if t != XS_WATCH_EVENT:
            return t, r, body
        SEEN.append(tuple(body.split(b"\0")[:2]))


def check(name, good, detail=""):
    print(("ok   " if good else "FAIL ") + name +
          ("" if good else ": " + str(detail)))
