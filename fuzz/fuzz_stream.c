/* SPDX-License-Identifier: MIT */
/*
 * Shared pieces of the protocol fuzz targets: see fuzz_stream.h.
 *
 * The writer runs in its own thread so that an input of any length reaches
 * the object under test without filling the socket buffer and blocking the
 * only thread: the harness thread keeps calling the "handle readable"
 * function and drains the replies, the writer keeps writing.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fuzz_stream.h"
#include "vhost/log.h"

uint8_t fz_u8(struct fz_in *in, uint8_t dflt)
{
	uint8_t v;

	if (!in->n)
		return dflt;
	v = in->p[0];
	in->p++;
	in->n--;
	return v;
}

static void die(const char *what)
{
	fprintf(stderr, "fuzz harness: %s: %s\n", what, strerror(errno));
	abort();
}

int fz_make_fd(enum fz_fd_kind kind, unsigned i)
{
	int fd, sv[2];

	if (kind == FZ_FD_MIX)
		kind = (enum fz_fd_kind)(i % 3);
	switch (kind) {
	case FZ_FD_MEM:
		fd = memfd_create("fuzz", MFD_CLOEXEC);
		if (fd < 0 || ftruncate(fd, 64 * 1024) < 0)
			die("memfd");
		return fd;
	case FZ_FD_SOCK:
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
			die("socketpair");
		close(sv[1]);
		return sv[0];
	default:
		fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (fd < 0)
			die("eventfd");
		return fd;
	}
}

/* sendmsg() everything in @iov (blocking), @fds with the first byte.
 * Returns false when the peer is gone. */
static bool send_all(int fd, struct iovec *iov, int iovcnt, const int *fds,
		     unsigned nfds)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * FZ_MAX_FDS)];
	} ctl;
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)iovcnt};
	struct cmsghdr *cm;
	ssize_t n;

	if (nfds) {
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
	}
	while (mh.msg_iovlen) {
		while (mh.msg_iovlen && mh.msg_iov[0].iov_len == 0) {
			mh.msg_iov++;
			mh.msg_iovlen--;
		}
		if (!mh.msg_iovlen)
			break;
		n = sendmsg(fd, &mh, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return false;
		mh.msg_control = NULL;
		mh.msg_controllen = 0;
		while (n > 0) {
			size_t k = (size_t)n < mh.msg_iov[0].iov_len
				       ? (size_t)n
				       : mh.msg_iov[0].iov_len;

			mh.msg_iov[0].iov_base =
			    (char *)mh.msg_iov[0].iov_base + k;
			mh.msg_iov[0].iov_len -= k;
			n -= (ssize_t)k;
			if (!mh.msg_iov[0].iov_len) {
				mh.msg_iov++;
				mh.msg_iovlen--;
			}
		}
	}
	return true;
}

/* One record; false at the end of the input or when the peer is gone. */
static bool write_record(struct fz_writer *w)
{
	struct fz_in *in = &w->in;
	uint8_t ctl, hdr[VHOST_USER_HDR_SIZE];
	int fds[FZ_MAX_FDS];
	struct iovec iov[2];
	size_t hlen, plen;
	uint32_t size = 0;
	unsigned nfds, i;
	bool ok;

	if (!in->n)
		return false;
	ctl = fz_u8(in, 0);
	hlen = in->n < sizeof(hdr) ? in->n : sizeof(hdr);
	memcpy(hdr, in->p, hlen);
	in->p += hlen;
	in->n -= hlen;
	if (ctl & FZ_CTL_LENBYTE)
		size = fz_u8(in, 0);
	else if (hlen == sizeof(hdr))
		memcpy(&size, hdr + 8, sizeof(size));
	plen = size < in->n ? size : in->n;

	nfds = ctl & FZ_CTL_NFDS_MASK;
	if (nfds > FZ_MAX_FDS)
		nfds = FZ_MAX_FDS;
	for (i = 0; i < nfds; i++)
		fds[i] = fz_make_fd(
		    (enum fz_fd_kind)((ctl >> FZ_CTL_KIND_SHIFT) & 3), i);

	iov[0].iov_base = hdr;
	iov[0].iov_len = hlen;
	iov[1].iov_base = (void *)(uintptr_t)in->p;
	iov[1].iov_len = plen;
	if ((ctl & FZ_CTL_FDS_LATE) && plen) {
		ok = send_all(w->fd, iov, 1, NULL, 0) &&
		     send_all(w->fd, iov + 1, 1, fds, nfds);
	} else {
		ok = send_all(w->fd, iov, 2, fds, nfds);
	}
	in->p += plen;
	in->n -= plen;
	for (i = 0; i < nfds; i++)
		close(fds[i]);
	w->records++;
	return ok;
}

static void *writer_main(void *arg)
{
	struct fz_writer *w = arg;

	while (write_record(w))
		;
	shutdown(w->fd, SHUT_WR);
	return NULL;
}

void fz_writer_start(struct fz_writer *w, int fd, const uint8_t *data,
		     size_t len)
{
	w->fd = fd;
	w->in.p = data;
	w->in.n = len;
	w->records = 0;
	errno = pthread_create(&w->thread, NULL, writer_main, w);
	if (errno)
		die("pthread_create");
}

void fz_writer_join(struct fz_writer *w)
{
	pthread_join(w->thread, NULL);
}

void fz_drain(int fd)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * 16)];
	} ctl;
	static __thread char buf[8192];

	for (;;) {
		struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
		struct msghdr mh = {.msg_iov = &iov,
				    .msg_iovlen = 1,
				    .msg_control = ctl.buf,
				    .msg_controllen = sizeof(ctl.buf)};
		struct cmsghdr *cm;
		ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

		if (n <= 0)
			return;
		for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
			size_t i, k;

			if (cm->cmsg_level != SOL_SOCKET ||
			    cm->cmsg_type != SCM_RIGHTS)
				continue;
			k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (i = 0; i < k; i++) {
				int rfd;

				memcpy(&rfd, CMSG_DATA(cm) + i * sizeof(int),
				       sizeof(rfd));
				close(rfd);
			}
		}
	}
}

int fz_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		die("opendir /proc/self/fd");
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own fd */
}

void fz_check_fds(int before, const char *target)
{
	int after = fz_count_fds();

	if (after != before) {
		fprintf(stderr,
			"%s: fd leak: %d open fds before the input, %d "
			"after\n",
			target, before, after);
		abort();
	}
}

void fz_socketpair(int sv[2])
{
	int sz = 1 << 20, i;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		die("socketpair");
	for (i = 0; i < 2; i++) {
		setsockopt(sv[i], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
		setsockopt(sv[i], SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	}
}

static void quiet(void *opaque, enum vh_log_level level, const char *msg)
{
	(void)opaque;
	(void)level;
	(void)msg;
}

void fz_quiet_logs(void)
{
	/* VH_FUZZ_VERBOSE=1 keeps the library's log lines (debugging a
	 * crash). */
	const char *v = getenv("VH_FUZZ_VERBOSE");

	if (v && *v == '1') {
		vh_log_set_level(VH_LOG_DEBUG);
		return;
	}
	/* Every line is still formatted (debug level): the formatting of
	 * peer data in log lines is code under test too. */
	vh_log_set_handler(quiet, NULL);
	vh_log_set_level(VH_LOG_DEBUG);
}

void fz_send_msg(int fd, const struct vhost_user_msg *m)
{
	struct iovec iov[2] = {
	    {.iov_base = (void *)(uintptr_t)&m->hdr, .iov_len = sizeof(m->hdr)},
	    {.iov_base = (void *)(uintptr_t)m->payload.raw,
	     .iov_len = m->hdr.size},
	};

	if (!send_all(fd, iov, 2, m->fds, m->nfds))
		die("preloading a message");
}

#ifdef VH_FUZZ_STANDALONE
int main(int argc, char **argv)
{
	static uint8_t buf[1 << 20];
	int i;

	for (i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		size_t n;

		if (!f) {
			perror(argv[i]);
			return 1;
		}
		n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		LLVMFuzzerTestOneInput(buf, n);
	}
	return 0;
}
#endif
