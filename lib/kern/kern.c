/* SPDX-License-Identifier: MIT */
/*
 * Kernel vhost handles: opening or adopting a /dev/vhost-* fd, the one place
 * ioctls are issued and their failures logged, ring index checks and the
 * vhost module's region limit.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kern_priv.h"

/* drivers/vhost/vhost.c: "static ushort max_mem_regions = 64;" */
#define KERN_DEFAULT_MAX_MEM_REGIONS 64u
#define KERN_MAX_MEM_REGIONS_PATH    "/sys/module/vhost/parameters/max_mem_regions"

/* VHOST_NET_VQ_MAX and vsock's two rings (drivers/vhost/net.c, vsock.c). */
#define KERN_NET_RINGS	 2u
#define KERN_VSOCK_RINGS 2u

static const char *default_path(enum vh_kern_device dev)
{
	switch (dev) {
	case VH_KERN_NET:
		return "/dev/vhost-net";
	case VH_KERN_VSOCK:
		return "/dev/vhost-vsock";
	case VH_KERN_SCSI:
		return "/dev/vhost-scsi";
	default:
		return NULL;
	}
}

static bool valid_device(enum vh_kern_device dev)
{
	return dev == VH_KERN_NET || dev == VH_KERN_VSOCK ||
	       dev == VH_KERN_SCSI || dev == VH_KERN_VDPA;
}

bool kern_unknown_ioctl(const struct kern *k, int err, int64_t ring)
{
	/* Every vhost driver hands an ioctl it does not know to
	 * vhost_vring_ioctl(), which reads a ring index from the argument
	 * first: ENOBUFS when that word happens to be >= the number of
	 * rings, ENOTTY otherwise. */
	(void)k;
	return err == -ENOTTY || (err == -ENOBUFS && ring < 0);
}

int kern_ioctl(struct kern *k, unsigned long req, const char *name,
	       int64_t ring, void *arg, unsigned flags)
{
	char where[32] = "";
	int r;

	if (ring >= 0) {
		r = kern_check_ring(k, name, (uint32_t)ring);
		if (r < 0)
			return r;
		snprintf(where, sizeof(where), " (ring %u)", (unsigned)ring);
	}
	do
		r = ioctl(k->fd, req, arg);
	while (r < 0 && errno == EINTR);
	if (r >= 0)
		return 0;
	r = -errno;
	if (flags & KI_QUIET)
		return r;
	if ((flags & KI_OPTIONAL) && kern_unknown_ioctl(k, r, ring)) {
		vh_info("%s %s: %s%s: not supported by this kernel",
			kern_kind(k), k->name, name, where);
		return -EOPNOTSUPP;
	}
	if (r == -ENOBUFS && ring >= 0) {
		/* vhost_vring_ioctl(): "if (idx >= d->nvqs) return -ENOBUFS" */
		vh_err("%s %s: %s%s: ring index out of range for the device",
		       kern_kind(k), k->name, name, where);
		return -ERANGE;
	}
	vh_err("%s %s: %s%s: %s%s", kern_kind(k), k->name, name, where,
	       vh_strerror(r),
	       r == -EPERM && !k->owner ? " (VHOST_SET_OWNER was not called)"
					: "");
	return r;
}

int kern_check_ring(struct kern *k, const char *what, uint32_t index)
{
	uint32_t n = 0, count = 0;

	switch (k->dev) {
	case VH_KERN_NET:
		n = KERN_NET_RINGS;
		break;
	case VH_KERN_VSOCK:
		n = KERN_VSOCK_RINGS;
		break;
	case VH_KERN_VDPA:
		if (!k->nvqs_known) {
			k->nvqs_known = true;
			if (kern_ioctl(k, VH_K_VDPA_GET_VQS_COUNT,
				       "VHOST_VDPA_GET_VQS_COUNT", KI_NO_RING,
				       &count, KI_QUIET) == 0)
				k->nvqs = count;
		}
		n = k->nvqs;
		break;
	default: /* vhost-scsi: the kernel's own check (ENOBUFS) */
		break;
	}
	if (n != 0 && index >= n) {
		vh_err("%s %s: %s: ring %u out of range (the device has %u)",
		       kern_kind(k), k->name, what, index, n);
		return -ERANGE;
	}
	return 0;
}

unsigned kern_max_mem_regions(void)
{
	char buf[32];
	unsigned long v;
	char *end;
	ssize_t n;
	int fd = open(KERN_MAX_MEM_REGIONS_PATH, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return KERN_DEFAULT_MAX_MEM_REGIONS;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return KERN_DEFAULT_MAX_MEM_REGIONS;
	buf[n] = '\0';
	v = strtoul(buf, &end, 10);
	if (end == buf || v == 0 || v > 65535)
		return KERN_DEFAULT_MAX_MEM_REGIONS;
	return (unsigned)v;
}

static void kern_free(struct kern *k)
{
	if (!k)
		return;
	if (k->fd >= 0)
		close(k->fd);
	free(k->maps);
	free(k);
}

void kern_op_destroy(struct vh_transport *t)
{
	kern_free(vh_transport_priv(t));
}

/* Takes ownership of @fd. @name is the path or a caller's name. */
static int adopt(struct vh_transport **out, enum vh_kern_device dev, int fd,
		 const char *name)
{
	struct kern *k;
	uint64_t features;
	int r;

	k = calloc(1, sizeof(*k));
	if (!k) {
		close(fd);
		return -ENOMEM;
	}
	k->dev = dev;
	k->fd = fd;
	if (name)
		snprintf(k->name, sizeof(k->name), "%s", name);
	else
		snprintf(k->name, sizeof(k->name), "fd %d", fd);

	/* Every vhost driver answers GET_FEATURES without an owner; anything
	 * else (ENOTTY, EINVAL) means this is not a vhost device. */
	r = kern_ioctl(k, VH_K_GET_FEATURES, "VHOST_GET_FEATURES", KI_NO_RING,
		       &features, KI_QUIET);
	if (r == -ENOTTY || r == -EINVAL) {
		vh_err("%s %s: not a vhost device (VHOST_GET_FEATURES: %s)",
		       kern_kind(k), k->name, vh_strerror(r));
		r = -ENOTTY;
	} else if (r < 0) {
		vh_err("%s %s: VHOST_GET_FEATURES: %s", kern_kind(k), k->name,
		       vh_strerror(r));
	}
	if (r == 0)
		r = vh_transport_create(out, kern_ops_for(dev), k);
	if (r < 0)
		kern_free(k);
	return r;
}

int vh_kern_adopt(struct vh_transport **out, enum vh_kern_device dev, int fd,
		  const char *name)
{
	if (out)
		*out = NULL;
	if (!out || !valid_device(dev) || fd < 0) {
		if (fd >= 0)
			close(fd);
		return -EINVAL;
	}
	return adopt(out, dev, fd, name);
}

int vh_kern_open(struct vh_transport **out, enum vh_kern_device dev,
		 const char *path)
{
	int fd, r;

	if (out)
		*out = NULL;
	if (!out || !valid_device(dev))
		return -EINVAL;
	if (!path)
		path = default_path(dev);
	if (!path) {
		vh_err("vhost-vdpa: no device path given (/dev/vhost-vdpa-N)");
		return -EINVAL;
	}
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		vh_err("%s: open %s: %s%s", kern_ops_for(dev)->kind, path,
		       vh_strerror(r),
		       r == -ENOENT ? " (no such device node: is the module "
				      "loaded?)"
				    : "");
		return r;
	}
	return adopt(out, dev, fd, path);
}

enum vh_kern_device vh_kern_device_type(const struct vh_transport *t)
{
	const struct kern *k = t ? kern_of(t) : NULL;

	return k ? k->dev : (enum vh_kern_device)0;
}

int vh_kern_fd(const struct vh_transport *t)
{
	const struct kern *k = t ? kern_of(t) : NULL;

	return k ? k->fd : -EINVAL;
}
