#!/usr/bin/env bash
# Live updates under load: socket clients write, read, run transactions and
# watch their subtree while the daemon is replaced 20 times in a row by
# Xen's xenstore-control: no error reply, no dropped connection, no lost or
# extra watch event, the tree equals the clients' model, and the
# live-update connection gets its reply every time.
. "$(dirname "$0")/lu-lib.sh"
lxs_need "$XC"
[ -x "$LXS_PYTHON" ] || lxs_skip "$LXS_PYTHON not found"
lu_start
N=${LU_LOAD_UPDATES:-20}
"$LXS_PYTHON" "$(dirname "$0")/lu-load.py" "$XENSTORED_PATH" 8 \
	"$LXS_TMP/stop" >"$LXS_TMP/load.out" 2>&1 &
LOAD=$!
sleep 1
prev=$(lu_pid) good=0
for i in $(seq 1 "$N"); do
	if "$XC" live-update -t 60 "$LXS" >"$LXS_TMP/lu.out" 2>&1; then
		cur=$(lu_pid)
		[ "$cur" != "$prev" ] && good=$((good + 1))
		prev=$cur
	else
		printf '     update %d: %s\n' "$i" "$(cat "$LXS_TMP/lu.out")"
	fi
done
check_eq "$N updates in a row, each answered OK by a new daemon" "$N" "$good"
touch "$LXS_TMP/stop"
wait "$LOAD"
check_eq "the load client finished" 0 $?
while read -r line; do
	case $line in
	"ok   "*) ok "${line#ok   }" ;;
	"FAIL "*) fail "${line#FAIL }" ;;
	*) printf '%s\n' "$line" ;;
	esac
done <"$LXS_TMP/load.out"
check_out "check: the store is consistent" "OK" "$XC" check
lu_finish
