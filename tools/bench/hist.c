/* SPDX-License-Identifier: MIT */
/* vhost-user-bench: log-linear latency histogram (hist.h). */
#include <string.h>

#include "hist.h"

void hist_reset(struct hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

uint64_t hist_bucket_low(unsigned i)
{
	unsigned g = i / HIST_SUB, sub = i % HIST_SUB;

	if (g == 0)
		return sub;
	return (uint64_t)(HIST_SUB + sub) << (g - 1);
}

uint64_t hist_bucket_high(unsigned i)
{
	unsigned g = i / HIST_SUB;

	if (g == 0)
		return i;
	/* low + width - 1; the last bucket ends at UINT64_MAX exactly. */
	return hist_bucket_low(i) + ((UINT64_C(1) << (g - 1)) - 1);
}

void hist_merge(struct hist *into, const struct hist *from)
{
	if (!from->count)
		return;
	for (unsigned i = 0; i < HIST_BUCKETS; i++)
		into->b[i] += from->b[i];
	into->count += from->count;
	into->sum += from->sum;
	if (from->min < into->min)
		into->min = from->min;
	if (from->max > into->max)
		into->max = from->max;
}

uint64_t hist_percentile(const struct hist *h, double p)
{
	uint64_t rank, seen = 0, v, ppm;

	if (!h->count)
		return 0;
	if (p >= 100.0)
		return h->max;
	/* The sample of rank ceil(p% of count), counting from 1, in integers
	 * (parts per million) so that 99.9 % of 1000 is rank 999, not 1000
	 * by a rounding error. Counts stay far below 2^64 / 10^6. */
	ppm = p <= 0 ? 0 : (uint64_t)(p * 10000.0 + 0.5);
	rank = (h->count * ppm + 999999) / 1000000;
	if (rank < 1)
		rank = 1;
	if (rank > h->count)
		rank = h->count;
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen >= rank) {
			v = hist_bucket_high(i);
			if (v > h->max)
				v = h->max;
			if (v < h->min)
				v = h->min;
			return v;
		}
	}
	return h->max; /* not reached: the buckets add up to count */
}

double hist_mean(const struct hist *h)
{
	return h->count ? (double)h->sum / (double)h->count : 0.0;
}
