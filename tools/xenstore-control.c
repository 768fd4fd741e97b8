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
 * ctl_local_cmds[]: live-update [-c <cmdline>] [-t <seconds>] [-F] <binary>
 * (the sequence of Xen's tool, with its messages).
 *
 * Exit status, as Xen's tool: 0 done, 1 no connection, 2 bad usage,
 * 3 the daemon returned an error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
 * One live-update request: argv are its sub-command and arguments. 0 with
 * the reply text in *reply (caller frees), or -errno.
 */
static int
ctl_lu_request(struct xsc *c, const char **argv, unsigned int n, char **reply)
{
	const char *v[8] = { "live-update" };

	for (unsigned int i = 0; i < n && i < 7; i++)
		v[i + 1] = argv[i];
	return xsc_control(c, v, n + 1, reply, NULL);
}

/* Sends one step; prints what as the failure with the daemon's reason. */
static int
ctl_lu_step(struct xsc *c, const char **argv, unsigned int n,
	    const char *what)
{
	char *reply = NULL;
	int err = ctl_lu_request(c, argv, n, &reply);

	if (err == 0 && strcmp(reply, "OK") == 0) {
		free(reply);
		return 0;
	}
	fprintf(stderr, "%s:\n%s\n", what, err < 0 ? strerror(-err) : reply);
	free(reply);
	return CTL_EXIT_DAEMON;
}

/*
 * -s with the timeout, sent again every second while the daemon answers
 * BUSY (open transactions), until the timeout has passed. The daemon
 * answers the last one from the new process once it serves.
 */
static int
ctl_lu_start(struct xsc *c, const char *timeout, bool force)
{
	const char *argv[] = { "-s", "-t", timeout, "-F" };
	unsigned long to;
	uint64_t start = mono_ns();
	char *reply = NULL;
	int err;

	if (parse_uint(timeout, 86400, &to) < 0)
		to = 60;
	for (;;) {
		free(reply);
		reply = NULL;
		err = ctl_lu_request(c, argv, force ? 4 : 3, &reply);
		if (err < 0 || strcmp(reply, "BUSY") != 0 ||
		    mono_ns() - start >= to * 1000000000ull)
			break;
		sleep(1);
	}
	if (err == 0 && strcmp(reply, "OK") == 0) {
		free(reply);
		return 0;
	}
	fprintf(stderr, "Starting live update failed:\n%s\n",
		err < 0 ? strerror(-err) : reply);
	free(reply);
	return CTL_EXIT_DAEMON;
}

/*
 * live-update [-c <cmdline>] [-t <seconds>] [-F] <binary>: -f, then -c,
 * then -s; on any failure -a ends the session, as Xen's tool does.
 */
static int
ctl_live_update(struct xsc *c, int argc, char **argv)
{
	const char *binary = NULL, *cmdline = NULL, *timeout = "60";
	const char *abort_argv[] = { "-a" };
	bool force = false;
	char *reply = NULL;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "-t") == 0) {
			if (i + 1 == argc) {
				fprintf(stderr, "Missing %s value\n",
					argv[i][1] == 'c' ? "command line" :
					"timeout");
				return CTL_EXIT_USAGE;
			}
			if (argv[i][1] == 'c')
				cmdline = argv[++i];
			else
				timeout = argv[++i];
		} else if (strcmp(argv[i], "-F") == 0) {
			force = true;
		} else {
			binary = argv[i];
		}
	}
	if (binary == NULL) {
		fprintf(stderr, "Missing binary specification\n");
		return CTL_EXIT_USAGE;
	}
	rc = ctl_lu_step(c, (const char *[]){ "-f", binary }, 2,
			 "Setting update binary failed");
	if (rc)
		return rc;
	if (cmdline)
		rc = ctl_lu_step(c, (const char *[]){ "-c", cmdline }, 2,
				 "Setting update binary failed");
	if (rc == 0)
		rc = ctl_lu_start(c, timeout, force);
	if (rc) {
		(void)ctl_lu_request(c, abort_argv, 1, &reply);
		free(reply);
	}
	return rc;
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
