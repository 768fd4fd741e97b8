/*
 * lxenstore-inspect state FILE: a live-update handover message, as the new
 * daemon keeps it in its state directory (liveupdate.state) after an
 * update: what the old daemon handed over besides the store, which is in
 * the snapshot and the log. Decoded by the daemon's own decoder
 * (liveupdate/msg.c, lu_decode without descriptors). Format:
 * docs/formats/liveupdate.md; output: lxenstore-inspect(1).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "liveupdate/liveupdate.h"
#include "tools/inspect.h"
#include "tools/xenstore-int.h"

/* Prints s escaped as xenstore-ls does (no control bytes on the screen). */
static void
state_str(const char *label, const char *s)
{
	char *e = cli_escape_str(s, strlen(s));

	printf("%s%s", label, e);
	free(e);
}

static void
state_txn(const struct store_txn_state *t)
{
	printf("    transaction %" PRIu32 ": %" PRIu32 " node(s) seen or "
	       "changed, %" PRIu32 " change(s)", t->id, t->nents, t->nops);
	if (t->doomed)
		printf(", doomed (its commit answers EAGAIN)");
	if (t->failed)
		printf(", failed (%s)", strerror(-t->failed));
	printf("\n");
}

static void
state_conn(const struct lu_conn *c)
{
	uint64_t out_bytes = 0;
	uint32_t replies = 0;

	for (uint32_t i = 0; i < c->nout; i++) {
		out_bytes += c->out[i].len;
		replies += c->out[i].reply;
	}
	printf("  connection %" PRIu32 ": ", c->id);
	if (c->ring)
		printf("ring of domain %" PRIu32, c->ring_domid);
	else
		printf("socket%s%s", c->readonly ? " (read-only)" : "",
		       c->early ? " (sent ahead)" : "");
	printf(", domain %" PRIu32 "%s", c->caller.domid,
	       c->caller.priv ? " (privileged)" : "");
	if (c->caller.target != LXS_DOMID_INVALID)
		printf(", target %" PRIu32, c->caller.target);
	printf(", features 0x%" PRIx32 "\n", c->features);
	printf("    input not handled: %" PRIu32 " byte(s); output queued: %"
	       PRIu32 " message(s), %" PRIu64 " byte(s), %" PRIu32
	       " repl%s\n", c->partial_len, c->nout, out_bytes, replies,
	       replies == 1 ? "y" : "ies");
	for (uint32_t i = c->nwatches; i-- > 0;) {
		const struct lu_watch *w = &c->watches[i];

		state_str("    watch ", w->wpath);
		state_str(" token ", w->token);
		if (w->depth >= 0)
			printf(" depth %d", w->depth);
		printf("\n");
	}
	for (uint32_t i = 0; i < c->ntxns; i++)
		state_txn(&c->txns[i]);
}

static void
state_domain(const struct lu_domain *d)
{
	printf("  domain %" PRIu32 ": %s", d->domid,
	       d->introduced ? "introduced" : "features only (not introduced)");
	if (d->priv)
		printf(", dom0's kernel ring");
	if (d->introduced && !d->priv)
		printf(", gfn 0x%" PRIx64 ", remote port %" PRIu32
		       ", local port %" PRIu32, d->gfn, d->remote_port,
		       d->local_port);
	printf(", features 0x%" PRIx32, d->features);
	if (d->target != LXS_DOMID_INVALID)
		printf(", target %" PRIu32, d->target);
	if (d->has_rd_cons)
		printf(", requests read up to %" PRIu32, d->rd_cons);
	if (d->shutdown)
		printf(", shut down");
	if (d->error)
		printf(", ring error %" PRIu32, d->error);
	printf(", %" PRIu64 " reset(s)\n", d->resets);
}

static void
state_print(const struct lu_state *st, size_t bytes)
{
	printf("handover message: version %" PRIu32 ", %zu bytes\n",
	       st->version, bytes);
	printf("log: written up to seq %" PRIu64 "; ", st->final_seq);
	if (st->wal_segment)
		state_str("the new daemon appends to ", st->wal_segment);
	else
		printf("the new daemon starts a new segment");
	printf("\n");
	if (st->access_log)
		state_str("access log: ", st->access_log);
	else
		printf("access log: none");
	printf(" (%s)\n", st->access_log_on ? "on" : "off");
	if (st->has_reply)
		printf("reply to the live-update request: connection %" PRIu32
		       ", req_id %" PRIu32 ", tx_id %" PRIu32 "\n",
		       st->reply_conn, st->reply_req_id, st->reply_tx_id);
	printf("connections: %" PRIu32 " (next id %" PRIu32 ")\n",
	       st->nconns, st->next_conn_id);
	for (uint32_t i = 0; i < st->nconns; i++)
		state_conn(&st->conns[i]);
	printf("domains: %" PRIu32 "\n", st->ndomains);
	for (uint32_t i = 0; i < st->ndomains; i++)
		state_domain(&st->domains[i]);
}

int
inspect_cmd_state(struct inspect *in, const struct inspect_point *at,
		  int argc, char **argv)
{
	struct lu_state st;
	struct buf data = { 0 };
	char *why = NULL;
	int rc;

	(void)in;
	(void)at;
	if (argc != 2)
		return inspect_usage("state");
	rc = inspect_read_all(argv[1], &data);
	if (rc < 0) {
		inspect_error("%s: %s", argv[1], strerror(-rc));
		return INSPECT_EXIT_FAIL;
	}
	lu_state_init(&st);
	rc = lu_decode_saved((const uint8_t *)data.data, data.len, &st, &why);
	if (rc < 0) {
		inspect_error("%s: not a live-update handover message: %s",
			      argv[1], why ? why : strerror(-rc));
		free(why);
		buf_free(&data);
		return INSPECT_EXIT_FAIL;
	}
	state_print(&st, data.len);
	lu_state_release(&st);
	buf_free(&data);
	return inspect_flush_stdout();
}
