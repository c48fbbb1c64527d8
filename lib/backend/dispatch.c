/* SPDX-License-Identifier: MIT */
/*
 * The dispatcher: one message in, checked (check.c), handled (h_*.c), and
 * the one reply it owes out. Replies and acks are written here only:
 *
 *  - a request whose reply carries a body (GET_FEATURES, GET_CONFIG, ...)
 *    gets that body, or its error form, and never an extra ack;
 *  - any other request gets an ack only when it set NEED_REPLY and
 *    REPLY_ACK is negotiated (vhost-user.rst: REPLY_ACK) — 0 on success,
 *    a positive errno on failure;
 *  - a failure nobody could be told about closes the connection.
 *
 * Every fd received with the message is closed afterwards unless a
 * callback took it (set its slot to -1); every fd put in a reply is closed
 * once sent.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend_int.h"

/* ------------------------------------------------------------------------ */
/* Construction                                                             */
/* ------------------------------------------------------------------------ */

/*
 * Protocol features the library cannot honour for this configuration:
 * their requests would have no callback to go to.
 */
static uint64_t usable_protocol_features(const struct vh_backend_config *cfg,
					 const char *name)
{
	const struct vh_backend_ops *o = cfg->ops;
	const struct {
		enum vhost_user_protocol_feature bit;
		bool ok;
	} need[] = {
	    {VHOST_USER_PROTOCOL_F_LOG_SHMFD, o->set_log_base},
	    {VHOST_USER_PROTOCOL_F_RARP, o->send_rarp},
	    {VHOST_USER_PROTOCOL_F_NET_MTU, o->net_set_mtu},
	    {VHOST_USER_PROTOCOL_F_CROSS_ENDIAN, o->set_vring_endian},
	    {VHOST_USER_PROTOCOL_F_CRYPTO_SESSION,
	     o->create_crypto_session && o->close_crypto_session},
	    {VHOST_USER_PROTOCOL_F_PAGEFAULT,
	     o->postcopy_advise && o->postcopy_listen && o->postcopy_end},
	    {VHOST_USER_PROTOCOL_F_CONFIG, o->get_config},
	    {VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD,
	     o->get_inflight_fd && o->set_inflight_fd},
	    {VHOST_USER_PROTOCOL_F_RESET_DEVICE, o->reset_device},
	    {VHOST_USER_PROTOCOL_F_INBAND_NOTIFICATIONS, o->vring_kick},
	    {VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS,
	     o->add_mem_reg && o->rem_mem_reg},
	    {VHOST_USER_PROTOCOL_F_STATUS, o->set_status && o->get_status},
	    /* XEN_MMAP grows every region description by 8 bytes; the wire
	     * structs here are the standard ones. */
	    {VHOST_USER_PROTOCOL_F_XEN_MMAP, false},
	    {VHOST_USER_PROTOCOL_F_DEVICE_STATE,
	     o->set_device_state_fd && o->check_device_state},
	    {VHOST_USER_PROTOCOL_F_SHMEM, o->get_shmem_config},
	};
	uint64_t pf = cfg->protocol_features;
	size_t i;

	for (i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		if (need[i].ok || !vh_protocol_has(pf, need[i].bit))
			continue;
		vh_info("%s: not offering protocol feature %s: no callback",
			name, vh_proto_protocol_feature_name(need[i].bit));
		pf &= ~vh_protocol_feature_mask(need[i].bit);
	}
	return pf;
}

static int check_config(const struct vh_backend_config *cfg)
{
	if (!cfg || !cfg->ops)
		return -EINVAL;
	if (cfg->num_queues < 1 || cfg->num_queues > VHOST_USER_MAX_VRINGS)
		return -EINVAL;
	if (cfg->max_mem_slots > VHOST_USER_MAX_MEM_SLOTS)
		return -EINVAL;
	if (cfg->protocol_features & ~VHOST_USER_PROTOCOL_F_KNOWN)
		return -EINVAL;
	return 0;
}

int vh_backend_new(struct vh_backend **out, int fd,
		   const struct vh_backend_config *cfg)
{
	struct vh_backend *b;
	int err;

	if (out)
		*out = NULL;
	err = out ? check_config(cfg) : -EINVAL;
	if (err)
		goto fail_fd;
	b = calloc(1, sizeof(*b));
	if (!b) {
		err = -ENOMEM;
		goto fail_fd;
	}
	b->cfg = *cfg;
	snprintf(b->name, sizeof(b->name), "%s",
		 cfg->name ? cfg->name : "vhost-backend");
	b->cfg.name = b->name;
	if (!b->cfg.max_mem_slots)
		b->cfg.max_mem_slots = VHOST_USER_MAX_MEM_SLOTS;
	b->offered_pf = usable_protocol_features(cfg, b->name);
	b->offered_features = cfg->features;
	if (b->offered_pf)
		b->offered_features |=
		    vh_virtio_feature_mask(VH_VHOST_USER_F_PROTOCOL_FEATURES);
	if (pthread_mutex_init(&b->state_lock, NULL)) {
		err = -ENOMEM;
		goto fail_free;
	}
	if (pthread_mutex_init(&b->chan_lock, NULL)) {
		pthread_mutex_destroy(&b->state_lock);
		err = -ENOMEM;
		goto fail_free;
	}
	err = vh_conn_new(&b->conn, fd, &cfg->conn); /* owns fd from here */
	if (err) {
		pthread_mutex_destroy(&b->chan_lock);
		pthread_mutex_destroy(&b->state_lock);
		free(b);
		return err;
	}
	*out = b;
	return 0;

fail_free:
	free(b);
fail_fd:
	if (fd >= 0)
		close(fd);
	return err;
}

void vh_backend_free(struct vh_backend *b)
{
	if (!b)
		return;
	vh_conn_free(b->conn);
	vh_conn_free(b->chan);
	vh_msg_close_fds(&b->msg);
	vh_msg_close_fds(&b->rep);
	pthread_mutex_destroy(&b->chan_lock);
	pthread_mutex_destroy(&b->state_lock);
	free(b);
}

int vh_backend_fd(const struct vh_backend *b)
{
	return vh_conn_fd(b->conn);
}

uint64_t vh_backend_features(const struct vh_backend *b)
{
	struct vh_backend *mb = (struct vh_backend *)b;
	uint64_t v;

	pthread_mutex_lock(&mb->state_lock);
	v = b->acked_features;
	pthread_mutex_unlock(&mb->state_lock);
	return v;
}

uint64_t vh_backend_protocol_features(const struct vh_backend *b)
{
	struct vh_backend *mb = (struct vh_backend *)b;
	uint64_t v;

	pthread_mutex_lock(&mb->state_lock);
	v = b->acked_pf;
	pthread_mutex_unlock(&mb->state_lock);
	return v;
}

/* ------------------------------------------------------------------------ */
/* Replies                                                                  */
/* ------------------------------------------------------------------------ */

void vh_close_fd(int fd)
{
	if (fd >= 0)
		close(fd);
}

static const char *req_name(const struct vhost_user_msg *m)
{
	return vh_proto_request_name(m->hdr.request);
}

static int send_reply(struct vh_backend *b, const struct vhost_user_msg *m)
{
	int err = vh_conn_send(b->conn, &b->rep);

	if (err)
		vh_err("%s: %s: sending the reply failed: %s", b->name,
		       req_name(m), vh_strerror(err));
	vh_msg_close_fds(&b->rep);
	return err;
}

/* Non-zero status for a failed request: the positive errno. */
static uint64_t status_of(int ret)
{
	if (ret == VH_NOT_SUPPORTED)
		return EOPNOTSUPP;
	return ret < 0 ? (uint64_t) - (int64_t)ret : (uint64_t)ret;
}

/* A request whose reply has a body: send it (or its error form). */
static int reply_body(struct vh_backend *b, const struct vhost_user_msg *m,
		      const struct vh_backend_row *row, int ret)
{
	if (!b->rep_ready) {
		if (row->form == VH_FORM_U64_STATUS) {
			vh_rep_u64(b, ret ? status_of(ret) : 0);
		} else if (ret == 0) {
			vh_err("%s: %s: no reply was produced", b->name,
			       req_name(m));
			return -EIO;
		} else {
			vh_err("%s: %s: %s; the reply has no error form, "
			       "closing",
			       b->name, req_name(m),
			       ret == VH_NOT_SUPPORTED ? "not supported"
						       : vh_strerror(ret));
			return ret < 0 ? ret : -EOPNOTSUPP;
		}
	}
	if (ret == VH_NOT_SUPPORTED)
		vh_warn("%s: %s: not supported, error reply sent", b->name,
			req_name(m));
	else if (ret < 0)
		vh_warn("%s: %s: failed: %s, error reply sent", b->name,
			req_name(m), vh_strerror(ret));
	return send_reply(b, m);
}

/* Any other request: the REPLY_ACK ack when owed, else nothing. */
static int reply_ack(struct vh_backend *b, const struct vhost_user_msg *m,
		     int ret)
{
	/* Evaluated after the handler: a SET_PROTOCOL_FEATURES that turns
	 * REPLY_ACK on and asks for an ack gets one. */
	bool ack = (m->hdr.flags & VHOST_USER_NEED_REPLY_MASK) &&
		   vh_pf_on(b, VHOST_USER_PROTOCOL_F_REPLY_ACK);

	if (ret == VH_NOT_SUPPORTED) {
		vh_warn("%s: %s: not supported (no callback)%s", b->name,
			req_name(m), ack ? ", nack sent" : ", ignored");
	} else if (ret < 0) {
		if (!ack) {
			vh_err("%s: %s: failed: %s; closing (no ack owed to "
			       "report it)",
			       b->name, req_name(m), vh_strerror(ret));
			return ret;
		}
		vh_warn("%s: %s: failed: %s, nack sent", b->name, req_name(m),
			vh_strerror(ret));
	}
	if (!ack)
		return 0;
	vh_rep_u64(b, ret ? status_of(ret) : 0);
	return send_reply(b, m);
}

static int dispatch(struct vh_backend *b, struct vhost_user_msg *m)
{
	const struct vh_backend_row *row;
	const struct vh_msg_shape *shape;
	bool body;
	int ret;

	ret = vh_backend_check(b, m, &row, &shape);
	if (ret)
		return ret;
	vh_dbg("%s: %s (flags 0x%x size %u fds %u)", b->name, req_name(m),
	       m->hdr.flags, m->hdr.size, m->nfds);

	memset(&b->rep.hdr, 0, sizeof(b->rep.hdr));
	vh_proto_init_hdr(&b->rep.hdr, m->hdr.request, VHOST_USER_REPLY_MASK,
			  0);
	b->rep.hdr.flags |= VHOST_USER_VERSION;
	b->rep.nfds = 0;
	b->rep_ready = false;
	/* Whether a body is owed is decided before the handler: the handler
	 * may change the negotiated state (SET_PROTOCOL_FEATURES). */
	body = vh_backend_reply_has_body(b, shape);

	ret = row->handle(b, m);
	if (ret == VH_NOT_SUPPORTED && row->optional_cb)
		ret = 0;
	if (body)
		ret = reply_body(b, m, row, ret);
	else
		ret = reply_ack(b, m, ret);
	vh_msg_close_fds(&b->rep);
	return ret;
}

int vh_backend_handle_readable(struct vh_backend *b)
{
	return vh_backend_handle_wait(b, 0);
}

int vh_backend_handle_wait(struct vh_backend *b, int wait_ms)
{
	struct vhost_user_msg *m = &b->msg;
	int ret;

	m->nfds = 0;
	ret = vh_conn_recv(b->conn, m, wait_ms);
	if (ret == -EAGAIN) /* spurious wake-up, or nothing within wait_ms */
		return wait_ms == 0 ? 0 : -EAGAIN;
	if (ret == -ECONNRESET) {
		vh_info("%s: front-end hung up", b->name);
		return ret;
	}
	if (ret < 0) {
		vh_err("%s: receiving a message failed: %s", b->name,
		       vh_strerror(ret));
		return ret;
	}
	ret = dispatch(b, m);
	vh_msg_close_fds(m);
	return ret;
}
