/*
 * xenctrl: what the daemon asks the hypervisor about a domain, through
 * libxenctrl (Xen 4.17: xc_domain_getinfolist, one domctl per call).
 *
 * Only domain-death.c's death check uses it (VIRQ_DOM_EXC, and once
 * after each start and live update). libxenctrl's own messages go
 * nowhere: a failure is logged here, once, naming the call. Without Xen
 * the open fails and the daemon goes on without death detection.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <xenctrl.h>
#include <xentoollog.h>

#include "server/server-int.h"

_Static_assert(sizeof(xen_domain_handle_t) == XENCTRL_HANDLE_SIZE,
	       "xenctrl: a domain handle is a 16-byte UUID");

struct xenctrl {
	xc_interface *xch;
	bool failed;		/* a getinfo failure was logged */
};

static void
xenctrl_quiet_message(struct xentoollog_logger *logger,
		      xentoollog_level level, int errnoval,
		      const char *context, const char *format, va_list al)
{
}

static void
xenctrl_quiet_progress(struct xentoollog_logger *logger, const char *context,
		       const char *doing_what, int percent,
		       unsigned long done, unsigned long total)
{
}

static void
xenctrl_quiet_destroy(struct xentoollog_logger *logger)
{
}

static struct xentoollog_logger xenctrl_quiet = {
	.vmessage = xenctrl_quiet_message,
	.progress = xenctrl_quiet_progress,
	.destroy = xenctrl_quiet_destroy,
};

struct xenctrl *
xenctrl_open(void)
{
	struct xenctrl *x;
	xc_interface *xch = xc_interface_open(&xenctrl_quiet, &xenctrl_quiet,
					      0);

	if (xch == NULL) {
		log_warn("domains: libxenctrl: xc_interface_open: %s; domain "
			 "death (VIRQ_DOM_EXC) is not detected",
			 strerror(errno));
		return NULL;
	}
	x = xcalloc(1, sizeof(*x));
	x->xch = xch;
	return x;
}

void
xenctrl_close(struct xenctrl *x)
{
	if (x == NULL)
		return;
	xc_interface_close(x->xch);
	free(x);
}

int
xenctrl_dominfo(struct xenctrl *x, uint32_t domid, struct xenctrl_dominfo *out)
{
	xc_domaininfo_t info;
	int n;

	memset(out, 0, sizeof(*out));
	memset(&info, 0, sizeof(info));
	n = xc_domain_getinfolist(x->xch, domid, 1, &info);
	if (n < 0) {
		int rc = errno ? -errno : -EIO;

		if (!x->failed)
			log_warn("domains: xc_domain_getinfolist(%u): %s",
				 domid, strerror(-rc));
		x->failed = true;
		return rc;
	}
	x->failed = false;
	/* The next domain from domid on: another id means none at domid. */
	if (n == 0 || info.domain != domid)
		return 0;
	out->exists = true;
	out->dying = (info.flags & XEN_DOMINF_dying) != 0;
	out->shutdown = (info.flags & XEN_DOMINF_shutdown) != 0;
	memcpy(out->handle, info.handle, XENCTRL_HANDLE_SIZE);
	return 0;
}
