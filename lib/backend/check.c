/* SPDX-License-Identifier: MIT */
/*
 * Everything the dispatcher checks before a callback runs: the header, the
 * request code, the protocol feature it needs, payload size and fd count
 * (proto shape), the ring index, and the row's rules. Each failure is logged
 * once, naming the request, with the header and the first payload bytes,
 * and returns the errno documented in backend.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "backend_int.h"

#define HEXDUMP_BYTES 16u

void vh_backend_log_bad(const struct vh_backend *b,
			const struct vhost_user_msg *m, const char *fmt, ...)
{
	char why[200], hex[3 * HEXDUMP_BYTES + 1];
	uint32_t n = m->hdr.size, i;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);

	if (n > HEXDUMP_BYTES)
		n = HEXDUMP_BYTES;
	if (n > sizeof(m->payload.raw))
		n = 0;
	hex[0] = '\0';
	for (i = 0; i < n; i++)
		snprintf(hex + 3 * i, sizeof(hex) - 3 * i, "%s%02x",
			 i ? " " : "", m->payload.raw[i]);
	vh_err("%s: %s: %s [flags 0x%x size %u fds %u%s%s%s]", b->name,
	       vh_proto_request_name(m->hdr.request), why, m->hdr.flags,
	       m->hdr.size, m->nfds, n ? ": " : "", hex,
	       m->hdr.size > n ? " ..." : "");
}

bool vh_backend_reply_has_body(const struct vh_backend *b,
			       const struct vh_msg_shape *shape)
{
	switch (shape->reply) {
	case VH_REPLY_ALWAYS:
		return true;
	case VH_REPLY_IF_PF:
		return shape->reply_pf >= 0 &&
		       vh_protocol_has(
			   b->acked_pf,
			   (enum vhost_user_protocol_feature)shape->reply_pf);
	case VH_REPLY_NONE:
	default:
		return false;
	}
}

static const char *pf_name(int bit)
{
	const char *n = vh_proto_protocol_feature_name((unsigned)bit);

	return n ? n : "?";
}

static int check_features(struct vh_backend *b, const struct vhost_user_msg *m,
			  const struct vh_backend_row *row,
			  const struct vh_msg_shape *shape)
{
	uint64_t miss = vh_proto_shape_required_pf(shape) & ~b->acked_pf;

	if (miss) {
		int bit = __builtin_ctzll(miss);

		vh_backend_log_bad(
		    b, m, "protocol feature %s (bit %d) not negotiated",
		    pf_name(bit), bit);
		return -EPROTO;
	}
	if ((row->rules & VH_RULE_PF_OFFERED) &&
	    !vh_virtio_has(b->offered_features,
			   VH_VHOST_USER_F_PROTOCOL_FEATURES)) {
		vh_backend_log_bad(b, m,
				   "VHOST_USER_F_PROTOCOL_FEATURES was "
				   "not offered");
		return -EPROTO;
	}
	if ((row->rules & VH_RULE_ACCESS_PLATFORM) &&
	    !vh_virtio_has(b->acked_features, VH_VIRTIO_F_ACCESS_PLATFORM)) {
		vh_backend_log_bad(b, m, "VIRTIO_F_ACCESS_PLATFORM not acked");
		return -EPROTO;
	}
	return 0;
}

static int check_shape(struct vh_backend *b, const struct vhost_user_msg *m,
		       const struct vh_msg_shape *shape)
{
	int ret = vh_proto_check_shape(shape, m);

	if (ret == -EBADMSG) {
		/* SET_MEM_TABLE: "The size and ordering of the fds matches
		 * the number and ordering of memory regions." */
		vh_backend_log_bad(b, m, "%u fds, want %u..%u%s", m->nfds,
				   shape->min_fds, shape->max_fds,
				   shape->size_rule == VH_SIZE_MEMTABLE
				       ? " and one per region"
				       : "");
		return -EBADMSG;
	}
	if (ret) {
		vh_backend_log_bad(
		    b, m, "payload size %u invalid (want %u..%u)", m->hdr.size,
		    shape->min_size, shape->max_size);
		return -EMSGSIZE;
	}
	return 0;
}

/* Ring index from the payload, per the shape's ring kind. */
static int check_ring(struct vh_backend *b, const struct vhost_user_msg *m,
		      const struct vh_msg_shape *shape)
{
	uint32_t index;
	int err = vh_proto_ring_index(shape, m, &index);

	if (err == -ENOENT)
		return 0; /* the request addresses no ring */
	if (err) {
		/* u64 of KICK/CALL/ERR: bits 0-7 ring, bit 8 NOFD, the rest
		 * reserved. */
		vh_backend_log_bad(b, m,
				   "reserved bits set in the ring "
				   "index");
		return -EINVAL;
	}
	if (index >= b->cfg.num_queues) {
		vh_backend_log_bad(b, m, "ring %u out of range (num_queues %u)",
				   index, b->cfg.num_queues);
		return -ERANGE;
	}
	return 0;
}

/* The fd rules that depend on the payload. */
static int check_fds(struct vh_backend *b, const struct vhost_user_msg *m,
		     const struct vh_backend_row *row)
{
	if (row->rules & VH_RULE_FD_UNLESS_NOFD) {
		/* "Bit 8 is the invalid FD flag. This flag is set when there
		 * is no file descriptor in the ancillary data." */
		bool nofd = m->payload.u64 & VHOST_USER_VRING_NOFD_MASK;

		if (m->nfds != (nofd ? 0u : 1u)) {
			vh_backend_log_bad(b, m, "%u fds with NOFD %s", m->nfds,
					   nofd ? "set" : "clear");
			return -EBADMSG;
		}
	}
	return 0;
}

static int bad_value(struct vh_backend *b, const struct vhost_user_msg *m,
		     const char *what, int err)
{
	vh_backend_log_bad(b, m, "invalid %s: %s", what, vh_strerror(err));
	return -EINVAL;
}

/* Validators and value rules on the decoded payload. */
static int check_values(struct vh_backend *b, const struct vhost_user_msg *m,
			const struct vh_backend_row *row)
{
	uint32_t r = row->rules;
	int err;

	if ((r & VH_RULE_NUM_BOOL) && m->payload.state.num > 1) {
		vh_backend_log_bad(b, m, "ring %u: num %u is not 0 or 1",
				   m->payload.state.index,
				   m->payload.state.num);
		return -EINVAL;
	}
	if ((r & VH_RULE_NUM_ZERO) && m->payload.state.num != 0) {
		vh_backend_log_bad(b, m, "ring %u: reserved num %u is not 0",
				   m->payload.state.index,
				   m->payload.state.num);
		return -EINVAL;
	}
	if ((r & VH_RULE_U64_BYTE) && m->payload.u64 > 0xff) {
		vh_backend_log_bad(b, m, "value 0x%llx does not fit a byte",
				   (unsigned long long)m->payload.u64);
		return -EINVAL;
	}
	if (r & VH_RULE_MEM_TABLE) {
		err = vh_proto_validate_mem_table(&m->payload.mem_table,
						  m->hdr.size);
		if (err)
			return bad_value(b, m, "memory table", err);
	}
	if (r & VH_RULE_MEM_REG) {
		err = vh_proto_validate_region(&m->payload.mem_reg.region);
		if (err)
			return bad_value(b, m, "memory region", err);
	}
	if (r & VH_RULE_VRING_ADDR) {
		bool packed =
		    vh_virtio_has(b->acked_features, VH_VIRTIO_F_RING_PACKED);

		err = vh_proto_validate_vring_addr(&m->payload.addr, packed);
		if (err)
			return bad_value(b, m,
					 packed ? "packed ring addresses"
						: "split ring addresses",
					 err);
	}
	if (r & VH_RULE_CONFIG) {
		err = vh_proto_validate_config(&m->payload.config.hdr,
					       m->hdr.size, b->cfg.config_size);
		if (err) {
			vh_backend_log_bad(b, m,
					   "config access offset %u size %u "
					   "flags %u outside the %u-byte space "
					   "or malformed: %s",
					   m->payload.config.hdr.offset,
					   m->payload.config.hdr.size,
					   m->payload.config.hdr.flags,
					   b->cfg.config_size,
					   vh_strerror(err));
			return -EINVAL;
		}
	}
	if (r & VH_RULE_IOTLB) {
		err = vh_proto_validate_iotlb(&m->payload.iotlb);
		if (err)
			return bad_value(b, m, "IOTLB message", err);
	}
	if (r & VH_RULE_LOG) {
		err = vh_proto_validate_log(&m->payload.log);
		if (err)
			return bad_value(b, m, "log description", err);
	}
	if (r & VH_RULE_INFLIGHT) {
		err = vh_proto_validate_inflight(&m->payload.inflight);
		if (err)
			return bad_value(b, m, "inflight description", err);
	}
	return 0;
}

/* SET_FEATURES / SET_PROTOCOL_FEATURES: nothing the back-end did not offer. */
static int check_negotiation(struct vh_backend *b,
			     const struct vhost_user_msg *m,
			     const struct vh_backend_row *row)
{
	uint64_t v = m->payload.u64;

	if ((row->rules & VH_RULE_FEATURES_OFFERED) &&
	    (v & ~b->offered_features)) {
		vh_backend_log_bad(
		    b, m,
		    "features 0x%llx not offered (offered "
		    "0x%llx)",
		    (unsigned long long)(v & ~b->offered_features),
		    (unsigned long long)b->offered_features);
		return -EPROTO;
	}
	if (!(row->rules & VH_RULE_PROTOCOL_OFFERED))
		return 0;
	if (v & ~b->offered_pf) {
		vh_backend_log_bad(b, m,
				   "protocol features 0x%llx not offered "
				   "(offered 0x%llx)",
				   (unsigned long long)(v & ~b->offered_pf),
				   (unsigned long long)b->offered_pf);
		return -EPROTO;
	}
	/* vhost-user.rst, In-band notifications: "the back-end should close
	 * the connection as a response to a SET_PROTOCOL_FEATURES message
	 * that sets the in-band notifications feature flag without the
	 * other two." */
	if (vh_protocol_has(v, VHOST_USER_PROTOCOL_F_INBAND_NOTIFICATIONS) &&
	    (!vh_protocol_has(v, VHOST_USER_PROTOCOL_F_BACKEND_REQ) ||
	     !vh_protocol_has(v, VHOST_USER_PROTOCOL_F_REPLY_ACK))) {
		vh_backend_log_bad(b, m,
				   "INBAND_NOTIFICATIONS without "
				   "BACKEND_REQ and REPLY_ACK");
		return -EPROTO;
	}
	return 0;
}

int vh_backend_check(struct vh_backend *b, const struct vhost_user_msg *m,
		     const struct vh_backend_row **rowp,
		     const struct vh_msg_shape **shapep)
{
	const struct vh_backend_row *row = NULL;
	const struct vh_msg_shape *shape;
	int err;

	err = vh_proto_validate_hdr(&m->hdr, false, VHOST_USER_MAX_PAYLOAD);
	if (err) {
		vh_backend_log_bad(b, m, "bad header: %s", vh_strerror(err));
		return -EPROTO;
	}
	shape = vh_proto_request_shape(m->hdr.request);
	if (m->hdr.request < VHOST_USER_MAX)
		row = &vh_backend_table[m->hdr.request];
	if (!shape || !row || !row->handle) {
		vh_backend_log_bad(b, m, "unknown request %u", m->hdr.request);
		return -EPROTO;
	}
	err = check_features(b, m, row, shape);
	if (!err)
		err = check_shape(b, m, shape);
	if (!err)
		err = check_ring(b, m, shape);
	if (!err)
		err = check_values(b, m, row);
	if (!err)
		err = check_fds(b, m, row);
	if (!err)
		err = check_negotiation(b, m, row);
	if (err)
		return err;
	*rowp = row;
	*shapep = shape;
	return 0;
}
