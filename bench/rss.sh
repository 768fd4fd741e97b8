#!/usr/bin/env bash
# bench/rss.sh: memory per node of lxenstored builds (and of Xen's
# cxenstored), grown with xsbench's prefill, without the rest of run.sh.
#
#   bench/rss.sh [-s SIZES] [-c] [-o DIR] LXENSTORED...
#
# Each LXENSTORED binary is started twice on a private socket and state
# directory, once with its heap on huge pages (LXS_HUGE_PAGES=1) and once
# on small pages (the default), and grown to each of SIZES keys (default "100000
# 1000000"; xsbench's /bench/n/d<i/100>/k<i%100> with 24-byte values).
# After each step it prints one line:
#
#   label  huge  keys  nodes  base_kb  rss_kb  bytes_per_node
#
# with bytes per node = (VmRSS - VmRSS at start) / nodes, nodes = keys +
# their directories + 3 (as bench/run.sh counts). Huge pages make VmRSS
# grow by whole 2 MiB pages, so at 100,000 nodes one figure can move by up
# to 20 bytes per node from run to run; LXS_HUGE_PAGES=0 shows the heap's
# real growth. -c adds cxenstored (through ANCHORS, default
# ../shared/anchors) up to CX_MAX_KEYS keys (default 100000: it takes
# hours to reach 1,000,000). Daemons are stopped on exit. Environment:
# XSBENCH, ANCHORS, CX_MAX_KEYS.
# shellcheck disable=SC2086 # SIZES is a word list on purpose
set -u
set -o pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
XSB=${XSBENCH:-$TOP/bench/xsbench}
ANCHORS=${ANCHORS:-$TOP/../shared/anchors}
CX_MAX_KEYS=${CX_MAX_KEYS:-100000}
SIZES="100000 1000000"
CX=
OUT=
while getopts "s:co:h" opt; do
	case $opt in
	s) SIZES=$OPTARG ;;
	c) CX=1 ;;
	o) OUT=$OPTARG ;;
	*) awk -f "$(dirname "$0")/usage.awk" "$0"; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || [ -n "$CX" ] || { echo "rss.sh: no daemon given" >&2; exit 2; }
[ -x "$XSB" ] || { echo "rss.sh: $XSB not built" >&2; exit 1; }
OUT=${OUT:-$(mktemp -d /tmp/xsrss.XXXXXX)}
mkdir -p "$OUT"

PID=
KIND=
stop() {
	[ -n "$PID" ] || return 0
	if [ "$KIND" = cx ]; then
		"$ANCHORS/stop-xenstored.sh" "$PID" 30 >/dev/null 2>&1
	else
		kill -TERM "$PID" 2>/dev/null
		while kill -0 "$PID" 2>/dev/null; do sleep 0.1; done
	fi
	PID=
}
trap stop EXIT
trap 'exit 1' INT TERM HUP

rss_kb() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status"; }

# grow LABEL HUGE DIR MAXKEYS: prefill the running daemon step by step.
grow() {
	local base n nodes rss
	base=$(rss_kb "$PID")
	for n in $SIZES; do
		[ "$n" -le "$4" ] || continue
		"$XSB" -w prefill -s "$3/socket" -n "$n" >/dev/null || return 1
		nodes=$((n + (n + 99) / 100 + 3))
		rss=$(rss_kb "$PID")
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%.1f\n' "$1" "$2" "$n" "$nodes" \
			"$base" "$rss" "$(echo "($rss - $base) * 1024 / $nodes" | bc -l)"
	done
}

printf 'label\thuge\tkeys\tnodes\tbase_kb\trss_kb\tbytes_per_node\n'
i=0
for lxs in "$@"; do
	i=$((i + 1))
	for huge in 1 0; do
		d=$OUT/lx$i-huge$huge
		rm -rf "$d"
		mkdir -p "$d"
		KIND=lx
		read -r PID _ < <("$XSB" -w start -s "$d/socket" -d 60 \
			-f "$d/daemon.log" -- env LXS_HUGE_PAGES=$huge \
			XENSTORED_PATH="$d/socket" "$lxs" -N --state-dir "$d/state" \
			--snapshot-records 0 --snapshot-log-bytes 0 \
			--snapshot-interval 0) || true
		[ -n "$PID" ] || { echo "rss.sh: $lxs did not start" >&2; exit 1; }
		grow "lx$i" "$huge" "$d" 999999999 || echo "rss.sh: lx$i: prefill failed" >&2
		stop
	done
done
if [ -n "$CX" ]; then
	d=$OUT/cx
	rm -rf "$d"
	mkdir -p "$d"
	KIND=cx
	PID=$("$ANCHORS/start-cxenstored.sh" -d "$d" 2>"$d/start.err") ||
		{ echo "rss.sh: cx: $(tail -3 "$d/start.err")" >&2; exit 1; }
	grow cx - "$d" "$CX_MAX_KEYS" || echo "rss.sh: cx: prefill failed" >&2
	stop
fi
