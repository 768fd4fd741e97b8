#!/usr/bin/env bash
# bench/snapstall.sh: the longest request wait while a snapshot is
# written (issue 3: no request may wait more than 10 ms on a snapshot of
# 1,000,000 nodes), next to the same load without a snapshot.
#
#   bench/snapstall.sh [-n KEYS] [-r ROUNDS] LXENSTORED...
#
# For each daemon binary given (several: they take turns), a private
# daemon (automatic snapshots off) is filled with KEYS keys (default
# 1000000) and snapshotted once; then, ROUNDS times (default 2): 8 xsbench
# clients run the mixed workload for 3 s without a snapshot, then 3 s
# during which `xenstore-control snapshot` starts one after 1.2 s. Prints
# per round the longest wait of each run (xsbench's max latency) and the
# snapshot's own time. Environment: XSBENCH, XENSTORE_CONTROL.
# shellcheck disable=SC2086 # word lists split on purpose
set -u
set -o pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
KEYS=1000000
ROUNDS=2
while getopts "n:r:h" opt; do
	case $opt in
	n) KEYS=$OPTARG ;;
	r) ROUNDS=$OPTARG ;;
	*) awk -f "$(dirname "$0")/usage.awk" "$0"; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || { echo "usage: bench/snapstall.sh [-n KEYS] [-r ROUNDS] LXENSTORED..." >&2; exit 2; }
XSB=${XSBENCH:-$TOP/bench/xsbench}
CTL=${XENSTORE_CONTROL:-$TOP/xenstore-control}
for f in "$XSB" "$CTL" "$@"; do
	[ -x "$f" ] || { echo "bench/snapstall.sh: $f is not executable" >&2; exit 1; }
done

NOSNAP="--snapshot-records 0 --snapshot-log-bytes 0 --snapshot-interval 0"
writing() { "$CTL" status | grep -q '^snapshot:.*writing'; }

for bin in "$@"; do
	d=$(mktemp -d /tmp/xsbench-snapstall.XXXXXX)
	export XENSTORED_PATH=$d/socket
	read -r pid _ < <("$XSB" -w start -s "$d/socket" -d 60 -f "$d/daemon.log" -- \
		"$bin" -N --state-dir "$d/state" $NOSNAP) || true
	[ -n "${pid:-}" ] || { echo "bench/snapstall.sh: $bin did not start" >&2; exit 1; }
	"$XSB" -w prefill -s "$d/socket" -n "$KEYS" >/dev/null ||
		{ echo "bench/snapstall.sh: prefill failed" >&2; kill "$pid"; exit 1; }
	"$CTL" snapshot >/dev/null
	while writing; do sleep 0.1; done
	for r in $(seq "$ROUNDS"); do
		"$XSB" -t -s "$d/socket" -w mixed -c 8 -n "$KEYS" -d 3 -W 0.2 >"$d/base.tsv"
		"$XSB" -t -s "$d/socket" -w mixed -c 8 -n "$KEYS" -d 3 -W 0.2 >"$d/snap.tsv" &
		load=$!
		sleep 1.2
		"$CTL" snapshot >/dev/null
		wait "$load"
		while writing; do sleep 0.1; done
		printf '%s round %s: longest wait %s us without a snapshot, %s us with one; %s\n' \
			"$bin" "$r" "$(cut -f11 "$d/base.tsv")" "$(cut -f11 "$d/snap.tsv")" \
			"$("$CTL" status | grep '^snapshot:')"
	done
	kill "$pid"
	while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
	rm -rf "$d"
done
