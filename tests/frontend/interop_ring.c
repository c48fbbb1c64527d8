/* SPDX-License-Identifier: MIT */
/* Guest memory and split rings for the interop programs (interop_ring.h). */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "interop_ring.h"

void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stdout, "%s: FAIL: ", prog_name);
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fprintf(stdout, "\n");
	fflush(stdout);
	exit(1);
}

void guest_mem_init(struct guest_mem *m, uint64_t gpa, uint64_t size)
{
	m->fd = memfd_create("interop-guest", MFD_CLOEXEC);
	CHECK(m->fd >= 0, "memfd_create: %s", strerror(errno));
	CHECK(ftruncate(m->fd, (off_t)size) == 0, "ftruncate: %s",
	      strerror(errno));
	m->base =
	    mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, m->fd, 0);
	CHECK(m->base != MAP_FAILED, "mmap: %s", strerror(errno));
	m->gpa = gpa;
	m->size = size;
}

void guest_mem_fini(struct guest_mem *m)
{
	munmap(m->base, m->size);
	close(m->fd);
}

void *gpa_ptr(struct guest_mem *m, uint64_t gpa)
{
	CHECK(gpa >= m->gpa && gpa - m->gpa < m->size, "GPA 0x%llx outside",
	      (unsigned long long)gpa);
	return m->base + (gpa - m->gpa);
}

void ring_init(struct split_ring *r, struct guest_mem *m, uint16_t num,
	       uint64_t off)
{
	memset(r, 0, sizeof(*r));
	r->mem = m;
	r->num = num;
	r->desc_gpa = m->gpa + off;
	r->avail_gpa = r->desc_gpa + 0x1000;
	r->used_gpa = r->desc_gpa + 0x2000;
	memset(gpa_ptr(m, r->desc_gpa), 0, 0x3000);
	r->kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	r->call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	CHECK(r->kick >= 0 && r->call >= 0, "eventfd: %s", strerror(errno));
}

void ring_fini(struct split_ring *r)
{
	close(r->kick);
	close(r->call);
}

/* Little-endian stores (virtio 1.x rings are little-endian; so is x86). */
static void put16(void *p, uint16_t v)
{
	memcpy(p, &v, sizeof(v));
}

uint16_t ring_add(struct split_ring *r, const struct ring_buf *b, unsigned n)
{
	uint16_t head = r->next_desc, d = head, flags;
	uint8_t *desc = gpa_ptr(r->mem, r->desc_gpa);
	uint8_t *avail = gpa_ptr(r->mem, r->avail_gpa);
	unsigned i;

	for (i = 0; i < n; i++) {
		uint8_t *e = desc + 16 * (size_t)d;
		uint16_t next = (uint16_t)((d + 1) % r->num);

		flags = (uint16_t)((i + 1 < n ? 1 : 0) |
				   (b[i].device_writes ? 2 : 0));
		memcpy(e, &b[i].gpa, 8);
		memcpy(e + 8, &b[i].len, 4);
		put16(e + 12, flags);
		put16(e + 14, next);
		d = next;
	}
	r->next_desc = d;
	put16(avail + 4 + 2 * (size_t)(r->avail_idx % r->num), head);
	r->avail_idx++;
	/* The ring entry before the index that publishes it (§2.7.13). */
	atomic_thread_fence(memory_order_release);
	put16(avail + 2, r->avail_idx);
	return head;
}

void ring_kick(struct split_ring *r)
{
	uint64_t one = 1;

	atomic_thread_fence(memory_order_seq_cst);
	CHECK(write(r->kick, &one, sizeof(one)) == sizeof(one), "kick: %s",
	      strerror(errno));
}

bool ring_wait_used(struct split_ring *r, int timeout_ms, uint32_t *id,
		    uint32_t *len)
{
	uint8_t *used = gpa_ptr(r->mem, r->used_gpa);
	struct pollfd p = {.fd = r->call, .events = POLLIN};
	struct timespec t0, now;
	uint16_t idx;
	uint64_t v;
	long left;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		memcpy(&idx, used + 2, sizeof(idx));
		atomic_thread_fence(memory_order_acquire);
		if (idx != r->used_seen) {
			uint8_t *e =
			    used + 4 + 8 * (size_t)(r->used_seen % r->num);

			memcpy(id, e, 4);
			memcpy(len, e + 4, 4);
			r->used_seen++;
			return true;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		left = timeout_ms - ((now.tv_sec - t0.tv_sec) * 1000 +
				     (now.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0)
			return false;
		/* The call eventfd, or a short nap for back-ends that
		 * suppress notifications. */
		if (poll(&p, 1, left < 10 ? (int)left : 10) > 0)
			(void)!read(r->call, &v, sizeof(v));
	}
}
