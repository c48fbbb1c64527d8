/* SPDX-License-Identifier: MIT */
/* Guest memory tables: mapping, refusal of bad regions, translation. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "mem/mem_test.h"
#include "vhost/log.h"
#include "vhost/mem.h"

static struct vhost_user_mem_region region(uint64_t gpa, uint64_t size,
					   uint64_t uva, uint64_t off)
{
	struct vhost_user_mem_region r = {gpa, size, uva, off};

	return r;
}

/* One region of @pages pages from a fresh memfd, table in *t. */
static int one_region(uint64_t gpa, uint64_t uva, unsigned pages,
		      struct vh_mem_table **t)
{
	struct vhost_user_mem_region r = region(gpa, pages * PAGE, uva, 0);
	int fd = test_memfd(pages * PAGE);

	return vh_mem_table_new(&r, &fd, 1, t);
}

static void mapping_with_unaligned_mmap_offset_points_at_that_byte(void **st)
{
	int fd = test_memfd(3 * PAGE), fds[1];
	uint8_t pattern[3 * PAGE];
	struct vhost_user_mem_region r = region(0x10000, PAGE, 0x7000000, 100);
	struct vh_mem_table *t;
	uint8_t *p;

	(void)st;
	for (unsigned i = 0; i < sizeof(pattern); i++)
		pattern[i] = (uint8_t)(i * 7 + 3);
	assert_int_equal(pwrite(fd, pattern, sizeof(pattern), 0),
			 (ssize_t)sizeof(pattern));
	fds[0] = fd;
	assert_int_equal(vh_mem_table_new(&r, fds, 1, &t), 0);
	assert_int_equal(fds[0], -1); /* the table took the fd */
	p = vh_mem_gpa_to_host(t, 0x10000, PAGE);
	assert_non_null(p);
	assert_memory_equal(p, pattern + 100, PAGE);
	assert_ptr_equal(vh_mem_uva_to_host(t, 0x7000000, 1), p);
	vh_mem_table_unref(t);
}

static void fds_are_closed_on_success_and_on_every_error(void **st)
{
	int before = test_fd_count();
	struct vhost_user_mem_region r[3] = {
	    region(0, PAGE, 0x100000, 0),
	    region(0, PAGE, 0x200000, 0), /* overlaps the first in gpa */
	    region(0x3000, PAGE, 0x300000, 0),
	};
	int fds[3] = {test_memfd(PAGE), test_memfd(PAGE), test_memfd(PAGE)};
	struct vh_mem_table *t;

	(void)st;
	assert_int_equal(vh_mem_table_new(r, fds, 3, &t), -EINVAL);
	assert_null(t);
	assert_int_equal(test_fd_count(), before);
	/* fd shorter than offset + size: refused, fd closed. */
	r[0] = region(0, 2 * PAGE, 0x100000, 0);
	fds[0] = test_memfd(PAGE);
	assert_int_equal(vh_mem_table_new(r, fds, 1, &t), -EINVAL);
	assert_int_equal(test_fd_count(), before);
	fds[0] = test_memfd(2 * PAGE);
	assert_int_equal(vh_mem_table_new(r, fds, 1, &t), 0);
	assert_int_equal(test_fd_count(), before);
	vh_mem_table_unref(t);
}

static void overlap_refused_in_guest_physical_space(void **st)
{
	struct vh_mem_table *t, *t2;

	(void)st;
	assert_int_equal(one_region(0x10000, 0x100000, 2, &t), 0);
	/* Last byte of the new region is the first byte of the old one. */
	struct vhost_user_mem_region r =
	    region(0x10000 - PAGE + 1, PAGE, 0x900000, 0);
	assert_int_equal(vh_mem_table_add(t, &r, test_memfd(PAGE), &t2),
			 -EINVAL);
	r = region(0x10000 + 2 * PAGE, PAGE, 0x900000, 0); /* adjacent: ok */
	assert_int_equal(vh_mem_table_add(t, &r, test_memfd(PAGE), &t2), 0);
	assert_int_equal(vh_mem_table_count(t2), 2);
	vh_mem_table_unref(t2);
	vh_mem_table_unref(t);
}

static void overlap_refused_in_user_address_space(void **st)
{
	struct vh_mem_table *t, *t2;

	(void)st;
	assert_int_equal(one_region(0x10000, 0x100000, 2, &t), 0);
	struct vhost_user_mem_region r =
	    region(0x80000, PAGE, 0x100000 + PAGE, 0);
	assert_int_equal(vh_mem_table_add(t, &r, test_memfd(PAGE), &t2),
			 -EINVAL);
	vh_mem_table_unref(t);
}

static void overflow_refused_in_both_address_spaces(void **st)
{
	struct vhost_user_mem_region bad[] = {
	    region(UINT64_MAX - PAGE + 2, PAGE, 0x100000, 0), /* gpa wraps */
	    region(0, PAGE, UINT64_MAX - 10, 0),	      /* uva wraps */
	    region(0, PAGE, 0x100000, UINT64_MAX - 10),	      /* offset */
	    region(0, 0, 0x100000, 0),			      /* zero */
	};
	struct vh_mem_table *t;

	(void)st;
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int fd = test_memfd(PAGE);

		assert_int_equal(vh_mem_table_new(&bad[i], &fd, 1, &t),
				 -EINVAL);
		assert_null(t);
	}
	/* The very last page of both spaces is fine. */
	struct vhost_user_mem_region top =
	    region(UINT64_MAX - PAGE + 1, PAGE, UINT64_MAX - PAGE + 1, 0);
	int fd = test_memfd(PAGE);
	assert_int_equal(vh_mem_table_new(&top, &fd, 1, &t), 0);
	assert_non_null(vh_mem_gpa_to_host(t, UINT64_MAX, 1));
	assert_null(vh_mem_gpa_to_host(t, UINT64_MAX, 2));
	vh_mem_table_unref(t);
}

static void slots_509_added_one_by_one_then_removed(void **st)
{
	int before = test_fd_count();
	int mfd = test_memfd((VH_MEM_MAX_REGIONS + 1) * (size_t)PAGE);
	struct vh_mem_table *t = NULL, *n;
	struct vhost_user_mem_region r;

	(void)st;
	/* Add in descending gpa order so sorting is exercised. */
	for (unsigned i = 0; i < VH_MEM_MAX_REGIONS; i++) {
		unsigned k = VH_MEM_MAX_REGIONS - 1 - i;

		r = region(0x100000 + 2 * PAGE * (uint64_t)k, PAGE,
			   0x40000000 + PAGE * (uint64_t)i, PAGE * (uint64_t)k);
		assert_int_equal(vh_mem_table_add(t, &r, dup(mfd), &n), 0);
		vh_mem_table_unref(t);
		t = n;
	}
	assert_int_equal(vh_mem_table_count(t), VH_MEM_MAX_REGIONS);
	r = region(0x10, 16, 0x10, 0);
	assert_int_equal(vh_mem_table_add(t, &r, dup(mfd), &n), -ENOSPC);
	/* Every region translates, each to its own page of the memfd. */
	for (unsigned k = 0; k < VH_MEM_MAX_REGIONS; k++) {
		uint32_t *p =
		    vh_mem_gpa_to_host(t, 0x100000 + 2 * PAGE * (uint64_t)k, 4);

		assert_non_null(p);
		*p = k;
		assert_null(vh_mem_gpa_to_host(
		    t, 0x100000 + 2 * PAGE * (uint64_t)k + PAGE, 1));
	}
	for (unsigned k = 0; k < VH_MEM_MAX_REGIONS; k++) {
		uint32_t v;

		assert_int_equal(pread(mfd, &v, 4, PAGE * (off_t)k), 4);
		assert_int_equal(v, k);
	}
	for (unsigned i = 0; i < VH_MEM_MAX_REGIONS; i++) {
		unsigned k = VH_MEM_MAX_REGIONS - 1 - i;

		r = region(0x100000 + 2 * PAGE * (uint64_t)k, PAGE,
			   0x40000000 + PAGE * (uint64_t)i, 0);
		assert_int_equal(vh_mem_table_remove(t, &r, &n), 0);
		vh_mem_table_unref(t);
		t = n;
		assert_int_equal(vh_mem_table_remove(t, &r, &n), -ENOENT);
		assert_null(n);
		assert_int_equal(vh_mem_table_count(t),
				 VH_MEM_MAX_REGIONS - 1 - i);
	}
	assert_int_equal(vh_mem_table_count(t), 0);
	vh_mem_table_unref(t);
	close(mfd);
	assert_int_equal(test_fd_count(), before);
}

static void translation_at_region_edges(void **st)
{
	struct vh_mem_table *t;
	uint64_t plen;

	(void)st;
	assert_int_equal(one_region(0x10000, 0x500000, 1, &t), 0);
	uint8_t *base = vh_mem_gpa_to_host(t, 0x10000, 1);
	assert_non_null(base);
	/* Last byte inside, one past outside. */
	assert_ptr_equal(vh_mem_gpa_to_host(t, 0x10000 + PAGE - 1, 1),
			 base + PAGE - 1);
	assert_null(vh_mem_gpa_to_host(t, 0x10000 + PAGE, 1));
	assert_null(vh_mem_gpa_to_host(t, 0x10000 + PAGE - 1, 2));
	assert_null(vh_mem_gpa_to_host(t, 0x10000 - 1, 1));
	assert_null(vh_mem_gpa_to_host(t, 0x10000 - 1, 2));
	assert_ptr_equal(vh_mem_gpa_to_host(t, 0x10000, PAGE), base);
	assert_null(vh_mem_gpa_to_host(t, 0x10000, PAGE + 1));
	/* Ranges that wrap the address space never match. */
	assert_null(vh_mem_gpa_to_host(t, 0x10000, UINT64_MAX));
	/* Same in user address space. */
	assert_ptr_equal(vh_mem_uva_to_host(t, 0x500000 + PAGE - 1, 1),
			 base + PAGE - 1);
	assert_null(vh_mem_uva_to_host(t, 0x500000 + PAGE, 1));
	uint64_t gpa;
	assert_int_equal(vh_mem_uva_to_gpa(t, 0x500010, 16, &gpa), 0);
	assert_int_equal(gpa, 0x10010);
	assert_int_equal(vh_mem_uva_to_gpa(t, 0x500010, PAGE, &gpa), -EFAULT);
	/* Contiguous prefix. */
	assert_ptr_equal(vh_mem_gpa_to_host_part(t, 0x10000 + 100, PAGE, &plen),
			 base + 100);
	assert_int_equal(plen, PAGE - 100);
	assert_null(vh_mem_gpa_to_host_part(t, 0x20000, 1, &plen));
	vh_mem_table_unref(t);
}

static void range_across_adjacent_regions_splits_into_two_iovecs(void **st)
{
	struct vhost_user_mem_region r[2] = {
	    region(0x20000, PAGE, 0x900000, 0),
	    region(0x20000 + PAGE, PAGE, 0x100000, 0),
	};
	int fds[2] = {test_memfd(PAGE), test_memfd(PAGE)};
	struct vh_mem_table *t;
	struct iovec iov[4];
	unsigned n;
	uint8_t buf[64], back[64];

	(void)st;
	assert_int_equal(vh_mem_table_new(r, fds, 2, &t), 0);
	assert_null(vh_mem_gpa_to_host(t, 0x20000 + PAGE - 8, 16));
	assert_int_equal(
	    vh_mem_gpa_to_iov(t, 0x20000 + PAGE - 8, 16, iov, 4, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(iov[0].iov_len, 8);
	assert_int_equal(iov[1].iov_len, 8);
	assert_ptr_equal(iov[0].iov_base,
			 vh_mem_gpa_to_host(t, 0x20000 + PAGE - 8, 8));
	assert_ptr_equal(iov[1].iov_base,
			 vh_mem_gpa_to_host(t, 0x20000 + PAGE, 8));
	/* Bounded: one iovec is not enough. */
	assert_int_equal(
	    vh_mem_gpa_to_iov(t, 0x20000 + PAGE - 8, 16, iov, 1, &n), -ENOBUFS);
	/* A byte outside every region. */
	assert_int_equal(
	    vh_mem_gpa_to_iov(t, 0x20000 + PAGE, PAGE + 1, iov, 4, &n),
	    -EFAULT);
	assert_int_equal(vh_mem_gpa_to_iov(t, 0x20000, 0, iov, 4, &n), 0);
	assert_int_equal(n, 0);
	/* Copy helpers across the boundary; a failed write writes nothing. */
	for (unsigned i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)i;
	assert_int_equal(vh_mem_write(t, 0x20000 + PAGE - 32, buf, 64), 0);
	assert_int_equal(vh_mem_read(t, 0x20000 + PAGE - 32, back, 64), 0);
	assert_memory_equal(buf, back, 64);
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(vh_mem_write(t, 0x20000 + 2 * PAGE - 32, buf, 64),
			 -EFAULT);
	assert_int_equal(vh_mem_read(t, 0x20000 + 2 * PAGE - 32, back, 32), 0);
	assert_int_not_equal(back[0], 0xee);
	vh_mem_table_unref(t);
}

static void remove_keeps_other_regions_and_matches_exactly(void **st)
{
	struct vhost_user_mem_region r[3] = {
	    region(0x0, PAGE, 0x100000, 0),
	    region(0x10000, PAGE, 0x200000, 0),
	    region(0x20000, PAGE, 0x300000, 0),
	};
	int fds[3] = {test_memfd(PAGE), test_memfd(PAGE), test_memfd(PAGE)};
	struct vh_mem_table *t, *t2;
	struct vhost_user_mem_region wrong = region(0x10000, PAGE, 0x999000, 0);

	(void)st;
	assert_int_equal(vh_mem_table_new(r, fds, 3, &t), 0);
	assert_int_equal(vh_mem_table_remove(t, &wrong, &t2), -ENOENT);
	assert_int_equal(vh_mem_table_remove(t, &r[1], &t2), 0);
	assert_int_equal(vh_mem_table_count(t2), 2);
	assert_null(vh_mem_gpa_to_host(t2, 0x10000, 1));
	assert_non_null(vh_mem_uva_to_host(t2, 0x300000, 1));
	assert_null(vh_mem_uva_to_host(t2, 0x200000, 1));
	/* The old table is untouched. */
	assert_non_null(vh_mem_gpa_to_host(t, 0x10000, 1));
	vh_mem_table_unref(t);
	vh_mem_table_unref(t2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
		mapping_with_unaligned_mmap_offset_points_at_that_byte),
	    cmocka_unit_test(fds_are_closed_on_success_and_on_every_error),
	    cmocka_unit_test(overlap_refused_in_guest_physical_space),
	    cmocka_unit_test(overlap_refused_in_user_address_space),
	    cmocka_unit_test(overflow_refused_in_both_address_spaces),
	    cmocka_unit_test(slots_509_added_one_by_one_then_removed),
	    cmocka_unit_test(translation_at_region_edges),
	    cmocka_unit_test(
		range_across_adjacent_regions_splits_into_two_iovecs),
	    cmocka_unit_test(remove_keeps_other_regions_and_matches_exactly),
	};

	vh_log_set_handler(test_quiet_log, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
