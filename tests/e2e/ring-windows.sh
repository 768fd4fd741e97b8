#!/usr/bin/env bash
# The two crash windows of a ring's output, closed with the ring page that
# outlives the daemon and the response positions in the log:
#   - killed after a logged reply is in the ring but before req_cons moves
#     past its request (LXS_TEST_CRASH_AFTER_RING_REPLY): after the restart
#     the request is passed over, not answered twice;
#   - killed after the first piece of a message longer than the ring
#     (LXS_TEST_CRASH_MID_RING_MESSAGE), a read's reply and a watch event:
#     the restarted daemon sends the rest from its RING_OUT record, so the
#     guest's stream is not misframed, and the read is not answered twice.
# A duplicate or misframed reply shows as BAD-... or a timeout on the
# guest's next command.
. "$(dirname "$0")/ring-lib.sh"
INS=$top_builddir/lxenstore-inspect

ring_start
raw 'WRITE:/local/domain/52\0' 'SET_PERMS:/local/domain/52\0n52\0' >/dev/null
ring_guest 52
check_eq "INTRODUCE 52" "INTRODUCE OK\\0" "$(ring_introduce 52)"
ring_check "a first write" 52 OK write data/a 1

# Window (b): the reply is in the ring, req_cons is not past the request.
export LXS_TEST_CRASH_AFTER_RING_REPLY=1
ring_restart
unset LXS_TEST_CRASH_AFTER_RING_REPLY
ring_send 52 write data/b 2
ring_crashed "the reply in the ring, req_cons behind it" \
	LXS_TEST_CRASH_AFTER_RING_REPLY
ring_restart
ring_answer "the guest has its OK" 52 OK
lxs_daemon_log 'request [0-9]* was answered in the ring before the restart: passed over' ||
	fail "the request was not passed over"
ring_check "no second reply: the next request gets its own" 52 2 read data/b
check_eq "req_cons caught up: nothing left unread" \
	"$(ring_page_field 52 2052)" "$(ring_page_field 52 2048)"
check_eq "the write is in the log once" 1 \
	"$("$INS" --state-dir "$LXS_TMP/state" log --path /local/domain/52/data/b 2>/dev/null |
		grep -c ' PUT /local/domain/52/data/b ')"

# Window (a): a 2000-byte reply (a read: not logged as a change) cut
# after its first piece.
big=$(head -c 2000 /dev/zero | tr '\0' r)
ring_check "a 2000-byte value" 52 OK write data/big "$big"
export LXS_TEST_CRASH_MID_RING_MESSAGE=1
ring_restart
unset LXS_TEST_CRASH_MID_RING_MESSAGE
ring_send 52 read data/big
ring_crashed "in the middle of a 2016-byte reply" \
	LXS_TEST_CRASH_MID_RING_MESSAGE
"$INS" --state-dir "$LXS_TMP/state" log 2>/dev/null |
	grep -q -E '^[0-9]+ [^ ]+ 52 RING-OUT rsp_end=[0-9]+ 2016$' &&
	ok "inspect log shows the RING-OUT record" ||
	fail "inspect log: no RING-OUT of 52"
ring_restart
lxs_daemon_log 'domain 52: a message cut by the crash after [0-9]+ of 2016 bytes is completed' ||
	fail "the cut reply was not completed"
ring_answer "the guest gets the whole value" 52 "$big"
ring_check "and its next request its own reply" 52 1 read data/a

# A watch event longer than the ring, cut the same way.
long=$(head -c 1100 /dev/zero | tr '\0' e)
ring_check "a watch" 52 OK watch data/w w
ring_check "its initial event" 52 "EVENT data/w w" event
export LXS_TEST_CRASH_MID_RING_MESSAGE=1
ring_restart
unset LXS_TEST_CRASH_MID_RING_MESSAGE
ring_check "the restored watch fires" 52 "EVENT data/w w" event
/usr/bin/xenstore-write "/local/domain/52/data/w/$long" v >/dev/null 2>&1 &
writer=$!
ring_crashed "in the middle of a long event" LXS_TEST_CRASH_MID_RING_MESSAGE
wait "$writer"
ring_restart
lxs_daemon_log 'domain 52: a message cut by the crash after [0-9]+ of [0-9]+ bytes is completed' ||
	fail "the cut event was not completed"
ring_check "the guest gets the whole event" 52 "EVENT data/w/$long w" event
ring_check "then the restored watch fires" 52 "EVENT data/w w" event
ring_check "the stream is framed" 52 1 read data/a
lxs_done
