/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the front-end's handler of back-end requests (the
 * BACKEND_REQ channel, vh_frontend_handle_backend_readable). A front-end
 * negotiates with a scripted back-end (its replies are preloaded), opens
 * the channel, and the fuzz bytes become the back-end's requests on it
 * (with fds attached), written by a thread; the handler runs until it
 * reports an error or the stream ends. The callbacks keep some fds, fail
 * sometimes, answer lookups with a memfd or "not found", and a config
 * change makes the front-end issue GET_CONFIG on the main connection from
 * inside the callback, as a VMM does (a few replies are preloaded, after
 * which the scripted back-end hangs up).
 *
 * Input layout:
 *   bytes 0-2   protocol features the back-end offers (bits 0-23);
 *               BACKEND_REQ is always added, XEN_MMAP removed,
 *               INBAND_NOTIFICATIONS removed unless REPLY_ACK is there
 *   byte 3      bits 0-2 failure rate of the callbacks in eighths,
 *               bit 3 no callbacks at all (every request "not supported"),
 *               bits 4-7 seed of the callbacks' choices
 *   rest        back-end request records, fuzz/fuzz_stream.h
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../fuzz_stream.h"
#include "vhost/frontend.h"

#define CONFIG_REPLIES 4u

struct vmm {
	struct vh_frontend *f;
	uint32_t rng;
	unsigned fail_eighths;
	int notifier_fd, shmem_fd;
};

static uint32_t rnd(struct vmm *v)
{
	v->rng ^= v->rng << 13;
	v->rng ^= v->rng >> 17;
	v->rng ^= v->rng << 5;
	return v->rng;
}

static int result(struct vmm *v)
{
	return (rnd(v) & 7) < v->fail_eighths ? -EINVAL : 0;
}

static void keep(struct vmm *v, int *slot, int *fd)
{
	if (*fd < 0 || !(rnd(v) & 1))
		return;
	if (*slot >= 0)
		close(*slot);
	*slot = *fd;
	*fd = -1;
}

static int c_iotlb(void *o, const struct vhost_user_iotlb *m)
{
	(void)m;
	return result(o);
}

static int c_config_change(void *o)
{
	struct vmm *v = o;
	uint8_t buf[8];

	/* A VMM re-reads the config space: a front-end request from inside
	 * a channel callback. */
	vh_frontend_get_config(v->f, 0, sizeof(buf), 0, buf);
	return result(v);
}

static int c_host_notifier(void *o, uint32_t index, uint64_t size,
			   uint64_t offset, int *fd)
{
	struct vmm *v = o;

	(void)index;
	(void)size;
	(void)offset;
	keep(v, &v->notifier_fd, fd);
	return result(v);
}

static int c_ring(void *o, uint32_t index)
{
	(void)index;
	return result(o);
}

static int c_object(void *o, const struct vhost_user_shared *u)
{
	(void)u;
	return result(o);
}

static int c_lookup(void *o, const struct vhost_user_shared *u, int *fd_out)
{
	struct vmm *v = o;

	(void)u;
	switch (rnd(v) & 3) {
	case 0:
		return -ENOENT;
	case 1:
		return 0; /* not found */
	default:
		*fd_out = fz_make_fd(FZ_FD_MEM, 0);
		return 0;
	}
}

static int c_map(void *o, const struct vhost_user_mmap *req, int *fd)
{
	struct vmm *v = o;

	(void)req;
	keep(v, &v->shmem_fd, fd);
	return result(v);
}

static int c_unmap(void *o, const struct vhost_user_mmap *req)
{
	(void)req;
	return result(o);
}

static const struct vh_frontend_backend_ops full_ops = {
    .iotlb_msg = c_iotlb,
    .config_change = c_config_change,
    .host_notifier = c_host_notifier,
    .vring_call = c_ring,
    .vring_err = c_ring,
    .shared_object_add = c_object,
    .shared_object_remove = c_object,
    .shared_object_lookup = c_lookup,
    .shmem_map = c_map,
    .shmem_unmap = c_unmap,
};

static const struct vh_frontend_backend_ops no_ops;

static void reply_u64(int fd, uint32_t request, uint64_t v)
{
	struct vhost_user_msg m;

	memset(&m.hdr, 0, sizeof(m.hdr));
	vh_proto_init_hdr(&m.hdr, request,
			  VHOST_USER_VERSION | VHOST_USER_REPLY_MASK,
			  sizeof(v));
	memcpy(m.payload.raw, &v, sizeof(v));
	m.nfds = 0;
	fz_send_msg(fd, &m);
}

static void reply_config(int fd)
{
	struct vhost_user_msg m;
	struct vhost_user_config_hdr h = {.offset = 0, .size = 8, .flags = 0};

	memset(&m.payload, 0, 32);
	vh_proto_init_hdr(&m.hdr, VHOST_USER_GET_CONFIG,
			  VHOST_USER_VERSION | VHOST_USER_REPLY_MASK,
			  VHOST_USER_CONFIG_HDR_SIZE + 8);
	memcpy(m.payload.raw, &h, sizeof(h));
	m.nfds = 0;
	fz_send_msg(fd, &m);
}

/* The scripted back-end: read what the front-end sent until
 * SET_BACKEND_REQ_FD and return the channel's far end (or -1). */
static int take_channel(int peer)
{
	struct vhost_user_msg m;
	struct vh_conn *c;
	int fd = -1, dfd = dup(peer), i;

	if (dfd < 0 || vh_conn_new(&c, dfd, NULL) < 0)
		abort();
	for (i = 0; i < 8 && fd < 0; i++) {
		if (vh_conn_recv(c, &m, 0) < 0)
			break;
		if (m.hdr.request == VHOST_USER_SET_BACKEND_REQ_FD &&
		    m.nfds == 1) {
			fd = m.fds[0];
			m.fds[0] = -1;
		}
		vh_msg_close_fds(&m);
	}
	vh_conn_free(c);
	return fd;
}

static uint64_t channel_pf(struct fz_in *in)
{
	uint64_t pf = 0;
	unsigned i;

	for (i = 0; i < 3; i++)
		pf |= (uint64_t)fz_u8(in, 0xff) << (8 * i);
	pf &= VHOST_USER_PROTOCOL_F_KNOWN;
	pf |= vh_protocol_feature_mask(VHOST_USER_PROTOCOL_F_BACKEND_REQ);
	pf &= ~vh_protocol_feature_mask(VHOST_USER_PROTOCOL_F_XEN_MMAP);
	if (!vh_protocol_has(pf, VHOST_USER_PROTOCOL_F_REPLY_ACK))
		pf &= ~vh_protocol_feature_mask(
		    VHOST_USER_PROTOCOL_F_INBAND_NOTIFICATIONS);
	return pf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = {data, size};
	struct vh_frontend_opts opts = {.reply_timeout_ms = 2000,
					.name = "fuzz"};
	const uint64_t features =
	    vh_virtio_feature_mask(VH_VIRTIO_F_VERSION_1) |
	    vh_virtio_feature_mask(VH_VIRTIO_F_ACCESS_PLATFORM) |
	    vh_virtio_feature_mask(VH_VHOST_USER_F_PROTOCOL_FEATURES);
	struct vmm v = {.notifier_fd = -1, .shmem_fd = -1};
	struct fz_writer w;
	uint64_t pf;
	uint8_t b;
	int fds_before, sv[2], chan, r;
	unsigned i;

	fz_quiet_logs();
	fds_before = fz_count_fds();
	pf = channel_pf(&in);
	b = fz_u8(&in, 0);
	v.fail_eighths = b & 7;
	v.rng = 0x2545f491u ^ ((uint32_t)b << 4);

	opts.conn.msg_timeout_ms = 2000;
	fz_socketpair(sv);
	if (vh_frontend_new(&v.f, sv[0], &opts) < 0)
		abort();
	/* The scripted back-end's replies, in order: GET_FEATURES,
	 * GET_PROTOCOL_FEATURES, (SET_PROTOCOL_FEATURES and SET_FEATURES owe
	 * nothing), SET_BACKEND_REQ_FD's ack when REPLY_ACK is on. */
	reply_u64(sv[1], VHOST_USER_GET_FEATURES, features);
	reply_u64(sv[1], VHOST_USER_GET_PROTOCOL_FEATURES, pf);
	if (vh_protocol_has(pf, VHOST_USER_PROTOCOL_F_REPLY_ACK))
		reply_u64(sv[1], VHOST_USER_SET_BACKEND_REQ_FD, 0);
	if (vh_frontend_get_features(v.f, NULL) < 0 ||
	    vh_frontend_get_protocol_features(v.f, NULL) < 0 ||
	    vh_frontend_set_protocol_features(v.f, pf) < 0 ||
	    vh_frontend_set_features(v.f, features) < 0 ||
	    vh_frontend_enable_backend_channel(
		v.f, (b & 8) ? &no_ops : &full_ops, &v) < 0) {
		fprintf(stderr, "fuzz-frontend-backend-req: scripted "
				"negotiation failed\n");
		abort();
	}
	chan = take_channel(sv[1]);
	if (chan < 0)
		abort();
	/* Replies for the GET_CONFIGs config changes trigger; then the
	 * scripted back-end stops answering on the main connection. */
	if (vh_protocol_has(pf, VHOST_USER_PROTOCOL_F_CONFIG))
		for (i = 0; i < CONFIG_REPLIES; i++)
			reply_config(sv[1]);
	shutdown(sv[1], SHUT_WR);

	fz_writer_start(&w, chan, in.p, in.n);
	for (;;) {
		struct pollfd p = {.fd = vh_frontend_backend_channel_fd(v.f),
				   .events = POLLIN};

		if (p.fd < 0)
			break;
		if (poll(&p, 1, -1) < 0 && errno != EINTR)
			abort();
		r = vh_frontend_handle_backend_readable(v.f);
		fz_drain(chan);
		fz_drain(sv[1]);
		if (r < 0)
			break;
	}
	vh_frontend_free(v.f); /* a writer blocked in send now fails */
	fz_writer_join(&w);
	close(chan);
	close(sv[1]);
	if (v.notifier_fd >= 0)
		close(v.notifier_fd);
	if (v.shmem_fd >= 0)
		close(v.shmem_fd);
	fz_check_fds(fds_before, "fuzz-frontend-backend-req");
	return 0;
}
