/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the front-end's reply parsing (include/vhost/
 * frontend.h). The fuzz bytes are the back-end's side of the conversation:
 * a stream of replies (with fds attached) written by a thread into the far
 * end of a socketpair, whatever the front-end asks. The front-end issues a
 * fixed sequence of requests — every request whose reply it must parse, and
 * acked ones — until it is broken or the sequence ends. Any reply must be
 * handled without a crash, a leak of memory or of a file descriptor; fds a
 * call hands back are the harness's and are closed.
 *
 * Input layout:
 *   byte 0      bit 0: vh_frontend_set_ack_always(true) after negotiation
 *               bit 1: negotiate with vh_frontend_negotiate() instead of
 *                      the three calls
 *               bits 2-4: request groups to skip (bit 2 memory and rings,
 *                      bit 3 device, config and in-flight, bit 4 migration,
 *                      shared objects, crypto, shmem and the channel)
 *   bytes 1-3   protocol features the front-end wants (bits 0-23)
 *   rest        reply records, fuzz/fuzz_stream.h
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../fuzz_stream.h"
#include "vhost/frontend.h"

struct run {
	struct vh_frontend *f;
	int peer; /* the fake back-end's end */
	int mem, evt;
};

static void put_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* After each call: drop the requests piling up at the fake back-end. */
static bool go_on(struct run *r)
{
	fz_drain(r->peer);
	return !vh_frontend_is_broken(r->f);
}

static void negotiate(struct run *r, uint8_t opts, uint64_t want)
{
	uint64_t feat = 0, pf = 0;

	if (opts & 2) {
		vh_frontend_negotiate(r->f, want, &feat, &pf);
		go_on(r);
		return;
	}
	if (vh_frontend_get_features(r->f, &feat) < 0 || !go_on(r))
		return;
	if (vh_frontend_get_protocol_features(r->f, &pf) < 0 || !go_on(r))
		return;
	pf &= want & ~vh_protocol_feature_mask(VHOST_USER_PROTOCOL_F_XEN_MMAP);
	/* An invalid INBAND_NOTIFICATIONS set is refused locally; fine. */
	vh_frontend_set_protocol_features(r->f, pf);
	go_on(r);
}

static void memory_and_rings(struct run *r)
{
	struct vhost_user_mem_region reg = {.guest_phys_addr = 0,
					    .memory_size = 0x10000,
					    .userspace_addr = 0x7f0000000000ull,
					    .mmap_offset = 0};
	struct vhost_user_vring_addr addr = {
	    .index = 0,
	    .desc_user_addr = 0x7f0000000000ull,
	    .avail_user_addr = 0x7f0000001000ull,
	    .used_user_addr = 0x7f0000002000ull};
	struct vhost_user_log log = {.mmap_size = 4096, .mmap_offset = 0};
	uint64_t v;
	uint32_t base;

	vh_frontend_set_features(r->f, vh_frontend_offered_features(r->f));
	if (!go_on(r))
		return;
	vh_frontend_set_owner(r->f);
	if (!go_on(r))
		return;
	vh_frontend_get_queue_num(r->f, &v);
	if (!go_on(r))
		return;
	vh_frontend_get_max_mem_slots(r->f, &v);
	if (!go_on(r))
		return;
	vh_frontend_set_mem_table(r->f, &reg, 1, &r->mem);
	if (!go_on(r))
		return;
	reg.guest_phys_addr = 0x100000;
	vh_frontend_add_mem_reg(r->f, &reg, r->mem);
	if (!go_on(r))
		return;
	vh_frontend_rem_mem_reg(r->f, &reg);
	if (!go_on(r))
		return;
	vh_frontend_set_log_base(r->f, &log, r->mem);
	if (!go_on(r))
		return;
	vh_frontend_set_log_fd(r->f, r->evt);
	if (!go_on(r))
		return;
	vh_frontend_ack_next(r->f);
	vh_frontend_set_vring_num(r->f, 0, 256);
	if (!go_on(r))
		return;
	vh_frontend_set_vring_addr(r->f, &addr);
	if (!go_on(r))
		return;
	vh_frontend_set_vring_base(r->f, 0, 0);
	if (!go_on(r))
		return;
	vh_frontend_set_vring_kick(r->f, 0, r->evt);
	if (!go_on(r))
		return;
	vh_frontend_set_vring_call(r->f, 0, -1);
	if (!go_on(r))
		return;
	vh_frontend_set_vring_err(r->f, 0, r->evt);
	if (!go_on(r))
		return;
	vh_frontend_set_vring_enable(r->f, 0, true);
	if (!go_on(r))
		return;
	vh_frontend_vring_kick(r->f, 0);
	if (!go_on(r))
		return;
	vh_frontend_get_vring_base(r->f, 0, &base);
	go_on(r);
}

static void device(struct run *r)
{
	static const uint8_t mac[6] = {0x52, 0x54, 0, 0x12, 0x34, 0x56};
	struct vhost_user_inflight req = {.num_queues = 1, .queue_size = 256};
	struct vhost_user_inflight rep;
	struct vhost_user_iotlb tlb = {.iova = 0x1000,
				       .size = 0x1000,
				       .uaddr = 0x7f0000000000ull,
				       .perm = VHOST_USER_IOTLB_RW,
				       .type = VHOST_USER_IOTLB_UPDATE};
	uint8_t cfg[16] = {1, 2, 3, 4};
	uint8_t status;
	int fd = -1;

	vh_frontend_get_config(r->f, 0, sizeof(cfg), 0, cfg);
	if (!go_on(r))
		return;
	vh_frontend_set_config(r->f, 8, 4, VHOST_USER_CONFIG_FLAG_WRITABLE,
			       cfg);
	if (!go_on(r))
		return;
	vh_frontend_set_status(r->f, 0x0f);
	if (!go_on(r))
		return;
	vh_frontend_get_status(r->f, &status);
	if (!go_on(r))
		return;
	vh_frontend_get_inflight_fd(r->f, &req, &rep, &fd);
	put_fd(&fd);
	if (!go_on(r))
		return;
	req.mmap_size = 4096;
	vh_frontend_set_inflight_fd(r->f, &req, r->mem);
	if (!go_on(r))
		return;
	vh_frontend_net_set_mtu(r->f, 1500);
	if (!go_on(r))
		return;
	vh_frontend_send_rarp(r->f, mac);
	if (!go_on(r))
		return;
	vh_frontend_iotlb_msg(r->f, &tlb);
	if (!go_on(r))
		return;
	vh_frontend_set_vring_endian(r->f, 0, false);
	if (!go_on(r))
		return;
	vh_frontend_reset_device(r->f);
	go_on(r);
}

static int noop(void *opaque)
{
	(void)opaque;
	return 0;
}

static const struct vh_frontend_backend_ops chan_ops = {
    .config_change = noop,
};

static void migration_and_more(struct run *r)
{
	struct vhost_user_shared uuid = {{0xde, 0xad}};
	struct vhost_user_shmem_config shm;
	uint8_t sess[64] = {0}, out[64];
	int fd = -1;

	vh_frontend_postcopy_advise(r->f, &fd);
	put_fd(&fd);
	if (!go_on(r))
		return;
	vh_frontend_postcopy_listen(r->f);
	if (!go_on(r))
		return;
	vh_frontend_postcopy_end(r->f);
	if (!go_on(r))
		return;
	vh_frontend_get_shared_object(r->f, &uuid, &fd);
	put_fd(&fd);
	if (!go_on(r))
		return;
	vh_frontend_set_device_state_fd(r->f, 0, 0, r->evt, &fd);
	put_fd(&fd);
	if (!go_on(r))
		return;
	vh_frontend_check_device_state(r->f);
	if (!go_on(r))
		return;
	vh_frontend_create_crypto_session(r->f, sess, sizeof(sess), out);
	if (!go_on(r))
		return;
	vh_frontend_close_crypto_session(r->f, 1);
	if (!go_on(r))
		return;
	vh_frontend_gpu_set_socket(r->f, r->evt);
	if (!go_on(r))
		return;
	vh_frontend_get_shmem_config(r->f, &shm);
	if (!go_on(r))
		return;
	vh_frontend_enable_backend_channel(r->f, &chan_ops, NULL);
	go_on(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = {data, size};
	struct vh_frontend_opts opts = {.reply_timeout_ms = 2000,
					.name = "fuzz"};
	struct fz_writer w;
	struct run r;
	uint64_t want = 0;
	uint8_t o;
	int fds_before, sv[2], e;
	unsigned i;

	fz_quiet_logs();
	fds_before = fz_count_fds();
	o = fz_u8(&in, 0);
	for (i = 0; i < 3; i++)
		want |= (uint64_t)fz_u8(&in, 0xff) << (8 * i);

	opts.conn.msg_timeout_ms = 2000;
	fz_socketpair(sv);
	e = vh_frontend_new(&r.f, sv[0], &opts);
	if (e < 0) {
		fprintf(stderr, "fuzz-frontend-reply: vh_frontend_new: %d\n",
			e);
		abort();
	}
	r.peer = sv[1];
	r.mem = fz_make_fd(FZ_FD_MEM, 0);
	r.evt = fz_make_fd(FZ_FD_EVENT, 0);
	fz_writer_start(&w, sv[1], in.p, in.n);

	negotiate(&r, o, want);
	vh_frontend_set_ack_always(r.f, o & 1);
	if (!(o & 4) && !vh_frontend_is_broken(r.f))
		memory_and_rings(&r);
	if (!(o & 8) && !vh_frontend_is_broken(r.f))
		device(&r);
	if (!(o & 16) && !vh_frontend_is_broken(r.f))
		migration_and_more(&r);

	vh_frontend_free(r.f); /* a writer blocked in send now fails */
	fz_writer_join(&w);
	close(sv[1]);
	close(r.mem);
	close(r.evt);
	fz_check_fds(fds_before, "fuzz-frontend-reply");
	return 0;
}
