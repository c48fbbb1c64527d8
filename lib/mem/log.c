/* SPDX-License-Identifier: MIT */
/*
 * Dirty-page log for live migration (vhost-user.rst "Migration",
 * VHOST_USER_SET_LOG_BASE with LOG_SHMFD): one bit per 4 KiB guest page.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mem_priv.h"
#include "vhost/log.h"

int vh_mem_log_new(int fd, uint64_t size, uint64_t offset,
		   struct vh_mem_log **out)
{
	long pg = sysconf(_SC_PAGESIZE);
	uint64_t aligned = offset & ~(uint64_t)(pg - 1);
	uint64_t delta = offset - aligned;
	struct vh_mem_log *log;
	struct stat st;
	void *addr;
	int err;

	*out = NULL;
	if (size == 0 || offset + size < offset || size > SIZE_MAX / 2) {
		close(fd);
		vh_err("mem: SET_LOG_BASE: bad log size 0x%llx offset 0x%llx",
		       (unsigned long long)size, (unsigned long long)offset);
		return -EINVAL;
	}
	if (fstat(fd, &st) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size < offset + size) {
		close(fd);
		vh_err("mem: SET_LOG_BASE: fd holds 0x%llx bytes, needs 0x%llx",
		       (unsigned long long)st.st_size,
		       (unsigned long long)(offset + size));
		return -EINVAL;
	}
	log = calloc(1, sizeof(*log));
	if (!log) {
		close(fd);
		return -ENOMEM;
	}
	addr = mmap(NULL, size + delta, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		    (off_t)aligned);
	err = -errno;
	close(fd);
	if (addr == MAP_FAILED) {
		free(log);
		vh_err("mem: SET_LOG_BASE: mmap: %s", vh_strerror(err));
		return err;
	}
	atomic_init(&log->refs, 1);
	log->map = addr;
	log->map_len = size + delta;
	log->bits = (uint8_t *)addr + delta;
	log->size = size;
	*out = log;
	return 0;
}

struct vh_mem_log *mem_log_ref(struct vh_mem_log *log)
{
	atomic_fetch_add_explicit(&log->refs, 1, memory_order_relaxed);
	return log;
}

void vh_mem_log_unref(struct vh_mem_log *log)
{
	if (!log)
		return;
	if (atomic_fetch_sub_explicit(&log->refs, 1, memory_order_acq_rel) != 1)
		return;
	munmap(log->map, log->map_len);
	free(log);
}

uint64_t vh_mem_log_size(const struct vh_mem_log *log)
{
	return log->size;
}

int vh_mem_log_mark(struct vh_mem_log *log, uint64_t gpa, uint64_t len)
{
	uint64_t first, last;

	if (!len)
		return 0;
	if (gpa + len - 1 < gpa)
		return -ERANGE;
	first = gpa / VHOST_LOG_PAGE;
	last = (gpa + len - 1) / VHOST_LOG_PAGE;
	if (last / 8 >= log->size) {
		vh_warn("mem: dirty log of 0x%llx bytes does not cover gpa "
			"0x%llx+0x%llx",
			(unsigned long long)log->size, (unsigned long long)gpa,
			(unsigned long long)len);
		return -ERANGE;
	}
	/* The front-end reads and clears bits concurrently: atomic OR. The
	 * release order makes the data we wrote visible before the bit. */
	for (uint64_t page = first; page <= last; page++) {
		_Atomic uint8_t *b = (_Atomic uint8_t *)&log->bits[page / 8];

		atomic_fetch_or_explicit(b, (uint8_t)(1u << (page % 8)),
					 memory_order_release);
	}
	return 0;
}

bool vh_mem_log_test(const struct vh_mem_log *log, uint64_t gpa)
{
	uint64_t page = gpa / VHOST_LOG_PAGE;

	if (page / 8 >= log->size)
		return false;
	return (atomic_load_explicit((_Atomic uint8_t *)&log->bits[page / 8],
				     memory_order_acquire) >>
		(page % 8)) &
	       1;
}
