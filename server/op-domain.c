/*
 * op-domain: domain requests, features and quotas.
 *
 *   GET_DOMAIN_PATH       domid\0              "/local/domain/<domid>\0"
 *   IS_DOMAIN_INTRODUCED  domid\0              "T\0" / "F\0"
 *   INTRODUCE             domid\0gfn\0port\0
 *   RELEASE, RESUME       domid\0
 *   SET_TARGET            domid\0tdomid\0
 *   GET_FEATURE           [domid\0]            decimal bits + NUL
 *   SET_FEATURE           domid\0bits\0
 *   GET_QUOTA             [[domid\0]name\0]    names, or decimal + NUL
 *   SET_QUOTA             [domid\0]name\0value\0
 *
 * domids are strict decimal 0..65535. Until guest rings exist, the only
 * introduced domain is 0 (the socket clients): INTRODUCE validates its
 * arguments and answers ENOSYS, RELEASE/RESUME answer EINVAL for domain 0
 * and ENOENT for any other, SET_TARGET ENOENT. A quota name may carry the
 * "soft-" prefix (memory only). An empty single argument ("\0", as
 * libxenstore sends it) counts as no argument. A domain is known to GET_QUOTA
 * and CONTROL quota when the store has usage or quota overrides for it.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "server/server-int.h"

#define OP_SOFT_PREFIX "soft-"

/* op_args, with "\0" meaning no argument. */
static int
op_domain_args(struct op_req *r, unsigned int max, const char **argv)
{
	if (r->len == 0 || (r->len == 1 && r->payload[0] == '\0'))
		return 0;
	return op_args(r, 1, max, argv);
}

static int
op_one_domid(struct op_req *r, uint32_t *domid)
{
	const char *arg;

	if (op_args(r, 1, 1, &arg) < 0)
		return -EINVAL;
	return op_parse_domid(arg, domid);
}

struct op_domain_probe {
	uint32_t domid;
	bool found;
};

static void
op_domain_probe(void *arg, uint32_t domid)
{
	struct op_domain_probe *p = arg;

	if (domid == p->domid)
		p->found = true;
}

bool
op_domain_known(struct server *srv, uint32_t domid)
{
	struct op_domain_probe probe = { domid, false };

	store_foreach_domain(srv->store, op_domain_probe, &probe);
	return probe.found;
}

static bool
op_domain_is_introduced(uint32_t domid)
{
	return domid == 0 || domid == LXS_DOMID_SELF;
}

int
op_get_domain_path(struct op_req *r)
{
	uint32_t domid;
	int rc;

	rc = op_one_domid(r, &domid);
	if (rc < 0)
		return rc;
	buf_printf(&r->reply, "/local/domain/%u", domid);
	buf_add(&r->reply, "", 1);
	return 0;
}

int
op_is_domain_introduced(struct op_req *r)
{
	uint32_t domid;
	int rc;

	rc = op_one_domid(r, &domid);
	if (rc < 0)
		return rc;
	op_reply_str(r, op_domain_is_introduced(domid) ? "T" : "F");
	return 0;
}

int
op_introduce(struct op_req *r)
{
	const char *argv[3];
	unsigned long gfn, port;
	uint32_t domid;

	if (op_args(r, 3, 3, argv) < 0 ||
	    op_parse_domid(argv[0], &domid) < 0 ||
	    parse_uint(argv[1], ULONG_MAX, &gfn) < 0 ||
	    parse_uint(argv[2], UINT32_MAX, &port) < 0 || port == 0)
		return -EINVAL;
	/* Guest rings come with the ring transport. */
	return -ENOSYS;
}

static int
op_release_like(struct op_req *r)
{
	uint32_t domid;
	int rc;

	rc = op_one_domid(r, &domid);
	if (rc < 0)
		return rc;
	return domid == 0 ? -EINVAL : -ENOENT;
}

int
op_release(struct op_req *r)
{
	return op_release_like(r);
}

int
op_resume(struct op_req *r)
{
	return op_release_like(r);
}

int
op_set_target(struct op_req *r)
{
	const char *argv[2];
	uint32_t domid, tdomid;

	if (op_args(r, 2, 2, argv) < 0 ||
	    op_parse_domid(argv[0], &domid) < 0 ||
	    op_parse_domid(argv[1], &tdomid) < 0)
		return -EINVAL;
	return -ENOENT;
}

int
op_get_feature(struct op_req *r)
{
	const char *arg;
	uint32_t domid;
	int n;

	n = op_domain_args(r, 1, &arg);
	if (n < 0)
		return n;
	if (n == 1) {
		if (!store_conn_caller(r->c->sc)->priv)
			return -EACCES;
		if (op_parse_domid(arg, &domid) < 0)
			return -EINVAL;
		if (domid != 0)
			return -ENOENT;
	}
	buf_printf(&r->reply, "%u", SERVER_SOCKET_FEATURES);
	buf_add(&r->reply, "", 1);
	return 0;
}

int
op_set_feature(struct op_req *r)
{
	const char *argv[2];
	unsigned long bits;
	uint32_t domid;

	if (op_args(r, 2, 2, argv) < 0 ||
	    op_parse_domid(argv[0], &domid) < 0 ||
	    parse_uint(argv[1], UINT32_MAX, &bits) < 0 ||
	    (bits & ~(unsigned long)SERVER_KNOWN_FEATURES) != 0)
		return -EINVAL;
	/* Features are fixed at INTRODUCE; domain 0 is already introduced. */
	return domid == 0 ? -EBUSY : -ENOENT;
}

/* "[soft-]name" to a quota index; -EINVAL for unknown names. */
static int
op_quota_name(const char *name, bool *soft)
{
	*soft = strncmp(name, OP_SOFT_PREFIX, strlen(OP_SOFT_PREFIX)) == 0;
	if (*soft)
		name += strlen(OP_SOFT_PREFIX);
	return store_quota_lookup(name);
}

static void
op_quota_names(struct op_req *r)
{
	struct store *s = r->srv->store;
	uint32_t v;

	for (int q = 0; q < STORE_QUOTA_COUNT; q++) {
		const char *name = store_quota_name(q);

		if (name == NULL)
			continue;
		buf_printf(&r->reply, "%s%s", r->reply.len ? " " : "", name);
		if (store_quota_get(s, STORE_DOMID_GLOBAL, q, true, &v) == 0)
			buf_printf(&r->reply, " %s%s", OP_SOFT_PREFIX, name);
	}
	buf_add(&r->reply, "", 1);
}

int
op_get_quota(struct op_req *r)
{
	const char *argv[2];
	uint32_t domid = STORE_DOMID_GLOBAL, v;
	bool soft;
	int n, q, rc;

	n = op_domain_args(r, 2, argv);
	if (n < 0)
		return n;
	if (n == 0) {
		op_quota_names(r);
		return 0;
	}
	if (n == 2 && op_parse_domid(argv[0], &domid) < 0)
		return -EINVAL;
	q = op_quota_name(argv[n - 1], &soft);
	if (q < 0)
		return -EINVAL;
	if (n == 2 && !op_domain_known(r->srv, domid))
		return -ENOENT;
	rc = store_quota_get(r->srv->store, domid, q, soft, &v);
	if (rc < 0)
		return rc;
	buf_printf(&r->reply, "%u", v);
	buf_add(&r->reply, "", 1);
	return 0;
}

int
op_set_quota(struct op_req *r)
{
	const char *argv[3];
	uint32_t domid = STORE_DOMID_GLOBAL;
	unsigned long v;
	bool soft;
	int n, q, rc;

	n = op_args(r, 2, 3, argv);
	if (n < 0)
		return n;
	if (n == 3 && op_parse_domid(argv[0], &domid) < 0)
		return -EINVAL;
	q = op_quota_name(argv[n - 2], &soft);
	if (q < 0 || parse_uint(argv[n - 1], UINT32_MAX - 1, &v) < 0)
		return -EINVAL;
	rc = server_set_quota(r->srv, domid, q, soft, (uint32_t)v);
	if (rc == 0)
		op_reply_str(r, "OK");
	return rc;
}
