/* SPDX-License-Identifier: MIT */
/*
 * devices/blk/fault.c on its own: a guarded copy whose source or target
 * page vanished (a memfd truncated under its mapping, as a front-end could
 * do to guest memory, or another process to a tmpfs image) returns -EFAULT
 * instead of killing the process; the guard can be used again afterwards,
 * on another thread too, and copies that do not fault move every byte.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cmocka.h>

#include "blk.h"

#define PAGE 4096u

struct shrunk {
	int fd;
	uint8_t *p; /* 4 pages mapped, only the first 2 left in the file */
};

static void shrunk_init(struct shrunk *m)
{
	m->fd = memfd_create("vh-fault-test", MFD_CLOEXEC);
	assert_true(m->fd >= 0);
	assert_int_equal(ftruncate(m->fd, 4 * PAGE), 0);
	m->p =
	    mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, m->fd, 0);
	assert_true(m->p != MAP_FAILED);
	memset(m->p, 0x5a, 4 * PAGE);
	assert_int_equal(ftruncate(m->fd, 2 * PAGE), 0);
}

static void shrunk_fini(struct shrunk *m)
{
	munmap(m->p, 4 * PAGE);
	close(m->fd);
}

static void test_copies_around_a_truncated_mapping(void **s)
{
	static uint8_t img[4 * PAGE];
	struct shrunk g;
	struct iovec iov[2];

	(void)s;
	assert_int_equal(blk_fault_init(), 0);
	shrunk_init(&g);
	memset(img, 0x11, sizeof(img));

	/* Read into guest pages that still exist: every byte arrives. */
	iov[0] = (struct iovec){g.p, 100};
	iov[1] = (struct iovec){g.p + 100, 2 * PAGE - 100};
	assert_int_equal(blk_copy_iov(img, iov, 2, false), 0);
	for (unsigned i = 0; i < 2 * PAGE; i++)
		assert_int_equal(g.p[i], 0x11);

	/* The second buffer runs into the vanished page: both directions. */
	iov[1] = (struct iovec){g.p + PAGE, 2 * PAGE};
	assert_int_equal(blk_copy_iov(img, iov, 2, false), -EFAULT);
	assert_int_equal(blk_copy_iov(img, iov, 2, true), -EFAULT);
	/* The guard is usable again: a good copy, then a fault again. */
	iov[0] = (struct iovec){g.p + PAGE, PAGE};
	memset(img, 0x22, PAGE);
	assert_int_equal(blk_copy_iov(img, iov, 1, false), 0);
	assert_int_equal(g.p[2 * PAGE - 1], 0x22);
	iov[0] = (struct iovec){g.p + 3 * PAGE, 1};
	assert_int_equal(blk_copy_iov(img, iov, 1, true), -EFAULT);

	/* The image side vanished instead (a truncated tmpfs image). */
	iov[0] = (struct iovec){img, PAGE};
	assert_int_equal(blk_copy_iov(g.p + 2 * PAGE, iov, 1, true), -EFAULT);
	assert_int_equal(blk_copy_iov(g.p + 2 * PAGE, iov, 1, false), -EFAULT);
	shrunk_fini(&g);
}

static void *fault_in_thread(void *arg)
{
	struct shrunk *g = arg;
	struct iovec iov = {g->p + 2 * PAGE, 64};
	static uint8_t buf[64];
	intptr_t rc = blk_copy_iov(buf, &iov, 1, false);

	return (void *)rc;
}

static void test_each_thread_has_its_own_guard(void **s)
{
	struct shrunk g;
	pthread_t t[4];

	(void)s;
	assert_int_equal(blk_fault_init(), 0);
	shrunk_init(&g);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(
		    pthread_create(&t[i], NULL, fault_in_thread, &g), 0);
	for (unsigned i = 0; i < 4; i++) {
		void *rc;

		assert_int_equal(pthread_join(t[i], &rc), 0);
		assert_int_equal((intptr_t)rc, -EFAULT);
	}
	shrunk_fini(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_copies_around_a_truncated_mapping),
	    cmocka_unit_test(test_each_thread_has_its_own_guard),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
