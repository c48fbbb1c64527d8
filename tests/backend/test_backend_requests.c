/* SPDX-License-Identifier: MIT */
/*
 * Every front-end request reaches its callback with the decoded arguments
 * and fds, and the replies have the right size, flags and body. The test
 * plays the front-end with hand-built messages over a socketpair.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

static struct vhost_user_msg *rep;

static int setup(void **state)
{
	(void)state;
	t_log_capture();
	t_log_clear();
	rep = calloc(1, sizeof(*rep));
	return rep ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(rep);
	return 0;
}

/* A dispatcher with everything negotiated (the default offer). */
static struct tfe *ready(void)
{
	struct tfe *t = tfe_new(NULL, NULL);

	tfe_negotiate(t, t->cfg.features, t_all_pf());
	return t;
}

static void get_features_adds_protocol_features_bit(void **state)
{
	struct tfe *t = tfe_new(NULL, NULL);

	(void)state;
	assert_int_equal(tfe_get_features(t),
			 t->cfg.features |
			     T_VF(VHOST_USER_F_PROTOCOL_FEATURES));
	tfe_free(t);
}

/* The blocking entry point waits for the next message with no poll() and
 * gives -EAGAIN when none comes in time. */
static void handle_wait_times_out_then_handles_a_message(void **state)
{
	struct tfe *t = tfe_new(NULL, NULL);
	struct vhost_user_msg m;

	(void)state;
	assert_int_equal(vh_backend_handle_wait(t->b, 20), -EAGAIN);
	tfe_send(t, VHOST_USER_GET_FEATURES, VHOST_USER_VERSION, NULL, 0, NULL,
		 0);
	assert_int_equal(vh_backend_handle_wait(t->b, -1), 0);
	assert_int_equal(tfe_recv(t, &m, 1000), 0);
	assert_int_equal(m.hdr.request, VHOST_USER_GET_FEATURES);
	assert_int_equal(m.hdr.size, 8);
	tfe_free(t);
}

static void get_features_without_protocol_features_omits_bit_30(void **state)
{
	struct vh_backend_config cfg = t_default_cfg();
	struct tfe *t;

	(void)state;
	cfg.protocol_features = 0;
	t = tfe_new(&cfg, NULL);
	assert_int_equal(tfe_get_features(t), cfg.features);
	tfe_free(t);
}

static void get_protocol_features_drops_bits_without_callbacks(void **state)
{
	struct vh_backend_ops ops = t_rec_ops;
	struct vh_backend_config cfg = t_default_cfg();
	struct tfe *t;

	(void)state;
	ops.get_config = NULL;
	ops.get_status = NULL;
	cfg.protocol_features = VHOST_USER_PROTOCOL_F_KNOWN;
	t = tfe_new(&cfg, &ops);
	tfe_call(t, VHOST_USER_GET_PROTOCOL_FEATURES, 0, NULL, 0, NULL, 0, rep);
	assert_int_equal(rep->hdr.size, 8);
	assert_int_equal(rep->payload.u64, VHOST_USER_PROTOCOL_F_KNOWN &
					       ~T_PF(CONFIG) & ~T_PF(STATUS) &
					       ~T_PF(XEN_MMAP));
	tfe_free(t);
}

static void set_features_records_and_calls(void **state)
{
	struct tfe *t = tfe_new(NULL, NULL);
	uint64_t f =
	    T_VF(VIRTIO_F_VERSION_1) | T_VF(VHOST_USER_F_PROTOCOL_FEATURES);

	(void)state;
	tfe_cast(t, VHOST_USER_SET_FEATURES, 0, &f, 8, NULL, 0);
	assert_int_equal(t->rec.n[VHOST_USER_SET_FEATURES], 1);
	assert_int_equal(t->rec.u64, f);
	assert_int_equal(vh_backend_features(t->b), f);
	tfe_free(t);
}

static void set_protocol_features_records_and_calls(void **state)
{
	struct tfe *t = tfe_new(NULL, NULL);
	uint64_t pf = T_PF(MQ) | T_PF(CONFIG);

	(void)state;
	tfe_cast(t, VHOST_USER_SET_PROTOCOL_FEATURES, 0, &pf, 8, NULL, 0);
	assert_int_equal(t->rec.n[VHOST_USER_SET_PROTOCOL_FEATURES], 1);
	assert_int_equal(t->rec.u64, pf);
	assert_int_equal(vh_backend_protocol_features(t->b), pf);
	tfe_free(t);
}

static void get_queue_num_and_max_mem_slots_answer_config(void **state)
{
	struct tfe *t = ready();
	int calls = t->rec.calls;

	(void)state;
	tfe_call(t, VHOST_USER_GET_QUEUE_NUM, 0, NULL, 0, NULL, 0, rep);
	assert_int_equal(rep->hdr.size, 8);
	assert_int_equal(rep->payload.u64, 2);
	tfe_call(t, VHOST_USER_GET_MAX_MEM_SLOTS, 0, NULL, 0, NULL, 0, rep);
	assert_int_equal(rep->payload.u64, VHOST_USER_MAX_MEM_SLOTS);
	assert_int_equal(t->rec.calls, calls); /* answered by the dispatcher */
	tfe_free(t);
}

static void owner_requests_reach_callbacks(void **state)
{
	struct tfe *t = tfe_new(NULL, NULL);

	(void)state;
	tfe_cast(t, VHOST_USER_SET_OWNER, 0, NULL, 0, NULL, 0);
	tfe_cast(t, VHOST_USER_RESET_OWNER, 0, NULL, 0, NULL, 0);
	assert_int_equal(t->rec.n[VHOST_USER_SET_OWNER], 1);
	assert_int_equal(t->rec.n[VHOST_USER_RESET_OWNER], 1);
	tfe_free(t);
}

static void set_mem_table_hands_each_region_its_memfd(void **state)
{
	struct tfe *t = ready();
	struct vhost_user_mem_table mt = {.nregions = 2};
	int fds[2] = {t_memfd(0x2000), t_memfd(0x1000)};
	int before;

	(void)state;
	mt.regions[0] =
	    (struct vhost_user_mem_region){.guest_phys_addr = 0,
					   .memory_size = 0x2000,
					   .userspace_addr = 0x7f0000000000,
					   .mmap_offset = 0};
	mt.regions[1] =
	    (struct vhost_user_mem_region){.guest_phys_addr = 0x100000,
					   .memory_size = 0x1000,
					   .userspace_addr = 0x7f0000100000,
					   .mmap_offset = 0};
	t->rec.take_fds = true;
	before = t_count_fds();
	tfe_cast(t, VHOST_USER_SET_MEM_TABLE, 0, &mt,
		 VHOST_USER_MEM_TABLE_SIZE(2), fds, 2);
	assert_int_equal(t->rec.n[VHOST_USER_SET_MEM_TABLE], 1);
	assert_int_equal(t->rec.nregions, 2);
	assert_memory_equal(t->rec.regions, mt.regions, 2 * 32);
	assert_int_equal(t->rec.nkept, 2);
	/* The kept fds are the front-end's memfds, in region order. */
	t_assert_same_file(fds[0], t->rec.kept[0]);
	t_assert_same_file(fds[1], t->rec.kept[1]);
	assert_int_equal(t_count_fds(), before + 2);
	close(fds[0]);
	close(fds[1]);
	tfe_free(t);
}

static void fds_a_callback_leaves_are_closed(void **state)
{
	struct tfe *t = ready();
	struct vhost_user_mem_table mt = {.nregions = 1};
	int fd = t_memfd(0x1000);
	int before = t_count_fds();

	(void)state;
	mt.regions[0].memory_size = 0x1000;
	tfe_cast(t, VHOST_USER_SET_MEM_TABLE, 0, &mt,
		 VHOST_USER_MEM_TABLE_SIZE(1), &fd, 1);
	assert_int_equal(t->rec.n[VHOST_USER_SET_MEM_TABLE], 1);
	assert_true(t->rec.fd_seen[0] >= 0);
	assert_int_equal(t_count_fds(), before);
	close(fd);
	tfe_free(t);
}

static void add_and_rem_mem_reg_pass_the_region(void **state)
{
	struct tfe *t = ready();
	struct vhost_user_mem_reg reg = {.region = {.guest_phys_addr = 0x40000,
						    .memory_size = 0x1000,
						    .userspace_addr = 0x1000,
						    .mmap_offset = 0x2000}};
	int fd = t_memfd(0x3000);
	int before;

	(void)state;
	t->rec.take_fds = true;
	tfe_cast(t, VHOST_USER_ADD_MEM_REG, 0, &reg, sizeof(reg), &fd, 1);
	assert_int_equal(t->rec.n[VHOST_USER_ADD_MEM_REG], 1);
	assert_memory_equal(&t->rec.regions[0], &reg.region, 32);
	assert_int_equal(t->rec.nkept, 1);
	t_assert_same_file(fd, t->rec.kept[0]);

	/* REM_MEM_REG "MAY accept ... one file descriptor ... MUST close". */
	before = t_count_fds();
	tfe_cast(t, VHOST_USER_REM_MEM_REG, 0, &reg, sizeof(reg), &fd, 1);
	assert_int_equal(t->rec.n[VHOST_USER_REM_MEM_REG], 1);
	assert_int_equal(t_count_fds(), before);
	close(fd);
	tfe_free(t);
}

static void set_log_base_takes_memfd_and_replies_u64(void **state)
{
	struct tfe *t = ready();
	struct vhost_user_log log = {.mmap_size = 0x1000, .mmap_offset = 0};
	int fd = t_memfd(0x1000);

	(void)state;
	t->rec.take_fds = true;
	tfe_call(t, VHOST_USER_SET_LOG_BASE, 0, &log, sizeof(log), &fd, 1, rep);
	assert_int_equal(rep->hdr.size, 8);
	assert_int_equal(rep->payload.u64, 0);
	assert_int_equal(rep->nfds, 0);
	assert_memory_equal(&t->rec.log, &log, sizeof(log));
	t_assert_same_file(fd, t->rec.kept[0]);
	close(fd);
	tfe_free(t);
}

static void set_log_fd_passes_eventfd(void **state)
{
	struct tfe *t = ready();
	int fd = t_eventfd();

	(void)state;
	t->rec.take_fds = true;
	tfe_cast(t, VHOST_USER_SET_LOG_FD, 0, NULL, 0, &fd, 1);
	assert_int_equal(t->rec.n[VHOST_USER_SET_LOG_FD], 1);
	t_assert_same_eventfd(t->rec.kept[0], fd);
	close(fd);
	tfe_free(t);
}

static void vring_setup_requests_decode_their_payloads(void **state)
{
	struct tfe *t = ready();
	struct vhost_user_vring_state st = {.index = 1, .num = 256};
	struct vhost_user_vring_addr a = {.index = 1,
					  .flags = 0,
					  .desc_user_addr = 0x1000,
					  .used_user_addr = 0x3000,
					  .avail_user_addr = 0x2000,
					  .log_guest_addr = 0x4000};

	(void)state;
	tfe_cast(t, VHOST_USER_SET_VRING_NUM, 0, &st, sizeof(st), NULL, 0);
	assert_int_equal(t->rec.index, 1);
	assert_int_equal(t->rec.num, 256);
	tfe_cast(t, VHOST_USER_SET_VRING_ADDR, 0, &a, sizeof(a), NULL, 0);
	assert_memory_equal(&t->rec.addr, &a, sizeof(a));
	st.num = 0x80050003; /* packed: both wrap counters set */
	tfe_cast(t, VHOST_USER_SET_VRING_BASE, 0, &st, sizeof(st), NULL, 0);
	assert_int_equal(t->rec.num, 0x80050003);
	st = (struct vhost_user_vring_state){.index = 1, .num = 1};
	tfe_cast(t, VHOST_USER_SET_VRING_ENABLE, 0, &st, sizeof(st), NULL, 0);
	assert_true(t->rec.flag);
	st.num = 0;
	tfe_cast(t, VHOST_USER_SET_VRING_ENDIAN, 0, &st, sizeof(st), NULL, 0);
	assert_false(t->rec.flag);
	tfe_cast(t, VHOST_USER_VRING_KICK, 0, &st, sizeof(st), NULL, 0);
	assert_int_equal(t->rec.n[VHOST_USER_VRING_KICK], 1);
	assert_int_equal(t->rec.index, 1);
	tfe_free(t);
}

/* GET_VRING_BASE of ring 1 with @num in the request: index and base. */
static void check_get_vring_base(uint32_t num)
{
	struct tfe *t = ready();
	struct vhost_user_vring_state st = {.index = 1, .num = num};

	tfe_call(t, VHOST_USER_GET_VRING_BASE, 0, &st, sizeof(st), NULL, 0,
		 rep);
	assert_int_equal(rep->hdr.size, 8);
	assert_int_equal(rep->payload.state.index, 1);
	assert_int_equal(rep->payload.state.num, 0x1235);
	tfe_free(t);
}

static void get_vring_base_replies_index_and_base(void **state)
{
	(void)state;
	check_get_vring_base(0);
}

/* The reserved num is ignored (lib/backend/table.c: DPDK 22.11 sends the
 * previous ring's base there at port stop). */
static void get_vring_base_ignores_a_reserved_num(void **state)
{
	(void)state;
	check_get_vring_base(0x8000);
}

static void vring_kick_call_err_pass_working_eventfds(void **state)
{
	static const uint32_t reqs[] = {VHOST_USER_SET_VRING_KICK,
					VHOST_USER_SET_VRING_CALL,
					VHOST_USER_SET_VRING_ERR};
	struct tfe *t = ready();
	unsigned i;

	(void)state;
	t->rec.take_fds = true;
	for (i = 0; i < 3; i++) {
		uint64_t u64 = 1; /* ring 1, fd present */
		int fd = t_eventfd();

		tfe_cast(t, reqs[i], 0, &u64, 8, &fd, 1);
		assert_int_equal(t->rec.n[reqs[i]], 1);
		assert_int_equal(t->rec.index, 1);
		assert_int_equal(t->rec.nkept, i + 1);
		/* kick: the front-end writes; call/err: the back-end does. */
		if (i == 0)
			t_assert_same_eventfd(fd, t->rec.kept[i]);
		else
			t_assert_same_eventfd(t->rec.kept[i], fd);
		close(fd);
	}
	tfe_free(t);
}

static void vring_kick_with_nofd_passes_minus_one(void **state)
{
	struct tfe *t = ready();
	uint64_t u64 = VHOST_USER_VRING_NOFD_MASK | 0;

	(void)state;
	tfe_cast(t, VHOST_USER_SET_VRING_KICK, 0, &u64, 8, NULL, 0);
	assert_int_equal(t->rec.n[VHOST_USER_SET_VRING_KICK], 1);
	assert_int_equal(t->rec.nfd_seen, 1);
	assert_int_equal(t->rec.fd_seen[0], -1);
	tfe_free(t);
}

static void highest_ring_index_is_accepted(void **state)
{
	struct vh_backend_config cfg = t_default_cfg();
	struct vhost_user_vring_state st = {.index = 0x7fff, .num = 128};
	struct tfe *t;

	(void)state;
	cfg.num_queues = VHOST_USER_MAX_VRINGS;
	t = tfe_new(&cfg, NULL);
	tfe_cast(t, VHOST_USER_SET_VRING_NUM, 0, &st, sizeof(st), NULL, 0);
	assert_int_equal(t->rec.index, 0x7fff);
	tfe_free(t);
}

static void get_config_replies_with_device_bytes(void **state)
{
	struct tfe *t = ready();
	struct vhost_user_config cfg = {.hdr = {.offset = 8, .size = 20}};
	unsigned i;

	(void)state;
	tfe_call(t, VHOST_USER_GET_CONFIG, 0, &cfg, 12 + 20, NULL, 0, rep);
	assert_int_equal(rep->hdr.size, 12 + 20);
	assert_int_equal(rep->payload.config.hdr.offset, 8);
	assert_int_equal(rep->payload.config.hdr.size, 20);
	for (i = 0; i < 20; i++)
		assert_int_equal(rep->payload.config.region[i], 8 + i + 1);
	assert_int_equal(t->rec.cfg_off, 8);
	tfe_free(t);
}

static void set_config_passes_bytes_and_flags(void **state)
{
	struct tfe *t = ready();
	struct vhost_user_config cfg = {
	    .hdr = {.offset = 4,
		    .size = 4,
		    .flags = VHOST_USER_CONFIG_FLAG_MIGRATION},
	    .region = {1, 2, 3, 4}};

	(void)state;
	tfe_cast(t, VHOST_USER_SET_CONFIG, 0, &cfg, 16, NULL, 0);
	assert_int_equal(t->rec.cfg_off, 4);
	assert_int_equal(t->rec.cfg_flags, 1);
	assert_memory_equal(t->rec.cfg_buf, cfg.region, 4);
	tfe_free(t);
}

static void net_requests_decode_mac_and_mtu(void **state)
{
	struct tfe *t = ready();
	uint8_t mac[8] = {0x52, 0x54, 0, 0x12, 0x34, 0x56, 0xee, 0xee};
	uint64_t mtu = 9000;

	(void)state;
	tfe_cast(t, VHOST_USER_SEND_RARP, 0, mac, 8, NULL, 0);
	assert_memory_equal(t->rec.mac, mac, 6);
	tfe_cast(t, VHOST_USER_NET_SET_MTU, 0, &mtu, 8, NULL, 0);
	assert_int_equal(t->rec.mtu, 9000);
	tfe_free(t);
}

static void iotlb_msg_reaches_callback_when_access_platform_acked(void **state)
{
	struct tfe *t = ready();
	struct vhost_user_iotlb m = {.iova = 0x1000,
				     .size = 0x1000,
				     .uaddr = 0x7f0000000000,
				     .perm = VHOST_USER_IOTLB_RW,
				     .type = VHOST_USER_IOTLB_UPDATE};

	(void)state;
	/* QEMU always sets NEED_REPLY on IOTLB_MSG (REPLY_ACK is on). */
	tfe_call(t, VHOST_USER_IOTLB_MSG, T_NEED_REPLY, &m, sizeof(m), NULL, 0,
		 rep);
	assert_int_equal(rep->hdr.size, 8);
	assert_int_equal(rep->payload.u64, 0);
	assert_memory_equal(&t->rec.iotlb, &m, sizeof(m));
	tfe_free(t);
}

static void crypto_session_reply_is_request_sized(void **state)
{
	struct tfe *t = ready();
	uint8_t sess[64] = {0};
	int64_t id;
	uint64_t close_id = 77;

	(void)state;
	tfe_call(t, VHOST_USER_CREATE_CRYPTO_SESSION, 0, sess, sizeof(sess),
		 NULL, 0, rep);
	assert_int_equal(rep->hdr.size, sizeof(sess));
	assert_int_equal(t->rec.crypto_in_len, sizeof(sess));
	memcpy(&id, rep->payload.raw + sizeof(sess) - 8, 8);
	assert_int_equal(id, 77);
	tfe_cast(t, VHOST_USER_CLOSE_CRYPTO_SESSION, 0, &close_id, 8, NULL, 0);
	assert_int_equal(t->rec.u64, 77);
	tfe_free(t);
}

static void crypto_session_failure_replies_negative_id(void **state)
{
	struct tfe *t = ready();
	uint8_t sess[64] = {0};
	int64_t first, last;

	(void)state;
	t->rec.ret[VHOST_USER_CREATE_CRYPTO_SESSION] = -EINVAL;
	tfe_call(t, VHOST_USER_CREATE_CRYPTO_SESSION, 0, sess, sizeof(sess),
		 NULL, 0, rep);
	assert_int_equal(rep->hdr.size, sizeof(sess));
	memcpy(&first, rep->payload.raw, 8);
	memcpy(&last, rep->payload.raw + sizeof(sess) - 8, 8);
	assert_int_equal(first, -1);
	assert_int_equal(last, -1);
	tfe_free(t);
}

static void postcopy_requests_reply_as_the_spec_says(void **state)
{
	struct tfe *t = ready();

	(void)state;
	t->rec.give_fd = true;
	tfe_call(t, VHOST_USER_POSTCOPY_ADVISE, 0, NULL, 0, NULL, 0, rep);
	assert_int_equal(rep->hdr.size, 0);
	assert_int_equal(rep->nfds, 1);
	t_assert_same_file(t->rec.given_fd, rep->fds[0]);
	vh_msg_close_fds(rep);
	tfe_cast(t, VHOST_USER_POSTCOPY_LISTEN, 0, NULL, 0, NULL, 0);
	tfe_call(t, VHOST_USER_POSTCOPY_END, 0, NULL, 0, NULL, 0, rep);
	assert_int_equal(rep->hdr.size, 8);
	assert_int_equal(rep->payload.u64, 0);
	assert_int_equal(t->rec.n[VHOST_USER_POSTCOPY_LISTEN], 1);
	tfe_free(t);
}

static void get_inflight_fd_replies_description_and_memfd(void **state)
{
	struct tfe *t = ready();
	struct vhost_user_inflight in = {.num_queues = 2, .queue_size = 128};

	(void)state;
	t->rec.give_fd = true;
	tfe_call(t, VHOST_USER_GET_INFLIGHT_FD, 0, &in, sizeof(in), NULL, 0,
		 rep);
	assert_int_equal(rep->hdr.size, sizeof(in));
	assert_int_equal(rep->payload.inflight.mmap_size, 4096);
	assert_int_equal(rep->payload.inflight.num_queues, 2);
	assert_int_equal(rep->nfds, 1);
	t_assert_same_file(t->rec.given_fd, rep->fds[0]);
	vh_msg_close_fds(rep);
	tfe_free(t);
}

static void get_inflight_fd_failure_replies_empty_area(void **state)
{
	struct tfe *t = ready();
	struct vhost_user_inflight in = {.num_queues = 2, .queue_size = 128};
	int before = t_count_fds();

	(void)state;
	t->rec.give_fd = true;
	t->rec.ret[VHOST_USER_GET_INFLIGHT_FD] = -ENOMEM;
	tfe_call(t, VHOST_USER_GET_INFLIGHT_FD, 0, &in, sizeof(in), NULL, 0,
		 rep);
	assert_int_equal(rep->hdr.size, sizeof(in));
	assert_int_equal(rep->payload.inflight.mmap_size, 0);
	assert_int_equal(rep->nfds, 0);
	/* The fd the failing callback handed back was closed (the test's
	 * dup is the one extra). */
	assert_int_equal(t_count_fds(), before + 1);
	tfe_free(t);
}

static void set_inflight_fd_and_gpu_socket_pass_their_fd(void **state)
{
	struct tfe *t = ready();
	struct vhost_user_inflight in = {
	    .mmap_size = 4096, .num_queues = 2, .queue_size = 128};
	int fd = t_memfd(4096);

	(void)state;
	t->rec.take_fds = true;
	tfe_cast(t, VHOST_USER_SET_INFLIGHT_FD, 0, &in, sizeof(in), &fd, 1);
	assert_memory_equal(&t->rec.inflight, &in, sizeof(in));
	t_assert_same_file(fd, t->rec.kept[0]);
	tfe_cast(t, VHOST_USER_GPU_SET_SOCKET, 0, NULL, 0, &fd, 1);
	assert_int_equal(t->rec.n[VHOST_USER_GPU_SET_SOCKET], 1);
	t_assert_same_file(fd, t->rec.kept[1]);
	close(fd);
	tfe_free(t);
}

static void reset_and_status_requests(void **state)
{
	struct tfe *t = ready();
	uint64_t status = 0x0f;

	(void)state;
	tfe_cast(t, VHOST_USER_RESET_DEVICE, 0, NULL, 0, NULL, 0);
	assert_int_equal(t->rec.n[VHOST_USER_RESET_DEVICE], 1);
	tfe_cast(t, VHOST_USER_SET_STATUS, 0, &status, 8, NULL, 0);
	assert_int_equal(t->rec.status, 0x0f);
	tfe_call(t, VHOST_USER_GET_STATUS, 0, NULL, 0, NULL, 0, rep);
	assert_int_equal(rep->hdr.size, 8);
	assert_int_equal(rep->payload.u64, 0x0f);
	tfe_free(t);
}

static void get_shared_object_found_replies_dmabuf_fd(void **state)
{
	struct tfe *t = ready();
	struct vhost_user_shared uuid = {.uuid = {1, 2, 3, 4, 5, 6, 7, 8}};

	(void)state;
	t->rec.give_fd = true;
	tfe_call(t, VHOST_USER_GET_SHARED_OBJECT, 0, &uuid, sizeof(uuid), NULL,
		 0, rep);
	assert_int_equal(rep->hdr.size, sizeof(uuid));
	assert_int_equal(rep->nfds, 1);
	assert_memory_equal(&t->rec.uuid, &uuid, sizeof(uuid));
	t_assert_same_file(t->rec.given_fd, rep->fds[0]);
	vh_msg_close_fds(rep);
	tfe_free(t);
}

static void get_shared_object_not_found_replies_without_fd(void **state)
{
	struct tfe *t = ready();
	struct vhost_user_shared zero = {{0}};

	(void)state;
	/* QEMU sends no UUID at all: accepted, the UUID reads as zero. */
	tfe_call(t, VHOST_USER_GET_SHARED_OBJECT, 0, NULL, 0, NULL, 0, rep);
	assert_int_equal(rep->hdr.size, 0);
	assert_int_equal(rep->nfds, 0);
	assert_memory_equal(&t->rec.uuid, &zero, sizeof(zero));
	tfe_free(t);
}

static void device_state_fd_reply_flags_nofd(void **state)
{
	struct tfe *t = ready();
	struct vhost_user_transfer_state ts = {.direction = 1, .phase = 0};
	int fd = t_memfd(16);

	(void)state;
	tfe_call(t, VHOST_USER_SET_DEVICE_STATE_FD, 0, &ts, sizeof(ts), &fd, 1,
		 rep);
	assert_int_equal(rep->hdr.size, 8);
	assert_int_equal(rep->payload.u64, VHOST_USER_VRING_NOFD_MASK);
	assert_int_equal(rep->nfds, 0);
	assert_int_equal(t->rec.direction, 1);

	t->rec.give_fd = true; /* the back-end offers its own channel */
	tfe_call(t, VHOST_USER_SET_DEVICE_STATE_FD, 0, &ts, sizeof(ts), &fd, 1,
		 rep);
	assert_int_equal(rep->payload.u64, 0);
	assert_int_equal(rep->nfds, 1);
	t_assert_same_file(t->rec.given_fd, rep->fds[0]);
	vh_msg_close_fds(rep);

	t->rec.ret[VHOST_USER_SET_DEVICE_STATE_FD] = -EIO;
	tfe_call(t, VHOST_USER_SET_DEVICE_STATE_FD, 0, &ts, sizeof(ts), &fd, 1,
		 rep);
	assert_true(rep->payload.u64 & 0xff);
	assert_true(rep->payload.u64 & VHOST_USER_VRING_NOFD_MASK);
	assert_int_equal(rep->nfds, 0);
	close(fd);
	tfe_free(t);
}

static void check_device_state_replies_status(void **state)
{
	struct tfe *t = ready();

	(void)state;
	tfe_call(t, VHOST_USER_CHECK_DEVICE_STATE, 0, NULL, 0, NULL, 0, rep);
	assert_int_equal(rep->payload.u64, 0);
	t->rec.ret[VHOST_USER_CHECK_DEVICE_STATE] = -EIO;
	tfe_call(t, VHOST_USER_CHECK_DEVICE_STATE, 0, NULL, 0, NULL, 0, rep);
	assert_int_equal(rep->payload.u64, EIO);
	tfe_free(t);
}

static void get_shmem_config_replies_whole_structure(void **state)
{
	struct tfe *t = ready();

	(void)state;
	tfe_call(t, VHOST_USER_GET_SHMEM_CONFIG, 0, NULL, 0, NULL, 0, rep);
	assert_int_equal(rep->hdr.size, sizeof(struct vhost_user_shmem_config));
	assert_int_equal(rep->payload.shmem.nregions, 2);
	assert_int_equal(rep->payload.shmem.memory_sizes[1], 0x200000);
	tfe_free(t);
}

static void set_backend_req_fd_keeps_channel_and_notifies(void **state)
{
	int outer = t_count_fds();
	struct tfe *t = ready();
	int sv[2];
	int before;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
			 0);
	before = t_count_fds();
	tfe_cast(t, VHOST_USER_SET_BACKEND_REQ_FD, 0, NULL, 0, &sv[1], 1);
	assert_int_equal(t->rec.channel_ready, 1);
	/* The dispatcher kept its copy of the channel. */
	assert_int_equal(t_count_fds(), before + 1);
	close(sv[1]);
	close(sv[0]);
	tfe_free(t); /* closes the channel too */
	assert_int_equal(t_count_fds(), outer);
}

static void every_reply_matches_the_proto_reply_shape(void **state)
{
	struct tfe *t = ready();
	struct vhost_user_config cfg = {.hdr = {.offset = 0, .size = 60}};
	struct vhost_user_vring_state st = {.index = 0, .num = 0};

	(void)state;
	tfe_call(t, VHOST_USER_GET_CONFIG, 0, &cfg, 72, NULL, 0, rep);
	assert_int_equal(
	    vh_proto_check_reply_shape(
		vh_proto_request_shape(VHOST_USER_GET_CONFIG), 72, rep),
	    0);
	tfe_call(t, VHOST_USER_GET_VRING_BASE, 0, &st, 8, NULL, 0, rep);
	assert_int_equal(
	    vh_proto_check_reply_shape(
		vh_proto_request_shape(VHOST_USER_GET_VRING_BASE), 8, rep),
	    0);
	tfe_call(t, VHOST_USER_GET_STATUS, 0, NULL, 0, NULL, 0, rep);
	assert_int_equal(
	    vh_proto_check_reply_shape(
		vh_proto_request_shape(VHOST_USER_GET_STATUS), 0, rep),
	    0);
	tfe_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(get_features_adds_protocol_features_bit),
	    cmocka_unit_test(handle_wait_times_out_then_handles_a_message),
	    cmocka_unit_test(
		get_features_without_protocol_features_omits_bit_30),
	    cmocka_unit_test(
		get_protocol_features_drops_bits_without_callbacks),
	    cmocka_unit_test(set_features_records_and_calls),
	    cmocka_unit_test(set_protocol_features_records_and_calls),
	    cmocka_unit_test(get_queue_num_and_max_mem_slots_answer_config),
	    cmocka_unit_test(owner_requests_reach_callbacks),
	    cmocka_unit_test(set_mem_table_hands_each_region_its_memfd),
	    cmocka_unit_test(fds_a_callback_leaves_are_closed),
	    cmocka_unit_test(add_and_rem_mem_reg_pass_the_region),
	    cmocka_unit_test(set_log_base_takes_memfd_and_replies_u64),
	    cmocka_unit_test(set_log_fd_passes_eventfd),
	    cmocka_unit_test(vring_setup_requests_decode_their_payloads),
	    cmocka_unit_test(get_vring_base_replies_index_and_base),
	    cmocka_unit_test(get_vring_base_ignores_a_reserved_num),
	    cmocka_unit_test(vring_kick_call_err_pass_working_eventfds),
	    cmocka_unit_test(vring_kick_with_nofd_passes_minus_one),
	    cmocka_unit_test(highest_ring_index_is_accepted),
	    cmocka_unit_test(get_config_replies_with_device_bytes),
	    cmocka_unit_test(set_config_passes_bytes_and_flags),
	    cmocka_unit_test(net_requests_decode_mac_and_mtu),
	    cmocka_unit_test(
		iotlb_msg_reaches_callback_when_access_platform_acked),
	    cmocka_unit_test(crypto_session_reply_is_request_sized),
	    cmocka_unit_test(crypto_session_failure_replies_negative_id),
	    cmocka_unit_test(postcopy_requests_reply_as_the_spec_says),
	    cmocka_unit_test(get_inflight_fd_replies_description_and_memfd),
	    cmocka_unit_test(get_inflight_fd_failure_replies_empty_area),
	    cmocka_unit_test(set_inflight_fd_and_gpu_socket_pass_their_fd),
	    cmocka_unit_test(reset_and_status_requests),
	    cmocka_unit_test(get_shared_object_found_replies_dmabuf_fd),
	    cmocka_unit_test(get_shared_object_not_found_replies_without_fd),
	    cmocka_unit_test(device_state_fd_reply_flags_nofd),
	    cmocka_unit_test(check_device_state_replies_status),
	    cmocka_unit_test(get_shmem_config_replies_whole_structure),
	    cmocka_unit_test(set_backend_req_fd_keeps_channel_and_notifies),
	    cmocka_unit_test(every_reply_matches_the_proto_reply_shape),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
