#!/usr/bin/env bash
# lxenstore-inspect diff between two points of the state directory, two
# snapshot files, two state directories, and a state and the running
# daemon: + added, - removed (every node of a subtree), ~ changed value or
# permissions, in path order; exit 0 same, 1 different, 2 trouble.
. "$(dirname "$0")/inspect-lib.sh"
dur_init
lxs_need /usr/bin/xenstore-write /usr/bin/xenstore-chmod /usr/bin/xenstore-rm

# snapshot_now: forces a snapshot and prints its file.
snapshot_now() {
	"$DUR_CTL" snapshot >/dev/null || fail "forced snapshot"
	dur_wait_status 'snapshot: .*idle' || fail "snapshot did not finish"
	dur_snapshots | tail -n 1
}

dur_start --log-segment-size 4096 --snapshot-records 0
/usr/bin/xenstore-write /d/keep 1 /d/change old /d/perm x /d/gone/sub 1
/usr/bin/xenstore-write /d/a-b 1 /d/a/z 1
a=$(last_seq)
cp "$(snapshot_now)" "$LXS_TMP/a.lxs"
/usr/bin/xenstore-write /d/change new
/usr/bin/xenstore-chmod /d/perm n0 r3
/usr/bin/xenstore-rm /d/gone
/usr/bin/xenstore-write /d/new/x 1 /d/a/y 1 /d/a-b 2
b=$(last_seq)
cp "$(snapshot_now)" "$LXS_TMP/b.lxs"

# /d/a's subtree comes before /d/a-b: path order is by component.
want="+ /d/a/y
~ /d/a-b
~ /d/change
- /d/gone
- /d/gone/sub
+ /d/new
+ /d/new/x
~ /d/perm"
insd diff "$a" "$b" >"$LXS_TMP/d"
check_eq "diff SEQ SEQ: exit 1 when different" 1 $?
check_eq "diff SEQ SEQ" "$want" "$(cat "$LXS_TMP/d")"
check_eq "diff B A is the other way round" "$(echo "$want" | sed 's/^+/x/; s/^-/+/; s/^x/-/')" \
	"$(insd diff "$b" "$a")"
check_out "diff of a point with itself: no line, exit 0" "" insd diff "$a" "$a"
check_eq "diff of two snapshot files" "$want" \
	"$(ins diff "$LXS_TMP/a.lxs" "$LXS_TMP/b.lxs")"
check_out "diff latest --socket: the log holds what the daemon holds" "" \
	insd diff --socket "$XENSTORED_PATH"
/usr/bin/xenstore-write /d/live 1
/usr/bin/xenstore-chmod /d/keep n0 b7
check_eq "diff SEQ --socket" "~ /d/keep
+ /d/live" "$(insd diff --socket "$XENSTORED_PATH" "$b")"
check_eq "diff FILE --socket" "+ /d/a/y
~ /d/a-b
~ /d/change
- /d/gone
- /d/gone/sub
~ /d/keep
+ /d/live
+ /d/new
+ /d/new/x
~ /d/perm" "$(ins diff --socket "$XENSTORED_PATH" "$LXS_TMP/a.lxs")"
dur_stop

cp -a "$DUR_STATE" "$LXS_TMP/copy"
dur_start
/usr/bin/xenstore-write /d/later 1
dur_stop
check_eq "diff of two state directories" "+ /d/later" \
	"$(ins diff "$LXS_TMP/copy" "$DUR_STATE")"

check_rc "an operand that is nothing: exit 2" 2 insd diff "$a" no-such-thing
check_rc "a missing file: exit 2" 2 insd diff "$a" "$LXS_TMP/none.lxs"
check_rc "a daemon that is not there: exit 2" 2 \
	insd diff --socket "$LXS_TMP/no-socket"
check_rc "one operand without --socket: exit 2" 2 insd diff "$a"
head -c 300 /dev/urandom >"$LXS_TMP/garbage.lxs"
check_rc "a garbage snapshot: exit 2" 2 ins diff "$LXS_TMP/a.lxs" "$LXS_TMP/garbage.lxs"

lxs_done
