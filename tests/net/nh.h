/* SPDX-License-Identifier: MIT */
/*
 * tests/net harness: the net device (devices/net) served by vh_server on a
 * thread, and a "guest" in the same process — our front-end plus the
 * library's driver-side queues over a memfd shared with SET_MEM_TABLE.
 *
 * Guest memory: NH_MEM_LEN bytes at guest-physical NH_GPA (not the user
 * address, so a translation mistake shows). Ring q's parts live in its
 * NH_RING_STRIDE bytes at q * NH_RING_STRIDE; its buffers are NH_SLOTS
 * slots of NH_SLOT bytes from NH_DATA_OFF + q * NH_SLOTS * NH_SLOT.
 */
#ifndef NH_H
#define NH_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "net.h"
#include "vhost/driver.h"
#include "vhost/frontend.h"
#include "vhost/server.h"

#define NH_GPA	       0x100000000ull
#define NH_MAXQ	       9u /* 4 pairs and the control queue */
#define NH_RING_STRIDE 0x10000u
#define NH_SLOTS       64u
#define NH_SLOT	       0x11000u /* a 64 KiB GSO frame and its header */
#define NH_DATA_OFF    (NH_MAXQ * NH_RING_STRIDE)
#define NH_MEM_LEN     (NH_DATA_OFF + NH_MAXQ * NH_SLOTS * NH_SLOT)
#define NH_TIMEOUT_MS  5000

/* Protocol features a test front-end asks for (QEMU asks much the same). */
#define NH_PF                                                           \
	(vh_protocol_feature_mask(VHOST_USER_PROTOCOL_F_MQ) |           \
	 vh_protocol_feature_mask(VHOST_USER_PROTOCOL_F_REPLY_ACK) |    \
	 vh_protocol_feature_mask(VHOST_USER_PROTOCOL_F_CONFIG) |       \
	 vh_protocol_feature_mask(VHOST_USER_PROTOCOL_F_STATUS) |       \
	 vh_protocol_feature_mask(VHOST_USER_PROTOCOL_F_RARP) |         \
	 vh_protocol_feature_mask(VHOST_USER_PROTOCOL_F_NET_MTU) |      \
	 vh_protocol_feature_mask(VHOST_USER_PROTOCOL_F_RESET_DEVICE) | \
	 vh_protocol_feature_mask(VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS))

struct nh_ring {
	struct vh_drv_queue *drv;
	int kick, call, err;
	uint16_t size;
	uint16_t free_slots[NH_SLOTS];
	unsigned nfree;
};

struct nh {
	/* back-end */
	struct net_dev *dev;
	struct vh_server *srv;
	pthread_t thr;
	int rc;
	char dir[64];
	char path[108];
	/* guest */
	int memfd;
	uint8_t *mem;
	struct vh_frontend *fe;
	uint64_t offered, features, pf;
	bool packed, event_idx, indirect;
	bool use_indirect; /* post buffers in indirect tables (if acked) */
	struct nh_ring r[NH_MAXQ];
};

/* Quiet logger counting errors (NH_VERBOSE=1 prints them). */
extern int nh_log_errors;
void nh_quiet_logs(void);

/* Serve a net device with @o (@poll_us: server polling) on a thread. */
void nh_serve(struct nh *h, const struct net_opts *o, unsigned poll_us);
/* Connect the guest: negotiate @pf, SET_FEATURES (offered & @mask, with
 * PROTOCOL_FEATURES), SET_MEM_TABLE. */
void nh_connect(struct nh *h, uint64_t pf, uint64_t mask);
/* nh_serve + nh_connect with defaults (all offered features). */
void nh_start(struct nh *h, const struct net_opts *o, uint64_t mask);
/* Hang up: the front-end, rings, fds and guest memory go. */
void nh_disconnect(struct nh *h);
/* Hang up, stop the server, free everything. */
void nh_stop(struct nh *h);

/* Ring @q of @size: driver queue, NUM/BASE/ADDR/KICK/CALL/ERR, ENABLE. */
void nh_ring(struct nh *h, unsigned q, uint16_t size);

/* Slot @s of ring @q: host pointer and guest-physical address. */
uint8_t *nh_slot(struct nh *h, unsigned q, unsigned s);
uint64_t nh_slot_gpa(unsigned q, unsigned s);

/* Post one device-writable buffer of @len bytes (one descriptor; with
 * @nseg > 1 that many descriptors splitting it). Returns the slot or -1
 * when none is free. Not kicked. */
int nh_rx_post(struct nh *h, unsigned q, uint32_t len, unsigned nseg);
/* Post a device-readable buffer: @hdr (@hlen bytes, its own descriptor
 * when @split) then @frame. Returns the slot or -1. Not kicked. */
int nh_tx_post(struct nh *h, unsigned q, const void *hdr, uint32_t hlen,
	       const void *frame, uint32_t flen, bool split);
/* A control command: out = @cmd (@clen bytes), in = @alen bytes (the
 * ack is its last byte). Returns the slot or -1. Not kicked. */
int nh_ctrl_post(struct nh *h, unsigned q, const void *cmd, uint32_t clen,
		 uint32_t alen);
/* Publish and kick when the device wants it. */
void nh_kick(struct nh *h, unsigned q);
/* Reap one used buffer within @ms: 1 (slot, len; the slot is freed), 0. */
int nh_reap(struct nh *h, unsigned q, int ms, unsigned *slot, uint32_t *len);

/* ---- --loop helpers (ring 0 RX, ring 1 TX) ------------------------------ */

extern const struct virtio_net_hdr_v1 nh_zero_hdr;
/* A --loop device, the guest connected with offered & @mask, rings 0
 * and 1 of 64 entries. One at a time (static storage). */
struct nh *nh_loop(uint64_t mask);
/* The virtio-net header size the guest negotiated (12 or 10). */
unsigned nh_hdrlen(const struct nh *h);
/* Post a frame on ring 1 and kick. */
void nh_send(struct nh *h, const struct virtio_net_hdr_v1 *hdr,
	     const uint8_t *f, uint32_t len, bool split);
/* Reap @n TX buffers (used length 0), failing with the counters. */
void nh_reap_tx(struct nh *h, unsigned n);
/* Reap one RX buffer on ring 0: its slot, *@len its used length. */
unsigned nh_reap_rx(struct nh *h, uint32_t *len);

/* Totals of the device's counters. */
void nh_totals(struct nh *h, struct net_totals *t);
/* Wait until @cond(@h) holds or @ms passed; the last value. */
bool nh_wait(struct nh *h, bool (*cond)(struct nh *h), int ms);

/* A test frame: Ethernet header to the device MAC, then a pattern from
 * @seed; @len bytes. */
void nh_frame(uint8_t *buf, uint32_t len, unsigned seed);

#endif /* NH_H */
