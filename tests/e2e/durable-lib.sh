# shellcheck shell=bash disable=SC2034
# tests/e2e/durable-lib.sh: helpers of the durable-*.sh tests (sourced).
#
# Builds on lib.sh (ok/fail/check_*, lxs_stop, cleanup on exit). These
# tests stop and restart lxenstored on the same state directory, so they
# run the daemon themselves:
#   dur_init              scratch dir, socket, state dir, boot id "boot-1"
#   dur_start [ARGS...]   start ./lxenstored on them, wait until it answers
#   dur_kill              SIGKILL, as a crash
#   dur_stop              SIGTERM, checked like lxs_stop
#   dur_dump              the whole tree with perms, one node per line
#   dur_status            CONTROL status of the running daemon
#   dur_status_has RE     true if the status matches RE

# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

dur_init() {
	unset LXS_TEST_SOCKET
	lxs_need /usr/bin/xenstore-exists /usr/bin/xenstore-ls
	LXS_TMP=$(mktemp -d /tmp/lxs-test.XXXXXX) || lxs_error "mktemp failed"
	trap lxs_cleanup EXIT
	trap 'exit 1' INT TERM HUP
	LXS_TARGET=lxenstored
	export XENSTORED_PATH=$LXS_TMP/socket
	DUR_STATE=$LXS_TMP/state
	DUR_BOOT=$LXS_TMP/boot-id
	echo boot-1 >"$DUR_BOOT"
	DUR_D=${LXS_DAEMON:-$top_builddir/lxenstored}
	DUR_CTL=$top_builddir/xenstore-control
	[ -x "$DUR_D" ] || lxs_error "$DUR_D not built"
}

dur_start() {
	# shellcheck disable=SC2086 # LXS_DAEMON_ARGS is a list of words
	(cd "$LXS_TMP" && exec "$DUR_D" --foreground --state-dir "$DUR_STATE" \
		--boot-id-file "$DUR_BOOT" ${LXS_DAEMON_ARGS:-} "$@") \
		>>"$LXS_TMP/daemon.log" 2>&1 </dev/null &
	LXS_DAEMON_PID=$!
	_i=0
	while ! { [ -S "$XENSTORED_PATH" ] && lxs_answers; }; do
		if ! kill -0 "$LXS_DAEMON_PID" 2>/dev/null; then
			LXS_DAEMON_PID=
			tail -n 20 "$LXS_TMP/daemon.log"
			lxs_error "the daemon exited at start"
		fi
		_i=$((_i + 1))
		[ $_i -le 200 ] || lxs_error "the daemon did not answer within 20 s"
		sleep 0.1
	done
}

dur_kill() {
	kill -KILL "$LXS_DAEMON_PID" 2>/dev/null
	wait "$LXS_DAEMON_PID" 2>/dev/null
	LXS_DAEMON_PID=
}

dur_stop() {
	lxs_stop || fail "clean stop"
}

dur_dump() {
	/usr/bin/xenstore-ls -f -p / 2>&1
}

dur_status() {
	"$DUR_CTL" status 2>&1
}

dur_status_has() {
	dur_status | grep -q -E "$1"
}

# dur_wait_status RE [SECONDS]: waits until the status matches RE.
dur_wait_status() {
	_i=0
	while ! dur_status_has "$1"; do
		_i=$((_i + 1))
		[ $_i -le $((${2:-20} * 10)) ] || return 1
		sleep 0.1
	done
}

# Segment and snapshot files of the state directory.
dur_segments() { find "$DUR_STATE" -maxdepth 1 -name 'wal-*.log' | sort; }

# dur_seg_end SEGMENT: the offset just after its last record. A segment
# may go on in zeros (reserved or spare space) up to the end of the file,
# so damage meant for "the last record" must be placed from here, not
# from the file's size.
dur_seg_end() {
	"$LXS_PYTHON" - "$1" <<'EOF'
import struct, sys
d = open(sys.argv[1], "rb").read()
off, seq = 32, struct.unpack("<Q", d[16:24])[0]
while off + 28 <= len(d):
    n, s = struct.unpack("<I", d[off:off + 4])[0], struct.unpack("<Q", d[off + 8:off + 16])[0]
    if s != seq or off + 28 + n > len(d):
        break
    off += 28 + n
    seq += 1
print(off)
EOF
}
dur_snapshots() { find "$DUR_STATE" -maxdepth 1 -name 'snap-*.lxs' | sort; }
