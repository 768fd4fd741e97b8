#!/usr/bin/env bash
# A full disk: the change that cannot be logged is refused with ENOSPC
# before it is applied, reads go on, nothing logged is damaged, and changes
# work again once there is room. The state directory is a 2 MiB tmpfs in a
# private mount namespace (needs root and unshare).
if [ -z "${DUR_IN_NS:-}" ]; then
	if ! command -v unshare >/dev/null || ! unshare -m true 2>/dev/null; then
		. "$(dirname "$0")/lib.sh"
		lxs_skip "needs root and unshare -m"
	fi
	DUR_IN_NS=1 exec unshare -m --propagation private bash "$0" "$@"
fi
. "$(dirname "$0")/durable-lib.sh"
dur_init
mkdir -p "$DUR_STATE"
mount -t tmpfs -o size=2m tmpfs "$DUR_STATE" || lxs_skip "cannot mount a tmpfs"

ARGS="--log-segment-size 262144 --snapshot-records 0 --snapshot-log-bytes 0"
# shellcheck disable=SC2086
dur_start $ARGS
val=$(printf '%01500d' 0)
acked=0
for i in $(seq 1 3000); do
	if xenstore-write /f/k$i "$val" 2>"$LXS_TMP/err"; then
		acked=$i
	else
		break
	fi
done
[ "$acked" -gt 10 ] && [ "$acked" -lt 3000 ] &&
	ok "writes are refused once the disk is full (after $acked)" ||
	fail "acked $acked writes"
check_eq "the refusal is ENOSPC" "ERROR ENOSPC\\0" \
	"$("$top_builddir/tests/rawclient" "$XENSTORED_PATH" "WRITE:/f/x\\0$val" 2>&1)"
check_rc "the refused write was not applied" 1 xenstore-read /f/k$((acked + 1))
check_eq "reads go on" "$val" "$(xenstore-read /f/k$acked 2>&1)"
check_rc "directory listings go on" 0 xenstore-list /f
dur_status_has 'log-state: ok' && ok "the log itself is healthy" ||
	fail "status: $(dur_status)"

# Room again: the file system grows (as when an administrator frees space).
n_ok=0
mount -o remount,size=8m "$DUR_STATE" || fail "remount"
for i in $(seq $((acked + 1)) $((acked + 20))); do
	xenstore-write /f/k$i "$val" 2>/dev/null && n_ok=$((n_ok + 1))
done
check_eq "writes work again once there is room" 20 "$n_ok"
last=$((acked + 20))
dur_kill
# shellcheck disable=SC2086
dur_start $ARGS
miss=0
for i in $(seq 1 "$last"); do
	xenstore-exists /f/k$i 2>/dev/null || miss=$((miss + 1))
done
check_eq "after a crash every acknowledged write is there" 0 "$miss"
dur_stop
umount "$DUR_STATE" 2>/dev/null
lxs_done
