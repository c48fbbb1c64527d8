/* SPDX-License-Identifier: MIT */
/*
 * vhost-user-bench: one session with the back-end — connect, negotiate,
 * read the config and check the workload against it (memory and rings:
 * session_mem.c).
 *
 * Message order as QEMU opens a vhost-user-blk device (hw/virtio/vhost.c,
 * vhost-user.c): GET_FEATURES, GET_PROTOCOL_FEATURES, SET_PROTOCOL_FEATURES,
 * GET_QUEUE_NUM, GET_MAX_MEM_SLOTS, SET_OWNER, GET_CONFIG, SET_FEATURES, the
 * memory table, then per ring NUM, BASE, ADDR, KICK, CALL, and ENABLE.
 * With REPLY_ACK negotiated every request without a reply of its own asks
 * for an ack, so a refusal surfaces at the request that caused it.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "session_int.h"
#include "vhost/conn.h"
#include "vhost/virtq.h"

#define PF(bit) vh_protocol_feature_mask(VHOST_USER_PROTOCOL_F_##bit)
#define VF(bit) vh_virtio_feature_mask(VH_##bit)

/* The protocol features the bench uses. */
#define BENCH_PF (PF(MQ) | PF(REPLY_ACK) | PF(CONFIG) | PF(CONFIGURE_MEM_SLOTS))

int session_fail(char *err, size_t n, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, n, fmt, ap);
	va_end(ap);
	return code;
}

/* A request failed: one line naming it and the cause. */
int session_req_fail(struct bench_session *s, char *err, size_t n,
		     const char *req, int e)
{
	const char *cause;

	switch (e) {
	case -ECONNRESET:
	case -EPIPE:
		cause = "the back-end hung up";
		s->dead = true;
		break;
	case -ETIMEDOUT:
		cause = "no reply in time (--timeout)";
		s->dead = true;
		break;
	case -EPROTO:
		cause = "malformed reply (protocol error)";
		s->dead = true;
		break;
	case -EIO:
		cause = "the back-end refused it";
		break;
	default:
		cause = vh_strerror(e);
		break;
	}
	return session_fail(err, n, EXIT_BENCH_FAIL, "%s: %s: %s", s->o->socket,
			    req, cause);
}

static const char *connect_cause(const char *path, int e)
{
	struct stat st;

	switch (e) {
	case -ENOENT:
		return "no such socket";
	case -ECONNREFUSED:
		if (stat(path, &st) == 0 && !S_ISSOCK(st.st_mode))
			return "not a socket";
		return "connection refused (nothing is listening)";
	case -ETIMEDOUT:
		return "nothing to connect to within --wait";
	case -EACCES:
		return "permission denied";
	case -ENAMETOOLONG:
		return "path too long for a Unix socket";
	default:
		return vh_strerror(e);
	}
}

static int open_connection(struct bench_session *s, char *err, size_t n)
{
	const struct bench_opts *o = s->o;
	struct vh_frontend_opts fo = {
	    .conn = {.msg_timeout_ms = o->timeout_ms},
	    .reply_timeout_ms = o->timeout_ms,
	    .name = "vhost-user-bench",
	};
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int r, lfd, fd;

	if (o->server) {
		lfd = vh_sock_listen(o->socket, 1);
		if (lfd < 0)
			return session_fail(err, n, EXIT_BENCH_FAIL,
					    "%s: cannot listen: %s", o->socket,
					    vh_strerror(lfd));
		fd = vh_sock_accept(lfd, o->wait_ms);
		close(lfd);
		vh_sock_unlink(o->socket);
		if (fd < 0)
			return session_fail(
			    err, n, EXIT_BENCH_FAIL, "%s: %s", o->socket,
			    fd == -ETIMEDOUT
				? "no back-end connected within --wait"
				: vh_strerror(fd));
		r = vh_frontend_new(&s->fe, fd, &fo);
	} else {
		r = vh_frontend_connect(&s->fe, o->socket, o->wait_ms, &fo);
		if (r < 0)
			return session_fail(err, n, EXIT_BENCH_FAIL, "%s: %s",
					    o->socket,
					    connect_cause(o->socket, r));
	}
	if (r < 0)
		return session_fail(err, n, EXIT_BENCH_FAIL, "%s: %s",
				    o->socket, vh_strerror(r));
	/* The back-end's process, for its CPU time (a socket-activating
	 * supervisor would show up here instead: --backend-pid then). */
	s->dev.pid = o->backend_pid;
	if (!s->dev.pid && getsockopt(vh_frontend_fd(s->fe), SOL_SOCKET,
				      SO_PEERCRED, &cred, &len) == 0)
		s->dev.pid = cred.pid;
	return 0;
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static int read_config(struct bench_session *s, char *err, size_t n)
{
	/* Back-ends with a shorter config space refuse a longer read: try
	 * shorter ones, down to the capacity alone. */
	static const uint32_t sizes[] = {BLK_CFG_LEN, 36, 24, 8};
	uint8_t cfg[BLK_CFG_LEN] = {0};
	struct bench_dev *d = &s->dev;
	uint16_t nq;
	int r = -EIO;

	for (unsigned i = 0; i < 4 && r == -EIO; i++)
		r = vh_frontend_get_config(s->fe, 0, sizes[i], 0, cfg);
	if (r < 0)
		return session_req_fail(s, err, n, "GET_CONFIG", r);
	d->have_config = true;
	memcpy(&d->capacity, cfg + BLK_CFG_CAPACITY, 8);
	if (d->features & BLKF(VIRTIO_BLK_F_SIZE_MAX))
		d->size_max = get32(cfg + BLK_CFG_SIZE_MAX);
	if (d->features & BLKF(VIRTIO_BLK_F_SEG_MAX))
		d->seg_max = get32(cfg + BLK_CFG_SEG_MAX);
	if (d->features & BLKF(VIRTIO_BLK_F_BLK_SIZE))
		d->blk_size = get32(cfg + BLK_CFG_BLK_SIZE);
	if (d->features & BLKF(VIRTIO_BLK_F_MQ)) {
		memcpy(&nq, cfg + BLK_CFG_NUM_QUEUES, 2);
		d->num_queues = nq;
	}
	return 0;
}

/* The features we acknowledge: what the workload needs, plus what a
 * driver should accept when offered (RO: §5.2.6.1 "SHOULD accept"). */
static uint64_t choose_features(const struct bench_opts *o, uint64_t offered)
{
	uint64_t want =
	    VF(VIRTIO_F_VERSION_1) | VF(VIRTIO_RING_F_INDIRECT_DESC) |
	    BLKF(VIRTIO_BLK_F_SIZE_MAX) | BLKF(VIRTIO_BLK_F_SEG_MAX) |
	    BLKF(VIRTIO_BLK_F_RO) | BLKF(VIRTIO_BLK_F_BLK_SIZE) |
	    BLKF(VIRTIO_BLK_F_FLUSH) | BLKF(VIRTIO_BLK_F_TOPOLOGY) |
	    BLKF(VIRTIO_BLK_F_DISCARD) | BLKF(VIRTIO_BLK_F_WRITE_ZEROES);

	if (!o->no_event_idx)
		want |= VF(VIRTIO_RING_F_EVENT_IDX);
	if (o->packed)
		want |= VF(VIRTIO_F_RING_PACKED);
	if (o->queues > 1)
		want |= BLKF(VIRTIO_BLK_F_MQ);
	/* PROTOCOL_FEATURES stays on whenever offered: the protocol
	 * features negotiated before depend on it (vhost-user.rst). */
	want |= VF(VHOST_USER_F_PROTOCOL_FEATURES);
	return offered & want;
}

static bool workload_writes(const struct bench_opts *o)
{
	if (o->verify)
		return o->verify_phase != VERIFY_READ;
	if (o->bad)
		return false; /* a read-only device must refuse its write too */
	return rw_read_pct(o->rw, o->mix_read) < 100;
}

/* Everything the device's config says about the workload. */
static int check_workload(struct bench_session *s, char *err, size_t n)
{
	const struct bench_opts *o = s->o;
	struct bench_dev *d = &s->dev;
	uint64_t dev_bytes, range, blocks, need;
	unsigned maxq;

	if (!d->have_config && o->bad)
		return session_fail(
		    err, n, EXIT_BENCH_USAGE,
		    "%s: --bad needs the capacity, and the back-end "
		    "offers no CONFIG",
		    o->socket);
	if (!d->have_config && !o->size)
		return session_fail(
		    err, n, EXIT_BENCH_USAGE,
		    "%s: the back-end offers no CONFIG (capacity "
		    "unknown): give --size",
		    o->socket);
	if (d->blk_size < 512 || d->blk_size % 512)
		return session_fail(err, n, EXIT_BENCH_FAIL,
				    "%s: the device reports blk_size %u (not a "
				    "multiple of 512)",
				    o->socket, d->blk_size);
	if (o->bs % d->blk_size)
		return session_fail(err, n, EXIT_BENCH_USAGE,
				    "--bs %u is not a multiple of the device's "
				    "block size %u",
				    o->bs, d->blk_size);
	if (o->offset % d->blk_size || o->offset % 512)
		return session_fail(err, n, EXIT_BENCH_USAGE,
				    "--offset %" PRIu64
				    " is not a multiple of the "
				    "device's block size %u",
				    o->offset, d->blk_size);
	if (d->read_only && workload_writes(o))
		return session_fail(
		    err, n, EXIT_BENCH_USAGE,
		    "%s: the device is read-only (VIRTIO_BLK_F_RO) "
		    "and the workload writes",
		    o->socket);
	dev_bytes = d->have_config ? d->capacity * 512 : o->offset + o->size;
	if (d->have_config && d->capacity > UINT64_MAX / 512)
		return session_fail(err, n, EXIT_BENCH_FAIL,
				    "%s: capacity %" PRIu64
				    " sectors overflows",
				    o->socket, d->capacity);
	if (o->offset >= dev_bytes)
		return session_fail(err, n, EXIT_BENCH_USAGE,
				    "--offset %" PRIu64
				    " is beyond the device (%" PRIu64 " bytes)",
				    o->offset, dev_bytes);
	range = o->size ? o->size : dev_bytes - o->offset;
	if (range > dev_bytes - o->offset)
		return session_fail(err, n, EXIT_BENCH_USAGE,
				    "--size %" PRIu64 " at --offset %" PRIu64
				    " does not fit the device (%" PRIu64
				    " bytes)",
				    o->size, o->offset, dev_bytes);
	blocks = range / o->bs;
	if (blocks == 0)
		return session_fail(err, n, EXIT_BENCH_USAGE,
				    "the range (%" PRIu64
				    " bytes) holds no block of "
				    "--bs %u",
				    range, o->bs);
	if ((o->verify || !rw_is_random(o->rw)) && blocks < o->queues)
		return session_fail(err, n, EXIT_BENCH_USAGE,
				    "the range holds %" PRIu64
				    " blocks, fewer than "
				    "--queues %u",
				    blocks, o->queues);
	s->range_first = o->offset / 512;
	s->range_blocks = blocks;

	maxq = d->num_queues ? d->num_queues : 1;
	if (d->queue_num && d->queue_num < maxq)
		maxq = (unsigned)d->queue_num;
	if (o->queues > 1 && !(d->acked & BLKF(VIRTIO_BLK_F_MQ)))
		return session_fail(err, n, EXIT_BENCH_USAGE,
				    "--queues %u: the back-end does not offer "
				    "VIRTIO_BLK_F_MQ (one queue only)",
				    o->queues);
	if (o->queues > maxq)
		return session_fail(err, n, EXIT_BENCH_USAGE,
				    "--queues %u: the device has %u", o->queues,
				    maxq);

	/* Data segments: size_max bounds each, seg_max their number. */
	s->seg_len = o->bs;
	if (d->size_max && d->size_max < o->bs) {
		s->seg_len = d->size_max / 512 * 512;
		if (!s->seg_len)
			return session_fail(
			    err, n, EXIT_BENCH_FAIL,
			    "%s: size_max %u is below one sector", o->socket,
			    d->size_max);
	}
	s->nseg = (o->bs + s->seg_len - 1) / s->seg_len;
	if (d->seg_max && s->nseg > d->seg_max)
		return session_fail(
		    err, n, EXIT_BENCH_USAGE,
		    "--bs %u needs %u segments of %u bytes; the "
		    "device allows %u (seg_max)",
		    o->bs, s->nseg, s->seg_len, d->seg_max);

	need = o->indirect ? o->iodepth : (uint64_t)o->iodepth * (s->nseg + 2);
	if (o->qsize) {
		if (o->qsize < need)
			return session_fail(
			    err, n, EXIT_BENCH_USAGE,
			    "--qsize %u: --iodepth %u needs %" PRIu64
			    " descriptors",
			    o->qsize, o->iodepth, need);
		if (!o->packed && (o->qsize & (o->qsize - 1)))
			return session_fail(
			    err, n, EXIT_BENCH_USAGE,
			    "--qsize %u: split rings need a power of 2",
			    o->qsize);
		return 0;
	}
	if (need > VH_VIRTQ_MAX_SIZE)
		return session_fail(err, n, EXIT_BENCH_USAGE,
				    "--iodepth %u needs %" PRIu64
				    " descriptors, more "
				    "than a ring holds: use --indirect",
				    o->iodepth, need);
	return 0;
}

/* ---- open / close -------------------------------------------------------- */

int session_open(struct bench_session *s, const struct bench_opts *o, char *err,
		 size_t n)
{
	struct bench_dev *d = &s->dev;
	int r;

	memset(s, 0, sizeof(*s));
	s->o = o;
	s->memfd = -1;
	for (unsigned i = 0; i < BENCH_MAX_QUEUES; i++) {
		s->q[i].index = i;
		s->q[i].kick_fd = s->q[i].call_fd = -1;
	}
	d->blk_size = 512;
	d->num_queues = 1;

	r = open_connection(s, err, n);
	if (r)
		return r;
	r = vh_frontend_negotiate(s->fe, BENCH_PF, &d->features, &d->pf);
	if (r < 0)
		return session_req_fail(s, err, n, "negotiation", r);
	d->pf_offered = vh_frontend_offered_protocol_features(s->fe);
	if (vh_protocol_has(d->pf, VHOST_USER_PROTOCOL_F_REPLY_ACK))
		vh_frontend_set_ack_always(s->fe, true);
	if (vh_protocol_has(d->pf, VHOST_USER_PROTOCOL_F_MQ)) {
		r = vh_frontend_get_queue_num(s->fe, &d->queue_num);
		if (r < 0)
			return session_req_fail(s, err, n, "GET_QUEUE_NUM", r);
	}
	if (vh_protocol_has(d->pf, VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS)) {
		r = vh_frontend_get_max_mem_slots(s->fe, &d->mem_slots);
		if (r < 0)
			return session_req_fail(s, err, n, "GET_MAX_MEM_SLOTS",
						r);
	}
	r = vh_frontend_set_owner(s->fe);
	if (r < 0)
		return session_req_fail(s, err, n, "SET_OWNER", r);
	if (vh_protocol_has(d->pf, VHOST_USER_PROTOCOL_F_CONFIG)) {
		r = read_config(s, err, n);
		if (r)
			return r;
	}

	if (!vh_virtio_has(d->features, VH_VIRTIO_F_VERSION_1))
		return session_fail(
		    err, n, EXIT_BENCH_USAGE,
		    "%s: the back-end does not offer VIRTIO_F_VERSION_1 "
		    "(legacy devices are not supported)",
		    o->socket);
	if (o->packed && !vh_virtio_has(d->features, VH_VIRTIO_F_RING_PACKED))
		return session_fail(err, n, EXIT_BENCH_USAGE,
				    "--packed: the back-end does not offer "
				    "VIRTIO_F_RING_PACKED");
	if (o->indirect &&
	    !vh_virtio_has(d->features, VH_VIRTIO_RING_F_INDIRECT_DESC))
		return session_fail(err, n, EXIT_BENCH_USAGE,
				    "--indirect: the back-end does not offer "
				    "VIRTIO_RING_F_INDIRECT_DESC");
	d->acked = choose_features(o, d->features);
	d->read_only = d->acked & BLKF(VIRTIO_BLK_F_RO);
	s->packed = o->packed;
	s->indirect = o->indirect;
	s->event_idx = vh_virtio_has(d->acked, VH_VIRTIO_RING_F_EVENT_IDX);
	if (!(d->acked & BLKF(VIRTIO_BLK_F_BLK_SIZE)))
		d->blk_size = 512;
	r = check_workload(s, err, n);
	if (r)
		return r;

	r = vh_frontend_set_features(s->fe, d->acked);
	if (r < 0)
		return session_req_fail(s, err, n, "SET_FEATURES", r);

	s->nq = o->queues;
	r = session_memory(s, err, n);
	if (r)
		return r;
	return 0;
}

bool session_peer_gone(const struct bench_session *s)
{
	struct pollfd p = {.fd = vh_frontend_fd(s->fe), .events = POLLIN};
	char c;

	if (s->dead)
		return true;
	if (poll(&p, 1, 0) <= 0)
		return false;
	/* The back-end never writes unprompted on this socket: readable
	 * means end of file (or an error). */
	return recv(p.fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) <= 0;
}
