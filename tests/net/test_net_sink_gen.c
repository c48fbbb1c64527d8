/* SPDX-License-Identifier: MIT */
/*
 * --sink reads and counts every TX frame; --gen keeps RX buffers filled
 * with well-formed frames (one buffer each, or merged when they are larger
 * than a buffer), in split and packed rings.
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

static const struct virtio_net_hdr_v1 zero_hdr;

static struct nh *start(enum net_mode m, unsigned size, uint64_t mask)
{
	static struct nh h;
	struct net_opts o;

	net_opts_init(&o);
	o.mode = m;
	o.gen_size = size;
	nh_start(&h, &o, mask);
	nh_ring(&h, RX, 64);
	nh_ring(&h, TX, 64);
	return &h;
}

static void sink(uint64_t mask)
{
	struct nh *h = start(NET_MODE_SINK, 0, mask);
	uint8_t f[1514];
	struct net_totals t;
	uint64_t bytes = 0;
	unsigned done = 0, s;
	uint32_t len;

	for (unsigned i = 0; i < 500; i++) {
		uint32_t l = 60 + (i * 37) % 1454;

		nh_frame(f, l, i);
		while (nh_tx_post(h, TX, &zero_hdr, 12, f, l, i % 2) < 0) {
			nh_kick(h, TX);
			assert_int_equal(
			    nh_reap(h, TX, NH_TIMEOUT_MS, &s, &len), 1);
			assert_int_equal(len, 0);
			done++;
		}
		bytes += l;
		if (i % 7 == 0)
			nh_kick(h, TX);
	}
	nh_kick(h, TX);
	while (done < 500) {
		assert_int_equal(nh_reap(h, TX, NH_TIMEOUT_MS, &s, &len), 1);
		done++;
	}
	nh_totals(h, &t);
	assert_int_equal(t.tx_frames, 500);
	assert_int_equal(t.tx_bytes, bytes);
	assert_int_equal(t.rx_frames + t.tx_bad + t.tx_dropped, 0);
	nh_stop(h);
}

static void sink_counts_every_frame_split_ring(void **state)
{
	(void)state;
	sink(ALL & ~vh_virtio_feature_mask(VH_VIRTIO_F_RING_PACKED));
}

static void sink_counts_every_frame_packed_ring(void **state)
{
	(void)state;
	sink(ALL);
}

static void check_gen_frame(struct nh *h, unsigned s, uint32_t size,
			    unsigned hl)
{
	const uint8_t *b = nh_slot(h, RX, s);
	uint8_t want[2048];
	static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
	static const uint8_t src[6] = {0x02, 0, 0, 0, 0, 0x02};

	/* A plain frame: no flags, no GSO (§5.1.6.4). */
	assert_int_equal(b[0], 0);
	assert_int_equal(b[1], 0);
	if (hl == 12) {
		uint16_t nb;

		memcpy(&nb, b + 10, 2);
		assert_int_equal(nb, 1);
	}
	net_make_udp_frame(want, size, mac, src);
	assert_memory_equal(b + hl, want, size);
	assert_memory_equal(b + hl, mac, 6); /* to the device's MAC */
}

static void gen(uint64_t mask, unsigned hl)
{
	struct nh *h = start(NET_MODE_GEN, 64, mask);
	struct net_totals t;
	unsigned got = 0, s;
	uint32_t len;

	while (got < 300) {
		while (nh_rx_post(h, RX, 2048, got % 3 ? 1 : 2) >= 0)
			;
		nh_kick(h, RX);
		assert_int_equal(nh_reap(h, RX, NH_TIMEOUT_MS, &s, &len), 1);
		assert_int_equal(len, hl + 64);
		check_gen_frame(h, s, 64, hl);
		got++;
		while (nh_reap(h, RX, 0, &s, &len) == 1) {
			assert_int_equal(len, hl + 64);
			check_gen_frame(h, s, 64, hl);
			got++;
		}
	}
	nh_totals(h, &t);
	assert_true(t.rx_frames >= got);
	assert_int_equal(t.rx_bytes, t.rx_frames * 64);
	assert_int_equal(t.rx_dropped + t.rx_bad_bufs, 0);
	nh_stop(h);
}

static void gen_fills_rx_buffers_split_ring(void **state)
{
	(void)state;
	gen(ALL & ~vh_virtio_feature_mask(VH_VIRTIO_F_RING_PACKED), 12);
}

static void gen_fills_rx_buffers_packed_ring(void **state)
{
	(void)state;
	gen(ALL, 12);
}

static void gen_fills_rx_buffers_without_mrg_rxbuf(void **state)
{
	(void)state;
	gen(ALL & ~NET_F(VIRTIO_NET_F_MRG_RXBUF), 12);
}

/* The header is stored only where the buffer does not hold it already
 * (net_path.c put_hdr): a buffer holding another frame's header, or
 * garbage, gets exactly the header of this frame. */
static void gen_replaces_a_stale_header(uint64_t mask)
{
	struct nh *h = start(NET_MODE_GEN, 64, mask);
	static const uint8_t want[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0};
	/* A checksummed GSO frame's header merged over three buffers. */
	static const uint8_t merged[12] = {1, 3, 54,  0, 34, 0,
					   6, 0, 182, 5, 3,  0};
	static const uint8_t only_nb[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7, 0};

	for (unsigned round = 0; round < 3; round++) {
		const uint8_t *stale = round == 0   ? merged
				       : round == 1 ? only_nb
						    : NULL;
		unsigned s;
		uint32_t len;
		int slot = nh_rx_post(h, RX, 2048, 1);

		assert_true(slot >= 0);
		if (stale)
			memcpy(nh_slot(h, RX, (unsigned)slot), stale, 12);
		else
			memset(nh_slot(h, RX, (unsigned)slot), 0xa5, 2048);
		nh_kick(h, RX);
		assert_int_equal(nh_reap(h, RX, NH_TIMEOUT_MS, &s, &len), 1);
		assert_int_equal(s, (unsigned)slot);
		assert_int_equal(len, 12 + 64);
		assert_memory_equal(nh_slot(h, RX, s), want, 12);
		check_gen_frame(h, s, 64, 12);
	}
	nh_stop(h);
}

static void gen_replaces_a_stale_header_split_ring(void **state)
{
	(void)state;
	gen_replaces_a_stale_header(
	    ALL & ~vh_virtio_feature_mask(VH_VIRTIO_F_RING_PACKED));
}

static void gen_replaces_a_stale_header_packed_ring(void **state)
{
	(void)state;
	gen_replaces_a_stale_header(ALL);
}

static void gen_merges_frames_larger_than_a_buffer(void **state)
{
	struct nh *h = start(NET_MODE_GEN, 1500, ALL);
	uint8_t got[1600];
	unsigned s[3];
	uint32_t len[3];
	size_t at = 0;

	(void)state;
	/* 512-byte buffers: 12 + 1500 bytes take three. */
	for (unsigned i = 0; i < 3; i++)
		assert_true(nh_rx_post(h, RX, 512, 1) >= 0);
	nh_kick(h, RX);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(nh_reap(h, RX, NH_TIMEOUT_MS, &s[i], &len[i]),
				 1);
	assert_int_equal(len[0], 512);
	assert_int_equal(len[1], 512);
	assert_int_equal(len[2], 12 + 1500 - 1024);
	{
		uint16_t nb;

		memcpy(&nb, nh_slot(h, RX, s[0]) + 10, 2);
		assert_int_equal(nb, 3);
	}
	for (unsigned i = 0; i < 3; i++) {
		unsigned skip = i ? 0 : 12;

		memcpy(got + at, nh_slot(h, RX, s[i]) + skip, len[i] - skip);
		at += len[i] - skip;
	}
	{
		static const uint8_t mac[6] = {0x52, 0x54, 0x00,
					       0x12, 0x34, 0x56};
		static const uint8_t src[6] = {0x02, 0, 0, 0, 0, 0x02};
		uint8_t want[1500];

		net_make_udp_frame(want, 1500, mac, src);
		assert_memory_equal(got, want, 1500);
	}
	nh_stop(h);
}

static void gen_counts_tx_frames_as_a_sink(void **state)
{
	struct nh *h = start(NET_MODE_GEN, 64, ALL);
	uint8_t f[100];
	struct net_totals t;
	unsigned s;
	uint32_t len;

	(void)state;
	nh_frame(f, sizeof(f), 1);
	assert_true(nh_tx_post(h, TX, &zero_hdr, 12, f, sizeof(f), false) >= 0);
	nh_kick(h, TX);
	assert_int_equal(nh_reap(h, TX, NH_TIMEOUT_MS, &s, &len), 1);
	nh_totals(h, &t);
	assert_int_equal(t.tx_frames, 1);
	assert_int_equal(t.tx_bytes, sizeof(f));
	nh_stop(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(sink_counts_every_frame_split_ring),
	    cmocka_unit_test(sink_counts_every_frame_packed_ring),
	    cmocka_unit_test(gen_fills_rx_buffers_split_ring),
	    cmocka_unit_test(gen_fills_rx_buffers_packed_ring),
	    cmocka_unit_test(gen_fills_rx_buffers_without_mrg_rxbuf),
	    cmocka_unit_test(gen_replaces_a_stale_header_split_ring),
	    cmocka_unit_test(gen_replaces_a_stale_header_packed_ring),
	    cmocka_unit_test(gen_merges_frames_larger_than_a_buffer),
	    cmocka_unit_test(gen_counts_tx_frames_as_a_sink),
	};

	nh_quiet_logs();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
