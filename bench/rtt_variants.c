/* SPDX-License-Identifier: MIT */
/*
 * The round trips vh-bench-rtt measures. Each has a responder (the child
 * process, the back-end's place) and a requester (the parent, the
 * front-end's place); all use a blocking AF_UNIX stream socketpair.
 *
 *   get_features       vh_frontend_get_features <-> vh_backend_handle_readable
 *                      request 12 bytes, reply 20 bytes
 *   set_vring_num_ack  vh_frontend_set_vring_num with NEED_REPLY (REPLY_ACK
 *                      negotiated, ack_always) <-> the dispatcher; 20 -> 20
 *   raw_12_20          write(12) / read(20) against read(12) / write(20)
 *   raw_20_20          write(20) / read(20) against read(20) / write(20)
 * Diagnostics (--diag), to take the difference apart:
 *   get_features_block the front-end waits for its reply without a timeout
 *                      (reply_timeout_ms = -1: recvmsg blocks, no poll)
 *   raw_12_20_*        raw bytes with the library's syscall pattern, all of
 *                      it (_vhsys) or one piece at a time (see below)
 *
 * The dispatcher's responder loop is vh_backend_handle_wait(b, -1): a thread
 * that serves one connection blocks in recvmsg with no poll() first (an
 * event-loop server uses epoll_wait + vh_backend_handle_readable instead).
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "rtt.h"
#include "vhost/backend.h"
#include "vhost/frontend.h"

/* ------------------------------------------------------------------------ */
/* Raw                                                                      */
/* ------------------------------------------------------------------------ */

static int read_full(int fd, void *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = read(fd, (char *)buf + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

static int write_full(int fd, const void *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = write(fd, (const char *)buf + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

struct raw {
	int fd;
	size_t req, rep;
	uint8_t buf[64];
};

static int raw_serve(int fd, size_t req, size_t rep)
{
	uint8_t buf[64] = {0};

	while (read_full(fd, buf, req) == 0)
		if (write_full(fd, buf, rep) < 0)
			return -1;
	return 0;
}

static int raw_serve_12(int fd)
{
	return raw_serve(fd, 12, 20);
}

static int raw_serve_20(int fd)
{
	return raw_serve(fd, 20, 20);
}

static void *raw_open(int fd, size_t req, size_t rep)
{
	struct raw *r = calloc(1, sizeof(*r));

	if (!r) {
		close(fd);
		return NULL;
	}
	r->fd = fd;
	r->req = req;
	r->rep = rep;
	return r;
}

static void *raw_open_12(int fd)
{
	return raw_open(fd, 12, 20);
}

static void *raw_open_20(int fd)
{
	return raw_open(fd, 20, 20);
}

static int raw_rtt(void *ctx)
{
	struct raw *r = ctx;

	if (write_full(r->fd, r->buf, r->req) < 0)
		return -1;
	return read_full(r->fd, r->buf, r->rep);
}

static void raw_close(void *ctx)
{
	struct raw *r = ctx;

	close(r->fd);
	free(r);
}

/*
 * Raw bytes with the library's syscall pattern, piece by piece (lib/conn):
 *   SYS_FE_POLL  requester: recvmsg(MSG_DONTWAIT) -> EAGAIN, poll(), then
 *                recvmsg — the front-end's wait for a reply with a timeout
 *   SYS_FE_SPLIT requester: reply read as recvmsg(12) + recvmsg(8)
 *   SYS_BE_POLL  responder: poll() before a recvmsg(MSG_DONTWAIT) — the
 *                dispatcher's "handle readable" in a blocking loop
 * Sends are sendmsg(MSG_NOSIGNAL | MSG_DONTWAIT) as in vh_conn_send.
 */
enum {
	SYS_FE_POLL = 1u << 0,
	SYS_FE_SPLIT = 1u << 1,
	SYS_BE_POLL = 1u << 2,
	SYS_ALL = SYS_FE_POLL | SYS_FE_SPLIT | SYS_BE_POLL,
};

static ssize_t msg_io(int fd, void *buf, size_t len, bool send, int flags)
{
	struct iovec iov = {.iov_base = buf, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

	return send ? sendmsg(fd, &mh, flags | MSG_NOSIGNAL)
		    : recvmsg(fd, &mh, flags | MSG_CMSG_CLOEXEC);
}

static int sys_serve(int fd, unsigned mode)
{
	uint8_t buf[64] = {0};

	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int flags = 0;

		if (mode & SYS_BE_POLL) {
			if (poll(&p, 1, -1) < 0)
				return -1;
			flags = MSG_DONTWAIT;
		}
		if (msg_io(fd, buf, 12, false, flags) != 12)
			return 0; /* hang-up */
		if (msg_io(fd, buf, 20, true, MSG_DONTWAIT) != 20)
			return -1;
	}
}

static int sys_rtt(struct raw *r, unsigned mode)
{
	struct pollfd p = {.fd = r->fd, .events = POLLIN};
	size_t first = (mode & SYS_FE_SPLIT) ? 12 : 20;
	ssize_t n;

	if (msg_io(r->fd, r->buf, 12, true, MSG_DONTWAIT) != 12)
		return -1;
	if (mode & SYS_FE_POLL) {
		n = msg_io(r->fd, r->buf, first, false, MSG_DONTWAIT);
		if (n < 0 && errno == EAGAIN) {
			if (poll(&p, 1, 5000) != 1)
				return -1;
			n = msg_io(r->fd, r->buf, first, false, MSG_DONTWAIT);
		}
	} else {
		n = msg_io(r->fd, r->buf, first, false, 0);
	}
	if (n != (ssize_t)first)
		return -1;
	if (first == 20)
		return 0;
	return msg_io(r->fd, r->buf, 8, false, MSG_DONTWAIT) == 8 ? 0 : -1;
}

static int sys_serve_all(int fd)
{
	return sys_serve(fd, SYS_ALL);
}

static int sys_serve_all_be(int fd)
{
	return sys_serve(fd, SYS_BE_POLL);
}

static int sys_serve_plain(int fd)
{
	return sys_serve(fd, 0);
}

static int sys_rtt_all(void *ctx)
{
	return sys_rtt(ctx, SYS_ALL);
}

static int sys_rtt_fe_poll(void *ctx)
{
	return sys_rtt(ctx, SYS_FE_POLL);
}

static int sys_rtt_plain(void *ctx)
{
	return sys_rtt(ctx, 0);
}

static int sys_rtt_split(void *ctx)
{
	return sys_rtt(ctx, SYS_FE_SPLIT);
}

/* ------------------------------------------------------------------------ */
/* libvhost                                                                 */
/* ------------------------------------------------------------------------ */

static int be_set_vring_num(void *opaque, uint32_t index, uint32_t num)
{
	(void)opaque;
	(void)index;
	(void)num;
	return 0;
}

static const struct vh_backend_ops be_ops = {
    .set_vring_num = be_set_vring_num,
};

static int vh_serve(int fd)
{
	struct vh_backend_config cfg = {
	    .features = vh_virtio_feature_mask(VH_VIRTIO_F_VERSION_1),
	    .protocol_features =
		vh_protocol_feature_mask(VHOST_USER_PROTOCOL_F_REPLY_ACK),
	    .num_queues = 1,
	    .name = "bench",
	    .ops = &be_ops,
	};
	struct vh_backend *b;
	int r;

	if (vh_backend_new(&b, fd, &cfg) < 0)
		return -1;
	do
		r = vh_backend_handle_wait(b, -1);
	while (r >= 0);
	vh_backend_free(b);
	return r == -ECONNRESET ? 0 : -1;
}

static void *fe_open(int fd, int reply_timeout_ms)
{
	struct vh_frontend_opts o = {.reply_timeout_ms = reply_timeout_ms,
				     .name = "bench"};
	struct vh_frontend *f;

	if (vh_frontend_new(&f, fd, &o) < 0)
		return NULL;
	return f;
}

static void *fe_open_default(int fd)
{
	return fe_open(fd, 0); /* the default reply timeout, 5 s */
}

static void *fe_open_block(int fd)
{
	return fe_open(fd, -1);
}

static void *fe_open_ack(int fd)
{
	struct vh_frontend *f = fe_open(fd, 0);
	uint64_t pf;

	if (!f)
		return NULL;
	if (vh_frontend_get_features(f, NULL) < 0 ||
	    vh_frontend_get_protocol_features(f, &pf) < 0 ||
	    vh_frontend_set_protocol_features(
		f, vh_protocol_feature_mask(VHOST_USER_PROTOCOL_F_REPLY_ACK)) <
		0) {
		vh_frontend_free(f);
		return NULL;
	}
	vh_frontend_set_ack_always(f, true);
	return f;
}

static int fe_get_features(void *ctx)
{
	uint64_t v;

	return vh_frontend_get_features(ctx, &v) < 0 ? -1 : 0;
}

static int fe_set_vring_num(void *ctx)
{
	return vh_frontend_set_vring_num(ctx, 0, 256) < 0 ? -1 : 0;
}

static void fe_close(void *ctx)
{
	vh_frontend_free(ctx);
}

static const struct rtt_variant variants[] = {
    {"get_features", "GET_FEATURES: vh_frontend <-> vh_backend, 12 -> 20 B",
     "raw_12_20", false, vh_serve, fe_open_default, fe_get_features, fe_close},
    {"raw_12_20", "raw AF_UNIX write(12)/read(20)", NULL, false, raw_serve_12,
     raw_open_12, raw_rtt, raw_close},
    {"set_vring_num_ack",
     "SET_VRING_NUM + NEED_REPLY: vh_frontend <-> vh_backend, 20 -> 20 B",
     "raw_20_20", false, vh_serve, fe_open_ack, fe_set_vring_num, fe_close},
    {"raw_20_20", "raw AF_UNIX write(20)/read(20)", NULL, false, raw_serve_20,
     raw_open_20, raw_rtt, raw_close},
    {"get_features_block",
     "GET_FEATURES, front-end reply_timeout_ms=-1 (no poll)", "raw_12_20", true,
     vh_serve, fe_open_block, fe_get_features, fe_close},
    {"raw_12_20_vhsys", "raw bytes, the library's syscalls on both sides",
     "raw_12_20", true, sys_serve_all, raw_open_12, sys_rtt_all, raw_close},
    {"raw_12_20_msg", "raw, sendmsg/recvmsg instead of write/read", "raw_12_20",
     true, sys_serve_plain, raw_open_12, sys_rtt_plain, raw_close},
    {"raw_12_20_fepoll", "raw, requester: EAGAIN recvmsg + poll + recvmsg",
     "raw_12_20", true, sys_serve_plain, raw_open_12, sys_rtt_fe_poll,
     raw_close},
    {"raw_12_20_split", "raw, requester reads the reply as 12 + 8", "raw_12_20",
     true, sys_serve_plain, raw_open_12, sys_rtt_split, raw_close},
    {"raw_12_20_bepoll", "raw, responder: poll + recvmsg(DONTWAIT)",
     "raw_12_20", true, sys_serve_all_be, raw_open_12, sys_rtt_plain,
     raw_close},
};

const struct rtt_variant *rtt_variants(size_t *n)
{
	*n = sizeof(variants) / sizeof(variants[0]);
	return variants;
}
