#!/usr/bin/env bash
# Live update failures: each leaves the old daemon serving with its
# connections, and xenstore-control prints why. A missing or non-executable
# binary, a dry run that crashes, hangs or rejects the state, a new daemon
# that crashes, hangs (-t) or refuses the handed-over state.
. "$(dirname "$0")/lu-lib.sh"
lxs_need "$XC"
lu_start
W=$LXS_TMP/wrap
mkdir -p "$W" "$LXS_TMP/other"

# wrap NAME CHECK-ACTION LOAD-ACTION: a "new binary" that runs CHECK-ACTION
# for the dry run and LOAD-ACTION for the update ("ok" runs lxenstored).
wrap() {
	{
		echo '#!/bin/sh'
		echo 'case " $* " in'
		printf '*" --live-update-check "*) %s ;;\n' "$2"
		echo 'esac'
		printf '%s\n' "$3"
	} >"$W/$1"
	chmod +x "$W/$1"
}
ok_run="exec $LXS \"\$@\""
wrap crash-check 'kill -SEGV $$' "$ok_run"
wrap hang-check 'exec sleep 600' "$ok_run"
wrap reject-check "exec $LXS \"\$@\" --state-dir=/proc/nonexistent/x" "$ok_run"
wrap crash-load "$ok_run" 'kill -SEGV $$'
wrap hang-load "$ok_run" 'exec sleep 600'
wrap reject-load "$ok_run" "exec $LXS \"\$@\" --state-dir=$LXS_TMP/other"
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
lu_fails "dry run crashes" "Setting update binary failed:
new binary was killed by signal 11 (Segmentation fault) in its dry run" \
	-t 5 "$W/crash-check"
lu_fails "dry run hangs" "Setting update binary failed:
live update failed: new binary did not finish its dry run within 5 s" \
	-t 5 "$W/hang-check"
out=$("$XC" live-update -t 5 "$W/reject-check" 2>&1)
case $out in
"Setting update binary failed:
new binary exited with status 1 in its dry run: loading /proc/nonexistent/x:"*)
	ok "dry run rejects the state: xenstore-control says why" ;;
*)	fail "dry run rejects the state: $out" ;;
esac
lu_fails "new daemon crashes while loading" "Starting live update failed:
live update failed: new binary was killed by signal 11 (Segmentation fault) while loading" \
	-t 10 "$W/crash-load"
lu_fails "new daemon hangs: not ready within -t" "Starting live update failed:
live update failed: new binary not ready within 3 s" -t 3 "$W/hang-load"
out=$("$XC" live-update -t 10 "$W/reject-load" 2>&1)
case $out in
"Starting live update failed:
live update failed: new binary refused the state: the log of $LXS_TMP/other ends at seq 0, the old daemon wrote up to "*)
	ok "new daemon refuses the handed-over state: xenstore-control says why" ;;
*)	fail "new daemon refuses the state: $out" ;;
esac
check_eq "refused: the same daemon serves" "$LU_FIRST_PID" "$(lu_pid)"
[ -z "$(ls "$LXS_TMP/other")" ] && ok "the refusing binary wrote nothing" ||
	fail "files in the other state dir: $(ls "$LXS_TMP/other")"
# -a ends a session whose update failed: the next -s has no binary.
check_raw "-f, then -a, then -s" \
	"CONTROL OK\0|CONTROL OK\0|CONTROL no new binary given (live-update -f)\0" \
	"CONTROL:live-update\0-f\0$W/hang-load\0" 'CONTROL:live-update\0-a\0' \
	'CONTROL:live-update\0-s\0'

/usr/bin/xenstore-write /fw/a 2
wait "$WATCHER"
check_eq "the watcher's connection lived through every failure" \
	"WATCH OK\0|WATCH_EVENT /fw\0t\0|WATCH_EVENT /fw/a\0t\0|READ 2" \
	"$(tr '\n' '|' <"$LXS_TMP/watcher" | sed 's/|$//')"
lu_finish
