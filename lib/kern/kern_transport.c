/* SPDX-License-Identifier: MIT */
/*
 * The kernel implementations of include/vhost/transport.h: one ops table
 * per device kind. vhost-net, -vsock and -scsi share everything (memory
 * table through VHOST_SET_MEM_TABLE, ring GPAs translated to process
 * addresses); vhost-vdpa maps memory with IOTLB messages and adds status,
 * config and ring enable (kern_vdpa.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kern_priv.h"
#include "vhost/proto.h"

/* Arrays, not string literals: their addresses identify our ops tables and
 * cannot be merged with an equal literal elsewhere in the program. */
static const char kind_net[] = "vhost-net";
static const char kind_vsock[] = "vhost-vsock";
static const char kind_scsi[] = "vhost-scsi";
static const char kind_vdpa[] = "vhost-vdpa";

struct kern *kern_of(const struct vh_transport *t)
{
	const char *kind = vh_transport_kind(t);

	if (kind == kind_net || kind == kind_vsock || kind == kind_scsi ||
	    kind == kind_vdpa)
		return vh_transport_priv(t);
	return NULL;
}

const char *kern_kind(const struct kern *k)
{
	return kern_ops_for(k->dev)->kind;
}

int kern_want(struct vh_transport *t, enum vh_kern_device dev, const char *what,
	      struct kern **out)
{
	struct kern *k = t ? kern_of(t) : NULL;

	*out = NULL;
	if (!k)
		return -EINVAL;
	if (k->dev != dev) {
		vh_err("%s %s: %s is for %s only", kern_kind(k), k->name, what,
		       kern_ops_for(dev)->kind);
		return -ENOTTY;
	}
	*out = k;
	return 0;
}

static struct kern *kp(struct vh_transport *t)
{
	return vh_transport_priv(t);
}

/* ------------------------------------------------------------------------ */
/* Owner                                                                    */
/* ------------------------------------------------------------------------ */

int kern_op_set_owner(struct vh_transport *t)
{
	int r = KIOC(kp(t), SET_OWNER, NULL);

	if (r == 0)
		kp(t)->owner = true;
	return r;
}

int kern_op_reset_owner(struct vh_transport *t)
{
	struct kern *k = kp(t);
	int r = KIOC(k, RESET_OWNER, NULL);

	/* The kernel dropped rings, memory table and device IOTLB
	 * (vhost_dev_reset_owner()). */
	if (r == 0) {
		k->owner = false;
		k->features_set = false;
		k->backend_set = false;
		kern_iotlb_forget(k);
	}
	return r;
}

/* ------------------------------------------------------------------------ */
/* Memory and log (vhost-net, -vsock, -scsi)                                */
/* ------------------------------------------------------------------------ */

static int k_set_mem_table(struct vh_transport *t,
			   const struct vh_transport_region *rg, unsigned n)
{
	struct kern *k = kp(t);
	unsigned max = kern_max_mem_regions(), i;
	struct vh_k_memory *m;
	int r;

	if (n > max) {
		vh_err("%s %s: VHOST_SET_MEM_TABLE: %u regions, the vhost "
		       "module takes at most %u "
		       "(/sys/module/vhost/parameters/max_mem_regions)",
		       kern_kind(k), k->name, n, max);
		return -E2BIG;
	}
	m = calloc(1, sizeof(*m) + n * sizeof(m->regions[0]));
	if (!m)
		return -ENOMEM;
	m->nregions = n;
	for (i = 0; i < n; i++) {
		m->regions[i].guest_phys_addr = rg[i].guest_phys_addr;
		m->regions[i].memory_size = rg[i].size;
		m->regions[i].userspace_addr = rg[i].user_addr;
	}
	r = KIOC(k, SET_MEM_TABLE, m);
	free(m);
	return r;
}

static int k_set_log_base(struct vh_transport *t,
			  const struct vh_transport_log *log)
{
	uint64_t base;

	if (!log || !log->base)
		return -EINVAL;
	base = (uint64_t)(uintptr_t)log->base;
	return KIOC(kp(t), SET_LOG_BASE, &base);
}

static int k_set_log_fd(struct vh_transport *t, int fd)
{
	return KIOC(kp(t), SET_LOG_FD, &fd);
}

/* ------------------------------------------------------------------------ */
/* Rings                                                                    */
/* ------------------------------------------------------------------------ */

int kern_ring_area_lens(const struct vh_transport *t, uint32_t index,
			uint64_t len[3])
{
	uint64_t num = vh_transport_vring_num(t, index);
	uint64_t f = vh_transport_features(t);
	uint64_t ev = vh_virtio_has(f, VH_VIRTIO_RING_F_EVENT_IDX) ? 2 : 0;

	if (num == 0)
		return -EINVAL;
	len[0] = 16 * num;
	if (vh_virtio_has(f, VH_VIRTIO_F_RING_PACKED)) {
		len[1] = 4; /* driver event suppression */
		len[2] = 4; /* device event suppression */
	} else {
		len[1] = 4 + 2 * num + ev;
		len[2] = 4 + 8 * num + ev;
	}
	return 0;
}

static int k_set_vring_num(struct vh_transport *t, uint32_t index, uint32_t num)
{
	struct vh_k_vring_state st = {.index = index, .num = num};

	return KIOC_RING(kp(t), SET_VRING_NUM, index, &st);
}

static int send_vring_addr(struct kern *k, uint32_t index,
			   const struct vh_transport_vring_addr *a)
{
	struct vh_k_vring_addr va;

	memset(&va, 0, sizeof(va));
	va.index = index;
	va.flags = (a->flags & VH_TRANSPORT_VRING_F_LOG)
		       ? (1u << VHOST_VRING_F_LOG)
		       : 0;
	va.desc_user_addr = a->desc;
	va.avail_user_addr = a->avail;
	va.used_user_addr = a->used;
	va.log_guest_addr = a->log;
	return KIOC_RING(k, SET_VRING_ADDR, index, &va);
}

static int k_set_vring_addr(struct vh_transport *t, uint32_t index,
			    const struct vh_transport_vring_addr *addr)
{
	struct kern *k = kp(t);
	struct vh_transport_vring_addr u = *addr;
	int r;

	r = kern_check_ring(k, "VHOST_SET_VRING_ADDR", index);
	if (r < 0)
		return r;
	/* The kernel dereferences process addresses; with ACCESS_PLATFORM
	 * they are IOVAs resolved through the device IOTLB instead. */
	if (!vh_virtio_has(vh_transport_features(t),
			   VH_VIRTIO_F_ACCESS_PLATFORM)) {
		r = vh_transport_translate_vring(t, index, addr, &u);
		if (r < 0) {
			vh_err("%s %s: VHOST_SET_VRING_ADDR (ring %u): %s",
			       kern_kind(k), k->name, index,
			       r == -EINVAL ? "ring size unknown: "
					      "set_vring_num first"
					    : "ring not covered by the "
					      "memory table");
			return r == -EINVAL ? r : -EFAULT;
		}
	}
	return send_vring_addr(k, index, &u);
}

int kern_vdpa_op_set_vring_addr(struct vh_transport *t, uint32_t index,
				const struct vh_transport_vring_addr *addr)
{
	struct kern *k = kp(t);
	const uint64_t at[3] = {addr->desc, addr->avail, addr->used};
	static const char *const part[3] = {"descriptor table", "driver area",
					    "device area"};
	uint64_t len[3];
	int r, i;

	r = kern_check_ring(k, "VHOST_SET_VRING_ADDR", index);
	if (r < 0)
		return r;
	if (kern_ring_area_lens(t, index, len) < 0) {
		vh_err("%s %s: VHOST_SET_VRING_ADDR (ring %u): ring size "
		       "unknown: set_vring_num first",
		       kern_kind(k), k->name, index);
		return -EINVAL;
	}
	/* vhost-vdpa takes IOVAs: they must be mapped (IOTLB). */
	for (i = 0; i < 3; i++) {
		if (kern_iotlb_covered(k, at[i], len[i]) < 0) {
			vh_err("%s %s: VHOST_SET_VRING_ADDR (ring %u): %s at "
			       "IOVA 0x%llx (+%llu) is not mapped",
			       kern_kind(k), k->name, index, part[i],
			       (unsigned long long)at[i],
			       (unsigned long long)len[i]);
			return -EFAULT;
		}
	}
	return send_vring_addr(k, index, addr);
}

static int k_set_vring_base(struct vh_transport *t, uint32_t index,
			    uint32_t base)
{
	struct vh_k_vring_state st = {.index = index, .num = base};

	return KIOC_RING(kp(t), SET_VRING_BASE, index, &st);
}

static int k_get_vring_base(struct vh_transport *t, uint32_t index,
			    uint32_t *base)
{
	struct vh_k_vring_state st = {.index = index, .num = 0};
	int r = KIOC_RING(kp(t), GET_VRING_BASE, index, &st);

	if (r == 0)
		*base = st.num;
	return r;
}

static int k_set_vring_kick(struct vh_transport *t, uint32_t index, int fd)
{
	struct vh_k_vring_file f = {.index = index, .fd = fd};

	return KIOC_RING(kp(t), SET_VRING_KICK, index, &f);
}

static int k_set_vring_call(struct vh_transport *t, uint32_t index, int fd)
{
	struct vh_k_vring_file f = {.index = index, .fd = fd};

	return KIOC_RING(kp(t), SET_VRING_CALL, index, &f);
}

static int k_set_vring_err(struct vh_transport *t, uint32_t index, int fd)
{
	struct vh_k_vring_file f = {.index = index, .fd = fd};

	return KIOC_RING(kp(t), SET_VRING_ERR, index, &f);
}

static int k_get_queue_num(struct vh_transport *t, uint32_t *num)
{
	/* Each vhost-net fd is one RX/TX pair (more queues: more fds);
	 * vsock's event queue is the VMM's, not the kernel's. */
	(void)t;
	*num = 2;
	return 0;
}

/* vhost-scsi: rings 0 control, 1 event, then max_io_vqs request rings
 * (drivers/vhost/scsi.c: module parameter, default 128, at most 1024). */
static int k_scsi_get_queue_num(struct vh_transport *t, uint32_t *num)
{
	char buf[32] = "";
	unsigned long v = 128;
	FILE *f = fopen("/sys/module/vhost_scsi/parameters/max_io_vqs", "re");

	(void)t;
	if (f) {
		if (fgets(buf, sizeof(buf), f))
			v = strtoul(buf, NULL, 10);
		fclose(f);
	}
	if (v == 0)
		v = 1;
	if (v > 1024)
		v = 1024;
	*num = (uint32_t)v + 2;
	return 0;
}

static int k_get_max_mem_slots(struct vh_transport *t, uint32_t *slots)
{
	(void)t;
	*slots = kern_max_mem_regions();
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Tables                                                                   */
/* ------------------------------------------------------------------------ */

#define KERN_COMMON_OPS                                                       \
	.get_features = kern_op_get_features,                                 \
	.set_features = kern_op_set_features, .set_owner = kern_op_set_owner, \
	.reset_owner = kern_op_reset_owner, .set_vring_num = k_set_vring_num, \
	.set_vring_base = k_set_vring_base,                                   \
	.get_vring_base = k_get_vring_base,                                   \
	.set_vring_kick = k_set_vring_kick,                                   \
	.set_vring_call = k_set_vring_call, .set_vring_err = k_set_vring_err, \
	.destroy = kern_op_destroy

#define KERN_HOST_OPS                                                         \
	KERN_COMMON_OPS,                                                      \
	    .set_mem_table = k_set_mem_table, .set_log_base = k_set_log_base, \
	    .set_log_fd = k_set_log_fd, .set_vring_addr = k_set_vring_addr,   \
	    .get_max_mem_slots = k_get_max_mem_slots

static const struct vh_transport_ops net_ops = {
    .kind = kind_net,
    KERN_HOST_OPS,
    .get_queue_num = k_get_queue_num,
};

static const struct vh_transport_ops vsock_ops = {
    .kind = kind_vsock,
    KERN_HOST_OPS,
    .get_queue_num = k_get_queue_num,
};

static const struct vh_transport_ops scsi_ops = {
    .kind = kind_scsi,
    KERN_HOST_OPS,
    .get_queue_num = k_scsi_get_queue_num,
};

static const struct vh_transport_ops vdpa_ops = {
    .kind = kind_vdpa,
    KERN_COMMON_OPS,
    .set_mem_table = kern_vdpa_set_mem_table,
    .set_vring_addr = kern_vdpa_op_set_vring_addr,
    .set_vring_enable = kern_vdpa_op_set_vring_enable,
    .get_config = kern_vdpa_op_get_config,
    .set_config = kern_vdpa_op_set_config,
    .set_status = kern_vdpa_op_set_status,
    .get_status = kern_vdpa_op_get_status,
    .reset_device = kern_vdpa_op_reset_device,
    .get_queue_num = kern_vdpa_op_get_queue_num,
};

const struct vh_transport_ops *kern_ops_for(enum vh_kern_device dev)
{
	switch (dev) {
	case VH_KERN_NET:
		return &net_ops;
	case VH_KERN_VSOCK:
		return &vsock_ops;
	case VH_KERN_SCSI:
		return &scsi_ops;
	default:
		return &vdpa_ops;
	}
}
