/* SPDX-License-Identifier: MIT */
/*
 * A fake in-kernel vhost device for the kern unit tests, so they run on any
 * machine: the test program defines ioctl() and write(), which take
 * precedence over libc's for the library's calls. Calls on the fake's fd
 * (an fd of /dev/null, so close() works) are answered here the way
 * drivers/vhost answers them; every other fd goes to the real system call.
 */
#ifndef FAKE_KERN_H
#define FAKE_KERN_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kern_uapi.h"
#include "vhost/kern.h"
#include "vhost/log.h"

#define FAKE_MAX_REQS  256
#define FAKE_MAX_MSGS  64
#define FAKE_MAX_RINGS 8

struct fake_dev {
	int fd; /* the device: an fd of /dev/null */
	enum vh_kern_device kind;
	bool not_vhost; /* GET_FEATURES answers ENOTTY */

	bool owner;
	uint64_t features; /* offered */
	uint64_t acked;	   /* as the kernel received it */
	uint64_t backend_offered;
	uint64_t backend_acked;
	bool has_array;	   /* VHOST_GET/SET_FEATURES_ARRAY known */
	uint64_t hi_acked; /* word 1 of the last SET_FEATURES_ARRAY */
	bool has_workers;
	uint32_t nvqs;	     /* the kernel's ring count: ENOBUFS beyond */
	uint32_t vring_base; /* what GET_VRING_BASE answers */

	struct vh_k_memory_region regions[80];
	unsigned nregions;
	struct vh_k_vring_addr addr[FAKE_MAX_RINGS];
	struct vh_k_vring_file last_file; /* kick, call, err, backend */
	uint32_t busyloop[FAKE_MAX_RINGS];

	uint64_t cid;
	int running;
	struct vh_k_scsi_target target;
	uint32_t events_missed;

	uint8_t status;
	uint8_t config[64];
	struct vh_k_vdpa_iova_range range;

	/* A second fake fd that plays a tap for VHOST_NET_SET_BACKEND. */
	int tap_fd;
	short tap_flags;
	int tap_hdr_len;

	unsigned long reqs[FAKE_MAX_REQS]; /* every ioctl, in order */
	unsigned nreqs;
	struct vh_k_msg_v2 msgs[FAKE_MAX_MSGS]; /* every IOTLB write */
	unsigned nmsgs;
	int fail_write_at; /* fail the write of message N (-1: none) */
	int fail_errno;
};

extern struct fake_dev fake;

/** Reset the fake as a fresh @kind device (a new /dev/null fd; the old
 * one belongs to whoever adopted it). */
void fake_reset(enum vh_kern_device kind);

/** vh_kern_adopt() of the fake's fd; asserts success. */
struct vh_transport *fake_adopt(void);

/** How many times ioctl @req reached the fake. */
unsigned fake_count(unsigned long req);

/* Log capture: the last line logged, and the number of lines. */
extern char fake_last_log[512];
extern unsigned fake_nlogs;
void fake_log_capture(void);

/** Open fds of this process. */
int fake_fd_count(void);

#endif /* FAKE_KERN_H */
