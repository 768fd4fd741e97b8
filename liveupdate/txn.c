/*
 * Open transactions in the handover: deep copies of struct
 * store_txn_state (store.h) and their lxslu.Txn encoding. The entries and
 * ops are data only; store_txn_import rebinds them to the new tree.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "liveupdate/lu-int.h"

static void *
lu_memdup(const void *p, size_t len)
{
	void *q = xmalloc(len ? len : 1);

	if (len)
		memcpy(q, p, len);
	return q;
}

/* A copy of a store_op or store_txn_ent's owned parts. */
static void
lu_copy_data(const void **value, uint32_t len,
	     const struct store_perm **perms, uint32_t nperms)
{
	*value = *value ? lu_memdup(*value, len) : NULL;
	*perms = lu_memdup(*perms, nperms * sizeof(**perms));
}

void
lu_conn_add_txn(struct lu_conn *c, const struct store_txn_state *t)
{
	struct store_txn_state *n;

	c->txns = xrealloc(c->txns, (c->ntxns + 1) * sizeof(*n));
	n = &c->txns[c->ntxns++];
	*n = *t;
	n->ents = lu_memdup(t->ents, t->nents * sizeof(*t->ents));
	for (uint32_t i = 0; i < t->nents; i++) {
		struct store_txn_ent *e = &n->ents[i];

		e->path = xstrdup(e->path);
		lu_copy_data(&e->value, e->len, &e->perms, e->nperms);
	}
	n->ops = lu_memdup(t->ops, t->nops * sizeof(*t->ops));
	for (uint32_t i = 0; i < t->nops; i++) {
		struct store_op *o = &n->ops[i];

		o->path = xstrdup(o->path);
		lu_copy_data(&o->value, o->len, &o->perms, o->nperms);
	}
}

void
lu_txn_release(struct store_txn_state *t)
{
	for (uint32_t i = 0; i < t->nents; i++) {
		free((char *)t->ents[i].path);
		free((void *)t->ents[i].value);
		free((void *)t->ents[i].perms);
	}
	for (uint32_t i = 0; i < t->nops; i++) {
		free((char *)t->ops[i].path);
		free((void *)t->ops[i].value);
		free((void *)t->ops[i].perms);
	}
	free(t->ents);
	free(t->ops);
}

/* ---- encoding ------------------------------------------------------------ */

static Lxslu__Perm **
lu_encode_perms(const struct store_perm *p, uint32_t n)
{
	Lxslu__Perm **v = xcalloc(n ? n : 1, sizeof(*v));

	for (uint32_t i = 0; i < n; i++) {
		v[i] = xmalloc(sizeof(**v));
		lxslu__perm__init(v[i]);
		v[i]->domid = p[i].domid;
		v[i]->bits = p[i].bits;
	}
	return v;
}

static void
lu_free_perms(Lxslu__Perm **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static Lxslu__Txn *
lu_encode_txn(const struct store_txn_state *t)
{
	Lxslu__Txn *m = xmalloc(sizeof(*m));

	lxslu__txn__init(m);
	m->id = t->id;
	m->has_doomed = t->doomed;
	m->doomed = t->doomed;
	m->has_failed = t->failed != 0;
	m->failed = t->failed;
	m->has_node_delta = t->node_delta != 0;
	m->node_delta = t->node_delta;
	m->n_entries = t->nents;
	m->entries = xcalloc(t->nents ? t->nents : 1, sizeof(*m->entries));
	for (uint32_t i = 0; i < t->nents; i++) {
		const struct store_txn_ent *e = &t->ents[i];
		Lxslu__TxnEntry *me = xmalloc(sizeof(*me));

		lxslu__txn_entry__init(me);
		me->path = (char *)e->path;
		me->has_deps = true;
		me->deps = e->deps;
		me->has_seen = me->seen = e->seen;
		me->has_exists = me->exists = e->exists;
		me->has_fresh = me->fresh = e->fresh;
		me->has_value = e->exists;
		me->value.data = (uint8_t *)e->value;
		me->value.len = e->len;
		me->n_perms = e->nperms;
		me->perms = lu_encode_perms(e->perms, e->nperms);
		m->entries[i] = me;
	}
	m->n_ops = t->nops;
	m->ops = xcalloc(t->nops ? t->nops : 1, sizeof(*m->ops));
	for (uint32_t i = 0; i < t->nops; i++) {
		const struct store_op *o = &t->ops[i];
		Lxslu__TxnOp *mo = xmalloc(sizeof(*mo));

		lxslu__txn_op__init(mo);
		mo->del = o->kind == STORE_OP_DEL;
		mo->path = (char *)o->path;
		mo->has_value = o->kind == STORE_OP_PUT;
		mo->value.data = (uint8_t *)o->value;
		mo->value.len = o->len;
		mo->n_perms = o->nperms;
		mo->perms = lu_encode_perms(o->perms, o->nperms);
		mo->has_quiet = mo->quiet = o->quiet;
		m->ops[i] = mo;
	}
	return m;
}

void
lu_encode_txns(const struct lu_conn *c, Lxslu__Conn *m)
{
	m->has_next_txid = true;
	m->next_txid = c->next_txid;
	m->n_txns = c->ntxns;
	m->txns = xcalloc(c->ntxns ? c->ntxns : 1, sizeof(*m->txns));
	for (uint32_t i = 0; i < c->ntxns; i++)
		m->txns[i] = lu_encode_txn(&c->txns[i]);
}

void
lu_encode_txns_free(Lxslu__Conn *m)
{
	for (size_t i = 0; i < m->n_txns; i++) {
		Lxslu__Txn *t = m->txns[i];

		for (size_t j = 0; j < t->n_entries; j++) {
			lu_free_perms(t->entries[j]->perms,
				      t->entries[j]->n_perms);
			free(t->entries[j]);
		}
		for (size_t j = 0; j < t->n_ops; j++) {
			lu_free_perms(t->ops[j]->perms, t->ops[j]->n_perms);
			free(t->ops[j]);
		}
		free(t->entries);
		free(t->ops);
		free(t);
	}
	free(m->txns);
}

/* ---- decoding ------------------------------------------------------------ */

static struct store_perm *
lu_decode_perms(Lxslu__Perm **v, size_t n)
{
	struct store_perm *p = xcalloc(n ? n : 1, sizeof(*p));

	for (size_t i = 0; i < n; i++) {
		p[i].domid = v[i]->domid;
		p[i].bits = v[i]->bits;
	}
	return p;
}

static void
lu_decode_txn(const Lxslu__Txn *m, struct store_txn_state *t)
{
	memset(t, 0, sizeof(*t));
	t->id = m->id;
	t->doomed = m->doomed;
	t->failed = m->failed;
	t->node_delta = m->node_delta;
	t->nents = (uint32_t)m->n_entries;
	t->ents = xcalloc(t->nents ? t->nents : 1, sizeof(*t->ents));
	for (uint32_t i = 0; i < t->nents; i++) {
		const Lxslu__TxnEntry *me = m->entries[i];
		struct store_txn_ent *e = &t->ents[i];

		e->path = xstrdup(me->path);
		e->deps = me->deps;
		e->seen = me->seen;
		e->exists = me->exists;
		e->fresh = me->fresh;
		e->len = (uint32_t)me->value.len;
		e->value = lu_memdup(me->value.data, me->value.len);
		e->nperms = (uint32_t)me->n_perms;
		e->perms = lu_decode_perms(me->perms, me->n_perms);
	}
	t->nops = (uint32_t)m->n_ops;
	t->ops = xcalloc(t->nops ? t->nops : 1, sizeof(*t->ops));
	for (uint32_t i = 0; i < t->nops; i++) {
		const Lxslu__TxnOp *mo = m->ops[i];
		struct store_op *o = &t->ops[i];

		o->kind = mo->del ? STORE_OP_DEL : STORE_OP_PUT;
		o->path = xstrdup(mo->path);
		o->len = (uint32_t)mo->value.len;
		o->value = mo->del ? NULL :
			   lu_memdup(mo->value.data, mo->value.len);
		o->nperms = (uint32_t)mo->n_perms;
		o->perms = lu_decode_perms(mo->perms, mo->n_perms);
		o->quiet = mo->quiet;
	}
}

int
lu_decode_txns(const Lxslu__Conn *m, struct lu_conn *c)
{
	c->next_txid = m->next_txid;
	for (size_t i = 0; i < m->n_txns; i++)
		for (size_t j = 0; j < m->txns[i]->n_ops; j++)
			if (!m->txns[i]->ops[j]->del &&
			    m->txns[i]->ops[j]->n_perms == 0)
				return -EINVAL;
	c->txns = xcalloc(m->n_txns ? m->n_txns : 1, sizeof(*c->txns));
	for (size_t i = 0; i < m->n_txns; i++)
		lu_decode_txn(m->txns[i], &c->txns[c->ntxns++]);
	return 0;
}
