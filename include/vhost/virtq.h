/* SPDX-License-Identifier: MIT */
/*
 * libvhost — device-side virtqueues: split and packed rings (virtio 1.2
 * §2.7 "Split Virtqueues", §2.8 "Packed Virtqueues").
 *
 * Pure ring logic over guest memory: a queue reads available buffers, turns
 * each descriptor chain into readable ("out") and writable ("in") iovecs
 * through a guest memory table (mem.h), writes used elements, and decides
 * whether the driver wants a notification. Kick/call fds and threads belong
 * to the layer above.
 *
 * Hostile rings. Every bound is checked on a private copy of each descriptor.
 * A violation makes the queue "broken": a sticky error, logged once with the
 * queue index and reason; every later pop and push returns -EIO. The caller
 * then sets DEVICE_NEEDS_RESET (when STATUS is negotiated) and stops the
 * queue. Policies where the spec leaves room:
 *  - zero-length descriptors are refused (VH_VIRTQ_E_ZERO_LEN);
 *  - a device-readable descriptor after a device-writable one is refused
 *    (the driver MUST NOT, §2.7.4.2) unless VH_VIRTQ_F_ANY_ORDER is set;
 *  - chains longer than the queue size (or than an indirect table) are
 *    refused: that is also how loops are caught;
 *  - the packed Buffer ID is opaque: returned to the driver unchecked.
 *
 * Threading: one queue object is used by one thread at a time (the queue's
 * worker); pop and push may run on different threads only if the caller
 * serialises them. vh_virtq_set_logging() may be called from any thread.
 *
 * Byte order: virtio 1.x rings are little-endian; this layer supports
 * little-endian hosts only (checked at build time).
 */
#ifndef VHOST_VIRTQ_H
#define VHOST_VIRTQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "vhost/mem.h"
#include "vhost/proto.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Ring layouts (spec names)                                                */
/* ------------------------------------------------------------------------ */

#define VIRTQ_DESC_F_NEXT	   1u
#define VIRTQ_DESC_F_WRITE	   2u
#define VIRTQ_DESC_F_INDIRECT	   4u
#define VIRTQ_DESC_F_AVAIL	   (1u << 7)
#define VIRTQ_DESC_F_USED	   (1u << 15)
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1u
#define VIRTQ_USED_F_NO_NOTIFY	   1u
#define RING_EVENT_FLAGS_ENABLE	   0x0u
#define RING_EVENT_FLAGS_DISABLE   0x1u
#define RING_EVENT_FLAGS_DESC	   0x2u

/** Largest queue size (§2.7: 32768 for split; §2.8: 2^15 for packed). */
#define VH_VIRTQ_MAX_SIZE 32768u

/** Split descriptor (struct virtq_desc). */
struct vh_vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

/** Split available ring header; ring[size] then used_event follow. */
struct vh_vring_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];
};

struct vh_vring_used_elem {
	uint32_t id;
	uint32_t len;
};

/** Split used ring header; ring[size] then avail_event follow. */
struct vh_vring_used {
	uint16_t flags;
	uint16_t idx;
	struct vh_vring_used_elem ring[];
};

/** Packed descriptor (struct pvirtq_desc). */
struct vh_vring_packed_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t id;
	uint16_t flags;
};

/** Packed event suppression (struct pvirtq_event_suppress). */
struct vh_vring_event {
	uint16_t off_wrap; /* desc_event_off : 15, desc_event_wrap : 1 */
	uint16_t flags;	   /* desc_event_flags : 2 */
};

_Static_assert(sizeof(struct vh_vring_desc) == 16, "virtq_desc");
_Static_assert(sizeof(struct vh_vring_packed_desc) == 16, "pvirtq_desc");
_Static_assert(sizeof(struct vh_vring_used_elem) == 8, "used elem");
_Static_assert(sizeof(struct vh_vring_event) == 4, "event suppress");

/**
 * Bytes of each ring part for @size entries: descriptor area, driver area
 * (split avail ring with used_event / packed driver event suppression) and
 * device area (split used ring with avail_event / packed device event).
 */
void vh_virtq_ring_sizes(uint16_t size, bool packed, size_t *desc,
			 size_t *driver, size_t *device);

/** The split-ring event test (virtio_ring.h vring_need_event). */
static inline bool vh_vring_need_event(uint16_t event, uint16_t new_idx,
				       uint16_t old_idx)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old_idx);
}

/* ------------------------------------------------------------------------ */
/* In-flight region (vhost-user.rst "Inflight I/O tracking")                */
/* ------------------------------------------------------------------------ */

struct vh_inflight_desc_split {
	uint8_t inflight;
	uint8_t padding[5];
	uint16_t next;
	uint64_t counter;
};

struct vh_inflight_split {
	uint64_t features;
	uint16_t version;
	uint16_t desc_num;
	uint16_t last_batch_head;
	uint16_t used_idx;
	struct vh_inflight_desc_split desc[];
};

struct vh_inflight_desc_packed {
	uint8_t inflight;
	uint8_t padding;
	uint16_t next;
	uint16_t last;
	uint16_t num;
	uint64_t counter;
	uint16_t id;
	uint16_t flags;
	uint32_t len;
	uint64_t addr;
};

struct vh_inflight_packed {
	uint64_t features;
	uint16_t version;
	uint16_t desc_num;
	uint16_t free_head;
	uint16_t old_free_head;
	uint16_t used_idx;
	uint16_t old_used_idx;
	uint8_t used_wrap_counter;
	uint8_t old_used_wrap_counter;
	uint8_t padding[7];
	struct vh_inflight_desc_packed desc[];
};

_Static_assert(sizeof(struct vh_inflight_desc_split) == 16, "DescStateSplit");
_Static_assert(sizeof(struct vh_inflight_split) == 16, "QueueRegionSplit");
_Static_assert(sizeof(struct vh_inflight_desc_packed) == 32, "DescStatePacked");
_Static_assert(sizeof(struct vh_inflight_packed) == 32, "QueueRegionPacked");

/** Region alignment between queues (as QEMU's libvhost-user and DPDK). */
#define VH_INFLIGHT_ALIGN 64u

/**
 * Bytes of one queue's in-flight region: header + one entry per descriptor,
 * rounded up to VH_INFLIGHT_ALIGN. The GET_INFLIGHT_FD buffer is num_queues
 * of these back to back.
 */
size_t vh_virtq_inflight_size(uint16_t queue_size, bool packed);

/* ------------------------------------------------------------------------ */
/* Queue                                                                    */
/* ------------------------------------------------------------------------ */

struct vh_virtq;

/** Options (vh_virtq_config.flags). */
enum {
	/** Accept device-readable descriptors after device-writable ones
	 *  (the driver MUST NOT do this, §2.7.4.2 / §2.8.17); they are still
	 *  returned in the readable part of the element. */
	VH_VIRTQ_F_ANY_ORDER = 1u << 0,
};

/** Why a queue is broken (vh_virtq_error). */
enum vh_virtq_error {
	VH_VIRTQ_E_NONE = 0,
	VH_VIRTQ_E_AVAIL_IDX,	     /* avail idx moved more than size ahead */
	VH_VIRTQ_E_HEAD_RANGE,	     /* head index >= queue size */
	VH_VIRTQ_E_NEXT_RANGE,	     /* next >= table size */
	VH_VIRTQ_E_CHAIN_LEN,	     /* chain longer than its table (loops) */
	VH_VIRTQ_E_INDIRECT_FEATURE, /* INDIRECT without INDIRECT_DESC */
	VH_VIRTQ_E_INDIRECT_NESTED,  /* INDIRECT inside an indirect table */
	VH_VIRTQ_E_INDIRECT_NEXT,    /* INDIRECT with NEXT (or in a list) */
	VH_VIRTQ_E_INDIRECT_LEN,   /* table length 0 or not a multiple of 16 */
	VH_VIRTQ_E_INDIRECT_ADDR,  /* table outside guest memory */
	VH_VIRTQ_E_WRITE_ORDER,	   /* readable after writable */
	VH_VIRTQ_E_ZERO_LEN,	   /* zero-length descriptor */
	VH_VIRTQ_E_ADDR,	   /* buffer outside guest memory */
	VH_VIRTQ_E_TOTAL_LEN,	   /* chain longer than 2^32 - 1 bytes */
	VH_VIRTQ_E_IOV_CAP,	   /* more iovecs than the element holds */
	VH_VIRTQ_E_DESC_NOT_AVAIL, /* packed: chained descriptor not avail */
	VH_VIRTQ_E_COUNT
};

/** Short text for @e ("chain longer than the queue"), never NULL. */
const char *vh_virtq_error_name(enum vh_virtq_error e);

/**
 * Everything a queue needs. Ring pointers are host addresses (see
 * vh_virtq_map_rings); features are the negotiated virtio features (the
 * queue looks at EVENT_IDX, INDIRECT_DESC, RING_PACKED, NOTIFY_ON_EMPTY and
 * LOG_ALL).
 */
struct vh_virtq_config {
	uint16_t size;	/* SET_VRING_NUM; split: power of 2 */
	uint16_t index; /* ring index, for log messages */
	uint64_t features;
	unsigned flags; /* VH_VIRTQ_F_* */
	void *desc;	/* descriptor table / descriptor ring */
	void *driver;	/* split avail ring / packed driver event */
	void *device;	/* split used ring / packed device event */
	/* Table the ring pointers came from (or NULL when the caller keeps
	 * the ring memory alive itself): the queue holds a reference. */
	struct vh_mem_table *ring_table;
	/* Dirty logging of ring writes: guest-physical address of the part
	 * the device writes (split used ring = log_guest_addr; packed
	 * descriptor ring) and whether to log (VHOST_VRING_F_LOG). */
	uint64_t log_gpa;
	bool log_used;
	/* Ring base (SET_VRING_BASE). Split: next avail index; the used
	 * index is read from the used ring. Packed: all four fields. */
	uint16_t last_avail_idx;
	struct vh_packed_base packed_base;
};

/**
 * Translate the front-end addresses of SET_VRING_ADDR into @cfg (desc,
 * driver, device, log_gpa, log_used, ring_table = @t, borrowed) for a ring
 * of @size entries. Each part must lie within one region and be aligned as
 * §2.7 / §2.8.10.1 require, in guest and in host address. Errors: -EFAULT
 * (not mapped), -EINVAL (misaligned, size 0).
 */
int vh_virtq_map_rings(const struct vh_mem_table *t,
		       const struct vhost_user_vring_addr *a, uint16_t size,
		       bool packed, struct vh_virtq_config *cfg);

/**
 * Create a queue. Reads the split used index from the ring. Takes a
 * reference on cfg->ring_table when set. Errors: -EINVAL (size 0, above
 * 32768, split size not a power of 2, NULL or misaligned ring pointer,
 * packed base index >= size), -ENOMEM.
 */
int vh_virtq_new(const struct vh_virtq_config *cfg, struct vh_virtq **out);

/** Free the queue and drop its ring table reference (NULL is a no-op). */
void vh_virtq_free(struct vh_virtq *vq);

/**
 * A popped buffer. The owner provides iov[] and (optionally) gpa[] of
 * iov_cap entries; the app's request struct can embed this one, or use
 * vh_virtq_elem_new. iov[0, out_num) are device-readable, iov[out_num,
 * out_num + in_num) device-writable. The iovecs point into the memory table
 * given to pop: keep that table referenced until the element is pushed.
 */
struct vh_virtq_elem {
	uint16_t id;	  /* split: head index; packed: Buffer ID */
	uint16_t ndescs;  /* descriptors taken from the ring (packed) */
	uint16_t slot;	  /* in-flight entry (internal) */
	bool resubmitted; /* came from the in-flight region after restart */
	unsigned out_num;
	unsigned in_num;
	uint32_t out_len; /* bytes readable */
	uint32_t in_len;  /* bytes writable */
	unsigned iov_cap;
	struct iovec *iov;
	uint64_t *gpa; /* guest-physical start of each iovec, or NULL */
};

/** Allocate an element with room for @iov_cap iovecs (one block). */
struct vh_virtq_elem *vh_virtq_elem_new(unsigned iov_cap);
void vh_virtq_elem_free(struct vh_virtq_elem *e);

/**
 * Pop the next available buffer into @e, translating through @t. In-flight
 * buffers recovered by vh_virtq_set_inflight come first, in the order the
 * previous back-end fetched them. Returns 1 (one element), 0 (ring empty),
 * -EIO (queue broken, now or before), -EINVAL (@e has no iovec room).
 * Reads the avail index once per batch of pops (acquire), as §2.7.13.
 * When @t is the table given as cfg->ring_table, buffers are translated
 * through a cache of the part of the region last hit (the queue's
 * reference keeps that table alive); any other table is searched in full.
 */
int vh_virtq_pop(struct vh_virtq *vq, const struct vh_mem_table *t,
		 struct vh_virtq_elem *e);

/**
 * Return @n popped elements as used, @lens[i] bytes written into each, in
 * one batch: the used entries, then (release) the used index (split) or the
 * first entry's flags (packed), so the driver sees the batch at once. @t
 * supplies the dirty log. Returns 0, -EIO (broken), -EINVAL (len above the
 * element's writable bytes, more elements than are in use; nothing written).
 */
int vh_virtq_push_batch(struct vh_virtq *vq, const struct vh_mem_table *t,
			struct vh_virtq_elem *const *elems,
			const uint32_t *lens, unsigned n);

/** vh_virtq_push_batch of one element. */
int vh_virtq_push(struct vh_virtq *vq, const struct vh_mem_table *t,
		  struct vh_virtq_elem *e, uint32_t len);

/**
 * After one or more pushes: whether the driver wants a used buffer
 * notification (EVENT_IDX: vring_need_event over the used entries added
 * since the previous call; else the avail NO_INTERRUPT flag or the packed
 * driver event flags; NOTIFY_ON_EMPTY forces one when the ring ran empty).
 * Starts with a full barrier between the used index store and the reads.
 */
bool vh_virtq_should_notify(struct vh_virtq *vq);

/**
 * Ask the driver for kicks again (used->flags, avail_event, or the packed
 * device event), then full barrier and re-check: returns true when buffers
 * are already available, and the caller must process them instead of
 * sleeping (the classic lost-kick race).
 */
bool vh_virtq_enable_notify(struct vh_virtq *vq);

/** Tell the driver kicks are not needed (while the device polls). */
void vh_virtq_disable_notify(struct vh_virtq *vq);

/** Whether a pop would return something (resubmissions included). */
bool vh_virtq_has_avail(struct vh_virtq *vq);

bool vh_virtq_is_broken(const struct vh_virtq *vq);
enum vh_virtq_error vh_virtq_error(const struct vh_virtq *vq);

/** Elements popped and not yet pushed. */
unsigned vh_virtq_inuse(const struct vh_virtq *vq);

/** Split: next avail index (GET_VRING_BASE). */
uint16_t vh_virtq_last_avail(const struct vh_virtq *vq);

/** Split: device's used index. */
uint16_t vh_virtq_used_idx(const struct vh_virtq *vq);

/** Packed: the four base fields (GET_VRING_BASE). */
void vh_virtq_packed_base(const struct vh_virtq *vq, struct vh_packed_base *b);

/**
 * Dirty logging switches (any thread): @log_all logs device writes into
 * guest buffers on push (VHOST_F_LOG_ALL), @log_used logs ring writes
 * (VHOST_VRING_F_LOG). Marks go to the log of the table given to push.
 */
void vh_virtq_set_logging(struct vh_virtq *vq, bool log_all, bool log_used);

/**
 * Mark the first @len bytes of @e's writable iovecs in the log of @t (done
 * by push when LOG_ALL is on; exposed for devices that write guest memory
 * outside elements). Needs e->gpa. 0, or -ERANGE from the log.
 */
int vh_virtq_log_write(const struct vh_mem_table *t,
		       const struct vh_virtq_elem *e, uint32_t len);

/* ------------------------------------------------------------------------ */
/* In-flight tracking (INFLIGHT_SHMFD)                                      */
/* ------------------------------------------------------------------------ */

/**
 * Attach this queue's in-flight region (@len bytes at @region, borrowed;
 * the caller keeps the mapping alive while the queue lives). Call after
 * creation and before the first pop. A zeroed region (version 0) is
 * initialised. Otherwise the reconnect algorithm of vhost-user.rst runs:
 * the last batch is fixed up, in-flight entries are queued for
 * resubmission ordered by their counter, and the ring position is derived
 * from the region (split: last avail = used idx + in-flight count; packed:
 * used position rolled back or committed, avail = used + in-flight
 * descriptors), overriding the configured base.
 * Errors: -EINVAL (region too small, desc_num differs from the queue size,
 * unknown version, inconsistent entries), -ENOMEM.
 */
int vh_virtq_set_inflight(struct vh_virtq *vq, void *region, size_t len);

/** One buffer to resubmit. */
struct vh_virtq_resubmit {
	uint16_t head;	  /* split: head index; packed: region entry */
	uint16_t id;	  /* Buffer ID given back on push */
	uint64_t counter; /* fetch order */
};

/**
 * Buffers still waiting for resubmission, in order: copies up to @max into
 * @out and returns the total count.
 */
unsigned vh_virtq_resubmit_list(const struct vh_virtq *vq,
				struct vh_virtq_resubmit *out, unsigned max);

#ifdef __cplusplus
}
#endif

#endif /* VHOST_VIRTQ_H */
