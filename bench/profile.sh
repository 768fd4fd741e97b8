#!/usr/bin/env bash
# bench/profile.sh: where lxenstored spends its time, for the "Hot spots"
# and "what limits each figure" parts of docs/BENCHMARKS.md.
#
#   bench/profile.sh [-d SECS] [-n KEYS] [-D DAEMONS] [-R KEYS] [-o DIR]
#
# 1. Syscalls per request: `strace -c -f` attached to each daemon (-D,
#    default "lx lx-always cx ox") during read and write at 1 and 8
#    clients. strace slows the daemon down many times, so only the counts
#    mean something here, not the times.
# 2. CPU profile: `perf record -e cpu-clock` (DWARF call graphs) on
#    lxenstored --sync=write and --sync=none during read and write at 8
#    clients (and dir, with --sync=write): the flat profile (self time
#    per function), the inclusive one (time in a function and what it
#    calls), and kernel vs user.
# 3. Restart profile: lxenstored with -R KEYS keys (default 1000000), a
#    snapshot, then as many log records after it; `perf record` of the
#    restart, from exec until the daemon answers. -R 0 skips it.
#
# Output in DIR (default /tmp/xsprofile-DATE): strace-*.txt, perf-*.txt
# (*.flat.txt, *.children.txt, *.dso.txt; *.data for perf report),
# syscalls.md (calls per request, by syscall). Every daemon is stopped on
# exit. Needs strace and perf (Debian: strace, linux-perf).
# shellcheck disable=SC2086 # word lists ($DAEMONS, specs) split on purpose
set -u
set -o pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
DUR=3
KEYS=10000
RKEYS=1000000
DAEMONS="lx lx-always cx ox"
OUT=/tmp/xsprofile-$(date +%Y%m%d-%H%M%S)
ANCHORS=${ANCHORS:-$TOP/../shared/anchors}
XSB=${XSBENCH:-$TOP/bench/xsbench}
LXS_SRC=${LXENSTORED:-$TOP/lxenstored}

while getopts "d:n:D:R:o:h" opt; do
	case $opt in
	d) DUR=$OPTARG ;;
	n) KEYS=$OPTARG ;;
	R) RKEYS=$OPTARG ;;
	D) DAEMONS=$OPTARG ;;
	o) OUT=$OPTARG ;;
	*) awk -f "$(dirname "$0")/usage.awk" "$0"; exit 2 ;;
	esac
done

say() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { say "profile.sh: $*"; exit 1; }

command -v strace >/dev/null || die "strace not found (apt-get install strace)"
command -v perf >/dev/null || die "perf not found (apt-get install linux-perf)"
[ -x "$XSB" ] || die "$XSB not built"
mkdir -p "$OUT/bin" "$OUT/d" || die "cannot create $OUT"
OUT=$(cd "$OUT" && pwd)
cp "$LXS_SRC" "$OUT/bin/lxenstored" || die "copy $LXS_SRC"
cp "$XSB" "$OUT/bin/xsbench" || die "copy $XSB"
cp "$(dirname "$LXS_SRC")/xenstore-control" "$OUT/bin/xenstore-control" ||
	die "copy xenstore-control"
LXS=$OUT/bin/lxenstored
XSB=$OUT/bin/xsbench
CTL=$OUT/bin/xenstore-control

declare -A PID SOCK KIND
STARTED=()

start() {
	local name=$1 dir=$OUT/d/$1 pid ms sync=write keys=${2:-$KEYS}
	shift
	[ $# -gt 0 ] && shift
	mkdir -p "$dir"
	case $name in
	cx)	KIND[$name]=cx
		pid=$("$ANCHORS/start-cxenstored.sh" -d "$dir" 2>"$dir/start.err") ||
			die "$name did not start" ;;
	ox)	KIND[$name]=ox
		pid=$("$ANCHORS/start-oxenstored.sh" -d "$dir" -- --no-access-log \
			2>"$dir/start.err") || die "$name did not start" ;;
	lx*)	KIND[$name]=lx
		case $name in
		lx-always) sync=always ;;
		lx-none) sync=none ;;
		esac
		read -r pid ms < <("$XSB" -w start -s "$dir/socket" -d 60 \
			-f "$dir/daemon.log" -- env XENSTORED_PATH="$dir/socket" \
			"$LXS" -N --state-dir "$dir/state" --sync "$sync" "$@")
		[ -n "${pid:-}" ] || die "$name did not start" ;;
	*)	die "unknown daemon $name" ;;
	esac
	PID[$name]=$pid
	SOCK[$name]=$dir/socket
	STARTED+=("$name")
	"$XSB" -w prefill -s "$dir/socket" -n "$keys" >/dev/null || die "$name: prefill"
}

stop() {
	local pid=${PID[$1]:-} i=0
	[ -n "$pid" ] || return 0
	PID[$1]=
	if [ "${KIND[$1]}" = lx ]; then
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

# report FILE-PREFIX: flat, inclusive and per-DSO reports of FILE-PREFIX.data.
report() {
	perf report -i "$1.data" --no-children --sort symbol --stdio \
		--percent-limit 0.5 -g none 2>/dev/null >"$1.flat.txt"
	perf report -i "$1.data" --children --sort symbol --stdio \
		--percent-limit 2 -g none 2>/dev/null >"$1.children.txt"
	perf report -i "$1.data" --no-children --sort dso --stdio \
		-g none 2>/dev/null >"$1.dso.txt"
}

TRACER=
cleanup() {
	local n
	[ -n "$TRACER" ] && kill -INT "$TRACER" 2>/dev/null
	for n in "${STARTED[@]}"; do
		stop "$n"
	done
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# --- 1. syscalls per request ----------------------------------------------------

printf '| daemon | workload | clients | requests | syscalls per request | top syscalls per request |\n' >"$OUT/syscalls.md"
printf '| --- | --- | --: | --: | --: | --- |\n' >>"$OUT/syscalls.md"
for d in $DAEMONS; do
	[ "$d" = cx ] || [ "$d" = ox ] || [ -x "$LXS" ] || continue
	start "$d"
	for spec in "read 1" "read 8" "write 1" "write 8"; do
		set -- $spec
		f=$OUT/strace-$d-$1-c$2.txt
		strace -c -f -q -p "${PID[$d]}" -o "$f" &
		TRACER=$!
		sleep 0.5
		line=$("$XSB" -t -s "${SOCK[$d]}" -w "$1" -c "$2" -n "$KEYS" -d "$DUR" -W 0)
		kill -INT "$TRACER"
		wait "$TRACER" 2>/dev/null
		TRACER=
		# Requests answered (column reqs); the few setup requests and
		# the drain are in the trace too, a fraction of a percent.
		reqs=$(printf '%s\n' "$line" | cut -f16)
		awk -v d="$d" -v w="$1" -v c="$2" -v r="$reqs" '
			# strace -c: % time, seconds, usecs/call, calls, [errors], syscall
			NF >= 5 && $1 ~ /^[0-9.]+$/ && $NF != "total" {
				top[++n] = $NF; cnt[n] = $4; total += $4
			}
			END {
				s = ""
				for (i = 1; i <= n; i++)
					for (j = i + 1; j <= n; j++)
						if (cnt[j] + 0 > cnt[i] + 0) {
							t = cnt[i]; cnt[i] = cnt[j]; cnt[j] = t
							t = top[i]; top[i] = top[j]; top[j] = t
						}
				for (i = 1; i <= n && i <= 5; i++)
					s = s sprintf("%s %.2f; ", top[i], cnt[i] / r)
				printf "| %s | %s | %s | %d | %.2f | %s |\n", d, w, c, r, total / r, s
			}' "$f" >>"$OUT/syscalls.md"
		say "strace $d $1 c$2: $(tail -1 "$OUT/syscalls.md")"
	done
	stop "$d"
done

# --- 2. perf profiles of lxenstored -----------------------------------------------

for d in lx lx-none; do
	start "$d"
	works="write read"
	# Listing a directory is where lx trails cx most (docs/BENCHMARKS.md).
	[ "$d" = lx ] && works="$works dir"
	for w in $works; do
		f=$OUT/perf-$d-$w
		"$XSB" -s "${SOCK[$d]}" -w "$w" -c 8 -n "$KEYS" -d $((DUR + 2)) -W 0 \
			-P "${PID[$d]}" >"$f.xsbench" &
		load=$!
		sleep 0.5
		# DWARF unwinding: the daemon is built without frame pointers,
		# and the inclusive time of its own functions is what tells
		# which of them cause the kernel time.
		perf record -q -e cpu-clock -F 2000 --call-graph dwarf,16384 \
			-p "${PID[$d]}" -o "$f.data" -- sleep "$DUR" 2>"$f.err"
		wait "$load"
		report "$f"
		say "perf $d $w: $(grep -c '%' "$f.flat.txt") lines in $f.flat.txt"
	done
	stop "$d"
done

# --- 3. restart ----------------------------------------------------------------------

if [ "$RKEYS" -gt 0 ]; then
	NOSNAP="--snapshot-records 0 --snapshot-log-bytes 0 --snapshot-interval 0"
	say "restart: $RKEYS keys, a snapshot, $RKEYS log records"
	start lx-restart "$RKEYS" $NOSNAP
	XENSTORED_PATH=${SOCK[lx-restart]} "$CTL" snapshot >/dev/null || die "snapshot"
	while XENSTORED_PATH=${SOCK[lx-restart]} "$CTL" status | grep -q '^snapshot:.*writing'; do
		sleep 0.1
	done
	"$XSB" -s "${SOCK[lx-restart]}" -w write -p 16 -n "$RKEYS" -N "$RKEYS" -d 600 \
		-W 0 >/dev/null || die "log records"
	stop lx-restart
	f=$OUT/perf-lx-restart
	dir=$OUT/d/lx-restart
	# perf follows xsbench's child, the daemon, until xsbench saw it answer.
	perf record -q -e cpu-clock -F 1000 --call-graph dwarf,8192 -o "$f.data" -- \
		"$XSB" -w start -s "$dir/socket" -d 300 -f "$dir/daemon.log" -- \
		env XENSTORED_PATH="$dir/socket" "$LXS" -N --state-dir "$dir/state" \
		$NOSNAP >"$f.start" 2>"$f.err"
	read -r pid ms cpu <"$f.start"
	PID[lx-restart]=${pid:-}
	say "restart: answered after ${ms:-?} ms, ${cpu:-?} ms CPU (under perf)"
	stop lx-restart
	report "$f"
fi

cat "$OUT/syscalls.md"
for f in "$OUT"/perf-*.flat.txt; do
	b=${f%.flat.txt}
	printf '\n== %s: where the samples are\n' "$(basename "$b")"
	grep '%' "$b.dso.txt" | grep -v '^#' | head -5
	printf -- '-- self time, top 25\n'
	grep '%' "$f" | grep -v '^#' | head -25
	printf -- '-- inclusive time, lxenstored functions\n'
	grep '%' "$b.children.txt" | grep -v '^#' | grep '\[\.\]' | head -20
done
say "files in $OUT"
