/*
 * Guest domains in the handover message (lxslu.Domain): plain records;
 * server/domain.c exports and adopts them (mapping, event channel).
 */
#include <stdlib.h>

#include "liveupdate/lu-int.h"

void
lu_encode_domains(const struct lu_state *st, Lxslu__Handover *m)
{
	m->n_domains = st->ndomains;
	m->domains = xcalloc(st->ndomains ? st->ndomains : 1,
			     sizeof(*m->domains));
	for (uint32_t i = 0; i < st->ndomains; i++) {
		const struct lu_domain *d = &st->domains[i];
		Lxslu__Domain *md = xmalloc(sizeof(*md));

		lxslu__domain__init(md);
		md->domid = d->domid;
		md->has_target = md->has_features = md->has_introduced = true;
		md->has_priv = md->has_shutdown = md->has_gfn = true;
		md->has_remote_port = md->has_local_port = true;
		md->has_error = md->has_resets = true;
		md->target = d->target;
		md->features = d->features;
		md->introduced = d->introduced;
		md->priv = d->priv;
		md->shutdown = d->shutdown;
		md->gfn = d->gfn;
		md->remote_port = d->remote_port;
		md->local_port = d->local_port;
		md->error = d->error;
		md->resets = d->resets;
		md->has_rd_cons = d->has_rd_cons;
		md->rd_cons = d->rd_cons;
		m->domains[i] = md;
	}
}

void
lu_encode_domains_free(Lxslu__Handover *m)
{
	for (size_t i = 0; i < m->n_domains; i++)
		free(m->domains[i]);
	free(m->domains);
}

void
lu_decode_domains(const Lxslu__Handover *m, struct lu_state *st)
{
	for (size_t i = 0; i < m->n_domains; i++) {
		const Lxslu__Domain *md = m->domains[i];
		struct lu_domain d = {
			.domid = md->domid, .target = md->target,
			.features = md->features,
			.introduced = md->introduced, .priv = md->priv,
			.shutdown = md->shutdown, .gfn = md->gfn,
			.remote_port = md->remote_port,
			.local_port = md->local_port, .error = md->error,
			.resets = md->resets,
			.has_rd_cons = md->has_rd_cons,
			.rd_cons = md->rd_cons,
		};

		lu_state_add_domain(st, &d);
	}
}
