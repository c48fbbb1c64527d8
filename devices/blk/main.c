/* SPDX-License-Identifier: MIT */
/*
 * vhost-user-blk: a virtio-blk back-end on libvhost's server (docs/blk.md).
 *
 * The program opens the backing store, describes the device to vh_server
 * (features, config space, request size, queues and threads) and runs the
 * server until SIGINT or SIGTERM; vh_server_free then drains the rings,
 * closes the session and removes the socket. Every start-up failure is one
 * line on stderr and exit status 1 (vhost-user.rst "Backend program
 * conventions": fail early, exit != 0).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blk.h"
#include "vhost/log.h"

static struct vh_server *volatile g_srv;
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
	struct vh_server *srv = g_srv;

	(void)sig;
	if (srv)
		vh_server_stop(srv); /* async-signal-safe */
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

	if (d->kind == BLK_RAM || d->kind == BLK_NULL ||
	    d->o.aio == BLK_AIO_SYNC || (d->mem_fs && d->o.aio == BLK_AIO_AUTO))
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
	if (d->kind == BLK_RAM || d->kind == BLK_NULL)
		return "in the queue threads";
	if (d->use_uring)
		return "io_uring";
	if (d->mem_fs && d->o.aio == BLK_AIO_AUTO)
		return "copies in the queue threads";
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

static int serve(struct blk_dev *d)
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
	};
	struct vh_server *srv;
	struct sigaction sa;
	int rc;

	if (d->o.queue_size == 32768)
		dev.max_queue_size = 0; /* 0 means 32768 */
	signals(SIG_BLOCK);
	atomic_store(&g_quiet, true);
	rc = vh_server_new(&srv, &dev, &c);
	atomic_store(&g_quiet, false);
	if (rc < 0) {
		if (!d->o.socket_path)
			fprintf(stderr,
				"vhost-user-blk: cannot use --fd %d: %s\n",
				d->o.fd, strerror(-rc));
		else if (rc == -EADDRINUSE)
			fprintf(stderr,
				"vhost-user-blk: socket %s is in use by a "
				"running back-end\n",
				d->o.socket_path);
		else
			fprintf(stderr,
				"vhost-user-blk: cannot listen on %s: %s\n",
				d->o.socket_path, strerror(-rc));
		return -1;
	}
	d->srv = srv;
	g_srv = srv;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	start_line(d, threads);
	signals(SIG_UNBLOCK);
	rc = vh_server_run(srv);
	signals(SIG_BLOCK);
	g_srv = NULL;
	vh_server_free(srv);
	d->srv = NULL;
	if (rc < 0)
		fprintf(stderr, "vhost-user-blk: the server stopped: %s\n",
			strerror(-rc));
	return rc < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
	static struct blk_dev d;
	int rc;

	switch (blk_opts_parse(&d.o, argc, argv)) {
	case BLK_EXIT_OK:
		return 0;
	case BLK_EXIT_ERR:
		return 1;
	case BLK_RUN:
		break;
	}
	vh_log_set_handler(log_sink, NULL);
	if (d.o.verbose)
		vh_log_set_level(d.o.verbose > 1 ? VH_LOG_DEBUG : VH_LOG_INFO);
	signal(SIGPIPE, SIG_IGN);
	if (blk_image_open(&d) < 0) {
		blk_image_close(&d);
		return 1;
	}
	atomic_store(&d.wce, !d.o.writethrough);
	if (choose_aio(&d) < 0) {
		blk_image_close(&d);
		return 1;
	}
	d.offered = blk_features(&d);
	rc = serve(&d);
	blk_image_close(&d);
	if (d.o.verbose || atomic_load(&d.nbad))
		fprintf(stderr,
			"vhost-user-blk: stopped; %llu requests refused as "
			"malformed, %llu IOERR, %llu UNSUPP\n",
			(unsigned long long)atomic_load(&d.nbad),
			(unsigned long long)atomic_load(&d.nioerr),
			(unsigned long long)atomic_load(&d.nunsupp));
	return rc < 0 ? 1 : 0;
}
