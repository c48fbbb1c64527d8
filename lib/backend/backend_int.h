/* SPDX-License-Identifier: MIT */
/*
 * Back-end dispatcher internals (include/vhost/backend.h).
 *
 * dispatch.c  receives one message, checks it (check.c) against the proto
 *             shape and the row of vh_backend_table (table.c), runs the
 *             row's handler, then sends the reply or the REPLY_ACK ack.
 * h_*.c       handlers: decode the payload, call the device callback, fill
 *             the reply body. They never send and never close a request fd.
 * sender.c    back-end → front-end requests on the BACKEND_REQ channel.
 */
#ifndef VHOST_BACKEND_INT_H
#define VHOST_BACKEND_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vhost/backend.h"
#include "vhost/conn.h"
#include "vhost/log.h"
#include "vhost/proto.h"

struct vh_backend {
	struct vh_conn *conn;
	struct vh_backend_config cfg; /* copy; ops/opaque borrowed */
	char name[48];

	uint64_t offered_features; /* GET_FEATURES answer */
	uint64_t offered_pf;	   /* GET_PROTOCOL_FEATURES answer */

	/*
	 * Negotiated state: written by the dispatcher thread under
	 * state_lock, read by sender threads under state_lock. The
	 * dispatcher thread itself reads it unlocked (it is the only
	 * writer). Held only for a copy, never across I/O.
	 */
	pthread_mutex_t state_lock;
	uint64_t acked_features; /* SET_FEATURES */
	uint64_t acked_pf;	 /* SET_PROTOCOL_FEATURES */

	/* The back-end channel (SET_BACKEND_REQ_FD) or NULL. chan_lock
	 * serialises every request and its reply on it, so requests from
	 * several threads never interleave. Lock order: chan_lock, then
	 * state_lock. */
	pthread_mutex_t chan_lock;
	struct vh_conn *chan;

	/* The one message in flight and its reply (too big for the stack
	 * of an embedding event loop). */
	struct vhost_user_msg msg;
	struct vhost_user_msg rep;
	/* Set by a handler that wrote a reply body (success or error form)
	 * into rep: payload, hdr.size and possibly fds owned by rep. */
	bool rep_ready;
};

/*
 * Handler return values: 0, a negative errno (the callback failed or the
 * value was refused), or VH_NOT_SUPPORTED (the callback is NULL).
 */
#define VH_NOT_SUPPORTED 1

typedef int (*vh_backend_handler)(struct vh_backend *b,
				  struct vhost_user_msg *m);

/* Dispatcher-level rules, checked before the handler runs (check.c). */
enum vh_backend_rule {
	/* GET/SET_PROTOCOL_FEATURES, SET_VRING_ENABLE: PROTOCOL_FEATURES was
	 * offered (vhost-user.rst: "Only legal if feature bit
	 * VHOST_USER_F_PROTOCOL_FEATURES is present"). */
	VH_RULE_PF_OFFERED = 1u << 0,
	/* IOTLB_MSG: VIRTIO_F_ACCESS_PLATFORM acked. */
	VH_RULE_ACCESS_PLATFORM = 1u << 1,
	/* SET_VRING_KICK/CALL/ERR: an fd iff the NOFD bit is clear. */
	VH_RULE_FD_UNLESS_NOFD = 1u << 3,
	/* state.num is 0 or 1 (SET_VRING_ENABLE, SET_VRING_ENDIAN). */
	VH_RULE_NUM_BOOL = 1u << 4,
	/* state.num is reserved, must be 0 (GET_VRING_BASE, VRING_KICK). */
	VH_RULE_NUM_ZERO = 1u << 5,
	/* Payload validators from proto.h. */
	VH_RULE_MEM_TABLE = 1u << 6,
	VH_RULE_MEM_REG = 1u << 7,
	VH_RULE_VRING_ADDR = 1u << 8,
	VH_RULE_CONFIG = 1u << 9,
	VH_RULE_IOTLB = 1u << 10,
	VH_RULE_LOG = 1u << 11,
	VH_RULE_INFLIGHT = 1u << 12,
	/* SET_FEATURES: only bits that were offered. */
	VH_RULE_FEATURES_OFFERED = 1u << 13,
	/* SET_PROTOCOL_FEATURES: only offered bits; INBAND needs BACKEND_REQ
	 * and REPLY_ACK (vhost-user.rst: In-band notifications). */
	VH_RULE_PROTOCOL_OFFERED = 1u << 14,
	/* u64 payload that must fit in a byte (SET_STATUS). */
	VH_RULE_U64_BYTE = 1u << 15,
};

/* Reply forms a row may declare. */
enum vh_backend_reply_form {
	/* The handler builds the whole body (or none: then a failure closes
	 * the connection, the spec having no error form). */
	VH_FORM_HANDLER = 0,
	/* The body is a u64 status: 0 on success, non-zero on failure. */
	VH_FORM_U64_STATUS,
};

struct vh_backend_row {
	vh_backend_handler handle;
	uint32_t rules; /* enum vh_backend_rule */
	enum vh_backend_reply_form form;
	/* The callback may be NULL and then the request simply succeeds:
	 * the dispatcher keeps the state itself (SET_FEATURES, ...). */
	bool optional_cb;
};

extern const struct vh_backend_row vh_backend_table[VHOST_USER_MAX];

/* check.c: every rule before the handler. 0 or a negative errno, logged. */
int vh_backend_check(struct vh_backend *b, const struct vhost_user_msg *m,
		     const struct vh_backend_row **row,
		     const struct vh_msg_shape **shape);

/* Whether request @m gets a reply with a body (not an ack). */
bool vh_backend_reply_has_body(const struct vh_backend *b,
			       const struct vh_msg_shape *shape);

/* Log helpers: "<name>: <REQUEST>: <text> [hdr.. payload hex]". */
void vh_backend_log_bad(const struct vh_backend *b,
			const struct vhost_user_msg *m, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static inline const struct vh_backend_ops *vh_ops(const struct vh_backend *b)
{
	return b->cfg.ops;
}

static inline bool vh_pf_on(const struct vh_backend *b,
			    enum vhost_user_protocol_feature bit)
{
	return vh_protocol_has(b->acked_pf, bit);
}

/*
 * Call callback @cb of @b with the device's opaque pointer and the given
 * arguments; VH_NOT_SUPPORTED when the callback is NULL. VH_CALL0 for a
 * callback without arguments (plain C11 has no empty __VA_ARGS__).
 */
#define VH_CALL(b, cb, ...)                                          \
	(vh_ops(b)->cb ? vh_ops(b)->cb((b)->cfg.opaque, __VA_ARGS__) \
		       : VH_NOT_SUPPORTED)
#define VH_CALL0(b, cb) \
	(vh_ops(b)->cb ? vh_ops(b)->cb((b)->cfg.opaque) : VH_NOT_SUPPORTED)

/* Close an fd a callback handed back on a failure path (-1: nothing). */
void vh_close_fd(int fd);

/* Reply body helpers for handlers. */
static inline void vh_rep_u64(struct vh_backend *b, uint64_t v)
{
	b->rep.payload.u64 = v;
	b->rep.hdr.size = sizeof(uint64_t);
	b->rep_ready = true;
}

/* Hand fd @fd (owned) to the reply; the dispatcher closes it once sent. */
static inline void vh_rep_fd(struct vh_backend *b, int fd)
{
	if (fd >= 0 && b->rep.nfds < VHOST_USER_MAX_FDS)
		b->rep.fds[b->rep.nfds++] = fd;
}

/* Handlers (h_core.c, h_mem.c, h_vring.c, h_dev.c). */
#define VH_HANDLER(n) \
	int vh_h_##n(struct vh_backend *b, struct vhost_user_msg *m)
VH_HANDLER(get_features);
VH_HANDLER(set_features);
VH_HANDLER(set_owner);
VH_HANDLER(reset_owner);
VH_HANDLER(get_protocol_features);
VH_HANDLER(set_protocol_features);
VH_HANDLER(get_queue_num);
VH_HANDLER(get_max_mem_slots);
VH_HANDLER(set_backend_req_fd);
VH_HANDLER(reset_device);
VH_HANDLER(set_status);
VH_HANDLER(get_status);

VH_HANDLER(set_mem_table);
VH_HANDLER(add_mem_reg);
VH_HANDLER(rem_mem_reg);
VH_HANDLER(set_log_base);
VH_HANDLER(set_log_fd);
VH_HANDLER(iotlb_msg);
VH_HANDLER(postcopy_advise);
VH_HANDLER(postcopy_listen);
VH_HANDLER(postcopy_end);
VH_HANDLER(get_inflight_fd);
VH_HANDLER(set_inflight_fd);

VH_HANDLER(set_vring_num);
VH_HANDLER(set_vring_addr);
VH_HANDLER(set_vring_base);
VH_HANDLER(get_vring_base);
VH_HANDLER(set_vring_kick);
VH_HANDLER(set_vring_call);
VH_HANDLER(set_vring_err);
VH_HANDLER(set_vring_enable);
VH_HANDLER(set_vring_endian);
VH_HANDLER(vring_kick);

VH_HANDLER(get_config);
VH_HANDLER(set_config);
VH_HANDLER(send_rarp);
VH_HANDLER(net_set_mtu);
VH_HANDLER(create_crypto_session);
VH_HANDLER(close_crypto_session);
VH_HANDLER(gpu_set_socket);
VH_HANDLER(get_shared_object);
VH_HANDLER(set_device_state_fd);
VH_HANDLER(check_device_state);
VH_HANDLER(get_shmem_config);

#endif /* VHOST_BACKEND_INT_H */
