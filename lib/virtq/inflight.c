/* SPDX-License-Identifier: MIT */
/*
 * In-flight I/O tracking (vhost-user.rst "Inflight I/O tracking",
 * INFLIGHT_SHMFD): the shared region records every fetched buffer until it
 * is used, so a restarted back-end resubmits what the dead one had taken.
 *
 * The region outlives this process: what matters is that our stores reach
 * it in program order, so each step of the spec's algorithm is separated by
 * a compiler barrier (a killed process's stores still reach memory).
 * Everything read back from the region is bounds-checked: the front-end
 * hands it to us and could have changed it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vhost/log.h"
#include "vq_priv.h"

#define INFLIGHT_VERSION 1

size_t vh_virtq_inflight_size(uint16_t queue_size, bool packed)
{
	size_t raw = packed ? sizeof(struct vh_inflight_packed) +
				  (size_t)queue_size *
				      sizeof(struct vh_inflight_desc_packed)
			    : sizeof(struct vh_inflight_split) +
				  (size_t)queue_size *
				      sizeof(struct vh_inflight_desc_split);

	return (raw + VH_INFLIGHT_ALIGN - 1) & ~(size_t)(VH_INFLIGHT_ALIGN - 1);
}

/* ---- split ------------------------------------------------------------ */

void vq_inflight_split_pop(struct vh_virtq *vq, uint16_t head)
{
	struct vh_inflight_split *r = vq->inflight;

	if (!r)
		return;
	r->desc[head].counter = vq->counter++;
	vq_cbarrier();
	r->desc[head].inflight = 1;
}

void vq_inflight_split_push_begin(struct vh_virtq *vq, uint16_t head)
{
	struct vh_inflight_split *r = vq->inflight;

	if (!r || head >= vq->size)
		return;
	r->desc[head].next = r->last_batch_head;
	r->last_batch_head = head;
	/* The used idx store that follows is a release: these come first. */
}

void vq_inflight_split_push_end(struct vh_virtq *vq,
				struct vh_virtq_elem *const *elems, unsigned n)
{
	struct vh_inflight_split *r = vq->inflight;

	if (!r)
		return;
	vq_cbarrier();
	for (unsigned k = 0; k < n; k++)
		if (elems[k]->slot < vq->size)
			r->desc[elems[k]->slot].inflight = 0;
	vq_cbarrier();
	r->used_idx = vq->used_idx;
}

static int cmp_counter(const void *a, const void *b)
{
	const struct vh_virtq_resubmit *x = a, *y = b;

	return x->counter < y->counter ? -1 : x->counter > y->counter;
}

static void finish_list(struct vh_virtq *vq, unsigned n)
{
	qsort(vq->resubmit, n, sizeof(vq->resubmit[0]), cmp_counter);
	vq->resubmit_num = n;
	vq->resubmit_pos = 0;
	vq->inuse = n;
	vq->counter = n ? vq->resubmit[n - 1].counter + 1 : 0;
}

static int recover_split(struct vh_virtq *vq)
{
	struct vh_inflight_split *r = vq->inflight;
	struct vh_vring_used *u = vq->device;
	uint16_t used = vq_load16_acquire(&u->idx);
	unsigned n = 0;

	/* A batch was being completed: its entries are used already. */
	if (r->used_idx != used) {
		uint16_t batch = (uint16_t)(used - r->used_idx);
		uint16_t i = r->last_batch_head;

		for (unsigned k = 0; k < batch && k < vq->size; k++) {
			if (i >= vq->size)
				break;
			r->desc[i].inflight = 0;
			i = r->desc[i].next;
		}
		vq_cbarrier();
		r->used_idx = used;
	}
	for (unsigned i = 0; i < vq->size; i++) {
		if (!r->desc[i].inflight)
			continue;
		vq->resubmit[n].head = (uint16_t)i;
		vq->resubmit[n].id = (uint16_t)i;
		vq->resubmit[n].counter = r->desc[i].counter;
		n++;
	}
	finish_list(vq, n);
	/* Everything fetched is either used or in flight. */
	vq->used_idx = used;
	vq->last_avail = (uint16_t)(used + n);
	vq->shadow_avail = vq->last_avail;
	return 0;
}

static void init_split(struct vh_virtq *vq)
{
	struct vh_inflight_split *r = vq->inflight;

	memset(r, 0, vh_virtq_inflight_size(vq->size, false));
	r->desc_num = vq->size;
	r->used_idx = vq->used_idx;
	vq_cbarrier();
	r->version = INFLIGHT_VERSION;
}

/* ---- packed ----------------------------------------------------------- */

void vq_inflight_packed_desc(struct vh_virtq *vq,
			     const struct vh_vring_packed_desc *d, bool first,
			     bool last, uint16_t *slot)
{
	struct vh_inflight_packed *r = vq->inflight;
	uint16_t ofh, fh;

	if (!r)
		return;
	ofh = r->old_free_head;
	fh = r->free_head;
	if (ofh >= vq->size || fh >= vq->size) {
		vh_warn("virtq %u: in-flight free list exhausted", vq->index);
		return;
	}
	if (first) {
		r->desc[ofh].num = 0;
		r->desc[ofh].counter = vq->counter++;
		vq_cbarrier();
		r->desc[ofh].inflight = 1;
		*slot = ofh;
	}
	if (last)
		r->desc[ofh].last = fh;
	r->desc[ofh].num++;
	r->desc[fh].addr = d->addr;
	r->desc[fh].len = d->len;
	r->desc[fh].flags = d->flags;
	r->desc[fh].id = d->id;
	vq_cbarrier();
	r->free_head = r->desc[fh].next;
	if (last) {
		vq_cbarrier();
		r->old_free_head = r->free_head;
	}
}

void vq_inflight_packed_push_begin(struct vh_virtq *vq, uint16_t slot)
{
	struct vh_inflight_packed *r = vq->inflight;
	uint16_t last;

	if (!r || slot >= vq->size)
		return;
	last = r->desc[slot].last;
	if (last >= vq->size)
		return;
	/* Give the list slot..last back to the free list. */
	r->desc[last].next = r->free_head;
	vq_cbarrier();
	r->free_head = slot;
}

void vq_inflight_packed_push_used(struct vh_virtq *vq)
{
	struct vh_inflight_packed *r = vq->inflight;

	if (!r)
		return;
	vq_cbarrier();
	r->used_idx = vq->used_idx;
	r->used_wrap_counter = vq->used_wrap;
	vq_cbarrier();
}

void vq_inflight_packed_push_end(struct vh_virtq *vq,
				 struct vh_virtq_elem *const *elems, unsigned n)
{
	struct vh_inflight_packed *r = vq->inflight;

	if (!r)
		return;
	vq_cbarrier();
	for (unsigned k = 0; k < n; k++)
		if (elems[k]->slot < vq->size)
			r->desc[elems[k]->slot].inflight = 0;
	vq_cbarrier();
	r->old_free_head = r->free_head;
	r->old_used_idx = r->used_idx;
	r->old_used_wrap_counter = r->used_wrap_counter;
}

static int recover_packed(struct vh_virtq *vq)
{
	struct vh_inflight_packed *r = vq->inflight;
	struct vh_vring_packed_desc *ring = vq->desc;
	unsigned n = 0, descs = 0, size = vq->size;
	uint16_t k;

	if (r->old_used_idx >= size || r->used_idx >= size)
		return -EINVAL;
	if (r->used_idx != r->old_used_idx ||
	    r->used_wrap_counter != r->old_used_wrap_counter) {
		/* Did the batch reach the driver? Its first used descriptor
		 * went to old_used_idx last: if that one no longer looks
		 * available for the old wrap counter, commit. */
		bool w = r->old_used_wrap_counter;
		uint16_t avail_flags =
		    w ? VIRTQ_DESC_F_AVAIL : VIRTQ_DESC_F_USED;
		uint16_t f = vq_load16_acquire(&ring[r->old_used_idx].flags);

		if ((f & (VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED)) !=
		    avail_flags) {
			r->old_free_head = r->free_head;
			r->old_used_idx = r->used_idx;
			r->old_used_wrap_counter = r->used_wrap_counter;
		}
	}
	/* Roll back whatever was in progress. */
	r->free_head = r->old_free_head;
	r->used_idx = r->old_used_idx;
	r->used_wrap_counter = r->old_used_wrap_counter;
	vq_cbarrier();
	k = r->free_head;
	for (unsigned s = 0; s < size && k < size; s++) {
		r->desc[k].inflight = 0;
		k = r->desc[k].next;
	}
	for (unsigned i = 0; i < size; i++) {
		uint16_t num = r->desc[i].num, j = (uint16_t)i;

		if (!r->desc[i].inflight)
			continue;
		if (num == 0 || num > size)
			return -EINVAL;
		for (unsigned s = 1; s < num; s++) {
			j = r->desc[j].next;
			if (j >= size)
				return -EINVAL;
		}
		descs += num;
		vq->resubmit[n].head = (uint16_t)i;
		vq->resubmit[n].id = r->desc[j].id;
		vq->resubmit[n].counter = r->desc[i].counter;
		n++;
	}
	if (descs > size)
		return -EINVAL;
	finish_list(vq, n);
	vq->used_idx = r->used_idx;
	vq->used_wrap = r->used_wrap_counter;
	/* Avail position = used position + descriptors still in flight. */
	vq->last_avail = vq->used_idx;
	vq->avail_wrap = vq->used_wrap;
	if (descs) {
		unsigned p = vq->last_avail + descs;

		if (p >= size) {
			p -= size;
			vq->avail_wrap = !vq->avail_wrap;
		}
		vq->last_avail = (uint16_t)p;
	}
	return 0;
}

static void init_packed(struct vh_virtq *vq)
{
	struct vh_inflight_packed *r = vq->inflight;

	memset(r, 0, vh_virtq_inflight_size(vq->size, true));
	r->desc_num = vq->size;
	for (unsigned j = 0; j < vq->size; j++)
		r->desc[j].next = (uint16_t)(j + 1);
	r->free_head = r->old_free_head = 0;
	r->used_idx = r->old_used_idx = vq->used_idx;
	r->used_wrap_counter = r->old_used_wrap_counter = vq->used_wrap;
	vq_cbarrier();
	r->version = INFLIGHT_VERSION;
}

/* ---- attach ----------------------------------------------------------- */

int vh_virtq_set_inflight(struct vh_virtq *vq, void *region, size_t len)
{
	/* version and desc_num sit at the same offsets in both layouts. */
	struct vh_inflight_split *hdr = region;
	int err;

	if (!region || len < vh_virtq_inflight_size(vq->size, vq->packed)) {
		vh_err("virtq %u: in-flight region of %zu bytes, needs %zu",
		       vq->index, len,
		       vh_virtq_inflight_size(vq->size, vq->packed));
		return -EINVAL;
	}
	if (!vq->resubmit) {
		vq->resubmit = calloc(vq->size, sizeof(vq->resubmit[0]));
		if (!vq->resubmit)
			return -ENOMEM;
	}
	vq->inflight = region;
	vq->resubmit_num = vq->resubmit_pos = 0;
	if (hdr->version == 0) {
		vq->counter = 0;
		if (vq->packed)
			init_packed(vq);
		else
			init_split(vq);
		return 0;
	}
	if (hdr->version != INFLIGHT_VERSION || hdr->desc_num != vq->size) {
		vh_err("virtq %u: in-flight region version %u for %u "
		       "descriptors, queue has %u",
		       vq->index, hdr->version, hdr->desc_num, vq->size);
		vq->inflight = NULL;
		return -EINVAL;
	}
	err = vq->packed ? recover_packed(vq) : recover_split(vq);
	if (err) {
		vh_err("virtq %u: in-flight region is inconsistent", vq->index);
		vq->inflight = NULL;
		vq->resubmit_num = 0;
	}
	return err;
}
