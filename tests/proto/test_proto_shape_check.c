/* SPDX-License-Identifier: MIT */
/*
 * The checks built on the shape tables: vh_proto_check_shape,
 * vh_proto_check_reply_shape and vh_proto_ring_index, each rule accepted at
 * its boundary and refused one step past.
 */
#include <errno.h>

#include "proto_test.h"

/* ---- vh_proto_check_shape ---------------------------------------------- */

static struct vhost_user_msg m;

static int check(uint32_t req, const void *payload, uint32_t size,
		 unsigned nfds)
{
	make_msg(&m, req, payload, size, nfds);
	return vh_proto_check_shape(fe(req), &m);
}

static void exact_size_accepts_only_that_size(void **state)
{
	uint8_t b[16] = {0};

	(void)state;
	assert_int_equal(check(VHOST_USER_GET_FEATURES, NULL, 0, 0), 0);
	assert_int_equal(check(VHOST_USER_GET_FEATURES, b, 1, 0), -EMSGSIZE);
	assert_int_equal(check(VHOST_USER_SET_FEATURES, b, 8, 0), 0);
	assert_int_equal(check(VHOST_USER_SET_FEATURES, b, 7, 0), -EMSGSIZE);
	assert_int_equal(check(VHOST_USER_SET_FEATURES, b, 9, 0), -EMSGSIZE);
}

static void fd_count_outside_the_row_is_refused(void **state)
{
	uint8_t b[40] = {0};

	(void)state;
	assert_int_equal(check(VHOST_USER_SET_VRING_KICK, b, 8, 0), 0);
	assert_int_equal(check(VHOST_USER_SET_VRING_KICK, b, 8, 1), 0);
	assert_int_equal(check(VHOST_USER_SET_VRING_KICK, b, 8, 2), -EBADMSG);
	assert_int_equal(check(VHOST_USER_ADD_MEM_REG, b, 40, 0), -EBADMSG);
	assert_int_equal(check(VHOST_USER_ADD_MEM_REG, b, 40, 1), 0);
	assert_int_equal(check(VHOST_USER_ADD_MEM_REG, b, 40, 2), -EBADMSG);
	assert_int_equal(check(VHOST_USER_GET_FEATURES, NULL, 0, 1), -EBADMSG);
	assert_int_equal(check(VHOST_USER_REM_MEM_REG, b, 40, 1), 0);
}

static void mem_table_size_follows_nregions(void **state)
{
	uint8_t b[8 + 32 * 9] = {0};

	(void)state;
	put_u32(b, 0, 1);
	assert_int_equal(check(VHOST_USER_SET_MEM_TABLE, b, 40, 1), 0);
	assert_int_equal(check(VHOST_USER_SET_MEM_TABLE, b, 39, 1), -EMSGSIZE);
	assert_int_equal(check(VHOST_USER_SET_MEM_TABLE, b, 41, 1), -EMSGSIZE);
	put_u32(b, 0, 8);
	assert_int_equal(check(VHOST_USER_SET_MEM_TABLE, b, 264, 8), 0);
	put_u32(b, 0, 9);
	assert_int_equal(check(VHOST_USER_SET_MEM_TABLE, b, 296, 8), -EMSGSIZE);
	put_u32(b, 0, 0);
	assert_int_equal(check(VHOST_USER_SET_MEM_TABLE, b, 8, 0), -EMSGSIZE);
	assert_int_equal(check(VHOST_USER_SET_MEM_TABLE, b, 4, 0), -EMSGSIZE);
}

static void mem_table_needs_one_fd_per_region(void **state)
{
	uint8_t b[8 + 32 * 2] = {0};

	(void)state;
	put_u32(b, 0, 2);
	assert_int_equal(check(VHOST_USER_SET_MEM_TABLE, b, 72, 2), 0);
	assert_int_equal(check(VHOST_USER_SET_MEM_TABLE, b, 72, 1), -EBADMSG);
	assert_int_equal(check(VHOST_USER_SET_MEM_TABLE, b, 72, 3), -EBADMSG);
}

static void config_size_follows_its_header(void **state)
{
	uint8_t b[12 + 257] = {0};

	(void)state;
	put_u32(b, 4, 8);
	assert_int_equal(check(VHOST_USER_GET_CONFIG, b, 20, 0), 0);
	assert_int_equal(check(VHOST_USER_GET_CONFIG, b, 21, 0), -EMSGSIZE);
	assert_int_equal(check(VHOST_USER_SET_CONFIG, b, 19, 0), -EMSGSIZE);
	put_u32(b, 4, 256);
	assert_int_equal(check(VHOST_USER_SET_CONFIG, b, 268, 0), 0);
	put_u32(b, 4, 257);
	assert_int_equal(check(VHOST_USER_SET_CONFIG, b, 269, 0), -EMSGSIZE);
	assert_int_equal(check(VHOST_USER_GET_CONFIG, b, 11, 0), -EMSGSIZE);
}

static void range_accepts_its_bounds(void **state)
{
	static uint8_t b[VHOST_USER_MAX_PAYLOAD];

	(void)state;
	assert_int_equal(check(VHOST_USER_CREATE_CRYPTO_SESSION, b, 16, 0), 0);
	assert_int_equal(check(VHOST_USER_CREATE_CRYPTO_SESSION, b, 15, 0),
			 -EMSGSIZE);
	assert_int_equal(check(VHOST_USER_CREATE_CRYPTO_SESSION, b,
			       VHOST_USER_MAX_PAYLOAD, 0),
			 0);
}

static void shared_object_request_may_come_empty(void **state)
{
	uint8_t b[16] = {0};

	(void)state;
	assert_int_equal(check(VHOST_USER_GET_SHARED_OBJECT, b, 16, 0), 0);
	assert_int_equal(check(VHOST_USER_GET_SHARED_OBJECT, NULL, 0, 0), 0);
	assert_int_equal(check(VHOST_USER_GET_SHARED_OBJECT, b, 8, 0),
			 -EMSGSIZE);
	assert_int_equal(check(VHOST_USER_GET_SHARED_OBJECT, NULL, 0, 1),
			 -EBADMSG);
}

static void size_beyond_the_payload_buffer_is_refused(void **state)
{
	(void)state;
	make_msg(&m, VHOST_USER_CREATE_CRYPTO_SESSION, NULL, 0, 0);
	m.hdr.size = VHOST_USER_MAX_PAYLOAD + 1;
	assert_int_equal(
	    vh_proto_check_shape(fe(VHOST_USER_CREATE_CRYPTO_SESSION), &m),
	    -EMSGSIZE);
	make_msg(&m, VHOST_USER_SET_MEM_TABLE, NULL, 0, 0);
	m.hdr.size = UINT32_MAX;
	assert_int_equal(vh_proto_check_shape(fe(VHOST_USER_SET_MEM_TABLE), &m),
			 -EMSGSIZE);
}

static void more_fds_than_a_message_holds_are_refused(void **state)
{
	uint8_t b[8 + 32 * 8] = {0};

	(void)state;
	put_u32(b, 0, 8);
	assert_int_equal(check(VHOST_USER_SET_MEM_TABLE, b, 264, 9), -EBADMSG);
}

static void back_end_requests_are_checked_the_same_way(void **state)
{
	uint8_t b[40] = {0};

	(void)state;
	make_msg(&m, VHOST_USER_BACKEND_SHMEM_MAP, b, 40, 1);
	assert_int_equal(
	    vh_proto_check_shape(be(VHOST_USER_BACKEND_SHMEM_MAP), &m), 0);
	m.nfds = 0;
	assert_int_equal(
	    vh_proto_check_shape(be(VHOST_USER_BACKEND_SHMEM_MAP), &m),
	    -EBADMSG);
	make_msg(&m, VHOST_USER_BACKEND_VRING_HOST_NOTIFIER_MSG, b, 24, 0);
	assert_int_equal(
	    vh_proto_check_shape(be(VHOST_USER_BACKEND_VRING_HOST_NOTIFIER_MSG),
				 &m),
	    0);
	m.hdr.size = 16;
	assert_int_equal(
	    vh_proto_check_shape(be(VHOST_USER_BACKEND_VRING_HOST_NOTIFIER_MSG),
				 &m),
	    -EMSGSIZE);
}

static void check_shape_refuses_null(void **state)
{
	(void)state;
	make_msg(&m, VHOST_USER_GET_FEATURES, NULL, 0, 0);
	assert_int_equal(vh_proto_check_shape(NULL, &m), -EINVAL);
	assert_int_equal(vh_proto_check_shape(fe(1), NULL), -EINVAL);
}

/* ---- vh_proto_check_reply_shape ---------------------------------------- */

static int check_reply(uint32_t req, uint32_t request_size, uint32_t size,
		       unsigned nfds)
{
	static uint8_t zero[VHOST_USER_MAX_PAYLOAD];

	make_msg(&m, req, zero, size, nfds);
	m.hdr.flags |= VHOST_USER_REPLY_MASK;
	return vh_proto_check_reply_shape(fe(req), request_size, &m);
}

static void u64_reply_must_be_8_bytes(void **state)
{
	(void)state;
	assert_int_equal(check_reply(VHOST_USER_GET_FEATURES, 0, 8, 0), 0);
	assert_int_equal(check_reply(VHOST_USER_GET_FEATURES, 0, 0, 0),
			 -EMSGSIZE);
	assert_int_equal(check_reply(VHOST_USER_GET_FEATURES, 0, 16, 0),
			 -EMSGSIZE);
	assert_int_equal(check_reply(VHOST_USER_GET_FEATURES, 0, 8, 1),
			 -EBADMSG);
}

static void ack_is_a_u64_without_fds(void **state)
{
	(void)state;
	assert_int_equal(check_reply(VHOST_USER_SET_VRING_NUM, 8, 8, 0), 0);
	assert_int_equal(check_reply(VHOST_USER_SET_VRING_NUM, 8, 0, 0),
			 -EMSGSIZE);
	assert_int_equal(check_reply(VHOST_USER_SET_VRING_NUM, 8, 8, 1),
			 -EBADMSG);
}

static void get_config_reply_matches_the_request_or_is_empty(void **state)
{
	(void)state;
	assert_int_equal(check_reply(VHOST_USER_GET_CONFIG, 20, 20, 0), 0);
	assert_int_equal(check_reply(VHOST_USER_GET_CONFIG, 20, 0, 0), 0);
	assert_int_equal(check_reply(VHOST_USER_GET_CONFIG, 20, 19, 0),
			 -EMSGSIZE);
	assert_int_equal(check_reply(VHOST_USER_GET_CONFIG, 20, 21, 0),
			 -EMSGSIZE);
}

static void crypto_session_reply_matches_the_request(void **state)
{
	(void)state;
	assert_int_equal(
	    check_reply(VHOST_USER_CREATE_CRYPTO_SESSION, 1184, 1184, 0), 0);
	assert_int_equal(
	    check_reply(VHOST_USER_CREATE_CRYPTO_SESSION, 1184, 0, 0),
	    -EMSGSIZE);
}

static void postcopy_advise_reply_is_empty_with_the_ufd(void **state)
{
	(void)state;
	assert_int_equal(check_reply(VHOST_USER_POSTCOPY_ADVISE, 0, 0, 1), 0);
	assert_int_equal(check_reply(VHOST_USER_POSTCOPY_ADVISE, 0, 0, 0), 0);
	assert_int_equal(check_reply(VHOST_USER_POSTCOPY_ADVISE, 0, 8, 1),
			 -EMSGSIZE);
	assert_int_equal(check_reply(VHOST_USER_POSTCOPY_ADVISE, 0, 0, 2),
			 -EBADMSG);
}

static void inflight_reply_is_24_bytes_and_the_area_fd(void **state)
{
	(void)state;
	assert_int_equal(check_reply(VHOST_USER_GET_INFLIGHT_FD, 24, 24, 1), 0);
	assert_int_equal(check_reply(VHOST_USER_GET_INFLIGHT_FD, 24, 16, 1),
			 -EMSGSIZE);
}

static void shared_object_reply_is_empty_or_echoes_the_uuid(void **state)
{
	(void)state;
	assert_int_equal(check_reply(VHOST_USER_GET_SHARED_OBJECT, 16, 0, 1),
			 0);
	assert_int_equal(check_reply(VHOST_USER_GET_SHARED_OBJECT, 16, 16, 0),
			 0);
	assert_int_equal(check_reply(VHOST_USER_GET_SHARED_OBJECT, 16, 8, 1),
			 -EMSGSIZE);
	assert_int_equal(check_reply(VHOST_USER_GET_SHARED_OBJECT, 16, 0, 2),
			 -EBADMSG);
}

static void shmem_config_reply_is_the_whole_structure(void **state)
{
	(void)state;
	assert_int_equal(check_reply(VHOST_USER_GET_SHMEM_CONFIG, 0, 2056, 0),
			 0);
	assert_int_equal(check_reply(VHOST_USER_GET_SHMEM_CONFIG, 0, 16, 0),
			 -EMSGSIZE);
}

static void lookup_reply_is_a_u64_and_maybe_the_fd(void **state)
{
	(void)state;
	make_msg(&m, VHOST_USER_BACKEND_SHARED_OBJECT_LOOKUP, NULL, 8, 1);
	assert_int_equal(
	    vh_proto_check_reply_shape(
		be(VHOST_USER_BACKEND_SHARED_OBJECT_LOOKUP), 16, &m),
	    0);
	m.nfds = 0;
	assert_int_equal(
	    vh_proto_check_reply_shape(
		be(VHOST_USER_BACKEND_SHARED_OBJECT_LOOKUP), 16, &m),
	    0);
	m.hdr.size = 16;
	assert_int_equal(
	    vh_proto_check_reply_shape(
		be(VHOST_USER_BACKEND_SHARED_OBJECT_LOOKUP), 16, &m),
	    -EMSGSIZE);
	assert_int_equal(vh_proto_check_reply_shape(NULL, 16, &m), -EINVAL);
}

/* ---- vh_proto_ring_index ----------------------------------------------- */

static int ring_of(const struct vh_msg_shape *s, const uint8_t *b,
		   uint32_t size, uint32_t *index)
{
	make_msg(&m, 0, b, size, 0);
	return vh_proto_ring_index(s, &m, index);
}

static void ring_index_is_read_where_each_payload_keeps_it(void **state)
{
	uint8_t b[40] = {0};
	uint32_t index = 0;

	(void)state;
	put_u32(b, 0, 0x7fff);
	put_u32(b, 4, 0xffffffff);
	assert_int_equal(ring_of(fe(VHOST_USER_SET_VRING_NUM), b, 8, &index),
			 0);
	assert_int_equal(index, 0x7fff);
	put_u32(b, 0, 12);
	assert_int_equal(ring_of(fe(VHOST_USER_SET_VRING_ADDR), b, 40, &index),
			 0);
	assert_int_equal(index, 12);
	put_u64(b, 0, 5 | VHOST_USER_VRING_NOFD_MASK);
	assert_int_equal(ring_of(fe(VHOST_USER_SET_VRING_CALL), b, 8, &index),
			 0);
	assert_int_equal(index, 5);
	put_u64(b, 0, 7);
	assert_int_equal(ring_of(be(VHOST_USER_BACKEND_VRING_HOST_NOTIFIER_MSG),
				 b, 24, &index),
			 0);
	assert_int_equal(index, 7);
}

static void ring_index_refuses_reserved_u64_bits(void **state)
{
	uint8_t b[24] = {0};
	uint32_t index;

	(void)state;
	put_u64(b, 0, 5 | (UINT64_C(1) << 9));
	assert_int_equal(ring_of(fe(VHOST_USER_SET_VRING_KICK), b, 8, &index),
			 -EINVAL);
	assert_int_equal(ring_of(be(VHOST_USER_BACKEND_VRING_HOST_NOTIFIER_MSG),
				 b, 24, &index),
			 -EINVAL);
}

static void ring_index_of_a_ringless_request_is_enoent(void **state)
{
	uint8_t b[8] = {0};
	uint32_t index;

	(void)state;
	assert_int_equal(ring_of(fe(VHOST_USER_GET_FEATURES), b, 0, &index),
			 -ENOENT);
	assert_int_equal(ring_of(fe(VHOST_USER_SET_VRING_NUM), b, 8, NULL),
			 -EINVAL);
}

static void ring_index_never_reads_past_the_payload(void **state)
{
	uint8_t b[8] = {0};
	uint32_t index;

	(void)state;
	assert_int_equal(ring_of(fe(VHOST_USER_SET_VRING_NUM), b, 3, &index),
			 -EMSGSIZE);
	assert_int_equal(ring_of(fe(VHOST_USER_SET_VRING_KICK), b, 7, &index),
			 -EMSGSIZE);
	make_msg(&m, 0, NULL, 0, 0);
	m.hdr.size = UINT32_MAX;
	assert_int_equal(
	    vh_proto_ring_index(fe(VHOST_USER_SET_VRING_NUM), &m, &index),
	    -EMSGSIZE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(exact_size_accepts_only_that_size),
	    cmocka_unit_test(fd_count_outside_the_row_is_refused),
	    cmocka_unit_test(mem_table_size_follows_nregions),
	    cmocka_unit_test(mem_table_needs_one_fd_per_region),
	    cmocka_unit_test(config_size_follows_its_header),
	    cmocka_unit_test(range_accepts_its_bounds),
	    cmocka_unit_test(shared_object_request_may_come_empty),
	    cmocka_unit_test(size_beyond_the_payload_buffer_is_refused),
	    cmocka_unit_test(more_fds_than_a_message_holds_are_refused),
	    cmocka_unit_test(back_end_requests_are_checked_the_same_way),
	    cmocka_unit_test(check_shape_refuses_null),
	    cmocka_unit_test(u64_reply_must_be_8_bytes),
	    cmocka_unit_test(ack_is_a_u64_without_fds),
	    cmocka_unit_test(get_config_reply_matches_the_request_or_is_empty),
	    cmocka_unit_test(crypto_session_reply_matches_the_request),
	    cmocka_unit_test(postcopy_advise_reply_is_empty_with_the_ufd),
	    cmocka_unit_test(inflight_reply_is_24_bytes_and_the_area_fd),
	    cmocka_unit_test(shared_object_reply_is_empty_or_echoes_the_uuid),
	    cmocka_unit_test(shmem_config_reply_is_the_whole_structure),
	    cmocka_unit_test(lookup_reply_is_a_u64_and_maybe_the_fd),
	    cmocka_unit_test(ring_index_is_read_where_each_payload_keeps_it),
	    cmocka_unit_test(ring_index_refuses_reserved_u64_bits),
	    cmocka_unit_test(ring_index_of_a_ringless_request_is_enoent),
	    cmocka_unit_test(ring_index_never_reads_past_the_payload),
	};

	return cmocka_run_group_tests(tests, debug_logging_on,
				      debug_logging_off);
}
