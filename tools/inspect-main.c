/*
 * lxenstore-inspect: offline inspection of lxenstored's state directory.
 *
 *   lxenstore-inspect [--state-dir DIR | FILE...] COMMAND [ARG...]
 *
 * Global options and FILE operands come before the command word; each
 * command parses the rest. Commands are looked up in inspect_cmds[]; `at`
 * runs one of them on an earlier state. The manual is
 * tools/man/lxenstore-inspect.1.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "tools/inspect.h"

static int inspect_cmd_at(struct inspect *in, const struct inspect_point *at,
			  int argc, char **argv);

static const struct inspect_cmd {
	const char *name;
	int (*run)(struct inspect *in, const struct inspect_point *at,
		   int argc, char **argv);
	bool at;			/* may follow `at SEQ|TIME` */
	const char *usage;
} inspect_cmds[] = {
	{ "ls", inspect_cmd_ls, true, "ls [-f] [-p] [PATH]" },
	{ "read", inspect_cmd_read, true, "read [-R] [-p] PATH..." },
	{ "perms", inspect_cmd_perms, true, "perms PATH..." },
	{ "stat", inspect_cmd_stat, true, "stat" },
	{ "verify", inspect_cmd_verify, false, "verify" },
	{ "log", inspect_cmd_log, false,
	  "log [--path PREFIX] [--domain N] [--from SEQ] [--to SEQ]\n"
	  "                      [--since TIME] [--until TIME]" },
	{ "at", inspect_cmd_at, false, "at SEQ|TIME ls|read|perms|stat|export ..." },
	{ "diff", inspect_cmd_diff, false, "diff [--socket PATH] A [B]" },
	{ "export", inspect_cmd_export, true, "export --json" },
	{ "import", inspect_cmd_import, false,
	  "import --json FILE --state-dir EMPTYDIR [--boot-id-file FILE]" },
	{ "state", inspect_cmd_state, false, "state FILE" },
};

static const struct inspect_cmd *
inspect_cmd_lookup(const char *name)
{
	for (size_t i = 0; i < LXS_ARRAY_SIZE(inspect_cmds); i++)
		if (strcmp(inspect_cmds[i].name, name) == 0)
			return &inspect_cmds[i];
	return NULL;
}

static void
inspect_usage_print(FILE *f, const struct inspect_cmd *c)
{
	if (c) {
		fprintf(f, "usage: %s [--state-dir DIR | FILE...] %s\n",
			INSPECT_PROG, c->usage);
		return;
	}
	fprintf(f, "usage: %s [--state-dir DIR | FILE...] COMMAND [ARG...]\n"
		"commands:\n", INSPECT_PROG);
	for (size_t i = 0; i < LXS_ARRAY_SIZE(inspect_cmds); i++)
		fprintf(f, "  %s\n", inspect_cmds[i].usage);
	fprintf(f, "See lxenstore-inspect(1).\n");
}

int
inspect_usage(const char *cmd)
{
	inspect_usage_print(stderr, cmd ? inspect_cmd_lookup(cmd) : NULL);
	return INSPECT_EXIT_USAGE;
}

/* --- commands defined here ------------------------------------------------- */

static int
inspect_cmd_at(struct inspect *in, const struct inspect_point *at,
	       int argc, char **argv)
{
	const struct inspect_cmd *c;
	struct inspect_point p;

	(void)at;
	if (argc < 3)
		return inspect_usage("at");
	if (inspect_point_parse(argv[1], &p) < 0 || p.kind == INSPECT_AT_LATEST) {
		inspect_error("%s: not a sequence number or a time", argv[1]);
		return INSPECT_EXIT_USAGE;
	}
	c = inspect_cmd_lookup(argv[2]);
	if (c == NULL || !c->at) {
		inspect_error("at: %s: not one of ls, read, perms, stat, export",
			      argv[2]);
		return INSPECT_EXIT_USAGE;
	}
	return c->run(in, &p, argc - 2, argv + 2);
}

/* --- main -------------------------------------------------------------------- */

int
main(int argc, char **argv)
{
	static const struct inspect_point latest = {
		.kind = INSPECT_AT_LATEST,
		.value = INSPECT_SEQ_ALL,
	};
	struct inspect in = { 0 };
	const struct inspect_cmd *cmd = NULL;
	int i, rc;

	in.tty_err = isatty(STDERR_FILENO);
	in.files = xcalloc((size_t)argc, sizeof(*in.files));
	for (i = 1; i < argc && cmd == NULL; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--state-dir") == 0 && i + 1 < argc) {
			in.state_dir = argv[++i];
		} else if (strncmp(a, "--state-dir=", 12) == 0) {
			in.state_dir = a + 12;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			inspect_usage_print(stdout, NULL);
			free(in.files);
			return INSPECT_EXIT_OK;
		} else if (strcmp(a, "--version") == 0) {
			printf("%s (%s) %s\n", INSPECT_PROG, PACKAGE_NAME,
			       PACKAGE_VERSION);
			free(in.files);
			return INSPECT_EXIT_OK;
		} else if (a[0] == '-' && a[1] != '\0') {
			inspect_error("unknown option %s", a);
			free(in.files);
			return inspect_usage(NULL);
		} else if ((cmd = inspect_cmd_lookup(a)) == NULL) {
			in.files[in.nfiles++] = argv[i];
		}
	}
	if (cmd == NULL && in.nfiles &&
	    access(in.files[in.nfiles - 1], F_OK) < 0) {
		inspect_error("%s: not a command (and no such file)",
			      in.files[in.nfiles - 1]);
		free(in.files);
		return inspect_usage(NULL);
	}
	if (cmd == NULL) {
		inspect_error("no command given");
		free(in.files);
		return inspect_usage(NULL);
	}
	if (in.state_dir && in.nfiles) {
		inspect_error("give either --state-dir or files, not both");
		free(in.files);
		return INSPECT_EXIT_USAGE;
	}
	rc = cmd->run(&in, &latest, argc - i + 1, argv + i - 1);
	inspect_progress_end();
	if (rc == INSPECT_EXIT_OK && inspect_flush_stdout() != INSPECT_EXIT_OK)
		rc = INSPECT_EXIT_FAIL;
	inspect_src_close(in.src);
	free(in.files);
	return rc;
}
