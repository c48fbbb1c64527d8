/* SPDX-License-Identifier: MIT */
/*
 * Generic vhost ioctls beyond the transport vtable: feature words (with the
 * 64-bit fallback), backend features, legacy byte order, busy polling and
 * worker threads; and the set_features op with vhost-net's bit 27.
 */
#include <errno.h>
#include <string.h>

#include "kern_priv.h"

int kern_op_get_features(struct vh_transport *t, uint64_t *features)
{
	return KIOC(vh_transport_priv(t), GET_FEATURES, features);
}

/* Whether the features-array ioctl is unknown to this kernel: besides
 * kern_unknown_ioctl()'s answers, an older kernel's EPERM before SET_OWNER
 * (vhost_dev_ioctl checks the owner before passing an unknown ioctl on;
 * the array ioctls themselves need no owner). */
static bool no_array(const struct kern *k, int r)
{
	return kern_unknown_ioctl(k, r, KI_NO_RING) ||
	       (r == -EPERM && !k->owner);
}

/* VHOST_SET_FEATURES_ARRAY with word 0 = @w0 and the staged words; where
 * the kernel lacks it, the 64-bit ioctl when nothing above bit 63 is
 * asked for. */
static int set_features_array(struct kern *k, uint64_t w0)
{
	uint64_t buf[2 + VH_K_MAX_FEATURE_WORDS];
	unsigned i;
	bool high = false;
	int r;

	buf[0] = 1 + k->nhi; /* struct vh_k_features_array: count, words */
	buf[1] = w0;
	for (i = 0; i < k->nhi; i++) {
		buf[2 + i] = k->hi[i];
		high |= k->hi[i] != 0;
	}
	r = kern_ioctl(k, VH_K_SET_FEATURES_ARRAY, "VHOST_SET_FEATURES_ARRAY",
		       KI_NO_RING, buf, KI_QUIET);
	if (!no_array(k, r)) {
		if (r < 0)
			vh_err("%s %s: VHOST_SET_FEATURES_ARRAY: %s",
			       kern_kind(k), k->name, vh_strerror(r));
		return r;
	}
	if (high) {
		vh_err("%s %s: feature bits above 63 need "
		       "VHOST_SET_FEATURES_ARRAY, which this kernel lacks",
		       kern_kind(k), k->name);
		return -EOPNOTSUPP;
	}
	return KIOC(k, SET_FEATURES, &w0);
}

int kern_op_set_features(struct vh_transport *t, uint64_t features)
{
	struct kern *k = vh_transport_priv(t);
	const uint64_t bit27 = UINT64_C(1) << VH_K_NET_F_VIRTIO_NET_HDR;
	uint64_t w0 = features;
	int r;

	/* Bit 27 is VIRTIO_F_ANY_LAYOUT to the driver, which vhost-net
	 * always honours, but VHOST_NET_F_VIRTIO_NET_HDR to vhost-net
	 * (drivers/vhost/net.c, vhost_net_set_features: "vhost provides
	 * vnet_hdr"): it follows the header mode. */
	if (k->dev == VH_KERN_NET) {
		w0 &= ~bit27;
		if (k->net_hdr == VH_KERN_NET_HDR_VHOST)
			w0 |= bit27;
	}
	if (k->nhi)
		r = set_features_array(k, w0);
	else
		r = KIOC(k, SET_FEATURES, &w0);
	if (r == 0) {
		k->features_set = true;
		k->acked = features;
	}
	return r;
}

int vh_kern_get_features_array(struct vh_transport *t, uint64_t *words,
			       unsigned n)
{
	struct kern *k = t ? kern_of(t) : NULL;
	uint64_t buf[1 + VH_K_MAX_FEATURE_WORDS];
	int r;

	if (!k || !words || n == 0 || n > VH_K_MAX_FEATURE_WORDS)
		return -EINVAL;
	memset(buf, 0, sizeof(buf));
	buf[0] = n;
	r = kern_ioctl(k, VH_K_GET_FEATURES_ARRAY, "VHOST_GET_FEATURES_ARRAY",
		       KI_NO_RING, buf, KI_QUIET);
	if (r == 0) {
		memcpy(words, &buf[1], n * sizeof(*words));
		return 0;
	}
	if (!no_array(k, r)) {
		vh_err("%s %s: VHOST_GET_FEATURES_ARRAY: %s", kern_kind(k),
		       k->name, vh_strerror(r));
		return r;
	}
	/* A kernel without the array ioctls: 64 bits are all there is. */
	memset(words, 0, n * sizeof(*words));
	return KIOC(k, GET_FEATURES, &words[0]);
}

int vh_kern_set_features_array(struct vh_transport *t, const uint64_t *words,
			       unsigned n)
{
	struct kern *k = t ? kern_of(t) : NULL;
	int r;

	if (!k || !words || n == 0 || n > VH_K_MAX_FEATURE_WORDS)
		return -EINVAL;
	/* Through the transport, so word 0 is recorded for ring sizes. */
	memcpy(k->hi, &words[1], (n - 1) * sizeof(*words));
	k->nhi = n - 1;
	r = vh_transport_set_features(t, words[0]);
	k->nhi = 0;
	return r;
}

int vh_kern_get_backend_features(struct vh_transport *t, uint64_t *features)
{
	struct kern *k = t ? kern_of(t) : NULL;

	if (!k || !features)
		return -EINVAL;
	return KIOC(k, GET_BACKEND_FEATURES, features);
}

int vh_kern_set_backend_features(struct vh_transport *t, uint64_t features)
{
	struct kern *k = t ? kern_of(t) : NULL;
	int r;

	if (!k)
		return -EINVAL;
	r = KIOC(k, SET_BACKEND_FEATURES, &features);
	if (r == 0) {
		k->backend_set = true;
		k->backend_acked = features;
	}
	return r;
}

int vh_kern_set_vring_endian(struct vh_transport *t, uint32_t index,
			     bool big_endian)
{
	struct kern *k = t ? kern_of(t) : NULL;
	struct vh_k_vring_state st = {.index = index, .num = big_endian};

	if (!k)
		return -EINVAL;
	return KIOC_OPT(k, SET_VRING_ENDIAN, index, &st);
}

int vh_kern_get_vring_endian(struct vh_transport *t, uint32_t index,
			     bool *big_endian)
{
	struct kern *k = t ? kern_of(t) : NULL;
	struct vh_k_vring_state st = {.index = index, .num = 0};
	int r;

	if (!k || !big_endian)
		return -EINVAL;
	r = KIOC_OPT(k, GET_VRING_ENDIAN, index, &st);
	if (r == 0)
		*big_endian = st.num != 0;
	return r;
}

int vh_kern_set_vring_busyloop_timeout(struct vh_transport *t, uint32_t index,
				       uint32_t usecs)
{
	struct kern *k = t ? kern_of(t) : NULL;
	struct vh_k_vring_state st = {.index = index, .num = usecs};

	if (!k)
		return -EINVAL;
	return KIOC_RING(k, SET_VRING_BUSYLOOP_TIMEOUT, index, &st);
}

int vh_kern_get_vring_busyloop_timeout(struct vh_transport *t, uint32_t index,
				       uint32_t *usecs)
{
	struct kern *k = t ? kern_of(t) : NULL;
	struct vh_k_vring_state st = {.index = index, .num = 0};
	int r;

	if (!k || !usecs)
		return -EINVAL;
	r = KIOC_RING(k, GET_VRING_BUSYLOOP_TIMEOUT, index, &st);
	if (r == 0)
		*usecs = st.num;
	return r;
}

int vh_kern_new_worker(struct vh_transport *t, uint32_t *worker_id)
{
	struct kern *k = t ? kern_of(t) : NULL;
	struct vh_k_worker_state ws = {0};
	int r;

	if (!k || !worker_id)
		return -EINVAL;
	r = KIOC_OPT(k, NEW_WORKER, KI_NO_RING, &ws);
	if (r == 0)
		*worker_id = ws.worker_id;
	return r;
}

int vh_kern_free_worker(struct vh_transport *t, uint32_t worker_id)
{
	struct kern *k = t ? kern_of(t) : NULL;
	struct vh_k_worker_state ws = {.worker_id = worker_id};

	if (!k)
		return -EINVAL;
	return KIOC_OPT(k, FREE_WORKER, KI_NO_RING, &ws);
}

int vh_kern_attach_vring_worker(struct vh_transport *t, uint32_t index,
				uint32_t worker_id)
{
	struct kern *k = t ? kern_of(t) : NULL;
	struct vh_k_vring_worker vw = {.index = index, .worker_id = worker_id};

	if (!k)
		return -EINVAL;
	return KIOC_OPT(k, ATTACH_VRING_WORKER, index, &vw);
}

int vh_kern_get_vring_worker(struct vh_transport *t, uint32_t index,
			     uint32_t *worker_id)
{
	struct kern *k = t ? kern_of(t) : NULL;
	struct vh_k_vring_worker vw = {.index = index, .worker_id = 0};
	int r;

	if (!k || !worker_id)
		return -EINVAL;
	r = KIOC_OPT(k, GET_VRING_WORKER, index, &vw);
	if (r == 0)
		*worker_id = vw.worker_id;
	return r;
}
