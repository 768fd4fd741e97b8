/*
 * xenstore: one binary for xenstore-read, -write, -ls, -list, -exists, -rm,
 * -chmod and -watch. The command comes from the program name
 * ("xenstore-read ...", usually a link to this binary) or from the first
 * argument ("xenstore read ...").
 *
 * Options, output and exit statuses follow Xen's xenstore-* tools so that
 * scripts written for them keep working; -s (use the socket) is accepted
 * and ignored, as the socket is all this client speaks. Differences, all
 * deliberate: -h exits 0 (as in Xen since 4.18), an unknown option is an
 * error instead of being skipped, and watch takes -d DEPTH.
 *
 * read, write (with more than one key), rm, exists, list and chmod run in a
 * transaction that is retried for as long as the commit reports EAGAIN;
 * output is held until the commit succeeds.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "tools/xenstore-int.h"

#define CLI_PREFIX	"xenstore-"

static const struct cli_mode_entry {
	const char *name;
	enum cli_mode mode;
	const char *usage;		/* after "Usage: PROG [MODE ]" */
	const char *flags;		/* mode-specific options */
} cli_modes[] = {
	{ "read", CLI_MODE_READ, "[-h] [-p] [-s] [-R] key [...]", "pR" },
	{ "write", CLI_MODE_WRITE, "[-h] [-s] [-R] key value [...]", "R" },
	{ "rm", CLI_MODE_RM, "[-h] [-s] [-t] key [...]", "t" },
	{ "exists", CLI_MODE_EXISTS, "[-h] [-s] key [...]", "" },
	{ "list", CLI_MODE_LIST, "[-h] [-p] [-s] key [...]", "p" },
	{ "ls", CLI_MODE_LS, "[-h] [-f] [-p] [-s] [path]", "fp" },
	{ "chmod", CLI_MODE_CHMOD,
	  "[-h] [-u] [-r] [-s] key <mode [modes...]>", "ur" },
	{ "watch", CLI_MODE_WATCH, "[-h] [-n NR] [-d DEPTH] key", "nd" },
};

static const struct option cli_long_options[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "flat", no_argument, NULL, 'f' },
	{ "prefix", no_argument, NULL, 'p' },
	{ "tidy", no_argument, NULL, 't' },
	{ "upto", no_argument, NULL, 'u' },
	{ "recurse", no_argument, NULL, 'r' },
	{ "number", required_argument, NULL, 'n' },
	{ "raw", no_argument, NULL, 'R' },
	{ "depth", required_argument, NULL, 'd' },
	{ NULL, 0, NULL, 0 },
};

static const struct cli_mode_entry *
cli_mode_lookup(const char *name)
{
	for (size_t i = 0; i < LXS_ARRAY_SIZE(cli_modes); i++)
		if (strcmp(cli_modes[i].name, name) == 0)
			return &cli_modes[i];
	errx(1, "unknown mode %s", name);
}

/* Prints the usage line on stderr and exits with status. */
static void __attribute__((noreturn))
cli_usage(int status, const struct cli_mode_entry *m, bool mode_in_argv,
	  const char *prog)
{
	if (!m)
		errx(status, "Usage: %s <mode> [-h] [...]", prog);
	errx(status, "Usage: %s %s%s%s", prog, mode_in_argv ? m->name : "",
	     mode_in_argv ? " " : "", m->usage);
}

/*
 * Parses the options of argv (argv[0] is the program or mode name) into
 * cli; returns the index of the first operand.
 */
static int
cli_parse_options(struct cli *cli, const struct cli_mode_entry *m,
		  bool mode_in_argv, const char *prog, int argc, char **argv)
{
	int c;

	for (;;) {
		c = getopt_long(argc, argv, "hfspturn:Rd:", cli_long_options,
				NULL);
		if (c == -1)
			break;
		if (c == 'h')
			cli_usage(0, m, mode_in_argv, prog);
		if (c == 's')
			continue;
		if (c == '?' || !strchr(m->flags, c))
			cli_usage(1, m, mode_in_argv, prog);
		switch (c) {
		case 'f':
			cli->full = true;
			cli->max_width = INT_MAX / 2;
			cli->desired_width = 0;
			break;
		case 'p':
			cli->prefix = true;
			break;
		case 't':
			cli->tidy = true;
			break;
		case 'u':
			cli->upto = true;
			break;
		case 'r':
			cli->recurse = true;
			break;
		case 'n':
			cli->nr_events = atoi(optarg);
			break;
		case 'R':
			cli->raw = true;
			break;
		case 'd':
			cli->depth = atoi(optarg);
			break;
		}
	}
	return optind;
}

/* Whether the command runs in a transaction, as Xen's tools decide. */
static bool
cli_wants_transaction(const struct cli *cli)
{
	switch (cli->mode) {
	case CLI_MODE_READ:
		return cli->nargs > 1;
	case CLI_MODE_WRITE:
		return cli->nargs > 2;
	case CLI_MODE_LS:
	case CLI_MODE_WATCH:
		return false;
	default:
		return true;
	}
}

/* Runs the command, in a transaction retried on EAGAIN when it wants one. */
static int
cli_run(struct cli *cli)
{
	bool transaction = cli_wants_transaction(cli);
	int ret, err;

	for (;;) {
		buf_reset(&cli->out);
		cli->tx = XSC_TX_NONE;
		if (transaction &&
		    xsc_transaction_start(cli->conn, &cli->tx) < 0)
			errx(1, "couldn't start transaction");
		ret = cli_perform(cli);
		if (!transaction)
			return ret;
		err = xsc_transaction_end(cli->conn, cli->tx, ret == 0);
		if (err == 0)
			return ret;
		if (ret != 0 || err != -EAGAIN)
			errx(1, "couldn't end transaction");
	}
}

int
main(int argc, char **argv)
{
	static char *ls_root[] = { "/", NULL };
	const char *base = strrchr(argv[0], '/');
	const struct cli_mode_entry *m;
	struct cli cli = {
		.nr_events = -1,
		.depth = -1,
		.max_width = 80,
		.desired_width = 60,
	};
	const char *prog = argv[0];
	struct winsize ws;
	bool mode_in_argv;
	char *sock;
	int first, ret, err;

	base = base ? base + 1 : argv[0];
	if (strncmp(base, CLI_PREFIX, strlen(CLI_PREFIX)) == 0) {
		mode_in_argv = false;
		m = cli_mode_lookup(base + strlen(CLI_PREFIX));
	} else if (argc < 2) {
		cli_usage(1, NULL, false, argv[0]);
	} else if (strcmp(argv[1], "-h") == 0 ||
		   strcmp(argv[1], "--help") == 0) {
		cli_usage(0, NULL, false, argv[0]);
	} else {
		mode_in_argv = true;
		m = cli_mode_lookup(argv[1]);
		argc--;
		argv++;
	}
	cli.mode = m->mode;

	/* getopt sees the mode word as argv[0], as Xen's tool does. */
	first = cli_parse_options(&cli, m, mode_in_argv, prog, argc, argv);
	cli.args = argv + first;
	cli.nargs = argc - first;
	if (cli.mode == CLI_MODE_LS && cli.nargs == 0) {
		cli.args = ls_root;
		cli.nargs = 1;
	}
	if (cli.nargs == 0 || (cli.mode == CLI_MODE_WRITE && cli.nargs % 2))
		cli_usage(1, m, mode_in_argv, prog);

	if (cli.mode == CLI_MODE_LS &&
	    ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0)
		cli.max_width = ws.ws_col - 2;

	err = xsc_open(NULL, &cli.conn);
	if (err < 0) {
		sock = xsc_default_path();
		errx(1, "could not connect to xenstored at %s: %s", sock,
		     strerror(-err));
	}

	ret = cli_run(&cli);
	if (cli.out.len)
		fwrite(cli.out.data, 1, cli.out.len, stdout);
	buf_free(&cli.out);
	xsc_close(cli.conn);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		warn("write error");
		ret = 1;
	}
	return ret;
}
