/* SPDX-License-Identifier: MIT */
/*
 * Handlers for memory: the memory table, single regions, the dirty log,
 * the IOTLB, post-copy and in-flight tracking. Payloads were checked by
 * check.c (validators, fd counts) before any of these runs.
 */
#include <errno.h>
#include <string.h>

#include "backend_int.h"

int vh_h_set_mem_table(struct vh_backend *b, struct vhost_user_msg *m)
{
	/* fds[i] belongs to regions[i]; check.c proved nfds == nregions. */
	return VH_CALL(b, set_mem_table, m->payload.mem_table.regions,
		       m->payload.mem_table.nregions, m->fds);
}

int vh_h_add_mem_reg(struct vh_backend *b, struct vhost_user_msg *m)
{
	return VH_CALL(b, add_mem_reg, &m->payload.mem_reg.region, &m->fds[0]);
}

int vh_h_rem_mem_reg(struct vh_backend *b, struct vhost_user_msg *m)
{
	/* "If a file descriptor is passed, the back-end MUST close it
	 * without using it otherwise": the dispatcher does. */
	return VH_CALL(b, rem_mem_reg, &m->payload.mem_reg.region);
}

int vh_h_set_log_base(struct vh_backend *b, struct vhost_user_msg *m)
{
	int nofd = -1;

	return VH_CALL(b, set_log_base, &m->payload.log,
		       m->nfds ? &m->fds[0] : &nofd);
}

int vh_h_set_log_fd(struct vh_backend *b, struct vhost_user_msg *m)
{
	return VH_CALL(b, set_log_fd, &m->fds[0]);
}

int vh_h_iotlb_msg(struct vh_backend *b, struct vhost_user_msg *m)
{
	return VH_CALL(b, iotlb_msg, &m->payload.iotlb);
}

int vh_h_postcopy_advise(struct vh_backend *b, struct vhost_user_msg *m)
{
	int ufd = -1;
	int ret;

	(void)m;
	ret = VH_CALL(b, postcopy_advise, &ufd);
	/* The reply is the userfaultfd alone (empty payload). Without an fd
	 * the front-end sees the failure: that is the error form. */
	b->rep.hdr.size = 0;
	b->rep_ready = true;
	if (ret == 0 && ufd >= 0)
		vh_rep_fd(b, ufd);
	else
		vh_close_fd(ufd);
	return ret;
}

int vh_h_postcopy_listen(struct vh_backend *b, struct vhost_user_msg *m)
{
	(void)m;
	return VH_CALL0(b, postcopy_listen);
}

int vh_h_postcopy_end(struct vh_backend *b, struct vhost_user_msg *m)
{
	(void)m;
	return VH_CALL0(b, postcopy_end);
}

int vh_h_get_inflight_fd(struct vh_backend *b, struct vhost_user_msg *m)
{
	struct vhost_user_inflight *rep = &b->rep.payload.inflight;
	int fd = -1;
	int ret;

	memset(rep, 0, sizeof(*rep));
	ret = VH_CALL(b, get_inflight_fd, &m->payload.inflight, rep, &fd);
	b->rep.hdr.size = sizeof(*rep);
	b->rep_ready = true;
	if (ret == 0 && fd >= 0 && rep->mmap_size) {
		vh_rep_fd(b, fd);
		return 0;
	}
	/* Error form: mmap_size 0 and no fd, which QEMU's
	 * vhost_user_get_inflight_fd takes as "no area". */
	vh_close_fd(fd);
	memset(rep, 0, sizeof(*rep));
	return ret ? ret : -EBADF;
}

int vh_h_set_inflight_fd(struct vh_backend *b, struct vhost_user_msg *m)
{
	return VH_CALL(b, set_inflight_fd, &m->payload.inflight, &m->fds[0]);
}
