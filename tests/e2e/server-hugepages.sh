#!/usr/bin/env bash
# The daemon's heap on transparent huge pages (server/hugepages.c), when
# asked with LXS_HUGE_PAGES=1: at start it executes itself once more, same
# pid, with glibc's malloc told to advise huge pages
# (GLIBC_TUNABLES=glibc.malloc.hugetlb=1), so that the fork of a snapshot
# child is shorter. By default (and with any other value) it does not, and
# a GLIBC_TUNABLES of the caller's is kept.
#
# Seen from outside: the heap mapping's VmFlags in /proc/PID/smaps carry
# "hg" (MADV_HUGEPAGE). A sanitizer build has its own allocator, which
# ignores the tunable: there only the environment is checked. glibc cuts
# /proc/PID/environ's GLIBC_TUNABLES after the first tunable it parsed
# (the process itself still sees all of them).
. "$(dirname "$0")/server-lib.sh"
lxs_valgrind && lxs_skip_mode "huge pages are off under valgrind"

thp=/sys/kernel/mm/transparent_hugepage/enabled
if ! [ -r "$thp" ] || grep -q '\[never\]' "$thp"; then
	lxs_skip "transparent huge pages are off here ($(cat "$thp" 2>/dev/null))"
fi
unset LXS_HUGE_PAGES GLIBC_TUNABLES

# first_tunable: the first tunable of the daemon's GLIBC_TUNABLES.
first_tunable() {
	tr '\0' '\n' <"/proc/$LXS_DAEMON_PID/environ" |
		sed -n 's/^GLIBC_TUNABLES=//p'
}

# advised: mappings of the daemon with MADV_HUGEPAGE, or "asan".
advised() {
	if grep -q -e libasan -e libubsan "/proc/$LXS_DAEMON_PID/maps"; then
		echo asan
	else
		awk '/^VmFlags:/ && / hg/ { n++ } END { print n + 0 }' \
			"/proc/$LXS_DAEMON_PID/smaps"
	fi
}

# check_advised NAME YES|NO
check_advised() {
	_n=$(advised)
	if [ "$_n" = asan ]; then
		ok "$1: not judged (sanitizer allocator)"
	elif [ "$2" = YES ] && [ "$_n" -gt 0 ]; then
		ok "$1: $_n mapping(s) advised MADV_HUGEPAGE"
	elif [ "$2" = NO ] && [ "$_n" -eq 0 ]; then
		ok "$1: no mapping advised MADV_HUGEPAGE"
	else
		fail "$1: $_n mapping(s) advised MADV_HUGEPAGE"
	fi
}

# restart: a fresh daemon (and directory) with the current environment.
restart() {
	lxs_stop || fail "the daemon stopped badly"
	rm -rf "$LXS_TMP"
	lxs_start_own
}

lxs_start_own
check_eq "by default: no exec, no tunable" "" "$(first_tunable)"
check_advised "by default, the heap" NO

export LXS_HUGE_PAGES=1
restart
check_eq "LXS_HUGE_PAGES=1: the tunable, in the daemon started (same pid)" \
	"glibc.malloc.hugetlb=1" "$(first_tunable)"
check_advised "LXS_HUGE_PAGES=1, the heap" YES
v=$(head -c 200 /dev/zero | tr '\0' v)
raw "5000*WRITE:/hp/n\0$v" >/dev/null
check_eq "it serves as usual" "READ $v" "$(raw 'READ:/hp/n\0')"
lxs_log "# AnonHugePages: $(awk '/^AnonHugePages/ { s += $2 } END { print s }' \
	"/proc/$LXS_DAEMON_PID/smaps") kB"

export GLIBC_TUNABLES=glibc.malloc.tcache_count=3
restart
check_eq "a caller's GLIBC_TUNABLES comes first" \
	"glibc.malloc.tcache_count=3" "$(first_tunable)"
check_advised "and the tunable is added" YES

export GLIBC_TUNABLES=glibc.malloc.hugetlb=0
restart
check_eq "a caller who set it decides" "glibc.malloc.hugetlb=0" \
	"$(first_tunable)"
check_advised "hugetlb=0" NO

unset GLIBC_TUNABLES
export LXS_HUGE_PAGES=0
restart
check_eq "LXS_HUGE_PAGES=0: no exec" "" "$(first_tunable)"
check_advised "LXS_HUGE_PAGES=0" NO
lxs_done
