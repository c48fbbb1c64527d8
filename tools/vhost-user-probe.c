/* SPDX-License-Identifier: MIT */
/*
 * vhost-user-probe: connect to any vhost-user back-end and print what it
 * offers — virtio features and protocol features decoded by name, queue
 * count, memory slots, config space (hex, and decoded for blk and net) —
 * then disconnect cleanly.
 *
 * Message order (vhost-user.rst; as QEMU and DPDK's virtio_user open a
 * connection): SET_OWNER, GET_FEATURES, GET_PROTOCOL_FEATURES,
 * SET_PROTOCOL_FEATURES (only what this probe understands), GET_QUEUE_NUM
 * (MQ), GET_MAX_MEM_SLOTS (CONFIGURE_MEM_SLOTS), GET_CONFIG (CONFIG).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "probe.h"
#include "vhost/frontend.h"
#include "vhost/log.h"
#include "vhost/proto.h"

/* The protocol features this probe knows how to use. */
#define PROBE_PF                                                     \
	(vh_protocol_feature_mask(VHOST_USER_PROTOCOL_F_MQ) |        \
	 vh_protocol_feature_mask(VHOST_USER_PROTOCOL_F_REPLY_ACK) | \
	 vh_protocol_feature_mask(VHOST_USER_PROTOCOL_F_CONFIG) |    \
	 vh_protocol_feature_mask(VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS))

static void usage(FILE *to)
{
	fprintf(to,
		"usage: vhost-user-probe [--json] [--type blk|net] "
		"[--timeout MS] [--config-size N] [--verbose] SOCKET\n"
		"Connect to the vhost-user back-end listening on SOCKET, print "
		"what it offers, disconnect.\n"
		"  --json           one JSON object instead of text\n"
		"  --type blk|net   decode device feature bits and config "
		"space\n"
		"  --timeout MS     time allowed for each reply (default "
		"5000)\n"
		"  --config-size N  config bytes to read (1..256; default 60 "
		"for blk, 12 for net, none otherwise)\n"
		"  --verbose        also print the library's log lines\n");
}

/* ------------------------------------------------------------------------ */
/* Errors: one line naming the step and the cause.                          */
/* ------------------------------------------------------------------------ */

static const char *connect_cause(const char *path, int err)
{
	struct stat st;

	if (err == -ENOENT)
		return "no such socket";
	if (err == -ECONNREFUSED) {
		if (stat(path, &st) == 0 && !S_ISSOCK(st.st_mode))
			return "not a socket";
		return "connection refused (nothing is listening)";
	}
	if (err == -EACCES)
		return "permission denied";
	if (err == -ENAMETOOLONG)
		return "path too long for a Unix socket";
	if (err == -EAGAIN || err == -ETIMEDOUT)
		return "connection timed out (listener backlog full)";
	return vh_strerror(err);
}

static void fail_request(struct probe *p, const char *req, int err)
{
	const char *cause;
	char buf[64];

	switch (err) {
	case -ECONNRESET:
	case -EPIPE:
		cause = "the back-end hung up";
		break;
	case -ETIMEDOUT:
		snprintf(buf, sizeof(buf), "no reply within %d ms",
			 p->timeout_ms);
		cause = buf;
		break;
	case -EPROTO:
		cause = "malformed reply (protocol error)";
		break;
	case -EIO:
		cause = "the back-end answered failure";
		break;
	default:
		cause = vh_strerror(err);
		break;
	}
	snprintf(p->error, sizeof(p->error), "%s: %s: %s", p->path, req, cause);
}

/* ------------------------------------------------------------------------ */
/* The probe                                                                */
/* ------------------------------------------------------------------------ */

static void read_config(struct probe *p, struct vh_frontend *f)
{
	int r;

	if (!p->config_size)
		return;
	if (!vh_protocol_has(p->pf_acked, VHOST_USER_PROTOCOL_F_CONFIG)) {
		p->cfg_note = "back-end does not offer CONFIG";
		return;
	}
	r = vh_frontend_get_config(f, 0, p->config_size, 0, p->cfg);
	if (r == -EIO) {
		/* The spec's error form: the connection is still fine. */
		p->cfg_note = "back-end refused the read (empty reply)";
		return;
	}
	if (r < 0) {
		fail_request(p, "GET_CONFIG", r);
		return;
	}
	p->cfg_len = p->config_size;
}

static void run_probe(struct probe *p)
{
	struct vh_frontend_opts opts = {
	    .conn = {.msg_timeout_ms = p->timeout_ms},
	    .reply_timeout_ms = p->timeout_ms,
	    .name = "vhost-user-probe",
	};
	struct vh_frontend *f;
	int r;

	/* One attempt: the probe reports what is there now. */
	r = vh_frontend_connect(&f, p->path, 0, &opts);
	if (r < 0) {
		snprintf(p->error, sizeof(p->error), "%s: %s", p->path,
			 connect_cause(p->path, r));
		return;
	}
	r = vh_frontend_set_owner(f);
	if (r < 0) {
		fail_request(p, "SET_OWNER", r);
		goto out;
	}
	r = vh_frontend_get_features(f, &p->features);
	if (r < 0) {
		fail_request(p, "GET_FEATURES", r);
		goto out;
	}
	p->have_features = true;
	if (!vh_virtio_has(p->features, VH_VHOST_USER_F_PROTOCOL_FEATURES))
		goto out; /* nothing more to ask a back-end without them */

	r = vh_frontend_get_protocol_features(f, &p->pf_offered);
	if (r < 0) {
		fail_request(p, "GET_PROTOCOL_FEATURES", r);
		goto out;
	}
	p->have_pf = true;
	r = vh_frontend_set_protocol_features(f, p->pf_offered & PROBE_PF);
	if (r < 0) {
		fail_request(p, "SET_PROTOCOL_FEATURES", r);
		goto out;
	}
	p->pf_acked = p->pf_offered & PROBE_PF;

	if (vh_protocol_has(p->pf_acked, VHOST_USER_PROTOCOL_F_MQ)) {
		r = vh_frontend_get_queue_num(f, &p->qnum);
		if (r < 0) {
			fail_request(p, "GET_QUEUE_NUM", r);
			goto out;
		}
		p->have_qnum = true;
	}
	if (vh_protocol_has(p->pf_acked,
			    VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS)) {
		r = vh_frontend_get_max_mem_slots(f, &p->slots);
		if (r < 0) {
			fail_request(p, "GET_MAX_MEM_SLOTS", r);
			goto out;
		}
		p->have_slots = true;
	}
	read_config(p, f);
out:
	/* Closing the socket is the clean end of a vhost-user session. */
	vh_frontend_free(f);
}

/* ------------------------------------------------------------------------ */

static void quiet_log(void *opaque, enum vh_log_level level, const char *msg)
{
	(void)opaque;
	(void)level;
	(void)msg;
}

static bool parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > max || s[0] == '-')
		return false;
	*out = v;
	return true;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"type", required_argument, NULL, 't'},
	    {"timeout", required_argument, NULL, 'T'},
	    {"config-size", required_argument, NULL, 'c'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct probe p;
	bool json = false, verbose = false;
	long config_size = -1;
	unsigned long v;
	int c;

	memset(&p, 0, sizeof(p));
	p.timeout_ms = 5000;
	while ((c = getopt_long(argc, argv, "jt:T:c:vh", longopts, NULL)) !=
	       -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 't':
			if (!strcmp(optarg, "blk"))
				p.type = PROBE_TYPE_BLK;
			else if (!strcmp(optarg, "net"))
				p.type = PROBE_TYPE_NET;
			else {
				fprintf(stderr,
					"vhost-user-probe: unknown type '%s' "
					"(blk or net)\n",
					optarg);
				return 2;
			}
			break;
		case 'T':
			if (!parse_uint(optarg, 3600000, &v) || v == 0) {
				fprintf(stderr,
					"vhost-user-probe: bad timeout "
					"'%s' (milliseconds)\n",
					optarg);
				return 2;
			}
			p.timeout_ms = (int)v;
			break;
		case 'c':
			if (!parse_uint(optarg, VHOST_USER_MAX_CONFIG_SIZE,
					&v) ||
			    v == 0) {
				fprintf(stderr,
					"vhost-user-probe: bad config size "
					"'%s' (1..256)\n",
					optarg);
				return 2;
			}
			config_size = (long)v;
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	p.path = argv[optind];
	p.config_size = config_size >= 0 ? (uint32_t)config_size
					 : probe_default_config_size(p.type);
	/* One line per failure is ours to print; the library's detail only
	 * on request. */
	if (!verbose)
		vh_log_set_handler(quiet_log, NULL);
	else
		vh_log_set_level(VH_LOG_DEBUG);

	run_probe(&p);
	if (json)
		probe_print_json(&p);
	else if (p.have_features)
		probe_print_text(&p);
	if (p.error[0]) {
		fprintf(stderr, "vhost-user-probe: %s\n", p.error);
		return 1;
	}
	return 0;
}
