#!/usr/bin/env bash
# lxenstore-inspect log: one line per operation of the records the daemon
# wrote (a transaction is one record: its lines share a seq), quota
# records, and every filter: --path, --domain, --from/--to, --since/--until.
# Also across rotated segments, from segment files given one by one, and
# on a damaged log.
. "$(dirname "$0")/inspect-lib.sh"
dur_init
lxs_need /usr/bin/xenstore-write /usr/bin/xenstore-chmod /usr/bin/xenstore-rm

# ops ARGS...: the log without the seq and time columns.
ops() { insd log "$@" | cut -d' ' -f3-; }

dur_start --log-segment-size 4096 --snapshot-records 0
first=$(($(last_seq) + 1))
/usr/bin/xenstore-write /lg/a 12345
/usr/bin/xenstore-write /lg/b x /lg/c yy
sleep 0.05
mid=$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)
sleep 0.05
/usr/bin/xenstore-chmod /lg/a n0 r5
/usr/bin/xenstore-rm /lg
"$DUR_CTL" quota set nodes 2000 >/dev/null || fail "quota set"

want="0 PUT /lg 0
0 PUT /lg/a 5
0 PUT /lg/b 1
0 PUT /lg/c 2
0 PUT /lg/a 5
0 DEL /lg -
- QUOTA nodes 2000"
check_eq "the operations, in order" "$want" "$(ops --from "$first")"
insd log --from "$first" >"$LXS_TMP/log"
grep -q -v -E '^[0-9]+ [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z (-|[0-9]+) (PUT|DEL|QUOTA) [^ ]+ ([0-9]+|-)$' \
	"$LXS_TMP/log" && fail "a line is not SEQ TIME DOMAIN OP PATH SIZE" ||
	ok "every line is SEQ TIME DOMAIN OP PATH SIZE"
check_eq "a transaction is one record (one seq)" 1 \
	"$(grep -E ' /lg/(b|c) ' "$LXS_TMP/log" | cut -d' ' -f1 | sort -u | wc -l)"
check_eq "a write and its implicit parent are one record" 1 \
	"$(grep -E 'PUT /lg(/a)? ' "$LXS_TMP/log" | head -2 | cut -d' ' -f1 | sort -u | wc -l)"
seqs=$(cut -d' ' -f1 "$LXS_TMP/log" | uniq | lxs_join)
check_eq "records are numbered without gaps" \
	"$(seq "$first" $((first + 4)) | lxs_join)" "$seqs"

check_eq "--path: the node, and the removal of an ancestor" \
	"0 PUT /lg/a 5
0 PUT /lg/a 5
0 DEL /lg -" "$(ops --path /lg/a)"
check_eq "--path is component-wise" "" "$(ops --path /l)"
check_eq "--from/--to" "0 PUT /lg/b 1
0 PUT /lg/c 2" "$(ops --from $((first + 1)) --to $((first + 1)))"
check_eq "--until a time" "0 PUT /lg 0
0 PUT /lg/a 5
0 PUT /lg/b 1
0 PUT /lg/c 2" "$(ops --from "$first" --until "$mid")"
check_eq "--since a time" "0 PUT /lg/a 5
0 DEL /lg -
- QUOTA nodes 2000" "$(ops --since "$mid")"
check_eq "--domain 0 (the socket's domain; not the global quota)" 6 \
	"$(ops --from "$first" --domain 0 | wc -l)"
check_out "--domain of a domain that changed nothing" "" insd log --domain 7
check_rc "a bad --from: exit 2" 2 insd log --from abc
check_rc "a bad --since: exit 2" 2 insd log --since yesterday
check_rc "an operand: exit 2" 2 insd log /lg

# Many records over several segments.
for i in $(seq 1 60); do
	/usr/bin/xenstore-write "/seg/k$i" "$(printf '%0100d' "$i")"
done
nseg=$(dur_segments | wc -l)
[ "$nseg" -ge 2 ] && ok "the log spans $nseg segments" || fail "$nseg segments"
check_eq "every write is listed across segments" 60 \
	"$(insd log --path /seg | grep -c ' PUT /seg/k')"
dur_stop
# shellcheck disable=SC2046 # one argument per segment
ins $(dur_segments) log >"$LXS_TMP/files"
insd log >"$LXS_TMP/dir"
cmp -s "$LXS_TMP/files" "$LXS_TMP/dir" && ok "segment files given one by one" ||
	fail "the log of the files differs"
mv "$(dur_segments | tail -n 1)" "$LXS_TMP/renamed.log"
check_rc "a renamed segment is refused" 1 ins "$LXS_TMP/renamed.log" log
grep -q "must keep its name" "$LXS_TMP/out" && ok "...saying why" ||
	fail "message: $(cat "$LXS_TMP/out")"
mv "$LXS_TMP/renamed.log" "$DUR_STATE/"

# A damaged record: the lines before it, then an error naming it.
seg=$(dur_segments | head -n 1)
flip "$seg" 40
check_rc "a damaged log: exit 1" 1 insd log
grep -q -E "^lxenstore-inspect: .*$(basename "$seg"): offset 32: " "$LXS_TMP/out" &&
	ok "...naming the file and the offset" || fail "message: $(cat "$LXS_TMP/out")"

lxs_done
