/*
 * hist: a log-linear histogram of latencies in nanoseconds.
 *
 * Values below 64 have a bucket each. Above, each power of two is cut into
 * 32 buckets, so a bucket's midpoint is within about 1.6% of any value in
 * it: plenty for p50/p99, and adding a value is a few instructions, with
 * no allocation, at millions of values per second. The maximum is kept
 * exactly, with the time it was seen (to tell whether a stall coincides
 * with, say, a snapshot).
 *
 * Worked example: v = 1000 ns has its top bit at e = 9; the 5 bits below
 * it give top = 1000 >> 4 = 62, so the index is (9 - 5) * 32 + 62 = 190.
 * Back: e = 190 / 32 + 4 = 9, top = 190 % 32 + 32 = 62, the bucket is
 * [62 << 4, 63 << 4) = [992, 1008), midpoint 1000.
 */
#include <string.h>

#include "bench/xsbench.h"

#define HIST_SUB	(1u << HIST_SUB_BITS)

static unsigned int
hist_index(uint64_t v)
{
	unsigned int e;

	if (v < 2 * HIST_SUB)
		return (unsigned int)v;
	e = 63u - (unsigned int)__builtin_clzll(v);
	return (e - HIST_SUB_BITS) * HIST_SUB +
	       (unsigned int)(v >> (e - HIST_SUB_BITS));
}

static uint64_t
hist_mid(unsigned int idx)
{
	unsigned int e, shift;
	uint64_t top;

	if (idx < 2 * HIST_SUB)
		return idx;
	e = idx / HIST_SUB + HIST_SUB_BITS - 1;
	top = idx % HIST_SUB + HIST_SUB;
	shift = e - HIST_SUB_BITS;
	return (top << shift) + ((1ull << shift) >> 1);
}

void
hist_reset(struct hist *h)
{
	memset(h, 0, sizeof(*h));
}

void
hist_add(struct hist *h, uint64_t v, uint64_t now)
{
	h->b[hist_index(v)]++;
	h->n++;
	if (v > h->max) {
		h->max = v;
		h->max_at = now;
	}
}

uint64_t
hist_quantile(const struct hist *h, double q)
{
	uint64_t want, seen = 0;

	if (h->n == 0)
		return 0;
	want = (uint64_t)(q * (double)h->n + 0.5);
	if (want < 1)
		want = 1;
	for (unsigned int i = 0; i < HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen >= want) {
			uint64_t mid = hist_mid(i);

			return mid < h->max ? mid : h->max;
		}
	}
	return h->max;
}
