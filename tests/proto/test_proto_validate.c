/* SPDX-License-Identifier: MIT */
/*
 * Validation of headers, ring addresses, config accesses, IOTLB messages and
 * inflight descriptions: every rule accepted at its boundary and refused
 * one step past.
 */
#include <errno.h>

#include "proto_test.h"

static struct vhost_user_hdr hdr(uint32_t flags, uint32_t size)
{
	struct vhost_user_hdr h = {
	    .request = VHOST_USER_GET_FEATURES, .flags = flags, .size = size};

	return h;
}

static void header_version_must_be_1(void **state)
{
	struct vhost_user_hdr h = hdr(0x1, 0);

	(void)state;
	assert_int_equal(vh_proto_validate_hdr(&h, false, 4096), 0);
	for (uint32_t v = 0; v <= 3; v++) {
		if (v == 1)
			continue;
		h.flags = v;
		assert_int_equal(vh_proto_validate_hdr(&h, false, 4096),
				 -EPROTO);
	}
}

static void header_reserved_flag_bits_are_refused(void **state)
{
	struct vhost_user_hdr h = hdr(0x1 | VHOST_USER_NEED_REPLY_MASK, 0);

	(void)state;
	assert_int_equal(vh_proto_validate_hdr(&h, false, 4096), 0);
	h.flags = 0x1 | (1u << 4);
	assert_int_equal(vh_proto_validate_hdr(&h, false, 4096), -EPROTO);
	h.flags = 0x1 | (1u << 31);
	assert_int_equal(vh_proto_validate_hdr(&h, false, 4096), -EPROTO);
}

static void header_reply_flag_must_match_expectation(void **state)
{
	struct vhost_user_hdr h = hdr(0x1 | VHOST_USER_REPLY_MASK, 8);

	(void)state;
	assert_int_equal(vh_proto_validate_hdr(&h, true, 4096), 0);
	assert_int_equal(vh_proto_validate_hdr(&h, false, 4096), -EPROTO);
	h.flags = 0x1;
	assert_int_equal(vh_proto_validate_hdr(&h, true, 4096), -EPROTO);
}

static void reply_header_with_need_reply_is_refused(void **state)
{
	struct vhost_user_hdr h =
	    hdr(0x1 | VHOST_USER_REPLY_MASK | VHOST_USER_NEED_REPLY_MASK, 8);

	(void)state;
	assert_int_equal(vh_proto_validate_hdr(&h, true, 4096), -EPROTO);
}

static void header_size_up_to_the_limit_is_accepted(void **state)
{
	struct vhost_user_hdr h = hdr(0x1, 256);

	(void)state;
	assert_int_equal(vh_proto_validate_hdr(&h, false, 256), 0);
	h.size = 257;
	assert_int_equal(vh_proto_validate_hdr(&h, false, 256), -EMSGSIZE);
}

static void header_size_never_exceeds_the_payload_buffer(void **state)
{
	struct vhost_user_hdr h = hdr(0x1, VHOST_USER_MAX_PAYLOAD);

	(void)state;
	assert_int_equal(vh_proto_validate_hdr(&h, false, UINT32_MAX), 0);
	h.size = VHOST_USER_MAX_PAYLOAD + 1;
	assert_int_equal(vh_proto_validate_hdr(&h, false, UINT32_MAX),
			 -EMSGSIZE);
	h.size = UINT32_MAX;
	assert_int_equal(vh_proto_validate_hdr(&h, false, UINT32_MAX),
			 -EMSGSIZE);
}

static void header_null_is_refused(void **state)
{
	(void)state;
	assert_int_equal(vh_proto_validate_hdr(NULL, false, 4096), -EINVAL);
}

static struct vhost_user_vring_addr addr(uint64_t desc, uint64_t avail,
					 uint64_t used)
{
	struct vhost_user_vring_addr a = {
	    .index = 0,
	    .flags = 0,
	    .desc_user_addr = desc,
	    .used_user_addr = used,
	    .avail_user_addr = avail,
	    .log_guest_addr = 0,
	};

	return a;
}

static void split_ring_at_minimum_alignments_is_accepted(void **state)
{
	/* desc 16, avail 2, used 4: each at exactly its alignment. */
	struct vhost_user_vring_addr a = addr(0x10010, 0x20002, 0x30004);

	(void)state;
	assert_int_equal(vh_proto_validate_vring_addr(&a, false), 0);
}

static void split_ring_misaligned_descriptors_are_refused(void **state)
{
	struct vhost_user_vring_addr a = addr(0x10008, 0x20002, 0x30004);

	(void)state;
	assert_int_equal(vh_proto_validate_vring_addr(&a, false), -EINVAL);
	a.desc_user_addr = 0x10001;
	assert_int_equal(vh_proto_validate_vring_addr(&a, false), -EINVAL);
}

static void split_ring_odd_avail_is_refused(void **state)
{
	struct vhost_user_vring_addr a = addr(0x10000, 0x20001, 0x30004);

	(void)state;
	assert_int_equal(vh_proto_validate_vring_addr(&a, false), -EINVAL);
}

static void split_ring_used_on_2_bytes_is_refused(void **state)
{
	struct vhost_user_vring_addr a = addr(0x10000, 0x20002, 0x30002);

	(void)state;
	assert_int_equal(vh_proto_validate_vring_addr(&a, false), -EINVAL);
}

static void packed_ring_event_areas_need_4_bytes(void **state)
{
	/* avail (driver area) on 2 bytes: fine for split, not for packed. */
	struct vhost_user_vring_addr a = addr(0x10010, 0x20002, 0x30004);

	(void)state;
	assert_int_equal(vh_proto_validate_vring_addr(&a, true), -EINVAL);
	a.avail_user_addr = 0x20004;
	assert_int_equal(vh_proto_validate_vring_addr(&a, true), 0);
	a.used_user_addr = 0x30002;
	assert_int_equal(vh_proto_validate_vring_addr(&a, true), -EINVAL);
}

static void packed_ring_descriptors_need_16_bytes(void **state)
{
	struct vhost_user_vring_addr a = addr(0x10008, 0x20004, 0x30004);

	(void)state;
	assert_int_equal(vh_proto_validate_vring_addr(&a, true), -EINVAL);
	a.desc_user_addr = 0x10010;
	assert_int_equal(vh_proto_validate_vring_addr(&a, true), 0);
}

static void ring_flags_other_than_log_are_refused(void **state)
{
	struct vhost_user_vring_addr a = addr(0x10000, 0x20000, 0x30000);

	(void)state;
	a.flags = 1u << VHOST_VRING_F_LOG;
	assert_int_equal(vh_proto_validate_vring_addr(&a, false), 0);
	a.flags = 2;
	assert_int_equal(vh_proto_validate_vring_addr(&a, false), -EINVAL);
	a.flags = 1u << 31;
	assert_int_equal(vh_proto_validate_vring_addr(&a, false), -EINVAL);
	assert_int_equal(vh_proto_validate_vring_addr(NULL, false), -EINVAL);
}

static struct vhost_user_config_hdr cfg(uint32_t offset, uint32_t size,
					uint32_t flags)
{
	struct vhost_user_config_hdr c = {
	    .offset = offset, .size = size, .flags = flags};

	return c;
}

static void config_access_ending_at_config_len_is_accepted(void **state)
{
	struct vhost_user_config_hdr c = cfg(0x10, 8, 0);

	(void)state;
	assert_int_equal(vh_proto_validate_config(&c, 12 + 8, 0x18), 0);
	c.offset = 0x11;
	assert_int_equal(vh_proto_validate_config(&c, 12 + 8, 0x18), -ERANGE);
}

static void config_offsets_are_zero_based(void **state)
{
	/* QEMU reads a blk config with offset 0, not 0x100. */
	struct vhost_user_config_hdr c = cfg(0, 60, 0);

	(void)state;
	assert_int_equal(vh_proto_validate_config(&c, 12 + 60, 60), 0);
	c.offset = 0x100;
	assert_int_equal(vh_proto_validate_config(&c, 12 + 60, 60), -ERANGE);
}

static void config_size_256_is_accepted_257_refused(void **state)
{
	struct vhost_user_config_hdr c = cfg(0, 256, 0);

	(void)state;
	assert_int_equal(vh_proto_validate_config(&c, 12 + 256, 4096), 0);
	c.size = 257;
	assert_int_equal(vh_proto_validate_config(&c, 12 + 257, 4096),
			 -EMSGSIZE);
}

static void config_size_zero_is_refused(void **state)
{
	struct vhost_user_config_hdr c = cfg(0, 0, 0);

	(void)state;
	assert_int_equal(vh_proto_validate_config(&c, 12, 256), -EMSGSIZE);
}

static void config_payload_must_be_12_plus_size(void **state)
{
	struct vhost_user_config_hdr c = cfg(0, 8, 0);

	(void)state;
	assert_int_equal(vh_proto_validate_config(&c, 12 + 8 - 1, 256),
			 -EMSGSIZE);
	assert_int_equal(vh_proto_validate_config(&c, 12 + 8 + 1, 256),
			 -EMSGSIZE);
	assert_int_equal(vh_proto_validate_config(&c, 12 + 8, 256), 0);
}

static void config_offset_plus_size_does_not_wrap(void **state)
{
	/* In 32-bit arithmetic 0xfffffff0 + 32 would be 0x10, inside. */
	struct vhost_user_config_hdr c = cfg(0xfffffff0u, 32, 0);

	(void)state;
	assert_int_equal(vh_proto_validate_config(&c, 12 + 32, 256), -ERANGE);
	c = cfg(UINT32_MAX, 1, 0);
	assert_int_equal(vh_proto_validate_config(&c, 12 + 1, UINT32_MAX),
			 -ERANGE);
	c = cfg(UINT32_MAX - 1, 1, 0);
	assert_int_equal(vh_proto_validate_config(&c, 12 + 1, UINT32_MAX), 0);
}

static void config_flags_0_and_1_only(void **state)
{
	struct vhost_user_config_hdr c = cfg(0, 4, 0);

	(void)state;
	assert_int_equal(vh_proto_validate_config(&c, 16, 4), 0);
	c.flags = VHOST_USER_CONFIG_FLAG_MIGRATION;
	assert_int_equal(vh_proto_validate_config(&c, 16, 4), 0);
	c.flags = 2;
	assert_int_equal(vh_proto_validate_config(&c, 16, 4), -EINVAL);
	assert_int_equal(vh_proto_validate_config(NULL, 16, 4), -EINVAL);
}

static struct vhost_user_iotlb iotlb(uint8_t type, uint64_t iova, uint64_t size,
				     uint64_t uaddr)
{
	struct vhost_user_iotlb m = {
	    .iova = iova,
	    .size = size,
	    .uaddr = uaddr,
	    .perm = VHOST_USER_IOTLB_RW,
	    .type = type,
	};

	return m;
}

static void iotlb_types_1_to_4_only(void **state)
{
	struct vhost_user_iotlb m = iotlb(0, 0x1000, 0x1000, 0x7f0000000000);

	(void)state;
	assert_int_equal(vh_proto_validate_iotlb(&m), -EINVAL);
	for (uint8_t t = VHOST_USER_IOTLB_MISS;
	     t <= VHOST_USER_IOTLB_ACCESS_FAIL; t++) {
		m.type = t;
		assert_int_equal(vh_proto_validate_iotlb(&m), 0);
	}
	m.type = 5;
	assert_int_equal(vh_proto_validate_iotlb(&m), -EINVAL);
	assert_int_equal(vh_proto_validate_iotlb(NULL), -EINVAL);
}

static void iotlb_perm_up_to_rw(void **state)
{
	struct vhost_user_iotlb m =
	    iotlb(VHOST_USER_IOTLB_UPDATE, 0x1000, 0x1000, 0x7f0000000000);

	(void)state;
	m.perm = VHOST_USER_IOTLB_RW;
	assert_int_equal(vh_proto_validate_iotlb(&m), 0);
	m.perm = 4;
	assert_int_equal(vh_proto_validate_iotlb(&m), -EINVAL);
}

static void iotlb_update_of_size_zero_is_refused(void **state)
{
	struct vhost_user_iotlb m =
	    iotlb(VHOST_USER_IOTLB_UPDATE, 0x1000, 0, 0x7f0000000000);

	(void)state;
	assert_int_equal(vh_proto_validate_iotlb(&m), -EINVAL);
}

static void iotlb_update_may_reach_the_last_byte(void **state)
{
	/* Inclusive end UINT64_MAX is fine (kernel rule), one more wraps. */
	struct vhost_user_iotlb m =
	    iotlb(VHOST_USER_IOTLB_UPDATE, UINT64_MAX - 0xfff, 0x1000, 0x1000);

	(void)state;
	assert_int_equal(vh_proto_validate_iotlb(&m), 0);
	m.iova++;
	assert_int_equal(vh_proto_validate_iotlb(&m), -EOVERFLOW);
	m = iotlb(VHOST_USER_IOTLB_UPDATE, 0x1000, 0x1000, UINT64_MAX - 0xfff);
	assert_int_equal(vh_proto_validate_iotlb(&m), 0);
	m.uaddr++;
	assert_int_equal(vh_proto_validate_iotlb(&m), -EOVERFLOW);
}

static void iotlb_invalidate_of_size_zero_means_to_the_end(void **state)
{
	/* QEMU's whole-space unmap: addr_mask + 1 == 0. */
	struct vhost_user_iotlb m = iotlb(VHOST_USER_IOTLB_INVALIDATE, 0, 0, 0);

	(void)state;
	assert_int_equal(vh_proto_validate_iotlb(&m), 0);
}

static void iotlb_invalidate_ignores_uaddr_but_not_iova(void **state)
{
	struct vhost_user_iotlb m =
	    iotlb(VHOST_USER_IOTLB_INVALIDATE, 0x1000, 0x1000, UINT64_MAX);

	(void)state;
	assert_int_equal(vh_proto_validate_iotlb(&m), 0);
	m.iova = UINT64_MAX;
	assert_int_equal(vh_proto_validate_iotlb(&m), -EOVERFLOW);
}

static void iotlb_miss_without_size_is_accepted(void **state)
{
	struct vhost_user_iotlb m =
	    iotlb(VHOST_USER_IOTLB_MISS, 0xfee00000, 0, 0);

	(void)state;
	m.perm = VHOST_USER_IOTLB_RO;
	assert_int_equal(vh_proto_validate_iotlb(&m), 0);
}

static struct vhost_user_inflight inflight(uint16_t nq, uint16_t qs)
{
	struct vhost_user_inflight in = {.mmap_size = 0,
					 .mmap_offset = 0,
					 .num_queues = nq,
					 .queue_size = qs};

	return in;
}

static void inflight_needs_queues(void **state)
{
	struct vhost_user_inflight in = inflight(0, 128);

	(void)state;
	assert_int_equal(vh_proto_validate_inflight(&in), -EINVAL);
	in.num_queues = 1;
	assert_int_equal(vh_proto_validate_inflight(&in), 0);
	assert_int_equal(vh_proto_validate_inflight(NULL), -EINVAL);
}

static void inflight_queue_size_1_to_32768(void **state)
{
	struct vhost_user_inflight in = inflight(2, 0);

	(void)state;
	assert_int_equal(vh_proto_validate_inflight(&in), -EINVAL);
	in.queue_size = 1;
	assert_int_equal(vh_proto_validate_inflight(&in), 0);
	in.queue_size = 32768;
	assert_int_equal(vh_proto_validate_inflight(&in), 0);
	in.queue_size = 32769;
	assert_int_equal(vh_proto_validate_inflight(&in), -EINVAL);
}

static void inflight_area_may_not_wrap(void **state)
{
	struct vhost_user_inflight in = inflight(2, 256);

	(void)state;
	in.mmap_size = 0x10000;
	in.mmap_offset = UINT64_MAX - 0x10000;
	assert_int_equal(vh_proto_validate_inflight(&in), 0);
	in.mmap_offset++;
	assert_int_equal(vh_proto_validate_inflight(&in), -EOVERFLOW);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(header_version_must_be_1),
	    cmocka_unit_test(header_reserved_flag_bits_are_refused),
	    cmocka_unit_test(header_reply_flag_must_match_expectation),
	    cmocka_unit_test(reply_header_with_need_reply_is_refused),
	    cmocka_unit_test(header_size_up_to_the_limit_is_accepted),
	    cmocka_unit_test(header_size_never_exceeds_the_payload_buffer),
	    cmocka_unit_test(header_null_is_refused),
	    cmocka_unit_test(split_ring_at_minimum_alignments_is_accepted),
	    cmocka_unit_test(split_ring_misaligned_descriptors_are_refused),
	    cmocka_unit_test(split_ring_odd_avail_is_refused),
	    cmocka_unit_test(split_ring_used_on_2_bytes_is_refused),
	    cmocka_unit_test(packed_ring_event_areas_need_4_bytes),
	    cmocka_unit_test(packed_ring_descriptors_need_16_bytes),
	    cmocka_unit_test(ring_flags_other_than_log_are_refused),
	    cmocka_unit_test(config_access_ending_at_config_len_is_accepted),
	    cmocka_unit_test(config_offsets_are_zero_based),
	    cmocka_unit_test(config_size_256_is_accepted_257_refused),
	    cmocka_unit_test(config_size_zero_is_refused),
	    cmocka_unit_test(config_payload_must_be_12_plus_size),
	    cmocka_unit_test(config_offset_plus_size_does_not_wrap),
	    cmocka_unit_test(config_flags_0_and_1_only),
	    cmocka_unit_test(iotlb_types_1_to_4_only),
	    cmocka_unit_test(iotlb_perm_up_to_rw),
	    cmocka_unit_test(iotlb_update_of_size_zero_is_refused),
	    cmocka_unit_test(iotlb_update_may_reach_the_last_byte),
	    cmocka_unit_test(iotlb_invalidate_of_size_zero_means_to_the_end),
	    cmocka_unit_test(iotlb_invalidate_ignores_uaddr_but_not_iova),
	    cmocka_unit_test(iotlb_miss_without_size_is_accepted),
	    cmocka_unit_test(inflight_needs_queues),
	    cmocka_unit_test(inflight_queue_size_1_to_32768),
	    cmocka_unit_test(inflight_area_may_not_wrap),
	};

	return cmocka_run_group_tests(tests, debug_logging_on,
				      debug_logging_off);
}
