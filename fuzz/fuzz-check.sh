#!/bin/sh
# fuzz/fuzz-check.sh: runs the fuzzers of fuzz/ (see fuzz/README.md).
#
# In make check (a TESTS entry), for each fuzzer NAME (wire, request, wal,
# snapshot, liveupdate, ring):
#   - always: the committed inputs, fuzz/corpus/NAME and fuzz/regress/NAME,
#     replayed through fuzz/NAME-replay (a plain main() around the
#     harness; under ASan and UBSan in the sanitizer build); and the
#     inputs of bugs not fixed yet, fuzz/known-bugs/NAME, each of which
#     must still fail (once one passes, it belongs in fuzz/regress/NAME);
#   - with a fuzzing build (./configure --enable-fuzzing, so that
#     fuzz/NAME-fuzzer exists): also FUZZ_SECONDS (default 10) of fuzzing
#     from the committed corpus, new inputs going to a scratch directory.
#
# make fuzz sets FUZZ_MODE=fuzz: fuzzers only, FUZZ_SECONDS each (make's
# default: 60), new inputs kept in fuzz/work/NAME of the build tree and
# crash inputs written as fuzz/work/NAME-crash-*.
#
# Environment: top_srcdir, top_builddir (set by make), FUZZ_SECONDS,
# FUZZ_MODE (check | fuzz), FUZZERS (names; default all six),
# FUZZ_FLAGS (extra libFuzzer flags, e.g. -jobs=2).
# Exit status: 0 pass, 1 a fuzzer or a replay failed, 99 not built.

: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${FUZZ_MODE:=check}"
: "${FUZZERS:=wire request wal snapshot liveupdate ring}"
if [ "$FUZZ_MODE" = fuzz ]; then
	: "${FUZZ_SECONDS:=60}"
else
	: "${FUZZ_SECONDS:=10}"
fi
src=$top_srcdir/fuzz
bld=$top_builddir/fuzz
status=0

# Longest input each fuzzer makes up (its corpus may hold longer ones).
max_len() {
	case $1 in
	wire) echo 8500 ;;
	request | ring) echo 8192 ;;
	*) echo 32768 ;;
	esac
}

replay() {
	name=$1
	prog=$bld/$name-replay
	if [ ! -x "$prog" ]; then
		echo "ERROR: $prog not built (make check builds it)"
		exit 99
	fi
	set -- "$src/corpus/$name"
	[ -d "$src/regress/$name" ] && set -- "$@" "$src/regress/$name"
	# -v: the last input named before a sanitizer report is the culprit.
	# An input that takes a minute is a bug too (regress/request has one
	# that took minutes while event delivery was quadratic).
	if LXS_FUZZ_TIMEOUT=60 "$prog" -v "$@" >"$tmp/$name-replay.out" \
	    2>"$tmp/$name-replay.err"
	then
		echo "ok   $name: $(sed 's/.*: //' "$tmp/$name-replay.out")"
	else
		echo "FAIL $name: replaying the committed inputs"
		tail -n 60 "$tmp/$name-replay.err"
		status=1
	fi
}

# Inputs of bugs not fixed yet (fuzz/known-bugs/NAME): each must still
# fail. One that passes is fixed: move it to fuzz/regress/NAME.
known() {
	name=$1
	prog=$bld/$name-replay
	[ -d "$src/known-bugs/$name" ] || return 0
	for f in "$src/known-bugs/$name"/*; do
		[ -f "$f" ] || continue
		# A known slow input "still fails" by running past 10 s.
		if LXS_FUZZ_TIMEOUT=10 "$prog" "$f" >"$tmp/known.out" 2>&1; then
			echo "FAIL $name: $f passes now: the bug is fixed, move the input to fuzz/regress/$name/"
			status=1
		else
			echo "ok   $name: known bug still reproduces (xfail): $f"
		fi
	done
}

fuzz() {
	name=$1 work=$2
	prog=$bld/$name-fuzzer
	mkdir -p "$work"
	dict=
	[ -f "$src/$name.dict" ] && dict=-dict=$src/$name.dict
	echo "# fuzzing $name for $FUZZ_SECONDS s (new inputs: $work)"
	# shellcheck disable=SC2086 # $dict and $FUZZ_FLAGS are lists of words
	# A short run in make check is for new bugs: the known ones are
	# checked by known() and must not make it fail by chance.
	skip=
	[ "$FUZZ_MODE" = fuzz ] || skip=1
	if LXS_FUZZ_SKIP_KNOWN=$skip "$prog" -max_total_time="$FUZZ_SECONDS" -timeout=25 \
	    -rss_limit_mb=2560 -max_len="$(max_len "$name")" \
	    -print_final_stats=1 -artifact_prefix="$work-crash-" $dict \
	    ${FUZZ_FLAGS:-} "$work" "$src/corpus/$name" \
	    >"$tmp/$name-fuzz.log" 2>&1; then
		echo "ok   $name: $(grep -E '^stat::number_of_executed_units' "$tmp/$name-fuzz.log" | awk '{print $2}') runs in $FUZZ_SECONDS s, $(ls "$work" | wc -l) new input(s)"
	else
		echo "FAIL $name: the fuzzer found a problem; the input is in $work-crash-*"
		grep -E -A 40 '^==[0-9]+==ERROR|==fuzz==|runtime error' \
			"$tmp/$name-fuzz.log" | head -n 80
		ls "$work"-crash-* 2>/dev/null
		status=1
	fi
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lxs-fuzz-check.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT

for name in $FUZZERS; do
	if [ "$FUZZ_MODE" = fuzz ]; then
		if [ ! -x "$bld/$name-fuzzer" ]; then
			echo "ERROR: $bld/$name-fuzzer not built: configure with --enable-fuzzing"
			exit 99
		fi
		fuzz "$name" "$bld/work/$name"
		continue
	fi
	replay "$name"
	known "$name"
	if [ -x "$bld/$name-fuzzer" ]; then
		fuzz "$name" "$tmp/work-$name"
		# Keep what a short run found only when it failed.
		[ $status -eq 0 ] || cp -r "$tmp/work-$name"-crash-* "$bld/" 2>/dev/null
	fi
done
exit $status
