/* SPDX-License-Identifier: MIT */
/*
 * The generic half of include/vhost/transport.h: dispatch through the ops
 * vtable, and the state every implementation needs to turn guest-physical
 * addresses into its device's (memory table, ring sizes, features).
 * Implementation-neutral: the kernel layer reuses it as is.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vhost/log.h"
#include "vhost/proto.h"
#include "vhost/transport.h"

struct tp_region {
	uint64_t gpa;
	uint64_t size;
	uint64_t uaddr;
};

struct vh_transport {
	const struct vh_transport_ops *ops;
	void *priv;
	uint64_t features;
	struct tp_region *regions;
	unsigned nregions; /* 0: no table yet */
	uint32_t *vring_num;
	uint32_t nvrings;
};

/* Rings a transport may address (the vhost-user limit, above the kernel's). */
#define TP_MAX_VRINGS VHOST_USER_MAX_VRINGS

int vh_transport_create(struct vh_transport **out,
			const struct vh_transport_ops *ops, void *priv)
{
	struct vh_transport *t;

	*out = NULL;
	if (!ops)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->ops = ops;
	t->priv = priv;
	*out = t;
	return 0;
}

void *vh_transport_priv(const struct vh_transport *t)
{
	return t->priv;
}

const char *vh_transport_kind(const struct vh_transport *t)
{
	return t->ops->kind ? t->ops->kind : "vhost";
}

uint64_t vh_transport_features(const struct vh_transport *t)
{
	return t->features;
}

uint32_t vh_transport_vring_num(const struct vh_transport *t, uint32_t index)
{
	return index < t->nvrings ? t->vring_num[index] : 0;
}

void vh_transport_free(struct vh_transport *t)
{
	if (!t)
		return;
	if (t->ops->destroy)
		t->ops->destroy(t);
	free(t->regions);
	free(t->vring_num);
	free(t);
}

/* ------------------------------------------------------------------------ */
/* Translation                                                              */
/* ------------------------------------------------------------------------ */

int vh_transport_translate(const struct vh_transport *t, uint64_t gpa,
			   uint64_t len, uint64_t *uaddr)
{
	unsigned i;

	if (t->nregions == 0)
		return -ENOENT;
	if (len == 0 || gpa + len < gpa)
		return -EFAULT;
	for (i = 0; i < t->nregions; i++) {
		const struct tp_region *r = &t->regions[i];

		if (gpa >= r->gpa && gpa - r->gpa < r->size &&
		    len <= r->size - (gpa - r->gpa)) {
			*uaddr = r->uaddr + (gpa - r->gpa);
			return 0;
		}
	}
	return -EFAULT;
}

int vh_transport_translate_vring(const struct vh_transport *t, uint32_t index,
				 const struct vh_transport_vring_addr *in,
				 struct vh_transport_vring_addr *out)
{
	uint64_t num = vh_transport_vring_num(t, index);
	uint64_t desc_len, avail_len, used_len;
	bool event_idx = vh_virtio_has(t->features, VH_VIRTIO_RING_F_EVENT_IDX);
	int r;

	if (num == 0)
		return -EINVAL;
	/* virtio 1.2 §2.7 (split) and §2.8 (packed) area sizes. */
	desc_len = 16 * num;
	if (vh_virtio_has(t->features, VH_VIRTIO_F_RING_PACKED)) {
		avail_len = 4;
		used_len = 4;
	} else {
		avail_len = 4 + 2 * num + (event_idx ? 2 : 0);
		used_len = 4 + 8 * num + (event_idx ? 2 : 0);
	}
	*out = *in;
	r = vh_transport_translate(t, in->desc, desc_len, &out->desc);
	if (r == 0)
		r = vh_transport_translate(t, in->avail, avail_len,
					   &out->avail);
	if (r == 0)
		r = vh_transport_translate(t, in->used, used_len, &out->used);
	return r;
}

static int check_table(const struct vh_transport_region *rg, unsigned n)
{
	unsigned i, j;

	if (n == 0 || !rg)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (rg[i].size == 0 ||
		    rg[i].guest_phys_addr + rg[i].size <
			rg[i].guest_phys_addr ||
		    rg[i].user_addr + rg[i].size < rg[i].user_addr)
			return -EINVAL;
		for (j = 0; j < i; j++)
			if (rg[i].guest_phys_addr <
				rg[j].guest_phys_addr + rg[j].size &&
			    rg[j].guest_phys_addr <
				rg[i].guest_phys_addr + rg[i].size)
				return -EINVAL;
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Dispatch                                                                 */
/* ------------------------------------------------------------------------ */

#define TP_CALL(t, op, ...) \
	((t)->ops->op ? (t)->ops->op((t), __VA_ARGS__) : -EOPNOTSUPP)
#define TP_CALL0(t, op) ((t)->ops->op ? (t)->ops->op(t) : -EOPNOTSUPP)

int vh_transport_get_features(struct vh_transport *t, uint64_t *features)
{
	return TP_CALL(t, get_features, features);
}

int vh_transport_set_features(struct vh_transport *t, uint64_t features)
{
	int r = TP_CALL(t, set_features, features);

	if (r == 0)
		t->features = features;
	return r;
}

int vh_transport_set_owner(struct vh_transport *t)
{
	return TP_CALL0(t, set_owner);
}

int vh_transport_reset_owner(struct vh_transport *t)
{
	return TP_CALL0(t, reset_owner);
}

int vh_transport_set_mem_table(struct vh_transport *t,
			       const struct vh_transport_region *regions,
			       unsigned n)
{
	struct tp_region *copy;
	unsigned i;
	int r;

	if (!t->ops->set_mem_table)
		return -EOPNOTSUPP;
	if (check_table(regions, n) < 0) {
		vh_warn("%s: memory table refused: empty, wrapping or "
			"overlapping regions",
			vh_transport_kind(t));
		return -EINVAL;
	}
	copy = calloc(n, sizeof(*copy));
	if (!copy)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		copy[i].gpa = regions[i].guest_phys_addr;
		copy[i].size = regions[i].size;
		copy[i].uaddr = regions[i].user_addr;
	}
	r = t->ops->set_mem_table(t, regions, n);
	if (r < 0) {
		free(copy);
		return r;
	}
	free(t->regions);
	t->regions = copy;
	t->nregions = n;
	return 0;
}

int vh_transport_set_log_base(struct vh_transport *t,
			      const struct vh_transport_log *log)
{
	return TP_CALL(t, set_log_base, log);
}

int vh_transport_set_log_fd(struct vh_transport *t, int fd)
{
	return TP_CALL(t, set_log_fd, fd);
}

static int record_num(struct vh_transport *t, uint32_t index, uint32_t num)
{
	uint32_t *grown;

	if (index >= t->nvrings) {
		grown = realloc(t->vring_num, (index + 1) * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		memset(grown + t->nvrings, 0,
		       (index + 1 - t->nvrings) * sizeof(*grown));
		t->vring_num = grown;
		t->nvrings = index + 1;
	}
	t->vring_num[index] = num;
	return 0;
}

int vh_transport_set_vring_num(struct vh_transport *t, uint32_t index,
			       uint32_t num)
{
	int r;

	if (!t->ops->set_vring_num)
		return -EOPNOTSUPP;
	if (index >= TP_MAX_VRINGS)
		return -ERANGE;
	/* Reserve the slot first so success is never followed by -ENOMEM. */
	r = record_num(t, index, vh_transport_vring_num(t, index));
	if (r < 0)
		return r;
	r = t->ops->set_vring_num(t, index, num);
	if (r == 0)
		t->vring_num[index] = num;
	return r;
}

int vh_transport_set_vring_addr(struct vh_transport *t, uint32_t index,
				const struct vh_transport_vring_addr *addr)
{
	return TP_CALL(t, set_vring_addr, index, addr);
}

int vh_transport_set_vring_base(struct vh_transport *t, uint32_t index,
				uint32_t base)
{
	return TP_CALL(t, set_vring_base, index, base);
}

int vh_transport_get_vring_base(struct vh_transport *t, uint32_t index,
				uint32_t *base)
{
	return TP_CALL(t, get_vring_base, index, base);
}

int vh_transport_set_vring_kick(struct vh_transport *t, uint32_t index, int fd)
{
	return TP_CALL(t, set_vring_kick, index, fd);
}

int vh_transport_set_vring_call(struct vh_transport *t, uint32_t index, int fd)
{
	return TP_CALL(t, set_vring_call, index, fd);
}

int vh_transport_set_vring_err(struct vh_transport *t, uint32_t index, int fd)
{
	return TP_CALL(t, set_vring_err, index, fd);
}

int vh_transport_set_vring_enable(struct vh_transport *t, uint32_t index,
				  bool enable)
{
	return TP_CALL(t, set_vring_enable, index, enable);
}

int vh_transport_get_config(struct vh_transport *t, uint32_t offset, void *buf,
			    uint32_t len)
{
	return TP_CALL(t, get_config, offset, buf, len);
}

int vh_transport_set_config(struct vh_transport *t, uint32_t offset,
			    const void *buf, uint32_t len)
{
	return TP_CALL(t, set_config, offset, buf, len);
}

int vh_transport_set_status(struct vh_transport *t, uint8_t status)
{
	return TP_CALL(t, set_status, status);
}

int vh_transport_get_status(struct vh_transport *t, uint8_t *status)
{
	return TP_CALL(t, get_status, status);
}

int vh_transport_reset_device(struct vh_transport *t)
{
	return TP_CALL0(t, reset_device);
}

int vh_transport_get_queue_num(struct vh_transport *t, uint32_t *num)
{
	return TP_CALL(t, get_queue_num, num);
}

int vh_transport_get_max_mem_slots(struct vh_transport *t, uint32_t *slots)
{
	return TP_CALL(t, get_max_mem_slots, slots);
}
