/* SPDX-License-Identifier: MIT */
/*
 * Hostile split rings, built by hand: one test per rule of virtio 1.2 §2.7
 * (section numbers of virtio-v1.2-cs01). Each asserts the error, that the
 * queue stays broken, and that the failure was logged once.
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

#define IND F(VH_VIRTIO_RING_F_INDIRECT_DESC)

static int teardown(void **st)
{
	h_fini(*st);
	return 0;
}

static int setup(void **st)
{
	static struct h h;

	*st = &h;
	return 0;
}

/* §2.7.13 "Supplying Buffers": the ring holds queue-size entries, so the
 * driver is never more than that ahead; §2.7.6.1: it never goes back. */
static void avail_idx_more_than_queue_size_ahead(void **st)
{
	struct h *h = *st;

	h_init(h, 4, 0, 0);
	h_avail_set_idx(h, 5);
	h_expect_broken(h, VH_VIRTQ_E_AVAIL_IDX);
}

static void avail_idx_going_backwards(void **st)
{
	struct h *h = *st;

	h_init(h, 4, 0, 0);
	h_avail_set_idx(h, 0xffff); /* "decremented" from 0 */
	h_expect_broken(h, VH_VIRTQ_E_AVAIL_IDX);
}

/* §2.7.6: ring entries are heads of chains in a table of queue size. */
static void head_index_out_of_range(void **st)
{
	struct h *h = *st;

	h_init(h, 4, 0, 0);
	h_avail_push(h, 4);
	h_expect_broken(h, VH_VIRTQ_E_HEAD_RANGE);
}

/* §2.7.5.2 Driver Requirements: The Virtqueue Descriptor Table: "loops in
 * the descriptor chain are forbidden". */
static void direct_chain_loop(void **st)
{
	struct h *h = *st;

	h_init(h, 4, 0, 0);
	h_set_desc(h, 0, h_buf(h, 0), 16, VIRTQ_DESC_F_NEXT, 1);
	h_set_desc(h, 1, h_buf(h, 1), 16, VIRTQ_DESC_F_NEXT, 0);
	h_avail_push(h, 0);
	h_expect_broken(h, VH_VIRTQ_E_CHAIN_LEN);
}

static void direct_chain_self_loop(void **st)
{
	struct h *h = *st;

	h_init(h, 8, 0, 0);
	h_set_desc(h, 3, h_buf(h, 0), 16, VIRTQ_DESC_F_NEXT, 3);
	h_avail_push(h, 3);
	h_expect_broken(h, VH_VIRTQ_E_CHAIN_LEN);
}

/* §2.7.5.3.1: "A driver MUST NOT create a descriptor chain longer than the
 * Queue Size of the device" — through an indirect table the bound is the
 * table, and a loop there is caught the same way. */
static void indirect_chain_loop(void **st)
{
	struct h *h = *st;

	h_init(h, 4, IND, 0);
	h_set_ind(h, 0, 0, h_buf(h, 0), 16, VIRTQ_DESC_F_NEXT, 1);
	h_set_ind(h, 0, 1, h_buf(h, 1), 16, VIRTQ_DESC_F_NEXT, 2);
	h_set_ind(h, 0, 2, h_buf(h, 2), 16, VIRTQ_DESC_F_NEXT, 0);
	h_set_desc(h, 0, h_ind_gpa(h, 0), 3 * 16, VIRTQ_DESC_F_INDIRECT, 0);
	h_avail_push(h, 0);
	h_expect_broken(h, VH_VIRTQ_E_CHAIN_LEN);
}

/* §2.7.5: next indexes the descriptor table (queue size entries). */
static void next_out_of_range(void **st)
{
	struct h *h = *st;

	h_init(h, 4, 0, 0);
	h_set_desc(h, 0, h_buf(h, 0), 16, VIRTQ_DESC_F_NEXT, 4);
	h_avail_push(h, 0);
	h_expect_broken(h, VH_VIRTQ_E_NEXT_RANGE);
}

/* §2.7.5.3: an indirect table has len / 16 entries. */
static void indirect_next_out_of_range(void **st)
{
	struct h *h = *st;

	h_init(h, 4, IND, 0);
	h_set_ind(h, 0, 0, h_buf(h, 0), 16, VIRTQ_DESC_F_NEXT, 2);
	h_set_ind(h, 0, 1, h_buf(h, 1), 16, 0, 0);
	h_set_desc(h, 0, h_ind_gpa(h, 0), 2 * 16, VIRTQ_DESC_F_INDIRECT, 0);
	h_avail_push(h, 0);
	h_expect_broken(h, VH_VIRTQ_E_NEXT_RANGE);
}

/* §2.7.5.3.1: "The driver MUST NOT set the VIRTQ_DESC_F_INDIRECT flag within
 * an indirect descriptor (ie. only one table per descriptor)." */
static void nested_indirect(void **st)
{
	struct h *h = *st;

	h_init(h, 4, IND, 0);
	h_set_ind(h, 1, 0, h_buf(h, 0), 16, 0, 0);
	h_set_ind(h, 0, 0, h_ind_gpa(h, 1), 16, VIRTQ_DESC_F_INDIRECT, 0);
	h_set_desc(h, 0, h_ind_gpa(h, 0), 16, VIRTQ_DESC_F_INDIRECT, 0);
	h_avail_push(h, 0);
	h_expect_broken(h, VH_VIRTQ_E_INDIRECT_NESTED);
}

/* §2.7.5.3.1: "A driver MUST NOT set both VIRTQ_DESC_F_INDIRECT and
 * VIRTQ_DESC_F_NEXT in flags." */
static void indirect_with_next(void **st)
{
	struct h *h = *st;

	h_init(h, 4, IND, 0);
	h_set_ind(h, 0, 0, h_buf(h, 0), 16, 0, 0);
	h_set_desc(h, 0, h_ind_gpa(h, 0), 16,
		   VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 1);
	h_set_desc(h, 1, h_buf(h, 1), 16, 0, 0);
	h_avail_push(h, 0);
	h_expect_broken(h, VH_VIRTQ_E_INDIRECT_NEXT);
}

/* §2.7.5.3: the table is desc[len / 16]: len must be a non-zero multiple
 * of 16. */
static void indirect_len_not_multiple_of_16(void **st)
{
	struct h *h = *st;

	h_init(h, 4, IND, 0);
	h_set_ind(h, 0, 0, h_buf(h, 0), 16, 0, 0);
	h_set_desc(h, 0, h_ind_gpa(h, 0), 24, VIRTQ_DESC_F_INDIRECT, 0);
	h_avail_push(h, 0);
	h_expect_broken(h, VH_VIRTQ_E_INDIRECT_LEN);
}

static void indirect_len_zero(void **st)
{
	struct h *h = *st;

	h_init(h, 4, IND, 0);
	h_set_desc(h, 0, h_ind_gpa(h, 0), 0, VIRTQ_DESC_F_INDIRECT, 0);
	h_avail_push(h, 0);
	h_expect_broken(h, VH_VIRTQ_E_INDIRECT_LEN);
}

/* §2.7.5.3.1: "The driver MUST NOT set the VIRTQ_DESC_F_INDIRECT flag
 * unless the VIRTIO_F_INDIRECT_DESC feature was negotiated." */
static void indirect_not_negotiated(void **st)
{
	struct h *h = *st;

	h_init(h, 4, 0, 0);
	h_set_ind(h, 0, 0, h_buf(h, 0), 16, 0, 0);
	h_set_desc(h, 0, h_ind_gpa(h, 0), 16, VIRTQ_DESC_F_INDIRECT, 0);
	h_avail_push(h, 0);
	h_expect_broken(h, VH_VIRTQ_E_INDIRECT_FEATURE);
}

/* §2.7.5: addr is a guest-physical address; outside memory is refused
 * before any access. */
static void indirect_table_outside_memory(void **st)
{
	struct h *h = *st;

	h_init(h, 4, IND, 0);
	h_set_desc(h, 0, h_gpa(h, H_MEM_LEN - 16), 32, VIRTQ_DESC_F_INDIRECT,
		   0);
	h_avail_push(h, 0);
	h_expect_broken(h, VH_VIRTQ_E_INDIRECT_ADDR);
}

/* §2.7.4.2 Driver Requirements: Message Framing: "The driver MUST place any
 * device-writable descriptor elements after any device-readable descriptor
 * elements." */
static void readable_after_writable(void **st)
{
	struct h *h = *st;

	h_init(h, 4, 0, 0);
	h_set_desc(h, 0, h_buf(h, 0), 16,
		   VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	h_set_desc(h, 1, h_buf(h, 1), 16, 0, 0);
	h_avail_push(h, 0);
	h_expect_broken(h, VH_VIRTQ_E_WRITE_ORDER);
}

/* Same layout, with the device option that tolerates it: the readable
 * element still comes first in the element. */
static void readable_after_writable_accepted_with_any_order(void **st)
{
	struct h *h = *st;

	h_init(h, 4, 0, VH_VIRTQ_F_ANY_ORDER);
	h_set_desc(h, 0, h_buf(h, 0), 16,
		   VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	h_set_desc(h, 1, h_buf(h, 1), 32, VIRTQ_DESC_F_NEXT, 2);
	h_set_desc(h, 2, h_buf(h, 2), 48, VIRTQ_DESC_F_WRITE, 0);
	h_avail_push(h, 0);
	assert_int_equal(vh_virtq_pop(h->vq, h->t, h->e), 1);
	assert_int_equal(h->e->out_num, 1);
	assert_int_equal(h->e->in_num, 2);
	assert_int_equal(h->e->out_len, 32);
	assert_int_equal(h->e->in_len, 64);
	assert_int_equal(h->e->gpa[0], h_buf(h, 1));
	assert_int_equal(h->e->gpa[1], h_buf(h, 0));
	assert_int_equal(h->e->gpa[2], h_buf(h, 2));
	assert_int_equal(h->e->iov[0].iov_len, 32);
}

/* Policy (virtq.h): zero-length descriptors are refused. */
static void zero_length_descriptor(void **st)
{
	struct h *h = *st;

	h_init(h, 4, 0, 0);
	h_set_desc(h, 0, h_buf(h, 0), 16, VIRTQ_DESC_F_NEXT, 1);
	h_set_desc(h, 1, h_buf(h, 1), 0, VIRTQ_DESC_F_WRITE, 0);
	h_avail_push(h, 0);
	h_expect_broken(h, VH_VIRTQ_E_ZERO_LEN);
}

/* §2.7.5: buffers are guest memory; one byte past the end is refused. */
static void buffer_one_byte_past_memory(void **st)
{
	struct h *h = *st;

	h_init(h, 4, 0, 0);
	h_set_desc(h, 0, h_gpa(h, H_MEM_LEN - 16), 17, 0, 0);
	h_avail_push(h, 0);
	h_expect_broken(h, VH_VIRTQ_E_ADDR);
}

static void buffer_address_wraps(void **st)
{
	struct h *h = *st;

	h_init(h, 4, 0, 0);
	h_set_desc(h, 0, UINT64_MAX - 4, 16, 0, 0);
	h_avail_push(h, 0);
	h_expect_broken(h, VH_VIRTQ_E_ADDR);
}

/* §2.7.5.2: "Drivers MUST NOT add a descriptor chain longer than 2^32 bytes
 * in total". Two 2 GiB descriptors over a sparse 2 GiB region (never
 * touched) make 4 GiB. */
static void total_length_over_4gib(void **st)
{
	struct h *h = *st;
	uint64_t big = 1ull << 31, gpa = 1ull << 40;
	int fd = memfd_create("big", MFD_CLOEXEC);
	struct vh_mem_table *t2;
	struct vhost_user_mem_region r = {gpa, big, gpa, 0};

	h_init(h, 4, 0, 0);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)big), 0);
	assert_int_equal(vh_mem_table_add(h->t, &r, fd, &t2), 0);
	vh_mem_table_unref(h->t);
	h->t = t2;
	h_set_desc(h, 0, gpa, (uint32_t)big, VIRTQ_DESC_F_NEXT, 1);
	h_set_desc(h, 1, gpa, (uint32_t)big, VIRTQ_DESC_F_WRITE, 0);
	h_avail_push(h, 0);
	h_expect_broken(h, VH_VIRTQ_E_TOTAL_LEN);
}

/* §2.7.4.1: "The device MAY have a reasonable limit of descriptors it will
 * allow in a chain": here the element's iovec room. */
static void chain_longer_than_device_limit(void **st)
{
	struct h *h = *st;

	h_init(h, 4, 0, 0);
	h->e->iov_cap = 2;
	h_set_desc(h, 0, h_buf(h, 0), 16, VIRTQ_DESC_F_NEXT, 1);
	h_set_desc(h, 1, h_buf(h, 1), 16, VIRTQ_DESC_F_NEXT, 2);
	h_set_desc(h, 2, h_buf(h, 2), 16, 0, 0);
	h_avail_push(h, 0);
	h_expect_broken(h, VH_VIRTQ_E_IOV_CAP);
}

/* A good chain still pops after hostile ones were refused elsewhere, and
 * one that crosses two regions gives one iovec per region. */
static void descriptor_crossing_regions_gives_two_iovecs(void **st)
{
	struct h *h = *st;
	uint64_t gpa = 1ull << 40;

	h_init(h, 4, 0, 0);
	h_add_adjacent_regions(h, gpa);
	h_set_desc(h, 0, gpa + 4000, 200, VIRTQ_DESC_F_WRITE, 0);
	h_avail_push(h, 0);
	assert_int_equal(vh_virtq_pop(h->vq, h->t, h->e), 1);
	assert_int_equal(h->e->in_num, 2);
	assert_int_equal(h->e->iov[0].iov_len, 96);
	assert_int_equal(h->e->iov[1].iov_len, 104);
	assert_int_equal(h->e->gpa[1], gpa + 4096);
	assert_int_equal(h->e->in_len, 200);
	assert_false(vh_virtq_is_broken(h->vq));
}

/* §2.7.5.3.2: "The device MUST handle the case of zero or more normal
 * chained descriptors followed by a single descriptor with
 * flags&VIRTQ_DESC_F_INDIRECT", and ignores WRITE on that descriptor. */
static void direct_descriptors_then_one_indirect_are_accepted(void **st)
{
	struct h *h = *st;

	h_init(h, 4, IND, 0);
	h_set_ind(h, 0, 0, h_buf(h, 1), 20, VIRTQ_DESC_F_NEXT, 1);
	h_set_ind(h, 0, 1, h_buf(h, 2), 30, VIRTQ_DESC_F_WRITE, 0);
	h_set_desc(h, 0, h_buf(h, 0), 10, VIRTQ_DESC_F_NEXT, 1);
	h_set_desc(h, 1, h_ind_gpa(h, 0), 32,
		   VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_WRITE, 0);
	h_avail_push(h, 0);
	assert_int_equal(vh_virtq_pop(h->vq, h->t, h->e), 1);
	assert_int_equal(h->e->out_num, 2);
	assert_int_equal(h->e->in_num, 1);
	assert_int_equal(h->e->out_len, 30);
	assert_int_equal(h->e->in_len, 30);
}

/* Device misuse is not a broken ring: a used len above the writable bytes
 * is refused with -EINVAL and nothing is written. */
static void push_len_above_writable_bytes_is_refused(void **st)
{
	struct h *h = *st;
	struct vh_vring_used *u = (void *)(h->mem + H_DEVICE_OFF);

	h_init(h, 4, 0, 0);
	h_set_desc(h, 0, h_buf(h, 0), 16, VIRTQ_DESC_F_WRITE, 0);
	h_avail_push(h, 0);
	assert_int_equal(vh_virtq_pop(h->vq, h->t, h->e), 1);
	assert_int_equal(vh_virtq_push(h->vq, h->t, h->e, 17), -EINVAL);
	assert_int_equal(u->idx, 0);
	assert_false(vh_virtq_is_broken(h->vq));
	assert_int_equal(vh_virtq_push(h->vq, h->t, h->e, 16), 0);
	assert_int_equal(u->idx, 1);
	assert_int_equal(u->ring[0].id, 0);
	assert_int_equal(u->ring[0].len, 16);
	/* More pushes than pops. */
	assert_int_equal(vh_virtq_push(h->vq, h->t, h->e, 0), -EINVAL);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(avail_idx_more_than_queue_size_ahead),
	    T(avail_idx_going_backwards),
	    T(head_index_out_of_range),
	    T(direct_chain_loop),
	    T(direct_chain_self_loop),
	    T(indirect_chain_loop),
	    T(next_out_of_range),
	    T(indirect_next_out_of_range),
	    T(nested_indirect),
	    T(indirect_with_next),
	    T(indirect_len_not_multiple_of_16),
	    T(indirect_len_zero),
	    T(indirect_not_negotiated),
	    T(indirect_table_outside_memory),
	    T(readable_after_writable),
	    T(readable_after_writable_accepted_with_any_order),
	    T(zero_length_descriptor),
	    T(buffer_one_byte_past_memory),
	    T(buffer_address_wraps),
	    T(total_length_over_4gib),
	    T(chain_longer_than_device_limit),
	    T(descriptor_crossing_regions_gives_two_iovecs),
	    T(direct_descriptors_then_one_indirect_are_accepted),
	    T(push_len_above_writable_bytes_is_refused),
	};

	h_quiet_logs();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
