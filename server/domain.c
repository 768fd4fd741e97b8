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
 *     sockets as before and INTRODUCE answers ENOSYS;
 *   - deaths: on VIRQ_DOM_EXC, and once after every start and live update
 *     (a death while no daemon watched), every domain is looked up in Xen
 *     from the before-sleep hook (domain-death.c, which shares struct
 *     domains through domain-int.h). Without libxenctrl, RELEASE is the
 *     only way out.
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
#include "server/domain-int.h"
#include "wal/wal.h"

#define DOMAIN_SCAN_MS		1000
#define DOMAIN_EVENTS_BATCH	256
#define DOMAIN_PAGE_SIZE	4096u
/* Domain ids from here on are reserved (DOMID_FIRST_RESERVED). */
#define DOMAIN_FIRST_RESERVED	0x7FF0u


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

/* ---- the log's view of a domain ------------------------------------------ */

void
domain_export(const struct domain *d, struct wal_domain *out)
{
	memset(out, 0, sizeof(*out));
	out->domid = d->domid;
	out->introduced = d->introduced;
	out->gfn = d->gfn;
	out->remote_port = d->remote_port;
	out->features = d->features;
	out->target = d->target;
	out->shutdown = d->shutdown;
	memcpy(out->handle, d->handle, sizeof(out->handle));
}

void
domain_import(struct domain *d, const struct wal_domain *w)
{
	d->introduced = w->introduced;
	d->gfn = w->gfn;
	d->remote_port = w->remote_port;
	d->features = w->features;
	d->target = w->target;
	d->shutdown = w->shutdown;
	memcpy(d->handle, w->handle, sizeof(d->handle));
}

/* Logs d's record as it is now (INTRODUCE, RESUME, SET_TARGET, ...). */
void
domain_log_set(struct domain *d)
{
	struct wal_domain w;
	struct wal_domain_change ch = {
		.kind = WAL_DOMAIN_SET, .domid = d->domid, .dom = &w,
	};

	domain_export(d, &w);
	durable_domain(d->srv->dur, &ch);
}

void
domain_log_kind(struct domain *d, enum wal_domain_kind kind)
{
	struct wal_domain_change ch = { .kind = kind, .domid = d->domid };

	durable_domain(d->srv->dur, &ch);
}

/* d's record in the log's table, or NULL. */
const struct wal_domain *
domain_logged(const struct domain *d)
{
	return wal_domtab_find(durable_domains(d->srv->dur), d->domid);
}

void
domain_log_watches_gone(struct domain *d)
{
	const struct wal_domain *w = domain_logged(d);

	if (w && w->nwatches)
		domain_log_kind(d, WAL_DOMAIN_RESET_WATCHES);
}

void
domain_log_ring_reset(struct domain *d)
{
	const struct wal_domain *w = domain_logged(d);

	if (w && (w->nreplies || w->partial))
		domain_log_kind(d, WAL_DOMAIN_RING_RESET);
}

void
domain_log_ring(struct domain *d, enum ring_log what, uint32_t end,
		const void *bytes, uint32_t len, uint32_t rsp_end)
{
	struct wal_domain_change ch = { .domid = d->domid, .req_end = end };

	if (what == RING_LOG_PARTIAL || what == RING_LOG_PARTIAL_MORE) {
		ch.kind = WAL_DOMAIN_RING_PARTIAL;
		ch.partial = bytes;
		ch.partial_len = len;
		ch.partial_more = what == RING_LOG_PARTIAL_MORE;
	} else {
		ch.kind = what == RING_LOG_OUT ? WAL_DOMAIN_RING_OUT :
			  WAL_DOMAIN_RING_REPLY;
		ch.reply = bytes;
		ch.reply_len = len;
		ch.has_rsp_end = true;
		ch.rsp_end = rsp_end;
	}
	durable_domain(d->srv->dur, &ch);
}

bool
domain_test_crash_point(struct server *srv, enum ring_crash which)
{
	struct domains *ds = srv->doms;

	return ds->crash_countdown[which] > 0 &&
	       --ds->crash_countdown[which] == 0;
}

/*
 * The spelling under which the table holds the watch UNWATCH path token
 * removed: the store matches watches by absolute path, so "data" and
 * "/local/domain/<d>/data" are the same watch. Borrowed; NULL if none.
 */
static const char *
domain_watch_spelling(const struct domain *d, const struct conn *c,
		      const char *path, const char *token)
{
	const struct wal_domain *w = domain_logged(d);
	const struct store_caller *who = store_conn_caller(c->sc);
	const char *found = NULL;
	char *abs, *other;

	if (w == NULL ||
	    store_path_resolve(d->srv->store, who, path, true, &abs) < 0)
		return NULL;
	for (uint32_t i = 0; i < w->nwatches && found == NULL; i++) {
		if (strcmp(w->watches[i].token, token) != 0 ||
		    store_path_resolve(d->srv->store, who, w->watches[i].path,
				       true, &other) < 0)
			continue;
		if (strcmp(abs, other) == 0)
			found = w->watches[i].path;
		free(other);
	}
	free(abs);
	return found;
}

void
domain_log_watch(struct conn *c, bool add, const char *path,
		 const char *token, int depth)
{
	struct domain *d = ring_conn_domain(c);
	struct wal_domain_change ch = {
		.kind = add ? WAL_DOMAIN_WATCH : WAL_DOMAIN_UNWATCH,
		.path = path, .token = token, .depth = depth,
	};

	if (d == NULL)
		return;
	ch.domid = d->domid;
	if (!add)
		ch.path = domain_watch_spelling(d, c, path, token);
	if (ch.path)
		durable_domain(d->srv->dur, &ch);
}

/* Drops the connection, unbinds, unmaps and frees. */
void
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

/*
 * What RELEASE does once d may go (the log takes changes): its record
 * goes, its ring and port, its nodes (or their ownership) and ACL
 * entries; @releaseDomain and @releaseDomain/<domid> fire.
 */
void
domain_gone(struct server *srv, struct domain *d)
{
	uint32_t domid = d->domid;

	domain_log_kind(d, WAL_DOMAIN_RELEASE);
	domain_free(srv->doms, d);
	store_domain_gone(srv->store, domid, srv->cfg.keep_orphans);
	store_fire_special(srv->store, "@releaseDomain", domid);
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
 * guest's port fired does not matter: domains_poll looks at every ring;
 * VIRQ_DOM_EXC makes it look up every domain in Xen first.
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
		if (domain_exc_port(ds, (uint32_t)port))
			ds->check_due = true;
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
	if (ds->check_due && ds->xc)
		domains_check(ds);
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
		ring_settle(d);
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

/* Maps a guest's ring page by its reserved grant (GNTTAB_RESERVED_XENSTORE). */
static int
domain_map_grant(struct domains *ds, uint32_t domid, void **page)
{
	*page = xengnttab_map_grant_ref(ds->xgt, domid,
					GNTTAB_RESERVED_XENSTORE,
					PROT_READ | PROT_WRITE);
	if (*page == NULL)
		return errno ? -errno : -EINVAL;
	return 0;
}

/*
 * Restores one guest's watches on its new connection; each fires once
 * (the protocol allows spurious events), so the guest re-reads what it
 * may have missed while the daemon was down.
 */
static void
domain_restore_watches(struct domain *d, const struct wal_domain *w)
{
	for (uint32_t i = 0; i < w->nwatches; i++) {
		const struct wal_watch *ww = &w->watches[i];
		int rc = store_watch(d->conn->sc, ww->path, ww->token,
				     ww->depth);

		if (rc < 0) {
			log_warn("domain %u: watch %s %s not restored: %s",
				 d->domid, ww->path, ww->token, strerror(-rc));
			continue;
		}
		conn_event(d->conn, ww->path, ww->token);
	}
}

/*
 * dom0's kernel ring, mapped and bound. If the log has it (an earlier
 * daemon of this boot served it: a state directory of another boot is set
 * aside) on the same port, it is served from where the kernel left it, as
 * a guest's after a restart: indices untouched, its watches restored and
 * fired once, its logged replies and partial message kept. Otherwise (a
 * first start, another port, or its error field set) it is reset and
 * recorded.
 */
static void
domain_connect_dom0(struct domain *d)
{
	const struct wal_domain *w = domain_logged(d);

	if (w && w->introduced && w->remote_port == d->remote_port) {
		domain_import(d, w);
		if (ring_attach(d, w) != NULL) {
			d->conn->restored = true;
			domain_restore_watches(d, w);
			log_info("domains: dom0 ring restored, %u watch(es)",
				 w->nwatches);
			return;
		}
		log_warn("domains: dom0 ring has its error field set (%u): "
			 "reset", d->error);
	}
	ring_connect(d);
	domain_log_set(d);
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
	domain_connect_dom0(d);
	domain_scan_arm(ds);
	log_info("domains: dom0 ring %s, port %u (local %d)", kva, port,
		 local);
}

/*
 * A recorded domain whose ring cannot be mapped or bound again (what
 * failed, with errno err). If Xen says it died while the daemon was down,
 * it is released as by RELEASE. Otherwise (or without libxenctrl) it is
 * dropped from the table with a RELEASE record; its nodes stay and no
 * @releaseDomain fires (nobody said it is gone; the toolstack's RELEASE
 * then answers ENOENT).
 */
static void
domain_restore_failed(struct domains *ds, const struct wal_domain *w,
		      const char *what, int err)
{
	struct wal_domain_change ch = {
		.kind = WAL_DOMAIN_RELEASE, .domid = w->domid,
	};
	struct xenctrl_dominfo info;
	const char *why;
	struct domain *d;

	if (ds->xc && xenctrl_dominfo(ds->xc, w->domid, &info) == 0 &&
	    !domain_info_alive(w->handle, &info, &why)) {
		log_info("domain %u: %s (died while the daemon was down): "
			 "released", w->domid, why);
		d = domain_new(ds, w->domid);
		domain_import(d, w);
		/* Neither mapped nor bound here: nothing for domain_free to
		 * undo, and not counted in nintroduced. */
		d->introduced = false;
		domain_gone(ds->srv, d);
		return;
	}
	log_err("domain %u: its ring cannot be restored (%s: %s); "
		"forgotten, its nodes are kept", w->domid, what, strerror(err));
	durable_domain(ds->srv->dur, &ch);
}

/*
 * One domain of the recovered table: map its ring and bind its event
 * channel again, as INTRODUCE did, and serve the ring from where the guest
 * left it; one that cannot be is dropped (domain_restore_failed).
 */
static void
domain_restore_one(struct domains *ds, const struct wal_domain *w)
{
	xenevtchn_port_or_error_t local;
	struct domain *d;
	void *page;
	int rc;

	if (!w->introduced) {
		d = domain_new(ds, w->domid);
		domain_import(d, w);
		return;
	}
	rc = domain_map_grant(ds, w->domid, &page);
	if (rc < 0) {
		domain_restore_failed(ds, w, "mapping", -rc);
		return;
	}
	local = xenevtchn_bind_interdomain(ds->xce, w->domid, w->remote_port);
	if (local < 0) {
		domain_restore_failed(ds, w, "binding", errno);
		xengnttab_unmap(ds->xgt, page, 1);
		return;
	}
	d = domain_new(ds, w->domid);
	domain_import(d, w);
	d->intf = page;
	d->local_port = (uint32_t)local;
	ds->nintroduced++;
	if (ring_attach(d, w) == NULL) {
		log_warn("domain %u: restored, its ring stays ignored (error "
			 "%u) until it reconnects", d->domid, d->error);
		/* Its watches went with the connection it lost. */
		domain_log_watches_gone(d);
	} else {
		d->conn->restored = true;
		domain_restore_watches(d, w);
	}
	log_info("domain %u: restored, port %u (local %d), %u watch(es)",
		 d->domid, d->remote_port, local, w->nwatches);
}

/* The domains of the recovered state, in domid order. */
static void
domains_restore(struct domains *ds)
{
	const struct wal_domtab *t = durable_domains(ds->srv->dur);
	uint32_t n = wal_domtab_count(t), *ids;

	if (n == 0)
		return;
	/* Restoring may drop records from the table: walk a copy of ids. */
	ids = xcalloc(n, sizeof(*ids));
	for (uint32_t i = 0; i < n; i++)
		ids[i] = wal_domtab_at(t, i)->domid;
	for (uint32_t i = 0; i < n; i++) {
		/* dom0's ring (domain_open_dom0), or its record only. */
		if (ids[i] == 0) {
			struct wal_domain_change ch = {
				.kind = WAL_DOMAIN_RELEASE, .domid = 0,
			};

			if (domain_find(ds->srv, 0) == NULL)
				durable_domain(ds->srv->dur, &ch);
			continue;
		}
		domain_restore_one(ds, wal_domtab_find(t, ids[i]));
	}
	free(ids);
	if (ds->nintroduced)
		domain_scan_arm(ds);
}

/* An empty table, set as srv->doms. */
static struct domains *
domains_new(struct server *srv)
{
	struct domains *ds = xcalloc(1, sizeof(*ds));
	static const char *const hooks[RING_CRASH_COUNT] = {
		[RING_CRASH_BEFORE_REPLY] = "LXS_TEST_CRASH_BEFORE_RING_REPLY",
		[RING_CRASH_AFTER_REPLY] = "LXS_TEST_CRASH_AFTER_RING_REPLY",
		[RING_CRASH_MID_MESSAGE] = "LXS_TEST_CRASH_MID_RING_MESSAGE",
	};

	ds->srv = srv;
	ds->evtchn_fd = -1;
	ds->virq_port = DOMAIN_VIRQ_NONE;
	TAILQ_INIT(&ds->list);
	srv->doms = ds;
	for (int i = 0; i < RING_CRASH_COUNT; i++) {
		const char *v = getenv(hooks[i]);

		if (v == NULL)
			continue;
		ds->crash_countdown[i] = strtol(v, NULL, 10);
		log_warn("domains: %s=%ld: the daemon kills itself on a ring "
			 "(tests only)", hooks[i], ds->crash_countdown[i]);
	}
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
	domain_exc_open(ds, false);
	domain_open_dom0(ds);
	domains_restore(ds);
	log_info("domains: guest rings enabled%s",
		 ds->xc ? ", deaths detected" : "");
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
	domain_exc_close(ds);
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
	domain_learn_handle(ds, d);
	log_info("domain %u: introduced again: connection reset", d->domid);
	ring_connect(d);
	domain_log_set(d);
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
	rc = domain_map_grant(ds, domid, &page);
	if (rc < 0) {
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
	domain_learn_handle(ds, d);
	ring_connect(d);
	domain_scan_arm(ds);
	domain_log_set(d);
	log_info("domain %u: introduced, port %u (local %d)", domid, port,
		 local);
	store_fire_special(srv->store, "@introduceDomain", domid);
	return 0;
}

/*
 * The domain a RELEASE, RESUME or SET_TARGET names: -EINVAL for dom0,
 * -ENOENT unless introduced.
 */
static int
domain_find_guest(struct server *srv, uint32_t domid, struct domain **out)
{
	struct domain *d;

	if (domid == 0)
		return -EINVAL;
	d = domain_find(srv, domid);
	if (d == NULL || !d->introduced)
		return -ENOENT;
	*out = d;
	return 0;
}

int
domain_release(struct server *srv, uint32_t domid)
{
	struct domain *d;
	int rc;

	rc = domain_find_guest(srv, domid, &d);
	if (rc < 0)
		return rc;
	/* Its nodes go (or change owner): a change the log must take. */
	rc = durable_check(srv->dur);
	if (rc < 0)
		return rc;
	log_info("domain %u: released", domid);
	domain_gone(srv, d);
	return 0;
}

int
domain_resume(struct server *srv, uint32_t domid)
{
	struct domain *d;
	int rc;

	rc = domain_find_guest(srv, domid, &d);
	if (rc < 0)
		return rc;
	d->shutdown = false;
	domain_log_set(d);
	return 0;
}

int
domain_set_target(struct server *srv, uint32_t domid, uint32_t tdomid)
{
	struct domain *d;
	int rc;

	rc = domain_find_guest(srv, domid, &d);
	if (rc < 0)
		return rc;
	if (!domain_is_introduced(srv, tdomid) || tdomid == LXS_DOMID_SELF)
		return -ENOENT;
	d->target = tdomid;
	if (d->conn) {
		const struct store_caller who = { domid, tdomid, d->priv };

		store_conn_set_caller(d->conn->sc, &who);
	}
	domain_log_set(d);
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
	domain_log_set(d);
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
			.has_rd_cons = d->intf != NULL,
			.rd_cons = d->intf ? ring_read_pos(d) : 0,
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
	rc = ld->priv ? domain_map_kva(&ds->srv->cfg, &page) :
			domain_map_grant(ds, ld->domid, &page);
	if (rc < 0) {
		log_err("live update: domain %u: mapping its ring: %s",
			ld->domid, strerror(-rc));
		return rc;
	}
	d->intf = page;
	d->introduced = true;
	d->adopt_rd_cons = ld->has_rd_cons ? ld->rd_cons : ring_read_pos(d);
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
	if (rc == 0)
		domain_exc_open(ds, true);
	if (ds->nintroduced)
		domain_scan_arm(ds);
	return rc;
}
