/* SPDX-License-Identifier: MIT */
/*
 * Packed virtqueue, device side (virtio 1.2 §2.8). A descriptor is
 * available when its AVAIL bit equals our avail wrap counter and its USED
 * bit does not (§2.8.1). The driver exposes a chain by writing its first
 * descriptor's flags last (§2.8.6), so one acquire load of those flags
 * orders every read of the chain after it.
 */
#include <string.h>

#include "vq_priv.h"

static bool desc_avail(uint16_t flags, bool wrap)
{
	bool a = flags & VIRTQ_DESC_F_AVAIL;
	bool u = flags & VIRTQ_DESC_F_USED;

	return a == wrap && u != wrap;
}

static void advance(const struct vh_virtq *vq, uint16_t *i, bool *wrap,
		    unsigned by)
{
	unsigned n = *i + by;

	if (n >= vq->size) {
		n -= vq->size;
		*wrap = !*wrap;
	}
	*i = (uint16_t)n;
}

/* Walk the indirect table @d refers to (§2.8.7: entries in sequence). */
static int walk_indirect(struct vh_virtq *vq, const struct vh_mem_table *t,
			 struct vh_virtq_elem *e,
			 const struct vh_vring_packed_desc *d, unsigned where)
{
	enum vh_virtq_error err;
	bool slow;
	void *tbl;

	if (!vq->indirect)
		return vq_break(vq, VH_VIRTQ_E_INDIRECT_FEATURE, where);
	if (d->len == 0 || d->len % 16 || d->len / 16 > 65536)
		return vq_break(vq, VH_VIRTQ_E_INDIRECT_LEN, where);
	err = vq_indirect_table(t, d->addr, d->len, &tbl, &slow);
	if (err)
		return vq_break(vq, err, where);
	for (unsigned k = 0; k < d->len / 16; k++) {
		struct vh_vring_packed_desc x;

		if (slow) {
			if (vh_mem_read(t, d->addr + 16 * (uint64_t)k, &x,
					sizeof(x)))
				return vq_break(vq, VH_VIRTQ_E_INDIRECT_ADDR,
						k);
		} else {
			memcpy(&x, (uint8_t *)tbl + 16 * (size_t)k, sizeof(x));
		}
		/* §2.8.19: only WRITE is valid inside an indirect table;
		 * an INDIRECT there is refused, other bits are ignored. */
		if (x.flags & VIRTQ_DESC_F_INDIRECT)
			return vq_break(vq, VH_VIRTQ_E_INDIRECT_NESTED, k);
		err = vq_add_buf(vq, t, e, x.addr, x.len,
				 x.flags & VIRTQ_DESC_F_WRITE);
		if (err)
			return vq_break(vq, err, k);
	}
	return 0;
}

/* One descriptor of a list (from the ring or the in-flight region). */
static int take_desc(struct vh_virtq *vq, const struct vh_mem_table *t,
		     struct vh_virtq_elem *e,
		     const struct vh_vring_packed_desc *d, unsigned count,
		     unsigned where)
{
	enum vh_virtq_error err;

	if (d->flags & VIRTQ_DESC_F_INDIRECT) {
		/* §2.8.19: no INDIRECT in a list linked by NEXT. */
		if ((d->flags & VIRTQ_DESC_F_NEXT) || count > 1)
			return vq_break(vq, VH_VIRTQ_E_INDIRECT_NEXT, where);
		return walk_indirect(vq, t, e, d, where);
	}
	err = vq_add_buf(vq, t, e, d->addr, d->len,
			 d->flags & VIRTQ_DESC_F_WRITE);
	return err ? vq_break(vq, err, where) : 0;
}

int vq_packed_pop(struct vh_virtq *vq, const struct vh_mem_table *t,
		  struct vh_virtq_elem *e)
{
	struct vh_vring_packed_desc *ring = vq->desc, d;
	uint16_t i = vq->last_avail, slot = 0;
	bool wrap = vq->avail_wrap;
	unsigned count = 0;
	uint16_t flags = vq_load16_acquire(&ring[i].flags);

	if (!desc_avail(flags, wrap))
		return 0;
	vq_elem_reset(e);
	for (;;) {
		int rc;

		/* §2.8.17: no list longer than the queue size. */
		if (++count > vq->size)
			return vq_break(vq, VH_VIRTQ_E_CHAIN_LEN, i);
		if (count > 1) {
			/* §2.8.6: every descriptor of a list carries the
			 * AVAIL/USED bits, not just the first. */
			flags = vq_load16_acquire(&ring[i].flags);
			if (!desc_avail(flags, wrap))
				return vq_break(vq, VH_VIRTQ_E_DESC_NOT_AVAIL,
						i);
		}
		memcpy(&d, &ring[i], sizeof(d));
		d.flags = flags;
		if (vq->inflight)
			vq_inflight_packed_desc(vq, &d, count == 1,
						!(d.flags & VIRTQ_DESC_F_NEXT),
						&slot);
		if (count == 1 &&
		    !(d.flags & (VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT))) {
			/* The common chain: one direct descriptor. */
			enum vh_virtq_error err =
			    vq_add_first(vq, t, e, d.addr, d.len,
					 d.flags & VIRTQ_DESC_F_WRITE);

			rc = err ? vq_break(vq, err, i) : 0;
		} else {
			rc = take_desc(vq, t, e, &d, count, i);
		}
		if (rc < 0)
			return rc;
		advance(vq, &i, &wrap, 1);
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			break;
	}
	/* §2.8.6: the Buffer ID is in the last descriptor. */
	e->id = d.id;
	e->ndescs = (uint16_t)count;
	e->slot = slot;
	vq->last_avail = i;
	vq->avail_wrap = wrap;
	vq->inuse++;
	if (vq->event_idx && vq->notify_enabled) {
		struct vh_vring_event *dev = vq->device;

		vq_store16(&dev->off_wrap,
			   (uint16_t)(i | (unsigned)wrap << 15));
	}
	return 1;
}

int vq_packed_resubmit(struct vh_virtq *vq, const struct vh_mem_table *t,
		       struct vh_virtq_elem *e, uint16_t slot)
{
	struct vh_inflight_packed *r = vq->inflight;
	uint16_t k = slot, num = r->desc[slot].num;

	/* The chain was bounds-checked when the region was recovered. */
	for (unsigned j = 0; j < num; j++) {
		struct vh_vring_packed_desc d = {
		    .addr = r->desc[k].addr,
		    .len = r->desc[k].len,
		    .id = r->desc[k].id,
		    .flags = r->desc[k].flags,
		};
		int rc = take_desc(vq, t, e, &d, j + 1, k);

		if (rc < 0)
			return rc;
		e->id = d.id;
		if (j + 1 < num)
			k = r->desc[k].next;
	}
	e->ndescs = num;
	e->slot = slot;
	return 0;
}

int vq_packed_push(struct vh_virtq *vq, const struct vh_mem_table *t,
		   struct vh_virtq_elem *const *elems, const uint32_t *lens,
		   unsigned n)
{
	struct vh_vring_packed_desc *ring = vq->desc;
	uint16_t pos = vq->used_idx, first = pos, first_flags = 0;
	bool w = vq->used_wrap;
	bool log = vq_logging_ring(vq, t);

	for (unsigned k = 0; k < n; k++) {
		/* §2.8.3: WRITE in a used descriptor says data was written. */
		uint16_t f = (lens[k] ? VIRTQ_DESC_F_WRITE : 0) |
			     (w ? VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED : 0);

		if (vq->inflight)
			vq_inflight_packed_push_begin(vq, elems[k]->slot);
		ring[pos].id = elems[k]->id;
		ring[pos].len = lens[k];
		if (k == 0)
			first_flags = f;
		else
			vq_store16_release(&ring[pos].flags, f);
		advance(vq, &pos, &w, elems[k]->ndescs);
	}
	vq->used_idx = pos;
	vq->used_wrap = w;
	if (vq->inflight)
		vq_inflight_packed_push_used(vq);
	/* The driver polls the first position: making it used last, with
	 * release, exposes the whole batch at once. */
	vq_store16_release(&ring[first].flags, first_flags);
	pos = first;
	for (unsigned k = 0; log && k < n; k++) {
		vq_log_ring(vq, t, 16 * (uint64_t)pos, 16);
		advance(vq, &pos, &w, elems[k]->ndescs);
	}
	if (vq->inflight)
		vq_inflight_packed_push_end(vq, elems, n);
	return 0;
}

/* Position on the 2 * size cycle, so wrap-around compares simply. */
static unsigned lin(const struct vh_virtq *vq, unsigned pos, bool wrap)
{
	return pos + (wrap ? 0u : vq->size);
}

bool vq_packed_should_notify(struct vh_virtq *vq)
{
	struct vh_vring_event *drv = vq->driver;
	struct vh_vring_packed_desc *ring = vq->desc;
	uint16_t old = vq->signalled_used, now = vq->used_idx;
	bool oldw = vq->signalled_wrap, noww = vq->used_wrap;
	bool valid = vq->signalled_valid;
	unsigned n2 = 2u * vq->size, o, nw, ev, off;
	uint16_t flags, off_wrap;

	/* Used flags before the driver's event structure (§2.8.10). */
	vq_mb();
	if (vq->notify_on_empty &&
	    !desc_avail(vq_load16(&ring[vq->last_avail].flags), vq->avail_wrap))
		return true;
	vq->signalled_used = now;
	vq->signalled_wrap = noww;
	vq->signalled_valid = true;
	if (valid && old == now && oldw == noww)
		return false;
	flags = vq_load16_acquire(&drv->flags) & 3;
	if (flags == RING_EVENT_FLAGS_DISABLE)
		return false;
	/* ENABLE, DESC without EVENT_IDX, or the reserved value 3. */
	if (flags != RING_EVENT_FLAGS_DESC || !vq->event_idx || !valid)
		return true;
	off_wrap = vq_load16(&drv->off_wrap);
	off = off_wrap & 0x7fffu;
	if (off >= vq->size)
		return true;
	/* Notify when a used descriptor went to (off, wrap) since the last
	 * check: its position lies in [old, now) on the 2*size cycle. */
	o = lin(vq, old, oldw);
	nw = lin(vq, now, noww);
	ev = lin(vq, off, off_wrap >> 15);
	return (ev + n2 - o) % n2 < (nw + n2 - o) % n2;
}

bool vq_packed_enable_notify(struct vh_virtq *vq)
{
	struct vh_vring_event *dev = vq->device;

	if (vq->event_idx) {
		vq_store16(&dev->off_wrap,
			   (uint16_t)(vq->last_avail | (unsigned)vq->avail_wrap
							   << 15));
		vq_store16_release(&dev->flags, RING_EVENT_FLAGS_DESC);
	} else {
		vq_store16(&dev->flags, RING_EVENT_FLAGS_ENABLE);
	}
	/* Event structure before re-reading the ring (lost-kick race). */
	vq_mb();
	return vq_packed_has_avail(vq);
}

void vq_packed_disable_notify(struct vh_virtq *vq)
{
	struct vh_vring_event *dev = vq->device;

	vq_store16(&dev->flags, RING_EVENT_FLAGS_DISABLE);
}

bool vq_packed_has_avail(struct vh_virtq *vq)
{
	struct vh_vring_packed_desc *ring = vq->desc;

	return desc_avail(vq_load16_acquire(&ring[vq->last_avail].flags),
			  vq->avail_wrap);
}
