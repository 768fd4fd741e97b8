#!/usr/bin/env bash
# Domain death (VIRQ_DOM_EXC): the fake Xen's libxenctrl reports what
# tests/fakexenctl says about a domain and raises the virq. A domain shut
# down fires @releaseDomain/<domid> and one plain @releaseDomain, once
# until RESUME; a dying domain, one that no longer exists and one whose id
# now belongs to another domain (another handle) are released as by
# RELEASE: nodes gone, IS_DOMAIN_INTRODUCED F, @releaseDomain, event
# channel unbound, in the log. Deaths while the daemon is down are found
# when it starts again, with the ring still there and without it.
. "$(dirname "$0")/ring-lib.sh"
ring_start
lxs_daemon_log 'guest rings enabled, deaths detected' ||
	fail "death detection not enabled with the fake libxenctrl"

HANDLE_A=0123456789abcdef0123456789abcdef
HANDLE_B=fedcba9876543210fedcba9876543210
for d in 60 61 62 63 64 65; do
	raw "WRITE:/local/domain/$d\\0" "SET_PERMS:/local/domain/$d\\0n$d\\0" \
		"WRITE:/local/domain/$d/data/x\\0$d" >/dev/null
	ring_guest "$d" -t 3000
done
ring_xen -n 62 running "$HANDLE_A"
for d in 60 61 62 63 64 65; do
	check_eq "INTRODUCE $d" "INTRODUCE OK\\0" "$(ring_introduce "$d")"
done
ring_check "60 watches @releaseDomain" 60 OK watch @releaseDomain r
ring_check "its initial event" 60 "EVENT @releaseDomain r" event
ring_check "60 watches @releaseDomain/61" 60 OK watch @releaseDomain/61 s61
ring_check "its initial event" 60 "EVENT @releaseDomain/61 s61" event
ring_check "61 watches its data" 61 OK watch data w61
ring_check "its initial event" 61 "EVENT data w61" event

# Shut down: both forms, once.
ring_xen 61 shutdown
ring_check "61 shut down: @releaseDomain/61" 60 \
	"EVENT @releaseDomain/61 s61" event
ring_check "then one plain @releaseDomain" 60 "EVENT @releaseDomain r" event
check_raw "61 stays introduced, its nodes stay" \
	"IS_DOMAIN_INTRODUCED T\\0|READ 61" 'IS_DOMAIN_INTRODUCED:61\0' \
	'READ:/local/domain/61/data/x\0'
ring_check "61 is still served" 61 61 read data/x
ring_xen 61 shutdown
ring_check "the same shutdown seen again fires nothing" 60 \
	"TIMEOUT waiting for an event" event
check_raw "RESUME 61" "RESUME OK\\0" 'RESUME:61\0'
ring_xen 61 crashed
ring_check "after RESUME, a crash fires again" 60 \
	"EVENT @releaseDomain/61 s61" event
ring_check "and the plain form" 60 "EVENT @releaseDomain r" event

# Dying: released.
ring_xen 61 dying
ring_check "61 dying: released, @releaseDomain" 60 \
	"EVENT @releaseDomain r" event
ring_check "and @releaseDomain/61" 60 "EVENT @releaseDomain/61 s61" event
ring_check "nothing more" 60 "TIMEOUT waiting for an event" event
check_raw "61 is no longer introduced, its nodes are gone" \
	"IS_DOMAIN_INTRODUCED F\\0|ERROR ENOENT\\0|ERROR ENOENT\\0" \
	'IS_DOMAIN_INTRODUCED:61\0' 'READ:/local/domain/61\0' 'RELEASE:61\0'
lxs_daemon_log 'domain 61: it is dying: released' ||
	fail "no release of 61 logged"
[ -z "$(grep -l '^61 ' "$LXS_FAKEXEN_DIR"/bound-* 2>/dev/null)" ] &&
	ok "61's event channel is unbound" || fail "61's port is still bound"
ring_cmd 61 -w 2 read data/x
case $RING_OUT in
TIMEOUT* | NO-ANSWER*) ok "a dead guest's ring is not served" ;;
*) fail "61 still served: $RING_OUT" ;;
esac

# Another domain at 62's id: 62 is gone.
ring_xen 62 running "$HANDLE_B"
ring_check "62 replaced: @releaseDomain" 60 "EVENT @releaseDomain r" event
check_raw "62 is released" "IS_DOMAIN_INTRODUCED F\\0|ERROR ENOENT\\0" \
	'IS_DOMAIN_INTRODUCED:62\0' 'READ:/local/domain/62\0'
lxs_daemon_log 'domain 62: its id belongs to another domain now: released' ||
	fail "no release of 62 logged"

# Missed by the daemon (no VIRQ_DOM_EXC, as when it is down), found when
# it starts again: 63 gone with its ring left behind, 64 gone without it,
# 65 only shut down.
ring_xen -n 63 destroyed
ring_guest_stop 64 || fail "guest 64 did not quit cleanly"
rm -f "$LXS_FAKEXEN_DIR/ring-64"
ring_xen -n 64 destroyed
ring_xen -n 65 shutdown
ring_restart -9
check_raw "63 and 64 are released at start, 65 is not" \
	"IS_DOMAIN_INTRODUCED F\\0|IS_DOMAIN_INTRODUCED F\\0|IS_DOMAIN_INTRODUCED T\\0|IS_DOMAIN_INTRODUCED T\\0" \
	'IS_DOMAIN_INTRODUCED:63\0' 'IS_DOMAIN_INTRODUCED:64\0' \
	'IS_DOMAIN_INTRODUCED:65\0' 'IS_DOMAIN_INTRODUCED:60\0'
check_raw "their nodes are gone" "ERROR ENOENT\\0|ERROR ENOENT\\0|READ 65" \
	'READ:/local/domain/63\0' 'READ:/local/domain/64\0' \
	'READ:/local/domain/65/data/x\0'
lxs_daemon_log 'domain 63: it no longer exists: released' ||
	fail "63's death at start not logged"
lxs_daemon_log 'domain 64: it no longer exists \(died while the daemon was down\): released' ||
	fail "64's death at restore not logged"
# It was never mapped or bound again: nothing to unbind or unmap.
lxs_daemon_log 'domain 64: (unbind|unmap)' &&
	fail "64 was unbound or unmapped without being restored" ||
	ok "64 is released without an unbind or unmap"
# 60's restored watches fire once; the deaths and 65's shutdown add events.
events=
for _ in 1 2 3 4 5 6; do
	ring_cmd 60 event
	case $RING_OUT in
	TIMEOUT*) break ;;
	esac
	events="$events|$RING_OUT"
done
case $events in
*"EVENT @releaseDomain r"*) ok "60's @releaseDomain watch fires after the restart" ;;
*) fail "no @releaseDomain event after the restart: $events" ;;
esac
check_eq "65's shutdown fired @releaseDomain/65 at start, once" 1 \
	"$(grep -c 'domain 65: shut down' "$LXS_TMP/daemon.log")"
ring_check "60 is still served" 60 OK write data/y 1

# The log agrees: a restart keeps them released and 65 shut down.
ring_restart
check_raw "after another restart" \
	"IS_DOMAIN_INTRODUCED F\\0|IS_DOMAIN_INTRODUCED F\\0|IS_DOMAIN_INTRODUCED F\\0|IS_DOMAIN_INTRODUCED T\\0" \
	'IS_DOMAIN_INTRODUCED:61\0' 'IS_DOMAIN_INTRODUCED:62\0' \
	'IS_DOMAIN_INTRODUCED:63\0' 'IS_DOMAIN_INTRODUCED:65\0'
lxs_daemon_log 'domain 65: shut down' &&
	fail "65's shutdown fired again after a restart" ||
	ok "65's shutdown is not fired again (in the log)"
lxs_done
