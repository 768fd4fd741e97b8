#!/usr/bin/env bash
# CONTROL status of the daemon as a whole, in text and JSON: version,
# uptime, nodes and bytes, socket connections, watches and open
# transactions, requests and error replies by type over the last minute,
# the log and snapshot state, the last recovery (records replayed, a torn
# tail, damaged files moved aside) and the live-update field; bad
# arguments. Xen's xenstore-control can ask for all of it.
. "$(dirname "$0")/durable-lib.sh"
dur_init
. "$(dirname "$0")/status-lib.sh"
RAW=$top_builddir/tests/rawclient
XC=/usr/lib/xen-4.17/bin/xenstore-control

dur_start --snapshot-records 20
t=$(st_text)
check_eq "version" "$("$DUR_D" --version)" "$(st_line "$t" version)"
case $(st_line "$t" uptime) in
[0-9]*" s, since 20"*Z) ok "uptime" ;;
*) fail "uptime: $(st_line "$t" uptime)" ;;
esac
check_eq "live update: never" never "$(st_line "$t" live-update)"
check_eq "sync mode" write "$(st_line "$t" sync)"
check_eq "no snapshot yet" never "$(st_line "$t" snapshot-time)"
check_json "status"
j=$(st_json)
check_eq "json: live update count" 0 "$(jget "$j" live_update.count)"
check_eq "json: live update time" null "$(jget "$j" live_update.time)"
check_eq "json: sync" write "$(jget "$j" durable.sync)"
check_eq "json: state dir" "$DUR_STATE" "$(jget "$j" durable.state_dir)"
check_eq "json: recovery from nothing" 0 "$(jget "$j" recovery.records_replayed)"

# --- nodes and bytes ------------------------------------------------------------------
nodes=$(jget "$j" nodes)
bytes=$(jget "$j" bytes)
xenstore-write /st/a hello /st/b 12
j=$(st_json)
check_eq "two writes: three nodes more" $((nodes + 3)) "$(jget "$j" nodes)"
check_eq "two writes: seven bytes more" $((bytes + 7)) "$(jget "$j" bytes)"
check_eq "nodes (text)" $((nodes + 3)) "$(st_line "$(st_text)" nodes)"

# --- requests and errors by type ---------------------------------------------------
req0=$(jget "$j" requests.total)
# rawclient: exactly one request per message (Xen's tools add their own).
"$RAW" "$XENSTORED_PATH" 'READ:/st/missing\0' 'READ:/st/missing\0' \
	'READ:/st/missing\0' 'WRITE:/st/b/c/d/e\0x' 'RM:/\0' >/dev/null
j=$(st_json)
check_eq "three ENOENT in the window" 3 "$(jget "$j" errors.ENOENT.last_window)"
check_eq "three ENOENT since start" 3 "$(jget "$j" errors.ENOENT.total)"
check_eq "one EINVAL (rm /)" 1 "$(jget "$j" errors.EINVAL.total)"
check_eq "no EACCES listed" MISSING "$(jget "$j" errors.EACCES)"
got=$(jget "$j" requests.total)
# 3 reads, 1 write, 1 rm, and the two status requests before this one.
check_eq "requests counted" $((req0 + 7)) "$got"
[ "$(jget "$j" requests.last_window)" -ge 6 ] && ok "requests in the window" ||
	fail "requests.last_window: $(jget "$j" requests.last_window)"
"$ST_PY" -c "import sys; sys.exit(0 if $(jget "$j" requests.per_s) > 0 else 1)" &&
	ok "requests per second" || fail "requests.per_s: $(jget "$j" requests.per_s)"
case $(st_line "$(st_text)" requests) in
*"/s over the last "*" s ("*"), "*" since start") ok "requests (text)" ;;
*) fail "requests (text): $(st_text)" ;;
esac
case $(st_line "$(st_text)" errors) in
*"ENOENT 3 (3 since start)"*"EINVAL 1"*|*"EINVAL 1"*"ENOENT 3 (3 since start)"*)
	ok "errors (text)" ;;
*) fail "errors (text): $(st_line "$(st_text)" errors)" ;;
esac

# --- connections, watches, transactions ------------------------------------------------
"$RAW" -w 60 "$XENSTORED_PATH" 'WATCH:/st\0tok\0' 'TRANSACTION_START:\0' \
	'sleep:60' >/dev/null 2>&1 &
holder=$!
st_wait_json transactions 1 && ok "an open transaction" ||
	fail "transactions: $(st_text)"
j=$(st_json)
check_eq "a watch" 1 "$(jget "$j" watches)"
check_eq "two sockets (the holder and us)" 2 "$(jget "$j" connections.sockets)"
check_eq "no rings" 0 "$(jget "$j" connections.rings)"
check_eq "connections (text)" "2 sockets, 0 rings" "$(st_line "$(st_text)" connections)"
kill "$holder"
wait "$holder" 2>/dev/null
st_wait_json transactions 0 && ok "the transaction goes with its client" ||
	fail "transactions: $(st_text)"

# --- the log and snapshots ----------------------------------------------------------------
j=$(st_json)
seq=$(jget "$j" durable.log_seq)
[ "$seq" -ge 2 ] && ok "log seq $seq" || fail "log seq $seq"
[ "$(jget "$j" durable.log_written_bytes)" -gt 0 ] && ok "log bytes written" ||
	fail "log_written_bytes: $(jget "$j" durable.log_written_bytes)"
check_eq "log error" null "$(jget "$j" durable.log_error)"
for i in $(seq 1 25); do xenstore-write /st/k$i v$i; done
dur_wait_status 'snapshot: seq [1-9][0-9]*, .*idle' ||
	fail "no snapshot: $(dur_status)"
j=$(st_json)
[ "$(jget "$j" durable.snapshot_seq)" -ge 20 ] && ok "snapshot seq" ||
	fail "snapshot seq $(jget "$j" durable.snapshot_seq)"
case $(jget "$j" durable.snapshot_time) in
20*Z) ok "snapshot time" ;;
*) fail "snapshot time: $(jget "$j" durable.snapshot_time)" ;;
esac
check_eq "snapshot not being written" false "$(jget "$j" durable.snapshot_writing)"
case $(jget "$j" durable.snapshot_duration_ms) in
''|*[!0-9]*) fail "snapshot duration: $(jget "$j" durable.snapshot_duration_ms)" ;;
*) ok "snapshot duration $(jget "$j" durable.snapshot_duration_ms) ms" ;;
esac
case $(st_line "$(st_text)" snapshot-time) in
20*Z) ok "snapshot time (text)" ;;
*) fail "snapshot-time: $(st_text)" ;;
esac
snap=$(jget "$j" durable.snapshot_seq)
last=$(jget "$j" durable.log_seq)

# --- recovery -----------------------------------------------------------------------------
dur_stop
dur_start --snapshot-records 1000
j=$(st_json)
check_eq "recovery: from the snapshot" "$snap" "$(jget "$j" recovery.snapshot_seq)"
check_eq "recovery: up to the last record" "$last" "$(jget "$j" recovery.last_seq)"
check_eq "recovery: records replayed" $((last - snap)) \
	"$(jget "$j" recovery.records_replayed)"
case $(jget "$j" recovery.time) in
20*Z) ok "recovery time" ;;
*) fail "recovery time: $(jget "$j" recovery.time)" ;;
esac
check_eq "no torn tail" false "$(jget "$j" recovery.torn_tail_cut)"
case $(jget "$j" recovery.duration_ms) in
''|*[!0-9]*) fail "recovery duration: $(jget "$j" recovery.duration_ms)" ;;
*) ok "recovery duration $(jget "$j" recovery.duration_ms) ms" ;;
esac
check_eq "nothing moved aside" null "$(jget "$j" recovery.damaged_log_moved_to)"
case $(dur_status) in
*"recovery: snapshot seq $snap + $((last - snap)) records = seq $last in "*) ok "recovery (text)" ;;
*) fail "recovery (text): $(dur_status)" ;;
esac
for i in 1 2 3; do xenstore-write /st/t$i v$i; done
dur_kill
seg=$(dur_segments | tail -1)
truncate -s $(($(dur_seg_end "$seg") - 3)) "$seg"
dur_start --snapshot-records 1000
check_eq "a torn tail cut" true "$(jget "$(st_json)" recovery.torn_tail_cut)"
dur_stop

# Damage in the middle: files moved aside, and status says where.
rm -rf "$DUR_STATE"
dur_start --log-segment-size 4096 --snapshot-records 100000
for i in $(seq 1 100); do xenstore-write /m/k$i "value-$i-$(printf '%040d' 0)"; done
dur_kill
printf '\xff' | dd of="$(dur_segments | sed -n 2p)" bs=1 seek=200 conv=notrunc status=none
dur_start --log-segment-size 4096 --snapshot-records 100000
moved=$(jget "$(st_json)" recovery.damaged_log_moved_to)
[ -d "$moved" ] && ok "damaged log moved to $(basename "$moved")" ||
	fail "damaged_log_moved_to: $moved"

# --- arguments, and Xen's xenstore-control --------------------------------------------
check_rc "status bogus" 3 st_ctl status bogus
check_rc "status domain without a domid" 3 st_ctl status --domain
check_rc "status domain 70000" 3 st_ctl status --domain 70000
check_eq "status of an unknown domain" \
	"xenstore-control: status: No such file or directory" "$(st_text --domain 77)"
check_json "status domain 0" --domain 0
check_json "status top" --top
check_eq "status json domain 0 (wire words)" 0 \
	"$(jget "$(st_ctl status json domain 0)" domid)"
if [ -x "$XC" ]; then
	check_eq "Xen's tool: status --json" 0 \
		"$(jget "$("$XC" status --json)" live_update.count)"
	check_eq "Xen's tool: status --domain 0" "domain: 0" \
		"$("$XC" status --domain 0 | head -1)"
	case $("$XC" status --top 1) in
	*"1 busiest:"*) ok "Xen's tool: status --top 1" ;;
	*) fail "Xen's tool: status --top 1: $("$XC" status --top 1)" ;;
	esac
fi
dur_stop
lxs_done
