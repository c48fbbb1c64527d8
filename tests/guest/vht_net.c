/* SPDX-License-Identifier: MIT */
/*
 * vhost-net against a tap, both header modes:
 *   net            the tap carries the virtio-net header (IFF_VNET_HDR,
 *                  12 bytes) and the driver acknowledges ANY_LAYOUT (bit
 *                  27): the library must not pass bit 27 on as
 *                  VHOST_NET_F_VIRTIO_NET_HDR, or every frame is shifted;
 *   net-vhost-hdr  vhost-net adds and strips the header, the tap has none.
 * TX: a frame put in ring 1 (header and frame in two descriptors) arrives
 * on an AF_PACKET socket bound to the tap. RX: a frame sent out of the tap
 * lands in ring 0 after a header with no offloads and num_buffers 1
 * (MRG_RXBUF), and the dirty log (LOG_ALL) has the RX buffer's page set
 * and its eventfd signalled. Also: a multi-queue tap, the features-array
 * fallback, busy-poll timeout, the optional ioctls, GET_VRING_BASE after
 * detaching, -1 unbinding every eventfd, and no fd left open.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vhost/proto.h"
#include "vht.h"

#define ETH_P_VHT  0x88b5 /* IEEE local experimental */
#define FRAME_LEN  64
#define RX_BUFS	   8
#define RX_BUF_LEN 2048
#define GPA_BASE   UINT64_C(0x40000000)

static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static void make_frame(uint8_t *f, uint8_t src_last, const char *text)
{
	memset(f, 0, FRAME_LEN);
	memcpy(f, bcast, 6);
	memcpy(f + 6, "\x02\x00\x00\x00\x00", 5);
	f[11] = src_last;
	f[12] = ETH_P_VHT >> 8;
	f[13] = ETH_P_VHT & 0xff;
	snprintf((char *)f + 14, FRAME_LEN - 14, "%s", text);
}

/* Bring @name up and return its index (or a negative errno). */
static int link_up(const char *name)
{
	struct ifreq ifr;
	char path[96];
	FILE *f;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r = 0;

	if (s < 0)
		return -errno;
	/* No IPv6 chatter in the RX ring. */
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6",
		 name);
	f = fopen(path, "w");
	if (f) {
		fputs("1\n", f);
		fclose(f);
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		r = -errno;
	ifr.ifr_flags |= IFF_UP;
	if (r == 0 && ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		r = -errno;
	if (r == 0 && ioctl(s, SIOCGIFINDEX, &ifr) < 0)
		r = -errno;
	close(s);
	return r < 0 ? r : ifr.ifr_ifindex;
}

static int packet_socket(int ifindex)
{
	struct sockaddr_ll sll;
	struct timeval tv = {.tv_sec = 3};
	int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_VHT));

	if (s < 0)
		return -errno;
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_VHT);
	sll.sll_ifindex = ifindex;
	if (bind(s, (struct sockaddr *)&sll, sizeof(sll)) < 0 ||
	    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		int e = -errno;

		close(s);
		return e;
	}
	return s;
}

int vht_net(int argc, char **argv)
{
	const bool vhost_hdr = strcmp(argv[0], "net-vhost-hdr") == 0;
	const char *ifn = vhost_hdr ? "vht1" : "vht0";
	const uint64_t mrg = UINT64_C(1) << VIRTIO_NET_F_MRG_RXBUF;
	struct vht v;
	struct vht_mem m = {0};
	struct vht_q rx = {.kick = -1, .call = -1},
		     tx = {.kick = -1, .call = -1};
	struct vh_transport *t = NULL;
	struct vh_transport_region reg;
	struct vh_drv_buf b[2];
	struct virtio_net_hdr_mrg_rxbuf h;
	struct sockaddr_ll to;
	uint8_t *frame, *hdr, *got = NULL, pkt[RX_BUF_LEN];
	uint64_t offered = 0, want, words[2];
	uint32_t len = 0, base = 0, us = 0, wid;
	unsigned hlen = 0, i;
	double t0, tx_ms = 0, rx_ms = 0;
	const char *what = "";
	void *tok;
	struct vh_transport_log log = {0};
	uint64_t page, logcount;
	int fds0 = vht_fd_count(), tap = -1, pk = -1, logfd = -1, ifindex, r;
	ssize_t n;

	(void)argc;
	vht_begin(&v, argv[0]);
	tap = vh_kern_tap_open(
	    ifn, vhost_hdr ? VH_KERN_TAP_MULTI_QUEUE : VH_KERN_TAP_VNET_HDR, 12,
	    NULL);
	TRY(&v, tap >= 0, "vh_kern_tap_open(%s): %s", ifn, vh_strerror(tap));
	if (vhost_hdr) {
		/* A multi-queue tap takes a second queue under its name (it
		 * goes again at once: frames would be spread over both). */
		r = vh_kern_tap_open(ifn, VH_KERN_TAP_MULTI_QUEUE, 12, NULL);
		TRY(&v, r >= 0, "second queue of %s: %s", ifn, vh_strerror(r));
		close(r);
	}
	ifindex = link_up(ifn);
	TRY(&v, ifindex > 0, "bringing %s up: %s", ifn, vh_strerror(ifindex));
	pk = packet_socket(ifindex);
	TRY(&v, pk >= 0, "AF_PACKET socket: %s", vh_strerror(pk));

	r = vh_kern_open(&t, VH_KERN_NET, NULL);
	TRY(&v, r == 0, "vh_kern_open(/dev/vhost-net): %s", vh_strerror(r));
	if (vhost_hdr) {
		r = vh_kern_net_set_hdr(t, VH_KERN_NET_HDR_VHOST);
		TRY(&v, r == 0, "vh_kern_net_set_hdr: %s", vh_strerror(r));
	}
	r = vh_transport_set_owner(t);
	TRY(&v, r == 0, "set_owner: %s", vh_strerror(r));
	r = vh_transport_get_features(t, &offered);
	TRY(&v, r == 0, "get_features: %s", vh_strerror(r));
	TRY(&v,
	    vh_virtio_has(offered, VH_VIRTIO_F_VERSION_1) && (offered & mrg) &&
		vh_virtio_has(offered, VH_VIRTIO_F_ANY_LAYOUT),
	    "features 0x%llx lack VERSION_1, MRG_RXBUF or bit 27",
	    (unsigned long long)offered);
	r = vh_kern_get_features_array(t, words, 2);
	TRY(&v, r == 0 && words[0] == offered,
	    "features array: %s, word 0 0x%llx", vh_strerror(r),
	    (unsigned long long)words[0]);
	want = vh_virtio_feature_mask(VH_VIRTIO_F_VERSION_1) | mrg |
	       vh_virtio_feature_mask(VH_VIRTIO_F_ANY_LAYOUT);
	r = vh_transport_set_features(t, want);
	TRY(&v, r == 0, "set_features: %s", vh_strerror(r));
	hlen = vh_kern_net_hdr_len(want);

	r = vht_mem_init(&m, GPA_BASE, 1u << 20);
	TRY(&v, r == 0, "mmap: %s", vh_strerror(r));
	reg = vht_region(&m);
	r = vh_transport_set_mem_table(t, &reg, 1);
	TRY(&v, r == 0, "set_mem_table: %s", vh_strerror(r));
	/* Dirty logging: one bit per 4 KiB page of guest-physical space,
	 * and an eventfd the kernel signals after writing it. */
	log.size = (GPA_BASE + m.len) / 4096 / 8;
	log.base = calloc(1, log.size);
	log.fd = -1;
	logfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	TRY(&v, log.base && logfd >= 0, "log memory or eventfd");
	r = vh_transport_set_log_base(t, &log);
	TRY(&v, r == 0, "set_log_base: %s", vh_strerror(r));
	r = vh_transport_set_log_fd(t, logfd);
	TRY(&v, r == 0, "set_log_fd: %s", vh_strerror(r));
	r = vh_transport_set_features(
	    t, want | vh_virtio_feature_mask(VH_VHOST_F_LOG_ALL));
	TRY(&v, r == 0, "set_features with LOG_ALL: %s", vh_strerror(r));
	r = vht_q_setup(t, &m, 0, 64, &rx, &what);
	TRY(&v, r == 0, "rx ring: %s: %s", what, vh_strerror(r));
	r = vht_q_setup(t, &m, 1, 64, &tx, &what);
	TRY(&v, r == 0, "tx ring: %s: %s", what, vh_strerror(r));
	for (i = 0; i < RX_BUFS; i++) {
		uint8_t *buf = vht_alloc(&m, RX_BUF_LEN, 64);

		b[0].gpa = vht_gpa(&m, buf);
		b[0].len = RX_BUF_LEN;
		r = vht_q_add(&rx, NULL, 0, b, 1, buf);
		TRY(&v, r == 0, "rx buffer: %s", vh_strerror(r));
	}

	/* Generic extras: busy polling, and what Debian's 6.1 lacks. */
	r = vh_kern_set_vring_busyloop_timeout(t, 1, 20);
	TRY(&v, r == 0, "busyloop set: %s", vh_strerror(r));
	r = vh_kern_get_vring_busyloop_timeout(t, 1, &us);
	TRY(&v, r == 0 && us == 20, "busyloop get: %s, %u", vh_strerror(r), us);
	r = vh_kern_set_vring_endian(t, 0, false);
	TRY(&v, r == 0 || r == -EOPNOTSUPP, "set_vring_endian: %s",
	    vh_strerror(r));
	r = vh_kern_new_worker(t, &wid);
	TRY(&v, r == 0 || r == -EOPNOTSUPP, "new_worker: %s", vh_strerror(r));
	if (r == 0)
		(void)vh_kern_free_worker(t, wid);

	for (i = 0; i < 2; i++) {
		r = vh_kern_net_set_backend(t, i, tap);
		TRY(&v, r == 0, "set_backend(%u, tap): %s", i, vh_strerror(r));
	}

	/* TX: header and frame in separate descriptors (any layout). */
	hdr = vht_alloc(&m, hlen, 16);
	frame = vht_alloc(&m, FRAME_LEN, 16);
	make_frame(frame, 1, "vht: ring to tap");
	b[0].gpa = vht_gpa(&m, hdr);
	b[0].len = hlen;
	b[1].gpa = vht_gpa(&m, frame);
	b[1].len = FRAME_LEN;
	t0 = vht_now_ms();
	r = vht_q_add(&tx, b, 2, NULL, 0, frame);
	TRY(&v, r == 0, "tx add: %s", vh_strerror(r));
	n = recv(pk, pkt, sizeof(pkt), 0);
	tx_ms = vht_now_ms() - t0;
	TRY(&v, n == FRAME_LEN && memcmp(pkt, frame, FRAME_LEN) == 0,
	    "TX: the tap side got %zd bytes (%s), want the %d-byte frame", n,
	    n < 0 ? strerror(errno) : "different", FRAME_LEN);
	r = vht_q_wait(&tx, &tok, &len, 2000);
	TRY(&v, r == 0 && tok == frame, "TX used entry: %s", vh_strerror(r));

	/* RX: out of the tap, into ring 0. */
	make_frame(pkt, 2, "vht: tap to ring");
	memset(&to, 0, sizeof(to));
	to.sll_family = AF_PACKET;
	to.sll_protocol = htons(ETH_P_VHT);
	to.sll_ifindex = ifindex;
	to.sll_halen = 6;
	memcpy(to.sll_addr, bcast, 6);
	t0 = vht_now_ms();
	n = sendto(pk, pkt, FRAME_LEN, 0, (struct sockaddr *)&to, sizeof(to));
	TRY(&v, n == FRAME_LEN, "sendto: %s", strerror(errno));
	for (i = 0; i < RX_BUFS && !got; i++) {
		uint8_t *buf;

		r = vht_q_wait(&rx, &tok, &len, 3000);
		TRY(&v, r == 0, "RX: nothing in ring 0: %s", vh_strerror(r));
		buf = tok;
		if (len >= hlen + 14 && buf[hlen + 12] == (ETH_P_VHT >> 8) &&
		    buf[hlen + 13] == (ETH_P_VHT & 0xff))
			got = buf;
		else
			vht_say("RX: skipping a %u-byte frame of another "
				"protocol",
				len);
	}
	rx_ms = vht_now_ms() - t0;
	TRY(&v, got, "RX: the frame never came");
	TRY(&v, len == hlen + FRAME_LEN, "RX: used.len %u, want %u", len,
	    hlen + FRAME_LEN);
	TRY(&v, memcmp(got + hlen, pkt, FRAME_LEN) == 0, "RX: frame differs");
	memcpy(&h, got, sizeof(h));
	TRY(&v,
	    h.hdr.gso_type == VIRTIO_NET_HDR_GSO_NONE &&
		!(h.hdr.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
		h.num_buffers == 1,
	    "RX header: flags 0x%x gso_type %u num_buffers %u", h.hdr.flags,
	    h.hdr.gso_type, h.num_buffers);
	page = vht_gpa(&m, got) / 4096;
	TRY(&v, ((uint8_t *)log.base)[page / 8] & (1u << (page % 8)),
	    "the dirty log has no bit for the RX buffer's page 0x%llx",
	    (unsigned long long)page);
	TRY(&v, read(logfd, &logcount, sizeof(logcount)) == sizeof(logcount),
	    "the log eventfd was not signalled");

	/* Detach, then the rings' next indexes are the kernel's. */
	for (i = 0; i < 2; i++) {
		r = vh_kern_net_set_backend(t, i, -1);
		TRY(&v, r == 0, "set_backend(%u, -1): %s", i, vh_strerror(r));
	}
	r = vh_transport_get_vring_base(t, 1, &base);
	TRY(&v, r == 0 && base == 1, "GET_VRING_BASE(tx): %s, %u",
	    vh_strerror(r), base);
	/* -1 unbinds every eventfd. */
	for (i = 0; i < 2; i++) {
		r = vh_transport_set_vring_kick(t, i, -1);
		if (r == 0)
			r = vh_transport_set_vring_call(t, i, -1);
		if (r == 0)
			r = vh_transport_set_vring_err(t, i, -1);
		TRY(&v, r == 0, "unbinding ring %u's eventfds: %s", i,
		    vh_strerror(r));
	}
	r = vh_transport_set_log_fd(t, -1);
	TRY(&v, r == 0, "unbinding the log eventfd: %s", vh_strerror(r));

out:
	vh_transport_free(t);
	vht_q_free(&rx);
	vht_q_free(&tx);
	vht_mem_free(&m);
	if (pk >= 0)
		close(pk);
	if (tap >= 0)
		close(tap);
	if (logfd >= 0)
		close(logfd);
	free(log.base);
	if (!v.failed && vht_fd_count() != fds0)
		vht_fail(&v, "fd leak: %d open, %d before", vht_fd_count(),
			 fds0);
	return vht_end(&v,
		       "%s: TX ring->tap %.1f ms, RX tap->ring %.1f ms, "
		       "%u-byte header, dirty log bit and eventfd, tx base %u",
		       vhost_hdr ? "vhost adds the header"
				 : "tap carries the header (bit 27 kept "
				   "from vhost-net)",
		       tx_ms, rx_ms, hlen, base);
}
