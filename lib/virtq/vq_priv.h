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
void vq_elem_reset(struct vh_virtq_elem *e);

/*
 * Append the buffer [addr, addr+len) to @e, split across regions. Returns
 * VH_VIRTQ_E_NONE or the reason it is refused.
 */
enum vh_virtq_error vq_add_buf(struct vh_virtq *vq,
			       const struct vh_mem_table *t,
			       struct vh_virtq_elem *e, uint64_t addr,
			       uint32_t len, bool writable);

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
