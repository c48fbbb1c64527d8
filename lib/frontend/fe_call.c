/* SPDX-License-Identifier: MIT */
/*
 * The front-end's one request/reply exchange: gating, NEED_REPLY, sending,
 * and the strict reply validation every typed request relies on.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/socket.h>

#include "fe_internal.h"

void fe_msg_init(struct vhost_user_msg *msg, uint32_t request, uint32_t size)
{
	memset(&msg->hdr, 0, sizeof(msg->hdr));
	vh_proto_init_hdr(&msg->hdr, request, VHOST_USER_VERSION, size);
	msg->nfds = 0;
}

bool fe_has_pf(struct vh_frontend *f, enum vhost_user_protocol_feature bit)
{
	bool has;

	pthread_mutex_lock(&f->lock);
	has = vh_protocol_has(f->pf, bit);
	pthread_mutex_unlock(&f->lock);
	return has;
}

int fe_refuse(struct vh_frontend *f, uint32_t request, int err, const char *why)
{
	vh_info("%s: %s not sent: %s", f->name, vh_proto_request_name(request),
		why);
	return err;
}

/* Caller holds f->lock. "If front-end is unable to send the full message
 * or receives a wrong reply it will close the connection" (Communication):
 * shut the socket down now, so the back-end sees the hang-up at once; the
 * descriptor itself is closed by vh_frontend_free(). */
static int mark_broken(struct vh_frontend *f, uint32_t request, int err,
		       const char *what)
{
	f->broken = true;
	shutdown(vh_conn_fd(f->conn), SHUT_RDWR);
	vh_err("%s: %s: %s (%s); closing the connection", f->name,
	       vh_proto_request_name(request), what, vh_strerror(err));
	return err;
}

int fe_reply_error(struct vh_frontend *f, uint32_t request, const char *what)
{
	int r;

	pthread_mutex_lock(&f->lock);
	r = mark_broken(f, request, -EPROTO, what);
	pthread_mutex_unlock(&f->lock);
	return r;
}

/* Caller holds f->lock. Local gating from the shape table. */
static int check_gate(struct vh_frontend *f, const struct vhost_user_msg *req,
		      const struct vh_msg_shape **shape_out)
{
	uint32_t code = req->hdr.request;
	const struct vh_msg_shape *shape = vh_proto_request_shape(code);
	uint64_t need;
	const char *pf_name;
	unsigned bit;

	if (!shape) {
		vh_err("%s: request %u has no shape: library bug", f->name,
		       code);
		return -ENOSYS;
	}
	need = vh_proto_shape_required_pf(shape);
	if ((f->pf & need) != need) {
		bit = (unsigned)__builtin_ctzll(need & ~f->pf);
		pf_name = vh_proto_protocol_feature_name(bit);
		vh_info("%s: %s not sent: protocol feature %s not negotiated",
			f->name, vh_proto_request_name(code),
			pf_name ? pf_name : "?");
		return -EOPNOTSUPP;
	}
	/* Self-check: never put on the wire what a back-end must refuse. */
	if (vh_proto_check_shape(shape, req) < 0) {
		vh_err("%s: %s: refusing to send a malformed request (size %u, "
		       "%u fds)",
		       f->name, vh_proto_request_name(code), req->hdr.size,
		       req->nfds);
		return -EINVAL;
	}
	*shape_out = shape;
	return 0;
}

/* Caller holds f->lock. Does @shape owe a reply body under the features in
 * force? */
static bool owes_body(struct vh_frontend *f, const struct vh_msg_shape *shape)
{
	switch (shape->reply) {
	case VH_REPLY_ALWAYS:
		return true;
	case VH_REPLY_IF_PF:
		return shape->reply_pf >= 0 &&
		       (f->pf & (UINT64_C(1) << (unsigned)shape->reply_pf));
	case VH_REPLY_NONE:
		break;
	}
	return false;
}

/* Caller holds f->lock. Receive and check the header-level facts. */
static int recv_reply(struct vh_frontend *f, uint32_t code,
		      struct vhost_user_msg *rep, uint32_t expect)
{
	uint32_t flags;
	int r;

	r = vh_conn_recv_expect(f->conn, rep, f->reply_timeout_ms, expect);
	if (r == -EAGAIN)
		r = -ETIMEDOUT;
	if (r == -ECONNRESET)
		return mark_broken(f, code, r, "back-end hung up");
	if (r == -ETIMEDOUT)
		return mark_broken(f, code, r, "no reply in time");
	if (r < 0)
		return mark_broken(f, code, -EPROTO,
				   "reply could not be received");

	flags = rep->hdr.flags;
	if ((flags & VHOST_USER_VERSION_MASK) != VHOST_USER_VERSION) {
		r = mark_broken(f, code, -EPROTO, "reply has a wrong version");
	} else if (!(flags & VHOST_USER_REPLY_MASK)) {
		r = mark_broken(f, code, -EPROTO, "reply lacks the REPLY flag");
	} else if (flags & ~VHOST_USER_FLAGS_KNOWN ||
		   flags & VHOST_USER_NEED_REPLY_MASK) {
		r = mark_broken(f, code, -EPROTO,
				"reply has reserved flag bits set");
	} else if (rep->hdr.request != code) {
		vh_err("%s: %s: reply is for request %u (%s)", f->name,
		       vh_proto_request_name(code), rep->hdr.request,
		       vh_proto_request_name(rep->hdr.request));
		r = mark_broken(f, code, -EPROTO, "reply to another request");
	}
	if (r < 0)
		vh_msg_close_fds(rep);
	return r;
}

/* Caller holds f->lock. The body's (or the ack's) size and fds, by the
 * table (vh_proto_check_reply_shape). */
static int check_body(struct vh_frontend *f, const struct vh_msg_shape *shape,
		      uint32_t code, uint32_t req_size,
		      struct vhost_user_msg *rep)
{
	int r = vh_proto_check_reply_shape(shape, req_size, rep);

	if (r == 0)
		return 0;
	vh_err("%s: %s: reply of %u bytes with %u fds does not fit the "
	       "request",
	       f->name, vh_proto_request_name(code), rep->hdr.size, rep->nfds);
	vh_msg_close_fds(rep);
	return mark_broken(f, code, -EPROTO,
			   r == -EBADMSG ? "wrong reply fd count"
					 : "wrong reply size");
}

/* Caller holds f->lock. A REPLY_ACK answer: u64, no fd, 0 = success
 * (vhost-user.rst "REPLY_ACK"). */
static int check_ack(struct vh_frontend *f, const struct vh_msg_shape *shape,
		     uint32_t code, uint32_t req_size,
		     struct vhost_user_msg *rep)
{
	uint64_t v;
	int r;

	r = check_body(f, shape, code, req_size, rep);
	if (r < 0)
		return r;
	memcpy(&v, rep->payload.raw, sizeof(v));
	if (v != 0) {
		vh_warn("%s: %s: back-end answered failure (%" PRIu64 ")",
			f->name, vh_proto_request_name(code), v);
		return -EIO;
	}
	return 0;
}

int fe_call(struct vh_frontend *f, struct vhost_user_msg *req, unsigned flags,
	    struct vhost_user_msg *rep)
{
	const struct vh_msg_shape *shape = NULL;
	struct vhost_user_msg ackmsg;
	uint32_t code = req->hdr.request;
	bool body, ask_ack;
	int r;

	pthread_mutex_lock(&f->lock);
	if (f->broken) {
		r = -EPROTO;
		goto out;
	}
	r = check_gate(f, req, &shape);
	if (r < 0)
		goto out;
	body = owes_body(f, shape);
	if (body && !rep) {
		vh_err("%s: %s: no room for the reply: library bug", f->name,
		       vh_proto_request_name(code));
		r = -EINVAL;
		goto out;
	}

	ask_ack = !body &&
		  (f->ack_next || f->ack_always || (flags & FE_FORCE_ACK)) &&
		  vh_protocol_has(f->pf, VHOST_USER_PROTOCOL_F_REPLY_ACK);
	f->ack_next = false;
	vh_proto_init_hdr(&req->hdr, code,
			  ask_ack ? VHOST_USER_NEED_REPLY_MASK : 0,
			  req->hdr.size);

	r = vh_conn_send(f->conn, req);
	if (r == -EMSGSIZE || r == -EINVAL || r == -EBADF) {
		/* Refused before anything was sent: too large, too many fds,
		 * or a bad fd (they travel with the first bytes). */
		vh_err("%s: %s: request refused by the socket layer (%s)",
		       f->name, vh_proto_request_name(code), vh_strerror(r));
		goto out;
	}
	if (r < 0) {
		/* A partial send leaves the stream unknown (vhost-user.rst
		 * "Communication": unable to send the full message). */
		r = mark_broken(f, code, r, "request could not be sent");
		goto out;
	}
	if (body) {
		r = recv_reply(f, code, rep,
			       shape->reply_rule == VH_REPLY_SIZE_AS_REQUEST
				   ? req->hdr.size
				   : shape->reply_size);
		if (r == 0)
			r = check_body(f, shape, code, req->hdr.size, rep);
	} else if (ask_ack) {
		r = recv_reply(f, code, &ackmsg, sizeof(uint64_t));
		if (r == 0)
			r = check_ack(f, shape, code, req->hdr.size, &ackmsg);
	}
out:
	pthread_mutex_unlock(&f->lock);
	return r;
}
