/* SPDX-License-Identifier: MIT */
/* tests/net harness (nh.h). Failures abort the test through cmocka. */
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "nh.h"
#include "vhost/log.h"

int nh_log_errors;

static void quiet(void *opaque, enum vh_log_level level, const char *msg)
{
	(void)opaque;
	if (level == VH_LOG_ERR)
		__atomic_fetch_add(&nh_log_errors, 1, __ATOMIC_RELAXED);
	if (getenv("NH_VERBOSE"))
		fprintf(stderr, "log: %s\n", msg);
}

void nh_quiet_logs(void)
{
	vh_log_set_handler(quiet, NULL);
	if (getenv("NH_VERBOSE") && atoi(getenv("NH_VERBOSE")) > 1)
		vh_log_set_level(VH_LOG_DEBUG);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void *srv_main(void *arg)
{
	struct nh *h = arg;

	h->rc = vh_server_run(h->srv);
	return NULL;
}

void nh_serve(struct nh *h, const struct net_opts *o, unsigned poll_us)
{
	struct vh_server_config c;
	struct vh_device d;

	memset(h, 0, sizeof(*h));
	h->memfd = -1;
	for (unsigned q = 0; q < NH_MAXQ; q++)
		h->r[q].kick = h->r[q].call = h->r[q].err = -1;
	assert_int_equal(net_dev_new(&h->dev, o), 0);
	snprintf(h->dir, sizeof(h->dir), "/tmp/vh-net-XXXXXX");
	assert_non_null(mkdtemp(h->dir));
	snprintf(h->path, sizeof(h->path), "%s/sock", h->dir);
	memset(&c, 0, sizeof(c));
	net_dev_describe(h->dev, &d);
	net_dev_server_config(h->dev, &c);
	c.mode = VH_SERVER_LISTEN;
	c.path = h->path;
	c.poll_us = poll_us;
	assert_int_equal(vh_server_new(&h->srv, &d, &c), 0);
	h->dev->srv = h->srv;
	assert_int_equal(pthread_create(&h->thr, NULL, srv_main, h), 0);
}

void nh_connect(struct nh *h, uint64_t pf, uint64_t mask)
{
	uint64_t pfbit =
	    vh_virtio_feature_mask(VH_VHOST_USER_F_PROTOCOL_FEATURES);
	struct vhost_user_mem_region r = {
	    .guest_phys_addr = NH_GPA,
	    .memory_size = NH_MEM_LEN,
	    .mmap_offset = 0,
	};

	h->memfd = memfd_create("nh-guest", MFD_CLOEXEC);
	assert_true(h->memfd >= 0);
	assert_int_equal(ftruncate(h->memfd, NH_MEM_LEN), 0);
	h->mem = mmap(NULL, NH_MEM_LEN, PROT_READ | PROT_WRITE, MAP_SHARED,
		      h->memfd, 0);
	assert_true(h->mem != MAP_FAILED);
	r.userspace_addr = (uintptr_t)h->mem;
	assert_int_equal(
	    vh_frontend_connect(&h->fe, h->path, NH_TIMEOUT_MS, NULL), 0);
	assert_int_equal(vh_frontend_negotiate(h->fe, pf, &h->offered, &h->pf),
			 0);
	if (vh_protocol_has(h->pf, VHOST_USER_PROTOCOL_F_REPLY_ACK))
		vh_frontend_set_ack_always(h->fe, true);
	assert_int_equal(vh_frontend_set_owner(h->fe), 0);
	h->features = h->offered & (mask | pfbit);
	assert_int_equal(vh_frontend_set_features(h->fe, h->features), 0);
	h->packed = vh_virtio_has(h->features, VH_VIRTIO_F_RING_PACKED);
	h->event_idx = vh_virtio_has(h->features, VH_VIRTIO_RING_F_EVENT_IDX);
	h->indirect =
	    vh_virtio_has(h->features, VH_VIRTIO_RING_F_INDIRECT_DESC);
	assert_int_equal(vh_frontend_set_mem_table(h->fe, &r, 1, &h->memfd), 0);
}

void nh_start(struct nh *h, const struct net_opts *o, uint64_t mask)
{
	nh_serve(h, o, 0);
	nh_connect(h, NH_PF, mask);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void nh_disconnect(struct nh *h)
{
	vh_frontend_free(h->fe);
	h->fe = NULL;
	for (unsigned q = 0; q < NH_MAXQ; q++) {
		if (h->r[q].drv)
			vh_drv_queue_free(h->r[q].drv);
		h->r[q].drv = NULL;
		close_fd(&h->r[q].kick);
		close_fd(&h->r[q].call);
		close_fd(&h->r[q].err);
	}
	if (h->mem)
		munmap(h->mem, NH_MEM_LEN);
	h->mem = NULL;
	close_fd(&h->memfd);
}

void nh_stop(struct nh *h)
{
	nh_disconnect(h);
	vh_server_stop(h->srv);
	pthread_join(h->thr, NULL);
	assert_int_equal(h->rc, 0);
	vh_server_free(h->srv);
	net_dev_free(h->dev);
	rmdir(h->dir);
}

void nh_ring(struct nh *h, unsigned q, uint16_t size)
{
	struct nh_ring *r = &h->r[q];
	size_t base = (size_t)q * NH_RING_STRIDE;
	struct vh_drv_config c = {
	    .size = size,
	    .packed = h->packed,
	    .event_idx = h->event_idx,
	    .indirect = h->indirect,
	    .mem = h->mem,
	    .mem_gpa = NH_GPA,
	    .mem_len = NH_MEM_LEN,
	    .desc_off = base,
	    .driver_off = base + 0x1000,
	    .device_off = base + 0x2000,
	    .indirect_off = base + 0x4000,
	    .indirect_max = 4,
	};
	struct vhost_user_vring_addr a;
	uint32_t vbase = 0;

	assert_true(q < NH_MAXQ && size <= 256);
	assert_int_equal(vh_drv_queue_new(&c, &r->drv), 0);
	r->kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	r->call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	r->err = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	assert_true(r->kick >= 0 && r->call >= 0 && r->err >= 0);
	r->size = size;
	r->nfree = 0;
	for (unsigned s = NH_SLOTS; s-- > 0;)
		r->free_slots[r->nfree++] = (uint16_t)s;
	memset(&a, 0, sizeof(a));
	a.index = q;
	a.desc_user_addr = (uintptr_t)h->mem + base;
	a.avail_user_addr = (uintptr_t)h->mem + base + 0x1000;
	a.used_user_addr = (uintptr_t)h->mem + base + 0x2000;
	if (h->packed) {
		struct vh_packed_base b = {0, true, 0, true};

		vbase = vh_proto_encode_packed_base(&b);
	}
	assert_int_equal(vh_frontend_set_vring_num(h->fe, q, size), 0);
	assert_int_equal(vh_frontend_set_vring_base(h->fe, q, vbase), 0);
	assert_int_equal(vh_frontend_set_vring_addr(h->fe, &a), 0);
	assert_int_equal(vh_frontend_set_vring_kick(h->fe, q, r->kick), 0);
	assert_int_equal(vh_frontend_set_vring_call(h->fe, q, r->call), 0);
	assert_int_equal(vh_frontend_set_vring_err(h->fe, q, r->err), 0);
	assert_int_equal(vh_frontend_set_vring_enable(h->fe, q, true), 0);
}

uint64_t nh_slot_gpa(unsigned q, unsigned s)
{
	return NH_GPA + NH_DATA_OFF + ((uint64_t)q * NH_SLOTS + s) * NH_SLOT;
}

uint8_t *nh_slot(struct nh *h, unsigned q, unsigned s)
{
	return h->mem + (nh_slot_gpa(q, s) - NH_GPA);
}

static int take_slot(struct nh *h, unsigned q)
{
	struct nh_ring *r = &h->r[q];

	return r->nfree ? r->free_slots[--r->nfree] : -1;
}

static int add(struct nh *h, unsigned q, int s, const struct vh_drv_buf *out,
	       unsigned nout, const struct vh_drv_buf *in, unsigned nin)
{
	struct nh_ring *r = &h->r[q];

	if (vh_drv_add(r->drv, out, nout, in, nin,
		       h->use_indirect && h->indirect,
		       (void *)(uintptr_t)(s + 1))) {
		r->free_slots[r->nfree++] = (uint16_t)s;
		return -1;
	}
	return s;
}

int nh_rx_post(struct nh *h, unsigned q, uint32_t len, unsigned nseg)
{
	struct vh_drv_buf in[8];
	int s = take_slot(h, q);

	assert_true(nseg >= 1 && nseg <= 8 && len <= NH_SLOT && len >= nseg);
	if (s < 0)
		return -1;
	memset(nh_slot(h, q, (unsigned)s), 0xee, len);
	for (unsigned i = 0; i < nseg; i++) {
		uint32_t piece = len / nseg;

		in[i].gpa = nh_slot_gpa(q, (unsigned)s) + i * piece;
		in[i].len = i + 1 < nseg ? piece : len - i * piece;
	}
	return add(h, q, s, NULL, 0, in, nseg);
}

int nh_tx_post(struct nh *h, unsigned q, const void *hdr, uint32_t hlen,
	       const void *frame, uint32_t flen, bool split)
{
	struct vh_drv_buf out[2];
	int s = take_slot(h, q);
	uint8_t *b;

	assert_true(hlen + flen <= NH_SLOT);
	if (s < 0)
		return -1;
	b = nh_slot(h, q, (unsigned)s);
	if (hlen) /* a chain without a header passes hdr == NULL */
		memcpy(b, hdr, hlen);
	if (flen)
		memcpy(b + hlen, frame, flen);
	out[0].gpa = nh_slot_gpa(q, (unsigned)s);
	if (split && hlen && flen) {
		out[0].len = hlen;
		out[1].gpa = out[0].gpa + hlen;
		out[1].len = flen;
		return add(h, q, s, out, 2, NULL, 0);
	}
	out[0].len = hlen + flen;
	return add(h, q, s, out, 1, NULL, 0);
}

int nh_ctrl_post(struct nh *h, unsigned q, const void *cmd, uint32_t clen,
		 uint32_t alen)
{
	struct vh_drv_buf out, in;
	int s = take_slot(h, q);
	uint8_t *b;

	if (s < 0)
		return -1;
	b = nh_slot(h, q, (unsigned)s);
	memcpy(b, cmd, clen);
	memset(b + 0x1000, 0xee, alen);
	out.gpa = nh_slot_gpa(q, (unsigned)s);
	out.len = clen;
	in.gpa = out.gpa + 0x1000;
	in.len = alen;
	return add(h, q, s, &out, clen ? 1 : 0, &in, alen ? 1 : 0);
}

void nh_kick(struct nh *h, unsigned q)
{
	uint64_t one = 1;

	if (vh_drv_kick_prepare(h->r[q].drv))
		assert_int_equal(write(h->r[q].kick, &one, 8), 8);
}

int nh_reap(struct nh *h, unsigned q, int ms, unsigned *slot, uint32_t *len)
{
	struct nh_ring *r = &h->r[q];
	long end = now_ms() + ms;

	for (;;) {
		void *tok;
		int rc = vh_drv_get_used(r->drv, &tok, len);
		long left;

		assert_true(rc >= 0);
		if (rc == 1) {
			*slot = (unsigned)((uintptr_t)tok - 1);
			r->free_slots[r->nfree++] = (uint16_t)*slot;
			return 1;
		}
		left = end - now_ms();
		if (left <= 0)
			return 0;
		{
			struct pollfd p = {.fd = r->call, .events = POLLIN};
			uint64_t v;

			if (poll(&p, 1, left < 10 ? (int)left : 10) > 0)
				(void)!read(r->call, &v, 8);
		}
	}
}

void nh_totals(struct nh *h, struct net_totals *t)
{
	net_dev_totals(h->dev, t);
}

bool nh_wait(struct nh *h, bool (*cond)(struct nh *h), int ms)
{
	long end = now_ms() + ms;

	while (!cond(h)) {
		struct timespec ts = {0, 1000000};

		if (now_ms() > end)
			return cond(h);
		nanosleep(&ts, NULL);
	}
	return true;
}

void nh_frame(uint8_t *b, uint32_t len, unsigned seed)
{
	static const uint8_t dst[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
	static const uint8_t src[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x07};

	for (uint32_t i = 0; i < len; i++)
		b[i] = (uint8_t)(seed * 31u + i * 7u + 3u);
	if (len >= 14) {
		memcpy(b, dst, 6);
		memcpy(b + 6, src, 6);
		b[12] = 0x88; /* local experimental ethertype 0x88b5 */
		b[13] = 0xb5;
	}
}

/* ---- --loop helpers ----------------------------------------------------- */

const struct virtio_net_hdr_v1 nh_zero_hdr;

struct nh *nh_loop(uint64_t mask)
{
	static struct nh h;
	struct net_opts o;

	net_opts_init(&o);
	o.mode = NET_MODE_LOOP;
	nh_start(&h, &o, mask);
	nh_ring(&h, 0, 64);
	nh_ring(&h, 1, 64);
	return &h;
}

unsigned nh_hdrlen(const struct nh *h)
{
	return vh_virtio_has(h->features, VH_VIRTIO_F_VERSION_1) ||
		       (h->features & NET_F(VIRTIO_NET_F_MRG_RXBUF))
		   ? 12
		   : 10;
}

void nh_send(struct nh *h, const struct virtio_net_hdr_v1 *hdr,
	     const uint8_t *f, uint32_t len, bool split)
{
	assert_true(nh_tx_post(h, 1, hdr, nh_hdrlen(h), f, len, split) >= 0);
	nh_kick(h, 1);
}

void nh_reap_tx(struct nh *h, unsigned n)
{
	unsigned s;
	uint32_t len;

	for (unsigned i = 0; i < n; i++) {
		if (nh_reap(h, 1, NH_TIMEOUT_MS, &s, &len) != 1) {
			struct net_totals t;
			char b[512];

			nh_totals(h, &t);
			net_totals_format(&t, b, sizeof(b));
			fail_msg("no TX completion: %s", b);
		}
		assert_int_equal(len, 0); /* TX buffers are only read */
	}
}

unsigned nh_reap_rx(struct nh *h, uint32_t *len)
{
	unsigned s;

	assert_int_equal(nh_reap(h, 0, NH_TIMEOUT_MS, &s, len), 1);
	return s;
}
