/* SPDX-License-Identifier: MIT */
/*
 * Back-end → front-end requests on the channel the front-end handed over
 * with SET_BACKEND_REQ_FD (vhost-user.rst: Back-end communication).
 *
 * One request and its reply at a time: chan_lock is held from the send to
 * the end of the reply, so calls from several threads never interleave on
 * the socket. NEED_REPLY is set only when the caller asks and REPLY_ACK is
 * negotiated; the reply must then come within the connection's message
 * timeout, carry the REPLY flag, name the same request and hold a u64.
 * Anything else leaves the stream in an unknown state, so the channel is
 * dropped and later calls get -ENOTCONN.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "backend_int.h"

#define PF(bit) (UINT64_C(1) << VHOST_USER_PROTOCOL_F_##bit)

struct chan_req {
	uint32_t request;
	const void *body;
	uint32_t size;
	int fd;		   /* borrowed; -1 for none */
	bool need_reply;   /* the caller asks for an ack */
	bool always_reply; /* the reply has a body (SHARED_OBJECT_LOOKUP) */
	int *fd_out;	   /* receives the reply's fd */
};

static const char *bname(uint32_t req)
{
	return vh_proto_backend_request_name(req);
}

static void chan_drop(struct vh_backend *b, uint32_t req, const char *why,
		      int err)
{
	vh_err("%s: %s: %s: %s; dropping the back-end channel", b->name,
	       bname(req), why, vh_strerror(err));
	vh_conn_free(b->chan);
	b->chan = NULL;
}

/* May this request go out now? Called with chan_lock held. */
static int chan_gate(struct vh_backend *b, const struct chan_req *r,
		     uint64_t *pf_out)
{
	const struct vh_msg_shape *shape;
	uint64_t pf, features, need;

	if (!b->chan)
		return -ENOTCONN;
	pthread_mutex_lock(&b->state_lock);
	pf = b->acked_pf;
	features = b->acked_features;
	pthread_mutex_unlock(&b->state_lock);
	*pf_out = pf;

	/* The channel exists only with BACKEND_REQ; the shape table names
	 * the rest (CONFIG, HOST_NOTIFIER, INBAND_NOTIFICATIONS, ...). An fd
	 * needs BACKEND_SEND_FD: "back-end can send file descriptors" only
	 * when it is negotiated. */
	shape = vh_proto_backend_request_shape(r->request);
	need = PF(BACKEND_REQ) | vh_proto_shape_required_pf(shape);
	if (r->fd >= 0)
		need |= PF(BACKEND_SEND_FD);
	if (need & ~pf)
		return -EOPNOTSUPP;
	/* "This request should be send only when VIRTIO_F_IOMMU_PLATFORM
	 * feature has been successfully negotiated." */
	if (r->request == VHOST_USER_BACKEND_IOTLB_MSG &&
	    !vh_virtio_has(features, VH_VIRTIO_F_ACCESS_PLATFORM))
		return -EOPNOTSUPP;
	return 0;
}

/* Check the reply to @req in @msg. Called with chan_lock held. */
static int chan_check_reply(struct vh_backend *b, const struct chan_req *r,
			    struct vhost_user_msg *msg)
{
	int err =
	    vh_proto_validate_hdr(&msg->hdr, true, VHOST_USER_MAX_PAYLOAD);

	if (err || msg->hdr.request != r->request ||
	    msg->hdr.size != sizeof(uint64_t)) {
		vh_err("%s: %s: bad reply (request %u flags 0x%x size %u)",
		       b->name, bname(r->request), msg->hdr.request,
		       msg->hdr.flags, msg->hdr.size);
		return -EPROTO;
	}
	if (msg->payload.u64 != 0) {
		vh_warn("%s: %s: the front-end answered failure %llu", b->name,
			bname(r->request),
			(unsigned long long)msg->payload.u64);
		vh_msg_close_fds(msg);
		return -EIO;
	}
	if (r->fd_out) {
		if (msg->nfds != 1) {
			vh_err("%s: %s: success without exactly one fd (%u)",
			       b->name, bname(r->request), msg->nfds);
			vh_msg_close_fds(msg);
			return -EPROTO;
		}
		*r->fd_out = msg->fds[0];
		msg->fds[0] = -1;
		msg->nfds = 0;
	}
	vh_msg_close_fds(msg); /* fds nobody asked for */
	return 0;
}

static int chan_call(struct vh_backend *b, const struct chan_req *r)
{
	struct vhost_user_msg msg;
	int wait_ms =
	    b->cfg.conn.msg_timeout_ms ? b->cfg.conn.msg_timeout_ms : 5000;
	uint32_t flags = 0;
	bool reply;
	uint64_t pf;
	int err;

	pthread_mutex_lock(&b->chan_lock);
	err = chan_gate(b, r, &pf);
	if (err)
		goto out;
	reply = r->always_reply ||
		(r->need_reply &&
		 vh_protocol_has(pf, VHOST_USER_PROTOCOL_F_REPLY_ACK));
	if (reply && !r->always_reply)
		flags |= VHOST_USER_NEED_REPLY_MASK;

	memset(&msg.hdr, 0, sizeof(msg.hdr));
	vh_proto_init_hdr(&msg.hdr, r->request, flags, r->size);
	msg.hdr.flags |= VHOST_USER_VERSION;
	if (r->size)
		memcpy(msg.payload.raw, r->body, r->size);
	msg.nfds = 0;
	if (r->fd >= 0)
		msg.fds[msg.nfds++] = r->fd;

	err = vh_conn_send(b->chan, &msg);
	if (err) {
		chan_drop(b, r->request, "send failed", err);
		goto out;
	}
	if (!reply)
		goto out;
	msg.nfds = 0;
	err = vh_conn_recv(b->chan, &msg, wait_ms);
	if (err == -EAGAIN)
		err = -ETIMEDOUT;
	if (err) {
		chan_drop(b, r->request, "no reply", err);
		goto out;
	}
	err = chan_check_reply(b, r, &msg);
	if (err == -EPROTO)
		chan_drop(b, r->request, "reply rejected", err);
out:
	pthread_mutex_unlock(&b->chan_lock);
	return err;
}

static int ring_ok(const struct vh_backend *b, uint32_t index)
{
	return index < b->cfg.num_queues && index <= VHOST_USER_VRING_IDX_MASK
		   ? 0
		   : -EINVAL;
}

int vh_backend_send_iotlb_msg(struct vh_backend *b,
			      const struct vhost_user_iotlb *msg,
			      bool need_reply)
{
	struct chan_req r = {.request = VHOST_USER_BACKEND_IOTLB_MSG,
			     .body = msg,
			     .size = sizeof(*msg),
			     .fd = -1,
			     .need_reply = need_reply};

	if (!msg || vh_proto_validate_iotlb(msg))
		return -EINVAL;
	return chan_call(b, &r);
}

int vh_backend_send_config_change(struct vh_backend *b, bool need_reply)
{
	struct chan_req r = {.request = VHOST_USER_BACKEND_CONFIG_CHANGE_MSG,
			     .fd = -1,
			     .need_reply = need_reply};

	return chan_call(b, &r);
}

int vh_backend_send_host_notifier(struct vh_backend *b, uint32_t index,
				  uint64_t size, uint64_t offset, int fd,
				  bool need_reply)
{
	struct vhost_user_vring_area area = {
	    .u64 = index, .size = size, .offset = offset};
	struct chan_req r = {.request =
				 VHOST_USER_BACKEND_VRING_HOST_NOTIFIER_MSG,
			     .body = &area,
			     .size = sizeof(area),
			     .fd = fd < 0 ? -1 : fd,
			     .need_reply = need_reply};

	if (ring_ok(b, index))
		return -EINVAL;
	/* "The back-end sends this request to tell QEMU to de-register the
	 * existing notifier if any and register the new notifier if the
	 * request is sent with a file descriptor." */
	if (fd < 0)
		area.u64 |= VHOST_USER_VRING_NOFD_MASK;
	return chan_call(b, &r);
}

/* In-band notifications block until processed: "the latter [REPLY_ACK]
 * needs to be used with the in-band notification messages to block until
 * they are processed" (vhost-user.rst: In-band notifications). */
static int send_vring_state(struct vh_backend *b, uint32_t req, uint32_t index)
{
	struct vhost_user_vring_state st = {.index = index, .num = 0};
	struct chan_req r = {.request = req,
			     .body = &st,
			     .size = sizeof(st),
			     .fd = -1,
			     .need_reply = true};

	if (ring_ok(b, index))
		return -EINVAL;
	return chan_call(b, &r);
}

int vh_backend_send_vring_call(struct vh_backend *b, uint32_t index)
{
	return send_vring_state(b, VHOST_USER_BACKEND_VRING_CALL, index);
}

int vh_backend_send_vring_err(struct vh_backend *b, uint32_t index)
{
	return send_vring_state(b, VHOST_USER_BACKEND_VRING_ERR, index);
}

static int send_shared(struct vh_backend *b, uint32_t req,
		       const struct vhost_user_shared *uuid, bool need_reply,
		       int *fd_out)
{
	struct chan_req r = {.request = req,
			     .body = uuid,
			     .size = sizeof(*uuid),
			     .fd = -1,
			     .need_reply = need_reply,
			     .always_reply = fd_out != NULL,
			     .fd_out = fd_out};

	if (!uuid)
		return -EINVAL;
	return chan_call(b, &r);
}

int vh_backend_shared_object_add(struct vh_backend *b,
				 const struct vhost_user_shared *uuid,
				 bool need_reply)
{
	return send_shared(b, VHOST_USER_BACKEND_SHARED_OBJECT_ADD, uuid,
			   need_reply, NULL);
}

int vh_backend_shared_object_remove(struct vh_backend *b,
				    const struct vhost_user_shared *uuid,
				    bool need_reply)
{
	return send_shared(b, VHOST_USER_BACKEND_SHARED_OBJECT_REMOVE, uuid,
			   need_reply, NULL);
}

int vh_backend_shared_object_lookup(struct vh_backend *b,
				    const struct vhost_user_shared *uuid,
				    int *fd_out)
{
	if (!fd_out)
		return -EINVAL;
	*fd_out = -1;
	/* "Frontend will reply passing the fd and a zero when the operation
	 * is successful, or non-zero otherwise": a reply always comes, so
	 * NEED_REPLY is not set. */
	return send_shared(b, VHOST_USER_BACKEND_SHARED_OBJECT_LOOKUP, uuid,
			   false, fd_out);
}

int vh_backend_shmem_map(struct vh_backend *b,
			 const struct vhost_user_mmap *req, int fd,
			 bool need_reply)
{
	struct chan_req r = {.request = VHOST_USER_BACKEND_SHMEM_MAP,
			     .body = req,
			     .size = sizeof(*req),
			     .fd = fd,
			     .need_reply = need_reply};

	if (!req || fd < 0 || vh_proto_validate_mmap(req))
		return -EINVAL;
	return chan_call(b, &r);
}

int vh_backend_shmem_unmap(struct vh_backend *b,
			   const struct vhost_user_mmap *req, bool need_reply)
{
	struct chan_req r = {.request = VHOST_USER_BACKEND_SHMEM_UNMAP,
			     .body = req,
			     .size = sizeof(*req),
			     .fd = -1,
			     .need_reply = need_reply};

	if (!req || vh_proto_validate_mmap(req))
		return -EINVAL;
	return chan_call(b, &r);
}
