/* SPDX-License-Identifier: MIT */
/*
 * Validation of the memory payloads (include/vhost/proto.h): memory region,
 * memory table (SET_MEM_TABLE), log description (SET_LOG_BASE) and the
 * MMAP request (BACKEND_SHMEM_MAP/UNMAP). Pure functions: no I/O, reasons
 * at debug level only, the caller names the request in its error line.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "proto_priv.h"
#include "vhost/log.h"
#include "vhost/proto.h"

int vh_proto_validate_region(const struct vhost_user_mem_region *r)
{
	if (!r)
		return -EINVAL;
	if (r->memory_size == 0) {
		vh_dbg("memory region at gpa 0x%llx has size 0",
		       (unsigned long long)r->guest_phys_addr);
		return -EINVAL;
	}
	/* vhost-user.rst "Memory region description": three address spaces
	 * (guest-physical, front-end user, offset in the fd), each must hold
	 * the whole region. */
	if (vh_range_wraps(r->guest_phys_addr, r->memory_size) ||
	    vh_range_wraps(r->userspace_addr, r->memory_size) ||
	    vh_range_wraps(r->mmap_offset, r->memory_size)) {
		vh_dbg("memory region gpa 0x%llx uaddr 0x%llx offset 0x%llx "
		       "size 0x%llx wraps around",
		       (unsigned long long)r->guest_phys_addr,
		       (unsigned long long)r->userspace_addr,
		       (unsigned long long)r->mmap_offset,
		       (unsigned long long)r->memory_size);
		return -EOVERFLOW;
	}
	return 0;
}

int vh_proto_validate_mem_table(const struct vhost_user_mem_table *t,
				uint32_t payload_size)
{
	uint32_t n;

	if (!t)
		return -EINVAL;
	n = t->nregions;
	/* "Multiple Memory regions description": num regions, padding, then
	 * the regions; QEMU sends at most VHOST_MEMORY_BASELINE_NREGIONS. */
	if (n == 0 || n > VHOST_USER_MEM_TABLE_MAX_REGIONS) {
		vh_dbg("memory table has %u regions (1..%u)", n,
		       VHOST_USER_MEM_TABLE_MAX_REGIONS);
		return -EINVAL;
	}
	if (payload_size != VHOST_USER_MEM_TABLE_SIZE(n)) {
		vh_dbg("memory table of %u regions in %u bytes (want %u)", n,
		       payload_size, VHOST_USER_MEM_TABLE_SIZE(n));
		return -EMSGSIZE;
	}
	for (uint32_t i = 0; i < n; i++) {
		int rc = vh_proto_validate_region(&t->regions[i]);

		if (rc < 0)
			return rc;
	}
	/* Ends are representable now, so the overlap test cannot wrap. */
	for (uint32_t i = 0; i < n; i++) {
		const struct vhost_user_mem_region *a = &t->regions[i];

		for (uint32_t j = i + 1; j < n; j++) {
			const struct vhost_user_mem_region *b = &t->regions[j];

			if (vh_ranges_overlap(
				a->guest_phys_addr, a->memory_size,
				b->guest_phys_addr, b->memory_size)) {
				vh_dbg("memory regions %u and %u overlap in "
				       "guest-physical space",
				       i, j);
				return -EINVAL;
			}
			if (vh_ranges_overlap(a->userspace_addr, a->memory_size,
					      b->userspace_addr,
					      b->memory_size)) {
				vh_dbg("memory regions %u and %u overlap in "
				       "user address space",
				       i, j);
				return -EINVAL;
			}
		}
	}
	return 0;
}

int vh_proto_validate_log(const struct vhost_user_log *l)
{
	if (!l)
		return -EINVAL;
	if (l->mmap_size == 0) {
		vh_dbg("log description has size 0");
		return -EINVAL;
	}
	if (vh_range_wraps(l->mmap_offset, l->mmap_size)) {
		vh_dbg("log offset 0x%llx + size 0x%llx wraps around",
		       (unsigned long long)l->mmap_offset,
		       (unsigned long long)l->mmap_size);
		return -EOVERFLOW;
	}
	return 0;
}

int vh_proto_validate_mmap(const struct vhost_user_mmap *m)
{
	if (!m)
		return -EINVAL;
	if (m->len == 0) {
		vh_dbg("mmap request of length 0");
		return -EINVAL;
	}
	if (m->flags & ~VHOST_USER_FLAG_MAP_RW) {
		vh_dbg("mmap request has unknown flags 0x%llx",
		       (unsigned long long)m->flags);
		return -EINVAL;
	}
	if (vh_range_wraps(m->fd_offset, m->len) ||
	    vh_range_wraps(m->shm_offset, m->len)) {
		vh_dbg("mmap request fd offset 0x%llx / shm offset 0x%llx + "
		       "len 0x%llx wraps around",
		       (unsigned long long)m->fd_offset,
		       (unsigned long long)m->shm_offset,
		       (unsigned long long)m->len);
		return -EOVERFLOW;
	}
	return 0;
}
