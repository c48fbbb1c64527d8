/* SPDX-License-Identifier: MIT */
/* lib/conn: hostile and broken peers. Every case checks the errno, that no
 * fd is left behind (count of /proc/self/fd) and that nfds is 0. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/resource.h>

#include <cmocka.h>

#include "conn_test.h"

/* A raw peer fd and a receiving conn with @opts. */
struct bench {
	int peer;
	struct vh_conn *rx;
	int fds[16]; /* fds the test sends; owned by the test */
	unsigned nfds;
	int base; /* open fds once everything above exists */
};

static struct vhost_user_msg in;

static void bench_open(struct bench *b, const struct vh_conn_opts *opts,
		       unsigned nfds)
{
	int sv[2];
	unsigned i;

	assert_int_equal(make_pair(sv), 0);
	b->peer = sv[0];
	assert_int_equal(vh_conn_new(&b->rx, sv[1], opts), 0);
	b->nfds = nfds;
	for (i = 0; i < nfds; i++) {
		b->fds[i] = i % 2 ? eventfd(0, EFD_CLOEXEC) : make_memfd("x");
		assert_true(b->fds[i] >= 0);
	}
	b->base = count_fds();
	memset(&in, 0x5a, sizeof(in));
	last_log[0] = 0;
}

/* The second lowest free fd number: fds are allocated lowest first. */
static int second_free_fd(void)
{
	int fd, seen = 0;

	for (fd = 0;; fd++)
		if (!fd_is_open(fd) && ++seen == 2)
			return fd;
}

/* The failed receive left no fd open, and the message holds none. */
static void assert_nothing_leaked(struct bench *b)
{
	assert_int_equal(in.nfds, 0);
	assert_int_equal(count_fds(), b->base);
}

static void bench_close(struct bench *b)
{
	unsigned i;

	for (i = 0; i < b->nfds; i++)
		close(b->fds[i]);
	if (b->peer >= 0)
		close(b->peer);
	vh_conn_free(b->rx);
}

static void send_hdr(struct bench *b, uint32_t req, uint32_t size,
		     unsigned nfds)
{
	uint8_t h[VHOST_USER_HDR_SIZE];

	raw_hdr(h, req, size);
	assert_int_equal(raw_send(b->peer, h, sizeof(h), b->fds, nfds),
			 sizeof(h));
}

static void send_bytes(struct bench *b, size_t len, const int *fds,
		       unsigned nfds)
{
	static uint8_t bytes[8192];

	assert_true(len <= sizeof(bytes));
	assert_int_equal(raw_send(b->peer, bytes, len, fds, nfds), len);
}

static int unread_bytes(struct bench *b)
{
	int n = -1;

	assert_int_equal(ioctl(vh_conn_fd(b->rx), FIONREAD, &n), 0);
	return n;
}

/* Checked before a payload byte is read: the bytes stay in the socket and
 * the buffer is untouched; the fds that came with the header are closed. */
static void payload_over_default_limit_is_refused_unread(void **state)
{
	struct bench b;

	(void)state;
	bench_open(&b, NULL, 2);
	send_hdr(&b, VHOST_USER_SET_MEM_TABLE, VHOST_USER_MAX_PAYLOAD + 1, 2);
	send_bytes(&b, VHOST_USER_MAX_PAYLOAD + 1, NULL, 0);
	assert_int_equal(vh_conn_recv(b.rx, &in, 1000), -EMSGSIZE);
	assert_nothing_leaked(&b);
	assert_int_equal(unread_bytes(&b), VHOST_USER_MAX_PAYLOAD + 1);
	assert_int_equal(in.payload.raw[0], 0x5a);
	assert_int_equal(in.hdr.size, VHOST_USER_MAX_PAYLOAD + 1);
	assert_non_null(strstr(last_log, "request 5"));
	bench_close(&b);
}

static void payload_over_configured_limit_is_refused_unread(void **state)
{
	struct vh_conn_opts o = {.max_payload = 64};
	struct bench b;

	(void)state;
	bench_open(&b, &o, 0);
	send_hdr(&b, VHOST_USER_SET_CONFIG, 65, 0);
	send_bytes(&b, 65, NULL, 0);
	assert_int_equal(vh_conn_recv(b.rx, &in, 1000), -EMSGSIZE);
	assert_nothing_leaked(&b);
	assert_int_equal(unread_bytes(&b), 65);
	assert_int_equal(in.payload.raw[0], 0x5a);
	bench_close(&b);
}

static void nine_fds_are_refused_and_all_closed(void **state)
{
	struct bench b;

	(void)state;
	bench_open(&b, NULL, 9);
	send_hdr(&b, VHOST_USER_SET_MEM_TABLE, 0, 9);
	assert_int_equal(vh_conn_recv(b.rx, &in, 1000), -EBADMSG);
	assert_nothing_leaked(&b);
	bench_close(&b);
}

static void fds_over_configured_limit_are_refused(void **state)
{
	struct vh_conn_opts o = {.max_fds = 2};
	struct bench b;

	(void)state;
	bench_open(&b, &o, 3);
	send_hdr(&b, VHOST_USER_SET_VRING_CALL, 0, 3);
	assert_int_equal(vh_conn_recv(b.rx, &in, 1000), -EBADMSG);
	assert_nothing_leaked(&b);
	assert_non_null(strstr(last_log, "request 13"));
	bench_close(&b);
}

/* 5 fds with the header and 4 with the payload: 9 in one message. */
static void fds_split_over_header_and_payload_are_bounded(void **state)
{
	struct bench b;

	(void)state;
	bench_open(&b, NULL, 9);
	send_hdr(&b, VHOST_USER_SET_MEM_TABLE, 40, 5);
	send_bytes(&b, 40, b.fds + 5, 4);
	assert_int_equal(vh_conn_recv(b.rx, &in, 1000), -EBADMSG);
	assert_nothing_leaked(&b);
	bench_close(&b);
}

/* Room for max_fds + 1: with max_fds 2, four fds overflow the control
 * buffer, the kernel drops one and flags MSG_CTRUNC. */
static void truncated_control_data_closes_every_fd(void **state)
{
	struct vh_conn_opts o = {.max_fds = 2};
	struct bench b;

	(void)state;
	bench_open(&b, &o, 4);
	send_hdr(&b, VHOST_USER_SET_MEM_TABLE, 0, 4);
	assert_int_equal(vh_conn_recv(b.rx, &in, 1000), -EPROTO);
	assert_nothing_leaked(&b);
	assert_non_null(strstr(last_log, "truncated"));
	bench_close(&b);
}

/* The kernel stops installing fds when the process hits RLIMIT_NOFILE and
 * flags MSG_CTRUNC: the ones that did arrive are closed. */
static void running_out_of_fds_closes_those_that_arrived(void **state)
{
	struct rlimit old, low;
	struct bench b;
	int r;

	(void)state;
	bench_open(&b, NULL, 4);
	send_hdr(&b, VHOST_USER_SET_MEM_TABLE, 0, 4);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = (rlim_t)second_free_fd() + 1; /* room for two of 4 */
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	r = vh_conn_recv(b.rx, &in, 1000);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	assert_int_equal(r, -EPROTO);
	assert_nothing_leaked(&b);
	bench_close(&b);
}

static void peer_closing_mid_header_is_eproto(void **state)
{
	struct bench b;

	(void)state;
	bench_open(&b, NULL, 1);
	send_bytes(&b, 5, b.fds, 1);
	close(b.peer);
	b.peer = -1;
	b.base--;
	assert_int_equal(vh_conn_recv(b.rx, &in, 1000), -EPROTO);
	assert_nothing_leaked(&b);
	bench_close(&b);
}

static void peer_closing_mid_payload_is_eproto(void **state)
{
	struct bench b;

	(void)state;
	bench_open(&b, NULL, 2);
	send_hdr(&b, VHOST_USER_SET_VRING_ADDR, 40, 2);
	send_bytes(&b, 10, NULL, 0);
	close(b.peer);
	b.peer = -1;
	b.base--;
	assert_int_equal(vh_conn_recv(b.rx, &in, 1000), -EPROTO);
	assert_nothing_leaked(&b);
	assert_non_null(strstr(last_log, "request 9"));
	bench_close(&b);
}

static void peer_closing_at_a_boundary_is_econnreset(void **state)
{
	struct bench b;

	(void)state;
	bench_open(&b, NULL, 0);
	send_hdr(&b, VHOST_USER_GET_FEATURES, 0, 0);
	close(b.peer);
	b.peer = -1;
	b.base--;
	assert_int_equal(vh_conn_recv(b.rx, &in, 1000), 0);
	assert_int_equal(vh_conn_recv(b.rx, &in, 1000), -ECONNRESET);
	assert_int_equal(vh_conn_recv(b.rx, &in, -1), -ECONNRESET);
	assert_nothing_leaked(&b);
	bench_close(&b);
}

/* Stalls are timed against msg_timeout_ms = 100. */
static void assert_times_out(struct bench *b)
{
	int64_t t = now_ms();

	assert_int_equal(vh_conn_recv(b->rx, &in, 1000), -ETIMEDOUT);
	t = now_ms() - t;
	assert_true(t >= 99);
	assert_true(t < 1000);
	assert_nothing_leaked(b);
}

static void peer_stalling_mid_header_times_out(void **state)
{
	struct vh_conn_opts o = {.msg_timeout_ms = 100};
	struct bench b;

	(void)state;
	bench_open(&b, &o, 1);
	send_bytes(&b, 5, b.fds, 1);
	assert_times_out(&b);
	bench_close(&b);
}

static void peer_stalling_mid_payload_times_out(void **state)
{
	struct vh_conn_opts o = {.msg_timeout_ms = 100};
	struct bench b;

	(void)state;
	bench_open(&b, &o, 3);
	send_hdr(&b, VHOST_USER_SET_MEM_TABLE, 4096, 3);
	send_bytes(&b, 100, NULL, 0);
	assert_times_out(&b);
	assert_non_null(strstr(last_log, "request 5"));
	bench_close(&b);
}

/* Even with wait_ms -1 on a blocking socket, a started message is bounded. */
static void stall_is_bounded_when_waiting_forever(void **state)
{
	struct vh_conn_opts o = {.msg_timeout_ms = 100};
	struct bench b;
	int64_t t;

	(void)state;
	bench_open(&b, &o, 0);
	send_bytes(&b, 7, NULL, 0);
	t = now_ms();
	assert_int_equal(vh_conn_recv(b.rx, &in, -1), -ETIMEDOUT);
	assert_true(now_ms() - t < 1000);
	assert_nothing_leaked(&b);
	bench_close(&b);
}

/* A peer that trickles a byte every 30 ms cannot stretch the timeout: it
 * runs from the first stall and is never renewed (renewed, this would take
 * 10 x 30 + 100 ms). */
static void trickling_peer_cannot_extend_the_timeout(void **state)
{
	struct vh_conn_opts o = {.msg_timeout_ms = 100};
	static const uint8_t bytes[10];
	struct chunk ch[10];
	struct peer peer = {.chunks = ch, .nchunks = 10, .close_delay_ms = -1};
	struct bench b;
	int64_t t;
	unsigned i;

	(void)state;
	bench_open(&b, &o, 0);
	for (i = 0; i < 10; i++)
		ch[i] =
		    (struct chunk){.buf = bytes + i, .len = 1, .delay_ms = 30};
	send_hdr(&b, VHOST_USER_SET_VRING_ADDR, 40, 0);
	peer.fd = b.peer; /* the thread owns it now; peer_join closes it */
	b.peer = -1;
	assert_int_equal(peer_start(&peer), 0);
	t = now_ms();
	assert_int_equal(vh_conn_recv(b.rx, &in, 1000), -ETIMEDOUT);
	t = now_ms() - t;
	assert_true(t >= 99);
	assert_true(t < 250);
	peer_join(&peer);
	b.base--;
	assert_nothing_leaked(&b);
	bench_close(&b);
}

static void conn_new_refuses_what_is_not_a_connected_stream(void **state)
{
	struct vh_conn_opts bad = {.max_payload = VHOST_USER_MAX_PAYLOAD + 1};
	struct vh_conn *c = (struct vh_conn *)&c;
	int base = count_fds(), p[2], sv[2], fd;

	(void)state;
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(vh_conn_new(&c, p[0], NULL), -ENOTSOCK);
	assert_null(c);
	assert_false(fd_is_open(p[0])); /* ownership taken on failure too */
	close(p[1]);

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_int_equal(vh_conn_new(&c, fd, NULL), -EINVAL);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(vh_conn_new(&c, fd, NULL), -ENOTCONN);

	assert_int_equal(make_pair(sv), 0);
	assert_int_equal(vh_conn_new(&c, sv[0], &bad), -EINVAL);
	bad = (struct vh_conn_opts){.max_fds = VHOST_USER_MAX_FDS + 1};
	assert_int_equal(vh_conn_new(&c, sv[1], &bad), -EINVAL);
	assert_int_equal(count_fds(), base);
}

/* Read and drop @len bytes from @fd (1 s at most). */
static int read_all(int fd, size_t len)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	uint8_t buf[256];

	while (len && poll(&p, 1, 1000) == 1) {
		ssize_t n =
		    read(fd, buf, len < sizeof(buf) ? len : sizeof(buf));

		if (n <= 0)
			return -1;
		len -= (size_t)n;
	}
	return len ? -1 : 0;
}

static void send_refuses_oversized_payload_and_too_many_fds(void **state)
{
	struct vh_conn_opts o = {.max_payload = 64};
	static struct vhost_user_msg out;
	struct vh_conn *tx;
	int sv[2];

	(void)state;
	assert_int_equal(make_pair(sv), 0);
	assert_int_equal(vh_conn_new(&tx, sv[0], &o), 0);
	/* max_payload bounds what is accepted, not what is sent. */
	fill_msg(&out, VHOST_USER_SET_CONFIG, 65, 0);
	assert_int_equal(vh_conn_send(tx, &out), 0);
	assert_int_equal(read_all(sv[1], 12 + 65), 0);
	out.hdr.size = VHOST_USER_MAX_PAYLOAD + 1;
	assert_int_equal(vh_conn_send(tx, &out), -EMSGSIZE);
	fill_msg(&out, VHOST_USER_SET_MEM_TABLE, 0, 0);
	out.nfds = VHOST_USER_MAX_FDS + 1;
	assert_int_equal(vh_conn_send(tx, &out), -EINVAL);
	/* Nothing reached the peer. */
	assert_int_equal(recv(sv[1], &out, 1, MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);
	close(sv[1]);
	vh_conn_free(tx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(payload_over_default_limit_is_refused_unread),
	    cmocka_unit_test(payload_over_configured_limit_is_refused_unread),
	    cmocka_unit_test(nine_fds_are_refused_and_all_closed),
	    cmocka_unit_test(fds_over_configured_limit_are_refused),
	    cmocka_unit_test(fds_split_over_header_and_payload_are_bounded),
	    cmocka_unit_test(truncated_control_data_closes_every_fd),
	    cmocka_unit_test(running_out_of_fds_closes_those_that_arrived),
	    cmocka_unit_test(peer_closing_mid_header_is_eproto),
	    cmocka_unit_test(peer_closing_mid_payload_is_eproto),
	    cmocka_unit_test(peer_closing_at_a_boundary_is_econnreset),
	    cmocka_unit_test(peer_stalling_mid_header_times_out),
	    cmocka_unit_test(peer_stalling_mid_payload_times_out),
	    cmocka_unit_test(stall_is_bounded_when_waiting_forever),
	    cmocka_unit_test(trickling_peer_cannot_extend_the_timeout),
	    cmocka_unit_test(conn_new_refuses_what_is_not_a_connected_stream),
	    cmocka_unit_test(send_refuses_oversized_payload_and_too_many_fds),
	};

	vh_log_set_handler(capture_log, NULL);
	vh_log_set_level(VH_LOG_DEBUG);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
