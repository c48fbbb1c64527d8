/* SPDX-License-Identifier: MIT */
/*
 * Handlers for negotiation and device lifecycle: features, protocol
 * features, owner, queue count, memory slots, the back-end channel, reset
 * and status. Payloads were checked by check.c before any of these runs.
 */
#include <errno.h>
#include <string.h>

#include "backend_int.h"

int vh_h_get_features(struct vh_backend *b, struct vhost_user_msg *m)
{
	(void)m;
	vh_rep_u64(b, b->offered_features);
	return 0;
}

int vh_h_set_features(struct vh_backend *b, struct vhost_user_msg *m)
{
	uint64_t f = m->payload.u64;

	pthread_mutex_lock(&b->state_lock);
	b->acked_features = f;
	pthread_mutex_unlock(&b->state_lock);
	return VH_CALL(b, set_features, f);
}

int vh_h_set_owner(struct vh_backend *b, struct vhost_user_msg *m)
{
	(void)m;
	return VH_CALL0(b, set_owner);
}

int vh_h_reset_owner(struct vh_backend *b, struct vhost_user_msg *m)
{
	(void)m;
	return VH_CALL0(b, reset_owner);
}

int vh_h_get_protocol_features(struct vh_backend *b, struct vhost_user_msg *m)
{
	(void)m;
	vh_rep_u64(b, b->offered_pf);
	return 0;
}

int vh_h_set_protocol_features(struct vh_backend *b, struct vhost_user_msg *m)
{
	uint64_t pf = m->payload.u64;

	/* Protocol features take effect here, "It does not need to be
	 * acknowledged by VHOST_USER_SET_FEATURES" (vhost-user.rst). */
	pthread_mutex_lock(&b->state_lock);
	b->acked_pf = pf;
	pthread_mutex_unlock(&b->state_lock);
	return VH_CALL(b, set_protocol_features, pf);
}

int vh_h_get_queue_num(struct vh_backend *b, struct vhost_user_msg *m)
{
	(void)m;
	vh_rep_u64(b, b->cfg.num_queues);
	return 0;
}

int vh_h_get_max_mem_slots(struct vh_backend *b, struct vhost_user_msg *m)
{
	(void)m;
	vh_rep_u64(b, b->cfg.max_mem_slots);
	return 0;
}

int vh_h_set_backend_req_fd(struct vh_backend *b, struct vhost_user_msg *m)
{
	struct vh_conn *chan, *old;
	int fd = m->fds[0];
	int err;

	m->fds[0] = -1; /* vh_conn_new owns it from here, also on failure */
	err = vh_conn_new(&chan, fd, &b->cfg.conn);
	if (err)
		return err;
	pthread_mutex_lock(&b->chan_lock);
	old = b->chan;
	b->chan = chan;
	pthread_mutex_unlock(&b->chan_lock);
	vh_conn_free(old);
	if (vh_ops(b)->backend_channel_ready)
		vh_ops(b)->backend_channel_ready(b->cfg.opaque);
	return 0;
}

int vh_h_reset_device(struct vh_backend *b, struct vhost_user_msg *m)
{
	(void)m;
	return VH_CALL0(b, reset_device);
}

int vh_h_set_status(struct vh_backend *b, struct vhost_user_msg *m)
{
	return VH_CALL(b, set_status, (uint8_t)m->payload.u64);
}

int vh_h_get_status(struct vh_backend *b, struct vhost_user_msg *m)
{
	uint8_t status = 0;
	int ret;

	(void)m;
	ret = VH_CALL(b, get_status, &status);
	/* Any u64 is a valid status: there is no error form, so a failure
	 * closes the connection (no reply body prepared). */
	if (ret == 0)
		vh_rep_u64(b, status);
	return ret;
}
