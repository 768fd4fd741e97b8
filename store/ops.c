/*
 * The requests on nodes. Each runs against an accessor: the tree itself, or
 * a transaction's view. Permission and quota checks happen here, before any
 * change; the changes themselves are tree_put/tree_del or txn_put/txn_del.
 * A request outside a transaction ends with store_emit, so its mutation
 * record is delivered before its watch events.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "store/store-int.h"

struct acc {
	struct store *s;
	struct store_conn *c;
	struct txn *t;
};

/*
 * meta: the request relies on the node's existence and permissions only,
 * so in a transaction a new value in that node is not a conflict.
 */
static int
acc_get(struct acc *a, const char *path, struct nview *v, bool meta)
{
	struct node *n;

	if (a->t)
		return txn_get(a->t, path, v, meta);
	n = tree_lookup(a->s, path);
	v->exists = n != NULL;
	v->value = n ? node_value(n) : NULL;
	v->len = n ? n->len : 0;
	v->perms = n ? node_perms(n) : NULL;
	v->nperms = n ? n->nperms : 0;
	return 0;
}

static int
acc_put(struct acc *a, const char *path, const void *value, uint32_t len,
	const struct store_perm *perms, uint32_t nperms, bool quiet)
{
	if (a->t)
		return txn_put(a->t, path, value, len, perms, nperms, quiet);
	return tree_put(a->s, path, value, len, perms, nperms, quiet);
}

static uint32_t
acc_perm(const struct acc *a, const struct nview *v)
{
	return perm_for(&a->c->caller, v->perms, v->nperms);
}

static void
acc_done(struct acc *a)
{
	if (a->t == NULL)
		store_emit(a->s, a->c->caller.domid);
}

/* Resolves path and finds the transaction. *abs is freed by the caller. */
static int
acc_begin(struct store_conn *c, uint32_t tx, const char *path, bool special,
	  struct acc *a, char **abs)
{
	int rc;

	a->s = c->s;
	a->c = c;
	a->t = NULL;
	if (tx) {
		a->t = txn_find(c, tx);
		if (a->t == NULL)
			return -ENOENT;
	}
	rc = store_path_resolve(c->s, &c->caller, path, special, abs);
	return rc;
}

/*
 * The error for a missing node: ENOENT if the nearest existing ancestor
 * grants the access asked for, else EACCES, so that existence does not leak
 * through a node the caller may not see.
 */
static int
acc_missing(struct acc *a, const char *path, uint32_t want)
{
	char *p;
	int rc = -ENOENT;

	if (path[0] != '/')
		return -ENOENT;
	p = xstrdup(path);
	while (strcmp(p, "/") != 0) {
		struct nview v;

		p[path_parent_len(p)] = '\0';
		rc = acc_get(a, p, &v, true);
		if (rc < 0)
			break;
		if (v.exists) {
			rc = (acc_perm(a, &v) & want) ? -ENOENT : -EACCES;
			break;
		}
		rc = -ENOENT;
	}
	free(p);
	return rc;
}

/* Looks up an existing node the caller may access with want. */
static int
acc_get_chk(struct acc *a, const char *path, uint32_t want, bool meta,
	    struct nview *v)
{
	int rc = acc_get(a, path, v, meta);

	if (rc < 0)
		return rc;
	if (!v->exists)
		return acc_missing(a, path, want);
	if ((acc_perm(a, v) & want) != want)
		return -EACCES;
	return 0;
}

static int
acc_check_size(struct acc *a, uint32_t len, uint32_t nperms)
{
	if (quota_over(a->s, &a->c->caller, STORE_QUOTA_NODE_SIZE,
		       (uint64_t)len + 8ull * nperms))
		return -ENOSPC;
	return 0;
}

static int
acc_check_memory(struct acc *a, uint64_t add)
{
	struct store_usage u;

	store_usage(a->s, a->c->caller.domid, &u);
	if (quota_over(a->s, &a->c->caller, STORE_QUOTA_MEMORY,
		       u.memory + add))
		return -ENOMEM;
	return 0;
}

/*
 * Creates path (missing) and its missing ancestors. New nodes inherit the
 * perms of the nearest existing ancestor, whose write permission is needed;
 * an unprivileged creator becomes their owner. Implicit ancestors fire no
 * events of their own.
 */
static int
acc_create(struct acc *a, const char *path, const void *value, uint32_t len)
{
	const struct store_caller *who = &a->c->caller;
	struct store_perm *perms = NULL;
	struct nview v;
	struct store_usage u;
	uint32_t nperms, nnew = 1;
	size_t plen = strlen(path), cut = plen;
	char *p = xstrdup(path);
	int rc;

	/* Walk up to the nearest existing ancestor. */
	for (;;) {
		cut = path_parent_len(p);
		p[cut] = '\0';
		rc = acc_get(a, p, &v, true);
		if (rc < 0)
			goto out;
		if (v.exists)
			break;
		nnew++;
	}
	if (!(acc_perm(a, &v) & STORE_PERM_WRITE)) {
		rc = -EACCES;
		goto out;
	}
	nperms = v.nperms;
	perms = perms_dup(v.perms, nperms);
	if (!who->priv)
		perms[0].domid = who->domid;
	rc = acc_check_size(a, len, nperms);
	if (rc < 0)
		goto out;
	store_usage(a->s, who->domid, &u);
	if (quota_over(a->s, who, STORE_QUOTA_NODES,
		       (uint64_t)u.nodes + nnew +
			       (a->t ? (uint64_t)(int64_t)txn_node_delta(a->t) : 0))) {
		rc = -ENOSPC;
		goto out;
	}
	rc = acc_check_memory(a, nnew * node_cost(plen, 0, nperms) + len);
	if (rc < 0)
		goto out;
	/* Create top-down: each '/' after the existing ancestor ends one. */
	memcpy(p, path, plen + 1);
	for (size_t i = (cut == 1 ? 1 : cut + 1); i < plen; i++) {
		if (p[i] != '/')
			continue;
		p[i] = '\0';
		rc = acc_put(a, p, "", 0, perms, nperms, true);
		p[i] = '/';
		if (rc < 0)
			goto out;
	}
	rc = acc_put(a, path, value, len, perms, nperms, false);
out:
	free(perms);
	free(p);
	return rc;
}

int
store_read(struct store_conn *c, uint32_t tx, const char *path,
	   const void **value, uint32_t *len)
{
	struct acc a;
	struct nview v;
	char *abs = NULL;
	int rc;

	rc = acc_begin(c, tx, path, false, &a, &abs);
	if (rc == 0)
		rc = acc_get_chk(&a, abs, STORE_PERM_READ, false, &v);
	if (rc == 0) {
		*value = v.value ? (const void *)v.value : "";
		*len = v.len;
	}
	free(abs);
	return rc;
}

int
store_write(struct store_conn *c, uint32_t tx, const char *path,
	    const void *value, uint32_t len)
{
	struct acc a;
	struct nview v;
	char *abs = NULL;
	int rc;

	rc = acc_begin(c, tx, path, false, &a, &abs);
	if (rc == 0)
		rc = acc_get(&a, abs, &v, false);
	if (rc == 0 && !v.exists) {
		rc = acc_create(&a, abs, value, len);
	} else if (rc == 0) {
		if (!(acc_perm(&a, &v) & STORE_PERM_WRITE))
			rc = -EACCES;
		if (rc == 0)
			rc = acc_check_size(&a, len, v.nperms);
		if (rc == 0 && len > v.len)
			rc = acc_check_memory(&a, len - v.len);
		if (rc == 0)
			rc = acc_put(&a, abs, value, len, v.perms, v.nperms,
				     false);
	}
	if (rc == 0)
		acc_done(&a);
	else if (a.t == NULL)
		store_discard_pending(c->s);
	free(abs);
	return rc;
}

int
store_mkdir(struct store_conn *c, uint32_t tx, const char *path)
{
	struct acc a;
	struct nview v;
	char *abs = NULL;
	int rc;

	rc = acc_begin(c, tx, path, false, &a, &abs);
	if (rc == 0)
		rc = acc_get(&a, abs, &v, true);
	if (rc == 0 && v.exists)
		rc = (acc_perm(&a, &v) & STORE_PERM_WRITE) ? 0 : -EACCES;
	else if (rc == 0)
		rc = acc_create(&a, abs, "", 0);
	if (rc == 0)
		acc_done(&a);
	else if (a.t == NULL)
		store_discard_pending(c->s);
	free(abs);
	return rc;
}

int
store_rm(struct store_conn *c, uint32_t tx, const char *path)
{
	struct acc a;
	struct nview v;
	char *abs = NULL;
	int rc;

	rc = acc_begin(c, tx, path, false, &a, &abs);
	if (rc == 0 && strcmp(abs, "/") == 0)
		rc = -EINVAL;
	if (rc == 0)
		rc = acc_get(&a, abs, &v, true);
	if (rc == 0 && !v.exists) {
		/* Absent with an existing parent is success (protocol text). */
		rc = acc_missing(&a, abs, STORE_PERM_WRITE);
		if (rc == -ENOENT) {
			char *parent = xstrndup(abs, path_parent_len(abs));
			struct nview pv;

			rc = acc_get(&a, parent, &pv, true);
			if (rc == 0 && !pv.exists)
				rc = -ENOENT;
			free(parent);
		}
	} else if (rc == 0) {
		if (!(acc_perm(&a, &v) & STORE_PERM_WRITE))
			rc = -EACCES;
		else if (a.t)
			rc = txn_del(a.t, abs);
		else
			rc = tree_del(c->s, abs, false);
		if (rc == 0)
			acc_done(&a);
	}
	free(abs);
	return rc;
}

/* Children of an existing, readable node as NUL-terminated names. */
static int
acc_children(struct store_conn *c, uint32_t tx, const char *path,
	     struct buf *out, uint64_t *gen)
{
	struct acc a;
	struct nview v;
	char *abs = NULL;
	int rc;

	rc = acc_begin(c, tx, path, false, &a, &abs);
	if (rc == 0)
		rc = acc_get_chk(&a, abs, STORE_PERM_READ, true, &v);
	if (rc == 0 && a.t) {
		rc = txn_children(a.t, abs, out, gen);
	} else if (rc == 0) {
		struct node *n = tree_lookup(c->s, abs);
		uint32_t len;
		const char *names = kidcache_get(c->s, n, &len);

		buf_add(out, names, len);
		*gen = gen48_get(n->cgen);
	}
	free(abs);
	return rc;
}

int
store_directory(struct store_conn *c, uint32_t tx, const char *path,
		struct buf *out)
{
	uint64_t gen;

	return acc_children(c, tx, path, out, &gen);
}

int
store_directory_part(struct store_conn *c, uint32_t tx, const char *path,
		     uint32_t off, uint32_t max, struct buf *out)
{
	struct buf all = { 0 };
	uint64_t gen;
	size_t pos;
	int rc;

	rc = acc_children(c, tx, path, &all, &gen);
	if (rc < 0)
		goto out;
	buf_printf(out, "%" PRIu64, gen);
	buf_add(out, "", 1);
	for (pos = off; pos < all.len;) {
		size_t nlen = strlen(all.data + pos) + 1;

		/* Keep room for the terminating NUL of the last part. */
		if (out->len + nlen + 1 > max)
			break;
		buf_add(out, all.data + pos, nlen);
		pos += nlen;
	}
	if (pos >= all.len)
		buf_add(out, "", 1);
out:
	buf_free(&all);
	return rc;
}

int
store_get_perms(struct store_conn *c, uint32_t tx, const char *path,
		struct buf *out)
{
	struct acc a;
	struct nview v;
	char *abs = NULL;
	int rc;

	rc = acc_begin(c, tx, path, true, &a, &abs);
	if (rc == 0)
		rc = acc_get_chk(&a, abs, STORE_PERM_READ, true, &v);
	for (uint32_t i = 0; rc == 0 && i < v.nperms; i++) {
		store_perm_format(&v.perms[i], out);
		buf_add(out, "", 1);
	}
	free(abs);
	return rc;
}

int
store_set_perms(struct store_conn *c, uint32_t tx, const char *path,
		const struct store_perm *perms, uint32_t nperms)
{
	const struct store_caller *who = &c->caller;
	struct acc a;
	struct nview v;
	char *abs = NULL;
	int rc;

	if (nperms == 0)
		return -EINVAL;
	rc = acc_begin(c, tx, path, true, &a, &abs);
	if (rc == 0)
		rc = acc_get(&a, abs, &v, false);
	if (rc == 0 && !v.exists)
		rc = acc_missing(&a, abs, STORE_PERM_WRITE);
	else if (rc == 0 && !(acc_perm(&a, &v) & PERM_OWNER))
		rc = -EACCES;
	else if (rc == 0 && !who->priv && perms[0].domid != v.perms[0].domid)
		rc = -EPERM;
	else if (rc == 0 && quota_over(c->s, who, STORE_QUOTA_NODE_PERMS, nperms))
		rc = -ENOSPC;
	else if (rc == 0)
		rc = acc_check_size(&a, v.len, nperms);
	if (rc == 0) {
		/* v's buffers may be replaced by the put: copy the value. */
		void *value = xmemdup(v.value ? v.value : "", v.len);

		rc = acc_put(&a, abs, value, v.len, perms, nperms, false);
		free(value);
	}
	if (rc == 0)
		acc_done(&a);
	free(abs);
	return rc;
}
