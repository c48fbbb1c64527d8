/* SPDX-License-Identifier: MIT */
/*
 * Front-end requests about memory, dirty logging and vrings.
 */
#include <errno.h>
#include <string.h>

#include "fe_internal.h"

/* ------------------------------------------------------------------------ */
/* Memory                                                                   */
/* ------------------------------------------------------------------------ */

static bool postcopy_listening(struct vh_frontend *f)
{
	bool v;

	pthread_mutex_lock(&f->lock);
	v = f->postcopy_listening;
	pthread_mutex_unlock(&f->lock);
	return v;
}

int vh_frontend_set_mem_table(struct vh_frontend *f,
			      const struct vhost_user_mem_region *regions,
			      unsigned n, const int *fds)
{
	const uint32_t code = VHOST_USER_SET_MEM_TABLE;
	struct vhost_user_msg req;
	struct vhost_user_mem_table t;
	uint32_t size;
	unsigned i;

	if (n == 0 || n > VHOST_USER_MEM_TABLE_MAX_REGIONS || !regions || !fds)
		return fe_refuse(f, code, -EINVAL, "needs 1..8 regions");
	if (postcopy_listening(f))
		return fe_refuse(f, code, -EOPNOTSUPP,
				 "post-copy memory table exchange is not "
				 "implemented");
	size = VHOST_USER_MEM_TABLE_SIZE(n);
	memset(&t, 0, sizeof(t));
	t.nregions = n;
	memcpy(t.regions, regions, n * sizeof(regions[0]));
	if (vh_proto_validate_mem_table(&t, size) < 0)
		return fe_refuse(f, code, -EINVAL, "invalid memory table");
	fe_msg_init(&req, code, size);
	memcpy(req.payload.raw, &t, size);
	for (i = 0; i < n; i++) {
		if (fds[i] < 0)
			return fe_refuse(f, code, -EBADF,
					 "every region needs an fd");
		req.fds[i] = fds[i];
	}
	req.nfds = n;
	return fe_call(f, &req, 0, NULL);
}

static int mem_reg(struct vh_frontend *f, uint32_t code,
		   const struct vhost_user_mem_region *r, int fd)
{
	struct vhost_user_msg req;
	struct vhost_user_mem_reg reg;

	if (!r || vh_proto_validate_region(r) < 0)
		return fe_refuse(f, code, -EINVAL, "invalid region");
	if (postcopy_listening(f))
		return fe_refuse(f, code, -EOPNOTSUPP,
				 "post-copy memory region exchange is not "
				 "implemented");
	memset(&reg, 0, sizeof(reg));
	reg.region = *r;
	fe_msg_init(&req, code, sizeof(reg));
	memcpy(req.payload.raw, &reg, sizeof(reg));
	if (fd >= 0) {
		req.fds[0] = fd;
		req.nfds = 1;
	}
	return fe_call(f, &req, 0, NULL);
}

int vh_frontend_add_mem_reg(struct vh_frontend *f,
			    const struct vhost_user_mem_region *r, int fd)
{
	if (fd < 0)
		return fe_refuse(f, VHOST_USER_ADD_MEM_REG, -EBADF,
				 "the region needs an fd");
	return mem_reg(f, VHOST_USER_ADD_MEM_REG, r, fd);
}

int vh_frontend_rem_mem_reg(struct vh_frontend *f,
			    const struct vhost_user_mem_region *r)
{
	/* "No file descriptors SHOULD be passed" (REM_MEM_REG). */
	return mem_reg(f, VHOST_USER_REM_MEM_REG, r, -1);
}

/* ------------------------------------------------------------------------ */
/* Dirty logging                                                            */
/* ------------------------------------------------------------------------ */

int vh_frontend_set_log_base(struct vh_frontend *f,
			     const struct vhost_user_log *log, int fd)
{
	const uint32_t code = VHOST_USER_SET_LOG_BASE;
	struct vhost_user_msg req, rep;

	/* Without LOG_SHMFD the back-end has no way to reach the log. */
	if (!fe_has_pf(f, VHOST_USER_PROTOCOL_F_LOG_SHMFD))
		return fe_refuse(f, code, -EOPNOTSUPP,
				 "protocol feature LOG_SHMFD not negotiated");
	if (!log || vh_proto_validate_log(log) < 0)
		return fe_refuse(f, code, -EINVAL, "invalid log description");
	if (fd < 0)
		return fe_refuse(f, code, -EBADF, "the log needs an fd");
	fe_msg_init(&req, code, sizeof(*log));
	memcpy(req.payload.raw, log, sizeof(*log));
	req.fds[0] = fd;
	req.nfds = 1;
	/* With LOG_SHMFD a u64 reply is owed (vhost-user.rst
	 * "Communication"); its value has no defined meaning. */
	return fe_call(f, &req, 0, &rep);
}

int vh_frontend_set_log_fd(struct vh_frontend *f, int fd)
{
	struct vhost_user_msg req;

	if (fd < 0)
		return fe_refuse(f, VHOST_USER_SET_LOG_FD, -EBADF,
				 "needs an eventfd");
	fe_msg_init(&req, VHOST_USER_SET_LOG_FD, 0);
	req.fds[0] = fd;
	req.nfds = 1;
	return fe_call(f, &req, 0, NULL);
}

/* ------------------------------------------------------------------------ */
/* Vrings                                                                   */
/* ------------------------------------------------------------------------ */

static int send_state(struct vh_frontend *f, uint32_t code, uint32_t index,
		      uint32_t num)
{
	struct vhost_user_msg req;
	struct vhost_user_vring_state st = {.index = index, .num = num};

	if (index >= VHOST_USER_MAX_VRINGS)
		return fe_refuse(f, code, -ERANGE, "ring index out of range");
	fe_msg_init(&req, code, sizeof(st));
	memcpy(req.payload.raw, &st, sizeof(st));
	return fe_call(f, &req, 0, NULL);
}

int vh_frontend_set_vring_num(struct vh_frontend *f, uint32_t index,
			      uint32_t num)
{
	return send_state(f, VHOST_USER_SET_VRING_NUM, index, num);
}

int vh_frontend_set_vring_base(struct vh_frontend *f, uint32_t index,
			       uint32_t base)
{
	return send_state(f, VHOST_USER_SET_VRING_BASE, index, base);
}

int vh_frontend_set_vring_addr(struct vh_frontend *f,
			       const struct vhost_user_vring_addr *addr)
{
	const uint32_t code = VHOST_USER_SET_VRING_ADDR;
	struct vhost_user_msg req;
	bool packed;

	if (!addr || addr->index >= VHOST_USER_MAX_VRINGS)
		return fe_refuse(f, code, -ERANGE, "ring index out of range");
	pthread_mutex_lock(&f->lock);
	packed = vh_virtio_has(f->acked_features, VH_VIRTIO_F_RING_PACKED);
	pthread_mutex_unlock(&f->lock);
	if (vh_proto_validate_vring_addr(addr, packed) < 0)
		return fe_refuse(f, code, -EINVAL, "invalid ring addresses");
	fe_msg_init(&req, code, sizeof(*addr));
	memcpy(req.payload.raw, addr, sizeof(*addr));
	return fe_call(f, &req, 0, NULL);
}

int vh_frontend_get_vring_base(struct vh_frontend *f, uint32_t index,
			       uint32_t *base)
{
	const uint32_t code = VHOST_USER_GET_VRING_BASE;
	struct vhost_user_msg req, rep;
	/* "The request payload's num field is currently reserved and must
	 * be set to 0" (GET_VRING_BASE). */
	struct vhost_user_vring_state st = {.index = index, .num = 0};
	int r;

	if (index >= VHOST_USER_MAX_VRINGS)
		return fe_refuse(f, code, -ERANGE, "ring index out of range");
	fe_msg_init(&req, code, sizeof(st));
	memcpy(req.payload.raw, &st, sizeof(st));
	r = fe_call(f, &req, 0, &rep);
	if (r < 0)
		return r;
	memcpy(&st, rep.payload.raw, sizeof(st));
	if (st.index != index)
		return fe_reply_error(f, code, "reply names another ring");
	*base = st.num;
	return 0;
}

static int vring_file(struct vh_frontend *f, uint32_t code, uint32_t index,
		      int fd)
{
	struct vhost_user_msg req;
	uint64_t u64;

	if (vh_proto_encode_vring_file(index, fd >= 0, &u64) < 0)
		return fe_refuse(f, code, -ERANGE,
				 "ring index does not fit in 8 bits");
	fe_msg_init(&req, code, sizeof(u64));
	memcpy(req.payload.raw, &u64, sizeof(u64));
	if (fd >= 0) {
		req.fds[0] = fd;
		req.nfds = 1;
	}
	return fe_call(f, &req, 0, NULL);
}

int vh_frontend_set_vring_kick(struct vh_frontend *f, uint32_t index, int fd)
{
	return vring_file(f, VHOST_USER_SET_VRING_KICK, index, fd);
}

int vh_frontend_set_vring_call(struct vh_frontend *f, uint32_t index, int fd)
{
	return vring_file(f, VHOST_USER_SET_VRING_CALL, index, fd);
}

int vh_frontend_set_vring_err(struct vh_frontend *f, uint32_t index, int fd)
{
	return vring_file(f, VHOST_USER_SET_VRING_ERR, index, fd);
}

int vh_frontend_set_vring_enable(struct vh_frontend *f, uint32_t index,
				 bool enable)
{
	const uint64_t bit =
	    vh_virtio_feature_mask(VH_VHOST_USER_F_PROTOCOL_FEATURES);
	bool in_use;

	/* "This request should be sent only when
	 * VHOST_USER_F_PROTOCOL_FEATURES has been negotiated"; without it
	 * the back-end enables every ring itself (Ring states). */
	pthread_mutex_lock(&f->lock);
	in_use = (f->offered_features & bit) &&
		 (!f->features_set || (f->acked_features & bit));
	pthread_mutex_unlock(&f->lock);
	if (!in_use)
		return fe_refuse(f, VHOST_USER_SET_VRING_ENABLE, -EOPNOTSUPP,
				 "VHOST_USER_F_PROTOCOL_FEATURES not in use");
	return send_state(f, VHOST_USER_SET_VRING_ENABLE, index,
			  enable ? 1 : 0);
}

int vh_frontend_set_vring_endian(struct vh_frontend *f, uint32_t index,
				 bool big_endian)
{
	/* state.num: 0 little-endian, 1 big-endian (SET_VRING_ENDIAN). */
	return send_state(f, VHOST_USER_SET_VRING_ENDIAN, index,
			  big_endian ? 1 : 0);
}

int vh_frontend_vring_kick(struct vh_frontend *f, uint32_t index)
{
	/* "The state.num field is currently reserved and must be set to 0"
	 * (VRING_KICK). */
	return send_state(f, VHOST_USER_VRING_KICK, index, 0);
}
