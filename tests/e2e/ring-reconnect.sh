#!/usr/bin/env bash
# Guest-initiated reconnect (connection = RECONNECT) drops the ring's
# watches, transactions, partial input and queued output, zeroes the
# indices and sets CONNECTED again; without the RECONNECTION feature the
# request is ignored. A guest (its ring page and event channel) outlives a
# daemon killed with SIGKILL: the restarted daemon serves it again from its
# domain records (ring-restart.sh tests that in depth), and a reconnect
# asked for while the daemon was down completes.
. "$(dirname "$0")/ring-lib.sh"
ring_start

for d in 30 31 32; do
	raw "WRITE:/local/domain/$d\\0" "SET_PERMS:/local/domain/$d\\0n$d\\0" \
		>/dev/null
done
check_raw "one transaction at a time for 30" "SET_QUOTA OK\\0" \
	'SET_QUOTA:30\0transactions\01\0'
ring_guest 30
check_eq "INTRODUCE 30" "INTRODUCE OK\\0" "$(ring_introduce 30)"
ring_check "write" 30 OK write data/v 1
ring_check "watch" 30 OK watch data w
ring_check "initial event" 30 "EVENT data w" event
ring_check "txn" 30 OK txn
ring_check "a second one is over the quota" 30 'ERROR ENOSPC\0' \
	raw TRANSACTION_START '\0'
ring_check "requests whose replies are never read" 30 "stuffed 20" \
	stuff 20 data/v
ring_check "half a message" 30 OK partial
ring_check "reconnect" 30 OK reconnect
check_eq "the indices start again at 0" "0 0 0 0" \
	"$(for o in 2048 2052 2056 2060; do ring_page_field 30 $o; done | lxs_join)"
ring_check "no stale reply, no stale partial message" 30 1 read data/v
ring_check "the transaction is gone: a new one fits the quota" 30 OK txn
ring_check "abort it" 30 OK abort
ring_check "the watch is gone: no EEXIST" 30 OK watch data w
ring_check "its initial event" 30 "EVENT data w" event
ring_check "reconnect twice in a row" 30 OK reconnect
ring_check "fine" 30 OK reconnect
ring_check "still served" 30 OK write data/v 2

# Without RECONNECTION the field is not looked at.
check_raw "SET_FEATURE 31: ERROR|WATCHDEPTH" "SET_FEATURE OK\\0" \
	'SET_FEATURE:31\06\0'
ring_guest 31 -t 1500
check_eq "INTRODUCE 31" "INTRODUCE OK\\0" "$(ring_introduce 31)"
ring_check "served" 31 OK write data/v 1
ring_check "reconnect is not offered" 31 "TIMEOUT waiting for CONNECTED" \
	reconnect

# The guest outlives the daemon, and the daemon remembers the domain.
ring_guest 32
check_eq "INTRODUCE 32" "INTRODUCE OK\\0" "$(ring_introduce 32)"
ring_check "write before the crash" 32 OK write data/before crash
ring_restart -9
ok "daemon killed with SIGKILL and restarted"
check_raw "the restarted daemon knows 32 (domain records)" \
	"IS_DOMAIN_INTRODUCED T\\0" 'IS_DOMAIN_INTRODUCED:32\0'
ring_check "the same guest process is served without INTRODUCE" 32 crash \
	read data/before
check_eq "INTRODUCE 32 again still resets it" "INTRODUCE OK\\0" \
	"$(ring_introduce 32)"
ring_check "and it writes" 32 OK write data/after restart
# A guest that asks for a reconnect while the daemon is down.
eval "fd=\$RING_FD_32"
kill -KILL "$LXS_DAEMON_PID"
wait "$LXS_DAEMON_PID" 2>/dev/null
printf 'reconnect\n' >&"$fd"
RING_SEEN_32=$((RING_SEEN_32 + 1))
sleep 0.3
ring_restart
lxs_wait_lines "$RING_DIR/out-32" "$RING_SEEN_32" 10
check_eq "its reconnect completes after the restart" OK \
	"$(sed -n "${RING_SEEN_32}p" "$RING_DIR/out-32")"
ring_check "served" 32 restart read data/after
lxs_done
