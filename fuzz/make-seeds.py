#!/usr/bin/env python3
# fuzz/make-seeds.py STATE_DIR CORPUS_DIR: writes the seed inputs of the
# fuzzers (called by fuzz/make-seeds.sh, which explains the sources).
# Input formats: the header comments of fuzz/<name>-fuzzer.c.
import hashlib
import os
import struct
import sys
import zlib

state, corpus = sys.argv[1], sys.argv[2]
written = {}


def seed(fuzzer, data):
    d = os.path.join(corpus, fuzzer)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)
    written[fuzzer] = written.get(fuzzer, 0) + 1


# ---- wal: real segments, cut three ways --------------------------------
def frames(seg):
    """(type, payload) of each frame of a segment (layout: wal/segment.c)."""
    off, out = 32, []
    while off + 28 <= len(seg):
        n, typ = struct.unpack_from('<IH', seg, off)
        if off + 28 + n > len(seg):
            break
        out.append((typ, seg[off + 24:off + 24 + n]))
        off += 28 + n
    return out


def records_end(seg):
    """Offset after the last record: a segment may go on in zeros."""
    off, seq = 32, struct.unpack_from('<Q', seg, 16)[0]
    while off + 28 <= len(seg):
        n, = struct.unpack_from('<I', seg, off)
        if struct.unpack_from('<Q', seg, off + 8)[0] != seq or \
                off + 28 + n > len(seg):
            break
        off += 28 + n
        seq += 1
    return off


segs = sorted(f for f in os.listdir(state)
              if f.startswith('wal-') and f.endswith('.log'))
segdata = [open(os.path.join(state, f), 'rb').read() for f in segs]
segdata = [seg[:records_end(seg)] for seg in segdata]
for seg in segdata:
    seed('wal', b'\x00' + seg)
    seed('wal', b'\x00' + seg[:len(seg) - 7])            # torn tail
    bad = bytearray(seg)
    bad[len(seg) // 2] ^= 0x40
    seed('wal', b'\x00' + bytes(bad))                     # corrupt middle
    recs = frames(seg)
    salt = seg[12:16]
    body = b''.join(bytes([typ - 1]) + struct.pack('<H', len(p)) + p
                    for typ, p in recs if len(p) < 65536)
    seed('wal', b'\x02' + salt + b'\x01' + body)
    for typ, p in recs:
        seed('wal', b'\x03' + p)
for a, b in zip(segdata, segdata[1:]):
    seed('wal', b'\x01' + struct.pack('<H', len(a)) + a + b)

# ---- snapshot: the real file, its stream, its records --------------------
for f in sorted(os.listdir(state)):
    if not f.startswith('snap-'):
        continue
    snap = open(os.path.join(state, f), 'rb').read()
    seed('snapshot', b'\x00' + snap)
    seed('snapshot', b'\x01' + snap[56:])
    raw = zlib.decompress(snap[56:])
    seed('snapshot', b'\x02' + raw)
    off, recs = 0, b''
    while off + 8 <= len(raw):
        n, typ = struct.unpack_from('<II', raw, off)
        recs += bytes([typ - 1]) + struct.pack('<H', n) + \
            raw[off + 8:off + 8 + n]
        if typ == 2:                                # a NODES payload
            seed('snapshot', b'\x04' + raw[off + 8:off + 8 + n])
        off += 8 + n
    seed('snapshot', b'\x03' + recs)

# ---- wire and request: rawclient-style message sequences -----------------
T = {'CONTROL': 0, 'DIRECTORY': 1, 'READ': 2, 'GET_PERMS': 3, 'WATCH': 4,
     'UNWATCH': 5, 'TRANSACTION_START': 6, 'TRANSACTION_END': 7,
     'INTRODUCE': 8, 'RELEASE': 9, 'GET_DOMAIN_PATH': 10, 'WRITE': 11,
     'MKDIR': 12, 'RM': 13, 'SET_PERMS': 14, 'WATCH_EVENT': 15,
     'IS_DOMAIN_INTRODUCED': 17, 'RESUME': 18, 'SET_TARGET': 19,
     'RESET_WATCHES': 21, 'DIRECTORY_PART': 22, 'GET_FEATURE': 23,
     'SET_FEATURE': 24, 'GET_QUOTA': 25, 'SET_QUOTA': 26}


def wire_msg(typ, payload, req=1, tx=0, length=None):
    return struct.pack('<IIII', T[typ] if isinstance(typ, str) else typ,
                       req, tx, len(payload) if length is None else length) \
        + payload


# Request-fuzzer actions (slots: 0 dom0, 1 read-only, 2 guest 1,
# 3 guest 2 targeting 1, 4 guest 3, 5 guest 1 again).
def msg(slot, typ, payload=b'', in_txn=False):
    kind = 29 if in_txn else 0
    return bytes([slot | kind << 3, T[typ], 0]) + \
        struct.pack('<H', len(payload)) + payload


def raw(slot, data):
    return bytes([slot | 16 << 3, len(data)]) + data


FLUSH = bytes([23 << 3])


def toggle(slot):
    return bytes([slot | 22 << 3])


def close(slot):
    return bytes([slot | 24 << 3])


G1 = b'/local/domain/1'
requests = [
    # dom0 basics
    msg(0, 'WRITE', b'/a/b\0value') + msg(0, 'READ', b'/a/b\0') +
    msg(0, 'DIRECTORY', b'/a\0') + msg(0, 'GET_PERMS', b'/a/b\0') +
    msg(0, 'DIRECTORY_PART', b'/\x000\0') + msg(0, 'RM', b'/a\0') + FLUSH,
    # a guest in its home, and others trying to read it
    msg(2, 'WRITE', b'data/x\0hello') + msg(2, 'MKDIR', b'data/y\0') +
    msg(2, 'SET_PERMS', b'data/x\0n1\0r3\0') + msg(4, 'READ', G1 + b'/data/x\0') +
    msg(4, 'READ', G1 + b'/data/y\0') + msg(3, 'WRITE', G1 + b'/data/z\0t') +
    msg(2, 'SET_PERMS', b'data/x\0n4\0') + msg(2, 'DIRECTORY', b'data\0') + FLUSH,
    # watches and events
    msg(2, 'WATCH', G1 + b'\0tok\0') + msg(0, 'WRITE', G1 + b'/device/vif/0/state\x005') +
    msg(0, 'RM', G1 + b'/device\0') + msg(2, 'UNWATCH', G1 + b'\0tok\0') +
    msg(0, 'WATCH', b'/\0root\x000\0') + msg(4, 'WATCH', b'@releaseDomain\0r\0') +
    bytes([26 << 3, 3]) + FLUSH,
    # transactions: commit, abort, conflict
    msg(2, 'TRANSACTION_START', b'\0') + FLUSH + msg(2, 'WRITE', b'tx/a\x001', True) +
    msg(2, 'READ', b'tx/a\0', True) + msg(0, 'WRITE', G1 + b'/tx/a\x002') +
    msg(2, 'TRANSACTION_END', b'T\0', True) + msg(0, 'TRANSACTION_START', b'\0') +
    FLUSH + msg(0, 'RM', b'/vm\0', True) + msg(0, 'TRANSACTION_END', b'F\0', True) + FLUSH,
    # read-only socket and privileged-only requests from a guest
    msg(1, 'WRITE', b'/ro\0x') + msg(1, 'READ', b'/tool/xenstored\0') +
    msg(2, 'SET_QUOTA', b'nodes\x005\0') + msg(2, 'INTRODUCE', b'5\x001\x002\0') +
    msg(2, 'GET_FEATURE', b'\0') + msg(2, 'GET_DOMAIN_PATH', b'3\0') + FLUSH,
    # control and domain requests from dom0
    msg(0, 'CONTROL', b'check\0') + msg(0, 'CONTROL', b'help\0') +
    msg(0, 'CONTROL', b'quota\0') + msg(0, 'CONTROL', b'quota\x001\0') +
    msg(0, 'CONTROL', b'status\0') + msg(0, 'CONTROL', b'memreport\0') +
    msg(0, 'GET_QUOTA', b'\0') + msg(0, 'GET_QUOTA', b'1\0nodes\0') +
    msg(0, 'SET_QUOTA', b'1\0nodes\x003\0') + msg(0, 'IS_DOMAIN_INTRODUCED', b'0\0') +
    msg(0, 'INTRODUCE', b'5\x001234\x007\0') + msg(0, 'RELEASE', b'5\0') +
    msg(0, 'RESUME', b'0\0') + msg(0, 'SET_TARGET', b'5\x001\0') +
    msg(0, 'SET_FEATURE', b'5\x004\0') + msg(0, 'RESET_WATCHES', b'') + FLUSH,
    # quota: a guest filling its nodes quota
    msg(0, 'SET_QUOTA', b'1\0nodes\x004\0') + b''.join(
        msg(2, 'WRITE', b'q/%d\0v' % i) for i in range(6)) + FLUSH,
    # a watcher that stops reading while a writer goes on
    msg(0, 'WATCH', G1 + b'/w\0' + b't' * 200 + b'\0') + toggle(0) + b''.join(
        msg(5, 'WRITE', b'w\0x') for i in range(20)) + FLUSH + toggle(0) + FLUSH,
    # half-sent messages, an oversized header, a close
    raw(0, wire_msg('WRITE', b'/half\0v')[:20]) + msg(2, 'READ', b'name\0') +
    raw(0, wire_msg('WRITE', b'/half\0v')[20:]) + raw(4, wire_msg('READ', b'', length=5000)) +
    close(5) + FLUSH,
    # domains going away, specials firing
    msg(0, 'SET_PERMS', b'/vm/guest1\0n5\0r1\0') + msg(2, 'WATCH', b'@introduceDomain\0i\0') +
    bytes([25 << 3, 5]) + bytes([27 << 3, 1]) + bytes([27 << 3, 0x81]) +
    bytes([28 << 3 | 3, 1]) + msg(3, 'READ', G1 + b'/device/vif/0/state\0') + FLUSH,
]
for r in requests:
    seed('request', r)

wires = [
    b'\x00\x00' + wire_msg('WRITE', b'/a\0v') + wire_msg('READ', b'/a\0', 2),
    b'\x05\x01' + wire_msg('SET_PERMS', b'data\0n7\0r0\0b32757\0') +
    wire_msg('DIRECTORY_PART', b'/local\x004096\0'),
    b'\x11\x02' + wire_msg('WATCH', b'@releaseDomain\0tok\x002\0') +
    wire_msg('TRANSACTION_END', b'T\0', 3, 7) + wire_msg('READ', b'rel/path\0'),
    b'\x03\x00' + wire_msg('CONTROL', b'quota\0set\0nodes\x0099\0') +
    wire_msg(99, b'') + wire_msg('READ', b'x', length=4097),
    b'\x07\x01' + wire_msg('WRITE', b'/' + b'a/' * 1600 + b'b\0'),
    b'\x09\x00' + wire_msg('GET_DOMAIN_PATH', b'65535\0') +
    wire_msg('GET_DOMAIN_PATH', b'65536\0') + wire_msg('READ', b'/part'),
]
for w in wires:
    seed('wire', w)

# ---- ring: a guest's actions on its ring page, and server steps ------------
# Byte a: op = a & 15, arg = a >> 4 (fuzz/ring-fuzzer.c).
def rreq(kind, key=0, value=None, d_path=False):
    b = bytes([0 | (kind | (8 if d_path else 0)) << 4, key])
    if kind == 0:
        b += struct.pack('<H', len(value)) + value
    return b


def rsend(n=0xffff):
    return bytes([3]) + struct.pack('<H', n)


def rrecv(n=0xffff):
    return bytes([4]) + struct.pack('<H', n)


def rreq_prod(d):
    return bytes([5]) + struct.pack('<I', d & 0xffffffff)


def rrsp_cons(d):
    return bytes([6]) + struct.pack('<I', d & 0xffffffff)


RTRUTH, RRECONNECT, RITER, RINTRODUCE = bytes([7]), bytes([8]), bytes([11]), bytes([13])


def rsteps(n):
    return bytes([10 | (n - 1) << 4])


def rheader(typ, length, payload=b''):
    return bytes([2, typ]) + struct.pack('<I', length) + \
        (b'' if length < 256 else bytes([len(payload)])) + payload


def rraw(data):
    return bytes([1, len(data)]) + data


def revent(plen, tlen):
    return bytes([12]) + struct.pack('<H', plen) + bytes([tlen])


rings = [
    # request and reply, one at a time
    rreq(0, 1, b'hello') + rsend() + RITER + rrecv() + rreq(1, 1) +
    rsend() + RITER + rrecv(),
    # replies longer than the ring, read in pieces while the server writes
    rreq(2) + rreq(2) + rsend() + rsteps(3) + rrecv(300) + rsteps(5) +
    rrecv(1000) + RITER + rrecv() + RITER + rrecv(),
    # wrap around the end: requests of 700 bytes, written 200 at a time
    b''.join(rreq(0, k, b'v' * 690) for k in range(4)) +
    (rsend(200) + rsteps(2) + rrecv(100) + rsteps(3)) * 16 +
    b''.join(rreq(1, k) for k in range(4)) + rsend() + RITER + rrecv(),
    # a message in pieces: header, then payload byte by byte
    rreq(0, 2, b'abcdef') + rsend(10) + RITER + rsend(6) + RITER +
    (rsend(1) + rsteps(5)) * 12 + rrecv(),
    # watches and events of all sizes, a guest that reads late
    rreq(4, 3) + rreq(4, 1, d_path=True) + rsend() + RITER +
    bytes([14 | 1 << 4]) + struct.pack('<H', 3000) + revent(3900, 40) +
    revent(10, 200) + revent(4000, 255) + RITER + rrecv(512) + RITER +
    rrecv() + RITER + rrecv(),
    # req_prod far ahead of req_cons: RINGIDX, ignored until a reconnect
    rreq(1, 0) + rsend() + rreq_prod(5000) + RITER + rreq(1, 0) + rsend() +
    RITER + RRECONNECT + RITER + rreq(0, 0, b'again') + rsend() + RITER +
    rrecv(),
    # rsp_cons moved back: the server's next write finds RINGIDX
    rreq(2) + rsend() + rsteps(1) + rrsp_cons(-3000) + rsteps(2) + RTRUTH +
    RITER + RINTRODUCE + rreq(1, 5) + rsend() + RITER + rrecv(),
    # req_prod moved back behind what the server read, then told truly
    rreq(0, 4, b'x' * 300) + rsend() + rsteps(1) + rreq_prod(-200) +
    rsteps(4) + RTRUTH + RITER + rrecv(),
    # stale bytes sent by moving req_prod, an oversized header: PROTO
    rreq_prod(16) + RITER + rheader(2, 5000) + rsend() + RITER + rrecv(),
    # a reconnect with requests in flight and a quota that pauses input
    bytes([15, 2]) + b''.join(rreq(0, k, b'q') for k in range(6)) + rsend() +
    rsteps(1) + RRECONNECT + rsteps(4) + RITER + rreq(1, 0) + rsend() +
    RITER + rrecv(),
    # junk: raw bytes, a half header, a scribble over free space
    rraw(b'\x02\x00\x00\x00\x01\x00') + rheader(99, 3, b'abc') +
    bytes([9]) + struct.pack('<H', 600) + bytes([4]) + b'junk' + rsend() +
    RITER + rrecv(),
]
for r in rings:
    seed('ring', r)

for k in sorted(written):
    print('%s: %d seed(s)' % (k, written[k]))
