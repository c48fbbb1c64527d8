/* SPDX-License-Identifier: MIT */
/*
 * Back-ends without I/O, for tests and benchmarks. None makes a system call
 * or allocates per frame.
 *
 *  --loop   TX frames go into a per-pair FIFO (copied, header included) and
 *           come back on the same pair's RX ring. A full FIFO drops (as a
 *           NIC whose peer stopped taking frames does).
 *  --sink   TX frames are read (copied into a reused buffer, as a consumer
 *           that looks at them would), counted and dropped.
 *  --gen N  RX rings are kept full of N-byte UDP frames; TX as --sink.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"

/* ---- loop: a byte FIFO of records per pair ------------------------------ */

#define FIFO_BYTES (1u << 20)
#define FIFO_WRAP  UINT32_MAX /* "continue at the start" marker */

struct fifo_rec {
	uint32_t len; /* frame bytes, or FIFO_WRAP */
	struct virtio_net_hdr_v1 hdr;
	uint8_t data[];
};
_Static_assert(sizeof(struct fifo_rec) == 16, "fifo record header");

struct fifo {
	uint8_t *buf;
	size_t head, tail, used; /* worker-owned */
};

static size_t rec_size(uint32_t len)
{
	return (sizeof(struct fifo_rec) + len + 7) & ~(size_t)7;
}

/* Room for a record of @len bytes, or NULL. Records never wrap: the end
 * of the buffer is skipped with a marker. */
static struct fifo_rec *fifo_reserve(struct fifo *f, uint32_t len)
{
	size_t s = rec_size(len), waste = 0;

	if (f->tail + s > FIFO_BYTES)
		waste = FIFO_BYTES - f->tail;
	if (s + waste > FIFO_BYTES - f->used)
		return NULL;
	if (waste) {
		struct fifo_rec *m = (struct fifo_rec *)(f->buf + f->tail);

		m->len = FIFO_WRAP;
		f->used += waste;
		f->tail = 0;
	}
	return (struct fifo_rec *)(f->buf + f->tail);
}

static void fifo_commit(struct fifo *f, uint32_t len)
{
	size_t s = rec_size(len);

	f->tail = (f->tail + s) % FIFO_BYTES;
	f->used += s;
}

static struct fifo_rec *fifo_peek(struct fifo *f)
{
	struct fifo_rec *r;

	if (!f->used)
		return NULL;
	r = (struct fifo_rec *)(f->buf + f->head);
	if (r->len == FIFO_WRAP) {
		f->used -= FIFO_BYTES - f->head;
		f->head = 0;
		r = (struct fifo_rec *)f->buf;
	}
	return r;
}

static void fifo_pop(struct fifo *f, struct fifo_rec *r)
{
	size_t s = rec_size(r->len);

	f->head = (f->head + s) % FIFO_BYTES;
	f->used -= s;
}

static int loop_open(struct net_dev *d)
{
	struct fifo *fs = calloc(d->o.pairs, sizeof(*fs));

	if (!fs)
		return -ENOMEM;
	d->be_state = fs;
	for (unsigned i = 0; i < d->o.pairs; i++) {
		/* 8-byte records in an 8-aligned buffer. */
		fs[i].buf = aligned_alloc(64, FIFO_BYTES);
		if (!fs[i].buf)
			return -ENOMEM; /* close frees what exists */
		d->pairs[i].be = &fs[i];
	}
	/* Frames come back as they went: every offload the driver can give
	 * is one it may take (rx_fixup covers a driver that accepts fewer). */
	d->be_features = NET_F_HOST_OFFLOADS | NET_F_GUEST_OFFLOADS;
	return 0;
}

static void loop_close(struct net_dev *d)
{
	struct fifo *fs = d->be_state;

	if (!fs)
		return;
	for (unsigned i = 0; i < d->o.pairs; i++)
		free(fs[i].buf);
	free(fs);
	d->be_state = NULL;
}

static void loop_reset(struct net_dev *d)
{
	struct fifo *fs = d->be_state;

	for (unsigned i = 0; i < d->o.pairs; i++)
		fs[i].head = fs[i].tail = fs[i].used = 0;
}

static void loop_tx(struct net_pair *p, struct vh_req **reqs, unsigned n)
{
	struct fifo *f = p->be;
	uint64_t frames = 0, bytes = 0, dropped = 0;

	for (unsigned i = 0; i < n; i++) {
		struct vh_req *r = reqs[i];
		struct virtio_net_hdr_v1 hdr;
		struct fifo_rec *rec;
		uint32_t len;

		if (net_tx_frame(p, r, &hdr, &len) == 0) {
			rec = fifo_reserve(f, len);
			if (rec) {
				rec->len = len;
				rec->hdr = hdr;
				net_iov_read(&r->elem, r->elem.out_len - len,
					     rec->data, len);
				fifo_commit(f, len);
				frames++;
				bytes += len;
			} else {
				dropped++;
			}
		}
		vh_req_complete(r, 0);
	}
	net_stat_add(&p->st.tx_frames, frames);
	net_stat_add(&p->st.tx_bytes, bytes);
	if (dropped)
		net_stat_add(&p->st.tx_dropped, dropped);
	/* Same worker: the RX ring runs right after this handler. */
	if (f->used && p->rxq)
		vh_queue_wake(p->rxq);
}

/* A frame the control thread left (SEND_RARP). Returns false if it is
 * still waiting for a buffer. */
static bool take_inject(struct net_rx_run *run)
{
	struct net_pair *p = run->p;
	struct virtio_net_hdr_v1 hdr;
	uint8_t frame[sizeof(p->inject)];
	size_t len = 0;
	int rc;

	pthread_mutex_lock(&p->lock);
	if (p->inject_ready) {
		len = p->inject_len;
		memcpy(frame, p->inject, len);
	}
	pthread_mutex_unlock(&p->lock);
	if (!len)
		return true;
	memset(&hdr, 0, sizeof(hdr));
	rc = net_rx_put(run, &hdr, frame, len);
	if (rc == 0)
		return false;
	pthread_mutex_lock(&p->lock);
	p->inject_ready = false;
	pthread_mutex_unlock(&p->lock);
	return true;
}

static void loop_rx(struct net_pair *p)
{
	struct fifo *f = p->be;
	struct net_rx_run run;
	struct fifo_rec *rec;
	unsigned budget = p->dev->o.budget;

	net_rx_begin(&run, p);
	if (take_inject(&run)) {
		while (budget-- && (rec = fifo_peek(f))) {
			if (net_rx_put(&run, &rec->hdr, rec->data, rec->len) ==
			    0)
				break; /* no buffer: the frame waits */
			fifo_pop(f, rec);
		}
	}
	net_rx_end(&run);
	/* Budget spent with frames left: come back soon. */
	if (f->used && !run.empty)
		vh_queue_wake(p->rxq);
}

/* Put @frame on the network: here, pair 0's RX ring (control thread). */
static int inject_emit(struct net_dev *d, const void *frame, size_t len)
{
	struct net_pair *p = &d->pairs[0];

	if (len > sizeof(p->inject))
		return -EMSGSIZE;
	pthread_mutex_lock(&p->lock);
	memcpy(p->inject, frame, len);
	p->inject_len = len;
	p->inject_ready = true;
	if (p->rxq)
		vh_queue_wake(p->rxq);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

const struct net_backend net_be_loop = {
    .name = "loop",
    .open = loop_open,
    .close = loop_close,
    .reset = loop_reset,
    .tx = loop_tx,
    .rx = loop_rx,
    .emit = inject_emit,
};

/* ---- sink --------------------------------------------------------------- */

static int sink_open(struct net_dev *d)
{
	/* It reads whatever comes: every offload it may be given. */
	d->be_features = NET_F_HOST_OFFLOADS | NET_F_GUEST_OFFLOADS;
	return 0;
}

static void sink_tx(struct net_pair *p, struct vh_req **reqs, unsigned n)
{
	uint64_t frames = 0, bytes = 0;

	for (unsigned i = 0; i < n; i++) {
		struct vh_req *r = reqs[i];
		struct virtio_net_hdr_v1 hdr;
		uint32_t len;

		if (net_tx_frame(p, r, &hdr, &len) == 0) {
			/* Read the frame as a consumer would: the copy is
			 * what makes a comparison with a copying peer fair. */
			net_iov_read(&r->elem, r->elem.out_len - len,
				     p->scratch, len);
			frames++;
			bytes += len;
		}
		vh_req_complete(r, 0);
	}
	net_stat_add(&p->st.tx_frames, frames);
	net_stat_add(&p->st.tx_bytes, bytes);
}

static int count_emit(struct net_dev *d, const void *frame, size_t len)
{
	/* The frame goes nowhere; the announcement is counted. */
	(void)d;
	(void)frame;
	(void)len;
	return 0;
}

const struct net_backend net_be_sink = {
    .name = "sink",
    .open = sink_open,
    .tx = sink_tx,
    .emit = count_emit,
};

/* ---- gen ---------------------------------------------------------------- */

static int gen_open(struct net_dev *d)
{
	static const uint8_t src[6] = {0x02, 0, 0, 0, 0, 0x02};
	uint8_t *t = malloc(d->o.gen_size);

	if (!t)
		return -ENOMEM;
	/* To the device's MAC (the driver's own address), so that a driver
	 * that filters still takes them. */
	net_make_udp_frame(t, d->o.gen_size, d->o.mac, src);
	d->be_state = t;
	d->be_features = NET_F_HOST_OFFLOADS | NET_F_GUEST_OFFLOADS;
	return 0;
}

static void gen_close(struct net_dev *d)
{
	free(d->be_state);
	d->be_state = NULL;
}

static void gen_rx(struct net_pair *p)
{
	struct net_dev *d = p->dev;
	struct virtio_net_hdr_v1 hdr;
	struct net_rx_run run;
	unsigned budget = d->o.budget;

	if (!net_pair_active(p))
		return;
	memset(&hdr, 0, sizeof(hdr));
	net_rx_begin(&run, p);
	net_rx_fill(&run, &hdr, d->be_state, d->o.gen_size, budget);
	net_rx_end(&run);
}

const struct net_backend net_be_gen = {
    .name = "gen",
    .open = gen_open,
    .close = gen_close,
    .tx = sink_tx,
    .rx = gen_rx,
    .emit = count_emit,
};
