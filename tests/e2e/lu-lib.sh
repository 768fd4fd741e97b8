# shellcheck shell=bash
# tests/e2e/lu-lib.sh: helpers of the lu-*.sh tests (sourced).
#
# A live update replaces the daemon process: the shell's child (the first
# daemon) exits with status 0 and the new daemon, started by it, is not
# our child. So the daemon runs with a pid file, and:
#   lu_start              starts our daemon (-F pid, short -f load timeout)
#   lu_pid                the pid in the pid file
#   lu_serving NAME PID   checks that PID is the daemon and it answers
#   lu_finish             stops whichever daemon serves, checks its log,
#                         and ends the test (lxs_done)
#   lu_py SCRIPT ARGS...  runs tests/e2e/SCRIPT with Debian's python3; its
#                         "ok   ..." / "FAIL ..." lines become checks
#   lu_load_start N       starts lu-load.py with N socket clients
#   lu_updates NAME N     N updates in a row by Xen's xenstore-control;
#                         checks that each was answered by a new daemon
#   lu_load_stop          stops lu-load.py; its lines become checks
#   XC / OURXC            Xen's and our xenstore-control
#   LXS                   our lxenstored (the "new binary")

. "$(dirname "$0")/server-lib.sh"

XC=$XEN_BIN/xenstore-control
OURXC=$top_builddir/xenstore-control
LXS=$(cd "$top_builddir" && pwd)/lxenstored

lu_start() {
	LXS_DAEMON_ARGS="-F pid --live-update-check-timeout 5 ${LXS_DAEMON_ARGS:-}"
	lxs_start_own
	LU_FIRST_PID=$LXS_DAEMON_PID
}

lu_py() {
	_script=$1
	shift
	"$LXS_PYTHON" "$(dirname "$0")/$_script" "$@" >"$LXS_TMP/py.out" 2>&1
	check_eq "$_script ran to its end" 0 $?
	lu_py_lines "$LXS_TMP/py.out"
}

lu_py_lines() {
	while read -r _line; do
		case $_line in
		"ok   "*) ok "${_line#ok   }" ;;
		"FAIL "*) fail "${_line#FAIL }" ;;
		*) printf '%s\n' "$_line" ;;
		esac
	done <"$1"
}

lu_load_start() {
	"$LXS_PYTHON" "$(dirname "$0")/lu-load.py" "$XENSTORED_PATH" "$1" \
		"$LXS_TMP/stop" >"$LXS_TMP/load.out" 2>&1 &
	LU_LOAD=$!
	sleep 1
}

lu_updates() {
	_prev=$(lu_pid) _good=0
	for _i in $(seq 1 "$2"); do
		if "$XC" live-update -t 60 "$LXS" >"$LXS_TMP/lu.out" 2>&1; then
			_cur=$(lu_pid)
			[ "$_cur" != "$_prev" ] && _good=$((_good + 1))
			_prev=$_cur
		else
			printf '     update %d: %s\n' "$_i" "$(cat "$LXS_TMP/lu.out")"
		fi
	done
	check_eq "$1" "$2" "$_good"
}

lu_load_stop() {
	touch "$LXS_TMP/stop"
	wait "$LU_LOAD"
	check_eq "the load client finished" 0 $?
	lu_py_lines "$LXS_TMP/load.out"
}

lu_pid() {
	cat "$LXS_TMP/pid" 2>/dev/null
}

lu_serving() {
	if kill -0 "$2" 2>/dev/null && lxs_answers; then
		ok "$1"
	else
		fail "$1 (pid $2)"
	fi
}

lu_finish() {
	_cur=$(lu_pid)
	if [ -n "$LU_FIRST_PID" ] && [ "$_cur" != "$LU_FIRST_PID" ]; then
		# The first daemon handed over and exited on its own.
		wait "$LU_FIRST_PID" 2>/dev/null
		_st=$?
		check_eq "the first daemon exited with status 0" 0 "$_st"
		LXS_DAEMON_PID=
		if kill -TERM "$_cur" 2>/dev/null; then
			_i=0
			while kill -0 "$_cur" 2>/dev/null && [ $_i -lt 100 ]; do
				sleep 0.1
				_i=$((_i + 1))
			done
			if kill -0 "$_cur" 2>/dev/null; then
				fail "the last daemon ignored SIGTERM"
				kill -KILL "$_cur"
			else
				ok "the last daemon stopped on SIGTERM"
			fi
		else
			fail "the last daemon (pid $_cur) was gone"
		fi
		if grep -q -E 'AddressSanitizer|LeakSanitizer|runtime error:' \
		    "$LXS_TMP/daemon.log"; then
			fail "sanitizer report in the daemon log"
		fi
	fi
	lxs_done
}
