/* SPDX-License-Identifier: MIT */
/*
 * vh_backend_ops for guest memory, the dirty log and the in-flight region.
 *
 * Memory tables are published copy-on-write (vh_mem); before the reply goes
 * out every worker is made to pick the new table up (srv_sync_workers), so
 * a request the driver posts after the reply — e.g. into a region just
 * added — is never translated through the previous table.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "server_int.h"

void srv_sync_workers(struct vh_server *srv)
{
	for (unsigned i = 0; i < srv->max_workers; i++)
		if (srv->workers[i])
			srv_worker_sync(srv->workers[i]);
}

int srv_op_set_mem_table(void *opaque,
			 const struct vhost_user_mem_region *regions,
			 unsigned n, int *fds)
{
	struct vh_server *srv = opaque;
	/* Takes every fd (closed after mapping, set to -1). */
	int err = vh_mem_set_table(srv->mem, regions, fds, n);

	if (err) {
		vh_err("%s: VHOST_USER_SET_MEM_TABLE: %u regions refused: %s",
		       srv->name, n, vh_strerror(err));
		return err;
	}
	srv_sync_workers(srv);
	return 0;
}

int srv_op_add_mem_reg(void *opaque, const struct vhost_user_mem_region *r,
		       int *fd)
{
	struct vh_server *srv = opaque;
	int f = *fd, err;

	*fd = -1; /* vh_mem_add_region takes it, also on failure */
	err = vh_mem_add_region(srv->mem, r, f);
	if (err) {
		vh_err("%s: VHOST_USER_ADD_MEM_REG: gpa 0x%llx size 0x%llx "
		       "refused: %s",
		       srv->name, (unsigned long long)r->guest_phys_addr,
		       (unsigned long long)r->memory_size, vh_strerror(err));
		return err;
	}
	srv_sync_workers(srv);
	return 0;
}

int srv_op_rem_mem_reg(void *opaque, const struct vhost_user_mem_region *r)
{
	struct vh_server *srv = opaque;
	int err = vh_mem_remove_region(srv->mem, r);

	if (err) {
		vh_err("%s: VHOST_USER_REM_MEM_REG: gpa 0x%llx size 0x%llx: "
		       "%s",
		       srv->name, (unsigned long long)r->guest_phys_addr,
		       (unsigned long long)r->memory_size, vh_strerror(err));
		return err;
	}
	/* Requests still in flight keep their table (and its mapping)
	 * until they complete; new ones use the new table. */
	srv_sync_workers(srv);
	return 0;
}

int srv_op_set_log_base(void *opaque, const struct vhost_user_log *log, int *fd)
{
	struct vh_server *srv = opaque;
	struct vh_mem_log *l;
	int f = *fd, err;

	*fd = -1; /* vh_mem_log_new takes it */
	err = vh_mem_log_new(f, log->mmap_size, log->mmap_offset, &l);
	if (!err)
		err = vh_mem_set_log(srv->mem, l);
	if (err) {
		vh_err("%s: VHOST_USER_SET_LOG_BASE: log of %llu bytes "
		       "refused: %s",
		       srv->name, (unsigned long long)log->mmap_size,
		       vh_strerror(err));
		return err;
	}
	/* Writes after the reply must be logged: workers switch now. */
	srv_sync_workers(srv);
	return 0;
}

int srv_op_set_log_fd(void *opaque, int *fd)
{
	struct vh_server *srv = opaque;

	/* Kept for the session; the log lives in shared memory (LOG_SHMFD)
	 * and the front-end reads it when it wants. */
	if (srv->log_fd >= 0)
		close(srv->log_fd);
	srv->log_fd = *fd;
	*fd = -1;
	return 0;
}

/* ---- in-flight region (vhost-user.rst "Inflight I/O tracking") --------- */

static void inflight_unmap(struct vh_server *srv)
{
	if (srv->inflight)
		munmap(srv->inflight, srv->inflight_size);
	srv->inflight = NULL;
	srv->inflight_size = 0;
	srv->inflight_nq = 0;
	srv->inflight_stride = 0;
}

static bool any_ring_armed(const struct vh_server *srv)
{
	for (uint32_t i = 0; i < srv->dev.num_queues; i++)
		if (srv->queues[i] && srv->queues[i]->armed)
			return true;
	return false;
}

int srv_op_get_inflight_fd(void *opaque, const struct vhost_user_inflight *req,
			   struct vhost_user_inflight *rep, int *fd_out)
{
	struct vh_server *srv = opaque;
	bool packed;
	size_t stride, size;
	int fd;

	if (req->num_queues == 0 || req->num_queues > srv->dev.num_queues ||
	    req->queue_size == 0 || req->queue_size > VH_VIRTQ_MAX_SIZE) {
		vh_err("%s: VHOST_USER_GET_INFLIGHT_FD: %u queues of %u "
		       "entries refused",
		       srv->name, req->num_queues, req->queue_size);
		return -EINVAL;
	}
	/* Packed entries are larger. Before SET_FEATURES (QEMU asks
	 * early) the layout is unknown: size for packed, which fits both. */
	packed = !srv->features ||
		 vh_virtio_has(srv->features, VH_VIRTIO_F_RING_PACKED);
	stride = vh_virtq_inflight_size(req->queue_size, packed);
	size = stride * req->num_queues;
	fd = memfd_create("vhost-inflight", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* A new region is zeroes: version 0, "an uninitialized buffer". */
	if (ftruncate(fd, (off_t)size)) {
		int err = -errno;

		close(fd);
		return err;
	}
	rep->mmap_size = size;
	rep->mmap_offset = 0;
	rep->num_queues = req->num_queues;
	rep->queue_size = req->queue_size;
	*fd_out = fd;
	return 0;
}

int srv_op_set_inflight_fd(void *opaque, const struct vhost_user_inflight *in,
			   int *fd)
{
	struct vh_server *srv = opaque;
	void *p;

	if (any_ring_armed(srv)) {
		vh_err("%s: VHOST_USER_SET_INFLIGHT_FD: rings are running",
		       srv->name);
		return -EBUSY;
	}
	if (in->num_queues == 0 || in->mmap_size < in->num_queues ||
	    in->mmap_size > SIZE_MAX) {
		vh_err("%s: VHOST_USER_SET_INFLIGHT_FD: %llu bytes for %u "
		       "queues refused",
		       srv->name, (unsigned long long)in->mmap_size,
		       in->num_queues);
		return -EINVAL;
	}
	p = mmap(NULL, (size_t)in->mmap_size, PROT_READ | PROT_WRITE,
		 MAP_SHARED, *fd, (off_t)in->mmap_offset);
	if (p == MAP_FAILED) {
		int err = -errno;

		vh_err("%s: VHOST_USER_SET_INFLIGHT_FD: mmap: %s", srv->name,
		       vh_strerror(err));
		return err;
	}
	/* The mapping is what we keep; the fd goes back to the dispatcher,
	 * which closes it. */
	inflight_unmap(srv);
	srv->inflight = p;
	srv->inflight_size = (size_t)in->mmap_size;
	srv->inflight_nq = in->num_queues;
	/* Each ring's region: the front-end gives the total only. Rings
	 * check at start that theirs is large enough. */
	srv->inflight_stride = (size_t)in->mmap_size / in->num_queues;
	return 0;
}

void srv_session_mem_release(struct vh_server *srv)
{
	/* Empty table, no log: workers drop their references, unmapping
	 * the guest's memory. */
	if (vh_mem_set_table(srv->mem, NULL, NULL, 0))
		vh_warn("%s: cannot publish an empty memory table", srv->name);
	if (vh_mem_set_log(srv->mem, NULL))
		vh_warn("%s: cannot detach the dirty log", srv->name);
	srv_sync_workers(srv);
	inflight_unmap(srv);
	if (srv->log_fd >= 0)
		close(srv->log_fd);
	srv->log_fd = -1;
}
