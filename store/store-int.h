/*
 * store internals, shared by the files of store/ only.
 *
 * The tree: "/" is s->root, the two special "@" nodes (no parent) are
 * s->specials, every other node is in s->nodes, the path index. Children
 * keep their insertion order in the parent's circular list.
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

/*
 * String-keyed open-addressing hash map; keys are borrowed from values.
 * hmap_hash: the seeded hash of len bytes at key (index.c uses it too).
 */
uint64_t hmap_hash(const char *key, size_t len);
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

/*
 * A node: one allocation (node.c has the layout). Children form a circular
 * list in insertion order: kids is the last child, the last child's sib is
 * the first. "/" is named "" and has no parent; so have the two special
 * nodes, named "@introduceDomain" and "@releaseDomain". All other nodes
 * are in the path index (index.c), chained through hnext. Nodes live in
 * the store's slab (slab.c).
 */
struct node {
	struct node *parent;
	struct node *kids;	/* last child, or NULL */
	struct node *sib;	/* next sibling; the last points to the first */
	uintptr_t hnext;	/* next in the index bucket, tagged (index.c) */
	uint32_t len;		/* value bytes */
	uint16_t gen[3];	/* 48-bit generations: gen48_get/gen48_set */
	uint16_t pgen[3];
	uint16_t cgen[3];
	uint16_t nperms;	/* >= 1 */
	uint16_t namelen;	/* bytes of name, without its NUL */
	uint8_t flags;		/* node.c */
	uint8_t sclass;		/* slab class of this allocation (slab.c) */
	char name[];		/* name, NUL, then the data region (node.c) */
};

/*
 * slab.c: size classes SLAB_GRAIN bytes apart up to SLAB_MAX bytes, carved
 * from large blocks; larger requests are malloc'd (class 0).
 */
#define SLAB_GRAIN	8u
#define SLAB_MAX	512u
struct slab {
	void *free[SLAB_MAX / SLAB_GRAIN + 1];	/* per class */
	char *cur;			/* the rest of the newest block */
	size_t left;
	void *blocks;			/* newest block; each links the previous */
};
/* size bytes, 8-aligned; *cls: its class. Free with slab_free(cls). */
void *slab_alloc(struct slab *sl, size_t size, uint8_t *cls);
/* Usable bytes of p, allocated in class cls. */
size_t slab_cap(const void *p, uint8_t cls);
void slab_free(struct slab *sl, void *p, uint8_t cls);
/* Gives every block back; every object in them is gone. */
void slab_free_all(struct slab *sl);

/* node.c */
/* A new node with no links, in sl. Caller frees with node_free. */
struct node *node_new(struct slab *sl, const char *name, size_t namelen,
		      const struct store_perm *perms, uint32_t nperms,
		      const void *value, uint32_t len);
void node_free(struct slab *sl, struct node *n);
/* Borrowed: valid until n's data changes or n is freed. */
const struct store_perm *node_perms(const struct node *n);
const char *node_value(const struct node *n);
/* Replaces perms and value; either may be n's own, where it is now. */
void node_set_data(struct node *n, const struct store_perm *perms,
		   uint32_t nperms, const void *value, uint32_t len);
uint64_t gen48_get(const uint16_t g[3]);
void gen48_set(uint16_t g[3], uint64_t v);
/* Children in order: first, then next until NULL. */
struct node *node_kid_first(const struct node *p);
struct node *node_kid_next(const struct node *p, const struct node *k);
void node_kid_append(struct node *p, struct node *k);
void node_kid_remove(struct node *p, struct node *k);
/* Longest path node_path writes, with its NUL. */
#define NODE_PATH_SIZE	(STORE_ABS_PATH_MAX + 1)
/* Writes n's full path into buf (NODE_PATH_SIZE bytes); returns its length. */
size_t node_path(const struct node *n, char *buf);
/*
 * path holds a node's path (len bytes) in a NODE_PATH_SIZE buffer: appends
 * "/" and the name of its child k and returns the new length. It fits:
 * every node's path is within STORE_ABS_PATH_MAX.
 */
size_t node_path_child(char *path, size_t len, const struct node *k);
/* true if n's full path is path[0..len) (n below "/"). */
bool node_matches(const struct node *n, const char *path, size_t len);

/*
 * index.c: nodes below "/" by full path; chained, load at most 2. hash is
 * nindex_hash of the node's full path.
 */
struct nindex {
	uintptr_t *buckets;	/* tagged node pointers (index.c) */
	uint32_t mask;		/* buckets - 1; buckets NULL: empty */
	uint32_t n;
};
uint32_t nindex_hash(const char *path, size_t len);
struct node *nindex_get(const struct nindex *x, const char *path, size_t len);
/*
 * Makes room for one more node, rehashing every node below root (all the
 * indexed ones) when the table grows; before the new node is linked in.
 */
void nindex_reserve(struct nindex *x, const struct node *root);
/* Needs nindex_reserve first. */
void nindex_add(struct nindex *x, struct node *n, uint32_t hash);
void nindex_del(struct nindex *x, struct node *n, uint32_t hash);
void nindex_free(struct nindex *x);

/*
 * kidcache.c: the children's names of recently listed nodes, joined with
 * their NULs (what DIRECTORY answers), so a listing is one copy instead of
 * a visit to every child. A fixed number of direct-mapped slots keyed by
 * node: bounded, and nothing per node.
 */
#define KIDCACHE_SLOTS	1024u
struct kidcache_slot {
	const struct node *node;
	char *names;
	uint32_t len;
};
/*
 * n's children's names: *len bytes at the returned pointer, valid until
 * the next kidcache call on this store.
 */
const char *kidcache_get(struct store *s, const struct node *n,
			 uint32_t *len);
/* n's child list changed, or n is going away. */
void kidcache_drop(struct store *s, const struct node *n);
void kidcache_free(struct store *s);
/* The cached listing of n, or NULL (store_check). */
const char *kidcache_peek(const struct store *s, const struct node *n,
			  uint32_t *len);

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
	struct nindex nodes;		/* every node but the three below */
	struct node *root;
	struct node *specials[2];	/* @introduceDomain, @releaseDomain */
	struct kidcache_slot *kidcache;	/* KIDCACHE_SLOTS */
	struct slab slab;		/* the nodes' memory */
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
/* A new node at path (parent NULL: "/" or a special node), indexed. */
struct node *tree_node_new(struct store *s, const char *path,
			   struct node *parent, const struct store_perm *perms,
			   uint32_t nperms, const void *value, uint32_t len);
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
