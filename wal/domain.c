/*
 * Domain records: the guest domains a restarted daemon must serve again,
 * as plain structs (struct wal_domain), their log record
 * (WAL_REC_DOMAIN, lxs.DomainChange) and their snapshot form (lxs.Domain),
 * and the table that replay, the live daemon and snapshots share
 * (struct wal_domtab). The same wal_domtab_change applies a change live
 * and at replay, so a snapshot of the live table and a replay of the log
 * cannot disagree.
 *
 * These records are rare (one per domain operation or guest watch), so
 * protobuf-c packs and unpacks them; its unpacker refuses a message with
 * a required field missing, which is what a corrupt record looks like.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wal/wal.h"
#include "wal/wal.pb-c.h"

/* A reply is at least a message header. */
#define WAL_REPLY_MIN		16u
/* A partial message is less than a whole one (header + 4096). */
#define WAL_PARTIAL_MAX		(16u + 4096u)

struct wal_domtab {
	struct wal_domain *v;		/* sorted by domid */
	uint32_t n, cap;
};

/* ---- plain records ------------------------------------------------------ */

static void
wal_watch_set(struct wal_watch *w, const char *path, const char *token,
	      int depth)
{
	w->path = xstrdup(path);
	w->token = xstrdup(token);
	w->depth = depth;
}

static void
wal_watch_release(struct wal_watch *w)
{
	free(w->path);
	free(w->token);
}

void
wal_replies_drop(struct wal_reply *v, uint32_t *n, uint32_t k)
{
	if (k == 0)
		return;
	for (uint32_t i = 0; i < k; i++)
		free(v[i].data);
	memmove(v, v + k, (*n - k) * sizeof(*v));
	*n -= k;
}

static void
wal_domain_drop_replies(struct wal_domain *d, uint32_t n)
{
	wal_replies_drop(d->replies, &d->nreplies, n);
}

/* Replaces the message going out in pieces with a copy of r (or none). */
static void
wal_domain_set_out(struct wal_domain *d, const struct wal_reply *r)
{
	if (d->out) {
		free(d->out->data);
		free(d->out);
		d->out = NULL;
	}
	if (r == NULL)
		return;
	d->out = xmalloc(sizeof(*d->out));
	*d->out = *r;
	d->out->data = xmalloc(r->len);
	memcpy(d->out->data, r->data, r->len);
}

void
wal_domain_release(struct wal_domain *d)
{
	for (uint32_t i = 0; i < d->nwatches; i++)
		wal_watch_release(&d->watches[i]);
	free(d->watches);
	d->watches = NULL;
	d->nwatches = 0;
	wal_domain_drop_replies(d, d->nreplies);
	free(d->replies);
	d->replies = NULL;
	free(d->partial);
	d->partial = NULL;
	d->partial_len = 0;
	wal_domain_set_out(d, NULL);
}

static void
wal_domain_set_partial(struct wal_domain *d, uint32_t end, const void *data,
		       uint32_t len)
{
	free(d->partial);
	d->partial = NULL;
	d->partial_len = 0;
	d->partial_end = end;
	if (len == 0)
		return;
	d->partial = xmalloc(len);
	memcpy(d->partial, data, len);
	d->partial_len = len;
}

/* Appends a copy of n; the ones a window or more behind it are dropped. */
static void
wal_domain_add_reply(struct wal_domain *d, const struct wal_reply *n)
{
	uint32_t old = 0;
	struct wal_reply *r;

	while (old < d->nreplies &&
	       n->req_end - d->replies[old].req_end >= WAL_RING_WINDOW)
		old++;
	wal_domain_drop_replies(d, old);
	d->replies = xrealloc(d->replies,
			      (d->nreplies + 1) * sizeof(*d->replies));
	r = &d->replies[d->nreplies++];
	*r = *n;
	r->data = xmalloc(n->len);
	memcpy(r->data, n->data, n->len);
}

/* A wal_reply borrowing from an lxs.RingReply. */
static struct wal_reply
wal_reply_from_msg(const Lxs__RingReply *m)
{
	struct wal_reply r = {
		.req_end = m->req_end, .len = (uint32_t)m->reply.len,
		.data = m->reply.data, .has_rsp_end = m->has_rsp_end,
		.rsp_end = m->rsp_end,
	};

	return r;
}

/* m borrowing from r. */
static void
wal_reply_to_msg(const struct wal_reply *r, Lxs__RingReply *m)
{
	lxs__ring_reply__init(m);
	m->req_end = r->req_end;
	m->reply.data = r->data;
	m->reply.len = r->len;
	m->has_rsp_end = r->has_rsp_end;
	m->rsp_end = r->rsp_end;
}

static void
wal_domain_add_watch(struct wal_domain *d, const char *path,
		     const char *token, int depth)
{
	d->watches = xrealloc(d->watches,
			      (d->nwatches + 1) * sizeof(*d->watches));
	wal_watch_set(&d->watches[d->nwatches++], path, token, depth);
}

static int
wal_domain_find_watch(const struct wal_domain *d, const char *path,
		      const char *token)
{
	for (uint32_t i = 0; i < d->nwatches; i++)
		if (strcmp(d->watches[i].path, path) == 0 &&
		    strcmp(d->watches[i].token, token) == 0)
			return (int)i;
	return -1;
}

/* ---- protobuf-c messages -------------------------------------------------- */

static bool
wal_handle_unknown(const uint8_t *h)
{
	static const uint8_t zero[16];

	return memcmp(h, zero, sizeof(zero)) == 0;
}

/* Room for the submessages of one lxs.Domain being packed. */
struct wal_domain_pb {
	Lxs__Watch *ws;
	Lxs__Watch **wps;
	Lxs__RingReply *rs;
	Lxs__RingReply **rps;
	Lxs__RingPartial part;
	Lxs__RingReply out;
};

/* msg and its parts point into d and pb (borrowed for a pack). */
static void
wal_domain_to_msg(const struct wal_domain *d, Lxs__Domain *msg,
		  struct wal_domain_pb *pb)
{
	Lxs__Watch *ws = pb ? pb->ws : NULL;
	Lxs__Watch **wps = pb ? pb->wps : NULL;

	lxs__domain__init(msg);
	msg->domid = d->domid;
	msg->has_introduced = d->introduced;
	msg->introduced = d->introduced;
	msg->has_gfn = true;
	msg->gfn = d->gfn;
	msg->has_remote_port = true;
	msg->remote_port = d->remote_port;
	msg->has_features = true;
	msg->features = d->features;
	msg->has_target = d->target != LXS_DOMID_INVALID;
	msg->target = d->target;
	msg->has_shutdown = d->shutdown;
	msg->shutdown = d->shutdown;
	if (!wal_handle_unknown(d->handle)) {
		msg->has_handle = true;
		msg->handle.data = (uint8_t *)d->handle;
		msg->handle.len = sizeof(d->handle);
	}
	if (pb == NULL)
		return;
	for (uint32_t i = 0; i < d->nreplies; i++) {
		wal_reply_to_msg(&d->replies[i], &pb->rs[i]);
		pb->rps[i] = &pb->rs[i];
	}
	if (d->out) {
		wal_reply_to_msg(d->out, &pb->out);
		msg->out = &pb->out;
	}
	msg->n_replies = d->nreplies;
	msg->replies = pb->rps;
	if (d->partial) {
		lxs__ring_partial__init(&pb->part);
		pb->part.end = d->partial_end;
		pb->part.data.data = d->partial;
		pb->part.data.len = d->partial_len;
		msg->partial = &pb->part;
	}
	for (uint32_t i = 0; i < d->nwatches; i++) {
		lxs__watch__init(&ws[i]);
		ws[i].path = d->watches[i].path;
		ws[i].token = d->watches[i].token;
		ws[i].has_depth = d->watches[i].depth >= 0;
		ws[i].depth = d->watches[i].depth;
		wps[i] = &ws[i];
	}
	msg->n_watches = d->nwatches;
	msg->watches = wps;
}

static int
wal_domain_from_msg(const Lxs__Domain *msg, struct wal_domain *d)
{
	memset(d, 0, sizeof(*d));
	d->domid = msg->domid;
	d->introduced = msg->introduced;
	d->gfn = msg->gfn;
	d->remote_port = msg->remote_port;
	d->features = msg->features;
	d->target = msg->has_target ? msg->target : LXS_DOMID_INVALID;
	d->shutdown = msg->shutdown;
	if (msg->has_handle && msg->handle.len == sizeof(d->handle))
		memcpy(d->handle, msg->handle.data, sizeof(d->handle));
	for (size_t i = 0; i < msg->n_watches; i++) {
		const Lxs__Watch *w = msg->watches[i];

		if (wal_domain_find_watch(d, w->path, w->token) >= 0) {
			wal_domain_release(d);
			return -EINVAL;
		}
		wal_domain_add_watch(d, w->path, w->token,
				     w->has_depth && w->depth >= 0 ?
				     w->depth : -1);
	}
	for (size_t i = 0; i < msg->n_replies; i++) {
		struct wal_reply r = wal_reply_from_msg(msg->replies[i]);

		if (r.len < WAL_REPLY_MIN) {
			wal_domain_release(d);
			return -EINVAL;
		}
		wal_domain_add_reply(d, &r);
	}
	if (msg->out) {
		struct wal_reply r = wal_reply_from_msg(msg->out);

		if (r.len < WAL_REPLY_MIN || !r.has_rsp_end) {
			wal_domain_release(d);
			return -EINVAL;
		}
		wal_domain_set_out(d, &r);
	}
	if (msg->partial && msg->partial->data.len)
		wal_domain_set_partial(d, msg->partial->end,
				       msg->partial->data.data,
				       (uint32_t)msg->partial->data.len);
	return 0;
}

void
wal_encode_domain(const struct wal_domain *d, struct buf *out)
{
	struct wal_domain_pb pb = {
		.ws = xcalloc(d->nwatches + 1, sizeof(*pb.ws)),
		.wps = xcalloc(d->nwatches + 1, sizeof(*pb.wps)),
		.rs = xcalloc(d->nreplies + 1, sizeof(*pb.rs)),
		.rps = xcalloc(d->nreplies + 1, sizeof(*pb.rps)),
	};
	Lxs__Domain msg;
	size_t size;

	wal_domain_to_msg(d, &msg, &pb);
	size = lxs__domain__get_packed_size(&msg);
	lxs__domain__pack(&msg, (uint8_t *)buf_reserve(out, size));
	out->len += size;
	free(pb.ws);
	free(pb.wps);
	free(pb.rs);
	free(pb.rps);
}

int
wal_decode_domain(const void *payload, uint32_t len, struct wal_domain *out)
{
	Lxs__Domain *msg = lxs__domain__unpack(NULL, len, payload);
	int rc;

	if (msg == NULL)
		return -EINVAL;
	rc = wal_domain_from_msg(msg, out);
	lxs__domain__free_unpacked(msg, NULL);
	return rc;
}

void
wal_encode_domain_change(const struct wal_domain_change *ch, struct buf *out)
{
	Lxs__DomainChange msg = LXS__DOMAIN_CHANGE__INIT;
	Lxs__Domain dom;
	Lxs__Watch w = LXS__WATCH__INIT;
	Lxs__RingReply rr = LXS__RING_REPLY__INIT;
	Lxs__RingPartial rp = LXS__RING_PARTIAL__INIT;
	size_t size;

	msg.kind = (Lxs__DomainChange__Kind)ch->kind;
	msg.domid = ch->domid;
	if (ch->kind == WAL_DOMAIN_SET) {
		wal_domain_to_msg(ch->dom, &dom, NULL);
		msg.domain = &dom;
	}
	if (ch->kind == WAL_DOMAIN_WATCH || ch->kind == WAL_DOMAIN_UNWATCH) {
		w.path = (char *)ch->path;
		w.token = (char *)ch->token;
		w.has_depth = ch->depth >= 0;
		w.depth = ch->depth;
		msg.watch = &w;
	}
	if (ch->kind == WAL_DOMAIN_RING_REPLY ||
	    ch->kind == WAL_DOMAIN_RING_OUT) {
		rr.req_end = ch->req_end;
		rr.reply.data = (uint8_t *)ch->reply;
		rr.reply.len = ch->reply_len;
		rr.has_rsp_end = ch->has_rsp_end ||
				 ch->kind == WAL_DOMAIN_RING_OUT;
		rr.rsp_end = ch->rsp_end;
		msg.reply = &rr;
	}
	if (ch->kind == WAL_DOMAIN_RING_PARTIAL) {
		rp.end = ch->req_end;
		rp.data.data = (uint8_t *)ch->partial;
		rp.data.len = ch->partial_len;
		rp.has_first = ch->partial_more;
		rp.first = !ch->partial_more;
		msg.partial = &rp;
	}
	size = lxs__domain_change__get_packed_size(&msg);
	lxs__domain_change__pack(&msg, (uint8_t *)buf_reserve(out, size));
	out->len += size;
}

int
wal_decode_domain_change(const void *payload, uint32_t len,
			 int (*fn)(void *arg,
				   const struct wal_domain_change *ch),
			 void *arg)
{
	Lxs__DomainChange *msg;
	struct wal_domain_change ch = { .depth = -1 };
	struct wal_domain dom = { 0 };
	int rc = -EINVAL;

	msg = lxs__domain_change__unpack(NULL, len, payload);
	if (msg == NULL)
		return -EINVAL;
	ch.kind = (enum wal_domain_kind)msg->kind;
	ch.domid = msg->domid;
	switch (msg->kind) {
	case LXS__DOMAIN_CHANGE__KIND__SET:
		if (msg->domain == NULL || msg->domain->domid != msg->domid)
			goto out;
		/* A change carries no watches: they come one by one. */
		if (wal_domain_from_msg(msg->domain, &dom) < 0)
			goto out;
		wal_domain_release(&dom);
		ch.dom = &dom;
		break;
	case LXS__DOMAIN_CHANGE__KIND__WATCH:
	case LXS__DOMAIN_CHANGE__KIND__UNWATCH:
		if (msg->watch == NULL)
			goto out;
		ch.path = msg->watch->path;
		ch.token = msg->watch->token;
		if (msg->watch->has_depth && msg->watch->depth >= 0)
			ch.depth = msg->watch->depth;
		break;
	case LXS__DOMAIN_CHANGE__KIND__RING_REPLY:
	case LXS__DOMAIN_CHANGE__KIND__RING_OUT:
		if (msg->reply == NULL || msg->reply->reply.len < WAL_REPLY_MIN ||
		    (msg->kind == LXS__DOMAIN_CHANGE__KIND__RING_OUT &&
		     !msg->reply->has_rsp_end))
			goto out;
		ch.req_end = msg->reply->req_end;
		ch.reply = msg->reply->reply.data;
		ch.reply_len = (uint32_t)msg->reply->reply.len;
		ch.has_rsp_end = msg->reply->has_rsp_end;
		ch.rsp_end = msg->reply->rsp_end;
		break;
	case LXS__DOMAIN_CHANGE__KIND__RING_PARTIAL:
		if (msg->partial == NULL || msg->partial->data.len == 0)
			goto out;
		ch.req_end = msg->partial->end;
		ch.partial = msg->partial->data.data;
		ch.partial_len = (uint32_t)msg->partial->data.len;
		ch.partial_more = !msg->partial->first;
		break;
	case LXS__DOMAIN_CHANGE__KIND__RELEASE:
	case LXS__DOMAIN_CHANGE__KIND__RESET_WATCHES:
	case LXS__DOMAIN_CHANGE__KIND__RING_RESET:
		break;
	default:
		goto out;
	}
	rc = fn(arg, &ch);
out:
	lxs__domain_change__free_unpacked(msg, NULL);
	return rc;
}

const char *
wal_domain_kind_name(enum wal_domain_kind k)
{
	switch (k) {
	case WAL_DOMAIN_SET:
		return "set";
	case WAL_DOMAIN_RELEASE:
		return "release";
	case WAL_DOMAIN_WATCH:
		return "watch";
	case WAL_DOMAIN_UNWATCH:
		return "unwatch";
	case WAL_DOMAIN_RESET_WATCHES:
		return "reset-watches";
	case WAL_DOMAIN_RING_REPLY:
		return "ring-reply";
	case WAL_DOMAIN_RING_RESET:
		return "ring-reset";
	case WAL_DOMAIN_RING_PARTIAL:
		return "ring-partial";
	case WAL_DOMAIN_RING_OUT:
		return "ring-out";
	}
	return "?";
}

/* ---- the table ------------------------------------------------------------ */

struct wal_domtab *
wal_domtab_new(void)
{
	return xcalloc(1, sizeof(struct wal_domtab));
}

void
wal_domtab_free(struct wal_domtab *t)
{
	if (t == NULL)
		return;
	for (uint32_t i = 0; i < t->n; i++)
		wal_domain_release(&t->v[i]);
	free(t->v);
	free(t);
}

uint32_t
wal_domtab_count(const struct wal_domtab *t)
{
	return t ? t->n : 0;
}

const struct wal_domain *
wal_domtab_at(const struct wal_domtab *t, uint32_t i)
{
	return i < wal_domtab_count(t) ? &t->v[i] : NULL;
}

/* The index of domid, or where it would go (*found false). */
static uint32_t
wal_domtab_pos(const struct wal_domtab *t, uint32_t domid, bool *found)
{
	uint32_t lo = 0, hi = t->n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (t->v[mid].domid < domid)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < t->n && t->v[lo].domid == domid;
	return lo;
}

const struct wal_domain *
wal_domtab_find(const struct wal_domtab *t, uint32_t domid)
{
	bool found;
	uint32_t i = wal_domtab_pos(t, domid, &found);

	return found ? &t->v[i] : NULL;
}

/* The record of domid, inserted empty if new. */
static struct wal_domain *
wal_domtab_slot(struct wal_domtab *t, uint32_t domid)
{
	bool found;
	uint32_t i = wal_domtab_pos(t, domid, &found);

	if (found)
		return &t->v[i];
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 8;
		t->v = xrealloc(t->v, t->cap * sizeof(*t->v));
	}
	memmove(&t->v[i + 1], &t->v[i], (t->n - i) * sizeof(*t->v));
	memset(&t->v[i], 0, sizeof(t->v[i]));
	t->v[i].domid = domid;
	t->v[i].target = LXS_DOMID_INVALID;
	t->n++;
	return &t->v[i];
}

static void
wal_domtab_remove(struct wal_domtab *t, struct wal_domain *d)
{
	uint32_t i = (uint32_t)(d - t->v);

	wal_domain_release(d);
	memmove(&t->v[i], &t->v[i + 1], (t->n - i - 1) * sizeof(*t->v));
	t->n--;
}

int
wal_domtab_put(struct wal_domtab *t, const struct wal_domain *d)
{
	bool found;
	struct wal_domain *slot;

	wal_domtab_pos(t, d->domid, &found);
	if (found)
		return -EEXIST;
	slot = wal_domtab_slot(t, d->domid);
	*slot = *d;
	slot->watches = NULL;
	slot->nwatches = 0;
	slot->replies = NULL;
	slot->nreplies = 0;
	slot->partial = NULL;
	slot->out = NULL;
	wal_domain_set_partial(slot, d->partial_end, d->partial,
			       d->partial_len);
	wal_domain_set_out(slot, d->out);
	for (uint32_t i = 0; i < d->nwatches; i++)
		wal_domain_add_watch(slot, d->watches[i].path,
				     d->watches[i].token, d->watches[i].depth);
	for (uint32_t i = 0; i < d->nreplies; i++)
		wal_domain_add_reply(slot, &d->replies[i]);
	return 0;
}

int
wal_domtab_change(struct wal_domtab *t, const struct wal_domain_change *ch)
{
	bool found;
	uint32_t i = wal_domtab_pos(t, ch->domid, &found);
	struct wal_domain *d = found ? &t->v[i] : NULL;
	struct wal_reply r;
	int w;

	if (ch->kind == WAL_DOMAIN_SET) {
		struct wal_domain *slot, keep;

		if (ch->dom == NULL || ch->dom->domid != ch->domid)
			return -EINVAL;
		slot = wal_domtab_slot(t, ch->domid);
		keep = *slot;
		*slot = *ch->dom;
		slot->watches = keep.watches;
		slot->nwatches = keep.nwatches;
		slot->replies = keep.replies;
		slot->nreplies = keep.nreplies;
		slot->partial = keep.partial;
		slot->partial_len = keep.partial_len;
		slot->partial_end = keep.partial_end;
		slot->out = keep.out;
		return 0;
	}
	/* Everything else concerns a domain the table has. */
	if (d == NULL)
		return -EINVAL;
	switch (ch->kind) {
	case WAL_DOMAIN_RELEASE:
		wal_domtab_remove(t, d);
		return 0;
	case WAL_DOMAIN_WATCH:
		if (ch->path == NULL || ch->token == NULL ||
		    wal_domain_find_watch(d, ch->path, ch->token) >= 0)
			return -EINVAL;
		wal_domain_add_watch(d, ch->path, ch->token, ch->depth);
		return 0;
	case WAL_DOMAIN_UNWATCH:
		w = ch->path && ch->token ?
		    wal_domain_find_watch(d, ch->path, ch->token) : -1;
		if (w < 0)
			return -EINVAL;
		wal_watch_release(&d->watches[w]);
		memmove(&d->watches[w], &d->watches[w + 1],
			(d->nwatches - (uint32_t)w - 1) * sizeof(*d->watches));
		d->nwatches--;
		return 0;
	case WAL_DOMAIN_RESET_WATCHES:
		for (uint32_t j = 0; j < d->nwatches; j++)
			wal_watch_release(&d->watches[j]);
		d->nwatches = 0;
		return 0;
	case WAL_DOMAIN_RING_REPLY:
	case WAL_DOMAIN_RING_OUT:
		if (ch->reply == NULL || ch->reply_len < WAL_REPLY_MIN)
			return -EINVAL;
		r = (struct wal_reply){
			.req_end = ch->req_end, .len = ch->reply_len,
			.data = (uint8_t *)ch->reply,
			.has_rsp_end = ch->has_rsp_end ||
				       ch->kind == WAL_DOMAIN_RING_OUT,
			.rsp_end = ch->rsp_end,
		};
		if (ch->kind == WAL_DOMAIN_RING_OUT)
			wal_domain_set_out(d, &r);
		else
			wal_domain_add_reply(d, &r);
		return 0;
	case WAL_DOMAIN_RING_RESET:
		wal_domain_drop_replies(d, d->nreplies);
		wal_domain_set_partial(d, 0, NULL, 0);
		wal_domain_set_out(d, NULL);
		return 0;
	case WAL_DOMAIN_RING_PARTIAL:
		if (ch->partial == NULL || ch->partial_len == 0)
			return -EINVAL;
		if (!ch->partial_more) {
			wal_domain_set_partial(d, ch->req_end, ch->partial,
					       ch->partial_len);
			return 0;
		}
		if (d->partial == NULL ||
		    d->partial_end != ch->req_end - ch->partial_len ||
		    d->partial_len + ch->partial_len > WAL_PARTIAL_MAX)
			return -EINVAL;
		d->partial = xrealloc(d->partial,
				      d->partial_len + ch->partial_len);
		memcpy(d->partial + d->partial_len, ch->partial,
		       ch->partial_len);
		d->partial_len += ch->partial_len;
		d->partial_end = ch->req_end;
		return 0;
	default:
		return -EINVAL;
	}
}

static int
wal_domtab_apply_decoded(void *arg, const struct wal_domain_change *ch)
{
	return wal_domtab_change(arg, ch);
}

int
wal_domtab_apply(struct wal_domtab *t, const void *payload, uint32_t len)
{
	int rc = wal_decode_domain_change(payload, len,
					  wal_domtab_apply_decoded, t);

	return rc < 0 ? -EINVAL : 0;
}

int
wal_apply_frame(struct store *s, struct wal_domtab *doms,
		const struct wal_frame *f)
{
	int rc;

	switch (f->type) {
	case WAL_REC_MUTATION:
		rc = wal_apply_mutation(s, f->payload, f->len);
		break;
	case WAL_REC_QUOTA:
		rc = wal_apply_quota(s, f->payload, f->len);
		break;
	case WAL_REC_DOMAIN:
		rc = wal_domtab_apply(doms, f->payload, f->len);
		break;
	default:
		rc = -EBADMSG;
	}
	/* store_apply applies a record whole or not at all. */
	return rc < 0 ? -EBADMSG : 0;
}
