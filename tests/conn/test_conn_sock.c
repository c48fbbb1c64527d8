/* SPDX-License-Identifier: MIT */
/* lib/conn: making sockets — listen (stale paths), connect (retry and
 * timeout), accept (timeout), adopt (classification), unlink. */
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cmocka.h>

#include "conn_test.h"

static char dir[64];

/* A fresh path in the test's temporary directory. */
static const char *tmp_path(const char *name)
{
	static char path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
	return path;
}

static bool is_socket(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

/* Leave a socket file at @path that nobody listens on. */
static void make_stale(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	strcpy(sa.sun_path, path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 1), 0);
	close(fd);
	assert_true(is_socket(path));
}

/* @lfd accepts a connection made to @path. */
static void assert_serves(int lfd, const char *path)
{
	int c = vh_sock_connect(path, 0), s;

	assert_true(c >= 0);
	s = vh_sock_accept(lfd, 1000);
	assert_true(s >= 0);
	assert_true(fd_has_cloexec(c));
	assert_true(fd_has_cloexec(s));
	assert_int_equal(write(c, "p", 1), 1);
	assert_int_equal(read(s, (char[1]){0}, 1), 1);
	close(c);
	close(s);
}

static void listen_on_a_new_path_serves_connections(void **state)
{
	const char *path = tmp_path("new.sock");
	int base = count_fds(), lfd;
	bool listening = false;

	(void)state;
	lfd = vh_sock_listen(path, 0);
	assert_true(lfd >= 0);
	assert_true(fd_has_cloexec(lfd));
	assert_int_equal(vh_sock_adopt(lfd, &listening), 0);
	assert_true(listening);
	assert_serves(lfd, path);
	close(lfd);
	assert_int_equal(vh_sock_unlink(path), 0);
	assert_false(is_socket(path));
	assert_int_equal(count_fds(), base);
}

static void listen_takes_over_a_stale_socket(void **state)
{
	const char *path = tmp_path("stale.sock");
	int lfd;

	(void)state;
	make_stale(path);
	lfd = vh_sock_listen(path, 4);
	assert_true(lfd >= 0);
	assert_serves(lfd, path);
	close(lfd);
	vh_sock_unlink(path);
}

static void listen_on_a_live_socket_is_eaddrinuse(void **state)
{
	const char *path = tmp_path("live.sock");
	int base = count_fds(), lfd, fd;

	(void)state;
	lfd = vh_sock_listen(path, 4);
	assert_true(lfd >= 0);
	assert_int_equal(vh_sock_listen(path, 4), -EADDRINUSE);
	assert_non_null(strstr(last_log, "live.sock"));
	/* The liveness probe was a real connection, closed at once: the live
	 * listener accepts it and reads end-of-file. */
	fd = vh_sock_accept(lfd, 1000);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, (char[1]){0}, 1), 0);
	close(fd);
	/* The first listener keeps its path. */
	assert_serves(lfd, path);
	close(lfd);
	vh_sock_unlink(path);
	assert_int_equal(count_fds(), base);
}

static void listen_on_a_regular_file_is_eexist(void **state)
{
	const char *path = tmp_path("file");
	int base, fd;
	struct stat st;

	(void)state;
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "keep", 4), 4);
	close(fd);
	base = count_fds();
	assert_int_equal(vh_sock_listen(path, 4), -EEXIST);
	assert_int_equal(vh_sock_unlink(path), -ENOTSOCK);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_size, 4);
	assert_int_equal(count_fds(), base);
	unlink(path);
}

static void too_long_path_is_enametoolong(void **state)
{
	char path[sizeof(((struct sockaddr_un *)0)->sun_path) + 8];

	(void)state;
	memset(path, 'a', sizeof(path) - 1);
	path[sizeof(path) - 1] = 0;
	assert_int_equal(vh_sock_listen(path, 4), -ENAMETOOLONG);
	assert_int_equal(vh_sock_connect(path, 0), -ENAMETOOLONG);
	/* Exactly sun_path bytes leaves no room for the NUL. */
	path[sizeof(((struct sockaddr_un *)0)->sun_path)] = 0;
	assert_int_equal(vh_sock_listen(path, 4), -ENAMETOOLONG);
	assert_int_equal(vh_sock_listen("", 4), -EINVAL);
}

struct late_listener {
	const char *path;
	int lfd;
	pthread_t thread;
};

static void *late_listen(void *arg)
{
	struct late_listener *l = arg;

	sleep_ms(50);
	l->lfd = vh_sock_listen(l->path, 4);
	return NULL;
}

static void connect_retries_until_a_listener_appears(void **state)
{
	struct late_listener l = {.path = tmp_path("late.sock")};
	int64_t t = now_ms();
	int fd, s;

	(void)state;
	assert_int_equal(pthread_create(&l.thread, NULL, late_listen, &l), 0);
	fd = vh_sock_connect(l.path, 2000);
	t = now_ms() - t;
	pthread_join(l.thread, NULL);
	assert_true(l.lfd >= 0);
	assert_true(fd >= 0);
	assert_true(t >= 45);
	assert_true(t < 1000);
	assert_true(fd_has_cloexec(fd));
	assert_int_equal(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
	s = vh_sock_accept(l.lfd, 1000);
	assert_true(s >= 0);
	close(s);
	close(fd);
	close(l.lfd);
	vh_sock_unlink(l.path);
}

static void connect_times_out_when_nobody_listens(void **state)
{
	const char *path = tmp_path("nobody.sock");
	int base = count_fds();
	int64_t t = now_ms();

	(void)state;
	assert_int_equal(vh_sock_connect(path, 100), -ETIMEDOUT);
	t = now_ms() - t;
	assert_true(t >= 99);
	assert_true(t < 1000);
	make_stale(path);
	assert_int_equal(vh_sock_connect(path, 60), -ETIMEDOUT);
	assert_int_equal(count_fds(), base);
	vh_sock_unlink(path);
}

static void connect_once_reports_why_it_failed(void **state)
{
	const char *path = tmp_path("once.sock");

	(void)state;
	assert_int_equal(vh_sock_connect(path, 0), -ENOENT);
	make_stale(path);
	assert_int_equal(vh_sock_connect(path, 0), -ECONNREFUSED);
	vh_sock_unlink(path);
}

static void accept_without_client_times_out(void **state)
{
	const char *path = tmp_path("accept.sock");
	int lfd = vh_sock_listen(path, 4);
	int64_t t;

	(void)state;
	assert_true(lfd >= 0);
	assert_int_equal(vh_sock_accept(lfd, 0), -EAGAIN);
	t = now_ms();
	assert_int_equal(vh_sock_accept(lfd, 50), -ETIMEDOUT);
	t = now_ms() - t;
	assert_true(t >= 49);
	assert_true(t < 1000);
	/* Non-blocking listener, wait 0: still -EAGAIN, no hang. */
	assert_int_equal(fcntl(lfd, F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(vh_sock_accept(lfd, 0), -EAGAIN);
	close(lfd);
	vh_sock_unlink(path);
}

static void accept_takes_a_waiting_client_with_any_timeout(void **state)
{
	static const int timeouts[] = {0, 50, -1};
	const char *path = tmp_path("waiting.sock");
	int lfd = vh_sock_listen(path, 4), c, s;
	unsigned i;

	(void)state;
	assert_true(lfd >= 0);
	for (i = 0; i < 3; i++) {
		c = vh_sock_connect(path, 0);
		assert_true(c >= 0);
		s = vh_sock_accept(lfd, timeouts[i]);
		assert_true(s >= 0);
		assert_true(fd_has_cloexec(s));
		assert_int_equal(fcntl(s, F_GETFL) & O_NONBLOCK, 0);
		close(s);
		close(c);
	}
	close(lfd);
	vh_sock_unlink(path);
}

static void adopt_classifies_inherited_fds(void **state)
{
	const char *path = tmp_path("adopt.sock");
	int base = count_fds(), lfd, sv[2], p[2], fd;
	bool listening;

	(void)state;
	lfd = vh_sock_listen(path, 4);
	assert_true(lfd >= 0);
	listening = false;
	assert_int_equal(vh_sock_adopt(lfd, &listening), 0);
	assert_true(listening);

	fd = vh_sock_connect(path, 0);
	listening = true;
	assert_int_equal(vh_sock_adopt(fd, &listening), 0);
	assert_false(listening);
	close(fd);

	assert_int_equal(make_pair(sv), 0);
	listening = true;
	assert_int_equal(vh_sock_adopt(sv[0], &listening), 0);
	assert_false(listening);
	close(sv[0]);
	close(sv[1]);

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(vh_sock_adopt(p[0], &listening), -ENOTSOCK);
	close(p[0]);
	close(p[1]);

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_int_equal(vh_sock_adopt(fd, &listening), -EINVAL);
	close(fd);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_int_equal(vh_sock_adopt(fd, &listening), -EINVAL);
	close(fd);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(vh_sock_adopt(fd, &listening), -ENOTCONN);
	close(fd);
	assert_int_equal(vh_sock_adopt(fd, &listening), -EBADF);

	close(lfd);
	vh_sock_unlink(path);
	assert_int_equal(count_fds(), base);
}

static void unlink_removes_only_sockets(void **state)
{
	const char *path = tmp_path("unlink.sock");

	(void)state;
	assert_int_equal(vh_sock_unlink(path), 0); /* missing: fine */
	make_stale(path);
	assert_int_equal(vh_sock_unlink(path), 0);
	assert_false(is_socket(path));
	/* A directory is not a socket either. */
	assert_int_equal(vh_sock_unlink(dir), -ENOTSOCK);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/vh-conn-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(listen_on_a_new_path_serves_connections),
	    cmocka_unit_test(listen_takes_over_a_stale_socket),
	    cmocka_unit_test(listen_on_a_live_socket_is_eaddrinuse),
	    cmocka_unit_test(listen_on_a_regular_file_is_eexist),
	    cmocka_unit_test(too_long_path_is_enametoolong),
	    cmocka_unit_test(connect_retries_until_a_listener_appears),
	    cmocka_unit_test(connect_times_out_when_nobody_listens),
	    cmocka_unit_test(connect_once_reports_why_it_failed),
	    cmocka_unit_test(accept_without_client_times_out),
	    cmocka_unit_test(accept_takes_a_waiting_client_with_any_timeout),
	    cmocka_unit_test(adopt_classifies_inherited_fds),
	    cmocka_unit_test(unlink_removes_only_sockets),
	};

	vh_log_set_handler(capture_log, NULL);
	return cmocka_run_group_tests(tests, setup, teardown);
}
