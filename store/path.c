/*
 * Path rules of the protocol text: ASCII alphanumerics and "-/_@"; no empty
 * path, no doubled slash, no trailing slash except for "/" itself; at most
 * STORE_ABS_PATH_MAX bytes absolute. Relative paths resolve under the
 * caller's /local/domain/<domid>. Paths starting with '@' name special
 * nodes and are only allowed where the request says so. For unprivileged
 * callers the part below /local/domain/<domid>/ is also bounded by the
 * path-max quota.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "store/store-int.h"

static bool
path_char_ok(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch == '-' || ch == '/' ||
	       ch == '_' || ch == '@';
}

static bool
path_chars_valid(const char *p)
{
	for (; *p; p++)
		if (!path_char_ok(*p))
			return false;
	return true;
}

/* Absolute path: starts with '/', no "//", no trailing '/' unless "/". */
static bool
path_shape_valid(const char *p)
{
	size_t len = strlen(p);

	if (p[0] != '/')
		return false;
	if (len > 1 && p[len - 1] == '/')
		return false;
	return strstr(p, "//") == NULL;
}

/* Length of the part below /local/domain/<digits>/, or of the whole path. */
static size_t
path_rel_len(const char *p)
{
	static const char pfx[] = "/local/domain/";
	const char *q;

	if (strncmp(p, pfx, sizeof(pfx) - 1) != 0)
		return strlen(p);
	q = p + sizeof(pfx) - 1;
	if (*q < '0' || *q > '9')
		return strlen(p);
	while (*q >= '0' && *q <= '9')
		q++;
	if (*q != '/')
		return strlen(p);
	return strlen(q + 1);
}

int
store_path_resolve(const struct store *s, const struct store_caller *caller,
		   const char *path, bool allow_special, char **out)
{
	char *abs;

	if (path[0] == '\0')
		return -EINVAL;
	if (path[0] == '@') {
		if (!allow_special || path[1] == '\0' ||
		    !path_chars_valid(path) || strlen(path) > STORE_ABS_PATH_MAX)
			return -EINVAL;
		*out = xstrdup(path);
		return 0;
	}
	if (!path_chars_valid(path))
		return -EINVAL;
	if (path[0] == '/')
		abs = xstrdup(path);
	else
		abs = xasprintf("/local/domain/%u/%s", caller->domid, path);
	if (!path_shape_valid(abs) || strlen(abs) > STORE_ABS_PATH_MAX)
		goto fail;
	if (!caller->priv) {
		uint32_t max = quota_eff(s, caller->domid, STORE_QUOTA_PATH_MAX);

		if (max && path_rel_len(abs) > max) {
			quota_refuse(s, caller->domid, STORE_QUOTA_PATH_MAX,
				     path_rel_len(abs), max);
			goto fail;
		}
	}
	*out = abs;
	return 0;
fail:
	free(abs);
	return -EINVAL;
}

bool
path_valid_abs(const char *path)
{
	if (path[0] == '@')
		return path[1] != '\0' && path_chars_valid(path) &&
		       strlen(path) <= STORE_ABS_PATH_MAX;
	return path_chars_valid(path) && path_shape_valid(path) &&
	       strlen(path) <= STORE_ABS_PATH_MAX;
}

size_t
path_parent_len(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL || slash == path)
		return 1;
	return (size_t)(slash - path);
}

uint32_t
path_depth(const char *path)
{
	uint32_t n = 0;

	if (strcmp(path, "/") == 0)
		return 0;
	for (; *path; path++)
		if (*path == '/')
			n++;
	return n;
}

bool
path_is_under(const char *child, const char *parent)
{
	size_t len = strlen(parent);

	if (strcmp(parent, "/") == 0)
		return child[0] == '/';
	return strncmp(child, parent, len) == 0 &&
	       (child[len] == '\0' || child[len] == '/');
}
