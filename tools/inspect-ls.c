/*
 * ls, read and perms: the tree and single nodes of a state.
 *
 * ls prints what Debian's xenstore-ls prints for the same tree, byte for
 * byte (tests/e2e/inspect-ls.sh compares them), while streaming: each node
 * is printed as the walk reaches it, and nothing of the output is kept.
 * The walk's pre-order with children in insertion order is the order in
 * which xenstore-ls recurses through DIRECTORY replies, so the indent is
 * the depth below PATH. The line rules (see tools/xenstore-ls.c, which
 * follows the same tool against a daemon):
 *
 *   name = "value"                     one space of indent per level
 *   name = "value"  . . . . .  (n0)    -p: dots up to column 60, then perms
 *   /full/path = "value"               -f: full paths, no width limit
 *
 * The width is 80 columns, or the terminal's minus two when stdout is a
 * terminal (even with -f); a name keeps at most width - 8 - indent
 * characters, and a value whose raw length does not fit is cut and shown
 * as "<prefix>\...".
 *
 * Values are escaped as the xenstore tools escape them (cli_escape).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "tools/inspect.h"
#include "tools/xenstore-int.h"

/* strlen(" = \"...\""): the room kept for the value marker. */
#define INSPECT_LS_TAG_LEN	8
#define INSPECT_LS_WIDTH	80
#define INSPECT_LS_PERMS_COL	60

void
inspect_perms_format(const struct store_perm *p, uint32_t n, const char *sep,
		     struct buf *out)
{
	for (uint32_t i = 0; i < n; i++) {
		if (i)
			buf_add(out, sep, strlen(sep));
		store_perm_format(&p[i], out);
	}
}

/* Resolves PATH as a dom0 client's path would be resolved. */
static int
inspect_path_resolve(const char *path, bool special, char **abs)
{
	static const struct store_caller dom0 = {
		.domid = 0,
		.target = LXS_DOMID_INVALID,
		.priv = true,
	};
	struct store *s = inspect_store_new(NULL);
	int rc = store_path_resolve(s, &dom0, path, special, abs);

	store_free(s);
	if (rc < 0)
		inspect_error("%s: invalid path", path);
	return rc;
}

/* true if path is base or below it. */
static bool
inspect_path_under(const char *path, const char *base, size_t baselen)
{
	if (strncmp(path, base, baselen) != 0)
		return false;
	return baselen == 1 || path[baselen] == '/' || path[baselen] == '\0';
}

/* --- ls ------------------------------------------------------------------- */

struct ls_ctx {
	const char *given;		/* PATH as given: -f prints it */
	bool given_slash;
	const char *base;		/* PATH resolved */
	size_t baselen;
	bool found;
	bool full;
	bool perms;
	int max_width;
	int desired_width;
	struct buf esc;
	struct buf pb;
};

static int
inspect_ls_value(struct ls_ctx *c, const void *value, uint32_t len,
		 int linewid)
{
	int limit = c->max_width - INSPECT_LS_TAG_LEN - linewid;

	buf_reset(&c->esc);
	cli_escape(&c->esc, value, len);
	buf_add(&c->esc, "", 1);
	/* Unsigned, as in Xen: a width of -2 (no terminal width) never cuts. */
	if ((unsigned long)c->max_width <
	    (unsigned long)linewid + len + INSPECT_LS_TAG_LEN) {
		printf(" = \"%.*s\\...\"", limit, c->esc.data);
		return linewid;
	}
	linewid += printf(" = \"%s\"", c->esc.data);
	if (c->perms) {
		int stop = c->desired_width < c->max_width ? c->desired_width :
							     c->max_width;

		putchar(' ');
		for (linewid++; linewid < stop; linewid++)
			putchar((linewid & 1) ? '.' : ' ');
	}
	return linewid;
}

static int
inspect_ls_node(void *arg, const char *path, const void *value, uint32_t len,
		const struct store_perm *perms, uint32_t nperms)
{
	struct ls_ctx *c = arg;
	const char *rel, *name;
	int depth = 0, linewid = 0;

	/* The special nodes are not part of the tree below "/". */
	if (path[0] != '/' || !inspect_path_under(path, c->base, c->baselen))
		return 0;
	if (path[c->baselen == 1 ? 1 : c->baselen] == '\0') {
		c->found = true;
		return 0;
	}
	rel = path + c->baselen + (c->baselen == 1 ? 0 : 1);
	name = rel;
	for (const char *p = rel; *p; p++)
		if (*p == '/') {
			depth++;
			name = p + 1;
		}
	if (c->full) {
		printf("%s%s%s", c->given, c->given_slash ? "" : "/", rel);
	} else {
		for (; linewid < depth; linewid++)
			putchar(' ');
		linewid += printf("%.*s",
				  c->max_width - INSPECT_LS_TAG_LEN - linewid,
				  name);
	}
	inspect_ls_value(c, value, len, linewid);
	if (c->perms) {
		buf_reset(&c->pb);
		inspect_perms_format(perms, nperms, ",", &c->pb);
		printf("  (%.*s)", (int)c->pb.len, c->pb.data);
	}
	putchar('\n');
	return 0;
}

int
inspect_cmd_ls(struct inspect *in, const struct inspect_point *at, int argc,
	       char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static char *root[] = { "/", NULL };
	struct ls_ctx c = {
		.max_width = INSPECT_LS_WIDTH,
		.desired_width = INSPECT_LS_PERMS_COL,
	};
	struct inspect_state *st = NULL;
	struct winsize ws;
	char **paths;
	int opt, npaths, rc = 0;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "fph", opts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			c.full = true;
			c.max_width = INT_MAX / 2;
			c.desired_width = 0;
			break;
		case 'p':
			c.perms = true;
			break;
		default:
			return inspect_usage("ls");
		}
	}
	paths = optind < argc ? argv + optind : root;
	npaths = optind < argc ? argc - optind : 1;
	if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0)
		c.max_width = ws.ws_col - 2;

	rc = inspect_state_open_at(in, at, false, &st);
	for (int i = 0; rc == 0 && i < npaths; i++) {
		char *abs = NULL;
		size_t glen = strlen(paths[i]);

		rc = inspect_path_resolve(paths[i], false, &abs);
		if (rc < 0)
			break;
		c.given = paths[i];
		c.given_slash = glen > 0 && paths[i][glen - 1] == '/';
		c.base = abs;
		c.baselen = strlen(abs);
		c.found = false;
		rc = inspect_state_walk(in, st, inspect_ls_node, &c);
		if (rc == 0 && !c.found) {
			inspect_error("%s: no such node", paths[i]);
			rc = -ENOENT;
		}
		free(abs);
	}
	buf_free(&c.esc);
	buf_free(&c.pb);
	inspect_state_free(st);
	return rc < 0 ? INSPECT_EXIT_FAIL : in->status;
}

/* --- read and perms ------------------------------------------------------------ */

struct find_ctx {
	char **abs;			/* the paths wanted, resolved */
	int n;
	int left;			/* not found yet */
	char **value;			/* found: copies */
	uint32_t *len;
	char **perms;			/* found: "n0 r5" */
};

static int
inspect_find_node(void *arg, const char *path, const void *value,
		  uint32_t len, const struct store_perm *perms,
		  uint32_t nperms)
{
	struct find_ctx *c = arg;

	for (int i = 0; i < c->n; i++) {
		struct buf b = { 0 };

		if (c->value[i] || strcmp(c->abs[i], path) != 0)
			continue;
		c->value[i] = xmalloc((size_t)len + 1);
		memcpy(c->value[i], value, len);
		c->value[i][len] = '\0';
		c->len[i] = len;
		inspect_perms_format(perms, nperms, " ", &b);
		buf_add(&b, "", 1);
		c->perms[i] = b.data;
		c->left--;
	}
	/* Everything wanted is found: no need to read on. */
	return c->left == 0 ? 1 : 0;
}

/* Finds paths in the state at `at`; prints with print(i). */
static int
inspect_find(struct inspect *in, const struct inspect_point *at, char **paths,
	     int n, bool special,
	     void (*print)(const struct find_ctx *c, int i, const char *given,
			   void *arg),
	     void *arg)
{
	struct find_ctx c = { .n = n, .left = n };
	struct inspect_state *st = NULL;
	int rc = 0;

	c.abs = xcalloc((size_t)n, sizeof(*c.abs));
	c.value = xcalloc((size_t)n, sizeof(*c.value));
	c.len = xcalloc((size_t)n, sizeof(*c.len));
	c.perms = xcalloc((size_t)n, sizeof(*c.perms));
	for (int i = 0; rc == 0 && i < n; i++)
		rc = inspect_path_resolve(paths[i], special, &c.abs[i]);
	if (rc == 0)
		rc = inspect_state_open_at(in, at, false, &st);
	if (rc == 0)
		rc = inspect_state_walk(in, st, inspect_find_node, &c);
	for (int i = 0; rc >= 0 && i < n; i++) {
		if (c.value[i] == NULL) {
			inspect_error("%s: no such node", paths[i]);
			rc = -ENOENT;
			break;
		}
		print(&c, i, paths[i], arg);
	}
	for (int i = 0; i < n; i++) {
		free(c.abs[i]);
		free(c.value[i]);
		free(c.perms[i]);
	}
	free(c.abs);
	free(c.value);
	free(c.len);
	free(c.perms);
	inspect_state_free(st);
	return rc < 0 ? INSPECT_EXIT_FAIL : in->status;
}

struct read_opts {
	bool raw;
	bool prefix;
};

static void
inspect_read_print(const struct find_ctx *c, int i, const char *given,
		   void *arg)
{
	const struct read_opts *o = arg;
	struct buf b = { 0 };

	if (o->prefix)
		printf("%s: ", given);
	if (o->raw) {
		fwrite(c->value[i], 1, c->len[i], stdout);
		return;
	}
	cli_escape(&b, c->value[i], c->len[i]);
	fwrite(b.data, 1, b.len, stdout);
	putchar('\n');
	buf_free(&b);
}

int
inspect_cmd_read(struct inspect *in, const struct inspect_point *at,
		 int argc, char **argv)
{
	struct read_opts o = { 0 };
	int opt;

	optind = 0;
	while ((opt = getopt(argc, argv, "Rp")) != -1) {
		if (opt == 'R')
			o.raw = true;
		else if (opt == 'p')
			o.prefix = true;
		else
			return inspect_usage("read");
	}
	if (optind == argc)
		return inspect_usage("read");
	return inspect_find(in, at, argv + optind, argc - optind, false,
			    inspect_read_print, &o);
}

static void
inspect_perms_print(const struct find_ctx *c, int i, const char *given,
		    void *arg)
{
	(void)given;
	(void)arg;
	printf("%s\n", c->perms[i]);
}

int
inspect_cmd_perms(struct inspect *in, const struct inspect_point *at,
		  int argc, char **argv)
{
	if (argc < 2 || argv[1][0] == '-')
		return inspect_usage("perms");
	return inspect_find(in, at, argv + 1, argc - 1, true,
			    inspect_perms_print, NULL);
}
