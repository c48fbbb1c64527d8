/* SPDX-License-Identifier: MIT */
/*
 * Shared fixture of the front-end tests: our front-end on one end of a
 * socketpair, our back-end dispatcher (with a recording test device) on the
 * other, served by a thread; plus fd helpers and the open-fd count.
 */
#ifndef VH_FE_TEST_H
#define VH_FE_TEST_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka needs these first */
#include <setjmp.h>

#include <cmocka.h>

#include "vhost/backend.h"
#include "vhost/frontend.h"
#include "vhost/proto.h"

#define TDEV_QUEUES	 4
#define TDEV_CONFIG_SIZE 60
#define TDEV_MEM_SLOTS	 32

/* Virtio features the test device offers (plus PROTOCOL_FEATURES, added by
 * the dispatcher). */
#define TDEV_FEATURES                                          \
	(vh_virtio_feature_mask(VH_VIRTIO_F_VERSION_1) |       \
	 vh_virtio_feature_mask(VH_VIRTIO_RING_F_EVENT_IDX) |  \
	 vh_virtio_feature_mask(VH_VIRTIO_F_ACCESS_PLATFORM) | \
	 vh_virtio_feature_mask(VH_VHOST_F_LOG_ALL) | UINT64_C(0x3))

/* Every protocol feature the dispatcher can honour. */
#define TDEV_ALL_PF                    \
	(VHOST_USER_PROTOCOL_F_KNOWN & \
	 ~vh_protocol_feature_mask(VHOST_USER_PROTOCOL_F_XEN_MMAP))

/* What the recording device saw. Guarded by lock (two threads). */
struct tdev {
	pthread_mutex_t lock;
	unsigned calls[VHOST_USER_MAX];
	/* The callback of request fail_req returns fail_next (negative)
	 * once; then both are reset. */
	int fail_next;
	uint32_t fail_req;

	uint64_t features, pf;
	unsigned nregions;
	struct vhost_user_mem_region regions[VHOST_USER_MEM_TABLE_MAX_REGIONS];
	int mem_fds[VHOST_USER_MEM_TABLE_MAX_REGIONS];
	struct vhost_user_mem_region reg, rem;
	int reg_fd;
	struct vhost_user_log log;
	int log_fd, log_ev_fd;
	uint32_t num[TDEV_QUEUES], base[TDEV_QUEUES];
	struct vhost_user_vring_addr addr;
	/* -2: never set; -1: NOFD; else the fd taken. */
	int kick[TDEV_QUEUES], call[TDEV_QUEUES], err[TDEV_QUEUES];
	bool enabled[TDEV_QUEUES], big_endian[TDEV_QUEUES];
	uint32_t inband_kicked;
	uint8_t config[TDEV_CONFIG_SIZE];
	uint32_t set_cfg_offset, set_cfg_size, set_cfg_flags;
	uint8_t status;
	uint8_t mac[6];
	uint16_t mtu;
	struct vhost_user_iotlb iotlb;
	uint64_t closed_session;
	int gpu_fd;
	struct vhost_user_inflight inflight;
	int inflight_fd; /* the area handed out by get_inflight_fd */
	int inflight_set_fd;
	int state_fd;
	uint32_t state_dir;
	bool offer_state_fd;  /* answer SET_DEVICE_STATE_FD with our own fd */
	int state_reply_peer; /* our end of that reply channel */
	int shared_fd;	      /* exported for GET_SHARED_OBJECT (kept) */
	bool channel_ready;
};

struct fixture {
	struct vh_frontend *f;
	struct vh_backend *b;
	struct tdev dev;
	pthread_t th;
	bool running;
	int loop_err; /* the back-end loop's last error */
	int fds_before;
};

/* Open descriptors of this process (/proc/self/fd, minus the dir's own). */
int count_fds(void);

/* The recording device alone: init/fini, and a dispatcher on connected
 * socket @fd (taken) serving it, offering @pf. */
void tdev_init(struct tdev *d);
void tdev_fini(struct tdev *d);
void tdev_backend_new(struct tdev *d, int fd, uint64_t pf,
		      struct vh_backend **out);

/* Fixture: front-end + dispatcher thread. @pf: protocol features offered. */
void fixture_start(struct fixture *fx, uint64_t offered_pf);
/* Negotiate: GET_FEATURES, GET/SET_PROTOCOL_FEATURES(want), SET_FEATURES
 * (offered & @features). */
void fixture_negotiate(struct fixture *fx, uint64_t want_pf, uint64_t features);
/* Free the front-end, join the back-end thread, free it, close what the
 * device kept, and assert no fd leaked. Returns the loop's last error. */
int fixture_stop(struct fixture *fx);
/* Round trip (GET_FEATURES): every earlier request has been handled. */
void fixture_sync(struct fixture *fx);

/* tdev accessors under its lock. */
unsigned tdev_calls(struct tdev *d, uint32_t req);
/* Make the next call of @req's callback fail with @err. */
void tdev_fail_next(struct tdev *d, uint32_t req, int err);

/* fd helpers: asserted to succeed. */
int make_memfd(size_t size);
void *map_fd(int fd, size_t size);
int make_eventfd(void);
/* Write 1 to @wfd; @rfd (maybe another fd for the same eventfd) reads 1. */
void assert_eventfd_linked(int wfd, int rfd);
/* Distinct inodes? (a received fd is the same file as the one sent) */
bool same_file(int a, int b);

/* A thread that runs handle(obj) whenever fd(obj) is readable. */
struct loop {
	pthread_t th;
	int (*handle)(void *obj);
	int (*fd)(void *obj);
	void *obj;
	volatile bool stop;
	int err;
};
void loop_start(struct loop *l, int (*handle)(void *), int (*fd)(void *),
		void *obj);
int loop_stop(struct loop *l);

#endif /* VH_FE_TEST_H */
