/* SPDX-License-Identifier: MIT */
/*
 * The backing store: a raw image file, a block device, anonymous memory
 * (--ram) or nothing (--null). Opening decides O_DIRECT (auto: tried, and
 * buffered I/O when the file system refuses it), the capacity (rounded down
 * to the logical block size) and takes an exclusive lock on image files so
 * two back-ends never serve one image. The synchronous helpers here serve
 * DISCARD, WRITE_ZEROES, FLUSH and the --aio sync data path.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "blk.h"
#include "vhost/log.h"

static char direct_why[96];

static int fail(const char *what, const char *path, int err)
{
	fprintf(stderr, "vhost-user-blk: %s %s: %s\n", what, path,
		strerror(err));
	return -err;
}

static int open_ram(struct blk_dev *d)
{
	d->size = d->o.size - d->o.size % d->blk_size;
	if (d->kind == BLK_NULL)
		return 0;
	/* MAP_NORESERVE: memory is used as the guest writes it. */
	d->ram = mmap(NULL, d->size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (d->ram == MAP_FAILED) {
		d->ram = NULL;
		fprintf(stderr,
			"vhost-user-blk: cannot allocate --ram %llu "
			"bytes: %s\n",
			(unsigned long long)d->size, strerror(errno));
		return -ENOMEM;
	}
	return 0;
}

/* A block device's physical block and I/O sizes, for the guest to align
 * to (virtio 1.2 §5.2.4 topology: in logical blocks). */
static void topology(struct blk_dev *d)
{
	unsigned int pbs = 0, iomin = 0, ioopt = 0;

	if (ioctl(d->fd_buf, BLKPBSZGET, &pbs) == 0)
		while (pbs > d->blk_size << d->phys_exp && d->phys_exp < 15)
			d->phys_exp++;
	if (ioctl(d->fd_buf, BLKIOMIN, &iomin) == 0 &&
	    iomin / d->blk_size > 1 && iomin / d->blk_size <= UINT16_MAX)
		d->min_io = (uint16_t)(iomin / d->blk_size);
	if (ioctl(d->fd_buf, BLKIOOPT, &ioopt) == 0)
		d->opt_io = ioopt / d->blk_size;
}

static int image_size(struct blk_dev *d, const struct stat *st)
{
	const char *path = d->o.file;
	uint64_t bytes;

	if (S_ISBLK(st->st_mode)) {
		int ssz = 512;

		d->kind = BLK_BDEV;
		if (ioctl(d->fd_buf, BLKGETSIZE64, &bytes))
			return fail("cannot read the size of", path, errno);
		if (ioctl(d->fd_buf, BLKSSZGET, &ssz) == 0 && ssz >= 512)
			d->dio_align = (unsigned)ssz;
		topology(d);
	} else if (S_ISREG(st->st_mode)) {
		d->kind = BLK_FILE;
		bytes = (uint64_t)st->st_size;
	} else {
		fprintf(stderr,
			"vhost-user-blk: %s is neither a regular file nor a "
			"block device\n",
			path);
		return -EINVAL;
	}
	if (bytes < d->blk_size) {
		fprintf(stderr,
			"vhost-user-blk: %s is %llu bytes, smaller than one "
			"%u-byte logical block\n",
			path, (unsigned long long)bytes, d->blk_size);
		return -EINVAL;
	}
	d->size = bytes - bytes % d->blk_size;
	if (d->size != bytes)
		fprintf(stderr,
			"vhost-user-blk: %s: the last %llu bytes are not a "
			"whole %u-byte block and are not served\n",
			path, (unsigned long long)(bytes - d->size),
			d->blk_size);
	return 0;
}

/* tmpfs or ramfs (linux/magic.h TMPFS_MAGIC, RAMFS_MAGIC). */
static bool memory_fs(int fd)
{
	struct statfs sf;

	if (fstatfs(fd, &sf))
		return false;
	return sf.f_type == 0x01021994 || sf.f_type == (long)0x858458f6;
}

/*
 * A tmpfs / ramfs image mapped whole: a read or write is then one memcpy
 * in the queue's thread, no syscall and no page-cache lookup (those were
 * half of the CPU per request with pread / pwrite). The pages are the
 * same page-cache pages pread would copy from, so nothing is duplicated;
 * they count in RssShmem like the guest memory (page tables: 2 MiB per GiB
 * touched). Only when every block is
 * allocated (auto): reading a hole through a shared tmpfs mapping
 * allocates the page, where pread returns zeroes for free, so a sparse
 * image keeps the pread path unless --aio mmap asks. Copies are guarded
 * against SIGBUS (fault.c): a truncated image gives IOERR, not a crash.
 */
static int map_image(struct blk_dev *d)
{
	int prot = PROT_READ | (d->o.read_only ? 0 : PROT_WRITE);
	void *p = mmap(NULL, d->size, prot, MAP_SHARED, d->fd_buf, 0);

	if (p == MAP_FAILED)
		return fail("cannot map", d->o.file, errno);
	d->ram = p;
	snprintf(direct_why, sizeof(direct_why),
		 "tmpfs: the page cache is the storage");
	return 0;
}

static int open_file(struct blk_dev *d)
{
	const char *path = d->o.file;
	int flags = (d->o.read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC;
	struct stat st;
	int err;

	d->fd_buf = open(path, flags);
	if (d->fd_buf < 0) {
		err = errno;
		if (!d->o.read_only && (err == EROFS || err == EACCES))
			fprintf(stderr,
				"vhost-user-blk: cannot open %s read-write: "
				"%s (--read-only?)\n",
				path, strerror(err));
		else
			fail("cannot open", path, err);
		return -err;
	}
	if (fstat(d->fd_buf, &st))
		return fail("cannot stat", path, errno);
	d->dio_align = 512;
	err = image_size(d, &st);
	if (err)
		return err;
	/* One back-end per image: another one writing the same file would
	 * corrupt it. The lock dies with the process (also on SIGKILL), but
	 * not at once: a killed back-end's io_uring holds the file until the
	 * kernel has torn the ring down, so a restarted one waits a little. */
	if (d->kind == BLK_FILE) {
		int op = (d->o.read_only ? LOCK_SH : LOCK_EX) | LOCK_NB;

		for (int i = 0; flock(d->fd_buf, op); i++) {
			if (errno != EWOULDBLOCK && errno != EINTR)
				break; /* no locks here (NFS...): go on */
			if (i == 300) {
				fprintf(stderr,
					"vhost-user-blk: %s is in use by "
					"another process (locked)\n",
					path);
				return -EBUSY;
			}
			usleep(10000);
		}
	}
	d->fd = d->fd_buf;
	if (d->kind == BLK_FILE && memory_fs(d->fd_buf)) {
		/* Nothing to bypass: data already lives in memory. Reads and
		 * writes are copies, done in the queue threads (io_uring would
		 * hand them to its worker threads: a thread hop per request).
		 */
		d->mem_fs = true;
		if (d->o.aio == BLK_AIO_MMAP ||
		    (d->o.aio == BLK_AIO_AUTO && d->o.direct != BLK_DIRECT_ON &&
		     (uint64_t)st.st_blocks * 512 >= d->size))
			return map_image(d);
		if (d->o.direct != BLK_DIRECT_ON) {
			snprintf(direct_why, sizeof(direct_why),
				 "tmpfs: the page cache is the storage");
			return 0;
		}
	} else if (d->o.aio == BLK_AIO_MMAP) {
		fprintf(stderr,
			"vhost-user-blk: --aio mmap: %s is not on tmpfs or "
			"ramfs\n",
			path);
		return -EINVAL;
	}
	if (d->o.direct == BLK_DIRECT_OFF) {
		snprintf(direct_why, sizeof(direct_why), "--direct off");
		return 0;
	}
	d->fd = open(path, flags | O_DIRECT);
	if (d->fd < 0) {
		err = errno;
		d->fd = d->fd_buf;
		if (d->o.direct == BLK_DIRECT_ON)
			return fail("cannot open with O_DIRECT", path, err);
		snprintf(direct_why, sizeof(direct_why),
			 "O_DIRECT refused by the file system: %s",
			 strerror(err));
		return 0;
	}
	d->direct = true;
	return 0;
}

int blk_image_open(struct blk_dev *d)
{
	d->fd = d->fd_buf = -1;
	d->kind = d->o.kind;
	d->blk_size = d->o.blk_size;
	d->min_io = 1;
	if (d->kind == BLK_RAM || d->kind == BLK_NULL)
		return open_ram(d);
	return open_file(d);
}

void blk_image_close(struct blk_dev *d)
{
	if (d->fd >= 0 && d->fd != d->fd_buf)
		close(d->fd);
	if (d->fd_buf >= 0)
		close(d->fd_buf);
	d->fd = d->fd_buf = -1;
	if (d->ram)
		munmap(d->ram, d->size);
	d->ram = NULL;
}

const char *blk_image_describe(const struct blk_dev *d, char *buf, size_t len)
{
	if (d->kind == BLK_RAM)
		snprintf(buf, len, "RAM");
	else if (d->kind == BLK_NULL)
		snprintf(buf, len, "null (no data kept)");
	else if (d->ram)
		snprintf(buf, len, "mapped (%s)", direct_why);
	else if (d->direct)
		snprintf(buf, len, "O_DIRECT");
	else
		snprintf(buf, len, "buffered (%s)", direct_why);
	return buf;
}

/* ---- synchronous operations ---------------------------------------------- */

static const uint8_t zeroes[64 * 1024];

static int write_zero_bytes(struct blk_dev *d, uint64_t off, uint64_t len)
{
	while (len) {
		size_t n = len < sizeof(zeroes) ? (size_t)len : sizeof(zeroes);
		ssize_t w = pwrite(d->fd_buf, zeroes, n, (off_t)off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		off += (uint64_t)w;
		len -= (uint64_t)w;
	}
	return 0;
}

static int punch(struct blk_dev *d, uint64_t off, uint64_t len)
{
	if (fallocate(d->fd_buf, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)off, (off_t)len) == 0)
		return 0;
	return -errno;
}

int blk_image_discard(struct blk_dev *d, uint64_t off, uint64_t len)
{
	int err = 0;

	switch (d->kind) {
	case BLK_NULL:
		return 0;
	case BLK_RAM:
		memset(d->ram + off, 0, len);
		return 0;
	case BLK_BDEV: {
		uint64_t range[2] = {off, len};

		if (ioctl(d->fd_buf, BLKDISCARD, range))
			err = -errno;
		break;
	}
	case BLK_FILE:
		err = punch(d, off, len);
		break;
	}
	/* Discard is a hint (virtio 1.2 §5.2.6: the device may deallocate);
	 * a store that cannot deallocate keeps the data. */
	if (err == -EOPNOTSUPP || err == -ENOTTY)
		err = 0;
	return err;
}

int blk_image_write_zeroes(struct blk_dev *d, uint64_t off, uint64_t len,
			   bool unmap)
{
	int err;

	switch (d->kind) {
	case BLK_NULL:
		return 0;
	case BLK_RAM:
		memset(d->ram + off, 0, len);
		return 0;
	case BLK_BDEV:
	case BLK_FILE:
		break;
	}
	/* UNMAP allowed: a hole reads as zeroes (files; on a block device
	 * PUNCH_HOLE is a zero-out that may unmap). */
	if (unmap && punch(d, off, len) == 0)
		return 0;
	if (fallocate(d->fd_buf, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
		      (off_t)off, (off_t)len) == 0)
		return 0;
	err = -errno;
	if (d->kind == BLK_BDEV) {
		uint64_t range[2] = {off, len};

		if (ioctl(d->fd_buf, BLKZEROOUT, range) == 0)
			return 0;
	} else if (err == -EOPNOTSUPP && punch(d, off, len) == 0) {
		/* tmpfs has no ZERO_RANGE: a hole, then allocate it again
		 * since the driver did not allow unmapping. */
		(void)!fallocate(d->fd_buf, FALLOC_FL_KEEP_SIZE, (off_t)off,
				 (off_t)len);
		return 0;
	}
	return write_zero_bytes(d, off, len);
}

int blk_image_flush(struct blk_dev *d)
{
	if (d->fd_buf < 0)
		return 0;
	return fdatasync(d->fd_buf) ? -errno : 0;
}

int blk_image_rw_sync(int fd, bool write, bool dsync, const struct iovec *iov,
		      unsigned niov, uint64_t off)
{
	struct iovec v[BLK_MAX_IOV];
	unsigned i = 0;

	if (niov > BLK_MAX_IOV)
		return -EINVAL;
	memcpy(v, iov, niov * sizeof(*iov));
	while (i < niov) {
		ssize_t n =
		    write ? pwritev2(fd, v + i, (int)(niov - i), (off_t)off,
				     dsync ? RWF_DSYNC : 0)
			  : preadv2(fd, v + i, (int)(niov - i), (off_t)off, 0);

		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO; /* the file shrank under us */
		off += (uint64_t)n;
		while (n > 0 && i < niov) {
			if ((size_t)n >= v[i].iov_len) {
				n -= (ssize_t)v[i].iov_len;
				i++;
			} else {
				v[i].iov_base = (uint8_t *)v[i].iov_base + n;
				v[i].iov_len -= (size_t)n;
				n = 0;
			}
		}
	}
	return 0;
}
