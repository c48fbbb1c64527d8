/* SPDX-License-Identifier: MIT */
/*
 * The data path of one queue, on the queue's worker thread.
 *
 * io_uring (one ring per virtqueue, created when the queue starts): each
 * batch of requests the server hands over becomes SQEs (readv / writev
 * straight on the guest iovecs, fsync for FLUSH) and ONE io_uring_submit.
 * Completions are reaped right after the submit (what the kernel finished
 * inline, e.g. page-cache hits) and later from the ring's eventfd, which the
 * server watches on this same worker (vh_queue_watch_fd): no thread hand-
 * off, and the server pushes the whole batch of completions with one used-
 * ring update and at most one notification. While we submit and reap
 * ourselves the eventfd is switched off (IORING_CQ_EVENTFD_DISABLED), so
 * inline completions do not wake the worker a second time.
 *
 * Synchronous (--aio sync, io_uring unavailable: old kernel, seccomp,
 * kernel.io_uring_disabled; and files on tmpfs, where a read or write is a
 * copy that io_uring would only move to one of its worker threads):
 * preadv2 / pwritev2 / fdatasync in the worker, one request after the
 * other. Queues on other threads keep going.
 *
 * O_DIRECT needs aligned buffers; a request whose iovecs are not aligned
 * to the device's block goes to the buffered fd instead, and so does one
 * the kernel refuses with EINVAL. Writethrough (writeback off, §5.2.5)
 * writes carry RWF_DSYNC.
 */
#include <errno.h>
#include <liburing.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "blk.h"
#include "vhost/log.h"

#define RING(bq) ((struct io_uring *)(bq)->ring)

bool blk_uring_probe(int *why)
{
	struct io_uring ring;
	int rc = io_uring_queue_init(4, &ring, 0);

	if (rc < 0) {
		*why = rc;
		return false;
	}
	io_uring_queue_exit(&ring);
	return true;
}

static bool aligned(const struct blk_dev *d, const struct blk_req *r)
{
	uintptr_t m = d->dio_align - 1, acc = (uintptr_t)r->off | r->len;

	for (unsigned i = 0; i < r->niov; i++)
		acc |= (uintptr_t)r->iov[i].iov_base | r->iov[i].iov_len;
	return (acc & m) == 0;
}

/* Whether @r goes through the O_DIRECT fd. */
static bool use_direct(struct blk_dev *d, struct blk_req *r)
{
	if (!d->direct || r->buffered)
		return false;
	if (!aligned(d, r)) {
		r->buffered = true;
		return false;
	}
	return true;
}

/* ---- synchronous path ---------------------------------------------------- */

static void run_sync(struct blk_dev *d, struct blk_req *r)
{
	int err;

	if (r->type == VIRTIO_BLK_T_FLUSH) {
		err = blk_image_flush(d);
	} else {
		bool write = r->type == VIRTIO_BLK_T_OUT;
		int fd = use_direct(d, r) ? d->fd : d->fd_buf;

		err = blk_image_rw_sync(fd, write, write && !blk_writeback(d),
					r->iov, r->niov, r->off);
		if (err == -EINVAL && fd != d->fd_buf)
			err = blk_image_rw_sync(d->fd_buf, write,
						write && !blk_writeback(d),
						r->iov, r->niov, r->off);
	}
	if (err)
		vh_err("blk: %s at byte %llu failed: %s",
		       r->type == VIRTIO_BLK_T_FLUSH ? "flush" : "I/O",
		       (unsigned long long)r->off, vh_strerror(err));
	blk_req_finish(r, err ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK,
		       err ? 1 : blk_req_used_ok(r));
}

/* ---- io_uring path ------------------------------------------------------- */

static void submit(struct blk_queue *bq);

static struct io_uring_sqe *get_sqe(struct blk_queue *bq)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(RING(bq));

	if (!sqe) {
		/* The SQ holds a ring's worth; only resubmissions get here. */
		submit(bq);
		sqe = io_uring_get_sqe(RING(bq));
	}
	return sqe;
}

static void queue_io(struct blk_queue *bq, struct blk_req *r)
{
	struct blk_dev *d = bq->dev;
	struct io_uring_sqe *sqe = get_sqe(bq);
	int idx, fd;

	if (!sqe) {
		run_sync(d, r);
		return;
	}
	if (r->type == VIRTIO_BLK_T_FLUSH) {
		idx = 1;
		fd = d->fd_buf;
	} else if (use_direct(d, r)) {
		idx = 0;
		fd = d->fd;
	} else {
		idx = 1;
		fd = d->fd_buf;
	}
	if (bq->fixed)
		fd = idx;
	switch (r->type) {
	case VIRTIO_BLK_T_IN:
		io_uring_prep_readv(sqe, fd, r->iov, r->niov, r->off);
		break;
	case VIRTIO_BLK_T_OUT:
		io_uring_prep_writev(sqe, fd, r->iov, r->niov, r->off);
		if (!blk_writeback(d))
			sqe->rw_flags = RWF_DSYNC;
		break;
	default:
		io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
		break;
	}
	if (bq->fixed)
		sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data(sqe, r);
	bq->queued++;
	bq->inflight++;
}

static void complete_cqe(struct blk_queue *bq, struct blk_req *r, int res)
{
	struct blk_dev *d = bq->dev;

	bq->inflight--;
	if (res == -EAGAIN || res == -EINTR) {
		queue_io(bq, r);
		return;
	}
	if (r->type != VIRTIO_BLK_T_FLUSH && res == -EINVAL && !r->buffered &&
	    d->direct) {
		/* O_DIRECT refused this one (alignment we did not know
		 * about): again through the page cache. */
		r->buffered = true;
		queue_io(bq, r);
		return;
	}
	if (res >= 0 && r->type != VIRTIO_BLK_T_FLUSH &&
	    (uint32_t)res < r->len) {
		/* Short transfer (rare): finish the rest synchronously. */
		struct iovec v[BLK_MAX_IOV];
		unsigned n = 0;
		size_t skip = (size_t)res;

		for (unsigned i = 0; i < r->niov; i++) {
			if (skip >= r->iov[i].iov_len) {
				skip -= r->iov[i].iov_len;
				continue;
			}
			v[n].iov_base = (uint8_t *)r->iov[i].iov_base + skip;
			v[n++].iov_len = r->iov[i].iov_len - skip;
			skip = 0;
		}
		bool write = r->type == VIRTIO_BLK_T_OUT;

		res = blk_image_rw_sync(d->fd_buf, write,
					write && !blk_writeback(d), v, n,
					r->off + (uint32_t)res);
	}
	if (res < 0) {
		vh_err("blk: ring %u: %s at byte %llu failed: %s",
		       vh_queue_index(bq->q),
		       r->type == VIRTIO_BLK_T_FLUSH ? "flush" : "I/O",
		       (unsigned long long)r->off, vh_strerror(res));
		blk_req_finish(r, VIRTIO_BLK_S_IOERR, 1);
		return;
	}
	blk_req_finish(r, VIRTIO_BLK_S_OK, blk_req_used_ok(r));
}

/* Complete what the kernel finished; returns how many. */
static unsigned process_cqes(struct blk_queue *bq)
{
	struct io_uring *ring = RING(bq);
	struct io_uring_cqe *cqe;
	unsigned head, n = 0;

	/* A completion may queue its request again (EAGAIN, O_DIRECT
	 * refused); submit() must not reap from inside this loop. */
	bq->reaping = true;
	io_uring_for_each_cqe(ring, head, cqe)
	{
		complete_cqe(bq, io_uring_cqe_get_data(cqe), cqe->res);
		n++;
	}
	io_uring_cq_advance(ring, n);
	bq->reaping = false;
	return n;
}

static void submit(struct blk_queue *bq)
{
	unsigned tries = 0;

	while (bq->queued) {
		int rc = io_uring_submit(RING(bq));

		if (rc >= 0) {
			/* What the kernel did not take stays in the SQ and
			 * goes with the next submit. */
			bq->queued = io_uring_sq_ready(RING(bq));
			if (rc == 0 && ++tries > 1000)
				break;
			continue;
		}
		if (rc == -EINTR)
			continue;
		/* EBUSY: completions must be reaped first; EAGAIN: the
		 * kernel is short of memory for a moment. */
		if ((rc == -EBUSY || rc == -EAGAIN) && ++tries <= 1000) {
			if (bq->reaping || !process_cqes(bq))
				usleep(100);
			continue;
		}
		vh_err("blk: ring %u: io_uring_submit: %s; %u requests wait",
		       vh_queue_index(bq->q), vh_strerror(rc), bq->queued);
		break;
	}
}

/* Reap every CQE there is, submitting what completions queued again. */
static void reap(struct blk_queue *bq)
{
	while (process_cqes(bq))
		if (bq->queued)
			submit(bq);
}

static void on_eventfd(struct vh_queue *q, void *arg)
{
	struct blk_queue *bq = arg;
	uint64_t v;

	(void)q;
	(void)!read(bq->efd, &v, sizeof(v));
	reap(bq);
}

void blk_handle_reqs(void *dev, struct vh_queue *q, struct vh_req **reqs,
		     unsigned n)
{
	struct blk_dev *d = dev;
	struct blk_queue *bq = vh_queue_priv(q);

	bq->nreq += n;
	if (bq->uring)
		io_uring_cq_eventfd_toggle(RING(bq), false);
	for (unsigned i = 0; i < n; i++) {
		struct blk_req *r = (struct blk_req *)reqs[i];

		r->bq = bq;
		if (!blk_req_prepare(d, r))
			continue;
		if (bq->uring)
			queue_io(bq, r);
		else
			run_sync(d, r);
	}
	if (!bq->uring)
		return;
	submit(bq);
	reap(bq);
	/* Completions from now on wake the worker through the eventfd; one
	 * that slipped in before the switch is reaped here. The fence keeps
	 * the flag store ahead of the CQ tail load (store-load order). */
	io_uring_cq_eventfd_toggle(RING(bq), true);
	atomic_thread_fence(memory_order_seq_cst);
	reap(bq);
}

/* ---- queue start / stop -------------------------------------------------- */

static int uring_init(struct blk_queue *bq)
{
	struct blk_dev *d = bq->dev;
	struct io_uring_params p;
	unsigned entries = vh_queue_size(bq->q);
	int rc, fds[2] = {d->fd, d->fd_buf};

	bq->ring = calloc(1, sizeof(struct io_uring));
	if (!bq->ring)
		return -ENOMEM;
	if (entries < 8)
		entries = 8;
	memset(&p, 0, sizeof(p));
	/* Only this worker submits (kernel >= 6.0); else plain. */
	p.flags = IORING_SETUP_SINGLE_ISSUER;
	rc = io_uring_queue_init_params(entries, RING(bq), &p);
	if (rc == -EINVAL) {
		memset(&p, 0, sizeof(p));
		rc = io_uring_queue_init_params(entries, RING(bq), &p);
	}
	if (rc < 0)
		goto fail;
	bq->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (bq->efd < 0) {
		rc = -errno;
		goto fail_ring;
	}
	rc = io_uring_register_eventfd(RING(bq), bq->efd);
	if (rc < 0)
		goto fail_efd;
	/* Registered files spare the kernel an fd lookup per request. */
	bq->fixed = io_uring_register_files(RING(bq), fds, 2) == 0;
	rc = vh_queue_watch_fd(bq->q, bq->efd, on_eventfd, bq);
	if (rc < 0)
		goto fail_efd;
	bq->uring = true;
	return 0;
fail_efd:
	close(bq->efd);
	bq->efd = -1;
fail_ring:
	io_uring_queue_exit(RING(bq));
fail:
	free(bq->ring);
	bq->ring = NULL;
	return rc;
}

int blk_queue_started(void *dev, struct vh_queue *q)
{
	struct blk_dev *d = dev;
	struct blk_queue *bq = calloc(1, sizeof(*bq));
	int rc;

	if (!bq)
		return -ENOMEM;
	bq->dev = d;
	bq->q = q;
	bq->efd = -1;
	if (d->use_uring && (d->kind == BLK_FILE || d->kind == BLK_BDEV)) {
		rc = uring_init(bq);
		if (rc < 0)
			vh_warn("blk: ring %u: io_uring set-up failed (%s): "
				"synchronous I/O on this queue",
				vh_queue_index(q), vh_strerror(rc));
	}
	vh_queue_set_priv(q, bq);
	vh_info("blk: ring %u started on thread %u (%s, size %u)",
		vh_queue_index(q), vh_queue_worker(q),
		bq->uring ? "io_uring" : "synchronous", vh_queue_size(q));
	return 0;
}

void blk_queue_stopped(void *dev, struct vh_queue *q)
{
	struct blk_queue *bq = vh_queue_priv(q);

	(void)dev;
	if (!bq)
		return;
	vh_info("blk: ring %u stopped after %llu requests", vh_queue_index(q),
		(unsigned long long)bq->nreq);
	/* Every request was completed (the server drained the ring), so
	 * the kernel holds none of our iovecs any more. The server already
	 * stopped watching the eventfd. */
	if (bq->uring) {
		io_uring_queue_exit(RING(bq));
		free(bq->ring);
		close(bq->efd);
	}
	free(bq);
	vh_queue_set_priv(q, NULL);
}
