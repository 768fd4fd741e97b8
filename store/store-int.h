/*
 * store internals, shared by the files of store/ only.
 *
 * The tree: every node (including the two special "@" nodes, which have no
 * parent) is in s->nodes, keyed by its absolute path. Children keep their
 * insertion order in the parent's kids array.
 *
 * Generations: s->gen is a global counter. A node's gen changes when it is
 * created or its value or permissions change; its pgen when it is created
 * or its permissions change; its cgen when it is created or its list of
 * children changes. A transaction records the gen (0 = absent) of every
 * node whose value it read or wrote, the pgen of every node whose existence
 * or permissions it relied on (the ancestors of what it creates), and the
 * cgen of every child list it listed or deleted; a commit conflicts
 * (EAGAIN) only if one of those changed, so unrelated writes, new siblings
 * and a new value in a parent never abort it.
 *
 * All changes to the tree go through tree_put/tree_del. Outside replay they
 * append a physical op to s->pend and queue watch events on s->evq; the
 * request that caused them calls store_emit() to deliver the mutation record
 * first and the events after it.
 */
#ifndef LXS_STORE_INT_H
#define LXS_STORE_INT_H

#include "store/store.h"

/* String-keyed open-addressing hash map; keys are borrowed from values. */
struct hmap_slot {
	const char *key;
	void *val;
	uint64_t hash;
};

struct hmap {
	struct hmap_slot *slots;
	size_t cap;	/* 0 or a power of two */
	size_t n;
};

void hmap_init(struct hmap *m);
/* Frees the table only; values are the caller's. */
void hmap_free(struct hmap *m);
void *hmap_get(const struct hmap *m, const char *key);
/* Inserts or replaces. key must live as long as the entry. */
void hmap_put(struct hmap *m, const char *key, void *val);
/* Returns the removed value or NULL. */
void *hmap_del(struct hmap *m, const char *key);

struct node {
	char *path;		/* points to pathbuf; key in s->nodes */
	const char *name;	/* last component, points into path */
	struct node *parent;	/* NULL for "/" and the special nodes */
	struct node **kids;
	uint32_t nkids;
	uint32_t capkids;
	char *value;
	uint32_t len;
	uint32_t nperms;
	struct store_perm *perms;
	uint64_t gen;
	uint64_t pgen;
	uint64_t cgen;
	/* The children's names, NUL-terminated, joined (what DIRECTORY
	 * answers), built on first use and dropped whenever the child list
	 * changes: a listing is then one copy instead of a visit to every
	 * child. NULL: not built. Starts with its byte count (uint32_t). */
	char *kidnames;
	char pathbuf[];		/* one allocation with the node */
};

/*
 * n's children's names, joined: *len bytes at the returned pointer, which
 * stays valid until n's child list changes (tree.c) or n is freed.
 */
const char *node_kidnames(struct node *n, uint32_t *len);

struct dom {
	uint32_t domid;
	struct store_usage use;
	uint32_t quota[STORE_QUOTA_COUNT];
	bool has_quota[STORE_QUOTA_COUNT];
	uint32_t soft_memory;
	bool has_soft_memory;
};

struct watch {
	struct watch *next_path;	/* same absolute path */
	struct watch *next_conn;	/* same connection */
	struct store_conn *conn;
	char *abs;
	char *wpath;			/* as the client gave it */
	char *token;
	int depth;			/* < 0: unlimited */
	bool relative;
};

struct txn;

struct store_conn {
	struct store *s;
	struct store_caller caller;
	void *ctx;
	char *home;			/* /local/domain/<domid> */
	size_t homelen;
	struct watch *watches;
	struct txn *txns;
	uint32_t ntxns;
	uint32_t next_txid;
	struct store_conn *prev;
	struct store_conn *next;
};

/* A queued event; path and token are offsets into s->evq_arena. */
struct pend_event {
	void *ctx;
	size_t path;
	size_t token;
};

struct store {
	struct store_cb cb;
	void *cb_ctx;
	uint32_t priv_domid;
	struct hmap nodes;
	struct node *root;
	uint64_t gen;
	uint64_t nnodes;
	uint64_t value_bytes;
	uint64_t nwatches;
	uint64_t ntxns;

	struct dom **doms;		/* sorted by domid */
	uint32_t ndoms;
	uint32_t capdoms;
	uint32_t quota[STORE_QUOTA_COUNT];
	uint32_t soft_memory;

	struct hmap watches;		/* abs path -> struct watch list */
	struct store_conn *conns;

	bool replaying;			/* store_apply: no ops, no events */
	bool tearing_down;		/* store_free: skip per-node upkeep */
	uint32_t pend_domid;
	struct store_op *pend;
	uint32_t npend;
	uint32_t cappend;
	/* The pending ops' paths, values and perms, until store_emit. */
	struct buf pend_arena;
	struct pend_event *evq;
	uint32_t nevq;
	uint32_t capevq;
	struct buf evq_arena;
};

/* A node's state as seen by a request (base tree or transaction view). */
struct nview {
	bool exists;
	const char *value;
	uint32_t len;
	const struct store_perm *perms;
	uint32_t nperms;
};

/* tree.c */
struct node *tree_lookup(const struct store *s, const char *path);
struct node *tree_node_new(struct store *s, const char *path,
			   struct node *parent, const struct store_perm *perms,
			   uint32_t nperms);
/* Parent must exist (except for "/" and "@" paths that already exist). */
int tree_put(struct store *s, const char *path, const void *value,
	     uint32_t len, const struct store_perm *perms, uint32_t nperms,
	     bool quiet);
/* Removes path and its subtree; fires events unless quiet. */
int tree_del(struct store *s, const char *path, bool quiet);
void tree_free_all(struct store *s);
uint64_t node_cost(size_t pathlen, uint32_t len, uint32_t nperms);
/* Copies op into s->pend (its strings into s->pend_arena). */
void store_pend_op(struct store *s, const struct store_op *op);
/* Delivers the pending mutation record, then the queued events. */
void store_emit(struct store *s, uint32_t domid);
void store_discard_pending(struct store *s);
void tree_op_copy(struct store_op *dst, const struct store_op *src);
void tree_op_release(struct store_op *op);

/* perms.c */
/* Bits caller has on a node with these perms; OWNER when it may set perms. */
#define PERM_OWNER 4u
uint32_t perm_for(const struct store_caller *who, const struct store_perm *p,
		  uint32_t n);
struct store_perm *perms_dup(const struct store_perm *p, uint32_t n);

/* path.c */
/* A canonical absolute path, or an "@" name, within the length limit. */
bool path_valid_abs(const char *path);
/* Length of the parent part of an absolute path ("/a/b" -> 2, "/a" -> 1). */
size_t path_parent_len(const char *path);
/* Number of components: "/" -> 0, "/a/b" -> 2. */
uint32_t path_depth(const char *path);
/* true if child == parent or child is below parent. */
bool path_is_under(const char *child, const char *parent);

/* quota.c */
struct dom *dom_get(struct store *s, uint32_t domid, bool create);
const struct dom *dom_find(const struct store *s, uint32_t domid);
uint32_t quota_eff(const struct store *s, uint32_t domid, enum store_quota q);
/* true when an unprivileged caller would go above quota q with value. */
bool quota_over(const struct store *s, const struct store_caller *who,
		enum store_quota q, uint64_t value);
/* Reports a refusal through cb.quota_refused (when set); not in replay. */
void quota_refuse(const struct store *s, uint32_t domid, enum store_quota q,
		  uint64_t value, uint32_t limit);
void dom_charge(struct store *s, uint32_t domid, int nodes, int64_t bytes);
void quota_init(struct store *s);
void quota_free(struct store *s);

/* watch.c */
struct perm_set {
	const struct store_perm *perms;
	uint32_t nperms;
	const struct store_perm *old;
	uint32_t nold;
	const struct store_perm *parent;
	uint32_t nparent;
};
void watch_fire_change(struct store *s, const char *path,
		       const struct perm_set *ps);
void watch_fire_removed(struct store *s, const char *path,
			const struct perm_set *ps);
void watch_drop_conn(struct store_conn *c);
/* Delivers the queued events; may_repeat: drop repeated ones first. */
void evq_flush_events(struct store *s, bool may_repeat);
void evq_flush(struct store *s);

/* txn.c */
struct txn *txn_find(struct store_conn *c, uint32_t id);
void txn_drop_all(struct store_conn *c);
/* meta: the caller uses only existence and permissions, not the value. */
int txn_get(struct txn *t, const char *path, struct nview *v, bool meta);
int txn_put(struct txn *t, const char *path, const void *value, uint32_t len,
	    const struct store_perm *perms, uint32_t nperms, bool quiet);
int txn_del(struct txn *t, const char *path);
int txn_children(struct txn *t, const char *path, struct buf *out,
		 uint64_t *gen);
int txn_fail(struct txn *t);
int32_t txn_node_delta(const struct txn *t);

#endif
