/* SPDX-License-Identifier: MIT */
/*
 * Device lifecycle and scale: RESET_DEVICE, SET/GET_STATUS with
 * NEEDS_RESET after a hostile ring, config space and device state
 * forwarded to the device, many servers in one process, many queues.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

#define ALL_F	   (~(uint64_t)0)
#define SPLIT_ONLY (~vh_virtio_feature_mask(VH_VIRTIO_F_RING_PACKED))
#define ALL_PF	   (~(uint64_t)0)

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_reset_device_stops_rings_and_forgets_them(void **s)
{
	struct echo_dev e;
	struct vh_device d;
	struct th_srv srv;
	struct th_guest g;
	unsigned fds = th_count_fds();

	(void)s;
	echo_init(&e, ECHO_NOW);
	echo_device(&e, &d, 1, 0);
	th_srv_start(&srv, &d, NULL);
	th_guest_init(&g, 1000);
	th_guest_connect(&g, srv.path, ALL_PF, ALL_F, true);
	th_ring_setup(&g, 0, 64, 0);
	th_run(&g, 0, 0, 30, 8, 1, false);
	assert_int_equal(vh_frontend_reset_device(g.fe), 0);
	/* Stopped (the device saw it), disabled, device reset. */
	assert_int_equal(atomic_load(&e.stopped), 1);
	assert_int_equal(atomic_load(&e.resets), 1);
	assert_int_equal(vh_server_ring_state(srv.srv, 0),
			 VH_RING_STOPPED_DISABLED);
	/* Re-initialised from scratch, the device works again. */
	th_ring_init(&g, 0, 64);
	th_ring_setup(&g, 0, 64, 0);
	th_run(&g, 0, 100, 30, 8, 1, false);
	th_guest_fini(&g);
	th_srv_stop(&srv);
	echo_fini(&e);
	/* Every fd the server received or made was closed. */
	assert_int_equal(th_count_fds(), fds);
}

static void test_hostile_ring_sets_needs_reset_and_status_zero_resets(void **s)
{
	struct vh_drv_buf out = {0x1000, 64}; /* below guest memory */
	struct vh_drv_buf in = {th_gpa(0, 0, true), 64};
	struct pollfd p;
	struct echo_dev e;
	struct vh_device d;
	struct th_srv srv;
	struct th_guest g;
	uint8_t st;

	(void)s;
	echo_init(&e, ECHO_NOW);
	echo_device(&e, &d, 1, 0);
	th_srv_start(&srv, &d, NULL);
	th_guest_init(&g, 1000);
	th_guest_connect(&g, srv.path, ALL_PF, SPLIT_ONLY, true);
	assert_true(vh_protocol_has(g.pf, VHOST_USER_PROTOCOL_F_STATUS));
	assert_int_equal(vh_frontend_set_status(g.fe, 0x0f), 0);
	assert_int_equal(vh_frontend_get_status(g.fe, &st), 0);
	assert_int_equal(st, 0x0f);
	th_ring_setup(&g, 0, 64, 0);
	th_run(&g, 0, 0, 10, 4, 1, false);

	assert_int_equal(
	    vh_drv_add(g.r[0].drv, &out, 1, &in, 1, false, (void *)1), 0);
	th_kick(&g, 0);
	/* The err eventfd fires; the status carries NEEDS_RESET. */
	p = (struct pollfd){.fd = g.r[0].err, .events = POLLIN};
	assert_int_equal(poll(&p, 1, TH_TIMEOUT_MS), 1);
	assert_int_equal(vh_frontend_get_status(g.fe, &st), 0);
	assert_int_equal(st, 0x0f | 0x40);
	assert_int_equal(vh_server_status(srv.srv), 0x4f);
	assert_true(atomic_load(&th_log_errors) > 0);
	/* The process lives on; status 0 resets the device. */
	assert_int_equal(vh_frontend_set_status(g.fe, 0), 0);
	assert_int_equal(vh_frontend_get_status(g.fe, &st), 0);
	assert_int_equal(st, 0);
	assert_int_equal(atomic_load(&e.resets), 1);
	th_ring_init(&g, 0, 64);
	th_ring_setup(&g, 0, 64, 0);
	th_run(&g, 0, 100, 10, 4, 1, false);
	th_guest_fini(&g);
	th_srv_stop(&srv);
	echo_fini(&e);
}

static void test_config_and_device_state_reach_the_device(void **s)
{
	struct echo_dev e;
	struct vh_device d;
	struct th_srv srv;
	struct th_guest g;
	uint8_t buf[16], want[4] = {1, 2, 3, 4};
	int pfd[2], reply = -2;

	(void)s;
	echo_init(&e, ECHO_NOW);
	e.state_ops = true;
	echo_device(&e, &d, 1, 0);
	th_srv_start(&srv, &d, NULL);
	th_guest_init(&g, 1000);
	th_guest_connect(&g, srv.path, ALL_PF, ALL_F, true);
	assert_true(vh_protocol_has(g.pf, VHOST_USER_PROTOCOL_F_CONFIG));
	assert_true(vh_protocol_has(g.pf, VHOST_USER_PROTOCOL_F_DEVICE_STATE));
	assert_int_equal(vh_frontend_get_config(g.fe, 0, 16, 0, buf), 0);
	assert_int_equal(buf[3], 0xa3);
	assert_int_equal(vh_frontend_set_config(g.fe, 4, 4, 0, want), 0);
	assert_memory_equal(e.config + 4, want, 4);
	/* Save: the device writes its state into our pipe. */
	assert_int_equal(pipe(pfd), 0);
	assert_int_equal(vh_frontend_set_device_state_fd(
			     g.fe, VHOST_USER_TRANSFER_STATE_DIRECTION_SAVE,
			     VHOST_USER_TRANSFER_STATE_PHASE_STOPPED, pfd[1],
			     &reply),
			 0);
	assert_int_equal(reply, -1);
	close(pfd[1]);
	assert_int_equal(read(pfd[0], buf, 16), 16);
	assert_memory_equal(buf, e.config, 16);
	close(pfd[0]);
	assert_int_equal(vh_frontend_check_device_state(g.fe), 0);
	th_guest_fini(&g);
	th_srv_stop(&srv);
	echo_fini(&e);
}

#define NSRV 16

static void test_sixteen_servers_serve_in_one_process(void **s)
{
	static struct echo_dev e[NSRV];
	static struct th_srv srv[NSRV];
	static struct th_guest g[NSRV];
	struct vh_device d[NSRV];
	size_t total = 0;

	(void)s;
	for (unsigned i = 0; i < NSRV; i++) {
		echo_init(&e[i], ECHO_NOW);
		echo_device(&e[i], &d[i], 1, 0);
		th_srv_start(&srv[i], &d[i], NULL);
		th_guest_init(&g[i], 1000);
		th_guest_connect(&g[i], srv[i].path, ALL_PF,
				 i % 2 ? ALL_F : SPLIT_ONLY, true);
		th_ring_setup(&g[i], 0, 256, 0);
	}
	for (unsigned round = 0; round < 4; round++)
		for (unsigned i = 0; i < NSRV; i++)
			th_run(&g[i], 0, round * 50, 50, 16, 1, false);
	for (unsigned i = 0; i < NSRV; i++)
		total += vh_server_mem_usage(srv[i].srv);
	print_message("16 servers, 1 ring of 256 each, running: %zu bytes of "
		      "server state in all (%zu per device)\n",
		      total, total / NSRV);
	for (unsigned i = 0; i < NSRV; i++) {
		th_guest_fini(&g[i]);
		th_srv_stop(&srv[i]);
		echo_fini(&e[i]);
	}
}

static void test_256_queues_spread_over_4_workers(void **s)
{
	struct vh_server_config cfg = {.queues_per_worker = 64,
				       .max_workers = 4};
	struct echo_dev e;
	struct vh_device d;
	struct th_srv srv;
	struct th_guest g;
	uint64_t qn;
	double t0, t1;

	(void)s;
	echo_init(&e, ECHO_NOW);
	echo_device(&e, &d, 256, 0);
	th_srv_start(&srv, &d, &cfg);
	th_guest_init(&g, 256 * 4);
	th_guest_connect(&g, srv.path, ALL_PF, ALL_F, true);
	assert_int_equal(vh_frontend_get_queue_num(g.fe, &qn), 0);
	assert_int_equal(qn, 256);
	t0 = now_s();
	for (unsigned q = 0; q < 256; q++)
		th_ring_setup(&g, q, 16, 0);
	t1 = now_s();
	for (unsigned q = 0; q < 256; q++)
		th_run(&g, q, q * 4, 4, 4, 1, false);
	for (unsigned q = 0; q < 256; q++)
		assert_int_equal(atomic_load(&e.worker_of[q]), (int)(q / 64));
	print_message("256 rings of 16 running: %zu bytes of server state; "
		      "%.1f us per ring set up (7 messages)\n",
		      vh_server_mem_usage(srv.srv), (t1 - t0) * 1e6 / 256);
	th_guest_fini(&g);
	th_srv_stop(&srv);
	echo_fini(&e);
}

static void test_0x8000_ring_device_pays_only_for_rings_used(void **s)
{
	struct echo_dev e;
	struct vh_device d;
	struct th_srv srv;
	struct th_guest g;
	size_t idle, used;
	uint64_t qn;

	(void)s;
	echo_init(&e, ECHO_NOW);
	echo_device(&e, &d, 0x8000, 0);
	th_srv_start(&srv, &d, NULL);
	idle = vh_server_mem_usage(srv.srv);
	th_guest_init(&g, 1000);
	th_guest_connect(&g, srv.path, ALL_PF, ALL_F, true);
	assert_int_equal(vh_frontend_get_queue_num(g.fe, &qn), 0);
	assert_int_equal(qn, 0x8000);
	th_ring_setup(&g, 0, 64, 0);
	th_ring_setup(&g, 255, 64, 0);
	th_run(&g, 0, 0, 50, 8, 1, false);
	th_run(&g, 255, 100, 50, 8, 1, false);
	used = vh_server_mem_usage(srv.srv);
	print_message("0x8000 rings declared: %zu bytes idle; 2 rings running: "
		      "%zu bytes\n",
		      idle, used);
	/* A pointer per declared ring; state only for the two in use. */
	assert_true(idle < 0x8000 * sizeof(void *) + 16384);
	assert_true(used - idle < 256 * 1024);
	th_guest_fini(&g);
	th_srv_stop(&srv);
	echo_fini(&e);
}

#define SLOT_LEN 0x10000u

static void test_509_memory_slots_are_accepted_and_used(void **s)
{
	struct echo_dev e;
	struct vh_device d;
	struct th_srv srv;
	struct th_guest g;
	uint64_t slots;
	double t0, t1;
	int fd;

	(void)s;
	echo_init(&e, ECHO_NOW);
	echo_device(&e, &d, 1, 0);
	th_srv_start(&srv, &d, NULL);
	th_guest_init(&g, 1000);
	th_guest_connect(&g, srv.path, ALL_PF, SPLIT_ONLY, true);
	assert_int_equal(vh_frontend_get_max_mem_slots(g.fe, &slots), 0);
	assert_int_equal(slots, 509);
	th_ring_setup(&g, 0, 64, 0);
	fd = memfd_create("slot", MFD_CLOEXEC);
	assert_int_equal(ftruncate(fd, SLOT_LEN * 508ull), 0);
	t0 = now_s();
	for (unsigned i = 0; i < 508; i++) {
		/* Above the main region, with holes between slots. */
		struct vhost_user_mem_region r = {
		    .guest_phys_addr = 0x1000000000ull + i * 2ull * SLOT_LEN,
		    .memory_size = SLOT_LEN,
		    .userspace_addr = 0x7f0000000000ull + i * 2ull * SLOT_LEN,
		    .mmap_offset = (uint64_t)i * SLOT_LEN,
		};

		assert_int_equal(vh_frontend_add_mem_reg(g.fe, &r, fd), 0);
	}
	t1 = now_s();
	/* Requests still flow, translated through 509 regions. */
	th_run(&g, 0, 0, 200, 16, 3, false);
	print_message("509 memory slots: %.1f us per ADD_MEM_REG (with worker "
		      "sync) up to the last one\n",
		      (t1 - t0) * 1e6 / 508);
	close(fd);
	th_guest_fini(&g);
	th_srv_stop(&srv);
	echo_fini(&e);
}

static int on_config_change(void *opaque)
{
	atomic_fetch_add((atomic_int *)opaque, 1);
	return 0;
}

static void test_config_change_reaches_the_frontend(void **s)
{
	static const struct vh_frontend_backend_ops bops = {
	    .config_change = on_config_change};
	struct echo_dev e;
	struct vh_device d;
	struct th_srv srv;
	struct th_guest g;
	atomic_int changes = 0;
	struct pollfd p;

	(void)s;
	echo_init(&e, ECHO_NOW);
	echo_device(&e, &d, 1, 0);
	th_srv_start(&srv, &d, NULL);
	th_guest_init(&g, 10);
	th_guest_connect(&g, srv.path, ALL_PF, ALL_F, true);
	assert_int_equal(
	    vh_frontend_enable_backend_channel(g.fe, &bops, &changes), 0);
	assert_int_equal(vh_server_config_changed(srv.srv), 0);
	p = (struct pollfd){.fd = vh_frontend_backend_channel_fd(g.fe),
			    .events = POLLIN};
	assert_int_equal(poll(&p, 1, TH_TIMEOUT_MS), 1);
	assert_int_equal(vh_frontend_handle_backend_readable(g.fe), 0);
	assert_int_equal(atomic_load(&changes), 1);
	th_guest_fini(&g);
	th_srv_stop(&srv);
	echo_fini(&e);
}

struct loop_arg {
	struct vh_server *srv;
	atomic_bool quit;
};

/* An application's own loop: poll on vh_server_fd, then dispatch. */
static void *own_loop(void *arg)
{
	struct loop_arg *a = arg;

	while (!atomic_load(&a->quit)) {
		struct pollfd p = {.fd = vh_server_fd(a->srv),
				   .events = POLLIN};

		if (poll(&p, 1, 10) > 0 && vh_server_dispatch(a->srv, 0) < 0)
			break;
	}
	return NULL;
}

static void test_server_embeds_in_an_application_loop(void **s)
{
	char dir[] = "/tmp/vh-emb-XXXXXX", path[64];
	struct vh_server_config c = {.mode = VH_SERVER_LISTEN};
	struct loop_arg a = {0};
	struct echo_dev e;
	struct vh_device d;
	struct th_guest g;
	pthread_t thr;

	(void)s;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sock", dir);
	c.path = path;
	echo_init(&e, ECHO_NOW);
	echo_device(&e, &d, 1, 0);
	assert_int_equal(vh_server_new(&a.srv, &d, &c), 0);
	assert_int_equal(pthread_create(&thr, NULL, own_loop, &a), 0);
	th_guest_init(&g, 1000);
	th_guest_connect(&g, path, ALL_PF, ALL_F, true);
	th_ring_setup(&g, 0, 64, 0);
	th_run(&g, 0, 0, 100, 8, 1, false);
	th_guest_fini(&g);
	atomic_store(&a.quit, true);
	pthread_join(thr, NULL);
	vh_server_free(a.srv);
	rmdir(dir);
	echo_fini(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reset_device_stops_rings_and_forgets_them),
	    cmocka_unit_test(
		test_hostile_ring_sets_needs_reset_and_status_zero_resets),
	    cmocka_unit_test(test_config_and_device_state_reach_the_device),
	    cmocka_unit_test(test_sixteen_servers_serve_in_one_process),
	    cmocka_unit_test(test_256_queues_spread_over_4_workers),
	    cmocka_unit_test(test_0x8000_ring_device_pays_only_for_rings_used),
	    cmocka_unit_test(test_509_memory_slots_are_accepted_and_used),
	    cmocka_unit_test(test_config_change_reaches_the_frontend),
	    cmocka_unit_test(test_server_embeds_in_an_application_loop),
	};

	th_quiet_logs();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
