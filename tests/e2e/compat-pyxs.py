#!/usr/bin/python3
"""pyxs (Debian's python3-pyxs) against a xenstored socket.

usage: compat-pyxs.py SOCKET TARGET
TARGET is "lxenstored" (also check lxenstored's own behaviour: the
read-only socket, the path limit, per-node transaction conflicts) or
"external" (any xenstored). Prints one "ok"/"FAIL" line per check and a
summary; exits 0 only if every check passed.
"""
import errno
import faulthandler
import queue
import signal
import sys
import threading

import pyxs
from pyxs._internal import NUL, Op

SOCK = sys.argv[1]
TARGET = sys.argv[2] if len(sys.argv) > 2 else "external"
BASE = b"/lxs-compat-pyxs"
CHECK_SECONDS = 20
passed = []
failed = []


class CheckTimeout(Exception):
    pass


def on_alarm(signum, frame):
    raise CheckTimeout("no answer within %d s" % CHECK_SECONDS)


def check(fn):
    """Runs one check; any exception or a timeout is a failure."""
    name = fn.__name__[2:].replace("_", " ")
    signal.alarm(CHECK_SECONDS)
    try:
        fn()
    except Exception as e:  # report anything, go on with the next check
        failed.append(name)
        print("FAIL %s: %r" % (name, e), flush=True)
    else:
        passed.append(name)
        print("ok   %s" % name, flush=True)
    finally:
        signal.alarm(0)
    return fn


def client(path=SOCK):
    return pyxs.Client(unix_socket_path=path)


def expect_error(code, fn, *args):
    """fn(*args) must fail with the xenstore error code."""
    try:
        fn(*args)
    except pyxs.PyXSError as e:
        if not e.args or e.args[0] != code:
            raise AssertionError("expected %s, got %r"
                                 % (errno.errorcode[code], e))
        return
    raise AssertionError("expected %s, got success" % errno.errorcode[code])


def next_event(m, timeout=5.0):
    """The next watch event queued for monitor m, or None after timeout."""
    try:
        return m.events.get(timeout=timeout)
    except queue.Empty:
        return None


def eq(expected, actual):
    if expected != actual:
        raise AssertionError("expected %r, got %r" % (expected, actual))


faulthandler.dump_traceback_later(300, exit=True)
signal.signal(signal.SIGALRM, on_alarm)

with client() as c0:
    c0.delete(BASE)


@check
def t_write_then_read():
    with client() as c:
        c.write(BASE + b"/a", b"hello")
        eq(b"hello", c.read(BASE + b"/a"))
        c.write(BASE + b"/a", b"again")
        eq(b"again", c.read(BASE + b"/a"))
        c.write(BASE + b"/empty", b"")
        eq(b"", c.read(BASE + b"/empty"))


@check
def t_read_absent_gives_ENOENT():
    with client() as c:
        expect_error(errno.ENOENT, c.read, BASE + b"/nope")
        eq(b"dflt", c.read(BASE + b"/nope", b"dflt"))


@check
def t_write_creates_parents():
    with client() as c:
        c.write(BASE + b"/deep/er/node", b"v")
        eq(b"", c.read(BASE + b"/deep/er"))
        eq([b"node"], c.list(BASE + b"/deep/er"))


@check
def t_mkdir_list_exists():
    with client() as c:
        c.mkdir(BASE + b"/dir/x")
        c.write(BASE + b"/dir/y", b"1")
        c.mkdir(BASE + b"/dir/y")          # exists: value left alone
        eq(b"1", c.read(BASE + b"/dir/y"))
        eq([b"x", b"y"], sorted(c.list(BASE + b"/dir")))
        eq([], c.list(BASE + b"/dir/x"))
        assert c.exists(BASE + b"/dir/x")
        assert not c.exists(BASE + b"/dir/z")
        expect_error(errno.ENOENT, c.list, BASE + b"/dir/z")


@check
def t_ls_walk():
    with client() as c:
        got = sorted(p for p, _, _ in c.walk(BASE + b"/dir"))
        eq([BASE + b"/dir", BASE + b"/dir/x", BASE + b"/dir/y"], got)


@check
def t_rm_subtree():
    with client() as c:
        c.write(BASE + b"/rm/a/b", b"1")
        c.write(BASE + b"/rm/c", b"2")
        c.delete(BASE + b"/rm/a")
        assert not c.exists(BASE + b"/rm/a/b")
        assert not c.exists(BASE + b"/rm/a")
        eq([b"c"], c.list(BASE + b"/rm"))
        c.delete(BASE + b"/rm/a")          # absent, parent present: fine
        expect_error(errno.ENOENT, c.delete, BASE + b"/rm/a/b")


@check
def t_get_and_set_perms():
    with client() as c:
        c.write(BASE + b"/p", b"v")
        eq([b"n0"], c.get_perms(BASE + b"/p"))
        c.set_perms(BASE + b"/p", [b"n0", b"r1"])
        eq([b"n0", b"r1"], c.get_perms(BASE + b"/p"))
        c.write(BASE + b"/p/child", b"w")   # inherits the parent's perms
        eq([b"n0", b"r1"], c.get_perms(BASE + b"/p/child"))
        c.set_perms(BASE + b"/p", [b"b0"])
        eq([b"b0"], c.get_perms(BASE + b"/p"))
        expect_error(errno.ENOENT, c.set_perms, BASE + b"/nope", [b"n0"])
        expect_error(errno.ENOENT, c.get_perms, BASE + b"/nope")


@check
def t_watch_with_a_second_client_writing():
    with client() as c, client() as c2:
        m = c.monitor()
        m.watch(BASE + b"/w", b"tok")
        eq((BASE + b"/w", b"tok"), tuple(next_event(m)))   # initial event
        c2.write(BASE + b"/w/child", b"x")
        eq((BASE + b"/w/child", b"tok"), tuple(next_event(m)))
        c2.write(BASE + b"/w", b"self")
        eq((BASE + b"/w", b"tok"), tuple(next_event(m)))
        c2.write(BASE + b"/w-sibling", b"no")
        c2.delete(BASE + b"/w/child")
        eq((BASE + b"/w/child", b"tok"), tuple(next_event(m)))
        m.unwatch(BASE + b"/w", b"tok")
        c2.write(BASE + b"/w/after", b"x")
        eq(None, next_event(m, 0.5))
        m.close()


@check
def t_watch_two_tokens_both_fire():
    with client() as c, client() as c2:
        m = c.monitor()
        m.watch(BASE + b"/w2", b"t1")
        m.watch(BASE + b"/w2", b"t2")
        got = {tuple(next_event(m)), tuple(next_event(m))}
        eq({(BASE + b"/w2", b"t1"), (BASE + b"/w2", b"t2")}, got)
        c2.write(BASE + b"/w2", b"1")
        got = {tuple(next_event(m)), tuple(next_event(m))}
        eq({(BASE + b"/w2", b"t1"), (BASE + b"/w2", b"t2")}, got)
        expect_error(errno.EEXIST, m.watch, BASE + b"/w2", b"t1")
        m.close()
        expect_error(errno.ENOENT, c.monitor().unwatch, BASE + b"/w2", b"t1")


@check
def t_watch_fires_on_commit_only():
    with client() as c, client() as c2:
        m = c.monitor()
        m.watch(BASE + b"/wt", b"tok")
        next_event(m)
        c2.transaction()
        c2.write(BASE + b"/wt/a", b"1")
        eq(None, next_event(m, 0.5))
        assert c2.commit()
        eq((BASE + b"/wt/a", b"tok"), tuple(next_event(m)))
        m.close()


@check
def t_transaction_commit_and_isolation():
    with client() as c, client() as c2:
        c.write(BASE + b"/tx", b"before")
        c.transaction()
        eq(b"before", c.read(BASE + b"/tx"))
        c.write(BASE + b"/tx", b"inside")
        eq(b"inside", c.read(BASE + b"/tx"))
        eq(b"before", c2.read(BASE + b"/tx"))   # not visible yet
        assert c.commit() is True
        eq(b"inside", c2.read(BASE + b"/tx"))


@check
def t_transaction_rollback():
    with client() as c:
        c.write(BASE + b"/rb", b"kept")
        c.transaction()
        c.write(BASE + b"/rb", b"dropped")
        c.write(BASE + b"/rb-new", b"dropped")
        c.rollback()
        eq(b"kept", c.read(BASE + b"/rb"))
        assert not c.exists(BASE + b"/rb-new")


@check
def t_transaction_conflict_EAGAIN_then_retry_commits():
    with client() as c, client() as c2:
        c.write(BASE + b"/counter", b"0")
        attempts = 0
        while True:
            attempts += 1
            c.transaction()
            n = int(c.read(BASE + b"/counter"))
            if attempts == 1:
                c2.write(BASE + b"/counter", b"10")   # conflicting write
            c.write(BASE + b"/counter", str(n + 1).encode())
            if c.commit():
                break
            if attempts == 1:
                continue        # the expected EAGAIN
            raise AssertionError("retry %d failed too" % attempts)
        eq(2, attempts)
        eq(b"11", c2.read(BASE + b"/counter"))


@check
def t_transaction_unknown_id_gives_ENOENT():
    with client() as c:
        c.tx_id = 4242
        try:
            expect_error(errno.ENOENT, c.read, BASE + b"/a")
        finally:
            c.tx_id = 0


@check
def t_get_domain_path():
    with client() as c:
        eq(b"/local/domain/0", c.get_domain_path(0))
        eq(b"/local/domain/7", c.get_domain_path(7))


@check
def t_is_domain_introduced_0():
    with client() as c:
        eq(True, c.is_domain_introduced(0))


if TARGET == "lxenstored":
    @check
    def t_socket_ro_reads_but_refuses_changes():
        ro = SOCK + "_ro"
        with client(ro) as r:
            eq(b"again", r.read(BASE + b"/a"))
            assert r.exists(BASE + b"/dir")
            eq([b"n0"], r.get_perms(BASE + b"/a"))
            expect_error(errno.EACCES, r.write, BASE + b"/a", b"x")
            expect_error(errno.EACCES, r.mkdir, BASE + b"/ro-dir")
            expect_error(errno.EACCES, r.delete, BASE + b"/a")
            expect_error(errno.EACCES, r.set_perms, BASE + b"/a", [b"b0"])
        with client() as c:
            eq(b"again", c.read(BASE + b"/a"))
            assert not c.exists(BASE + b"/ro-dir")

    @check
    def t_absolute_path_limit_3072():
        # pyxs checks lengths itself, so send the requests directly.
        with client() as c:
            ok = BASE + b"/" + b"p" * (3072 - len(BASE) - 1)
            eq(3072, len(ok))
            c.ack(Op.WRITE, ok + NUL, b"v")
            eq(b"v", c.read(ok))
            over = ok + b"q"
            expect_error(errno.EINVAL, c.ack, Op.WRITE, over + NUL, b"v")
            expect_error(errno.EINVAL, c.execute_command, Op.READ, over + NUL)
            c.delete(ok)

    @check
    def t_transaction_sibling_creation_does_not_conflict():
        # Both add a child to /sib. cxenstored aborts the transaction (the
        # parent changed); lxenstored tracks child lists apart from the
        # node and merges them (docs/PROTOCOL.md).
        with client() as c, client() as c2:
            c.write(BASE + b"/sib/a", b"1")
            c.transaction()
            eq(b"1", c.read(BASE + b"/sib/a"))
            c.write(BASE + b"/sib/mine", b"2")
            c2.write(BASE + b"/sib/theirs", b"3")
            eq(True, c.commit())
            eq([b"a", b"mine", b"theirs"], sorted(c2.list(BASE + b"/sib")))
            eq(b"2", c2.read(BASE + b"/sib/mine"))

with client() as c0:
    c0.delete(BASE)

print("compat-pyxs.py: %d passed, %d failed" % (len(passed), len(failed)))
sys.exit(1 if failed else 0)
