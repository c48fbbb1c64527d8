/* SPDX-License-Identifier: MIT */
/*
 * Shorthands for the rows of the message shape tables (shape_frontend.c,
 * shape_backend.c). Each expands to designated initialisers of distinct
 * fields, so a row still names every fact and no field is set twice.
 */
#ifndef VHOST_PROTO_SHAPE_ROWS_H
#define VHOST_PROTO_SHAPE_ROWS_H

#include "vhost/proto.h"

#define PF(x) VHOST_USER_PROTOCOL_F_##x
#define NONE  (-1)
#define U64   8u
#define STATE ((uint32_t)sizeof(struct vhost_user_vring_state))

#define EXACT(n) .size_rule = VH_SIZE_EXACT, .min_size = (n), .max_size = (n)
#define RANGE(lo, hi) \
	.size_rule = VH_SIZE_RANGE, .min_size = (lo), .max_size = (hi)
#define FDS(lo, hi) .min_fds = (lo), .max_fds = (hi)
#define NEEDS(a, b) .need_pf = (a), .need_pf2 = (b)

/* No body in return: an ack when NEED_REPLY (and REPLY_ACK) ask for one. */
#define NO_REPLY                                            \
	.reply = VH_REPLY_NONE, .reply_pf = NONE,           \
	.reply_rule = VH_REPLY_SIZE_EXACT, .reply_size = 0, \
	.reply_min_fds = 0, .reply_max_fds = 0

/* A body of exactly n bytes, with flo..fhi fds, whatever NEED_REPLY says. */
#define REPLY(n, flo, fhi)                                    \
	.reply = VH_REPLY_ALWAYS, .reply_pf = NONE,           \
	.reply_rule = VH_REPLY_SIZE_EXACT, .reply_size = (n), \
	.reply_min_fds = (flo), .reply_max_fds = (fhi)

/* A body as large as the request's payload, with flo..fhi fds. */
#define REPLY_AS_REQUEST(flo, fhi)                               \
	.reply = VH_REPLY_ALWAYS, .reply_pf = NONE,              \
	.reply_rule = VH_REPLY_SIZE_AS_REQUEST, .reply_size = 0, \
	.reply_min_fds = (flo), .reply_max_fds = (fhi)

#endif /* VHOST_PROTO_SHAPE_ROWS_H */
