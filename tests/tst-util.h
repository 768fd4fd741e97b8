/*
 * Helpers of the durability tests: a byte-exact dump of a store (paths,
 * values, perms, child order, special nodes, quotas) for comparing two
 * stores, and scratch directories and file damage.
 */
#ifndef LXS_TST_UTIL_H
#define LXS_TST_UTIL_H

#include "common/common.h"
#include "store/store.h"

/* Appends the dump of s to out. */
void tst_tree_dump(struct store *s, struct buf *out);
/* true when both stores dump to the same bytes. */
bool tst_tree_equal(struct store *a, struct store *b);

/* Creates /tmp/<prefix>.XXXXXX into dir (room for 64 bytes); aborts on error. */
void tst_mkdtemp(char *dir, const char *prefix);
/* rm -rf dir. */
void tst_rmtree(const char *dir);
/* XORs the byte at off with mask (checked). */
void tst_flip_byte(const char *path, long off, unsigned char mask);

#endif
