/* SPDX-License-Identifier: MIT */
/*
 * vhost-user-bench: a vhost-user-blk front-end with guest memory of its own
 * (a memfd), the library's driver-side queues, and a fio-like workload.
 *
 *   main.c     options, the jobs to run, exit codes
 *   opts.c     option parsing (sizes, CPU lists, workload names)
 *   session.c  connect, negotiate, read the config, share memory, rings;
 *              and the orderly stop (GET_VRING_BASE) and disconnect
 *   worker.c   one thread per queue: submit, kick, reap, check, time
 *   run.c      a job: threads, the measurement window, progress, signals,
 *              CPU accounting; single synchronous requests
 *   bad.c      --bad: malformed requests and what the back-end answers
 *   report.c   text and JSON output
 *   hist.c, pattern.c  the histogram and the verify patterns (unit-tested)
 */
#ifndef VH_BENCH_H
#define VH_BENCH_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "hist.h"
#include "pattern.h"
#include "vhost/driver.h"
#include "vhost/frontend.h"
#include "vhost/log.h"

/* ---- virtio-blk (virtio 1.2 §5.2) ---------------------------------------- */

#define VIRTIO_BLK_F_SIZE_MAX	  1
#define VIRTIO_BLK_F_SEG_MAX	  2
#define VIRTIO_BLK_F_RO		  5
#define VIRTIO_BLK_F_BLK_SIZE	  6
#define VIRTIO_BLK_F_FLUSH	  9
#define VIRTIO_BLK_F_TOPOLOGY	  10
#define VIRTIO_BLK_F_MQ		  12
#define VIRTIO_BLK_F_DISCARD	  13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

#define VIRTIO_BLK_T_IN	    0u
#define VIRTIO_BLK_T_OUT    1u
#define VIRTIO_BLK_T_FLUSH  4u
#define VIRTIO_BLK_T_GET_ID 8u

#define VIRTIO_BLK_S_OK	    0u
#define VIRTIO_BLK_S_IOERR  1u
#define VIRTIO_BLK_S_UNSUPP 2u

/* struct virtio_blk_config offsets (§5.2.4); we read the first 60 bytes. */
#define BLK_CFG_CAPACITY   0
#define BLK_CFG_SIZE_MAX   8
#define BLK_CFG_SEG_MAX	   12
#define BLK_CFG_BLK_SIZE   20
#define BLK_CFG_NUM_QUEUES 34
#define BLK_CFG_LEN	   60

/* A request header (struct virtio_blk_outhdr) and, in the same slot, the
 * status byte; one cache line per request so the back-end's status write
 * never shares a line with the next request's header. */
#define REQ_HDR_LEN    16u
#define REQ_STATUS_OFF 16u
#define REQ_SLOT_LEN   64u

/* ---- limits and guest-physical layout ------------------------------------ */

#define BENCH_MAX_QUEUES   64u
#define BENCH_MAX_CPUS	   256u
#define BENCH_MAX_DEPTH	   4096u
#define BENCH_MAX_MISMATCH 16u
/* Guest-physical addresses of the two regions: far from the addresses this
 * process maps them at, so a back-end that mixes up GPAs and front-end
 * virtual addresses fails at once; the data region comes from the same
 * memfd at a non-zero offset, so one that ignores mmap_offset fails too. */
#define BENCH_GPA_CTL  UINT64_C(0x100000000)
#define BENCH_GPA_DATA UINT64_C(0x300000000)

/* ---- exit codes ---------------------------------------------------------- */

#define EXIT_BENCH_OK	0
#define EXIT_BENCH_FAIL 1 /* I/O error, bad status, mismatch, back-end */
#define EXIT_BENCH_USAGE                                              \
	2		     /* bad options, or a workload the device \
				refuses (size, block size, queues, features) */
#define EXIT_BENCH_DEVIATE 3 /* --bad: only deviations, no failure */

/* ---- options ------------------------------------------------------------- */

enum bench_rw {
	RW_READ,
	RW_WRITE,
	RW_RANDREAD,
	RW_RANDWRITE,
	RW_RW, /* sequential mix */
	RW_RANDRW,
};

enum verify_phase {
	VERIFY_BOTH,
	VERIFY_WRITE,
	VERIFY_READ,
};

enum mem_mode {
	MEM_AUTO, /* ADD_MEM_REG with CONFIGURE_MEM_SLOTS (as QEMU), else set */
	MEM_SET,
	MEM_ADD,
};

struct bench_opts {
	const char *socket;
	bool server;	/* listen on @socket, the back-end connects */
	int wait_ms;	/* connect retries / accept wait */
	int timeout_ms; /* replies and completions */
	enum bench_rw rw;
	unsigned mix_read; /* % reads in rw / randrw */
	uint32_t bs;
	unsigned iodepth;
	unsigned queues;
	int cpus[BENCH_MAX_CPUS];
	unsigned ncpus;
	double runtime_s; /* time-based when count == 0 */
	double ramp_s;
	uint64_t count;	 /* requests over all queues; 0: time-based */
	uint64_t size;	 /* bytes of the device used; 0: all */
	uint64_t offset; /* first byte of the device used */
	uint64_t seed;
	bool packed, indirect, poll, no_event_idx;
	unsigned qsize;	  /* 0: automatic */
	unsigned regions; /* 1 or 2 */
	enum mem_mode mem;
	bool verify;
	enum verify_phase verify_phase;
	uint64_t verify_pass;
	const char *bad; /* --bad CASE, or NULL */
	bool strict;
	pid_t backend_pid; /* 0: from SO_PEERCRED */
	bool json, quiet, verbose;
};

/** Parse argv into @o. Returns 0, 1 after --help/--version (printed), or
 *  EXIT_BENCH_USAGE after printing one line to stderr. */
int opts_parse(struct bench_opts *o, int argc, char **argv);

const char *rw_name(enum bench_rw rw);
bool rw_is_random(enum bench_rw rw);
/** Percentage of reads of a workload (100 read, 0 write, mix else). */
unsigned rw_read_pct(enum bench_rw rw, unsigned mix);

/* ---- the device as negotiated -------------------------------------------- */

struct bench_dev {
	uint64_t features;   /* offered (GET_FEATURES) */
	uint64_t acked;	     /* SET_FEATURES */
	uint64_t pf_offered; /* protocol features */
	uint64_t pf;	     /* protocol features in force */
	bool have_config;
	uint64_t capacity;   /* 512-byte sectors */
	uint32_t blk_size;   /* 512 unless BLK_SIZE */
	uint32_t seg_max;    /* 0: no limit */
	uint32_t size_max;   /* 0: no limit */
	uint16_t num_queues; /* 1 unless MQ */
	uint64_t queue_num;  /* GET_QUEUE_NUM, 0 when not asked */
	uint64_t mem_slots;  /* GET_MAX_MEM_SLOTS, 0 when not asked */
	bool read_only;
	pid_t pid; /* back-end process, 0 when unknown */
};

/* ---- queues and requests ------------------------------------------------- */

struct bench_req {
	uint64_t t0;	 /* submission time, ns */
	uint64_t sector; /* first 512-byte sector */
	uint32_t len;	 /* data bytes */
	uint32_t type;	 /* VIRTIO_BLK_T_* */
	uint8_t *hdr;	 /* header; status byte at REQ_STATUS_OFF */
	uint8_t *data;
	uint64_t hdr_gpa, data_gpa;
};

struct bench_queue {
	unsigned index;
	struct vh_drv_queue *dq;
	int kick_fd, call_fd;
	uint16_t size;
	unsigned depth;
	struct bench_req *reqs; /* depth slots */
	/* For the GET_VRING_BASE check: buffers made available (split:
	 * the avail index) and ring slots used (packed). */
	uint64_t added;
	uint64_t slots_added;
	unsigned inflight; /* between jobs: requests never completed */
	bool started;
};

struct bench_session {
	const struct bench_opts *o;
	struct vh_frontend *fe;
	struct bench_dev dev;
	/* Guest memory: one memfd mapped once; regions[i] describe it. */
	int memfd;
	uint8_t *mem;
	size_t mem_len;
	size_t data_off; /* where the data buffers start in the memfd */
	unsigned nregions;
	struct vhost_user_mem_region regions[2];
	/* Requests: data in nseg segments of seg_len bytes (size_max). */
	unsigned nseg;
	uint32_t seg_len;
	bool packed, event_idx, indirect;
	unsigned nq;
	struct bench_queue q[BENCH_MAX_QUEUES];
	uint64_t range_first;  /* first sector used */
	uint64_t range_blocks; /* blocks of bs bytes used */
	bool dead;	       /* the connection is gone: no orderly stop */
};

/**
 * Connect (or accept), negotiate, read and check the config against the
 * workload in @o, share guest memory and start @o->queues rings. On failure
 * writes one line to @err and returns EXIT_BENCH_FAIL or EXIT_BENCH_USAGE;
 * session_close() must still be called.
 */
int session_open(struct bench_session *s, const struct bench_opts *o, char *err,
		 size_t errlen);

/**
 * Stop every started ring (SET_VRING_ENABLE 0, GET_VRING_BASE) and check
 * the base against what was made available; disconnect and release
 * everything. Returns 0, or -1 with one line in @err when a ring reported
 * another base than expected or a stop request failed.
 */
int session_close(struct bench_session *s, char *err, size_t errlen);

/** Guest-physical address of host pointer @p inside guest memory. */
uint64_t session_gpa(const struct bench_session *s, const void *p);

/** Names: "VIRTIO_BLK_F_FLUSH", "VIRTIO_F_VERSION_1"...; NULL if none. */
const char *bench_feature_name(unsigned bit);

/* ---- jobs ---------------------------------------------------------------- */

enum job_pattern {
	PAT_NONE,  /* data content not looked at */
	PAT_WRITE, /* write the verify pattern */
	PAT_CHECK, /* read and check the verify pattern */
};

struct bench_job {
	char name[32];
	enum bench_rw rw;
	unsigned read_pct;
	enum job_pattern pattern;
	uint64_t count;	  /* 0: time-based */
	double runtime_s; /* time-based */
	double ramp_s;
	bool each_block_once; /* verify: a permutation of the range */
};

struct job_result {
	char name[32];
	struct hist rd, wr;
	uint64_t reads, writes, bytes_read, bytes_written;
	double elapsed_s;
	uint64_t kicks; /* kick eventfd writes */
	uint64_t
	    wakeups;	 /* sleeps on the call eventfd that ended with a call */
	uint64_t calls;	 /* call eventfd signals the back-end sent */
	double fe_cpu_s; /* this process, user + system */
	uint64_t
	    fe_preempted; /* involuntary context switches of this process */
	/* Poll mode: cores the spinning queue threads should have had; less
	 * means they shared their CPU with something else. 0 otherwise. */
	double fe_expected_cores;
	double be_cpu_s;     /* the back-end process; < 0 when unknown */
	bool be_cpu_precise; /* from schedstat (ns), else clock ticks */
	uint64_t verify_sectors, verify_bad;
	struct pattern_mismatch mism[BENCH_MAX_MISMATCH];
	unsigned nmism;
	bool interrupted; /* SIGINT */
	bool failed;
	char error[256];
};

/** Stop requests (SIGINT/SIGTERM): install the handlers; the first signal
 *  ends the run with results, the second abandons it. */
void run_install_signals(void);
bool run_interrupted(void);

/**
 * Run @job on every queue of @s: one thread per queue (pinned per
 * @s->o->cpus), the measurement window, a progress line per second on
 * stderr, CPU accounting. Fills @r (allocated by the caller). Returns 0,
 * or -1 when the job failed (r->error says why).
 */
int run_job(struct bench_session *s, const struct bench_job *job,
	    struct job_result *r);

/**
 * One request on queue @q from the main thread while no job runs: @nout
 * device-readable and @nin device-writable buffers (already filled),
 * waiting up to @timeout_ms for the used element. Returns 1 with *@len,
 * 0 on timeout, -1 when the ring returned something unexpected or the
 * connection is gone (@err says so).
 */
int run_sync(struct bench_session *s, struct bench_queue *q,
	     const struct vh_drv_buf *out, unsigned nout,
	     const struct vh_drv_buf *in, unsigned nin, int timeout_ms,
	     uint32_t *len, char *err, size_t errlen);

/** Whether the back-end closed the connection (non-blocking check). */
bool session_peer_gone(const struct bench_session *s);

/* ---- --bad --------------------------------------------------------------- */

/** Run --bad CASE ("past-end", "short-chain", "ro-buffer", "bad-addr",
 *  "all"); prints its own report. Returns an EXIT_BENCH_* code. */
int bad_run(const struct bench_opts *o);

/* ---- output -------------------------------------------------------------- */

void report_text_header(const struct bench_session *s);
void report_text_job(const struct bench_session *s, const struct job_result *r);
void report_json(const struct bench_session *s, struct job_result *const *r,
		 unsigned n, const char *error);

/* ---- small helpers ------------------------------------------------------- */

uint64_t now_ns(void);
/** CPU time (user + system) of this process, seconds; involuntary context
 *  switches in *@preempted when not NULL. */
double self_cpu_s(uint64_t *preempted);
/** CPU time of process @pid from /proc (clock ticks); < 0 when unknown. */
double proc_cpu_s(pid_t pid);

#endif /* VH_BENCH_H */
