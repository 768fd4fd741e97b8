#!/bin/bash
# Xen's xenstore-control (xen-utils-4.17) against the daemon: help, check,
# quota. (/usr/bin/xenstore-control is a Debian wrapper that needs a
# hypervisor; the real client is in $XEN_BIN.)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/lib.sh"

X=$XEN_BIN/xenstore-control
lxs_need "$X"
lxs_start

# First word of each line of the command's output.
words() { "$X" "$@" 2>&1 | awk 'NF {print $1}' | lxs_join; }

# --- help ------------------------------------------------------------------
check_rc "help: exit status" 0 "$X" help
for cmd in check quota help; do
	case " $(words help) " in
	*" $cmd "*) ok "help lists $cmd" ;;
	*) fail "help lists $cmd: got: $(words help)" ;;
	esac
done

# --- check -----------------------------------------------------------------
check_out "check: store consistent" "OK" "$X" check

# --- quota -----------------------------------------------------------------
"$X" quota >"$LXS_TMP/quota" 2>&1
check_eq "quota: exit status" 0 $?
for q in nodes watches transactions; do
	if grep -q -E "^$q +: +[0-9]+( |\$)" "$LXS_TMP/quota"; then
		ok "quota shows $q"
	else
		fail "quota shows $q"
		sed 's/^/     | /' "$LXS_TMP/quota"
	fi
done
old=$(sed -n 's/^nodes *: *\([0-9]*\).*/\1/p' "$LXS_TMP/quota")
check_out "quota set nodes" "OK" "$X" quota set nodes 1234
check_out "quota shows the new value" "1234" \
	sh -c "$X quota | sed -n 's/^nodes *: *\([0-9]*\).*/\1/p'"
check_out "quota set nodes back" "OK" "$X" quota set nodes "${old:-1000}"
check_rc "quota set: unknown quota name" 3 "$X" quota set no-such-quota 1

/usr/bin/xenstore-write /lxs-compat-control 1
"$X" quota 0 >"$LXS_TMP/quota0" 2>&1
check_eq "quota 0: exit status" 0 $?
n=$(sed -n 's/^nodes *: *\([0-9]*\).*/\1/p' "$LXS_TMP/quota0")
if [ -n "$n" ] && [ "$n" -gt 0 ]; then
	ok "quota 0: domain 0 owns $n nodes"
else
	fail "quota 0: no node count for domain 0"
	sed 's/^/     | /' "$LXS_TMP/quota0"
fi
/usr/bin/xenstore-rm /lxs-compat-control

# --- errors ----------------------------------------------------------------
check_rc "unknown command" 3 "$X" no-such-command
check_rc "no command (usage)" 2 "$X"
check_out "the daemon still answers" "OK" "$X" check
lxs_done
