/* SPDX-License-Identifier: MIT */
/*
 * interop-dpdk: our front-end against DPDK testpmd's net_vhost (a real
 * third-party back-end), run next to it by tests/interop/with-dpdk-vhost.sh
 * (VU_SOCK; without it: SKIP, exit 77). testpmd forwards in io mode, so a
 * frame put on the TX ring comes back on the RX ring.
 *
 * The order is DPDK virtio_user's own (its vhost log shows it): SET_OWNER,
 * features and protocol features (MQ, REPLY_ACK, STATUS: every request
 * acked), GET_QUEUE_NUM, SET_VRING_CALL per ring, SET_FEATURES,
 * SET_STATUS(ACK|DRIVER|FEATURES_OK), GET_STATUS, SET_MEM_TABLE, per ring
 * NUM/BASE/ADDR/KICK, SET_VRING_ENABLE, SET_STATUS(DRIVER_OK); one frame
 * through TX and back on RX; then SET_VRING_ENABLE(0) and GET_VRING_BASE
 * per ring. Prints one PASS or FAIL line; exit 0 on success.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "interop_ring.h"
#include "vhost/frontend.h"

const char *prog_name = "interop-dpdk";

#define GPA	    UINT64_C(0x80000000)
#define MEM_SIZE    UINT64_C(0x200000)
#define QSZ	    64
#define RX	    0
#define TX	    1
#define RXBUF	    0x20000
#define TXBUF	    0x40000
#define NET_HDR_LEN 12 /* struct virtio_net_hdr_v1 (VERSION_1) */

static struct guest_mem mem;
static struct split_ring rings[2];

#define OK(call)                                                    \
	do {                                                        \
		int r_ = (call);                                    \
		if (r_ < 0)                                         \
			die("%s: %s", #call,                        \
			    r_ == -EIO ? "nacked" : strerror(-r_)); \
	} while (0)

static void setup_ring(struct vh_frontend *f, uint32_t q)
{
	struct split_ring *r = &rings[q];
	struct vhost_user_vring_addr a = {
	    .index = q,
	    /* Front-end user addresses: where our memory table says the
	     * region lives, i.e. where we mapped it. */
	    .desc_user_addr = (uint64_t)(uintptr_t)gpa_ptr(&mem, r->desc_gpa),
	    .avail_user_addr = (uint64_t)(uintptr_t)gpa_ptr(&mem, r->avail_gpa),
	    .used_user_addr = (uint64_t)(uintptr_t)gpa_ptr(&mem, r->used_gpa),
	};

	OK(vh_frontend_set_vring_num(f, q, QSZ));
	OK(vh_frontend_set_vring_base(f, q, 0));
	OK(vh_frontend_set_vring_addr(f, &a));
	OK(vh_frontend_set_vring_kick(f, q, r->kick));
}

int main(void)
{
	const char *sock = getenv("VU_SOCK");
	struct vh_frontend_opts opts = {.name = "interop-dpdk"};
	struct vh_frontend *f;
	struct vhost_user_mem_region rg;
	uint64_t features, pf, qnum, want;
	uint8_t status, frame[64];
	uint32_t id, len, base[2];
	uint8_t *rx;
	unsigned i;
	bool looped = false;

	if (!sock) {
		printf("%s: SKIP: VU_SOCK is not set (run it with "
		       "tests/interop/with-dpdk-vhost.sh)\n",
		       prog_name);
		return 77;
	}
	OK(vh_frontend_connect(&f, sock, 5000, &opts));
	OK(vh_frontend_set_owner(f));
	OK(vh_frontend_negotiate(
	    f,
	    vh_protocol_feature_mask(VHOST_USER_PROTOCOL_F_MQ) |
		vh_protocol_feature_mask(VHOST_USER_PROTOCOL_F_REPLY_ACK) |
		vh_protocol_feature_mask(VHOST_USER_PROTOCOL_F_STATUS),
	    &features, &pf));
	CHECK(vh_protocol_has(pf, VHOST_USER_PROTOCOL_F_MQ) &&
		  vh_protocol_has(pf, VHOST_USER_PROTOCOL_F_REPLY_ACK) &&
		  vh_protocol_has(pf, VHOST_USER_PROTOCOL_F_STATUS),
	      "testpmd offers MQ, REPLY_ACK and STATUS; got 0x%" PRIx64, pf);
	vh_frontend_set_ack_always(f, true);
	OK(vh_frontend_get_queue_num(f, &qnum));
	CHECK(qnum >= 1, "GET_QUEUE_NUM %" PRIu64, qnum);

	guest_mem_init(&mem, GPA, MEM_SIZE);
	ring_init(&rings[RX], &mem, QSZ, 0);
	ring_init(&rings[TX], &mem, QSZ, 0x4000);
	for (i = 0; i < 2; i++)
		OK(vh_frontend_set_vring_call(f, i, rings[i].call));

	want = features &
	       (vh_virtio_feature_mask(VH_VIRTIO_F_VERSION_1) |
		vh_virtio_feature_mask(VH_VHOST_USER_F_PROTOCOL_FEATURES));
	OK(vh_frontend_set_features(f, want));
	OK(vh_frontend_set_status(f, 0x1 | 0x2 | 0x8));
	OK(vh_frontend_get_status(f, &status));
	CHECK(status & 0x8, "FEATURES_OK not kept: status 0x%x", status);

	memset(&rg, 0, sizeof(rg));
	rg.guest_phys_addr = GPA;
	rg.memory_size = MEM_SIZE;
	rg.userspace_addr = (uint64_t)(uintptr_t)mem.base;
	OK(vh_frontend_set_mem_table(f, &rg, 1, &mem.fd));
	for (i = 0; i < 2; i++)
		setup_ring(f, i);
	for (i = 0; i < 2; i++)
		OK(vh_frontend_set_vring_enable(f, i, true));
	OK(vh_frontend_set_status(f, 0xf)); /* DRIVER_OK */

	/* Eight receive buffers, then one frame out. */
	for (i = 0; i < 8; i++) {
		struct ring_buf b = {GPA + RXBUF + 2048 * i, 2048, true};

		ring_add(&rings[RX], &b, 1);
	}
	ring_kick(&rings[RX]);
	memset(frame, 0, sizeof(frame));
	memset(frame, 0xff, 6);					   /* dst */
	memcpy(frame + 6, "\x02\x00\x00\x00\x00\x01", 6);	   /* src */
	memcpy(frame + 12, "\x88\xb5", 2);			   /* type */
	snprintf((char *)frame + 14, 40, "libvhost interop-dpdk"); /* data */
	memset(gpa_ptr(&mem, GPA + TXBUF), 0, NET_HDR_LEN);
	memcpy(gpa_ptr(&mem, GPA + TXBUF + NET_HDR_LEN), frame, sizeof(frame));
	{
		struct ring_buf b = {GPA + TXBUF, NET_HDR_LEN + sizeof(frame),
				     false};

		ring_add(&rings[TX], &b, 1);
	}
	ring_kick(&rings[TX]);
	CHECK(ring_wait_used(&rings[TX], 5000, &id, &len),
	      "TX frame not consumed within 5 s");
	/* testpmd may loop other frames first; look at a few. */
	for (i = 0; i < 8 && !looped; i++) {
		if (!ring_wait_used(&rings[RX], 5000, &id, &len))
			break;
		rx = gpa_ptr(&mem, GPA + RXBUF + 2048 * (uint64_t)id);
		looped = len == NET_HDR_LEN + sizeof(frame) &&
			 memcmp(rx + NET_HDR_LEN, frame, sizeof(frame)) == 0;
	}
	CHECK(looped, "the frame did not come back on the RX ring");

	for (i = 0; i < 2; i++)
		OK(vh_frontend_set_vring_enable(f, i, false));
	for (i = 0; i < 2; i++)
		OK(vh_frontend_get_vring_base(f, i, &base[i]));
	CHECK(base[TX] == 1, "TX GET_VRING_BASE %u, expected 1", base[TX]);

	vh_frontend_free(f);
	for (i = 0; i < 2; i++)
		ring_fini(&rings[i]);
	guest_mem_fini(&mem);
	printf("%s: PASS: %" PRIu64
	       " queue pairs offered, rings 0 and 1 up, a frame "
	       "looped TX->RX, GET_VRING_BASE rx %u tx %u\n",
	       prog_name, qnum, base[RX], base[TX]);
	return 0;
}
