/* SPDX-License-Identifier: MIT */
/*
 * The control half of the ring state machine (vhost-user.rst "Ring
 * states"): the vh_backend_ops callbacks for rings and features.
 *
 * A ring is "armed" once it has a size, addresses and a kick fd (or NOFD):
 * it is then handed to its worker, which starts it on the first kick. Any
 * change to an armed ring goes through a worker command and waits for its
 * acknowledgement, so the reply to the front-end is sent only once the
 * worker acts on the new state.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server_int.h"

static bool pf_in_use(uint64_t features)
{
	return vh_virtio_has(features, VH_VHOST_USER_F_PROTOCOL_FEATURES);
}

struct vh_queue *srv_queue_get(struct vh_server *srv, uint32_t index)
{
	struct vh_queue *q = srv->queues[index];

	if (q)
		return q;
	q = calloc(1, sizeof(*q));
	if (!q)
		return NULL;
	q->ev.kind = EV_KICK;
	q->srv = srv;
	q->index = index;
	q->kick_fd = q->call_fd = q->err_fd = -1;
	q->new_call_fd = q->new_err_fd = -1;
	/* "Each ring is initialized in a stopped and disabled state", unless
	 * SET_FEATURES already came without PROTOCOL_FEATURES. */
	atomic_init(&q->enabled, atomic_load(&srv->enable_all));
	pthread_mutex_lock(&srv->sess_lock);
	srv->queues[index] = q;
	pthread_mutex_unlock(&srv->sess_lock);
	srv_mem_add(srv, sizeof(*q));
	return q;
}

static int ring_arm(struct vh_queue *q)
{
	struct vh_server *srv = q->srv;
	unsigned qpw = srv->cfg.queues_per_worker;
	int err;

	if (q->armed || !(q->kick_fd >= 0 || q->kick_nofd) || !q->num ||
	    !q->has_addr)
		return 0;
	err = srv_worker_get(srv, (q->index / qpw) % srv->max_workers, &q->w);
	if (err) {
		vh_err("%s: ring %u: cannot start a worker: %s", srv->name,
		       q->index, vh_strerror(err));
		return err;
	}
	q->features = srv->features;
	atomic_store(&q->log_all,
		     vh_virtio_has(srv->features, VH_VHOST_F_LOG_ALL));
	atomic_store(&q->log_used, (q->addr.flags >> VHOST_VRING_F_LOG) & 1);
	q->inflight = NULL;
	q->inflight_len = 0;
	if (srv->inflight && q->index < srv->inflight_nq) {
		q->inflight =
		    (uint8_t *)srv->inflight + q->index * srv->inflight_stride;
		q->inflight_len = srv->inflight_stride;
	}
	/* A region a previous back-end initialised may hold requests to
	 * resubmit: nobody will kick for those (the driver already did), so
	 * the ring starts at once, as libvhost-user kicks itself then. */
	if (q->inflight && q->inflight_len >= 16) {
		uint16_t version;

		memcpy(&version, (uint8_t *)q->inflight + 8, sizeof(version));
		if (version != 0)
			q->start_now = true;
	}
	atomic_store(&q->broken, false);
	q->armed = true;
	srv_queue_cmd(q, QCMD_ARM);
	q->start_now = false;
	return 0;
}

/* Stop: no new requests, drain, leave the worker. q->base is then where
 * the ring stopped. */
static void ring_stop(struct vh_queue *q)
{
	if (!q->armed)
		return;
	srv_queue_cmd(q, QCMD_STOP);
	q->armed = false;
	q->base = q->final_base;
}

/* Changing size, addresses or base: only while not started. */
static int edit_begin(struct vh_queue *q, const char *req)
{
	if (atomic_load(&q->started)) {
		vh_err("%s: VHOST_USER_%s: ring %u is started (stop it with "
		       "GET_VRING_BASE first)",
		       q->srv->name, req, q->index);
		return -EBUSY;
	}
	ring_stop(q);
	return 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void srv_reset_rings(struct vh_server *srv)
{
	for (uint32_t i = 0; i < srv->dev.num_queues; i++) {
		struct vh_queue *q = srv->queues[i];

		if (!q)
			continue;
		ring_stop(q);
		close_fd(&q->kick_fd);
		close_fd(&q->call_fd);
		close_fd(&q->err_fd);
		pthread_mutex_lock(&srv->sess_lock);
		srv->queues[i] = NULL;
		pthread_mutex_unlock(&srv->sess_lock);
		srv_mem_sub(srv, sizeof(*q));
		free(q);
	}
	atomic_store(&srv->enable_all, false);
}

#define GET_Q(srv, index)                                   \
	struct vh_queue *q = srv_queue_get((srv), (index)); \
	if (!q)                                             \
	return -ENOMEM

static int s_set_vring_num(void *opaque, uint32_t index, uint32_t num)
{
	struct vh_server *srv = opaque;
	int err;
	GET_Q(srv, index);

	if (num == 0 || num > srv->dev.max_queue_size) {
		vh_err("%s: VHOST_USER_SET_VRING_NUM: ring %u: size %u not in "
		       "1..%u",
		       srv->name, index, num, srv->dev.max_queue_size);
		return -EINVAL;
	}
	err = edit_begin(q, "SET_VRING_NUM");
	if (err)
		return err;
	q->num = num;
	return ring_arm(q);
}

static int s_set_vring_addr(void *opaque, const struct vhost_user_vring_addr *a)
{
	struct vh_server *srv = opaque;
	int err;
	GET_Q(srv, a->index);

	if (atomic_load(&q->started) && q->has_addr &&
	    a->desc_user_addr == q->addr.desc_user_addr &&
	    a->used_user_addr == q->addr.used_user_addr &&
	    a->avail_user_addr == q->addr.avail_user_addr) {
		/* vhost-user.rst Migration: the front-end toggles
		 * VHOST_VRING_F_LOG on a running ring. */
		q->addr = *a;
		atomic_store(&q->log_used, (a->flags >> VHOST_VRING_F_LOG) & 1);
		srv_queue_cmd(q, QCMD_LOG);
		return 0;
	}
	err = edit_begin(q, "SET_VRING_ADDR");
	if (err)
		return err;
	q->addr = *a;
	q->has_addr = true;
	return ring_arm(q);
}

static int s_set_vring_base(void *opaque, uint32_t index, uint32_t base)
{
	struct vh_server *srv = opaque;
	int err;
	GET_Q(srv, index);

	err = edit_begin(q, "SET_VRING_BASE");
	if (err)
		return err;
	q->base = base;
	return ring_arm(q);
}

static int s_get_vring_base(void *opaque, uint32_t index, uint32_t *base)
{
	struct vh_server *srv = opaque;
	struct vh_queue *q = srv->queues[index];

	if (!q) {
		*base = 0;
		return 0;
	}
	/* vhost-user.rst: GET_VRING_BASE stops the ring; the reply waits
	 * until the device completed every request it took (drain). */
	ring_stop(q);
	*base = q->base;
	/* The kick fd is dropped (as libvhost-user and DPDK do): a stopped
	 * ring is armed again by the next SET_VRING_KICK. */
	close_fd(&q->kick_fd);
	q->kick_nofd = false;
	return 0;
}

static int s_set_vring_kick(void *opaque, uint32_t index, int *fd)
{
	struct vh_server *srv = opaque;
	bool was_started;
	GET_Q(srv, index);

	/* Replacing the kick of an armed ring: stop (drain) and re-arm; a
	 * ring that was started starts again at once on the new fd. */
	was_started = atomic_load(&q->started);
	ring_stop(q);
	close_fd(&q->kick_fd);
	q->kick_fd = *fd;
	q->kick_nofd = *fd < 0;
	*fd = -1;
	q->start_now = was_started;
	return ring_arm(q);
}

/* Hand a new call/err fd to the worker of an armed ring. */
static void swap_fd(struct vh_queue *q, int *slot, int *new_slot, int fd,
		    unsigned bit)
{
	if (!q->armed) {
		close_fd(slot);
		*slot = fd;
		return;
	}
	pthread_mutex_lock(&q->w->lock);
	*new_slot = fd;
	pthread_mutex_unlock(&q->w->lock);
	srv_queue_cmd(q, bit);
}

static int s_set_vring_call(void *opaque, uint32_t index, int *fd)
{
	struct vh_server *srv = opaque;
	GET_Q(srv, index);

	/* May change while the ring runs (QEMU masks interrupts so). */
	swap_fd(q, &q->call_fd, &q->new_call_fd, *fd, QCMD_CALL);
	*fd = -1;
	return 0;
}

static int s_set_vring_err(void *opaque, uint32_t index, int *fd)
{
	struct vh_server *srv = opaque;
	GET_Q(srv, index);

	swap_fd(q, &q->err_fd, &q->new_err_fd, *fd, QCMD_ERR);
	*fd = -1;
	return 0;
}

static int s_set_vring_enable(void *opaque, uint32_t index, bool enable)
{
	struct vh_server *srv = opaque;
	GET_Q(srv, index);

	atomic_store(&q->enabled, enable);
	/* The worker acknowledges between batches: after the reply no new
	 * request is taken from a disabled ring, and an enabled one is
	 * looked at again (a kick before enable is not lost). */
	if (q->armed)
		srv_queue_cmd(q, QCMD_ENABLE);
	return 0;
}

static int s_vring_kick(void *opaque, uint32_t index)
{
	struct vh_server *srv = opaque;
	struct vh_queue *q = srv->queues[index];

	if (q && q->armed)
		srv_queue_cmd(q, QCMD_KICK);
	return 0;
}

static int s_set_features(void *opaque, uint64_t features)
{
	struct vh_server *srv = opaque;
	bool log_all = vh_virtio_has(features, VH_VHOST_F_LOG_ALL);

	srv->features = features;
	/* vhost-user.rst Ring states: "upon receiving a SET_FEATURES
	 * message from the front-end without PROTOCOL_FEATURES set, the
	 * back-end must enable all rings immediately". */
	if (!pf_in_use(features))
		atomic_store(&srv->enable_all, true);
	for (uint32_t i = 0; i < srv->dev.num_queues; i++) {
		struct vh_queue *q = srv->queues[i];
		unsigned bits = 0;

		if (!q)
			continue;
		if (!pf_in_use(features) && !atomic_load(&q->enabled)) {
			atomic_store(&q->enabled, true);
			bits |= QCMD_ENABLE;
		}
		if (atomic_load(&q->log_all) != log_all) {
			/* LOG_ALL switched on the fly (migration). */
			atomic_store(&q->log_all, log_all);
			bits |= QCMD_LOG;
		}
		if (q->armed && bits)
			srv_queue_cmd(q, bits);
	}
	if (srv->dev.ops->set_features)
		return srv->dev.ops->set_features(srv->dev.opaque, features);
	return 0;
}

/* Shared with ctl_dev.c / ctl_mem.c through the ops table below. */
int srv_op_set_owner(void *opaque);
int srv_op_reset_owner(void *opaque);
int srv_op_set_mem_table(void *opaque,
			 const struct vhost_user_mem_region *regions,
			 unsigned n, int *fds);
int srv_op_add_mem_reg(void *opaque, const struct vhost_user_mem_region *r,
		       int *fd);
int srv_op_rem_mem_reg(void *opaque, const struct vhost_user_mem_region *r);
int srv_op_set_log_base(void *opaque, const struct vhost_user_log *log,
			int *fd);
int srv_op_set_log_fd(void *opaque, int *fd);
int srv_op_get_config(void *opaque, uint32_t offset, uint32_t size,
		      uint32_t flags, uint8_t *buf);
int srv_op_set_config(void *opaque, uint32_t offset, uint32_t size,
		      uint32_t flags, const uint8_t *buf);
int srv_op_reset_device(void *opaque);
int srv_op_set_status(void *opaque, uint8_t status);
int srv_op_get_status(void *opaque, uint8_t *status);
int srv_op_get_inflight_fd(void *opaque, const struct vhost_user_inflight *req,
			   struct vhost_user_inflight *rep, int *fd_out);
int srv_op_set_inflight_fd(void *opaque, const struct vhost_user_inflight *in,
			   int *fd);
int srv_op_set_device_state_fd(void *opaque, uint32_t direction, uint32_t phase,
			       int *fd, int *reply_fd);
int srv_op_check_device_state(void *opaque);

const struct vh_backend_ops srv_backend_ops = {
    .set_features = s_set_features,
    .set_owner = srv_op_set_owner,
    .reset_owner = srv_op_reset_owner,
    .set_mem_table = srv_op_set_mem_table,
    .add_mem_reg = srv_op_add_mem_reg,
    .rem_mem_reg = srv_op_rem_mem_reg,
    .set_log_base = srv_op_set_log_base,
    .set_log_fd = srv_op_set_log_fd,
    .set_vring_num = s_set_vring_num,
    .set_vring_addr = s_set_vring_addr,
    .set_vring_base = s_set_vring_base,
    .get_vring_base = s_get_vring_base,
    .set_vring_kick = s_set_vring_kick,
    .set_vring_call = s_set_vring_call,
    .set_vring_err = s_set_vring_err,
    .set_vring_enable = s_set_vring_enable,
    .vring_kick = s_vring_kick,
    .get_config = srv_op_get_config,
    .set_config = srv_op_set_config,
    .reset_device = srv_op_reset_device,
    .set_status = srv_op_set_status,
    .get_status = srv_op_get_status,
    .get_inflight_fd = srv_op_get_inflight_fd,
    .set_inflight_fd = srv_op_set_inflight_fd,
    .set_device_state_fd = srv_op_set_device_state_fd,
    .check_device_state = srv_op_check_device_state,
    .send_rarp = srv_op_send_rarp,
    .net_set_mtu = srv_op_net_set_mtu,
};

enum vh_ring_state vh_server_ring_state(const struct vh_server *srv,
					uint32_t index)
{
	struct vh_server *m = (struct vh_server *)srv;
	const struct vh_queue *q;
	unsigned s = 0;

	if (index >= srv->dev.num_queues)
		return VH_RING_STOPPED_DISABLED;
	/* The control thread frees rings under this lock. */
	pthread_mutex_lock(&m->sess_lock);
	q = srv->queues[index];
	if (!q) {
		if (atomic_load(&m->enable_all))
			s |= VH_RING_ENABLED;
	} else {
		if (atomic_load(&q->enabled))
			s |= VH_RING_ENABLED;
		if (atomic_load(&q->started))
			s |= VH_RING_STARTED;
	}
	pthread_mutex_unlock(&m->sess_lock);
	return (enum vh_ring_state)s;
}
