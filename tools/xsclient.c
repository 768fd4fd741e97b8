/*
 * xsclient: the blocking XenStore client behind the tools (see xsclient.h).
 *
 * Owns the connection fd, the request id counter and the queue of watch
 * events that arrived while a reply was awaited. Invariants: at most one
 * request is in flight; once a protocol error is seen the fd is closed
 * (fd == -1) and stays closed, so no reply can ever be matched against the
 * wrong request.
 *
 * A message on the wire is a struct xsd_sockmsg header followed by len
 * payload bytes (host byte order; len <= XENSTORE_PAYLOAD_MAX):
 *
 *   0        4        8        12       16
 *   | type   | req_id | tx_id  | len    | payload ...
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/common.h"
#include "tools/xsclient.h"

#define XSC_DEFAULT_RUNDIR	"/var/run/xenstored"
#define XSC_XENBUS_DEV		"/dev/xen/xenbus"
#define XSC_XENBUS_PROC		"/proc/xen/xenbus"

_Static_assert(sizeof(struct xsd_sockmsg) == 16, "wire header is 16 bytes");

/* A queued watch event: its payload plus a terminating NUL. */
struct xsc_event {
	struct xsc_event *next;
	uint32_t len;
	char body[];
};

struct xsc {
	int fd;
	bool is_socket;
	uint32_t next_req_id;
	struct xsc_event *events;
	struct xsc_event **events_tail;
};

char *
xsc_default_path(void)
{
	const char *s = getenv("XENSTORED_PATH");

	if (s)
		return xstrdup(s);
	s = getenv("XENSTORED_RUNDIR");
	return xasprintf("%s/socket", s ? s : XSC_DEFAULT_RUNDIR);
}

/* The device libxenstore falls back to when the socket does not exist. */
static const char *
xsc_device_path(void)
{
	const char *s = getenv("XENSTORED_PATH");

	if (s)
		return s;
	if (access(XSC_XENBUS_DEV, F_OK) == 0)
		return XSC_XENBUS_DEV;
	return XSC_XENBUS_PROC;
}

static int
xsc_connect(const char *path, int *fd, bool *is_socket)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int s, err;

	if (stat(path, &st) < 0)
		return -errno;
	if (!S_ISSOCK(st.st_mode)) {
		s = open(path, O_RDWR | O_CLOEXEC);
		if (s < 0)
			return -errno;
		*fd = s;
		*is_socket = false;
		return 0;
	}
	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	strcpy(sun.sun_path, path);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	if (connect(s, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		err = -errno;
		close(s);
		return err;
	}
	*fd = s;
	*is_socket = true;
	return 0;
}

int
xsc_open(const char *path, struct xsc **out)
{
	struct xsc *c;
	char *def = NULL;
	struct stat st;
	int fd = -1, err;
	bool is_socket = false;

	if (!path) {
		def = xsc_default_path();
		path = def;
		if (stat(path, &st) < 0)
			path = xsc_device_path();
	}
	err = xsc_connect(path, &fd, &is_socket);
	free(def);
	if (err < 0)
		return err;

	c = xcalloc(1, sizeof(*c));
	c->fd = fd;
	c->is_socket = is_socket;
	c->next_req_id = 1;
	c->events_tail = &c->events;
	*out = c;
	return 0;
}

static void
xsc_drop_events(struct xsc *c)
{
	struct xsc_event *ev, *next;

	for (ev = c->events; ev; ev = next) {
		next = ev->next;
		free(ev);
	}
	c->events = NULL;
	c->events_tail = &c->events;
}

void
xsc_close(struct xsc *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	xsc_drop_events(c);
	free(c);
}

/* Closes the connection after a protocol or I/O error; returns err. */
static int
xsc_fail(struct xsc *c, int err)
{
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
	return err;
}

static int
xsc_write_all(struct xsc *c, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if (c->is_socket)
			w = send(c->fd, p, n, MSG_NOSIGNAL);
		else
			w = write(c->fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads exactly n bytes; end of file before that is -ECONNRESET. */
static int
xsc_read_all(struct xsc *c, void *buf, size_t n)
{
	char *p = buf;
	ssize_t r;

	while (n > 0) {
		r = read(c->fd, p, n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return -ECONNRESET;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/*
 * Receives one message. *body gets the payload plus a NUL; caller frees.
 * Any failure closes the connection.
 */
static int
xsc_recv(struct xsc *c, struct xsd_sockmsg *hdr, char **body)
{
	char *p;
	int err;

	err = xsc_read_all(c, hdr, sizeof(*hdr));
	if (err < 0)
		return xsc_fail(c, err);
	if (hdr->len > XENSTORE_PAYLOAD_MAX)
		return xsc_fail(c, -E2BIG);
	p = xmalloc((size_t)hdr->len + 1);
	err = xsc_read_all(c, p, hdr->len);
	if (err < 0) {
		free(p);
		return xsc_fail(c, err);
	}
	p[hdr->len] = '\0';
	*body = p;
	return 0;
}

/* Queues a received WATCH_EVENT; takes ownership of body. */
static void
xsc_queue_event(struct xsc *c, char *body, uint32_t len)
{
	struct xsc_event *ev = xmalloc(sizeof(*ev) + (size_t)len + 1);

	ev->next = NULL;
	ev->len = len;
	memcpy(ev->body, body, (size_t)len + 1);
	free(body);
	*c->events_tail = ev;
	c->events_tail = &ev->next;
}

/* Maps an ERROR reply's name to -errno; names outside the table are -EINVAL. */
static int
xsc_error_value(const char *body)
{
	int err = wire_error_value(body);

	return err ? -err : -EINVAL;
}

int
xsc_request(struct xsc *c, uint32_t type, uint32_t tx,
	    const void *payload, uint32_t len,
	    char **reply, uint32_t *reply_len)
{
	struct xsd_sockmsg hdr;
	char msg[sizeof(hdr) + XENSTORE_PAYLOAD_MAX];
	char *body;
	uint32_t req_id;
	int err;

	if (c->fd < 0)
		return -ENOTCONN;
	if (len > XENSTORE_PAYLOAD_MAX)
		return -E2BIG;

	req_id = c->next_req_id++;
	hdr.type = type;
	hdr.req_id = req_id;
	hdr.tx_id = tx;
	hdr.len = len;
	memcpy(msg, &hdr, sizeof(hdr));
	if (len)
		memcpy(msg + sizeof(hdr), payload, len);
	err = xsc_write_all(c, msg, sizeof(hdr) + len);
	if (err < 0)
		return xsc_fail(c, err);

	for (;;) {
		err = xsc_recv(c, &hdr, &body);
		if (err < 0)
			return err;
		if (hdr.type == XS_WATCH_EVENT) {
			xsc_queue_event(c, body, hdr.len);
			continue;
		}
		break;
	}
	if (hdr.req_id != req_id ||
	    (hdr.type != type && hdr.type != XS_ERROR)) {
		free(body);
		return xsc_fail(c, -EBADMSG);
	}
	if (hdr.type == XS_ERROR) {
		err = xsc_error_value(body);
		free(body);
		return err;
	}
	if (reply) {
		*reply = body;
		if (reply_len)
			*reply_len = hdr.len;
	} else {
		free(body);
	}
	return 0;
}

int
xsc_request_strv(struct xsc *c, uint32_t type, uint32_t tx,
		 const char *const *argv, unsigned int n,
		 char **reply, uint32_t *reply_len)
{
	struct buf b = { 0 };
	int err;

	for (unsigned int i = 0; i < n; i++) {
		buf_add_str0(&b, argv[i]);
		if (b.len > XENSTORE_PAYLOAD_MAX) {
			buf_free(&b);
			return -E2BIG;
		}
	}
	err = xsc_request(c, type, tx, b.data, (uint32_t)b.len,
			  reply, reply_len);
	buf_free(&b);
	return err;
}

int
xsc_read(struct xsc *c, uint32_t tx, const char *path,
	 char **val, uint32_t *len)
{
	return xsc_request_strv(c, XS_READ, tx, &path, 1, val, len);
}

int
xsc_write(struct xsc *c, uint32_t tx, const char *path,
	  const void *val, uint32_t len)
{
	struct buf b = { 0 };
	int err;

	buf_add_str0(&b, path);
	buf_add(&b, val, len);
	if (b.len > XENSTORE_PAYLOAD_MAX)
		err = -E2BIG;
	else
		err = xsc_request(c, XS_WRITE, tx, b.data, (uint32_t)b.len,
				  NULL, NULL);
	buf_free(&b);
	return err;
}

int
xsc_mkdir(struct xsc *c, uint32_t tx, const char *path)
{
	return xsc_request_strv(c, XS_MKDIR, tx, &path, 1, NULL, NULL);
}

int
xsc_rm(struct xsc *c, uint32_t tx, const char *path)
{
	return xsc_request_strv(c, XS_RM, tx, &path, 1, NULL, NULL);
}

/*
 * Turns a run of NUL-terminated strings into a NULL-terminated array held in
 * one allocation with copies of the strings. Bytes after the last NUL are
 * not a string and are dropped.
 */
static void
xsc_strv_build(const char *data, uint32_t len, char ***out, unsigned int *n)
{
	unsigned int count = wire_split(data, len, NULL, 0, NULL);
	size_t ptrs = ((size_t)count + 1) * sizeof(char *);
	char **v = xmalloc(ptrs + len + 1);
	char *strings = (char *)v + ptrs;
	uint32_t off = 0;

	memcpy(strings, data, len);
	strings[len] = '\0';
	for (unsigned int i = 0; i < count; i++) {
		v[i] = strings + off;
		off += (uint32_t)strlen(strings + off) + 1;
	}
	v[count] = NULL;
	*out = v;
	*n = count;
}

/*
 * DIRECTORY_PART loop. Each reply is "<gen>\0" then whole child names from
 * byte offset <offset> of the child list; the last part ends with an extra
 * NUL (or is empty). A changed generation means the node changed under us:
 * start again from offset 0.
 */
static int
xsc_directory_parts(struct xsc *c, uint32_t tx, const char *path,
		    struct buf *all)
{
	char *gen = NULL;
	unsigned long offset = 0;
	int err = 0;

	for (;;) {
		char off_str[24];
		const char *argv[2] = { path, off_str };
		char *reply;
		uint32_t len, glen, dlen;
		const char *data;

		snprintf(off_str, sizeof(off_str), "%lu", offset);
		err = xsc_request_strv(c, XS_DIRECTORY_PART, tx, argv, 2,
				       &reply, &len);
		if (err == -ENOSYS)
			err = -E2BIG;
		if (err < 0)
			break;
		glen = (uint32_t)strnlen(reply, len);
		if (glen == len) {
			free(reply);
			err = xsc_fail(c, -EBADMSG);
			break;
		}
		if (gen && strcmp(gen, reply) != 0) {
			free(gen);
			gen = NULL;
			buf_reset(all);
			offset = 0;
		}
		if (!gen)
			gen = xstrdup(reply);
		data = reply + glen + 1;
		dlen = len - glen - 1;
		if (dlen <= 1) {
			free(reply);
			break;
		}
		if (data[dlen - 1] == '\0' && data[dlen - 2] == '\0') {
			buf_add(all, data, dlen - 1);
			free(reply);
			break;
		}
		buf_add(all, data, dlen);
		offset += dlen;
		free(reply);
	}
	free(gen);
	return err;
}

int
xsc_directory(struct xsc *c, uint32_t tx, const char *path,
	      char ***names, unsigned int *n)
{
	struct buf all = { 0 };
	char *reply;
	uint32_t len;
	int err;

	err = xsc_request_strv(c, XS_DIRECTORY, tx, &path, 1, &reply, &len);
	if (err == 0) {
		xsc_strv_build(reply, len, names, n);
		free(reply);
		return 0;
	}
	if (err != -E2BIG)
		return err;
	err = xsc_directory_parts(c, tx, path, &all);
	if (err == 0)
		xsc_strv_build(all.data ? all.data : "", (uint32_t)all.len,
			       names, n);
	buf_free(&all);
	return err;
}

/* Parses "<letter><domid>" as libxenstore does (strtoul, any base). */
static int
xsc_perm_parse(const char *s, struct xsc_perm *perm)
{
	unsigned long id;
	char *end;

	switch (s[0]) {
	case 'n':
	case 'r':
	case 'w':
	case 'b':
		break;
	default:
		return -EINVAL;
	}
	if (s[1] == '\0')
		return -EINVAL;
	errno = 0;
	id = strtoul(s + 1, &end, 0);
	if (*end != '\0' || errno || id > UINT32_MAX)
		return -EINVAL;
	perm->type = s[0];
	perm->domid = (unsigned int)id;
	return 0;
}

int
xsc_get_perms(struct xsc *c, uint32_t tx, const char *path,
	      struct xsc_perm **perms, unsigned int *n)
{
	char *reply;
	uint32_t len, off = 0;
	unsigned int count, i;
	struct xsc_perm *p;
	int err;

	err = xsc_request_strv(c, XS_GET_PERMS, tx, &path, 1, &reply, &len);
	if (err < 0)
		return err;
	count = wire_split(reply, len, NULL, 0, NULL);
	p = xcalloc(count ? count : 1, sizeof(*p));
	for (i = 0; i < count; i++) {
		err = xsc_perm_parse(reply + off, &p[i]);
		if (err < 0)
			break;
		off += (uint32_t)strlen(reply + off) + 1;
	}
	free(reply);
	if (err < 0) {
		free(p);
		return err;
	}
	*perms = p;
	*n = count;
	return 0;
}

void
xsc_perm_format(const struct xsc_perm *perm, char *out, size_t size)
{
	snprintf(out, size, "%c%u", perm->type, perm->domid);
}

int
xsc_set_perms(struct xsc *c, uint32_t tx, const char *path,
	      const struct xsc_perm *perms, unsigned int n)
{
	struct buf b = { 0 };
	char s[16];
	int err;

	buf_add_str0(&b, path);
	for (unsigned int i = 0; i < n; i++) {
		xsc_perm_format(&perms[i], s, sizeof(s));
		buf_add_str0(&b, s);
	}
	if (b.len > XENSTORE_PAYLOAD_MAX)
		err = -E2BIG;
	else
		err = xsc_request(c, XS_SET_PERMS, tx, b.data,
				  (uint32_t)b.len, NULL, NULL);
	buf_free(&b);
	return err;
}

int
xsc_watch(struct xsc *c, const char *path, const char *token, int depth)
{
	char depth_str[16];
	const char *argv[3] = { path, token, depth_str };

	snprintf(depth_str, sizeof(depth_str), "%d", depth);
	return xsc_request_strv(c, XS_WATCH, XSC_TX_NONE, argv,
				depth < 0 ? 2 : 3, NULL, NULL);
}

int
xsc_unwatch(struct xsc *c, const char *path, const char *token)
{
	const char *argv[2] = { path, token };

	return xsc_request_strv(c, XS_UNWATCH, XSC_TX_NONE, argv, 2,
				NULL, NULL);
}

/* Splits an event body into path and token; takes ownership of body. */
static int
xsc_event_split(char *body, uint32_t len, char **path, char **token)
{
	const char *argv[2];

	if (wire_split(body, len, argv, 2, NULL) < 2) {
		free(body);
		return -EBADMSG;
	}
	*path = body;
	*token = (char *)argv[1];
	return 0;
}

int
xsc_read_watch_event(struct xsc *c, char **path, char **token)
{
	struct xsd_sockmsg hdr;
	struct xsc_event *ev = c->events;
	char *body;
	uint32_t len;
	int err;

	if (ev) {
		c->events = ev->next;
		if (!c->events)
			c->events_tail = &c->events;
		len = ev->len;
		body = xmemdup(ev->body, (size_t)len + 1);
		free(ev);
		return xsc_event_split(body, len, path, token);
	}
	if (c->fd < 0)
		return -ENOTCONN;
	err = xsc_recv(c, &hdr, &body);
	if (err < 0)
		return err;
	if (hdr.type != XS_WATCH_EVENT) {
		/* No request is in flight, so nothing else may arrive. */
		free(body);
		return xsc_fail(c, -EBADMSG);
	}
	err = xsc_event_split(body, hdr.len, path, token);
	if (err < 0)
		return xsc_fail(c, err);
	return 0;
}

/* Parses a decimal (or 0x) number reply the way libxenstore does. */
static int
xsc_parse_number(const char *s, uint32_t *out)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (end == s || *end != '\0' || errno || v > UINT32_MAX)
		return -EBADMSG;
	*out = (uint32_t)v;
	return 0;
}

int
xsc_get_features(struct xsc *c, uint32_t *features)
{
	char *reply;
	int err;

	err = xsc_request(c, XS_GET_FEATURE, XSC_TX_NONE, NULL, 0,
			  &reply, NULL);
	if (err < 0)
		return err;
	err = xsc_parse_number(reply, features);
	free(reply);
	return err;
}

int
xsc_transaction_start(struct xsc *c, uint32_t *tx)
{
	const char *empty = "";
	char *reply;
	int err;

	err = xsc_request_strv(c, XS_TRANSACTION_START, XSC_TX_NONE, &empty, 1,
			       &reply, NULL);
	if (err < 0)
		return err;
	err = xsc_parse_number(reply, tx);
	free(reply);
	return err;
}

int
xsc_transaction_end(struct xsc *c, uint32_t tx, bool commit)
{
	const char *arg = commit ? "T" : "F";

	return xsc_request_strv(c, XS_TRANSACTION_END, tx, &arg, 1, NULL, NULL);
}

int
xsc_control(struct xsc *c, const char *const *argv, unsigned int n,
	    char **reply, uint32_t *reply_len)
{
	return xsc_request_strv(c, XS_CONTROL, XSC_TX_NONE, argv, n,
				reply, reply_len);
}
