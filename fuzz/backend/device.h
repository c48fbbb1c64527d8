/* SPDX-License-Identifier: MIT */
/*
 * The plausible device behind the fuzzed back-end dispatcher (device.c):
 * it keeps some of the fds it is handed and leaves others to the
 * dispatcher, fails a share of the requests, answers the ones with a body,
 * and sends back-end requests on the channel when it has one.
 */
#ifndef VH_FUZZ_BACKEND_DEVICE_H
#define VH_FUZZ_BACKEND_DEVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "vhost/backend.h"

#define NRINGS	   8u  /* rings whose fds the device keeps */
#define NSLOTS	   16u /* ADD_MEM_REG slots */
#define CONFIG_LEN 64u

struct dev {
	struct vh_backend *b;
	uint32_t rng;
	unsigned fail_eighths;
	int ring_fd[NRINGS][3]; /* kick, call, err */
	uint32_t ring_base[NRINGS];
	int mem_fd[VHOST_USER_MEM_TABLE_MAX_REGIONS];
	int slot_fd[NSLOTS];
	uint64_t slot_gpa[NSLOTS];
	bool slot_used[NSLOTS];
	int log_fd, log_evt, inflight_fd, gpu_fd, state_fd;
	uint8_t status;
	uint8_t config[CONFIG_LEN];
};

/** The one device (the harness runs one input at a time). */
extern struct dev dev;

/** Reset the device; @behaviour: bits 0-2 failure rate in eighths, bits
 * 3-7 seed of its choices. */
void dev_init(uint8_t behaviour);
/** Close every fd the device kept. */
void dev_close_all(void);

/** Every callback, and a device with most of them missing. */
extern const struct vh_backend_ops dev_full_ops;
extern const struct vh_backend_ops dev_sparse_ops;

#endif /* VH_FUZZ_BACKEND_DEVICE_H */
