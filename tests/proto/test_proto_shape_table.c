/* SPDX-License-Identifier: MIT */
/*
 * The message shape tables: a row for every request, and the facts of the
 * rows that matter most written out again from the spec (and from what
 * QEMU and libvhost-user do where the spec is silent or wrong).
 */
#include "proto_test.h"

#define PFM(x) (UINT64_C(1) << VHOST_USER_PROTOCOL_F_##x)

/* Facts every row must satisfy, whatever the request. */
static void check_row_is_sane(const struct vh_msg_shape *s)
{
	assert_true(s->min_size <= s->max_size);
	assert_true(s->max_size <= VHOST_USER_MAX_PAYLOAD);
	if (s->size_rule == VH_SIZE_EXACT)
		assert_int_equal(s->min_size, s->max_size);
	assert_true(s->min_fds <= s->max_fds);
	assert_true(s->max_fds <= VHOST_USER_MAX_FDS);
	assert_true(s->reply_min_fds <= s->reply_max_fds);
	assert_true(s->reply_max_fds <= VHOST_USER_MAX_FDS);
	assert_true(s->need_pf >= -1 && s->need_pf < VHOST_USER_PROTOCOL_F_MAX);
	/* An unset int8_t would read as 0 == MQ: the only second feature
	 * any row needs is BACKEND_SEND_FD, the only reply_pf LOG_SHMFD. */
	assert_true(s->need_pf2 == -1 ||
		    s->need_pf2 == VHOST_USER_PROTOCOL_F_BACKEND_SEND_FD);
	assert_true(s->reply_pf == -1 ||
		    s->reply_pf == VHOST_USER_PROTOCOL_F_LOG_SHMFD);
	assert_true((s->reply == VH_REPLY_IF_PF) == (s->reply_pf != -1));
	if (s->reply == VH_REPLY_NONE) {
		assert_int_equal(s->reply_size, 0);
		assert_int_equal(s->reply_max_fds, 0);
	}
	if (s->reply_rule == VH_REPLY_SIZE_AS_REQUEST)
		assert_int_equal(s->reply_size, 0);
}

static void every_front_end_request_1_to_44_has_a_row(void **state)
{
	(void)state;
	assert_int_equal(VHOST_USER_MAX, 45);
	for (uint32_t r = 1; r < VHOST_USER_MAX; r++) {
		const struct vh_msg_shape *s = fe(r);

		assert_non_null(s->name);
		assert_string_equal(s->name, vh_proto_request_name(r));
		check_row_is_sane(s);
	}
	assert_null(vh_proto_request_shape(0));
	assert_null(vh_proto_request_shape(VHOST_USER_MAX));
	assert_null(vh_proto_request_shape(UINT32_MAX));
}

static void every_back_end_request_1_to_10_has_a_row(void **state)
{
	(void)state;
	assert_int_equal(VHOST_USER_BACKEND_MAX, 11);
	for (uint32_t r = 1; r < VHOST_USER_BACKEND_MAX; r++) {
		const struct vh_msg_shape *s = be(r);

		assert_non_null(s->name);
		assert_string_equal(s->name, vh_proto_backend_request_name(r));
		check_row_is_sane(s);
	}
	assert_null(vh_proto_backend_request_shape(0));
	assert_null(vh_proto_backend_request_shape(VHOST_USER_BACKEND_MAX));
}

/* The protocol features each request needs, from the spec text. */
static const struct {
	uint32_t req;
	uint64_t mask;
} frontend_needs[] = {
    {VHOST_USER_GET_FEATURES, 0},
    {VHOST_USER_SET_FEATURES, 0},
    {VHOST_USER_SET_OWNER, 0},
    {VHOST_USER_RESET_OWNER, 0},
    {VHOST_USER_SET_MEM_TABLE, 0},
    {VHOST_USER_SET_LOG_BASE, PFM(LOG_SHMFD)},
    {VHOST_USER_SET_LOG_FD, 0},
    {VHOST_USER_SET_VRING_NUM, 0},
    {VHOST_USER_SET_VRING_ADDR, 0},
    {VHOST_USER_SET_VRING_BASE, 0},
    {VHOST_USER_GET_VRING_BASE, 0},
    {VHOST_USER_SET_VRING_KICK, 0},
    {VHOST_USER_SET_VRING_CALL, 0},
    {VHOST_USER_SET_VRING_ERR, 0},
    {VHOST_USER_GET_PROTOCOL_FEATURES, 0},
    {VHOST_USER_SET_PROTOCOL_FEATURES, 0},
    {VHOST_USER_GET_QUEUE_NUM, PFM(MQ)},
    {VHOST_USER_SET_VRING_ENABLE, 0},
    {VHOST_USER_SEND_RARP, PFM(RARP)},
    {VHOST_USER_NET_SET_MTU, PFM(NET_MTU)},
    {VHOST_USER_SET_BACKEND_REQ_FD, PFM(BACKEND_REQ)},
    {VHOST_USER_IOTLB_MSG, 0},
    {VHOST_USER_SET_VRING_ENDIAN, PFM(CROSS_ENDIAN)},
    {VHOST_USER_GET_CONFIG, PFM(CONFIG)},
    {VHOST_USER_SET_CONFIG, PFM(CONFIG)},
    {VHOST_USER_CREATE_CRYPTO_SESSION, PFM(CRYPTO_SESSION)},
    {VHOST_USER_CLOSE_CRYPTO_SESSION, PFM(CRYPTO_SESSION)},
    {VHOST_USER_POSTCOPY_ADVISE, PFM(PAGEFAULT)},
    {VHOST_USER_POSTCOPY_LISTEN, PFM(PAGEFAULT)},
    {VHOST_USER_POSTCOPY_END, PFM(PAGEFAULT)},
    {VHOST_USER_GET_INFLIGHT_FD, PFM(INFLIGHT_SHMFD)},
    {VHOST_USER_SET_INFLIGHT_FD, PFM(INFLIGHT_SHMFD)},
    {VHOST_USER_GPU_SET_SOCKET, 0},
    {VHOST_USER_RESET_DEVICE, PFM(RESET_DEVICE)},
    {VHOST_USER_VRING_KICK, PFM(INBAND_NOTIFICATIONS)},
    {VHOST_USER_GET_MAX_MEM_SLOTS, PFM(CONFIGURE_MEM_SLOTS)},
    {VHOST_USER_ADD_MEM_REG, PFM(CONFIGURE_MEM_SLOTS)},
    {VHOST_USER_REM_MEM_REG, PFM(CONFIGURE_MEM_SLOTS)},
    {VHOST_USER_SET_STATUS, PFM(STATUS)},
    {VHOST_USER_GET_STATUS, PFM(STATUS)},
    {VHOST_USER_GET_SHARED_OBJECT, PFM(SHARED_OBJECT)},
    {VHOST_USER_SET_DEVICE_STATE_FD, PFM(DEVICE_STATE)},
    {VHOST_USER_CHECK_DEVICE_STATE, PFM(DEVICE_STATE)},
    {VHOST_USER_GET_SHMEM_CONFIG, PFM(SHMEM)},
};

static const struct {
	uint32_t req;
	uint64_t mask;
} backend_needs[] = {
    {VHOST_USER_BACKEND_IOTLB_MSG, 0},
    {VHOST_USER_BACKEND_CONFIG_CHANGE_MSG, PFM(CONFIG)},
    {VHOST_USER_BACKEND_VRING_HOST_NOTIFIER_MSG,
     PFM(HOST_NOTIFIER) | PFM(BACKEND_SEND_FD)},
    {VHOST_USER_BACKEND_VRING_CALL, PFM(INBAND_NOTIFICATIONS)},
    {VHOST_USER_BACKEND_VRING_ERR, PFM(INBAND_NOTIFICATIONS)},
    {VHOST_USER_BACKEND_SHARED_OBJECT_ADD, PFM(SHARED_OBJECT)},
    {VHOST_USER_BACKEND_SHARED_OBJECT_REMOVE, PFM(SHARED_OBJECT)},
    {VHOST_USER_BACKEND_SHARED_OBJECT_LOOKUP, PFM(SHARED_OBJECT)},
    {VHOST_USER_BACKEND_SHMEM_MAP, PFM(SHMEM) | PFM(BACKEND_SEND_FD)},
    {VHOST_USER_BACKEND_SHMEM_UNMAP, PFM(SHMEM)},
};

static void each_request_needs_the_spec_protocol_features(void **state)
{
	(void)state;
	assert_int_equal(sizeof(frontend_needs) / sizeof(frontend_needs[0]),
			 VHOST_USER_MAX - 1);
	for (size_t i = 0;
	     i < sizeof(frontend_needs) / sizeof(frontend_needs[0]); i++)
		assert_int_equal(
		    vh_proto_shape_required_pf(fe(frontend_needs[i].req)),
		    frontend_needs[i].mask);
	assert_int_equal(sizeof(backend_needs) / sizeof(backend_needs[0]),
			 VHOST_USER_BACKEND_MAX - 1);
	for (size_t i = 0; i < sizeof(backend_needs) / sizeof(backend_needs[0]);
	     i++)
		assert_int_equal(
		    vh_proto_shape_required_pf(be(backend_needs[i].req)),
		    backend_needs[i].mask);
	assert_int_equal(vh_proto_shape_required_pf(NULL), 0);
}

static void back_end_requests_carrying_fds_need_backend_send_fd(void **state)
{
	(void)state;
	for (uint32_t r = 1; r < VHOST_USER_BACKEND_MAX; r++) {
		const struct vh_msg_shape *s = be(r);

		if (s->max_fds > 0)
			assert_true(vh_proto_shape_required_pf(s) &
				    PFM(BACKEND_SEND_FD));
	}
}

static void rings_are_addressed_where_the_spec_puts_the_index(void **state)
{
	(void)state;
	for (uint32_t r = 1; r < VHOST_USER_MAX; r++) {
		int want = VH_RING_NONE;

		switch (r) {
		case VHOST_USER_SET_VRING_NUM:
		case VHOST_USER_SET_VRING_BASE:
		case VHOST_USER_GET_VRING_BASE:
		case VHOST_USER_SET_VRING_ENABLE:
		case VHOST_USER_SET_VRING_ENDIAN:
		case VHOST_USER_VRING_KICK:
			want = VH_RING_STATE;
			break;
		case VHOST_USER_SET_VRING_ADDR:
			want = VH_RING_ADDR;
			break;
		case VHOST_USER_SET_VRING_KICK:
		case VHOST_USER_SET_VRING_CALL:
		case VHOST_USER_SET_VRING_ERR:
			want = VH_RING_FILE;
			break;
		}
		assert_int_equal(fe(r)->ring, want);
	}
	assert_int_equal(be(VHOST_USER_BACKEND_VRING_HOST_NOTIFIER_MSG)->ring,
			 VH_RING_AREA);
	assert_int_equal(be(VHOST_USER_BACKEND_VRING_CALL)->ring,
			 VH_RING_STATE);
	assert_int_equal(be(VHOST_USER_BACKEND_VRING_ERR)->ring, VH_RING_STATE);
	assert_int_equal(be(VHOST_USER_BACKEND_IOTLB_MSG)->ring, VH_RING_NONE);
}

static void requests_owing_a_body_are_exactly_the_spec_list(void **state)
{
	(void)state;
	for (uint32_t r = 1; r < VHOST_USER_MAX; r++) {
		int want = VH_REPLY_NONE;

		switch (r) {
		case VHOST_USER_GET_FEATURES:
		case VHOST_USER_GET_VRING_BASE:
		case VHOST_USER_GET_PROTOCOL_FEATURES:
		case VHOST_USER_GET_QUEUE_NUM:
		case VHOST_USER_GET_CONFIG:
		case VHOST_USER_CREATE_CRYPTO_SESSION:
		case VHOST_USER_POSTCOPY_ADVISE:
		case VHOST_USER_POSTCOPY_END:
		case VHOST_USER_GET_INFLIGHT_FD:
		case VHOST_USER_GET_MAX_MEM_SLOTS:
		case VHOST_USER_GET_STATUS:
		case VHOST_USER_GET_SHARED_OBJECT:
		case VHOST_USER_SET_DEVICE_STATE_FD:
		case VHOST_USER_CHECK_DEVICE_STATE:
		case VHOST_USER_GET_SHMEM_CONFIG:
			want = VH_REPLY_ALWAYS;
			break;
		case VHOST_USER_SET_LOG_BASE:
			want = VH_REPLY_IF_PF;
			break;
		}
		assert_int_equal(fe(r)->reply, want);
	}
	for (uint32_t r = 1; r < VHOST_USER_BACKEND_MAX; r++)
		assert_int_equal(be(r)->reply,
				 r == VHOST_USER_BACKEND_SHARED_OBJECT_LOOKUP
				     ? VH_REPLY_ALWAYS
				     : VH_REPLY_NONE);
}

static void u64_replies_are_8_bytes_without_fds(void **state)
{
	static const uint32_t reqs[] = {
	    VHOST_USER_GET_FEATURES,	   VHOST_USER_GET_PROTOCOL_FEATURES,
	    VHOST_USER_GET_QUEUE_NUM,	   VHOST_USER_GET_MAX_MEM_SLOTS,
	    VHOST_USER_GET_STATUS,	   VHOST_USER_POSTCOPY_END,
	    VHOST_USER_CHECK_DEVICE_STATE, VHOST_USER_GET_VRING_BASE,
	};

	(void)state;
	for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		const struct vh_msg_shape *s = fe(reqs[i]);

		assert_int_equal(s->reply_rule, VH_REPLY_SIZE_EXACT);
		assert_int_equal(s->reply_size, 8);
		assert_int_equal(s->reply_max_fds, 0);
	}
}

static void set_log_base_row_matches_qemu(void **state)
{
	const struct vh_msg_shape *s = fe(VHOST_USER_SET_LOG_BASE);

	(void)state;
	assert_int_equal(s->size_rule, VH_SIZE_EXACT);
	assert_int_equal(s->min_size, 16);
	assert_int_equal(s->min_fds, 1);
	assert_int_equal(s->max_fds, 1);
	assert_int_equal(s->need_pf, VHOST_USER_PROTOCOL_F_LOG_SHMFD);
	assert_int_equal(s->reply, VH_REPLY_IF_PF);
	assert_int_equal(s->reply_pf, VHOST_USER_PROTOCOL_F_LOG_SHMFD);
	assert_int_equal(s->reply_size, 8);
}

static void memory_rows_match_the_spec(void **state)
{
	const struct vh_msg_shape *s = fe(VHOST_USER_SET_MEM_TABLE);

	(void)state;
	assert_int_equal(s->size_rule, VH_SIZE_MEMTABLE);
	assert_int_equal(s->min_fds, 1);
	assert_int_equal(s->max_fds, 8);
	s = fe(VHOST_USER_ADD_MEM_REG);
	assert_int_equal(s->min_size, 40);
	assert_int_equal(s->min_fds, 1);
	assert_int_equal(s->max_fds, 1);
	s = fe(VHOST_USER_REM_MEM_REG);
	assert_int_equal(s->min_size, 40);
	assert_int_equal(s->min_fds, 0);
	assert_int_equal(s->max_fds, 1);
}

static void fd_carrying_requests_match_the_spec(void **state)
{
	(void)state;
	assert_int_equal(fe(VHOST_USER_SET_VRING_KICK)->min_size, 8);
	assert_int_equal(fe(VHOST_USER_SET_VRING_KICK)->max_fds, 1);
	assert_int_equal(fe(VHOST_USER_SET_VRING_CALL)->min_fds, 0);
	assert_int_equal(fe(VHOST_USER_SET_VRING_ERR)->max_fds, 1);
	assert_int_equal(fe(VHOST_USER_GPU_SET_SOCKET)->min_size, 0);
	assert_int_equal(fe(VHOST_USER_GPU_SET_SOCKET)->min_fds, 1);
	assert_int_equal(fe(VHOST_USER_SET_BACKEND_REQ_FD)->min_fds, 1);
	assert_int_equal(fe(VHOST_USER_SET_LOG_FD)->min_fds, 1);
	assert_int_equal(fe(VHOST_USER_SET_INFLIGHT_FD)->min_size, 24);
	assert_int_equal(fe(VHOST_USER_SET_INFLIGHT_FD)->min_fds, 1);
	assert_int_equal(fe(VHOST_USER_RESET_OWNER)->max_size, 0);
	assert_int_equal(fe(VHOST_USER_RESET_OWNER)->max_fds, 0);
	assert_int_equal(fe(VHOST_USER_IOTLB_MSG)->min_size, 32);
	assert_int_equal(fe(VHOST_USER_IOTLB_MSG)->reply, VH_REPLY_NONE);
}

static void replies_with_fds_match_qemu(void **state)
{
	const struct vh_msg_shape *s = fe(VHOST_USER_GET_INFLIGHT_FD);

	(void)state;
	assert_int_equal(s->min_size, 24);
	assert_int_equal(s->reply_size, 24);
	assert_int_equal(s->reply_min_fds, 0);
	assert_int_equal(s->reply_max_fds, 1);
	s = fe(VHOST_USER_POSTCOPY_ADVISE);
	assert_int_equal(s->reply_rule, VH_REPLY_SIZE_EXACT);
	assert_int_equal(s->reply_size, 0);
	assert_int_equal(s->reply_max_fds, 1);
	s = fe(VHOST_USER_SET_DEVICE_STATE_FD);
	assert_int_equal(s->min_size, 8);
	assert_int_equal(s->min_fds, 1);
	assert_int_equal(s->reply_size, 8);
	assert_int_equal(s->reply_max_fds, 1);
	s = fe(VHOST_USER_GET_SHARED_OBJECT);
	assert_int_equal(s->min_size, 16);
	assert_true(s->accept_empty);
	assert_int_equal(s->reply_max_fds, 1);
	s = be(VHOST_USER_BACKEND_SHARED_OBJECT_LOOKUP);
	assert_int_equal(s->reply_size, 8);
	assert_int_equal(s->reply_max_fds, 1);
}

static void variable_rows_match_the_spec(void **state)
{
	const struct vh_msg_shape *s = fe(VHOST_USER_GET_CONFIG);

	(void)state;
	assert_int_equal(s->size_rule, VH_SIZE_CONFIG);
	assert_int_equal(s->reply_rule, VH_REPLY_SIZE_AS_REQUEST);
	assert_true(s->reply_accept_empty);
	assert_int_equal(fe(VHOST_USER_SET_CONFIG)->size_rule, VH_SIZE_CONFIG);
	s = fe(VHOST_USER_CREATE_CRYPTO_SESSION);
	assert_int_equal(s->size_rule, VH_SIZE_RANGE);
	assert_int_equal(s->max_size, VHOST_USER_MAX_PAYLOAD);
	assert_int_equal(s->reply_rule, VH_REPLY_SIZE_AS_REQUEST);
	assert_int_equal(fe(VHOST_USER_GET_SHMEM_CONFIG)->reply_size,
			 8 + 8 * 256);
}

static void back_end_rows_match_the_spec(void **state)
{
	(void)state;
	assert_int_equal(be(VHOST_USER_BACKEND_IOTLB_MSG)->min_size, 32);
	assert_int_equal(be(VHOST_USER_BACKEND_CONFIG_CHANGE_MSG)->max_size, 0);
	assert_int_equal(
	    be(VHOST_USER_BACKEND_VRING_HOST_NOTIFIER_MSG)->min_size, 24);
	assert_int_equal(
	    be(VHOST_USER_BACKEND_VRING_HOST_NOTIFIER_MSG)->max_fds, 1);
	assert_int_equal(be(VHOST_USER_BACKEND_VRING_CALL)->min_size, 8);
	assert_int_equal(be(VHOST_USER_BACKEND_SHARED_OBJECT_ADD)->min_size,
			 16);
	assert_int_equal(be(VHOST_USER_BACKEND_SHMEM_MAP)->min_size, 40);
	assert_int_equal(be(VHOST_USER_BACKEND_SHMEM_MAP)->min_fds, 1);
	assert_int_equal(be(VHOST_USER_BACKEND_SHMEM_UNMAP)->min_size, 40);
	assert_int_equal(be(VHOST_USER_BACKEND_SHMEM_UNMAP)->max_fds, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(every_front_end_request_1_to_44_has_a_row),
	    cmocka_unit_test(every_back_end_request_1_to_10_has_a_row),
	    cmocka_unit_test(each_request_needs_the_spec_protocol_features),
	    cmocka_unit_test(
		back_end_requests_carrying_fds_need_backend_send_fd),
	    cmocka_unit_test(rings_are_addressed_where_the_spec_puts_the_index),
	    cmocka_unit_test(requests_owing_a_body_are_exactly_the_spec_list),
	    cmocka_unit_test(u64_replies_are_8_bytes_without_fds),
	    cmocka_unit_test(set_log_base_row_matches_qemu),
	    cmocka_unit_test(memory_rows_match_the_spec),
	    cmocka_unit_test(fd_carrying_requests_match_the_spec),
	    cmocka_unit_test(replies_with_fds_match_qemu),
	    cmocka_unit_test(variable_rows_match_the_spec),
	    cmocka_unit_test(back_end_rows_match_the_spec),
	};

	return cmocka_run_group_tests(tests, debug_logging_on,
				      debug_logging_off);
}
