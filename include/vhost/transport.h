/* SPDX-License-Identifier: MIT */
/*
 * libvhost — transport: the VMM's uniform handle over one vhost device,
 * whatever carries it.
 *
 * A struct vh_transport is a small object with an ops vtable. The same
 * calls drive a vhost-user back-end (implemented here, over a struct
 * vh_frontend) and, in a later layer (include/vhost/kern.h), the kernel's
 * /dev/vhost-net, /dev/vhost-vsock, /dev/vhost-scsi and /dev/vhost-vdpa-N
 * through their ioctls. An operation a transport cannot perform returns
 * -EOPNOTSUPP; every other failure is a negative errno from the transport
 * (see its own header for the exact set).
 *
 * Addresses. The VMM speaks guest-physical addresses (GPA): the memory
 * table maps GPA ranges to the process addresses where the VMM mapped guest
 * memory (and, for vhost-user, to the fd and offset the back-end maps), and
 * ring addresses are GPAs. Each implementation turns them into what its
 * device expects:
 *   - vhost-user: SET_VRING_ADDR carries front-end user addresses, so ring
 *     GPAs are translated through the last memory table. They pass
 *     unchanged when VIRTIO_F_ACCESS_PLATFORM is acknowledged (they are
 *     IOVAs then) or when the protocol feature GPA_ADDRESSES is negotiated
 *     (read here as "ring addresses are guest-physical"; that feature is
 *     newer than the spec text this library was checked against);
 *   - kernel vhost: the same translation to process addresses (the kernel
 *     reads and writes them); fds are ignored;
 *   - vhost-vdpa: the memory table becomes IOTLB updates with IOVA = GPA,
 *     and ring GPAs pass unchanged.
 * A ring range no region covers is refused (-EFAULT), never sent.
 *
 * File descriptors passed in are borrowed; the caller keeps and closes them
 * (a transport that needs one beyond the call dups it).
 *
 * Threads: a transport is used by one thread at a time, or the caller
 * serialises calls.
 *
 * For implementers (kernel layer): fill a const struct vh_transport_ops,
 * create the handle with vh_transport_create() and reach your state with
 * vh_transport_priv(). The generic layer records the memory table, ring
 * sizes and acknowledged features, and offers vh_transport_translate().
 */
#ifndef VHOST_TRANSPORT_H
#define VHOST_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vh_transport;
struct vh_frontend;

/** One region of guest memory. */
struct vh_transport_region {
	uint64_t guest_phys_addr;
	uint64_t size;
	/* Where this process mapped the region. Kernel vhost dereferences
	 * it; vhost-user sends it as the region's user address, the address
	 * space SET_VRING_ADDR refers to. */
	uint64_t user_addr;
	/* Offset of the region within @fd (vhost-user's mmap offset). */
	uint64_t mmap_offset;
	/* Shared memory holding the region (borrowed). vhost-user sends it;
	 * kernel transports ignore it (-1 allowed there). */
	int fd;
};

/** Log used-ring writes of this ring (vhost VHOST_VRING_F_LOG). */
#define VH_TRANSPORT_VRING_F_LOG (1u << 0)

/** A ring's location: GPAs (IOVAs with VIRTIO_F_ACCESS_PLATFORM). */
struct vh_transport_vring_addr {
	uint64_t desc;	/* descriptor table / ring */
	uint64_t avail; /* driver area */
	uint64_t used;	/* device area */
	uint64_t log;	/* GPA used to log used-ring writes */
	uint32_t flags; /* VH_TRANSPORT_VRING_F_LOG */
};

/** The dirty log. */
struct vh_transport_log {
	/* The log in this process (kernel vhost: VHOST_SET_LOG_BASE). */
	void *base;
	/* Its size in bytes, and its shared memory (vhost-user: the
	 * LOG_SHMFD form of SET_LOG_BASE); fd borrowed, -1 for kernel. */
	uint64_t size;
	int fd;
	uint64_t offset;
};

/**
 * The vtable. Every member may be NULL: the generic call then returns
 * -EOPNOTSUPP. @t is the handle; vh_transport_priv(t) is the
 * implementation's state.
 */
struct vh_transport_ops {
	/* "vhost-user", "vhost-net", "vhost-vdpa", ... for log lines. */
	const char *kind;

	/* Device and transport feature bits the device offers / the VMM
	 * acknowledges (virtio feature bits; transport-private bits such as
	 * vhost-user's PROTOCOL_FEATURES are handled inside). */
	int (*get_features)(struct vh_transport *t, uint64_t *features);
	int (*set_features)(struct vh_transport *t, uint64_t features);

	/* Take / give up ownership of the device (VHOST_SET_OWNER,
	 * VHOST_RESET_OWNER). */
	int (*set_owner)(struct vh_transport *t);
	int (*reset_owner)(struct vh_transport *t);

	/* Replace the whole memory table (at least one region). */
	int (*set_mem_table)(struct vh_transport *t,
			     const struct vh_transport_region *regions,
			     unsigned n);

	/* Dirty logging: where the log is, and the eventfd signalled when it
	 * was written (borrowed; -1 to unset where supported). */
	int (*set_log_base)(struct vh_transport *t,
			    const struct vh_transport_log *log);
	int (*set_log_fd)(struct vh_transport *t, int fd);

	/* Rings: size, location (GPAs, see above), next index to process,
	 * and the eventfds (borrowed; -1 unbinds / asks for polling). */
	int (*set_vring_num)(struct vh_transport *t, uint32_t index,
			     uint32_t num);
	int (*set_vring_addr)(struct vh_transport *t, uint32_t index,
			      const struct vh_transport_vring_addr *addr);
	int (*set_vring_base)(struct vh_transport *t, uint32_t index,
			      uint32_t base);
	/* Stops the ring and reports its next index. */
	int (*get_vring_base)(struct vh_transport *t, uint32_t index,
			      uint32_t *base);
	int (*set_vring_kick)(struct vh_transport *t, uint32_t index, int fd);
	int (*set_vring_call)(struct vh_transport *t, uint32_t index, int fd);
	int (*set_vring_err)(struct vh_transport *t, uint32_t index, int fd);
	/* Per-ring enable (vhost-user with PROTOCOL_FEATURES, vdpa). */
	int (*set_vring_enable)(struct vh_transport *t, uint32_t index,
				bool enable);

	/* Device config space (vhost-user CONFIG, vdpa), 0-based offsets. */
	int (*get_config)(struct vh_transport *t, uint32_t offset, void *buf,
			  uint32_t len);
	int (*set_config)(struct vh_transport *t, uint32_t offset,
			  const void *buf, uint32_t len);

	/* Virtio device status byte (vhost-user STATUS, vdpa). */
	int (*set_status)(struct vh_transport *t, uint8_t status);
	int (*get_status)(struct vh_transport *t, uint8_t *status);

	/* Reset the device to its initial state, keeping ownership
	 * (vhost-user RESET_DEVICE; vdpa: status 0). */
	int (*reset_device)(struct vh_transport *t);

	/* Most rings the device supports (vhost-user MQ, vdpa) and most
	 * memory regions accepted (vhost-user CONFIGURE_MEM_SLOTS; kernel:
	 * max_mem_regions). */
	int (*get_queue_num)(struct vh_transport *t, uint32_t *num);
	int (*get_max_mem_slots)(struct vh_transport *t, uint32_t *slots);

	/* Release the implementation's state (close its fds). */
	void (*destroy)(struct vh_transport *t);
};

/* ------------------------------------------------------------------------ */
/* Implementations                                                          */
/* ------------------------------------------------------------------------ */

/**
 * vhost-user: wrap front-end @f. Takes ownership of @f (vh_transport_free()
 * frees it), also on failure. The caller does the vhost-user-specific
 * opening on @f first (vh_frontend_negotiate(): protocol features, back-end
 * channel) and may keep using @f for vhost-user-only requests while the
 * transport lives.
 *   - get_features hides VHOST_USER_F_PROTOCOL_FEATURES; set_features adds
 *     it back whenever the back-end offered it, so protocol features stay
 *     in force (GET_FEATURES must have been issued, e.g. by negotiate).
 *   - set_mem_table sends SET_MEM_TABLE: 1..8 regions (-E2BIG above).
 *   - set_log_base uses the LOG_SHMFD form (fd, size, offset).
 *   - get_config / set_config: at most 256 bytes per call (CONFIG).
 *   - reset_device needs RESET_DEVICE; status needs STATUS;
 *     get_queue_num needs MQ; get_max_mem_slots needs CONFIGURE_MEM_SLOTS;
 *     set_vring_enable needs PROTOCOL_FEATURES in use: -EOPNOTSUPP else.
 * Errors: -ENOMEM.
 */
int vh_transport_vhost_user_new(struct vh_transport **out,
				struct vh_frontend *f);

/** The front-end under a vhost-user transport; NULL for another kind. */
struct vh_frontend *vh_transport_vhost_user_frontend(struct vh_transport *t);

/* Kernel vhost (vhost-net, vhost-vsock, vhost-scsi, vhost-vdpa): see
 * include/vhost/kern.h, which builds the same handle with
 * vh_transport_create() and its own ops. */

/* ------------------------------------------------------------------------ */
/* The uniform calls. Each returns 0 or a negative errno; -EOPNOTSUPP when  */
/* the transport has no such operation.                                     */
/* ------------------------------------------------------------------------ */

/** "vhost-user", … */
const char *vh_transport_kind(const struct vh_transport *t);

int vh_transport_get_features(struct vh_transport *t, uint64_t *features);
/** On success the features are recorded (see vh_transport_features()). */
int vh_transport_set_features(struct vh_transport *t, uint64_t features);
int vh_transport_set_owner(struct vh_transport *t);
int vh_transport_reset_owner(struct vh_transport *t);
/**
 * Regions must not overlap in GPA and have a non-zero size that does not
 * wrap (-EINVAL). On success a copy (without fds) is kept for translation.
 */
int vh_transport_set_mem_table(struct vh_transport *t,
			       const struct vh_transport_region *regions,
			       unsigned n);
int vh_transport_set_log_base(struct vh_transport *t,
			      const struct vh_transport_log *log);
int vh_transport_set_log_fd(struct vh_transport *t, int fd);
/** On success the size is recorded (ring ranges for translation). */
int vh_transport_set_vring_num(struct vh_transport *t, uint32_t index,
			       uint32_t num);
/**
 * Ring @index's areas (GPAs). Where the implementation translates them
 * (vhost-user, kernel), set_vring_num must have been called for the ring
 * first (-EINVAL): the ring's size bounds the ranges that must lie in the
 * memory table (-EFAULT otherwise, nothing sent).
 */
int vh_transport_set_vring_addr(struct vh_transport *t, uint32_t index,
				const struct vh_transport_vring_addr *addr);
int vh_transport_set_vring_base(struct vh_transport *t, uint32_t index,
				uint32_t base);
int vh_transport_get_vring_base(struct vh_transport *t, uint32_t index,
				uint32_t *base);
int vh_transport_set_vring_kick(struct vh_transport *t, uint32_t index, int fd);
int vh_transport_set_vring_call(struct vh_transport *t, uint32_t index, int fd);
int vh_transport_set_vring_err(struct vh_transport *t, uint32_t index, int fd);
int vh_transport_set_vring_enable(struct vh_transport *t, uint32_t index,
				  bool enable);
int vh_transport_get_config(struct vh_transport *t, uint32_t offset, void *buf,
			    uint32_t len);
int vh_transport_set_config(struct vh_transport *t, uint32_t offset,
			    const void *buf, uint32_t len);
int vh_transport_set_status(struct vh_transport *t, uint8_t status);
int vh_transport_get_status(struct vh_transport *t, uint8_t *status);
int vh_transport_reset_device(struct vh_transport *t);
int vh_transport_get_queue_num(struct vh_transport *t, uint32_t *num);
int vh_transport_get_max_mem_slots(struct vh_transport *t, uint32_t *slots);

/** Destroy the implementation and free @t. NULL accepted. */
void vh_transport_free(struct vh_transport *t);

/* ------------------------------------------------------------------------ */
/* For implementations                                                      */
/* ------------------------------------------------------------------------ */

/**
 * Make a handle over @ops (static storage) and @priv (owned by the
 * implementation, released by ops->destroy). Errors: -ENOMEM (@priv is not
 * touched; the caller releases it).
 */
int vh_transport_create(struct vh_transport **out,
			const struct vh_transport_ops *ops, void *priv);

/** The implementation's state given to vh_transport_create(). */
void *vh_transport_priv(const struct vh_transport *t);

/** Features recorded by the last successful set_features (0 before). */
uint64_t vh_transport_features(const struct vh_transport *t);

/** Size recorded for ring @index by set_vring_num; 0 when unknown. */
uint32_t vh_transport_vring_num(const struct vh_transport *t, uint32_t index);

/**
 * Translate the GPA range [@gpa, @gpa + @len) through the recorded memory
 * table to the process/user address *@uaddr. The range must lie within one
 * region. Errors: -EFAULT (not covered or wraps), -ENOENT (no table yet).
 */
int vh_transport_translate(const struct vh_transport *t, uint64_t gpa,
			   uint64_t len, uint64_t *uaddr);

/**
 * Translate a ring's three areas (sizes from the recorded ring size and the
 * recorded RING_PACKED / EVENT_IDX features) into @out (flags and log are
 * copied). Errors: -EINVAL (ring size unknown), translate's errors.
 */
int vh_transport_translate_vring(const struct vh_transport *t, uint32_t index,
				 const struct vh_transport_vring_addr *in,
				 struct vh_transport_vring_addr *out);

#ifdef __cplusplus
}
#endif

#endif /* VHOST_TRANSPORT_H */
