/* SPDX-License-Identifier: MIT */
/*
 * tools/vhost-user-probe against our own back-end dispatcher (the recording
 * test device) listening on a Unix socket: what it prints, in text and
 * JSON, and that it ends every session with a clean hang-up. The probe's
 * path is the first argument (meson passes it).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fe_test.h"
#include "vhost/conn.h"
#include "vhost/log.h"

static const char *probe;

struct server {
	char dir[64], path[96];
	int lfd;
	pthread_t th;
	volatile bool stop;
	unsigned sessions;
	int last_err;
	bool all_clean; /* every session ended by the front-end hanging up */
};

static void *serve(void *arg)
{
	struct server *s = arg;
	struct vh_backend *b;
	struct tdev d;
	int fd, r;

	while (!s->stop) {
		fd = vh_sock_accept(s->lfd, 50);
		if (fd < 0)
			continue;
		tdev_init(&d);
		tdev_backend_new(&d, fd, TDEV_ALL_PF, &b);
		do
			r = vh_backend_handle_readable(b);
		while (r == 0);
		vh_backend_free(b);
		tdev_fini(&d);
		s->sessions++;
		s->last_err = r;
		if (r != -ECONNRESET)
			s->all_clean = false;
	}
	return NULL;
}

static void quiet(void *opaque, enum vh_log_level level, const char *msg)
{
	(void)opaque;
	(void)level;
	(void)msg;
}

static void server_start(struct server *s)
{
	memset(s, 0, sizeof(*s));
	vh_log_set_handler(quiet, NULL);
	strcpy(s->dir, "/tmp/fe-probe.XXXXXX");
	assert_non_null(mkdtemp(s->dir));
	snprintf(s->path, sizeof(s->path), "%s/be.sock", s->dir);
	s->lfd = vh_sock_listen(s->path, 4);
	assert_true(s->lfd >= 0);
	s->all_clean = true;
	assert_int_equal(pthread_create(&s->th, NULL, serve, s), 0);
}

static void server_stop(struct server *s)
{
	s->stop = true;
	pthread_join(s->th, NULL);
	close(s->lfd);
	vh_sock_unlink(s->path);
	rmdir(s->dir);
}

/* Run the probe with @args on @path; its stdout+stderr in @out. */
static int run_probe(const char *args, const char *path, char *out, size_t len)
{
	char cmd[512];
	FILE *p;
	size_t n;
	int st;

	snprintf(cmd, sizeof(cmd), "%s %s %s 2>&1", probe, args, path);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, len - 1, p);
	out[n] = '\0';
	st = pclose(p);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static void assert_has(const char *out, const char *what)
{
	if (!strstr(out, what))
		fail_msg("probe output lacks \"%s\":\n%s", what, out);
}

/* struct virtio_blk_config's capacity as the device's config holds it. */
static uint64_t tdev_capacity(void)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = (v << 8) | (uint64_t)(0xa0 + i);
	return v;
}

static void text_output_decodes_the_negotiation(void **state)
{
	struct server s;
	char out[16384], want[128];

	(void)state;
	server_start(&s);
	assert_int_equal(run_probe("--type blk", s.path, out, sizeof(out)), 0);
	assert_has(out, "VIRTIO_BLK_F_SIZE_MAX");
	assert_has(out, "VIRTIO_F_VERSION_1");
	assert_has(out, "VHOST_USER_F_PROTOCOL_FEATURES");
	assert_has(out, "CONFIGURE_MEM_SLOTS");
	assert_has(out, "SHMEM"); /* protocol bit 22, named */
	assert_has(out, "queues (GET_QUEUE_NUM):   4");
	assert_has(out, "max memory slots:         32");
	assert_has(out, "config space:             60 bytes");
	assert_has(out, "0000  a0 a1 a2 a3");
	snprintf(want, sizeof(want),
		 "capacity                         %" PRIu64, tdev_capacity());
	assert_has(out, want);
	/* Without a type, device bits are only numbers. */
	assert_int_equal(run_probe("", s.path, out, sizeof(out)), 0);
	assert_has(out, "bit  1  (unknown)");
	server_stop(&s);
	assert_int_equal(s.sessions, 2);
	assert_true(s.all_clean);
}

static void json_output_is_one_object(void **state)
{
	struct server s;
	char out[16384], want[128];

	(void)state;
	server_start(&s);
	assert_int_equal(
	    run_probe("--json --type blk", s.path, out, sizeof(out)), 0);
	assert_int_equal(out[0], '{');
	assert_has(out, "\n}\n");
	assert_has(out, "\"queue_num\": 4");
	assert_has(out, "\"max_mem_slots\": 32");
	assert_has(out, "\"VIRTIO_BLK_F_SIZE_MAX\"");
	snprintf(want, sizeof(want), "\"capacity\": %" PRIu64, tdev_capacity());
	assert_has(out, want);
	server_stop(&s);
	assert_true(s.all_clean);
}

static void missing_socket_is_a_one_line_error(void **state)
{
	char out[1024];

	(void)state;
	assert_int_equal(
	    run_probe("", "/nonexistent/dir/x.sock", out, sizeof(out)), 1);
	assert_has(out, "no such socket");
	assert_int_equal(strchr(out, '\n') - out + 1, (long)strlen(out));
}

static void bad_arguments_exit_2(void **state)
{
	char out[4096];

	(void)state;
	assert_int_equal(run_probe("--type scsi", "x", out, sizeof(out)), 2);
	assert_int_equal(run_probe("--timeout 0", "x", out, sizeof(out)), 2);
	assert_int_equal(run_probe("--config-size 300", "x", out, sizeof(out)),
			 2);
	assert_int_equal(run_probe("--json", "", out, sizeof(out)), 2);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(text_output_decodes_the_negotiation),
	    cmocka_unit_test(json_output_is_one_object),
	    cmocka_unit_test(missing_socket_is_a_one_line_error),
	    cmocka_unit_test(bad_arguments_exit_2),
	};

	if (argc != 2) {
		fprintf(stderr, "usage: %s PATH-TO-vhost-user-probe\n",
			argv[0]);
		return 2;
	}
	probe = argv[1];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
