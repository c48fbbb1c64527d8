/* SPDX-License-Identifier: MIT */
/*
 * Internals of the vhost-user front-end (include/vhost/frontend.h), shared
 * by the files of lib/frontend/. Not installed.
 */
#ifndef VH_FE_INTERNAL_H
#define VH_FE_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vhost/conn.h"
#include "vhost/frontend.h"
#include "vhost/log.h"
#include "vhost/proto.h"

#define FE_DEFAULT_REPLY_TIMEOUT_MS 5000
#define FE_NAME_MAX		    32

struct vh_frontend {
	struct vh_conn *conn;
	/* Serialises requests (one message in flight) and guards the state
	 * below, except the back-end channel, which belongs to one thread. */
	pthread_mutex_t lock;
	char name[FE_NAME_MAX];
	int reply_timeout_ms;
	struct vh_conn_opts conn_opts; /* also used for the back-end channel */

	bool broken;
	bool ack_always;
	bool ack_next;

	bool have_features; /* GET_FEATURES answered */
	uint64_t offered_features;
	bool features_set; /* SET_FEATURES sent */
	uint64_t acked_features;
	bool have_pf; /* GET_PROTOCOL_FEATURES answered */
	uint64_t offered_pf;
	uint64_t pf; /* in force after SET_PROTOCOL_FEATURES */
	bool postcopy_listening;

	/* Back-end channel (fe_channel.c). */
	struct vh_conn *chan;
	const struct vh_frontend_backend_ops *chan_ops;
	void *chan_opaque;
};

/* fe_call() flags. */
enum {
	/* Ask for an ack whenever REPLY_ACK is negotiated: the spec says the
	 * back-end "must respond" then (NET_SET_MTU, SET_BACKEND_REQ_FD), or
	 * the peers we know only answer that way (IOTLB_MSG). */
	FE_FORCE_ACK = 1u << 0,
};

/**
 * Send @req (header request and size filled by the caller; flags are set
 * here) and collect what it owes. Everything about the reply comes from
 * the wire layer's shape table (vh_proto_request_shape): the protocol
 * features the request needs (-EOPNOTSUPP, nothing sent), whether a body
 * is owed, its size and fd count. Without a body, NEED_REPLY is set when
 * asked for (ack_next, ack_always, FE_FORCE_ACK) and REPLY_ACK is
 * negotiated; a non-zero ack gives -EIO. A body lands in @rep (its fds
 * then belong to the caller); a 0-byte body the table accepts is returned
 * as such for the caller to interpret. Any broken stream marks @f broken.
 * @rep may be NULL only for requests that owe no body.
 */
int fe_call(struct vh_frontend *f, struct vhost_user_msg *req, unsigned flags,
	    struct vhost_user_msg *rep);

/**
 * Mark @f broken after a reply that passed fe_call() but failed a check
 * only the caller knows (logged with @what). Returns -EPROTO.
 */
int fe_reply_error(struct vh_frontend *f, uint32_t request, const char *what);

/** Prepare @msg as request @request with @size payload bytes, no fds. */
void fe_msg_init(struct vhost_user_msg *msg, uint32_t request, uint32_t size);

/** True when protocol feature @bit is in force. */
bool fe_has_pf(struct vh_frontend *f, enum vhost_user_protocol_feature bit);

/** Log a local refusal (nothing sent) and return @err. */
int fe_refuse(struct vh_frontend *f, uint32_t request, int err,
	      const char *why);

#endif /* VH_FE_INTERNAL_H */
