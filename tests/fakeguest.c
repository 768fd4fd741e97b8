/*
 * fakeguest: a guest kernel's xenbus driver, on the fake Xen of
 * tests/fakexen (see fakexen.h for the files), for the ring tests.
 *
 *   fakeguest [-p PORT] [-t MS] [-c N] [-r FILE] DIR DOMID COMMAND...
 *   fakeguest [-p PORT] [-t MS] [-c N] [-r FILE] DIR DOMID -
 *
 * At start it opens (or creates) DIR/ring-DOMID, binds its end of event
 * channel PORT (DIR/evtchn-DOMID-PORT, default port 1), sets the ring's
 * connection field to RECONNECT ("wait for the server") and touches FILE
 * (-r) once all that is in place: the toolstack may INTRODUCE it now. The
 * first request waits until the server has set the field to CONNECTED.
 * Then it runs the commands, given as words on the command line or, with
 * "-", one per line on standard input (each result is flushed at once, so
 * a shell test can talk to it through a pipe and keep it alive across a
 * daemon restart).
 *
 * Commands (paths are as the guest sends them: relative ones are under
 * /local/domain/DOMID). Each prints exactly one line: the value, "OK", a
 * list joined by spaces, "ERROR <ENAME>" for an error reply, or what went
 * wrong ("TIMEOUT ...", "RING-ERROR <n>" when the server has set the error
 * field, "BAD-..." when the server broke the protocol).
 *   read P | write P V | mkdir P | rm P | ls P | getperms P
 *   setperms P PERM[,PERM...]      e.g. n5,r0
 *   watch P TOKEN [DEPTH] | unwatch P TOKEN
 *   event                   the next watch event: "EVENT <path> <token>"
 *   wait-value P V          reads P after each event until it is V
 *                           (needs a watch covering P): prints "OK"
 *   txn | commit | abort    a transaction around the requests between
 *   raw TYPE PAYLOAD        any request (TYPE a name or a number), outside
 *                           any transaction; payload escapes \0 \n \\
 *                           \xHH; prints "<TYPE> <escaped reply>"
 *   reconnect               connection = RECONNECT, wait for CONNECTED;
 *                           drops what was pending locally
 *   features | error        the ring's server_features / error field
 *   set-index N             puts all four indices at N (rings must be
 *                           empty): a ring that has carried ~N bytes,
 *                           without sending them (for the 2^32 wrap)
 *   bad-req-index | bad-rsp-index   lie about an index, notify
 *   too-long                a request header announcing 5000 bytes
 *   partial                 half a message: a header announcing 50 bytes
 *                           and 10 of them
 *   half-write P V          the first half of a WRITE of P (as "write"),
 *                           once the server has consumed it: "OK"
 *   finish                  the rest of it, then its reply as "write"
 *   stuff N P               puts up to N READs of P in the ring and
 *                           returns without reading the replies
 *   drain MS                reads replies until none came for MS ms:
 *                           "drained N first ID last ID in-order" (or
 *                           "out-of-order"; "drained 0")
 *   wait-error              waits until the error field is set: "error N"
 *   flood N P               N pipelined WRITEs of P: "flood N ok K err E"
 *   pipeline N P            puts up to N READs of P in the ring without
 *                           reading any reply, waits 300 ms, then reads
 *                           them all: "pipeline sent K unread B replies R"
 *                           (B: request bytes the server left unread)
 *   bench N P               N READs of P one after the other:
 *                           "bench N median_us X p99_us Y max_us Z"
 *   sleep MS
 * -c N sends every message in pieces of at most N bytes, each consumed by
 * the server before the next is written (partial messages); -t is the
 * timeout of every wait (default 10000 ms).
 *
 * Exit status: 0 when every command ran (error replies included), 1 when a
 * wait timed out or the ring broke (the error field set, bad indices from
 * the server, a reply over 4096 bytes), 2 for a usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/common.h"
#include "tests/fakexen/fakexen.h"

#define FG_MAX_ARGS	8

struct fg_msg {
	struct fg_msg *next;
	struct xsd_sockmsg hdr;
	char payload[];		/* hdr.len bytes + NUL */
};

struct fg_queue {
	struct fg_msg *head, **tail;
};

struct fg_guest {
	const char *dir;
	uint32_t domid, port;
	struct xenstore_domain_interface *ring;
	int sock;
	struct sockaddr_un daemon;
	int timeout_ms;
	size_t chunk;
	uint32_t next_req;
	uint32_t tx;
	bool connected;
	/* The message being received. */
	unsigned char in[sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX];
	size_t in_got;
	struct fg_queue replies, events;
	/* The second half of a half-write, and its req_id. */
	struct buf held;
	uint32_t held_req;
};

/* Set when a wait timed out or the ring broke: exit status 1. */
static bool fg_broken;

static void __attribute__((noreturn, format(printf, 1, 2)))
fg_die(const char *fmt, ...)
{
	va_list ap;

	fputs("fakeguest: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static void __attribute__((format(printf, 1, 2)))
fg_out(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static uint64_t
fg_now_us(void)
{
	return mono_ns() / 1000;
}

/* ---- the page and the event channel --------------------------------------- */

static inline uint32_t
fg_load(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static inline void
fg_store(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

static void
fg_kick(struct fg_guest *g)
{
	struct fx_kick k = { g->domid, g->port };

	/* The daemon may be down (restarting): a lost kick is fine. */
	(void)sendto(g->sock, &k, sizeof(k), MSG_DONTWAIT | MSG_NOSIGNAL,
		     (struct sockaddr *)&g->daemon, sizeof(g->daemon));
}

static void
fg_drain(struct fg_guest *g)
{
	struct fx_kick k;

	while (recv(g->sock, &k, sizeof(k), MSG_DONTWAIT) > 0)
		;
}

/* Waits for a notification until deadline_us; -1 on timeout. */
static int
fg_wait(struct fg_guest *g, uint64_t deadline_us)
{
	struct pollfd p = { .fd = g->sock, .events = POLLIN };
	uint64_t now = fg_now_us();
	int rc;

	if (now >= deadline_us)
		return -1;
	rc = poll(&p, 1, (int)((deadline_us - now + 999) / 1000));
	if (rc < 0 && errno != EINTR)
		fg_die("poll: %s", strerror(errno));
	fg_drain(g);
	return 0;
}

static uint64_t
fg_deadline(const struct fg_guest *g)
{
	return fg_now_us() + (uint64_t)g->timeout_ms * 1000;
}

static void
fg_open(struct fg_guest *g)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char path[512];
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "%s/ring-%u", g->dir, g->domid);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		fg_die("%s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 ||
	    (st.st_size < (off_t)FX_PAGE_SIZE && ftruncate(fd, FX_PAGE_SIZE) < 0))
		fg_die("%s: %s", path, strerror(errno));
	g->ring = mmap(NULL, FX_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		       fd, 0);
	if (g->ring == MAP_FAILED)
		fg_die("mmap %s: %s", path, strerror(errno));
	close(fd);
	/* Wait for the server, as a guest that finds RECONNECT set does. */
	fg_store(&g->ring->connection, XENSTORE_RECONNECT);

	g->sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (g->sock < 0)
		fg_die("socket: %s", strerror(errno));
	if ((size_t)snprintf(sun.sun_path, sizeof(sun.sun_path),
			     "%s/evtchn-%u-%u", g->dir, g->domid, g->port) >=
	    sizeof(sun.sun_path))
		fg_die("directory name too long: %s", g->dir);
	unlink(sun.sun_path);
	if (bind(g->sock, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		fg_die("bind %s: %s", sun.sun_path, strerror(errno));
	g->daemon.sun_family = AF_UNIX;
	snprintf(g->daemon.sun_path, sizeof(g->daemon.sun_path), "%s/%s",
		 g->dir, FX_DAEMON_SOCK);
	g->replies.tail = &g->replies.head;
	g->events.tail = &g->events.head;
	/* A reconnect request to a daemon that already serves this ring
	 * (a guest restarting on an introduced domain). */
	fg_kick(g);
}

/* ---- queues ------------------------------------------------------------------ */

static void
fg_queue_push(struct fg_queue *q, struct fg_msg *m)
{
	m->next = NULL;
	*q->tail = m;
	q->tail = &m->next;
}

static struct fg_msg *
fg_queue_pop(struct fg_queue *q)
{
	struct fg_msg *m = q->head;

	if (m) {
		q->head = m->next;
		if (q->head == NULL)
			q->tail = &q->head;
	}
	return m;
}

static void
fg_queue_clear(struct fg_queue *q)
{
	struct fg_msg *m;

	while ((m = fg_queue_pop(q)) != NULL)
		free(m);
}

/* ---- ring transfers ------------------------------------------------------------ */

/* The ring is unusable: the server set its error field. */
static bool
fg_ring_error(struct fg_guest *g)
{
	uint32_t err = fg_load(&g->ring->error);

	if (err == 0)
		return false;
	fg_out("RING-ERROR %u", err);
	fg_broken = true;
	return true;
}

/*
 * Moves what the response ring holds into the queues. Returns 1 if bytes
 * moved, 0 if none, -1 if the ring is broken.
 */
static int
fg_pump(struct fg_guest *g)
{
	struct xenstore_domain_interface *r = g->ring;
	const size_t hdr_len = sizeof(struct xsd_sockmsg);
	int moved = 0;

	for (;;) {
		struct xsd_sockmsg hdr;
		uint32_t cons, prod, avail, off, first, n;
		size_t need;

		if (g->in_got >= hdr_len) {
			memcpy(&hdr, g->in, hdr_len);
			if (hdr.len > XENSTORE_PAYLOAD_MAX) {
				fg_out("BAD-REPLY length %u", hdr.len);
				fg_broken = true;
				return -1;
			}
			need = hdr_len + hdr.len - g->in_got;
			if (need == 0) {
				struct fg_msg *m = malloc(sizeof(*m) +
							  hdr.len + 1);

				if (m == NULL)
					fg_die("out of memory");
				m->hdr = hdr;
				memcpy(m->payload, g->in + hdr_len, hdr.len);
				m->payload[hdr.len] = '\0';
				fg_queue_push(hdr.type == XS_WATCH_EVENT ?
					      &g->events : &g->replies, m);
				g->in_got = 0;
				continue;
			}
		} else {
			need = hdr_len - g->in_got;
		}
		cons = fg_load(&r->rsp_cons);
		prod = fg_load(&r->rsp_prod);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		avail = prod - cons;
		if (avail > XENSTORE_RING_SIZE) {
			fg_out("BAD-SERVER-INDEX rsp cons %u prod %u", cons,
			       prod);
			fg_broken = true;
			return -1;
		}
		if (avail == 0)
			return moved;
		n = avail < need ? avail : (uint32_t)need;
		off = MASK_XENSTORE_IDX(cons);
		first = XENSTORE_RING_SIZE - off;
		if (first > n)
			first = n;
		memcpy(g->in + g->in_got, r->rsp + off, first);
		memcpy(g->in + g->in_got + first, r->rsp, n - first);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		fg_store(&r->rsp_cons, cons + n);
		g->in_got += n;
		moved = 1;
		fg_kick(g);
	}
}

/* Waits until the server has set connection = CONNECTED. */
static int
fg_connected(struct fg_guest *g)
{
	uint64_t deadline = fg_deadline(g);

	while (fg_load(&g->ring->connection) != XENSTORE_CONNECTED) {
		if (fg_wait(g, deadline) < 0) {
			fg_out("TIMEOUT waiting for CONNECTED");
			fg_broken = true;
			return -1;
		}
	}
	g->connected = true;
	return 0;
}

/*
 * Writes up to len bytes if room allows (at most -c bytes); returns the
 * count, or -1 if the ring is broken.
 */
static long
fg_put(struct fg_guest *g, const unsigned char *data, size_t len)
{
	struct xenstore_domain_interface *r = g->ring;
	uint32_t cons, prod, used, off, first, n;

	cons = fg_load(&r->req_cons);
	prod = fg_load(&r->req_prod);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	used = prod - cons;
	if (used > XENSTORE_RING_SIZE) {
		fg_out("BAD-SERVER-INDEX req cons %u prod %u", cons, prod);
		fg_broken = true;
		return -1;
	}
	n = XENSTORE_RING_SIZE - used;
	if (n > len)
		n = (uint32_t)len;
	if (g->chunk && n > g->chunk)
		n = (uint32_t)g->chunk;
	if (n == 0)
		return 0;
	off = MASK_XENSTORE_IDX(prod);
	first = XENSTORE_RING_SIZE - off;
	if (first > n)
		first = n;
	memcpy(r->req + off, data, first);
	memcpy(r->req, data + first, n - first);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	fg_store(&r->req_prod, prod + n);
	fg_kick(g);
	return n;
}

/* Sends a whole message, reading responses meanwhile. */
static int
fg_send(struct fg_guest *g, const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t deadline = fg_deadline(g);
	size_t off = 0;

	if (!g->connected && fg_connected(g) < 0)
		return -1;
	while (off < len) {
		long n;

		if (fg_ring_error(g))
			return -1;
		n = fg_put(g, p + off, len - off);
		if (n < 0)
			return -1;
		off += (size_t)n;
		if (n > 0 && !(g->chunk && off < len))
			continue;
		/* No room, or a piece the server must take before the next:
		 * wait until it consumed everything. */
		while (fg_load(&g->ring->req_cons) !=
		       fg_load(&g->ring->req_prod)) {
			if (fg_pump(g) < 0 || fg_ring_error(g))
				return -1;
			if (fg_load(&g->ring->req_cons) ==
			    fg_load(&g->ring->req_prod))
				break;
			if (fg_wait(g, deadline) < 0) {
				fg_out("TIMEOUT sending");
				fg_broken = true;
				return -1;
			}
		}
	}
	return 0;
}

/* The next reply (watch events are queued meanwhile); NULL on failure. */
static struct fg_msg *
fg_reply(struct fg_guest *g)
{
	uint64_t deadline = fg_deadline(g);
	struct fg_msg *m;

	for (;;) {
		if (fg_pump(g) < 0)
			return NULL;
		m = fg_queue_pop(&g->replies);
		if (m)
			return m;
		if (fg_ring_error(g))
			return NULL;
		if (fg_wait(g, deadline) < 0) {
			fg_out("TIMEOUT waiting for a reply");
			fg_broken = true;
			return NULL;
		}
	}
}

static struct fg_msg *
fg_request(struct fg_guest *g, uint32_t type, const void *payload,
	   size_t len)
{
	struct xsd_sockmsg hdr = {
		.type = type, .req_id = ++g->next_req, .tx_id = g->tx,
		.len = (uint32_t)len,
	};
	struct buf b = { 0 };
	struct fg_msg *m;
	int rc;

	buf_add(&b, &hdr, sizeof(hdr));
	buf_add(&b, payload, len);
	rc = fg_send(g, b.data, b.len);
	buf_free(&b);
	if (rc < 0)
		return NULL;
	m = fg_reply(g);
	if (m && m->hdr.req_id != hdr.req_id) {
		fg_out("BAD-REQ-ID %u for %u", m->hdr.req_id, hdr.req_id);
		fg_broken = true;
		free(m);
		return NULL;
	}
	return m;
}

/* Builds a payload of NUL-terminated strings. */
static void
fg_args(struct buf *b, int n, const char *const *argv)
{
	for (int i = 0; i < n; i++)
		buf_add_str0(b, argv[i]);
}

/* Prints an error reply as "ERROR <name>"; true if it was one. */
static bool
fg_is_error(const struct fg_msg *m)
{
	if (m->hdr.type != XS_ERROR)
		return false;
	fg_out("ERROR %s", m->payload);
	return true;
}

/* Prints the payload's strings joined by spaces. */
static void
fg_print_list(const struct fg_msg *m)
{
	struct buf b = { 0 };

	for (uint32_t i = 0; i < m->hdr.len; i++) {
		char c = m->payload[i];

		if (c == '\0') {
			if (i + 1 < m->hdr.len)
				buf_add(&b, " ", 1);
		} else {
			buf_add(&b, &c, 1);
		}
	}
	buf_add(&b, "", 1);
	fg_out("%s", b.data);
	buf_free(&b);
}

static void
fg_print_escaped(const struct fg_msg *m)
{
	const char *name = wire_type_name(m->hdr.type);
	struct buf b = { 0 };

	for (uint32_t i = 0; i < m->hdr.len; i++) {
		unsigned char c = (unsigned char)m->payload[i];

		if (c == '\0')
			buf_add(&b, "\\0", 2);
		else if (c == '\\')
			buf_add(&b, "\\\\", 2);
		else if (c < 0x20 || c >= 0x7f)
			buf_printf(&b, "\\x%02x", c);
		else
			buf_add(&b, &c, 1);
	}
	buf_add(&b, "", 1);
	fg_out("%s %s", name ? name : "?", b.data);
	buf_free(&b);
}

static int
fg_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void
fg_unescape(const char *s, struct buf *out)
{
	while (*s) {
		char c = *s++;

		if (c == '\\' && *s) {
			c = *s++;
			if (c == '0')
				c = '\0';
			else if (c == 'n')
				c = '\n';
			else if (c == 'x' && fg_hex(s[0]) >= 0 &&
				 fg_hex(s[1]) >= 0) {
				c = (char)(fg_hex(s[0]) * 16 + fg_hex(s[1]));
				s += 2;
			}
		}
		buf_add(out, &c, 1);
	}
}

/* ---- commands --------------------------------------------------------------------- */

/* A simple request: prints OK, the value, or the list. */
enum fg_show { FG_SHOW_OK, FG_SHOW_VALUE, FG_SHOW_LIST };

static void
fg_simple(struct fg_guest *g, uint32_t type, int n, const char *const *argv,
	  enum fg_show show)
{
	struct buf b = { 0 };
	struct fg_msg *m;

	fg_args(&b, n, argv);
	/* WRITE: path\0value, no NUL after the value. */
	if (type == XS_WRITE)
		b.len--;
	m = fg_request(g, type, b.data, b.len);
	buf_free(&b);
	if (m == NULL)
		return;
	if (!fg_is_error(m)) {
		if (show == FG_SHOW_VALUE)
			fg_out("%.*s", (int)m->hdr.len, m->payload);
		else if (show == FG_SHOW_LIST)
			fg_print_list(m);
		else
			fg_out("OK");
	}
	free(m);
}

static void
fg_cmd_setperms(struct fg_guest *g, const char *path, const char *perms)
{
	char *list = xstrdup(perms), *save = NULL;
	const char *argv[FG_MAX_ARGS + 1];
	int n = 0;

	argv[n++] = path;
	for (char *p = strtok_r(list, ",", &save); p && n <= FG_MAX_ARGS;
	     p = strtok_r(NULL, ",", &save))
		argv[n++] = p;
	fg_simple(g, XS_SET_PERMS, n, argv, FG_SHOW_OK);
	free(list);
}

static struct fg_msg *
fg_next_event(struct fg_guest *g)
{
	uint64_t deadline = fg_deadline(g);
	struct fg_msg *m;

	for (;;) {
		if (fg_pump(g) < 0)
			return NULL;
		m = fg_queue_pop(&g->events);
		if (m)
			return m;
		if (fg_ring_error(g))
			return NULL;
		if (fg_wait(g, deadline) < 0) {
			fg_out("TIMEOUT waiting for an event");
			fg_broken = true;
			return NULL;
		}
	}
}

static void
fg_cmd_event(struct fg_guest *g)
{
	struct fg_msg *m = fg_next_event(g);
	const char *argv[2];

	if (m == NULL)
		return;
	if (wire_split(m->payload, m->hdr.len, argv, 2, NULL) < 2)
		fg_out("BAD-EVENT");
	else
		fg_out("EVENT %s %s", argv[0], argv[1]);
	free(m);
}

static void
fg_cmd_wait_value(struct fg_guest *g, const char *path, const char *want)
{
	uint64_t deadline = fg_deadline(g);

	for (;;) {
		struct fg_msg *m = fg_request(g, XS_READ, path,
					      strlen(path) + 1);
		bool match;

		if (m == NULL)
			return;
		match = m->hdr.type == XS_READ && m->hdr.len == strlen(want) &&
			memcmp(m->payload, want, m->hdr.len) == 0;
		free(m);
		if (match) {
			fg_out("OK");
			return;
		}
		/* An event for anything: read again. */
		while (g->events.head == NULL) {
			if (fg_pump(g) < 0 || fg_ring_error(g))
				return;
			if (g->events.head)
				break;
			if (fg_wait(g, deadline) < 0) {
				fg_out("TIMEOUT waiting for %s = %s", path,
				       want);
				fg_broken = true;
				return;
			}
		}
		fg_queue_clear(&g->events);
	}
}

static void
fg_cmd_txn(struct fg_guest *g, const char *cmd)
{
	struct fg_msg *m;

	if (strcmp(cmd, "txn") == 0) {
		m = fg_request(g, XS_TRANSACTION_START, "", 1);
		if (m == NULL)
			return;
		if (!fg_is_error(m)) {
			g->tx = (uint32_t)strtoul(m->payload, NULL, 10);
			fg_out("OK");
		}
	} else {
		const char *arg = strcmp(cmd, "commit") == 0 ? "T" : "F";

		m = fg_request(g, XS_TRANSACTION_END, arg, 2);
		g->tx = 0;
		if (m == NULL)
			return;
		if (!fg_is_error(m))
			fg_out("OK");
	}
	free(m);
}

static void
fg_cmd_raw(struct fg_guest *g, const char *type, const char *payload)
{
	struct buf b = { 0 };
	struct fg_msg *m;
	int t = wire_type_value(type);
	unsigned long v;
	uint32_t tx;

	if (t < 0 && parse_uint(type, UINT32_MAX, &v) == 0)
		t = (int)v;
	if (t < 0) {
		fg_out("UNKNOWN-TYPE %s", type);
		return;
	}
	fg_unescape(payload, &b);
	tx = g->tx;
	g->tx = 0;
	m = fg_request(g, (uint32_t)t, b.data ? b.data : "", b.len);
	g->tx = tx;
	buf_free(&b);
	if (m == NULL)
		return;
	fg_print_escaped(m);
	free(m);
}

static void
fg_cmd_reconnect(struct fg_guest *g)
{
	fg_store(&g->ring->connection, XENSTORE_RECONNECT);
	fg_kick(g);
	g->connected = false;
	g->in_got = 0;
	g->tx = 0;
	fg_queue_clear(&g->replies);
	fg_queue_clear(&g->events);
	if (fg_connected(g) == 0)
		fg_out("OK");
}

static void
fg_cmd_set_index(struct fg_guest *g, const char *arg)
{
	struct xenstore_domain_interface *r = g->ring;
	unsigned long v;

	if (parse_uint(arg, UINT32_MAX, &v) < 0)
		fg_die("bad index %s", arg);
	if (!g->connected && fg_connected(g) < 0)
		return;
	if (fg_load(&r->req_cons) != fg_load(&r->req_prod) ||
	    fg_load(&r->rsp_cons) != fg_load(&r->rsp_prod)) {
		fg_out("NOT-EMPTY");
		return;
	}
	fg_store(&r->req_cons, (uint32_t)v);
	fg_store(&r->req_prod, (uint32_t)v);
	fg_store(&r->rsp_cons, (uint32_t)v);
	fg_store(&r->rsp_prod, (uint32_t)v);
	fg_out("OK");
}

static void
fg_cmd_bad_index(struct fg_guest *g, bool req)
{
	struct xenstore_domain_interface *r = g->ring;

	if (!g->connected && fg_connected(g) < 0)
		return;
	if (req) {
		fg_store(&r->req_prod, fg_load(&r->req_cons) + 2000);
	} else {
		/* The server finds out when it next has something to say:
		 * ask it something (the request itself is fine). */
		struct xsd_sockmsg h = { XS_READ, ++g->next_req, 0, 2 };
		unsigned char msg[sizeof(h) + 2];

		fg_store(&r->rsp_cons, fg_load(&r->rsp_prod) + 3000);
		memcpy(msg, &h, sizeof(h));
		memcpy(msg + sizeof(h), "/\0", 2);
		if (fg_put(g, msg, sizeof(msg)) <= 0) {
			fg_out("NO-ROOM");
			return;
		}
	}
	fg_kick(g);
	fg_out("OK");
}

static void
fg_cmd_too_long(struct fg_guest *g)
{
	struct xsd_sockmsg h = { XS_WRITE, ++g->next_req, 0, 5000 };

	if (fg_send(g, &h, sizeof(h)) == 0)
		fg_out("OK");
}

static void
fg_cmd_partial(struct fg_guest *g)
{
	struct xsd_sockmsg h = { XS_WRITE, ++g->next_req, 0, 50 };
	unsigned char msg[sizeof(h) + 10];

	memcpy(msg, &h, sizeof(h));
	memcpy(msg + sizeof(h), "data/part\0", 10);
	if (fg_send(g, msg, sizeof(msg)) == 0)
		fg_out("OK");
}

static void
fg_cmd_half_write(struct fg_guest *g, const char *path, const char *value)
{
	struct xsd_sockmsg h = { XS_WRITE, ++g->next_req, g->tx,
				 (uint32_t)(strlen(path) + 1 + strlen(value)) };
	struct buf b = { 0 };
	size_t half;

	buf_add(&b, &h, sizeof(h));
	buf_add(&b, path, strlen(path) + 1);
	buf_add(&b, value, strlen(value));
	half = b.len / 2;
	buf_reset(&g->held);
	buf_add(&g->held, b.data + half, b.len - half);
	g->held_req = h.req_id;
	if (fg_send(g, b.data, half) == 0)
		fg_out("OK");
	buf_free(&b);
}

static void
fg_cmd_finish(struct fg_guest *g)
{
	struct fg_msg *m;

	if (fg_send(g, g->held.data, g->held.len) < 0)
		return;
	m = fg_reply(g);
	if (m == NULL)
		return;
	if (m->hdr.req_id != g->held_req) {
		fg_out("BAD-REQ-ID %u for %u", m->hdr.req_id, g->held_req);
		fg_broken = true;
	} else if (!fg_is_error(m)) {
		fg_out("OK");
	}
	free(m);
}

static void
fg_cmd_wait_error(struct fg_guest *g)
{
	uint64_t deadline = fg_deadline(g);
	uint32_t err;

	while ((err = fg_load(&g->ring->error)) == 0) {
		if (fg_wait(g, deadline) < 0) {
			fg_out("TIMEOUT waiting for the error field");
			fg_broken = true;
			return;
		}
	}
	fg_out("error %u", err);
}

static void
fg_cmd_flood(struct fg_guest *g, const char *count, const char *path)
{
	unsigned long n, sent = 0, got = 0, ok = 0, err = 0;
	uint64_t deadline;
	struct buf msg = { 0 };

	if (parse_uint(count, 100000000, &n) < 0)
		fg_die("bad count %s", count);
	if (!g->connected && fg_connected(g) < 0)
		return;
	deadline = fg_deadline(g);
	while (got < n) {
		bool progress = false;
		struct fg_msg *m;

		while (sent < n) {
			struct xsd_sockmsg h = { XS_WRITE, ++g->next_req,
						 g->tx, 0 };
			long w;

			buf_reset(&msg);
			buf_add(&msg, &h, sizeof(h));
			buf_add_str0(&msg, path);
			buf_printf(&msg, "%lu", sent);
			((struct xsd_sockmsg *)msg.data)->len =
				(uint32_t)(msg.len - sizeof(h));
			/* Whole messages only: never block half-way. */
			if (XENSTORE_RING_SIZE - (fg_load(&g->ring->req_prod) -
						  fg_load(&g->ring->req_cons)) <
			    msg.len) {
				g->next_req--;
				break;
			}
			w = fg_put(g, (unsigned char *)msg.data, msg.len);
			if (w < 0)
				goto out;
			if ((size_t)w != msg.len)
				fg_die("flood: short put (use no -c)");
			sent++;
			progress = true;
		}
		if (fg_pump(g) < 0)
			goto out;
		while ((m = fg_queue_pop(&g->replies)) != NULL) {
			got++;
			if (m->hdr.type == XS_ERROR)
				err++;
			else
				ok++;
			free(m);
			progress = true;
		}
		fg_queue_clear(&g->events);
		if (fg_ring_error(g))
			goto out;
		if (progress) {
			deadline = fg_deadline(g);
			continue;
		}
		if (fg_wait(g, deadline) < 0) {
			fg_out("TIMEOUT in flood after %lu replies", got);
			fg_broken = true;
			goto out;
		}
	}
	fg_out("flood %lu ok %lu err %lu", n, ok, err);
out:
	buf_free(&msg);
}

/* Puts up to n READs of path in the ring, as many as fit; returns the count. */
static unsigned long
fg_stuff(struct fg_guest *g, unsigned long n, const char *path)
{
	struct xsd_sockmsg h = { XS_READ, 0, 0, (uint32_t)strlen(path) + 1 };
	unsigned long sent = 0;
	struct buf msg = { 0 };

	while (sent < n) {
		h.req_id = ++g->next_req;
		buf_reset(&msg);
		buf_add(&msg, &h, sizeof(h));
		buf_add_str0(&msg, path);
		if (XENSTORE_RING_SIZE - (fg_load(&g->ring->req_prod) -
					  fg_load(&g->ring->req_cons)) <
		    msg.len) {
			g->next_req--;
			break;
		}
		if (fg_put(g, (unsigned char *)msg.data, msg.len) !=
		    (long)msg.len)
			fg_die("pipeline: short put (use no -c)");
		sent++;
	}
	buf_free(&msg);
	return sent;
}

static void
fg_cmd_stuff(struct fg_guest *g, const char *count, const char *path)
{
	unsigned long n;

	if (parse_uint(count, 100000, &n) < 0)
		fg_die("bad count %s", count);
	if (!g->connected && fg_connected(g) < 0)
		return;
	fg_out("stuffed %lu", fg_stuff(g, n, path));
}

static void
fg_cmd_pipeline(struct fg_guest *g, const char *count, const char *path)
{
	unsigned long n, sent, got = 0;
	uint64_t deadline;
	uint32_t unread;

	if (parse_uint(count, 100000, &n) < 0)
		fg_die("bad count %s", count);
	if (!g->connected && fg_connected(g) < 0)
		return;
	sent = fg_stuff(g, n, path);
	usleep(300 * 1000);
	unread = fg_load(&g->ring->req_prod) - fg_load(&g->ring->req_cons);
	deadline = fg_deadline(g);
	while (got < sent) {
		struct fg_msg *m;

		if (fg_pump(g) < 0 || fg_ring_error(g))
			return;
		while ((m = fg_queue_pop(&g->replies)) != NULL) {
			got++;
			free(m);
		}
		if (got < sent && fg_wait(g, deadline) < 0) {
			fg_out("TIMEOUT in pipeline after %lu replies", got);
			fg_broken = true;
			return;
		}
	}
	fg_out("pipeline sent %lu unread %u replies %lu", sent, unread, got);
}

/*
 * Reads replies until none came for MS ms: "drained N first A last B
 * in-order|out-of-order" (req_ids; "drained 0" for none). Replies left
 * unread by stuff, e.g. across a live update: each must come once.
 */
static void
fg_cmd_drain(struct fg_guest *g, const char *ms)
{
	unsigned long quiet, n = 0;
	uint32_t first = 0, last = 0;
	bool order = true;
	uint64_t until;

	if (parse_uint(ms, 600000, &quiet) < 0)
		fg_die("bad time %s", ms);
	until = fg_now_us() + quiet * 1000;
	for (;;) {
		struct fg_msg *m;

		if (fg_pump(g) < 0 || fg_ring_error(g))
			return;
		while ((m = fg_queue_pop(&g->replies)) != NULL) {
			if (n++ == 0)
				first = m->hdr.req_id;
			else if (m->hdr.req_id != last + 1)
				order = false;
			last = m->hdr.req_id;
			free(m);
			until = fg_now_us() + quiet * 1000;
		}
		if (fg_wait(g, until) < 0)
			break;
	}
	if (n == 0)
		fg_out("drained 0");
	else
		fg_out("drained %lu first %u last %u %s", n, first, last,
		       order ? "in-order" : "out-of-order");
}

static int
fg_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static void
fg_cmd_bench(struct fg_guest *g, const char *count, const char *path)
{
	unsigned long n;
	uint64_t *lat;

	if (parse_uint(count, 10000000, &n) < 0 || n == 0)
		fg_die("bad count %s", count);
	lat = xcalloc(n, sizeof(*lat));
	for (unsigned long i = 0; i < n; i++) {
		uint64_t t0 = fg_now_us();
		struct fg_msg *m = fg_request(g, XS_READ, path,
					      strlen(path) + 1);

		if (m == NULL) {
			free(lat);
			return;
		}
		lat[i] = fg_now_us() - t0;
		free(m);
		fg_queue_clear(&g->events);
	}
	qsort(lat, n, sizeof(*lat), fg_cmp_u64);
	fg_out("bench %lu median_us %llu p99_us %llu max_us %llu", n,
	       (unsigned long long)lat[n / 2],
	       (unsigned long long)lat[(n * 99) / 100],
	       (unsigned long long)lat[n - 1]);
	free(lat);
}

struct fg_cmd {
	const char *name;
	int min, max;		/* argument counts */
};

static const struct fg_cmd fg_cmds[] = {
	{ "read", 1, 1 }, { "write", 2, 2 }, { "mkdir", 1, 1 },
	{ "rm", 1, 1 }, { "ls", 1, 1 }, { "getperms", 1, 1 },
	{ "setperms", 2, 2 }, { "watch", 2, 3 }, { "unwatch", 2, 2 },
	{ "event", 0, 0 }, { "wait-value", 2, 2 }, { "txn", 0, 0 },
	{ "commit", 0, 0 }, { "abort", 0, 0 }, { "raw", 1, 2 },
	{ "reconnect", 0, 0 }, { "features", 0, 0 }, { "error", 0, 0 },
	{ "set-index", 1, 1 }, { "bad-req-index", 0, 0 },
	{ "bad-rsp-index", 0, 0 }, { "too-long", 0, 0 },
	{ "wait-error", 0, 0 }, { "flood", 2, 2 }, { "bench", 2, 2 },
	{ "pipeline", 2, 2 }, { "stuff", 2, 2 }, { "drain", 1, 1 },
	{ "partial", 0, 0 },
	{ "half-write", 2, 2 }, { "finish", 0, 0 },
	{ "sleep", 1, 1 },
};

static const struct fg_cmd *
fg_cmd_find(const char *name)
{
	for (size_t i = 0; i < LXS_ARRAY_SIZE(fg_cmds); i++)
		if (strcmp(fg_cmds[i].name, name) == 0)
			return &fg_cmds[i];
	return NULL;
}

static void
fg_run(struct fg_guest *g, const char *cmd, int argc, const char **argv)
{
	if (strcmp(cmd, "read") == 0)
		fg_simple(g, XS_READ, 1, argv, FG_SHOW_VALUE);
	else if (strcmp(cmd, "write") == 0)
		fg_simple(g, XS_WRITE, 2, argv, FG_SHOW_OK);
	else if (strcmp(cmd, "mkdir") == 0)
		fg_simple(g, XS_MKDIR, 1, argv, FG_SHOW_OK);
	else if (strcmp(cmd, "rm") == 0)
		fg_simple(g, XS_RM, 1, argv, FG_SHOW_OK);
	else if (strcmp(cmd, "ls") == 0)
		fg_simple(g, XS_DIRECTORY, 1, argv, FG_SHOW_LIST);
	else if (strcmp(cmd, "getperms") == 0)
		fg_simple(g, XS_GET_PERMS, 1, argv, FG_SHOW_LIST);
	else if (strcmp(cmd, "setperms") == 0)
		fg_cmd_setperms(g, argv[0], argv[1]);
	else if (strcmp(cmd, "watch") == 0)
		fg_simple(g, XS_WATCH, argc, argv, FG_SHOW_OK);
	else if (strcmp(cmd, "unwatch") == 0)
		fg_simple(g, XS_UNWATCH, 2, argv, FG_SHOW_OK);
	else if (strcmp(cmd, "event") == 0)
		fg_cmd_event(g);
	else if (strcmp(cmd, "wait-value") == 0)
		fg_cmd_wait_value(g, argv[0], argv[1]);
	else if (strcmp(cmd, "txn") == 0 || strcmp(cmd, "commit") == 0 ||
		 strcmp(cmd, "abort") == 0)
		fg_cmd_txn(g, cmd);
	else if (strcmp(cmd, "raw") == 0)
		fg_cmd_raw(g, argv[0], argc > 1 ? argv[1] : "");
	else if (strcmp(cmd, "reconnect") == 0)
		fg_cmd_reconnect(g);
	else if (strcmp(cmd, "features") == 0)
		fg_out("features %u", fg_load(&g->ring->server_features));
	else if (strcmp(cmd, "error") == 0)
		fg_out("error %u", fg_load(&g->ring->error));
	else if (strcmp(cmd, "set-index") == 0)
		fg_cmd_set_index(g, argv[0]);
	else if (strcmp(cmd, "bad-req-index") == 0)
		fg_cmd_bad_index(g, true);
	else if (strcmp(cmd, "bad-rsp-index") == 0)
		fg_cmd_bad_index(g, false);
	else if (strcmp(cmd, "too-long") == 0)
		fg_cmd_too_long(g);
	else if (strcmp(cmd, "wait-error") == 0)
		fg_cmd_wait_error(g);
	else if (strcmp(cmd, "flood") == 0)
		fg_cmd_flood(g, argv[0], argv[1]);
	else if (strcmp(cmd, "bench") == 0)
		fg_cmd_bench(g, argv[0], argv[1]);
	else if (strcmp(cmd, "pipeline") == 0)
		fg_cmd_pipeline(g, argv[0], argv[1]);
	else if (strcmp(cmd, "stuff") == 0)
		fg_cmd_stuff(g, argv[0], argv[1]);
	else if (strcmp(cmd, "drain") == 0)
		fg_cmd_drain(g, argv[0]);
	else if (strcmp(cmd, "partial") == 0)
		fg_cmd_partial(g);
	else if (strcmp(cmd, "half-write") == 0)
		fg_cmd_half_write(g, argv[0], argv[1]);
	else if (strcmp(cmd, "finish") == 0)
		fg_cmd_finish(g);
	else if (strcmp(cmd, "sleep") == 0) {
		usleep((useconds_t)strtoul(argv[0], NULL, 10) * 1000);
		fg_out("OK");
	}
}

/* Runs the command at argv[0]; returns how many words it used. */
static int
fg_step(struct fg_guest *g, int argc, const char **argv)
{
	const struct fg_cmd *c = fg_cmd_find(argv[0]);
	int n = 0;

	if (c == NULL)
		fg_die("unknown command %s", argv[0]);
	/* Words up to the next command name, within min..max. */
	while (n < c->max && 1 + n < argc &&
	       (n < c->min || fg_cmd_find(argv[1 + n]) == NULL))
		n++;
	if (n < c->min)
		fg_die("%s needs %d argument(s)", c->name, c->min);
	fg_run(g, c->name, n, argv + 1);
	return 1 + n;
}

static void
fg_stdin(struct fg_guest *g)
{
	char line[8192];

	while (fgets(line, sizeof(line), stdin)) {
		const char *argv[FG_MAX_ARGS];
		char *save = NULL;
		int argc = 0;

		for (char *w = strtok_r(line, " \t\n", &save);
		     w && argc < FG_MAX_ARGS; w = strtok_r(NULL, " \t\n", &save))
			argv[argc++] = w;
		if (argc == 0 || argv[0][0] == '#')
			continue;
		if (strcmp(argv[0], "quit") == 0)
			break;
		if (fg_cmd_find(argv[0]) == NULL) {
			fg_out("UNKNOWN %s", argv[0]);
			continue;
		}
		fg_step(g, argc, argv);
	}
}

static void __attribute__((noreturn))
fg_usage(void)
{
	fprintf(stderr, "usage: fakeguest [-p PORT] [-t MS] [-c N] [-r FILE] "
		"DIR DOMID COMMAND... | -\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct fg_guest g = { .port = 1, .timeout_ms = 10000 };
	const char *ready = NULL;
	unsigned long v;
	int opt;

	while ((opt = getopt(argc, argv, "p:t:c:r:")) != -1) {
		switch (opt) {
		case 'p':
			if (parse_uint(optarg, UINT32_MAX, &v) < 0 || v == 0)
				fg_usage();
			g.port = (uint32_t)v;
			break;
		case 't':
			if (parse_uint(optarg, 3600000, &v) < 0)
				fg_usage();
			g.timeout_ms = (int)v;
			break;
		case 'c':
			if (parse_uint(optarg, 4096, &v) < 0 || v == 0)
				fg_usage();
			g.chunk = v;
			break;
		case 'r':
			ready = optarg;
			break;
		default:
			fg_usage();
		}
	}
	if (argc - optind < 3)
		fg_usage();
	g.dir = argv[optind];
	if (parse_uint(argv[optind + 1], 0x7FEF, &v) < 0)
		fg_usage();
	g.domid = (uint32_t)v;
	fg_open(&g);
	if (ready) {
		int fd = open(ready, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

		if (fd < 0)
			fg_die("%s: %s", ready, strerror(errno));
		close(fd);
	}
	if (strcmp(argv[optind + 2], "-") == 0) {
		fg_stdin(&g);
	} else {
		const char **words = (const char **)argv + optind + 2;
		int left = argc - optind - 2;

		while (left > 0 && !fg_broken) {
			int used = fg_step(&g, left, words);

			words += used;
			left -= used;
		}
	}
	fg_queue_clear(&g.replies);
	fg_queue_clear(&g.events);
	buf_free(&g.held);
	return fg_broken ? 1 : 0;
}
