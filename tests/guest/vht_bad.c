/* SPDX-License-Identifier: MIT */
/*
 * Bad use against the real kernel: each a clear negative errno, no crash,
 * no fd left open.
 *   - unknown device node (missing; present but not vhost);
 *   - wrong order: ring and memory calls before SET_OWNER (the kernel's
 *     EPERM), a second SET_OWNER (EBUSY);
 *   - out-of-range ring index: refused by the library on vhost-net,
 *     vhost-scsi's own ENOBUFS turned into -ERANGE;
 *   - too many regions: above /sys/module/vhost/parameters/max_mem_regions;
 *   - a ring outside the memory table (-EFAULT before the ioctl);
 *   - features the device does not offer (the kernel's EOPNOTSUPP);
 *   - a tap whose vnet header does not match the features;
 *   - a reserved vsock CID, a vhost-scsi endpoint before its rings.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vhost/proto.h"
#include "vht.h"

#define GPA UINT64_C(0x40000000)

#define EXPECT_ERR(v, call, err)                                             \
	do {                                                                 \
		int r_ = (call);                                             \
		TRY((v), r_ == (err), "%s: got %d (%s), want %s", #call, r_, \
		    vh_strerror(r_), vh_strerror(err));                      \
		n_checked++;                                                 \
	} while (0)

static unsigned max_regions(void)
{
	FILE *f = fopen("/sys/module/vhost/parameters/max_mem_regions", "r");
	unsigned v = 64;

	if (f) {
		if (fscanf(f, "%u", &v) != 1)
			v = 64;
		fclose(f);
	}
	return v;
}

int vht_bad(int argc, char **argv)
{
	struct vht v;
	struct vht_mem m = {0};
	struct vh_transport *t = NULL, *t2 = NULL;
	struct vh_transport_region *rg = NULL, one;
	struct vh_transport_vring_addr a;
	unsigned max = max_regions(), i, n_checked = 0;
	uint32_t base;
	int fds0 = vht_fd_count(), tap = -1, r;

	(void)argc;
	vht_begin(&v, argv[0]);

	/* Unknown device nodes. */
	EXPECT_ERR(&v, vh_kern_open(&t, VH_KERN_NET, "/dev/vhost-nonexistent"),
		   -ENOENT);
	EXPECT_ERR(&v, vh_kern_open(&t, VH_KERN_VDPA, "/dev/vhost-vdpa-99"),
		   -ENOENT);
	EXPECT_ERR(&v, vh_kern_open(&t, VH_KERN_NET, "/dev/null"), -ENOTTY);
	EXPECT_ERR(&v, vh_kern_open(&t, VH_KERN_VDPA, NULL), -EINVAL);
	TRY(&v, t == NULL, "a failed open left a handle");

	/* Wrong order: nothing before SET_OWNER. */
	r = vh_kern_open(&t, VH_KERN_NET, NULL);
	TRY(&v, r == 0, "vh_kern_open(/dev/vhost-net): %s", vh_strerror(r));
	r = vht_mem_init(&m, GPA, 1u << 20);
	TRY(&v, r == 0, "mmap: %s", vh_strerror(r));
	one = vht_region(&m);
	EXPECT_ERR(&v, vh_transport_set_vring_num(t, 0, 64), -EPERM);
	EXPECT_ERR(&v, vh_transport_set_mem_table(t, &one, 1), -EPERM);
	EXPECT_ERR(&v, vh_transport_set_vring_call(t, 0, -1), -EPERM);
	EXPECT_ERR(&v, vh_transport_set_owner(t), 0);
	EXPECT_ERR(&v, vh_transport_set_owner(t), -EBUSY);

	/* Out-of-range ring index (vhost-net has rings 0 and 1). */
	EXPECT_ERR(&v, vh_transport_set_vring_num(t, 2, 64), -ERANGE);
	EXPECT_ERR(&v, vh_transport_get_vring_base(t, 5, &base), -ERANGE);
	EXPECT_ERR(&v, vh_kern_net_set_backend(t, 2, -1), -ERANGE);
	EXPECT_ERR(&v, vh_transport_set_vring_num(t, 0x10000, 64), -ERANGE);

	/* Too many regions. */
	rg = calloc(max + 1, sizeof(*rg));
	TRY(&v, rg != NULL, "calloc");
	for (i = 0; i <= max; i++) {
		rg[i] = one;
		rg[i].guest_phys_addr = GPA + (uint64_t)i * (2u << 20);
		rg[i].size = 4096;
	}
	EXPECT_ERR(&v, vh_transport_set_mem_table(t, rg, max + 1), -E2BIG);
	EXPECT_ERR(&v, vh_transport_set_mem_table(t, rg, max), 0);

	/* A ring no region covers. */
	EXPECT_ERR(&v, vh_transport_set_mem_table(t, &one, 1), 0);
	EXPECT_ERR(&v, vh_transport_set_vring_num(t, 0, 64), 0);
	memset(&a, 0, sizeof(a));
	a.desc = GPA + (1u << 20) - 512; /* 1 KiB table crosses the end */
	a.avail = GPA;
	a.used = GPA + 4096;
	EXPECT_ERR(&v, vh_transport_set_vring_addr(t, 0, &a), -EFAULT);
	a.desc = 0x1000; /* below the region */
	EXPECT_ERR(&v, vh_transport_set_vring_addr(t, 0, &a), -EFAULT);

	/* Features the device does not have (bit 63). */
	EXPECT_ERR(&v, vh_transport_set_features(t, UINT64_C(1) << 63),
		   -EOPNOTSUPP);

	/* A tap with a 10-byte header while VERSION_1 needs 12. */
	EXPECT_ERR(&v,
		   vh_transport_set_features(
		       t, vh_virtio_feature_mask(VH_VIRTIO_F_VERSION_1)),
		   0);
	tap = vh_kern_tap_open("vhtbad", VH_KERN_TAP_VNET_HDR, 10, NULL);
	TRY(&v, tap >= 0, "vh_kern_tap_open: %s", vh_strerror(tap));
	EXPECT_ERR(&v, vh_kern_net_set_backend(t, 0, tap), -EINVAL);

	/* Device calls on the wrong device, and a reserved vsock CID. */
	EXPECT_ERR(&v, vh_kern_vsock_set_guest_cid(t, 3), -ENOTTY);
	r = vh_kern_open(&t2, VH_KERN_VSOCK, NULL);
	TRY(&v, r == 0, "vh_kern_open(/dev/vhost-vsock): %s", vh_strerror(r));
	EXPECT_ERR(&v, vh_transport_set_owner(t2), 0);
	EXPECT_ERR(&v, vh_kern_vsock_set_guest_cid(t2, 2), -EINVAL);

	/* The kernel's own answer to a ring index past vhost-scsi's. */
	vh_transport_free(t2);
	t2 = NULL;
	r = vh_kern_open(&t2, VH_KERN_SCSI, NULL);
	TRY(&v, r == 0, "vh_kern_open(/dev/vhost-scsi): %s", vh_strerror(r));
	EXPECT_ERR(&v, vh_transport_set_owner(t2), 0);
	EXPECT_ERR(&v, vh_transport_set_vring_num(t2, 1000, 64), -ERANGE);
	/* An endpoint before the rings are set up: the kernel's EFAULT. */
	EXPECT_ERR(&v, vh_kern_scsi_set_endpoint(t2, "naa.5001405000000001", 1),
		   -EFAULT);

out:
	free(rg);
	vh_transport_free(t);
	vh_transport_free(t2);
	if (tap >= 0)
		close(tap);
	vht_mem_free(&m);
	if (!v.failed && vht_fd_count() != fds0)
		vht_fail(&v, "fd leak: %d open, %d before", vht_fd_count(),
			 fds0);
	return vht_end(&v,
		       "%u bad calls, each the expected negative errno; no "
		       "fd left open (max_mem_regions %u)",
		       n_checked, max);
}
