/*
 * Writing snapshots. All integers little-endian.
 *
 * File snap-<seq, 16 hex digits>.lxs:
 *
 *   0   8  magic "LXS-SNAP"
 *   8   4  version (1)
 *   12  4  flags, 0
 *   16  8  seq: last log record included
 *   24  8  time: nanoseconds since the epoch
 *   32  8  raw_len: bytes of the uncompressed stream
 *   40  8  data_len: bytes of compressed data
 *   48  4  data_crc: CRC32C of the compressed data
 *   52  4  CRC32C of bytes 0..51
 *   56     data: zlib (deflate) stream of records
 *
 * Each record of the uncompressed stream is len (4) | type (4) | payload,
 * payload a protobuf-c message (snapshot/snapshot.proto): one META, one
 * DOMAINS (the domain table, since the domains issue; older files have
 * none), NODES batches in pre-order, one END with the node count. The header is
 * written last, so a file whose header checks is complete.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "config.h"
#include "snapshot/snapshot-int.h"
#include "snapshot/snapshot.pb-c.h"

void
snap_hdr_encode(const struct snap_hdr *h, unsigned char out[SNAP_HDR_SIZE])
{
	memcpy(out, SNAP_MAGIC, 8);
	le32_put(out + 8, h->version);
	le32_put(out + 12, h->flags);
	le64_put(out + 16, h->seq);
	le64_put(out + 24, h->time_ns);
	le64_put(out + 32, h->raw_len);
	le64_put(out + 40, h->data_len);
	le32_put(out + 48, h->data_crc);
	le32_put(out + 52, crc32c(out, 52));
}

int
snap_hdr_decode(const unsigned char in[SNAP_HDR_SIZE], struct snap_hdr *h)
{
	if (memcmp(in, SNAP_MAGIC, 8) != 0 || le32_get(in + 52) != crc32c(in, 52))
		return -EINVAL;
	h->version = le32_get(in + 8);
	h->flags = le32_get(in + 12);
	h->seq = le64_get(in + 16);
	h->time_ns = le64_get(in + 24);
	h->raw_len = le64_get(in + 32);
	h->data_len = le64_get(in + 40);
	h->data_crc = le32_get(in + 48);
	return 0;
}

char *
snap_file_name(uint64_t seq)
{
	return xasprintf("snap-%016" PRIx64 ".lxs", seq);
}

bool
snap_parse_name(const char *name, uint64_t *seq)
{
	return parse_seq_name(name, "snap-", ".lxs", seq);
}

struct snap_writer {
	int fd;
	z_stream z;
	unsigned char out[1 << 16];
	uint64_t raw_len;
	uint64_t data_len;
	uint32_t data_crc;
	int err;
	/* The current NODES batch. */
	Lxs__SnapNode nodes[SNAP_BATCH];
	Lxs__SnapNode *nodep[SNAP_BATCH];
	Lxs__Perm *perms;
	Lxs__Perm **permp;
	uint32_t nperms_cap;
	uint32_t nperms;
	uint32_t nnodes;
	uint64_t total_nodes;
	/* The batch's paths: store_walk lends each one for its call only.
	 * Until the flush, node i's path field holds its offset here. */
	struct buf paths;
	struct buf rec;
};

static void
snapw_out(struct snap_writer *w, int flush)
{
	do {
		size_t have;
		const unsigned char *p = w->out;

		w->z.next_out = w->out;
		w->z.avail_out = sizeof(w->out);
		if (deflate(&w->z, flush) == Z_STREAM_ERROR) {
			w->err = -EIO;
			return;
		}
		have = sizeof(w->out) - w->z.avail_out;
		w->data_len += have;
		w->data_crc = crc32c_update(w->data_crc, w->out, have);
		while (have && !w->err) {
			ssize_t n = write(w->fd, p, have);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				w->err = n < 0 ? -errno : -EIO;
			else {
				p += n;
				have -= (size_t)n;
			}
		}
	} while (w->z.avail_out == 0 && !w->err);
}

/* Compresses the record in w->rec, whose header is filled in here. */
static void
snapw_emit(struct snap_writer *w, uint32_t type)
{
	le32_put((unsigned char *)w->rec.data,
		 (uint32_t)(w->rec.len - SNAP_REC_HDR));
	le32_put((unsigned char *)w->rec.data + 4, type);
	w->raw_len += w->rec.len;
	w->z.next_in = (unsigned char *)w->rec.data;
	w->z.avail_in = (uInt)w->rec.len;
	while (w->z.avail_in && !w->err)
		snapw_out(w, Z_NO_FLUSH);
}

/* Compresses one record: len | type | payload. */
static void
snapw_record(struct snap_writer *w, uint32_t type, const ProtobufCMessage *m)
{
	size_t size = protobuf_c_message_get_packed_size(m);
	unsigned char *p;

	buf_reset(&w->rec);
	p = (unsigned char *)buf_reserve(&w->rec, SNAP_REC_HDR + size);
	protobuf_c_message_pack(m, p + SNAP_REC_HDR);
	w->rec.len = SNAP_REC_HDR + size;
	snapw_emit(w, type);
}

/*
 * SNAP_REC_DOMAINS: lxs.SnapDomains, i.e. field 1 (0x0a) repeated, each
 * an lxs.Domain as wal/domain.c encodes it (the one place that knows the
 * domain record). Written even when the table is empty, so a reader can
 * tell "no domains" from "a writer that did not know domains"; without a
 * table (doms NULL: a tool's export) the file is what such a writer made.
 */
static void
snapw_domains(struct snap_writer *w, const struct wal_domtab *doms)
{
	struct buf one = { 0 };
	uint8_t *p;

	buf_reset(&w->rec);
	buf_reserve(&w->rec, SNAP_REC_HDR);
	w->rec.len = SNAP_REC_HDR;
	for (uint32_t i = 0; i < wal_domtab_count(doms); i++) {
		buf_reset(&one);
		wal_encode_domain(wal_domtab_at(doms, i), &one);
		p = (uint8_t *)buf_reserve(&w->rec, 1 + 10 + one.len);
		*p++ = 0x0a;
		p = pb_put_varint(p, one.len);
		memcpy(p, one.data, one.len);
		w->rec.len = (size_t)(p + one.len - (uint8_t *)w->rec.data);
	}
	buf_free(&one);
	snapw_emit(w, SNAP_REC_DOMAINS);
}

static void
snapw_flush_nodes(struct snap_writer *w)
{
	Lxs__SnapNodes msg = LXS__SNAP_NODES__INIT;

	if (w->nnodes == 0)
		return;
	for (uint32_t i = 0; i < w->nnodes; i++)
		w->nodes[i].path = w->paths.data + (uintptr_t)w->nodes[i].path;
	msg.n_nodes = w->nnodes;
	msg.nodes = w->nodep;
	snapw_record(w, SNAP_REC_NODES, &msg.base);
	w->nnodes = 0;
	w->nperms = 0;
	buf_reset(&w->paths);
}

static int
snapw_node(void *arg, const char *path, const void *value, uint32_t len,
	   const struct store_perm *perms, uint32_t nperms)
{
	struct snap_writer *w = arg;
	Lxs__SnapNode *n;

	if (w->nperms + nperms > w->nperms_cap)
		snapw_flush_nodes(w);
	if (nperms > w->nperms_cap) {
		w->nperms_cap = nperms * 2;
		w->perms = xrealloc(w->perms, w->nperms_cap * sizeof(*w->perms));
		w->permp = xrealloc(w->permp, w->nperms_cap * sizeof(*w->permp));
	}
	n = &w->nodes[w->nnodes];
	lxs__snap_node__init(n);
	n->path = (char *)(uintptr_t)w->paths.len;
	buf_add_str0(&w->paths, path);
	n->has_value = len != 0;
	n->value.data = (uint8_t *)value;
	n->value.len = len;
	n->n_perms = nperms;
	n->perms = &w->permp[w->nperms];
	for (uint32_t i = 0; i < nperms; i++) {
		Lxs__Perm *p = &w->perms[w->nperms];

		lxs__perm__init(p);
		p->domid = perms[i].domid;
		p->bits = perms[i].bits;
		w->permp[w->nperms++] = p;
	}
	w->nodep[w->nnodes++] = n;
	w->total_nodes++;
	if (w->nnodes == SNAP_BATCH)
		snapw_flush_nodes(w);
	return w->err;
}

struct snapw_quotas {
	const struct store *s;
	Lxs__QuotaChange *q;
	uint32_t n;
	uint32_t cap;
};

static void
snapw_quota_add(struct snapw_quotas *qs, uint32_t domid, int q, bool soft,
		uint32_t value)
{
	Lxs__QuotaChange *c;

	if (qs->n == qs->cap) {
		qs->cap = qs->cap ? qs->cap * 2 : 32;
		qs->q = xrealloc(qs->q, qs->cap * sizeof(*qs->q));
	}
	c = &qs->q[qs->n++];
	lxs__quota_change__init(c);
	c->has_domid = domid != STORE_DOMID_GLOBAL;
	c->domid = domid;
	c->name = (char *)store_quota_name((enum store_quota)q);
	c->value = value;
	c->has_soft = soft;
	c->soft = soft;
}

static void
snapw_domain_quotas(void *arg, uint32_t domid)
{
	struct snapw_quotas *qs = arg;
	uint32_t v;

	for (int q = 0; q < STORE_QUOTA_COUNT; q++)
		if (store_quota_get_own(qs->s, domid, (enum store_quota)q,
					false, &v) == 0)
			snapw_quota_add(qs, domid, q, false, v);
	if (store_quota_get_own(qs->s, domid, STORE_QUOTA_MEMORY, true, &v) == 0)
		snapw_quota_add(qs, domid, STORE_QUOTA_MEMORY, true, v);
}

static void
snapw_meta(struct snap_writer *w, const struct store *s)
{
	Lxs__SnapMeta msg = LXS__SNAP_META__INIT;
	struct snapw_quotas qs = { .s = s };
	Lxs__QuotaChange **qp;

	snapw_domain_quotas(&qs, STORE_DOMID_GLOBAL);
	store_foreach_domain(s, snapw_domain_quotas, &qs);
	qp = xcalloc(qs.n ? qs.n : 1, sizeof(*qp));
	for (uint32_t i = 0; i < qs.n; i++)
		qp[i] = &qs.q[i];
	msg.n_quotas = qs.n;
	msg.quotas = qp;
	msg.writer = (char *)PACKAGE_STRING;
	snapw_record(w, SNAP_REC_META, &msg.base);
	free(qp);
	free(qs.q);
}

int
snap_write(const struct store *s, const struct wal_domtab *doms, uint64_t seq,
	   const char *dir, struct snap_info *out)
{
	struct snap_writer *w = xcalloc(1, sizeof(*w));
	struct snap_hdr h = { .version = SNAP_VERSION, .seq = seq };
	unsigned char hdr[SNAP_HDR_SIZE] = { 0 };
	Lxs__SnapEnd end = LXS__SNAP_END__INIT;
	char *name = snap_file_name(seq);
	char *tmp = xasprintf("%s/%s.tmp", dir, name);
	char *path = xasprintf("%s/%s", dir, name);
	int rc;

	free(name);
	h.time_ns = real_ns();
	w->fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (w->fd < 0) {
		rc = -errno;
		goto out;
	}
	if (deflateInit(&w->z, Z_BEST_SPEED) != Z_OK) {
		rc = -ENOMEM;
		goto out;
	}
	/* The header goes in last; reserve its place. */
	if (write(w->fd, hdr, sizeof(hdr)) != (ssize_t)sizeof(hdr)) {
		rc = -errno ? -errno : -EIO;
		deflateEnd(&w->z);
		goto out;
	}
	w->nperms_cap = 4 * SNAP_BATCH;
	w->perms = xcalloc(w->nperms_cap, sizeof(*w->perms));
	w->permp = xcalloc(w->nperms_cap, sizeof(*w->permp));
	snapw_meta(w, s);
	if (doms)
		snapw_domains(w, doms);
	store_walk(s, snapw_node, w);
	snapw_flush_nodes(w);
	end.nodes = w->total_nodes;
	snapw_record(w, SNAP_REC_END, &end.base);
	w->z.next_in = NULL;
	w->z.avail_in = 0;
	while (!w->err) {
		snapw_out(w, Z_FINISH);
		if (w->z.avail_out != 0)
			break;
	}
	deflateEnd(&w->z);
	rc = w->err;
	h.raw_len = w->raw_len;
	h.data_len = w->data_len;
	h.data_crc = w->data_crc;
	snap_hdr_encode(&h, hdr);
	if (rc == 0 && pwrite(w->fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr))
		rc = -errno ? -errno : -EIO;
	if (rc == 0 && fsync(w->fd) < 0)
		rc = -errno;
	if (close(w->fd) < 0 && rc == 0)
		rc = -errno;
	w->fd = -1;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc == 0)
		rc = fsync_dir(dir);
	if (rc == 0 && out) {
		out->seq = seq;
		out->time_ns = h.time_ns;
		out->nodes = w->total_nodes;
		out->domains = wal_domtab_count(doms);
		out->file_bytes = SNAP_HDR_SIZE + w->data_len;
		out->raw_bytes = w->raw_len;
		out->path = xstrdup(path);
	}
out:
	if (w->fd >= 0)
		close(w->fd);
	if (rc < 0)
		unlink(tmp);
	buf_free(&w->rec);
	buf_free(&w->paths);
	free(w->perms);
	free(w->permp);
	free(w);
	free(tmp);
	free(path);
	return rc;
}

int
snap_write_background(const struct store *s, const struct wal_domtab *doms,
		      uint64_t seq, const char *dir, pid_t *child)
{
	pid_t parent = getpid();
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		/*
		 * The child holds none of the parent's descriptors: a daemon
		 * killed while the child writes must leave no listening socket
		 * or state directory lock behind. It dies with its parent;
		 * what it has not installed by then is a temporary file that
		 * the next snap_prune removes.
		 */
		close_range(3, ~0u, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		_exit(snap_write(s, doms, seq, dir, NULL) == 0 ? 0 : 1);
	}
	*child = pid;
	return 0;
}

void
snap_info_release(struct snap_info *i)
{
	free(i->path);
	memset(i, 0, sizeof(*i));
}
