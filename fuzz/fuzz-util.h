/*
 * fuzz-util: what the fuzzers in fuzz/ share.
 *
 * - fz_in: a cursor over the fuzzer's input. Reads past the end give
 *   zeros and empty spans, never an error, so every input is a valid
 *   program for the harness.
 * - A private scratch directory per process (under $LXS_FUZZ_TMPDIR,
 *   else /dev/shm, else /tmp), emptied between inputs and removed at exit,
 *   for the fuzzers that must go through files.
 * - Store helpers: a canonical dump of a tree (to compare two stores) and
 *   store_check() that aborts with its report.
 * - FZ_ASSERT: a failed invariant prints the reason and aborts, which is
 *   what libFuzzer (and the replay driver under ASan) report as a crash.
 * - fz_server_init (fuzz-server.c): a daemon without files, for the
 *   harnesses that drive the server.
 *
 * The harnesses are linked twice: with libFuzzer (--enable-fuzzing) and
 * with fuzz/replay.c, a plain main() that runs the committed inputs.
 */
#ifndef LXS_FUZZ_UTIL_H
#define LXS_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "common/common.h"
#include "store/store.h"

/* libFuzzer's entry points (the replay driver calls them too). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FZ_ASSERT(cond, ...) do {					\
	if (!(cond))							\
		fz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);	\
} while (0)

void fz_fail(const char *file, int line, const char *cond, const char *fmt,
	     ...) __attribute__((noreturn, format(printf, 4, 5)));

/*
 * LXS_FUZZ_SKIP_KNOWN set (not empty, not 0): a harness looks past the
 * bugs of fuzz/known-bugs/, to find others while they are open.
 */
bool fz_skip_known(void);

struct fz_in {
	const uint8_t *p;
	size_t n;
};

uint8_t fz_u8(struct fz_in *in);
uint16_t fz_u16(struct fz_in *in);
uint32_t fz_u32(struct fz_in *in);
/* Up to want bytes (fewer at the end of the input); *got gets the count. */
const uint8_t *fz_take(struct fz_in *in, size_t want, size_t *got);

/* The scratch directory of this process (created on first use). */
const char *fz_tmpdir(void);
/* Removes everything inside dir (recursively), keeping dir. */
void fz_empty_dir(const char *dir);
/* Writes len bytes to path (created or truncated); aborts on failure. */
void fz_write_file(const char *path, const void *data, size_t len);

/*
 * Every node of s (pre-order, then the special nodes): path, value and
 * permissions, one line each, appended to out.
 */
void fz_store_dump(const struct store *s, struct buf *out);
/* store_check(); aborts with the report if it finds a problem. */
void fz_store_check(const struct store *s, const char *when);
/* Aborts unless a and b hold the same tree. */
void fz_store_same(const struct store *a, const struct store *b,
		   const char *what);

/*
 * fuzz-server.c (harnesses linking the server only): srv, zeroed, gets its
 * connection list, a --sync=none log (durable_open) and a daemon log named
 * ident (on stderr with LXS_FUZZ_LOG set); no store, no loop, no
 * listeners. Aborts on failure.
 */
struct server;
void fz_server_init(struct server *srv, const char *ident);

#endif
