#!/usr/bin/env bash
# Domains survive the daemon (issue 4 part 5): several guests introduced,
# with watches (relative, absolute, with a depth, on @releaseDomain), a
# SET_TARGET, a SET_FEATURE-only domain and an open transaction; part of
# that state in a snapshot, the rest only in the log. After kill -9 and a
# restart without any INTRODUCE, every guest is served from where it left
# its ring, sees every acknowledged write, gets each of its watches fired
# once, and its lost transaction ends with EAGAIN (it retries). RELEASE
# after the restart works and fires @releaseDomain; a clean restart and
# --keep-orphans behave the same; a domain whose ring is gone is
# forgotten, loudly.
. "$(dirname "$0")/ring-lib.sh"
ring_start

for d in 40 41 42 43 44; do
	raw "WRITE:/local/domain/$d\\0" "SET_PERMS:/local/domain/$d\\0n$d\\0" \
		>/dev/null
done
# 43 is being built: Xen has it, without a ring yet.
ring_xen -n 43 running
check_raw "SET_FEATURE 43 before any INTRODUCE" "SET_FEATURE OK\\0" \
	'SET_FEATURE:43\06\0'
ring_guest 40
ring_guest 41 -t 3000
ring_guest 42
ring_guest 44
for d in 40 41 42 44; do
	check_eq "INTRODUCE $d" "INTRODUCE OK\\0" "$(ring_introduce "$d")"
done
check_raw "SET_TARGET 42 40" "SET_TARGET OK\\0" 'SET_TARGET:42\040\0'
ring_check "40 writes" 40 OK write data/a 1
ring_check "40 watches its data" 40 OK watch data w40
ring_check "its initial event" 40 "EVENT data w40" event
ring_check "41 watches @releaseDomain" 41 OK watch @releaseDomain r41
ring_check "its initial event" 41 "EVENT @releaseDomain r41" event
ring_check "41 watches data" 41 OK watch data gone
ring_check "its initial event" 41 "EVENT data gone" event
ring_check "and unwatches it, spelled absolute" 41 OK \
	unwatch /local/domain/41/data gone
ring_check "41 starts a transaction" 41 OK txn
ring_check "and writes in it" 41 OK write data/t 1
# lxenstore-inspect log shows the domain records.
INS=$top_builddir/lxenstore-inspect
"$INS" --state-dir "$LXS_TMP/state" log >"$LXS_TMP/inslog" 2>&1 && cp "$LXS_TMP/inslog" "$LXS_TMP/inslog.1" ||
	fail "inspect log: $(tail -n 3 "$LXS_TMP/inslog")"
grep -q -E '^[0-9]+ [^ ]+ 42 DOMAIN introduced gfn=4138,port=1,features=7,target=-$' \
	"$LXS_TMP/inslog" && ok "inspect log: INTRODUCE 42" ||
	fail "inspect log: $(grep ' 42 ' "$LXS_TMP/inslog" | head -n 3)"
grep -q -E '^[0-9]+ [^ ]+ 42 DOMAIN introduced .*target=40$' "$LXS_TMP/inslog" &&
	ok "inspect log: SET_TARGET 42 40" || fail "inspect log: no SET_TARGET"
grep -q -E '^[0-9]+ [^ ]+ 43 DOMAIN configured gfn=0,port=0,features=6,target=-$' \
	"$LXS_TMP/inslog" && ok "inspect log: SET_FEATURE 43" ||
	fail "inspect log: no SET_FEATURE 43"
grep -q -E '^[0-9]+ [^ ]+ 41 UNWATCH data gone$' "$LXS_TMP/inslog" &&
	ok "inspect log: UNWATCH" || fail "inspect log: no UNWATCH of 41"
check_raw "a snapshot now: the rest is only in the log" "CONTROL OK\\0" \
	'CONTROL:snapshot\0'
i=0
until grep -q 'snapshot at seq' "$LXS_TMP/daemon.log"; do
	i=$((i + 1))
	if [ $i -gt 300 ]; then
		fail "no snapshot written"
		break
	fi
	sleep 0.1
done
ring_check "42 writes after the snapshot" 42 OK write data/b 2
ring_check "42 watches with a depth, absolute" 42 OK \
	watch /local/domain/42/data w42 1
ring_check "its initial event" 42 "EVENT /local/domain/42/data w42" event

ring_restart -9
ok "daemon killed with SIGKILL and restarted"
lxs_daemon_log 'domain 42: restored' || fail "no restore logged"
check_raw "the guests are introduced, without INTRODUCE" \
	"IS_DOMAIN_INTRODUCED T\\0|IS_DOMAIN_INTRODUCED T\\0|IS_DOMAIN_INTRODUCED T\\0|IS_DOMAIN_INTRODUCED F\\0" \
	'IS_DOMAIN_INTRODUCED:40\0' 'IS_DOMAIN_INTRODUCED:41\0' \
	'IS_DOMAIN_INTRODUCED:42\0' 'IS_DOMAIN_INTRODUCED:43\0'
check_raw "43's feature choice survived" "GET_FEATURE 6\\0" 'GET_FEATURE:43\0'
check_eq "no error field set" "0 0 0" \
	"$(for d in 40 41 42; do ring_page_field "$d" 2072; done | lxs_join)"
ring_check "40's watch fires once" 40 "EVENT data w40" event
ring_check "41's @releaseDomain watch fires once" 41 \
	"EVENT @releaseDomain r41" event
ring_check "42's watch fires once" 42 "EVENT /local/domain/42/data w42" event
ring_check "40 reads what it wrote" 40 1 read data/a
ring_check "42 reads what it wrote" 42 2 read data/b
ring_check "SET_TARGET survived: 42 reads 40's node" 42 1 \
	read /local/domain/40/data/a
ring_check "the watch depth survived: 42 sees a child" 42 OK write data/c 3
ring_check "its event" 42 "EVENT /local/domain/42/data/c w42" event
ring_check "41's transaction was lost: EAGAIN at its end" 41 \
	"ERROR EAGAIN" commit
ring_check "41 retries: a new transaction" 41 OK txn
ring_check "writes in it" 41 OK write data/t 2
ring_check "and commits" 41 OK commit
ring_check "41 unwatched data before the crash: not restored" 41 OK \
	write data/t 3
ring_check "no event for it" 41 "TIMEOUT waiting for an event" event
ring_cmd 41 read data/t
check_eq "41 is served after its timeout" 3 "$RING_OUT"
ring_check "the depth-limited watch ignores a grandchild" 42 OK \
	write data/c/d 4
ring_check "40 writes after the restart" 40 OK write data/a 5
ring_check "40 gets its event" 40 "EVENT data/a w40" event

# lxenstore-inspect: the domain table, from the snapshot and the log.
"$INS" --state-dir "$LXS_TMP/state" log >"$LXS_TMP/inslog" 2>&1 ||
	fail "inspect log: $(tail -n 3 "$LXS_TMP/inslog")"
grep -q -E '^[0-9]+ [^ ]+ 42 WATCH /local/domain/42/data w42,depth=1$' \
	"$LXS_TMP/inslog" && ok "inspect log: a watch with a depth" ||
	fail "inspect log: no watch of 42"
"$INS" --state-dir "$LXS_TMP/state" stat >"$LXS_TMP/insstat" 2>&1 ||
	fail "inspect stat: $(tail -n 3 "$LXS_TMP/insstat")"
check_eq "inspect stat: the domain table" \
	"domains: 5|40 introduced gfn=4136 port=1 features=7 target=- watches=1|watch data w40|41 introduced gfn=4137 port=1 features=7 target=- watches=1|watch @releaseDomain r41|42 introduced gfn=4138 port=1 features=7 target=40 watches=1|watch /local/domain/42/data w42 depth=1|43 configured gfn=0 port=0 features=6 target=- watches=0|44 introduced gfn=4140 port=1 features=7 target=- watches=0" \
	"$(sed -n '/^domains:/,/^watches:/p' "$LXS_TMP/insstat" | sed '$d' |
		sed 's/^ *//; s/  */ /g' | tr '\n' '|' | sed 's/|$//')"

# RELEASE after the restart: nodes removed, @releaseDomain fires.
check_raw "RELEASE 40" "RELEASE OK\\0|ERROR ENOENT\\0" 'RELEASE:40\0' \
	'READ:/local/domain/40\0'
ring_check "41 sees @releaseDomain" 41 "EVENT @releaseDomain r41" event

# A clean restart, with --keep-orphans, and a guest gone meanwhile.
ring_guest_stop 44 || fail "guest 44 did not quit cleanly"
rm -f "$LXS_FAKEXEN_DIR/ring-44"
# Xen still has 44 (a domain that died is released: ring-death.sh).
ring_xen -n 44 running
ring_restart -K
lxs_daemon_log 'domain 44: its ring cannot be restored' ||
	fail "a domain without a ring was not reported"
check_raw "44 is forgotten, 40 stays released, 41 and 42 are back" \
	"IS_DOMAIN_INTRODUCED F\\0|IS_DOMAIN_INTRODUCED F\\0|IS_DOMAIN_INTRODUCED T\\0|IS_DOMAIN_INTRODUCED T\\0" \
	'IS_DOMAIN_INTRODUCED:44\0' 'IS_DOMAIN_INTRODUCED:40\0' \
	'IS_DOMAIN_INTRODUCED:41\0' 'IS_DOMAIN_INTRODUCED:42\0'
check_raw "44's nodes are kept" "GET_PERMS n44\\0" \
	'GET_PERMS:/local/domain/44\0'
ring_check "41's watch fires after a clean restart too" 41 \
	"EVENT @releaseDomain r41" event
ring_check "42 writes" 42 OK write data/k v
check_raw "RELEASE 42 with --keep-orphans keeps its nodes" \
	"RELEASE OK\\0|READ v|GET_PERMS n0\\0" 'RELEASE:42\0' \
	'READ:/local/domain/42/data/k\0' 'GET_PERMS:/local/domain/42/data/k\0'
ring_check "41 sees it" 41 "EVENT @releaseDomain r41" event
ring_check "41 still writes" 41 OK write data/end 1
lxs_done
