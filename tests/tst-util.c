/*
 * Helpers of the durability tests (see tests/tst-util.h).
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tests/tst-util.h"

static int
tst_tree_node(void *arg, const char *path, const void *value, uint32_t len,
	      const struct store_perm *perms, uint32_t nperms)
{
	struct buf *out = arg;

	buf_printf(out, "%s=", path);
	buf_add(out, value, len);
	buf_add(out, "|", 1);
	for (uint32_t i = 0; i < nperms; i++) {
		store_perm_format(&perms[i], out);
		buf_add(out, ",", 1);
	}
	buf_add(out, "\n", 1);
	return 0;
}

static void
tst_tree_quotas(void *arg, uint32_t domid)
{
	void **a = arg;
	struct store *s = a[0];
	struct buf *out = a[1];
	uint32_t v;

	for (int q = 0; q < STORE_QUOTA_COUNT; q++)
		if (store_quota_get_own(s, domid, (enum store_quota)q, false,
					&v) == 0)
			buf_printf(out, "quota %u %s %u\n", domid,
				   store_quota_name((enum store_quota)q), v);
}

void
tst_tree_dump(struct store *s, struct buf *out)
{
	void *a[2] = { s, out };

	store_walk(s, tst_tree_node, out);
	tst_tree_quotas(a, STORE_DOMID_GLOBAL);
	store_foreach_domain(s, tst_tree_quotas, a);
}

bool
tst_tree_equal(struct store *a, struct store *b)
{
	struct buf da = { 0 }, db = { 0 };
	bool eq;

	tst_tree_dump(a, &da);
	tst_tree_dump(b, &db);
	eq = da.len == db.len && memcmp(da.data, db.data, da.len) == 0;
	buf_free(&da);
	buf_free(&db);
	return eq;
}

void
tst_mkdtemp(char *dir, const char *prefix)
{
	snprintf(dir, 64, "/tmp/%s.XXXXXX", prefix);
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		abort();
	}
}

void
tst_rmtree(const char *dir)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);

	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", dir);
	free(cmd);
}

void
tst_flip_byte(const char *path, long off, unsigned char mask)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	unsigned char b;

	if (fd < 0 || pread(fd, &b, 1, off) != 1) {
		perror(path);
		abort();
	}
	b ^= mask;
	if (pwrite(fd, &b, 1, off) != 1) {
		perror(path);
		abort();
	}
	close(fd);
}
