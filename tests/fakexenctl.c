/*
 * fakexenctl: the hypervisor's side of the fake Xen (tests/fakexen), for
 * the ring tests: changes what libxenctrl reports about a domain and
 * raises VIRQ_DOM_EXC, as Xen does when a domain shuts down or dies.
 *
 *   fakexenctl [-n] DIR DOMID STATE [HANDLE]
 *
 * Writes DIR/domain-DOMID ("STATE [HANDLE]": see fakexen.h; written to a
 * temporary file, then renamed) and, unless -n, sends one VIRQ_DOM_EXC
 * notification to the daemon's event channel socket (none bound there
 * is not an error: a daemon that is down finds the state at its start).
 * STATE is running, shutdown, crashed, dying or destroyed; HANDLE is the
 * domain's UUID as 32 hex digits.
 *
 * Exit status: 0 done, 1 the file could not be written, 2 usage.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "tests/fakexen/fakexen.h"

static void
fxc_usage(void)
{
	fputs("usage: fakexenctl [-n] DIR DOMID "
	      "running|shutdown|crashed|dying|destroyed [HANDLE]\n", stderr);
	exit(2);
}

static bool
fxc_state_known(const char *state)
{
	static const char *const known[] = {
		"running", "shutdown", "crashed", "dying", "destroyed",
	};

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(state, known[i]) == 0)
			return true;
	return false;
}

static int
fxc_write(const char *dir, unsigned long domid, const char *state,
	  const char *handle)
{
	char tmp[4096], path[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s/.domain-%lu.tmp", dir, domid);
	snprintf(path, sizeof(path), "%s/domain-%lu", dir, domid);
	f = fopen(tmp, "w");
	if (f == NULL)
		return -errno;
	fprintf(f, "%s%s%s\n", state, handle ? " " : "", handle ? handle : "");
	if (fclose(f) != 0 || rename(tmp, path) != 0)
		return -errno;
	return 0;
}

/* One VIRQ_DOM_EXC for the daemon, as Xen raises it. */
static void
fxc_raise(const char *dir)
{
	struct fx_kick k = { FX_DOMID_XEN, FX_VIRQ_DOM_EXC };
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if ((size_t)snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s", dir,
			     FX_DAEMON_SOCK) >= sizeof(sun.sun_path))
		return;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	(void)sendto(fd, &k, sizeof(k), MSG_DONTWAIT | MSG_NOSIGNAL,
		     (struct sockaddr *)&sun, sizeof(sun));
	close(fd);
}

int
main(int argc, char **argv)
{
	bool raise = true;
	unsigned long domid;
	char *end;
	int rc;

	if (argc > 1 && strcmp(argv[1], "-n") == 0) {
		raise = false;
		argc--;
		argv++;
	}
	if (argc < 4 || argc > 5)
		fxc_usage();
	domid = strtoul(argv[2], &end, 10);
	if (*argv[2] == '\0' || *end != '\0' || domid >= FX_DOMID_MAX ||
	    !fxc_state_known(argv[3]) ||
	    (argc == 5 && strlen(argv[4]) != 2 * FX_HANDLE_SIZE))
		fxc_usage();
	rc = fxc_write(argv[1], domid, argv[3], argc == 5 ? argv[4] : NULL);
	if (rc < 0) {
		fprintf(stderr, "fakexenctl: %s/domain-%lu: %s\n", argv[1],
			domid, strerror(-rc));
		return 1;
	}
	if (raise)
		fxc_raise(argv[1]);
	return 0;
}
