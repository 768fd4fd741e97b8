/*
 * Writing records by copying them into a shared mapping of the segment
 * (--sync=write): once copied they are in the page cache, which outlives
 * the process, and no system call is made per group commit (a write(2) of
 * a few hundred bytes costs ~0.9 us of CPU here, a copy ~0.1 us).
 *
 * Only space the file system has reserved is mapped (fallocate, not a
 * hole), so that a store never has to allocate a block: a full disk would
 * otherwise be a SIGBUS instead of ENOSPC. The mapping is a window of
 * WAL_WINDOW bytes moved along the file: unmapping a window of dirty pages
 * takes time in proportion to its size, and the loop pays it; and the
 * window's pages count in the daemon's RSS while mapped (256 KiB: 2.6
 * bytes per node of a 100,000-node store), though they are page cache. Windows are
 * not inherited by a fork (a snapshot child never writes the log).
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "wal/wal-int.h"

#define WAL_WINDOW	(256u << 10)
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE	23	/* Linux 5.14 */
#endif

void
wal_window_drop(struct wal_window *win)
{
	if (win->base)
		munmap(win->base, win->len);
	win->base = NULL;
	win->off = 0;
	win->len = 0;
}

/* Maps the window holding offset at, at most up to limit. */
static int
wal_window_move(struct wal_window *win, int fd, uint64_t at, uint64_t limit)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	uint64_t off = at - at % page;
	size_t len = limit - off < WAL_WINDOW ? (size_t)(limit - off) :
						 WAL_WINDOW;
	void *p;

	wal_window_drop(win);
	p = mmap(NULL, len, PROT_WRITE, MAP_SHARED, fd, (off_t)off);
	if (p == MAP_FAILED)
		return -errno;
	(void)madvise(p, len, MADV_DONTFORK);
	/* One call makes the whole window writable: a write fault per page
	 * (ext4's page_mkwrite each time) cost ~5% of a write's CPU. Only a
	 * hint: without it the pages fault in one by one as before. */
	(void)madvise(p, len, MADV_POPULATE_WRITE);
	win->base = p;
	win->off = off;
	win->len = len;
	return 0;
}

int
wal_window_copy(struct wal_window *win, int fd, uint64_t at, const void *p,
		size_t len, uint64_t limit)
{
	const unsigned char *c = p;

	if (at + len > limit)
		return -ERANGE;
	while (len) {
		size_t n;
		int rc;

		if (win->base == NULL || at < win->off ||
		    at >= win->off + win->len) {
			rc = wal_window_move(win, fd, at, limit);
			if (rc < 0)
				return rc;
		}
		n = (size_t)(win->off + win->len - at);
		if (n > len)
			n = len;
		memcpy(win->base + (at - win->off), c, n);
		at += n;
		c += n;
		len -= n;
	}
	return 0;
}
