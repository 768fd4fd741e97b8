/*
 * Permissions: the wire strings, the access rules (priv, owner, target, the
 * first matching ACL entry, DOMID_ANY, the owner's bits as the default),
 * ENOENT against EACCES for missing nodes, inheritance, SET_PERMS rules and
 * store_domain_gone.
 */
#include <stdio.h>
#include <stdlib.h>

#include "tests/check_store.h"

static const struct store_caller tst_dom7_target5 = { 7, 5, false };

START_TEST(test_store_perm_parse_valid)
{
	static const struct {
		const char *str;
		uint32_t domid;
		uint32_t bits;
	} cases[] = {
		{ "r5", 5, STORE_PERM_READ },
		{ "w0", 0, STORE_PERM_WRITE },
		{ "b65535", 65535, STORE_PERM_BOTH },
		{ "n7", 7, STORE_PERM_NONE },
		{ "r32757", LXS_DOMID_ANY, STORE_PERM_READ },
		{ "b12345", 12345, STORE_PERM_BOTH },
	};

	for (size_t i = 0; i < LXS_ARRAY_SIZE(cases); i++) {
		struct store_perm p = { 99, 99 };

		ck_rc(store_perm_parse(cases[i].str, &p), 0);
		ck_assert_uint_eq(p.domid, cases[i].domid);
		ck_assert_uint_eq(p.bits, cases[i].bits);
	}
}
END_TEST

START_TEST(test_store_perm_parse_invalid)
{
	static const char *const bad[] = {
		"", "r", "x5", "R5", "B5", "rw5", "r-1", "r+1", "r65536",
		"r99999999999", "r0x5", "r 5", " r5", "r5 ", "r5a", "5",
		"r4294967296",
	};

	for (size_t i = 0; i < LXS_ARRAY_SIZE(bad); i++) {
		struct store_perm p;
		int rc = store_perm_parse(bad[i], &p);

		ck_assert_msg(rc == -EINVAL, "parse \"%s\": %d", bad[i], rc);
	}
}
END_TEST

START_TEST(test_store_perm_format_roundtrip)
{
	static const struct {
		struct store_perm p;
		const char *str;
	} cases[] = {
		{ { 5, STORE_PERM_READ }, "r5" },
		{ { 0, STORE_PERM_WRITE }, "w0" },
		{ { 65535, STORE_PERM_BOTH }, "b65535" },
		{ { 12, STORE_PERM_NONE }, "n12" },
	};

	for (size_t i = 0; i < LXS_ARRAY_SIZE(cases); i++) {
		struct buf b = { 0 };
		struct store_perm q;

		buf_add(&b, "x", 1);
		store_perm_format(&cases[i].p, &b);
		ck_assert_uint_eq(b.len, 1 + strlen(cases[i].str));
		ck_assert(memcmp(b.data + 1, cases[i].str, b.len - 1) == 0);
		ck_rc(store_perm_parse(cases[i].str, &q), 0);
		ck_assert_uint_eq(q.domid, cases[i].p.domid);
		ck_assert_uint_eq(q.bits, cases[i].p.bits);
		buf_free(&b);
	}
}
END_TEST

START_TEST(test_store_perm_initial_nodes)
{
	ck_perms(fx.p, 0, "/", "n0");
	ck_perms(fx.p, 0, "/tool", "n0");
	ck_perms(fx.p, 0, "/tool/xenstored", "n0");
	ck_perms(fx.p, 0, "@introduceDomain", "n0");
	/* As in cxenstored 4.22: every domain may watch for releases. */
	ck_perms(fx.p, 0, "@releaseDomain", "n0,r32757");
	ck_perms(fx.p, 0, "/local/domain/5", "n5");
}
END_TEST

START_TEST(test_store_perm_priv_does_everything)
{
	ck_rc(tst_write(fx.d5, 0, "/local/domain/5/x", "v"), 0);
	ck_read(fx.p, 0, "/local/domain/5/x", "v");
	ck_rc(tst_write(fx.p, 0, "/local/domain/5/x", "w"), 0);
	ck_rc(tst_set_perms(fx.p, 0, "/local/domain/5/x", "n6"), 0);
	ck_perms(fx.p, 0, "/local/domain/5/x", "n6");
	ck_rc(store_rm(fx.p, 0, "/local/domain/5/x"), 0);
}
END_TEST

START_TEST(test_store_perm_owner_reads_and_writes)
{
	char *v;

	ck_rc(tst_set_perms(fx.p, 0, "/local/domain/5", "n5"), 0);
	ck_rc(tst_write(fx.d5, 0, "/local/domain/5/x", "v"), 0);
	ck_read(fx.d5, 0, "/local/domain/5/x", "v");
	ck_dir(fx.d5, 0, "/local/domain/5", "x");
	ck_perms(fx.d5, 0, "/local/domain/5/x", "n5");
	/* Others get the owner's bits: none. */
	ck_rc(tst_read(fx.d6, 0, "/local/domain/5/x", &v), -EACCES);
	ck_rc(tst_write(fx.d6, 0, "/local/domain/5/x", "w"), -EACCES);
	ck_rc(tst_dir(fx.d6, 0, "/local/domain/5", &v), -EACCES);
	ck_rc(tst_perms(fx.d6, 0, "/local/domain/5/x", &v), -EACCES);
	ck_rc(store_rm(fx.d6, 0, "/local/domain/5/x"), -EACCES);
	ck_rc(store_mkdir(fx.d6, 0, "/local/domain/5/x"), -EACCES);
	ck_read(fx.p, 0, "/local/domain/5/x", "v");
}
END_TEST

START_TEST(test_store_perm_owner_bits_are_default)
{
	char *v;

	ck_rc(tst_write(fx.p, 0, "/pub", "v"), 0);
	ck_rc(tst_set_perms(fx.p, 0, "/pub", "r0"), 0);
	ck_read(fx.d6, 0, "/pub", "v");
	ck_rc(tst_write(fx.d6, 0, "/pub", "w"), -EACCES);
	ck_rc(tst_set_perms(fx.p, 0, "/pub", "w0"), 0);
	ck_rc(tst_read(fx.d6, 0, "/pub", &v), -EACCES);
	ck_rc(tst_write(fx.d6, 0, "/pub", "w"), 0);
	ck_read(fx.p, 0, "/pub", "w");
	/* The owner's bits do not restrict the owner. */
	ck_rc(tst_write(fx.p, 0, "/own5", "v"), 0);
	ck_rc(tst_set_perms(fx.p, 0, "/own5", "n5"), 0);
	ck_read(fx.d5, 0, "/own5", "v");
	ck_rc(tst_write(fx.d5, 0, "/own5", "x"), 0);
}
END_TEST

START_TEST(test_store_perm_acl_entry_grants)
{
	char *v;

	ck_rc(tst_write(fx.d5, 0, "/local/domain/5/x", "v"), 0);
	ck_rc(tst_set_perms(fx.d5, 0, "/local/domain/5/x", "n5,r6"), 0);
	ck_read(fx.d6, 0, "/local/domain/5/x", "v");
	ck_rc(tst_write(fx.d6, 0, "/local/domain/5/x", "w"), -EACCES);
	ck_rc(tst_set_perms(fx.d5, 0, "/local/domain/5/x", "n5,w6"), 0);
	ck_rc(tst_read(fx.d6, 0, "/local/domain/5/x", &v), -EACCES);
	ck_rc(tst_write(fx.d6, 0, "/local/domain/5/x", "w"), 0);
	ck_rc(tst_set_perms(fx.d5, 0, "/local/domain/5/x", "n5,b6"), 0);
	ck_read(fx.d6, 0, "/local/domain/5/x", "w");
	ck_rc(tst_write(fx.d6, 0, "/local/domain/5/x", "b"), 0);
	/* An entry for another domain gives domain 6 nothing. */
	ck_rc(tst_set_perms(fx.d5, 0, "/local/domain/5/x", "r5,b7"), 0);
	ck_read(fx.d6, 0, "/local/domain/5/x", "b");
	ck_rc(tst_write(fx.d6, 0, "/local/domain/5/x", "w"), -EACCES);
}
END_TEST

START_TEST(test_store_perm_first_matching_entry_wins)
{
	char *v;

	ck_rc(tst_write(fx.d5, 0, "/local/domain/5/x", "v"), 0);
	ck_rc(tst_set_perms(fx.d5, 0, "/local/domain/5/x", "n5,r6,w6"), 0);
	ck_read(fx.d6, 0, "/local/domain/5/x", "v");
	ck_rc(tst_write(fx.d6, 0, "/local/domain/5/x", "w"), -EACCES);
	ck_rc(tst_set_perms(fx.d5, 0, "/local/domain/5/x", "n5,w6,r6"), 0);
	ck_rc(tst_read(fx.d6, 0, "/local/domain/5/x", &v), -EACCES);
	ck_rc(tst_write(fx.d6, 0, "/local/domain/5/x", "w"), 0);
	/* A "none" entry hides the owner's bits and later entries. */
	ck_rc(tst_set_perms(fx.d5, 0, "/local/domain/5/x", "b5,n6,b6"), 0);
	ck_rc(tst_read(fx.d6, 0, "/local/domain/5/x", &v), -EACCES);
	ck_rc(tst_write(fx.d6, 0, "/local/domain/5/x", "z"), -EACCES);
}
END_TEST

START_TEST(test_store_perm_domid_any)
{
	struct store_conn *d7 = tst_conn(fx.s, &tst_dom7, "d7");
	char *v;

	ck_rc(tst_write(fx.d5, 0, "/local/domain/5/x", "v"), 0);
	ck_rc(tst_set_perms(fx.d5, 0, "/local/domain/5/x", "n5,r32757"), 0);
	ck_read(fx.d6, 0, "/local/domain/5/x", "v");
	ck_read(d7, 0, "/local/domain/5/x", "v");
	ck_rc(tst_write(d7, 0, "/local/domain/5/x", "w"), -EACCES);
	/* An earlier entry for domain 6 beats the ANY entry for it only. */
	ck_rc(tst_set_perms(fx.d5, 0, "/local/domain/5/x", "n5,n6,b32757"),
	      0);
	ck_rc(tst_read(fx.d6, 0, "/local/domain/5/x", &v), -EACCES);
	ck_rc(tst_write(d7, 0, "/local/domain/5/x", "w"), 0);
	ck_read(d7, 0, "/local/domain/5/x", "w");
}
END_TEST

START_TEST(test_store_perm_target_acts_as_owner)
{
	struct store_conn *t = tst_conn(fx.s, &tst_dom7_target5, "t7");

	ck_rc(tst_write(fx.d5, 0, "/local/domain/5/x", "v"), 0);
	ck_read(t, 0, "/local/domain/5/x", "v");
	ck_rc(tst_write(t, 0, "/local/domain/5/x", "w"), 0);
	ck_rc(tst_set_perms(t, 0, "/local/domain/5/x", "n5,r6"), 0);
	ck_perms(fx.p, 0, "/local/domain/5/x", "n5,r6");
	/* But it may not give the node away. */
	ck_rc(tst_set_perms(t, 0, "/local/domain/5/x", "n7"), -EPERM);
	ck_perms(fx.p, 0, "/local/domain/5/x", "n5,r6");
}
END_TEST

START_TEST(test_store_perm_target_matches_acl_entry)
{
	struct store_conn *t = tst_conn(fx.s, &tst_dom7_target5, "t7");
	char *v;

	ck_rc(tst_write(fx.p, 0, "/acl", "v"), 0);
	ck_rc(tst_set_perms(fx.p, 0, "/acl", "n0,r5"), 0);
	ck_read(t, 0, "/acl", "v");
	ck_rc(tst_write(t, 0, "/acl", "w"), -EACCES);
	ck_rc(tst_set_perms(fx.p, 0, "/acl", "n0,w7"), 0);
	ck_rc(tst_read(t, 0, "/acl", &v), -EACCES);
	ck_rc(tst_write(t, 0, "/acl", "w"), 0);
}
END_TEST

START_TEST(test_store_perm_set_caller_changes_identity)
{
	struct store_conn *c = tst_conn(fx.s, &tst_dom7, "c7");
	char *v;

	ck_rc(tst_write(fx.d5, 0, "/local/domain/5/x", "v"), 0);
	ck_rc(tst_read(c, 0, "/local/domain/5/x", &v), -EACCES);
	store_conn_set_caller(c, &tst_dom7_target5);
	ck_assert_uint_eq(store_conn_caller(c)->target, 5);
	ck_read(c, 0, "/local/domain/5/x", "v");
}
END_TEST

START_TEST(test_store_perm_missing_node_enoent_or_eacces)
{
	char *v;

	/* Nearest existing ancestor /local/domain/5 is "n5". */
	ck_rc(tst_read(fx.d6, 0, "/local/domain/5/missing", &v), -EACCES);
	ck_rc(tst_read(fx.d6, 0, "/local/domain/5/a/b/c", &v), -EACCES);
	ck_rc(tst_read(fx.d6, 0, "/local/domain/6/missing", &v), -ENOENT);
	ck_rc(tst_read(fx.d6, 0, "/local/domain/6/a/b/c", &v), -ENOENT);
	ck_rc(tst_read(fx.d5, 0, "/local/domain/5/missing", &v), -ENOENT);
	ck_rc(tst_dir(fx.d6, 0, "/local/domain/5/missing", &v), -EACCES);
	ck_rc(tst_dir(fx.d6, 0, "/local/domain/6/missing", &v), -ENOENT);
	ck_rc(tst_perms(fx.d6, 0, "/local/domain/5/missing", &v), -EACCES);
	ck_rc(tst_perms(fx.d6, 0, "/local/domain/6/missing", &v), -ENOENT);
	/* Read access to the ancestor is enough for reads... */
	ck_rc(tst_set_perms(fx.p, 0, "/local/domain/5", "n5,r6"), 0);
	ck_rc(tst_read(fx.d6, 0, "/local/domain/5/missing", &v), -ENOENT);
	/* ...but not for writes. */
	ck_rc(tst_write(fx.d6, 0, "/local/domain/5/missing", "v"), -EACCES);
	ck_rc(store_mkdir(fx.d6, 0, "/local/domain/5/missing"), -EACCES);
	ck_rc(store_rm(fx.d6, 0, "/local/domain/5/a/b"), -EACCES);
	ck_rc(store_rm(fx.d6, 0, "/local/domain/6/a/b"), -ENOENT);
	/* Write-only ancestor: missing node reads give EACCES. */
	ck_rc(tst_set_perms(fx.p, 0, "/local/domain/5", "n5,w6"), 0);
	ck_rc(tst_read(fx.d6, 0, "/local/domain/5/missing", &v), -EACCES);
	ck_rc(store_rm(fx.d6, 0, "/local/domain/5/a/b"), -ENOENT);
	/* The priv caller always gets ENOENT. */
	ck_rc(tst_read(fx.p, 0, "/local/domain/5/a/b", &v), -ENOENT);
}
END_TEST

START_TEST(test_store_perm_new_node_inherits)
{
	ck_rc(tst_set_perms(fx.p, 0, "/local/domain/5", "n5,r6"), 0);
	/* Created by the owner: same perms. */
	ck_rc(tst_write(fx.d5, 0, "/local/domain/5/a/b", "v"), 0);
	ck_perms(fx.p, 0, "/local/domain/5/a", "n5,r6");
	ck_perms(fx.p, 0, "/local/domain/5/a/b", "n5,r6");
	/* Created by priv: owner stays the parent's. */
	ck_rc(tst_write(fx.p, 0, "/local/domain/5/p", "v"), 0);
	ck_perms(fx.p, 0, "/local/domain/5/p", "n5,r6");
	ck_rc(store_mkdir(fx.p, 0, "/local/domain/5/q/r"), 0);
	ck_perms(fx.p, 0, "/local/domain/5/q/r", "n5,r6");
}
END_TEST

START_TEST(test_store_perm_unpriv_creator_owns)
{
	ck_rc(tst_write(fx.p, 0, "/shared", ""), 0);
	ck_rc(tst_set_perms(fx.p, 0, "/shared", "r0,b5,w6"), 0);
	ck_rc(tst_write(fx.d5, 0, "/shared/x/y", "v"), 0);
	ck_perms(fx.p, 0, "/shared/x", "r5,b5,w6");
	ck_perms(fx.p, 0, "/shared/x/y", "r5,b5,w6");
	ck_rc(store_mkdir(fx.d6, 0, "/shared/z"), 0);
	ck_perms(fx.p, 0, "/shared/z", "r6,b5,w6");
	/* The creator owns it, so may now read it. */
	ck_read(fx.d6, 0, "/shared/z", "");
}
END_TEST

START_TEST(test_store_perm_mkdir_existing_needs_write)
{
	ck_rc(tst_write(fx.d5, 0, "/local/domain/5/x", "v"), 0);
	ck_rc(store_mkdir(fx.d5, 0, "/local/domain/5/x"), 0);
	ck_read(fx.d5, 0, "/local/domain/5/x", "v");
	ck_rc(store_mkdir(fx.d6, 0, "/local/domain/5/x"), -EACCES);
	ck_rc(tst_set_perms(fx.d5, 0, "/local/domain/5/x", "n5,r6"), 0);
	ck_rc(store_mkdir(fx.d6, 0, "/local/domain/5/x"), -EACCES);
	ck_rc(tst_set_perms(fx.d5, 0, "/local/domain/5/x", "n5,w6"), 0);
	ck_rc(store_mkdir(fx.d6, 0, "/local/domain/5/x"), 0);
	ck_read(fx.p, 0, "/local/domain/5/x", "v");
}
END_TEST

START_TEST(test_store_perm_rm_needs_write_on_target_only)
{
	char *v;

	ck_rc(tst_write(fx.d5, 0, "/local/domain/5/d/e", "v"), 0);
	ck_rc(tst_set_perms(fx.p, 0, "/local/domain/5/d/e", "n0"), 0);
	ck_rc(store_rm(fx.d5, 0, "/local/domain/5/d/e"), -EACCES);
	ck_rc(store_rm(fx.d5, 0, "/local/domain/5/d"), 0);
	ck_rc(tst_read(fx.p, 0, "/local/domain/5/d/e", &v), -ENOENT);
	ck_rc(tst_read(fx.p, 0, "/local/domain/5/d", &v), -ENOENT);
}
END_TEST

START_TEST(test_store_perm_set_perms_rules)
{
	struct store_perm none[1];

	ck_rc(tst_write(fx.d5, 0, "/local/domain/5/x", "v"), 0);
	/* Owner may change the ACL. */
	ck_rc(tst_set_perms(fx.d5, 0, "/local/domain/5/x", "r5,b6"), 0);
	ck_perms(fx.d5, 0, "/local/domain/5/x", "r5,b6");
	/* Non-owner with write access may not. */
	ck_rc(tst_set_perms(fx.d6, 0, "/local/domain/5/x", "n5"), -EACCES);
	ck_perms(fx.p, 0, "/local/domain/5/x", "r5,b6");
	/* Owner may not give the node away. */
	ck_rc(tst_set_perms(fx.d5, 0, "/local/domain/5/x", "n6"), -EPERM);
	ck_perms(fx.p, 0, "/local/domain/5/x", "r5,b6");
	/* Priv may. */
	ck_rc(tst_set_perms(fx.p, 0, "/local/domain/5/x", "n6,r5"), 0);
	ck_perms(fx.p, 0, "/local/domain/5/x", "n6,r5");
	ck_rc(tst_set_perms(fx.d6, 0, "/local/domain/5/x", "n6"), 0);
	ck_rc(tst_set_perms(fx.d5, 0, "/local/domain/5/x", "n6,b5"),
	      -EACCES);
	ck_perms(fx.p, 0, "/local/domain/5/x", "n6");
	/* No perms at all, and missing nodes. */
	ck_rc(store_set_perms(fx.p, 0, "/local/domain/5/x", none, 0), -EINVAL);
	ck_rc(tst_set_perms(fx.p, 0, "/local/domain/5/nope", "n5"), -ENOENT);
	ck_rc(tst_set_perms(fx.d5, 0, "/local/domain/5/nope", "n5"), -ENOENT);
	ck_rc(tst_set_perms(fx.d6, 0, "/local/domain/5/nope", "n5"), -EACCES);
}
END_TEST

START_TEST(test_store_perm_set_perms_count_limit)
{
	ck_rc(tst_write(fx.d5, 0, "/local/domain/5/x", "v"), 0);
	ck_rc(tst_set_perms(fx.d5, 0, "/local/domain/5/x",
			    "n5,r1,r2,r3,r4"), 0);
	ck_perms(fx.p, 0, "/local/domain/5/x", "n5,r1,r2,r3,r4");
	ck_rc(tst_set_perms(fx.d5, 0, "/local/domain/5/x",
			    "n5,r1,r2,r3,r4,r6"), -ENOSPC);
	ck_perms(fx.p, 0, "/local/domain/5/x", "n5,r1,r2,r3,r4");
	/* Priv is exempt. */
	ck_rc(tst_set_perms(fx.p, 0, "/local/domain/5/x",
			    "n5,r1,r2,r3,r4,r6,r7,r8"), 0);
	ck_perms(fx.p, 0, "/local/domain/5/x", "n5,r1,r2,r3,r4,r6,r7,r8");
}
END_TEST

START_TEST(test_store_perm_special_nodes)
{
	char *v;

	ck_rc(tst_set_perms(fx.p, 0, "@releaseDomain", "n0,r5"), 0);
	ck_perms(fx.p, 0, "@releaseDomain", "n0,r5");
	ck_perms(fx.d5, 0, "@releaseDomain", "n0,r5");
	ck_rc(tst_perms(fx.d6, 0, "@releaseDomain", &v), -EACCES);
	ck_rc(tst_set_perms(fx.d5, 0, "@releaseDomain", "n0,b5"), -EACCES);
	ck_perms(fx.p, 0, "@releaseDomain", "n0,r5");
	ck_perms(fx.p, 0, "@introduceDomain", "n0");
}
END_TEST

START_TEST(test_store_perm_domain_gone_removes)
{
	char *v;

	ck_rc(tst_write(fx.d5, 0, "/local/domain/5/a/b", "v"), 0);
	ck_rc(tst_write(fx.p, 0, "/other", "o"), 0);
	ck_rc(tst_set_perms(fx.p, 0, "/other", "n0,r5,r6"), 0);
	ck_rc(tst_write(fx.p, 0, "/only5", "o"), 0);
	ck_rc(tst_set_perms(fx.p, 0, "/only5", "n0,b5"), 0);
	ck_rc(tst_write(fx.d6, 0, "/local/domain/6/k", "k"), 0);
	store_domain_gone(fx.s, 5, false);
	ck_rc(tst_read(fx.p, 0, "/local/domain/5/a/b", &v), -ENOENT);
	ck_rc(tst_read(fx.p, 0, "/local/domain/5", &v), -ENOENT);
	ck_perms(fx.p, 0, "/other", "n0,r6");
	ck_perms(fx.p, 0, "/only5", "n0");
	ck_read(fx.p, 0, "/local/domain/6/k", "k");
	ck_perms(fx.p, 0, "/local/domain/6/k", "n6");
	ck_dir(fx.p, 0, "/local/domain", "6");
}
END_TEST

START_TEST(test_store_perm_domain_gone_keep)
{
	ck_rc(tst_write(fx.d5, 0, "/local/domain/5/a", "v"), 0);
	ck_rc(tst_set_perms(fx.d5, 0, "/local/domain/5/a", "r5,b6"), 0);
	ck_rc(tst_write(fx.p, 0, "/other", "o"), 0);
	ck_rc(tst_set_perms(fx.p, 0, "/other", "n0,r5"), 0);
	store_domain_gone(fx.s, 5, true);
	ck_read(fx.p, 0, "/local/domain/5/a", "v");
	ck_perms(fx.p, 0, "/local/domain/5", "n0");
	ck_perms(fx.p, 0, "/local/domain/5/a", "r0,b6");
	ck_perms(fx.p, 0, "/other", "n0");
}
END_TEST

Suite *
store_perms_suite(void)
{
	Suite *s = suite_create("store_perms");
	TCase *tc = tcase_create("core");
	TCase *tl = tcase_create("limits");

	tcase_add_checked_fixture(tc, tst_setup, tst_teardown);
	tcase_add_test(tc, test_store_perm_parse_valid);
	tcase_add_test(tc, test_store_perm_parse_invalid);
	tcase_add_test(tc, test_store_perm_format_roundtrip);
	tcase_add_test(tc, test_store_perm_initial_nodes);
	tcase_add_test(tc, test_store_perm_priv_does_everything);
	tcase_add_test(tc, test_store_perm_owner_reads_and_writes);
	tcase_add_test(tc, test_store_perm_owner_bits_are_default);
	tcase_add_test(tc, test_store_perm_acl_entry_grants);
	tcase_add_test(tc, test_store_perm_first_matching_entry_wins);
	tcase_add_test(tc, test_store_perm_domid_any);
	tcase_add_test(tc, test_store_perm_target_acts_as_owner);
	tcase_add_test(tc, test_store_perm_target_matches_acl_entry);
	tcase_add_test(tc, test_store_perm_set_caller_changes_identity);
	tcase_add_test(tc, test_store_perm_missing_node_enoent_or_eacces);
	tcase_add_test(tc, test_store_perm_new_node_inherits);
	tcase_add_test(tc, test_store_perm_unpriv_creator_owns);
	tcase_add_test(tc, test_store_perm_mkdir_existing_needs_write);
	tcase_add_test(tc, test_store_perm_rm_needs_write_on_target_only);
	tcase_add_test(tc, test_store_perm_set_perms_rules);
	tcase_add_test(tc, test_store_perm_special_nodes);
	tcase_add_test(tc, test_store_perm_domain_gone_removes);
	tcase_add_test(tc, test_store_perm_domain_gone_keep);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(tl, tst_setup, tst_teardown);
	tcase_add_test(tl, test_store_perm_set_perms_count_limit);
	suite_add_tcase(s, tl);
	return s;
}
