/*
 * domain: the guest domains, their event channels and ring mappings.
 *
 * Owns the libxenevtchn and libxengnttab handles, the table of domains
 * (struct domain, server-int.h) and dom0's kernel ring. Invariants:
 *   - an introduced domain has its ring mapped and its event channel bound
 *     until RELEASE (or server_free); its connection (ring.c) comes and
 *     goes with resets and protocol errors;
 *   - rings are serviced from the before-sleep hook only (domains_poll),
 *     every iteration, whether or not an event arrived: the event channel
 *     fd only wakes the loop. A timer wakes it every DOMAIN_SCAN_MS while
 *     domains exist, so a lost notification delays a guest, never stalls it;
 *   - replies reach a ring through conn_flush like any other output, i.e.
 *     only after the log records they depend on are durable; notifications
 *     follow in domains_kick, at most one per domain per iteration;
 *   - without Xen (opening the interfaces fails) the daemon serves its
 *     sockets as before and INTRODUCE answers ENOSYS.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xenevtchn.h>
#include <xengnttab.h>

#include "liveupdate/liveupdate.h"
#include "server/server-int.h"

#define DOMAIN_SCAN_MS		1000
#define DOMAIN_EVENTS_BATCH	256
#define DOMAIN_PAGE_SIZE	4096u
/* Domain ids from here on are reserved (DOMID_FIRST_RESERVED). */
#define DOMAIN_FIRST_RESERVED	0x7FF0u

struct domains {
	struct server *srv;
	xenevtchn_handle *xce;		/* NULL: no rings */
	xengnttab_handle *xgt;
	int evtchn_fd;
	TAILQ_HEAD(, domain) list;
	uint32_t nintroduced;
	uint64_t scan_timer;
	uint64_t events;
	uint64_t notifies;
};

/* ---- the table ------------------------------------------------------------- */

struct domain *
domain_find(struct server *srv, uint32_t domid)
{
	struct domain *d;

	if (srv->doms == NULL)
		return NULL;
	TAILQ_FOREACH(d, &srv->doms->list, link)
		if (d->domid == domid)
			return d;
	return NULL;
}

static struct domain *
domain_new(struct domains *ds, uint32_t domid)
{
	struct domain *d = xcalloc(1, sizeof(*d));

	d->srv = ds->srv;
	d->domid = domid;
	d->target = LXS_DOMID_INVALID;
	d->features = SERVER_RING_FEATURES;
	TAILQ_INSERT_TAIL(&ds->list, d, link);
	return d;
}

/* Drops the connection, unbinds, unmaps and frees. */
static void
domain_free(struct domains *ds, struct domain *d)
{
	ring_disconnect(d, NULL);
	if (d->introduced) {
		if (xenevtchn_unbind(ds->xce, d->local_port) < 0)
			log_warn("domain %u: unbind port %u: %s", d->domid,
				 d->local_port, strerror(errno));
		if (d->priv)
			munmap(d->intf, DOMAIN_PAGE_SIZE);
		else if (xengnttab_unmap(ds->xgt, d->intf, 1) < 0)
			log_warn("domain %u: unmap: %s", d->domid,
				 strerror(errno));
		ds->nintroduced--;
	}
	TAILQ_REMOVE(&ds->list, d, link);
	free(d);
}

/* ---- events ------------------------------------------------------------------ */

static void
domain_on_scan(struct loop *l, uint64_t id, void *arg)
{
	struct domains *ds = arg;

	/* The wake-up itself runs the before-sleep hook, which polls. */
	ds->scan_timer = 0;
	if (ds->nintroduced)
		ds->scan_timer = loop_add_timer(l, DOMAIN_SCAN_MS,
						domain_on_scan, ds);
}

static void
domain_scan_arm(struct domains *ds)
{
	if (ds->scan_timer == 0)
		ds->scan_timer = loop_add_timer(ds->srv->loop, DOMAIN_SCAN_MS,
						domain_on_scan, ds);
}

/*
 * The event channel fd is readable: collect and unmask the ports. Which
 * port fired does not matter: domains_poll looks at every ring.
 */
static void
domain_on_evtchn(struct loop *l, int fd, unsigned int mask, void *arg)
{
	struct domains *ds = arg;

	for (int i = 0; i < DOMAIN_EVENTS_BATCH; i++) {
		xenevtchn_port_or_error_t port = xenevtchn_pending(ds->xce);

		if (port < 0) {
			if (errno != EAGAIN && errno != EINTR)
				log_warn("domains: xenevtchn_pending: %s",
					 strerror(errno));
			break;
		}
		ds->events++;
		if (xenevtchn_unmask(ds->xce, (evtchn_port_t)port) < 0)
			log_warn("domains: unmask port %d: %s", port,
				 strerror(errno));
	}
}

/*
 * A request handled here may add domains (INTRODUCE from dom0's ring) or
 * remove one (RELEASE), never the domain whose ring is being read: only
 * privileged callers may, and the only privileged ring is dom0's, which
 * cannot be released. So the list may change under this loop, but not
 * the current element.
 */
void
domains_poll(struct server *srv)
{
	struct domains *ds = srv->doms;
	struct domain *d;

	if (ds == NULL)
		return;
	TAILQ_FOREACH(d, &ds->list, link) {
		if (!d->introduced)
			continue;
		if (ring_wants_reconnect(d)) {
			d->resets++;
			log_info("domain %u: guest asked to reconnect",
				 d->domid);
			ring_connect(d);
			continue;
		}
		if (d->conn && !d->conn->dead)
			conn_handle_input(d->conn);
	}
}

void
domains_kick(struct server *srv)
{
	struct domains *ds = srv->doms;
	struct domain *d;

	if (ds == NULL)
		return;
	TAILQ_FOREACH(d, &ds->list, link) {
		struct conn *c = d->conn;

		if (!d->introduced)
			continue;
		if (d->kick) {
			d->kick = false;
			ds->notifies++;
			if (xenevtchn_notify(ds->xce, d->local_port) < 0)
				log_warn("domain %u: notify port %u: %s",
					 d->domid, d->local_port,
					 strerror(errno));
		}
		/* Input left after a batch, or unpaused by this flush. */
		if (c && !c->dead && !conn_input_paused(c) &&
		    c->ops->can_read(c))
			loop_wake(srv->loop);
	}
}

/* ---- open and close ------------------------------------------------------------ */

static int
domain_read_port(const char *path, uint32_t *port)
{
	char buf[32];
	unsigned long v;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EINVAL;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (parse_uint(buf, UINT32_MAX, &v) < 0 || v == 0)
		return -EINVAL;
	*port = (uint32_t)v;
	return 0;
}

/* Maps dom0's kernel ring page (--xsd-kva). */
static int
domain_map_kva(const struct server_config *cfg, void **page)
{
	const char *kva = cfg->xsd_kva ? cfg->xsd_kva : SERVER_DEFAULT_XSD_KVA;
	int fd, rc;

	fd = open(kva, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	*page = mmap(NULL, DOMAIN_PAGE_SIZE, PROT_READ | PROT_WRITE,
		     MAP_SHARED, fd, 0);
	rc = errno;
	close(fd);
	return *page == MAP_FAILED ? -rc : 0;
}

/*
 * dom0's kernel ring: the page in xsd_kva, the kernel's end of the event
 * channel in xsd_port. A missing page means no such ring (not an error).
 */
static void
domain_open_dom0(struct domains *ds)
{
	const struct server_config *cfg = &ds->srv->cfg;
	const char *kva = cfg->xsd_kva ? cfg->xsd_kva : SERVER_DEFAULT_XSD_KVA;
	const char *port_file = cfg->xsd_port ? cfg->xsd_port
					      : SERVER_DEFAULT_XSD_PORT;
	xenevtchn_port_or_error_t local;
	struct domain *d;
	uint32_t port = 0;
	void *page;
	int rc;

	rc = domain_map_kva(cfg, &page);
	if (rc < 0) {
		if (rc != -ENOENT)
			log_warn("domains: %s: %s; no dom0 ring", kva,
				 strerror(-rc));
		return;
	}
	rc = domain_read_port(port_file, &port);
	if (rc < 0) {
		log_warn("domains: %s: %s; no dom0 ring", port_file,
			 strerror(-rc));
		munmap(page, DOMAIN_PAGE_SIZE);
		return;
	}
	local = xenevtchn_bind_interdomain(ds->xce, 0, port);
	if (local < 0) {
		log_warn("domains: binding dom0's port %u: %s; no dom0 ring",
			 port, strerror(errno));
		munmap(page, DOMAIN_PAGE_SIZE);
		return;
	}
	d = domain_new(ds, 0);
	d->priv = true;
	d->intf = page;
	d->remote_port = port;
	d->local_port = (uint32_t)local;
	d->introduced = true;
	ds->nintroduced++;
	ring_connect(d);
	domain_scan_arm(ds);
	log_info("domains: dom0 ring %s, port %u (local %d)", kva, port,
		 local);
}

/* An empty table, set as srv->doms. */
static struct domains *
domains_new(struct server *srv)
{
	struct domains *ds = xcalloc(1, sizeof(*ds));

	ds->srv = srv;
	ds->evtchn_fd = -1;
	TAILQ_INIT(&ds->list);
	srv->doms = ds;
	return ds;
}

int
domains_open(struct server *srv)
{
	struct domains *ds = domains_new(srv);
	int rc;

	ds->xce = xenevtchn_open(NULL, 0);
	if (ds->xce == NULL) {
		log_info("domains: no event channels (%s): guest rings "
			 "disabled, INTRODUCE answers ENOSYS", strerror(errno));
		return 0;
	}
	ds->xgt = xengnttab_open(NULL, 0);
	if (ds->xgt == NULL) {
		log_warn("domains: no grant tables (%s): guest rings "
			 "disabled, INTRODUCE answers ENOSYS", strerror(errno));
		xenevtchn_close(ds->xce);
		ds->xce = NULL;
		return 0;
	}
	ds->evtchn_fd = xenevtchn_fd(ds->xce);
	rc = loop_add_fd(srv->loop, ds->evtchn_fd, LOOP_READ,
			 domain_on_evtchn, ds);
	if (rc < 0) {
		log_err("domains: epoll add: %s", strerror(-rc));
		return rc;
	}
	domain_open_dom0(ds);
	log_info("domains: guest rings enabled");
	return 0;
}

void
domains_close(struct server *srv)
{
	struct domains *ds = srv->doms;
	struct domain *d;

	if (ds == NULL)
		return;
	while ((d = TAILQ_FIRST(&ds->list)) != NULL)
		domain_free(ds, d);
	if (ds->scan_timer)
		loop_del_timer(srv->loop, ds->scan_timer);
	if (ds->evtchn_fd >= 0)
		loop_del_fd(srv->loop, ds->evtchn_fd);
	if (ds->xgt)
		xengnttab_close(ds->xgt);
	if (ds->xce)
		xenevtchn_close(ds->xce);
	free(ds);
	srv->doms = NULL;
}

/* ---- requests ---------------------------------------------------------------------- */

bool
domain_is_introduced(struct server *srv, uint32_t domid)
{
	struct domain *d;

	if (domid == 0 || domid == LXS_DOMID_SELF)
		return true;
	d = domain_find(srv, domid);
	return d && d->introduced;
}

static bool
domain_rings_enabled(const struct server *srv)
{
	return srv->doms && srv->doms->xce;
}

/* A known domain: a new event channel if the port changed, then a reset. */
static int
domain_reintroduce(struct domains *ds, struct domain *d, uint64_t gfn,
		   uint32_t port)
{
	xenevtchn_port_or_error_t local;

	if (port != d->remote_port) {
		local = xenevtchn_bind_interdomain(ds->xce, d->domid, port);
		if (local < 0) {
			int rc = errno ? -errno : -EINVAL;

			log_warn("domain %u: binding port %u: %s", d->domid,
				 port, strerror(-rc));
			return rc;
		}
		if (xenevtchn_unbind(ds->xce, d->local_port) < 0)
			log_warn("domain %u: unbind port %u: %s", d->domid,
				 d->local_port, strerror(errno));
		d->remote_port = port;
		d->local_port = (uint32_t)local;
	}
	d->gfn = gfn;
	d->resets++;
	log_info("domain %u: introduced again: connection reset", d->domid);
	ring_connect(d);
	return 0;
}

int
domain_introduce(struct server *srv, uint32_t domid, uint64_t gfn,
		 uint32_t port)
{
	struct domains *ds = srv->doms;
	xenevtchn_port_or_error_t local;
	struct domain *d;
	void *page;
	int rc;

	if (domid == 0 || domid >= DOMAIN_FIRST_RESERVED)
		return -EINVAL;
	if (!domain_rings_enabled(srv))
		return -ENOSYS;
	d = domain_find(srv, domid);
	if (d && d->introduced)
		return domain_reintroduce(ds, d, gfn, port);
	page = xengnttab_map_grant_ref(ds->xgt, domid,
				       GNTTAB_RESERVED_XENSTORE,
				       PROT_READ | PROT_WRITE);
	if (page == NULL) {
		rc = errno ? -errno : -EINVAL;
		log_warn("domain %u: mapping its ring: %s", domid,
			 strerror(-rc));
		return rc;
	}
	local = xenevtchn_bind_interdomain(ds->xce, domid, port);
	if (local < 0) {
		rc = errno ? -errno : -EINVAL;
		log_warn("domain %u: binding port %u: %s", domid, port,
			 strerror(-rc));
		xengnttab_unmap(ds->xgt, page, 1);
		return rc;
	}
	if (d == NULL)
		d = domain_new(ds, domid);
	d->intf = page;
	d->gfn = gfn;
	d->remote_port = port;
	d->local_port = (uint32_t)local;
	d->introduced = true;
	ds->nintroduced++;
	ring_connect(d);
	domain_scan_arm(ds);
	log_info("domain %u: introduced, port %u (local %d)", domid, port,
		 local);
	store_fire_special(srv->store, "@introduceDomain", domid);
	return 0;
}

int
domain_release(struct server *srv, uint32_t domid)
{
	struct domain *d;
	int rc;

	if (domid == 0)
		return -EINVAL;
	d = domain_find(srv, domid);
	if (d == NULL || !d->introduced)
		return -ENOENT;
	/* Its nodes go (or change owner): a change the log must take. */
	rc = durable_check(srv->dur);
	if (rc < 0)
		return rc;
	log_info("domain %u: released", domid);
	domain_free(srv->doms, d);
	store_domain_gone(srv->store, domid, srv->cfg.keep_orphans);
	store_fire_special(srv->store, "@releaseDomain", domid);
	return 0;
}

int
domain_resume(struct server *srv, uint32_t domid)
{
	struct domain *d;

	if (domid == 0)
		return -EINVAL;
	d = domain_find(srv, domid);
	if (d == NULL || !d->introduced)
		return -ENOENT;
	d->shutdown = false;
	return 0;
}

int
domain_set_target(struct server *srv, uint32_t domid, uint32_t tdomid)
{
	struct domain *d;

	if (domid == 0)
		return -EINVAL;
	d = domain_find(srv, domid);
	if (d == NULL || !d->introduced || !domain_is_introduced(srv, tdomid) ||
	    tdomid == LXS_DOMID_SELF)
		return -ENOENT;
	d->target = tdomid;
	if (d->conn) {
		const struct store_caller who = { domid, tdomid, d->priv };

		store_conn_set_caller(d->conn->sc, &who);
	}
	return 0;
}

int
domain_get_features(struct server *srv, uint32_t domid, uint32_t *out)
{
	struct domain *d = domain_find(srv, domid);

	if (d)
		*out = d->features;
	else if (domid == 0)
		*out = SERVER_SOCKET_FEATURES;
	else
		return -ENOENT;
	return 0;
}

int
domain_set_features(struct server *srv, uint32_t domid, uint32_t bits)
{
	struct domain *d;

	if (domid == 0)
		return -EBUSY;
	d = domain_find(srv, domid);
	if (d && d->introduced)
		return -EBUSY;
	/* Without Xen no domain can exist to be configured. */
	if (!domain_rings_enabled(srv) || domid >= DOMAIN_FIRST_RESERVED)
		return -ENOENT;
	if (d == NULL)
		d = domain_new(srv->doms, domid);
	d->features = bits;
	return 0;
}

/* ---- live update --------------------------------------------------------------- */

void
domains_export(struct server *srv, struct lu_state *st)
{
	struct domains *ds = srv->doms;
	struct domain *d;

	if (ds == NULL || ds->xce == NULL)
		return;
	st->fd_evtchn = ds->evtchn_fd;
	TAILQ_FOREACH(d, &ds->list, link) {
		struct lu_domain ld = {
			.domid = d->domid, .target = d->target,
			.features = d->features, .introduced = d->introduced,
			.priv = d->priv, .shutdown = d->shutdown,
			.gfn = d->gfn, .remote_port = d->remote_port,
			.local_port = d->local_port, .error = d->error,
			.resets = d->resets,
		};

		lu_state_add_domain(st, &ld);
	}
}

static int
domain_adopt_one(struct domains *ds, const struct lu_domain *ld)
{
	struct domain *d = domain_new(ds, ld->domid);
	void *page = NULL;
	int rc = 0;

	d->target = ld->target;
	d->features = ld->features;
	d->priv = ld->priv;
	d->shutdown = ld->shutdown;
	d->gfn = ld->gfn;
	d->remote_port = ld->remote_port;
	d->local_port = ld->local_port;
	d->error = ld->error;
	d->resets = ld->resets;
	if (!ld->introduced)
		return 0;
	if (ld->priv) {
		rc = domain_map_kva(&ds->srv->cfg, &page);
	} else {
		page = xengnttab_map_grant_ref(ds->xgt, ld->domid,
					       GNTTAB_RESERVED_XENSTORE,
					       PROT_READ | PROT_WRITE);
		if (page == NULL)
			rc = errno ? -errno : -EINVAL;
	}
	if (rc < 0) {
		log_err("live update: domain %u: mapping its ring: %s",
			ld->domid, strerror(-rc));
		return rc;
	}
	d->intf = page;
	d->introduced = true;
	ds->nintroduced++;
	return 0;
}

int
domains_adopt(struct server *srv, struct lu_state *st)
{
	struct domains *ds = domains_new(srv);
	int rc;

	ds->xce = xenevtchn_fdopen(NULL, st->fd_evtchn, 0);
	if (ds->xce == NULL)
		return errno ? -errno : -EINVAL;
	st->fd_evtchn = -1;
	ds->xgt = xengnttab_open(NULL, 0);
	if (ds->xgt == NULL)
		return errno ? -errno : -EINVAL;
	ds->evtchn_fd = xenevtchn_fd(ds->xce);
	rc = loop_add_fd(srv->loop, ds->evtchn_fd, LOOP_READ,
			 domain_on_evtchn, ds);
	for (uint32_t i = 0; rc == 0 && i < st->ndomains; i++)
		rc = domain_adopt_one(ds, &st->domains[i]);
	if (ds->nintroduced)
		domain_scan_arm(ds);
	return rc;
}
