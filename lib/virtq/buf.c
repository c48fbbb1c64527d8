/* SPDX-License-Identifier: MIT */
/*
 * What split and packed rings share once a descriptor is read: elements,
 * turning one guest buffer into iovecs (one per memory region it crosses),
 * locating indirect tables, and dirty logging of what the device wrote.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vq_priv.h"

struct vh_virtq_elem *vh_virtq_elem_new(unsigned iov_cap)
{
	struct vh_virtq_elem *e;
	size_t sz = sizeof(*e) + (size_t)iov_cap * sizeof(struct iovec) +
		    (size_t)iov_cap * sizeof(uint64_t);

	if (iov_cap == 0 || iov_cap > 65536)
		return NULL;
	e = calloc(1, sz);
	if (!e)
		return NULL;
	e->iov_cap = iov_cap;
	e->iov = (struct iovec *)(e + 1);
	e->gpa = (uint64_t *)(e->iov + iov_cap);
	return e;
}

void vh_virtq_elem_free(struct vh_virtq_elem *e)
{
	free(e);
}

void *vq_gpa_part_slow(struct vh_virtq *vq, const struct vh_mem_table *t,
		       uint64_t a, uint64_t left, uint64_t *part)
{
	uint64_t room, ask = UINT64_MAX - a;
	uint8_t *p;

	if (t != vq->ring_table || !t)
		return vh_mem_gpa_to_host_part(t, a, left, part);
	/* Ask for everything up to the end of the address space: the answer
	 * is where @a's region ends (one byte short for a region ending at
	 * 2^64: its last byte is a lookup of its own). */
	p = vh_mem_gpa_to_host_part(t, a, ask ? ask : 1, &room);
	if (!p) {
		*part = 0;
		return NULL;
	}
	/* The cached part of the same region (same end, same offset between
	 * guest and host addresses) grows down to @a; else @a's region
	 * replaces it. Buffers of a pool come at any address of a region,
	 * so after a few misses the whole region is cached. */
	if (vq->rc_size && vq->rc_gpa > a &&
	    vq->rc_gpa + vq->rc_size == a + room &&
	    vq->rc_host - (vq->rc_gpa - a) == p) {
		vq->rc_size += vq->rc_gpa - a;
	} else {
		vq->rc_size = room;
	}
	vq->rc_gpa = a;
	vq->rc_host = p;
	*part = left < room ? left : room;
	return p;
}

enum vh_virtq_error vq_add_buf(struct vh_virtq *vq,
			       const struct vh_mem_table *t,
			       struct vh_virtq_elem *e, uint64_t addr,
			       uint32_t len, bool writable)
{
	uint64_t a = addr, left = len;

	/* Policy: a zero-length element is refused (documented in virtq.h). */
	if (len == 0)
		return VH_VIRTQ_E_ZERO_LEN;
	/* §2.7.4.2 / §2.8.17: device-writable elements come last. */
	if (!writable && e->in_num && !vq->any_order)
		return VH_VIRTQ_E_WRITE_ORDER;
	/* §2.7.5.2: a chain is at most 2^32 bytes; used len is 32 bits. */
	if ((uint64_t)e->out_len + e->in_len + len > UINT32_MAX)
		return VH_VIRTQ_E_TOTAL_LEN;
	if (addr + len - 1 < addr)
		return VH_VIRTQ_E_ADDR;
	/* One iovec per region the buffer crosses. */
	while (left) {
		uint64_t part;
		void *p = vq_gpa_part(vq, t, a, left, &part);
		unsigned pos;

		if (!p)
			return VH_VIRTQ_E_ADDR;
		if (e->out_num + e->in_num >= e->iov_cap)
			return VH_VIRTQ_E_IOV_CAP;
		if (writable) {
			pos = e->out_num + e->in_num;
			e->in_num++;
		} else {
			/* Readable ones stay first (VH_VIRTQ_F_ANY_ORDER
			 * may bring one after writable ones). */
			pos = e->out_num;
			if (e->in_num) {
				memmove(&e->iov[pos + 1], &e->iov[pos],
					e->in_num * sizeof(e->iov[0]));
				if (e->gpa)
					memmove(&e->gpa[pos + 1], &e->gpa[pos],
						e->in_num * sizeof(e->gpa[0]));
			}
			e->out_num++;
		}
		e->iov[pos].iov_base = p;
		e->iov[pos].iov_len = (size_t)part;
		if (e->gpa)
			e->gpa[pos] = a;
		a += part;
		left -= part;
	}
	if (writable)
		e->in_len += len;
	else
		e->out_len += len;
	return VH_VIRTQ_E_NONE;
}

enum vh_virtq_error vq_indirect_table(const struct vh_mem_table *t,
				      uint64_t addr, uint32_t len, void **table,
				      bool *slow)
{
	uint64_t a = addr, left = len;

	*slow = false;
	*table = vh_mem_gpa_to_host(t, addr, len);
	if (*table)
		return VH_VIRTQ_E_NONE;
	/* Not in one region: fine if every byte is mapped (adjacent
	 * regions); entries are then copied one at a time. */
	if (addr + len - 1 < addr)
		return VH_VIRTQ_E_INDIRECT_ADDR;
	while (left) {
		uint64_t part;

		if (!vh_mem_gpa_to_host_part(t, a, left, &part))
			return VH_VIRTQ_E_INDIRECT_ADDR;
		a += part;
		left -= part;
	}
	*slow = true;
	return VH_VIRTQ_E_NONE;
}

void vq_log_ring(struct vh_virtq *vq, const struct vh_mem_table *t,
		 uint64_t off, uint64_t len)
{
	struct vh_mem_log *log = vh_mem_table_log(t);

	if (!log || !atomic_load_explicit(&vq->log_used, memory_order_relaxed))
		return;
	vh_mem_log_mark(log, vq->log_gpa + off, len);
}

int vh_virtq_log_write(const struct vh_mem_table *t,
		       const struct vh_virtq_elem *e, uint32_t len)
{
	struct vh_mem_log *log = vh_mem_table_log(t);
	int err = 0;

	if (!log || !e->gpa)
		return 0;
	for (unsigned i = e->out_num; i < e->out_num + e->in_num && len; i++) {
		uint64_t n = e->iov[i].iov_len < len ? e->iov[i].iov_len : len;
		int r = vh_mem_log_mark(log, e->gpa[i], n);

		if (r)
			err = r;
		len -= (uint32_t)n;
	}
	return err;
}
