#!/usr/bin/env bash
# Live update failures: each leaves the old daemon serving with its
# connections, and xenstore-control prints why. A missing or non-executable
# binary; a new daemon that crashes, hangs or rejects the state while it
# loads (answering -f), or after -s (crashes, not ready within -t,
# refuses the handed-over state). Then -a, the loaded daemon not waiting
# past --live-update-keep, and a new binary from before LOADED.
. "$(dirname "$0")/lu-lib.sh"
LXS_DAEMON_ARGS="--live-update-keep 2"
lxs_need "$XC"
lu_start
W=$LXS_TMP/wrap
mkdir -p "$W" "$LXS_TMP/other"

# wrap NAME ACTION: a "new binary" (a shell script) that runs ACTION.
wrap() {
	printf '#!/bin/sh\n%s\n' "$2" >"$W/$1"
	chmod +x "$W/$1"
}
wrap crash-load 'kill -SEGV $$'
wrap hang-load 'exec sleep 600'
wrap reject-load "exec $LXS \"\$@\" --state-dir=/proc/nonexistent/x"
wrap crash-go "exec $LXS_PYTHON $(cd "$(dirname "$0")" && pwd)/lu-fake.py crash \"\$@\""
wrap hang-go "exec $LXS_PYTHON $(cd "$(dirname "$0")" && pwd)/lu-fake.py hang \"\$@\""
wrap reject-handover "exec $LXS \"\$@\" --state-dir=$LXS_TMP/other"
wrap before-loaded "exec env -u LXS_LIVE_UPDATE_LOADED $LXS \"\$@\""
printf '#!/bin/sh\nexit 0\n' >"$W/not-exec"
chmod 644 "$W/not-exec"

/usr/bin/xenstore-write /fw/a 1
# A client connected throughout: its watch must fire after every failure.
raw -w 120 'WATCH:/fw\0t\0' 'events:2' 'READ:/fw/a\0' >"$LXS_TMP/watcher" 2>&1 &
WATCHER=$!
sleep 0.5

# lu_fails NAME EXPECTED-OUTPUT ARGS...: xenstore-control live-update ARGS
# exits 3 printing EXPECTED-OUTPUT; the same daemon still serves.
lu_fails() {
	_n=$1 _want=$2
	shift 2
	_got=$("$XC" live-update "$@" 2>&1)
	_rc=$?
	if [ "$_rc" = 3 ] && [ "$_got" = "$_want" ]; then
		ok "$_n: xenstore-control says why"
	else
		fail "$_n: status $_rc"
		printf '     expected: %s\n     actual:   %s\n' "$_want" "$_got"
	fi
	check_eq "$_n: the same daemon serves" "$LU_FIRST_PID" "$(lu_pid)"
	lu_serving "$_n: it answers" "$LU_FIRST_PID"
}

lu_fails "missing binary" "Setting update binary failed:
new binary $W/none: No such file or directory" -t 5 "$W/none"
lu_fails "not executable" "Setting update binary failed:
new binary $W/not-exec: Permission denied" -t 5 "$W/not-exec"
lu_fails "new daemon crashes while loading (-f)" "Setting update binary failed:
live update failed: new binary was killed by signal 11 (Segmentation fault) while loading" \
	-t 5 "$W/crash-load"
lu_fails "new daemon hangs while loading (-f)" "Setting update binary failed:
live update failed: new binary did not load the state within 5 s" \
	-t 5 "$W/hang-load"
out=$("$XC" live-update -t 5 "$W/reject-load" 2>&1)
case $out in
"Setting update binary failed:
live update failed: new binary refused the state: loading /proc/nonexistent/x:"*)
	ok "new daemon rejects the state (-f): xenstore-control says why" ;;
*)	fail "new daemon rejects the state (-f): $out" ;;
esac
lu_fails "new daemon crashes after -s" "Starting live update failed:
live update failed: new binary was killed by signal 11 (Segmentation fault) while loading" \
	-t 10 "$W/crash-go"
lu_fails "new daemon hangs after -s: not ready within -t" "Starting live update failed:
live update failed: new binary not ready within 3 s" -t 3 "$W/hang-go"
out=$("$XC" live-update -t 10 "$W/reject-handover" 2>&1)
case $out in
"Starting live update failed:
live update failed: new binary refused the state: the log of $LXS_TMP/other ends at seq 0, the old daemon wrote up to "*)
	ok "new daemon refuses the handed-over state: xenstore-control says why" ;;
*)	fail "new daemon refuses the state: $out" ;;
esac
check_eq "refused: the same daemon serves" "$LU_FIRST_PID" "$(lu_pid)"
[ -z "$(ls "$LXS_TMP/other")" ] && ok "the refusing binary wrote nothing" ||
	fail "files in the other state dir: $(ls "$LXS_TMP/other")"

# lu_child_of PATTERN: the pid of the newest "started" line for PATTERN.
lu_child_of() {
	sed -n "s|^.*live update: started $1 (pid \([0-9]*\)).*|\1|p" \
		"$LXS_TMP/daemon.log" | tail -1
}
# -a ends a session: the loaded new daemon is killed, the next -s has no
# binary.
check_raw "-f, then -a, then -s" \
	"CONTROL OK\0|CONTROL OK\0|CONTROL no new binary given (live-update -f)\0" \
	"CONTROL:live-update\0-f\0$LXS\0" 'CONTROL:live-update\0-a\0' \
	'CONTROL:live-update\0-s\0'
child=$(lu_child_of "$LXS")
sleep 0.2
[ -n "$child" ] && ! kill -0 "$child" 2>/dev/null &&
	ok "-a: the loaded new daemon ($child) is gone" ||
	fail "-a: the loaded new daemon '$child' still runs"
# Loaded at -f, it waits for -s only --live-update-keep (2 s); the -s
# after that starts a new one, and the update happens.
raw "CONTROL:live-update\0-f\0$LXS\0" 'sleep:3.5' \
	'CONTROL:live-update\0-s\0-t\020\0' >"$LXS_TMP/keep" &
KEEPER=$!
sleep 1
child=$(lu_child_of "$LXS")
kill -0 "$child" 2>/dev/null && ok "loaded at -f, the new daemon waits" ||
	fail "the new daemon '$child' is not waiting"
sleep 2
! kill -0 "$child" 2>/dev/null &&
	lxs_daemon_log "no -s within 2 s: the new daemon is stopped" &&
	ok "after --live-update-keep it is stopped" ||
	fail "the new daemon '$child' outlived --live-update-keep"
wait "$KEEPER"
check_eq "-s after that: a new daemon is started and takes over" \
	"CONTROL OK\0|CONTROL OK\0" "$(tr '\n' '|' <"$LXS_TMP/keep" | sed 's/|$//')"
[ "$(lu_pid)" != "$LU_FIRST_PID" ] && ok "the pid file names the new daemon" ||
	fail "the pid file still names $LU_FIRST_PID"

/usr/bin/xenstore-write /fw/a 2
wait "$WATCHER"
check_eq "the watcher's connection lived through every failure" \
	"WATCH OK\0|WATCH_EVENT /fw\0t\0|WATCH_EVENT /fw/a\0t\0|READ 2" \
	"$(tr '\n' '|' <"$LXS_TMP/watcher" | sed 's/|$//')"
# A new binary from before LOADED: its load at -f is the check, and it
# is started again at -s.
prev=$(lu_pid)
check_out "a new binary that does not wait after loading" "" \
	"$XC" live-update -t 30 "$W/before-loaded"
lxs_daemon_log "before-loaded loads the state; it does not wait for -s" &&
	ok "it was started again at -s" || fail "no 'does not wait' line"
[ "$(lu_pid)" != "$prev" ] && ok "and the update happened" ||
	fail "the pid file still names $prev"
lu_serving "the new daemon serves" "$(lu_pid)"
lu_finish
