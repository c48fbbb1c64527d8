/* SPDX-License-Identifier: MIT */
/*
 * libvhost — guest memory: the table of regions a front-end shares.
 *
 * A table is built from SET_MEM_TABLE (all regions at once) or edited with
 * ADD_MEM_REG / REM_MEM_REG (CONFIGURE_MEM_SLOTS, up to 509 slots). Every
 * region is mmapped MAP_SHARED from the fd that came with it, and the fd is
 * closed at once: the table owns mappings, never fds.
 *
 * A table is immutable once built. Editing builds a new table that shares
 * the unchanged mappings (each mapping is reference counted), so a thread
 * still using the old table keeps valid memory; a mapping is unmapped when
 * the last table that holds it goes away.
 *
 * Threading contract (struct vh_mem, the "current table" holder):
 *  - Writers (the control thread handling SET_MEM_TABLE, ADD/REM_MEM_REG,
 *    SET_LOG_BASE) may call from any thread; they are serialised inside.
 *  - Readers (queue threads) take a reference with vh_mem_acquire() or, per
 *    batch, vh_mem_refresh(), which is one atomic load when nothing changed.
 *    Every host pointer obtained from a table stays valid while the reader
 *    holds that table, even after the table has been replaced.
 *  - A reader releases with vh_mem_table_unref(). Only then may the mappings
 *    of regions removed in the meantime go away.
 *
 * Translation is a binary search over regions sorted by guest-physical
 * address (and separately by front-end virtual address): O(log n), n <= 509.
 * Any byte outside every region is an error; nothing is ever accessed.
 */
#ifndef VHOST_MEM_H
#define VHOST_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "vhost/proto.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Most regions one table holds: VHOST_USER_MAX_MEM_SLOTS. */
#define VH_MEM_MAX_REGIONS VHOST_USER_MAX_MEM_SLOTS

struct vh_mem_table;
struct vh_mem_log;
struct vh_mem;

/* ------------------------------------------------------------------------ */
/* Tables                                                                   */
/* ------------------------------------------------------------------------ */

/**
 * Build a table from @n regions (SET_MEM_TABLE; n may be 0 for an empty
 * table, up to VH_MEM_MAX_REGIONS). Takes ownership of the @n fds in @fds:
 * every one is closed before return, mapped or not, and set to -1.
 * Errors: -EINVAL (zero size, address or offset overflow, overlap in
 * guest-physical or front-end virtual space, fd shorter than offset+size),
 * -E2BIG (too many regions), -ENOMEM, or mmap's errno. On success *@out
 * holds one reference.
 */
int vh_mem_table_new(const struct vhost_user_mem_region *regions, int *fds,
		     unsigned n, struct vh_mem_table **out);

/**
 * New table = @base (NULL: empty) plus region @r mapped from @fd
 * (ADD_MEM_REG). Takes ownership of @fd (closed before return). @base is not
 * changed; the new table shares its mappings. Errors as vh_mem_table_new,
 * -ENOSPC when @base already has VH_MEM_MAX_REGIONS regions.
 */
int vh_mem_table_add(const struct vh_mem_table *base,
		     const struct vhost_user_mem_region *r, int fd,
		     struct vh_mem_table **out);

/**
 * New table = @base minus the region whose guest_phys_addr, memory_size and
 * userspace_addr equal @r's (REM_MEM_REG; mmap_offset is not compared).
 * Errors: -ENOENT when no region matches, -ENOMEM.
 */
int vh_mem_table_remove(const struct vh_mem_table *base,
			const struct vhost_user_mem_region *r,
			struct vh_mem_table **out);

/** Take one more reference; returns @t. */
struct vh_mem_table *vh_mem_table_ref(struct vh_mem_table *t);

/** Drop one reference; the last one frees the table (NULL is a no-op). */
void vh_mem_table_unref(struct vh_mem_table *t);

/** Number of regions. */
unsigned vh_mem_table_count(const struct vh_mem_table *t);

/**
 * Region @i in guest-physical order: its description in *@r and its host
 * address (the byte at guest_phys_addr) in *@host. -ERANGE if i >= count.
 */
int vh_mem_table_region(const struct vh_mem_table *t, unsigned i,
			struct vhost_user_mem_region *r, void **host);

/** Dirty log attached to this table (vh_mem_set_log), or NULL. */
struct vh_mem_log *vh_mem_table_log(const struct vh_mem_table *t);

/* ------------------------------------------------------------------------ */
/* Translation. None of these ever touches guest memory.                    */
/* ------------------------------------------------------------------------ */

/**
 * Host pointer for guest-physical range [@gpa, @gpa+@len) when it lies in a
 * single region, else NULL (outside memory, crossing a region boundary, or
 * wrapping). @len 0 checks the single byte at @gpa.
 */
void *vh_mem_gpa_to_host(const struct vh_mem_table *t, uint64_t gpa,
			 uint64_t len);

/**
 * Host pointer for the contiguous prefix of [@gpa, @gpa+@len): the part that
 * lies in the region holding @gpa; its length (<= @len) in *@plen. NULL
 * when @gpa is outside every region.
 */
void *vh_mem_gpa_to_host_part(const struct vh_mem_table *t, uint64_t gpa,
			      uint64_t len, uint64_t *plen);

/** As vh_mem_gpa_to_host for a front-end virtual (user) address. */
void *vh_mem_uva_to_host(const struct vh_mem_table *t, uint64_t uva,
			 uint64_t len);

/**
 * Guest-physical address of front-end virtual range [@uva, @uva+@len) lying
 * in one region. -EFAULT otherwise.
 */
int vh_mem_uva_to_gpa(const struct vh_mem_table *t, uint64_t uva, uint64_t len,
		      uint64_t *gpa);

/**
 * Split guest-physical range [@gpa, @gpa+@len) into at most @max iovecs,
 * one per region crossed (adjacent regions are not merged). The count goes
 * to *@n. Errors: -EFAULT if any byte is outside every region (or the range
 * wraps), -ENOBUFS if more than @max iovecs would be needed. @len 0 gives
 * *@n = 0. Nothing is written to @iov on error beyond the first @max.
 */
int vh_mem_gpa_to_iov(const struct vh_mem_table *t, uint64_t gpa, uint64_t len,
		      struct iovec *iov, unsigned max, unsigned *n);

/** Copy @len bytes of guest memory at @gpa into @buf; -EFAULT if unmapped. */
int vh_mem_read(const struct vh_mem_table *t, uint64_t gpa, void *buf,
		size_t len);

/**
 * Copy @buf into guest memory at @gpa; -EFAULT if unmapped (nothing is
 * written then). Marks the dirty log of @t, if any.
 */
int vh_mem_write(const struct vh_mem_table *t, uint64_t gpa, const void *buf,
		 size_t len);

/* ------------------------------------------------------------------------ */
/* Dirty-page log (SET_LOG_BASE with LOG_SHMFD)                             */
/* ------------------------------------------------------------------------ */

/**
 * Map a dirty log of @size bytes at @offset in @fd (VhostUserLog). Takes
 * ownership of @fd: it is closed before return. Errors: -EINVAL (size 0,
 * overflow, fd too short), -ENOMEM, mmap's errno. *@out holds one reference.
 */
int vh_mem_log_new(int fd, uint64_t size, uint64_t offset,
		   struct vh_mem_log **out);

/** Drop one reference; the last one unmaps the log (NULL is a no-op). */
void vh_mem_log_unref(struct vh_mem_log *log);

/** Size of the log in bytes; it covers size * 8 pages of 4096 bytes. */
uint64_t vh_mem_log_size(const struct vh_mem_log *log);

/**
 * Mark every page of [@gpa, @gpa+@len) dirty, as vhost-user.rst "Migration"
 * describes: page = addr / 4096; log[page / 8] |= 1 << (page % 8), with an
 * atomic OR that also orders the caller's earlier writes to guest memory
 * before the mark (release). @len 0 marks nothing. -ERANGE (nothing marked)
 * if any page lies beyond the log.
 */
int vh_mem_log_mark(struct vh_mem_log *log, uint64_t gpa, uint64_t len);

/** Whether the page holding @gpa is marked (for tests and tools). */
bool vh_mem_log_test(const struct vh_mem_log *log, uint64_t gpa);

/* ------------------------------------------------------------------------ */
/* The current-table holder                                                 */
/* ------------------------------------------------------------------------ */

/** New holder with an empty table. -ENOMEM. */
int vh_mem_new(struct vh_mem **out);

/**
 * Free the holder and drop its reference on the current table. Readers may
 * keep their own references; they stay valid.
 */
void vh_mem_free(struct vh_mem *m);

/** A reference on the current table (never NULL). Release with unref. */
struct vh_mem_table *vh_mem_acquire(struct vh_mem *m);

/**
 * Per-batch refresh: returns @held when it is still current (one atomic
 * load), else drops @held and returns a reference on the current table.
 * @held may be NULL.
 */
struct vh_mem_table *vh_mem_refresh(struct vh_mem *m,
				    struct vh_mem_table *held);

/** Whether @t is the current table (for servers that wait for readers). */
bool vh_mem_is_current(struct vh_mem *m, const struct vh_mem_table *t);

/**
 * Publish @t as the current table: takes over the caller's reference. The
 * current log stays attached if @t has none.
 */
void vh_mem_publish(struct vh_mem *m, struct vh_mem_table *t);

/** Build from SET_MEM_TABLE and publish; fds as in vh_mem_table_new. */
int vh_mem_set_table(struct vh_mem *m, const struct vhost_user_mem_region *r,
		     int *fds, unsigned n);

/** Add one region (ADD_MEM_REG) and publish; takes ownership of @fd. */
int vh_mem_add_region(struct vh_mem *m, const struct vhost_user_mem_region *r,
		      int fd);

/** Remove one region (REM_MEM_REG) and publish. -ENOENT if none matches. */
int vh_mem_remove_region(struct vh_mem *m,
			 const struct vhost_user_mem_region *r);

/**
 * Attach @log (takes over the caller's reference; NULL detaches) and
 * publish: tables acquired afterwards carry it. -ENOMEM (the log reference
 * is dropped then).
 */
int vh_mem_set_log(struct vh_mem *m, struct vh_mem_log *log);

/** Number of tables published so far (starts at 1 for the empty table). */
uint64_t vh_mem_generation(struct vh_mem *m);

#ifdef __cplusplus
}
#endif

#endif /* VHOST_MEM_H */
