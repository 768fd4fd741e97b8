/*
 * libfakexen-lxs.so: libxenevtchn and libxengnttab for a machine without
 * Xen, over the files and sockets of $LXS_FAKEXEN_DIR (see fakexen.h for
 * the layout). Loaded with LD_PRELOAD, it takes the place of the real
 * functions in the production daemon, which runs unchanged.
 *
 * Event channels. A handle is one non-blocking unix datagram socket bound
 * at dom0.evtchn; its fd is what xenevtchn_fd returns. A local port is an
 * entry of the handle's table naming the remote end (domid, port) or a
 * virq. Xen's delivery rules are kept: xenevtchn_pending returns a port
 * once and masks it; a notification for a masked port is latched and
 * delivered again by xenevtchn_unmask; a notification for a port nobody
 * bound is lost. xenevtchn_notify sends one datagram to the guest's socket
 * and never blocks (a full socket means notifications are already pending).
 *
 * Grant tables. Mapping grant reference 1 of a domain maps its ring-<domid>
 * file MAP_SHARED; other references map grant-<domid>-<ref>.
 *
 * Domains (libxenctrl). xc_domain_getinfolist reports each domain from
 * its domain-<domid> file, or running while its ring-<domid> exists.
 *
 * Without $LXS_FAKEXEN_DIR every open function fails with ENOENT, as the
 * real ones do on a machine without /dev/xen.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <xenctrl.h>
#include <xenevtchn.h>
#include <xengnttab.h>

#include "tests/fakexen/fakexen.h"

#define FX_EXPORT __attribute__((visibility("default")))
/* Long enough for any directory a unix socket path can be under. */
#define FX_DIR_MAX 256

struct fx_port {
	bool used;
	bool virq;
	bool masked;
	bool latched;		/* raised while masked */
	uint32_t domid;		/* remote domain (or FX_DOMID_XEN) */
	uint32_t remote;	/* remote port (or the virq) */
};

struct xenevtchn_handle {
	int fd;
	char dir[FX_DIR_MAX];
	struct fx_port *ports;	/* indexed by local port; 0 is never used */
	uint32_t nports;
};

struct xengntdev_handle {
	int fd;			/* /dev/null: something for xengnttab_fd */
	char dir[FX_DIR_MAX];
};

static xenevtchn_handle *fx_evtchn_open_handle;

/* ---- helpers ----------------------------------------------------------- */

static int
fx_dir(char *out, size_t len)
{
	const char *dir = getenv(FX_ENV);

	if (dir == NULL || *dir == '\0') {
		errno = ENOENT;
		return -1;
	}
	if (strlen(dir) >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(out, dir);
	return 0;
}

static int
fx_sockaddr(struct sockaddr_un *sun, const char *dir, const char *name)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if ((size_t)snprintf(sun->sun_path, sizeof(sun->sun_path), "%s/%s",
			     dir, name) >= sizeof(sun->sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* Writes dir/bound-<port> for port, or removes it when it is unused. */
static void
fx_evtchn_record(const xenevtchn_handle *h, uint32_t port)
{
	const struct fx_port *p = &h->ports[port];
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/bound-%u", h->dir, port);
	if (!p->used) {
		unlink(path);
		return;
	}
	f = fopen(path, "we");
	if (f == NULL)
		return;
	if (p->virq)
		fprintf(f, "virq %u\n", p->remote);
	else
		fprintf(f, "%u %u\n", p->domid, p->remote);
	fclose(f);
}

static void
fx_evtchn_forget_all(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[PATH_MAX];

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, "bound-", 6) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
}

static struct fx_port *
fx_evtchn_port_slot(xenevtchn_handle *h, uint32_t port)
{
	if (port >= h->nports) {
		uint32_t n = h->nports ? h->nports : 64;
		struct fx_port *v;

		while (n <= port)
			n *= 2;
		v = realloc(h->ports, n * sizeof(*v));
		if (v == NULL)
			return NULL;
		memset(v + h->nports, 0, (n - h->nports) * sizeof(*v));
		h->ports = v;
		h->nports = n;
	}
	return &h->ports[port];
}

/* Lowest unused local port, or -1 (errno set). */
static int
fx_evtchn_alloc(xenevtchn_handle *h, bool virq, uint32_t domid,
		uint32_t remote)
{
	uint32_t port = 1;
	struct fx_port *p;

	while (port < h->nports && h->ports[port].used)
		port++;
	p = fx_evtchn_port_slot(h, port);
	if (p == NULL) {
		errno = ENOMEM;
		return -1;
	}
	*p = (struct fx_port){ .used = true, .virq = virq, .domid = domid,
			       .remote = remote };
	fx_evtchn_record(h, port);
	return (int)port;
}

static struct fx_port *
fx_evtchn_port(xenevtchn_handle *h, uint32_t port)
{
	if (port == 0 || port >= h->nports || !h->ports[port].used) {
		errno = EINVAL;
		return NULL;
	}
	return &h->ports[port];
}

static void
fx_evtchn_load(xenevtchn_handle *h)
{
	DIR *d = opendir(h->dir);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		char path[PATH_MAX], line[64];
		unsigned int port, a, b;
		struct fx_port *p;
		FILE *f;

		if (sscanf(e->d_name, "bound-%u", &port) != 1 || port == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", h->dir, e->d_name);
		f = fopen(path, "re");
		if (f == NULL)
			continue;
		p = fx_evtchn_port_slot(h, port);
		if (p && fgets(line, sizeof(line), f)) {
			if (sscanf(line, "virq %u", &a) == 1)
				*p = (struct fx_port){ .used = true,
					.virq = true, .domid = FX_DOMID_XEN,
					.remote = a };
			else if (sscanf(line, "%u %u", &a, &b) == 2)
				*p = (struct fx_port){ .used = true,
					.domid = a, .remote = b };
		}
		fclose(f);
	}
	closedir(d);
}

static xenevtchn_handle *
fx_evtchn_new(int fd, const char *dir)
{
	xenevtchn_handle *h = calloc(1, sizeof(*h));

	if (h == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	h->fd = fd;
	strcpy(h->dir, dir);
	return h;
}

/* ---- libxenevtchn ---------------------------------------------------------- */

FX_EXPORT xenevtchn_handle *
xenevtchn_open(struct xentoollog_logger *logger, unsigned int flags)
{
	char dir[FX_DIR_MAX];
	struct sockaddr_un sun;
	xenevtchn_handle *h;
	int fd, type;

	if (fx_evtchn_open_handle) {
		errno = EBUSY;
		return NULL;
	}
	if (fx_dir(dir, sizeof(dir)) < 0 ||
	    fx_sockaddr(&sun, dir, FX_DAEMON_SOCK) < 0)
		return NULL;
	type = SOCK_DGRAM | SOCK_NONBLOCK;
	if (!(flags & XENEVTCHN_NO_CLOEXEC))
		type |= SOCK_CLOEXEC;
	fd = socket(AF_UNIX, type, 0);
	if (fd < 0)
		return NULL;
	unlink(sun.sun_path);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		int err = errno;

		close(fd);
		errno = err;
		return NULL;
	}
	fx_evtchn_forget_all(dir);
	h = fx_evtchn_new(fd, dir);
	if (h == NULL) {
		close(fd);
		return NULL;
	}
	fx_evtchn_open_handle = h;
	return h;
}

FX_EXPORT xenevtchn_handle *
xenevtchn_fdopen(struct xentoollog_logger *logger, int fd,
		 unsigned int open_flags)
{
	char dir[FX_DIR_MAX];
	xenevtchn_handle *h;

	if (fx_evtchn_open_handle) {
		errno = EBUSY;
		return NULL;
	}
	if (fx_dir(dir, sizeof(dir)) < 0)
		return NULL;
	h = fx_evtchn_new(fd, dir);
	if (h == NULL)
		return NULL;
	fx_evtchn_load(h);
	fx_evtchn_open_handle = h;
	return h;
}

FX_EXPORT int
xenevtchn_close(xenevtchn_handle *h)
{
	struct sockaddr_un sun;

	if (h == NULL)
		return 0;
	for (uint32_t port = 1; port < h->nports; port++) {
		if (h->ports[port].used) {
			h->ports[port].used = false;
			fx_evtchn_record(h, port);
		}
	}
	if (fx_sockaddr(&sun, h->dir, FX_DAEMON_SOCK) == 0)
		unlink(sun.sun_path);
	close(h->fd);
	free(h->ports);
	if (fx_evtchn_open_handle == h)
		fx_evtchn_open_handle = NULL;
	free(h);
	return 0;
}

FX_EXPORT int
xenevtchn_fd(xenevtchn_handle *h)
{
	return h->fd;
}

FX_EXPORT int
xenevtchn_notify(xenevtchn_handle *h, evtchn_port_t port)
{
	struct fx_kick k = { 0, port };
	struct sockaddr_un sun;
	struct fx_port *p;
	char name[64];

	p = fx_evtchn_port(h, port);
	if (p == NULL)
		return -1;
	if (p->virq) {
		errno = EINVAL;
		return -1;
	}
	snprintf(name, sizeof(name), "evtchn-%u-%u", p->domid, p->remote);
	if (fx_sockaddr(&sun, h->dir, name) < 0)
		return -1;
	/* A gone or saturated guest end is not the notifier's error. */
	(void)sendto(h->fd, &k, sizeof(k), MSG_DONTWAIT | MSG_NOSIGNAL,
		     (struct sockaddr *)&sun, sizeof(sun));
	return 0;
}

FX_EXPORT xenevtchn_port_or_error_t
xenevtchn_bind_unbound_port(xenevtchn_handle *h, uint32_t domid)
{
	errno = EOPNOTSUPP;
	return -1;
}

FX_EXPORT xenevtchn_port_or_error_t
xenevtchn_bind_interdomain(xenevtchn_handle *h, uint32_t domid,
			   evtchn_port_t remote_port)
{
	struct sockaddr_un sun;
	struct stat st;
	char name[64];

	snprintf(name, sizeof(name), "evtchn-%u-%u", domid, remote_port);
	if (fx_sockaddr(&sun, h->dir, name) < 0)
		return -1;
	if (stat(sun.sun_path, &st) < 0 || !S_ISSOCK(st.st_mode)) {
		errno = EINVAL;
		return -1;
	}
	for (uint32_t port = 1; port < h->nports; port++) {
		const struct fx_port *p = &h->ports[port];

		if (p->used && !p->virq && p->domid == domid &&
		    p->remote == remote_port) {
			errno = EBUSY;
			return -1;
		}
	}
	return fx_evtchn_alloc(h, false, domid, remote_port);
}

/* Xen binds a virq once: a second binding (a live update's new daemon
 * on the inherited fd) is EEXIST. */
FX_EXPORT xenevtchn_port_or_error_t
xenevtchn_bind_virq(xenevtchn_handle *h, unsigned int virq)
{
	for (uint32_t port = 1; port < h->nports; port++) {
		const struct fx_port *p = &h->ports[port];

		if (p->used && p->virq && p->remote == virq) {
			errno = EEXIST;
			return -1;
		}
	}
	return fx_evtchn_alloc(h, true, FX_DOMID_XEN, virq);
}

FX_EXPORT int
xenevtchn_unbind(xenevtchn_handle *h, evtchn_port_t port)
{
	struct fx_port *p = fx_evtchn_port(h, port);

	if (p == NULL)
		return -1;
	memset(p, 0, sizeof(*p));
	fx_evtchn_record(h, port);
	return 0;
}

/* The local port a notification is for, or 0 if nobody bound it. */
static uint32_t
fx_evtchn_lookup(const xenevtchn_handle *h, const struct fx_kick *k)
{
	for (uint32_t port = 1; port < h->nports; port++) {
		const struct fx_port *p = &h->ports[port];

		if (!p->used)
			continue;
		if (k->domid == FX_DOMID_XEN ? p->virq && p->remote == k->port
		    : !p->virq && p->domid == k->domid &&
		      p->remote == k->port)
			return port;
	}
	return 0;
}

FX_EXPORT xenevtchn_port_or_error_t
xenevtchn_pending(xenevtchn_handle *h)
{
	for (;;) {
		struct fx_kick k;
		struct fx_port *p;
		uint32_t port;
		ssize_t n;

		n = recv(h->fd, &k, sizeof(k), MSG_DONTWAIT);
		if (n < 0)
			return -1;
		if (n != (ssize_t)sizeof(k))
			continue;
		port = fx_evtchn_lookup(h, &k);
		if (port == 0)
			continue;
		p = &h->ports[port];
		if (p->masked) {
			p->latched = true;
			continue;
		}
		p->masked = true;
		return (int)port;
	}
}

FX_EXPORT int
xenevtchn_unmask(xenevtchn_handle *h, evtchn_port_t port)
{
	struct fx_port *p = fx_evtchn_port(h, port);
	struct sockaddr_un sun;
	struct fx_kick k;

	if (p == NULL)
		return -1;
	p->masked = false;
	if (!p->latched)
		return 0;
	/* Deliver the latched event again: the fd must become readable. */
	p->latched = false;
	k.domid = p->virq ? FX_DOMID_XEN : p->domid;
	k.port = p->remote;
	if (fx_sockaddr(&sun, h->dir, FX_DAEMON_SOCK) == 0)
		(void)sendto(h->fd, &k, sizeof(k), MSG_DONTWAIT | MSG_NOSIGNAL,
			     (struct sockaddr *)&sun, sizeof(sun));
	return 0;
}

FX_EXPORT int
xenevtchn_restrict(xenevtchn_handle *h, domid_t domid)
{
	return 0;
}

/* ---- libxengnttab ---------------------------------------------------------- */

FX_EXPORT xengnttab_handle *
xengnttab_open(struct xentoollog_logger *logger, unsigned int open_flags)
{
	xengnttab_handle *h;
	char dir[FX_DIR_MAX];

	if (fx_dir(dir, sizeof(dir)) < 0)
		return NULL;
	h = calloc(1, sizeof(*h));
	if (h == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	h->fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	strcpy(h->dir, dir);
	return h;
}

FX_EXPORT int
xengnttab_close(xengnttab_handle *h)
{
	if (h == NULL)
		return 0;
	if (h->fd >= 0)
		close(h->fd);
	free(h);
	return 0;
}

FX_EXPORT int
xengnttab_fd(xengnttab_handle *h)
{
	return h->fd;
}

/* Maps one page at addr (NULL: anywhere). */
static void *
fx_gnttab_map_one(xengnttab_handle *h, uint32_t domid, uint32_t ref,
		  int prot, void *addr)
{
	char path[PATH_MAX];
	struct stat st;
	void *p;
	int fd, err;

	if (ref == FX_RING_REF)
		snprintf(path, sizeof(path), "%s/ring-%u", h->dir, domid);
	else
		snprintf(path, sizeof(path), "%s/grant-%u-%u", h->dir, domid,
			 ref);
	fd = open(path, ((prot & PROT_WRITE) ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || st.st_size < (off_t)FX_PAGE_SIZE) {
		close(fd);
		errno = EINVAL;
		return NULL;
	}
	p = mmap(addr, FX_PAGE_SIZE, prot,
		 MAP_SHARED | (addr ? MAP_FIXED : 0), fd, 0);
	err = errno;
	close(fd);
	errno = err;
	return p == MAP_FAILED ? NULL : p;
}

FX_EXPORT void *
xengnttab_map_grant_refs(xengnttab_handle *h, uint32_t count,
			 uint32_t *domids, uint32_t *refs, int prot)
{
	size_t len = (size_t)count * FX_PAGE_SIZE;
	char *area;

	if (count == 0) {
		errno = EINVAL;
		return NULL;
	}
	if (count == 1)
		return fx_gnttab_map_one(h, domids[0], refs[0], prot, NULL);
	area = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (area == MAP_FAILED)
		return NULL;
	for (uint32_t i = 0; i < count; i++) {
		if (fx_gnttab_map_one(h, domids[i], refs[i], prot,
				      area + (size_t)i * FX_PAGE_SIZE) == NULL) {
			int err = errno;

			munmap(area, len);
			errno = err;
			return NULL;
		}
	}
	return area;
}

FX_EXPORT void *
xengnttab_map_grant_ref(xengnttab_handle *h, uint32_t domid, uint32_t ref,
			int prot)
{
	return fx_gnttab_map_one(h, domid, ref, prot, NULL);
}

FX_EXPORT void *
xengnttab_map_domain_grant_refs(xengnttab_handle *h, uint32_t count,
				uint32_t domid, uint32_t *refs, int prot)
{
	uint32_t *domids;
	void *p;

	domids = calloc(count ? count : 1, sizeof(*domids));
	if (domids == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	for (uint32_t i = 0; i < count; i++)
		domids[i] = domid;
	p = xengnttab_map_grant_refs(h, count, domids, refs, prot);
	free(domids);
	return p;
}

FX_EXPORT void *
xengnttab_map_grant_ref_notify(xengnttab_handle *h, uint32_t domid,
			       uint32_t ref, int prot, uint32_t notify_offset,
			       evtchn_port_t notify_port)
{
	return fx_gnttab_map_one(h, domid, ref, prot, NULL);
}

FX_EXPORT int
xengnttab_unmap(xengnttab_handle *h, void *start_address, uint32_t count)
{
	return munmap(start_address, (size_t)count * FX_PAGE_SIZE);
}

FX_EXPORT int
xengnttab_set_max_grants(xengnttab_handle *h, uint32_t nr_grants)
{
	return 0;
}

FX_EXPORT int
xengnttab_grant_copy(xengnttab_handle *h, uint32_t count,
		     xengnttab_grant_copy_segment_t *segs)
{
	errno = ENOSYS;
	return -1;
}

FX_EXPORT int
xengnttab_dmabuf_exp_from_refs(xengnttab_handle *h, uint32_t domid,
			       uint32_t flags, uint32_t count,
			       const uint32_t *refs, uint32_t *fd)
{
	errno = ENOSYS;
	return -1;
}

FX_EXPORT int
xengnttab_dmabuf_exp_wait_released(xengnttab_handle *h, uint32_t fd,
				   uint32_t wait_to_ms)
{
	errno = ENOSYS;
	return -1;
}

FX_EXPORT int
xengnttab_dmabuf_imp_to_refs(xengnttab_handle *h, uint32_t domid,
			     uint32_t fd, uint32_t count, uint32_t *refs)
{
	errno = ENOSYS;
	return -1;
}

FX_EXPORT int
xengnttab_dmabuf_imp_release(xengnttab_handle *h, uint32_t fd)
{
	errno = ENOSYS;
	return -1;
}

/* ---- libxenctrl -------------------------------------------------------------- */

struct xc_interface_core {
	char dir[FX_DIR_MAX];
};

FX_EXPORT xc_interface *
xc_interface_open(xentoollog_logger *logger, xentoollog_logger *dombuild_logger,
		  unsigned int open_flags)
{
	char dir[FX_DIR_MAX];
	xc_interface *x;

	if (fx_dir(dir, sizeof(dir)) < 0)
		return NULL;
	x = calloc(1, sizeof(*x));
	if (x == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	strcpy(x->dir, dir);
	return x;
}

FX_EXPORT int
xc_interface_close(xc_interface *x)
{
	free(x);
	return 0;
}

static bool
fx_parse_handle(const char *hex, uint8_t *out)
{
	for (unsigned int i = 0; i < FX_HANDLE_SIZE; i++) {
		unsigned int v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return false;
		out[i] = (uint8_t)v;
	}
	return true;
}

/*
 * Domain domid as Xen would report it: false if there is none. A
 * domain-<domid> file says what it is; without one it runs while its ring
 * file exists (dom0 always).
 */
static bool
fx_domain_info(const char *dir, uint32_t domid, xc_domaininfo_t *out)
{
	char path[PATH_MAX], state[32], hex[64] = "";
	unsigned int reason = 0;
	uint32_t flags;
	FILE *f;
	int n;

	memset(out, 0, sizeof(*out));
	out->domain = (domid_t)domid;
	snprintf(path, sizeof(path), "%s/domain-%u", dir, domid);
	f = fopen(path, "re");
	if (f == NULL) {
		snprintf(path, sizeof(path), "%s/ring-%u", dir, domid);
		out->flags = XEN_DOMINF_running;
		return domid == 0 || access(path, F_OK) == 0;
	}
	n = fscanf(f, "%31s %63s", state, hex);
	fclose(f);
	if (n < 1)
		return false;
	if (n == 2 && !fx_parse_handle(hex, out->handle))
		return false;
	if (strcmp(state, "running") == 0)
		flags = XEN_DOMINF_running;
	else if (strcmp(state, "shutdown") == 0)
		flags = XEN_DOMINF_shutdown;
	else if (strcmp(state, "crashed") == 0) {
		flags = XEN_DOMINF_shutdown;
		reason = SHUTDOWN_crash;
	} else if (strcmp(state, "dying") == 0)
		flags = XEN_DOMINF_dying | XEN_DOMINF_shutdown;
	else
		return false;
	out->flags = flags | (reason << XEN_DOMINF_shutdownshift);
	return true;
}

/* The smallest domid from "from" on with a file of its own (or 0). */
static bool
fx_domain_next(const char *dir, uint32_t from, uint32_t *out)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool found = from == 0;

	*out = 0;
	if (d == NULL)
		return found;
	while ((e = readdir(d)) != NULL) {
		unsigned int id;

		if (sscanf(e->d_name, "ring-%u", &id) != 1 &&
		    sscanf(e->d_name, "domain-%u", &id) != 1)
			continue;
		if (id >= from && id < FX_DOMID_MAX && (!found || id < *out)) {
			*out = id;
			found = true;
		}
	}
	closedir(d);
	return found;
}

/* The domains from first_domain on, as Xen lists them: in domid order. */
FX_EXPORT int
xc_domain_getinfolist(xc_interface *x, uint32_t first_domain,
		      unsigned int max_domains, xc_domaininfo_t *info)
{
	unsigned int n = 0;
	uint32_t domid = first_domain;

	while (n < max_domains && fx_domain_next(x->dir, domid, &domid)) {
		if (fx_domain_info(x->dir, domid, &info[n]))
			n++;
		domid++;
	}
	return (int)n;
}
