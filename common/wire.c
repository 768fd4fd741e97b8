/*
 * Wire-level tables and payload helpers shared by the daemon and the tools.
 */
#include <errno.h>
#include <string.h>

#include "common.h"

static const char *const wire_type_names[LXS_TYPE_COUNT] = {
	[XS_CONTROL] = "CONTROL",
	[XS_DIRECTORY] = "DIRECTORY",
	[XS_READ] = "READ",
	[XS_GET_PERMS] = "GET_PERMS",
	[XS_WATCH] = "WATCH",
	[XS_UNWATCH] = "UNWATCH",
	[XS_TRANSACTION_START] = "TRANSACTION_START",
	[XS_TRANSACTION_END] = "TRANSACTION_END",
	[XS_INTRODUCE] = "INTRODUCE",
	[XS_RELEASE] = "RELEASE",
	[XS_GET_DOMAIN_PATH] = "GET_DOMAIN_PATH",
	[XS_WRITE] = "WRITE",
	[XS_MKDIR] = "MKDIR",
	[XS_RM] = "RM",
	[XS_SET_PERMS] = "SET_PERMS",
	[XS_WATCH_EVENT] = "WATCH_EVENT",
	[XS_ERROR] = "ERROR",
	[XS_IS_DOMAIN_INTRODUCED] = "IS_DOMAIN_INTRODUCED",
	[XS_RESUME] = "RESUME",
	[XS_SET_TARGET] = "SET_TARGET",
	[20] = "RESTRICT",
	[XS_RESET_WATCHES] = "RESET_WATCHES",
	[XS_DIRECTORY_PART] = "DIRECTORY_PART",
	[XS_GET_FEATURE] = "GET_FEATURE",
	[XS_SET_FEATURE] = "SET_FEATURE",
	[XS_GET_QUOTA] = "GET_QUOTA",
	[XS_SET_QUOTA] = "SET_QUOTA",
};

/* The order of Xen's xsd_errors table; the names are the wire contract. */
static const struct {
	int err;
	const char *name;
} wire_errors[] = {
	{ EINVAL, "EINVAL" },
	{ EACCES, "EACCES" },
	{ EEXIST, "EEXIST" },
	{ EISDIR, "EISDIR" },
	{ ENOENT, "ENOENT" },
	{ ENOMEM, "ENOMEM" },
	{ ENOSPC, "ENOSPC" },
	{ EIO, "EIO" },
	{ ENOTEMPTY, "ENOTEMPTY" },
	{ ENOSYS, "ENOSYS" },
	{ EROFS, "EROFS" },
	{ EBUSY, "EBUSY" },
	{ EAGAIN, "EAGAIN" },
	{ EISCONN, "EISCONN" },
	{ E2BIG, "E2BIG" },
	{ EPERM, "EPERM" },
};

const char *
wire_error_name(int err)
{
	for (size_t i = 0; i < LXS_ARRAY_SIZE(wire_errors); i++)
		if (wire_errors[i].err == err)
			return wire_errors[i].name;
	return NULL;
}

int
wire_error_value(const char *name)
{
	for (size_t i = 0; i < LXS_ARRAY_SIZE(wire_errors); i++)
		if (strcmp(wire_errors[i].name, name) == 0)
			return wire_errors[i].err;
	return 0;
}

const char *
wire_type_name(uint32_t type)
{
	if (type >= LXS_TYPE_COUNT)
		return NULL;
	return wire_type_names[type];
}

int
wire_type_value(const char *name)
{
	for (int i = 0; i < LXS_TYPE_COUNT; i++)
		if (wire_type_names[i] && strcmp(wire_type_names[i], name) == 0)
			return i;
	return -1;
}

unsigned int
wire_split(const char *payload, uint32_t len, const char **argv,
	   unsigned int max, uint32_t *tail_len)
{
	unsigned int n = 0;
	uint32_t start = 0;

	for (uint32_t i = 0; i < len; i++) {
		if (payload[i] != '\0')
			continue;
		if (n < max)
			argv[n] = payload + start;
		n++;
		start = i + 1;
	}
	if (tail_len)
		*tail_len = len - start;
	return n;
}

int
parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;

	if (*s == '\0')
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		if (v > (max - (unsigned long)(*s - '0')) / 10)
			return -EINVAL;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	*out = v;
	return 0;
}
