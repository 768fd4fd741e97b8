/*
 * The xenstore commands proper: read, write, rm, exists, list, chmod and
 * watch (ls is in xenstore-ls.c). Each runs over all operands inside
 * cli->tx, which main starts, commits and retries on EAGAIN; so a command
 * must only touch the store and cli->out, never print directly.
 *
 * Messages and statuses are those of Xen's xenstore-* tools: a failing
 * operand stops the command with status 1 after one "could not ..." line;
 * exists fails silently.
 */
#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/xenstore-int.h"

static int
cli_read(struct cli *cli)
{
	for (int i = 0; i < cli->nargs; i++) {
		const char *path = cli->args[i];
		char *val;
		uint32_t len;

		if (xsc_read(cli->conn, cli->tx, path, &val, &len) < 0) {
			warnx("couldn't read path %s", path);
			return 1;
		}
		if (cli->prefix)
			buf_printf(&cli->out, "%s: ", path);
		if (cli->raw) {
			buf_add(&cli->out, val, len);
		} else {
			cli_escape(&cli->out, val, len);
			buf_add(&cli->out, "\n", 1);
		}
		free(val);
	}
	return 0;
}

static int
cli_write(struct cli *cli)
{
	for (int i = 0; i + 1 < cli->nargs; i += 2) {
		const char *path = cli->args[i];
		const char *spec = cli->args[i + 1];
		char *val = NULL;
		size_t len;
		int err;

		if (cli->raw) {
			len = strlen(spec);
		} else {
			val = cli_unescape(spec, &len);
			spec = val;
		}
		err = len > XENSTORE_PAYLOAD_MAX ? -E2BIG :
		      xsc_write(cli->conn, cli->tx, path, spec, (uint32_t)len);
		free(val);
		if (err < 0) {
			warnx("could not write path %s", path);
			return 1;
		}
	}
	return 0;
}

static int
cli_rm_one(struct cli *cli, const char *path)
{
	if (xsc_rm(cli->conn, cli->tx, path) < 0) {
		warnx("could not remove path %s", path);
		return 1;
	}
	return 0;
}

/* True if path has an empty value and no children. */
static bool
cli_is_empty_leaf(struct cli *cli, const char *path)
{
	char *val, **names;
	uint32_t len;
	unsigned int n;
	bool empty = false;

	if (xsc_read(cli->conn, cli->tx, path, &val, &len) < 0)
		return false;
	if (len == 0 && xsc_directory(cli->conn, cli->tx, path,
				      &names, &n) == 0) {
		empty = n == 0;
		free(names);
	}
	free(val);
	return empty;
}

/*
 * rm -t: after removing a node, remove its parent too while that parent is
 * left with an empty value and no children, up to the root (whose parent
 * "" cannot be read, which ends the walk).
 */
static int
cli_rm_tidy(struct cli *cli, const char *path)
{
	char *p = xstrdup(path);
	char *slash;
	int ret = 0;

	for (;;) {
		ret = cli_rm_one(cli, p);
		if (ret)
			break;
		slash = strrchr(p, '/');
		if (!slash)
			break;
		*slash = '\0';
		if (!cli_is_empty_leaf(cli, p))
			break;
	}
	free(p);
	return ret;
}

static int
cli_rm(struct cli *cli)
{
	for (int i = 0; i < cli->nargs; i++) {
		int ret = cli->tidy ? cli_rm_tidy(cli, cli->args[i]) :
			  cli_rm_one(cli, cli->args[i]);

		if (ret)
			return ret;
	}
	return 0;
}

static int
cli_exists(struct cli *cli)
{
	for (int i = 0; i < cli->nargs; i++) {
		char *val;

		if (xsc_read(cli->conn, cli->tx, cli->args[i], &val, NULL) < 0)
			return 1;
		free(val);
	}
	return 0;
}

static int
cli_list(struct cli *cli)
{
	for (int i = 0; i < cli->nargs; i++) {
		const char *path = cli->args[i];
		/* "/" would give "//name"; Xen's tools print "/name" since 4.18. */
		const char *pref = strcmp(path, "/") == 0 ? "" : path;
		char **names;
		unsigned int n;

		if (xsc_directory(cli->conn, cli->tx, path, &names, &n) < 0) {
			warnx("could not list path %s", path);
			return 1;
		}
		for (unsigned int j = 0; j < n; j++) {
			if (cli->prefix)
				buf_printf(&cli->out, "%s/", pref);
			buf_printf(&cli->out, "%s\n", names[j]);
		}
		free(names);
	}
	return 0;
}

/*
 * Parses "<letter><domid>" the way Xen's chmod does: the letter must be
 * n, r, w or b, and the domid is atoi() of the rest (so "r1x" is r1).
 */
static void
cli_chmod_parse(const char *spec, struct xsc_perm *perm)
{
	switch (spec[0]) {
	case 'n':
	case 'r':
	case 'w':
	case 'b':
		perm->type = spec[0];
		break;
	default:
		errx(1, "Invalid permission specification: '%c'", spec[0]);
	}
	perm->domid = (unsigned int)atoi(spec + 1);
}

static char *
cli_path_join(const char *dir, const char *name)
{
	size_t len = strlen(dir);

	return xasprintf("%s%s%s", dir,
			 len > 0 && dir[len - 1] == '/' ? "" : "/", name);
}

/*
 * Sets perms on path; with upto also on each parent up to (not including)
 * the root, with recurse also on the whole subtree.
 */
static void
cli_chmod_path(struct cli *cli, const char *path,
	       const struct xsc_perm *perms, unsigned int n,
	       bool upto, bool recurse)
{
	int err;

	if (path[0] == '\0')
		return;
	err = xsc_set_perms(cli->conn, cli->tx, path, perms, n);
	if (err < 0)
		errx(1, "Error occurred setting permissions on '%s': %s", path,
		     strerror(-err));

	if (upto) {
		const char *slash = strrchr(path, '/');
		char *parent;

		if (!slash)
			errx(1, "Unable to locate path separator '/' in '%s'",
			     path);
		parent = xstrndup(path, (size_t)(slash - path));
		cli_chmod_path(cli, parent, perms, n, true, false);
		free(parent);
	}

	if (recurse) {
		char **names;
		unsigned int nn;

		if (xsc_directory(cli->conn, cli->tx, path, &names, &nn) < 0)
			return;
		for (unsigned int i = 0; i < nn; i++) {
			char *child = cli_path_join(path, names[i]);

			cli_chmod_path(cli, child, perms, n, false, true);
			free(child);
		}
		free(names);
	}
}

static int
cli_chmod(struct cli *cli)
{
	unsigned int n = (unsigned int)cli->nargs - 1;
	struct xsc_perm *perms = xcalloc(n ? n : 1, sizeof(*perms));

	for (unsigned int i = 0; i < n; i++)
		cli_chmod_parse(cli->args[i + 1], &perms[i]);
	cli_chmod_path(cli, cli->args[0], perms, n, cli->upto, cli->recurse);
	free(perms);
	return 0;
}

static void
cli_watch_add(struct cli *cli, const char *path)
{
	uint32_t features = 0;

	if (cli->depth < 0) {
		if (xsc_watch(cli->conn, path, path, -1) < 0)
			errx(1, "Unable to add watch on %s", path);
		return;
	}
	if (xsc_get_features(cli->conn, &features) < 0 ||
	    !(features & XENSTORE_SERVER_FEATURE_WATCHDEPTH) ||
	    xsc_watch(cli->conn, path, path, cli->depth) < 0)
		errx(1, "Unable to add watch on %s with depth %d", path,
		     cli->depth);
}

/* Prints the path of each event; -n N stops after N events (-1: never). */
static int
cli_watch(struct cli *cli)
{
	for (int i = 0; i < cli->nargs; i++)
		cli_watch_add(cli, cli->args[i]);

	for (int count = 0; cli->nr_events == -1 || count < cli->nr_events;
	     count++) {
		char *path, *token;
		int err = xsc_read_watch_event(cli->conn, &path, &token);

		if (err < 0)
			errx(1, "could not read watch event: %s",
			     strerror(-err));
		printf("%s\n", path);
		fflush(stdout);
		free(path);
	}
	return 0;
}

int
cli_perform(struct cli *cli)
{
	switch (cli->mode) {
	case CLI_MODE_READ:
		return cli_read(cli);
	case CLI_MODE_WRITE:
		return cli_write(cli);
	case CLI_MODE_RM:
		return cli_rm(cli);
	case CLI_MODE_EXISTS:
		return cli_exists(cli);
	case CLI_MODE_LIST:
		return cli_list(cli);
	case CLI_MODE_CHMOD:
		return cli_chmod(cli);
	case CLI_MODE_WATCH:
		return cli_watch(cli);
	case CLI_MODE_LS:
		for (int i = 0; i < cli->nargs; i++)
			cli_ls(cli, cli->args[i]);
		return 0;
	case CLI_MODE_UNKNOWN:
		break;
	}
	errx(1, "internal error: no mode");
}
