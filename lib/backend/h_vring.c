/* SPDX-License-Identifier: MIT */
/*
 * Handlers for rings: size, addresses, base, kick/call/err descriptors,
 * enable, endianness and the in-band kick. check.c proved the ring index
 * below num_queues, the reserved bits clear and the fd count right before
 * any of these runs. The ring state machine (started / enabled) belongs to
 * the server layer: these only decode and call.
 */
#include <errno.h>
#include <string.h>

#include "backend_int.h"

int vh_h_set_vring_num(struct vh_backend *b, struct vhost_user_msg *m)
{
	return VH_CALL(b, set_vring_num, m->payload.state.index,
		       m->payload.state.num);
}

int vh_h_set_vring_addr(struct vh_backend *b, struct vhost_user_msg *m)
{
	return VH_CALL(b, set_vring_addr, &m->payload.addr);
}

int vh_h_set_vring_base(struct vh_backend *b, struct vhost_user_msg *m)
{
	return VH_CALL(b, set_vring_base, m->payload.state.index,
		       m->payload.state.num);
}

int vh_h_get_vring_base(struct vh_backend *b, struct vhost_user_msg *m)
{
	uint32_t index = m->payload.state.index;
	uint32_t base = 0;
	int ret;

	ret = VH_CALL(b, get_vring_base, index, &base);
	/* No error form exists: on failure no body is prepared and the
	 * dispatcher closes the connection. */
	if (ret == 0) {
		b->rep.payload.state.index = index;
		b->rep.payload.state.num = base;
		b->rep.hdr.size = sizeof(b->rep.payload.state);
		b->rep_ready = true;
	}
	return ret;
}

/* KICK/CALL/ERR share a decoder: ring in bits 0-7, NOFD in bit 8. */
static int vring_file(struct vh_backend *b, struct vhost_user_msg *m,
		      int (*cb)(void *, uint32_t, int *))
{
	uint32_t index = (uint32_t)(m->payload.u64 & VHOST_USER_VRING_IDX_MASK);
	int nofd = -1;

	if (!cb)
		return VH_NOT_SUPPORTED;
	/* NOFD: "This signals that polling should be used" — slot -1. */
	return cb(b->cfg.opaque, index, m->nfds ? &m->fds[0] : &nofd);
}

int vh_h_set_vring_kick(struct vh_backend *b, struct vhost_user_msg *m)
{
	return vring_file(b, m, vh_ops(b)->set_vring_kick);
}

int vh_h_set_vring_call(struct vh_backend *b, struct vhost_user_msg *m)
{
	return vring_file(b, m, vh_ops(b)->set_vring_call);
}

int vh_h_set_vring_err(struct vh_backend *b, struct vhost_user_msg *m)
{
	return vring_file(b, m, vh_ops(b)->set_vring_err);
}

int vh_h_set_vring_enable(struct vh_backend *b, struct vhost_user_msg *m)
{
	return VH_CALL(b, set_vring_enable, m->payload.state.index,
		       m->payload.state.num == 1);
}

int vh_h_set_vring_endian(struct vh_backend *b, struct vhost_user_msg *m)
{
	return VH_CALL(b, set_vring_endian, m->payload.state.index,
		       m->payload.state.num == 1);
}

int vh_h_vring_kick(struct vh_backend *b, struct vhost_user_msg *m)
{
	return VH_CALL(b, vring_kick, m->payload.state.index);
}
