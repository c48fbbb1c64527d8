/* SPDX-License-Identifier: MIT */
/*
 * Split virtqueue, device side (virtio 1.2 §2.7). Barrier placement follows
 * the spec's driver steps (§2.7.13): the driver writes ring entries, then
 * (barrier) avail->idx; we read idx with acquire and only then the ring.
 * Symmetrically we write used entries, then (release) used->idx.
 */
#include <stddef.h>
#include <string.h>

#include "vq_priv.h"

static uint16_t *used_event(struct vh_virtq *vq)
{
	struct vh_vring_avail *av = vq->driver;

	return &av->ring[vq->size];
}

static uint16_t *avail_event(struct vh_virtq *vq)
{
	struct vh_vring_used *u = vq->device;

	return (uint16_t *)&u->ring[vq->size];
}

int vq_split_walk(struct vh_virtq *vq, const struct vh_mem_table *t,
		  struct vh_virtq_elem *e, uint16_t head)
{
	const uint8_t *tbl = vq->desc;
	uint64_t ind_gpa = 0;
	unsigned max = vq->size, i = head, count = 0;
	bool in_indirect = false, slow = false;

	for (;;) {
		struct vh_vring_desc d;
		enum vh_virtq_error err;

		/* §2.7.5.3.1: no chain longer than the queue size; inside an
		 * indirect table, no longer than the table. A loop ends here.
		 */
		if (++count > max)
			return vq_break(vq, VH_VIRTQ_E_CHAIN_LEN, i);
		/* Copy once, then check the copy: the driver may change the
		 * table under us. */
		if (slow) {
			if (vh_mem_read(t, ind_gpa + 16 * (uint64_t)i, &d,
					sizeof(d)))
				return vq_break(vq, VH_VIRTQ_E_INDIRECT_ADDR,
						i);
		} else {
			memcpy(&d, tbl + 16 * (size_t)i, sizeof(d));
		}
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			void *p;

			/* §2.7.5.3.1 Driver Requirements: Indirect
			 * Descriptors. */
			if (!vq->indirect)
				return vq_break(vq, VH_VIRTQ_E_INDIRECT_FEATURE,
						i);
			if (in_indirect)
				return vq_break(vq, VH_VIRTQ_E_INDIRECT_NESTED,
						i);
			if (d.flags & VIRTQ_DESC_F_NEXT)
				return vq_break(vq, VH_VIRTQ_E_INDIRECT_NEXT,
						i);
			if (d.len == 0 || d.len % 16 || d.len / 16 > 65536)
				return vq_break(vq, VH_VIRTQ_E_INDIRECT_LEN, i);
			err = vq_indirect_table(t, d.addr, d.len, &p, &slow);
			if (err)
				return vq_break(vq, err, i);
			/* §2.7.5.3.2: WRITE on this descriptor is ignored. */
			tbl = p;
			ind_gpa = d.addr;
			max = d.len / 16;
			i = 0;
			count = 0;
			in_indirect = true;
			continue;
		}
		err = vq_add_buf(vq, t, e, d.addr, d.len,
				 d.flags & VIRTQ_DESC_F_WRITE);
		if (err)
			return vq_break(vq, err, i);
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		i = d.next;
		if (i >= max)
			return vq_break(vq, VH_VIRTQ_E_NEXT_RANGE, i);
	}
}

/* Descriptors of a head this many avail entries ahead are prefetched: the
 * driver wrote them on its CPU, and reading them one pop later would wait
 * for the line each time. */
#define SPLIT_PREFETCH_AHEAD 4u

int vq_split_pop(struct vh_virtq *vq, const struct vh_mem_table *t,
		 struct vh_virtq_elem *e)
{
	struct vh_vring_avail *av = vq->driver;
	const struct vh_vring_desc *tbl = vq->desc;
	uint16_t head, mask = (uint16_t)(vq->size - 1);
	struct vh_vring_desc d;
	int rc;

	if (vq->last_avail == vq->shadow_avail) {
		/* Acquire pairs with the driver's barrier before its idx
		 * store (§2.7.13.3.1): the ring entries and descriptors we
		 * read next are at least as new as this idx. */
		uint16_t idx = vq_load16_acquire(&av->idx);

		/* §2.7.13: the ring holds at most size entries; a driver
		 * cannot be further ahead (and never goes back, §2.7.6.1). */
		if ((uint16_t)(idx - vq->last_avail) > vq->size)
			return vq_break(vq, VH_VIRTQ_E_AVAIL_IDX, idx);
		vq->shadow_avail = idx;
		if (idx == vq->last_avail)
			return 0;
		/* The first heads' descriptors, as the ones after them
		 * are prefetched by the pops before. */
		for (uint16_t k = 1; k < SPLIT_PREFETCH_AHEAD &&
				     k < (uint16_t)(idx - vq->last_avail);
		     k++) {
			uint16_t h = vq_load16(
			    &av->ring[(uint16_t)(vq->last_avail + k) & mask]);

			if (h < vq->size)
				__builtin_prefetch(&tbl[h]);
		}
	}
	if ((uint16_t)(vq->shadow_avail - vq->last_avail) >
	    SPLIT_PREFETCH_AHEAD) {
		uint16_t h =
		    vq_load16(&av->ring[(uint16_t)(vq->last_avail +
						   SPLIT_PREFETCH_AHEAD) &
					mask]);

		/* Only a hint: a bad index is checked when popped. */
		if (h < vq->size)
			__builtin_prefetch(&tbl[h]);
	}
	head = vq_load16(&av->ring[vq->last_avail & mask]);
	if (head >= vq->size)
		return vq_break(vq, VH_VIRTQ_E_HEAD_RANGE, head);
	vq_elem_reset(e);
	/* The common chain: one direct descriptor. Copy once, then check
	 * the copy (the driver may change the table under us). */
	memcpy(&d, &tbl[head], sizeof(d));
	if (!(d.flags & (VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_INDIRECT))) {
		enum vh_virtq_error err = vq_add_first(
		    vq, t, e, d.addr, d.len, d.flags & VIRTQ_DESC_F_WRITE);

		if (err)
			return vq_break(vq, err, head);
	} else {
		rc = vq_split_walk(vq, t, e, head);
		if (rc < 0)
			return rc;
	}
	e->id = head;
	e->slot = head;
	e->ndescs = 1;
	vq->last_avail++;
	vq->inuse++;
	if (vq->inflight)
		vq_inflight_split_pop(vq, head);
	/* While notifications are on, ask for a kick only once the driver
	 * moves past what we have consumed (as libvhost-user does); the
	 * caller still re-enables and re-checks before sleeping. */
	if (vq->event_idx && vq->notify_enabled)
		vq_store16(avail_event(vq), vq->last_avail);
	return 1;
}

int vq_split_push(struct vh_virtq *vq, const struct vh_mem_table *t,
		  struct vh_virtq_elem *const *elems, const uint32_t *lens,
		  unsigned n)
{
	struct vh_vring_used *u = vq->device;
	uint16_t idx = vq->used_idx, mask = (uint16_t)(vq->size - 1);
	bool log = vq_logging_ring(vq, t);

	for (unsigned k = 0; k < n; k++) {
		unsigned slot = (uint16_t)(idx + k) & mask;
		struct vh_vring_used_elem ue = {elems[k]->id, lens[k]};

		if (vq->inflight)
			vq_inflight_split_push_begin(vq, elems[k]->slot);
		memcpy(&u->ring[slot], &ue, sizeof(ue));
		if (log)
			vq_log_ring(vq, t,
				    offsetof(struct vh_vring_used, ring) +
					(uint64_t)slot * sizeof(ue),
				    sizeof(ue));
	}
	/* §2.7.8.2: len is set before idx. Release orders the entries (and
	 * the in-flight list) before the index the driver acquires. */
	vq_store16_release(&u->idx, (uint16_t)(idx + n));
	if (log)
		vq_log_ring(vq, t, offsetof(struct vh_vring_used, idx), 2);
	vq->used_idx = (uint16_t)(idx + n);
	if (vq->inflight)
		vq_inflight_split_push_end(vq, elems, n);
	return 0;
}

bool vq_split_should_notify(struct vh_virtq *vq)
{
	struct vh_vring_avail *av = vq->driver;
	uint16_t old = vq->signalled_used, now = vq->used_idx;
	bool valid = vq->signalled_valid;

	/* Our used idx store must be visible before we read the driver's
	 * flags / used_event: pairs with the driver's barrier between
	 * re-enabling notifications and re-reading used idx (§2.7.14). */
	vq_mb();
	if (vq->notify_on_empty && vq->shadow_avail == vq->last_avail)
		return true;
	vq->signalled_used = now;
	vq->signalled_valid = true;
	if (valid && old == now)
		return false;
	if (!vq->event_idx)
		/* §2.7.7.2: flags 0 means the device MUST notify. */
		return !(vq_load16(&av->flags) & VIRTQ_AVAIL_F_NO_INTERRUPT);
	if (!valid)
		return true;
	/* §2.7.7.2: notify when idx passed used_event. */
	return vh_vring_need_event(vq_load16(used_event(vq)), now, old);
}

bool vq_split_enable_notify(struct vh_virtq *vq)
{
	struct vh_vring_used *u = vq->device;
	struct vh_vring_avail *av = vq->driver;

	if (vq->event_idx)
		vq_store16(avail_event(vq), vq->shadow_avail);
	else
		vq_store16(&u->flags, 0);
	/* The store above must be visible before we re-read avail idx, or a
	 * driver that added a buffer in between and read the old flags never
	 * kicks (§2.7.13.4.1 is the driver's half of this barrier pair). */
	vq_mb();
	return vq_load16_acquire(&av->idx) != vq->last_avail;
}

void vq_split_disable_notify(struct vh_virtq *vq)
{
	struct vh_vring_used *u = vq->device;

	/* With EVENT_IDX, leaving avail_event behind is enough: the driver
	 * kicks only when crossing it (§2.7.10.2). */
	if (!vq->event_idx)
		vq_store16(&u->flags, VIRTQ_USED_F_NO_NOTIFY);
}

bool vq_split_has_avail(struct vh_virtq *vq)
{
	struct vh_vring_avail *av = vq->driver;

	if (vq->last_avail != vq->shadow_avail)
		return true;
	return vq_load16_acquire(&av->idx) != vq->last_avail;
}
