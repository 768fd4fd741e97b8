/*
 * Small file-system helpers shared by the log, the snapshots and the tools.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

int
fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

int
write_all(int fd, const void *p, size_t len)
{
	const char *c = p;

	while (len) {
		ssize_t n = write(fd, c, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		c += n;
		len -= (size_t)n;
	}
	return 0;
}

bool
parse_seq_name(const char *name, const char *prefix, const char *suffix,
	       uint64_t *seq)
{
	size_t plen = strlen(prefix), slen = strlen(suffix);
	uint64_t v = 0;

	if (strlen(name) != plen + 16 + slen || strncmp(name, prefix, plen) != 0 ||
	    strcmp(name + plen + 16, suffix) != 0)
		return false;
	for (size_t i = plen; i < plen + 16; i++) {
		char ch = name[i];

		if (ch >= '0' && ch <= '9')
			v = (v << 4) | (uint64_t)(ch - '0');
		else if (ch >= 'a' && ch <= 'f')
			v = (v << 4) | (uint64_t)(ch - 'a' + 10);
		else
			return false;
	}
	*seq = v;
	return true;
}

char *
make_damaged_dir(const char *dir)
{
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	for (int i = 0;; i++) {
		char *p = i ? xasprintf("%s/damaged-%s-%d", dir, stamp, i)
			    : xasprintf("%s/damaged-%s", dir, stamp);

		if (mkdir(p, 0700) == 0 || errno != EEXIST)
			return p;
		free(p);
	}
}
