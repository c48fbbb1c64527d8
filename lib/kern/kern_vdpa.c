/* SPDX-License-Identifier: MIT */
/*
 * vhost-vdpa: device id, status, config space, ring enable and sizes,
 * IOVA range, virtqueue groups and address spaces, suspend and resume
 * (Linux drivers/vhost/vdpa.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kern_priv.h"

static int vdpa_want(struct vh_transport *t, const char *what, struct kern **k)
{
	return kern_want(t, VH_KERN_VDPA, what, k);
}

/* The vh_kern_vdpa_* getters of one u32 / u16. */
#define VDPA_GET(t, NAME, out)                                              \
	do {                                                                \
		struct kern *k_;                                            \
		int r_ = kern_want((t), VH_KERN_VDPA, "VHOST_" #NAME, &k_); \
		if (r_ < 0)                                                 \
			return r_;                                          \
		if (!(out))                                                 \
			return -EINVAL;                                     \
		return KIOC(k_, NAME, (out));                               \
	} while (0)

int vh_kern_vdpa_get_device_id(struct vh_transport *t, uint32_t *id)
{
	VDPA_GET(t, VDPA_GET_DEVICE_ID, id);
}

int vh_kern_vdpa_get_vring_num(struct vh_transport *t, uint16_t *num)
{
	VDPA_GET(t, VDPA_GET_VRING_NUM, num);
}

int vh_kern_vdpa_get_config_size(struct vh_transport *t, uint32_t *size)
{
	VDPA_GET(t, VDPA_GET_CONFIG_SIZE, size);
}

int vh_kern_vdpa_get_vqs_count(struct vh_transport *t, uint32_t *count)
{
	VDPA_GET(t, VDPA_GET_VQS_COUNT, count);
}

int vh_kern_vdpa_get_group_num(struct vh_transport *t, uint32_t *num)
{
	VDPA_GET(t, VDPA_GET_GROUP_NUM, num);
}

int vh_kern_vdpa_get_as_num(struct vh_transport *t, uint32_t *num)
{
	VDPA_GET(t, VDPA_GET_AS_NUM, num);
}

int vh_kern_vdpa_get_vring_size(struct vh_transport *t, uint32_t index,
				uint32_t *num)
{
	struct vh_k_vring_state st = {.index = index, .num = 0};
	struct kern *k;
	int r;

	r = vdpa_want(t, "VHOST_VDPA_GET_VRING_SIZE", &k);
	if (r < 0)
		return r;
	if (!num)
		return -EINVAL;
	r = KIOC_OPT(k, VDPA_GET_VRING_SIZE, index, &st);
	if (r == 0)
		*num = st.num;
	return r;
}

int vh_kern_vdpa_set_config_call(struct vh_transport *t, int fd)
{
	struct kern *k;
	int r = vdpa_want(t, "VHOST_VDPA_SET_CONFIG_CALL", &k);

	if (r < 0)
		return r;
	return KIOC(k, VDPA_SET_CONFIG_CALL, &fd);
}

int vh_kern_vdpa_get_iova_range(struct vh_transport *t, uint64_t *first,
				uint64_t *last)
{
	struct vh_k_vdpa_iova_range range = {0, 0};
	struct kern *k;
	int r;

	r = vdpa_want(t, "VHOST_VDPA_GET_IOVA_RANGE", &k);
	if (r < 0)
		return r;
	if (!first || !last)
		return -EINVAL;
	r = KIOC(k, VDPA_GET_IOVA_RANGE, &range);
	if (r == 0) {
		*first = range.first;
		*last = range.last;
		k->iova_known = true;
		k->iova_first = range.first;
		k->iova_last = range.last;
	}
	return r;
}

int vh_kern_vdpa_get_vring_group(struct vh_transport *t, uint32_t index,
				 uint32_t *group)
{
	struct vh_k_vring_state st = {.index = index, .num = 0};
	struct kern *k;
	int r;

	r = vdpa_want(t, "VHOST_VDPA_GET_VRING_GROUP", &k);
	if (r < 0)
		return r;
	if (!group)
		return -EINVAL;
	r = KIOC_RING(k, VDPA_GET_VRING_GROUP, index, &st);
	if (r == 0)
		*group = st.num;
	return r;
}

int vh_kern_vdpa_get_vring_desc_group(struct vh_transport *t, uint32_t index,
				      uint32_t *group)
{
	struct vh_k_vring_state st = {.index = index, .num = 0};
	struct kern *k;
	int r;

	r = vdpa_want(t, "VHOST_VDPA_GET_VRING_DESC_GROUP", &k);
	if (r < 0)
		return r;
	if (!group)
		return -EINVAL;
	r = KIOC_OPT(k, VDPA_GET_VRING_DESC_GROUP, index, &st);
	if (r == 0)
		*group = st.num;
	return r;
}

int vh_kern_vdpa_set_group_asid(struct vh_transport *t, uint32_t group,
				uint32_t asid)
{
	struct vh_k_vring_state st = {.index = group, .num = asid};
	struct kern *k;
	int r = vdpa_want(t, "VHOST_VDPA_SET_GROUP_ASID", &k);

	if (r < 0)
		return r;
	return KIOC(k, VDPA_SET_GROUP_ASID, &st);
}

/* SUSPEND / RESUME exist only where the backend feature says so: on a
 * kernel without them the ioctl would fall into the ring handler. */
static int suspend_resume(struct vh_transport *t, bool resume)
{
	const char *what = resume ? "VHOST_VDPA_RESUME" : "VHOST_VDPA_SUSPEND";
	unsigned bit = resume ? VH_K_BACKEND_F_RESUME : VH_K_BACKEND_F_SUSPEND;
	struct kern *k;
	int r;

	r = vdpa_want(t, what, &k);
	if (r < 0)
		return r;
	r = kern_vdpa_backend_ready(k);
	if (r < 0)
		return r;
	if (!(k->backend_acked & (UINT64_C(1) << bit))) {
		vh_err("%s %s: %s: the %s backend feature is not acknowledged "
		       "(the device does not offer it)",
		       kern_kind(k), k->name, what,
		       resume ? "RESUME" : "SUSPEND");
		return -EOPNOTSUPP;
	}
	return resume ? KIOC(k, VDPA_RESUME, NULL)
		      : KIOC(k, VDPA_SUSPEND, NULL);
}

int vh_kern_vdpa_suspend(struct vh_transport *t)
{
	return suspend_resume(t, false);
}

int vh_kern_vdpa_resume(struct vh_transport *t)
{
	return suspend_resume(t, true);
}

/* ------------------------------------------------------------------------ */
/* Transport ops                                                            */
/* ------------------------------------------------------------------------ */

int kern_vdpa_op_set_vring_enable(struct vh_transport *t, uint32_t index,
				  bool enable)
{
	struct vh_k_vring_state st = {.index = index, .num = enable};

	return KIOC_RING(vh_transport_priv(t), VDPA_SET_VRING_ENABLE, index,
			 &st);
}

/* Config accesses carry their data after a struct vh_k_vdpa_config. */
static int config_access(struct vh_transport *t, bool write, uint32_t offset,
			 void *buf, uint32_t len)
{
	struct kern *k = vh_transport_priv(t);
	struct vh_k_vdpa_config *c;
	int r;

	if (len == 0 || !buf || offset + len < offset)
		return -EINVAL;
	c = calloc(1, sizeof(*c) + len);
	if (!c)
		return -ENOMEM;
	c->off = offset;
	c->len = len;
	if (write) {
		memcpy(c->buf, buf, len);
		r = KIOC(k, VDPA_SET_CONFIG, c);
	} else {
		r = KIOC(k, VDPA_GET_CONFIG, c);
		if (r == 0)
			memcpy(buf, c->buf, len);
	}
	free(c);
	return r;
}

int kern_vdpa_op_get_config(struct vh_transport *t, uint32_t offset, void *buf,
			    uint32_t len)
{
	return config_access(t, false, offset, buf, len);
}

int kern_vdpa_op_set_config(struct vh_transport *t, uint32_t offset,
			    const void *buf, uint32_t len)
{
	return config_access(t, true, offset, (void *)buf, len);
}

int kern_vdpa_op_set_status(struct vh_transport *t, uint8_t status)
{
	return KIOC(vh_transport_priv(t), VDPA_SET_STATUS, &status);
}

int kern_vdpa_op_get_status(struct vh_transport *t, uint8_t *status)
{
	return KIOC(vh_transport_priv(t), VDPA_GET_STATUS, status);
}

int kern_vdpa_op_reset_device(struct vh_transport *t)
{
	uint8_t zero = 0;

	return KIOC(vh_transport_priv(t), VDPA_SET_STATUS, &zero);
}

int kern_vdpa_op_get_queue_num(struct vh_transport *t, uint32_t *num)
{
	return KIOC(vh_transport_priv(t), VDPA_GET_VQS_COUNT, num);
}
