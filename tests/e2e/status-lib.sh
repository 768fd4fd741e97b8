# shellcheck shell=bash
# tests/e2e/status-lib.sh: helpers of the status-*.sh tests (sourced after
# server-lib.sh or ring-lib.sh, which give XENSTORED_PATH).
#
#   st_ctl ARGS...          our xenstore-control
#   st_text ARGS...         CONTROL status ARGS as text
#   st_json ARGS...         CONTROL status --json ARGS
#   check_json NAME ARGS... checks that status --json ARGS is one object
#   jget JSON PATH          a field of JSON by dotted path (a.b.0.c):
#                           numbers and strings as they are, null as
#                           "null", true/false, objects as compact JSON;
#                           MISSING for an absent key, BAD-JSON
#   st_line TEXT NAME       the value of the line "NAME: value" of TEXT
#   st_wait_json PATH WANT ARGS...  waits (20 s at most) until the field
#                           of `status json ARGS` is WANT; 1 if never

ST_CTL=$top_builddir/xenstore-control
ST_PY=/usr/bin/python3
lxs_need "$ST_PY"

st_ctl() {
	"$ST_CTL" "$@"
}

st_text() {
	"$ST_CTL" status "$@" 2>&1
}

st_json() {
	"$ST_CTL" status --json "$@" 2>&1
}

check_json() {
	_n=$1
	shift
	_j=$(st_json "$@")
	if printf '%s' "$_j" | "$ST_PY" -c 'import json,sys; assert isinstance(json.load(sys.stdin), dict)' 2>/dev/null; then
		ok "$_n: one JSON object"
	else
		fail "$_n: not a JSON object: $_j"
	fi
}

jget() {
	printf '%s' "$1" | "$ST_PY" -c '
import json, sys
try:
    d = json.load(sys.stdin)
except ValueError:
    print("BAD-JSON")
    sys.exit(0)
for k in sys.argv[1].split("."):
    if isinstance(d, list):
        d = d[int(k)] if int(k) < len(d) else None
    elif isinstance(d, dict):
        d = d.get(k, "MISSING")
        if d == "MISSING":
            print("MISSING")
            sys.exit(0)
    else:
        d = None
if d is None:
    print("null")
elif isinstance(d, bool):
    print("true" if d else "false")
elif isinstance(d, (dict, list)):
    print(json.dumps(d, separators=(",", ":"), sort_keys=True))
else:
    print(d)
' "$2"
}

st_line() {
	printf '%s\n' "$1" | sed -n "s/^$2: //p" | head -1
}

st_wait_json() {
	_p=$1 _w=$2
	shift 2
	_i=0
	while [ "$(jget "$(st_json "$@")" "$_p")" != "$_w" ]; do
		_i=$((_i + 1))
		[ $_i -le 200 ] || return 1
		sleep 0.1
	done
}
