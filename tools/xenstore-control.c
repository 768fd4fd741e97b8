/*
 * xenstore-control: sends one CONTROL request to xenstored and prints the
 * reply.
 *
 *   xenstore-control <command> [<arg>...]
 *
 * The command and its arguments go out as NUL-separated strings, so any
 * command the daemon knows (check, help, log, logfile, memreport, print,
 * quota, quota-soft, snapshot, status [--json] [--domain N|--top [N]],
 * ...) works without this tool knowing it. The daemon
 * refusing the command (EINVAL) prints its `help` text, as Xen's tool does.
 * Commands that need more than one request are handled here instead, from
 * ctl_local_cmds[].
 *
 * Exit status, as Xen's tool: 0 done, 1 no connection, 2 bad usage,
 * 3 the daemon returned an error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "tools/xsclient.h"

#define CTL_EXIT_CONNECT	1
#define CTL_EXIT_USAGE		2
#define CTL_EXIT_DAEMON		3

static const char *ctl_prog = "xenstore-control";

/* A command run by this tool; argv[0] is the command name. */
struct ctl_local_cmd {
	const char *name;
	int (*run)(struct xsc *c, int argc, char **argv);
};

/*
 * live-update is a sequence of CONTROL requests (binary, command line,
 * start with a timeout, retried while the daemon answers BUSY). Until that
 * sequence is implemented it is refused here rather than passed through,
 * as a single request would leave the daemon half set up.
 */
static int
ctl_live_update(struct xsc *c, int argc, char **argv)
{
	fprintf(stderr, "%s: %s is not supported by this version\n", ctl_prog,
		argv[0]);
	return CTL_EXIT_USAGE;
}

static const struct ctl_local_cmd ctl_local_cmds[] = {
	{ "live-update", ctl_live_update },
};

/* Prints a reply as a string, with a newline, unless it is empty. */
static void
ctl_print_reply(const char *reply)
{
	if (reply[0] != '\0')
		printf("%s\n", reply);
}

/* Tells the user the command was refused and what the daemon accepts. */
static void
ctl_print_help(struct xsc *c)
{
	const char *help_argv[] = { "help" };
	char *help;

	if (xsc_control(c, help_argv, 1, &help, NULL) < 0) {
		fprintf(stderr, "Error when executing command.\n");
		return;
	}
	fprintf(stderr, "Command not supported. Valid commands are:\n%s\n",
		help);
	free(help);
}

static int
ctl_passthrough(struct xsc *c, int argc, char **argv)
{
	char *reply;
	int err;

	err = xsc_control(c, (const char *const *)argv, (unsigned int)argc,
			  &reply, NULL);
	if (err == -EINVAL) {
		ctl_print_help(c);
		return CTL_EXIT_DAEMON;
	}
	if (err < 0) {
		fprintf(stderr, "%s: %s: %s\n", ctl_prog, argv[0],
			strerror(-err));
		return CTL_EXIT_DAEMON;
	}
	ctl_print_reply(reply);
	free(reply);
	return 0;
}

int
main(int argc, char **argv)
{
	int (*run)(struct xsc *, int, char **) = ctl_passthrough;
	struct xsc *c;
	char *sock;
	int err, rc;

	if (argc < 2) {
		fprintf(stderr, "Usage:\n%s <command> [<arg>...]\n", argv[0]);
		return CTL_EXIT_USAGE;
	}

	err = xsc_open(NULL, &c);
	if (err < 0) {
		sock = xsc_default_path();
		fprintf(stderr, "%s: could not connect to xenstored at %s: %s\n",
			ctl_prog, sock, strerror(-err));
		free(sock);
		return CTL_EXIT_CONNECT;
	}

	for (size_t i = 0; i < LXS_ARRAY_SIZE(ctl_local_cmds); i++)
		if (strcmp(argv[1], ctl_local_cmds[i].name) == 0)
			run = ctl_local_cmds[i].run;
	rc = run(c, argc - 1, argv + 1);

	xsc_close(c);
	if (fflush(stdout) != 0) {
		fprintf(stderr, "%s: write error: %s\n", ctl_prog,
			strerror(errno));
		rc = 1;
	}
	return rc;
}
