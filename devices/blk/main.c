/* SPDX-License-Identifier: MIT */
/*
 * vhost-user-blk: a virtio-blk back-end on libvhost's server (docs/blk.md).
 *
 * The program opens the backing store(s), describes each device to its own
 * vh_server (features, config space, request size, queues and threads) and
 * dispatches every server's control plane from this thread (one epoll over
 * vh_server_fd) until SIGINT or SIGTERM; vh_server_free then drains the
 * rings, closes the session and removes the socket. Devices are separated
 * by "--" on the command line; each has its own workers. Every start-up failure
 * is one line on stderr and exit status 1 (vhost-user.rst "Backend program
 * conventions": fail early, exit != 0).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "blk.h"
#include "vhost/log.h"

/* The devices of this process; the signal handler stops them all. */
static struct blk_dev *g_devs;
static unsigned g_ndevs;
static atomic_bool g_quiet; /* start-up: our own one-line errors speak */

/* Every library line as "vhost-user-blk: [error: |warning: ]...". */
static void log_sink(void *opaque, enum vh_log_level level, const char *msg)
{
	static const char *const tag[] = {"error: ", "warning: ", "", ""};

	(void)opaque;
	if (atomic_load(&g_quiet))
		return;
	fprintf(stderr, "vhost-user-blk: %s%s\n", tag[level & 3], msg);
}

static void on_signal(int sig)
{
	(void)sig;
	for (unsigned i = 0; i < g_ndevs; i++)
		if (g_devs[i].srv)
			vh_server_stop(g_devs[i].srv); /* async-signal-safe */
}

static void signals(int how)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(how, &set, NULL);
}

static int choose_aio(struct blk_dev *d)
{
	int why = 0;

	if (blk_in_thread(d) || d->o.aio == BLK_AIO_SYNC ||
	    (d->mem_fs && d->o.aio == BLK_AIO_AUTO))
		return 0;
	d->use_uring = blk_uring_probe(&why);
	if (d->use_uring)
		return 0;
	if (d->o.aio == BLK_AIO_URING) {
		fprintf(stderr, "vhost-user-blk: io_uring unavailable: %s\n",
			strerror(-why));
		return -1;
	}
	fprintf(stderr,
		"vhost-user-blk: io_uring unavailable (%s): synchronous I/O in "
		"the queue threads\n",
		strerror(-why));
	return 0;
}

static const char *engine(const struct blk_dev *d)
{
	if (d->kind == BLK_NULL)
		return "no data moved";
	if (blk_in_thread(d))
		return "copies in the queue threads";
	if (d->use_uring)
		return "io_uring";
	if (d->mem_fs && d->o.aio == BLK_AIO_AUTO)
		return "pread / pwrite in the queue threads";
	return "synchronous I/O";
}

static void start_line(const struct blk_dev *d, unsigned threads)
{
	char how[96];
	const char *name = d->o.file		? d->o.file
			   : d->kind == BLK_RAM ? "--ram"
						: "--null";

	fprintf(stderr,
		"vhost-user-blk: %s: %llu bytes (%llu sectors), %u-byte "
		"blocks, %s, %s, %s; %u queue%s on %u thread%s; %s %s\n",
		name, (unsigned long long)d->size,
		(unsigned long long)(d->size / VIRTIO_BLK_SECTOR), d->blk_size,
		d->o.read_only ? "read-only" : "read-write",
		blk_image_describe(d, how, sizeof(how)), engine(d),
		d->o.num_queues, d->o.num_queues > 1 ? "s" : "", threads,
		threads > 1 ? "s" : "",
		d->o.socket_path ? "listening on" : "on inherited fd",
		d->o.socket_path ? d->o.socket_path : "");
}

/*
 * Requests handed over per handler call (bench/blk/run.sh measured each):
 *  - io_uring: a batch becomes one io_uring_submit: 32.
 *  - null: a request costs next to nothing, so the front-end is what must
 *    be kept busy: one at a time, each pushed to the used ring at once.
 *    Popping 32 at a time, the front-end (woken by the first completion)
 *    found all 32 done and the back-end asleep again: a ping-pong of two
 *    wake-ups per 32 requests (QD 32: 559 k -> 754 k IOPS with 1).
 *  - copies in the thread (RAM, tmpfs mapped or through pread, sync):
 *    ~1-2 us each; 16 at a time (pread on tmpfs, QD 32, 2 queues: 250 k
 *    IOPS with 1, 425 k with 16).
 */
static unsigned batch(const struct blk_dev *d)
{
	if (d->o.batch)
		return d->o.batch;
	if (d->use_uring)
		return 32;
	return d->kind == BLK_NULL ? 1 : 16;
}

static int create(struct blk_dev *d)
{
	unsigned threads = (d->o.num_queues + d->o.queues_per_thread - 1) /
			   d->o.queues_per_thread;
	struct vh_device dev = {
	    .name = "blk",
	    .features = d->offered,
	    .num_queues = d->o.num_queues,
	    .max_queue_size =
		(uint16_t)(d->o.queue_size > 32768 ? 32768 : d->o.queue_size),
	    .config_size = sizeof(struct virtio_blk_config),
	    .req_size = sizeof(struct blk_req),
	    .max_iov = BLK_MAX_IOV,
	    .ops = &blk_ops,
	    .opaque = d,
	};
	struct vh_server_config c = {
	    .mode = d->o.socket_path ? VH_SERVER_LISTEN : VH_SERVER_FD,
	    .path = d->o.socket_path,
	    .fd = d->o.fd,
	    .queues_per_worker = d->o.queues_per_thread,
	    .max_workers = threads,
	    .worker_cpus = d->o.ncpus ? d->o.cpus : NULL,
	    .n_worker_cpus = d->o.ncpus,
	    .poll_us = d->o.poll_us,
	    .batch = batch(d),
	};
	int rc;

	if (d->o.queue_size == 32768)
		dev.max_queue_size = 0; /* 0 means 32768 */
	atomic_store(&g_quiet, true);
	rc = vh_server_new(&d->srv, &dev, &c);
	atomic_store(&g_quiet, false);
	if (rc == 0) {
		start_line(d, threads);
		return 0;
	}
	d->srv = NULL;
	if (!d->o.socket_path)
		fprintf(stderr, "vhost-user-blk: cannot use --fd %d: %s\n",
			d->o.fd, strerror(-rc));
	else if (rc == -EADDRINUSE)
		fprintf(stderr,
			"vhost-user-blk: socket %s is in use by a running "
			"back-end\n",
			d->o.socket_path);
	else
		fprintf(stderr, "vhost-user-blk: cannot listen on %s: %s\n",
			d->o.socket_path, strerror(-rc));
	return -1;
}

/*
 * The control plane of every device on this thread: one epoll over the
 * servers' fds (vh_server_fd), each dispatched when ready, until every
 * server is done (stopped by a signal, or its only front-end left).
 * Returns 0, or -1 when a server stopped on an error.
 */
static int run_all(struct blk_dev *devs, unsigned n)
{
	unsigned live = n;
	int ep = epoll_create1(EPOLL_CLOEXEC), failed = 0;

	if (ep < 0) {
		fprintf(stderr, "vhost-user-blk: epoll: %s\n", strerror(errno));
		return -1;
	}
	for (unsigned i = 0; i < n; i++) {
		struct epoll_event ev = {.events = EPOLLIN, .data.u32 = i};

		if (epoll_ctl(ep, EPOLL_CTL_ADD, vh_server_fd(devs[i].srv),
			      &ev)) {
			fprintf(stderr, "vhost-user-blk: epoll: %s\n",
				strerror(errno));
			close(ep);
			return -1;
		}
	}
	while (live) {
		struct epoll_event evs[16];
		int k = epoll_wait(ep, evs, 16, -1);

		if (k < 0 && errno != EINTR) {
			fprintf(stderr, "vhost-user-blk: epoll: %s\n",
				strerror(errno));
			failed = -1;
			break;
		}
		for (int j = 0; j < k; j++) {
			struct blk_dev *d = &devs[evs[j].data.u32];
			int rc = vh_server_dispatch(d->srv, 0);

			if (rc == 0 || d->done)
				continue;
			d->done = true;
			live--;
			epoll_ctl(ep, EPOLL_CTL_DEL, vh_server_fd(d->srv),
				  NULL);
			if (rc < 0) {
				fprintf(stderr,
					"vhost-user-blk: %s: the server "
					"stopped: %s\n",
					d->o.socket_path ? d->o.socket_path
							 : "--fd",
					strerror(-rc));
				failed = -1;
			}
		}
	}
	close(ep);
	return failed;
}

static int serve(struct blk_dev *devs, unsigned n)
{
	struct sigaction sa;
	int rc = 0;

	signals(SIG_BLOCK);
	for (unsigned i = 0; i < n && rc == 0; i++)
		rc = create(&devs[i]);
	if (rc == 0) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		signals(SIG_UNBLOCK);
		rc = run_all(devs, n);
		signals(SIG_BLOCK);
	}
	for (unsigned i = 0; i < n; i++) {
		struct vh_server *srv = devs[i].srv;

		if (!srv)
			continue;
		devs[i].srv = NULL; /* the handler no longer sees it */
		vh_server_free(srv);
	}
	return rc;
}

/* Split argv at each "--": one device per group. */
static unsigned count_devices(int argc, char **argv)
{
	unsigned n = 1;

	for (int i = 1; i < argc; i++)
		n += !strcmp(argv[i], "--");
	return n;
}

static enum blk_action parse_all(struct blk_dev *devs, unsigned n, int argc,
				 char **argv, char **scratch)
{
	int i = 1;

	for (unsigned k = 0; k < n; k++) {
		int m = 1;
		enum blk_action a;

		scratch[0] = argv[0];
		while (i < argc && strcmp(argv[i], "--"))
			scratch[m++] = argv[i++];
		i++; /* the "--" */
		scratch[m] = NULL;
		a = blk_opts_parse(&devs[k].o, m, scratch);
		if (a != BLK_RUN)
			return a;
		for (unsigned j = 0; j < k; j++)
			if (devs[k].o.socket_path && devs[j].o.socket_path &&
			    !strcmp(devs[k].o.socket_path,
				    devs[j].o.socket_path)) {
				fprintf(stderr,
					"vhost-user-blk: socket %s given for "
					"two devices\n",
					devs[k].o.socket_path);
				return BLK_EXIT_ERR;
			}
	}
	return BLK_RUN;
}

static int open_device(struct blk_dev *d)
{
	if (blk_image_open(d) < 0)
		return -1;
	atomic_store(&d->wce, !d->o.writethrough);
	if (choose_aio(d) < 0)
		return -1;
	d->offered = blk_features(d);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned n = count_devices(argc, argv), opened = 0;
	int verbose = 0;
	struct blk_dev *devs = calloc(n, sizeof(*devs));
	char **scratch = calloc((size_t)argc + 1, sizeof(*scratch));
	int rc = -1;

	if (!devs || !scratch) {
		fprintf(stderr, "vhost-user-blk: out of memory\n");
		return 1;
	}
	switch (parse_all(devs, n, argc, argv, scratch)) {
	case BLK_EXIT_OK:
		rc = 0;
		goto out;
	case BLK_EXIT_ERR:
		goto out;
	case BLK_RUN:
		break;
	}
	vh_log_set_handler(log_sink, NULL);
	/* The library's log level is process-wide: the most verbose device
	 * sets it. */
	for (unsigned i = 0; i < n; i++)
		if (devs[i].o.verbose > verbose)
			verbose = devs[i].o.verbose;
	if (verbose)
		vh_log_set_level(verbose > 1 ? VH_LOG_DEBUG : VH_LOG_INFO);
	signal(SIGPIPE, SIG_IGN);
	/* Copies into and out of shared memory turn SIGBUS into IOERR. */
	if (blk_fault_init() < 0) {
		fprintf(stderr, "vhost-user-blk: cannot handle SIGBUS: %s\n",
			strerror(errno));
		goto out;
	}
	for (; opened < n; opened++)
		if (open_device(&devs[opened]) < 0) {
			blk_image_close(&devs[opened]);
			goto close;
		}
	g_devs = devs;
	g_ndevs = n;
	rc = serve(devs, n);
close:
	for (unsigned i = 0; i < opened; i++) {
		struct blk_dev *d = &devs[i];

		blk_image_close(d);
		if (d->o.verbose || atomic_load(&d->nbad))
			fprintf(stderr,
				"vhost-user-blk: %s: stopped; %llu requests "
				"refused as malformed, %llu IOERR, %llu "
				"UNSUPP\n",
				d->o.socket_path ? d->o.socket_path : "--fd",
				(unsigned long long)atomic_load(&d->nbad),
				(unsigned long long)atomic_load(&d->nioerr),
				(unsigned long long)atomic_load(&d->nunsupp));
	}
out:
	free(scratch);
	free(devs);
	return rc < 0 ? 1 : 0;
}
