#!/usr/bin/env bash
# lxenstore-inspect at SEQ|TIME: the store as it was after a record, rebuilt
# from a snapshot and the log. The tree is captured with xenstore-ls after
# every step while the daemon snapshots often and prunes its log; every
# point still kept must come back exactly, by seq and by time, and the
# points the pruned log no longer covers must be refused.
. "$(dirname "$0")/inspect-lib.sh"
dur_init
lxs_need /usr/bin/xenstore-write /usr/bin/xenstore-chmod /usr/bin/xenstore-rm

dur_start --snapshot-records 8 --log-segment-size 4096
ins_fixture
steps=14
for i in $(seq 1 $steps); do
	/usr/bin/xenstore-write "/at/k$i" "v$i" /at/k1 "k1 at step $i"
	case $((i % 4)) in
	0) /usr/bin/xenstore-rm "/at/k$((i - 1))" ;;
	2) /usr/bin/xenstore-chmod "/at/k$i" n0 "r$i" ;;
	esac
	sleep 0.02
	eval "seq_$i=$(last_seq)"
	eval "time_$i=$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)"
	/usr/bin/xenstore-ls -fp >"$LXS_TMP/dump.$i"
	sleep 0.02
done
dur_stop

nsnap=$(dur_snapshots | wc -l)
[ "$nsnap" -ge 2 ] && ok "$nsnap snapshots kept" || fail "$nsnap snapshots"
# The oldest point: the log's first record - 1 if it goes back to the start,
# else the oldest snapshot.
oldest=$(basename "$(dur_snapshots | head -n 1)" .lxs | sed 's/^snap-//')
oldest=$((16#$oldest))
[ -e "$DUR_STATE/wal-0000000000000001.log" ] && oldest=0

kept=0 refused=0
for i in $(seq 1 $steps); do
	eval "s=\$seq_$i t=\$time_$i"
	if [ "$s" -lt "$oldest" ]; then
		if insd at "$s" ls -fp >/dev/null 2>"$LXS_TMP/err"; then
			fail "step $i (seq $s, before $oldest) was not refused"
		elif grep -q "cannot be rebuilt" "$LXS_TMP/err"; then
			refused=$((refused + 1))
		else
			fail "step $i: $(cat "$LXS_TMP/err")"
		fi
		continue
	fi
	insd at "$s" ls -fp >"$LXS_TMP/at" 2>&1
	if cmp -s "$LXS_TMP/at" "$LXS_TMP/dump.$i"; then
		kept=$((kept + 1))
	else
		fail "at seq $s (step $i) differs from the tree then"
		diff -u "$LXS_TMP/dump.$i" "$LXS_TMP/at" | head -10
	fi
	insd at "$t" ls -fp >"$LXS_TMP/at" 2>&1
	cmp -s "$LXS_TMP/at" "$LXS_TMP/dump.$i" ||
		fail "at $t (step $i) differs from the tree then"
done
[ "$kept" -ge 4 ] && ok "$kept earlier states rebuilt exactly, by seq and by time" ||
	fail "only $kept states rebuilt"
[ "$refused" -ge 1 ] && ok "$refused states before the oldest kept are refused" ||
	fail "nothing was pruned: the test does not cover refusal"

eval "s=\$seq_$steps"
check_out "at SEQ read" "k1 at step $steps" insd at "$s" read /at/k1
# The last step (14 % 4 == 2) gave its key a reader.
check_out "at SEQ perms" "n0 r$steps" insd at "$s" perms "/at/k$steps"
insd at "$s" stat >"$LXS_TMP/st"
grep -q "^state: *seq $s " "$LXS_TMP/st" && ok "at SEQ stat reports that seq" ||
	fail "stat: $(head -3 "$LXS_TMP/st")"
insd at "$s" export --json | grep -q "\"seq\": $s," &&
	ok "at SEQ export --json" || fail "export at $s"
check_rc "at a seq after the last record" 1 insd at 999999 ls
grep -q "cannot be rebuilt: the last record kept is seq $s" "$LXS_TMP/out" &&
	ok "...says which is the last" || fail "message: $(cat "$LXS_TMP/out")"
check_rc "at a time before everything kept" 1 insd at 1971-01-01T00:00:00Z ls
grep -q "is before the oldest state kept" "$LXS_TMP/out" && ok "...says so" ||
	fail "message: $(cat "$LXS_TMP/out")"
check_rc "at a bad point" 2 insd at yesterday ls
check_rc "at with a command it cannot run" 2 insd at 5 verify
check_rc "at without a command" 2 insd at 5

lxs_done
