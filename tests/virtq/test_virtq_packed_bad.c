/* SPDX-License-Identifier: MIT */
/*
 * Hostile packed rings, built by hand: one test per rule of virtio 1.2 §2.8
 * (section numbers of virtio-v1.2-cs01). Each asserts the error, that the
 * queue stays broken, and that the failure was logged once.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "virtq/vq_harness.h"

#define PK  F(VH_VIRTIO_F_RING_PACKED)
#define IND F(VH_VIRTIO_RING_F_INDIRECT_DESC)
#define N   VIRTQ_DESC_F_NEXT
#define W   VIRTQ_DESC_F_WRITE
#define I   VIRTQ_DESC_F_INDIRECT

static int setup(void **st)
{
	static struct h h;

	*st = &h;
	return 0;
}

static int teardown(void **st)
{
	h_fini(*st);
	return 0;
}

static struct vh_vring_packed_desc *ring(struct h *h)
{
	return (void *)(h->mem + H_DESC_OFF);
}

/* Indirect table @table entry @i (packed layout). */
static void set_pind(struct h *h, unsigned table, unsigned i, uint64_t addr,
		     uint32_t len, uint16_t flags)
{
	struct vh_vring_packed_desc d = {addr, len, 0, flags};

	memcpy(h->mem + H_IND_OFF + table * 0x400 + 16 * i, &d, sizeof(d));
}

/* §2.8.15 Device Requirements: "A device MUST NOT use a descriptor unless it
 * observes the VIRTQ_DESC_F_AVAIL bit in its flags being changed": the
 * zeroed ring and a descriptor marked for the other wrap are not
 * available, and that is not an error. */
static void descriptor_not_marked_available_is_not_used(void **st)
{
	struct h *h = *st;

	h_init(h, 4, PK, 0);
	assert_int_equal(vh_virtq_pop(h->vq, h->t, h->e), 0);
	ring(h)[0].addr = h_buf(h, 0);
	ring(h)[0].len = 16;
	ring(h)[0].flags = VIRTQ_DESC_F_USED; /* available for wrap 0 only */
	assert_int_equal(vh_virtq_pop(h->vq, h->t, h->e), 0);
	ring(h)[0].flags = VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED; /* used */
	assert_int_equal(vh_virtq_pop(h->vq, h->t, h->e), 0);
	assert_false(vh_virtq_is_broken(h->vq));
}

/* §2.8.17 Driver Requirements: Scatter-Gather Support: "A driver MUST NOT
 * create a descriptor list longer than the Queue Size." */
static void list_longer_than_queue_size(void **st)
{
	struct h *h = *st;

	h_init(h, 4, PK, 0);
	/* Slots 1..3 first, slot 0 last, all with NEXT. */
	h->next_avail = 1;
	for (unsigned i = 1; i < 4; i++)
		h_pdesc(h, h_buf(h, i), 16, 0, N);
	h->next_avail = 0;
	h->avail_wrap = true;
	h_pdesc(h, h_buf(h, 0), 16, 0, N);
	h_expect_broken(h, VH_VIRTQ_E_CHAIN_LEN);
}

/* §2.8.6: "all flags, including VIRTQ_DESC_F_AVAIL, VIRTQ_DESC_F_USED,
 * VIRTQ_DESC_F_WRITE must be set/cleared correctly in all descriptors in
 * the list, not just the first one." */
static void chained_descriptor_not_available(void **st)
{
	struct h *h = *st;

	h_init(h, 4, PK, 0);
	h_pdesc(h, h_buf(h, 0), 16, 0, N);
	/* Second one left zeroed: AVAIL == USED. */
	h_expect_broken(h, VH_VIRTQ_E_DESC_NOT_AVAIL);
}

/* §2.8.19 Driver Requirements: Indirect Descriptors: "A driver MUST NOT
 * write direct descriptors with DESC_F_INDIRECT set in a scatter-gather
 * list linked by VIRTQ_DESC_F_NEXT." */
static void indirect_with_next(void **st)
{
	struct h *h = *st;

	h_init(h, 4, PK | IND, 0);
	set_pind(h, 0, 0, h_buf(h, 0), 16, 0);
	h_pdesc(h, h_ind_gpa(h, 0), 16, 0, I | N);
	h_pdesc(h, h_buf(h, 1), 16, 0, 0);
	h_expect_broken(h, VH_VIRTQ_E_INDIRECT_NEXT);
}

static void indirect_as_second_in_list(void **st)
{
	struct h *h = *st;

	h_init(h, 4, PK | IND, 0);
	set_pind(h, 0, 0, h_buf(h, 0), 16, 0);
	h_pdesc(h, h_buf(h, 1), 16, 0, N);
	h_pdesc(h, h_ind_gpa(h, 0), 16, 0, I);
	h_expect_broken(h, VH_VIRTQ_E_INDIRECT_NEXT);
}

/* §2.8.19: "The driver MUST NOT set any flags except DESC_F_WRITE within an
 * indirect descriptor." An INDIRECT there is refused. */
static void nested_indirect(void **st)
{
	struct h *h = *st;

	h_init(h, 4, PK | IND, 0);
	set_pind(h, 1, 0, h_buf(h, 0), 16, 0);
	set_pind(h, 0, 0, h_ind_gpa(h, 1), 16, I);
	h_pdesc(h, h_ind_gpa(h, 0), 16, 0, I);
	h_expect_broken(h, VH_VIRTQ_E_INDIRECT_NESTED);
}

/* §2.8.7: the table is desc[len / sizeof(struct pvirtq_desc)]. */
static void indirect_len_not_multiple_of_16(void **st)
{
	struct h *h = *st;

	h_init(h, 4, PK | IND, 0);
	set_pind(h, 0, 0, h_buf(h, 0), 16, 0);
	h_pdesc(h, h_ind_gpa(h, 0), 17, 0, I);
	h_expect_broken(h, VH_VIRTQ_E_INDIRECT_LEN);
}

static void indirect_len_zero(void **st)
{
	struct h *h = *st;

	h_init(h, 4, PK | IND, 0);
	h_pdesc(h, h_ind_gpa(h, 0), 0, 0, I);
	h_expect_broken(h, VH_VIRTQ_E_INDIRECT_LEN);
}

/* §2.8.19: "The driver MUST NOT set the DESC_F_INDIRECT flag unless the
 * VIRTIO_F_INDIRECT_DESC feature was negotiated." */
static void indirect_not_negotiated(void **st)
{
	struct h *h = *st;

	h_init(h, 4, PK, 0);
	set_pind(h, 0, 0, h_buf(h, 0), 16, 0);
	h_pdesc(h, h_ind_gpa(h, 0), 16, 0, I);
	h_expect_broken(h, VH_VIRTQ_E_INDIRECT_FEATURE);
}

static void indirect_table_outside_memory(void **st)
{
	struct h *h = *st;

	h_init(h, 4, PK | IND, 0);
	h_pdesc(h, h_gpa(h, H_MEM_LEN), 16, 0, I);
	h_expect_broken(h, VH_VIRTQ_E_INDIRECT_ADDR);
}

/* §2.8.17: "The driver MUST place any device-writable descriptor elements
 * after any device-readable descriptor elements." */
static void readable_after_writable(void **st)
{
	struct h *h = *st;

	h_init(h, 4, PK, 0);
	h_pdesc(h, h_buf(h, 0), 16, 0, W | N);
	h_pdesc(h, h_buf(h, 1), 16, 0, 0);
	h_expect_broken(h, VH_VIRTQ_E_WRITE_ORDER);
}

static void readable_after_writable_in_indirect_table(void **st)
{
	struct h *h = *st;

	h_init(h, 4, PK | IND, 0);
	set_pind(h, 0, 0, h_buf(h, 0), 16, W);
	set_pind(h, 0, 1, h_buf(h, 1), 16, 0);
	h_pdesc(h, h_ind_gpa(h, 0), 32, 0, I);
	h_expect_broken(h, VH_VIRTQ_E_WRITE_ORDER);
}

/* Policy (virtq.h): zero-length descriptors are refused. */
static void zero_length_descriptor(void **st)
{
	struct h *h = *st;

	h_init(h, 4, PK, 0);
	h_pdesc(h, h_buf(h, 0), 0, 0, 0);
	h_expect_broken(h, VH_VIRTQ_E_ZERO_LEN);
}

static void buffer_outside_memory(void **st)
{
	struct h *h = *st;

	h_init(h, 4, PK, 0);
	h_pdesc(h, h_gpa(h, 0) - 1, 2, 0, 0);
	h_expect_broken(h, VH_VIRTQ_E_ADDR);
}

/* §2.8.18: "The device MAY limit the number of buffers it will allow in a
 * list." */
static void list_longer_than_device_limit(void **st)
{
	struct h *h = *st;

	h_init(h, 8, PK | IND, 0);
	h->e->iov_cap = 3;
	for (unsigned i = 0; i < 4; i++)
		set_pind(h, 0, i, h_buf(h, i), 16, 0);
	h_pdesc(h, h_ind_gpa(h, 0), 64, 0, I);
	h_expect_broken(h, VH_VIRTQ_E_IOV_CAP);
}

/* §2.8.7: "Buffer ID is also reserved and is ignored by the device" inside
 * an indirect table, and the only valid flag is WRITE: NEXT there is
 * ignored, every entry of the table is used in order. */
static void indirect_table_entries_used_in_sequence(void **st)
{
	struct h *h = *st;

	h_init(h, 4, PK | IND, 0);
	set_pind(h, 0, 0, h_buf(h, 0), 10, N);
	set_pind(h, 0, 1, h_buf(h, 1), 20, 0);
	set_pind(h, 0, 2, h_buf(h, 2), 30, W);
	h_pdesc(h, h_ind_gpa(h, 0), 48, 7, I | W);
	assert_int_equal(vh_virtq_pop(h->vq, h->t, h->e), 1);
	assert_int_equal(h->e->id, 7);
	assert_int_equal(h->e->ndescs, 1);
	assert_int_equal(h->e->out_num, 2);
	assert_int_equal(h->e->in_num, 1);
	assert_int_equal(h->e->out_len, 30);
	assert_int_equal(h->e->in_len, 30);
}

/* §2.8.6: "Buffer ID is included in the last descriptor in the list." */
static void buffer_id_taken_from_last_descriptor(void **st)
{
	struct h *h = *st;

	h_init(h, 4, PK, 0);
	h_pdesc(h, h_buf(h, 0), 16, 99, N);
	h_pdesc(h, h_buf(h, 1), 16, 2, W);
	assert_int_equal(vh_virtq_pop(h->vq, h->t, h->e), 1);
	assert_int_equal(h->e->id, 2);
	assert_int_equal(h->e->ndescs, 2);
	assert_int_equal(vh_virtq_pop(h->vq, h->t, h->e), 0);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(descriptor_not_marked_available_is_not_used),
	    T(list_longer_than_queue_size),
	    T(chained_descriptor_not_available),
	    T(indirect_with_next),
	    T(indirect_as_second_in_list),
	    T(nested_indirect),
	    T(indirect_len_not_multiple_of_16),
	    T(indirect_len_zero),
	    T(indirect_not_negotiated),
	    T(indirect_table_outside_memory),
	    T(readable_after_writable),
	    T(readable_after_writable_in_indirect_table),
	    T(zero_length_descriptor),
	    T(buffer_outside_memory),
	    T(list_longer_than_device_limit),
	    T(indirect_table_entries_used_in_sequence),
	    T(buffer_id_taken_from_last_descriptor),
	};

	h_quiet_logs();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
