/* SPDX-License-Identifier: MIT */
/*
 * vh-bench-engine — requests per second through the whole back-end engine:
 * our front-end sets up a vh_server serving a null device over a real
 * vhost-user socket, then a driver-side queue (this process's main thread)
 * pushes small requests through shared memory as fast as the server's
 * worker takes them.
 *
 *   vh-bench-engine [--packed] [--chain 1|3] [--mode poll|event]
 *                   [--seconds S] [--batch N] [--ring N] [--copy]
 *                   [--driver-cpu C] [--server-cpu C]
 *
 * Requests are 64 bytes: chain 1 is one device-readable 64-byte buffer (a
 * TX packet); chain 3 is a 16-byte readable header, 64 readable bytes and a
 * 1-byte writable status (a block request). The null device does the full
 * descriptor walk (pop into iovecs through the guest memory table), then
 * completes: writes the status byte if there is one and pushes the used
 * entry. With --copy it also copies the readable bytes into a private
 * buffer, as DPDK's vhost dequeue copies each packet into an mbuf.
 *
 * The driver fills the ring in bursts of up to --batch requests, kicks only
 * when the device asks (EVENT_IDX), and busy-polls the used ring (like
 * testpmd txonly). The clock starts 0.3 s after the first completion. --mode is
 * the server worker's: poll = busy-polling (vh_server_config.poll_us), event =
 * sleeps on the kick eventfd whenever the ring is empty.
 *
 * Prints one line: "<layout> chain=<n> mode=<m> ...: <rate> req/s".
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "vhost/driver.h"
#include "vhost/frontend.h"
#include "vhost/log.h"
#include "vhost/server.h"

#define GPA	 0x100000000ull
#define MEM_LEN	 (64u << 20)
#define DATA_OFF (1u << 20)

struct opts {
	bool packed;
	unsigned chain;
	bool poll;
	double seconds;
	unsigned batch;
	unsigned ring;
	bool copy;
	int drv_cpu, srv_cpu;
};

static _Thread_local uint8_t scratch[2048];

static void null_reqs(void *dev, struct vh_queue *q, struct vh_req **reqs,
		      unsigned n)
{
	const struct opts *o = dev;

	(void)q;
	for (unsigned i = 0; i < n; i++) {
		struct vh_virtq_elem *e = &reqs[i]->elem;
		uint32_t len = 0;

		if (o->copy) {
			size_t off = 0;

			for (unsigned k = 0; k < e->out_num; k++) {
				size_t c = e->iov[k].iov_len;

				if (off + c > sizeof(scratch))
					c = sizeof(scratch) - off;
				memcpy(scratch + off, e->iov[k].iov_base, c);
				off += c;
			}
		}
		if (e->in_num) {
			*(uint8_t *)e->iov[e->out_num].iov_base = 0;
			len = 1;
		}
		vh_req_complete(reqs[i], len);
	}
}

static const struct vh_device_ops null_ops = {.handle_reqs = null_reqs};

static int srv_cpu_for_control = -1;
static void pin_self(int cpu);

static void *run_server(void *arg)
{
	/* The control thread lives with the server, off the driver's CPU. */
	pin_self(srv_cpu_for_control);
	vh_server_run(arg);
	return NULL;
}

static void die(const char *what, int err)
{
	fprintf(stderr, "vh-bench-engine: %s: %s\n", what, vh_strerror(err));
	exit(1);
}

static void pin_self(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set))
		fprintf(stderr, "vh-bench-engine: cannot pin to CPU %d\n", cpu);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: vh-bench-engine [--packed] [--chain 1|3] "
		"[--mode poll|event] [--seconds S] [--batch N] [--ring N] "
		"[--copy] [--driver-cpu C] [--server-cpu C]\n");
	exit(2);
}

static void parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
	    {"packed", no_argument, NULL, 'p'},
	    {"chain", required_argument, NULL, 'c'},
	    {"mode", required_argument, NULL, 'm'},
	    {"seconds", required_argument, NULL, 's'},
	    {"batch", required_argument, NULL, 'b'},
	    {"ring", required_argument, NULL, 'r'},
	    {"copy", no_argument, NULL, 'C'},
	    {"driver-cpu", required_argument, NULL, 'd'},
	    {"server-cpu", required_argument, NULL, 'S'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	*o = (struct opts){.chain = 1,
			   .poll = true,
			   .seconds = 3,
			   .batch = 32,
			   .ring = 256,
			   .drv_cpu = 0,
			   .srv_cpu = 1};
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'p':
			o->packed = true;
			break;
		case 'c':
			o->chain = (unsigned)atoi(optarg);
			break;
		case 'm':
			o->poll = strcmp(optarg, "event") != 0;
			break;
		case 's':
			o->seconds = atof(optarg);
			break;
		case 'b':
			o->batch = (unsigned)atoi(optarg);
			break;
		case 'r':
			o->ring = (unsigned)atoi(optarg);
			break;
		case 'C':
			o->copy = true;
			break;
		case 'd':
			o->drv_cpu = atoi(optarg);
			break;
		case 'S':
			o->srv_cpu = atoi(optarg);
			break;
		default:
			usage();
		}
	}
	if ((o->chain != 1 && o->chain != 3) || o->batch == 0 ||
	    o->batch > 256 || o->ring < 2 || o->ring > 4096 ||
	    (o->ring & (o->ring - 1)) || o->seconds <= 0)
		usage();
}

int main(int argc, char **argv)
{
	struct opts o;
	char dir[] = "/tmp/vh-bench-XXXXXX", path[64];
	struct vh_device dev = {0};
	struct vh_server_config cfg = {0};
	struct vh_server *srv;
	struct vh_frontend *fe;
	struct vh_drv_queue *drv;
	pthread_t thr;
	uint64_t offered, pf, feat, one = 1;
	uint8_t *mem;
	int memfd, kick, call, err;
	struct vh_drv_buf out[2], in;
	unsigned nout, nin;
	unsigned long long done = 0, c0 = 0;
	double t0 = 0, t1, end;
	bool measuring = false;

	parse(argc, argv, &o);
	if (!mkdtemp(dir))
		die("mkdtemp", -errno);
	snprintf(path, sizeof(path), "%s/sock", dir);

	dev.name = "null";
	dev.features = VH_SERVER_RING_FEATURES;
	dev.num_queues = 1;
	dev.max_iov = 8;
	dev.ops = &null_ops;
	dev.opaque = &o;
	cfg.mode = VH_SERVER_LISTEN;
	cfg.path = path;
	cfg.worker_cpus = &o.srv_cpu;
	cfg.n_worker_cpus = 1;
	cfg.poll_us = o.poll ? 1000 : 0;
	cfg.batch = o.batch;
	err = vh_server_new(&srv, &dev, &cfg);
	if (err)
		die("vh_server_new", err);
	srv_cpu_for_control = o.srv_cpu;
	if (pthread_create(&thr, NULL, run_server, srv))
		die("pthread_create", -EAGAIN);

	memfd = memfd_create("bench-guest", MFD_CLOEXEC);
	if (memfd < 0 || ftruncate(memfd, MEM_LEN))
		die("memfd", -errno);
	mem = mmap(NULL, MEM_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	if (mem == MAP_FAILED)
		die("mmap", -errno);

	err = vh_frontend_connect(&fe, path, 2000, NULL);
	if (!err)
		err = vh_frontend_negotiate(fe, ~(uint64_t)0, &offered, &pf);
	if (err)
		die("connect", err);
	/* Every setup message acknowledged: the ring is ready before the
	 * clock starts. */
	vh_frontend_set_ack_always(fe, true);
	feat = vh_virtio_feature_mask(VH_VIRTIO_F_VERSION_1) |
	       vh_virtio_feature_mask(VH_VIRTIO_RING_F_EVENT_IDX) |
	       vh_virtio_feature_mask(VH_VHOST_USER_F_PROTOCOL_FEATURES);
	if (o.packed)
		feat |= vh_virtio_feature_mask(VH_VIRTIO_F_RING_PACKED);
	{
		struct vh_drv_config dc = {
		    .size = (uint16_t)o.ring,
		    .packed = o.packed,
		    .event_idx = true,
		    .mem = mem,
		    .mem_gpa = GPA,
		    .mem_len = MEM_LEN,
		    .desc_off = 0,
		    .driver_off = 0x10000,
		    .device_off = 0x20000,
		};
		struct vhost_user_mem_region r = {GPA, MEM_LEN, (uintptr_t)mem,
						  0};
		struct vhost_user_vring_addr a = {
		    .index = 0,
		    .desc_user_addr = (uintptr_t)mem,
		    .avail_user_addr = (uintptr_t)mem + 0x10000,
		    .used_user_addr = (uintptr_t)mem + 0x20000,
		};
		struct vh_packed_base pb = {0, true, 0, true};

		kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		err = vh_drv_queue_new(&dc, &drv);
		if (!err)
			err = vh_frontend_set_owner(fe);
		if (!err)
			err = vh_frontend_set_features(fe, feat);
		if (!err)
			err = vh_frontend_set_mem_table(fe, &r, 1, &memfd);
		if (!err)
			err = vh_frontend_set_vring_num(fe, 0, o.ring);
		if (!err)
			err = vh_frontend_set_vring_base(
			    fe, 0,
			    o.packed ? vh_proto_encode_packed_base(&pb) : 0);
		if (!err)
			err = vh_frontend_set_vring_addr(fe, &a);
		if (!err)
			err = vh_frontend_set_vring_kick(fe, 0, kick);
		if (!err)
			err = vh_frontend_set_vring_call(fe, 0, call);
		if (!err)
			err = vh_frontend_set_vring_enable(fe, 0, true);
		if (err)
			die("setup", err);
	}
	/* The requests: all use the same buffers (the device only reads
	 * them, and writes one status byte). */
	if (o.chain == 1) {
		out[0] = (struct vh_drv_buf){GPA + DATA_OFF, 64};
		nout = 1;
		nin = 0;
	} else {
		out[0] = (struct vh_drv_buf){GPA + DATA_OFF, 16};
		out[1] = (struct vh_drv_buf){GPA + DATA_OFF + 64, 64};
		in = (struct vh_drv_buf){GPA + DATA_OFF + 192, 1};
		nout = 2;
		nin = 1;
	}
	memset(mem + DATA_OFF, 0x5a, 256);

	pin_self(o.drv_cpu);
	t1 = now_s();
	end = t1 + 10; /* set once requests flow: warm-up 0.3 s, then run */
	for (unsigned it = 0;; it++) {
		unsigned n = 0;
		void *tok;
		uint32_t len;

		while (n < o.batch &&
		       vh_drv_add(drv, out, nout, &in, nin, false, &o) == 0)
			n++;
		if (n && vh_drv_kick_prepare(drv))
			(void)!write(kick, &one, sizeof(one));
		while (vh_drv_get_used(drv, &tok, &len) == 1)
			done++;
		if ((it & 255) == 0) {
			t1 = now_s();
			if (end - t1 > 0.3 + o.seconds && done > 0)
				end = t1 + 0.3 + o.seconds;
			if (!measuring && t1 >= end - o.seconds) {
				measuring = true;
				t0 = t1;
				c0 = done;
			}
			if (t1 >= end)
				break;
		}
	}
	if (!measuring || t1 <= t0) {
		fprintf(stderr, "vh-bench-engine: no request completed\n");
		return 1;
	}
	printf("ours %s chain=%u mode=%s batch=%u ring=%u%s: %.0f req/s\n",
	       o.packed ? "packed" : "split", o.chain,
	       o.poll ? "poll" : "event", o.batch, o.ring,
	       o.copy ? " copy" : "", (double)(done - c0) / (t1 - t0));
	fflush(stdout);

	vh_frontend_free(fe);
	vh_server_stop(srv);
	pthread_join(thr, NULL);
	vh_server_free(srv);
	vh_drv_queue_free(drv);
	close(kick);
	close(call);
	munmap(mem, MEM_LEN);
	close(memfd);
	rmdir(dir);
	return 0;
}
