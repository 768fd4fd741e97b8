/*
 * sock: unix stream sockets, the listeners and the connection transport.
 *
 * A listener owns its fd and its path (unlinked on free). Every fd is
 * O_CLOEXEC and non-blocking. Socket peers are the privileged domain 0
 * (as in cxenstored); peers of the read-only listener get CONN_READONLY.
 * If accept runs out of fds, the listener pauses for SOCK_ACCEPT_RETRY_MS
 * instead of spinning on a level-triggered readiness it cannot clear.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "server/server-int.h"

#define SOCK_BACKLOG		64
#define SOCK_ACCEPT_RETRY_MS	100

struct sock_listener {
	struct server *srv;
	int fd;
	char *path;
	bool ro;
	uint64_t retry_timer;
};

/*
 * Input is read ahead: one read(2) of up to SOCK_RBUF bytes serves the
 * header and payload of every message in it, and a read that came back
 * short means the socket is drained until epoll says otherwise, so no
 * read is spent on EAGAIN. Bytes read ahead but not yet taken (the
 * connection paused, or its batch ended) are pending: the before-sleep
 * hook goes on with them (conn_ops.pending), as epoll would not.
 */
#define SOCK_RBUF		16384u

struct sock_tp {
	int fd;
	struct loop *loop;
	char *rbuf;		/* rcap bytes, from the first read */
	uint32_t rcap;		/* SOCK_RBUF, more after a live update */
	uint32_t roff, rlen;	/* not taken yet: rbuf[roff, rlen) */
	bool drained;		/* the last read(2) came back short */
};

static int
sock_addr(const char *path, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun->sun_path))
		return -ENAMETOOLONG;
	strcpy(sun->sun_path, path);
	return 0;
}

/* ---- transport --------------------------------------------------------- */

static int
sock_read(struct conn *c, void *buf, size_t len, size_t *done)
{
	struct sock_tp *tp = c->tp;
	ssize_t n;

	*done = 0;
	if (tp->roff == tp->rlen) {
		if (tp->drained)
			return 0;
		if (tp->rbuf == NULL) {
			tp->rcap = SOCK_RBUF;
			tp->rbuf = xmalloc(tp->rcap);
		}
		n = read(tp->fd, tp->rbuf, tp->rcap);
		if (n == 0)
			return -EPIPE;
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR) {
				tp->drained = errno == EAGAIN;
				return 0;
			}
			return errno == ECONNRESET ? -EPIPE : -errno;
		}
		tp->roff = 0;
		tp->rlen = (uint32_t)n;
		tp->drained = (size_t)n < tp->rcap;
	}
	if (len > tp->rlen - tp->roff)
		len = tp->rlen - tp->roff;
	memcpy(buf, tp->rbuf + tp->roff, len);
	tp->roff += (uint32_t)len;
	*done = len;
	return 0;
}

static bool
sock_pending(struct conn *c)
{
	struct sock_tp *tp = c->tp;

	return tp->roff < tp->rlen;
}

static int
sock_write(struct conn *c, const void *buf, size_t len, size_t *done)
{
	struct sock_tp *tp = c->tp;
	ssize_t n;

	*done = 0;
	n = send(tp->fd, buf, len, MSG_NOSIGNAL);
	if (n >= 0) {
		*done = (size_t)n;
		return 0;
	}
	if (errno == EAGAIN || errno == EINTR)
		return 0;
	if (errno == ECONNRESET)
		return -EPIPE;
	return -errno;
}

/* Readiness comes from epoll; a read or write that cannot proceed says so. */
static bool
sock_can(struct conn *c)
{
	return true;
}

static void
sock_want(struct conn *c, bool rd, bool wr)
{
	struct sock_tp *tp = c->tp;

	loop_set_fd(tp->loop, tp->fd,
		    (rd ? LOOP_READ : 0u) | (wr ? LOOP_WRITE : 0u));
}

static void
sock_close(struct conn *c)
{
	struct sock_tp *tp = c->tp;

	loop_del_fd(tp->loop, tp->fd);
	close(tp->fd);
	free(tp->rbuf);
	free(tp);
}

static const struct conn_ops sock_conn_ops = {
	.read = sock_read,
	.write = sock_write,
	.can_read = sock_can,
	.can_write = sock_can,
	.want = sock_want,
	.close = sock_close,
	.pending = sock_pending,
};

/*
 * Writability needs no action here: output is flushed only by the
 * before-sleep hook, after the durability barrier, and this wake-up is
 * what gets the loop there.
 */
static void
sock_on_event(struct loop *l, int fd, unsigned int mask, void *arg)
{
	struct conn *c = arg;

	if (mask & LOOP_READ) {
		((struct sock_tp *)c->tp)->drained = false;
		conn_handle_input(c);
	}
}

/* ---- listener ---------------------------------------------------------- */

static void
sock_on_retry(struct loop *l, uint64_t id, void *arg)
{
	struct sock_listener *sl = arg;

	sl->retry_timer = 0;
	loop_set_fd(l, sl->fd, LOOP_READ);
}

static void
sock_on_accept(struct loop *l, int fd, unsigned int mask, void *arg)
{
	static const struct store_caller dom0 = {
		0, LXS_DOMID_INVALID, true
	};
	struct sock_listener *sl = arg;

	for (int i = 0; i < 16; i++) {
		int cfd;

		cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0) {
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				log_warn("sock: accept on %s: %s; pausing",
					 sl->path, strerror(errno));
				loop_set_fd(l, fd, 0);
				sl->retry_timer = loop_add_timer(l,
					SOCK_ACCEPT_RETRY_MS, sock_on_retry,
					sl);
			}
			return;
		}
		sock_conn_adopt(sl->srv, cfd, CONN_DROP_ON_OVERFLOW |
				(sl->ro ? CONN_READONLY : 0u), &dom0);
	}
}

struct conn *
sock_conn_adopt(struct server *srv, int fd, unsigned int flags,
		const struct store_caller *caller)
{
	struct sock_tp *tp = xcalloc(1, sizeof(*tp));
	struct conn *c;
	int rc;

	tp->fd = fd;
	tp->loop = srv->loop;
	c = conn_new(srv, &sock_conn_ops, tp, flags, caller);
	rc = loop_add_fd(srv->loop, fd, LOOP_READ, sock_on_event, c);
	if (rc < 0) {
		log_err("sock: epoll add: %s", strerror(-rc));
		c->dead = true;	/* conn_new made it busy: it is reaped */
	}
	return c;
}

void
sock_conn_pending(const struct conn *c, const void **data, uint32_t *len)
{
	const struct sock_tp *tp = c->tp;

	*data = tp->rbuf ? tp->rbuf + tp->roff : NULL;
	*len = tp->rlen - tp->roff;
}

void
sock_conn_preload(struct conn *c, const void *data, uint32_t len)
{
	struct sock_tp *tp = c->tp;

	free(tp->rbuf);
	tp->rcap = len > SOCK_RBUF ? len : SOCK_RBUF;
	tp->rbuf = xmalloc(tp->rcap);
	memcpy(tp->rbuf, data, len);
	tp->roff = 0;
	tp->rlen = len;
}

int
sock_conn_fd(const struct conn *c)
{
	return c->ops == &sock_conn_ops ? ((struct sock_tp *)c->tp)->fd : -1;
}

/*
 * Something exists at path. A socket with a listener behind it means another
 * daemon: -EADDRINUSE. A socket nobody listens on is stale: removed. Anything
 * else is not ours to remove: -EEXIST.
 */
static int
sock_clear_stale(const char *path)
{
	struct sockaddr_un sun;
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		log_err("sock: %s exists and is not a socket", path);
		return -EEXIST;
	}
	rc = sock_addr(path, &sun);
	if (rc < 0)
		return rc;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	close(fd);
	if (rc == 0) {
		log_err("another xenstored is listening on %s; "
			"refusing to start", path);
		return -EADDRINUSE;
	}
	if (errno != ECONNREFUSED && errno != ENOENT) {
		rc = -errno;
		log_err("sock: probing %s: %s", path, strerror(-rc));
		return rc;
	}
	log_info("sock: removing stale socket %s", path);
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

/* Creates the directory of path (mode 0755) if it is missing. */
static int
sock_make_parent(const char *path)
{
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	int rc = 0;

	if (slash && slash != dir) {
		*slash = '\0';
		for (char *p = dir + 1; ; p++) {
			if (*p != '/' && *p != '\0')
				continue;
			char save = *p;

			*p = '\0';
			if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
				rc = -errno;
				log_err("sock: mkdir %s: %s", dir,
					strerror(-rc));
				break;
			}
			*p = save;
			if (save == '\0')
				break;
		}
	}
	free(dir);
	return rc;
}

int
sock_listen(struct server *srv, const char *path, bool ro,
	    struct sock_listener **out)
{
	struct sockaddr_un sun;
	int fd = -1, rc;

	rc = sock_addr(path, &sun);
	if (rc < 0) {
		log_err("sock: path too long: %s", path);
		return rc;
	}
	rc = sock_make_parent(path);
	if (rc < 0)
		return rc;
	rc = sock_clear_stale(path);
	if (rc < 0)
		return rc;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		rc = -errno;
		log_err("sock: socket: %s", strerror(-rc));
		return rc;
	}
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		rc = -errno;
		log_err("sock: bind %s: %s", path, strerror(-rc));
		goto fail;
	}
	if (chmod(path, 0600) < 0 || listen(fd, SOCK_BACKLOG) < 0) {
		rc = -errno;
		log_err("sock: chmod/listen %s: %s", path, strerror(-rc));
		unlink(path);
		goto fail;
	}
	rc = sock_listener_adopt(srv, fd, path, ro, out);
	if (rc == 0)
		return 0;
	unlink(path);
fail:
	close(fd);
	return rc;
}

int
sock_listener_adopt(struct server *srv, int fd, const char *path, bool ro,
		    struct sock_listener **out)
{
	struct sock_listener *sl;
	int rc;

	sl = xcalloc(1, sizeof(*sl));
	sl->srv = srv;
	sl->fd = fd;
	sl->path = xstrdup(path);
	sl->ro = ro;
	rc = loop_add_fd(srv->loop, fd, LOOP_READ, sock_on_accept, sl);
	if (rc < 0) {
		/* The path is not ours to remove: it may still be served. */
		log_err("sock: epoll add: %s", strerror(-rc));
		free(sl->path);
		free(sl);
		return rc;
	}
	*out = sl;
	return 0;
}

int
sock_listener_fd(const struct sock_listener *sl)
{
	return sl->fd;
}

void
sock_listener_free(struct sock_listener *sl)
{
	if (sl == NULL)
		return;
	if (sl->retry_timer)
		loop_del_timer(sl->srv->loop, sl->retry_timer);
	loop_del_fd(sl->srv->loop, sl->fd);
	close(sl->fd);
	unlink(sl->path);
	free(sl->path);
	free(sl);
}
