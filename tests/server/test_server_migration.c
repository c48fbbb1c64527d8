/* SPDX-License-Identifier: MIT */
/*
 * Migration (vhost-user.rst "Migration"): with SET_LOG_BASE (LOG_SHMFD),
 * LOG_ALL and VHOST_VRING_F_LOG switched on while the ring runs, every
 * guest page the device wrote — used ring (or packed descriptor ring and
 * device event area) and the buffers it filled — is marked in the log, and
 * no other page.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

#define LOG_ALL_F vh_virtio_feature_mask(VH_VHOST_F_LOG_ALL)
#define PAGE	  4096ull
#define LOG_BYTES ((((TH_GPA + TH_MEM_LEN) / PAGE + 7) / 8 + 4095) & ~4095ull)

static bool marked(const uint8_t *log, uint64_t page)
{
	return log[page / 8] & (1u << (page % 8));
}

static void log_marks_exactly_device_writes(bool packed)
{
	uint64_t mask = ~LOG_ALL_F;
	struct vhost_user_log l = {.mmap_size = LOG_BYTES, .mmap_offset = 0};
	struct vhost_user_vring_addr a;
	struct echo_dev e;
	struct vh_device d;
	struct th_srv s;
	struct th_guest g;
	uint8_t *log;
	unsigned expected = 0, seen = 0;
	int lfd;

	if (!packed)
		mask &= ~vh_virtio_feature_mask(VH_VIRTIO_F_RING_PACKED);
	echo_init(&e, ECHO_NOW);
	echo_device(&e, &d, 1, 0);
	th_srv_start(&s, &d, NULL);
	th_guest_init(&g, 1000);
	th_guest_connect(&g, s.path, ~(uint64_t)0, mask, true);
	assert_int_equal(g.packed, packed);
	assert_true(vh_protocol_has(g.pf, VHOST_USER_PROTOCOL_F_LOG_SHMFD));
	th_ring_setup(&g, 0, 64, 0);
	th_run(&g, 0, 0, 20, 4, 1, false);

	/* Migration starts: log, LOG_ALL, ring logging, on a live ring. */
	lfd = memfd_create("dirty-log", MFD_CLOEXEC);
	assert_int_equal(ftruncate(lfd, LOG_BYTES), 0);
	log = mmap(NULL, LOG_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, lfd, 0);
	assert_true(log != MAP_FAILED);
	assert_int_equal(vh_frontend_set_log_base(g.fe, &l, lfd), 0);
	assert_int_equal(vh_frontend_set_features(g.fe, g.features | LOG_ALL_F),
			 0);
	th_ring_addr(&g, 0, 1u << VHOST_VRING_F_LOG, &a);
	assert_int_equal(vh_frontend_set_vring_addr(g.fe, &a), 0);
	memset(log, 0, LOG_BYTES);
	g.r[0].slots_used = 0;
	th_run(&g, 0, 100, 40, 8, 2, false);

	for (uint64_t page = 0; page < LOG_BYTES * 8; page++) {
		uint64_t gpa = page * PAGE, ring = TH_GPA;
		bool want = false;

		for (unsigned slot = 0; slot < TH_SLOTS; slot++)
			if ((g.r[0].slots_used >> slot & 1) &&
			    gpa == th_gpa(0, slot, true))
				want = true;
		/* split: the used ring; packed: the descriptor ring and
		 * the device event structure. */
		if (gpa == ring + 0x2000 || (packed && gpa == ring))
			want = true;
		if (want) {
			expected++;
			assert_true(marked(log, page));
		}
		if (marked(log, page)) {
			seen++;
			if (!want)
				fail_msg("page 0x%llx marked, not written",
					 (unsigned long long)gpa);
		}
	}
	assert_int_equal(seen, expected);
	assert_true(expected >= 3);

	munmap(log, LOG_BYTES);
	close(lfd);
	th_guest_fini(&g);
	th_srv_stop(&s);
	echo_fini(&e);
}

static void test_split_log_marks_exactly_the_pages_the_device_wrote(void **s)
{
	(void)s;
	log_marks_exactly_device_writes(false);
}

static void test_packed_log_marks_exactly_the_pages_the_device_wrote(void **s)
{
	(void)s;
	log_marks_exactly_device_writes(true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
		test_split_log_marks_exactly_the_pages_the_device_wrote),
	    cmocka_unit_test(
		test_packed_log_marks_exactly_the_pages_the_device_wrote),
	};

	th_quiet_logs();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
