/*
 * hugepages: the daemon's heap on transparent huge pages, when asked
 * (LXS_HUGE_PAGES=1), so that the snapshot child's fork() is shorter.
 *
 * A snapshot is written by a forked child (snapshot/write.c). fork() stops
 * the loop while the kernel copies the page tables: 1.8 to 2.2 ms for the
 * 100 MB heap of 1,000,000 nodes on 4 KiB pages, 0.3 ms on 2 MiB pages
 * (bench/snapfork.sh). Not the default, because huge pages are freed
 * whole: when a daemon exits (the old one at every live update) its heap
 * goes back as 2 MiB blocks, which a virtual machine's kernel with free
 * page reporting (virtio-balloon) hands to its host about 2 s later, and
 * the host then stopped the whole machine for 7 to 21 ms
 * (docs/BENCHMARKS.md). Freed 4 KiB pages were not reported that way.
 * glibc's malloc advises MADV_HUGEPAGE on its
 * heap when the tunable glibc.malloc.hugetlb is 1, which is enough for the
 * kernel's default THP mode ("madvise"). Tunables are read only when a
 * process starts, so the daemon executes itself again, once, with the
 * tunable added, before it does anything else (same pid, same arguments,
 * same descriptors).
 *
 * Not done unless LXS_HUGE_PAGES=1; nor then when GLIBC_TUNABLES already
 * names the tunable (the caller chose) or THP is off ("[never]"). The
 * price besides: after the fork a write copies a 2 MiB page instead of 4
 * KiB, so memory doubles faster while a snapshot is being written (at most
 * the heap's size, as with small pages).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/server-int.h"

#define HP_TUNABLE	"glibc.malloc.hugetlb"
#define HP_THP_ENABLED	"/sys/kernel/mm/transparent_hugepage/enabled"

/* Whether the kernel gives huge pages to a heap that asks (not "[never]"). */
static bool
hp_thp_available(void)
{
	char line[128];
	FILE *f = fopen(HP_THP_ENABLED, "re");
	bool ok;

	if (f == NULL)
		return false;
	ok = fgets(line, sizeof(line), f) != NULL &&
	     strstr(line, "[never]") == NULL;
	fclose(f);
	return ok;
}

void
hugepages_reexec(char **argv)
{
	const char *old = getenv("GLIBC_TUNABLES"), *want = getenv("LXS_HUGE_PAGES");
	char *val;

	if (want == NULL || strcmp(want, "1") != 0 ||
	    (old && strstr(old, HP_TUNABLE) != NULL) || !hp_thp_available())
		return;
	if (old && *old)
		val = xasprintf("%s:" HP_TUNABLE "=1", old);
	else
		val = xstrdup(HP_TUNABLE "=1");
	if (setenv("GLIBC_TUNABLES", val, 1) == 0)
		execv("/proc/self/exe", argv);
	/* Still here: carry on with small pages, and say why once. */
	fprintf(stderr, "lxenstored: huge pages not used: exec: %s\n",
		strerror(errno));
	free(val);
	if (old)
		setenv("GLIBC_TUNABLES", old, 1);
	else
		unsetenv("GLIBC_TUNABLES");
}
