#!/usr/bin/env bash
# Damaged state on disk: a torn log tail is cut off; a corrupt record in the
# middle keeps everything before it, moves the damaged files aside (never
# deletes them) and says so in the log and in CONTROL status; a corrupt
# newest snapshot falls back to the previous one and a longer log, losing
# nothing. The daemon starts in every case.
. "$(dirname "$0")/durable-lib.sh"
dur_init

# flip FILE OFFSET: damages one byte.
flip() {
	printf '\xff' | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# --- torn tail ------------------------------------------------------------------
dur_start
for i in 1 2 3 4 5; do xenstore-write /t/k$i v$i; done
dur_kill
seg=$(dur_segments | tail -1)
size=$(dur_seg_end "$seg")
truncate -s $((size - 3)) "$seg"
dur_start
check_eq "torn tail: records before it kept" v4 "$(xenstore-read /t/k4 2>&1)"
check_rc "torn tail: the torn record is gone" 1 xenstore-read /t/k5
dur_status_has 'recovery-damage: torn tail' && ok "status reports the torn tail" ||
	fail "status: $(dur_status)"
check_rc "writes go on after a torn tail" 0 xenstore-write /t/k5 again
dur_stop
dur_start
check_eq "...and survive the next restart" again "$(xenstore-read /t/k5 2>&1)"
dur_stop

# --- a corrupt record in the middle of the log ----------------------------------------
rm -rf "$DUR_STATE"
dur_start --log-segment-size 4096
for i in $(seq 1 100); do xenstore-write /m/k$i "value-$i-$(printf '%040d' 0)"; done
dur_kill
nseg=$(dur_segments | wc -l)
[ "$nseg" -ge 3 ] && ok "the log spans $nseg segments" || fail "only $nseg segments"
bad=$(dur_segments | sed -n 2p)
flip "$bad" 200
dur_start --log-segment-size 4096
check_rc "corrupt middle: the daemon serves" 0 xenstore-read /m/k1
dur_status_has 'recovery-damage: DAMAGED LOG' && ok "status says DAMAGED LOG" ||
	fail "status: $(dur_status)"
grep -q 'DAMAGED LOG' "$LXS_TMP/daemon.log" && ok "the daemon log says so" ||
	fail "no log line"
moved=$(find "$DUR_STATE" -maxdepth 1 -type d -name 'damaged-*' | head -1)
[ -n "$moved" ] && [ "$(find "$moved" -name 'wal-*.log' | wc -l)" -ge 2 ] &&
	ok "the damaged segment and the later ones are kept in $(basename "$moved")" ||
	fail "damaged files: $(ls -R "$DUR_STATE")"
kept=0
for i in $(seq 1 100); do
	xenstore-read /m/k$i >/dev/null 2>&1 || break
	kept=$i
done
[ "$kept" -ge 1 ] && [ "$kept" -lt 100 ] &&
	ok "records up to the damage are kept ($kept of 100)" ||
	fail "kept $kept of 100"
check_rc "corrupt middle: writes go on" 0 xenstore-write /m/after yes
dur_stop
dur_start --log-segment-size 4096
check_eq "the next start is clean and keeps the new write" yes \
	"$(xenstore-read /m/after 2>&1)"
dur_status_has 'recovery-damage' && fail "damage reported again: $(dur_status)" ||
	ok "no damage reported on the next start"
dur_stop

# --- a corrupt newest snapshot ---------------------------------------------------------
rm -rf "$DUR_STATE"
dur_start --snapshot-records 3
for i in $(seq 1 4); do xenstore-write /n/k$i v$i; done
dur_wait_status 'snapshot: seq [1-9][0-9]*, .*idle' || fail "no first snapshot"
for i in $(seq 5 8); do xenstore-write /n/k$i v$i; done
sleep 0.3
dur_wait_status 'snapshot: seq [1-9][0-9]*, .*idle' || true
"$DUR_CTL" snapshot >/dev/null
dur_wait_status 'snapshot: .*idle' || fail "no forced snapshot"
xenstore-write /n/k9 v9
before=$(dur_dump)
dur_kill
newest=$(dur_snapshots | tail -1)
[ "$(dur_snapshots | wc -l)" -eq 2 ] && ok "two snapshots on disk" ||
	fail "snapshots: $(dur_snapshots)"
flip "$newest" 100
dur_start --snapshot-records 3
check_eq "corrupt newest snapshot: nothing lost" "$before" "$(dur_dump)"
dur_status_has 'snapshot\(s\) rejected' && ok "status reports the rejected snapshot" ||
	fail "status: $(dur_status)"
[ -n "$(find "$DUR_STATE" -path '*damaged-*' -name 'snap-*.lxs')" ] &&
	ok "the rejected snapshot is kept aside" || fail "rejected snapshot not kept"
dur_stop
lxs_done
