/* SPDX-License-Identifier: MIT */
/*
 * Server test harness: an echo device served by vh_server on a thread, and
 * a "guest" in the same process — our front-end plus driver-side queues
 * over a memfd that SET_MEM_TABLE shares with the server.
 *
 * Guest memory: one memfd of TH_MEM_LEN bytes at guest-physical TH_GPA,
 * mapped here at g->mem (the front-end's user address). Ring q's parts live
 * in its TH_RING_STRIDE bytes at q * TH_RING_STRIDE; its data buffers in
 * TH_DATA_STRIDE bytes from TH_DATA_OFF, each TH_BUF bytes, on their own
 * 4 KiB page pair (out page, in page) so dirty-log tests can tell them
 * apart.
 */
#ifndef TH_HARNESS_H
#define TH_HARNESS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "vhost/driver.h"
#include "vhost/frontend.h"
#include "vhost/server.h"

#define TH_GPA	       0x40000000ull
#define TH_MEM_LEN     (136u << 20)
#define TH_RING_STRIDE 0x4000u /* desc, driver, device, indirect pages */
#define TH_MAX_Q       256u
#define TH_DATA_OFF    (TH_MAX_Q * TH_RING_STRIDE) /* 4 MiB */
#define TH_SLOTS       64u			   /* buffers per ring */
#define TH_DATA_STRIDE (TH_SLOTS * 0x2000u)
#define TH_BUF	       64u
#define TH_TIMEOUT_MS  5000

/* ---- echo device ------------------------------------------------------- */

enum echo_mode {
	ECHO_NOW,      /* complete in the handler */
	ECHO_REMOTE,   /* complete from another thread */
	ECHO_HOLD_ODD, /* complete even ids now, keep odd ones forever */
	ECHO_HOLD_ALL, /* keep everything */
};

struct echo_dev {
	enum echo_mode mode;
	int remote_delay_ms;
	atomic_uint handled;	 /* requests popped */
	atomic_uint side_effect; /* requests echoed while enabled */
	atomic_uint discarded;	 /* requests seen while disabled */
	atomic_uint started, stopped, resets;
	atomic_int worker_of[TH_MAX_Q]; /* worker index per ring, -1 */
	/* Remote completion thread. */
	pthread_t thr;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct vh_req *list, *tail;
	bool quit, thr_running;
	uint8_t config[16];
	bool state_ops; /* offer DEVICE_STATE */
};

void echo_init(struct echo_dev *e, enum echo_mode mode);
void echo_fini(struct echo_dev *e);
/* A vh_device for @e with @nq queues (flags VH_DEVICE_F_*). */
void echo_device(struct echo_dev *e, struct vh_device *d, unsigned nq,
		 unsigned flags);

/* ---- server on a thread ------------------------------------------------ */

struct th_srv {
	struct vh_server *srv;
	pthread_t thr;
	char dir[64];
	char path[108];
	int rc;
};

/* Listen on a fresh path; @cfg may be NULL (defaults); run on a thread. */
void th_srv_start(struct th_srv *s, const struct vh_device *d,
		  const struct vh_server_config *cfg);
void th_srv_stop(struct th_srv *s);

/* ---- guest ------------------------------------------------------------- */

struct th_ring {
	struct vh_drv_queue *drv;
	int kick, call, err;
	uint16_t size;
	bool ready;
	uint16_t free_slots[TH_SLOTS];
	unsigned nfree;
	unsigned inflight;
	uint64_t slots_used; /* bit per slot th_submit ever used */
};

struct th_guest {
	int memfd;
	uint8_t *mem;
	struct vh_frontend *fe;
	uint64_t features; /* acked */
	uint64_t offered;
	uint64_t pf; /* in force */
	bool packed, event_idx, indirect;
	struct th_ring r[TH_MAX_Q];
	/* Exactly-once bookkeeping per request id. */
	uint32_t *done_count;
	unsigned max_ids;
};

/* Memory (fresh memfd) and bookkeeping for @max_ids request ids. */
void th_guest_init(struct th_guest *g, unsigned max_ids);
void th_guest_fini(struct th_guest *g);

/*
 * Connect to @path, negotiate (@want_pf), SET_OWNER, SET_FEATURES (the
 * offered features masked by @feat_mask; PROTOCOL_FEATURES kept when
 * @use_pf), SET_MEM_TABLE. Packed/event_idx/indirect follow what is acked.
 */
void th_guest_connect(struct th_guest *g, const char *path, uint64_t want_pf,
		      uint64_t feat_mask, bool use_pf);
/* Free the front-end (the server sees a hang-up). */
void th_guest_disconnect(struct th_guest *g);

/* Driver queue + eventfds for ring @q of @size (rings zeroed). */
void th_ring_init(struct th_guest *g, unsigned q, uint16_t size);
void th_ring_fini(struct th_guest *g, unsigned q);
/* The ring's addresses for SET_VRING_ADDR (@flags: VHOST_VRING_F_LOG). */
void th_ring_addr(struct th_guest *g, unsigned q, uint32_t flags,
		  struct vhost_user_vring_addr *a);
/* NUM, BASE @base, ADDR, KICK, CALL, ERR and (PF) ENABLE. */
void th_ring_setup(struct th_guest *g, unsigned q, uint16_t size,
		   uint32_t base);

/* Guest-physical / host address of @off bytes into guest memory. */
uint64_t th_gpa(unsigned q, unsigned slot, bool in);
void *th_host(struct th_guest *g, uint64_t gpa);

/* Submit request @id on ring @q: its readable part in @nout pieces (a
 * chain of nout + 1 descriptors), in an indirect table if @indirect.
 * Returns 0 or -ENOSPC. Does not kick. */
int th_submit(struct th_guest *g, unsigned q, unsigned id, unsigned nout,
	      bool indirect);
/* Publish and kick when the device asks for it. */
void th_kick(struct th_guest *g, unsigned q);
/* Always write the kick eventfd. */
void th_kick_force(struct th_guest *g, unsigned q);
/* Reap one used buffer, waiting up to @ms: 1 (id, len), 0 on timeout.
 * Checks the echo, counts per id. */
int th_reap(struct th_guest *g, unsigned q, int ms, unsigned *id,
	    uint32_t *len);
/* Submit ids [first, first+n) keeping up to @depth in flight, reap all;
 * every id completed exactly once with the echo. */
void th_run(struct th_guest *g, unsigned q, unsigned first, unsigned n,
	    unsigned depth, unsigned nout, bool indirect);

/* Wait until @cond(arg) or @ms pass; returns the last value of @cond. */
bool th_wait(bool (*cond)(void *arg), void *arg, int ms);
void th_sleep_ms(int ms);

/* Open file descriptors of this process (/proc/self/fd entries). */
unsigned th_count_fds(void);

/* Quiet logger that counts errors. */
extern atomic_int th_log_errors;
void th_quiet_logs(void);

#endif /* TH_HARNESS_H */
