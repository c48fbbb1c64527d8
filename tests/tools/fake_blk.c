/* SPDX-License-Identifier: MIT */
/*
 * vh-fake-blk: a small vhost-user-blk back-end on lib/server, a RAM disk
 * with fault injection, for testing vhost-user-bench (not a device to use:
 * devices/vhost-user-blk is). It offers split and packed rings, EVENT_IDX,
 * indirect descriptors, several queues, and answers malformed requests the
 * way the bench's --bad cases call "pass".
 *
 *   vh-fake-blk (--socket PATH | --connect PATH) [--size BYTES] [--queues N]
 *     [--corrupt-sector S]  reads of sector S return it with byte 100 flipped
 *     [--misdirect-sector S] reads of sector S return sector S+1's data
 *     [--status-sector S:V] requests touching sector S answer status V
 *     [--len-delta D]       used length of reads is off by D
 *     [--hang-after N]      requests after the N-th are never completed
 *     [--exit-after N]      the process exits at the N-th request
 *     [--lifetime S]        the process ends after S seconds whatever happens
 *
 * Runs until SIGINT/SIGTERM; prints "ready" on stdout once listening.
 */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "vhost/log.h"
#include "vhost/server.h"

#define T_IN	 0u
#define T_OUT	 1u
#define T_FLUSH	 4u
#define T_GET_ID 8u
#define S_OK	 0u
#define S_IOERR	 1u
#define S_UNSUPP 2u
#define NONE	 UINT64_MAX

struct fake {
	uint8_t *disk;
	uint64_t size;
	uint64_t corrupt, misdirect, status_sector;
	unsigned status_value;
	int len_delta;
	uint64_t hang_after, exit_after;
	atomic_uint_fast64_t seen;
	uint8_t config[60];
};

static struct vh_server *g_srv;

static void on_signal(int sig)
{
	(void)sig;
	if (g_srv)
		vh_server_stop(g_srv);
}

/* Copy between the disk and iovecs [first, first + n). */
static void copy_iov(struct fake *f, const struct iovec *iov, unsigned n,
		     uint64_t off, bool to_disk)
{
	for (unsigned i = 0; i < n; i++) {
		if (to_disk)
			memcpy(f->disk + off, iov[i].iov_base, iov[i].iov_len);
		else
			memcpy(iov[i].iov_base, f->disk + off, iov[i].iov_len);
		off += iov[i].iov_len;
	}
}

/* The byte at @off of the data in @iov (read faults). */
static uint8_t *iov_byte(const struct iovec *iov, unsigned n, uint64_t off)
{
	for (unsigned i = 0; i < n; i++) {
		if (off < iov[i].iov_len)
			return (uint8_t *)iov[i].iov_base + off;
		off -= iov[i].iov_len;
	}
	return NULL;
}

static uint32_t handle(struct fake *f, struct vh_req *r)
{
	struct vh_virtq_elem *e = &r->elem;
	struct iovec *out = e->iov, *in = e->iov + e->out_num, dv[80];
	uint32_t type;
	uint64_t sector, off, len, dlen;
	uint8_t *status;
	unsigned st = S_OK, nin;

	/* Nothing writable: no place for a status. Return it unused. */
	if (e->in_num == 0 || in[e->in_num - 1].iov_len < 1)
		return 0;
	status = (uint8_t *)in[e->in_num - 1].iov_base +
		 in[e->in_num - 1].iov_len - 1;
	/* The header alone in the first readable iovec (our bench lays
	 * requests out that way; a real device must not assume it). */
	if (e->out_num < 1 || out[0].iov_len != 16) {
		*status = S_IOERR;
		return 1;
	}
	memcpy(&type, out[0].iov_base, 4);
	memcpy(&sector, (uint8_t *)out[0].iov_base + 8, 8);
	/* The data ends before the status byte. */
	nin = e->in_num < 80 ? e->in_num : 80;
	memcpy(dv, in, nin * sizeof(dv[0]));
	dv[nin - 1].iov_len--;
	dlen = type == T_IN ? e->in_len - 1 : e->out_len - 16;
	off = sector * 512;
	len = dlen;
	if (f->status_sector != NONE && sector <= f->status_sector &&
	    f->status_sector < sector + (len + 511) / 512) {
		*status = (uint8_t)f->status_value;
		return 1;
	}
	switch (type) {
	case T_IN:
		/* The data must be device-writable: a READ with extra
		 * readable buffers is refused (§2.7.5.1). */
		if (e->out_num != 1 || len % 512 || off > f->size ||
		    len > f->size - off) {
			st = S_IOERR;
			break;
		}
		copy_iov(f, dv, nin, off, false);
		if (f->corrupt != NONE && sector <= f->corrupt &&
		    f->corrupt < sector + len / 512) {
			uint8_t *b = iov_byte(
			    dv, nin, (f->corrupt - sector) * 512 + 100);
			if (b)
				*b ^= 0xff;
		}
		if (f->misdirect != NONE && sector <= f->misdirect &&
		    f->misdirect < sector + len / 512 &&
		    (f->misdirect + 2) * 512 <= f->size) {
			uint64_t at = (f->misdirect - sector) * 512;

			for (unsigned k = 0; k < 512; k++) {
				uint8_t *b = iov_byte(dv, nin, at + k);

				if (b)
					*b = f->disk[(f->misdirect + 1) * 512 +
						     k];
			}
		}
		*status = S_OK;
		return (uint32_t)(len + 1 + f->len_delta);
	case T_OUT:
		if (e->in_num != 1 || len % 512 || off > f->size ||
		    len > f->size - off) {
			st = S_IOERR;
			break;
		}
		copy_iov(f, out + 1, e->out_num - 1, off, true);
		break;
	case T_FLUSH:
		break;
	default:
		st = S_UNSUPP;
		break;
	}
	*status = (uint8_t)st;
	return 1;
}

static void fake_reqs(void *dev, struct vh_queue *q, struct vh_req **reqs,
		      unsigned n)
{
	struct fake *f = dev;

	(void)q;
	for (unsigned i = 0; i < n; i++) {
		uint64_t k = atomic_fetch_add(&f->seen, 1) + 1;

		if (f->exit_after && k >= f->exit_after)
			_exit(0); /* a crash, as far as the front-end sees */
		if (f->hang_after && k > f->hang_after)
			continue; /* held forever */
		vh_req_complete(reqs[i], handle(f, reqs[i]));
	}
}

static int fake_config(void *dev, uint32_t off, uint32_t size, uint8_t *buf)
{
	struct fake *f = dev;

	memcpy(buf, f->config + off, size);
	return 0;
}

static const struct vh_device_ops fake_ops = {
    .handle_reqs = fake_reqs,
    .get_config = fake_config,
};

static uint64_t num(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 0);

	if (*end == 'M')
		v <<= 20;
	else if (*end == 'K' || *end == 'k')
		v <<= 10;
	return v;
}

int main(int argc, char **argv)
{
	static struct fake f;
	struct vh_server_config cfg = {.mode = VH_SERVER_LISTEN};
	struct vh_device d = {0};
	unsigned queues = 2;
	uint32_t v32;
	uint16_t v16;
	int r;

	f.size = 64 << 20;
	f.corrupt = f.misdirect = f.status_sector = NONE;
	for (int i = 1; i + 1 < argc; i += 2) {
		const char *k = argv[i], *v = argv[i + 1];

		if (!strcmp(k, "--socket"))
			cfg.path = v;
		else if (!strcmp(k, "--connect")) {
			cfg.path = v;
			cfg.mode = VH_SERVER_CONNECT;
		} else if (!strcmp(k, "--size"))
			f.size = num(v);
		else if (!strcmp(k, "--queues"))
			queues = (unsigned)num(v);
		else if (!strcmp(k, "--corrupt-sector"))
			f.corrupt = num(v);
		else if (!strcmp(k, "--misdirect-sector"))
			f.misdirect = num(v);
		else if (!strcmp(k, "--status-sector")) {
			f.status_sector = num(v);
			f.status_value =
			    strchr(v, ':') ? (unsigned)atoi(strchr(v, ':') + 1)
					   : S_IOERR;
		} else if (!strcmp(k, "--len-delta"))
			f.len_delta = atoi(v);
		else if (!strcmp(k, "--hang-after"))
			f.hang_after = num(v);
		else if (!strcmp(k, "--exit-after"))
			f.exit_after = num(v);
		else if (!strcmp(k, "--lifetime"))
			alarm((unsigned)num(v)); /* SIGALRM ends the process */
		else {
			fprintf(stderr, "vh-fake-blk: unknown option %s\n", k);
			return 2;
		}
	}
	if (!cfg.path) {
		fprintf(stderr, "vh-fake-blk: --socket or --connect needed\n");
		return 2;
	}
	f.disk = calloc(1, f.size);
	if (!f.disk)
		return 1;
	/* struct virtio_blk_config: capacity, seg_max, blk_size, queues. */
	memcpy(f.config, &(uint64_t){f.size / 512}, 8);
	v32 = 64;
	memcpy(f.config + 12, &v32, 4);
	v32 = 512;
	memcpy(f.config + 20, &v32, 4);
	v16 = (uint16_t)queues;
	memcpy(f.config + 34, &v16, 2);

	d.name = "fake-blk";
	d.features = VH_SERVER_RING_FEATURES | (1ull << 2) /* SEG_MAX */ |
		     (1ull << 6) /* BLK_SIZE */ | (1ull << 9) /* FLUSH */ |
		     (1ull << 12) /* MQ */;
	d.num_queues = queues;
	d.config_size = sizeof(f.config);
	d.max_iov = 80;
	d.ops = &fake_ops;
	d.opaque = &f;
	vh_log_set_level(VH_LOG_WARN);
	r = vh_server_new(&g_srv, &d, &cfg);
	if (r < 0) {
		fprintf(stderr, "vh-fake-blk: %s: %s\n", cfg.path,
			vh_strerror(r));
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("ready\n");
	fflush(stdout);
	r = vh_server_run(g_srv);
	vh_server_free(g_srv);
	free(f.disk);
	return r < 0 ? 1 : 0;
}
