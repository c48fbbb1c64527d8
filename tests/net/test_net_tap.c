/* SPDX-License-Identifier: MIT */
/*
 * The tap back-end, in a network namespace of this test's own (nothing
 * outside it is touched): TX frames come out of the tap's kernel side (seen
 * with an AF_PACKET socket on it), frames sent into the tap land in RX
 * buffers with a virtio-net header, and the offloads the tap accepts are
 * offered. Needs CAP_NET_ADMIN (unshare); skipped (77) without it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "nh.h"

#define ALL   UINT64_MAX
#define RX    0u
#define TX    1u
#define IFACE "vhnt0"

static const struct virtio_net_hdr_v1 zero_hdr;

static void link_up(const char *name)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(s >= 0);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	assert_int_equal(ioctl(s, SIOCGIFFLAGS, &ifr), 0);
	ifr.ifr_flags |= IFF_UP;
	assert_int_equal(ioctl(s, SIOCSIFFLAGS, &ifr), 0);
	close(s);
}

/* AF_PACKET on the tap, only our test ethertype. */
static int packet_socket(void)
{
	struct sockaddr_ll a;
	int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(0x88b5));

	assert_true(s >= 0);
	memset(&a, 0, sizeof(a));
	a.sll_family = AF_PACKET;
	a.sll_protocol = htons(0x88b5);
	a.sll_ifindex = (int)if_nametoindex(IFACE);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	return s;
}

/* The device on the tap with @pairs queue pairs, rings 0 .. @nrings - 1
 * set up, the link up. */
static struct nh *start_pairs(unsigned pairs, unsigned nrings)
{
	static struct nh h;
	struct net_opts o;

	net_opts_init(&o);
	o.mode = NET_MODE_TAP;
	o.ifname = IFACE;
	o.pairs = pairs;
	nh_start(&h, &o, ALL);
	for (unsigned q = 0; q < nrings; q++)
		nh_ring(&h, q, 64);
	link_up(IFACE);
	return &h;
}

static struct nh *start(void)
{
	return start_pairs(1, 2); /* RX and TX */
}

static void offers_the_offloads_the_tap_accepts(void **state)
{
	struct nh *h = start();

	(void)state;
	/* Linux taps take checksum and TSO offloads since forever. */
	assert_int_equal(h->offered & NET_F_HOST_OFFLOADS, NET_F_HOST_OFFLOADS);
	assert_true(h->offered & NET_F(VIRTIO_NET_F_GUEST_CSUM));
	assert_true(h->offered & NET_F(VIRTIO_NET_F_GUEST_TSO4));
	assert_true(h->offered & NET_F(VIRTIO_NET_F_GUEST_TSO6));
	nh_stop(h);
}

static void tx_frames_come_out_of_the_tap(void **state)
{
	struct nh *h = start();
	int ps = packet_socket();
	uint8_t f[500], got[600];
	struct net_totals t;

	(void)state;
	for (unsigned i = 0; i < 4; i++) {
		struct pollfd p = {.fd = ps, .events = POLLIN};
		unsigned s;
		uint32_t len;

		nh_frame(f, 100 + i * 100, i);
		assert_true(nh_tx_post(h, TX, &zero_hdr, 12, f, 100 + i * 100,
				       i % 2) >= 0);
		nh_kick(h, TX);
		assert_int_equal(nh_reap(h, TX, NH_TIMEOUT_MS, &s, &len), 1);
		assert_int_equal(poll(&p, 1, NH_TIMEOUT_MS), 1);
		assert_int_equal(recv(ps, got, sizeof(got), 0), 100 + i * 100);
		assert_memory_equal(got, f, 100 + i * 100);
	}
	nh_totals(h, &t);
	assert_int_equal(t.tx_frames, 4);
	close(ps);
	nh_stop(h);
}

static void frames_into_the_tap_land_in_rx_buffers(void **state)
{
	struct nh *h = start();
	int ps = packet_socket();
	uint8_t f[1000];
	unsigned got = 0;

	(void)state;
	for (unsigned i = 0; i < 16; i++)
		assert_true(nh_rx_post(h, RX, 2048, 1) >= 0);
	nh_kick(h, RX);
	for (unsigned i = 0; i < 3; i++) {
		nh_frame(f, 300 + i, i);
		assert_int_equal(send(ps, f, 300 + i, 0), 300 + i);
	}
	/* The kernel may send its own frames (IPv6 autoconfiguration) into
	 * the tap too: look for ours among them. */
	while (got < 3) {
		unsigned s;
		uint32_t len;
		uint8_t *b;

		assert_int_equal(nh_reap(h, RX, NH_TIMEOUT_MS, &s, &len), 1);
		b = nh_slot(h, RX, s);
		if (len < 12 + 14 || b[12 + 12] != 0x88 || b[12 + 13] != 0xb5)
			continue;
		nh_frame(f, 300 + got, got);
		assert_int_equal(len, 12 + 300 + got);
		assert_memory_equal(b + 12, f, 300 + got);
		got++;
	}
	close(ps);
	nh_stop(h);
}

/* ---- several pairs: inactive queues leave the tap ---------------------- */

#define PAIRS 2u
#define RX1   2u
#define CTRLQ (2 * PAIRS)

static int pairs_set(struct nh *h, uint16_t n)
{
	uint8_t cmd[4] = {VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET,
			  (uint8_t)n, (uint8_t)(n >> 8)};
	unsigned s;
	uint32_t len;

	assert_true(nh_ctrl_post(h, CTRLQ, cmd, sizeof(cmd), 1) >= 0);
	nh_kick(h, CTRLQ);
	assert_int_equal(nh_reap(h, CTRLQ, NH_TIMEOUT_MS, &s, &len), 1);
	assert_int_equal(len, 1);
	return nh_slot(h, CTRLQ, s)[0x1000];
}

static const uint8_t test_src[6] = {0x02, 0x76, 0x68, 0, 0, 0x07};

/* @n IPv4/UDP frames of different flows (source port base + i) sent into
 * the tap: the kernel spreads flows over the attached queues. */
static void send_flows(unsigned base, unsigned n)
{
	static const uint8_t dst[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
	struct sockaddr_ll a;
	uint8_t f[100];
	int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);

	assert_true(s >= 0);
	memset(&a, 0, sizeof(a));
	a.sll_family = AF_PACKET;
	a.sll_protocol = htons(ETH_P_IP);
	a.sll_ifindex = (int)if_nametoindex(IFACE);
	a.sll_halen = 6;
	memcpy(a.sll_addr, dst, 6);
	for (unsigned i = 0; i < n; i++) {
		net_make_udp_frame(f, sizeof(f), dst, test_src);
		f[34] = (uint8_t)((base + i) >> 8);
		f[35] = (uint8_t)(base + i);
		assert_int_equal(sendto(s, f, sizeof(f), 0,
					(struct sockaddr *)&a, sizeof(a)),
				 (ssize_t)sizeof(f));
	}
	close(s);
}

/* Our frames (by source MAC) reaped from RX ring @q within @ms, RX
 * buffers given back to the ring as they are reaped. */
static unsigned reap_ours(struct nh *h, unsigned q, int ms)
{
	unsigned got = 0, s;
	uint32_t len;

	while (nh_reap(h, q, ms, &s, &len) == 1) {
		const uint8_t *b = nh_slot(h, q, s);

		if (len == 12 + 100 && !memcmp(b + 12 + 6, test_src, 6))
			got++;
		assert_true(nh_rx_post(h, q, 2048, 1) >= 0);
		nh_kick(h, q);
	}
	return got;
}

static void inactive_pairs_leave_the_tap_and_come_back(void **state)
{
	struct nh *h = start_pairs(PAIRS, CTRLQ + 1);
	struct net_totals t;
	unsigned got0, got1;

	(void)state;
	for (unsigned i = 0; i < 32; i++) {
		assert_true(nh_rx_post(h, RX, 2048, 1) >= 0);
		assert_true(nh_rx_post(h, RX1, 2048, 1) >= 0);
	}
	nh_kick(h, RX);
	nh_kick(h, RX1);
	/* One pair: its queue alone is attached, so every flow lands on
	 * RX 0 and none is dropped on the way (pair 1 may not receive). */
	assert_int_equal(pairs_set(h, 1), VIRTIO_NET_OK);
	send_flows(1000, 64);
	got0 = 0;
	for (unsigned round = 0; round < 250 && got0 < 64; round++)
		got0 += reap_ours(h, RX, 20);
	assert_int_equal(got0, 64);
	assert_int_equal(reap_ours(h, RX1, 100), 0);
	nh_totals(h, &t);
	assert_int_equal(t.rx_dropped, 0);

	/* Two pairs: both queues take flows again. */
	assert_int_equal(pairs_set(h, 2), VIRTIO_NET_OK);
	send_flows(2000, 64);
	got0 = got1 = 0;
	for (unsigned round = 0; round < 125 && got0 + got1 < 64; round++) {
		got0 += reap_ours(h, RX, 20);
		got1 += reap_ours(h, RX1, 20);
	}
	assert_int_equal(got0 + got1, 64);
	assert_true(got1 > 0);
	nh_totals(h, &t);
	assert_int_equal(t.rx_dropped, 0);
	nh_stop(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(offers_the_offloads_the_tap_accepts),
	    cmocka_unit_test(tx_frames_come_out_of_the_tap),
	    cmocka_unit_test(frames_into_the_tap_land_in_rx_buffers),
	    cmocka_unit_test(inactive_pairs_leave_the_tap_and_come_back),
	};

	if (unshare(CLONE_NEWNET)) {
		printf("SKIP: no network namespace of our own (%s): the tap "
		       "test needs CAP_NET_ADMIN\n",
		       strerror(errno));
		return 77;
	}
	nh_quiet_logs();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
