/*
 * The release token: which of the two daemons serves after a handover.
 *
 * One 32-bit word in a shared page (a memfd the old daemon creates and
 * passes with EARLY), LU_TOKEN_PENDING until one side claims it with a
 * compare-and-swap: the new daemon once it has adopted everything, the
 * old one when it gives up waiting for the answer. Exactly one claim
 * succeeds, so the two never serve at once, and the new daemon need not
 * wait for the old one to wake up and close the channel before it serves:
 * that wake-up left the pause.
 *
 *   offset 0  u32  LU_TOKEN_PENDING (0), LU_TOKEN_NEW (1), LU_TOKEN_OLD (2)
 *   the rest of the page unused
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "liveupdate/liveupdate.h"

#define LU_TOKEN_SIZE	4096u

_Static_assert(sizeof(_Atomic uint32_t) == 4, "the token is one u32");

struct lu_token {
	_Atomic uint32_t *word;
};

static struct lu_token *
lu_token_map(int fd, int *err)
{
	void *p = mmap(NULL, LU_TOKEN_SIZE, PROT_READ | PROT_WRITE,
		       MAP_SHARED, fd, 0);
	struct lu_token *t;

	if (p == MAP_FAILED) {
		*err = -errno;
		return NULL;
	}
	t = xmalloc(sizeof(*t));
	t->word = p;
	return t;
}

int
lu_token_new(struct lu_token **out, int *fd)
{
	int rc = 0;

	*out = NULL;
	*fd = memfd_create("lxenstored-lu-token", MFD_CLOEXEC);
	if (*fd < 0)
		return -errno;
	if (ftruncate(*fd, LU_TOKEN_SIZE) < 0)
		rc = -errno;
	if (rc == 0)
		*out = lu_token_map(*fd, &rc);
	if (rc < 0) {
		close(*fd);
		*fd = -1;
		return rc;
	}
	atomic_store((*out)->word, LU_TOKEN_PENDING);
	return 0;
}

int
lu_token_open(int fd, struct lu_token **out)
{
	int rc = 0;

	*out = lu_token_map(fd, &rc);
	return rc;
}

uint32_t
lu_token_claim(struct lu_token *t, uint32_t who)
{
	uint32_t expect = LU_TOKEN_PENDING;

	if (atomic_compare_exchange_strong(t->word, &expect, who))
		return who;
	return expect;
}

void
lu_token_free(struct lu_token *t)
{
	if (t == NULL)
		return;
	munmap((void *)t->word, LU_TOKEN_SIZE);
	free(t);
}
