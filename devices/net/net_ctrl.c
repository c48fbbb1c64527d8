/* SPDX-License-Identifier: MIT */
/*
 * The control queue (virtio 1.2 §5.1.6.5): struct virtio_net_ctrl is
 * class, command, command-specific data (device-readable), then the ack
 * byte (device-writable). We implement VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET
 * (§5.1.6.5.5); every other command is answered VIRTIO_NET_ERR, as the
 * features it belongs to are not offered.
 */
#include <string.h>

#include "net.h"
#include "vhost/log.h"

static uint8_t mq_pairs_set(struct net_dev *d, uint64_t f,
			    const struct vh_virtq_elem *e)
{
	uint16_t n;

	/* struct virtio_net_ctrl_mq: le16 virtqueue_pairs, nothing more. */
	if (!(f & NET_F(VIRTIO_NET_F_MQ)) || e->out_len != 2 + sizeof(n))
		return VIRTIO_NET_ERR;
	net_iov_read(e, 2, &n, sizeof(n));
	/* §5.1.6.5.5: 1..max_virtqueue_pairs, else the device answers
	 * VIRTIO_NET_ERR and keeps its state. */
	if (n < VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN || n > d->o.pairs)
		return VIRTIO_NET_ERR;
	atomic_store(&d->vq_pairs, n);
	net_pairs_update(d);
	/* Pairs that became active may hold frames (or, in --gen mode,
	 * have buffers to fill) with nobody to look: wake their RX rings. */
	for (unsigned i = 0; i < n; i++) {
		struct net_pair *p = &d->pairs[i];

		pthread_mutex_lock(&p->lock);
		if (p->rxq)
			vh_queue_wake(p->rxq);
		pthread_mutex_unlock(&p->lock);
	}
	return VIRTIO_NET_OK;
}

void net_ctrl_handle(struct net_dev *d, struct vh_queue *q)
{
	uint64_t f = vh_queue_features(q);
	struct vh_req *r;

	/* Commands change the device: not while the ring is disabled. */
	if (!vh_queue_enabled(q))
		return;
	while (vh_queue_pop(q, &r) == 1) {
		const struct vh_virtq_elem *e = &r->elem;
		uint8_t cls[2], ack = VIRTIO_NET_ERR;

		if (e->in_len != 1) {
			/* The ack is the one device-writable byte; without
			 * it the driver cannot learn anything: dropped. */
			vh_warn("net: control queue: %u writable bytes, "
				"expected the 1-byte ack",
				e->in_len);
			net_stat_add(&d->ctrl_bad, 1);
			vh_req_complete(r, 0);
			continue;
		}
		if (e->out_len >= 2) {
			net_iov_read(e, 0, cls, 2);
			if (cls[0] == VIRTIO_NET_CTRL_MQ &&
			    cls[1] == VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET)
				ack = mq_pairs_set(d, f, e);
		}
		net_iov_write(e, 0, &ack, 1);
		net_stat_add(ack == VIRTIO_NET_OK ? &d->ctrl_ok : &d->ctrl_err,
			     1);
		vh_req_complete(r, 1);
	}
}
