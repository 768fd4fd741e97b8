#!/usr/bin/env bash
# bench/ring.sh [-n READS] [-g GUESTS] [-r ROUNDS]: guest round trips over
# shared-memory rings, on the fake Xen the ring tests use (no hypervisor).
#
# The production ./lxenstored runs with tests/fakexen preloaded; guests
# are tests/fakeguest processes, each a ring page and an event channel,
# timing READs of a node of its own one after the other ("bench N P": one
# request in flight, median/p99/max round trip in µs). Three measurements:
#
#   1. one guest alone;
#   2. GUESTS guests (default 100) at once, each timing READS/4 READs: the
#      median of their medians and the largest p99;
#   3. one guest flooding its ring (20,000 pipelined WRITEs at a time)
#      while another times its READs, in ROUNDS rounds (default 3) that
#      alternate a quiet run and a run during the flood: the measuring
#      guest's median round trip, quiet and flooded, and their ratio
#      (issue 4: under 2).
#
# Run from the build directory after `make check` (which builds the fake
# Xen and the test guest). Not part of make check: the figures depend on
# the machine. Prints one line per run, then a summary.
# shellcheck disable=SC2154 # RING_* variables come from ring-lib.sh
set -u

READS=2000
GUESTS=100
ROUNDS=3
while getopts "n:g:r:h" opt; do
	case $opt in
	n) READS=$OPTARG ;;
	g) GUESTS=$OPTARG ;;
	r) ROUNDS=$OPTARG ;;
	*) awk -f "$(dirname "$0")/usage.awk" "$0"; exit 2 ;;
	esac
done

top_builddir=$(pwd)
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
[ -x "$top_builddir/tests/fakeguest" ] ||
	{ echo "bench/ring.sh: run from a build directory after make check" >&2; exit 2; }
# shellcheck source=tests/e2e/ring-lib.sh
. "$top_srcdir/tests/e2e/ring-lib.sh"
ulimit -n 4096

# The median of a list of numbers.
med() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# The field after WORD in a fakeguest "bench" line.
field() { printf '%s\n' "$2" | awk -v w="$1" '{ for (i = 1; i < NF; i++) if ($i == w) print $(i + 1) }'; }

# setup D: the guest's home, its ring, INTRODUCE, a node to read.
setup() {
	raw "WRITE:/local/domain/$1\\0" "SET_PERMS:/local/domain/$1\\0n$1\\0" \
		>/dev/null
	ring_guest "$1" -t 60000
	[ "$(ring_introduce "$1")" = "INTRODUCE OK\\0" ] ||
		lxs_error "INTRODUCE $1 failed"
	ring_cmd "$1" write data/v "value-$1"
	[ "$RING_OUT" = OK ] || lxs_error "guest $1: write: $RING_OUT"
}

# shellcheck disable=SC2119 # no daemon arguments
ring_start
lxs_log "# lxenstored $("$top_builddir/lxenstored" --version 2>&1 | head -1), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

# --- 1. one guest ----------------------------------------------------------------
setup 10
ring_cmd 10 bench 200 data/v	# warm-up
ring_cmd 10 -w 120 bench "$READS" data/v
lxs_log "one guest: $RING_OUT"
ONE=$(field median_us "$RING_OUT")

# --- 2. many guests at once ----------------------------------------------------
first=101
last=$((first + GUESTS - 1))
for d in $(seq "$first" "$last"); do
	setup "$d"
done
per=$((READS / 4))
for d in $(seq "$first" "$last"); do
	eval "fd=\$RING_FD_$d seen=\$RING_SEEN_$d"
	printf 'bench %s data/v\n' "$per" >&"$fd"
	eval "RING_SEEN_$d=$((seen + 1))"
done
meds=
worst=0
for d in $(seq "$first" "$last"); do
	eval "seen=\$RING_SEEN_$d"
	lxs_wait_lines "$RING_DIR/out-$d" "$seen" 300 ||
		lxs_error "guest $d did not finish"
	line=$(sed -n "${seen}p" "$RING_DIR/out-$d")
	case $line in bench*) ;; *) lxs_error "guest $d: $line" ;; esac
	meds="$meds $(field median_us "$line")"
	p99=$(field p99_us "$line")
	[ "$p99" -gt "$worst" ] && worst=$p99
done
# shellcheck disable=SC2086 # a list of numbers
MANY=$(med $meds)
lxs_log "$GUESTS guests at once, $per READs each: median of medians ${MANY} us, largest p99 ${worst} us"

# --- 3. a flooding guest -----------------------------------------------------------
setup 20
setup 21
quiet=
loud=
for r in $(seq "$ROUNDS"); do
	ring_cmd 20 -w 120 bench "$READS" data/v
	q=$(field median_us "$RING_OUT")
	lxs_log "round $r, quiet:        $RING_OUT"
	eval "fd=\$RING_FD_21 seen=\$RING_SEEN_21"
	printf 'flood 20000 data/f\n' >&"$fd"
	RING_SEEN_21=$((seen + 1))
	sleep 0.02
	ring_cmd 20 -w 120 bench "$READS" data/v
	l=$(field median_us "$RING_OUT")
	lxs_log "round $r, during flood: $RING_OUT"
	lxs_wait_lines "$RING_DIR/out-21" "$RING_SEEN_21" 300 ||
		lxs_error "the flood did not finish"
	lxs_log "round $r, the flood:    $(sed -n "${RING_SEEN_21}p" "$RING_DIR/out-21")"
	quiet="$quiet $q"
	loud="$loud $l"
done
# shellcheck disable=SC2086 # lists of numbers
Q=$(med $quiet)
# shellcheck disable=SC2086
L=$(med $loud)

lxs_log "summary: one guest median ${ONE} us; $GUESTS guests median ${MANY} us (largest p99 ${worst} us); another guest's median ${Q} us quiet, ${L} us during a flood: ratio $(awk -v q="$Q" -v l="$L" 'BEGIN { printf "%.2f", (q > 0 ? l / q : 0) }')"
ok "bench done"
lxs_done
