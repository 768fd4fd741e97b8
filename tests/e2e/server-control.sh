#!/usr/bin/env bash
# CONTROL commands (through Xen's xenstore-control and raw), the access log
# with its rotation, SIGHUP.
. "$(dirname "$0")/server-lib.sh"
LXS_DAEMON_ARGS="--access-log access.log --access-log-size 4000 --access-log-keep 2 -E 900 -q memory=1000000"
lxs_start_own
XC=$XEN_BIN/xenstore-control
A=$LXS_TMP/access.log

# --- through raw messages ------------------------------------------------------
check_raw "check" "CONTROL OK\0" 'CONTROL:check\0'
check_raw "print" "CONTROL OK\0" 'CONTROL:print\0hello there\0'
check_raw "unknown command" "ERROR EINVAL\0" 'CONTROL:frobnicate\0'
check_raw "quota of an unknown domain" "ERROR ENOENT\0" 'CONTROL:quota\05\0'
check_raw "quota with a bad domid" "ERROR EINVAL\0" 'CONTROL:quota\0x\0'
check_raw "quota set needs a value >= 1" "ERROR EINVAL\0" 'CONTROL:quota\0set\0nodes\00\0'
check_raw "quota set of an unknown name" "ERROR EINVAL\0" 'CONTROL:quota\0set\0bogus\01\0'
check_raw "log with a bad argument" "ERROR EINVAL\0" 'CONTROL:log\0maybe\0'
help=$(raw 'CONTROL:help\0')
for cmd in check log logfile memreport print quota quota-soft help; do
	case $help in
	*"\n$(printf '%-15s' "$cmd") "*|"CONTROL $(printf '%-15s' "$cmd") "*) ok "help lists $cmd" ;;
	*) fail "help lacks $cmd: $help" ;;
	esac
done
case $(raw 'CONTROL:memreport\0') in
"CONTROL OK\0") ok "memreport goes to the access log" ;;
*) fail "memreport: $(raw 'CONTROL:memreport\0')" ;;
esac
check_raw "memreport to a file" "CONTROL OK\0" "CONTROL:memreport\0$LXS_TMP/mem\0"
grep -q '^store: .* nodes' "$LXS_TMP/mem" && ok "memreport file content" ||
	fail "memreport file: $(cat "$LXS_TMP/mem")"

# --- through xenstore-control ----------------------------------------------------
if [ -x "$XC" ]; then
	q=$("$XC" quota)
	check_eq "quota: header" "Quota settings:" "$(printf '%s\n' "$q" | head -1)"
	check_eq "quota: -E 900 shown in cxenstored's format" \
		"nodes            :      900 Nodes per domain" \
		"$(printf '%s\n' "$q" | grep '^nodes ')"
	check_eq "quota: memory line" \
		"memory           :  2621440 Total Xenstore memory per domain (error level)" \
		"$(printf '%s\n' "$q" | grep '^memory ')"
	check_eq "quota-soft: -q memory=1000000" \
		"memory           :  1000000 Total Xenstore memory per domain (warning level)" \
		"$("$XC" quota-soft | grep '^memory ')"
	check_out "quota set" OK "$XC" quota set watches 77
	check_eq "quota set is applied" \
		"watches          :       77 Watches per domain" \
		"$("$XC" quota | grep '^watches ')"
	d0=$("$XC" quota 0)
	check_eq "quota 0: header" "Domain 0:" "$(printf '%s\n' "$d0" | head -1)"
	case $(printf '%s\n' "$d0" | grep '^nodes ') in
	"nodes            : "*"(quota      900)") ok "quota 0: nodes usage and quota" ;;
	*) fail "quota 0: $d0" ;;
	esac
	check_out "check" OK "$XC" check
	check_rc "unknown command fails" 3 "$XC" frobnicate
else
	lxs_skip "$XC not found (Debian: xen-utils-4.17)"
fi

# --- access log ---------------------------------------------------------------------
raw 'WRITE:/acc\0a\x01b' 'READ:/acc\0' >/dev/null
if grep -q -E '^[0-9]{8} [0-9:.]+ c[0-9]+ IN  WRITE r[0-9]+ t0 \(/acc a\.b\)$' "$A"* &&
   grep -q -E ' OUT READ r[0-9]+ t0 \(a\.b\)$' "$A"*; then
	ok "access log: IN and OUT lines, NULs as spaces"
else
	fail "access log lines: $(tail -3 "$A")"
fi
grep -q 'control: hello there' "$A"* && ok "print goes to the access log" ||
	fail "print not in the access log"
raw '200*READ:/acc\0' >/dev/null
[ -f "$A.1" ] && [ -f "$A.2" ] && [ ! -e "$A.3" ] && ok "rotation keeps FILE.1 and FILE.2" ||
	fail "rotation: $(ls "$LXS_TMP")"
big=0
for f in "$A" "$A.1" "$A.2"; do
	[ "$(stat -c %s "$f")" -le 4000 ] || big=1
done
check_eq "rotated files stay within --access-log-size" 0 $big

check_raw "log off" "CONTROL OK\0" 'CONTROL:log\0off\0'
before=$(cat "$A" "$A".* | wc -l)
raw '5*READ:/acc\0' >/dev/null
check_eq "log off: nothing written" "$before" "$(cat "$A" "$A".* | wc -l)"
check_raw "log on" "CONTROL OK\0" 'CONTROL:log\0on\0'
raw 'READ:/acc\0' >/dev/null
grep -q 'OUT READ' "$A" && ok "log on: written again" || fail "log on: nothing written"

check_raw "logfile" "CONTROL OK\0" "CONTROL:logfile\0$LXS_TMP/other.log\0"
raw 'READ:/acc\0' >/dev/null
grep -q 'IN  READ' "$LXS_TMP/other.log" && ok "logfile: new file used" ||
	fail "logfile: nothing in other.log"

# SIGHUP reopens (external rotation).
mv "$LXS_TMP/other.log" "$LXS_TMP/other.log.old"
kill -HUP "$LXS_DAEMON_PID"
sleep 0.3
raw 'READ:/acc\0' >/dev/null
[ -s "$LXS_TMP/other.log" ] && ok "SIGHUP reopens the access log" ||
	fail "SIGHUP: no new file"

lxs_done
