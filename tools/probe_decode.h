/* SPDX-License-Identifier: MIT */
/*
 * vhost-user-probe: names of device feature bits and decoders of the config
 * space of the device types the probe knows (virtio 1.2 §5.1 net, §5.2 blk).
 */
#ifndef VH_PROBE_DECODE_H
#define VH_PROBE_DECODE_H

#include <stddef.h>
#include <stdint.h>

enum probe_type {
	PROBE_TYPE_NONE,
	PROBE_TYPE_BLK,
	PROBE_TYPE_NET,
};

/**
 * Name of virtio feature @bit for a device of @type: device-specific bits
 * (0..23, 50..63) from the device's table, transport bits from the wire
 * layer. NULL when unnamed.
 */
const char *probe_feature_name(enum probe_type type, unsigned bit);

/** One decoded config field: a number, or a text (MAC address). */
struct probe_field {
	const char *name;
	uint64_t value;
	char text[24]; /* non-empty: print this instead of value */
};

#define PROBE_MAX_FIELDS 32

/**
 * Decode the first @len bytes of config space @cfg of a @type device into
 * @out (at most PROBE_MAX_FIELDS); fields beyond @len are left out.
 * Config fields are little-endian (virtio 1.x). Returns the field count.
 */
size_t probe_decode_config(enum probe_type type, const uint8_t *cfg, size_t len,
			   struct probe_field *out);

/** Config space bytes the probe asks for by default (0: don't ask). */
uint32_t probe_default_config_size(enum probe_type type);

#endif /* VH_PROBE_DECODE_H */
