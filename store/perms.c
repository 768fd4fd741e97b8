/*
 * Permissions. A node's perms are an owner entry followed by ACL entries.
 * Evaluation for a caller:
 *   - privileged: everything;
 *   - the owner is the caller or the caller's SET_TARGET domain: read,
 *     write and the right to set permissions (PERM_OWNER);
 *   - else the first ACL entry naming the caller, its target, or DOMID_ANY;
 *   - else the owner entry's bits, the default for everyone.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "store/store-int.h"

static bool
perm_matches(const struct store_caller *who, uint32_t domid)
{
	return domid == who->domid || domid == LXS_DOMID_ANY ||
	       (who->target != LXS_DOMID_INVALID && domid == who->target);
}

uint32_t
perm_for(const struct store_caller *who, const struct store_perm *p,
	 uint32_t n)
{
	const uint32_t all = STORE_PERM_BOTH | PERM_OWNER;

	if (who->priv)
		return all;
	if (n == 0)
		return 0;
	if (p[0].domid == who->domid ||
	    (who->target != LXS_DOMID_INVALID && p[0].domid == who->target))
		return all;
	for (uint32_t i = 1; i < n; i++)
		if (perm_matches(who, p[i].domid))
			return p[i].bits & STORE_PERM_BOTH;
	return p[0].bits & STORE_PERM_BOTH;
}

struct store_perm *
perms_dup(const struct store_perm *p, uint32_t n)
{
	return xmemdup(p, n * sizeof(*p));
}

int
store_perm_parse(const char *str, struct store_perm *out)
{
	unsigned long domid;

	switch (str[0]) {
	case 'n':
		out->bits = STORE_PERM_NONE;
		break;
	case 'r':
		out->bits = STORE_PERM_READ;
		break;
	case 'w':
		out->bits = STORE_PERM_WRITE;
		break;
	case 'b':
		out->bits = STORE_PERM_BOTH;
		break;
	default:
		return -EINVAL;
	}
	if (parse_uint(str + 1, 65535, &domid) < 0)
		return -EINVAL;
	out->domid = (uint32_t)domid;
	return 0;
}

void
store_perm_format(const struct store_perm *p, struct buf *out)
{
	static const char letters[] = "nrwb";

	buf_printf(out, "%c%u", letters[p->bits & STORE_PERM_BOTH], p->domid);
}
