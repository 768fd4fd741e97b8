#!/usr/bin/env bash
# kill -9 while guests are busy: three guests pipeline thousands of WRITEs
# (a watch on their data firing meanwhile) and the daemon is killed in the
# middle, then restarted. Every guest's flood completes with every request
# answered and no error, the last value of each is there, and (no snapshot
# in between) each WRITE is in the log exactly once. A second round takes
# snapshots during the floods, so that the domain table with its logged
# replies comes from a snapshot; a third one runs with --sync=always.
. "$(dirname "$0")/ring-lib.sh"
INS=$top_builddir/lxenstore-inspect
N=3000
GUESTS="60 61 62"

# crash_round NAME [DAEMON_ARGS...]: floods, kill -9 in the middle,
# restart, checks.
crash_round() {
	cr_name=$1
	shift
	for d in $GUESTS; do
		eval "fd=\$RING_FD_$d seen=\$RING_SEEN_$d"
		printf 'flood %s data/f\n' "$N" >&"$fd"
		eval "RING_SEEN_$d=$((seen + 1))"
	done
	# Until some writes are in, then the kill.
	i=0
	until [ "$(raw 'READ:/local/domain/62/data/f\0' 2>/dev/null |
		   sed -n 's/^READ //p')" -ge 300 ] 2>/dev/null; do
		i=$((i + 1))
		[ $i -le 300 ] || lxs_error "$cr_name: the floods do not start"
		sleep 0.02
	done
	ring_restart -9 "$@"
	ok "$cr_name: daemon killed with SIGKILL during the floods, restarted"
	for d in $GUESTS; do
		eval "seen=\$RING_SEEN_$d"
		lxs_wait_lines "$RING_DIR/out-$d" "$seen" 60 ||
			fail "$cr_name: guest $d did not finish"
		check_eq "$cr_name: guest $d: every WRITE answered, no error" \
			"flood $N ok $N err 0" \
			"$(sed -n "${seen}p" "$RING_DIR/out-$d")"
		ring_check "$cr_name: guest $d: the last value" "$d" "$((N - 1))" \
			read data/f
		# The event the restart fired went by during the flood.
		ring_check "$cr_name: guest $d writes" "$d" OK write data/x "$cr_name"
		ring_check "$cr_name: guest $d: its watch is there" "$d" \
			"EVENT data/x w$d" event
	done
}

ring_start
for d in $GUESTS; do
	raw "WRITE:/local/domain/$d\\0" "SET_PERMS:/local/domain/$d\\0n$d\\0" \
		>/dev/null
	ring_guest "$d"
	check_eq "INTRODUCE $d" "INTRODUCE OK\\0" "$(ring_introduce "$d")"
	ring_check "guest $d watches its data" "$d" OK watch data "w$d"
	ring_check "its initial event" "$d" "EVENT data w$d" event
done

crash_round "log only"
for d in $GUESTS; do
	check_eq "guest $d: each WRITE applied once" "$N" \
		"$("$INS" --state-dir "$LXS_TMP/state" log --path \
			"/local/domain/$d/data/f" 2>/dev/null |
			grep -c " PUT /local/domain/$d/data/f ")"
done
ring_restart --snapshot-records 300
crash_round "with snapshots" --snapshot-records 300
grep -q 'snapshot at seq' "$LXS_TMP"/daemon.log* &&
	ok "snapshots were taken during the floods" ||
	fail "no snapshot was taken"
ring_restart --sync=always
crash_round "sync always" --sync=always
lxs_done
