/* SPDX-License-Identifier: MIT */
/*
 * Checks against the message shape tables (include/vhost/proto.h): payload
 * size and fd count of a request, the reply owed to it, the protocol
 * features it needs and the ring it addresses. The tables themselves live
 * in shape_frontend.c and shape_backend.c.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "vhost/log.h"
#include "vhost/proto.h"

/* Payload size against the row's rule; the payload is read with memcpy
 * and never past @size (already known to fit the buffer). */
static int check_size(const struct vh_msg_shape *s,
		      const struct vhost_user_msg *msg, uint32_t size)
{
	uint32_t n;

	switch (s->size_rule) {
	case VH_SIZE_EXACT:
		return size == s->min_size ? 0 : -EMSGSIZE;
	case VH_SIZE_RANGE:
		return size >= s->min_size && size <= s->max_size ? 0
								  : -EMSGSIZE;
	case VH_SIZE_MEMTABLE:
		/* "Multiple Memory regions description": 8 + 32 n bytes and,
		 * in the ancillary data, one fd per region in order. */
		if (size < offsetof(struct vhost_user_mem_table, regions))
			return -EMSGSIZE;
		memcpy(&n, msg->payload.raw, sizeof(n));
		if (n == 0 || n > VHOST_USER_MEM_TABLE_MAX_REGIONS ||
		    size != VHOST_USER_MEM_TABLE_SIZE(n))
			return -EMSGSIZE;
		return msg->nfds == n ? 0 : -EBADMSG;
	case VH_SIZE_CONFIG:
		/* "Virtio device config space": 12-byte header, then size
		 * bytes, size bounded by VHOST_USER_MAX_CONFIG_SIZE. */
		if (size < VHOST_USER_CONFIG_HDR_SIZE)
			return -EMSGSIZE;
		memcpy(&n,
		       msg->payload.raw +
			   offsetof(struct vhost_user_config_hdr, size),
		       sizeof(n));
		if (n > VHOST_USER_MAX_CONFIG_SIZE ||
		    size != VHOST_USER_CONFIG_HDR_SIZE + n)
			return -EMSGSIZE;
		return 0;
	}
	return -EINVAL;
}

int vh_proto_check_shape(const struct vh_msg_shape *shape,
			 const struct vhost_user_msg *msg)
{
	uint32_t size;
	int rc;

	if (!shape || !msg)
		return -EINVAL;
	size = msg->hdr.size;
	if (size > VHOST_USER_MAX_PAYLOAD) {
		vh_dbg("%s: payload of %u bytes exceeds the buffer",
		       shape->name, size);
		return -EMSGSIZE;
	}
	if (!(shape->accept_empty && size == 0)) {
		rc = check_size(shape, msg, size);
		if (rc < 0) {
			vh_dbg("%s: payload of %u bytes or its %u fds do not "
			       "fit the request",
			       shape->name, size, msg->nfds);
			return rc;
		}
	}
	if (msg->nfds < shape->min_fds || msg->nfds > shape->max_fds) {
		vh_dbg("%s: %u fds (want %u..%u)", shape->name, msg->nfds,
		       shape->min_fds, shape->max_fds);
		return -EBADMSG;
	}
	return 0;
}

static uint64_t pf_bit(int8_t pf)
{
	if (pf < 0 || pf >= 64)
		return 0;
	return UINT64_C(1) << (unsigned)pf;
}

uint64_t vh_proto_shape_required_pf(const struct vh_msg_shape *shape)
{
	if (!shape)
		return 0;
	return pf_bit(shape->need_pf) | pf_bit(shape->need_pf2);
}

int vh_proto_check_reply_shape(const struct vh_msg_shape *shape,
			       uint32_t request_size,
			       const struct vhost_user_msg *reply)
{
	uint32_t size, want;

	if (!shape || !reply)
		return -EINVAL;
	size = reply->hdr.size;
	if (size > VHOST_USER_MAX_PAYLOAD)
		return -EMSGSIZE;
	if (shape->reply == VH_REPLY_NONE) {
		/* vhost-user.rst REPLY_ACK: a u64, zero on success. */
		if (size != sizeof(uint64_t))
			return -EMSGSIZE;
		return reply->nfds == 0 ? 0 : -EBADMSG;
	}
	want = shape->reply_rule == VH_REPLY_SIZE_AS_REQUEST
		   ? request_size
		   : shape->reply_size;
	if (size != want && !(shape->reply_accept_empty && size == 0)) {
		vh_dbg("%s: reply of %u bytes (want %u)", shape->name, size,
		       want);
		return -EMSGSIZE;
	}
	if (reply->nfds < shape->reply_min_fds ||
	    reply->nfds > shape->reply_max_fds) {
		vh_dbg("%s: reply with %u fds (want %u..%u)", shape->name,
		       reply->nfds, shape->reply_min_fds, shape->reply_max_fds);
		return -EBADMSG;
	}
	return 0;
}

static int read_u32_at(const struct vhost_user_msg *msg, size_t off,
		       uint32_t *out)
{
	if (msg->hdr.size > VHOST_USER_MAX_PAYLOAD ||
	    msg->hdr.size < off + sizeof(*out))
		return -EMSGSIZE;
	memcpy(out, msg->payload.raw + off, sizeof(*out));
	return 0;
}

static int read_file_index(const struct vhost_user_msg *msg, size_t off,
			   uint32_t *index)
{
	uint64_t u64;
	bool has_fd;

	if (msg->hdr.size > VHOST_USER_MAX_PAYLOAD ||
	    msg->hdr.size < off + sizeof(u64))
		return -EMSGSIZE;
	memcpy(&u64, msg->payload.raw + off, sizeof(u64));
	return vh_proto_decode_vring_file(u64, index, &has_fd);
}

int vh_proto_ring_index(const struct vh_msg_shape *shape,
			const struct vhost_user_msg *msg, uint32_t *index)
{
	if (!shape || !msg || !index)
		return -EINVAL;
	switch (shape->ring) {
	case VH_RING_NONE:
		return -ENOENT;
	case VH_RING_STATE:
		return read_u32_at(
		    msg, offsetof(struct vhost_user_vring_state, index), index);
	case VH_RING_ADDR:
		return read_u32_at(
		    msg, offsetof(struct vhost_user_vring_addr, index), index);
	case VH_RING_FILE:
		return read_file_index(msg, 0, index);
	case VH_RING_AREA:
		return read_file_index(
		    msg, offsetof(struct vhost_user_vring_area, u64), index);
	}
	return -EINVAL;
}
