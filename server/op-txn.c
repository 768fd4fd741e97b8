/*
 * op-txn: TRANSACTION_START and TRANSACTION_END.
 *
 *   START  payload ignored; header tx_id must be 0 (an open transaction of
 *          this connection: EBUSY, anything else: ENOENT). Reply: the new
 *          id in decimal, NUL-terminated.
 *   END    "T\0" commits, "F\0" aborts, anything else is EINVAL and leaves
 *          the transaction open. Header tx_id 0: ENOENT. Once the store has
 *          been asked, the transaction is gone whatever it answers.
 *
 * The connection mirrors the ids it holds open (conn_txn_*), so that every
 * request, store-backed or not, can check its header tx_id (dispatch.c).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "server/server-int.h"

int
op_transaction_start(struct op_req *r)
{
	uint32_t id;
	int rc;

	if (r->hdr->tx_id != 0)
		return conn_txn_is_open(r->c, r->hdr->tx_id) ? -EBUSY
							     : -ENOENT;
	rc = store_txn_start(r->c->sc, &id);
	if (rc < 0)
		return rc;
	conn_txn_add(r->c, id);
	buf_printf(&r->reply, "%u", id);
	buf_add(&r->reply, "", 1);
	return 0;
}

int
op_transaction_end(struct op_req *r)
{
	const char *arg;
	uint32_t nops;
	bool commit;
	int rc;

	if (op_args(r, 1, 1, &arg) < 0)
		return -EINVAL;
	if (strcmp(arg, "T") == 0)
		commit = true;
	else if (strcmp(arg, "F") == 0)
		commit = false;
	else
		return -EINVAL;
	if (r->hdr->tx_id == 0)
		return -ENOENT;
	/* A commit the log cannot take fails whole, and ends the
	 * transaction like any failed commit. */
	rc = 0;
	if (commit && store_txn_changes(r->c->sc, r->hdr->tx_id, &nops) == 0 &&
	    nops)
		rc = durable_check(r->srv->dur);
	if (rc < 0)
		(void)store_txn_end(r->c->sc, r->hdr->tx_id, false);
	else
		rc = store_txn_end(r->c->sc, r->hdr->tx_id, commit);
	conn_txn_del(r->c, r->hdr->tx_id);
	if (rc == 0)
		op_reply_str(r, "OK");
	return rc;
}
