/* SPDX-License-Identifier: MIT */
/*
 * vhost-user-blk command line. Follows QEMU's vhost-user.rst "Backend
 * program conventions" (--socket-path, --fd, --print-capabilities) and its
 * "vhost-user-blk" section (--blk-file, --read-only); the rest is ours.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blk.h"
#include "cli.h"

#ifndef VH_VERSION
#define VH_VERSION "unknown"
#endif

static const char usage[] =
    "Usage: vhost-user-blk (--socket-path PATH | --fd N)\n"
    "                      (--blk-file PATH | --ram SIZE | --null [SIZE]) "
    "[OPTION]...\n"
    "Serve a raw image file, a block device or memory to a vhost-user\n"
    "front-end (QEMU's vhost-user-blk-pci, vhost-user-bench) as a virtio-blk\n"
    "device. Several devices in one process: separate their options with\n"
    "'--' (each its own socket, storage, queues and threads).\n"
    "\n"
    "Connection:\n"
    "  -s, --socket-path PATH   listen on this Unix socket (removed on exit)\n"
    "      --fd N               use the inherited socket N (listening or "
    "connected)\n"
    "Storage:\n"
    "  -b, --blk-file PATH      raw image file or block device (must exist)\n"
    "      --ram SIZE           no file: data lives in memory (256M, 1G, ...)\n"
    "      --null [SIZE]        no data at all: requests are checked and "
    "completed,\n"
    "                           reads leave the buffer alone (default 1G)\n"
    "  -r, --read-only          offer VIRTIO_BLK_F_RO; writes fail with "
    "IOERR\n"
    "      --logical-block-size 512|4096   (default 512)\n"
    "      --serial STR         GET_ID answer, up to 20 bytes "
    "(vhost-user-blk)\n"
    "      --no-discard         do not offer DISCARD and WRITE_ZEROES\n"
    "      --writethrough       writeback field 0 after reset (writes made "
    "stable)\n"
    "I/O:\n"
    "      --aio auto|io_uring|sync|mmap  data path (default auto:\n"
    "                           io_uring; for tmpfs / ramfs files copies in\n"
    "                           the queue threads: mmap when the file has no\n"
    "                           holes, else sync; sync when io_uring is\n"
    "                           unavailable)\n"
    "      --direct auto|on|off O_DIRECT (default auto: when the file allows "
    "it)\n"
    "  -n, --num-queues N       virtqueues offered (default 1; 1..256)\n"
    "  -t, --queues-per-thread N  queues served by one thread (default 1)\n"
    "      --queue-size N       largest ring accepted (default 1024)\n"
    "      --poll-us N          busy-poll N us before sleeping (default 0)\n"
    "      --batch N            requests taken from a ring per round (1..256;\n"
    "                           default 32 with io_uring, 1 with --null, else "
    "16)\n"
    "      --cpus LIST          pin thread i to the i-th CPU of LIST (0,2-3)\n"
    "Other:\n"
    "  -v, --verbose            log more (twice: debug)\n"
    "      --print-capabilities print the vhost-user.json capabilities and "
    "exit\n"
    "  -h, --help               this text\n"
    "  -V, --version            version\n"
    "Exit status 0 after SIGINT / SIGTERM; 1 on errors (one line on "
    "stderr).\n";

enum {
	OPT_FD = 256,
	OPT_RAM,
	OPT_NULL,
	OPT_LBS,
	OPT_SERIAL,
	OPT_NO_DISCARD,
	OPT_WRITETHROUGH,
	OPT_AIO,
	OPT_DIRECT,
	OPT_QSIZE,
	OPT_POLL,
	OPT_BATCH,
	OPT_CPUS,
	OPT_CAPS,
};

static const struct option longopts[] = {
    {"socket-path", required_argument, NULL, 's'},
    {"fd", required_argument, NULL, OPT_FD},
    {"blk-file", required_argument, NULL, 'b'},
    {"ram", required_argument, NULL, OPT_RAM},
    {"null", optional_argument, NULL, OPT_NULL},
    {"read-only", no_argument, NULL, 'r'},
    {"logical-block-size", required_argument, NULL, OPT_LBS},
    {"serial", required_argument, NULL, OPT_SERIAL},
    {"no-discard", no_argument, NULL, OPT_NO_DISCARD},
    {"writethrough", no_argument, NULL, OPT_WRITETHROUGH},
    {"aio", required_argument, NULL, OPT_AIO},
    {"direct", required_argument, NULL, OPT_DIRECT},
    {"num-queues", required_argument, NULL, 'n'},
    {"queues-per-thread", required_argument, NULL, 't'},
    {"queue-size", required_argument, NULL, OPT_QSIZE},
    {"poll-us", required_argument, NULL, OPT_POLL},
    {"batch", required_argument, NULL, OPT_BATCH},
    {"cpus", required_argument, NULL, OPT_CPUS},
    {"verbose", no_argument, NULL, 'v'},
    {"print-capabilities", no_argument, NULL, OPT_CAPS},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

static int parse_uint(const char *s, unsigned min, unsigned max, unsigned *out)
{
	unsigned long v;

	if (vh_cli_ulong(s, min, max, &v))
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

static int parse_cpus(const char *s, struct blk_opts *o)
{
	int n = vh_cli_cpus(s, o->cpus, sizeof(o->cpus) / sizeof(o->cpus[0]));

	if (n < 0)
		return -EINVAL;
	o->ncpus = (unsigned)n;
	return 0;
}

static void defaults(struct blk_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->fd = -1;
	o->kind = BLK_FILE;
	o->blk_size = 512;
	o->num_queues = 1;
	o->queues_per_thread = 1;
	o->queue_size = 1024;
	o->aio = BLK_AIO_AUTO;
	o->direct = BLK_DIRECT_AUTO;
	o->discard = true;
	snprintf(o->serial, sizeof(o->serial), "vhost-user-blk");
}

static enum blk_action bad(const char *fmt, const char *arg)
{
	fprintf(stderr, "vhost-user-blk: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (try --help)\n");
	return BLK_EXIT_ERR;
}

static enum blk_action check(struct blk_opts *o)
{
	if (!o->socket_path && o->fd < 0)
		return bad("%sneither --socket-path nor --fd given", "");
	if (o->socket_path && o->fd >= 0)
		return bad("%s--socket-path and --fd exclude each other", "");
	if (o->kind == BLK_FILE && !o->file)
		return bad("%sno storage: give --blk-file, --ram or --null",
			   "");
	if (o->kind != BLK_FILE && o->file)
		return bad("%s--blk-file excludes --ram and --null", "");
	if (o->kind != BLK_FILE && o->size < o->blk_size)
		return bad("%ssize smaller than one logical block", "");
	return BLK_RUN;
}

/* vhost-user.json: VHostUserBackendCapabilitiesBlock. */
static enum blk_action print_caps(void)
{
	printf("{\n  \"type\": \"block\",\n  \"features\": [\n"
	       "    \"read-only\",\n    \"blk-file\"\n  ]\n}\n");
	return BLK_EXIT_OK;
}

enum blk_action blk_opts_parse(struct blk_opts *o, int argc, char **argv)
{
	bool kind_set = false;
	int c;

	defaults(o);
	/* vhost-user.rst: with --print-capabilities "other options and
	 * arguments should be ignored". */
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--print-capabilities"))
			return print_caps();
	/* 0, not 1: glibc then forgets the previous scan (its permutation
	 * state), which matters when main.c parses one argv per device. */
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":s:b:rn:t:vhV", longopts, NULL)) !=
	       -1) {
		const char *a = optarg;
		unsigned u;

		switch (c) {
		case 's':
			o->socket_path = a;
			break;
		case OPT_FD:
			if (parse_uint(a, 0, INT_MAX, &u))
				return bad("bad --fd '%s'", a);
			o->fd = (int)u;
			break;
		case 'b':
			o->file = a;
			break;
		case OPT_RAM:
		case OPT_NULL:
			if (kind_set)
				return bad("%s--ram and --null exclude each "
					   "other",
					   "");
			kind_set = true;
			o->kind = c == OPT_RAM ? BLK_RAM : BLK_NULL;
			o->size = UINT64_C(1) << 30;
			if (a && vh_cli_size(a, &o->size))
				return bad("bad size '%s' (e.g. 256M, 1G)", a);
			break;
		case 'r':
			o->read_only = true;
			break;
		case OPT_LBS:
			if (parse_uint(a, 512, 4096, &u) ||
			    (u != 512 && u != 4096))
				return bad("bad --logical-block-size '%s' "
					   "(512 or 4096)",
					   a);
			o->blk_size = u;
			break;
		case OPT_SERIAL:
			if (strlen(a) > VIRTIO_BLK_ID_BYTES)
				return bad("--serial '%s' longer than 20 bytes",
					   a);
			snprintf(o->serial, sizeof(o->serial), "%s", a);
			break;
		case OPT_NO_DISCARD:
			o->discard = false;
			break;
		case OPT_WRITETHROUGH:
			o->writethrough = true;
			break;
		case OPT_AIO:
			if (!strcmp(a, "io_uring"))
				o->aio = BLK_AIO_URING;
			else if (!strcmp(a, "sync"))
				o->aio = BLK_AIO_SYNC;
			else if (!strcmp(a, "auto"))
				o->aio = BLK_AIO_AUTO;
			else if (!strcmp(a, "mmap"))
				o->aio = BLK_AIO_MMAP;
			else
				return bad("bad --aio '%s' (auto, io_uring, "
					   "sync, mmap)",
					   a);
			break;
		case OPT_DIRECT:
			if (!strcmp(a, "auto"))
				o->direct = BLK_DIRECT_AUTO;
			else if (!strcmp(a, "on"))
				o->direct = BLK_DIRECT_ON;
			else if (!strcmp(a, "off"))
				o->direct = BLK_DIRECT_OFF;
			else
				return bad("bad --direct '%s' (auto, on, off)",
					   a);
			break;
		case 'n':
			if (parse_uint(a, 1, 256, &o->num_queues))
				return bad("bad --num-queues '%s' (1..256)", a);
			break;
		case 't':
			if (parse_uint(a, 1, 256, &o->queues_per_thread))
				return bad("bad --queues-per-thread '%s'", a);
			break;
		case OPT_QSIZE:
			if (parse_uint(a, 1, 32768, &o->queue_size))
				return bad("bad --queue-size '%s' (1..32768)",
					   a);
			break;
		case OPT_POLL:
			if (parse_uint(a, 0, 10000000, &o->poll_us))
				return bad("bad --poll-us '%s'", a);
			break;
		case OPT_BATCH:
			if (parse_uint(a, 1, 256, &o->batch))
				return bad("bad --batch '%s' (1..256)", a);
			break;
		case OPT_CPUS:
			if (parse_cpus(a, o))
				return bad("bad --cpus '%s' (e.g. 0,2-3)", a);
			break;
		case 'v':
			o->verbose++;
			break;
		case OPT_CAPS:
			return print_caps();
		case 'h':
			fputs(usage, stdout);
			return BLK_EXIT_OK;
		case 'V':
			printf("vhost-user-blk (libvhost) %s\n", VH_VERSION);
			return BLK_EXIT_OK;
		case ':':
			return bad("option '%s' needs an argument",
				   argv[optind - 1]);
		default:
			return bad("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return bad("unexpected argument '%s'", argv[optind]);
	return check(o);
}
