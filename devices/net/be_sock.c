/* SPDX-License-Identifier: MIT */
/*
 * Socket back-ends, one queue pair each, batched with sendmmsg/recvmmsg:
 *
 *  --dgram-bind PATH / --dgram-peer PATH / --dgram-fd N
 *      a Unix datagram socket: one raw Ethernet frame per datagram, no
 *      virtio header (the format of QEMU's -netdev dgram); no offloads.
 *  --packet IFNAME
 *      AF_PACKET on an interface, promiscuous, with PACKET_VNET_HDR: the
 *      10-byte virtio_net_hdr travels with each frame, so checksum and GSO
 *      offloads pass through the kernel both ways.
 *
 * TX sends the driver's own iovecs (no copy of the frame). RX receives a
 * batch into per-pair buffers, then copies into RX buffers; the socket is
 * unwatched while the RX ring has no buffers, as for the tap.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "net.h"
#include "vhost/log.h"

#define SOCK_BATCH 16u
#define SOCK_IOV   130u /* the header piece + the device's max_iov */

struct sock_state {
	int fd;
	unsigned wire_hl; /* 0 (dgram) or sizeof(struct virtio_net_hdr) */
	bool watched;
	struct sockaddr_un peer;
	socklen_t peerlen;
	char *unlink_path; /* a path we bound */
	/* RX: rn frames received, ri the next to deliver. */
	unsigned rn, ri;
	struct mmsghdr rmsg[SOCK_BATCH];
	struct iovec riov[SOCK_BATCH];
	uint8_t *rbuf; /* SOCK_BATCH * (NET_HDR_LEN + NET_FRAME_MAX) */
	/* TX */
	struct mmsghdr tmsg[SOCK_BATCH];
	struct iovec tiov[SOCK_BATCH][SOCK_IOV];
	struct virtio_net_hdr thdr[SOCK_BATCH];
	uint32_t tlen[SOCK_BATCH];
};

#define RBUF_STRIDE (NET_HDR_LEN + NET_FRAME_MAX)

static void sock_close(struct net_dev *d)
{
	struct sock_state *s = d->be_state;

	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	if (s->unlink_path)
		unlink(s->unlink_path);
	free(s->unlink_path);
	free(s->rbuf);
	free(s);
	d->be_state = NULL;
}

static int sock_common(struct net_dev *d, const char *what)
{
	struct sock_state *s;

	if (d->o.pairs != 1) {
		vh_err("net: %s serves one queue pair (--queues 1)", what);
		return -EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->fd = -1;
	d->be_state = s;
	d->pairs[0].be = s;
	s->rbuf = malloc((size_t)SOCK_BATCH * RBUF_STRIDE);
	return s->rbuf ? 0 : -ENOMEM;
}

static int set_unix_addr(struct sockaddr_un *a, socklen_t *len,
			 const char *path)
{
	if (strlen(path) >= sizeof(a->sun_path))
		return -ENAMETOOLONG;
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	strcpy(a->sun_path, path);
	*len = (socklen_t)sizeof(*a);
	return 0;
}

static int dgram_open(struct net_dev *d)
{
	struct sock_state *s;
	int err = sock_common(d, "--dgram");

	if (err) {
		/* An inherited socket is ours whatever happens. */
		if (d->o.dgram_fd >= 0)
			close(d->o.dgram_fd);
		return err;
	}
	s = d->be_state;
	if (d->o.dgram_fd >= 0) {
		/* Inherited: ours from now on (closed by sock_close). */
		s->fd = d->o.dgram_fd;
		if (fcntl(s->fd, F_SETFL, fcntl(s->fd, F_GETFL) | O_NONBLOCK))
			return -errno;
	} else {
		s->fd = socket(AF_UNIX,
			       SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (s->fd < 0)
			return -errno;
	}
	if (d->o.dgram_bind) {
		struct sockaddr_un a;
		socklen_t l;

		err = set_unix_addr(&a, &l, d->o.dgram_bind);
		if (!err && bind(s->fd, (struct sockaddr *)&a, l))
			err = -errno;
		if (err) {
			vh_err("net: --dgram-bind %s: %s", d->o.dgram_bind,
			       vh_strerror(err));
			return err;
		}
		s->unlink_path = strdup(d->o.dgram_bind);
	}
	if (d->o.dgram_peer) {
		err = set_unix_addr(&s->peer, &s->peerlen, d->o.dgram_peer);
		if (err) {
			vh_err("net: --dgram-peer %s: %s", d->o.dgram_peer,
			       vh_strerror(err));
			return err;
		}
	}
	/* Raw frames, no header: nothing to offload to. */
	d->be_features = 0;
	return 0;
}

static int packet_open(struct net_dev *d)
{
	struct sock_state *s;
	struct sockaddr_ll a;
	struct packet_mreq mr;
	int one = 1, err = sock_common(d, "--packet");
	unsigned idx;

	if (err)
		return err;
	s = d->be_state;
	idx = d->o.ifname ? if_nametoindex(d->o.ifname) : 0;
	if (!idx) {
		vh_err("net: --packet %s: no such interface",
		       d->o.ifname ? d->o.ifname : "");
		return -ENODEV;
	}
	s->fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
		       htons(ETH_P_ALL));
	if (s->fd < 0)
		goto fail;
	s->wire_hl = sizeof(struct virtio_net_hdr);
	if (setsockopt(s->fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)))
		goto fail;
	/* Frames the host itself sends out of the interface are not for the
	 * guest. */
	(void)setsockopt(s->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one,
			 sizeof(one));
	memset(&a, 0, sizeof(a));
	a.sll_family = AF_PACKET;
	a.sll_protocol = htons(ETH_P_ALL);
	a.sll_ifindex = (int)idx;
	if (bind(s->fd, (struct sockaddr *)&a, sizeof(a)))
		goto fail;
	memset(&mr, 0, sizeof(mr));
	mr.mr_ifindex = (int)idx;
	mr.mr_type = PACKET_MR_PROMISC;
	if (setsockopt(s->fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr,
		       sizeof(mr)))
		goto fail;
	/* The kernel finishes what we send (checksum, GSO) and describes
	 * what it gives (GRO): UFO it no longer produces. */
	d->be_features = NET_F_HOST_OFFLOADS | NET_F(VIRTIO_NET_F_GUEST_CSUM) |
			 NET_F(VIRTIO_NET_F_GUEST_TSO4) |
			 NET_F(VIRTIO_NET_F_GUEST_TSO6) |
			 NET_F(VIRTIO_NET_F_GUEST_ECN);
	return 0;
fail:
	err = -errno;
	vh_err("net: --packet %s: %s", d->o.ifname, vh_strerror(err));
	return err;
}

/* ---- TX ----------------------------------------------------------------- */

/* @e's readable bytes from @skip on, as iovecs into @dst (at most @max).
 * Returns the count, or 0 if they do not fit. */
static unsigned iov_from(const struct vh_virtq_elem *e, size_t skip,
			 struct iovec *dst, unsigned max)
{
	unsigned n = 0;

	for (unsigned i = 0; i < e->out_num; i++) {
		size_t l = e->iov[i].iov_len;

		if (skip >= l) {
			skip -= l;
			continue;
		}
		if (n == max)
			return 0;
		dst[n].iov_base = (uint8_t *)e->iov[i].iov_base + skip;
		dst[n++].iov_len = l - skip;
		skip = 0;
	}
	return n;
}

/* Send s->tmsg[0, k): one system call per batch; a datagram the socket
 * refuses is dropped and the rest still go. Returns the frames sent and
 * adds their bytes to *@bytes. */
static unsigned send_batch(struct sock_state *s, unsigned k, uint64_t *bytes)
{
	unsigned sent = 0, at = 0;

	while (at < k) {
		int n = sendmmsg(s->fd, s->tmsg + at, k - at, MSG_DONTWAIT);

		if (n <= 0) {
			at++; /* s->tmsg[at] refused (EAGAIN, no peer...) */
			continue;
		}
		for (int j = 0; j < n; j++)
			*bytes += s->tlen[at++];
		sent += (unsigned)n;
	}
	return sent;
}

static void sock_tx(struct net_pair *p, struct vh_req **reqs, unsigned n)
{
	struct sock_state *s = p->be;
	uint64_t frames = 0, bytes = 0, dropped = 0;
	unsigned k = 0;

	for (unsigned i = 0; i < n; i++) {
		struct vh_req *r = reqs[i];
		struct virtio_net_hdr_v1 hdr;
		struct msghdr *m = &s->tmsg[k].msg_hdr;
		struct iovec *v = s->tiov[k];
		unsigned nv = 0, c;
		uint32_t len;

		if (net_tx_frame(p, r, &hdr, &len))
			goto next;
		if (!s->wire_hl && (hdr.gso_type || hdr.flags)) {
			dropped++; /* offloads were not offered */
			goto next;
		}
		if (s->wire_hl) {
			memcpy(&s->thdr[k], &hdr, sizeof(s->thdr[k]));
			v[nv].iov_base = &s->thdr[k];
			v[nv++].iov_len = s->wire_hl;
		}
		c = iov_from(&r->elem, r->elem.out_len - len, v + nv,
			     SOCK_IOV - nv);
		if (!c && len) {
			dropped++;
			goto next;
		}
		nv += c;
		memset(m, 0, sizeof(*m));
		m->msg_iov = v;
		m->msg_iovlen = nv;
		if (s->peerlen) {
			m->msg_name = &s->peer;
			m->msg_namelen = s->peerlen;
		}
		s->tlen[k++] = len;
	next:
		/* sendmmsg copies the data: the buffers may go back once
		 * the batch is out. */
		if (k && (k == SOCK_BATCH || i + 1 == n)) {
			unsigned sent = send_batch(s, k, &bytes);

			frames += sent;
			dropped += k - sent;
			k = 0;
		}
	}
	for (unsigned i = 0; i < n; i++)
		vh_req_complete(reqs[i], 0);
	net_stat_add(&p->st.tx_frames, frames);
	net_stat_add(&p->st.tx_bytes, bytes);
	if (dropped)
		net_stat_add(&p->st.tx_dropped, dropped);
}

/* ---- RX ----------------------------------------------------------------- */

static void sock_watch_cb(struct vh_queue *q, void *arg);

static void sock_pump(struct net_pair *p)
{
	struct sock_state *s = p->be;
	struct net_rx_run run;
	unsigned budget = p->dev->o.budget;
	bool waiting = false;

	if (!p->rxq)
		return;
	net_rx_begin(&run, p);
	while (budget) {
		if (s->ri == s->rn) {
			int n;

			for (unsigned i = 0; i < SOCK_BATCH; i++) {
				s->riov[i].iov_base = s->rbuf + i * RBUF_STRIDE;
				s->riov[i].iov_len = RBUF_STRIDE;
				memset(&s->rmsg[i], 0, sizeof(s->rmsg[i]));
				s->rmsg[i].msg_hdr.msg_iov = &s->riov[i];
				s->rmsg[i].msg_hdr.msg_iovlen = 1;
			}
			s->ri = s->rn = 0;
			n = recvmmsg(s->fd, s->rmsg, SOCK_BATCH, MSG_DONTWAIT,
				     NULL);
			if (n <= 0)
				break;
			s->rn = (unsigned)n;
		}
		while (s->ri < s->rn && budget) {
			const uint8_t *b = s->rbuf + s->ri * RBUF_STRIDE;
			size_t len = s->rmsg[s->ri].msg_len;
			struct virtio_net_hdr_v1 hdr;

			memset(&hdr, 0, sizeof(hdr));
			if (len < s->wire_hl) {
				s->ri++;
				continue;
			}
			memcpy(&hdr, b, s->wire_hl);
			if (net_rx_put(&run, &hdr, b + s->wire_hl,
				       len - s->wire_hl) == 0) {
				waiting = true;
				break;
			}
			s->ri++;
			budget--;
		}
		if (waiting)
			break;
	}
	net_rx_end(&run);
	if (waiting && s->watched) {
		vh_queue_unwatch_fd(p->rxq, s->fd);
		s->watched = false;
	} else if (!waiting && !s->watched) {
		if (vh_queue_watch_fd(p->rxq, s->fd, sock_watch_cb, p) == 0)
			s->watched = true;
	}
}

static void sock_watch_cb(struct vh_queue *q, void *arg)
{
	(void)q;
	sock_pump(arg);
}

static void sock_rx(struct net_pair *p)
{
	struct sock_state *s = p->be;

	if (s->watched && s->ri == s->rn)
		return;
	sock_pump(p);
}

static int sock_rx_started(struct net_pair *p)
{
	struct sock_state *s = p->be;

	s->ri = s->rn = 0;
	s->watched = vh_queue_watch_fd(p->rxq, s->fd, sock_watch_cb, p) == 0;
	return s->watched ? 0 : -EIO;
}

static void sock_rx_stopped(struct net_pair *p)
{
	struct sock_state *s = p->be;

	s->watched = false;
	if (s->rn > s->ri)
		net_stat_add(&p->st.rx_dropped, s->rn - s->ri);
	s->ri = s->rn = 0;
}

static int sock_emit(struct net_dev *d, const void *frame, size_t len)
{
	struct sock_state *s = d->be_state;
	struct virtio_net_hdr hdr = {0};
	struct iovec iov[2] = {{&hdr, s->wire_hl},
			       {(void *)(uintptr_t)frame, len}};
	struct msghdr m = {.msg_iov = s->wire_hl ? iov : iov + 1,
			   .msg_iovlen = s->wire_hl ? 2 : 1};

	if (s->peerlen) {
		m.msg_name = &s->peer;
		m.msg_namelen = s->peerlen;
	}
	return sendmsg(s->fd, &m, MSG_DONTWAIT) < 0 ? -errno : 0;
}

const struct net_backend net_be_dgram = {
    .name = "dgram",
    .open = dgram_open,
    .close = sock_close,
    .rx_started = sock_rx_started,
    .rx_stopped = sock_rx_stopped,
    .tx = sock_tx,
    .rx = sock_rx,
    .emit = sock_emit,
};

const struct net_backend net_be_packet = {
    .name = "packet",
    .open = packet_open,
    .close = sock_close,
    .rx_started = sock_rx_started,
    .rx_stopped = sock_rx_stopped,
    .tx = sock_tx,
    .rx = sock_rx,
    .emit = sock_emit,
};
