/* SPDX-License-Identifier: MIT */
/*
 * Front-end requests about the device (config space, status, net, IOMMU,
 * crypto, post-copy, in-flight tracking, GPU socket, shared objects, device
 * state, shared memory), from our front-end to our back-end dispatcher,
 * checked at the device callback; fds checked by using them.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fe_test.h"

#define ALL_FEATURES UINT64_MAX

static void config_space_read_and_written(void **state)
{
	struct fixture fx;
	uint8_t buf[TDEV_CONFIG_SIZE], w[4] = {1, 2, 3, 4};
	unsigned i;

	(void)state;
	fixture_start(&fx, TDEV_ALL_PF);
	fixture_negotiate(&fx, TDEV_ALL_PF, ALL_FEATURES);
	assert_int_equal(
	    vh_frontend_get_config(fx.f, 0, TDEV_CONFIG_SIZE, 0, buf), 0);
	for (i = 0; i < TDEV_CONFIG_SIZE; i++)
		assert_int_equal(buf[i], 0xa0 + i);
	assert_int_equal(vh_frontend_set_config(
			     fx.f, 8, 4, VHOST_USER_CONFIG_FLAG_MIGRATION, w),
			 0);
	assert_int_equal(vh_frontend_get_config(fx.f, 6, 6, 0, buf), 0);
	assert_int_equal(buf[0], 0xa6);
	assert_memory_equal(buf + 2, w, 4);
	assert_int_equal(fx.dev.set_cfg_flags,
			 VHOST_USER_CONFIG_FLAG_MIGRATION);
	/* Over 256 bytes cannot be encoded. */
	assert_int_equal(vh_frontend_get_config(fx.f, 0, 257, 0, buf), -EINVAL);
	fixture_stop(&fx);
}

static void config_read_failure_is_an_empty_reply_and_keeps_the_link(void **s)
{
	struct fixture fx;
	uint8_t buf[8];

	(void)s;
	fixture_start(&fx, TDEV_ALL_PF);
	fixture_negotiate(&fx, TDEV_ALL_PF, ALL_FEATURES);
	tdev_fail_next(&fx.dev, VHOST_USER_GET_CONFIG, -EIO);
	assert_int_equal(vh_frontend_get_config(fx.f, 0, 8, 0, buf), -EIO);
	assert_false(vh_frontend_is_broken(fx.f));
	assert_int_equal(vh_frontend_get_config(fx.f, 0, 8, 0, buf), 0);
	assert_int_equal(buf[0], 0xa0);
	fixture_stop(&fx);
}

static void status_reset_rarp_mtu_iotlb(void **state)
{
	struct fixture fx;
	const uint8_t mac[6] = {0x52, 0x54, 0, 0x12, 0x34, 0x56};
	struct vhost_user_iotlb m = {.iova = 0x1000,
				     .size = 0x1000,
				     .uaddr = 0x7000,
				     .perm = VHOST_USER_IOTLB_RW,
				     .type = VHOST_USER_IOTLB_UPDATE};
	uint8_t status;

	(void)state;
	fixture_start(&fx, TDEV_ALL_PF);
	fixture_negotiate(&fx, TDEV_ALL_PF, ALL_FEATURES);
	assert_int_equal(vh_frontend_set_status(fx.f, 0xb), 0);
	assert_int_equal(vh_frontend_get_status(fx.f, &status), 0);
	assert_int_equal(status, 0xb);
	assert_int_equal(vh_frontend_reset_device(fx.f), 0);
	assert_int_equal(vh_frontend_get_status(fx.f, &status), 0);
	assert_int_equal(status, 0);
	assert_int_equal(vh_frontend_send_rarp(fx.f, mac), 0);
	assert_int_equal(vh_frontend_net_set_mtu(fx.f, 9000), 0);
	assert_int_equal(vh_frontend_iotlb_msg(fx.f, &m), 0);
	fixture_sync(&fx);
	assert_memory_equal(fx.dev.mac, mac, 6);
	assert_int_equal(fx.dev.mtu, 9000);
	assert_memory_equal(&fx.dev.iotlb, &m, sizeof(m));
	fixture_stop(&fx);
}

static void iotlb_needs_access_platform(void **state)
{
	struct fixture fx;
	struct vhost_user_iotlb m = {.iova = 0x1000,
				     .size = 0x1000,
				     .perm = VHOST_USER_IOTLB_RW,
				     .type = VHOST_USER_IOTLB_INVALIDATE};

	(void)state;
	fixture_start(&fx, TDEV_ALL_PF);
	fixture_negotiate(&fx, TDEV_ALL_PF,
			  ~vh_virtio_feature_mask(VH_VIRTIO_F_ACCESS_PLATFORM));
	assert_int_equal(vh_frontend_iotlb_msg(fx.f, &m), -EOPNOTSUPP);
	fixture_stop(&fx);
}

static void crypto_sessions(void **state)
{
	struct fixture fx;
	uint8_t in[64], out[64];
	int64_t id;

	(void)state;
	memset(in, 0x5a, sizeof(in));
	fixture_start(&fx, TDEV_ALL_PF);
	fixture_negotiate(&fx, TDEV_ALL_PF, ALL_FEATURES);
	assert_int_equal(vh_frontend_create_crypto_session(fx.f, in, 64, out),
			 0);
	memcpy(&id, out, sizeof(id));
	assert_int_equal(id, 42);
	assert_int_equal(out[63], 0x5a);
	assert_int_equal(vh_frontend_close_crypto_session(fx.f, 42), 0);
	fixture_sync(&fx);
	assert_int_equal(fx.dev.closed_session, 42);
	fixture_stop(&fx);
}

static void postcopy_advise_listen_end(void **state)
{
	struct fixture fx;
	int ufd = -1;
	struct vhost_user_mem_region r = {.memory_size = 0x1000,
					  .userspace_addr = 0x1000};
	int mfd;

	(void)state;
	fixture_start(&fx, TDEV_ALL_PF);
	mfd = make_memfd(0x1000);
	fixture_negotiate(&fx, TDEV_ALL_PF, ALL_FEATURES);
	assert_int_equal(vh_frontend_postcopy_advise(fx.f, &ufd), 0);
	assert_true(ufd >= 0);
	close(ufd);
	assert_int_equal(vh_frontend_postcopy_listen(fx.f), 0);
	/* The post-copy memory exchange is not implemented: refused. */
	assert_int_equal(vh_frontend_set_mem_table(fx.f, &r, 1, &mfd),
			 -EOPNOTSUPP);
	assert_int_equal(vh_frontend_postcopy_end(fx.f), 0);
	assert_int_equal(tdev_calls(&fx.dev, VHOST_USER_POSTCOPY_LISTEN), 1);
	assert_int_equal(tdev_calls(&fx.dev, VHOST_USER_POSTCOPY_END), 1);
	close(mfd);
	fixture_stop(&fx);
}

static void inflight_area_shared_both_ways(void **state)
{
	struct fixture fx;
	struct vhost_user_inflight req = {.num_queues = 2, .queue_size = 128};
	struct vhost_user_inflight rep;
	int fd = -1;
	uint8_t *mine, *theirs;

	(void)state;
	fixture_start(&fx, TDEV_ALL_PF);
	fixture_negotiate(&fx, TDEV_ALL_PF, ALL_FEATURES);
	assert_int_equal(vh_frontend_get_inflight_fd(fx.f, &req, &rep, &fd), 0);
	assert_int_equal(rep.mmap_size, 4096);
	assert_int_equal(rep.num_queues, 2);
	assert_true(fd >= 0);
	mine = map_fd(fd, 4096);
	theirs = map_fd(fx.dev.inflight_fd, 4096);
	theirs[100] = 0x77; /* back-end marks a descriptor in flight */
	assert_int_equal(mine[100], 0x77);
	munmap(mine, 4096);
	munmap(theirs, 4096);
	/* After a reconnect the front-end hands the same area back. */
	assert_int_equal(vh_frontend_set_inflight_fd(fx.f, &rep, fd), 0);
	fixture_sync(&fx);
	assert_true(same_file(fx.dev.inflight_set_fd, fd));
	assert_int_equal(fx.dev.inflight.queue_size, 128);
	close(fd);
	fixture_stop(&fx);
}

static void gpu_socket_is_passed(void **state)
{
	struct fixture fx;
	int sv[2];
	char c = 0;

	(void)state;
	fixture_start(&fx, TDEV_ALL_PF);
	fixture_negotiate(&fx, TDEV_ALL_PF, ALL_FEATURES);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
			 0);
	assert_int_equal(vh_frontend_gpu_set_socket(fx.f, sv[0]), 0);
	fixture_sync(&fx);
	assert_int_equal(write(fx.dev.gpu_fd, "g", 1), 1);
	assert_int_equal(read(sv[1], &c, 1), 1);
	assert_int_equal(c, 'g');
	close(sv[0]);
	close(sv[1]);
	fixture_stop(&fx);
}

static void shared_object_found_and_not_found(void **state)
{
	struct fixture fx;
	struct vhost_user_shared known = {.uuid = {0x11}},
				 unknown = {.uuid = {0x22}};
	int fd = -1;

	(void)state;
	fixture_start(&fx, TDEV_ALL_PF);
	fixture_negotiate(&fx, TDEV_ALL_PF, ALL_FEATURES);
	assert_int_equal(vh_frontend_get_shared_object(fx.f, &known, &fd), 0);
	assert_true(same_file(fd, fx.dev.shared_fd));
	close(fd);
	assert_int_equal(vh_frontend_get_shared_object(fx.f, &unknown, &fd),
			 -ENOENT);
	assert_false(vh_frontend_is_broken(fx.f));
	fixture_stop(&fx);
}

static void device_state_transfer_channels(void **state)
{
	struct fixture fx;
	int p[2], reply = -2;
	char buf[8] = {0};

	(void)state;
	fixture_start(&fx, TDEV_ALL_PF);
	fixture_negotiate(&fx, TDEV_ALL_PF, ALL_FEATURES);
	/* Our pipe: the back-end writes its state into our read end's peer. */
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(vh_frontend_set_device_state_fd(
			     fx.f, VHOST_USER_TRANSFER_STATE_DIRECTION_SAVE,
			     VHOST_USER_TRANSFER_STATE_PHASE_STOPPED, p[1],
			     &reply),
			 0);
	assert_int_equal(reply, -1);
	close(p[1]);
	assert_int_equal(write(fx.dev.state_fd, "state", 5), 5);
	assert_int_equal(read(p[0], buf, 5), 5);
	assert_string_equal(buf, "state");
	close(p[0]);
	assert_int_equal(vh_frontend_check_device_state(fx.f), 0);
	/* The back-end offers a channel of its own: we must use it. */
	fx.dev.offer_state_fd = true;
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(vh_frontend_set_device_state_fd(
			     fx.f, VHOST_USER_TRANSFER_STATE_DIRECTION_LOAD,
			     VHOST_USER_TRANSFER_STATE_PHASE_STOPPED, p[0],
			     &reply),
			 0);
	assert_true(reply >= 0);
	assert_int_equal(write(reply, "load", 4), 4);
	assert_int_equal(read(fx.dev.state_reply_peer, buf, 4), 4);
	assert_memory_equal(buf, "load", 4);
	close(reply);
	close(p[0]);
	close(p[1]);
	fixture_stop(&fx);
}

static void shmem_config_is_read(void **state)
{
	struct fixture fx;
	struct vhost_user_shmem_config c;

	(void)state;
	fixture_start(&fx, TDEV_ALL_PF);
	fixture_negotiate(&fx, TDEV_ALL_PF, ALL_FEATURES);
	assert_int_equal(vh_frontend_get_shmem_config(fx.f, &c), 0);
	assert_int_equal(c.nregions, 2);
	assert_int_equal(c.memory_sizes[1], 2 << 20);
	fixture_stop(&fx);
}

/* ------------------------------------------------------------------------ */
/* REPLY_ACK                                                                */
/* ------------------------------------------------------------------------ */

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(config_space_read_and_written),
	    cmocka_unit_test(
		config_read_failure_is_an_empty_reply_and_keeps_the_link),
	    cmocka_unit_test(status_reset_rarp_mtu_iotlb),
	    cmocka_unit_test(iotlb_needs_access_platform),
	    cmocka_unit_test(crypto_sessions),
	    cmocka_unit_test(postcopy_advise_listen_end),
	    cmocka_unit_test(inflight_area_shared_both_ways),
	    cmocka_unit_test(gpu_socket_is_passed),
	    cmocka_unit_test(shared_object_found_and_not_found),
	    cmocka_unit_test(device_state_transfer_channels),
	    cmocka_unit_test(shmem_config_is_read),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
