/* SPDX-License-Identifier: MIT */
/*
 * The vhost-user implementation of include/vhost/transport.h, over a
 * struct vh_frontend.
 */
#include <errno.h>
#include <string.h>

#include "vhost/frontend.h"
#include "vhost/log.h"
#include "vhost/proto.h"
#include "vhost/transport.h"

static struct vh_frontend *fe(struct vh_transport *t)
{
	return vh_transport_priv(t);
}

static const uint64_t pf_bit = UINT64_C(1) << VH_VHOST_USER_F_PROTOCOL_FEATURES;

static int vu_get_features(struct vh_transport *t, uint64_t *features)
{
	uint64_t v;
	int r = vh_frontend_get_features(fe(t), &v);

	/* Bit 30 is vhost-user's own business, not the device's. */
	if (r == 0)
		*features = v & ~pf_bit;
	return r;
}

static int vu_set_features(struct vh_transport *t, uint64_t features)
{
	/* Keep protocol features in force: leaving bit 30 out of
	 * SET_FEATURES would make the back-end enable every ring at once
	 * (vhost-user.rst "Ring states"). */
	if (vh_frontend_offered_features(fe(t)) & pf_bit)
		features |= pf_bit;
	return vh_frontend_set_features(fe(t), features);
}

static int vu_set_owner(struct vh_transport *t)
{
	return vh_frontend_set_owner(fe(t));
}

static int vu_reset_owner(struct vh_transport *t)
{
	return vh_frontend_reset_owner(fe(t));
}

static int vu_set_mem_table(struct vh_transport *t,
			    const struct vh_transport_region *rg, unsigned n)
{
	struct vhost_user_mem_region regions[VHOST_USER_MEM_TABLE_MAX_REGIONS];
	int fds[VHOST_USER_MEM_TABLE_MAX_REGIONS];
	unsigned i;

	if (n > VHOST_USER_MEM_TABLE_MAX_REGIONS)
		return -E2BIG;
	for (i = 0; i < n; i++) {
		regions[i].guest_phys_addr = rg[i].guest_phys_addr;
		regions[i].memory_size = rg[i].size;
		regions[i].userspace_addr = rg[i].user_addr;
		regions[i].mmap_offset = rg[i].mmap_offset;
		fds[i] = rg[i].fd;
	}
	return vh_frontend_set_mem_table(fe(t), regions, n, fds);
}

static int vu_set_log_base(struct vh_transport *t,
			   const struct vh_transport_log *log)
{
	struct vhost_user_log l = {.mmap_size = log->size,
				   .mmap_offset = log->offset};

	return vh_frontend_set_log_base(fe(t), &l, log->fd);
}

static int vu_set_log_fd(struct vh_transport *t, int fd)
{
	return vh_frontend_set_log_fd(fe(t), fd);
}

static int vu_set_vring_num(struct vh_transport *t, uint32_t index,
			    uint32_t num)
{
	return vh_frontend_set_vring_num(fe(t), index, num);
}

static int vu_set_vring_addr(struct vh_transport *t, uint32_t index,
			     const struct vh_transport_vring_addr *addr)
{
	struct vhost_user_vring_addr a;
	struct vh_transport_vring_addr u = *addr;
	bool iova = vh_virtio_has(vh_transport_features(t),
				  VH_VIRTIO_F_ACCESS_PLATFORM);
	bool gpa = vh_protocol_has(vh_frontend_protocol_features(fe(t)),
				   VHOST_USER_PROTOCOL_F_GPA_ADDRESSES);
	int r;

	/* SET_VRING_ADDR carries front-end user addresses, or IOVAs once
	 * VIRTIO_F_IOMMU_PLATFORM is negotiated ("A vring address
	 * description"), or GPAs with GPA_ADDRESSES. */
	if (!iova && !gpa) {
		r = vh_transport_translate_vring(t, index, addr, &u);
		if (r < 0) {
			vh_warn("vhost-user: ring %u: addresses not covered by "
				"the memory table (%s)",
				index, vh_strerror(r));
			return r == -EINVAL ? r : -EFAULT;
		}
	}
	memset(&a, 0, sizeof(a));
	a.index = index;
	a.flags = (u.flags & VH_TRANSPORT_VRING_F_LOG)
		      ? (1u << VHOST_VRING_F_LOG)
		      : 0;
	a.desc_user_addr = u.desc;
	a.avail_user_addr = u.avail;
	a.used_user_addr = u.used;
	a.log_guest_addr = u.log;
	return vh_frontend_set_vring_addr(fe(t), &a);
}

static int vu_set_vring_base(struct vh_transport *t, uint32_t index,
			     uint32_t base)
{
	return vh_frontend_set_vring_base(fe(t), index, base);
}

static int vu_get_vring_base(struct vh_transport *t, uint32_t index,
			     uint32_t *base)
{
	return vh_frontend_get_vring_base(fe(t), index, base);
}

static int vu_set_vring_kick(struct vh_transport *t, uint32_t index, int fd)
{
	return vh_frontend_set_vring_kick(fe(t), index, fd);
}

static int vu_set_vring_call(struct vh_transport *t, uint32_t index, int fd)
{
	return vh_frontend_set_vring_call(fe(t), index, fd);
}

static int vu_set_vring_err(struct vh_transport *t, uint32_t index, int fd)
{
	return vh_frontend_set_vring_err(fe(t), index, fd);
}

static int vu_set_vring_enable(struct vh_transport *t, uint32_t index,
			       bool enable)
{
	return vh_frontend_set_vring_enable(fe(t), index, enable);
}

static int vu_get_config(struct vh_transport *t, uint32_t offset, void *buf,
			 uint32_t len)
{
	return vh_frontend_get_config(fe(t), offset, len, 0, buf);
}

static int vu_set_config(struct vh_transport *t, uint32_t offset,
			 const void *buf, uint32_t len)
{
	return vh_frontend_set_config(fe(t), offset, len,
				      VHOST_USER_CONFIG_FLAG_WRITABLE, buf);
}

static int vu_set_status(struct vh_transport *t, uint8_t status)
{
	return vh_frontend_set_status(fe(t), status);
}

static int vu_get_status(struct vh_transport *t, uint8_t *status)
{
	return vh_frontend_get_status(fe(t), status);
}

static int vu_reset_device(struct vh_transport *t)
{
	return vh_frontend_reset_device(fe(t));
}

static int vu_get_queue_num(struct vh_transport *t, uint32_t *num)
{
	uint64_t v;
	int r = vh_frontend_get_queue_num(fe(t), &v);

	if (r == 0)
		*num = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
	return r;
}

static int vu_get_max_mem_slots(struct vh_transport *t, uint32_t *slots)
{
	uint64_t v;
	int r = vh_frontend_get_max_mem_slots(fe(t), &v);

	if (r == 0)
		*slots = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
	return r;
}

static void vu_destroy(struct vh_transport *t)
{
	vh_frontend_free(fe(t));
}

static const struct vh_transport_ops vhost_user_ops = {
    .kind = "vhost-user",
    .get_features = vu_get_features,
    .set_features = vu_set_features,
    .set_owner = vu_set_owner,
    .reset_owner = vu_reset_owner,
    .set_mem_table = vu_set_mem_table,
    .set_log_base = vu_set_log_base,
    .set_log_fd = vu_set_log_fd,
    .set_vring_num = vu_set_vring_num,
    .set_vring_addr = vu_set_vring_addr,
    .set_vring_base = vu_set_vring_base,
    .get_vring_base = vu_get_vring_base,
    .set_vring_kick = vu_set_vring_kick,
    .set_vring_call = vu_set_vring_call,
    .set_vring_err = vu_set_vring_err,
    .set_vring_enable = vu_set_vring_enable,
    .get_config = vu_get_config,
    .set_config = vu_set_config,
    .set_status = vu_set_status,
    .get_status = vu_get_status,
    .reset_device = vu_reset_device,
    .get_queue_num = vu_get_queue_num,
    .get_max_mem_slots = vu_get_max_mem_slots,
    .destroy = vu_destroy,
};

int vh_transport_vhost_user_new(struct vh_transport **out,
				struct vh_frontend *f)
{
	int r = vh_transport_create(out, &vhost_user_ops, f);

	if (r < 0)
		vh_frontend_free(f);
	return r;
}

struct vh_frontend *vh_transport_vhost_user_frontend(struct vh_transport *t)
{
	if (!t || vh_transport_kind(t) != vhost_user_ops.kind)
		return NULL;
	return fe(t);
}
