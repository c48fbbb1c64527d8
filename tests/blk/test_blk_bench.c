/* SPDX-License-Identifier: MIT */
/*
 * vhost-user-blk measured by vhost-user-bench (tools/bench, $VH_BENCH_BIN)
 * as a child process: --verify with two queues served by two threads, with
 * packed rings and indirect tables, with 4096-byte logical blocks, on RAM;
 * and --bad --strict (past-end, short-chain, ro-buffer: the answers the
 * spec asks for, the device alive after each; bad-addr: see below).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "bt.h"

static char out[65536];

/* Run vhost-user-bench --socket t->sock ARGS...: exit status; stdout in
 * out[] (stderr too when TH_VERBOSE). */
static int bench(struct bt *t, ...)
{
	const char *bin = getenv("VH_BENCH_BIN");
	char *argv[32];
	unsigned n = 0;
	const char *a;
	va_list ap;
	int p[2], st;
	size_t len = 0;
	ssize_t r;
	pid_t pid;

	assert_non_null(bin);
	argv[n++] = (char *)bin;
	argv[n++] = "--socket";
	argv[n++] = t->sock;
	argv[n++] = "--quiet";
	va_start(ap, t);
	while ((a = va_arg(ap, const char *)) && n < 31)
		argv[n++] = (char *)a;
	va_end(ap);
	argv[n] = NULL;
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(p[1], 1);
		if (!getenv("TH_VERBOSE"))
			dup2(open("/dev/null", O_WRONLY), 2);
		execv(bin, argv);
		_exit(127);
	}
	close(p[1]);
	while ((r = read(p[0], out + len, sizeof(out) - 1 - len)) > 0)
		len += (size_t)r;
	out[len] = 0;
	close(p[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (getenv("TH_VERBOSE"))
		fprintf(stderr, "%s", out);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static unsigned threads_of(pid_t pid)
{
	char path[64];
	unsigned n = 0;
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	assert_non_null(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static void test_verify_two_queues_on_two_threads(void **s)
{
	struct bt t;

	(void)s;
	bt_init(&t);
	bt_image(&t, 32u << 20, false);
	bt_start(&t, "--num-queues", "2", "--queues-per-thread", "1", NULL);
	assert_int_equal(bench(&t, "--verify", "--queues", "2", "--iodepth",
			       "16", "--bs", "16k", "--json", NULL),
			 0);
	assert_non_null(strstr(out, "\"result\":\"ok\""));
	assert_non_null(strstr(out, "\"mismatched\":0"));
	/* The main thread and one worker per queue. */
	assert_true(threads_of(t.pid) >= 3);
	assert_true(bt_log_has(&t, "2 queues on 2 threads"));
	bt_fini(&t);
}

static void test_verify_packed_ring_with_indirect_tables(void **s)
{
	struct bt t;

	(void)s;
	bt_init(&t);
	bt_image(&t, 16u << 20, false);
	bt_start(&t, NULL);
	assert_int_equal(bench(&t, "--verify", "--packed", "--indirect",
			       "--iodepth", "32", "--json", NULL),
			 0);
	assert_non_null(strstr(out, "\"result\":\"ok\""));
	assert_non_null(strstr(out, "VIRTIO_F_RING_PACKED"));
	bt_fini(&t);
}

/* Devices separated by "--" share the process, each with its own socket,
 * storage, block size and queues; SIGTERM stops all and removes both
 * sockets. */
static void test_two_devices_in_one_process(void **s)
{
	struct bt t, u;
	int st;

	(void)s;
	bt_init(&t);
	bt_init(&u);
	bt_start(&t, "--ram", "16M", "--", "--socket-path", u.sock, "--ram",
		 "8M", "--logical-block-size", "4096", "--num-queues", "2",
		 NULL);
	assert_int_equal(
	    bench(&t, "--verify", "--iodepth", "8", "--json", NULL), 0);
	assert_non_null(strstr(out, "\"result\":\"ok\""));
	assert_non_null(strstr(out, "\"capacity_sectors\":32768"));
	assert_int_equal(bench(&u, "--verify", "--queues", "2", "--bs", "8k",
			       "--json", NULL),
			 0);
	assert_non_null(strstr(out, "\"result\":\"ok\""));
	assert_non_null(strstr(out, "\"capacity_sectors\":16384"));
	assert_non_null(strstr(out, "\"blk_size\":4096"));
	/* Both served at once: the first again while the second is up. */
	assert_int_equal(
	    bench(&t, "--rw", "randwrite", "--count", "1000", NULL), 0);
	assert_int_equal(kill(t.pid, SIGTERM), 0);
	assert_int_equal(waitpid(t.pid, &st, 0), t.pid);
	t.pid = -1;
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_int_equal(access(t.sock, F_OK), -1);
	assert_int_equal(access(u.sock, F_OK), -1);
	bt_fini(&u);
	bt_fini(&t);
}

static void test_verify_4096_byte_blocks_and_ram(void **s)
{
	struct bt t;

	(void)s;
	bt_init(&t);
	bt_image(&t, 16u << 20, false);
	bt_start(&t, "--logical-block-size", "4096", "--aio", "sync", NULL);
	assert_int_equal(bench(&t, "--verify", "--bs", "8k", "--iodepth", "4",
			       "--json", NULL),
			 0);
	assert_non_null(strstr(out, "\"result\":\"ok\""));
	/* A block size the device cannot take is refused up front. */
	assert_int_equal(
	    bench(&t, "--rw", "randread", "--bs", "512", "--count", "10", NULL),
	    2);
	bt_fini(&t);

	bt_init(&t);
	bt_start(&t, "--ram", "32M", "--num-queues", "2", NULL);
	assert_int_equal(bench(&t, "--verify", "--queues", "2", "--json", NULL),
			 0);
	assert_non_null(strstr(out, "\"result\":\"ok\""));
	bt_fini(&t);
}

static void test_bad_input_cases_pass_strictly(void **s)
{
	const char *strict[] = {"past-end", "short-chain", "ro-buffer"};
	struct bt t;

	(void)s;
	bt_init(&t);
	bt_image(&t, 4u << 20, true);
	bt_start(&t, NULL);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(
		    bench(&t, "--bad", strict[i], "--strict", NULL), 0);
	/* A buffer outside guest memory: lib/virtq stops the ring
	 * (NEEDS_RESET) before the device sees the request, where the
	 * bench would like IOERR: a deviation (exit 3), and the back-end
	 * serves the next connection. */
	assert_int_equal(bench(&t, "--bad", "bad-addr", NULL), 3);
	assert_non_null(strstr(out, "a new connection was served"));
	assert_int_equal(bench(&t, "--verify", "--count", "64", NULL), 0);
	bt_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_verify_two_queues_on_two_threads),
	    cmocka_unit_test(test_verify_packed_ring_with_indirect_tables),
	    cmocka_unit_test(test_verify_4096_byte_blocks_and_ram),
	    cmocka_unit_test(test_two_devices_in_one_process),
	    cmocka_unit_test(test_bad_input_cases_pass_strictly),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
