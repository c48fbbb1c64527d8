/* SPDX-License-Identifier: MIT */
/*
 * libvhost — vhost-user front-end: the VMM side of one vhost-user connection.
 *
 * One function per front-end request of the specification (QEMU
 * docs/interop/vhost-user.rst, "Front-end message types", 1..44). Each call
 * sends one request and, where one is owed, waits for the reply and checks
 * it strictly: REPLY flag set, version 1, no reserved flag, the same request
 * code, the exact payload size and the expected number of fds. A reply that
 * fails any check, a peer that hangs up, a reply that does not come within
 * the reply timeout, or a send that could not complete leaves the stream in
 * an unknown state: the front-end is then *broken* (vhost-user.rst,
 * "Communication": "If front-end is unable to send the full message or
 * receives a wrong reply it will close the connection"): its socket is shut
 * down at once, so the back-end sees the hang-up. The failing call
 * returns its own error (-EPROTO for a wrong reply, -ECONNRESET for a
 * hang-up, -ETIMEDOUT, or the socket error); every later call returns
 * -EPROTO without touching the socket. The caller frees the front-end.
 *
 * Gating is checked locally before anything is sent: a request whose
 * protocol feature was not negotiated with SET_PROTOCOL_FEATURES (e.g.
 * GET_QUEUE_NUM without MQ) returns -EOPNOTSUPP and the connection stays
 * usable. Values that cannot be encoded (a ring index above 255 for
 * SET_VRING_KICK, a config access over 256 bytes, …) return -EINVAL or
 * -ERANGE, also without sending.
 *
 * REPLY_ACK (vhost-user.rst "REPLY_ACK"): when the protocol feature is
 * negotiated, a request that has no reply body of its own may carry
 * NEED_REPLY; the back-end then answers with a u64, zero for success. A
 * non-zero answer makes the call return -EIO (the connection stays up).
 * NEED_REPLY is set per call (vh_frontend_ack_next()) or on every such
 * request (vh_frontend_set_ack_always()); never when REPLY_ACK is not
 * negotiated. Requests for which the spec says the back-end "must respond"
 * when REPLY_ACK is negotiated (NET_SET_MTU, SET_BACKEND_REQ_FD) always ask.
 *
 * File descriptors passed in are borrowed: the caller keeps and closes them.
 * File descriptors returned through an `int *` are owned by the caller.
 *
 * Threads: requests may be issued from several threads; they are serialised
 * (one message in flight per connection, as the protocol requires). The
 * back-end channel (vh_frontend_backend_channel_fd() and
 * vh_frontend_handle_backend_readable()) belongs to one thread, which may be
 * a different one, and its callbacks may issue front-end requests.
 */
#ifndef VHOST_FRONTEND_H
#define VHOST_FRONTEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vhost/conn.h"
#include "vhost/proto.h"

#ifdef __cplusplus
extern "C" {
#endif

struct vh_frontend;

struct vh_frontend_opts {
	/* Socket limits and the time allowed for a message once started;
	 * zeroes mean the vh_conn defaults. */
	struct vh_conn_opts conn;
	/* Time a reply may take to start arriving; 0 means 5000 ms, -1 means
	 * wait forever. */
	int reply_timeout_ms;
	/* Name used in log lines ("blk0"); may be NULL. Copied. */
	const char *name;
};

/* ------------------------------------------------------------------------ */
/* Life cycle                                                               */
/* ------------------------------------------------------------------------ */

/**
 * Connect to the back-end listening on @path (the front-end is the socket
 * client), retrying up to @timeout_ms while the path is missing or refuses
 * (0: one attempt). @opts may be NULL.
 * Errors: -ENOENT (no such socket), -ECONNREFUSED, -ETIMEDOUT, -ENOMEM, or
 * another negative errno from the socket layer.
 */
int vh_frontend_connect(struct vh_frontend **out, const char *path,
			int timeout_ms, const struct vh_frontend_opts *opts);

/**
 * Wrap connected AF_UNIX stream socket @fd (e.g. accepted by the caller when
 * the front-end is the socket server). Takes ownership of @fd, also on
 * failure. Errors: -ENOMEM, -ENOTSOCK, -EINVAL.
 */
int vh_frontend_new(struct vh_frontend **out, int fd,
		    const struct vh_frontend_opts *opts);

/** Close the connection and the back-end channel, free @f. NULL accepted. */
void vh_frontend_free(struct vh_frontend *f);

/** The connection's socket (owned by @f). */
int vh_frontend_fd(const struct vh_frontend *f);

/** True once a send failed or a wrong reply came: every call gives -EPROTO. */
bool vh_frontend_is_broken(const struct vh_frontend *f);

/* ------------------------------------------------------------------------ */
/* Negotiated state, as this front-end saw it.                              */
/* ------------------------------------------------------------------------ */

/** Features the back-end offered (GET_FEATURES); 0 before that. */
uint64_t vh_frontend_offered_features(const struct vh_frontend *f);
/** Features last sent with SET_FEATURES; 0 before that. */
uint64_t vh_frontend_acked_features(const struct vh_frontend *f);
/** Protocol features offered (GET_PROTOCOL_FEATURES); 0 before that. */
uint64_t vh_frontend_offered_protocol_features(const struct vh_frontend *f);
/** Protocol features in force (SET_PROTOCOL_FEATURES); 0 before that. */
uint64_t vh_frontend_protocol_features(const struct vh_frontend *f);

/**
 * Ask for a REPLY_ACK on every request that has no reply body of its own,
 * from now on (@on) or no longer. Only effective while REPLY_ACK is
 * negotiated.
 */
void vh_frontend_set_ack_always(struct vh_frontend *f, bool on);

/**
 * Ask for a REPLY_ACK on the next request call made on @f (whatever it is:
 * a request with a reply body of its own ignores it, and a call that fails
 * before sending consumes it too). With several threads issuing requests,
 * prefer vh_frontend_set_ack_always(). Returns 0, or -EOPNOTSUPP when
 * REPLY_ACK is not negotiated.
 */
int vh_frontend_ack_next(struct vh_frontend *f);

/**
 * The usual opening: GET_FEATURES; then, when the back-end offers
 * VHOST_USER_F_PROTOCOL_FEATURES, GET_PROTOCOL_FEATURES and
 * SET_PROTOCOL_FEATURES with (offered & @want_protocol_features), less
 * XEN_MMAP (not supported) and less INBAND_NOTIFICATIONS when BACKEND_REQ or
 * REPLY_ACK would be missing. Reports
 * the offered features in *@features and the protocol features now in force
 * in *@protocol_features (either pointer may be NULL). Errors as the
 * individual calls.
 */
int vh_frontend_negotiate(struct vh_frontend *f,
			  uint64_t want_protocol_features, uint64_t *features,
			  uint64_t *protocol_features);

/* ------------------------------------------------------------------------ */
/* Requests. Each returns 0 or a negative errno:                            */
/*   -EOPNOTSUPP  its feature was not negotiated (nothing sent)             */
/*   -EINVAL / -ERANGE  an argument cannot be encoded (nothing sent)        */
/*   -EIO         the back-end answered with a failure (still usable)       */
/*   -EPROTO      wrong reply, or the front-end was already broken          */
/*   -ECONNRESET / -EPIPE  the back-end hung up; -ETIMEDOUT  no reply       */
/*   -EBADF       an fd passed in was refused by sendmsg (nothing sent)     */
/* ------------------------------------------------------------------------ */

/** GET_FEATURES (1): the back-end's virtio features into *@features. */
int vh_frontend_get_features(struct vh_frontend *f, uint64_t *features);
/**
 * SET_FEATURES (2). @features must be a subset of what GET_FEATURES offered
 * (-EINVAL otherwise, or when GET_FEATURES was not called).
 */
int vh_frontend_set_features(struct vh_frontend *f, uint64_t features);
/** SET_OWNER (3). */
int vh_frontend_set_owner(struct vh_frontend *f);
/** RESET_OWNER (4); deprecated by the spec, sent as is. */
int vh_frontend_reset_owner(struct vh_frontend *f);

/**
 * SET_MEM_TABLE (5): @n (1..8) regions, @fds[i] mapping @regions[i]
 * (borrowed). The table is validated before sending (-EINVAL).
 * Not supported after POSTCOPY_LISTEN (-EOPNOTSUPP): the post-copy variant
 * of this exchange (the back-end replies with its mapping bases) is not
 * implemented.
 */
int vh_frontend_set_mem_table(struct vh_frontend *f,
			      const struct vhost_user_mem_region *regions,
			      unsigned n, const int *fds);
/** ADD_MEM_REG (37, CONFIGURE_MEM_SLOTS): one region, its fd borrowed. */
int vh_frontend_add_mem_reg(struct vh_frontend *f,
			    const struct vhost_user_mem_region *r, int fd);
/** REM_MEM_REG (38, CONFIGURE_MEM_SLOTS): no fd is sent. */
int vh_frontend_rem_mem_reg(struct vh_frontend *f,
			    const struct vhost_user_mem_region *r);

/**
 * SET_LOG_BASE (6, LOG_SHMFD): the dirty log lives in shared memory @fd
 * (borrowed) at @log->mmap_offset, @log->mmap_size bytes. The back-end's
 * u64 reply is awaited (vhost-user.rst "Communication"); the spec gives its
 * value no meaning, so it is not interpreted.
 */
int vh_frontend_set_log_base(struct vh_frontend *f,
			     const struct vhost_user_log *log, int fd);
/** SET_LOG_FD (7): eventfd @fd (borrowed) signalled when the log changed. */
int vh_frontend_set_log_fd(struct vh_frontend *f, int fd);

/** SET_VRING_NUM (8). */
int vh_frontend_set_vring_num(struct vh_frontend *f, uint32_t index,
			      uint32_t num);
/**
 * SET_VRING_ADDR (9). Addresses are front-end user addresses (IOVAs with
 * VIRTIO_F_ACCESS_PLATFORM). Only VHOST_VRING_F_LOG is a valid flag.
 */
int vh_frontend_set_vring_addr(struct vh_frontend *f,
			       const struct vhost_user_vring_addr *addr);
/** SET_VRING_BASE (10): split: next avail index; packed: encoded indices. */
int vh_frontend_set_vring_base(struct vh_frontend *f, uint32_t index,
			       uint32_t base);
/**
 * GET_VRING_BASE (11): stops the ring, its base into *@base. The reply must
 * name the same ring.
 */
int vh_frontend_get_vring_base(struct vh_frontend *f, uint32_t index,
			       uint32_t *base);
/**
 * SET_VRING_KICK / CALL / ERR (12, 13, 14). @index 0..255 (the u64 carries
 * 8 bits). @fd (borrowed) < 0 sends the NOFD flag (poll instead).
 */
int vh_frontend_set_vring_kick(struct vh_frontend *f, uint32_t index, int fd);
int vh_frontend_set_vring_call(struct vh_frontend *f, uint32_t index, int fd);
int vh_frontend_set_vring_err(struct vh_frontend *f, uint32_t index, int fd);

/**
 * GET_PROTOCOL_FEATURES (15): only when GET_FEATURES offered
 * VHOST_USER_F_PROTOCOL_FEATURES (-EOPNOTSUPP otherwise).
 */
int vh_frontend_get_protocol_features(struct vh_frontend *f, uint64_t *pf);
/**
 * SET_PROTOCOL_FEATURES (16): @pf must be a subset of what
 * GET_PROTOCOL_FEATURES offered, and INBAND_NOTIFICATIONS comes only with
 * BACKEND_REQ and REPLY_ACK (-EINVAL). XEN_MMAP, whose regions are 8
 * bytes longer, is not supported (-EOPNOTSUPP). On success @pf is in force.
 */
int vh_frontend_set_protocol_features(struct vh_frontend *f, uint64_t pf);
/** GET_QUEUE_NUM (17, MQ). The meaning of the number is the device's. */
int vh_frontend_get_queue_num(struct vh_frontend *f, uint64_t *num);
/**
 * SET_VRING_ENABLE (18): only while VHOST_USER_F_PROTOCOL_FEATURES is in use
 * (offered, and not left out of SET_FEATURES); -EOPNOTSUPP otherwise — the
 * back-end enables every ring itself then (vhost-user.rst "Ring states").
 */
int vh_frontend_set_vring_enable(struct vh_frontend *f, uint32_t index,
				 bool enable);
/** SEND_RARP (19, RARP): @mac of the guest. */
int vh_frontend_send_rarp(struct vh_frontend *f, const uint8_t mac[6]);
/**
 * NET_SET_MTU (20, NET_MTU). The caller is responsible for having
 * negotiated VIRTIO_NET_F_MTU (a device feature this layer does not know).
 */
int vh_frontend_net_set_mtu(struct vh_frontend *f, uint16_t mtu);
/** IOTLB_MSG (22): only with VIRTIO_F_ACCESS_PLATFORM acknowledged. */
int vh_frontend_iotlb_msg(struct vh_frontend *f,
			  const struct vhost_user_iotlb *msg);
/** SET_VRING_ENDIAN (23, CROSS_ENDIAN). */
int vh_frontend_set_vring_endian(struct vh_frontend *f, uint32_t index,
				 bool big_endian);

/**
 * GET_CONFIG (24, CONFIG): @size bytes (1..256) of config space from
 * @offset into @buf. The reply must be exactly as large as the request and
 * echo offset and size; an empty reply is the back-end's way of saying it
 * failed (vhost-user.rst: "uses zero length of payload to indicate an
 * error"): -EIO, the connection stays up.
 */
int vh_frontend_get_config(struct vh_frontend *f, uint32_t offset,
			   uint32_t size, uint32_t flags, uint8_t *buf);
/** SET_CONFIG (25, CONFIG): @size bytes (1..256) at @offset. */
int vh_frontend_set_config(struct vh_frontend *f, uint32_t offset,
			   uint32_t size, uint32_t flags, const uint8_t *buf);

/**
 * CREATE_CRYPTO_SESSION (26, CRYPTO_SESSION): @len bytes of session
 * description (opaque to this layer: the device defines it) go out; the
 * reply must be as long and lands in @out (@len bytes).
 */
int vh_frontend_create_crypto_session(struct vh_frontend *f, const void *in,
				      size_t len, void *out);
/** CLOSE_CRYPTO_SESSION (27, CRYPTO_SESSION). */
int vh_frontend_close_crypto_session(struct vh_frontend *f,
				     uint64_t session_id);

/**
 * POSTCOPY_ADVISE (28, PAGEFAULT): the back-end's userfaultfd lands in
 * *@ufd (owned by the caller). The reply must carry exactly one fd.
 */
int vh_frontend_postcopy_advise(struct vh_frontend *f, int *ufd);
/** POSTCOPY_LISTEN (29, PAGEFAULT). */
int vh_frontend_postcopy_listen(struct vh_frontend *f);
/** POSTCOPY_END (30, PAGEFAULT): the u64 reply is a status (-EIO if != 0). */
int vh_frontend_postcopy_end(struct vh_frontend *f);

/**
 * GET_INFLIGHT_FD (31, INFLIGHT_SHMFD): @req gives num_queues and queue_size;
 * the back-end's description lands in *@rep and its shared memory in *@fd
 * (owned by the caller; -1 when the back-end returns mmap_size 0).
 */
int vh_frontend_get_inflight_fd(struct vh_frontend *f,
				const struct vhost_user_inflight *req,
				struct vhost_user_inflight *rep, int *fd);
/** SET_INFLIGHT_FD (32, INFLIGHT_SHMFD): @fd borrowed. */
int vh_frontend_set_inflight_fd(struct vh_frontend *f,
				const struct vhost_user_inflight *in, int fd);
/** GPU_SET_SOCKET (33): @fd (borrowed) is the vhost-user-gpu socket. */
int vh_frontend_gpu_set_socket(struct vh_frontend *f, int fd);
/** RESET_DEVICE (34, RESET_DEVICE). */
int vh_frontend_reset_device(struct vh_frontend *f);
/** VRING_KICK (35, INBAND_NOTIFICATIONS): in-band kick of ring @index. */
int vh_frontend_vring_kick(struct vh_frontend *f, uint32_t index);
/** GET_MAX_MEM_SLOTS (36, CONFIGURE_MEM_SLOTS). */
int vh_frontend_get_max_mem_slots(struct vh_frontend *f, uint64_t *slots);
/** SET_STATUS (39, STATUS): the virtio device status byte. */
int vh_frontend_set_status(struct vh_frontend *f, uint8_t status);
/** GET_STATUS (40, STATUS): a reply above 0xff is a protocol error. */
int vh_frontend_get_status(struct vh_frontend *f, uint8_t *status);
/**
 * GET_SHARED_OBJECT (41, SHARED_OBJECT): the dmabuf fd exported under
 * @uuid lands in *@fd (owned by the caller). -ENOENT when the back-end
 * answered without an fd (not found).
 */
int vh_frontend_get_shared_object(struct vh_frontend *f,
				  const struct vhost_user_shared *uuid,
				  int *fd);
/**
 * SET_DEVICE_STATE_FD (42, DEVICE_STATE): offer @fd (borrowed) as the
 * back-end's end of the state transfer channel. When the back-end returns a
 * channel of its own, *@reply_fd receives it (owned by the caller) and the
 * caller must use it instead of its own; otherwise *@reply_fd is -1.
 * -EIO when the back-end reports an error; a reply with both an error and
 * an fd, or whose NOFD flag does not match the fds, is a protocol error.
 */
int vh_frontend_set_device_state_fd(struct vh_frontend *f, uint32_t direction,
				    uint32_t phase, int fd, int *reply_fd);
/** CHECK_DEVICE_STATE (43, DEVICE_STATE): -EIO when the back-end failed. */
int vh_frontend_check_device_state(struct vh_frontend *f);
/**
 * GET_SHMEM_CONFIG (44, SHMEM): the VIRTIO Shared Memory Regions' sizes.
 * nregions above 256 is a protocol error.
 */
int vh_frontend_get_shmem_config(struct vh_frontend *f,
				 struct vhost_user_shmem_config *out);

/* ------------------------------------------------------------------------ */
/* The back-end channel (BACKEND_REQ): requests the back-end sends to us.   */
/* ------------------------------------------------------------------------ */

/**
 * Callbacks for back-end requests. Each returns 0 or a negative errno; a
 * negative return becomes a non-zero ack when the back-end asked for one
 * (NEED_REPLY with REPLY_ACK negotiated) and is logged otherwise; the
 * channel stays up. A NULL callback means "not supported" (same handling).
 * Fds arrive as `int *fd`: to keep one, store it and set *fd = -1; whatever
 * is left is closed after the callback returns. *fd == -1 on entry means
 * the request carried none.
 */
struct vh_frontend_backend_ops {
	/* BACKEND_IOTLB_MSG (1): a miss or an access failure. */
	int (*iotlb_msg)(void *opaque, const struct vhost_user_iotlb *msg);
	/* BACKEND_CONFIG_CHANGE_MSG (2): config space changed (CONFIG). */
	int (*config_change)(void *opaque);
	/* BACKEND_VRING_HOST_NOTIFIER_MSG (3, HOST_NOTIFIER): map @size bytes
	 * at @offset of *@fd as ring @index's notify area; *@fd == -1 (the
	 * NOFD flag) removes the notifier. */
	int (*host_notifier)(void *opaque, uint32_t index, uint64_t size,
			     uint64_t offset, int *fd);
	/* BACKEND_VRING_CALL / _ERR (4, 5, INBAND_NOTIFICATIONS). */
	int (*vring_call)(void *opaque, uint32_t index);
	int (*vring_err)(void *opaque, uint32_t index);
	/* BACKEND_SHARED_OBJECT_ADD / _REMOVE / _LOOKUP (6, 7, 8,
	 * SHARED_OBJECT). lookup hands a dmabuf fd in *fd_out (sent, then
	 * closed by the library); returning 0 with *fd_out == -1 means "not
	 * found" and answers a failure. */
	int (*shared_object_add)(void *opaque,
				 const struct vhost_user_shared *uuid);
	int (*shared_object_remove)(void *opaque,
				    const struct vhost_user_shared *uuid);
	int (*shared_object_lookup)(void *opaque,
				    const struct vhost_user_shared *uuid,
				    int *fd_out);
	/* BACKEND_SHMEM_MAP / _UNMAP (9, 10, SHMEM): *fd is the file to map
	 * (validated with vh_proto_validate_mmap). */
	int (*shmem_map)(void *opaque, const struct vhost_user_mmap *req,
			 int *fd);
	int (*shmem_unmap)(void *opaque, const struct vhost_user_mmap *req);
};

/**
 * Create the back-end channel: a socketpair whose one end goes to the
 * back-end with SET_BACKEND_REQ_FD (21, BACKEND_REQ) and whose other end
 * this front-end keeps. @ops and @opaque must outlive the channel.
 * Errors: -EOPNOTSUPP (BACKEND_REQ not negotiated), -EALREADY (a channel
 * exists), request errors.
 */
int vh_frontend_enable_backend_channel(
    struct vh_frontend *f, const struct vh_frontend_backend_ops *ops,
    void *opaque);

/** The channel's socket for poll/epoll (owned by @f), or -1 when none. */
int vh_frontend_backend_channel_fd(const struct vh_frontend *f);

/**
 * Handle the back-end request waiting on the channel (call when its fd is
 * readable). Validates the message against the back-end request table
 * (payload size, fd count — fds only with BACKEND_SEND_FD —, the protocol
 * feature it needs, the payload's own rules), runs the callback, sends the
 * ack or the lookup reply when one is owed, closes every fd not taken.
 * Returns 0 when a message was handled (or none was waiting); -ENOTCONN when
 * there is no channel; -ECONNRESET when the back-end closed it; another
 * negative errno after a malformed message (logged with its name). In every
 * negative case the channel has been closed (drop its fd from your loop);
 * the main connection is unaffected.
 */
int vh_frontend_handle_backend_readable(struct vh_frontend *f);

/** Close the back-end channel, if any. */
void vh_frontend_close_backend_channel(struct vh_frontend *f);

#ifdef __cplusplus
}
#endif

#endif /* VHOST_FRONTEND_H */
