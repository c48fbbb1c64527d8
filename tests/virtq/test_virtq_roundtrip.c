/* SPDX-License-Identifier: MIT */
/*
 * Driver <-> device round trips over shared memory, split and packed:
 * chains of 1 and 3, indirect, batching, 16-bit index and wrap-counter
 * wrap-around, notification counts with and without EVENT_IDX, kick
 * suppression, and dirty logging of everything the device wrote.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "virtq/vq_harness.h"

#define PK   F(VH_VIRTIO_F_RING_PACKED)
#define IND  F(VH_VIRTIO_RING_F_INDIRECT_DESC)
#define EVI  F(VH_VIRTIO_RING_F_EVENT_IDX)
#define MAXE 16

static struct h H;
static struct vh_virtq_elem *elems[MAXE];

static int setup(void **st)
{
	*st = &H;
	for (unsigned i = 0; i < MAXE; i++)
		elems[i] = vh_virtq_elem_new(16);
	return 0;
}

static int teardown(void **st)
{
	h_fini(*st);
	for (unsigned i = 0; i < MAXE; i++)
		vh_virtq_elem_free(elems[i]);
	return 0;
}

static uint8_t *host(struct h *h, uint64_t gpa)
{
	return h->mem + (gpa - h->gpa_base);
}

/*
 * The device: pop everything, answer each request by copying what it read
 * (reversed) into the writable part, push all in one batch. Returns the
 * count; *notify gets the single notification decision.
 */
static unsigned drain(struct h *h, const struct vh_mem_table *t, bool *notify)
{
	uint32_t lens[MAXE];
	unsigned n = 0;
	int rc;

	while (n < MAXE && (rc = vh_virtq_pop(h->vq, t, elems[n])) == 1) {
		struct vh_virtq_elem *e = elems[n];
		uint8_t in[4096];
		unsigned got = 0;

		for (unsigned i = 0; i < e->out_num; i++) {
			memcpy(in + got, e->iov[i].iov_base, e->iov[i].iov_len);
			got += (unsigned)e->iov[i].iov_len;
		}
		lens[n] = got < e->in_len ? got : e->in_len;
		for (unsigned i = e->out_num, k = 0;
		     i < e->out_num + e->in_num && k < lens[n]; i++) {
			uint8_t *p = e->iov[i].iov_base;

			for (size_t j = 0; j < e->iov[i].iov_len && k < lens[n];
			     j++, k++)
				p[j] = in[got - 1 - k];
		}
		n++;
	}
	assert_false(vh_virtq_is_broken(h->vq));
	if (n)
		assert_int_equal(vh_virtq_push_batch(h->vq, t, elems, lens, n),
				 0);
	*notify = n ? vh_virtq_should_notify(h->vq) : false;
	return n;
}

/* Driver: one request, @nout readable pieces of @piece bytes and one
 * writable buffer; slot @k picks the buffers. */
static int add_req(struct h *h, unsigned k, unsigned nout, uint32_t piece,
		   bool indirect)
{
	struct vh_drv_buf out[4], in;

	for (unsigned i = 0; i < nout; i++) {
		out[i].gpa = h_buf(h, 2 * k) + 64 * i;
		out[i].len = piece;
		memset(host(h, out[i].gpa), (int)(k * 16 + i + 1), piece);
	}
	in.gpa = h_buf(h, 2 * k + 1);
	in.len = H_BUF_LEN;
	return vh_drv_add(h->drv, out, nout, &in, 1, indirect,
			  (void *)(uintptr_t)(k + 1));
}

/* Reap one; check token and that the answer is the reversed request. */
static void reap_check(struct h *h, unsigned k, unsigned nout, uint32_t piece)
{
	void *tok;
	uint32_t len;
	uint8_t *p = host(h, h_buf(h, 2 * k + 1));

	assert_int_equal(vh_drv_get_used(h->drv, &tok, &len), 1);
	assert_ptr_equal(tok, (void *)(uintptr_t)(k + 1));
	assert_int_equal(len, nout * piece);
	assert_int_equal(p[0], (uint8_t)(k * 16 + nout));
	assert_int_equal(p[len - 1], (uint8_t)(k * 16 + 1));
}

static void round_trip(bool packed, unsigned nout, bool indirect)
{
	struct h *h = &H;
	bool notify;

	h_init(h, 8, (packed ? PK : 0) | IND, 0);
	for (unsigned k = 0; k < 3; k++) {
		assert_int_equal(add_req(h, k, nout, 40, indirect), 0);
		assert_true(vh_drv_kick_prepare(h->drv));
		assert_int_equal(drain(h, h->t, &notify), 1);
		assert_true(notify);
		assert_int_equal(elems[0]->out_num, nout);
		assert_int_equal(elems[0]->in_num, 1);
		assert_int_equal(elems[0]->ndescs,
				 packed ? (indirect ? 1 : nout + 1) : 1);
		reap_check(h, k, nout, 40);
	}
	assert_int_equal(vh_virtq_inuse(h->vq), 0);
	assert_int_equal(vh_drv_num_free(h->drv), 8);
}

static void split_chain_of_1(void **st)
{
	struct h *h = *st;
	void *tok;
	uint32_t len;
	struct vh_drv_buf b;

	h_init(h, 4, 0, 0);
	b.gpa = h_buf(h, 0);
	b.len = 5;
	memcpy(host(h, b.gpa), "hello", 5);
	assert_int_equal(vh_drv_add(h->drv, &b, 1, NULL, 0, false, h), 0);
	assert_true(vh_drv_kick_prepare(h->drv));
	assert_int_equal(vh_virtq_pop(h->vq, h->t, h->e), 1);
	assert_int_equal(h->e->out_num, 1);
	assert_int_equal(h->e->in_num, 0);
	assert_memory_equal(h->e->iov[0].iov_base, "hello", 5);
	assert_int_equal(vh_virtq_push(h->vq, h->t, h->e, 0), 0);
	assert_true(vh_virtq_should_notify(h->vq));
	assert_int_equal(vh_drv_get_used(h->drv, &tok, &len), 1);
	assert_ptr_equal(tok, h);
	assert_int_equal(len, 0);
	assert_int_equal(vh_drv_get_used(h->drv, &tok, &len), 0);
}

static void packed_chain_of_1(void **st)
{
	struct h *h = *st;
	void *tok;
	uint32_t len;
	struct vh_drv_buf b;

	h_init(h, 4, PK, 0);
	b.gpa = h_buf(h, 0);
	b.len = 64;
	assert_int_equal(vh_drv_add(h->drv, NULL, 0, &b, 1, false, h), 0);
	assert_true(vh_drv_kick_prepare(h->drv));
	assert_int_equal(vh_virtq_pop(h->vq, h->t, h->e), 1);
	assert_int_equal(h->e->in_num, 1);
	memset(h->e->iov[0].iov_base, 0x5a, 10);
	assert_int_equal(vh_virtq_push(h->vq, h->t, h->e, 10), 0);
	assert_int_equal(vh_drv_get_used(h->drv, &tok, &len), 1);
	assert_ptr_equal(tok, h);
	assert_int_equal(len, 10);
	assert_int_equal(host(h, b.gpa)[9], 0x5a);
	assert_int_equal(host(h, b.gpa)[10], 0);
}

static void split_chain_of_3(void **st)
{
	(void)st;
	round_trip(false, 2, false);
}

static void packed_chain_of_3(void **st)
{
	(void)st;
	round_trip(true, 2, false);
}

static void split_indirect(void **st)
{
	(void)st;
	round_trip(false, 3, true);
}

static void packed_indirect(void **st)
{
	(void)st;
	round_trip(true, 3, true);
}

/* Pop many, push many, one notification; the driver sees all at once. */
static void batch(bool packed)
{
	struct h *h = &H;
	bool notify;

	h_init(h, 8, packed ? PK : 0, 0);
	for (unsigned k = 0; k < 4; k++)
		assert_int_equal(add_req(h, k, 1, 8, false), 0);
	assert_true(vh_drv_kick_prepare(h->drv));
	assert_int_equal(drain(h, h->t, &notify), 4);
	assert_true(notify);
	assert_false(vh_virtq_should_notify(h->vq)); /* nothing new */
	for (unsigned k = 0; k < 4; k++)
		reap_check(h, k, 1, 8);
	/* Full ring: the driver gets -ENOSPC, never overwrites. */
	for (unsigned k = 0; k < 4; k++)
		assert_int_equal(add_req(h, k, 1, 8, false), 0);
	assert_int_equal(add_req(h, 4, 1, 8, false), -ENOSPC);
	vh_drv_kick_prepare(h->drv);
	assert_int_equal(drain(h, h->t, &notify), 4);
}

static void split_batch(void **st)
{
	(void)st;
	batch(false);
}

static void packed_batch(void **st)
{
	(void)st;
	batch(true);
}

/* More than 65536 requests through a 4-entry queue: the 16-bit split
 * indices and the packed wrap counters go round many times. */
static void wrap_around(bool packed)
{
	struct h *h = &H;
	bool notify;

	h_init(h, 4, (packed ? PK : 0) | EVI, 0);
	for (unsigned r = 0; r < 70000; r++) {
		unsigned k = r % 3, nout = 1 + r % 2;

		assert_int_equal(add_req(h, k, nout, 4, false), 0);
		vh_drv_kick_prepare(h->drv);
		assert_int_equal(drain(h, h->t, &notify), 1);
		reap_check(h, k, nout, 4);
	}
	if (!packed) {
		assert_int_equal(vh_virtq_last_avail(h->vq), (uint16_t)70000);
		assert_int_equal(vh_virtq_used_idx(h->vq), (uint16_t)70000);
	} else {
		struct vh_packed_base b;

		/* 35000 chains of 2 and 35000 of 3 descriptors. */
		vh_virtq_packed_base(h->vq, &b);
		assert_int_equal(b.avail_idx, (35000u * 2 + 35000u * 3) % 4);
		assert_int_equal(b.used_idx, b.avail_idx);
		assert_int_equal(b.avail_wrap,
				 ((35000u * 2 + 35000u * 3) / 4) % 2 == 0);
	}
}

static void split_wrap_around(void **st)
{
	(void)st;
	wrap_around(false);
}

static void packed_wrap_around(void **st)
{
	(void)st;
	wrap_around(true);
}

/*
 * A known sequence; K = kicks the driver sends, N = notifications the
 * device sends:
 *  a) add 1, device drains, driver reaps;
 *  b) add 1, add 1 (device not running yet), device drains, no reap;
 *  c) add 1, device drains, driver reaps.
 * Without EVENT_IDX every step kicks/notifies: K = 4, N = 3. With EVENT_IDX
 * the second add of b) is past avail_event (no kick) and the drain of c) is
 * past used_event, which the driver left behind by not reaping: K = 3,
 * N = 2 (§2.7.7.2, §2.7.10, §2.8.10).
 */
static void notification_counts(bool packed, bool event_idx, unsigned want_k,
				unsigned want_n)
{
	struct h *h = &H;
	unsigned kicks = 0, notes = 0, k = 0;
	bool notify;

	h_init(h, 8, (packed ? PK : 0) | (event_idx ? EVI : 0), 0);
	assert_false(vh_virtq_enable_notify(h->vq));
	assert_false(vh_drv_enable_cb(h->drv));
	/* a */
	add_req(h, k++, 1, 8, false);
	kicks += vh_drv_kick_prepare(h->drv);
	drain(h, h->t, &notify);
	notes += notify;
	reap_check(h, 0, 1, 8);
	/* b */
	add_req(h, k++, 1, 8, false);
	kicks += vh_drv_kick_prepare(h->drv);
	add_req(h, k++, 1, 8, false);
	kicks += vh_drv_kick_prepare(h->drv);
	assert_int_equal(drain(h, h->t, &notify), 2);
	notes += notify;
	/* c */
	add_req(h, k++, 1, 8, false);
	kicks += vh_drv_kick_prepare(h->drv);
	drain(h, h->t, &notify);
	notes += notify;
	for (unsigned i = 1; i < 4; i++)
		reap_check(h, i, 1, 8);
	assert_int_equal(kicks, want_k);
	assert_int_equal(notes, want_n);
}

static void split_notifications_without_event_idx(void **st)
{
	(void)st;
	notification_counts(false, false, 4, 3);
}

static void split_notifications_with_event_idx(void **st)
{
	(void)st;
	notification_counts(false, true, 3, 2);
}

static void packed_notifications_without_event_idx(void **st)
{
	(void)st;
	notification_counts(true, false, 4, 3);
}

static void packed_notifications_with_event_idx(void **st)
{
	(void)st;
	notification_counts(true, true, 3, 2);
}

/*
 * The lost-kick race: while the device polls (kicks disabled) the driver
 * adds a buffer and does not kick; when the device re-enables kicks,
 * enable_notify must report the pending buffer.
 */
static void kick_suppression(bool packed, bool event_idx)
{
	struct h *h = &H;
	bool notify;

	h_init(h, 8, (packed ? PK : 0) | (event_idx ? EVI : 0), 0);
	assert_false(vh_virtq_enable_notify(h->vq));
	add_req(h, 0, 1, 8, false);
	assert_true(vh_drv_kick_prepare(h->drv));
	vh_virtq_disable_notify(h->vq);
	assert_int_equal(drain(h, h->t, &notify), 1);
	add_req(h, 1, 1, 8, false);
	assert_false(vh_drv_kick_prepare(h->drv));
	assert_true(vh_virtq_has_avail(h->vq));
	assert_true(vh_virtq_enable_notify(h->vq)); /* pending: process */
	assert_int_equal(drain(h, h->t, &notify), 1);
	assert_false(vh_virtq_enable_notify(h->vq)); /* empty: may sleep */
	add_req(h, 2, 1, 8, false);
	assert_true(vh_drv_kick_prepare(h->drv));
	assert_int_equal(drain(h, h->t, &notify), 1);
}

static void split_kick_suppression(void **st)
{
	(void)st;
	kick_suppression(false, false);
}

static void split_kick_suppression_event_idx(void **st)
{
	(void)st;
	kick_suppression(false, true);
}

static void packed_kick_suppression(void **st)
{
	(void)st;
	kick_suppression(true, false);
}

static void packed_kick_suppression_event_idx(void **st)
{
	(void)st;
	kick_suppression(true, true);
}

/* The driver turned used notifications off: no notification (no
 * EVENT_IDX: the NO_INTERRUPT flag / packed DISABLE). */
static void interrupt_suppression(bool packed)
{
	struct h *h = &H;
	bool notify;

	h_init(h, 8, packed ? PK : 0, 0);
	vh_drv_disable_cb(h->drv);
	add_req(h, 0, 1, 8, false);
	vh_drv_kick_prepare(h->drv);
	drain(h, h->t, &notify);
	assert_false(notify);
	assert_true(vh_drv_enable_cb(h->drv)); /* pending used buffer */
	reap_check(h, 0, 1, 8);
}

static void split_interrupt_suppression(void **st)
{
	(void)st;
	interrupt_suppression(false);
}

static void packed_interrupt_suppression(void **st)
{
	(void)st;
	interrupt_suppression(true);
}

/* VIRTIO_F_NOTIFY_ON_EMPTY: notify when the ring ran empty even though
 * the driver suppressed notifications. */
static void split_notify_on_empty(void **st)
{
	struct h *h = *st;
	bool notify;

	h_init(h, 8, F(VH_VIRTIO_F_NOTIFY_ON_EMPTY), 0);
	vh_drv_disable_cb(h->drv);
	add_req(h, 0, 1, 8, false);
	add_req(h, 1, 1, 8, false);
	vh_drv_kick_prepare(h->drv);
	assert_int_equal(vh_virtq_pop(h->vq, h->t, elems[0]), 1);
	assert_int_equal(vh_virtq_push(h->vq, h->t, elems[0], 0), 0);
	assert_false(vh_virtq_should_notify(h->vq)); /* one still queued */
	assert_int_equal(drain(h, h->t, &notify), 1);
	assert_true(notify); /* ran empty */
}

/*
 * Dirty logging (LOG_ALL + VHOST_VRING_F_LOG): every page the device wrote
 * — the used ring (split) or descriptor ring (packed), and the written
 * parts of guest buffers — is marked, and no other page.
 */
static void dirty_log(bool packed)
{
	struct h *h = &H;
	const uint64_t base = 0x100000;
	int fd = memfd_create("log", MFD_CLOEXEC);
	uint8_t bits[64], want[64] = {0};
	struct vh_mem_log *log;
	struct vh_mem_table *t;
	struct vh_mem *m;
	struct vh_drv_buf out = {0, 100}, in[2];
	uint32_t len;
	void *tok;

	h_init_at(h, 8, (packed ? PK : 0) | F(VH_VHOST_F_LOG_ALL), 0, base);
	assert_int_equal(ftruncate(fd, 64), 0);
	assert_int_equal(vh_mem_log_new(dup(fd), 64, 0, &log), 0);
	assert_int_equal(vh_mem_new(&m), 0);
	vh_mem_publish(m, vh_mem_table_ref(h->t));
	assert_int_equal(vh_mem_set_log(m, log), 0);
	t = vh_mem_acquire(m);
	vh_virtq_set_logging(h->vq, true, true);

	/* Read-only page buf 0; writable: end of buf 3 into buf 4. */
	out.gpa = h_buf(h, 0);
	in[0].gpa = h_buf(h, 3) + H_BUF_LEN - 50;
	in[0].len = 50;
	in[1].gpa = h_buf(h, 4);
	in[1].len = 200;
	assert_int_equal(vh_drv_add(h->drv, &out, 1, in, 2, false, h), 0);
	vh_drv_kick_prepare(h->drv);
	assert_int_equal(vh_virtq_pop(h->vq, t, h->e), 1);
	assert_int_equal(vh_virtq_push(h->vq, t, h->e, 60), 0);
	assert_int_equal(vh_drv_get_used(h->drv, &tok, &len), 1);

	assert_int_equal(pread(fd, bits, 64, 0), 64);
	/* Pages are counted from guest-physical 0. */
#define MARK(gpa) want[((gpa) / 4096) / 8] |= 1 << (((gpa) / 4096) % 8)
	MARK(packed ? h_gpa(h, H_DESC_OFF) : h_gpa(h, H_DEVICE_OFF));
	MARK(h_buf(h, 3));
	MARK(h_buf(h, 4));
#undef MARK
	assert_memory_equal(bits, want, 64);

	vh_mem_table_unref(t);
	vh_mem_free(m);
	close(fd);
}

static void split_dirty_log(void **st)
{
	(void)st;
	dirty_log(false);
}

static void packed_dirty_log(void **st)
{
	(void)st;
	dirty_log(true);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(split_chain_of_1),
	    T(packed_chain_of_1),
	    T(split_chain_of_3),
	    T(packed_chain_of_3),
	    T(split_indirect),
	    T(packed_indirect),
	    T(split_batch),
	    T(packed_batch),
	    T(split_wrap_around),
	    T(packed_wrap_around),
	    T(split_notifications_without_event_idx),
	    T(split_notifications_with_event_idx),
	    T(packed_notifications_without_event_idx),
	    T(packed_notifications_with_event_idx),
	    T(split_kick_suppression),
	    T(split_kick_suppression_event_idx),
	    T(packed_kick_suppression),
	    T(packed_kick_suppression_event_idx),
	    T(split_interrupt_suppression),
	    T(packed_interrupt_suppression),
	    T(split_notify_on_empty),
	    T(split_dirty_log),
	    T(packed_dirty_log),
	};

	h_quiet_logs();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
