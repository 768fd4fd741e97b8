/*
 * The live-update channel: a SOCK_SEQPACKET socketpair, so every send is
 * one packet with its boundaries kept. Packet: a u32 kind (native order:
 * both ends run on the same host), then its body:
 *
 *   READY  u64 seq             FDS   u32 count, count fds as SCM_RIGHTS
 *   DATA   bytes (a chunk)     END   -- (the handover message is complete)
 *   ACK    --                  NAK   text (no NUL)
 *   EARLY  u64 seq (the new daemon asks for the connections before READY)
 *   LOADED u64 seq (loaded and checked; waits for GO)
 *   GO     --
 *
 * Fds go in batches below the kernel's per-message limit (SCM_MAX_FD,
 * 253) and the message in chunks well below the socket buffer, so neither
 * the number of connections nor their queued output is bounded by one
 * packet.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "liveupdate/liveupdate.h"

enum lu_kind {
	LU_READY = 1,
	LU_FDS,
	LU_DATA,
	LU_END,
	LU_ACK,
	LU_NAK,
	LU_EARLY,
	LU_LOADED,
	LU_GO,
};

#define LU_FDS_PER_PACKET	200
#define LU_CHUNK		(32u * 1024)
#define LU_PACKET_MAX		(LU_CHUNK + 16)
/* Sanity bounds of what a receiver accepts. */
#define LU_MAX_FDS		(1u << 20)
#define LU_MAX_MESSAGE		(1ull << 32)

static int
lu_send_packet(int fd, uint32_t kind, const void *body, size_t len,
	       const int *fds, uint32_t nfds)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * LU_FDS_PER_PACKET)];
	} cm;
	struct iovec iov[2] = {
		{ &kind, sizeof(kind) },
		{ (void *)body, len },
	};
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };
	ssize_t n;

	if (nfds) {
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cm.h.cmsg_level = SOL_SOCKET;
		cm.h.cmsg_type = SCM_RIGHTS;
		cm.h.cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(&cm.h), fds, sizeof(int) * nfds);
	}
	do
		n = sendmsg(fd, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == ECONNRESET ? -EPIPE : -errno;
	return 0;
}

/*
 * Receives one packet into buf (LU_PACKET_MAX bytes); fds it carried are
 * appended to *fds (grown). Returns the body length, -EPIPE at the end.
 */
static ssize_t
lu_recv_packet(int fd, uint32_t *kind, void *buf, int **fds, uint32_t *nfds)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * LU_FDS_PER_PACKET)];
	} cm;
	struct iovec iov[2] = {
		{ kind, sizeof(*kind) },
		{ buf, LU_PACKET_MAX },
	};
	struct msghdr mh = {
		.msg_iov = iov, .msg_iovlen = 2,
		.msg_control = cm.buf, .msg_controllen = sizeof(cm.buf),
	};
	struct cmsghdr *h;
	ssize_t n;

	do
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == ECONNRESET ? -EPIPE : -errno;
	for (h = CMSG_FIRSTHDR(&mh); h; h = CMSG_NXTHDR(&mh, h)) {
		uint32_t k;

		if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
			continue;
		k = (uint32_t)((h->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		if (fds == NULL) {
			int *v = (int *)CMSG_DATA(h);

			for (uint32_t i = 0; i < k; i++)
				close(v[i]);
			continue;
		}
		*fds = xrealloc(*fds, (*nfds + k) * sizeof(int));
		memcpy(*fds + *nfds, CMSG_DATA(h), k * sizeof(int));
		*nfds += k;
	}
	if (n == 0)
		return -EPIPE;
	if ((size_t)n < sizeof(*kind) || (mh.msg_flags & MSG_TRUNC))
		return -EPROTO;
	return n - (ssize_t)sizeof(*kind);
}

int
lu_send_ready(int fd, uint64_t seq)
{
	return lu_send_packet(fd, LU_READY, &seq, sizeof(seq), NULL, 0);
}

int
lu_send_early(int fd, uint64_t seq)
{
	return lu_send_packet(fd, LU_EARLY, &seq, sizeof(seq), NULL, 0);
}

int
lu_send_loaded(int fd, uint64_t seq)
{
	return lu_send_packet(fd, LU_LOADED, &seq, sizeof(seq), NULL, 0);
}

int
lu_send_go(int fd)
{
	return lu_send_packet(fd, LU_GO, NULL, 0, NULL, 0);
}

int
lu_recv_go(int fd)
{
	char *buf = xmalloc(LU_PACKET_MAX);
	uint32_t kind;
	ssize_t n;

	n = lu_recv_packet(fd, &kind, buf, NULL, NULL);
	free(buf);
	if (n < 0)
		return (int)n;
	return kind == LU_GO && n == 0 ? 0 : -EPROTO;
}

int
lu_recv_ready(int fd, uint64_t *seq, enum lu_said *said, char **why)
{
	char *buf = xmalloc(LU_PACKET_MAX + 1);
	uint32_t kind;
	ssize_t n;

	*why = NULL;
	n = lu_recv_packet(fd, &kind, buf, NULL, NULL);
	if (n >= 0 && kind == LU_NAK) {
		buf[n] = '\0';
		*why = xstrdup(buf);
		n = -ECANCELED;
	} else if (n >= 0 && ((kind != LU_READY && kind != LU_EARLY &&
				 kind != LU_LOADED) ||
				n != (ssize_t)sizeof(*seq))) {
		n = -EPROTO;
	}
	if (n >= 0) {
		*said = kind == LU_EARLY ? LU_SAID_EARLY :
			kind == LU_LOADED ? LU_SAID_LOADED : LU_SAID_READY;
		memcpy(seq, buf, sizeof(*seq));
	}
	free(buf);
	return n < 0 ? (int)n : 0;
}

int
lu_send_state(int fd, const struct lu_state *st)
{
	uint8_t *msg;
	size_t len;
	int *fds;
	uint32_t nfds;
	int rc = 0;

	lu_encode(st, &msg, &len, &fds, &nfds);
	for (uint32_t i = 0; rc == 0 && i < nfds; i += LU_FDS_PER_PACKET) {
		uint32_t k = nfds - i < LU_FDS_PER_PACKET ?
			     nfds - i : LU_FDS_PER_PACKET;

		rc = lu_send_packet(fd, LU_FDS, &k, sizeof(k), fds + i, k);
	}
	for (size_t off = 0; rc == 0 && off < len; off += LU_CHUNK)
		rc = lu_send_packet(fd, LU_DATA, msg + off,
				    len - off < LU_CHUNK ? len - off : LU_CHUNK,
				    NULL, 0);
	if (rc == 0)
		rc = lu_send_packet(fd, LU_END, NULL, 0, NULL, 0);
	free(msg);
	free(fds);
	return rc;
}

int
lu_recv_state(int fd, struct lu_state *st, struct buf *raw, char **why)
{
	char *buf = xmalloc(LU_PACKET_MAX);
	struct buf msg = { 0 };
	int *fds = NULL;
	uint32_t nfds = 0, kind;
	int rc = 0;

	*why = NULL;
	for (;;) {
		ssize_t n = lu_recv_packet(fd, &kind, buf, &fds, &nfds);

		if (n < 0) {
			rc = (int)n;
			*why = xasprintf("receiving the handover: %s",
					 strerror(-rc));
			break;
		}
		if (kind == LU_END)
			break;
		if ((kind != LU_FDS && kind != LU_DATA) ||
		    nfds > LU_MAX_FDS || msg.len + (size_t)n > LU_MAX_MESSAGE) {
			rc = -EPROTO;
			*why = xasprintf("unexpected packet %u in the handover",
					 kind);
			break;
		}
		if (kind == LU_DATA)
			buf_add(&msg, buf, (size_t)n);
	}
	if (rc == 0)
		rc = lu_decode((const uint8_t *)msg.data, msg.len, fds, nfds,
			       st, why);
	for (uint32_t i = 0; i < nfds; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
	if (rc == 0 && raw)
		buf_add(raw, msg.data, msg.len);
	buf_free(&msg);
	free(buf);
	return rc;
}

int
lu_send_result(int fd, const char *err)
{
	if (err == NULL)
		return lu_send_packet(fd, LU_ACK, NULL, 0, NULL, 0);
	return lu_send_packet(fd, LU_NAK, err, strlen(err), NULL, 0);
}

int
lu_recv_result(int fd, char **why)
{
	char *buf = xmalloc(LU_PACKET_MAX + 1);
	uint32_t kind;
	ssize_t n;

	*why = NULL;
	n = lu_recv_packet(fd, &kind, buf, NULL, NULL);
	if (n >= 0 && kind == LU_ACK) {
		n = 0;
	} else if (n >= 0 && kind == LU_NAK) {
		buf[n] = '\0';
		*why = xstrdup(buf);
		n = -ECANCELED;
	} else if (n >= 0) {
		n = -EPROTO;
	}
	free(buf);
	return (int)n;
}

int
lu_wait_release(int fd)
{
	struct timeval none = { 0 };
	char c;
	ssize_t n;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof(none));
	do
		n = recv(fd, &c, 1, 0);
	while (n > 0 || (n < 0 && errno == EINTR));
	return n == 0 ? 0 : -errno;
}
