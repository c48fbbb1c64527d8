/* SPDX-License-Identifier: MIT */
/*
 * The dispatcher's table: one row per front-end request, indexed by request
 * code. Payload size, fd count (SET_MEM_TABLE: one per region), the
 * protocol features a request needs, its ring index and its reply kind come
 * from the proto shape table (vh_proto_request_shape, lib/proto/
 * shape_frontend.c); a row adds what only the dispatcher knows: the
 * handler, the rules checked before it runs (virtio-bit gates, NOFD, value
 * ranges, payload validators, negotiation), and the reply's error form.
 * A code with no row (0, or one past the spec) is refused.
 */
#include "backend_int.h"

const struct vh_backend_row vh_backend_table[VHOST_USER_MAX] = {
    [VHOST_USER_GET_FEATURES] = {.handle = vh_h_get_features},
    [VHOST_USER_SET_FEATURES] = {.handle = vh_h_set_features,
				 .rules = VH_RULE_FEATURES_OFFERED,
				 .optional_cb = true},
    [VHOST_USER_SET_OWNER] = {.handle = vh_h_set_owner, .optional_cb = true},
    /* Deprecated: "back-ends either ignore this message, or use it to
     * disable all rings" (vhost-user.rst). */
    [VHOST_USER_RESET_OWNER] = {.handle = vh_h_reset_owner,
				.optional_cb = true},
    [VHOST_USER_SET_MEM_TABLE] = {.handle = vh_h_set_mem_table,
				  .rules = VH_RULE_MEM_TABLE},
    [VHOST_USER_SET_LOG_BASE] = {.handle = vh_h_set_log_base,
				 .rules = VH_RULE_LOG,
				 .form = VH_FORM_U64_STATUS},
    [VHOST_USER_SET_LOG_FD] = {.handle = vh_h_set_log_fd},
    [VHOST_USER_SET_VRING_NUM] = {.handle = vh_h_set_vring_num},
    [VHOST_USER_SET_VRING_ADDR] = {.handle = vh_h_set_vring_addr,
				   .rules = VH_RULE_VRING_ADDR},
    [VHOST_USER_SET_VRING_BASE] = {.handle = vh_h_set_vring_base},
    /* "The request payload's num field is currently reserved and must be
     * set to 0." Not enforced: DPDK's virtio_user (22.11) reuses one state
     * struct for every ring at port stop, so rings after the first carry
     * the previous reply's base in num. The field is not read; closing the
     * connection there would turn every testpmd port stop into a hang-up
     * (and the rings would not be stopped in order). */
    [VHOST_USER_GET_VRING_BASE] = {.handle = vh_h_get_vring_base},
    [VHOST_USER_SET_VRING_KICK] = {.handle = vh_h_set_vring_kick,
				   .rules = VH_RULE_FD_UNLESS_NOFD},
    [VHOST_USER_SET_VRING_CALL] = {.handle = vh_h_set_vring_call,
				   .rules = VH_RULE_FD_UNLESS_NOFD},
    [VHOST_USER_SET_VRING_ERR] = {.handle = vh_h_set_vring_err,
				  .rules = VH_RULE_FD_UNLESS_NOFD},
    [VHOST_USER_GET_PROTOCOL_FEATURES] = {.handle = vh_h_get_protocol_features,
					  .rules = VH_RULE_PF_OFFERED},
    [VHOST_USER_SET_PROTOCOL_FEATURES] = {.handle = vh_h_set_protocol_features,
					  .rules = VH_RULE_PF_OFFERED |
						   VH_RULE_PROTOCOL_OFFERED,
					  .optional_cb = true},
    [VHOST_USER_GET_QUEUE_NUM] = {.handle = vh_h_get_queue_num},
    /* "This request should be sent only when
     * VHOST_USER_F_PROTOCOL_FEATURES has been negotiated." */
    [VHOST_USER_SET_VRING_ENABLE] = {.handle = vh_h_set_vring_enable,
				     .rules =
					 VH_RULE_PF_OFFERED | VH_RULE_NUM_BOOL},
    [VHOST_USER_SEND_RARP] = {.handle = vh_h_send_rarp},
    [VHOST_USER_NET_SET_MTU] = {.handle = vh_h_net_set_mtu},
    [VHOST_USER_SET_BACKEND_REQ_FD] = {.handle = vh_h_set_backend_req_fd},
    [VHOST_USER_IOTLB_MSG] = {.handle = vh_h_iotlb_msg,
			      .rules = VH_RULE_ACCESS_PLATFORM | VH_RULE_IOTLB},
    /* "Little-endian is indicated with state.num set to 0 and big-endian
     * is indicated with state.num set to 1. Other values are invalid." */
    [VHOST_USER_SET_VRING_ENDIAN] = {.handle = vh_h_set_vring_endian,
				     .rules = VH_RULE_NUM_BOOL},
    [VHOST_USER_GET_CONFIG] = {.handle = vh_h_get_config,
			       .rules = VH_RULE_CONFIG},
    [VHOST_USER_SET_CONFIG] = {.handle = vh_h_set_config,
			       .rules = VH_RULE_CONFIG},
    [VHOST_USER_CREATE_CRYPTO_SESSION] = {.handle = vh_h_create_crypto_session},
    [VHOST_USER_CLOSE_CRYPTO_SESSION] = {.handle = vh_h_close_crypto_session},
    [VHOST_USER_POSTCOPY_ADVISE] = {.handle = vh_h_postcopy_advise},
    [VHOST_USER_POSTCOPY_LISTEN] = {.handle = vh_h_postcopy_listen},
    [VHOST_USER_POSTCOPY_END] = {.handle = vh_h_postcopy_end,
				 .form = VH_FORM_U64_STATUS},
    [VHOST_USER_GET_INFLIGHT_FD] = {.handle = vh_h_get_inflight_fd,
				    .rules = VH_RULE_INFLIGHT},
    [VHOST_USER_SET_INFLIGHT_FD] = {.handle = vh_h_set_inflight_fd,
				    .rules = VH_RULE_INFLIGHT},
    [VHOST_USER_GPU_SET_SOCKET] = {.handle = vh_h_gpu_set_socket},
    [VHOST_USER_RESET_DEVICE] = {.handle = vh_h_reset_device},
    /* "The state.num field is currently reserved and must be set to 0." */
    [VHOST_USER_VRING_KICK] = {.handle = vh_h_vring_kick,
			       .rules = VH_RULE_NUM_ZERO},
    [VHOST_USER_GET_MAX_MEM_SLOTS] = {.handle = vh_h_get_max_mem_slots},
    [VHOST_USER_ADD_MEM_REG] = {.handle = vh_h_add_mem_reg,
				.rules = VH_RULE_MEM_REG},
    [VHOST_USER_REM_MEM_REG] = {.handle = vh_h_rem_mem_reg,
				.rules = VH_RULE_MEM_REG},
    [VHOST_USER_SET_STATUS] = {.handle = vh_h_set_status,
			       .rules = VH_RULE_U64_BYTE},
    [VHOST_USER_GET_STATUS] = {.handle = vh_h_get_status},
    [VHOST_USER_GET_SHARED_OBJECT] = {.handle = vh_h_get_shared_object},
    [VHOST_USER_SET_DEVICE_STATE_FD] = {.handle = vh_h_set_device_state_fd},
    [VHOST_USER_CHECK_DEVICE_STATE] = {.handle = vh_h_check_device_state,
				       .form = VH_FORM_U64_STATUS},
    [VHOST_USER_GET_SHMEM_CONFIG] = {.handle = vh_h_get_shmem_config},
};

/* Every request of the spec has a row; code 0 has none. */
_Static_assert(VHOST_USER_MAX == VHOST_USER_GET_SHMEM_CONFIG + 1,
	       "a new request needs a row in vh_backend_table");
