#!/usr/bin/env bash
# Live updates with --sync=always while socket clients write: the old
# daemon's last records are synced in the pause, the new daemon goes on
# with the sync thread on the old segment. No error reply, no lost or
# extra watch event (lu-load.py), and nothing acknowledged is lost: after
# the last update the daemon is killed with SIGKILL and restarted, and the
# tree is what the clients were told was written.
. "$(dirname "$0")/lu-lib.sh"
lxs_need "$XC"
[ -x "$LXS_PYTHON" ] || lxs_skip "$LXS_PYTHON not found"
LXS_DAEMON_ARGS="--sync=always ${LXS_DAEMON_ARGS:-}"
lu_start
N=${LU_SYNC_UPDATES:-5}
lu_load_start 6
lu_updates "$N updates with --sync=always under writes" "$N"
lu_load_stop
check_eq "the last daemon runs with --sync=always" always \
	"$("$OURXC" status --json | "$LXS_PYTHON" -c \
	'import json, sys; print(json.load(sys.stdin)["durable"]["sync"])')"

# Every acknowledged write is on disk: kill the last daemon, start anew.
/usr/bin/xenstore-ls -f /lu-load >"$LXS_TMP/before"
[ -s "$LXS_TMP/before" ] && ok "the clients wrote" || fail "nothing written"
last=$(lu_pid)
kill -KILL "$last"
while kill -0 "$last" 2>/dev/null; do sleep 0.05; done
# shellcheck disable=SC2086 # a list of words
(cd "$LXS_TMP" && exec "$LXS" --foreground --state-dir="$LXS_TMP/state" \
	$LXS_DAEMON_ARGS) >>"$LXS_TMP/daemon.log" 2>&1 </dev/null &
_i=0
until [ -S "$XENSTORED_PATH" ] && lxs_answers; do
	_i=$((_i + 1))
	[ $_i -le 200 ] || lxs_error "the daemon did not come back"
	sleep 0.1
done
/usr/bin/xenstore-ls -f /lu-load >"$LXS_TMP/after"
if cmp -s "$LXS_TMP/before" "$LXS_TMP/after"; then
	ok "after SIGKILL and restart: every acknowledged write is there"
else
	fail "after SIGKILL and restart: $(diff "$LXS_TMP/before" "$LXS_TMP/after" | head -5 | lxs_join)"
fi
check_out "check: the store is consistent" "OK" "$XC" check
lu_finish
