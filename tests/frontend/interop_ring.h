/* SPDX-License-Identifier: MIT */
/*
 * Guest memory (one memfd region) and split virtqueues for the interop
 * programs, which play the VMM and the guest driver at once.
 */
#ifndef VH_INTEROP_RING_H
#define VH_INTEROP_RING_H

#include <stdbool.h>
#include <stdint.h>

/* One region: guest-physical GPA..GPA+size, mapped here at base. */
struct guest_mem {
	int fd;
	uint8_t *base;
	uint64_t gpa;
	uint64_t size;
};

/* A split ring (virtio 1.2 §2.7) living in guest memory. */
struct split_ring {
	struct guest_mem *mem;
	uint16_t num;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	uint16_t avail_idx; /* next avail index we publish */
	uint16_t used_seen; /* used entries consumed */
	uint16_t next_desc;
	int kick, call; /* eventfds */
};

struct ring_buf {
	uint64_t gpa;
	uint32_t len;
	bool device_writes;
};

/* PASS/FAIL reporting: "<prog>: FAIL: <why>" and exit(1). */
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
#define CHECK(cond, ...)                  \
	do {                              \
		if (!(cond))              \
			die(__VA_ARGS__); \
	} while (0)

void guest_mem_init(struct guest_mem *m, uint64_t gpa, uint64_t size);
void guest_mem_fini(struct guest_mem *m);
/* The host pointer of guest-physical @gpa. */
void *gpa_ptr(struct guest_mem *m, uint64_t gpa);

/* Lay out ring @num entries at guest offset @off (desc, avail, used each
 * on its own 4 KiB page) and make its eventfds. */
void ring_init(struct split_ring *r, struct guest_mem *m, uint16_t num,
	       uint64_t off);
void ring_fini(struct split_ring *r);
/* Chain @n buffers, publish the head; returns the head index. */
uint16_t ring_add(struct split_ring *r, const struct ring_buf *b, unsigned n);
void ring_kick(struct split_ring *r);
/* Wait up to @timeout_ms for a used entry; false on timeout. */
bool ring_wait_used(struct split_ring *r, int timeout_ms, uint32_t *id,
		    uint32_t *len);

extern const char *prog_name;

#endif /* VH_INTEROP_RING_H */
