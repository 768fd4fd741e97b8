/*
 * dispatch: the request table and the checks every request goes through.
 *
 * Order of checks, as in cxenstored: unknown or client-illegal type (ENOSYS),
 * privilege and the read-only socket (EACCES), the header tx_id (ENOENT
 * unless it names an open transaction of this connection), then the
 * handler. A handler returns 0 with its answer in r->reply, or -errno,
 * which goes out as XS_ERROR "E<NAME>\0" echoing req_id and tx_id.
 */
#include <errno.h>
#include <string.h>

#include "server/server-int.h"

#define OP(type, fn, fl) [type] = { #type + 3, fn, fl }

static const struct op_entry op_table[LXS_TYPE_COUNT] = {
	OP(XS_CONTROL, op_control, OP_PRIV | OP_MUTATES),
	OP(XS_DIRECTORY, op_directory, 0),
	OP(XS_READ, op_read, 0),
	OP(XS_GET_PERMS, op_get_perms, 0),
	OP(XS_WATCH, op_watch, OP_ANY_TX),
	OP(XS_UNWATCH, op_unwatch, OP_ANY_TX),
	OP(XS_TRANSACTION_START, op_transaction_start, OP_ANY_TX),
	OP(XS_TRANSACTION_END, op_transaction_end, 0),
	OP(XS_INTRODUCE, op_introduce, OP_PRIV | OP_MUTATES),
	OP(XS_RELEASE, op_release, OP_PRIV | OP_MUTATES),
	OP(XS_GET_DOMAIN_PATH, op_get_domain_path, 0),
	OP(XS_WRITE, op_write, OP_MUTATES | OP_LOGGED),
	OP(XS_MKDIR, op_mkdir, OP_MUTATES | OP_LOGGED),
	OP(XS_RM, op_rm, OP_MUTATES | OP_LOGGED),
	OP(XS_SET_PERMS, op_set_perms, OP_MUTATES | OP_LOGGED),
	OP(XS_IS_DOMAIN_INTRODUCED, op_is_domain_introduced, OP_PRIV),
	OP(XS_RESUME, op_resume, OP_PRIV | OP_MUTATES),
	OP(XS_SET_TARGET, op_set_target, OP_PRIV | OP_MUTATES),
	OP(XS_RESET_WATCHES, op_reset_watches, 0),
	OP(XS_DIRECTORY_PART, op_directory_part, 0),
	OP(XS_GET_FEATURE, op_get_feature, 0),
	OP(XS_SET_FEATURE, op_set_feature, OP_PRIV | OP_MUTATES),
	OP(XS_GET_QUOTA, op_get_quota, OP_PRIV),
	OP(XS_SET_QUOTA, op_set_quota, OP_PRIV | OP_MUTATES),
};

const struct op_entry *
dispatch_lookup(uint32_t type)
{
	if (type >= LXS_ARRAY_SIZE(op_table) || op_table[type].handler == NULL)
		return NULL;
	return &op_table[type];
}

static int
dispatch_check(const struct conn *c, const struct op_entry *op,
	       const struct xsd_sockmsg *hdr)
{
	if (op == NULL)
		return -ENOSYS;
	if ((op->flags & OP_PRIV) && !store_conn_caller(c->sc)->priv)
		return -EACCES;
	if ((op->flags & OP_MUTATES) && (c->flags & CONN_READONLY))
		return -EACCES;
	if (!(op->flags & OP_ANY_TX) && hdr->tx_id != 0 &&
	    !conn_txn_is_open(c, hdr->tx_id))
		return c->restored ? -EAGAIN : -ENOENT;
	/* Outside a transaction the change is logged at once: refuse it
	 * before it is made if the log cannot take it. */
	if ((op->flags & OP_LOGGED) && hdr->tx_id == 0)
		return durable_check(c->srv->dur);
	return 0;
}

void
dispatch_message(struct conn *c, const struct xsd_sockmsg *hdr,
		 const char *payload)
{
	const struct op_entry *op = dispatch_lookup(hdr->type);
	struct op_req r = {
		.c = c, .srv = c->srv, .hdr = hdr,
		.payload = payload, .len = hdr->len,
	};
	int rc;

	if (log_access_enabled())
		log_access_msg(c->id, "IN", hdr, payload);
	rc = dispatch_check(c, op, hdr);
	if (rc == 0)
		rc = op->handler(&r);
	stats_request(c, rc);
	if (rc < 0)
		conn_error(c, hdr, -rc);
	else if (!r.replied)
		op_reply_now(&r);
	buf_free(&r.reply);
}

int
op_args(const struct op_req *r, unsigned int min, unsigned int max,
	const char **argv)
{
	uint32_t tail;
	unsigned int n;

	n = wire_split(r->payload, r->len, argv, max, &tail);
	if (tail != 0 || n < min || n > max)
		return -EINVAL;
	return (int)n;
}

void
op_reply_now(struct op_req *r)
{
	conn_reply(r->c, r->hdr, r->hdr->type, r->reply.data, r->reply.len);
	r->replied = true;
}

void
op_reply_str(struct op_req *r, const char *s)
{
	buf_add_str0(&r->reply, s);
}

int
op_parse_domid(const char *s, uint32_t *out)
{
	unsigned long v;
	int rc;

	rc = parse_uint(s, 65535, &v);
	if (rc < 0)
		return rc;
	*out = (uint32_t)v;
	return 0;
}
