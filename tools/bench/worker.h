/* SPDX-License-Identifier: MIT */
/*
 * vhost-user-bench: what run.c shares with the queue threads (worker.c).
 *
 * Time: one clock (CLOCK_MONOTONIC, ns). Every job has a measurement
 * window [wstart, stop_at): a request counts (latency, IOPS) when its
 * completion was seen inside it. stop_at only ever moves earlier: the
 * planned end of a timed run, a SIGINT, a failure; it is UINT64_MAX while
 * a run ends by count.
 */
#ifndef VH_BENCH_WORKER_H
#define VH_BENCH_WORKER_H

#include "bench.h"

struct run_ctl {
	/* Workers wait for go (set once everything is ready). */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool go;
	uint64_t wstart;
	_Atomic uint64_t stop_at;
	atomic_bool abort; /* give up at once, no draining */
	atomic_uint ndone; /* workers finished */
	int done_fd;	   /* eventfd written when one finishes */
};

/** Move stop_at to @t if that is earlier. */
void run_stop_at(struct run_ctl *c, uint64_t t);

struct worker {
	struct bench_session *s;
	struct bench_queue *q;
	const struct bench_job *job;
	struct run_ctl *ctl;
	pthread_t thr;
	bool thr_started;
	int cpu; /* -1: not pinned */
	/* The blocks this queue works on (relative to the session's range)
	 * and how many requests it makes (when @limited). */
	uint64_t first_blk, nblk;
	bool limited;
	uint64_t quota;
	/* Scratch: free request slots, descriptor lists. */
	unsigned *free_slots;
	struct vh_drv_buf *out, *in;

	/* Results. */
	struct hist rd, wr;
	uint64_t reads, writes;
	uint64_t kicks, wakeups, calls;
	uint64_t last_ns; /* last counted completion */
	uint64_t vsectors, vbad;
	struct pattern_mismatch mism[BENCH_MAX_MISMATCH];
	unsigned nmism;
	bool failed;
	char error[256];

	/* Progress, read by the main thread while the job runs. */
	_Alignas(64) _Atomic uint64_t p_ios;
	_Atomic uint64_t p_lat_ns;
};

/* CPU time at one instant: this process, and the back-end (see cpu.c). */
struct cpu_snap {
	bool taken;
	double fe;
	uint64_t fe_preempted;
	double be_stat; /* /proc/PID/stat, < 0 unknown */
	double be_sched;
	bool have_sched;
	uint64_t sig;
};

void cpu_snap_take(struct cpu_snap *sn, pid_t pid);
/** Back-end CPU seconds from @a to @b; < 0 when unknown. */
double cpu_snap_backend(const struct cpu_snap *a, const struct cpu_snap *b,
			bool *precise);

/** The queue thread. */
void *worker_main(void *arg);

#endif /* VH_BENCH_WORKER_H */
