/*
 * Record payloads: store mutations and quota changes to and from their
 * protobuf-c messages (wal/wal.proto).
 */
#include <errno.h>
#include <string.h>

#include "wal/wal.h"
#include "wal/wal.pb-c.h"

void
wal_encode_mutation(const struct store_mutation *m, struct buf *out)
{
	Lxs__Mutation msg = LXS__MUTATION__INIT;
	Lxs__Op *ops = xcalloc(m->nops, sizeof(*ops));
	Lxs__Op **opp = xcalloc(m->nops, sizeof(*opp));
	uint32_t nperms = 0, k = 0;
	Lxs__Perm *perms;
	Lxs__Perm **permp;
	size_t size;

	for (uint32_t i = 0; i < m->nops; i++)
		nperms += m->ops[i].nperms;
	perms = xcalloc(nperms, sizeof(*perms));
	permp = xcalloc(nperms, sizeof(*permp));
	msg.domid = m->domid;
	msg.n_ops = m->nops;
	msg.ops = opp;
	for (uint32_t i = 0; i < m->nops; i++) {
		const struct store_op *op = &m->ops[i];
		Lxs__Op *o = &ops[i];

		lxs__op__init(o);
		opp[i] = o;
		o->kind = op->kind == STORE_OP_PUT ? LXS__OP__KIND__PUT
						   : LXS__OP__KIND__DEL;
		o->path = (char *)op->path;
		if (op->kind != STORE_OP_PUT)
			continue;
		o->has_value = true;
		o->value.data = (uint8_t *)op->value;
		o->value.len = op->len;
		o->has_quiet = op->quiet;
		o->quiet = op->quiet;
		o->n_perms = op->nperms;
		o->perms = &permp[k];
		for (uint32_t j = 0; j < op->nperms; j++, k++) {
			lxs__perm__init(&perms[k]);
			perms[k].domid = op->perms[j].domid;
			perms[k].bits = op->perms[j].bits;
			permp[k] = &perms[k];
		}
	}
	size = lxs__mutation__get_packed_size(&msg);
	lxs__mutation__pack(&msg, (uint8_t *)buf_reserve(out, size));
	out->len += size;
	free(permp);
	free(perms);
	free(opp);
	free(ops);
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
