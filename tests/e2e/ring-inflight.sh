#!/usr/bin/env bash
# No mutation applied twice, no reply lost: the daemon kills itself (test
# hook LXS_TEST_CRASH_BEFORE_RING_REPLY=N) right after a guest's change and
# its reply are in the log, before the reply is in the ring. After the
# restart the guest gets that reply, with no error, and the change is in
# the log once: a WRITE, a transaction's commit, a WATCH (whose restored
# watch then fires once). A message the daemon had read in part when it
# was killed is finished after the restart from its logged first bytes.
. "$(dirname "$0")/ring-lib.sh"
INS=$top_builddir/lxenstore-inspect

# inflight_puts PATH: PUT records of PATH in the log.
inflight_puts() {
	"$INS" --state-dir "$LXS_TMP/state" log --path "$1" 2>/dev/null |
		grep -c " PUT $1 "
}

export LXS_TEST_CRASH_BEFORE_RING_REPLY=2
ring_start
unset LXS_TEST_CRASH_BEFORE_RING_REPLY
raw 'WRITE:/local/domain/50\0' 'SET_PERMS:/local/domain/50\0n50\0' >/dev/null
ring_guest 50
check_eq "INTRODUCE 50" "INTRODUCE OK\\0" "$(ring_introduce 50)"
ring_check "a first write is answered" 50 OK write data/a 1

# A WRITE.
ring_send 50 write data/once x
ring_crashed "write"
ring_restart
lxs_daemon_log 'request [0-9]* was executed before the restart' ||
	fail "write: the logged reply was not used"
ring_answer "write: the guest gets its OK after the restart" 50 OK
check_eq "write: applied once" 1 "$(inflight_puts /local/domain/50/data/once)"
"$INS" --state-dir "$LXS_TMP/state" log 2>/dev/null |
	grep -q -E '^[0-9]+ [^ ]+ 50 RING-REPLY req_end=[0-9]+ 19$' &&
	ok "inspect log shows the logged reply" ||
	fail "inspect log: no RING-REPLY of 50"
ring_check "write: the value is there" 50 x read data/once

# A transaction's commit.
ring_check "txn" 50 OK txn
ring_check "write t1 in it" 50 OK write data/t1 a
ring_check "write t2 in it" 50 OK write data/t2 b
export LXS_TEST_CRASH_BEFORE_RING_REPLY=1
ring_restart
unset LXS_TEST_CRASH_BEFORE_RING_REPLY
ring_check "the transaction was lost with the restart" 50 "ERROR EAGAIN" commit
ring_check "txn again" 50 OK txn
ring_check "write t1" 50 OK write data/t1 a
ring_check "write t2" 50 OK write data/t2 b
ring_send 50 commit
ring_crashed "commit"
ring_restart
ring_answer "commit: the guest gets its OK after the restart" 50 OK
check_eq "commit: applied once" "1 1" \
	"$(inflight_puts /local/domain/50/data/t1) $(inflight_puts /local/domain/50/data/t2)"
ring_check "commit: its writes are there" 50 b read data/t2

# A WATCH: no EEXIST, and the restored watch fires once.
export LXS_TEST_CRASH_BEFORE_RING_REPLY=1
ring_restart
unset LXS_TEST_CRASH_BEFORE_RING_REPLY
ring_send 50 watch data/w tok
ring_crashed "watch"
ring_restart
ring_answer "watch: the guest gets its OK after the restart" 50 OK
ring_check "watch: the restored watch fires once" 50 "EVENT data/w tok" event
ring_check "a change below it" 50 OK write data/w/x 1
ring_check "fires it" 50 "EVENT data/w/x tok" event
ring_check "still served" 50 1 read data/a

# A message consumed in part: its first bytes are in the log, and the
# restarted daemon goes on with it where the guest goes on.
value=$(head -c 300 /dev/zero | tr '\0' h)
ring_check "half a WRITE, consumed by the daemon" 50 OK \
	half-write data/half "$value"
"$INS" --state-dir "$LXS_TMP/state" log 2>/dev/null |
	grep -q -E '^[0-9]+ [^ ]+ 50 RING-PARTIAL req_end=[0-9]+ [0-9]+$' &&
	ok "inspect log shows the partial message" ||
	fail "inspect log: no RING-PARTIAL of 50"
ring_restart -9
ok "daemon killed with SIGKILL with half a message read"
lxs_daemon_log 'bytes of a partly read message restored' ||
	fail "the partial message was not restored"
ring_check "the rest of it after the restart" 50 OK finish
ring_check "the value is whole" 50 "$value" read data/half
check_eq "no error field" 0 "$(ring_page_field 50 2072)"
# A guest sending its message in 64-byte pieces, each consumed before the
# next: the log takes each piece once (not the whole message so far each
# time), and the message is whole after a restart in the middle of it.
raw 'WRITE:/local/domain/51\0' 'SET_PERMS:/local/domain/51\0n51\0' >/dev/null
ring_guest 51 -c 64
check_eq "INTRODUCE 51" "INTRODUCE OK\\0" "$(ring_introduce 51)"
big=$(head -c 1500 /dev/zero | tr '\0' p)
ring_check "half a 1500-byte WRITE in pieces" 51 OK half-write data/big "$big"
logged=$("$INS" --state-dir "$LXS_TMP/state" log 2>/dev/null |
	awk '$3 == 51 && $4 == "RING-PARTIAL" { n++; s += $6 } END { print n, s }')
set -- $logged
[ "${1:-0}" -ge 10 ] && [ "${2:-0}" -le 1600 ] &&
	ok "each piece logged once ($1 records, $2 bytes)" ||
	fail "partial records of 51: $logged"
ring_restart -9
ring_check "the rest in pieces after the restart" 51 OK finish
ring_check "the 1500 bytes are whole" 51 "$big" read data/big

# The same with --sync=always: req_cons waits for the fdatasync.
ring_restart --sync=always
ring_check "sync always: half a WRITE, consumed" 50 OK \
	half-write data/half2 "$value"
ring_restart -9 --sync=always
ring_check "sync always: the rest after the restart" 50 OK finish
ring_check "sync always: the value is whole" 50 "$value" read data/half2
lxs_done
