/* SPDX-License-Identifier: MIT */
/*
 * --tap IFNAME: a tap device with IFF_VNET_HDR, one queue per pair
 * (IFF_MULTI_QUEUE when there are several). The virtio-net header travels
 * unchanged both ways (TUNSETVNETHDRSZ follows the driver's header size), so
 * checksum and GSO offloads pass through: what the driver sends (CSUM,
 * HOST_TSO*, HOST_UFO) the tap's kernel side finishes; what the tap may give
 * us is set with TUNSETOFFLOAD from the driver's GUEST_* features, after
 * probing at start-up which the tap accepts.
 *
 * TX: writev of the driver's own iovecs (no copy). RX: read into a per-pair
 * buffer, then copied into RX buffers; the tap fd is watched on the pair's
 * worker and unwatched while the RX ring has no buffers (the frame waits,
 * and later ones queue in the kernel).
 *
 * With several pairs, the queue of a pair that may not receive
 * (VQ_PAIRS_SET, §5.1.6.5.5) is detached from the tap (TUNSETQUEUE
 * IFF_DETACH_QUEUE), so the kernel steers every frame to the active
 * queues instead of one that would drop them; attached again when the
 * pair becomes active. The pair's worker does it (it owns the fd's watch),
 * woken by the control queue.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "net.h"
#include "vhost/log.h"

struct tap_q {
	int fd;
	/* Attached to the tap: changed by pairs_active (TUNSETQUEUE, under
	 * the pair's lock) before VQ_PAIRS_SET is acknowledged; the pair's
	 * worker follows (tap_sync: unwatch, drop the held frame). */
	_Atomic bool attached;
	bool watched;
	bool pending; /* buf holds a frame not delivered yet */
	size_t plen;
	uint8_t *buf; /* NET_HDR_LEN + NET_FRAME_MAX */
	unsigned hl;  /* header size set on the fd (worker copy) */
};

struct tap_state {
	struct tap_q *q;
	unsigned n;
	const char *ifname;
	_Atomic unsigned hl; /* TUNSETVNETHDRSZ in force */
};

static unsigned tun_offloads(uint64_t f)
{
	unsigned o = 0;

	if (f & NET_F(VIRTIO_NET_F_GUEST_CSUM)) {
		o |= TUN_F_CSUM;
		if (f & NET_F(VIRTIO_NET_F_GUEST_TSO4))
			o |= TUN_F_TSO4;
		if (f & NET_F(VIRTIO_NET_F_GUEST_TSO6))
			o |= TUN_F_TSO6;
		if (f & NET_F(VIRTIO_NET_F_GUEST_ECN))
			o |= TUN_F_TSO_ECN;
		if (f & NET_F(VIRTIO_NET_F_GUEST_UFO))
			o |= TUN_F_UFO;
	}
	return o;
}

static int tap_open_queue(const char *ifname, bool mq, int *out)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	if (mq)
		ifr.ifr_flags |= IFF_MULTI_QUEUE;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	*out = fd;
	return 0;
}

/* The GUEST_* features whose TUN_F_* bit the tap accepts. */
static uint64_t probe_offloads(int fd)
{
	static const struct {
		unsigned tun;
		int bit;
	} map[] = {
	    {TUN_F_TSO4, VIRTIO_NET_F_GUEST_TSO4},
	    {TUN_F_TSO6, VIRTIO_NET_F_GUEST_TSO6},
	    {TUN_F_TSO_ECN, VIRTIO_NET_F_GUEST_ECN},
	    {TUN_F_UFO, VIRTIO_NET_F_GUEST_UFO},
	};
	uint64_t f;

	if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)TUN_F_CSUM) < 0)
		return 0;
	f = NET_F(VIRTIO_NET_F_GUEST_CSUM);
	for (unsigned i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		unsigned o = TUN_F_CSUM | map[i].tun;

		if (map[i].tun == TUN_F_TSO_ECN)
			o |= TUN_F_TSO4;
		if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)o) == 0)
			f |= NET_F(map[i].bit);
	}
	ioctl(fd, TUNSETOFFLOAD, 0ul);
	return f;
}

static void tap_close(struct net_dev *d)
{
	struct tap_state *s = d->be_state;

	if (!s)
		return;
	for (unsigned i = 0; i < s->n; i++) {
		if (s->q[i].fd >= 0)
			close(s->q[i].fd);
		free(s->q[i].buf);
	}
	free(s->q);
	free(s);
	d->be_state = NULL;
}

static int tap_open(struct net_dev *d)
{
	struct tap_state *s;
	int hl = NET_HDR_LEN, err;

	if (!d->o.ifname || strlen(d->o.ifname) >= IFNAMSIZ) {
		vh_err("net: --tap needs an interface name of at most %d "
		       "characters",
		       IFNAMSIZ - 1);
		return -EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	d->be_state = s;
	s->q = calloc(d->o.pairs, sizeof(*s->q));
	if (!s->q)
		return -ENOMEM;
	s->n = d->o.pairs;
	atomic_init(&s->hl, NET_HDR_LEN);
	s->ifname = d->o.ifname;
	for (unsigned i = 0; i < s->n; i++) {
		s->q[i].fd = -1;
		atomic_store(&s->q[i].attached, true); /* TUNSETIFF attaches */
	}
	for (unsigned i = 0; i < s->n; i++) {
		struct tap_q *q = &s->q[i];

		err = tap_open_queue(d->o.ifname, s->n > 1, &q->fd);
		if (err) {
			vh_err("net: tap %s (queue %u): %s", d->o.ifname, i,
			       vh_strerror(err));
			return err;
		}
		if (ioctl(q->fd, TUNSETVNETHDRSZ, &hl) < 0) {
			err = -errno;
			vh_err("net: tap %s: TUNSETVNETHDRSZ: %s", d->o.ifname,
			       vh_strerror(err));
			return err;
		}
		q->buf = malloc(NET_HDR_LEN + NET_FRAME_MAX);
		if (!q->buf)
			return -ENOMEM;
		q->hl = NET_HDR_LEN;
		d->pairs[i].be = q;
	}
	/* What we hand to the tap it finishes (IFF_VNET_HDR); what it may
	 * hand us depends on what it accepts. */
	d->be_features = NET_F_HOST_OFFLOADS | probe_offloads(s->q[0].fd);
	return 0;
}

static int tap_set_features(struct net_dev *d, uint64_t f)
{
	struct tap_state *s = d->be_state;
	unsigned long off = tun_offloads(f);
	int hl = (f & (NET_F(VIRTIO_NET_F_MRG_RXBUF) |
		       vh_virtio_feature_mask(VH_VIRTIO_F_VERSION_1)))
		     ? NET_HDR_LEN
		     : NET_HDR_LEN_LEGACY;

	for (unsigned i = 0; i < s->n; i++) {
		if (ioctl(s->q[i].fd, TUNSETOFFLOAD, off) < 0 ||
		    ioctl(s->q[i].fd, TUNSETVNETHDRSZ, &hl) < 0) {
			int err = -errno;

			vh_err("net: VHOST_USER_SET_FEATURES: tap %s refuses "
			       "offloads 0x%lx / header %d: %s",
			       d->o.ifname, off, hl, vh_strerror(err));
			return err;
		}
	}
	atomic_store(&s->hl, (unsigned)hl);
	return 0;
}

static void tap_watch_cb(struct vh_queue *q, void *arg);

/* The pair's worker after a detach (pairs_active): a detached queue polls
 * as an error, so it is no longer watched; a frame held for the RX ring is
 * dropped (counted). A queue attached again is watched by tap_pump. */
static void tap_sync(struct net_pair *p)
{
	struct tap_q *tq = p->be;

	if (atomic_load(&tq->attached))
		return;
	if (tq->watched) {
		vh_queue_unwatch_fd(p->rxq, tq->fd);
		tq->watched = false;
	}
	if (tq->pending) {
		net_stat_add(&p->st.rx_dropped, 1);
		tq->pending = false;
	}
}

static void tap_pump(struct net_pair *p)
{
	struct tap_q *tq = p->be;
	struct net_rx_run run;
	unsigned budget = p->dev->o.budget;

	if (!p->rxq)
		return;
	if (!atomic_load(&tq->attached)) {
		tap_sync(p); /* e.g. the watch's first error after a detach */
		return;
	}
	net_rx_begin(&run, p);
	while (budget--) {
		struct virtio_net_hdr_v1 hdr;

		if (!tq->pending) {
			ssize_t n = read(tq->fd, tq->buf,
					 tq->hl + (size_t)NET_FRAME_MAX);

			if (n < 0) {
				/* EAGAIN: the tap is empty. Anything else
				 * (EBADFD after the interface went away)
				 * also means "nothing now". */
				break;
			}
			if ((size_t)n < tq->hl)
				continue;
			tq->plen = (size_t)n;
			tq->pending = true;
		}
		memset(&hdr, 0, sizeof(hdr));
		memcpy(&hdr, tq->buf, tq->hl);
		if (net_rx_put(&run, &hdr, tq->buf + tq->hl,
			       tq->plen - tq->hl) == 0)
			break; /* no RX buffer: the frame waits */
		tq->pending = false;
	}
	net_rx_end(&run);
	if (tq->pending && tq->watched) {
		/* Level-triggered: stop looking until the driver adds RX
		 * buffers (its kick runs tap_rx). */
		vh_queue_unwatch_fd(p->rxq, tq->fd);
		tq->watched = false;
	} else if (!tq->pending && !tq->watched) {
		/* Readable again or not, the watch calls back. */
		if (vh_queue_watch_fd(p->rxq, tq->fd, tap_watch_cb, p) == 0)
			tq->watched = true;
	}
}

/* The RX ring may have new buffers: deliver what waits. While the fd is
 * watched, arrivals are the watch's business (no read per poll). */
static void tap_rx(struct net_pair *p)
{
	struct tap_q *tq = p->be;

	tap_sync(p);
	if (tq->watched && !tq->pending)
		return;
	tap_pump(p);
}

static void tap_watch_cb(struct vh_queue *q, void *arg)
{
	(void)q;
	tap_pump(arg);
}

static int tap_rx_started(struct net_pair *p)
{
	struct tap_q *tq = p->be;
	struct tap_state *s = p->dev->be_state;

	tq->hl = atomic_load(&s->hl);
	tq->pending = false;
	tq->watched = false;
	tap_sync(p);
	if (!atomic_load(&tq->attached))
		return 0; /* watched once attached (tap_rx, tap_pump) */
	tq->watched = vh_queue_watch_fd(p->rxq, tq->fd, tap_watch_cb, p) == 0;
	return tq->watched ? 0 : -EIO;
}

static void tap_rx_stopped(struct net_pair *p)
{
	struct tap_q *tq = p->be;

	/* The server ended the watch with the ring. A frame read but not
	 * delivered is lost, counted. */
	tq->watched = false;
	if (tq->pending)
		net_stat_add(&p->st.rx_dropped, 1);
	tq->pending = false;
}

static void tap_tx(struct net_pair *p, struct vh_req **reqs, unsigned n)
{
	struct tap_q *tq = p->be;
	uint64_t frames = 0, bytes = 0, dropped = 0;

	for (unsigned i = 0; i < n; i++) {
		struct vh_req *r = reqs[i];
		struct virtio_net_hdr_v1 hdr;
		uint32_t len;

		/* The chain is header + frame, the header exactly the size
		 * set on the fd: it goes out as it is. */
		if (net_tx_frame(p, r, &hdr, &len) == 0) {
			if (writev(tq->fd, r->elem.iov, (int)r->elem.out_num) <
			    0) {
				dropped++;
			} else {
				frames++;
				bytes += len;
			}
		}
		vh_req_complete(r, 0);
	}
	net_stat_add(&p->st.tx_frames, frames);
	net_stat_add(&p->st.tx_bytes, bytes);
	if (dropped)
		net_stat_add(&p->st.tx_dropped, dropped);
}

/*
 * Steer the tap's flows to the active pairs only (VQ_PAIRS_SET, control
 * queue start, reset). The TUNSETQUEUE is made here, before the command is
 * acknowledged, so that once the driver has its answer the kernel no
 * longer queues frames for an inactive pair; the pair's worker is woken to
 * follow (tap_sync / tap_pump).
 */
static void tap_pairs_active(struct net_dev *d, unsigned n)
{
	struct tap_state *s = d->be_state;

	/* One queue (no IFF_MULTI_QUEUE): nothing to steer. */
	if (!s || s->n < 2)
		return;
	for (unsigned i = 0; i < s->n; i++) {
		struct net_pair *p = &d->pairs[i];
		struct tap_q *tq = &s->q[i];
		bool want = i < n;
		struct ifreq ifr;

		pthread_mutex_lock(&p->lock);
		if (atomic_load(&tq->attached) != want) {
			memset(&ifr, 0, sizeof(ifr));
			ifr.ifr_flags =
			    want ? IFF_ATTACH_QUEUE : IFF_DETACH_QUEUE;
			if (ioctl(tq->fd, TUNSETQUEUE, &ifr) < 0)
				/* The pair works as before (an attached
				 * queue of an inactive pair drops what the
				 * kernel gives it). */
				vh_warn("net: tap %s: queue %u: TUNSETQUEUE "
					"%s: %s",
					s->ifname, i,
					want ? "attach" : "detach",
					vh_strerror(-errno));
			else
				atomic_store(&tq->attached, want);
			if (p->rxq)
				vh_queue_wake(p->rxq);
		}
		pthread_mutex_unlock(&p->lock);
	}
}

static int tap_emit(struct net_dev *d, const void *frame, size_t len)
{
	struct tap_state *s = d->be_state;
	uint8_t hdr[NET_HDR_LEN] = {0};
	struct iovec iov[2] = {{hdr, atomic_load(&s->hl)},
			       {(void *)(uintptr_t)frame, len}};

	return writev(s->q[0].fd, iov, 2) < 0 ? -errno : 0;
}

const struct net_backend net_be_tap = {
    .name = "tap",
    .open = tap_open,
    .close = tap_close,
    .set_features = tap_set_features,
    .rx_started = tap_rx_started,
    .rx_stopped = tap_rx_stopped,
    .tx = tap_tx,
    .rx = tap_rx,
    .emit = tap_emit,
    .pairs_active = tap_pairs_active,
};
