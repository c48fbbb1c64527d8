/* SPDX-License-Identifier: MIT */
/*
 * IOTLB messages written to the device fd (struct vh_k_msg_v2, Linux
 * drivers/vhost/vhost.c vhost_chr_write_iter): DMA map and unmap, batched
 * between BATCH_BEGIN and BATCH_END when IOTLB_BATCH is acknowledged, and
 * vhost-vdpa's memory table built from them. The handle mirrors what is
 * mapped, the way vhost-vdpa does: an unmap drops every mapping it
 * overlaps.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kern_priv.h"

static const char *iotlb_op_name(uint8_t op)
{
	switch (op) {
	case VH_K_IOTLB_UPDATE:
		return "VHOST_IOTLB_UPDATE";
	case VH_K_IOTLB_INVALIDATE:
		return "VHOST_IOTLB_INVALIDATE";
	case VH_K_IOTLB_BATCH_BEGIN:
		return "VHOST_IOTLB_BATCH_BEGIN";
	default:
		return "VHOST_IOTLB_BATCH_END";
	}
}

/* One message; 0 or the negative errno of the write, logged. */
static int iotlb_send(struct kern *k, uint32_t asid, uint8_t op,
		      const struct vh_kern_dma *d)
{
	struct vh_k_msg_v2 msg;
	ssize_t n;
	int r;

	memset(&msg, 0, sizeof(msg));
	msg.type = VH_K_IOTLB_MSG_V2;
	msg.asid = asid;
	msg.u.iotlb.type = op;
	if (d) {
		msg.u.iotlb.iova = d->iova;
		msg.u.iotlb.size = d->size;
		msg.u.iotlb.uaddr = d->uaddr;
		msg.u.iotlb.perm = (uint8_t)d->perm;
	}
	do
		n = write(k->fd, &msg, sizeof(msg));
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof(msg))
		return 0;
	r = n < 0 ? -errno : -EIO;
	vh_err("%s %s: %s asid %u iova 0x%llx size 0x%llx: %s", kern_kind(k),
	       k->name, iotlb_op_name(op), asid,
	       (unsigned long long)(d ? d->iova : 0),
	       (unsigned long long)(d ? d->size : 0), vh_strerror(r));
	return r;
}

int kern_vdpa_backend_ready(struct kern *k)
{
	const uint64_t wanted = (UINT64_C(1) << VH_K_BACKEND_F_IOTLB_MSG_V2) |
				(UINT64_C(1) << VH_K_BACKEND_F_IOTLB_BATCH) |
				(UINT64_C(1) << VH_K_BACKEND_F_IOTLB_ASID) |
				(UINT64_C(1) << VH_K_BACKEND_F_SUSPEND) |
				(UINT64_C(1) << VH_K_BACKEND_F_RESUME);
	uint64_t offered = 0, ack;
	int r;

	if (k->dev != VH_KERN_VDPA || k->backend_set)
		return 0;
	r = KIOC(k, GET_BACKEND_FEATURES, &offered);
	if (r < 0)
		return r;
	ack = offered & wanted;
	r = KIOC(k, SET_BACKEND_FEATURES, &ack);
	if (r < 0)
		return r;
	k->backend_set = true;
	k->backend_acked = ack;
	return 0;
}

static bool batching(const struct kern *k, unsigned n)
{
	return n > 1 &&
	       (k->backend_acked & (UINT64_C(1) << VH_K_BACKEND_F_IOTLB_BATCH));
}

static int reserve(struct kern *k, unsigned more)
{
	struct kern_map *m;
	unsigned cap;

	if (k->nmaps + more <= k->capmaps)
		return 0;
	cap = k->nmaps + more + 8;
	m = realloc(k->maps, cap * sizeof(*m));
	if (!m)
		return -ENOMEM;
	k->maps = m;
	k->capmaps = cap;
	return 0;
}

static bool overlaps(const struct kern_map *m, uint32_t asid, uint64_t iova,
		     uint64_t size)
{
	return m->asid == asid && iova < m->iova + m->size &&
	       m->iova < iova + size;
}

/* Drop the mirrored mappings the kernel dropped for an INVALIDATE. */
static void forget_range(struct kern *k, uint32_t asid, uint64_t iova,
			 uint64_t size)
{
	unsigned i = 0;

	while (i < k->nmaps) {
		if (overlaps(&k->maps[i], asid, iova, size))
			k->maps[i] = k->maps[--k->nmaps];
		else
			i++;
	}
}

static void record(struct kern *k, uint32_t asid, const struct vh_kern_dma *d,
		   bool table)
{
	struct kern_map *m = &k->maps[k->nmaps++]; /* reserved before */

	m->asid = asid;
	m->iova = d->iova;
	m->size = d->size;
	m->uaddr = d->uaddr;
	m->perm = d->perm;
	m->table = table;
}

void kern_iotlb_forget(struct kern *k)
{
	k->nmaps = 0;
}

int kern_iotlb_covered(const struct kern *k, uint64_t iova, uint64_t len)
{
	unsigned i;

	if (len == 0 || iova + len < iova)
		return -EFAULT;
	for (i = 0; i < k->nmaps; i++) {
		const struct kern_map *m = &k->maps[i];

		if (iova >= m->iova && iova - m->iova < m->size &&
		    len <= m->size - (iova - m->iova))
			return 0;
	}
	return -EFAULT;
}

/* Shape and, on vhost-vdpa, IOVA range (VHOST_VDPA_GET_IOVA_RANGE, read
 * once) of the ranges to map or unmap. */
static int check_ranges(struct kern *k, const char *what,
			const struct vh_kern_dma *d, unsigned n, bool map)
{
	struct vh_k_vdpa_iova_range range;
	unsigned i;

	if (k->dev == VH_KERN_VDPA && !k->iova_known &&
	    KIOC(k, VDPA_GET_IOVA_RANGE, &range) == 0) {
		k->iova_known = true;
		k->iova_first = range.first;
		k->iova_last = range.last;
	}
	for (i = 0; i < n; i++) {
		if (d[i].size == 0 || d[i].iova + d[i].size - 1 < d[i].iova ||
		    (map && (d[i].perm < VH_KERN_DMA_RO ||
			     d[i].perm > VH_KERN_DMA_RW))) {
			vh_err("%s %s: %s: range %u (iova 0x%llx size 0x%llx "
			       "perm %u) is empty, wraps or has bad rights",
			       kern_kind(k), k->name, what, i,
			       (unsigned long long)d[i].iova,
			       (unsigned long long)d[i].size, d[i].perm);
			return -EINVAL;
		}
		if (map && k->iova_known &&
		    (d[i].iova < k->iova_first ||
		     d[i].iova + d[i].size - 1 > k->iova_last)) {
			vh_err("%s %s: %s: iova 0x%llx size 0x%llx outside the "
			       "device's IOVA range [0x%llx, 0x%llx]",
			       kern_kind(k), k->name, what,
			       (unsigned long long)d[i].iova,
			       (unsigned long long)d[i].size,
			       (unsigned long long)k->iova_first,
			       (unsigned long long)k->iova_last);
			return -ERANGE;
		}
	}
	return 0;
}

/* Map @n ranges (space reserved in the mirror); on failure unmap those
 * this call mapped. Inside a batch when the caller opened one. */
static int map_ranges(struct kern *k, uint32_t asid,
		      const struct vh_kern_dma *d, unsigned n, bool table)
{
	unsigned i, j;
	int r = 0;

	for (i = 0; i < n && r == 0; i++) {
		r = iotlb_send(k, asid, VH_K_IOTLB_UPDATE, &d[i]);
		if (r == 0)
			record(k, asid, &d[i], table);
	}
	if (r < 0) {
		for (j = 0; j + 1 < i; j++)
			if (iotlb_send(k, asid, VH_K_IOTLB_INVALIDATE, &d[j]) ==
			    0)
				forget_range(k, asid, d[j].iova, d[j].size);
	}
	return r;
}

static int unmap_ranges(struct kern *k, uint32_t asid,
			const struct vh_kern_dma *d, unsigned n)
{
	unsigned i;
	int r;

	for (i = 0; i < n; i++) {
		r = iotlb_send(k, asid, VH_K_IOTLB_INVALIDATE, &d[i]);
		if (r < 0)
			return r;
		forget_range(k, asid, d[i].iova, d[i].size);
	}
	return 0;
}

/* Open / close a batch of address space @asid (vhost-vdpa refuses other
 * spaces inside it); BATCH_END goes out even after a failure inside, so
 * the device sees the mappings that are in place. */
static int batch_begin(struct kern *k, uint32_t asid, bool on)
{
	return on ? iotlb_send(k, asid, VH_K_IOTLB_BATCH_BEGIN, NULL) : 0;
}

static int batch_end(struct kern *k, uint32_t asid, bool on, int r)
{
	int e = on ? iotlb_send(k, asid, VH_K_IOTLB_BATCH_END, NULL) : 0;

	return r < 0 ? r : e;
}

int vh_kern_dma_map(struct vh_transport *t, uint32_t asid,
		    const struct vh_kern_dma *maps, unsigned n)
{
	struct kern *k = t ? kern_of(t) : NULL;
	bool batch;
	int r;

	if (!k || !maps || n == 0)
		return -EINVAL;
	r = kern_vdpa_backend_ready(k);
	if (r == 0)
		r = check_ranges(k, "DMA map", maps, n, true);
	if (r == 0)
		r = reserve(k, n);
	if (r < 0)
		return r;
	batch = batching(k, n);
	r = batch_begin(k, asid, batch);
	if (r < 0)
		return r;
	r = map_ranges(k, asid, maps, n, false);
	return batch_end(k, asid, batch, r);
}

int vh_kern_dma_unmap(struct vh_transport *t, uint32_t asid,
		      const struct vh_kern_dma *ranges, unsigned n)
{
	struct kern *k = t ? kern_of(t) : NULL;
	bool batch;
	int r;

	if (!k || !ranges || n == 0)
		return -EINVAL;
	r = kern_vdpa_backend_ready(k);
	if (r == 0)
		r = check_ranges(k, "DMA unmap", ranges, n, false);
	if (r < 0)
		return r;
	batch = batching(k, n);
	r = batch_begin(k, asid, batch);
	if (r < 0)
		return r;
	r = unmap_ranges(k, asid, ranges, n);
	return batch_end(k, asid, batch, r);
}

/* The previous table's mappings, as unmap ranges (caller frees). */
static int table_maps(const struct kern *k, struct vh_kern_dma **out,
		      unsigned *n)
{
	struct vh_kern_dma *d;
	unsigned i, c = 0;

	*out = NULL;
	*n = 0;
	for (i = 0; i < k->nmaps; i++)
		c += k->maps[i].table;
	if (c == 0)
		return 0;
	d = calloc(c, sizeof(*d));
	if (!d)
		return -ENOMEM;
	for (i = 0, c = 0; i < k->nmaps; i++) {
		if (!k->maps[i].table)
			continue;
		d[c].iova = k->maps[i].iova;
		d[c].size = k->maps[i].size;
		d[c].uaddr = k->maps[i].uaddr;
		d[c].perm = k->maps[i].perm;
		c++;
	}
	*out = d;
	*n = c;
	return 0;
}

/* transport.h: on vhost-vdpa the memory table becomes IOTLB updates with
 * IOVA = GPA in address space 0, replacing the previous table's. */
int kern_vdpa_set_mem_table(struct vh_transport *t,
			    const struct vh_transport_region *rg, unsigned n)
{
	struct kern *k = vh_transport_priv(t);
	struct vh_kern_dma *old = NULL, *d;
	unsigned nold = 0, i;
	bool batch;
	int r;

	d = calloc(n, sizeof(*d));
	if (!d)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		d[i].iova = rg[i].guest_phys_addr;
		d[i].size = rg[i].size;
		d[i].uaddr = rg[i].user_addr;
		d[i].perm = VH_KERN_DMA_RW;
	}
	r = kern_vdpa_backend_ready(k);
	if (r == 0)
		r = check_ranges(k, "memory table", d, n, true);
	if (r == 0)
		r = table_maps(k, &old, &nold);
	if (r == 0)
		r = reserve(k, n + nold);
	if (r < 0)
		goto out;
	batch = batching(k, n + nold);
	r = batch_begin(k, 0, batch);
	if (r < 0)
		goto out;
	r = unmap_ranges(k, 0, old, nold);
	if (r == 0) {
		r = map_ranges(k, 0, d, n, true);
		/* Put the previous table back (best effort): the caller
		 * keeps it, the transport still records it. */
		if (r < 0 && map_ranges(k, 0, old, nold, true) < 0)
			vh_err("%s %s: memory table: the previous mappings "
			       "could not be restored",
			       kern_kind(k), k->name);
	}
	r = batch_end(k, 0, batch, r);
out:
	free(old);
	free(d);
	return r;
}
