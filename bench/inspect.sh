#!/usr/bin/env bash
# bench/inspect.sh: how long lxenstore-inspect takes on a large store
# (issue 6: `stat` and `verify` of a 1,000,000-node snapshot in under 1 s;
# `ls` streams, so its memory does not grow with what it prints).
#
#   bench/inspect.sh [-n KEYS] [-R RECORDS] [-r REPS] [-o DIR]
#
#   -n KEYS     nodes written by xsbench's prefill (default 1000000)
#   -R RECORDS  log records written after the snapshot, for the runs
#               "with a log tail" (default 100000; 0 skips them)
#   -r REPS     runs of each command; the median is reported (default 5)
#   -o DIR      where the state directory and results go
#               (default /tmp/xsbench-inspect-DATE)
#
# A private lxenstored (automatic snapshots off) is filled, snapshotted
# with `xenstore-control snapshot` and stopped; every command then runs
# offline on the state directory. Each run is timed with /usr/bin/time:
# wall seconds, user + system CPU seconds, peak RSS. Prints a Markdown
# table and writes results.tsv (command, run, wall, cpu, rss_kb) in DIR.
# Environment: LXENSTORED (the daemon; its directory also gives
# lxenstore-inspect and xenstore-control), XSBENCH.
# shellcheck disable=SC2086 # word lists split on purpose
set -u
set -o pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
KEYS=1000000
RECORDS=100000
REPS=5
OUT=/tmp/xsbench-inspect-$(date +%Y%m%d-%H%M%S)
while getopts "n:R:r:o:h" opt; do
	case $opt in
	n) KEYS=$OPTARG ;;
	R) RECORDS=$OPTARG ;;
	r) REPS=$OPTARG ;;
	o) OUT=$OPTARG ;;
	*) awk -f "$(dirname "$0")/usage.awk" "$0"; exit 2 ;;
	esac
done

LXS=${LXENSTORED:-$TOP/lxenstored}
BIN=$(dirname "$LXS")
INSPECT=$BIN/lxenstore-inspect
CTL=$BIN/xenstore-control
XSB=${XSBENCH:-$TOP/bench/xsbench}
for f in "$LXS" "$INSPECT" "$CTL" "$XSB" /usr/bin/time; do
	[ -x "$f" ] || { echo "bench/inspect.sh: $f not found (build first)" >&2; exit 1; }
done

die() { echo "bench/inspect.sh: $*" >&2; exit 1; }
say() { echo "$(date +%H:%M:%S) $*" >&2; }

mkdir -p "$OUT" || die "cannot create $OUT"
STATE=$OUT/state
SOCK=$OUT/socket
rm -rf "$STATE"
export XENSTORED_PATH=$SOCK
PID=
stop() {
	[ -n "$PID" ] || return 0
	kill -TERM "$PID" 2>/dev/null
	while kill -0 "$PID" 2>/dev/null; do sleep 0.05; done
	PID=
}
trap stop EXIT

NOSNAP="--snapshot-records 0 --snapshot-log-bytes 0 --snapshot-interval 0"
start() {
	read -r PID _ < <("$XSB" -w start -s "$SOCK" -d 120 -f "$OUT/daemon.log" -- \
		"$LXS" -N --state-dir "$STATE" $NOSNAP) || true
	[ -n "$PID" ] || die "the daemon did not start: $(tail -3 "$OUT/daemon.log")"
}

# Takes a snapshot and waits until no snapshot is being written.
snapshot() {
	"$CTL" snapshot >/dev/null || die "xenstore-control snapshot failed"
	for _ in $(seq 6000); do
		"$CTL" status | grep -q '^snapshot:.*writing' || return 0
		sleep 0.02
	done
	die "the snapshot did not finish"
}

: >"$OUT/results.tsv"
# timed LABEL CMD...: REPS runs of CMD (stdout to /dev/null).
timed() {
	local label=$1 i
	shift
	for i in $(seq "$REPS"); do
		/usr/bin/time -f '%e %U %S %M' -o "$OUT/time.txt" "$@" >/dev/null \
			2>"$OUT/cmd.err" || die "$label failed: $(head -3 "$OUT/cmd.err")"
		read -r wall user sys rss <"$OUT/time.txt"
		awk -v l="$label" -v i="$i" -v w="$wall" -v u="$user" -v s="$sys" \
			-v r="$rss" 'BEGIN { printf "%s\t%d\t%s\t%.2f\t%s\n", l, i, w, u + s, r }' \
			>>"$OUT/results.tsv"
	done
}

say "filling $KEYS keys"
start
"$XSB" -w prefill -s "$SOCK" -n "$KEYS" >/dev/null || die "prefill failed"
snapshot
stop
snap=$(find "$STATE" -name 'snap-*.lxs' -printf '%s %p\n' | sort -n | tail -1)
say "snapshot: ${snap% *} bytes"

I="$INSPECT --state-dir $STATE"
say "timing stat, verify, ls (snapshot only, $REPS runs each)"
timed "stat" $I stat
timed "verify" $I verify
timed "ls /" $I ls /
timed "ls /bench/n/d0" $I ls /bench/n/d0

if [ "$RECORDS" -gt 0 ]; then
	say "adding $RECORDS log records after the snapshot"
	start
	"$XSB" -w write -s "$SOCK" -c 1 -p 16 -n "$KEYS" -N "$RECORDS" -d 600 -W 0 \
		>/dev/null || die "writing the log tail failed"
	stop
	timed "stat + $RECORDS log records" $I stat
	timed "verify + $RECORDS log records" $I verify
fi

{
	echo "| command ($KEYS nodes) | wall s (median) | CPU s (median) | peak RSS MiB |"
	echo "| --- | ---: | ---: | ---: |"
	awk -F'\t' '
	{ n[$1]++; w[$1, n[$1]] = $3; c[$1, n[$1]] = $4
	  if ($5 > r[$1]) r[$1] = $5
	  if (!($1 in seen)) { seen[$1] = 1; order[++k] = $1 } }
	function med(a, l, m,   i, j, t, v) {
		for (i = 1; i <= m; i++) v[i] = a[l, i]
		for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++)
			if (v[j] + 0 < v[i] + 0) { t = v[i]; v[i] = v[j]; v[j] = t }
		return v[int((m + 1) / 2)]
	}
	END { for (i = 1; i <= k; i++) { l = order[i]
		printf "| %s | %.2f | %.2f | %.0f |\n", l, med(w, l, n[l]),
			med(c, l, n[l]), r[l] / 1024 } }' "$OUT/results.tsv"
} | tee "$OUT/summary.md"
