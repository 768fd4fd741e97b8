#!/usr/bin/env bash
# Hostile and greedy guests harm only themselves. Lying about the request
# or response indices (error field RINGIDX) or announcing a message over
# 4096 bytes (PROTO) gets that ring ignored, while another guest and a
# socket client go on; the domain stays introduced, a reconnect heals it
# and RELEASE still works. A guest that pipelines requests without reading
# replies is no longer read once its outstanding quota is reached (nothing
# is dropped), likewise at its memory quota; a flooding guest leaves the
# others served.
. "$(dirname "$0")/ring-lib.sh"
ring_start

for d in 20 21 22 23 24 25 26; do
	raw "WRITE:/local/domain/$d\\0" "SET_PERMS:/local/domain/$d\\0n$d\\0" \
		>/dev/null
	ring_guest $d -t 5000
	check_eq "INTRODUCE $d" "INTRODUCE OK\\0" "$(ring_introduce $d)"
	ring_check "guest $d writes" $d OK write data/v "$d"
done

others_work() {
	ring_check "$1: guest 23 still served" 23 23 read data/v
	check_raw "$1: socket client still served" "READ 20" \
		'READ:/local/domain/20/data/v\0'
}

ring_check "guest 20 lies about req_prod" 20 OK bad-req-index
ring_check "error field: RINGIDX" 20 "error 2" wait-error
ring_check "its next request sees the error" 20 "RING-ERROR 2" read data/v
others_work "after bad request indices"
check_raw "the domain stays introduced" "IS_DOMAIN_INTRODUCED T\\0" \
	'IS_DOMAIN_INTRODUCED:20\0'

ring_check "guest 21 announces 5000 bytes" 21 OK too-long
ring_check "error field: PROTO" 21 "error 3" wait-error
others_work "after an oversized message"

ring_check "guest 22 lies about rsp_cons" 22 OK bad-rsp-index
ring_check "error field: RINGIDX" 22 "error 2" wait-error
others_work "after bad response indices"

ring_check "guest 21 reconnects" 21 OK reconnect
ring_check "error field cleared" 21 "error 0" error
ring_check "and it is served again" 21 OK write data/v again
check_raw "RELEASE of an ignored domain" "RELEASE OK\\0" 'RELEASE:22\0'
grep -q "domain 20: bad request indices" "$LXS_TMP/daemon.log" &&
	ok "the daemon logs what the guest did" ||
	fail "no log line for guest 20"

# Unknown message types are answered, not fatal.
ring_check "type 9999" 23 'ERROR ENOSYS\0' raw 9999 'x\0'
ring_check "WATCH_EVENT from a guest" 23 'ERROR ENOSYS\0' raw WATCH_EVENT 'a\0b\0'

# Outstanding quota (default 20): a guest that sends without reading
# replies is left with unread requests, and loses none.
raw 'WRITE:/local/domain/25/data/v\0'"$(head -c 200 /dev/zero | tr '\0' r)" \
	>/dev/null
ring_cmd 25 pipeline 100 data/v
case $RING_OUT in
"pipeline sent "*" unread 0 replies "*) fail "outstanding quota: $RING_OUT" ;;
"pipeline sent "*" unread "*" replies "*)
	set -- $RING_OUT
	check_eq "outstanding quota: every request answered" "$3" "$7" ;;
*) fail "outstanding quota: $RING_OUT" ;;
esac
check_raw "without the quota" "SET_QUOTA OK\\0" \
	'SET_QUOTA:25\0outstanding\00\0'
# req_cons moves only past requests whose reply is in the ring (a crash
# must not lose a reply): requests of 216-byte replies the guest does not
# read stay unread, quota or not; every one is answered.
ring_cmd 25 pipeline 44 data/v
case $RING_OUT in
"pipeline sent 44 unread "*" replies 44") ok "without the quota: $RING_OUT" ;;
*) fail "without the quota: $RING_OUT" ;;
esac
raw 'WRITE:/local/domain/25/data/v\0v' >/dev/null
ring_check "short replies all fit: the daemon consumes everything" 25 \
	"pipeline sent 44 unread 0 replies 44" pipeline 44 data/v

# Memory quota: replies held for a guest count; beyond it, reading stops.
big=$(head -c 2000 /dev/zero | tr '\0' m)
ring_check "a 2000-byte node" 26 OK write data/big "$big"
check_raw "memory quota 6000, outstanding off" "SET_QUOTA OK\\0|SET_QUOTA OK\\0" \
	'SET_QUOTA:26\0outstanding\00\0' 'SET_QUOTA:26\0memory\06000\0'
ring_cmd 26 pipeline 40 data/big
case $RING_OUT in
"pipeline sent 40 unread 0 replies 40") fail "memory quota: $RING_OUT" ;;
"pipeline sent 40 unread "*" replies 40") ok "memory quota: reading stops, nothing dropped ($RING_OUT)" ;;
*) fail "memory quota: $RING_OUT" ;;
esac

# A flood from guest 24 while guest 23 measures its round trips.
ring_cmd 23 bench 200 data/v
lxs_log "# guest 23 alone: $RING_OUT"
base=$RING_OUT
eval "fd=\$RING_FD_24"
printf 'flood 20000 data/f\n' >&"$fd"
RING_SEEN_24=$((RING_SEEN_24 + 1))
ring_cmd 23 bench 200 data/v
lxs_log "# guest 23 during the flood: $RING_OUT"
case $RING_OUT in
bench*) ok "guest 23 served during the flood" ;;
*) fail "guest 23 during the flood: $RING_OUT" ;;
esac
check_raw "socket client served during the flood" "READ 23" \
	'READ:/local/domain/23/data/v\0'
lxs_wait_lines "$RING_DIR/out-24" "$RING_SEEN_24" 120
check_eq "the flood completes" "flood 20000 ok 20000 err 0" \
	"$(sed -n "${RING_SEEN_24}p" "$RING_DIR/out-24")"
: "$base"
lxs_done
