/* SPDX-License-Identifier: MIT */
/*
 * vhost-user-bench: latency histogram, log-linear like HdrHistogram.
 *
 * Values (nanoseconds) below 2^HIST_SUB_BITS get a bucket each (exact);
 * above, every power of two is cut into 2^HIST_SUB_BITS equal buckets, so a
 * bucket is at most 1/128 (0.78 %) of its values wide. 7424 buckets of 8
 * bytes cover the whole uint64_t range: no overflow bucket, no allocation
 * per sample. Count, sum, min and max are kept exactly.
 *
 * A percentile is the upper edge of the bucket holding the sample of rank
 * ceil(p/100 * count) (the "highest equivalent value"), clamped to the exact
 * min and max: it is never below the true percentile and at most 0.78 %
 * above it. p100 is the exact max.
 *
 * One histogram per thread; merge at the end. Not thread-safe.
 */
#ifndef VH_BENCH_HIST_H
#define VH_BENCH_HIST_H

#include <stdbool.h>
#include <stdint.h>

#define HIST_SUB_BITS 7
#define HIST_SUB      (1u << HIST_SUB_BITS)
/* Group 0 holds 0..127 exactly; groups 1..57 hold [2^(g+6), 2^(g+7)). */
#define HIST_BUCKETS ((64 - HIST_SUB_BITS + 1) * HIST_SUB)

struct hist {
	uint64_t count;
	uint64_t sum; /* ns; wraps after 584 years of latency */
	uint64_t min;
	uint64_t max;
	uint64_t b[HIST_BUCKETS];
};

/** Empty @h. */
void hist_reset(struct hist *h);

/** Bucket index of value @v. */
static inline unsigned hist_index(uint64_t v)
{
	unsigned e;

	if (v < HIST_SUB)
		return (unsigned)v;
	e = 63u - (unsigned)__builtin_clzll(v); /* >= HIST_SUB_BITS */
	return (e - HIST_SUB_BITS + 1) * HIST_SUB +
	       (unsigned)(v >> (e - HIST_SUB_BITS)) - HIST_SUB;
}

/** Record one value. */
static inline void hist_add(struct hist *h, uint64_t v)
{
	h->b[hist_index(v)]++;
	h->count++;
	h->sum += v;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

/** Smallest and largest value bucket @i holds. */
uint64_t hist_bucket_low(unsigned i);
uint64_t hist_bucket_high(unsigned i);

/** @into += @from. */
void hist_merge(struct hist *into, const struct hist *from);

/** Percentile @p (0 < p <= 100) as described above; 0 when empty. */
uint64_t hist_percentile(const struct hist *h, double p);

/** Mean (exact, from the sum); 0 when empty. */
double hist_mean(const struct hist *h);

#endif /* VH_BENCH_HIST_H */
