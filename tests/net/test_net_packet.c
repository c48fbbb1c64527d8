/* SPDX-License-Identifier: MIT */
/*
 * The AF_PACKET back-end, in a network namespace of this test's own, on a
 * tap the test holds (its fd plays the wire): TX frames leave through the
 * interface, frames arriving on it land in RX buffers with a virtio-net
 * header, the RARP announcement goes out, and the offloads are offered.
 * Needs CAP_NET_ADMIN (unshare); skipped (77) without it.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
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
#define IFACE "vhpk0"

static int wire = -1; /* the tap's fd: what the interface sends, we read */

static void open_wire(void)
{
	struct ifreq ifr;
	int s;

	wire = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	assert_true(wire >= 0);
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", IFACE);
	assert_int_equal(ioctl(wire, TUNSETIFF, &ifr), 0);
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(s >= 0);
	assert_int_equal(ioctl(s, SIOCGIFFLAGS, &ifr), 0);
	ifr.ifr_flags |= IFF_UP;
	assert_int_equal(ioctl(s, SIOCSIFFLAGS, &ifr), 0);
	close(s);
}

static struct nh *start(void)
{
	static struct nh h;
	struct net_opts o;

	open_wire();
	net_opts_init(&o);
	o.mode = NET_MODE_PACKET;
	o.ifname = IFACE;
	nh_start(&h, &o, ALL);
	nh_ring(&h, RX, 64);
	nh_ring(&h, TX, 64);
	return &h;
}

static void stop(struct nh *h)
{
	nh_stop(h);
	close(wire);
	wire = -1;
}

/* The next frame of EtherType @type the interface sent, its length. */
static ssize_t wire_recv(uint8_t *b, size_t len, uint16_t type)
{
	for (;;) {
		struct pollfd p = {.fd = wire, .events = POLLIN};
		ssize_t n;

		if (poll(&p, 1, NH_TIMEOUT_MS) != 1)
			return -1;
		n = read(wire, b, len);
		if (n >= 14 && b[12] == type >> 8 && b[13] == (type & 0xff))
			return n;
	}
}

static void offers_checksum_and_tso_offloads(void **state)
{
	struct nh *h = start();

	(void)state;
	assert_int_equal(h->offered & NET_F_HOST_OFFLOADS, NET_F_HOST_OFFLOADS);
	assert_true(h->offered & NET_F(VIRTIO_NET_F_GUEST_CSUM));
	assert_true(h->offered & NET_F(VIRTIO_NET_F_GUEST_TSO4));
	stop(h);
}

static void tx_frames_leave_through_the_interface(void **state)
{
	struct nh *h = start();
	uint8_t f[700], got[800];
	struct net_totals t;

	(void)state;
	for (unsigned i = 0; i < 3; i++) {
		nh_frame(f, 200 + i * 200, i);
		nh_send(h, &nh_zero_hdr, f, 200 + i * 200, i == 1);
		nh_reap_tx(h, 1);
		assert_int_equal(wire_recv(got, sizeof(got), 0x88b5),
				 200 + i * 200);
		assert_memory_equal(got, f, 200 + i * 200);
	}
	nh_totals(h, &t);
	assert_int_equal(t.tx_frames, 3);
	stop(h);
}

static void frames_from_the_interface_land_in_rx_buffers(void **state)
{
	struct nh *h = start();
	uint8_t f[400];
	unsigned got = 0;

	(void)state;
	for (unsigned i = 0; i < 16; i++)
		assert_true(nh_rx_post(h, RX, 2048, 1) >= 0);
	nh_kick(h, RX);
	for (unsigned i = 0; i < 3; i++) {
		nh_frame(f, 100 + i, i);
		assert_int_equal(write(wire, f, 100 + i), 100 + i);
	}
	/* The kernel's own frames may come first: look for ours. */
	while (got < 3) {
		uint32_t len;
		unsigned s = nh_reap_rx(h, &len);
		uint8_t *b = nh_slot(h, RX, s);

		if (len < 12 + 14 || b[24] != 0x88 || b[25] != 0xb5)
			continue;
		nh_frame(f, 100 + got, got);
		assert_int_equal(len, 12 + 100 + got);
		assert_memory_equal(b + 12, f, 100 + got);
		got++;
	}
	stop(h);
}

static void rarp_announcement_leaves_through_the_interface(void **state)
{
	struct nh *h = start();
	static const uint8_t mac[6] = {0x52, 0x54, 0x00, 9, 8, 7};
	uint8_t got[100];

	(void)state;
	assert_int_equal(net_dev_send_rarp(h->dev, mac), 0);
	assert_int_equal(wire_recv(got, sizeof(got), 0x8035), 60);
	assert_memory_equal(got + 6, mac, 6);
	stop(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(offers_checksum_and_tso_offloads),
	    cmocka_unit_test(tx_frames_leave_through_the_interface),
	    cmocka_unit_test(frames_from_the_interface_land_in_rx_buffers),
	    cmocka_unit_test(rarp_announcement_leaves_through_the_interface),
	};

	if (unshare(CLONE_NEWNET)) {
		printf("SKIP: no network namespace of our own (%s): the "
		       "AF_PACKET test needs CAP_NET_ADMIN\n",
		       strerror(errno));
		return 77;
	}
	nh_quiet_logs();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
