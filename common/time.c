/*
 * Clock readings in nanoseconds: monotonic for durations, real time for
 * timestamps that are stored or shown.
 */
#include <time.h>

#include "common.h"

static uint64_t
clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t
mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

uint64_t
real_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}
