#!/usr/bin/env bash
# A live update hands over each connection whole: a half-sent request,
# thousands of queued watch events, relative and depth watches, idle
# connections (details in lu-state.py); once with the socket connections
# sent ahead of the pause (EARLY), once to a new binary that does not ask
# for them (as one from before EARLY).
. "$(dirname "$0")/lu-lib.sh"
lxs_need "$XC"
[ -x "$LXS_PYTHON" ] || lxs_skip "$LXS_PYTHON not found"
lu_start
lu_py lu-state.py "$XENSTORED_PATH" "$XC" live-update -t 60 "$LXS"
[ "$(lu_pid)" != "$LU_FIRST_PID" ] && ok "a new daemon serves" ||
	fail "no update happened"
n=$(sed -n 's/.*live update: \([0-9]*\) connection(s) set up ahead.*/\1/p' \
	"$LXS_TMP/daemon.log")
[ -n "$n" ] && [ "$n" -ge 5 ] &&
	ok "the socket connections were set up before the pause ($n)" ||
	fail "no connections set up ahead: '$n'"
p1=$(lu_pid)
printf '#!/bin/sh\nexec env -u LXS_LIVE_UPDATE_EARLY "%s" "$@"\n' "$LXS" \
	>"$LXS_TMP/no-early"
chmod +x "$LXS_TMP/no-early"
lu_py lu-state.py "$XENSTORED_PATH" "$XC" live-update -t 60 "$LXS_TMP/no-early"
[ "$(lu_pid)" != "$p1" ] && ok "a new daemon that does not ask EARLY serves" ||
	fail "no second update happened"
check_eq "(it set up nothing ahead)" 1 \
	"$(grep -c 'connection(s) set up ahead' "$LXS_TMP/daemon.log")"

# What was handed over, as the new daemon kept it (lxenstore-inspect).
INSPECT=$top_builddir/lxenstore-inspect
saved=$LXS_TMP/state/liveupdate.state
"$INSPECT" state "$saved" >"$LXS_TMP/state.out" 2>&1
check_eq "inspect state reads the kept handover" 0 $?
grep -q '^handover message: version 1, ' "$LXS_TMP/state.out" &&
	ok "inspect state: version line" || fail "inspect state: $(head -3 "$LXS_TMP/state.out")"
grep -q '^    watch rel token relative$' "$LXS_TMP/state.out" &&
	ok "inspect state: the relative watch as the client gave it" ||
	fail "inspect state: no relative watch line"
grep -q '^    watch /d1 token depth depth 1$' "$LXS_TMP/state.out" &&
	ok "inspect state: the depth watch" || fail "inspect state: no depth watch line"
grep -q '^reply to the live-update request: connection ' "$LXS_TMP/state.out" &&
	ok "inspect state: the reply owed to xenstore-control" ||
	fail "inspect state: no reply line"
head -c 100 "$saved" >"$LXS_TMP/cut.state"
check_rc "inspect state of a truncated file fails" 1 "$INSPECT" state "$LXS_TMP/cut.state"
check_eq "with one line saying why" \
	"lxenstore-inspect: $LXS_TMP/cut.state: not a live-update handover message: the handover message does not decode" \
	"$("$INSPECT" state "$LXS_TMP/cut.state" 2>&1)"
check_rc "inspect state of a missing file fails" 1 "$INSPECT" state "$LXS_TMP/none"
check_rc "inspect state without a file is a usage error" 2 "$INSPECT" state
lu_finish
