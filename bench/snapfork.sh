#!/usr/bin/env bash
# bench/snapfork.sh: how long the loop stops for the fork() of a snapshot
# child, with the heap on small pages (the default) and on huge pages
# (LXS_HUGE_PAGES=1, server/hugepages.c). Each round takes a snapshot of a
# private lxenstored with KEYS nodes while strace times the daemon's
# clone/fork system calls.
#
#   bench/snapfork.sh [-n KEYS] [-r ROUNDS] [-o DIR]
#
#   -n KEYS    nodes written by xsbench's prefill (default 1000000)
#   -r ROUNDS  snapshots per mode (default 5)
#   -o DIR     state directories (default a new /tmp dir)
#
# Prints one line per snapshot: mode, fork seconds, daemon RSS.
# Environment: LXENSTORED (its directory also gives xenstore-control),
# XSBENCH. Needs strace.
# shellcheck disable=SC2086 # word lists split on purpose
set -u
set -o pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
KEYS=1000000
ROUNDS=5
OUT=
while getopts "n:r:o:h" opt; do
	case $opt in
	n) KEYS=$OPTARG ;;
	r) ROUNDS=$OPTARG ;;
	o) OUT=$OPTARG ;;
	*) awk -f "$(dirname "$0")/usage.awk" "$0"; exit 2 ;;
	esac
done
LXS=${LXENSTORED:-$TOP/lxenstored}
CTL=$(dirname "$LXS")/xenstore-control
XSB=${XSBENCH:-$TOP/bench/xsbench}
for f in "$LXS" "$CTL" "$XSB"; do
	[ -x "$f" ] || { echo "bench/snapfork.sh: $f not found (build first)" >&2; exit 1; }
done
command -v strace >/dev/null || { echo "bench/snapfork.sh: strace not found" >&2; exit 1; }
[ -n "$OUT" ] || OUT=$(mktemp -d /tmp/xsbench-snapfork.XXXXXX)

PID=
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null' EXIT
for mode in small huge; do
	d=$OUT/$mode
	rm -rf "$d"
	mkdir -p "$d"
	hp=1
	[ $mode = small ] && hp=0
	read -r PID _ < <(env LXS_HUGE_PAGES=$hp "$XSB" -w start -s "$d/socket" -d 60 \
		-f "$d/daemon.log" -- env XENSTORED_PATH="$d/socket" "$LXS" -N \
		--state-dir "$d/state" --snapshot-records 0 --snapshot-log-bytes 0 \
		--snapshot-interval 0) || true
	[ -n "$PID" ] || { echo "bench/snapfork.sh: the daemon did not start" >&2; exit 1; }
	"$XSB" -w prefill -s "$d/socket" -n "$KEYS" >/dev/null ||
		{ echo "bench/snapfork.sh: prefill failed" >&2; exit 1; }
	export XENSTORED_PATH=$d/socket
	for _ in $(seq "$ROUNDS"); do
		strace -q -T -e trace=clone,clone3,fork -p "$PID" -o "$d/strace.out" &
		st=$!
		sleep 0.3
		"$CTL" snapshot >/dev/null
		while "$CTL" status | grep -q writing; do sleep 0.05; done
		kill "$st"
		wait "$st" 2>/dev/null
		printf '%s\t%s\t%s kB\n' "$mode" \
			"$(grep -o '<[0-9.]*>' "$d/strace.out" | tr -d '<>' | head -1)" \
			"$(awk '/^VmRSS/ { print $2 }' "/proc/$PID/status")"
	done
	kill "$PID"
	PID=
done
