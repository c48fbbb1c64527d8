/* SPDX-License-Identifier: MIT */
/*
 * Server internals (include/vhost/server.h).
 *
 * server.c    the control loop: listen / connect / adopt, sessions,
 *             reconnect, vh_server_run / dispatch / stop.
 * ctl_ring.c  vh_backend_ops for rings and features: the control half of
 *             the ring state machine (arm, stop, enable, call/err fds).
 * ctl_mem.c   vh_backend_ops for memory, dirty log and in-flight regions.
 * ctl_dev.c   vh_backend_ops for config, status, reset, device state; the
 *             dispatcher configuration.
 * worker.c    worker threads: commands from the control thread, epoll on
 *             kick fds, polling, the memory table each worker uses.
 * queue.c     the data path: start/stop of a ring on its worker, request
 *             pools, pop, completion (local batch or lock-free list),
 *             used-ring push and notification.
 *
 * Ownership of a struct vh_queue's fields (see docs/server.md):
 *  - "cfg" fields are written by the control thread only while the queue
 *    is not armed (not in its worker), or under w->lock together with a
 *    command; the worker reads them when it executes that command.
 *  - "run" fields belong to the worker while the queue is armed.
 *  - atomics may be read by anyone.
 */
#ifndef VHOST_SERVER_INT_H
#define VHOST_SERVER_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vhost/backend.h"
#include "vhost/log.h"
#include "vhost/mem.h"
#include "vhost/server.h"
#include "vhost/virtq.h"

#define SRV_DONE_CAP	     64u /* completions pushed in one used-ring update */
#define SRV_MAX_BATCH	     256u /* most pops per handler call */
#define SRV_WAIT_LOG_MS	     5000 /* log a command still waiting this long */
#define VIRTIO_S_NEEDS_RESET 0x40u

#define srv_container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr)-offsetof(type, member)))

/* What an epoll event points at (first member of each source). */
enum srv_ev_kind {
	EV_WAKE,   /* a worker's wake eventfd */
	EV_KICK,   /* a ring's kick eventfd */
	EV_WATCH,  /* a device fd (vh_queue_watch_fd) */
	EV_STOP,   /* the server's stop eventfd */
	EV_LISTEN, /* the listening socket */
	EV_CONN,   /* the session's connection */
	EV_TIMER,  /* reconnect back-off */
};
struct srv_ev {
	enum srv_ev_kind kind;
};

/* Queue commands (bits of vh_queue.cmd, under w->lock). */
enum {
	QCMD_ARM = 1u << 0,    /* join the worker; watch kick (or poll) */
	QCMD_STOP = 1u << 1,   /* stop taking requests, drain, leave */
	QCMD_ENABLE = 1u << 2, /* enabled changed: re-check the ring */
	QCMD_CALL = 1u << 3,   /* new call fd in new_call_fd */
	QCMD_ERR = 1u << 4,    /* new err fd in new_err_fd */
	QCMD_KICK = 1u << 5,   /* in-band kick */
	QCMD_LOG = 1u << 6,    /* logging switches changed */
};

/* A memory table and the requests popped through it. */
struct srv_slot {
	struct vh_mem_table *t;
	unsigned users;
	struct srv_slot *next; /* retired list */
};

struct srv_watch {
	struct srv_ev ev;
	int fd;
	void (*cb)(struct vh_queue *q, void *arg);
	void *arg;
	struct vh_queue *q;
	struct srv_watch *next;
};

struct srv_chunk {
	struct srv_chunk *next;
	size_t bytes;
};

struct srv_worker;

struct vh_queue {
	struct srv_ev ev; /* EV_KICK */
	struct vh_server *srv;
	struct srv_worker *w;
	uint32_t index;

	/* cfg (control thread; see above) */
	uint32_t num;
	struct vhost_user_vring_addr addr;
	bool has_addr;
	uint32_t base;	/* SET_VRING_BASE, then the base after a stop */
	int kick_fd;	/* -1: none */
	bool kick_nofd; /* SET_VRING_KICK with NOFD: poll */
	bool armed;	/* in its worker (ARM done, no STOP yet) */
	bool was_started;
	uint64_t features;
	atomic_bool log_all, log_used;
	void *inflight; /* this ring's in-flight region, or NULL */
	size_t inflight_len;

	/* shared */
	atomic_bool enabled;
	atomic_bool started;
	atomic_bool broken;
	atomic_bool wake_req;
	_Atomic(struct vh_req *) remote; /* completions from other threads */
	void *priv;

	/* commands (under w->lock) */
	unsigned cmd;
	int new_call_fd, new_err_fd;
	bool cmd_listed;
	struct vh_queue *cmd_next;

	/* run (worker) */
	int call_fd, err_fd; /* owned by the queue; swapped by commands */
	struct vh_virtq *vq;
	bool in_worker;
	bool pending;	 /* the ring may have work */
	bool stopping;	 /* STOP received, draining */
	bool notify_off; /* kicks disabled while we process */
	bool saw_empty;	 /* last pop found the ring empty */
	/* The handler left available buffers alone without progress (a net
	 * RX ring with nothing to receive): they are no work until a kick,
	 * an enable or vh_queue_wake. */
	bool declined;
	unsigned pops;	      /* requests popped, ever (wraps) */
	bool start_now;	      /* ARM starts at once (NOFD, or re-arm) */
	unsigned outstanding; /* popped, not yet pushed */
	/* Device-written ring parts outside used entries (split: flags and
	 * avail_event; packed: the device event structure), logged here
	 * when VHOST_VRING_F_LOG is on. */
	uint64_t logdev_gpa[2];
	uint32_t logdev_len[2];
	uint32_t final_base;
	struct vh_req *free;
	struct srv_chunk *chunks;
	unsigned pool_total;
	struct vh_req *done[SRV_DONE_CAP];
	unsigned ndone;
	struct srv_watch *watches;
	struct vh_queue *wnext; /* the worker's list */
};

struct srv_worker {
	struct srv_ev ev; /* EV_WAKE */
	struct vh_server *srv;
	unsigned idx;
	pthread_t thread;
	int epfd, wakefd;
	atomic_bool sleeping;
	atomic_bool remote_flag; /* some queue has remote completions */
	atomic_bool cmd_flag;	 /* commands or a sync request waiting */

	pthread_mutex_t lock; /* commands, sync, quit */
	pthread_cond_t cond;
	struct vh_queue *cmd_list;
	uint64_t sync_req, sync_ack;
	bool quit;

	/* worker-owned */
	struct vh_queue *queues;
	unsigned nqueues, nwatch, nunstarted, npoll;
	unsigned nstopping;    /* rings draining for a stop */
	struct srv_slot *slot; /* current memory table */
	struct srv_slot *retired;
};

struct vh_server {
	struct vh_device dev;
	char name[48];
	struct vh_server_config cfg;
	char *path;
	uint64_t offered_features;
	uint64_t offered_pf;
	unsigned batch;
	unsigned max_iov;
	size_t req_stride;

	int epfd;
	struct srv_ev ev_stop, ev_listen, ev_conn, ev_timer;
	int stop_fd, listen_fd, timer_fd;
	bool own_path; /* we created the listening path: unlink it */
	bool done;     /* run/dispatch returns 1 */
	bool connecting;
	int backoff_ms;

	/* Session. */
	pthread_mutex_t sess_lock; /* be pointer vs. other threads */
	struct vh_backend *be;
	atomic_bool connected;
	atomic_uint sessions;
	uint64_t features;
	atomic_bool enable_all; /* SET_FEATURES without PROTOCOL_FEATURES */
	atomic_uint status;
	struct vh_mem *mem;
	void *inflight;
	size_t inflight_size;
	uint16_t inflight_nq;
	size_t inflight_stride;
	int log_fd;

	struct vh_queue **queues; /* num_queues pointers, made on first use */
	struct srv_worker **workers;
	unsigned max_workers;
	atomic_size_t mem_bytes;
};

/* server.c */
void srv_mem_add(struct vh_server *srv, size_t bytes);
void srv_mem_sub(struct vh_server *srv, size_t bytes);

/* ctl_*.c */
extern const struct vh_backend_ops srv_backend_ops;
int srv_backend_config(struct vh_server *srv, struct vh_backend_config *bc);
struct vh_queue *srv_queue_get(struct vh_server *srv, uint32_t index);
/* Stop every ring (draining) and forget ring configuration. */
void srv_reset_rings(struct vh_server *srv);
/* Make every worker use the current memory table before returning. */
void srv_sync_workers(struct vh_server *srv);
/* The device went back to its initial state (reset / disconnect). */
void srv_reset_device(struct vh_server *srv);
void srv_session_mem_release(struct vh_server *srv);
int srv_op_send_rarp(void *opaque, const uint8_t mac[6]);
int srv_op_net_set_mtu(void *opaque, uint16_t mtu);

/* worker.c */
int srv_worker_get(struct vh_server *srv, unsigned idx,
		   struct srv_worker **out);
void srv_worker_free(struct srv_worker *w);
/* Post @bits for @q and wait until the worker cleared them. */
void srv_queue_cmd(struct vh_queue *q, unsigned bits);
void srv_worker_sync(struct srv_worker *w);
void srv_worker_wake(struct srv_worker *w);
/* Worker side: the current table (refreshed per batch). */
void srv_worker_refresh(struct srv_worker *w);
void srv_slot_put(struct srv_worker *w, struct srv_slot *s);
/* Worker side: clear command bits and wake the waiting control thread. */
void srv_cmd_done(struct vh_queue *q, unsigned bits);

/* queue.c (worker side) */
void srv_q_arm(struct srv_worker *w, struct vh_queue *q);
void srv_q_start(struct srv_worker *w, struct vh_queue *q);
void srv_q_stop(struct srv_worker *w, struct vh_queue *q);
/* Finish the stops whose rings drained (unlinks them: not while iterating
 * the worker's list). */
void srv_finish_stops(struct srv_worker *w);
/* Run the handler if the ring may be processed; true if anything moved. */
bool srv_q_process(struct srv_worker *w, struct vh_queue *q);
bool srv_q_runnable(const struct vh_queue *q);
void srv_q_take_remote(struct srv_worker *w, struct vh_queue *q);
void srv_q_flush(struct srv_worker *w, struct vh_queue *q);
void srv_q_break(struct vh_queue *q, const char *why);
void srv_q_notify_fd(int fd);
void srv_q_apply_logging(struct srv_worker *w, struct vh_queue *q);
/* Mark the ring's notification fields in the dirty log (if on). */
void srv_q_log_dev(struct srv_worker *w, struct vh_queue *q);

#endif /* VHOST_SERVER_INT_H */
