/* SPDX-License-Identifier: MIT */
/* Copy-on-write publication of memory tables, and the dirty-page log. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "mem/mem_test.h"
#include "vhost/log.h"
#include "vhost/mem.h"

static struct vhost_user_mem_region region(uint64_t gpa, uint64_t size,
					   uint64_t uva)
{
	struct vhost_user_mem_region r = {gpa, size, uva, 0};

	return r;
}

static void reader_keeps_old_table_valid_until_release(void **st)
{
	int before = test_fd_count();
	struct vh_mem *m;
	struct vh_mem_table *held, *cur;
	struct vhost_user_mem_region r = region(0x10000, PAGE, 0x100000);
	volatile uint8_t *p;

	(void)st;
	assert_int_equal(vh_mem_new(&m), 0);
	assert_int_equal(vh_mem_add_region(m, &r, test_memfd(PAGE)), 0);
	held = vh_mem_acquire(m);
	p = vh_mem_gpa_to_host(held, 0x10000, PAGE);
	assert_non_null(p);
	p[0] = 42;

	/* The front-end removes the region while a queue holds the table. */
	assert_int_equal(vh_mem_remove_region(m, &r), 0);
	cur = vh_mem_acquire(m);
	assert_ptr_not_equal(cur, held);
	assert_null(vh_mem_gpa_to_host(cur, 0x10000, 1));
	assert_false(vh_mem_is_current(m, held));
	/* The holder's memory is still there and still readable. */
	assert_int_equal(test_is_mapped((const void *)p), 1);
	assert_int_equal(p[0], 42);
	p[PAGE - 1] = 7;

	/* Last reader gone: the mapping goes away. */
	vh_mem_table_unref(held);
	assert_int_equal(test_is_mapped((const void *)p), 0);
	vh_mem_table_unref(cur);
	vh_mem_free(m);
	assert_int_equal(test_fd_count(), before);
}

static void refresh_is_free_when_nothing_changed(void **st)
{
	struct vh_mem *m;
	struct vh_mem_table *t, *t2;
	struct vhost_user_mem_region r = region(0, PAGE, 0x100000);
	uint64_t g;

	(void)st;
	assert_int_equal(vh_mem_new(&m), 0);
	g = vh_mem_generation(m);
	t = vh_mem_refresh(m, NULL);
	assert_int_equal(vh_mem_table_count(t), 0);
	assert_ptr_equal(vh_mem_refresh(m, t), t);
	assert_int_equal(vh_mem_add_region(m, &r, test_memfd(PAGE)), 0);
	assert_int_equal(vh_mem_generation(m), g + 1);
	t2 = vh_mem_refresh(m, t); /* drops t, takes the new one */
	assert_ptr_not_equal(t2, t);
	assert_int_equal(vh_mem_table_count(t2), 1);
	/* A refused edit publishes nothing. */
	assert_int_equal(vh_mem_add_region(m, &r, test_memfd(PAGE)), -EINVAL);
	assert_int_equal(vh_mem_generation(m), g + 1);
	assert_ptr_equal(vh_mem_refresh(m, t2), t2);
	vh_mem_table_unref(t2);
	vh_mem_free(m);
}

static void set_table_replaces_every_region(void **st)
{
	struct vh_mem *m;
	struct vhost_user_mem_region r[2] = {region(0, PAGE, 0x100000),
					     region(PAGE, PAGE, 0x200000)};
	int fds[2] = {test_memfd(PAGE), test_memfd(PAGE)};
	struct vh_mem_table *t;

	(void)st;
	assert_int_equal(vh_mem_new(&m), 0);
	assert_int_equal(vh_mem_set_table(m, r, fds, 2), 0);
	t = vh_mem_acquire(m);
	assert_int_equal(vh_mem_table_count(t), 2);
	vh_mem_table_unref(t);
	fds[0] = test_memfd(PAGE);
	r[0].guest_phys_addr = 0x100000;
	assert_int_equal(vh_mem_set_table(m, r, fds, 1), 0);
	t = vh_mem_acquire(m);
	assert_int_equal(vh_mem_table_count(t), 1);
	assert_non_null(vh_mem_gpa_to_host(t, 0x100000, PAGE));
	assert_null(vh_mem_gpa_to_host(t, 0, 1));
	vh_mem_table_unref(t);
	vh_mem_free(m);
}

struct churn {
	struct vh_mem *m;
	atomic_bool stop;
	atomic_uint reads;
};

static void *reader(void *arg)
{
	struct churn *c = arg;
	struct vh_mem_table *t = NULL;

	while (!atomic_load(&c->stop)) {
		t = vh_mem_refresh(c->m, t);
		/* Whatever table we hold, its pages are readable. */
		for (unsigned i = 0; i < vh_mem_table_count(t); i++) {
			struct vhost_user_mem_region r;
			void *h;

			vh_mem_table_region(t, i, &r, &h);
			if (*(volatile uint8_t *)h !=
			    (uint8_t)r.guest_phys_addr)
				abort();
		}
		atomic_fetch_add(&c->reads, 1);
	}
	vh_mem_table_unref(t);
	return NULL;
}

static void readers_survive_concurrent_add_and_remove(void **st)
{
	struct churn c = {.reads = 0};
	pthread_t th;
	int before = test_fd_count();

	(void)st;
	assert_int_equal(vh_mem_new(&c.m), 0);
	atomic_init(&c.stop, false);
	assert_int_equal(pthread_create(&th, NULL, reader, &c), 0);
	for (unsigned i = 0; i < 300; i++) {
		uint64_t gpa = (uint64_t)(i % 8) * 0x10000 + (i % 8);
		struct vhost_user_mem_region r =
		    region(gpa & ~0xfffull, PAGE, 0x100000 * (i % 8 + 1));
		int fd = test_memfd(PAGE);
		uint8_t tag = (uint8_t)r.guest_phys_addr;

		assert_int_equal(pwrite(fd, &tag, 1, 0), 1);
		if (vh_mem_add_region(c.m, &r, fd) == 0 && i % 3)
			assert_int_equal(vh_mem_remove_region(c.m, &r), 0);
	}
	atomic_store(&c.stop, true);
	pthread_join(th, NULL);
	assert_true(atomic_load(&c.reads) > 0);
	vh_mem_free(c.m);
	assert_int_equal(test_fd_count(), before);
}

/* A dirty log of @bytes bytes from a fresh memfd; its fd in *@fd (dup). */
static struct vh_mem_log *make_log(uint64_t bytes, int *fd)
{
	int f = test_memfd(bytes + 100);
	struct vh_mem_log *log;

	*fd = dup(f);
	assert_int_equal(vh_mem_log_new(f, bytes, 100, &log), 0);
	return log;
}

static void dirty_log_marks_exactly_the_pages_written(void **st)
{
	int fd;
	struct vh_mem_log *log = make_log(16, &fd); /* 128 pages */
	uint8_t bits[16];

	(void)st;
	assert_int_equal(vh_mem_log_size(log), 16);
	assert_int_equal(vh_mem_log_mark(log, 0x1000, 1), 0);	    /* page 1 */
	assert_int_equal(vh_mem_log_mark(log, 0x2fff, 2), 0);	    /* 2, 3 */
	assert_int_equal(vh_mem_log_mark(log, 0x9000, 0x2000), 0);  /* 9, 10 */
	assert_int_equal(vh_mem_log_mark(log, 0x7f000, 0x1000), 0); /* 127 */
	assert_int_equal(vh_mem_log_mark(log, 0x50000, 0), 0); /* nothing */
	/* Beyond the log: refused, nothing marked. */
	assert_int_equal(vh_mem_log_mark(log, 0x7f000, 0x1001), -ERANGE);
	assert_int_equal(vh_mem_log_mark(log, UINT64_MAX, 2), -ERANGE);
	/* The front-end sees the bits through its own mapping (offset 100). */
	assert_int_equal(pread(fd, bits, 16, 100), 16);
	uint8_t want[16] = {0};
	want[0] = (1 << 1) | (1 << 2) | (1 << 3);
	want[1] = (1 << 1) | (1 << 2);
	want[15] = 1 << 7;
	assert_memory_equal(bits, want, 16);
	assert_true(vh_mem_log_test(log, 0x9fff));
	assert_false(vh_mem_log_test(log, 0x8fff));
	vh_mem_log_unref(log);
	close(fd);
}

static void writes_through_a_logged_table_mark_the_log(void **st)
{
	struct vh_mem *m;
	struct vhost_user_mem_region r = region(0x4000, 4 * PAGE, 0x100000);
	struct vh_mem_table *t;
	int fd, before = test_fd_count();
	uint8_t bits, data[8] = {1, 2, 3, 4, 5, 6, 7, 8};

	(void)st;
	assert_int_equal(vh_mem_new(&m), 0);
	assert_int_equal(vh_mem_add_region(m, &r, test_memfd(4 * PAGE)), 0);
	assert_int_equal(vh_mem_set_log(m, make_log(1, &fd)), 0);
	t = vh_mem_acquire(m);
	assert_non_null(vh_mem_table_log(t));
	assert_int_equal(vh_mem_write(t, 0x6000 - 4, data, 8), 0); /* 5, 6 */
	assert_int_equal(pread(fd, &bits, 1, 100), 1);
	assert_int_equal(bits, (1 << 5) | (1 << 6));
	vh_mem_table_unref(t);
	/* The log stays attached across memory edits; detach with NULL. */
	r = region(0x10000, PAGE, 0x200000);
	assert_int_equal(vh_mem_add_region(m, &r, test_memfd(PAGE)), 0);
	t = vh_mem_acquire(m);
	assert_non_null(vh_mem_table_log(t));
	vh_mem_table_unref(t);
	assert_int_equal(vh_mem_set_log(m, NULL), 0);
	t = vh_mem_acquire(m);
	assert_null(vh_mem_table_log(t));
	vh_mem_table_unref(t);
	vh_mem_free(m);
	close(fd);
	assert_int_equal(test_fd_count(), before);
}

static void log_refuses_bad_size_and_closes_fd(void **st)
{
	int before = test_fd_count();
	struct vh_mem_log *log;

	(void)st;
	assert_int_equal(vh_mem_log_new(test_memfd(PAGE), 0, 0, &log), -EINVAL);
	assert_int_equal(vh_mem_log_new(test_memfd(PAGE), PAGE, 1, &log),
			 -EINVAL); /* fd too short */
	assert_int_equal(vh_mem_log_new(test_memfd(PAGE), UINT64_MAX, 2, &log),
			 -EINVAL);
	assert_null(log);
	assert_int_equal(test_fd_count(), before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(reader_keeps_old_table_valid_until_release),
	    cmocka_unit_test(refresh_is_free_when_nothing_changed),
	    cmocka_unit_test(set_table_replaces_every_region),
	    cmocka_unit_test(readers_survive_concurrent_add_and_remove),
	    cmocka_unit_test(dirty_log_marks_exactly_the_pages_written),
	    cmocka_unit_test(writes_through_a_logged_table_mark_the_log),
	    cmocka_unit_test(log_refuses_bad_size_and_closes_fd),
	};

	vh_log_set_handler(test_quiet_log, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
