/* SPDX-License-Identifier: MIT */
/*
 * vhost-user-bench --bad: deliberately malformed virtio-blk requests, what
 * the back-end answers, and whether it lives on.
 *
 * Each case runs in a fresh session (so one case cannot spoil the next),
 * sends its malformed request(s) on ring 0, then a normal READ on the same
 * ring. When that does not succeed, a new connection (client mode) must be
 * accepted and served: the back-end process lives on.
 *
 * Verdicts:
 *   pass       the answer the specification asks for (or, where it leaves
 *              room, the best one), and the ring still serves requests;
 *   deviation  the back-end protected itself and lives on, but answered
 *              differently (other status or used length, request dropped,
 *              ring or connection shut down);
 *   FAIL       guest memory the device must not write was written, an
 *              impossible request reported success, a used buffer without
 *              a status, or the back-end is gone.
 *
 * The cases (docs/vhost-user-bench.md explains each):
 *   past-end     READ at the capacity, READ straddling the end, WRITE at
 *                the capacity: the driver "MUST NOT submit a request which
 *                would cause a read or write beyond capacity" (virtio 1.2
 *                §5.2.6.1); the device answers VIRTIO_BLK_S_IOERR ("device
 *                or driver error", §5.2.6), and writes only the status, so
 *                used len = 1 (§2.7.8.2: len is what was written).
 *   short-chain  only the header, no data, no status: the device has no
 *                place to put a status. Best: return the buffer with used
 *                len 0, so the driver gets its descriptor back; dropping it
 *                or stopping the ring (DEVICE_NEEDS_RESET, §2.1.2) are
 *                deviations.
 *   ro-buffer    a READ whose data buffer is device-readable: for a
 *                vhost-user back-end "read-only guest memory" is a buffer it
 *                must not write — "A device MUST NOT write to a
 *                device-readable buffer" (§2.7.5.1). Expected: IOERR or
 *                UNSUPP, used len 1, the buffer untouched.
 *   bad-addr     a READ whose data buffer lies outside every memory region.
 *                Expected: IOERR with used len 1; stopping the ring
 *                (NEEDS_RESET) is a deviation; touching memory is a crash.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

enum verdict { V_PASS, V_DEVIATION, V_FAIL };

static const char *const verdict_name[] = {"pass", "deviation", "FAIL"};

#define CANARY 0x5au
/* A guest-physical address in no region (between the two). */
#define GPA_HOLE UINT64_C(0x200000000)

struct outcome {
	char request[96];
	int answered; /* 1 used, 0 no answer in time, -1 connection lost */
	unsigned status;
	uint32_t len;
	enum verdict v;
	char detail[200];
};

struct bad_case {
	const char *name;
	unsigned nreq;
	void (*run)(struct bench_session *s, unsigned i, struct outcome *out);
};

static void put_hdr(uint8_t *hdr, uint32_t type, uint64_t sector)
{
	uint32_t zero = 0;

	memcpy(hdr, &type, 4);
	memcpy(hdr + 4, &zero, 4);
	memcpy(hdr + 8, &sector, 8);
}

static int bad_timeout(const struct bench_session *s)
{
	return s->o->timeout_ms < 2000 ? s->o->timeout_ms : 2000;
}

/* Send on ring 0 and fill the common part of @out. */
static void send_bad(struct bench_session *s, struct outcome *out,
		     const struct vh_drv_buf *o, unsigned no,
		     const struct vh_drv_buf *in, unsigned ni,
		     const uint8_t *status)
{
	char err[160];
	int r = run_sync(s, &s->q[0], o, no, in, ni, bad_timeout(s), &out->len,
			 err, sizeof(err));

	out->answered = r > 0 ? 1 : r == 0 ? 0 : -1;
	out->status = status ? *status : 0;
	if (r < 0)
		snprintf(out->detail, sizeof(out->detail), "%s", err);
}

static void no_answer(struct outcome *out)
{
	out->v = V_DEVIATION;
	if (out->answered == 0)
		snprintf(out->detail, sizeof(out->detail),
			 "no answer within the wait: the request was dropped "
			 "or the ring stopped");
	/* answered < 0: send() put the connection error in detail */
}

/* ---- past-end ------------------------------------------------------------ */

static void past_end(struct bench_session *s, unsigned i, struct outcome *out)
{
	struct bench_req *r = &s->q[0].reqs[0];
	uint32_t blk = s->dev.blk_size, len = i == 1 ? 2 * blk : blk;
	uint64_t cap = s->dev.capacity;
	uint64_t sector = i == 1 ? cap - blk / 512 : cap;
	uint32_t type = i == 2 ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN;
	struct vh_drv_buf o[2] = {{r->hdr_gpa, REQ_HDR_LEN},
				  {r->data_gpa, len}};
	struct vh_drv_buf in[2] = {{r->data_gpa, len},
				   {r->hdr_gpa + REQ_STATUS_OFF, 1}};
	uint8_t *st = r->hdr + REQ_STATUS_OFF;

	snprintf(out->request, sizeof(out->request),
		 "%s of %u bytes at sector %" PRIu64 " (capacity %" PRIu64 ")",
		 type == VIRTIO_BLK_T_IN ? "READ" : "WRITE", len, sector, cap);
	put_hdr(r->hdr, type, sector);
	*st = 0xff;
	if (type == VIRTIO_BLK_T_IN)
		send_bad(s, out, o, 1, in, 2, st);
	else
		send_bad(s, out, o, 2, &in[1], 1, st);
	if (out->answered <= 0)
		return no_answer(out);
	if (out->status == VIRTIO_BLK_S_OK) {
		out->v = V_FAIL;
		snprintf(out->detail, sizeof(out->detail),
			 "status OK: the back-end %s beyond the capacity",
			 type == VIRTIO_BLK_T_IN ? "read" : "wrote");
	} else if (out->status == 0xff) {
		out->v = V_FAIL;
		snprintf(out->detail, sizeof(out->detail),
			 "buffer used with the status byte never written");
	} else if (out->status != VIRTIO_BLK_S_IOERR) {
		out->v = V_DEVIATION;
		snprintf(out->detail, sizeof(out->detail),
			 "status %u, expected IOERR (1)", out->status);
	} else if (out->len != 1) {
		out->v = V_DEVIATION;
		snprintf(out->detail, sizeof(out->detail),
			 "used len %u, expected 1: only the status byte was "
			 "written (§2.7.8.2)",
			 out->len);
	} else {
		out->v = V_PASS;
		snprintf(out->detail, sizeof(out->detail), "IOERR, used len 1");
	}
}

/* ---- short-chain --------------------------------------------------------- */

static void short_chain(struct bench_session *s, unsigned i,
			struct outcome *out)
{
	struct bench_req *r = &s->q[0].reqs[0];
	struct vh_drv_buf o = {r->hdr_gpa, REQ_HDR_LEN};
	uint8_t before[REQ_HDR_LEN];

	(void)i;
	snprintf(out->request, sizeof(out->request),
		 "READ with the header only (no data, no status)");
	put_hdr(r->hdr, VIRTIO_BLK_T_IN, s->range_first);
	memcpy(before, r->hdr, REQ_HDR_LEN);
	send_bad(s, out, &o, 1, NULL, 0, NULL);
	if (out->answered > 0 && memcmp(before, r->hdr, REQ_HDR_LEN)) {
		out->v = V_FAIL;
		snprintf(out->detail, sizeof(out->detail),
			 "the device wrote into the device-readable header "
			 "(§2.7.5.1)");
		return;
	}
	if (out->answered <= 0)
		return no_answer(out);
	if (out->len != 0) {
		out->v = V_DEVIATION;
		snprintf(out->detail, sizeof(out->detail),
			 "returned with used len %u; there is nothing writable "
			 "(expected 0)",
			 out->len);
		return;
	}
	out->v = V_PASS;
	snprintf(out->detail, sizeof(out->detail),
		 "returned unprocessed, used len 0");
}

/* ---- ro-buffer and bad-addr ---------------------------------------------- */

/* A READ whose data buffer the device must not or cannot write: inside
 * guest memory but device-readable (@hole false), or writable but in no
 * region (@hole true). */
static void bad_read(struct bench_session *s, struct outcome *out, bool hole)
{
	struct bench_req *r = &s->q[0].reqs[0];
	uint32_t len = s->dev.blk_size;
	struct vh_drv_buf o[2] = {{r->hdr_gpa, REQ_HDR_LEN},
				  {r->data_gpa, len}};
	struct vh_drv_buf in[2] = {{GPA_HOLE, len},
				   {r->hdr_gpa + REQ_STATUS_OFF, 1}};
	uint8_t *st = r->hdr + REQ_STATUS_OFF;
	bool touched = false;

	put_hdr(r->hdr, VIRTIO_BLK_T_IN, s->range_first);
	*st = 0xff;
	memset(r->data, CANARY, len);
	if (hole) {
		snprintf(out->request, sizeof(out->request),
			 "READ of %u bytes into GPA 0x%" PRIx64
			 " (in no region)",
			 len, GPA_HOLE);
		send_bad(s, out, o, 1, in, 2, st);
	} else {
		snprintf(out->request, sizeof(out->request),
			 "READ of %u bytes into a device-readable buffer", len);
		send_bad(s, out, o, 2, &in[1], 1, st);
		for (uint32_t k = 0; k < len; k++)
			touched |= r->data[k] != CANARY;
	}
	if (touched) {
		out->v = V_FAIL;
		snprintf(out->detail, sizeof(out->detail),
			 "the device wrote into the device-readable buffer "
			 "(§2.7.5.1 MUST NOT)");
		return;
	}
	if (out->answered <= 0)
		return no_answer(out);
	if (out->status == 0xff) {
		out->v = V_FAIL;
		snprintf(out->detail, sizeof(out->detail),
			 "buffer used with the status byte never written");
	} else if (out->status == VIRTIO_BLK_S_OK) {
		out->v = hole ? V_FAIL : V_DEVIATION;
		snprintf(out->detail, sizeof(out->detail), "%s",
			 hole ? "status OK for a buffer outside guest memory"
			      : "status OK: the back-end read 0 bytes (it "
				"ignored the device-readable buffer); expected "
				"IOERR or UNSUPP");
	} else if (out->status != VIRTIO_BLK_S_IOERR &&
		   (hole || out->status != VIRTIO_BLK_S_UNSUPP)) {
		out->v = V_DEVIATION;
		snprintf(out->detail, sizeof(out->detail),
			 "status %u, expected IOERR", out->status);
	} else if (out->len != 1) {
		out->v = V_DEVIATION;
		snprintf(out->detail, sizeof(out->detail),
			 "status %u, used len %u, expected 1 (§2.7.8.2)",
			 out->status, out->len);
	} else {
		out->v = V_PASS;
		snprintf(out->detail, sizeof(out->detail), "%s, used len 1%s",
			 out->status == VIRTIO_BLK_S_IOERR ? "IOERR" : "UNSUPP",
			 hole ? "" : ", buffer untouched");
	}
}

static void ro_buffer(struct bench_session *s, unsigned i, struct outcome *out)
{
	(void)i;
	bad_read(s, out, false);
}

static void bad_addr(struct bench_session *s, unsigned i, struct outcome *out)
{
	(void)i;
	bad_read(s, out, true);
}

static const struct bad_case cases[] = {
    {"past-end", 3, past_end},
    {"short-chain", 1, short_chain},
    {"ro-buffer", 1, ro_buffer},
    {"bad-addr", 1, bad_addr},
};

/* ---- the normal request after, and liveness ------------------------------ */

/* A READ of one block at the start of the range: 1 OK, 0 not OK (why in
 * @why), -1 connection gone. */
static int normal_read(struct bench_session *s, char *why, size_t n)
{
	struct bench_req *r = &s->q[0].reqs[s->q[0].depth - 1];
	uint32_t len = s->dev.blk_size, got;
	struct vh_drv_buf o = {r->hdr_gpa, REQ_HDR_LEN};
	struct vh_drv_buf in[2] = {{r->data_gpa, len},
				   {r->hdr_gpa + REQ_STATUS_OFF, 1}};
	int rc;

	put_hdr(r->hdr, VIRTIO_BLK_T_IN, s->range_first);
	r->hdr[REQ_STATUS_OFF] = 0xff;
	rc = run_sync(s, &s->q[0], &o, 1, in, 2, bad_timeout(s), &got, why, n);
	if (rc < 0)
		return -1;
	if (rc == 0) {
		snprintf(why, n, "no answer within %d ms", bad_timeout(s));
		return 0;
	}
	if (r->hdr[REQ_STATUS_OFF] != VIRTIO_BLK_S_OK || got != len + 1) {
		snprintf(why, n, "status %u, used len %u",
			 r->hdr[REQ_STATUS_OFF], got);
		return 0;
	}
	return 1;
}

/* After a failed normal request: does a new session work? */
static bool lives_on(const struct bench_opts *o, char *why, size_t n)
{
	struct bench_session s2;
	char err[200], err2[200];
	int r;

	if (o->server) {
		snprintf(why, n, "unknown (--server: cannot reconnect)");
		return false;
	}
	r = session_open(&s2, o, err, sizeof(err));
	if (r == 0)
		r = normal_read(&s2, err, sizeof(err)) == 1 ? 0 : 1;
	session_close(&s2, err2, sizeof(err2));
	if (r)
		snprintf(why, n, "the back-end is gone: %s", err);
	else
		snprintf(why, n, "a new connection was served");
	return r == 0;
}

/* ---- driver -------------------------------------------------------------- */

static void print_outcome(const char *name, const struct outcome *x)
{
	printf("%-12s %s\n", name, x->request);
	if (x->answered > 0)
		printf("%-12s   answer: status %u, used len %u -> %s: %s\n", "",
		       x->status, x->len, verdict_name[x->v], x->detail);
	else
		printf("%-12s   answer: none -> %s: %s\n", "",
		       verdict_name[x->v], x->detail);
}

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

/* Returns the case's verdict, or -(exit code) when no session opened. */
static int run_case(const struct bench_opts *o, const struct bad_case *c,
		    bool *first_json)
{
	struct bench_session s;
	struct outcome out[3];
	char err[256], err2[256], after[256] = "", alive[256] = "";
	enum verdict worst = V_PASS;
	int r, n = -1;

	memset(out, 0, sizeof(out));
	r = session_open(&s, o, err, sizeof(err));
	if (r) {
		session_close(&s, err2, sizeof(err2));
		fprintf(stderr, "vhost-user-bench: %s\n", err);
		return -r;
	}
	for (unsigned i = 0; i < c->nreq; i++) {
		c->run(&s, i, &out[i]);
		if (out[i].v > worst)
			worst = out[i].v;
		if (out[i].answered < 0)
			break;
	}
	if (!s.dead)
		n = normal_read(&s, after, sizeof(after));
	if (n == 1)
		snprintf(after, sizeof(after), "OK");
	else if (worst < V_DEVIATION)
		worst = V_DEVIATION;
	session_close(&s, err2, sizeof(err2));
	if (n != 1 && !lives_on(o, alive, sizeof(alive)))
		worst = V_FAIL;

	if (o->json) {
		printf("%s{\"case\":", *first_json ? "" : ",");
		*first_json = false;
		json_str(c->name);
		printf(",\"requests\":[");
		for (unsigned i = 0; i < c->nreq; i++) {
			printf("%s{\"request\":", i ? "," : "");
			json_str(out[i].request);
			printf(",\"answered\":%s",
			       out[i].answered > 0 ? "true" : "false");
			if (out[i].answered > 0)
				printf(",\"status\":%u,\"used_len\":%u",
				       out[i].status, out[i].len);
			printf(",\"verdict\":\"%s\",\"detail\":",
			       verdict_name[out[i].v]);
			json_str(out[i].detail);
			printf("}");
		}
		printf("],\"normal_read_after\":");
		json_str(n == 1 ? "OK" : after);
		if (alive[0]) {
			printf(",\"lives_on\":");
			json_str(alive);
		}
		printf(",\"verdict\":\"%s\"}", verdict_name[worst]);
		return (int)worst;
	}
	for (unsigned i = 0; i < c->nreq; i++)
		print_outcome(i ? "" : c->name, &out[i]);
	printf("%-12s   then a normal READ on the same ring: %s\n", "",
	       n == 1		    ? "OK"
	       : n < 0 && !after[0] ? "connection lost"
				    : after);
	if (alive[0])
		printf("%-12s   back-end: %s\n", "", alive);
	printf("%-12s   verdict: %s\n", "", verdict_name[worst]);
	return (int)worst;
}

int bad_run(const struct bench_opts *o)
{
	struct bench_opts b = *o;
	unsigned counts[3] = {0, 0, 0}, known = 0;
	bool first = true;
	int v;

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		known +=
		    !strcmp(o->bad, "all") || !strcmp(o->bad, cases[i].name);
	if (!known) {
		fprintf(stderr,
			"vhost-user-bench: unknown --bad case '%s' (past-end, "
			"short-chain, ro-buffer, bad-addr, all)\n",
			o->bad);
		return EXIT_BENCH_USAGE;
	}
	/* Two slots (the bad request, the normal one), room for two
	 * blocks in each. */
	if (b.iodepth < 2)
		b.iodepth = 2;
	if (b.bs < 16384)
		b.bs = 16384;
	b.queues = 1;
	b.indirect = false;
	if (o->json) {
		printf("{\"tool\":\"vhost-user-bench\",\"socket\":");
		json_str(o->socket);
		printf(",\"bad\":[");
	}
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (strcmp(o->bad, "all") && strcmp(o->bad, cases[i].name))
			continue;
		v = run_case(&b, &cases[i], &first);
		if (v < 0) {
			if (o->json)
				printf("]}\n");
			return -v;
		}
		counts[v]++;
		if (run_interrupted())
			break;
	}
	if (o->json)
		printf("],\"pass\":%u,\"deviation\":%u,\"fail\":%u}\n",
		       counts[V_PASS], counts[V_DEVIATION], counts[V_FAIL]);
	else
		printf("result: %u pass, %u deviation, %u fail\n",
		       counts[V_PASS], counts[V_DEVIATION], counts[V_FAIL]);
	if (counts[V_FAIL])
		return EXIT_BENCH_FAIL;
	if (counts[V_DEVIATION])
		return o->strict ? EXIT_BENCH_FAIL : EXIT_BENCH_DEVIATE;
	return EXIT_BENCH_OK;
}
