#!/bin/bash
# Xen's own test suite (test-xenstore from xen-utils-4.17) against the
# daemon: every test it lists must report a timing line, none may fail.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/lib.sh"

T=$XEN_BIN/test-xenstore
ITERATIONS=${LXS_TEST_XENSTORE_ITERATIONS:-100}
lxs_need "$T"
lxs_start

# test-xenstore exits 0 on an unknown -t and prints nothing for it, so the
# list of tests is the reference: each must print "<name>: avg: ...".
"$T" -l >"$LXS_TMP/list" 2>&1 || fail "test-xenstore -l: exit status $?"
sed -n 's/^\(.\{10\}\): .*/\1/p' "$LXS_TMP/list" >"$LXS_TMP/names"
n=$(wc -l <"$LXS_TMP/names")
if [ "$n" -ge 12 ]; then
	ok "test-xenstore lists $n tests"
else
	fail "test-xenstore lists $n tests, expected at least 12"
	cat "$LXS_TMP/list"
fi

timeout 600 "$T" -i "$ITERATIONS" >"$LXS_TMP/run" 2>&1
rc=$?
sed 's/^/# /' "$LXS_TMP/run"
check_eq "test-xenstore -i $ITERATIONS: exit status" 0 "$rc"
while IFS= read -r name; do
	if grep -q -F -x -e "$name: failed" "$LXS_TMP/run" ||
	   grep -q -F -e "$name: failed (" "$LXS_TMP/run"; then
		fail "$name: $(grep -F -e "$name: failed" "$LXS_TMP/run")"
	elif grep -q -F -e "$name: avg:" "$LXS_TMP/run"; then
		ok "$(printf "%s" "$name" | sed "s/ *$//")"
	else
		fail "$name: no result line"
	fi
done <"$LXS_TMP/names"

# test-xenstore leaves nothing behind but its (emptied) base node's parent.
check_rc "test tree removed by the suite" 1 \
	/usr/bin/xenstore-exists /local/domain/0/xenstore-test
lxs_done
