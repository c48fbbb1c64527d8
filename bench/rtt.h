/* SPDX-License-Identifier: MIT */
/*
 * vh-bench-rtt internals: the measured variants (rtt_variants.c) and the
 * statistics and reports (rtt_report.c). See vh-bench-rtt.c for the method.
 */
#ifndef VH_BENCH_RTT_H
#define VH_BENCH_RTT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** One way of doing a request/reply round trip over a socketpair. */
struct rtt_variant {
	const char *name;
	const char *what; /* one line for the report */
	/* The raw variant this one is compared with, or NULL (raw itself). */
	const char *baseline;
	bool diagnostic; /* only with --diag */
	/* Child (responder, "back-end") side: serve requests on @fd until
	 * the peer hangs up. Returns 0, or -1 after a failure. */
	int (*serve)(int fd);
	/* Parent (requester, "front-end") side. */
	void *(*open)(int fd); /* takes ownership of @fd; NULL on failure */
	int (*round_trip)(void *ctx); /* 0 or -1 */
	void (*close)(void *ctx);
};

/** Every variant, in measuring order; *n receives the count. */
const struct rtt_variant *rtt_variants(size_t *n);

/** Per variant: one sample per round. */
struct rtt_result {
	const struct rtt_variant *v;
	double *ns_per_rtt; /* wall time of the timed loop / iterations */
	double *be_cpu_ns;  /* responder CPU (user+sys) per request */
	double *fe_cpu_ns;  /* requester CPU (user+sys) per request */
	unsigned n;
	/* The responder's getrusage (user+sys) over its whole life, per
	 * request served (warm-up included). */
	double be_rusage_ns;
};

/** Robust summary of @n samples (sorted copy; p10/p90 by nearest rank). */
struct rtt_summary {
	double median, min, max, p10, p90;
};
void rtt_summarise(const double *x, unsigned n, struct rtt_summary *s);

struct rtt_config {
	unsigned rounds, iters, warmup;
	int cpu_fe, cpu_be; /* -1: not pinned */
	bool json, diag;
	const char *only; /* measure this variant only, or NULL */
};

/** Print the text table (or the JSON document) for @res[0..nres). */
void rtt_report(const struct rtt_config *cfg, const struct rtt_result *res,
		size_t nres);

#endif /* VH_BENCH_RTT_H */
