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

/* domain.c: the domain records of the handover message. */
void lu_encode_domains(const struct lu_state *st, Lxslu__Handover *m);
void lu_encode_domains_free(Lxslu__Handover *m);
void lu_decode_domains(const Lxslu__Handover *m, struct lu_state *st);

#endif
