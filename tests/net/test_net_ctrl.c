/* SPDX-License-Identifier: MIT */
/*
 * The control queue (virtio 1.2 §5.1.6.5): VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET
 * is acked OK within 1..max_virtqueue_pairs and ERR otherwise; a command of
 * the wrong length gets ERR, one without room for the ack is dropped; all
 * counted, and the device keeps serving. Receive steering follows the
 * number of pairs (§5.1.6.5.5).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "nh.h"

#define ALL   UINT64_MAX
#define PAIRS 4u
#define CTRL  (2 * PAIRS)

static struct nh *start(enum net_mode m, uint64_t mask, unsigned ctrl)
{
	static struct nh h;
	struct net_opts o;

	net_opts_init(&o);
	o.mode = m;
	o.gen_size = 64;
	o.pairs = PAIRS;
	nh_start(&h, &o, mask);
	nh_ring(&h, ctrl, 16);
	return &h;
}

/* Send one command, return its ack byte (or -1 if used length is 0). */
static int command(struct nh *h, unsigned q, const uint8_t *cmd, uint32_t clen,
		   uint32_t alen)
{
	unsigned s;
	uint32_t len;

	assert_true(nh_ctrl_post(h, q, cmd, clen, alen) >= 0);
	nh_kick(h, q);
	assert_int_equal(nh_reap(h, q, NH_TIMEOUT_MS, &s, &len), 1);
	if (len == 0)
		return -1;
	assert_int_equal(len, 1);
	return nh_slot(h, q, s)[0x1000 + alen - 1];
}

static int pairs_set(struct nh *h, unsigned q, uint16_t n)
{
	uint8_t cmd[4] = {VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET,
			  (uint8_t)n, (uint8_t)(n >> 8)};

	return command(h, q, cmd, sizeof(cmd), 1);
}

static void vq_pairs_set_is_acked_within_range(void **state)
{
	struct nh *h = start(NET_MODE_LOOP, ALL, CTRL);
	struct net_totals t;

	(void)state;
	assert_true(h->features & NET_F(VIRTIO_NET_F_MQ));
	assert_int_equal(pairs_set(h, CTRL, 1), VIRTIO_NET_OK);
	assert_int_equal(pairs_set(h, CTRL, PAIRS), VIRTIO_NET_OK);
	assert_int_equal(atomic_load(&h->dev->vq_pairs), PAIRS);
	assert_int_equal(pairs_set(h, CTRL, 2), VIRTIO_NET_OK);
	assert_int_equal(atomic_load(&h->dev->vq_pairs), 2);
	nh_totals(h, &t);
	assert_int_equal(t.ctrl_ok, 3);
	assert_int_equal(t.ctrl_err, 0);
	nh_stop(h);
}

static void vq_pairs_set_out_of_range_is_refused(void **state)
{
	struct nh *h = start(NET_MODE_LOOP, ALL, CTRL);
	struct net_totals t;

	(void)state;
	assert_int_equal(pairs_set(h, CTRL, 2), VIRTIO_NET_OK);
	assert_int_equal(pairs_set(h, CTRL, 0), VIRTIO_NET_ERR);
	assert_int_equal(pairs_set(h, CTRL, PAIRS + 1), VIRTIO_NET_ERR);
	assert_int_equal(pairs_set(h, CTRL, 0x8000), VIRTIO_NET_ERR);
	/* The refused commands changed nothing. */
	assert_int_equal(atomic_load(&h->dev->vq_pairs), 2);
	nh_totals(h, &t);
	assert_int_equal(t.ctrl_ok, 1);
	assert_int_equal(t.ctrl_err, 3);
	nh_stop(h);
}

static void command_with_a_wrong_length_gets_err(void **state)
{
	struct nh *h = start(NET_MODE_LOOP, ALL, CTRL);
	uint8_t shortc[3] = {VIRTIO_NET_CTRL_MQ,
			     VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, 2};
	uint8_t longc[5] = {VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET,
			    2, 0, 0};
	uint8_t one[1] = {VIRTIO_NET_CTRL_MQ};
	uint8_t other[3] = {VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, 1};
	struct net_totals t;

	(void)state;
	assert_int_equal(command(h, CTRL, shortc, 3, 1), VIRTIO_NET_ERR);
	assert_int_equal(command(h, CTRL, longc, 5, 1), VIRTIO_NET_ERR);
	assert_int_equal(command(h, CTRL, one, 1, 1), VIRTIO_NET_ERR);
	/* A class whose feature (CTRL_RX) is not offered. */
	assert_int_equal(command(h, CTRL, other, 3, 1), VIRTIO_NET_ERR);
	assert_int_equal(atomic_load(&h->dev->vq_pairs), 1);
	nh_totals(h, &t);
	assert_int_equal(t.ctrl_err, 4);
	/* Still serving. */
	assert_int_equal(pairs_set(h, CTRL, 3), VIRTIO_NET_OK);
	nh_stop(h);
}

static void command_without_room_for_the_ack_is_dropped(void **state)
{
	struct nh *h = start(NET_MODE_LOOP, ALL, CTRL);
	uint8_t cmd[4] = {VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET,
			  2, 0};
	struct net_totals t;

	(void)state;
	assert_int_equal(command(h, CTRL, cmd, 4, 0), -1);
	assert_int_equal(command(h, CTRL, cmd, 4, 3), -1);
	nh_totals(h, &t);
	assert_int_equal(t.ctrl_bad, 2);
	assert_int_equal(atomic_load(&h->dev->vq_pairs), 1);
	assert_int_equal(pairs_set(h, CTRL, 2), VIRTIO_NET_OK);
	nh_stop(h);
}

static void control_queue_is_ring_2_without_mq(void **state)
{
	struct nh *h = start(NET_MODE_LOOP, ALL & ~NET_F(VIRTIO_NET_F_MQ), 2);
	struct net_totals t;

	(void)state;
	/* §5.1.2: N is 1 without VIRTIO_NET_F_MQ, so the control queue is
	 * ring 2, and VQ_PAIRS_SET is not available. */
	assert_int_equal(pairs_set(h, 2, 1), VIRTIO_NET_ERR);
	nh_totals(h, &t);
	assert_int_equal(t.ctrl_err, 1);
	assert_int_equal(t.stray, 0);
	nh_stop(h);
}

static bool ring_got_frame(struct nh *h, unsigned q, int ms)
{
	unsigned s;
	uint32_t len;

	return nh_reap(h, q, ms, &s, &len) == 1;
}

static void receive_queues_follow_vq_pairs_set(void **state)
{
	struct nh *h = start(NET_MODE_GEN, ALL, CTRL);

	(void)state;
	/* The control queue runs: only receiveq1 receives after reset. */
	assert_int_equal(pairs_set(h, CTRL, 1), VIRTIO_NET_OK);
	for (unsigned p = 0; p < 2; p++) {
		nh_ring(h, 2 * p, 16);
		nh_ring(h, 2 * p + 1, 16);
		for (unsigned i = 0; i < 4; i++)
			assert_true(nh_rx_post(h, 2 * p, 2048, 1) >= 0);
		nh_kick(h, 2 * p);
	}
	assert_true(ring_got_frame(h, 0, NH_TIMEOUT_MS));
	assert_false(ring_got_frame(h, 2, 200));
	/* Two pairs: receiveq2 gets frames too. */
	assert_int_equal(pairs_set(h, CTRL, 2), VIRTIO_NET_OK);
	assert_true(ring_got_frame(h, 2, NH_TIMEOUT_MS));
	nh_stop(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(vq_pairs_set_is_acked_within_range),
	    cmocka_unit_test(vq_pairs_set_out_of_range_is_refused),
	    cmocka_unit_test(command_with_a_wrong_length_gets_err),
	    cmocka_unit_test(command_without_room_for_the_ack_is_dropped),
	    cmocka_unit_test(control_queue_is_ring_2_without_mq),
	    cmocka_unit_test(receive_queues_follow_vq_pairs_set),
	};

	nh_quiet_logs();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
