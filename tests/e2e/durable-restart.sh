#!/usr/bin/env bash
# A store survives kill -9 and clean restarts exactly (values, binary data,
# permissions, child order, quotas), with and without snapshots, in every
# sync mode that persists; --sync=none keeps nothing.
. "$(dirname "$0")/durable-lib.sh"
dur_init

fill() {
	xenstore-write /d/a 1 /d/b "two words" /d/c/deep/er x
	xenstore-write /d/bin "$(printf 'a\\x00b\\x01')"
	xenstore-chmod /d/a n0 r5 w7
	xenstore-rm /d/c/deep
	# Insertion order, not sorted order.
	xenstore-write /order/zz 1 /order/aa 2 /order/mm 3
	"$DUR_CTL" quota set nodes 777 >/dev/null
}

for mode in write always; do
	rm -rf "$DUR_STATE"
	dur_start --sync "$mode"
	fill
	before=$(dur_dump)
	quota=$("$DUR_CTL" quota | grep '^nodes')
	dur_kill
	dur_start --sync "$mode"
	check_eq "$mode: kill -9, restart: same tree" "$before" "$(dur_dump)"
	check_eq "$mode: kill -9, restart: same quota" "$quota" \
		"$("$DUR_CTL" quota | grep '^nodes')"
	check_eq "$mode: child order kept" "zz aa mm" \
		"$(xenstore-list /order | lxs_join)"
	dur_stop
	dur_start --sync "$mode"
	check_eq "$mode: clean stop, restart: same tree" "$before" "$(dur_dump)"
	dur_stop
done

# Snapshots: every 5 records (a 20-key write is one transaction,
# one record); two are kept, the log is pruned behind them.
rm -rf "$DUR_STATE"
dur_start --snapshot-records 5 --log-segment-size 4096
for i in $(seq 1 150); do echo "/s/k$i v$i"; done | xargs -n 20 xenstore-write
fill
dur_wait_status 'snapshot: seq [1-9][0-9]*, .*idle' &&
	ok "a snapshot was written in the background" || fail "no snapshot: $(dur_status)"
for i in $(seq 151 300); do echo "/s/k$i v$i"; done | xargs -n 20 xenstore-write
dur_wait_status 'snapshot: seq [1-9][0-9]*, .*idle' || true
sleep 0.5
nsnap=$(dur_snapshots | wc -l)
check_eq "two snapshots kept" 2 "$nsnap"
oldest=$(dur_snapshots | head -1 | sed 's/.*snap-\(.*\)\.lxs/\1/')
first_seg=$(dur_segments | head -1 | sed 's/.*wal-\(.*\)\.log/\1/')
if [ $((16#$first_seg)) -le $((16#$oldest + 1)) ] && [ $((16#$first_seg)) -gt 1 ]; then
	ok "log segments before the older snapshot are removed"
else
	fail "oldest kept snapshot $oldest, first segment $first_seg"
fi
check_rc "CONTROL snapshot" 0 "$DUR_CTL" snapshot
dur_wait_status 'snapshot: .*idle' || fail "forced snapshot did not finish"
before=$(dur_dump)
dur_kill
dur_start --snapshot-records 5 --log-segment-size 4096
check_eq "restart from snapshot + log: same tree" "$before" "$(dur_dump)"
dur_status_has 'recovery: snapshot seq [1-9]' &&
	ok "recovery started from a snapshot" || fail "status: $(dur_status)"
check_eq "value 300 after restart" v300 "$(xenstore-read /s/k300)"
dur_stop

# --sync=none persists nothing.
rm -rf "$DUR_STATE"
dur_start --sync none
xenstore-write /gone 1
dur_kill
dur_start --sync none
check_rc "--sync=none: nothing survives" 1 xenstore-read /gone
dur_stop
lxs_done
