/* SPDX-License-Identifier: MIT */
/*
 * libvhost — kernel vhost: /dev/vhost-net, /dev/vhost-vsock, /dev/vhost-scsi
 * and /dev/vhost-vdpa-N driven through their ioctls (Linux
 * include/uapi/linux/vhost.h), behind the transport vtable of
 * include/vhost/transport.h.
 *
 * The handle is a struct vh_transport: the uniform calls
 * (vh_transport_set_owner(), _set_mem_table(), _set_vring_addr(), ...)
 * drive the device, and the vh_kern_* calls below add what only the kernel
 * has (backend features, byte order, busy polling, workers, the per-device
 * ioctls, IOTLB messages). A vh_kern_* call on a transport that is not a
 * kernel one returns -EINVAL; a device-specific call on another kind of
 * kernel device (vh_kern_net_set_backend() on vhost-vsock) returns -ENOTTY
 * without issuing the ioctl.
 *
 * Addresses (see transport.h). The caller speaks guest-physical addresses:
 *   - vhost-net, -vsock, -scsi: vh_transport_set_mem_table() passes the
 *     regions to VHOST_SET_MEM_TABLE (at most max_mem_regions of them, read
 *     from /sys/module/vhost/parameters/max_mem_regions, 64 when absent:
 *     -E2BIG above), and vh_transport_set_vring_addr() translates the ring
 *     GPAs through that table into the process addresses the kernel
 *     dereferences; a ring area no region covers is refused with -EFAULT
 *     before any ioctl. With VIRTIO_F_ACCESS_PLATFORM acknowledged the ring
 *     addresses are IOVAs of the device IOTLB and pass unchanged.
 *   - vhost-vdpa: the memory table becomes IOTLB updates (IOVA = GPA,
 *     process address = user_addr, read-write, address space 0), replacing
 *     the previous table's mappings; ring addresses pass unchanged (they are
 *     IOVAs) but every ring area must lie in a mapping made through this
 *     handle (-EFAULT otherwise).
 *
 * Errors. Every ioctl failure returns the kernel's errno, negated, and logs
 * one line at VH_LOG_ERR naming the device, the ioctl and the ring, e.g.
 *   "vhost-net /dev/vhost-net: VHOST_SET_VRING_NUM (ring 0): Operation not
 *    permitted (VHOST_SET_OWNER was not called)".
 * Two answers are rewritten because they mean one thing only:
 *   - ENOBUFS on a ring ioctl (the kernel's "index >= number of rings")
 *     becomes -ERANGE; vhost-net and vhost-vsock (2 rings) and vhost-vdpa
 *     (VHOST_VDPA_GET_VQS_COUNT) are checked before the ioctl;
 *   - ENOTTY from an ioctl that a kernel may lack (byte order without
 *     CONFIG_VHOST_CROSS_ENDIAN_LEGACY, the worker ioctls,
 *     VHOST_VDPA_RESUME, VHOST_VDPA_GET_VRING_DESC_GROUP,
 *     VHOST_VDPA_GET_VRING_SIZE) becomes -EOPNOTSUPP, logged at
 *     VH_LOG_INFO only. The features-array ioctls fall back to the 64-bit
 *     ones instead.
 *
 * Threads: as transport.h — one thread at a time per handle.
 */
#ifndef VHOST_KERN_H
#define VHOST_KERN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vhost/transport.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The kinds of in-kernel vhost device. */
enum vh_kern_device {
	VH_KERN_NET = 1,   /* /dev/vhost-net */
	VH_KERN_VSOCK = 2, /* /dev/vhost-vsock */
	VH_KERN_SCSI = 3,  /* /dev/vhost-scsi */
	VH_KERN_VDPA = 4,  /* /dev/vhost-vdpa-N */
};

/* ------------------------------------------------------------------------ */
/* Life cycle                                                               */
/* ------------------------------------------------------------------------ */

/**
 * Open the device node @path (NULL: /dev/vhost-net, /dev/vhost-vsock or
 * /dev/vhost-scsi for those kinds; required for VH_KERN_VDPA) read-write,
 * close-on-exec, and check that it answers VHOST_GET_FEATURES. The handle
 * owns the fd; vh_transport_free() closes it.
 * Errors: -EINVAL (bad @dev, no path for vdpa), open's errno (-ENOENT: no
 * such node — the module is not loaded; -EACCES), -ENOTTY (the node is not
 * a vhost device), -ENOMEM. Each is logged with the path.
 */
int vh_kern_open(struct vh_transport **out, enum vh_kern_device dev,
		 const char *path);

/**
 * Wrap an open vhost fd (e.g. one handed over by a management process).
 * Takes ownership of @fd: it is closed by vh_transport_free() and on
 * failure. @name (copied; NULL: "fd N") names the device in log lines.
 * The same check as vh_kern_open() is made. Errors: as vh_kern_open().
 */
int vh_kern_adopt(struct vh_transport **out, enum vh_kern_device dev, int fd,
		  const char *name);

/** The kind of kernel device behind @t; 0 when @t is not a kernel one. */
enum vh_kern_device vh_kern_device_type(const struct vh_transport *t);

/** The device fd (borrowed: the handle keeps owning it); -EINVAL when @t is
 * not a kernel transport. */
int vh_kern_fd(const struct vh_transport *t);

/* ------------------------------------------------------------------------ */
/* Generic vhost ioctls beyond the transport vtable                         */
/* ------------------------------------------------------------------------ */

/**
 * Device feature words: bit i of the feature space is bit (i % 64) of
 * words[i / 64], @n words (1..8). VHOST_GET_FEATURES_ARRAY where the kernel
 * has it (recent kernels); where it does not, VHOST_GET_FEATURES fills words[0]
 * and the others are zero. Errors: -EINVAL, the ioctl's.
 */
int vh_kern_get_features_array(struct vh_transport *t, uint64_t *words,
			       unsigned n);

/**
 * Acknowledge features given as words (see above); words[0] is recorded as
 * vh_transport_set_features() records it, with the same vhost-net bit 27
 * handling. Uses VHOST_SET_FEATURES_ARRAY, falling back on ENOTTY to
 * VHOST_SET_FEATURES when every word above the first is zero.
 * Errors: -EINVAL, -EOPNOTSUPP (bits above 63 on a kernel without the
 * array ioctls), the ioctl's.
 */
int vh_kern_set_features_array(struct vh_transport *t, const uint64_t *words,
			       unsigned n);

/** Backend feature bits (VHOST_BACKEND_F_*: bit 1 IOTLB_MSG_V2, 2
 * IOTLB_BATCH, 3 IOTLB_ASID, 4 SUSPEND, 5 RESUME). VHOST_GET/SET_BACKEND_
 * FEATURES. The acknowledged set decides IOTLB batching and whether
 * suspend/resume may be used. Errors: the ioctl's (vhost-scsi: -ENOTTY). */
int vh_kern_get_backend_features(struct vh_transport *t, uint64_t *features);
int vh_kern_set_backend_features(struct vh_transport *t, uint64_t features);

/** Legacy (pre-VERSION_1) byte order of ring @index: VHOST_SET/GET_VRING_
 * ENDIAN. -EOPNOTSUPP where the kernel lacks cross-endian support. */
int vh_kern_set_vring_endian(struct vh_transport *t, uint32_t index,
			     bool big_endian);
int vh_kern_get_vring_endian(struct vh_transport *t, uint32_t index,
			     bool *big_endian);

/** How long (µs) the worker busy-polls ring @index before sleeping:
 * VHOST_SET/GET_VRING_BUSYLOOP_TIMEOUT (vhost-net honours it). */
int vh_kern_set_vring_busyloop_timeout(struct vh_transport *t, uint32_t index,
				       uint32_t usecs);
int vh_kern_get_vring_busyloop_timeout(struct vh_transport *t, uint32_t index,
				       uint32_t *usecs);

/**
 * Worker threads (newer kernels than 6.1): VHOST_NEW_WORKER makes one more
 * kernel worker (after SET_OWNER) and returns its id; VHOST_ATTACH_VRING_WORKER
 * moves ring
 * @index to it (before the ring is started); VHOST_GET_VRING_WORKER reports
 * a ring's worker; VHOST_FREE_WORKER frees a worker no ring uses. On an
 * older kernel every call returns -EOPNOTSUPP (ENOTTY): all rings then share
 * the device's one worker, which needs no call at all.
 */
int vh_kern_new_worker(struct vh_transport *t, uint32_t *worker_id);
int vh_kern_free_worker(struct vh_transport *t, uint32_t worker_id);
int vh_kern_attach_vring_worker(struct vh_transport *t, uint32_t index,
				uint32_t worker_id);
int vh_kern_get_vring_worker(struct vh_transport *t, uint32_t index,
			     uint32_t *worker_id);

/* ------------------------------------------------------------------------ */
/* IOTLB messages (vhost-vdpa; device IOTLB of the others)                  */
/* ------------------------------------------------------------------------ */

/** Access rights of a mapping (VHOST_ACCESS_RO / WO / RW). */
#define VH_KERN_DMA_RO 1u
#define VH_KERN_DMA_WO 2u
#define VH_KERN_DMA_RW 3u

/** One IOVA range and, for a map, where it lives in this process. */
struct vh_kern_dma {
	uint64_t iova;
	uint64_t size;
	uint64_t uaddr; /* ignored by unmap */
	uint32_t perm;	/* VH_KERN_DMA_*; ignored by unmap */
};

/**
 * Map @n ranges into address space @asid with VHOST_IOTLB_UPDATE messages
 * (struct vhost_msg_v2) written to the device fd. With more than one range
 * and IOTLB_BATCH acknowledged, they go between BATCH_BEGIN and BATCH_END,
 * so the device sees one update. On vhost-vdpa, unless the caller set
 * backend features itself, the first call acknowledges the offered subset
 * of IOTLB_MSG_V2, IOTLB_BATCH, IOTLB_ASID, SUSPEND and RESUME. Ranges
 * must not be empty or wrap and, on vhost-vdpa, lie within
 * VHOST_VDPA_GET_IOVA_RANGE (-ERANGE). On failure the ranges mapped by
 * this call are unmapped again. Errors: -EINVAL, -ERANGE, the write's
 * errno (-EEXIST: the IOVA is already mapped), -ENOMEM.
 */
int vh_kern_dma_map(struct vh_transport *t, uint32_t asid,
		    const struct vh_kern_dma *maps, unsigned n);

/** Unmap (VHOST_IOTLB_INVALIDATE) every mapping that overlaps each of the
 * @n ranges (iova, size), batched as above. Errors: -EINVAL, the write's. */
int vh_kern_dma_unmap(struct vh_transport *t, uint32_t asid,
		      const struct vh_kern_dma *ranges, unsigned n);

/* ------------------------------------------------------------------------ */
/* vhost-net                                                                */
/* ------------------------------------------------------------------------ */

/**
 * Who carries the virtio-net header. Bit 27 means VIRTIO_F_ANY_LAYOUT to a
 * virtio driver but VHOST_NET_F_VIRTIO_NET_HDR to vhost-net ("vhost adds
 * the header on RX and strips it on TX"). The library keeps them apart:
 * vhost-net handles any layout, so bit 27 in the features given to
 * vh_transport_set_features() is ignored and replaced by this mode:
 *   BACKEND (default): the tap (IFF_VNET_HDR) reads and writes the header;
 *   VHOST: vhost-net adds/strips it, the backend sees plain frames (a tap
 *          without IFF_VNET_HDR, or an AF_PACKET socket).
 * GET_FEATURES reports bit 27 as the kernel does (ANY_LAYOUT supported).
 */
enum vh_kern_net_hdr {
	VH_KERN_NET_HDR_BACKEND = 0,
	VH_KERN_NET_HDR_VHOST = 1,
};

/** Choose the header mode for the next set_features. Errors: -EINVAL,
 * -ENOTTY (not vhost-net). */
int vh_kern_net_set_hdr(struct vh_transport *t, enum vh_kern_net_hdr who);

/** Size of the virtio-net header for @features: 12 with VERSION_1 or
 * MRG_RXBUF (virtio 1.2 §5.1.6), else 10. */
unsigned vh_kern_net_hdr_len(uint64_t features);

/**
 * VHOST_NET_SET_BACKEND: attach ring @index (0 RX, 1 TX) to a tap or
 * packet socket @fd (borrowed; the kernel takes its own reference), or
 * detach it with -1 (stops the ring). When @fd is a tap and features were
 * set, its IFF_VNET_HDR flag and vnet header size are checked against the
 * header mode and vh_kern_net_hdr_len() of the acknowledged features
 * (-EINVAL on a mismatch, which would corrupt every frame).
 * Errors: -ERANGE (index > 1), -ENOTTY, -EINVAL, the ioctl's.
 */
int vh_kern_net_set_backend(struct vh_transport *t, uint32_t index, int fd);

/** Tap flags for vh_kern_tap_open(). */
#define VH_KERN_TAP_VNET_HDR	(1u << 0) /* IFF_VNET_HDR */
#define VH_KERN_TAP_MULTI_QUEUE (1u << 1) /* IFF_MULTI_QUEUE */

/**
 * Open /dev/net/tun as a tap (IFF_TAP | IFF_NO_PI, plus @flags) named @name
 * (NULL or "": the kernel picks tapN; an existing multi-queue tap of that
 * name gets one more queue), and with VH_KERN_TAP_VNET_HDR set its header
 * size to @vnet_hdr_len (TUNSETVNETHDRSZ, 10 or 12). The interface is left
 * down. Writes the interface name to @ifname (16 bytes) when not NULL.
 * Returns the fd (the caller owns it) or: -EINVAL, -ENAMETOOLONG, open's or
 * the ioctls' errno (-EPERM without CAP_NET_ADMIN).
 */
int vh_kern_tap_open(const char *name, unsigned flags, unsigned vnet_hdr_len,
		     char *ifname);

/* ------------------------------------------------------------------------ */
/* vhost-vsock                                                              */
/* ------------------------------------------------------------------------ */
/* Rings: 0 RX (host to guest), 1 TX (guest to host). The virtio-vsock event
 * queue (2) is not the kernel's: the VMM serves it in user space. */

/** VHOST_VSOCK_SET_GUEST_CID: the guest's context id, 3..2^32-2
 * (-EINVAL otherwise, as the kernel would; -EADDRINUSE when taken). */
int vh_kern_vsock_set_guest_cid(struct vh_transport *t, uint64_t cid);

/** VHOST_VSOCK_SET_RUNNING: start or stop the rings. */
int vh_kern_vsock_set_running(struct vh_transport *t, bool running);

/* ------------------------------------------------------------------------ */
/* vhost-scsi                                                               */
/* ------------------------------------------------------------------------ */
/* Rings: 0 control, 1 event, 2.. request queues. */

/** VHOST_SCSI_SET_ENDPOINT / CLEAR_ENDPOINT: bind the rings to the LIO
 * vhost target @wwpn (e.g. "naa.5001405000000001", under 224 bytes) and
 * its portal group @tpgt. Errors: -EINVAL, -ENAMETOOLONG, the ioctl's
 * (-ENODEV: no such target). */
int vh_kern_scsi_set_endpoint(struct vh_transport *t, const char *wwpn,
			      uint16_t tpgt);
int vh_kern_scsi_clear_endpoint(struct vh_transport *t, const char *wwpn,
				uint16_t tpgt);

/** VHOST_SCSI_GET_ABI_VERSION (1 on every current kernel). */
int vh_kern_scsi_get_abi_version(struct vh_transport *t, int *abi);

/** VHOST_SCSI_SET/GET_EVENTS_MISSED: the flag that makes the device send
 * VIRTIO_SCSI_T_EVENTS_MISSED once event buffers are available again. */
int vh_kern_scsi_set_events_missed(struct vh_transport *t, bool missed);
int vh_kern_scsi_get_events_missed(struct vh_transport *t, bool *missed);

/* ------------------------------------------------------------------------ */
/* vhost-vdpa                                                               */
/* ------------------------------------------------------------------------ */
/* Status, config space, ring enable, reset and ring count go through the
 * transport: vh_transport_set_status() (VHOST_VDPA_SET_STATUS), _get_config()
 * (VHOST_VDPA_GET_CONFIG), _set_vring_enable(), _reset_device() (status 0),
 * _get_queue_num() (VHOST_VDPA_GET_VQS_COUNT). */

/** VHOST_VDPA_GET_DEVICE_ID: the virtio device id (1 net, 2 block...). */
int vh_kern_vdpa_get_device_id(struct vh_transport *t, uint32_t *id);
/** VHOST_VDPA_GET_VRING_NUM: the largest ring size the device takes. */
int vh_kern_vdpa_get_vring_num(struct vh_transport *t, uint16_t *num);
/** VHOST_VDPA_GET_VRING_SIZE: ring @index's own maximum (newer
 * kernels than 6.1). */
int vh_kern_vdpa_get_vring_size(struct vh_transport *t, uint32_t index,
				uint32_t *num);
/** VHOST_VDPA_SET_CONFIG_CALL: eventfd for config changes (-1 unbinds). */
int vh_kern_vdpa_set_config_call(struct vh_transport *t, int fd);
/** VHOST_VDPA_GET_IOVA_RANGE: the IOVAs that may be mapped, inclusive. */
int vh_kern_vdpa_get_iova_range(struct vh_transport *t, uint64_t *first,
				uint64_t *last);
/** VHOST_VDPA_GET_CONFIG_SIZE: bytes of device config space. */
int vh_kern_vdpa_get_config_size(struct vh_transport *t, uint32_t *size);
/** VHOST_VDPA_GET_VQS_COUNT: number of virtqueues. */
int vh_kern_vdpa_get_vqs_count(struct vh_transport *t, uint32_t *count);
/** VHOST_VDPA_GET_GROUP_NUM / GET_AS_NUM: virtqueue groups and address
 * spaces the device has. */
int vh_kern_vdpa_get_group_num(struct vh_transport *t, uint32_t *num);
int vh_kern_vdpa_get_as_num(struct vh_transport *t, uint32_t *num);
/** VHOST_VDPA_GET_VRING_GROUP: the group of ring @index; _DESC_GROUP: the
 * group of its descriptor areas (newer kernels than 6.1). */
int vh_kern_vdpa_get_vring_group(struct vh_transport *t, uint32_t index,
				 uint32_t *group);
int vh_kern_vdpa_get_vring_desc_group(struct vh_transport *t, uint32_t index,
				      uint32_t *group);
/** VHOST_VDPA_SET_GROUP_ASID: put virtqueue group @group in address space
 * @asid (needs IOTLB_ASID acknowledged). */
int vh_kern_vdpa_set_group_asid(struct vh_transport *t, uint32_t group,
				uint32_t asid);
/** VHOST_VDPA_SUSPEND / RESUME: stop and restart ring processing, keeping
 * ring state. Need the SUSPEND / RESUME backend feature (offered and
 * acknowledged, see vh_kern_dma_map()): -EOPNOTSUPP otherwise. */
int vh_kern_vdpa_suspend(struct vh_transport *t);
int vh_kern_vdpa_resume(struct vh_transport *t);

#ifdef __cplusplus
}
#endif

#endif /* VHOST_KERN_H */
