/*
 * op-watch: WATCH, UNWATCH, RESET_WATCHES.
 *
 *   WATCH          wpath\0token\0[depth\0]   depth: decimal >= 0, needs the
 *                                            WATCHDEPTH feature (sockets
 *                                            have it; rings unless
 *                                            SET_FEATURE took it away)
 *   UNWATCH        wpath\0token\0
 *   RESET_WATCHES  payload ignored
 *
 * The initial event of a WATCH ("wpath as given\0token\0") follows its ack
 * immediately and is not permission-filtered, as in both Xen daemons.
 */
#include <errno.h>
#include <limits.h>

#include "server/server-int.h"

int
op_watch(struct op_req *r)
{
	const char *argv[3];
	unsigned long depth;
	int n, rc;

	n = op_args(r, 2, 3, argv);
	if (n < 0)
		return n;
	if (n == 3 && (parse_uint(argv[2], INT_MAX, &depth) < 0 ||
		       !(r->c->features & XENSTORE_SERVER_FEATURE_WATCHDEPTH)))
		return -EINVAL;
	rc = store_watch(r->c->sc, argv[0], argv[1], n == 3 ? (int)depth : -1);
	if (rc < 0)
		return rc;
	domain_log_watch(r->c, true, argv[0], argv[1],
			 n == 3 ? (int)depth : -1);
	op_reply_str(r, "OK");
	op_reply_now(r);
	conn_event(r->c, argv[0], argv[1]);
	return 0;
}

int
op_unwatch(struct op_req *r)
{
	const char *argv[2];
	int n, rc;

	n = op_args(r, 2, 2, argv);
	if (n < 0)
		return n;
	rc = store_unwatch(r->c->sc, argv[0], argv[1]);
	if (rc < 0)
		return rc;
	domain_log_watch(r->c, false, argv[0], argv[1], -1);
	op_reply_str(r, "OK");
	return 0;
}

int
op_reset_watches(struct op_req *r)
{
	struct domain *d = ring_conn_domain(r->c);

	store_reset_watches(r->c->sc);
	conn_txn_clear(r->c);
	if (d)
		domain_log_watches_gone(d);
	op_reply_str(r, "OK");
	return 0;
}
