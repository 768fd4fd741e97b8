/*
 * Loading and checking snapshots, listing and pruning them. A file is
 * trusted only after its header checksum and the CRC of all its compressed
 * data have been verified; decoding then still checks every record, and
 * the END record's node count.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "snapshot/snapshot-int.h"
#include "snapshot/snapshot.pb-c.h"
#include "wal/wal.h"

struct snap_reader {
	const unsigned char *data;
	size_t size;
	struct snap_hdr h;
	struct store *s;		/* NULL: verify only */
	struct store *meta;		/* quotas go here (the store, or NULL) */
	struct wal_domtab *doms;	/* domain records go here, or NULL */
	uint64_t ndomains;
	bool has_domains;
	store_walk_fn fn;		/* nodes go here instead of into s */
	void *fn_arg;
	int fn_rc;			/* fn's non-zero return */
	uint64_t nodes;
	bool ended;
	char *why;
};

static int
snapr_fail(struct snap_reader *r, int rc, char *why)
{
	if (r->why == NULL)
		r->why = why;
	else
		free(why);
	return rc;
}

/*
 * A NODES record, decoded by hand: it is most of the work of loading a
 * large store, and protobuf-c would allocate every node, string and perm
 * of the batch. Paths are copied into an arena (they need a NUL); values
 * point into the record.
 */
struct snapr_batch {
	struct store_op *ops;
	uint32_t nops, capops;
	struct store_perm *perms;
	uint32_t nperms, capperms;
	struct buf paths;
};

static int
snapr_node(struct snapr_batch *b, const uint8_t *p, size_t len)
{
	struct pb_reader r = { p, p + len };
	struct store_op op = { .kind = STORE_OP_PUT, .value = "" };
	uint32_t first = b->nperms;
	bool has_path = false;

	while (r.p < r.end) {
		const uint8_t *v;
		uint32_t f, wt;
		size_t n;

		if (pb_read_tag(&r, &f, &wt) < 0)
			return -EINVAL;
		if (f < 1 || f > 3) {
			if (pb_skip(&r, wt) < 0)
				return -EINVAL;
			continue;
		}
		if (wt != PB_LEN || pb_read_bytes(&r, &v, &n) < 0)
			return -EINVAL;
		if (f == 1) {
			if (memchr(v, '\0', n) != NULL)
				return -EINVAL;
			op.path = (const char *)(uintptr_t)b->paths.len;
			buf_add(&b->paths, v, n);
			buf_add(&b->paths, "", 1);
			has_path = true;
		} else if (f == 2) {
			op.value = v;
			op.len = (uint32_t)n;
		} else {
			if (b->nperms == b->capperms) {
				b->capperms = b->capperms ? b->capperms * 2 : 64;
				b->perms = xrealloc(b->perms, b->capperms *
							      sizeof(*b->perms));
			}
			if (wal_decode_perm(v, n, &b->perms[b->nperms]) < 0)
				return -EINVAL;
			b->nperms++;
		}
	}
	if (!has_path || b->nperms == first)
		return -EINVAL;
	op.perms = (const struct store_perm *)(uintptr_t)first;
	op.nperms = b->nperms - first;
	if (b->nops == b->capops) {
		b->capops = b->capops ? b->capops * 2 : 64;
		b->ops = xrealloc(b->ops, b->capops * sizeof(*b->ops));
	}
	b->ops[b->nops++] = op;
	return 0;
}

static int
snapr_nodes(struct snap_reader *r, const uint8_t *p, uint32_t len)
{
	struct pb_reader pr = { p, p + len };
	struct snapr_batch b = { 0 };
	struct store_mutation m = { 0 };
	int rc = 0;

	while (rc == 0 && pr.p < pr.end) {
		const uint8_t *v;
		uint32_t f, wt;
		size_t n;

		rc = pb_read_tag(&pr, &f, &wt);
		if (rc == 0 && f == 1)
			rc = wt == PB_LEN ? pb_read_bytes(&pr, &v, &n) : -EINVAL;
		else if (rc == 0)
			rc = pb_skip(&pr, wt);
		if (rc == 0 && f == 1)
			rc = snapr_node(&b, v, n);
	}
	if (rc < 0) {
		rc = snapr_fail(r, -EINVAL, xstrdup("bad NODES record"));
		goto out;
	}
	for (uint32_t i = 0; i < b.nops; i++) {
		b.ops[i].path = b.paths.data + (uintptr_t)b.ops[i].path;
		b.ops[i].perms = b.perms + (uintptr_t)b.ops[i].perms;
	}
	r->nodes += b.nops;
	for (uint32_t i = 0; r->fn && i < b.nops && rc == 0; i++) {
		const struct store_op *op = &b.ops[i];

		r->fn_rc = r->fn(r->fn_arg, op->path, op->value, op->len,
				 op->perms, op->nperms);
		if (r->fn_rc != 0)
			rc = r->fn_rc < 0 ? r->fn_rc : -ECANCELED;
	}
	if (r->s) {
		m.nops = b.nops;
		m.ops = b.ops;
		if (store_load(r->s, &m) < 0)
			rc = snapr_fail(r, -EINVAL,
					xstrdup("a node does not fit in the tree "
						"(bad path or missing parent)"));
	}
out:
	free(b.ops);
	free(b.perms);
	buf_free(&b.paths);
	return rc;
}

static int
snapr_meta(struct snap_reader *r, const Lxs__SnapMeta *msg)
{
	for (size_t i = 0; r->meta && i < msg->n_quotas; i++) {
		const Lxs__QuotaChange *q = msg->quotas[i];
		int idx = store_quota_lookup(q->name);

		/* A quota this version does not know is skipped, not fatal:
		 * a newer writer may have added one. */
		if (idx < 0)
			continue;
		if (store_quota_set(r->meta, q->has_domid ? q->domid :
							 STORE_DOMID_GLOBAL,
				    (enum store_quota)idx, q->soft,
				    q->value) < 0)
			return snapr_fail(r, -EINVAL,
					  xasprintf("bad quota %s", q->name));
	}
	return 0;
}

/* lxs.SnapDomains by hand: field 1 repeated, each one lxs.Domain. */
static int
snapr_domains(struct snap_reader *r, const uint8_t *p, uint32_t len)
{
	struct pb_reader pr = { p, p + len };

	if (r->has_domains)
		return snapr_fail(r, -EINVAL, xstrdup("two DOMAINS records"));
	r->has_domains = true;
	while (pr.p < pr.end) {
		struct wal_domain d;
		const uint8_t *v;
		uint32_t f, wt;
		size_t n;
		int rc;

		if (pb_read_tag(&pr, &f, &wt) < 0)
			return snapr_fail(r, -EINVAL,
					  xstrdup("bad DOMAINS record"));
		if (f != 1) {
			if (pb_skip(&pr, wt) < 0)
				return snapr_fail(r, -EINVAL,
						  xstrdup("bad DOMAINS record"));
			continue;
		}
		if (wt != PB_LEN || pb_read_bytes(&pr, &v, &n) < 0 ||
		    wal_decode_domain(v, (uint32_t)n, &d) < 0)
			return snapr_fail(r, -EINVAL,
					  xstrdup("bad domain in DOMAINS"));
		rc = r->doms ? wal_domtab_put(r->doms, &d) : 0;
		wal_domain_release(&d);
		if (rc < 0)
			return snapr_fail(r, -EINVAL,
					  xasprintf("domain %u twice", d.domid));
		r->ndomains++;
	}
	return 0;
}

static int
snapr_record(struct snap_reader *r, uint32_t type, const unsigned char *p,
	     uint32_t len)
{
	int rc = 0;

	if (r->ended)
		return snapr_fail(r, -EINVAL, xstrdup("data after END"));
	switch (type) {
	case SNAP_REC_META: {
		Lxs__SnapMeta *m = lxs__snap_meta__unpack(NULL, len, p);

		if (m == NULL)
			return snapr_fail(r, -EINVAL, xstrdup("bad META record"));
		rc = snapr_meta(r, m);
		lxs__snap_meta__free_unpacked(m, NULL);
		break;
	}
	case SNAP_REC_NODES:
		rc = snapr_nodes(r, p, len);
		break;
	case SNAP_REC_DOMAINS:
		rc = snapr_domains(r, p, len);
		break;
	case SNAP_REC_END: {
		Lxs__SnapEnd *m = lxs__snap_end__unpack(NULL, len, p);

		if (m == NULL)
			return snapr_fail(r, -EINVAL, xstrdup("bad END record"));
		if (m->nodes != r->nodes)
			rc = snapr_fail(r, -EINVAL,
					xasprintf("END says %llu nodes, found %llu",
						  (unsigned long long)m->nodes,
						  (unsigned long long)r->nodes));
		r->ended = true;
		lxs__snap_end__free_unpacked(m, NULL);
		break;
	}
	default:
		/* Unknown record types are from a newer writer: skip. */
		break;
	}
	return rc;
}

/* Inflates the data and feeds complete records to snapr_record. */
static int
snapr_stream(struct snap_reader *r)
{
	z_stream z = { 0 };
	struct buf acc = { 0 };
	size_t pos = 0;
	uint64_t raw = 0;
	int zrc = Z_OK, rc = 0;

	if (inflateInit(&z) != Z_OK)
		return -ENOMEM;
	z.next_in = (unsigned char *)r->data + SNAP_HDR_SIZE;
	z.avail_in = (uInt)r->h.data_len;
	while (rc == 0 && zrc != Z_STREAM_END) {
		char *dst = buf_reserve(&acc, 1 << 16);

		z.next_out = (unsigned char *)dst;
		z.avail_out = 1 << 16;
		zrc = inflate(&z, Z_NO_FLUSH);
		if (zrc != Z_OK && zrc != Z_STREAM_END) {
			rc = snapr_fail(r, -EINVAL, xasprintf("zlib: %s",
							      z.msg ? z.msg : "error"));
			break;
		}
		acc.len += (1 << 16) - z.avail_out;
		raw += (1 << 16) - z.avail_out;
		if (zrc == Z_OK && z.avail_in == 0 && z.avail_out != 0) {
			rc = snapr_fail(r, -EINVAL,
					xstrdup("compressed data ends early"));
			break;
		}
		/* Hand out every complete record. */
		while (rc == 0 && acc.len - pos >= SNAP_REC_HDR) {
			const unsigned char *p = (unsigned char *)acc.data + pos;
			uint32_t len = le32_get(p);

			if (len > SNAP_REC_MAX) {
				rc = snapr_fail(r, -EINVAL,
						xstrdup("record too long"));
				break;
			}
			if (acc.len - pos - SNAP_REC_HDR < len)
				break;
			rc = snapr_record(r, le32_get(p + 4), p + SNAP_REC_HDR, len);
			pos += SNAP_REC_HDR + len;
		}
		if (pos > (1u << 20)) {
			memmove(acc.data, acc.data + pos, acc.len - pos);
			acc.len -= pos;
			pos = 0;
		}
	}
	if (rc == 0 && pos != acc.len)
		rc = snapr_fail(r, -EINVAL, xstrdup("incomplete last record"));
	if (rc == 0 && !r->ended)
		rc = snapr_fail(r, -EINVAL, xstrdup("no END record"));
	if (rc == 0 && raw != r->h.raw_len)
		rc = snapr_fail(r, -EINVAL, xstrdup("uncompressed length differs"));
	inflateEnd(&z);
	buf_free(&acc);
	return rc;
}

static int
snap_read(struct snap_reader r, const char *path, struct snap_info *out,
	  char **why)
{
	struct stat st;
	void *map = MAP_FAILED;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		r.why = xasprintf("%s", strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		rc = snapr_fail(&r, -errno, xstrdup(strerror(errno)));
		goto out;
	}
	if ((size_t)st.st_size < SNAP_HDR_SIZE) {
		rc = snapr_fail(&r, -EINVAL, xstrdup("file too short"));
		goto out;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED) {
		rc = snapr_fail(&r, -errno, xstrdup(strerror(errno)));
		goto out;
	}
	r.data = map;
	r.size = (size_t)st.st_size;
	if (snap_hdr_decode(r.data, &r.h) < 0) {
		rc = snapr_fail(&r, -EINVAL, xstrdup("bad header"));
		goto out;
	}
	if (r.h.version != SNAP_VERSION) {
		rc = snapr_fail(&r, -EINVAL,
				xasprintf("unknown version %u", r.h.version));
		goto out;
	}
	if (r.h.data_len != r.size - SNAP_HDR_SIZE) {
		rc = snapr_fail(&r, -EINVAL,
				xasprintf("file has %zu data bytes, header says %llu",
					  r.size - SNAP_HDR_SIZE,
					  (unsigned long long)r.h.data_len));
		goto out;
	}
	if (crc32c(r.data + SNAP_HDR_SIZE, r.h.data_len) != r.h.data_crc) {
		rc = snapr_fail(&r, -EINVAL, xstrdup("data checksum mismatch"));
		goto out;
	}
	rc = snapr_stream(&r);
	if (r.fn_rc != 0) {
		/* fn stopped the scan: not damage. */
		free(r.why);
		r.why = NULL;
		rc = r.fn_rc;
		goto out;
	}
	if (rc == 0 && out) {
		out->seq = r.h.seq;
		out->time_ns = r.h.time_ns;
		out->nodes = r.nodes;
		out->domains = r.ndomains;
		out->has_domains = r.has_domains;
		out->file_bytes = r.size;
		out->raw_bytes = r.h.raw_len;
		out->path = xstrdup(path);
	}
out:
	if (map != MAP_FAILED)
		munmap(map, r.size);
	if (fd >= 0)
		close(fd);
	if (why)
		*why = r.why;
	else
		free(r.why);
	return rc;
}

int
snap_load(const char *path, struct store *s, struct snap_info *out,
	  char **why)
{
	struct snap_reader r = { .s = s, .meta = s };

	return snap_read(r, path, out, why);
}

int
snap_load_domains(const char *path, struct store *s, struct wal_domtab *doms,
		  struct snap_info *out, char **why)
{
	struct snap_reader r = { .s = s, .meta = s, .doms = doms };

	return snap_read(r, path, out, why);
}

int
snap_scan(const char *path, store_walk_fn fn, void *arg, struct store *meta,
	  struct wal_domtab *doms, struct snap_info *out, char **why)
{
	struct snap_reader r = { .meta = meta, .doms = doms, .fn = fn,
				 .fn_arg = arg };

	return snap_read(r, path, out, why);
}

int
snap_verify(const char *path, struct snap_info *out, char **why)
{
	struct snap_reader r = { 0 };

	return snap_read(r, path, out, why);
}

static int
snap_cmp_newest(const void *a, const void *b)
{
	const struct snap_info *x = a, *y = b;

	return x->seq > y->seq ? -1 : x->seq < y->seq;
}

int
snap_list(const char *dir, struct snap_info **out, uint32_t *n)
{
	struct snap_info *v = NULL;
	uint32_t nv = 0, cap = 0;
	struct dirent *de;
	DIR *d = opendir(dir);

	if (d == NULL)
		return -errno;
	while ((de = readdir(d)) != NULL) {
		uint64_t seq;

		if (!snap_parse_name(de->d_name, &seq))
			continue;
		if (nv == cap) {
			cap = cap ? cap * 2 : 4;
			v = xrealloc(v, cap * sizeof(*v));
		}
		memset(&v[nv], 0, sizeof(v[nv]));
		v[nv].seq = seq;
		v[nv].path = xasprintf("%s/%s", dir, de->d_name);
		nv++;
	}
	closedir(d);
	if (nv)
		qsort(v, nv, sizeof(*v), snap_cmp_newest);
	*out = v;
	*n = nv;
	return 0;
}

void
snap_list_free(struct snap_info *v, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		free(v[i].path);
	free(v);
}

int
snap_prune(const char *dir, uint32_t keep, uint64_t *oldest_kept)
{
	struct snap_info *v;
	struct dirent *de;
	uint32_t n;
	DIR *d;
	int rc = snap_list(dir, &v, &n);

	if (rc < 0)
		return rc;
	*oldest_kept = 0;
	for (uint32_t i = 0; i < n; i++) {
		if (i < keep) {
			*oldest_kept = v[i].seq;
			continue;
		}
		if (unlink(v[i].path) < 0 && errno != ENOENT)
			rc = -errno;
	}
	snap_list_free(v, n);
	/* Temporary files are what a crash in snap_write left behind. */
	d = opendir(dir);
	while (d && (de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		char *p;

		if (strncmp(de->d_name, "snap-", 5) != 0 || len < 4 ||
		    strcmp(de->d_name + len - 4, ".tmp") != 0)
			continue;
		p = xasprintf("%s/%s", dir, de->d_name);
		unlink(p);
		free(p);
	}
	if (d)
		closedir(d);
	return rc;
}
