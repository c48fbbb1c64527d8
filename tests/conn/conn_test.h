/* SPDX-License-Identifier: MIT */
/* Helpers shared by the tests of lib/conn. */
#ifndef CONN_TEST_H
#define CONN_TEST_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "vhost/conn.h"
#include "vhost/log.h"

/* Open descriptors of this process (the directory's own fd excluded). */
static inline int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;
}

static inline bool fd_is_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

static inline bool fd_has_cloexec(int fd)
{
	int f = fcntl(fd, F_GETFD);

	return f >= 0 && (f & FD_CLOEXEC);
}

static inline int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void sleep_ms(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000,
			      .tv_nsec = (long)(ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

/* Connected AF_UNIX stream pair; -1 on failure. */
static inline int make_pair(int sv[2])
{
	return socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
}

/* A memfd holding @text (so a reader can tell which file it got). */
static inline int make_memfd(const char *text)
{
	int fd = memfd_create("conn-test", MFD_CLOEXEC);

	if (fd >= 0 &&
	    pwrite(fd, text, strlen(text), 0) != (ssize_t)strlen(text)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A message for request @req with @size payload bytes of a pattern. */
static inline void fill_msg(struct vhost_user_msg *m, uint32_t req,
			    uint32_t size, uint8_t seed)
{
	uint32_t i;

	memset(m, 0, sizeof(*m));
	m->hdr.request = req;
	m->hdr.flags = VHOST_USER_VERSION;
	m->hdr.size = size;
	for (i = 0; i < size; i++)
		m->payload.raw[i] = (uint8_t)(seed + i * 7);
}

/* One sendmsg() of @len bytes with @nfds fds, outside the library. */
static inline ssize_t raw_send(int fd, const void *buf, size_t len,
			       const int *fds, unsigned nfds)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * 32)];
	} ctl;
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

	if (nfds) {
		struct cmsghdr *cm;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
	}
	return sendmsg(fd, &mh, MSG_NOSIGNAL);
}

/* Header bytes of a message with @size payload bytes. */
static inline void raw_hdr(uint8_t out[VHOST_USER_HDR_SIZE], uint32_t req,
			   uint32_t size)
{
	struct vhost_user_hdr h = {
	    .request = req, .flags = VHOST_USER_VERSION, .size = size};

	memcpy(out, &h, sizeof(h));
}

/*
 * A peer in a thread: writes chunks with a pause before each, then closes
 * its end when asked. Lets a test drive split, stalled and cut messages.
 */
struct chunk {
	const void *buf;
	size_t len;
	int delay_ms;	/* before this chunk */
	const int *fds; /* sent with this chunk */
	unsigned nfds;
};

struct peer {
	int fd;
	const struct chunk *chunks;
	unsigned nchunks;
	int close_delay_ms; /* < 0: leave the fd open */
	int result;	    /* 0 when every write went through */
	pthread_t thread;
};

static inline void *peer_main(void *arg)
{
	struct peer *p = arg;
	unsigned i;

	p->result = 0;
	for (i = 0; i < p->nchunks; i++) {
		const struct chunk *ch = &p->chunks[i];

		if (ch->delay_ms)
			sleep_ms(ch->delay_ms);
		if (raw_send(p->fd, ch->buf, ch->len, ch->fds, ch->nfds) !=
		    (ssize_t)ch->len)
			p->result = -1;
	}
	if (p->close_delay_ms >= 0) {
		sleep_ms(p->close_delay_ms);
		close(p->fd);
		p->fd = -1;
	}
	return NULL;
}

static inline int peer_start(struct peer *p)
{
	return pthread_create(&p->thread, NULL, peer_main, p);
}

static inline int peer_join(struct peer *p)
{
	pthread_join(p->thread, NULL);
	if (p->fd >= 0) {
		close(p->fd);
		p->fd = -1;
	}
	return p->result;
}

/* The last library log line, for tests that check what was logged. */
static char last_log[512];

static inline void capture_log(void *opaque, enum vh_log_level level,
			       const char *msg)
{
	(void)opaque;
	(void)level;
	snprintf(last_log, sizeof(last_log), "%s", msg);
}

#endif /* CONN_TEST_H */
