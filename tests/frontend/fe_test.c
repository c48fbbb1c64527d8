/* SPDX-License-Identifier: MIT */
/* Shared fixture of the front-end tests (see fe_test.h). */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fe_test.h"
#include "vhost/log.h"

int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own fd */
}

int make_memfd(size_t size)
{
	int fd = memfd_create("fe-test", MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	return fd;
}

void *map_fd(int fd, size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	assert_true(p != MAP_FAILED);
	return p;
}

int make_eventfd(void)
{
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	assert_true(fd >= 0);
	return fd;
}

void assert_eventfd_linked(int wfd, int rfd)
{
	uint64_t v = 1;

	assert_int_equal(write(wfd, &v, sizeof(v)), sizeof(v));
	v = 0;
	assert_int_equal(read(rfd, &v, sizeof(v)), sizeof(v));
	assert_int_equal(v, 1);
}

bool same_file(int a, int b)
{
	struct stat sa, sb;

	assert_int_equal(fstat(a, &sa), 0);
	assert_int_equal(fstat(b, &sb), 0);
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* ------------------------------------------------------------------------ */
/* Loops                                                                    */
/* ------------------------------------------------------------------------ */

static void *loop_main(void *arg)
{
	struct loop *l = arg;
	struct pollfd p;
	int r;

	while (!l->stop) {
		p.fd = l->fd(l->obj);
		if (p.fd < 0)
			break;
		p.events = POLLIN;
		r = poll(&p, 1, 20);
		if (r <= 0)
			continue;
		r = l->handle(l->obj);
		if (r < 0) {
			l->err = r;
			break;
		}
	}
	return NULL;
}

void loop_start(struct loop *l, int (*handle)(void *), int (*fd)(void *),
		void *obj)
{
	l->handle = handle;
	l->fd = fd;
	l->obj = obj;
	l->stop = false;
	l->err = 0;
	assert_int_equal(pthread_create(&l->th, NULL, loop_main, l), 0);
}

int loop_stop(struct loop *l)
{
	l->stop = true;
	pthread_join(l->th, NULL);
	return l->err;
}

/* The dispatcher thread: on a protocol error it shuts the socket down so
 * the front-end sees the hang-up at once, as a freed back-end would. */
static void *backend_main(void *arg)
{
	struct fixture *fx = arg;
	struct pollfd p = {.fd = vh_backend_fd(fx->b), .events = POLLIN};
	int r;

	for (;;) {
		r = poll(&p, 1, 10000);
		if (r == 0) {
			fx->loop_err = -ETIMEDOUT;
			break;
		}
		if (r < 0)
			continue;
		r = vh_backend_handle_readable(fx->b);
		if (r < 0) {
			fx->loop_err = r;
			break;
		}
	}
	shutdown(vh_backend_fd(fx->b), SHUT_RDWR);
	return NULL;
}

static void quiet(void *opaque, enum vh_log_level level, const char *msg)
{
	(void)opaque;
	/* Keep errors visible when a test fails; drop the expected noise. */
	if (getenv("FE_TEST_VERBOSE"))
		fprintf(stderr, "[%d] %s\n", (int)level, msg);
}

void fixture_start(struct fixture *fx, uint64_t offered_pf)
{
	struct vh_frontend_opts fo = {.reply_timeout_ms = 5000,
				      .name = "fe-test"};
	int sv[2];

	vh_log_set_handler(quiet, NULL);
	memset(fx, 0, sizeof(*fx));
	fx->fds_before = count_fds();
	tdev_init(&fx->dev);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
			 0);
	tdev_backend_new(&fx->dev, sv[1], offered_pf, &fx->b);
	assert_int_equal(vh_frontend_new(&fx->f, sv[0], &fo), 0);
	assert_int_equal(pthread_create(&fx->th, NULL, backend_main, fx), 0);
	fx->running = true;
}

void fixture_negotiate(struct fixture *fx, uint64_t want_pf, uint64_t features)
{
	uint64_t offered, pf;

	assert_int_equal(vh_frontend_set_owner(fx->f), 0);
	assert_int_equal(vh_frontend_negotiate(fx->f, want_pf, &offered, &pf),
			 0);
	assert_true(vh_virtio_has(offered, VH_VHOST_USER_F_PROTOCOL_FEATURES));
	assert_int_equal(vh_frontend_set_features(fx->f, offered & features),
			 0);
}

void fixture_sync(struct fixture *fx)
{
	assert_int_equal(vh_frontend_get_features(fx->f, NULL), 0);
}

int fixture_stop(struct fixture *fx)
{
	vh_frontend_free(fx->f);
	fx->f = NULL;
	if (fx->running)
		pthread_join(fx->th, NULL);
	fx->running = false;
	vh_backend_free(fx->b);
	fx->b = NULL;
	tdev_fini(&fx->dev);
	assert_int_equal(count_fds(), fx->fds_before);
	return fx->loop_err;
}
