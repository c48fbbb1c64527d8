/* SPDX-License-Identifier: MIT */
/*
 * vhost-vdpa against the kernel's vDPA network simulator (vdpa_sim_net,
 * built out of tree by tests/guest/vdpa-modules.sh): create "vdpa0" over
 * the vdpa generic-netlink family, then through /dev/vhost-vdpa-0 read the
 * device id, features, config (the MAC given at creation), ring limits,
 * IOVA range, groups and address spaces; negotiate with the status byte;
 * map the memory table as IOTLB messages at IOVAs that differ from the
 * process addresses (plus one buffer mapped directly), and send one frame
 * on TX that the simulator loops back to RX. Then suspend, GET_VRING_BASE,
 * unmap and reset.
 */
#include <errno.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/vdpa.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vhost/proto.h"
#include "vht.h"

#define DEV_PATH  "/dev/vhost-vdpa-0"
#define IOVA_MEM  UINT64_C(0x40000000)
#define IOVA_RX	  UINT64_C(0x90000000)
#define FRAME_LEN 64
#define HDR_LEN	  12

static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

struct nlreq {
	struct nlmsghdr n;
	struct genlmsghdr g;
	uint8_t attrs[256];
};

static void nl_put(struct nlreq *q, uint16_t type, const void *data, size_t len)
{
	struct nlattr a = {.nla_len = (uint16_t)(NLA_HDRLEN + len),
			   .nla_type = type};
	uint8_t *at = (uint8_t *)q + NLMSG_ALIGN(q->n.nlmsg_len);

	memcpy(at, &a, sizeof(a));
	memcpy(at + NLA_HDRLEN, data, len);
	q->n.nlmsg_len = NLMSG_ALIGN(q->n.nlmsg_len) + NLA_ALIGN(a.nla_len);
}

/* Send @q, read the answer into @buf: its length, or a negative errno
 * (including the kernel's NLMSG_ERROR code). */
static int nl_talk(int s, struct nlreq *q, uint8_t *buf, size_t size)
{
	struct sockaddr_nl to = {.nl_family = AF_NETLINK};
	struct nlmsghdr h;
	struct nlmsgerr e;
	ssize_t n;

	if (sendto(s, q, q->n.nlmsg_len, 0, (struct sockaddr *)&to,
		   sizeof(to)) < 0)
		return -errno;
	n = recv(s, buf, size, 0);
	if (n < (ssize_t)sizeof(h))
		return n < 0 ? -errno : -EPROTO;
	memcpy(&h, buf, sizeof(h));
	if (h.nlmsg_type == NLMSG_ERROR) {
		memcpy(&e, buf + NLMSG_HDRLEN, sizeof(e));
		return e.error;
	}
	return (int)n;
}

/* VDPA_CMD_DEV_NEW name=@name mgmtdev=@mgmt mac=... (what `vdpa dev add`
 * sends). */
static int vdpa_dev_new(const char *mgmt, const char *name)
{
	struct nlreq q;
	uint8_t buf[4096];
	struct nlattr a;
	int s, n, fam = -1;
	size_t off;

	s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (s < 0)
		return -errno;
	memset(&q, 0, sizeof(q));
	q.n.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
	q.n.nlmsg_type = GENL_ID_CTRL;
	q.n.nlmsg_flags = NLM_F_REQUEST;
	q.g.cmd = CTRL_CMD_GETFAMILY;
	q.g.version = 1;
	nl_put(&q, CTRL_ATTR_FAMILY_NAME, VDPA_GENL_NAME,
	       sizeof(VDPA_GENL_NAME));
	n = nl_talk(s, &q, buf, sizeof(buf));
	for (off = NLMSG_LENGTH(GENL_HDRLEN);
	     n > 0 && off + NLA_HDRLEN <= (size_t)n;
	     off += NLA_ALIGN(a.nla_len)) {
		memcpy(&a, buf + off, sizeof(a));
		if (a.nla_len < NLA_HDRLEN)
			break;
		if ((a.nla_type & NLA_TYPE_MASK) == CTRL_ATTR_FAMILY_ID) {
			uint16_t id;

			memcpy(&id, buf + off + NLA_HDRLEN, sizeof(id));
			fam = id;
		}
	}
	if (fam < 0) {
		close(s);
		return n < 0 ? n : -ENOENT;
	}
	memset(&q, 0, sizeof(q));
	q.n.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
	q.n.nlmsg_type = (uint16_t)fam;
	q.n.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	q.g.cmd = VDPA_CMD_DEV_NEW;
	q.g.version = VDPA_GENL_VERSION;
	nl_put(&q, VDPA_ATTR_MGMTDEV_DEV_NAME, mgmt, strlen(mgmt) + 1);
	nl_put(&q, VDPA_ATTR_DEV_NAME, name, strlen(name) + 1);
	nl_put(&q, VDPA_ATTR_DEV_NET_CFG_MACADDR, mac, sizeof(mac));
	n = nl_talk(s, &q, buf, sizeof(buf));
	close(s);
	return n < 0 ? n : 0;
}

static int set_status(struct vh_transport *t, uint8_t add, uint8_t *status)
{
	uint8_t back = 0;
	int r;

	*status |= add;
	r = vh_transport_set_status(t, *status);
	if (r == 0)
		r = vh_transport_get_status(t, &back);
	return r < 0 ? r : back == *status ? 0 : -EIO;
}

int vht_vdpa(int argc, char **argv)
{
	struct vht v;
	struct vht_mem m = {0};
	struct vht_q rx = {.kick = -1, .call = -1},
		     tx = {.kick = -1, .call = -1};
	struct vh_transport *t = NULL;
	struct vh_transport_region reg;
	struct vh_kern_dma rxmap = {0};
	struct vh_drv_buf b[1];
	uint8_t cfg[6] = {0}, status = 0, *rxbuf = MAP_FAILED, *txbuf;
	uint64_t offered = 0, bf = 0, first = 0, last = 0, want;
	uint32_t id = 0, csize = 0, nvqs = 0, ngroups = 0, nas = 0, group = 9,
		 len = 0, base = 0, vsz;
	uint16_t vnum = 0;
	const char *what = "";
	double t0, loop_ms = 0;
	bool mapped = false;
	int fds0 = vht_fd_count(), cfd = -1, r, i;
	void *tok;

	(void)argc;
	vht_begin(&v, argv[0]);
	r = vdpa_dev_new("vdpasim_net", "vdpa0");
	TRY(&v, r == 0, "VDPA_CMD_DEV_NEW vdpasim_net: %s", vh_strerror(r));
	for (i = 0; i < 100 && access(DEV_PATH, F_OK) != 0; i++)
		usleep(20000);
	r = vh_kern_open(&t, VH_KERN_VDPA, DEV_PATH);
	TRY(&v, r == 0, "vh_kern_open(%s): %s", DEV_PATH, vh_strerror(r));
	r = vh_transport_set_owner(t);
	TRY(&v, r == 0, "set_owner: %s", vh_strerror(r));
	r = vh_kern_vdpa_get_device_id(t, &id);
	TRY(&v, r == 0 && id == 1, "GET_DEVICE_ID: %s, %u", vh_strerror(r), id);
	r = vh_transport_get_features(t, &offered);
	TRY(&v, r == 0 && vh_virtio_has(offered, VH_VIRTIO_F_ACCESS_PLATFORM),
	    "get_features: %s, 0x%llx", vh_strerror(r),
	    (unsigned long long)offered);
	r = vh_kern_get_backend_features(t, &bf);
	TRY(&v, r == 0 && (bf & 0x2), "GET_BACKEND_FEATURES: %s, 0x%llx",
	    vh_strerror(r), (unsigned long long)bf);
	r = vh_transport_get_status(t, &status);
	TRY(&v, r == 0 && status == 0, "GET_STATUS: %s, 0x%x", vh_strerror(r),
	    status);
	r = vh_kern_vdpa_get_config_size(t, &csize);
	TRY(&v, r == 0 && csize >= 6, "GET_CONFIG_SIZE: %s, %u", vh_strerror(r),
	    csize);
	r = vh_transport_get_config(t, 0, cfg, sizeof(cfg));
	TRY(&v, r == 0 && memcmp(cfg, mac, 6) == 0,
	    "GET_CONFIG: %s, mac %02x:%02x:%02x:%02x:%02x:%02x", vh_strerror(r),
	    cfg[0], cfg[1], cfg[2], cfg[3], cfg[4], cfg[5]);
	r = vh_kern_vdpa_get_vring_num(t, &vnum);
	TRY(&v, r == 0 && vnum >= 16, "GET_VRING_NUM: %s, %u", vh_strerror(r),
	    vnum);
	r = vh_kern_vdpa_get_vring_size(t, 0, &vsz);
	TRY(&v, r == 0 || r == -EOPNOTSUPP, "GET_VRING_SIZE: %s",
	    vh_strerror(r));
	r = vh_kern_vdpa_get_iova_range(t, &first, &last);
	TRY(&v, r == 0 && first <= IOVA_MEM && last >= IOVA_RX + 4095,
	    "GET_IOVA_RANGE: %s, [0x%llx, 0x%llx]", vh_strerror(r),
	    (unsigned long long)first, (unsigned long long)last);
	r = vh_transport_get_queue_num(t, &nvqs);
	TRY(&v, r == 0 && nvqs >= 2, "GET_VQS_COUNT: %s, %u", vh_strerror(r),
	    nvqs);
	r = vh_kern_vdpa_get_group_num(t, &ngroups);
	TRY(&v, r == 0 && ngroups >= 1, "GET_GROUP_NUM: %s", vh_strerror(r));
	r = vh_kern_vdpa_get_as_num(t, &nas);
	TRY(&v, r == 0 && nas >= 1, "GET_AS_NUM: %s", vh_strerror(r));
	r = vh_kern_vdpa_get_vring_group(t, 0, &group);
	TRY(&v, r == 0 && group < ngroups, "GET_VRING_GROUP(0): %s, %u",
	    vh_strerror(r), group);
	r = vh_kern_vdpa_get_vring_desc_group(t, 0, &group);
	TRY(&v, r == 0 || r == -EOPNOTSUPP, "GET_VRING_DESC_GROUP: %s",
	    vh_strerror(r));

	/* virtio 1.2 §3.1.1: ACKNOWLEDGE, DRIVER, features, FEATURES_OK. */
	r = set_status(t, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER,
		       &status);
	TRY(&v, r == 0, "status ACK|DRIVER: %s", vh_strerror(r));
	want = offered & (vh_virtio_feature_mask(VH_VIRTIO_F_VERSION_1) |
			  vh_virtio_feature_mask(VH_VIRTIO_F_ACCESS_PLATFORM) |
			  (UINT64_C(1) << VIRTIO_NET_F_MAC));
	r = vh_transport_set_features(t, want);
	TRY(&v, r == 0, "set_features 0x%llx: %s", (unsigned long long)want,
	    vh_strerror(r));
	r = set_status(t, VIRTIO_CONFIG_S_FEATURES_OK, &status);
	TRY(&v, r == 0, "status FEATURES_OK not kept: %s", vh_strerror(r));
	if (nas > 1) {
		r = vh_kern_vdpa_set_group_asid(t, group, 0);
		TRY(&v, r == 0, "SET_GROUP_ASID: %s", vh_strerror(r));
	}

	/* Memory: the table becomes IOTLB updates (IOVA 0x40000000), and
	 * the RX buffer is mapped on its own at IOVA 0x90000000. */
	r = vht_mem_init(&m, IOVA_MEM, 1u << 20);
	TRY(&v, r == 0, "mmap: %s", vh_strerror(r));
	reg = vht_region(&m);
	r = vh_transport_set_mem_table(t, &reg, 1);
	TRY(&v, r == 0, "set_mem_table (IOTLB): %s", vh_strerror(r));
	rxbuf = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	TRY(&v, rxbuf != MAP_FAILED, "mmap: %s", strerror(errno));
	rxmap.iova = IOVA_RX;
	rxmap.size = 4096;
	rxmap.uaddr = (uint64_t)(uintptr_t)rxbuf;
	rxmap.perm = VH_KERN_DMA_RW;
	r = vh_kern_dma_map(t, 0, &rxmap, 1);
	TRY(&v, r == 0, "dma_map: %s", vh_strerror(r));
	mapped = true;

	r = vht_q_setup(t, &m, 0, 16, &rx, &what);
	TRY(&v, r == 0, "rx ring: %s: %s", what, vh_strerror(r));
	r = vht_q_setup(t, &m, 1, 16, &tx, &what);
	TRY(&v, r == 0, "tx ring: %s: %s", what, vh_strerror(r));
	for (i = 0; i < 2; i++) {
		r = vh_transport_set_vring_enable(t, (uint32_t)i, true);
		TRY(&v, r == 0, "SET_VRING_ENABLE(%d): %s", i, vh_strerror(r));
	}
	cfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	r = vh_kern_vdpa_set_config_call(t, cfd);
	TRY(&v, r == 0, "SET_CONFIG_CALL: %s", vh_strerror(r));
	r = set_status(t, VIRTIO_CONFIG_S_DRIVER_OK, &status);
	TRY(&v, r == 0, "status DRIVER_OK not kept: %s", vh_strerror(r));

	/* One frame TX -> simulator loopback -> RX. */
	b[0].gpa = IOVA_RX;
	b[0].len = 2048;
	r = vht_q_add(&rx, NULL, 0, b, 1, rxbuf);
	TRY(&v, r == 0, "rx buffer: %s", vh_strerror(r));
	txbuf = vht_alloc(&m, HDR_LEN + FRAME_LEN, 64);
	memset(txbuf + HDR_LEN, 0xff, 6);
	memcpy(txbuf + HDR_LEN + 6, mac, 6);
	txbuf[HDR_LEN + 12] = 0x88;
	txbuf[HDR_LEN + 13] = 0xb5;
	for (i = 14; i < FRAME_LEN; i++)
		txbuf[HDR_LEN + i] = (uint8_t)i;
	b[0].gpa = vht_gpa(&m, txbuf);
	b[0].len = HDR_LEN + FRAME_LEN;
	t0 = vht_now_ms();
	r = vht_q_add(&tx, b, 1, NULL, 0, txbuf);
	TRY(&v, r == 0, "tx add: %s", vh_strerror(r));
	r = vht_q_wait(&tx, &tok, &len, 3000);
	TRY(&v, r == 0, "TX buffer never used: %s", vh_strerror(r));
	r = vht_q_wait(&rx, &tok, &len, 3000);
	loop_ms = vht_now_ms() - t0;
	TRY(&v, r == 0 && tok == rxbuf, "nothing looped back to RX: %s",
	    vh_strerror(r));
	TRY(&v,
	    len == HDR_LEN + FRAME_LEN &&
		memcmp(rxbuf + HDR_LEN, txbuf + HDR_LEN, FRAME_LEN) == 0,
	    "RX: %u bytes, frame %s", len,
	    memcmp(rxbuf + HDR_LEN, txbuf + HDR_LEN, FRAME_LEN) ? "differs"
								: "equal");

	if (bf & (UINT64_C(1) << 4)) { /* VHOST_BACKEND_F_SUSPEND */
		r = vh_kern_vdpa_suspend(t);
		TRY(&v, r == 0, "SUSPEND: %s", vh_strerror(r));
		r = vh_kern_vdpa_resume(t);
		TRY(&v, r == 0 || r == -EOPNOTSUPP, "RESUME: %s",
		    vh_strerror(r));
	}
	r = vh_transport_get_vring_base(t, 1, &base);
	TRY(&v, r == 0 && base == 1, "GET_VRING_BASE(tx): %s, %u",
	    vh_strerror(r), base);
	r = vh_kern_dma_unmap(t, 0, &rxmap, 1);
	TRY(&v, r == 0, "dma_unmap: %s", vh_strerror(r));
	mapped = false;
	r = vh_transport_reset_device(t);
	TRY(&v, r == 0, "reset: %s", vh_strerror(r));
	r = vh_transport_get_status(t, &status);
	TRY(&v, r == 0 && status == 0, "status after reset: 0x%x", status);

out:
	if (mapped)
		(void)vh_kern_dma_unmap(t, 0, &rxmap, 1);
	vh_transport_free(t);
	vht_q_free(&rx);
	vht_q_free(&tx);
	vht_mem_free(&m);
	if (rxbuf != MAP_FAILED)
		munmap(rxbuf, 4096);
	if (cfd >= 0)
		close(cfd);
	if (!v.failed && vht_fd_count() != fds0)
		vht_fail(&v, "fd leak: %d open, %d before", vht_fd_count(),
			 fds0);
	return vht_end(&v,
		       "vdpa_sim_net: id %u, features 0x%llx, backend 0x%llx, "
		       "%u vqs, config %u bytes, IOTLB at IOVA 0x%llx != "
		       "process address, TX->RX loopback %.1f ms",
		       id, (unsigned long long)offered, (unsigned long long)bf,
		       nvqs, csize, (unsigned long long)IOVA_MEM, loop_ms);
}
