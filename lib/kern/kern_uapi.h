/* SPDX-License-Identifier: MIT */
/*
 * The kernel's vhost ABI as this library uses it: ioctl numbers written out
 * from Linux include/uapi/linux/vhost.h (mainline, 2025), so the library builds
 * against older installed headers and knows ioctls they lack (workers,
 * features array, VDPA_RESUME...). tests/kern/test_kern_uapi.c checks every
 * number and struct against the installed <linux/vhost.h>, and the newer
 * ones against their values.
 *
 * The structs are declared here with the kernel's layouts.
 */
#ifndef VH_KERN_UAPI_H
#define VH_KERN_UAPI_H

#include <linux/ioctl.h>
#include <stdint.h>

/* Linux vhost_types.h, same layouts under our names (proto.h already
 * defines VHOST_VRING_F_LOG, so the kernel header is not included here).
 * All fields are naturally aligned, as the kernel's are. */
struct vh_k_vring_state {
	uint32_t index;
	uint32_t num;
};
struct vh_k_vring_file {
	uint32_t index;
	int32_t fd; /* -1 unbinds */
};
struct vh_k_vring_addr {
	uint32_t index;
	uint32_t flags; /* bit 0: log used-ring writes */
	uint64_t desc_user_addr;
	uint64_t used_user_addr;
	uint64_t avail_user_addr;
	uint64_t log_guest_addr;
};
struct vh_k_memory_region {
	uint64_t guest_phys_addr;
	uint64_t memory_size;
	uint64_t userspace_addr;
	uint64_t flags_padding;
};
struct vh_k_memory {
	uint32_t nregions;
	uint32_t padding;
	struct vh_k_memory_region regions[];
};
struct vh_k_iotlb_msg {
	uint64_t iova;
	uint64_t size;
	uint64_t uaddr;
	uint8_t perm;
	uint8_t type;
};
struct vh_k_msg_v2 {
	uint32_t type;
	uint32_t asid;
	union {
		struct vh_k_iotlb_msg iotlb;
		uint8_t padding[64];
	} u;
};
#define VH_K_SCSI_WWPN_LEN    224 /* TRANSPORT_IQN_LEN */
#define VH_K_SCSI_ABI_VERSION 1
struct vh_k_scsi_target {
	int32_t abi_version;
	char vhost_wwpn[VH_K_SCSI_WWPN_LEN];
	uint16_t vhost_tpgt;
	uint16_t reserved;
};
struct vh_k_vdpa_config {
	uint32_t off;
	uint32_t len;
	uint8_t buf[];
};
struct vh_k_vdpa_iova_range {
	uint64_t first;
	uint64_t last;
};
/* Newer than 6.1: worker threads. */
struct vh_k_worker_state {
	uint32_t worker_id;
};
struct vh_k_vring_worker {
	uint32_t index;
	uint32_t worker_id;
};
/* Newer than 6.1: feature words beyond 64 bits. */
struct vh_k_features_array {
	uint64_t count; /* number of words in features[] */
	uint64_t features[];
};

_Static_assert(sizeof(struct vh_k_vring_addr) == 40, "vhost_vring_addr");
_Static_assert(sizeof(struct vh_k_memory_region) == 32, "vhost_memory_region");
_Static_assert(sizeof(struct vh_k_msg_v2) == 72, "vhost_msg_v2");
_Static_assert(sizeof(struct vh_k_scsi_target) == 232, "vhost_scsi_target");

#define VH_K_VIRTIO 0xAF

/* Generic. */
#define VH_K_GET_FEATURES     _IOR(VH_K_VIRTIO, 0x00, uint64_t)
#define VH_K_SET_FEATURES     _IOW(VH_K_VIRTIO, 0x00, uint64_t)
#define VH_K_SET_OWNER	      _IO(VH_K_VIRTIO, 0x01)
#define VH_K_RESET_OWNER      _IO(VH_K_VIRTIO, 0x02)
#define VH_K_SET_MEM_TABLE    _IOW(VH_K_VIRTIO, 0x03, struct vh_k_memory)
#define VH_K_SET_LOG_BASE     _IOW(VH_K_VIRTIO, 0x04, uint64_t)
#define VH_K_SET_LOG_FD	      _IOW(VH_K_VIRTIO, 0x07, int)
#define VH_K_NEW_WORKER	      _IOR(VH_K_VIRTIO, 0x08, struct vh_k_worker_state)
#define VH_K_FREE_WORKER      _IOW(VH_K_VIRTIO, 0x09, struct vh_k_worker_state)
#define VH_K_SET_VRING_NUM    _IOW(VH_K_VIRTIO, 0x10, struct vh_k_vring_state)
#define VH_K_SET_VRING_ADDR   _IOW(VH_K_VIRTIO, 0x11, struct vh_k_vring_addr)
#define VH_K_SET_VRING_BASE   _IOW(VH_K_VIRTIO, 0x12, struct vh_k_vring_state)
#define VH_K_GET_VRING_BASE   _IOWR(VH_K_VIRTIO, 0x12, struct vh_k_vring_state)
#define VH_K_SET_VRING_ENDIAN _IOW(VH_K_VIRTIO, 0x13, struct vh_k_vring_state)
/* _IOW although it reads back: the kernel's own number. */
#define VH_K_GET_VRING_ENDIAN _IOW(VH_K_VIRTIO, 0x14, struct vh_k_vring_state)
#define VH_K_ATTACH_VRING_WORKER \
	_IOW(VH_K_VIRTIO, 0x15, struct vh_k_vring_worker)
#define VH_K_GET_VRING_WORKER _IOWR(VH_K_VIRTIO, 0x16, struct vh_k_vring_worker)
#define VH_K_SET_VRING_KICK   _IOW(VH_K_VIRTIO, 0x20, struct vh_k_vring_file)
#define VH_K_SET_VRING_CALL   _IOW(VH_K_VIRTIO, 0x21, struct vh_k_vring_file)
#define VH_K_SET_VRING_ERR    _IOW(VH_K_VIRTIO, 0x22, struct vh_k_vring_file)
#define VH_K_SET_VRING_BUSYLOOP_TIMEOUT \
	_IOW(VH_K_VIRTIO, 0x23, struct vh_k_vring_state)
#define VH_K_GET_VRING_BUSYLOOP_TIMEOUT \
	_IOW(VH_K_VIRTIO, 0x24, struct vh_k_vring_state)
#define VH_K_SET_BACKEND_FEATURES _IOW(VH_K_VIRTIO, 0x25, uint64_t)
#define VH_K_GET_BACKEND_FEATURES _IOR(VH_K_VIRTIO, 0x26, uint64_t)
#define VH_K_GET_FEATURES_ARRAY \
	_IOR(VH_K_VIRTIO, 0x83, struct vh_k_features_array)
#define VH_K_SET_FEATURES_ARRAY \
	_IOW(VH_K_VIRTIO, 0x83, struct vh_k_features_array)

/* vhost-net. */
#define VH_K_NET_SET_BACKEND _IOW(VH_K_VIRTIO, 0x30, struct vh_k_vring_file)

/* vhost-scsi. */
#define VH_K_SCSI_SET_ENDPOINT _IOW(VH_K_VIRTIO, 0x40, struct vh_k_scsi_target)
#define VH_K_SCSI_CLEAR_ENDPOINT \
	_IOW(VH_K_VIRTIO, 0x41, struct vh_k_scsi_target)
#define VH_K_SCSI_GET_ABI_VERSION   _IOW(VH_K_VIRTIO, 0x42, int)
#define VH_K_SCSI_SET_EVENTS_MISSED _IOW(VH_K_VIRTIO, 0x43, uint32_t)
#define VH_K_SCSI_GET_EVENTS_MISSED _IOW(VH_K_VIRTIO, 0x44, uint32_t)

/* vhost-vsock. */
#define VH_K_VSOCK_SET_GUEST_CID _IOW(VH_K_VIRTIO, 0x60, uint64_t)
#define VH_K_VSOCK_SET_RUNNING	 _IOW(VH_K_VIRTIO, 0x61, int)

/* vhost-vdpa. */
#define VH_K_VDPA_GET_DEVICE_ID _IOR(VH_K_VIRTIO, 0x70, uint32_t)
#define VH_K_VDPA_GET_STATUS	_IOR(VH_K_VIRTIO, 0x71, uint8_t)
#define VH_K_VDPA_SET_STATUS	_IOW(VH_K_VIRTIO, 0x72, uint8_t)
#define VH_K_VDPA_GET_CONFIG	_IOR(VH_K_VIRTIO, 0x73, struct vh_k_vdpa_config)
#define VH_K_VDPA_SET_CONFIG	_IOW(VH_K_VIRTIO, 0x74, struct vh_k_vdpa_config)
#define VH_K_VDPA_SET_VRING_ENABLE \
	_IOW(VH_K_VIRTIO, 0x75, struct vh_k_vring_state)
#define VH_K_VDPA_GET_VRING_NUM	  _IOR(VH_K_VIRTIO, 0x76, uint16_t)
#define VH_K_VDPA_SET_CONFIG_CALL _IOW(VH_K_VIRTIO, 0x77, int)
#define VH_K_VDPA_GET_IOVA_RANGE \
	_IOR(VH_K_VIRTIO, 0x78, struct vh_k_vdpa_iova_range)
#define VH_K_VDPA_GET_CONFIG_SIZE _IOR(VH_K_VIRTIO, 0x79, uint32_t)
#define VH_K_VDPA_GET_AS_NUM	  _IOR(VH_K_VIRTIO, 0x7A, unsigned int)
#define VH_K_VDPA_GET_VRING_GROUP \
	_IOWR(VH_K_VIRTIO, 0x7B, struct vh_k_vring_state)
#define VH_K_VDPA_SET_GROUP_ASID \
	_IOW(VH_K_VIRTIO, 0x7C, struct vh_k_vring_state)
#define VH_K_VDPA_SUSPEND _IO(VH_K_VIRTIO, 0x7D)
#define VH_K_VDPA_RESUME  _IO(VH_K_VIRTIO, 0x7E)
#define VH_K_VDPA_GET_VRING_DESC_GROUP \
	_IOWR(VH_K_VIRTIO, 0x7F, struct vh_k_vring_state)
#define VH_K_VDPA_GET_VQS_COUNT _IOR(VH_K_VIRTIO, 0x80, uint32_t)
#define VH_K_VDPA_GET_GROUP_NUM _IOR(VH_K_VIRTIO, 0x81, uint32_t)
#define VH_K_VDPA_GET_VRING_SIZE \
	_IOWR(VH_K_VIRTIO, 0x82, struct vh_k_vring_state)

/* Backend feature bits (bit numbers). RESUME is newer than 6.1. */
#define VH_K_BACKEND_F_IOTLB_MSG_V2 1
#define VH_K_BACKEND_F_IOTLB_BATCH  2
#define VH_K_BACKEND_F_IOTLB_ASID   3
#define VH_K_BACKEND_F_SUSPEND	    4
#define VH_K_BACKEND_F_RESUME	    5

/* IOTLB message kinds (struct vhost_msg_v2.type) and operations. */
#define VH_K_IOTLB_MSG_V2      0x2
#define VH_K_IOTLB_UPDATE      2
#define VH_K_IOTLB_INVALIDATE  3
#define VH_K_IOTLB_BATCH_BEGIN 5
#define VH_K_IOTLB_BATCH_END   6

/* Feature bit 27 as vhost-net reads it. */
#define VH_K_NET_F_VIRTIO_NET_HDR 27
/* virtio-net's MRG_RXBUF (virtio 1.2 §5.1.3). */
#define VH_K_NET_F_MRG_RXBUF 15

/* Most feature words one features-array call handles (512 bits). */
#define VH_K_MAX_FEATURE_WORDS 8u

#endif /* VH_KERN_UAPI_H */
