/* SPDX-License-Identifier: MIT */
/*
 * vhost-net: ring backends (a tap or a packet socket), the virtio-net
 * header mode behind feature bit 27, and a tap helper.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kern_priv.h"
#include "vhost/proto.h"

#define TUN_PATH "/dev/net/tun"

int vh_kern_net_set_hdr(struct vh_transport *t, enum vh_kern_net_hdr who)
{
	struct kern *k;
	int r;

	if (who != VH_KERN_NET_HDR_BACKEND && who != VH_KERN_NET_HDR_VHOST)
		return -EINVAL;
	r = kern_want(t, VH_KERN_NET, "the virtio-net header mode", &k);
	if (r == 0)
		k->net_hdr = who;
	return r;
}

unsigned vh_kern_net_hdr_len(uint64_t features)
{
	/* virtio 1.2 §5.1.6: num_buffers is there with VERSION_1 or
	 * MRG_RXBUF; the legacy header without it is 10 bytes. */
	if (vh_virtio_has(features, VH_VIRTIO_F_VERSION_1) ||
	    (features & (UINT64_C(1) << VH_K_NET_F_MRG_RXBUF)))
		return 12;
	return 10;
}

/* A tap's header set-up must match what vhost-net will do with it; any
 * other kind of fd (a packet socket) is not checked. */
static int check_tap(struct kern *k, uint32_t index, int fd)
{
	struct ifreq ifr;
	bool has_hdr, want_hdr = k->net_hdr == VH_KERN_NET_HDR_BACKEND;
	int sz = 0;
	unsigned want_sz = vh_kern_net_hdr_len(k->acked);

	memset(&ifr, 0, sizeof(ifr));
	if (ioctl(fd, TUNGETIFF, &ifr) < 0)
		return 0; /* not a tap */
	has_hdr = (ifr.ifr_flags & IFF_VNET_HDR) != 0;
	if (has_hdr != want_hdr) {
		vh_err("%s %s: VHOST_NET_SET_BACKEND (ring %u): tap %.16s %s "
		       "IFF_VNET_HDR but the header mode says the %s",
		       kern_kind(k), k->name, index, ifr.ifr_name,
		       has_hdr ? "has" : "lacks",
		       want_hdr ? "tap carries the header"
				: "header is vhost's");
		return -EINVAL;
	}
	if (has_hdr && ioctl(fd, TUNGETVNETHDRSZ, &sz) == 0 &&
	    (unsigned)sz != want_sz) {
		vh_err("%s %s: VHOST_NET_SET_BACKEND (ring %u): tap %.16s "
		       "has a %d-byte vnet header, the features need %u",
		       kern_kind(k), k->name, index, ifr.ifr_name, sz, want_sz);
		return -EINVAL;
	}
	return 0;
}

int vh_kern_net_set_backend(struct vh_transport *t, uint32_t index, int fd)
{
	struct vh_k_vring_file f = {.index = index, .fd = fd};
	struct kern *k;
	int r;

	r = kern_want(t, VH_KERN_NET, "VHOST_NET_SET_BACKEND", &k);
	if (r < 0)
		return r;
	if (fd < -1)
		return -EINVAL;
	r = kern_check_ring(k, "VHOST_NET_SET_BACKEND", index);
	if (r == 0 && fd >= 0 && k->features_set)
		r = check_tap(k, index, fd);
	if (r == 0)
		r = KIOC_RING(k, NET_SET_BACKEND, index, &f);
	return r;
}

int vh_kern_tap_open(const char *name, unsigned flags, unsigned vnet_hdr_len,
		     char *ifname)
{
	const unsigned known = VH_KERN_TAP_VNET_HDR | VH_KERN_TAP_MULTI_QUEUE;
	struct ifreq ifr;
	int fd, r, sz = (int)vnet_hdr_len;

	if (flags & ~known)
		return -EINVAL;
	if ((flags & VH_KERN_TAP_VNET_HDR) && vnet_hdr_len != 10 &&
	    vnet_hdr_len != 12)
		return -EINVAL;
	if (name && strlen(name) >= IFNAMSIZ)
		return -ENAMETOOLONG;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	if (flags & VH_KERN_TAP_VNET_HDR)
		ifr.ifr_flags |= IFF_VNET_HDR;
	if (flags & VH_KERN_TAP_MULTI_QUEUE)
		ifr.ifr_flags |= IFF_MULTI_QUEUE;
	if (name)
		memcpy(ifr.ifr_name, name, strlen(name));

	fd = open(TUN_PATH, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		vh_err("tap: open " TUN_PATH ": %s", vh_strerror(r));
		return r;
	}
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		r = -errno;
		vh_err("tap %s: TUNSETIFF: %s", name && *name ? name : "(new)",
		       vh_strerror(r));
		close(fd);
		return r;
	}
	if ((flags & VH_KERN_TAP_VNET_HDR) &&
	    ioctl(fd, TUNSETVNETHDRSZ, &sz) < 0) {
		r = -errno;
		vh_err("tap %.16s: TUNSETVNETHDRSZ %d: %s", ifr.ifr_name, sz,
		       vh_strerror(r));
		close(fd);
		return r;
	}
	if (ifname)
		snprintf(ifname, IFNAMSIZ, "%.15s", ifr.ifr_name);
	return fd;
}
