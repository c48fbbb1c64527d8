/* SPDX-License-Identifier: MIT */
/*
 * Device-side virtqueue: configuration, the broken state, and the public
 * calls, which dispatch to split.c / packed.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vhost/log.h"
#include "vq_priv.h"

static const char *const error_names[VH_VIRTQ_E_COUNT] = {
    [VH_VIRTQ_E_NONE] = "no error",
    [VH_VIRTQ_E_AVAIL_IDX] = "avail idx moved more than the queue size",
    [VH_VIRTQ_E_HEAD_RANGE] = "head index out of range",
    [VH_VIRTQ_E_NEXT_RANGE] = "next index out of range",
    [VH_VIRTQ_E_CHAIN_LEN] = "chain longer than its table (loop?)",
    [VH_VIRTQ_E_INDIRECT_FEATURE] = "INDIRECT without INDIRECT_DESC",
    [VH_VIRTQ_E_INDIRECT_NESTED] = "INDIRECT inside an indirect table",
    [VH_VIRTQ_E_INDIRECT_NEXT] = "INDIRECT together with NEXT",
    [VH_VIRTQ_E_INDIRECT_LEN] = "indirect table length invalid",
    [VH_VIRTQ_E_INDIRECT_ADDR] = "indirect table outside guest memory",
    [VH_VIRTQ_E_WRITE_ORDER] = "readable descriptor after writable one",
    [VH_VIRTQ_E_ZERO_LEN] = "zero-length descriptor",
    [VH_VIRTQ_E_ADDR] = "buffer outside guest memory",
    [VH_VIRTQ_E_TOTAL_LEN] = "chain longer than 4 GiB",
    [VH_VIRTQ_E_IOV_CAP] = "chain needs more iovecs than the device allows",
    [VH_VIRTQ_E_DESC_NOT_AVAIL] = "chained descriptor not available",
};

const char *vh_virtq_error_name(enum vh_virtq_error e)
{
	if ((unsigned)e >= VH_VIRTQ_E_COUNT)
		return "unknown error";
	return error_names[e];
}

int vq_break(struct vh_virtq *vq, enum vh_virtq_error e, unsigned where)
{
	if (vq->error == VH_VIRTQ_E_NONE) {
		vq->error = e;
		vh_err("virtq %u: broken: %s (at descriptor %u)", vq->index,
		       vh_virtq_error_name(e), where);
	}
	return -EIO;
}

void vh_virtq_ring_sizes(uint16_t size, bool packed, size_t *desc,
			 size_t *driver, size_t *device)
{
	*desc = (size_t)size * 16;
	if (packed) {
		*driver = sizeof(struct vh_vring_event);
		*device = sizeof(struct vh_vring_event);
	} else {
		*driver = 6 + 2 * (size_t)size;
		*device = 6 + 8 * (size_t)size;
	}
}

static int map_part(const struct vh_mem_table *t, uint64_t uva, size_t len,
		    unsigned align, const char *what, unsigned index, void **p)
{
	*p = vh_mem_uva_to_host(t, uva, len);
	if (!*p) {
		vh_err("virtq %u: SET_VRING_ADDR: %s at 0x%llx+%zu not mapped",
		       index, what, (unsigned long long)uva, len);
		return -EFAULT;
	}
	if ((uva | (uintptr_t)*p) & (align - 1)) {
		vh_err("virtq %u: SET_VRING_ADDR: %s at 0x%llx misaligned",
		       index, what, (unsigned long long)uva);
		return -EINVAL;
	}
	return 0;
}

int vh_virtq_map_rings(const struct vh_mem_table *t,
		       const struct vhost_user_vring_addr *a, uint16_t size,
		       bool packed, struct vh_virtq_config *cfg)
{
	size_t dl, drl, dvl;
	int err;

	if (size == 0)
		return -EINVAL;
	vh_virtq_ring_sizes(size, packed, &dl, &drl, &dvl);
	err = map_part(t, a->desc_user_addr, dl, 16, "descriptors", a->index,
		       &cfg->desc);
	if (!err)
		err = map_part(t, a->avail_user_addr, drl, packed ? 4 : 2,
			       "driver area", a->index, &cfg->driver);
	if (!err)
		err = map_part(t, a->used_user_addr, dvl, 4, "device area",
			       a->index, &cfg->device);
	if (err)
		return err;
	cfg->ring_table = (struct vh_mem_table *)t;
	cfg->log_used = (a->flags >> VHOST_VRING_F_LOG) & 1;
	/* Split: the spec gives the used ring's guest address. Packed: the
	 * device writes the descriptor ring, whose guest address we derive. */
	if (packed) {
		if (vh_mem_uva_to_gpa(t, a->desc_user_addr, dl, &cfg->log_gpa))
			cfg->log_gpa = 0;
	} else {
		cfg->log_gpa = a->log_guest_addr;
	}
	return 0;
}

int vh_virtq_new(const struct vh_virtq_config *cfg, struct vh_virtq **out)
{
	bool packed = vh_virtio_has(cfg->features, VH_VIRTIO_F_RING_PACKED);
	struct vh_virtq *vq;

	*out = NULL;
	if (cfg->size == 0 || cfg->size > VH_VIRTQ_MAX_SIZE ||
	    (!packed && (cfg->size & (cfg->size - 1))) || !cfg->desc ||
	    !cfg->driver || !cfg->device || ((uintptr_t)cfg->desc & 15) ||
	    ((uintptr_t)cfg->driver & (packed ? 3 : 1)) ||
	    ((uintptr_t)cfg->device & 3) ||
	    (packed && (cfg->packed_base.avail_idx >= cfg->size ||
			cfg->packed_base.used_idx >= cfg->size))) {
		vh_err("virtq %u: invalid configuration (size %u)", cfg->index,
		       cfg->size);
		return -EINVAL;
	}
	vq = calloc(1, sizeof(*vq));
	if (!vq)
		return -ENOMEM;
	vq->size = cfg->size;
	vq->index = cfg->index;
	vq->packed = packed;
	vq->event_idx =
	    vh_virtio_has(cfg->features, VH_VIRTIO_RING_F_EVENT_IDX);
	vq->indirect =
	    vh_virtio_has(cfg->features, VH_VIRTIO_RING_F_INDIRECT_DESC);
	vq->notify_on_empty =
	    vh_virtio_has(cfg->features, VH_VIRTIO_F_NOTIFY_ON_EMPTY);
	vq->any_order = cfg->flags & VH_VIRTQ_F_ANY_ORDER;
	vq->notify_enabled = true;
	vq->desc = cfg->desc;
	vq->driver = cfg->driver;
	vq->device = cfg->device;
	if (cfg->ring_table)
		vq->ring_table = vh_mem_table_ref(cfg->ring_table);
	if (packed) {
		vq->last_avail = cfg->packed_base.avail_idx;
		vq->avail_wrap = cfg->packed_base.avail_wrap;
		vq->used_idx = cfg->packed_base.used_idx;
		vq->used_wrap = cfg->packed_base.used_wrap;
	} else {
		struct vh_vring_used *u = vq->device;

		vq->last_avail = cfg->last_avail_idx;
		vq->shadow_avail = cfg->last_avail_idx;
		vq->used_idx = vq_load16(&u->idx);
	}
	atomic_init(&vq->log_all,
		    vh_virtio_has(cfg->features, VH_VHOST_F_LOG_ALL));
	atomic_init(&vq->log_used, cfg->log_used);
	vq->log_gpa = cfg->log_gpa;
	*out = vq;
	return 0;
}

void vh_virtq_free(struct vh_virtq *vq)
{
	if (!vq)
		return;
	vh_mem_table_unref(vq->ring_table);
	free(vq->resubmit);
	free(vq);
}

void vh_virtq_set_logging(struct vh_virtq *vq, bool log_all, bool log_used)
{
	atomic_store_explicit(&vq->log_all, log_all, memory_order_relaxed);
	atomic_store_explicit(&vq->log_used, log_used, memory_order_relaxed);
}

int vh_virtq_pop(struct vh_virtq *vq, const struct vh_mem_table *t,
		 struct vh_virtq_elem *e)
{
	if (vq->error)
		return -EIO;
	if (!e->iov || e->iov_cap == 0)
		return -EINVAL;
	if (vq->resubmit_pos < vq->resubmit_num) {
		const struct vh_virtq_resubmit *r =
		    &vq->resubmit[vq->resubmit_pos];
		int rc;

		vq_elem_reset(e);
		if (vq->packed) {
			rc = vq_packed_resubmit(vq, t, e, r->head);
		} else {
			rc = vq_split_walk(vq, t, e, r->head);
			e->id = r->head;
			e->slot = r->head;
			e->ndescs = 1;
		}
		if (rc < 0)
			return rc;
		e->resubmitted = true;
		vq->resubmit_pos++;
		return 1;
	}
	return vq->packed ? vq_packed_pop(vq, t, e) : vq_split_pop(vq, t, e);
}

int vh_virtq_push_batch(struct vh_virtq *vq, const struct vh_mem_table *t,
			struct vh_virtq_elem *const *elems,
			const uint32_t *lens, unsigned n)
{
	int rc;

	if (vq->error)
		return -EIO;
	if (n == 0)
		return 0;
	if (n > vq->inuse) {
		vh_err("virtq %u: push of %u elements, only %u in use",
		       vq->index, n, vq->inuse);
		return -EINVAL;
	}
	for (unsigned i = 0; i < n; i++) {
		if (lens[i] > elems[i]->in_len) {
			vh_err("virtq %u: used len %u above the %u writable "
			       "bytes of buffer %u",
			       vq->index, lens[i], elems[i]->in_len,
			       elems[i]->id);
			return -EINVAL;
		}
	}
	/* Data first, then its dirty bits, then the used entries. */
	if (atomic_load_explicit(&vq->log_all, memory_order_relaxed))
		for (unsigned i = 0; i < n; i++)
			vh_virtq_log_write(t, elems[i], lens[i]);
	rc = vq->packed ? vq_packed_push(vq, t, elems, lens, n)
			: vq_split_push(vq, t, elems, lens, n);
	if (rc == 0)
		vq->inuse -= n;
	return rc;
}

int vh_virtq_push(struct vh_virtq *vq, const struct vh_mem_table *t,
		  struct vh_virtq_elem *e, uint32_t len)
{
	return vh_virtq_push_batch(vq, t, &e, &len, 1);
}

bool vh_virtq_should_notify(struct vh_virtq *vq)
{
	if (vq->error)
		return false;
	return vq->packed ? vq_packed_should_notify(vq)
			  : vq_split_should_notify(vq);
}

bool vh_virtq_enable_notify(struct vh_virtq *vq)
{
	vq->notify_enabled = true;
	if (vq->error)
		return false;
	return vq->packed ? vq_packed_enable_notify(vq)
			  : vq_split_enable_notify(vq);
}

void vh_virtq_disable_notify(struct vh_virtq *vq)
{
	vq->notify_enabled = false;
	if (vq->error)
		return;
	if (vq->packed)
		vq_packed_disable_notify(vq);
	else
		vq_split_disable_notify(vq);
}

bool vh_virtq_has_avail(struct vh_virtq *vq)
{
	if (vq->error)
		return false;
	if (vq->resubmit_pos < vq->resubmit_num)
		return true;
	return vq->packed ? vq_packed_has_avail(vq) : vq_split_has_avail(vq);
}

bool vh_virtq_is_broken(const struct vh_virtq *vq)
{
	return vq->error != VH_VIRTQ_E_NONE;
}

enum vh_virtq_error vh_virtq_error(const struct vh_virtq *vq)
{
	return vq->error;
}

unsigned vh_virtq_inuse(const struct vh_virtq *vq)
{
	return vq->inuse;
}

uint16_t vh_virtq_last_avail(const struct vh_virtq *vq)
{
	return vq->last_avail;
}

uint16_t vh_virtq_used_idx(const struct vh_virtq *vq)
{
	return vq->used_idx;
}

void vh_virtq_packed_base(const struct vh_virtq *vq, struct vh_packed_base *b)
{
	b->avail_idx = vq->last_avail;
	b->avail_wrap = vq->avail_wrap;
	b->used_idx = vq->used_idx;
	b->used_wrap = vq->used_wrap;
}

unsigned vh_virtq_resubmit_list(const struct vh_virtq *vq,
				struct vh_virtq_resubmit *out, unsigned max)
{
	unsigned n = vq->resubmit_num - vq->resubmit_pos;

	for (unsigned i = 0; i < n && i < max; i++)
		out[i] = vq->resubmit[vq->resubmit_pos + i];
	return n;
}
