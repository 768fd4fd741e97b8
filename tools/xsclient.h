/*
 * xsclient: a small blocking XenStore client for the command line tools.
 *
 * One connection carries one outstanding request at a time: a call sends its
 * request and reads until the reply with the same req_id arrives. WATCH_EVENT
 * messages that arrive meanwhile are queued in order and handed out later by
 * xsc_read_watch_event. An ERROR reply becomes the matching -errno (an
 * unknown error name becomes -EINVAL, as libxenstore does).
 *
 * Payloads are limited to XENSTORE_PAYLOAD_MAX (4096) bytes both ways: a
 * request that would be larger is refused with -E2BIG before anything is
 * sent, and a larger incoming message, an unexpected reply or a short read
 * closes the connection; every later call then fails with -ENOTCONN.
 *
 * Replies handed to the caller always carry one extra NUL byte after their
 * length, so string replies can be used directly.
 */
#ifndef LXS_XSCLIENT_H
#define LXS_XSCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The default transaction: no transaction. */
#define XSC_TX_NONE	0u

struct xsc;

/* A permission: type 'n', 'r', 'w' or 'b'; a list starts with the owner. */
struct xsc_perm {
	char type;
	unsigned int domid;
};

/*
 * The endpoint xsc_open uses by default: $XENSTORED_PATH, else
 * $XENSTORED_RUNDIR/socket, else /var/run/xenstored/socket. Caller frees.
 */
char *xsc_default_path(void);

/*
 * Connects to path (NULL: xsc_default_path()). A unix socket is connected;
 * anything else (the /dev/xen/xenbus device) is opened read-write. When the
 * default path does not exist, the xenbus device paths are tried as
 * libxenstore does. Caller frees *out with xsc_close.
 */
int xsc_open(const char *path, struct xsc **out);
/* Closes the connection and drops queued events. NULL is a no-op. */
void xsc_close(struct xsc *c);

/*
 * Sends one request and waits for its reply. On success *reply (may be NULL
 * when the caller does not want it) holds the reply body plus a NUL; caller
 * frees it.
 */
int xsc_request(struct xsc *c, uint32_t type, uint32_t tx,
		const void *payload, uint32_t len,
		char **reply, uint32_t *reply_len);
/* As xsc_request with a payload of n NUL-terminated strings. Borrows argv. */
int xsc_request_strv(struct xsc *c, uint32_t type, uint32_t tx,
		     const char *const *argv, unsigned int n,
		     char **reply, uint32_t *reply_len);

/* Reads a value (may hold NULs). Caller frees *val (NUL after *len bytes). */
int xsc_read(struct xsc *c, uint32_t tx, const char *path,
	     char **val, uint32_t *len);
/* Writes len bytes of val; the daemon creates missing parents. Borrows val. */
int xsc_write(struct xsc *c, uint32_t tx, const char *path,
	      const void *val, uint32_t len);
/* Creates path with an empty value unless it exists. Borrows path. */
int xsc_mkdir(struct xsc *c, uint32_t tx, const char *path);
/* Removes a node and its subtree. Borrows path. */
int xsc_rm(struct xsc *c, uint32_t tx, const char *path);

/*
 * Lists the children of path. *names is a NULL-terminated array held in one
 * allocation together with the strings; caller frees it with free(). Falls
 * back to DIRECTORY_PART when the list does not fit one reply (E2BIG) and
 * restarts when the node changes between parts.
 */
int xsc_directory(struct xsc *c, uint32_t tx, const char *path,
		  char ***names, unsigned int *n);

/* The permission list of path, owner first. Caller frees *perms. */
int xsc_get_perms(struct xsc *c, uint32_t tx, const char *path,
		  struct xsc_perm **perms, unsigned int *n);
/* Replaces the permission list of path (perms[0]: owner). Borrows perms. */
int xsc_set_perms(struct xsc *c, uint32_t tx, const char *path,
		  const struct xsc_perm *perms, unsigned int n);
/* Formats one entry as on the wire ("r5") into out; 16 bytes always suffice. */
void xsc_perm_format(const struct xsc_perm *perm, char *out, size_t size);

/*
 * Registers a watch; the daemon then sends one initial event for it. depth < 0
 * sends no depth (a depth needs the WATCHDEPTH feature). Borrows the strings.
 */
int xsc_watch(struct xsc *c, const char *path, const char *token, int depth);
/* Removes the watch registered with the same path and token. Borrows both. */
int xsc_unwatch(struct xsc *c, const char *path, const char *token);
/*
 * Blocks until a watch event is available (queued first). *path is one
 * allocation that also holds *token; caller frees *path only.
 */
int xsc_read_watch_event(struct xsc *c, char **path, char **token);

/* The XENSTORE_SERVER_FEATURE_* bits of this connection (GET_FEATURE). */
int xsc_get_features(struct xsc *c, uint32_t *features);

/* Starts a transaction; *tx is its id for the calls that take tx. */
int xsc_transaction_start(struct xsc *c, uint32_t *tx);
/* Commits (commit true) or aborts; tx ends either way. Conflict: -EAGAIN. */
int xsc_transaction_end(struct xsc *c, uint32_t tx, bool commit);

/*
 * Sends CONTROL with argv as NUL-separated strings. Caller frees *reply
 * (NUL-terminated, as xsc_request).
 */
int xsc_control(struct xsc *c, const char *const *argv, unsigned int n,
		char **reply, uint32_t *reply_len);

#endif
