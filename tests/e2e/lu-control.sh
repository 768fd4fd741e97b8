#!/usr/bin/env bash
# CONTROL live-update: the sub-commands and their replies, driven raw, by
# Xen's xenstore-control and by ours; the pid file, the sockets and the
# tree across updates.
. "$(dirname "$0")/lu-lib.sh"
lxs_need "$XC"
# systemd's notification socket: the old daemon must name its successor.
NOTIFY_DIR=$(mktemp -d /tmp/lxs-lu-notify.XXXXXX)
export NOTIFY_SOCKET=$NOTIFY_DIR/notify
"$LXS_PYTHON" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(120)
while True:
    print(s.recv(256).decode(), flush=True)
' "$NOTIFY_SOCKET" >"$NOTIFY_DIR/out" 2>&1 &
NOTIFY_PY=$!
sleep 0.5
LXS_DAEMON_ARGS="-T access.log"
lu_start

/usr/bin/xenstore-write /lu/a 1 /lu/b "two words"
/usr/bin/xenstore-chmod /lu/a n0 r5

# --- raw requests ------------------------------------------------------------
check_raw "-s without a session" \
	"CONTROL no new binary given (live-update -f)\0" \
	'CONTROL:live-update\0-s\0-t\05\0'
check_raw "-f of a missing file" \
	"CONTROL new binary /nonexistent: No such file or directory\0" \
	'CONTROL:live-update\0-f\0/nonexistent\0'
check_raw "-f of a directory" \
	"CONTROL new binary /tmp: not a regular file\0" \
	'CONTROL:live-update\0-f\0/tmp\0'
check_raw "-a without a session" "CONTROL OK\0" 'CONTROL:live-update\0-a\0'
check_raw "unknown sub-command" "ERROR EINVAL\0" 'CONTROL:live-update\0-x\0'
check_raw "bad timeout" "CONTROL OK\0|ERROR EINVAL\0" \
	"CONTROL:live-update\0-f\0$LXS\0" 'CONTROL:live-update\0-s\0-t\0soon\0'
# -f starts the new daemon and answers once it has loaded; a -c with other
# arguments starts it again with them (here they do not parse: it exits).
check_raw "-f (loads), -c (loads again: fails), -a on one connection" \
	"CONTROL OK\0|CONTROL live update failed: new binary exited with status 2 while loading\0|CONTROL OK\0|CONTROL no new binary given (live-update -f)\0" \
	"CONTROL:live-update\0-f\0$LXS\0" 'CONTROL:live-update\0-c\0--foo\0' \
	'CONTROL:live-update\0-a\0' 'CONTROL:live-update\0-s\0'
grep -q "live update: $LXS loaded and checked the state up to seq" \
	"$LXS_TMP/daemon.log" && ok "-f: the new daemon loaded and waited" ||
	fail "no 'loaded and checked' line in the log"
# A session belongs to its connection and ends with it.
raw "CONTROL:live-update\0-f\0$LXS\0" 'sleep:2' >"$LXS_TMP/owner" &
sleep 1
check_raw "another connection is refused while a session is open" \
	"CONTROL a live-update session is active on another connection\0" \
	"CONTROL:live-update\0-f\0$LXS\0"
wait $!
check_raw "the session ended with its connection" "CONTROL OK\0|CONTROL OK\0" \
	"CONTROL:live-update\0-f\0$LXS\0" 'CONTROL:live-update\0-a\0'
help=$(raw 'CONTROL:help\0')
case $help in
*"live-update     -f <file>"*) ok "help lists live-update" ;;
*) fail "help lacks live-update: $help" ;;
esac
check_eq "no update happened yet" "$LU_FIRST_PID" "$(lu_pid)"
case $("$OURXC" status) in
*"live-update: never"*) ok "status: no live update yet" ;;
*) fail "status: $("$OURXC" status | grep live-update)" ;;
esac

# --- Xen's xenstore-control --------------------------------------------------
/usr/bin/xenstore-ls -fp >"$LXS_TMP/before"
check_out "Xen's xenstore-control live-update" "" "$XC" live-update -t 30 "$LXS"
p1=$(lu_pid)
[ "$p1" != "$LU_FIRST_PID" ] && ok "the pid file names the new daemon" ||
	fail "pid file still $p1"
lu_serving "the new daemon serves" "$p1"
# It loaded at a lower priority, and serves at the old one's.
if [ "$(id -u)" = 0 ]; then
	n0=$(awk '{ print $19 }' /proc/$$/stat)
	grep -q "live update: loaded at nice $((${n0:-0} + 5)), serving at ${n0:-0}\$" \
		"$LXS_TMP/daemon.log" && ok "the new daemon loaded at nice +5" ||
		fail "no 'loaded at nice' line: $(grep 'at nice' "$LXS_TMP/daemon.log")"
	check_eq "and serves at the old one's nice value" "${n0:-0}" \
		"$(awk '{ print $19 }' "/proc/$p1/stat")"
fi
case $("$OURXC" status) in
*"live-update: "*", pause "*" ms"*) ok "status reports the live update" ;;
*) fail "status: $("$OURXC" status | grep live-update)" ;;
esac
# The pause is measured from when the old daemon stopped reading (the
# handover says when): well under the seconds the whole update takes.
pause_us=$("$OURXC" status --json | "$LXS_PYTHON" -c \
	'import json, sys; print(json.load(sys.stdin)["live_update"]["pause_us"])')
[ -n "$pause_us" ] && [ "$pause_us" -gt 0 ] && [ "$pause_us" -lt 1000000 ] &&
	ok "status --json: pause_us ($pause_us)" ||
	fail "status --json: pause_us '$pause_us'"
sleep 0.2
case " $(tr '\n' ' ' <"$NOTIFY_DIR/out")" in
*" READY=1 "*"MAINPID=$p1 "*) ok "systemd is told the new main pid" ;;
*) fail "notifications: $(cat "$NOTIFY_DIR/out")" ;;
esac
kill "$NOTIFY_PY" 2>/dev/null
rm -rf "$NOTIFY_DIR"
unset NOTIFY_SOCKET
[ -S "$XENSTORED_PATH" ] && [ -S "${XENSTORED_PATH}_ro" ] &&
	ok "both sockets are still there" || fail "a socket is missing"
/usr/bin/xenstore-ls -fp >"$LXS_TMP/after"
cmp -s "$LXS_TMP/before" "$LXS_TMP/after" && ok "tree and permissions kept" ||
	fail "tree differs: $(diff "$LXS_TMP/before" "$LXS_TMP/after" | head -5)"
/usr/bin/xenstore-write /lu/c 3
check_out "writes go on" "3" /usr/bin/xenstore-read /lu/c
check_rc "the read-only socket still refuses writes" 1 \
	env XENSTORED_PATH="${XENSTORED_PATH}_ro" /usr/bin/xenstore-write /lu/x 1

/usr/bin/xenstore-write /lu/logged 1
grep -q "IN  WRITE .*(/lu/logged 1)" "$LXS_TMP/access.log" &&
	ok "the access log goes on in the new daemon" ||
	fail "access log: $(tail -2 "$LXS_TMP/access.log")"
check_out "access log off" "OK" "$XC" log off

# --- ours, with -c (the new daemon's arguments) -------------------------------
# Quotes keep a blank inside one argument: the pid file is "pid two".
"$XC" live-update -c "-F 'pid" "$LXS" >"$LXS_TMP/xc.out" 2>&1
check_eq "-c with an unclosed quote is refused" \
	"3 Setting update binary failed: command line: a single quote is not closed" \
	"$? $(tr '\n' ' ' <"$LXS_TMP/xc.out" | sed 's/ $//')"
lu_serving "and the daemon serves on" "$p1"
check_out "our xenstore-control live-update -c" "" "$OURXC" live-update \
	-c "--foreground --state-dir=$LXS_TMP/state -F 'pid two' -E 777" -t 30 "$LXS"
p2=$(cat "$LXS_TMP/pid two" 2>/dev/null)
[ -n "$p2" ] && [ "$p2" != "$p1" ] && [ "$(lu_pid)" = "$p1" ] &&
	ok "-c: a quoted argument with a blank (pid file \"pid two\")" ||
	fail "-c: pid files: pid $(lu_pid), \"pid two\" $p2"
# The next daemons inherit -F "pid two"; lu_pid reads it through pid.
ln -sf "pid two" "$LXS_TMP/pid"
[ "$p2" != "$p1" ] && ok "a second update" || fail "pid file still $p2"
/usr/bin/xenstore-write /lu/unlogged 1
grep -q "/lu/unlogged" "$LXS_TMP/access.log" &&
	fail "the access log was turned on again" ||
	ok "the access log stays off as it was set"
case $("$XC" log) in
"access log: access.log (off)") ok "and keeps its file name" ;;
*) fail "log: $("$XC" log)" ;;
esac
lu_serving "the third daemon serves" "$p2"
case $("$XC" quota) in
*"nodes            :      777"*) ok "-c: the new arguments apply" ;;
*) fail "-c: quota $("$XC" quota | grep nodes)" ;;
esac
check_out "the tree survived two updates" "two words" /usr/bin/xenstore-read /lu/b
check_out "and the new write" "3" /usr/bin/xenstore-read /lu/c
check_out "a third update with ours, without -c" "" "$OURXC" live-update "$LXS"
lu_serving "the fourth daemon serves" "$(lu_pid)"

# The log the updated daemons went on writing recovers after a crash.
/usr/bin/xenstore-write /lu/d 4
kill -KILL "$(lu_pid)"
sleep 0.5
(cd "$LXS_TMP" && exec "$LXS" --foreground --state-dir="$LXS_TMP/state" \
	-F pid >>"$LXS_TMP/daemon.log" 2>&1 </dev/null &)
i=0
until lxs_answers; do
	i=$((i + 1))
	[ $i -le 100 ] || break
	sleep 0.1
done
check_eq "after SIGKILL and a restart, every write is back" \
	"1|two words|3|4" \
	"$(/usr/bin/xenstore-read /lu/a /lu/b /lu/c /lu/d | tr '\n' '|' | sed 's/|$//')"
lu_finish
