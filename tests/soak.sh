#!/usr/bin/env bash
# tests/soak.sh: the long run of issue 7 (long mode, not in make check).
#
#   tests/soak.sh [-m MINUTES] [-o DIR]      (from the build directory)
#
# One lxenstored (automatic snapshots every 20,000 records) under mixed
# load for MINUTES (default 30), in rounds of about a minute. Each round:
#   - 8 xsbench clients run the mixed workload (90% reads, 10% writes of
#     10,000 keys) for 40 s; every error reply counts;
#   - meanwhile a writer stores 2,000 numbered keys /soak/r<ROUND>/k<i>;
#   - in the middle of the load, the round's event: a live update (even
#     rounds) or a snapshot (odd rounds); every fifth round, after the
#     load, a SIGKILL and a restart instead;
#   - after it, every key of every round so far is read back, and the
#     daemon's RSS and the store's node count are noted.
# Pass: no error reply, no client dropped, every acknowledged key of every
# round there after every event, and memory flat: RSS per node after the
# last round within 15% of that after round 3 (the store grows by the
# 2,000 verification keys of each round). Prints one line per round and a verdict; writes
# DIR/rounds.tsv. Needs Debian's xenstore tools and Xen's xenstore-control.
set -u
set -o pipefail

MINUTES=30
OUT=
while getopts "m:o:h" opt; do
	case $opt in
	m) MINUTES=$OPTARG ;;
	o) OUT=$OPTARG ;;
	*) awk -f "$(dirname "$0")/../bench/usage.awk" "$0"; exit 2 ;;
	esac
done
LXS=$(pwd)/lxenstored
XSB=$(pwd)/bench/xsbench
XC=${XEN_BIN:-/usr/lib/xen-4.17/bin}/xenstore-control
for f in "$LXS" "$XSB" "$XC" /usr/bin/xenstore-write /usr/bin/xenstore-read; do
	[ -x "$f" ] || { echo "soak: $f not found (run from the build directory)" >&2; exit 2; }
done
[ -n "$OUT" ] || OUT=$(mktemp -d /tmp/lxs-soak.XXXXXX)
mkdir -p "$OUT"
export XENSTORED_PATH=$OUT/socket
STATE=$OUT/state
ARGS="--snapshot-records 20000"

die() { echo "soak: $*" >&2; exit 1; }
pid() { cat "$OUT/pid" 2>/dev/null; }
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$(pid)/status" 2>/dev/null; }

start() {
	# shellcheck disable=SC2086 # ARGS is a word list
	(exec "$LXS" --foreground --state-dir "$STATE" -F "$OUT/pid" $ARGS \
		>>"$OUT/daemon.log" 2>&1 </dev/null &)
	for _ in $(seq 200); do
		/usr/bin/xenstore-read / >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	die "the daemon does not answer (log: $OUT/daemon.log)"
}
trap 'kill "$(pid)" 2>/dev/null' EXIT

# write_round R: 2,000 keys; prints how many were acknowledged.
write_round() {
	python3 - "$XENSTORED_PATH" "$1" <<'PY'
import socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
r, ok, buf = int(sys.argv[2]), 0, b''
for i in range(2000):
    p = b'/soak/r%d/k%d\0v%d-%d' % (r, i, r, i)
    s.sendall(struct.pack('<IIII', 11, i + 1, 0, len(p)) + p)
    while True:
        while len(buf) < 16:
            buf += s.recv(4096)
        t, rid, tx, n = struct.unpack('<IIII', buf[:16])
        while len(buf) < 16 + n:
            buf += s.recv(4096)
        buf = buf[16 + n:]
        if t != 15:
            break
    ok += t == 11
print(ok)
PY
}

# verify_upto R: how many keys of rounds 1..R read back right.
verify_upto() {
	python3 - "$XENSTORED_PATH" "$1" <<'PY'
import socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
good, buf, rid = 0, b'', 0
for r in range(1, int(sys.argv[2]) + 1):
    for i in range(2000):
        rid += 1
        p = b'/soak/r%d/k%d\0' % (r, i)
        s.sendall(struct.pack('<IIII', 2, rid, 0, len(p)) + p)
        while len(buf) < 16:
            buf += s.recv(65536)
        t, _, _, n = struct.unpack('<IIII', buf[:16])
        while len(buf) < 16 + n:
            buf += s.recv(65536)
        good += t == 2 and buf[16:16 + n] == b'v%d-%d' % (r, i)
        buf = buf[16 + n:]
print(good)
PY
}

start
"$XSB" -w prefill -n 10000 >/dev/null || die "prefill failed"
rounds=$(( (MINUTES * 60 + 59) / 60 ))
fail=0 rss3=0 nodes3=1
printf 'round\tevent\tmixed_ops\terrors\tacked\tverified\texpected\trss_kb\tnodes\n' >"$OUT/rounds.tsv"
for r in $(seq 1 "$rounds"); do
	event=snapshot
	[ $((r % 2)) -eq 0 ] && event=live-update
	[ $((r % 5)) -eq 0 ] && event=kill-restart
	"$XSB" -t -w mixed -c 8 -n 10000 -d 40 -W 0 >"$OUT/mixed.tsv" 2>>"$OUT/xsbench.err" &
	load=$!
	acked=$(write_round "$r")
	sleep 10
	case $event in
	snapshot) "$XC" snapshot >/dev/null 2>&1 || true ;;
	live-update) "$XC" live-update -t 60 "$LXS" >>"$OUT/lu.log" 2>&1 ||
		{ echo "round $r: live update failed: $(tail -1 "$OUT/lu.log")"; fail=1; } ;;
	esac
	wait "$load"
	if [ "$event" = kill-restart ]; then
		kill -KILL "$(pid)"
		sleep 0.5
		start
	fi
	ops=$(cut -f7 "$OUT/mixed.tsv")
	errors=$(cut -f17 "$OUT/mixed.tsv")
	verified=$(verify_upto "$r")
	nodes=$("$XC" status 2>/dev/null | awk '$1 == "nodes:" { print $2 }')
	kb=$(rss)
	[ "$r" -eq 3 ] && rss3=$kb && nodes3=$nodes
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$event" "${ops:-?}" \
		"${errors:-?}" "$acked" "$verified" $((r * 2000)) "$kb" "${nodes:-?}" |
		tee -a "$OUT/rounds.tsv"
	if [ "${errors:-1}" != 0 ] || [ "$acked" != 2000 ] ||
	    [ "$verified" != $((r * 2000)) ]; then
		fail=1
	fi
done
if [ "$rss3" -gt 0 ]; then
	per3=$((rss3 * 1024 / nodes3)) per=$((kb * 1024 / nodes))
	echo "RSS per node: $per3 B after round 3, $per B after round $rounds"
	[ "$per" -le $((per3 * 115 / 100)) ] || fail=1
fi
[ $fail -eq 0 ] && echo "soak: passed ($rounds rounds; $OUT)" ||
	echo "soak: FAILED ($OUT)"
exit $fail
