/* SPDX-License-Identifier: MIT */
/* The fake in-kernel vhost device (see fake_kern.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fake_kern.h"

struct fake_dev fake;
char fake_last_log[512];
unsigned fake_nlogs;

static void log_sink(void *opaque, enum vh_log_level level, const char *msg)
{
	(void)opaque;
	(void)level;
	snprintf(fake_last_log, sizeof(fake_last_log), "%s", msg);
	fake_nlogs++;
}

void fake_log_capture(void)
{
	vh_log_set_handler(log_sink, NULL);
	vh_log_set_level(VH_LOG_DEBUG);
	fake_last_log[0] = '\0';
	fake_nlogs = 0;
}

void fake_reset(enum vh_kern_device kind)
{
	memset(&fake, 0, sizeof(fake));
	fake.kind = kind;
	fake.fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	fake.tap_fd = -1;
	fake.fail_write_at = -1;
	fake.features = UINT64_C(0x33d008000); /* Debian 6.1 vhost-net */
	fake.nvqs = kind == VH_KERN_SCSI ? 130 : kind == VH_KERN_VDPA ? 3 : 2;
	fake.vring_base = 42;
	if (kind == VH_KERN_VDPA) {
		fake.backend_offered = 0x1e; /* MSG_V2 BATCH ASID SUSPEND */
		fake.range.first = 0;
		fake.range.last = UINT64_MAX;
	} else if (kind == VH_KERN_NET) {
		fake.backend_offered = 0x2;
	}
	fake_log_capture();
}

struct vh_transport *fake_adopt(void)
{
	struct vh_transport *t = NULL;

	assert_int_equal(vh_kern_adopt(&t, fake.kind, fake.fd, "fake0"), 0);
	assert_non_null(t);
	return t;
}

unsigned fake_count(unsigned long req)
{
	unsigned i, n = 0;

	for (i = 0; i < fake.nreqs; i++)
		n += fake.reqs[i] == req;
	return n;
}

int fake_fd_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;
}

/* drivers/vhost/vhost.c: a ring ioctl names its ring in the first u32. */
static int ring_of(void *arg, uint32_t *idx)
{
	if (!arg)
		return -EFAULT; /* get_user() of a NULL argument */
	memcpy(idx, arg, sizeof(*idx));
	if (*idx >= fake.nvqs)
		return -ENOBUFS;
	return 0;
}

static int tap_ioctl(unsigned long req, void *arg)
{
	struct ifreq *ifr = arg;

	if (req == TUNGETIFF) {
		memset(ifr, 0, sizeof(*ifr));
		snprintf(ifr->ifr_name, IFNAMSIZ, "faketap");
		ifr->ifr_flags = fake.tap_flags;
		return 0;
	}
	if (req == TUNGETVNETHDRSZ) {
		memcpy(arg, &fake.tap_hdr_len, sizeof(int));
		return 0;
	}
	return -ENOTTY;
}

static int ring_ioctl(unsigned long req, void *arg)
{
	struct vh_k_vring_state st;
	uint32_t idx;
	int r = ring_of(arg, &idx);

	if (r < 0)
		return r;
	if (idx >= FAKE_MAX_RINGS)
		return -ENOBUFS;
	switch (req) {
	case VH_K_SET_VRING_NUM:
	case VH_K_SET_VRING_BASE:
	case VH_K_VDPA_SET_VRING_ENABLE:
		return 0;
	case VH_K_GET_VRING_BASE:
		memcpy(&st, arg, sizeof(st));
		st.num = fake.vring_base;
		memcpy(arg, &st, sizeof(st));
		return 0;
	case VH_K_SET_VRING_ADDR:
		memcpy(&fake.addr[idx], arg, sizeof(fake.addr[idx]));
		return 0;
	case VH_K_SET_VRING_KICK:
	case VH_K_SET_VRING_CALL:
	case VH_K_SET_VRING_ERR:
		memcpy(&fake.last_file, arg, sizeof(fake.last_file));
		return 0;
	case VH_K_SET_VRING_BUSYLOOP_TIMEOUT:
		memcpy(&st, arg, sizeof(st));
		fake.busyloop[idx] = st.num;
		return 0;
	case VH_K_GET_VRING_BUSYLOOP_TIMEOUT:
		memcpy(&st, arg, sizeof(st));
		st.num = fake.busyloop[idx];
		memcpy(arg, &st, sizeof(st));
		return 0;
	case VH_K_VDPA_GET_VRING_GROUP:
		memcpy(&st, arg, sizeof(st));
		st.num = idx == 2 ? 1 : 0; /* the control ring apart */
		memcpy(arg, &st, sizeof(st));
		return 0;
	case VH_K_NET_SET_BACKEND:
		if (fake.kind != VH_KERN_NET)
			return -ENOTTY;
		memcpy(&fake.last_file, arg, sizeof(fake.last_file));
		return 0;
	case VH_K_ATTACH_VRING_WORKER:
	case VH_K_GET_VRING_WORKER:
		return fake.has_workers ? 0 : -ENOTTY;
	default:
		/* ENDIAN: no CONFIG_VHOST_CROSS_ENDIAN_LEGACY, as Debian. */
		return -ENOTTY;
	}
}

static int array_ioctl(unsigned long req, void *arg)
{
	uint64_t w[3];

	memcpy(w, arg, sizeof(w[0]));
	if (req == VH_K_GET_FEATURES_ARRAY) {
		w[1] = fake.features;
		w[2] = 0x5; /* bits 64 and 66 */
		memcpy((char *)arg + 8, &w[1], (w[0] < 2 ? w[0] : 2) * 8);
		return 0;
	}
	memcpy(w, arg, sizeof(w[0]) * (w[0] >= 2 ? 3 : 2));
	fake.acked = w[1];
	fake.hi_acked = w[0] >= 2 ? w[2] : 0;
	return 0;
}

static int vdpa_ioctl(unsigned long req, void *arg)
{
	struct vh_k_vdpa_config c;
	uint32_t v;

	switch (req) {
	case VH_K_VDPA_GET_DEVICE_ID:
		v = 1;
		memcpy(arg, &v, sizeof(v));
		return 0;
	case VH_K_VDPA_GET_STATUS:
		memcpy(arg, &fake.status, 1);
		return 0;
	case VH_K_VDPA_SET_STATUS:
		memcpy(&fake.status, arg, 1);
		return 0;
	case VH_K_VDPA_GET_CONFIG:
	case VH_K_VDPA_SET_CONFIG:
		memcpy(&c, arg, sizeof(c));
		if (c.len == 0 || c.off > sizeof(fake.config))
			return -EINVAL;
		if (c.len > sizeof(fake.config) - c.off)
			return -E2BIG;
		if (req == VH_K_VDPA_GET_CONFIG)
			memcpy((char *)arg + sizeof(c), fake.config + c.off,
			       c.len);
		else
			memcpy(fake.config + c.off, (char *)arg + sizeof(c),
			       c.len);
		return 0;
	case VH_K_VDPA_GET_IOVA_RANGE:
		memcpy(arg, &fake.range, sizeof(fake.range));
		return 0;
	case VH_K_VDPA_GET_VQS_COUNT:
		memcpy(arg, &fake.nvqs, sizeof(fake.nvqs));
		return 0;
	case VH_K_VDPA_SUSPEND:
		return 0;
	default:
		return -ENOTTY;
	}
}

static int fake_ioctl(unsigned long req, void *arg)
{
	uint64_t u;

	if (fake.nreqs < FAKE_MAX_REQS)
		fake.reqs[fake.nreqs++] = req;
	if (fake.not_vhost)
		return -ENOTTY;
	/* Answered without an owner (vhost_net_ioctl & co). */
	switch (req) {
	case VH_K_GET_FEATURES:
		memcpy(arg, &fake.features, sizeof(fake.features));
		return 0;
	case VH_K_GET_BACKEND_FEATURES:
		if (fake.kind == VH_KERN_SCSI)
			return -ENOTTY;
		memcpy(arg, &fake.backend_offered, 8);
		return 0;
	case VH_K_SET_BACKEND_FEATURES:
		memcpy(&u, arg, 8);
		if (u & ~fake.backend_offered)
			return -EOPNOTSUPP;
		fake.backend_acked = u;
		return 0;
	case VH_K_SET_FEATURES:
		memcpy(&fake.acked, arg, 8);
		return 0;
	case VH_K_GET_FEATURES_ARRAY:
	case VH_K_SET_FEATURES_ARRAY:
		if (fake.has_array)
			return array_ioctl(req, arg);
		break; /* an older kernel: the generic path below */
	case VH_K_SET_OWNER:
		if (fake.owner)
			return -EBUSY;
		fake.owner = true;
		return 0;
	case VH_K_SCSI_GET_ABI_VERSION:
		u = VH_K_SCSI_ABI_VERSION;
		memcpy(arg, &u, sizeof(int));
		return 0;
	default:
		break;
	}
	/* vhost_vdpa_unlocked_ioctl() answers its own ioctls first. */
	if (fake.kind == VH_KERN_VDPA && (req & 0xff) >= 0x70 &&
	    req != VH_K_VDPA_SET_VRING_ENABLE &&
	    req != VH_K_VDPA_GET_VRING_GROUP)
		return vdpa_ioctl(req, arg);
	/* vhost_dev_ioctl(): "You must be the owner to do anything else". */
	if (!fake.owner)
		return -EPERM;
	switch (req) {
	case VH_K_RESET_OWNER:
		fake.owner = false;
		return 0;
	case VH_K_SET_MEM_TABLE: {
		struct vh_k_memory m;

		memcpy(&m, arg, sizeof(m));
		if (m.nregions > 80)
			return -E2BIG;
		memcpy(fake.regions, (char *)arg + sizeof(m),
		       m.nregions * sizeof(fake.regions[0]));
		fake.nregions = m.nregions;
		return 0;
	}
	case VH_K_SET_LOG_BASE:
	case VH_K_SET_LOG_FD:
		return 0;
	case VH_K_NEW_WORKER:
	case VH_K_FREE_WORKER:
		return fake.has_workers ? 0 : -ENOTTY;
	case VH_K_VSOCK_SET_GUEST_CID:
		memcpy(&fake.cid, arg, 8);
		return 0;
	case VH_K_VSOCK_SET_RUNNING:
		memcpy(&fake.running, arg, sizeof(int));
		return 0;
	case VH_K_SCSI_SET_ENDPOINT:
	case VH_K_SCSI_CLEAR_ENDPOINT:
		memcpy(&fake.target, arg, sizeof(fake.target));
		return 0;
	case VH_K_SCSI_SET_EVENTS_MISSED:
		memcpy(&fake.events_missed, arg, 4);
		return 0;
	case VH_K_SCSI_GET_EVENTS_MISSED:
		memcpy(arg, &fake.events_missed, 4);
		return 0;
	default:
		break;
	}
	return ring_ioctl(req, arg);
}

/* The interposers. */
int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;
	int r;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (fd >= 0 && fd == fake.fd)
		r = fake_ioctl(req, arg);
	else if (fd >= 0 && fd == fake.tap_fd)
		r = tap_ioctl(req, arg);
	else
		return (int)syscall(SYS_ioctl, fd, req, arg);
	if (r < 0) {
		errno = -r;
		return -1;
	}
	return r;
}

ssize_t write(int fd, const void *buf, size_t len)
{
	if (fd < 0 || fd != fake.fd)
		return syscall(SYS_write, fd, buf, len);
	if (len != sizeof(struct vh_k_msg_v2)) {
		errno = EINVAL;
		return -1;
	}
	if ((int)fake.nmsgs == fake.fail_write_at) {
		fake.fail_write_at = -1;
		errno = fake.fail_errno;
		return -1;
	}
	if (fake.nmsgs < FAKE_MAX_MSGS)
		memcpy(&fake.msgs[fake.nmsgs++], buf, len);
	return (ssize_t)len;
}
