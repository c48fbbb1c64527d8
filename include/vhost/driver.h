/* SPDX-License-Identifier: MIT */
/*
 * libvhost — the driver (guest) half of a virtqueue, for tests, tools and
 * benchmarks: it fills descriptors, decides whether to kick, and reaps used
 * entries, split or packed, over memory the caller allocated (typically a
 * memfd shared with the back-end through SET_MEM_TABLE).
 *
 * Addresses in descriptors are guest-physical: the caller maps its memory
 * at host address @mem and declares it to be guest-physical @mem_gpa, so a
 * test can map the same memfd as a vh_mem_table on the device side and run
 * both halves in one process.
 *
 * Not thread-safe: one thread drives one queue.
 */
#ifndef VHOST_DRIVER_H
#define VHOST_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vh_drv_queue;

struct vh_drv_config {
	uint16_t size; /* split: power of 2; at most 32768 */
	bool packed;
	bool event_idx; /* VIRTIO_RING_F_EVENT_IDX negotiated */
	bool indirect;	/* allowed to use indirect tables */
	/* The memory everything lives in: host address and guest-physical
	 * address of its first byte, and its length. */
	void *mem;
	uint64_t mem_gpa;
	size_t mem_len;
	/* Offsets in @mem of the three ring parts (see vh_virtq_ring_sizes
	 * for their sizes; alignment 16 / 4 / 4 is checked). */
	size_t desc_off;
	size_t driver_off;
	size_t device_off;
	/* Room for indirect tables: size tables of @indirect_max entries
	 * each (16 bytes per entry) at @indirect_off; unused if !indirect. */
	size_t indirect_off;
	uint16_t indirect_max;
};

/** One buffer element: guest-physical address and length. */
struct vh_drv_buf {
	uint64_t gpa;
	uint32_t len;
};

/**
 * Create a driver queue and initialise its rings in memory (zeroed, wrap
 * counters 1, notifications enabled). Errors: -EINVAL (bad size, a part
 * outside @mem or misaligned), -ENOMEM.
 */
int vh_drv_queue_new(const struct vh_drv_config *cfg,
		     struct vh_drv_queue **out);
void vh_drv_queue_free(struct vh_drv_queue *q);

/**
 * Add one buffer: @nout device-readable elements then @nin device-writable
 * ones, in a chain of descriptors or, with @indirect, in one indirect
 * table. @token comes back from vh_drv_get_used. The buffer is visible to
 * the device after vh_drv_kick_prepare (split: avail idx is published
 * there; packed: at once). Errors: -ENOSPC (no room: reap first), -EINVAL
 * (no elements, indirect not configured or too many elements).
 */
int vh_drv_add(struct vh_drv_queue *q, const struct vh_drv_buf *out,
	       unsigned nout, const struct vh_drv_buf *in, unsigned nin,
	       bool indirect, void *token);

/**
 * Publish added buffers and say whether the device wants a kick (EVENT_IDX:
 * avail_event crossed, else the used NO_NOTIFY flag; packed: the device
 * event structure), with the full barrier §2.7.13.4.1 asks for.
 */
bool vh_drv_kick_prepare(struct vh_drv_queue *q);

/**
 * Reap one used buffer: 1 with its token and used length, 0 if none,
 * -EIO if the device returned an id that is not in flight.
 */
int vh_drv_get_used(struct vh_drv_queue *q, void **token, uint32_t *len);

/** Ask for used-buffer notifications (used_event / flags / driver event):
 * returns true if used buffers are already pending. */
bool vh_drv_enable_cb(struct vh_drv_queue *q);
/** Ask for no used-buffer notifications. */
void vh_drv_disable_cb(struct vh_drv_queue *q);

/** Free descriptors (split) / ring slots (packed). */
unsigned vh_drv_num_free(const struct vh_drv_queue *q);

/** Guest-physical addresses of the ring parts (for SET_VRING_ADDR). */
uint64_t vh_drv_desc_gpa(const struct vh_drv_queue *q);
uint64_t vh_drv_driver_gpa(const struct vh_drv_queue *q);
uint64_t vh_drv_device_gpa(const struct vh_drv_queue *q);

#ifdef __cplusplus
}
#endif

#endif /* VHOST_DRIVER_H */
