#!/bin/bash
# dev.sh: the two developer entry points of lxenstored (Debian 12, as root).
#
#   ./dev.sh run    install what is missing, build, (re)start a demo daemon
#                   on ./run/socket with a small host-like tree, show it
#   ./dev.sh test   install what is missing, then the full test run:
#                   -Werror build + make check, ASan/UBSan build + make
#                   check, make distcheck; non-zero exit on any failure
#
# Both only touch this checkout (and /tmp for test sockets); apt-get runs
# only when a package is missing.
set -u
set -o pipefail

cd "$(dirname "$0")" || exit 1
TOP=$(pwd)
RUN=$TOP/run
JOBS=${JOBS:-2}

PACKAGES="build-essential autoconf automake libtool pkg-config libxen-dev
libprotobuf-c-dev protobuf-c-compiler zlib1g-dev check xenstore-utils
xen-utils-4.17 python3-pyxs procps"

say() { printf '==> %s\n' "$*"; }
die() { printf 'dev.sh: %s\n' "$*" >&2; exit 1; }

usage() {
	cat <<EOF
usage: ./dev.sh run | test

  run    build and (re)start a demo lxenstored on $RUN/socket,
         seeded with a host-like tree; then: export XENSTORED_PATH=$RUN/socket
  test   -Werror build + make check, ASan/UBSan build + make check,
         make distcheck (what CI runs)
EOF
	exit 2
}

# --- packages -----------------------------------------------------------------

deps_install() {
	missing=
	for p in $PACKAGES; do
		st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)
		case $st in
		*" installed") ;;
		*) missing="$missing $p" ;;
		esac
	done
	if [ -z "$missing" ]; then
		say "Debian packages: all present"
		return 0
	fi
	say "installing missing Debian packages:$missing"
	[ "$(id -u)" = 0 ] || die "missing packages:$missing (run as root, or install them)"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q || die "apt-get update failed"
	# shellcheck disable=SC2086 # a list of package names
	apt-get install -q -y --no-install-recommends $missing ||
		die "apt-get install failed"
}

# --- in-tree build ---------------------------------------------------------------

# Runs a build step quietly into a log; shows the log's tail if it fails.
logged() {
	log=$1
	shift
	if "$@" >"$log" 2>&1; then
		return 0
	fi
	echo "--- last lines of $log:"
	tail -n 40 "$log"
	return 1
}

# build_tree [CONFIGURE_FLAGS...]: autogen if needed, configure when the
# tree is unconfigured or was configured with other flags, then make.
build_tree() {
	mkdir -p "$RUN"
	if [ ! -x configure ] || [ configure.ac -nt configure ] ||
	   [ Makefile.am -nt configure ]; then
		say "autogen.sh"
		logged "$RUN/autogen.log" ./autogen.sh || return 1
	fi
	want="$*"
	have=
	[ -f config.status ] && have=$(./config.status --config 2>/dev/null | tr -d "'")
	if [ ! -f Makefile ] || [ "$want" != "$have" ]; then
		say "./configure $want"
		logged "$RUN/configure.log" ./configure "$@" || return 1
	fi
	say "make -j$JOBS"
	logged "$RUN/make.log" make -j"$JOBS" || return 1
}

# --- run -------------------------------------------------------------------------

# True if PID is a running lxenstored.
is_lxenstored() {
	[ -n "$1" ] && kill -0 "$1" 2>/dev/null &&
		case $(readlink "/proc/$1/exe" 2>/dev/null) in
		*/lxenstored|*/lxenstored" (deleted)") true ;;
		*) false ;;
		esac
}

demo_stop() {
	pid=$(cat "$RUN/lxenstored.pid" 2>/dev/null)
	if is_lxenstored "$pid"; then
		say "stopping the previous demo daemon (pid $pid)"
		kill -TERM "$pid"
		for _ in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
	fi
	rm -f "$RUN/lxenstored.pid"
}

demo_start() {
	export XENSTORED_PATH=$RUN/socket
	mkdir -p "$RUN/state"
	# The demo's persistent state (once the daemon keeps one) is run/state.
	state=
	if ./lxenstored --help 2>&1 | grep -q -e '--state-dir'; then
		state=--state-dir=$RUN/state
	fi
	say "starting ./lxenstored on $XENSTORED_PATH"
	# shellcheck disable=SC2086 # empty or one word
	(cd "$RUN/state" && exec setsid "$TOP/lxenstored" --foreground $state) \
		>"$RUN/lxenstored.log" 2>&1 </dev/null &
	pid=$!
	echo "$pid" >"$RUN/lxenstored.pid"
	for _ in $(seq 100); do
		if ! kill -0 "$pid" 2>/dev/null; then
			cat "$RUN/lxenstored.log"
			die "lxenstored exited at start (log: $RUN/lxenstored.log)"
		fi
		/usr/bin/xenstore-exists / 2>/dev/null && return 0
		sleep 0.1
	done
	die "lxenstored does not answer on $XENSTORED_PATH (log: $RUN/lxenstored.log)"
}

# A host as a toolstack leaves it: dom0, one guest with a network card
# (frontend in the guest's tree, backend in dom0's), the guest's /vm entry.
demo_seed() {
	uuid=6f1c2a3e-9b4d-4e8a-a1f0-3c5d7e9b2a41
	mac=00:16:3e:5a:12:01
	d0=/local/domain/0 d1=/local/domain/1
	fe=$d1/device/vif/0 be=$d0/backend/vif/1/0
	/usr/bin/xenstore-write \
		$d0/name Domain-0 \
		$d0/domid 0 \
		$d1/name guest1 \
		$d1/domid 1 \
		$d1/vm /vm/$uuid \
		$fe/backend $be \
		$fe/backend-id 0 \
		$fe/state 4 \
		$fe/handle 0 \
		$fe/mac $mac \
		$be/frontend $fe \
		$be/frontend-id 1 \
		$be/online 1 \
		$be/state 4 \
		$be/script /etc/xen/scripts/vif-bridge \
		$be/mac $mac \
		$be/bridge xenbr0 \
		$be/handle 0 \
		$be/type vif \
		/vm/$uuid/name guest1 \
		/vm/$uuid/uuid $uuid || return 1
	# dom0 owns the guest's home and /vm entry, which the guest may read;
	# the guest owns its frontend (dom0, the backend, may read it); dom0
	# owns the backend, which the guest may read.
	/usr/bin/xenstore-chmod -r $d1 n0 r1 &&
	/usr/bin/xenstore-chmod -r $d1/device n1 r0 &&
	/usr/bin/xenstore-chmod -r $d0/backend/vif/1 n0 r1 &&
	/usr/bin/xenstore-chmod -r /vm/$uuid n0 r1
}

cmd_run() {
	deps_install || exit 1
	flags=
	# Keep the flags of an earlier ./dev.sh test build (-Werror) if any.
	[ -f config.status ] && flags=$(./config.status --config | tr -d "'")
	# shellcheck disable=SC2086 # configure flags
	build_tree $flags || die "build failed"
	[ -x ./lxenstored ] || die "./lxenstored was not built"
	demo_stop
	demo_start
	demo_seed || die "seeding the demo tree failed"
	echo
	say "xenstore-ls (Debian's xenstore-utils, on $XENSTORED_PATH):"
	/usr/bin/xenstore-ls
	cat <<EOF

lxenstored is running: pid $(cat "$RUN/lxenstored.pid"), log $RUN/lxenstored.log
Point Xen's clients at it (xenstore-utils, Xen's own tools, pyxs):

  export XENSTORED_PATH=$RUN/socket
  xenstore-ls -p /local/domain/1
  /usr/lib/xen-4.17/bin/xenstore-control check

A read-only socket is at $RUN/socket_ro. ./dev.sh run again rebuilds and
restarts it; kill \$(cat run/lxenstored.pid) stops it.
EOF
}

# --- test ------------------------------------------------------------------------

STEPS=()
RESULTS=()
FAILED=0

# step NAME COMMAND...: runs one step, records its result and duration.
step() {
	name=$1
	shift
	say "$name"
	t0=$(date +%s)
	TOTALS=
	if "$@"; then
		r=passed
	else
		r=FAILED
		FAILED=1
	fi
	STEPS+=("$name")
	RESULTS+=("$r ($(( $(date +%s) - t0 )) s)${TOTALS:+, tests: $TOTALS}")
	say "$name: $r"
}

# Test counts of a test-suite.log, e.g. "40 pass, 0 skip, 0 fail".
totals() {
	awk '/^# (PASS|SKIP|FAIL|ERROR|XPASS):/ {
		n[$2] = $3
	} END {
		printf "%d pass, %d skip, %d fail", n["PASS:"], n["SKIP:"],
			n["FAIL:"] + n["ERROR:"] + n["XPASS:"]
	}' "$1" 2>/dev/null
}

skip_step() {
	STEPS+=("$1")
	RESULTS+=("not run ($2)")
	FAILED=1
}

# Prints the log of every test that failed since STAMP (find's PATHS
# narrow where to look; default: the whole tree).
show_failed() {
	_stamp=$1
	shift
	find . "$@" -name '*.trs' -newer "$_stamp" 2>/dev/null | sort |
	while IFS= read -r trs; do
		if grep -q -E '^:test-result: (FAIL|ERROR|XPASS)' "$trs"; then
			echo "--- ${trs%.trs}.log"
			cat "${trs%.trs}.log"
		fi
	done
}

# make check, printing the log of every failing test.
make_check() {
	if make -j"$JOBS" check; then
		return 0
	fi
	show_failed "$1"
	return 1
}

werror_check() {
	stamp=$RUN/.check-start
	touch "$stamp"
	rm -f test-suite.log
	build_tree --enable-werror || return 1
	make_check "$stamp"
	rc=$?
	TOTALS=$(totals test-suite.log)
	return $rc
}

# The sanitizer build is out of tree in build-asan/. A source directory
# configured in place cannot also host an out-of-tree build (automake
# refuses, and make would pick up the in-tree objects), so it is built from
# the source tarball: build-asan/lxenstored-<version>/build.
asan_check() {
	rm -rf build-asan
	mkdir -p build-asan
	logged "$RUN/dist.log" make dist || return 1
	distdir=$(sed -n 's/^PACKAGE_TARNAME = //p' Makefile)-$(sed -n 's/^PACKAGE_VERSION = //p' Makefile)
	tar -xzf "$distdir.tar.gz" -C build-asan || return 1
	src=build-asan/$distdir
	mkdir -p "$src/build"
	(
		cd "$src/build" || exit 1
		say "../configure --enable-werror --enable-asan (in $src/build)"
		logged "$RUN/asan-configure.log" \
			../configure --enable-werror --enable-asan || exit 1
		say "make -j$JOBS"
		logged "$RUN/asan-make.log" make -j"$JOBS" || exit 1
		touch .check-start
		make_check .check-start
	)
	rc=$?
	TOTALS=$(totals "$src/build/test-suite.log")
	return $rc
}

# make distcheck; on failure, the logs of the tests that failed in its
# build tree (automake leaves it in place when distcheck fails).
distcheck() {
	stamp=$RUN/.distcheck-start
	touch "$stamp"
	if make -j"$JOBS" distcheck; then
		return 0
	fi
	show_failed "$stamp" -path './lxenstored-*/_build/*'
	return 1
}

cmd_test() {
	t_start=$(date +%s)
	deps_install || exit 1
	export LXS_TEST_STRICT=1	# a missing Xen client fails, never skips
	# Tests start private daemons; never let them reach a daemon named by
	# the caller's environment (e.g. the demo of ./dev.sh run).
	unset XENSTORED_PATH XENSTORED_RUNDIR LXS_TEST_SOCKET
	export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
	export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
	mkdir -p "$RUN"

	step "-Werror build and make check" werror_check
	if [ -f Makefile ]; then
		step "ASan+UBSan build and make check (build-asan/)" asan_check
		step "make distcheck" distcheck
	else
		skip_step "ASan+UBSan build and make check (build-asan/)" "no configured tree"
		skip_step "make distcheck" "no configured tree"
	fi

	echo
	echo "=== ./dev.sh test summary ($(( $(date +%s) - t_start )) s)"
	i=0
	while [ $i -lt ${#STEPS[@]} ]; do
		printf '  %-50s %s\n' "${STEPS[$i]}" "${RESULTS[$i]}"
		i=$((i + 1))
	done
	if [ $FAILED -ne 0 ]; then
		echo "=== FAILED"
		exit 1
	fi
	echo "=== all passed"
}

case ${1:-} in
run)	cmd_run ;;
test)	cmd_test ;;
*)	usage ;;
esac
