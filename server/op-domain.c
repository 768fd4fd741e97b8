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
 * domids are strict decimal 0..65535. Domain 0 (the socket clients, and
 * dom0's kernel ring) is always introduced and cannot be introduced,
 * released, resumed or targeted (EINVAL). Guest domains live in domain.c:
 * INTRODUCE maps and connects (ENOSYS on a host without Xen), RELEASE,
 * RESUME and SET_TARGET need an introduced domain (ENOENT). Features are
 * per domain: SET_FEATURE before INTRODUCE (EBUSY after), GET_FEATURE
 * without argument answers the caller's own. A quota name may carry the
 * "soft-" prefix (memory only). An empty single argument ("\0", as
 * libxenstore sends it) counts as no argument. A domain is known to
 * GET_QUOTA and CONTROL quota when it is introduced or the store has usage
 * or quota overrides for it.
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
	struct domain *d = domain_find(srv, domid);

	if (d && d->introduced)
		return true;
	store_foreach_domain(srv->store, op_domain_probe, &probe);
	return probe.found;
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
	op_reply_str(r, domain_is_introduced(r->srv, domid) ? "T" : "F");
	return 0;
}

int
op_introduce(struct op_req *r)
{
	const char *argv[3];
	unsigned long gfn, port;
	uint32_t domid;
	int rc;

	if (op_args(r, 3, 3, argv) < 0 ||
	    op_parse_domid(argv[0], &domid) < 0 ||
	    parse_uint(argv[1], ULONG_MAX, &gfn) < 0 ||
	    parse_uint(argv[2], UINT32_MAX, &port) < 0 || port == 0)
		return -EINVAL;
	rc = domain_introduce(r->srv, domid, gfn, (uint32_t)port);
	if (rc == 0)
		op_reply_str(r, "OK");
	return rc;
}

int
op_release(struct op_req *r)
{
	uint32_t domid;
	int rc;

	rc = op_one_domid(r, &domid);
	if (rc == 0)
		rc = domain_release(r->srv, domid);
	if (rc == 0)
		op_reply_str(r, "OK");
	return rc;
}

int
op_resume(struct op_req *r)
{
	uint32_t domid;
	int rc;

	rc = op_one_domid(r, &domid);
	if (rc == 0)
		rc = domain_resume(r->srv, domid);
	if (rc == 0)
		op_reply_str(r, "OK");
	return rc;
}

int
op_set_target(struct op_req *r)
{
	const char *argv[2];
	uint32_t domid, tdomid;
	int rc;

	if (op_args(r, 2, 2, argv) < 0 ||
	    op_parse_domid(argv[0], &domid) < 0 ||
	    op_parse_domid(argv[1], &tdomid) < 0)
		return -EINVAL;
	rc = domain_set_target(r->srv, domid, tdomid);
	if (rc == 0)
		op_reply_str(r, "OK");
	return rc;
}

int
op_get_feature(struct op_req *r)
{
	const char *arg;
	uint32_t domid, bits = r->c->features;
	int n, rc;

	n = op_domain_args(r, 1, &arg);
	if (n < 0)
		return n;
	if (n == 1) {
		if (!store_conn_caller(r->c->sc)->priv)
			return -EACCES;
		if (op_parse_domid(arg, &domid) < 0)
			return -EINVAL;
		rc = domain_get_features(r->srv, domid, &bits);
		if (rc < 0)
			return rc;
	}
	buf_printf(&r->reply, "%u", bits);
	buf_add(&r->reply, "", 1);
	return 0;
}

int
op_set_feature(struct op_req *r)
{
	const char *argv[2];
	unsigned long bits;
	uint32_t domid;
	int rc;

	if (op_args(r, 2, 2, argv) < 0 ||
	    op_parse_domid(argv[0], &domid) < 0 ||
	    parse_uint(argv[1], UINT32_MAX, &bits) < 0 ||
	    (bits & ~(unsigned long)SERVER_KNOWN_FEATURES) != 0)
		return -EINVAL;
	/* Features are fixed at INTRODUCE; domain 0 is already introduced. */
	rc = domain_set_features(r->srv, domid, (uint32_t)bits);
	if (rc == 0)
		op_reply_str(r, "OK");
	return rc;
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
