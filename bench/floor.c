/*
 * floor: a responder that does no work, to measure the least daemon CPU
 * per request that any server multiplexing unix sockets with epoll can
 * reach on this machine (docs/BENCHMARKS.md, "The floor").
 *
 *   floor [--blocking | --sync FILE] SOCKET
 *
 * It speaks just enough of the wire format for xsbench's read, write and
 * dir workloads: every request gets a reply of the same type, req_id and
 * tx_id, with a canned payload the size the real daemons send:
 *   XS_READ       24 digits (xsbench's value size; read as a count, it is
 *                 large enough that xsbench never prefills);
 *   XS_DIRECTORY  "0" to "999", NUL-terminated (3,890 bytes, like
 *                 xsbench's /bench/dir);
 *   anything else "OK".
 * It keeps no tree and never parses paths. Each loop pass is epoll_wait,
 * one read per readable connection and one send per connection with
 * replies: the fewest system calls a request costs in an epoll server.
 * With --blocking it serves one connection at a time with read and send
 * alone, the fewest for any server. With --sync, each pass writes 128
 * bytes over a 64 MiB file of zeros and fdatasyncs it before the replies
 * leave: the best group commit this disk allows (--sync=always's floor).
 *
 * It prints its pid on stdout once listening, and runs until killed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <xen/io/xs_wire.h>

#define FLOOR_BUF	(64u * 1024)
#define FLOOR_EVENTS	64
/* --sync: the file written over, like one of the daemon's spare segments. */
#define FLOOR_SYNC_BYTES	((off_t)64 << 20)

struct floor_conn {
	int fd;
	size_t have;
	size_t w;			/* reply bytes in out */
	char in[FLOOR_BUF];
	char out[FLOOR_BUF];
};

/* --sync: the pre-zeroed file each epoll pass writes to and syncs. */
static int floor_sync_fd = -1;
static off_t floor_sync_off;

static char floor_dir[4096];
static size_t floor_dir_len;
static const char floor_value[] = "000000000000001000000000";

static void
floor_make_dir(void)
{
	for (unsigned int i = 0; i < 1000; i++)
		floor_dir_len += (size_t)sprintf(floor_dir + floor_dir_len,
						 "%u", i) + 1;
}

/* Appends one reply for header h to out at *w, if it fits. */
static bool
floor_reply(const struct xsd_sockmsg *h, char *out, size_t *w)
{
	struct xsd_sockmsg r = *h;
	const char *p;

	switch (h->type) {
	case XS_READ:
		p = floor_value;
		r.len = sizeof(floor_value) - 1;
		break;
	case XS_DIRECTORY:
		p = floor_dir;
		r.len = (uint32_t)floor_dir_len;
		break;
	default:
		p = "OK";
		r.len = 3;
		break;
	}
	if (*w + sizeof(r) + r.len > FLOOR_BUF)
		return false;
	memcpy(out + *w, &r, sizeof(r));
	memcpy(out + *w + sizeof(r), p, r.len);
	*w += sizeof(r) + r.len;
	return true;
}

/*
 * Reads what is there and queues a reply to every whole request in it:
 * 1 while the connection lives, 0 once the peer closed or failed.
 */
static int
floor_take(struct floor_conn *c)
{
	size_t used = 0;
	ssize_t n = read(c->fd, c->in + c->have, FLOOR_BUF - c->have);

	if (n <= 0)
		return n < 0 && errno == EAGAIN;
	c->have += (size_t)n;
	for (;;) {
		struct xsd_sockmsg h;

		if (c->have - used < sizeof(h))
			break;
		memcpy(&h, c->in + used, sizeof(h));
		if (h.len > XENSTORE_PAYLOAD_MAX)
			return 0;
		if (c->have - used < sizeof(h) + h.len ||
		    !floor_reply(&h, c->out, &c->w))
			break;
		used += sizeof(h) + h.len;
	}
	memmove(c->in, c->in + used, c->have - used);
	c->have -= used;
	return 1;
}

/* Small replies to a waiting client: the socket buffer takes them. */
static int
floor_send(struct floor_conn *c)
{
	size_t w = c->w;

	c->w = 0;
	return w == 0 || send(c->fd, c->out, w, MSG_NOSIGNAL) == (ssize_t)w;
}

/*
 * --sync: one record for the pass (128 bytes over zeros, as the daemon's
 * spare segments have it) and one fdatasync, on the loop itself: group
 * commit with nothing between the sync and the replies.
 */
static void
floor_sync(void)
{
	static const char rec[128] = "floor";

	if (pwrite(floor_sync_fd, rec, sizeof(rec), floor_sync_off) < 0 ||
	    fdatasync(floor_sync_fd) < 0) {
		fprintf(stderr, "floor: sync: %s\n", strerror(errno));
		exit(1);
	}
	floor_sync_off += sizeof(rec);
	if (floor_sync_off >= FLOOR_SYNC_BYTES)
		floor_sync_off = 0;
}

static int
floor_listen(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(a.sun_path)) {
		fprintf(stderr, "floor: %s: path too long\n", path);
		return -1;
	}
	strcpy(a.sun_path, path);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(fd, 128) < 0) {
		fprintf(stderr, "floor: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return fd;
}

static void
floor_blocking(int ls)
{
	struct floor_conn *c = calloc(1, sizeof(*c));

	for (;;) {
		c->fd = accept(ls, NULL, NULL);
		if (c->fd < 0)
			continue;
		c->have = 0;
		while (floor_take(c) && floor_send(c))
			;
		close(c->fd);
	}
}

static void
floor_epoll(int ls)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	struct epoll_event evs[FLOOR_EVENTS];
	int ep = epoll_create1(EPOLL_CLOEXEC);

	epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
	for (;;) {
		struct floor_conn *c, *ready[FLOOR_EVENTS];
		int n = epoll_wait(ep, evs, FLOOR_EVENTS, -1), nready = 0;

		for (int i = 0; i < n; i++) {
			c = evs[i].data.ptr;
			if (c == NULL) {
				c = calloc(1, sizeof(*c));
				c->fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK);
				ev.data.ptr = c;
				if (c->fd < 0 ||
				    epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
					if (c->fd >= 0)
						close(c->fd);
					free(c);
				}
			} else if (floor_take(c)) {
				ready[nready++] = c;
			} else {
				close(c->fd);	/* also leaves the epoll set */
				free(c);
			}
		}
		if (floor_sync_fd >= 0 && nready > 0)
			floor_sync();
		for (int i = 0; i < nready; i++) {
			if (!floor_send(ready[i])) {
				close(ready[i]->fd);
				free(ready[i]);
			}
		}
	}
}

/* A file of FLOOR_SYNC_BYTES zeros, written and synced: -1 on failure. */
static int
floor_sync_open(const char *path)
{
	static const char zeros[64 * 1024];
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0)
		goto fail;
	for (off_t o = 0; o < FLOOR_SYNC_BYTES; o += sizeof(zeros))
		if (write(fd, zeros, sizeof(zeros)) != (ssize_t)sizeof(zeros))
			goto fail;
	if (fdatasync(fd) == 0)
		return fd;
fail:
	fprintf(stderr, "floor: %s: %s\n", path, strerror(errno));
	return -1;
}

int
main(int argc, char **argv)
{
	bool blocking = false;
	int ls, i;

	for (i = 1; i < argc - 1; i++) {
		if (strcmp(argv[i], "--blocking") == 0) {
			blocking = true;
		} else if (strcmp(argv[i], "--sync") == 0 && i + 2 < argc) {
			floor_sync_fd = floor_sync_open(argv[++i]);
			if (floor_sync_fd < 0)
				return 1;
		} else {
			break;
		}
	}
	if (i != argc - 1 || (blocking && floor_sync_fd >= 0)) {
		fprintf(stderr, "usage: floor [--blocking | --sync FILE] "
			"SOCKET\n");
		return 2;
	}
	ls = floor_listen(argv[argc - 1]);
	if (ls < 0)
		return 1;
	floor_make_dir();
	printf("%d\n", (int)getpid());
	fflush(stdout);
	if (blocking)
		floor_blocking(ls);
	else
		floor_epoll(ls);
	return 0;
}
