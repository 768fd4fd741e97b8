#!/usr/bin/env bash
# lxenstore-inspect on what it cannot read: unknown versions, a record type
# from a newer daemon, missing and wrong operands; and, on hundreds of
# damaged copies of real files (flipped bytes, truncations), every command
# must end with a one-line message and a plain exit status, never a crash.
. "$(dirname "$0")/inspect-lib.sh"
dur_init
lxs_need /usr/bin/xenstore-write
[ -x "$LXS_PYTHON" ] || lxs_skip "$LXS_PYTHON not found"

dur_start --snapshot-records 20 --log-segment-size 4096
ins_fixture
for i in $(seq 1 40); do /usr/bin/xenstore-write "/e/k$i" "$(printf '%080d' "$i")"; done
dur_stop
snap=$(dur_snapshots | tail -n 1)
seg=$(dur_segments | tail -n 1)

# forge FILE KIND: rewrites a header field and its checksum, as a newer
# writer would: "snapver" (snapshot version 2), "walver" (segment version
# 2), "waltype" (a valid record of type 9 appended to a segment).
forge() {
	"$LXS_PYTHON" - "$1" "$2" <<'EOF'
import struct, sys
T = []
for i in range(256):
    c = i
    for _ in range(8):
        c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    T.append(c)
def crc(b, c=0):
    c ^= 0xFFFFFFFF
    for x in b:
        c = T[(c ^ x) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF
path, kind = sys.argv[1:]
d = bytearray(open(path, "rb").read())
if kind == "snapver":
    d[8:12] = struct.pack("<I", 2)
    d[52:56] = struct.pack("<I", crc(d[0:52]))
elif kind == "walver":
    d[8:12] = struct.pack("<I", 2)
    d[28:32] = struct.pack("<I", crc(d[0:28]))
elif kind == "waltype":
    salt = d[12:16]
    # The next seq: walk the frames of the segment, up to the zeros
    # that may follow them.
    off, seq = 32, struct.unpack("<Q", d[16:24])[0]
    while off + 28 <= len(d):
        n = struct.unpack("<I", d[off:off + 4])[0]
        if struct.unpack("<Q", d[off + 8:off + 16])[0] != seq:
            break
        off += 28 + n
        seq += 1
    frame = struct.pack("<IHHQQ", 3, 9, 0, seq, 0) + b"new"
    frame += struct.pack("<I", crc(bytes(salt) + frame))
    d[off:off + len(frame)] = frame
open(path, "wb").write(d)
EOF
}

cp "$snap" "$LXS_TMP/v2.lxs"
forge "$LXS_TMP/v2.lxs" snapver
check_rc "a snapshot of an unknown version: exit 1" 1 ins "$LXS_TMP/v2.lxs" ls
grep -q "v2.lxs: unknown version 2" "$LXS_TMP/out" && ok "...saying so" ||
	fail "message: $(cat "$LXS_TMP/out")"
check_rc "...verify: exit 2" 2 ins "$LXS_TMP/v2.lxs" verify
grep -q "v2.lxs: offset 8: unknown version 2" "$LXS_TMP/out" &&
	ok "...at offset 8" || fail "message: $(cat "$LXS_TMP/out")"

save=$LXS_TMP/save
cp -a "$DUR_STATE" "$save"
forge "$seg" walver
check_rc "a segment of an unknown version: verify exit 2" 2 insd verify
grep -q "$(basename "$seg"): offset 0: bad segment header" "$LXS_TMP/out" &&
	ok "...at offset 0" || fail "message: $(cat "$LXS_TMP/out")"
rm -rf "$DUR_STATE" && cp -a "$save" "$DUR_STATE"

forge "$seg" waltype
check_rc "a record type from a newer daemon: ls exit 1" 1 insd ls
grep -q "newer lxenstored" "$LXS_TMP/out" && ok "...saying so" ||
	fail "message: $(cat "$LXS_TMP/out")"
check_rc "...verify: exit 2" 2 insd verify
grep -q "unknown type 9" "$LXS_TMP/out" && ok "...naming the type" ||
	fail "message: $(cat "$LXS_TMP/out")"
insd log | tail -n 1 | grep -q -E '^[0-9]+ .* - TYPE-9 - 3$' &&
	ok "log shows the record it cannot decode" || fail "log: $(insd log | tail -n 1)"
rm -rf "$DUR_STATE" && cp -a "$save" "$DUR_STATE"

check_rc "a missing FILE: exit 1" 1 ins "$LXS_TMP/nothing.lxs" ls
grep -q "^lxenstore-inspect: $LXS_TMP/nothing.lxs: No such file or directory$" \
	"$LXS_TMP/out" && ok "...in one line" || fail "message: $(cat "$LXS_TMP/out")"
check_rc "a directory as FILE: exit 1" 1 ins "$DUR_STATE" ls
check_rc "--state-dir and FILE together: exit 2" 2 insd "$snap" ls
check_rc "an unknown option: exit 2" 2 ins --frobnicate ls
check_rc "no command: exit 2" 2 insd
check_rc "an unknown command: exit 2" 2 insd frobnicate
check_rc "the default directory, missing: exit 1" 1 env -u XENSTORED_PATH \
	sh -c "test ! -e /var/lib/lxenstored || exit 1; \"$INS\" ls"

# Damaged copies of real files: never a crash, always a message.
crashes=0 silent=0 runs=0
damage() {
	"$LXS_PYTHON" - "$1" "$2" <<'EOF'
import os, random, sys
path, seed = sys.argv[1], int(sys.argv[2])
r = random.Random(seed)
d = bytearray(open(path, "rb").read())
if seed % 3 == 0:
    d = d[:r.randrange(len(d))]
else:
    for _ in range(1 + seed % 4):
        d[r.randrange(len(d))] ^= 1 << r.randrange(8)
open(path, "wb").write(d)
EOF
}
for n in $(seq 1 40); do
	for f in "$snap" "$seg"; do
		cp "$f" "$LXS_TMP/$(basename "$f")"
		damage "$LXS_TMP/$(basename "$f")" "$n"
		for c in ls stat verify log "export --json" "read /fx/a"; do
			# shellcheck disable=SC2086 # c is a command line
			ins "$LXS_TMP/$(basename "$f")" $c >/dev/null 2>"$LXS_TMP/err"
			st=$?
			runs=$((runs + 1))
			if [ $st -ge 128 ] || grep -q -E 'Sanitizer|runtime error' "$LXS_TMP/err"; then
				crashes=$((crashes + 1))
				echo "     | $c on $(basename "$f") damaged with seed $n: status $st"
			elif [ $st -ne 0 ] && ! grep -q '^lxenstore-inspect: ' "$LXS_TMP/err"; then
				silent=$((silent + 1))
				echo "     | $c on $(basename "$f") seed $n: status $st, no message"
			fi
		done
		rm -f "$LXS_TMP/$(basename "$f")"
	done
done
check_eq "$runs runs on damaged files: no crash" 0 "$crashes"
check_eq "...and every failure says why" 0 "$silent"

lxs_done
