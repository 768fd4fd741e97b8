#!/usr/bin/env bash
# The read-only socket (<socket>_ro): reads, watches and transactions work,
# every mutation is EACCES and changes nothing.
. "$(dirname "$0")/server-lib.sh"
lxs_start_own

RO=${XENSTORED_PATH}_ro
if [ -S "$RO" ]; then
	ok "read-only socket exists beside the socket"
else
	fail "no socket at $RO"
fi
check_eq "read-only socket mode 0600" "600" "$(stat -c %a "$RO")"
check_eq "socket mode 0600" "600" "$(stat -c %a "$XENSTORED_PATH")"

raw 'WRITE:/ro/a\0val' >/dev/null

ro() {
	check_eq "read-only: $1" "$2" "$(raw_on "$RO" "$1" | tr '\n' '|' | sed 's/|$//')"
}

ro 'READ:/ro/a\0' 'READ val'
ro 'DIRECTORY:/ro\0' 'DIRECTORY a\0'
ro 'DIRECTORY_PART:/ro\00\0' "$(raw 'DIRECTORY_PART:/ro\00\0')"
ro 'GET_PERMS:/ro/a\0' 'GET_PERMS n0\0'
ro 'GET_DOMAIN_PATH:1\0' 'GET_DOMAIN_PATH /local/domain/1\0'
ro 'IS_DOMAIN_INTRODUCED:0\0' 'IS_DOMAIN_INTRODUCED T\0'
ro 'GET_FEATURE:\0' 'GET_FEATURE 6\0'
ro 'GET_QUOTA:nodes\0' 'GET_QUOTA 1000\0'
ro 'RESET_WATCHES:' 'RESET_WATCHES OK\0'
check_eq "read-only: watch, unwatch" \
	"WATCH OK\0|WATCH_EVENT /ro/a\0tk\0|UNWATCH OK\0" \
	"$(raw_on "$RO" 'WATCH:/ro/a\0tk\0' events:1 'UNWATCH:/ro/a\0tk\0' | tr '\n' '|' | sed 's/|$//')"
check_eq "read-only: transaction" \
	"TRANSACTION_START 1\0|READ val|TRANSACTION_END OK\0" \
	"$(raw_on "$RO" 'TRANSACTION_START:\0' 'READ,tx=last:/ro/a\0' 'TRANSACTION_END,tx=last:T\0' | tr '\n' '|' | sed 's/|$//')"

for spec in 'WRITE:/ro/a\0new' 'WRITE:/ro/b\0new' 'MKDIR:/ro/c\0' \
	'RM:/ro/a\0' 'SET_PERMS:/ro/a\0r0\0' 'INTRODUCE:1\02\03\0' \
	'RELEASE:1\0' 'RESUME:1\0' 'SET_TARGET:1\02\0' \
	'SET_FEATURE:1\02\0' 'SET_QUOTA:nodes\01\0' 'CONTROL:check\0' \
	'CONTROL:quota\0set\0nodes\01\0'; do
	ro "$spec" 'ERROR EACCES\0'
done
check_eq "read-only: mutation inside a transaction" \
	"TRANSACTION_START 1\0|ERROR EACCES\0|TRANSACTION_END OK\0" \
	"$(raw_on "$RO" 'TRANSACTION_START:\0' 'WRITE,tx=last:/ro/a\0t' 'TRANSACTION_END,tx=last:T\0' | tr '\n' '|' | sed 's/|$//')"

# Nothing changed.
check_raw "value unchanged" "READ val" 'READ:/ro/a\0'
check_raw "nothing created" "DIRECTORY a\0" 'DIRECTORY:/ro\0'
check_raw "perms unchanged" "GET_PERMS n0\0" 'GET_PERMS:/ro/a\0'
check_raw "quota unchanged" "GET_QUOTA 1000\0" 'GET_QUOTA:nodes\0'

# A read-only watcher sees writes made on the read-write socket.
raw_on "$RO" 'WATCH:/ro\0w\0' events:2 >"$LXS_TMP/w.out" &
w=$!
lxs_wait_lines "$LXS_TMP/w.out" 2 || true
raw 'WRITE:/ro/a\0x' >/dev/null
wait $w
check_eq "read-only watcher gets events" \
	"WATCH OK\0|WATCH_EVENT /ro\0w\0|WATCH_EVENT /ro/a\0w\0" \
	"$(tr '\n' '|' <"$LXS_TMP/w.out" | sed 's/|$//')"

lxs_done
