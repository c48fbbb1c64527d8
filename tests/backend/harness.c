/* SPDX-License-Identifier: MIT */
/* Test harness for the back-end dispatcher (harness.h). */
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* The recording device                                                     */
/* ------------------------------------------------------------------------ */

static int hit(void *opaque, uint32_t req)
{
	struct rec *r = opaque;

	r->calls++;
	r->n[req]++;
	r->nfd_seen = 0;
	return r->ret[req];
}

static void see_fd(struct rec *r, int *fd)
{
	if (r->nfd_seen < 8)
		r->fd_seen[r->nfd_seen++] = *fd;
	if (r->take_fds && *fd >= 0 && r->nkept < T_MAX_KEPT) {
		r->kept[r->nkept++] = *fd;
		*fd = -1;
	}
}

/* An fd to hand back to the dispatcher; the test keeps a dup to check it. */
static int give(struct rec *r)
{
	int fd;

	if (!r->give_fd)
		return -1;
	fd = t_memfd(4096);
	if (r->given_fd >= 0)
		close(r->given_fd);
	r->given_fd = dup(fd);
	return fd;
}

#define HIT(req)    hit(opaque, VHOST_USER_##req)
#define REC(opaque) ((struct rec *)(opaque))

static int c_set_features(void *opaque, uint64_t f)
{
	REC(opaque)->u64 = f;
	return HIT(SET_FEATURES);
}
static int c_set_pf(void *opaque, uint64_t f)
{
	REC(opaque)->u64 = f;
	return HIT(SET_PROTOCOL_FEATURES);
}
static int c_set_owner(void *opaque)
{
	return HIT(SET_OWNER);
}
static int c_reset_owner(void *opaque)
{
	return HIT(RESET_OWNER);
}
static int c_set_mem_table(void *opaque,
			   const struct vhost_user_mem_region *regions,
			   unsigned n, int *fds)
{
	struct rec *r = REC(opaque);
	int ret = HIT(SET_MEM_TABLE);
	unsigned i;

	r->nregions = n;
	memcpy(r->regions, regions, n * sizeof(*regions));
	for (i = 0; i < n; i++)
		see_fd(r, &fds[i]);
	return ret;
}
static int c_add_mem_reg(void *opaque, const struct vhost_user_mem_region *reg,
			 int *fd)
{
	int ret = HIT(ADD_MEM_REG);

	REC(opaque)->regions[0] = *reg;
	see_fd(REC(opaque), fd);
	return ret;
}
static int c_rem_mem_reg(void *opaque, const struct vhost_user_mem_region *reg)
{
	REC(opaque)->regions[0] = *reg;
	return HIT(REM_MEM_REG);
}
static int c_set_log_base(void *opaque, const struct vhost_user_log *log,
			  int *fd)
{
	int ret = HIT(SET_LOG_BASE);

	REC(opaque)->log = *log;
	see_fd(REC(opaque), fd);
	return ret;
}
static int c_set_log_fd(void *opaque, int *fd)
{
	int ret = HIT(SET_LOG_FD);

	see_fd(REC(opaque), fd);
	return ret;
}
static int c_set_vring_num(void *opaque, uint32_t index, uint32_t num)
{
	REC(opaque)->index = index;
	REC(opaque)->num = num;
	return HIT(SET_VRING_NUM);
}
static int c_set_vring_addr(void *opaque, const struct vhost_user_vring_addr *a)
{
	REC(opaque)->addr = *a;
	return HIT(SET_VRING_ADDR);
}
static int c_set_vring_base(void *opaque, uint32_t index, uint32_t base)
{
	REC(opaque)->index = index;
	REC(opaque)->num = base;
	return HIT(SET_VRING_BASE);
}
static int c_get_vring_base(void *opaque, uint32_t index, uint32_t *base)
{
	REC(opaque)->index = index;
	*base = 0x1234 + index;
	return HIT(GET_VRING_BASE);
}
static int vring_fd(void *opaque, uint32_t req, uint32_t index, int *fd)
{
	int ret = hit(opaque, req);

	REC(opaque)->index = index;
	see_fd(REC(opaque), fd);
	return ret;
}
static int c_set_vring_kick(void *opaque, uint32_t index, int *fd)
{
	return vring_fd(opaque, VHOST_USER_SET_VRING_KICK, index, fd);
}
static int c_set_vring_call(void *opaque, uint32_t index, int *fd)
{
	return vring_fd(opaque, VHOST_USER_SET_VRING_CALL, index, fd);
}
static int c_set_vring_err(void *opaque, uint32_t index, int *fd)
{
	return vring_fd(opaque, VHOST_USER_SET_VRING_ERR, index, fd);
}
static int c_set_vring_enable(void *opaque, uint32_t index, bool enable)
{
	REC(opaque)->index = index;
	REC(opaque)->flag = enable;
	return HIT(SET_VRING_ENABLE);
}
static int c_set_vring_endian(void *opaque, uint32_t index, bool big)
{
	REC(opaque)->index = index;
	REC(opaque)->flag = big;
	return HIT(SET_VRING_ENDIAN);
}
static int c_vring_kick(void *opaque, uint32_t index)
{
	REC(opaque)->index = index;
	return HIT(VRING_KICK);
}
static int c_get_config(void *opaque, uint32_t off, uint32_t size,
			uint32_t flags, uint8_t *buf)
{
	struct rec *r = REC(opaque);
	uint32_t i;

	r->cfg_off = off;
	r->cfg_size = size;
	r->cfg_flags = flags;
	for (i = 0; i < size; i++)
		buf[i] = (uint8_t)(off + i + 1);
	return HIT(GET_CONFIG);
}
static int c_set_config(void *opaque, uint32_t off, uint32_t size,
			uint32_t flags, const uint8_t *buf)
{
	struct rec *r = REC(opaque);

	r->cfg_off = off;
	r->cfg_size = size;
	r->cfg_flags = flags;
	memcpy(r->cfg_buf, buf, size);
	return HIT(SET_CONFIG);
}
static int c_reset_device(void *opaque)
{
	return HIT(RESET_DEVICE);
}
static int c_set_status(void *opaque, uint8_t status)
{
	REC(opaque)->status = status;
	return HIT(SET_STATUS);
}
static int c_get_status(void *opaque, uint8_t *status)
{
	*status = 0x0f;
	return HIT(GET_STATUS);
}
static int c_send_rarp(void *opaque, const uint8_t mac[6])
{
	memcpy(REC(opaque)->mac, mac, 6);
	return HIT(SEND_RARP);
}
static int c_net_set_mtu(void *opaque, uint16_t mtu)
{
	REC(opaque)->mtu = mtu;
	return HIT(NET_SET_MTU);
}
static int c_iotlb_msg(void *opaque, const struct vhost_user_iotlb *m)
{
	REC(opaque)->iotlb = *m;
	return HIT(IOTLB_MSG);
}
static int c_create_crypto(void *opaque, const void *in, size_t in_len,
			   void *out, size_t out_max, size_t *out_len)
{
	int64_t id = 77;

	(void)in;
	REC(opaque)->crypto_in_len = in_len;
	/* New QEMU layout: session id last. */
	memcpy((uint8_t *)out + out_max - sizeof(id), &id, sizeof(id));
	(void)out_len;
	return HIT(CREATE_CRYPTO_SESSION);
}
static int c_close_crypto(void *opaque, uint64_t id)
{
	REC(opaque)->u64 = id;
	return HIT(CLOSE_CRYPTO_SESSION);
}
static int c_postcopy_advise(void *opaque, int *ufd)
{
	*ufd = give(REC(opaque));
	return HIT(POSTCOPY_ADVISE);
}
static int c_postcopy_listen(void *opaque)
{
	return HIT(POSTCOPY_LISTEN);
}
static int c_postcopy_end(void *opaque)
{
	return HIT(POSTCOPY_END);
}
static int c_get_inflight(void *opaque, const struct vhost_user_inflight *req,
			  struct vhost_user_inflight *rep, int *fd)
{
	REC(opaque)->inflight = *req;
	rep->mmap_size = 4096;
	rep->mmap_offset = 0;
	rep->num_queues = req->num_queues;
	rep->queue_size = req->queue_size;
	*fd = give(REC(opaque));
	return HIT(GET_INFLIGHT_FD);
}
static int c_set_inflight(void *opaque, const struct vhost_user_inflight *in,
			  int *fd)
{
	int ret = HIT(SET_INFLIGHT_FD);

	REC(opaque)->inflight = *in;
	see_fd(REC(opaque), fd);
	return ret;
}
static int c_gpu_set_socket(void *opaque, int *fd)
{
	int ret = HIT(GPU_SET_SOCKET);

	see_fd(REC(opaque), fd);
	return ret;
}
static int c_get_shared_object(void *opaque,
			       const struct vhost_user_shared *uuid, int *fd)
{
	REC(opaque)->uuid = *uuid;
	*fd = give(REC(opaque));
	return HIT(GET_SHARED_OBJECT);
}
static int c_set_device_state_fd(void *opaque, uint32_t dir, uint32_t phase,
				 int *fd, int *reply_fd)
{
	int ret = HIT(SET_DEVICE_STATE_FD);

	REC(opaque)->direction = dir;
	REC(opaque)->phase = phase;
	see_fd(REC(opaque), fd);
	*reply_fd = give(REC(opaque));
	return ret;
}
static int c_check_device_state(void *opaque)
{
	return HIT(CHECK_DEVICE_STATE);
}
static int c_get_shmem_config(void *opaque, struct vhost_user_shmem_config *out)
{
	out->nregions = 2;
	out->memory_sizes[0] = 0x1000;
	out->memory_sizes[1] = 0x200000;
	return HIT(GET_SHMEM_CONFIG);
}
static void c_channel_ready(void *opaque)
{
	REC(opaque)->channel_ready++;
}

const struct vh_backend_ops t_rec_ops = {
    .set_features = c_set_features,
    .set_protocol_features = c_set_pf,
    .set_owner = c_set_owner,
    .reset_owner = c_reset_owner,
    .set_mem_table = c_set_mem_table,
    .add_mem_reg = c_add_mem_reg,
    .rem_mem_reg = c_rem_mem_reg,
    .set_log_base = c_set_log_base,
    .set_log_fd = c_set_log_fd,
    .set_vring_num = c_set_vring_num,
    .set_vring_addr = c_set_vring_addr,
    .set_vring_base = c_set_vring_base,
    .get_vring_base = c_get_vring_base,
    .set_vring_kick = c_set_vring_kick,
    .set_vring_call = c_set_vring_call,
    .set_vring_err = c_set_vring_err,
    .set_vring_enable = c_set_vring_enable,
    .set_vring_endian = c_set_vring_endian,
    .vring_kick = c_vring_kick,
    .get_config = c_get_config,
    .set_config = c_set_config,
    .reset_device = c_reset_device,
    .set_status = c_set_status,
    .get_status = c_get_status,
    .send_rarp = c_send_rarp,
    .net_set_mtu = c_net_set_mtu,
    .iotlb_msg = c_iotlb_msg,
    .create_crypto_session = c_create_crypto,
    .close_crypto_session = c_close_crypto,
    .postcopy_advise = c_postcopy_advise,
    .postcopy_listen = c_postcopy_listen,
    .postcopy_end = c_postcopy_end,
    .get_inflight_fd = c_get_inflight,
    .set_inflight_fd = c_set_inflight,
    .gpu_set_socket = c_gpu_set_socket,
    .get_shared_object = c_get_shared_object,
    .set_device_state_fd = c_set_device_state_fd,
    .check_device_state = c_check_device_state,
    .get_shmem_config = c_get_shmem_config,
    .backend_channel_ready = c_channel_ready,
};

/* ------------------------------------------------------------------------ */
/* Dispatcher and front-end end                                             */
/* ------------------------------------------------------------------------ */

uint64_t t_all_pf(void)
{
	return VHOST_USER_PROTOCOL_F_KNOWN & ~T_PF(XEN_MMAP);
}

struct vh_backend_config t_default_cfg(void)
{
	struct vh_backend_config cfg = {
	    .features =
		T_VF(VIRTIO_F_VERSION_1) | T_VF(VIRTIO_RING_F_EVENT_IDX) |
		T_VF(VIRTIO_RING_F_INDIRECT_DESC) |
		T_VF(VIRTIO_F_ACCESS_PLATFORM) | T_VF(VIRTIO_F_RING_PACKED),
	    .protocol_features = t_all_pf(),
	    .num_queues = 2,
	    .max_mem_slots = 0,
	    .config_size = 60,
	    .conn = {.msg_timeout_ms = 1000},
	    .name = "t",
	};
	return cfg;
}

struct tfe *tfe_new(const struct vh_backend_config *cfg,
		    const struct vh_backend_ops *ops)
{
	struct tfe *t = calloc(1, sizeof(*t));
	int sv[2];

	assert_non_null(t);
	t->cfg = cfg ? *cfg : t_default_cfg();
	t->ops = ops ? *ops : t_rec_ops;
	t->cfg.ops = &t->ops;
	t->cfg.opaque = &t->rec;
	t->rec.given_fd = -1;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
			 0);
	assert_int_equal(vh_conn_new(&t->c, sv[0], NULL), 0);
	assert_int_equal(vh_backend_new(&t->b, sv[1], &t->cfg), 0);
	return t;
}

void tfe_drop_backend(struct tfe *t)
{
	vh_backend_free(t->b);
	t->b = NULL;
}

void tfe_free(struct tfe *t)
{
	unsigned i;

	if (!t)
		return;
	tfe_drop_backend(t);
	vh_conn_free(t->c);
	for (i = 0; i < t->rec.nkept; i++)
		close(t->rec.kept[i]);
	if (t->rec.given_fd >= 0)
		close(t->rec.given_fd);
	free(t);
}

void tfe_send(struct tfe *t, uint32_t req, uint32_t flags, const void *payload,
	      uint32_t size, const int *fds, unsigned nfds)
{
	struct vhost_user_msg *m = calloc(1, sizeof(*m));

	assert_non_null(m);
	m->hdr.request = req;
	m->hdr.flags = VHOST_USER_VERSION | flags;
	m->hdr.size = size;
	if (size)
		memcpy(m->payload.raw, payload, size);
	m->nfds = nfds;
	if (nfds)
		memcpy(m->fds, fds, nfds * sizeof(int));
	assert_int_equal(vh_conn_send(t->c, m), 0);
	free(m);
}

int tfe_step(struct tfe *t)
{
	return vh_backend_handle_readable(t->b);
}

int tfe_recv(struct tfe *t, struct vhost_user_msg *m, int wait_ms)
{
	return vh_conn_recv(t->c, m, wait_ms);
}

void tfe_call(struct tfe *t, uint32_t req, uint32_t flags, const void *payload,
	      uint32_t size, const int *fds, unsigned nfds,
	      struct vhost_user_msg *rep)
{
	tfe_send(t, req, flags, payload, size, fds, nfds);
	assert_int_equal(tfe_step(t), 0);
	assert_int_equal(tfe_recv(t, rep, 1000), 0);
	assert_int_equal(rep->hdr.request, req);
	assert_int_equal(rep->hdr.flags,
			 VHOST_USER_VERSION | VHOST_USER_REPLY_MASK);
	tfe_assert_no_reply(t); /* never a second message */
}

void tfe_cast(struct tfe *t, uint32_t req, uint32_t flags, const void *payload,
	      uint32_t size, const int *fds, unsigned nfds)
{
	tfe_send(t, req, flags, payload, size, fds, nfds);
	assert_int_equal(tfe_step(t), 0);
	tfe_assert_no_reply(t);
}

void tfe_assert_no_reply(struct tfe *t)
{
	struct vhost_user_msg *m = calloc(1, sizeof(*m));

	assert_non_null(m);
	assert_int_equal(tfe_recv(t, m, 0), -EAGAIN);
	free(m);
}

uint64_t tfe_get_features(struct tfe *t)
{
	struct vhost_user_msg *m = calloc(1, sizeof(*m));
	uint64_t f;

	assert_non_null(m);
	tfe_call(t, VHOST_USER_GET_FEATURES, 0, NULL, 0, NULL, 0, m);
	assert_int_equal(m->hdr.size, 8);
	f = m->payload.u64;
	free(m);
	return f;
}

void tfe_negotiate(struct tfe *t, uint64_t features, uint64_t pf)
{
	if (pf)
		tfe_cast(t, VHOST_USER_SET_PROTOCOL_FEATURES, 0, &pf,
			 sizeof(pf), NULL, 0);
	if (features)
		tfe_cast(t, VHOST_USER_SET_FEATURES, 0, &features,
			 sizeof(features), NULL, 0);
}

void t_raw_send(int sock, const void *buf, size_t len, const int *fds,
		unsigned nfds)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * 16)];
	} ctl;
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	struct cmsghdr *cm;

	assert_true(nfds <= 16);
	if (nfds) {
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
	}
	assert_int_equal(sendmsg(sock, &mh, MSG_NOSIGNAL), (ssize_t)len);
}

/* ------------------------------------------------------------------------ */
/* Fds                                                                      */
/* ------------------------------------------------------------------------ */

int t_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own fd */
}

int t_memfd(size_t size)
{
	int fd = memfd_create("vh-test", MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	return fd;
}

int t_eventfd(void)
{
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	assert_true(fd >= 0);
	return fd;
}

void t_assert_same_eventfd(int w, int r)
{
	uint64_t v = 0x5a5a, got = 0;

	assert_int_equal(write(w, &v, sizeof(v)), sizeof(v));
	assert_int_equal(read(r, &got, sizeof(got)), sizeof(got));
	assert_int_equal(got, v);
}

void t_assert_same_file(int w, int r)
{
	static const char pat[] = "libvhost fd passing";
	char got[sizeof(pat)] = {0};

	assert_int_equal(pwrite(w, pat, sizeof(pat), 0), sizeof(pat));
	assert_int_equal(pread(r, got, sizeof(got), 0), sizeof(got));
	assert_memory_equal(got, pat, sizeof(pat));
}

/* ------------------------------------------------------------------------ */
/* Log capture                                                              */
/* ------------------------------------------------------------------------ */

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char log_buf[16384];
static size_t log_len;

static void log_sink(void *opaque, enum vh_log_level level, const char *msg)
{
	size_t n = strlen(msg);

	(void)opaque;
	(void)level;
	pthread_mutex_lock(&log_lock);
	if (log_len + n + 2 < sizeof(log_buf)) {
		memcpy(log_buf + log_len, msg, n);
		log_len += n;
		log_buf[log_len++] = '\n';
		log_buf[log_len] = '\0';
	}
	pthread_mutex_unlock(&log_lock);
	if (getenv("VH_TEST_VERBOSE"))
		fprintf(stderr, "log: %s\n", msg);
}

void t_log_capture(void)
{
	vh_log_set_handler(log_sink, NULL);
	vh_log_set_level(VH_LOG_WARN);
}

void t_log_clear(void)
{
	pthread_mutex_lock(&log_lock);
	log_len = 0;
	log_buf[0] = '\0';
	pthread_mutex_unlock(&log_lock);
}

bool t_log_has(const char *needle)
{
	bool found;

	pthread_mutex_lock(&log_lock);
	found = strstr(log_buf, needle) != NULL;
	pthread_mutex_unlock(&log_lock);
	return found;
}

const char *t_log_text(void)
{
	return log_buf;
}
