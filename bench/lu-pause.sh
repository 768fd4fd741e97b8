#!/usr/bin/env bash
# bench/lu-pause.sh [-c] [NODES] [CONNS] [SECS]: the longest wait for a
# reply seen by any of CONNS clients (reading random keys of a NODES-node
# store, one request in flight each) while the daemon is live-updated,
# next to the same run without an update (the machine's noise).
#   -c: against Xen's cxenstored (anchors/start-cxenstored.sh, updated to
#       itself) instead of ./lxenstored (updated to itself).
# Not part of make check; run from the build directory. Prints one line
# per run: what, the xenstore-control status and time, and xsbench's
# columns (ops/s, p50, p99, max latency) and the 10 ms stretches with the
# longest waits (xsbench --timeline), those of the update placed against
# when xenstore-control ran, each with the moments the machine itself
# stopped (bench/hiccup) during it, and the longest wait that no such stop
# explains, the longest wait from xenstore-control's start to 100 ms
# after it returned (the update itself), and, where the kernel exports
# it (page_reporting's reported_kib), the free memory handed back to the
# host in the run, each stall within 100 ms of such a report marked as
# the host's; then lxenstored's own account
# of the pause (the status line, measured by the new daemon from when the
# old one stopped reading, and both daemons' timing lines).
set -u
CX=0
if [ "${1:-}" = -c ]; then CX=1; shift; fi
NODES=${1:-100000}
CONNS=${2:-500}
SECS=${3:-6}
XEN_BIN=${XEN_BIN:-/usr/lib/xen-4.17/bin}
ANCHORS=${ANCHORS:-/work/shared/anchors}
XSB=./bench/xsbench
HICCUP=./bench/hiccup
REPORTED=/sys/module/page_reporting/parameters/reported_kib
LXS=$(pwd)/lxenstored
[ -x "$XSB" ] || { echo "run from the build directory (bench/xsbench)" >&2; exit 2; }
T=$(mktemp -d /tmp/lu-pause.XXXXXX)
export XENSTORED_PATH=$T/socket
ulimit -n 4096

if [ $CX = 1 ]; then
	PID=$("$ANCHORS/start-cxenstored.sh" -d "$T" 2>/dev/null) || exit 1
	NEW=$XEN_BIN/xenstored
	WHAT=cxenstored
else
	"$LXS" -N --state-dir "$T/state" -F "$T/pid" >"$T/daemon.log" 2>&1 &
	NEW=$LXS
	WHAT=lxenstored
	"$XSB" -w ready -d 20 >/dev/null || exit 1
fi
"$XSB" -w prefill -n "$NODES" -l prefill

run() {	# run LABEL UPDATE(0/1)
	"$XSB" -w read -c "$CONNS" -n "$NODES" -d "$SECS" -W 0.5 -l "$1" \
		--timeline "$T/timeline" >"$T/xsb" 2>&1 &
	_xp=$!
	: >"$T/hiccups"
	_hp=
	if [ -x "$HICCUP" ]; then
		if [ -r "$REPORTED" ]; then
			"$HICCUP" -r "$REPORTED" $((SECS + 2)) >"$T/hiccups" &
		else
			"$HICCUP" $((SECS + 2)) >"$T/hiccups" &
		fi
		_hp=$!
	fi
	_lu="-"
	if [ "$2" = 1 ]; then
		sleep $((SECS / 2))
		_t0=$(date +%s%N)
		"$XEN_BIN/xenstore-control" live-update -t 120 "$NEW" \
			>"$T/lu" 2>&1
		_rc=$?
		_t1=$(date +%s%N)
		_lu="rc=$_rc,$(( (_t1 - _t0) / 1000000 ))ms"
	fi
	wait $_xp
	[ -z "$_hp" ] || wait "$_hp"
	printf '%s nodes=%s conns=%s update=%s  %s\n' "$WHAT" "$NODES" \
		"$CONNS" "$_lu" "$(tail -1 "$T/xsb")"
	# The 10 ms buckets with the longest waits, in ms from when
	# xenstore-control started (it ended at +END), each with the machine
	# stalls (bench/hiccup) that overlap the wait; then the longest wait
	# that overlaps none, the part the machine does not explain.
	[ "$2" = 1 ] || { _t0=0; _t1=0; }
	sort -t "$(printf '\t')" -k3,3nr "$T/timeline" |
		awk -v t0=$((_t0 / 1000000)) -v t1=$((_t1 / 1000000)) \
		    -v hf="$T/hiccups" '
		BEGIN {
			while ((getline l < hf) > 0) {
				split(l, f, "\t")
				if (f[2] == "report") { rn++; rt[rn] = f[1]; rk[rn] = f[3]; rsum += f[3]; continue }
				hn++; he[hn] = f[1]; hl[hn] = f[3]; hc[hn] = f[2]
			}
		}
		function host(e, l,   i, k) {
			k = 0
			for (i = 1; i <= rn; i++)
				if (rt[i] >= e - l - 100 && rt[i] <= e + 100)
					k += rk[i]
			return k ? sprintf(" (host page report %.0f MiB)", k / 1024) : ""
		}
		function stalls(t, w,   i, s) {
			s = ""
			for (i = 1; i <= hn; i++)
				if (he[i] >= t - w && he[i] - hl[i] <= t + 10)
					s = s sprintf(" cpu%d %.1f ms%s,", hc[i], hl[i], host(he[i], hl[i]))
			return s
		}
		{
			w = $3 / 1000; s = stalls($1, w)
			if (NR <= 5) {
				at = t0 ? sprintf(" at %+d ms (update ends at +%d)", $1 - t0, t1 - t0) : ""
				printf "  longest waits: %.1f ms%s, %d replies in those 10 ms; machine stalled:%s\n", w, at, $2, s == "" ? " no" : s
			}
			if (s == "" && !found) { found = 1; clean = w; cat = t0 ? sprintf(" at %+d ms", $1 - t0) : "" }
			if (t0 && $1 >= t0 && $1 <= t1 + 100 && !inupd) { inupd = 1; uw = w; uat = $1 - t0 }
		}
		END {
			if (hn || found) printf "  longest wait with no machine stall in it: %.1f ms%s (%d stalls over 3 ms in the run)\n", clean, cat, hn
			if (t0) printf "  longest wait during the update (to 100 ms after xenstore-control returned): %.1f ms at %+d ms\n", uw, uat
			if (rn) printf "  host page reports in the run: %d, %.0f MiB\n", rn, rsum / 1024
		}'
}
"$XSB" -w read -c 1 -n "$NODES" -d 0.1 -H 2>&1 | head -1
run baseline 0
run update 1
if [ $CX = 1 ]; then
	"$ANCHORS/stop-xenstored.sh" "$PID" >/dev/null 2>&1
else
	"$XEN_BIN/xenstore-control" status 2>/dev/null | grep '^live-update'
	grep -o -e 'handed over .*' -e 'serving from .*' \
		-e 'connection(s) s[a-z]* [a-z]* ahead.*' "$T/daemon.log"
	kill "$(cat "$T/pid")"
	sleep 1
fi
rm -rf "$T"
