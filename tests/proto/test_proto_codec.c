/* SPDX-License-Identifier: MIT */
/*
 * Packed integers: the u64 of SET_VRING_KICK/CALL/ERR, the packed ring base
 * of SET/GET_VRING_BASE and the header built by vh_proto_init_hdr.
 */
#include <errno.h>

#include "proto_test.h"

static void vring_file_index_sits_in_bits_0_to_7(void **state)
{
	uint32_t index = 0;
	bool has_fd = false;

	(void)state;
	assert_int_equal(vh_proto_decode_vring_file(0xab, &index, &has_fd), 0);
	assert_int_equal(index, 0xab);
	assert_true(has_fd);
}

static void vring_file_nofd_bit_8_means_no_fd(void **state)
{
	uint32_t index = 0;
	bool has_fd = true;

	(void)state;
	assert_int_equal(vh_proto_decode_vring_file(0x1ff, &index, &has_fd), 0);
	assert_int_equal(index, 255);
	assert_false(has_fd);
}

static void vring_file_reserved_bits_9_to_63_are_refused(void **state)
{
	uint32_t index;
	bool has_fd;

	(void)state;
	for (unsigned bit = 9; bit < 64; bit++)
		assert_int_equal(vh_proto_decode_vring_file(UINT64_C(1) << bit,
							    &index, &has_fd),
				 -EINVAL);
	assert_int_equal(vh_proto_decode_vring_file(0, NULL, &has_fd), -EINVAL);
	assert_int_equal(vh_proto_decode_vring_file(0, &index, NULL), -EINVAL);
}

static void vring_file_round_trips_every_index(void **state)
{
	(void)state;
	for (uint32_t i = 0; i <= 255; i++) {
		for (int fd = 0; fd <= 1; fd++) {
			uint64_t u64 = UINT64_MAX;
			uint32_t index = UINT32_MAX;
			bool has_fd = !fd;

			assert_int_equal(
			    vh_proto_encode_vring_file(i, fd, &u64), 0);
			assert_int_equal(u64 & 0xff, i);
			assert_int_equal(!!(u64 & 0x100), !fd);
			assert_int_equal(u64 >> 9, 0);
			assert_int_equal(
			    vh_proto_decode_vring_file(u64, &index, &has_fd),
			    0);
			assert_int_equal(index, i);
			assert_int_equal(has_fd, fd);
		}
	}
}

static void vring_file_index_256_cannot_be_encoded(void **state)
{
	uint64_t u64 = 0;

	(void)state;
	assert_int_equal(vh_proto_encode_vring_file(255, true, &u64), 0);
	assert_int_equal(vh_proto_encode_vring_file(256, true, &u64), -ERANGE);
	assert_int_equal(vh_proto_encode_vring_file(0, true, NULL), -EINVAL);
}

static void packed_base_bits_follow_the_spec(void **state)
{
	struct vh_packed_base b = {.avail_idx = 0x7fff,
				   .avail_wrap = true,
				   .used_idx = 0x1234,
				   .used_wrap = false};

	(void)state;
	assert_int_equal(vh_proto_encode_packed_base(&b), 0x1234ffffu);
	b = (struct vh_packed_base){.used_wrap = true};
	assert_int_equal(vh_proto_encode_packed_base(&b), 0x80000000u);
	b = (struct vh_packed_base){.avail_wrap = true};
	assert_int_equal(vh_proto_encode_packed_base(&b), 0x8000u);
	b = (struct vh_packed_base){.used_idx = 1};
	assert_int_equal(vh_proto_encode_packed_base(&b), 0x10000u);
}

static void packed_base_decodes_each_field(void **state)
{
	struct vh_packed_base b;

	(void)state;
	vh_proto_decode_packed_base(0xc00a8005u, &b);
	assert_int_equal(b.avail_idx, 5);
	assert_true(b.avail_wrap);
	assert_int_equal(b.used_idx, 0x400a);
	assert_true(b.used_wrap);
	vh_proto_decode_packed_base(0x7fff7fffu, &b);
	assert_int_equal(b.avail_idx, 0x7fff);
	assert_false(b.avail_wrap);
	assert_int_equal(b.used_idx, 0x7fff);
	assert_false(b.used_wrap);
}

static void packed_base_round_trips(void **state)
{
	static const uint32_t samples[] = {
	    0,	     1,		 0x7fff,     0x8000,	 0xffff,
	    0x10000, 0x7fff8000, 0x80007fff, 0xffffffff, 0x12345678};

	(void)state;
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		struct vh_packed_base b;

		vh_proto_decode_packed_base(samples[i], &b);
		assert_int_equal(vh_proto_encode_packed_base(&b), samples[i]);
	}
}

static void packed_base_keeps_15_bits_of_each_index(void **state)
{
	struct vh_packed_base b = {.avail_idx = 0x8001, .used_idx = 0x8002};

	(void)state;
	assert_int_equal(vh_proto_encode_packed_base(&b), 0x00020001u);
	assert_int_equal(vh_proto_encode_packed_base(NULL), 0);
}

static void init_hdr_sets_version_1_and_keeps_reply_bits(void **state)
{
	struct vhost_user_hdr h;

	(void)state;
	vh_proto_init_hdr(&h, VHOST_USER_GET_CONFIG,
			  VHOST_USER_REPLY_MASK | VHOST_USER_NEED_REPLY_MASK,
			  20);
	assert_int_equal(h.request, VHOST_USER_GET_CONFIG);
	assert_int_equal(h.flags, 0xd);
	assert_int_equal(h.size, 20);
	vh_proto_init_hdr(&h, VHOST_USER_GET_FEATURES, 0, 0);
	assert_int_equal(h.flags, VHOST_USER_VERSION);
	assert_int_equal(vh_proto_validate_hdr(&h, false, 4096), 0);
}

static void init_hdr_drops_version_and_reserved_bits(void **state)
{
	struct vhost_user_hdr h;

	(void)state;
	vh_proto_init_hdr(&h, VHOST_USER_GET_FEATURES, 0xfffffffau, 0);
	assert_int_equal(h.flags, 0x1 | VHOST_USER_NEED_REPLY_MASK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(vring_file_index_sits_in_bits_0_to_7),
	    cmocka_unit_test(vring_file_nofd_bit_8_means_no_fd),
	    cmocka_unit_test(vring_file_reserved_bits_9_to_63_are_refused),
	    cmocka_unit_test(vring_file_round_trips_every_index),
	    cmocka_unit_test(vring_file_index_256_cannot_be_encoded),
	    cmocka_unit_test(packed_base_bits_follow_the_spec),
	    cmocka_unit_test(packed_base_decodes_each_field),
	    cmocka_unit_test(packed_base_round_trips),
	    cmocka_unit_test(packed_base_keeps_15_bits_of_each_index),
	    cmocka_unit_test(init_hdr_sets_version_1_and_keeps_reply_bits),
	    cmocka_unit_test(init_hdr_drops_version_and_reserved_bits),
	};

	return cmocka_run_group_tests(tests, debug_logging_on,
				      debug_logging_off);
}
