/* SPDX-License-Identifier: MIT */
/*
 * vhost-user-example-backend — a small vhost-user back-end built on the
 * libvhost dispatcher (include/vhost/backend.h).
 *
 * It looks like a virtio-blk device to a front-end: it offers blk features,
 * a 60-byte virtio-blk config space with a capacity, one or more queues,
 * and it keeps everything the handshake sends: the memory table (each
 * region mmapped MAP_SHARED at its mmap_offset), ring sizes, addresses and
 * bases, kick/call/err eventfds. It does not process requests: it is the
 * negotiation peer for probes and tests until the real blk device exists.
 *
 *   vhost-user-example-backend --socket-path=/tmp/vhost.sock [options]
 *   vhost-user-example-backend --fd=3                        [options]
 *
 * One connection is served at a time with poll(); after a disconnect the
 * next front-end is accepted (with --socket-path or a listening --fd).
 * SIGINT/SIGTERM end it cleanly: mappings and fds released, socket path
 * unlinked (vhost-user.rst: Backend program conventions).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vhost/backend.h"
#include "vhost/conn.h"
#include "vhost/log.h"
#include "vhost/proto.h"

#define MAX_QUEUES  8
#define MAX_REGIONS 32
#define CONFIG_SIZE 60 /* struct virtio_blk_config up to write_zeroes */

/* virtio-blk feature bits (virtio 1.2 §5.2.3). */
#define VIRTIO_BLK_F_SEG_MAX	2
#define VIRTIO_BLK_F_BLK_SIZE	6
#define VIRTIO_BLK_F_FLUSH	9
#define VIRTIO_BLK_F_CONFIG_WCE 11
#define VIRTIO_BLK_F_MQ		12

/* Offsets in struct virtio_blk_config. */
#define CFG_CAPACITY   0
#define CFG_SEG_MAX    12
#define CFG_BLK_SIZE   20
#define CFG_WRITEBACK  32
#define CFG_NUM_QUEUES 34

struct region {
	struct vhost_user_mem_region r;
	void *map; /* base of the mapping (mmap_offset bytes before data) */
	size_t map_len;
};

struct vring {
	uint32_t num, base;
	struct vhost_user_vring_addr addr;
	int kick, call, err;
	bool enabled;
};

struct dev {
	struct region regions[MAX_REGIONS];
	unsigned nregions;
	struct vring vq[MAX_QUEUES];
	unsigned num_queues;
	uint8_t config[CONFIG_SIZE];
	uint8_t status;
};

static volatile sig_atomic_t quit;

static void on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

/* ------------------------------------------------------------------------ */
/* Device state                                                             */
/* ------------------------------------------------------------------------ */

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void unmap_region(struct region *g)
{
	if (g->map)
		munmap(g->map, g->map_len);
	g->map = NULL;
}

static void unmap_all(struct dev *d)
{
	unsigned i;

	for (i = 0; i < d->nregions; i++)
		unmap_region(&d->regions[i]);
	d->nregions = 0;
}

/* Forget everything a connection set up. */
static void dev_reset(struct dev *d)
{
	unsigned i;

	unmap_all(d);
	for (i = 0; i < MAX_QUEUES; i++) {
		close_fd(&d->vq[i].kick);
		close_fd(&d->vq[i].call);
		close_fd(&d->vq[i].err);
		memset(&d->vq[i], 0, sizeof(d->vq[i]));
		d->vq[i].kick = d->vq[i].call = d->vq[i].err = -1;
	}
	d->status = 0;
}

static void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, sizeof(v));
}
static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}
static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, sizeof(v));
}

static void dev_init(struct dev *d, unsigned num_queues, uint64_t sectors)
{
	unsigned i;

	memset(d, 0, sizeof(*d));
	d->num_queues = num_queues;
	for (i = 0; i < MAX_QUEUES; i++)
		d->vq[i].kick = d->vq[i].call = d->vq[i].err = -1;
	put64(d->config + CFG_CAPACITY, sectors);
	put32(d->config + CFG_SEG_MAX, 126);
	put32(d->config + CFG_BLK_SIZE, 512);
	d->config[CFG_WRITEBACK] = 1;
	put16(d->config + CFG_NUM_QUEUES, (uint16_t)num_queues);
}

/* ------------------------------------------------------------------------ */
/* Callbacks                                                                */
/* ------------------------------------------------------------------------ */

#define say(...) printf("example: " __VA_ARGS__)

static int set_owner(void *opaque)
{
	(void)opaque;
	say("SET_OWNER\n");
	return 0;
}

static int set_features(void *opaque, uint64_t f)
{
	(void)opaque;
	say("SET_FEATURES 0x%" PRIx64 "\n", f);
	return 0;
}

static int set_protocol_features(void *opaque, uint64_t f)
{
	(void)opaque;
	say("SET_PROTOCOL_FEATURES 0x%" PRIx64 "\n", f);
	return 0;
}

/* Map @fd so that the region's data starts mmap_offset bytes in. The fd
 * stays with the dispatcher, which closes it: the mapping keeps the file. */
static int map_region(struct region *g, const struct vhost_user_mem_region *r,
		      int fd)
{
	size_t len = (size_t)(r->memory_size + r->mmap_offset);
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		return -errno;
	g->r = *r;
	g->map = p;
	g->map_len = len;
	say("  region gpa 0x%" PRIx64 " size 0x%" PRIx64 " uva 0x%" PRIx64
	    " offset 0x%" PRIx64 " -> %p\n",
	    r->guest_phys_addr, r->memory_size, r->userspace_addr,
	    r->mmap_offset, (void *)((uint8_t *)p + r->mmap_offset));
	return 0;
}

static int set_mem_table(void *opaque,
			 const struct vhost_user_mem_region *regions,
			 unsigned n, int *fds)
{
	struct dev *d = opaque;
	unsigned i;
	int err;

	say("SET_MEM_TABLE %u region(s)\n", n);
	unmap_all(d); /* the new table replaces the old one */
	for (i = 0; i < n; i++) {
		err = map_region(&d->regions[i], &regions[i], fds[i]);
		if (err) {
			fprintf(stderr, "example: mmap region %u: %s\n", i,
				strerror(-err));
			unmap_all(d);
			return err;
		}
		d->nregions = i + 1;
	}
	return 0;
}

static int add_mem_reg(void *opaque, const struct vhost_user_mem_region *r,
		       int *fd)
{
	struct dev *d = opaque;
	int err;

	say("ADD_MEM_REG\n");
	if (d->nregions == MAX_REGIONS)
		return -ENOSPC;
	err = map_region(&d->regions[d->nregions], r, *fd);
	if (err)
		return err;
	d->nregions++;
	return 0;
}

static int rem_mem_reg(void *opaque, const struct vhost_user_mem_region *r)
{
	struct dev *d = opaque;
	unsigned i;

	say("REM_MEM_REG gpa 0x%" PRIx64 "\n", r->guest_phys_addr);
	/* "identified by its guest address, user address and size" */
	for (i = 0; i < d->nregions; i++) {
		struct region *g = &d->regions[i];

		if (g->r.guest_phys_addr != r->guest_phys_addr ||
		    g->r.userspace_addr != r->userspace_addr ||
		    g->r.memory_size != r->memory_size)
			continue;
		unmap_region(g);
		d->regions[i] = d->regions[--d->nregions];
		return 0;
	}
	return -ENOENT;
}

static int set_vring_num(void *opaque, uint32_t index, uint32_t num)
{
	struct dev *d = opaque;

	say("SET_VRING_NUM ring %u num %u\n", index, num);
	if (num == 0 || num > 32768)
		return -EINVAL;
	d->vq[index].num = num;
	return 0;
}

static int set_vring_addr(void *opaque, const struct vhost_user_vring_addr *a)
{
	struct dev *d = opaque;

	say("SET_VRING_ADDR ring %u desc 0x%" PRIx64 " avail 0x%" PRIx64
	    " used 0x%" PRIx64 "\n",
	    a->index, a->desc_user_addr, a->avail_user_addr, a->used_user_addr);
	d->vq[a->index].addr = *a;
	return 0;
}

static int set_vring_base(void *opaque, uint32_t index, uint32_t base)
{
	struct dev *d = opaque;

	say("SET_VRING_BASE ring %u base %u\n", index, base);
	d->vq[index].base = base;
	return 0;
}

static int get_vring_base(void *opaque, uint32_t index, uint32_t *base)
{
	struct dev *d = opaque;

	/* Stops the ring. Nothing was processed, so the next avail index
	 * is still the base the front-end gave. */
	*base = d->vq[index].base;
	close_fd(&d->vq[index].kick);
	say("GET_VRING_BASE ring %u -> %u\n", index, *base);
	return 0;
}

/* Keep the eventfd: take it from the dispatcher (*fd = -1). */
static void keep_fd(int *slot, int *fd)
{
	close_fd(slot);
	*slot = *fd;
	*fd = -1;
}

static int set_vring_kick(void *opaque, uint32_t index, int *fd)
{
	struct dev *d = opaque;

	say("SET_VRING_KICK ring %u %s\n", index, *fd < 0 ? "(poll)" : "");
	keep_fd(&d->vq[index].kick, fd);
	return 0;
}

static int set_vring_call(void *opaque, uint32_t index, int *fd)
{
	struct dev *d = opaque;

	say("SET_VRING_CALL ring %u %s\n", index, *fd < 0 ? "(none)" : "");
	keep_fd(&d->vq[index].call, fd);
	return 0;
}

static int set_vring_err(void *opaque, uint32_t index, int *fd)
{
	struct dev *d = opaque;

	say("SET_VRING_ERR ring %u\n", index);
	keep_fd(&d->vq[index].err, fd);
	return 0;
}

static int set_vring_enable(void *opaque, uint32_t index, bool enable)
{
	struct dev *d = opaque;

	say("SET_VRING_ENABLE ring %u %s\n", index, enable ? "on" : "off");
	d->vq[index].enabled = enable;
	return 0;
}

static int get_config(void *opaque, uint32_t off, uint32_t size, uint32_t flags,
		      uint8_t *buf)
{
	struct dev *d = opaque;

	(void)flags;
	say("GET_CONFIG offset %u size %u\n", off, size);
	memcpy(buf, d->config + off, size); /* bounds checked by libvhost */
	return 0;
}

static int set_config(void *opaque, uint32_t off, uint32_t size, uint32_t flags,
		      const uint8_t *buf)
{
	struct dev *d = opaque;

	say("SET_CONFIG offset %u size %u flags %u\n", off, size, flags);
	/* Only writeback is writable by the driver (CONFIG_WCE). */
	if (flags != VHOST_USER_CONFIG_FLAG_MIGRATION &&
	    (off != CFG_WRITEBACK || size != 1))
		return -EPERM;
	memcpy(d->config + off, buf, size);
	return 0;
}

static int reset_device(void *opaque)
{
	struct dev *d = opaque;

	say("RESET_DEVICE\n");
	dev_reset(d);
	return 0;
}

static int set_status(void *opaque, uint8_t status)
{
	struct dev *d = opaque;

	say("SET_STATUS 0x%x\n", status);
	d->status = status;
	return 0;
}

static int get_status(void *opaque, uint8_t *status)
{
	*status = ((struct dev *)opaque)->status;
	return 0;
}

static void channel_ready(void *opaque)
{
	(void)opaque;
	say("back-end channel ready\n");
}

static const struct vh_backend_ops example_ops = {
    .set_features = set_features,
    .set_protocol_features = set_protocol_features,
    .set_owner = set_owner,
    .set_mem_table = set_mem_table,
    .add_mem_reg = add_mem_reg,
    .rem_mem_reg = rem_mem_reg,
    .set_vring_num = set_vring_num,
    .set_vring_addr = set_vring_addr,
    .set_vring_base = set_vring_base,
    .get_vring_base = get_vring_base,
    .set_vring_kick = set_vring_kick,
    .set_vring_call = set_vring_call,
    .set_vring_err = set_vring_err,
    .set_vring_enable = set_vring_enable,
    .get_config = get_config,
    .set_config = set_config,
    .reset_device = reset_device,
    .set_status = set_status,
    .get_status = get_status,
    .backend_channel_ready = channel_ready,
};

/* ------------------------------------------------------------------------ */
/* Main loop                                                                */
/* ------------------------------------------------------------------------ */

/* Wait for @fd readable; 1 readable, 0 quit requested, <0 error. */
static int wait_readable(int fd, const sigset_t *unblocked)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	while (!quit) {
		int n = ppoll(&p, 1, NULL, unblocked);

		if (n > 0)
			return 1;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
	return 0;
}

/* Serve one connected front-end until it hangs up or breaks a rule. */
static int serve(int fd, struct vh_backend_config *cfg, struct dev *d,
		 const sigset_t *unblocked)
{
	struct vh_backend *b;
	int err = vh_backend_new(&b, fd, cfg);

	if (err) {
		fprintf(stderr, "example: %s\n", vh_strerror(err));
		return err;
	}
	say("front-end connected\n");
	for (;;) {
		err = wait_readable(vh_backend_fd(b), unblocked);
		if (err <= 0)
			break;
		err = vh_backend_handle_readable(b);
		if (err < 0)
			break;
		fflush(stdout);
	}
	say("connection closed (%s)\n", err == 0 ? "signal" : vh_strerror(err));
	fflush(stdout);
	vh_backend_free(b);
	dev_reset(d);
	return err;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vhost-user-example-backend --socket-path=PATH | "
		"--fd=N\n"
		"          [--num-queues=N] [--capacity=SECTORS] [--verbose]\n"
		"       vhost-user-example-backend --print-capabilities\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"socket-path", required_argument, NULL, 's'},
	    {"fd", required_argument, NULL, 'f'},
	    {"num-queues", required_argument, NULL, 'q'},
	    {"capacity", required_argument, NULL, 'c'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"print-capabilities", no_argument, NULL, 'p'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	const char *path = NULL;
	unsigned long nq = 1;
	unsigned long long sectors = 2048; /* 1 MiB */
	int fd = -1, lfd = -1, opt, err = 0;
	bool listening = true;
	struct vh_backend_config cfg;
	struct sigaction sa;
	sigset_t block, unblocked;
	static struct dev dev;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			path = optarg;
			break;
		case 'f':
			fd = atoi(optarg);
			break;
		case 'q':
			nq = strtoul(optarg, NULL, 0);
			break;
		case 'c':
			sectors = strtoull(optarg, NULL, 0);
			break;
		case 'v':
			vh_log_set_level(VH_LOG_DEBUG);
			break;
		case 'p':
			printf("{\n  \"type\": \"block\",\n  \"features\": "
			       "[]\n}\n");
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if ((path == NULL) == (fd < 0) || nq < 1 || nq > MAX_QUEUES) {
		usage(stderr);
		return 2;
	}
	if (vh_log_get_level() < VH_LOG_INFO)
		vh_log_set_level(VH_LOG_INFO);

	/* SIGINT/SIGTERM only interrupt ppoll(): no race with the flag. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &unblocked);
	sigdelset(&unblocked, SIGINT);
	sigdelset(&unblocked, SIGTERM);

	dev_init(&dev, (unsigned)nq, sectors);
	memset(&cfg, 0, sizeof(cfg));
	cfg.features = (UINT64_C(1) << VIRTIO_BLK_F_SEG_MAX) |
		       (UINT64_C(1) << VIRTIO_BLK_F_BLK_SIZE) |
		       (UINT64_C(1) << VIRTIO_BLK_F_FLUSH) |
		       (UINT64_C(1) << VIRTIO_BLK_F_CONFIG_WCE) |
		       (nq > 1 ? UINT64_C(1) << VIRTIO_BLK_F_MQ : 0) |
		       vh_virtio_feature_mask(VH_VIRTIO_F_VERSION_1) |
		       vh_virtio_feature_mask(VH_VIRTIO_RING_F_EVENT_IDX) |
		       vh_virtio_feature_mask(VH_VIRTIO_RING_F_INDIRECT_DESC);
	cfg.protocol_features =
	    vh_protocol_feature_mask(VHOST_USER_PROTOCOL_F_MQ) |
	    vh_protocol_feature_mask(VHOST_USER_PROTOCOL_F_REPLY_ACK) |
	    vh_protocol_feature_mask(VHOST_USER_PROTOCOL_F_BACKEND_REQ) |
	    vh_protocol_feature_mask(VHOST_USER_PROTOCOL_F_CONFIG) |
	    vh_protocol_feature_mask(VHOST_USER_PROTOCOL_F_RESET_DEVICE) |
	    vh_protocol_feature_mask(
		VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS) |
	    vh_protocol_feature_mask(VHOST_USER_PROTOCOL_F_STATUS);
	cfg.num_queues = (uint32_t)nq;
	cfg.max_mem_slots = MAX_REGIONS;
	cfg.config_size = CONFIG_SIZE;
	cfg.name = "example";
	cfg.ops = &example_ops;
	cfg.opaque = &dev;

	if (path) {
		lfd = vh_sock_listen(path, 1);
		if (lfd < 0) {
			fprintf(stderr, "example: listen %s: %s\n", path,
				vh_strerror(lfd));
			return 1;
		}
		say("listening on %s\n", path);
	} else {
		err = vh_sock_adopt(fd, &listening);
		if (err) {
			fprintf(stderr, "example: --fd=%d: %s\n", fd,
				vh_strerror(err));
			return 1;
		}
		lfd = listening ? fd : -1;
	}
	fflush(stdout);

	while (!quit) {
		int cfd = fd;

		if (lfd >= 0) {
			err = wait_readable(lfd, &unblocked);
			if (err <= 0)
				break;
			cfd = vh_sock_accept(lfd, 0);
			if (cfd < 0)
				continue; /* the client went away already */
		}
		serve(cfd, &cfg, &dev, &unblocked); /* takes cfd */
		if (lfd < 0)
			break; /* a connected --fd serves once */
	}
	if (lfd >= 0)
		close(lfd);
	if (path)
		vh_sock_unlink(path);
	dev_reset(&dev);
	say("bye\n");
	return err < 0 ? 1 : 0;
}
