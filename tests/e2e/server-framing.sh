#!/usr/bin/env bash
# Wire framing: oversized lengths, fragmented and pipelined input, reply
# order, payload size limits.
. "$(dirname "$0")/server-lib.sh"
lxs_start_own

# A connection that keeps working while another one sends a bad header:
# it writes, waits, then reads back over the same connection.
raw 'WRITE:/f\0one' sleep:1.5 'READ:/f\0' >"$LXS_TMP/a.out" 2>&1 &
a=$!
sleep 0.5
check_raw "len 5000 closes that connection" "EOF" 'READ,len=5000:/f\0'
check_raw "len 4097 closes that connection" "EOF" 'WRITE,len=4097:/f\0x'
check_raw "len 0xffffffff closes that connection" "EOF" 'READ,len=4294967295:'
wait $a
check_eq "the other connection kept working" "WRITE OK\0|READ one" \
	"$(tr '\n' '|' <"$LXS_TMP/a.out" | sed 's/|$//')"
if lxs_daemon_log 'message length 5000 > 4096'; then
	ok "the drop is logged"
else
	fail "no log line for the oversized message"
fi

# The biggest legal payload: 4096 bytes ("/big\0" + 4091 value bytes).
v=$(head -c 4091 /dev/zero | tr '\0' v)
check_raw "4096-byte payload accepted" "WRITE OK\0" "WRITE:/big\0$v"
check_raw "4096-byte value read back" "READ $v" 'READ:/big\0'

# A reply above 4096 bytes becomes E2BIG; DIRECTORY_PART still lists it.
name=$(head -c 60 /dev/zero | tr '\0' n)
specs=()
for i in $(seq 1 90); do
	specs+=("WRITE:/dir/$name$i\0")
done
raw "${specs[@]}" >/dev/null
check_raw "DIRECTORY reply above 4096 is E2BIG" "ERROR E2BIG\0" 'DIRECTORY:/dir\0'
part=$(raw 'DIRECTORY_PART:/dir\00\0')
case $part in
"DIRECTORY_PART "*"\0${name}1\0${name}2\0"*) ok "DIRECTORY_PART lists the start" ;;
*) fail "DIRECTORY_PART: ${part:0:200}" ;;
esac
[ ${#part} -le $((15 + 4096 * 2)) ] && ok "DIRECTORY_PART fits" ||
	fail "DIRECTORY_PART too long: ${#part}"

# Fragmented input (one byte per write) is reassembled.
check_raw "byte-by-byte input" "WRITE OK\0|READ frag|GET_DOMAIN_PATH /local/domain/3\0" \
	-s 'WRITE:/g\0frag' 'READ:/g\0' 'GET_DOMAIN_PATH:3\0'

# Pipelined requests: 500 in flight, answered in order with their ids.
check_raw "pipelined requests" "500x READ one" '500*READ:/f\0'
check_raw "replies echo req_id and tx_id in order" \
	"READ r7 t0 one|ERROR r8 t9 ENOENT\0|READ r9 t0 one" \
	-i 'READ,req=7:/f\0' 'READ,req=8,tx=9:/f\0' 'READ,req=9:/f\0'

# 600 requests in one write: more than the daemon dispatches per wake-up
# (64) and than one read-ahead holds (16 KiB); the rest must be answered
# although no new readiness event comes for bytes already read.
burst=$(timeout 20 "$LXS_PYTHON" - "$XENSTORED_PATH" <<'PY'
import socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.settimeout(10)
n = 600
s.sendall(b''.join(struct.pack('<IIII', 2, i, 0, 3) + b'/f\0'
                   for i in range(n)))
buf, got, ids = b'', 0, []
try:
    while got < n:
        while len(buf) >= 16 and len(buf) >= 16 + \
                struct.unpack('<IIII', buf[:16])[3]:
            t, r, x, l = struct.unpack('<IIII', buf[:16])
            ids.append(r)
            buf = buf[16 + l:]
            got += 1
        if got < n:
            buf += s.recv(65536)
except socket.timeout:
    pass
print(got, 'in order' if ids == list(range(n)) else 'out of order')
PY
)
check_eq "600 requests in one write are all answered" "600 in order" "$burst"

# Header and payload may arrive in separate writes far apart.
check_raw "slow header then payload" "READ one" -s 'READ:/f\0'

lxs_done
