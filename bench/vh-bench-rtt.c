/* SPDX-License-Identifier: MIT */
/*
 * vh-bench-rtt — round trip of a vhost-user request with a reply, and of an
 * acked request, through libvhost's front-end and back-end in two
 * processes, against a raw AF_UNIX request/reply of the same sizes measured
 * in the same run (docs/PERFORMANCE.md, "Protocol round trip").
 *
 *   vh-bench-rtt [--rounds N] [--iters N] [--warmup N] [--cpus FE,BE]
 *                [--diag] [--only NAME] [--list] [--json]
 *
 * Method. Every variant gets its own pair of processes for the whole run:
 * a socketpair, a fork; the child — the back-end, or the raw responder — is
 * pinned to CPU BE and serves until the parent hangs up, the parent — the
 * front-end, or the raw requester — is pinned to CPU FE. Both sides block
 * (no busy polling); a child that is not being measured sleeps. After a
 * warm-up, each round measures every variant once, one block of --iters
 * round trips after the other (the order rotates from round to round), so
 * the variants are interleaved finely and a burst of load on this shared
 * machine hits neighbouring blocks alike. Per round and variant: ns per
 * round trip (CLOCK_MONOTONIC), the requester's and the responder's CPU
 * time per request (CLOCK_PROCESS_CPUTIME_ID and the child's CPU-time
 * clock); the child also reports its getrusage total at the end. Ratios
 * ours/raw are taken per round, then summarised: median and spread.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rtt.h"

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static double cpu_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ((double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec) * 1e9 +
	       ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) *
		   1e3;
}

static int pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return 0;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

/* The child: serve, then report the CPU time it used (getrusage) through
 * @out. */
static void child(const struct rtt_variant *v, int fd, int out, int cpu)
{
	double t0, cpu_used;
	int r;

	if (pin(cpu) < 0)
		_exit(3);
	t0 = cpu_ns();
	r = v->serve(fd);
	cpu_used = cpu_ns() - t0;
	if (write(out, &cpu_used, sizeof(cpu_used)) != sizeof(cpu_used))
		_exit(4);
	_exit(r < 0 ? 2 : 0);
}

/* One variant's pair of processes, alive for the whole run. */
struct peer {
	pid_t pid;
	int res;	 /* the child's report pipe */
	clockid_t clock; /* the child's CPU-time clock */
	void *ctx;	 /* the requester's state */
	unsigned served; /* round trips made, warm-up included */
};

static double clock_ns(clockid_t c)
{
	struct timespec ts;

	if (clock_gettime(c, &ts) < 0)
		return 0;
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int start(const struct rtt_config *cfg, const struct rtt_variant *v,
		 struct peer *p)
{
	int sv[2], res[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 ||
	    pipe(res) < 0)
		return -1;
	p->pid = fork();
	if (p->pid < 0)
		return -1;
	if (p->pid == 0) {
		int fd;

		/* Drop what the parent holds for the other variants: a copy
		 * of their sockets here would hide their hang-up. */
		for (fd = 3; fd < 1024; fd++)
			if (fd != sv[1] && fd != res[1])
				close(fd);
		child(v, sv[1], res[1], cfg->cpu_be);
	}
	close(sv[1]);
	close(res[1]);
	p->res = res[0];
	if (clock_getcpuclockid(p->pid, &p->clock) != 0)
		return -1;
	p->ctx = v->open(sv[0]);
	return p->ctx ? 0 : -1;
}

/* @n round trips. */
static int run(const struct rtt_variant *v, struct peer *p, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (v->round_trip(p->ctx) < 0) {
			fprintf(stderr,
				"vh-bench-rtt: %s: a round trip failed\n",
				v->name);
			return -1;
		}
	p->served += n;
	return 0;
}

/* One round of one variant: time, and both sides' CPU per request. */
static int measure(const struct rtt_config *cfg, struct rtt_result *x,
		   struct peer *p)
{
	double t0, t1, c0, c1, b0, b1;

	b0 = clock_ns(p->clock);
	c0 = cpu_ns();
	t0 = now_ns();
	if (run(x->v, p, cfg->iters) < 0)
		return -1;
	t1 = now_ns();
	c1 = cpu_ns();
	b1 = clock_ns(p->clock);
	x->ns_per_rtt[x->n] = (t1 - t0) / cfg->iters;
	x->fe_cpu_ns[x->n] = (c1 - c0) / cfg->iters;
	x->be_cpu_ns[x->n] = (b1 - b0) / cfg->iters;
	x->n++;
	return 0;
}

/* Hang up; the child reports its getrusage total. */
static int stop(struct rtt_result *x, struct peer *p)
{
	double used = 0;
	int status;

	if (p->ctx)
		x->v->close(p->ctx);
	p->ctx = NULL;
	if (read(p->res, &used, sizeof(used)) != sizeof(used))
		used = 0;
	close(p->res);
	if (waitpid(p->pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		fprintf(stderr, "vh-bench-rtt: %s: responder failed (%d)\n",
			x->v->name, status);
		return -1;
	}
	x->be_rusage_ns = p->served ? used / p->served : 0;
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: vh-bench-rtt [--rounds N] [--iters N] [--warmup N] "
		"[--cpus FE,BE] [--diag] [--only NAME] [--list] [--json]\n"
		"  defaults: 21 rounds x 10000 round trips, 2000 warm-up, "
		"CPUs 0,1 (-1,-1: not pinned)\n"
		"  --diag adds variants that take the difference apart\n"
		"  --only NAME measures one variant (e.g. under strace)\n"
		"  --list prints the variants' names\n");
	exit(2);
}

static unsigned num_arg(const char *s)
{
	char *end;
	unsigned long v = strtoul(s ? s : "", &end, 10);

	if (!s || *end || v == 0 || v > 100000000ul)
		usage();
	return (unsigned)v;
}

int main(int argc, char **argv)
{
	struct rtt_config cfg = {.rounds = 21,
				 .iters = 10000,
				 .warmup = 2000,
				 .cpu_fe = 0,
				 .cpu_be = 1};
	const struct rtt_variant *all;
	struct rtt_result *res;
	struct peer *peers;
	size_t nall, nres = 0, k, j;
	bool list = false;
	unsigned r;
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i],
			   *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--rounds"))
			cfg.rounds = num_arg(val), i++;
		else if (!strcmp(a, "--iters"))
			cfg.iters = num_arg(val), i++;
		else if (!strcmp(a, "--warmup"))
			cfg.warmup = num_arg(val), i++;
		else if (!strcmp(a, "--cpus") && val &&
			 sscanf(val, "%d,%d", &cfg.cpu_fe, &cfg.cpu_be) == 2)
			i++;
		else if (!strcmp(a, "--diag"))
			cfg.diag = true;
		else if (!strcmp(a, "--only") && val)
			cfg.only = val, i++;
		else if (!strcmp(a, "--list"))
			list = true;
		else if (!strcmp(a, "--json"))
			cfg.json = true;
		else
			usage();
	}
	all = rtt_variants(&nall);
	if (list) {
		for (k = 0; k < nall; k++)
			printf("%s%s\n", all[k].name,
			       all[k].diagnostic ? " (--diag)" : "");
		return 0;
	}
	if (cfg.cpu_fe >= 0 && cfg.cpu_fe == cfg.cpu_be)
		fprintf(stderr, "vh-bench-rtt: warning: both sides on CPU %d\n",
			cfg.cpu_fe);
	if (pin(cfg.cpu_fe) < 0) {
		fprintf(stderr, "vh-bench-rtt: cannot pin to CPU %d: %s\n",
			cfg.cpu_fe, strerror(errno));
		return 1;
	}

	res = calloc(nall, sizeof(*res));
	if (!res)
		return 1;
	for (k = 0; k < nall; k++) {
		if (cfg.only ? strcmp(all[k].name, cfg.only) != 0
			     : all[k].diagnostic && !cfg.diag)
			continue;
		res[nres].v = &all[k];
		res[nres].ns_per_rtt = calloc(cfg.rounds, sizeof(double));
		res[nres].be_cpu_ns = calloc(cfg.rounds, sizeof(double));
		res[nres].fe_cpu_ns = calloc(cfg.rounds, sizeof(double));
		if (!res[nres].ns_per_rtt || !res[nres].be_cpu_ns ||
		    !res[nres].fe_cpu_ns)
			return 1;
		nres++;
	}
	if (!nres) {
		fprintf(stderr, "vh-bench-rtt: no variant named %s\n",
			cfg.only);
		return 2;
	}
	peers = calloc(nres, sizeof(*peers));
	if (!peers)
		return 1;
	for (j = 0; j < nres; j++)
		if (start(&cfg, res[j].v, &peers[j]) < 0 ||
		    run(res[j].v, &peers[j], cfg.warmup) < 0) {
			fprintf(stderr, "vh-bench-rtt: %s: cannot start\n",
				res[j].v->name);
			return 1;
		}
	for (r = 0; r < cfg.rounds; r++) {
		for (j = 0; j < nres; j++) {
			size_t x = (j + r) % nres;

			if (measure(&cfg, &res[x], &peers[x]) < 0)
				return 1;
		}
		if (!cfg.json)
			fprintf(stderr, "\rround %u/%u", r + 1, cfg.rounds);
	}
	if (!cfg.json)
		fprintf(stderr, "\n");
	for (j = 0; j < nres; j++)
		if (stop(&res[j], &peers[j]) < 0)
			return 1;
	free(peers);
	rtt_report(&cfg, res, nres);
	for (k = 0; k < nres; k++) {
		free(res[k].ns_per_rtt);
		free(res[k].be_cpu_ns);
		free(res[k].fe_cpu_ns);
	}
	free(res);
	return 0;
}
