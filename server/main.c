/*
 * main: lxenstored's process life: options, daemonizing, pid file, systemd
 * readiness, and the server's run.
 *
 * Daemon mode forks once; the parent waits on a pipe until the child has
 * bound its sockets, so "lxenstored" returning 0 means the daemon answers.
 * Startup errors go to stderr in both modes; once running, a daemon logs to
 * syslog. Readiness is also sent as "READY=1" to $NOTIFY_SOCKET (systemd
 * Type=notify; "@name" is an abstract socket) without libsystemd.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h"
#include "server/server-int.h"

#define MAIN_DEFAULT_LOG_KEEP 4
#define MAIN_DEFAULT_LU_CHECK 60
#define MAIN_DEFAULT_LU_KEEP 60

enum {
	OPT_RUNDIR = 256,
	OPT_LOG_SIZE,
	OPT_LOG_KEEP,
	OPT_VERSION,
	OPT_STATE_DIR,
	OPT_SYNC,
	OPT_SEGMENT,
	OPT_SNAP_RECORDS,
	OPT_SNAP_BYTES,
	OPT_SNAP_SECONDS,
	OPT_BOOT_ID,
	OPT_XSD_KVA,
	OPT_XSD_PORT,
	OPT_LU_FD,
	OPT_LU_CHECK,
	OPT_LU_CHECK_TIMEOUT,
	OPT_LU_KEEP,
};

static const struct option main_options[] = {
	{ "foreground", no_argument, NULL, 'N' },
	{ "pid-file", required_argument, NULL, 'F' },
	{ "rundir", required_argument, NULL, OPT_RUNDIR },
	{ "entry-nb", required_argument, NULL, 'E' },
	{ "entry-size", required_argument, NULL, 'S' },
	{ "watch-nb", required_argument, NULL, 'W' },
	{ "transaction", required_argument, NULL, 't' },
	{ "perm-nb", required_argument, NULL, 'A' },
	{ "path-max", required_argument, NULL, 'M' },
	{ "quota", required_argument, NULL, 'Q' },
	{ "quota-soft", required_argument, NULL, 'q' },
	{ "access-log", required_argument, NULL, 'T' },
	{ "access-log-size", required_argument, NULL, OPT_LOG_SIZE },
	{ "access-log-keep", required_argument, NULL, OPT_LOG_KEEP },
	{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
	{ "sync", required_argument, NULL, OPT_SYNC },
	{ "log-segment-size", required_argument, NULL, OPT_SEGMENT },
	{ "snapshot-records", required_argument, NULL, OPT_SNAP_RECORDS },
	{ "snapshot-log-bytes", required_argument, NULL, OPT_SNAP_BYTES },
	{ "snapshot-interval", required_argument, NULL, OPT_SNAP_SECONDS },
	{ "boot-id-file", required_argument, NULL, OPT_BOOT_ID },
	{ "keep-orphans", no_argument, NULL, 'K' },
	{ "xsd-kva", required_argument, NULL, OPT_XSD_KVA },
	{ "xsd-port", required_argument, NULL, OPT_XSD_PORT },
	{ "live-update-fd", required_argument, NULL, OPT_LU_FD },
	{ "live-update-check", no_argument, NULL, OPT_LU_CHECK },
	{ "live-update-check-timeout", required_argument, NULL,
	  OPT_LU_CHECK_TIMEOUT },
	{ "live-update-keep", required_argument, NULL, OPT_LU_KEEP },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

static void
main_usage(FILE *f)
{
	fprintf(f,
"Usage: lxenstored [OPTION]...\n"
"XenStore daemon (wire protocol over unix sockets and guest rings).\n"
"\n"
"  -N, --foreground          stay in the foreground, log to stderr\n"
"  -F, --pid-file FILE       write the daemon's pid to FILE\n"
"      --rundir DIR          socket is DIR/socket (default: $XENSTORED_PATH,\n"
"                            else $XENSTORED_RUNDIR/socket, else\n"
"                            " SERVER_DEFAULT_RUNDIR "/socket); the read-only\n"
"                            socket is the same path + \"" SERVER_RO_SUFFIX "\"\n"
"  -E, --entry-nb N          quota: nodes per domain\n"
"  -S, --entry-size N        quota: bytes per node\n"
"  -W, --watch-nb N          quota: watches per domain\n"
"  -t, --transaction N       quota: transactions per domain\n"
"  -A, --perm-nb N           quota: permissions per node\n"
"  -M, --path-max N          quota: path length below a domain's home\n"
"  -Q, --quota NAME=N        set a quota by name (0: unlimited)\n"
"  -q, --quota-soft NAME=N   set a soft quota by name (memory)\n"
"  -T, --access-log FILE     log every message in and out to FILE\n"
"      --access-log-size N   rotate the access log beyond N bytes\n"
"      --access-log-keep N   rotated files kept: FILE.1..FILE.N (default %d)\n"
"      --state-dir DIR       log, snapshots and boot id (default\n"
"                            " DURABLE_DEFAULT_STATE_DIR ")\n"
"      --sync MODE           write: a change is in the kernel before anyone\n"
"                            sees it, survives a daemon crash (default);\n"
"                            always: also fdatasync'ed, survives a host\n"
"                            crash; none: nothing kept (unsafe)\n"
"      --log-segment-size N  start a new log file beyond N bytes\n"
"      --snapshot-records N  snapshot after N logged changes (0: never)\n"
"      --snapshot-log-bytes N  ... or N bytes of log (0: never)\n"
"      --snapshot-interval S   ... or S seconds with changes (0: never)\n"
"      --boot-id-file FILE   where the boot id is read (default\n"
"                            " DURABLE_DEFAULT_BOOT_ID ")\n"
"  -K, --keep-orphans        RELEASE gives a domain's nodes to dom0\n"
"                            instead of removing them\n"
"      --xsd-kva FILE        dom0's ring page (default\n"
"                            " SERVER_DEFAULT_XSD_KVA "; absent: no dom0 ring)\n"
"      --xsd-port FILE       its event channel port (default\n"
"                            " SERVER_DEFAULT_XSD_PORT ")\n"
"      --live-update-check-timeout S  how long a new binary may take to\n"
"                            load the state (live-update -f) (default %d)\n"
"      --live-update-keep S  how long it then waits for live-update -s\n"
"                            (default %d)\n"
"      --live-update-check   load the state directory read-only, check it\n"
"                            and exit (the dry run of older daemons)\n"
"      --live-update-fd FD   internal: started by a live update\n"
"  -h, --help                show this help\n"
"      --version             show the version\n",
		MAIN_DEFAULT_LOG_KEEP, MAIN_DEFAULT_LU_CHECK,
		MAIN_DEFAULT_LU_KEEP);
}

static void __attribute__((noreturn))
main_bad_usage(const char *what, const char *arg)
{
	fprintf(stderr, "lxenstored: %s: %s\n", what, arg);
	main_usage(stderr);
	exit(2);
}

static uint32_t
main_quota_value(const char *arg)
{
	unsigned long v;

	if (parse_uint(arg, UINT32_MAX - 1, &v) < 0)
		main_bad_usage("invalid quota value", arg);
	return (uint32_t)v;
}

static void
main_add_quota(struct server_quota_opt **qs, unsigned int *n, int quota,
	       bool soft, uint32_t value)
{
	*qs = xrealloc(*qs, (*n + 1) * sizeof(**qs));
	(*qs)[*n] = (struct server_quota_opt){ quota, soft, value };
	(*n)++;
}

static void
main_add_named_quota(struct server_quota_opt **qs, unsigned int *n,
		     const char *arg, bool soft)
{
	const char *eq = strchr(arg, '=');
	char *name;
	int q;

	if (eq == NULL)
		main_bad_usage("expected NAME=VALUE", arg);
	name = xstrndup(arg, (size_t)(eq - arg));
	q = store_quota_lookup(name);
	free(name);
	if (q < 0)
		main_bad_usage("unknown quota", arg);
	main_add_quota(qs, n, q, soft, main_quota_value(eq + 1));
}

/*
 * Forks. The parent exits when the child reports on the returned pipe fd:
 * 0 if it wrote a byte (ready), 1 if it closed the pipe without (failed).
 */
static int
main_daemonize(void)
{
	int p[2];
	pid_t pid;
	char c;

	if (pipe2(p, O_CLOEXEC) < 0) {
		perror("lxenstored: pipe");
		exit(1);
	}
	pid = fork();
	if (pid < 0) {
		perror("lxenstored: fork");
		exit(1);
	}
	if (pid > 0) {
		close(p[1]);
		exit(read(p[0], &c, 1) == 1 ? 0 : 1);
	}
	close(p[0]);
	setsid();
	if (chdir("/") < 0)
		perror("lxenstored: chdir /");
	return p[1];
}

/* Detaches stdio from the terminal once the daemon is running. */
static void
main_detach_stdio(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return;
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
}

static int
main_write_pid(const char *path)
{
	FILE *f = fopen(path, "we");

	if (f == NULL || fprintf(f, "%ld\n", (long)getpid()) < 0 ||
	    fclose(f) != 0) {
		log_err("pid file %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct server_config cfg = {
		.access_log_keep = MAIN_DEFAULT_LOG_KEEP,
		.lu_check_seconds = MAIN_DEFAULT_LU_CHECK,
		.lu_keep_seconds = MAIN_DEFAULT_LU_KEEP,
		.durable = {
			.state_dir = DURABLE_DEFAULT_STATE_DIR,
			.sync = DURABLE_SYNC_WRITE,
			.segment_bytes = DURABLE_DEFAULT_SEGMENT,
			.snap_records = DURABLE_DEFAULT_SNAP_RECORDS,
			.snap_bytes = DURABLE_DEFAULT_SNAP_BYTES,
			.snap_seconds = DURABLE_DEFAULT_SNAP_SECONDS,
			.boot_id_file = DURABLE_DEFAULT_BOOT_ID,
		},
	};
	struct server_quota_opt *quotas = NULL;
	unsigned int nquotas = 0;
	const char *pid_file = NULL, *rundir = NULL;
	struct server *srv;
	unsigned long v;
	int opt, ready_fd = -1, lu_fd = -1, rc;
	bool lu_check = false;
	char *sock_path;

	hugepages_reexec(argv);

	while ((opt = getopt_long(argc, argv, "NF:E:S:W:t:A:M:Q:q:T:Kh",
				  main_options, NULL)) != -1) {
		switch (opt) {
		case 'N':
			cfg.foreground = true;
			break;
		case 'F':
			pid_file = optarg;
			break;
		case OPT_RUNDIR:
			rundir = optarg;
			break;
		case 'E':
			main_add_quota(&quotas, &nquotas, STORE_QUOTA_NODES,
				       false, main_quota_value(optarg));
			break;
		case 'S':
			main_add_quota(&quotas, &nquotas,
				       STORE_QUOTA_NODE_SIZE, false,
				       main_quota_value(optarg));
			break;
		case 'W':
			main_add_quota(&quotas, &nquotas, STORE_QUOTA_WATCHES,
				       false, main_quota_value(optarg));
			break;
		case 't':
			main_add_quota(&quotas, &nquotas,
				       STORE_QUOTA_TRANSACTIONS, false,
				       main_quota_value(optarg));
			break;
		case 'A':
			main_add_quota(&quotas, &nquotas,
				       STORE_QUOTA_NODE_PERMS, false,
				       main_quota_value(optarg));
			break;
		case 'M':
			main_add_quota(&quotas, &nquotas,
				       STORE_QUOTA_PATH_MAX, false,
				       main_quota_value(optarg));
			break;
		case 'Q':
		case 'q':
			main_add_named_quota(&quotas, &nquotas, optarg,
					     opt == 'q');
			break;
		case 'T':
			cfg.access_log = optarg;
			break;
		case OPT_LOG_SIZE:
			if (parse_uint(optarg, ULONG_MAX, &v) < 0)
				main_bad_usage("invalid size", optarg);
			cfg.access_log_size = v;
			break;
		case OPT_LOG_KEEP:
			if (parse_uint(optarg, 1000, &v) < 0)
				main_bad_usage("invalid count", optarg);
			cfg.access_log_keep = (unsigned int)v;
			break;
		case OPT_STATE_DIR:
			cfg.durable.state_dir = optarg;
			break;
		case OPT_SYNC:
			if (durable_sync_parse(optarg, &cfg.durable.sync) < 0)
				main_bad_usage("invalid sync mode", optarg);
			break;
		case OPT_SEGMENT:
			if (parse_uint(optarg, ULONG_MAX, &v) < 0 || v < 4096)
				main_bad_usage("invalid size (at least 4096)",
					       optarg);
			cfg.durable.segment_bytes = v;
			break;
		case OPT_SNAP_RECORDS:
		case OPT_SNAP_BYTES:
		case OPT_SNAP_SECONDS:
			if (parse_uint(optarg, ULONG_MAX, &v) < 0)
				main_bad_usage("invalid number", optarg);
			if (opt == OPT_SNAP_RECORDS)
				cfg.durable.snap_records = v;
			else if (opt == OPT_SNAP_BYTES)
				cfg.durable.snap_bytes = v;
			else
				cfg.durable.snap_seconds = v;
			break;
		case OPT_BOOT_ID:
			cfg.durable.boot_id_file = optarg;
			break;
		case 'K':
			cfg.keep_orphans = true;
			break;
		case OPT_XSD_KVA:
			cfg.xsd_kva = optarg;
			break;
		case OPT_XSD_PORT:
			cfg.xsd_port = optarg;
			break;
		case OPT_LU_FD:
			if (parse_uint(optarg, INT_MAX, &v) < 0)
				main_bad_usage("invalid descriptor", optarg);
			lu_fd = (int)v;
			break;
		case OPT_LU_CHECK:
			lu_check = true;
			break;
		case OPT_LU_CHECK_TIMEOUT:
			if (parse_uint(optarg, 86400, &v) < 0 || v == 0)
				main_bad_usage("invalid number", optarg);
			cfg.lu_check_seconds = (unsigned int)v;
			break;
		case OPT_LU_KEEP:
			if (parse_uint(optarg, 86400, &v) < 0 || v == 0)
				main_bad_usage("invalid number", optarg);
			cfg.lu_keep_seconds = (unsigned int)v;
			break;
		case 'h':
			main_usage(stdout);
			return 0;
		case OPT_VERSION:
			printf("lxenstored %s\n", PACKAGE_VERSION);
			return 0;
		default:
			main_usage(stderr);
			return 2;
		}
	}
	if (optind != argc)
		main_bad_usage("unexpected argument", argv[optind]);

	sock_path = server_socket_path(rundir);
	cfg.sock_path = sock_path;
	cfg.quotas = quotas;
	cfg.nquotas = nquotas;
	cfg.argv = argv + 1;
	cfg.argc = argc - 1;
	cfg.pid_file = pid_file;

	if (lu_check) {
		rc = server_live_update_check(&cfg);
		free(quotas);
		free(sock_path);
		return rc < 0 ? 1 : 0;
	}
	/* stderr until the daemon runs, so startup failures are seen; a
	 * live update inherits the old daemon's session and stdio. */
	log_open("lxenstored", cfg.foreground || lu_fd < 0);
	if (lu_fd >= 0)
		rc = server_live_update(&cfg, lu_fd, &srv);
	else if (!cfg.foreground)
		ready_fd = main_daemonize();
	if (lu_fd < 0)
		rc = server_new(&cfg, &srv);
	free(quotas);
	if (rc < 0)
		return 1;
	/* After a live update, the old daemon's pid is replaced. */
	if (pid_file && main_write_pid(pid_file) < 0) {
		server_free(srv);
		return 1;
	}
	log_info("lxenstored %s: listening on %s", PACKAGE_VERSION, sock_path);
	server_notify("READY=1");
	if (ready_fd >= 0) {
		log_open("lxenstored", false);
		main_detach_stdio();
		if (write(ready_fd, "R", 1) != 1)
			log_warn("daemonize: cannot signal readiness");
		close(ready_fd);
	}

	rc = server_run(srv);
	server_notify("STOPPING=1");
	server_free(srv);
	if (pid_file)
		unlink(pid_file);
	log_info("lxenstored: stopped");
	log_close();
	free(sock_path);
	return rc < 0 ? 1 : 0;
}
