/* SPDX-License-Identifier: MIT */
/*
 * vht: the in-guest tests of the kernel vhost layer (tests/guest/run.sh
 * boots a Debian kernel under QEMU and runs them as root). The process
 * plays the guest's virtio driver with include/vhost/driver.h over its own
 * memory; the vhost side is driven only through libvhost's public API
 * (transport.h, kern.h).
 *
 * Each test prints one line the host parses:
 *   VHT-RESULT PASS|FAIL|SKIP <name> <detail>
 * and any number of progress lines before it.
 */
#ifndef VHT_H
#define VHT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vhost/driver.h"
#include "vhost/kern.h"
#include "vhost/log.h"
#include "vhost/transport.h"

/* The verdict of one test: the first failure wins. */
struct vht {
	const char *name;
	bool failed;
	char why[300];
};

void vht_begin(struct vht *v, const char *name);
void vht_fail(struct vht *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/** Print the VHT-RESULT line; returns the exit status (0 pass, 1 fail). */
int vht_end(struct vht *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void vht_skip(const char *name, const char *why);
/** Progress line (indented so the host shows it under the test). */
void vht_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* On a false @cond: record the failure and jump to the test's "out". */
#define TRY(v, cond, ...)                           \
	do {                                        \
		if (!(cond)) {                      \
			vht_fail((v), __VA_ARGS__); \
			goto out;                   \
		}                                   \
	} while (0)

/** Open fds of this process. */
int vht_fd_count(void);
/** Monotonic milliseconds. */
double vht_now_ms(void);
/** Send library log lines to stdout ("  lib: ..."). */
void vht_log_to_stdout(void);

/* "Guest memory": an anonymous mapping that the tests declare to be at
 * guest-physical (or IO virtual) address @gpa, different from where it is
 * mapped, so every translation is exercised. */
struct vht_mem {
	uint8_t *base;
	uint64_t gpa;
	size_t len;
	size_t used;
};

int vht_mem_init(struct vht_mem *m, uint64_t gpa, size_t len);
void vht_mem_free(struct vht_mem *m);
/** Bump allocation, zeroed, @align a power of two. NULL when full. */
void *vht_alloc(struct vht_mem *m, size_t len, size_t align);
uint64_t vht_gpa(const struct vht_mem *m, const void *p);
/** The region to give vh_transport_set_mem_table(). */
struct vh_transport_region vht_region(const struct vht_mem *m);

/* One split ring driven from the driver side. */
struct vht_q {
	struct vh_drv_queue *q;
	uint32_t index;
	int kick;
	int call;
};

/**
 * Lay ring @index out in @m, then SET_VRING_NUM/BASE/ADDR/KICK/CALL on @t.
 * Returns 0 or the failing call's negative errno (@what names it).
 */
int vht_q_setup(struct vh_transport *t, struct vht_mem *m, uint32_t index,
		uint16_t size, struct vht_q *q, const char **what);
void vht_q_free(struct vht_q *q);
/** Add a buffer and kick (always: the kick eventfd is cheap). */
int vht_q_add(struct vht_q *q, const struct vh_drv_buf *out, unsigned nout,
	      const struct vh_drv_buf *in, unsigned nin, void *token);
/** Wait up to @ms for a used buffer: 0, or -ETIMEDOUT / -EIO. */
int vht_q_wait(struct vht_q *q, void **token, uint32_t *len, int ms);

/* The tests (argv[0] is the test name). */
int vht_net(int argc, char **argv);
int vht_vsock(int argc, char **argv);
int vht_scsi(int argc, char **argv);
int vht_scsi_mkimg(int argc, char **argv);
int vht_vdpa(int argc, char **argv);
int vht_bad(int argc, char **argv);

#endif /* VHT_H */
