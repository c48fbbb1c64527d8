/* SPDX-License-Identifier: MIT */
/*
 * vhost-user-probe: device feature names and config space decoders.
 * Bit numbers and layouts from the virtio 1.2 specification (§5.1.3 and
 * §5.1.4 network device, §5.2.3 and §5.2.4 block device).
 */
#include <stdio.h>
#include <string.h>

#include "probe_decode.h"
#include "vhost/proto.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char *const blk_names[64] = {
    [0] = "VIRTIO_BLK_F_BARRIER",
    [1] = "VIRTIO_BLK_F_SIZE_MAX",
    [2] = "VIRTIO_BLK_F_SEG_MAX",
    [4] = "VIRTIO_BLK_F_GEOMETRY",
    [5] = "VIRTIO_BLK_F_RO",
    [6] = "VIRTIO_BLK_F_BLK_SIZE",
    [7] = "VIRTIO_BLK_F_SCSI",
    [9] = "VIRTIO_BLK_F_FLUSH",
    [10] = "VIRTIO_BLK_F_TOPOLOGY",
    [11] = "VIRTIO_BLK_F_CONFIG_WCE",
    [12] = "VIRTIO_BLK_F_MQ",
    [13] = "VIRTIO_BLK_F_DISCARD",
    [14] = "VIRTIO_BLK_F_WRITE_ZEROES",
    [15] = "VIRTIO_BLK_F_LIFETIME",
    [16] = "VIRTIO_BLK_F_SECURE_ERASE",
    [17] = "VIRTIO_BLK_F_ZONED",
};

static const char *const net_names[64] = {
    [0] = "VIRTIO_NET_F_CSUM",
    [1] = "VIRTIO_NET_F_GUEST_CSUM",
    [2] = "VIRTIO_NET_F_CTRL_GUEST_OFFLOADS",
    [3] = "VIRTIO_NET_F_MTU",
    [5] = "VIRTIO_NET_F_MAC",
    [6] = "VIRTIO_NET_F_GSO",
    [7] = "VIRTIO_NET_F_GUEST_TSO4",
    [8] = "VIRTIO_NET_F_GUEST_TSO6",
    [9] = "VIRTIO_NET_F_GUEST_ECN",
    [10] = "VIRTIO_NET_F_GUEST_UFO",
    [11] = "VIRTIO_NET_F_HOST_TSO4",
    [12] = "VIRTIO_NET_F_HOST_TSO6",
    [13] = "VIRTIO_NET_F_HOST_ECN",
    [14] = "VIRTIO_NET_F_HOST_UFO",
    [15] = "VIRTIO_NET_F_MRG_RXBUF",
    [16] = "VIRTIO_NET_F_STATUS",
    [17] = "VIRTIO_NET_F_CTRL_VQ",
    [18] = "VIRTIO_NET_F_CTRL_RX",
    [19] = "VIRTIO_NET_F_CTRL_VLAN",
    [20] = "VIRTIO_NET_F_CTRL_RX_EXTRA",
    [21] = "VIRTIO_NET_F_GUEST_ANNOUNCE",
    [22] = "VIRTIO_NET_F_MQ",
    [23] = "VIRTIO_NET_F_CTRL_MAC_ADDR",
    [50] = "VIRTIO_NET_F_DEVICE_STATS",
    [52] = "VIRTIO_NET_F_VQ_NOTF_COAL",
    [53] = "VIRTIO_NET_F_NOTF_COAL",
    [54] = "VIRTIO_NET_F_GUEST_USO4",
    [55] = "VIRTIO_NET_F_GUEST_USO6",
    [56] = "VIRTIO_NET_F_HOST_USO",
    [57] = "VIRTIO_NET_F_HASH_REPORT",
    [59] = "VIRTIO_NET_F_GUEST_HDRLEN",
    [60] = "VIRTIO_NET_F_RSS",
    [61] = "VIRTIO_NET_F_RSC_EXT",
    [62] = "VIRTIO_NET_F_STANDBY",
    [63] = "VIRTIO_NET_F_SPEED_DUPLEX",
};

/* Transport bits, prefixed as the spec spells them. */
static const char *transport_name(unsigned bit)
{
	static const char *const prefixed[64] = {
	    [24] = "VIRTIO_F_NOTIFY_ON_EMPTY",
	    [26] = "VHOST_F_LOG_ALL",
	    [27] = "VIRTIO_F_ANY_LAYOUT",
	    [28] = "VIRTIO_RING_F_INDIRECT_DESC",
	    [29] = "VIRTIO_RING_F_EVENT_IDX",
	    [30] = "VHOST_USER_F_PROTOCOL_FEATURES",
	    [32] = "VIRTIO_F_VERSION_1",
	    [33] = "VIRTIO_F_ACCESS_PLATFORM",
	    [34] = "VIRTIO_F_RING_PACKED",
	    [35] = "VIRTIO_F_IN_ORDER",
	    [36] = "VIRTIO_F_ORDER_PLATFORM",
	    [37] = "VIRTIO_F_SR_IOV",
	    [38] = "VIRTIO_F_NOTIFICATION_DATA",
	    [39] = "VIRTIO_F_NOTIF_CONFIG_DATA",
	    [40] = "VIRTIO_F_RING_RESET",
	    [41] = "VIRTIO_F_ADMIN_VQ",
	};

	if (bit < ARRAY_SIZE(prefixed) && prefixed[bit])
		return prefixed[bit];
	/* Anything the wire layer names that this table does not. */
	return vh_proto_virtio_feature_name(bit);
}

const char *probe_feature_name(enum probe_type type, unsigned bit)
{
	const char *n = NULL;

	if (bit >= 64)
		return NULL;
	if (type == PROBE_TYPE_BLK)
		n = blk_names[bit];
	else if (type == PROBE_TYPE_NET)
		n = net_names[bit];
	/* Bits 24..41 belong to the transport whatever the device. */
	if (!n && bit >= 24 && bit <= 41)
		n = transport_name(bit);
	return n;
}

static uint64_t le(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	while (n--)
		v = (v << 8) | p[n];
	return v;
}

struct layout {
	const char *name;
	size_t off;
	size_t size;
};

/* struct virtio_blk_config (virtio 1.2 §5.2.4). */
static const struct layout blk_layout[] = {
    {"capacity", 0, 8},
    {"size_max", 8, 4},
    {"seg_max", 12, 4},
    {"geometry.cylinders", 16, 2},
    {"geometry.heads", 18, 1},
    {"geometry.sectors", 19, 1},
    {"blk_size", 20, 4},
    {"topology.physical_block_exp", 24, 1},
    {"topology.alignment_offset", 25, 1},
    {"topology.min_io_size", 26, 2},
    {"topology.opt_io_size", 28, 4},
    {"writeback", 32, 1},
    {"num_queues", 34, 2},
    {"max_discard_sectors", 36, 4},
    {"max_discard_seg", 40, 4},
    {"discard_sector_alignment", 44, 4},
    {"max_write_zeroes_sectors", 48, 4},
    {"max_write_zeroes_seg", 52, 4},
    {"write_zeroes_may_unmap", 56, 1},
    {"max_secure_erase_sectors", 60, 4},
    {"max_secure_erase_seg", 64, 4},
    {"secure_erase_sector_alignment", 68, 4},
};

/* struct virtio_net_config (virtio 1.2 §5.1.4), after the MAC. */
static const struct layout net_layout[] = {
    {"status", 6, 2},
    {"max_virtqueue_pairs", 8, 2},
    {"mtu", 10, 2},
    {"speed", 12, 4},
    {"duplex", 16, 1},
    {"rss_max_key_size", 17, 1},
    {"rss_max_indirection_table_length", 18, 2},
    {"supported_hash_types", 20, 4},
};

static size_t decode_layout(const struct layout *l, size_t n,
			    const uint8_t *cfg, size_t len,
			    struct probe_field *out, size_t k)
{
	size_t i;

	for (i = 0; i < n && k < PROBE_MAX_FIELDS; i++) {
		if (l[i].off + l[i].size > len)
			break;
		out[k].name = l[i].name;
		out[k].value = le(cfg + l[i].off, l[i].size);
		out[k].text[0] = '\0';
		k++;
	}
	return k;
}

size_t probe_decode_config(enum probe_type type, const uint8_t *cfg, size_t len,
			   struct probe_field *out)
{
	size_t k = 0;

	switch (type) {
	case PROBE_TYPE_BLK:
		return decode_layout(blk_layout, ARRAY_SIZE(blk_layout), cfg,
				     len, out, 0);
	case PROBE_TYPE_NET:
		if (len >= 6) {
			out[0].name = "mac";
			out[0].value = le(cfg, 6);
			snprintf(out[0].text, sizeof(out[0].text),
				 "%02x:%02x:%02x:%02x:%02x:%02x", cfg[0],
				 cfg[1], cfg[2], cfg[3], cfg[4], cfg[5]);
			k = 1;
		}
		return decode_layout(net_layout, ARRAY_SIZE(net_layout), cfg,
				     len, out, k);
	case PROBE_TYPE_NONE:
		break;
	}
	return 0;
}

uint32_t probe_default_config_size(enum probe_type type)
{
	switch (type) {
	case PROBE_TYPE_BLK:
		/* Up to write_zeroes_may_unmap and its padding: what every
		 * vhost-user-blk back-end has (QEMU 7.2 and later add the
		 * secure-erase fields, not all have them). */
		return 60;
	case PROBE_TYPE_NET:
		/* mac, status, max_virtqueue_pairs, mtu. */
		return 12;
	case PROBE_TYPE_NONE:
		break;
	}
	return 0;
}
