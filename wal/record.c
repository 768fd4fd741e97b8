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
pb_varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static unsigned char *
pb_varint(unsigned char *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	*p++ = (unsigned char)v;
	return p;
}

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
	unsigned char *p, *start;

	for (uint32_t i = 0; i < m->nops; i++) {
		size_t ol = pb_op_len(&m->ops[i]);

		total += 1 + pb_varint_len(ol) + ol;
	}
	p = start = (unsigned char *)buf_reserve(out, total);
	*p++ = 0x08;
	p = pb_varint(p, m->domid);
	for (uint32_t i = 0; i < m->nops; i++) {
		const struct store_op *op = &m->ops[i];
		size_t plen = strlen(op->path);

		*p++ = 0x12;
		p = pb_varint(p, pb_op_len(op));
		*p++ = 0x08;
		p = pb_varint(p, op->kind == STORE_OP_PUT ? 0 : 1);
		*p++ = 0x12;
		p = pb_varint(p, plen);
		memcpy(p, op->path, plen);
		p += plen;
		if (op->kind != STORE_OP_PUT)
			continue;
		*p++ = 0x1a;
		p = pb_varint(p, op->len);
		if (op->len)
			memcpy(p, op->value, op->len);
		p += op->len;
		for (uint32_t j = 0; j < op->nperms; j++) {
			*p++ = 0x22;
			p = pb_varint(p, pb_perm_len(&op->perms[j]));
			*p++ = 0x08;
			p = pb_varint(p, op->perms[j].domid);
			*p++ = 0x10;
			p = pb_varint(p, op->perms[j].bits);
		}
		if (op->quiet) {
			*p++ = 0x28;
			*p++ = 1;
		}
	}
	out->len += (size_t)(p - start);
}

int
wal_apply_mutation(struct store *s, const void *payload, uint32_t len)
{
	Lxs__Mutation *msg = lxs__mutation__unpack(NULL, len, payload);
	struct store_op *ops;
	struct store_perm *perms;
	uint32_t nperms = 0, k = 0;
	struct store_mutation m;
	int rc = 0;

	if (msg == NULL)
		return -EINVAL;
	for (size_t i = 0; i < msg->n_ops; i++)
		nperms += (uint32_t)msg->ops[i]->n_perms;
	ops = xcalloc(msg->n_ops, sizeof(*ops));
	perms = xcalloc(nperms, sizeof(*perms));
	for (size_t i = 0; i < msg->n_ops && rc == 0; i++) {
		const Lxs__Op *o = msg->ops[i];
		struct store_op *op = &ops[i];

		op->path = o->path;
		if (o->kind == LXS__OP__KIND__DEL) {
			op->kind = STORE_OP_DEL;
			continue;
		}
		if (o->kind != LXS__OP__KIND__PUT || o->n_perms == 0) {
			rc = -EINVAL;
			break;
		}
		op->kind = STORE_OP_PUT;
		op->value = o->has_value ? (const void *)o->value.data : "";
		op->len = o->has_value ? (uint32_t)o->value.len : 0;
		op->quiet = o->quiet;
		op->perms = &perms[k];
		op->nperms = (uint32_t)o->n_perms;
		for (size_t j = 0; j < o->n_perms; j++, k++) {
			perms[k].domid = o->perms[j]->domid;
			perms[k].bits = o->perms[j]->bits & STORE_PERM_BOTH;
		}
	}
	if (rc == 0) {
		m.domid = msg->domid;
		m.nops = (uint32_t)msg->n_ops;
		m.ops = ops;
		rc = store_apply(s, &m);
	}
	free(perms);
	free(ops);
	lxs__mutation__free_unpacked(msg, NULL);
	return rc;
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
wal_apply_quota(struct store *s, const void *payload, uint32_t len)
{
	Lxs__QuotaChange *msg = lxs__quota_change__unpack(NULL, len, payload);
	int q, rc;

	if (msg == NULL)
		return -EINVAL;
	q = store_quota_lookup(msg->name);
	rc = q < 0 ? q :
		     store_quota_set(s, msg->has_domid ? msg->domid :
							 STORE_DOMID_GLOBAL,
				     (enum store_quota)q, msg->soft, msg->value);
	lxs__quota_change__free_unpacked(msg, NULL);
	return rc;
}
