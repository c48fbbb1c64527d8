/* SPDX-License-Identifier: MIT */
/*
 * vhost-scsi against a LIO target (init.sh builds it in configfs: a fileio
 * backstore on IMG, exported through the vhost fabric as WWPN/tpgt_TPGT/
 * lun_0). Rings 0 control, 1 event, 2 requests. Through the request ring:
 * TEST UNIT READY, INQUIRY, READ CAPACITY(10), READ(10) of two blocks with
 * the pattern checked, WRITE(10) checked in the file itself and read back.
 * virtio-scsi LUN bytes are {1, tpgt, 0x40 | lun >> 8, lun & 0xff}, and
 * vhost-scsi writes used.len 0 even for reads: the data is checked, not the
 * length. Around them: SET_ENDPOINT of an unknown WWPN (ENODEV) and a
 * second one (EEXIST); then the events-missed flag, CLEAR_ENDPOINT and
 * GET_VRING_BASE.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/virtio_scsi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vhost/proto.h"
#include "vht.h"

#define IMG_SIZE (8u << 20)
#define GPA_BASE UINT64_C(0xc0000000)
#define BLK	 512u

static uint8_t pattern(uint64_t off)
{
	return (uint8_t)((off >> 9) * 7 + (off & 511) * 13 + 0x5a);
}

int vht_scsi_mkimg(int argc, char **argv)
{
	static uint8_t buf[65536];
	uint64_t off;
	size_t i;
	int fd;

	if (argc < 2)
		return 2;
	fd = open(argv[1], O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	for (off = 0; off < IMG_SIZE; off += sizeof(buf)) {
		for (i = 0; i < sizeof(buf); i++)
			buf[i] = pattern(off + i);
		if (pwrite(fd, buf, sizeof(buf), (off_t)off) !=
		    (ssize_t)sizeof(buf)) {
			perror("pwrite");
			close(fd);
			return 1;
		}
	}
	close(fd);
	return 0;
}

struct scsi {
	struct vht v;
	struct vht_mem m;
	struct vht_q q[3];
	struct virtio_scsi_cmd_req *req;
	struct virtio_scsi_cmd_resp *resp;
	uint8_t *data;
	uint8_t tpgt;
	uint64_t tag;
	unsigned done;
};

enum { DIR_NONE, DIR_FROM_DEV, DIR_TO_DEV };

/* One command on the request ring; 0 with resp filled, or an errno. */
static int cmd(struct scsi *s, const uint8_t *cdb, size_t cdblen, int dir,
	       uint32_t dlen)
{
	struct vh_drv_buf out[2], in[2];
	unsigned nout = 1, nin = 0;
	uint32_t len;
	void *tok;
	int r;

	memset(s->req, 0, sizeof(*s->req));
	s->req->lun[0] = 1;
	s->req->lun[1] = s->tpgt;
	s->req->lun[2] = 0x40; /* LUN 0, flat addressing */
	s->req->tag = ++s->tag;
	s->req->task_attr = VIRTIO_SCSI_S_SIMPLE;
	memcpy(s->req->cdb, cdb, cdblen);
	memset(s->resp, 0xee, sizeof(*s->resp));
	out[0].gpa = vht_gpa(&s->m, s->req);
	out[0].len = sizeof(*s->req);
	if (dir == DIR_TO_DEV) {
		out[1].gpa = vht_gpa(&s->m, s->data);
		out[1].len = dlen;
		nout = 2;
	}
	in[0].gpa = vht_gpa(&s->m, s->resp);
	in[0].len = sizeof(*s->resp);
	nin = 1;
	if (dir == DIR_FROM_DEV) {
		in[1].gpa = vht_gpa(&s->m, s->data);
		in[1].len = dlen;
		nin = 2;
	}
	r = vht_q_add(&s->q[2], out, nout, in, nin, s->req);
	if (r == 0)
		r = vht_q_wait(&s->q[2], &tok, &len, 5000);
	if (r == 0)
		s->done++;
	return r;
}

static bool ok(const struct scsi *s)
{
	return s->resp->response == VIRTIO_SCSI_S_OK && s->resp->status == 0;
}

#define CMD(s, cdb, dir, dlen, name)                                   \
	do {                                                           \
		int r_ = cmd((s), (cdb), sizeof(cdb), (dir), (dlen));  \
		TRY(&(s)->v, r_ == 0, "%s: no completion: %s", (name), \
		    vh_strerror(r_));                                  \
	} while (0)

static bool block_is(const uint8_t *p, unsigned lba, uint8_t xor_with, bool pat)
{
	unsigned i;

	for (i = 0; i < BLK; i++)
		if (p[i] != (pat ? pattern((uint64_t)lba * BLK + i)
				 : (uint8_t)(xor_with ^ i)))
			return false;
	return true;
}

int vht_scsi(int argc, char **argv)
{
	static const uint8_t tur[6] = {0x00};
	static const uint8_t inq[6] = {0x12, 0, 0, 0, 96, 0};
	static const uint8_t cap[10] = {0x25};
	static const uint8_t rd0[10] = {0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0};
	static const uint8_t rd7[10] = {0x28, 0, 0, 0, 0, 7, 0, 0, 1, 0};
	static const uint8_t rd3[10] = {0x28, 0, 0, 0, 0, 3, 0, 0, 1, 0};
	static const uint8_t wr3[10] = {0x2a, 0, 0, 0, 0, 3, 0, 0, 1, 0};
	struct scsi s;
	struct vh_transport *t = NULL;
	struct vh_transport_region reg;
	struct vh_drv_buf b;
	const char *img = NULL, *wwpn = NULL, *what = "";
	uint8_t file[BLK];
	uint32_t last, bs, base = 0;
	uint64_t offered = 0;
	bool missed = false, endpoint = false;
	int fds0 = vht_fd_count(), abi = -1, fd, r, i;
	char vendor[9] = "", product[17] = "";

	memset(&s, 0, sizeof(s));
	for (i = 0; i < 3; i++)
		s.q[i].kick = s.q[i].call = -1;
	vht_begin(&s.v, argv[0]);
	TRY(&s.v, argc >= 4, "usage: scsi IMG WWPN TPGT");
	img = argv[1];
	wwpn = argv[2];
	s.tpgt = (uint8_t)atoi(argv[3]);

	r = vh_kern_open(&t, VH_KERN_SCSI, NULL);
	TRY(&s.v, r == 0, "vh_kern_open(/dev/vhost-scsi): %s", vh_strerror(r));
	r = vh_transport_set_owner(t);
	TRY(&s.v, r == 0, "set_owner: %s", vh_strerror(r));
	r = vh_kern_scsi_get_abi_version(t, &abi);
	TRY(&s.v, r == 0 && abi == 1, "GET_ABI_VERSION: %s, %d", vh_strerror(r),
	    abi);
	r = vh_transport_get_features(t, &offered);
	TRY(&s.v, r == 0 && vh_virtio_has(offered, VH_VIRTIO_F_VERSION_1),
	    "get_features: %s", vh_strerror(r));
	r = vh_transport_set_features(
	    t, vh_virtio_feature_mask(VH_VIRTIO_F_VERSION_1));
	TRY(&s.v, r == 0, "set_features: %s", vh_strerror(r));
	r = vht_mem_init(&s.m, GPA_BASE, 1u << 20);
	TRY(&s.v, r == 0, "mmap: %s", vh_strerror(r));
	reg = vht_region(&s.m);
	r = vh_transport_set_mem_table(t, &reg, 1);
	TRY(&s.v, r == 0, "set_mem_table: %s", vh_strerror(r));
	for (i = 0; i < 3; i++) {
		r = vht_q_setup(t, &s.m, (uint32_t)i, 32, &s.q[i], &what);
		TRY(&s.v, r == 0, "ring %d: %s: %s", i, what, vh_strerror(r));
	}
	for (i = 0; i < 4; i++) { /* event buffers */
		uint8_t *ev =
		    vht_alloc(&s.m, sizeof(struct virtio_scsi_event), 16);

		b.gpa = vht_gpa(&s.m, ev);
		b.len = sizeof(struct virtio_scsi_event);
		r = vht_q_add(&s.q[1], NULL, 0, &b, 1, ev);
		TRY(&s.v, r == 0, "event buffer: %s", vh_strerror(r));
	}
	s.req = vht_alloc(&s.m, sizeof(*s.req), 64);
	s.resp = vht_alloc(&s.m, sizeof(*s.resp), 64);
	s.data = vht_alloc(&s.m, 4096, 4096);

	r = vh_kern_scsi_set_endpoint(t, "naa.5001405999999999", s.tpgt);
	TRY(&s.v, r == -ENODEV, "SET_ENDPOINT of a WWPN LIO lacks: %s",
	    vh_strerror(r));
	r = vh_kern_scsi_set_endpoint(t, wwpn, s.tpgt);
	TRY(&s.v, r == 0, "SET_ENDPOINT(%s, %u): %s", wwpn, s.tpgt,
	    vh_strerror(r));
	endpoint = true;
	r = vh_kern_scsi_set_endpoint(t, wwpn, s.tpgt);
	TRY(&s.v, r == -EEXIST, "a second SET_ENDPOINT: %s", vh_strerror(r));

	CMD(&s, tur, DIR_NONE, 0, "TEST UNIT READY");
	if (s.resp->status == 0x02) /* UNIT ATTENTION after the nexus */
		CMD(&s, tur, DIR_NONE, 0, "TEST UNIT READY again");
	TRY(&s.v, ok(&s), "TEST UNIT READY: response %u status 0x%x",
	    s.resp->response, s.resp->status);

	memset(s.data, 0, 96);
	CMD(&s, inq, DIR_FROM_DEV, 96, "INQUIRY");
	memcpy(vendor, s.data + 8, 8);
	memcpy(product, s.data + 16, 16);
	for (i = 15; i >= 0 && product[i] == ' '; i--)
		product[i] = '\0';
	for (i = 7; i >= 0 && vendor[i] == ' '; i--)
		vendor[i] = '\0';
	TRY(&s.v,
	    ok(&s) && (s.data[0] & 0x1f) == 0 &&
		strncmp(vendor, "LIO-ORG", 7) == 0,
	    "INQUIRY: response %u status 0x%x type %u vendor '%s'",
	    s.resp->response, s.resp->status, s.data[0] & 0x1f, vendor);

	memset(s.data, 0, 8);
	CMD(&s, cap, DIR_FROM_DEV, 8, "READ CAPACITY(10)");
	last = (uint32_t)s.data[0] << 24 | (uint32_t)s.data[1] << 16 |
	       (uint32_t)s.data[2] << 8 | s.data[3];
	bs = (uint32_t)s.data[4] << 24 | (uint32_t)s.data[5] << 16 |
	     (uint32_t)s.data[6] << 8 | s.data[7];
	TRY(&s.v, ok(&s) && bs == BLK && (uint64_t)(last + 1) * bs == IMG_SIZE,
	    "READ CAPACITY: last lba %u, block %u", last, bs);

	memset(s.data, 0, BLK);
	CMD(&s, rd0, DIR_FROM_DEV, BLK, "READ(10) lba 0");
	TRY(&s.v, ok(&s) && block_is(s.data, 0, 0, true),
	    "READ(10) lba 0: status 0x%x, data %s", s.resp->status,
	    block_is(s.data, 0, 0, true) ? "ok" : "differs");
	memset(s.data, 0, BLK);
	CMD(&s, rd7, DIR_FROM_DEV, BLK, "READ(10) lba 7");
	TRY(&s.v, ok(&s) && block_is(s.data, 7, 0, true),
	    "READ(10) lba 7: data differs from the pattern");

	for (i = 0; i < (int)BLK; i++)
		s.data[i] = (uint8_t)(0xa5 ^ i);
	CMD(&s, wr3, DIR_TO_DEV, BLK, "WRITE(10) lba 3");
	TRY(&s.v, ok(&s), "WRITE(10): status 0x%x", s.resp->status);
	fd = open(img, O_RDONLY | O_CLOEXEC);
	TRY(&s.v, fd >= 0, "open %s: %s", img, strerror(errno));
	r = (int)pread(fd, file, BLK, 3 * BLK);
	close(fd);
	TRY(&s.v, r == (int)BLK && block_is(file, 3, 0xa5, false),
	    "WRITE(10): the backing file's block 3 does not hold the data");
	memset(s.data, 0, BLK);
	CMD(&s, rd3, DIR_FROM_DEV, BLK, "READ(10) lba 3");
	TRY(&s.v, ok(&s) && block_is(s.data, 3, 0xa5, false),
	    "READ(10) lba 3: not the data just written");

	r = vh_kern_scsi_set_events_missed(t, true);
	TRY(&s.v, r == 0, "SET_EVENTS_MISSED: %s", vh_strerror(r));
	r = vh_kern_scsi_get_events_missed(t, &missed);
	TRY(&s.v, r == 0 && missed, "GET_EVENTS_MISSED: %s, %d", vh_strerror(r),
	    missed);
	(void)vh_kern_scsi_set_events_missed(t, false);

	r = vh_kern_scsi_clear_endpoint(t, wwpn, s.tpgt);
	TRY(&s.v, r == 0, "CLEAR_ENDPOINT: %s", vh_strerror(r));
	endpoint = false;
	r = vh_transport_get_vring_base(t, 2, &base);
	TRY(&s.v, r == 0 && base == s.done,
	    "GET_VRING_BASE(2): %s, %u, want %u", vh_strerror(r), base, s.done);

out:
	if (endpoint)
		(void)vh_kern_scsi_clear_endpoint(t, wwpn, s.tpgt);
	vh_transport_free(t);
	for (i = 0; i < 3; i++)
		vht_q_free(&s.q[i]);
	vht_mem_free(&s.m);
	if (!s.v.failed && vht_fd_count() != fds0)
		vht_fail(&s.v, "fd leak: %d open, %d before", vht_fd_count(),
			 fds0);
	return vht_end(&s.v,
		       "%s/tpgt_%u: INQUIRY '%s %s', READ CAPACITY, READ(10) "
		       "x3 and WRITE(10) checked, %u requests, endpoint "
		       "cleared",
		       wwpn ? wwpn : "-", s.tpgt, vendor, product, s.done);
}
