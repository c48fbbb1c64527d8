/* SPDX-License-Identifier: MIT */
/*
 * Address translation: guest-physical and front-end virtual addresses to
 * host pointers, by binary search over the sorted regions. Every range is
 * checked in full before a pointer is returned; nothing here dereferences
 * guest memory except the explicit copy helpers at the end.
 */
#include <errno.h>
#include <string.h>

#include "mem_priv.h"

/* Region holding guest-physical @gpa, or NULL. */
static const struct mem_region *find_gpa(const struct vh_mem_table *t,
					 uint64_t gpa)
{
	unsigned lo = 0, hi = t->n;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		const struct mem_region *r = &t->by_gpa[mid];

		if (gpa < r->gpa)
			hi = mid;
		else if (gpa - r->gpa >= r->size)
			lo = mid + 1;
		else
			return r;
	}
	return NULL;
}

/* Region holding front-end virtual @uva, or NULL. */
static const struct mem_region *find_uva(const struct vh_mem_table *t,
					 uint64_t uva)
{
	unsigned lo = 0, hi = t->n;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		const struct mem_region *r = &t->by_gpa[t->by_uva[mid]];

		if (uva < r->uva)
			hi = mid;
		else if (uva - r->uva >= r->size)
			lo = mid + 1;
		else
			return r;
	}
	return NULL;
}

/* [off, off+len) inside a region of @size bytes, written to avoid overflow. */
static int fits(uint64_t off, uint64_t len, uint64_t size)
{
	return len <= size - off;
}

void *vh_mem_gpa_to_host(const struct vh_mem_table *t, uint64_t gpa,
			 uint64_t len)
{
	const struct mem_region *r = find_gpa(t, gpa);

	if (!r || !fits(gpa - r->gpa, len, r->size))
		return NULL;
	return r->host + (gpa - r->gpa);
}

void *vh_mem_gpa_to_host_part(const struct vh_mem_table *t, uint64_t gpa,
			      uint64_t len, uint64_t *plen)
{
	const struct mem_region *r = find_gpa(t, gpa);
	uint64_t left;

	if (!r) {
		*plen = 0;
		return NULL;
	}
	left = r->size - (gpa - r->gpa);
	*plen = len < left ? len : left;
	return r->host + (gpa - r->gpa);
}

void *vh_mem_uva_to_host(const struct vh_mem_table *t, uint64_t uva,
			 uint64_t len)
{
	const struct mem_region *r = find_uva(t, uva);

	if (!r || !fits(uva - r->uva, len, r->size))
		return NULL;
	return r->host + (uva - r->uva);
}

int vh_mem_uva_to_gpa(const struct vh_mem_table *t, uint64_t uva, uint64_t len,
		      uint64_t *gpa)
{
	const struct mem_region *r = find_uva(t, uva);

	if (!r || !fits(uva - r->uva, len, r->size))
		return -EFAULT;
	*gpa = r->gpa + (uva - r->uva);
	return 0;
}

int vh_mem_gpa_to_iov(const struct vh_mem_table *t, uint64_t gpa, uint64_t len,
		      struct iovec *iov, unsigned max, unsigned *n)
{
	unsigned k = 0;

	*n = 0;
	if (len && gpa + len - 1 < gpa)
		return -EFAULT;
	while (len) {
		uint64_t part;
		void *p = vh_mem_gpa_to_host_part(t, gpa, len, &part);

		if (!p)
			return -EFAULT;
		if (k == max)
			return -ENOBUFS;
		iov[k].iov_base = p;
		iov[k].iov_len = (size_t)part;
		k++;
		gpa += part;
		len -= part;
	}
	*n = k;
	return 0;
}

int vh_mem_read(const struct vh_mem_table *t, uint64_t gpa, void *buf,
		size_t len)
{
	uint8_t *dst = buf;

	if (len && gpa + len - 1 < gpa)
		return -EFAULT;
	while (len) {
		uint64_t part;
		void *p = vh_mem_gpa_to_host_part(t, gpa, len, &part);

		if (!p)
			return -EFAULT;
		memcpy(dst, p, (size_t)part);
		dst += part;
		gpa += part;
		len -= (size_t)part;
	}
	return 0;
}

int vh_mem_write(const struct vh_mem_table *t, uint64_t gpa, const void *buf,
		 size_t len)
{
	const uint8_t *src = buf;
	uint64_t a = gpa;
	size_t left = len;

	if (len && gpa + len - 1 < gpa)
		return -EFAULT;
	/* Check the whole range first so a failure writes nothing. */
	while (left) {
		uint64_t part;

		if (!vh_mem_gpa_to_host_part(t, a, left, &part))
			return -EFAULT;
		a += part;
		left -= (size_t)part;
	}
	for (a = gpa, left = len; left;) {
		uint64_t part;
		void *p = vh_mem_gpa_to_host_part(t, a, left, &part);

		memcpy(p, src, (size_t)part);
		src += part;
		a += part;
		left -= (size_t)part;
	}
	if (t->log && len)
		vh_mem_log_mark(t->log, gpa, len);
	return 0;
}
