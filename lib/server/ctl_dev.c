/* SPDX-License-Identifier: MIT */
/*
 * vh_backend_ops for the device as a whole: owner, config space, reset,
 * status, device state; and the dispatcher configuration (features and
 * protocol features offered).
 */
#include <errno.h>
#include <string.h>

#include "server_int.h"

#define PF(bit) vh_protocol_feature_mask(VHOST_USER_PROTOCOL_F_##bit)

uint64_t vh_server_default_protocol_features(const struct vh_device *dev)
{
	uint64_t pf = PF(MQ) | PF(LOG_SHMFD) | PF(REPLY_ACK) | PF(BACKEND_REQ) |
		      PF(BACKEND_SEND_FD) | PF(INFLIGHT_SHMFD) |
		      PF(RESET_DEVICE) | PF(CONFIGURE_MEM_SLOTS) | PF(STATUS);

	if (dev->config_size && dev->ops && dev->ops->get_config)
		pf |= PF(CONFIG);
	if (dev->ops && dev->ops->set_device_state_fd &&
	    dev->ops->check_device_state)
		pf |= PF(DEVICE_STATE);
	if (dev->ops && dev->ops->send_rarp)
		pf |= PF(RARP);
	if (dev->ops && dev->ops->net_set_mtu)
		pf |= PF(NET_MTU);
	return pf;
}

int srv_op_send_rarp(void *opaque, const uint8_t mac[6])
{
	struct vh_server *srv = opaque;

	if (!srv->dev.ops->send_rarp)
		return -EOPNOTSUPP;
	return srv->dev.ops->send_rarp(srv->dev.opaque, mac);
}

int srv_op_net_set_mtu(void *opaque, uint16_t mtu)
{
	struct vh_server *srv = opaque;

	if (!srv->dev.ops->net_set_mtu)
		return -EOPNOTSUPP;
	return srv->dev.ops->net_set_mtu(srv->dev.opaque, mtu);
}

int srv_backend_config(struct vh_server *srv, struct vh_backend_config *bc)
{
	const struct vh_device *d = &srv->dev;
	uint64_t def = vh_server_default_protocol_features(d);

	/* Only what the server implements can be added. */
	if (d->protocol_features_add & ~def) {
		vh_err("%s: protocol features 0x%llx are not implemented by "
		       "the server",
		       srv->name,
		       (unsigned long long)(d->protocol_features_add & ~def));
		return -EINVAL;
	}
	memset(bc, 0, sizeof(*bc));
	bc->features = d->features | vh_virtio_feature_mask(VH_VHOST_F_LOG_ALL);
	bc->protocol_features = def & ~d->protocol_features_remove;
	bc->num_queues = d->num_queues;
	bc->max_mem_slots = VHOST_USER_MAX_MEM_SLOTS;
	bc->config_size = d->config_size;
	bc->conn = srv->cfg.conn;
	bc->name = srv->name;
	bc->ops = &srv_backend_ops;
	bc->opaque = srv;
	return 0;
}

int srv_op_set_owner(void *opaque)
{
	(void)opaque;
	return 0;
}

/* Every ring stopped (drained) and forgotten; device told. */
void srv_reset_device(struct vh_server *srv)
{
	srv_reset_rings(srv);
	atomic_store(&srv->status, 0);
	if (srv->dev.ops->reset)
		srv->dev.ops->reset(srv->dev.opaque);
}

int srv_op_reset_owner(void *opaque)
{
	/* Deprecated; treated as a device reset (as DPDK does). */
	srv_reset_device(opaque);
	return 0;
}

int srv_op_reset_device(void *opaque)
{
	/* vhost-user.rst RESET_DEVICE: "disable all rings and reset all
	 * internal device state to the initial state". Memory, log and
	 * in-flight region stay: the front-end keeps ownership. */
	srv_reset_device(opaque);
	return 0;
}

int srv_op_set_status(void *opaque, uint8_t status)
{
	struct vh_server *srv = opaque;

	/* virtio 1.2 §2.1: writing 0 resets the device. */
	if (status == 0) {
		srv_reset_device(srv);
		return 0;
	}
	/* NEEDS_RESET is the device's to set: keep it once set. */
	atomic_store(&srv->status, status | (atomic_load(&srv->status) &
					     VIRTIO_S_NEEDS_RESET));
	return 0;
}

int srv_op_get_status(void *opaque, uint8_t *status)
{
	struct vh_server *srv = opaque;

	*status = (uint8_t)atomic_load(&srv->status);
	return 0;
}

uint8_t vh_server_status(const struct vh_server *srv)
{
	return (uint8_t)atomic_load(&srv->status);
}

int srv_op_get_config(void *opaque, uint32_t offset, uint32_t size,
		      uint32_t flags, uint8_t *buf)
{
	struct vh_server *srv = opaque;

	(void)flags;
	if (!srv->dev.ops->get_config)
		return -EOPNOTSUPP;
	return srv->dev.ops->get_config(srv->dev.opaque, offset, size, buf);
}

int srv_op_set_config(void *opaque, uint32_t offset, uint32_t size,
		      uint32_t flags, const uint8_t *buf)
{
	struct vh_server *srv = opaque;

	if (!srv->dev.ops->set_config)
		return -EOPNOTSUPP;
	return srv->dev.ops->set_config(srv->dev.opaque, offset, size, flags,
					buf);
}

static bool all_rings_stopped(const struct vh_server *srv)
{
	for (uint32_t i = 0; i < srv->dev.num_queues; i++)
		if (srv->queues[i] && atomic_load(&srv->queues[i]->started))
			return false;
	return true;
}

int srv_op_set_device_state_fd(void *opaque, uint32_t direction, uint32_t phase,
			       int *fd, int *reply_fd)
{
	struct vh_server *srv = opaque;

	if (!srv->dev.ops->set_device_state_fd)
		return -EOPNOTSUPP;
	/* vhost-user.rst: the only phase is "stopped": the device is
	 * suspended, every ring stopped. */
	if (!all_rings_stopped(srv)) {
		vh_err("%s: VHOST_USER_SET_DEVICE_STATE_FD: rings are "
		       "running",
		       srv->name);
		return -EBUSY;
	}
	return srv->dev.ops->set_device_state_fd(srv->dev.opaque, direction,
						 phase, fd, reply_fd);
}

int srv_op_check_device_state(void *opaque)
{
	struct vh_server *srv = opaque;

	if (!srv->dev.ops->check_device_state)
		return -EOPNOTSUPP;
	return srv->dev.ops->check_device_state(srv->dev.opaque);
}
