/* SPDX-License-Identifier: MIT */
/*
 * libvhost — socket layer: one vhost-user connection over an AF_UNIX stream
 * socket, and the helpers that make one (listen, connect, accept, adopt).
 *
 * A connection moves whole messages: header + payload + file descriptors
 * (SCM_RIGHTS). Received descriptors carry O_CLOEXEC (MSG_CMSG_CLOEXEC);
 * sends never raise SIGPIPE (MSG_NOSIGNAL). Partial reads and writes and
 * EINTR are handled inside. A message whose control data was truncated
 * (MSG_CTRUNC) is an error and every descriptor that did arrive is closed.
 * A payload larger than the connection's limit is refused before anything
 * is allocated (the payload buffer is part of struct vhost_user_msg).
 *
 * Blocking and event-loop use both work: the socket may be non-blocking;
 * vh_conn_recv() with wait_ms == 0 returns -EAGAIN when no message has
 * started, and once the first byte of a message is in, the rest must arrive
 * within the connection's message timeout or the call fails -ETIMEDOUT (a
 * peer that stalls mid-message cannot hang the caller).
 */
#ifndef VHOST_CONN_H
#define VHOST_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include "vhost/proto.h"

#ifdef __cplusplus
extern "C" {
#endif

struct vh_conn;

struct vh_conn_opts {
	/* Largest payload accepted; 0 means VHOST_USER_MAX_PAYLOAD. */
	uint32_t max_payload;
	/* Most fds accepted in one message; 0 means VHOST_USER_MAX_FDS. */
	unsigned max_fds;
	/* Time allowed for the rest of a message once it started, and for a
	 * send to complete; 0 means 5000 ms. */
	int msg_timeout_ms;
};

/**
 * Wrap connected AF_UNIX stream socket @fd. Takes ownership of @fd, also on
 * failure (it is closed). @opts may be NULL for defaults.
 * Errors: -ENOMEM, -ENOTSOCK / -EINVAL when @fd is not a connected
 * AF_UNIX SOCK_STREAM socket.
 */
int vh_conn_new(struct vh_conn **out, int fd, const struct vh_conn_opts *opts);

/** Close the socket and free @c. NULL is accepted. */
void vh_conn_free(struct vh_conn *c);

/** The socket, for poll/epoll. Still owned by @c. */
int vh_conn_fd(const struct vh_conn *c);

/**
 * Send one message: the 12-byte header, msg->hdr.size payload bytes and
 * msg->nfds descriptors (borrowed: the caller keeps and closes them).
 * Returns 0, -EMSGSIZE (size over the limit), -EINVAL (too many fds),
 * -EPIPE / -ECONNRESET (peer gone), -ETIMEDOUT, or another negative errno.
 */
int vh_conn_send(struct vh_conn *c, const struct vhost_user_msg *msg);

/**
 * Receive one message into @msg. Waits up to @wait_ms for its first byte
 * (-1: forever, 0: not at all), then up to the message timeout for the rest.
 * On success msg->fds[0..nfds) are owned by the caller. On any failure no
 * descriptor is left open and msg->nfds is 0.
 * Returns 0; -EAGAIN (nothing arrived within @wait_ms); -ECONNRESET (the peer
 * closed, at a message boundary: an orderly hang-up); -EPROTO (the peer
 * closed mid-message, or control data truncated); -EMSGSIZE (payload over
 * the limit — the stream can no longer be trusted); -EBADMSG (more fds than
 * allowed); -ETIMEDOUT (stalled mid-message).
 */
int vh_conn_recv(struct vh_conn *c, struct vhost_user_msg *msg, int wait_ms);

/** Close every descriptor held by @msg and set msg->nfds to 0. */
void vh_msg_close_fds(struct vhost_user_msg *msg);

/* ------------------------------------------------------------------------ */
/* Making sockets                                                           */
/* ------------------------------------------------------------------------ */

/**
 * Listen on @path. A path that exists is taken over only when it is a socket
 * nobody answers on (stale, e.g. left by a crashed process): it is unlinked
 * first. A path where a listener answers gives -EADDRINUSE; a path that is not
 * a socket gives -EEXIST; a path longer than sun_path gives -ENAMETOOLONG.
 * Returns the listening fd (O_CLOEXEC) or a negative errno.
 */
int vh_sock_listen(const char *path, int backlog);

/**
 * Connect to @path, retrying every 10-100 ms (growing) while the path is
 * missing or refuses, for up to @timeout_ms (0: one attempt).
 * Returns a connected fd (O_CLOEXEC) or -ENOENT / -ECONNREFUSED / -ETIMEDOUT /
 * another negative errno.
 */
int vh_sock_connect(const char *path, int timeout_ms);

/**
 * Accept one connection on listening socket @lfd (borrowed), waiting up to
 * @timeout_ms (-1: forever). Returns the new fd (O_CLOEXEC) or a negative
 * errno (-EAGAIN / -ETIMEDOUT when nobody came).
 */
int vh_sock_accept(int lfd, int timeout_ms);

/**
 * Inspect an inherited fd (socket activation, --fd=N): it must be an AF_UNIX
 * SOCK_STREAM socket. Sets *@listening when it is a listening socket (accept
 * on it) and clears it when connected (use it directly). Borrows @fd.
 * Errors: -EBADF, -ENOTSOCK, -EINVAL (other family or type).
 */
int vh_sock_adopt(int fd, bool *listening);

/**
 * Unlink @path if it is a socket (used on shutdown by the listener's owner).
 * Returns 0 or a negative errno; a missing path is not an error.
 */
int vh_sock_unlink(const char *path);

#ifdef __cplusplus
}
#endif

#endif /* VHOST_CONN_H */
