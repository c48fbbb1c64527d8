/* SPDX-License-Identifier: MIT */
/*
 * The device behind fuzz-backend (see device.h). Its choices follow a
 * seed from the input, so a crashing input replays the same way.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "../fuzz_stream.h"
#include "device.h"

struct dev dev;

static uint32_t rnd(void)
{
	/* xorshift32: the device's choices follow the input's seed. */
	dev.rng ^= dev.rng << 13;
	dev.rng ^= dev.rng >> 17;
	dev.rng ^= dev.rng << 5;
	return dev.rng;
}

static bool fail(void)
{
	return (rnd() & 7) < dev.fail_eighths;
}

static void put(int *slot)
{
	if (*slot >= 0)
		close(*slot);
	*slot = -1;
}

/* Keep *fd in *slot (closing what was there) or leave it to the
 * dispatcher, as the device's dice say. */
static void maybe_keep(int *slot, int *fd)
{
	if (*fd < 0 || (rnd() & 3) == 0)
		return;
	put(slot);
	*slot = *fd;
	*fd = -1;
}

void dev_close_all(void)
{
	unsigned i, j;

	for (i = 0; i < NRINGS; i++)
		for (j = 0; j < 3; j++)
			put(&dev.ring_fd[i][j]);
	for (i = 0; i < VHOST_USER_MEM_TABLE_MAX_REGIONS; i++)
		put(&dev.mem_fd[i]);
	for (i = 0; i < NSLOTS; i++) {
		put(&dev.slot_fd[i]);
		dev.slot_used[i] = false;
	}
	put(&dev.log_fd);
	put(&dev.log_evt);
	put(&dev.inflight_fd);
	put(&dev.gpu_fd);
	put(&dev.state_fd);
}

void dev_init(uint8_t behaviour)
{
	memset(&dev, 0, sizeof(dev));
	memset(&dev.ring_fd, -1, sizeof(dev.ring_fd));
	memset(&dev.mem_fd, -1, sizeof(dev.mem_fd));
	memset(&dev.slot_fd, -1, sizeof(dev.slot_fd));
	dev.log_fd = dev.log_evt = dev.inflight_fd = dev.gpu_fd = dev.state_fd =
	    -1;
	dev.fail_eighths = behaviour & 7;
	dev.rng = 0x9e3779b9u ^ ((uint32_t)behaviour << 8);
}

/* Exercise the back-end channel sender from inside a callback, as a
 * device would (never waiting for an ack: this is the dispatcher's
 * thread). */
static void poke_channel(void)
{
	struct vhost_user_shared uuid = {{1, 2, 3}};
	int fd;

	switch (rnd() & 7) {
	case 0:
		vh_backend_send_config_change(dev.b, false);
		break;
	case 1:
		fd = fz_make_fd(FZ_FD_MEM, 0);
		vh_backend_send_host_notifier(dev.b, 0, 4096, 0, fd, false);
		close(fd);
		break;
	case 2:
		vh_backend_shared_object_add(dev.b, &uuid, false);
		break;
	default:
		break;
	}
}

static int d_set_features(void *o, uint64_t f)
{
	(void)o;
	(void)f;
	return fail() ? -EINVAL : 0;
}

static int d_set_pf(void *o, uint64_t pf)
{
	(void)o;
	(void)pf;
	return fail() ? -EINVAL : 0;
}

static int d_ok(void *o)
{
	(void)o;
	return fail() ? -EIO : 0;
}

static int d_reset(void *o)
{
	(void)o;
	dev_close_all();
	return 0;
}

static int d_set_mem_table(void *o, const struct vhost_user_mem_region *r,
			   unsigned n, int *fds)
{
	unsigned i;

	(void)o;
	(void)r;
	if (fail())
		return -ENOMEM;
	for (i = 0; i < VHOST_USER_MEM_TABLE_MAX_REGIONS; i++)
		put(&dev.mem_fd[i]);
	for (i = 0; i < n; i++)
		maybe_keep(&dev.mem_fd[i], &fds[i]);
	return 0;
}

static int d_add_mem_reg(void *o, const struct vhost_user_mem_region *r,
			 int *fd)
{
	unsigned i;

	(void)o;
	if (fail())
		return -ENOMEM;
	for (i = 0; i < NSLOTS; i++) {
		if (dev.slot_used[i])
			continue;
		dev.slot_used[i] = true;
		dev.slot_gpa[i] = r->guest_phys_addr;
		maybe_keep(&dev.slot_fd[i], fd);
		return 0;
	}
	return -ENOSPC;
}

static int d_rem_mem_reg(void *o, const struct vhost_user_mem_region *r)
{
	unsigned i;

	(void)o;
	for (i = 0; i < NSLOTS; i++) {
		if (dev.slot_used[i] && dev.slot_gpa[i] == r->guest_phys_addr) {
			dev.slot_used[i] = false;
			put(&dev.slot_fd[i]);
			return 0;
		}
	}
	return -ENOENT;
}

static int d_set_log_base(void *o, const struct vhost_user_log *l, int *fd)
{
	(void)o;
	(void)l;
	if (fail())
		return -EINVAL;
	maybe_keep(&dev.log_fd, fd);
	return 0;
}

static int d_set_log_fd(void *o, int *fd)
{
	(void)o;
	maybe_keep(&dev.log_evt, fd);
	return fail() ? -EINVAL : 0;
}

static int d_set_vring_num(void *o, uint32_t i, uint32_t num)
{
	(void)o;
	(void)i;
	return (num == 0 || num > 32768 || fail()) ? -EINVAL : 0;
}

static int d_set_vring_addr(void *o, const struct vhost_user_vring_addr *a)
{
	(void)o;
	(void)a;
	return fail() ? -EFAULT : 0;
}

static int d_set_vring_base(void *o, uint32_t i, uint32_t base)
{
	(void)o;
	if (i < NRINGS)
		dev.ring_base[i] = base;
	return fail() ? -EINVAL : 0;
}

static int d_get_vring_base(void *o, uint32_t i, uint32_t *base)
{
	(void)o;
	if (fail())
		return -EIO;
	*base = i < NRINGS ? dev.ring_base[i] : 0;
	return 0;
}

static int ring_file(uint32_t i, unsigned which, int *fd)
{
	if (i < NRINGS)
		maybe_keep(&dev.ring_fd[i][which], fd);
	return fail() ? -EINVAL : 0;
}

static int d_kick(void *o, uint32_t i, int *fd)
{
	(void)o;
	return ring_file(i, 0, fd);
}

static int d_call(void *o, uint32_t i, int *fd)
{
	(void)o;
	return ring_file(i, 1, fd);
}

static int d_err(void *o, uint32_t i, int *fd)
{
	(void)o;
	return ring_file(i, 2, fd);
}

static int d_enable(void *o, uint32_t i, bool on)
{
	(void)o;
	(void)i;
	if (on)
		poke_channel();
	return fail() ? -EINVAL : 0;
}

static int d_endian(void *o, uint32_t i, bool be)
{
	(void)o;
	(void)i;
	(void)be;
	return fail() ? -EINVAL : 0;
}

static int d_vring_kick(void *o, uint32_t i)
{
	(void)o;
	(void)i;
	return fail() ? -EINVAL : 0;
}

static int d_get_config(void *o, uint32_t off, uint32_t size, uint32_t fl,
			uint8_t *buf)
{
	(void)o;
	(void)fl;
	if (fail())
		return -EIO;
	memcpy(buf, dev.config + off, size);
	return 0;
}

static int d_set_config(void *o, uint32_t off, uint32_t size, uint32_t fl,
			const uint8_t *buf)
{
	(void)o;
	if (fl != VHOST_USER_CONFIG_FLAG_MIGRATION && off < 8)
		return -EPERM; /* a read-only field */
	memcpy(dev.config + off, buf, size);
	return 0;
}

static int d_set_status(void *o, uint8_t s)
{
	(void)o;
	dev.status = s;
	return fail() ? -EINVAL : 0;
}

static int d_get_status(void *o, uint8_t *s)
{
	(void)o;
	*s = dev.status;
	return fail() ? -EIO : 0;
}

static int d_rarp(void *o, const uint8_t mac[6])
{
	(void)o;
	(void)mac;
	return fail() ? -EINVAL : 0;
}

static int d_mtu(void *o, uint16_t mtu)
{
	(void)o;
	return mtu < 68 ? -EINVAL : 0;
}

static int d_iotlb(void *o, const struct vhost_user_iotlb *m)
{
	(void)o;
	(void)m;
	return fail() ? -EFAULT : 0;
}

static int d_crypto_create(void *o, const void *in, size_t in_len, void *out,
			   size_t out_max, size_t *out_len)
{
	uint64_t id = rnd();

	(void)o;
	(void)in;
	(void)in_len;
	if (fail())
		return -EINVAL;
	if (out_max >= sizeof(id))
		memcpy(out, &id, sizeof(id));
	(void)out_len;
	return 0;
}

static int d_crypto_close(void *o, uint64_t id)
{
	(void)o;
	(void)id;
	return fail() ? -ENOENT : 0;
}

static int d_postcopy_advise(void *o, int *ufd)
{
	(void)o;
	if (fail())
		return -ENOSYS;
	*ufd = fz_make_fd(FZ_FD_EVENT, 0); /* stands in for a userfaultfd */
	return 0;
}

static int d_get_inflight(void *o, const struct vhost_user_inflight *req,
			  struct vhost_user_inflight *rep, int *fd_out)
{
	uint64_t size;

	(void)o;
	size = (uint64_t)req->num_queues * (64u + 32u * req->queue_size);
	if (size > (1u << 20) || fail())
		return -ENOMEM;
	*fd_out = fz_make_fd(FZ_FD_MEM, 0);
	rep->mmap_size = size;
	rep->mmap_offset = 0;
	rep->num_queues = req->num_queues;
	rep->queue_size = req->queue_size;
	return 0;
}

static int d_set_inflight(void *o, const struct vhost_user_inflight *in,
			  int *fd)
{
	(void)o;
	(void)in;
	maybe_keep(&dev.inflight_fd, fd);
	return fail() ? -EINVAL : 0;
}

static int d_gpu(void *o, int *fd)
{
	(void)o;
	maybe_keep(&dev.gpu_fd, fd);
	return 0;
}

static int d_shared_object(void *o, const struct vhost_user_shared *u,
			   int *fd_out)
{
	(void)o;
	(void)u;
	switch (rnd() & 3) {
	case 0:
		return -ENOENT;
	case 1:
		return 0; /* not found: no fd */
	default:
		*fd_out = fz_make_fd(FZ_FD_MEM, 0);
		return 0;
	}
}

static int d_state_fd(void *o, uint32_t dir, uint32_t phase, int *fd,
		      int *reply_fd)
{
	(void)o;
	(void)dir;
	(void)phase;
	if (fail())
		return -EINVAL;
	if (rnd() & 1)
		*reply_fd = fz_make_fd(FZ_FD_SOCK, 0);
	else
		maybe_keep(&dev.state_fd, fd);
	return 0;
}

static int d_shmem_config(void *o, struct vhost_user_shmem_config *out)
{
	uint32_t i;

	(void)o;
	if (fail())
		return -EIO;
	out->nregions = rnd() & 3;
	for (i = 0; i < out->nregions; i++)
		out->memory_sizes[i] = (uint64_t)(i + 1) << 20;
	return 0;
}

static void d_channel_ready(void *o)
{
	(void)o;
	poke_channel();
}

const struct vh_backend_ops dev_full_ops = {
    .set_features = d_set_features,
    .set_protocol_features = d_set_pf,
    .set_owner = d_ok,
    .reset_owner = d_reset,
    .set_mem_table = d_set_mem_table,
    .add_mem_reg = d_add_mem_reg,
    .rem_mem_reg = d_rem_mem_reg,
    .set_log_base = d_set_log_base,
    .set_log_fd = d_set_log_fd,
    .set_vring_num = d_set_vring_num,
    .set_vring_addr = d_set_vring_addr,
    .set_vring_base = d_set_vring_base,
    .get_vring_base = d_get_vring_base,
    .set_vring_kick = d_kick,
    .set_vring_call = d_call,
    .set_vring_err = d_err,
    .set_vring_enable = d_enable,
    .set_vring_endian = d_endian,
    .vring_kick = d_vring_kick,
    .get_config = d_get_config,
    .set_config = d_set_config,
    .reset_device = d_reset,
    .set_status = d_set_status,
    .get_status = d_get_status,
    .send_rarp = d_rarp,
    .net_set_mtu = d_mtu,
    .iotlb_msg = d_iotlb,
    .create_crypto_session = d_crypto_create,
    .close_crypto_session = d_crypto_close,
    .postcopy_advise = d_postcopy_advise,
    .postcopy_listen = d_ok,
    .postcopy_end = d_ok,
    .get_inflight_fd = d_get_inflight,
    .set_inflight_fd = d_set_inflight,
    .gpu_set_socket = d_gpu,
    .get_shared_object = d_shared_object,
    .set_device_state_fd = d_state_fd,
    .check_device_state = d_ok,
    .get_shmem_config = d_shmem_config,
    .backend_channel_ready = d_channel_ready,
};

/* Most callbacks missing: the dispatcher's "not supported" paths. */
const struct vh_backend_ops dev_sparse_ops = {
    .set_mem_table = d_set_mem_table,
    .set_vring_num = d_set_vring_num,
    .set_vring_addr = d_set_vring_addr,
    .set_vring_kick = d_kick,
    .set_vring_call = d_call,
    .get_config = d_get_config,
    .get_inflight_fd = d_get_inflight,
    .set_inflight_fd = d_set_inflight,
};
