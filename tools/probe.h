/* SPDX-License-Identifier: MIT */
/*
 * vhost-user-probe: what one probe found, and how it is printed.
 */
#ifndef VH_PROBE_H
#define VH_PROBE_H

#include <stdbool.h>
#include <stdint.h>

#include "probe_decode.h"
#include "vhost/proto.h"

struct probe {
	const char *path;
	enum probe_type type;
	int timeout_ms;
	uint32_t config_size; /* 0: do not ask */

	bool have_features;
	uint64_t features;
	bool have_pf;
	uint64_t pf_offered;
	uint64_t pf_acked;
	bool have_qnum;
	uint64_t qnum;
	bool have_slots;
	uint64_t slots;
	uint32_t cfg_len;
	uint8_t cfg[VHOST_USER_MAX_CONFIG_SIZE];
	const char *cfg_note; /* why there is no config, when asked */

	char error[256]; /* non-empty: the probe failed */
};

/** "blk", "net", or NULL. */
const char *probe_type_name(enum probe_type t);
/** Human-readable report on stdout (what was found, however far it got). */
void probe_print_text(const struct probe *p);
/** The same as one JSON object on stdout, with "error" when it failed. */
void probe_print_json(const struct probe *p);

#endif /* VH_PROBE_H */
