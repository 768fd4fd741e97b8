#!/usr/bin/env bash
# bench/ab.sh: the daemon CPU per request of two lxenstored binaries, side
# by side (e.g. a change and the commit it started from).
#
#   bench/ab.sh [-r ROUNDS] [-d SECS] [-c CLIENTS] [-w "WORKLOADS"] [-o DIR]
#               BINARY_A BINARY_B
#
# Both daemons run at once (default --sync=write), each on a private socket
# and state directory, prefilled with xsbench's 10,000 keys. Each round runs
# every workload (default "read write") with -c clients (default 8) for -d
# measured seconds (default 5) against A then B, or B then A on odd rounds,
# so slow drifts of the machine's load fall on both. xsbench -P reads the
# daemon's CPU time (/proc/PID/stat) around the measured window.
#
# Output: DIR/ab.tsv (one line per run: round, name, xsbench's TSV) and, per
# workload, the median over the rounds of the daemon's CPU microseconds per
# request and of requests per second for A and B, and B/A - 1 in percent.
# Keep runs short on a shared machine: 3 rounds x 2 workloads x 5 s x 2
# daemons is about 70 s.
# shellcheck disable=SC2086 # word lists split on purpose
set -u
set -o pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
XSB=${XSBENCH:-$TOP/bench/xsbench}
ROUNDS=3
DUR=5
CLIENTS=8
WORKLOADS="read write"
OUT=/tmp/xsbench-ab-$(date +%Y%m%d-%H%M%S)

usage() {
	awk 'NR == 1 || /^# shellcheck/ { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$0"
	exit 2
}

while getopts "r:d:c:w:o:h" opt; do
	case $opt in
	r) ROUNDS=$OPTARG ;;
	d) DUR=$OPTARG ;;
	c) CLIENTS=$OPTARG ;;
	w) WORKLOADS=$OPTARG ;;
	o) OUT=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 2 ] || usage
[ -x "$XSB" ] || { echo "ab.sh: $XSB not built" >&2; exit 2; }

declare -A BIN PID SOCK
BIN[A]=$1
BIN[B]=$2
mkdir -p "$OUT"

cleanup() {
	local n
	for n in A B; do
		[ -n "${PID[$n]:-}" ] && kill -TERM "${PID[$n]}" 2>/dev/null
	done
	wait 2>/dev/null
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

for n in A B; do
	dir=$OUT/$n
	mkdir -p "$dir"
	cp "${BIN[$n]}" "$dir/lxenstored"
	read -r pid _ _ < <("$XSB" -w start -s "$dir/socket" -d 60 \
		-f "$dir/daemon.log" -- env XENSTORED_PATH="$dir/socket" \
		"$dir/lxenstored" -N --state-dir "$dir/state")
	[ -n "${pid:-}" ] || { echo "ab.sh: $n did not start" >&2; exit 1; }
	PID[$n]=$pid
	SOCK[$n]=$dir/socket
	"$XSB" -w prefill -s "$dir/socket" >/dev/null
done

: >"$OUT/ab.tsv"
for ((r = 0; r < ROUNDS; r++)); do
	order="A B"
	[ $((r % 2)) -eq 1 ] && order="B A"
	for w in $WORKLOADS; do
		for n in $order; do
			line=$("$XSB" -t -l "$n" -P "${PID[$n]}" -s "${SOCK[$n]}" \
				-w "$w" -c "$CLIENTS" -d "$DUR" 2>>"$OUT/xsbench.err") ||
				echo "ab.sh: $n $w failed (see $OUT/xsbench.err)" >&2
			printf '%s\t%s\n' "$r" "$line" >>"$OUT/ab.tsv"
		done
	done
done

# Columns of ab.tsv: round, label, workload, ..., ops_per_s ($9), ...,
# cpu_us_op ($14).
awk -F'\t' '
function median(list,   n, a, i, j, t) {
	n = split(list, a, " ")
	for (i = 1; i <= n; i++)
		for (j = i + 1; j <= n; j++)
			if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{ cpu[$3 "," $2] = cpu[$3 "," $2] " " $14; ops[$3 "," $2] = ops[$3 "," $2] " " $9; seen[$3] = 1 }
END {
	printf "%-8s %12s %12s %8s %12s %12s\n", "workload", "A us/op", "B us/op", "B/A-1", "A ops/s", "B ops/s"
	for (w in seen) {
		a = median(cpu[w ",A"]); b = median(cpu[w ",B"])
		printf "%-8s %12.2f %12.2f %7.1f%% %12.0f %12.0f\n", w, a, b, (b / a - 1) * 100, median(ops[w ",A"]), median(ops[w ",B"])
		printf "  A runs:%s\n  B runs:%s\n", cpu[w ",A"], cpu[w ",B"]
	}
}' "$OUT/ab.tsv" | tee "$OUT/summary.txt"
