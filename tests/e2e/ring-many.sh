#!/usr/bin/env bash
# 100 guests at once doing a device handshake with a backend on the
# socket, as a toolstack, netback and netfront would: the toolstack (pyxs)
# creates each guest's frontend and backend directories and introduces the
# guests; each guest (its own fakeguest process) writes its frontend state
# 1, watches the backend state and waits for 4, then writes state 4 and
# "ready" in a transaction; the backend (one pyxs client) watches
# /local/domain and answers every frontend in state 1.
. "$(dirname "$0")/ring-lib.sh"
lxs_need_pyxs
ring_start
N=${LXS_RING_GUESTS:-100}
FIRST=101
LAST=$((FIRST + N - 1))

"$LXS_PYTHON" - "$FIRST" "$LAST" <<'PY' || fail "toolstack setup"
import os, sys, pyxs
first, last = int(sys.argv[1]), int(sys.argv[2])
with pyxs.Client(unix_socket_path=os.environ["XENSTORED_PATH"]) as c:
    for d in range(first, last + 1):
        home = b"/local/domain/%d" % d
        fe = home + b"/device/vif/0"
        be = b"/local/domain/0/backend/vif/%d/0" % d
        c[home + b"/name"] = b"guest%d" % d
        c.set_perms(home, [b"n0", b"r%d" % d])
        c[fe + b"/backend"] = be
        c.set_perms(home + b"/device", [b"n%d" % d, b"r0"])
        c.set_perms(fe, [b"n%d" % d, b"r0"])
        c.set_perms(fe + b"/backend", [b"n%d" % d, b"r0"])
        c[be + b"/frontend"] = fe
        c[be + b"/state"] = b"1"
        c.set_perms(b"/local/domain/0/backend/vif/%d" % d, [b"n0", b"r%d" % d])
        c.set_perms(be, [b"n0", b"r%d" % d])
        c.set_perms(be + b"/frontend", [b"n0", b"r%d" % d])
        c.set_perms(be + b"/state", [b"n0", b"r%d" % d])
PY
ok "toolstack: $N guests' directories"

# The backend: answers state 1 with 4, counts the frontends that reach 4.
"$LXS_PYTHON" - "$FIRST" "$LAST" >"$RING_DIR/backend.out" 2>&1 <<'PY' &
import os, sys, time, pyxs
first, last = int(sys.argv[1]), int(sys.argv[2])
want = set(range(first, last + 1))
done = set()
answered = set()
with pyxs.Client(unix_socket_path=os.environ["XENSTORED_PATH"]) as c, \
     pyxs.Client(unix_socket_path=os.environ["XENSTORED_PATH"]) as w:
    m = w.monitor()
    m.watch(b"/local/domain", b"be")
    print("watching", flush=True)
    deadline = time.time() + 120
    for wpath, token in m.wait():
        parts = wpath.split(b"/")
        # /local/domain/<d>/device/vif/0/state
        if len(parts) != 8 or parts[4:] != [b"device", b"vif", b"0", b"state"]:
            continue
        d = int(parts[3])
        try:
            state = c[wpath]
            ready = c[wpath[:-len(b"/state")] + b"/ready"] \
                if state == b"4" else None
        except pyxs.PyXSError:
            continue
        if state == b"1" and d not in answered:
            c[b"/local/domain/0/backend/vif/%d/0/state" % d] = b"4"
            answered.add(d)
        elif ready == b"yes":
            done.add(d)
        if done >= want or time.time() > deadline:
            break
    print("connected %d" % len(done & want), flush=True)
PY
bepid=$!
lxs_wait_lines "$RING_DIR/backend.out" 1 20 || fail "backend did not start"

t0=$(date +%s%N)
for d in $(seq $FIRST $LAST); do
	be=/local/domain/0/backend/vif/$d/0/state
	"$LXS_FAKEGUEST" -t 60000 -r "$RING_DIR/ready-$d" "$LXS_FAKEXEN_DIR" "$d" \
		write device/vif/0/state 1 \
		watch "$be" be \
		wait-value "$be" 4 \
		txn write device/vif/0/state 4 write device/vif/0/ready yes commit \
		>"$RING_DIR/out-$d" 2>&1 &
	eval "RING_PID_$d=$!"
	RING_GUESTS="$RING_GUESTS $d"
done
for d in $(seq $FIRST $LAST); do
	while [ ! -e "$RING_DIR/ready-$d" ]; do sleep 0.02; done
done
"$LXS_PYTHON" - "$FIRST" "$LAST" <<'PY' || fail "introducing the guests"
import os, sys, pyxs
first, last = int(sys.argv[1]), int(sys.argv[2])
with pyxs.Client(unix_socket_path=os.environ["XENSTORED_PATH"]) as c:
    for d in range(first, last + 1):
        c.introduce_domain(d, 4096 + d, 1)
PY
bad=0
for d in $(seq $FIRST $LAST); do
	eval "p=\$RING_PID_$d"
	wait "$p"
	st=$?
	eval "RING_PID_$d="
	out=$(lxs_join <"$RING_DIR/out-$d")
	if [ $st != 0 ] || [ "$out" != "OK OK OK OK OK OK OK" ]; then
		bad=$((bad + 1))
		[ $bad -le 3 ] && lxs_log "# guest $d: status $st: $out"
	fi
done
t1=$(date +%s%N)
check_eq "every guest completed its handshake" 0 "$bad"
wait $bepid
check_eq "the backend saw every frontend connected" "connected $N" \
	"$(sed -n 2p "$RING_DIR/backend.out")"
lxs_log "# $N guests: introduce + handshake in $(( (t1 - t0) / 1000000 )) ms"
check_raw "IS_DOMAIN_INTRODUCED $LAST" "IS_DOMAIN_INTRODUCED T\\0" \
	"IS_DOMAIN_INTRODUCED:$LAST\\0"
check_out "a guest's frontend as dom0 sees it" yes \
	/usr/bin/xenstore-read "/local/domain/$LAST/device/vif/0/ready"
lxs_done
