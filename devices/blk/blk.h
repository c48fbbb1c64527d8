/* SPDX-License-Identifier: MIT */
/*
 * vhost-user-blk — internal interfaces of the block back-end (docs/blk.md).
 *
 *   opts.c    command line (QEMU's back-end program conventions)
 *   image.c   the backing store: raw file, block device, RAM or null;
 *             synchronous helpers (discard, write zeroes, flush, rw)
 *   config.c  virtio-blk features and config space (virtio 1.2 §5.2.4)
 *   req.c     one request: parse and validate the chain against the spec,
 *             run what is not plain data I/O, complete with status + length
 *   uring.c   the data path per queue: io_uring (one submit per batch,
 *             completions reaped on the queue's worker), or synchronous
 *   main.c    the program: server set-up, signals, start-up line
 *
 * Threads: config and features are written on the server's control thread
 * and read by queue workers (atomics); everything per queue lives on the
 * queue's worker (struct blk_queue); requests are the server's pool blocks
 * (struct blk_req embeds struct vh_req first: no allocation per request).
 */
#ifndef VH_BLK_H
#define VH_BLK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "vhost/server.h"

/* ---- virtio-blk (virtio 1.2 §5.2) ---------------------------------------- */

/* Feature bits (§5.2.3). */
#define VIRTIO_BLK_F_SIZE_MAX	  1
#define VIRTIO_BLK_F_SEG_MAX	  2
#define VIRTIO_BLK_F_GEOMETRY	  4
#define VIRTIO_BLK_F_RO		  5
#define VIRTIO_BLK_F_BLK_SIZE	  6
#define VIRTIO_BLK_F_FLUSH	  9
#define VIRTIO_BLK_F_TOPOLOGY	  10
#define VIRTIO_BLK_F_CONFIG_WCE	  11
#define VIRTIO_BLK_F_MQ		  12
#define VIRTIO_BLK_F_DISCARD	  13
#define VIRTIO_BLK_F_WRITE_ZEROES 14
#define BLK_FBIT(b)		  (UINT64_C(1) << (b))

/* Request types (§5.2.6). */
#define VIRTIO_BLK_T_IN		  0
#define VIRTIO_BLK_T_OUT	  1
#define VIRTIO_BLK_T_FLUSH	  4
#define VIRTIO_BLK_T_GET_ID	  8
#define VIRTIO_BLK_T_DISCARD	  11
#define VIRTIO_BLK_T_WRITE_ZEROES 13

/* Status byte (§5.2.6). */
#define VIRTIO_BLK_S_OK	    0
#define VIRTIO_BLK_S_IOERR  1
#define VIRTIO_BLK_S_UNSUPP 2

#define VIRTIO_BLK_ID_BYTES 20	 /* GET_ID answer, NUL-padded */
#define VIRTIO_BLK_SECTOR   512u /* request sectors are always 512 bytes */

/* Discard / write zeroes segment flags (§5.2.6: unmap, reserved). */
#define VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP 1u

/* struct virtio_blk_config (§5.2.4), little-endian, natural alignment:
 * up to the secure-erase fields of virtio 1.2 (72 bytes). */
struct virtio_blk_config {
	uint64_t capacity; /* in 512-byte sectors */
	uint32_t size_max;
	uint32_t seg_max;
	uint16_t cylinders; /* geometry (not offered) */
	uint8_t heads;
	uint8_t sectors;
	uint32_t blk_size;
	uint8_t physical_block_exp; /* topology */
	uint8_t alignment_offset;
	uint16_t min_io_size;
	uint32_t opt_io_size;
	uint8_t writeback; /* CONFIG_WCE: the only writable field */
	uint8_t unused0;
	uint16_t num_queues;
	uint32_t max_discard_sectors;
	uint32_t max_discard_seg;
	uint32_t discard_sector_alignment;
	uint32_t max_write_zeroes_sectors;
	uint32_t max_write_zeroes_seg;
	uint8_t write_zeroes_may_unmap;
	uint8_t unused1[3];
	uint32_t max_secure_erase_sectors;
	uint32_t max_secure_erase_seg;
	uint32_t secure_erase_sector_alignment;
};
_Static_assert(sizeof(struct virtio_blk_config) == 72, "virtio_blk_config");
_Static_assert(offsetof(struct virtio_blk_config, blk_size) == 20, "blk_size");
_Static_assert(offsetof(struct virtio_blk_config, writeback) == 32, "wce");
_Static_assert(offsetof(struct virtio_blk_config, num_queues) == 34, "nq");
_Static_assert(offsetof(struct virtio_blk_config, max_discard_sectors) == 36,
	       "discard");
_Static_assert(offsetof(struct virtio_blk_config, write_zeroes_may_unmap) == 56,
	       "wz unmap");

/* The request header (struct virtio_blk_req's first part). */
struct virtio_blk_outhdr {
	uint32_t type;
	uint32_t ioprio;
	uint64_t sector;
};
_Static_assert(sizeof(struct virtio_blk_outhdr) == 16, "outhdr");

/* One discard / write-zeroes range. */
struct virtio_blk_discard_write_zeroes {
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;
};
_Static_assert(sizeof(struct virtio_blk_discard_write_zeroes) == 16, "dwz");

/* Our limits, advertised in the config space. */
#define BLK_SEG_MAX	    126u       /* data descriptors per request */
#define BLK_MAX_IOV	    160u       /* iovecs per request (regions split) */
#define BLK_SIZE_MAX	    (1u << 20) /* bytes per data descriptor */
#define BLK_MAX_DWZ_SECTORS (1u << 22) /* per discard/write-zeroes range */
#define BLK_MAX_DWZ_SEG	    32u	       /* ranges per request */

/* ---- options --------------------------------------------------------------
 */

enum blk_kind { BLK_FILE, BLK_BDEV, BLK_RAM, BLK_NULL };
enum blk_aio { BLK_AIO_AUTO, BLK_AIO_URING, BLK_AIO_SYNC, BLK_AIO_MMAP };
enum blk_direct { BLK_DIRECT_AUTO, BLK_DIRECT_ON, BLK_DIRECT_OFF };

struct blk_opts {
	const char *socket_path;
	int fd; /* --fd, -1 if none */
	const char *file;
	enum blk_kind kind; /* FILE (also a block device), RAM or NULL */
	uint64_t size;	    /* --ram / --null size in bytes */
	bool read_only;
	uint32_t blk_size; /* logical block size: 512 or 4096 */
	unsigned num_queues;
	unsigned queues_per_thread;
	unsigned queue_size; /* largest ring the front-end may set */
	unsigned poll_us;
	unsigned batch; /* requests per handler call (vh_server_config) */
	int cpus[64];
	unsigned ncpus;
	enum blk_aio aio;
	enum blk_direct direct;
	bool writethrough; /* writeback field 0 after reset */
	bool discard;	   /* offer DISCARD and WRITE_ZEROES */
	char serial[VIRTIO_BLK_ID_BYTES + 1];
	int verbose;
};

/* What the command line asked for besides serving. */
enum blk_action { BLK_RUN, BLK_EXIT_OK, BLK_EXIT_ERR };

/* Parse argv into @o (defaults first). Prints --help, --version,
 * --print-capabilities itself (BLK_EXIT_OK) or one error line on stderr
 * (BLK_EXIT_ERR). */
enum blk_action blk_opts_parse(struct blk_opts *o, int argc, char **argv);

/* ---- the device -----------------------------------------------------------
 */

struct blk_dev {
	struct blk_opts o;
	enum blk_kind kind;
	int fd;	    /* I/O fd: O_DIRECT when direct (-1: RAM / null) */
	int fd_buf; /* buffered fd (same as fd when not direct) */
	bool direct;
	bool mem_fs;	    /* tmpfs / ramfs: the page cache is the storage */
	unsigned dio_align; /* O_DIRECT memory / length / offset alignment */
	uint8_t *ram;  /* --ram, or the mapped image (a FILE); d->size bytes */
	uint64_t size; /* bytes, a multiple of blk_size */
	uint32_t blk_size;
	/* Topology (block devices; 0 / 1 / 0 otherwise), in logical blocks:
	 * log2 of physical per logical, minimum and optimal I/O size. */
	uint8_t phys_exp;
	uint16_t min_io;
	uint32_t opt_io;
	bool use_uring; /* io_uring probed and not disabled */
	uint64_t offered;
	_Atomic uint64_t features; /* negotiated (SET_FEATURES) */
	atomic_bool wce;	   /* the writeback field */
	/* Counters (any thread). */
	atomic_ullong nreq, nioerr, nunsupp, nbad;
	atomic_uint nlogged;
	struct vh_server *srv;
	bool done; /* main.c: its server finished */
};

/* Whether requests are served by copies in the queue's thread (--ram, a
 * mapped image) or not at all (--null): no I/O engine. */
static inline bool blk_in_thread(const struct blk_dev *d)
{
	return d->ram || d->kind == BLK_NULL;
}

/* Open the backing store named by d->o (d->o filled in). One error line on
 * stderr and a negative errno on failure. */
int blk_image_open(struct blk_dev *d);
void blk_image_close(struct blk_dev *d);
/* "O_DIRECT" / "buffered (O_DIRECT refused: ...)" etc. for the start line. */
const char *blk_image_describe(const struct blk_dev *d, char *buf, size_t len);

/* Synchronous operations on the store; 0 or a negative errno. @off and
 * @len in bytes, already validated against the capacity. */
int blk_image_discard(struct blk_dev *d, uint64_t off, uint64_t len);
int blk_image_write_zeroes(struct blk_dev *d, uint64_t off, uint64_t len,
			   bool unmap);
int blk_image_flush(struct blk_dev *d);
/* Read or write all of @iov at @off through @fd (loops over short
 * transfers; RWF_DSYNC on writes with @dsync). */
int blk_image_rw_sync(int fd, bool write, bool dsync, const struct iovec *iov,
		      unsigned niov, uint64_t off);

/* fault.c: install the SIGBUS handler the guarded copies need (before any
 * queue runs). 0 or a negative errno. */
int blk_fault_init(void);
/* Copy between @p (the image, or --ram) and @iov[0, n): into @p when
 * @write. A SIGBUS on either side (a file truncated under us, tmpfs full,
 * a memory error) stops the copy and returns -EFAULT instead of killing
 * the process; 0 otherwise. Partial data may have been copied. */
int blk_copy_iov(uint8_t *p, const struct iovec *iov, unsigned n, bool write);

/* Features offered, and the config space (config.c). */
uint64_t blk_features(const struct blk_dev *d);
/* The whole config space as the driver sees it now. */
void blk_config_fill(struct blk_dev *d, struct virtio_blk_config *c);
/* Whether writes need not be stable on completion (WCE / FLUSH rules). */
bool blk_writeback(struct blk_dev *d);
extern const struct vh_device_ops blk_ops;

/* ---- requests and queues --------------------------------------------------
 */

struct blk_queue;

struct blk_req {
	struct vh_req req; /* first: one pool block serves both */
	struct blk_queue *bq;
	uint8_t *status;
	struct iovec *iov; /* data iovecs (into req.elem.iov) */
	unsigned niov;
	uint32_t len; /* data bytes */
	uint32_t type;
	uint64_t off;  /* data offset in bytes */
	bool buffered; /* use d->fd_buf (O_DIRECT impossible for it) */
	/* One iovec trimmed in place to cut off the header or the status
	 * byte; restored before completion (the dirty log reads it). */
	int fix_idx;
	struct iovec fix_iov;
};

/* Per-queue state, created in queue_started on the queue's worker. */
struct blk_queue {
	struct blk_dev *dev;
	struct vh_queue *q;
	bool uring;
	bool fixed;   /* fds registered: index 0 = fd, 1 = fd_buf */
	bool reaping; /* inside process_cqes */
	int efd;
	unsigned queued; /* SQEs prepared, not submitted */
	unsigned inflight;
	uint64_t nreq; /* requests taken since the queue started */
	void *ring;    /* struct io_uring (uring.c) */
};

/* Parse and validate @r; run GET_ID, DISCARD, WRITE_ZEROES, the RAM and
 * null paths and every refusal at once (completing @r). Returns true when
 * @r is a READ, WRITE or FLUSH for the file, left for the data path with
 * its fields set. */
bool blk_req_prepare(struct blk_dev *d, struct blk_req *r);
/* Restore the iovecs, write the status byte, complete with @used_len. */
void blk_req_finish(struct blk_req *r, uint8_t status, uint32_t used_len);
/* Used length of a successful request (READ: data + status). */
uint32_t blk_req_used_ok(const struct blk_req *r);

/* Queue callbacks (uring.c). */
int blk_queue_started(void *dev, struct vh_queue *q);
void blk_queue_stopped(void *dev, struct vh_queue *q);
void blk_handle_reqs(void *dev, struct vh_queue *q, struct vh_req **reqs,
		     unsigned n);
/* Whether io_uring works here (creates and frees a tiny ring); on failure
 * *why gets the errno. */
bool blk_uring_probe(int *why);

/* Log a refused request (rate-limited) and count it. */
void blk_log_bad(struct blk_dev *d, const struct blk_req *r, const char *fmt,
		 ...) __attribute__((format(printf, 3, 4)));

#endif /* VH_BLK_H */
