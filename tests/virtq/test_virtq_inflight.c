/* SPDX-License-Identifier: MIT */
/*
 * In-flight tracking (vhost-user.rst "Inflight I/O tracking"): requests are
 * fetched, some completed, then the device object is dropped ("crash") and
 * a new one is rebuilt from the same rings and shared region. Checks the
 * resubmission list, its order (fetch counter, not index), the recomputed
 * ring position, the last-batch fix-up, and the packed roll-back/commit.
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

#define PK F(VH_VIRTIO_F_RING_PACKED)

static struct h H;
static void *region;
static size_t region_len;
static struct vh_virtq_elem *el[8];

static int setup(void **st)
{
	*st = &H;
	for (unsigned i = 0; i < 8; i++)
		el[i] = vh_virtq_elem_new(8);
	return 0;
}

static int teardown(void **st)
{
	h_fini(*st);
	munmap(region, region_len);
	for (unsigned i = 0; i < 8; i++)
		vh_virtq_elem_free(el[i]);
	return 0;
}

/* Queue of 8 with a zeroed shared in-flight region attached. */
static void start(struct h *h, bool packed)
{
	int fd = memfd_create("inflight", MFD_CLOEXEC);

	h_init(h, 8, packed ? PK : 0, 0);
	region_len = vh_virtq_inflight_size(8, packed);
	assert_int_equal(region_len, packed ? 320 : 192);
	assert_int_equal(ftruncate(fd, (off_t)region_len), 0);
	region =
	    mmap(NULL, region_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	assert_true(region != MAP_FAILED);
	assert_int_equal(vh_virtq_set_inflight(h->vq, region, region_len), 0);
	assert_int_equal(vh_virtq_resubmit_list(h->vq, NULL, 0), 0);
}

/* Drop the device object (its memory and the region stay) and rebuild. */
static void crash_and_recover(struct h *h)
{
	vh_virtq_free(h->vq);
	h->vq = NULL;
	h_new_device(h, 0);
	assert_int_equal(vh_virtq_set_inflight(h->vq, region, region_len), 0);
}

/* Driver adds request @k: one readable, one writable descriptor. */
static void add(struct h *h, unsigned k)
{
	struct vh_drv_buf o = {h_buf(h, 2 * k), 8},
			  i = {h_buf(h, 2 * k + 1), 8};

	assert_int_equal(
	    vh_drv_add(h->drv, &o, 1, &i, 1, false, (void *)(uintptr_t)(k + 1)),
	    0);
	vh_drv_kick_prepare(h->drv);
}

static void pop(struct h *h, struct vh_virtq_elem *e, unsigned k, bool resub)
{
	assert_int_equal(vh_virtq_pop(h->vq, h->t, e), 1);
	assert_int_equal(e->resubmitted, resub);
	/* The buffer is request k's. */
	assert_int_equal(e->gpa[0], h_buf(h, 2 * k));
}

static void reap(struct h *h, unsigned k)
{
	void *tok;
	uint32_t len;

	assert_int_equal(vh_drv_get_used(h->drv, &tok, &len), 1);
	assert_ptr_equal(tok, (void *)(uintptr_t)(k + 1));
}

static void expect_list(struct h *h, const unsigned *ks, unsigned n)
{
	struct vh_virtq_resubmit r[8];

	assert_int_equal(vh_virtq_resubmit_list(h->vq, r, 8), n);
	for (unsigned i = 1; i < n; i++)
		assert_true(r[i - 1].counter < r[i].counter);
	for (unsigned i = 0; i < n; i++)
		pop(h, el[i], ks[i], true);
	assert_int_equal(vh_virtq_inuse(h->vq), n);
}

/* Out-of-order completion, crash, resubmission in fetch order. */
static void resubmits_in_fetch_order(bool packed)
{
	struct h *h = &H;
	const unsigned want[] = {1, 2};

	start(h, packed);
	add(h, 0);
	add(h, 1);
	pop(h, el[0], 0, false);
	pop(h, el[1], 1, false);
	assert_int_equal(vh_virtq_push(h->vq, h->t, el[0], 0), 0);
	reap(h, 0);
	add(h, 2); /* split: reuses head 0, so index order != fetch order */
	add(h, 3);
	pop(h, el[2], 2, false);
	pop(h, el[3], 3, false);
	assert_int_equal(vh_virtq_push(h->vq, h->t, el[3], 0), 0);

	crash_and_recover(h);
	if (packed) {
		struct vh_packed_base b;

		vh_virtq_packed_base(h->vq, &b);
		assert_int_equal(b.used_idx, 4); /* requests 0 and 3 */
		assert_int_equal(b.avail_idx, 8 % 8);
		assert_false(b.avail_wrap); /* 8 descriptors fetched */
	} else {
		assert_int_equal(vh_virtq_last_avail(h->vq), 4);
	}
	expect_list(h, want, 2);
	assert_int_equal(vh_virtq_pop(h->vq, h->t, el[2]), 0);
	assert_int_equal(vh_virtq_push(h->vq, h->t, el[1], 0), 0);
	assert_int_equal(vh_virtq_push(h->vq, h->t, el[0], 0), 0);
	/* Every request completes exactly once. */
	reap(h, 3);
	reap(h, 2);
	reap(h, 1);
	void *tok;
	uint32_t len;
	assert_int_equal(vh_drv_get_used(h->drv, &tok, &len), 0);
	/* New work after the resubmissions pops normally. */
	add(h, 4);
	pop(h, el[0], 4, false);
	assert_int_equal(vh_virtq_push(h->vq, h->t, el[0], 0), 0);
	reap(h, 4);
	/* A second restart finds nothing in flight. */
	crash_and_recover(h);
	assert_int_equal(vh_virtq_resubmit_list(h->vq, NULL, 0), 0);
	assert_int_equal(vh_virtq_inuse(h->vq), 0);
}

static void split_resubmits_in_fetch_order(void **st)
{
	(void)st;
	resubmits_in_fetch_order(false);
}

static void packed_resubmits_in_fetch_order(void **st)
{
	(void)st;
	resubmits_in_fetch_order(true);
}

/* The back-end dies before it completes anything. */
static void died_before_first_completion(bool packed)
{
	struct h *h = &H;
	const unsigned want[] = {0, 1, 2};

	start(h, packed);
	add(h, 0);
	add(h, 1);
	add(h, 2);
	pop(h, el[0], 0, false);
	pop(h, el[1], 1, false);
	pop(h, el[2], 2, false);
	crash_and_recover(h);
	expect_list(h, want, 3);
	assert_int_equal(vh_virtq_pop(h->vq, h->t, el[3]), 0);
	vh_virtq_push(h->vq, h->t, el[2], 0);
	vh_virtq_push(h->vq, h->t, el[0], 0);
	vh_virtq_push(h->vq, h->t, el[1], 0);
	reap(h, 2);
	reap(h, 0);
	reap(h, 1);
}

static void split_died_before_first_completion(void **st)
{
	(void)st;
	died_before_first_completion(false);
}

static void packed_died_before_first_completion(void **st)
{
	(void)st;
	died_before_first_completion(true);
}

/* Split, crash after used->idx was stored but before the region caught
 * up: the last-batch list tells which entries were in fact used. */
static void split_crash_after_used_idx_store(void **st)
{
	struct h *h = *st;
	struct vh_inflight_split *r;
	const unsigned want[] = {2};

	start(h, false);
	r = region;
	for (unsigned k = 0; k < 3; k++) {
		add(h, k);
		pop(h, el[k], k, false);
	}
	assert_int_equal(
	    vh_virtq_push_batch(h->vq, h->t, el, (uint32_t[]){0, 0}, 2), 0);
	/* Undo the steps that follow the used idx store. */
	r->desc[el[0]->id].inflight = 1;
	r->desc[el[1]->id].inflight = 1;
	r->used_idx = 0;
	crash_and_recover(h);
	assert_int_equal(r->used_idx, 2);
	expect_list(h, want, 1);
	reap(h, 0);
	reap(h, 1);
}

/* Split, crash before used->idx was stored: the batch is not used. */
static void split_crash_before_used_idx_store(void **st)
{
	struct h *h = *st;
	struct vh_vring_used *u = (void *)(h->mem + H_DEVICE_OFF);
	const unsigned want[] = {0, 1, 2};

	start(h, false);
	for (unsigned k = 0; k < 3; k++) {
		add(h, k);
		pop(h, el[k], k, false);
	}
	struct vh_inflight_split *r = region;
	assert_int_equal(
	    vh_virtq_push_batch(h->vq, h->t, el, (uint32_t[]){0, 0}, 2), 0);
	/* Back to the state just before the idx store. */
	u->idx = 0;
	r->desc[el[0]->id].inflight = 1;
	r->desc[el[1]->id].inflight = 1;
	r->used_idx = 0;
	crash_and_recover(h);
	expect_list(h, want, 3);
}

/*
 * Packed, crash between "increase used_idx" and "update d.flags": the
 * first used descriptor never reached the ring, so the batch is rolled
 * back and resubmitted. With the flags written, it is committed instead.
 */
static void packed_crash_mid_push(bool flags_written)
{
	struct h *h = &H;
	struct vh_inflight_packed *r;
	struct vh_vring_packed_desc *ring = (void *)(h->mem + H_DESC_OFF);
	uint16_t free_before, avail_flags;
	const unsigned want_rollback[] = {0, 1};
	const unsigned want_commit[] = {1};

	start(h, true);
	r = region;
	add(h, 0);
	add(h, 1);
	pop(h, el[0], 0, false);
	pop(h, el[1], 1, false);
	free_before = r->free_head;
	avail_flags = ring[0].flags;
	assert_int_equal(vh_virtq_push(h->vq, h->t, el[0], 0), 0);
	assert_int_equal(r->used_idx, 2);
	/* Undo the steps after "increase used_idx". */
	r->desc[el[0]->slot].inflight = 1;
	r->old_free_head = free_before;
	r->old_used_idx = 0;
	r->old_used_wrap_counter = 1;
	if (!flags_written)
		ring[0].flags = avail_flags;
	crash_and_recover(h);
	if (flags_written) {
		assert_int_equal(r->old_used_idx, 2);
		expect_list(h, want_commit, 1);
		reap(h, 0);
	} else {
		assert_int_equal(r->used_idx, 0);
		expect_list(h, want_rollback, 2);
		vh_virtq_push(h->vq, h->t, el[1], 0);
		reap(h, 1);
	}
}

static void packed_crash_before_used_flags_rolls_back(void **st)
{
	(void)st;
	packed_crash_mid_push(false);
}

static void packed_crash_after_used_flags_commits(void **st)
{
	(void)st;
	packed_crash_mid_push(true);
}

/* Packed, crash while a list was being fetched: its half-recorded head is
 * on the free list again after roll-back, so it is not resubmitted (the
 * ring still offers it). */
static void packed_crash_mid_fetch(void **st)
{
	struct h *h = *st;
	struct vh_inflight_packed *r;
	const unsigned want[] = {0};
	uint16_t ofh;

	start(h, true);
	r = region;
	add(h, 0);
	pop(h, el[0], 0, false);
	add(h, 1);
	/* Record the first descriptor of request 1, as the spec's steps do,
	 * then "die". */
	ofh = r->old_free_head;
	r->desc[ofh].num = 1;
	r->desc[ofh].counter = 99;
	r->desc[ofh].inflight = 1;
	r->free_head = r->desc[ofh].next;
	crash_and_recover(h);
	expect_list(h, want, 1);
	pop(h, el[1], 1, false); /* offered again by the ring */
}

static void region_for_another_queue_size_is_refused(void **st)
{
	struct h *h = *st;
	struct vh_inflight_split *r;

	start(h, false);
	r = region;
	assert_int_equal(vh_virtq_set_inflight(h->vq, region, 16), -EINVAL);
	r->desc_num = 16;
	vh_virtq_free(h->vq);
	h_new_device(h, 0);
	assert_int_equal(vh_virtq_set_inflight(h->vq, region, region_len),
			 -EINVAL);
	r->desc_num = 8;
	r->version = 2;
	assert_int_equal(vh_virtq_set_inflight(h->vq, region, region_len),
			 -EINVAL);
}

static void corrupt_packed_region_is_refused(void **st)
{
	struct h *h = *st;
	struct vh_inflight_packed *r;

	start(h, true);
	r = region;
	add(h, 0);
	pop(h, el[0], 0, false);
	r->desc[el[0]->slot].num = 9; /* more than the queue */
	vh_virtq_free(h->vq);
	h_new_device(h, 0);
	assert_int_equal(vh_virtq_set_inflight(h->vq, region, region_len),
			 -EINVAL);
	r->desc[el[0]->slot].num = 2;
	r->desc[el[0]->slot].next = 200; /* list leaves the region */
	assert_int_equal(vh_virtq_set_inflight(h->vq, region, region_len),
			 -EINVAL);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(split_resubmits_in_fetch_order),
	    T(packed_resubmits_in_fetch_order),
	    T(split_died_before_first_completion),
	    T(packed_died_before_first_completion),
	    T(split_crash_after_used_idx_store),
	    T(split_crash_before_used_idx_store),
	    T(packed_crash_before_used_flags_rolls_back),
	    T(packed_crash_after_used_flags_commits),
	    T(packed_crash_mid_fetch),
	    T(region_for_another_queue_size_is_refused),
	    T(corrupt_packed_region_is_refused),
	};

	h_quiet_logs();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
