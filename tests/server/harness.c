/* SPDX-License-Identifier: MIT */
/* Server test harness (harness.h). Failures abort the test via cmocka. */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <dirent.h>

#include "harness.h"
#include "vhost/log.h"

atomic_int th_log_errors;

static void quiet(void *opaque, enum vh_log_level level, const char *msg)
{
	(void)opaque;
	(void)msg;
	if (level == VH_LOG_ERR)
		atomic_fetch_add(&th_log_errors, 1);
	if (getenv("TH_VERBOSE"))
		fprintf(stderr, "log: %s\n", msg);
}

void th_quiet_logs(void)
{
	vh_log_set_handler(quiet, NULL);
}

unsigned th_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned n = 0;

	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

void th_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

bool th_wait(bool (*cond)(void *arg), void *arg, int ms)
{
	long end = now_ms() + ms;

	while (!cond(arg)) {
		if (now_ms() > end)
			return cond(arg);
		th_sleep_ms(1);
	}
	return true;
}

/* ---- echo device ------------------------------------------------------- */

struct echo_req {
	struct vh_req req; /* first: the server's pool allocates both */
	uint32_t len;
	struct echo_req *next;
};

static uint32_t echo_copy(struct vh_req *r)
{
	const struct vh_virtq_elem *e = &r->elem;
	uint32_t n = e->out_len < e->in_len ? e->out_len : e->in_len;
	unsigned oi = 0, ii = e->out_num;
	size_t ooff = 0, ioff = 0;
	uint32_t left = n;

	while (left) {
		size_t a = e->iov[oi].iov_len - ooff;
		size_t b = e->iov[ii].iov_len - ioff;
		size_t c = a < b ? a : b;

		if (c > left)
			c = left;
		memcpy((uint8_t *)e->iov[ii].iov_base + ioff,
		       (uint8_t *)e->iov[oi].iov_base + ooff, c);
		ooff += c;
		ioff += c;
		left -= (uint32_t)c;
		if (ooff == e->iov[oi].iov_len) {
			oi++;
			ooff = 0;
		}
		if (ioff == e->iov[ii].iov_len) {
			ii++;
			ioff = 0;
		}
	}
	return n;
}

static uint64_t req_id(struct vh_req *r)
{
	uint64_t id = 0;

	if (r->elem.out_num && r->elem.iov[0].iov_len >= 8)
		memcpy(&id, r->elem.iov[0].iov_base, 8);
	return id;
}

static void *remote_main(void *arg)
{
	struct echo_dev *e = arg;

	pthread_mutex_lock(&e->lock);
	for (;;) {
		struct echo_req *r;

		while (!e->list && !e->quit)
			pthread_cond_wait(&e->cond, &e->lock);
		if (!e->list)
			break;
		r = (struct echo_req *)e->list;
		e->list = (struct vh_req *)r->next;
		if (!e->list)
			e->tail = NULL;
		pthread_mutex_unlock(&e->lock);
		if (e->remote_delay_ms)
			th_sleep_ms(e->remote_delay_ms);
		vh_req_complete(&r->req, r->len);
		pthread_mutex_lock(&e->lock);
	}
	pthread_mutex_unlock(&e->lock);
	return NULL;
}

static void echo_reqs(void *dev, struct vh_queue *q, struct vh_req **reqs,
		      unsigned n)
{
	struct echo_dev *e = dev;
	bool enabled = vh_queue_enabled(q);

	for (unsigned i = 0; i < n; i++) {
		struct echo_req *r = (struct echo_req *)reqs[i];

		atomic_fetch_add(&e->handled, 1);
		if (enabled) {
			r->len = echo_copy(&r->req);
			atomic_fetch_add(&e->side_effect, 1);
		} else {
			/* Started but disabled: no side effects. */
			r->len = 0;
			atomic_fetch_add(&e->discarded, 1);
		}
		switch (e->mode) {
		case ECHO_HOLD_ALL:
			continue;
		case ECHO_HOLD_ODD:
			if (req_id(&r->req) & 1)
				continue;
			break;
		case ECHO_REMOTE:
			pthread_mutex_lock(&e->lock);
			r->next = NULL;
			if (e->tail)
				((struct echo_req *)e->tail)->next = r;
			else
				e->list = &r->req;
			e->tail = &r->req;
			pthread_cond_signal(&e->cond);
			pthread_mutex_unlock(&e->lock);
			continue;
		case ECHO_NOW:
			break;
		}
		vh_req_complete(&r->req, r->len);
	}
}

static int echo_started(void *dev, struct vh_queue *q)
{
	struct echo_dev *e = dev;

	atomic_fetch_add(&e->started, 1);
	atomic_store(&e->worker_of[vh_queue_index(q) % TH_MAX_Q],
		     (int)vh_queue_worker(q));
	return 0;
}

static void echo_stopped(void *dev, struct vh_queue *q)
{
	struct echo_dev *e = dev;

	(void)q;
	atomic_fetch_add(&e->stopped, 1);
}

static void echo_reset(void *dev)
{
	struct echo_dev *e = dev;

	atomic_fetch_add(&e->resets, 1);
}

static int echo_get_config(void *dev, uint32_t off, uint32_t size, uint8_t *buf)
{
	struct echo_dev *e = dev;

	memcpy(buf, e->config + off, size);
	return 0;
}

static int echo_set_config(void *dev, uint32_t off, uint32_t size,
			   uint32_t flags, const uint8_t *buf)
{
	struct echo_dev *e = dev;

	(void)flags;
	memcpy(e->config + off, buf, size);
	return 0;
}

static int echo_state_fd(void *dev, uint32_t dir, uint32_t phase, int *fd,
			 int *reply_fd)
{
	struct echo_dev *e = dev;

	(void)reply_fd;
	if (phase != VHOST_USER_TRANSFER_STATE_PHASE_STOPPED)
		return -EINVAL;
	if (dir == VHOST_USER_TRANSFER_STATE_DIRECTION_SAVE) {
		/* Our whole state: the config bytes, then EOF. */
		if (write(*fd, e->config, sizeof(e->config)) !=
		    (ssize_t)sizeof(e->config))
			return -EIO;
	} else {
		if (read(*fd, e->config, sizeof(e->config)) !=
		    (ssize_t)sizeof(e->config))
			return -EIO;
	}
	close(*fd);
	*fd = -1;
	return 0;
}

static int echo_check_state(void *dev)
{
	(void)dev;
	return 0;
}

static const struct vh_device_ops echo_ops = {
    .handle_reqs = echo_reqs,
    .queue_started = echo_started,
    .queue_stopped = echo_stopped,
    .reset = echo_reset,
    .get_config = echo_get_config,
    .set_config = echo_set_config,
};

static const struct vh_device_ops echo_state_ops = {
    .handle_reqs = echo_reqs,
    .queue_started = echo_started,
    .queue_stopped = echo_stopped,
    .reset = echo_reset,
    .get_config = echo_get_config,
    .set_config = echo_set_config,
    .set_device_state_fd = echo_state_fd,
    .check_device_state = echo_check_state,
};

void echo_init(struct echo_dev *e, enum echo_mode mode)
{
	memset(e, 0, sizeof(*e));
	e->mode = mode;
	for (unsigned i = 0; i < TH_MAX_Q; i++)
		atomic_init(&e->worker_of[i], -1);
	for (unsigned i = 0; i < sizeof(e->config); i++)
		e->config[i] = (uint8_t)(0xa0 + i);
	pthread_mutex_init(&e->lock, NULL);
	pthread_cond_init(&e->cond, NULL);
	if (mode == ECHO_REMOTE) {
		assert_int_equal(pthread_create(&e->thr, NULL, remote_main, e),
				 0);
		e->thr_running = true;
	}
}

void echo_fini(struct echo_dev *e)
{
	if (e->thr_running) {
		pthread_mutex_lock(&e->lock);
		e->quit = true;
		pthread_cond_signal(&e->cond);
		pthread_mutex_unlock(&e->lock);
		pthread_join(e->thr, NULL);
	}
	pthread_cond_destroy(&e->cond);
	pthread_mutex_destroy(&e->lock);
}

void echo_device(struct echo_dev *e, struct vh_device *d, unsigned nq,
		 unsigned flags)
{
	memset(d, 0, sizeof(*d));
	d->name = "echo";
	d->features = VH_SERVER_RING_FEATURES;
	d->num_queues = nq;
	d->config_size = sizeof(e->config);
	d->req_size = sizeof(struct echo_req);
	d->max_iov = 16;
	d->flags = flags;
	d->ops = e->state_ops ? &echo_state_ops : &echo_ops;
	d->opaque = e;
}

/* ---- server thread ----------------------------------------------------- */

static void *srv_main(void *arg)
{
	struct th_srv *s = arg;

	s->rc = vh_server_run(s->srv);
	return NULL;
}

void th_srv_start(struct th_srv *s, const struct vh_device *d,
		  const struct vh_server_config *cfg)
{
	struct vh_server_config c;

	memset(s, 0, sizeof(*s));
	snprintf(s->dir, sizeof(s->dir), "/tmp/vh-srv-XXXXXX");
	assert_non_null(mkdtemp(s->dir));
	snprintf(s->path, sizeof(s->path), "%s/sock", s->dir);
	if (cfg)
		c = *cfg;
	else
		memset(&c, 0, sizeof(c));
	c.mode = VH_SERVER_LISTEN;
	c.path = s->path;
	assert_int_equal(vh_server_new(&s->srv, d, &c), 0);
	assert_int_equal(pthread_create(&s->thr, NULL, srv_main, s), 0);
}

void th_srv_stop(struct th_srv *s)
{
	vh_server_stop(s->srv);
	pthread_join(s->thr, NULL);
	assert_int_equal(s->rc, 0);
	vh_server_free(s->srv);
	s->srv = NULL;
	rmdir(s->dir);
}

/* ---- guest ------------------------------------------------------------- */

void th_guest_init(struct th_guest *g, unsigned max_ids)
{
	memset(g, 0, sizeof(*g));
	g->memfd = memfd_create("th-guest", MFD_CLOEXEC);
	assert_true(g->memfd >= 0);
	assert_int_equal(ftruncate(g->memfd, TH_MEM_LEN), 0);
	g->mem = mmap(NULL, TH_MEM_LEN, PROT_READ | PROT_WRITE, MAP_SHARED,
		      g->memfd, 0);
	assert_true(g->mem != MAP_FAILED);
	g->max_ids = max_ids;
	g->done_count = calloc(max_ids, sizeof(uint32_t));
	assert_non_null(g->done_count);
	for (unsigned q = 0; q < TH_MAX_Q; q++)
		g->r[q].kick = g->r[q].call = g->r[q].err = -1;
}

void th_guest_fini(struct th_guest *g)
{
	th_guest_disconnect(g);
	for (unsigned q = 0; q < TH_MAX_Q; q++)
		th_ring_fini(g, q);
	munmap(g->mem, TH_MEM_LEN);
	close(g->memfd);
	free(g->done_count);
}

void th_guest_connect(struct th_guest *g, const char *path, uint64_t want_pf,
		      uint64_t feat_mask, bool use_pf)
{
	uint64_t pfbit =
	    vh_virtio_feature_mask(VH_VHOST_USER_F_PROTOCOL_FEATURES);
	struct vhost_user_mem_region r = {
	    .guest_phys_addr = TH_GPA,
	    .memory_size = TH_MEM_LEN,
	    .userspace_addr = (uintptr_t)g->mem,
	    .mmap_offset = 0,
	};

	assert_int_equal(vh_frontend_connect(&g->fe, path, TH_TIMEOUT_MS, NULL),
			 0);
	assert_int_equal(
	    vh_frontend_negotiate(g->fe, want_pf, &g->offered, &g->pf), 0);
	/* As QEMU: wait for the back-end's ack wherever REPLY_ACK allows,
	 * so that e.g. a region added is in use when the call returns. */
	if (vh_protocol_has(g->pf, VHOST_USER_PROTOCOL_F_REPLY_ACK))
		vh_frontend_set_ack_always(g->fe, true);
	assert_int_equal(vh_frontend_set_owner(g->fe), 0);
	g->features = g->offered & (feat_mask | pfbit);
	if (!use_pf)
		g->features &= ~pfbit;
	assert_int_equal(vh_frontend_set_features(g->fe, g->features), 0);
	g->packed = vh_virtio_has(g->features, VH_VIRTIO_F_RING_PACKED);
	g->event_idx = vh_virtio_has(g->features, VH_VIRTIO_RING_F_EVENT_IDX);
	g->indirect =
	    vh_virtio_has(g->features, VH_VIRTIO_RING_F_INDIRECT_DESC);
	assert_int_equal(vh_frontend_set_mem_table(g->fe, &r, 1, &g->memfd), 0);
}

void th_guest_disconnect(struct th_guest *g)
{
	vh_frontend_free(g->fe);
	g->fe = NULL;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void th_ring_init(struct th_guest *g, unsigned q, uint16_t size)
{
	struct th_ring *r = &g->r[q];
	size_t base = (size_t)q * TH_RING_STRIDE;
	struct vh_drv_config c = {
	    .size = size,
	    .packed = g->packed,
	    .event_idx = g->event_idx,
	    .indirect = g->indirect && size <= 64,
	    .mem = g->mem,
	    .mem_gpa = TH_GPA,
	    .mem_len = TH_MEM_LEN,
	    .desc_off = base,
	    .driver_off = base + 0x1000,
	    .device_off = base + 0x2000,
	    .indirect_off = base + 0x3000,
	    .indirect_max = 4,
	};

	th_ring_fini(g, q);
	assert_int_equal(vh_drv_queue_new(&c, &r->drv), 0);
	r->kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	r->call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	r->err = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	assert_true(r->kick >= 0 && r->call >= 0 && r->err >= 0);
	r->size = size;
	r->nfree = 0;
	for (unsigned s = TH_SLOTS; s-- > 0;)
		r->free_slots[r->nfree++] = (uint16_t)s;
	r->inflight = 0;
	r->ready = true;
}

void th_ring_fini(struct th_guest *g, unsigned q)
{
	struct th_ring *r = &g->r[q];

	if (r->drv)
		vh_drv_queue_free(r->drv);
	r->drv = NULL;
	close_fd(&r->kick);
	close_fd(&r->call);
	close_fd(&r->err);
	r->ready = false;
}

void th_ring_addr(struct th_guest *g, unsigned q, uint32_t flags,
		  struct vhost_user_vring_addr *a)
{
	uintptr_t base = (uintptr_t)g->mem + (size_t)q * TH_RING_STRIDE;

	memset(a, 0, sizeof(*a));
	a->index = q;
	a->flags = flags;
	a->desc_user_addr = base;
	a->avail_user_addr = base + 0x1000;
	a->used_user_addr = base + 0x2000;
	a->log_guest_addr = TH_GPA + (uint64_t)q * TH_RING_STRIDE + 0x2000;
}

void th_ring_setup(struct th_guest *g, unsigned q, uint16_t size, uint32_t base)
{
	struct vhost_user_vring_addr a;

	if (!g->r[q].ready || g->r[q].size != size)
		th_ring_init(g, q, size);
	th_ring_addr(g, q, 0, &a);
	if (g->packed && base == 0) {
		/* A fresh packed ring: both wrap counters start at 1. */
		struct vh_packed_base b = {0, true, 0, true};

		base = vh_proto_encode_packed_base(&b);
	}
	assert_int_equal(vh_frontend_set_vring_num(g->fe, q, size), 0);
	assert_int_equal(vh_frontend_set_vring_base(g->fe, q, base), 0);
	assert_int_equal(vh_frontend_set_vring_addr(g->fe, &a), 0);
	assert_int_equal(vh_frontend_set_vring_kick(g->fe, q, g->r[q].kick), 0);
	assert_int_equal(vh_frontend_set_vring_call(g->fe, q, g->r[q].call), 0);
	assert_int_equal(vh_frontend_set_vring_err(g->fe, q, g->r[q].err), 0);
	if (vh_virtio_has(g->features, VH_VHOST_USER_F_PROTOCOL_FEATURES))
		assert_int_equal(vh_frontend_set_vring_enable(g->fe, q, true),
				 0);
}

uint64_t th_gpa(unsigned q, unsigned slot, bool in)
{
	return TH_GPA + TH_DATA_OFF + (uint64_t)q * TH_DATA_STRIDE +
	       (uint64_t)slot * 0x2000 + (in ? 0x1000 : 0);
}

void *th_host(struct th_guest *g, uint64_t gpa)
{
	assert_true(gpa >= TH_GPA && gpa < TH_GPA + TH_MEM_LEN);
	return g->mem + (gpa - TH_GPA);
}

static uint8_t pattern(unsigned id, unsigned i)
{
	return (uint8_t)(id * 7u + i * 13u + 1u);
}

int th_submit(struct th_guest *g, unsigned q, unsigned id, unsigned nout,
	      bool indirect)
{
	struct th_ring *r = &g->r[q];
	struct vh_drv_buf out[4], in;
	uint8_t *o, *ib;
	uint64_t id64 = id;
	unsigned slot;
	int rc;

	assert_true(nout >= 1 && nout <= 4);
	if (!r->nfree)
		return -ENOSPC;
	slot = r->free_slots[r->nfree - 1];
	o = th_host(g, th_gpa(q, slot, false));
	ib = th_host(g, th_gpa(q, slot, true));
	for (unsigned i = 0; i < TH_BUF; i++)
		o[i] = pattern(id, i);
	memcpy(o, &id64, 8);
	memset(ib, 0, TH_BUF);
	for (unsigned k = 0; k < nout; k++) {
		out[k].gpa = th_gpa(q, slot, false) + k * (TH_BUF / nout);
		out[k].len = k + 1 < nout
				 ? TH_BUF / nout
				 : TH_BUF - (nout - 1) * (TH_BUF / nout);
	}
	in.gpa = th_gpa(q, slot, true);
	in.len = TH_BUF;
	rc =
	    vh_drv_add(r->drv, out, nout, &in, 1, indirect,
		       (void *)(uintptr_t)(((uintptr_t)id << 16) | (slot + 1)));
	if (rc)
		return rc;
	r->nfree--;
	r->inflight++;
	r->slots_used |= UINT64_C(1) << slot;
	return 0;
}

void th_kick(struct th_guest *g, unsigned q)
{
	uint64_t one = 1;

	if (vh_drv_kick_prepare(g->r[q].drv))
		assert_int_equal(write(g->r[q].kick, &one, 8), 8);
}

void th_kick_force(struct th_guest *g, unsigned q)
{
	uint64_t one = 1;

	vh_drv_kick_prepare(g->r[q].drv);
	assert_int_equal(write(g->r[q].kick, &one, 8), 8);
}

int th_reap(struct th_guest *g, unsigned q, int ms, unsigned *id, uint32_t *len)
{
	struct th_ring *r = &g->r[q];
	long end = now_ms() + ms;

	for (;;) {
		void *tok;
		int rc = vh_drv_get_used(r->drv, &tok, len);

		assert_true(rc >= 0);
		if (rc == 1) {
			uintptr_t t = (uintptr_t)tok;
			unsigned slot = (unsigned)(t & 0xffff) - 1;

			*id = (unsigned)(t >> 16);
			if (slot < TH_SLOTS) {
				const uint8_t *o =
				    th_host(g, th_gpa(q, slot, false));
				const uint8_t *ib =
				    th_host(g, th_gpa(q, slot, true));

				if (*len == TH_BUF)
					assert_memory_equal(o, ib, TH_BUF);
				else
					assert_int_equal(*len, 0);
				r->free_slots[r->nfree++] = (uint16_t)slot;
			}
			r->inflight--;
			if (*id < g->max_ids)
				g->done_count[*id]++;
			return 1;
		}
		long left = end - now_ms();
		if (left <= 0) {
			if (ms >= 1000 && getenv("TH_VERBOSE")) {
				uint8_t *b =
				    g->mem + (size_t)q * TH_RING_STRIDE;
				uint16_t av[2], us[2], ue, ae;

				memcpy(av, b + 0x1000, 4);
				memcpy(us, b + 0x2000, 4);
				memcpy(&ue, b + 0x1000 + 4 + 2 * r->size, 2);
				memcpy(&ae, b + 0x2000 + 4 + 8 * r->size, 2);
				fprintf(
				    stderr,
				    "timeout ring %u: avail flags %u idx %u "
				    "used_event %u | used flags %u idx %u "
				    "avail_event %u\n",
				    q, av[0], av[1], ue, us[0], us[1], ae);
			}
			return 0;
		}
		struct pollfd p = {.fd = r->call, .events = POLLIN};
		if (poll(&p, 1, left < 10 ? (int)left : 10) > 0) {
			uint64_t v;

			(void)!read(r->call, &v, 8);
		}
	}
}

void th_run(struct th_guest *g, unsigned q, unsigned first, unsigned n,
	    unsigned depth, unsigned nout, bool indirect)
{
	unsigned next = first, done = 0, id;
	uint32_t len;

	while (done < n) {
		while (next < first + n && g->r[q].inflight < depth &&
		       th_submit(g, q, next, nout, indirect) == 0)
			next++;
		th_kick(g, q);
		assert_int_equal(th_reap(g, q, TH_TIMEOUT_MS, &id, &len), 1);
		assert_int_equal(len, TH_BUF);
		done++;
		while (done < n && th_reap(g, q, 0, &id, &len) == 1) {
			assert_int_equal(len, TH_BUF);
			done++;
		}
	}
	for (unsigned i = first; i < first + n; i++)
		assert_int_equal(g->done_count[i], 1);
}
