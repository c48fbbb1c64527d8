/* SPDX-License-Identifier: MIT */
/* Helpers shared by the wire layer's files (lib/proto); not installed. */
#ifndef VHOST_PROTO_PRIV_H
#define VHOST_PROTO_PRIV_H

#include <stdbool.h>
#include <stdint.h>

/*
 * [start, start + size) has no representable exclusive end: start + size
 * exceeds UINT64_MAX. Used for memory regions, logs and mmap requests so
 * that every later "start + size" is overflow-free.
 */
static inline bool vh_range_wraps(uint64_t start, uint64_t size)
{
	return size > UINT64_MAX - start;
}

/*
 * The inclusive range [start, start + size - 1] wraps (size != 0). This is
 * the kernel's rule for IOTLB entries (vhost_chk_iotlb_overflow): the last
 * byte may be UINT64_MAX.
 */
static inline bool vh_range_wraps_inclusive(uint64_t start, uint64_t size)
{
	return size != 0 && size - 1 > UINT64_MAX - start;
}

/* [a, a + as) and [b, b + bs) overlap; both ends known representable. */
static inline bool vh_ranges_overlap(uint64_t a, uint64_t as, uint64_t b,
				     uint64_t bs)
{
	return a < b + bs && b < a + as;
}

#endif /* VHOST_PROTO_PRIV_H */
