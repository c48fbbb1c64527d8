/* SPDX-License-Identifier: MIT */
/*
 * libvhost — back-end dispatcher: one vhost-user connection seen from the
 * device side.
 *
 * vh_backend_handle_readable() reads one message, checks it against the
 * declarative per-request table (payload size, fd count, the protocol
 * feature it needs, the ring index bound, the reply owed), then calls the
 * matching vh_backend_ops callback. The dispatcher — never a callback —
 * writes replies and REPLY_ACK acks (an ack only when NEED_REPLY is set and
 * REPLY_ACK was negotiated) and closes every received fd a callback did not
 * take. A malformed message is logged with its name and the connection must
 * be closed: the call returns a negative errno and the caller frees the
 * back-end. Nothing here owns a thread or an event loop.
 *
 * File descriptor hand-over: callbacks receive fds as `int *fd`. To keep one,
 * the callback stores it and sets *fd = -1; whatever is left is closed by the
 * dispatcher after the callback returns, on success and on error alike. An
 * fd slot holding -1 on entry means "no fd" (e.g. the NOFD flag of
 * SET_VRING_KICK: poll the ring instead).
 *
 * Callbacks return 0 or a negative errno. For a request that owes an ack, a
 * negative return becomes a non-zero ack (the positive errno) and the
 * connection stays up; for a request that owes nothing, a negative return
 * closes the connection (the front-end could not learn of the failure
 * otherwise). A NULL callback means "not supported": nack when an ack is
 * owed, a logged warning otherwise (the connection stays), and for requests
 * whose reply carries a body, the spec's error form where one exists
 * (GET_CONFIG: empty payload; u64 status replies — SET_LOG_BASE,
 * POSTCOPY_END, CHECK_DEVICE_STATE, SET_DEVICE_STATE_FD: non-zero;
 * GET_INFLIGHT_FD: mmap_size 0 and no fd; GET_SHARED_OBJECT and
 * POSTCOPY_ADVISE: no fd; CREATE_CRYPTO_SESSION: session id -1) or a closed
 * connection where none does (GET_VRING_BASE, GET_STATUS, GET_SHMEM_CONFIG).
 * The stream never desyncs. Exceptions: set_features,
 * set_protocol_features, set_owner and reset_owner may be NULL and then
 * succeed (the dispatcher keeps the negotiated state itself; RESET_OWNER is
 * deprecated and "back-ends [may] ignore this message").
 *
 * REPLY_ACK is looked up after the request ran: a SET_PROTOCOL_FEATURES that
 * turns REPLY_ACK on and sets NEED_REPLY gets its ack. Requests whose reply
 * has a body never get a second, ack message.
 *
 * Rules enforced before any callback (each failure logged as
 * "<name>: VHOST_USER_<REQ>: <reason> [flags, size, fds: first bytes]"; the
 * return value of vh_backend_handle_readable in brackets):
 *  - header: version 1, no reserved flag bit, no REPLY flag [-EPROTO];
 *  - the request code is one of the spec's (1..44) [-EPROTO];
 *  - the protocol features the request needs were negotiated with
 *    SET_PROTOCOL_FEATURES (GET_CONFIG needs CONFIG, ADD_MEM_REG needs
 *    CONFIGURE_MEM_SLOTS, ...); GET/SET_PROTOCOL_FEATURES and
 *    SET_VRING_ENABLE need VHOST_USER_F_PROTOCOL_FEATURES offered;
 *    IOTLB_MSG needs VIRTIO_F_ACCESS_PLATFORM acked [-EPROTO];
 *  - payload size (proto shape table) [-EMSGSIZE];
 *  - fd count: the shape's, SET_MEM_TABLE one per region, SET_VRING_KICK/
 *    CALL/ERR one fd iff the NOFD bit is clear [-EBADMSG];
 *  - ring index < num_queues [-ERANGE]; reserved bits 9..63 of the
 *    KICK/CALL/ERR u64 [-EINVAL];
 *  - values: SET_VRING_ENABLE / SET_VRING_ENDIAN num 0 or 1, GET_VRING_BASE
 *    and VRING_KICK num 0, SET_STATUS fits a byte, and the proto validators
 *    for the memory table, a region, ring addresses (packed iff RING_PACKED
 *    acked), config access (bounded by config_size), IOTLB, log and
 *    inflight descriptions [-EINVAL];
 *  - SET_FEATURES / SET_PROTOCOL_FEATURES with a bit that was not offered,
 *    INBAND_NOTIFICATIONS without BACKEND_REQ and REPLY_ACK
 *    (vhost-user.rst: In-band notifications) [-EPROTO].
 * The connection's own errors come through unchanged (-ECONNRESET hang-up,
 * -EPROTO truncated message, -ETIMEDOUT stalled peer, -EMSGSIZE, -EBADMSG).
 *
 * Threads: vh_backend_handle_readable and the ops callbacks run in the
 * caller's thread, one message at a time. The vh_backend_send_* functions
 * may be called from any thread, including from a callback; they must all
 * have returned before vh_backend_free.
 */
#ifndef VHOST_BACKEND_H
#define VHOST_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vhost/conn.h"
#include "vhost/proto.h"

#ifdef __cplusplus
extern "C" {
#endif

struct vh_backend;

/**
 * Device callbacks. @opaque is vh_backend_config.opaque. Requests the
 * dispatcher answers itself from the configuration (GET_FEATURES,
 * GET_PROTOCOL_FEATURES, SET_PROTOCOL_FEATURES, GET_QUEUE_NUM,
 * GET_MAX_MEM_SLOTS, SET_BACKEND_REQ_FD) have optional notification hooks.
 */
struct vh_backend_ops {
	/* Features. The dispatcher checks @features is a subset of what was
	 * offered and records it before calling (NULL: accepted). With
	 * PROTOCOL_FEATURES acked rings start disabled; that state machine is
	 * the server layer's, not the dispatcher's. */
	int (*set_features)(void *opaque, uint64_t features);
	/* Called after SET_PROTOCOL_FEATURES was accepted and recorded
	 * (NULL: accepted). */
	int (*set_protocol_features)(void *opaque, uint64_t protocol_features);
	int (*set_owner)(void *opaque);
	int (*reset_owner)(void *opaque);

	/* Memory. @regions was validated (vh_proto_validate_mem_table);
	 * fds[i] belongs to regions[i]. REM_MEM_REG: an fd the front-end sent
	 * anyway is closed by the dispatcher ("MUST close it"). The post-copy
	 * answer to SET_MEM_TABLE / ADD_MEM_REG (mapped bases) is not
	 * implemented: they are handled as outside post-copy. */
	int (*set_mem_table)(void *opaque,
			     const struct vhost_user_mem_region *regions,
			     unsigned nregions, int *fds);
	int (*add_mem_reg)(void *opaque, const struct vhost_user_mem_region *r,
			   int *fd);
	int (*rem_mem_reg)(void *opaque, const struct vhost_user_mem_region *r);

	/* Dirty logging. set_log_base needs LOG_SHMFD (the only way a
	 * process gets the log's fd); its reply is a u64 status. */
	int (*set_log_base)(void *opaque, const struct vhost_user_log *log,
			    int *fd);
	int (*set_log_fd)(void *opaque, int *fd);

	/* Rings. @index is always < vh_backend_config.num_queues. For
	 * set_vring_kick/call/err, *fd == -1 means the NOFD flag (poll). */
	int (*set_vring_num)(void *opaque, uint32_t index, uint32_t num);
	int (*set_vring_addr)(void *opaque,
			      const struct vhost_user_vring_addr *addr);
	int (*set_vring_base)(void *opaque, uint32_t index, uint32_t base);
	/* Stops the ring; *base is the reply (split: next avail index; packed:
	 * vh_proto_encode_packed_base()). */
	int (*get_vring_base)(void *opaque, uint32_t index, uint32_t *base);
	int (*set_vring_kick)(void *opaque, uint32_t index, int *fd);
	int (*set_vring_call)(void *opaque, uint32_t index, int *fd);
	int (*set_vring_err)(void *opaque, uint32_t index, int *fd);
	int (*set_vring_enable)(void *opaque, uint32_t index, bool enable);
	int (*set_vring_endian)(void *opaque, uint32_t index, bool big_endian);
	/* In-band kick (INBAND_NOTIFICATIONS). */
	int (*vring_kick)(void *opaque, uint32_t index);

	/* Config space: offset/size were checked against config_size (and
	 * size <= 256). get_config fills @buf (pre-zeroed, @size bytes).
	 * set_config must refuse a read-only field unless @flags is
	 * VHOST_USER_CONFIG_FLAG_MIGRATION (vhost-user.rst: SET_CONFIG). */
	int (*get_config)(void *opaque, uint32_t offset, uint32_t size,
			  uint32_t flags, uint8_t *buf);
	int (*set_config)(void *opaque, uint32_t offset, uint32_t size,
			  uint32_t flags, const uint8_t *buf);

	/* Device lifecycle. set_status gets the low byte of the u64 (higher
	 * bits are refused before the call). */
	int (*reset_device)(void *opaque);
	int (*set_status)(void *opaque, uint8_t status);
	int (*get_status)(void *opaque, uint8_t *status);

	/* Net. net_set_mtu: an MTU over 65535 is refused (nack) first. */
	int (*send_rarp)(void *opaque, const uint8_t mac[6]);
	int (*net_set_mtu)(void *opaque, uint16_t mtu);

	/* IOMMU (VIRTIO_F_ACCESS_PLATFORM acked; validated with
	 * vh_proto_validate_iotlb). Acked like any request (REPLY_ACK). */
	int (*iotlb_msg)(void *opaque, const struct vhost_user_iotlb *msg);

	/* Crypto: the session description is opaque to the library. @out
	 * holds a copy of the request (@out_max == @in_len bytes); the
	 * callback fills in the session id and leaves *out_len at @in_len
	 * (the reply must be the request's size). On failure the reply
	 * carries session id -1. */
	int (*create_crypto_session)(void *opaque, const void *in,
				     size_t in_len, void *out, size_t out_max,
				     size_t *out_len);
	int (*close_crypto_session)(void *opaque, uint64_t session_id);

	/* Post-copy migration. postcopy_advise hands back the userfaultfd in
	 * *ufd_out (sent, then closed by the dispatcher). */
	int (*postcopy_advise)(void *opaque, int *ufd_out);
	int (*postcopy_listen)(void *opaque);
	int (*postcopy_end)(void *opaque);

	/* In-flight tracking: @req is the front-end's ask; fill *rep and hand
	 * back the shared memory fd in *fd_out (ownership passes to the
	 * dispatcher, which sends then closes it). */
	int (*get_inflight_fd)(void *opaque,
			       const struct vhost_user_inflight *req,
			       struct vhost_user_inflight *rep, int *fd_out);
	int (*set_inflight_fd)(void *opaque,
			       const struct vhost_user_inflight *in, int *fd);

	int (*gpu_set_socket)(void *opaque, int *fd);

	/* Shared objects: *fd_out receives a dmabuf fd that the dispatcher
	 * sends then closes; -1 means "not found". @uuid is all zeroes when
	 * the front-end sent none (QEMU does so). */
	int (*get_shared_object)(void *opaque,
				 const struct vhost_user_shared *uuid,
				 int *fd_out);

	/* Device state transfer. @fd is the front-end's end of the channel;
	 * to offer a channel of its own the back-end sets *reply_fd (sent then
	 * closed by the dispatcher). */
	int (*set_device_state_fd)(void *opaque, uint32_t direction,
				   uint32_t phase, int *fd, int *reply_fd);
	int (*check_device_state)(void *opaque);

	/* VIRTIO Shared Memory Regions (SHMEM). */
	int (*get_shmem_config)(void *opaque,
				struct vhost_user_shmem_config *out);

	/* Notification hooks for requests the dispatcher answers itself:
	 * the back-end channel (SET_BACKEND_REQ_FD) is in place. */
	void (*backend_channel_ready)(void *opaque);
};

struct vh_backend_config {
	/* Virtio features offered. VHOST_USER_F_PROTOCOL_FEATURES is added by
	 * the dispatcher when protocol_features is non-zero. */
	uint64_t features;
	/* Protocol features offered; bits the library cannot honour for lack
	 * of a callback are removed (e.g. CONFIG without get_config, STATUS
	 * without set_status and get_status), and XEN_MMAP always (its
	 * 40-byte regions are not the wire structs here). Bits the spec does
	 * not define make vh_backend_new fail with -EINVAL. */
	uint64_t protocol_features;
	/* Number of vrings (GET_QUEUE_NUM answers this), 1..0x8000. */
	uint32_t num_queues;
	/* GET_MAX_MEM_SLOTS answer, 1..509; 0 means 509. */
	uint32_t max_mem_slots;
	/* Size of the device config space, for GET/SET_CONFIG bounds. */
	uint32_t config_size;
	/* Connection limits (payload size, message timeout); may be zero. */
	struct vh_conn_opts conn;
	/* Name used in log lines ("blk0"); may be NULL. */
	const char *name;
	const struct vh_backend_ops *ops;
	void *opaque;
};

/**
 * Create a dispatcher on connected socket @fd (ownership taken, also on
 * failure). @cfg is copied (cfg->name too); cfg->ops and cfg->opaque must
 * outlive the back-end. Errors: -EINVAL (NULL @out/@cfg/ops, num_queues
 * outside 1..0x8000, max_mem_slots over 509, unknown protocol feature bits),
 * -ENOMEM, vh_conn_new's errors (-ENOTSOCK, ...).
 */
int vh_backend_new(struct vh_backend **out, int fd,
		   const struct vh_backend_config *cfg);

/**
 * Close the connection and the back-end channel, free @b. NULL accepted.
 * No vh_backend_send_* call may be running.
 */
void vh_backend_free(struct vh_backend *b);

/** The connection's fd, for poll/epoll (owned by @b). */
int vh_backend_fd(const struct vh_backend *b);

/**
 * Handle the message waiting on the connection (call when the fd is
 * readable; a blocking caller may call it in a loop). Returns 0 when a
 * message was handled (or none had started: spurious wake-up), -ECONNRESET
 * when the front-end hung up, or another negative errno after a protocol
 * error that has been logged: in every negative case the caller frees @b.
 */
int vh_backend_handle_readable(struct vh_backend *b);
/**
 * vh_backend_handle_readable() for a thread that serves one connection and
 * has nothing else to wait for: waits up to @wait_ms (-1: forever, blocking
 * in recvmsg with no poll() first) for the next message to start, then
 * handles it. Returns what vh_backend_handle_readable() returns, and -EAGAIN
 * when nothing arrived within @wait_ms.
 */
int vh_backend_handle_wait(struct vh_backend *b, int wait_ms);

/** Virtio features the front-end acknowledged with SET_FEATURES. */
uint64_t vh_backend_features(const struct vh_backend *b);
/** Protocol features in force after SET_PROTOCOL_FEATURES. */
uint64_t vh_backend_protocol_features(const struct vh_backend *b);

/* ------------------------------------------------------------------------ */
/* Back-end → front-end requests (the back-end channel, BACKEND_REQ).       */
/* Each is safe to call from any thread: one request and its reply hold the */
/* channel at a time. @need_reply asks the front-end for an ack and waits   */
/* for it, up to conn.msg_timeout_ms (only honoured when REPLY_ACK was      */
/* negotiated; otherwise the request goes out without NEED_REPLY). The ack  */
/* must carry the REPLY flag, the same request code and a u64.              */
/* Return 0, -EINVAL (bad argument: ring index, payload validator),         */
/* -ENOTCONN (no channel), -EOPNOTSUPP (its protocol feature, or            */
/* BACKEND_SEND_FD for an fd, or ACCESS_PLATFORM for IOTLB, was not         */
/* negotiated), -EIO (the front-end nacked), -ETIMEDOUT (no ack in time),   */
/* -EPROTO (a malformed ack), or a socket error. After -ETIMEDOUT, -EPROTO  */
/* or a socket error the channel is dropped (later calls: -ENOTCONN), as   */
/* the stream can no longer be trusted. Fds passed in are borrowed.         */
/* Waiting for an ack from the thread that runs vh_backend_handle_readable  */
/* deadlocks if the front-end needs an answer first (IOTLB miss): send      */
/* such requests from another thread.                                       */
/* ------------------------------------------------------------------------ */

int vh_backend_send_iotlb_msg(struct vh_backend *b,
			      const struct vhost_user_iotlb *msg,
			      bool need_reply);
int vh_backend_send_config_change(struct vh_backend *b, bool need_reply);
/* @fd < 0 removes the notifier (NOFD flag). */
int vh_backend_send_host_notifier(struct vh_backend *b, uint32_t index,
				  uint64_t size, uint64_t offset, int fd,
				  bool need_reply);
/* In-band call / error (INBAND_NOTIFICATIONS). They always ask for the ack
 * and wait for it, as the spec wants them to block until processed. */
int vh_backend_send_vring_call(struct vh_backend *b, uint32_t index);
int vh_backend_send_vring_err(struct vh_backend *b, uint32_t index);
int vh_backend_shared_object_add(struct vh_backend *b,
				 const struct vhost_user_shared *uuid,
				 bool need_reply);
int vh_backend_shared_object_remove(struct vh_backend *b,
				    const struct vhost_user_shared *uuid,
				    bool need_reply);
/* The front-end always answers (no NEED_REPLY): on success *fd_out is a new
 * fd owned by the caller; otherwise *fd_out is -1 (-EIO: not found). */
int vh_backend_shared_object_lookup(struct vh_backend *b,
				    const struct vhost_user_shared *uuid,
				    int *fd_out);
/* @fd (borrowed, required) is mapped per @req (vh_proto_validate_mmap). */
int vh_backend_shmem_map(struct vh_backend *b,
			 const struct vhost_user_mmap *req, int fd,
			 bool need_reply);
int vh_backend_shmem_unmap(struct vh_backend *b,
			   const struct vhost_user_mmap *req, bool need_reply);

#ifdef __cplusplus
}
#endif

#endif /* VHOST_BACKEND_H */
