/* SPDX-License-Identifier: MIT */
/*
 * The back-end channel (vhost-user.rst "Back-end communication"): a
 * socketpair whose far end went to the back-end with SET_BACKEND_REQ_FD.
 * Each back-end request is checked against the wire layer's back-end shape
 * table, then against its payload's own rules, before a callback sees it.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fe_internal.h"

int vh_frontend_enable_backend_channel(
    struct vh_frontend *f, const struct vh_frontend_backend_ops *ops,
    void *opaque)
{
	const uint32_t code = VHOST_USER_SET_BACKEND_REQ_FD;
	struct vhost_user_msg req;
	struct vh_conn *chan;
	int sv[2], r;

	if (!ops)
		return fe_refuse(f, code, -EINVAL, "no callbacks");
	if (f->chan)
		return fe_refuse(f, code, -EALREADY, "channel exists");
	if (!fe_has_pf(f, VHOST_USER_PROTOCOL_F_BACKEND_REQ))
		return fe_refuse(f, code, -EOPNOTSUPP,
				 "protocol feature BACKEND_REQ not negotiated");
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	r = vh_conn_new(&chan, sv[0], &f->conn_opts);
	if (r < 0) {
		close(sv[1]);
		return r;
	}
	fe_msg_init(&req, code, 0);
	req.fds[0] = sv[1];
	req.nfds = 1;
	/* "If REPLY_ACK is negotiated, the back-end must respond with zero
	 * for success" (SET_BACKEND_REQ_FD). */
	r = fe_call(f, &req, FE_FORCE_ACK, NULL);
	/* The back-end has its own copy now (or none, on failure). */
	close(sv[1]);
	if (r < 0) {
		vh_conn_free(chan);
		return r;
	}
	f->chan = chan;
	f->chan_ops = ops;
	f->chan_opaque = opaque;
	return 0;
}

int vh_frontend_backend_channel_fd(const struct vh_frontend *f)
{
	return f->chan ? vh_conn_fd(f->chan) : -1;
}

void vh_frontend_close_backend_channel(struct vh_frontend *f)
{
	vh_conn_free(f->chan);
	f->chan = NULL;
	f->chan_ops = NULL;
	f->chan_opaque = NULL;
}

static void close_msg_fds(struct vhost_user_msg *msg)
{
	unsigned i;

	for (i = 0; i < msg->nfds; i++)
		if (msg->fds[i] >= 0)
			close(msg->fds[i]);
	msg->nfds = 0;
}

/* A malformed message: log it by name, drop it and the channel. */
static int chan_fail(struct vh_frontend *f, struct vhost_user_msg *msg, int err,
		     const char *why)
{
	vh_err("%s: back-end channel: %s: %s; closing the channel", f->name,
	       vh_proto_backend_request_name(msg->hdr.request), why);
	close_msg_fds(msg);
	vh_frontend_close_backend_channel(f);
	return err;
}

/* Header, shape, gating and payload rules. Returns 0 or a reason. */
static const char *chan_check(const struct vhost_user_msg *msg, uint64_t pf)
{
	const struct vh_msg_shape *shape;
	uint32_t flags = msg->hdr.flags, index;
	uint64_t need;
	bool has_fd;

	if ((flags & VHOST_USER_VERSION_MASK) != VHOST_USER_VERSION)
		return "wrong protocol version";
	if (flags & VHOST_USER_REPLY_MASK)
		return "a request carries the REPLY flag";
	if (flags & ~VHOST_USER_FLAGS_KNOWN)
		return "reserved flag bits set";
	shape = vh_proto_backend_request_shape(msg->hdr.request);
	if (!shape)
		return "unknown back-end request";
	if (vh_proto_check_shape(shape, msg) < 0)
		return "wrong payload size or fd count";
	need = vh_proto_shape_required_pf(shape);
	if ((pf & need) != need)
		return "its protocol feature was not negotiated";
	/* "If BACKEND_SEND_FD is negotiated, back-end can send file
	 * descriptors" — and not otherwise. */
	if (msg->nfds &&
	    !vh_protocol_has(pf, VHOST_USER_PROTOCOL_F_BACKEND_SEND_FD))
		return "fds sent without BACKEND_SEND_FD";

	switch (msg->hdr.request) {
	case VHOST_USER_BACKEND_IOTLB_MSG:
		if (vh_proto_validate_iotlb(&msg->payload.iotlb) < 0)
			return "invalid IOTLB message";
		break;
	case VHOST_USER_BACKEND_VRING_HOST_NOTIFIER_MSG:
		if (vh_proto_decode_vring_file(msg->payload.area.u64, &index,
					       &has_fd) < 0)
			return "reserved bits set in the ring index";
		if (has_fd != (msg->nfds == 1))
			return "NOFD flag does not match the fds";
		break;
	case VHOST_USER_BACKEND_VRING_CALL:
	case VHOST_USER_BACKEND_VRING_ERR:
		/* "The state.num field is currently reserved and must be
		 * set to 0." */
		if (msg->payload.state.num != 0)
			return "reserved num field is not 0";
		break;
	case VHOST_USER_BACKEND_SHMEM_MAP:
	case VHOST_USER_BACKEND_SHMEM_UNMAP:
		if (vh_proto_validate_mmap(&msg->payload.mmap) < 0)
			return "invalid MMAP request";
		break;
	default:
		break;
	}
	return NULL;
}

/* Run the callback for @msg. *@fd_out is the lookup's answer. */
static int chan_dispatch(struct vh_frontend *f, struct vhost_user_msg *msg,
			 int *fd_out)
{
	const struct vh_frontend_backend_ops *ops = f->chan_ops;
	void *op = f->chan_opaque;
	int none = -1, *fd = msg->nfds ? &msg->fds[0] : &none;
	const union vhost_user_payload *p = &msg->payload;
	uint32_t index;
	bool has_fd;

	switch (msg->hdr.request) {
	case VHOST_USER_BACKEND_IOTLB_MSG:
		return ops->iotlb_msg ? ops->iotlb_msg(op, &p->iotlb)
				      : -EOPNOTSUPP;
	case VHOST_USER_BACKEND_CONFIG_CHANGE_MSG:
		return ops->config_change ? ops->config_change(op)
					  : -EOPNOTSUPP;
	case VHOST_USER_BACKEND_VRING_HOST_NOTIFIER_MSG:
		vh_proto_decode_vring_file(p->area.u64, &index, &has_fd);
		return ops->host_notifier
			   ? ops->host_notifier(op, index, p->area.size,
						p->area.offset, fd)
			   : -EOPNOTSUPP;
	case VHOST_USER_BACKEND_VRING_CALL:
		return ops->vring_call ? ops->vring_call(op, p->state.index)
				       : -EOPNOTSUPP;
	case VHOST_USER_BACKEND_VRING_ERR:
		return ops->vring_err ? ops->vring_err(op, p->state.index)
				      : -EOPNOTSUPP;
	case VHOST_USER_BACKEND_SHARED_OBJECT_ADD:
		return ops->shared_object_add
			   ? ops->shared_object_add(op, &p->object)
			   : -EOPNOTSUPP;
	case VHOST_USER_BACKEND_SHARED_OBJECT_REMOVE:
		return ops->shared_object_remove
			   ? ops->shared_object_remove(op, &p->object)
			   : -EOPNOTSUPP;
	case VHOST_USER_BACKEND_SHARED_OBJECT_LOOKUP:
		return ops->shared_object_lookup
			   ? ops->shared_object_lookup(op, &p->object, fd_out)
			   : -EOPNOTSUPP;
	case VHOST_USER_BACKEND_SHMEM_MAP:
		return ops->shmem_map ? ops->shmem_map(op, &p->mmap, fd)
				      : -EOPNOTSUPP;
	case VHOST_USER_BACKEND_SHMEM_UNMAP:
		return ops->shmem_unmap ? ops->shmem_unmap(op, &p->mmap)
					: -EOPNOTSUPP;
	default:
		return -EOPNOTSUPP; /* unreachable: chan_check knows them */
	}
}

/* Send the u64 answer (an ack, or the lookup's status) and maybe an fd. */
static int chan_reply(struct vh_frontend *f, uint32_t code, uint64_t v, int fd)
{
	struct vhost_user_msg rep;

	memset(&rep.hdr, 0, sizeof(rep.hdr));
	vh_proto_init_hdr(&rep.hdr, code,
			  VHOST_USER_VERSION | VHOST_USER_REPLY_MASK,
			  sizeof(v));
	memcpy(rep.payload.raw, &v, sizeof(v));
	rep.nfds = 0;
	if (fd >= 0) {
		rep.fds[0] = fd;
		rep.nfds = 1;
	}
	return vh_conn_send(f->chan, &rep);
}

int vh_frontend_handle_backend_readable(struct vh_frontend *f)
{
	struct vhost_user_msg msg;
	const char *why;
	uint32_t code;
	uint64_t pf;
	bool want_ack, lookup;
	int r, sr, fd_out = -1;

	if (!f->chan)
		return -ENOTCONN;
	r = vh_conn_recv(f->chan, &msg, 0);
	if (r == -EAGAIN)
		return 0;
	if (r < 0) {
		if (r == -ECONNRESET)
			vh_info("%s: back-end closed its channel", f->name);
		else
			vh_err("%s: back-end channel: receive failed (%s); "
			       "closing the channel",
			       f->name, vh_strerror(r));
		vh_frontend_close_backend_channel(f);
		return r;
	}
	pthread_mutex_lock(&f->lock);
	pf = f->pf;
	pthread_mutex_unlock(&f->lock);
	why = chan_check(&msg, pf);
	if (why)
		return chan_fail(f, &msg, -EPROTO, why);

	code = msg.hdr.request;
	lookup = code == VHOST_USER_BACKEND_SHARED_OBJECT_LOOKUP;
	/* An ack only when asked for and REPLY_ACK is negotiated (REPLY_ACK
	 * section); the lookup always has its own reply. */
	want_ack = !lookup && (msg.hdr.flags & VHOST_USER_NEED_REPLY_MASK) &&
		   vh_protocol_has(pf, VHOST_USER_PROTOCOL_F_REPLY_ACK);

	r = chan_dispatch(f, &msg, &fd_out);
	close_msg_fds(&msg);
	if (r < 0)
		vh_warn("%s: back-end channel: %s failed: %s", f->name,
			vh_proto_backend_request_name(code), vh_strerror(r));

	sr = 0;
	if (lookup) {
		/* "Frontend will reply passing the fd and a zero when the
		 * operation is successful, or non-zero otherwise ... if the
		 * operation fails, no fd is sent." */
		if (r < 0 || fd_out < 0) {
			if (fd_out >= 0)
				close(fd_out);
			fd_out = -1;
			sr = chan_reply(f, code, r < 0 ? (uint64_t)-r : ENOENT,
					-1);
		} else {
			sr = chan_reply(f, code, 0, fd_out);
			close(fd_out);
		}
	} else if (want_ack) {
		sr = chan_reply(f, code, r < 0 ? (uint64_t)-r : 0, -1);
	}
	if (sr < 0) {
		vh_err("%s: back-end channel: %s: reply could not be sent "
		       "(%s); closing the channel",
		       f->name, vh_proto_backend_request_name(code),
		       vh_strerror(sr));
		vh_frontend_close_backend_channel(f);
		return sr;
	}
	return 0;
}
