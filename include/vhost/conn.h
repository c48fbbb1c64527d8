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
 * peer that stalls mid-message cannot hang the caller). The library never
 * changes the socket's O_NONBLOCK flag: every read and write that could
 * block mid-message uses MSG_DONTWAIT and waits in poll() instead.
 *
 * Cost: a send is one sendmsg(); a receive is one recvmsg() for the header
 * (and its fds) plus one for the payload when there is one. poll() runs only
 * after a read or write found the socket not ready.
 *
 * Threads: a connection holds no lock. One thread may send while another
 * receives; two concurrent sends (or two concurrent receives) on one
 * connection must be serialised by the caller.
 *
 * After any error from vh_conn_send() or vh_conn_recv() other than -EAGAIN
 * and the send-side argument checks (-EMSGSIZE, -EINVAL), the byte stream is
 * no longer in step with the peer: close the connection.
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
	/* Largest payload accepted from the peer, at most
	 * VHOST_USER_MAX_PAYLOAD (the size of the buffer in struct
	 * vhost_user_msg); 0 means VHOST_USER_MAX_PAYLOAD. */
	uint32_t max_payload;
	/* Most fds accepted in one message, at most VHOST_USER_MAX_FDS;
	 * 0 means VHOST_USER_MAX_FDS. */
	unsigned max_fds;
	/* Time allowed for the rest of a message once it started, and for a
	 * send that finds the socket full; counted from the first time the
	 * call has to wait, never renewed. 0 means 5000 ms. */
	int msg_timeout_ms;
};

/**
 * Wrap connected AF_UNIX stream socket @fd. Takes ownership of @fd, also on
 * failure (it is closed). @opts may be NULL for defaults. Sets *@out to the
 * new connection, or to NULL on failure.
 * Errors: -EINVAL (an option out of range; @fd is not AF_UNIX SOCK_STREAM,
 * or is listening), -ENOTSOCK, -EBADF, -ENOTCONN (not connected), -ENOMEM.
 */
int vh_conn_new(struct vh_conn **out, int fd, const struct vh_conn_opts *opts);

/** Close the socket and free @c. NULL is accepted. Fds of messages already
 * received belong to their callers and stay open. */
void vh_conn_free(struct vh_conn *c);

/** The socket, for poll/epoll. Still owned by @c. */
int vh_conn_fd(const struct vh_conn *c);

/**
 * Send one message: the 12-byte header, msg->hdr.size payload bytes and
 * msg->nfds descriptors (borrowed: the caller keeps and closes them). The
 * fds travel with the first byte of the header. The header is sent as it
 * is: filling it (version, flags) is the caller's job. Never raises SIGPIPE.
 * Returns 0; -EMSGSIZE (size over VHOST_USER_MAX_PAYLOAD) or -EINVAL
 * (more than VHOST_USER_MAX_FDS fds), both before anything is sent;
 * -EPIPE / -ECONNRESET (peer gone); -ETIMEDOUT (the peer did not drain the
 * socket within the message timeout); or another negative errno.
 */
int vh_conn_send(struct vh_conn *c, const struct vhost_user_msg *msg);

/**
 * Receive one message into @msg. Waits up to @wait_ms for its first byte
 * (negative: forever — a blocking socket then blocks in recvmsg(); 0: not at
 * all), then up to the message timeout for the rest.
 *
 * Only what is needed to read a message safely is checked here: the payload
 * size against max_payload (before a payload byte is read) and the number
 * of fds. Version, flags and request codes are the caller's to validate.
 * Fds count wherever they arrive within the message (with the header or with
 * payload bytes); they carry FD_CLOEXEC.
 *
 * On success msg->fds[0..nfds) are owned by the caller. On any failure no
 * descriptor is left open and msg->nfds is 0; msg->hdr holds the header when
 * it was read in full (so the caller can name the request in its log) and is
 * zeroed otherwise.
 *
 * Returns 0; -EAGAIN (nothing arrived within @wait_ms); -ECONNRESET (the peer
 * closed, at a message boundary: an orderly hang-up); -EPROTO (the peer
 * closed mid-message, or control data was truncated: more fds than the
 * control buffer holds — it has room for max_fds + 1 — or this process ran
 * out of descriptors); -EMSGSIZE (payload over the limit; the payload stays
 * unread); -EBADMSG (more than max_fds fds); -ETIMEDOUT (stalled
 * mid-message); or another negative errno from recvmsg()/poll().
 */
int vh_conn_recv(struct vh_conn *c, struct vhost_user_msg *msg, int wait_ms);

/**
 * vh_conn_recv() for a message whose payload size is known in advance (a
 * reply): the header's recvmsg also reads up to @expect payload bytes, so a
 * reply costs one system call instead of two. Bytes read beyond the size the
 * header then announces mean the peer sent something that is not a single
 * reply: -EPROTO (the stream is out of step; close the connection). An
 * @expect above the connection's payload limit is treated as 0. Otherwise
 * the same contract, ownership and errors as vh_conn_recv().
 */
int vh_conn_recv_expect(struct vh_conn *c, struct vhost_user_msg *msg,
			int wait_ms, uint32_t expect);

/** Close every descriptor held by @msg (those it owns), set them to -1 and
 * msg->nfds to 0. */
void vh_msg_close_fds(struct vhost_user_msg *msg);

/* ------------------------------------------------------------------------ */
/* Making sockets                                                           */
/* ------------------------------------------------------------------------ */

/**
 * Listen on @path (backlog <= 0: SOMAXCONN). A path that exists is taken over
 * only when it is a socket nobody answers on (stale, e.g. left by a crashed
 * process): it is unlinked first. Whether anyone answers is found out by
 * connecting, so a live listener sees one connection that closes at once.
 * A path where a listener answers gives -EADDRINUSE; a path that is not a
 * socket (a symlink included) gives -EEXIST; a path of sun_path bytes or more
 * gives -ENAMETOOLONG; an empty one -EINVAL. The caller owns the path once
 * listening: remove it with vh_sock_unlink() when done.
 * Returns the listening fd (O_CLOEXEC, blocking) or a negative errno.
 */
int vh_sock_listen(const char *path, int backlog);

/**
 * Connect to @path, retrying every 10-100 ms (growing) while the path is
 * missing, refuses, or the listener's backlog is full, for up to @timeout_ms
 * (0: one attempt; negative: until it works).
 * Returns a connected fd (O_CLOEXEC, blocking) or a negative errno: with one
 * attempt -ENOENT / -ECONNREFUSED / -EAGAIN (backlog full), otherwise
 * -ETIMEDOUT; -ENAMETOOLONG / -EINVAL for a path that cannot be a socket
 * address; any other connect() error at once.
 */
int vh_sock_connect(const char *path, int timeout_ms);

/**
 * Accept one connection on listening socket @lfd (borrowed, blocking or not),
 * waiting up to @timeout_ms (negative: forever). Returns the new fd
 * (O_CLOEXEC, blocking) or a negative errno: -EAGAIN when nobody was waiting
 * and @timeout_ms is 0, -ETIMEDOUT when nobody came within @timeout_ms > 0.
 * With several threads accepting on one blocking @lfd, a thread may still
 * block past its timeout after losing the race: use a non-blocking @lfd then.
 */
int vh_sock_accept(int lfd, int timeout_ms);

/**
 * Inspect an inherited fd (socket activation, --fd=N): it must be an AF_UNIX
 * SOCK_STREAM socket. Sets *@listening when it is a listening socket (accept
 * on it) and clears it when connected (use it directly). Borrows @fd.
 * Errors: -EBADF, -ENOTSOCK, -EINVAL (other family or type), -ENOTCONN
 * (neither listening nor connected).
 */
int vh_sock_adopt(int fd, bool *listening);

/**
 * Unlink @path if it is a socket (used on shutdown by the listener's owner).
 * Returns 0 or a negative errno; a missing path is not an error; anything
 * that is not a socket is left alone and gives -ENOTSOCK.
 */
int vh_sock_unlink(const char *path);

#ifdef __cplusplus
}
#endif

#endif /* VHOST_CONN_H */
