/* SPDX-License-Identifier: MIT */
/*
 * Worker threads. A worker serves a group of rings: it waits in epoll on
 * their kick eventfds (and its own wake eventfd), or busy-polls them for
 * vh_server_config.poll_us before sleeping. The control thread talks to it
 * with commands: bits set on a queue under w->lock, a wake-up, and a wait
 * on w->cond until the worker cleared them. Commands run between batches,
 * so when the control thread's wait returns, no batch that started before
 * the command is still running ("pause, acknowledge, then answer").
 *
 * Sleeping without losing a wake-up: the worker stores sleeping = 1, then
 * re-checks its flags; a completer or the control thread stores its flag,
 * then reads sleeping and writes the eventfd if it is set. Both sides use
 * sequentially consistent accesses, so at least one sees the other.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "server_int.h"

/* The worker running on this thread, for vh_req_complete. */
_Thread_local struct srv_worker *srv_tls_worker;

static void drain_fd(int fd)
{
	uint64_t v;

	(void)!read(fd, &v, sizeof(v));
}

void srv_worker_wake(struct srv_worker *w)
{
	uint64_t one = 1;

	(void)!write(w->wakefd, &one, sizeof(one));
}

/* ---- control side ------------------------------------------------------ */

static void deadline_in(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

void srv_queue_cmd(struct vh_queue *q, unsigned bits)
{
	struct srv_worker *w = q->w;
	unsigned waited = 0;

	pthread_mutex_lock(&w->lock);
	q->cmd |= bits;
	if (!q->cmd_listed) {
		q->cmd_listed = true;
		q->cmd_next = w->cmd_list;
		w->cmd_list = q;
	}
	atomic_store(&w->cmd_flag, true);
	pthread_mutex_unlock(&w->lock);
	srv_worker_wake(w);

	pthread_mutex_lock(&w->lock);
	while (q->cmd & bits) {
		struct timespec ts;

		deadline_in(&ts, SRV_WAIT_LOG_MS);
		if (pthread_cond_timedwait(&w->cond, &w->lock, &ts) ==
		    ETIMEDOUT) {
			waited += SRV_WAIT_LOG_MS / 1000;
			/* Draining waits for the device: say so, and keep
			 * waiting (the requests' memory must stay mapped). */
			vh_warn("%s: ring %u: waited %us for the worker "
				"(draining requests still with the device?)",
				q->srv->name, q->index, waited);
		}
	}
	pthread_mutex_unlock(&w->lock);
}

void srv_worker_sync(struct srv_worker *w)
{
	uint64_t seq;

	pthread_mutex_lock(&w->lock);
	seq = ++w->sync_req;
	atomic_store(&w->cmd_flag, true);
	pthread_mutex_unlock(&w->lock);
	srv_worker_wake(w);
	pthread_mutex_lock(&w->lock);
	while (w->sync_ack < seq) {
		struct timespec ts;

		deadline_in(&ts, SRV_WAIT_LOG_MS);
		if (pthread_cond_timedwait(&w->cond, &w->lock, &ts) ==
		    ETIMEDOUT)
			vh_warn("%s: worker %u: slow to acknowledge a "
				"memory change",
				w->srv->name, w->idx);
	}
	pthread_mutex_unlock(&w->lock);
}

void srv_cmd_done(struct vh_queue *q, unsigned bits)
{
	struct srv_worker *w = q->w;

	pthread_mutex_lock(&w->lock);
	q->cmd &= ~bits;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

/* ---- memory tables ----------------------------------------------------- */

void srv_slot_put(struct srv_worker *w, struct srv_slot *s)
{
	struct srv_slot **pp;

	if (s == w->slot || s->users)
		return;
	for (pp = &w->retired; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	vh_mem_table_unref(s->t);
	free(s);
}

void srv_worker_refresh(struct srv_worker *w)
{
	struct vh_mem *mem = w->srv->mem;
	struct srv_slot *s, *old = w->slot;

	/* One atomic load when nothing changed (vh_mem.h contract). */
	if (old && vh_mem_is_current(mem, old->t))
		return;
	s = calloc(1, sizeof(*s));
	if (!s) {
		vh_err("%s: worker %u: no memory for a new memory table; "
		       "keeping the old one",
		       w->srv->name, w->idx);
		return;
	}
	s->t = vh_mem_acquire(mem);
	w->slot = s;
	if (old) {
		/* Requests popped through the old table keep it mapped
		 * until they are pushed. */
		old->next = w->retired;
		w->retired = old;
		srv_slot_put(w, old);
	}
}

/* ---- the loop ---------------------------------------------------------- */

static void run_commands(struct srv_worker *w)
{
	struct vh_queue *list, *q, *next;
	uint64_t sync;

	pthread_mutex_lock(&w->lock);
	list = w->cmd_list;
	w->cmd_list = NULL;
	sync = w->sync_req;
	for (q = list; q; q = q->cmd_next)
		q->cmd_listed = false;
	pthread_mutex_unlock(&w->lock);

	/* Every command sees the current memory table. */
	srv_worker_refresh(w);
	for (q = list; q; q = next) {
		unsigned bits, done = 0;

		next = q->cmd_next;
		pthread_mutex_lock(&w->lock);
		bits = q->cmd;
		pthread_mutex_unlock(&w->lock);
		if (bits & QCMD_ARM) {
			srv_q_arm(w, q);
			done |= QCMD_ARM;
		}
		if (bits & QCMD_CALL) {
			int old = q->call_fd;

			pthread_mutex_lock(&w->lock);
			q->call_fd = q->new_call_fd;
			q->new_call_fd = -1;
			pthread_mutex_unlock(&w->lock);
			if (old >= 0)
				close(old);
			done |= QCMD_CALL;
		}
		if (bits & QCMD_ERR) {
			int old = q->err_fd;

			pthread_mutex_lock(&w->lock);
			q->err_fd = q->new_err_fd;
			q->new_err_fd = -1;
			pthread_mutex_unlock(&w->lock);
			if (old >= 0)
				close(old);
			done |= QCMD_ERR;
		}
		if (bits & QCMD_LOG) {
			srv_q_apply_logging(w, q);
			done |= QCMD_LOG;
		}
		if (bits & QCMD_KICK) {
			if (!q->vq && !q->stopping)
				srv_q_start(w, q);
			q->pending = true;
			done |= QCMD_KICK;
		}
		if (bits & QCMD_ENABLE) {
			/* A kick taken while disabled is not lost: look at
			 * the ring again. */
			q->pending = true;
			done |= QCMD_ENABLE;
		}
		if (done)
			srv_cmd_done(q, done);
		/* STOP clears its bit itself once drained. */
		if ((bits & QCMD_STOP) && !q->stopping)
			srv_q_stop(w, q);
	}
	pthread_mutex_lock(&w->lock);
	if (w->sync_ack < sync) {
		w->sync_ack = sync;
		pthread_cond_broadcast(&w->cond);
	}
	pthread_mutex_unlock(&w->lock);
}

static void take_remote(struct srv_worker *w)
{
	struct vh_queue *q;

	if (!atomic_exchange(&w->remote_flag, false))
		return;
	for (q = w->queues; q; q = q->wnext)
		srv_q_take_remote(w, q);
}

/* Returns the number of events handled (kicks set their ring pending). */
static int handle_events(struct srv_worker *w, int timeout)
{
	struct epoll_event evs[32];
	int n = epoll_wait(w->epfd, evs, 32, timeout);

	for (int i = 0; i < n; i++) {
		struct srv_ev *src = evs[i].data.ptr;

		switch (src->kind) {
		case EV_WAKE:
			drain_fd(w->wakefd);
			break;
		case EV_KICK: {
			struct vh_queue *q =
			    srv_container_of(src, struct vh_queue, ev);

			drain_fd(q->kick_fd);
			/* vhost-user.rst Ring states: a kick starts it. */
			if (!q->vq && !q->stopping && !atomic_load(&q->broken))
				srv_q_start(w, q);
			q->pending = true;
			break;
		}
		case EV_WATCH: {
			struct srv_watch *x =
			    srv_container_of(src, struct srv_watch, ev);

			x->cb(x->q, x->arg);
			break;
		}
		default:
			break;
		}
	}
	return n;
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static bool should_quit(struct srv_worker *w)
{
	bool quit;

	pthread_mutex_lock(&w->lock);
	quit = w->quit;
	pthread_mutex_unlock(&w->lock);
	return quit;
}

/* Re-enable notifications on every started ring; true if one has work. */
static bool prepare_sleep(struct srv_worker *w)
{
	bool work = false;

	for (struct vh_queue *q = w->queues; q; q = q->wnext) {
		if (q->pending && srv_q_runnable(q))
			work = true;
		if (!q->vq || !q->notify_off)
			continue;
		q->notify_off = false;
		/* vh_virtq_enable_notify re-checks after the barrier: the
		 * classic lost-kick race. */
		if (vh_virtq_enable_notify(q->vq) && !q->declined) {
			q->pending = true;
			work = true;
		}
		srv_q_log_dev(w, q);
	}
	return work;
}

/* One pass over the worker's rings; true if anything moved. */
static bool process_rings(struct srv_worker *w, bool polling)
{
	bool work = false;

	for (struct vh_queue *q = w->queues; q; q = q->wnext) {
		if (atomic_exchange_explicit(&q->wake_req, false,
					     memory_order_relaxed))
			q->pending = true;
		if ((polling || q->kick_nofd) && !q->pending &&
		    srv_q_runnable(q) && vh_virtq_has_avail(q->vq))
			q->pending = true;
		if (q->pending && srv_q_process(w, q))
			work = true;
		else if (q->ndone)
			srv_q_flush(w, q);
	}
	return work;
}

/* Whether a device callback still holds requests popped from our rings
 * (in flight in the kernel or on another thread). */
static bool device_holds_requests(const struct srv_worker *w)
{
	for (const struct vh_queue *q = w->queues; q; q = q->wnext)
		if (q->outstanding > q->ndone)
			return true;
	return false;
}

static void *worker_main(void *arg)
{
	struct srv_worker *w = arg;
	const struct vh_server *srv = w->srv;
	uint64_t poll_ns = (uint64_t)srv->cfg.poll_us * 1000u;
	uint64_t last_work = 0;
	unsigned rounds = 0, idle = 0;
	bool worked = false;

	srv_tls_worker = w;
	for (;;) {
		if (atomic_exchange(&w->cmd_flag, false)) {
			if (should_quit(w))
				break;
			run_commands(w);
		}
		take_remote(w);
		if (process_rings(w, poll_ns != 0)) {
			if (w->nstopping)
				srv_finish_stops(w);
			/* Other rings' kicks and device fds while busy. */
			if ((w->nqueues > 1 || w->nwatch || w->nunstarted) &&
			    (++rounds & 7) == 0)
				handle_events(w, 0);
			worked = true;
			continue;
		}
		if (w->nstopping)
			srv_finish_stops(w);
		if (w->npoll || poll_ns) {
			uint64_t t;

			/* Spinning: the clock, kicks of unstarted rings and
			 * device fds are looked at every 64 idle spins
			 * (~3 us). While the device holds requests, the core
			 * is also offered to whatever else is runnable on it:
			 * typically the kernel's io_uring workers (iou-wrk)
			 * serving those requests, which inherit our CPU
			 * affinity and would otherwise wait for the end of our
			 * time slice (bench/blk, io_uring on tmpfs with
			 * polling: QD 1 82 k -> 123 k IOPS, p99 46 -> 14 us).
			 * Nothing held (e.g. waiting for the driver): no
			 * syscall. */
			if ((++idle & 63) != 0) {
				cpu_relax();
				continue;
			}
			if (device_holds_requests(w))
				sched_yield();
			/* A kick taken here must be processed before any
			 * thought of sleeping. */
			if (handle_events(w, 0) > 0) {
				worked = true;
				continue;
			}
			t = now_ns();
			if (worked) {
				last_work = t;
				worked = false;
			}
			/* NOFD rings are always polled; otherwise sleep
			 * after poll_us without work. */
			if (w->npoll || t - last_work < poll_ns)
				continue;
		}
		if (prepare_sleep(w))
			continue;
		atomic_store(&w->sleeping, true);
		if (atomic_load(&w->cmd_flag) || atomic_load(&w->remote_flag)) {
			atomic_store(&w->sleeping, false);
			continue;
		}
		handle_events(w, -1);
		atomic_store(&w->sleeping, false);
		worked = true; /* woken: the poll budget starts again */
	}
	srv_tls_worker = NULL;
	return NULL;
}

static void pin(struct srv_worker *w)
{
	const struct vh_server_config *c = &w->srv->cfg;
	cpu_set_t set;
	int cpu;

	if (!c->worker_cpus || !c->n_worker_cpus)
		return;
	cpu = c->worker_cpus[w->idx % c->n_worker_cpus];
	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (pthread_setaffinity_np(w->thread, sizeof(set), &set))
		vh_warn("%s: worker %u: cannot pin to CPU %d", w->srv->name,
			w->idx, cpu);
}

int srv_worker_get(struct vh_server *srv, unsigned idx, struct srv_worker **out)
{
	struct srv_worker *w = srv->workers[idx];
	struct epoll_event ev = {.events = EPOLLIN};
	int err;

	if (w) {
		*out = w;
		return 0;
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->srv = srv;
	w->idx = idx;
	w->ev.kind = EV_WAKE;
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	w->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->epfd < 0 || w->wakefd < 0)
		goto fail_errno;
	ev.data.ptr = &w->ev;
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->wakefd, &ev))
		goto fail_errno;
	pthread_mutex_init(&w->lock, NULL);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&w->cond, &ca);
		pthread_condattr_destroy(&ca);
	}
	err = pthread_create(&w->thread, NULL, worker_main, w);
	if (err) {
		pthread_cond_destroy(&w->cond);
		pthread_mutex_destroy(&w->lock);
		close(w->epfd);
		close(w->wakefd);
		free(w);
		return -err;
	}
	pin(w);
	srv_mem_add(srv, sizeof(*w));
	srv->workers[idx] = w;
	*out = w;
	return 0;
fail_errno:
	err = -errno;
	if (w->epfd >= 0)
		close(w->epfd);
	if (w->wakefd >= 0)
		close(w->wakefd);
	free(w);
	return err;
}

/* Join the thread and free. Its queues were stopped before. */
void srv_worker_free(struct srv_worker *w)
{
	struct srv_slot *s, *n;

	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->quit = true;
	atomic_store(&w->cmd_flag, true);
	pthread_mutex_unlock(&w->lock);
	srv_worker_wake(w);
	pthread_join(w->thread, NULL);
	for (s = w->retired; s; s = n) {
		n = s->next;
		vh_mem_table_unref(s->t);
		free(s);
	}
	if (w->slot) {
		vh_mem_table_unref(w->slot->t);
		free(w->slot);
	}
	srv_mem_sub(w->srv, sizeof(*w));
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	close(w->epfd);
	close(w->wakefd);
	free(w);
}
