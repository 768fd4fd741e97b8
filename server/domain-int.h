/*
 * domain-int.h: what domain.c (the table, its rings and requests) and
 * domain-death.c (deaths found through libxenctrl and VIRQ_DOM_EXC)
 * share; the rest of server/ sees struct domains only as opaque.
 */
#ifndef LXS_DOMAIN_INT_H
#define LXS_DOMAIN_INT_H

#include <xenevtchn.h>
#include <xengnttab.h>

#include "server/server-int.h"
#include "wal/wal.h"

/* struct domains.virq_port when VIRQ_DOM_EXC is not bound by us: */
#define DOMAIN_VIRQ_NONE	(-1)
/* bound before a live update on the inherited fd, port unknown (Xen binds
 * a virq once): a port that is no domain's is that one. */
#define DOMAIN_VIRQ_INHERITED	(-2)

struct domains {
	struct server *srv;
	xenevtchn_handle *xce;		/* NULL: no rings */
	xengnttab_handle *xgt;
	int evtchn_fd;
	struct xenctrl *xc;		/* NULL: deaths not detected */
	int virq_port;			/* VIRQ_DOM_EXC, or DOMAIN_VIRQ_* */
	bool check_due;			/* look up every domain in Xen */
	TAILQ_HEAD(, domain) list;
	uint32_t nintroduced;
	uint64_t scan_timer;
	uint64_t events;
	uint64_t notifies;
	long crash_countdown[RING_CRASH_COUNT];	/* LXS_TEST_CRASH_* */
};

/* ---- domain.c ------------------------------------------------------------ */

/* Drops d's connection, unbinds, unmaps and frees d. */
void domain_free(struct domains *ds, struct domain *d);
/*
 * RELEASE once d may go (the log takes changes): logs it, frees d, and
 * removes its nodes (or gives them away) and ACL entries; fires
 * @releaseDomain and @releaseDomain/<domid>.
 */
void domain_gone(struct server *srv, struct domain *d);
/* Logs d's record as it is now. */
void domain_log_set(struct domain *d);
/* Logs a change of d that carries no record (RELEASE, resets). */
void domain_log_kind(struct domain *d, enum wal_domain_kind kind);
/* d's record in the log's table (borrowed), or NULL. */
const struct wal_domain *domain_logged(const struct domain *d);

/* ---- domain-death.c ------------------------------------------------------ */

/*
 * Whether info (what Xen reports at the domid of the domain with handle)
 * is still that domain, alive; if not, why (static text) in *why.
 */
bool domain_info_alive(const uint8_t *handle,
		       const struct xenctrl_dominfo *info, const char **why);
/* Sets d's handle from Xen if it can be known now (INTRODUCE). */
void domain_learn_handle(struct domains *ds, struct domain *d);
/* Looks every domain up in Xen and releases or marks what it finds. */
void domains_check(struct domains *ds);
/*
 * Opens libxenctrl and binds VIRQ_DOM_EXC (inherited: on an event channel
 * fd from a live update, where it may be bound already); ds->xc stays
 * NULL if either fails (logged). A look at every domain is then due.
 */
void domain_exc_open(struct domains *ds, bool inherited);
/* Unbinds the virq and closes libxenctrl; nothing if not open. */
void domain_exc_close(struct domains *ds);
/* Whether an event on our local port is VIRQ_DOM_EXC. */
bool domain_exc_port(const struct domains *ds, uint32_t port);

#endif
