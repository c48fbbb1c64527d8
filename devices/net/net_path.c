/* SPDX-License-Identifier: MIT */
/*
 * The data path every back-end shares: reading TX requests (the virtio-net
 * header, virtio 1.2 §5.1.6.2) and filling RX buffers (§5.1.6.3 / 5.1.6.4:
 * one buffer per frame, or several with VIRTIO_NET_F_MRG_RXBUF and
 * num_buffers set), with the offload checks a device owes a driver that did
 * not accept them. Nothing here allocates or makes a system call.
 */
#include <errno.h>
#include <string.h>

#include "net.h"

#define MRG_MAX_BUFS 256u /* most RX buffers one frame may take */

static unsigned hdrlen_of(uint64_t f)
{
	/* §5.1.6: the 12-byte header with VERSION_1 or MRG_RXBUF. */
	if (f & (NET_F(VIRTIO_NET_F_MRG_RXBUF) |
		 vh_virtio_feature_mask(VH_VIRTIO_F_VERSION_1)))
		return NET_HDR_LEN;
	return NET_HDR_LEN_LEGACY;
}

/* ---- iovec copies ------------------------------------------------------- */

size_t net_iov_read(const struct vh_virtq_elem *e, size_t off, void *dst,
		    size_t n)
{
	uint8_t *d = dst;
	size_t done = 0;

	for (unsigned i = 0; i < e->out_num && done < n; i++) {
		size_t l = e->iov[i].iov_len;

		if (off >= l) {
			off -= l;
			continue;
		}
		l -= off;
		if (l > n - done)
			l = n - done;
		memcpy(d + done, (const uint8_t *)e->iov[i].iov_base + off, l);
		done += l;
		off = 0;
	}
	return done;
}

void net_iov_write(const struct vh_virtq_elem *e, size_t off, const void *src,
		   size_t n)
{
	const uint8_t *s = src;

	for (unsigned i = e->out_num; i < e->out_num + e->in_num && n; i++) {
		size_t l = e->iov[i].iov_len;

		if (off >= l) {
			off -= l;
			continue;
		}
		l -= off;
		if (l > n)
			l = n;
		memcpy((uint8_t *)e->iov[i].iov_base + off, s, l);
		s += l;
		n -= l;
		off = 0;
	}
}

/* Write bytes [from, from + n) of the stream "header, then data" at offset
 * @off of @e's writable part. */
static void write_stream(const struct vh_virtq_elem *e, size_t off,
			 const uint8_t *hdr, unsigned hl, const uint8_t *data,
			 size_t from, size_t n)
{
	if (from < hl) {
		size_t h = hl - from < n ? hl - from : n;

		net_iov_write(e, off, hdr + from, h);
		off += h;
		from += h;
		n -= h;
	}
	if (n)
		net_iov_write(e, off, data + (from - hl), n);
}

/* ---- TX ----------------------------------------------------------------- */

int net_tx_frame(struct net_pair *p, const struct vh_req *r,
		 struct virtio_net_hdr_v1 *hdr, uint32_t *len)
{
	unsigned hl = hdrlen_of(vh_queue_features(r->queue));
	const struct vh_virtq_elem *e = &r->elem;

	memset(hdr, 0, sizeof(*hdr));
	/* §5.1.6.2: every TX buffer starts with the header. A chain without
	 * one (or a frame no back-end could take) is dropped, counted. */
	if (e->out_len < hl || e->out_len - hl > NET_FRAME_MAX) {
		net_stat_add(&p->st.tx_bad, 1);
		return -EINVAL;
	}
	if (e->iov[0].iov_len >= hl)
		memcpy(hdr, e->iov[0].iov_base, hl);
	else
		net_iov_read(e, 0, hdr, hl);
	hdr->num_buffers = 0;
	*len = e->out_len - hl;
	return 0;
}

/* ---- RX ----------------------------------------------------------------- */

void net_rx_begin(struct net_rx_run *run, struct net_pair *p)
{
	memset(run, 0, sizeof(*run));
	run->p = p;
	/* A disabled RX ring must not be given new packets (vhost-user.rst
	 * "Ring states"): frames wait, as for a ring without buffers. */
	if (p->rxq && vh_queue_enabled(p->rxq))
		run->q = p->rxq;
}

static struct vh_req *take(struct net_rx_run *run)
{
	struct vh_req *r;

	if (run->at < run->n)
		return run->held[run->at++];
	if (run->empty || !run->q)
		return NULL;
	if (vh_queue_pop(run->q, &r) != 1) {
		run->empty = true;
		return NULL;
	}
	return r;
}

/* Put back @r, the buffer take() just returned: it comes first again. */
static void unget(struct net_rx_run *run, struct vh_req *r)
{
	if (run->at > 0 && run->held[run->at - 1] == r) {
		run->at--;
		return;
	}
	/* Freshly popped: nothing else is held. */
	run->held[0] = r;
	run->at = 0;
	run->n = 1;
}

static void give_back(struct net_rx_run *run, struct vh_req *r)
{
	/* Nothing written: the driver counts a short packet and reuses the
	 * buffer (Linux: rx_length_errors; DPDK: rx errors). */
	vh_req_complete(r, 0);
	run->bad_bufs++;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint32_t csum_add(uint32_t sum, const uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)b[i] << 8 | b[i + 1];
	if (i < n)
		sum += (uint32_t)b[i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

/*
 * Make @h acceptable to a driver with features @f (§5.1.6.4.1: the device
 * MUST NOT set NEEDS_CSUM without GUEST_CSUM, nor a GSO type the driver did
 * not accept). A partial checksum is completed in software (into the
 * pair's scratch buffer: *@data moves there); an unaccepted GSO frame is
 * dropped (returns false).
 */
static bool rx_fixup(struct net_pair *p, uint64_t f,
		     struct virtio_net_hdr_v1 *h, const void **data, size_t len)
{
	if (h->gso_type != VIRTIO_NET_HDR_GSO_NONE) {
		uint64_t need;

		switch (h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN) {
		case VIRTIO_NET_HDR_GSO_TCPV4:
			need = NET_F(VIRTIO_NET_F_GUEST_TSO4);
			break;
		case VIRTIO_NET_HDR_GSO_TCPV6:
			need = NET_F(VIRTIO_NET_F_GUEST_TSO6);
			break;
		case VIRTIO_NET_HDR_GSO_UDP:
			need = NET_F(VIRTIO_NET_F_GUEST_UFO);
			break;
		default:
			return false;
		}
		if (h->gso_type & VIRTIO_NET_HDR_GSO_ECN)
			need |= NET_F(VIRTIO_NET_F_GUEST_ECN);
		if ((f & need) != need)
			return false;
	}
	if ((h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
	    !(f & NET_F(VIRTIO_NET_F_GUEST_CSUM))) {
		size_t start = h->csum_start, at = start + h->csum_offset;
		uint16_t c;

		if (h->gso_type != VIRTIO_NET_HDR_GSO_NONE || at + 2 > len ||
		    len > NET_FRAME_MAX)
			return false;
		if (*data != p->scratch)
			memcpy(p->scratch, *data, len);
		c = csum_fold(csum_add(0, p->scratch + start, len - start));
		if (c == 0 && p->scratch[12] == 0x08 && p->scratch[13] == 0 &&
		    p->scratch[23] == 17)
			c = 0xffff; /* UDP over IPv4: 0 means "no checksum" */
		p->scratch[at] = (uint8_t)(c >> 8);
		p->scratch[at + 1] = (uint8_t)c;
		*data = p->scratch;
		h->flags &= (uint8_t)~VIRTIO_NET_HDR_F_NEEDS_CSUM;
	}
	if (!(f & NET_F(VIRTIO_NET_F_GUEST_CSUM)))
		h->flags &= (uint8_t)~VIRTIO_NET_HDR_F_DATA_VALID;
	h->flags &= (uint8_t)~VIRTIO_NET_HDR_F_RSC_INFO;
	return true;
}

/*
 * The header at @b (@hl bytes) with num_buffers @nb, written in place: a
 * header built on the stack byte by byte and then copied would be read back
 * before its stores retire (a store-forwarding stall on every frame).
 *
 * Only when it differs from what the buffer holds: the driver reads the
 * header of every buffer it receives (num_buffers), so its cache line is
 * shared with the driver's CPU; storing the same bytes again would take the
 * line away from that CPU (an ownership request per frame) for nothing. A
 * recycled buffer usually holds the header of the last frame it carried,
 * which for plain frames is this one. The bytes in memory end up the same
 * either way.
 */
static inline void make_hdr(uint8_t want[NET_HDR_LEN],
			    const struct virtio_net_hdr_v1 *h, uint16_t nb)
{
	memcpy(want, h, NET_HDR_LEN_LEGACY);
	want[10] = (uint8_t)nb; /* little-endian (§5.1.6) */
	want[11] = (uint8_t)(nb >> 8);
}

static inline void put_hdr(uint8_t *b, const struct virtio_net_hdr_v1 *h,
			   unsigned hl, uint16_t nb)
{
	uint8_t want[NET_HDR_LEN];
	uint64_t lo, have_lo;
	uint32_t hi, have_hi;

	make_hdr(want, h, nb);
	if (hl != NET_HDR_LEN) {
		memcpy(b, want, hl);
		return;
	}
	memcpy(&lo, want, 8);
	memcpy(&hi, want + 8, 4);
	memcpy(&have_lo, b, 8);
	memcpy(&have_hi, b + 8, 4);
	if (lo != have_lo)
		memcpy(b, &lo, 8);
	if (hi != have_hi)
		memcpy(b + 8, &hi, 4);
}

/* The header and frame into @r from byte @from of that stream, @n bytes,
 * when they do not sit in one iovec. */
static void put_slow(struct vh_req *r, const struct virtio_net_hdr_v1 *h,
		     unsigned hl, uint16_t nb, const uint8_t *data, size_t from,
		     size_t n)
{
	uint8_t hb[NET_HDR_LEN];

	make_hdr(hb, h, nb);
	write_stream(&r->elem, 0, hb, hl, data, from, n);
}

/* Without MRG_RXBUF: the whole frame in one buffer (§5.1.6.3.1). */
static int put_single(struct net_rx_run *run, const struct virtio_net_hdr_v1 *h,
		      unsigned hl, const uint8_t *data, size_t len)
{
	size_t need = hl + len;
	const struct iovec *v;
	struct vh_req *r;

	for (;;) {
		r = take(run);
		if (!r)
			return 0;
		if (r->elem.in_len >= hl)
			break;
		give_back(run, r); /* not even room for the header */
	}
	if (r->elem.in_len < need) {
		/* Larger than the buffer: dropped; the buffer may suit the
		 * next frame of this run. */
		unget(run, r);
		run->dropped++;
		return -1;
	}
	v = &r->elem.iov[r->elem.out_num];
	if (v->iov_len >= need) {
		put_hdr(v->iov_base, h, hl, 1);
		memcpy((uint8_t *)v->iov_base + hl, data, len);
	} else {
		put_slow(r, h, hl, 1, data, 0, need);
	}
	vh_req_complete(r, (uint32_t)need);
	return 1;
}

/* With MRG_RXBUF: as many buffers as the frame needs, the count in
 * num_buffers of the first (§5.1.6.4). */
static int put_merged(struct net_rx_run *run, const struct virtio_net_hdr_v1 *h,
		      unsigned hl, const uint8_t *data, size_t len)
{
	struct vh_req *bufs[MRG_MAX_BUFS];
	uint32_t lens[MRG_MAX_BUFS];
	size_t need = hl + len, done = 0;
	unsigned nb = 0;
	uint16_t num;
	struct vh_req *r;

	/* The common case: one buffer, one iovec. */
	for (;;) {
		r = take(run);
		if (!r)
			return 0;
		if (r->elem.in_len >= hl)
			break;
		give_back(run, r);
	}
	if (r->elem.in_len >= need &&
	    r->elem.iov[r->elem.out_num].iov_len >= need) {
		uint8_t *b = r->elem.iov[r->elem.out_num].iov_base;

		put_hdr(b, h, hl, 1);
		memcpy(b + hl, data, len);
		vh_req_complete(r, (uint32_t)need);
		return 1;
	}
	unget(run, r);
	while (done < need && nb < MRG_MAX_BUFS) {
		size_t n;

		r = take(run);
		if (!r)
			break;
		/* §5.1.6.3.1: each buffer at least the header's size. */
		if (r->elem.in_len < hl) {
			give_back(run, r);
			continue;
		}
		n = r->elem.in_len < need - done ? r->elem.in_len : need - done;
		put_slow(r, h, hl, 1, data, done, n);
		bufs[nb] = r;
		lens[nb++] = (uint32_t)n;
		done += n;
	}
	if (done < need) {
		/* Not enough buffers for the whole frame: the ones taken go
		 * back unused and the frame is dropped (a buffer cannot be
		 * put back on the available ring; see docs/net.md). */
		for (unsigned i = 0; i < nb; i++)
			give_back(run, bufs[i]);
		if (nb == 0)
			return 0;
		run->dropped++;
		return -1;
	}
	num = (uint16_t)nb;
	net_iov_write(&bufs[0]->elem, 10, &num, 2);
	for (unsigned i = 0; i < nb; i++)
		vh_req_complete(bufs[i], lens[i]);
	return 1;
}

int net_rx_put(struct net_rx_run *run, const struct virtio_net_hdr_v1 *hdr,
	       const void *data, size_t len)
{
	struct net_pair *p = run->p;
	struct virtio_net_hdr_v1 h;
	int rc;

	if (!run->q)
		return 0;
	/* §5.1.6.5.5: no packets on receive queues beyond virtqueue_pairs;
	 * §5.1.6.4.1: nothing the driver did not accept. */
	if (!net_pair_active(p) || len > NET_FRAME_MAX)
		goto drop;
	if (hdr->flags || hdr->gso_type) {
		h = *hdr;
		if (!rx_fixup(p, p->features, &h, &data, len))
			goto drop;
		hdr = &h;
	}
	if (p->mrg)
		rc = put_merged(run, hdr, p->hdrlen, data, len);
	else
		rc = put_single(run, hdr, p->hdrlen, data, len);
	if (rc == 1) {
		run->frames++;
		run->bytes += len;
	}
	return rc;
drop:
	run->dropped++;
	return -1;
}

void net_rx_end(struct net_rx_run *run)
{
	struct net_stats *st = &run->p->st;

	while (run->at < run->n)
		give_back(run, run->held[run->at++]);
	if (run->frames) {
		net_stat_add(&st->rx_frames, run->frames);
		net_stat_add(&st->rx_bytes, run->bytes);
	}
	if (run->dropped)
		net_stat_add(&st->rx_dropped, run->dropped);
	if (run->bad_bufs)
		net_stat_add(&st->rx_bad_bufs, run->bad_bufs);
}

/* @n bytes from @src to @dst; small frames without a call (and so without
 * the library's size dispatch). */
static inline void copy_frame(uint8_t *dst, const uint8_t *src, size_t n)
{
	if (n >= 16 && n <= 128) {
		size_t i;

		for (i = 0; i + 16 < n; i += 16)
			memcpy(dst + i, src + i, 16);
		/* The last 16 bytes, overlapping the chunk before. */
		memcpy(dst + n - 16, src + n - 16, 16);
	} else {
		memcpy(dst, src, n);
	}
}

/*
 * Deliver the frame into held[at..n) one buffer each, at most @max, as long
 * as each buffer takes header and frame in its first writable iovec
 * (num_buffers 1 in either header). Returns how many; the caller's
 * net_rx_put handles the buffer this stops at. For a plain header (no offload
 * to check) on a pair that may receive: the checks net_rx_put makes per frame,
 * made once.
 */
static unsigned put_fast(struct net_rx_run *run,
			 const struct virtio_net_hdr_v1 *h, const uint8_t *data,
			 size_t len, unsigned max)
{
	unsigned hl = run->p->hdrlen, done = 0;
	size_t need = hl + len;

	while (run->at < run->n && done < max) {
		struct vh_req *r = run->held[run->at];
		const struct iovec *v = &r->elem.iov[r->elem.out_num];
		uint8_t *b;

		if (r->elem.in_len < need || v->iov_len < need)
			break;
		b = v->iov_base;
		put_hdr(b, h, hl, 1);
		copy_frame(b + hl, data, len);
		run->at++;
		vh_req_complete(r, (uint32_t)need);
		done++;
	}
	run->frames += done;
	run->bytes += (uint64_t)done * len;
	return done;
}

unsigned net_rx_fill(struct net_rx_run *run,
		     const struct virtio_net_hdr_v1 *hdr, const void *data,
		     size_t len, unsigned max)
{
	unsigned done = 0;
	/* Checked once per call instead of per frame: a pair switched off
	 * meanwhile takes at most this call's frames. */
	bool fast = run->q && !hdr->flags && !hdr->gso_type &&
		    len <= NET_FRAME_MAX && net_pair_active(run->p);

	while (done < max && run->q && !run->empty) {
		unsigned want =
		    max - done < NET_RX_AHEAD ? max - done : NET_RX_AHEAD;

		/* Pop ahead only with nothing held: held buffers keep
		 * their order. */
		if (run->at == run->n) {
			run->at = run->n = 0;
			while (run->n < want &&
			       vh_queue_pop(run->q, &run->held[run->n]) == 1) {
				const struct vh_virtq_elem *e =
				    &run->held[run->n++]->elem;

				/* Both lines the header and a small frame
				 * touch (a driver often puts the header just
				 * before a line boundary); the rest of the
				 * batch's pops hide the latency. The header
				 * line is only read unless it changes
				 * (put_hdr): fetched shared, not owned. */
				if (e->in_num) {
					const uint8_t *b =
					    e->iov[e->out_num].iov_base;

					__builtin_prefetch(b, 0, 3);
					__builtin_prefetch(b + 64, 1, 3);
				}
			}
			if (run->n < want)
				run->empty = true;
		}
		if (fast) {
			done += put_fast(run, hdr, data, len, max - done);
			if (done == max)
				break;
		}
		while (run->at < run->n) {
			if (net_rx_put(run, hdr, data, len) != 1)
				return done;
			done++;
			if (fast)
				break; /* back to the fast loop */
		}
	}
	return done;
}

/* ---- frame templates ---------------------------------------------------- */

void net_make_udp_frame(uint8_t *b, size_t size, const uint8_t dst[6],
			const uint8_t src[6])
{
	size_t ip_len = size - 14, udp_len = size - 34;
	uint16_t c;

	memset(b, 0, size);
	memcpy(b, dst, 6);
	memcpy(b + 6, src, 6);
	b[12] = 0x08; /* IPv4 */
	b[14] = 0x45;
	b[16] = (uint8_t)(ip_len >> 8);
	b[17] = (uint8_t)ip_len;
	b[22] = 64;			       /* TTL */
	b[23] = 17;			       /* UDP */
	memcpy(b + 26, "\x0a\x00\x00\x02", 4); /* 10.0.0.2 */
	memcpy(b + 30, "\x0a\x00\x00\x01", 4); /* 10.0.0.1 */
	c = csum_fold(csum_add(0, b + 14, 20));
	b[24] = (uint8_t)(c >> 8);
	b[25] = (uint8_t)c;
	b[34] = 0x04; /* ports 1024 -> 1024 */
	b[36] = 0x04;
	b[38] = (uint8_t)(udp_len >> 8);
	b[39] = (uint8_t)udp_len;
	/* UDP checksum 0: none (RFC 768). */
}

size_t net_make_rarp(uint8_t *b, const uint8_t mac[6])
{
	/* RFC 903 reverse request for our own address, broadcast: the frame
	 * switches learn the MAC's new port from. */
	memset(b, 0, 60);
	memset(b, 0xff, 6);
	memcpy(b + 6, mac, 6);
	b[12] = 0x80; /* ETH_P_RARP 0x8035 */
	b[13] = 0x35;
	b[15] = 1;    /* hardware: Ethernet */
	b[16] = 0x08; /* protocol: IPv4 */
	b[18] = 6;
	b[19] = 4;
	b[21] = 3; /* RARP request */
	memcpy(b + 22, mac, 6);
	memcpy(b + 32, mac, 6);
	return 60;
}
