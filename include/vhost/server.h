/* SPDX-License-Identifier: MIT */
/*
 * libvhost — the back-end framework: one vhost-user device served over a
 * socket, with the ring state machine, worker threads and a small device
 * interface (struct vh_device_ops), so that a device is a few hundred lines.
 *
 * A struct vh_server serves one device to one front-end at a time. It
 * listens on a path (and accepts the next front-end after one leaves),
 * connects to a path (and reconnects with back-off after a hang-up), or uses
 * an inherited fd (--fd: listening or connected). It implements every
 * vh_backend_ops callback itself: memory (vh_mem), rings (vh_virtq), dirty
 * logging, in-flight tracking, reset and status; the device only sees
 * configuration, queue start/stop and requests. Many servers may live in one
 * process: nothing here is global.
 *
 * Threads (docs/server.md has the picture):
 *  - the control thread: whoever calls vh_server_run() or
 *    vh_server_dispatch(). It accepts/connects, reads vhost-user messages
 *    and runs the control callbacks of vh_device_ops.
 *  - worker threads, started on first use: each serves a group of queues
 *    (vh_server_config.queues_per_worker), event-driven (epoll on kick
 *    eventfds) or busy-polling for poll_us microseconds before sleeping.
 *    Every queue callback of vh_device_ops runs on the queue's worker.
 *  - any thread may complete a request (vh_req_complete).
 *
 * Ring state machine (vhost-user.rst "Ring states"), per ring:
 *   stopped/started x disabled/enabled, starting stopped and disabled.
 *   - SET_VRING_KICK hands the kick fd to the ring's worker; the ring
 *     starts when that fd becomes readable (or on the in-band VRING_KICK,
 *     or at once when the NOFD flag asks for polling);
 *   - SET_VRING_ENABLE enables/disables it; SET_FEATURES without
 *     VHOST_USER_F_PROTOCOL_FEATURES enables every ring;
 *   - GET_VRING_BASE stops it (not a reset): new requests are no longer
 *     taken, the answer waits until every request the device holds has been
 *     completed (drained), and the kick fd is closed (a new SET_VRING_KICK
 *     arms the ring again, as QEMU sends). In-flight requests are always
 *     drained, also with INFLIGHT_SHMFD: GET_VRING_BASE_SKIP_DRAIN is not
 *     offered;
 *   - RESET_DEVICE, RESET_OWNER, SET_STATUS 0 and a disconnect stop every
 *     ring (draining) and forget its configuration.
 *   A kick that arrives while the ring is disabled starts the ring and is
 *   remembered: enabling re-checks the available ring. A started but
 *   disabled ring is not processed unless the device sets
 *   VH_DEVICE_F_PROCESS_DISABLED; then it is processed and the device must
 *   avoid side effects while vh_queue_enabled() is false.
 *
 * Ownership: the server owns the listening socket, the connection, every fd
 * the front-end sent, guest memory mappings, the in-flight region and the
 * request pools. The device owns its own state and the requests it popped
 * until it completes them.
 */
#ifndef VHOST_SERVER_H
#define VHOST_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vhost/conn.h"
#include "vhost/mem.h"
#include "vhost/proto.h"
#include "vhost/virtq.h"

#ifdef __cplusplus
extern "C" {
#endif

struct vh_server;
struct vh_queue;

/* ------------------------------------------------------------------------ */
/* Requests                                                                 */
/* ------------------------------------------------------------------------ */

/**
 * One popped buffer. The device may embed it as the FIRST member of its own
 * request struct and declare that struct's size in vh_device.req_size: the
 * server's per-queue pool then allocates both in one block (no allocation
 * per request; the pool grows in chunks up to the ring size).
 *
 * elem.iov[0, elem.out_num) are device-readable, the elem.in_num iovecs
 * after them device-writable (elem.out_len / elem.in_len bytes). The
 * iovecs point into guest memory and stay valid until the request is
 * completed. The fields after @queue are the server's.
 */
struct vh_req {
	struct vh_virtq_elem elem;
	struct vh_queue *queue;
	/* private */
	struct vh_req *next_;
	void *slot_;
	uint32_t used_len_;
};

/**
 * Complete @r: @used_len bytes were written into its writable iovecs (a
 * larger value is clamped, and logged). May be called from any thread,
 * exactly once per request, also after the ring was asked to stop (the stop
 * waits for it).
 *
 * How: on the queue's worker thread the request joins the worker's batch,
 * pushed to the used ring when the handler returns (or when the batch is
 * full), with one notification per batch. From any other thread the request
 * goes on a lock-free list of the queue and the worker is woken (eventfd)
 * if it sleeps; the worker pushes it with the next batch. The used ring is
 * therefore only ever written by the worker: no lock on the data path.
 */
void vh_req_complete(struct vh_req *r, uint32_t used_len);

/* ------------------------------------------------------------------------ */
/* Queues (for the device; all calls on the queue's worker unless noted)    */
/* ------------------------------------------------------------------------ */

/**
 * Take the next available request: 1 with *@out set, 0 when the ring is
 * empty (or stopping, or disabled and the device does not process disabled
 * rings), -EIO when the ring is broken (hostile descriptors: it is no
 * longer processed, the err eventfd is written and the device status gets
 * NEEDS_RESET; vh_req_complete still takes back requests already popped,
 * without pushing them). Worker thread only (0 from any other thread).
 */
int vh_queue_pop(struct vh_queue *q, struct vh_req **out);

/** Ring index. Any thread. */
uint32_t vh_queue_index(const struct vh_queue *q);
/** Ring size (SET_VRING_NUM). */
uint16_t vh_queue_size(const struct vh_queue *q);
/** Whether the ring is enabled (a disabled ring must cause no side
 *  effects). Any thread. */
bool vh_queue_enabled(const struct vh_queue *q);
/** Virtio features negotiated for this session. */
uint64_t vh_queue_features(const struct vh_queue *q);
/** The server. */
struct vh_server *vh_queue_server(const struct vh_queue *q);
/** The worker index (0..max_workers-1) serving this queue. */
unsigned vh_queue_worker(const struct vh_queue *q);

/** Per-queue device pointer, NULL until set (e.g. in queue_started). */
void vh_queue_set_priv(struct vh_queue *q, void *priv);
void *vh_queue_priv(const struct vh_queue *q);

/**
 * Guest memory as the worker currently sees it: valid until the handler
 * returns. For devices that write guest memory outside requests
 * (vh_mem_write marks the dirty log).
 */
const struct vh_mem_table *vh_queue_mem(const struct vh_queue *q);

/**
 * Watch @fd (borrowed; keep it open until unwatched) on the queue's worker:
 * @cb runs there whenever @fd is readable (level-triggered), e.g. an
 * io_uring completion eventfd, so completions happen on the worker without
 * any cross-thread hand-off. The watch ends when the queue stops (before
 * queue_stopped) or with vh_queue_unwatch_fd. Errors: -EEXIST, -ENOMEM,
 * epoll_ctl's errno. Worker thread only (typically from queue_started).
 */
int vh_queue_watch_fd(struct vh_queue *q, int fd,
		      void (*cb)(struct vh_queue *q, void *arg), void *arg);
int vh_queue_unwatch_fd(struct vh_queue *q, int fd);

/**
 * Ask the worker to run the handler again soon (e.g. the device stopped
 * popping for lack of resources that are now free). Any thread.
 */
void vh_queue_wake(struct vh_queue *q);

/* ------------------------------------------------------------------------ */
/* The device                                                               */
/* ------------------------------------------------------------------------ */

/** Device flags (vh_device.flags). */
enum {
	/** Process started-but-disabled rings: the handler runs and must
	 *  cause no side effects while vh_queue_enabled() is false (a net
	 *  device discards TX). Without it such a ring waits until enabled. */
	VH_DEVICE_F_PROCESS_DISABLED = 1u << 0,
	/** Accept device-readable descriptors after writable ones
	 *  (VH_VIRTQ_F_ANY_ORDER). */
	VH_DEVICE_F_ANY_ORDER = 1u << 1,
};

/**
 * Device callbacks; @dev is vh_device.opaque. All optional except one of
 * handle_queue / handle_reqs. Return 0 or a negative errno.
 *
 * Control thread: set_features, get_config, set_config, reset, set_status,
 * set_device_state_fd, check_device_state, connected, disconnected.
 * Queue's worker: queue_started, queue_stopped, handle_queue, handle_reqs.
 * Control callbacks never run concurrently with each other; queue callbacks
 * of different workers do.
 */
struct vh_device_ops {
	/* Requests. handle_queue pops with vh_queue_pop itself (as many as
	 * it likes; it is called again while the ring has more). handle_reqs
	 * receives up to vh_server_config.batch popped requests at once. */
	void (*handle_queue)(void *dev, struct vh_queue *q);
	void (*handle_reqs)(void *dev, struct vh_queue *q, struct vh_req **reqs,
			    unsigned n);

	/* A ring started (its first kick): set up per-queue resources. A
	 * non-zero return marks the ring broken (NEEDS_RESET). */
	int (*queue_started)(void *dev, struct vh_queue *q);
	/* The ring stopped and every request was completed. */
	void (*queue_stopped)(void *dev, struct vh_queue *q);

	/* SET_FEATURES (also on the fly, e.g. LOG_ALL during migration). */
	int (*set_features)(void *dev, uint64_t features);
	/* Config space (vhost-user.rst GET_CONFIG / SET_CONFIG); offset and
	 * size are within vh_device.config_size. */
	int (*get_config)(void *dev, uint32_t offset, uint32_t size,
			  uint8_t *buf);
	int (*set_config)(void *dev, uint32_t offset, uint32_t size,
			  uint32_t flags, const uint8_t *buf);
	/* Every ring is stopped; return to the initial device state
	 * (RESET_DEVICE, RESET_OWNER, SET_STATUS 0, disconnect). */
	void (*reset)(void *dev);
	/* SET_STATUS with a non-zero status (0 is a reset: see reset). The
	 * rings follow the ring state machine, not DRIVER_OK (as
	 * libvhost-user): a device that wants to act on DRIVER_OK (announce
	 * a link, ...) does it here. */
	void (*set_status)(void *dev, uint8_t status);
	/* A front-end connected / left (after reset). */
	void (*connected)(void *dev);
	void (*disconnected)(void *dev);

	/* Net devices. SEND_RARP: emit the RARP announcement for @mac on the
	 * network side. NET_SET_MTU: a negative return nacks (REPLY_ACK).
	 * The server offers VHOST_USER_PROTOCOL_F_RARP / _NET_MTU when the
	 * callback is set. */
	int (*send_rarp)(void *dev, const uint8_t mac[6]);
	int (*net_set_mtu)(void *dev, uint16_t mtu);

	/* Device state (DEVICE_STATE, offered when both are set): see
	 * vh_backend_ops.set_device_state_fd for the fd rules. Called while
	 * every ring is stopped. */
	int (*set_device_state_fd)(void *dev, uint32_t direction,
				   uint32_t phase, int *fd, int *reply_fd);
	int (*check_device_state)(void *dev);
};

/** What the device is. Copied by vh_server_new (name too). */
struct vh_device {
	const char *name; /* for logs, e.g. "blk0"; may be NULL */
	/* Virtio features offered (device bits plus the ring features the
	 * device accepts: VERSION_1, RING_PACKED, EVENT_IDX, INDIRECT_DESC,
	 * ...; VH_SERVER_RING_FEATURES has them all). VHOST_F_LOG_ALL and
	 * VHOST_USER_F_PROTOCOL_FEATURES are added by the server. */
	uint64_t features;
	/* Protocol features the device adds to / removes from the
	 * server's default set (vh_server_default_protocol_features);
	 * only bits the server implements can be added. */
	uint64_t protocol_features_add;
	uint64_t protocol_features_remove;
	uint32_t num_queues;	 /* 1..0x8000 */
	uint16_t max_queue_size; /* largest SET_VRING_NUM; 0: 32768 */
	uint32_t config_size;	 /* 0: no config space (no CONFIG bit) */
	/* Size of the device's request struct (which starts with a
	 * struct vh_req); 0 means sizeof(struct vh_req). */
	size_t req_size;
	/* Iovecs per request (a chain needing more breaks the ring);
	 * 0 means 128. */
	unsigned max_iov;
	unsigned flags; /* VH_DEVICE_F_* */
	const struct vh_device_ops *ops;
	void *opaque;
};

/** Ring features a generic device can offer. */
#define VH_SERVER_RING_FEATURES                                   \
	(vh_virtio_feature_mask(VH_VIRTIO_F_VERSION_1) |          \
	 vh_virtio_feature_mask(VH_VIRTIO_F_RING_PACKED) |        \
	 vh_virtio_feature_mask(VH_VIRTIO_RING_F_EVENT_IDX) |     \
	 vh_virtio_feature_mask(VH_VIRTIO_RING_F_INDIRECT_DESC) | \
	 vh_virtio_feature_mask(VH_VIRTIO_F_NOTIFY_ON_EMPTY))

/**
 * The protocol features offered by default: MQ, LOG_SHMFD, REPLY_ACK,
 * BACKEND_REQ, BACKEND_SEND_FD, INFLIGHT_SHMFD, RESET_DEVICE,
 * CONFIGURE_MEM_SLOTS, STATUS; plus CONFIG when the device has a config
 * space, DEVICE_STATE when it implements the two callbacks, RARP and
 * NET_MTU when it has send_rarp / net_set_mtu.
 */
uint64_t vh_server_default_protocol_features(const struct vh_device *dev);

/* ------------------------------------------------------------------------ */
/* The server                                                               */
/* ------------------------------------------------------------------------ */

enum vh_server_mode {
	VH_SERVER_LISTEN,  /* listen on path; accept one front-end at a time */
	VH_SERVER_CONNECT, /* connect to path; reconnect after a hang-up */
	VH_SERVER_FD,	   /* inherited fd: listening or connected */
};

struct vh_server_config {
	enum vh_server_mode mode;
	const char *path; /* LISTEN, CONNECT; copied */
	int fd;		  /* FD: taken over by vh_server_new (also on error) */
	/* Serve one front-end, then vh_server_run returns. A connected
	 * inherited fd always means once. */
	bool once;
	/* CONNECT: delay before the first retry and its cap, doubling in
	 * between; 0 means 10 ms and 1000 ms. */
	int reconnect_min_ms;
	int reconnect_max_ms;

	/* Workers: ring i is served by worker (i / queues_per_worker) %
	 * max_workers, started on first use. 0 means 1 and 8. */
	unsigned queues_per_worker;
	unsigned max_workers;
	/* CPU for worker i (worker_cpus[i % n_worker_cpus]); none if 0. */
	const int *worker_cpus;
	unsigned n_worker_cpus;
	/* 0: event-driven workers. Otherwise a worker busy-polls its rings
	 * and sleeps (notifications re-enabled and re-checked) only after
	 * this many microseconds without work. */
	unsigned poll_us;
	/* Most requests popped per handler call (handle_reqs batch, and one
	 * used-ring update per batch); 0 means 32, at most 256. */
	unsigned batch;

	/* Connection limits and message timeout (vh_conn_opts). */
	struct vh_conn_opts conn;
};

/**
 * Create a server for @dev (copied; ops and opaque must outlive it) with
 * @cfg (copied). LISTEN listens at once (vh_sock_listen: -EADDRINUSE, ...);
 * CONNECT tries at the first dispatch. Errors: -EINVAL (no handler, bad
 * num_queues, a protocol feature the server cannot honour, missing path),
 * -ENOMEM, socket errors.
 */
int vh_server_new(struct vh_server **out, const struct vh_device *dev,
		  const struct vh_server_config *cfg);

/**
 * Stop serving: the session (if any) is torn down as a disconnect (rings
 * drained), workers joined, the listening path unlinked (LISTEN only), all
 * fds and mappings released. Must not run concurrently with run/dispatch.
 */
void vh_server_free(struct vh_server *srv);

/**
 * Serve until vh_server_stop() (returns 0), until the only front-end left
 * (once / connected fd: 0), or a fatal error (negative errno). Blocking.
 */
int vh_server_run(struct vh_server *srv);

/** Make vh_server_run return (any thread, async-signal-safe). */
void vh_server_stop(struct vh_server *srv);

/**
 * For applications with their own loop: a file descriptor (epoll, owned
 * by the server) that becomes readable when vh_server_dispatch has work.
 */
int vh_server_fd(const struct vh_server *srv);

/**
 * Handle what is ready, waiting up to @timeout_ms (0: not at all, -1:
 * forever). Returns 0, 1 when the server is done (stopped, or its only
 * front-end left), or a negative errno.
 */
int vh_server_dispatch(struct vh_server *srv, int timeout_ms);

/** Whether a front-end is connected now. Any thread. */
bool vh_server_connected(const struct vh_server *srv);

/** Number of front-ends served so far (sessions started). Any thread. */
unsigned vh_server_sessions(const struct vh_server *srv);

/**
 * Tell the front-end the config space changed (BACKEND_CONFIG_CHANGE_MSG
 * on the back-end channel). Any thread. -ENOTCONN without a session or
 * channel, -EOPNOTSUPP when CONFIG or BACKEND_REQ is not negotiated.
 */
int vh_server_config_changed(struct vh_server *srv);

/** The device status byte (SET_STATUS, with NEEDS_RESET when a ring
 *  broke). Any thread. */
uint8_t vh_server_status(const struct vh_server *srv);

/** Ring states (bits): VH_RING_STARTED | VH_RING_ENABLED. */
enum vh_ring_state {
	VH_RING_STOPPED_DISABLED = 0,
	VH_RING_STOPPED_ENABLED = 1,
	VH_RING_STARTED_DISABLED = 2,
	VH_RING_STARTED_ENABLED = 3,
};
#define VH_RING_ENABLED 1u
#define VH_RING_STARTED 2u

/** Ring @index's state now (any thread; for tests and tools). A ring
 *  never configured is VH_RING_STOPPED_DISABLED. */
enum vh_ring_state vh_server_ring_state(const struct vh_server *srv,
					uint32_t index);

/** Bytes the server allocated for queue state and request pools, for
 *  the memory report (not counting guest mappings). Any thread. */
size_t vh_server_mem_usage(const struct vh_server *srv);

#ifdef __cplusplus
}
#endif

#endif /* VHOST_SERVER_H */
