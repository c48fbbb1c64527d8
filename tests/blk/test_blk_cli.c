/* SPDX-License-Identifier: MIT */
/*
 * The vhost-user-blk program's conventions (QEMU vhost-user.rst "Backend
 * program conventions"): --help, --version, --print-capabilities (JSON,
 * other options ignored), --fd, one-line errors with exit status 1
 * (missing image, bad size, socket in use, image locked), clean exit 0 on
 * SIGTERM / SIGINT with the socket removed, and the refusal count printed
 * at exit.
 */
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
#include "vhost/conn.h"

#define ALL (~(uint64_t)0)

static char out[8192], err[8192];

static unsigned lines(const char *s)
{
	unsigned n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void test_help_version_and_capabilities(void **s)
{
	(void)s;
	assert_int_equal(
	    bt_run(out, sizeof(out), err, sizeof(err), "--help", NULL), 0);
	assert_non_null(strstr(out, "--socket-path"));
	assert_non_null(strstr(out, "--blk-file"));
	assert_int_equal(
	    bt_run(out, sizeof(out), err, sizeof(err), "--version", NULL), 0);
	assert_non_null(strstr(out, "vhost-user-blk (libvhost) "));
	/* "Other options and arguments should be ignored." */
	assert_int_equal(bt_run(out, sizeof(out), err, sizeof(err), "--bogus",
				"--print-capabilities", "x", NULL),
			 0);
	assert_non_null(strstr(out, "\"type\": \"block\""));
	assert_non_null(strstr(out, "\"read-only\""));
	assert_non_null(strstr(out, "\"blk-file\""));
	assert_string_equal(err, "");
}

static void one_line_error(const char *needle)
{
	if (lines(err) != 1 || !strstr(err, needle)) {
		fprintf(stderr, "stderr: %s(expected '%s')\n", err, needle);
		fail();
	}
	assert_non_null(strstr(err, "vhost-user-blk: "));
}

static void test_start_up_errors_are_one_line_and_exit_1(void **s)
{
	struct bt t;

	(void)s;
	bt_init(&t);
	assert_int_equal(bt_run(out, sizeof(out), err, sizeof(err), "-s",
				t.sock, "-b", "/nonexistent/disk.img", NULL),
			 1);
	one_line_error("No such file or directory");
	assert_int_equal(bt_run(out, sizeof(out), err, sizeof(err), "-s",
				t.sock, "--ram", "12Q", NULL),
			 1);
	one_line_error("bad size '12Q'");
	assert_int_equal(
	    bt_run(out, sizeof(out), err, sizeof(err), "-b", t.img, NULL), 1);
	one_line_error("neither --socket-path nor --fd");
	assert_int_equal(
	    bt_run(out, sizeof(out), err, sizeof(err), "-s", t.sock, NULL), 1);
	one_line_error("no storage");
	bt_image(&t, 100, false);
	assert_int_equal(bt_run(out, sizeof(out), err, sizeof(err), "-s",
				t.sock, "-b", t.img, NULL),
			 1);
	one_line_error("smaller than one 512-byte logical block");
	assert_int_equal(bt_run(out, sizeof(out), err, sizeof(err), "-s",
				t.sock, "-b", t.img, "--logical-block-size",
				"1024", NULL),
			 1);
	one_line_error("512 or 4096");
	assert_int_equal(access(t.sock, F_OK), -1);

	/* A socket another back-end serves; an image another one holds. */
	bt_image(&t, 1 << 20, false);
	bt_start(&t, NULL);
	assert_int_equal(bt_run(out, sizeof(out), err, sizeof(err), "-s",
				t.sock, "--ram", "1M", NULL),
			 1);
	one_line_error("is in use by a running back-end");
	{
		char other[160];

		snprintf(other, sizeof(other), "%s/other.sock", t.dir);
		assert_int_equal(bt_run(out, sizeof(out), err, sizeof(err),
					"-s", other, "-b", t.img, NULL),
				 1);
		one_line_error("in use by another process");
		assert_int_equal(access(other, F_OK), -1);

		/* Several devices: a bad option of the second names
		 * itself; two devices on one socket are refused; when the
		 * second cannot listen, the first one's socket (already
		 * created) is removed again and the exit is 1. */
		assert_int_equal(bt_run(out, sizeof(out), err, sizeof(err),
					"-s", other, "--null", "--", "-s",
					t.sock, "--null", "--batch", "0", NULL),
				 1);
		one_line_error("bad --batch '0'");
		assert_int_equal(bt_run(out, sizeof(out), err, sizeof(err),
					"-s", other, "--null", "--", "--null",
					"-s", other, NULL),
				 1);
		one_line_error("given for two devices");
		assert_int_equal(bt_run(out, sizeof(out), err, sizeof(err),
					"-s", other, "--null", "--", "-s",
					t.sock, "--ram", "1M", NULL),
				 1);
		assert_non_null(strstr(err, "is in use by a running back-end"));
		assert_int_equal(access(other, F_OK), -1);
	}
	/* The first one still serves. */
	bt_connect(&t, ALL);
	bt_disconnect(&t);
	bt_fini(&t);
}

static void test_sigterm_and_sigint_exit_0_and_remove_the_socket(void **s)
{
	int sigs[2] = {SIGTERM, SIGINT};

	(void)s;
	for (int i = 0; i < 2; i++) {
		struct bt t;
		int st;

		bt_init(&t);
		bt_image(&t, 1 << 20, false);
		bt_start(&t, NULL);
		bt_connect(&t, ALL); /* also with a front-end connected */
		bt_ring(&t, 0, BT_RING);
		assert_int_equal(kill(t.pid, sigs[i]), 0);
		assert_int_equal(waitpid(t.pid, &st, 0), t.pid);
		t.pid = -1;
		assert_true(WIFEXITED(st));
		assert_int_equal(WEXITSTATUS(st), 0);
		assert_int_equal(access(t.sock, F_OK), -1);
		assert_true(bt_log_has(&t, "listening on"));
		bt_fini(&t);
	}
}

static void test_inherited_listening_fd(void **s)
{
	struct bt t;
	char fdarg[16];
	uint8_t d[512];
	uint32_t used;
	int lfd, fd, st;
	pid_t pid;

	(void)s;
	bt_init(&t);
	bt_image(&t, 1 << 20, true);
	lfd = vh_sock_listen(t.sock, 1);
	assert_true(lfd >= 0);
	fd = dup(lfd); /* without CLOEXEC: the child inherits it */
	assert_true(fd >= 0);
	snprintf(fdarg, sizeof(fdarg), "%d", fd);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 2);
		execl(getenv("VH_BLK_BIN"), "vhost-user-blk", "--fd", fdarg,
		      "-b", t.img, (char *)NULL);
		_exit(127);
	}
	close(fd);
	close(lfd);
	bt_connect(&t, ALL);
	bt_ring(&t, 0, BT_RING);
	assert_int_equal(bt_req(&t, 0, VIRTIO_BLK_T_IN, 1, d, 512, &used),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(d[0], bt_pattern(512));
	bt_disconnect(&t);
	assert_int_equal(kill(pid, SIGTERM), 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* The path was not ours to remove. */
	assert_int_equal(access(t.sock, F_OK), 0);
	bt_fini(&t);
}

static void test_refused_requests_are_counted(void **s)
{
	uint8_t d[512];
	uint32_t used;
	struct bt t;

	(void)s;
	bt_init(&t);
	bt_image(&t, 1 << 20, false);
	bt_start(&t, NULL);
	bt_connect(&t, ALL);
	bt_ring(&t, 0, BT_RING);
	for (int i = 0; i < 3; i++)
		assert_int_equal(
		    bt_req(&t, 0, VIRTIO_BLK_T_IN, 1u << 20, d, 512, &used),
		    VIRTIO_BLK_S_IOERR);
	assert_int_equal(bt_req(&t, 0, 77, 0, d, 512, &used),
			 VIRTIO_BLK_S_UNSUPP);
	bt_disconnect(&t);
	assert_int_equal(bt_stop(&t), 0);
	assert_true(bt_log_has(&t, "ring 0: READ"));
	assert_true(bt_log_has(&t, "4 requests refused as malformed, 3 "
				   "IOERR, 1 UNSUPP"));
	bt_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_help_version_and_capabilities),
	    cmocka_unit_test(test_start_up_errors_are_one_line_and_exit_1),
	    cmocka_unit_test(
		test_sigterm_and_sigint_exit_0_and_remove_the_socket),
	    cmocka_unit_test(test_inherited_listening_fd),
	    cmocka_unit_test(test_refused_requests_are_counted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
