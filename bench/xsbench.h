/*
 * xsbench: a XenStore load generator speaking the raw wire protocol over
 * the unix socket, so that one connection can keep several requests in
 * flight (libxenstore allows one). Shared declarations of its files:
 *
 *   xsbench.c  options, the run (warm-up, measured window, drain), the
 *              daemon's CPU time from /proc, output, the helper modes
 *   client.c   connections: framing, the FIFO of requests in flight,
 *              non-blocking I/O under epoll, and blocking calls for setup
 *   work.c     the workloads, each a small state machine per connection
 *   hist.c     the latency histogram
 *
 * One thread drives every connection through one epoll set. On this
 * project's 2-core machines the daemon (one thread) gets one core and the
 * load generator the other; 64 client processes or threads would compete
 * with the daemon for CPU and add scheduler noise to every figure.
 *
 * A message on the wire is a 16-byte header in host byte order followed by
 * at most XENSTORE_PAYLOAD_MAX payload bytes:
 *
 *   0        4        8        12       16
 *   | type   | req_id | tx_id  | len    | payload ...
 */
#ifndef XSBENCH_H
#define XSBENCH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/common.h"

/* Requests one connection may have in flight (-p). */
#define CLIENT_MAX_DEPTH	64
/* Input buffer: always room for one whole message after a partial one. */
#define CLIENT_IN_SIZE		(64 * 1024)

/* --- hist.c: latencies in ns, about 3% resolution ------------------------ */

#define HIST_SUB_BITS	5
#define HIST_BUCKETS	((65 - HIST_SUB_BITS) * (1u << HIST_SUB_BITS))

struct hist {
	uint64_t n;
	uint64_t max;
	uint64_t max_at;		/* mono ns when max was seen */
	uint64_t b[HIST_BUCKETS];
};

void hist_reset(struct hist *h);
void hist_add(struct hist *h, uint64_t v, uint64_t now);
/* Value at quantile q (0 < q <= 1), a bucket midpoint; 0 when empty. */
uint64_t hist_quantile(const struct hist *h, double q);

/* --- client.c ------------------------------------------------------------- */

struct bench;

struct client {
	struct bench *b;
	unsigned int idx;		/* 0 .. nclients-1 */
	int fd;				/* -1 when not connected */
	uint32_t next_req;

	/* Requests sent and not answered yet, oldest first. The daemons
	 * answer a connection's requests in order, so replies pop it. */
	uint64_t q_ns[CLIENT_MAX_DEPTH];
	uint32_t q_req[CLIENT_MAX_DEPTH];
	unsigned int q_head, q_len;

	struct buf out;
	size_t out_off;
	bool want_out;			/* EPOLLOUT registered */
	char *in;
	size_t in_len;

	/* Workload state (work.c). */
	int state;
	uint32_t tx;
	uint64_t seq;
	uint64_t rng;
	uint64_t op_t0;			/* start of a multi-request op */
	uint64_t got;			/* watch events received */
	unsigned int gen;		/* bumped by client_close */
};

/*
 * Connects to b->socket and adds the fd to b->epfd; 0 or -errno.
 * Non-blocking once connected. Allocates c->in on first use; it is kept
 * across reconnections and the caller frees it (with c->out) at the end.
 */
int client_connect(struct client *c);
/* Closes the connection and forgets its requests in flight; no-op when
 * closed. */
void client_close(struct client *c);
/*
 * Queues one request: a NUL-terminated string s (sent with its NUL, or
 * nothing when NULL) followed by n raw bytes of tail. Sent by client_flush.
 */
void client_send(struct client *c, uint32_t type, uint32_t tx, const char *s,
		 const void *tail, size_t n);
/* Writes what is queued, as far as the socket takes it. */
void client_flush(struct client *c);
/* Reads what is there and hands each message to the workload. */
void client_input(struct client *c);

/*
 * Blocking helpers on a plain fd, for setup: one request and its reply
 * (watch events are skipped). Reply payload into buf (NUL-terminated,
 * truncated to size); returns 0, -errno of an XS_ERROR reply, or -EIO.
 */
int client_call(int fd, uint32_t type, const char *s, const void *tail,
		size_t n, char *buf, size_t size);
/*
 * Writes count nodes, path_of(i, arg) for i in [from, from + count), each
 * to a value of vlen bytes, keeping up to 256 requests in flight.
 */
int client_write_many(int fd, uint64_t from, uint64_t count,
		      void (*path_of)(uint64_t i, void *arg, char *out,
				      size_t size),
		      void *arg, size_t vlen);
/* Connects a blocking socket to path; the fd (caller closes) or -errno. */
int client_dial(const char *path);

/* --- work.c --------------------------------------------------------------- */

struct work {
	const char *name;
	const char *what;
	unsigned int flags;
	/* Prepares the tree on a blocking connection; 0 or -errno. */
	int (*setup)(struct bench *b, int fd);
	/* Sends the first requests of a connection. */
	void (*start)(struct client *c);
	/* One request of a one-request-per-op workload (work_simple_*). */
	void (*issue)(struct client *c);
	/* A reply (not an event), lat_ns after its request was queued. */
	void (*reply)(struct client *c, const struct xsd_sockmsg *h,
		      const char *p, uint64_t lat_ns);
	/* A watch event. */
	void (*event)(struct client *c, const char *p, uint32_t len);
	/* Requests or events still owed to the workload (drain waits). */
	uint64_t (*pending)(const struct bench *b);
};

#define WORK_FIXED_DEPTH	0x1	/* -p is ignored: one op at a time */
#define WORK_EXTRA_CONN		0x2	/* one more connection than -c */

/* The workload called name, or NULL. */
const struct work *work_find(const char *name);
/* Prints the workload names with their descriptions. */
void work_list(FILE *f);
/* Path of prefilled key i. */
void work_key_path(uint64_t i, void *arg, char *out, size_t size);
/* Makes sure keys 0..nodes-1 exist; 0 or -errno. */
int work_prefill(struct bench *b, int fd);

/* --- xsbench.c: the run, seen by the workloads ---------------------------- */

enum bench_phase {
	PHASE_WARMUP,
	PHASE_MEASURE,
	PHASE_DRAIN,
};

struct bench {
	/* Options. */
	const char *socket;
	const struct work *work;
	unsigned int nclients;		/* connections the workload asked */
	unsigned int depth;
	double duration, warmup;
	uint64_t nodes;
	uint64_t max_ops;
	unsigned int value_size;
	unsigned int dir_size;
	uint64_t seed;

	/* Run state. */
	int epfd;
	struct client *clients;
	unsigned int nconns;		/* connections actually open */
	enum bench_phase phase;
	bool stopping;			/* no new requests */
	uint64_t inflight;		/* sum of the clients' q_len */

	/* Measured window. */
	struct hist lat;
	/* --timeline: per XSB_TL_NS bucket of the window, operations and
	 * the longest latency (ns); tl_n buckets, none without it. */
	uint64_t *tl_max;
	uint64_t *tl_ops;
	size_t tl_n;
	uint64_t tl_t0;			/* mono ns the window opened */
	uint64_t tl_real0;		/* realtime ns, the same moment */
	uint64_t ops, reqs, errors, retries;
	uint64_t t_start;
	char value[XENSTORE_PAYLOAD_MAX];
	uint64_t stamp;

	/* Workload-wide state (work.c). */
	uint64_t w_sent, w_done;	/* watch rounds */
	uint64_t w_ns[CLIENT_MAX_DEPTH];
	unsigned int w_left[CLIENT_MAX_DEPTH];
	unsigned int w_watchers;
	bool w_armed;
};

/* One finished operation of the workload, lat_ns long. */
void bench_op_done(struct bench *b, uint64_t lat_ns);
/* One reply answered; counted as a request in the measured window. */
void bench_req_done(struct bench *b);
/* An unexpected error: counted, and the first few are printed. */
void bench_error(struct bench *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A transaction that has to be retried (EAGAIN). */
void bench_retry(struct bench *b);
/* Uniform random number below n, from the connection's generator. */
uint64_t bench_rand(struct client *c, uint64_t n);
/*
 * The value to write: value_size bytes whose first ones are a counter, so
 * that no two writes store the same bytes (a daemon may not skip a write
 * as a no-op, and transactions really conflict). Valid until the next call.
 */
const char *bench_value(struct bench *b);

#endif
