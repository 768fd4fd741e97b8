#!/usr/bin/env bash
# bench/ab.sh: two daemons side by side (before and after a change, or
# lxenstored against cxenstored or the floor), taking turns, so that a
# busy machine slows both alike.
#
#   bench/ab.sh [-r ROUNDS] [-d SECS] [-n KEYS] [-o DIR] OLD NEW [SPEC...]
#
#   OLD, NEW   the two daemons: a path to an lxenstored binary, or
#              cx               Xen's cxenstored (ANCHORS/start-cxenstored.sh)
#              floor            bench/floor: replies without doing any work
#              floor-blocking   bench/floor --blocking (one client at a time)
#              floor-sync       bench/floor --sync: an fdatasync per pass
#   SPEC       xsbench arguments of one workload, quoted; default:
#              "read -c 1" "read -c 1 -p 16" "read -c 8" "write -c 8"
#              "watch -c 100"
#   -r ROUNDS  rounds; each runs every SPEC on OLD then NEW, NEW then OLD
#              in even rounds, so a drift of the machine's load falls on
#              both (default 3)
#   -d SECS    measured seconds per run (default 2)
#   -n KEYS    prefilled keys (default 10000)
#   -o DIR     state directories and results.tsv (default a new /tmp dir)
#
# Prints, per SPEC, the median over the rounds of operations/s and daemon
# CPU microseconds per operation for each, and NEW/OLD ratios.
# Environment: XSBENCH, ANCHORS (default ../shared/anchors), FLOOR.
# shellcheck disable=SC2086 # SPECs are word lists on purpose
set -u
set -o pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
XSB=${XSBENCH:-$TOP/bench/xsbench}
ANCHORS=${ANCHORS:-$TOP/../shared/anchors}
FLOOR=${FLOOR:-$TOP/bench/floor}
ROUNDS=3
SECS=2
KEYS=10000
OUT=
while getopts "r:d:n:o:h" opt; do
	case $opt in
	r) ROUNDS=$OPTARG ;;
	d) SECS=$OPTARG ;;
	n) KEYS=$OPTARG ;;
	o) OUT=$OPTARG ;;
	*) awk -f "$(dirname "$0")/usage.awk" "$0"; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 2 ] || { echo "usage: bench/ab.sh [-r ROUNDS] [-d SECS] [-n KEYS] OLD NEW [SPEC...]" >&2; exit 2; }
declare -A BIN=([old]=$1 [new]=$2)
shift 2
if [ $# -gt 0 ]; then
	SPECS=("$@")
else
	SPECS=("read -c 1" "read -c 1 -p 16" "read -c 8" "write -c 8" "watch -c 100")
fi
for k in old new; do
	case ${BIN[$k]} in
	cx) f=$ANCHORS/start-cxenstored.sh ;;
	floor | floor-blocking | floor-sync) f=$FLOOR ;;
	*) f=${BIN[$k]} ;;
	esac
	for f in "$f" "$XSB"; do
		[ -x "$f" ] || { echo "bench/ab.sh: $f is not executable" >&2; exit 1; }
	done
done
[ -n "$OUT" ] || OUT=$(mktemp -d /tmp/xsbench-ab.XXXXXX)

declare -A PID
stop_all() {
	for k in "${!PID[@]}"; do
		if [ "${BIN[$k]}" = cx ]; then
			"$ANCHORS/stop-xenstored.sh" "${PID[$k]}" 30 >/dev/null 2>&1
		else
			kill -TERM "${PID[$k]}" 2>/dev/null
		fi
	done
}

# Starts BIN[$1] on $2/socket; prints its pid.
start_daemon() {
	local d=$2 pid=
	case ${BIN[$1]} in
	cx)
		pid=$("$ANCHORS/start-cxenstored.sh" -d "$d" 2>"$d/daemon.log") ;;
	floor | floor-blocking | floor-sync)
		local opt=
		case ${BIN[$1]} in
		floor-blocking) opt=--blocking ;;
		floor-sync) opt="--sync $d/sync.dat" ;;
		esac
		"$FLOOR" $opt "$d/socket" >"$d/pid" 2>"$d/daemon.log" &
		"$XSB" -w ready -s "$d/socket" -d 10 >/dev/null 2>&1 &&
			pid=$(cat "$d/pid") ;;
	*)
		read -r pid _ < <("$XSB" -w start -s "$d/socket" -d 30 -f "$d/daemon.log" -- \
			env XENSTORED_PATH="$d/socket" "${BIN[$1]}" -N --state-dir "$d/state") ;;
	esac
	[ -n "$pid" ] || return 1
	echo "$pid"
}
trap stop_all EXIT

for k in old new; do
	d=$OUT/$k
	rm -rf "$d"
	mkdir -p "$d"
	pid=$(start_daemon "$k" "$d") ||
		{ echo "bench/ab.sh: $k did not start: $(tail -3 "$d/daemon.log")" >&2; exit 1; }
	PID[$k]=$pid
	"$XSB" -w prefill -s "$d/socket" -n "$KEYS" >/dev/null ||
		{ echo "bench/ab.sh: $k: prefill failed" >&2; exit 1; }
done

: >"$OUT/results.tsv"
for r in $(seq "$ROUNDS"); do
	order="old new"
	[ $((r % 2)) -eq 0 ] && order="new old"
	for i in "${!SPECS[@]}"; do
		for k in $order; do
			"$XSB" -t -l "$k" -s "$OUT/$k/socket" -P "${PID[$k]}" \
				-w ${SPECS[$i]} -d "$SECS" -n "$KEYS" |
				awk -F'\t' -v i="$i" -v r="$r" \
				'{ printf "%s\t%s\t%s\t%s\t%s\n", i, r, $1, $8, $13 }' \
				>>"$OUT/results.tsv"
		done
	done
done

printf '| workload | old ops/s | new ops/s | old CPU µs/op | new CPU µs/op | new/old CPU |\n'
printf '| --- | ---: | ---: | ---: | ---: | ---: |\n'
for i in "${!SPECS[@]}"; do
	awk -F'\t' -v i="$i" -v spec="${SPECS[$i]}" '
	function med(a, n,   j, k, t) {
		for (j = 1; j <= n; j++) for (k = j + 1; k <= n; k++)
			if (a[k] + 0 < a[j] + 0) { t = a[j]; a[j] = a[k]; a[k] = t }
		return a[int((n + 1) / 2)]
	}
	$1 == i && $3 == "old" { o[++no] = $4; oc[no] = $5 }
	$1 == i && $3 == "new" { n[++nn] = $4; nc[nn] = $5 }
	END {
		mo = med(o, no); mn = med(n, nn); co = med(oc, no); cn = med(nc, nn)
		printf "| %s | %.0f | %.0f | %.2f | %.2f | %.2f |\n", spec, mo, mn,
			co, cn, (co > 0 ? cn / co : 0)
	}' "$OUT/results.tsv"
done
