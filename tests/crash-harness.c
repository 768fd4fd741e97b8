/*
 * crash-harness: kills lxenstored with SIGKILL at random moments under load
 * and checks that no acknowledged change was lost.
 *
 *   crash-harness [--rounds N] [--clients K] [--seed S] [--sync MODE]
 *                 [--keep] DAEMON
 *
 * Each round starts DAEMON on a private socket and state directory (the
 * same directory every round), runs K client processes and kills the
 * daemon after a random delay. A client writes /crash/c<i>/k<n> = "v<n>"
 * for n = 1, 2, ... in order, and every seventh step commits a
 * transaction that writes the same number into /crash/c<i>/ta and
 * /crash/c<i>/tb. After every acknowledged step it tells the harness
 * (through a pipe) which n was acknowledged. After the kill, the daemon is
 * restarted and the harness checks, for every client:
 *   - every acknowledged key is there with its value, and so are all keys
 *     before it (they were acknowledged earlier);
 *   - at most one key beyond the last acknowledged one exists (the one in
 *     flight at the kill: applied whole or not at all);
 *   - ta == tb (a transaction is atomic) and it is at least the last
 *     acknowledged transaction's number.
 * Snapshots are taken every 50 records, so kills also land while a
 * snapshot child runs. Exit status 0 when every round verified.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/common.h"
#include "tools/xsclient.h"

#define MAX_CLIENTS 32

struct client_state {
	unsigned long next;	/* next key number to write */
	unsigned long acked;	/* last acknowledged key number */
	unsigned long ta_acked;	/* last acknowledged transaction number */
};

static char dir[64];
static char sock[128];
static const char *daemon_path;
static const char *sync_mode = "write";
static struct client_state cs[MAX_CLIENTS];
static unsigned int nclients = 4;

static void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "crash-harness: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(2);
}

static pid_t
daemon_start(void)
{
	char state[128], boot[128], log[128];
	pid_t pid;

	snprintf(state, sizeof(state), "%s/state", dir);
	snprintf(boot, sizeof(boot), "%s/boot-id", dir);
	snprintf(log, sizeof(log), "%s/daemon.log", dir);
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		setenv("XENSTORED_PATH", sock, 1);
		execl(daemon_path, daemon_path, "--foreground", "--state-dir",
		      state, "--boot-id-file", boot, "--sync", sync_mode,
		      "--snapshot-records", "50", "--log-segment-size", "65536",
		      (char *)NULL);
		_exit(127);
	}
	/* Wait until it answers. */
	for (int i = 0; i < 400; i++) {
		struct xsc *c;

		if (xsc_open(sock, &c) == 0) {
			char *v;
			uint32_t len;
			int rc = xsc_read(c, 0, "/tool/xenstored", &v, &len);

			xsc_close(c);
			if (rc == 0) {
				free(v);
				return pid;
			}
		}
		if (waitpid(pid, NULL, WNOHANG) == pid)
			die("the daemon exited at start (see %s)", log);
		usleep(25000);
	}
	die("the daemon did not answer within 10 s");
	return -1;
}

/* One client process: writes until the connection breaks. */
static void __attribute__((noreturn))
client_run(unsigned int id, int out)
{
	struct client_state st = cs[id];
	struct xsc *c;

	if (xsc_open(sock, &c) < 0)
		_exit(0);
	for (;;) {
		char path[64], val[32], msg[48];

		if (st.next % 7 == 0) {
			uint32_t tx;
			int rc;

			do {
				rc = xsc_transaction_start(c, &tx);
				if (rc < 0)
					_exit(0);
				snprintf(val, sizeof(val), "%lu", st.next);
				snprintf(path, sizeof(path), "/crash/c%u/ta", id);
				if (xsc_write(c, tx, path, val, strlen(val)) < 0)
					_exit(0);
				snprintf(path, sizeof(path), "/crash/c%u/tb", id);
				if (xsc_write(c, tx, path, val, strlen(val)) < 0)
					_exit(0);
				rc = xsc_transaction_end(c, tx, true);
			} while (rc == -EAGAIN);
			if (rc < 0)
				_exit(0);
			snprintf(msg, sizeof(msg), "t %lu\n", st.next);
		} else {
			snprintf(path, sizeof(path), "/crash/c%u/k%lu", id,
				 st.next);
			snprintf(val, sizeof(val), "v%lu", st.next);
			if (xsc_write(c, 0, path, val, strlen(val)) < 0)
				_exit(0);
			snprintf(msg, sizeof(msg), "k %lu\n", st.next);
		}
		if (write(out, msg, strlen(msg)) < 0)
			_exit(0);
		st.next++;
	}
}

static unsigned long
read_num(struct xsc *c, const char *path, bool *exists)
{
	char *v;
	uint32_t len;
	unsigned long n = 0;

	*exists = xsc_read(c, 0, path, &v, &len) == 0;
	if (*exists) {
		n = strtoul(v[0] == 'v' ? v + 1 : v, NULL, 10);
		free(v);
	}
	return n;
}

/* Checks client id after a restart; returns the number of violations. */
static unsigned int
verify_client(struct xsc *c, unsigned int id)
{
	struct client_state *st = &cs[id];
	unsigned int bad = 0;
	char path[64], pb[64];
	bool ex, exb;
	unsigned long ta, tb;

	for (unsigned long n = 1; n <= st->acked + 2; n++) {
		unsigned long v;

		if (n % 7 == 0)
			continue;
		snprintf(path, sizeof(path), "/crash/c%u/k%lu", id, n);
		v = read_num(c, path, &ex);
		if (n <= st->acked && (!ex || v != n)) {
			fprintf(stderr, "LOST: %s (acknowledged)\n", path);
			bad++;
		} else if (n > st->acked + 1 && ex) {
			fprintf(stderr, "PHANTOM: %s exists, never sent\n", path);
			bad++;
		}
	}
	snprintf(path, sizeof(path), "/crash/c%u/ta", id);
	snprintf(pb, sizeof(pb), "/crash/c%u/tb", id);
	ta = read_num(c, path, &ex);
	tb = read_num(c, pb, &exb);
	if (ex != exb || ta != tb) {
		fprintf(stderr, "TORN TRANSACTION: client %u ta=%lu tb=%lu\n", id,
			ta, tb);
		bad++;
	}
	if (ex && ta > st->acked + 1) {
		fprintf(stderr, "PHANTOM: transaction %lu of client %u, never "
			"sent\n", ta, id);
		bad++;
	}
	if (st->ta_acked && (!ex || ta < st->ta_acked)) {
		fprintf(stderr, "LOST: transaction %lu of client %u (have %lu)\n",
			st->ta_acked, id, ta);
		bad++;
	}
	/* Go on after whatever was applied, acknowledged or not. */
	st->next = st->acked + 1;
	for (;;) {
		snprintf(path, sizeof(path), "/crash/c%u/k%lu", id, st->next);
		if (st->next % 7 == 0) {
			if (ta >= st->next)
				st->next++;
			else
				break;
			continue;
		}
		read_num(c, path, &ex);
		if (!ex)
			break;
		st->next++;
	}
	st->acked = st->next - 1;
	if (ta > st->ta_acked)
		st->ta_acked = ta;
	return bad;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "rounds", required_argument, NULL, 'r' },
		{ "clients", required_argument, NULL, 'c' },
		{ "seed", required_argument, NULL, 's' },
		{ "sync", required_argument, NULL, 'y' },
		{ "keep", no_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long rounds = 5, seed = (unsigned long)time(NULL) ^ getpid();
	unsigned long total_acks = 0;
	unsigned int bad = 0;
	bool keep = false;
	char bootp[128];
	FILE *f;
	int o;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'r':
			rounds = strtoul(optarg, NULL, 10);
			break;
		case 'c':
			nclients = (unsigned int)strtoul(optarg, NULL, 10);
			if (nclients < 1 || nclients > MAX_CLIENTS)
				die("--clients 1..%d", MAX_CLIENTS);
			break;
		case 's':
			seed = strtoul(optarg, NULL, 10);
			break;
		case 'y':
			sync_mode = optarg;
			break;
		case 'k':
			keep = true;
			break;
		default:
			die("usage: crash-harness [--rounds N] [--clients K] "
			    "[--seed S] [--sync MODE] [--keep] DAEMON");
		}
	}
	if (optind + 1 != argc)
		die("usage: crash-harness [options] DAEMON");
	daemon_path = argv[optind];
	srandom((unsigned int)seed);
	strcpy(dir, "/tmp/lxs-crash.XXXXXX");
	if (mkdtemp(dir) == NULL)
		die("mkdtemp: %s", strerror(errno));
	snprintf(sock, sizeof(sock), "%s/socket", dir);
	snprintf(bootp, sizeof(bootp), "%s/boot-id", dir);
	f = fopen(bootp, "w");
	if (f == NULL)
		die("%s: %s", bootp, strerror(errno));
	fprintf(f, "crash-harness-boot\n");
	fclose(f);
	for (unsigned int i = 0; i < nclients; i++)
		cs[i].next = 1;
	signal(SIGPIPE, SIG_IGN);
	printf("crash-harness: %lu rounds, %u clients, sync=%s, seed %lu, "
	       "dir %s\n", rounds, nclients, sync_mode, seed, dir);

	for (unsigned long r = 1; r <= rounds; r++) {
		pid_t d = daemon_start(), kids[MAX_CLIENTS];
		int pipes[MAX_CLIENTS][2];
		unsigned long delay = 20 + (unsigned long)random() % 300;
		unsigned long acks = 0;
		struct xsc *c;

		for (unsigned int i = 0; i < nclients; i++) {
			if (pipe(pipes[i]) < 0)
				die("pipe: %s", strerror(errno));
			kids[i] = fork();
			if (kids[i] == 0) {
				close(pipes[i][0]);
				client_run(i, pipes[i][1]);
			}
			close(pipes[i][1]);
		}
		usleep(delay * 1000);
		kill(d, SIGKILL);
		waitpid(d, NULL, 0);
		/* Collect what each client saw acknowledged. */
		for (unsigned int i = 0; i < nclients; i++) {
			FILE *in = fdopen(pipes[i][0], "r");
			char kind;
			unsigned long n;

			while (fscanf(in, " %c %lu", &kind, &n) == 2) {
				acks++;
				if (kind == 'k' && n > cs[i].acked)
					cs[i].acked = n;
				if (kind == 't') {
					cs[i].ta_acked = n;
					if (n > cs[i].acked)
						cs[i].acked = n;
				}
			}
			fclose(in);
			waitpid(kids[i], NULL, 0);
		}
		d = daemon_start();
		if (xsc_open(sock, &c) < 0)
			die("connect after restart");
		for (unsigned int i = 0; i < nclients; i++)
			bad += verify_client(c, i);
		xsc_close(c);
		kill(d, SIGKILL);
		waitpid(d, NULL, 0);
		total_acks += acks;
		printf("round %lu: killed after %lu ms, %lu acknowledged, %s\n",
		       r, delay, acks, bad ? "VIOLATIONS" : "all there");
		fflush(stdout);
		if (bad)
			break;
	}
	printf("crash-harness: %lu acknowledged changes, %u violations\n",
	       total_acks, bad);
	if (!keep && !bad) {
		char *cmd = xasprintf("rm -rf '%s'", dir);

		if (system(cmd) != 0)
			fprintf(stderr, "cleanup of %s failed\n", dir);
		free(cmd);
	} else {
		printf("crash-harness: files kept in %s\n", dir);
	}
	return bad ? 1 : 0;
}
