/* SPDX-License-Identifier: MIT */
/*
 * Virtqueue test harness: one memfd is the guest memory, mapped twice — the
 * driver's view (h->mem) and the device's (a vh_mem_table). Guest-physical
 * addresses are 1:1 with the driver's host addresses, so a test builds a
 * descriptor table by hand with plain pointers.
 */
#ifndef VQ_HARNESS_H
#define VQ_HARNESS_H

#include <stdbool.h>
#include <stdint.h>

#include "vhost/driver.h"
#include "vhost/log.h"
#include "vhost/mem.h"
#include "vhost/virtq.h"

#define H_MEM_LEN    (1u << 20)
#define H_DESC_OFF   0x0000u
#define H_DRIVER_OFF 0x2000u
#define H_DEVICE_OFF 0x4000u
#define H_IND_OFF    0x8000u
#define H_IND_MAX    8u
#define H_DATA_OFF   0x20000u
#define H_BUF_LEN    0x1000u

struct h {
	int fd;
	uint8_t *mem;
	struct vh_mem_table *t;
	struct vh_virtq *vq;
	struct vh_drv_queue *drv;
	struct vh_virtq_elem *e;
	uint64_t gpa_base; /* guest-physical address of mem[0] */
	uint16_t size;
	uint64_t features;
	bool packed;
	uint16_t avail_idx;  /* hand-built split rings */
	uint16_t next_avail; /* hand-built packed rings */
	bool avail_wrap;
};

/* Errors the library logged since start (quiet handler installed). */
extern int h_log_count;
void h_quiet_logs(void);

/* Feature masks. */
#define F(bit) vh_virtio_feature_mask(bit)

/*
 * Memory, table, driver queue (rings zeroed) and device queue of @size
 * with @features (RING_PACKED selects packed) and VH_VIRTQ_F_* @flags.
 */
void h_init(struct h *h, uint16_t size, uint64_t features, unsigned flags);
/* The same with guest memory at guest-physical @gpa_base instead of 1:1. */
void h_init_at(struct h *h, uint16_t size, uint64_t features, unsigned flags,
	       uint64_t gpa_base);
/* Only the device queue, again, over the same memory (after a "crash"). */
void h_new_device(struct h *h, unsigned flags);
void h_fini(struct h *h);

/* Guest-physical / front-end virtual address of @off bytes into memory. */
uint64_t h_gpa(const struct h *h, uint64_t off);
uint64_t h_uva(const struct h *h, uint64_t off);
/* Data buffer @k (H_BUF_LEN bytes each). */
uint64_t h_buf(const struct h *h, unsigned k);

/* Split, by hand. */
void h_set_desc(struct h *h, unsigned i, uint64_t addr, uint32_t len,
		uint16_t flags, uint16_t next);
void h_set_ind(struct h *h, unsigned table, unsigned i, uint64_t addr,
	       uint32_t len, uint16_t flags, uint16_t next);
uint64_t h_ind_gpa(const struct h *h, unsigned table);
void h_avail_push(struct h *h, uint16_t head);
void h_avail_set_idx(struct h *h, uint16_t idx);

/* Packed, by hand: the next ring slot, made available at once when
 * @expose (AVAIL/USED bits from the driver wrap counter). */
void h_pdesc(struct h *h, uint64_t addr, uint32_t len, uint16_t id,
	     uint16_t flags);

/* Pop must fail with -EIO for @why; the queue stays broken; logged once. */
void h_expect_broken(struct h *h, enum vh_virtq_error why);

/* Add two adjacent 4 KiB regions at guest-physical @gpa and @gpa + 4096
 * (separate memfds, so separate mappings) to h->t, which they replace. */
void h_add_adjacent_regions(struct h *h, uint64_t gpa);

#endif /* VQ_HARNESS_H */
