/*
 * hugepages: the daemon's heap on transparent huge pages, so that the
 * snapshot child's fork() is short.
 *
 * A snapshot is written by a forked child (snapshot/write.c). fork() stops
 * the loop while the kernel copies the page tables: about 12 ms for a
 * 250 MB heap of 4 KiB pages (1,000,000 nodes), which no request can wait
 * through without missing issue 3's 10 ms bound. On 2 MiB pages the same
 * heap forks in about 0.5 ms. glibc's malloc advises MADV_HUGEPAGE on its
 * heap when the tunable glibc.malloc.hugetlb is 1, which is enough for the
 * kernel's default THP mode ("madvise"). Tunables are read only when a
 * process starts, so the daemon executes itself again, once, with the
 * tunable added, before it does anything else (same pid, same arguments,
 * same descriptors).
 *
 * Not done when: LXS_HUGE_PAGES=0 (e.g. under valgrind, which would not
 * follow the exec), GLIBC_TUNABLES already names the tunable (the caller
 * chose), or THP is off ("[never]"). The price: after the fork a write
 * copies a 2 MiB page instead of 4 KiB, so memory doubles faster while a
 * snapshot is being written (at most the heap's size, as with small pages).
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

	if ((want && strcmp(want, "0") == 0) ||
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
