/* SPDX-License-Identifier: MIT */
/*
 * vhost-user-bench: drive any vhost-user-blk back-end without a VM and
 * measure it (IOPS, bandwidth, latency percentiles, CPU per request), or
 * check it (--verify, --bad). docs/vhost-user-bench.md is the manual.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "vhost/log.h"

#define MAX_JOBS 2

static void quiet_log(void *opaque, enum vh_log_level level, const char *msg)
{
	(void)opaque;
	(void)level;
	(void)msg;
}

/* FLUSH on ring 0 (after the verify writes, when negotiated): the data
 * must be stable before it is read back (virtio 1.2 §5.2.6.2). */
static int flush(struct bench_session *s, char *err, size_t n)
{
	struct bench_queue *q = &s->q[0];
	struct bench_req *r = &q->reqs[0];
	struct vh_drv_buf out = {r->hdr_gpa, REQ_HDR_LEN};
	struct vh_drv_buf in = {r->hdr_gpa + REQ_STATUS_OFF, 1};
	uint32_t type = VIRTIO_BLK_T_FLUSH, len;
	uint64_t zero = 0;
	int rc;

	if (!(s->dev.acked & (UINT64_C(1) << VIRTIO_BLK_F_FLUSH)))
		return 0;
	memcpy(r->hdr, &type, 4);
	memset(r->hdr + 4, 0, 4);
	memcpy(r->hdr + 8, &zero, 8);
	r->hdr[REQ_STATUS_OFF] = 0xff;
	rc = run_sync(s, q, &out, 1, &in, 1, s->o->timeout_ms, &len, err, n);
	if (rc < 0)
		return -1;
	if (rc == 0) {
		snprintf(err, n, "FLUSH: no answer within %d ms",
			 s->o->timeout_ms);
		return -1;
	}
	if (r->hdr[REQ_STATUS_OFF] != VIRTIO_BLK_S_OK || len != 1) {
		snprintf(err, n,
			 "FLUSH: status %u, used length %u (expected 0, 1)",
			 r->hdr[REQ_STATUS_OFF], len);
		return -1;
	}
	return 0;
}

static unsigned make_jobs(const struct bench_opts *o, struct bench_job *j)
{
	unsigned n = 0;

	if (!o->verify) {
		snprintf(j[0].name, sizeof(j[0].name), "%s", rw_name(o->rw));
		j[0].rw = o->rw;
		j[0].read_pct = rw_read_pct(o->rw, o->mix_read);
		j[0].count = o->count;
		j[0].runtime_s = o->runtime_s;
		j[0].ramp_s = o->ramp_s;
		return 1;
	}
	/* Each block once per phase, in a random order, queues on disjoint
	 * parts of the range. */
	if (o->verify_phase != VERIFY_READ) {
		snprintf(j[n].name, sizeof(j[n].name), "verify-write");
		j[n].rw = RW_RANDWRITE;
		j[n].read_pct = 0;
		j[n].pattern = PAT_WRITE;
		j[n].count = o->count;
		j[n].each_block_once = true;
		n++;
	}
	if (o->verify_phase != VERIFY_WRITE) {
		snprintf(j[n].name, sizeof(j[n].name), "verify-read");
		j[n].rw = RW_RANDREAD;
		j[n].read_pct = 100;
		j[n].pattern = PAT_CHECK;
		j[n].count = o->count;
		j[n].each_block_once = true;
		n++;
	}
	return n;
}

int main(int argc, char **argv)
{
	static struct bench_session s;
	struct bench_opts o;
	struct bench_job jobs[MAX_JOBS];
	struct job_result *res[MAX_JOBS] = {0};
	char err[320] = "", cerr[320] = "";
	const char *error = NULL;
	unsigned njobs, nres = 0;
	int rc;

	rc = opts_parse(&o, argc, argv);
	if (rc == 1)
		return EXIT_BENCH_OK;
	if (rc)
		return rc;
	/* Our own one-line errors; the library's detail on request. */
	if (!o.verbose)
		vh_log_set_handler(quiet_log, NULL);
	run_install_signals();
	if (o.bad)
		return bad_run(&o);

	rc = session_open(&s, &o, err, sizeof(err));
	if (rc) {
		session_close(&s, cerr, sizeof(cerr));
		if (o.json)
			report_json(&s, res, 0, err);
		fprintf(stderr, "vhost-user-bench: %s\n", err);
		return rc;
	}
	if (!o.json)
		report_text_header(&s);

	memset(jobs, 0, sizeof(jobs));
	njobs = make_jobs(&o, jobs);
	rc = EXIT_BENCH_OK;
	for (unsigned i = 0; i < njobs && !run_interrupted(); i++) {
		struct job_result *r = calloc(1, sizeof(*r));

		if (!r) {
			snprintf(err, sizeof(err), "out of memory");
			error = err;
			break;
		}
		res[nres++] = r;
		run_job(&s, &jobs[i], r);
		if (!o.json)
			report_text_job(&s, r);
		if (r->failed) {
			snprintf(err, sizeof(err), "%s", r->error);
			error = err;
			break;
		}
		if (r->verify_bad) {
			snprintf(err, sizeof(err),
				 "verify: %" PRIu64 " of %" PRIu64
				 " sectors did not hold what was written",
				 r->verify_bad, r->verify_sectors);
			error = err;
		}
		if (o.verify && r->interrupted) {
			snprintf(err, sizeof(err),
				 "verify interrupted: %" PRIu64
				 " requests done, the range is not fully "
				 "checked",
				 r->reads + r->writes);
			error = err;
			break;
		}
		if (jobs[i].pattern == PAT_WRITE &&
		    flush(&s, err, sizeof(err))) {
			error = err;
			break;
		}
	}
	if (session_close(&s, cerr, sizeof(cerr)) && !error)
		error = cerr;
	if (o.json)
		report_json(&s, res, nres, error);
	if (error) {
		fprintf(stderr, "vhost-user-bench: %s\n", error);
		rc = EXIT_BENCH_FAIL;
	}
	for (unsigned i = 0; i < nres; i++)
		free(res[i]);
	return rc;
}
