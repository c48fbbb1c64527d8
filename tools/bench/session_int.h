/* SPDX-License-Identifier: MIT */
/* vhost-user-bench: what session.c and session_mem.c share. */
#ifndef VH_BENCH_SESSION_INT_H
#define VH_BENCH_SESSION_INT_H

#include "bench.h"

#define BLKF(bit)      (UINT64_C(1) << (bit))
#define ALIGN_UP(x, a) (((x) + (a)-1) / (a) * (a))

/** Write one line to @err; returns @code. */
int session_fail(char *err, size_t n, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/** A front-end request failed with @e: one line naming @req and the cause;
 *  marks the session dead when the connection is gone. EXIT_BENCH_FAIL. */
int session_req_fail(struct bench_session *s, char *err, size_t n,
		     const char *req, int e);

/** Lay out and share guest memory, start s->nq rings (session_open's
 *  second half). Returns 0 or an EXIT_BENCH_* code with @err set. */
int session_memory(struct bench_session *s, char *err, size_t n);

#endif /* VH_BENCH_SESSION_INT_H */
