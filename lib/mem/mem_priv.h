/* SPDX-License-Identifier: MIT */
/* Internal layout of guest memory tables (include/vhost/mem.h). */
#ifndef VHOST_MEM_PRIV_H
#define VHOST_MEM_PRIV_H

#include <stdatomic.h>
#include <stdint.h>

#include "vhost/mem.h"

/* One mmap() of one region's fd, shared by every table holding the region. */
struct mem_map {
	atomic_uint refs;
	void *addr;
	size_t len;
};

struct mem_region {
	uint64_t gpa;
	uint64_t size;
	uint64_t uva;
	uint64_t mmap_offset;
	uint8_t *host; /* the byte at gpa */
	struct mem_map *map;
};

struct vh_mem_table {
	atomic_uint refs;
	unsigned n;
	struct vh_mem_log *log;	   /* one reference, or NULL */
	struct mem_region *by_gpa; /* n entries sorted by gpa */
	uint16_t *by_uva;	   /* n indices into by_gpa, sorted by uva */
};

struct vh_mem_log {
	atomic_uint refs;
	uint8_t *bits;
	uint64_t size;
	void *map;
	size_t map_len;
};

/* Allocate a table for @n regions, refs = 1, fields zeroed. */
struct vh_mem_table *mem_table_alloc(unsigned n);
/* Sort both indices and check overlap; -EINVAL on overlap. */
int mem_table_finish(struct vh_mem_table *t);
/* Share a log with a new table. */
struct vh_mem_log *mem_log_ref(struct vh_mem_log *log);
/* Copy of @t with @log attached (takes the log reference). */
int mem_table_with_log(const struct vh_mem_table *t, struct vh_mem_log *log,
		       struct vh_mem_table **out);

#endif /* VHOST_MEM_PRIV_H */
