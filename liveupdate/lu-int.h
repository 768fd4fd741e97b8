/*
 * lu-int: what the files of liveupdate/ share and nobody else sees.
 */
#ifndef LXS_LU_INT_H
#define LXS_LU_INT_H

#include "liveupdate/liveupdate.h"
#include "liveupdate/liveupdate.pb-c.h"

/* txn.c: open transactions in the handover message. */
void lu_txn_release(struct store_txn_state *t);
/* Fills m's txns from c (pointing into c); free with lu_encode_txns_free. */
void lu_encode_txns(const struct lu_conn *c, Lxslu__Conn *m);
void lu_encode_txns_free(Lxslu__Conn *m);
/* Copies m's txns into c. -EINVAL for an op without a path or perms. */
int lu_decode_txns(const Lxslu__Conn *m, struct lu_conn *c);

#endif
