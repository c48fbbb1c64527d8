/* SPDX-License-Identifier: MIT */
/* Internal state of a device-side virtqueue (include/vhost/virtq.h). */
#ifndef VHOST_VQ_PRIV_H
#define VHOST_VQ_PRIV_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "vhost/virtq.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "libvhost virtqueues support little-endian hosts only"
#endif

struct vh_virtq {
	uint16_t size;
	uint16_t index;
	bool packed;
	bool event_idx;
	bool indirect;
	bool notify_on_empty;
	bool any_order;
	bool notify_enabled;

	void *desc;
	void *driver;
	void *device;
	struct vh_mem_table *ring_table;

	/* Translation cache: guest-physical [rc_gpa, rc_gpa + rc_size) is
	 * at rc_host, a part of one region of ring_table (the queue holds a
	 * reference, so the table cannot be freed and another allocated at
	 * the same address while this is set). Used only for lookups in that
	 * table; rc_size 0 means empty. */
	uint64_t rc_gpa;
	uint64_t rc_size;
	uint8_t *rc_host;

	/* Split: last_avail/shadow_avail are free-running 16-bit indices.
	 * Packed: last_avail/used_idx are ring positions with wrap bits. */
	uint16_t last_avail;
	uint16_t shadow_avail;
	uint16_t used_idx;
	bool avail_wrap;
	bool used_wrap;
	bool ran_empty; /* the last pop found nothing (NOTIFY_ON_EMPTY) */

	/* Used index (and wrap) at the previous should_notify. */
	uint16_t signalled_used;
	bool signalled_wrap;
	bool signalled_valid;

	unsigned inuse;

	enum vh_virtq_error error;

	atomic_bool log_all;
	atomic_bool log_used;
	uint64_t log_gpa;

	/* In-flight tracking. */
	void *inflight; /* struct vh_inflight_split / _packed, or NULL */
	uint64_t counter;
	struct vh_virtq_resubmit *resubmit; /* pending, in order */
	unsigned resubmit_num;
	unsigned resubmit_pos;
};

/* Ring memory is shared with the driver: access its indices atomically. */
static inline uint16_t vq_load16_acquire(void *p)
{
	return atomic_load_explicit((_Atomic uint16_t *)p,
				    memory_order_acquire);
}

static inline uint16_t vq_load16(void *p)
{
	return atomic_load_explicit((_Atomic uint16_t *)p,
				    memory_order_relaxed);
}

static inline void vq_store16_release(void *p, uint16_t v)
{
	atomic_store_explicit((_Atomic uint16_t *)p, v, memory_order_release);
}

static inline void vq_store16(void *p, uint16_t v)
{
	atomic_store_explicit((_Atomic uint16_t *)p, v, memory_order_relaxed);
}

/* Full barrier: a store before it is visible before a load after it. */
static inline void vq_mb(void)
{
	atomic_thread_fence(memory_order_seq_cst);
}

/* Compiler-only barrier for the in-flight region: it is read after this
 * process dies, so only program order matters (stores reach memory). */
static inline void vq_cbarrier(void)
{
	atomic_signal_fence(memory_order_seq_cst);
}

/* Mark the queue broken (sticky), log once; returns -EIO. */
int vq_break(struct vh_virtq *vq, enum vh_virtq_error e, unsigned where);

/* Reset @e's counters before a walk. */
static inline void vq_elem_reset(struct vh_virtq_elem *e)
{
	e->out_num = e->in_num = 0;
	e->out_len = e->in_len = 0;
	e->ndescs = 0;
	e->resubmitted = false;
}

/* Host address of guest-physical @a, and in *@part how many of the @left
 * bytes from there lie in the same region; NULL when @a is not mapped.
 * Looks in the queue's cache first (see struct vh_virtq). */
void *vq_gpa_part_slow(struct vh_virtq *vq, const struct vh_mem_table *t,
		       uint64_t a, uint64_t left, uint64_t *part);

static inline void *vq_gpa_part(struct vh_virtq *vq,
				const struct vh_mem_table *t, uint64_t a,
				uint64_t left, uint64_t *part)
{
	uint64_t off = a - vq->rc_gpa;

	if (off < vq->rc_size && t == vq->ring_table) {
		uint64_t room = vq->rc_size - off;

		*part = left < room ? left : room;
		return vq->rc_host + off;
	}
	return vq_gpa_part_slow(vq, t, a, left, part);
}

/*
 * Append the buffer [addr, addr+len) to @e, split across regions. Returns
 * VH_VIRTQ_E_NONE or the reason it is refused.
 */
enum vh_virtq_error vq_add_buf(struct vh_virtq *vq,
			       const struct vh_mem_table *t,
			       struct vh_virtq_elem *e, uint64_t addr,
			       uint32_t len, bool writable);

/*
 * vq_add_buf for the first descriptor of a chain (@e just reset), the
 * common case inline: a non-empty buffer inside one cached region. Every
 * other case (and every refusal) goes through vq_add_buf.
 */
static inline enum vh_virtq_error vq_add_first(struct vh_virtq *vq,
					       const struct vh_mem_table *t,
					       struct vh_virtq_elem *e,
					       uint64_t addr, uint32_t len,
					       bool writable)
{
	uint64_t off = addr - vq->rc_gpa;

	/* off < rc_size and len <= rc_size - off: inside, no wrap. */
	if (len && off < vq->rc_size && len <= vq->rc_size - off &&
	    t == vq->ring_table && e->iov_cap) {
		e->iov[0].iov_base = vq->rc_host + off;
		e->iov[0].iov_len = len;
		if (e->gpa)
			e->gpa[0] = addr;
		if (writable) {
			e->in_num = 1;
			e->in_len = len;
		} else {
			e->out_num = 1;
			e->out_len = len;
		}
		return VH_VIRTQ_E_NONE;
	}
	return vq_add_buf(vq, t, e, addr, len, writable);
}

/* Indirect table: host pointer when contiguous, else NULL and *slow set
 * when every byte is mapped (read entry by entry). Error when unmapped. */
enum vh_virtq_error vq_indirect_table(const struct vh_mem_table *t,
				      uint64_t addr, uint32_t len, void **table,
				      bool *slow);

/* Split and packed halves. */
int vq_split_pop(struct vh_virtq *vq, const struct vh_mem_table *t,
		 struct vh_virtq_elem *e);
int vq_split_walk(struct vh_virtq *vq, const struct vh_mem_table *t,
		  struct vh_virtq_elem *e, uint16_t head);
int vq_split_push(struct vh_virtq *vq, const struct vh_mem_table *t,
		  struct vh_virtq_elem *const *elems, const uint32_t *lens,
		  unsigned n);
bool vq_split_should_notify(struct vh_virtq *vq);
bool vq_split_enable_notify(struct vh_virtq *vq);
void vq_split_disable_notify(struct vh_virtq *vq);
bool vq_split_has_avail(struct vh_virtq *vq);

int vq_packed_pop(struct vh_virtq *vq, const struct vh_mem_table *t,
		  struct vh_virtq_elem *e);
int vq_packed_resubmit(struct vh_virtq *vq, const struct vh_mem_table *t,
		       struct vh_virtq_elem *e, uint16_t slot);
int vq_packed_push(struct vh_virtq *vq, const struct vh_mem_table *t,
		   struct vh_virtq_elem *const *elems, const uint32_t *lens,
		   unsigned n);
bool vq_packed_should_notify(struct vh_virtq *vq);
bool vq_packed_enable_notify(struct vh_virtq *vq);
void vq_packed_disable_notify(struct vh_virtq *vq);
bool vq_packed_has_avail(struct vh_virtq *vq);

/* Dirty log of ring writes at @off bytes into the device-written part. */
void vq_log_ring(struct vh_virtq *vq, const struct vh_mem_table *t,
		 uint64_t off, uint64_t len);

/* Whether ring writes are to be logged now (vq_log_ring would mark). */
static inline bool vq_logging_ring(struct vh_virtq *vq,
				   const struct vh_mem_table *t)
{
	return atomic_load_explicit(&vq->log_used, memory_order_relaxed) &&
	       vh_mem_table_log(t);
}

/* In-flight hooks (no-ops without a region). */
void vq_inflight_split_pop(struct vh_virtq *vq, uint16_t head);
void vq_inflight_split_push_begin(struct vh_virtq *vq, uint16_t head);
void vq_inflight_split_push_end(struct vh_virtq *vq,
				struct vh_virtq_elem *const *elems, unsigned n);
/* Packed: record ring descriptor @d of a chain; returns the head slot. */
void vq_inflight_packed_desc(struct vh_virtq *vq,
			     const struct vh_vring_packed_desc *d, bool first,
			     bool last, uint16_t *slot);
void vq_inflight_packed_push_begin(struct vh_virtq *vq, uint16_t slot);
void vq_inflight_packed_push_used(struct vh_virtq *vq);
void vq_inflight_packed_push_end(struct vh_virtq *vq,
				 struct vh_virtq_elem *const *elems,
				 unsigned n);

#endif /* VHOST_VQ_PRIV_H */
