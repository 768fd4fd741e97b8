#!/usr/bin/env bash
# dom0's kernel ring (--xsd-kva/--xsd-port) across restarts of the daemon,
# like a guest's: after kill -9 (and after a clean stop) it is not reset,
# its watches come back and fire once, a change whose reply had not reached
# the ring when the daemon died is answered from the log and not applied
# again. A start without the ring drops its record; the next start with it
# resets it, as a first start does.
. "$(dirname "$0")/ring-lib.sh"
INS=$top_builddir/lxenstore-inspect

ring_prepare
ring_guest 0 -p 9 -t 3000
echo 9 >"$RING_DIR/xsd_port"
DOM0="--xsd-kva=$LXS_FAKEXEN_DIR/ring-0 --xsd-port=$RING_DIR/xsd_port"
# shellcheck disable=SC2086 # two options
ring_start $DOM0
lxs_daemon_log 'dom0 ring restored' && fail "a first start restored dom0's ring"

ring_check "dom0 writes" 0 OK write /tool/k v1
ring_check "dom0 watches an absolute path" 0 OK watch /tool/k t0
ring_check "its initial event" 0 "EVENT /tool/k t0" event
ring_check "dom0 watches a relative path with a depth" 0 OK watch data d0 1
ring_check "its initial event" 0 "EVENT data d0" event
ring_check "dom0 watches @releaseDomain" 0 OK watch @releaseDomain r0
ring_check "its initial event" 0 "EVENT @releaseDomain r0" event
ring_check "and unwatches it" 0 OK unwatch @releaseDomain r0
cons=$(ring_page_field 0 2048)

# shellcheck disable=SC2086
ring_restart -9 $DOM0
lxs_daemon_log 'dom0 ring restored, 2 watch' ||
	fail "dom0's ring not restored: $(grep dom0 "$LXS_TMP/daemon.log")"
check_eq "the ring is not reset (req_cons kept)" "$cons" \
	"$(ring_page_field 0 2048)"
ring_check "the absolute watch fires once" 0 "EVENT /tool/k t0" event
ring_check "the relative one too" 0 "EVENT data d0" event
ring_check "nothing more (the removed watch stays removed)" 0 \
	"TIMEOUT waiting for an event" -w 15 event
ring_check "dom0 reads what it wrote" 0 v1 read /tool/k
ring_check "and writes" 0 OK write /tool/k v2
ring_check "its watch fires" 0 "EVENT /tool/k t0" event
ring_check "the depth survived: a child fires" 0 OK write data/c 1
ring_check "its event" 0 "EVENT data/c d0" event
ring_check "a grandchild does not" 0 OK write data/c/g 1

# Killed after a change and its reply are logged, before the reply is in
# the ring: answered from the log after the restart, applied once.
export LXS_TEST_CRASH_BEFORE_RING_REPLY=1
# shellcheck disable=SC2086
ring_restart $DOM0
unset LXS_TEST_CRASH_BEFORE_RING_REPLY
ring_check "the restored watch fires (clean restart)" 0 "EVENT /tool/k t0" event
ring_check "and the other" 0 "EVENT data d0" event
ring_send 0 write /tool/once x
ring_crashed "dom0's write"
# shellcheck disable=SC2086
ring_restart $DOM0
lxs_daemon_log 'domain 0: request [0-9]* was executed before the restart' ||
	fail "the logged reply was not used"
ring_answer "dom0 gets its OK after the restart" 0 OK
check_eq "the write is applied once" 1 \
	"$("$INS" --state-dir "$LXS_TMP/state" log --path /tool/once 2>/dev/null |
		grep -c ' PUT /tool/once ')"
ring_check "its watches fired once more" 0 "EVENT /tool/k t0" event
ring_check "both" 0 "EVENT data d0" event

# Without the ring, its record goes; with it again, a reset.
ring_restart
lxs_daemon_log 'dom0 ring' && fail "a dom0 ring without --xsd-kva"
# shellcheck disable=SC2086
ring_restart $DOM0
lxs_daemon_log 'dom0 ring restored' &&
	fail "dom0's ring restored after a start without it" ||
	ok "a start without the ring forgets it: reset"
check_eq "reset: req_cons 0" 0 "$(ring_page_field 0 2048)"
ring_check "dom0 is served after the reset" 0 v2 read /tool/k
lxs_done
