#!/bin/sh
# fuzz/make-seeds.sh: (re)generates the seed corpora in fuzz/corpus/.
#
#   fuzz/make-seeds.sh [BUILD_DIR]     (default: the top of the checkout)
#
# wal and snapshot seeds are real files: a private ./lxenstored (small
# log segments) is driven through a host-like set-up with tests/rawclient,
# a snapshot is taken and more changes follow; its state directory's
# segments and snapshot are then cut into the input formats of
# fuzz/wal-fuzzer.c and fuzz/snapshot-fuzzer.c by fuzz/make-seeds.py.
# wire and request seeds are rawclient-style message sequences, ring
# seeds guest and server action sequences, written by the same script.
# File names are content hashes; log segments carry time stamps and
# random salts, so a new run adds new files: remove fuzz/corpus/<name>
# first to start over. Needs python3.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
bld=$(cd "${1:-$src}" && pwd)
tmp=$(mktemp -d /tmp/lxs-seeds.XXXXXX)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
mkdir "$tmp/state"
echo seeds >"$tmp/boot-id"
"$bld/lxenstored" --foreground --rundir "$tmp" --state-dir "$tmp/state" \
	--boot-id-file "$tmp/boot-id" --log-segment-size 4096 \
	>"$tmp/daemon.log" 2>&1 &
pid=$!
i=0
while [ ! -S "$tmp/socket" ]; do
	i=$((i + 1))
	[ $i -lt 100 ] || { cat "$tmp/daemon.log"; exit 1; }
	sleep 0.1
done
raw() { "$bld/tests/rawclient" "$tmp/socket" "$@" >/dev/null; }

raw 'WRITE:/local/domain/0/name\0Domain-0' \
	'WRITE:/local/domain/1/name\0guest1' \
	'WRITE:/local/domain/1/device/vif/0/state\x004' \
	'WRITE:/local/domain/1/device/vif/0/mac\000:16:3e:5a:12:01' \
	'WRITE:/local/domain/0/backend/vif/1/0/state\x004' \
	'WRITE:/local/domain/0/backend/vif/1/0/frontend\0/local/domain/1/device/vif/0' \
	'SET_PERMS:/local/domain/1\0n1\0r0\0' \
	'SET_PERMS:/local/domain/1/device\0n1\0r0\0b2\0' \
	'SET_PERMS:@releaseDomain\0n0\0r32757\0r1\0' \
	'WRITE:/vm/guest1/uuid\06f1c2a3e-9b4d-4e8a-a1f0-3c5d7e9b2a41' \
	'WRITE:/tool/bin\0\x01\x02\x00\xff' \
	'MKDIR:/local/domain/2\0' \
	'SET_QUOTA:nodes\0500\0' \
	'SET_QUOTA:3\0watches\020\0' \
	'SET_QUOTA:soft-memory\01000000\0' \
	'TRANSACTION_START:\0' \
	'WRITE,tx=last:/t/a\0x' \
	'MKDIR,tx=last:/t/b/c\0' \
	'RM,tx=last:/vm/guest1/uuid\0' \
	'TRANSACTION_END,tx=last:T\0' \
	'CONTROL:snapshot\0'
sleep 1
raw 'WRITE:/after/snap\x001' 'RM:/t\0' 'WRITE:/after/snap\x002' \
	'SET_PERMS:/after\0n0\0w3\0'
n=0
while [ $n -lt 40 ]; do
	n=$((n + 1))
	raw "WRITE:/bulk/k$n\0value-$n-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
done
raw 'RM:/bulk/k7\0' 'SET_PERMS:/bulk\0n0\0r1\0r2\0r3\0r4\0'
kill "$pid"
wait "$pid" 2>/dev/null || true
pid=

python3 "$src/fuzz/make-seeds.py" "$tmp/state" "$src/fuzz/corpus"
