#!/usr/bin/env bash
# CONTROL status --domain and --top for guests over the fake Xen: each
# quota the store enforces (nodes, node-size, watches, transactions,
# transaction-nodes, node-permissions, path-max, memory) refuses a guest,
# and the refusal is counted by quota name and logged once per interval,
# naming the domain, the quota and the value; the outstanding and memory
# quotas throttle a guest's ring, shown as throttled and logged; requests,
# EAGAIN replies, nodes, watches, transactions and the largest nodes are
# reported per domain, in text and in JSON.
. "$(dirname "$0")/ring-lib.sh"
. "$(dirname "$0")/status-lib.sh"
ring_start

for d in 31 32 33 34 35; do
	raw "WRITE:/local/domain/$d\\0" "SET_PERMS:/local/domain/$d\\0n$d\\0" \
		>/dev/null
	ring_guest $d -t 5000
	check_eq "INTRODUCE $d" "INTRODUCE OK\\0" "$(ring_introduce $d)"
done

g=$(st_json)
check_eq "five rings" 5 "$(jget "$g" connections.rings)"
check_eq "five rings (text)" "1 sockets, 5 rings" "$(st_line "$(st_text)" connections)"

# setq D NAME VALUE: a quota of one domain (0: unlimited).
setq() {
	check_raw "domain $1: quota $2 = $3" "SET_QUOTA OK\\0" \
		"SET_QUOTA:$1\\0$2\\0$3\\0"
}

# refused D QUOTA COUNT: status --domain counts COUNT refusals of QUOTA,
# and the daemon logged one line for it.
refused() {
	_j=$(st_json --domain "$1")
	check_eq "domain $1: $2 refusals counted (json)" "$3" \
		"$(jget "$_j" "refused.$2.count")"
	case " $(st_line "$(st_text --domain "$1")" refused) " in
	*" $2 $3 (last "*) ok "domain $1: $2 refusals counted (text)" ;;
	*) fail "domain $1: $2 refusals (text): $(st_text --domain "$1")" ;;
	esac
	_n=$(grep -c "domain $1: quota $2 refused: " "$LXS_TMP/daemon.log")
	check_eq "domain $1: $2 refusal logged once" 1 "$_n"
}

expect() {
	case $RING_OUT in
	"$2"*) ok "$1" ;;
	*) fail "$1: got $RING_OUT" ;;
	esac
}

# --- each quota the store enforces, on guest 31 -------------------------------
ring_check "guest 31 writes" 31 OK write a 1
nodes=$(jget "$(st_json --domain 31)" nodes)
setq 31 nodes "$nodes"
ring_cmd 31 write b 1
expect "nodes quota refuses a new node" "ERROR ENOSPC"
ring_cmd 31 write c 1
expect "and the next one" "ERROR ENOSPC"
refused 31 nodes 2
grep -q "domain 31: quota nodes refused: $((nodes + 1)) > $nodes" \
	"$LXS_TMP/daemon.log" && ok "the log line names the value and the limit" ||
	fail "log: $(grep 'domain 31' "$LXS_TMP/daemon.log")"
setq 31 nodes 0

setq 31 node-size 100
ring_cmd 31 write a "$(head -c 200 /dev/zero | tr '\0' s)"
expect "node-size quota" "ERROR ENOSPC"
refused 31 node-size 1
setq 31 node-size 0

setq 31 node-permissions 1
ring_cmd 31 setperms a n31,r0
expect "node-permissions quota" "ERROR ENOSPC"
refused 31 node-permissions 1
setq 31 node-permissions 0

setq 31 path-max 10
ring_cmd 31 write abcdefghijk 1
expect "path-max quota" "ERROR EINVAL"
refused 31 path-max 1
setq 31 path-max 0

setq 31 watches 1
ring_check "a watch" 31 OK watch a t1
ring_cmd 31 event
ring_cmd 31 watch a t2
expect "watches quota" "ERROR ENOSPC"
refused 31 watches 1
setq 31 watches 0

# x1 and its parent, then x2: three nodes in the transaction.
setq 31 transaction-nodes 3
ring_check "a transaction" 31 OK txn
ring_check "its first node" 31 OK write x1 1
ring_check "its second node" 31 OK write x2 1
ring_cmd 31 write x3 1
expect "transaction-nodes quota" "ERROR ENOSPC"
ring_cmd 31 abort
refused 31 transaction-nodes 1
setq 31 transaction-nodes 0

setq 31 transactions 1
ring_cmd 31 raw TRANSACTION_START '\0'
expect "one transaction" "TRANSACTION_START "
ring_cmd 31 raw TRANSACTION_START '\0'
expect "transactions quota" "ERROR ENOSPC"
refused 31 transactions 1
j=$(st_json --domain 31)
check_eq "domain 31: one transaction open" 1 "$(jget "$j" transactions)"
check_eq "domain 31: one watch" 1 "$(jget "$j" watches)"
setq 31 transactions 0

setq 31 memory $(($(jget "$(st_json --domain 31)" memory) + 1000))
ring_cmd 31 write m "$(head -c 2500 /dev/zero | tr '\0' m)"
expect "memory quota" "ERROR ENOMEM"
refused 31 memory 1
setq 31 memory 0

j=$(st_json --domain 31)
check_eq "domain 31: refusals total" 9 "$(jget "$j" refused_total)"
check_eq "domain 31: one ring" 1 "$(jget "$j" rings)"
check_eq "domain 31: not throttled" null "$(jget "$j" throttled)"
check_eq "domain 31: quota shown" 20 "$(jget "$j" quota.outstanding)"

# --- largest nodes, nodes and memory -------------------------------------------
ring_check "a 1500-byte node" 31 OK write big "$(head -c 1500 /dev/zero | tr '\0' b)"
ring_check "a 700-byte node" 31 OK write mid "$(head -c 700 /dev/zero | tr '\0' b)"
j=$(st_json --domain 31)
check_eq "largest node" /local/domain/31/big "$(jget "$j" largest.0.path)"
check_eq "its size" 1500 "$(jget "$j" largest.0.bytes)"
check_eq "the next one" /local/domain/31/mid "$(jget "$j" largest.1.path)"
t=$(st_text --domain 31)
check_eq "largest (text)" "1500 /local/domain/31/big" "$(st_line "$t" largest)"
n_ls=$(/usr/bin/xenstore-ls -f /local/domain/31 2>/dev/null | wc -l)
check_eq "owned nodes: the subtree" "$((n_ls + 1))" "$(jget "$j" owned_nodes)"
check_eq "nodes: the store's count" "$(jget "$j" owned_nodes)" "$(jget "$j" nodes)"
mem=$(jget "$j" memory)
[ "$mem" -gt 2200 ] && ok "memory charged: $mem bytes" || fail "memory: $mem"

# --- requests and EAGAIN --------------------------------------------------------
before=$(jget "$(st_json --domain 35)" requests_total)
check_eq "guest 35: nothing yet" 0 "$before"
for i in 1 2 3 4 5 6 7; do ring_cmd 35 read /local/domain/35; done
j=$(st_json --domain 35)
check_eq "guest 35: 7 requests" 7 "$(jget "$j" requests_total)"
check_eq "guest 35: 7 in the window" 7 "$(jget "$j" requests_last_window)"
ring_check "guest 35 writes k" 35 OK write k 1
ring_check "a transaction" 35 OK txn
ring_check "reads k in it" 35 1 read k
raw 'WRITE:/local/domain/35/k\0two' >/dev/null
ring_check "writes k in it" 35 OK write k 3
ring_cmd 35 commit
expect "commit conflicts" "ERROR EAGAIN"
j=$(st_json --domain 35)
check_eq "guest 35: one EAGAIN" 1 "$(jget "$j" eagain_total)"
check_eq "guest 35: one EAGAIN in the window" 1 "$(jget "$j" eagain_last_window)"
case $(jget "$j" eagain_per_s) in
0.00|MISSING|null) fail "eagain_per_s: $(jget "$j" eagain_per_s)" ;;
*) ok "eagain_per_s $(jget "$j" eagain_per_s)" ;;
esac
case $(st_line "$(st_text --domain 35)" eagain) in
*" (1), 1 since start") ok "eagain (text)" ;;
*) fail "eagain (text): $(st_text --domain 35)" ;;
esac

# --- throttled: outstanding ----------------------------------------------------------
raw 'WRITE:/local/domain/32/v\0'"$(head -c 200 /dev/zero | tr '\0' r)" >/dev/null
ring_cmd 32 stuff 100 v
if st_wait_json throttled outstanding --domain 32; then
	ok "guest 32: throttled by its outstanding quota"
else
	fail "guest 32 not throttled: $(st_text --domain 32)"
fi
check_eq "throttled (text)" outstanding "$(st_line "$(st_text --domain 32)" throttled)"
j=$(st_json --domain 32)
# Replies the guest's ring takes let the daemon read on, so it may be
# throttled again: at least one event.
[ "$(jget "$j" throttle_events.outstanding)" -ge 1 ] &&
	ok "outstanding throttle counted" || fail "throttle events: $(st_text --domain 32)"
grep -q "domain 32: input throttled by outstanding: 20 requests unanswered, quota 20" \
	"$LXS_TMP/daemon.log" && ok "throttle logged" ||
	fail "no throttle line: $(grep 'domain 32' "$LXS_TMP/daemon.log")"
g=$(st_json)
[ "$(jget "$g" throttled_domains)" -ge 1 ] && ok "status counts a throttled domain" ||
	fail "throttled_domains: $(jget "$g" throttled_domains)"

# --- throttled: memory -----------------------------------------------------------
ring_check "a 2000-byte node" 33 OK write big "$(head -c 2000 /dev/zero | tr '\0' m)"
setq 33 outstanding 0
setq 33 memory 6000
ring_cmd 33 pipeline 40 big
expect "memory quota holds reading back" "pipeline sent 40 unread"
j=$(st_json --domain 33)
[ "$(jget "$j" throttle_events.memory)" -ge 1 ] && ok "memory throttle counted" ||
	fail "memory throttle: $(st_text --domain 33)"
grep -q "domain 33: input throttled by memory: " "$LXS_TMP/daemon.log" &&
	ok "memory throttle logged" || fail "no memory throttle line"

# --- top ------------------------------------------------------------------------------
t=$(st_text --top)
case $t in
*" domains, the "*" busiest:"*) ok "top: header" ;;
*) fail "top: $t" ;;
esac
line=$(printf '%s\n' "$t" | awk '$1 == 32')
case $line in
*" outstanding") ok "top: guest 32 shown throttled" ;;
*) fail "top: guest 32: $line" ;;
esac
j=$(st_json --top 20)
ids=$(printf '%s' "$j" | "$ST_PY" -c 'import json,sys; print(" ".join(str(d["domid"]) for d in json.load(sys.stdin)["top"]))')
for d in 0 31 32 33 34 35; do
	case " $ids " in
	*" $d "*) ok "top json lists $d" ;;
	*) fail "top json lacks $d: $ids" ;;
	esac
done
check_eq "top 2: two entries" 2 "$(printf '%s' "$(st_json --top 2)" | "$ST_PY" -c 'import json,sys; print(len(json.load(sys.stdin)["top"]))')"
check_eq "top 2: shown" 2 "$(jget "$(st_json --top 2)" shown)"
first=$(jget "$j" top.0.requests_per_s)
second=$(jget "$j" top.1.requests_per_s)
"$ST_PY" -c "import sys; sys.exit(0 if $first >= $second else 1)" &&
	ok "top is sorted by requests" || fail "top order: $first then $second"

# --- a released domain takes its counters along --------------------------------------
check_raw "RELEASE 34" "RELEASE OK\\0" 'RELEASE:34\0'
check_eq "status of a released domain" "xenstore-control: status: No such file or directory" \
	"$(st_text --domain 34)"
check_eq "four rings left" 4 "$(jget "$(st_json)" connections.rings)"
lxs_done
