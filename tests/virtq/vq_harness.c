/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "virtq/vq_harness.h"

int h_log_count;

static void quiet(void *opaque, enum vh_log_level level, const char *msg)
{
	(void)opaque;
	(void)level;
	(void)msg;
	h_log_count++;
}

void h_quiet_logs(void)
{
	vh_log_set_handler(quiet, NULL);
}

uint64_t h_gpa(const struct h *h, uint64_t off)
{
	return h->gpa_base + off;
}

uint64_t h_uva(const struct h *h, uint64_t off)
{
	return (uint64_t)(uintptr_t)h->mem + off;
}

uint64_t h_buf(const struct h *h, unsigned k)
{
	return h_gpa(h, H_DATA_OFF + (uint64_t)k * H_BUF_LEN);
}

void h_new_device(struct h *h, unsigned flags)
{
	struct vhost_user_vring_addr a = {
	    .desc_user_addr = h_uva(h, H_DESC_OFF),
	    .avail_user_addr = h_uva(h, H_DRIVER_OFF),
	    .used_user_addr = h_uva(h, H_DEVICE_OFF),
	    .log_guest_addr = h_gpa(h, H_DEVICE_OFF),
	};
	struct vh_virtq_config cfg = {
	    .size = h->size,
	    .features = h->features,
	    .flags = flags,
	    .packed_base = {0, true, 0, true},
	};

	assert_int_equal(vh_virtq_map_rings(h->t, &a, h->size, h->packed, &cfg),
			 0);
	assert_int_equal(vh_virtq_new(&cfg, &h->vq), 0);
}

void h_init(struct h *h, uint16_t size, uint64_t features, unsigned flags)
{
	h_init_at(h, size, features, flags, 0);
}

void h_init_at(struct h *h, uint16_t size, uint64_t features, unsigned flags,
	       uint64_t gpa_base)
{
	struct vhost_user_mem_region r;
	int fd;

	memset(h, 0, sizeof(*h));
	h->size = size;
	h->features = features;
	h->packed = vh_virtio_has(features, VH_VIRTIO_F_RING_PACKED);
	h->avail_wrap = true;
	h->fd = memfd_create("vq-test", MFD_CLOEXEC);
	assert_true(h->fd >= 0);
	assert_int_equal(ftruncate(h->fd, H_MEM_LEN), 0);
	h->mem =
	    mmap(NULL, H_MEM_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, h->fd, 0);
	assert_true(h->mem != MAP_FAILED);
	h->gpa_base = gpa_base ? gpa_base : (uint64_t)(uintptr_t)h->mem;
	r.guest_phys_addr = h_gpa(h, 0);
	r.userspace_addr = h_uva(h, 0);
	r.memory_size = H_MEM_LEN;
	r.mmap_offset = 0;
	fd = dup(h->fd);
	assert_int_equal(vh_mem_table_new(&r, &fd, 1, &h->t), 0);

	struct vh_drv_config dc = {
	    .size = size,
	    .packed = h->packed,
	    .event_idx = vh_virtio_has(features, VH_VIRTIO_RING_F_EVENT_IDX),
	    .indirect = true,
	    .mem = h->mem,
	    .mem_gpa = h_gpa(h, 0),
	    .mem_len = H_MEM_LEN,
	    .desc_off = H_DESC_OFF,
	    .driver_off = H_DRIVER_OFF,
	    .device_off = H_DEVICE_OFF,
	    .indirect_off = H_IND_OFF,
	    .indirect_max = H_IND_MAX,
	};
	assert_int_equal(vh_drv_queue_new(&dc, &h->drv), 0);
	h_new_device(h, flags);
	h->e = vh_virtq_elem_new(16);
	assert_non_null(h->e);
}

void h_fini(struct h *h)
{
	vh_virtq_elem_free(h->e);
	vh_virtq_free(h->vq);
	vh_drv_queue_free(h->drv);
	vh_mem_table_unref(h->t);
	munmap(h->mem, H_MEM_LEN);
	close(h->fd);
}

void h_set_desc(struct h *h, unsigned i, uint64_t addr, uint32_t len,
		uint16_t flags, uint16_t next)
{
	struct vh_vring_desc d = {addr, len, flags, next};

	memcpy(h->mem + H_DESC_OFF + 16 * i, &d, sizeof(d));
}

uint64_t h_ind_gpa(const struct h *h, unsigned table)
{
	return h_gpa(h, H_IND_OFF + (uint64_t)table * 0x400);
}

void h_set_ind(struct h *h, unsigned table, unsigned i, uint64_t addr,
	       uint32_t len, uint16_t flags, uint16_t next)
{
	struct vh_vring_desc d = {addr, len, flags, next};

	memcpy(h->mem + H_IND_OFF + table * 0x400 + 16 * i, &d, sizeof(d));
}

void h_avail_push(struct h *h, uint16_t head)
{
	struct vh_vring_avail *av = (void *)(h->mem + H_DRIVER_OFF);

	av->ring[h->avail_idx % h->size] = head;
	h->avail_idx++;
	__atomic_store_n(&av->idx, h->avail_idx, __ATOMIC_RELEASE);
}

void h_avail_set_idx(struct h *h, uint16_t idx)
{
	struct vh_vring_avail *av = (void *)(h->mem + H_DRIVER_OFF);

	__atomic_store_n(&av->idx, idx, __ATOMIC_RELEASE);
}

void h_pdesc(struct h *h, uint64_t addr, uint32_t len, uint16_t id,
	     uint16_t flags)
{
	struct vh_vring_packed_desc *ring = (void *)(h->mem + H_DESC_OFF);
	struct vh_vring_packed_desc *d = &ring[h->next_avail];

	d->addr = addr;
	d->len = len;
	d->id = id;
	flags |= h->avail_wrap ? VIRTQ_DESC_F_AVAIL : VIRTQ_DESC_F_USED;
	__atomic_store_n(&d->flags, flags, __ATOMIC_RELEASE);
	if (++h->next_avail == h->size) {
		h->next_avail = 0;
		h->avail_wrap = !h->avail_wrap;
	}
}

void h_expect_broken(struct h *h, enum vh_virtq_error why)
{
	int logs = h_log_count;

	assert_int_equal(vh_virtq_pop(h->vq, h->t, h->e), -EIO);
	assert_true(vh_virtq_is_broken(h->vq));
	assert_int_equal(vh_virtq_error(h->vq), why);
	/* Sticky, and logged once. */
	assert_int_equal(vh_virtq_pop(h->vq, h->t, h->e), -EIO);
	assert_int_equal(vh_virtq_push(h->vq, h->t, h->e, 0), -EIO);
	assert_false(vh_virtq_has_avail(h->vq));
	assert_int_equal(h_log_count, logs + 1);
}

void h_add_adjacent_regions(struct h *h, uint64_t gpa)
{
	struct vhost_user_mem_region r[2] = {{gpa, 4096, gpa, 0},
					     {gpa + 4096, 4096, gpa + 4096, 0}};
	struct vh_mem_table *t2, *t3;
	int fd = memfd_create("a", MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 4096), 0);
	assert_int_equal(vh_mem_table_add(h->t, &r[0], fd, &t2), 0);
	fd = memfd_create("b", MFD_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 4096), 0);
	assert_int_equal(vh_mem_table_add(t2, &r[1], fd, &t3), 0);
	vh_mem_table_unref(t2);
	vh_mem_table_unref(h->t);
	h->t = t3;
}
