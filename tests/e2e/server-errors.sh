#!/usr/bin/env bash
# Error answers: malformed payloads (EINVAL), types a client may not send
# (ENOSYS), transaction ids, domain requests before guest rings exist.
# Each error leaves the connection usable.
. "$(dirname "$0")/server-lib.sh"
lxs_start_own

raw 'WRITE:/e\0v' >/dev/null

# expect SPEC ANSWER: one request, then a READ on the same connection to
# show it survived.
expect() {
	check_raw "$1 -> $2" "$2|READ v" "$1" 'READ:/e\0'
}

# Malformed payloads.
expect 'READ:/e' 'ERROR EINVAL\0'			# no NUL
expect 'READ:' 'ERROR EINVAL\0'				# empty
expect 'READ:/e\0\0' 'ERROR EINVAL\0'			# two strings
expect 'READ:/e\0x' 'ERROR EINVAL\0'			# bytes after the NUL
expect 'WRITE:/e' 'ERROR EINVAL\0'			# WRITE without a NUL
expect 'WRITE:' 'ERROR EINVAL\0'
expect 'MKDIR:/e\0\0' 'ERROR EINVAL\0'
expect 'RM:/e' 'ERROR EINVAL\0'
expect 'RM:/\0' 'ERROR EINVAL\0'
expect 'DIRECTORY:' 'ERROR EINVAL\0'
expect 'DIRECTORY_PART:/\0' 'ERROR EINVAL\0'		# no offset
expect 'DIRECTORY_PART:/\0x\0' 'ERROR EINVAL\0'		# bad offset
expect 'DIRECTORY_PART:/\00\00\0' 'ERROR EINVAL\0'
expect 'GET_PERMS:/e' 'ERROR EINVAL\0'
expect 'SET_PERMS:/e\0' 'ERROR EINVAL\0'			# no perms
expect 'SET_PERMS:/e\0q0\0' 'ERROR EINVAL\0'		# bad perm
expect 'SET_PERMS:/e\0n0' 'ERROR EINVAL\0'
expect 'WATCH:/e\0' 'ERROR EINVAL\0'			# no token
expect 'WATCH:/e\0t\0x\0' 'ERROR EINVAL\0'		# bad depth
expect 'WATCH:/e\0t\0-1\0' 'ERROR EINVAL\0'
expect 'WATCH:/e\0t\00\00\0' 'ERROR EINVAL\0'
expect 'UNWATCH:/e\0' 'ERROR EINVAL\0'
expect 'TRANSACTION_END:T\0' 'ERROR ENOENT\0'		# no transaction
expect 'GET_DOMAIN_PATH:' 'ERROR EINVAL\0'
expect 'GET_DOMAIN_PATH:x\0' 'ERROR EINVAL\0'
expect 'GET_DOMAIN_PATH:-1\0' 'ERROR EINVAL\0'
expect 'GET_DOMAIN_PATH:65536\0' 'ERROR EINVAL\0'
expect 'GET_DOMAIN_PATH:1' 'ERROR EINVAL\0'
expect 'IS_DOMAIN_INTRODUCED:x\0' 'ERROR EINVAL\0'
expect 'INTRODUCE:1\02\0' 'ERROR EINVAL\0'
expect 'INTRODUCE:1\0x\03\0' 'ERROR EINVAL\0'
expect 'INTRODUCE:1\02\00\0' 'ERROR EINVAL\0'
expect 'INTRODUCE:70000\02\03\0' 'ERROR EINVAL\0'
expect 'RELEASE:x\0' 'ERROR EINVAL\0'
expect 'RESUME:' 'ERROR EINVAL\0'
expect 'SET_TARGET:1\0' 'ERROR EINVAL\0'
expect 'SET_FEATURE:1\0' 'ERROR EINVAL\0'
expect 'SET_FEATURE:1\0256\0' 'ERROR EINVAL\0'		# unsupported bit
expect 'GET_QUOTA:bogus\0' 'ERROR EINVAL\0'
expect 'SET_QUOTA:nodes\0' 'ERROR EINVAL\0'
expect 'SET_QUOTA:nodes\04294967295\0' 'ERROR EINVAL\0'
expect 'CONTROL:' 'ERROR EINVAL\0'
expect 'CONTROL:nosuchcommand\0' 'ERROR EINVAL\0'
expect 'CONTROL:print\0hi' 'ERROR EINVAL\0'

# Types a client may not send, and unknown ones.
expect 'WATCH_EVENT:/e\0t\0' 'ERROR ENOSYS\0'
expect 'ERROR:EINVAL\0' 'ERROR ENOSYS\0'
expect '20:' 'ERROR ENOSYS\0'				# RESTRICT
expect '27:' 'ERROR ENOSYS\0'
expect '65535:' 'ERROR ENOSYS\0'				# XS_INVALID
expect '4294967295:x\0' 'ERROR ENOSYS\0'

# Transaction ids in headers.
check_raw "unknown tx_id on READ" "ERROR ENOENT\0" 'READ,tx=42:/e\0'
check_raw "unknown tx_id on a non-store request" "ERROR ENOENT\0" \
	'GET_DOMAIN_PATH,tx=42:0\0'
check_raw "WATCH ignores tx_id" "WATCH OK\0|WATCH_EVENT /e\0t\0" \
	'WATCH,tx=42:/e\0t\0' events:1
check_raw "nested TRANSACTION_START is EBUSY" \
	"TRANSACTION_START 1\0|ERROR EBUSY\0|ERROR ENOENT\0" \
	'TRANSACTION_START:\0' 'TRANSACTION_START,tx=last:\0' \
	'TRANSACTION_START,tx=99:\0'
check_raw "TRANSACTION_END argument must be T or F" \
	"TRANSACTION_START 1\0|ERROR EINVAL\0|ERROR EINVAL\0|TRANSACTION_END OK\0|ERROR ENOENT\0" \
	'TRANSACTION_START:\0' 'TRANSACTION_END,tx=last:X\0' \
	'TRANSACTION_END,tx=last:T' 'TRANSACTION_END,tx=last:F\0' \
	'TRANSACTION_END,tx=last:F\0'
check_raw "transaction isolation" \
	"TRANSACTION_START 1\0|WRITE OK\0|READ in|READ v|TRANSACTION_END OK\0|READ in" \
	'TRANSACTION_START:\0' 'WRITE,tx=last:/e\0in' 'READ,tx=last:/e\0' \
	'READ:/e\0' 'TRANSACTION_END,tx=last:T\0' 'READ:/e\0'
raw 'WRITE:/e\0v' >/dev/null
check_raw "RESET_WATCHES drops transactions" \
	"TRANSACTION_START 1\0|RESET_WATCHES OK\0|ERROR ENOENT\0" \
	'TRANSACTION_START:\0' 'RESET_WATCHES:' 'READ,tx=last:/e\0'

# Domain requests while dom0 is the only domain.
check_raw "GET_DOMAIN_PATH" "GET_DOMAIN_PATH /local/domain/65535\0" \
	'GET_DOMAIN_PATH:65535\0'
check_raw "IS_DOMAIN_INTRODUCED" \
	"IS_DOMAIN_INTRODUCED T\0|IS_DOMAIN_INTRODUCED F\0|IS_DOMAIN_INTRODUCED T\0" \
	'IS_DOMAIN_INTRODUCED:0\0' 'IS_DOMAIN_INTRODUCED:5\0' \
	'IS_DOMAIN_INTRODUCED:32752\0'
check_raw "INTRODUCE is not available yet" "ERROR ENOSYS\0" 'INTRODUCE:5\0123\07\0'
check_raw "RELEASE/RESUME/SET_TARGET" \
	"ERROR EINVAL\0|ERROR ENOENT\0|ERROR EINVAL\0|ERROR ENOENT\0|ERROR ENOENT\0" \
	'RELEASE:0\0' 'RELEASE:5\0' 'RESUME:0\0' 'RESUME:5\0' 'SET_TARGET:5\06\0'
check_raw "GET_FEATURE" "GET_FEATURE 6\0|GET_FEATURE 6\0|GET_FEATURE 6\0|ERROR ENOENT\0" \
	'GET_FEATURE:' 'GET_FEATURE:\0' 'GET_FEATURE:0\0' 'GET_FEATURE:5\0'
check_raw "SET_FEATURE" "ERROR EBUSY\0|ERROR ENOENT\0" \
	'SET_FEATURE:0\06\0' 'SET_FEATURE:5\04\0'
check_raw "SET_QUOTA then GET_QUOTA" \
	"SET_QUOTA OK\0|GET_QUOTA 700\0|SET_QUOTA OK\0|GET_QUOTA 1000000\0" \
	'SET_QUOTA:nodes\0700\0' 'GET_QUOTA:nodes\0' \
	'SET_QUOTA:soft-memory\01000000\0' 'GET_QUOTA:soft-memory\0'
check_raw "per-domain quota" \
	"ERROR ENOENT\0|SET_QUOTA OK\0|GET_QUOTA 10\0|GET_QUOTA 700\0" \
	'GET_QUOTA:5\0nodes\0' 'SET_QUOTA:5\0nodes\010\0' \
	'GET_QUOTA:5\0nodes\0' 'GET_QUOTA:nodes\0'
case $(raw 'GET_QUOTA:\0') in
"GET_QUOTA nodes "*"watches "*"soft-memory\0") ok "GET_QUOTA lists the names" ;;
*) fail "GET_QUOTA names: $(raw 'GET_QUOTA:\0')" ;;
esac

lxs_done
