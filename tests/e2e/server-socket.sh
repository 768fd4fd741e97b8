#!/usr/bin/env bash
# Process life: refusing a live socket, cleaning a stale one, socket path
# rules, daemon mode with a pid file, systemd readiness, clean exits.
. "$(dirname "$0")/server-lib.sh"
lxs_start_own
D=${LXS_DAEMON:-$top_builddir/lxenstored}
# Every daemon started here gets its own state directory under LXS_TMP.

# answers SOCKET: true once a daemon answers there (5 s at most).
answers() {
	for _ in $(seq 50); do
		[ "$(raw_on "$1" -w 1 'GET_DOMAIN_PATH:0\0' 2>/dev/null)" = \
			'GET_DOMAIN_PATH /local/domain/0\0' ] && return 0
		sleep 0.1
	done
	return 1
}

# gone PID: true once PID has exited (5 s at most).
gone() {
	for _ in $(seq 50); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}

# --- a second daemon on a live socket ------------------------------------
out=$(timeout 10 "$D" --foreground --state-dir "$LXS_TMP/st1" 2>&1)
check_eq "second daemon on a live socket exits 1" 1 $?
case $out in
*"another xenstored is listening on $XENSTORED_PATH"*) ok "it says why" ;;
*) fail "second daemon said: $out" ;;
esac
check_raw "the first daemon still answers" "GET_DOMAIN_PATH /local/domain/0\0" \
	'GET_DOMAIN_PATH:0\0'
[ -S "${XENSTORED_PATH}_ro" ] && ok "the first daemon keeps its read-only socket" ||
	fail "read-only socket removed by the second daemon"

# --- a stale socket (daemon killed with SIGKILL) is cleaned ------------------
S2=$LXS_TMP/s2/socket
XENSTORED_PATH=$S2 "$D" --foreground --state-dir "$LXS_TMP/st2" >"$LXS_TMP/s2.log" 2>&1 &
p=$!
answers "$S2" && ok "daemon on a new directory answers" || fail "no answer on $S2"
kill -KILL $p
wait $p 2>/dev/null
[ -S "$S2" ] && ok "SIGKILL leaves a stale socket" || fail "no stale socket"
XENSTORED_PATH=$S2 "$D" --foreground --state-dir "$LXS_TMP/st2" >"$LXS_TMP/s2b.log" 2>&1 &
p=$!
answers "$S2" && ok "restart over a stale socket answers" ||
	fail "restart over a stale socket: $(cat "$LXS_TMP/s2b.log")"
grep -q "removing stale socket $S2" "$LXS_TMP/s2b.log" &&
	ok "stale socket removal is logged" || fail "no log of the stale socket"

# --- SIGINT: clean exit, sockets removed -------------------------------------
kill -INT $p
gone $p && ok "SIGINT stops the daemon" || fail "SIGINT ignored"
wait $p
check_eq "exit status after SIGINT" 0 $?
[ ! -e "$S2" ] && [ ! -e "${S2}_ro" ] && ok "sockets removed on exit" ||
	fail "sockets left behind: $(ls "$LXS_TMP/s2")"

# --- something that is not a socket is left alone --------------------------------
mkdir -p "$LXS_TMP/s3"
echo keep >"$LXS_TMP/s3/socket"
XENSTORED_PATH=$LXS_TMP/s3/socket timeout 10 "$D" --foreground --state-dir "$LXS_TMP/st3" >"$LXS_TMP/s3.log" 2>&1
check_eq "a regular file at the socket path: exit 1" 1 $?
check_eq "the file is untouched" keep "$(cat "$LXS_TMP/s3/socket")"

# --- daemon mode, --rundir, pid file ----------------------------------------------
R=$LXS_TMP/run4/sub
(unset XENSTORED_PATH; timeout 10 "$D" --rundir "$R" --pid-file "$LXS_TMP/pid4" --state-dir "$LXS_TMP/st4" 2>"$LXS_TMP/d4.log")
check_eq "daemon mode returns 0 once ready" 0 $?
[ -S "$R/socket" ] && [ -S "$R/socket_ro" ] && ok "--rundir DIR: DIR/socket and DIR/socket_ro" ||
	fail "no socket in $R"
pid=$(cat "$LXS_TMP/pid4" 2>/dev/null)
if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
	ok "pid file holds the live daemon's pid"
else
	fail "pid file: '$pid'"
fi
answers "$R/socket" && ok "the daemon answers at once" || fail "daemon mode: no answer"
check_eq "daemon is in its own session" "$pid" "$(ps -o sid= -p "$pid" | tr -d ' ')"
check_eq "daemon stdio detached" /dev/null "$(readlink "/proc/$pid/fd/2")"
kill -TERM "$pid"
gone "$pid" && ok "SIGTERM stops the daemon" || fail "SIGTERM ignored"
[ ! -e "$LXS_TMP/pid4" ] && ok "pid file removed on exit" || fail "pid file left behind"
[ ! -e "$R/socket" ] && ok "socket removed on exit" || fail "socket left behind"

# XENSTORED_RUNDIR when XENSTORED_PATH is not set.
R5=$LXS_TMP/run5
(unset XENSTORED_PATH; XENSTORED_RUNDIR=$R5 exec "$D" -N --state-dir "$LXS_TMP/st5") >"$LXS_TMP/d5.log" 2>&1 &
p=$!
answers "$R5/socket" && ok "XENSTORED_RUNDIR/socket" || fail "XENSTORED_RUNDIR ignored"
kill -TERM $p; wait $p

# --- systemd readiness over $NOTIFY_SOCKET ------------------------------------------
notify_test() {
	_name=$1 _addr=$2
	"$LXS_PYTHON" - "$_addr" >"$LXS_TMP/notify.out" 2>&1 <<'EOF' &
import socket, sys
addr = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + addr[1:] if addr.startswith("@") else addr)
s.settimeout(15)
for _ in range(2):
    print(s.recv(256).decode(), flush=True)
EOF
	_py=$!
	sleep 0.5
	NOTIFY_SOCKET=$_addr XENSTORED_PATH=$LXS_TMP/s6/socket "$D" -N --state-dir "$LXS_TMP/st6" >"$LXS_TMP/s6.log" 2>&1 &
	_p=$!
	lxs_wait_lines "$LXS_TMP/notify.out" 1 10
	answers "$LXS_TMP/s6/socket" || fail "$_name: daemon does not answer"
	kill -TERM $_p
	wait $_p
	wait $_py
	check_eq "$_name" "READY=1 STOPPING=1" "$(lxs_join <"$LXS_TMP/notify.out")"
}
notify_test "NOTIFY_SOCKET path gets READY=1, STOPPING=1" "$LXS_TMP/notify.sock"
notify_test "NOTIFY_SOCKET @abstract gets READY=1, STOPPING=1" "@lxs-notify-$$"

# --- command line -----------------------------------------------------------------
"$D" --help >"$LXS_TMP/help" 2>&1
check_eq "--help exits 0" 0 $?
grep -q -- '--access-log-keep' "$LXS_TMP/help" && ok "--help lists the options" ||
	fail "--help output"
"$D" --version | grep -q '^lxenstored ' && ok "--version" || fail "--version"
"$D" --no-such-option >/dev/null 2>&1
check_eq "unknown option exits 2" 2 $?
"$D" -Q nosuchquota=1 >/dev/null 2>&1
check_eq "unknown quota name exits 2" 2 $?

lxs_done
