#!/bin/bash
# pyxs (Debian's python3-pyxs, a pure Python client) against the daemon;
# the checks are in compat-pyxs.py.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/lib.sh"

lxs_need_pyxs
lxs_start
timeout 300 "$LXS_PYTHON" "$top_srcdir/tests/e2e/compat-pyxs.py" \
	"$XENSTORED_PATH" "$LXS_TARGET"
check_eq "compat-pyxs.py: every check passed (exit status)" 0 $?
lxs_done
