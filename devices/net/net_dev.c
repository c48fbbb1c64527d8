/* SPDX-License-Identifier: MIT */
/*
 * The virtio-net device (virtio 1.2 §5.1) on vh_server: features, config
 * space, ring roles, reset, RARP and MTU, and the handler dispatch.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net.h"
#include "vhost/log.h"

/* Config space fields we expose (struct virtio_net_config up to mtu). */
#define NET_CONFIG_SIZE 12u

void net_opts_init(struct net_opts *o)
{
	static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

	memset(o, 0, sizeof(*o));
	o->pairs = 1;
	memcpy(o->mac, mac, 6);
	o->mtu = 1500;
	o->dgram_fd = -1;
	o->budget = 256;
}

static const struct net_backend *backend_for(enum net_mode m)
{
	switch (m) {
	case NET_MODE_LOOP:
		return &net_be_loop;
	case NET_MODE_SINK:
		return &net_be_sink;
	case NET_MODE_GEN:
		return &net_be_gen;
	case NET_MODE_TAP:
		return &net_be_tap;
	case NET_MODE_DGRAM:
		return &net_be_dgram;
	case NET_MODE_PACKET:
		return &net_be_packet;
	default:
		return NULL;
	}
}

static uint64_t offered_features(const struct net_dev *d)
{
	uint64_t f = VH_SERVER_RING_FEATURES |
		     vh_virtio_feature_mask(VH_VIRTIO_F_ANY_LAYOUT) |
		     NET_F(VIRTIO_NET_F_MRG_RXBUF) | NET_F(VIRTIO_NET_F_MTU) |
		     NET_F(VIRTIO_NET_F_MAC) | NET_F(VIRTIO_NET_F_STATUS) |
		     NET_F(VIRTIO_NET_F_CTRL_VQ);

	/* Every ring completes in the order it was popped (RX buffers a
	 * frame did not use included), which is what IN_ORDER asks
	 * (virtio 1.2 §2.7.9 / §2.8.23). */
	if (!d->o.no_in_order)
		f |= vh_virtio_feature_mask(VH_VIRTIO_F_IN_ORDER);
	if (d->o.pairs > 1)
		f |= NET_F(VIRTIO_NET_F_MQ);
	if (!d->o.no_offload)
		f |= d->be_features;
	return f;
}

int net_dev_new(struct net_dev **out, const struct net_opts *o)
{
	struct net_dev *d;
	int err;

	*out = NULL;
	if (!backend_for(o->mode) || o->pairs < 1 || o->pairs > NET_MAX_PAIRS ||
	    o->mtu < NET_MTU_MIN || o->budget < 1 || o->budget > 1024 ||
	    (o->mode == NET_MODE_GEN &&
	     (o->gen_size < NET_GEN_MIN || o->gen_size > NET_FRAME_MAX))) {
		err = -EINVAL;
		goto fail_early;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		err = -ENOMEM;
		goto fail_early;
	}
	d->o = *o;
	d->be = backend_for(o->mode);
	memcpy(d->mac, o->mac, 6);
	d->mtu = o->mtu;
	atomic_init(&d->vq_pairs, 1);
	pthread_mutex_init(&d->lock, NULL);
	d->ctrlctx.role = NET_ROLE_CTRL;
	d->pairs = calloc(o->pairs, sizeof(*d->pairs));
	if (!d->pairs) {
		err = -ENOMEM;
		goto fail_free;
	}
	for (unsigned i = 0; i < o->pairs; i++) {
		struct net_pair *p = &d->pairs[i];

		p->dev = d;
		p->index = i;
		p->rxctx.role = NET_ROLE_RX;
		p->rxctx.pair = p;
		p->txctx.role = NET_ROLE_TX;
		p->txctx.pair = p;
		p->hdrlen = NET_HDR_LEN;
		pthread_mutex_init(&p->lock, NULL);
		p->scratch = malloc(NET_HDR_LEN + NET_FRAME_MAX);
		if (!p->scratch) {
			err = -ENOMEM;
			goto fail_free;
		}
	}
	if (d->be->open) {
		err = d->be->open(d);
		if (err) {
			net_dev_free(d); /* close releases a partial open */
			return err;
		}
	}
	d->offered = offered_features(d);
	*out = d;
	return 0;

fail_free:
	d->be = NULL; /* not opened: nothing to close */
	net_dev_free(d);
fail_early:
	/* The inherited datagram socket is ours (net.h) until open takes
	 * it. */
	if (o->mode == NET_MODE_DGRAM && o->dgram_fd >= 0)
		close(o->dgram_fd);
	return err;
}

void net_dev_free(struct net_dev *d)
{
	if (!d)
		return;
	if (d->be && d->be->close)
		d->be->close(d);
	if (d->pairs) {
		for (unsigned i = 0; i < d->o.pairs; i++) {
			pthread_mutex_destroy(&d->pairs[i].lock);
			free(d->pairs[i].scratch);
		}
		free(d->pairs);
	}
	pthread_mutex_destroy(&d->lock);
	free(d);
}

bool net_pair_active(const struct net_pair *p)
{
	struct net_dev *d = p->dev;

	/* §5.1.6.5.5: after reset only the first pair receives; more once
	 * VQ_PAIRS_SET said so. Front-ends that keep the control queue to
	 * themselves (QEMU, DPDK virtio_user) switch pairs with
	 * SET_VRING_ENABLE instead, so the limit only holds once our
	 * control queue ran. */
	if (!atomic_load_explicit(&d->ctrl_started, memory_order_relaxed))
		return true;
	return p->index <
	       atomic_load_explicit(&d->vq_pairs, memory_order_relaxed);
}

void net_pairs_update(struct net_dev *d)
{
	unsigned n = d->o.pairs;

	if (!d->be->pairs_active)
		return;
	if (atomic_load(&d->ctrl_started)) {
		unsigned v = atomic_load(&d->vq_pairs);

		n = v < n ? v : n;
	}
	d->be->pairs_active(d, n);
}

/* ---- rings -------------------------------------------------------------- */

static struct net_qctx *role_of(struct net_dev *d, uint32_t idx, uint64_t f)
{
	bool mq = f & NET_F(VIRTIO_NET_F_MQ);
	uint32_t ctrl = mq ? 2 * d->o.pairs : 2;

	/* §5.1.2: receiveq1..N, transmitq1..N, then controlq; N is 1
	 * unless VIRTIO_NET_F_MQ. */
	if ((f & NET_F(VIRTIO_NET_F_CTRL_VQ)) && idx == ctrl)
		return &d->ctrlctx;
	if (idx >= 2 * d->o.pairs || (!mq && idx >= 2))
		return NULL;
	return idx % 2 ? &d->pairs[idx / 2].txctx : &d->pairs[idx / 2].rxctx;
}

static int op_queue_started(void *dev, struct vh_queue *q)
{
	struct net_dev *d = dev;
	uint64_t f = vh_queue_features(q);
	struct net_qctx *c = role_of(d, vh_queue_index(q), f);
	struct net_pair *p;

	vh_queue_set_priv(q, c);
	if (!c)
		return 0;
	if (c->role == NET_ROLE_CTRL) {
		atomic_store(&d->ctrl_started, true);
		net_pairs_update(d);
		return 0;
	}
	p = c->pair;
	pthread_mutex_lock(&p->lock);
	if (c->role == NET_ROLE_TX) {
		p->txq = q;
		pthread_mutex_unlock(&p->lock);
		return 0;
	}
	p->rxq = q;
	p->features = f;
	p->mrg = f & NET_F(VIRTIO_NET_F_MRG_RXBUF);
	p->hdrlen = (p->mrg || vh_virtio_has(f, VH_VIRTIO_F_VERSION_1))
			? NET_HDR_LEN
			: NET_HDR_LEN_LEGACY;
	pthread_mutex_unlock(&p->lock);
	return d->be->rx_started ? d->be->rx_started(p) : 0;
}

static void op_queue_stopped(void *dev, struct vh_queue *q)
{
	struct net_dev *d = dev;
	struct net_qctx *c = vh_queue_priv(q);

	vh_queue_set_priv(q, NULL);
	if (!c || c->role == NET_ROLE_CTRL)
		return;
	if (c->role == NET_ROLE_RX && d->be->rx_stopped)
		d->be->rx_stopped(c->pair);
	pthread_mutex_lock(&c->pair->lock);
	if (c->role == NET_ROLE_RX)
		c->pair->rxq = NULL;
	else
		c->pair->txq = NULL;
	pthread_mutex_unlock(&c->pair->lock);
}

static void handle_tx(struct net_dev *d, struct net_pair *p, struct vh_queue *q)
{
	struct vh_req *reqs[1024];
	unsigned n = 0;

	while (n < d->o.budget && vh_queue_pop(q, &reqs[n]) == 1)
		n++;
	if (!n)
		return;
	if (!vh_queue_enabled(q)) {
		/* vhost-user.rst "Ring states": started and disabled, a net
		 * device "must process and discard any TX packets". */
		for (unsigned i = 0; i < n; i++)
			vh_req_complete(reqs[i], 0);
		net_stat_add(&p->st.tx_dropped, n);
		return;
	}
	d->be->tx(p, reqs, n);
}

static void op_handle_queue(void *dev, struct vh_queue *q)
{
	struct net_dev *d = dev;
	struct net_qctx *c = vh_queue_priv(q);
	struct vh_req *r;

	if (!c) {
		/* A ring without a role (beyond the pairs, or the control
		 * queue without CTRL_VQ): give its buffers back. */
		while (vh_queue_pop(q, &r) == 1) {
			vh_req_complete(r, 0);
			/* Rare, and such rings may sit on several workers. */
			atomic_fetch_add_explicit(&d->stray, 1,
						  memory_order_relaxed);
		}
		return;
	}
	switch (c->role) {
	case NET_ROLE_TX:
		handle_tx(d, c->pair, q);
		break;
	case NET_ROLE_RX:
		if (d->be->rx)
			d->be->rx(c->pair);
		break;
	case NET_ROLE_CTRL:
		net_ctrl_handle(d, q);
		break;
	default:
		break;
	}
}

/* ---- device-wide -------------------------------------------------------- */

static int op_set_features(void *dev, uint64_t f)
{
	struct net_dev *d = dev;

	atomic_store(&d->features, f);
	return d->be->set_features ? d->be->set_features(d, f) : 0;
}

static int op_get_config(void *dev, uint32_t off, uint32_t size, uint8_t *buf)
{
	struct net_dev *d = dev;
	struct virtio_net_config c;
	uint8_t raw[NET_CONFIG_SIZE];

	memset(&c, 0, sizeof(c));
	pthread_mutex_lock(&d->lock);
	memcpy(c.mac, d->mac, 6);
	c.mtu = d->mtu;
	pthread_mutex_unlock(&d->lock);
	c.status = VIRTIO_NET_S_LINK_UP; /* our side has no link to lose */
	c.max_virtqueue_pairs = (uint16_t)d->o.pairs;
	memcpy(raw, &c, sizeof(raw));
	if (off > sizeof(raw) || size > sizeof(raw) - off)
		return -EINVAL;
	memcpy(buf, raw + off, size);
	return 0;
}

static int op_set_config(void *dev, uint32_t off, uint32_t size, uint32_t flags,
			 const uint8_t *buf)
{
	struct net_dev *d = dev;

	/* Only mac is driver-writable (legacy drivers set it this way);
	 * status, max_virtqueue_pairs and mtu are read-only. A migration
	 * write carries our own values back: accepted, nothing to do. */
	if (off + size <= 6) {
		pthread_mutex_lock(&d->lock);
		memcpy(d->mac + off, buf, size);
		pthread_mutex_unlock(&d->lock);
		return 0;
	}
	if (flags == VHOST_USER_CONFIG_FLAG_MIGRATION)
		return 0;
	vh_warn("net: VHOST_USER_SET_CONFIG: offset %u size %u is read-only",
		off, size);
	return -EPERM;
}

static void op_reset(void *dev)
{
	struct net_dev *d = dev;

	/* Every ring is stopped: no worker touches pair state now. */
	atomic_store(&d->vq_pairs, 1);
	atomic_store(&d->ctrl_started, false);
	atomic_store(&d->features, 0);
	for (unsigned i = 0; i < d->o.pairs; i++) {
		pthread_mutex_lock(&d->pairs[i].lock);
		d->pairs[i].inject_ready = false;
		pthread_mutex_unlock(&d->pairs[i].lock);
	}
	if (d->be->reset)
		d->be->reset(d);
	net_pairs_update(d);
}

int net_dev_send_rarp(struct net_dev *d, const uint8_t mac[6])
{
	uint8_t frame[60];
	size_t len = net_make_rarp(frame, mac);
	int err = d->be->emit ? d->be->emit(d, frame, len) : 0;

	if (err) {
		vh_warn("net: VHOST_USER_SEND_RARP: cannot emit the "
			"announcement: %s",
			vh_strerror(err));
		return err;
	}
	net_stat_add(&d->announce, 1);
	return 0;
}

int net_dev_set_mtu(struct net_dev *d, uint16_t mtu)
{
	/* vhost-user.rst NET_SET_MTU: the back-end nacks what it cannot
	 * take; virtio 1.2 §5.1.4.1: at least 68. */
	if (mtu < NET_MTU_MIN) {
		vh_warn("net: VHOST_USER_NET_SET_MTU: %u is below %u", mtu,
			NET_MTU_MIN);
		return -EINVAL;
	}
	pthread_mutex_lock(&d->lock);
	d->mtu = mtu;
	pthread_mutex_unlock(&d->lock);
	return 0;
}

#ifdef NET_HAVE_SERVER_NET_OPS
static int op_send_rarp(void *dev, const uint8_t mac[6])
{
	return net_dev_send_rarp(dev, mac);
}

static int op_net_set_mtu(void *dev, uint16_t mtu)
{
	return net_dev_set_mtu(dev, mtu);
}
#endif

static const struct vh_device_ops net_ops = {
    .handle_queue = op_handle_queue,
    .queue_started = op_queue_started,
    .queue_stopped = op_queue_stopped,
    .set_features = op_set_features,
    .get_config = op_get_config,
    .set_config = op_set_config,
    .reset = op_reset,
#ifdef NET_HAVE_SERVER_NET_OPS
    .send_rarp = op_send_rarp,
    .net_set_mtu = op_net_set_mtu,
#endif
};

void net_dev_describe(struct net_dev *d, struct vh_device *vd)
{
	memset(vd, 0, sizeof(*vd));
	vd->name = "net";
	vd->features = d->offered;
	vd->num_queues = 2 * d->o.pairs + 1;
	vd->config_size = NET_CONFIG_SIZE;
	/* Disabled rings are processed (TX discarded, nothing received):
	 * vhost-user.rst "Ring states". */
	vd->flags = VH_DEVICE_F_PROCESS_DISABLED;
	vd->ops = &net_ops;
	vd->opaque = d;
}

void net_dev_server_config(const struct net_dev *d, struct vh_server_config *c)
{
	/* Rings 2k and 2k + 1 on one worker: a pair is one thread's. The
	 * control queue gets a worker of its own (idle but for commands). */
	c->queues_per_worker = 2;
	c->max_workers = d->o.pairs + 1;
}

/* ---- counters ----------------------------------------------------------- */

void net_dev_totals(struct net_dev *d, struct net_totals *t)
{
	memset(t, 0, sizeof(*t));
	for (unsigned i = 0; i < d->o.pairs; i++) {
		struct net_stats *s = &d->pairs[i].st;

		t->tx_frames += net_stat_get(&s->tx_frames);
		t->tx_bytes += net_stat_get(&s->tx_bytes);
		t->tx_dropped += net_stat_get(&s->tx_dropped);
		t->tx_bad += net_stat_get(&s->tx_bad);
		t->rx_frames += net_stat_get(&s->rx_frames);
		t->rx_bytes += net_stat_get(&s->rx_bytes);
		t->rx_dropped += net_stat_get(&s->rx_dropped);
		t->rx_bad_bufs += net_stat_get(&s->rx_bad_bufs);
	}
	t->ctrl_ok = net_stat_get(&d->ctrl_ok);
	t->ctrl_err = net_stat_get(&d->ctrl_err);
	t->ctrl_bad = net_stat_get(&d->ctrl_bad);
	t->announce = net_stat_get(&d->announce);
	t->stray = net_stat_get(&d->stray);
}

void net_totals_format(const struct net_totals *t, char *buf, size_t len)
{
	snprintf(
	    buf, len,
	    "tx_frames=%llu tx_bytes=%llu tx_dropped=%llu tx_bad=%llu "
	    "rx_frames=%llu rx_bytes=%llu rx_dropped=%llu "
	    "rx_bad_bufs=%llu ctrl_ok=%llu ctrl_err=%llu ctrl_bad=%llu "
	    "announce=%llu stray=%llu",
	    (unsigned long long)t->tx_frames, (unsigned long long)t->tx_bytes,
	    (unsigned long long)t->tx_dropped, (unsigned long long)t->tx_bad,
	    (unsigned long long)t->rx_frames, (unsigned long long)t->rx_bytes,
	    (unsigned long long)t->rx_dropped,
	    (unsigned long long)t->rx_bad_bufs, (unsigned long long)t->ctrl_ok,
	    (unsigned long long)t->ctrl_err, (unsigned long long)t->ctrl_bad,
	    (unsigned long long)t->announce, (unsigned long long)t->stray);
}
