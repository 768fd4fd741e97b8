# shellcheck shell=bash
# tests/e2e/hostile-lib.sh: helpers of the hostile-*.sh tests (sourced).
#
# Hostile clients (issue 7, part 4) against our own daemon: each test
# starts ./lxenstored, measures a well-behaved client's latency before and
# under the hostile load, bounds the daemon's memory growth, and checks
# that every acknowledged change is still there, also after a SIGKILL and
# a restart on the same state directory.
#
# Builds on server-lib.sh (lib.sh, rawclient, lxs_vm). Adds:
#   hs_start                 start the daemon, write the client to $HS_PY
#   hs [CMD ARGS...]         the hostile client (below) on $XENSTORED_PATH
#   hs_bg OUT CMD ARGS...    the same in the background, niced (the load
#                            should compete with the daemon, not starve
#                            the probe of CPU), pid in $HS_BG; waits until
#                            it prints "ready" or "done" (or exits)
#   hs_mem_begin             reset the daemon's peak RSS; remember VmRSS
#   hs_mem_check NAME KB     the peak grew by less than KB since
#                            hs_mem_begin
#   hs_latency NAME PID      a probe client's median latency while PID runs
#                            is at most HS_LATENCY_FACTOR (2 in long mode,
#                            10 in make check) times its baseline, or
#                            (make check) under HS_LATENCY_FLOOR_US;
#                            baseline and load are measured in
#                            alternating rounds (PID is stopped with
#                            SIGSTOP for the baseline ones), so a machine
#                            that slows down meanwhile affects both
#   hs_latency_idle NAME BASE  the same for a load that is only held state
#                            (half-sent messages, unread replies): median
#                            now against BASE, measured before with
#                            "hs probe 200 3"
#   hs_latency_known NAME BASE WHY  the same, for a known problem (xfail)
#   hs_restart               SIGKILL the daemon, start it again on the
#                            same state directory (recovery)
#   hs_fds                   the daemon's open file descriptors
#   hs_fds_settled           the same, once earlier connections are gone
#   hs_fds_back NAME N       check that they are back to N (within 10 s)
#
# Client commands (hs CMD ...; all print one line of results):
#   probe N [K]                 median latency (us) of N sequential READs
#                               (the lowest of K such medians)
#   ab PID ROUNDS N             "BASE LOAD" medians, PID stopped for BASE
#   write PREFIX N [LEN]        N pipelined WRITEs PREFIX/<i>; acks count
#   writefor PREFIX SECS [WINDOW]  pipelined WRITEs for SECS s (WINDOW in
#                               flight, default 64): "ACKED SENT"
#   verify PREFIX N             how many PREFIX/<i> read back right
#   watches PATHFMT N TOKLEN    one connection registers N watches (%d in
#                               PATHFMT is the index); holds it: "ready"
#   watchers N PATH TOKLEN      N connections watch PATH, then never read
#   listen PATH N [SECS]        one reading watcher: "done EVENTS" after N
#                               events (0: after SECS s without one)
#   nonreaders N PATH COUNT     N connections send COUNT READs of PATH and
#                               never read a reply
#   halfsent N                  N connections each send half a message
#   hog N                       N connections that send nothing
#   txns N PREFIX               one connection opens N transactions, one
#                               WRITE PREFIX/<i> in each, never ends them
#   churn N                     N connections that come and go (see churn)
#   deep PREFIX [txn]           a node as deep as the 3072-byte limit allows
#                               (in a transaction): "LEN LEVELS OK"
#   rmtxn PATH                  RM in a committed transaction
#   counts                      "NODES WATCHES TRANSACTIONS" of the store
#   dirpart PATH                the children listed by DIRECTORY_PART pages
#   storm PATHFMT N SECS [EXPECT]  one reading connection with N watches
#                               on PATHFMT: "done EVENTS" once none came
#                               for SECS s (with EXPECT: once EXPECT came
#                               and then none for 0.3 s)
#   watchcount                  the store's watches (CONTROL memreport)
#   check                       CONTROL check
#   hold                        (after another command) keep connections
#                               open until killed

# shellcheck source=tests/e2e/server-lib.sh
. "$(dirname "$0")/server-lib.sh"

# The latency bound of issue 7 is 2x. It is a performance figure, and a
# noisy or busy machine (make -j2 runs other tests beside this one) moves
# medians by more than that, so `make check` holds latency to 10x (which
# still catches a starved client) and long mode (LXS_TEST_LONG=1, quiet
# machine) to 2x. Memory bounds are checked strictly in both.
# make check also accepts any median under HS_LATENCY_FLOOR_US (2 ms): on
# a loaded machine a 20 us median can become 260 us for reasons that have
# nothing to do with the daemon, while a starved client waits far longer.
if [ "${LXS_TEST_LONG:-0}" = 1 ]; then
	HS_LATENCY_FACTOR=${HS_LATENCY_FACTOR:-2}
	HS_LATENCY_FLOOR_US=${HS_LATENCY_FLOOR_US:-0}
else
	HS_LATENCY_FACTOR=${HS_LATENCY_FACTOR:-10}
	HS_LATENCY_FLOOR_US=${HS_LATENCY_FLOOR_US:-2000}
fi
# Under AddressSanitizer freed memory sits in a quarantine and would count
# as growth.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0
# The memory bounds are in kB: the heap on small pages (on huge pages RSS
# moves in 2 MiB steps; server/hugepages.c).
export LXS_HUGE_PAGES=0

hs() {
	"$LXS_PYTHON" "$HS_PY" "$XENSTORED_PATH" "$@"
}

hs_bg() {
	_out=$1
	shift
	nice -n 10 "$LXS_PYTHON" "$HS_PY" "$XENSTORED_PATH" "$@" >"$_out" 2>&1 &
	HS_BG=$!
	_i=0
	while ! grep -q -E '^(ready|done)' "$_out" 2>/dev/null; do
		kill -0 "$HS_BG" 2>/dev/null || break
		_i=$((_i + 1))
		[ $_i -le 600 ] || { fail "$* did not get ready"; break; }
		sleep 0.05
	done
	return 0
}

hs_mem_begin() {
	echo 5 >"/proc/$LXS_DAEMON_PID/clear_refs" 2>/dev/null
	HS_RSS0=$(lxs_vm "$LXS_DAEMON_PID" VmRSS)
}

hs_mem_check() {
	if lxs_valgrind; then
		ok "$1: not judged under valgrind"
		return
	fi
	_hwm=$(lxs_vm "$LXS_DAEMON_PID" VmHWM)
	_grew=$((_hwm - HS_RSS0))
	lxs_log "# $1: daemon RSS $HS_RSS0 kB, peak $_hwm kB (+$_grew kB, bound $2 kB)"
	if [ "$_grew" -lt "$2" ]; then
		ok "$1: peak RSS grew $_grew kB (< $2 kB)"
	else
		fail "$1: peak RSS grew $_grew kB (bound $2 kB)"
	fi
}

# hs_ratio_ok BASE LOAD: LOAD <= factor * BASE or under the floor
# (integers, microseconds); always under valgrind, which slows the daemon
# by far more than that.
hs_bound() {
	printf '%sx %s us' "$HS_LATENCY_FACTOR" "$1"
	[ "$HS_LATENCY_FLOOR_US" -gt 0 ] && printf ' or %s us' "$HS_LATENCY_FLOOR_US"
}

hs_ratio_ok() {
	lxs_valgrind || [ "$2" -le $(($1 * HS_LATENCY_FACTOR)) ] ||
		[ "$2" -lt "$HS_LATENCY_FLOOR_US" ]
}

hs_latency() {
	if lxs_valgrind; then
		ok "$1: latency not judged under valgrind"
		return
	fi
	_r=$(hs ab "$2" "${HS_ROUNDS:-4}" 150) ||
		{ fail "$1: latency probe failed: $_r"; return; }
	set -- "$1" $_r
	if [ "$4" = 0 ]; then
		ok "$1: the load ended before its latency could be measured"
		return
	fi
	lxs_log "# $1: probe median ${2} us idle, ${3} us under load ($4 rounds)"
	if hs_ratio_ok "$2" "$3"; then
		ok "$1: median latency ${3} us, within $(hs_bound "$2")"
	else
		fail "$1: median latency ${3} us, beyond $(hs_bound "$2")"
	fi
}

hs_latency_idle() {
	_now=$(hs probe 200 3)
	lxs_log "# $1: probe median $2 us before, $_now us with the load held"
	if hs_ratio_ok "$2" "$_now"; then
		ok "$1: median latency $_now us, within $(hs_bound "$2")"
	else
		fail "$1: median latency $_now us, beyond $(hs_bound "$2")"
	fi
}

# hs_latency_known NAME BASE WHY: as hs_latency_idle, for a load that is
# known to break the bound (WHY: the problem, in docs/SECURITY.md). It is
# reported, not failed; once the bound holds, the test fails until the
# mark is removed.
hs_latency_known() {
	_now=$(hs probe 200 3)
	lxs_log "# $1: probe median $2 us before, $_now us with the load held"
	if [ "${LXS_TEST_LONG:-0}" != 1 ]; then
		ok "$1: median latency $_now us against $2 us (known: $3; judged in long mode)"
	elif hs_ratio_ok "$2" "$_now"; then
		fail "$1: median latency $_now us <= ${HS_LATENCY_FACTOR}x $2 us: the known problem is gone, turn this into hs_latency_idle"
	else
		ok "$1: median latency $_now us > ${HS_LATENCY_FACTOR}x $2 us (xfail, known: $3)"
	fi
}

hs_fds() {
	ls "/proc/$LXS_DAEMON_PID/fd" | wc -l
}

# hs_fds_settled: the daemon's descriptors once the connections of
# earlier commands are gone (the least of a few samples).
hs_fds_settled() {
	_min=$(hs_fds)
	for _i in 1 2 3 4 5; do
		sleep 0.1
		_n=$(hs_fds)
		[ "$_n" -lt "$_min" ] && _min=$_n
	done
	echo "$_min"
}

# hs_fds_back NAME N: the daemon is back to N descriptors or fewer
# (within 10 s).
hs_fds_back() {
	_i=0
	while [ "$(hs_fds)" -gt "$2" ] && [ $_i -lt 100 ]; do
		_i=$((_i + 1))
		sleep 0.1
	done
	_n=$(hs_fds)
	if [ "$_n" -le "$2" ]; then
		ok "$1 ($_n descriptors)"
	else
		fail "$1: $_n descriptors, $2 before"
	fi
}

hs_restart() {
	kill -KILL "$LXS_DAEMON_PID"
	wait "$LXS_DAEMON_PID" 2>/dev/null
	_daemon=${LXS_DAEMON:-$top_builddir/lxenstored}
	# shellcheck disable=SC2086 # LXS_DAEMON_ARGS is a list of words
	(cd "$LXS_TMP" && exec "$_daemon" --foreground \
		--state-dir="$LXS_TMP/state" ${LXS_DAEMON_ARGS:-}) \
		>>"$LXS_TMP/daemon.log" 2>&1 </dev/null &
	LXS_DAEMON_PID=$!
	_i=0
	until [ -S "$XENSTORED_PATH" ] && lxs_answers; do
		kill -0 "$LXS_DAEMON_PID" 2>/dev/null ||
			lxs_error "the daemon did not restart"
		_i=$((_i + 1))
		[ $_i -le 200 ] || lxs_error "the daemon did not answer after a restart"
		sleep 0.1
	done
}

hs_start() {
	[ -x "$LXS_PYTHON" ] || lxs_skip "$LXS_PYTHON not found"
	lxs_start_own
	HS_PY=$LXS_TMP/hostile.py
	hs_write_client >"$HS_PY"
	hs write /hostile/probe 1 >/dev/null
}

# Under valgrind the daemon is slower by far than rawclient's 10 s wait
# allows with hundreds of hostile clients: wait 2 minutes.
if lxs_valgrind; then
	raw() {
		"$LXS_RAWCLIENT" -w 120 "$XENSTORED_PATH" "$@"
	}
fi

# The client, in Debian's python3 (standard library only).
hs_write_client() {
	cat <<'EOF'
import os, signal, socket, struct, sys, time

T = dict(CONTROL=0, DIRECTORY=1, READ=2, WATCH=4, TRANSACTION_START=6,
         TRANSACTION_END=7, WRITE=11, RM=13, WATCH_EVENT=15, ERROR=16,
         DIRECTORY_PART=22)
SOCK = sys.argv[1]
held = []


class Conn:
    def __init__(self):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(SOCK)
        self.buf = b''
        self.req = 0
        self.events = 0

    def send(self, typ, payload, tx=0):
        self.req += 1
        self.s.sendall(struct.pack('<IIII', T[typ], self.req, tx,
                                   len(payload)) + payload)

    def _read(self, n):
        while len(self.buf) < n:
            d = self.s.recv(65536)
            if not d:
                raise EOFError('connection closed')
            self.buf += d
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def msg(self):
        typ, req, tx, n = struct.unpack('<IIII', self._read(16))
        return typ, self._read(n)

    def reply(self):
        while True:
            typ, p = self.msg()
            if typ != T['WATCH_EVENT']:
                return typ, p
            self.events += 1

    def call(self, typ, payload, tx=0):
        self.send(typ, payload, tx)
        return self.reply()

    def pipeline(self, msgs, window=64):
        """Sends (type, payload, tx) messages with up to window in flight."""
        out, inflight = [], 0
        for m in msgs:
            if inflight == window:
                out.append(self.reply())
                inflight -= 1
            self.send(*m)
            inflight += 1
        while inflight:
            out.append(self.reply())
            inflight -= 1
        return out


def ok(r):
    return r[0] != T['ERROR']


def probe(n, c=None):
    c = c or Conn()
    lat = []
    for _ in range(n):
        t0 = time.perf_counter()
        c.call('READ', b'/hostile/probe/0\0')
        lat.append(time.perf_counter() - t0)
    return lat


def median_us(v):
    v = sorted(v)
    return int(v[len(v) // 2] * 1e6)


def hold():
    print('ready', flush=True)
    signal.signal(signal.SIGTERM, lambda *a: os._exit(0))
    while True:
        time.sleep(3600)


def main(cmd, a):
    if cmd == 'probe':
        # The lowest median of K batches: a passing hiccup of the machine
        # spoils one batch, not the result.
        n, k = int(a[0]), int(a[1]) if len(a) > 1 else 1
        c = Conn()
        probe(50, c)
        res = []
        for _ in range(k):
            res.append(median_us(probe(n, c)))
            time.sleep(0.05)
        print(min(res))
    elif cmd == 'ab':
        # Alternating rounds: the load stopped (SIGSTOP), then running.
        # Rounds after the load has finished are not counted.
        pid, rounds, n = int(a[0]), int(a[1]), int(a[2])
        c, base, load, done = Conn(), [], [], 0
        probe(50, c)
        for _ in range(rounds):
            try:
                os.kill(pid, signal.SIGSTOP)
                time.sleep(0.1)
                b = probe(n, c)
                os.kill(pid, signal.SIGCONT)
                time.sleep(0.1)
                l = probe(n, c)
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            base += b
            load += l
            done += 1
        if done == 0:
            print(0, 0, 0)  # the load ended before a round was measured
        else:
            print(median_us(base), median_us(load), done)
    elif cmd == 'write':
        prefix, n = a[0].encode(), int(a[1])
        ln = int(a[2]) if len(a) > 2 else 0
        r = Conn().pipeline(('WRITE', b'%s/%d\0v%d%s' % (prefix, i, i,
                                                          b'x' * ln), 0)
                            for i in range(n))
        print(sum(1 for x in r if ok(x)))
    elif cmd == 'writefor':
        # Pipelined WRITEs PREFIX/<i mod 1000> for SECS seconds, at most
        # WINDOW (default 64) in flight.
        prefix, secs = a[0].encode(), float(a[1])
        window = int(a[2]) if len(a) > 2 else 64
        end, n = time.monotonic() + secs, [0]

        def gen():
            while time.monotonic() < end:
                yield ('WRITE', b'%s/%d\0x' % (prefix, n[0] % 1000), 0)
                n[0] += 1
        r = Conn().pipeline(gen(), window)
        print(sum(1 for x in r if ok(x)), n[0])
    elif cmd == 'verify':
        prefix, n = a[0].encode(), int(a[1])
        ln = int(a[2]) if len(a) > 2 else 0
        r = Conn().pipeline(('READ', b'%s/%d\0' % (prefix, i), 0)
                            for i in range(n))
        print(sum(1 for i, x in enumerate(r)
                  if x == (T['READ'], b'v%d%s' % (i, b'x' * ln))))
    elif cmd == 'watches':
        fmt, n, tl = a[0], int(a[1]), int(a[2])
        c = Conn()
        held.append(c)
        r = c.pipeline(('WATCH', (fmt.replace('%d', str(i)) + '\0' +
                                  't' * tl + '%d\0' % i).encode(), 0)
                       for i in range(n))
        print('ready', sum(1 for x in r if ok(x)), flush=True)
        hold()
    elif cmd == 'watchers':
        n, path, tl = int(a[0]), a[1].encode(), int(a[2])
        for i in range(n):
            c = Conn()
            c.call('WATCH', path + b'\0' + b't' * tl + b'%d\0' % i)
            c.msg()  # the initial event; nothing more is read
            held.append(c)
        hold()
    elif cmd == 'listen':
        # Counts events until N (0: until none came for SECS seconds).
        path, n = a[0].encode(), int(a[1])
        secs = float(a[2]) if len(a) > 2 else 30
        c = Conn()
        c.call('WATCH', path + b'\0tok\0')
        c.msg()
        print('ready', flush=True)
        c.s.settimeout(secs)
        got = 0
        try:
            while n == 0 or got < n:
                typ, p = c.msg()
                got += typ == T['WATCH_EVENT']
        except (socket.timeout, EOFError):
            pass
        print('done', got, flush=True)
    elif cmd == 'nonreaders':
        n, path, count = int(a[0]), a[1].encode(), int(a[2])
        for i in range(n):
            c = Conn()
            c.s.setblocking(False)
            data = b''.join(struct.pack('<IIII', T['READ'], j, 0,
                                        len(path) + 1) + path + b'\0'
                            for j in range(count))
            try:
                while data:
                    data = data[c.s.send(data):]
            except BlockingIOError:
                pass  # the daemon stopped reading: as intended
            held.append(c)
        hold()
    elif cmd == 'halfsent':
        n = int(a[0])
        for i in range(n):
            c = Conn()
            if i % 3 == 0:  # half a header
                c.s.sendall(struct.pack('<IIII', T['WRITE'], 1, 0, 100)[:9])
            else:           # a whole header, part of the payload
                c.s.sendall(struct.pack('<IIII', T['WRITE'], 1, 0, 4096) +
                            b'/hostile/half/%d\0' % i + b'x' * (i % 2000))
            held.append(c)
        hold()
    elif cmd == 'hog':
        # N connections, nothing sent; connects that cannot get into the
        # listen queue within 3 s are given up (the daemon is not
        # accepting: at its file limit).
        import resource
        n, got = int(a[0]), 0
        deadline = time.monotonic() + 3
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < n + 64 and (hard == resource.RLIM_INFINITY or hard > soft):
            want = n + 64 if hard == resource.RLIM_INFINITY else \
                min(hard, n + 64)
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        for i in range(n):
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            except OSError:
                break  # out of descriptors here: as many as we could
            s.setblocking(False)
            # The listen queue may be full for a moment: retry, within
            # 3 s for all of them.
            while True:
                try:
                    s.connect(SOCK)
                    got += 1
                    break
                except (BlockingIOError, InterruptedError):
                    if time.monotonic() > deadline:
                        break
                    time.sleep(0.001)
            held.append(s)
        print('ready', got, flush=True)
        hold()
    elif cmd == 'txns':
        n, prefix = int(a[0]), a[1].encode()
        c = Conn()
        held.append(c)
        ids = [int(p[:-1]) for typ, p in
               c.pipeline(('TRANSACTION_START', b'\0', 0) for _ in range(n))]
        r = c.pipeline(('WRITE', b'%s/%d\0v' % (prefix, i), ids[i])
                       for i in range(n))
        print('ready', len(ids), sum(1 for x in r if ok(x)), flush=True)
        hold()
    elif cmd == 'churn':
        # Connections that come and go: plain, half a header, half a
        # payload, a watch and an open transaction with a change, replies
        # never read. None of it may stay behind.
        n, done = int(a[0]), 0
        for i in range(n):
            c = Conn()
            k = i % 5
            if k == 1:
                c.s.sendall(struct.pack('<IIII', T['READ'], 1, 0, 20)[:7])
            elif k == 2:
                c.s.sendall(struct.pack('<IIII', T['WRITE'], 1, 0, 4000) +
                            b'/hostile/churn\0' + b'y' * 1000)
            elif k == 3:
                c.call('WATCH', b'/hostile/churn\0t%d\0' % i)
                typ, p = c.call('TRANSACTION_START', b'\0')
                c.call('WRITE', b'/hostile/churn/uncommitted\0x',
                       int(p[:-1]))
            elif k == 4:
                for j in range(20):
                    c.send('READ', b'/hostile/probe/0\0')
            c.s.close()
            done += 1
        print(done)
    elif cmd == 'deep':
        # PREFIX/d/d/... up to 3072 bytes, in one WRITE (implicit
        # parents); with "txn", inside a committed transaction.
        path = a[0]
        while len(path) + 2 <= 3072:
            path += '/d'
        c, tx = Conn(), 0
        if len(a) > 1 and a[1] == 'txn':
            tx = int(c.call('TRANSACTION_START', b'\0')[1][:-1])
        r = c.call('WRITE', path.encode() + b'\0deep', tx)
        if tx and ok(r):
            r = c.call('TRANSACTION_END', b'T\0', tx)
        print(len(path), path.count('/'), 'OK' if ok(r) else r[1])
    elif cmd == 'rmtxn':
        c = Conn()
        tx = int(c.call('TRANSACTION_START', b'\0')[1][:-1])
        r = c.call('RM', a[0].encode() + b'\0', tx)
        if ok(r):
            r = c.call('TRANSACTION_END', b'T\0', tx)
        print('OK' if ok(r) else r[1])
    elif cmd == 'counts':
        # nodes, watches, transactions from CONTROL memreport
        r = Conn().call('CONTROL', b'memreport\0')[1].decode()
        f = r.split('\n')[0].replace(',', '').split()
        print(f[1], f[6], f[8])
    elif cmd == 'dirpart':
        c, names, off, gen = Conn(), [], 0, None
        while True:
            typ, p = c.call('DIRECTORY_PART', a[0].encode() + b'\0%d\0' % off)
            if not ok((typ, p)):
                print('error', p)
                return
            g, rest = p.split(b'\0', 1)
            if gen is not None and g != gen:
                print('changed')
                return
            gen = g
            part = rest.split(b'\0')
            end = rest.endswith(b'\0\0') or rest == b'\0'
            part = [x for x in part if x]
            names += part
            off += sum(len(x) + 1 for x in part)
            if end:
                break
        print(len(names))
    elif cmd == 'watchcount':
        # The store's watch count, from CONTROL memreport.
        r = Conn().call('CONTROL', b'memreport\0')[1].decode()
        print(r.split(' watches')[0].rsplit(' ', 1)[1])
    elif cmd == 'storm':
        # One reading connection: N watches on PATHFMT (%d: the index;
        # tokens s<i>), then counts events until none came for SECS s,
        # or, given EXPECT, until EXPECT came and then none for 0.3 s
        # (a busy machine may pause this client for seconds; an extra
        # event is still seen).
        fmt, n, secs = a[0], int(a[1]), float(a[2])
        expect = int(a[3]) if len(a) > 3 else 0
        c = Conn()
        r = c.pipeline(('WATCH', (fmt.replace('%d', str(i)) +
                                  '\0s%d\0' % i).encode(), 0)
                       for i in range(n))
        while c.events < n:
            c.msg()
            c.events += 1
        print('ready', sum(1 for x in r if ok(x)), flush=True)
        c.s.settimeout(secs)
        got = 0
        try:
            while True:
                typ, p = c.msg()
                got += typ == T['WATCH_EVENT']
                if expect and got >= expect:
                    c.s.settimeout(0.3)
        except (socket.timeout, EOFError):
            pass
        print('done', got, flush=True)
    elif cmd == 'check':
        print(Conn().call('CONTROL', b'check\0')[1].rstrip(b'\0').decode())
    else:
        raise SystemExit('unknown command ' + cmd)
    if a and a[-1] == 'hold':
        hold()


main(sys.argv[2], sys.argv[3:])
EOF
}
