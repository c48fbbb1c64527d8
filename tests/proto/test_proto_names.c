/* SPDX-License-Identifier: MIT */
/* Name tables: every request and feature bit the spec defines has its
 * spec name; anything else gets the documented fallback. */
#include "proto_test.h"

/* vhost-user.rst "Front-end message types", by id. */
static const char *const spec_requests[] = {
    NULL,
    "VHOST_USER_GET_FEATURES",
    "VHOST_USER_SET_FEATURES",
    "VHOST_USER_SET_OWNER",
    "VHOST_USER_RESET_OWNER",
    "VHOST_USER_SET_MEM_TABLE",
    "VHOST_USER_SET_LOG_BASE",
    "VHOST_USER_SET_LOG_FD",
    "VHOST_USER_SET_VRING_NUM",
    "VHOST_USER_SET_VRING_ADDR",
    "VHOST_USER_SET_VRING_BASE",
    "VHOST_USER_GET_VRING_BASE",
    "VHOST_USER_SET_VRING_KICK",
    "VHOST_USER_SET_VRING_CALL",
    "VHOST_USER_SET_VRING_ERR",
    "VHOST_USER_GET_PROTOCOL_FEATURES",
    "VHOST_USER_SET_PROTOCOL_FEATURES",
    "VHOST_USER_GET_QUEUE_NUM",
    "VHOST_USER_SET_VRING_ENABLE",
    "VHOST_USER_SEND_RARP",
    "VHOST_USER_NET_SET_MTU",
    "VHOST_USER_SET_BACKEND_REQ_FD",
    "VHOST_USER_IOTLB_MSG",
    "VHOST_USER_SET_VRING_ENDIAN",
    "VHOST_USER_GET_CONFIG",
    "VHOST_USER_SET_CONFIG",
    "VHOST_USER_CREATE_CRYPTO_SESSION",
    "VHOST_USER_CLOSE_CRYPTO_SESSION",
    "VHOST_USER_POSTCOPY_ADVISE",
    "VHOST_USER_POSTCOPY_LISTEN",
    "VHOST_USER_POSTCOPY_END",
    "VHOST_USER_GET_INFLIGHT_FD",
    "VHOST_USER_SET_INFLIGHT_FD",
    "VHOST_USER_GPU_SET_SOCKET",
    "VHOST_USER_RESET_DEVICE",
    "VHOST_USER_VRING_KICK",
    "VHOST_USER_GET_MAX_MEM_SLOTS",
    "VHOST_USER_ADD_MEM_REG",
    "VHOST_USER_REM_MEM_REG",
    "VHOST_USER_SET_STATUS",
    "VHOST_USER_GET_STATUS",
    "VHOST_USER_GET_SHARED_OBJECT",
    "VHOST_USER_SET_DEVICE_STATE_FD",
    "VHOST_USER_CHECK_DEVICE_STATE",
    "VHOST_USER_GET_SHMEM_CONFIG",
};

/* vhost-user.rst "Back-end message types", by id. */
static const char *const spec_backend_requests[] = {
    NULL,
    "VHOST_USER_BACKEND_IOTLB_MSG",
    "VHOST_USER_BACKEND_CONFIG_CHANGE_MSG",
    "VHOST_USER_BACKEND_VRING_HOST_NOTIFIER_MSG",
    "VHOST_USER_BACKEND_VRING_CALL",
    "VHOST_USER_BACKEND_VRING_ERR",
    "VHOST_USER_BACKEND_SHARED_OBJECT_ADD",
    "VHOST_USER_BACKEND_SHARED_OBJECT_REMOVE",
    "VHOST_USER_BACKEND_SHARED_OBJECT_LOOKUP",
    "VHOST_USER_BACKEND_SHMEM_MAP",
    "VHOST_USER_BACKEND_SHMEM_UNMAP",
};

static void every_front_end_request_has_its_spec_name(void **state)
{
	(void)state;
	assert_int_equal(sizeof(spec_requests) / sizeof(spec_requests[0]),
			 VHOST_USER_MAX);
	for (uint32_t r = 1; r < VHOST_USER_MAX; r++)
		assert_string_equal(vh_proto_request_name(r), spec_requests[r]);
}

static void unknown_front_end_request_is_named_unknown(void **state)
{
	(void)state;
	assert_string_equal(vh_proto_request_name(0), "VHOST_USER_UNKNOWN");
	assert_string_equal(vh_proto_request_name(VHOST_USER_MAX),
			    "VHOST_USER_UNKNOWN");
	assert_string_equal(vh_proto_request_name(UINT32_MAX),
			    "VHOST_USER_UNKNOWN");
}

static void every_back_end_request_has_its_spec_name(void **state)
{
	(void)state;
	assert_int_equal(sizeof(spec_backend_requests) /
			     sizeof(spec_backend_requests[0]),
			 VHOST_USER_BACKEND_MAX);
	for (uint32_t r = 1; r < VHOST_USER_BACKEND_MAX; r++)
		assert_string_equal(vh_proto_backend_request_name(r),
				    spec_backend_requests[r]);
	assert_string_equal(vh_proto_backend_request_name(0),
			    "VHOST_USER_BACKEND_UNKNOWN");
	assert_string_equal(vh_proto_backend_request_name(11),
			    "VHOST_USER_BACKEND_UNKNOWN");
}

static void every_protocol_feature_bit_0_to_23_is_named(void **state)
{
	(void)state;
	for (unsigned b = 0; b < VHOST_USER_PROTOCOL_F_MAX; b++)
		assert_non_null(vh_proto_protocol_feature_name(b));
	assert_int_equal(VHOST_USER_PROTOCOL_F_MAX, 24);
	assert_string_equal(vh_proto_protocol_feature_name(0), "MQ");
	assert_string_equal(vh_proto_protocol_feature_name(3), "REPLY_ACK");
	assert_string_equal(vh_proto_protocol_feature_name(15),
			    "CONFIGURE_MEM_SLOTS");
	assert_string_equal(vh_proto_protocol_feature_name(19), "DEVICE_STATE");
	assert_string_equal(vh_proto_protocol_feature_name(22), "SHMEM");
	assert_string_equal(vh_proto_protocol_feature_name(23),
			    "GET_VRING_BASE_SKIP_DRAIN");
	assert_null(vh_proto_protocol_feature_name(24));
	assert_null(vh_proto_protocol_feature_name(63));
	assert_null(vh_proto_protocol_feature_name(1000));
}

static void transport_feature_bits_are_named(void **state)
{
	(void)state;
	assert_string_equal(vh_proto_virtio_feature_name(26), "LOG_ALL");
	assert_string_equal(vh_proto_virtio_feature_name(28), "INDIRECT_DESC");
	assert_string_equal(vh_proto_virtio_feature_name(29), "EVENT_IDX");
	assert_string_equal(vh_proto_virtio_feature_name(30),
			    "PROTOCOL_FEATURES");
	assert_string_equal(vh_proto_virtio_feature_name(32), "VERSION_1");
	assert_string_equal(vh_proto_virtio_feature_name(33),
			    "ACCESS_PLATFORM");
	assert_string_equal(vh_proto_virtio_feature_name(34), "RING_PACKED");
	assert_null(vh_proto_virtio_feature_name(0));
	assert_null(vh_proto_virtio_feature_name(25));
	assert_null(vh_proto_virtio_feature_name(64));
}

static void feature_masks_are_built_from_bit_numbers(void **state)
{
	(void)state;
	assert_int_equal(
	    vh_virtio_feature_mask(VH_VHOST_USER_F_PROTOCOL_FEATURES),
	    UINT64_C(0x40000000));
	assert_true(vh_virtio_has(UINT64_C(1) << 32, VH_VIRTIO_F_VERSION_1));
	assert_false(vh_virtio_has(UINT64_C(1) << 31, VH_VIRTIO_F_VERSION_1));
	assert_int_equal(vh_protocol_feature_mask(VHOST_USER_PROTOCOL_F_SHMEM),
			 UINT64_C(1) << 22);
	assert_true(vh_protocol_has(0x8, VHOST_USER_PROTOCOL_F_REPLY_ACK));
	assert_int_equal(VHOST_USER_PROTOCOL_F_KNOWN, UINT64_C(0xffffff));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(every_front_end_request_has_its_spec_name),
	    cmocka_unit_test(unknown_front_end_request_is_named_unknown),
	    cmocka_unit_test(every_back_end_request_has_its_spec_name),
	    cmocka_unit_test(every_protocol_feature_bit_0_to_23_is_named),
	    cmocka_unit_test(transport_feature_bits_are_named),
	    cmocka_unit_test(feature_masks_are_built_from_bit_numbers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
