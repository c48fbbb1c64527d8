/* SPDX-License-Identifier: MIT */
/*
 * Driver side of a split virtqueue (virtio 1.2 §2.7.13 "Supplying Buffers
 * to The Device", §2.7.14 "Receiving Used Buffers From The Device").
 * The descriptor free list lives in q->next, never in ring memory.
 */
#include <errno.h>
#include <string.h>

#include "drv_priv.h"

static void put_desc(struct vh_drv_queue *q, uint16_t i, uint64_t addr,
		     uint32_t len, uint16_t flags, uint16_t next)
{
	struct vh_vring_desc d = {addr, len, flags, next};

	memcpy((uint8_t *)q->desc + 16 * (size_t)i, &d, sizeof(d));
}

static const struct vh_drv_buf *elem(const struct vh_drv_buf *out,
				     unsigned nout, const struct vh_drv_buf *in,
				     unsigned k)
{
	return k < nout ? &out[k] : &in[k - nout];
}

int drv_split_add(struct vh_drv_queue *q, const struct vh_drv_buf *out,
		  unsigned nout, const struct vh_drv_buf *in, unsigned nin,
		  bool indirect, void *token)
{
	struct vh_vring_avail *av = q->driver;
	unsigned n = nout + nin, need = indirect ? 1 : n;
	uint16_t head = q->free_head, i = head, last = head;

	if (q->num_free < need)
		return -ENOSPC;
	if (indirect) {
		uint64_t tgpa;
		uint8_t *tbl = drv_indirect(q, head, &tgpa);

		for (unsigned k = 0; k < n; k++) {
			const struct vh_drv_buf *b = elem(out, nout, in, k);
			struct vh_vring_desc d = {
			    b->gpa, b->len,
			    (uint16_t)((k >= nout ? VIRTQ_DESC_F_WRITE : 0) |
				       (k + 1 < n ? VIRTQ_DESC_F_NEXT : 0)),
			    (uint16_t)(k + 1)};

			memcpy(tbl + 16 * (size_t)k, &d, sizeof(d));
		}
		put_desc(q, head, tgpa, n * 16, VIRTQ_DESC_F_INDIRECT, 0);
		i = q->next[head];
	} else {
		for (unsigned k = 0; k < n; k++) {
			const struct vh_drv_buf *b = elem(out, nout, in, k);
			uint16_t f = k >= nout ? VIRTQ_DESC_F_WRITE : 0;

			if (k + 1 < n)
				f |= VIRTQ_DESC_F_NEXT;
			put_desc(q, i, b->gpa, b->len, f, q->next[i]);
			last = i;
			i = q->next[i];
		}
	}
	q->free_head = i;
	q->num_free -= need;
	q->state[head] = (struct drv_state){token, (uint16_t)need, last, true};
	vq_store16(&av->ring[q->avail_idx & (q->size - 1)], head);
	q->avail_idx++;
	return 0;
}

bool drv_split_kick_prepare(struct vh_drv_queue *q)
{
	struct vh_vring_avail *av = q->driver;
	struct vh_vring_used *u = q->device;
	uint16_t old = q->published, now = q->avail_idx;

	/* §2.7.13.3.1: ring entries and descriptors before the idx. */
	vq_store16_release(&av->idx, now);
	q->published = now;
	/* §2.7.13.4.1: idx visible before reading flags / avail_event. */
	vq_mb();
	if (old == now)
		return false;
	if (q->cfg.event_idx)
		return vh_vring_need_event(
		    vq_load16((uint16_t *)&u->ring[q->size]), now, old);
	return !(vq_load16(&u->flags) & VIRTQ_USED_F_NO_NOTIFY);
}

int drv_split_get_used(struct vh_drv_queue *q, void **token, uint32_t *len)
{
	struct vh_vring_used *u = q->device;
	struct vh_vring_avail *av = q->driver;
	struct vh_vring_used_elem ue;
	struct drv_state *s;

	if (vq_load16_acquire(&u->idx) == q->last_used)
		return 0;
	memcpy(&ue, &u->ring[q->last_used & (q->size - 1)], sizeof(ue));
	if (ue.id >= q->size || !q->state[ue.id].busy)
		return -EIO;
	s = &q->state[ue.id];
	q->next[s->last] = q->free_head;
	q->free_head = (uint16_t)ue.id;
	q->num_free += s->ndescs;
	s->busy = false;
	*token = s->token;
	*len = ue.len;
	q->last_used++;
	/* Want an interrupt for the next entry (as Linux virtio_ring). */
	if (q->cfg.event_idx && q->cb_enabled)
		vq_store16(&av->ring[q->size], q->last_used);
	return 1;
}

bool drv_split_enable_cb(struct vh_drv_queue *q)
{
	struct vh_vring_avail *av = q->driver;
	struct vh_vring_used *u = q->device;

	if (q->cfg.event_idx)
		vq_store16(&av->ring[q->size], q->last_used);
	else
		vq_store16(&av->flags, 0);
	vq_mb();
	return vq_load16_acquire(&u->idx) != q->last_used;
}

void drv_split_disable_cb(struct vh_drv_queue *q)
{
	struct vh_vring_avail *av = q->driver;

	/* §2.7.7.1: with EVENT_IDX flags stay 0; used_event just stops
	 * moving. */
	if (!q->cfg.event_idx)
		vq_store16(&av->flags, VIRTQ_AVAIL_F_NO_INTERRUPT);
}
