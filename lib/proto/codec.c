/* SPDX-License-Identifier: MIT */
/*
 * Encoders and decoders of packed integer payloads (include/vhost/proto.h):
 * the u64 of SET_VRING_KICK/CALL/ERR, the packed ring base of
 * SET/GET_VRING_BASE, and message headers.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "vhost/log.h"
#include "vhost/proto.h"

/* vhost-user.rst SET_VRING_KICK: "Bits (0-7) of the payload contain the
 * vring index. Bit 8 is the invalid FD flag." Everything above is
 * reserved. */
#define VRING_FILE_KNOWN \
	((uint64_t)VHOST_USER_VRING_IDX_MASK | VHOST_USER_VRING_NOFD_MASK)

int vh_proto_decode_vring_file(uint64_t u64, uint32_t *index, bool *has_fd)
{
	if (!index || !has_fd)
		return -EINVAL;
	if (u64 & ~VRING_FILE_KNOWN) {
		vh_dbg("vring file u64 0x%llx has reserved bits set",
		       (unsigned long long)u64);
		return -EINVAL;
	}
	*index = (uint32_t)(u64 & VHOST_USER_VRING_IDX_MASK);
	*has_fd = !(u64 & VHOST_USER_VRING_NOFD_MASK);
	return 0;
}

int vh_proto_encode_vring_file(uint32_t index, bool has_fd, uint64_t *u64)
{
	if (!u64)
		return -EINVAL;
	if (index > VHOST_USER_VRING_IDX_MASK)
		return -ERANGE;
	*u64 = index | (has_fd ? 0 : (uint64_t)VHOST_USER_VRING_NOFD_MASK);
	return 0;
}

/* vhost-user.rst "Vring descriptor indices for packed virtqueues". */
#define PACKED_IDX_MASK	  0x7fffu
#define PACKED_WRAP_BIT	  15
#define PACKED_USED_SHIFT 16

uint32_t vh_proto_encode_packed_base(const struct vh_packed_base *b)
{
	uint32_t num;

	if (!b)
		return 0;
	num = (uint32_t)(b->avail_idx & PACKED_IDX_MASK);
	num |= (uint32_t)b->avail_wrap << PACKED_WRAP_BIT;
	num |= (uint32_t)(b->used_idx & PACKED_IDX_MASK) << PACKED_USED_SHIFT;
	num |= (uint32_t)b->used_wrap << (PACKED_USED_SHIFT + PACKED_WRAP_BIT);
	return num;
}

void vh_proto_decode_packed_base(uint32_t num, struct vh_packed_base *b)
{
	if (!b)
		return;
	b->avail_idx = (uint16_t)(num & PACKED_IDX_MASK);
	b->avail_wrap = (num >> PACKED_WRAP_BIT) & 1u;
	b->used_idx = (uint16_t)((num >> PACKED_USED_SHIFT) & PACKED_IDX_MASK);
	b->used_wrap = (num >> (PACKED_USED_SHIFT + PACKED_WRAP_BIT)) & 1u;
}

void vh_proto_init_hdr(struct vhost_user_hdr *hdr, uint32_t request,
		       uint32_t flags, uint32_t size)
{
	if (!hdr)
		return;
	hdr->request = request;
	hdr->flags =
	    VHOST_USER_VERSION |
	    (flags & (VHOST_USER_REPLY_MASK | VHOST_USER_NEED_REPLY_MASK));
	hdr->size = size;
}
