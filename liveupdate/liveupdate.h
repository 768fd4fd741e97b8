/*
 * liveupdate: replacing a running lxenstored by a new binary.
 *
 * The old daemon starts the new binary with one end of a socketpair
 * (SOCK_SEQPACKET) as --live-update-fd. Over it:
 *
 *   new -> old  LOADED <seq>    (only when the old daemon offered it, see
 *                               LU_LOADED_ENV) loaded and checked up to
 *   old -> new  GO              seq; the new binary waits for GO (the
 *                               -s), then follows the log again
 *   new -> old  EARLY <seq>     (only when the old daemon offered it, see
 *                               LU_EARLY_ENV) loaded up to seq; the
 *   old -> new  FDS, DATA, END  socket connections of now, without their
 *                               state, and the release token (token.c),
 *                               while the old daemon serves on
 *   new -> old  READY <seq>     the state directory is loaded read-only
 *                               and the log followed up to seq
 *   old -> new  FDS ...         descriptors (listeners, lock, connections)
 *   old -> new  DATA ... END    the handover message (liveupdate.proto)
 *   new         claims the token and serves (with EARLY)
 *   new -> old  ACK | NAK text  the new daemon has adopted everything
 *                               (with the token: 20 ms later), or refused
 *                               (then it exits without having written
 *                               anything)
 *   old         close           the old daemon lets go (and exits);
 *                               without the token, only now does the new
 *                               one serve
 *
 * The old daemon stops reading requests only between READY and the
 * answer; it exits on ACK (or when the new daemon holds the token) and
 * carries on serving on anything else. This
 * folder knows nothing of the server's structures: it moves a struct
 * lu_state of plain data, and rebuilds a store from the state directory.
 * Format: docs/formats/liveupdate.md.
 */
#ifndef LXS_LIVEUPDATE_H
#define LXS_LIVEUPDATE_H

#include <stdbool.h>
#include <stdint.h>

#include "snapshot/snapshot.h"
#include "store/store.h"

/* The new daemon keeps the handover message it adopted in the state
 * directory under this name (lxenstore-inspect state FILE). */
#define LU_SAVED_STATE		"liveupdate.state"

/*
 * Set (to "1") in the new binary's environment by an old daemon that
 * answers EARLY: a new binary without it says READY at once, as to an
 * older daemon that would refuse the packet.
 */
#define LU_EARLY_ENV		"LXS_LIVE_UPDATE_EARLY"

/*
 * Set (to "1") by an old daemon that starts the new binary at -f: the new
 * binary loads and checks the state, says LOADED and waits for GO, so the
 * state is loaded once for the check and the update. A new binary
 * without it goes on at once, as for an older daemon (which checks with a
 * separate dry run, --live-update-check, and starts it again at -s).
 */
#define LU_LOADED_ENV		"LXS_LIVE_UPDATE_LOADED"

/* The handover message version this binary writes and the newest it reads. */
#define LU_VERSION		1

struct lu_watch {
	char *wpath;
	char *token;
	int depth;			/* < 0: unlimited */
};

struct lu_out {
	void *data;
	uint32_t len;
	bool reply;
};

struct lu_conn {
	uint32_t id;
	int fd;				/* -1: none (closed or not received) */
	bool ring;			/* ring_domid's ring, no fd */
	bool early;			/* its fd came with EARLY: none here */
	uint32_t ring_domid;
	bool readonly;
	uint32_t features;
	struct store_caller caller;
	void *partial_in;		/* header first; NULL when none */
	uint32_t partial_len;
	struct lu_out *out;
	uint32_t nout;
	struct lu_watch *watches;
	uint32_t nwatches;
	struct store_txn_state *txns;	/* owned deep copies */
	uint32_t ntxns;
	uint32_t next_txid;
};

struct lu_domain {
	uint32_t domid;
	uint32_t target;
	uint32_t features;
	bool introduced, priv, shutdown;
	uint64_t gfn;
	uint32_t remote_port, local_port;
	uint32_t error;
	uint64_t resets;
	/* How far the old daemon had read the ring (ahead of req_cons while
	 * replies wait in the handed-over queue); absent: req_cons. */
	bool has_rd_cons;
	uint32_t rd_cons;
};

struct lu_state {
	uint32_t version;
	uint64_t final_seq;
	int fd_rw, fd_ro, fd_lock;	/* -1: none */
	uint32_t next_conn_id;
	char *access_log;		/* NULL: none */
	bool access_log_on;
	bool has_reply;			/* queue OK for this request */
	uint32_t reply_conn, reply_req_id, reply_tx_id;
	struct lu_conn *conns;
	uint32_t nconns;
	char *wal_segment;		/* NULL: start a new one */
	uint64_t pause_start_ns;	/* CLOCK_MONOTONIC; 0: unknown */
	int fd_token;			/* EARLY: the release token; -1: none */
	int fd_evtchn;			/* -1: none */
	struct lu_domain *domains;
	uint32_t ndomains;
};

/* An empty state: every fd -1. */
void lu_state_init(struct lu_state *st);
/* Frees everything st owns and closes the fds still >= 0. */
void lu_state_release(struct lu_state *st);
/* Appends a connection (zeroed, fd -1) and returns it (borrowed). */
struct lu_conn *lu_state_add_conn(struct lu_state *st);
/* Copies of data, wpath and token are made. */
void lu_conn_add_out(struct lu_conn *c, const void *data, uint32_t len,
		     bool reply);
void lu_conn_add_watch(struct lu_conn *c, const char *wpath,
		       const char *token, int depth);
/* Appends a domain record (copied). */
void lu_state_add_domain(struct lu_state *st, const struct lu_domain *d);
/* Adds a deep copy of t. */
void lu_conn_add_txn(struct lu_conn *c, const struct store_txn_state *t);

/* ---- the release token (token.c) ------------------------------------------ */

#define LU_TOKEN_PENDING	0u
#define LU_TOKEN_NEW		1u	/* the new daemon serves */
#define LU_TOKEN_OLD		2u	/* the old daemon resumed */

struct lu_token;

/*
 * Old daemon: a new token (PENDING) in *t (free with lu_token_free) and
 * its descriptor in *fd (caller closes; passed with EARLY). -errno.
 */
int lu_token_new(struct lu_token **t, int *fd);
/* New daemon: maps the token of fd (borrowed; may be closed after). */
int lu_token_open(int fd, struct lu_token **t);
/*
 * Claims the token for who (LU_TOKEN_NEW or LU_TOKEN_OLD) if nobody has;
 * returns the owner after the call: who if this claim won.
 */
uint32_t lu_token_claim(struct lu_token *t, uint32_t who);
/* Unmaps; NULL is a no-op. */
void lu_token_free(struct lu_token *t);

/* ---- the new binary's arguments (args.c) --------------------------------- */

/*
 * Cuts the command line of `live-update -c` into at most max arguments:
 * blanks separate them, unless quoted ('...', "...") or escaped with a
 * backslash (rules in args.c; docs/PROTOCOL.md). *argv (NULL-terminated,
 * caller frees with lu_args_free) and *argc; -EINVAL (unterminated quote,
 * trailing backslash) or -E2BIG with *why, a static text.
 */
int lu_args_split(const char *cmdline, int max, char ***argv, int *argc,
		  const char **why);
/* Frees what lu_args_split gave; NULL is a no-op. */
void lu_args_free(char **argv);

/* ---- encoding (msg.c) ---------------------------------------------------- */

/*
 * Encodes st into *out (caller frees) and lists the fds to pass, in the
 * order the message refers to them, in *fds (caller frees; borrowed fds).
 */
void lu_encode(const struct lu_state *st, uint8_t **out, size_t *len,
	       int **fds, uint32_t *nfds);
/*
 * Decodes a message into st (initialized here; the caller frees it with
 * lu_state_release, and on failure it holds nothing), giving each fd from
 * fds (indexed by the message) to st; fds handed to st are set to -1 in
 * fds, the caller closes the rest. -EINVAL (with *why, caller frees) for a message that does not decode,
 * names a missing fd, or has a version above LU_VERSION.
 */
int lu_decode(const uint8_t *data, size_t len, int *fds, uint32_t nfds,
	      struct lu_state *st, char **why);
/*
 * The same for a message kept without its descriptors (LU_SAVED_STATE,
 * lxenstore-inspect): every fd of st is -1, none is missing.
 */
int lu_decode_saved(const uint8_t *data, size_t len, struct lu_state *st,
		    char **why);

/* ---- the channel (chan.c) ------------------------------------------------ */

/*
 * All calls block; the caller bounds them with SO_SNDTIMEO/SO_RCVTIMEO
 * (a timeout is -EAGAIN). A closed peer is -EPIPE.
 */
int lu_send_ready(int fd, uint64_t seq);
/* New daemon, before READY: asks for the connections (loaded up to seq). */
int lu_send_early(int fd, uint64_t seq);
/* New daemon, offered LU_LOADED_ENV: loaded and checked up to seq. */
int lu_send_loaded(int fd, uint64_t seq);
/* Old daemon: the update is to go on (the -s). */
int lu_send_go(int fd);
/* New daemon: waits (without a time limit) for GO; -EPROTO for another
 * packet, -EPIPE when the old daemon closed the channel. */
int lu_recv_go(int fd);

/* What the new daemon said with a seq. */
enum lu_said {
	LU_SAID_READY,
	LU_SAID_EARLY,
	LU_SAID_LOADED,
};

/*
 * READY, EARLY or LOADED (*said tells which; unset on failure).
 * -ECANCELED for a NAK (the new binary could not load: its text in *why,
 * caller frees), -EPROTO for any other packet.
 */
int lu_recv_ready(int fd, uint64_t *seq, enum lu_said *said, char **why);
/* Sends st's fds and its encoding. */
int lu_send_state(int fd, const struct lu_state *st);
/*
 * Receives a state into st, as lu_decode (caller frees with
 * lu_state_release); *why (caller frees) says why it was refused. raw (may
 * be NULL) gets the message's bytes (what lu_decode read), e.g. to keep
 * them for lxenstore-inspect.
 */
int lu_recv_state(int fd, struct lu_state *st, struct buf *raw,
		  char **why);
/* err NULL: ACK, else NAK with that text. */
int lu_send_result(int fd, const char *err);
/* 0 for ACK; -ECANCELED for NAK with its text in *why (caller frees). */
int lu_recv_result(int fd, char **why);
/*
 * New daemon, after its ACK: waits (without a time limit) until the old
 * daemon closes its end, so that the two never serve at once; an old
 * daemon that gave up on the ACK kills the new one instead. 0 at the
 * close, -errno otherwise.
 */
int lu_wait_release(int fd);

/* ---- loading (load.c) ----------------------------------------------------- */

/*
 * Rebuilds the state of dir read-only (nothing on disk changes; a running
 * daemon may go on writing) into *out (caller frees), with the stores
 * made by new_store, and its domain table into *doms (caller frees with
 * wal_domtab_free); *pos gets where the log was read up to (pos->seq: the
 * last record included). A torn tail is normal here (the daemon is
 * writing it); corruption or an I/O error is -errno with *why (caller
 * frees).
 */
int lu_load(const char *dir, snap_store_fn new_store, void *arg,
	    struct store **out, struct wal_domtab **doms, struct wal_pos *pos,
	    char **why);
/*
 * Applies the log records after pos->seq, up to and including upto, to s
 * (and the domain records to doms), reading on from *pos, which it
 * advances; *applied (may be NULL) gets how many. Each call reads only
 * what the log gained since pos, whatever the segment's size. Stops
 * quietly at a torn tail. -EBADMSG with *why for a record this binary
 * cannot apply.
 */
int lu_follow(const char *dir, struct store *s, struct wal_domtab *doms,
	      struct wal_pos *pos, uint64_t upto, uint64_t *applied,
	      char **why);

#endif
