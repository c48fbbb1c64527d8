/* SPDX-License-Identifier: MIT */
/*
 * Front-end requests (vhost-user.rst "Front-end message types") about
 * features, ownership, memory, dirty logging and vrings, and REPLY_ACK,
 * from our front-end to our back-end dispatcher over a socketpair, each
 * checked at the device callback; fds checked by using them (eventfds
 * signalled, memfds written through one side and read through the other).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fe_test.h"

#define ALL_FEATURES UINT64_MAX

static void negotiation_records_features_on_both_sides(void **state)
{
	struct fixture fx;
	uint64_t offered, pf;

	(void)state;
	fixture_start(&fx, TDEV_ALL_PF);
	assert_int_equal(vh_frontend_set_owner(fx.f), 0);
	assert_int_equal(vh_frontend_get_features(fx.f, &offered), 0);
	assert_int_equal(offered & TDEV_FEATURES, TDEV_FEATURES);
	assert_true(vh_virtio_has(offered, VH_VHOST_USER_F_PROTOCOL_FEATURES));
	assert_int_equal(vh_frontend_offered_features(fx.f), offered);
	assert_int_equal(vh_frontend_get_protocol_features(fx.f, &pf), 0);
	assert_int_equal(pf, TDEV_ALL_PF);
	assert_int_equal(
	    vh_frontend_set_protocol_features(
		fx.f, vh_protocol_feature_mask(VHOST_USER_PROTOCOL_F_MQ)),
	    0);
	assert_int_equal(vh_frontend_set_features(fx.f, offered), 0);
	fixture_sync(&fx);
	assert_int_equal(tdev_calls(&fx.dev, VHOST_USER_SET_OWNER), 1);
	assert_int_equal(vh_backend_features(fx.b), offered);
	assert_int_equal(vh_backend_protocol_features(fx.b),
			 vh_protocol_feature_mask(VHOST_USER_PROTOCOL_F_MQ));
	assert_int_equal(vh_frontend_acked_features(fx.f), offered);
	assert_int_equal(vh_frontend_protocol_features(fx.f),
			 vh_protocol_feature_mask(VHOST_USER_PROTOCOL_F_MQ));
	/* Beyond what was offered: refused locally. */
	assert_int_equal(vh_frontend_set_features(fx.f, UINT64_C(1) << 63),
			 -EINVAL);
	assert_int_equal(
	    vh_frontend_set_protocol_features(fx.f, UINT64_C(1) << 40),
	    -EINVAL);
	assert_int_equal(vh_frontend_reset_owner(fx.f), 0);
	fixture_sync(&fx);
	assert_int_equal(tdev_calls(&fx.dev, VHOST_USER_RESET_OWNER), 1);
	assert_false(vh_frontend_is_broken(fx.f));
	assert_int_equal(fixture_stop(&fx), -ECONNRESET);
}

static void mem_table_memfds_are_shared_with_the_backend(void **state)
{
	struct fixture fx;
	struct vhost_user_mem_region r[2] = {
	    {.guest_phys_addr = 0,
	     .memory_size = 0x10000,
	     .userspace_addr = 0x7f0000000000,
	     .mmap_offset = 0},
	    {.guest_phys_addr = 0x100000,
	     .memory_size = 0x10000,
	     .userspace_addr = 0x7f0000100000,
	     .mmap_offset = 0x1000},
	};
	int fds[2];
	uint8_t *mine, *theirs;

	(void)state;
	fixture_start(&fx, TDEV_ALL_PF);
	fds[0] = make_memfd(0x10000);
	fds[1] = make_memfd(0x11000);
	fixture_negotiate(&fx, TDEV_ALL_PF, ALL_FEATURES);
	mine = map_fd(fds[1], 0x11000);
	memcpy(mine + 0x1000, "front", 6);
	assert_int_equal(vh_frontend_set_mem_table(fx.f, r, 2, fds), 0);
	fixture_sync(&fx);
	assert_int_equal(fx.dev.nregions, 2);
	assert_memory_equal(fx.dev.regions, r, sizeof(r));
	assert_true(same_file(fx.dev.mem_fds[0], fds[0]));
	/* Write through the back-end's mapping, read through ours. */
	theirs = map_fd(fx.dev.mem_fds[1], 0x11000);
	assert_string_equal((char *)theirs + 0x1000, "front");
	memcpy(theirs + 0x1000, "back", 5);
	assert_string_equal((char *)mine + 0x1000, "back");
	munmap(theirs, 0x11000);
	munmap(mine, 0x11000);
	/* A broken table is refused before anything is sent. */
	r[1].guest_phys_addr = 0x8000; /* overlaps region 0 */
	assert_int_equal(vh_frontend_set_mem_table(fx.f, r, 2, fds), -EINVAL);
	assert_int_equal(vh_frontend_set_mem_table(fx.f, r, 0, fds), -EINVAL);
	close(fds[0]);
	close(fds[1]);
	assert_int_equal(tdev_calls(&fx.dev, VHOST_USER_SET_MEM_TABLE), 1);
	fixture_stop(&fx);
}

static void add_and_remove_a_memory_region(void **state)
{
	struct fixture fx;
	struct vhost_user_mem_region r = {.guest_phys_addr = 0x200000,
					  .memory_size = 0x1000,
					  .userspace_addr = 0x10000};
	int fd;

	(void)state;
	fixture_start(&fx, TDEV_ALL_PF);
	fd = make_memfd(0x1000);
	fixture_negotiate(&fx, TDEV_ALL_PF, ALL_FEATURES);
	assert_int_equal(vh_frontend_add_mem_reg(fx.f, &r, fd), 0);
	assert_int_equal(vh_frontend_rem_mem_reg(fx.f, &r), 0);
	fixture_sync(&fx);
	assert_memory_equal(&fx.dev.reg, &r, sizeof(r));
	assert_true(same_file(fx.dev.reg_fd, fd));
	assert_memory_equal(&fx.dev.rem, &r, sizeof(r));
	assert_int_equal(vh_frontend_add_mem_reg(fx.f, &r, -1), -EBADF);
	close(fd);
	fixture_stop(&fx);
}

static void dirty_log_base_and_log_fd(void **state)
{
	struct fixture fx;
	struct vhost_user_log log = {.mmap_size = 0x2000,
				     .mmap_offset = 0x1000};
	int shm, ev;
	uint8_t *mine, *theirs;

	(void)state;
	fixture_start(&fx, TDEV_ALL_PF);
	shm = make_memfd(0x3000);
	ev = make_eventfd();
	fixture_negotiate(&fx, TDEV_ALL_PF, ALL_FEATURES);
	assert_int_equal(vh_frontend_set_log_base(fx.f, &log, shm), 0);
	assert_int_equal(vh_frontend_set_log_fd(fx.f, ev), 0);
	fixture_sync(&fx);
	assert_memory_equal(&fx.dev.log, &log, sizeof(log));
	theirs = map_fd(fx.dev.log_fd, 0x3000);
	mine = map_fd(shm, 0x3000);
	theirs[0x1000] = 0x81; /* the back-end dirties pages 0 and 7 */
	assert_int_equal(mine[0x1000], 0x81);
	munmap(theirs, 0x3000);
	munmap(mine, 0x3000);
	assert_eventfd_linked(fx.dev.log_ev_fd, ev);
	close(shm);
	close(ev);
	fixture_stop(&fx);
}

static void dirty_log_base_needs_log_shmfd(void **state)
{
	struct fixture fx;
	struct vhost_user_log log = {.mmap_size = 0x2000};
	int shm;

	(void)state;
	fixture_start(&fx, TDEV_ALL_PF);
	shm = make_memfd(0x2000);
	fixture_negotiate(&fx, 0, ALL_FEATURES);
	assert_int_equal(vh_frontend_set_log_base(fx.f, &log, shm),
			 -EOPNOTSUPP);
	assert_false(vh_frontend_is_broken(fx.f));
	close(shm);
	fixture_stop(&fx);
}

static void vring_setup_and_stop(void **state)
{
	struct fixture fx;
	struct vhost_user_vring_addr a = {.index = 1,
					  .desc_user_addr = 0x10000,
					  .used_user_addr = 0x12000,
					  .avail_user_addr = 0x11000};
	uint32_t base;

	(void)state;
	fixture_start(&fx, TDEV_ALL_PF);
	fixture_negotiate(&fx, TDEV_ALL_PF, ALL_FEATURES);
	assert_int_equal(vh_frontend_set_vring_num(fx.f, 1, 256), 0);
	assert_int_equal(vh_frontend_set_vring_addr(fx.f, &a), 0);
	assert_int_equal(vh_frontend_set_vring_base(fx.f, 1, 5), 0);
	assert_int_equal(vh_frontend_set_vring_enable(fx.f, 1, true), 0);
	assert_int_equal(vh_frontend_set_vring_endian(fx.f, 1, true), 0);
	assert_int_equal(vh_frontend_vring_kick(fx.f, 1), 0);
	assert_int_equal(vh_frontend_get_vring_base(fx.f, 1, &base), 0);
	assert_int_equal(base, 5 + 7);
	assert_int_equal(fx.dev.num[1], 256);
	assert_memory_equal(&fx.dev.addr, &a, sizeof(a));
	assert_true(fx.dev.enabled[1]);
	assert_true(fx.dev.big_endian[1]);
	assert_int_equal(fx.dev.inband_kicked, 1u << 1);
	/* Misaligned ring addresses are refused locally. */
	a.used_user_addr = 0x12002;
	assert_int_equal(vh_frontend_set_vring_addr(fx.f, &a), -EINVAL);
	assert_int_equal(vh_frontend_set_vring_num(fx.f, 0x8000, 1), -ERANGE);
	fixture_stop(&fx);
}

static void vring_kick_call_err_eventfds_reach_the_backend(void **state)
{
	struct fixture fx;
	int kick, call, err;

	(void)state;
	fixture_start(&fx, TDEV_ALL_PF);
	kick = make_eventfd();
	call = make_eventfd();
	err = make_eventfd();
	fixture_negotiate(&fx, TDEV_ALL_PF, ALL_FEATURES);
	assert_int_equal(vh_frontend_set_vring_kick(fx.f, 2, kick), 0);
	assert_int_equal(vh_frontend_set_vring_call(fx.f, 2, call), 0);
	assert_int_equal(vh_frontend_set_vring_err(fx.f, 2, err), 0);
	assert_int_equal(vh_frontend_set_vring_kick(fx.f, 3, -1), 0);
	fixture_sync(&fx);
	assert_eventfd_linked(kick, fx.dev.kick[2]); /* we kick, it hears */
	assert_eventfd_linked(fx.dev.call[2], call); /* it calls, we hear */
	assert_eventfd_linked(fx.dev.err[2], err);
	assert_int_equal(fx.dev.kick[3], -1); /* NOFD: poll */
	/* The u64 carries 8 bits of ring index. */
	assert_int_equal(vh_frontend_set_vring_call(fx.f, 256, call), -ERANGE);
	close(kick);
	close(call);
	close(err);
	fixture_stop(&fx);
}

static void queue_num_and_max_mem_slots(void **state)
{
	struct fixture fx;
	uint64_t n;

	(void)state;
	fixture_start(&fx, TDEV_ALL_PF);
	fixture_negotiate(&fx, TDEV_ALL_PF, ALL_FEATURES);
	assert_int_equal(vh_frontend_get_queue_num(fx.f, &n), 0);
	assert_int_equal(n, TDEV_QUEUES);
	assert_int_equal(vh_frontend_get_max_mem_slots(fx.f, &n), 0);
	assert_int_equal(n, TDEV_MEM_SLOTS);
	fixture_stop(&fx);
}

static void requests_gated_by_protocol_features_are_refused_locally(void **st)
{
	struct fixture fx;
	uint64_t n;
	uint8_t buf[8], status;

	(void)st;
	fixture_start(&fx, TDEV_ALL_PF);
	fixture_negotiate(&fx, 0, ALL_FEATURES);
	assert_int_equal(vh_frontend_get_queue_num(fx.f, &n), -EOPNOTSUPP);
	assert_int_equal(vh_frontend_get_max_mem_slots(fx.f, &n), -EOPNOTSUPP);
	assert_int_equal(vh_frontend_get_config(fx.f, 0, 8, 0, buf),
			 -EOPNOTSUPP);
	assert_int_equal(vh_frontend_get_status(fx.f, &status), -EOPNOTSUPP);
	assert_int_equal(vh_frontend_reset_device(fx.f), -EOPNOTSUPP);
	assert_int_equal(vh_frontend_vring_kick(fx.f, 0), -EOPNOTSUPP);
	assert_int_equal(vh_frontend_check_device_state(fx.f), -EOPNOTSUPP);
	assert_int_equal(vh_frontend_ack_next(fx.f), -EOPNOTSUPP);
	/* Nothing was sent: the connection is in step. */
	assert_false(vh_frontend_is_broken(fx.f));
	fixture_sync(&fx);
	assert_int_equal(tdev_calls(&fx.dev, VHOST_USER_GET_CONFIG), 0);
	assert_int_equal(fixture_stop(&fx), -ECONNRESET);
}

static void vring_enable_needs_protocol_features_in_use(void **state)
{
	struct fixture fx;
	uint64_t offered;

	(void)state;
	fixture_start(&fx, TDEV_ALL_PF);
	assert_int_equal(vh_frontend_get_features(fx.f, &offered), 0);
	/* Acknowledging without bit 30: the back-end enables rings itself. */
	assert_int_equal(
	    vh_frontend_set_features(
		fx.f, offered & ~vh_virtio_feature_mask(
				    VH_VHOST_USER_F_PROTOCOL_FEATURES)),
	    0);
	assert_int_equal(vh_frontend_set_vring_enable(fx.f, 0, true),
			 -EOPNOTSUPP);
	fixture_stop(&fx);
}

static void ack_always_turns_a_callback_failure_into_eio(void **state)
{
	struct fixture fx;

	(void)state;
	fixture_start(&fx, TDEV_ALL_PF);
	fixture_negotiate(&fx, TDEV_ALL_PF, ALL_FEATURES);
	vh_frontend_set_ack_always(fx.f, true);
	assert_int_equal(vh_frontend_set_vring_num(fx.f, 0, 64), 0);
	tdev_fail_next(&fx.dev, VHOST_USER_SET_VRING_NUM, -EINVAL);
	assert_int_equal(vh_frontend_set_vring_num(fx.f, 0, 128), -EIO);
	/* The nack is an answer, not a broken stream. */
	assert_false(vh_frontend_is_broken(fx.f));
	assert_int_equal(vh_frontend_set_vring_num(fx.f, 0, 256), 0);
	assert_int_equal(fx.dev.num[0], 256);
	fixture_stop(&fx);
}

/* With acks asked for, each request returns only once handled: its
 * callback has run when the call returns, no round trip needed. */
static void every_request_without_a_reply_is_acked_when_asked(void **state)
{
	struct fixture fx;
	struct vhost_user_mem_region r = {.memory_size = 0x1000,
					  .userspace_addr = 0x1000};
	struct vhost_user_vring_addr a = {.index = 0,
					  .desc_user_addr = 0x1000,
					  .avail_user_addr = 0x2000,
					  .used_user_addr = 0x3000};
	struct vhost_user_inflight in = {
	    .mmap_size = 4096, .num_queues = 1, .queue_size = 8};
	struct vhost_user_iotlb m = {.iova = 0x1000,
				     .size = 0x1000,
				     .uaddr = 0x1000,
				     .perm = VHOST_USER_IOTLB_RW,
				     .type = VHOST_USER_IOTLB_UPDATE};
	const uint8_t mac[6] = {2, 0, 0, 0, 0, 1}, cfg[2] = {1, 2};
	uint64_t offered;
	int mem, ev;

	(void)state;
	fixture_start(&fx, TDEV_ALL_PF);
	mem = make_memfd(0x1000);
	ev = make_eventfd();
	assert_int_equal(vh_frontend_get_features(fx.f, &offered), 0);
	assert_int_equal(vh_frontend_get_protocol_features(fx.f, NULL), 0);
	assert_int_equal(vh_frontend_set_protocol_features(fx.f, TDEV_ALL_PF),
			 0);
	fixture_sync(&fx); /* the unacked one above has been handled */
	vh_frontend_set_ack_always(fx.f, true);
#define ACKED(req, call)                                              \
	do {                                                          \
		unsigned n_ = tdev_calls(&fx.dev, (req));             \
		assert_int_equal((call), 0);                          \
		assert_int_equal(tdev_calls(&fx.dev, (req)), n_ + 1); \
	} while (0)
	ACKED(VHOST_USER_SET_PROTOCOL_FEATURES,
	      vh_frontend_set_protocol_features(fx.f, TDEV_ALL_PF));
	ACKED(VHOST_USER_SET_OWNER, vh_frontend_set_owner(fx.f));
	ACKED(VHOST_USER_SET_FEATURES, vh_frontend_set_features(fx.f, offered));
	ACKED(VHOST_USER_SET_MEM_TABLE,
	      vh_frontend_set_mem_table(fx.f, &r, 1, &mem));
	ACKED(VHOST_USER_ADD_MEM_REG, vh_frontend_add_mem_reg(fx.f, &r, mem));
	ACKED(VHOST_USER_REM_MEM_REG, vh_frontend_rem_mem_reg(fx.f, &r));
	ACKED(VHOST_USER_SET_LOG_FD, vh_frontend_set_log_fd(fx.f, ev));
	ACKED(VHOST_USER_SET_VRING_NUM, vh_frontend_set_vring_num(fx.f, 0, 8));
	ACKED(VHOST_USER_SET_VRING_ADDR, vh_frontend_set_vring_addr(fx.f, &a));
	ACKED(VHOST_USER_SET_VRING_BASE,
	      vh_frontend_set_vring_base(fx.f, 0, 0));
	ACKED(VHOST_USER_SET_VRING_KICK,
	      vh_frontend_set_vring_kick(fx.f, 0, ev));
	ACKED(VHOST_USER_SET_VRING_CALL,
	      vh_frontend_set_vring_call(fx.f, 0, ev));
	ACKED(VHOST_USER_SET_VRING_ERR, vh_frontend_set_vring_err(fx.f, 0, -1));
	ACKED(VHOST_USER_SET_VRING_ENABLE,
	      vh_frontend_set_vring_enable(fx.f, 0, true));
	ACKED(VHOST_USER_SET_VRING_ENDIAN,
	      vh_frontend_set_vring_endian(fx.f, 0, false));
	ACKED(VHOST_USER_VRING_KICK, vh_frontend_vring_kick(fx.f, 0));
	ACKED(VHOST_USER_SET_CONFIG,
	      vh_frontend_set_config(fx.f, 0, 2, 0, cfg));
	ACKED(VHOST_USER_SEND_RARP, vh_frontend_send_rarp(fx.f, mac));
	ACKED(VHOST_USER_NET_SET_MTU, vh_frontend_net_set_mtu(fx.f, 1500));
	ACKED(VHOST_USER_IOTLB_MSG, vh_frontend_iotlb_msg(fx.f, &m));
	ACKED(VHOST_USER_CLOSE_CRYPTO_SESSION,
	      vh_frontend_close_crypto_session(fx.f, 1));
	ACKED(VHOST_USER_SET_INFLIGHT_FD,
	      vh_frontend_set_inflight_fd(fx.f, &in, mem));
	ACKED(VHOST_USER_GPU_SET_SOCKET, vh_frontend_gpu_set_socket(fx.f, ev));
	ACKED(VHOST_USER_SET_STATUS, vh_frontend_set_status(fx.f, 0x3));
	ACKED(VHOST_USER_RESET_DEVICE, vh_frontend_reset_device(fx.f));
	ACKED(VHOST_USER_POSTCOPY_LISTEN, vh_frontend_postcopy_listen(fx.f));
	ACKED(VHOST_USER_RESET_OWNER, vh_frontend_reset_owner(fx.f));
#undef ACKED
	close(mem);
	close(ev);
	fixture_stop(&fx);
}

static void ack_next_asks_once(void **state)
{
	struct fixture fx;

	(void)state;
	fixture_start(&fx, TDEV_ALL_PF);
	fixture_negotiate(&fx, TDEV_ALL_PF, ALL_FEATURES);
	assert_int_equal(vh_frontend_ack_next(fx.f), 0);
	tdev_fail_next(&fx.dev, VHOST_USER_SET_VRING_BASE, -EINVAL);
	/* Acked: the failure comes back as -EIO... */
	assert_int_equal(vh_frontend_set_vring_base(fx.f, 0, 1), -EIO);
	/* ...and the next request is not acked (returns before handling). */
	assert_int_equal(vh_frontend_set_vring_base(fx.f, 0, 2), 0);
	fixture_sync(&fx);
	assert_int_equal(fx.dev.base[0], 2);
	fixture_stop(&fx);
}

static void without_reply_ack_a_failure_is_not_reported(void **state)
{
	struct fixture fx;
	int r;

	(void)state;
	fixture_start(&fx, TDEV_ALL_PF);
	fixture_negotiate(&fx,
			  TDEV_ALL_PF & ~vh_protocol_feature_mask(
					    VHOST_USER_PROTOCOL_F_REPLY_ACK),
			  ALL_FEATURES);
	vh_frontend_set_ack_always(fx.f,
				   true); /* no effect without REPLY_ACK */
	tdev_fail_next(&fx.dev, VHOST_USER_SET_VRING_NUM, -EINVAL);
	assert_int_equal(vh_frontend_set_vring_num(fx.f, 0, 128), 0);
	/* The dispatcher closes a connection whose unacked request failed:
	 * the next request that waits for a reply sees the hang-up. */
	r = vh_frontend_get_features(fx.f, NULL);
	assert_true(r == -ECONNRESET || r == -EPIPE);
	assert_true(vh_frontend_is_broken(fx.f));
	assert_int_equal(vh_frontend_set_owner(fx.f), -EPROTO);
	fixture_stop(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(negotiation_records_features_on_both_sides),
	    cmocka_unit_test(mem_table_memfds_are_shared_with_the_backend),
	    cmocka_unit_test(add_and_remove_a_memory_region),
	    cmocka_unit_test(dirty_log_base_and_log_fd),
	    cmocka_unit_test(dirty_log_base_needs_log_shmfd),
	    cmocka_unit_test(vring_setup_and_stop),
	    cmocka_unit_test(vring_kick_call_err_eventfds_reach_the_backend),
	    cmocka_unit_test(queue_num_and_max_mem_slots),
	    cmocka_unit_test(
		requests_gated_by_protocol_features_are_refused_locally),
	    cmocka_unit_test(vring_enable_needs_protocol_features_in_use),
	    cmocka_unit_test(ack_always_turns_a_callback_failure_into_eio),
	    cmocka_unit_test(every_request_without_a_reply_is_acked_when_asked),
	    cmocka_unit_test(ack_next_asks_once),
	    cmocka_unit_test(without_reply_ack_a_failure_is_not_reported),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
