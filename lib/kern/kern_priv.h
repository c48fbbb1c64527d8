/* SPDX-License-Identifier: MIT */
/*
 * Internals of the kernel vhost layer (include/vhost/kern.h), shared by the
 * files of lib/kern/. Not installed.
 */
#ifndef VH_KERN_PRIV_H
#define VH_KERN_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "kern_uapi.h"
#include "vhost/kern.h"
#include "vhost/log.h"
#include "vhost/transport.h"

#define KERN_NAME_MAX 64

/* One IOTLB mapping made through this handle (kern_iotlb.c). */
struct kern_map {
	uint32_t asid;
	uint64_t iova;
	uint64_t size;
	uint64_t uaddr;
	uint32_t perm;
	bool table; /* made by set_mem_table (replaced by the next one) */
};

/* The state behind a kernel vh_transport (vh_transport_priv). */
struct kern {
	enum vh_kern_device dev;
	int fd; /* owned */
	char name[KERN_NAME_MAX];

	bool owner; /* SET_OWNER succeeded (for the EPERM hint) */
	bool features_set;
	uint64_t acked; /* word 0 as the caller gave it */
	/* Words 1.. staged by vh_kern_set_features_array() for the
	 * set_features op it goes through. */
	uint64_t hi[VH_K_MAX_FEATURE_WORDS];
	unsigned nhi; /* 0: plain 64-bit SET_FEATURES */

	bool backend_set; /* SET_BACKEND_FEATURES succeeded */
	uint64_t backend_acked;

	enum vh_kern_net_hdr net_hdr;

	/* vhost-vdpa, learnt on first use. */
	bool nvqs_known;
	uint32_t nvqs;
	bool iova_known;
	uint64_t iova_first, iova_last;

	struct kern_map *maps;
	unsigned nmaps, capmaps;
};

/* kern_ioctl() flags. */
enum {
	/* A kernel may lack it: ENOTTY becomes -EOPNOTSUPP, logged at info. */
	KI_OPTIONAL = 1u << 0,
	/* Probing: no log line at all on failure. */
	KI_QUIET = 1u << 1,
};

#define KI_NO_RING (-1)

/**
 * Issue one ioctl on the device; 0 or the negative errno, logged with the
 * device and @name. A @ring >= 0 is checked first (kern_check_ring) and
 * named in the log; ENOBUFS from the kernel becomes -ERANGE.
 */
int kern_ioctl(struct kern *k, unsigned long req, const char *name,
	       int64_t ring, void *arg, unsigned flags);

/** True when @err (from an ioctl on ring @ring, or KI_NO_RING) means the
 * kernel does not know the ioctl. */
bool kern_unknown_ioctl(const struct kern *k, int err, int64_t ring);

/* The spec name is "VHOST_" + NAME; the number is VH_K_##NAME. */
#define KIOC(k, NAME, arg) \
	kern_ioctl((k), VH_K_##NAME, "VHOST_" #NAME, KI_NO_RING, (arg), 0)
#define KIOC_RING(k, NAME, ring, arg) \
	kern_ioctl((k), VH_K_##NAME, "VHOST_" #NAME, (int64_t)(ring), (arg), 0)
#define KIOC_OPT(k, NAME, ring, arg)                                         \
	kern_ioctl((k), VH_K_##NAME, "VHOST_" #NAME, (int64_t)(ring), (arg), \
		   KI_OPTIONAL)

/** -ERANGE (logged) when @index is beyond the rings the device has, where
 * that is known (net and vsock: 2; vdpa: VHOST_VDPA_GET_VQS_COUNT). */
int kern_check_ring(struct kern *k, const char *what, uint32_t index);

/** The state of a kernel transport, or NULL for any other transport. */
struct kern *kern_of(const struct vh_transport *t);

/** Like kern_of, and also requires device kind @dev: -EINVAL when @t is
 * not a kernel transport, -ENOTTY (logged with @what) for another kind. */
int kern_want(struct vh_transport *t, enum vh_kern_device dev, const char *what,
	      struct kern **out);

/** "vhost-net", "vhost-vsock", "vhost-scsi", "vhost-vdpa". */
const char *kern_kind(const struct kern *k);

/** The ops table of each device kind (kern_transport.c). */
const struct vh_transport_ops *kern_ops_for(enum vh_kern_device dev);

/* Ops shared by every kind (kern.c, kern_transport.c). */
void kern_op_destroy(struct vh_transport *t);
int kern_op_set_owner(struct vh_transport *t);
int kern_op_reset_owner(struct vh_transport *t);

/* The vhost-vdpa ops (kern_vdpa.c). */
int kern_vdpa_op_set_vring_addr(struct vh_transport *t, uint32_t index,
				const struct vh_transport_vring_addr *addr);
int kern_vdpa_op_set_vring_enable(struct vh_transport *t, uint32_t index,
				  bool enable);
int kern_vdpa_op_get_config(struct vh_transport *t, uint32_t offset, void *buf,
			    uint32_t len);
int kern_vdpa_op_set_config(struct vh_transport *t, uint32_t offset,
			    const void *buf, uint32_t len);
int kern_vdpa_op_set_status(struct vh_transport *t, uint8_t status);
int kern_vdpa_op_get_status(struct vh_transport *t, uint8_t *status);
int kern_vdpa_op_reset_device(struct vh_transport *t);
int kern_vdpa_op_get_queue_num(struct vh_transport *t, uint32_t *num);

/** Byte lengths of ring @index's three areas from the recorded ring size
 * and features (virtio 1.2 §2.7, §2.8); -EINVAL when the size is unknown. */
int kern_ring_area_lens(const struct vh_transport *t, uint32_t index,
			uint64_t len[3]);

/** /sys/module/vhost/parameters/max_mem_regions, 64 when unreadable. */
unsigned kern_max_mem_regions(void);

/* Features (kern_features.c): the set_features op with bit-27 handling
 * and the staged feature words. */
int kern_op_set_features(struct vh_transport *t, uint64_t features);
int kern_op_get_features(struct vh_transport *t, uint64_t *features);

/* IOTLB (kern_iotlb.c). */
int kern_vdpa_backend_ready(struct kern *k);
int kern_vdpa_set_mem_table(struct vh_transport *t,
			    const struct vh_transport_region *rg, unsigned n);
/** 0 when [iova, iova + len) lies in one mapping of this handle. */
int kern_iotlb_covered(const struct kern *k, uint64_t iova, uint64_t len);
void kern_iotlb_forget(struct kern *k);

#endif /* VH_KERN_PRIV_H */
