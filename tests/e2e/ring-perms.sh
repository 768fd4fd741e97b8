#!/usr/bin/env bash
# Permissions between guests on rings: a guest reads and writes only what
# its nodes' permissions allow it, sets permissions only on what it owns,
# never gives a node away, and gets no watch event for a node it may not
# read (nor @introduceDomain, which is dom0's).
. "$(dirname "$0")/ring-lib.sh"
ring_start

for d in 12 13; do
	raw "WRITE:/local/domain/$d\\0" "SET_PERMS:/local/domain/$d\\0n$d\\0r0\\0" \
		>/dev/null
	ring_guest $d
	check_eq "INTRODUCE $d" "INTRODUCE OK\\0" "$(ring_introduce $d)"
done

ring_check "12 writes its secret" 12 OK write data/secret s1
ring_check "13 cannot read it" 13 "ERROR EACCES" read /local/domain/12/data/secret
ring_check "13 cannot list 12's home" 13 "ERROR EACCES" ls /local/domain/12
ring_check "13 cannot write there" 13 "ERROR EACCES" write /local/domain/12/data/x y
ring_check "13 cannot create there" 13 "ERROR EACCES" mkdir /local/domain/12/new
ring_check "13 cannot remove there" 13 "ERROR EACCES" rm /local/domain/12/data/secret
ring_check "13 cannot change its permissions" 13 "ERROR EACCES" \
	setperms /local/domain/12/data/secret n13
ring_check "a relative path is 13's own" 13 "ERROR ENOENT" read data/secret
ring_check "nor does a missing node's existence leak" 13 "ERROR EACCES" \
	read /local/domain/12/data/nothing

ring_check "12 shares a node read-only" 12 OK write data/shared v1
ring_check "setperms n12,r13" 12 OK setperms data/shared n12,r13
ring_check "13 reads it" 13 v1 read /local/domain/12/data/shared
ring_check "13 cannot write it" 13 "ERROR EACCES" write /local/domain/12/data/shared v2
ring_check "12 lets 13 write too" 12 OK setperms data/shared n12,b13
ring_check "13 writes it" 13 OK write /local/domain/12/data/shared v2
ring_check "12 sees the write" 12 v2 read data/shared
ring_check "13 may not make itself the owner" 13 "ERROR EACCES" \
	setperms /local/domain/12/data/shared n13
ring_check "12 may not give its node away" 12 "ERROR EPERM" \
	setperms data/shared n13
ring_check "dom0's nodes are out of reach" 12 "ERROR EACCES" read /tool/xenstored

# Watches: events are filtered by read permission.
ring_check "13 watches 12's data" 13 OK watch /local/domain/12/data w
ring_check "initial event (not filtered)" 13 "EVENT /local/domain/12/data w" event
ring_check "13 watches @introduceDomain" 13 OK watch @introduceDomain i
ring_check "its initial event" 13 "EVENT @introduceDomain i" event
ring_check "12 writes its secret" 12 OK write data/secret s2
raw 'WRITE:/local/domain/14\0' >/dev/null
ring_guest 14
check_eq "INTRODUCE 14" "INTRODUCE OK\\0" "$(ring_introduce 14)"
ring_check "12 writes the shared node" 12 OK write data/shared v3
ring_check "13's next event: the shared node, not the secret nor 14" 13 \
	"EVENT /local/domain/12/data/shared w" event
lxs_done
