/* SPDX-License-Identifier: MIT */
/*
 * The back-end request table: one row per request of vhost-user.rst
 * "Back-end message types" (1..10), sent on the back-end channel that
 * SET_BACKEND_REQ_FD sets up (so BACKEND_REQ is implied for every row).
 * The front-end's channel handler enforces these rows; the back-end's
 * senders use them to refuse a request whose feature was not negotiated.
 *
 * "If VHOST_USER_PROTOCOL_F_BACKEND_SEND_FD protocol feature is negotiated,
 * back-end can send file descriptors": rows that carry an fd need it as
 * their second feature. IOTLB messages need the virtio bit
 * VIRTIO_F_ACCESS_PLATFORM, which is not a protocol feature.
 */
#include <stddef.h>
#include <stdint.h>

#include "shape_rows.h"
#include "vhost/proto.h"

/* clang-format off */
static const struct vh_msg_shape backend_shapes[VHOST_USER_BACKEND_MAX] = {
	/* Miss / access-fail notifications. Acked only on NEED_REPLY. */
	[VHOST_USER_BACKEND_IOTLB_MSG] = {
		.name = "VHOST_USER_BACKEND_IOTLB_MSG",
		EXACT((uint32_t)sizeof(struct vhost_user_iotlb)), FDS(0, 0),
		NEEDS(NONE, NONE), .ring = VH_RING_NONE,
		NO_REPLY,
	},
	[VHOST_USER_BACKEND_CONFIG_CHANGE_MSG] = {
		.name = "VHOST_USER_BACKEND_CONFIG_CHANGE_MSG",
		EXACT(0), FDS(0, 0), NEEDS(PF(CONFIG), NONE),
		.ring = VH_RING_NONE,
		NO_REPLY,
	},
	/* Vring area; the fd is absent when the u64's NOFD bit asks to
	 * remove the notifier. libvhost-user refuses to send it without
	 * both HOST_NOTIFIER and BACKEND_SEND_FD, and so do we. */
	[VHOST_USER_BACKEND_VRING_HOST_NOTIFIER_MSG] = {
		.name = "VHOST_USER_BACKEND_VRING_HOST_NOTIFIER_MSG",
		EXACT((uint32_t)sizeof(struct vhost_user_vring_area)),
		FDS(0, 1), NEEDS(PF(HOST_NOTIFIER), PF(BACKEND_SEND_FD)),
		.ring = VH_RING_AREA,
		NO_REPLY,
	},
	/* In-band call/err: vring state, num reserved (0). */
	[VHOST_USER_BACKEND_VRING_CALL] = {
		.name = "VHOST_USER_BACKEND_VRING_CALL",
		EXACT(STATE), FDS(0, 0), NEEDS(PF(INBAND_NOTIFICATIONS), NONE),
		.ring = VH_RING_STATE,
		NO_REPLY,
	},
	[VHOST_USER_BACKEND_VRING_ERR] = {
		.name = "VHOST_USER_BACKEND_VRING_ERR",
		EXACT(STATE), FDS(0, 0), NEEDS(PF(INBAND_NOTIFICATIONS), NONE),
		.ring = VH_RING_STATE,
		NO_REPLY,
	},
	[VHOST_USER_BACKEND_SHARED_OBJECT_ADD] = {
		.name = "VHOST_USER_BACKEND_SHARED_OBJECT_ADD",
		EXACT((uint32_t)sizeof(struct vhost_user_shared)), FDS(0, 0),
		NEEDS(PF(SHARED_OBJECT), NONE), .ring = VH_RING_NONE,
		NO_REPLY,
	},
	[VHOST_USER_BACKEND_SHARED_OBJECT_REMOVE] = {
		.name = "VHOST_USER_BACKEND_SHARED_OBJECT_REMOVE",
		EXACT((uint32_t)sizeof(struct vhost_user_shared)), FDS(0, 0),
		NEEDS(PF(SHARED_OBJECT), NONE), .ring = VH_RING_NONE,
		NO_REPLY,
	},
	/* "reply payload: dmabuf fd and u64": always answered (QEMU's
	 * handler sends it itself, libvhost-user waits for it), a u64 that is
	 * 0 on success with the fd, non-zero and no fd on failure. The fd
	 * travels front-end to back-end, so BACKEND_SEND_FD is not needed. */
	[VHOST_USER_BACKEND_SHARED_OBJECT_LOOKUP] = {
		.name = "VHOST_USER_BACKEND_SHARED_OBJECT_LOOKUP",
		EXACT((uint32_t)sizeof(struct vhost_user_shared)), FDS(0, 0),
		NEEDS(PF(SHARED_OBJECT), NONE), .ring = VH_RING_NONE,
		REPLY(U64, 0, 1),
	},
	/* MMAP request with the fd to map into a VIRTIO Shared Memory
	 * Region. */
	[VHOST_USER_BACKEND_SHMEM_MAP] = {
		.name = "VHOST_USER_BACKEND_SHMEM_MAP",
		EXACT((uint32_t)sizeof(struct vhost_user_mmap)), FDS(1, 1),
		NEEDS(PF(SHMEM), PF(BACKEND_SEND_FD)), .ring = VH_RING_NONE,
		NO_REPLY,
	},
	/* Same MMAP request (fd_offset unused), no fd. */
	[VHOST_USER_BACKEND_SHMEM_UNMAP] = {
		.name = "VHOST_USER_BACKEND_SHMEM_UNMAP",
		EXACT((uint32_t)sizeof(struct vhost_user_mmap)), FDS(0, 0),
		NEEDS(PF(SHMEM), NONE), .ring = VH_RING_NONE,
		NO_REPLY,
	},
};
/* clang-format on */

const struct vh_msg_shape *vh_proto_backend_request_shape(uint32_t req)
{
	if (req >= VHOST_USER_BACKEND_MAX || !backend_shapes[req].name)
		return NULL;
	return &backend_shapes[req];
}
