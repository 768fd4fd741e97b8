#!/usr/bin/env bash
# The crash harness: SIGKILL at random moments under load from several
# clients, restart, and every acknowledged change must be there (and every
# transaction whole). LXS_CRASH_ROUNDS sets the rounds per sync mode
# (default 4; the long mode of docs/TESTING.md uses 200).
. "$(dirname "$0")/lib.sh"
H=$top_builddir/tests/crash-harness
[ -x "$H" ] || lxs_error "$H not built"
D=${LXS_DAEMON:-$top_builddir/lxenstored}
rounds=${LXS_CRASH_ROUNDS:-4}
for mode in write always; do
	if "$H" --rounds "$rounds" --clients 4 --sync "$mode" "$D"; then
		ok "sync=$mode: $rounds kill-and-restart rounds, nothing lost"
	else
		fail "sync=$mode: acknowledged changes lost (see above)"
	fi
done
lxs_done
