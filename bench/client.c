/*
 * client: xsbench's connections to the daemon.
 *
 * Owns each connection's fd, its output buffer, its input buffer and the
 * FIFO of requests in flight (req_id and the time each was queued).
 * Invariants:
 *   - every reply pops the oldest request of its connection: the daemons
 *     answer a connection in order, so a req_id that does not match is a
 *     protocol error, counted and fatal to that connection;
 *   - watch events (XS_WATCH_EVENT, req_id 0) never touch the FIFO;
 *   - a handler may close and reopen its own connection (connect churn):
 *     client_input notices through c->gen and stops using the old input.
 *
 * Output is written once per wakeup for all the requests a connection
 * queued meanwhile, so 16 pipelined requests cost one write(2).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "bench/xsbench.h"

_Static_assert(sizeof(struct xsd_sockmsg) == 16, "wire header is 16 bytes");

/* Requests client_write_many keeps in flight: far below the 1024 that
 * oxenstored allows a connection by default (quota-maxrequests). */
#define CLIENT_BATCH	256

int
client_dial(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd, err;

	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int
client_connect(struct client *c)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
	int fd;

	fd = client_dial(c->b->socket);
	if (fd < 0)
		return fd;
	if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0 ||
	    epoll_ctl(c->b->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	if (c->in == NULL)
		c->in = xmalloc(CLIENT_IN_SIZE + 1);
	c->fd = fd;
	c->want_out = false;
	c->in_len = 0;
	return 0;
}

void
client_close(struct client *c)
{
	if (c->fd < 0)
		return;
	close(c->fd);
	c->fd = -1;
	c->b->inflight -= c->q_len;
	c->q_head = c->q_len = 0;
	buf_reset(&c->out);
	c->out_off = 0;
	c->in_len = 0;
	c->gen++;
}

void
client_send(struct client *c, uint32_t type, uint32_t tx, const char *s,
	    const void *tail, size_t n)
{
	size_t ls = s ? strlen(s) + 1 : 0;
	struct xsd_sockmsg h = {
		.type = type, .req_id = ++c->next_req, .tx_id = tx,
		.len = (uint32_t)(ls + n),
	};
	unsigned int slot;

	if (c->q_len == CLIENT_MAX_DEPTH) {
		/* A workload sent more than it may have in flight. */
		fprintf(stderr, "xsbench: client %u: more than %u requests "
			"in flight\n", c->idx, CLIENT_MAX_DEPTH);
		abort();
	}
	buf_add(&c->out, &h, sizeof(h));
	if (ls)
		buf_add(&c->out, s, ls);
	if (n)
		buf_add(&c->out, tail, n);
	slot = (c->q_head + c->q_len) % CLIENT_MAX_DEPTH;
	c->q_req[slot] = h.req_id;
	c->q_ns[slot] = mono_ns();
	c->q_len++;
	c->b->inflight++;
}

static void
client_want_out(struct client *c, bool on)
{
	struct epoll_event ev = {
		.events = EPOLLIN | (on ? EPOLLOUT : 0), .data.ptr = c,
	};

	if (c->want_out == on)
		return;
	c->want_out = on;
	epoll_ctl(c->b->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

void
client_flush(struct client *c)
{
	while (c->fd >= 0 && c->out_off < c->out.len) {
		ssize_t n = write(c->fd, c->out.data + c->out_off,
				  c->out.len - c->out_off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			client_want_out(c, true);
			return;
		}
		if (n < 0) {
			bench_error(c->b, "client %u: write: %s", c->idx,
				    strerror(errno));
			client_close(c);
			return;
		}
		c->out_off += (size_t)n;
	}
	buf_reset(&c->out);
	c->out_off = 0;
	if (c->fd >= 0)
		client_want_out(c, false);
}

/* One whole message at p; false if the connection was closed or replaced. */
static bool
client_dispatch(struct client *c, const struct xsd_sockmsg *h, char *p,
		uint64_t now)
{
	unsigned int gen = c->gen;
	uint64_t lat;
	char saved = p[h->len];

	/* Handlers may treat the payload as a string: terminate it in place,
	 * in the byte the next message starts with, and put that back. */
	p[h->len] = '\0';
	if (h->type == XS_WATCH_EVENT) {
		if (c->b->work->event)
			c->b->work->event(c, p, h->len);
		else
			bench_error(c->b, "client %u: unexpected watch event",
				    c->idx);
	} else if (c->q_len == 0 || h->req_id != c->q_req[c->q_head]) {
		bench_error(c->b, "client %u: reply with req_id %u, expected "
			    "%u", c->idx, h->req_id,
			    c->q_len ? c->q_req[c->q_head] : 0);
		client_close(c);
		return false;
	} else {
		lat = now - c->q_ns[c->q_head];
		c->q_head = (c->q_head + 1) % CLIENT_MAX_DEPTH;
		c->q_len--;
		c->b->inflight--;
		bench_req_done(c->b);
		c->b->work->reply(c, h, p, lat);
	}
	if (gen != c->gen)
		return false;
	p[h->len] = saved;
	return true;
}

void
client_input(struct client *c)
{
	size_t off = 0;
	uint64_t now;
	ssize_t n;

	n = read(c->fd, c->in + c->in_len, CLIENT_IN_SIZE - c->in_len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		bench_error(c->b, "client %u: %s", c->idx,
			    n == 0 ? "daemon closed the connection" :
			    strerror(errno));
		client_close(c);
		return;
	}
	/* Everything in this read arrived at the same time. */
	now = mono_ns();
	c->in_len += (size_t)n;
	while (c->in_len - off >= sizeof(struct xsd_sockmsg)) {
		struct xsd_sockmsg h;

		memcpy(&h, c->in + off, sizeof(h));
		if (h.len > XENSTORE_PAYLOAD_MAX) {
			bench_error(c->b, "client %u: message of %u bytes",
				    c->idx, h.len);
			client_close(c);
			return;
		}
		if (c->in_len - off < sizeof(h) + h.len)
			break;
		if (!client_dispatch(c, &h, c->in + off + sizeof(h), now)) {
			/* Closed, or replaced by a new connection whose
			 * first request may be queued. */
			client_flush(c);
			return;
		}
		off += sizeof(h) + h.len;
	}
	memmove(c->in, c->in + off, c->in_len - off);
	c->in_len -= off;
	client_flush(c);
}

/* --- blocking helpers for setup ------------------------------------------- */

static int
client_write_all(int fd, const void *p, size_t n)
{
	const char *s = p;

	while (n > 0) {
		ssize_t w = write(fd, s, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
client_read_all(int fd, void *p, size_t n)
{
	char *s = p;

	while (n > 0) {
		ssize_t r = read(fd, s, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EPIPE;
		s += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Reads messages up to the next reply (events are dropped). */
static int
client_read_reply(int fd, struct xsd_sockmsg *h, char *p)
{
	int rc;

	do {
		rc = client_read_all(fd, h, sizeof(*h));
		if (rc == 0 && h->len > XENSTORE_PAYLOAD_MAX)
			rc = -EPROTO;
		if (rc == 0)
			rc = client_read_all(fd, p, h->len);
		if (rc < 0)
			return rc;
		p[h->len] = '\0';
	} while (h->type == XS_WATCH_EVENT);
	return 0;
}

/* 0, or -errno named by an XS_ERROR reply (-EIO when unknown). */
static int
client_reply_status(const struct xsd_sockmsg *h, const char *p)
{
	int err;

	if (h->type != XS_ERROR)
		return 0;
	err = wire_error_value(p);
	return err ? -err : -EIO;
}

static size_t
client_encode(char *dst, uint32_t type, uint32_t req, const char *s,
	      const void *tail, size_t n)
{
	size_t ls = s ? strlen(s) + 1 : 0;
	struct xsd_sockmsg h = {
		.type = type, .req_id = req, .len = (uint32_t)(ls + n),
	};

	memcpy(dst, &h, sizeof(h));
	if (ls)
		memcpy(dst + sizeof(h), s, ls);
	if (n)
		memcpy(dst + sizeof(h) + ls, tail, n);
	return sizeof(h) + ls + n;
}

int
client_call(int fd, uint32_t type, const char *s, const void *tail,
	    size_t n, char *buf, size_t size)
{
	char msg[sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX + 1];
	struct xsd_sockmsg h;
	int rc;

	if ((s ? strlen(s) + 1 : 0) + n > XENSTORE_PAYLOAD_MAX)
		return -E2BIG;
	rc = client_write_all(fd, msg,
			      client_encode(msg, type, 1, s, tail, n));
	if (rc == 0)
		rc = client_read_reply(fd, &h, msg);
	if (rc < 0)
		return rc;
	if (buf && size) {
		size_t l = h.len < size - 1 ? h.len : size - 1;

		memcpy(buf, msg, l);
		buf[l] = '\0';
	}
	return client_reply_status(&h, msg);
}

int
client_write_many(int fd, uint64_t from, uint64_t count,
		  void (*path_of)(uint64_t i, void *arg, char *out,
				  size_t size),
		  void *arg, size_t vlen)
{
	/* Paths are short here; a batch's buffer stays far below 1 MiB. */
	enum { PATH_MAX_LEN = 256 };
	char value[XENSTORE_PAYLOAD_MAX], path[PATH_MAX_LEN];
	char reply[XENSTORE_PAYLOAD_MAX + 1];
	struct buf out = { 0 };
	int rc = 0, first = 0;

	if (vlen > sizeof(value) - PATH_MAX_LEN)
		return -E2BIG;
	memset(value, 'v', vlen);
	for (uint64_t done = 0; done < count && rc == 0;) {
		unsigned int k = 0;

		buf_reset(&out);
		for (; k < CLIENT_BATCH && done + k < count; k++) {
			char *dst = buf_reserve(&out, sizeof(struct xsd_sockmsg) +
						PATH_MAX_LEN + vlen);

			path_of(from + done + k, arg, path, sizeof(path));
			out.len += client_encode(dst, XS_WRITE, k + 1, path,
						 value, vlen);
		}
		rc = client_write_all(fd, out.data, out.len);
		for (unsigned int i = 0; i < k && rc == 0; i++) {
			struct xsd_sockmsg h;

			rc = client_read_reply(fd, &h, reply);
			if (rc == 0 && first == 0)
				first = client_reply_status(&h, reply);
		}
		done += k;
	}
	buf_free(&out);
	return rc < 0 ? rc : first;
}
