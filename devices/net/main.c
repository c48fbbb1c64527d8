/* SPDX-License-Identifier: MIT */
/*
 * vhost-user-net: a virtio-net device served over vhost-user, with a tap,
 * Unix datagram or AF_PACKET back-end, or --loop / --sink / --gen for tests
 * and benchmarks. Program conventions: vhost-user.rst "Back-end program
 * conventions" (--socket-path, --fd, --print-capabilities), plus --client.
 *
 * Exit status: 0 after a clean shutdown (SIGINT/SIGTERM, or the only
 * front-end of an inherited connected fd left), 1 on a runtime error, 2 on a
 * usage error. Errors are one line on stderr. The counters are printed on
 * stdout at exit and on SIGUSR1.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "net.h"
#include "vhost/log.h"

static const char usage[] =
    "Usage: vhost-user-net (--socket-path PATH [--client] | --fd N) "
    "BACK-END [OPTIONS]\n"
    "\n"
    "A virtio-net device served over vhost-user.\n"
    "\n"
    "Connection:\n"
    "  -s, --socket-path PATH  listen on PATH (one front-end at a time)\n"
    "  -c, --client            connect to PATH instead; reconnect after a "
    "hang-up\n"
    "  -f, --fd N              use the inherited socket N (listening or "
    "connected)\n"
    "\n"
    "Back-end (exactly one):\n"
    "      --tap IFNAME        a tap device (created if needed; "
    "IFF_VNET_HDR,\n"
    "                          offloads passed through; one queue per "
    "pair)\n"
    "      --dgram-bind PATH   a Unix datagram socket bound to PATH ...\n"
    "      --dgram-peer PATH   ... sending to PATH (raw frames; either or "
    "both)\n"
    "      --dgram-fd N        ... or the inherited datagram socket N\n"
    "      --packet IFNAME     AF_PACKET on IFNAME (PACKET_VNET_HDR)\n"
    "      --loop              frames sent on TX come back on RX\n"
    "      --sink              frames sent on TX are read, counted and "
    "dropped\n"
    "      --gen SIZE          RX rings are filled with SIZE-byte UDP "
    "frames\n"
    "\n"
    "Device:\n"
    "  -q, --queues N          queue pairs (VIRTIO_NET_F_MQ when > 1; "
    "default 1)\n"
    "      --mac MAC           config-space MAC (default "
    "52:54:00:12:34:56)\n"
    "      --mtu N             config-space MTU (default 1500)\n"
    "      --no-offload        offer no checksum or GSO offloads\n"
    "      --no-in-order       do not offer VIRTIO_F_IN_ORDER\n"
    "\n"
    "Data path:\n"
    "      --poll[=US]         busy-poll the rings, sleeping after US "
    "idle\n"
    "                          microseconds (default 1000000)\n"
    "      --cpu LIST          pin the workers (pair k: the k-th CPU of "
    "LIST,\n"
    "                          e.g. 1 or 2,3 or 2-5)\n"
    "      --budget N          most buffers a ring handler takes per call "
    "(256)\n"
    "\n"
    "  -v, --verbose           log more (repeat for debug)\n"
    "      --print-capabilities  print the capabilities JSON and exit\n"
    "  -h, --help              this text\n"
    "  -V, --version           the version\n";

enum {
	OPT_TAP = 256,
	OPT_DGRAM_BIND,
	OPT_DGRAM_PEER,
	OPT_DGRAM_FD,
	OPT_PACKET,
	OPT_LOOP,
	OPT_SINK,
	OPT_GEN,
	OPT_MAC,
	OPT_MTU,
	OPT_NO_OFFLOAD,
	OPT_NO_IN_ORDER,
	OPT_POLL,
	OPT_CPU,
	OPT_BUDGET,
	OPT_CAPS,
};

static const struct option longopts[] = {
    {"socket-path", required_argument, NULL, 's'},
    {"client", no_argument, NULL, 'c'},
    {"fd", required_argument, NULL, 'f'},
    {"tap", required_argument, NULL, OPT_TAP},
    {"dgram-bind", required_argument, NULL, OPT_DGRAM_BIND},
    {"dgram-peer", required_argument, NULL, OPT_DGRAM_PEER},
    {"dgram-fd", required_argument, NULL, OPT_DGRAM_FD},
    {"packet", required_argument, NULL, OPT_PACKET},
    {"loop", no_argument, NULL, OPT_LOOP},
    {"sink", no_argument, NULL, OPT_SINK},
    {"gen", required_argument, NULL, OPT_GEN},
    {"queues", required_argument, NULL, 'q'},
    {"mac", required_argument, NULL, OPT_MAC},
    {"mtu", required_argument, NULL, OPT_MTU},
    {"no-offload", no_argument, NULL, OPT_NO_OFFLOAD},
    {"no-in-order", no_argument, NULL, OPT_NO_IN_ORDER},
    {"poll", optional_argument, NULL, OPT_POLL},
    {"cpu", required_argument, NULL, OPT_CPU},
    {"budget", required_argument, NULL, OPT_BUDGET},
    {"verbose", no_argument, NULL, 'v'},
    {"print-capabilities", no_argument, NULL, OPT_CAPS},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

static struct vh_server *g_srv;
static volatile sig_atomic_t g_usr1;

/* Until serving starts, a library error is kept for the one line a
 * failed start-up prints; afterwards every message goes to stderr. */
static bool g_capture = true;
static char g_setup_err[256];

static void log_sink(void *opaque, enum vh_log_level level, const char *msg)
{
	(void)opaque;
	if (g_capture && level == VH_LOG_ERR) {
		snprintf(g_setup_err, sizeof(g_setup_err), "%s", msg);
		return;
	}
	fprintf(stderr, "vhost-user-net: %s\n", msg);
}

/* The start-up failure line: the library's reason when it gave one. */
static int die_setup(const char *what, int err)
{
	if (g_setup_err[0])
		fprintf(stderr, "vhost-user-net: %s\n", g_setup_err);
	else
		fprintf(stderr, "vhost-user-net: %s: %s\n", what,
			vh_strerror(err));
	return 1;
}

static void on_stop(int sig)
{
	(void)sig;
	if (g_srv)
		vh_server_stop(g_srv);
}

static void on_usr1(int sig)
{
	(void)sig;
	g_usr1 = 1;
}

static int die_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "vhost-user-net: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (--help lists the options)\n");
	return 2;
}

static bool parse_uint(const char *s, unsigned long min, unsigned long max,
		       unsigned long *out)
{
	return vh_cli_ulong(s, min, max, out) == 0;
}

static bool parse_mac(const char *s, uint8_t mac[6])
{
	unsigned b[6];
	char tail;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3],
		   &b[4], &b[5], &tail) != 6)
		return false;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return true;
}

static void print_stats(struct net_dev *d, const char *when)
{
	struct net_totals t;
	char line[512];

	net_dev_totals(d, &t);
	net_totals_format(&t, line, sizeof(line));
	printf("vhost-user-net: %s: %s\n", when, line);
	fflush(stdout);
}

static bool set_mode(struct net_opts *o, enum net_mode m)
{
	if (o->mode != NET_MODE_NONE && o->mode != m)
		return false;
	o->mode = m;
	return true;
}

int main(int argc, char **argv)
{
	struct net_opts o;
	struct vh_server_config sc;
	struct vh_device vd;
	struct net_dev *d;
	struct sigaction sa;
	const char *path = NULL;
	static int cpus[256];
	int ncpus = 0, fd = -1, verbose = 0, c, err, rc;
	bool client = false;
	unsigned long v;

	net_opts_init(&o);
	memset(&sc, 0, sizeof(sc));
	while ((c = getopt_long(argc, argv, "s:cf:q:vhV", longopts, NULL)) !=
	       -1) {
		switch (c) {
		case 's':
			path = optarg;
			break;
		case 'c':
			client = true;
			break;
		case 'f':
			if (!parse_uint(optarg, 0, 65535, &v))
				return die_usage("--fd: bad descriptor '%s'",
						 optarg);
			fd = (int)v;
			break;
		case OPT_TAP:
		case OPT_PACKET:
			if (!set_mode(&o, c == OPT_TAP ? NET_MODE_TAP
						       : NET_MODE_PACKET))
				return die_usage("%s: one back-end only",
						 argv[optind - 1]);
			o.ifname = optarg;
			break;
		case OPT_DGRAM_BIND:
		case OPT_DGRAM_PEER:
		case OPT_DGRAM_FD:
			if (!set_mode(&o, NET_MODE_DGRAM))
				return die_usage("%s: one back-end only",
						 argv[optind - 1]);
			if (c == OPT_DGRAM_BIND)
				o.dgram_bind = optarg;
			else if (c == OPT_DGRAM_PEER)
				o.dgram_peer = optarg;
			else if (parse_uint(optarg, 0, 65535, &v))
				o.dgram_fd = (int)v;
			else
				return die_usage("--dgram-fd: bad descriptor "
						 "'%s'",
						 optarg);
			break;
		case OPT_LOOP:
		case OPT_SINK:
			if (!set_mode(&o, c == OPT_LOOP ? NET_MODE_LOOP
							: NET_MODE_SINK))
				return die_usage("%s: one back-end only",
						 argv[optind - 1]);
			break;
		case OPT_GEN:
			if (!set_mode(&o, NET_MODE_GEN))
				return die_usage("%s: one back-end only",
						 "--gen");
			if (!parse_uint(optarg, NET_GEN_MIN, NET_FRAME_MAX, &v))
				return die_usage("--gen: frame size '%s' not "
						 "in 42..65600",
						 optarg);
			o.gen_size = (unsigned)v;
			break;
		case 'q':
			if (!parse_uint(optarg, 1, NET_MAX_PAIRS, &v))
				return die_usage("--queues: '%s' not in 1..256",
						 optarg);
			o.pairs = (unsigned)v;
			break;
		case OPT_MAC:
			if (!parse_mac(optarg, o.mac))
				return die_usage("--mac: '%s' is not "
						 "xx:xx:xx:xx:xx:xx",
						 optarg);
			break;
		case OPT_MTU:
			if (!parse_uint(optarg, NET_MTU_MIN, NET_MTU_MAX, &v))
				return die_usage("--mtu: '%s' not in 68..65535",
						 optarg);
			o.mtu = (uint16_t)v;
			break;
		case OPT_NO_OFFLOAD:
			o.no_offload = true;
			break;
		case OPT_NO_IN_ORDER:
			o.no_in_order = true;
			break;
		case OPT_POLL:
			sc.poll_us = 1000000;
			if (optarg) {
				if (!parse_uint(optarg, 1, 3600000000ul, &v))
					return die_usage("--poll: '%s' is not "
							 "a number of "
							 "microseconds",
							 optarg);
				sc.poll_us = (unsigned)v;
			}
			break;
		case OPT_CPU:
			ncpus = vh_cli_cpus(optarg, cpus, 256);
			if (ncpus < 0)
				return die_usage("--cpu: bad CPU list '%s'",
						 optarg);
			break;
		case OPT_BUDGET:
			if (!parse_uint(optarg, 1, 1024, &v))
				return die_usage(
				    "--budget: '%s' not in 1..1024", optarg);
			o.budget = (unsigned)v;
			break;
		case 'v':
			verbose++;
			break;
		case OPT_CAPS:
			/* docs/interop/vhost-user.json: VHostUserBackend-
			 * Capabilities; "net" defines no features. */
			printf("{\n  \"type\": \"net\"\n}\n");
			return 0;
		case 'h':
			fputs(usage, stdout);
			return 0;
		case 'V':
			printf("vhost-user-net %s\n", NET_VERSION);
			return 0;
		default:
			return 2;
		}
	}
	if (optind < argc)
		return die_usage("unexpected argument '%s'", argv[optind]);
	if (!!path == (fd >= 0))
		return die_usage("%s", "give either --socket-path or --fd");
	if (client && !path)
		return die_usage("%s", "--client needs --socket-path");
	if (o.mode == NET_MODE_NONE)
		return die_usage("%s", "no back-end: --tap, --dgram-*, "
				       "--packet, --loop, --sink or --gen");
	if (o.mode == NET_MODE_DGRAM && o.dgram_fd < 0 && !o.dgram_bind &&
	    !o.dgram_peer)
		return die_usage("%s", "--dgram-* needs a path or an fd");
	if (verbose)
		vh_log_set_level(verbose > 1 ? VH_LOG_DEBUG : VH_LOG_INFO);

	vh_log_set_handler(log_sink, NULL);
	err = net_dev_new(&d, &o);
	if (err) {
		if (fd >= 0)
			close(fd);
		return die_setup("cannot set up the back-end", err);
	}
	net_dev_describe(d, &vd);
	net_dev_server_config(d, &sc);
	if (ncpus > 0) {
		sc.worker_cpus = cpus;
		sc.n_worker_cpus = (unsigned)ncpus;
	}
	if (fd >= 0) {
		sc.mode = VH_SERVER_FD;
		sc.fd = fd;
	} else {
		sc.mode = client ? VH_SERVER_CONNECT : VH_SERVER_LISTEN;
		sc.path = path;
	}
	err = vh_server_new(&g_srv, &vd, &sc);
	if (err) {
		net_dev_free(d);
		return die_setup(path ? "cannot listen or connect"
				      : "cannot use the inherited fd",
				 err);
	}
	g_capture = false;
	d->srv = g_srv;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	rc = 0;
	for (;;) {
		err = vh_server_dispatch(g_srv, 500);
		if (g_usr1) {
			g_usr1 = 0;
			print_stats(d, "now");
		}
		if (err == 1)
			break;
		if (err < 0 && err != -EINTR) {
			fprintf(stderr, "vhost-user-net: %s\n",
				vh_strerror(err));
			rc = 1;
			break;
		}
	}
	{
		struct vh_server *srv = g_srv;

		g_srv = NULL; /* before the free: the signal handler reads it */
		vh_server_free(srv);
	}
	print_stats(d, "exit");
	net_dev_free(d);
	return rc;
}
