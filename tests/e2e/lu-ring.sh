#!/usr/bin/env bash
# Live update with guest domains on the fake Xen: each ring is mapped
# again by grant in the new daemon and its event channel stays bound
# (the evtchn fd is handed over and reopened with xenevtchn_fdopen). A
# guest's watches, open transaction and queued replies (each once: the
# requests read but not yet published are not read again) survive; a
# configured-only domain keeps its features; the domain
# table answers as before; the guest goes on without reconnecting. After
# two updates a guest's death still arrives (VIRQ_DOM_EXC stays bound on
# the inherited fd) and releases it.
. "$(dirname "$0")/ring-lib.sh"
. "$(dirname "$0")/lu-lib.sh"
lxs_need "$XC"
ring_start -F pid --live-update-check-timeout 10
LU_FIRST_PID=$LXS_DAEMON_PID

for d in 40 41; do
	raw "WRITE:/local/domain/$d\\0" "SET_PERMS:/local/domain/$d\\0n$d\\0" \
		>/dev/null
done
# 42 is being built: Xen has it, without a ring yet (else it is forgotten).
ring_xen -n 42 running
check_raw "SET_FEATURE 42 before its INTRODUCE" "SET_FEATURE OK\\0" \
	'SET_FEATURE:42\02\0'
ring_guest 40
ring_guest 41
check_eq "INTRODUCE 40" "INTRODUCE OK\\0" "$(ring_introduce 40)"
check_eq "INTRODUCE 41" "INTRODUCE OK\\0" "$(ring_introduce 41)"
ring_check "40 writes" 40 OK write data/v 1
ring_check "40 watches" 40 OK watch data w
ring_check "its initial event" 40 "EVENT data w" event
ring_check "40 opens a transaction" 40 OK txn
ring_check "and writes in it" 40 OK write data/t in-txn
# 20 replies of 300 bytes do not fit in the 1024-byte ring: most wait in
# the daemon's queue, and the guest's req_cons stays behind what the
# daemon has read; the new daemon must not read those requests again.
/usr/bin/xenstore-write /local/domain/41/data/x "$(head -c 300 /dev/zero | tr '\0' x)"
ring_check "41 leaves replies unread" 41 "stuffed 20" stuff 20 data/x
resets=$(ring_page_field 40 2048)

check_out "live-update with guests introduced" "" \
	"$XC" live-update -t 60 "$RING_DIR/daemon"
p=$(lu_pid)
[ "$p" != "$LU_FIRST_PID" ] && ok "a new daemon serves" || fail "no update"
check_raw "40 and 41 are still introduced, 42 not" \
	"IS_DOMAIN_INTRODUCED T\\0|IS_DOMAIN_INTRODUCED T\\0|IS_DOMAIN_INTRODUCED F\\0" \
	'IS_DOMAIN_INTRODUCED:40\0' 'IS_DOMAIN_INTRODUCED:41\0' \
	'IS_DOMAIN_INTRODUCED:42\0'
check_raw "42's features were kept" "GET_FEATURE 2\\0" 'GET_FEATURE:42\0'
check_eq "40's ring was not reset (request index kept)" "$resets" \
	"$(ring_page_field 40 2048)"
ring_check "40's transaction goes on in the new daemon" 40 OK \
	write data/t2 also
ring_check "and commits" 40 OK commit
check_eq "its writes are in" "in-txn also" \
	"$(/usr/bin/xenstore-read /local/domain/40/data/t /local/domain/40/data/t2 | tr '\n' ' ' | sed 's/ $//')"
/usr/bin/xenstore-write /local/domain/40/data/v 2
ring_check "40's watch fires in the new daemon" 40 "EVENT data/t w" event
ring_check "(one per change)" 40 "EVENT data/t2 w" event
ring_check "(and the socket write)" 40 "EVENT data/v w" event
ring_check "40 reads over its old ring" 40 2 read data/v
# The replies queued for 41 before the update come, each once, in order.
ring_check "41's unread replies survived, once each, in order" 41 \
	"drained 20 first 1 last 20 in-order" drain 1000
ring_check "41 reads on" 41 "$(head -c 300 /dev/zero | tr '\0' x)" read data/x
check_out "a second update" "" "$XC" live-update -t 60 "$RING_DIR/daemon"
ring_check "40 still served after two updates" 40 OK write data/v 3
# VIRQ_DOM_EXC stays bound on the inherited event channel fd.
ring_xen 41 dying
i=0
until [ "$(raw 'IS_DOMAIN_INTRODUCED:41\0')" = 'IS_DOMAIN_INTRODUCED F\0' ]; do
	i=$((i + 1))
	[ $i -le 100 ] || break
	sleep 0.1
done
check_raw "41's death is seen by the updated daemon: released" \
	"IS_DOMAIN_INTRODUCED F\\0|ERROR ENOENT\\0" \
	'IS_DOMAIN_INTRODUCED:41\0' 'READ:/local/domain/41\0'
ring_guest_stop 40 >/dev/null
ring_guest_stop 41 >/dev/null
lu_finish
