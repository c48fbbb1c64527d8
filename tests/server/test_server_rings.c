/* SPDX-License-Identifier: MIT */
/*
 * The ring state machine (vhost-user.rst "Ring states"): each transition,
 * seen from the front-end and through vh_server_ring_state().
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

#define ALL_F	   (~(uint64_t)0)
#define SPLIT_ONLY (~vh_virtio_feature_mask(VH_VIRTIO_F_RING_PACKED))
#define ALL_PF	   (~(uint64_t)0)

struct fix {
	struct echo_dev e;
	struct vh_device d;
	struct th_srv s;
	struct th_guest g;
};

static void start(struct fix *f, enum echo_mode mode, unsigned flags)
{
	echo_init(&f->e, mode);
	echo_device(&f->e, &f->d, 2, flags);
	th_srv_start(&f->s, &f->d, NULL);
	th_guest_init(&f->g, 10000);
}

static void finish(struct fix *f)
{
	th_guest_fini(&f->g);
	th_srv_stop(&f->s);
	echo_fini(&f->e);
}

struct state_wait {
	struct vh_server *srv;
	uint32_t index;
	enum vh_ring_state want;
};

static bool state_is(void *arg)
{
	struct state_wait *w = arg;

	return vh_server_ring_state(w->srv, w->index) == w->want;
}

static void expect_state(struct fix *f, uint32_t index, enum vh_ring_state s)
{
	struct state_wait w = {f->s.srv, index, s};

	assert_true(th_wait(state_is, &w, TH_TIMEOUT_MS));
}

/* NUM, BASE, ADDR, CALL, ERR but no KICK and no ENABLE. */
static void configure(struct fix *f, unsigned q, uint16_t size)
{
	struct vhost_user_vring_addr a;
	uint32_t base = 0;

	th_ring_init(&f->g, q, size);
	th_ring_addr(&f->g, q, 0, &a);
	if (f->g.packed) {
		struct vh_packed_base b = {0, true, 0, true};

		base = vh_proto_encode_packed_base(&b);
	}
	assert_int_equal(vh_frontend_set_vring_num(f->g.fe, q, size), 0);
	assert_int_equal(vh_frontend_set_vring_base(f->g.fe, q, base), 0);
	assert_int_equal(vh_frontend_set_vring_addr(f->g.fe, &a), 0);
	assert_int_equal(vh_frontend_set_vring_call(f->g.fe, q, f->g.r[q].call),
			 0);
	assert_int_equal(vh_frontend_set_vring_err(f->g.fe, q, f->g.r[q].err),
			 0);
}

static void submit(struct fix *f, unsigned q, unsigned first, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(th_submit(&f->g, q, first + i, 1, false), 0);
}

static void reap(struct fix *f, unsigned q, unsigned n, uint32_t want_len)
{
	unsigned id;
	uint32_t len;

	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(th_reap(&f->g, q, TH_TIMEOUT_MS, &id, &len),
				 1);
		assert_int_equal(len, want_len);
	}
}

static void expect_nothing_used(struct fix *f, unsigned q)
{
	unsigned id;
	uint32_t len;

	assert_int_equal(th_reap(&f->g, q, 50, &id, &len), 0);
}

static void test_kick_starts_ring_and_kick_before_enable_is_not_lost(void **st)
{
	struct fix f;

	(void)st;
	start(&f, ECHO_NOW, 0);
	th_guest_connect(&f.g, f.s.path, ALL_PF, SPLIT_ONLY, true);
	configure(&f, 0, 64);
	/* "Each ring is initialized in a stopped and disabled state." */
	expect_state(&f, 0, VH_RING_STOPPED_DISABLED);
	assert_int_equal(vh_frontend_set_vring_kick(f.g.fe, 0, f.g.r[0].kick),
			 0);
	expect_state(&f, 0, VH_RING_STOPPED_DISABLED);
	submit(&f, 0, 0, 3);
	th_kick_force(&f.g, 0);
	/* The kick starts the ring; disabled, nothing is processed. */
	expect_state(&f, 0, VH_RING_STARTED_DISABLED);
	expect_nothing_used(&f, 0);
	assert_int_equal(atomic_load(&f.e.handled), 0);
	/* Enabling looks at the ring again: no second kick needed. */
	assert_int_equal(vh_frontend_set_vring_enable(f.g.fe, 0, true), 0);
	expect_state(&f, 0, VH_RING_STARTED_ENABLED);
	reap(&f, 0, 3, TH_BUF);
	assert_int_equal(atomic_load(&f.e.started), 1);
	finish(&f);
}

static void get_base_then_restart(bool packed)
{
	struct fix f;
	uint32_t base;

	start(&f, ECHO_NOW, 0);
	th_guest_connect(&f.g, f.s.path, ALL_PF, packed ? ALL_F : SPLIT_ONLY,
			 true);
	assert_int_equal(f.g.packed, packed);
	th_ring_setup(&f.g, 0, 64, 0);
	th_run(&f.g, 0, 0, 10, 4, 1, false);
	expect_state(&f, 0, VH_RING_STARTED_ENABLED);

	assert_int_equal(vh_frontend_get_vring_base(f.g.fe, 0, &base), 0);
	if (packed) {
		struct vh_packed_base b;

		/* Two descriptors per request, none in flight. */
		vh_proto_decode_packed_base(base, &b);
		assert_int_equal(b.avail_idx, 20);
		assert_int_equal(b.used_idx, 20);
		assert_true(b.avail_wrap && b.used_wrap);
	} else {
		assert_int_equal(base, 10);
	}
	/* Stopped, not reset: still enabled; the device saw the stop. */
	expect_state(&f, 0, VH_RING_STOPPED_ENABLED);
	assert_int_equal(atomic_load(&f.e.stopped), 1);

	/* No processing while stopped, kicks or not. */
	submit(&f, 0, 10, 2);
	th_kick_force(&f.g, 0);
	expect_nothing_used(&f, 0);
	assert_int_equal(atomic_load(&f.e.handled), 10);

	/* Re-start where it stopped: SET_VRING_BASE, SET_VRING_KICK (the
	 * pending kick on the fd starts it). */
	assert_int_equal(vh_frontend_set_vring_base(f.g.fe, 0, base), 0);
	assert_int_equal(vh_frontend_set_vring_kick(f.g.fe, 0, f.g.r[0].kick),
			 0);
	reap(&f, 0, 2, TH_BUF);
	expect_state(&f, 0, VH_RING_STARTED_ENABLED);
	th_run(&f.g, 0, 12, 100, 8, 1, false);
	assert_int_equal(atomic_load(&f.e.started), 2);
	finish(&f);
}

static void test_get_vring_base_stops_split_ring_and_restart_resumes(void **s)
{
	(void)s;
	get_base_then_restart(false);
}

static void test_get_vring_base_stops_packed_ring_and_restart_resumes(void **s)
{
	(void)s;
	get_base_then_restart(true);
}

static void test_get_vring_base_answers_after_inflight_requests_drain(void **s)
{
	struct fix f;
	uint32_t base;
	unsigned id;
	uint32_t len;

	(void)s;
	start(&f, ECHO_REMOTE, 0);
	f.e.remote_delay_ms = 20;
	th_guest_connect(&f.g, f.s.path, ALL_PF, SPLIT_ONLY, true);
	th_ring_setup(&f.g, 0, 64, 0);
	submit(&f, 0, 0, 8);
	th_kick(&f.g, 0);
	while (atomic_load(&f.e.handled) < 8)
		th_sleep_ms(1);
	/* 8 requests with the device, completing over ~160 ms. */
	assert_int_equal(vh_frontend_get_vring_base(f.g.fe, 0, &base), 0);
	assert_int_equal(base, 8);
	/* Every one of them was used before the reply. */
	for (unsigned i = 0; i < 8; i++) {
		assert_int_equal(th_reap(&f.g, 0, 0, &id, &len), 1);
		assert_int_equal(len, TH_BUF);
	}
	finish(&f);
}

static void test_started_disabled_ring_runs_without_side_effects(void **s)
{
	struct fix f;

	(void)s;
	start(&f, ECHO_NOW, VH_DEVICE_F_PROCESS_DISABLED);
	th_guest_connect(&f.g, f.s.path, ALL_PF, ALL_F, true);
	configure(&f, 0, 64);
	assert_int_equal(vh_frontend_set_vring_kick(f.g.fe, 0, f.g.r[0].kick),
			 0);
	submit(&f, 0, 0, 5);
	th_kick_force(&f.g, 0);
	/* Processed and discarded: used with length 0, nothing echoed. */
	reap(&f, 0, 5, 0);
	expect_state(&f, 0, VH_RING_STARTED_DISABLED);
	assert_int_equal(atomic_load(&f.e.discarded), 5);
	assert_int_equal(atomic_load(&f.e.side_effect), 0);
	assert_int_equal(vh_frontend_set_vring_enable(f.g.fe, 0, true), 0);
	th_run(&f.g, 0, 5, 20, 4, 1, false);
	assert_int_equal(atomic_load(&f.e.side_effect), 20);
	finish(&f);
}

static void test_set_features_without_protocol_features_enables_rings(void **s)
{
	struct fix f;

	(void)s;
	start(&f, ECHO_NOW, 0);
	th_guest_connect(&f.g, f.s.path, ALL_PF, ALL_F, false);
	/* Enabled at once, before the ring is even configured. */
	expect_state(&f, 0, VH_RING_STOPPED_ENABLED);
	expect_state(&f, 1, VH_RING_STOPPED_ENABLED);
	th_ring_setup(&f.g, 0, 64, 0); /* no SET_VRING_ENABLE sent */
	th_run(&f.g, 0, 0, 50, 8, 1, false);
	expect_state(&f, 0, VH_RING_STARTED_ENABLED);
	finish(&f);
}

static void test_nofd_kick_starts_a_polled_ring(void **s)
{
	struct fix f;

	(void)s;
	start(&f, ECHO_NOW, 0);
	th_guest_connect(&f.g, f.s.path, ALL_PF, SPLIT_ONLY, true);
	configure(&f, 0, 64);
	assert_int_equal(vh_frontend_set_vring_enable(f.g.fe, 0, true), 0);
	/* NOFD: "polling should be used": started without any kick. */
	assert_int_equal(vh_frontend_set_vring_kick(f.g.fe, 0, -1), 0);
	expect_state(&f, 0, VH_RING_STARTED_ENABLED);
	submit(&f, 0, 0, 4);
	vh_drv_kick_prepare(f.g.r[0].drv); /* publish, never kick */
	reap(&f, 0, 4, TH_BUF);
	finish(&f);
}

static void test_changing_base_of_a_started_ring_is_refused(void **s)
{
	struct fix f;

	(void)s;
	th_quiet_logs();
	start(&f, ECHO_NOW, 0);
	th_guest_connect(&f.g, f.s.path, ALL_PF, SPLIT_ONLY, true);
	th_ring_setup(&f.g, 0, 64, 0);
	th_run(&f.g, 0, 0, 5, 4, 1, false);
	/* With REPLY_ACK the refusal is a nack; the session goes on. */
	assert_int_equal(vh_frontend_set_vring_base(f.g.fe, 0, 0), -EIO);
	assert_int_equal(vh_frontend_set_vring_num(f.g.fe, 0, 32), -EIO);
	th_run(&f.g, 0, 5, 20, 4, 1, false);
	finish(&f);
}

static void test_call_fd_replaced_while_running(void **s)
{
	struct fix f;
	int nfd, old;
	uint64_t v;

	(void)s;
	start(&f, ECHO_NOW, 0);
	th_guest_connect(&f.g, f.s.path, ALL_PF, SPLIT_ONLY, true);
	th_ring_setup(&f.g, 0, 64, 0);
	th_run(&f.g, 0, 0, 10, 1, 1, false);
	nfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	assert_true(nfd >= 0);
	assert_int_equal(vh_frontend_set_vring_call(f.g.fe, 0, nfd), 0);
	old = f.g.r[0].call;
	(void)!read(old, &v, 8);
	f.g.r[0].call = nfd;
	th_run(&f.g, 0, 10, 10, 1, 1, false);
	/* Notifications now go to the new eventfd only. */
	assert_int_equal(read(old, &v, 8), -1);
	close(old);
	finish(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
		test_kick_starts_ring_and_kick_before_enable_is_not_lost),
	    cmocka_unit_test(
		test_get_vring_base_stops_split_ring_and_restart_resumes),
	    cmocka_unit_test(
		test_get_vring_base_stops_packed_ring_and_restart_resumes),
	    cmocka_unit_test(
		test_get_vring_base_answers_after_inflight_requests_drain),
	    cmocka_unit_test(
		test_started_disabled_ring_runs_without_side_effects),
	    cmocka_unit_test(
		test_set_features_without_protocol_features_enables_rings),
	    cmocka_unit_test(test_nofd_kick_starts_a_polled_ring),
	    cmocka_unit_test(test_changing_base_of_a_started_ring_is_refused),
	    cmocka_unit_test(test_call_fd_replaced_while_running),
	};

	th_quiet_logs();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
