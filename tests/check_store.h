/*
 * Shared helpers of the store unit tests (tests/check_store_*.c).
 *
 * Every test runs in its own forked process (CK_FORK) with a fresh fixture:
 * a store with a privileged connection "p" (dom0) and unprivileged ones "d5"
 * and "d6", whose homes /local/domain/5 and /local/domain/6 exist and are
 * owned by them (perms "n5" and "n6"). The store callbacks record every
 * watch event and every mutation (deep copies) in tst_log, each with a
 * sequence number so tests can check their relative order.
 *
 * Perms are written as comma-separated wire strings ("n5,r6"), directory
 * listings as comma-separated names ("a,b"), events as "conn:path:token".
 */
#ifndef LXS_CHECK_STORE_H
#define LXS_CHECK_STORE_H

#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "common/common.h"
#include "store/store.h"

#define TST_MAX_CONNS	32

struct tst_event {
	unsigned long seq;
	const char *conn;	/* the conn_ctx: a connection name */
	char *path;
	char *token;
};

struct tst_op {
	enum store_op_kind kind;
	char *path;
	char *value;
	uint32_t len;
	struct store_perm *perms;
	uint32_t nperms;
	bool quiet;
};

struct tst_mutation {
	unsigned long seq;
	const char *store;	/* the cb_ctx: a store name */
	uint32_t domid;
	uint32_t nops;
	struct tst_op *ops;
};

/* One quota_refused callback. */
struct tst_refusal {
	uint32_t domid;
	enum store_quota q;
	uint64_t value;
	uint32_t limit;
};

#define TST_MAX_REFUSALS 16

struct tst_log {
	unsigned long seq;
	struct tst_refusal refusals[TST_MAX_REFUSALS];
	unsigned int nrefusals;	/* may exceed TST_MAX_REFUSALS */
	struct tst_event *events;
	unsigned int nevents;
	struct tst_mutation *muts;
	unsigned int nmuts;
};

struct tst_fx {
	struct store *s;
	struct store_conn *p;	/* dom0, privileged */
	struct store_conn *d5;	/* domain 5, unprivileged */
	struct store_conn *d6;	/* domain 6, unprivileged */
	struct store_conn *conns[TST_MAX_CONNS];
	unsigned int nconns;
};

extern struct tst_log tst_log;
extern struct tst_fx fx;
extern const struct store_cb tst_cb;
extern const struct store_caller tst_priv;	/* {0, INVALID, true} */
extern const struct store_caller tst_dom5;	/* {5, INVALID, false} */
extern const struct store_caller tst_dom6;	/* {6, INVALID, false} */
extern const struct store_caller tst_dom7;	/* {7, INVALID, false} */

/* Checked fixture: builds fx (store named "A") and clears the log. */
void tst_setup(void);
/* The same, keeping the fixture's own mutations in the log. */
void tst_setup_recording(void);
void tst_teardown(void);

/* A store recording into tst_log under name; freed by the caller. */
struct store *tst_store_new(const char *name);
/* A connection freed by tst_teardown (or earlier by tst_conn_free). */
struct store_conn *tst_conn(struct store *s, const struct store_caller *who,
			    const char *name);
void tst_conn_free(struct store_conn *c);

void tst_log_clear(void);
/* Events matching conn/path/token; NULL matches anything. */
unsigned int tst_count_events(const char *conn, const char *path,
			      const char *token);
/* "conn:path:token;..." of all events; caller frees. */
char *tst_events_str(void);

/* Builds a store_mutation view of a recorded one and applies it. */
int tst_apply(struct store *s, const struct tst_mutation *m);

/* String helpers; each returns 0 or the store's -errno. */
int tst_write(struct store_conn *c, uint32_t tx, const char *path,
	      const char *value);
/* *out: the value as a NUL-terminated copy (caller frees), or NULL. */
int tst_read(struct store_conn *c, uint32_t tx, const char *path, char **out);
/* *out: "a,b,c" (caller frees), or NULL. */
int tst_dir(struct store_conn *c, uint32_t tx, const char *path, char **out);
/* *out: "n5,r6" (caller frees), or NULL. */
int tst_perms(struct store_conn *c, uint32_t tx, const char *path, char **out);
/* perms: "n5,r6"; fails the test if a perm string does not parse. */
int tst_set_perms(struct store_conn *c, uint32_t tx, const char *path,
		  const char *perms);
/* A string of n copies of ch after prefix; caller frees. */
char *tst_str_rep(const char *prefix, char ch, size_t n);

/*
 * Every node (pre-order, children in listing order) with its perms and hex
 * value, plus the perms of the two special nodes. Caller frees.
 */
char *tst_dump(struct store *s);

#define ck_rc(expr, want) do {						\
	int rc_ = (expr);						\
	ck_assert_msg(rc_ == (want), "%s: got %d (%s), want %d (%s)",	\
		      #expr, rc_, rc_ ? strerror(-rc_) : "ok", (want),	\
		      (want) ? strerror(-(want)) : "ok");		\
} while (0)

#define ck_read(c, tx, path, want) do {					\
	char *v_ = NULL;						\
	int rc_ = tst_read((c), (tx), (path), &v_);			\
	ck_assert_msg(rc_ == 0, "read %s: %d", (path), rc_);		\
	ck_assert_str_eq(v_, (want));					\
	free(v_);							\
} while (0)

#define ck_dir(c, tx, path, want) do {					\
	char *v_ = NULL;						\
	int rc_ = tst_dir((c), (tx), (path), &v_);			\
	ck_assert_msg(rc_ == 0, "directory %s: %d", (path), rc_);	\
	ck_assert_str_eq(v_, (want));					\
	free(v_);							\
} while (0)

#define ck_perms(c, tx, path, want) do {				\
	char *v_ = NULL;						\
	int rc_ = tst_perms((c), (tx), (path), &v_);			\
	ck_assert_msg(rc_ == 0, "get_perms %s: %d", (path), rc_);	\
	ck_assert_str_eq(v_, (want));					\
	free(v_);							\
} while (0)

#define ck_events(n) do {						\
	char *e_ = tst_events_str();					\
	ck_assert_msg(tst_log.nevents == (unsigned int)(n),		\
		      "want %u events, got %u: %s", (unsigned int)(n),	\
		      tst_log.nevents, e_);				\
	free(e_);							\
} while (0)

#define ck_event(conn, path, token) do {				\
	char *e_ = tst_events_str();					\
	ck_assert_msg(tst_count_events((conn), (path), (token)) == 1,	\
		      "want one event %s:%s:%s, got: %s", (conn), (path),	\
		      (token), e_);					\
	free(e_);							\
} while (0)

Suite *store_paths_suite(void);
Suite *store_perms_suite(void);
Suite *store_nodes_suite(void);
Suite *store_txn_suite(void);
Suite *store_watch_suite(void);
Suite *store_quota_suite(void);
Suite *store_mutation_suite(void);
Suite *store_check_suite(void);
Suite *store_layout_suite(void);

#endif
