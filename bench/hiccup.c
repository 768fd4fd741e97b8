/*
 * hiccup: when did this machine stop running its own threads?
 *
 *   hiccup [-t MS] [-r FILE] SECS
 *
 * One thread per CPU, pinned and SCHED_FIFO (so that no ordinary task
 * delays it), sleeps 1 ms at a time for SECS seconds and prints every
 * wake-up that came more than MS (default 3) late:
 *
 *   REALTIME_MS<TAB>CPU<TAB>LATE_MS
 *
 * A thread woken late could not run: its CPU had interrupts or preemption
 * off that long, or the virtual machine itself was not running (both CPUs
 * late at the same moment). Either way no process, the daemon included,
 * ran in that time, so a client's wait that overlaps it is the machine's,
 * not the daemon's (bench/lu-pause.sh lines them up). Without the
 * privilege for SCHED_FIFO it runs at normal priority and says so.
 *
 * -r FILE: FILE holds a growing count, read every millisecond; each time
 * it grows:
 *
 *   REALTIME_MS<TAB>report<TAB>INCREASE
 *
 * For /sys/module/page_reporting/parameters/reported_kib (KiB of free
 * memory the guest kernel handed back to the hypervisor, on kernels that
 * export it): a virtual machine stopped whole right after such a report
 * was stopped by its host taking the memory back. The reader is not
 * SCHED_FIFO: it must not make the lateness it is there to explain.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define HICCUP_MAX_CPUS	64

static double hiccup_secs;
static double hiccup_late_ms = 3;
static int hiccup_report_fd = -1;
static long long hiccup_report_first;
static pthread_mutex_t hiccup_out = PTHREAD_MUTEX_INITIALIZER;

static double
hiccup_ms(clockid_t clk)
{
	struct timespec t;

	clock_gettime(clk, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void *
hiccup_watch(void *arg)
{
	long cpu = (long)arg;
	struct sched_param sp = { .sched_priority = 50 };
	cpu_set_t set;
	double end;
	int rc;

	CPU_ZERO(&set);
	CPU_SET((int)cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	rc = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
	if (rc != 0 && cpu == 0)
		fprintf(stderr, "hiccup: SCHED_FIFO: %s; running at normal "
			"priority, so lateness includes waiting for a CPU\n",
			strerror(rc));
	end = hiccup_ms(CLOCK_MONOTONIC) + hiccup_secs * 1e3;
	for (;;) {
		struct timespec one = { 0, 1000000 };
		double before = hiccup_ms(CLOCK_MONOTONIC), late;

		if (before >= end)
			break;
		nanosleep(&one, NULL);
		late = hiccup_ms(CLOCK_MONOTONIC) - before - 1;
		if (late > hiccup_late_ms) {
			pthread_mutex_lock(&hiccup_out);
			printf("%.0f\t%ld\t%.3f\n", hiccup_ms(CLOCK_REALTIME),
			       cpu, late);
			fflush(stdout);
			pthread_mutex_unlock(&hiccup_out);
		}
	}
	return NULL;
}

/* The count in hiccup_report_fd; -1 if it cannot be read. */
static long long
hiccup_report_count(void)
{
	char buf[32];
	ssize_t n = pread(hiccup_report_fd, buf, sizeof(buf) - 1, 0);
	char *end;
	long long v;

	if (n <= 0)
		return -1;
	buf[n] = '\0';
	v = strtoll(buf, &end, 10);
	return end == buf ? -1 : v;
}

static void *
hiccup_reports(void *arg)
{
	long long last = hiccup_report_first, now;
	double end = hiccup_ms(CLOCK_MONOTONIC) + hiccup_secs * 1e3;

	(void)arg;
	while (hiccup_ms(CLOCK_MONOTONIC) < end) {
		struct timespec one = { 0, 1000000 };

		nanosleep(&one, NULL);
		now = hiccup_report_count();
		if (now <= last)
			continue;
		pthread_mutex_lock(&hiccup_out);
		printf("%.0f\treport\t%lld\n", hiccup_ms(CLOCK_REALTIME),
		       now - last);
		fflush(stdout);
		pthread_mutex_unlock(&hiccup_out);
		last = now;
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	pthread_t th[HICCUP_MAX_CPUS + 1];
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN), nth;
	const char *report = NULL;
	int opt;

	while ((opt = getopt(argc, argv, "t:r:")) != -1) {
		if (opt == 't')
			hiccup_late_ms = strtod(optarg, NULL);
		else if (opt == 'r')
			report = optarg;
		else
			goto usage;
	}
	if (optind != argc - 1)
		goto usage;
	hiccup_secs = strtod(argv[optind], NULL);
	if (hiccup_secs <= 0 || hiccup_late_ms <= 0)
		goto usage;
	if (report) {
		hiccup_report_fd = open(report, O_RDONLY | O_CLOEXEC);
		hiccup_report_first = hiccup_report_fd < 0 ? -1 :
				      hiccup_report_count();
		if (hiccup_report_first < 0) {
			fprintf(stderr, "hiccup: %s: %s\n", report,
				hiccup_report_fd < 0 ? strerror(errno) :
				"no count in it");
			return 2;
		}
	}
	if (ncpu < 1 || ncpu > HICCUP_MAX_CPUS)
		ncpu = ncpu < 1 ? 1 : HICCUP_MAX_CPUS;
	for (nth = 0; nth <= ncpu; nth++) {
		int rc = 0;

		if (nth < ncpu)
			rc = pthread_create(&th[nth], NULL, hiccup_watch,
					    (void *)nth);
		else if (report)
			rc = pthread_create(&th[nth], NULL, hiccup_reports,
					    NULL);
		else
			break;
		if (rc != 0) {
			fprintf(stderr, "hiccup: thread: %s\n", strerror(rc));
			return 1;
		}
	}
	for (long i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
	return 0;
usage:
	fprintf(stderr, "usage: hiccup [-t MS] [-r FILE] SECS\n");
	return 2;
}
