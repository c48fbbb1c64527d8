/* SPDX-License-Identifier: MIT */
/*
 * The server's control loop: one epoll set per server holding the stop
 * eventfd, the listening socket (while nobody is connected), the session's
 * connection, and a timer for reconnect back-off. No globals: any number of
 * servers live in one process, each run by its own thread or embedded in
 * the application's loop through vh_server_fd() / vh_server_dispatch().
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "server_int.h"

void srv_mem_add(struct vh_server *srv, size_t bytes)
{
	atomic_fetch_add(&srv->mem_bytes, bytes);
}

void srv_mem_sub(struct vh_server *srv, size_t bytes)
{
	atomic_fetch_sub(&srv->mem_bytes, bytes);
}

static int ep_add(struct vh_server *srv, int fd, struct srv_ev *ev)
{
	struct epoll_event e = {.events = EPOLLIN, .data.ptr = ev};

	return epoll_ctl(srv->epfd, EPOLL_CTL_ADD, fd, &e) ? -errno : 0;
}

static void ep_del(struct vh_server *srv, int fd)
{
	epoll_ctl(srv->epfd, EPOLL_CTL_DEL, fd, NULL);
}

/* ---- sessions ---------------------------------------------------------- */

/* Takes ownership of @fd. */
static int session_start(struct vh_server *srv, int fd)
{
	struct vh_backend_config bc;
	struct vh_backend *be;
	int err;

	err = srv_backend_config(srv, &bc);
	if (err) {
		close(fd);
		return err;
	}
	err = vh_backend_new(&be, fd, &bc);
	if (err) {
		vh_err("%s: cannot serve the new connection: %s", srv->name,
		       vh_strerror(err));
		return err;
	}
	err = ep_add(srv, vh_backend_fd(be), &srv->ev_conn);
	if (err) {
		vh_backend_free(be);
		return err;
	}
	if (srv->listen_fd >= 0)
		ep_del(srv, srv->listen_fd); /* one front-end at a time */
	pthread_mutex_lock(&srv->sess_lock);
	srv->be = be;
	pthread_mutex_unlock(&srv->sess_lock);
	srv->features = 0;
	atomic_store(&srv->status, 0);
	atomic_store(&srv->enable_all, false);
	atomic_store(&srv->connected, true);
	atomic_fetch_add(&srv->sessions, 1);
	srv->backoff_ms = srv->cfg.reconnect_min_ms;
	vh_info("%s: front-end connected", srv->name);
	if (srv->dev.ops->connected)
		srv->dev.ops->connected(srv->dev.opaque);
	return 0;
}

static void arm_timer(struct vh_server *srv, int ms)
{
	struct itimerspec its = {0};

	its.it_value.tv_sec = ms / 1000;
	its.it_value.tv_nsec = (long)(ms % 1000) * 1000000L;
	if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
		its.it_value.tv_nsec = 1;
	timerfd_settime(srv->timer_fd, 0, &its, NULL);
}

static void try_connect(struct vh_server *srv)
{
	int fd = vh_sock_connect(srv->path, 0);

	if (fd >= 0 && session_start(srv, fd) == 0)
		return;
	/* Back-off: min, doubling, capped. */
	arm_timer(srv, srv->backoff_ms);
	srv->backoff_ms *= 2;
	if (srv->backoff_ms > srv->cfg.reconnect_max_ms)
		srv->backoff_ms = srv->cfg.reconnect_max_ms;
}

static void session_end(struct vh_server *srv, bool freeing)
{
	struct vh_backend *be = srv->be;

	if (!be)
		return;
	ep_del(srv, vh_backend_fd(be));
	/* Rings stop as on GET_VRING_BASE: requests the device holds are
	 * completed first (their memory stays mapped until then). */
	srv_reset_rings(srv);
	srv_session_mem_release(srv);
	pthread_mutex_lock(&srv->sess_lock);
	srv->be = NULL;
	pthread_mutex_unlock(&srv->sess_lock);
	vh_backend_free(be);
	srv->features = 0;
	atomic_store(&srv->status, 0);
	atomic_store(&srv->connected, false);
	if (srv->dev.ops->reset)
		srv->dev.ops->reset(srv->dev.opaque);
	if (srv->dev.ops->disconnected)
		srv->dev.ops->disconnected(srv->dev.opaque);
	vh_info("%s: front-end left", srv->name);
	if (freeing)
		return;
	if (srv->cfg.once) {
		srv->done = true;
	} else if (srv->listen_fd >= 0) {
		/* Accept the next front-end. */
		if (ep_add(srv, srv->listen_fd, &srv->ev_listen))
			srv->done = true;
	} else if (srv->cfg.mode == VH_SERVER_CONNECT) {
		srv->backoff_ms = srv->cfg.reconnect_min_ms;
		arm_timer(srv, srv->backoff_ms);
	} else {
		srv->done = true; /* a connected inherited fd: served */
	}
}

/* ---- public ------------------------------------------------------------ */

static int check_device(const struct vh_device *d)
{
	if (!d->ops || (!d->ops->handle_queue && !d->ops->handle_reqs) ||
	    d->num_queues == 0 || d->num_queues > VHOST_USER_MAX_VRINGS ||
	    d->max_queue_size > VH_VIRTQ_MAX_SIZE || d->max_iov > 65536 ||
	    (d->req_size && d->req_size < sizeof(struct vh_req)))
		return -EINVAL;
	return 0;
}

static int setup_mode(struct vh_server *srv, const struct vh_server_config *c)
{
	bool listening;
	int err;

	switch (c->mode) {
	case VH_SERVER_LISTEN:
		srv->listen_fd = vh_sock_listen(srv->path, 0);
		if (srv->listen_fd < 0)
			return srv->listen_fd;
		srv->own_path = true;
		return ep_add(srv, srv->listen_fd, &srv->ev_listen);
	case VH_SERVER_CONNECT:
		srv->connecting = true;
		return 0;
	case VH_SERVER_FD:
		err = vh_sock_adopt(c->fd, &listening);
		if (err) {
			close(c->fd);
			return err;
		}
		if (listening) {
			srv->listen_fd = c->fd;
			return ep_add(srv, srv->listen_fd, &srv->ev_listen);
		}
		srv->cfg.once = true;
		return session_start(srv, c->fd);
	}
	return -EINVAL;
}

int vh_server_new(struct vh_server **out, const struct vh_device *dev,
		  const struct vh_server_config *cfg)
{
	struct vh_backend_config bc;
	struct vh_server *srv;
	int own_fd = cfg && cfg->mode == VH_SERVER_FD ? cfg->fd : -1;
	size_t head;
	int err;

	*out = NULL;
	if (!dev || !cfg || check_device(dev) ||
	    (cfg->mode != VH_SERVER_FD && !cfg->path)) {
		if (own_fd >= 0)
			close(own_fd);
		return -EINVAL;
	}
	srv = calloc(1, sizeof(*srv));
	if (!srv) {
		if (own_fd >= 0)
			close(own_fd);
		return -ENOMEM;
	}
	srv->dev = *dev;
	srv->cfg = *cfg;
	snprintf(srv->name, sizeof(srv->name), "%s",
		 dev->name ? dev->name : "vhost-server");
	srv->dev.name = srv->name;
	if (!srv->dev.max_queue_size)
		srv->dev.max_queue_size = VH_VIRTQ_MAX_SIZE;
	if (!srv->dev.req_size)
		srv->dev.req_size = sizeof(struct vh_req);
	srv->max_iov = dev->max_iov ? dev->max_iov : 128;
	srv->batch = cfg->batch ? cfg->batch : 32;
	if (srv->batch > SRV_MAX_BATCH)
		srv->batch = SRV_MAX_BATCH;
	if (!srv->cfg.queues_per_worker)
		srv->cfg.queues_per_worker = 1;
	srv->max_workers = cfg->max_workers ? cfg->max_workers : 8;
	if (srv->cfg.reconnect_min_ms <= 0)
		srv->cfg.reconnect_min_ms = 10;
	if (srv->cfg.reconnect_max_ms < srv->cfg.reconnect_min_ms)
		srv->cfg.reconnect_max_ms = srv->cfg.reconnect_min_ms > 1000
						? srv->cfg.reconnect_min_ms
						: 1000;
	srv->backoff_ms = srv->cfg.reconnect_min_ms;
	head = (srv->dev.req_size + 15) & ~(size_t)15;
	srv->req_stride =
	    (head + srv->max_iov * (sizeof(struct iovec) + sizeof(uint64_t)) +
	     63) &
	    ~(size_t)63;
	srv->epfd = srv->stop_fd = srv->listen_fd = srv->timer_fd = -1;
	srv->log_fd = -1;
	srv->ev_stop.kind = EV_STOP;
	srv->ev_listen.kind = EV_LISTEN;
	srv->ev_conn.kind = EV_CONN;
	srv->ev_timer.kind = EV_TIMER;
	pthread_mutex_init(&srv->sess_lock, NULL);
	srv->cfg.worker_cpus = NULL;
	if (cfg->worker_cpus && cfg->n_worker_cpus) {
		int *cpus = calloc(cfg->n_worker_cpus, sizeof(int));

		if (!cpus)
			goto nomem_free;
		memcpy(cpus, cfg->worker_cpus,
		       cfg->n_worker_cpus * sizeof(int));
		srv->cfg.worker_cpus = cpus;
	}
	srv->path = cfg->path ? strdup(cfg->path) : NULL;
	srv->cfg.path = srv->path;
	srv->queues = calloc(dev->num_queues, sizeof(*srv->queues));
	srv->workers = calloc(srv->max_workers, sizeof(*srv->workers));
	if ((cfg->path && !srv->path) || !srv->queues || !srv->workers ||
	    vh_mem_new(&srv->mem))
		goto nomem_free;
	srv_mem_add(srv, sizeof(*srv) + dev->num_queues * sizeof(*srv->queues) +
			     srv->max_workers * sizeof(*srv->workers));
	err = srv_backend_config(srv, &bc);
	if (err)
		goto fail;
	srv->offered_features = bc.features;
	srv->offered_pf = bc.protocol_features;
	srv->epfd = epoll_create1(EPOLL_CLOEXEC);
	srv->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	srv->timer_fd =
	    timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (srv->epfd < 0 || srv->stop_fd < 0 || srv->timer_fd < 0) {
		err = -errno;
		goto fail;
	}
	err = ep_add(srv, srv->stop_fd, &srv->ev_stop);
	if (!err)
		err = ep_add(srv, srv->timer_fd, &srv->ev_timer);
	if (!err) {
		own_fd = -1; /* setup_mode takes it, also on failure */
		err = setup_mode(srv, cfg);
	}
	if (err)
		goto fail;
	*out = srv;
	return 0;
nomem_free:
	err = -ENOMEM;
fail:
	if (own_fd >= 0)
		close(own_fd);
	vh_server_free(srv);
	return err;
}

void vh_server_free(struct vh_server *srv)
{
	if (!srv)
		return;
	session_end(srv, true);
	if (srv->queues)
		srv_reset_rings(srv);
	for (unsigned i = 0; srv->workers && i < srv->max_workers; i++)
		srv_worker_free(srv->workers[i]);
	if (srv->listen_fd >= 0)
		close(srv->listen_fd);
	if (srv->own_path)
		vh_sock_unlink(srv->path);
	if (srv->epfd >= 0)
		close(srv->epfd);
	if (srv->stop_fd >= 0)
		close(srv->stop_fd);
	if (srv->timer_fd >= 0)
		close(srv->timer_fd);
	if (srv->log_fd >= 0)
		close(srv->log_fd);
	vh_mem_free(srv->mem);
	pthread_mutex_destroy(&srv->sess_lock);
	free((void *)srv->cfg.worker_cpus);
	free(srv->path);
	free(srv->queues);
	free(srv->workers);
	free(srv);
}

int vh_server_fd(const struct vh_server *srv)
{
	return srv->epfd;
}

static void drain(int fd)
{
	uint64_t v;

	(void)!read(fd, &v, sizeof(v));
}

int vh_server_dispatch(struct vh_server *srv, int timeout_ms)
{
	struct epoll_event evs[8];
	int n;

	if (srv->done)
		return 1;
	if (srv->connecting) {
		srv->connecting = false;
		try_connect(srv);
	}
	n = epoll_wait(srv->epfd, evs, 8, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n && !srv->done; i++) {
		struct srv_ev *src = evs[i].data.ptr;
		int fd, rc;

		switch (src->kind) {
		case EV_STOP:
			drain(srv->stop_fd);
			srv->done = true;
			break;
		case EV_LISTEN:
			if (srv->be)
				break;
			fd = vh_sock_accept(srv->listen_fd, 0);
			if (fd >= 0)
				session_start(srv, fd);
			else if (fd != -EAGAIN)
				vh_warn("%s: accept: %s", srv->name,
					vh_strerror(fd));
			/* The set changed: events after this are stale. */
			return srv->done ? 1 : 0;
		case EV_CONN:
			if (!srv->be)
				break;
			rc = vh_backend_handle_readable(srv->be);
			if (rc < 0) {
				session_end(srv, false);
				return srv->done ? 1 : 0;
			}
			break;
		case EV_TIMER:
			drain(srv->timer_fd);
			if (!srv->be && srv->cfg.mode == VH_SERVER_CONNECT)
				try_connect(srv);
			break;
		default:
			break;
		}
	}
	return srv->done ? 1 : 0;
}

int vh_server_run(struct vh_server *srv)
{
	for (;;) {
		int rc = vh_server_dispatch(srv, -1);

		if (rc)
			return rc < 0 ? rc : 0;
	}
}

void vh_server_stop(struct vh_server *srv)
{
	uint64_t one = 1;

	(void)!write(srv->stop_fd, &one, sizeof(one));
}

bool vh_server_connected(const struct vh_server *srv)
{
	return atomic_load(&srv->connected);
}

unsigned vh_server_sessions(const struct vh_server *srv)
{
	return atomic_load(&srv->sessions);
}

int vh_server_config_changed(struct vh_server *srv)
{
	int err = -ENOTCONN;

	pthread_mutex_lock(&srv->sess_lock);
	if (srv->be)
		err = vh_backend_send_config_change(srv->be, false);
	pthread_mutex_unlock(&srv->sess_lock);
	return err;
}

size_t vh_server_mem_usage(const struct vh_server *srv)
{
	return atomic_load(&((struct vh_server *)srv)->mem_bytes);
}
