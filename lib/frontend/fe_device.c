/* SPDX-License-Identifier: MIT */
/*
 * Front-end requests about the device: config space, status, net, IOMMU,
 * crypto, post-copy, in-flight tracking, GPU socket, shared objects, device
 * state transfer and shared memory regions.
 */
#include <errno.h>
#include <string.h>

#include "fe_internal.h"

static int send_u64(struct vh_frontend *f, uint32_t code, uint64_t v,
		    unsigned flags)
{
	struct vhost_user_msg req;

	fe_msg_init(&req, code, sizeof(v));
	memcpy(req.payload.raw, &v, sizeof(v));
	return fe_call(f, &req, flags, NULL);
}

static int send_fd_only(struct vh_frontend *f, uint32_t code, int fd)
{
	struct vhost_user_msg req;

	if (fd < 0)
		return fe_refuse(f, code, -EBADF, "needs an fd");
	fe_msg_init(&req, code, 0);
	req.fds[0] = fd;
	req.nfds = 1;
	return fe_call(f, &req, 0, NULL);
}

static bool acked(struct vh_frontend *f, enum vh_virtio_feature bit)
{
	bool v;

	pthread_mutex_lock(&f->lock);
	v = vh_virtio_has(f->acked_features, bit);
	pthread_mutex_unlock(&f->lock);
	return v;
}

/* ------------------------------------------------------------------------ */
/* Net and IOMMU                                                            */
/* ------------------------------------------------------------------------ */

int vh_frontend_send_rarp(struct vh_frontend *f, const uint8_t mac[6])
{
	struct vhost_user_msg req;

	/* "The first 6 bytes of the payload contain the mac address". */
	fe_msg_init(&req, VHOST_USER_SEND_RARP, sizeof(uint64_t));
	memset(req.payload.raw, 0, sizeof(uint64_t));
	memcpy(req.payload.raw, mac, 6);
	return fe_call(f, &req, 0, NULL);
}

int vh_frontend_net_set_mtu(struct vh_frontend *f, uint16_t mtu)
{
	/* "If REPLY_ACK is negotiated, the back-end must respond". */
	return send_u64(f, VHOST_USER_NET_SET_MTU, mtu, FE_FORCE_ACK);
}

int vh_frontend_iotlb_msg(struct vh_frontend *f,
			  const struct vhost_user_iotlb *msg)
{
	const uint32_t code = VHOST_USER_IOTLB_MSG;
	struct vhost_user_msg req;

	if (!acked(f, VH_VIRTIO_F_ACCESS_PLATFORM))
		return fe_refuse(f, code, -EOPNOTSUPP,
				 "VIRTIO_F_ACCESS_PLATFORM not negotiated");
	if (!msg || vh_proto_validate_iotlb(msg) < 0)
		return fe_refuse(f, code, -EINVAL, "invalid IOTLB message");
	fe_msg_init(&req, code, sizeof(*msg));
	memcpy(req.payload.raw, msg, sizeof(*msg));
	/* "The back-end has to acknowledge the request": the ack is the
	 * REPLY_ACK one (QEMU always asks; DPDK and rust-vmm answer only
	 * then), so ask whenever REPLY_ACK is negotiated. */
	return fe_call(f, &req, FE_FORCE_ACK, NULL);
}

/* ------------------------------------------------------------------------ */
/* Config space and status                                                  */
/* ------------------------------------------------------------------------ */

static int config_req(struct vh_frontend *f, uint32_t code, uint32_t offset,
		      uint32_t size, uint32_t flags, struct vhost_user_msg *req)
{
	struct vhost_user_config_hdr h = {
	    .offset = offset, .size = size, .flags = flags};
	uint32_t psize = VHOST_USER_CONFIG_HDR_SIZE + size;

	if (size == 0 || size > VHOST_USER_MAX_CONFIG_SIZE ||
	    vh_proto_validate_config(&h, psize, VHOST_USER_MAX_CONFIG_SIZE) < 0)
		return fe_refuse(f, code, -EINVAL,
				 "config access outside 256 bytes or bad "
				 "flags");
	fe_msg_init(req, code, psize);
	memset(req->payload.raw, 0, psize);
	memcpy(req->payload.raw, &h, sizeof(h));
	return 0;
}

int vh_frontend_get_config(struct vh_frontend *f, uint32_t offset,
			   uint32_t size, uint32_t flags, uint8_t *buf)
{
	const uint32_t code = VHOST_USER_GET_CONFIG;
	struct vhost_user_msg req, rep;
	struct vhost_user_config_hdr h;
	int r;

	r = config_req(f, code, offset, size, flags, &req);
	if (r < 0)
		return r;
	/* "back-end's payload size MUST match the front-end's request" (the
	 * table's rule), "zero length of payload to indicate an error". */
	r = fe_call(f, &req, 0, &rep);
	if (r < 0)
		return r;
	if (rep.hdr.size == 0) {
		vh_warn("%s: VHOST_USER_GET_CONFIG: back-end answered failure "
			"(empty reply)",
			f->name);
		return -EIO;
	}
	memcpy(&h, rep.payload.raw, sizeof(h));
	if (h.offset != offset || h.size != size)
		return fe_reply_error(f, code,
				      "reply describes another config range");
	memcpy(buf, rep.payload.raw + VHOST_USER_CONFIG_HDR_SIZE, size);
	return 0;
}

int vh_frontend_set_config(struct vh_frontend *f, uint32_t offset,
			   uint32_t size, uint32_t flags, const uint8_t *buf)
{
	struct vhost_user_msg req;
	int r;

	r = config_req(f, VHOST_USER_SET_CONFIG, offset, size, flags, &req);
	if (r < 0)
		return r;
	memcpy(req.payload.raw + VHOST_USER_CONFIG_HDR_SIZE, buf, size);
	return fe_call(f, &req, 0, NULL);
}

int vh_frontend_set_status(struct vh_frontend *f, uint8_t status)
{
	return send_u64(f, VHOST_USER_SET_STATUS, status, 0);
}

int vh_frontend_get_status(struct vh_frontend *f, uint8_t *status)
{
	struct vhost_user_msg req, rep;
	uint64_t v;
	int r;

	fe_msg_init(&req, VHOST_USER_GET_STATUS, 0);
	r = fe_call(f, &req, 0, &rep);
	if (r < 0)
		return r;
	memcpy(&v, rep.payload.raw, sizeof(v));
	/* The virtio device status is one byte. */
	if (v > 0xff)
		return fe_reply_error(f, VHOST_USER_GET_STATUS,
				      "status does not fit in 8 bits");
	*status = (uint8_t)v;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Crypto sessions                                                          */
/* ------------------------------------------------------------------------ */

int vh_frontend_create_crypto_session(struct vh_frontend *f, const void *in,
				      size_t len, void *out)
{
	const uint32_t code = VHOST_USER_CREATE_CRYPTO_SESSION;
	struct vhost_user_msg req, rep;
	int r;

	if (len == 0 || len > VHOST_USER_MAX_PAYLOAD || !in || !out)
		return fe_refuse(f, code, -EINVAL, "bad session description");
	fe_msg_init(&req, code, (uint32_t)len);
	memcpy(req.payload.raw, in, len);
	/* The reply is the same description with the session id filled. */
	r = fe_call(f, &req, 0, &rep);
	if (r == 0)
		memcpy(out, rep.payload.raw, len);
	return r;
}

int vh_frontend_close_crypto_session(struct vh_frontend *f, uint64_t session_id)
{
	return send_u64(f, VHOST_USER_CLOSE_CRYPTO_SESSION, session_id, 0);
}

/* ------------------------------------------------------------------------ */
/* Post-copy, in-flight tracking, GPU                                       */
/* ------------------------------------------------------------------------ */

int vh_frontend_postcopy_advise(struct vh_frontend *f, int *ufd)
{
	struct vhost_user_msg req, rep;
	int r;

	fe_msg_init(&req, VHOST_USER_POSTCOPY_ADVISE, 0);
	r = fe_call(f, &req, 0, &rep);
	if (r < 0)
		return r;
	/* No fd is the only failure signal this reply has. */
	if (rep.nfds == 0) {
		vh_warn("%s: VHOST_USER_POSTCOPY_ADVISE: back-end sent no "
			"userfaultfd",
			f->name);
		return -EIO;
	}
	*ufd = rep.fds[0];
	return 0;
}

int vh_frontend_get_inflight_fd(struct vh_frontend *f,
				const struct vhost_user_inflight *in,
				struct vhost_user_inflight *rep_out, int *fd)
{
	const uint32_t code = VHOST_USER_GET_INFLIGHT_FD;
	struct vhost_user_msg req, rep;
	struct vhost_user_inflight got;
	int r;

	if (!in || vh_proto_validate_inflight(in) < 0)
		return fe_refuse(f, code, -EINVAL, "invalid inflight request");
	fe_msg_init(&req, code, sizeof(*in));
	memcpy(req.payload.raw, in, sizeof(*in));
	r = fe_call(f, &req, 0, &rep);
	if (r < 0)
		return r;
	memcpy(&got, rep.payload.raw, sizeof(got));
	/* A zero-sized area comes without memory; any other with it. */
	if ((got.mmap_size != 0) != (rep.nfds == 1)) {
		vh_msg_close_fds(&rep);
		return fe_reply_error(f, code,
				      "fd does not match the area size");
	}
	*rep_out = got;
	*fd = rep.nfds ? rep.fds[0] : -1;
	return 0;
}

int vh_frontend_set_inflight_fd(struct vh_frontend *f,
				const struct vhost_user_inflight *in, int fd)
{
	const uint32_t code = VHOST_USER_SET_INFLIGHT_FD;
	struct vhost_user_msg req;

	if (!in || vh_proto_validate_inflight(in) < 0)
		return fe_refuse(f, code, -EINVAL, "invalid inflight area");
	if (fd < 0)
		return fe_refuse(f, code, -EBADF, "needs an fd");
	fe_msg_init(&req, code, sizeof(*in));
	memcpy(req.payload.raw, in, sizeof(*in));
	req.fds[0] = fd;
	req.nfds = 1;
	return fe_call(f, &req, 0, NULL);
}

int vh_frontend_gpu_set_socket(struct vh_frontend *f, int fd)
{
	return send_fd_only(f, VHOST_USER_GPU_SET_SOCKET, fd);
}

/* ------------------------------------------------------------------------ */
/* Shared objects, device state, shared memory                              */
/* ------------------------------------------------------------------------ */

int vh_frontend_get_shared_object(struct vh_frontend *f,
				  const struct vhost_user_shared *uuid, int *fd)
{
	const uint32_t code = VHOST_USER_GET_SHARED_OBJECT;
	struct vhost_user_msg req, rep;
	int r;

	/* The spec names only the fd as the reply; the table accepts the
	 * body empty (rust-vmm) or echoing the UUID (libvhost-user). */
	fe_msg_init(&req, code, sizeof(*uuid));
	memcpy(req.payload.raw, uuid, sizeof(*uuid));
	r = fe_call(f, &req, 0, &rep);
	if (r < 0)
		return r;
	if (rep.nfds == 0)
		return -ENOENT; /* "or no fd otherwise" */
	*fd = rep.fds[0];
	return 0;
}

int vh_frontend_set_device_state_fd(struct vh_frontend *f, uint32_t direction,
				    uint32_t phase, int fd, int *reply_fd)
{
	const uint32_t code = VHOST_USER_SET_DEVICE_STATE_FD;
	struct vhost_user_transfer_state ts = {.direction = direction,
					       .phase = phase};
	struct vhost_user_msg req, rep;
	uint64_t v;
	bool nofd;
	int r;

	*reply_fd = -1;
	if (direction > VHOST_USER_TRANSFER_STATE_DIRECTION_LOAD ||
	    phase != VHOST_USER_TRANSFER_STATE_PHASE_STOPPED)
		return fe_refuse(f, code, -EINVAL, "unknown direction/phase");
	if (fd < 0)
		return fe_refuse(f, code, -EBADF, "needs an fd");
	fe_msg_init(&req, code, sizeof(ts));
	memcpy(req.payload.raw, &ts, sizeof(ts));
	req.fds[0] = fd;
	req.nfds = 1;
	r = fe_call(f, &req, 0, &rep);
	if (r < 0)
		return r;
	/* Bits 0-7: 0 or an error; bit 8: no fd returned. "The back-end must
	 * not both indicate an error and return a file descriptor." */
	memcpy(&v, rep.payload.raw, sizeof(v));
	nofd = (v & VHOST_USER_VRING_NOFD_MASK) != 0;
	if ((v & ~UINT64_C(0x1ff)) || nofd != (rep.nfds == 0) ||
	    ((v & 0xff) && rep.nfds)) {
		vh_msg_close_fds(&rep);
		return fe_reply_error(f, code, "inconsistent reply");
	}
	if (v & 0xff) {
		vh_warn("%s: VHOST_USER_SET_DEVICE_STATE_FD: back-end "
			"answered failure",
			f->name);
		return -EIO;
	}
	*reply_fd = rep.nfds ? rep.fds[0] : -1;
	return 0;
}

int vh_frontend_check_device_state(struct vh_frontend *f)
{
	struct vhost_user_msg req, rep;
	uint64_t v;
	int r;

	fe_msg_init(&req, VHOST_USER_CHECK_DEVICE_STATE, 0);
	r = fe_call(f, &req, 0, &rep);
	if (r < 0)
		return r;
	memcpy(&v, rep.payload.raw, sizeof(v));
	if (v != 0) {
		vh_warn("%s: VHOST_USER_CHECK_DEVICE_STATE: back-end answered "
			"failure",
			f->name);
		return -EIO;
	}
	return 0;
}

int vh_frontend_get_shmem_config(struct vh_frontend *f,
				 struct vhost_user_shmem_config *out)
{
	const uint32_t code = VHOST_USER_GET_SHMEM_CONFIG;
	struct vhost_user_msg req, rep;
	int r;

	fe_msg_init(&req, code, 0);
	r = fe_call(f, &req, 0, &rep);
	if (r < 0)
		return r;
	memcpy(out, rep.payload.raw, sizeof(*out));
	if (out->nregions > VHOST_USER_MAX_SHMEM_REGIONS)
		return fe_reply_error(f, code, "more than 256 regions");
	return 0;
}
