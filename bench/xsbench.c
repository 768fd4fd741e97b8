/*
 * xsbench: load generator for XenStore daemons (lxenstored, Xen's
 * cxenstored and oxenstored) over the unix socket. See xsbench.h for the
 * design and work.c for the workloads; bench/run.sh drives it.
 *
 * A run: setup (blocking: prefill, workload nodes), connect every client,
 * send the first requests, then a warm-up (-W) that is not measured, the
 * measured window (-d seconds, or -N operations), and a drain that sends
 * nothing new and waits up to 2 s for what is in flight, so the next run
 * starts against an idle daemon.
 *
 * Over the measured window it reports operations per second, p50/p99/max
 * latency, and with -P PID the daemon's CPU time per operation: the on-CPU
 * time of all its threads (ns, /proc/PID/task/TID/schedstat) plus that of
 * its reaped children (lxenstored's snapshot writers; cutime + cstime of
 * /proc/PID/stat). On a shared, noisy machine that is the most stable
 * figure: it does not depend on how often the daemon got a core. The same
 * from /proc/PID/stat alone (utime + stime + cutime + cstime, in 10 ms
 * ticks) is the last column, as a cross-check.
 *
 * Helper modes: "prefill" (setup only, reports keys/s), "ready" (waits
 * until the daemon answers), "start" (runs a daemon and reports how long
 * it took to answer: restart time), "fsync" and "fsync-over" (write +
 * fdatasync latency of a file, appended or written over zeros, for what
 * --sync=always is bounded by).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench/xsbench.h"

#define XSB_DRAIN_NS		(2ull * 1000000000u)
#define XSB_ERRORS_SHOWN	5
/* --timeline's bucket. */
#define XSB_TL_NS		(10ull * 1000000u)

struct xsb_sample {
	uint64_t t;		/* mono ns */
	double daemon_us;	/* schedstat; -1 without -P */
	double daemon_stat_us;	/* /proc/PID/stat; -1 without -P */
	double self_us;
};

struct xsb_opts {
	const char *mode;	/* special modes; NULL for a workload */
	const char *label;
	const char *file;
	const char *timeline;	/* --timeline FILE, or NULL */
	pid_t pid;
	bool tsv, header;
};

static void __attribute__((noreturn))
xsb_die(const char *fmt, ...)
{
	va_list ap;

	fputs("xsbench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

/* --- what the workloads call ---------------------------------------------- */

void
bench_op_done(struct bench *b, uint64_t lat_ns)
{
	uint64_t now;
	size_t i;

	if (b->phase != PHASE_MEASURE)
		return;
	now = mono_ns();
	b->ops++;
	hist_add(&b->lat, lat_ns, now);
	i = (size_t)((now - b->tl_t0) / XSB_TL_NS);
	if (i < b->tl_n) {
		b->tl_ops[i]++;
		if (lat_ns > b->tl_max[i])
			b->tl_max[i] = lat_ns;
	}
}

void
bench_req_done(struct bench *b)
{
	if (b->phase == PHASE_MEASURE)
		b->reqs++;
}

void
bench_retry(struct bench *b)
{
	if (b->phase == PHASE_MEASURE)
		b->retries++;
}

void
bench_error(struct bench *b, const char *fmt, ...)
{
	va_list ap;

	/* Errors count whatever the phase: any of them spoils a run. */
	if (b->errors++ >= XSB_ERRORS_SHOWN)
		return;
	fputs("xsbench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

uint64_t
bench_rand(struct client *c, uint64_t n)
{
	/* xorshift64*: fast, and good enough to pick keys. */
	c->rng ^= c->rng >> 12;
	c->rng ^= c->rng << 25;
	c->rng ^= c->rng >> 27;
	return (c->rng * 0x2545F4914F6CDD1Dull) % n;
}

const char *
bench_value(struct bench *b)
{
	static const char hex[] = "0123456789abcdef";
	uint64_t v = ++b->stamp;
	unsigned int n = b->value_size < 16 ? b->value_size : 16;

	for (unsigned int i = 0; i < n; i++, v >>= 4)
		b->value[i] = hex[v & 15];
	return b->value;
}

/* --- measurements --------------------------------------------------------- */

/*
 * Reads a small /proc file into buf (NUL-terminated); false if it cannot.
 */
static bool
xsb_read_proc(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return true;
}

/*
 * CPU time of process pid from /proc/PID/stat, in µs: utime + stime of
 * all its threads, plus cutime + cstime of its reaped children (where
 * lxenstored's snapshot writers end up). -1 if unknown.
 */
static double
xsb_stat_cpu_us(pid_t pid)
{
	unsigned long long f[4];
	char path[64], buf[1024], *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (!xsb_read_proc(path, buf, sizeof(buf)))
		return -1;
	/* The command name may hold spaces and parentheses: fields are
	 * counted from the last ')'. utime is field 14, the 12th after it. */
	p = strrchr(buf, ')');
	if (p == NULL ||
	    sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
		   "%llu %llu %llu %llu", &f[0], &f[1], &f[2], &f[3]) != 4)
		return -1;
	return (double)(f[0] + f[1] + f[2] + f[3]) * 1e6 /
	       (double)sysconf(_SC_CLK_TCK);
}

/*
 * The same in nanosecond resolution: /proc/PID/stat counts in ticks of
 * 10 ms, which is 5% of a 1-second run at 20% CPU. The scheduler's own
 * on-CPU time of each thread (first field of /proc/PID/task/TID/schedstat,
 * ns; utime + stime are derived from it) is summed instead, and the
 * reaped children's ticks are added. -1 if unknown.
 */
static double
xsb_proc_cpu_us(pid_t pid)
{
	unsigned long long f[2];
	char path[96], buf[1024], *p;
	double us = 0;
	struct dirent *de;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	dir = opendir(path);
	if (dir == NULL)
		return xsb_stat_cpu_us(pid);
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.16s/schedstat",
			 (int)pid, de->d_name);
		if (xsb_read_proc(path, buf, sizeof(buf)))
			us += strtod(buf, NULL) / 1e3;
	}
	closedir(dir);
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (!xsb_read_proc(path, buf, sizeof(buf)))
		return -1;
	p = strrchr(buf, ')');
	if (p == NULL ||
	    sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
		   "%*u %*u %llu %llu", &f[0], &f[1]) != 2)
		return -1;
	return us + (double)(f[0] + f[1]) * 1e6 / (double)sysconf(_SC_CLK_TCK);
}

static double
xsb_self_cpu_us(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

static void
xsb_sample(struct xsb_sample *s, pid_t pid)
{
	s->t = mono_ns();
	s->daemon_us = pid > 0 ? xsb_proc_cpu_us(pid) : -1;
	s->daemon_stat_us = pid > 0 ? xsb_stat_cpu_us(pid) : -1;
	s->self_us = xsb_self_cpu_us();
}

/* --- output ----------------------------------------------------------------- */

static const char xsb_tsv_header[] =
	"label\tworkload\tclients\tdepth\tnodes\tsecs\tops\tops_per_s\t"
	"p50_us\tp99_us\tmax_us\tmax_at_s\tcpu_us_op\tdaemon_cpu_pct\t"
	"bench_cpu_us_op\treqs\terrors\tretries\tstat_cpu_us_op";

static void
xsb_report(const struct bench *b, const struct xsb_opts *o, const char *name,
	   const struct xsb_sample *s0, const struct xsb_sample *s1)
{
	double secs = (double)(s1->t - s0->t) / 1e9;
	double ops = (double)b->ops;
	double rate = secs > 0 ? ops / secs : 0;
	double p50 = (double)hist_quantile(&b->lat, 0.50) / 1e3;
	double p99 = (double)hist_quantile(&b->lat, 0.99) / 1e3;
	double max = (double)b->lat.max / 1e3;
	double max_at = b->lat.n ? (double)(b->lat.max_at - s0->t) / 1e9 : 0;
	double self = ops > 0 ? (s1->self_us - s0->self_us) / ops : 0;
	char cpu[32] = "-", pct[32] = "-", stat[32] = "-";

	if (s0->daemon_us >= 0 && s1->daemon_us >= 0 && ops > 0) {
		snprintf(cpu, sizeof(cpu), "%.3f",
			 (s1->daemon_us - s0->daemon_us) / ops);
		snprintf(pct, sizeof(pct), "%.1f",
			 (s1->daemon_us - s0->daemon_us) / 1e4 / secs);
	}
	if (s0->daemon_stat_us >= 0 && s1->daemon_stat_us >= 0 && ops > 0)
		snprintf(stat, sizeof(stat), "%.3f",
			 (s1->daemon_stat_us - s0->daemon_stat_us) / ops);
	if (o->header && o->tsv)
		printf("%s\n", xsb_tsv_header);
	if (o->tsv) {
		printf("%s\t%s\t%u\t%u\t%llu\t%.3f\t%llu\t%.0f\t%.1f\t%.1f\t"
		       "%.1f\t%.3f\t%s\t%s\t%.3f\t%llu\t%llu\t%llu\t%s\n",
		       o->label, name, b->nclients, b->depth,
		       (unsigned long long)b->nodes, secs,
		       (unsigned long long)b->ops, rate, p50, p99, max, max_at,
		       cpu, pct, self, (unsigned long long)b->reqs,
		       (unsigned long long)b->errors,
		       (unsigned long long)b->retries, stat);
		return;
	}
	if (o->header)
		printf("%-10s %-14s %7s %5s %8s %10s %9s %9s %10s %11s %8s "
		       "%6s %7s\n", "label", "workload", "clients", "depth",
		       "nodes", "ops/s", "p50 us", "p99 us", "max us",
		       "daemon us/op", "daemon%", "errors", "retries");
	printf("%-10s %-14s %7u %5u %8llu %10.0f %9.1f %9.1f %10.1f %11s "
	       "%8s %6llu %7llu\n", o->label, name, b->nclients, b->depth,
	       (unsigned long long)b->nodes, rate, p50, p99, max, cpu, pct,
	       (unsigned long long)b->errors, (unsigned long long)b->retries);
}

/* --- a workload run -------------------------------------------------------- */

static int
xsb_setup(struct bench *b)
{
	int fd, rc;

	fd = client_dial(b->socket);
	if (fd < 0)
		xsb_die("%s: %s", b->socket, strerror(-fd));
	rc = b->work->setup(b, fd);
	close(fd);
	return rc;
}

static void
xsb_connect_all(struct bench *b)
{
	b->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (b->epfd < 0)
		xsb_die("epoll_create1: %s", strerror(errno));
	b->nconns = b->nclients + (b->work->flags & WORK_EXTRA_CONN ? 1 : 0);
	b->clients = xcalloc(b->nconns, sizeof(*b->clients));
	for (unsigned int i = 0; i < b->nconns; i++) {
		struct client *c = &b->clients[i];
		int rc;

		c->b = b;
		c->idx = i;
		c->fd = -1;
		c->rng = b->seed * 0x9E3779B97F4A7C15ull + i + 1;
		rc = client_connect(c);
		if (rc < 0)
			xsb_die("connection %u to %s: %s", i, b->socket,
				strerror(-rc));
	}
}

static void
xsb_close_all(struct bench *b)
{
	for (unsigned int i = 0; i < b->nconns; i++) {
		client_close(&b->clients[i]);
		free(b->clients[i].in);
		buf_free(&b->clients[i].out);
	}
	free(b->clients);
	close(b->epfd);
}

/*
 * --timeline: buckets for the window and a margin, and the realtime at
 * which it opens, so that the file can be lined up with other clocks
 * (lu-pause.sh prints when the update ran).
 */
static void
xsb_timeline_open(struct bench *b, const struct xsb_opts *o, uint64_t now)
{
	if (o->timeline == NULL)
		return;
	b->tl_n = (size_t)(b->duration * 1e9 / XSB_TL_NS) + 2;
	b->tl_max = xcalloc(b->tl_n, sizeof(*b->tl_max));
	b->tl_ops = xcalloc(b->tl_n, sizeof(*b->tl_ops));
	b->tl_t0 = now;
	b->tl_real0 = real_ns();
}

/* Writes "realtime_ms<TAB>ops<TAB>max_us" per bucket; exits on failure. */
static void
xsb_timeline_write(const struct bench *b, const struct xsb_opts *o)
{
	FILE *f;

	if (o->timeline == NULL || b->tl_n == 0)
		return;
	f = fopen(o->timeline, "w");
	if (f == NULL)
		xsb_die("%s: %s", o->timeline, strerror(errno));
	for (size_t i = 0; i < b->tl_n; i++)
		fprintf(f, "%llu\t%llu\t%.1f\n",
			(unsigned long long)((b->tl_real0 + i * XSB_TL_NS) /
					     1000000),
			(unsigned long long)b->tl_ops[i],
			(double)b->tl_max[i] / 1e3);
	if (fclose(f) != 0)
		xsb_die("%s: %s", o->timeline, strerror(errno));
}

static int
xsb_run(struct bench *b, const struct xsb_opts *o)
{
	struct epoll_event evs[128];
	struct xsb_sample s0 = { 0 }, s1 = { 0 };
	uint64_t t_measure, t_end, t_quit = 0;
	int rc;

	rc = xsb_setup(b);
	if (rc < 0)
		xsb_die("%s: setup: %s", b->work->name, strerror(-rc));
	xsb_connect_all(b);
	for (unsigned int i = 0; i < b->nconns; i++) {
		b->work->start(&b->clients[i]);
		client_flush(&b->clients[i]);
	}
	t_measure = mono_ns() + (uint64_t)(b->warmup * 1e9);
	t_end = t_measure + (uint64_t)(b->duration * 1e9);

	for (;;) {
		uint64_t now = mono_ns(), next;
		int n, ms;

		if (b->phase == PHASE_WARMUP && now >= t_measure) {
			hist_reset(&b->lat);
			b->ops = b->reqs = b->retries = 0;
			xsb_sample(&s0, o->pid);
			b->phase = PHASE_MEASURE;
			xsb_timeline_open(b, o, now);
		}
		if (b->phase == PHASE_MEASURE &&
		    (now >= t_end || (b->max_ops && b->ops >= b->max_ops))) {
			xsb_sample(&s1, o->pid);
			b->phase = PHASE_DRAIN;
			b->stopping = true;
			t_quit = now + XSB_DRAIN_NS;
		}
		if (b->phase == PHASE_DRAIN &&
		    ((b->inflight == 0 &&
		      (!b->work->pending || b->work->pending(b) == 0)) ||
		     now >= t_quit))
			break;
		next = b->phase == PHASE_WARMUP ? t_measure :
		       b->phase == PHASE_MEASURE ? t_end : t_quit;
		/* With -N the window ends on a count: look often. */
		ms = next > now ? (int)((next - now) / 1000000) + 1 : 0;
		if (ms > 100)
			ms = 100;
		n = epoll_wait(b->epfd, evs, (int)LXS_ARRAY_SIZE(evs), ms);
		if (n < 0 && errno != EINTR)
			xsb_die("epoll_wait: %s", strerror(errno));
		for (int i = 0; i < n; i++) {
			struct client *c = evs[i].data.ptr;

			if (c->fd < 0)
				continue;
			if (evs[i].events & EPOLLOUT)
				client_flush(c);
			if (c->fd >= 0 &&
			    (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
				client_input(c);
		}
	}
	if (b->inflight)
		bench_error(b, "%llu requests unanswered 2 s after the end",
			    (unsigned long long)b->inflight);
	xsb_report(b, o, b->work->name, &s0, &s1);
	xsb_timeline_write(b, o);
	xsb_close_all(b);
	return b->errors || b->ops == 0 ? 1 : 0;
}

/* --- helper modes ------------------------------------------------------------ */

static int
xsb_prefill(struct bench *b, const struct xsb_opts *o)
{
	struct xsb_sample s0, s1;
	uint64_t have;
	char buf[32];
	int fd, rc;

	fd = client_dial(b->socket);
	if (fd < 0)
		xsb_die("%s: %s", b->socket, strerror(-fd));
	rc = client_call(fd, XS_READ, "/bench/n-count", NULL, 0, buf,
			 sizeof(buf));
	have = rc == 0 ? strtoull(buf, NULL, 10) : 0;
	xsb_sample(&s0, o->pid);
	rc = work_prefill(b, fd);
	xsb_sample(&s1, o->pid);
	close(fd);
	if (rc < 0)
		xsb_die("prefill: %s", strerror(-rc));
	b->ops = b->nodes > have ? b->nodes - have : 0;
	xsb_report(b, o, "prefill", &s0, &s1);
	return 0;
}

/* Whether the daemon answers a request now. */
static bool
xsb_answers(const char *socket)
{
	int fd = client_dial(socket), rc;

	if (fd < 0)
		return false;
	rc = client_call(fd, XS_READ, "/", NULL, 0, NULL, 0);
	close(fd);
	/* Any answer will do, an error reply included. */
	return rc != -EPIPE && rc != -ECONNRESET && rc != -EPROTO;
}

static void
xsb_nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static int
xsb_ready(struct bench *b)
{
	uint64_t t0 = mono_ns(), limit = (uint64_t)(b->duration * 1e9);

	while (!xsb_answers(b->socket)) {
		if (mono_ns() - t0 > limit) {
			fprintf(stderr, "xsbench: %s: no answer within %.1f s\n",
				b->socket, b->duration);
			return 1;
		}
		xsb_nap_ms(2);
	}
	printf("%.1f\n", (double)(mono_ns() - t0) / 1e6);
	return 0;
}

/*
 * Runs argv as a daemon in its own session (output to o->file or
 * /dev/null) and reports "PID<TAB>MS<TAB>CPU_MS": the time from fork to
 * its first answer, and the CPU time it used until then. The daemon is
 * left running; the caller stops it.
 */
static int
xsb_start(struct bench *b, const struct xsb_opts *o, char **argv)
{
	uint64_t t0, limit = (uint64_t)(b->duration * 1e9);
	pid_t pid;
	int status;

	if (argv[0] == NULL)
		xsb_die("start: no command after --");
	t0 = mono_ns();
	pid = fork();
	if (pid < 0)
		xsb_die("fork: %s", strerror(errno));
	if (pid == 0) {
		int fd = open(o->file ? o->file : "/dev/null",
			      O_WRONLY | O_CREAT | O_APPEND, 0644);

		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(127);
		close(fd);
		close(0);
		setsid();
		execvp(argv[0], argv);
		_exit(127);
	}
	for (;;) {
		if (xsb_answers(b->socket))
			break;
		if (waitpid(pid, &status, WNOHANG) == pid) {
			fprintf(stderr, "xsbench: %s exited (status 0x%x) "
				"before answering\n", argv[0], status);
			return 1;
		}
		if (mono_ns() - t0 > limit) {
			fprintf(stderr, "xsbench: %s: no answer within %.1f s "
				"(pid %d left running)\n", b->socket,
				b->duration, (int)pid);
			return 1;
		}
		xsb_nap_ms(1);
	}
	/* Its CPU time so far says how long start-up takes on an idle
	 * core, whatever else the machine was doing meanwhile. */
	printf("%d\t%.1f\t%.1f\n", (int)pid, (double)(mono_ns() - t0) / 1e6,
	       xsb_proc_cpu_us(pid) / 1e3);
	return 0;
}

/* Fills fd with size bytes of zeros and syncs them (a spare segment). */
static void
xsb_zero_fill(int fd, const char *file, size_t size)
{
	static const char zeros[65536];

	for (size_t done = 0; done < size; done += sizeof(zeros))
		if (write(fd, zeros, sizeof(zeros)) != (ssize_t)sizeof(zeros))
			xsb_die("%s: %s", file, strerror(errno));
	if (fdatasync(fd) < 0 || lseek(fd, 0, SEEK_SET) < 0)
		xsb_die("%s: %s", file, strerror(errno));
}

/*
 * write(2) of 128 bytes + fdatasync, as one log group commit would:
 * appended ("fsync"), or over zeros written and synced beforehand
 * ("fsync-over", as --sync=always writes its spare segments).
 */
static int
xsb_fsync(struct bench *b, const struct xsb_opts *o, bool over)
{
	struct xsb_sample s0, s1;
	char rec[128];
	uint64_t end;
	int fd;

	if (o->file == NULL)
		xsb_die("fsync: -f FILE is needed");
	fd = open(o->file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
		  (over ? 0 : O_APPEND), 0600);
	if (fd < 0)
		xsb_die("%s: %s", o->file, strerror(errno));
	if (over)
		xsb_zero_fill(fd, o->file, 64u << 20);
	memset(rec, 'r', sizeof(rec));
	xsb_sample(&s0, 0);
	end = s0.t + (uint64_t)(b->duration * 1e9);
	b->phase = PHASE_MEASURE;
	while (mono_ns() < end) {
		uint64_t t = mono_ns();

		if (write(fd, rec, sizeof(rec)) != (ssize_t)sizeof(rec) ||
		    fdatasync(fd) < 0)
			xsb_die("%s: %s", o->file, strerror(errno));
		bench_op_done(b, mono_ns() - t);
	}
	xsb_sample(&s1, 0);
	close(fd);
	unlink(o->file);
	b->nclients = 1;
	b->nodes = 0;
	xsb_report(b, o, over ? "fsync-over" : "fsync", &s0, &s1);
	return 0;
}

/* --- options ------------------------------------------------------------------ */

static void
xsb_usage(FILE *f)
{
	fprintf(f,
"usage: xsbench [OPTION]... [-- COMMAND...]\n"
"Load generator for XenStore daemons, over the unix socket.\n"
"\n"
"  -s, --socket PATH      daemon socket (default: $XENSTORED_PATH)\n"
"  -w, --workload NAME    what to run (default read); see below\n"
"  -c, --clients N        connections (default 1; watch: watchers, 100)\n"
"  -p, --depth N          requests in flight per connection, 1..%d\n"
"                         (default 1; watch: write rounds in flight)\n"
"  -d, --duration SECS    measured time (default 2; ready, start: timeout)\n"
"  -W, --warmup SECS      unmeasured time before it (default 0.3)\n"
"  -N, --ops N            end the measured window after N operations\n"
"  -n, --nodes N          prefilled keys (default 10000)\n"
"  -v, --value-size N     bytes per written value (default 24)\n"
"      --dir-size N       children of the listed directory (default 1000)\n"
"  -P, --pid PID          daemon pid: report its CPU time per operation\n"
"  -l, --label TEXT       first column of the output (default \"-\")\n"
"  -t, --tsv              tab-separated output\n"
"  -H, --header           print a header line first\n"
"  -f, --file PATH        fsync: file to write; start: daemon output\n"
"      --seed N           random seed (default 1)\n"
"      --timeline FILE    per 10 ms of the window: realtime ms, operations\n"
"                         finished, longest latency (us)\n"
"  -h, --help\n"
"\n"
"Workloads:\n", CLIENT_MAX_DEPTH);
	work_list(f);
	fprintf(f,
"Helper modes (-w):\n"
"  prefill        only make sure the -n keys exist; reports keys/s\n"
"  ready          wait up to -d seconds until the daemon answers\n"
"  start          run COMMAND (a daemon in the foreground), print\n"
"                 \"PID<TAB>MS<TAB>CPU_MS\": ms from exec until it\n"
"                 answered, and the CPU time it used until then\n"
"  fsync          write(128 bytes) + fdatasync on -f FILE for -d seconds\n"
"  fsync-over     the same over 64 MiB of zeros written and synced first\n"
"\n"
"Exit status: 0 when the run had operations and no errors, 1 otherwise,\n"
"2 when it could not run.\n");
}

static unsigned long long
xsb_number(const char *opt, const char *s, unsigned long long max)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || v > max)
		xsb_die("%s: bad number '%s'", opt, s);
	return v;
}

static double
xsb_seconds(const char *opt, const char *s)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end || v < 0 || v > 86400)
		xsb_die("%s: bad duration '%s'", opt, s);
	return v;
}

int
main(int argc, char **argv)
{
	enum { OPT_DIR_SIZE = 256, OPT_SEED, OPT_TIMELINE };
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "workload", required_argument, NULL, 'w' },
		{ "clients", required_argument, NULL, 'c' },
		{ "depth", required_argument, NULL, 'p' },
		{ "duration", required_argument, NULL, 'd' },
		{ "warmup", required_argument, NULL, 'W' },
		{ "ops", required_argument, NULL, 'N' },
		{ "nodes", required_argument, NULL, 'n' },
		{ "value-size", required_argument, NULL, 'v' },
		{ "dir-size", required_argument, NULL, OPT_DIR_SIZE },
		{ "pid", required_argument, NULL, 'P' },
		{ "label", required_argument, NULL, 'l' },
		{ "tsv", no_argument, NULL, 't' },
		{ "header", no_argument, NULL, 'H' },
		{ "file", required_argument, NULL, 'f' },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ "timeline", required_argument, NULL, OPT_TIMELINE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct bench b;
	struct xsb_opts o = { .label = "-" };
	const char *wname = "read";
	bool clients_set = false;
	int ch;

	b.depth = 1;
	b.nclients = 1;
	b.duration = 2;
	b.warmup = 0.3;
	b.nodes = 10000;
	b.value_size = 24;
	b.dir_size = 1000;
	b.seed = 1;
	b.socket = getenv("XENSTORED_PATH");
	while ((ch = getopt_long(argc, argv, "s:w:c:p:d:W:N:n:v:P:l:tHf:h",
				 longopts, NULL)) != -1) {
		switch (ch) {
		case 's': b.socket = optarg; break;
		case 'w': wname = optarg; break;
		case 'c':
			b.nclients = (unsigned int)xsb_number("-c", optarg,
							      4096);
			clients_set = true;
			break;
		case 'p':
			b.depth = (unsigned int)xsb_number("-p", optarg,
							   CLIENT_MAX_DEPTH);
			break;
		case 'd': b.duration = xsb_seconds("-d", optarg); break;
		case 'W': b.warmup = xsb_seconds("-W", optarg); break;
		case 'N': b.max_ops = xsb_number("-N", optarg, ~0ull); break;
		case 'n': b.nodes = xsb_number("-n", optarg, 100000000); break;
		case 'v':
			b.value_size = (unsigned int)xsb_number("-v", optarg,
								2048);
			break;
		case OPT_DIR_SIZE:
			b.dir_size = (unsigned int)xsb_number("--dir-size",
							      optarg, 1000);
			break;
		case 'P':
			o.pid = (pid_t)xsb_number("-P", optarg, 1u << 30);
			break;
		case 'l': o.label = optarg; break;
		case 't': o.tsv = true; break;
		case 'H': o.header = true; break;
		case 'f': o.file = optarg; break;
		case OPT_SEED: b.seed = xsb_number("--seed", optarg, ~0ull); break;
		case OPT_TIMELINE: o.timeline = optarg; break;
		case 'h': xsb_usage(stdout); return 0;
		default: xsb_usage(stderr); return 2;
		}
	}
	if (b.socket == NULL)
		b.socket = "/var/run/xenstored/socket";
	if (b.depth == 0 || b.nclients == 0 || b.nodes == 0)
		xsb_die("-p, -c and -n must be at least 1");
	/* A daemon that dies mid-run must not kill us with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);

	if (strcmp(wname, "fsync") == 0 || strcmp(wname, "fsync-over") == 0)
		return xsb_fsync(&b, &o, wname[5] != 0);
	if (strcmp(wname, "ready") == 0)
		return xsb_ready(&b);
	if (strcmp(wname, "start") == 0)
		return xsb_start(&b, &o, argv + optind);
	if (optind < argc)
		xsb_die("unexpected argument '%s'", argv[optind]);
	if (strcmp(wname, "prefill") == 0)
		return xsb_prefill(&b, &o);
	b.work = work_find(wname);
	if (b.work == NULL)
		xsb_die("unknown workload '%s' (see --help)", wname);
	if (strcmp(wname, "watch") == 0 && !clients_set)
		b.nclients = 100;
	if (b.work->flags & WORK_FIXED_DEPTH)
		b.depth = 1;
	return xsb_run(&b, &o);
}
