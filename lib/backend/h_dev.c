/* SPDX-License-Identifier: MIT */
/*
 * Handlers for device-level requests: config space, net (RARP, MTU),
 * crypto sessions, the GPU socket, shared objects, device state transfer
 * and shared memory regions. check.c validated the payloads first.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "backend_int.h"

int vh_h_get_config(struct vh_backend *b, struct vhost_user_msg *m)
{
	struct vhost_user_config_hdr h = m->payload.config.hdr;
	int ret;

	/* Bytes a callback leaves alone read as zero, never as stale data. */
	memset(b->rep.payload.config.region, 0, h.size);
	ret = VH_CALL(b, get_config, h.offset, h.size, h.flags,
		      b->rep.payload.config.region);
	b->rep_ready = true;
	if (ret != 0) {
		/* "vhost-user back-end uses zero length of payload to
		 * indicate an error" (vhost-user.rst: GET_CONFIG). */
		b->rep.hdr.size = 0;
		return ret;
	}
	b->rep.payload.config.hdr = h;
	b->rep.hdr.size = VHOST_USER_CONFIG_HDR_SIZE + h.size;
	return 0;
}

int vh_h_set_config(struct vh_backend *b, struct vhost_user_msg *m)
{
	const struct vhost_user_config_hdr *h = &m->payload.config.hdr;

	return VH_CALL(b, set_config, h->offset, h->size, h->flags,
		       m->payload.config.region);
}

int vh_h_send_rarp(struct vh_backend *b, struct vhost_user_msg *m)
{
	uint8_t mac[6];

	/* "The first 6 bytes of the payload contain the mac address." */
	memcpy(mac, m->payload.raw, sizeof(mac));
	return VH_CALL(b, send_rarp, mac);
}

int vh_h_net_set_mtu(struct vh_backend *b, struct vhost_user_msg *m)
{
	uint64_t mtu = m->payload.u64;

	/* An invalid MTU is the back-end's to refuse with a nack
	 * (vhost-user.rst: NET_SET_MTU), not a protocol error. */
	if (mtu > UINT16_MAX) {
		vh_warn("%s: VHOST_USER_NET_SET_MTU: MTU %llu out of range",
			b->name, (unsigned long long)mtu);
		return -EINVAL;
	}
	return VH_CALL(b, net_set_mtu, (uint16_t)mtu);
}

int vh_h_create_crypto_session(struct vh_backend *b, struct vhost_user_msg *m)
{
	uint32_t len = m->hdr.size; /* >= 16: the shape's minimum */
	size_t out_len = len;
	int64_t failed = -1;
	int ret;

	/* The reply is the request's structure with the session id filled
	 * in, the same size (QEMU checks it): the callback edits a copy. */
	memcpy(b->rep.payload.raw, m->payload.raw, len);
	ret = VH_CALL(b, create_crypto_session, m->payload.raw, len,
		      b->rep.payload.raw, len, &out_len);
	b->rep.hdr.size = len;
	b->rep_ready = true;
	if (ret == 0 && out_len == len)
		return 0;
	/* Error form: a negative session id, "0 or positive for success,
	 * negative for failure". QEMU's layout put the id first, then
	 * moved it last (after an op code); writing both ends covers both
	 * and touches nothing else a front-end reads. */
	memcpy(b->rep.payload.raw, m->payload.raw, len);
	memcpy(b->rep.payload.raw, &failed, sizeof(failed));
	memcpy(b->rep.payload.raw + len - sizeof(failed), &failed,
	       sizeof(failed));
	return ret ? ret : -EMSGSIZE;
}

int vh_h_close_crypto_session(struct vh_backend *b, struct vhost_user_msg *m)
{
	return VH_CALL(b, close_crypto_session, m->payload.u64);
}

int vh_h_gpu_set_socket(struct vh_backend *b, struct vhost_user_msg *m)
{
	return VH_CALL(b, gpu_set_socket, &m->fds[0]);
}

int vh_h_get_shared_object(struct vh_backend *b, struct vhost_user_msg *m)
{
	struct vhost_user_shared uuid;
	int fd = -1;
	int ret;

	/* QEMU sends this request without its UUID (size 0, accepted by the
	 * shape): then the UUID reads as all zeroes, never as stale bytes. */
	memset(&uuid, 0, sizeof(uuid));
	if (m->hdr.size == sizeof(uuid))
		memcpy(&uuid, &m->payload.object, sizeof(uuid));
	ret = VH_CALL(b, get_shared_object, &uuid, &fd);
	/* "Back-end will reply passing the fd when the operation is
	 * successful, or no fd otherwise." The body echoes the request
	 * (libvhost-user does; QEMU reads any size). */
	memcpy(b->rep.payload.raw, m->payload.raw, m->hdr.size);
	b->rep.hdr.size = m->hdr.size;
	b->rep_ready = true;
	if (ret == 0 && fd >= 0) {
		vh_rep_fd(b, fd);
		return 0;
	}
	vh_close_fd(fd);
	return ret ? ret : -ENOENT;
}

int vh_h_set_device_state_fd(struct vh_backend *b, struct vhost_user_msg *m)
{
	struct vhost_user_transfer_state ts = m->payload.transfer_state;
	int reply_fd = -1;
	int ret;

	ret = VH_CALL(b, set_device_state_fd, ts.direction, ts.phase,
		      &m->fds[0], &reply_fd);
	/* "Bits 0-7 are 0 on success, and non-zero on error. Bit 8 is the
	 * invalid FD flag ... The back-end must not both indicate an error
	 * and return a file descriptor." */
	if (ret == 0) {
		vh_rep_u64(b, reply_fd >= 0 ? 0 : VHOST_USER_VRING_NOFD_MASK);
		vh_rep_fd(b, reply_fd);
		return 0;
	}
	vh_close_fd(reply_fd);
	vh_rep_u64(b, 1u | VHOST_USER_VRING_NOFD_MASK);
	return ret;
}

int vh_h_check_device_state(struct vh_backend *b, struct vhost_user_msg *m)
{
	(void)m;
	return VH_CALL0(b, check_device_state);
}

int vh_h_get_shmem_config(struct vh_backend *b, struct vhost_user_msg *m)
{
	struct vhost_user_shmem_config *out = &b->rep.payload.shmem;
	int ret;

	(void)m;
	memset(out, 0, sizeof(*out));
	ret = VH_CALL(b, get_shmem_config, out);
	if (ret != 0)
		return ret; /* no error form: the connection closes */
	if (out->nregions > VHOST_USER_MAX_SHMEM_REGIONS) {
		vh_err("%s: VHOST_USER_GET_SHMEM_CONFIG: callback returned %u "
		       "regions (max %u)",
		       b->name, out->nregions, VHOST_USER_MAX_SHMEM_REGIONS);
		return -EINVAL;
	}
	b->rep.hdr.size = sizeof(*out);
	b->rep_ready = true;
	return 0;
}
