/* SPDX-License-Identifier: MIT */
/*
 * The data path of one ring, on its worker thread: start (map the rings,
 * attach the in-flight region), request pools, pop, completion, used-ring
 * push with one notification per batch, and stop (drain, then leave).
 *
 * Only the worker touches the vh_virtq: completions from other threads are
 * handed over through a lock-free list (vh_req_complete), so pop and push
 * never need a lock (virtq.h: one thread at a time per queue).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "server_int.h"

extern _Thread_local struct srv_worker *srv_tls_worker;

/* ---- helpers ----------------------------------------------------------- */

void srv_q_notify_fd(int fd)
{
	uint64_t one = 1;

	if (fd >= 0)
		(void)!write(fd, &one, sizeof(one));
}

void srv_q_break(struct vh_queue *q, const char *why)
{
	struct vh_server *srv = q->srv;

	if (atomic_exchange(&q->broken, true))
		return;
	vh_err("%s: ring %u: broken: %s; device status NEEDS_RESET", srv->name,
	       q->index, why);
	/* virtio 1.2 §2.1.2: the device sets DEVICE_NEEDS_RESET; the
	 * front-end learns it through GET_STATUS or the err eventfd. */
	atomic_fetch_or(&srv->status, VIRTIO_S_NEEDS_RESET);
	srv_q_notify_fd(q->err_fd);
	q->pending = false;
}

bool srv_q_runnable(const struct vh_queue *q)
{
	if (!q->vq || q->stopping || atomic_load(&q->broken))
		return false;
	return atomic_load_explicit(&q->enabled, memory_order_relaxed) ||
	       (q->srv->dev.flags & VH_DEVICE_F_PROCESS_DISABLED);
}

/*
 * vhost-user.rst Migration: "Modifications to used vring should be marked
 * if VHOST_VRING_F_LOG is part of ring's flags". vh_virtq logs the used
 * entries and index it writes on push; the notification switches (used
 * flags, avail_event, the packed device event structure) are written
 * outside push, so they are marked here, after each place that writes
 * them (pops with EVENT_IDX, enable/disable of notifications).
 */
static void log_dev(struct srv_worker *w, struct vh_queue *q)
{
	struct vh_mem_log *log;

	if (!atomic_load_explicit(&q->log_used, memory_order_relaxed))
		return;
	log = vh_mem_table_log(w->slot->t);
	if (!log)
		return;
	for (unsigned i = 0; i < 2; i++)
		if (q->logdev_len[i])
			vh_mem_log_mark(log, q->logdev_gpa[i],
					q->logdev_len[i]);
}

static void set_logdev(struct srv_worker *w, struct vh_queue *q, bool packed)
{
	memset(q->logdev_len, 0, sizeof(q->logdev_len));
	if (packed) {
		uint64_t gpa;

		if (vh_mem_uva_to_gpa(w->slot->t, q->addr.used_user_addr, 4,
				      &gpa) == 0) {
			q->logdev_gpa[0] = gpa;
			q->logdev_len[0] = 4;
		}
		return;
	}
	q->logdev_gpa[0] = q->addr.log_guest_addr; /* used->flags */
	q->logdev_len[0] = 2;
	q->logdev_gpa[1] = q->addr.log_guest_addr + 4 + 8 * (uint64_t)q->num;
	q->logdev_len[1] = 2; /* avail_event */
}

void srv_q_apply_logging(struct srv_worker *w, struct vh_queue *q)
{
	if (q->vq)
		set_logdev(w, q,
			   vh_virtio_has(q->features, VH_VIRTIO_F_RING_PACKED));
	if (q->vq)
		vh_virtq_set_logging(q->vq, atomic_load(&q->log_all),
				     atomic_load(&q->log_used));
}

/* ---- request pool ------------------------------------------------------ */

static int pool_grow(struct vh_queue *q)
{
	const struct vh_server *srv = q->srv;
	/* Grown 16 at a time: the ring never has more than q->num
	 * requests available, so the pool stays within that; small steps
	 * keep a shallow queue small (a request is ~4 KiB with 160 iovecs:
	 * bench/blk/scale.sh), and growing is rare (once per 16 requests
	 * more in flight than ever before). */
	unsigned n = q->num < 16 ? (q->num ? q->num : 1) : 16;
	size_t hdr = (sizeof(struct srv_chunk) + 63) & ~(size_t)63;
	size_t bytes = hdr + (size_t)n * srv->req_stride;
	size_t head = (srv->dev.req_size + 15) & ~(size_t)15;
	struct srv_chunk *c;

	c = aligned_alloc(64, (bytes + 63) & ~(size_t)63);
	if (!c)
		return -ENOMEM;
	memset(c, 0, bytes);
	c->bytes = bytes;
	c->next = q->chunks;
	q->chunks = c;
	for (unsigned i = 0; i < n; i++) {
		struct vh_req *r =
		    (struct vh_req *)((char *)c + hdr + i * srv->req_stride);
		struct iovec *iov = (struct iovec *)((char *)r + head);

		r->queue = q;
		r->elem.iov_cap = srv->max_iov;
		r->elem.iov = iov;
		r->elem.gpa = (uint64_t *)(iov + srv->max_iov);
		r->next_ = q->free;
		q->free = r;
	}
	q->pool_total += n;
	srv_mem_add(q->srv, bytes);
	return 0;
}

static void pool_free(struct vh_queue *q)
{
	struct srv_chunk *c, *n;

	for (c = q->chunks; c; c = n) {
		n = c->next;
		srv_mem_sub(q->srv, c->bytes);
		free(c);
	}
	q->chunks = NULL;
	q->free = NULL;
	q->pool_total = 0;
}

/* ---- start / stop ------------------------------------------------------ */

void srv_q_arm(struct srv_worker *w, struct vh_queue *q)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &q->ev};

	q->in_worker = true;
	q->stopping = false;
	q->pending = false;
	q->notify_off = false;
	q->wnext = w->queues;
	w->queues = q;
	w->nqueues++;
	w->nunstarted++;
	if (q->kick_fd >= 0 &&
	    epoll_ctl(w->epfd, EPOLL_CTL_ADD, q->kick_fd, &ev)) {
		vh_err("%s: ring %u: cannot watch the kick fd: %s",
		       q->srv->name, q->index, vh_strerror(-errno));
		srv_q_break(q, "kick fd refused by epoll");
		return;
	}
	/* vhost-user.rst SET_VRING_KICK: NOFD means "polling should be
	 * used": nothing will ever kick, so the ring starts now. */
	if (q->kick_nofd || q->start_now)
		srv_q_start(w, q);
}

void srv_q_start(struct srv_worker *w, struct vh_queue *q)
{
	struct vh_server *srv = q->srv;
	struct vh_virtq_config c;
	bool packed = vh_virtio_has(q->features, VH_VIRTIO_F_RING_PACKED);
	int err;

	if (q->vq || atomic_load(&q->broken))
		return;
	srv_worker_refresh(w);
	memset(&c, 0, sizeof(c));
	c.size = (uint16_t)q->num;
	c.index = (uint16_t)q->index;
	c.features = q->features;
	if (srv->dev.flags & VH_DEVICE_F_ANY_ORDER)
		c.flags |= VH_VIRTQ_F_ANY_ORDER;
	err = vh_virtq_map_rings(w->slot->t, &q->addr, (uint16_t)q->num, packed,
				 &c);
	if (err) {
		srv_q_break(q, "ring addresses not in guest memory");
		return;
	}
	c.log_used = atomic_load(&q->log_used);
	if (packed) {
		vh_proto_decode_packed_base(q->base, &c.packed_base);
		/* DPDK's virtio_user (22.11) sends only bits 0-15 (the
		 * avail position, 0x8000 for a fresh ring), and DPDK's own
		 * vhost library reads only those, the used position being
		 * the avail one. Upper bits all zero: read it that way
		 * (vhost-user.rst "Vring descriptor indices for packed
		 * virtqueues" has bits 16-31 for the used position). */
		if ((q->base >> 16) == 0) {
			c.packed_base.used_idx = c.packed_base.avail_idx;
			c.packed_base.used_wrap = c.packed_base.avail_wrap;
		}
	} else
		c.last_avail_idx = (uint16_t)q->base;
	err = vh_virtq_new(&c, &q->vq);
	if (err) {
		srv_q_break(q, "ring configuration refused");
		return;
	}
	srv_q_apply_logging(w, q);
	if (q->inflight) {
		/* vhost-user.rst "Inflight I/O tracking": requests the
		 * previous back-end had taken are popped first. */
		err =
		    vh_virtq_set_inflight(q->vq, q->inflight, q->inflight_len);
		if (err) {
			srv_q_break(q, "in-flight region refused");
			return;
		}
	}
	w->nunstarted--;
	if (q->kick_nofd)
		w->npoll++;
	atomic_store(&q->started, true);
	if (srv->dev.ops->queue_started &&
	    srv->dev.ops->queue_started(srv->dev.opaque, q)) {
		srv_q_break(q, "the device refused to start the ring");
		return;
	}
	q->pending = true;
}

static void finish_stop(struct srv_worker *w, struct vh_queue *q)
{
	struct vh_server *srv = q->srv;
	struct srv_watch *x, *n;
	bool started = atomic_load(&q->started);

	for (x = q->watches; x; x = n) {
		n = x->next;
		epoll_ctl(w->epfd, EPOLL_CTL_DEL, x->fd, NULL);
		free(x);
		w->nwatch--;
	}
	q->watches = NULL;
	if (started && srv->dev.ops->queue_stopped)
		srv->dev.ops->queue_stopped(srv->dev.opaque, q);
	if (q->vq) {
		if (vh_virtio_has(q->features, VH_VIRTIO_F_RING_PACKED)) {
			struct vh_packed_base b;

			vh_virtq_packed_base(q->vq, &b);
			q->final_base = vh_proto_encode_packed_base(&b);
		} else {
			q->final_base = vh_virtq_last_avail(q->vq);
		}
		vh_virtq_free(q->vq);
		q->vq = NULL;
		if (q->kick_nofd)
			w->npoll--;
	} else {
		q->final_base = q->base;
		w->nunstarted--;
	}
	if (q->kick_fd >= 0)
		epoll_ctl(w->epfd, EPOLL_CTL_DEL, q->kick_fd, NULL);
	pool_free(q);
	q->was_started = started;
	atomic_store(&q->started, false);
	q->in_worker = false;
	q->stopping = false;
	w->nstopping--;
	q->pending = false;
	q->notify_off = false;
	w->nqueues--;
	/* Last: the control thread may free @q once this returns. */
	srv_cmd_done(q, QCMD_STOP);
}

void srv_q_stop(struct srv_worker *w, struct vh_queue *q)
{
	/* No new requests; the ones the device holds complete first. */
	w->nstopping++;
	q->stopping = true;
	q->pending = false;
}

/* Called at safe points of the worker loop (not while iterating). */
void srv_finish_stops(struct srv_worker *w)
{
	struct vh_queue **pp = &w->queues;

	while (*pp) {
		struct vh_queue *q = *pp;

		if (q->stopping && q->outstanding == 0 && q->ndone == 0 &&
		    atomic_load(&q->remote) == NULL) {
			*pp = q->wnext;
			finish_stop(w, q);
			continue;
		}
		pp = &q->wnext;
	}
}

/* ---- pop / push -------------------------------------------------------- */

static int pop_one(struct srv_worker *w, struct vh_queue *q,
		   struct vh_req **out)
{
	struct vh_req *r;
	int rc;

	if (!q->free && pool_grow(q)) {
		vh_err("%s: ring %u: out of memory for requests", q->srv->name,
		       q->index);
		return 0;
	}
	r = q->free;
	rc = vh_virtq_pop(q->vq, w->slot->t, &r->elem);
	if (rc == 1) {
		q->free = r->next_;
		q->pops++;
		r->slot_ = w->slot;
		w->slot->users++;
		q->outstanding++;
		*out = r;
		return 1;
	}
	if (rc == 0) {
		q->saw_empty = true;
		return 0;
	}
	srv_q_break(q, vh_virtq_error_name(vh_virtq_error(q->vq)));
	return -EIO;
}

int vh_queue_pop(struct vh_queue *q, struct vh_req **out)
{
	*out = NULL;
	if (atomic_load(&q->broken))
		return -EIO;
	if (srv_tls_worker != q->w || !srv_q_runnable(q))
		return 0;
	return pop_one(q->w, q, out);
}

void srv_q_flush(struct srv_worker *w, struct vh_queue *q)
{
	struct vh_virtq_elem *el[SRV_DONE_CAP];
	uint32_t lens[SRV_DONE_CAP];
	unsigned n = q->ndone;

	if (n == 0)
		return;
	if (q->vq && !atomic_load(&q->broken)) {
		int rc;

		for (unsigned i = 0; i < n; i++) {
			el[i] = &q->done[i]->elem;
			lens[i] = q->done[i]->used_len_;
		}
		rc = vh_virtq_push_batch(q->vq, w->slot->t, el, lens, n);
		if (rc == 0) {
			/* One notification per batch, when the driver
			 * wants it (EVENT_IDX / NO_INTERRUPT). */
			if (vh_virtq_should_notify(q->vq))
				srv_q_notify_fd(q->call_fd);
		} else {
			srv_q_break(q, "used ring update refused");
		}
	}
	for (unsigned i = 0; i < n; i++) {
		struct vh_req *r = q->done[i];
		struct srv_slot *s = r->slot_;

		s->users--;
		if (s != w->slot && s->users == 0)
			srv_slot_put(w, s);
		r->next_ = q->free;
		q->free = r;
	}
	q->outstanding -= n;
	q->ndone = 0;
}

static void done_add(struct srv_worker *w, struct vh_queue *q, struct vh_req *r)
{
	q->done[q->ndone++] = r;
	if (q->ndone == SRV_DONE_CAP)
		srv_q_flush(w, q);
}

void vh_req_complete(struct vh_req *r, uint32_t used_len)
{
	struct vh_queue *q = r->queue;
	struct srv_worker *w = q->w;
	struct vh_req *head;

	if (used_len > r->elem.in_len) {
		vh_warn("%s: ring %u: request %u completed with %u bytes, "
			"only %u writable",
			q->srv->name, q->index, r->elem.id, used_len,
			r->elem.in_len);
		used_len = r->elem.in_len;
	}
	r->used_len_ = used_len;
	if (srv_tls_worker == w) {
		done_add(w, q, r);
		return;
	}
	/* Another thread: push onto the queue's lock-free list (only the
	 * worker takes it, all at once, so there is no ABA problem). */
	head = atomic_load_explicit(&q->remote, memory_order_relaxed);
	do {
		r->next_ = head;
	} while (!atomic_compare_exchange_weak_explicit(
	    &q->remote, &head, r, memory_order_release, memory_order_relaxed));
	atomic_store(&w->remote_flag, true);
	if (atomic_load(&w->sleeping))
		srv_worker_wake(w);
}

void srv_q_take_remote(struct srv_worker *w, struct vh_queue *q)
{
	struct vh_req *list, *rev = NULL, *next;

	if (!atomic_load_explicit(&q->remote, memory_order_relaxed))
		return;
	list = atomic_exchange_explicit(&q->remote, NULL, memory_order_acquire);
	/* The list is newest first: push in completion order. */
	for (; list; list = next) {
		next = list->next_;
		list->next_ = rev;
		rev = list;
	}
	for (; rev; rev = next) {
		next = rev->next_;
		done_add(w, q, rev);
	}
	srv_q_flush(w, q);
}

/* ---- processing -------------------------------------------------------- */

void srv_q_log_dev(struct srv_worker *w, struct vh_queue *q)
{
	log_dev(w, q);
}

bool srv_q_process(struct srv_worker *w, struct vh_queue *q)
{
	const struct vh_device_ops *ops = q->srv->dev.ops;
	void *dev = q->srv->dev.opaque;
	bool moved = false;

	if (!srv_q_runnable(q)) {
		q->pending = false;
		return q->ndone ? (srv_q_flush(w, q), true) : false;
	}
	srv_worker_refresh(w);
	if (!q->notify_off) {
		/* No kicks while we are going to look anyway. */
		vh_virtq_disable_notify(q->vq);
		q->notify_off = true;
		log_dev(w, q);
	}
	q->saw_empty = false;
	if (ops->handle_reqs) {
		struct vh_req *reqs[SRV_MAX_BATCH];
		unsigned n = 0, batch = q->srv->batch;

		while (n < batch && pop_one(w, q, &reqs[n]) == 1)
			n++;
		if (n) {
			log_dev(w, q); /* EVENT_IDX: avail_event moved */
			ops->handle_reqs(dev, q, reqs, n);
		}
		moved = n > 0;
		q->pending = n == batch;
		q->declined = false;
	} else {
		unsigned before = q->pops;

		ops->handle_queue(dev, q);
		/* Popped something, or completed something. (Counting
		 * outstanding + ndone misses a call that popped and
		 * completed a multiple of SRV_DONE_CAP: those were
		 * flushed on the way.) */
		moved = q->pops != before || q->ndone;
		if (moved)
			log_dev(w, q);
		q->pending = moved && !q->saw_empty;
		q->declined = !moved && !q->saw_empty;
	}
	if (q->ndone) {
		srv_q_flush(w, q);
		moved = true;
	}
	if (atomic_load(&q->broken))
		q->pending = false;
	return moved;
}
