/* SPDX-License-Identifier: MIT */
/*
 * vhost-user-bench: guest memory (one memfd, described as one or two
 * regions), the rings, and the orderly stop at the end of a session.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "session_int.h"
#include "vhost/virtq.h"

static uint16_t ring_size(const struct bench_session *s)
{
	const struct bench_opts *o = s->o;
	uint64_t need =
	    o->indirect ? o->iodepth : (uint64_t)o->iodepth * (s->nseg + 2);
	uint32_t size = 256; /* QEMU's default virtio-blk queue-size */

	if (o->qsize)
		return (uint16_t)o->qsize;
	while (size < need)
		size <<= 1;
	return (uint16_t)size;
}

/* ---- guest memory -------------------------------------------------------- */

struct qlayout {
	size_t desc, driver, device, indirect, hdrs, end;
};

static size_t layout_queue(const struct bench_session *s, uint16_t size,
			   size_t at, struct qlayout *l)
{
	size_t dl, drl, dvl;

	vh_virtq_ring_sizes(size, s->packed, &dl, &drl, &dvl);
	/* Each part on its own pages: what the driver writes and what the
	 * device writes never share a cache line. */
	l->desc = at;
	l->driver = ALIGN_UP(l->desc + dl, 4096);
	l->device = ALIGN_UP(l->driver + drl, 4096);
	l->indirect = ALIGN_UP(l->device + dvl, 4096);
	l->hdrs = l->indirect;
	if (s->indirect) /* one table per descriptor (split) / ID (packed) */
		l->hdrs = ALIGN_UP(
		    l->indirect + (size_t)size * (s->nseg + 2) * 16, 4096);
	l->end = ALIGN_UP(l->hdrs + (size_t)s->o->iodepth * REQ_SLOT_LEN, 4096);
	return l->end;
}

uint64_t session_gpa(const struct bench_session *s, const void *p)
{
	size_t off = (size_t)((const uint8_t *)p - s->mem);

	if (s->nregions == 1 || off < s->data_off)
		return BENCH_GPA_CTL + off;
	return BENCH_GPA_DATA + (off - s->data_off);
}

static void fill_random(uint8_t *p, size_t len, uint64_t seed)
{
	uint64_t st = seed ^ UINT64_C(0x6a09e667f3bcc909), v;

	for (size_t i = 0; i + 8 <= len; i += 8) {
		v = rng_next(&st);
		memcpy(p + i, &v, 8);
	}
}

static int share_memory(struct bench_session *s, char *err, size_t n)
{
	const struct bench_opts *o = s->o;
	bool add = o->mem == MEM_ADD ||
		   (o->mem == MEM_AUTO &&
		    vh_protocol_has(s->dev.pf,
				    VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS));
	int r = 0;

	if (add && !vh_protocol_has(s->dev.pf,
				    VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS))
		return session_fail(
		    err, n, EXIT_BENCH_USAGE,
		    "--mem-table add: the back-end does not offer "
		    "CONFIGURE_MEM_SLOTS");
	if (add) {
		for (unsigned i = 0; i < s->nregions && r == 0; i++)
			r = vh_frontend_add_mem_reg(s->fe, &s->regions[i],
						    s->memfd);
		if (r < 0)
			return session_req_fail(s, err, n, "ADD_MEM_REG", r);
		return 0;
	}
	{
		int fds[2] = {s->memfd, s->memfd};

		r = vh_frontend_set_mem_table(s->fe, s->regions, s->nregions,
					      fds);
	}
	if (r < 0)
		return session_req_fail(s, err, n, "SET_MEM_TABLE", r);
	return 0;
}

static int make_memory(struct bench_session *s, struct qlayout *ql, char *err,
		       size_t n)
{
	const struct bench_opts *o = s->o;
	size_t ctl = 0, data, stride = ALIGN_UP((size_t)o->bs, 4096);

	for (unsigned i = 0; i < o->queues; i++)
		ctl = layout_queue(s, s->q[i].size, ctl, &ql[i]);
	ctl = ALIGN_UP(ctl, (size_t)2 << 20);
	data = stride * o->iodepth * o->queues;
	s->data_off = ctl;
	s->mem_len = ctl + data;
	s->memfd = memfd_create("vhost-user-bench", MFD_CLOEXEC);
	if (s->memfd < 0)
		return session_fail(err, n, EXIT_BENCH_FAIL, "memfd_create: %s",
				    strerror(errno));
	if (ftruncate(s->memfd, (off_t)s->mem_len) < 0)
		return session_fail(err, n, EXIT_BENCH_FAIL,
				    "guest memory of %zu bytes: %s", s->mem_len,
				    strerror(errno));
	s->mem = mmap(NULL, s->mem_len, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_POPULATE, s->memfd, 0);
	if (s->mem == MAP_FAILED) {
		s->mem = NULL;
		return session_fail(err, n, EXIT_BENCH_FAIL,
				    "guest memory of %zu bytes: %s", s->mem_len,
				    strerror(errno));
	}
	/* Written data is random, never zeroes a back-end could skip. */
	fill_random(s->mem + ctl, data, o->seed);

	s->nregions = o->regions;
	s->regions[0] = (struct vhost_user_mem_region){
	    .guest_phys_addr = BENCH_GPA_CTL,
	    .memory_size = o->regions == 1 ? s->mem_len : ctl,
	    .userspace_addr = (uint64_t)(uintptr_t)s->mem,
	    .mmap_offset = 0,
	};
	if (o->regions == 2)
		s->regions[1] = (struct vhost_user_mem_region){
		    .guest_phys_addr = BENCH_GPA_DATA,
		    .memory_size = data,
		    .userspace_addr = (uint64_t)(uintptr_t)(s->mem + ctl),
		    .mmap_offset = ctl,
		};

	for (unsigned i = 0; i < o->queues; i++) {
		struct bench_queue *q = &s->q[i];

		q->depth = o->iodepth;
		q->reqs = calloc(q->depth, sizeof(q->reqs[0]));
		if (!q->reqs)
			return session_fail(err, n, EXIT_BENCH_FAIL,
					    "out of memory");
		for (unsigned k = 0; k < q->depth; k++) {
			struct bench_req *r = &q->reqs[k];

			r->hdr = s->mem + ql[i].hdrs + (size_t)k * REQ_SLOT_LEN;
			r->data = s->mem + ctl +
				  ((size_t)i * o->iodepth + k) * stride;
			r->hdr_gpa = session_gpa(s, r->hdr);
			r->data_gpa = session_gpa(s, r->data);
		}
	}
	return share_memory(s, err, n);
}

/* ---- rings --------------------------------------------------------------- */

static int start_ring(struct bench_session *s, struct bench_queue *q,
		      const struct qlayout *l, char *err, size_t n)
{
	struct vh_drv_config c = {
	    .size = q->size,
	    .packed = s->packed,
	    .event_idx = s->event_idx,
	    .indirect = s->indirect,
	    .mem = s->mem,
	    .mem_gpa = BENCH_GPA_CTL,
	    .mem_len = s->data_off,
	    .desc_off = l->desc,
	    .driver_off = l->driver,
	    .device_off = l->device,
	    .indirect_off = l->indirect,
	    .indirect_max = (uint16_t)(s->nseg + 2),
	};
	struct vhost_user_vring_addr a = {
	    .index = q->index,
	    .desc_user_addr = (uint64_t)(uintptr_t)(s->mem + l->desc),
	    .avail_user_addr = (uint64_t)(uintptr_t)(s->mem + l->driver),
	    .used_user_addr = (uint64_t)(uintptr_t)(s->mem + l->device),
	};
	struct vh_packed_base pb = {0, true, 0, true}; /* §2.8.1: wrap 1 */
	uint32_t base = s->packed ? vh_proto_encode_packed_base(&pb) : 0;
	char what[48];
	int r;

	r = vh_drv_queue_new(&c, &q->dq);
	if (r < 0)
		return session_fail(err, n, EXIT_BENCH_FAIL, "ring %u: %s",
				    q->index, vh_strerror(r));
	q->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	q->call_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (q->kick_fd < 0 || q->call_fd < 0)
		return session_fail(err, n, EXIT_BENCH_FAIL, "eventfd: %s",
				    strerror(errno));
#define STEP(name, call)                                              \
	do {                                                          \
		r = (call);                                           \
		if (r < 0) {                                          \
			snprintf(what, sizeof(what), name " ring %u", \
				 q->index);                           \
			return session_req_fail(s, err, n, what, r);  \
		}                                                     \
	} while (0)
	STEP("SET_VRING_NUM",
	     vh_frontend_set_vring_num(s->fe, q->index, q->size));
	STEP("SET_VRING_BASE",
	     vh_frontend_set_vring_base(s->fe, q->index, base));
	STEP("SET_VRING_ADDR", vh_frontend_set_vring_addr(s->fe, &a));
	STEP("SET_VRING_KICK",
	     vh_frontend_set_vring_kick(s->fe, q->index, q->kick_fd));
	STEP("SET_VRING_CALL",
	     vh_frontend_set_vring_call(s->fe, q->index, q->call_fd));
	q->started = true;
	/* With PROTOCOL_FEATURES rings start disabled (vhost-user.rst "Ring
	 * states"); without, the back-end enables them itself. */
	if (vh_virtio_has(s->dev.acked, VH_VHOST_USER_F_PROTOCOL_FEATURES))
		STEP("SET_VRING_ENABLE",
		     vh_frontend_set_vring_enable(s->fe, q->index, true));
#undef STEP
	return 0;
}

int session_memory(struct bench_session *s, char *err, size_t n)
{
	struct qlayout ql[BENCH_MAX_QUEUES];
	int r;

	for (unsigned i = 0; i < s->nq; i++)
		s->q[i].size = ring_size(s);
	r = make_memory(s, ql, err, n);
	for (unsigned i = 0; i < s->nq && !r; i++)
		r = start_ring(s, &s->q[i], &ql[i], err, n);
	return r;
}

/* GET_VRING_BASE must report what we made available once all completed. */
static int check_base(struct bench_session *s, struct bench_queue *q,
		      uint32_t base, char *err, size_t n)
{
	if (q->inflight)
		return 0; /* requests lost in flight: nothing to compare */
	if (!s->packed) {
		if (base == (uint16_t)q->added)
			return 0;
		snprintf(err, n,
			 "ring %u: GET_VRING_BASE %u, but %" PRIu64
			 " buffers were made available (expected %u)",
			 q->index, base, q->added, (uint16_t)q->added);
		return -1;
	}
	{
		struct vh_packed_base got, exp;

		vh_proto_decode_packed_base(base, &got);
		exp.avail_idx = (uint16_t)(q->slots_added % q->size);
		exp.avail_wrap = !((q->slots_added / q->size) & 1);
		if (got.avail_idx == exp.avail_idx &&
		    got.avail_wrap == exp.avail_wrap)
			return 0;
		snprintf(err, n,
			 "ring %u: GET_VRING_BASE avail %u wrap %d, expected "
			 "%u wrap %d (%" PRIu64 " descriptors made available)",
			 q->index, got.avail_idx, got.avail_wrap, exp.avail_idx,
			 exp.avail_wrap, q->slots_added);
		return -1;
	}
}

int session_close(struct bench_session *s, char *err, size_t n)
{
	int ret = 0, r;
	uint32_t base;

	for (unsigned i = 0; i < BENCH_MAX_QUEUES; i++) {
		struct bench_queue *q = &s->q[i];

		if (q->started && s->fe && !s->dead &&
		    !vh_frontend_is_broken(s->fe)) {
			/* As QEMU stops a vhost device: disable, then
			 * GET_VRING_BASE (vhost-user.rst "Ring states"). */
			if (vh_virtio_has(s->dev.acked,
					  VH_VHOST_USER_F_PROTOCOL_FEATURES))
				(void)vh_frontend_set_vring_enable(s->fe, i,
								   false);
			r = vh_frontend_get_vring_base(s->fe, i, &base);
			if (r < 0 && !ret) {
				char what[40];

				snprintf(what, sizeof(what),
					 "GET_VRING_BASE ring %u", i);
				session_req_fail(s, err, n, what, r);
				ret = -1;
			} else if (r == 0 && !ret) {
				ret = check_base(s, q, base, err, n);
			}
		}
		vh_drv_queue_free(q->dq);
		q->dq = NULL;
		if (q->kick_fd >= 0)
			close(q->kick_fd);
		if (q->call_fd >= 0)
			close(q->call_fd);
		q->kick_fd = q->call_fd = -1;
		free(q->reqs);
		q->reqs = NULL;
		q->started = false;
	}
	/* Closing the socket is the end of a vhost-user session. */
	vh_frontend_free(s->fe);
	s->fe = NULL;
	if (s->mem)
		munmap(s->mem, s->mem_len);
	s->mem = NULL;
	if (s->memfd >= 0)
		close(s->memfd);
	s->memfd = -1;
	return ret;
}
