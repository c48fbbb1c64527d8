/* SPDX-License-Identifier: MIT */
/*
 * Test harness for the back-end dispatcher: the test plays the front-end
 * over a socketpair (vh_conn on its end), the dispatcher runs with a
 * recording device whose callbacks count calls, keep their arguments and,
 * when asked, take the fds they are given.
 */
#ifndef VHOST_TEST_BACKEND_HARNESS_H
#define VHOST_TEST_BACKEND_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka needs the headers above first: a block of its own. */
#include <cmocka.h>

#include "vhost/backend.h"
#include "vhost/conn.h"
#include "vhost/log.h"
#include "vhost/proto.h"

#define T_MAX_KEPT 32

/* What the recording device saw. Indexed by the request a callback serves. */
struct rec {
	int calls;		 /* every callback, all requests */
	int n[VHOST_USER_MAX];	 /* per request */
	int ret[VHOST_USER_MAX]; /* what the callback returns */
	bool take_fds;		 /* keep the fds handed over */
	int kept[T_MAX_KEPT];	 /* fds kept (closed by tfe_free) */
	unsigned nkept;
	int fd_seen[8]; /* fd values seen by the last callback */
	unsigned nfd_seen;

	uint64_t u64;
	uint32_t index, num;
	bool flag;
	struct vhost_user_vring_addr addr;
	struct vhost_user_mem_region regions[8];
	unsigned nregions;
	uint32_t cfg_off, cfg_size, cfg_flags;
	uint8_t cfg_buf[256];
	uint8_t mac[6];
	uint16_t mtu;
	struct vhost_user_iotlb iotlb;
	struct vhost_user_log log;
	struct vhost_user_inflight inflight;
	struct vhost_user_shared uuid;
	uint32_t direction, phase;
	uint8_t status;
	size_t crypto_in_len;
	int channel_ready;

	/* Fds a callback hands back (get_inflight_fd, postcopy_advise,
	 * get_shared_object, set_device_state_fd): created with
	 * t_memfd() on demand when give_fd is set. */
	bool give_fd;
	int given_fd; /* the test's dup of what was handed back */
};

/* A dispatcher plus the front-end end of its socket. */
struct tfe {
	struct vh_conn *c;
	struct vh_backend *b;
	struct rec rec;
	struct vh_backend_ops ops;
	struct vh_backend_config cfg;
};

/* The recording callbacks, every one set. */
extern const struct vh_backend_ops t_rec_ops;

/* Default configuration: VERSION_1, EVENT_IDX, INDIRECT_DESC,
 * ACCESS_PLATFORM and RING_PACKED offered, every protocol feature the
 * library can honour, 2 queues, a 60-byte config space, name "t". */
struct vh_backend_config t_default_cfg(void);

/* Every protocol feature t_default_cfg offers. */
uint64_t t_all_pf(void);

/* Create a dispatcher. @cfg/@ops NULL: defaults. cfg->ops/opaque are
 * replaced by the harness's copy of @ops and the recorder. */
struct tfe *tfe_new(const struct vh_backend_config *cfg,
		    const struct vh_backend_ops *ops);
/* Free the dispatcher (if any), the front-end conn, kept fds. */
void tfe_free(struct tfe *t);
/* Free only the dispatcher, as a caller does after an error. */
void tfe_drop_backend(struct tfe *t);

/* Send one message from the front-end (fds borrowed). Asserts success. */
void tfe_send(struct tfe *t, uint32_t req, uint32_t flags, const void *payload,
	      uint32_t size, const int *fds, unsigned nfds);
/* vh_backend_handle_readable. */
int tfe_step(struct tfe *t);
/* Receive on the front-end end; returns vh_conn_recv's result. */
int tfe_recv(struct tfe *t, struct vhost_user_msg *m, int wait_ms);
/* Send, step (asserting 0), then receive the reply (asserting one comes
 * within a second and is a well-formed reply to @req). */
void tfe_call(struct tfe *t, uint32_t req, uint32_t flags, const void *payload,
	      uint32_t size, const int *fds, unsigned nfds,
	      struct vhost_user_msg *rep);
/* Send and step (asserting 0); assert that nothing comes back. */
void tfe_cast(struct tfe *t, uint32_t req, uint32_t flags, const void *payload,
	      uint32_t size, const int *fds, unsigned nfds);
/* Assert nothing is waiting on the front-end end. */
void tfe_assert_no_reply(struct tfe *t);
/* GET_FEATURES round trip; returns the features. */
uint64_t tfe_get_features(struct tfe *t);
/* SET_PROTOCOL_FEATURES @pf (if non-zero) then SET_FEATURES @features (if
 * non-zero), without NEED_REPLY. */
void tfe_negotiate(struct tfe *t, uint64_t features, uint64_t pf);

/* Raw bytes and fds on the front-end socket (for malformed streams). */
void t_raw_send(int sock, const void *buf, size_t len, const int *fds,
		unsigned nfds);

/* Open fds of this process (/proc/self/fd). */
int t_count_fds(void);
/* A memfd of @size bytes, O_CLOEXEC. */
int t_memfd(size_t size);
/* A non-blocking eventfd. */
int t_eventfd(void);
/* Write @v to eventfd @w and read it back from @r (same eventfd file). */
void t_assert_same_eventfd(int w, int r);
/* Write a pattern at offset 0 of @w and read it back through @r. */
void t_assert_same_file(int w, int r);

/* Log capture: every line at WARN or above is kept. */
void t_log_capture(void);
void t_log_clear(void);
bool t_log_has(const char *needle);
/* The captured lines, for a failure message. */
const char *t_log_text(void);

/* Feature helpers. */
#define T_PF(bit)    (UINT64_C(1) << VHOST_USER_PROTOCOL_F_##bit)
#define T_VF(bit)    (UINT64_C(1) << VH_##bit)
#define T_NEED_REPLY VHOST_USER_NEED_REPLY_MASK

#endif /* VHOST_TEST_BACKEND_HARNESS_H */
