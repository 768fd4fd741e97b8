#!/usr/bin/env bash
# bench/run.sh: lxenstored against Xen's cxenstored and oxenstored, side by
# side in one run on this machine, with bench/xsbench as the load.
#
#   bench/run.sh [-q] [-d SECS] [-r N] [-n KEYS] [-s SIZES] [-R RECORDS]
#                [-D DAEMONS] [-w WORKLOADS] [-o DIR]
#
# Daemons (-D, default all five): lx (lxenstored --sync=write, the
# default), lx-always (--sync=always), lx-none (--sync=none), cx (Xen 4.17
# C xenstored) and ox (oxenstored, without its access log), each on a
# private socket and state directory under the output directory. Xen's run
# through ../shared/anchors (set ANCHORS to move it).
#
# Phases, all in one run:
#   1. disk: write + fdatasync latency of the output directory's disk;
#   2. main: every workload of the matrix (below) against every daemon,
#      started once and prefilled with -n keys. For each workload the
#      daemons take turns, in an order that rotates with the workload and
#      the repetition, so slow drifts of the machine's load spread over all
#      of them; each run gets a warm-up, then -d measured seconds;
#   3. size: fresh lx, cx and ox grown to each of -s SIZES keys: RSS after
#      each step, then read and write at 1 and 8 clients (-r minus one
#      repetitions, at least one). cx is grown to
#      at most CX_MAX_KEYS (default 100000): Xen 4.17's C daemon spends time
#      per created node that grows with the tree (about 0.4 ms per node at
#      100,000), so 1,000,000 would take hours;
#   4. durability (lx only): snapshot of the largest size (daemon-reported
#      time, and the longest request latency of 8 clients meanwhile,
#      against the same load without a snapshot), then -R more log records
#      after that snapshot, and restart time (exec until the first answer,
#      and the CPU time the daemon used until then), three times; then a
#      restart from a snapshot alone.
#
# Output directory (-o, default /tmp/xsbench-DATE): results.tsv (one line
# per run: phase + xsbench's TSV), rss.tsv, durability.tsv, machine.txt,
# summary.md (tables, ratios and targets: bench/report.awk), daemon logs.
# The summary is printed at the end. Every daemon started is stopped on
# exit, whatever happens.
#
# -q: quick (about 3 minutes): -d 0.5 -r 1 -s "10000 100000" -R 100000.
# Environment: LXENSTORED (binary; default ./lxenstored of this tree, copied
# first, so a rebuild during the run changes nothing; xenstore-control is
# taken from the same directory), LXS_DESCRIBE (its version, for the
# summary; default: git describe there), XSBENCH, ANCHORS, CX_MAX_KEYS.
# shellcheck disable=SC2086 # word lists ($DAEMONS, specs) split on purpose
set -u
set -o pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
DUR=1
REPS=3
KEYS=10000
SIZES="10000 100000 1000000"
RECORDS=1000000
DAEMONS="lx lx-always lx-none cx ox"
ONLY=
OUT=/tmp/xsbench-$(date +%Y%m%d-%H%M%S)
CX_MAX_KEYS=${CX_MAX_KEYS:-100000}
ANCHORS=${ANCHORS:-$TOP/../shared/anchors}
XSB=${XSBENCH:-$TOP/bench/xsbench}
LXS_SRC=${LXENSTORED:-$TOP/lxenstored}

usage() {
	awk -f "$(dirname "$0")/usage.awk" "$0"
	exit 2
}

while getopts "qd:r:n:s:R:D:w:o:h" opt; do
	case $opt in
	q) DUR=0.5 REPS=1 SIZES="10000 100000" RECORDS=100000 ;;
	d) DUR=$OPTARG ;;
	r) REPS=$OPTARG ;;
	n) KEYS=$OPTARG ;;
	s) SIZES=$OPTARG ;;
	R) RECORDS=$OPTARG ;;
	D) DAEMONS=$OPTARG ;;
	w) ONLY=$OPTARG ;;
	o) OUT=$OPTARG ;;
	*) usage ;;
	esac
done
# The size phase repeats one time less: it is the slow one (growing the
# trees), and its question (flat or not) is answered by the ratio.
SIZE_REPS=$((REPS > 1 ? REPS - 1 : 1))

say() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { say "run.sh: $*"; exit 1; }

[ -x "$XSB" ] || die "$XSB not built (make bench/xsbench)"
[ -x "$LXS_SRC" ] || die "$LXS_SRC not built"
mkdir -p "$OUT/bin" "$OUT/d" || die "cannot create $OUT"
OUT=$(cd "$OUT" && pwd)
# Private copies: other people rebuild the tree while this runs.
cp "$LXS_SRC" "$OUT/bin/lxenstored" || die "copy $LXS_SRC"
cp "$(dirname "$LXS_SRC")/xenstore-control" "$OUT/bin/xenstore-control" ||
	die "copy xenstore-control"
cp "$XSB" "$OUT/bin/xsbench" || die "copy $XSB"
LXS=$OUT/bin/lxenstored
CTL=$OUT/bin/xenstore-control
XSB=$OUT/bin/xsbench

if [ ! -x "$ANCHORS/start-cxenstored.sh" ]; then
	say "no anchors in $ANCHORS: cx and ox are skipped"
	DAEMONS=$(printf '%s\n' $DAEMONS | grep -v -x -e cx -e ox | tr '\n' ' ')
fi

# --- daemons -------------------------------------------------------------------

declare -A PID SOCK KIND
STARTED=()

# start NAME [EXTRA LXENSTORED ARGS...]: a fresh daemon in $OUT/d/NAME.
start() {
	local name=$1 dir=$OUT/d/$1 kind pid ms
	shift
	rm -rf "$dir"
	mkdir -p "$dir"
	case $name in
	cx*)	kind=cx
		pid=$("$ANCHORS/start-cxenstored.sh" -d "$dir" 2>"$dir/start.err") ||
			die "$name: $(tail -3 "$dir/start.err")" ;;
	ox*)	kind=ox
		pid=$("$ANCHORS/start-oxenstored.sh" -d "$dir" -- --no-access-log \
			2>"$dir/start.err") || die "$name: $(tail -3 "$dir/start.err")" ;;
	lx*)	kind=lx
		local sync=write
		case $name in
		lx-always*) sync=always ;;
		lx-none*) sync=none ;;
		esac
		read -r pid ms < <("$XSB" -w start -s "$dir/socket" -d 60 \
			-f "$dir/daemon.log" -- env XENSTORED_PATH="$dir/socket" \
			"$LXS" -N --state-dir "$dir/state" --sync "$sync" "$@") ||
			true
		[ -n "${pid:-}" ] || die "$name: did not start: $(tail -3 "$dir/daemon.log")" ;;
	*)	die "unknown daemon $name" ;;
	esac
	PID[$name]=$pid
	SOCK[$name]=$dir/socket
	KIND[$name]=$kind
	STARTED+=("$name")
}

# Stops NAME and waits until it is gone.
stop() {
	local name=$1 pid=${PID[$1]:-} i=0
	[ -n "$pid" ] || return 0
	PID[$name]=
	if [ "${KIND[$name]}" = lx ]; then
		kill -TERM "$pid" 2>/dev/null
		while kill -0 "$pid" 2>/dev/null && [ $i -lt 300 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -KILL "$pid" 2>/dev/null
	else
		"$ANCHORS/stop-xenstored.sh" "$pid" 30 >/dev/null 2>&1
	fi
}

cleanup() {
	local n
	for n in "${STARTED[@]}"; do
		stop "$n"
	done
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

rss_kb() {
	awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status"
}

alive() {
	[ -n "${PID[$1]:-}" ] && kill -0 "${PID[$1]}" 2>/dev/null
}

# bench PHASE NAME XSBENCH-ARGS...: one run, appended to results.tsv.
bench() {
	local phase=$1 name=$2 line rc
	shift 2
	if ! alive "$name"; then
		say "$name is not running: skipped: $*"
		return 1
	fi
	line=$("$XSB" -t -l "$name" -P "${PID[$name]}" -s "${SOCK[$name]}" "$@" \
		2>>"$OUT/xsbench.err")
	rc=$?
	[ -n "$line" ] || { say "$name: xsbench $* failed (status $rc)"; return 1; }
	[ $rc -eq 0 ] || say "$name: xsbench $*: status $rc (see xsbench.err)"
	printf '%s\t%s\n' "$phase" "$line" >>"$OUT/results.tsv"
	printf '%s' "$line" | awk -F'\t' '{ printf " %s %.0f/s %s us/op", $1, $8, $13 }' >&2
}

# rotate I WORDS...: the words, starting at the (I mod count)-th.
rotate() {
	local i=$1
	shift
	local -a w=("$@")
	local n=${#w[@]} k
	for ((k = 0; k < n; k++)); do
		printf '%s ' "${w[$(((i + k) % n))]}"
	done
}

# --- machine ------------------------------------------------------------------------

{
	printf 'date\t%s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
	printf 'nproc\t%s\n' "$(nproc)"
	printf 'cpu\t%s\n' "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
	printf 'kernel\t%s\n' "$(uname -r)"
	printf 'memory\t%s MiB\n' "$(awk '/^MemTotal/ { print int($2 / 1024) }' /proc/meminfo)"
	printf 'disk\t%s\n' "$(df -T "$OUT" | awk 'NR == 2 { print $1 " (" $2 ")" }')"
	printf 'lxenstored\t%s\n' "${LXS_DESCRIBE:-$(git -C "$(dirname "$LXS_SRC")" describe --always --dirty 2>/dev/null || echo '?')} ($LXS_SRC)"
	printf 'xen\t%s\n' "$(dpkg-query -W -f='${Version}' xen-utils-4.17 2>/dev/null)"
	printf 'duration\t%s s measured per run, %s repetitions, %s keys\n' "$DUR" "$REPS" "$KEYS"
	printf 'load-before\t%s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
} >"$OUT/machine.txt"
printf 'phase\tlabel\tworkload\tclients\tdepth\tnodes\tsecs\tops\tops_per_s\tp50_us\tp99_us\tmax_us\tmax_at_s\tcpu_us_op\tdaemon_cpu_pct\tbench_cpu_us_op\treqs\terrors\tretries\tstat_cpu_us_op\n' \
	>"$OUT/results.tsv"
printf 'label\tkeys\tnodes\trss_kb\tbase_kb\n' >"$OUT/rss.tsv"
printf 'key\tvalue\n' >"$OUT/durability.tsv"
T0=$(date +%s)
say "results in $OUT"

# --- 1. disk ------------------------------------------------------------------------

say "disk: write + fdatasync latency"
"$XSB" -t -l disk -w fsync -f "$OUT/fsync.tmp" -d 2 |
	sed 's/^/disk\t/' >>"$OUT/results.tsv"

# --- 2. main matrix -----------------------------------------------------------------

# workload clients depth read-only
MATRIX="read 1 1 ro
read 8 1 ro
read 64 1 ro
read 1 16 ro
write 1 1 rw
write 8 1 rw
write 64 1 rw
write 1 16 rw
mixed 1 1 rw
mixed 8 1 rw
mixed 64 1 rw
crrm 1 1 rw
crrm 8 1 rw
crrm 64 1 rw
dir 1 1 ro
dir 8 1 ro
dir 64 1 ro
txn 1 1 rw
txn 8 1 rw
txn 64 1 rw
txn-contended 8 1 rw
txn-contended 64 1 rw
watch 100 8 rw
churn 1 1 ro
churn 8 1 ro
churn 64 1 ro"

if [ -n "$ONLY" ]; then
	MATRIX=$(printf '%s\n' "$MATRIX" | awk -v only=" $ONLY " 'index(only, " " $1 " ")')
fi

say "main: starting $DAEMONS, $KEYS keys each"
for d in $DAEMONS; do
	start "$d"
	"$XSB" -w prefill -s "${SOCK[$d]}" -n "$KEYS" >/dev/null ||
		die "$d: prefill failed"
done
# Read-only workloads do not depend on the sync mode: lx stands for all.
RO_DAEMONS=$(printf '%s\n' $DAEMONS | grep -v -x -e lx-always -e lx-none | tr '\n' ' ')

i=0
while read -r w c p kind; do
	[ -n "$w" ] || continue
	set -- $DAEMONS
	[ "$kind" = ro ] && set -- $RO_DAEMONS
	for ((rep = 0; rep < REPS; rep++)); do
		printf '%s %s c%s p%s #%s:' "$(date +%H:%M:%S)" "$w" "$c" "$p" "$rep" >&2
		for d in $(rotate $((i + rep)) "$@"); do
			bench main "$d" -w "$w" -c "$c" -p "$p" -n "$KEYS" -d "$DUR"
		done
		printf '\n' >&2
	done
	i=$((i + 1))
done <<<"$MATRIX"
for d in $DAEMONS; do
	stop "$d"
done

# --- 3. size: RSS per node, cost per request against tree size --------------------

SIZE_DAEMONS=$(printf '%s\n' $DAEMONS | grep -x -e lx -e cx -e ox | tr '\n' ' ')
if [ -n "$SIZES" ] && [ -n "$SIZE_DAEMONS" ]; then
	say "size: $SIZE_DAEMONS at $SIZES keys"
	declare -A BASE
	for d in $SIZE_DAEMONS; do
		start "$d-size"
		BASE[$d]=$(rss_kb "${PID[$d-size]}")
	done
	i=0
	for n in $SIZES; do
		todo=
		for d in $SIZE_DAEMONS; do
			if [ "$d" = cx ] && [ "$n" -gt "$CX_MAX_KEYS" ]; then
				say "size: cx not grown to $n keys (CX_MAX_KEYS=$CX_MAX_KEYS)"
				continue
			fi
			say "size: $d: growing to $n keys"
			bench prefill "$d-size" -w prefill -n "$n" >/dev/null ||
				{ say "$d: prefill to $n failed"; continue; }
			printf '\n' >&2
			keys=$(awk -F'\t' -v l="$d-size" -v n="$n" \
				'$1 == "prefill" && $2 == l && $6 == n { print $6 }' \
				"$OUT/results.tsv" | tail -1)
			[ -n "$keys" ] || continue
			# Keys, their directories (100 keys each), /bench,
			# /bench/n and /bench/n-count.
			nodes=$((n + (n + 99) / 100 + 3))
			printf '%s\t%s\t%s\t%s\t%s\n' "$d" "$n" "$nodes" \
				"$(rss_kb "${PID[$d-size]}")" "${BASE[$d]}" >>"$OUT/rss.tsv"
			todo="$todo $d-size"
		done
		for spec in "read 1" "read 8" "write 1" "write 8"; do
			set -- $spec
			for ((rep = 0; rep < SIZE_REPS; rep++)); do
				printf '%s size %s %s c%s #%s:' "$(date +%H:%M:%S)" "$n" "$1" "$2" "$rep" >&2
				for d in $(rotate $((i + rep)) $todo); do
					bench size "$d" -w "$1" -c "$2" -n "$n" -d "$DUR"
				done
				printf '\n' >&2
			done
			i=$((i + 1))
		done
	done
	for d in $SIZE_DAEMONS; do
		stop "$d-size"
	done
fi

# --- 4. durability: snapshot and restart of the largest tree -----------------------

dur() { printf '%s\t%s\n' "$1" "$2" >>"$OUT/durability.tsv"; }

# The status line "snapshot: seq N, X ms, idle|writing a new one".
snap_status() {
	XENSTORED_PATH=${SOCK[lx-dur]} "$CTL" status 2>/dev/null | grep '^snapshot:'
}

# Takes a snapshot now and waits until it is installed; prints its ms.
snap_take() {
	local before after i=0
	before=$(snap_status)
	XENSTORED_PATH=${SOCK[lx-dur]} "$CTL" snapshot >/dev/null || return 1
	while :; do
		after=$(snap_status)
		case $after in
		*idle*) [ "$after" != "$before" ] && break ;;
		esac
		i=$((i + 1))
		[ $i -lt 6000 ] || return 1
		sleep 0.02
	done
	printf '%s\n' "$after" | sed -E 's/.*, ([0-9]+) ms,.*/\1/'
}

BIG=0
for n in $SIZES; do
	[ "$n" -gt "$BIG" ] && BIG=$n
done
case " $DAEMONS " in *" lx "*) ;; *) BIG=0 ;; esac
if [ "$BIG" -gt 0 ]; then
	NOSNAP="--snapshot-records 0 --snapshot-log-bytes 0 --snapshot-interval 0"
	say "durability: lx with $BIG keys, automatic snapshots off"
	start lx-dur $NOSNAP
	"$XSB" -w prefill -s "${SOCK[lx-dur]}" -n "$BIG" >/dev/null || die "lx-dur: prefill"
	dur keys "$BIG"
	snap_take >/dev/null || die "lx-dur: first snapshot failed"

	# The same load without and with a snapshot being written.
	printf '%s snapshot latency:' "$(date +%H:%M:%S)" >&2
	bench dur-base lx-dur -w mixed -c 8 -n "$BIG" -d 4 -W 0.2
	"$XSB" -t -l lx-dur -P "${PID[lx-dur]}" -s "${SOCK[lx-dur]}" -w mixed -c 8 \
		-n "$BIG" -d 4 -W 0.2 >"$OUT/snap-run.tsv" 2>>"$OUT/xsbench.err" &
	load=$!
	sleep 1
	t0=$(date +%s%N)
	ms=$(snap_take)
	t1=$(date +%s%N)
	wait "$load"
	sed 's/^/dur-snap\t/' "$OUT/snap-run.tsv" >>"$OUT/results.tsv"
	printf ' with snapshot: max %s us\n' "$(cut -f11 "$OUT/snap-run.tsv")" >&2
	dur snapshot_ms "${ms:-?}"
	dur snapshot_wall_ms $(((t1 - t0) / 1000000))
	dur snapshot_file_bytes "$(find "$OUT/d/lx-dur/state" -name 'snap*' -type f -printf '%s\n' | sort -n | tail -1)"

	# Log records after the snapshot, then restarts.
	if [ "$RECORDS" -gt 0 ]; then
		snap_take >/dev/null || die "lx-dur: snapshot failed"
		say "durability: $RECORDS log records after the snapshot"
		bench dur-log lx-dur -w write -c 1 -p 16 -n "$BIG" -N "$RECORDS" -d 600 -W 0 >/dev/null
		printf '\n' >&2
	fi
	dur records "$RECORDS"
	dur status "$(XENSTORED_PATH=${SOCK[lx-dur]} "$CTL" status | grep -e '^log-seq' -e '^snapshot' | tr '\n' ';')"
	dur state_dir_bytes "$(du -sb "$OUT/d/lx-dur/state" | cut -f1)"
	rss=$(rss_kb "${PID[lx-dur]}")
	dur rss_before_restart_kb "$rss"
	for k in 1 2 3; do
		stop lx-dur
		read -r pid ms cpu < <("$XSB" -w start -s "${SOCK[lx-dur]}" -d 120 \
			-f "$OUT/d/lx-dur/daemon.log" -- env XENSTORED_PATH="${SOCK[lx-dur]}" \
			"$LXS" -N --state-dir "$OUT/d/lx-dur/state" $NOSNAP)
		[ -n "${pid:-}" ] || die "lx-dur: restart failed"
		PID[lx-dur]=$pid
		rec=$(XENSTORED_PATH=${SOCK[lx-dur]} "$CTL" status | sed -n 's/^recovery: //p')
		say "durability: restart $k: answered after $ms ms, $cpu ms CPU (recovery: $rec)"
		dur "restart_ms_$k" "$ms"
		dur "restart_cpu_ms_$k" "$cpu"
		dur "recovery_$k" "$rec"
	done
	dur rss_after_restart_kb "$(rss_kb "${PID[lx-dur]}")"
	n=$(XENSTORED_PATH=${SOCK[lx-dur]} /usr/bin/xenstore-read /bench/n-count 2>/dev/null)
	dur keys_after_restart "${n:-?}"
	# The same tree from a snapshot alone.
	snap_take >/dev/null || die "lx-dur: snapshot failed"
	stop lx-dur
	read -r pid ms cpu < <("$XSB" -w start -s "${SOCK[lx-dur]}" -d 120 \
		-f "$OUT/d/lx-dur/daemon.log" -- env XENSTORED_PATH="${SOCK[lx-dur]}" \
		"$LXS" -N --state-dir "$OUT/d/lx-dur/state" $NOSNAP)
	PID[lx-dur]=${pid:-}
	say "durability: restart from a snapshot only: $ms ms, $cpu ms CPU"
	dur restart_snapshot_only_ms "${ms:-?}"
	dur restart_snapshot_only_cpu_ms "${cpu:-?}"
	stop lx-dur
fi

# --- summary -----------------------------------------------------------------------

printf 'load-after\t%s\n' "$(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/machine.txt"
printf 'elapsed\t%s s\n' "$(($(date +%s) - T0))" >>"$OUT/machine.txt"
awk -F'\t' -f "$TOP/bench/report.awk" "$OUT/machine.txt" "$OUT/results.tsv" \
	"$OUT/rss.tsv" "$OUT/durability.tsv" >"$OUT/summary.md"
cat "$OUT/summary.md"
say "done in $(($(date +%s) - T0)) s; files in $OUT"
