#!/usr/bin/env bash
# lxenstore-inspect ls, read and perms against Debian's xenstore-ls and
# xenstore-read on the same data: the daemon's state read offline (while it
# runs, after it stopped, from a snapshot file alone) must print byte for
# byte what the clients print from the live daemon, for every option, a
# subtree, a relative path, a terminal width, and the errors.
. "$(dirname "$0")/inspect-lib.sh"
dur_init
lxs_need /usr/bin/xenstore-read /usr/bin/xenstore-write /usr/bin/xenstore-chmod

dur_start --snapshot-records 7 --log-segment-size 4096
ins_fixture
for i in $(seq 1 40); do /usr/bin/xenstore-write "/many/k$i" "value $i"; done
nsnap=$(dur_snapshots | wc -l)
nseg=$(dur_segments | wc -l)
[ "$nsnap" -ge 1 ] && [ "$nseg" -ge 2 ] &&
	ok "the state has $nsnap snapshots and $nseg segments" ||
	fail "state: $nsnap snapshots, $nseg segments"

# same NAME ARGS...: inspect ls ARGS (offline) vs xenstore-ls ARGS (live),
# stdout and exit status.
same() {
	_n=$1
	shift
	insd ls "$@" >"$LXS_TMP/ours" 2>"$LXS_TMP/ours.err"
	echo "status $?" >>"$LXS_TMP/ours"
	/usr/bin/xenstore-ls "$@" >"$LXS_TMP/deb" 2>/dev/null
	echo "status $?" >>"$LXS_TMP/deb"
	if cmp -s "$LXS_TMP/ours" "$LXS_TMP/deb"; then
		ok "$_n"
	else
		fail "$_n"
		diff -u "$LXS_TMP/deb" "$LXS_TMP/ours" | head -20 | sed 's/^/     | /'
		sed 's/^/     | /' "$LXS_TMP/ours.err" | head -5
	fi
}

same "ls while the daemon runs"
same "ls -f" -f
same "ls -p" -p
same "ls -fp" -fp
same "ls -f -p of a subtree" -f -p /fx
same "ls -p of a deeper subtree" -p /fx/c
same "ls of a leaf prints nothing" /fx/a
same "ls / (trailing slash kept by -f)" -f /
same "ls of a relative path" local
same "ls of a missing node fails" /nonexistent
same "ls of an invalid path fails" /fx/

# The same tree, with the daemon stopped.
/usr/bin/xenstore-ls >"$LXS_TMP/live"
/usr/bin/xenstore-ls -fp >"$LXS_TMP/live-fp"
/usr/bin/xenstore-read /fx/esc /fx/nul /fx/utf8 /fx/b >"$LXS_TMP/live-read"
dur_stop
insd ls >"$LXS_TMP/off" && cmp -s "$LXS_TMP/off" "$LXS_TMP/live" &&
	ok "ls with the daemon stopped" || fail "ls offline differs"
insd ls -fp >"$LXS_TMP/off" && cmp -s "$LXS_TMP/off" "$LXS_TMP/live-fp" &&
	ok "ls -fp with the daemon stopped" || fail "ls -fp offline differs"
insd read /fx/esc /fx/nul /fx/utf8 /fx/b >"$LXS_TMP/off" &&
	cmp -s "$LXS_TMP/off" "$LXS_TMP/live-read" &&
	ok "read escapes as xenstore-read" || fail "read: $(cat "$LXS_TMP/off")"
check_eq "read -R prints the raw bytes" "$(printf 'a\000b' | od -An -c)" \
	"$(insd read -R /fx/nul | od -An -c)"
check_out "read -p" "/fx/a: 1" insd read -p /fx/a
check_out "perms, owner first" "n0 r5 w6" insd perms /fx/b
check_out "perms of a special node" "n0" insd perms @introduceDomain
check_rc "read of a missing node fails" 1 insd read /fx/nothing
grep -q "lxenstore-inspect: /fx/nothing: no such node" "$LXS_TMP/out" &&
	ok "...with a one-line message" || fail "message: $(cat "$LXS_TMP/out")"
check_rc "perms of a missing node fails" 1 insd perms /fx/nothing

# A terminal narrower than 80 columns: both tools cut at its width - 2.
if command -v script >/dev/null; then
	dur_start
	script -qec "stty cols 50; $INS --state-dir $DUR_STATE ls -p /fx" \
		"$LXS_TMP/tty-ours" >/dev/null 2>&1
	script -qec "stty cols 50; /usr/bin/xenstore-ls -p /fx" \
		"$LXS_TMP/tty-deb" >/dev/null 2>&1
	# script(1) adds its own first line; keep the tools' output.
	sed -i '/^Script /d' "$LXS_TMP/tty-ours" "$LXS_TMP/tty-deb"
	if [ -s "$LXS_TMP/tty-deb" ] &&
	    cmp -s "$LXS_TMP/tty-ours" "$LXS_TMP/tty-deb"; then
		ok "ls on a 50-column terminal"
	else
		fail "ls on a terminal differs"
		diff -u "$LXS_TMP/tty-deb" "$LXS_TMP/tty-ours" | head -10
	fi
	dur_stop
fi

# A snapshot file alone: the state it holds, no log.
dur_start
"$DUR_CTL" snapshot >/dev/null
dur_wait_status 'snapshot: .*idle' || fail "no forced snapshot"
/usr/bin/xenstore-ls -fp >"$LXS_TMP/live-fp"
dur_stop
snap=$(dur_snapshots | tail -n 1)
ins "$snap" ls -fp >"$LXS_TMP/off" && cmp -s "$LXS_TMP/off" "$LXS_TMP/live-fp" &&
	ok "ls -fp of the newest snapshot file" || fail "ls of $snap differs"
cp "$snap" "$LXS_TMP/renamed.bin"
ins "$LXS_TMP/renamed.bin" ls -fp >"$LXS_TMP/off" &&
	cmp -s "$LXS_TMP/off" "$LXS_TMP/live-fp" &&
	ok "...also under another name" || fail "renamed snapshot differs"

lxs_done
