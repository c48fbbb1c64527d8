/* SPDX-License-Identifier: MIT */
/*
 * What a device calls on its queues (include/vhost/server.h): accessors,
 * per-queue device data, fd watches on the queue's worker, wake-ups.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>

#include "server_int.h"

extern _Thread_local struct srv_worker *srv_tls_worker;

/* ---- device-facing accessors ------------------------------------------- */

uint32_t vh_queue_index(const struct vh_queue *q)
{
	return q->index;
}

uint16_t vh_queue_size(const struct vh_queue *q)
{
	return (uint16_t)q->num;
}

bool vh_queue_enabled(const struct vh_queue *q)
{
	return atomic_load(&q->enabled);
}

uint64_t vh_queue_features(const struct vh_queue *q)
{
	return q->features;
}

struct vh_server *vh_queue_server(const struct vh_queue *q)
{
	return q->srv;
}

unsigned vh_queue_worker(const struct vh_queue *q)
{
	return q->w ? q->w->idx : 0;
}

void vh_queue_set_priv(struct vh_queue *q, void *priv)
{
	q->priv = priv;
}

void *vh_queue_priv(const struct vh_queue *q)
{
	return q->priv;
}

const struct vh_mem_table *vh_queue_mem(const struct vh_queue *q)
{
	return q->w && q->w->slot ? q->w->slot->t : NULL;
}

int vh_queue_watch_fd(struct vh_queue *q, int fd,
		      void (*cb)(struct vh_queue *q, void *arg), void *arg)
{
	struct srv_worker *w = q->w;
	struct epoll_event ev = {.events = EPOLLIN};
	struct srv_watch *x;

	if (!cb || fd < 0 || srv_tls_worker != w)
		return -EINVAL;
	for (x = q->watches; x; x = x->next)
		if (x->fd == fd)
			return -EEXIST;
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->ev.kind = EV_WATCH;
	x->fd = fd;
	x->cb = cb;
	x->arg = arg;
	x->q = q;
	ev.data.ptr = &x->ev;
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		int err = -errno;

		free(x);
		return err;
	}
	x->next = q->watches;
	q->watches = x;
	w->nwatch++;
	return 0;
}

int vh_queue_unwatch_fd(struct vh_queue *q, int fd)
{
	struct srv_watch **pp, *x;

	if (srv_tls_worker != q->w)
		return -EINVAL;
	for (pp = &q->watches; (x = *pp); pp = &x->next) {
		if (x->fd != fd)
			continue;
		*pp = x->next;
		epoll_ctl(q->w->epfd, EPOLL_CTL_DEL, fd, NULL);
		free(x);
		q->w->nwatch--;
		return 0;
	}
	return -ENOENT;
}

void vh_queue_wake(struct vh_queue *q)
{
	struct srv_worker *w = q->w;

	atomic_store(&q->wake_req, true);
	atomic_store(&w->remote_flag, true);
	if (atomic_load(&w->sleeping))
		srv_worker_wake(w);
}
