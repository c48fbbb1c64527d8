/* SPDX-License-Identifier: MIT */
/*
 * libvhost — wire layer: the vhost-user protocol as data.
 *
 * Message codes (front-end and back-end requests), header flags, feature and
 * protocol-feature bits, payload structs whose layout is checked at compile
 * time, name tables, and pure decode/validate helpers. No I/O happens here.
 *
 * Names follow QEMU docs/interop/vhost-user.rst so that a grep from the
 * specification lands in this file. All numbers are host byte order, as the
 * specification says ("All numbers are in the machine native byte order").
 */
#ifndef VHOST_PROTO_H
#define VHOST_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Header                                                                   */
/* ------------------------------------------------------------------------ */

/** Size of the header: request, flags, size — 32 bits each. */
#define VHOST_USER_HDR_SIZE 12u
/** Protocol version carried in the two low bits of the flags. */
#define VHOST_USER_VERSION	0x1u
#define VHOST_USER_VERSION_MASK 0x3u
/** Set on every reply. */
#define VHOST_USER_REPLY_MASK (1u << 2)
/** Set by a sender that wants a REPLY_ACK status reply. */
#define VHOST_USER_NEED_REPLY_MASK (1u << 3)
/** Every flag bit the specification defines; any other bit is reserved. */
#define VHOST_USER_FLAGS_KNOWN                             \
	(VHOST_USER_VERSION_MASK | VHOST_USER_REPLY_MASK | \
	 VHOST_USER_NEED_REPLY_MASK)

/**
 * Most file descriptors one message may carry: VHOST_MEMORY_BASELINE_NREGIONS
 * of QEMU, the size of a SET_MEM_TABLE, and the spec's "at most 8 descriptors
 * in each message" for the back-end channel.
 */
#define VHOST_USER_MAX_FDS 8u
/** Regions one SET_MEM_TABLE carries at most. */
#define VHOST_USER_MEM_TABLE_MAX_REGIONS 8u
/** Memory slots reachable with CONFIGURE_MEM_SLOTS (KVM's limit). */
#define VHOST_USER_MAX_MEM_SLOTS 509u
/** Highest number of vrings one device may have (rust-vmm's limit too). */
#define VHOST_USER_MAX_VRINGS 0x8000u
/** Largest config space access (QEMU VHOST_USER_MAX_CONFIG_SIZE). */
#define VHOST_USER_MAX_CONFIG_SIZE 256u
/** VIRTIO Shared Memory Regions one GET_SHMEM_CONFIG reply describes. */
#define VHOST_USER_MAX_SHMEM_REGIONS 256u

/** u64 payload of SET_VRING_KICK/CALL/ERR: ring index and the no-fd flag. */
#define VHOST_USER_VRING_IDX_MASK  0xffu
#define VHOST_USER_VRING_NOFD_MASK (1u << 8)

/** VhostUserLog page size for dirty logging. */
#define VHOST_LOG_PAGE 0x1000u

/** SET_VRING_ADDR flags: log used-ring writes. */
#define VHOST_VRING_F_LOG 0 /* same tokens as <linux/vhost_types.h> */

struct vhost_user_hdr {
	uint32_t request;
	uint32_t flags;
	uint32_t size;
};

/* ------------------------------------------------------------------------ */
/* Requests                                                                 */
/* ------------------------------------------------------------------------ */

/** Front-end → back-end requests (vhost-user.rst "Front-end message types"). */
enum vhost_user_request {
	VHOST_USER_NONE = 0,
	VHOST_USER_GET_FEATURES = 1,
	VHOST_USER_SET_FEATURES = 2,
	VHOST_USER_SET_OWNER = 3,
	VHOST_USER_RESET_OWNER = 4,
	VHOST_USER_SET_MEM_TABLE = 5,
	VHOST_USER_SET_LOG_BASE = 6,
	VHOST_USER_SET_LOG_FD = 7,
	VHOST_USER_SET_VRING_NUM = 8,
	VHOST_USER_SET_VRING_ADDR = 9,
	VHOST_USER_SET_VRING_BASE = 10,
	VHOST_USER_GET_VRING_BASE = 11,
	VHOST_USER_SET_VRING_KICK = 12,
	VHOST_USER_SET_VRING_CALL = 13,
	VHOST_USER_SET_VRING_ERR = 14,
	VHOST_USER_GET_PROTOCOL_FEATURES = 15,
	VHOST_USER_SET_PROTOCOL_FEATURES = 16,
	VHOST_USER_GET_QUEUE_NUM = 17,
	VHOST_USER_SET_VRING_ENABLE = 18,
	VHOST_USER_SEND_RARP = 19,
	VHOST_USER_NET_SET_MTU = 20,
	VHOST_USER_SET_BACKEND_REQ_FD = 21,
	VHOST_USER_IOTLB_MSG = 22,
	VHOST_USER_SET_VRING_ENDIAN = 23,
	VHOST_USER_GET_CONFIG = 24,
	VHOST_USER_SET_CONFIG = 25,
	VHOST_USER_CREATE_CRYPTO_SESSION = 26,
	VHOST_USER_CLOSE_CRYPTO_SESSION = 27,
	VHOST_USER_POSTCOPY_ADVISE = 28,
	VHOST_USER_POSTCOPY_LISTEN = 29,
	VHOST_USER_POSTCOPY_END = 30,
	VHOST_USER_GET_INFLIGHT_FD = 31,
	VHOST_USER_SET_INFLIGHT_FD = 32,
	VHOST_USER_GPU_SET_SOCKET = 33,
	VHOST_USER_RESET_DEVICE = 34,
	VHOST_USER_VRING_KICK = 35,
	VHOST_USER_GET_MAX_MEM_SLOTS = 36,
	VHOST_USER_ADD_MEM_REG = 37,
	VHOST_USER_REM_MEM_REG = 38,
	VHOST_USER_SET_STATUS = 39,
	VHOST_USER_GET_STATUS = 40,
	VHOST_USER_GET_SHARED_OBJECT = 41,
	VHOST_USER_SET_DEVICE_STATE_FD = 42,
	VHOST_USER_CHECK_DEVICE_STATE = 43,
	VHOST_USER_GET_SHMEM_CONFIG = 44,
	VHOST_USER_MAX /* one past the last defined request */
};

/** Back-end → front-end requests (vhost-user.rst "Back-end message types"). */
enum vhost_user_backend_request {
	VHOST_USER_BACKEND_NONE = 0,
	VHOST_USER_BACKEND_IOTLB_MSG = 1,
	VHOST_USER_BACKEND_CONFIG_CHANGE_MSG = 2,
	VHOST_USER_BACKEND_VRING_HOST_NOTIFIER_MSG = 3,
	VHOST_USER_BACKEND_VRING_CALL = 4,
	VHOST_USER_BACKEND_VRING_ERR = 5,
	VHOST_USER_BACKEND_SHARED_OBJECT_ADD = 6,
	VHOST_USER_BACKEND_SHARED_OBJECT_REMOVE = 7,
	VHOST_USER_BACKEND_SHARED_OBJECT_LOOKUP = 8,
	VHOST_USER_BACKEND_SHMEM_MAP = 9,
	VHOST_USER_BACKEND_SHMEM_UNMAP = 10,
	VHOST_USER_BACKEND_MAX
};

/* ------------------------------------------------------------------------ */
/* Feature bits. These are bit NUMBERS. Turn them into masks only with the  */
/* helpers below; -Wenum-conversion (part of -Wextra) rejects passing a     */
/* protocol bit where a virtio bit is expected and the other way round.     */
/* ------------------------------------------------------------------------ */

/** Virtio transport feature bits a vhost device uses (virtio 1.2 §6). */
enum vh_virtio_feature {
	VH_VIRTIO_F_NOTIFY_ON_EMPTY = 24,
	VH_VHOST_F_LOG_ALL = 26,
	VH_VIRTIO_F_ANY_LAYOUT = 27,
	VH_VIRTIO_RING_F_INDIRECT_DESC = 28,
	VH_VIRTIO_RING_F_EVENT_IDX = 29,
	VH_VHOST_USER_F_PROTOCOL_FEATURES = 30,
	VH_VIRTIO_F_VERSION_1 = 32,
	VH_VIRTIO_F_ACCESS_PLATFORM = 33, /* a.k.a. VIRTIO_F_IOMMU_PLATFORM */
	VH_VIRTIO_F_RING_PACKED = 34,
	VH_VIRTIO_F_IN_ORDER = 35,
	VH_VIRTIO_F_ORDER_PLATFORM = 36,
	VH_VIRTIO_F_SR_IOV = 37,
	VH_VIRTIO_F_NOTIFICATION_DATA = 38,
	VH_VIRTIO_F_NOTIF_CONFIG_DATA = 39,
	VH_VIRTIO_F_RING_RESET = 40,
	VH_VIRTIO_F_ADMIN_VQ = 41,
};

/** vhost-user protocol feature bits (vhost-user.rst "Protocol features"). */
enum vhost_user_protocol_feature {
	VHOST_USER_PROTOCOL_F_MQ = 0,
	VHOST_USER_PROTOCOL_F_LOG_SHMFD = 1,
	VHOST_USER_PROTOCOL_F_RARP = 2,
	VHOST_USER_PROTOCOL_F_REPLY_ACK = 3,
	VHOST_USER_PROTOCOL_F_NET_MTU = 4,
	VHOST_USER_PROTOCOL_F_BACKEND_REQ = 5,
	VHOST_USER_PROTOCOL_F_CROSS_ENDIAN = 6,
	VHOST_USER_PROTOCOL_F_CRYPTO_SESSION = 7,
	VHOST_USER_PROTOCOL_F_PAGEFAULT = 8,
	VHOST_USER_PROTOCOL_F_CONFIG = 9,
	VHOST_USER_PROTOCOL_F_BACKEND_SEND_FD = 10,
	VHOST_USER_PROTOCOL_F_HOST_NOTIFIER = 11,
	VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD = 12,
	VHOST_USER_PROTOCOL_F_RESET_DEVICE = 13,
	VHOST_USER_PROTOCOL_F_INBAND_NOTIFICATIONS = 14,
	VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS = 15,
	VHOST_USER_PROTOCOL_F_STATUS = 16,
	VHOST_USER_PROTOCOL_F_XEN_MMAP = 17,
	VHOST_USER_PROTOCOL_F_SHARED_OBJECT = 18,
	VHOST_USER_PROTOCOL_F_DEVICE_STATE = 19,
	VHOST_USER_PROTOCOL_F_GET_VRING_BASE_INFLIGHT = 20,
	VHOST_USER_PROTOCOL_F_GPA_ADDRESSES = 21,
	VHOST_USER_PROTOCOL_F_SHMEM = 22,
	/* GET_VRING_BASE may return without draining in-flight requests
	 * (QEMU include/hw/virtio/vhost-user.h, 2026). */
	VHOST_USER_PROTOCOL_F_GET_VRING_BASE_SKIP_DRAIN = 23,
	VHOST_USER_PROTOCOL_F_MAX /* one past the last defined bit */
};

/** Mask of every protocol feature bit the specification defines. */
#define VHOST_USER_PROTOCOL_F_KNOWN \
	((UINT64_C(1) << VHOST_USER_PROTOCOL_F_MAX) - 1)

static inline uint64_t vh_virtio_feature_mask(enum vh_virtio_feature bit)
{
	return UINT64_C(1) << (unsigned)bit;
}

static inline bool vh_virtio_has(uint64_t features, enum vh_virtio_feature bit)
{
	return (features & vh_virtio_feature_mask(bit)) != 0;
}

static inline uint64_t
vh_protocol_feature_mask(enum vhost_user_protocol_feature bit)
{
	return UINT64_C(1) << (unsigned)bit;
}

static inline bool vh_protocol_has(uint64_t protocol_features,
				   enum vhost_user_protocol_feature bit)
{
	return (protocol_features & vh_protocol_feature_mask(bit)) != 0;
}

/* ------------------------------------------------------------------------ */
/* Payloads. Every struct has the exact wire size and offsets; checked by   */
/* _Static_assert below. Fields are naturally aligned, so no packing.       */
/* ------------------------------------------------------------------------ */

/** "A vring state description" / descriptor index(es). */
struct vhost_user_vring_state {
	uint32_t index;
	uint32_t num;
};

/** "A vring address description". */
struct vhost_user_vring_addr {
	uint32_t index;
	uint32_t flags; /* bit VHOST_VRING_F_LOG */
	uint64_t desc_user_addr;
	uint64_t used_user_addr;
	uint64_t avail_user_addr;
	uint64_t log_guest_addr;
};

/** "Memory region description". */
struct vhost_user_mem_region {
	uint64_t guest_phys_addr;
	uint64_t memory_size;
	uint64_t userspace_addr;
	uint64_t mmap_offset;
};

/** "Multiple Memory regions description" (SET_MEM_TABLE): 8 + 32 n bytes. */
struct vhost_user_mem_table {
	uint32_t nregions;
	uint32_t padding;
	struct vhost_user_mem_region regions[VHOST_USER_MEM_TABLE_MAX_REGIONS];
};
#define VHOST_USER_MEM_TABLE_SIZE(n) \
	(8u + (uint32_t)(n) * (uint32_t)sizeof(struct vhost_user_mem_region))

/** "Single memory region description" (ADD_MEM_REG / REM_MEM_REG). */
struct vhost_user_mem_reg {
	uint64_t padding;
	struct vhost_user_mem_region region;
};

/** "Log description" (SET_LOG_BASE with LOG_SHMFD). */
struct vhost_user_log {
	uint64_t mmap_size;
	uint64_t mmap_offset;
};

/** IOTLB message types and permissions (struct vhost_iotlb_msg). */
enum vhost_user_iotlb_type {
	VHOST_USER_IOTLB_MISS = 1,
	VHOST_USER_IOTLB_UPDATE = 2,
	VHOST_USER_IOTLB_INVALIDATE = 3,
	VHOST_USER_IOTLB_ACCESS_FAIL = 4,
};
enum vhost_user_iotlb_perm {
	VHOST_USER_IOTLB_NOACCESS = 0,
	VHOST_USER_IOTLB_RO = 1,
	VHOST_USER_IOTLB_WO = 2,
	VHOST_USER_IOTLB_RW = 3,
};

/** "An IOTLB message": the kernel's struct vhost_iotlb_msg, 32 bytes. */
struct vhost_user_iotlb {
	uint64_t iova;
	uint64_t size;
	uint64_t uaddr;
	uint8_t perm;
	uint8_t type;
	uint8_t padding[6];
};

/** "Virtio device config space": 12-byte header, then size bytes. */
struct vhost_user_config_hdr {
	uint32_t offset;
	uint32_t size;
	uint32_t flags;
};
enum vhost_user_config_flags {
	VHOST_USER_CONFIG_FLAG_WRITABLE =
	    0, /* front-end writes a writable field */
	VHOST_USER_CONFIG_FLAG_MIGRATION = 1, /* live migration: any field */
};
struct vhost_user_config {
	struct vhost_user_config_hdr hdr;
	uint8_t region[VHOST_USER_MAX_CONFIG_SIZE];
};
#define VHOST_USER_CONFIG_HDR_SIZE 12u

/** "Vring area description" (BACKEND_VRING_HOST_NOTIFIER_MSG). */
struct vhost_user_vring_area {
	uint64_t u64; /* ring index in bits 0-7, VHOST_USER_VRING_NOFD_MASK */
	uint64_t size;
	uint64_t offset;
};

/** "Inflight description" (GET/SET_INFLIGHT_FD); 4 bytes of tail padding. */
struct vhost_user_inflight {
	uint64_t mmap_size;
	uint64_t mmap_offset;
	uint16_t num_queues;
	uint16_t queue_size;
	uint32_t padding;
};

/** "VhostUserShared": a UUID whose first three fields are big endian. */
struct vhost_user_shared {
	uint8_t uuid[16];
};

/** "Device state transfer parameters" (SET_DEVICE_STATE_FD). */
enum vhost_user_transfer_direction {
	VHOST_USER_TRANSFER_STATE_DIRECTION_SAVE = 0,
	VHOST_USER_TRANSFER_STATE_DIRECTION_LOAD = 1,
};
enum vhost_user_migration_phase {
	VHOST_USER_TRANSFER_STATE_PHASE_STOPPED = 0,
};
struct vhost_user_transfer_state {
	uint32_t direction;
	uint32_t phase;
};

/** "MMAP request" (BACKEND_SHMEM_MAP / BACKEND_SHMEM_UNMAP). */
#define VHOST_USER_FLAG_MAP_RW (UINT64_C(1) << 0)
struct vhost_user_mmap {
	uint8_t shmid;
	uint8_t padding[7];
	uint64_t fd_offset;
	uint64_t shm_offset;
	uint64_t len;
	uint64_t flags;
};

/** "VIRTIO Shared Memory Region configuration" (GET_SHMEM_CONFIG reply). */
struct vhost_user_shmem_config {
	uint32_t nregions;
	uint32_t padding;
	uint64_t memory_sizes[VHOST_USER_MAX_SHMEM_REGIONS];
};

/**
 * Largest payload this library ever produces or accepts by default. The
 * crypto session description (QEMU VhostUserCryptoSession) is the biggest
 * variable structure; 4 KiB leaves room and bounds every allocation.
 */
#define VHOST_USER_MAX_PAYLOAD 4096u

/**
 * One message in memory: header, payload, file descriptors. The payload is
 * a union of the wire structs over an aligned byte buffer: the socket layer
 * writes bytes into .raw and readers use the typed member only after the
 * size has been validated, so nothing is read through an unaligned cast.
 */
union vhost_user_payload {
	uint64_t u64;
	struct vhost_user_vring_state state;
	struct vhost_user_vring_addr addr;
	struct vhost_user_mem_table mem_table;
	struct vhost_user_mem_reg mem_reg;
	struct vhost_user_log log;
	struct vhost_user_iotlb iotlb;
	struct vhost_user_config config;
	struct vhost_user_vring_area area;
	struct vhost_user_inflight inflight;
	struct vhost_user_shared object;
	struct vhost_user_transfer_state transfer_state;
	struct vhost_user_mmap mmap;
	struct vhost_user_shmem_config shmem;
	uint8_t raw[VHOST_USER_MAX_PAYLOAD];
};

struct vhost_user_msg {
	struct vhost_user_hdr hdr;
	union vhost_user_payload payload;
	int fds[VHOST_USER_MAX_FDS];
	unsigned nfds;
};

/* Wire layout proofs. */
_Static_assert(sizeof(struct vhost_user_hdr) == VHOST_USER_HDR_SIZE, "hdr");
_Static_assert(sizeof(struct vhost_user_vring_state) == 8, "vring state");
_Static_assert(sizeof(struct vhost_user_vring_addr) == 40, "vring addr");
_Static_assert(offsetof(struct vhost_user_vring_addr, desc_user_addr) == 8,
	       "vring addr desc");
_Static_assert(offsetof(struct vhost_user_vring_addr, used_user_addr) == 16,
	       "vring addr used");
_Static_assert(offsetof(struct vhost_user_vring_addr, avail_user_addr) == 24,
	       "vring addr avail");
_Static_assert(offsetof(struct vhost_user_vring_addr, log_guest_addr) == 32,
	       "vring addr log");
_Static_assert(sizeof(struct vhost_user_mem_region) == 32, "region");
_Static_assert(offsetof(struct vhost_user_mem_table, regions) == 8,
	       "mem table regions");
_Static_assert(sizeof(struct vhost_user_mem_table) ==
		   VHOST_USER_MEM_TABLE_SIZE(VHOST_USER_MEM_TABLE_MAX_REGIONS),
	       "mem table 8+32n");
_Static_assert(sizeof(struct vhost_user_mem_reg) == 40, "single region");
_Static_assert(offsetof(struct vhost_user_mem_reg, region) == 8,
	       "single region offset");
_Static_assert(sizeof(struct vhost_user_log) == 16, "log");
_Static_assert(sizeof(struct vhost_user_iotlb) == 32, "iotlb");
_Static_assert(offsetof(struct vhost_user_iotlb, perm) == 24, "iotlb perm");
_Static_assert(offsetof(struct vhost_user_iotlb, type) == 25, "iotlb type");
_Static_assert(sizeof(struct vhost_user_config_hdr) ==
		   VHOST_USER_CONFIG_HDR_SIZE,
	       "config header");
_Static_assert(offsetof(struct vhost_user_config, region) ==
		   VHOST_USER_CONFIG_HDR_SIZE,
	       "config region");
_Static_assert(sizeof(struct vhost_user_vring_area) == 24, "vring area");
_Static_assert(sizeof(struct vhost_user_inflight) == 24, "inflight");
_Static_assert(offsetof(struct vhost_user_inflight, num_queues) == 16,
	       "inflight num_queues");
_Static_assert(offsetof(struct vhost_user_inflight, queue_size) == 18,
	       "inflight queue_size");
_Static_assert(sizeof(struct vhost_user_shared) == 16, "shared object");
_Static_assert(sizeof(struct vhost_user_transfer_state) == 8, "xfer state");
_Static_assert(sizeof(struct vhost_user_mmap) == 40, "mmap request");
_Static_assert(offsetof(struct vhost_user_mmap, fd_offset) == 8, "mmap fd_off");
_Static_assert(sizeof(struct vhost_user_shmem_config) ==
		   8 + 8 * VHOST_USER_MAX_SHMEM_REGIONS,
	       "shmem config");
_Static_assert(sizeof(union vhost_user_payload) == VHOST_USER_MAX_PAYLOAD,
	       "payload buffer bounds every struct");

/* ------------------------------------------------------------------------ */
/* Names                                                                    */
/* ------------------------------------------------------------------------ */

/** "VHOST_USER_SET_MEM_TABLE" etc.; "VHOST_USER_UNKNOWN" outside the table. */
const char *vh_proto_request_name(uint32_t request);
/** "VHOST_USER_BACKEND_IOTLB_MSG" etc.; "VHOST_USER_BACKEND_UNKNOWN" else. */
const char *vh_proto_backend_request_name(uint32_t request);
/** "MQ", "REPLY_ACK", …; NULL for a bit the specification does not define. */
const char *vh_proto_protocol_feature_name(unsigned bit);
/** "VERSION_1", "RING_PACKED", …; NULL for a bit with no transport name. */
const char *vh_proto_virtio_feature_name(unsigned bit);

/* ------------------------------------------------------------------------ */
/* Validation. Each returns 0 or a negative errno and never touches memory  */
/* outside its arguments: -EINVAL (NULL argument, a field out of its        */
/* domain), -EPROTO (header), -EMSGSIZE (a size that disagrees with the     */
/* payload), -EOVERFLOW (an address range that wraps), -ERANGE (a range     */
/* outside its container). Reasons go to the logger at debug level only:   */
/* the caller knows the request and logs the error line.                    */
/* ------------------------------------------------------------------------ */

/**
 * Check a received header: version 1, no reserved flag bit, the REPLY flag
 * as expected (@expect_reply), no NEED_REPLY on a reply, size within
 * @max_payload (and never above VHOST_USER_MAX_PAYLOAD, the size of the
 * payload buffer). -EPROTO for a flag, -EMSGSIZE for the size.
 */
int vh_proto_validate_hdr(const struct vhost_user_hdr *hdr, bool expect_reply,
			  uint32_t max_payload);

/**
 * Region: non-zero size; gpa+size, uaddr+size and mmap_offset+size do not
 * wrap. The exclusive end must be representable (a region may end at
 * UINT64_MAX - 1 but not cover byte UINT64_MAX), so later layers can use
 * start + size without overflow. -EINVAL for size 0, -EOVERFLOW for a wrap.
 */
int vh_proto_validate_region(const struct vhost_user_mem_region *r);

/**
 * Memory table of @payload_size bytes: 1..8 regions, the size is exactly
 * 8+32n, every region valid, no two regions overlap in guest-physical or in
 * user address space (adjacent regions are fine). The padding is ignored.
 * -EMSGSIZE for the size, -EINVAL for the count or an overlap.
 */
int vh_proto_validate_mem_table(const struct vhost_user_mem_table *t,
				uint32_t payload_size);

/**
 * Ring addresses: each naturally aligned as virtio requires for a split ring
 * (descriptors 16, avail 2, used 4) or a packed ring (descriptor ring 16,
 * driver event area in avail_user_addr 4, device event area in
 * used_user_addr 4), no flag bit but VHOST_VRING_F_LOG. -EINVAL.
 */
int vh_proto_validate_vring_addr(const struct vhost_user_vring_addr *a,
				 bool packed);

/**
 * Config access: @payload_size == 12 + size, 0 < size <= 256, offset + size
 * does not wrap and stays within @config_len (offsets are 0-based into the
 * device config space, exactly as QEMU sends them), flags 0 or 1.
 * -EMSGSIZE (sizes), -ERANGE (outside the config space), -EINVAL (flags).
 */
int vh_proto_validate_config(const struct vhost_user_config_hdr *c,
			     uint32_t payload_size, uint32_t config_len);

/**
 * IOTLB: type 1..4, perm <= RW; UPDATE needs a non-zero size and neither
 * iova..iova+size-1 nor uaddr..uaddr+size-1 may wrap (the last byte may be
 * UINT64_MAX, as in the kernel's vhost_chk_iotlb_overflow). INVALIDATE of
 * size 0 is accepted and means "from iova to the end of the 64-bit space":
 * QEMU sends addr_mask + 1, which is 0 for a whole-space unmap.
 */
int vh_proto_validate_iotlb(const struct vhost_user_iotlb *m);

/** Log: size non-zero, offset + size does not wrap. */
int vh_proto_validate_log(const struct vhost_user_log *l);

/**
 * Inflight description: num_queues non-zero, queue_size 1..32768,
 * mmap_offset + mmap_size does not wrap. mmap_size may be 0: it is 0 in a
 * GET_INFLIGHT_FD request and in a failed GET_INFLIGHT_FD reply.
 */
int vh_proto_validate_inflight(const struct vhost_user_inflight *in);

/**
 * MMAP request: len non-zero, fd_offset + len and shm_offset + len do not
 * wrap, no flag but VHOST_USER_FLAG_MAP_RW.
 */
int vh_proto_validate_mmap(const struct vhost_user_mmap *m);

/**
 * u64 payload of SET_VRING_KICK/CALL/ERR (and the u64 of a vring area):
 * bits 9..63 must be zero (-EINVAL). Returns the ring index (bits 0..7) in
 * *@index and whether an fd is expected (NOFD bit 8 clear) in *@has_fd.
 */
int vh_proto_decode_vring_file(uint64_t u64, uint32_t *index, bool *has_fd);

/** Build the u64 of SET_VRING_KICK/CALL/ERR; -ERANGE for an index > 255. */
int vh_proto_encode_vring_file(uint32_t index, bool has_fd, uint64_t *u64);

/**
 * Split/packed ring base in SET/GET_VRING_BASE "num": for packed rings, bits
 * 0-14 last avail index, bit 15 avail wrap counter, bits 16-30 used index,
 * bit 31 used wrap counter. Encoding keeps the low 15 bits of each index
 * (a packed ring holds at most 32768 entries, so nothing real is lost).
 */
struct vh_packed_base {
	uint16_t avail_idx;
	bool avail_wrap;
	uint16_t used_idx;
	bool used_wrap;
};
uint32_t vh_proto_encode_packed_base(const struct vh_packed_base *b);
void vh_proto_decode_packed_base(uint32_t num, struct vh_packed_base *b);

/**
 * Fill a header for request @req with @size payload bytes: version 1 plus
 * whichever of VHOST_USER_REPLY_MASK / VHOST_USER_NEED_REPLY_MASK @flags
 * carries; version bits and reserved bits in @flags are ignored.
 */
void vh_proto_init_hdr(struct vhost_user_hdr *hdr, uint32_t request,
		       uint32_t flags, uint32_t size);

/* ------------------------------------------------------------------------ */
/* Message shapes: the per-request facts the dispatchers enforce.          */
/* ------------------------------------------------------------------------ */

/** How a request's payload size is checked. */
enum vh_size_rule {
	VH_SIZE_EXACT,	  /* size == min */
	VH_SIZE_RANGE,	  /* min <= size <= max */
	VH_SIZE_MEMTABLE, /* 8 + 32 n, 1 <= n <= 8, and n fds */
	VH_SIZE_CONFIG,	  /* 12 + hdr.size, hdr.size <= 256 */
};

/** What a request gets back from its receiver. */
enum vh_reply_kind {
	VH_REPLY_NONE,	 /* nothing, unless NEED_REPLY asks for an ack */
	VH_REPLY_ALWAYS, /* a reply with a body, whatever NEED_REPLY says */
	VH_REPLY_IF_PF, /* a reply with a body iff protocol feature @reply_pf */
};

/** How the size of a reply body is checked. */
enum vh_reply_size_rule {
	VH_REPLY_SIZE_EXACT,	  /* size == reply_size */
	VH_REPLY_SIZE_AS_REQUEST, /* size == the request's payload size */
};

/**
 * One row of the request tables. Protocol features are bit numbers
 * (enum vhost_user_protocol_feature) or -1 for "none"; 0 is MQ, so every
 * row sets need_pf, need_pf2 and reply_pf explicitly.
 */
struct vh_msg_shape {
	const char *name;
	enum vh_size_rule size_rule;
	uint32_t min_size;
	uint32_t max_size;
	uint8_t min_fds;
	uint8_t max_fds;
	/* Protocol feature that must be negotiated, or -1 for none. */
	int8_t need_pf;
	/* The request addresses a vring: where its index lives. */
	enum {
		VH_RING_NONE,
		VH_RING_STATE, /* vhost_user_vring_state.index */
		VH_RING_ADDR,  /* vhost_user_vring_addr.index */
		VH_RING_FILE,  /* u64 bits 0-7 (vh_proto_decode_vring_file) */
		VH_RING_AREA   /* vhost_user_vring_area.u64 bits 0-7 */
	} ring;
	enum vh_reply_kind reply;
	int8_t reply_pf;
	/* Size of the reply body (for VH_REPLY_ALWAYS / _IF_PF) under
	 * reply_rule; 0 with VH_REPLY_SIZE_AS_REQUEST. */
	uint32_t reply_size;
	/* A second protocol feature that must also be negotiated, or -1:
	 * BACKEND_SEND_FD for back-end requests that carry an fd. */
	int8_t need_pf2;
	/* A 0-byte payload is accepted too (a known peer quirk, see the row:
	 * QEMU sends GET_SHARED_OBJECT without its UUID). */
	bool accept_empty;
	enum vh_reply_size_rule reply_rule;
	/* A 0-byte reply body is accepted too (GET_CONFIG's error form). */
	bool reply_accept_empty;
	/* File descriptors the reply body carries. */
	uint8_t reply_min_fds;
	uint8_t reply_max_fds;
};

/** Shape of front-end request @req, or NULL when the spec defines none. */
const struct vh_msg_shape *vh_proto_request_shape(uint32_t req);
/** Shape of back-end request @req, or NULL when the spec defines none. */
const struct vh_msg_shape *vh_proto_backend_request_shape(uint32_t req);

/**
 * Check a message's payload size and fd count against @shape. Returns 0,
 * -EINVAL (NULL argument), -EMSGSIZE (size), -EBADMSG (fd count; for
 * SET_MEM_TABLE also an fd count other than nregions). Reads the payload
 * with memcpy only; never reads past hdr.size.
 */
int vh_proto_check_shape(const struct vh_msg_shape *shape,
			 const struct vhost_user_msg *msg);

/**
 * Mask of the protocol features @shape needs (need_pf and need_pf2);
 * 0 when it needs none. A request is allowed when
 * (negotiated & mask) == mask. Requirements that are virtio feature bits
 * (PROTOCOL_FEATURES for GET/SET_PROTOCOL_FEATURES and SET_VRING_ENABLE,
 * ACCESS_PLATFORM for IOTLB messages) are not part of the mask.
 */
uint64_t vh_proto_shape_required_pf(const struct vh_msg_shape *shape);

/**
 * Check the reply @reply to a request of @shape whose payload had
 * @request_size bytes: body size by reply_rule (or 8, no fd, for the ack of
 * a VH_REPLY_NONE request) and fd count. Header flags and the request code
 * are vh_proto_validate_hdr's and the caller's. Returns 0, -EINVAL,
 * -EMSGSIZE, -EBADMSG.
 */
int vh_proto_check_reply_shape(const struct vh_msg_shape *shape,
			       uint32_t request_size,
			       const struct vhost_user_msg *reply);

/**
 * The ring index a message of @shape addresses, read with memcpy from its
 * payload (whose size vh_proto_check_shape has accepted). Returns 0 and
 * *@index, -ENOENT when the request addresses no ring, -EMSGSIZE when the
 * payload is too short to hold the index, -EINVAL for reserved bits in a
 * VH_RING_FILE / VH_RING_AREA u64. Bounds against the device's queue count
 * are the caller's.
 */
int vh_proto_ring_index(const struct vh_msg_shape *shape,
			const struct vhost_user_msg *msg, uint32_t *index);

#ifdef __cplusplus
}
#endif

#endif /* VHOST_PROTO_H */
