#!/usr/bin/env bash
# Open transactions are handed over and can still commit (or conflict)
# in the new daemon (details in lu-txn.py); -F is accepted and not needed.
. "$(dirname "$0")/lu-lib.sh"
lxs_need "$XC"
[ -x "$LXS_PYTHON" ] || lxs_skip "$LXS_PYTHON not found"
lu_start
lu_py lu-txn.py "$XENSTORED_PATH" "$XC" live-update -t 60 "$LXS"
check_out "check: the store is consistent" "OK" "$XC" check
case $("$XC" memreport) in
*"0 transactions"*) ok "no transaction left behind" ;;
*) fail "memreport: $("$XC" memreport | head -1)" ;;
esac
check_out "-F is accepted" "" "$XC" live-update -F -t 30 "$LXS"
lu_finish
