/* SPDX-License-Identifier: MIT */
/*
 * The recording test device of the front-end tests (fe_test.h): one
 * vh_backend_ops callback per request, each counting its calls, storing
 * what it got (fds taken), and failing once on demand.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fe_test.h"

/* ------------------------------------------------------------------------ */
/* The recording test device                                                */
/* ------------------------------------------------------------------------ */

unsigned tdev_calls(struct tdev *d, uint32_t req)
{
	unsigned n;

	pthread_mutex_lock(&d->lock);
	n = d->calls[req];
	pthread_mutex_unlock(&d->lock);
	return n;
}

/* Count the call, take the lock; returns the injected failure (if any). */
static int enter(struct tdev *d, uint32_t req)
{
	int r;

	pthread_mutex_lock(&d->lock);
	d->calls[req]++;
	r = 0;
	if (d->fail_req == req) {
		r = d->fail_next;
		d->fail_next = 0;
		d->fail_req = 0;
	}
	return r;
}

void tdev_fail_next(struct tdev *d, uint32_t req, int err)
{
	pthread_mutex_lock(&d->lock);
	d->fail_req = req;
	d->fail_next = err;
	pthread_mutex_unlock(&d->lock);
}

static int leave(struct tdev *d, int r)
{
	pthread_mutex_unlock(&d->lock);
	return r;
}

static void take(int *slot, int *fd)
{
	if (*slot >= 0)
		close(*slot);
	*slot = *fd;
	*fd = -1;
}

#define ENTER(req)                   \
	struct tdev *d = opaque;     \
	int fail_ = enter(d, (req)); \
	if (fail_)                   \
	return leave(d, fail_)

static int t_set_features(void *opaque, uint64_t features)
{
	ENTER(VHOST_USER_SET_FEATURES);
	d->features = features;
	return leave(d, 0);
}

static int t_set_protocol_features(void *opaque, uint64_t pf)
{
	ENTER(VHOST_USER_SET_PROTOCOL_FEATURES);
	d->pf = pf;
	return leave(d, 0);
}

static int t_set_owner(void *opaque)
{
	ENTER(VHOST_USER_SET_OWNER);
	return leave(d, 0);
}

static int t_reset_owner(void *opaque)
{
	ENTER(VHOST_USER_RESET_OWNER);
	return leave(d, 0);
}

static int t_set_mem_table(void *opaque,
			   const struct vhost_user_mem_region *regions,
			   unsigned n, int *fds)
{
	unsigned i;

	ENTER(VHOST_USER_SET_MEM_TABLE);
	d->nregions = n;
	for (i = 0; i < n; i++) {
		d->regions[i] = regions[i];
		take(&d->mem_fds[i], &fds[i]);
	}
	return leave(d, 0);
}

static int t_add_mem_reg(void *opaque, const struct vhost_user_mem_region *r,
			 int *fd)
{
	ENTER(VHOST_USER_ADD_MEM_REG);
	d->reg = *r;
	take(&d->reg_fd, fd);
	return leave(d, 0);
}

static int t_rem_mem_reg(void *opaque, const struct vhost_user_mem_region *r)
{
	ENTER(VHOST_USER_REM_MEM_REG);
	d->rem = *r;
	return leave(d, 0);
}

static int t_set_log_base(void *opaque, const struct vhost_user_log *log,
			  int *fd)
{
	ENTER(VHOST_USER_SET_LOG_BASE);
	d->log = *log;
	take(&d->log_fd, fd);
	return leave(d, 0);
}

static int t_set_log_fd(void *opaque, int *fd)
{
	ENTER(VHOST_USER_SET_LOG_FD);
	take(&d->log_ev_fd, fd);
	return leave(d, 0);
}

static int t_set_vring_num(void *opaque, uint32_t index, uint32_t num)
{
	ENTER(VHOST_USER_SET_VRING_NUM);
	d->num[index] = num;
	return leave(d, 0);
}

static int t_set_vring_addr(void *opaque,
			    const struct vhost_user_vring_addr *addr)
{
	ENTER(VHOST_USER_SET_VRING_ADDR);
	d->addr = *addr;
	return leave(d, 0);
}

static int t_set_vring_base(void *opaque, uint32_t index, uint32_t base)
{
	ENTER(VHOST_USER_SET_VRING_BASE);
	d->base[index] = base;
	return leave(d, 0);
}

static int t_get_vring_base(void *opaque, uint32_t index, uint32_t *base)
{
	ENTER(VHOST_USER_GET_VRING_BASE);
	*base = d->base[index] + 7; /* "it moved on" */
	return leave(d, 0);
}

static int vring_fd(struct tdev *d, int *slot, int *fd)
{
	if (*fd < 0) {
		if (*slot >= 0)
			close(*slot);
		*slot = -1;
	} else {
		take(slot, fd);
	}
	return leave(d, 0);
}

static int t_set_vring_kick(void *opaque, uint32_t index, int *fd)
{
	ENTER(VHOST_USER_SET_VRING_KICK);
	return vring_fd(d, &d->kick[index], fd);
}

static int t_set_vring_call(void *opaque, uint32_t index, int *fd)
{
	ENTER(VHOST_USER_SET_VRING_CALL);
	return vring_fd(d, &d->call[index], fd);
}

static int t_set_vring_err(void *opaque, uint32_t index, int *fd)
{
	ENTER(VHOST_USER_SET_VRING_ERR);
	return vring_fd(d, &d->err[index], fd);
}

static int t_set_vring_enable(void *opaque, uint32_t index, bool enable)
{
	ENTER(VHOST_USER_SET_VRING_ENABLE);
	d->enabled[index] = enable;
	return leave(d, 0);
}

static int t_set_vring_endian(void *opaque, uint32_t index, bool big)
{
	ENTER(VHOST_USER_SET_VRING_ENDIAN);
	d->big_endian[index] = big;
	return leave(d, 0);
}

static int t_vring_kick(void *opaque, uint32_t index)
{
	ENTER(VHOST_USER_VRING_KICK);
	d->inband_kicked |= 1u << index;
	return leave(d, 0);
}

static int t_get_config(void *opaque, uint32_t offset, uint32_t size,
			uint32_t flags, uint8_t *buf)
{
	(void)flags;
	ENTER(VHOST_USER_GET_CONFIG);
	memcpy(buf, d->config + offset, size);
	return leave(d, 0);
}

static int t_set_config(void *opaque, uint32_t offset, uint32_t size,
			uint32_t flags, const uint8_t *buf)
{
	ENTER(VHOST_USER_SET_CONFIG);
	memcpy(d->config + offset, buf, size);
	d->set_cfg_offset = offset;
	d->set_cfg_size = size;
	d->set_cfg_flags = flags;
	return leave(d, 0);
}

static int t_reset_device(void *opaque)
{
	ENTER(VHOST_USER_RESET_DEVICE);
	d->status = 0;
	return leave(d, 0);
}

static int t_set_status(void *opaque, uint8_t status)
{
	ENTER(VHOST_USER_SET_STATUS);
	d->status = status;
	return leave(d, 0);
}

static int t_get_status(void *opaque, uint8_t *status)
{
	ENTER(VHOST_USER_GET_STATUS);
	*status = d->status;
	return leave(d, 0);
}

static int t_send_rarp(void *opaque, const uint8_t mac[6])
{
	ENTER(VHOST_USER_SEND_RARP);
	memcpy(d->mac, mac, 6);
	return leave(d, 0);
}

static int t_net_set_mtu(void *opaque, uint16_t mtu)
{
	ENTER(VHOST_USER_NET_SET_MTU);
	d->mtu = mtu;
	return leave(d, 0);
}

static int t_iotlb_msg(void *opaque, const struct vhost_user_iotlb *msg)
{
	ENTER(VHOST_USER_IOTLB_MSG);
	d->iotlb = *msg;
	return leave(d, 0);
}

static int t_create_crypto_session(void *opaque, const void *in, size_t len,
				   void *out, size_t out_max, size_t *out_len)
{
	int64_t id = 42;

	(void)in;
	(void)out_max;
	ENTER(VHOST_USER_CREATE_CRYPTO_SESSION);
	/* Our test layout: the session id in the first 8 bytes. */
	memcpy(out, &id, sizeof(id));
	*out_len = len;
	return leave(d, 0);
}

static int t_close_crypto_session(void *opaque, uint64_t id)
{
	ENTER(VHOST_USER_CLOSE_CRYPTO_SESSION);
	d->closed_session = id;
	return leave(d, 0);
}

static int t_postcopy_advise(void *opaque, int *ufd)
{
	ENTER(VHOST_USER_POSTCOPY_ADVISE);
	/* Any fd stands in for the userfaultfd here. */
	*ufd = eventfd(0, EFD_CLOEXEC);
	return leave(d, *ufd < 0 ? -errno : 0);
}

static int t_postcopy_listen(void *opaque)
{
	ENTER(VHOST_USER_POSTCOPY_LISTEN);
	return leave(d, 0);
}

static int t_postcopy_end(void *opaque)
{
	ENTER(VHOST_USER_POSTCOPY_END);
	return leave(d, 0);
}

static int t_get_inflight_fd(void *opaque,
			     const struct vhost_user_inflight *req,
			     struct vhost_user_inflight *rep, int *fd_out)
{
	ENTER(VHOST_USER_GET_INFLIGHT_FD);
	*rep = *req;
	rep->mmap_size = 4096;
	rep->mmap_offset = 0;
	if (d->inflight_fd < 0) {
		d->inflight_fd = memfd_create("inflight", MFD_CLOEXEC);
		if (d->inflight_fd < 0 || ftruncate(d->inflight_fd, 4096) < 0)
			return leave(d, -errno);
	}
	*fd_out = dup(d->inflight_fd);
	return leave(d, *fd_out < 0 ? -errno : 0);
}

static int t_set_inflight_fd(void *opaque, const struct vhost_user_inflight *in,
			     int *fd)
{
	ENTER(VHOST_USER_SET_INFLIGHT_FD);
	d->inflight = *in;
	take(&d->inflight_set_fd, fd);
	return leave(d, 0);
}

static int t_gpu_set_socket(void *opaque, int *fd)
{
	ENTER(VHOST_USER_GPU_SET_SOCKET);
	take(&d->gpu_fd, fd);
	return leave(d, 0);
}

static int t_get_shared_object(void *opaque,
			       const struct vhost_user_shared *uuid,
			       int *fd_out)
{
	ENTER(VHOST_USER_GET_SHARED_OBJECT);
	/* Only the UUID that starts with 0x11 is known. */
	*fd_out = uuid->uuid[0] == 0x11 ? dup(d->shared_fd) : -1;
	return leave(d, 0);
}

static int t_set_device_state_fd(void *opaque, uint32_t direction,
				 uint32_t phase, int *fd, int *reply_fd)
{
	int sv[2];

	(void)phase;
	ENTER(VHOST_USER_SET_DEVICE_STATE_FD);
	d->state_dir = direction;
	take(&d->state_fd, fd);
	if (d->offer_state_fd) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
			return leave(d, -errno);
		*reply_fd = sv[0];
		d->state_reply_peer = sv[1];
	}
	return leave(d, 0);
}

static int t_check_device_state(void *opaque)
{
	ENTER(VHOST_USER_CHECK_DEVICE_STATE);
	return leave(d, 0);
}

static int t_get_shmem_config(void *opaque, struct vhost_user_shmem_config *out)
{
	ENTER(VHOST_USER_GET_SHMEM_CONFIG);
	out->nregions = 2;
	out->memory_sizes[0] = 1 << 20;
	out->memory_sizes[1] = 2 << 20;
	return leave(d, 0);
}

static void t_backend_channel_ready(void *opaque)
{
	struct tdev *d = opaque;

	pthread_mutex_lock(&d->lock);
	d->channel_ready = true;
	pthread_mutex_unlock(&d->lock);
}

static const struct vh_backend_ops tdev_ops = {
    .set_features = t_set_features,
    .set_protocol_features = t_set_protocol_features,
    .set_owner = t_set_owner,
    .reset_owner = t_reset_owner,
    .set_mem_table = t_set_mem_table,
    .add_mem_reg = t_add_mem_reg,
    .rem_mem_reg = t_rem_mem_reg,
    .set_log_base = t_set_log_base,
    .set_log_fd = t_set_log_fd,
    .set_vring_num = t_set_vring_num,
    .set_vring_addr = t_set_vring_addr,
    .set_vring_base = t_set_vring_base,
    .get_vring_base = t_get_vring_base,
    .set_vring_kick = t_set_vring_kick,
    .set_vring_call = t_set_vring_call,
    .set_vring_err = t_set_vring_err,
    .set_vring_enable = t_set_vring_enable,
    .set_vring_endian = t_set_vring_endian,
    .vring_kick = t_vring_kick,
    .get_config = t_get_config,
    .set_config = t_set_config,
    .reset_device = t_reset_device,
    .set_status = t_set_status,
    .get_status = t_get_status,
    .send_rarp = t_send_rarp,
    .net_set_mtu = t_net_set_mtu,
    .iotlb_msg = t_iotlb_msg,
    .create_crypto_session = t_create_crypto_session,
    .close_crypto_session = t_close_crypto_session,
    .postcopy_advise = t_postcopy_advise,
    .postcopy_listen = t_postcopy_listen,
    .postcopy_end = t_postcopy_end,
    .get_inflight_fd = t_get_inflight_fd,
    .set_inflight_fd = t_set_inflight_fd,
    .gpu_set_socket = t_gpu_set_socket,
    .get_shared_object = t_get_shared_object,
    .set_device_state_fd = t_set_device_state_fd,
    .check_device_state = t_check_device_state,
    .get_shmem_config = t_get_shmem_config,
    .backend_channel_ready = t_backend_channel_ready,
};

void tdev_init(struct tdev *d)
{
	unsigned i;

	memset(d, 0, sizeof(*d));
	pthread_mutex_init(&d->lock, NULL);
	for (i = 0; i < VHOST_USER_MEM_TABLE_MAX_REGIONS; i++)
		d->mem_fds[i] = -1;
	d->reg_fd = d->log_fd = d->log_ev_fd = d->gpu_fd = -1;
	d->inflight_fd = d->inflight_set_fd = d->state_fd = -1;
	d->state_reply_peer = -1;
	for (i = 0; i < TDEV_QUEUES; i++)
		d->kick[i] = d->call[i] = d->err[i] = -2;
	for (i = 0; i < TDEV_CONFIG_SIZE; i++)
		d->config[i] = (uint8_t)(0xa0 + i);
	d->shared_fd = make_memfd(4096);
}

static void close_if(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void tdev_fini(struct tdev *d)
{
	unsigned i;

	for (i = 0; i < VHOST_USER_MEM_TABLE_MAX_REGIONS; i++)
		close_if(&d->mem_fds[i]);
	close_if(&d->reg_fd);
	close_if(&d->log_fd);
	close_if(&d->log_ev_fd);
	close_if(&d->gpu_fd);
	close_if(&d->inflight_fd);
	close_if(&d->inflight_set_fd);
	close_if(&d->state_fd);
	close_if(&d->state_reply_peer);
	close_if(&d->shared_fd);
	for (i = 0; i < TDEV_QUEUES; i++) {
		close_if(&d->kick[i]);
		close_if(&d->call[i]);
		close_if(&d->err[i]);
	}
	pthread_mutex_destroy(&d->lock);
}

void tdev_backend_new(struct tdev *d, int fd, uint64_t pf,
		      struct vh_backend **out)
{
	struct vh_backend_config cfg = {
	    .features = TDEV_FEATURES,
	    .protocol_features = pf,
	    .num_queues = TDEV_QUEUES,
	    .max_mem_slots = TDEV_MEM_SLOTS,
	    .config_size = TDEV_CONFIG_SIZE,
	    .name = "tdev",
	    .ops = &tdev_ops,
	    .opaque = d,
	};

	assert_int_equal(vh_backend_new(out, fd, &cfg), 0);
}
