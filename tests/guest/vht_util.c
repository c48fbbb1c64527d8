/* SPDX-License-Identifier: MIT */
/* Shared helpers of the in-guest tests: verdicts, memory, rings. */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "vhost/virtq.h"
#include "vht.h"

void vht_begin(struct vht *v, const char *name)
{
	memset(v, 0, sizeof(*v));
	v->name = name;
	printf("VHT-BEGIN %s\n", name);
	fflush(stdout);
}

void vht_fail(struct vht *v, const char *fmt, ...)
{
	va_list ap;

	if (v->failed)
		return;
	v->failed = true;
	va_start(ap, fmt);
	vsnprintf(v->why, sizeof(v->why), fmt, ap);
	va_end(ap);
	printf("  FAILED: %s\n", v->why);
	fflush(stdout);
}

int vht_end(struct vht *v, const char *fmt, ...)
{
	char detail[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	printf("VHT-RESULT %s %s %s\n", v->failed ? "FAIL" : "PASS", v->name,
	       v->failed ? v->why : detail);
	fflush(stdout);
	return v->failed ? 1 : 0;
}

void vht_skip(const char *name, const char *why)
{
	printf("VHT-RESULT SKIP %s %s\n", name, why);
	fflush(stdout);
}

void vht_say(const char *fmt, ...)
{
	va_list ap;

	fputs("  ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

int vht_fd_count(void)
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
	return n - 1;
}

double vht_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void log_line(void *opaque, enum vh_log_level level, const char *msg)
{
	(void)opaque;
	printf("  lib[%d]: %s\n", (int)level, msg);
	fflush(stdout);
}

void vht_log_to_stdout(void)
{
	vh_log_set_handler(log_line, NULL);
	vh_log_set_level(VH_LOG_INFO);
}

int vht_mem_init(struct vht_mem *m, uint64_t gpa, size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	memset(m, 0, sizeof(*m));
	if (p == MAP_FAILED)
		return -errno;
	m->base = p;
	m->gpa = gpa;
	m->len = len;
	return 0;
}

void vht_mem_free(struct vht_mem *m)
{
	if (m->base)
		munmap(m->base, m->len);
	m->base = NULL;
}

void *vht_alloc(struct vht_mem *m, size_t len, size_t align)
{
	size_t at = (m->used + align - 1) & ~(align - 1);

	if (at > m->len || len > m->len - at)
		return NULL;
	m->used = at + len;
	memset(m->base + at, 0, len);
	return m->base + at;
}

uint64_t vht_gpa(const struct vht_mem *m, const void *p)
{
	return m->gpa + (uint64_t)((const uint8_t *)p - m->base);
}

struct vh_transport_region vht_region(const struct vht_mem *m)
{
	struct vh_transport_region r = {.guest_phys_addr = m->gpa,
					.size = m->len,
					.user_addr =
					    (uint64_t)(uintptr_t)m->base,
					.mmap_offset = 0,
					.fd = -1};
	return r;
}

int vht_q_setup(struct vh_transport *t, struct vht_mem *m, uint32_t index,
		uint16_t size, struct vht_q *q, const char **what)
{
	struct vh_drv_config c;
	struct vh_transport_vring_addr a;
	size_t dl, drl, dvl;
	uint8_t *d, *dr, *dv;
	int r;

	memset(q, 0, sizeof(*q));
	q->index = index;
	q->kick = q->call = -1;
	*what = "ring memory";
	vh_virtq_ring_sizes(size, false, &dl, &drl, &dvl);
	d = vht_alloc(m, dl, 4096);
	dr = vht_alloc(m, drl, 4096);
	dv = vht_alloc(m, dvl, 4096);
	if (!d || !dr || !dv)
		return -ENOMEM;
	memset(&c, 0, sizeof(c));
	c.size = size;
	c.mem = m->base;
	c.mem_gpa = m->gpa;
	c.mem_len = m->len;
	c.desc_off = (size_t)(d - m->base);
	c.driver_off = (size_t)(dr - m->base);
	c.device_off = (size_t)(dv - m->base);
	*what = "vh_drv_queue_new";
	r = vh_drv_queue_new(&c, &q->q);
	if (r < 0)
		return r;
	*what = "eventfd";
	q->kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	q->call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (q->kick < 0 || q->call < 0)
		return -errno;

	*what = "set_vring_num";
	r = vh_transport_set_vring_num(t, index, size);
	if (r < 0)
		return r;
	*what = "set_vring_base";
	r = vh_transport_set_vring_base(t, index, 0);
	if (r < 0)
		return r;
	memset(&a, 0, sizeof(a));
	a.desc = vh_drv_desc_gpa(q->q);
	a.avail = vh_drv_driver_gpa(q->q);
	a.used = vh_drv_device_gpa(q->q);
	*what = "set_vring_addr";
	r = vh_transport_set_vring_addr(t, index, &a);
	if (r < 0)
		return r;
	*what = "set_vring_kick";
	r = vh_transport_set_vring_kick(t, index, q->kick);
	if (r < 0)
		return r;
	*what = "set_vring_call";
	return vh_transport_set_vring_call(t, index, q->call);
}

void vht_q_free(struct vht_q *q)
{
	if (q->q)
		vh_drv_queue_free(q->q);
	if (q->kick >= 0)
		close(q->kick);
	if (q->call >= 0)
		close(q->call);
	memset(q, 0, sizeof(*q));
	q->kick = q->call = -1;
}

int vht_q_add(struct vht_q *q, const struct vh_drv_buf *out, unsigned nout,
	      const struct vh_drv_buf *in, unsigned nin, void *token)
{
	uint64_t one = 1;
	int r = vh_drv_add(q->q, out, nout, in, nin, false, token);

	if (r < 0)
		return r;
	(void)vh_drv_kick_prepare(q->q);
	if (write(q->kick, &one, sizeof(one)) != (ssize_t)sizeof(one))
		return -errno;
	return 0;
}

int vht_q_wait(struct vht_q *q, void **token, uint32_t *len, int ms)
{
	double end = vht_now_ms() + ms;
	struct pollfd p = {.fd = q->call, .events = POLLIN};
	uint64_t v;
	int r;

	for (;;) {
		r = vh_drv_get_used(q->q, token, len);
		if (r != 0)
			return r < 0 ? r : 0;
		if (vht_now_ms() >= end)
			return -ETIMEDOUT;
		if (poll(&p, 1, 10) > 0 && read(q->call, &v, sizeof(v)) < 0)
			return -errno;
	}
}
