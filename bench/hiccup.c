/*
 * hiccup: when did this machine stop running its own threads?
 *
 *   hiccup [-t MS] SECS
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
 */
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

int
main(int argc, char **argv)
{
	pthread_t th[HICCUP_MAX_CPUS];
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int opt;

	while ((opt = getopt(argc, argv, "t:")) != -1) {
		if (opt != 't')
			goto usage;
		hiccup_late_ms = strtod(optarg, NULL);
	}
	if (optind != argc - 1)
		goto usage;
	hiccup_secs = strtod(argv[optind], NULL);
	if (hiccup_secs <= 0 || hiccup_late_ms <= 0)
		goto usage;
	if (ncpu < 1 || ncpu > HICCUP_MAX_CPUS)
		ncpu = ncpu < 1 ? 1 : HICCUP_MAX_CPUS;
	for (long i = 0; i < ncpu; i++) {
		int rc = pthread_create(&th[i], NULL, hiccup_watch, (void *)i);

		if (rc != 0) {
			fprintf(stderr, "hiccup: thread: %s\n", strerror(rc));
			return 1;
		}
	}
	for (long i = 0; i < ncpu; i++)
		pthread_join(th[i], NULL);
	return 0;
usage:
	fprintf(stderr, "usage: hiccup [-t MS] SECS\n");
	return 2;
}
