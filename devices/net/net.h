/* SPDX-License-Identifier: MIT */
/*
 * vhost-user-net — the device behind the program (devices/net/main.c) and
 * the tests (tests/net/): virtio-net (virtio 1.2 §5.1) served by vh_server.
 *
 * Rings (§5.1.2): receiveq_k = 2k, transmitq_k = 2k + 1, and the control
 * queue last: 2 * max_virtqueue_pairs with VIRTIO_NET_F_MQ, else 2. The
 * server puts rings 2k and 2k + 1 on the same worker (queues_per_worker = 2),
 * so one thread owns a whole queue pair: the TX handler may hand frames to
 * its RX ring without locks.
 *
 * Files:
 *   net_dev.c    vh_device_ops: features, config space, ring roles, reset,
 *                RARP and MTU, the per-ring handler dispatch.
 *   net_ctrl.c   the control queue (VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET).
 *   net_path.c   the data path shared by every back-end: TX headers, RX
 *                delivery (MRG_RXBUF, num_buffers, offload fix-ups), iovec
 *                copies, frame templates (generator, RARP).
 *   be_mem.c     back-ends without I/O: --loop, --sink, --gen.
 *   be_tap.c     --tap (IFF_VNET_HDR, offloads passed through).
 *   be_sock.c    --dgram (Unix datagram socket) and --packet (AF_PACKET).
 *   main.c       the program: options, server, signals, statistics.
 *
 * Threads: the control thread runs the control callbacks and the back-end's
 * emit (RARP); worker k runs the handlers of pair k (and maybe others); the
 * control queue has its own worker. Counters have one writer each (the
 * pair's worker, or the control thread for the *_ctl ones) and are read by
 * anyone with relaxed atomics.
 */
#ifndef VH_NET_H
#define VH_NET_H

#include <linux/virtio_net.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "vhost/server.h"

#define NET_VERSION "0.1.0"

/* struct virtio_net_hdr_v1: with VERSION_1 or MRG_RXBUF (§5.1.6). */
#define NET_HDR_LEN 12u
/* struct virtio_net_hdr (legacy, neither of the two). */
#define NET_HDR_LEN_LEGACY 10u
/* Largest frame (without the virtio header) we take or give: a 64 KiB GSO
 * packet plus Ethernet and VLAN headers. */
#define NET_FRAME_MAX (65536u + 64u)
/* Smallest frame the generator makes (Ethernet + IPv4 + UDP headers). */
#define NET_GEN_MIN   42u
#define NET_MAX_PAIRS 256u
#define NET_MTU_MIN   68u /* virtio 1.2 §5.1.4.1: mtu at least 68 */
#define NET_MTU_MAX   65535u

/* Offload features: the device may take them (HOST_*, CSUM) or give them
 * (GUEST_*). Each back-end says which it honours. */
#define NET_F(bit) (UINT64_C(1) << (bit))
#define NET_F_HOST_OFFLOADS                                             \
	(NET_F(VIRTIO_NET_F_CSUM) | NET_F(VIRTIO_NET_F_HOST_TSO4) |     \
	 NET_F(VIRTIO_NET_F_HOST_TSO6) | NET_F(VIRTIO_NET_F_HOST_ECN) | \
	 NET_F(VIRTIO_NET_F_HOST_UFO))
#define NET_F_GUEST_OFFLOADS                                               \
	(NET_F(VIRTIO_NET_F_GUEST_CSUM) | NET_F(VIRTIO_NET_F_GUEST_TSO4) | \
	 NET_F(VIRTIO_NET_F_GUEST_TSO6) | NET_F(VIRTIO_NET_F_GUEST_ECN) |  \
	 NET_F(VIRTIO_NET_F_GUEST_UFO))

/* ---- options ------------------------------------------------------------ */

enum net_mode {
	NET_MODE_NONE = 0,
	NET_MODE_LOOP,	 /* TX frames come back on RX of the same pair */
	NET_MODE_SINK,	 /* TX frames are read, counted and dropped */
	NET_MODE_GEN,	 /* RX rings are filled with generated frames */
	NET_MODE_TAP,	 /* a tap device */
	NET_MODE_DGRAM,	 /* a Unix datagram socket (raw Ethernet frames) */
	NET_MODE_PACKET, /* AF_PACKET on an interface */
};

struct net_opts {
	enum net_mode mode;
	const char *ifname;	/* tap, packet */
	const char *dgram_peer; /* dgram: send to this path */
	const char *dgram_bind; /* dgram: receive on this path */
	int dgram_fd;	   /* dgram: an inherited socket (-1: none); net_dev_new
			      takes it over, also when it fails */
	unsigned gen_size; /* gen: frame size */
	unsigned pairs;	   /* queue pairs, 1..NET_MAX_PAIRS */
	uint8_t mac[6];
	uint16_t mtu;
	bool no_offload; /* offer no checksum / GSO features */
	bool no_in_order;
	unsigned budget; /* most buffers one handler call takes per ring */
};

/** Defaults: one pair, MAC 52:54:00:12:34:56, MTU 1500, budget 256. */
void net_opts_init(struct net_opts *o);

/* ---- counters ----------------------------------------------------------- */

/* Per pair; docs/net.md has the table. */
struct net_stats {
	/* TX frames taken and given to the back-end; their bytes (without
	 * the virtio header); frames the back-end could not take (and TX of
	 * a disabled ring); chains shorter than the header or too big. */
	_Atomic uint64_t tx_frames, tx_bytes, tx_dropped, tx_bad;
	/* Frames delivered into RX rings, their bytes; frames not delivered
	 * (too big, offload not accepted, pair not active); RX buffers
	 * given back unused (length 0). */
	_Atomic uint64_t rx_frames, rx_bytes, rx_dropped, rx_bad_bufs;
};

/* Single-writer increment: a plain add, no locked instruction. */
static inline void net_stat_add(_Atomic uint64_t *c, uint64_t n)
{
	atomic_store_explicit(c,
			      atomic_load_explicit(c, memory_order_relaxed) + n,
			      memory_order_relaxed);
}

static inline uint64_t net_stat_get(_Atomic uint64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

/* ---- device ------------------------------------------------------------- */

struct net_dev;
struct net_pair;

enum net_role { NET_ROLE_NONE, NET_ROLE_RX, NET_ROLE_TX, NET_ROLE_CTRL };

/* What vh_queue_priv points at. */
struct net_qctx {
	enum net_role role;
	struct net_pair *pair; /* NULL for the control queue */
};

/*
 * A back-end. Every callback is optional except tx. "worker" callbacks run
 * on the pair's worker thread; the others on the control thread.
 */
struct net_backend {
	const char *name;
	/* Start-up (control thread, before serving): open devices, allocate
	 * per-pair state; may add offload bits to d->be_features. */
	int (*open)(struct net_dev *d);
	void (*close)(struct net_dev *d);
	/* SET_FEATURES (control): e.g. TUNSETOFFLOAD / TUNSETVNETHDRSZ. */
	int (*set_features)(struct net_dev *d, uint64_t features);
	/* Every ring stopped: drop queued frames (control). */
	void (*reset)(struct net_dev *d);
	/* The pair's RX ring started / stopped (worker). */
	int (*rx_started)(struct net_pair *p);
	void (*rx_stopped)(struct net_pair *p);
	/* @n popped TX requests: consume each (net_tx_frame helps) and
	 * complete it (worker). */
	void (*tx)(struct net_pair *p, struct vh_req **reqs, unsigned n);
	/* The RX ring may have buffers: deliver what is waiting (worker). */
	void (*rx)(struct net_pair *p);
	/* Put one frame (no virtio header) on the network (control): the
	 * SEND_RARP announcement. */
	int (*emit)(struct net_dev *d, const void *frame, size_t len);
	/* Pairs [0, n) may receive now, the others not (§5.1.6.5.5): after
	 * VQ_PAIRS_SET, when the control queue starts, and at reset (any
	 * thread; the back-end hands the change to the pairs' workers). */
	void (*pairs_active)(struct net_dev *d, unsigned n);
};

extern const struct net_backend net_be_loop, net_be_sink, net_be_gen,
    net_be_tap, net_be_dgram, net_be_packet;

struct net_pair {
	struct net_dev *dev;
	unsigned index;
	struct net_qctx rxctx, txctx;
	/* Rings while started. Written by the pair's worker under @lock,
	 * read by it freely and by other threads under @lock. */
	struct vh_queue *rxq, *txq;
	pthread_mutex_t lock;
	/* Copied from the RX ring's features at its start (worker). */
	uint64_t features;
	unsigned hdrlen;
	bool mrg;
	/* Back-end state of this pair. */
	void *be;
	/* A frame the control thread injected (loop: RARP), under @lock. */
	bool inject_ready;
	size_t inject_len;
	uint8_t inject[64];
	uint8_t *scratch; /* NET_HDR_LEN + NET_FRAME_MAX bytes (worker) */
	struct net_stats st;
};

struct net_dev {
	struct net_opts o;
	const struct net_backend *be;
	void *be_state;
	uint64_t be_features; /* offload bits the back-end honours */
	uint64_t offered;     /* virtio features offered */
	struct net_pair *pairs;
	struct net_qctx ctrlctx;
	struct vh_server *srv; /* for logs / config change; may be NULL */

	pthread_mutex_t lock; /* config: mac, mtu */
	uint8_t mac[6];
	uint16_t mtu;
	_Atomic uint64_t features; /* negotiated (SET_FEATURES) */
	atomic_uint vq_pairs;	   /* VQ_PAIRS_SET, 1 after reset */
	atomic_bool ctrl_started;  /* the control queue ran this session */

	/* Control queue counters (its worker). */
	_Atomic uint64_t ctrl_ok, ctrl_err, ctrl_bad;
	/* Announcements emitted (control thread). */
	_Atomic uint64_t announce;
	/* Buffers on rings that have no role (any worker: atomic add). */
	_Atomic uint64_t stray;
};

/**
 * Create the device for @o (copied): picks the back-end, opens it, builds
 * the feature set. Errors: -EINVAL (bad options), -ENOMEM, the back-end's
 * open errors (already logged).
 */
int net_dev_new(struct net_dev **out, const struct net_opts *o);
/** Close the back-end and free. NULL accepted. No server may use it. */
void net_dev_free(struct net_dev *d);

/** Fill @vd (for vh_server_new) with the device description. */
void net_dev_describe(struct net_dev *d, struct vh_device *vd);

/** Recommended server settings (workers per pair, batch). */
void net_dev_server_config(const struct net_dev *d, struct vh_server_config *c);

/** SEND_RARP: emit a RARP announcement for @mac (control thread). */
int net_dev_send_rarp(struct net_dev *d, const uint8_t mac[6]);
/** NET_SET_MTU: 68..65535 (-EINVAL otherwise). */
int net_dev_set_mtu(struct net_dev *d, uint16_t mtu);

/** Whether pair @p may receive now (VQ_PAIRS_SET, §5.1.6.5.5). */
bool net_pair_active(const struct net_pair *p);

/* Tell the back-end which pairs may receive (pairs_active), from the
 * control queue state: all until the control queue ran, then vq_pairs. */
void net_pairs_update(struct net_dev *d);

/** Sum of every pair's counters into @sum (plain copies). */
struct net_totals {
	uint64_t tx_frames, tx_bytes, tx_dropped, tx_bad;
	uint64_t rx_frames, rx_bytes, rx_dropped, rx_bad_bufs;
	uint64_t ctrl_ok, ctrl_err, ctrl_bad, announce, stray;
};
void net_dev_totals(struct net_dev *d, struct net_totals *sum);
/** One line "tx_frames=... rx_frames=..." into @buf. */
void net_totals_format(const struct net_totals *t, char *buf, size_t len);

/* ---- control queue (net_ctrl.c) ------------------------------------------ */

void net_ctrl_handle(struct net_dev *d, struct vh_queue *q);

/* ---- data path (net_path.c) ---------------------------------------------- */

/** Copy up to @n bytes from offset @off of @e's readable part into @dst;
 *  returns the bytes copied. */
size_t net_iov_read(const struct vh_virtq_elem *e, size_t off, void *dst,
		    size_t n);
/** Copy @n bytes into @e's writable part at offset @off (must fit). */
void net_iov_write(const struct vh_virtq_elem *e, size_t off, const void *src,
		   size_t n);

/**
 * Check one TX request: fills *@hdr (12 bytes; num_buffers 0, a legacy
 * 10-byte header widened) and *@len (frame bytes after the header).
 * Returns 0, or -EINVAL (counted as tx_bad: shorter than the header, or a
 * frame above NET_FRAME_MAX); the caller then completes it with 0.
 */
int net_tx_frame(struct net_pair *p, const struct vh_req *r,
		 struct virtio_net_hdr_v1 *hdr, uint32_t *len);

/**
 * One RX delivery run on pair @p's worker: pops RX buffers as frames need
 * them. Begin, put frames, end (gives back a buffer left over, len 0).
 */
#define NET_RX_AHEAD 32u
struct net_rx_run {
	struct net_pair *p;
	struct vh_queue *q;
	/* Popped and not used yet, in pop order: the buffer a frame did not
	 * fit, or buffers net_rx_fill took ahead. held[at..n) are next. */
	struct vh_req *held[NET_RX_AHEAD];
	unsigned at, n;
	bool empty; /* a pop found no buffer */
	uint64_t frames, bytes, dropped, bad_bufs;
};
void net_rx_begin(struct net_rx_run *run, struct net_pair *p);
/**
 * Deliver one frame: @hdr (num_buffers ignored) and @len bytes at @data.
 * Returns 1 (delivered), 0 (no RX buffer, or the ring is disabled: keep
 * the frame and try later),
 * -1 (dropped, counted: larger than the buffers, offload the driver did not
 * accept, pair inactive).
 */
int net_rx_put(struct net_rx_run *run, const struct virtio_net_hdr_v1 *hdr,
	       const void *data, size_t len);
void net_rx_end(struct net_rx_run *run);
/**
 * The generator's loop: up to @max copies of one frame, popping RX buffers
 * NET_RX_AHEAD at a time and prefetching them before they are written (the
 * driver's last touch was on another CPU). Returns the frames delivered.
 */
unsigned net_rx_fill(struct net_rx_run *run,
		     const struct virtio_net_hdr_v1 *hdr, const void *data,
		     size_t len, unsigned max);

/** Ethernet/IPv4/UDP frame of @size bytes from @src to @dst MAC. */
void net_make_udp_frame(uint8_t *buf, size_t size, const uint8_t dst[6],
			const uint8_t src[6]);
/** The 60-byte RARP announcement of @mac (what QEMU and DPDK send). */
size_t net_make_rarp(uint8_t *buf, const uint8_t mac[6]);

#endif /* VH_NET_H */
