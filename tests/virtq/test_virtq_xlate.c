/* SPDX-License-Identifier: MIT */
/*
 * The queue's translation cache (struct vh_virtq rc_*): buffers anywhere in
 * a region translate to the right host address once part of the region is
 * cached, every bound is still checked with a warm cache, adjacent regions
 * stay apart, and a table other than the one the rings came from is never
 * answered from the cache.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "virtq/vq_harness.h"

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

/* Host address of guest-physical @gpa in @t (which must map it). */
static uint8_t *host_of(const struct vh_mem_table *t, uint64_t gpa)
{
	for (unsigned i = 0; i < vh_mem_table_count(t); i++) {
		struct vhost_user_mem_region r;
		void *host;

		assert_int_equal(vh_mem_table_region(t, i, &r, &host), 0);
		if (gpa >= r.guest_phys_addr &&
		    gpa - r.guest_phys_addr < r.memory_size)
			return (uint8_t *)host + (gpa - r.guest_phys_addr);
	}
	fail_msg("0x%llx not mapped", (unsigned long long)gpa);
	return NULL;
}

/* Pop one single-descriptor buffer at guest-physical @gpa, @len bytes,
 * writable; returns its host address. */
static uint8_t *pop_one(struct h *h, const struct vh_mem_table *t, uint64_t gpa,
			uint32_t len)
{
	uint16_t head = h->avail_idx % h->size;

	h_set_desc(h, head, gpa, len, VIRTQ_DESC_F_WRITE, 0);
	h_avail_push(h, head);
	assert_int_equal(vh_virtq_pop(h->vq, t, h->e), 1);
	assert_int_equal(h->e->in_num, 1);
	assert_int_equal(h->e->out_num, 0);
	assert_int_equal(h->e->in_len, len);
	assert_int_equal(h->e->iov[0].iov_len, len);
	assert_int_equal(h->e->gpa[0], gpa);
	assert_int_equal(vh_virtq_push(h->vq, t, h->e, 0), 0);
	return h->e->iov[0].iov_base;
}

static void buffers_above_and_below_a_cached_one_translate(void **st)
{
	struct h *h = *st;
	/* Down, up, down again, the first and last bytes of memory. */
	static const uint64_t offs[] = {
	    0x80000, 0x40000, 0xc0000, 0x20010, 0x90000, 0x0, H_MEM_LEN - 64};

	h_init(h, 8, 0, 0);
	for (unsigned i = 0; i < sizeof(offs) / sizeof(offs[0]); i++)
		assert_ptr_equal(pop_one(h, h->t, h_gpa(h, offs[i]), 64),
				 host_of(h->t, h_gpa(h, offs[i])));
	assert_false(vh_virtq_is_broken(h->vq));
}

/* §2.7.5: a buffer one byte past guest memory is refused also when the
 * rest of the region is cached. */
static void buffer_past_memory_refused_with_a_warm_cache(void **st)
{
	struct h *h = *st;

	h_init(h, 8, 0, 0);
	pop_one(h, h->t, h_gpa(h, 0x1000), 64);
	pop_one(h, h->t, h_gpa(h, H_MEM_LEN - 64), 64);
	h_set_desc(h, 3, h_gpa(h, H_MEM_LEN - 16), 17, VIRTQ_DESC_F_WRITE, 0);
	h_avail_push(h, 3);
	h_expect_broken(h, VH_VIRTQ_E_ADDR);
}

static void buffer_below_memory_refused_with_a_warm_cache(void **st)
{
	struct h *h = *st;

	h_init_at(h, 8, 0, 0, 1ull << 32);
	pop_one(h, h->t, h_gpa(h, 0), 64);
	h_set_desc(h, 3, h_gpa(h, 0) - 1, 2, VIRTQ_DESC_F_WRITE, 0);
	h_avail_push(h, 3);
	h_expect_broken(h, VH_VIRTQ_E_ADDR);
}

/* Policy (virtq.h): zero-length descriptors are refused, cache or not. */
static void zero_length_single_descriptor_refused_with_a_warm_cache(void **st)
{
	struct h *h = *st;

	h_init(h, 8, 0, 0);
	pop_one(h, h->t, h_gpa(h, 0x1000), 64);
	h_set_desc(h, 3, h_gpa(h, 0x1000), 0, VIRTQ_DESC_F_WRITE, 0);
	h_avail_push(h, 3);
	h_expect_broken(h, VH_VIRTQ_E_ZERO_LEN);
}

static void packed_buffer_past_memory_refused_with_a_warm_cache(void **st)
{
	struct h *h = *st;

	h_init(h, 8, F(VH_VIRTIO_F_RING_PACKED), 0);
	h_pdesc(h, h_gpa(h, 0x2000), 64, 1, VIRTQ_DESC_F_WRITE);
	assert_int_equal(vh_virtq_pop(h->vq, h->t, h->e), 1);
	assert_ptr_equal(h->e->iov[0].iov_base,
			 host_of(h->t, h_gpa(h, 0x2000)));
	assert_int_equal(vh_virtq_push(h->vq, h->t, h->e, 0), 0);
	h_pdesc(h, h_gpa(h, H_MEM_LEN - 16), 17, 2, VIRTQ_DESC_F_WRITE);
	h_expect_broken(h, VH_VIRTQ_E_ADDR);
}

/* Two adjacent regions (separate mappings) in the table the rings come
 * from: each buffer is translated in its own region, one crossing the
 * boundary gives two iovecs, whatever the cache held before. */
static void adjacent_regions_stay_apart(void **st)
{
	struct h *h = *st;
	uint64_t gpa = 1ull << 40;

	h_init(h, 8, 0, 0);
	h_add_adjacent_regions(h, gpa);
	/* The rings again, from the table with both regions. */
	vh_virtq_free(h->vq);
	h_new_device(h, 0);

	assert_ptr_equal(pop_one(h, h->t, gpa + 100, 64),
			 host_of(h->t, gpa + 100));
	assert_ptr_equal(pop_one(h, h->t, gpa + 4096 + 8, 64),
			 host_of(h->t, gpa + 4096 + 8));
	assert_ptr_equal(pop_one(h, h->t, gpa + 4096 - 64, 64),
			 host_of(h->t, gpa + 4096 - 64));
	assert_ptr_equal(pop_one(h, h->t, gpa, 64), host_of(h->t, gpa));
	assert_ptr_equal(pop_one(h, h->t, gpa + 8192 - 64, 64),
			 host_of(h->t, gpa + 8192 - 64));
	assert_ptr_equal(pop_one(h, h->t, h_gpa(h, 0x3000), 64),
			 host_of(h->t, h_gpa(h, 0x3000)));

	/* Across the boundary, after both regions were cached in turn. */
	h_set_desc(h, 0, gpa + 4000, 200, VIRTQ_DESC_F_WRITE, 0);
	h_avail_push(h, 0);
	assert_int_equal(vh_virtq_pop(h->vq, h->t, h->e), 1);
	assert_int_equal(h->e->in_num, 2);
	assert_ptr_equal(h->e->iov[0].iov_base, host_of(h->t, gpa + 4000));
	assert_int_equal(h->e->iov[0].iov_len, 96);
	assert_ptr_equal(h->e->iov[1].iov_base, host_of(h->t, gpa + 4096));
	assert_int_equal(h->e->iov[1].iov_len, 104);
	assert_int_equal(vh_virtq_push(h->vq, h->t, h->e, 0), 0);

	/* Past the end of the second region. */
	h_set_desc(h, 1, gpa + 8192 - 8, 9, VIRTQ_DESC_F_WRITE, 0);
	h_avail_push(h, 1);
	h_expect_broken(h, VH_VIRTQ_E_ADDR);
}

/* A pop given another table (a new memory table while the ring runs)
 * translates in that table, not from what the cache learnt from the ring's
 * table: here the same guest addresses map to other memory. */
static void another_table_is_not_answered_from_the_cache(void **st)
{
	struct h *h = *st;
	struct vhost_user_mem_region r;
	struct vh_mem_table *other;
	int fd;

	h_init(h, 8, 0, 0);
	assert_ptr_equal(pop_one(h, h->t, h_gpa(h, 0x30000), 64),
			 host_of(h->t, h_gpa(h, 0x30000)));
	fd = memfd_create("other", MFD_CLOEXEC);
	assert_int_equal(ftruncate(fd, H_MEM_LEN), 0);
	r.guest_phys_addr = h_gpa(h, 0);
	r.userspace_addr = h_uva(h, 0);
	r.memory_size = H_MEM_LEN;
	r.mmap_offset = 0;
	assert_int_equal(vh_mem_table_new(&r, &fd, 1, &other), 0);
	assert_ptr_equal(pop_one(h, other, h_gpa(h, 0x30000), 64),
			 host_of(other, h_gpa(h, 0x30000)));
	assert_ptr_not_equal(host_of(other, h_gpa(h, 0x30000)),
			     host_of(h->t, h_gpa(h, 0x30000)));
	/* And the ring's table still from its own memory. */
	assert_ptr_equal(pop_one(h, h->t, h_gpa(h, 0x30000), 64),
			 host_of(h->t, h_gpa(h, 0x30000)));
	vh_mem_table_unref(other);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(buffers_above_and_below_a_cached_one_translate),
	    T(buffer_past_memory_refused_with_a_warm_cache),
	    T(buffer_below_memory_refused_with_a_warm_cache),
	    T(zero_length_single_descriptor_refused_with_a_warm_cache),
	    T(packed_buffer_past_memory_refused_with_a_warm_cache),
	    T(adjacent_regions_stay_apart),
	    T(another_table_is_not_answered_from_the_cache),
	};

	h_quiet_logs();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
