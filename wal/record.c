/*
 * Record payloads: store mutations and quota changes to and from their
 * protobuf-c messages (wal/wal.proto).
 */
#include <errno.h>
#include <string.h>

#include "wal/wal.h"
#include "wal/wal.pb-c.h"

/*
 * Mutations are the hot path of every change, and protobuf-c's generic
 * packer walks descriptors for each field. They are encoded here directly
 * in the protobuf wire format of lxs.Mutation (wal/wal.proto), field by
 * field in field-number order as protobuf-c itself emits them, so the
 * bytes are the same (tests/check_wal.c compares them with
 * lxs__mutation__pack) and protobuf-c decodes them.
 *
 *   Mutation: 1 domid varint (0x08), 2 ops message (0x12) repeated
 *   Op:       1 kind varint (0x08), 2 path string (0x12), 3 value bytes
 *             (0x1a), 4 perms message (0x22) repeated, 5 quiet varint (0x28)
 *   Perm:     1 domid varint (0x08), 2 bits varint (0x10)
 */
static size_t
pb_perm_len(const struct store_perm *pm)
{
	return 1 + pb_varint_len(pm->domid) + 1 + pb_varint_len(pm->bits);
}

static size_t
pb_op_len(const struct store_op *op)
{
	size_t plen = strlen(op->path);
	size_t n = 1 + pb_varint_len(op->kind == STORE_OP_PUT ? 0 : 1) +
		   1 + pb_varint_len(plen) + plen;

	if (op->kind != STORE_OP_PUT)
		return n;
	n += 1 + pb_varint_len(op->len) + op->len;
	for (uint32_t j = 0; j < op->nperms; j++) {
		size_t pl = pb_perm_len(&op->perms[j]);

		n += 1 + pb_varint_len(pl) + pl;
	}
	if (op->quiet)
		n += 2;
	return n;
}

void
wal_encode_mutation(const struct store_mutation *m, struct buf *out)
{
	size_t total = 1 + pb_varint_len(m->domid);
	uint8_t *p, *start;

	for (uint32_t i = 0; i < m->nops; i++) {
		size_t ol = pb_op_len(&m->ops[i]);

		total += 1 + pb_varint_len(ol) + ol;
	}
	p = start = (uint8_t *)buf_reserve(out, total);
	*p++ = 0x08;
	p = pb_put_varint(p, m->domid);
	for (uint32_t i = 0; i < m->nops; i++) {
		const struct store_op *op = &m->ops[i];
		size_t plen = strlen(op->path);

		*p++ = 0x12;
		p = pb_put_varint(p, pb_op_len(op));
		*p++ = 0x08;
		p = pb_put_varint(p, op->kind == STORE_OP_PUT ? 0 : 1);
		*p++ = 0x12;
		p = pb_put_varint(p, plen);
		memcpy(p, op->path, plen);
		p += plen;
		if (op->kind != STORE_OP_PUT)
			continue;
		*p++ = 0x1a;
		p = pb_put_varint(p, op->len);
		if (op->len)
			memcpy(p, op->value, op->len);
		p += op->len;
		for (uint32_t j = 0; j < op->nperms; j++) {
			*p++ = 0x22;
			p = pb_put_varint(p, pb_perm_len(&op->perms[j]));
			*p++ = 0x08;
			p = pb_put_varint(p, op->perms[j].domid);
			*p++ = 0x10;
			p = pb_put_varint(p, op->perms[j].bits);
		}
		if (op->quiet) {
			*p++ = 0x28;
			*p++ = 1;
		}
	}
	out->len += (size_t)(p - start);
}

/*
 * Decoding, the replay path: one pass over the payload without protobuf-c
 * (which allocates every message). Paths are copied into one arena so
 * they get their NUL; values and perms point into the payload or into one
 * perms array. Accepts what protobuf accepts: fields in any order, unknown
 * fields skipped, the last value of a repeated scalar winning.
 */
struct wal_dec {
	struct store_op *ops;
	uint32_t nops, capops;
	struct store_perm *perms;
	uint32_t nperms, capperms;
	struct buf paths;
};

int
wal_decode_perm(const uint8_t *p, size_t len, struct store_perm *out)
{
	struct pb_reader r = { p, p + len };
	struct store_perm pm = { 0, 0 };
	bool has_domid = false, has_bits = false;

	while (r.p < r.end) {
		uint32_t f, wt;

		if (pb_read_tag(&r, &f, &wt) < 0)
			return -EINVAL;
		if (f == 1) {
			if (pb_read_u32(&r, wt, &pm.domid) < 0)
				return -EINVAL;
			has_domid = true;
		} else if (f == 2) {
			if (pb_read_u32(&r, wt, &pm.bits) < 0)
				return -EINVAL;
			has_bits = true;
		} else if (pb_skip(&r, wt) < 0) {
			return -EINVAL;
		}
	}
	if (!has_domid || !has_bits)
		return -EINVAL;
	pm.bits &= STORE_PERM_BOTH;
	*out = pm;
	return 0;
}

static int
wal_dec_perm(struct wal_dec *d, const uint8_t *p, size_t len)
{
	struct store_perm pm;

	if (wal_decode_perm(p, len, &pm) < 0)
		return -EINVAL;
	if (d->nperms == d->capperms) {
		d->capperms = d->capperms ? d->capperms * 2 : 16;
		d->perms = xrealloc(d->perms, d->capperms * sizeof(*d->perms));
	}
	d->perms[d->nperms++] = pm;
	return 0;
}

/* Ops refer to their perms and paths by index until decoding ends. */
static int
wal_dec_op(struct wal_dec *d, const uint8_t *p, size_t len)
{
	struct pb_reader r = { p, p + len };
	struct store_op op = { 0 };
	bool has_kind = false, has_path = false;
	uint32_t kind = 0, first_perm = d->nperms;
	const uint8_t *s;
	size_t n;

	while (r.p < r.end) {
		uint32_t f, wt, q;

		if (pb_read_tag(&r, &f, &wt) < 0)
			return -EINVAL;
		switch (f) {
		case 1:
			if (pb_read_u32(&r, wt, &kind) < 0)
				return -EINVAL;
			has_kind = true;
			break;
		case 2:
			if (wt != PB_LEN || pb_read_bytes(&r, &s, &n) < 0 ||
			    memchr(s, '\0', n) != NULL)
				return -EINVAL;
			/* The offset of the path in the arena, for now. */
			op.path = (const char *)(uintptr_t)d->paths.len;
			buf_add(&d->paths, s, n);
			buf_add(&d->paths, "", 1);
			has_path = true;
			break;
		case 3:
			if (wt != PB_LEN || pb_read_bytes(&r, &s, &n) < 0)
				return -EINVAL;
			op.value = s;
			op.len = (uint32_t)n;
			break;
		case 4:
			if (wt != PB_LEN || pb_read_bytes(&r, &s, &n) < 0 ||
			    wal_dec_perm(d, s, n) < 0)
				return -EINVAL;
			break;
		case 5:
			if (pb_read_u32(&r, wt, &q) < 0)
				return -EINVAL;
			op.quiet = q != 0;
			break;
		default:
			if (pb_skip(&r, wt) < 0)
				return -EINVAL;
		}
	}
	if (!has_kind || !has_path)
		return -EINVAL;
	if (kind == 1) {
		op.kind = STORE_OP_DEL;
		op.value = NULL;
		op.len = 0;
		d->nperms = first_perm;
	} else if (kind == 0) {
		op.kind = STORE_OP_PUT;
		if (op.value == NULL)
			op.value = "";
		op.nperms = d->nperms - first_perm;
		if (op.nperms == 0)
			return -EINVAL;
		op.perms = (const struct store_perm *)(uintptr_t)first_perm;
	} else {
		return -EINVAL;
	}
	if (d->nops == d->capops) {
		d->capops = d->capops ? d->capops * 2 : 8;
		d->ops = xrealloc(d->ops, d->capops * sizeof(*d->ops));
	}
	d->ops[d->nops++] = op;
	return 0;
}

int
wal_decode_mutation(const void *payload, uint32_t len,
		    int (*fn)(void *arg, const struct store_mutation *m),
		    void *arg)
{
	struct pb_reader r = { payload, (const uint8_t *)payload + len };
	struct wal_dec d = { 0 };
	struct store_mutation m = { 0 };
	bool has_domid = false;
	int rc = 0;

	while (rc == 0 && r.p < r.end) {
		uint32_t f, wt;
		const uint8_t *s;
		size_t n;

		rc = pb_read_tag(&r, &f, &wt);
		if (rc < 0)
			break;
		if (f == 1) {
			rc = pb_read_u32(&r, wt, &m.domid);
			has_domid = true;
		} else if (f == 2) {
			rc = wt == PB_LEN ? pb_read_bytes(&r, &s, &n) : -EINVAL;
			if (rc == 0)
				rc = wal_dec_op(&d, s, n);
		} else {
			rc = pb_skip(&r, wt);
		}
	}
	if (rc == 0 && !has_domid)
		rc = -EINVAL;
	if (rc == 0) {
		/* The arrays have stopped moving: turn indexes into pointers. */
		for (uint32_t i = 0; i < d.nops; i++) {
			d.ops[i].path = d.paths.data + (uintptr_t)d.ops[i].path;
			if (d.ops[i].kind == STORE_OP_PUT)
				d.ops[i].perms = d.perms +
						 (uintptr_t)d.ops[i].perms;
		}
		m.nops = d.nops;
		m.ops = d.ops;
		rc = fn(arg, &m);
	}
	free(d.ops);
	free(d.perms);
	buf_free(&d.paths);
	return rc < 0 ? rc : 0;
}

static int
wal_apply_decoded(void *arg, const struct store_mutation *m)
{
	return store_apply(arg, m);
}

int
wal_apply_mutation(struct store *s, const void *payload, uint32_t len)
{
	int rc = wal_decode_mutation(payload, len, wal_apply_decoded, s);

	return rc < 0 ? -EINVAL : 0;
}

void
wal_encode_quota(const struct wal_quota *q, struct buf *out)
{
	Lxs__QuotaChange msg = LXS__QUOTA_CHANGE__INIT;
	size_t size;

	msg.has_domid = !q->global;
	msg.domid = q->domid;
	msg.name = (char *)q->name;
	msg.value = q->value;
	msg.has_soft = q->soft;
	msg.soft = q->soft;
	size = lxs__quota_change__get_packed_size(&msg);
	lxs__quota_change__pack(&msg, (uint8_t *)buf_reserve(out, size));
	out->len += size;
}

int
wal_decode_quota(const void *payload, uint32_t len, struct wal_quota *q,
		 char *name, size_t name_size)
{
	struct pb_reader r = { payload, (const uint8_t *)payload + len };
	bool has_name = false, has_value = false;
	uint32_t soft = 0;

	memset(q, 0, sizeof(*q));
	q->global = true;
	while (r.p < r.end) {
		const uint8_t *v;
		uint32_t f, wt;
		size_t n;

		if (pb_read_tag(&r, &f, &wt) < 0)
			return -EINVAL;
		switch (f) {
		case 1:
			if (pb_read_u32(&r, wt, &q->domid) < 0)
				return -EINVAL;
			q->global = false;
			break;
		case 2:
			if (wt != PB_LEN || pb_read_bytes(&r, &v, &n) < 0 ||
			    n >= name_size || memchr(v, '\0', n) != NULL)
				return -EINVAL;
			memcpy(name, v, n);
			name[n] = '\0';
			has_name = true;
			break;
		case 3:
			if (pb_read_u32(&r, wt, &q->value) < 0)
				return -EINVAL;
			has_value = true;
			break;
		case 4:
			if (pb_read_u32(&r, wt, &soft) < 0)
				return -EINVAL;
			break;
		default:
			if (pb_skip(&r, wt) < 0)
				return -EINVAL;
		}
	}
	if (!has_name || !has_value)
		return -EINVAL;
	q->name = name;
	q->soft = soft != 0;
	return 0;
}

int
wal_apply_quota(struct store *s, const void *payload, uint32_t len)
{
	struct wal_quota q;
	char name[64];
	int idx;

	if (wal_decode_quota(payload, len, &q, name, sizeof(name)) < 0)
		return -EINVAL;
	idx = store_quota_lookup(q.name);
	if (idx < 0)
		return -EINVAL;
	return store_quota_set(s, q.global ? STORE_DOMID_GLOBAL : q.domid,
			       (enum store_quota)idx, q.soft, q.value);
}
