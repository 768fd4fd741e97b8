/*
 * diff A B: what changed from state A to state B.
 *
 *   + path    in B only
 *   - path    in A only (each node of a removed subtree is listed)
 *   ~ path    in both, with another value or other permissions
 *
 * Lines are sorted by path, component by component, so a node comes just
 * before its subtree. A state is:
 *   SEQ | TIME | latest   a point of the source (--state-dir or FILE...);
 *   a file                a snapshot file;
 *   a directory           the newest state of that state directory;
 *   --socket PATH         what a running daemon holds now, read through
 *                         libxsclient inside one transaction, so that the
 *                         tree read is consistent.
 * An operand with a '/' is always a file or directory (./5 for a file
 * named 5). Both states are built as stores; each node of one is looked
 * up in the other. Exit status as diff(1): 0 same, 1 different, 2 trouble.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "tools/inspect.h"
#include "tools/xsclient.h"

#define INSPECT_DIFF_SAME	0
#define INSPECT_DIFF_DIFFERENT	1
#define INSPECT_DIFF_TROUBLE	2

struct diff_side {
	struct inspect sub;		/* a directory operand's own source */
	struct inspect_state *st;
	struct store_conn *conn;	/* privileged lookups in st->store */
};

struct diff_change {
	char kind;
	char *path;
};

struct diff_ctx {
	struct store_conn *other;
	bool added;			/* this pass finds the nodes of B only */
	struct buf mine;
	struct buf theirs;
	struct diff_change *v;
	size_t n;
	size_t cap;
};

/* --- reading a running daemon ------------------------------------------------------ */

static int
inspect_diff_perms(const struct xsc_perm *p, unsigned int n,
		   struct store_perm *out)
{
	for (unsigned int i = 0; i < n; i++) {
		switch (p[i].type) {
		case 'n':
			out[i].bits = STORE_PERM_NONE;
			break;
		case 'r':
			out[i].bits = STORE_PERM_READ;
			break;
		case 'w':
			out[i].bits = STORE_PERM_WRITE;
			break;
		case 'b':
			out[i].bits = STORE_PERM_BOTH;
			break;
		default:
			return -EINVAL;
		}
		out[i].domid = p[i].domid;
	}
	return 0;
}

/* Copies path (and, unless special, its subtree) from the daemon into s. */
static int
inspect_diff_fetch(struct xsc *x, uint32_t tx, struct store *s,
		   const char *path, bool special)
{
	struct store_op op = { .kind = STORE_OP_PUT, .path = path };
	struct store_mutation m = { .nops = 1, .ops = &op };
	struct xsc_perm *xp = NULL;
	struct store_perm *perms = NULL;
	char *val = NULL, **names = NULL;
	unsigned int np = 0, nn = 0;
	uint32_t len = 0;
	int rc;

	rc = special ? 0 : xsc_read(x, tx, path, &val, &len);
	if (rc == 0)
		rc = xsc_get_perms(x, tx, path, &xp, &np);
	/* Removed while we read (only possible outside a transaction). */
	if (rc == -ENOENT) {
		rc = 0;
		goto out;
	}
	if (rc == 0 && np == 0)
		rc = -EINVAL;
	if (rc == 0) {
		perms = xcalloc(np, sizeof(*perms));
		rc = inspect_diff_perms(xp, np, perms);
	}
	if (rc == 0) {
		op.value = val ? val : "";
		op.len = len;
		op.perms = perms;
		op.nperms = np;
		rc = store_apply(s, &m);
	}
	if (rc == 0 && !special)
		rc = xsc_directory(x, tx, path, &names, &nn);
	if (rc == -ENOENT)
		rc = 0;
	for (unsigned int i = 0; rc == 0 && i < nn; i++) {
		char *child = xasprintf("%s/%s", strcmp(path, "/") ? path : "",
					names[i]);

		rc = inspect_diff_fetch(x, tx, s, child, false);
		free(child);
	}
out:
	free(names);
	free(perms);
	free(xp);
	free(val);
	return rc;
}

static int
inspect_diff_daemon(struct inspect *in, const char *sock,
		    struct inspect_state **out)
{
	static const char *const specials[] = {
		"@introduceDomain", "@releaseDomain",
	};
	struct inspect_state *st;
	struct xsc *x;
	uint32_t tx = XSC_TX_NONE;
	int rc;

	rc = xsc_open(sock, &x);
	if (rc < 0) {
		inspect_error("%s: cannot connect: %s", sock, strerror(-rc));
		return rc;
	}
	/* Without a transaction the tree may change while it is read. */
	if (xsc_transaction_start(x, &tx) < 0)
		tx = XSC_TX_NONE;
	st = xcalloc(1, sizeof(*st));
	st->store = inspect_store_new(NULL);
	inspect_progress_begin(in, "reading the daemon: nodes", 0);
	rc = inspect_diff_fetch(x, tx, st->store, "/", false);
	for (size_t i = 0; rc == 0 && i < LXS_ARRAY_SIZE(specials); i++)
		rc = inspect_diff_fetch(x, tx, st->store, specials[i], true);
	inspect_progress_end();
	if (tx != XSC_TX_NONE)
		xsc_transaction_end(x, tx, false);
	xsc_close(x);
	if (rc < 0) {
		inspect_error("%s: reading the tree: %s", sock, strerror(-rc));
		inspect_state_free(st);
		return rc;
	}
	*out = st;
	return 0;
}

/* --- operands ------------------------------------------------------------------------ */

static int
inspect_diff_open(struct inspect *in, const char *op, struct diff_side *side)
{
	struct inspect_point p;
	struct stat st;
	bool path = strchr(op, '/') != NULL;

	if (!path && inspect_point_parse(op, &p) == 0)
		return inspect_state_open_at(in, &p, true, &side->st);
	if (stat(op, &st) < 0) {
		int rc = -errno;

		if (path || errno != ENOENT)
			inspect_error("%s: %s", op, strerror(errno));
		else
			inspect_error("%s: not a file, a directory, a sequence "
				      "number or a time", op);
		return rc;
	}
	if (S_ISDIR(st.st_mode)) {
		side->sub.state_dir = op;
		side->sub.tty_err = in->tty_err;
		return inspect_state_open(&side->sub, INSPECT_SEQ_ALL, true,
					  &side->st);
	}
	return inspect_state_open_file(in, op, &side->st);
}

/* --- comparing ------------------------------------------------------------------------- */

static void
inspect_diff_add(struct diff_ctx *c, char kind, const char *path)
{
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 64;
		c->v = xrealloc(c->v, c->cap * sizeof(*c->v));
	}
	c->v[c->n].kind = kind;
	c->v[c->n++].path = xstrdup(path);
}

static int
inspect_diff_node(void *arg, const char *path, const void *value, uint32_t len,
		  const struct store_perm *perms, uint32_t nperms)
{
	struct diff_ctx *c = arg;
	const void *oval;
	uint32_t olen;
	int rc;

	buf_reset(&c->theirs);
	rc = store_get_perms(c->other, XSC_TX_NONE, path, &c->theirs);
	if (rc == -ENOENT) {
		inspect_diff_add(c, c->added ? '+' : '-', path);
		return 0;
	}
	if (rc < 0)
		return rc;
	if (c->added)
		return 0;
	buf_reset(&c->mine);
	for (uint32_t i = 0; i < nperms; i++) {
		store_perm_format(&perms[i], &c->mine);
		buf_add(&c->mine, "", 1);
	}
	if (c->mine.len != c->theirs.len ||
	    memcmp(c->mine.data, c->theirs.data, c->mine.len) != 0) {
		inspect_diff_add(c, '~', path);
		return 0;
	}
	/* The special nodes have no value to compare. */
	if (path[0] != '/')
		return 0;
	rc = store_read(c->other, XSC_TX_NONE, path, &oval, &olen);
	if (rc < 0)
		return rc;
	if (olen != len || memcmp(oval, value, len) != 0)
		inspect_diff_add(c, '~', path);
	return 0;
}

/* Path order, component by component: '/' sorts before any other byte. */
static unsigned int
inspect_diff_key(unsigned char ch)
{
	return ch == '\0' ? 0u : ch == '/' ? 1u : ch + 1u;
}

static int
inspect_diff_cmp(const void *a, const void *b)
{
	const unsigned char *x, *y;

	x = (const unsigned char *)((const struct diff_change *)a)->path;
	y = (const unsigned char *)((const struct diff_change *)b)->path;
	for (;; x++, y++) {
		unsigned int kx = inspect_diff_key(*x), ky = inspect_diff_key(*y);

		if (kx != ky)
			return kx < ky ? -1 : 1;
		if (*x == '\0')
			return 0;
	}
}

static struct store_conn *
inspect_diff_conn(struct store *s)
{
	static const struct store_caller dom0 = {
		.domid = 0,
		.target = LXS_DOMID_INVALID,
		.priv = true,
	};

	return store_conn_new(s, &dom0, NULL);
}

static int
inspect_diff_compare(struct inspect *in, struct diff_side *a,
		     struct diff_side *b)
{
	struct diff_ctx c = { 0 };
	int rc;

	a->conn = inspect_diff_conn(a->st->store);
	b->conn = inspect_diff_conn(b->st->store);
	c.other = b->conn;
	rc = inspect_state_walk(in, a->st, inspect_diff_node, &c);
	if (rc == 0) {
		c.other = a->conn;
		c.added = true;
		rc = inspect_state_walk(in, b->st, inspect_diff_node, &c);
	}
	if (rc < 0)
		inspect_error("comparing: %s", strerror(-rc));
	if (c.n)
		qsort(c.v, c.n, sizeof(*c.v), inspect_diff_cmp);
	for (size_t i = 0; i < c.n; i++) {
		if (rc == 0)
			printf("%c %s\n", c.v[i].kind, c.v[i].path);
		free(c.v[i].path);
	}
	free(c.v);
	buf_free(&c.mine);
	buf_free(&c.theirs);
	if (rc < 0)
		return INSPECT_DIFF_TROUBLE;
	return c.n ? INSPECT_DIFF_DIFFERENT : INSPECT_DIFF_SAME;
}

static void
inspect_diff_side_free(struct diff_side *s)
{
	store_conn_free(s->conn);
	inspect_state_free(s->st);
	inspect_src_close(s->sub.src);
}

int
inspect_cmd_diff(struct inspect *in, const struct inspect_point *at,
		 int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	struct diff_side a = { 0 }, b = { 0 };
	const char *sock = NULL;
	char **ops;
	int opt, nops, rc;

	(void)at;
	optind = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt != 's') {
			inspect_usage("diff");
			return INSPECT_DIFF_TROUBLE;
		}
		sock = optarg;
	}
	ops = argv + optind;
	nops = argc - optind;
	if (nops > 2 || (sock && nops > 1) || (!sock && nops != 2)) {
		inspect_usage("diff");
		return INSPECT_DIFF_TROUBLE;
	}
	rc = inspect_diff_open(in, nops ? ops[0] : "latest", &a);
	if (rc == 0 && sock)
		rc = inspect_diff_daemon(in, sock, &b.st);
	else if (rc == 0)
		rc = inspect_diff_open(in, ops[1], &b);
	if (rc == 0) {
		rc = inspect_diff_compare(in, &a, &b);
		if (rc != INSPECT_DIFF_TROUBLE &&
		    inspect_flush_stdout() != INSPECT_EXIT_OK)
			rc = INSPECT_DIFF_TROUBLE;
		/* Damage in a source makes the answer unreliable. */
		if (rc != INSPECT_DIFF_TROUBLE &&
		    (in->status || a.sub.status || b.sub.status))
			rc = INSPECT_DIFF_TROUBLE;
	} else {
		rc = INSPECT_DIFF_TROUBLE;
	}
	inspect_diff_side_free(&a);
	inspect_diff_side_free(&b);
	return rc;
}
