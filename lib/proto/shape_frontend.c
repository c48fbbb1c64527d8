/* SPDX-License-Identifier: MIT */
/*
 * The front-end request table: one row per request of vhost-user.rst
 * "Front-end message types" (1..44), the facts the back-end dispatcher
 * enforces before any callback runs. Comments give the reason for every
 * row that is not read straight off the spec, with the peer behaviour that
 * decided it (QEMU hw/virtio/vhost-user.c, libvhost-user, rust-vmm).
 *
 * Rules that are not payload facts stay with the dispatcher:
 * - GET/SET_PROTOCOL_FEATURES and SET_VRING_ENABLE need the virtio bit
 *   VHOST_USER_F_PROTOCOL_FEATURES (offered, resp. negotiated);
 * - IOTLB_MSG needs the virtio bit VIRTIO_F_ACCESS_PLATFORM;
 * - SET_VRING_KICK/CALL/ERR carry an fd iff the NOFD bit is clear
 *   (vh_proto_decode_vring_file);
 * - after POSTCOPY_LISTEN, SET_MEM_TABLE and ADD_MEM_REG are answered with
 *   the mapped bases and QEMU acks that answer with a SET_MEM_TABLE carrying
 *   a u64 (hw/virtio/vhost-user.c vhost_user_set_mem_table_postcopy): a
 *   state-dependent exchange the dispatcher runs itself;
 * - with XEN_MMAP a region grows by 8 bytes; this table describes the
 *   32-byte region only, so a back-end must not offer XEN_MMAP.
 */
#include <stddef.h>
#include <stdint.h>

#include "shape_rows.h"
#include "vhost/proto.h"

/* clang-format off */
static const struct vh_msg_shape frontend_shapes[VHOST_USER_MAX] = {
	[VHOST_USER_GET_FEATURES] = {
		.name = "VHOST_USER_GET_FEATURES",
		EXACT(0), FDS(0, 0), NEEDS(NONE, NONE), .ring = VH_RING_NONE,
		REPLY(U64, 0, 0),
	},
	[VHOST_USER_SET_FEATURES] = {
		.name = "VHOST_USER_SET_FEATURES",
		EXACT(U64), FDS(0, 0), NEEDS(NONE, NONE), .ring = VH_RING_NONE,
		NO_REPLY,
	},
	[VHOST_USER_SET_OWNER] = {
		.name = "VHOST_USER_SET_OWNER",
		EXACT(0), FDS(0, 0), NEEDS(NONE, NONE), .ring = VH_RING_NONE,
		NO_REPLY,
	},
	/* Deprecated, no payload; back-ends ignore it or disable rings. */
	[VHOST_USER_RESET_OWNER] = {
		.name = "VHOST_USER_RESET_OWNER",
		EXACT(0), FDS(0, 0), NEEDS(NONE, NONE), .ring = VH_RING_NONE,
		NO_REPLY,
	},
	/* One fd per region, in region order; the fd count must equal
	 * nregions (VH_SIZE_MEMTABLE checks it). */
	[VHOST_USER_SET_MEM_TABLE] = {
		.name = "VHOST_USER_SET_MEM_TABLE",
		.size_rule = VH_SIZE_MEMTABLE,
		.min_size = VHOST_USER_MEM_TABLE_SIZE(1),
		.max_size = VHOST_USER_MEM_TABLE_SIZE(VHOST_USER_MEM_TABLE_MAX_REGIONS),
		FDS(1, VHOST_USER_MEM_TABLE_MAX_REGIONS), NEEDS(NONE, NONE),
		.ring = VH_RING_NONE,
		NO_REPLY,
	},
	/* The spec's table says "u64" but the payload QEMU sends is the
	 * 16-byte log description, with the log fd, and only a back-end with
	 * LOG_SHMFD can use it (QEMU sends no fd otherwise, leaving nothing
	 * to map). The reply is owed with LOG_SHMFD ("Communication" lists
	 * SET_LOG_BASE): QEMU vhost_user_set_log_base blocks reading it and
	 * libvhost-user answers a u64. */
	[VHOST_USER_SET_LOG_BASE] = {
		.name = "VHOST_USER_SET_LOG_BASE",
		EXACT((uint32_t)sizeof(struct vhost_user_log)), FDS(1, 1),
		NEEDS(PF(LOG_SHMFD), NONE), .ring = VH_RING_NONE,
		.reply = VH_REPLY_IF_PF, .reply_pf = PF(LOG_SHMFD),
		.reply_rule = VH_REPLY_SIZE_EXACT, .reply_size = U64,
		.reply_min_fds = 0, .reply_max_fds = 0,
	},
	[VHOST_USER_SET_LOG_FD] = {
		.name = "VHOST_USER_SET_LOG_FD",
		EXACT(0), FDS(1, 1), NEEDS(NONE, NONE), .ring = VH_RING_NONE,
		NO_REPLY,
	},
	[VHOST_USER_SET_VRING_NUM] = {
		.name = "VHOST_USER_SET_VRING_NUM",
		EXACT(STATE), FDS(0, 0), NEEDS(NONE, NONE),
		.ring = VH_RING_STATE,
		NO_REPLY,
	},
	[VHOST_USER_SET_VRING_ADDR] = {
		.name = "VHOST_USER_SET_VRING_ADDR",
		EXACT((uint32_t)sizeof(struct vhost_user_vring_addr)),
		FDS(0, 0), NEEDS(NONE, NONE), .ring = VH_RING_ADDR,
		NO_REPLY,
	},
	[VHOST_USER_SET_VRING_BASE] = {
		.name = "VHOST_USER_SET_VRING_BASE",
		EXACT(STATE), FDS(0, 0), NEEDS(NONE, NONE),
		.ring = VH_RING_STATE,
		NO_REPLY,
	},
	/* Always answered with the ring's state, even without REPLY_ACK:
	 * it stops the ring and QEMU waits for the 8 bytes. */
	[VHOST_USER_GET_VRING_BASE] = {
		.name = "VHOST_USER_GET_VRING_BASE",
		EXACT(STATE), FDS(0, 0), NEEDS(NONE, NONE),
		.ring = VH_RING_STATE,
		REPLY(STATE, 0, 0),
	},
	/* u64 index + NOFD bit; 0 or 1 fd, matched against NOFD by the
	 * dispatcher. QEMU sets NOFD whenever it has no fd to pass. */
	[VHOST_USER_SET_VRING_KICK] = {
		.name = "VHOST_USER_SET_VRING_KICK",
		EXACT(U64), FDS(0, 1), NEEDS(NONE, NONE), .ring = VH_RING_FILE,
		NO_REPLY,
	},
	[VHOST_USER_SET_VRING_CALL] = {
		.name = "VHOST_USER_SET_VRING_CALL",
		EXACT(U64), FDS(0, 1), NEEDS(NONE, NONE), .ring = VH_RING_FILE,
		NO_REPLY,
	},
	[VHOST_USER_SET_VRING_ERR] = {
		.name = "VHOST_USER_SET_VRING_ERR",
		EXACT(U64), FDS(0, 1), NEEDS(NONE, NONE), .ring = VH_RING_FILE,
		NO_REPLY,
	},
	/* Gated by the virtio bit PROTOCOL_FEATURES being offered, not by a
	 * protocol feature (and legal before SET_FEATURES). */
	[VHOST_USER_GET_PROTOCOL_FEATURES] = {
		.name = "VHOST_USER_GET_PROTOCOL_FEATURES",
		EXACT(0), FDS(0, 0), NEEDS(NONE, NONE), .ring = VH_RING_NONE,
		REPLY(U64, 0, 0),
	},
	[VHOST_USER_SET_PROTOCOL_FEATURES] = {
		.name = "VHOST_USER_SET_PROTOCOL_FEATURES",
		EXACT(U64), FDS(0, 0), NEEDS(NONE, NONE), .ring = VH_RING_NONE,
		NO_REPLY,
	},
	[VHOST_USER_GET_QUEUE_NUM] = {
		.name = "VHOST_USER_GET_QUEUE_NUM",
		EXACT(0), FDS(0, 0), NEEDS(PF(MQ), NONE), .ring = VH_RING_NONE,
		REPLY(U64, 0, 0),
	},
	/* Needs the virtio bit PROTOCOL_FEATURES negotiated (dispatcher).
	 * QEMU asks for an ack here whenever REPLY_ACK is on. */
	[VHOST_USER_SET_VRING_ENABLE] = {
		.name = "VHOST_USER_SET_VRING_ENABLE",
		EXACT(STATE), FDS(0, 0), NEEDS(NONE, NONE),
		.ring = VH_RING_STATE,
		NO_REPLY,
	},
	/* u64 whose first 6 bytes are the guest MAC. */
	[VHOST_USER_SEND_RARP] = {
		.name = "VHOST_USER_SEND_RARP",
		EXACT(U64), FDS(0, 0), NEEDS(PF(RARP), NONE),
		.ring = VH_RING_NONE,
		NO_REPLY,
	},
	[VHOST_USER_NET_SET_MTU] = {
		.name = "VHOST_USER_NET_SET_MTU",
		EXACT(U64), FDS(0, 0), NEEDS(PF(NET_MTU), NONE),
		.ring = VH_RING_NONE,
		NO_REPLY,
	},
	[VHOST_USER_SET_BACKEND_REQ_FD] = {
		.name = "VHOST_USER_SET_BACKEND_REQ_FD",
		EXACT(0), FDS(1, 1), NEEDS(PF(BACKEND_REQ), NONE),
		.ring = VH_RING_NONE,
		NO_REPLY,
	},
	/* The spec's reply "u64" is the REPLY_ACK ack: QEMU always sets
	 * NEED_REPLY here and refuses IOMMU without REPLY_ACK, then reads the
	 * reply with process_message_reply. No body is owed otherwise (DPDK
	 * and rust-vmm answer only NEED_REPLY). Needs the virtio bit
	 * VIRTIO_F_ACCESS_PLATFORM, checked by the dispatcher. */
	[VHOST_USER_IOTLB_MSG] = {
		.name = "VHOST_USER_IOTLB_MSG",
		EXACT((uint32_t)sizeof(struct vhost_user_iotlb)), FDS(0, 0),
		NEEDS(NONE, NONE), .ring = VH_RING_NONE,
		NO_REPLY,
	},
	/* state.num 0 little endian, 1 big endian. */
	[VHOST_USER_SET_VRING_ENDIAN] = {
		.name = "VHOST_USER_SET_VRING_ENDIAN",
		EXACT(STATE), FDS(0, 0), NEEDS(PF(CROSS_ENDIAN), NONE),
		.ring = VH_RING_STATE,
		NO_REPLY,
	},
	/* "vhost-user back-end's payload size MUST match the front-end's
	 * request, ... uses zero length of payload to indicate an error". */
	[VHOST_USER_GET_CONFIG] = {
		.name = "VHOST_USER_GET_CONFIG",
		.size_rule = VH_SIZE_CONFIG,
		.min_size = VHOST_USER_CONFIG_HDR_SIZE,
		.max_size = VHOST_USER_CONFIG_HDR_SIZE + VHOST_USER_MAX_CONFIG_SIZE,
		FDS(0, 0), NEEDS(PF(CONFIG), NONE), .ring = VH_RING_NONE,
		REPLY_AS_REQUEST(0, 0), .reply_accept_empty = true,
	},
	[VHOST_USER_SET_CONFIG] = {
		.name = "VHOST_USER_SET_CONFIG",
		.size_rule = VH_SIZE_CONFIG,
		.min_size = VHOST_USER_CONFIG_HDR_SIZE,
		.max_size = VHOST_USER_CONFIG_HDR_SIZE + VHOST_USER_MAX_CONFIG_SIZE,
		FDS(0, 0), NEEDS(PF(CONFIG), NONE), .ring = VH_RING_NONE,
		NO_REPLY,
	},
	/* The session description is QEMU's VhostUserCryptoSession, whose
	 * layout changed between releases and holds host-ABI fields: the
	 * library treats it as opaque, bounded by the payload buffer. Both
	 * layouts hold at least two u64 (op code or session id first,
	 * session id last). The reply is the same structure with the session
	 * id filled in (QEMU checks size == sizeof its struct). */
	[VHOST_USER_CREATE_CRYPTO_SESSION] = {
		.name = "VHOST_USER_CREATE_CRYPTO_SESSION",
		RANGE(2 * U64, VHOST_USER_MAX_PAYLOAD), FDS(0, 0),
		NEEDS(PF(CRYPTO_SESSION), NONE), .ring = VH_RING_NONE,
		REPLY_AS_REQUEST(0, 0),
	},
	/* u64 session id. QEMU asks for an ack when REPLY_ACK is on. */
	[VHOST_USER_CLOSE_CRYPTO_SESSION] = {
		.name = "VHOST_USER_CLOSE_CRYPTO_SESSION",
		EXACT(U64), FDS(0, 0), NEEDS(PF(CRYPTO_SESSION), NONE),
		.ring = VH_RING_NONE,
		NO_REPLY,
	},
	/* The reply is a 0-byte payload with the userfaultfd: QEMU
	 * vhost_user_postcopy_advise refuses a non-zero size and fails
	 * without an fd. A back-end that cannot open one answers without
	 * the fd, the only failure signal the message has. */
	[VHOST_USER_POSTCOPY_ADVISE] = {
		.name = "VHOST_USER_POSTCOPY_ADVISE",
		EXACT(0), FDS(0, 0), NEEDS(PF(PAGEFAULT), NONE),
		.ring = VH_RING_NONE,
		REPLY(0, 0, 1),
	},
	/* QEMU always sets NEED_REPLY here; the answer is the ack. */
	[VHOST_USER_POSTCOPY_LISTEN] = {
		.name = "VHOST_USER_POSTCOPY_LISTEN",
		EXACT(0), FDS(0, 0), NEEDS(PF(PAGEFAULT), NONE),
		.ring = VH_RING_NONE,
		NO_REPLY,
	},
	/* "reply payload: u64 ... 0 is success": owed whatever NEED_REPLY
	 * says (libvhost-user always answers; QEMU also sets NEED_REPLY). */
	[VHOST_USER_POSTCOPY_END] = {
		.name = "VHOST_USER_POSTCOPY_END",
		EXACT(0), FDS(0, 0), NEEDS(PF(PAGEFAULT), NONE),
		.ring = VH_RING_NONE,
		REPLY(U64, 0, 0),
	},
	/* The request carries num_queues/queue_size (libvhost-user sizes
	 * the area from them). The reply is the inflight description plus
	 * the area's fd; a failed reply has mmap_size 0 and no fd, which
	 * QEMU vhost_user_get_inflight_fd accepts as "no area". */
	[VHOST_USER_GET_INFLIGHT_FD] = {
		.name = "VHOST_USER_GET_INFLIGHT_FD",
		EXACT((uint32_t)sizeof(struct vhost_user_inflight)), FDS(0, 0),
		NEEDS(PF(INFLIGHT_SHMFD), NONE), .ring = VH_RING_NONE,
		REPLY((uint32_t)sizeof(struct vhost_user_inflight), 0, 1),
	},
	[VHOST_USER_SET_INFLIGHT_FD] = {
		.name = "VHOST_USER_SET_INFLIGHT_FD",
		EXACT((uint32_t)sizeof(struct vhost_user_inflight)), FDS(1, 1),
		NEEDS(PF(INFLIGHT_SHMFD), NONE), .ring = VH_RING_NONE,
		NO_REPLY,
	},
	/* No payload, the GPU socket as fd; no protocol feature gates it
	 * (vhost-user-gpu.rst). */
	[VHOST_USER_GPU_SET_SOCKET] = {
		.name = "VHOST_USER_GPU_SET_SOCKET",
		EXACT(0), FDS(1, 1), NEEDS(NONE, NONE), .ring = VH_RING_NONE,
		NO_REPLY,
	},
	[VHOST_USER_RESET_DEVICE] = {
		.name = "VHOST_USER_RESET_DEVICE",
		EXACT(0), FDS(0, 0), NEEDS(PF(RESET_DEVICE), NONE),
		.ring = VH_RING_NONE,
		NO_REPLY,
	},
	/* In-band kick: vring state, num reserved (0). */
	[VHOST_USER_VRING_KICK] = {
		.name = "VHOST_USER_VRING_KICK",
		EXACT(STATE), FDS(0, 0), NEEDS(PF(INBAND_NOTIFICATIONS), NONE),
		.ring = VH_RING_STATE,
		NO_REPLY,
	},
	[VHOST_USER_GET_MAX_MEM_SLOTS] = {
		.name = "VHOST_USER_GET_MAX_MEM_SLOTS",
		EXACT(0), FDS(0, 0), NEEDS(PF(CONFIGURE_MEM_SLOTS), NONE),
		.ring = VH_RING_NONE,
		REPLY(U64, 0, 0),
	},
	/* The spec's "request payload: N/A" is a typo for the single memory
	 * region description its text describes (QEMU sends 40 bytes).
	 * "Exactly one file descriptor". */
	[VHOST_USER_ADD_MEM_REG] = {
		.name = "VHOST_USER_ADD_MEM_REG",
		EXACT((uint32_t)sizeof(struct vhost_user_mem_reg)), FDS(1, 1),
		NEEDS(PF(CONFIGURE_MEM_SLOTS), NONE), .ring = VH_RING_NONE,
		NO_REPLY,
	},
	/* Same 40-byte payload (and the same table typo). "No file
	 * descriptors SHOULD be passed ... the back-end MAY accept messages
	 * with one file descriptor ... MUST close it". */
	[VHOST_USER_REM_MEM_REG] = {
		.name = "VHOST_USER_REM_MEM_REG",
		EXACT((uint32_t)sizeof(struct vhost_user_mem_reg)), FDS(0, 1),
		NEEDS(PF(CONFIGURE_MEM_SLOTS), NONE), .ring = VH_RING_NONE,
		NO_REPLY,
	},
	[VHOST_USER_SET_STATUS] = {
		.name = "VHOST_USER_SET_STATUS",
		EXACT(U64), FDS(0, 0), NEEDS(PF(STATUS), NONE),
		.ring = VH_RING_NONE,
		NO_REPLY,
	},
	[VHOST_USER_GET_STATUS] = {
		.name = "VHOST_USER_GET_STATUS",
		EXACT(0), FDS(0, 0), NEEDS(PF(STATUS), NONE),
		.ring = VH_RING_NONE,
		REPLY(U64, 0, 0),
	},
	/* Request: the 16-byte UUID. QEMU vhost_user_get_shared_object
	 * never sets hdr.size, so its request arrives with 0 bytes and no
	 * UUID at all; accepted (the lookup then finds nothing) rather than
	 * dropping the connection. Reply: "dmabuf fd", i.e. no body bytes
	 * and the fd when found, none otherwise (rust-vmm sends 0 bytes);
	 * libvhost-user echoes the request's payload instead, and QEMU reads
	 * either without checking the size. */
	[VHOST_USER_GET_SHARED_OBJECT] = {
		.name = "VHOST_USER_GET_SHARED_OBJECT",
		EXACT((uint32_t)sizeof(struct vhost_user_shared)), FDS(0, 0),
		.accept_empty = true,
		NEEDS(PF(SHARED_OBJECT), NONE), .ring = VH_RING_NONE,
		REPLY_AS_REQUEST(0, 1), .reply_accept_empty = true,
	},
	/* Transfer parameters plus the front-end's end of the channel. The
	 * u64 reply: bits 0-7 error, bit 8 NOFD; an fd iff NOFD is clear. */
	[VHOST_USER_SET_DEVICE_STATE_FD] = {
		.name = "VHOST_USER_SET_DEVICE_STATE_FD",
		EXACT((uint32_t)sizeof(struct vhost_user_transfer_state)),
		FDS(1, 1), NEEDS(PF(DEVICE_STATE), NONE), .ring = VH_RING_NONE,
		REPLY(U64, 0, 1),
	},
	[VHOST_USER_CHECK_DEVICE_STATE] = {
		.name = "VHOST_USER_CHECK_DEVICE_STATE",
		EXACT(0), FDS(0, 0), NEEDS(PF(DEVICE_STATE), NONE),
		.ring = VH_RING_NONE,
		REPLY(U64, 0, 0),
	},
	/* The reply is the whole VhostUserShMemConfig, 8 + 8 * 256 bytes:
	 * QEMU's vhost_user_get_shmem_config reads it into that structure
	 * (VIRTIO_MAX_SHMEM_REGIONS 256) and only nregions entries count. */
	[VHOST_USER_GET_SHMEM_CONFIG] = {
		.name = "VHOST_USER_GET_SHMEM_CONFIG",
		EXACT(0), FDS(0, 0), NEEDS(PF(SHMEM), NONE),
		.ring = VH_RING_NONE,
		REPLY((uint32_t)sizeof(struct vhost_user_shmem_config), 0, 0),
	},
};
/* clang-format on */

const struct vh_msg_shape *vh_proto_request_shape(uint32_t req)
{
	if (req >= VHOST_USER_MAX || !frontend_shapes[req].name)
		return NULL;
	return &frontend_shapes[req];
}
