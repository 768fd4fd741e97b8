#!/usr/bin/env bash
# lxenstore-inspect stat on a state the daemon wrote: node and byte counts
# (checked against xenstore-ls), per-domain counts, the deepest node, the
# largest values and directories, which snapshot and segments the state
# comes from, and "not recorded" for what only the daemon knows.
. "$(dirname "$0")/inspect-lib.sh"
dur_init
lxs_need /usr/bin/xenstore-write /usr/bin/xenstore-chmod /usr/bin/xenstore-rm

dur_start --snapshot-records 25 --log-segment-size 4096
ins_fixture
for i in $(seq 1 30); do /usr/bin/xenstore-write "/big/k$i" "$i"; done
/usr/bin/xenstore-write /deep/a/b/c/d/e "$(head -c 300 /dev/zero | tr '\0' z)"
/usr/bin/xenstore-write /local/domain/7/data 123456789 /local/domain/7/x ab
/usr/bin/xenstore-chmod /local/domain/7/data n7
/usr/bin/xenstore-chmod /local/domain/7/x n7
nodes=$(($(/usr/bin/xenstore-ls -f / | wc -l) + 3))	# + /, 2 special
bytes=0
while IFS= read -r p; do
	bytes=$((bytes + $(/usr/bin/xenstore-read -R "$p" | wc -c)))
done < <(/usr/bin/xenstore-ls -f / | sed 's/ = .*//')

insd stat >"$LXS_TMP/st"
check_eq "stat while the daemon runs: exit 0" 0 $?
# field NAME: the rest of the line "NAME: ...".
field() { sed -n "s/^$1: *//p" "$LXS_TMP/st"; }
check_eq "nodes" "$nodes (2 special)" "$(field nodes)"
check_eq "value bytes" "$bytes" "$(field 'value bytes')"
check_eq "max depth" "6  /deep/a/b/c/d/e" "$(field 'max depth')"
check_eq "domain 7 owns 2 nodes of 11 bytes" "7 2 11" \
	"$(awk '$1 == 7 && NF == 3 { print $1, $2, $3 }' "$LXS_TMP/st")"
check_eq "domain 5 owns 1 node" "5 1 0" \
	"$(awk '$1 == 5 && NF == 3 { print $1, $2, $3 }' "$LXS_TMP/st")"
check_eq "the largest value comes first" "300 /deep/a/b/c/d/e" \
	"$(sed -n '/^largest values/{n;p}' "$LXS_TMP/st" | awk '{ print $1, $2 }')"
check_eq "ten largest values" 10 \
	"$(sed -n '/^largest values/,/^largest dir/p' "$LXS_TMP/st" | grep -c '^  ')"
check_eq "the largest directory comes first" "30 /big" \
	"$(sed -n '/^largest directories/{n;p}' "$LXS_TMP/st" | awk '{ print $1, $2 }')"
for f in $(dur_snapshots) $(dur_segments); do
	grep -q "^  $f " "$LXS_TMP/st" || fail "$(basename "$f") is not listed"
done
ok "every snapshot and segment is listed"
snap=$(dur_snapshots | tail -n 1)
grep -q "^  $snap  seq .*(base of this state)" "$LXS_TMP/st" &&
	ok "the newest snapshot is the base" || fail "base: $(grep -A3 '^snapshots' "$LXS_TMP/st")"
grep -q -E '^  unbroken from seq [0-9]+ to [0-9]+$' "$LXS_TMP/st" &&
	ok "the log's range" || fail "no range: $(sed -n '/^log:/,$p' "$LXS_TMP/st")"
grep -q -E "^state: *seq $(last_seq) = snapshot seq [0-9]+ \+ [0-9]+ log records$" \
	"$LXS_TMP/st" && ok "the state's seq, snapshot and records" ||
	fail "state: $(field state)"
for w in watches connections transactions; do
	grep -q "^$w: *not recorded" "$LXS_TMP/st" || fail "$w: $(field "$w")"
done
ok "watches, connections, transactions: not recorded"
grep -q "^source: .*lxenstored pid $LXS_DAEMON_PID is running" "$LXS_TMP/st" &&
	ok "the running daemon is noticed" || fail "source: $(field source)"
grep -q "^  global: nodes=1000 " "$LXS_TMP/st" && ok "the global quotas" ||
	fail "quotas: $(sed -n '/^quotas/,/^snapshots/p' "$LXS_TMP/st")"
dur_stop

ins "$snap" stat >"$LXS_TMP/st"
check_eq "stat of a snapshot file: exit 0" 0 $?
grep -q "^state: *seq [0-9]* = snapshot seq" "$LXS_TMP/st" &&
	grep -q -A1 '^log:' "$LXS_TMP/st" && grep -q '^  none' "$LXS_TMP/st" &&
	ok "...with no log" || fail "$(head -3 "$LXS_TMP/st")"
mkdir -p "$LXS_TMP/empty"
check_rc "stat of a directory without state: exit 1" 1 \
	ins --state-dir "$LXS_TMP/empty" stat
grep -q "not a state directory" "$LXS_TMP/out" && ok "...saying so" ||
	fail "message: $(cat "$LXS_TMP/out")"
check_rc "stat takes no operand" 2 insd stat /x

lxs_done
