"""A new binary that fails after -s: lu-fake.py MODE DAEMON-ARGS...

Speaks the new daemon's side of the live-update channel
(docs/formats/liveupdate.md) as far as GO: says LOADED when the old
daemon offers it (it must, or this exits 3), waits for GO, then
  crash  dies of SIGSEGV, as a new binary that crashes after -s;
  hang   sleeps, as one that never becomes ready.
"""
import os
import signal
import socket
import struct
import sys
import time

LOADED, GO = 8, 9


def main():
    mode = sys.argv[1]
    fd = [int(a.split("=", 1)[1]) for a in sys.argv[2:]
          if a.startswith("--live-update-fd=")]
    if len(fd) != 1 or os.environ.get("LXS_LIVE_UPDATE_LOADED") != "1":
        sys.exit(3)
    chan = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET, fileno=fd[0])
    chan.send(struct.pack("=IQ", LOADED, 1))
    pkt = chan.recv(64)
    if struct.unpack("=I", pkt[:4])[0] != GO:
        sys.exit(4)
    if mode == "crash":
        signal.signal(signal.SIGSEGV, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGSEGV)
    time.sleep(600)


main()
