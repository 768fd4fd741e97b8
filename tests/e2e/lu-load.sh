#!/usr/bin/env bash
# Live updates under load: socket clients write, read, run transactions and
# watch their subtree while the daemon is replaced 20 times in a row by
# Xen's xenstore-control: no error reply, no dropped connection, no lost or
# extra watch event, the tree equals the clients' model, and the
# live-update connection gets its reply every time.
. "$(dirname "$0")/lu-lib.sh"
lxs_need "$XC"
[ -x "$LXS_PYTHON" ] || lxs_skip "$LXS_PYTHON not found"
# Each load at -f replays the whole log (no snapshot below 1,000,000
# records): by the last update some 500,000 records, over 3 s under the
# sanitizers, more on a busy machine; lu_start's 5 s is too short.
LXS_DAEMON_ARGS="--live-update-check-timeout 30 ${LXS_DAEMON_ARGS:-}"
lu_start
N=${LU_LOAD_UPDATES:-20}
lu_load_start 8
lu_updates "$N updates in a row, each answered OK by a new daemon" "$N"
lu_load_stop
check_out "check: the store is consistent" "OK" "$XC" check
lu_finish
