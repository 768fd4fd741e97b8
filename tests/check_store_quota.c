/*
 * Quotas: names, defaults, global and per-domain values, the node count of
 * a domain, node size, permission count, watches, and the exemption of
 * privileged callers. (Transactions and path-max have their own tests in
 * the txn and paths suites.)
 */
#include <stdio.h>
#include <stdlib.h>

#include "tests/check_store.h"

static const struct {
	enum store_quota q;
	const char *name;
	uint32_t def;
} quotas[] = {
	{ STORE_QUOTA_NODES, "nodes", 1000 },
	{ STORE_QUOTA_WATCHES, "watches", 128 },
	{ STORE_QUOTA_TRANSACTIONS, "transactions", 10 },
	{ STORE_QUOTA_TXN_NODES, "transaction-nodes", 1024 },
	{ STORE_QUOTA_NODE_SIZE, "node-size", 2048 },
	{ STORE_QUOTA_NODE_PERMS, "node-permissions", 5 },
	{ STORE_QUOTA_PATH_MAX, "path-max", 2048 },
	{ STORE_QUOTA_OUTSTANDING, "outstanding", 20 },
	{ STORE_QUOTA_MEMORY, "memory", 2621440 },
};

static uint32_t
usage_nodes(uint32_t domid)
{
	struct store_usage u;

	store_usage(fx.s, domid, &u);
	return u.nodes;
}

START_TEST(test_store_quota_names)
{
	ck_assert_uint_eq(LXS_ARRAY_SIZE(quotas), STORE_QUOTA_COUNT);
	for (size_t i = 0; i < LXS_ARRAY_SIZE(quotas); i++) {
		ck_assert_ptr_nonnull(store_quota_name(quotas[i].q));
		ck_assert_str_eq(store_quota_name(quotas[i].q), quotas[i].name);
		ck_assert_int_eq(store_quota_lookup(quotas[i].name),
				 (int)quotas[i].q);
	}
	ck_assert_int_eq(store_quota_lookup("bogus"), -EINVAL);
	ck_assert_int_eq(store_quota_lookup(""), -EINVAL);
	ck_assert_int_eq(store_quota_lookup("Nodes"), -EINVAL);
	ck_assert_int_eq(store_quota_lookup("soft-memory"), -EINVAL);
}
END_TEST

START_TEST(test_store_quota_defaults)
{
	uint32_t v;

	for (size_t i = 0; i < LXS_ARRAY_SIZE(quotas); i++) {
		v = 0;
		ck_rc(store_quota_get(fx.s, STORE_DOMID_GLOBAL, quotas[i].q,
				      false, &v), 0);
		ck_assert_msg(v == quotas[i].def, "%s: %u, want %u",
			      quotas[i].name, v, quotas[i].def);
		/* A domain without overrides sees the global value. */
		v = 0;
		ck_rc(store_quota_get(fx.s, 5, quotas[i].q, false, &v), 0);
		ck_assert_msg(v == quotas[i].def, "%s for dom5: %u, want %u",
			      quotas[i].name, v, quotas[i].def);
	}
	ck_rc(store_quota_get(fx.s, STORE_DOMID_GLOBAL, STORE_QUOTA_MEMORY,
			      true, &v), 0);
	ck_assert_uint_eq(v, 2097152);
}
END_TEST

START_TEST(test_store_quota_soft_only_memory)
{
	uint32_t v;

	ck_rc(store_quota_get(fx.s, STORE_DOMID_GLOBAL, STORE_QUOTA_NODES,
			      true, &v), -EINVAL);
	ck_rc(store_quota_set(fx.s, STORE_DOMID_GLOBAL, STORE_QUOTA_WATCHES,
			      true, 5), -EINVAL);
	ck_rc(store_quota_set(fx.s, 5, STORE_QUOTA_MEMORY, true, 1000), 0);
	ck_rc(store_quota_get(fx.s, 5, STORE_QUOTA_MEMORY, true, &v), 0);
	ck_assert_uint_eq(v, 1000);
	ck_rc(store_quota_get(fx.s, 5, STORE_QUOTA_MEMORY, false, &v), 0);
	ck_assert_uint_eq(v, 2621440);
	ck_rc(store_quota_get(fx.s, STORE_DOMID_GLOBAL, STORE_QUOTA_COUNT,
			      false, &v), -EINVAL);
	ck_rc(store_quota_set(fx.s, STORE_DOMID_GLOBAL, STORE_QUOTA_COUNT,
			      false, 1), -EINVAL);
}
END_TEST

START_TEST(test_store_quota_domain_override_beats_global)
{
	uint32_t v;

	ck_rc(store_quota_set(fx.s, STORE_DOMID_GLOBAL, STORE_QUOTA_WATCHES,
			      false, 50), 0);
	ck_rc(store_quota_get(fx.s, 5, STORE_QUOTA_WATCHES, false, &v), 0);
	ck_assert_uint_eq(v, 50);
	ck_rc(store_quota_set(fx.s, 5, STORE_QUOTA_WATCHES, false, 7), 0);
	ck_rc(store_quota_get(fx.s, 5, STORE_QUOTA_WATCHES, false, &v), 0);
	ck_assert_uint_eq(v, 7);
	ck_rc(store_quota_get(fx.s, 6, STORE_QUOTA_WATCHES, false, &v), 0);
	ck_assert_uint_eq(v, 50);
	ck_rc(store_quota_get(fx.s, STORE_DOMID_GLOBAL, STORE_QUOTA_WATCHES,
			      false, &v), 0);
	ck_assert_uint_eq(v, 50);
	/* The override wins even when the global value changes again. */
	ck_rc(store_quota_set(fx.s, STORE_DOMID_GLOBAL, STORE_QUOTA_WATCHES,
			      false, 60), 0);
	ck_rc(store_quota_get(fx.s, 5, STORE_QUOTA_WATCHES, false, &v), 0);
	ck_assert_uint_eq(v, 7);
}
END_TEST

START_TEST(test_store_quota_watches_enforced)
{
	ck_rc(store_quota_set(fx.s, STORE_DOMID_GLOBAL, STORE_QUOTA_WATCHES,
			      false, 2), 0);
	ck_rc(store_quota_set(fx.s, 6, STORE_QUOTA_WATCHES, false, 4), 0);
	ck_rc(store_watch(fx.d5, "/a", "t", -1), 0);
	ck_rc(store_watch(fx.d5, "/b", "t", -1), 0);
	ck_rc(store_watch(fx.d5, "/c", "t", -1), -ENOSPC);
	for (int i = 0; i < 4; i++) {
		char *p = xasprintf("/x%d", i);

		ck_rc(store_watch(fx.d6, p, "t", -1), 0);
		free(p);
	}
	ck_rc(store_watch(fx.d6, "/x4", "t", -1), -ENOSPC);
	/* 0: unlimited. */
	ck_rc(store_quota_set(fx.s, 5, STORE_QUOTA_WATCHES, false, 0), 0);
	for (int i = 0; i < 300; i++) {
		char *p = xasprintf("/y%d", i);

		ck_rc(store_watch(fx.d5, p, "t", -1), 0);
		free(p);
	}
	/* Priv is exempt. */
	ck_rc(store_quota_set(fx.s, 0, STORE_QUOTA_WATCHES, false, 1), 0);
	ck_rc(store_watch(fx.p, "/a", "t", -1), 0);
	ck_rc(store_watch(fx.p, "/b", "t", -1), 0);
	ck_rc(store_watch(fx.p, "/c", "t", -1), 0);
}
END_TEST

START_TEST(test_store_quota_watches_across_conns)
{
	struct store_conn *other5 = tst_conn(fx.s, &tst_dom5, "other5");

	ck_rc(store_quota_set(fx.s, 5, STORE_QUOTA_WATCHES, false, 3), 0);
	ck_rc(store_watch(fx.d5, "/a", "t", -1), 0);
	ck_rc(store_watch(fx.d5, "/b", "t", -1), 0);
	ck_rc(store_watch(other5, "/c", "t", -1), 0);
	ck_rc(store_watch(other5, "/d", "t", -1), -ENOSPC);
	tst_conn_free(other5);
	ck_rc(store_watch(fx.d5, "/d", "t", -1), 0);
}
END_TEST

START_TEST(test_store_quota_nodes_counts_owned)
{
	uint32_t base = usage_nodes(5);

	ck_assert_uint_eq(base, 1);	/* /local/domain/5 */
	ck_rc(tst_write(fx.d5, 0, "/local/domain/5/a/b", "v"), 0);
	ck_assert_uint_eq(usage_nodes(5), base + 2);
	/* Created by priv below a node of 5: owned by 5. */
	ck_rc(tst_write(fx.p, 0, "/local/domain/5/p", "v"), 0);
	ck_assert_uint_eq(usage_nodes(5), base + 3);
	/* Overwriting costs nothing. */
	ck_rc(tst_write(fx.d5, 0, "/local/domain/5/a/b", "w"), 0);
	ck_assert_uint_eq(usage_nodes(5), base + 3);
	/* Ownership moves with SET_PERMS. */
	ck_rc(tst_set_perms(fx.p, 0, "/local/domain/5/p", "n6"), 0);
	ck_assert_uint_eq(usage_nodes(5), base + 2);
	ck_assert_uint_eq(usage_nodes(6), 2);
	/* RM gives them back. */
	ck_rc(store_rm(fx.p, 0, "/local/domain/5/a"), 0);
	ck_assert_uint_eq(usage_nodes(5), base);
	ck_rc(store_rm(fx.p, 0, "/local/domain/5/p"), 0);
	ck_assert_uint_eq(usage_nodes(6), 1);
}
END_TEST

START_TEST(test_store_quota_nodes_enforced)
{
	uint32_t base = usage_nodes(5);
	char *v;

	ck_rc(store_quota_set(fx.s, 5, STORE_QUOTA_NODES, false, base + 3), 0);
	ck_rc(tst_write(fx.d5, 0, "/local/domain/5/a", "v"), 0);
	ck_rc(tst_write(fx.d5, 0, "/local/domain/5/b", "v"), 0);
	tst_log_clear();
	/* Two new nodes but room for one: nothing is created. */
	ck_rc(tst_write(fx.d5, 0, "/local/domain/5/c/d", "v"), -ENOSPC);
	ck_rc(tst_read(fx.p, 0, "/local/domain/5/c", &v), -ENOENT);
	ck_assert_uint_eq(tst_log.nmuts, 0);
	ck_rc(store_mkdir(fx.d5, 0, "/local/domain/5/c"), 0);
	ck_assert_uint_eq(usage_nodes(5), base + 3);
	ck_rc(tst_write(fx.d5, 0, "/local/domain/5/d", "v"), -ENOSPC);
	ck_rc(store_mkdir(fx.d5, 0, "/local/domain/5/d"), -ENOSPC);
	/* Existing nodes can still be written. */
	ck_rc(tst_write(fx.d5, 0, "/local/domain/5/a", "w"), 0);
	/* Freeing one makes room again. */
	ck_rc(store_rm(fx.d5, 0, "/local/domain/5/b"), 0);
	ck_rc(tst_write(fx.d5, 0, "/local/domain/5/d", "v"), 0);
	/* Priv may create nodes owned by 5 beyond the quota. */
	ck_rc(tst_write(fx.p, 0, "/local/domain/5/e", "v"), 0);
	ck_assert_uint_eq(usage_nodes(5), base + 4);
	/* Domain 6 is unaffected. */
	ck_rc(tst_write(fx.d6, 0, "/local/domain/6/a/b/c/d", "v"), 0);
}
END_TEST

START_TEST(test_store_quota_nodes_in_txn)
{
	uint32_t base = usage_nodes(5), t;
	char *v;

	ck_rc(store_quota_set(fx.s, 5, STORE_QUOTA_NODES, false, base + 2), 0);
	ck_rc(store_txn_start(fx.d5, &t), 0);
	ck_rc(tst_write(fx.d5, t, "/local/domain/5/a", "v"), 0);
	ck_rc(tst_write(fx.d5, t, "/local/domain/5/b", "v"), 0);
	ck_rc(tst_write(fx.d5, t, "/local/domain/5/c", "v"), -ENOSPC);
	ck_rc(store_txn_end(fx.d5, t, true), 0);
	ck_assert_uint_eq(usage_nodes(5), base + 2);
	ck_rc(tst_read(fx.p, 0, "/local/domain/5/c", &v), -ENOENT);
}
END_TEST

START_TEST(test_store_quota_nodes_default)
{
	uint32_t base = usage_nodes(5);
	uint32_t created = 0;
	int rc = 0;
	char *p;

	ck_assert_uint_eq(base, 1);
	for (int d = 0; d < 30; d++) {
		p = xasprintf("/local/domain/5/d%d", d);
		ck_rc(store_mkdir(fx.d5, 0, p), 0);
		free(p);
	}
	for (int i = 0; i < 1100 && rc == 0; i++) {
		p = xasprintf("/local/domain/5/d%d/n%d", i % 30, i);
		rc = tst_write(fx.d5, 0, p, "");
		free(p);
		if (rc == 0)
			created++;
	}
	ck_assert_int_eq(rc, -ENOSPC);
	ck_assert_uint_eq(base + 30 + created, 1000);
	ck_assert_uint_eq(usage_nodes(5), 1000);
	/* 0 means unlimited. */
	ck_rc(store_quota_set(fx.s, 5, STORE_QUOTA_NODES, false, 0), 0);
	ck_rc(tst_write(fx.d5, 0, "/local/domain/5/d0/more", ""), 0);
	ck_assert_uint_eq(usage_nodes(5), 1001);
}
END_TEST

START_TEST(test_store_quota_node_size)
{
	char *big = tst_str_rep("", 'v', 2048);
	char *small = tst_str_rep("", 'v', 1500);
	char *huge = tst_str_rep("", 'v', 3000);
	const void *v;
	uint32_t len;

	ck_rc(tst_write(fx.d5, 0, "/local/domain/5/small", small), 0);
	/* Value alone at the limit: perms push it over. */
	ck_rc(tst_write(fx.d5, 0, "/local/domain/5/big", big), -ENOSPC);
	ck_rc(tst_write(fx.d5, 0, "/local/domain/5/small", huge), -ENOSPC);
	ck_rc(store_read(fx.p, 0, "/local/domain/5/small", &v, &len), 0);
	ck_assert_uint_eq(len, 1500);
	/* Priv is exempt, also for nodes owned by 5. */
	ck_rc(tst_write(fx.p, 0, "/local/domain/5/big", huge), 0);
	/* Override; 0 = unlimited. */
	ck_rc(store_quota_set(fx.s, 5, STORE_QUOTA_NODE_SIZE, false, 1000), 0);
	ck_rc(tst_write(fx.d5, 0, "/local/domain/5/x", small), -ENOSPC);
	ck_rc(store_quota_set(fx.s, 5, STORE_QUOTA_NODE_SIZE, false, 0), 0);
	ck_rc(tst_write(fx.d5, 0, "/local/domain/5/x", huge), 0);
	free(big);
	free(small);
	free(huge);
}
END_TEST

START_TEST(test_store_quota_node_size_ignores_children)
{
	char name[128];
	char *big = tst_str_rep("", 'v', 2041);
	int i, rc = 0;

	/*
	 * Children are nodes of their own, bounded by the nodes quota: a
	 * parent's child list does not count against its node-size (see
	 * docs/PROTOCOL.md), unlike cxenstored's packed node records.
	 */
	ck_rc(store_mkdir(fx.d5, 0, "/local/domain/5/dir"), 0);
	for (i = 0; i < 40 && rc == 0; i++) {
		snprintf(name, sizeof(name), "/local/domain/5/dir/%0100d", i);
		rc = tst_write(fx.d5, 0, name, "");
	}
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(i, 40);
	/* value + 8 bytes per permission entry: 2040 + 8 fits, 2041 not. */
	ck_rc(tst_write(fx.d5, 0, "/local/domain/5/dir", big), -ENOSPC);
	big[2040] = '\0';
	ck_rc(tst_write(fx.d5, 0, "/local/domain/5/dir", big), 0);
	free(big);
}
END_TEST

START_TEST(test_store_quota_node_perms_override)
{
	ck_rc(tst_write(fx.d5, 0, "/local/domain/5/x", "v"), 0);
	ck_rc(store_quota_set(fx.s, 5, STORE_QUOTA_NODE_PERMS, false, 2), 0);
	ck_rc(tst_set_perms(fx.d5, 0, "/local/domain/5/x", "n5,r6"), 0);
	ck_rc(tst_set_perms(fx.d5, 0, "/local/domain/5/x", "n5,r6,r7"),
	      -ENOSPC);
	ck_rc(store_quota_set(fx.s, 5, STORE_QUOTA_NODE_PERMS, false, 0), 0);
	ck_rc(tst_set_perms(fx.d5, 0, "/local/domain/5/x",
			    "n5,r1,r2,r3,r4,r6,r7,r8,r9,r10"), 0);
}
END_TEST

START_TEST(test_store_quota_memory_accounted)
{
	struct store_usage a, b;
	char *val = tst_str_rep("", 'm', 1000);

	store_usage(fx.s, 5, &a);
	ck_rc(tst_write(fx.d5, 0, "/local/domain/5/m", val), 0);
	store_usage(fx.s, 5, &b);
	ck_assert_uint_ge(b.memory, a.memory + 1000);
	ck_rc(store_rm(fx.d5, 0, "/local/domain/5/m"), 0);
	store_usage(fx.s, 5, &b);
	ck_assert_uint_eq(b.memory, a.memory);
	free(val);
}
END_TEST

START_TEST(test_store_quota_get_own)
{
	uint32_t v = 99;

	ck_rc(store_quota_get_own(fx.s, 5, STORE_QUOTA_NODES, false, &v),
	      -ENOENT);
	ck_rc(store_quota_get_own(fx.s, 1234, STORE_QUOTA_NODES, false, &v),
	      -ENOENT);
	ck_rc(store_quota_get_own(fx.s, STORE_DOMID_GLOBAL, STORE_QUOTA_NODES,
				  false, &v), 0);
	ck_assert_uint_eq(v, 1000);
	ck_rc(store_quota_get_own(fx.s, STORE_DOMID_GLOBAL, STORE_QUOTA_MEMORY,
				  true, &v), 0);
	ck_assert_uint_eq(v, 2097152);
	ck_rc(store_quota_set(fx.s, 5, STORE_QUOTA_NODES, false, 0), 0);
	ck_rc(store_quota_get_own(fx.s, 5, STORE_QUOTA_NODES, false, &v), 0);
	ck_assert_uint_eq(v, 0);
	ck_rc(store_quota_get_own(fx.s, 5, STORE_QUOTA_WATCHES, false, &v),
	      -ENOENT);
	ck_rc(store_quota_get_own(fx.s, 5, STORE_QUOTA_MEMORY, true, &v),
	      -ENOENT);
	ck_rc(store_quota_set(fx.s, 5, STORE_QUOTA_MEMORY, true, 77), 0);
	ck_rc(store_quota_get_own(fx.s, 5, STORE_QUOTA_MEMORY, true, &v), 0);
	ck_assert_uint_eq(v, 77);
	ck_rc(store_quota_get_own(fx.s, 5, STORE_QUOTA_MEMORY, false, &v),
	      -ENOENT);
	ck_rc(store_quota_get_own(fx.s, 5, STORE_QUOTA_NODES, true, &v),
	      -EINVAL);
	ck_rc(store_quota_get_own(fx.s, 5, STORE_QUOTA_COUNT, false, &v),
	      -EINVAL);
}
END_TEST

static void
collect_domid(void *arg, uint32_t domid)
{
	struct buf *b = arg;

	buf_printf(b, "%u,", domid);
}

START_TEST(test_store_quota_foreach_domain)
{
	struct buf b = { 0 };

	ck_rc(store_quota_set(fx.s, 9, STORE_QUOTA_NODES, false, 10), 0);
	ck_rc(store_quota_set(fx.s, 3, STORE_QUOTA_WATCHES, false, 10), 0);
	store_foreach_domain(fx.s, collect_domid, &b);
	buf_add(&b, "", 1);
	/* Domain 0 owns the initial nodes. */
	ck_assert_str_eq(b.data, "0,3,5,6,9,");
	buf_free(&b);
}
END_TEST

/* Exactly one refusal reported, by q, with the value and the limit. */
static void
ck_refused(enum store_quota q, uint64_t value, uint32_t limit)
{
	ck_assert_uint_eq(tst_log.nrefusals, 1);
	ck_assert_uint_eq(tst_log.refusals[0].domid, 5);
	ck_assert_str_eq(store_quota_name(tst_log.refusals[0].q),
			 store_quota_name(q));
	ck_assert_uint_eq(tst_log.refusals[0].value, value);
	ck_assert_uint_eq(tst_log.refusals[0].limit, limit);
	tst_log.nrefusals = 0;
}

static void
set_quota5(enum store_quota q, uint32_t v)
{
	ck_rc(store_quota_set(fx.s, 5, q, false, v), 0);
}

/* Every quota the store enforces names itself when it refuses. */
START_TEST(test_store_quota_refusal_names_the_quota)
{
	struct store_perm perms[3] = { { 5, 0 }, { 6, 1 }, { 7, 1 } };
	uint32_t tx, n0 = usage_nodes(5);
	char *big;

	tst_log.nrefusals = 0;
	set_quota5(STORE_QUOTA_NODES, n0 + 1);
	ck_rc(tst_write(fx.d5, 0, "a", "1"), 0);
	ck_assert_uint_eq(tst_log.nrefusals, 0);
	ck_rc(tst_write(fx.d5, 0, "b", "1"), -ENOSPC);
	ck_refused(STORE_QUOTA_NODES, n0 + 2, n0 + 1);
	set_quota5(STORE_QUOTA_NODES, 0);

	set_quota5(STORE_QUOTA_NODE_SIZE, 10);
	ck_rc(tst_write(fx.d5, 0, "a", "0123456789a"), -ENOSPC);
	/* value 11 bytes + 8 per permission entry (one). */
	ck_refused(STORE_QUOTA_NODE_SIZE, 19, 10);
	set_quota5(STORE_QUOTA_NODE_SIZE, 0);

	set_quota5(STORE_QUOTA_NODE_PERMS, 2);
	ck_rc(store_set_perms(fx.d5, 0, "a", perms, 3), -ENOSPC);
	ck_refused(STORE_QUOTA_NODE_PERMS, 3, 2);

	set_quota5(STORE_QUOTA_WATCHES, 1);
	ck_rc(store_watch(fx.d5, "a", "t1", -1), 0);
	ck_rc(store_watch(fx.d5, "a", "t2", -1), -ENOSPC);
	ck_refused(STORE_QUOTA_WATCHES, 2, 1);

	set_quota5(STORE_QUOTA_TRANSACTIONS, 1);
	ck_rc(store_txn_start(fx.d5, &tx), 0);
	ck_rc(store_txn_start(fx.d5, &tx), -ENOSPC);
	ck_refused(STORE_QUOTA_TRANSACTIONS, 2, 1);

	set_quota5(STORE_QUOTA_TXN_NODES, 1);
	ck_rc(tst_write(fx.d5, tx, "a", "2"), 0);
	ck_rc(tst_write(fx.d5, tx, "c", "2"), -ENOSPC);
	ck_refused(STORE_QUOTA_TXN_NODES, 2, 1);
	ck_rc(store_txn_end(fx.d5, tx, false), 0);

	set_quota5(STORE_QUOTA_PATH_MAX, 8);
	ck_rc(tst_write(fx.d5, 0, "abcdefghi", "1"), -EINVAL);
	ck_refused(STORE_QUOTA_PATH_MAX, 9, 8);

	set_quota5(STORE_QUOTA_MEMORY, 100);
	big = tst_str_rep("", 'm', 200);
	ck_rc(tst_write(fx.d5, 0, "a", big), -ENOMEM);
	free(big);
	ck_assert_uint_eq(tst_log.nrefusals, 1);
	ck_assert_int_eq(tst_log.refusals[0].q, STORE_QUOTA_MEMORY);
	ck_assert_uint_eq(tst_log.refusals[0].limit, 100);
	ck_assert_uint_gt(tst_log.refusals[0].value, 200);
	tst_log.nrefusals = 0;

	/* Privileged callers are never limited, so never reported. */
	ck_rc(store_quota_set(fx.s, 0, STORE_QUOTA_NODE_SIZE, false, 1), 0);
	ck_rc(tst_write(fx.p, 0, "/big", "0123456789"), 0);
	ck_assert_uint_eq(tst_log.nrefusals, 0);
}
END_TEST

START_TEST(test_store_quota_usage_unknown_domain)
{
	struct store_usage u;

	memset(&u, 0xff, sizeof(u));
	store_usage(fx.s, 1234, &u);
	ck_assert_uint_eq(u.nodes, 0);
	ck_assert_uint_eq(u.watches, 0);
	ck_assert_uint_eq(u.transactions, 0);
	ck_assert_uint_eq(u.memory, 0);
}
END_TEST

Suite *
store_quota_suite(void)
{
	Suite *s = suite_create("store_quota");
	TCase *tc = tcase_create("core");
	TCase *tl = tcase_create("limits");

	tcase_add_checked_fixture(tc, tst_setup, tst_teardown);
	tcase_add_test(tc, test_store_quota_names);
	tcase_add_test(tc, test_store_quota_defaults);
	tcase_add_test(tc, test_store_quota_soft_only_memory);
	tcase_add_test(tc, test_store_quota_domain_override_beats_global);
	tcase_add_test(tc, test_store_quota_get_own);
	tcase_add_test(tc, test_store_quota_nodes_counts_owned);
	tcase_add_test(tc, test_store_quota_memory_accounted);
	tcase_add_test(tc, test_store_quota_foreach_domain);
	tcase_add_test(tc, test_store_quota_usage_unknown_domain);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(tl, tst_setup, tst_teardown);
	tcase_add_test(tl, test_store_quota_watches_enforced);
	tcase_add_test(tl, test_store_quota_watches_across_conns);
	tcase_add_test(tl, test_store_quota_nodes_enforced);
	tcase_add_test(tl, test_store_quota_nodes_in_txn);
	tcase_add_test(tl, test_store_quota_nodes_default);
	tcase_add_test(tl, test_store_quota_node_size);
	tcase_add_test(tl, test_store_quota_node_size_ignores_children);
	tcase_add_test(tl, test_store_quota_node_perms_override);
	tcase_add_test(tl, test_store_quota_refusal_names_the_quota);
	suite_add_tcase(s, tl);
	return s;
}
