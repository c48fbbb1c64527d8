/* SPDX-License-Identifier: MIT */
/*
 * One virtio-blk request (virtio 1.2 §5.2.6): the chain is checked before
 * anything is done with it, then served or refused with the right status
 * and used length.
 *
 * Layout: a 16-byte header at the start of the device-readable part (it
 * may span descriptors), data, and the status byte: the LAST byte of the
 * device-writable part. The used length counts the bytes the device wrote
 * (§2.7.8.2): data + status for a READ / GET_ID, 1 for everything else and
 * for every error. Refusals:
 *   - no device-writable byte: there is no status to write, so the buffer
 *     is given back unprocessed with used length 0 (never dropped: the
 *     driver gets its descriptors back);
 *   - header shorter than 16 bytes, data where the type has none or in the
 *     wrong direction (a READ into device-readable memory: §2.7.5.1 "MUST
 *     NOT write to a device-readable buffer"), length not a multiple of the
 *     logical block, misaligned sector, range past the capacity (checked
 *     without overflow), a write on a read-only device: IOERR;
 *   - unknown types, features not negotiated, unknown segment flags,
 *     UNMAP on a DISCARD (§5.2.6.2): UNSUPP.
 * READ / WRITE iovecs point into guest memory (the header or status byte
 * cut off by trimming one iovec in place, put back before completion):
 * the kernel reads or writes them directly, or, for --ram and a mapped
 * tmpfs image, one guarded copy (fault.c) moves the data here.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "blk.h"
#include "vhost/log.h"

#define BLK_LOG_MAX 20 /* refusals logged; the rest are only counted */

static const char *type_name(uint32_t t)
{
	switch (t) {
	case VIRTIO_BLK_T_IN:
		return "READ";
	case VIRTIO_BLK_T_OUT:
		return "WRITE";
	case VIRTIO_BLK_T_FLUSH:
		return "FLUSH";
	case VIRTIO_BLK_T_GET_ID:
		return "GET_ID";
	case VIRTIO_BLK_T_DISCARD:
		return "DISCARD";
	case VIRTIO_BLK_T_WRITE_ZEROES:
		return "WRITE_ZEROES";
	default:
		return "request";
	}
}

static __attribute__((format(printf, 3, 0))) void
vlog(struct blk_dev *d, const struct blk_req *r, const char *fmt, va_list ap)
{
	char msg[160];
	unsigned k;

	k = atomic_fetch_add_explicit(&d->nlogged, 1, memory_order_relaxed);
	if (k > BLK_LOG_MAX)
		return;
	if (k == BLK_LOG_MAX) {
		vh_warn("blk: more refused requests are counted, not logged");
		return;
	}
	vsnprintf(msg, sizeof(msg), fmt, ap);
	vh_warn("blk: ring %u: %s (head %u): %s", vh_queue_index(r->req.queue),
		type_name(r->type), r->req.elem.id, msg);
}

void blk_log_bad(struct blk_dev *d, const struct blk_req *r, const char *fmt,
		 ...)
{
	va_list ap;

	atomic_fetch_add_explicit(&d->nbad, 1, memory_order_relaxed);
	va_start(ap, fmt);
	vlog(d, r, fmt, ap);
	va_end(ap);
}

/* A well-formed request that failed (counted as IOERR by the caller). */
static __attribute__((format(printf, 3, 4))) void
log_failed(struct blk_dev *d, const struct blk_req *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(d, r, fmt, ap);
	va_end(ap);
}

/* Copy @len bytes from offset @off of @iov[0, n) into @buf. */
static bool iov_get(const struct iovec *iov, unsigned n, size_t off, void *buf,
		    size_t len)
{
	uint8_t *p = buf;

	for (unsigned i = 0; i < n && len; i++) {
		size_t c;

		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		c = iov[i].iov_len - off;
		if (c > len)
			c = len;
		memcpy(p, (const uint8_t *)iov[i].iov_base + off, c);
		p += c;
		len -= c;
		off = 0;
	}
	return len == 0;
}

/* Copy @len bytes of @buf into @iov[0, n) from its start. */
static void iov_put(const struct iovec *iov, unsigned n, const void *buf,
		    size_t len)
{
	const uint8_t *p = buf;

	for (unsigned i = 0; i < n && len; i++) {
		size_t c = iov[i].iov_len < len ? iov[i].iov_len : len;

		memcpy(iov[i].iov_base, p, c);
		p += c;
		len -= c;
	}
}

uint32_t blk_req_used_ok(const struct blk_req *r)
{
	return r->type == VIRTIO_BLK_T_IN ? r->len + 1 : 1;
}

void blk_req_finish(struct blk_req *r, uint8_t status, uint32_t used_len)
{
	struct blk_dev *d = r->bq->dev;

	if (r->fix_idx >= 0) {
		r->req.elem.iov[r->fix_idx] = r->fix_iov;
		r->fix_idx = -1;
	}
	if (status == VIRTIO_BLK_S_IOERR)
		atomic_fetch_add_explicit(&d->nioerr, 1, memory_order_relaxed);
	else if (status == VIRTIO_BLK_S_UNSUPP)
		atomic_fetch_add_explicit(&d->nunsupp, 1, memory_order_relaxed);
	*r->status = status;
	vh_req_complete(&r->req, used_len);
}

static bool refuse(struct blk_req *r, uint8_t status)
{
	blk_req_finish(r, status, 1);
	return false;
}

/* Why [sector, sector + bytes) cannot be served, or NULL. §5.2.6: the
 * sector is in 512-byte units whatever the logical block size; checked
 * without overflow. */
static const char *range_bad(const struct blk_dev *d, uint64_t sector,
			     uint64_t bytes)
{
	uint64_t cap = d->size / VIRTIO_BLK_SECTOR;
	uint64_t per_block = d->blk_size / VIRTIO_BLK_SECTOR;

	if (bytes % d->blk_size)
		return "length not a multiple of the logical block size";
	if (sector % per_block)
		return "sector not on a logical block boundary";
	if (sector > cap || bytes / VIRTIO_BLK_SECTOR > cap - sector)
		return "past the end of the disk";
	return NULL;
}

static bool prepare_rw(struct blk_dev *d, struct blk_req *r, uint64_t sector)
{
	struct vh_virtq_elem *e = &r->req.elem;
	bool write = r->type == VIRTIO_BLK_T_OUT;
	uint32_t len = write ? e->out_len - 16 : e->in_len - 1;
	const char *why;

	if (write && d->o.read_only) {
		blk_log_bad(d, r, "write to a read-only device");
		return refuse(r, VIRTIO_BLK_S_IOERR);
	}
	if (!write && e->out_len != 16) {
		blk_log_bad(d, r,
			    "%u device-readable bytes after the header: "
			    "a READ must not write them",
			    e->out_len - 16);
		return refuse(r, VIRTIO_BLK_S_IOERR);
	}
	if (write && e->in_len != 1) {
		blk_log_bad(d, r,
			    "%u device-writable bytes: a WRITE has only "
			    "the status byte",
			    e->in_len);
		return refuse(r, VIRTIO_BLK_S_IOERR);
	}
	why = range_bad(d, sector, len);
	if (why) {
		blk_log_bad(d, r,
			    "sector %llu + %u bytes: %s (%llu sectors of "
			    "512 bytes, %u-byte blocks)",
			    (unsigned long long)sector, len, why,
			    (unsigned long long)(d->size / VIRTIO_BLK_SECTOR),
			    d->blk_size);
		return refuse(r, VIRTIO_BLK_S_IOERR);
	}
	r->off = sector * VIRTIO_BLK_SECTOR;
	r->len = len;
	if (len == 0) {
		blk_req_finish(r, VIRTIO_BLK_S_OK, 1);
		return false;
	}
	if (write) {
		/* Data: the readable part after the header. */
		size_t skip = 16;
		unsigned k = 0;

		while (skip >= e->iov[k].iov_len)
			skip -= e->iov[k++].iov_len;
		if (skip) {
			r->fix_idx = (int)k;
			r->fix_iov = e->iov[k];
			e->iov[k].iov_base =
			    (uint8_t *)e->iov[k].iov_base + skip;
			e->iov[k].iov_len -= skip;
		}
		r->iov = e->iov + k;
		r->niov = e->out_num - k;
	} else {
		/* Data: the writable part without its last byte. */
		unsigned last = e->out_num + e->in_num - 1;

		r->iov = e->iov + e->out_num;
		r->niov = e->in_num;
		if (e->iov[last].iov_len == 1) {
			r->niov--;
		} else {
			r->fix_idx = (int)last;
			r->fix_iov = e->iov[last];
			e->iov[last].iov_len--;
		}
	}
	if (d->kind == BLK_NULL) {
		blk_req_finish(r, VIRTIO_BLK_S_OK, blk_req_used_ok(r));
		return false;
	}
	if (d->ram) {
		/* --ram or a mapped tmpfs image: one copy, here. */
		if (blk_copy_iov(d->ram + r->off, r->iov, r->niov, write)) {
			log_failed(d, r,
				   "SIGBUS copying %u bytes at byte %llu: the "
				   "image or the guest memory shrank under us",
				   len, (unsigned long long)r->off);
			return refuse(r, VIRTIO_BLK_S_IOERR);
		}
		blk_req_finish(r, VIRTIO_BLK_S_OK, blk_req_used_ok(r));
		return false;
	}
	return true;
}

static void get_id(struct blk_dev *d, struct blk_req *r)
{
	struct vh_virtq_elem *e = &r->req.elem;
	char id[VIRTIO_BLK_ID_BYTES];
	uint32_t n = e->in_len - 1;

	/* §5.2.6: 20 bytes, NUL-padded when the serial is shorter. */
	memset(id, 0, sizeof(id));
	memcpy(id, d->o.serial, strnlen(d->o.serial, sizeof(id)));
	if (n > sizeof(id))
		n = sizeof(id);
	iov_put(e->iov + e->out_num, e->in_num, id, n);
	blk_req_finish(r, VIRTIO_BLK_S_OK, n + 1);
}

static void discard_zeroes(struct blk_dev *d, struct blk_req *r, uint64_t feat)
{
	struct vh_virtq_elem *e = &r->req.elem;
	bool wz = r->type == VIRTIO_BLK_T_WRITE_ZEROES;
	uint32_t bytes = e->out_len - 16, nseg = bytes / 16;
	struct virtio_blk_discard_write_zeroes s;
	int err = 0;

	if (!(feat & BLK_FBIT(wz ? VIRTIO_BLK_F_WRITE_ZEROES
				 : VIRTIO_BLK_F_DISCARD))) {
		blk_log_bad(d, r, "feature not negotiated");
		refuse(r, VIRTIO_BLK_S_UNSUPP);
		return;
	}
	if (d->o.read_only || e->in_len != 1 || bytes == 0 || bytes % 16 ||
	    nseg > BLK_MAX_DWZ_SEG) {
		blk_log_bad(d, r, "%u bytes of ranges, %u writable bytes%s",
			    bytes, e->in_len,
			    d->o.read_only ? " on a read-only device" : "");
		refuse(r, VIRTIO_BLK_S_IOERR);
		return;
	}
	/* Check every range before touching any. */
	for (uint32_t i = 0; i < nseg; i++) {
		iov_get(e->iov, e->out_num, 16 + 16 * (size_t)i, &s, 16);
		if ((s.flags & ~VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP) ||
		    (!wz && s.flags)) {
			blk_log_bad(d, r, "range %u: flags 0x%x", i, s.flags);
			refuse(r, VIRTIO_BLK_S_UNSUPP);
			return;
		}
		const char *why =
		    s.num_sectors > BLK_MAX_DWZ_SECTORS
			? "more sectors than the config space allows"
			: range_bad(d, s.sector,
				    (uint64_t)s.num_sectors *
					VIRTIO_BLK_SECTOR);

		if (why) {
			blk_log_bad(
			    d, r, "range %u: sector %llu + %u sectors: %s", i,
			    (unsigned long long)s.sector, s.num_sectors, why);
			refuse(r, VIRTIO_BLK_S_IOERR);
			return;
		}
	}
	for (uint32_t i = 0; i < nseg && !err; i++) {
		uint64_t off, len;

		iov_get(e->iov, e->out_num, 16 + 16 * (size_t)i, &s, 16);
		off = s.sector * VIRTIO_BLK_SECTOR;
		len = (uint64_t)s.num_sectors * VIRTIO_BLK_SECTOR;
		if (len == 0)
			continue;
		err = wz ? blk_image_write_zeroes(
			       d, off, len,
			       s.flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP)
			 : blk_image_discard(d, off, len);
	}
	if (err)
		vh_err("blk: %s at sector %llu failed: %s", type_name(r->type),
		       (unsigned long long)s.sector, vh_strerror(err));
	blk_req_finish(r, err ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK, 1);
}

bool blk_req_prepare(struct blk_dev *d, struct blk_req *r)
{
	struct vh_virtq_elem *e = &r->req.elem;
	uint64_t feat =
	    atomic_load_explicit(&d->features, memory_order_relaxed);
	struct virtio_blk_outhdr h;
	const struct iovec *last;

	r->fix_idx = -1;
	r->buffered = false;
	r->type = UINT32_MAX;
	if (e->in_len == 0) {
		blk_log_bad(d, r,
			    "no device-writable byte for the status: "
			    "returned unprocessed");
		vh_req_complete(&r->req, 0);
		return false;
	}
	last = &e->iov[e->out_num + e->in_num - 1];
	r->status = (uint8_t *)last->iov_base + last->iov_len - 1;
	if (!iov_get(e->iov, e->out_num, 0, &h, sizeof(h))) {
		blk_log_bad(d, r, "header of %u bytes, not 16", e->out_len);
		return refuse(r, VIRTIO_BLK_S_IOERR);
	}
	r->type = h.type;
	switch (h.type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		return prepare_rw(d, r, h.sector);
	case VIRTIO_BLK_T_FLUSH:
		if (!(feat & BLK_FBIT(VIRTIO_BLK_F_FLUSH))) {
			blk_log_bad(d, r, "VIRTIO_BLK_F_FLUSH not negotiated");
			return refuse(r, VIRTIO_BLK_S_UNSUPP);
		}
		r->len = 0;
		if (d->kind == BLK_RAM || d->kind == BLK_NULL) {
			blk_req_finish(r, VIRTIO_BLK_S_OK, 1);
			return false;
		}
		return true;
	case VIRTIO_BLK_T_GET_ID:
		get_id(d, r);
		return false;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		discard_zeroes(d, r, feat);
		return false;
	default:
		blk_log_bad(d, r, "type %u not supported", h.type);
		return refuse(r, VIRTIO_BLK_S_UNSUPP);
	}
}
