#!/usr/bin/env bash
# A live update hands over each connection whole: a half-sent request,
# thousands of queued watch events, relative and depth watches, idle
# connections (details in lu-state.py).
. "$(dirname "$0")/lu-lib.sh"
lxs_need "$XC"
[ -x "$LXS_PYTHON" ] || lxs_skip "$LXS_PYTHON not found"
lu_start
lu_py lu-state.py "$XENSTORED_PATH" "$XC" live-update -t 60 "$LXS"
[ "$(lu_pid)" != "$LU_FIRST_PID" ] && ok "a new daemon serves" ||
	fail "no update happened"
lu_finish
