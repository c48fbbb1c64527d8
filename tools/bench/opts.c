/* SPDX-License-Identifier: MIT */
/* vhost-user-bench: command line (bench.h opts_parse). */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "cli.h"

static void usage(FILE *to)
{
	fprintf(
	    to,
	    "usage: vhost-user-bench [options] --socket PATH\n"
	    "Drive a vhost-user-blk back-end with guest memory of our own and "
	    "measure it.\n"
	    "\nconnection:\n"
	    "  --socket PATH       the back-end's socket (also: last "
	    "argument)\n"
	    "  --server            listen on PATH; the back-end connects\n"
	    "  --wait S            retry connecting / wait for the back-end "
	    "S seconds\n"
	    "                      (default 0 as client, 60 as server)\n"
	    "  --timeout S         replies and request completions (default "
	    "10)\n"
	    "\nworkload (like fio):\n"
	    "  --rw MODE           read write randread randwrite rw randrw "
	    "(default randread)\n"
	    "  --mix PCT           reads in rw/randrw, percent (default 50)\n"
	    "  --bs SIZE           block size, 512..1M, multiple of 512 "
	    "(default 4k)\n"
	    "  --iodepth N         requests in flight per queue (default 1)\n"
	    "  --queues N          queues, one thread each (default 1)\n"
	    "  --cpus LIST         pin queue threads, e.g. 1 or 2-3 (queue i "
	    "on the i-th CPU)\n"
	    "  --runtime S         seconds to run (default 10)\n"
	    "  --ramp S            seconds before measuring (default 0)\n"
	    "  --count N           requests in total instead of a time\n"
	    "  --size SIZE         bytes of the device to use (default all)\n"
	    "  --offset SIZE       first byte of the device to use (default "
	    "0)\n"
	    "  --seed N            random seed (default 1)\n"
	    "\nrings:\n"
	    "  --packed            packed rings (default split)\n"
	    "  --indirect          one indirect table per request\n"
	    "  --poll              busy-poll the used ring (default: sleep "
	    "on the call eventfd)\n"
	    "  --no-event-idx      do not negotiate VIRTIO_RING_F_EVENT_IDX\n"
	    "  --qsize N           ring size (default: fits the depth, at "
	    "least 256)\n"
	    "  --regions 1|2       guest memory regions (default 2)\n"
	    "  --mem-table set|add SET_MEM_TABLE or ADD_MEM_REG (default: "
	    "ADD_MEM_REG\n"
	    "                      when CONFIGURE_MEM_SLOTS is offered)\n"
	    "\nchecks:\n"
	    "  --verify            write patterns over the range, read them "
	    "back, compare\n"
	    "  --verify-phase P    both (default), write or read\n"
	    "  --verify-pass N     pass number stored in the patterns "
	    "(default 1)\n"
	    "  --bad CASE          past-end short-chain ro-buffer bad-addr "
	    "all\n"
	    "  --strict            --bad: deviations fail too\n"
	    "\noutput:\n"
	    "  --json              one JSON object on stdout\n"
	    "  --quiet             no progress line\n"
	    "  --backend-pid PID   measure this back-end process's CPU "
	    "(default: the\n"
	    "                      socket peer)\n"
	    "  --verbose           the library's log lines too\n"
	    "\nexit: 0 ok, 1 failure (I/O error, bad status, mismatch, "
	    "back-end gone),\n"
	    "      2 bad options or a workload the device refuses, 3 --bad "
	    "deviations\n");
}

static bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !isdigit((unsigned char)s[0]))
		return false;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || v > max)
		return false;
	*out = v;
	return true;
}

static bool parse_secs(const char *s, double *out)
{
	char *end;
	double v;

	if (!s || !*s)
		return false;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !(v >= 0) || v > 1e7)
		return false;
	*out = v;
	return true;
}

static const char *const rw_names[] = {
    [RW_READ] = "read",
    [RW_WRITE] = "write",
    [RW_RANDREAD] = "randread",
    [RW_RANDWRITE] = "randwrite",
    [RW_RW] = "rw",
    [RW_RANDRW] = "randrw",
};

const char *rw_name(enum bench_rw rw)
{
	return rw_names[rw];
}

bool rw_is_random(enum bench_rw rw)
{
	return rw == RW_RANDREAD || rw == RW_RANDWRITE || rw == RW_RANDRW;
}

unsigned rw_read_pct(enum bench_rw rw, unsigned mix)
{
	switch (rw) {
	case RW_READ:
	case RW_RANDREAD:
		return 100;
	case RW_WRITE:
	case RW_RANDWRITE:
		return 0;
	default:
		return mix;
	}
}

static int bad(const char *what, const char *arg)
{
	fprintf(stderr, "vhost-user-bench: bad %s '%s' (see --help)\n", what,
		arg);
	return EXIT_BENCH_USAGE;
}

enum {
	O_SOCKET = 256,
	O_SERVER,
	O_WAIT,
	O_TIMEOUT,
	O_RW,
	O_MIX,
	O_BS,
	O_IODEPTH,
	O_QUEUES,
	O_CPUS,
	O_RUNTIME,
	O_RAMP,
	O_COUNT,
	O_SIZE,
	O_OFFSET,
	O_SEED,
	O_PACKED,
	O_INDIRECT,
	O_POLL,
	O_NO_EVENT_IDX,
	O_QSIZE,
	O_REGIONS,
	O_MEM_TABLE,
	O_VERIFY,
	O_VERIFY_PHASE,
	O_VERIFY_PASS,
	O_BAD,
	O_STRICT,
	O_BACKEND_PID,
	O_JSON,
	O_QUIET,
	O_VERBOSE,
	O_HELP,
	O_VERSION,
};

static const struct option longopts[] = {
    {"socket", required_argument, NULL, O_SOCKET},
    {"server", no_argument, NULL, O_SERVER},
    {"wait", required_argument, NULL, O_WAIT},
    {"timeout", required_argument, NULL, O_TIMEOUT},
    {"rw", required_argument, NULL, O_RW},
    {"mix", required_argument, NULL, O_MIX},
    {"bs", required_argument, NULL, O_BS},
    {"iodepth", required_argument, NULL, O_IODEPTH},
    {"queues", required_argument, NULL, O_QUEUES},
    {"cpus", required_argument, NULL, O_CPUS},
    {"runtime", required_argument, NULL, O_RUNTIME},
    {"ramp", required_argument, NULL, O_RAMP},
    {"count", required_argument, NULL, O_COUNT},
    {"size", required_argument, NULL, O_SIZE},
    {"offset", required_argument, NULL, O_OFFSET},
    {"seed", required_argument, NULL, O_SEED},
    {"packed", no_argument, NULL, O_PACKED},
    {"indirect", no_argument, NULL, O_INDIRECT},
    {"poll", no_argument, NULL, O_POLL},
    {"no-event-idx", no_argument, NULL, O_NO_EVENT_IDX},
    {"qsize", required_argument, NULL, O_QSIZE},
    {"regions", required_argument, NULL, O_REGIONS},
    {"mem-table", required_argument, NULL, O_MEM_TABLE},
    {"verify", no_argument, NULL, O_VERIFY},
    {"verify-phase", required_argument, NULL, O_VERIFY_PHASE},
    {"verify-pass", required_argument, NULL, O_VERIFY_PASS},
    {"bad", required_argument, NULL, O_BAD},
    {"strict", no_argument, NULL, O_STRICT},
    {"backend-pid", required_argument, NULL, O_BACKEND_PID},
    {"json", no_argument, NULL, O_JSON},
    {"quiet", no_argument, NULL, O_QUIET},
    {"verbose", no_argument, NULL, O_VERBOSE},
    {"help", no_argument, NULL, O_HELP},
    {"version", no_argument, NULL, O_VERSION},
    {NULL, 0, NULL, 0},
};

static int set_rw(struct bench_opts *o, const char *s)
{
	for (unsigned i = 0; i < sizeof(rw_names) / sizeof(rw_names[0]); i++)
		if (!strcmp(s, rw_names[i])) {
			o->rw = (enum bench_rw)i;
			return 0;
		}
	if (!strcmp(s, "readwrite"))
		o->rw = RW_RW;
	else
		return -1;
	return 0;
}

static void defaults(struct bench_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->wait_ms = -1; /* chosen by mode below */
	o->timeout_ms = 10000;
	o->rw = RW_RANDREAD;
	o->mix_read = 50;
	o->bs = 4096;
	o->iodepth = 1;
	o->queues = 1;
	o->runtime_s = 10;
	o->seed = 1;
	o->regions = 2;
	o->verify_pass = 1;
}

/* Checks that need no device. */
static int check(struct bench_opts *o)
{
	if (!o->socket) {
		fprintf(stderr, "vhost-user-bench: no socket (--socket PATH); "
				"see --help\n");
		return EXIT_BENCH_USAGE;
	}
	if (o->bs < 512 || o->bs > (1u << 20) || o->bs % 512) {
		fprintf(stderr,
			"vhost-user-bench: --bs %u: must be 512..1M and a "
			"multiple of 512\n",
			o->bs);
		return EXIT_BENCH_USAGE;
	}
	if (o->verify && o->bad) {
		fprintf(stderr,
			"vhost-user-bench: --verify and --bad exclude each "
			"other\n");
		return EXIT_BENCH_USAGE;
	}
	if (o->ramp_s > 0 && o->count) {
		fprintf(stderr, "vhost-user-bench: --ramp needs a time-based "
				"run (no --count)\n");
		return EXIT_BENCH_USAGE;
	}
	if (!o->count && !o->verify && !o->bad && !(o->runtime_s > 0)) {
		fprintf(stderr, "vhost-user-bench: --runtime must be > 0\n");
		return EXIT_BENCH_USAGE;
	}
	if (o->wait_ms < 0)
		o->wait_ms = o->server ? 60000 : 0;
	return 0;
}

int opts_parse(struct bench_opts *o, int argc, char **argv)
{
	uint64_t v;
	double d;
	int c, n;

	defaults(o);
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case O_SOCKET:
			o->socket = optarg;
			break;
		case O_SERVER:
			o->server = true;
			break;
		case O_WAIT:
			if (!parse_secs(optarg, &d) || d > 86400)
				return bad("--wait", optarg);
			o->wait_ms = (int)(d * 1000);
			break;
		case O_TIMEOUT:
			if (!parse_secs(optarg, &d) || d < 0.001 || d > 86400)
				return bad("--timeout", optarg);
			o->timeout_ms = (int)(d * 1000);
			break;
		case O_RW:
			if (set_rw(o, optarg))
				return bad("--rw", optarg);
			break;
		case O_MIX:
			if (!parse_u64(optarg, 100, &v))
				return bad("--mix", optarg);
			o->mix_read = (unsigned)v;
			break;
		case O_BS:
			if (vh_cli_size(optarg, &v) || v > (1u << 20))
				return bad("--bs", optarg);
			o->bs = (uint32_t)v;
			break;
		case O_IODEPTH:
			if (!parse_u64(optarg, BENCH_MAX_DEPTH, &v) || !v)
				return bad("--iodepth (1..4096)", optarg);
			o->iodepth = (unsigned)v;
			break;
		case O_QUEUES:
			if (!parse_u64(optarg, BENCH_MAX_QUEUES, &v) || !v)
				return bad("--queues (1..64)", optarg);
			o->queues = (unsigned)v;
			break;
		case O_CPUS:
			n = vh_cli_cpus(optarg, o->cpus, BENCH_MAX_CPUS);
			if (n < 0)
				return bad("--cpus", optarg);
			o->ncpus = (unsigned)n;
			break;
		case O_RUNTIME:
			if (!parse_secs(optarg, &o->runtime_s) ||
			    !(o->runtime_s > 0))
				return bad("--runtime", optarg);
			break;
		case O_RAMP:
			if (!parse_secs(optarg, &o->ramp_s))
				return bad("--ramp", optarg);
			break;
		case O_COUNT:
			if (!parse_u64(optarg, UINT64_C(1) << 48, &o->count) ||
			    !o->count)
				return bad("--count", optarg);
			break;
		case O_SIZE:
			if (vh_cli_size(optarg, &o->size) || !o->size)
				return bad("--size", optarg);
			break;
		case O_OFFSET:
			if (vh_cli_size(optarg, &o->offset))
				return bad("--offset", optarg);
			break;
		case O_SEED:
			if (!parse_u64(optarg, UINT64_MAX, &o->seed))
				return bad("--seed", optarg);
			break;
		case O_PACKED:
			o->packed = true;
			break;
		case O_INDIRECT:
			o->indirect = true;
			break;
		case O_POLL:
			o->poll = true;
			break;
		case O_NO_EVENT_IDX:
			o->no_event_idx = true;
			break;
		case O_QSIZE:
			if (!parse_u64(optarg, 32768, &v) || !v)
				return bad("--qsize (1..32768)", optarg);
			o->qsize = (unsigned)v;
			break;
		case O_REGIONS:
			if (!parse_u64(optarg, 2, &v) || !v)
				return bad("--regions (1 or 2)", optarg);
			o->regions = (unsigned)v;
			break;
		case O_MEM_TABLE:
			if (!strcmp(optarg, "set"))
				o->mem = MEM_SET;
			else if (!strcmp(optarg, "add"))
				o->mem = MEM_ADD;
			else
				return bad("--mem-table (set or add)", optarg);
			break;
		case O_VERIFY:
			o->verify = true;
			break;
		case O_VERIFY_PHASE:
			o->verify = true;
			if (!strcmp(optarg, "both"))
				o->verify_phase = VERIFY_BOTH;
			else if (!strcmp(optarg, "write"))
				o->verify_phase = VERIFY_WRITE;
			else if (!strcmp(optarg, "read"))
				o->verify_phase = VERIFY_READ;
			else
				return bad("--verify-phase", optarg);
			break;
		case O_VERIFY_PASS:
			if (!parse_u64(optarg, UINT64_MAX, &o->verify_pass))
				return bad("--verify-pass", optarg);
			break;
		case O_BAD:
			o->bad = optarg;
			break;
		case O_STRICT:
			o->strict = true;
			break;
		case O_BACKEND_PID:
			if (!parse_u64(optarg, INT32_MAX, &v) || !v)
				return bad("--backend-pid", optarg);
			o->backend_pid = (pid_t)v;
			break;
		case O_JSON:
			o->json = true;
			break;
		case O_QUIET:
			o->quiet = true;
			break;
		case O_VERBOSE:
			o->verbose = true;
			break;
		case O_HELP:
			usage(stdout);
			return 1;
		case O_VERSION:
			printf("vhost-user-bench (libvhost) %s\n", VH_VERSION);
			return 1;
		default:
			fprintf(
			    stderr,
			    "vhost-user-bench: unknown or incomplete option "
			    "'%s' (see --help)\n",
			    argv[optind - 1]);
			return EXIT_BENCH_USAGE;
		}
	}
	if (optind == argc - 1 && !o->socket)
		o->socket = argv[optind];
	else if (optind != argc) {
		fprintf(stderr, "vhost-user-bench: unexpected argument '%s'\n",
			argv[optind]);
		return EXIT_BENCH_USAGE;
	}
	return check(o);
}
