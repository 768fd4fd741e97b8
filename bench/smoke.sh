#!/usr/bin/env bash
# bench/smoke.sh: xsbench works against lxenstored (a functional test, not
# a timed one: no figure is compared with anything).
#
# Every workload runs for half a second at 2 clients (and read and write
# also pipelined) against a private daemon; each must report operations,
# no errors and a daemon CPU figure. Then the helper modes: prefill,
# ready, fsync, and start (a second daemon, run and timed by xsbench).
# Last, bench/floor driven by bench/ab.sh. About 12 s in all.

# lib.sh finds the tree from its own location; this file is one level
# higher than the e2e tests, so say where the tree is first.
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
# shellcheck source=tests/e2e/lib.sh
. "$top_srcdir/tests/e2e/lib.sh"

XSB=$top_builddir/bench/xsbench
[ -x "$XSB" ] || lxs_error "$XSB not built"
lxs_start
pid=$LXS_DAEMON_PID

# check_run NAME XSBENCH-ARGS...: one run; the TSV line must show ops > 0,
# errors == 0 and a daemon CPU time per op.
check_run() {
	_name=$1
	shift
	_line=$("$XSB" -t -P "$pid" -d 0.5 -W 0.1 -n 200 "$@" 2>"$LXS_TMP/err")
	_rc=$?
	# label workload clients depth nodes secs ops ops_per_s p50 p99 max
	# max_at cpu_us_op daemon_cpu_pct bench_cpu_us_op reqs errors retries
	# stat_cpu_us_op
	if [ $_rc -eq 0 ] && printf '%s\n' "$_line" | awk -F'\t' \
	    'NF == 19 && $7 > 0 && $17 == 0 && $13 != "-" && $9 > 0 { ok = 1 }
	     END { exit !ok }'; then
		ok "$_name: $(printf '%s' "$_line" | cut -f7,8,13 | tr '\t' ' ')"
	else
		fail "$_name: status $_rc"
		printf '     | %s\n' "$_line"
		sed 's/^/     | /' "$LXS_TMP/err" | head -10
	fi
}

check_run read -w read -c 2
check_run write -w write -c 2
check_run mixed -w mixed -c 2
check_run crrm -w crrm -c 2
check_run dir -w dir -c 2 --dir-size 100
check_run txn -w txn -c 2
check_run txn-contended -w txn-contended -c 2
check_run watch -w watch -c 2 -p 4
check_run churn -w churn -c 2
check_run "read, 16 in flight" -w read -p 16
check_run "write, 16 in flight" -w write -p 16
check_run "write, stops after -N ops" -w write -N 500 -d 30 -W 0

# --timeline: one line per 10 ms of the window (realtime ms, operations,
# longest latency); together they hold every operation of the run.
tl=$LXS_TMP/timeline
line=$("$XSB" -t -d 0.5 -W 0.1 -n 200 -w read --timeline "$tl" 2>&1)
if printf '%s\n' "$line" | awk -F'\t' -v tl="$tl" '
	{ ops = $7 }
	END {
		while ((getline l < tl) > 0) {
			split(l, f, "\t"); n++; sum += f[2]
			if (f[2] > 0 && f[3] <= 0) bad = 1
		}
		exit !(n >= 50 && n <= 60 && sum == ops && ops > 0 && !bad)
	}'; then
	ok "timeline: $(wc -l <"$tl") buckets, every operation in one"
else
	fail "timeline"
	printf '     | %s\n' "$line"
	head -3 "$tl" | sed 's/^/     | /'
fi

# bench/hiccup: with a threshold of 1 us every wake-up is late, so it must
# print lines of realtime ms, a CPU index and a lateness over the threshold.
hic=$("$top_builddir/bench/hiccup" -t 0.001 0.2 2>/dev/null)
if printf '%s\n' "$hic" | awk -F'\t' -v now="$(date +%s%3N)" '
	NF == 3 && $1 > now - 5000 && $1 <= now + 1000 && $2 >= 0 && $3 > 0.001 { n++ }
	END { exit !(n >= 20 && n == NR) }'; then
	ok "hiccup: $(printf '%s\n' "$hic" | wc -l) late wake-ups reported"
else
	fail "hiccup"
	printf '%s\n' "$hic" | head -3 | sed 's/^/     | /'
fi

# hiccup -r: a line per growth of the count in FILE, with the increase; an
# unreadable FILE is one line and status 2.
cnt=$(mktemp)
echo 5 >"$cnt"
"$top_builddir/bench/hiccup" -t 1000 0.6 -r "$cnt" >"$cnt.out" 2>&1 &
hp=$!
sleep 0.2
echo 12 >"$cnt"
sleep 0.2
echo 20 >"$cnt"
wait "$hp"
if [ "$(cut -f2,3 "$cnt.out" | tr '\t\n' ': ')" = "report:7 report:8 " ]; then
	ok "hiccup -r: each growth of the count reported"
else
	fail "hiccup -r: $(tr '\n' '|' <"$cnt.out")"
fi
out=$("$top_builddir/bench/hiccup" -r /nonexistent 1 2>&1)
check_eq "hiccup -r of a missing file" \
	"2 hiccup: /nonexistent: No such file or directory" "$? $out"
rm -f "$cnt" "$cnt.out"

# The helper modes.
check_rc "prefill" 0 "$XSB" -w prefill -n 1000
check_out "prefill left the count" 1000 /usr/bin/xenstore-read /bench/n-count
check_rc "ready" 0 "$XSB" -w ready -d 5
check_rc "unknown workload is refused" 2 "$XSB" -w nonesuch
check_rc "fsync" 0 "$XSB" -t -w fsync -d 0.2 -f "$LXS_TMP/fsync.tmp"

# start: a second daemon on its own socket, timed until it answers.
sock2=$LXS_TMP/socket2
out=$("$XSB" -w start -s "$sock2" -d 20 -f "$LXS_TMP/daemon2.log" -- \
	env XENSTORED_PATH="$sock2" "$top_builddir/lxenstored" -N \
	--state-dir "$LXS_TMP/state2")
read -r pid2 ms2 cpu2 <<<"$out"
if [ -n "$pid2" ] && [ -n "${cpu2:-}" ] && kill -0 "$pid2" 2>/dev/null; then
	ok "start: pid $pid2 answered after $ms2 ms, $cpu2 ms CPU"
	kill -TERM "$pid2"
	i=0
	while kill -0 "$pid2" 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -0 "$pid2" 2>/dev/null && { kill -KILL "$pid2"; fail "start: daemon ignored SIGTERM"; }
else
	fail "start: '$out'"
fi

# bench/floor through bench/ab.sh, in the three ways it serves (cx needs
# the anchors, which CI does not have). Each row must show operations and
# a CPU figure for both daemons.
ab_check() {
	_out=$(XSBENCH=$XSB FLOOR=$top_builddir/bench/floor \
		"$top_srcdir/bench/ab.sh" -r 1 -d 0.3 -o "$LXS_TMP/ab" "$@" 2>&1)
	_pair="$1 $2"
	shift 2
	for _w in "$@"; do
		if printf '%s\n' "$_out" | awk -F' *[|] *' -v w="$_w" \
		    '$2 == w && $3 > 0 && $4 > 0 && $5 > 0 && $6 > 0 { ok = 1 }
		     END { exit !ok }'; then
			ok "ab.sh $_pair: $_w"
		else
			fail "ab.sh $_pair: $_w"
			printf '%s\n' "$_out" | sed 's/^/     | /' | tail -10
		fi
	done
}
# -h prints the script's header comment (bench/usage.awk) and exits 2.
help=$("$top_srcdir/bench/ab.sh" -h 2>&1)
rc=$?
if [ $rc -eq 2 ] && printf '%s\n' "$help" | head -1 | grep -q '^bench/ab.sh: ' &&
    printf '%s\n' "$help" | grep -q '^  OLD, NEW' &&
    ! printf '%s\n' "$help" | grep -q -e '^#' -e 'shellcheck' -e '^set -u'; then
	ok "ab.sh -h: its header, status 2"
else
	fail "ab.sh -h: status $rc"
	printf '%s\n' "$help" | head -5 | sed 's/^/     | /'
fi
ab_check floor floor-blocking "read -c 1" "dir -c 1"
ab_check floor-sync floor "write -c 2"

lxs_done
