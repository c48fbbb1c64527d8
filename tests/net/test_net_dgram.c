/* SPDX-License-Identifier: MIT */
/*
 * The Unix datagram back-end on a socketpair: TX frames leave as raw
 * datagrams (no virtio header), datagrams arrive in RX buffers with one,
 * frames wait while the RX ring has no buffers, and the RARP announcement
 * goes out.
 */
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "nh.h"

#define ALL UINT64_MAX
#define RX  0u
#define TX  1u

static const struct virtio_net_hdr_v1 zero_hdr;
static int peer = -1;

static struct nh *start(void)
{
	static struct nh h;
	struct net_opts o;
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv),
			 0);
	net_opts_init(&o);
	o.mode = NET_MODE_DGRAM;
	o.dgram_fd = sv[0]; /* the device's from now on */
	peer = sv[1];
	nh_start(&h, &o, ALL);
	nh_ring(&h, RX, 64);
	nh_ring(&h, TX, 64);
	return &h;
}

static void stop(struct nh *h)
{
	nh_stop(h);
	close(peer);
	peer = -1;
}

static ssize_t peer_recv(uint8_t *buf, size_t len)
{
	struct pollfd p = {.fd = peer, .events = POLLIN};

	if (poll(&p, 1, NH_TIMEOUT_MS) != 1)
		return -1;
	return recv(peer, buf, len, 0);
}

static void tx_frame_leaves_as_a_raw_datagram(void **state)
{
	struct nh *h = start();
	uint8_t f[300], got[400];
	struct net_totals t;
	unsigned s;
	uint32_t len;

	(void)state;
	assert_int_equal(
	    h->offered & (NET_F_HOST_OFFLOADS | NET_F_GUEST_OFFLOADS), 0);
	for (unsigned i = 0; i < 3; i++) {
		nh_frame(f, 100 + i * 100, i);
		assert_true(nh_tx_post(h, TX, &zero_hdr, 12, f, 100 + i * 100,
				       i == 1) >= 0);
	}
	nh_kick(h, TX);
	for (unsigned i = 0; i < 3; i++) {
		nh_frame(f, 100 + i * 100, i);
		assert_int_equal(peer_recv(got, sizeof(got)), 100 + i * 100);
		assert_memory_equal(got, f, 100 + i * 100);
		assert_int_equal(nh_reap(h, TX, NH_TIMEOUT_MS, &s, &len), 1);
	}
	nh_totals(h, &t);
	assert_int_equal(t.tx_frames, 3);
	assert_int_equal(t.tx_bytes, 600);
	stop(h);
}

static void tx_frame_asking_for_an_offload_is_dropped(void **state)
{
	struct nh *h = start();
	struct virtio_net_hdr_v1 hdr = {.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM};
	uint8_t f[100];
	struct net_totals t;
	unsigned s;
	uint32_t len;

	(void)state;
	nh_frame(f, sizeof(f), 1);
	assert_true(nh_tx_post(h, TX, &hdr, 12, f, sizeof(f), false) >= 0);
	nh_kick(h, TX);
	assert_int_equal(nh_reap(h, TX, NH_TIMEOUT_MS, &s, &len), 1);
	nh_totals(h, &t);
	assert_int_equal(t.tx_dropped, 1);
	assert_int_equal(t.tx_frames, 0);
	stop(h);
}

static void datagrams_arrive_in_rx_buffers_and_wait_for_them(void **state)
{
	struct nh *h = start();
	uint8_t f[1500];
	struct net_totals t;

	(void)state;
	/* Sent before the driver has buffers: they wait. */
	for (unsigned i = 0; i < 5; i++) {
		nh_frame(f, 200 + i, i);
		assert_int_equal(send(peer, f, 200 + i, 0), 200 + i);
	}
	usleep(50000);
	for (unsigned i = 0; i < 5; i++) {
		unsigned s;
		uint32_t len;
		uint16_t nb;

		assert_true(nh_rx_post(h, RX, 2048, 1) >= 0);
		nh_kick(h, RX);
		assert_int_equal(nh_reap(h, RX, NH_TIMEOUT_MS, &s, &len), 1);
		assert_int_equal(len, 12 + 200 + i);
		nh_frame(f, 200 + i, i);
		assert_memory_equal(nh_slot(h, RX, s), &zero_hdr, 10);
		memcpy(&nb, nh_slot(h, RX, s) + 10, 2);
		assert_int_equal(nb, 1);
		assert_memory_equal(nh_slot(h, RX, s) + 12, f, 200 + i);
	}
	nh_totals(h, &t);
	assert_int_equal(t.rx_frames, 5);
	assert_int_equal(t.rx_dropped, 0);
	stop(h);
}

static void rarp_announcement_goes_out(void **state)
{
	struct nh *h = start();
	static const uint8_t mac[6] = {0x52, 0x54, 0x00, 1, 2, 3};
	uint8_t got[100];

	(void)state;
	assert_int_equal(net_dev_send_rarp(h->dev, mac), 0);
	assert_int_equal(peer_recv(got, sizeof(got)), 60);
	assert_int_equal(got[12], 0x80);
	assert_int_equal(got[13], 0x35);
	assert_memory_equal(got + 6, mac, 6);
	stop(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(tx_frame_leaves_as_a_raw_datagram),
	    cmocka_unit_test(tx_frame_asking_for_an_offload_is_dropped),
	    cmocka_unit_test(datagrams_arrive_in_rx_buffers_and_wait_for_them),
	    cmocka_unit_test(rarp_announcement_goes_out),
	};

	nh_quiet_logs();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
