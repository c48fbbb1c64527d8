/* SPDX-License-Identifier: MIT */
/*
 * vhost-user-bench: results as text (for people) and as one JSON object
 * (for scripts). docs/vhost-user-bench.md says what every number means.
 *
 * Units: IOPS are completed requests per second of the measurement window;
 * MB/s is 10^6 bytes per second (as fio's "MB/s"), MiB/s 2^20; latencies
 * are nanoseconds in JSON and microseconds in text; CPU time per request
 * is the process's user + system time over the window divided by the
 * requests counted in it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../probe_decode.h"
#include "bench.h"

const char *bench_feature_name(unsigned bit)
{
	return probe_feature_name(PROBE_TYPE_BLK, bit);
}

static const double pcts[] = {50, 90, 99, 99.9};
static const char *const pct_names[] = {"p50", "p90", "p99", "p99.9"};

static void print_names(uint64_t bits, bool protocol)
{
	for (unsigned b = 0; b < 64; b++) {
		const char *n;

		if (!(bits & (UINT64_C(1) << b)))
			continue;
		n = protocol ? vh_proto_protocol_feature_name(b)
			     : bench_feature_name(b);
		if (n)
			printf(" %s", n);
		else
			printf(" bit%u", b);
	}
}

static const char *mem_how(const struct bench_session *s)
{
	const struct bench_opts *o = s->o;

	if (o->mem == MEM_ADD ||
	    (o->mem == MEM_AUTO &&
	     vh_protocol_has(s->dev.pf,
			     VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS)))
		return "ADD_MEM_REG";
	return "SET_MEM_TABLE";
}

/* Polling queue threads sharing CPUs take turns: their latency shows the
 * scheduler's time slices, not the back-end. */
static bool poll_oversubscribed(const struct bench_session *s)
{
	const struct bench_opts *o = s->o;
	unsigned distinct = 0;

	if (!o->poll || !o->ncpus || s->nq < 2)
		return false;
	for (unsigned i = 0; i < o->ncpus && i < s->nq; i++) {
		bool dup = false;

		for (unsigned k = 0; k < i; k++)
			dup |= o->cpus[k] == o->cpus[i];
		distinct += !dup;
	}
	return distinct < s->nq;
}

void report_text_header(const struct bench_session *s)
{
	const struct bench_dev *d = &s->dev;
	const struct bench_opts *o = s->o;

	printf("vhost-user-bench: %s", o->socket);
	if (d->pid)
		printf(" (back-end pid %d)", (int)d->pid);
	printf("\n  features: offered 0x%" PRIx64 ", acked 0x%" PRIx64 ":",
	       d->features, d->acked);
	print_names(d->acked, false);
	printf("\n  protocol: offered 0x%" PRIx64 ", in force 0x%" PRIx64 ":",
	       d->pf_offered, d->pf);
	print_names(d->pf, true);
	printf("\n  device: ");
	if (d->have_config)
		printf("capacity %" PRIu64 " sectors (%.2f GiB)", d->capacity,
		       (double)d->capacity * 512 / (1 << 30));
	else
		printf("no config space");
	printf(", blk_size %u, num_queues %u", d->blk_size, d->num_queues);
	if (d->queue_num)
		printf(" (GET_QUEUE_NUM %" PRIu64 ")", d->queue_num);
	if (d->seg_max)
		printf(", seg_max %u", d->seg_max);
	if (d->size_max)
		printf(", size_max %u", d->size_max);
	if (d->read_only)
		printf(", read-only");
	printf("\n  rings: %u x %s, size %u, EVENT_IDX %s, %s, %s mode; "
	       "guest memory %zu bytes in %u region%s (%s)\n",
	       s->nq, s->packed ? "packed" : "split", s->q[0].size,
	       s->event_idx ? "on" : "off",
	       s->indirect ? "indirect tables" : "direct chains",
	       o->poll ? "poll" : "event", s->mem_len, s->nregions,
	       s->nregions > 1 ? "s" : "", mem_how(s));
	printf("  range: sectors %" PRIu64 "..%" PRIu64 " (%" PRIu64
	       " blocks of %u bytes)",
	       s->range_first,
	       s->range_first + s->range_blocks * (o->bs / 512) - 1,
	       s->range_blocks, o->bs);
	if (s->nseg > 1)
		printf(", %u segments of %u bytes", s->nseg, s->seg_len);
	printf(", iodepth %u per queue, seed %" PRIu64 "\n", o->iodepth,
	       o->seed);
	if (poll_oversubscribed(s))
		printf("  WARNING: %u polling queue threads on fewer CPUs "
		       "(--cpus): they take turns, latency shows time slices\n",
		       s->nq);
	fflush(stdout);
}

static void lat_line(const char *what, const struct hist *h)
{
	if (!h->count)
		return;
	printf("  %s latency (us): min %.2f, mean %.2f", what, h->min / 1e3,
	       hist_mean(h) / 1e3);
	for (unsigned i = 0; i < 4; i++)
		printf(", %s %.2f", pct_names[i],
		       hist_percentile(h, pcts[i]) / 1e3);
	printf(", max %.2f\n", h->max / 1e3);
}

/* A polling front-end that did not get its cores: numbers not trusted. */
static bool contended(const struct job_result *r, double el)
{
	return r->fe_expected_cores > 0 && r->elapsed_s > 0.2 &&
	       r->fe_cpu_s / el < 0.9 * r->fe_expected_cores;
}

void report_text_job(const struct bench_session *s, const struct job_result *r)
{
	struct hist all;
	uint64_t ios = r->reads + r->writes;
	double el = r->elapsed_s > 0 ? r->elapsed_s : 1e-9;
	uint64_t bytes = r->bytes_read + r->bytes_written;

	(void)s;
	hist_reset(&all);
	hist_merge(&all, &r->rd);
	hist_merge(&all, &r->wr);
	printf("%s: %" PRIu64 " requests in %.3f s%s\n", r->name, ios,
	       r->elapsed_s, r->interrupted ? " (interrupted)" : "");
	printf("  IOPS %.1f (read %.1f, write %.1f), %.1f MB/s (%.1f MiB/s)\n",
	       ios / el, r->reads / el, r->writes / el, bytes / el / 1e6,
	       bytes / el / (1 << 20));
	if (r->reads && r->writes) {
		lat_line("read", &r->rd);
		lat_line("write", &r->wr);
	}
	lat_line("all", &all);
	if (ios) {
		printf("  CPU per request: front-end %.2f us (%.2f cores)",
		       r->fe_cpu_s * 1e6 / ios, r->fe_cpu_s / el);
		if (r->be_cpu_s >= 0)
			printf(", back-end %.2f us (%.2f cores%s)",
			       r->be_cpu_s * 1e6 / ios, r->be_cpu_s / el,
			       r->be_cpu_precise ? "" : ", +-10 ms");
		printf("\n  per request: %.3f kicks, %.3f calls, %.3f wakeups; "
		       "front-end preempted %" PRIu64 " times\n",
		       (double)r->kicks / ios, (double)r->calls / ios,
		       (double)r->wakeups / ios, r->fe_preempted);
	}
	if (contended(r, el))
		printf(
		    "  WARNING: the polling front-end ran on %.2f of the %.0f "
		    "cores it spins on: it shared its CPU with other work, "
		    "so these numbers measure the machine, not the "
		    "back-end\n",
		    r->fe_cpu_s / el, r->fe_expected_cores);
	if (r->verify_sectors || r->verify_bad) {
		printf("  verify: %" PRIu64 " sectors checked, %" PRIu64
		       " mismatched\n",
		       r->verify_sectors, r->verify_bad);
		for (unsigned i = 0; i < r->nmism; i++) {
			char line[320];

			pattern_describe(&r->mism[i], s->o->verify_pass,
					 s->o->seed, line, sizeof(line));
			printf("    %s\n", line);
		}
		if (r->verify_bad > r->nmism)
			printf("    ... and %" PRIu64 " more\n",
			       r->verify_bad - r->nmism);
	}
	fflush(stdout);
}

/* ---- JSON ---------------------------------------------------------------- */

static void jstr(const char *s)
{
	putchar('"');
	for (; s && *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static void jnames(uint64_t bits, bool protocol)
{
	bool first = true;

	putchar('[');
	for (unsigned b = 0; b < 64; b++) {
		const char *n;
		char tmp[16];

		if (!(bits & (UINT64_C(1) << b)))
			continue;
		n = protocol ? vh_proto_protocol_feature_name(b)
			     : bench_feature_name(b);
		if (!n) {
			snprintf(tmp, sizeof(tmp), "bit%u", b);
			n = tmp;
		}
		printf("%s", first ? "" : ",");
		jstr(n);
		first = false;
	}
	putchar(']');
}

static void jhist(const char *name, const struct hist *h)
{
	printf("\"%s\":{\"count\":%" PRIu64, name, h->count);
	if (h->count) {
		printf(",\"min\":%" PRIu64 ",\"mean\":%.1f", h->min,
		       hist_mean(h));
		for (unsigned i = 0; i < 4; i++)
			printf(",\"%s\":%" PRIu64, pct_names[i],
			       hist_percentile(h, pcts[i]));
		printf(",\"max\":%" PRIu64, h->max);
	}
	putchar('}');
}

static void jjob(const struct bench_session *s, const struct job_result *r)
{
	struct hist all;
	uint64_t ios = r->reads + r->writes;
	double el = r->elapsed_s > 0 ? r->elapsed_s : 1e-9;
	uint64_t bytes = r->bytes_read + r->bytes_written;

	hist_reset(&all);
	hist_merge(&all, &r->rd);
	hist_merge(&all, &r->wr);
	printf("{\"name\":");
	jstr(r->name);
	printf(",\"requests\":%" PRIu64 ",\"reads\":%" PRIu64
	       ",\"writes\":%" PRIu64 ",\"bytes_read\":%" PRIu64
	       ",\"bytes_written\":%" PRIu64 ",\"elapsed_s\":%.6f",
	       ios, r->reads, r->writes, r->bytes_read, r->bytes_written,
	       r->elapsed_s);
	printf(",\"iops\":%.1f,\"read_iops\":%.1f,\"write_iops\":%.1f"
	       ",\"mb_s\":%.3f,\"mib_s\":%.3f",
	       ios / el, r->reads / el, r->writes / el, bytes / el / 1e6,
	       bytes / el / (1 << 20));
	printf(",\"latency_ns\":{");
	jhist("all", &all);
	putchar(',');
	jhist("read", &r->rd);
	putchar(',');
	jhist("write", &r->wr);
	printf("},\"cpu\":{\"frontend_s\":%.6f,\"frontend_cores\":%.4f",
	       r->fe_cpu_s, r->fe_cpu_s / el);
	if (ios)
		printf(",\"frontend_ns_per_request\":%.1f",
		       r->fe_cpu_s * 1e9 / ios);
	if (r->be_cpu_s >= 0) {
		printf(",\"backend_pid\":%d,\"backend_s\":%.6f"
		       ",\"backend_cores\":%.4f,\"backend_source\":\"%s\"",
		       (int)s->dev.pid, r->be_cpu_s, r->be_cpu_s / el,
		       r->be_cpu_precise ? "schedstat" : "stat");
		if (ios)
			printf(",\"backend_ns_per_request\":%.1f",
			       r->be_cpu_s * 1e9 / ios);
	}
	printf(",\"frontend_preempted\":%" PRIu64, r->fe_preempted);
	if (r->fe_expected_cores > 0)
		printf(",\"frontend_expected_cores\":%.0f,\"contended\":%s",
		       r->fe_expected_cores,
		       contended(r, el) ? "true" : "false");
	printf("},\"notifications\":{\"kicks\":%" PRIu64 ",\"calls\":%" PRIu64
	       ",\"wakeups\":%" PRIu64 "}",
	       r->kicks, r->calls, r->wakeups);
	if (r->verify_sectors || r->verify_bad) {
		printf(",\"verify\":{\"sectors\":%" PRIu64
		       ",\"mismatched\":%" PRIu64 ",\"first\":[",
		       r->verify_sectors, r->verify_bad);
		for (unsigned i = 0; i < r->nmism; i++) {
			char line[320];

			pattern_describe(&r->mism[i], s->o->verify_pass,
					 s->o->seed, line, sizeof(line));
			printf("%s{\"sector\":%" PRIu64
			       ",\"byte\":%u,\"what\":",
			       i ? "," : "", r->mism[i].lba, r->mism[i].offset);
			jstr(line);
			putchar('}');
		}
		printf("]}");
	}
	printf(",\"interrupted\":%s", r->interrupted ? "true" : "false");
	if (r->failed) {
		printf(",\"error\":");
		jstr(r->error);
	}
	putchar('}');
}

void report_json(const struct bench_session *s, struct job_result *const *r,
		 unsigned n, const char *error)
{
	const struct bench_dev *d = &s->dev;
	const struct bench_opts *o = s->o;

	printf("{\"tool\":\"vhost-user-bench\",\"version\":\"%s\",\"socket\":",
	       VH_VERSION);
	jstr(o->socket);
	printf(",\"backend_pid\":%d", (int)d->pid);
	printf(",\"features\":{\"offered\":\"0x%" PRIx64
	       "\",\"acked\":\"0x%" PRIx64 "\",\"acked_names\":",
	       d->features, d->acked);
	jnames(d->acked, false);
	printf(",\"protocol_offered\":\"0x%" PRIx64
	       "\",\"protocol\":\"0x%" PRIx64 "\",\"protocol_names\":",
	       d->pf_offered, d->pf);
	jnames(d->pf, true);
	printf("},\"device\":{\"config\":%s,\"capacity_sectors\":%" PRIu64
	       ",\"blk_size\":%u,\"num_queues\":%u,\"queue_num\":%" PRIu64
	       ",\"seg_max\":%u,\"size_max\":%u,\"read_only\":%s}",
	       d->have_config ? "true" : "false", d->capacity, d->blk_size,
	       d->num_queues, d->queue_num, d->seg_max, d->size_max,
	       d->read_only ? "true" : "false");
	printf(",\"config\":{\"rw\":\"%s\",\"read_pct\":%u,\"bs\":%u"
	       ",\"iodepth\":%u,\"queues\":%u,\"ring\":\"%s\",\"queue_size\":%u"
	       ",\"event_idx\":%s,\"indirect\":%s,\"mode\":\"%s\""
	       ",\"regions\":%u,\"memory\":\"%s\",\"guest_memory_bytes\":%zu"
	       ",\"range_first_sector\":%" PRIu64 ",\"range_blocks\":%" PRIu64
	       ",\"segments\":%u,\"runtime_s\":%.3f,\"ramp_s\":%.3f"
	       ",\"count\":%" PRIu64 ",\"seed\":%" PRIu64 ",\"verify\":%s}",
	       o->verify ? "verify" : rw_name(o->rw),
	       o->verify ? 0 : rw_read_pct(o->rw, o->mix_read), o->bs,
	       o->iodepth, s->nq, s->packed ? "packed" : "split",
	       s->nq ? s->q[0].size : 0, s->event_idx ? "true" : "false",
	       s->indirect ? "true" : "false", o->poll ? "poll" : "event",
	       s->nregions, mem_how(s), s->mem_len, s->range_first,
	       s->range_blocks, s->nseg, o->count ? 0.0 : o->runtime_s,
	       o->ramp_s, o->count, o->seed, o->verify ? "true" : "false");
	printf(",\"poll_threads_share_cpus\":%s",
	       poll_oversubscribed(s) ? "true" : "false");
	printf(",\"jobs\":[");
	for (unsigned i = 0; i < n; i++) {
		if (i)
			putchar(',');
		jjob(s, r[i]);
	}
	printf("],\"result\":\"%s\"", error ? "error" : "ok");
	if (error) {
		printf(",\"error\":");
		jstr(error);
	}
	printf("}\n");
	fflush(stdout);
}
