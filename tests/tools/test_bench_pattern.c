/* SPDX-License-Identifier: MIT */
/*
 * vhost-user-bench's verify patterns, block orders and option parsers
 * (tools/bench/pattern.c, opts.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bench.h"
#include "pattern.h"

#define NS 8 /* sectors in the test buffer */

static void a_written_pattern_checks_clean(void **state)
{
	uint8_t buf[NS * SECTOR_SIZE];

	(void)state;
	pattern_fill(buf, 1000, NS, 3, 42);
	assert_int_equal(pattern_check(buf, 1000, NS, 3, 42, NULL, 0), 0);
}

static void the_pattern_does_not_depend_on_the_block_size(void **state)
{
	uint8_t a[NS * SECTOR_SIZE], b[NS * SECTOR_SIZE];

	(void)state;
	pattern_fill(a, 64, NS, 1, 7);
	for (unsigned i = 0; i < NS; i += 2)
		pattern_fill(b + i * SECTOR_SIZE, 64 + i, 2, 1, 7);
	assert_memory_equal(a, b, sizeof(a));
}

static void one_flipped_byte_names_its_sector_and_offset(void **state)
{
	uint8_t buf[NS * SECTOR_SIZE];
	struct pattern_mismatch m[4];
	char line[320];

	(void)state;
	pattern_fill(buf, 1000, NS, 1, 42);
	buf[5 * SECTOR_SIZE + 300] ^= 0x01;
	assert_int_equal(pattern_check(buf, 1000, NS, 1, 42, m, 4), 1);
	assert_int_equal(m[0].lba, 1005);
	assert_int_equal(m[0].offset, 300);
	assert_int_equal(m[0].got, PAT_GOT_CORRUPT);
	pattern_describe(&m[0], 1, 42, line, sizeof(line));
	assert_non_null(strstr(line, "sector 1005 byte 300"));
	assert_non_null(strstr(line, "corrupt"));
}

static void data_of_another_sector_is_recognised(void **state)
{
	uint8_t buf[NS * SECTOR_SIZE];
	struct pattern_mismatch m[4];
	char line[320];

	(void)state;
	pattern_fill(buf, 1000, NS, 1, 42);
	/* Sector 1002 holds what belongs to sector 1006. */
	memcpy(buf + 2 * SECTOR_SIZE, buf + 6 * SECTOR_SIZE, SECTOR_SIZE);
	assert_int_equal(pattern_check(buf, 1000, NS, 1, 42, m, 4), 1);
	assert_int_equal(m[0].lba, 1002);
	assert_int_equal(m[0].got, PAT_GOT_OTHER_SECTOR);
	assert_int_equal(m[0].got_lba, 1006);
	assert_int_equal(m[0].offset, 8); /* the LBA field */
	pattern_describe(&m[0], 1, 42, line, sizeof(line));
	assert_non_null(strstr(line, "expected lba 1002"));
	assert_non_null(strstr(line, "got lba 1006"));
}

static void stale_pass_other_seed_zeroes_and_poison_are_told_apart(void **state)
{
	uint8_t buf[4 * SECTOR_SIZE];
	struct pattern_mismatch m[4];

	(void)state;
	pattern_fill(buf, 10, 1, 1, 42);	       /* old pass */
	pattern_fill(buf + SECTOR_SIZE, 11, 1, 2, 41); /* seed */
	memset(buf + 2 * SECTOR_SIZE, 0, SECTOR_SIZE); /* zeroes */
	memset(buf + 3 * SECTOR_SIZE, PATTERN_POISON, SECTOR_SIZE);
	assert_int_equal(pattern_check(buf, 10, 4, 2, 42, m, 4), 4);
	assert_int_equal(m[0].got, PAT_GOT_OTHER_PASS);
	assert_int_equal(m[0].got_pass, 1);
	assert_int_equal(m[1].got, PAT_GOT_OTHER_SEED);
	assert_int_equal(m[1].got_seed, 41);
	assert_int_equal(m[2].got, PAT_GOT_ZEROES);
	assert_int_equal(m[3].got, PAT_GOT_POISON);
}

static void mismatches_beyond_the_room_are_counted_not_described(void **state)
{
	uint8_t buf[NS * SECTOR_SIZE];
	struct pattern_mismatch m[2];

	(void)state;
	memset(buf, 0x11, sizeof(buf));
	assert_int_equal(pattern_check(buf, 0, NS, 1, 1, m, 2), NS);
	assert_int_equal(m[0].lba, 0);
	assert_int_equal(m[1].lba, 1);
	assert_int_equal(m[0].got, PAT_GOT_GARBAGE);
}

static void a_permutation_visits_every_block_exactly_once(void **state)
{
	static const uint64_t sizes[] = {1, 2, 3, 5, 64, 100, 1000, 4097};

	(void)state;
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		uint64_t n = sizes[s];
		uint8_t *seen = calloc(n, 1);
		struct perm p;

		assert_non_null(seen);
		perm_init(&p, n, 12345 + s);
		for (uint64_t i = 0; i < n; i++) {
			uint64_t v = perm_next(&p);

			assert_true(v < n);
			assert_int_equal(seen[v], 0);
			seen[v] = 1;
		}
		free(seen);
	}
}

static void two_seeds_give_two_orders(void **state)
{
	struct perm a, b;
	unsigned same = 0;

	(void)state;
	perm_init(&a, 1000, 1);
	perm_init(&b, 1000, 2);
	for (int i = 0; i < 1000; i++)
		same += perm_next(&a) == perm_next(&b);
	assert_true(same < 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(a_written_pattern_checks_clean),
	    cmocka_unit_test(the_pattern_does_not_depend_on_the_block_size),
	    cmocka_unit_test(one_flipped_byte_names_its_sector_and_offset),
	    cmocka_unit_test(data_of_another_sector_is_recognised),
	    cmocka_unit_test(
		stale_pass_other_seed_zeroes_and_poison_are_told_apart),
	    cmocka_unit_test(
		mismatches_beyond_the_room_are_counted_not_described),
	    cmocka_unit_test(a_permutation_visits_every_block_exactly_once),
	    cmocka_unit_test(two_seeds_give_two_orders),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
