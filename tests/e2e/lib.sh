# shellcheck shell=bash disable=SC2034
# tests/e2e/lib.sh: shared code of the end-to-end tests (sourced, not run).
#
# Each test starts its own ./lxenstored on a private socket in a fresh
# directory under /tmp (a unix socket path must stay below 108 bytes, so
# not under the build tree, which is deep under `make distcheck`), waits
# until it answers, runs its checks with Xen's own clients and stops the
# daemon on exit, whatever happened.
#
# Environment:
#   top_builddir, top_srcdir  set by `make check` (AM_TESTS_ENVIRONMENT);
#                       default: the checkout holding this file.
#   LXS_TEST_SOCKET     use the daemon already listening there instead of
#                       starting one (e.g. an anchor cxenstored); checks
#                       of lxenstored's own behaviour are then skipped.
#   LXS_DAEMON          daemon binary (default $top_builddir/lxenstored).
#   LXS_DAEMON_ARGS     extra daemon arguments.
#   LXS_TEST_STRICT=1   a missing Xen client is a failure, not a skip
#                       (./dev.sh test sets it).
#   XEN_BIN             Xen's private tools (default /usr/lib/xen-4.17/bin).
#   LXS_TEST_KEEP=1     keep the temporary directory (daemon log) on exit.
#   LXS_VALGRIND=1      run the daemon that lxs_start starts under valgrind
#                       memcheck (long mode, docs/TESTING.md): any error or
#                       definite/indirect leak fails the test at lxs_stop.
#                       Daemons restarted by a test itself run natively;
#                       memory and latency bounds are not judged.
#
# Exit status, as automake's test driver reads it: 0 pass, 1 fail,
# 77 skip, 99 hard error (the harness itself could not run).
#
# After lxs_start: $XENSTORED_PATH is exported, $LXS_TMP is a private
# scratch directory, $LXS_TARGET is "lxenstored" or "external". For our own
# daemon, $LXS_DAEMON_PID is its pid and $LXS_TMP/daemon.log its output
# (stdout and stderr); both are empty/absent with LXS_TEST_SOCKET.

set -u

if [ -z "${top_srcdir:-}" ]; then
	top_srcdir=$(cd "$(dirname "$0")/../.." && pwd)
fi
: "${top_builddir:=$top_srcdir}"
top_srcdir=$(cd "$top_srcdir" && pwd)
top_builddir=$(cd "$top_builddir" && pwd)
: "${XEN_BIN:=/usr/lib/xen-4.17/bin}"
LXS_PYTHON=/usr/bin/python3	# Debian's python3, the one with pyxs
LXS_NAME=$(basename "$0" .sh)
LXS_PASS=0
LXS_FAIL=0
LXS_TMP=
LXS_DAEMON_PID=
LXS_TARGET=

# --- reporting ---------------------------------------------------------------

lxs_log() { printf '%s\n' "$*"; }

ok() {
	LXS_PASS=$((LXS_PASS + 1))
	printf 'ok   %s\n' "$*"
}

fail() {
	LXS_FAIL=$((LXS_FAIL + 1))
	printf 'FAIL %s\n' "$*"
}

# Hard error: the test could not run at all.
lxs_error() {
	printf 'ERROR %s: %s\n' "$LXS_NAME" "$*" >&2
	exit 99
}

# Something the test needs is missing: skip, or fail under LXS_TEST_STRICT.
# lxs_skip_mode WHY: the test means nothing in this mode (e.g. memory
# bounds under valgrind); skipped even with LXS_TEST_STRICT=1.
lxs_skip_mode() {
	printf 'SKIP %s: %s\n' "$LXS_NAME" "$*"
	exit 77
}

lxs_skip() {
	if [ "${LXS_TEST_STRICT:-0}" = 1 ]; then
		lxs_error "$* (LXS_TEST_STRICT=1: not skipping)"
	fi
	printf 'SKIP %s: %s\n' "$LXS_NAME" "$*"
	exit 77
}

# check_eq NAME EXPECTED ACTUAL
check_eq() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		fail "$1"
		printf '     expected: %s\n     actual:   %s\n' "$2" "$3"
	fi
}

# check_rc NAME EXPECTED_STATUS COMMAND...: runs COMMAND, compares $?.
# Its output goes to $LXS_TMP/out (shown on failure).
check_rc() {
	_name=$1 _want=$2
	shift 2
	"$@" >"$LXS_TMP/out" 2>&1
	_got=$?
	if [ "$_got" = "$_want" ]; then
		ok "$_name"
	else
		_cmd="$*"
		fail "$_name: exit status $_got, expected $_want: ${_cmd:0:160}"
		sed 's/^/     | /' "$LXS_TMP/out" | head -20
	fi
}

# check_out NAME EXPECTED COMMAND...: runs COMMAND (stdout and stderr),
# requires status 0 and exactly EXPECTED as its output.
check_out() {
	_name=$1 _want=$2
	shift 2
	_got=$("$@" 2>&1)
	_rc=$?
	if [ "$_rc" != 0 ]; then
		_cmd="$*"
		fail "$_name: exit status $_rc: ${_cmd:0:160}"
		printf '%s\n' "$_got" | sed 's/^/     | /' | head -20
	else
		check_eq "$_name" "$_want" "$_got"
	fi
}

# Prints the summary and ends the test with the automake status.
lxs_done() {
	printf '%s: %d passed, %d failed\n' "$LXS_NAME" "$LXS_PASS" "$LXS_FAIL"
	if [ "$LXS_FAIL" -ne 0 ]; then
		exit 1
	fi
	if [ "$LXS_PASS" -eq 0 ]; then
		lxs_error "no check ran"
	fi
	exit 0
}

# --- requirements --------------------------------------------------------------

# lxs_need FILE...: skips the test unless every FILE is executable.
lxs_need() {
	for _f in "$@"; do
		[ -x "$_f" ] || lxs_skip "$_f not found (Debian: xenstore-utils, xen-utils-4.17)"
	done
}

lxs_need_pyxs() {
	[ -x "$LXS_PYTHON" ] || lxs_skip "$LXS_PYTHON not found"
	"$LXS_PYTHON" -c 'import pyxs' 2>/dev/null ||
		lxs_skip "pyxs not importable by $LXS_PYTHON (Debian: python3-pyxs)"
}

# --- the daemon under test ---------------------------------------------------------

# True once the daemon on $XENSTORED_PATH answers a request.
# Whether the daemon of lxs_start runs under valgrind (LXS_VALGRIND=1).
LXS_VALGRIND_STATUS=97
lxs_valgrind() {
	[ "${LXS_VALGRIND:-0}" = 1 ]
}

lxs_answers() {
	timeout 5 /usr/bin/xenstore-exists / >/dev/null 2>&1
}

lxs_cleanup() {
	_rc=$?
	trap - EXIT INT TERM HUP
	if [ -n "$LXS_DAEMON_PID" ]; then
		lxs_stop || _rc=1
	fi
	if [ -n "$LXS_TMP" ] && [ -d "$LXS_TMP" ]; then
		if [ "${LXS_TEST_KEEP:-0}" = 1 ] || [ "$_rc" != 0 ]; then
			# Keep the evidence of a failure (daemon log) but say where.
			printf '%s: files kept in %s\n' "$LXS_NAME" "$LXS_TMP"
		else
			rm -rf "$LXS_TMP"
		fi
	fi
	exit "$_rc"
}

# Stops the daemon we started with SIGTERM (SIGKILL after 10 s) and checks
# how it went: it must still have been running, must exit on SIGTERM, and
# its log must hold no sanitizer report.
lxs_stop() {
	_pid=$LXS_DAEMON_PID
	LXS_DAEMON_PID=
	_bad=0
	if ! kill -0 "$_pid" 2>/dev/null; then
		printf 'FAIL %s: the daemon died during the test\n' "$LXS_NAME"
		_bad=1
	else
		kill -TERM "$_pid" 2>/dev/null
		_i=0
		while kill -0 "$_pid" 2>/dev/null && [ $_i -lt 100 ]; do
			sleep 0.1
			_i=$((_i + 1))
		done
		if kill -0 "$_pid" 2>/dev/null; then
			printf 'FAIL %s: the daemon ignored SIGTERM for 10 s\n' "$LXS_NAME"
			kill -KILL "$_pid" 2>/dev/null
			_bad=1
		fi
	fi
	wait "$_pid" 2>/dev/null
	_st=$?
	case $_st in
	0|143) ;;
	"$LXS_VALGRIND_STATUS")
		printf 'FAIL %s: valgrind found errors or leaks\n' "$LXS_NAME"
		cat "$LXS_TMP/valgrind.log" 2>/dev/null
		_bad=1 ;;
	*)	printf 'FAIL %s: the daemon exited with status %s\n' "$LXS_NAME" "$_st"
		_bad=1 ;;
	esac
	if grep -q -E 'AddressSanitizer|LeakSanitizer|runtime error:' \
	    "$LXS_TMP/daemon.log" 2>/dev/null; then
		printf 'FAIL %s: sanitizer report in the daemon log\n' "$LXS_NAME"
		_bad=1
	fi
	if [ $_bad -ne 0 ]; then
		echo "--- daemon log (last 40 lines): $LXS_TMP/daemon.log"
		tail -n 40 "$LXS_TMP/daemon.log" 2>/dev/null
		return 1
	fi
	return 0
}

# Starts the daemon (or adopts $LXS_TEST_SOCKET) and waits until it answers.
lxs_start() {
	lxs_need /usr/bin/xenstore-exists
	LXS_TMP=$(mktemp -d /tmp/lxs-test.XXXXXX) || lxs_error "mktemp failed"
	trap lxs_cleanup EXIT
	trap 'exit 1' INT TERM HUP

	if [ -n "${LXS_TEST_SOCKET:-}" ]; then
		LXS_TARGET=external
		export XENSTORED_PATH=$LXS_TEST_SOCKET
		lxs_answers || lxs_error "no daemon answers on $LXS_TEST_SOCKET"
		lxs_log "# testing the daemon on $LXS_TEST_SOCKET"
		return 0
	fi

	LXS_TARGET=lxenstored
	_daemon=${LXS_DAEMON:-$top_builddir/lxenstored}
	[ -x "$_daemon" ] || lxs_error "$_daemon not built"
	export XENSTORED_PATH=$LXS_TMP/socket
	# Persistent state (write-ahead log, snapshots) stays private too.
	_state=
	if "$_daemon" --help 2>&1 | grep -q -e '--state-dir'; then
		mkdir -p "$LXS_TMP/state"
		_state=--state-dir=$LXS_TMP/state
	fi
	_vg=
	if lxs_valgrind; then
		# Small pages: the huge-page re-exec would leave valgrind.
		export LXS_HUGE_PAGES=0
		_vg="valgrind --quiet --error-exitcode=$LXS_VALGRIND_STATUS
		--leak-check=full --show-leak-kinds=definite,indirect
		--errors-for-leak-kinds=definite,indirect
		--log-file=$LXS_TMP/valgrind.log"
	fi
	# shellcheck disable=SC2086 # LXS_DAEMON_ARGS and _vg are word lists
	(cd "$LXS_TMP" && exec $_vg "$_daemon" --foreground $_state ${LXS_DAEMON_ARGS:-}) \
		>"$LXS_TMP/daemon.log" 2>&1 </dev/null &
	LXS_DAEMON_PID=$!
	_i=0
	while :; do
		if ! kill -0 "$LXS_DAEMON_PID" 2>/dev/null; then
			wait "$LXS_DAEMON_PID" 2>/dev/null
			_st=$?
			LXS_DAEMON_PID=
			cat "$LXS_TMP/daemon.log"
			lxs_error "$_daemon exited with status $_st at start"
		fi
		[ -S "$XENSTORED_PATH" ] && lxs_answers && break
		_i=$((_i + 1))
		[ $_i -le 200 ] || lxs_error "$_daemon did not answer within 20 s"
		sleep 0.1
	done
	lxs_log "# lxenstored pid $LXS_DAEMON_PID on $XENSTORED_PATH"
}

# --- helpers for the checks ----------------------------------------------------------

# lxs_wait_lines FILE N [SECONDS]: waits until FILE has at least N lines.
lxs_wait_lines() {
	_i=0
	_max=$((${3:-10} * 10))
	while [ "$(wc -l <"$1" 2>/dev/null || echo 0)" -lt "$2" ]; do
		_i=$((_i + 1))
		[ $_i -le $_max ] || return 1
		sleep 0.1
	done
	return 0
}

# Joins the lines of stdin with single spaces.
lxs_join() {
	tr '\n' ' ' | sed 's/ $//'
}
