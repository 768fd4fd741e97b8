#!/usr/bin/env bash
# A guest over its ring (production daemon, fake Xen): INTRODUCE, relative
# paths, what an unprivileged domain may not do, watches and their events
# in both directions, transactions, messages longer than the ring that wrap
# around its end, messages written in small pieces, and the free-running
# indices crossing 2^32.
. "$(dirname "$0")/ring-lib.sh"
ring_start

# The toolstack's part: the guest's home, owned by the guest.
raw 'WRITE:/local/domain/5\0' 'SET_PERMS:/local/domain/5\0n5\0r0\0' >/dev/null
raw 'WRITE:/local/domain/6\0' 'SET_PERMS:/local/domain/6\0n6\0' >/dev/null
raw 'WRITE:/local/domain/7\0' 'SET_PERMS:/local/domain/7\0n7\0' >/dev/null

ring_guest 5
check_eq "before INTRODUCE the guest waits (connection = RECONNECT)" 1 \
	"$(ring_page_field 5 2068)"
check_raw "INTRODUCE" "INTRODUCE OK\\0" "INTRODUCE:5\\04101\\01\\0"
check_raw "IS_DOMAIN_INTRODUCED" \
	"IS_DOMAIN_INTRODUCED T\\0|IS_DOMAIN_INTRODUCED F\\0" \
	'IS_DOMAIN_INTRODUCED:5\0' 'IS_DOMAIN_INTRODUCED:9\0'
ring_check "write a relative path" 5 OK write data/x hello
ring_check "read it back" 5 hello read data/x
check_out "it is /local/domain/5/data/x" hello \
	/usr/bin/xenstore-read /local/domain/5/data/x
ring_check "absolute path in its home" 5 hello read /local/domain/5/data/x
ring_check "ls" 5 "x" ls data
ring_check "new node owned by the guest" 5 "n5 r0" getperms data/x
ring_check "server_features: RECONNECTION|ERROR|WATCHDEPTH" 5 "features 7" \
	features
ring_check "error field clear" 5 "error 0" error
ring_check "GET_FEATURE over the ring" 5 'GET_FEATURE 7\0' raw GET_FEATURE
ring_check "GET_DOMAIN_PATH over the ring" 5 \
	'GET_DOMAIN_PATH /local/domain/5\0' raw GET_DOMAIN_PATH '5\0'
ring_check "unprivileged: root not readable" 5 "ERROR EACCES" ls /
ring_check "unprivileged: no write outside its home" 5 "ERROR EACCES" \
	write /tool/x y
ring_check "unprivileged: INTRODUCE" 5 'ERROR EACCES\0' \
	raw INTRODUCE '6\0 1\0 1\0'
ring_check "unprivileged: CONTROL" 5 'ERROR EACCES\0' raw CONTROL 'check\0'
ring_check "unprivileged: GET_FEATURE of a domain" 5 'ERROR EACCES\0' \
	raw GET_FEATURE '5\0'
ring_check "mkdir" 5 OK mkdir data/d
ring_check "rm" 5 OK rm data/d
ring_check "read of a removed node" 5 "ERROR ENOENT" read data/d

# Watches: the guest's (relative) and a socket client's.
ring_check "watch" 5 OK watch data tok
ring_check "initial event" 5 "EVENT data tok" event
raw 'WRITE:/local/domain/5/data/y\0from-dom0' >/dev/null
ring_check "event for a socket client's write" 5 "EVENT data/y tok" event
ring_check "watch with depth 0" 5 OK watch data/z deep 0
ring_check "its initial event" 5 "EVENT data/z deep" event
raw 'WRITE:/local/domain/5/data/z/below\0v' 'WRITE:/local/domain/5/data/z\0v' \
	>/dev/null
ring_check "depth 0: an event below data/z reaches 'tok' only" 5 \
	"EVENT data/z/below tok" event
ring_check "then data/z for both" 5 "EVENT data/z tok" event
ring_check "and for the depth-0 watch" 5 "EVENT data/z deep" event
raw 'WATCH:/local/domain/5/out\0sock\0' events:2 >"$LXS_TMP/w" 2>&1 &
wpid=$!
lxs_wait_lines "$LXS_TMP/w" 2 || fail "socket watch: no initial event"
ring_check "the guest writes" 5 OK write out v
wait $wpid
check_eq "the socket watcher sees the guest's write" \
	"WATCH_EVENT /local/domain/5/out\\0sock\\0" "$(sed -n 3p "$LXS_TMP/w")"
ring_check "unwatch" 5 OK unwatch data tok
ring_check "unwatch again" 5 "ERROR ENOENT" unwatch data tok

# Transactions.
ring_check "txn" 5 OK txn
ring_check "write in the transaction" 5 OK write data/t a
ring_check "read in the transaction" 5 a read data/t
check_raw "not visible outside yet" "ERROR ENOENT\\0" \
	'READ:/local/domain/5/data/t\0'
ring_check "commit" 5 OK commit
check_raw "visible after commit" "READ a" 'READ:/local/domain/5/data/t\0'
ring_check "txn (abort)" 5 OK txn
ring_check "write" 5 OK write data/t b
ring_check "abort" 5 OK abort
ring_check "aborted write not applied" 5 a read data/t
ring_check "txn (conflict)" 5 OK txn
ring_check "read" 5 a read data/t
raw 'WRITE:/local/domain/5/data/t\0dom0' >/dev/null
ring_check "write" 5 OK write data/t c
ring_check "commit after a conflicting write: EAGAIN" 5 "ERROR EAGAIN" commit
ring_check "the other write stands" 5 dom0 read data/t

# Messages longer than the 1024-byte ring (a guest's node-size quota is
# 2048): sent in pieces while the daemon consumes them, wrapping.
big=$(head -c 2000 /dev/zero | tr '\0' 'b')
ring_check "2000-byte write" 5 OK write data/big "$big"
ring_check "2000-byte read" 5 "$big" read data/big
for i in 1 2 3 4 5 6 7; do
	ring_cmd 5 write "data/odd$i" "$(head -c $((i * 97)) /dev/zero | tr '\0' o)"
done
ring_check "odd sizes, wrapping at different offsets" 5 \
	"$(head -c 679 /dev/zero | tr '\0' o)" read data/odd7

# A guest that writes every message in 7-byte pieces, each one consumed by
# the daemon before the next: partial headers and payloads.
ring_guest 6 -c 7 -p 3
check_raw "INTRODUCE 6 (port 3)" "INTRODUCE OK\\0" "INTRODUCE:6\\04102\\03\\0"
ring_check "partial messages: write" 6 OK write data/p "$big"
ring_check "partial messages: read" 6 "$big" read data/p
ring_check "partial messages: watch" 6 OK watch data/p w
ring_check "partial messages: event" 6 "EVENT data/p w" event

# Free-running indices across 2^32: a ring that has carried almost 4 GiB.
ring_guest 7
check_raw "INTRODUCE 7" "INTRODUCE OK\\0" "INTRODUCE:7\\04103\\01\\0"
ring_check "indices near 2^32" 7 OK set-index 4294966000
ring_check "write across the wrap" 7 OK write data/w "$big"
ring_check "read across the wrap" 7 "$big" read data/w
prod=$(ring_page_field 7 2052)
[ "$prod" -lt 100000 ] && ok "req_prod wrapped ($prod)" ||
	fail "req_prod did not wrap: $prod"
ring_check "still fine" 7 OK write data/w2 x

for g in 5 6 7; do
	ring_guest_stop $g && ok "guest $g exits cleanly" ||
		fail "guest $g exit status $? ($(tail -n 3 "$RING_DIR/out-$g"))"
done
lxs_done
