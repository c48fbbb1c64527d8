/* SPDX-License-Identifier: MIT */
/*
 * One vhost-user connection: creation and sending (include/vhost/conn.h).
 * Receiving lives in recv.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn_priv.h"
#include "deadline.h"
#include "vhost/conn.h"
#include "vhost/log.h"

#define DEFAULT_MSG_TIMEOUT_MS 5000

int vh_conn_new(struct vh_conn **out, int fd, const struct vh_conn_opts *opts)
{
	struct vh_conn_opts o = {0};
	struct vh_conn *c;
	bool listening;
	int err;

	*out = NULL;
	if (opts)
		o = *opts;
	if (o.max_payload > VHOST_USER_MAX_PAYLOAD ||
	    o.max_fds > VHOST_USER_MAX_FDS || o.msg_timeout_ms < 0) {
		vh_err("conn: bad options (max_payload %u, max_fds %u, "
		       "msg_timeout_ms %d)",
		       o.max_payload, o.max_fds, o.msg_timeout_ms);
		err = -EINVAL;
		goto fail;
	}
	err = vh_sock_adopt(fd, &listening);
	if (err == 0 && listening)
		err = -EINVAL;
	if (err) {
		vh_err("conn: fd %d is not a connected unix stream socket: %s",
		       fd, vh_strerror(err));
		goto fail;
	}
	c = malloc(sizeof(*c));
	if (!c) {
		err = -ENOMEM;
		goto fail;
	}
	c->fd = fd;
	c->rcvtimeo_ms = 0;
	c->max_payload = o.max_payload ? o.max_payload : VHOST_USER_MAX_PAYLOAD;
	c->max_fds = o.max_fds ? o.max_fds : VHOST_USER_MAX_FDS;
	c->msg_timeout_ms =
	    o.msg_timeout_ms ? o.msg_timeout_ms : DEFAULT_MSG_TIMEOUT_MS;
	*out = c;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	return err;
}

void vh_conn_free(struct vh_conn *c)
{
	if (!c)
		return;
	close(c->fd);
	free(c);
}

int vh_conn_fd(const struct vh_conn *c)
{
	return c->fd;
}

void vh_msg_close_fds(struct vhost_user_msg *msg)
{
	unsigned i, n = msg->nfds;

	/* A corrupted count must not make us close fds we never held. */
	if (n > VHOST_USER_MAX_FDS)
		n = VHOST_USER_MAX_FDS;
	for (i = 0; i < n; i++) {
		if (msg->fds[i] >= 0)
			close(msg->fds[i]);
		msg->fds[i] = -1;
	}
	msg->nfds = 0;
}

/* Point @iov at what is left to send after @sent bytes; returns iovcnt. */
static int send_iov(struct iovec iov[2], const struct vhost_user_msg *msg,
		    size_t sent)
{
	const uint8_t *hdr = (const uint8_t *)&msg->hdr;
	size_t size = msg->hdr.size;

	if (sent < VHOST_USER_HDR_SIZE) {
		iov[0].iov_base = (void *)(hdr + sent);
		iov[0].iov_len = VHOST_USER_HDR_SIZE - sent;
		iov[1].iov_base = (void *)msg->payload.raw;
		iov[1].iov_len = size;
		return size ? 2 : 1;
	}
	sent -= VHOST_USER_HDR_SIZE;
	iov[0].iov_base = (void *)(msg->payload.raw + sent);
	iov[0].iov_len = size - sent;
	return 1;
}

int vh_conn_send(struct vh_conn *c, const struct vhost_user_msg *msg)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * VHOST_USER_MAX_FDS)];
	} ctl;
	size_t total = VHOST_USER_HDR_SIZE + (size_t)msg->hdr.size;
	struct vh_deadline dl = {0};
	struct msghdr mh = {0};
	struct iovec iov[2];
	size_t sent = 0;

	/* The bound is the buffer's, not max_payload: that one defends the
	 * receiving side, and what the peer accepts is the peer's business. */
	if (msg->hdr.size > VHOST_USER_MAX_PAYLOAD) {
		vh_err("conn: request %u: payload of %u bytes over the limit "
		       "of %u, not sent",
		       msg->hdr.request, msg->hdr.size, VHOST_USER_MAX_PAYLOAD);
		return -EMSGSIZE;
	}
	if (msg->nfds > VHOST_USER_MAX_FDS) {
		vh_err("conn: request %u: %u fds, at most %u, not sent",
		       msg->hdr.request, msg->nfds, VHOST_USER_MAX_FDS);
		return -EINVAL;
	}
	mh.msg_iov = iov;
	if (msg->nfds) {
		struct cmsghdr *cm;
		size_t len = sizeof(int) * msg->nfds;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(len);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(len);
		memcpy(CMSG_DATA(cm), msg->fds, len);
	}
	while (sent < total) {
		ssize_t n;
		int err;

		mh.msg_iovlen = send_iov(iov, msg, sent);
		/* MSG_DONTWAIT even on a blocking socket: a peer that stops
		 * reading must not hold us past the message timeout. */
		n = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			sent += (size_t)n;
			/* The fds travelled with the first bytes. */
			mh.msg_control = NULL;
			mh.msg_controllen = 0;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			err = -errno;
			if (err == -EPIPE || err == -ECONNRESET)
				vh_dbg("conn: request %u: peer gone",
				       msg->hdr.request);
			else
				vh_err("conn: request %u: send failed: %s",
				       msg->hdr.request, vh_strerror(err));
			return err;
		}
		err = vh_wait_fd(c->fd, POLLOUT, &dl, c->msg_timeout_ms);
		if (err) {
			vh_err("conn: request %u: send stalled after %zu of "
			       "%zu bytes: %s",
			       msg->hdr.request, sent, total, vh_strerror(err));
			return err;
		}
	}
	return 0;
}
