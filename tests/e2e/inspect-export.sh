#!/usr/bin/env bash
# lxenstore-inspect export --json and import --json: the document is valid
# JSON with text values as strings and binary ones in base64; an import
# into an empty directory is a state lxenstored starts from, holding the
# same tree and quotas; export of that state gives the same document; and
# import refuses what it cannot take. Also `state`, which is not supported.
. "$(dirname "$0")/inspect-lib.sh"
dur_init
lxs_need /usr/bin/xenstore-write /usr/bin/xenstore-chmod /usr/bin/xenstore-rm
[ -x "$LXS_PYTHON" ] || lxs_skip "$LXS_PYTHON not found"

dur_start --snapshot-records 10
ins_fixture
for i in $(seq 1 15); do /usr/bin/xenstore-write "/ex/k$i" "$i"; done
"$DUR_CTL" quota set nodes 3000 >/dev/null || fail "quota set"
/usr/bin/xenstore-ls -fp >"$LXS_TMP/orig"
dur_stop

insd export --json >"$LXS_TMP/a.json"
check_eq "export: exit 0" 0 $?
# shellcheck disable=SC2016 # Python, not shell
"$LXS_PYTHON" - "$LXS_TMP/a.json" >"$LXS_TMP/py" 2>&1 <<'EOF'
import base64, json, sys
d = json.load(open(sys.argv[1]))
n = {x["path"]: x for x in d["nodes"]}
def val(p):
    x = n[p]
    return base64.b64decode(x["value_base64"]) if "value_base64" in x else x["value"].encode()
assert d["format"] == "lxenstore-inspect" and d["version"] == 1
assert val("/fx/esc") == b"x\x01y\ttab\\back\x7f\xff\n", val("/fx/esc")
assert "value_base64" in n["/fx/esc"] and "value_base64" in n["/fx/nul"]
assert val("/fx/nul") == b"a\x00b"
assert n["/fx/utf8"]["value"] == "caf\u00e9"
assert n["/fx/b"]["perms"] == ["n0", "r5", "w6"]
assert n["/local/domain/5"]["perms"] == ["b5", "r0"]
assert "/fx/gone" not in n and "@introduceDomain" in n
assert {"name": "nodes", "value": 3000} in d["quotas"]
print("ok")
EOF
check_eq "the JSON parses, with text, base64, perms and quotas" ok \
	"$(tail -n 1 "$LXS_TMP/py")"

imported=$LXS_TMP/imported
check_rc "import into a new directory" 0 \
	ins import --json "$LXS_TMP/a.json" --state-dir "$imported" \
	--boot-id-file "$DUR_BOOT"
check_eq "...writes one snapshot and the boot id" "boot-id snap" \
	"$(find "$imported" -type f -printf '%f\n' | sed 's/-[0-9a-f]*\.lxs//' |
	sort | lxs_join)"
check_rc "the import verifies clean" 0 ins --state-dir "$imported" verify
ins --state-dir "$imported" export --json >"$LXS_TMP/b.json"
cmp -s "$LXS_TMP/a.json" "$LXS_TMP/b.json" &&
	ok "export of the import is the same document" ||
	fail "$(diff "$LXS_TMP/a.json" "$LXS_TMP/b.json" | head -5)"

# The daemon starts from it.
DUR_STATE=$imported
dur_start
/usr/bin/xenstore-ls -fp >"$LXS_TMP/after"
cmp -s "$LXS_TMP/orig" "$LXS_TMP/after" &&
	ok "lxenstored started from the import holds the same tree" ||
	fail "tree differs: $(diff "$LXS_TMP/orig" "$LXS_TMP/after" | head -5)"
"$DUR_CTL" quota >"$LXS_TMP/q" 2>&1
grep -q -E 'nodes[^0-9]*3000' "$LXS_TMP/q" && ok "...and the same quotas" ||
	fail "quotas: $(cat "$LXS_TMP/q")"
/usr/bin/xenstore-write /ex/after 1 && ok "...and goes on writing" ||
	fail "write after import"
dur_stop
check_eq "the new record follows the imported seq" \
	"$(($(sed -n 's/^  "seq": \([0-9]*\),$/\1/p' "$LXS_TMP/a.json") + 1))" \
	"$(last_seq)"

# What import refuses.
check_rc "import into a directory that is not empty: exit 1" 1 \
	ins import --json "$LXS_TMP/a.json" --state-dir "$imported"
grep -q "not empty" "$LXS_TMP/out" && ok "...saying so" ||
	fail "message: $(cat "$LXS_TMP/out")"
printf '{"format": "lxenstore-inspect", "version": 1,\n "nodes": [\n {"path": "/x", "value": "1", "perms": ["n0"]},\n {"path": "/y" "perms": []}]}\n' \
	>"$LXS_TMP/bad.json"
check_rc "malformed JSON: exit 1" 1 \
	ins import --json "$LXS_TMP/bad.json" --state-dir "$LXS_TMP/i2"
grep -q "bad.json: line 4: expected" "$LXS_TMP/out" &&
	ok "...with the line" || fail "message: $(cat "$LXS_TMP/out")"
[ ! -e "$LXS_TMP/i2" ] && ok "...and nothing written" || fail "i2 was created"
printf '{"format": "lxenstore-inspect", "version": 1, "nodes": [{"path": "/a/b", "value": "", "perms": ["n0"]}]}' \
	>"$LXS_TMP/orphan.json"
check_rc "a node before its parent: exit 1" 1 \
	ins import --json "$LXS_TMP/orphan.json" --state-dir "$LXS_TMP/i3"
grep -q "parent" "$LXS_TMP/out" && ok "...saying why" ||
	fail "message: $(cat "$LXS_TMP/out")"
echo '{"nodes": []}' >"$LXS_TMP/other.json"
check_rc "a JSON document of another kind: exit 1" 1 \
	ins import --json "$LXS_TMP/other.json" --state-dir "$LXS_TMP/i4"
printf '{"format": "lxenstore-inspect", "version": 1, "nodes": [{"path": "/", "value": "", "perms": ["n0"]}, {"path": "/u", "value": "\\u00e9\\ud83d\\ude00\\n", "perms": ["b0"]}, {"path": "/v", "value_base64": "AP8=", "perms": ["n0", "r1"]}]}' \
	>"$LXS_TMP/hand.json"
check_rc "a hand-written document with escapes" 0 \
	ins import --json "$LXS_TMP/hand.json" --state-dir "$LXS_TMP/i5" \
	--boot-id-file "$DUR_BOOT"
check_eq "...decodes \\u escapes and surrogate pairs" \
	"$(printf '\303\251\360\237\230\200\n')" \
	"$(ins --state-dir "$LXS_TMP/i5" read -R /u)"
check_eq "...and base64" "$(printf '\000\377' | od -An -tx1)" \
	"$(ins --state-dir "$LXS_TMP/i5" read -R /v | od -An -tx1)"
check_rc "export needs --json" 2 insd export

check_rc "state FILE of something else: exit 1" 1 ins state "$LXS_TMP/a.json"
check_eq "...with one clear line" \
	"lxenstore-inspect: $LXS_TMP/a.json: not a live-update handover message: the handover message does not decode" \
	"$(cat "$LXS_TMP/out")"

lxs_done
