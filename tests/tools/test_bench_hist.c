/* SPDX-License-Identifier: MIT */
/* vhost-user-bench's latency histogram (tools/bench/hist.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "hist.h"

static struct hist *new_hist(void)
{
	struct hist *h = malloc(sizeof(*h));

	assert_non_null(h);
	hist_reset(h);
	return h;
}

static void values_below_128_get_a_bucket_each(void **state)
{
	(void)state;
	for (uint64_t v = 0; v < HIST_SUB; v++) {
		assert_int_equal(hist_index(v), v);
		assert_int_equal(hist_bucket_low((unsigned)v), v);
		assert_int_equal(hist_bucket_high((unsigned)v), v);
	}
}

static void
every_value_lies_in_its_bucket_and_buckets_tile_the_range(void **state)
{
	uint64_t vals[] = {128,
			   129,
			   255,
			   256,
			   257,
			   1000,
			   4095,
			   4096,
			   99999,
			   1234567,
			   UINT64_C(1) << 40,
			   UINT64_MAX};

	(void)state;
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		unsigned b = hist_index(vals[i]);

		assert_true(b < HIST_BUCKETS);
		assert_true(hist_bucket_low(b) <= vals[i]);
		assert_true(vals[i] <= hist_bucket_high(b));
	}
	/* Consecutive buckets touch: no gap, no overlap. */
	for (unsigned b = 0; b + 1 < HIST_BUCKETS; b++)
		assert_true(hist_bucket_high(b) + 1 == hist_bucket_low(b + 1));
	assert_true(hist_bucket_high(HIST_BUCKETS - 1) == UINT64_MAX);
}

static void a_bucket_is_at_most_one_128th_of_its_values_wide(void **state)
{
	(void)state;
	for (unsigned b = HIST_SUB; b < HIST_BUCKETS; b++) {
		uint64_t lo = hist_bucket_low(b), hi = hist_bucket_high(b);

		assert_true((hi - lo) <= lo / HIST_SUB);
	}
}

static void count_sum_min_max_and_mean_are_exact(void **state)
{
	struct hist *h = new_hist();

	(void)state;
	hist_add(h, 1000);
	hist_add(h, 3000);
	hist_add(h, 5);
	assert_int_equal(h->count, 3);
	assert_int_equal(h->sum, 4005);
	assert_int_equal(h->min, 5);
	assert_int_equal(h->max, 3000);
	assert_true(hist_mean(h) > 1334.99 && hist_mean(h) < 1335.01);
	free(h);
}

static void an_empty_histogram_reports_zero(void **state)
{
	struct hist *h = new_hist();

	(void)state;
	assert_int_equal(hist_percentile(h, 50), 0);
	assert_int_equal(hist_percentile(h, 100), 0);
	assert_true(hist_mean(h) == 0.0);
	free(h);
}

/* Uniform 1..100000 ns: the p-th percentile is p * 1000, and the
 * histogram's answer is never below it and at most 1/128 above. */
static void
percentiles_of_a_uniform_distribution_are_within_bucket_error(void **state)
{
	struct hist *h = new_hist();
	const double ps[] = {50, 90, 99, 99.9};

	(void)state;
	for (uint64_t v = 1; v <= 100000; v++)
		hist_add(h, v);
	for (size_t i = 0; i < 4; i++) {
		uint64_t truth = (uint64_t)(ps[i] * 1000 + 0.5);
		uint64_t got = hist_percentile(h, ps[i]);

		assert_true(got >= truth);
		assert_true(got <= truth + truth / HIST_SUB);
	}
	assert_int_equal(hist_percentile(h, 100), 100000);
	free(h);
}

/* 999 fast requests and one slow: p99.9 is still the fast one (rank 999
 * of 1000), p100 the slow one — no rounding pushes the rank over. */
static void p99_9_of_1000_samples_is_the_999th(void **state)
{
	struct hist *h = new_hist();

	(void)state;
	for (int i = 0; i < 999; i++)
		hist_add(h, 10);
	hist_add(h, 1000000);
	assert_int_equal(hist_percentile(h, 99.9), 10);
	assert_int_equal(hist_percentile(h, 100), 1000000);
	free(h);
}

static void percentiles_are_clamped_to_the_exact_extremes(void **state)
{
	struct hist *h = new_hist();

	(void)state;
	hist_add(h, 1000001); /* bucket [999424, 1003519] */
	assert_int_equal(hist_percentile(h, 50), 1000001);
	assert_int_equal(hist_percentile(h, 99.9), 1000001);
	free(h);
}

static void merging_equals_adding_everything_to_one(void **state)
{
	struct hist *a = new_hist(), *b = new_hist(), *all = new_hist();

	(void)state;
	for (uint64_t v = 1; v < 50000; v += 7) {
		hist_add((v & 1) ? a : b, v * 3);
		hist_add(all, v * 3);
	}
	hist_merge(a, b);
	assert_int_equal(a->count, all->count);
	assert_int_equal(a->sum, all->sum);
	assert_int_equal(a->min, all->min);
	assert_int_equal(a->max, all->max);
	assert_memory_equal(a->b, all->b, sizeof(a->b));
	/* Merging an empty histogram changes nothing (min stays exact). */
	hist_reset(b);
	hist_merge(a, b);
	assert_int_equal(a->min, all->min);
	free(a);
	free(b);
	free(all);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(values_below_128_get_a_bucket_each),
	    cmocka_unit_test(
		every_value_lies_in_its_bucket_and_buckets_tile_the_range),
	    cmocka_unit_test(a_bucket_is_at_most_one_128th_of_its_values_wide),
	    cmocka_unit_test(count_sum_min_max_and_mean_are_exact),
	    cmocka_unit_test(an_empty_histogram_reports_zero),
	    cmocka_unit_test(
		percentiles_of_a_uniform_distribution_are_within_bucket_error),
	    cmocka_unit_test(p99_9_of_1000_samples_is_the_999th),
	    cmocka_unit_test(percentiles_are_clamped_to_the_exact_extremes),
	    cmocka_unit_test(merging_equals_adding_everything_to_one),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
