/*
 * fakexen: the fake Xen of the ring tests, as files and sockets in one
 * directory, $LXS_FAKEXEN_DIR. Shared by the daemon's side
 * (libfakexen-lxs.so, loaded into the production ./lxenstored with
 * LD_PRELOAD in place of libxenevtchn and libxengnttab) and the guest's side
 * (tests/fakeguest).
 *
 *   ring-<domid>            4096-byte file: the guest's xenstore ring page,
 *                           i.e. grant reference 1 of <domid>. The guest
 *                           creates it (atomically: written, then renamed);
 *                           xengnttab_map_grant_ref(<domid>, 1) maps it
 *                           MAP_SHARED, so both sides see every store.
 *   grant-<domid>-<ref>     the same for any other grant reference.
 *   evtchn-<domid>-<port>   unix datagram socket bound by the guest: its end
 *                           of event channel <port>, unbound until the
 *                           daemon binds to it (xenevtchn_bind_interdomain
 *                           fails with EINVAL while it does not exist).
 *                           Every datagram arriving there is one
 *                           notification from the daemon.
 *   dom0.evtchn             unix datagram socket of the daemon's xenevtchn
 *                           handle (xenevtchn_fd polls it). A guest notifies
 *                           by sending a struct fx_kick naming its own end;
 *                           the handle turns it into its local port.
 *   bound-<port>            one per local port of the daemon's handle:
 *                           "<domid> <remote port>\n" or "virq <n>\n".
 *                           xenevtchn_fdopen (an exec'd daemon adopting the
 *                           fd) rebuilds its bindings from them.
 *
 * Everything a guest owns (its ring file and its socket) is untouched by a
 * daemon that stops or dies, so a guest outlives a daemon restart; the
 * restarted daemon binds again. A new xenevtchn_open removes the bound-*
 * files of a dead daemon (their ports died with its fd). One daemon per
 * directory; a second open handle in the same process gets EBUSY.
 *
 *   domain-<domid>          the domain as libxenctrl reports it (for the
 *                           daemon's death detection): one line
 *                           "<state> [<handle>]", state one of running,
 *                           shutdown, crashed, dying, destroyed (no such
 *                           domain), handle 32 hex digits (its UUID; zero
 *                           when left out). Without this file, a domain
 *                           exists (running, handle zero) while its
 *                           ring-<domid> does, and dom0 always does.
 *                           tests/fakexenctl writes it (atomically).
 *
 * A datagram to dom0.evtchn with domid FX_DOMID_XEN raises the daemon's
 * port bound to virtual IRQ <port> (e.g. 3, VIRQ_DOM_EXC), as Xen would;
 * fakexenctl sends one after changing a domain's state.
 */
#ifndef LXS_FAKEXEN_H
#define LXS_FAKEXEN_H

#include <stdint.h>

#define FX_ENV		"LXS_FAKEXEN_DIR"
#define FX_DAEMON_SOCK	"dom0.evtchn"
#define FX_PAGE_SIZE	4096u
#define FX_RING_REF	1u		/* GNTTAB_RESERVED_XENSTORE */
#define FX_DOMID_XEN	0x7FF2u
#define FX_DOMID_MAX	0x7FF0u		/* first reserved id */
#define FX_VIRQ_DOM_EXC	3u
#define FX_HANDLE_SIZE	16u

/* One notification, in either direction (native byte order). */
struct fx_kick {
	uint32_t domid;		/* the sender's domain */
	uint32_t port;		/* the sender's port (or the virq) */
};

#endif
