/*
 * xenstore-ls: a subtree as an indented list of `name = "value"` lines.
 *
 * The layout is Xen's, byte for byte, because scripts parse it:
 *
 *   tool = ""
 *    xenstored = ""                    one space of indent per level
 *   name = "value"  . . . . .  (n0)    -p: dots up to column 60, then perms
 *   /tool/xenstored = ""   (n0)        -f: full paths, no dots
 *
 * Lines are cut to max_width columns: a name keeps at most
 * max_width - 8 - indent characters, and a value that would not fit is
 * shown as `= "<prefix>\..."`. max_width is 80, or the terminal width minus
 * two when stdout is a terminal (even with -f, which otherwise lifts the
 * limit). The fit test compares the raw value length, not the escaped one,
 * and is done in unsigned arithmetic, so a zero terminal width (-2) turns
 * truncation off instead of cutting everything; both as in Xen.
 */
#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/xenstore-int.h"

/* strlen(" = \"...\""): the room kept for the value marker. */
#define CLI_LS_TAG_LEN	8

static void
cli_ls_perms(struct cli *cli, const char *path, const char *name)
{
	struct xsc_perm *perms;
	unsigned int n;
	char s[16];
	int err;

	err = xsc_get_perms(cli->conn, XSC_TX_NONE, path, &perms, &n);
	if (err < 0) {
		fflush(stdout);
		warnx("could not access permissions for %s: %s", name,
		      strerror(-err));
		return;
	}
	fputs("  (", stdout);
	for (unsigned int i = 0; i < n; i++) {
		if (i)
			putchar(',');
		xsc_perm_format(&perms[i], s, sizeof(s));
		fputs(s, stdout);
	}
	putchar(')');
	free(perms);
}

/* Prints the ` = "value"` part of a line; returns the new line width. */
static int
cli_ls_value(struct cli *cli, const char *path, int linewid)
{
	char *val, *esc;
	uint32_t len;
	int limit, err;

	err = xsc_read(cli->conn, XSC_TX_NONE, path, &val, &len);
	if (err < 0) {
		printf(":\n");
		return linewid;
	}
	esc = cli_escape_str(val, len);
	limit = cli->max_width - CLI_LS_TAG_LEN - linewid;
	if ((unsigned long)cli->max_width <
	    (unsigned long)linewid + len + CLI_LS_TAG_LEN) {
		printf(" = \"%.*s\\...\"", limit, esc);
	} else {
		linewid += printf(" = \"%s\"", esc);
		if (cli->prefix) {
			int stop = cli->desired_width < cli->max_width ?
				   cli->desired_width : cli->max_width;

			putchar(' ');
			for (linewid++; linewid < stop; linewid++)
				putchar((linewid & 1) ? '.' : ' ');
		}
	}
	free(esc);
	free(val);
	return linewid;
}

static void
cli_ls_tree(struct cli *cli, const char *path, int depth)
{
	char **names;
	unsigned int n;
	size_t plen = strlen(path);
	bool slash = plen > 0 && path[plen - 1] == '/';
	int err;

	err = xsc_directory(cli->conn, XSC_TX_NONE, path, &names, &n);
	if (err < 0) {
		/* A node removed while we walk is not an error. */
		if (depth > 0 && err == -ENOENT)
			return;
		fflush(stdout);
		errx(1, "could not list path %s: %s", path, strerror(-err));
	}

	for (unsigned int i = 0; i < n; i++) {
		char *child = xasprintf("%s%s%s", path, slash ? "" : "/",
					names[i]);
		int linewid = 0;

		if (cli->full) {
			fputs(child, stdout);
		} else {
			for (; linewid < depth; linewid++)
				putchar(' ');
			linewid += printf("%.*s",
					  cli->max_width - CLI_LS_TAG_LEN - linewid,
					  names[i]);
		}
		linewid = cli_ls_value(cli, child, linewid);
		if (cli->prefix)
			cli_ls_perms(cli, child, names[i]);
		putchar('\n');

		cli_ls_tree(cli, child, depth + 1);
		free(child);
	}
	free(names);
}

void
cli_ls(struct cli *cli, const char *path)
{
	cli_ls_tree(cli, path, 0);
}
