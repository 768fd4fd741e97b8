#!/usr/bin/env bash
# lxenstore-inspect beside a busy daemon: while a client writes without a
# pause, and the daemon rotates segments, takes snapshots and prunes its
# log, verify, stat, ls and log must keep succeeding without a word on
# stderr, and the daemon must not notice them. At the end the state read
# offline is the daemon's tree.
. "$(dirname "$0")/inspect-lib.sh"
dur_init
lxs_need /usr/bin/xenstore-write

dur_start --snapshot-records 30 --log-segment-size 4096
(for i in $(seq 1 600); do
	/usr/bin/xenstore-write "/w/k$((i % 50))" "v$i-$(printf '%050d' "$i")" || exit 1
done) &
writer=$!
runs=0 bad=0
while kill -0 "$writer" 2>/dev/null; do
	for c in verify stat "ls -fp" log "export --json"; do
		# shellcheck disable=SC2086 # c is a command line
		insd $c >/dev/null 2>"$LXS_TMP/err"
		st=$?
		runs=$((runs + 1))
		if [ $st -ne 0 ] || [ -s "$LXS_TMP/err" ]; then
			bad=$((bad + 1))
			echo "     | $c: status $st: $(head -2 "$LXS_TMP/err")"
		fi
	done
done
wait "$writer" && ok "the writer wrote everything" || fail "the writer failed"
[ "$runs" -ge 10 ] && ok "$runs runs beside the writer" || fail "only $runs runs"
check_eq "none failed or said anything" 0 "$bad"
pruned=$(insd log | head -n 1 | cut -d' ' -f1)
[ "${pruned:-1}" -gt 1 ] && ok "the log was pruned meanwhile (starts at $pruned)" ||
	fail "no pruning happened: the test covers less than it says"
/usr/bin/xenstore-ls -fp >"$LXS_TMP/live"
insd ls -fp >"$LXS_TMP/off"
cmp -s "$LXS_TMP/live" "$LXS_TMP/off" && ok "the state read offline is the daemon's" ||
	fail "offline state differs"
dur_stop

lxs_done
