/* SPDX-License-Identifier: MIT */
/*
 * Loopback: our front-end and driver queues against vh_server serving the
 * echo device, in one process. Every request must come back exactly once
 * with its readable bytes copied into its writable buffer.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

#define ALL_F	(~(uint64_t)0)
#define NO(bit) (~vh_virtio_feature_mask(bit))
#define ALL_PF	(~(uint64_t)0)

struct fix {
	struct echo_dev e;
	struct vh_device d;
	struct th_srv s;
	struct th_guest g;
};

static void start(struct fix *f, enum echo_mode mode, unsigned nq,
		  const struct vh_server_config *cfg)
{
	echo_init(&f->e, mode);
	echo_device(&f->e, &f->d, nq, 0);
	th_srv_start(&f->s, &f->d, cfg);
	th_guest_init(&f->g, 100000);
}

static void finish(struct fix *f)
{
	th_guest_fini(&f->g);
	th_srv_stop(&f->s);
	echo_fini(&f->e);
}

static void run_one_ring(uint64_t feat_mask, unsigned nout, bool indirect,
			 bool expect_packed)
{
	struct fix f;

	start(&f, ECHO_NOW, 1, NULL);
	th_guest_connect(&f.g, f.s.path, ALL_PF, feat_mask, true);
	assert_int_equal(f.g.packed, expect_packed);
	th_ring_setup(&f.g, 0, 64, 0);
	/* More requests than the ring holds: indices wrap several times. */
	th_run(&f.g, 0, 0, 1000, 16, nout, indirect);
	th_run(&f.g, 0, 1000, 300, 1, nout, indirect);
	finish(&f);
}

static void test_split_event_idx_echoes_every_request_once(void **st)
{
	(void)st;
	run_one_ring(NO(VH_VIRTIO_F_RING_PACKED), 1, false, false);
}

static void test_split_without_event_idx_echoes_every_request_once(void **st)
{
	(void)st;
	run_one_ring(NO(VH_VIRTIO_F_RING_PACKED) &
			 NO(VH_VIRTIO_RING_F_EVENT_IDX),
		     3, false, false);
}

static void test_packed_event_idx_echoes_every_request_once(void **st)
{
	(void)st;
	run_one_ring(ALL_F, 1, false, true);
}

static void test_packed_without_event_idx_echoes_every_request_once(void **st)
{
	(void)st;
	run_one_ring(NO(VH_VIRTIO_RING_F_EVENT_IDX), 3, false, true);
}

static void test_split_indirect_chains_are_walked(void **st)
{
	(void)st;
	run_one_ring(NO(VH_VIRTIO_F_RING_PACKED), 3, true, false);
}

static void test_packed_indirect_chains_are_walked(void **st)
{
	(void)st;
	run_one_ring(ALL_F, 3, true, true);
}

static void test_polling_worker_echoes_and_sleeps_again(void **st)
{
	struct vh_server_config cfg = {.poll_us = 2000};
	struct fix f;

	(void)st;
	start(&f, ECHO_NOW, 1, &cfg);
	th_guest_connect(&f.g, f.s.path, ALL_PF, ALL_F, true);
	th_ring_setup(&f.g, 0, 64, 0);
	th_run(&f.g, 0, 0, 500, 32, 1, false);
	/* After the poll budget the worker sleeps; a kick wakes it. */
	th_sleep_ms(20);
	th_run(&f.g, 0, 500, 100, 4, 1, false);
	finish(&f);
}

static void test_completion_from_another_thread(void **st)
{
	struct fix f;

	(void)st;
	start(&f, ECHO_REMOTE, 1, NULL);
	th_guest_connect(&f.g, f.s.path, ALL_PF, NO(VH_VIRTIO_F_RING_PACKED),
			 true);
	th_ring_setup(&f.g, 0, 64, 0);
	th_run(&f.g, 0, 0, 1000, 32, 1, false);
	finish(&f);
}

static void test_completion_from_another_thread_packed(void **st)
{
	struct fix f;

	(void)st;
	start(&f, ECHO_REMOTE, 1, NULL);
	th_guest_connect(&f.g, f.s.path, ALL_PF, ALL_F, true);
	th_ring_setup(&f.g, 0, 64, 0);
	th_run(&f.g, 0, 0, 1000, 32, 2, false);
	finish(&f);
}

/* ---- several queues on several workers --------------------------------- */

struct mq_arg {
	struct th_guest *g;
	unsigned q;
};

static void *mq_driver(void *arg)
{
	struct mq_arg *a = arg;

	th_run(a->g, a->q, a->q * 1000, 1000, 16, 1, false);
	return NULL;
}

static void test_four_queues_on_four_workers_run_concurrently(void **st)
{
	struct vh_server_config cfg = {.queues_per_worker = 1,
				       .max_workers = 4};
	struct mq_arg args[4];
	pthread_t thr[4];
	struct fix f;

	(void)st;
	start(&f, ECHO_NOW, 4, &cfg);
	th_guest_connect(&f.g, f.s.path, ALL_PF, ALL_F, true);
	for (unsigned q = 0; q < 4; q++)
		th_ring_setup(&f.g, q, 64, 0);
	for (unsigned q = 0; q < 4; q++) {
		args[q] = (struct mq_arg){&f.g, q};
		assert_int_equal(
		    pthread_create(&thr[q], NULL, mq_driver, &args[q]), 0);
	}
	for (unsigned q = 0; q < 4; q++)
		pthread_join(thr[q], NULL);
	/* Each ring was started on its own worker. */
	for (unsigned q = 0; q < 4; q++)
		assert_int_equal(atomic_load(&f.e.worker_of[q]), (int)q);
	finish(&f);
}

static void test_two_queues_per_worker_share_it(void **st)
{
	struct vh_server_config cfg = {.queues_per_worker = 2,
				       .max_workers = 4};
	struct fix f;

	(void)st;
	start(&f, ECHO_REMOTE, 4, &cfg);
	th_guest_connect(&f.g, f.s.path, ALL_PF, NO(VH_VIRTIO_F_RING_PACKED),
			 true);
	for (unsigned q = 0; q < 4; q++)
		th_ring_setup(&f.g, q, 32, 0);
	for (unsigned round = 0; round < 50; round++)
		for (unsigned q = 0; q < 4; q++)
			th_run(&f.g, q, q * 10000 + round * 8, 8, 8, 1, false);
	assert_int_equal(atomic_load(&f.e.worker_of[0]), 0);
	assert_int_equal(atomic_load(&f.e.worker_of[1]), 0);
	assert_int_equal(atomic_load(&f.e.worker_of[2]), 1);
	assert_int_equal(atomic_load(&f.e.worker_of[3]), 1);
	finish(&f);
}

/* ---- memory hot-add / hot-remove while requests flow ------------------- */

struct flow {
	struct th_guest *g;
	atomic_bool stop;
	unsigned done;
};

static void *flow_main(void *arg)
{
	struct flow *fl = arg;
	unsigned id = 0;

	while (!atomic_load(&fl->stop)) {
		th_run(fl->g, 0, id, 50, 8, 1, false);
		id += 50;
	}
	fl->done = id;
	return NULL;
}

#define HOT_GPA 0x900000000ull
#define HOT_LEN (2u << 20)

static void test_memory_hot_add_and_remove_while_requests_flow(void **st)
{
	struct vhost_user_mem_region r = {
	    .guest_phys_addr = HOT_GPA,
	    .memory_size = HOT_LEN,
	    .mmap_offset = 0,
	};
	struct flow fl = {0};
	pthread_t thr;
	struct fix f;
	uint8_t *hot;
	int hfd;

	(void)st;
	start(&f, ECHO_NOW, 2, NULL);
	th_guest_connect(&f.g, f.s.path, ALL_PF, NO(VH_VIRTIO_F_RING_PACKED),
			 true);
	assert_true(
	    vh_protocol_has(f.g.pf, VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS));
	th_ring_setup(&f.g, 0, 64, 0);
	th_ring_setup(&f.g, 1, 64, 0);
	hfd = memfd_create("hot", MFD_CLOEXEC);
	assert_int_equal(ftruncate(hfd, HOT_LEN), 0);
	hot = mmap(NULL, HOT_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, hfd, 0);
	assert_true(hot != MAP_FAILED);
	r.userspace_addr = (uintptr_t)hot;

	fl.g = &f.g;
	assert_int_equal(pthread_create(&thr, NULL, flow_main, &fl), 0);
	for (unsigned round = 0; round < 5; round++) {
		struct vh_drv_buf out = {HOT_GPA + 0x1000, TH_BUF};
		struct vh_drv_buf in = {HOT_GPA + 0x2000 + round * 64, TH_BUF};
		void *tok;
		uint32_t len;

		assert_int_equal(vh_frontend_add_mem_reg(f.g.fe, &r, hfd), 0);
		/* Ring 1 uses the new region at once after the reply. */
		memset(hot + 0x1000, 0x5a + round, TH_BUF);
		assert_int_equal(vh_drv_add(f.g.r[1].drv, &out, 1, &in, 1,
					    false, (void *)(uintptr_t)77),
				 0);
		th_kick(&f.g, 1);
		for (int i = 0; i < TH_TIMEOUT_MS; i++) {
			if (vh_drv_get_used(f.g.r[1].drv, &tok, &len) == 1)
				break;
			th_sleep_ms(1);
		}
		assert_int_equal((uintptr_t)tok, 77);
		assert_int_equal(len, TH_BUF);
		assert_memory_equal(hot + 0x1000, hot + 0x2000 + round * 64,
				    TH_BUF);
		assert_int_equal(vh_frontend_rem_mem_reg(f.g.fe, &r), 0);
	}
	atomic_store(&fl.stop, true);
	pthread_join(thr, NULL);
	assert_true(fl.done >= 50);
	munmap(hot, HOT_LEN);
	close(hfd);
	finish(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_split_event_idx_echoes_every_request_once),
	    cmocka_unit_test(
		test_split_without_event_idx_echoes_every_request_once),
	    cmocka_unit_test(test_packed_event_idx_echoes_every_request_once),
	    cmocka_unit_test(
		test_packed_without_event_idx_echoes_every_request_once),
	    cmocka_unit_test(test_split_indirect_chains_are_walked),
	    cmocka_unit_test(test_packed_indirect_chains_are_walked),
	    cmocka_unit_test(test_polling_worker_echoes_and_sleeps_again),
	    cmocka_unit_test(test_completion_from_another_thread),
	    cmocka_unit_test(test_completion_from_another_thread_packed),
	    cmocka_unit_test(test_four_queues_on_four_workers_run_concurrently),
	    cmocka_unit_test(test_two_queues_per_worker_share_it),
	    cmocka_unit_test(
		test_memory_hot_add_and_remove_while_requests_flow),
	};

	th_quiet_logs();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
