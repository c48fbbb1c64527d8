/* SPDX-License-Identifier: MIT */
/*
 * Driver side of a packed virtqueue (virtio 1.2 §2.8.21 "Supplying Buffers
 * to The Device", §2.8.22 "Receiving Used Buffers From The Device"). Buffer
 * IDs come from a free list in q->next.
 */
#include <errno.h>
#include <string.h>

#include "drv_priv.h"

static uint16_t avail_bits(bool wrap)
{
	return wrap ? VIRTQ_DESC_F_AVAIL : VIRTQ_DESC_F_USED;
}

static void step(const struct vh_drv_queue *q, uint16_t *i, bool *wrap,
		 unsigned by)
{
	unsigned n = *i + by;

	if (n >= q->size) {
		n -= q->size;
		*wrap = !*wrap;
	}
	*i = (uint16_t)n;
}

int drv_packed_add(struct vh_drv_queue *q, const struct vh_drv_buf *out,
		   unsigned nout, const struct vh_drv_buf *in, unsigned nin,
		   bool indirect, void *token)
{
	struct vh_vring_packed_desc *ring = q->desc;
	unsigned n = nout + nin, need = indirect ? 1 : n;
	uint16_t id = q->free_head, first = q->next_avail, first_flags = 0;

	if (q->num_free < need || id >= q->size)
		return -ENOSPC;
	if (indirect) {
		uint64_t tgpa;
		uint8_t *tbl = drv_indirect(q, id, &tgpa);

		for (unsigned k = 0; k < n; k++) {
			const struct vh_drv_buf *b =
			    k < nout ? &out[k] : &in[k - nout];
			/* §2.8.7: WRITE is the only flag in the table. */
			struct vh_vring_packed_desc d = {
			    b->gpa, b->len, 0,
			    (uint16_t)(k >= nout ? VIRTQ_DESC_F_WRITE : 0)};

			memcpy(tbl + 16 * (size_t)k, &d, sizeof(d));
		}
		ring[first].addr = tgpa;
		ring[first].len = n * 16;
		ring[first].id = id;
		first_flags = VIRTQ_DESC_F_INDIRECT | avail_bits(q->avail_wrap);
		step(q, &q->next_avail, &q->avail_wrap, 1);
	} else {
		for (unsigned k = 0; k < n; k++) {
			const struct vh_drv_buf *b =
			    k < nout ? &out[k] : &in[k - nout];
			uint16_t i = q->next_avail;
			uint16_t f = (k >= nout ? VIRTQ_DESC_F_WRITE : 0) |
				     (k + 1 < n ? VIRTQ_DESC_F_NEXT : 0) |
				     avail_bits(q->avail_wrap);

			ring[i].addr = b->gpa;
			ring[i].len = b->len;
			ring[i].id = id;
			/* §2.8.6: the first one is made available last. */
			if (k == 0)
				first_flags = f;
			else
				vq_store16_release(&ring[i].flags, f);
			step(q, &q->next_avail, &q->avail_wrap, 1);
		}
	}
	q->free_head = q->next[id];
	q->num_free -= need;
	q->state[id] = (struct drv_state){token, (uint16_t)need, 0, true};
	/* §2.8.21.1: barrier before the flags update. */
	vq_store16_release(&ring[first].flags, first_flags);
	return 0;
}

static unsigned lin(const struct vh_drv_queue *q, unsigned pos, bool wrap)
{
	return pos + (wrap ? 0u : q->size);
}

bool drv_packed_kick_prepare(struct vh_drv_queue *q)
{
	struct vh_vring_event *dev = q->device;
	uint16_t old = q->kicked, now = q->next_avail;
	bool oldw = q->kicked_wrap, noww = q->avail_wrap;
	unsigned n2 = 2u * q->size, off;
	uint16_t flags, off_wrap;

	/* §2.8.21.3.1: descriptors before reading the device event. */
	vq_mb();
	q->kicked = now;
	q->kicked_wrap = noww;
	if (old == now && oldw == noww)
		return false;
	flags = vq_load16_acquire(&dev->flags) & 3;
	if (flags == RING_EVENT_FLAGS_DISABLE)
		return false;
	if (flags != RING_EVENT_FLAGS_DESC || !q->cfg.event_idx)
		return true;
	off_wrap = vq_load16(&dev->off_wrap);
	off = off_wrap & 0x7fffu;
	if (off >= q->size)
		return true;
	return (lin(q, off, off_wrap >> 15) + n2 - lin(q, old, oldw)) % n2 <
	       (lin(q, now, noww) + n2 - lin(q, old, oldw)) % n2;
}

static bool is_used(uint16_t flags, bool wrap)
{
	bool a = flags & VIRTQ_DESC_F_AVAIL, u = flags & VIRTQ_DESC_F_USED;

	return a == u && u == wrap;
}

static void set_event(struct vh_drv_queue *q)
{
	struct vh_vring_event *drv = q->driver;

	vq_store16(&drv->off_wrap,
		   (uint16_t)(q->next_used | (unsigned)q->used_wrap << 15));
}

int drv_packed_get_used(struct vh_drv_queue *q, void **token, uint32_t *len)
{
	struct vh_vring_packed_desc *ring = q->desc;
	uint16_t flags = vq_load16_acquire(&ring[q->next_used].flags);
	struct drv_state *s;
	uint16_t id;

	if (!is_used(flags, q->used_wrap))
		return 0;
	id = ring[q->next_used].id;
	if (id >= q->size || !q->state[id].busy)
		return -EIO;
	s = &q->state[id];
	*token = s->token;
	*len = ring[q->next_used].len;
	/* §2.8.6: skip the rest of the list to the next used slot. */
	step(q, &q->next_used, &q->used_wrap, s->ndescs);
	q->num_free += s->ndescs;
	s->busy = false;
	q->next[id] = q->free_head;
	q->free_head = id;
	if (q->cfg.event_idx && q->cb_enabled)
		set_event(q);
	return 1;
}

bool drv_packed_enable_cb(struct vh_drv_queue *q)
{
	struct vh_vring_event *drv = q->driver;
	struct vh_vring_packed_desc *ring = q->desc;

	if (q->cfg.event_idx) {
		set_event(q);
		vq_store16_release(&drv->flags, RING_EVENT_FLAGS_DESC);
	} else {
		vq_store16(&drv->flags, RING_EVENT_FLAGS_ENABLE);
	}
	vq_mb();
	return is_used(vq_load16_acquire(&ring[q->next_used].flags),
		       q->used_wrap);
}

void drv_packed_disable_cb(struct vh_drv_queue *q)
{
	struct vh_vring_event *drv = q->driver;

	vq_store16(&drv->flags, RING_EVENT_FLAGS_DISABLE);
}
