# shellcheck shell=bash disable=SC2034
# tests/e2e/ring-lib.sh: helpers of the ring-*.sh tests (sourced).
#
# Runs the production ./lxenstored under the fake Xen: a wrapper starts it
# with LD_PRELOAD=tests/fakexen/libfakexen-lxs.so and LXS_FAKEXEN_DIR set
# (see tests/fakexen/fakexen.h), so its libxenevtchn/libxengnttab calls
# land on files and sockets in $LXS_FAKEXEN_DIR. Guests are
# tests/fakeguest processes that read commands from a FIFO (one per line,
# one result line each; see tests/fakeguest.c).
#
#   ring_prepare                 make $RING_DIR and the fake Xen's
#                                directory ($LXS_FAKEXEN_DIR), for guests
#                                that must exist before the daemon starts
#                                (ring_start does it otherwise)
#   ring_start [DAEMON_ARGS...]  start the daemon (lib.sh's lxs_start)
#   ring_restart [-9] [ARGS...]  stop it (SIGTERM, or SIGKILL) and start
#                                it again on the same state and fake Xen,
#                                with ARGS instead of the first arguments
#   ring_guest D [OPTS...]       start guest D (fakeguest options), wait
#                                until its ring and event channel exist
#   ring_introduce D [PORT]      INTRODUCE D over the socket (rawclient);
#                                prints the answer line
#   ring_cmd D CMD...            one guest command; result in $RING_OUT
#   ring_check NAME D EXPECTED CMD...  ring_cmd, then check_eq
#   ring_guest_stop D            "quit" and wait; returns its exit status
#   ring_page_field D OFFSET     a 32-bit field of D's ring page
#   ring_send D CMD...           the command goes out; its answer comes
#                                later (ring_answer)
#   ring_answer NAME D EXPECTED  check_eq of the answer to the command sent
#   ring_crashed NAME [HOOK]     waits until the daemon has killed itself,
#                                checks that the hook did it (default
#                                LXS_TEST_CRASH_BEFORE_RING_REPLY)
#   ring_xen [-n] D STATE [HANDLE]  what Xen (libxenctrl) says about
#                                domain D from now on: running, shutdown,
#                                crashed, dying, destroyed; HANDLE its UUID
#                                (32 hex digits); then VIRQ_DOM_EXC, unless
#                                -n (tests/fakexenctl)
#
# Everything lives in $RING_DIR (/tmp/lxs-ring.XXXXXX), removed on success.

# shellcheck source=tests/e2e/server-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/server-lib.sh"

LXS_FAKEGUEST=$top_builddir/tests/fakeguest
LXS_FAKEXEN=$top_builddir/tests/fakexen/libfakexen-lxs.so
LXS_FAKEXENCTL=$top_builddir/tests/fakexenctl
[ -x "$LXS_FAKEGUEST" ] || lxs_error "$LXS_FAKEGUEST not built (make check builds it)"
[ -x "$LXS_FAKEXENCTL" ] || lxs_error "$LXS_FAKEXENCTL not built (make check builds it)"
[ -f "$LXS_FAKEXEN" ] || lxs_error "$LXS_FAKEXEN not built (make check builds it)"

RING_DIR=
RING_OUT=
RING_GUESTS=
RING_REAL_DAEMON=${LXS_DAEMON:-$top_builddir/lxenstored}
RING_EXTRA_ARGS=

ring_cleanup() {
	_rrc=$?
	for _g in $RING_GUESTS; do
		eval "_p=\${RING_PID_$_g:-}"
		[ -n "$_p" ] && kill "$_p" 2>/dev/null
	done
	if [ -n "$RING_DIR" ] && [ -d "$RING_DIR" ]; then
		if [ "$_rrc" = 0 ] && [ "${LXS_TEST_KEEP:-0}" != 1 ]; then
			rm -rf "$RING_DIR"
		else
			printf '%s: ring files kept in %s\n' "$LXS_NAME" "$RING_DIR"
		fi
	fi
	(exit "$_rrc")
	lxs_cleanup
}

# The daemon as its wrapper starts it. An ASan runtime must come first in
# the preload list, so a sanitized daemon gets its own libasan in front.
ring_wrapper() {
	_asan=$(ldd "$RING_REAL_DAEMON" 2>/dev/null | awk '/libasan/ { print $3 }')
	cat >"$RING_DIR/daemon" <<EOF
#!/bin/sh
LXS_FAKEXEN_DIR='$LXS_FAKEXEN_DIR'
LD_PRELOAD='${_asan:+$_asan }$LXS_FAKEXEN'
export LXS_FAKEXEN_DIR LD_PRELOAD
exec '$RING_REAL_DAEMON' "\$@"
EOF
	chmod +x "$RING_DIR/daemon"
}

ring_prepare() {
	[ -n "$RING_DIR" ] && return 0
	RING_DIR=$(mktemp -d /tmp/lxs-ring.XXXXXX) || lxs_error "mktemp failed"
	export LXS_FAKEXEN_DIR=$RING_DIR/xen
	mkdir -p "$LXS_FAKEXEN_DIR"
	trap ring_cleanup EXIT
}

ring_start() {
	ring_prepare
	ring_wrapper
	LXS_DAEMON=$RING_DIR/daemon
	RING_EXTRA_ARGS=${LXS_DAEMON_ARGS:-}
	LXS_DAEMON_ARGS="$* $RING_EXTRA_ARGS"
	lxs_start_own
	trap ring_cleanup EXIT
	lxs_daemon_log 'guest rings enabled' ||
		lxs_error "the daemon did not open the fake Xen (see $LXS_TMP/daemon.log)"
}

# ring_restart [-9] [ARGS...]: the guests and their files stay.
ring_restart() {
	_pid=$LXS_DAEMON_PID
	if [ "${1:-}" = -9 ]; then
		kill -KILL "$_pid" 2>/dev/null
		shift
	else
		kill -TERM "$_pid" 2>/dev/null
	fi
	LXS_DAEMON_ARGS="$* $RING_EXTRA_ARGS"
	wait "$_pid" 2>/dev/null
	mv "$LXS_TMP/daemon.log" "$LXS_TMP/daemon.log.$_pid"
	if grep -q -E 'AddressSanitizer|LeakSanitizer|runtime error:' \
	    "$LXS_TMP/daemon.log.$_pid"; then
		fail "sanitizer report in $LXS_TMP/daemon.log.$_pid"
	fi
	# shellcheck disable=SC2086 # a list of words
	(cd "$LXS_TMP" && exec "$LXS_DAEMON" --foreground \
		--state-dir="$LXS_TMP/state" $LXS_DAEMON_ARGS) \
		>"$LXS_TMP/daemon.log" 2>&1 </dev/null &
	LXS_DAEMON_PID=$!
	_i=0
	until [ -S "$XENSTORED_PATH" ] && lxs_answers; do
		_i=$((_i + 1))
		[ $_i -le 200 ] || lxs_error "the daemon did not come back"
		kill -0 "$LXS_DAEMON_PID" 2>/dev/null ||
			lxs_error "the daemon exited at restart"
		sleep 0.1
	done
}

ring_guest() {
	_d=$1
	shift
	rm -f "$RING_DIR/ready-$_d" "$RING_DIR/in-$_d"
	mkfifo "$RING_DIR/in-$_d" || lxs_error "mkfifo failed"
	: >"$RING_DIR/out-$_d"
	"$LXS_FAKEGUEST" -r "$RING_DIR/ready-$_d" "$@" "$LXS_FAKEXEN_DIR" "$_d" - \
		<"$RING_DIR/in-$_d" >"$RING_DIR/out-$_d" 2>&1 &
	eval "RING_PID_$_d=$!"
	exec {_fd}>"$RING_DIR/in-$_d"
	eval "RING_FD_$_d=$_fd RING_SEEN_$_d=0"
	RING_GUESTS="$RING_GUESTS $_d"
	_i=0
	until [ -e "$RING_DIR/ready-$_d" ]; do
		_i=$((_i + 1))
		[ $_i -le 100 ] || lxs_error "guest $_d did not start: $(cat "$RING_DIR/out-$_d")"
		sleep 0.05
	done
}

ring_introduce() {
	raw "INTRODUCE:$1\\0$((4096 + $1))\\0${2:-1}\\0"
}

# ring_cmd D CMD... [-w SECONDS before CMD]: the result line in $RING_OUT.
ring_cmd() {
	_d=$1
	shift
	_wait=30
	if [ "$1" = -w ]; then
		_wait=$2
		shift 2
	fi
	eval "_fd=\$RING_FD_$_d _seen=\$RING_SEEN_$_d"
	printf '%s\n' "$*" >&"$_fd"
	_seen=$((_seen + 1))
	eval "RING_SEEN_$_d=$_seen"
	if lxs_wait_lines "$RING_DIR/out-$_d" "$_seen" "$_wait"; then
		RING_OUT=$(sed -n "${_seen}p" "$RING_DIR/out-$_d")
	else
		RING_OUT="NO-ANSWER from guest $_d"
	fi
}

ring_check() {
	_name=$1 _d=$2 _want=$3
	shift 3
	ring_cmd "$_d" "$@"
	check_eq "$_name" "$_want" "$RING_OUT"
}

ring_guest_stop() {
	eval "_fd=\$RING_FD_$1 _p=\$RING_PID_$1"
	printf 'quit\n' >&"$_fd"
	exec {_fd}>&-
	wait "$_p"
	_st=$?
	eval "RING_PID_$1="
	return $_st
}

# ring_page_field D OFFSET: e.g. 2072 (error), 2068 (connection).
ring_page_field() {
	od -A n -t u4 -j "$2" -N 4 "$LXS_FAKEXEN_DIR/ring-$1" | tr -d ' '
}

ring_xen() {
	_n=
	if [ "$1" = -n ]; then
		_n=-n
		shift
	fi
	"$LXS_FAKEXENCTL" $_n "$LXS_FAKEXEN_DIR" "$@" ||
		lxs_error "fakexenctl $* failed"
}

ring_send() {
	_d=$1
	shift
	eval "_fd=\$RING_FD_$_d _seen=\$RING_SEEN_$_d"
	printf '%s\n' "$*" >&"$_fd"
	eval "RING_SEEN_$_d=$((_seen + 1))"
}

ring_answer() {
	eval "_seen=\$RING_SEEN_$2"
	if lxs_wait_lines "$RING_DIR/out-$2" "$_seen" 30; then
		check_eq "$1" "$3" "$(sed -n "${_seen}p" "$RING_DIR/out-$2")"
	else
		fail "$1: no answer from guest $2"
	fi
}

ring_crashed() {
	_i=0
	while kill -0 "$LXS_DAEMON_PID" 2>/dev/null; do
		_i=$((_i + 1))
		[ $_i -le 300 ] || lxs_error "the daemon did not kill itself"
		sleep 0.1
	done
	grep -q "${2:-LXS_TEST_CRASH_BEFORE_RING_REPLY}: killed" "$LXS_TMP/daemon.log" &&
		ok "$1: the daemon killed itself (${2:-LXS_TEST_CRASH_BEFORE_RING_REPLY})" ||
		fail "$1: the daemon died otherwise: $(tail -n 3 "$LXS_TMP/daemon.log")"
}
