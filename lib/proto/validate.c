/* SPDX-License-Identifier: MIT */
/*
 * Validation of the header and of the ring, config, IOTLB and inflight
 * payloads (include/vhost/proto.h). Pure functions: no I/O, reasons at
 * debug level only, the caller names the request in its error line.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "proto_priv.h"
#include "vhost/log.h"
#include "vhost/proto.h"

int vh_proto_validate_hdr(const struct vhost_user_hdr *hdr, bool expect_reply,
			  uint32_t max_payload)
{
	uint32_t limit = max_payload < VHOST_USER_MAX_PAYLOAD
			     ? max_payload
			     : VHOST_USER_MAX_PAYLOAD;

	if (!hdr)
		return -EINVAL;
	/* vhost-user.rst "Header": the two low bits are the version (1). */
	if ((hdr->flags & VHOST_USER_VERSION_MASK) != VHOST_USER_VERSION) {
		vh_dbg("header version %u (want %u)",
		       hdr->flags & VHOST_USER_VERSION_MASK,
		       VHOST_USER_VERSION);
		return -EPROTO;
	}
	if (hdr->flags & ~VHOST_USER_FLAGS_KNOWN) {
		vh_dbg("header has reserved flag bits 0x%x",
		       hdr->flags & ~VHOST_USER_FLAGS_KNOWN);
		return -EPROTO;
	}
	if (!!(hdr->flags & VHOST_USER_REPLY_MASK) != expect_reply) {
		vh_dbg("header %s the reply flag",
		       expect_reply ? "lacks" : "carries");
		return -EPROTO;
	}
	/* A reply answers; asking for an answer to it makes no sense and
	 * QEMU refuses any reply flags but REPLY|VERSION. */
	if (expect_reply && (hdr->flags & VHOST_USER_NEED_REPLY_MASK)) {
		vh_dbg("reply header carries the need_reply flag");
		return -EPROTO;
	}
	if (hdr->size > limit) {
		vh_dbg("payload of %u bytes exceeds the limit of %u", hdr->size,
		       limit);
		return -EMSGSIZE;
	}
	return 0;
}

int vh_proto_validate_vring_addr(const struct vhost_user_vring_addr *a,
				 bool packed)
{
	/* virtio 1.2 §2.7 (split: descriptor table 16, available ring 2,
	 * used ring 4) and §2.8 (packed: descriptor ring 16, driver and
	 * device event suppression areas 4). For packed rings vhost carries
	 * the driver area in avail_user_addr, the device area in
	 * used_user_addr. */
	const uint64_t avail_align = packed ? 4 : 2;

	if (!a)
		return -EINVAL;
	if (a->flags & ~(UINT32_C(1) << VHOST_VRING_F_LOG)) {
		vh_dbg("ring %u address has unknown flags 0x%x", a->index,
		       a->flags);
		return -EINVAL;
	}
	if (a->desc_user_addr % 16 || a->avail_user_addr % avail_align ||
	    a->used_user_addr % 4) {
		vh_dbg("ring %u addresses desc 0x%llx avail 0x%llx used "
		       "0x%llx are misaligned for a %s ring",
		       a->index, (unsigned long long)a->desc_user_addr,
		       (unsigned long long)a->avail_user_addr,
		       (unsigned long long)a->used_user_addr,
		       packed ? "packed" : "split");
		return -EINVAL;
	}
	return 0;
}

int vh_proto_validate_config(const struct vhost_user_config_hdr *c,
			     uint32_t payload_size, uint32_t config_len)
{
	if (!c)
		return -EINVAL;
	/* "Virtio device config space": offset, size, flags, then size
	 * bytes; QEMU bounds an access by VHOST_USER_MAX_CONFIG_SIZE. */
	if (c->size == 0 || c->size > VHOST_USER_MAX_CONFIG_SIZE) {
		vh_dbg("config access of %u bytes (1..%u)", c->size,
		       VHOST_USER_MAX_CONFIG_SIZE);
		return -EMSGSIZE;
	}
	if ((uint64_t)payload_size !=
	    (uint64_t)VHOST_USER_CONFIG_HDR_SIZE + c->size) {
		vh_dbg("config access of %u bytes in a %u-byte payload",
		       c->size, payload_size);
		return -EMSGSIZE;
	}
	/* Offsets are 0-based into the device config space: QEMU sends 0
	 * for the first byte (rust-vmm's old 0x100 base was a defect). */
	if ((uint64_t)c->offset + c->size > config_len) {
		vh_dbg("config access [%u, +%u) outside the %u-byte space",
		       c->offset, c->size, config_len);
		return -ERANGE;
	}
	if (c->flags != VHOST_USER_CONFIG_FLAG_WRITABLE &&
	    c->flags != VHOST_USER_CONFIG_FLAG_MIGRATION) {
		vh_dbg("config access has unknown flags 0x%x", c->flags);
		return -EINVAL;
	}
	return 0;
}

int vh_proto_validate_iotlb(const struct vhost_user_iotlb *m)
{
	if (!m)
		return -EINVAL;
	/* "An IOTLB message": type 1..4, permissions 0..3. */
	if (m->type < VHOST_USER_IOTLB_MISS ||
	    m->type > VHOST_USER_IOTLB_ACCESS_FAIL) {
		vh_dbg("IOTLB message of unknown type %u", m->type);
		return -EINVAL;
	}
	if (m->perm > VHOST_USER_IOTLB_RW) {
		vh_dbg("IOTLB message with unknown permissions %u", m->perm);
		return -EINVAL;
	}
	if (m->type == VHOST_USER_IOTLB_UPDATE) {
		if (m->size == 0) {
			vh_dbg("IOTLB update of size 0");
			return -EINVAL;
		}
		if (vh_range_wraps_inclusive(m->uaddr, m->size)) {
			vh_dbg("IOTLB update uaddr 0x%llx size 0x%llx wraps",
			       (unsigned long long)m->uaddr,
			       (unsigned long long)m->size);
			return -EOVERFLOW;
		}
	}
	/* Size 0 never wraps: for INVALIDATE it means "to the end". */
	if (vh_range_wraps_inclusive(m->iova, m->size)) {
		vh_dbg("IOTLB iova 0x%llx size 0x%llx wraps",
		       (unsigned long long)m->iova,
		       (unsigned long long)m->size);
		return -EOVERFLOW;
	}
	return 0;
}

int vh_proto_validate_inflight(const struct vhost_user_inflight *in)
{
	if (!in)
		return -EINVAL;
	/* virtio 1.2 §2.6/§2.7: a queue holds at most 32768 entries. */
	if (in->num_queues == 0 || in->queue_size == 0 ||
	    in->queue_size > 32768) {
		vh_dbg("inflight description for %u queues of %u entries",
		       in->num_queues, in->queue_size);
		return -EINVAL;
	}
	if (vh_range_wraps(in->mmap_offset, in->mmap_size)) {
		vh_dbg("inflight offset 0x%llx + size 0x%llx wraps around",
		       (unsigned long long)in->mmap_offset,
		       (unsigned long long)in->mmap_size);
		return -EOVERFLOW;
	}
	return 0;
}
