/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the back-end dispatcher (include/vhost/backend.h).
 *
 * The input configures a back-end, then becomes a stream of front-end
 * messages (with eventfds, memfds and sockets attached) written by a thread
 * into one end of a socketpair; the dispatcher runs on the other end until
 * it returns an error or the stream ends. The device behind it behaves like
 * a plausible device: it keeps some fds and leaves others to the dispatcher,
 * fails some requests, answers the ones with a body, and sends back-end
 * requests on the channel when it has one. After each input no memory
 * (ASan) and no file descriptor (/proc/self/fd) may be left behind.
 *
 * Input layout:
 *   byte 0      offered virtio features: bit 0 VERSION_1, 1 RING_PACKED,
 *               2 ACCESS_PLATFORM, 3 EVENT_IDX, 4 INDIRECT_DESC, 5 LOG_ALL,
 *               6 IN_ORDER, 7 NOTIFICATION_DATA
 *   bytes 1-3   offered protocol features, bits 0-23 (little endian)
 *   byte 4      num_queues: 1 + (b & 0x7f); b & 0x80 means 0x8000
 *   byte 5      device behaviour: bits 0-2 failure rate in eighths,
 *               bits 3-7 seed of the device's choices
 *   byte 6      bit 0: a sparse device (many callbacks NULL)
 *   byte 7      reserved
 *   rest        message records, fuzz/fuzz_stream.h
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../fuzz_stream.h"
#include "device.h"
#include "vhost/backend.h"

static const enum vh_virtio_feature feature_map[8] = {
    VH_VIRTIO_F_VERSION_1,	    VH_VIRTIO_F_RING_PACKED,
    VH_VIRTIO_F_ACCESS_PLATFORM,    VH_VIRTIO_RING_F_EVENT_IDX,
    VH_VIRTIO_RING_F_INDIRECT_DESC, VH_VHOST_F_LOG_ALL,
    VH_VIRTIO_F_IN_ORDER,	    VH_VIRTIO_F_NOTIFICATION_DATA,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = {data, size};
	struct vh_backend_config cfg;
	struct fz_writer w;
	uint8_t feat, nq, opts;
	unsigned i;
	int fds_before, sv[2], r;

	fz_quiet_logs();
	fds_before = fz_count_fds();

	memset(&cfg, 0, sizeof(cfg));
	feat = fz_u8(&in, 0x01);
	for (i = 0; i < 8; i++)
		if (feat & (1u << i))
			cfg.features |= vh_virtio_feature_mask(feature_map[i]);
	for (i = 0; i < 3; i++)
		cfg.protocol_features |= (uint64_t)fz_u8(&in, 0) << (8 * i);
	cfg.protocol_features &= VHOST_USER_PROTOCOL_F_KNOWN;
	nq = fz_u8(&in, 0);
	cfg.num_queues = (nq & 0x80) ? VHOST_USER_MAX_VRINGS : 1u + (nq & 0x7f);
	dev_init(fz_u8(&in, 0));
	opts = fz_u8(&in, 0);
	(void)fz_u8(&in, 0);
	cfg.config_size = CONFIG_LEN;
	cfg.max_mem_slots = NSLOTS;
	cfg.name = "fuzz";
	cfg.ops = (opts & 1) ? &dev_sparse_ops : &dev_full_ops;
	cfg.opaque = &dev;
	/* A stalled message cannot happen here (the writer always finishes
	 * or hangs up), but bound it anyway. */
	cfg.conn.msg_timeout_ms = 2000;

	fz_socketpair(sv);
	r = vh_backend_new(&dev.b, sv[0], &cfg);
	if (r < 0) {
		fprintf(stderr, "fuzz-backend: vh_backend_new: %d\n", r);
		abort();
	}
	fz_writer_start(&w, sv[1], in.p, in.n);
	for (;;) {
		struct pollfd p = {.fd = vh_backend_fd(dev.b),
				   .events = POLLIN};

		if (poll(&p, 1, -1) < 0 && errno != EINTR)
			abort();
		r = vh_backend_handle_readable(dev.b);
		fz_drain(sv[1]);
		if (r < 0)
			break;
	}
	vh_backend_free(dev.b); /* a writer blocked in send now fails */
	dev.b = NULL;
	fz_writer_join(&w);
	close(sv[1]);
	dev_close_all();
	fz_check_fds(fds_before, "fuzz-backend");
	return 0;
}
