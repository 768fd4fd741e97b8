/*
 * The store unit test runner, and the helpers shared by its suites: the
 * fixture, the recording callbacks and string views of nodes and events.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/check_store.h"

struct tst_log tst_log;
struct tst_fx fx;

const struct store_caller tst_priv = { 0, LXS_DOMID_INVALID, true };
const struct store_caller tst_dom5 = { 5, LXS_DOMID_INVALID, false };
const struct store_caller tst_dom6 = { 6, LXS_DOMID_INVALID, false };
const struct store_caller tst_dom7 = { 7, LXS_DOMID_INVALID, false };

static void
tst_cb_event(void *conn_ctx, const char *path, const char *token)
{
	struct tst_event *e;

	tst_log.events = xrealloc(tst_log.events,
				  (tst_log.nevents + 1) * sizeof(*e));
	e = &tst_log.events[tst_log.nevents++];
	e->seq = ++tst_log.seq;
	e->conn = conn_ctx;
	e->path = xstrdup(path);
	e->token = xstrdup(token);
}

static void
tst_cb_mutation(void *ctx, const struct store_mutation *m)
{
	struct tst_mutation *t;

	tst_log.muts = xrealloc(tst_log.muts,
				(tst_log.nmuts + 1) * sizeof(*t));
	t = &tst_log.muts[tst_log.nmuts++];
	t->seq = ++tst_log.seq;
	t->store = ctx;
	t->domid = m->domid;
	t->nops = m->nops;
	t->ops = xcalloc(m->nops ? m->nops : 1, sizeof(*t->ops));
	for (uint32_t i = 0; i < m->nops; i++) {
		const struct store_op *o = &m->ops[i];
		struct tst_op *d = &t->ops[i];

		d->kind = o->kind;
		d->path = xstrdup(o->path);
		d->len = o->len;
		d->value = xmalloc(o->len + 1);
		if (o->len)
			memcpy(d->value, o->value, o->len);
		d->value[o->len] = '\0';
		d->nperms = o->kind == STORE_OP_PUT ? o->nperms : 0;
		d->perms = xcalloc(d->nperms ? d->nperms : 1,
				   sizeof(*d->perms));
		if (d->nperms)
			memcpy(d->perms, o->perms,
			       d->nperms * sizeof(*d->perms));
		d->quiet = o->quiet;
	}
}

static void
tst_cb_refused(void *ctx, uint32_t domid, enum store_quota q, uint64_t value,
	       uint32_t limit)
{
	if (tst_log.nrefusals < TST_MAX_REFUSALS)
		tst_log.refusals[tst_log.nrefusals] =
			(struct tst_refusal){ domid, q, value, limit };
	tst_log.nrefusals++;
}

const struct store_cb tst_cb = {
	.watch_event = tst_cb_event,
	.mutation = tst_cb_mutation,
	.quota_refused = tst_cb_refused,
};

void
tst_log_clear(void)
{
	for (unsigned int i = 0; i < tst_log.nevents; i++) {
		free(tst_log.events[i].path);
		free(tst_log.events[i].token);
	}
	for (unsigned int i = 0; i < tst_log.nmuts; i++) {
		struct tst_mutation *m = &tst_log.muts[i];

		for (uint32_t j = 0; j < m->nops; j++) {
			free(m->ops[j].path);
			free(m->ops[j].value);
			free(m->ops[j].perms);
		}
		free(m->ops);
	}
	free(tst_log.events);
	free(tst_log.muts);
	memset(&tst_log, 0, sizeof(tst_log));
}

unsigned int
tst_count_events(const char *conn, const char *path, const char *token)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < tst_log.nevents; i++) {
		const struct tst_event *e = &tst_log.events[i];

		if (conn && strcmp(conn, e->conn) != 0)
			continue;
		if (path && strcmp(path, e->path) != 0)
			continue;
		if (token && strcmp(token, e->token) != 0)
			continue;
		n++;
	}
	return n;
}

char *
tst_events_str(void)
{
	struct buf b = { 0 };

	for (unsigned int i = 0; i < tst_log.nevents; i++)
		buf_printf(&b, "%s%s:%s:%s", i ? ";" : "",
			   tst_log.events[i].conn, tst_log.events[i].path,
			   tst_log.events[i].token);
	buf_add(&b, "", 1);
	return b.data;
}

struct store *
tst_store_new(const char *name)
{
	struct store *s = store_new(&tst_cb, (void *)name, 0);

	ck_assert_ptr_nonnull(s);
	return s;
}

struct store_conn *
tst_conn(struct store *s, const struct store_caller *who, const char *name)
{
	struct store_conn *c;

	ck_assert_uint_lt(fx.nconns, TST_MAX_CONNS);
	c = store_conn_new(s, who, (void *)name);
	ck_assert_ptr_nonnull(c);
	fx.conns[fx.nconns++] = c;
	return c;
}

void
tst_conn_free(struct store_conn *c)
{
	for (unsigned int i = 0; i < fx.nconns; i++) {
		if (fx.conns[i] != c)
			continue;
		memmove(&fx.conns[i], &fx.conns[i + 1],
			(fx.nconns - i - 1) * sizeof(fx.conns[0]));
		fx.nconns--;
		break;
	}
	store_conn_free(c);
}

void
tst_setup(void)
{
	tst_setup_recording();
	tst_log_clear();
}

void
tst_setup_recording(void)
{
	memset(&fx, 0, sizeof(fx));
	memset(&tst_log, 0, sizeof(tst_log));
	fx.s = tst_store_new("A");
	fx.p = tst_conn(fx.s, &tst_priv, "p");
	fx.d5 = tst_conn(fx.s, &tst_dom5, "d5");
	fx.d6 = tst_conn(fx.s, &tst_dom6, "d6");
	ck_rc(store_mkdir(fx.p, 0, "/local/domain/5"), 0);
	ck_rc(tst_set_perms(fx.p, 0, "/local/domain/5", "n5"), 0);
	ck_rc(store_mkdir(fx.p, 0, "/local/domain/6"), 0);
	ck_rc(tst_set_perms(fx.p, 0, "/local/domain/6", "n6"), 0);
}

void
tst_teardown(void)
{
	while (fx.nconns)
		store_conn_free(fx.conns[--fx.nconns]);
	store_free(fx.s);
	fx.s = NULL;
	tst_log_clear();
}

int
tst_apply(struct store *s, const struct tst_mutation *m)
{
	struct store_op *ops = xcalloc(m->nops ? m->nops : 1, sizeof(*ops));
	struct store_mutation sm = { m->domid, m->nops, ops };
	int rc;

	for (uint32_t i = 0; i < m->nops; i++) {
		ops[i].kind = m->ops[i].kind;
		ops[i].path = m->ops[i].path;
		ops[i].value = m->ops[i].value;
		ops[i].len = m->ops[i].len;
		ops[i].perms = m->ops[i].perms;
		ops[i].nperms = m->ops[i].nperms;
		ops[i].quiet = m->ops[i].quiet;
	}
	rc = store_apply(s, &sm);
	free(ops);
	return rc;
}

int
tst_write(struct store_conn *c, uint32_t tx, const char *path,
	  const char *value)
{
	return store_write(c, tx, path, value, (uint32_t)strlen(value));
}

int
tst_read(struct store_conn *c, uint32_t tx, const char *path, char **out)
{
	const void *v = NULL;
	uint32_t len = 0;
	int rc;

	*out = NULL;
	rc = store_read(c, tx, path, &v, &len);
	if (rc == 0)
		*out = xstrndup(len ? v : "", len);
	return rc;
}

/* Joins a NUL-separated list with commas; a trailing empty string ends it. */
static char *
tst_join(const char *data, size_t len)
{
	struct buf b = { 0 };
	size_t off = 0;

	while (off < len) {
		size_t n = strnlen(data + off, len - off);

		if (b.len)
			buf_add(&b, ",", 1);
		buf_add(&b, data + off, n);
		off += n + 1;
	}
	buf_add(&b, "", 1);
	return b.data;
}

int
tst_dir(struct store_conn *c, uint32_t tx, const char *path, char **out)
{
	struct buf b = { 0 };
	int rc;

	*out = NULL;
	rc = store_directory(c, tx, path, &b);
	if (rc == 0) {
		if (b.len)
			ck_assert_msg(b.data[b.len - 1] == '\0',
				      "directory %s: last name not terminated",
				      path);
		*out = tst_join(b.data, b.len);
	}
	buf_free(&b);
	return rc;
}

int
tst_perms(struct store_conn *c, uint32_t tx, const char *path, char **out)
{
	struct buf b = { 0 };
	int rc;

	*out = NULL;
	rc = store_get_perms(c, tx, path, &b);
	if (rc == 0) {
		ck_assert_msg(b.len > 0 && b.data[b.len - 1] == '\0',
			      "get_perms %s: bad reply", path);
		*out = tst_join(b.data, b.len);
	}
	buf_free(&b);
	return rc;
}

int
tst_set_perms(struct store_conn *c, uint32_t tx, const char *path,
	      const char *perms)
{
	struct store_perm p[64];
	char *copy = xstrdup(perms), *save = NULL, *tok;
	uint32_t n = 0;
	int rc;

	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		ck_assert_uint_lt(n, LXS_ARRAY_SIZE(p));
		ck_assert_msg(store_perm_parse(tok, &p[n]) == 0,
			      "perm string %s does not parse", tok);
		n++;
	}
	free(copy);
	rc = store_set_perms(c, tx, path, p, n);
	return rc;
}

char *
tst_str_rep(const char *prefix, char ch, size_t n)
{
	size_t plen = strlen(prefix);
	char *s = xmalloc(plen + n + 1);

	memcpy(s, prefix, plen);
	memset(s + plen, ch, n);
	s[plen + n] = '\0';
	return s;
}

static void
tst_dump_node(struct store_conn *c, const char *path, struct buf *out)
{
	const void *v;
	uint32_t len;
	char *perms;
	struct buf b = { 0 };
	size_t off;

	ck_rc(store_read(c, 0, path, &v, &len), 0);
	buf_printf(out, "%s ", path);
	for (uint32_t i = 0; i < len; i++)
		buf_printf(out, "%02x", ((const unsigned char *)v)[i]);
	ck_rc(tst_perms(c, 0, path, &perms), 0);
	buf_printf(out, " [%s]\n", perms);
	free(perms);
	ck_rc(store_directory(c, 0, path, &b), 0);
	for (off = 0; off < b.len; off += strlen(b.data + off) + 1) {
		char *child = strcmp(path, "/") == 0
			? xasprintf("/%s", b.data + off)
			: xasprintf("%s/%s", path, b.data + off);

		tst_dump_node(c, child, out);
		free(child);
	}
	buf_free(&b);
}

char *
tst_dump(struct store *s)
{
	struct store_conn *c = store_conn_new(s, &tst_priv, (void *)"dump");
	struct buf out = { 0 };
	char *perms;

	tst_dump_node(c, "/", &out);
	ck_rc(tst_perms(c, 0, "@introduceDomain", &perms), 0);
	buf_printf(&out, "@introduceDomain [%s]\n", perms);
	free(perms);
	ck_rc(tst_perms(c, 0, "@releaseDomain", &perms), 0);
	buf_printf(&out, "@releaseDomain [%s]\n", perms);
	free(perms);
	store_conn_free(c);
	buf_add(&out, "", 1);
	return out.data;
}

int
main(void)
{
	SRunner *sr = srunner_create(store_paths_suite());
	int failed;

	srunner_add_suite(sr, store_perms_suite());
	srunner_add_suite(sr, store_nodes_suite());
	srunner_add_suite(sr, store_layout_suite());
	srunner_add_suite(sr, store_txn_suite());
	srunner_add_suite(sr, store_watch_suite());
	srunner_add_suite(sr, store_quota_suite());
	srunner_add_suite(sr, store_mutation_suite());
	srunner_add_suite(sr, store_check_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
