/* SPDX-License-Identifier: MIT */
/*
 * Reconnect. (1) The back-end process is killed (SIGKILL) while it holds
 * requests, restarted, and the front-end re-sends the handshake with
 * SET_INFLIGHT_FD: the requests are resubmitted and every request
 * completes exactly once. (2) The front-end leaves and returns: the server
 * accepts it again (listening) or reconnects to it (client mode).
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "vhost/conn.h"

#define ALL_F	   (~(uint64_t)0)
#define SPLIT_ONLY (~vh_virtio_feature_mask(VH_VIRTIO_F_RING_PACKED))
#define ALL_PF	   (~(uint64_t)0)
#define RING	   64
#define NREQ	   24

/* A back-end process: the echo device in @mode behind @path. */
static pid_t spawn_backend(const char *path, enum echo_mode mode)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		struct vh_server_config c = {.mode = VH_SERVER_LISTEN,
					     .path = path};
		struct vh_server *srv;
		struct echo_dev e;
		struct vh_device d;

		echo_init(&e, mode);
		echo_device(&e, &d, 1, 0);
		if (vh_server_new(&srv, &d, &c))
			_exit(2);
		vh_server_run(srv);
		_exit(0);
	}
	return pid;
}

static void kill_backend(pid_t pid)
{
	int status;

	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
}

/* Requests recorded in flight in the shared region (header, then one
 * entry per descriptor whose first byte is "inflight"). */
static unsigned count_inflight(const uint8_t *region, bool packed)
{
	size_t hdr = packed ? 32 : 16, ent = packed ? 32 : 16;
	unsigned n = 0;

	for (unsigned i = 0; i < RING; i++)
		n += region[hdr + i * ent] == 1;
	return n;
}

static uint16_t used_idx(struct th_guest *g)
{
	uint16_t idx;

	memcpy(&idx, g->mem + 0x2000 + 2, 2); /* ring 0's used->idx */
	return idx;
}

static void handshake(struct th_guest *g, const char *path, uint64_t feat,
		      const struct vhost_user_inflight *inf, int ifd,
		      uint32_t base)
{
	th_guest_connect(g, path, ALL_PF, feat, true);
	assert_true(
	    vh_protocol_has(g->pf, VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD));
	assert_int_equal(vh_frontend_set_inflight_fd(g->fe, inf, ifd), 0);
	th_ring_setup(g, 0, RING, base);
}

static void backend_killed_mid_stream(bool packed, enum echo_mode mode)
{
	struct vhost_user_inflight req = {.num_queues = 1, .queue_size = RING};
	struct vhost_user_inflight rep;
	uint64_t feat = packed ? ALL_F : SPLIT_ONLY;
	unsigned held = mode == ECHO_HOLD_ALL ? NREQ : NREQ / 2;
	char dir[] = "/tmp/vh-rc-XXXXXX", path[64];
	struct th_guest g;
	uint8_t *region;
	unsigned id;
	uint32_t len, base = 0;
	pid_t pid;
	int ifd;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sock", dir);
	th_guest_init(&g, 1000);
	pid = spawn_backend(path, mode);

	/* First back-end: the in-flight region, then requests. */
	th_guest_connect(&g, path, ALL_PF, feat, true);
	assert_int_equal(g.packed, packed);
	assert_int_equal(vh_frontend_get_inflight_fd(g.fe, &req, &rep, &ifd),
			 0);
	assert_true(ifd >= 0 && rep.mmap_size > 0);
	region = mmap(NULL, rep.mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      ifd, 0);
	assert_true(region != MAP_FAILED);
	assert_int_equal(vh_frontend_set_inflight_fd(g.fe, &rep, ifd), 0);
	th_ring_setup(&g, 0, RING, 0);
	for (unsigned i = 0; i < NREQ; i++)
		assert_int_equal(th_submit(&g, 0, i, 1, false), 0);
	th_kick(&g, 0);
	for (unsigned i = 0; i < NREQ - held; i++) {
		assert_int_equal(th_reap(&g, 0, TH_TIMEOUT_MS, &id, &len), 1);
		assert_int_equal(id % 2, 0);
	}
	/* Wait until the back-end has taken every request. */
	for (int t = 0;
	     t < TH_TIMEOUT_MS && count_inflight(region, packed) < held; t++)
		th_sleep_ms(1);
	assert_int_equal(count_inflight(region, packed), held);

	kill_backend(pid);
	th_guest_disconnect(&g);

	/* Second back-end: same handshake plus SET_INFLIGHT_FD. The base
	 * we send is the used index, as QEMU does after a crash; the
	 * region decides. */
	pid = spawn_backend(path, ECHO_NOW);
	if (!packed) {
		base = used_idx(&g);
	} else {
		struct vh_packed_base b = {0, true, 0, true};

		base = vh_proto_encode_packed_base(&b);
	}
	handshake(&g, path, feat, &rep, ifd, base);
	for (unsigned i = 0; i < held; i++) {
		assert_int_equal(th_reap(&g, 0, TH_TIMEOUT_MS, &id, &len), 1);
		assert_int_equal(len, TH_BUF);
		if (mode == ECHO_HOLD_ODD)
			assert_int_equal(id % 2, 1);
	}
	assert_int_equal(th_reap(&g, 0, 50, &id, &len), 0);
	/* New requests flow after the resubmitted ones. */
	th_run(&g, 0, NREQ, 200, 16, 1, false);
	for (unsigned i = 0; i < NREQ + 200; i++)
		assert_int_equal(g.done_count[i], 1);
	assert_int_equal(count_inflight(region, packed), 0);

	kill_backend(pid);
	munmap(region, rep.mmap_size);
	close(ifd);
	th_guest_fini(&g);
	unlink(path);
	rmdir(dir);
}

static void test_split_backend_killed_mid_stream_resubmits_once(void **s)
{
	(void)s;
	backend_killed_mid_stream(false, ECHO_HOLD_ODD);
}

static void test_packed_backend_killed_mid_stream_resubmits_once(void **s)
{
	(void)s;
	backend_killed_mid_stream(true, ECHO_HOLD_ODD);
}

static void test_split_backend_killed_before_first_completion(void **s)
{
	(void)s;
	backend_killed_mid_stream(false, ECHO_HOLD_ALL);
}

static void test_packed_backend_killed_before_first_completion(void **s)
{
	(void)s;
	backend_killed_mid_stream(true, ECHO_HOLD_ALL);
}

/* ---- the front-end leaves and returns ---------------------------------- */

static bool not_connected(void *arg)
{
	return !vh_server_connected(arg);
}

static void test_listening_server_accepts_the_frontend_again(void **s)
{
	struct echo_dev e;
	struct vh_device d;
	struct th_srv srv;
	struct th_guest g;
	unsigned fds = th_count_fds();

	(void)s;
	echo_init(&e, ECHO_REMOTE);
	e.remote_delay_ms = 2;
	echo_device(&e, &d, 1, 0);
	th_srv_start(&srv, &d, NULL);
	th_guest_init(&g, 10000);
	for (unsigned round = 0; round < 3; round++) {
		th_guest_connect(&g, srv.path, ALL_PF,
				 round == 1 ? ALL_F : SPLIT_ONLY, true);
		th_ring_init(&g, 0, RING);
		th_ring_setup(&g, 0, RING, 0);
		th_run(&g, 0, round * 1000, 100, 8, 1, false);
		/* Leave with requests still with the device: the server
		 * drains them before it accepts the next front-end. */
		for (unsigned i = 0; i < 8; i++)
			assert_int_equal(
			    th_submit(&g, 0, round * 1000 + 500 + i, 1, false),
			    0);
		th_kick(&g, 0);
		th_guest_disconnect(&g);
		assert_true(th_wait(not_connected, srv.srv, TH_TIMEOUT_MS));
		assert_int_equal(vh_server_sessions(srv.srv), round + 1);
	}
	assert_int_equal(atomic_load(&e.resets), 3);
	th_guest_fini(&g);
	th_srv_stop(&srv);
	echo_fini(&e);
	assert_int_equal(th_count_fds(), fds);
}

static void *run_server(void *arg)
{
	return (void *)(intptr_t)vh_server_run(arg);
}

static void test_client_mode_server_reconnects_after_hangup(void **s)
{
	char dir[] = "/tmp/vh-cl-XXXXXX", path[64];
	struct vh_server_config c = {.mode = VH_SERVER_CONNECT,
				     .reconnect_min_ms = 5,
				     .reconnect_max_ms = 50};
	struct vh_server *srv;
	struct echo_dev e;
	struct vh_device d;
	struct th_guest g;
	pthread_t thr;
	void *ret;
	int lfd;

	(void)s;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/fe.sock", dir);
	c.path = path;
	echo_init(&e, ECHO_NOW);
	echo_device(&e, &d, 1, 0);
	/* The server starts first and retries until the front-end listens. */
	assert_int_equal(vh_server_new(&srv, &d, &c), 0);
	assert_int_equal(pthread_create(&thr, NULL, run_server, srv), 0);
	th_sleep_ms(30);
	lfd = vh_sock_listen(path, 1);
	assert_true(lfd >= 0);
	th_guest_init(&g, 10000);
	for (unsigned round = 0; round < 2; round++) {
		int fd = vh_sock_accept(lfd, TH_TIMEOUT_MS);
		uint64_t offered, pf;

		assert_true(fd >= 0);
		assert_int_equal(vh_frontend_new(&g.fe, fd, NULL), 0);
		assert_int_equal(
		    vh_frontend_negotiate(g.fe, ALL_PF, &offered, &pf), 0);
		vh_frontend_set_ack_always(g.fe, true);
		g.offered = offered;
		g.pf = pf;
		g.features = offered & SPLIT_ONLY;
		assert_int_equal(vh_frontend_set_features(g.fe, g.features), 0);
		g.event_idx = true;
		g.indirect = true;
		{
			struct vhost_user_mem_region r = {TH_GPA, TH_MEM_LEN,
							  (uintptr_t)g.mem, 0};

			assert_int_equal(
			    vh_frontend_set_mem_table(g.fe, &r, 1, &g.memfd),
			    0);
		}
		th_ring_init(&g, 0, RING);
		th_ring_setup(&g, 0, RING, 0);
		th_run(&g, 0, round * 100, 100, 8, 1, false);
		th_guest_disconnect(&g);
	}
	vh_server_stop(srv);
	pthread_join(thr, &ret);
	assert_null(ret);
	assert_int_equal(vh_server_sessions(srv), 2);
	vh_server_free(srv);
	close(lfd);
	vh_sock_unlink(path);
	rmdir(dir);
	th_guest_fini(&g);
	echo_fini(&e);
}

static void test_inherited_connected_fd_serves_one_frontend(void **s)
{
	struct vh_server_config c = {.mode = VH_SERVER_FD};
	struct vh_server *srv;
	struct echo_dev e;
	struct vh_device d;
	struct th_guest g;
	pthread_t thr;
	void *ret;
	int sv[2];

	(void)s;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
			 0);
	c.fd = sv[1];
	echo_init(&e, ECHO_NOW);
	echo_device(&e, &d, 1, 0);
	assert_int_equal(vh_server_new(&srv, &d, &c), 0);
	assert_int_equal(pthread_create(&thr, NULL, run_server, srv), 0);
	th_guest_init(&g, 1000);
	assert_int_equal(vh_frontend_new(&g.fe, sv[0], NULL), 0);
	{
		uint64_t offered, pf;
		struct vhost_user_mem_region r = {TH_GPA, TH_MEM_LEN,
						  (uintptr_t)g.mem, 0};

		assert_int_equal(
		    vh_frontend_negotiate(g.fe, ALL_PF, &offered, &pf), 0);
		g.features = offered;
		g.packed = g.event_idx = g.indirect = true;
		assert_int_equal(vh_frontend_set_features(g.fe, offered), 0);
		assert_int_equal(
		    vh_frontend_set_mem_table(g.fe, &r, 1, &g.memfd), 0);
	}
	th_ring_setup(&g, 0, RING, 0);
	th_run(&g, 0, 0, 100, 8, 1, false);
	th_guest_disconnect(&g);
	/* Its only front-end left: vh_server_run returns 0. */
	pthread_join(thr, &ret);
	assert_null(ret);
	vh_server_free(srv);
	th_guest_fini(&g);
	echo_fini(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
		test_split_backend_killed_mid_stream_resubmits_once),
	    cmocka_unit_test(
		test_packed_backend_killed_mid_stream_resubmits_once),
	    cmocka_unit_test(test_split_backend_killed_before_first_completion),
	    cmocka_unit_test(
		test_packed_backend_killed_before_first_completion),
	    cmocka_unit_test(test_listening_server_accepts_the_frontend_again),
	    cmocka_unit_test(test_client_mode_server_reconnects_after_hangup),
	    cmocka_unit_test(test_inherited_connected_fd_serves_one_frontend),
	};

	th_quiet_logs();
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
