/*
 * store: the XenStore tree, with no I/O.
 *
 * Owns nodes (binary values, permissions, generations), path rules,
 * transactions with per-node conflict detection, watch registration and
 * matching, per-domain accounting and quotas. Knows nothing of sockets,
 * rings or files: the server hands it requests from a struct store_conn, and
 * it reports back through two callbacks:
 *
 *   - watch_event: one call per event to deliver to one connection;
 *   - mutation:    one call per committed change (a plain request or a whole
 *                  transaction), as a list of physical operations (put the
 *                  complete state of one node, or delete one subtree). This
 *                  is the write-ahead log's input; store_apply() replays it.
 *
 * Within one store call, every watch_event call follows that call's mutation
 * call, so a durability layer can hold events until the record is durable.
 *
 * Paths handed to the store are as the client sent them; the store resolves
 * relative paths under /local/domain/<domid> of the connection and checks
 * them. Errors: 0 or -errno, with the errno names of the wire protocol.
 */
#ifndef LXS_STORE_H
#define LXS_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/common.h"

struct store;
struct store_conn;

#define STORE_PERM_NONE		0u
#define STORE_PERM_READ		1u
#define STORE_PERM_WRITE	2u
#define STORE_PERM_BOTH		3u

/* perms[0] is the owner; its bits are what everyone without an entry gets. */
struct store_perm {
	uint32_t domid;
	uint32_t bits;
};

/* Longest absolute path any caller may use (protocol text: 3072). */
#define STORE_ABS_PATH_MAX	3072u

/* Who is asking. priv callers (dom0, socket clients) bypass every check. */
struct store_caller {
	uint32_t domid;
	uint32_t target;	/* SET_TARGET domain, or LXS_DOMID_INVALID */
	bool priv;
};

enum store_quota {
	STORE_QUOTA_NODES,		/* nodes owned by a domain */
	STORE_QUOTA_WATCHES,		/* watches of a domain */
	STORE_QUOTA_TRANSACTIONS,	/* open transactions of a domain */
	STORE_QUOTA_TXN_NODES,		/* nodes touched by one transaction */
	STORE_QUOTA_NODE_SIZE,		/* value + 8 per perm entry, bytes */
	STORE_QUOTA_NODE_PERMS,		/* permission entries of one node */
	STORE_QUOTA_PATH_MAX,		/* path length below the domain's home */
	STORE_QUOTA_OUTSTANDING,	/* requests in flight (enforced by server) */
	STORE_QUOTA_MEMORY,		/* bytes charged to a domain */
	STORE_QUOTA_COUNT
};

/* Pseudo domid selecting the global defaults in the quota calls. */
#define STORE_DOMID_GLOBAL	UINT32_MAX

/* Physical operations: the unit of the mutation log. */
enum store_op_kind {
	STORE_OP_PUT,	/* create or replace one node; its parent exists */
	STORE_OP_DEL,	/* delete one node and its whole subtree */
};

struct store_op {
	enum store_op_kind kind;
	const char *path;		/* absolute, canonical */
	const void *value;		/* PUT only */
	uint32_t len;
	const struct store_perm *perms;	/* PUT only, nperms >= 1 */
	uint32_t nperms;
	bool quiet;			/* PUT of an implicit parent: no event */
};

struct store_mutation {
	uint32_t domid;		/* domain that made the change */
	uint32_t nops;
	const struct store_op *ops;
};

struct store_cb {
	/* conn_ctx is the pointer given to store_conn_new. */
	void (*watch_event)(void *conn_ctx, const char *path, const char *token);
	/* Borrowed record, valid during the call only. */
	void (*mutation)(void *ctx, const struct store_mutation *m);
	/*
	 * May be NULL. Quota q refused a request of unprivileged domid: the
	 * request would have reached value, above limit. Called once per
	 * refusal, before the request returns its error; for the server to
	 * count and log (the store does no I/O).
	 */
	void (*quota_refused)(void *ctx, uint32_t domid, enum store_quota q,
			      uint64_t value, uint32_t limit);
};

struct store_usage {
	uint32_t nodes;
	uint32_t watches;
	uint32_t transactions;
	uint64_t memory;
};

struct store_stats {
	uint64_t nodes;
	uint64_t bytes;		/* value bytes */
	uint64_t watches;
	uint64_t transactions;
	uint64_t generation;
};

/*
 * Creates the tree with its initial nodes: /, /tool, /tool/xenstored and the
 * special nodes @introduceDomain and @releaseDomain, all owned by priv_domid.
 * cb may be NULL. Caller frees with store_free.
 */
struct store *store_new(const struct store_cb *cb, void *cb_ctx,
			uint32_t priv_domid);
/* Frees the tree; every store_conn must have been freed first. */
void store_free(struct store *s);

/* Caller frees with store_conn_free, which drops its watches and transactions. */
struct store_conn *store_conn_new(struct store *s,
				  const struct store_caller *caller,
				  void *conn_ctx);
void store_conn_free(struct store_conn *c);
/* Updates the identity (e.g. after SET_TARGET). */
void store_conn_set_caller(struct store_conn *c,
			   const struct store_caller *caller);
const struct store_caller *store_conn_caller(const struct store_conn *c);
uint32_t store_conn_ntransactions(const struct store_conn *c);

/*
 * Requests. tx is the header's tx_id: 0 for none, else a transaction of this
 * connection (ENOENT if unknown).
 */

/* *value is borrowed and valid until the next call that changes the store. */
int store_read(struct store_conn *c, uint32_t tx, const char *path,
	       const void **value, uint32_t *len);
int store_write(struct store_conn *c, uint32_t tx, const char *path,
		const void *value, uint32_t len);
int store_mkdir(struct store_conn *c, uint32_t tx, const char *path);
int store_rm(struct store_conn *c, uint32_t tx, const char *path);
/* Appends each child name with its NUL to out (insertion order). */
int store_directory(struct store_conn *c, uint32_t tx, const char *path,
		    struct buf *out);
/*
 * DIRECTORY_PART: appends "<gen>\0" then the whole child names starting at
 * byte offset off of the full list that fit in max bytes in total; when the
 * list ends within this part, one more NUL follows.
 */
int store_directory_part(struct store_conn *c, uint32_t tx, const char *path,
			 uint32_t off, uint32_t max, struct buf *out);
/* Appends the perms as the wire's "<r|w|b|n><domid>\0" strings. */
int store_get_perms(struct store_conn *c, uint32_t tx, const char *path,
		    struct buf *out);
int store_set_perms(struct store_conn *c, uint32_t tx, const char *path,
		    const struct store_perm *perms, uint32_t nperms);

/* depth < 0: unlimited. The caller sends the initial event itself. */
int store_watch(struct store_conn *c, const char *wpath, const char *token,
		int depth);
int store_unwatch(struct store_conn *c, const char *wpath, const char *token);
/* Drops every watch and transaction of the connection. */
void store_reset_watches(struct store_conn *c);
/*
 * Fires each of c's watches once, on the path it was registered with, as
 * at registration: a spurious event, which tells the client to read again
 * what the watch covers (after events were lost). Oldest watch last.
 */
void store_watch_fire_all(struct store_conn *c);
/*
 * Calls fn for each watch of c, newest first, with the path as the client
 * gave it (relative or not), the token and the depth (< 0: unlimited);
 * borrowed for the call. Registering them again oldest first with
 * store_watch rebuilds the same list (live update).
 */
void store_conn_foreach_watch(const struct store_conn *c,
			      void (*fn)(void *arg, const char *wpath,
					 const char *token, int depth),
			      void *arg);

int store_txn_start(struct store_conn *c, uint32_t *id);

/*
 * An open transaction as plain data (live update). deps say what each
 * entry's commit check covers; the generations themselves are not here:
 * they mean nothing in another process, whose store numbers them anew.
 * An entry is "seen" if it was copied from the tree (else it was created
 * under an entry the transaction removed or created).
 */
#define STORE_TXN_DEP_GEN	1u	/* the value and existence */
#define STORE_TXN_DEP_CGEN	2u	/* the child list */
#define STORE_TXN_DEP_PGEN	4u	/* existence and permissions */

struct store_txn_ent {
	const char *path;
	uint32_t deps;
	bool seen, exists, fresh;
	const void *value;
	uint32_t len;
	const struct store_perm *perms;
	uint32_t nperms;
};

struct store_txn_state {
	uint32_t id;
	bool doomed;		/* commit can only answer EAGAIN */
	int failed;		/* sticky error (-ENOSPC), 0 */
	int32_t node_delta;
	struct store_txn_ent *ents;	/* in order of first access */
	uint32_t nents;
	struct store_op *ops;		/* the changes, in order */
	uint32_t nops;
};

/*
 * Calls fn for each open transaction of c (borrowed for the call). doomed
 * is computed now: true if a dependency already changed in the tree.
 */
void store_conn_foreach_txn(const struct store_conn *c,
			    void (*fn)(void *arg,
				       const struct store_txn_state *t),
			    void *arg);
/*
 * Re-creates a transaction on c (everything copied). Its dependencies bind
 * to the tree as it is now: right when the tree is the one the
 * transaction was exported from (a not-doomed transaction's reads match it
 * exactly). -EEXIST if the id is open on c, -EINVAL for a bad path.
 */
int store_txn_import(struct store_conn *c, const struct store_txn_state *t);
/* The last transaction id given out on c, and setting it (live update). */
uint32_t store_conn_next_txid(const struct store_conn *c);
void store_conn_set_next_txid(struct store_conn *c, uint32_t id);
/*
 * Whether transaction id is open on c, and how many changes its commit
 * would log (0: a read-only transaction). -ENOENT if it is not open.
 */
int store_txn_changes(const struct store_conn *c, uint32_t id,
		      uint32_t *nops);
int store_txn_end(struct store_conn *c, uint32_t id, bool commit);

/*
 * Fires a special event: name is "@introduceDomain" or "@releaseDomain".
 * Watches on name get name itself (and name/<domid> when their depth allows
 * it); watches on name/<domid> get name/<domid>.
 */
void store_fire_special(struct store *s, const char *name, uint32_t domid);
/*
 * The same with only some of its forms: PLAIN, the event name to watches
 * on name; DOMID, name/<domid> to watches on name with a depth of at least
 * 1 and to watches on name/<domid>. A domain found shut down fires DOMID
 * alone (one PLAIN per scan follows, however many shut down).
 */
#define STORE_SPECIAL_PLAIN	1u
#define STORE_SPECIAL_DOMID	2u
void store_fire_special_forms(struct store *s, const char *name,
			      uint32_t domid, unsigned int forms);

/*
 * A domain is gone: remove the nodes it owns (or, with keep, give them to
 * the privileged domain) and drop its entries from every ACL.
 */
void store_domain_gone(struct store *s, uint32_t domid, bool keep);

/*
 * Replays a mutation record: no permission checks, no quotas, no events.
 * The record applies whole or not at all (-EINVAL: a bad path, a node
 * whose parent is missing, a DEL of a missing node; nothing changed).
 */
int store_apply(struct store *s, const struct store_mutation *m);
/*
 * The same for a store being built from a snapshot, which is thrown away
 * whole if any record fails: the ops are applied in order without first
 * checking that all of them fit (that check costs a lookup per op), so on
 * -EINVAL some of m may have been applied and the store must be freed.
 */
int store_load(struct store *s, const struct store_mutation *m);

/* Permission strings <r|w|b|n><domid>. Returns 0 or -EINVAL. */
int store_perm_parse(const char *str, struct store_perm *out);
/* Appends "<letter><domid>" (no NUL). */
void store_perm_format(const struct store_perm *p, struct buf *out);

/*
 * Resolves and checks a path for caller: relative paths go under
 * /local/domain/<domid>; allow_special admits "@..." paths. *out is a new
 * string the caller frees. Returns 0, -EINVAL, or -EINVAL for a path over
 * the length limits.
 */
int store_path_resolve(const struct store *s, const struct store_caller *caller,
		       const char *path, bool allow_special, char **out);

/* Quotas: 0 means unlimited. soft exists for STORE_QUOTA_MEMORY only. */
const char *store_quota_name(enum store_quota q);
/* Returns the quota index for a name, or -EINVAL. */
int store_quota_lookup(const char *name);
int store_quota_get(const struct store *s, uint32_t domid, enum store_quota q,
		    bool soft, uint32_t *value);
int store_quota_set(struct store *s, uint32_t domid, enum store_quota q,
		    bool soft, uint32_t value);
void store_usage(const struct store *s, uint32_t domid,
		 struct store_usage *out);
/* Calls fn for every domain with usage or quota overrides, in domid order. */
void store_foreach_domain(const struct store *s,
			  void (*fn)(void *arg, uint32_t domid), void *arg);
void store_stats(const struct store *s, struct store_stats *out);

/*
 * Walks every node in pre-order (parents before children, children in
 * their order), then the special nodes. Stops with fn's return when it is
 * not 0. The arguments are borrowed for the call.
 */
typedef int (*store_walk_fn)(void *arg, const char *path, const void *value,
			     uint32_t len, const struct store_perm *perms,
			     uint32_t nperms);
int store_walk(const struct store *s, store_walk_fn fn, void *arg);

/*
 * A quota value set for this domain (or globally with STORE_DOMID_GLOBAL)
 * rather than inherited: 0 and *value, or -ENOENT when not set.
 */
int store_quota_get_own(const struct store *s, uint32_t domid,
			enum store_quota q, bool soft, uint32_t *value);

/*
 * Consistency check (CONTROL check): parent/child links, the path index and
 * the accounting. Appends one line per problem to report; returns the
 * number of problems found.
 */
unsigned int store_check(const struct store *s, struct buf *report);

#endif
