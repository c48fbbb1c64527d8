/* SPDX-License-Identifier: MIT */
/*
 * vhost-user-bench: one queue's thread — fill free slots with requests,
 * kick when the device asks for it, reap used buffers, check each one
 * (status byte, used length, verify pattern), time it.
 *
 * Completion modes:
 *  - poll: used-buffer notifications stay disabled (NO_INTERRUPT, or a
 *    used_event that does not move with EVENT_IDX: virtio 1.2 §2.7.7) and
 *    the thread spins on the used ring;
 *  - event: as Linux virtio-blk, notifications are disabled while the
 *    thread works and enabled, with the re-check §2.7.7.2 requires
 *    (vh_drv_enable_cb), before it sleeps on the call eventfd.
 *
 * Timestamps: one clock read per batch. Requests added together share the
 * time taken just before the first add (their kick comes after all of
 * them); requests reaped together share the time the first was seen.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "worker.h"

#define POISON_STATUS 0xffu /* no valid status: the device must write it */

static void wfail(struct worker *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Record the first failure of this queue and end the run (draining). */
static void wfail(struct worker *w, const char *fmt, ...)
{
	va_list ap;

	if (w->failed)
		return;
	w->failed = true;
	va_start(ap, fmt);
	vsnprintf(w->error, sizeof(w->error), fmt, ap);
	va_end(ap);
	run_stop_at(w->ctl, now_ns());
}

static const char *type_name(uint32_t t)
{
	switch (t) {
	case VIRTIO_BLK_T_IN:
		return "READ";
	case VIRTIO_BLK_T_OUT:
		return "WRITE";
	case VIRTIO_BLK_T_FLUSH:
		return "FLUSH";
	default:
		return "request";
	}
}

static const char *status_name(unsigned st)
{
	switch (st) {
	case VIRTIO_BLK_S_OK:
		return "OK";
	case VIRTIO_BLK_S_IOERR:
		return "IOERR";
	case VIRTIO_BLK_S_UNSUPP:
		return "UNSUPP";
	case POISON_STATUS:
		return "never written";
	default:
		return "invalid";
	}
}

struct wstate {
	uint64_t rng, seq;
	struct perm perm;
	unsigned nfree, inflight;
	uint64_t submitted;
	uint32_t nsect;
};

static void put_hdr(uint8_t *hdr, uint32_t type, uint64_t sector)
{
	uint32_t zero = 0;

	/* struct virtio_blk_outhdr, little-endian (§5.2.6). */
	memcpy(hdr, &type, 4);
	memcpy(hdr + 4, &zero, 4);
	memcpy(hdr + 8, &sector, 8);
}

static int submit_one(struct worker *w, struct wstate *st, struct bench_req *r,
		      uint64_t t)
{
	const struct bench_session *s = w->s;
	const struct bench_job *job = w->job;
	struct bench_queue *q = w->q;
	unsigned nout = 0, nin = 0;
	uint64_t blk;
	bool rd;
	int rc;

	rd = job->read_pct >= 100 ||
	     (job->read_pct > 0 && rng_below(&st->rng, 100) < job->read_pct);
	if (job->each_block_once)
		blk = perm_next(&st->perm);
	else if (rw_is_random(job->rw))
		blk = rng_below(&st->rng, w->nblk);
	else
		blk = st->seq++ % w->nblk;
	r->sector = s->range_first + (w->first_blk + blk) * st->nsect;
	r->len = s->o->bs;
	r->type = rd ? VIRTIO_BLK_T_IN : VIRTIO_BLK_T_OUT;
	put_hdr(r->hdr, r->type, r->sector);
	r->hdr[REQ_STATUS_OFF] = POISON_STATUS;
	if (job->pattern == PAT_WRITE && !rd)
		pattern_fill(r->data, r->sector, st->nsect, s->o->verify_pass,
			     s->o->seed);
	else if (job->pattern == PAT_CHECK && rd)
		memset(r->data, PATTERN_POISON, r->len);

	/* Header, data (device-readable for a write, -writable for a read,
	 * in size_max pieces), status (§5.2.6). */
	w->out[nout++] = (struct vh_drv_buf){r->hdr_gpa, REQ_HDR_LEN};
	for (uint32_t off = 0; off < r->len; off += s->seg_len) {
		uint32_t l =
		    r->len - off < s->seg_len ? r->len - off : s->seg_len;
		struct vh_drv_buf b = {r->data_gpa + off, l};

		if (rd)
			w->in[nin++] = b;
		else
			w->out[nout++] = b;
	}
	w->in[nin++] = (struct vh_drv_buf){r->hdr_gpa + REQ_STATUS_OFF, 1};
	rc = vh_drv_add(q->dq, w->out, nout, w->in, nin, s->indirect, r);
	if (rc < 0) {
		wfail(w, "queue %u: adding a request: %s", q->index,
		      vh_strerror(rc));
		return -1;
	}
	r->t0 = t;
	q->added++;
	q->slots_added += s->indirect ? 1 : nout + nin;
	st->submitted++;
	st->inflight++;
	return 0;
}

static unsigned submit_batch(struct worker *w, struct wstate *st, uint64_t t)
{
	struct bench_queue *q = w->q;
	unsigned n = 0;
	uint64_t one = 1;

	while (st->nfree && !w->failed &&
	       (!w->limited || st->submitted < w->quota)) {
		struct bench_req *r = &q->reqs[w->free_slots[st->nfree - 1]];

		if (submit_one(w, st, r, t) < 0)
			break;
		st->nfree--;
		n++;
	}
	if (n && vh_drv_kick_prepare(q->dq)) {
		if (write(q->kick_fd, &one, sizeof(one)) != sizeof(one))
			wfail(w, "queue %u: kick: %s", q->index,
			      strerror(errno));
		w->kicks++;
	}
	return n;
}

static void complete_one(struct worker *w, struct wstate *st,
			 struct bench_req *r, uint32_t len, uint64_t t,
			 bool counted)
{
	const struct bench_opts *o = w->s->o;
	unsigned status = r->hdr[REQ_STATUS_OFF];
	/* §2.7.8.2: len counts the bytes written into device-writable
	 * buffers: the data of a read, and always the status byte. */
	uint32_t want = (r->type == VIRTIO_BLK_T_IN ? r->len : 0) + 1;

	if (status != VIRTIO_BLK_S_OK) {
		wfail(w,
		      "queue %u: %s of %u bytes at sector %" PRIu64
		      ": status %s (%u)",
		      w->q->index, type_name(r->type), r->len, r->sector,
		      status_name(status), status);
		return;
	}
	if (len != want) {
		wfail(w,
		      "queue %u: %s of %u bytes at sector %" PRIu64
		      ": used length %u, expected %u (%s + status byte)",
		      w->q->index, type_name(r->type), r->len, r->sector, len,
		      want, r->type == VIRTIO_BLK_T_IN ? "data" : "no data");
		return;
	}
	if (w->job->pattern == PAT_CHECK && r->type == VIRTIO_BLK_T_IN) {
		unsigned room = BENCH_MAX_MISMATCH - w->nmism;
		unsigned bad =
		    pattern_check(r->data, r->sector, st->nsect, o->verify_pass,
				  o->seed, &w->mism[w->nmism], room);

		w->nmism += bad < room ? bad : room;
		w->vbad += bad;
		w->vsectors += st->nsect;
	}
	if (!counted)
		return;
	if (r->type == VIRTIO_BLK_T_IN) {
		hist_add(&w->rd, t - r->t0);
		w->reads++;
	} else {
		hist_add(&w->wr, t - r->t0);
		w->writes++;
	}
	w->last_ns = t;
}

/* Reap every used buffer now visible. Returns how many, -1 on a ring
 * error (the run is abandoned). */
static int reap(struct worker *w, struct wstate *st, uint64_t *tp)
{
	struct bench_queue *q = w->q;
	uint64_t t = 0, stop;
	bool counted = false;
	void *tok;
	uint32_t len;
	int n = 0, rc;

	while ((rc = vh_drv_get_used(q->dq, &tok, &len)) == 1) {
		struct bench_req *r = tok;

		if (!n) {
			t = now_ns();
			stop = atomic_load_explicit(&w->ctl->stop_at,
						    memory_order_relaxed);
			counted = t >= w->ctl->wstart && t < stop;
		}
		complete_one(w, st, r, len, t, counted);
		w->free_slots[st->nfree++] = (unsigned)(r - q->reqs);
		st->inflight--;
		n++;
	}
	if (rc < 0) {
		wfail(w,
		      "queue %u: the device returned a buffer id that is not "
		      "in flight (corrupt used ring)",
		      q->index);
		atomic_store(&w->ctl->abort, true);
		return -1;
	}
	if (n) {
		*tp = t;
		atomic_store_explicit(&w->p_ios, w->reads + w->writes,
				      memory_order_relaxed);
		atomic_store_explicit(&w->p_lat_ns, w->rd.sum + w->wr.sum,
				      memory_order_relaxed);
	}
	return n;
}

/* Event mode: sleep on the call eventfd (bounded, to see stop requests). */
static void wait_call(struct worker *w)
{
	struct pollfd p = {.fd = w->q->call_fd, .events = POLLIN};
	uint64_t v;

	if (poll(&p, 1, 100) > 0 && read(p.fd, &v, sizeof(v)) == sizeof(v)) {
		w->wakeups++;
		w->calls += v; /* an eventfd sums the back-end's signals */
	}
}

static void drain_calls(struct worker *w)
{
	uint64_t v;

	if (read(w->q->call_fd, &v, sizeof(v)) == sizeof(v))
		w->calls += v;
}

static void pin(struct worker *w)
{
	cpu_set_t set;
	int r;

	if (w->cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(w->cpu, &set);
	r = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	if (r)
		wfail(w, "queue %u: cannot run on CPU %d: %s", w->q->index,
		      w->cpu, strerror(r));
}

void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct bench_queue *q = w->q;
	const struct bench_opts *o = w->s->o;
	const uint64_t timeout = (uint64_t)o->timeout_ms * 1000000;
	struct wstate st = {0};
	uint64_t t, idle_since;
	bool stopping = false;
	uint64_t one = 1;

	hist_reset(&w->rd);
	hist_reset(&w->wr);
	st.rng = o->seed ^ (UINT64_C(0x9e3779b97f4a7c15) * (q->index + 1));
	st.nsect = o->bs / SECTOR_SIZE;
	/* Verify reads go in another order than the writes did. */
	perm_init(&st.perm, w->nblk ? w->nblk : 1,
		  st.rng + (w->job->pattern == PAT_CHECK));
	for (unsigned i = 0; i < q->depth; i++)
		w->free_slots[st.nfree++] = q->depth - 1 - i;
	pin(w);
	vh_drv_disable_cb(q->dq);
	drain_calls(w);
	w->calls = 0;

	pthread_mutex_lock(&w->ctl->lock);
	while (!w->ctl->go)
		pthread_cond_wait(&w->ctl->cond, &w->ctl->lock);
	pthread_mutex_unlock(&w->ctl->lock);
	idle_since = now_ns();
	if (w->limited && w->quota == 0)
		stopping = true;
	for (;;) {
		int n;

		if (atomic_load_explicit(&w->ctl->abort, memory_order_relaxed))
			break;
		n = reap(w, &st, &t);
		if (n < 0)
			break;
		if (n == 0)
			t = now_ns();
		else
			idle_since = t;
		if (!stopping &&
		    (w->failed ||
		     t >= atomic_load_explicit(&w->ctl->stop_at,
					       memory_order_relaxed) ||
		     (w->limited && st.submitted >= w->quota)))
			stopping = true;
		if (!stopping && st.nfree) {
			if (st.inflight == 0)
				idle_since = t;
			if (submit_batch(w, &st, t))
				continue;
		}
		if (stopping && st.inflight == 0)
			break;
		if (n)
			continue;
		if (st.inflight && t - idle_since > timeout) {
			wfail(w,
			      "queue %u: %u requests in flight, none completed "
			      "within %d ms",
			      q->index, st.inflight, o->timeout_ms);
			atomic_store(&w->ctl->abort, true);
			break;
		}
		if (o->poll)
			continue;
		/* §2.7.7.2: enable, then re-check before sleeping. */
		if (vh_drv_enable_cb(q->dq)) {
			vh_drv_disable_cb(q->dq);
			continue;
		}
		wait_call(w);
		vh_drv_disable_cb(q->dq);
	}
	drain_calls(w);
	q->inflight = st.inflight; /* never completed: lost */
	atomic_fetch_add(&w->ctl->ndone, 1);
	/* Only a wake-up: the main thread also looks at ndone each second. */
	(void)!write(w->ctl->done_fd, &one, sizeof(one));
	return NULL;
}
