# shellcheck shell=bash disable=SC2034
# tests/e2e/inspect-lib.sh: helpers of the inspect-*.sh tests (sourced).
#
# Builds on durable-lib.sh: a private lxenstored on a private state
# directory, which the tests fill with Debian's clients and then read with
# ./lxenstore-inspect, running or stopped.
#   ins ARGS...           ./lxenstore-inspect ARGS
#   insd ARGS...          ./lxenstore-inspect --state-dir $DUR_STATE ARGS
#   flip FILE OFFSET      turns one byte into its complement
#   state_sum             a checksum of every file of the state directory
#   last_seq              the last record of the log
#   ins_fixture           a small tree: escapes, binary, perms, deep paths,
#                         a long value and name, a transaction, a removal

# shellcheck source=tests/e2e/durable-lib.sh
. "$(dirname "$0")/durable-lib.sh"

INS=$top_builddir/lxenstore-inspect
[ -x "$INS" ] || lxs_error "$INS not built"

ins() { "$INS" "$@"; }
insd() { "$INS" --state-dir "$DUR_STATE" "$@"; }

flip() {
	_b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf "\\$(printf '%03o' $((255 - _b)))" |
		dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

state_sum() {
	find "$DUR_STATE" -type f ! -name lock -print0 | sort -z |
		xargs -0 md5sum | md5sum
}

last_seq() {
	insd log | tail -n 1 | cut -d' ' -f1
}

ins_fixture() {
	_long=$(head -c 100 /dev/zero | tr '\0' v)
	_k90=$(head -c 90 /dev/zero | tr '\0' k)
	/usr/bin/xenstore-write /fx/a 1 /fx/b "two words" \
		/fx/esc 'x\001y\ttab\\back\x7f\xff\n' /fx/nul 'a\000b' \
		/fx/utf8 'caf\xc3\xa9' /fx/c/d x /fx/c/e "" /fx/c/f/g deep \
		/fx/long "$_long" "/fx/$_k90" x /local/domain/5/name guest5 ||
		lxs_error "fixture: write"
	/usr/bin/xenstore-chmod /fx/b n0 r5 w6 &&
		/usr/bin/xenstore-chmod -r /fx/c b0 &&
		/usr/bin/xenstore-chmod /local/domain/5 b5 r0 ||
		lxs_error "fixture: chmod"
	/usr/bin/xenstore-write /fx/gone 1 && /usr/bin/xenstore-rm /fx/gone ||
		lxs_error "fixture: rm"
}
