/* SPDX-License-Identifier: MIT */
/*
 * vh-bench-rtt: statistics and the two report forms (a text table for
 * people, --json for scripts).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "rtt.h"

/* The goal: our round trip at most 1.2 x the raw one. */
#define RTT_GOAL 1.2

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

void rtt_summarise(const double *x, unsigned n, struct rtt_summary *s)
{
	double *v;

	memset(s, 0, sizeof(*s));
	if (!n)
		return;
	v = malloc(n * sizeof(*v));
	if (!v)
		return;
	memcpy(v, x, n * sizeof(*v));
	qsort(v, n, sizeof(*v), cmp_double);
	s->min = v[0];
	s->max = v[n - 1];
	s->median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	/* Nearest rank: p10 is the ceil(0.1 n)-th smallest. */
	s->p10 = v[(n + 9) / 10 - 1];
	s->p90 = v[(9 * n + 9) / 10 - 1];
	free(v);
}

static const struct rtt_result *find(const struct rtt_result *res, size_t n,
				     const char *name)
{
	size_t i;

	for (i = 0; name && i < n; i++)
		if (!strcmp(res[i].v->name, name))
			return &res[i];
	return NULL;
}

/* Per-round ratios of @a over @b into @out; returns how many. */
static unsigned ratios(const struct rtt_result *a, const struct rtt_result *b,
		       double *out)
{
	unsigned i, n = a->n < b->n ? a->n : b->n;

	for (i = 0; i < n; i++)
		out[i] = a->ns_per_rtt[i] / b->ns_per_rtt[i];
	return n;
}

static void cpu_model(char *buf, size_t len)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256];

	snprintf(buf, len, "unknown");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *c = strchr(line, ':');

		if (strncmp(line, "model name", 10) || !c)
			continue;
		c += 2;
		c[strcspn(c, "\n")] = 0;
		snprintf(buf, len, "%s", c);
		break;
	}
	fclose(f);
}

static void text(const struct rtt_config *cfg, const struct rtt_result *res,
		 size_t n, const char *model, const struct utsname *u)
{
	struct rtt_summary t, be, fe;
	double *rt = malloc(cfg->rounds * sizeof(double));
	size_t i;

	printf("vh-bench-rtt: %u rounds x %u round trips (+%u warm-up); "
	       "front-end CPU %d, back-end CPU %d\n",
	       cfg->rounds, cfg->iters, cfg->warmup, cfg->cpu_fe, cfg->cpu_be);
	printf("machine: %ld CPUs, %s, Linux %s\n",
	       sysconf(_SC_NPROCESSORS_ONLN), model, u->release);
	printf("\n%-20s %8s %8s %8s %8s %8s %10s %10s %10s\n", "variant",
	       "median", "p10", "p90", "min", "max", "be cpu", "fe cpu",
	       "be cpu");
	printf("%-20s %8s %8s %8s %8s %8s %10s %10s %10s\n", "", "ns/rtt", "",
	       "", "", "", "ns/req med", "ns/req med", "rusage");
	for (i = 0; i < n; i++) {
		rtt_summarise(res[i].ns_per_rtt, res[i].n, &t);
		rtt_summarise(res[i].be_cpu_ns, res[i].n, &be);
		rtt_summarise(res[i].fe_cpu_ns, res[i].n, &fe);
		printf("%-20s %8.0f %8.0f %8.0f %8.0f %8.0f %10.0f %10.0f "
		       "%10.0f\n",
		       res[i].v->name, t.median, t.p10, t.p90, t.min, t.max,
		       be.median, fe.median, res[i].be_rusage_ns);
	}
	printf("\nratio ours/raw, per round (goal <= %.1f):\n", RTT_GOAL);
	for (i = 0; rt && i < n; i++) {
		const struct rtt_result *b = find(res, n, res[i].v->baseline);
		unsigned k;

		if (!b)
			continue;
		k = ratios(&res[i], b, rt);
		rtt_summarise(rt, k, &t);
		printf("  %-20s / %-10s median %.3f  p10 %.3f  p90 %.3f  "
		       "min %.3f  max %.3f  %s\n",
		       res[i].v->name, b->v->name, t.median, t.p10, t.p90,
		       t.min, t.max, t.median <= RTT_GOAL ? "met" : "MISSED");
	}
	for (i = 0; i < n; i++)
		printf("  %-20s %s\n", res[i].v->name, res[i].v->what);
	free(rt);
}

/* @prec decimals: 1 for nanoseconds, 4 for ratios. */
static void json_summary(const char *key, const struct rtt_summary *s, int prec,
			 const char *tail)
{
	printf("\"%s\": {\"median\": %.*f, \"p10\": %.*f, \"p90\": %.*f, "
	       "\"min\": %.*f, \"max\": %.*f}%s",
	       key, prec, s->median, prec, s->p10, prec, s->p90, prec, s->min,
	       prec, s->max, tail);
}

static void json(const struct rtt_config *cfg, const struct rtt_result *res,
		 size_t n, const char *model, const struct utsname *u)
{
	struct rtt_summary s;
	double *rt = malloc(cfg->rounds * sizeof(double));
	size_t i;
	unsigned k;
	bool first = true;

	printf("{\n  \"benchmark\": \"vh-bench-rtt\",\n");
	printf("  \"machine\": {\"nproc\": %ld, \"cpu\": \"%s\", "
	       "\"kernel\": \"%s\"},\n",
	       sysconf(_SC_NPROCESSORS_ONLN), model, u->release);
	printf("  \"config\": {\"rounds\": %u, \"iters\": %u, \"warmup\": %u, "
	       "\"cpu_frontend\": %d, \"cpu_backend\": %d},\n",
	       cfg->rounds, cfg->iters, cfg->warmup, cfg->cpu_fe, cfg->cpu_be);
	printf("  \"variants\": {\n");
	for (i = 0; i < n; i++) {
		printf("    \"%s\": {\"what\": \"%s\", ", res[i].v->name,
		       res[i].v->what);
		rtt_summarise(res[i].ns_per_rtt, res[i].n, &s);
		json_summary("ns_per_rtt", &s, 1, ", ");
		rtt_summarise(res[i].be_cpu_ns, res[i].n, &s);
		json_summary("backend_cpu_ns_per_req", &s, 1, ", ");
		rtt_summarise(res[i].fe_cpu_ns, res[i].n, &s);
		json_summary("frontend_cpu_ns_per_req", &s, 1, ", ");
		printf("\"backend_rusage_ns_per_req\": %.1f, ",
		       res[i].be_rusage_ns);
		printf("\"rounds_ns\": [");
		for (k = 0; k < res[i].n; k++)
			printf("%s%.1f", k ? ", " : "", res[i].ns_per_rtt[k]);
		printf("]}%s\n", i + 1 < n ? "," : "");
	}
	printf("  },\n  \"goal_ratio\": %.2f,\n  \"ratios\": {\n", RTT_GOAL);
	for (i = 0; rt && i < n; i++) {
		const struct rtt_result *b = find(res, n, res[i].v->baseline);

		if (!b)
			continue;
		k = ratios(&res[i], b, rt);
		rtt_summarise(rt, k, &s);
		printf("%s    \"%s/%s\": {", first ? "" : ",\n", res[i].v->name,
		       b->v->name);
		json_summary("ratio", &s, 4, ", ");
		printf("\"met\": %s}", s.median <= RTT_GOAL ? "true" : "false");
		first = false;
	}
	printf("\n  }\n}\n");
	free(rt);
}

void rtt_report(const struct rtt_config *cfg, const struct rtt_result *res,
		size_t n)
{
	struct utsname u;
	char model[128];

	if (uname(&u) < 0)
		memset(&u, 0, sizeof(u));
	cpu_model(model, sizeof(model));
	if (cfg->json)
		json(cfg, res, n, model, &u);
	else
		text(cfg, res, n, model, &u);
}
