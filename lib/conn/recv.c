/* SPDX-License-Identifier: MIT */
/*
 * Receiving one message (include/vhost/conn.h, vh_conn_recv).
 *
 * Fast path: one recvmsg() for the 12-byte header and its fds, one recvmsg()
 * for the payload when there is one. poll() runs only after a read found
 * nothing (EAGAIN), never before. The payload size is checked against the
 * connection's limit before a byte of it is read; the buffer is the fixed
 * one inside struct vhost_user_msg, so nothing is ever allocated here.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "conn_priv.h"
#include "deadline.h"
#include "vhost/conn.h"
#include "vhost/log.h"

/* One receive in progress. */
struct rx {
	struct vh_conn *c;
	struct vhost_user_msg *msg; /* fds collect in msg->fds/nfds */
	size_t got;		    /* bytes of this message so far */
	int wait_ms;		    /* for the first byte */
	struct vh_deadline first;   /* the first byte's deadline */
	struct vh_deadline rest;    /* the rest's (message timeout) */
	bool ctrunc;		    /* the kernel dropped fds */
	bool too_many;		    /* more fds than max_fds */
	bool blocked;		    /* tried one SO_RCVTIMEO-bounded read */
	uint8_t *extra;		    /* read-along buffer for the payload */
	size_t extra_len, extra_got;
};

/*
 * Wait for a message's first byte inside recvmsg, bounded by SO_RCVTIMEO,
 * instead of a failing non-blocking read followed by poll(): one system call
 * per message on a blocking socket. Set once and cached per connection.
 */
static int set_rcvtimeo(struct vh_conn *c, int ms)
{
	struct timeval tv = {.tv_sec = ms / 1000,
			     .tv_usec = (ms % 1000) * 1000};

	if (c->rcvtimeo_ms == ms)
		return 0;
	if (setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		return -errno;
	c->rcvtimeo_ms = ms;
	return 0;
}

/*
 * Room for one fd more than the connection accepts: a message with too many
 * fds is then recognised as such (-EBADMSG) instead of only as truncated
 * control data. msg_controllen is CMSG_LEN, not CMSG_SPACE, because the
 * kernel derives the number of fds it installs from it and CMSG_SPACE's
 * padding would admit one more for an odd count.
 */
#define RX_CTL_FDS (VHOST_USER_MAX_FDS + 1)

/* Keep the fds of every SCM_RIGHTS cmsg in @mh, up to max_fds. */
static void rx_take_fds(struct rx *rx, struct msghdr *mh)
{
	struct vhost_user_msg *msg = rx->msg;
	struct cmsghdr *cm;

	if (mh->msg_flags & MSG_CTRUNC)
		rx->ctrunc = true;
	for (cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		const unsigned char *data = CMSG_DATA(cm);
		size_t i, n;

		if (cm->cmsg_level != SOL_SOCKET ||
		    cm->cmsg_type != SCM_RIGHTS || cm->cmsg_len < CMSG_LEN(0))
			continue;
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, data + i * sizeof(int), sizeof(fd));
			if (msg->nfds < rx->c->max_fds) {
				msg->fds[msg->nfds++] = fd;
			} else {
				close(fd);
				rx->too_many = true;
			}
		}
	}
}

/* One recvmsg(): bytes read (0 at EOF) or a negative errno. The bytes count
 * in rx->got even when their fds fail the message (for the log). */
static ssize_t rx_chunk(struct rx *rx, uint8_t *buf, size_t len, int flags)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * RX_CTL_FDS)];
	} ctl;
	struct iovec iov[2] = {
	    {.iov_base = buf, .iov_len = len},
	    {.iov_base = rx->extra, .iov_len = rx->extra_len}};
	struct msghdr mh = {
	    .msg_iov = iov,
	    .msg_iovlen = rx->extra_len ? 2 : 1,
	    .msg_control = ctl.buf,
	    .msg_controllen = CMSG_LEN(sizeof(int) * (rx->c->max_fds + 1)),
	};
	ssize_t n;

	do {
		n = recvmsg(rx->c->fd, &mh, flags | MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	rx->got += (size_t)n;
	if (rx->extra_len && (size_t)n > len) {
		rx->extra_got = (size_t)n - len;
		n = (ssize_t)len;
	}
	if (mh.msg_controllen || (mh.msg_flags & MSG_CTRUNC))
		rx_take_fds(rx, &mh);
	if (rx->ctrunc)
		return -EPROTO;
	if (rx->too_many)
		return -EBADMSG;
	return n;
}

/* Read exactly @len bytes of the current message into @buf. */
static int rx_read(struct rx *rx, uint8_t *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		bool started = rx->got > 0;
		int flags = MSG_DONTWAIT;
		ssize_t n;
		int err;

		/* Waiting forever for a new message: let a blocking socket
		 * block in recvmsg() (one syscall). Once a message started,
		 * never block unbounded: the peer may stall. */
		if (!started && rx->wait_ms < 0) {
			flags = 0;
			set_rcvtimeo(rx->c, 0);
		} else if (!started && rx->wait_ms > 0 && !rx->blocked &&
			   set_rcvtimeo(rx->c, rx->wait_ms) == 0) {
			/* Block in recvmsg, bounded by SO_RCVTIMEO: no probe,
			 * no poll. A non-blocking socket returns EAGAIN at once
			 * and takes the poll path below. */
			vh_deadline_left_ms(&rx->first, rx->wait_ms);
			rx->blocked = true;
			flags = 0;
		}
		n = rx_chunk(rx, buf + off, len - off, flags);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n == 0 || n == -ECONNRESET)
			return started ? -EPROTO : -ECONNRESET;
		if (n != -EAGAIN && n != -EWOULDBLOCK)
			return (int)n;
		if (started) {
			err = vh_wait_fd(rx->c->fd, POLLIN, &rx->rest,
					 rx->c->msg_timeout_ms);
		} else {
			err = vh_wait_fd(rx->c->fd, POLLIN, &rx->first,
					 rx->wait_ms);
			if (err == -ETIMEDOUT)
				err = -EAGAIN;
		}
		if (err)
			return err;
	}
	return 0;
}

/* "request 5" once the header is in, else "header byte 7". */
static const char *rx_what(const struct rx *rx, char *buf, size_t len)
{
	if (rx->got >= VHOST_USER_HDR_SIZE)
		snprintf(buf, len, "request %u", rx->msg->hdr.request);
	else
		snprintf(buf, len, "header byte %zu", rx->got);
	return buf;
}

static void rx_log(const struct rx *rx, int err)
{
	const struct vhost_user_msg *msg = rx->msg;
	const char *why;
	char what[32];

	rx_what(rx, what, sizeof(what));
	switch (err) {
	case -EAGAIN:
		return;
	case -ECONNRESET:
		vh_dbg("conn: peer hung up");
		return;
	case -EMSGSIZE:
		vh_err("conn: %s: payload of %u bytes over the limit of %u",
		       what, msg->hdr.size, rx->c->max_payload);
		return;
	case -EBADMSG:
		vh_err("conn: %s: more than %u fds", what, rx->c->max_fds);
		return;
	case -EPROTO:
		why = rx->ctrunc ? "control data truncated (too many fds, or "
				   "out of fds)"
				 : "peer closed mid-message";
		break;
	default:
		why = vh_strerror(err);
		break;
	}
	vh_err("conn: %s: %zu of %zu message bytes received: %s", what, rx->got,
	       rx->got >= VHOST_USER_HDR_SIZE
		   ? VHOST_USER_HDR_SIZE + (size_t)msg->hdr.size
		   : (size_t)VHOST_USER_HDR_SIZE,
	       why);
}

int vh_conn_recv_expect(struct vh_conn *c, struct vhost_user_msg *msg,
			int wait_ms, uint32_t expect)
{
	struct rx rx = {.c = c, .msg = msg, .wait_ms = wait_ms};
	int err;

	if (expect > c->max_payload)
		expect = 0;
	rx.extra = msg->payload.raw;
	rx.extra_len = expect;
	msg->nfds = 0;
	err = rx_read(&rx, (uint8_t *)&msg->hdr, VHOST_USER_HDR_SIZE);
	rx.extra_len = 0;
	if (err)
		goto fail;
	if (rx.extra_got > msg->hdr.size) {
		/* Bytes beyond this message: the peer sent more than one
		 * reply, so the stream is out of step. */
		vh_err("conn: request %u: %zu bytes follow a %u-byte reply",
		       msg->hdr.request, rx.extra_got - msg->hdr.size,
		       msg->hdr.size);
		vh_msg_close_fds(msg);
		return -EPROTO;
	}
	if (msg->hdr.size > c->max_payload) {
		err = -EMSGSIZE;
		goto fail;
	}
	if (msg->hdr.size > rx.extra_got)
		err = rx_read(&rx, msg->payload.raw + rx.extra_got,
			      msg->hdr.size - rx.extra_got);
	if (err)
		goto fail;
	return 0;
fail:
	rx_log(&rx, err);
	vh_msg_close_fds(msg);
	if (rx.got < VHOST_USER_HDR_SIZE)
		memset(&msg->hdr, 0, sizeof(msg->hdr));
	return err;
}

int vh_conn_recv(struct vh_conn *c, struct vhost_user_msg *msg, int wait_ms)
{
	struct rx rx = {.c = c, .msg = msg, .wait_ms = wait_ms};
	int err;

	msg->nfds = 0;
	err = rx_read(&rx, (uint8_t *)&msg->hdr, VHOST_USER_HDR_SIZE);
	if (err)
		goto fail;
	/* Checked before reading a payload byte: the limit is what makes the
	 * fixed buffer safe. */
	if (msg->hdr.size > c->max_payload) {
		err = -EMSGSIZE;
		goto fail;
	}
	if (msg->hdr.size)
		err = rx_read(&rx, msg->payload.raw, msg->hdr.size);
	if (err)
		goto fail;
	return 0;
fail:
	rx_log(&rx, err);
	vh_msg_close_fds(msg);
	if (rx.got < VHOST_USER_HDR_SIZE)
		memset(&msg->hdr, 0, sizeof(msg->hdr));
	return err;
}
