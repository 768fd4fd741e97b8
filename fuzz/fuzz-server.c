/*
 * fuzz-server: the daemon state of the harnesses that drive the server
 * (request-fuzzer, ring-fuzzer), without files: the log is --sync=none,
 * so records are counted and nothing is written, and nothing listens.
 * Linked only into those harnesses (the others do not link libserver).
 */
#include <stdlib.h>

#include "fuzz/fuzz-util.h"
#include "server/server-int.h"

void
fz_server_init(struct server *srv, const char *ident)
{
	static const struct durable_config dc = {
		.state_dir = "/nonexistent", .sync = DURABLE_SYNC_NONE,
		.boot_id_file = "/nonexistent",
	};
	struct store *unused = NULL;

	log_open(ident, getenv("LXS_FUZZ_LOG") != NULL);
	TAILQ_INIT(&srv->conns);
	TAILQ_INIT(&srv->busy);
	srv->sigfd = -1;
	FZ_ASSERT(durable_open(srv, &dc, &unused) == 0, "durable_open");
	/* Each input makes its own store. */
	store_free(unused);
}
