/* SPDX-License-Identifier: MIT */
/*
 * vhost-user front-end: life cycle, negotiated state, and the feature
 * negotiation requests (GET/SET_FEATURES, SET/RESET_OWNER,
 * GET/SET_PROTOCOL_FEATURES).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fe_internal.h"

int vh_frontend_new(struct vh_frontend **out, int fd,
		    const struct vh_frontend_opts *opts)
{
	struct vh_frontend *f;
	int r;

	*out = NULL;
	f = calloc(1, sizeof(*f));
	if (!f) {
		if (fd >= 0)
			close(fd);
		return -ENOMEM;
	}
	r = vh_conn_new(&f->conn, fd, opts ? &opts->conn : NULL);
	if (r < 0) {
		free(f);
		return r;
	}
	pthread_mutex_init(&f->lock, NULL);
	if (opts)
		f->conn_opts = opts->conn;
	snprintf(f->name, sizeof(f->name), "%s",
		 opts && opts->name ? opts->name : "vhost-user front-end");
	f->reply_timeout_ms = opts && opts->reply_timeout_ms
				  ? opts->reply_timeout_ms
				  : FE_DEFAULT_REPLY_TIMEOUT_MS;
	*out = f;
	return 0;
}

int vh_frontend_connect(struct vh_frontend **out, const char *path,
			int timeout_ms, const struct vh_frontend_opts *opts)
{
	int fd;

	*out = NULL;
	fd = vh_sock_connect(path, timeout_ms);
	if (fd < 0)
		return fd;
	return vh_frontend_new(out, fd, opts);
}

void vh_frontend_free(struct vh_frontend *f)
{
	if (!f)
		return;
	vh_frontend_close_backend_channel(f);
	vh_conn_free(f->conn);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

int vh_frontend_fd(const struct vh_frontend *f)
{
	return vh_conn_fd(f->conn);
}

/* The getters take the lock: another thread may be mid-request. The lock is
 * not part of the logical state, hence the const cast. */
static struct vh_frontend *locked(const struct vh_frontend *f)
{
	struct vh_frontend *m = (struct vh_frontend *)(uintptr_t)f;

	pthread_mutex_lock(&m->lock);
	return m;
}

static uint64_t read_u64(const struct vh_frontend *f, const uint64_t *field)
{
	struct vh_frontend *m = locked(f);
	uint64_t v = *field;

	pthread_mutex_unlock(&m->lock);
	return v;
}

bool vh_frontend_is_broken(const struct vh_frontend *f)
{
	struct vh_frontend *m = locked(f);
	bool v = m->broken;

	pthread_mutex_unlock(&m->lock);
	return v;
}

uint64_t vh_frontend_offered_features(const struct vh_frontend *f)
{
	return read_u64(f, &f->offered_features);
}

uint64_t vh_frontend_acked_features(const struct vh_frontend *f)
{
	return read_u64(f, &f->acked_features);
}

uint64_t vh_frontend_offered_protocol_features(const struct vh_frontend *f)
{
	return read_u64(f, &f->offered_pf);
}

uint64_t vh_frontend_protocol_features(const struct vh_frontend *f)
{
	return read_u64(f, &f->pf);
}

void vh_frontend_set_ack_always(struct vh_frontend *f, bool on)
{
	pthread_mutex_lock(&f->lock);
	f->ack_always = on;
	pthread_mutex_unlock(&f->lock);
}

int vh_frontend_ack_next(struct vh_frontend *f)
{
	int r = 0;

	pthread_mutex_lock(&f->lock);
	if (vh_protocol_has(f->pf, VHOST_USER_PROTOCOL_F_REPLY_ACK))
		f->ack_next = true;
	else
		r = -EOPNOTSUPP;
	pthread_mutex_unlock(&f->lock);
	return r;
}

/* A request without payload that owes nothing. */
static int simple(struct vh_frontend *f, uint32_t code)
{
	struct vhost_user_msg req;

	fe_msg_init(&req, code, 0);
	return fe_call(f, &req, 0, NULL);
}

/* A request without payload whose reply is one u64. */
static int get_u64(struct vh_frontend *f, uint32_t code, uint64_t *v)
{
	struct vhost_user_msg req, rep;
	int r;

	fe_msg_init(&req, code, 0);
	r = fe_call(f, &req, 0, &rep);
	if (r == 0)
		memcpy(v, rep.payload.raw, sizeof(*v));
	return r;
}

int vh_frontend_get_features(struct vh_frontend *f, uint64_t *features)
{
	uint64_t v;
	int r;

	r = get_u64(f, VHOST_USER_GET_FEATURES, &v);
	if (r < 0)
		return r;
	pthread_mutex_lock(&f->lock);
	f->have_features = true;
	f->offered_features = v;
	pthread_mutex_unlock(&f->lock);
	if (features)
		*features = v;
	return 0;
}

int vh_frontend_set_features(struct vh_frontend *f, uint64_t features)
{
	struct vhost_user_msg req;
	bool known;
	uint64_t offered;
	int r;

	pthread_mutex_lock(&f->lock);
	known = f->have_features;
	offered = f->offered_features;
	pthread_mutex_unlock(&f->lock);
	if (!known)
		return fe_refuse(f, VHOST_USER_SET_FEATURES, -EINVAL,
				 "GET_FEATURES was not called");
	if (features & ~offered)
		return fe_refuse(f, VHOST_USER_SET_FEATURES, -EINVAL,
				 "features beyond what the back-end offered");
	fe_msg_init(&req, VHOST_USER_SET_FEATURES, sizeof(uint64_t));
	memcpy(req.payload.raw, &features, sizeof(features));
	r = fe_call(f, &req, 0, NULL);
	if (r < 0)
		return r;
	pthread_mutex_lock(&f->lock);
	f->features_set = true;
	f->acked_features = features;
	pthread_mutex_unlock(&f->lock);
	return 0;
}

int vh_frontend_set_owner(struct vh_frontend *f)
{
	return simple(f, VHOST_USER_SET_OWNER);
}

int vh_frontend_reset_owner(struct vh_frontend *f)
{
	return simple(f, VHOST_USER_RESET_OWNER);
}

/* GET/SET_PROTOCOL_FEATURES are legal once the back-end offered
 * VHOST_USER_F_PROTOCOL_FEATURES, before or without SET_FEATURES
 * (vhost-user.rst, GET_PROTOCOL_FEATURES). */
static bool pf_offered(struct vh_frontend *f)
{
	bool ok;

	pthread_mutex_lock(&f->lock);
	ok = f->have_features &&
	     vh_virtio_has(f->offered_features,
			   VH_VHOST_USER_F_PROTOCOL_FEATURES);
	pthread_mutex_unlock(&f->lock);
	return ok;
}

int vh_frontend_get_protocol_features(struct vh_frontend *f, uint64_t *pf)
{
	uint64_t v;
	int r;

	if (!pf_offered(f))
		return fe_refuse(f, VHOST_USER_GET_PROTOCOL_FEATURES,
				 -EOPNOTSUPP,
				 "back-end did not offer PROTOCOL_FEATURES");
	r = get_u64(f, VHOST_USER_GET_PROTOCOL_FEATURES, &v);
	if (r < 0)
		return r;
	pthread_mutex_lock(&f->lock);
	f->have_pf = true;
	f->offered_pf = v;
	pthread_mutex_unlock(&f->lock);
	if (pf)
		*pf = v;
	return 0;
}

/* "It is also considered an error to negotiate this feature without also
 * negotiating VHOST_USER_PROTOCOL_F_BACKEND_REQ and
 * VHOST_USER_PROTOCOL_F_REPLY_ACK" (In-band notifications). */
static bool inband_ok(uint64_t pf)
{
	return !vh_protocol_has(pf,
				VHOST_USER_PROTOCOL_F_INBAND_NOTIFICATIONS) ||
	       (vh_protocol_has(pf, VHOST_USER_PROTOCOL_F_BACKEND_REQ) &&
		vh_protocol_has(pf, VHOST_USER_PROTOCOL_F_REPLY_ACK));
}

int vh_frontend_set_protocol_features(struct vh_frontend *f, uint64_t pf)
{
	struct vhost_user_msg req;
	uint64_t offered;
	int r;

	if (!pf_offered(f))
		return fe_refuse(f, VHOST_USER_SET_PROTOCOL_FEATURES,
				 -EOPNOTSUPP,
				 "back-end did not offer PROTOCOL_FEATURES");
	pthread_mutex_lock(&f->lock);
	offered = f->offered_pf;
	pthread_mutex_unlock(&f->lock);
	if (pf & ~offered)
		return fe_refuse(f, VHOST_USER_SET_PROTOCOL_FEATURES, -EINVAL,
				 "protocol features beyond what was offered");
	/* XEN_MMAP grows every memory region by 8 bytes; this library's
	 * regions are the 32-byte ones. */
	if (vh_protocol_has(pf, VHOST_USER_PROTOCOL_F_XEN_MMAP))
		return fe_refuse(f, VHOST_USER_SET_PROTOCOL_FEATURES,
				 -EOPNOTSUPP, "XEN_MMAP is not supported");
	if (!inband_ok(pf))
		return fe_refuse(f, VHOST_USER_SET_PROTOCOL_FEATURES, -EINVAL,
				 "INBAND_NOTIFICATIONS needs BACKEND_REQ and "
				 "REPLY_ACK");
	fe_msg_init(&req, VHOST_USER_SET_PROTOCOL_FEATURES, sizeof(pf));
	memcpy(req.payload.raw, &pf, sizeof(pf));
	r = fe_call(f, &req, 0, NULL);
	if (r < 0)
		return r;
	pthread_mutex_lock(&f->lock);
	f->pf = pf;
	pthread_mutex_unlock(&f->lock);
	return 0;
}

int vh_frontend_negotiate(struct vh_frontend *f,
			  uint64_t want_protocol_features, uint64_t *features,
			  uint64_t *protocol_features)
{
	uint64_t feat, offered = 0, pf = 0;
	int r;

	r = vh_frontend_get_features(f, &feat);
	if (r < 0)
		return r;
	if (vh_virtio_has(feat, VH_VHOST_USER_F_PROTOCOL_FEATURES)) {
		r = vh_frontend_get_protocol_features(f, &offered);
		if (r < 0)
			return r;
		pf = offered & want_protocol_features &
		     ~vh_protocol_feature_mask(VHOST_USER_PROTOCOL_F_XEN_MMAP);
		if (!inband_ok(pf))
			pf &= ~vh_protocol_feature_mask(
			    VHOST_USER_PROTOCOL_F_INBAND_NOTIFICATIONS);
		r = vh_frontend_set_protocol_features(f, pf);
		if (r < 0)
			return r;
	}
	if (features)
		*features = feat;
	if (protocol_features)
		*protocol_features = pf;
	return 0;
}

int vh_frontend_get_queue_num(struct vh_frontend *f, uint64_t *num)
{
	return get_u64(f, VHOST_USER_GET_QUEUE_NUM, num);
}

int vh_frontend_get_max_mem_slots(struct vh_frontend *f, uint64_t *slots)
{
	return get_u64(f, VHOST_USER_GET_MAX_MEM_SLOTS, slots);
}

int vh_frontend_reset_device(struct vh_frontend *f)
{
	return simple(f, VHOST_USER_RESET_DEVICE);
}

int vh_frontend_postcopy_listen(struct vh_frontend *f)
{
	int r = simple(f, VHOST_USER_POSTCOPY_LISTEN);

	if (r == 0) {
		pthread_mutex_lock(&f->lock);
		f->postcopy_listening = true;
		pthread_mutex_unlock(&f->lock);
	}
	return r;
}

int vh_frontend_postcopy_end(struct vh_frontend *f)
{
	uint64_t status;
	int r;

	/* The u64 reply is a status, 0 = success (vhost-user.rst). */
	r = get_u64(f, VHOST_USER_POSTCOPY_END, &status);
	if (r < 0)
		return r;
	pthread_mutex_lock(&f->lock);
	f->postcopy_listening = false;
	pthread_mutex_unlock(&f->lock);
	if (status != 0) {
		vh_warn("%s: VHOST_USER_POSTCOPY_END: back-end answered "
			"failure",
			f->name);
		return -EIO;
	}
	return 0;
}
