/* SPDX-License-Identifier: MIT */
/*
 * Making vhost-user sockets: listen, connect, accept, adopt, unlink
 * (include/vhost/conn.h). Every fd returned carries O_CLOEXEC.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "deadline.h"
#include "vhost/conn.h"
#include "vhost/log.h"

/* Fill @sa with @path; -ENAMETOOLONG when it does not fit with its NUL. */
static int sock_addr(struct sockaddr_un *sa, const char *path)
{
	size_t len = strlen(path);

	if (len == 0)
		return -EINVAL;
	if (len >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, path, len + 1);
	return 0;
}

/*
 * One non-blocking connect attempt to @sa. Returns the connected fd, or a
 * negative errno: -EAGAIN when a listener is there but its backlog is full
 * (a unix socket never answers EINPROGRESS).
 */
static int sock_try_connect(const struct sockaddr_un *sa)
{
	int fd, err;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	do {
		err = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	} while (err < 0 && errno == EINTR);
	if (err < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/*
 * bind() said the path exists. Take it over only when it is a socket nobody
 * listens on. There is a window between the probe and unlink() in which
 * another process could take the path; two servers racing for one path is a
 * deployment error this check does not try to arbitrate.
 */
static int sock_clear_stale(const struct sockaddr_un *sa)
{
	struct stat st;
	int fd;

	if (lstat(sa->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : -errno; /* gone meanwhile */
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = sock_try_connect(sa);
	if (fd >= 0) {
		close(fd);
		return -EADDRINUSE;
	}
	if (fd == -EAGAIN)
		return -EADDRINUSE; /* alive, only busy */
	if (fd != -ECONNREFUSED && fd != -ENOENT)
		return fd;
	if (unlink(sa->sun_path) < 0 && errno != ENOENT)
		return -errno;
	vh_info("conn: removed stale socket %s", sa->sun_path);
	return 0;
}

int vh_sock_listen(const char *path, int backlog)
{
	struct sockaddr_un sa;
	int fd, err, tries;

	err = sock_addr(&sa, path);
	if (err)
		goto out;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	/* Two tries: the second follows the removal of a stale socket. */
	for (tries = 0;; tries++) {
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			break;
		err = -errno;
		if (err != -EADDRINUSE || tries > 0)
			goto out_close;
		err = sock_clear_stale(&sa);
		if (err)
			goto out_close;
	}
	if (listen(fd, backlog > 0 ? backlog : SOMAXCONN) < 0) {
		err = -errno;
		unlink(sa.sun_path);
		goto out_close;
	}
	return fd;
out_close:
	close(fd);
out:
	vh_err("conn: cannot listen on %s: %s", path, vh_strerror(err));
	return err;
}

int vh_sock_connect(const char *path, int timeout_ms)
{
	struct vh_deadline dl = {0};
	struct sockaddr_un sa;
	int fd, sleep_ms = 10;

	fd = sock_addr(&sa, path);
	if (fd)
		return fd;
	for (;;) {
		struct timespec ts;
		int left;

		fd = sock_try_connect(&sa);
		if (fd >= 0)
			break;
		if (fd != -ENOENT && fd != -ECONNREFUSED && fd != -EAGAIN)
			return fd;
		if (timeout_ms == 0)
			return fd;
		left = vh_deadline_left_ms(&dl, timeout_ms);
		if (left == 0)
			return -ETIMEDOUT;
		/* Back off 10, 20, 40, 80, 100, 100 ... ms: quick when the
		 * server is about to come up, cheap when it takes long. */
		if (left > 0 && sleep_ms > left)
			sleep_ms = left;
		ts.tv_sec = sleep_ms / 1000;
		ts.tv_nsec = (long)(sleep_ms % 1000) * 1000000;
		nanosleep(&ts, NULL);
		sleep_ms = sleep_ms * 2 > 100 ? 100 : sleep_ms * 2;
	}
	/* Connected non-blocking (so a full backlog could not block us past
	 * the timeout); hand the fd back blocking, as a plain connect would. */
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* Is a connection waiting on @lfd right now? 1, 0, or a negative errno. */
static int sock_pending(int lfd)
{
	struct pollfd p = {.fd = lfd, .events = POLLIN};
	int r;

	do {
		r = poll(&p, 1, 0);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	return r && (p.revents & POLLNVAL) ? -EBADF : r;
}

int vh_sock_accept(int lfd, int timeout_ms)
{
	struct vh_deadline dl = {0};
	int fd, err;

	for (;;) {
		/* With a time limit, look before accepting: accept4() on a
		 * blocking listener would otherwise wait unbounded. */
		if (timeout_ms == 0) {
			err = sock_pending(lfd);
			if (err <= 0)
				return err ? err : -EAGAIN;
		} else if (timeout_ms > 0) {
			err = vh_wait_fd(lfd, POLLIN, &dl, timeout_ms);
			if (err)
				return err;
		}
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			return fd;
		err = -errno;
		if (err == -EINTR || err == -ECONNABORTED)
			continue;
		if (err != -EAGAIN && err != -EWOULDBLOCK)
			return err;
		/* Nobody there after all (another acceptor won, or a
		 * non-blocking listener with no time limit): look again within
		 * what is left. */
		if (timeout_ms < 0) {
			err = vh_wait_fd(lfd, POLLIN, &dl, -1);
			if (err)
				return err;
		}
	}
}

int vh_sock_adopt(int fd, bool *listening)
{
	int domain, type, acceptconn;
	socklen_t len;
	struct sockaddr_un peer;

	len = sizeof(domain);
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0)
		return -errno;
	len = sizeof(type);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
		return -errno;
	if (domain != AF_UNIX || type != SOCK_STREAM)
		return -EINVAL;
	len = sizeof(acceptconn);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acceptconn, &len) < 0)
		return -errno;
	if (acceptconn) {
		*listening = true;
		return 0;
	}
	len = sizeof(peer);
	if (getpeername(fd, (struct sockaddr *)&peer, &len) < 0)
		return -errno; /* -ENOTCONN: neither listening nor connected */
	*listening = false;
	return 0;
}

int vh_sock_unlink(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -ENOTSOCK;
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}
