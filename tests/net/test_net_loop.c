/* SPDX-License-Identifier: MIT */
/*
 * --loop through the whole stack: our front-end and driver queues over a
 * memfd, vh_server, the net device. Frames sent on TX come back on RX with
 * the virtio-net header the spec asks for (virtio 1.2 §5.1.6), in one
 * buffer or merged over several (MRG_RXBUF), in split and packed rings;
 * disabled rings; the RARP announcement. Bad input: test_net_bad.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "nh.h"

#define ALL UINT64_MAX
#define RX  0u
#define TX  1u

static uint16_t num_buffers(struct nh *h, unsigned slot)
{
	uint16_t n;

	memcpy(&n, nh_slot(h, RX, slot) + 10, 2);
	return n;
}

static void loop_echo_with(uint64_t mask, bool split, bool indirect)
{
	struct nh *h = nh_loop(mask);
	uint8_t f[2000];
	struct net_totals t;
	uint64_t bytes = 0;

	h->use_indirect = indirect;
	assert_true(!indirect || h->indirect);
	for (unsigned i = 0; i < 32; i++)
		assert_true(nh_rx_post(h, RX, 2048, indirect ? 3 : 1) >= 0);
	nh_kick(h, RX);
	for (unsigned i = 0; i < 32; i++) {
		uint32_t len = 60 + i * 45, got;
		unsigned s;

		nh_frame(f, len, i);
		nh_send(h, &nh_zero_hdr, f, len, split);
		nh_reap_tx(h, 1);
		s = nh_reap_rx(h, &got);
		assert_int_equal(got, nh_hdrlen(h) + len);
		assert_memory_equal(nh_slot(h, RX, s) + nh_hdrlen(h), f, len);
		/* flags 0, no GSO; num_buffers 1 (§5.1.6.4). */
		assert_int_equal(nh_slot(h, RX, s)[0], 0);
		assert_int_equal(nh_slot(h, RX, s)[1], 0);
		if (nh_hdrlen(h) == 12)
			assert_int_equal(num_buffers(h, s), 1);
		bytes += len;
	}
	nh_totals(h, &t);
	assert_int_equal(t.tx_frames, 32);
	assert_int_equal(t.rx_frames, 32);
	assert_int_equal(t.tx_bytes, bytes);
	assert_int_equal(t.rx_bytes, bytes);
	assert_int_equal(t.rx_dropped + t.tx_bad + t.rx_bad_bufs, 0);
	nh_stop(h);
}

static void loop_echo(uint64_t mask, bool split)
{
	loop_echo_with(mask, split, false);
}

static void loop_echoes_frames_split_ring(void **state)
{
	(void)state;
	loop_echo(ALL & ~vh_virtio_feature_mask(VH_VIRTIO_F_RING_PACKED),
		  false);
}

static void loop_echoes_frames_packed_ring(void **state)
{
	(void)state;
	loop_echo(ALL, false);
}

static void loop_echoes_frames_without_event_idx_or_mrg(void **state)
{
	(void)state;
	loop_echo(ALL & ~vh_virtio_feature_mask(VH_VIRTIO_F_RING_PACKED) &
		      ~vh_virtio_feature_mask(VH_VIRTIO_RING_F_EVENT_IDX) &
		      ~NET_F(VIRTIO_NET_F_MRG_RXBUF),
		  true);
}

static void loop_echoes_frames_in_indirect_tables(void **state)
{
	(void)state;
	/* INDIRECT_DESC: TX header and frame, and RX buffers in three
	 * pieces, each in an indirect table (split, then packed). */
	loop_echo_with(ALL & ~vh_virtio_feature_mask(VH_VIRTIO_F_RING_PACKED),
		       true, true);
	loop_echo_with(ALL, true, true);
}

static void loop_uses_legacy_header_without_version_1(void **state)
{
	(void)state;
	/* Neither VERSION_1 nor MRG_RXBUF: the 10-byte header (§5.1.6). */
	loop_echo(ALL & ~vh_virtio_feature_mask(VH_VIRTIO_F_RING_PACKED) &
		      ~vh_virtio_feature_mask(VH_VIRTIO_F_VERSION_1) &
		      ~NET_F(VIRTIO_NET_F_MRG_RXBUF),
		  true);
}

static void mrg_rxbuf_spreads_a_large_frame_over_buffers(void **state)
{
	struct nh *h = nh_loop(ALL);
	uint8_t f[3000], got[3100];
	unsigned s[3];
	uint32_t len[3];
	size_t at = 0;

	(void)state;
	for (unsigned i = 0; i < 4; i++)
		assert_true(nh_rx_post(h, RX, 1024, i == 1 ? 3 : 1) >= 0);
	nh_kick(h, RX);
	nh_frame(f, sizeof(f), 9);
	nh_send(h, &nh_zero_hdr, f, sizeof(f), false);
	nh_reap_tx(h, 1);
	for (unsigned i = 0; i < 3; i++)
		s[i] = nh_reap_rx(h, &len[i]);
	assert_int_equal(len[0], 1024);
	assert_int_equal(len[1], 1024);
	assert_int_equal(len[2], 12 + 3000 - 2048);
	assert_int_equal(num_buffers(h, s[0]), 3);
	for (unsigned i = 0; i < 3; i++) {
		unsigned skip = i ? 0 : 12;

		memcpy(got + at, nh_slot(h, RX, s[i]) + skip, len[i] - skip);
		at += len[i] - skip;
	}
	assert_int_equal(at, sizeof(f));
	assert_memory_equal(got, f, sizeof(f));
	nh_stop(h);
}

static void many_frames_through_a_small_ring_arrive_once_in_order(void **state)
{
	static struct nh h;
	struct net_opts o;
	uint8_t f[256];
	unsigned sent = 0, rcvd = 0, txdone = 0;

	(void)state;
	net_opts_init(&o);
	o.mode = NET_MODE_LOOP;
	nh_start(&h, &o, ALL);
	nh_ring(&h, RX, 16);
	nh_ring(&h, TX, 16);
	while (rcvd < 2000) {
		unsigned s;
		uint32_t len;

		while (nh_rx_post(&h, RX, 512, 1) >= 0)
			;
		nh_kick(&h, RX);
		while (sent < 2000 && sent - txdone < 16) {
			nh_frame(f, 60 + sent % 190, sent);
			if (nh_tx_post(&h, TX, &nh_zero_hdr, 12, f,
				       60 + sent % 190, false) < 0)
				break;
			sent++;
		}
		nh_kick(&h, TX);
		while (nh_reap(&h, TX, 0, &s, &len) == 1)
			txdone++;
		if (nh_reap(&h, RX, NH_TIMEOUT_MS, &s, &len) != 1)
			fail_msg("frame %u did not come back", rcvd);
		assert_int_equal(len, 12 + 60 + rcvd % 190);
		nh_frame(f, 60 + rcvd % 190, rcvd);
		assert_memory_equal(nh_slot(&h, RX, s) + 12, f,
				    60 + rcvd % 190);
		rcvd++;
	}
	nh_stop(&h);
}

static void disabled_rings_discard_tx_and_hold_rx(void **state)
{
	struct nh *h = nh_loop(ALL);
	uint8_t f[80];
	struct net_totals t;
	unsigned s;
	uint32_t len;

	(void)state;
	assert_true(nh_rx_post(h, RX, 2048, 1) >= 0);
	nh_kick(h, RX);
	/* vhost-user.rst "Ring states": started and disabled, TX packets
	 * are processed and discarded. */
	nh_frame(f, sizeof(f), 1);
	nh_send(h, &nh_zero_hdr, f, sizeof(f), false);
	nh_reap_tx(h, 1);
	assert_int_equal(vh_frontend_set_vring_enable(h->fe, TX, false), 0);
	nh_send(h, &nh_zero_hdr, f, sizeof(f), false);
	nh_reap_tx(h, 1);
	nh_totals(h, &t);
	assert_int_equal(t.tx_dropped, 1);
	assert_int_equal(t.tx_frames, 1);
	s = nh_reap_rx(h, &len); /* the first frame only */
	assert_int_equal(len, 12 + sizeof(f));
	assert_int_equal(nh_reap(h, RX, 100, &s, &len), 0);
	/* ... and a disabled RX ring gets no new packets: they wait. */
	assert_int_equal(vh_frontend_set_vring_enable(h->fe, TX, true), 0);
	assert_int_equal(vh_frontend_set_vring_enable(h->fe, RX, false), 0);
	assert_true(nh_rx_post(h, RX, 2048, 1) >= 0);
	nh_kick(h, RX);
	nh_send(h, &nh_zero_hdr, f, sizeof(f), false);
	nh_reap_tx(h, 1);
	assert_int_equal(nh_reap(h, RX, 200, &s, &len), 0);
	assert_int_equal(vh_frontend_set_vring_enable(h->fe, RX, true), 0);
	s = nh_reap_rx(h, &len);
	assert_int_equal(len, 12 + sizeof(f));
	assert_memory_equal(nh_slot(h, RX, s) + 12, f, sizeof(f));
	nh_stop(h);
}

static void rarp_announcement_comes_back_on_rx(void **state)
{
	struct nh *h = nh_loop(ALL);
	static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0xab, 0xcd, 0xef};
	struct net_totals t;
	uint8_t *b;
	uint32_t len;
	unsigned s;

	(void)state;
	assert_true(nh_rx_post(h, RX, 2048, 1) >= 0);
	nh_kick(h, RX);
#ifdef NET_HAVE_SERVER_NET_OPS
	assert_true(vh_protocol_has(h->pf, VHOST_USER_PROTOCOL_F_RARP));
	assert_int_equal(vh_frontend_send_rarp(h->fe, mac), 0);
#else
	assert_int_equal(net_dev_send_rarp(h->dev, mac), 0);
#endif
	s = nh_reap_rx(h, &len);
	b = nh_slot(h, RX, s) + 12;
	assert_int_equal(len, 12 + 60);
	assert_memory_equal(b, "\xff\xff\xff\xff\xff\xff", 6);
	assert_memory_equal(b + 6, mac, 6);
	assert_int_equal(b[12], 0x80); /* ETH_P_RARP */
	assert_int_equal(b[13], 0x35);
	assert_int_equal(b[21], 3); /* reverse request */
	assert_memory_equal(b + 22, mac, 6);
	nh_totals(h, &t);
	assert_int_equal(t.announce, 1);
	nh_stop(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(loop_echoes_frames_split_ring),
	    cmocka_unit_test(loop_echoes_frames_packed_ring),
	    cmocka_unit_test(loop_echoes_frames_without_event_idx_or_mrg),
	    cmocka_unit_test(loop_echoes_frames_in_indirect_tables),
	    cmocka_unit_test(loop_uses_legacy_header_without_version_1),
	    cmocka_unit_test(mrg_rxbuf_spreads_a_large_frame_over_buffers),
	    cmocka_unit_test(
		many_frames_through_a_small_ring_arrive_once_in_order),
	    cmocka_unit_test(disabled_rings_discard_tx_and_hold_rx),
	    cmocka_unit_test(rarp_announcement_comes_back_on_rx),
	};

	nh_quiet_logs();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
