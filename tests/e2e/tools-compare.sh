#!/bin/bash
# tools-compare.sh [SOCKET]: our xenstore-* tools and xenstore-control against
# Debian's (xenstore-utils, and xen-utils-4.17 for xenstore-control).
#
# Every case runs the same command line twice against the same daemon, once
# with Debian's binary and once with ours, each time on a freshly rebuilt
# fixture tree, and compares exit status, stdout, stderr (blank lines
# dropped) and the tree afterwards. Both binaries are found through PATH
# under the same name, so argv[0] (and with it every message prefix and
# usage line) is the same. Where we differ on purpose (see xenstore(1),
# COMPATIBILITY) the case checks our behaviour alone.
#
# The daemon: SOCKET if given, else $XENSTORED_PATH if set (for instance an
# anchor cxenstored), else a private ./lxenstored started by lib.sh.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/lib.sh"

if [ $# -gt 0 ]; then
	LXS_TEST_SOCKET=$1
elif [ -n "${XENSTORED_PATH:-}" ] && [ -z "${LXS_TEST_SOCKET:-}" ]; then
	LXS_TEST_SOCKET=$XENSTORED_PATH
fi

DEB=/usr/bin
DEB_CONTROL_DIR=$XEN_BIN	# /usr/bin/xenstore-control is a wrapper script
OURS=$top_builddir
for t in read write ls list exists rm chmod watch; do
	lxs_need "$DEB/xenstore-$t"
	[ -x "$OURS/xenstore-$t" ] || lxs_error "$OURS/xenstore-$t not built"
done
[ -x "$OURS/xenstore-control" ] || lxs_error "$OURS/xenstore-control not built"
lxs_start

T=/lxs-tools-compare
SYSPATH=/usr/sbin:/usr/bin:/sbin:/bin

# Rebuilt before each run, with Debian's tools. Values cover escapes, an
# embedded NUL, a value and a name too long for an 80-column ls line, a
# deep subtree, an empty leaf and a few permission lists.
fixture() {
	long=$(head -c 100 /dev/zero | tr '\0' v)
	m71=$(head -c 71 /dev/zero | tr '\0' m)
	k90=$(head -c 90 /dev/zero | tr '\0' k)
	$DEB/xenstore-rm $T 2>/dev/null
	if ! $DEB/xenstore-write $T/a 1 $T/b "two words" \
		$T/esc 'x\001y\ttab\\back\x7f\xff\n' $T/nul 'a\000b' \
		$T/c/d x $T/c/e "" $T/c/f/g deep $T/empty "" \
		$T/long "$long" $T/m71 "$m71" "$T/$k90" x ||
	    ! $DEB/xenstore-chmod $T/b n0 r5 w6 ||
	    ! $DEB/xenstore-chmod -r $T/c b0; then
		lxs_error "fixture failed"
	fi
}

# run WHO NAME CMD...: runs CMD with Debian's or our binaries first in PATH,
# into $LXS_TMP/NAME.WHO.{out,err,rc,tree}.
run() {
	_who=$1 _o=$LXS_TMP/$2.$1
	shift 2
	case $_who in
	deb) _path=$DEB_CONTROL_DIR:$DEB:$SYSPATH ;;
	ours) _path=$OURS:$SYSPATH ;;
	esac
	fixture
	(PATH=$_path; export PATH; exec "$@") >"$_o.out" 2>"$_o.err" </dev/null
	echo $? >"$_o.rc"
	sed -i '/^$/d' "$_o.err"
	$DEB/xenstore-ls -fp $T >"$_o.tree" 2>&1
}

# same_file NAME WHAT: compares one captured part of both runs.
same_file() {
	if cmp -s "$LXS_TMP/$1.deb.$2" "$LXS_TMP/$1.ours.$2"; then
		return 0
	fi
	printf '     %s differs (-Debian +ours):\n' "$2"
	diff -u "$LXS_TMP/$1.deb.$2" "$LXS_TMP/$1.ours.$2" | tail -n +3 |
		head -20 | sed 's/^/     | /'
	return 1
}

# same [-E] NAME CMD...: both binaries must agree on status, stdout, stderr
# (with -E: only whether stderr is empty) and the tree afterwards.
same() {
	_stderr=1
	if [ "$1" = -E ]; then
		_stderr=0
		shift
	fi
	_n=$1
	shift
	run deb "$_n" "$@"
	run ours "$_n" "$@"
	_bad=0
	same_file "$_n" rc || _bad=1
	same_file "$_n" out || _bad=1
	same_file "$_n" tree || _bad=1
	if [ $_stderr = 1 ]; then
		same_file "$_n" err || _bad=1
	else
		_de=0 _oe=0
		[ -s "$LXS_TMP/$_n.deb.err" ] && _de=1
		[ -s "$LXS_TMP/$_n.ours.err" ] && _oe=1
		if [ $_de != $_oe ]; then
			printf '     stderr: Debian %s, ours %s\n' \
				"$([ $_de = 1 ] && echo written || echo empty)" \
				"$([ $_oe = 1 ] && echo written || echo empty)"
			_bad=1
		fi
	fi
	_cmd="$*"
	if [ $_bad = 0 ]; then
		ok "$_n: ${_cmd:0:100}"
	else
		fail "$_n: ${_cmd:0:100}"
	fi
}

# ours NAME WANT_RC WANT_STDOUT CMD...: our binary alone.
ours() {
	_n=$1 _rc=$2 _want=$3
	shift 3
	run ours "$_n" "$@"
	_got_rc=$(cat "$LXS_TMP/$_n.ours.rc")
	_got=$(cat "$LXS_TMP/$_n.ours.out")
	if [ "$_got_rc" = "$_rc" ] && [ "$_got" = "$_want" ]; then
		ok "$_n: $*"
	else
		fail "$_n: $*: status $_got_rc (want $_rc)"
		printf '     stdout: %s\n     want:   %s\n' "$_got" "$_want"
		sed 's/^/     stderr| /' "$LXS_TMP/$_n.ours.err" | head -5
	fi
}

# --- read ------------------------------------------------------------------
same read-one		xenstore-read $T/a
same read-many		xenstore-read $T/a $T/b $T/esc $T/nul $T/empty $T/c
same read-p		xenstore-read -p $T/a $T/esc
same read-R		xenstore-read -R $T/esc $T/nul
same read-pR		xenstore-read --prefix --raw $T/b $T/a
same read-s		xenstore-read -s $T/a
same read-missing	xenstore-read $T/nope
same read-partial	xenstore-read $T/a $T/nope $T/b
same read-relative	xenstore-read lxs-tools-compare-nope
same read-usage		xenstore-read
same read-badflag	xenstore-read -t $T/a
same read-mode-arg	xenstore read -p $T/a
same read-mode-usage	xenstore read

# --- write -----------------------------------------------------------------
same write-one		xenstore-write $T/new 1
same write-many		xenstore-write $T/a 2 $T/n/e/w "x y" $T/empty ""
# shellcheck disable=SC1003 # backslashes are the point here
same write-escapes	xenstore-write $T/e1 'a\tb\x41\101\q\\' $T/e2 'end\' \
			$T/e3 '\x 41\x-1\x0x1\777'
# shellcheck disable=SC1003
same write-R		xenstore-write -R $T/raw 'a\tb\x41\\'
same write-s		xenstore-write -s $T/a 3
same write-odd		xenstore-write $T/a 1 $T/b
same write-usage	xenstore-write
same write-badpath	xenstore-write "$T//bad" 1
same write-toobig	xenstore-write $T/big "$(head -c 4100 /dev/zero | tr '\0' z)"
same write-mode-arg	xenstore write $T/a 4 $T/b 5

# --- ls --------------------------------------------------------------------
same ls-tree		xenstore-ls $T
same ls-f		xenstore-ls -f $T
same ls-p		xenstore-ls -p $T
same ls-fp		xenstore-ls -fp $T
same ls-s		xenstore-ls -s $T/c
same ls-many		xenstore-ls $T/c $T/c/f
same ls-leaf		xenstore-ls $T/a
same ls-root		xenstore-ls
same -E ls-missing	xenstore-ls $T/nope
same -E ls-missing-2nd	xenstore-ls $T/c $T/nope
same ls-mode-arg	xenstore ls -f $T/c
if command -v script >/dev/null 2>&1; then
	# On a terminal, lines are cut to its width less two, even with -f.
	same ls-tty	script -qec "stty cols 50; xenstore-ls -p $T" /dev/null
	same ls-tty-f	script -qec "stty cols 60; xenstore-ls -f $T" /dev/null
fi

# --- list ------------------------------------------------------------------
same list		xenstore-list $T
same list-p		xenstore-list -p $T $T/c
same list-leaf		xenstore-list $T/a
same list-missing	xenstore-list $T/c $T/nope
same list-usage		xenstore-list
# Xen 4.17 prints "//name" here; later Xen and we print "/name".
ours list-p-root 0 "$(PATH=$DEB:$SYSPATH xenstore-list / | sed 's|^|/|')" \
	xenstore-list -p /

# A directory too large for one reply (DIRECTORY_PART on daemons that have it).
big_dir() {
	args=
	for i in $(seq 1 250); do
		args="$args $T/big/child-with-a-longish-name-$i $i"
	done
	# shellcheck disable=SC2086
	$DEB/xenstore-write $args
}
big_dir
if $DEB/xenstore-list $T/big >"$LXS_TMP/big.deb" 2>&1; then
	PATH=$OURS:$SYSPATH xenstore-list $T/big >"$LXS_TMP/big.ours" 2>&1
	if cmp -s "$LXS_TMP/big.deb" "$LXS_TMP/big.ours" &&
	    [ "$(wc -l <"$LXS_TMP/big.ours")" = 250 ]; then
		ok "list: 250 children, over one reply"
	else
		fail "list: 250 children, over one reply"
	fi
else
	lxs_log "# daemon cannot list a directory over 4096 bytes; not compared"
fi

# --- exists ----------------------------------------------------------------
same exists		xenstore-exists $T/a $T/c/f
same exists-missing	xenstore-exists $T/nope
same exists-partial	xenstore-exists $T/a $T/nope
# Xen prints list's usage line (with -p) for exists.
same -E exists-usage	xenstore-exists -p $T/a

# --- rm --------------------------------------------------------------------
same rm			xenstore-rm $T/c/f
same rm-many		xenstore-rm $T/a $T/b
same rm-missing-leaf	xenstore-rm $T/nope
same rm-missing-parent	xenstore-rm $T/nope/deeper
same rm-t		xenstore-rm -t $T/c/f/g
same rm-t-stop		xenstore-rm -t $T/c/d
same rm-t-chain		sh -c "xenstore-rm $T/c/d $T/c/e && xenstore-rm -t $T/c/f/g"
same rm-usage		xenstore-rm
same rm-badflag		xenstore-rm -p $T/a

# --- chmod -----------------------------------------------------------------
same chmod		xenstore-chmod $T/a n0 r5
same chmod-r		xenstore-chmod -r $T/c b0 w7
same chmod-u		xenstore-chmod -u $T/c/f/g r0
same chmod-ru		xenstore-chmod -r -u $T/c/f n0 b3
same chmod-atoi		xenstore-chmod $T/a n0 r5x
same chmod-badperm	xenstore-chmod $T/a q1
same chmod-noperm	xenstore-chmod $T/a
same chmod-missing	xenstore-chmod $T/nope n0
same chmod-u-relative	xenstore-chmod -u lxs-tools-compare-nope n0
same chmod-usage	xenstore-chmod

# --- watch -----------------------------------------------------------------
# watch_run WHO: a 3-event watch (the initial event and two changes).
watch_run() {
	_o=$LXS_TMP/watch.$1
	case $1 in
	deb) _path=$DEB:$SYSPATH ;;
	ours) _path=$OURS:$SYSPATH ;;
	esac
	fixture
	: >"$_o.out"
	(PATH=$_path; export PATH; exec timeout 10 xenstore-watch -n 3 $T/c) \
		>>"$_o.out" 2>"$_o.err" &
	_pid=$!
	lxs_wait_lines "$_o.out" 1 || true
	$DEB/xenstore-write $T/c/d changed
	$DEB/xenstore-write $T/a unrelated
	$DEB/xenstore-rm $T/c/f/g
	wait $_pid
	echo $? >"$_o.rc"
}
watch_run deb
watch_run ours
if same_file watch rc && same_file watch out && same_file watch err; then
	ok "watch -n 3: initial event and two changes"
else
	fail "watch -n 3: initial event and two changes"
fi
same watch-n1		xenstore-watch -n 1 $T/a
same watch-two-paths	xenstore-watch -n 2 $T/a $T/b
same watch-n0		xenstore-watch -n 0 $T/a
same -E watch-usage	xenstore-watch

# --- deliberate differences ------------------------------------------------
ours help-exit0 0 "" xenstore-read -h
ours help-mode-exit0 0 "" xenstore ls -h
ours badopt-fails 1 "" xenstore-read -x $T/a
ours chmod-r-root 0 "" sh -c "xenstore-chmod -r $T n0 && xenstore-chmod -r / n0"
ours unknown-mode 1 "" xenstore bogus

# --- xenstore-control ------------------------------------------------------
same control-check	xenstore-control check
same control-help	xenstore-control help
same control-unknown	xenstore-control no-such-command
same control-usage	xenstore-control
same control-print	xenstore-control print tools-compare-marker
same control-live-update-missing	xenstore-control live-update /nonexistent

$DEB/xenstore-rm $T
lxs_done
