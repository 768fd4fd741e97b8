/*
 * replay: runs a fuzzer's LLVMFuzzerTestOneInput over files, without
 * libFuzzer. Every build links each harness with this main() as
 * fuzz/<name>-replay, so that make check runs the committed corpus and
 * the regression inputs in fuzz/regress/ (under ASan and UBSan in the
 * sanitizer build), whether or not the build can fuzz.
 *
 *   fuzz/<name>-replay [-v] FILE|DIR...
 *
 * A directory stands for the regular files in it, in name order. Options
 * in libFuzzer's -flag=value form are ignored, so the same command line
 * works for both. A broken invariant aborts (fz_fail) with the input's
 * name printed just before. With LXS_FUZZ_TIMEOUT=N, an input that runs
 * longer than N seconds ends the program with SIGALRM (libFuzzer's
 * -timeout), so that a known slow input can be shown to be still slow.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz/fuzz-util.h"

/* Harnesses that need no set-up leave it undefined. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static bool rp_verbose;
static unsigned int rp_timeout;

static unsigned long
rp_file(const char *path)
{
	FILE *f = fopen(path, "rbe");
	struct buf b = { 0 };
	char chunk[65536];
	size_t n;

	if (f == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&b, chunk, n);
	fclose(f);
	if (rp_verbose)
		fprintf(stderr, "replay: %s (%zu bytes)\n", path, b.len);
	/* Named before running, so that a crash report says which input. */
	setenv("LXS_FUZZ_INPUT", path, 1);
	/* A private copy: an input must not be readable past its end. */
	{
		uint8_t *data = xmalloc(b.len ? b.len : 1);

		if (b.len)
			memcpy(data, b.data, b.len);
		alarm(rp_timeout);
		LLVMFuzzerTestOneInput(data, b.len);
		alarm(0);
		free(data);
	}
	buf_free(&b);
	return 1;
}

static int
rp_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static unsigned long
rp_path(const char *path)
{
	struct dirent **names;
	struct stat st;
	unsigned long count = 0;
	int n;

	if (stat(path, &st) < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	if (!S_ISDIR(st.st_mode))
		return rp_file(path);
	n = scandir(path, &names, NULL, rp_cmp);
	if (n < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	for (int i = 0; i < n; i++) {
		char *sub = xasprintf("%s/%s", path, names[i]->d_name);

		if (stat(sub, &st) == 0 && S_ISREG(st.st_mode))
			count += rp_file(sub);
		free(sub);
		free(names[i]);
	}
	free(names);
	return count;
}

int
main(int argc, char **argv)
{
	unsigned long count = 0;

	if (getenv("LXS_FUZZ_TIMEOUT"))
		rp_timeout = (unsigned int)atoi(getenv("LXS_FUZZ_TIMEOUT"));
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-v") == 0)
			rp_verbose = true;
		else if (argv[i][0] != '-')
			count += rp_path(argv[i]);
	}
	printf("%s: %lu input(s) replayed\n", argv[0], count);
	return 0;
}
