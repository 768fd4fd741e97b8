#!/usr/bin/env bash
# The boot-id rule (a store from another boot is set aside, never used and
# never deleted) and the state directory lock.
. "$(dirname "$0")/durable-lib.sh"
dur_init

dur_start
xenstore-write /local/domain/3/name guest3
dur_kill
dur_start
check_eq "same boot: the store is kept" guest3 \
	"$(xenstore-read /local/domain/3/name 2>&1)"

# A second daemon on the same state directory (another socket) is refused.
out=$(XENSTORED_PATH=$LXS_TMP/other timeout 10 "$DUR_D" --foreground \
	--state-dir "$DUR_STATE" --boot-id-file "$DUR_BOOT" 2>&1)
check_eq "a second daemon on the same state directory exits 1" 1 $?
case $out in
*"in use by another lxenstored"*) ok "it says why" ;;
*) fail "second daemon said: $out" ;;
esac
check_eq "the first daemon is untouched" guest3 \
	"$(xenstore-read /local/domain/3/name 2>&1)"
dur_kill

echo boot-2 >"$DUR_BOOT"
dur_start
check_rc "another boot: the old store is not used" 1 \
	xenstore-read /local/domain/3/name
check_rc "the initial tree is there" 0 xenstore-read /tool/xenstored
prev=$(find "$DUR_STATE" -maxdepth 1 -type d -name 'prev-boot-*' | head -1)
[ -n "$prev" ] && [ -n "$(find "$prev" -name 'wal-*.log')" ] &&
	ok "the old boot's log is kept in $(basename "$prev")" ||
	fail "state: $(ls -R "$DUR_STATE")"
grep -q 'boot-1.*moved to' "$LXS_TMP/daemon.log" &&
	ok "the daemon log says so" || fail "no log line about the old boot"
check_eq "boot id recorded" boot-2 "$(cat "$DUR_STATE/boot-id")"
xenstore-write /new 1
dur_kill
dur_start
check_eq "the new boot's store is kept on restart" 1 "$(xenstore-read /new 2>&1)"
dur_stop
lxs_done
