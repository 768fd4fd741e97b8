/*
 * liveupdate-fuzzer: the live-update handover message (liveupdate/msg.c),
 * as the new daemon decodes it with the descriptors the old one passed
 * (lu_decode) and as lxenstore-inspect decodes a kept one (lu_decode_saved).
 *
 * Input: byte 0, mod 8, is how many descriptors come with the message
 * (each an open /dev/null); the rest is the message.
 *
 * Invariants:
 *   - nothing crashes, leaks or reads out of bounds; a refusal comes with
 *     a reason;
 *   - descriptors: each is taken at most once; the ones the decoder took
 *     are closed by lu_state_release (by the decoder itself when it
 *     refuses), the others are still open for the caller to close (none
 *     is closed twice, none is lost);
 *   - what lu_decode accepts, lu_decode_saved accepts;
 *   - a decoded message is a fixed point of the encoder: decoding its
 *     encoding and encoding again gives the same bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz/fuzz-util.h"
#include "liveupdate/liveupdate.h"

#define LZ_MAX_FDS	8

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return 0;
}

static bool
lz_fd_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

/* Decodes with n descriptors; checks what became of each. */
static bool
lz_decode_fds(const uint8_t *d, size_t len, uint32_t n)
{
	int fds[LZ_MAX_FDS], orig[LZ_MAX_FDS];
	struct lu_state st;
	char *why = NULL;
	bool taken[LZ_MAX_FDS];
	int rc;

	for (uint32_t i = 0; i < n; i++) {
		fds[i] = orig[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
		FZ_ASSERT(fds[i] >= 0, "open /dev/null");
	}
	rc = lu_decode(d, len, n ? fds : NULL, n, &st, &why);
	FZ_ASSERT(rc == 0 || (rc == -EINVAL && why != NULL),
		  "lu_decode: %d without a reason", rc);
	for (uint32_t i = 0; i < n; i++) {
		taken[i] = fds[i] < 0;
		FZ_ASSERT(taken[i] || fds[i] == orig[i],
			  "descriptor %u changed", i);
	}
	/* On a refusal the decoder has released what it took already. */
	if (rc == 0)
		lu_state_release(&st);
	free(why);
	for (uint32_t i = 0; i < n; i++) {
		if (taken[i])
			FZ_ASSERT(!lz_fd_open(orig[i]),
				  "descriptor %u taken but left open", i);
		else {
			FZ_ASSERT(lz_fd_open(orig[i]),
				  "descriptor %u not taken but closed", i);
			close(orig[i]);
		}
	}
	return rc == 0;
}

/*
 * Encodes st, decoded from a kept message (every descriptor -1), into
 * *out: the descriptors it lists are those placeholders.
 */
static void
lz_encode(const struct lu_state *st, uint8_t **out, size_t *len)
{
	int *fds = NULL;
	uint32_t nfds = 0;

	lu_encode(st, out, len, &fds, &nfds);
	for (uint32_t i = 0; i < nfds; i++)
		FZ_ASSERT(fds[i] == -1, "descriptor %u of a kept message is %d",
			  i, fds[i]);
	free(fds);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lu_state a, b;
	uint8_t *e1 = NULL, *e2 = NULL;
	size_t l1, l2;
	char *why = NULL;
	bool with_fds;
	int rc;

	if (size < 1)
		return 0;
	with_fds = lz_decode_fds(data + 1, size - 1, data[0] % LZ_MAX_FDS);
	rc = lu_decode_saved(data + 1, size - 1, &a, &why);
	FZ_ASSERT(!with_fds || rc == 0,
		  "lu_decode accepted what lu_decode_saved refuses: %s", why);
	free(why);
	if (rc < 0)
		return 0;
	lz_encode(&a, &e1, &l1);
	why = NULL;
	rc = lu_decode_saved(e1, l1, &b, &why);
	FZ_ASSERT(rc == 0, "our own encoding does not decode: %s", why);
	lz_encode(&b, &e2, &l2);
	FZ_ASSERT(l1 == l2 && memcmp(e1, e2, l1) == 0,
		  "encode(decode(encode(x))) differs from encode(x): %zu vs "
		  "%zu bytes", l1, l2);
	lu_state_release(&a);
	lu_state_release(&b);
	free(e1);
	free(e2);
	return 0;
}
