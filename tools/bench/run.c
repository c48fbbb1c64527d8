/* SPDX-License-Identifier: MIT */
/*
 * vhost-user-bench: running a job — one thread per queue, the measurement
 * window, the progress line, stop requests, CPU accounting — and single
 * synchronous requests from the main thread (flush, --bad).
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "worker.h"

#define NS 1000000000ull

/* ---- stop requests ------------------------------------------------------- */

static volatile sig_atomic_t stop_requests;

static void on_signal(int sig)
{
	(void)sig;
	if (stop_requests < 2)
		stop_requests++;
}

void run_install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: the main thread's poll() returns at once. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

bool run_interrupted(void)
{
	return stop_requests > 0;
}

void run_stop_at(struct run_ctl *c, uint64_t t)
{
	uint64_t cur = atomic_load(&c->stop_at);

	while (t < cur && !atomic_compare_exchange_weak(&c->stop_at, &cur, t))
		;
}

/* ---- a job --------------------------------------------------------------- */

static void progress(const struct bench_session *s, const struct bench_job *job,
		     struct worker *const *w, uint64_t t0, uint64_t t,
		     uint64_t *last_ios, uint64_t *last_lat, uint64_t *last_t,
		     bool tty)
{
	uint64_t ios = 0, lat = 0, dios, dt = t - *last_t;

	for (unsigned i = 0; i < s->nq; i++) {
		ios += atomic_load_explicit(&w[i]->p_ios, memory_order_relaxed);
		lat +=
		    atomic_load_explicit(&w[i]->p_lat_ns, memory_order_relaxed);
	}
	dios = ios - *last_ios;
	fprintf(stderr,
		"%s[%5.1fs] %s: %.1fk IOPS, %.1f MB/s, mean latency %.1f us%s",
		tty ? "\r" : "", (double)(t - t0) / NS, job->name,
		dt ? (double)dios * NS / dt / 1e3 : 0.0,
		dt ? (double)dios * s->o->bs * NS / dt / 1e6 : 0.0,
		dios ? (double)(lat - *last_lat) / dios / 1e3 : 0.0,
		tty ? "\033[K" : "\n");
	*last_ios = ios;
	*last_lat = lat;
	*last_t = t;
}

static void setup_workers(struct bench_session *s, const struct bench_job *job,
			  struct run_ctl *ctl, struct worker **w)
{
	const struct bench_opts *o = s->o;
	uint64_t blocks = s->range_blocks, nq = s->nq;
	bool partition = job->each_block_once || !rw_is_random(job->rw);

	if (job->each_block_once && job->count && job->count < blocks)
		blocks = job->count;
	for (unsigned i = 0; i < s->nq; i++) {
		struct worker *x = w[i];

		x->s = s;
		x->q = &s->q[i];
		x->job = job;
		x->ctl = ctl;
		x->cpu = o->ncpus ? o->cpus[i % o->ncpus] : -1;
		if (partition) {
			/* Disjoint block ranges: no two queues touch the
			 * same block, so verify needs no ordering. */
			x->first_blk = i * blocks / nq;
			x->nblk = (i + 1) * blocks / nq - x->first_blk;
		} else {
			x->first_blk = 0;
			x->nblk = blocks;
		}
		if (job->each_block_once) {
			x->limited = true;
			x->quota = x->nblk;
		} else if (job->count) {
			x->limited = true;
			x->quota = job->count / nq + (i < job->count % nq);
		}
	}
}

static int by_lba(const void *a, const void *b)
{
	const struct pattern_mismatch *x = a, *y = b;

	return x->lba < y->lba ? -1 : x->lba > y->lba;
}

static void merge(struct bench_session *s, struct worker *const *w,
		  struct job_result *r, uint64_t *last)
{
	*last = 0;
	hist_reset(&r->rd);
	hist_reset(&r->wr);
	for (unsigned i = 0; i < s->nq; i++) {
		const struct worker *x = w[i];

		hist_merge(&r->rd, &x->rd);
		hist_merge(&r->wr, &x->wr);
		r->reads += x->reads;
		r->writes += x->writes;
		r->kicks += x->kicks;
		r->wakeups += x->wakeups;
		r->calls += x->calls;
		r->verify_sectors += x->vsectors;
		r->verify_bad += x->vbad;
		for (unsigned k = 0;
		     k < x->nmism && r->nmism < BENCH_MAX_MISMATCH; k++)
			r->mism[r->nmism++] = x->mism[k];
		if (x->failed && !r->failed) {
			r->failed = true;
			snprintf(r->error, sizeof(r->error), "%s", x->error);
		}
		if (x->last_ns > *last)
			*last = x->last_ns;
	}
	/* The first mismatches found, shown in sector order. */
	qsort(r->mism, r->nmism, sizeof(r->mism[0]), by_lba);
	r->bytes_read = r->reads * s->o->bs;
	r->bytes_written = r->writes * s->o->bs;
}

/* How many cores the polling queue threads can keep busy: one each, but
 * threads pinned to the same CPU share it. */
static double polling_cores(const struct bench_session *s)
{
	const struct bench_opts *o = s->o;
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned n = 0;

	if (!o->ncpus)
		return s->nq < online ? s->nq : (double)online;
	for (unsigned i = 0; i < s->nq && i < o->ncpus; i++) {
		bool dup = false;

		for (unsigned k = 0; k < i; k++)
			dup |= o->cpus[k] == o->cpus[i];
		n += !dup;
	}
	return n;
}

static void free_workers(struct worker **w, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if (!w[i])
			continue;
		free(w[i]->free_slots);
		free(w[i]->out);
		free(w[i]->in);
		free(w[i]);
	}
}

static int start_threads(struct bench_session *s, struct worker **w, char *err,
			 size_t n)
{
	sigset_t all, old;
	int r = 0;

	/* Signals go to the main thread only. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (unsigned i = 0; i < s->nq && !r; i++) {
		r = pthread_create(&w[i]->thr, NULL, worker_main, w[i]);
		w[i]->thr_started = r == 0;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r)
		snprintf(err, n, "cannot start a queue thread: %s",
			 strerror(r));
	return r ? -1 : 0;
}

/* The main thread while the queues run: progress, stop, hang-up. */
static void supervise(struct bench_session *s, const struct bench_job *job,
		      struct run_ctl *ctl, struct worker **w,
		      struct job_result *r, uint64_t t0, struct cpu_snap *begin,
		      struct cpu_snap *end)
{
	bool tty = isatty(STDERR_FILENO), progressed = false;
	uint64_t next = t0 + NS, last_ios = 0, last_lat = 0, last_t = t0;
	struct pollfd p[2] = {
	    {.fd = ctl->done_fd, .events = POLLIN},
	    {.fd = vh_frontend_fd(s->fe), .events = POLLIN},
	};

	while (atomic_load(&ctl->ndone) < s->nq) {
		uint64_t t = now_ns(), stop = atomic_load(&ctl->stop_at);
		uint64_t wake = next;
		uint64_t v;

		if (!begin->taken && t >= ctl->wstart)
			cpu_snap_take(begin, s->dev.pid);
		if (!end->taken && t >= stop)
			cpu_snap_take(end, s->dev.pid);
		if (stop_requests >= 1 && !r->interrupted) {
			r->interrupted = true;
			run_stop_at(ctl, t);
		}
		if (stop_requests >= 2)
			atomic_store(&ctl->abort, true);
		if (t >= next) {
			if (!s->o->quiet) {
				progress(s, job, w, t0, t, &last_ios, &last_lat,
					 &last_t, tty);
				progressed = true;
			}
			next += NS;
			continue;
		}
		if (!begin->taken && ctl->wstart < wake)
			wake = ctl->wstart;
		if (!end->taken && stop < wake)
			wake = stop;
		if (poll(p, 2,
			 wake > t ? (int)((wake - t) / 1000000 + 1) : 0) <= 0)
			continue;
		if (p[0].revents)
			(void)!read(ctl->done_fd, &v, sizeof(v));
		if (p[1].revents && session_peer_gone(s)) {
			s->dead = true;
			p[1].fd = -1;
			if (!r->failed) {
				r->failed = true;
				snprintf(r->error, sizeof(r->error),
					 "%s: the back-end hung up",
					 s->o->socket);
			}
			atomic_store(&ctl->abort, true);
		}
	}
	if (progressed && tty)
		fprintf(stderr, "\r\033[K");
}

int run_job(struct bench_session *s, const struct bench_job *job,
	    struct job_result *r)
{
	struct worker *w[BENCH_MAX_QUEUES] = {0};
	struct run_ctl ctl;
	struct cpu_snap begin = {0}, end = {0};
	uint64_t t0, last, stop;
	unsigned maxd = s->nseg + 2;

	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", job->name);
	memset(&ctl, 0, sizeof(ctl));
	ctl.done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (ctl.done_fd < 0) {
		snprintf(r->error, sizeof(r->error), "eventfd: %s",
			 strerror(errno));
		r->failed = true;
		return -1;
	}
	for (unsigned i = 0; i < s->nq; i++) {
		w[i] = aligned_alloc(64, (sizeof(*w[i]) + 63) / 64 * 64);
		if (w[i]) {
			memset(w[i], 0, sizeof(*w[i]));
			w[i]->free_slots =
			    calloc(s->q[i].depth, sizeof(unsigned));
			w[i]->out = calloc(maxd, sizeof(struct vh_drv_buf));
			w[i]->in = calloc(maxd, sizeof(struct vh_drv_buf));
		}
		if (!w[i] || !w[i]->free_slots || !w[i]->out || !w[i]->in) {
			free_workers(w, s->nq);
			close(ctl.done_fd);
			snprintf(r->error, sizeof(r->error), "out of memory");
			r->failed = true;
			return -1;
		}
	}
	setup_workers(s, job, &ctl, w);
	pthread_mutex_init(&ctl.lock, NULL);
	pthread_cond_init(&ctl.cond, NULL);
	if (start_threads(s, w, r->error, sizeof(r->error)) < 0) {
		/* The threads that did start leave at once. */
		r->failed = true;
		atomic_store(&ctl.abort, true);
		for (unsigned i = 0; i < s->nq; i++)
			if (!w[i]->thr_started)
				atomic_fetch_add(&ctl.ndone, 1);
	}
	/* The window: [t0 + ramp, t0 + ramp + runtime), or until the count
	 * is done. */
	t0 = now_ns();
	ctl.wstart = t0 + (uint64_t)(job->ramp_s * NS);
	atomic_store(&ctl.stop_at,
		     job->count || job->each_block_once
			 ? UINT64_MAX
			 : ctl.wstart + (uint64_t)(job->runtime_s * NS));
	if (job->ramp_s <= 0)
		cpu_snap_take(&begin, s->dev.pid);
	pthread_mutex_lock(&ctl.lock);
	ctl.go = true;
	pthread_cond_broadcast(&ctl.cond);
	pthread_mutex_unlock(&ctl.lock);
	supervise(s, job, &ctl, w, r, t0, &begin, &end);
	for (unsigned i = 0; i < s->nq; i++)
		if (w[i]->thr_started)
			pthread_join(w[i]->thr, NULL);
	if (!begin.taken)
		cpu_snap_take(&begin, s->dev.pid);
	if (!end.taken)
		cpu_snap_take(&end, s->dev.pid);
	merge(s, w, r, &last);
	stop = atomic_load(&ctl.stop_at);
	/* A timed or stopped run lasted until its stop; a counted one until
	 * its last completion. */
	if (stop == UINT64_MAX)
		stop = last;
	r->elapsed_s =
	    stop > ctl.wstart ? (double)(stop - ctl.wstart) / NS : 0.0;
	r->fe_cpu_s = end.fe - begin.fe;
	r->fe_preempted = end.fe_preempted - begin.fe_preempted;
	r->fe_expected_cores = s->o->poll ? polling_cores(s) : 0;
	r->be_cpu_s = cpu_snap_backend(&begin, &end, &r->be_cpu_precise);
	pthread_cond_destroy(&ctl.cond);
	pthread_mutex_destroy(&ctl.lock);
	close(ctl.done_fd);
	free_workers(w, s->nq);
	return r->failed ? -1 : 0;
}

/* ---- one request from the main thread ------------------------------------ */

int run_sync(struct bench_session *s, struct bench_queue *q,
	     const struct vh_drv_buf *out, unsigned nout,
	     const struct vh_drv_buf *in, unsigned nin, int timeout_ms,
	     uint32_t *len, char *err, size_t errlen)
{
	static uintptr_t seq;
	void *mine = (void *)++seq, *tok;
	uint64_t deadline = now_ns() + (uint64_t)timeout_ms * 1000000, one = 1;
	struct pollfd p = {.fd = q->call_fd, .events = POLLIN};
	int rc;

	rc = vh_drv_add(q->dq, out, nout, in, nin, false, mine);
	if (rc < 0) {
		snprintf(err, errlen, "ring %u: adding a request: %s", q->index,
			 vh_strerror(rc));
		return -1;
	}
	q->added++;
	q->slots_added += nout + nin;
	q->inflight++;
	(void)vh_drv_enable_cb(q->dq);
	if (vh_drv_kick_prepare(q->dq) &&
	    write(q->kick_fd, &one, sizeof(one)) != sizeof(one)) {
		snprintf(err, errlen, "ring %u: kick: %s", q->index,
			 strerror(errno));
		return -1;
	}
	for (;;) {
		uint64_t v;

		while ((rc = vh_drv_get_used(q->dq, &tok, len)) == 1) {
			q->inflight--;
			if (tok == mine)
				return 1;
			/* A request an earlier call gave up on came back
			 * late: it is no longer lost; keep waiting. */
		}
		if (rc < 0) {
			snprintf(err, errlen,
				 "ring %u: the device returned a buffer id "
				 "that is not in flight",
				 q->index);
			return -1;
		}
		if (now_ns() >= deadline)
			return 0;
		if (session_peer_gone(s)) {
			s->dead = true;
			snprintf(err, errlen, "%s: the back-end hung up",
				 s->o->socket);
			return -1;
		}
		if (poll(&p, 1, 10) > 0)
			(void)!read(q->call_fd, &v, sizeof(v));
	}
}
