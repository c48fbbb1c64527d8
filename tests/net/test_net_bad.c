/* SPDX-License-Identifier: MIT */
/*
 * Bad input, through --loop: a frame larger than the RX buffers, a frame
 * that would need more buffers than the ring has (MRG_RXBUF), a TX chain
 * without a virtio-net header, RX buffers too small for one, offloads the
 * driver did not accept (virtio 1.2 §5.1.6.4.1). Each is a dropped frame or
 * a buffer given back empty, counted, and the device carries on.
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

static void mrg_frame_without_enough_buffers_is_dropped(void **state)
{
	struct nh *h = nh_loop(ALL);
	uint8_t f[3000];
	struct net_totals t;
	unsigned s;
	uint32_t len;

	(void)state;
	for (unsigned i = 0; i < 2; i++)
		assert_true(nh_rx_post(h, RX, 1024, 1) >= 0);
	nh_kick(h, RX);
	nh_frame(f, sizeof(f), 1);
	nh_send(h, &nh_zero_hdr, f, sizeof(f), false);
	nh_reap_tx(h, 1);
	/* Both buffers come back unused: a buffer cannot be returned to
	 * the available ring, and a partial frame is not a frame. */
	for (unsigned i = 0; i < 2; i++) {
		nh_reap_rx(h, &len);
		assert_int_equal(len, 0);
	}
	nh_totals(h, &t);
	assert_int_equal(t.rx_dropped, 1);
	assert_int_equal(t.rx_bad_bufs, 2);
	/* The device lives on. */
	assert_true(nh_rx_post(h, RX, 1024, 1) >= 0);
	nh_kick(h, RX);
	nh_send(h, &nh_zero_hdr, f, 100, false);
	nh_reap_tx(h, 1);
	s = nh_reap_rx(h, &len);
	assert_int_equal(len, 112);
	assert_memory_equal(nh_slot(h, RX, s) + 12, f, 100);
	nh_stop(h);
}

static void frame_larger_than_the_buffer_is_dropped(void **state)
{
	struct nh *h = nh_loop(ALL & ~NET_F(VIRTIO_NET_F_MRG_RXBUF));
	uint8_t f[1000];
	struct net_totals t;
	unsigned s;
	uint32_t len;

	(void)state;
	assert_true(nh_rx_post(h, RX, 128, 1) >= 0);
	nh_kick(h, RX);
	nh_frame(f, sizeof(f), 2);
	/* Without MRG_RXBUF a frame takes exactly one buffer (§5.1.6.3.1):
	 * 1000 bytes do not fit in 128. */
	nh_send(h, &nh_zero_hdr, f, sizeof(f), false);
	nh_reap_tx(h, 1);
	nh_reap_rx(h, &len);
	assert_int_equal(len, 0);
	nh_totals(h, &t);
	assert_int_equal(t.rx_dropped, 1);
	assert_int_equal(t.rx_bad_bufs, 1);
	/* A big and a small frame in one go: the buffer the big one could
	 * not use carries the small one. */
	assert_true(nh_rx_post(h, RX, 128, 1) >= 0);
	nh_kick(h, RX);
	assert_true(nh_tx_post(h, TX, &nh_zero_hdr, 12, f, sizeof(f), false) >=
		    0);
	assert_true(nh_tx_post(h, TX, &nh_zero_hdr, 12, f, 64, false) >= 0);
	nh_kick(h, TX);
	nh_reap_tx(h, 2);
	s = nh_reap_rx(h, &len);
	assert_int_equal(len, 12 + 64);
	assert_memory_equal(nh_slot(h, RX, s) + 12, f, 64);
	nh_totals(h, &t);
	assert_int_equal(t.rx_dropped, 2);
	assert_int_equal(t.rx_bad_bufs, 1);
	assert_int_equal(t.rx_frames, 1);
	nh_stop(h);
}

static void tx_chain_without_a_header_is_dropped(void **state)
{
	struct nh *h = nh_loop(ALL);
	uint8_t f[64];
	struct net_totals t;
	unsigned s;
	uint32_t len;

	(void)state;
	assert_true(nh_rx_post(h, RX, 2048, 1) >= 0);
	nh_kick(h, RX);
	/* Six bytes: less than the 12-byte header (§5.1.6.2). */
	assert_true(nh_tx_post(h, TX, f, 6, NULL, 0, false) >= 0);
	nh_kick(h, TX);
	nh_reap_tx(h, 1);
	nh_totals(h, &t);
	assert_int_equal(t.tx_bad, 1);
	assert_int_equal(t.tx_frames, 0);
	/* And a good frame still comes back. */
	nh_frame(f, sizeof(f), 3);
	nh_send(h, &nh_zero_hdr, f, sizeof(f), true);
	nh_reap_tx(h, 1);
	s = nh_reap_rx(h, &len);
	assert_int_equal(len, 12 + sizeof(f));
	assert_memory_equal(nh_slot(h, RX, s) + 12, f, sizeof(f));
	nh_stop(h);
}

static void rx_buffer_smaller_than_the_header_comes_back_empty(void **state)
{
	struct nh *h = nh_loop(ALL);
	uint8_t f[64];
	struct net_totals t;
	unsigned s;
	uint32_t len;

	(void)state;
	assert_true(nh_rx_post(h, RX, 8, 1) >= 0);
	assert_true(nh_rx_post(h, RX, 2048, 1) >= 0);
	nh_kick(h, RX);
	nh_frame(f, sizeof(f), 4);
	nh_send(h, &nh_zero_hdr, f, sizeof(f), false);
	nh_reap_tx(h, 1);
	nh_reap_rx(h, &len);
	assert_int_equal(len, 0);
	s = nh_reap_rx(h, &len);
	assert_int_equal(len, 12 + sizeof(f));
	assert_memory_equal(nh_slot(h, RX, s) + 12, f, sizeof(f));
	nh_totals(h, &t);
	assert_int_equal(t.rx_bad_bufs, 1);
	assert_int_equal(t.rx_frames, 1);
	nh_stop(h);
}

/* An IPv4/UDP frame whose checksum the driver left to the device. */
static uint32_t udp_partial(uint8_t *f, struct virtio_net_hdr_v1 *h)
{
	static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
	uint32_t len = 100;

	net_make_udp_frame(f, len, mac, mac);
	for (uint32_t i = 42; i < len; i++)
		f[i] = (uint8_t)i;
	/* Pseudo-header sum in the checksum field, as drivers do. */
	{
		uint32_t s =
		    0x0a00 + 0x0002 + 0x0a00 + 0x0001 + 17 + (len - 34);

		f[40] = (uint8_t)(s >> 8);
		f[41] = (uint8_t)s;
	}
	memset(h, 0, sizeof(*h));
	h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h->csum_start = 34;
	h->csum_offset = 6;
	return len;
}

static uint16_t udp_check(const uint8_t *f, uint32_t len)
{
	/* Sum of pseudo-header and UDP header + data; 0xffff when right. */
	uint32_t s = 0x0a00 + 0x0002 + 0x0a00 + 0x0001 + 17 + (len - 34);

	for (uint32_t i = 34; i + 1 < len; i += 2)
		s += (uint32_t)f[i] << 8 | f[i + 1];
	if ((len - 34) % 2)
		s += (uint32_t)f[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static void
partial_checksum_is_completed_for_a_driver_without_guest_csum(void **state)
{
	struct nh *h = nh_loop(ALL & ~NET_F_GUEST_OFFLOADS);
	struct virtio_net_hdr_v1 hdr;
	uint8_t f[128];
	uint32_t len = udp_partial(f, &hdr), got;
	unsigned s;

	(void)state;
	assert_true(h->features & NET_F(VIRTIO_NET_F_CSUM));
	assert_true(nh_rx_post(h, RX, 2048, 1) >= 0);
	nh_kick(h, RX);
	nh_send(h, &hdr, f, len, false);
	nh_reap_tx(h, 1);
	s = nh_reap_rx(h, &got);
	assert_int_equal(got, 12 + len);
	/* §5.1.6.4.1: no NEEDS_CSUM for a driver without GUEST_CSUM; the
	 * checksum is in the frame instead. */
	assert_int_equal(nh_slot(h, RX, s)[0], 0);
	assert_int_equal(udp_check(nh_slot(h, RX, s) + 12, len), 0xffff);
	nh_stop(h);
}

static void partial_checksum_passes_through_with_guest_csum(void **state)
{
	struct nh *h = nh_loop(ALL);
	struct virtio_net_hdr_v1 hdr, got_hdr;
	uint8_t f[128];
	uint32_t len = udp_partial(f, &hdr), got;
	unsigned s;

	(void)state;
	assert_true(nh_rx_post(h, RX, 2048, 1) >= 0);
	nh_kick(h, RX);
	nh_send(h, &hdr, f, len, false);
	nh_reap_tx(h, 1);
	s = nh_reap_rx(h, &got);
	memcpy(&got_hdr, nh_slot(h, RX, s), 12);
	assert_int_equal(got_hdr.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	assert_int_equal(got_hdr.csum_start, 34);
	assert_int_equal(got_hdr.csum_offset, 6);
	assert_memory_equal(nh_slot(h, RX, s) + 12, f, len);
	nh_stop(h);
}

static void gso_frame_is_dropped_for_a_driver_without_guest_tso(void **state)
{
	struct nh *h = nh_loop(ALL & ~NET_F(VIRTIO_NET_F_GUEST_TSO4));
	struct virtio_net_hdr_v1 hdr;
	uint8_t f[3000];
	struct net_totals t;
	uint32_t got;
	unsigned s;

	(void)state;
	assert_true(h->features & NET_F(VIRTIO_NET_F_HOST_TSO4));
	assert_true(nh_rx_post(h, RX, 4096, 1) >= 0);
	nh_kick(h, RX);
	nh_frame(f, sizeof(f), 5);
	memset(&hdr, 0, sizeof(hdr));
	hdr.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	hdr.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	hdr.gso_size = 1448;
	hdr.hdr_len = 54;
	hdr.csum_start = 34;
	hdr.csum_offset = 16;
	nh_send(h, &hdr, f, sizeof(f), false);
	nh_reap_tx(h, 1);
	/* Then a plain frame: it takes the buffer, the GSO one was not
	 * delivered. */
	nh_send(h, &nh_zero_hdr, f, 64, false);
	nh_reap_tx(h, 1);
	s = nh_reap_rx(h, &got);
	assert_int_equal(got, 12 + 64);
	assert_int_equal(nh_slot(h, RX, s)[1], VIRTIO_NET_HDR_GSO_NONE);
	nh_totals(h, &t);
	assert_int_equal(t.rx_dropped, 1);
	assert_int_equal(t.rx_frames, 1);
	nh_stop(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(mrg_frame_without_enough_buffers_is_dropped),
	    cmocka_unit_test(frame_larger_than_the_buffer_is_dropped),
	    cmocka_unit_test(tx_chain_without_a_header_is_dropped),
	    cmocka_unit_test(
		rx_buffer_smaller_than_the_header_comes_back_empty),
	    cmocka_unit_test(
		partial_checksum_is_completed_for_a_driver_without_guest_csum),
	    cmocka_unit_test(partial_checksum_passes_through_with_guest_csum),
	    cmocka_unit_test(
		gso_frame_is_dropped_for_a_driver_without_guest_tso),
	};

	nh_quiet_logs();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
