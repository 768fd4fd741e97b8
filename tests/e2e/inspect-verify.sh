#!/usr/bin/env bash
# lxenstore-inspect verify on states written by the daemon: clean (0), a
# torn tail (1), a flipped byte in a log segment, a damaged or truncated
# snapshot, a missing segment (2, with the file and the offset), and what
# cannot be verified at all (3). Neither verify nor any other command may
# change a byte of the state directory, damaged or not.
. "$(dirname "$0")/inspect-lib.sh"
dur_init

# build: a state with snapshots and several segments, then a clean stop.
build() {
	rm -rf "$DUR_STATE"
	dur_start --snapshot-records 50 --log-segment-size 4096
	ins_fixture
	for i in $(seq 1 100); do
		/usr/bin/xenstore-write "/m/k$i" "value-$i-$(printf '%0200d' 0)"
	done
	dur_stop
}

# verify_is NAME STATUS [REGEX]: verify's exit status, and REGEX in its
# output (stdout and stderr).
verify_is() {
	insd verify >"$LXS_TMP/v" 2>&1
	_st=$?
	if [ "$_st" != "$2" ]; then
		fail "$1: exit status $_st, expected $2"
		sed 's/^/     | /' "$LXS_TMP/v" | head -20
	elif [ -n "${3:-}" ] && ! grep -q -E "$3" "$LXS_TMP/v"; then
		fail "$1: no line matches $3"
		sed 's/^/     | /' "$LXS_TMP/v" | head -20
	else
		ok "$1"
	fi
}

# untouched NAME: runs every reading command; the directory must not change.
untouched() {
	_before=$(state_sum)
	for _c in verify stat "ls -fp" "read /fx/a" "perms /fx/b" log \
		"export --json" "at 5 ls"; do
		# shellcheck disable=SC2086 # _c is a command line
		insd $_c >/dev/null 2>&1
		[ $? -lt 100 ] || fail "$1: '$_c' crashed"
	done
	[ "$(state_sum)" = "$_before" ] && ok "$1: nothing changed on disk" ||
		fail "$1: the state directory changed"
}

build
nseg=$(dur_segments | wc -l)
[ "$nseg" -ge 3 ] && ok "the log has $nseg segments" || fail "$nseg segments"
verify_is "a clean state" 0 '^verify: clean$'
grep -q -E '^linkage: ok' "$LXS_TMP/v" && ok "linkage reported" ||
	fail "no linkage line"
n=$(grep -c -E '^.*/(snap|wal)-[0-9a-f]{16}\.(lxs|log): ok' "$LXS_TMP/v")
[ "$n" -eq $(($(dur_segments | wc -l) + $(dur_snapshots | wc -l))) ] &&
	ok "every file is listed as ok" || fail "$n files ok"
untouched "clean"

# A running daemon: verify reads beside it.
dur_start --snapshot-records 50 --log-segment-size 4096
verify_is "while the daemon runs" 0 'verify: clean'
dur_stop

# --- torn tail: the last record cut short --------------------------------------
dur_start --snapshot-records 1000 --log-segment-size 4096
for i in 1 2 3; do /usr/bin/xenstore-write "/torn/k$i" v; done
dur_kill
seg=$(dur_segments | tail -n 1)
size=$(dur_seg_end "$seg")
truncate -s $((size - 3)) "$seg"
verify_is "torn tail: exit 1" 1 "$(basename "$seg"): offset [0-9]+: torn tail"
untouched "torn tail"
check_rc "torn tail: ls still works (exit 0)" 0 insd ls /fx

# --- a flipped byte in a segment in the middle -------------------------------------
build
bad=$(dur_segments | sed -n 2p)
flip "$bad" 300
verify_is "flipped byte in a segment: exit 2" 2 \
	"$(basename "$bad"): offset [0-9]+: "
off=$(grep -o -E "$(basename "$bad"): offset [0-9]+" "$LXS_TMP/v" | head -1 |
	sed 's/.*offset //')
[ -n "$off" ] && [ "$off" -le 300 ] && [ "$off" -ge 32 ] &&
	ok "the offset ($off) is the damaged record's" ||
	fail "offset '$off' for a byte flipped at 300"
grep -q -E "^verify: CORRUPT" "$LXS_TMP/v" && ok "verify says CORRUPT" ||
	fail "no CORRUPT line"
later=$(dur_segments | sed -n 3p)
grep -q "$(basename "$later"): ok" "$LXS_TMP/v" &&
	ok "the segments after the damage are still checked" ||
	fail "$(basename "$later") not checked"
untouched "flipped byte"
check_rc "damage the newest snapshot covers: ls goes on (exit 0)" 0 \
	insd ls /fx
grep -q "note: .*$(basename "$bad"): offset" "$LXS_TMP/out" &&
	ok "...with a note" || fail "no note: $(cat "$LXS_TMP/out")"
build
last=$(dur_segments | tail -n 1)
[ "$(stat -c %s "$last")" -gt 600 ] || lxs_error "$last is too short"
flip "$last" 40
verify_is "a bad record with valid ones after it: exit 2" 2 \
	"$(basename "$last"): offset 32: "
check_rc "damage after the newest snapshot: ls fails (exit 1)" 1 \
	insd ls /fx
grep -q "$(basename "$last"): offset 32: .*not used" "$LXS_TMP/out" &&
	ok "...naming the file and the offset" || fail "message: $(cat "$LXS_TMP/out")"

# --- a damaged snapshot -------------------------------------------------------------------
build
snap=$(dur_snapshots | tail -n 1)
flip "$snap" 100
verify_is "flipped byte in a snapshot: exit 2" 2 \
	"$(basename "$snap"): offset 56: data checksum mismatch"
untouched "damaged snapshot"
build
snap=$(dur_snapshots | tail -n 1)
flip "$snap" 3
verify_is "damaged snapshot header: exit 2 at offset 0" 2 \
	"$(basename "$snap"): offset 0: bad header"
build
snap=$(dur_snapshots | tail -n 1)
truncate -s $(($(stat -c %s "$snap") - 10)) "$snap"
verify_is "truncated snapshot: exit 2" 2 \
	"$(basename "$snap"): offset [0-9]+: file has [0-9]+ data bytes"
check_rc "truncated snapshot given as a file: ls fails" 1 ins "$snap" ls
grep -q "^lxenstore-inspect: $snap: file has" "$LXS_TMP/out" &&
	ok "...saying so in one line" || fail "message: $(cat "$LXS_TMP/out")"

# --- a segment missing from the middle: a gap in the sequence ------------------------------
build
rm -f "$(dur_segments | sed -n 2p)"
verify_is "missing segment: exit 2" 2 "segment starts at [0-9]+, expected"

# --- a snapshot whose log is gone ---------------------------------------------------------------
build
for s in $(dur_snapshots); do rm -f "$s"; done
if [ "$(dur_segments | head -1)" != "$DUR_STATE/wal-0000000000000001.log" ]; then
	verify_is "no snapshot and a pruned log: exit 2" 2 \
		"records 1\.\.[0-9]+ are missing"
else
	ok "the log was never pruned (nothing to check)"
fi

# --- nothing to verify ----------------------------------------------------------------------------
check_rc "missing directory: exit 3" 3 ins --state-dir "$LXS_TMP/nope" verify
grep -q "^lxenstore-inspect: $LXS_TMP/nope: No such file or directory" \
	"$LXS_TMP/out" && ok "...with a one-line message" ||
	fail "message: $(cat "$LXS_TMP/out")"
mkdir -p "$LXS_TMP/empty"
check_rc "a directory without state: exit 3" 3 \
	ins --state-dir "$LXS_TMP/empty" verify
head -c 200 /dev/urandom >"$LXS_TMP/garbage"
check_rc "a garbage file: exit 2" 2 ins "$LXS_TMP/garbage" verify
grep -q "garbage: offset 0: not a snapshot or a log segment" "$LXS_TMP/out" &&
	ok "...named, with its offset" || fail "message: $(cat "$LXS_TMP/out")"
check_rc "a garbage file: ls fails" 1 ins "$LXS_TMP/garbage" ls
check_rc "usage error: exit 3" 3 insd verify extra

lxs_done
