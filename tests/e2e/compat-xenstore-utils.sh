#!/bin/bash
# Debian's xenstore-utils (/usr/bin/xenstore-*, over libxenstore) against
# the daemon: outputs and exit statuses as the tools print them.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/lib.sh"

U=/usr/bin
lxs_need $U/xenstore-read $U/xenstore-write $U/xenstore-ls $U/xenstore-list \
	$U/xenstore-rm $U/xenstore-chmod $U/xenstore-exists $U/xenstore-watch
lxs_start

B=/lxs-compat-utils
$U/xenstore-rm $B 2>/dev/null

# --- write, read, list, ls ---------------------------------------------------------
check_rc "write: several keys in one call, parents created" 0 \
	$U/xenstore-write $B/a 1 $B/b "two words" $B/c/d x
check_out "read: one key" "1" $U/xenstore-read $B/a
check_out "read: two keys, one line each" "$(printf '1\ntwo words')" \
	$U/xenstore-read $B/a $B/b
check_out "read -p: prefixed with the path" "$B/c/d: x" $U/xenstore-read -p $B/c/d
check_out "read: implicit parent is empty" "" $U/xenstore-read $B/c
check_out "list: children in creation order" "$(printf 'a\nb\nc')" \
	$U/xenstore-list $B
check_out "list: a leaf has no children" "" $U/xenstore-list $B/a
check_out "ls: indented tree" "$(printf 'a = "1"\nb = "two words"\nc = ""\n d = "x"')" \
	$U/xenstore-ls $B
check_out "ls -f: full paths" \
	"$(printf '%s/a = "1"\n%s/b = "two words"\n%s/c = ""\n%s/c/d = "x"' $B $B $B $B)" \
	$U/xenstore-ls -f $B
check_out "ls -p: permissions column" "(n0) (n0) (n0) (n0)" \
	sh -c "$U/xenstore-ls -p $B | awk '{print \$NF}' | tr '\n' ' ' | sed 's/ \$//'"
check_out "ls -fp: full paths and permissions" \
	"$(printf '%s/a = "1"   (n0)\n%s/b = "two words"   (n0)\n%s/c = ""   (n0)\n%s/c/d = "x"   (n0)' $B $B $B $B)" \
	$U/xenstore-ls -fp $B

check_rc "write: overwrite" 0 $U/xenstore-write $B/a 2
check_out "read: new value" "2" $U/xenstore-read $B/a
check_rc "write: empty value" 0 $U/xenstore-write $B/empty ""
check_out "read: empty value" "" $U/xenstore-read $B/empty
big=$(head -c 3000 /dev/zero | tr '\0' 'v')
check_rc "write: 3000-byte value" 0 $U/xenstore-write $B/big "$big"
check_out "read: 3000-byte value intact" "$big" $U/xenstore-read $B/big
check_rc "write: escaped bytes" 0 $U/xenstore-write $B/esc 'x\x01y\ttab'
check_out "read: non-printable bytes escaped" 'x\001y\ttab' $U/xenstore-read $B/esc
check_out "read -R: raw bytes" "$(printf 'x\001y\ttab' | od -An -c)" \
	sh -c "$U/xenstore-read -R $B/esc | od -An -c"
check_rc "write: relative path (under /local/domain/0)" 0 \
	$U/xenstore-write lxs-compat-rel 5
check_out "read: relative path resolved for a socket client" "5" \
	$U/xenstore-read /local/domain/0/lxs-compat-rel
check_rc "rm: relative path" 0 $U/xenstore-rm lxs-compat-rel

# --- exists --------------------------------------------------------------------
check_rc "exists: node present" 0 $U/xenstore-exists $B/a
check_rc "exists: implicit parent present" 0 $U/xenstore-exists $B/c
check_rc "exists: node absent" 1 $U/xenstore-exists $B/nope
check_rc "exists: parent absent" 1 $U/xenstore-exists $B/nope/deeper

# --- chmod -----------------------------------------------------------------
check_rc "chmod: owner and one reader" 0 $U/xenstore-chmod $B/a n0 r1
check_out "ls -p after chmod" "(n0,r1)" \
	sh -c "$U/xenstore-ls -p $B | awk '/^a =/ {print \$NF}'"
check_rc "chmod -r: whole subtree" 0 $U/xenstore-chmod -r $B/c b0
check_out "ls -p after chmod -r" "(b0) (b0)" \
	sh -c "$U/xenstore-ls -fp $B | awk '\$1 ~ \"^$B/c\" {print \$NF}' | tr '\n' ' ' | sed 's/ \$//'"
check_out "chmod -r left the siblings alone" "(n0)" \
	sh -c "$U/xenstore-ls -fp $B | awk '\$1 == \"$B/b\" {print \$NF}'"
check_rc "chmod: invalid mode letter" 1 $U/xenstore-chmod $B/a q0
check_rc "chmod: no permission at all (EINVAL)" 1 $U/xenstore-chmod $B/a
check_rc "chmod: absent node" 1 $U/xenstore-chmod $B/nope n0
check_rc "chmod -r: absent node" 1 $U/xenstore-chmod -r $B/nope n0

# --- watch -----------------------------------------------------------------
# xenstore-watch prints the initial event once the watch is registered;
# waiting for it makes the rest deterministic.
W=$LXS_TMP/watch1
timeout 20 $U/xenstore-watch -n 3 $B/w >"$W" 2>&1 &
wpid=$!
if lxs_wait_lines "$W" 1; then
	$U/xenstore-write $B/w/x 1
	$U/xenstore-rm $B/w/x
	wait $wpid
	check_eq "watch -n 3: initial event, write below, rm below" \
		"$B/w $B/w/x $B/w/x" "$(lxs_join <"$W")"
else
	fail "watch: no initial event within 10 s"
	kill $wpid 2>/dev/null
fi

# RM of an ancestor: a watcher of an existing node below it gets its own
# path; a watcher of a node that never existed gets nothing, so its next
# event is the later write below it (oxenstored would send its own path).
$U/xenstore-write $B/r/here 1
W2=$LXS_TMP/watch2 W3=$LXS_TMP/watch3
timeout 20 $U/xenstore-watch -n 2 $B/r/here >"$W2" 2>&1 &
w2=$!
timeout 20 $U/xenstore-watch -n 2 $B/r/ghost >"$W3" 2>&1 &
w3=$!
if lxs_wait_lines "$W2" 1 && lxs_wait_lines "$W3" 1; then
	$U/xenstore-rm $B/r
	$U/xenstore-write $B/r/ghost/sub 1
	wait $w2 $w3
	check_eq "watch: rm of an ancestor fires an existing node's watch" \
		"$B/r/here $B/r/here" "$(lxs_join <"$W2")"
	check_eq "watch: rm of an ancestor skips a watch on an absent node" \
		"$B/r/ghost $B/r/ghost/sub" "$(lxs_join <"$W3")"
else
	fail "watch: no initial event within 10 s"
	kill $w2 $w3 2>/dev/null
fi
check_rc "watch: usage error" 1 $U/xenstore-watch

# --- rm --------------------------------------------------------------------
check_rc "rm: subtree" 0 $U/xenstore-rm $B/c
check_rc "rm: the subtree's child is gone" 1 $U/xenstore-exists $B/c/d
check_rc "rm: the subtree's root is gone" 1 $U/xenstore-exists $B/c
check_out "rm: siblings kept" "a b empty big esc" \
	sh -c "$U/xenstore-list $B | grep -v -x -e w -e r | tr '\n' ' ' | sed 's/ \$//'"
check_rc "rm: absent node under an existing parent" 0 $U/xenstore-rm $B/nope
check_rc "rm: absent parent" 1 $U/xenstore-rm $B/nope/deeper
$U/xenstore-write $B/t1/t2/t3 v
check_rc "rm -t: removes empty parents" 0 $U/xenstore-rm -t $B/t1/t2/t3
check_rc "rm -t: top empty parent gone" 1 $U/xenstore-exists $B/t1
check_rc "rm -t: non-empty parent kept" 0 $U/xenstore-exists $B
check_rc "rm: root refused" 1 $U/xenstore-rm /

# --- errors ----------------------------------------------------------------
check_rc "read: absent node" 1 $U/xenstore-read $B/nope
check_rc "read: invalid path (//)" 1 $U/xenstore-read "$B//a"
check_rc "read: invalid path (trailing /)" 1 $U/xenstore-read "$B/a/"
check_rc "read: invalid character" 1 $U/xenstore-read "$B/a b"
check_rc "write: invalid character" 1 $U/xenstore-write "$B/a b" 1
check_rc "write: key without value (usage)" 1 $U/xenstore-write $B/a
check_rc "list: absent node" 1 $U/xenstore-list $B/nope
check_rc "ls: absent node" 1 $U/xenstore-ls $B/nope
check_rc "read: no key (usage)" 1 $U/xenstore-read

# --- the read-only socket (lxenstored only; cxenstored 4.17 has none) --------------
if [ "$LXS_TARGET" = lxenstored ]; then
	RO=${XENSTORED_PATH}_ro
	check_rc "socket_ro exists" 0 test -S "$RO"
	check_out "socket_ro: read" "2" env XENSTORED_PATH="$RO" $U/xenstore-read $B/a
	check_out "socket_ro: list" "$(printf 'a\nb')" \
		sh -c "XENSTORED_PATH=$RO $U/xenstore-list $B | head -2"
	check_rc "socket_ro: write refused" 1 \
		env XENSTORED_PATH="$RO" $U/xenstore-write $B/a 3
	check_rc "socket_ro: rm refused" 1 env XENSTORED_PATH="$RO" $U/xenstore-rm $B/a
	check_rc "socket_ro: chmod refused" 1 \
		env XENSTORED_PATH="$RO" $U/xenstore-chmod $B/a n0
	check_out "socket_ro: the value is unchanged" "2" $U/xenstore-read $B/a
fi

check_rc "rm: whole test tree" 0 $U/xenstore-rm $B
check_rc "rm: test tree gone" 1 $U/xenstore-exists $B
lxs_done
