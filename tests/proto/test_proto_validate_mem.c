/* SPDX-License-Identifier: MIT */
/*
 * Validation of memory regions, memory tables, log descriptions and MMAP
 * requests: every rule accepted at its boundary and refused one step past.
 */
#include <errno.h>
#include <stdio.h>

#include "proto_test.h"

static char last_log[512];

static void capture(void *opaque, enum vh_log_level level, const char *msg)
{
	(void)opaque;
	(void)level;
	snprintf(last_log, sizeof(last_log), "%s", msg);
}

static struct vhost_user_mem_region region(uint64_t gpa, uint64_t size,
					   uint64_t uaddr, uint64_t off)
{
	struct vhost_user_mem_region r = {
	    .guest_phys_addr = gpa,
	    .memory_size = size,
	    .userspace_addr = uaddr,
	    .mmap_offset = off,
	};

	return r;
}

static void region_of_size_zero_is_refused(void **state)
{
	struct vhost_user_mem_region r = region(0, 0, 0x1000, 0);

	(void)state;
	assert_int_equal(vh_proto_validate_region(&r), -EINVAL);
	r.memory_size = 1;
	assert_int_equal(vh_proto_validate_region(&r), 0);
}

static void region_gpa_may_end_just_below_2_64(void **state)
{
	struct vhost_user_mem_region r =
	    region(UINT64_MAX - 0x1000, 0x1000, 0x1000, 0);

	(void)state;
	/* gpa + size == UINT64_MAX: the exclusive end is representable. */
	assert_int_equal(vh_proto_validate_region(&r), 0);
	r.guest_phys_addr++;
	assert_int_equal(vh_proto_validate_region(&r), -EOVERFLOW);
	r = region(UINT64_MAX, UINT64_MAX, 0, 0);
	assert_int_equal(vh_proto_validate_region(&r), -EOVERFLOW);
}

static void region_uaddr_wrap_is_refused(void **state)
{
	struct vhost_user_mem_region r =
	    region(0, 0x2000, UINT64_MAX - 0x2000, 0);

	(void)state;
	assert_int_equal(vh_proto_validate_region(&r), 0);
	r.userspace_addr++;
	assert_int_equal(vh_proto_validate_region(&r), -EOVERFLOW);
}

static void region_mmap_offset_wrap_is_refused(void **state)
{
	struct vhost_user_mem_region r =
	    region(0, 0x2000, 0x1000, UINT64_MAX - 0x2000);

	(void)state;
	assert_int_equal(vh_proto_validate_region(&r), 0);
	r.mmap_offset++;
	assert_int_equal(vh_proto_validate_region(&r), -EOVERFLOW);
}

static void region_null_is_refused(void **state)
{
	(void)state;
	assert_int_equal(vh_proto_validate_region(NULL), -EINVAL);
}

/* n disjoint 1 MiB regions, adjacent in both address spaces. */
static void fill_table(struct vhost_user_mem_table *t, uint32_t n)
{
	memset(t, 0, sizeof(*t));
	t->nregions = n;
	for (uint32_t i = 0; i < n && i < VHOST_USER_MEM_TABLE_MAX_REGIONS; i++)
		t->regions[i] = region(0x100000 * i, 0x100000,
				       0x7f0000000000 + 0x100000 * i, 0);
}

static void table_of_one_to_eight_regions_is_accepted(void **state)
{
	struct vhost_user_mem_table t;

	(void)state;
	for (uint32_t n = 1; n <= 8; n++) {
		fill_table(&t, n);
		assert_int_equal(vh_proto_validate_mem_table(
				     &t, VHOST_USER_MEM_TABLE_SIZE(n)),
				 0);
	}
}

static void table_of_zero_or_nine_regions_is_refused(void **state)
{
	struct vhost_user_mem_table t;

	(void)state;
	fill_table(&t, 0);
	assert_int_equal(vh_proto_validate_mem_table(&t, 8), -EINVAL);
	fill_table(&t, 8);
	t.nregions = 9;
	assert_int_equal(
	    vh_proto_validate_mem_table(&t, VHOST_USER_MEM_TABLE_SIZE(9)),
	    -EINVAL);
}

static void table_size_must_be_exactly_8_plus_32n(void **state)
{
	struct vhost_user_mem_table t;

	(void)state;
	fill_table(&t, 3);
	assert_int_equal(vh_proto_validate_mem_table(&t, 8 + 32 * 3), 0);
	assert_int_equal(vh_proto_validate_mem_table(&t, 8 + 32 * 3 - 1),
			 -EMSGSIZE);
	assert_int_equal(vh_proto_validate_mem_table(&t, 8 + 32 * 3 + 1),
			 -EMSGSIZE);
	/* A payload sized for 8 regions does not fit a count of 3. */
	assert_int_equal(vh_proto_validate_mem_table(&t, 8 + 32 * 8),
			 -EMSGSIZE);
}

static void table_with_an_invalid_region_is_refused(void **state)
{
	struct vhost_user_mem_table t;

	(void)state;
	fill_table(&t, 4);
	t.regions[3].memory_size = 0;
	assert_int_equal(
	    vh_proto_validate_mem_table(&t, VHOST_USER_MEM_TABLE_SIZE(4)),
	    -EINVAL);
	fill_table(&t, 4);
	t.regions[2].guest_phys_addr = UINT64_MAX - 0x1000;
	assert_int_equal(
	    vh_proto_validate_mem_table(&t, VHOST_USER_MEM_TABLE_SIZE(4)),
	    -EOVERFLOW);
}

static void table_regions_adjacent_in_gpa_are_accepted(void **state)
{
	struct vhost_user_mem_table t;

	(void)state;
	fill_table(&t, 2);
	t.regions[1].guest_phys_addr =
	    t.regions[0].guest_phys_addr + t.regions[0].memory_size;
	assert_int_equal(
	    vh_proto_validate_mem_table(&t, VHOST_USER_MEM_TABLE_SIZE(2)), 0);
}

static void
table_regions_overlapping_by_one_byte_in_gpa_are_refused(void **state)
{
	struct vhost_user_mem_table t;

	(void)state;
	fill_table(&t, 2);
	t.regions[1].guest_phys_addr =
	    t.regions[0].guest_phys_addr + t.regions[0].memory_size - 1;
	assert_int_equal(
	    vh_proto_validate_mem_table(&t, VHOST_USER_MEM_TABLE_SIZE(2)),
	    -EINVAL);
	/* Same overlap seen from the other side. */
	fill_table(&t, 2);
	t.regions[0].guest_phys_addr =
	    t.regions[1].guest_phys_addr + t.regions[1].memory_size - 1;
	assert_int_equal(
	    vh_proto_validate_mem_table(&t, VHOST_USER_MEM_TABLE_SIZE(2)),
	    -EINVAL);
}

static void
table_regions_overlapping_by_one_byte_in_uaddr_are_refused(void **state)
{
	struct vhost_user_mem_table t;

	(void)state;
	fill_table(&t, 2);
	t.regions[1].userspace_addr =
	    t.regions[0].userspace_addr + t.regions[0].memory_size;
	assert_int_equal(
	    vh_proto_validate_mem_table(&t, VHOST_USER_MEM_TABLE_SIZE(2)), 0);
	t.regions[1].userspace_addr--;
	assert_int_equal(
	    vh_proto_validate_mem_table(&t, VHOST_USER_MEM_TABLE_SIZE(2)),
	    -EINVAL);
}

static void table_region_contained_in_another_is_refused(void **state)
{
	struct vhost_user_mem_table t;

	(void)state;
	fill_table(&t, 2);
	t.regions[0].memory_size = 0x400000;
	t.regions[0].userspace_addr = 0x10000000;
	t.regions[1].guest_phys_addr = 0x100000;
	t.regions[1].memory_size = 0x1000;
	assert_int_equal(
	    vh_proto_validate_mem_table(&t, VHOST_USER_MEM_TABLE_SIZE(2)),
	    -EINVAL);
}

static void table_overlap_between_first_and_eighth_region_is_found(void **state)
{
	struct vhost_user_mem_table t;

	(void)state;
	fill_table(&t, 8);
	t.regions[7].guest_phys_addr = t.regions[0].guest_phys_addr + 0x800;
	assert_int_equal(
	    vh_proto_validate_mem_table(&t, VHOST_USER_MEM_TABLE_SIZE(8)),
	    -EINVAL);
}

static void overlap_reason_is_logged_at_debug_level_only(void **state)
{
	struct vhost_user_mem_table t;

	(void)state;
	fill_table(&t, 3);
	t.regions[2].userspace_addr = t.regions[0].userspace_addr;
	vh_log_set_handler(capture, NULL);
	vh_log_set_level(VH_LOG_WARN);
	last_log[0] = 0;
	assert_int_equal(
	    vh_proto_validate_mem_table(&t, VHOST_USER_MEM_TABLE_SIZE(3)),
	    -EINVAL);
	assert_string_equal(last_log, "");
	vh_log_set_level(VH_LOG_DEBUG);
	assert_int_equal(
	    vh_proto_validate_mem_table(&t, VHOST_USER_MEM_TABLE_SIZE(3)),
	    -EINVAL);
	assert_string_equal(
	    last_log, "memory regions 0 and 2 overlap in user address space");
	debug_logging_on(NULL);
}

static void table_null_is_refused(void **state)
{
	(void)state;
	assert_int_equal(vh_proto_validate_mem_table(NULL, 40), -EINVAL);
}

static void log_of_size_zero_is_refused(void **state)
{
	struct vhost_user_log l = {.mmap_size = 0, .mmap_offset = 0};

	(void)state;
	assert_int_equal(vh_proto_validate_log(&l), -EINVAL);
	l.mmap_size = 1;
	assert_int_equal(vh_proto_validate_log(&l), 0);
	assert_int_equal(vh_proto_validate_log(NULL), -EINVAL);
}

static void log_offset_plus_size_may_not_wrap(void **state)
{
	struct vhost_user_log l = {.mmap_size = 0x1000,
				   .mmap_offset = UINT64_MAX - 0x1000};

	(void)state;
	assert_int_equal(vh_proto_validate_log(&l), 0);
	l.mmap_offset++;
	assert_int_equal(vh_proto_validate_log(&l), -EOVERFLOW);
}

static struct vhost_user_mmap mmap_req(void)
{
	struct vhost_user_mmap m = {
	    .shmid = 0,
	    .fd_offset = 0,
	    .shm_offset = 0x1000,
	    .len = 0x1000,
	    .flags = 0,
	};

	return m;
}

static void mmap_of_length_zero_is_refused(void **state)
{
	struct vhost_user_mmap m = mmap_req();

	(void)state;
	assert_int_equal(vh_proto_validate_mmap(&m), 0);
	m.len = 0;
	assert_int_equal(vh_proto_validate_mmap(&m), -EINVAL);
	assert_int_equal(vh_proto_validate_mmap(NULL), -EINVAL);
}

static void mmap_flags_other_than_rw_are_refused(void **state)
{
	struct vhost_user_mmap m = mmap_req();

	(void)state;
	m.flags = VHOST_USER_FLAG_MAP_RW;
	assert_int_equal(vh_proto_validate_mmap(&m), 0);
	m.flags = 2;
	assert_int_equal(vh_proto_validate_mmap(&m), -EINVAL);
	m.flags = UINT64_C(1) << 63;
	assert_int_equal(vh_proto_validate_mmap(&m), -EINVAL);
}

static void mmap_fd_offset_and_shm_offset_may_not_wrap(void **state)
{
	struct vhost_user_mmap m = mmap_req();

	(void)state;
	m.fd_offset = UINT64_MAX - m.len;
	assert_int_equal(vh_proto_validate_mmap(&m), 0);
	m.fd_offset++;
	assert_int_equal(vh_proto_validate_mmap(&m), -EOVERFLOW);
	m = mmap_req();
	m.shm_offset = UINT64_MAX - m.len;
	assert_int_equal(vh_proto_validate_mmap(&m), 0);
	m.shm_offset++;
	assert_int_equal(vh_proto_validate_mmap(&m), -EOVERFLOW);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(region_of_size_zero_is_refused),
	    cmocka_unit_test(region_gpa_may_end_just_below_2_64),
	    cmocka_unit_test(region_uaddr_wrap_is_refused),
	    cmocka_unit_test(region_mmap_offset_wrap_is_refused),
	    cmocka_unit_test(region_null_is_refused),
	    cmocka_unit_test(table_of_one_to_eight_regions_is_accepted),
	    cmocka_unit_test(table_of_zero_or_nine_regions_is_refused),
	    cmocka_unit_test(table_size_must_be_exactly_8_plus_32n),
	    cmocka_unit_test(table_with_an_invalid_region_is_refused),
	    cmocka_unit_test(table_regions_adjacent_in_gpa_are_accepted),
	    cmocka_unit_test(
		table_regions_overlapping_by_one_byte_in_gpa_are_refused),
	    cmocka_unit_test(
		table_regions_overlapping_by_one_byte_in_uaddr_are_refused),
	    cmocka_unit_test(table_region_contained_in_another_is_refused),
	    cmocka_unit_test(
		table_overlap_between_first_and_eighth_region_is_found),
	    cmocka_unit_test(overlap_reason_is_logged_at_debug_level_only),
	    cmocka_unit_test(table_null_is_refused),
	    cmocka_unit_test(log_of_size_zero_is_refused),
	    cmocka_unit_test(log_offset_plus_size_may_not_wrap),
	    cmocka_unit_test(mmap_of_length_zero_is_refused),
	    cmocka_unit_test(mmap_flags_other_than_rw_are_refused),
	    cmocka_unit_test(mmap_fd_offset_and_shm_offset_may_not_wrap),
	};

	return cmocka_run_group_tests(tests, debug_logging_on,
				      debug_logging_off);
}
