/* SPDX-License-Identifier: MIT */
/*
 * tools/common/cli.c: the command-line helpers of vhost-user-blk,
 * vhost-user-net and vhost-user-bench, at their boundaries.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cli.h"

static void sizes_take_binary_suffixes(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(vh_cli_size("512", &v), 0);
	assert_int_equal(v, 512);
	assert_int_equal(vh_cli_size("512B", &v), 0);
	assert_int_equal(v, 512);
	assert_int_equal(vh_cli_size("4k", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(vh_cli_size("4KiB", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(vh_cli_size("256MB", &v), 0);
	assert_int_equal(v, 256u << 20);
	assert_int_equal(vh_cli_size("2g", &v), 0);
	assert_int_equal(v, UINT64_C(2) << 30);
	assert_int_equal(vh_cli_size("16777215T", &v), 0);
	assert_int_equal(v, UINT64_C(16777215) << 40);
}

static void sizes_refuse_junk_signs_and_overflow(void **state)
{
	uint64_t v = 7;

	(void)state;
	assert_int_equal(vh_cli_size("", &v), -EINVAL);
	assert_int_equal(vh_cli_size(NULL, &v), -EINVAL);
	assert_int_equal(vh_cli_size("-1", &v), -EINVAL);
	assert_int_equal(vh_cli_size("+1", &v), -EINVAL);
	assert_int_equal(vh_cli_size(" 1", &v), -EINVAL);
	assert_int_equal(vh_cli_size("4x", &v), -EINVAL);
	assert_int_equal(vh_cli_size("4kk", &v), -EINVAL);
	assert_int_equal(vh_cli_size("4 k", &v), -EINVAL);
	assert_int_equal(vh_cli_size("16777216T", &v), -ERANGE);
	assert_int_equal(vh_cli_size("99999999999999999999", &v), -ERANGE);
	assert_int_equal(v, 7); /* untouched */
}

static void integers_are_bounded_and_whole(void **state)
{
	unsigned long v = 7;

	(void)state;
	assert_int_equal(vh_cli_ulong("0", 0, 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(vh_cli_ulong("10", 0, 10, &v), 0);
	assert_int_equal(v, 10);
	assert_int_equal(vh_cli_ulong("0x1f", 0, 100, &v), 0);
	assert_int_equal(v, 31);
	assert_int_equal(vh_cli_ulong("010", 0, 100, &v), 0);
	assert_int_equal(v, 10); /* decimal, not octal */
	v = 7;
	assert_int_equal(vh_cli_ulong("11", 0, 10, &v), -EINVAL);
	assert_int_equal(vh_cli_ulong("0", 1, 10, &v), -EINVAL);
	assert_int_equal(vh_cli_ulong("-1", 0, 10, &v), -EINVAL);
	assert_int_equal(vh_cli_ulong("1x", 0, 10, &v), -EINVAL);
	assert_int_equal(vh_cli_ulong("0x", 0, 10, &v), -EINVAL);
	assert_int_equal(vh_cli_ulong("", 0, 10, &v), -EINVAL);
	assert_int_equal(vh_cli_ulong("99999999999999999999999", 0, ~0ul, &v),
			 -EINVAL);
	assert_int_equal(v, 7);
}

static void cpu_lists_take_ranges_and_refuse_junk(void **state)
{
	int cpus[8];

	(void)state;
	assert_int_equal(vh_cli_cpus("1", cpus, 8), 1);
	assert_int_equal(cpus[0], 1);
	assert_int_equal(vh_cli_cpus("0-2,5", cpus, 8), 4);
	assert_int_equal(cpus[2], 2);
	assert_int_equal(cpus[3], 5);
	assert_int_equal(vh_cli_cpus("0-7", cpus, 8), 8);
	assert_int_equal(vh_cli_cpus("", cpus, 8), -1);
	assert_int_equal(vh_cli_cpus("3-1", cpus, 8), -1);
	assert_int_equal(vh_cli_cpus("a", cpus, 8), -1);
	assert_int_equal(vh_cli_cpus("1,", cpus, 8), -1);
	assert_int_equal(vh_cli_cpus("1-", cpus, 8), -1);
	assert_int_equal(vh_cli_cpus("-1", cpus, 8), -1);
	assert_int_equal(vh_cli_cpus("65536", cpus, 8), -1);
	assert_int_equal(vh_cli_cpus("0-8", cpus, 8), -1); /* too many */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(sizes_take_binary_suffixes),
	    cmocka_unit_test(sizes_refuse_junk_signs_and_overflow),
	    cmocka_unit_test(integers_are_bounded_and_whole),
	    cmocka_unit_test(cpu_lists_take_ranges_and_refuse_junk),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
