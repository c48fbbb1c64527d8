/* SPDX-License-Identifier: MIT */
/* Driver-side queue: set-up and the calls shared by split and packed. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "drv_priv.h"

static bool part_ok(const struct vh_drv_config *c, size_t off, size_t len,
		    unsigned align)
{
	return off <= c->mem_len && len <= c->mem_len - off &&
	       ((c->mem_gpa + off) & (align - 1)) == 0 &&
	       (((uintptr_t)c->mem + off) & (align - 1)) == 0;
}

int vh_drv_queue_new(const struct vh_drv_config *c, struct vh_drv_queue **out)
{
	struct vh_drv_queue *q;
	size_t dl, drl, dvl;

	*out = NULL;
	if (c->size == 0 || c->size > VH_VIRTQ_MAX_SIZE ||
	    (!c->packed && (c->size & (c->size - 1))) || !c->mem)
		return -EINVAL;
	vh_virtq_ring_sizes(c->size, c->packed, &dl, &drl, &dvl);
	if (!part_ok(c, c->desc_off, dl, 16) ||
	    !part_ok(c, c->driver_off, drl, c->packed ? 4 : 2) ||
	    !part_ok(c, c->device_off, dvl, 4))
		return -EINVAL;
	if (c->indirect &&
	    (c->indirect_max == 0 ||
	     !part_ok(c, c->indirect_off,
		      (size_t)c->size * c->indirect_max * 16, 16)))
		return -EINVAL;
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->state = calloc(c->size, sizeof(q->state[0]));
	q->next = calloc(c->size, sizeof(q->next[0]));
	if (!q->state || !q->next) {
		vh_drv_queue_free(q);
		return -ENOMEM;
	}
	q->cfg = *c;
	q->size = c->size;
	q->num_free = c->size;
	q->cb_enabled = true;
	q->desc = (uint8_t *)c->mem + c->desc_off;
	q->driver = (uint8_t *)c->mem + c->driver_off;
	q->device = (uint8_t *)c->mem + c->device_off;
	memset(q->desc, 0, dl);
	memset(q->driver, 0, drl);
	memset(q->device, 0, dvl);
	for (unsigned i = 0; i < c->size; i++)
		q->next[i] = (uint16_t)(i + 1);
	/* §2.8.1: both wrap counters start at 1. */
	q->avail_wrap = q->used_wrap = q->kicked_wrap = true;
	*out = q;
	return 0;
}

void vh_drv_queue_free(struct vh_drv_queue *q)
{
	if (!q)
		return;
	free(q->state);
	free(q->next);
	free(q);
}

void *drv_indirect(struct vh_drv_queue *q, uint16_t slot, uint64_t *gpa)
{
	size_t off =
	    q->cfg.indirect_off + (size_t)slot * q->cfg.indirect_max * 16;

	*gpa = q->cfg.mem_gpa + off;
	return (uint8_t *)q->cfg.mem + off;
}

int vh_drv_add(struct vh_drv_queue *q, const struct vh_drv_buf *out,
	       unsigned nout, const struct vh_drv_buf *in, unsigned nin,
	       bool indirect, void *token)
{
	unsigned n = nout + nin;

	if (n == 0 || n > q->size * 2u ||
	    (indirect && (!q->cfg.indirect || n > q->cfg.indirect_max)))
		return -EINVAL;
	return q->cfg.packed
		   ? drv_packed_add(q, out, nout, in, nin, indirect, token)
		   : drv_split_add(q, out, nout, in, nin, indirect, token);
}

bool vh_drv_kick_prepare(struct vh_drv_queue *q)
{
	return q->cfg.packed ? drv_packed_kick_prepare(q)
			     : drv_split_kick_prepare(q);
}

int vh_drv_get_used(struct vh_drv_queue *q, void **token, uint32_t *len)
{
	return q->cfg.packed ? drv_packed_get_used(q, token, len)
			     : drv_split_get_used(q, token, len);
}

bool vh_drv_enable_cb(struct vh_drv_queue *q)
{
	q->cb_enabled = true;
	return q->cfg.packed ? drv_packed_enable_cb(q) : drv_split_enable_cb(q);
}

void vh_drv_disable_cb(struct vh_drv_queue *q)
{
	q->cb_enabled = false;
	if (q->cfg.packed)
		drv_packed_disable_cb(q);
	else
		drv_split_disable_cb(q);
}

unsigned vh_drv_num_free(const struct vh_drv_queue *q)
{
	return q->num_free;
}

uint64_t vh_drv_desc_gpa(const struct vh_drv_queue *q)
{
	return q->cfg.mem_gpa + q->cfg.desc_off;
}

uint64_t vh_drv_driver_gpa(const struct vh_drv_queue *q)
{
	return q->cfg.mem_gpa + q->cfg.driver_off;
}

uint64_t vh_drv_device_gpa(const struct vh_drv_queue *q)
{
	return q->cfg.mem_gpa + q->cfg.device_off;
}
