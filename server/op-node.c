/*
 * op-node: requests on nodes (READ, WRITE, MKDIR, RM, DIRECTORY,
 * DIRECTORY_PART, GET_PERMS, SET_PERMS).
 *
 * Paths go to the store as the client sent them; the store resolves and
 * checks them. Argument shapes (anything else is EINVAL):
 *   READ, MKDIR, RM, DIRECTORY, GET_PERMS   path\0
 *   WRITE                                   path\0<value bytes, NULs allowed>
 *   DIRECTORY_PART                          path\0offset\0
 *   SET_PERMS                               path\0perm\0[perm\0...]
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "server/server-int.h"

static int
op_one_path(struct op_req *r, const char **path)
{
	int n = op_args(r, 1, 1, path);

	return n < 0 ? n : 0;
}

int
op_read(struct op_req *r)
{
	const char *path;
	const void *value;
	uint32_t len;
	int rc;

	rc = op_one_path(r, &path);
	if (rc == 0)
		rc = store_read(r->c->sc, r->hdr->tx_id, path, &value, &len);
	if (rc == 0)
		buf_add(&r->reply, value, len);
	return rc;
}

int
op_write(struct op_req *r)
{
	const char *nul = memchr(r->payload, '\0', r->len);
	uint32_t plen;
	int rc;

	if (nul == NULL)
		return -EINVAL;
	plen = (uint32_t)(nul - r->payload) + 1;
	rc = store_write(r->c->sc, r->hdr->tx_id, r->payload,
			 r->payload + plen, r->len - plen);
	if (rc == 0)
		op_reply_str(r, "OK");
	return rc;
}

int
op_mkdir(struct op_req *r)
{
	const char *path;
	int rc;

	rc = op_one_path(r, &path);
	if (rc == 0)
		rc = store_mkdir(r->c->sc, r->hdr->tx_id, path);
	if (rc == 0)
		op_reply_str(r, "OK");
	return rc;
}

int
op_rm(struct op_req *r)
{
	const char *path;
	int rc;

	rc = op_one_path(r, &path);
	if (rc == 0)
		rc = store_rm(r->c->sc, r->hdr->tx_id, path);
	if (rc == 0)
		op_reply_str(r, "OK");
	return rc;
}

int
op_directory(struct op_req *r)
{
	const char *path;
	int rc;

	rc = op_one_path(r, &path);
	if (rc == 0)
		rc = store_directory(r->c->sc, r->hdr->tx_id, path, &r->reply);
	return rc;
}

int
op_directory_part(struct op_req *r)
{
	const char *argv[2];
	unsigned long off;
	int rc;

	rc = op_args(r, 2, 2, argv);
	if (rc < 0)
		return rc;
	if (parse_uint(argv[1], UINT32_MAX, &off) < 0)
		return -EINVAL;
	return store_directory_part(r->c->sc, r->hdr->tx_id, argv[0],
				    (uint32_t)off, XENSTORE_PAYLOAD_MAX,
				    &r->reply);
}

int
op_get_perms(struct op_req *r)
{
	const char *path;
	int rc;

	rc = op_one_path(r, &path);
	if (rc == 0)
		rc = store_get_perms(r->c->sc, r->hdr->tx_id, path, &r->reply);
	return rc;
}

int
op_set_perms(struct op_req *r)
{
	/* A 4096-byte payload holds at most 2048 strings. */
	const char *argv[XENSTORE_PAYLOAD_MAX / 2];
	struct store_perm *perms;
	int n, rc = 0;

	n = op_args(r, 2, LXS_ARRAY_SIZE(argv), argv);
	if (n < 0)
		return n;
	perms = xcalloc((size_t)n - 1, sizeof(*perms));
	for (int i = 1; i < n && rc == 0; i++)
		rc = store_perm_parse(argv[i], &perms[i - 1]);
	if (rc == 0)
		rc = store_set_perms(r->c->sc, r->hdr->tx_id, argv[0], perms,
				     (uint32_t)n - 1);
	free(perms);
	if (rc == 0)
		op_reply_str(r, "OK");
	return rc;
}
