/*
 * domain-death: which domains Xen says are gone, and what follows.
 *
 * On VIRQ_DOM_EXC, and once after every start and live update (a death
 * while no daemon watched), domains_poll has every domain looked up in Xen
 * (xenctrl.c) from the before-sleep hook. Shut down, the first time:
 * @releaseDomain/<domid> (one plain @releaseDomain per look); dying, gone
 * or another domain at its domid: released as by RELEASE (domain_gone).
 * A domain is known by its handle (Xen's UUID), not only by its domid.
 * Without libxenctrl or the virq nothing here runs, and RELEASE is the
 * only way out.
 */
#include <errno.h>
#include <string.h>
#include <xenevtchn.h>
#include <xen/xen.h>		/* VIRQ_DOM_EXC */

#include "server/domain-int.h"
#include "wal/wal.h"

static bool
domain_handle_known(const uint8_t *h)
{
	static const uint8_t zero[XENCTRL_HANDLE_SIZE];

	return memcmp(h, zero, sizeof(zero)) != 0;
}

/*
 * Whether what Xen reports at a domain's id is still that domain, alive
 * (shut down or not): not dying, and the same handle when both are known.
 * Why not, for the log, in *why.
 */
bool
domain_info_alive(const uint8_t *handle, const struct xenctrl_dominfo *info,
		  const char **why)
{
	if (!info->exists)
		*why = "it no longer exists";
	else if (info->dying)
		*why = "it is dying";
	else if (domain_handle_known(handle) &&
		 domain_handle_known(info->handle) &&
		 memcmp(handle, info->handle, XENCTRL_HANDLE_SIZE) != 0)
		*why = "its id belongs to another domain now";
	else
		return true;
	return false;
}

/* Xen's handle of d, as far as it can be known now (INTRODUCE). */
void
domain_learn_handle(struct domains *ds, struct domain *d)
{
	struct xenctrl_dominfo info;

	if (ds->xc && xenctrl_dominfo(ds->xc, d->domid, &info) == 0 &&
	    info.exists && !info.dying)
		memcpy(d->handle, info.handle, sizeof(d->handle));
}

enum domain_fate { DOMAIN_ALIVE, DOMAIN_SHUT, DOMAIN_RELEASED };

/* Looks d up in Xen and acts on what it says (domains_check). */
static enum domain_fate
domain_check_one(struct domains *ds, struct domain *d)
{
	const struct wal_domain *w = domain_logged(d);
	struct xenctrl_dominfo info;
	const char *why;

	if (d->priv || xenctrl_dominfo(ds->xc, d->domid, &info) < 0)
		return DOMAIN_ALIVE;
	/* Adopted by a live update: the handle is in the log's table. */
	if (!domain_handle_known(d->handle) && w)
		memcpy(d->handle, w->handle, sizeof(d->handle));
	if (!domain_info_alive(d->handle, &info, &why)) {
		if (!d->introduced) {
			log_info("domain %u: configured, never introduced, "
				 "and %s: forgotten", d->domid, why);
			domain_log_kind(d, WAL_DOMAIN_RELEASE);
			domain_free(ds, d);
			return DOMAIN_ALIVE;
		}
		/* Its nodes go: the log must take that (retried later). */
		if (durable_check(ds->srv->dur) < 0) {
			ds->check_due = true;
			return DOMAIN_ALIVE;
		}
		log_info("domain %u: %s: released", d->domid, why);
		domain_gone(ds->srv, d);
		return DOMAIN_RELEASED;
	}
	if (!domain_handle_known(d->handle) &&
	    domain_handle_known(info.handle)) {
		memcpy(d->handle, info.handle, sizeof(d->handle));
		domain_log_set(d);
	}
	if (!d->introduced || !info.shutdown || d->shutdown)
		return DOMAIN_ALIVE;
	d->shutdown = true;
	domain_log_set(d);
	log_info("domain %u: shut down", d->domid);
	store_fire_special_forms(ds->srv->store, "@releaseDomain", d->domid,
				 STORE_SPECIAL_DOMID);
	return DOMAIN_SHUT;
}

/*
 * Every domain against Xen. A plain @releaseDomain follows the
 * per-domain events of the domains found shut down, once, unless a
 * release fired one already.
 */
void
domains_check(struct domains *ds)
{
	struct domain *d, *next;
	bool shut = false, released = false;

	ds->check_due = false;
	for (d = TAILQ_FIRST(&ds->list); d != NULL; d = next) {
		next = TAILQ_NEXT(d, link);
		switch (domain_check_one(ds, d)) {
		case DOMAIN_SHUT:
			shut = true;
			break;
		case DOMAIN_RELEASED:
			released = true;
			break;
		case DOMAIN_ALIVE:
			break;
		}
	}
	if (shut && !released)
		store_fire_special_forms(ds->srv->store, "@releaseDomain", 0,
					 STORE_SPECIAL_PLAIN);
}

/*
 * libxenctrl and VIRQ_DOM_EXC; a look at every domain is due (deaths
 * while no daemon watched). inherited: the event channel fd comes from a
 * live update, whose old daemon bound the virq on it.
 */
void
domain_exc_open(struct domains *ds, bool inherited)
{
	xenevtchn_port_or_error_t port;

	ds->xc = xenctrl_open();
	if (ds->xc == NULL)
		return;
	port = xenevtchn_bind_virq(ds->xce, VIRQ_DOM_EXC);
	if (port >= 0) {
		ds->virq_port = port;
	} else if (inherited && errno == EEXIST) {
		ds->virq_port = DOMAIN_VIRQ_INHERITED;
	} else {
		log_warn("domains: binding VIRQ_DOM_EXC: %s; domain death is "
			 "not detected", strerror(errno));
		xenctrl_close(ds->xc);
		ds->xc = NULL;
		return;
	}
	ds->check_due = true;
}

void
domain_exc_close(struct domains *ds)
{
	if (ds->virq_port >= 0 &&
	    xenevtchn_unbind(ds->xce, (evtchn_port_t)ds->virq_port) < 0)
		log_warn("domains: unbind VIRQ_DOM_EXC port %d: %s",
			 ds->virq_port, strerror(errno));
	ds->virq_port = DOMAIN_VIRQ_NONE;
	xenctrl_close(ds->xc);
	ds->xc = NULL;
}

/* Whether an event on our local port is VIRQ_DOM_EXC. */
bool
domain_exc_port(const struct domains *ds, uint32_t port)
{
	const struct domain *d;

	if (ds->virq_port != DOMAIN_VIRQ_INHERITED)
		return ds->virq_port >= 0 && port == (uint32_t)ds->virq_port;
	TAILQ_FOREACH(d, &ds->list, link)
		if (d->introduced && d->local_port == port)
			return false;
	return true;
}
