#!/usr/bin/env bash
# Live update of the rings that lu-ring.sh does not cover, on the fake
# Xen: dom0's kernel ring (--xsd-kva/--xsd-port: mapped from the file,
# not by grant, and its port was bound from xsd_port) keeps its watches,
# its queued replies (each once, in order) and its privilege, and is not
# reset; a guest given a target by SET_TARGET keeps its rights over the
# target's nodes in the new daemon, also to write and after a reconnect.
. "$(dirname "$0")/ring-lib.sh"
. "$(dirname "$0")/lu-lib.sh"
lxs_need "$XC"

ring_prepare
ring_guest 0 -p 9
echo 9 >"$RING_DIR/xsd_port"
ring_start --xsd-kva="$LXS_FAKEXEN_DIR/ring-0" \
	--xsd-port="$RING_DIR/xsd_port" -F pid --live-update-check-timeout 10
LU_FIRST_PID=$LXS_DAEMON_PID

ring_check "dom0 ring: writes" 0 OK write /lu-dom0/a 1
ring_check "dom0 ring: watches its subtree" 0 OK watch /lu-dom0 w0
ring_check "its initial event" 0 "EVENT /lu-dom0 w0" event
ring_check "dom0 ring: watches @introduceDomain" 0 OK watch @introduceDomain wi
ring_check "its initial event" 0 "EVENT @introduceDomain wi" event

for d in 8 11 12; do
	raw "WRITE:/local/domain/$d\\0" "SET_PERMS:/local/domain/$d\\0n$d\\0" \
		>/dev/null
done
ring_guest 8
ring_guest 11
check_eq "INTRODUCE 8" "INTRODUCE OK\\0" "$(ring_introduce 8)"
check_eq "INTRODUCE 11" "INTRODUCE OK\\0" "$(ring_introduce 11)"
ring_check "dom0 ring: @introduceDomain fires" 0 "EVENT @introduceDomain wi" event
ring_check "(for each)" 0 "EVENT @introduceDomain wi" event
ring_check "8 writes its node" 8 OK write data/a 1
ring_check "11 without a target: 8's node out of reach" 11 "ERROR EACCES" \
	read /local/domain/8/data/a
check_raw "SET_TARGET 11 8" "SET_TARGET OK\\0" 'SET_TARGET:11\08\0'
ring_check "11 with target 8 reads it" 11 1 read /local/domain/8/data/a

# Replies dom0's kernel does not read yet: they wait in the daemon's
# queue and travel in the handover. dom0's requests so far were 1 to 4.
ring_check "dom0 ring: a 300-byte node" 0 OK write /lu-dom0/x \
	"$(head -c 300 /dev/zero | tr '\0' x)"
ring_check "(its event)" 0 "EVENT /lu-dom0/x w0" event
ring_check "dom0 ring: leaves 20 replies unread" 0 "stuffed 20" stuff 20 /lu-dom0/x
resets=$(ring_page_field 0 2048)

check_out "live-update with dom0's ring and a target" "" \
	"$XC" live-update -t 60 "$RING_DIR/daemon"
p=$(lu_pid)
[ "$p" != "$LU_FIRST_PID" ] && ok "a new daemon serves" || fail "no update"
lxs_daemon_log 'dom0 ring' >/dev/null
check_eq "dom0's ring was not reset (request index kept)" "$resets" \
	"$(ring_page_field 0 2048)"
ring_check "dom0's unread replies survived, once each, in order" 0 \
	"drained 20 first 5 last 24 in-order" drain 1000
ring_check "dom0 ring: still privileged" 0 OK write /lu-dom0-root/k v
/usr/bin/xenstore-write /lu-dom0/b 2
ring_check "dom0's subtree watch fires in the new daemon" 0 \
	"EVENT /lu-dom0/b w0" event
ring_guest 12
check_eq "INTRODUCE 12 in the new daemon" "INTRODUCE OK\\0" "$(ring_introduce 12)"
ring_check "dom0's @introduceDomain watch fires in the new daemon" 0 \
	"EVENT @introduceDomain wi" event
/usr/bin/xenstore-write /lu-dom0/c 3
ring_check "no event was lost or doubled on the way" 0 \
	"EVENT /lu-dom0/c w0" event

ring_check "11 keeps target 8: reads its node" 11 1 read /local/domain/8/data/a
ring_check "and writes there" 11 OK write /local/domain/8/data/b 2
ring_check "12 (no target) cannot" 12 "ERROR EACCES" read /local/domain/8/data/a
ring_check "11 reconnects" 11 OK reconnect
ring_check "still with target 8" 11 2 read /local/domain/8/data/b
check_out "a second update" "" "$XC" live-update -t 60 "$RING_DIR/daemon"
ring_check "target 8 after two updates" 11 1 read /local/domain/8/data/a
ring_check "dom0's ring after two updates" 0 1 read /lu-dom0/a
for d in 0 8 11 12; do
	ring_guest_stop $d >/dev/null
done
lu_finish
