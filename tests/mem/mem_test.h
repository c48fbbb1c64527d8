/* SPDX-License-Identifier: MIT */
/* Helpers shared by the guest memory tests. */
#ifndef MEM_TEST_H
#define MEM_TEST_H

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vhost/log.h"

#define PAGE 4096u

/* A memfd of @len bytes (caller closes). */
static inline int test_memfd(size_t len)
{
	int fd = memfd_create("vh-mem-test", MFD_CLOEXEC);

	if (fd >= 0 && ftruncate(fd, (off_t)len) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Open fds of this process. */
static inline int test_fd_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the DIR's own fd */
}

/* Whether [addr, addr+1) is in a mapping listed in /proc/self/maps. */
static inline int test_is_mapped(const void *addr)
{
	FILE *f = fopen("/proc/self/maps", "r");
	unsigned long lo, hi, a = (unsigned long)(uintptr_t)addr;
	char line[512];
	int found = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && a >= lo && a < hi)
			found = 1;
	fclose(f);
	return found;
}

/* Expected errors are logged by the library: keep the output clean but
 * count them, so a test can check that something was logged. */
static int test_log_count;

static inline void test_quiet_log(void *opaque, enum vh_log_level level,
				  const char *msg)
{
	(void)opaque;
	(void)level;
	(void)msg;
	test_log_count++;
}

#endif /* MEM_TEST_H */
