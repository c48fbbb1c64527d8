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
 * negative return becomes a non-zero ack and the connection stays up; for a
 * request that owes nothing, a negative return closes the connection (the
 * front-end could not learn of the failure otherwise). A NULL callback means
 * "not supported": nack when an ack is owed, a logged warning otherwise, and
 * for requests whose reply carries a body, the spec's error form where one
 * exists (GET_CONFIG: empty payload; u64 replies: non-zero) or a closed
 * connection where none does (GET_VRING_BASE). The stream never desyncs.
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
	 * offered before calling. */
	int (*set_features)(void *opaque, uint64_t features);
	/* Called after SET_PROTOCOL_FEATURES was accepted. */
	int (*set_protocol_features)(void *opaque, uint64_t protocol_features);
	int (*set_owner)(void *opaque);
	int (*reset_owner)(void *opaque);

	/* Memory. @regions was validated (vh_proto_validate_mem_table);
	 * fds[i] belongs to regions[i]. */
	int (*set_mem_table)(void *opaque,
			     const struct vhost_user_mem_region *regions,
			     unsigned nregions, int *fds);
	int (*add_mem_reg)(void *opaque, const struct vhost_user_mem_region *r,
			   int *fd);
	int (*rem_mem_reg)(void *opaque, const struct vhost_user_mem_region *r);

	/* Dirty logging. */
	int (*set_log_base)(void *opaque, const struct vhost_user_log *log,
			    int *fd);
	int (*set_log_fd)(void *opaque, int *fd);

	/* Rings. @index is always < vh_backend_config.num_queues. */
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

	/* Config space: offset/size were checked against config_size. */
	int (*get_config)(void *opaque, uint32_t offset, uint32_t size,
			  uint32_t flags, uint8_t *buf);
	int (*set_config)(void *opaque, uint32_t offset, uint32_t size,
			  uint32_t flags, const uint8_t *buf);

	/* Device lifecycle. */
	int (*reset_device)(void *opaque);
	int (*set_status)(void *opaque, uint8_t status);
	int (*get_status)(void *opaque, uint8_t *status);

	/* Net. */
	int (*send_rarp)(void *opaque, const uint8_t mac[6]);
	int (*net_set_mtu)(void *opaque, uint16_t mtu);

	/* IOMMU (VIRTIO_F_ACCESS_PLATFORM). */
	int (*iotlb_msg)(void *opaque, const struct vhost_user_iotlb *msg);

	/* Crypto: the session description is opaque to the library; the
	 * callback writes the reply body (at most @out_max bytes) and sets
	 * *out_len. */
	int (*create_crypto_session)(void *opaque, const void *in,
				     size_t in_len, void *out, size_t out_max,
				     size_t *out_len);
	int (*close_crypto_session)(void *opaque, uint64_t session_id);

	/* Post-copy migration. */
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
	 * sends then closes; -1 means "not found". */
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

	/* Notification hooks for requests the dispatcher answers itself. */
	void (*backend_channel_ready)(void *opaque);
};

struct vh_backend_config {
	/* Virtio features offered. VHOST_USER_F_PROTOCOL_FEATURES is added by
	 * the dispatcher when protocol_features is non-zero. */
	uint64_t features;
	/* Protocol features offered; bits the library cannot honour for lack
	 * of a callback are removed (e.g. CONFIG without get_config). */
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
 * failure). @cfg is copied; cfg->ops and cfg->opaque must outlive the
 * back-end. Errors: -EINVAL (bad config), -ENOMEM, conn errors.
 */
int vh_backend_new(struct vh_backend **out, int fd,
		   const struct vh_backend_config *cfg);

/** Close the connection and the back-end channel, free @b. NULL accepted. */
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

/** Virtio features the front-end acknowledged with SET_FEATURES. */
uint64_t vh_backend_features(const struct vh_backend *b);
/** Protocol features in force after SET_PROTOCOL_FEATURES. */
uint64_t vh_backend_protocol_features(const struct vh_backend *b);

/* ------------------------------------------------------------------------ */
/* Back-end → front-end requests (the back-end channel, BACKEND_REQ).       */
/* Each is safe to call from any thread. @need_reply asks the front-end for */
/* an ack and waits for it (only honoured when REPLY_ACK was negotiated).   */
/* Return 0, -ENOTCONN (no channel), -EOPNOTSUPP (its protocol feature was  */
/* not negotiated), -EIO (the front-end nacked), or a socket error. Fds     */
/* passed in are borrowed.                                                  */
/* ------------------------------------------------------------------------ */

int vh_backend_send_iotlb_msg(struct vh_backend *b,
			      const struct vhost_user_iotlb *msg,
			      bool need_reply);
int vh_backend_send_config_change(struct vh_backend *b, bool need_reply);
/* @fd < 0 removes the notifier (NOFD flag). */
int vh_backend_send_host_notifier(struct vh_backend *b, uint32_t index,
				  uint64_t size, uint64_t offset, int fd,
				  bool need_reply);
int vh_backend_send_vring_call(struct vh_backend *b, uint32_t index);
int vh_backend_send_vring_err(struct vh_backend *b, uint32_t index);
int vh_backend_shared_object_add(struct vh_backend *b,
				 const struct vhost_user_shared *uuid,
				 bool need_reply);
int vh_backend_shared_object_remove(struct vh_backend *b,
				    const struct vhost_user_shared *uuid,
				    bool need_reply);
/* On success *fd_out is a new fd owned by the caller. */
int vh_backend_shared_object_lookup(struct vh_backend *b,
				    const struct vhost_user_shared *uuid,
				    int *fd_out);
int vh_backend_shmem_map(struct vh_backend *b,
			 const struct vhost_user_mmap *req, int fd,
			 bool need_reply);
int vh_backend_shmem_unmap(struct vh_backend *b,
			   const struct vhost_user_mmap *req, bool need_reply);

#ifdef __cplusplus
}
#endif

#endif /* VHOST_BACKEND_H */
