# shellcheck shell=bash
# tests/e2e/server-lib.sh: helpers of the server-*.sh tests (sourced).
#
# Builds on lib.sh (daemon start/stop, ok/fail/check_*). Adds:
#   raw ARGS...            tests/rawclient on $XENSTORED_PATH (see its
#                          header for the SPEC syntax)
#   raw_on SOCKET ARGS...  the same on another socket
#   check_raw NAME EXPECTED SPEC...   one rawclient run, output compared
#                          (lines joined with '|')
#   lxs_vm PID FIELD       a /proc/PID/status field in KiB (VmRSS, VmHWM)
#   lxs_daemon_log PATTERN true if the daemon's log matches PATTERN

# shellcheck source=tests/e2e/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

LXS_RAWCLIENT=$top_builddir/tests/rawclient
[ -x "$LXS_RAWCLIENT" ] || lxs_error "$LXS_RAWCLIENT not built (make check builds it)"

raw() {
	"$LXS_RAWCLIENT" "$XENSTORED_PATH" "$@"
}

raw_on() {
	_sock=$1
	shift
	"$LXS_RAWCLIENT" "$_sock" "$@"
}

check_raw() {
	_name=$1 _want=$2
	shift 2
	check_eq "$_name" "$_want" "$(raw "$@" 2>&1 | tr '\n' '|' | sed 's/|$//')"
}

lxs_vm() {
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"
}

lxs_daemon_log() {
	grep -q -E "$1" "$LXS_TMP/daemon.log"
}

# Runs only against our own daemon (these tests check lxenstored itself).
lxs_start_own() {
	unset LXS_TEST_SOCKET
	lxs_start
}
