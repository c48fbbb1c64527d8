/* SPDX-License-Identifier: MIT */
/*
 * Building guest memory tables: mapping regions, sorting, refusing overlap.
 * vhost-user.rst "Memory access" and VHOST_USER_SET_MEM_TABLE / ADD_MEM_REG.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mem_priv.h"
#include "vhost/log.h"

static struct mem_map *map_ref(struct mem_map *m)
{
	atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
	return m;
}

static void map_unref(struct mem_map *m)
{
	if (atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) != 1)
		return;
	munmap(m->addr, m->len);
	free(m);
}

struct vh_mem_table *mem_table_alloc(unsigned n)
{
	struct vh_mem_table *t;
	size_t sz = sizeof(*t) + (size_t)n * sizeof(struct mem_region) +
		    (size_t)n * sizeof(uint16_t);

	t = calloc(1, sz);
	if (!t)
		return NULL;
	atomic_init(&t->refs, 1);
	t->n = n;
	t->by_gpa = (struct mem_region *)(t + 1);
	t->by_uva = (uint16_t *)(t->by_gpa + n);
	return t;
}

struct vh_mem_table *vh_mem_table_ref(struct vh_mem_table *t)
{
	atomic_fetch_add_explicit(&t->refs, 1, memory_order_relaxed);
	return t;
}

void vh_mem_table_unref(struct vh_mem_table *t)
{
	if (!t)
		return;
	if (atomic_fetch_sub_explicit(&t->refs, 1, memory_order_acq_rel) != 1)
		return;
	for (unsigned i = 0; i < t->n; i++)
		map_unref(t->by_gpa[i].map);
	vh_mem_log_unref(t->log);
	free(t);
}

static int region_check(const struct vhost_user_mem_region *r)
{
	if (r->memory_size == 0 ||
	    r->guest_phys_addr + r->memory_size - 1 < r->guest_phys_addr ||
	    r->userspace_addr + r->memory_size - 1 < r->userspace_addr ||
	    r->mmap_offset + r->memory_size < r->mmap_offset ||
	    r->memory_size > SIZE_MAX / 2)
		return -EINVAL;
	return 0;
}

/*
 * mmap_offset need not be page aligned (libvhost-user maps from the aligned
 * offset below it and adds the remainder): map [aligned, offset + size).
 */
static int region_map(const struct vhost_user_mem_region *r, int fd,
		      struct mem_region *out)
{
	long pg = sysconf(_SC_PAGESIZE);
	uint64_t aligned = r->mmap_offset & ~(uint64_t)(pg - 1);
	uint64_t delta = r->mmap_offset - aligned;
	struct stat st;
	struct mem_map *m;
	void *addr;
	int err = region_check(r);

	if (err) {
		vh_err("mem: region gpa 0x%llx size 0x%llx: bad size or "
		       "address overflow",
		       (unsigned long long)r->guest_phys_addr,
		       (unsigned long long)r->memory_size);
		return err;
	}
	if (fstat(fd, &st) < 0)
		return -errno;
	/* A mapping past the end of a file faults with SIGBUS on access. */
	if (S_ISREG(st.st_mode) &&
	    (uint64_t)st.st_size < r->mmap_offset + r->memory_size) {
		vh_err("mem: region gpa 0x%llx: fd holds 0x%llx bytes, needs "
		       "0x%llx",
		       (unsigned long long)r->guest_phys_addr,
		       (unsigned long long)st.st_size,
		       (unsigned long long)(r->mmap_offset + r->memory_size));
		return -EINVAL;
	}
	m = malloc(sizeof(*m));
	if (!m)
		return -ENOMEM;
	addr = mmap(NULL, r->memory_size + delta, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_NORESERVE, fd, (off_t)aligned);
	if (addr == MAP_FAILED) {
		err = -errno;
		free(m);
		vh_err("mem: mmap of region gpa 0x%llx size 0x%llx: %s",
		       (unsigned long long)r->guest_phys_addr,
		       (unsigned long long)r->memory_size, vh_strerror(err));
		return err;
	}
	atomic_init(&m->refs, 1);
	m->addr = addr;
	m->len = r->memory_size + delta;
	out->gpa = r->guest_phys_addr;
	out->size = r->memory_size;
	out->uva = r->userspace_addr;
	out->mmap_offset = r->mmap_offset;
	out->host = (uint8_t *)addr + delta;
	out->map = m;
	return 0;
}

static int cmp_gpa(const void *a, const void *b)
{
	const struct mem_region *x = a, *y = b;

	return x->gpa < y->gpa ? -1 : x->gpa > y->gpa;
}

/* Insertion sort of the uva index: qsort_r is not C11, n is small. */
static void sort_uva(struct vh_mem_table *t)
{
	for (unsigned i = 0; i < t->n; i++)
		t->by_uva[i] = (uint16_t)i;
	for (unsigned i = 1; i < t->n; i++) {
		uint16_t v = t->by_uva[i];
		uint64_t key = t->by_gpa[v].uva;
		unsigned j = i;

		while (j > 0 && t->by_gpa[t->by_uva[j - 1]].uva > key) {
			t->by_uva[j] = t->by_uva[j - 1];
			j--;
		}
		t->by_uva[j] = v;
	}
}

int mem_table_finish(struct vh_mem_table *t)
{
	qsort(t->by_gpa, t->n, sizeof(t->by_gpa[0]), cmp_gpa);
	sort_uva(t);
	for (unsigned i = 1; i < t->n; i++) {
		const struct mem_region *a = &t->by_gpa[i - 1];
		const struct mem_region *b = &t->by_gpa[i];

		if (a->gpa + a->size - 1 >= b->gpa) {
			vh_err("mem: regions at gpa 0x%llx and 0x%llx overlap",
			       (unsigned long long)a->gpa,
			       (unsigned long long)b->gpa);
			return -EINVAL;
		}
		a = &t->by_gpa[t->by_uva[i - 1]];
		b = &t->by_gpa[t->by_uva[i]];
		if (a->uva + a->size - 1 >= b->uva) {
			vh_err("mem: regions at user address 0x%llx and 0x%llx "
			       "overlap",
			       (unsigned long long)a->uva,
			       (unsigned long long)b->uva);
			return -EINVAL;
		}
	}
	return 0;
}

int vh_mem_table_new(const struct vhost_user_mem_region *regions, int *fds,
		     unsigned n, struct vh_mem_table **out)
{
	struct vh_mem_table *t = NULL;
	unsigned mapped = 0;
	int err = 0;

	*out = NULL;
	if (n > VH_MEM_MAX_REGIONS)
		err = -E2BIG;
	else if (!(t = mem_table_alloc(n)))
		err = -ENOMEM;
	for (unsigned i = 0; i < n; i++) {
		if (!err) {
			err = region_map(&regions[i], fds[i], &t->by_gpa[i]);
			if (!err)
				mapped++;
		}
		close(fds[i]);
		fds[i] = -1;
	}
	if (!err)
		err = mem_table_finish(t);
	if (err) {
		if (t) {
			/* Mapped regions sit at the front until sorted; after
			 * a failed finish all n are mapped. */
			t->n = mapped;
			vh_mem_table_unref(t);
		}
		return err;
	}
	*out = t;
	return 0;
}

int vh_mem_table_add(const struct vh_mem_table *base,
		     const struct vhost_user_mem_region *r, int fd,
		     struct vh_mem_table **out)
{
	unsigned n = base ? base->n : 0;
	struct mem_region reg;
	struct vh_mem_table *t;
	int err;

	*out = NULL;
	if (n >= VH_MEM_MAX_REGIONS) {
		close(fd);
		vh_err("mem: ADD_MEM_REG: all %u slots in use",
		       VH_MEM_MAX_REGIONS);
		return -ENOSPC;
	}
	err = region_map(r, fd, &reg);
	close(fd);
	if (err)
		return err;
	t = mem_table_alloc(n + 1);
	if (!t) {
		map_unref(reg.map);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < n; i++) {
		t->by_gpa[i] = base->by_gpa[i];
		map_ref(t->by_gpa[i].map);
	}
	t->by_gpa[n] = reg;
	if (base && base->log)
		t->log = mem_log_ref(base->log);
	err = mem_table_finish(t);
	if (err) {
		vh_mem_table_unref(t);
		return err;
	}
	*out = t;
	return 0;
}

int vh_mem_table_remove(const struct vh_mem_table *base,
			const struct vhost_user_mem_region *r,
			struct vh_mem_table **out)
{
	unsigned n = base ? base->n : 0, k = n;
	struct vh_mem_table *t;

	*out = NULL;
	for (unsigned i = 0; i < n; i++) {
		const struct mem_region *x = &base->by_gpa[i];

		if (x->gpa == r->guest_phys_addr && x->size == r->memory_size &&
		    x->uva == r->userspace_addr) {
			k = i;
			break;
		}
	}
	if (k == n) {
		vh_err("mem: REM_MEM_REG: no region at gpa 0x%llx size 0x%llx",
		       (unsigned long long)r->guest_phys_addr,
		       (unsigned long long)r->memory_size);
		return -ENOENT;
	}
	t = mem_table_alloc(n - 1);
	if (!t)
		return -ENOMEM;
	for (unsigned i = 0, j = 0; i < n; i++) {
		if (i == k)
			continue;
		t->by_gpa[j] = base->by_gpa[i];
		map_ref(t->by_gpa[j].map);
		j++;
	}
	if (base->log)
		t->log = mem_log_ref(base->log);
	/* Still sorted and disjoint: only the index needs rebuilding. */
	mem_table_finish(t);
	*out = t;
	return 0;
}

int mem_table_with_log(const struct vh_mem_table *base, struct vh_mem_log *log,
		       struct vh_mem_table **out)
{
	struct vh_mem_table *t = mem_table_alloc(base->n);

	*out = NULL;
	if (!t) {
		vh_mem_log_unref(log);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < base->n; i++) {
		t->by_gpa[i] = base->by_gpa[i];
		map_ref(t->by_gpa[i].map);
		t->by_uva[i] = base->by_uva[i];
	}
	t->log = log;
	*out = t;
	return 0;
}

unsigned vh_mem_table_count(const struct vh_mem_table *t)
{
	return t->n;
}

int vh_mem_table_region(const struct vh_mem_table *t, unsigned i,
			struct vhost_user_mem_region *r, void **host)
{
	const struct mem_region *x;

	if (i >= t->n)
		return -ERANGE;
	x = &t->by_gpa[i];
	r->guest_phys_addr = x->gpa;
	r->memory_size = x->size;
	r->userspace_addr = x->uva;
	r->mmap_offset = x->mmap_offset;
	*host = x->host;
	return 0;
}

struct vh_mem_log *vh_mem_table_log(const struct vh_mem_table *t)
{
	return t->log;
}
