/*
 * Transactions: isolation, repeatable reads, commit and abort, unknown ids,
 * the per-domain quotas, and the conflict matrix: what the transaction did
 * to a node against what another connection did meanwhile.
 */
#include <stdio.h>
#include <stdlib.h>

#include "tests/check_store.h"

static uint32_t
txn_start(struct store_conn *c)
{
	uint32_t id = 0;

	ck_rc(store_txn_start(c, &id), 0);
	ck_assert_uint_ne(id, 0);
	return id;
}

START_TEST(test_store_txn_ids_distinct)
{
	uint32_t a = txn_start(fx.p), b = txn_start(fx.p), c = txn_start(fx.d5);

	ck_assert_uint_ne(a, b);
	ck_assert_uint_eq(store_conn_ntransactions(fx.p), 2);
	ck_assert_uint_eq(store_conn_ntransactions(fx.d5), 1);
	ck_rc(store_txn_end(fx.p, a, true), 0);
	ck_rc(store_txn_end(fx.p, b, false), 0);
	ck_rc(store_txn_end(fx.d5, c, true), 0);
	ck_assert_uint_eq(store_conn_ntransactions(fx.p), 0);
	ck_assert_uint_eq(store_conn_ntransactions(fx.d5), 0);
}
END_TEST

START_TEST(test_store_txn_empty_commit_and_abort)
{
	uint32_t t = txn_start(fx.p);

	ck_rc(store_txn_end(fx.p, t, true), 0);
	t = txn_start(fx.p);
	ck_rc(store_txn_end(fx.p, t, false), 0);
}
END_TEST

START_TEST(test_store_txn_unknown_id)
{
	uint32_t t;
	char *v;
	struct buf b = { 0 };

	ck_rc(store_txn_end(fx.p, 0, true), -ENOENT);
	ck_rc(store_txn_end(fx.p, 4242, true), -ENOENT);
	ck_rc(store_txn_end(fx.p, 4242, false), -ENOENT);
	ck_rc(tst_read(fx.p, 4242, "/tool", &v), -ENOENT);
	ck_rc(tst_write(fx.p, 4242, "/x", "v"), -ENOENT);
	ck_rc(store_mkdir(fx.p, 4242, "/x"), -ENOENT);
	ck_rc(store_rm(fx.p, 4242, "/tool"), -ENOENT);
	ck_rc(store_directory(fx.p, 4242, "/", &b), -ENOENT);
	ck_rc(store_directory_part(fx.p, 4242, "/", 0, 4096, &b), -ENOENT);
	ck_rc(store_get_perms(fx.p, 4242, "/", &b), -ENOENT);
	ck_rc(tst_set_perms(fx.p, 4242, "/tool", "n0"), -ENOENT);
	/* Another connection's id is unknown here. */
	t = txn_start(fx.d5);
	ck_rc(tst_read(fx.d6, t, "/local/domain/6", &v), -ENOENT);
	ck_rc(store_txn_end(fx.d6, t, true), -ENOENT);
	ck_rc(store_txn_end(fx.d5, t, true), 0);
	/* And a finished one is gone. */
	ck_rc(store_txn_end(fx.d5, t, true), -ENOENT);
	ck_rc(tst_read(fx.d5, t, "/local/domain/5", &v), -ENOENT);
	ck_rc(tst_read(fx.p, 0, "/x", &v), -ENOENT);
	buf_free(&b);
}
END_TEST

static void
txn_rmw(bool commit)
{
	uint32_t t;

	ck_rc(tst_write(fx.p, 0, "/t/a", "a"), 0);
	t = txn_start(fx.p);
	ck_read(fx.p, t, "/t/a", "a");
	ck_rc(tst_write(fx.p, t, "/t/a", "b"), 0);
	ck_read(fx.p, t, "/t/a", "b");
	ck_read(fx.p, 0, "/t/a", "a");
	ck_rc(store_txn_end(fx.p, t, commit), 0);
	ck_read(fx.p, 0, "/t/a", commit ? "b" : "a");
}

START_TEST(test_store_txn_rmw_commit)
{
	txn_rmw(true);
}
END_TEST

START_TEST(test_store_txn_rmw_abort)
{
	txn_rmw(false);
}
END_TEST

/* test-xenstore "ta err". */
START_TEST(test_store_txn_ta_err_repeatable_read)
{
	struct store_conn *o = tst_conn(fx.s, &tst_priv, "o");
	uint32_t t;

	ck_rc(tst_write(fx.p, 0, "/t/a", "a"), 0);
	t = txn_start(fx.p);
	ck_read(fx.p, t, "/t/a", "a");
	ck_rc(tst_write(o, 0, "/t/a", "b"), 0);
	ck_read(fx.p, t, "/t/a", "a");
	ck_rc(tst_write(fx.p, t, "/t/a", "c"), 0);
	ck_read(fx.p, t, "/t/a", "c");
	ck_rc(store_txn_end(fx.p, t, true), -EAGAIN);
	ck_read(fx.p, 0, "/t/a", "b");
	ck_assert_uint_eq(store_conn_ntransactions(fx.p), 0);
}
END_TEST

static void
import_into(void *arg, const struct store_txn_state *t)
{
	ck_rc(store_txn_import(arg, t), 0);
	ck_rc(store_txn_import(arg, t), -EEXIST);
}

/*
 * Live update: transactions exported from one store and imported into
 * another holding the same tree under other generation numbers. A clean
 * one commits its writes there; one whose read had already changed is
 * doomed; a dependency changed after the import conflicts.
 */
START_TEST(test_store_txn_export_import)
{
	struct store_conn *o = tst_conn(fx.s, &tst_priv, "o");
	struct store *s2 = store_new(&tst_cb, (void *)"B", 0);
	struct store_conn *q = store_conn_new(s2, &tst_priv, (void *)"q");
	uint32_t t1, t2, t3, t4;

	ck_rc(tst_write(fx.p, 0, "/m/a", "a"), 0);
	ck_rc(tst_write(fx.p, 0, "/m/b", "b"), 0);
	ck_rc(tst_write(fx.p, 0, "/m/d", "d"), 0);
	t1 = txn_start(fx.p);
	ck_read(fx.p, t1, "/m/a", "a");
	ck_rc(tst_write(fx.p, t1, "/m/c", "c"), 0);
	t2 = txn_start(fx.p);
	ck_read(fx.p, t2, "/m/b", "b");
	ck_rc(tst_write(fx.p, t2, "/m/b2", "x"), 0);
	ck_rc(tst_write(o, 0, "/m/b", "B"), 0);
	t3 = txn_start(fx.p);
	ck_read(fx.p, t3, "/m/d", "d");
	ck_rc(tst_write(fx.p, t3, "/m/d2", "x"), 0);
	t4 = txn_start(fx.p);
	ck_rc(store_rm(fx.p, t4, "/m/d"), 0);
	for (int i = 0; i < 5; i++)
		ck_rc(tst_write(q, 0, "/pad", "p"), 0);
	ck_rc(tst_write(q, 0, "/m/a", "a"), 0);
	ck_rc(tst_write(q, 0, "/m/b", "B"), 0);
	ck_rc(tst_write(q, 0, "/m/d", "d"), 0);
	store_conn_set_next_txid(q, store_conn_next_txid(fx.p));
	store_conn_foreach_txn(fx.p, import_into, q);
	ck_assert_uint_eq(store_conn_ntransactions(q), 4);
	ck_read(q, t1, "/m/c", "c");
	ck_rc(store_read(q, 0, "/m/c", &(const void *){ NULL },
			 &(uint32_t){ 0 }), -ENOENT);
	ck_rc(store_read(q, t4, "/m/d", &(const void *){ NULL },
			 &(uint32_t){ 0 }), -ENOENT);
	ck_rc(store_txn_end(q, t1, true), 0);
	ck_read(q, 0, "/m/c", "c");
	ck_rc(store_txn_end(q, t2, true), -EAGAIN);
	ck_rc(tst_write(q, 0, "/m/d", "changed"), 0);
	ck_rc(store_txn_end(q, t3, true), -EAGAIN);
	ck_rc(store_txn_end(q, t4, false), 0);
	ck_assert_uint_eq(store_conn_ntransactions(q), 0);
	ck_assert_uint_gt(txn_start(q), t4);
	store_conn_free(q);
	store_free(s2);
}
END_TEST

START_TEST(test_store_txn_changes_invisible_until_commit)
{
	uint32_t t;
	char *v;

	ck_rc(tst_write(fx.p, 0, "/t/keep", "k"), 0);
	ck_rc(tst_write(fx.p, 0, "/t/gone", "g"), 0);
	t = txn_start(fx.p);
	ck_rc(tst_write(fx.p, t, "/t/new/deep", "n"), 0);
	ck_rc(store_rm(fx.p, t, "/t/gone"), 0);
	ck_rc(tst_set_perms(fx.p, t, "/t/keep", "n0,r5"), 0);
	ck_rc(store_mkdir(fx.p, t, "/t/dir"), 0);
	/* Inside. */
	ck_read(fx.p, t, "/t/new/deep", "n");
	ck_read(fx.p, t, "/t/new", "");
	ck_rc(tst_read(fx.p, t, "/t/gone", &v), -ENOENT);
	ck_dir(fx.p, t, "/t", "keep,new,dir");
	ck_perms(fx.p, t, "/t/keep", "n0,r5");
	/* Outside, also from another connection. */
	ck_rc(tst_read(fx.p, 0, "/t/new", &v), -ENOENT);
	ck_rc(tst_read(fx.p, 0, "/t/dir", &v), -ENOENT);
	ck_read(fx.p, 0, "/t/gone", "g");
	ck_dir(fx.p, 0, "/t", "keep,gone");
	ck_perms(fx.p, 0, "/t/keep", "n0");
	ck_rc(store_txn_end(fx.p, t, true), 0);
	ck_read(fx.p, 0, "/t/new/deep", "n");
	ck_rc(tst_read(fx.p, 0, "/t/gone", &v), -ENOENT);
	ck_dir(fx.p, 0, "/t", "keep,new,dir");
	ck_perms(fx.p, 0, "/t/keep", "n0,r5");
}
END_TEST

START_TEST(test_store_txn_abort_discards)
{
	uint32_t t;
	char *before, *after;

	ck_rc(tst_write(fx.p, 0, "/t/a", "a"), 0);
	before = tst_dump(fx.s);
	tst_log_clear();
	t = txn_start(fx.p);
	ck_rc(tst_write(fx.p, t, "/t/a", "b"), 0);
	ck_rc(tst_write(fx.p, t, "/t/b/c", "c"), 0);
	ck_rc(store_rm(fx.p, t, "/tool"), 0);
	ck_rc(tst_set_perms(fx.p, t, "/t", "n5"), 0);
	ck_rc(store_txn_end(fx.p, t, false), 0);
	after = tst_dump(fx.s);
	ck_assert_str_eq(before, after);
	ck_assert_uint_eq(tst_log.nmuts, 0);
	free(before);
	free(after);
}
END_TEST

START_TEST(test_store_txn_two_writers_second_fails)
{
	struct store_conn *o = tst_conn(fx.s, &tst_priv, "o");
	uint32_t t1, t2;

	ck_rc(tst_write(fx.p, 0, "/t/n", "0"), 0);
	t1 = txn_start(fx.p);
	t2 = txn_start(o);
	ck_rc(tst_write(fx.p, t1, "/t/n", "1"), 0);
	ck_rc(tst_write(o, t2, "/t/n", "2"), 0);
	ck_rc(store_txn_end(fx.p, t1, true), 0);
	ck_rc(store_txn_end(o, t2, true), -EAGAIN);
	ck_read(fx.p, 0, "/t/n", "1");
}
END_TEST

START_TEST(test_store_txn_disjoint_writers_both_commit)
{
	struct store_conn *o = tst_conn(fx.s, &tst_priv, "o");
	uint32_t t1, t2;

	ck_rc(tst_write(fx.p, 0, "/t/x", "0"), 0);
	ck_rc(tst_write(fx.p, 0, "/t/y", "0"), 0);
	t1 = txn_start(fx.p);
	t2 = txn_start(o);
	ck_read(fx.p, t1, "/t/x", "0");
	ck_rc(tst_write(fx.p, t1, "/t/x", "1"), 0);
	ck_read(o, t2, "/t/y", "0");
	ck_rc(tst_write(o, t2, "/t/y", "2"), 0);
	ck_rc(tst_write(o, t2, "/t/z", "3"), 0);
	ck_rc(store_txn_end(fx.p, t1, true), 0);
	ck_rc(store_txn_end(o, t2, true), 0);
	ck_read(fx.p, 0, "/t/x", "1");
	ck_read(fx.p, 0, "/t/y", "2");
	ck_read(fx.p, 0, "/t/z", "3");
}
END_TEST

START_TEST(test_store_txn_perms_checked_inside)
{
	uint32_t t = txn_start(fx.d6);
	char *v;

	ck_rc(tst_write(fx.d5, 0, "/local/domain/5/x", "v"), 0);
	ck_rc(tst_read(fx.d6, t, "/local/domain/5/x", &v), -EACCES);
	ck_rc(tst_write(fx.d6, t, "/local/domain/5/y", "v"), -EACCES);
	ck_rc(tst_write(fx.d6, t, "/local/domain/6/y", "v"), 0);
	ck_rc(store_txn_end(fx.d6, t, true), 0);
	ck_read(fx.p, 0, "/local/domain/6/y", "v");
	ck_perms(fx.p, 0, "/local/domain/6/y", "n6");
}
END_TEST

START_TEST(test_store_txn_dropped_with_conn)
{
	struct store_conn *o = tst_conn(fx.s, &tst_priv, "o");
	uint32_t t = txn_start(o);
	char *v;

	ck_rc(tst_write(o, t, "/t/x", "v"), 0);
	tst_conn_free(o);
	ck_rc(tst_read(fx.p, 0, "/t/x", &v), -ENOENT);
	ck_assert_uint_eq(tst_log.nmuts, 0);
}
END_TEST

START_TEST(test_store_txn_dropped_by_reset_watches)
{
	uint32_t t = txn_start(fx.p);
	char *v;

	ck_rc(tst_write(fx.p, t, "/t/x", "v"), 0);
	store_reset_watches(fx.p);
	ck_assert_uint_eq(store_conn_ntransactions(fx.p), 0);
	ck_rc(store_txn_end(fx.p, t, true), -ENOENT);
	ck_rc(tst_read(fx.p, 0, "/t/x", &v), -ENOENT);
}
END_TEST

START_TEST(test_store_txn_quota_per_domain)
{
	uint32_t ids[10], extra;
	struct store_usage u;

	for (int i = 0; i < 10; i++)
		ids[i] = txn_start(fx.d5);
	ck_rc(store_txn_start(fx.d5, &extra), -ENOSPC);
	store_usage(fx.s, 5, &u);
	ck_assert_uint_eq(u.transactions, 10);
	ck_rc(store_txn_end(fx.d5, ids[3], false), 0);
	ids[3] = txn_start(fx.d5);
	ck_rc(store_txn_start(fx.d5, &extra), -ENOSPC);
	for (int i = 0; i < 10; i++)
		ck_rc(store_txn_end(fx.d5, ids[i], true), 0);
	store_usage(fx.s, 5, &u);
	ck_assert_uint_eq(u.transactions, 0);
	/* Priv is exempt. */
	for (int i = 0; i < 12; i++)
		txn_start(fx.p);
}
END_TEST

START_TEST(test_store_txn_quota_override)
{
	uint32_t a, b, c;

	ck_rc(store_quota_set(fx.s, 5, STORE_QUOTA_TRANSACTIONS, false, 2), 0);
	a = txn_start(fx.d5);
	b = txn_start(fx.d5);
	ck_rc(store_txn_start(fx.d5, &c), -ENOSPC);
	/* Domain 6 keeps the default. */
	for (int i = 0; i < 10; i++)
		txn_start(fx.d6);
	ck_rc(store_txn_end(fx.d5, a, false), 0);
	ck_rc(store_txn_end(fx.d5, b, false), 0);
}
END_TEST

START_TEST(test_store_txn_nodes_quota_fails_txn)
{
	uint32_t t;

	for (int i = 1; i <= 5; i++) {
		char *p = xasprintf("/local/domain/5/n%d", i);

		ck_rc(tst_write(fx.d5, 0, p, "old"), 0);
		free(p);
	}
	ck_rc(store_quota_set(fx.s, 5, STORE_QUOTA_TXN_NODES, false, 4), 0);
	t = txn_start(fx.d5);
	ck_rc(tst_write(fx.d5, t, "/local/domain/5/n1", "new"), 0);
	ck_rc(tst_write(fx.d5, t, "/local/domain/5/n2", "new"), 0);
	ck_rc(tst_write(fx.d5, t, "/local/domain/5/n3", "new"), 0);
	ck_rc(tst_write(fx.d5, t, "/local/domain/5/n4", "new"), 0);
	/* Touching one of them again costs nothing. */
	ck_rc(tst_write(fx.d5, t, "/local/domain/5/n1", "newer"), 0);
	ck_rc(tst_write(fx.d5, t, "/local/domain/5/n5", "new"), -ENOSPC);
	ck_rc(store_txn_end(fx.d5, t, true), -ENOSPC);
	ck_assert_uint_eq(store_conn_ntransactions(fx.d5), 0);
	ck_read(fx.p, 0, "/local/domain/5/n1", "old");
	ck_read(fx.p, 0, "/local/domain/5/n4", "old");
	ck_read(fx.p, 0, "/local/domain/5/n5", "old");
	ck_assert_uint_eq(tst_log.nmuts, 5);
}
END_TEST

START_TEST(test_store_txn_nodes_quota_default)
{
	uint32_t t;
	uint32_t q;

	ck_rc(store_quota_get(fx.s, STORE_DOMID_GLOBAL, STORE_QUOTA_TXN_NODES,
			      false, &q), 0);
	ck_assert_uint_eq(q, 1024);
	/* Priv is exempt even from a tiny global value. */
	ck_rc(store_quota_set(fx.s, STORE_DOMID_GLOBAL, STORE_QUOTA_TXN_NODES,
			      false, 2), 0);
	t = txn_start(fx.p);
	for (int i = 0; i < 10; i++) {
		char *p = xasprintf("/t/n%d", i);

		ck_rc(tst_write(fx.p, t, p, "v"), 0);
		free(p);
	}
	ck_rc(store_txn_end(fx.p, t, true), 0);
	ck_read(fx.p, 0, "/t/n9", "v");
}
END_TEST

/*
 * The conflict matrix. Before the transaction the tree holds
 *   /m = "", /m/n = "v", /m/n/k = "k", /m/s = "s", /u = "u"
 * and /m/x, /m/c do not exist. Connection A does one thing in a
 * transaction, connection B one thing outside it, then A commits.
 */
enum ta_act {
	TA_READ,	/* read /m/n */
	TA_WRITE,	/* write /m/n "ta" (blind) */
	TA_CREATE,	/* write /m/c "ta" (new node) */
	TA_MKDIR,	/* mkdir /m/c (new node) */
	TA_RM,		/* rm /m/n */
	TA_DIR,		/* directory /m/n */
	TA_ABSENT,	/* read /m/x: ENOENT */
	TA_GET_PERMS,	/* get_perms /m/n */
	TA_SET_PERMS,	/* set_perms /m/n "n0,r5" */
};

enum out_act {
	OUT_NOTHING,
	OUT_WRITE_SAME,		/* write /m/n "out" */
	OUT_WRITE_SAME_VALUE,	/* write /m/n "v" (unchanged value) */
	OUT_WRITE_UNRELATED,	/* write /u "out" */
	OUT_CREATE_UNRELATED,	/* write /z "out" (new node under /) */
	OUT_CREATE_SIBLING,	/* write /m/s2 "out" */
	OUT_WRITE_SIBLING,	/* write /m/s "out" */
	OUT_WRITE_PARENT,	/* write /m "out" */
	OUT_RM_PARENT,		/* rm /m */
	OUT_SET_PARENT_PERMS,	/* set_perms /m "n0,r6" */
	OUT_SET_PERMS,		/* set_perms /m/n "n0,r6" */
	OUT_RM_RECREATE,	/* rm /m/n, write /m/n "v" */
	OUT_CREATE_ABSENT,	/* write /m/x "out" */
	OUT_CREATE_BELOW_ABSENT,/* write /m/x/y "out": creates /m/x */
	OUT_CREATE_NEW,		/* write /m/c "out" */
	OUT_RM_CHILD,		/* rm /m/n/k */
	OUT_CREATE_CHILD,	/* write /m/n/k2 "out" */
	OUT_WRITE_CHILD,	/* write /m/n/k "out" */
};

static const char *const ta_names[] = {
	"read", "write", "create", "mkdir", "rm", "directory", "absent-read",
	"get_perms", "set_perms",
};

static const char *const out_names[] = {
	"nothing", "write same", "write same value", "write unrelated",
	"create unrelated", "create sibling", "write sibling", "write parent",
	"rm parent", "set_perms parent", "set_perms", "rm+recreate",
	"create the absent node", "create below the absent node",
	"create the new node", "rm child", "create child", "write child",
};

_Static_assert(LXS_ARRAY_SIZE(ta_names) == TA_SET_PERMS + 1, "ta_names");
_Static_assert(LXS_ARRAY_SIZE(out_names) == OUT_WRITE_CHILD + 1, "out_names");

static const struct {
	enum ta_act ta;
	enum out_act out;
	int want;
} conflicts[] = {
	{ TA_READ, OUT_NOTHING, 0 },
	{ TA_READ, OUT_WRITE_SAME, -EAGAIN },
	{ TA_READ, OUT_WRITE_SAME_VALUE, -EAGAIN },
	{ TA_READ, OUT_WRITE_UNRELATED, 0 },
	{ TA_READ, OUT_CREATE_UNRELATED, 0 },
	{ TA_READ, OUT_CREATE_SIBLING, 0 },
	{ TA_READ, OUT_WRITE_SIBLING, 0 },
	{ TA_READ, OUT_WRITE_PARENT, 0 },
	{ TA_READ, OUT_RM_PARENT, -EAGAIN },
	{ TA_READ, OUT_SET_PERMS, -EAGAIN },
	{ TA_READ, OUT_RM_RECREATE, -EAGAIN },
	{ TA_READ, OUT_WRITE_CHILD, 0 },
	{ TA_READ, OUT_SET_PARENT_PERMS, 0 },

	{ TA_WRITE, OUT_NOTHING, 0 },
	{ TA_WRITE, OUT_WRITE_SAME, -EAGAIN },
	{ TA_WRITE, OUT_WRITE_UNRELATED, 0 },
	{ TA_WRITE, OUT_CREATE_UNRELATED, 0 },
	{ TA_WRITE, OUT_CREATE_SIBLING, 0 },
	{ TA_WRITE, OUT_WRITE_SIBLING, 0 },
	{ TA_WRITE, OUT_RM_PARENT, -EAGAIN },
	{ TA_WRITE, OUT_SET_PERMS, -EAGAIN },
	{ TA_WRITE, OUT_WRITE_PARENT, 0 },

	{ TA_CREATE, OUT_NOTHING, 0 },
	{ TA_CREATE, OUT_CREATE_NEW, -EAGAIN },
	{ TA_CREATE, OUT_CREATE_SIBLING, 0 },
	{ TA_CREATE, OUT_WRITE_SIBLING, 0 },
	{ TA_CREATE, OUT_WRITE_UNRELATED, 0 },
	{ TA_CREATE, OUT_CREATE_UNRELATED, 0 },
	{ TA_CREATE, OUT_RM_PARENT, -EAGAIN },
	/*
	 * The new node inherits the parent's perms and needs write access to
	 * it: the parent's perms bind, its value does not (txn.c).
	 */
	{ TA_CREATE, OUT_WRITE_PARENT, 0 },
	{ TA_CREATE, OUT_SET_PARENT_PERMS, -EAGAIN },

	{ TA_MKDIR, OUT_NOTHING, 0 },
	{ TA_MKDIR, OUT_CREATE_NEW, -EAGAIN },
	{ TA_MKDIR, OUT_CREATE_SIBLING, 0 },
	{ TA_MKDIR, OUT_RM_PARENT, -EAGAIN },

	{ TA_RM, OUT_NOTHING, 0 },
	{ TA_RM, OUT_WRITE_SAME, -EAGAIN },
	{ TA_RM, OUT_WRITE_UNRELATED, 0 },
	{ TA_RM, OUT_CREATE_SIBLING, 0 },
	{ TA_RM, OUT_WRITE_SIBLING, 0 },
	{ TA_RM, OUT_RM_PARENT, -EAGAIN },
	{ TA_RM, OUT_SET_PERMS, -EAGAIN },
	/* RM depends on the whole subtree it removes. */
	{ TA_RM, OUT_CREATE_CHILD, -EAGAIN },
	{ TA_RM, OUT_WRITE_CHILD, -EAGAIN },
	{ TA_RM, OUT_RM_CHILD, -EAGAIN },

	{ TA_DIR, OUT_NOTHING, 0 },
	{ TA_DIR, OUT_CREATE_CHILD, -EAGAIN },
	{ TA_DIR, OUT_RM_CHILD, -EAGAIN },
	{ TA_DIR, OUT_WRITE_CHILD, 0 },
	{ TA_DIR, OUT_WRITE_UNRELATED, 0 },
	{ TA_DIR, OUT_CREATE_SIBLING, 0 },
	{ TA_DIR, OUT_RM_PARENT, -EAGAIN },

	{ TA_ABSENT, OUT_NOTHING, 0 },
	{ TA_ABSENT, OUT_CREATE_ABSENT, -EAGAIN },
	{ TA_ABSENT, OUT_CREATE_BELOW_ABSENT, -EAGAIN },
	{ TA_ABSENT, OUT_CREATE_SIBLING, 0 },
	{ TA_ABSENT, OUT_WRITE_SIBLING, 0 },
	{ TA_ABSENT, OUT_WRITE_UNRELATED, 0 },
	/*
	 * ENOENT or EACCES for a missing node depends on the nearest
	 * existing ancestor's perms, not on its value (txn.c).
	 */
	{ TA_ABSENT, OUT_WRITE_PARENT, 0 },
	{ TA_ABSENT, OUT_SET_PARENT_PERMS, -EAGAIN },

	{ TA_GET_PERMS, OUT_NOTHING, 0 },
	{ TA_GET_PERMS, OUT_SET_PERMS, -EAGAIN },
	/* Only the perms were read: a new value does not matter. */
	{ TA_GET_PERMS, OUT_WRITE_SAME, 0 },
	{ TA_GET_PERMS, OUT_WRITE_UNRELATED, 0 },

	{ TA_SET_PERMS, OUT_NOTHING, 0 },
	{ TA_SET_PERMS, OUT_WRITE_SAME, -EAGAIN },
	{ TA_SET_PERMS, OUT_SET_PERMS, -EAGAIN },
	{ TA_SET_PERMS, OUT_CREATE_SIBLING, 0 },
	{ TA_SET_PERMS, OUT_WRITE_UNRELATED, 0 },
};

static void
conflict_ta(struct store_conn *a, uint32_t t, enum ta_act act)
{
	char *v;

	switch (act) {
	case TA_READ:
		ck_read(a, t, "/m/n", "v");
		break;
	case TA_WRITE:
		ck_rc(tst_write(a, t, "/m/n", "ta"), 0);
		break;
	case TA_CREATE:
		ck_rc(tst_write(a, t, "/m/c", "ta"), 0);
		break;
	case TA_MKDIR:
		ck_rc(store_mkdir(a, t, "/m/c"), 0);
		break;
	case TA_RM:
		ck_rc(store_rm(a, t, "/m/n"), 0);
		break;
	case TA_DIR:
		ck_dir(a, t, "/m/n", "k");
		break;
	case TA_ABSENT:
		ck_rc(tst_read(a, t, "/m/x", &v), -ENOENT);
		break;
	case TA_GET_PERMS:
		ck_perms(a, t, "/m/n", "n0");
		break;
	case TA_SET_PERMS:
		ck_rc(tst_set_perms(a, t, "/m/n", "n0,r5"), 0);
		break;
	}
}

static void
conflict_out(struct store_conn *b, enum out_act act)
{
	switch (act) {
	case OUT_NOTHING:
		break;
	case OUT_WRITE_SAME:
		ck_rc(tst_write(b, 0, "/m/n", "out"), 0);
		break;
	case OUT_WRITE_SAME_VALUE:
		ck_rc(tst_write(b, 0, "/m/n", "v"), 0);
		break;
	case OUT_WRITE_UNRELATED:
		ck_rc(tst_write(b, 0, "/u", "out"), 0);
		break;
	case OUT_CREATE_UNRELATED:
		ck_rc(tst_write(b, 0, "/z", "out"), 0);
		break;
	case OUT_CREATE_SIBLING:
		ck_rc(tst_write(b, 0, "/m/s2", "out"), 0);
		break;
	case OUT_WRITE_SIBLING:
		ck_rc(tst_write(b, 0, "/m/s", "out"), 0);
		break;
	case OUT_WRITE_PARENT:
		ck_rc(tst_write(b, 0, "/m", "out"), 0);
		break;
	case OUT_RM_PARENT:
		ck_rc(store_rm(b, 0, "/m"), 0);
		break;
	case OUT_SET_PARENT_PERMS:
		ck_rc(tst_set_perms(b, 0, "/m", "n0,r6"), 0);
		break;
	case OUT_SET_PERMS:
		ck_rc(tst_set_perms(b, 0, "/m/n", "n0,r6"), 0);
		break;
	case OUT_RM_RECREATE:
		ck_rc(store_rm(b, 0, "/m/n"), 0);
		ck_rc(tst_write(b, 0, "/m/n", "v"), 0);
		break;
	case OUT_CREATE_ABSENT:
		ck_rc(tst_write(b, 0, "/m/x", "out"), 0);
		break;
	case OUT_CREATE_BELOW_ABSENT:
		ck_rc(tst_write(b, 0, "/m/x/y", "out"), 0);
		break;
	case OUT_CREATE_NEW:
		ck_rc(tst_write(b, 0, "/m/c", "out"), 0);
		break;
	case OUT_RM_CHILD:
		ck_rc(store_rm(b, 0, "/m/n/k"), 0);
		break;
	case OUT_CREATE_CHILD:
		ck_rc(tst_write(b, 0, "/m/n/k2", "out"), 0);
		break;
	case OUT_WRITE_CHILD:
		ck_rc(tst_write(b, 0, "/m/n/k", "out"), 0);
		break;
	}
}

/* After a successful commit both changes must be there. */
static void
conflict_check_merged(struct store_conn *c, enum ta_act ta, enum out_act out)
{
	char *v;

	switch (ta) {
	case TA_WRITE:
		ck_read(c, 0, "/m/n", "ta");
		break;
	case TA_CREATE:
		ck_read(c, 0, "/m/c", "ta");
		break;
	case TA_MKDIR:
		ck_read(c, 0, "/m/c", "");
		break;
	case TA_RM:
		ck_rc(tst_read(c, 0, "/m/n", &v), -ENOENT);
		ck_rc(tst_read(c, 0, "/m/n/k", &v), -ENOENT);
		break;
	case TA_SET_PERMS:
		ck_perms(c, 0, "/m/n", "n0,r5");
		break;
	default:
		break;
	}
	switch (out) {
	case OUT_WRITE_UNRELATED:
		ck_read(c, 0, "/u", "out");
		break;
	case OUT_CREATE_UNRELATED:
		ck_read(c, 0, "/z", "out");
		break;
	case OUT_CREATE_SIBLING:
		ck_read(c, 0, "/m/s2", "out");
		break;
	case OUT_WRITE_SIBLING:
		ck_read(c, 0, "/m/s", "out");
		break;
	case OUT_WRITE_PARENT:
		ck_read(c, 0, "/m", "out");
		break;
	case OUT_WRITE_CHILD:
		ck_read(c, 0, "/m/n/k", "out");
		break;
	default:
		break;
	}
	/* Child lists of /m merged: no lost or duplicated names. */
	if (ta == TA_CREATE || ta == TA_MKDIR) {
		if (out == OUT_CREATE_SIBLING)
			ck_dir(c, 0, "/m", "n,s,s2,c");
		else
			ck_dir(c, 0, "/m", "n,s,c");
	}
	if (ta == TA_RM)
		ck_dir(c, 0, "/m", out == OUT_CREATE_SIBLING ? "s,s2" : "s");
}

START_TEST(test_store_txn_conflict_matrix)
{
	struct store_conn *a = tst_conn(fx.s, &tst_priv, "a");
	struct store_conn *b = tst_conn(fx.s, &tst_priv, "b");
	enum ta_act ta = conflicts[_i].ta;
	enum out_act out = conflicts[_i].out;
	char *after_out, *after_commit;
	uint32_t t;
	int rc;

	ck_rc(tst_write(b, 0, "/m/n", "v"), 0);
	ck_rc(tst_write(b, 0, "/m/n/k", "k"), 0);
	ck_rc(tst_write(b, 0, "/m/s", "s"), 0);
	ck_rc(tst_write(b, 0, "/u", "u"), 0);
	t = txn_start(a);
	conflict_ta(a, t, ta);
	conflict_out(b, out);
	after_out = tst_dump(fx.s);
	rc = store_txn_end(a, t, true);
	ck_assert_msg(rc == conflicts[_i].want,
		      "transaction %s, meanwhile %s: commit gave %d, want %d",
		      ta_names[ta], out_names[out], rc, conflicts[_i].want);
	after_commit = tst_dump(fx.s);
	if (rc == 0) {
		conflict_check_merged(a, ta, out);
	} else {
		/* A failed commit changes nothing. */
		ck_assert_str_eq(after_out, after_commit);
	}
	ck_assert_uint_eq(store_conn_ntransactions(a), 0);
	free(after_out);
	free(after_commit);
}
END_TEST

START_TEST(test_store_txn_own_changes_no_conflict)
{
	uint32_t t;

	ck_rc(tst_write(fx.p, 0, "/m/n", "v"), 0);
	t = txn_start(fx.p);
	ck_read(fx.p, t, "/m/n", "v");
	ck_rc(tst_write(fx.p, t, "/m/n", "1"), 0);
	ck_read(fx.p, t, "/m/n", "1");
	ck_rc(tst_write(fx.p, t, "/m/n/new", "2"), 0);
	ck_dir(fx.p, t, "/m/n", "new");
	ck_rc(store_rm(fx.p, t, "/m/n/new"), 0);
	ck_dir(fx.p, t, "/m/n", "");
	ck_rc(store_txn_end(fx.p, t, true), 0);
	ck_read(fx.p, 0, "/m/n", "1");
	ck_dir(fx.p, 0, "/m/n", "");
}
END_TEST

START_TEST(test_store_txn_conflict_after_other_txn_commit)
{
	struct store_conn *o = tst_conn(fx.s, &tst_priv, "o");
	uint32_t t1, t2;

	ck_rc(tst_write(fx.p, 0, "/m/n", "v"), 0);
	t1 = txn_start(fx.p);
	ck_read(fx.p, t1, "/m/n", "v");
	t2 = txn_start(o);
	ck_rc(tst_write(o, t2, "/m/n", "o"), 0);
	/* An uncommitted change is no conflict yet... */
	ck_read(fx.p, t1, "/m/n", "v");
	ck_rc(store_txn_end(o, t2, true), 0);
	/* ...a committed one is. */
	ck_rc(tst_write(fx.p, t1, "/m/other", "x"), 0);
	ck_rc(store_txn_end(fx.p, t1, true), -EAGAIN);
	ck_read(fx.p, 0, "/m/n", "o");
}
END_TEST

Suite *
store_txn_suite(void)
{
	Suite *s = suite_create("store_txn");
	TCase *tc = tcase_create("core");
	TCase *tm = tcase_create("conflicts");
	TCase *tl = tcase_create("limits");

	tcase_add_checked_fixture(tc, tst_setup, tst_teardown);
	tcase_add_test(tc, test_store_txn_ids_distinct);
	tcase_add_test(tc, test_store_txn_empty_commit_and_abort);
	tcase_add_test(tc, test_store_txn_unknown_id);
	tcase_add_test(tc, test_store_txn_rmw_commit);
	tcase_add_test(tc, test_store_txn_rmw_abort);
	tcase_add_test(tc, test_store_txn_ta_err_repeatable_read);
	tcase_add_test(tc, test_store_txn_changes_invisible_until_commit);
	tcase_add_test(tc, test_store_txn_abort_discards);
	tcase_add_test(tc, test_store_txn_perms_checked_inside);
	tcase_add_test(tc, test_store_txn_dropped_with_conn);
	tcase_add_test(tc, test_store_txn_dropped_by_reset_watches);
	tcase_add_test(tc, test_store_txn_export_import);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(tm, tst_setup, tst_teardown);
	tcase_add_loop_test(tm, test_store_txn_conflict_matrix, 0,
			    (int)LXS_ARRAY_SIZE(conflicts));
	tcase_add_test(tm, test_store_txn_two_writers_second_fails);
	tcase_add_test(tm, test_store_txn_disjoint_writers_both_commit);
	tcase_add_test(tm, test_store_txn_own_changes_no_conflict);
	tcase_add_test(tm, test_store_txn_conflict_after_other_txn_commit);
	suite_add_tcase(s, tm);

	tcase_add_checked_fixture(tl, tst_setup, tst_teardown);
	tcase_add_test(tl, test_store_txn_quota_per_domain);
	tcase_add_test(tl, test_store_txn_quota_override);
	tcase_add_test(tl, test_store_txn_nodes_quota_fails_txn);
	tcase_add_test(tl, test_store_txn_nodes_quota_default);
	suite_add_tcase(s, tl);
	return s;
}
