#!/usr/bin/env bash
# Domain requests with guests on rings: INTRODUCE (also through pyxs) and
# its errors, @introduceDomain, re-INTRODUCE, SET_FEATURE before
# INTRODUCE, SET_TARGET, RESUME, per-domain quotas, RELEASE (nodes
# removed, @releaseDomain and @releaseDomain/<domid> to socket watchers),
# --keep-orphans, and dom0's kernel ring from --xsd-kva/--xsd-port.
. "$(dirname "$0")/ring-lib.sh"
lxs_need_pyxs

# dom0's kernel: a guest with domid 0 whose page the daemon finds at start.
ring_prepare
ring_guest 0 -p 9
echo 9 >"$RING_DIR/xsd_port"
ring_start --xsd-kva="$LXS_FAKEXEN_DIR/ring-0" --xsd-port="$RING_DIR/xsd_port"
ring_check "dom0 ring: privileged (reads /)" 0 "tool" ls /
ring_check "dom0 ring: writes anywhere" 0 OK write /tool/k0 v
ring_check "dom0 ring: features" 0 "features 7" features
check_raw "RELEASE 0" "ERROR EINVAL\\0" 'RELEASE:0\0'

home() {
	raw "WRITE:/local/domain/$1\\0" "SET_PERMS:/local/domain/$1\\0n$1\\0" \
		>/dev/null
}
for d in 8 9 10 11; do
	home $d
done

# Socket watchers of the special nodes, collected in the background.
raw '-w' 30 'WATCH:@introduceDomain\0i\0' 'WATCH:@releaseDomain\0r\0' \
	'WATCH:@releaseDomain/8\0r8\0' events:7 >"$LXS_TMP/specials" 2>&1 &
spid=$!
lxs_wait_lines "$LXS_TMP/specials" 6 || fail "special watches not set"

ring_guest 8
out=$("$LXS_PYTHON" -c '
import os, pyxs
with pyxs.Client(unix_socket_path=os.environ["XENSTORED_PATH"]) as c:
    c.introduce_domain(8, 4104, 1)
    print(c.is_domain_introduced(8))' 2>&1)
check_eq "pyxs introduce_domain" True "$out"
ring_check "guest 8 is served" 8 OK write data/a 1

# Errors.
check_raw "INTRODUCE 0" "ERROR EINVAL\\0" 'INTRODUCE:0\01\01\0'
check_raw "INTRODUCE DOMID_SELF" "ERROR EINVAL\\0" 'INTRODUCE:32752\01\01\0'
check_raw "INTRODUCE with no ring page" "ERROR ENOENT\\0" \
	'INTRODUCE:20\01\01\0'
ring_guest 9
check_raw "INTRODUCE with an unbound port" "ERROR EINVAL\\0" \
	'INTRODUCE:9\01\05\0'
check_raw "IS_DOMAIN_INTRODUCED after a failed INTRODUCE" \
	"IS_DOMAIN_INTRODUCED F\\0" 'IS_DOMAIN_INTRODUCED:9\0'
check_eq "INTRODUCE 9" "INTRODUCE OK\\0" "$(ring_introduce 9)"
check_raw "RELEASE of an unknown domain" "ERROR ENOENT\\0" 'RELEASE:30\0'
check_raw "RESUME" "RESUME OK\\0|ERROR ENOENT\\0|ERROR EINVAL\\0" \
	'RESUME:8\0' 'RESUME:30\0' 'RESUME:0\0'

# re-INTRODUCE: the connection is reset (watches gone), nothing fired.
ring_check "watch" 9 OK watch data w
ring_check "initial event" 9 "EVENT data w" event
check_eq "re-INTRODUCE" "INTRODUCE OK\\0" "$(ring_introduce 9)"
ring_check "the old watch is gone: watching again is no EEXIST" 9 OK \
	watch data w
ring_check "and the guest goes on" 9 "EVENT data w" event

# Features chosen before INTRODUCE: ERROR only.
ring_guest 10
check_raw "SET_FEATURE before INTRODUCE" \
	"SET_FEATURE OK\\0|GET_FEATURE 2\\0" \
	'SET_FEATURE:10\02\0' 'GET_FEATURE:10\0'
check_eq "INTRODUCE 10" "INTRODUCE OK\\0" "$(ring_introduce 10)"
check_raw "SET_FEATURE after INTRODUCE" "ERROR EBUSY\\0" 'SET_FEATURE:10\06\0'
ring_check "the page offers what was set" 10 "features 2" features
ring_check "GET_FEATURE over its ring" 10 'GET_FEATURE 2\0' raw GET_FEATURE
ring_check "no WATCHDEPTH: a depth is EINVAL" 10 "ERROR EINVAL" \
	watch data w 1
check_raw "GET_FEATURE of an introduced domain" "GET_FEATURE 7\\0" \
	'GET_FEATURE:8\0'

# SET_TARGET: 11 may act on 8's nodes.
ring_guest 11
check_eq "INTRODUCE 11" "INTRODUCE OK\\0" "$(ring_introduce 11)"
ring_check "without a target, 8's home is out of reach" 11 "ERROR EACCES" \
	read /local/domain/8/data/a
check_raw "SET_TARGET errors" "ERROR EINVAL\\0|ERROR ENOENT\\0|ERROR ENOENT\\0" \
	'SET_TARGET:0\08\0' 'SET_TARGET:30\08\0' 'SET_TARGET:11\030\0'
check_raw "SET_TARGET 11 8" "SET_TARGET OK\\0" 'SET_TARGET:11\08\0'
ring_check "with target 8" 11 1 read /local/domain/8/data/a
ring_check "the target survives a reconnect" 11 OK reconnect
ring_check "still with target 8" 11 1 read /local/domain/8/data/a

# Per-domain quotas of an introduced domain: 8 owns its home, data and
# data/a.
check_raw "quota of an introduced domain" \
	"SET_QUOTA OK\\0|GET_QUOTA 4\\0" \
	'SET_QUOTA:8\0nodes\04\0' 'GET_QUOTA:8\0nodes\0'
ring_check "within the quota" 8 OK write data/b 1
ring_check "beyond it" 8 "ERROR ENOSPC" write data/c 1

# RELEASE: nodes gone, specials fired, the ring no longer served.
check_raw "RELEASE 8" "RELEASE OK\\0|IS_DOMAIN_INTRODUCED F\\0" 'RELEASE:8\0' \
	'IS_DOMAIN_INTRODUCED:8\0'
check_raw "its nodes are removed" "ERROR ENOENT\\0" 'READ:/local/domain/8\0'
check_raw "RELEASE again" "ERROR ENOENT\\0" 'RELEASE:8\0'
[ -e "$LXS_FAKEXEN_DIR/bound-1" ] && [ -z "$(grep -l '^8 ' "$LXS_FAKEXEN_DIR"/bound-* 2>/dev/null)" ] &&
	ok "its event channel is unbound" ||
	fail "event channel of 8 still bound: $(cat "$LXS_FAKEXEN_DIR"/bound-* | lxs_join)"
wait $spid
check_eq "socket watchers: @introduceDomain x5, @releaseDomain, /8" \
	"$(printf '%s\n' \
		'WATCH_EVENT @introduceDomain\0i\0' \
		'WATCH_EVENT @introduceDomain\0i\0' \
		'WATCH_EVENT @introduceDomain\0i\0' \
		'WATCH_EVENT @introduceDomain\0i\0' \
		'WATCH_EVENT @releaseDomain\0r\0' \
		'WATCH_EVENT @releaseDomain/8\0r8\0' | lxs_join)" \
	"$(sed -n '7,$p' "$LXS_TMP/specials" | lxs_join)"
ring_cmd 8 -w 5 read data/a
check_eq "a released guest is not served" "NO-ANSWER from guest 8" \
	"$(echo "$RING_OUT" | sed 's/TIMEOUT.*/NO-ANSWER from guest 8/')"

# --keep-orphans: a released domain's nodes go to dom0.
ring_restart -K
check_eq "INTRODUCE 9 to the restarted daemon" "INTRODUCE OK\\0" \
	"$(ring_introduce 9)"
ring_check "guest 9 writes" 9 OK write data/kept yes
check_raw "RELEASE 9 with -K" "RELEASE OK\\0|READ yes|GET_PERMS n0\\0" \
	'RELEASE:9\0' 'READ:/local/domain/9/data/kept\0' \
	'GET_PERMS:/local/domain/9/data/kept\0'
lxs_done
