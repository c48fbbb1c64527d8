/* SPDX-License-Identifier: MIT */
/*
 * vhost-vsock: this process is the guest (CID 3), the kernel's AF_VSOCK
 * stack the host (CID 2). connect() from the host puts OP_REQUEST in RX
 * ring 0; our OP_RESPONSE on TX ring 1 completes it; "ping" sent by the
 * host arrives as OP_RW; our OP_RW "pong" reaches the host's recv(). The
 * event queue is not vhost's (it stays with the VMM) and is not set up.
 */
#include <errno.h>
#include <linux/virtio_vsock.h>
#include <linux/vm_sockets.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vhost/proto.h"
#include "vht.h"

#define GUEST_CID  3
#define GUEST_PORT 1234
#define RX_BUFS	   16
#define BUF_LEN	   4096
#define GPA_BASE   UINT64_C(0x80000000)

struct vs {
	struct vht v;
	struct vht_mem m;
	struct vht_q rx, tx;
	uint8_t *txbuf[4];
	unsigned ntx;
};

static void hdr_init(struct virtio_vsock_hdr *h, uint32_t host_port,
		     uint16_t op, uint32_t len)
{
	memset(h, 0, sizeof(*h));
	h->src_cid = GUEST_CID;
	h->dst_cid = VMADDR_CID_HOST;
	h->src_port = GUEST_PORT;
	h->dst_port = host_port;
	h->len = len;
	h->type = VIRTIO_VSOCK_TYPE_STREAM;
	h->op = op;
	h->buf_alloc = 65536;
}

/* Take the next packet from the RX ring (header and up to 63 payload
 * bytes), then give the buffer back. */
static int vs_recv(struct vs *s, struct virtio_vsock_hdr *h, char *payload)
{
	struct vh_drv_buf b;
	uint32_t len;
	void *tok;
	int r = vht_q_wait(&s->rx, &tok, &len, 3000);

	if (r < 0)
		return r;
	if (len < sizeof(*h))
		return -EPROTO;
	memcpy(h, tok, sizeof(*h));
	if (payload) {
		size_t n = h->len < 63 ? h->len : 63;

		memcpy(payload, (uint8_t *)tok + sizeof(*h), n);
		payload[n] = '\0';
	}
	b.gpa = vht_gpa(&s->m, tok);
	b.len = BUF_LEN;
	return vht_q_add(&s->rx, NULL, 0, &b, 1, tok);
}

/* Put one packet on the TX ring (header and payload in two descriptors)
 * and wait until the device has used it. */
static int vs_send(struct vs *s, const struct virtio_vsock_hdr *h,
		   const char *payload)
{
	uint8_t *buf = s->txbuf[s->ntx++ % 4];
	struct vh_drv_buf b[2];
	uint32_t len;
	void *tok;
	int r;

	memcpy(buf, h, sizeof(*h));
	b[0].gpa = vht_gpa(&s->m, buf);
	b[0].len = sizeof(*h);
	if (h->len) {
		memcpy(buf + 512, payload, h->len);
		b[1].gpa = vht_gpa(&s->m, buf + 512);
		b[1].len = h->len;
	}
	r = vht_q_add(&s->tx, b, h->len ? 2 : 1, NULL, 0, buf);
	if (r == 0)
		r = vht_q_wait(&s->tx, &tok, &len, 3000);
	return r;
}

int vht_vsock(int argc, char **argv)
{
	struct vs s;
	struct vh_transport *t = NULL;
	struct vh_transport_region reg;
	struct virtio_vsock_hdr h;
	struct sockaddr_vm sa;
	struct pollfd p;
	struct vh_drv_buf b;
	uint64_t offered = 0;
	char payload[64], in[16];
	const char *what = "";
	double t0, conn_ms = 0;
	int fds0 = vht_fd_count(), sock = -1, r, err = -1, i;
	socklen_t el = sizeof(err);
	uint32_t host_port = 0;
	bool got_rw = false;
	ssize_t n;

	(void)argc;
	memset(&s, 0, sizeof(s));
	s.rx.kick = s.rx.call = s.tx.kick = s.tx.call = -1;
	vht_begin(&s.v, argv[0]);
	r = vh_kern_open(&t, VH_KERN_VSOCK, NULL);
	TRY(&s.v, r == 0, "vh_kern_open(/dev/vhost-vsock): %s", vh_strerror(r));
	r = vh_transport_set_owner(t);
	TRY(&s.v, r == 0, "set_owner: %s", vh_strerror(r));
	r = vh_transport_get_features(t, &offered);
	TRY(&s.v, r == 0 && vh_virtio_has(offered, VH_VIRTIO_F_VERSION_1),
	    "get_features: %s, 0x%llx", vh_strerror(r),
	    (unsigned long long)offered);
	r = vh_transport_set_features(
	    t, vh_virtio_feature_mask(VH_VIRTIO_F_VERSION_1));
	TRY(&s.v, r == 0, "set_features: %s", vh_strerror(r));
	r = vh_kern_vsock_set_guest_cid(t, GUEST_CID);
	TRY(&s.v, r == 0, "set_guest_cid(3): %s", vh_strerror(r));

	r = vht_mem_init(&s.m, GPA_BASE, 1u << 20);
	TRY(&s.v, r == 0, "mmap: %s", vh_strerror(r));
	reg = vht_region(&s.m);
	r = vh_transport_set_mem_table(t, &reg, 1);
	TRY(&s.v, r == 0, "set_mem_table: %s", vh_strerror(r));
	r = vht_q_setup(t, &s.m, 0, 64, &s.rx, &what);
	TRY(&s.v, r == 0, "rx ring: %s: %s", what, vh_strerror(r));
	r = vht_q_setup(t, &s.m, 1, 64, &s.tx, &what);
	TRY(&s.v, r == 0, "tx ring: %s: %s", what, vh_strerror(r));
	for (i = 0; i < RX_BUFS; i++) {
		uint8_t *buf = vht_alloc(&s.m, BUF_LEN, 64);

		b.gpa = vht_gpa(&s.m, buf);
		b.len = BUF_LEN;
		r = vht_q_add(&s.rx, NULL, 0, &b, 1, buf);
		TRY(&s.v, r == 0, "rx buffer: %s", vh_strerror(r));
	}
	for (i = 0; i < 4; i++)
		s.txbuf[i] = vht_alloc(&s.m, BUF_LEN, 64);
	r = vh_kern_vsock_set_running(t, true);
	TRY(&s.v, r == 0, "set_running(1): %s", vh_strerror(r));

	/* The host connects to the guest. */
	sock = socket(AF_VSOCK, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	TRY(&s.v, sock >= 0, "socket(AF_VSOCK): %s", strerror(errno));
	memset(&sa, 0, sizeof(sa));
	sa.svm_family = AF_VSOCK;
	sa.svm_cid = GUEST_CID;
	sa.svm_port = GUEST_PORT;
	t0 = vht_now_ms();
	r = connect(sock, (struct sockaddr *)&sa, sizeof(sa));
	TRY(&s.v, r == 0 || errno == EINPROGRESS, "connect: %s",
	    strerror(errno));
	r = vs_recv(&s, &h, NULL);
	TRY(&s.v, r == 0, "no OP_REQUEST in the RX ring: %s", vh_strerror(r));
	TRY(&s.v,
	    h.op == VIRTIO_VSOCK_OP_REQUEST && h.dst_cid == GUEST_CID &&
		h.dst_port == GUEST_PORT && h.src_cid == VMADDR_CID_HOST,
	    "expected OP_REQUEST to 3:%d, got op %u to %llu:%u", GUEST_PORT,
	    h.op, (unsigned long long)h.dst_cid, h.dst_port);
	host_port = h.src_port;
	hdr_init(&h, host_port, VIRTIO_VSOCK_OP_RESPONSE, 0);
	r = vs_send(&s, &h, NULL);
	TRY(&s.v, r == 0, "OP_RESPONSE not used: %s", vh_strerror(r));
	p.fd = sock;
	p.events = POLLOUT;
	TRY(&s.v, poll(&p, 1, 3000) == 1, "connect did not complete");
	getsockopt(sock, SOL_SOCKET, SO_ERROR, &err, &el);
	conn_ms = vht_now_ms() - t0;
	TRY(&s.v, err == 0, "connect: %s", strerror(err));

	/* Host to guest. */
	TRY(&s.v, send(sock, "ping", 4, 0) == 4, "send: %s", strerror(errno));
	for (i = 0; i < 4 && !got_rw; i++) { /* CREDIT_UPDATE may come first */
		r = vs_recv(&s, &h, payload);
		TRY(&s.v, r == 0, "no OP_RW in the RX ring: %s",
		    vh_strerror(r));
		got_rw = h.op == VIRTIO_VSOCK_OP_RW && h.len == 4 &&
			 memcmp(payload, "ping", 4) == 0;
	}
	TRY(&s.v, got_rw, "the host's \"ping\" never reached the RX ring");

	/* Guest to host. */
	hdr_init(&h, host_port, VIRTIO_VSOCK_OP_RW, 4);
	r = vs_send(&s, &h, "pong");
	TRY(&s.v, r == 0, "OP_RW not used: %s", vh_strerror(r));
	p.events = POLLIN;
	memset(in, 0, sizeof(in));
	n = poll(&p, 1, 3000) == 1 ? recv(sock, in, sizeof(in) - 1, 0) : -1;
	TRY(&s.v, n == 4 && strcmp(in, "pong") == 0,
	    "the host's recv got %zd bytes '%s'", n, in);
	r = vh_kern_vsock_set_running(t, false);
	TRY(&s.v, r == 0, "set_running(0): %s", vh_strerror(r));

out:
	if (sock >= 0)
		close(sock);
	vh_transport_free(t);
	vht_q_free(&s.rx);
	vht_q_free(&s.tx);
	vht_mem_free(&s.m);
	if (!s.v.failed && vht_fd_count() != fds0)
		vht_fail(&s.v, "fd leak: %d open, %d before", vht_fd_count(),
			 fds0);
	return vht_end(&s.v,
		       "host connect()ed to CID 3 in %.1f ms; ping/pong both "
		       "ways through the rings",
		       conn_ms);
}
