/* SPDX-License-Identifier: MIT */
/*
 * The negative suite: one test per dispatcher rule. Each sends one bad
 * message (or a broken stream) and asserts
 *  - the negative errno vh_backend_handle_readable returns,
 *  - that no callback ran and nothing was answered,
 *  - the error line names the request and the reason,
 *  - that the front-end sees the connection close once the caller frees
 *    the back-end,
 *  - that the count of open fds (/proc/self/fd) is what it was before,
 *  - that another back-end instance in the process keeps working.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

/* How the bad input reaches the socket. */
enum neg_mode {
	NEG_MESSAGE,	     /* one whole message via vh_conn_send */
	NEG_RAW,	     /* the build() bytes, then nothing more */
	NEG_RAW_THEN_HANGUP, /* the build() bytes, then close */
};

struct neg_case {
	uint64_t features; /* SET_FEATURES first (0: skip) */
	uint64_t pf;	   /* SET_PROTOCOL_FEATURES first (0: skip) */
	struct vh_backend_config (*cfg)(void); /* NULL: default */
	enum neg_mode mode;
	/* Fill the message (hdr.flags gets VHOST_USER_VERSION unless
	 * raw_flags) and the number of eventfds to attach. */
	void (*build)(struct vhost_user_msg *m);
	unsigned nfds;
	bool raw_flags; /* hdr.flags as built, no version added */
	size_t raw_len; /* NEG_RAW*: bytes of the message to write */
	int expect;
	const char *log1, *log2; /* substrings of the error log */
};

static struct vhost_user_msg *scratch;

static int group_setup(void **state)
{
	(void)state;
	t_log_capture();
	scratch = calloc(1, sizeof(*scratch));
	return scratch ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	free(scratch);
	return 0;
}

static void hdr(struct vhost_user_msg *m, uint32_t req, uint32_t size)
{
	m->hdr.request = req;
	m->hdr.size = size;
}

static void run_case(void **state)
{
	const struct neg_case *c = *state;
	struct vh_backend_config cfg = c->cfg ? c->cfg() : t_default_cfg();
	struct vhost_user_msg *m = calloc(1, sizeof(*m));
	struct tfe *other, *t;
	int fds[VHOST_USER_MAX_FDS + 2];
	int before, calls, sock;
	uint8_t *wire;
	size_t len;
	unsigned i;

	assert_non_null(m);
	before = t_count_fds();
	other = tfe_new(NULL, NULL);
	t = tfe_new(&cfg, NULL);
	tfe_negotiate(t, c->features, c->pf);
	calls = t->rec.calls;
	t_log_clear();

	c->build(m);
	if (!c->raw_flags)
		m->hdr.flags |= VHOST_USER_VERSION;
	for (i = 0; i < c->nfds; i++)
		fds[i] = t_eventfd();
	/* The wire form: 12-byte header, then the payload (in struct
	 * vhost_user_msg the payload is 8-byte aligned, at offset 16). */
	wire = calloc(1, VHOST_USER_HDR_SIZE + sizeof(m->payload));
	assert_non_null(wire);
	memcpy(wire, &m->hdr, VHOST_USER_HDR_SIZE);
	len = c->mode == NEG_MESSAGE ? VHOST_USER_HDR_SIZE + m->hdr.size
				     : c->raw_len;
	assert_true(len <= VHOST_USER_HDR_SIZE + sizeof(m->payload));
	if (len > VHOST_USER_HDR_SIZE)
		memcpy(wire + VHOST_USER_HDR_SIZE, m->payload.raw,
		       len - VHOST_USER_HDR_SIZE);
	sock = vh_conn_fd(t->c);
	t_raw_send(sock, wire, len, fds, c->nfds);
	free(wire);
	for (i = 0; i < c->nfds; i++)
		close(fds[i]);
	if (c->mode == NEG_RAW_THEN_HANGUP)
		shutdown(sock, SHUT_WR);

	assert_int_equal(tfe_step(t), c->expect);
	assert_int_equal(t->rec.calls, calls);
	if (c->log1 && !t_log_has(c->log1))
		fail_msg("log lacks \"%s\":\n%s", c->log1, t_log_text());
	if (c->log2 && !t_log_has(c->log2))
		fail_msg("log lacks \"%s\":\n%s", c->log2, t_log_text());

	/* The caller frees the back-end; the front-end sees the close and
	 * never got an answer. */
	tfe_drop_backend(t);
	assert_int_equal(tfe_recv(t, scratch, 1000), -ECONNRESET);
	tfe_free(t);

	/* Another instance is unaffected. */
	assert_int_equal(tfe_get_features(other) & T_VF(VIRTIO_F_VERSION_1),
			 T_VF(VIRTIO_F_VERSION_1));
	tfe_free(other);
	free(m);
	assert_int_equal(t_count_fds(), before);
}

/* ------------------------------------------------------------------------ */
/* Builders                                                                 */
/* ------------------------------------------------------------------------ */

static void b_version_2(struct vhost_user_msg *m)
{
	hdr(m, VHOST_USER_GET_FEATURES, 0);
	m->hdr.flags = 0x2;
}
static void b_version_0(struct vhost_user_msg *m)
{
	hdr(m, VHOST_USER_GET_FEATURES, 0);
	m->hdr.flags = 0;
}
static void b_reserved_flag(struct vhost_user_msg *m)
{
	hdr(m, VHOST_USER_GET_FEATURES, 0);
	m->hdr.flags = 1u << 4;
}
static void b_reply_flag(struct vhost_user_msg *m)
{
	hdr(m, VHOST_USER_GET_FEATURES, 0);
	m->hdr.flags = VHOST_USER_REPLY_MASK;
}
static void b_request_0(struct vhost_user_msg *m)
{
	hdr(m, 0, 0);
}
static void b_request_45(struct vhost_user_msg *m)
{
	hdr(m, 45, 0);
}
static void b_get_features_with_payload(struct vhost_user_msg *m)
{
	hdr(m, VHOST_USER_GET_FEATURES, 8);
}
static void b_set_features_short(struct vhost_user_msg *m)
{
	hdr(m, VHOST_USER_SET_FEATURES, 4);
}
static void b_vring_num_long(struct vhost_user_msg *m)
{
	hdr(m, VHOST_USER_SET_VRING_NUM, 12);
}
static void b_vring_num_short(struct vhost_user_msg *m)
{
	hdr(m, VHOST_USER_SET_VRING_NUM, 4);
}
static void b_vring_addr_short(struct vhost_user_msg *m)
{
	hdr(m, VHOST_USER_SET_VRING_ADDR, 32);
}
static void region(struct vhost_user_mem_region *r, uint64_t gpa, uint64_t size,
		   uint64_t uva)
{
	r->guest_phys_addr = gpa;
	r->memory_size = size;
	r->userspace_addr = uva;
	r->mmap_offset = 0;
}
static void b_mem_table_odd_size(struct vhost_user_msg *m)
{
	hdr(m, VHOST_USER_SET_MEM_TABLE, VHOST_USER_MEM_TABLE_SIZE(1) + 1);
	m->payload.mem_table.nregions = 1;
	region(&m->payload.mem_table.regions[0], 0, 0x1000, 0x1000);
}
static void b_config_size_mismatch(struct vhost_user_msg *m)
{
	hdr(m, VHOST_USER_GET_CONFIG, 12 + 8);
	m->payload.config.hdr.size = 60;
}
static void b_set_config_too_big(struct vhost_user_msg *m)
{
	hdr(m, VHOST_USER_SET_CONFIG, 12 + 257);
	m->payload.config.hdr.size = 257;
}
static void b_vring_num_ring0(struct vhost_user_msg *m)
{
	hdr(m, VHOST_USER_SET_VRING_NUM, 8);
	m->payload.state.num = 64;
}
static void b_set_log_fd(struct vhost_user_msg *m)
{
	hdr(m, VHOST_USER_SET_LOG_FD, 0);
}
static void b_mem_table_2(struct vhost_user_msg *m)
{
	hdr(m, VHOST_USER_SET_MEM_TABLE, VHOST_USER_MEM_TABLE_SIZE(2));
	m->payload.mem_table.nregions = 2;
	region(&m->payload.mem_table.regions[0], 0, 0x1000, 0x10000);
	region(&m->payload.mem_table.regions[1], 0x100000, 0x1000, 0x20000);
}
static void b_mem_table_1(struct vhost_user_msg *m)
{
	hdr(m, VHOST_USER_SET_MEM_TABLE, VHOST_USER_MEM_TABLE_SIZE(1));
	m->payload.mem_table.nregions = 1;
	region(&m->payload.mem_table.regions[0], 0, 0x1000, 0x10000);
}
static void b_kick_nofd(struct vhost_user_msg *m)
{
	hdr(m, VHOST_USER_SET_VRING_KICK, 8);
	m->payload.u64 = VHOST_USER_VRING_NOFD_MASK;
}
static void b_call_fd(struct vhost_user_msg *m)
{
	hdr(m, VHOST_USER_SET_VRING_CALL, 8);
	m->payload.u64 = 0;
}
static void b_kick_reserved_bits(struct vhost_user_msg *m)
{
	hdr(m, VHOST_USER_SET_VRING_KICK, 8);
	m->payload.u64 = (UINT64_C(1) << 9) | VHOST_USER_VRING_NOFD_MASK;
}
static void b_vring_num_ring5(struct vhost_user_msg *m)
{
	hdr(m, VHOST_USER_SET_VRING_NUM, 8);
	m->payload.state.index = 5;
	m->payload.state.num = 64;
}
static void b_vring_num_ring8000(struct vhost_user_msg *m)
{
	hdr(m, VHOST_USER_SET_VRING_NUM, 8);
	m->payload.state.index = 0x8000;
	m->payload.state.num = 64;
}
static void b_kick_ring3(struct vhost_user_msg *m)
{
	hdr(m, VHOST_USER_SET_VRING_KICK, 8);
	m->payload.u64 = 3 | VHOST_USER_VRING_NOFD_MASK;
}
static void b_vring_addr_ring2(struct vhost_user_msg *m)
{
	hdr(m, VHOST_USER_SET_VRING_ADDR, 40);
	m->payload.addr.index = 2;
}
static void b_get_config(struct vhost_user_msg *m)
{
	hdr(m, VHOST_USER_GET_CONFIG, 12 + 8);
	m->payload.config.hdr.size = 8;
}
static void b_add_mem_reg(struct vhost_user_msg *m)
{
	hdr(m, VHOST_USER_ADD_MEM_REG, 40);
	region(&m->payload.mem_reg.region, 0, 0x1000, 0x1000);
}
static void b_vring_kick_inband(struct vhost_user_msg *m)
{
	hdr(m, VHOST_USER_VRING_KICK, 8);
}
static void b_get_queue_num(struct vhost_user_msg *m)
{
	hdr(m, VHOST_USER_GET_QUEUE_NUM, 0);
}
static void b_set_backend_req_fd(struct vhost_user_msg *m)
{
	hdr(m, VHOST_USER_SET_BACKEND_REQ_FD, 0);
}
static void b_iotlb_update(struct vhost_user_msg *m)
{
	hdr(m, VHOST_USER_IOTLB_MSG, 32);
	m->payload.iotlb.iova = 0x1000;
	m->payload.iotlb.size = 0x1000;
	m->payload.iotlb.perm = VHOST_USER_IOTLB_RW;
	m->payload.iotlb.type = VHOST_USER_IOTLB_UPDATE;
}
static void b_get_protocol_features(struct vhost_user_msg *m)
{
	hdr(m, VHOST_USER_GET_PROTOCOL_FEATURES, 0);
}
static void b_vring_enable_1(struct vhost_user_msg *m)
{
	hdr(m, VHOST_USER_SET_VRING_ENABLE, 8);
	m->payload.state.num = 1;
}
static void b_set_features_unoffered(struct vhost_user_msg *m)
{
	hdr(m, VHOST_USER_SET_FEATURES, 8);
	m->payload.u64 = T_VF(VIRTIO_F_VERSION_1) | (UINT64_C(1) << 50);
}
static void b_set_pf_unoffered(struct vhost_user_msg *m)
{
	hdr(m, VHOST_USER_SET_PROTOCOL_FEATURES, 8);
	m->payload.u64 = T_PF(MQ) | T_PF(XEN_MMAP);
}
static void b_set_pf_inband_alone(struct vhost_user_msg *m)
{
	hdr(m, VHOST_USER_SET_PROTOCOL_FEATURES, 8);
	m->payload.u64 = T_PF(INBAND_NOTIFICATIONS) | T_PF(BACKEND_REQ);
}
static void b_vring_enable_2(struct vhost_user_msg *m)
{
	hdr(m, VHOST_USER_SET_VRING_ENABLE, 8);
	m->payload.state.num = 2;
}
static void b_vring_endian_2(struct vhost_user_msg *m)
{
	hdr(m, VHOST_USER_SET_VRING_ENDIAN, 8);
	m->payload.state.num = 2;
}
static void b_mem_table_overlap(struct vhost_user_msg *m)
{
	b_mem_table_2(m);
	m->payload.mem_table.regions[1].guest_phys_addr = 0x800;
}
static void b_mem_table_overflow(struct vhost_user_msg *m)
{
	b_mem_table_1(m);
	m->payload.mem_table.regions[0].guest_phys_addr = UINT64_MAX - 0xfff;
	m->payload.mem_table.regions[0].memory_size = 0x2000;
}
static void b_mem_table_zero_size(struct vhost_user_msg *m)
{
	b_mem_table_1(m);
	m->payload.mem_table.regions[0].memory_size = 0;
}
static void b_config_out_of_bounds(struct vhost_user_msg *m)
{
	hdr(m, VHOST_USER_GET_CONFIG, 12 + 20);
	m->payload.config.hdr.offset = 50;
	m->payload.config.hdr.size = 20;
}
static void b_set_config_bad_flags(struct vhost_user_msg *m)
{
	hdr(m, VHOST_USER_SET_CONFIG, 12 + 4);
	m->payload.config.hdr.size = 4;
	m->payload.config.hdr.flags = 2;
}
static void b_vring_addr_misaligned(struct vhost_user_msg *m)
{
	hdr(m, VHOST_USER_SET_VRING_ADDR, 40);
	m->payload.addr.desc_user_addr = 0x1008;
	m->payload.addr.avail_user_addr = 0x2000;
	m->payload.addr.used_user_addr = 0x3000;
}
static void b_set_status_wide(struct vhost_user_msg *m)
{
	hdr(m, VHOST_USER_SET_STATUS, 8);
	m->payload.u64 = 0x10f;
}
static void b_set_log_base(struct vhost_user_msg *m)
{
	hdr(m, VHOST_USER_SET_LOG_BASE, 16);
	m->payload.log.mmap_size = 0x1000;
}
static void b_vring_addr_packed_misaligned(struct vhost_user_msg *m)
{
	/* Split-ring legal (avail 2-byte aligned), packed-ring illegal
	 * (driver event area must be 4-byte aligned). */
	hdr(m, VHOST_USER_SET_VRING_ADDR, 40);
	m->payload.addr.desc_user_addr = 0x1000;
	m->payload.addr.avail_user_addr = 0x2002;
	m->payload.addr.used_user_addr = 0x3000;
}
static void b_header_only_of_set_features(struct vhost_user_msg *m)
{
	hdr(m, VHOST_USER_SET_FEATURES, 8);
}
static void b_huge_payload(struct vhost_user_msg *m)
{
	hdr(m, VHOST_USER_SET_FEATURES, 0x100000);
}

static struct vh_backend_config cfg_no_pf(void)
{
	struct vh_backend_config c = t_default_cfg();

	c.protocol_features = 0;
	return c;
}

static struct vh_backend_config cfg_max_queues(void)
{
	struct vh_backend_config c = t_default_cfg();

	c.num_queues = VHOST_USER_MAX_VRINGS;
	return c;
}

static struct vh_backend_config cfg_short_timeout(void)
{
	struct vh_backend_config c = t_default_cfg();

	c.conn.msg_timeout_ms = 100;
	return c;
}

/* ------------------------------------------------------------------------ */
/* The cases                                                                */
/* ------------------------------------------------------------------------ */

#define ALL_PF	    (VHOST_USER_PROTOCOL_F_KNOWN & ~T_PF(XEN_MMAP))
#define PACKED	    (T_VF(VIRTIO_F_RING_PACKED) | T_VF(VIRTIO_F_VERSION_1))
#define NEG(n, ...) static const struct neg_case n = {__VA_ARGS__};
#define REQ(name)   "t: VHOST_USER_" #name ": "

NEG(c_bad_version_2, .build = b_version_2, .raw_flags = true, .expect = -EPROTO,
    .log1 = REQ(GET_FEATURES), .log2 = "bad header")
NEG(c_bad_version_0, .build = b_version_0, .raw_flags = true, .expect = -EPROTO,
    .log1 = REQ(GET_FEATURES), .log2 = "bad header")
NEG(c_reserved_flag, .build = b_reserved_flag, .expect = -EPROTO,
    .log1 = REQ(GET_FEATURES), .log2 = "bad header")
NEG(c_reply_flag, .build = b_reply_flag, .expect = -EPROTO,
    .log1 = REQ(GET_FEATURES), .log2 = "bad header")
NEG(c_request_0, .build = b_request_0, .expect = -EPROTO,
    .log1 = "unknown request 0")
NEG(c_request_45, .build = b_request_45, .expect = -EPROTO,
    .log1 = "unknown request 45")
NEG(c_size_get_features, .build = b_get_features_with_payload,
    .expect = -EMSGSIZE, .log1 = REQ(GET_FEATURES), .log2 = "payload size 8")
NEG(c_size_set_features, .build = b_set_features_short, .expect = -EMSGSIZE,
    .log1 = REQ(SET_FEATURES), .log2 = "payload size 4")
NEG(c_size_vring_num_long, .build = b_vring_num_long, .expect = -EMSGSIZE,
    .log1 = REQ(SET_VRING_NUM), .log2 = "payload size 12")
NEG(c_size_vring_num_short, .build = b_vring_num_short, .expect = -EMSGSIZE,
    .log1 = REQ(SET_VRING_NUM), .log2 = "payload size 4")
NEG(c_size_vring_addr, .build = b_vring_addr_short, .expect = -EMSGSIZE,
    .log1 = REQ(SET_VRING_ADDR))
NEG(c_size_mem_table, .build = b_mem_table_odd_size, .nfds = 1,
    .expect = -EMSGSIZE, .log1 = REQ(SET_MEM_TABLE))
NEG(c_size_config_mismatch, .pf = ALL_PF, .build = b_config_size_mismatch,
    .expect = -EMSGSIZE, .log1 = REQ(GET_CONFIG))
NEG(c_size_config_too_big, .pf = ALL_PF, .build = b_set_config_too_big,
    .expect = -EMSGSIZE, .log1 = REQ(SET_CONFIG))
NEG(c_fds_too_many, .build = b_vring_num_ring0, .nfds = 1, .expect = -EBADMSG,
    .log1 = REQ(SET_VRING_NUM), .log2 = "1 fds")
NEG(c_fds_too_few, .build = b_set_log_fd, .expect = -EBADMSG,
    .log1 = REQ(SET_LOG_FD), .log2 = "0 fds")
NEG(c_fds_fewer_than_regions, .build = b_mem_table_2, .nfds = 1,
    .expect = -EBADMSG, .log1 = REQ(SET_MEM_TABLE), .log2 = "one per region")
NEG(c_fds_more_than_regions, .build = b_mem_table_1, .nfds = 2,
    .expect = -EBADMSG, .log1 = REQ(SET_MEM_TABLE))
NEG(c_fds_over_the_limit, .build = b_mem_table_1,
    .nfds = VHOST_USER_MAX_FDS + 1, .expect = -EBADMSG)
NEG(c_fd_with_nofd, .build = b_kick_nofd, .nfds = 1, .expect = -EBADMSG,
    .log1 = REQ(SET_VRING_KICK), .log2 = "NOFD set")
NEG(c_no_fd_without_nofd, .build = b_call_fd, .expect = -EBADMSG,
    .log1 = REQ(SET_VRING_CALL), .log2 = "NOFD clear")
NEG(c_vring_file_reserved_bits, .build = b_kick_reserved_bits,
    .expect = -EINVAL, .log1 = REQ(SET_VRING_KICK), .log2 = "reserved bits")
NEG(c_ring_out_of_range, .build = b_vring_num_ring5, .expect = -ERANGE,
    .log1 = REQ(SET_VRING_NUM) "ring 5 out of range (num_queues 2)")
NEG(c_ring_0x8000_out_of_range, .cfg = cfg_max_queues,
    .build = b_vring_num_ring8000, .expect = -ERANGE,
    .log1 = "ring 32768 out of range (num_queues 32768)")
NEG(c_kick_ring_out_of_range, .build = b_kick_ring3, .expect = -ERANGE,
    .log1 = REQ(SET_VRING_KICK) "ring 3 out of range")
NEG(c_addr_ring_out_of_range, .build = b_vring_addr_ring2, .expect = -ERANGE,
    .log1 = REQ(SET_VRING_ADDR) "ring 2 out of range")
NEG(c_get_config_before_config, .pf = T_PF(MQ), .build = b_get_config,
    .expect = -EPROTO, .log1 = REQ(GET_CONFIG),
    .log2 = "CONFIG (bit 9) not negotiated")
NEG(c_get_config_before_any_pf, .build = b_get_config, .expect = -EPROTO,
    .log1 = REQ(GET_CONFIG), .log2 = "not negotiated")
NEG(c_add_mem_reg_before_mem_slots, .pf = T_PF(MQ), .build = b_add_mem_reg,
    .nfds = 1, .expect = -EPROTO, .log1 = REQ(ADD_MEM_REG),
    .log2 = "CONFIGURE_MEM_SLOTS")
NEG(c_vring_kick_before_inband, .pf = T_PF(REPLY_ACK) | T_PF(BACKEND_REQ),
    .build = b_vring_kick_inband, .expect = -EPROTO, .log1 = REQ(VRING_KICK),
    .log2 = "INBAND_NOTIFICATIONS")
NEG(c_get_queue_num_before_mq, .pf = T_PF(CONFIG), .build = b_get_queue_num,
    .expect = -EPROTO, .log1 = REQ(GET_QUEUE_NUM), .log2 = "MQ")
NEG(c_backend_req_fd_before_backend_req, .pf = T_PF(MQ),
    .build = b_set_backend_req_fd, .nfds = 1, .expect = -EPROTO,
    .log1 = REQ(SET_BACKEND_REQ_FD), .log2 = "BACKEND_REQ")
NEG(c_set_log_base_before_log_shmfd, .pf = T_PF(MQ), .build = b_set_log_base,
    .nfds = 1, .expect = -EPROTO, .log1 = REQ(SET_LOG_BASE),
    .log2 = "LOG_SHMFD")
NEG(c_iotlb_without_access_platform, .features = T_VF(VIRTIO_F_VERSION_1),
    .pf = ALL_PF, .build = b_iotlb_update, .expect = -EPROTO,
    .log1 = REQ(IOTLB_MSG), .log2 = "ACCESS_PLATFORM")
NEG(c_get_pf_not_offered, .cfg = cfg_no_pf, .build = b_get_protocol_features,
    .expect = -EPROTO, .log1 = REQ(GET_PROTOCOL_FEATURES),
    .log2 = "not offered")
NEG(c_vring_enable_not_offered, .cfg = cfg_no_pf, .build = b_vring_enable_1,
    .expect = -EPROTO, .log1 = REQ(SET_VRING_ENABLE))
NEG(c_set_features_unoffered, .build = b_set_features_unoffered,
    .expect = -EPROTO, .log1 = REQ(SET_FEATURES), .log2 = "not offered")
NEG(c_set_pf_unoffered, .build = b_set_pf_unoffered, .expect = -EPROTO,
    .log1 = REQ(SET_PROTOCOL_FEATURES), .log2 = "not offered")
NEG(c_inband_without_reply_ack, .build = b_set_pf_inband_alone,
    .expect = -EPROTO, .log1 = REQ(SET_PROTOCOL_FEATURES),
    .log2 = "INBAND_NOTIFICATIONS without")
NEG(c_vring_enable_num_2, .build = b_vring_enable_2, .expect = -EINVAL,
    .log1 = REQ(SET_VRING_ENABLE), .log2 = "num 2 is not 0 or 1")
NEG(c_vring_endian_num_2, .pf = ALL_PF, .build = b_vring_endian_2,
    .expect = -EINVAL, .log1 = REQ(SET_VRING_ENDIAN))
NEG(c_mem_table_overlap, .build = b_mem_table_overlap, .nfds = 2,
    .expect = -EINVAL, .log1 = REQ(SET_MEM_TABLE),
    .log2 = "invalid memory table")
NEG(c_mem_table_overflow, .build = b_mem_table_overflow, .nfds = 1,
    .expect = -EINVAL, .log1 = REQ(SET_MEM_TABLE))
NEG(c_mem_table_zero_size, .build = b_mem_table_zero_size, .nfds = 1,
    .expect = -EINVAL, .log1 = REQ(SET_MEM_TABLE))
NEG(c_config_out_of_bounds, .pf = ALL_PF, .build = b_config_out_of_bounds,
    .expect = -EINVAL, .log1 = REQ(GET_CONFIG), .log2 = "offset 50 size 20")
NEG(c_config_bad_flags, .pf = ALL_PF, .build = b_set_config_bad_flags,
    .expect = -EINVAL, .log1 = REQ(SET_CONFIG))
NEG(c_vring_addr_misaligned, .build = b_vring_addr_misaligned,
    .expect = -EINVAL, .log1 = REQ(SET_VRING_ADDR),
    .log2 = "split ring addresses")
NEG(c_packed_vring_addr_misaligned, .features = PACKED,
    .build = b_vring_addr_packed_misaligned, .expect = -EINVAL,
    .log1 = REQ(SET_VRING_ADDR), .log2 = "packed ring addresses")
NEG(c_status_wider_than_byte, .pf = ALL_PF, .build = b_set_status_wide,
    .expect = -EINVAL, .log1 = REQ(SET_STATUS))
NEG(c_truncated_header_then_hangup, .mode = NEG_RAW_THEN_HANGUP,
    .build = b_header_only_of_set_features, .raw_len = 6, .expect = -EPROTO,
    .log1 = "receiving a message failed")
NEG(c_header_then_hangup, .mode = NEG_RAW_THEN_HANGUP,
    .build = b_header_only_of_set_features, .raw_len = 12, .expect = -EPROTO,
    .log1 = "receiving a message failed")
NEG(c_truncated_payload_then_hangup, .mode = NEG_RAW_THEN_HANGUP,
    .build = b_header_only_of_set_features, .raw_len = 12 + 3,
    .expect = -EPROTO)
NEG(c_stall_mid_message, .cfg = cfg_short_timeout, .mode = NEG_RAW,
    .build = b_header_only_of_set_features, .raw_len = 12, .expect = -ETIMEDOUT,
    .log1 = "receiving a message failed")
NEG(c_payload_over_limit, .mode = NEG_RAW, .build = b_huge_payload,
    .raw_len = 12, .expect = -EMSGSIZE)

#define CASE(name, c)                                   \
	{                                               \
#name, run_case, NULL, NULL, (void *)&c \
	}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    CASE(bad_version_2_closes, c_bad_version_2),
	    CASE(bad_version_0_closes, c_bad_version_0),
	    CASE(reserved_flag_bit_closes, c_reserved_flag),
	    CASE(reply_flag_on_request_closes, c_reply_flag),
	    CASE(unknown_request_0_closes, c_request_0),
	    CASE(unknown_request_45_closes, c_request_45),
	    CASE(get_features_with_payload_closes, c_size_get_features),
	    CASE(set_features_short_payload_closes, c_size_set_features),
	    CASE(set_vring_num_long_payload_closes, c_size_vring_num_long),
	    CASE(set_vring_num_short_payload_closes, c_size_vring_num_short),
	    CASE(set_vring_addr_short_payload_closes, c_size_vring_addr),
	    CASE(mem_table_size_not_8_plus_32n_closes, c_size_mem_table),
	    CASE(config_size_disagreeing_with_header_closes,
		 c_size_config_mismatch),
	    CASE(config_over_256_bytes_closes, c_size_config_too_big),
	    CASE(fd_on_request_without_fds_closes, c_fds_too_many),
	    CASE(missing_fd_closes, c_fds_too_few),
	    CASE(mem_table_fewer_fds_than_regions_closes,
		 c_fds_fewer_than_regions),
	    CASE(mem_table_more_fds_than_regions_closes,
		 c_fds_more_than_regions),
	    CASE(more_fds_than_the_limit_closes, c_fds_over_the_limit),
	    CASE(fd_with_nofd_set_closes, c_fd_with_nofd),
	    CASE(no_fd_without_nofd_closes, c_no_fd_without_nofd),
	    CASE(vring_file_reserved_bits_close, c_vring_file_reserved_bits),
	    CASE(ring_index_over_num_queues_closes, c_ring_out_of_range),
	    CASE(ring_index_0x8000_closes, c_ring_0x8000_out_of_range),
	    CASE(kick_ring_index_out_of_range_closes, c_kick_ring_out_of_range),
	    CASE(addr_ring_index_out_of_range_closes, c_addr_ring_out_of_range),
	    CASE(get_config_before_config_negotiated_closes,
		 c_get_config_before_config),
	    CASE(get_config_before_any_protocol_feature_closes,
		 c_get_config_before_any_pf),
	    CASE(add_mem_reg_before_mem_slots_negotiated_closes,
		 c_add_mem_reg_before_mem_slots),
	    CASE(vring_kick_before_inband_negotiated_closes,
		 c_vring_kick_before_inband),
	    CASE(get_queue_num_before_mq_negotiated_closes,
		 c_get_queue_num_before_mq),
	    CASE(set_backend_req_fd_before_backend_req_closes,
		 c_backend_req_fd_before_backend_req),
	    CASE(set_log_base_before_log_shmfd_closes,
		 c_set_log_base_before_log_shmfd),
	    CASE(iotlb_without_access_platform_closes,
		 c_iotlb_without_access_platform),
	    CASE(get_protocol_features_not_offered_closes,
		 c_get_pf_not_offered),
	    CASE(set_vring_enable_without_protocol_features_closes,
		 c_vring_enable_not_offered),
	    CASE(set_features_with_unoffered_bits_closes,
		 c_set_features_unoffered),
	    CASE(set_protocol_features_with_unoffered_bits_closes,
		 c_set_pf_unoffered),
	    CASE(inband_without_backend_req_and_reply_ack_closes,
		 c_inband_without_reply_ack),
	    CASE(set_vring_enable_num_2_closes, c_vring_enable_num_2),
	    CASE(set_vring_endian_num_2_closes, c_vring_endian_num_2),
	    CASE(mem_table_overlap_closes, c_mem_table_overlap),
	    CASE(mem_table_address_overflow_closes, c_mem_table_overflow),
	    CASE(mem_table_zero_size_region_closes, c_mem_table_zero_size),
	    CASE(config_out_of_bounds_closes, c_config_out_of_bounds),
	    CASE(config_unknown_flags_close, c_config_bad_flags),
	    CASE(split_vring_addr_misaligned_closes, c_vring_addr_misaligned),
	    CASE(packed_vring_addr_misaligned_closes,
		 c_packed_vring_addr_misaligned),
	    CASE(status_wider_than_a_byte_closes, c_status_wider_than_byte),
	    CASE(truncated_header_then_hangup_closes,
		 c_truncated_header_then_hangup),
	    CASE(header_then_hangup_closes, c_header_then_hangup),
	    CASE(truncated_payload_then_hangup_closes,
		 c_truncated_payload_then_hangup),
	    CASE(peer_stalling_mid_message_times_out, c_stall_mid_message),
	    CASE(payload_over_the_limit_closes, c_payload_over_limit),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
