/*
 * fuzz-util: input cursor, scratch directory and store comparison for the
 * fuzzers (contracts in fuzz-util.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz/fuzz-util.h"

void
fz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
	const char *input = getenv("LXS_FUZZ_INPUT");
	va_list ap;

	fprintf(stderr, "\n==fuzz== invariant broken at %s:%d: %s\n", file,
		line, cond);
	if (input)
		fprintf(stderr, "==fuzz== input: %s\n", input);
	fputs("==fuzz== ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	abort();
}

bool
fz_skip_known(void)
{
	const char *v = getenv("LXS_FUZZ_SKIP_KNOWN");

	return v != NULL && *v != '\0' && strcmp(v, "0") != 0;
}

uint8_t
fz_u8(struct fz_in *in)
{
	uint8_t v;

	if (in->n == 0)
		return 0;
	v = in->p[0];
	in->p++;
	in->n--;
	return v;
}

uint16_t
fz_u16(struct fz_in *in)
{
	uint16_t lo = fz_u8(in);

	return (uint16_t)(lo | (uint16_t)(fz_u8(in) << 8));
}

uint32_t
fz_u32(struct fz_in *in)
{
	uint32_t lo = fz_u16(in);

	return lo | (uint32_t)fz_u16(in) << 16;
}

const uint8_t *
fz_take(struct fz_in *in, size_t want, size_t *got)
{
	const uint8_t *p = in->p;

	*got = want < in->n ? want : in->n;
	in->p += *got;
	in->n -= *got;
	return p;
}

/* ---- scratch directory --------------------------------------------------- */

static char *fz_dir;

static void
fz_rm_tree(const char *path, bool keep_top)
{
	struct stat st;
	DIR *d;
	struct dirent *de;

	if (lstat(path, &st) < 0)
		return;
	if (!S_ISDIR(st.st_mode)) {
		unlink(path);
		return;
	}
	d = opendir(path);
	while (d && (de = readdir(d)) != NULL) {
		char *sub;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		sub = xasprintf("%s/%s", path, de->d_name);
		fz_rm_tree(sub, false);
		free(sub);
	}
	if (d)
		closedir(d);
	if (!keep_top)
		rmdir(path);
}

static void
fz_tmpdir_remove(void)
{
	if (fz_dir) {
		fz_rm_tree(fz_dir, false);
		free(fz_dir);
		fz_dir = NULL;
	}
}

const char *
fz_tmpdir(void)
{
	const char *base = getenv("LXS_FUZZ_TMPDIR");
	struct stat st;
	char *tmpl;

	if (fz_dir)
		return fz_dir;
	if (base == NULL || *base == '\0')
		base = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) &&
		       access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	tmpl = xasprintf("%s/lxs-fuzz.XXXXXX", base);
	FZ_ASSERT(mkdtemp(tmpl) != NULL, "mkdtemp %s: %s", tmpl,
		  strerror(errno));
	fz_dir = tmpl;
	atexit(fz_tmpdir_remove);
	return fz_dir;
}

void
fz_empty_dir(const char *dir)
{
	fz_rm_tree(dir, true);
}

void
fz_write_file(const char *path, const void *data, size_t len)
{
	const char *p = data;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	FZ_ASSERT(fd >= 0, "open %s: %s", path, strerror(errno));
	while (len) {
		ssize_t n = write(fd, p, len);

		FZ_ASSERT(n > 0, "write %s: %s", path, strerror(errno));
		p += n;
		len -= (size_t)n;
	}
	close(fd);
}

/* ---- stores -------------------------------------------------------------- */

static int
fz_dump_node(void *arg, const char *path, const void *value, uint32_t len,
	     const struct store_perm *perms, uint32_t nperms)
{
	struct buf *out = arg;
	const unsigned char *v = value;

	buf_printf(out, "%s =", path);
	for (uint32_t i = 0; i < len; i++)
		buf_printf(out, "%02x", v[i]);
	for (uint32_t i = 0; i < nperms; i++) {
		buf_add(out, " ", 1);
		store_perm_format(&perms[i], out);
	}
	buf_add(out, "\n", 1);
	return 0;
}

void
fz_store_dump(const struct store *s, struct buf *out)
{
	store_walk(s, fz_dump_node, out);
}

void
fz_store_check(const struct store *s, const char *when)
{
	struct buf report = { 0 };
	unsigned int n = store_check(s, &report);

	FZ_ASSERT(n == 0, "store_check %s: %u problem(s):\n%.*s", when, n,
		  (int)report.len, report.data);
	buf_free(&report);
}

void
fz_store_same(const struct store *a, const struct store *b, const char *what)
{
	struct buf da = { 0 }, db = { 0 };
	size_t i = 0;

	fz_store_dump(a, &da);
	fz_store_dump(b, &db);
	/* Terminated for the message; the NULs compare equal. */
	buf_add(&da, "", 1);
	buf_add(&db, "", 1);
	while (i < da.len && i < db.len && da.data[i] == db.data[i])
		i++;
	if (da.len != db.len || i != da.len) {
		/* Show the first differing line of each. */
		size_t start = i;

		while (start > 0 && da.data[start - 1] != '\n')
			start--;
		FZ_ASSERT(0, "%s: trees differ at byte %zu:\n  %.200s\nvs\n  %.200s",
			  what, i, da.data + start,
			  start < db.len ? db.data + start : "");
	}
	buf_free(&da);
	buf_free(&db);
}
