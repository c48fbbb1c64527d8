/* SPDX-License-Identifier: MIT */
/*
 * vh-net-peer: a virtio-net front-end built on libvhost (vh_frontend and the
 * driver-side queues), for tests against back-ends that loop frames back:
 * DPDK's net_vhost in io forwarding (tests/interop/with-dpdk-vhost.sh) and
 * our vhost-user-net --loop.
 *
 *   vh-net-peer [SOCKET] [--frames N] [--size BYTES] [--packed]
 *               [--no-mrg] [--timeout MS]
 *
 * SOCKET defaults to $VU_SOCK. Sends N frames (default 256) of BYTES bytes
 * (default 128) on transmitq1, each numbered, and wants every one back on
 * receiveq1, intact and in order. Ends with one PASS or FAIL line; exit
 * status 0 or 1.
 */
#include <errno.h>
#include <linux/virtio_net.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "vhost/driver.h"
#include "vhost/frontend.h"
#include "vhost/log.h"

#define GPA	0x80000000ull /* not the process address */
#define MEM_LEN (16u << 20)
#define QSIZE	256u
#define BUF	2048u
#define RXOFF	(1u << 20)	      /* RX buffers */
#define TXOFF	(RXOFF + QSIZE * BUF) /* TX buffers */
#define F(b)	(UINT64_C(1) << (b))

struct ring {
	struct vh_drv_queue *q;
	int kick, call;
};

static int fail(const char *what, int err)
{
	printf("FAIL: vh-net-peer: %s%s%s\n", what, err ? ": " : "",
	       err ? vh_strerror(err) : "");
	return 1;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void fill(uint8_t *b, uint32_t size, uint32_t seq)
{
	static const uint8_t dst[6] = {0x02, 0, 0, 0, 0, 0x01};
	static const uint8_t src[6] = {0x02, 0, 0, 0, 0, 0x02};

	memcpy(b, dst, 6);
	memcpy(b + 6, src, 6);
	b[12] = 0x88; /* local experimental ethertype */
	b[13] = 0xb5;
	memcpy(b + 14, &seq, 4);
	for (uint32_t i = 18; i < size; i++)
		b[i] = (uint8_t)(seq + i);
}

static int setup_ring(struct vh_frontend *fe, struct ring *r, unsigned idx,
		      uint8_t *mem, bool packed, bool event_idx)
{
	size_t base = (size_t)idx * 0x10000;
	struct vh_drv_config c = {
	    .size = QSIZE,
	    .packed = packed,
	    .event_idx = event_idx,
	    .mem = mem,
	    .mem_gpa = GPA,
	    .mem_len = MEM_LEN,
	    .desc_off = base,
	    .driver_off = base + 0x4000,
	    .device_off = base + 0x8000,
	};
	struct vhost_user_vring_addr a = {
	    .index = idx,
	    .desc_user_addr = (uintptr_t)mem + base,
	    .avail_user_addr = (uintptr_t)mem + base + 0x4000,
	    .used_user_addr = (uintptr_t)mem + base + 0x8000,
	};
	uint32_t vbase = 0;
	int err;

	if ((err = vh_drv_queue_new(&c, &r->q)))
		return err;
	r->kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	r->call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (r->kick < 0 || r->call < 0)
		return -errno;
	if (packed) {
		struct vh_packed_base b = {0, true, 0, true};

		vbase = vh_proto_encode_packed_base(&b);
	}
	if ((err = vh_frontend_set_vring_num(fe, idx, QSIZE)) ||
	    (err = vh_frontend_set_vring_base(fe, idx, vbase)) ||
	    (err = vh_frontend_set_vring_addr(fe, &a)) ||
	    (err = vh_frontend_set_vring_call(fe, idx, r->call)) ||
	    (err = vh_frontend_set_vring_kick(fe, idx, r->kick)))
		return err;
	return 0;
}

static void kick(struct ring *r)
{
	uint64_t one = 1;

	if (vh_drv_kick_prepare(r->q))
		(void)!write(r->kick, &one, 8);
}

int main(int argc, char **argv)
{
	const char *path = getenv("VU_SOCK");
	unsigned frames = 256, size = 128, timeout = 10000, hl;
	bool packed = false, mrg = true;
	uint64_t offered, pf, feat;
	struct vh_frontend *fe = NULL;
	struct ring rx = {0}, tx = {0};
	uint8_t *mem;
	int memfd, err;
	unsigned sent = 0, got = 0, txdone = 0;
	long end;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--frames") && i + 1 < argc)
			frames = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--size") && i + 1 < argc)
			size = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
			timeout = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--packed"))
			packed = true;
		else if (!strcmp(argv[i], "--no-mrg"))
			mrg = false;
		else if (argv[i][0] != '-')
			path = argv[i];
		else
			return fail("usage: vh-net-peer [SOCKET] [--frames N] "
				    "[--size BYTES] [--packed] [--no-mrg] "
				    "[--timeout MS]",
				    0);
	}
	if (!path)
		return fail("no socket (argument or VU_SOCK)", 0);
	if (size < 18 || size > BUF - 12 || frames == 0)
		return fail("--size must be 18..2036, --frames above 0", 0);

	memfd = memfd_create("vh-net-peer", MFD_CLOEXEC);
	if (memfd < 0 || ftruncate(memfd, MEM_LEN))
		return fail("memfd", -errno);
	mem = mmap(NULL, MEM_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	if (mem == MAP_FAILED)
		return fail("mmap", -errno);

	if ((err = vh_frontend_connect(&fe, path, 5000, NULL)))
		return fail("connect", err);
	if ((err = vh_frontend_negotiate(
		 fe,
		 vh_protocol_feature_mask(VHOST_USER_PROTOCOL_F_MQ) |
		     vh_protocol_feature_mask(VHOST_USER_PROTOCOL_F_REPLY_ACK),
		 &offered, &pf)))
		return fail("negotiate", err);
	/* Wait for each request's ack (REPLY_ACK): the rings must be enabled
	 * before the first frame, or a back-end discards it (vhost-user.rst
	 * "Ring states": started and disabled). */
	vh_frontend_set_ack_always(fe, true);
	feat = offered &
	       (vh_virtio_feature_mask(VH_VIRTIO_F_VERSION_1) |
		vh_virtio_feature_mask(VH_VHOST_USER_F_PROTOCOL_FEATURES) |
		vh_virtio_feature_mask(VH_VIRTIO_RING_F_EVENT_IDX) |
		(mrg ? F(VIRTIO_NET_F_MRG_RXBUF) : 0) |
		(packed ? vh_virtio_feature_mask(VH_VIRTIO_F_RING_PACKED) : 0));
	if (packed && !vh_virtio_has(feat, VH_VIRTIO_F_RING_PACKED))
		return fail("the back-end does not offer RING_PACKED", 0);
	hl = (feat & (F(VIRTIO_NET_F_MRG_RXBUF) |
		      vh_virtio_feature_mask(VH_VIRTIO_F_VERSION_1)))
		 ? 12
		 : 10;
	{
		struct vhost_user_mem_region r = {
		    .guest_phys_addr = GPA,
		    .memory_size = MEM_LEN,
		    .userspace_addr = (uintptr_t)mem,
		};

		if ((err = vh_frontend_set_owner(fe)) ||
		    (err = vh_frontend_set_features(fe, feat)) ||
		    (err = vh_frontend_set_mem_table(fe, &r, 1, &memfd)))
			return fail("set-up", err);
	}
	if ((err =
		 setup_ring(fe, &rx, 0, mem, packed,
			    vh_virtio_has(feat, VH_VIRTIO_RING_F_EVENT_IDX))) ||
	    (err = setup_ring(fe, &tx, 1, mem, packed,
			      vh_virtio_has(feat, VH_VIRTIO_RING_F_EVENT_IDX))))
		return fail("rings", err);
	if (vh_virtio_has(feat, VH_VHOST_USER_F_PROTOCOL_FEATURES) &&
	    ((err = vh_frontend_set_vring_enable(fe, 0, true)) ||
	     (err = vh_frontend_set_vring_enable(fe, 1, true))))
		return fail("enable", err);

	for (unsigned i = 0; i < QSIZE; i++) {
		struct vh_drv_buf b = {GPA + RXOFF + i * BUF, BUF};

		if (vh_drv_add(rx.q, NULL, 0, &b, 1, false,
			       (void *)(uintptr_t)(i + 1)))
			break;
	}
	kick(&rx);

	end = now_ms() + timeout;
	while (got < frames && now_ms() < end) {
		void *tok;
		uint32_t len;

		while (sent < frames && sent - txdone < QSIZE / 2) {
			unsigned slot = sent % QSIZE;
			uint8_t *b = mem + TXOFF + slot * BUF;
			struct vh_drv_buf d = {GPA + TXOFF + slot * BUF,
					       hl + size};

			memset(b, 0, hl);
			fill(b + hl, size, sent);
			if (vh_drv_add(tx.q, &d, 1, NULL, 0, false,
				       (void *)(uintptr_t)(slot + 1)))
				break;
			sent++;
		}
		kick(&tx);
		while (vh_drv_get_used(tx.q, &tok, &len) == 1)
			txdone++;
		while (vh_drv_get_used(rx.q, &tok, &len) == 1) {
			unsigned slot = (unsigned)(uintptr_t)tok - 1;
			uint8_t *b = mem + RXOFF + slot * BUF;
			uint8_t want[BUF];
			struct vh_drv_buf again = {GPA + RXOFF + slot * BUF,
						   BUF};
			uint32_t seq;

			if (len < hl + 18 || b[hl + 12] != 0x88 ||
			    b[hl + 13] != 0xb5)
				goto repost; /* not ours */
			memcpy(&seq, b + hl + 14, 4);
			fill(want, size, got);
			if (len != hl + size || seq != got ||
			    memcmp(b + hl, want, size)) {
				printf("FAIL: vh-net-peer: frame %u came back "
				       "as frame %u, %u bytes (sent %u)\n",
				       got, seq, len - hl, size);
				return 1;
			}
			got++;
		repost:
			vh_drv_add(rx.q, NULL, 0, &again, 1, false, tok);
		}
		kick(&rx);
		{
			struct pollfd p[2] = {{rx.call, POLLIN, 0},
					      {tx.call, POLLIN, 0}};
			uint64_t v;

			if (poll(p, 2, 10) > 0) {
				(void)!read(rx.call, &v, 8);
				(void)!read(tx.call, &v, 8);
			}
		}
	}
	if (got < frames) {
		printf("FAIL: vh-net-peer: %u of %u frames came back within "
		       "%u ms (%u sent, %u TX buffers used)\n",
		       got, frames, timeout, sent, txdone);
		return 1;
	}
	{
		uint32_t base;

		/* Stop the rings as a front-end does before it leaves. */
		vh_frontend_get_vring_base(fe, 0, &base);
		vh_frontend_get_vring_base(fe, 1, &base);
	}
	vh_frontend_free(fe);
	vh_drv_queue_free(rx.q);
	vh_drv_queue_free(tx.q);
	close(rx.kick);
	close(rx.call);
	close(tx.kick);
	close(tx.call);
	munmap(mem, MEM_LEN);
	close(memfd);
	printf("PASS: vh-net-peer: %u frames of %u bytes out on TX and back on "
	       "RX (%s ring, features 0x%llx)\n",
	       frames, size, packed ? "packed" : "split",
	       (unsigned long long)feat);
	return 0;
}
