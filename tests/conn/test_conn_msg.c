/* SPDX-License-Identifier: MIT */
/* lib/conn: messages that must go through — sizes, fds, split and slow
 * peers, blocking and event-loop use, full send buffers. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>

#include "conn_test.h"

struct pair {
	struct vh_conn *tx;
	struct vh_conn *rx;
};

static void pair_open(struct pair *p, const struct vh_conn_opts *rx_opts)
{
	int sv[2];

	assert_int_equal(make_pair(sv), 0);
	assert_int_equal(vh_conn_new(&p->tx, sv[0], NULL), 0);
	assert_int_equal(vh_conn_new(&p->rx, sv[1], rx_opts), 0);
}

static void pair_close(struct pair *p)
{
	vh_conn_free(p->tx);
	vh_conn_free(p->rx);
}

/* Fd @i of a test message: memfds and eventfds alternate. */
static int make_test_fd(unsigned i)
{
	char text[32];

	if (i % 2)
		return eventfd(0, EFD_CLOEXEC);
	snprintf(text, sizeof(text), "file %u", i);
	return make_memfd(text);
}

/* @got and @sent refer to the same file: what one writes, the other sees. */
static void assert_same_file(int sent, int got, unsigned i)
{
	char want[32], buf[32] = {0};
	uint64_t v;

	assert_int_not_equal(sent, got);
	assert_true(fd_has_cloexec(got));
	if (i % 2) {
		v = 100 + i;
		assert_int_equal(write(sent, &v, sizeof(v)), sizeof(v));
		v = 0;
		assert_int_equal(read(got, &v, sizeof(v)), sizeof(v));
		assert_int_equal(v, 100 + i);
		return;
	}
	snprintf(want, sizeof(want), "file %u", i);
	assert_int_equal(pread(got, buf, sizeof(buf) - 1, 0), strlen(want));
	assert_string_equal(buf, want);
	assert_int_equal(pwrite(got, "X", 1, 0), 1);
	assert_int_equal(pread(sent, buf, 1, 0), 1);
	assert_int_equal(buf[0], 'X');
}

static void round_trip_carries_0_to_8_fds_with_every_payload_size(void **state)
{
	static const uint32_t sizes[] = {0, 8, 40, 4096};
	static struct vhost_user_msg in, out;
	int base = count_fds();
	unsigned nfds, s, i;
	struct pair p;

	(void)state;
	pair_open(&p, NULL);
	for (nfds = 0; nfds <= VHOST_USER_MAX_FDS; nfds++) {
		for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
			fill_msg(&out, VHOST_USER_SET_MEM_TABLE, sizes[s],
				 (uint8_t)(nfds + s));
			out.nfds = nfds;
			for (i = 0; i < nfds; i++) {
				out.fds[i] = make_test_fd(i);
				assert_true(out.fds[i] >= 0);
			}
			memset(&in, 0xa5, sizeof(in));
			assert_int_equal(vh_conn_send(p.tx, &out), 0);
			assert_int_equal(vh_conn_recv(p.rx, &in, 1000), 0);
			assert_memory_equal(&in.hdr, &out.hdr, sizeof(in.hdr));
			assert_memory_equal(in.payload.raw, out.payload.raw,
					    sizes[s]);
			assert_int_equal(in.nfds, nfds);
			for (i = 0; i < nfds; i++)
				assert_same_file(out.fds[i], in.fds[i], i);
			vh_msg_close_fds(&in);
			vh_msg_close_fds(&out);
			assert_int_equal(in.nfds, 0);
		}
	}
	pair_close(&p);
	assert_int_equal(count_fds(), base);
}

static void messages_sent_back_to_back_keep_boundaries_and_fds(void **state)
{
	static struct vhost_user_msg out[3], in;
	static const unsigned nfds[3] = {2, 0, 3};
	static const uint32_t size[3] = {40, 8, 0};
	struct pair p;
	unsigned m, i;

	(void)state;
	pair_open(&p, NULL);
	for (m = 0; m < 3; m++) {
		fill_msg(&out[m], VHOST_USER_SET_VRING_ADDR + m, size[m],
			 (uint8_t)m);
		out[m].nfds = nfds[m];
		for (i = 0; i < nfds[m]; i++)
			out[m].fds[i] = make_test_fd(2 * i);
		assert_int_equal(vh_conn_send(p.tx, &out[m]), 0);
	}
	for (m = 0; m < 3; m++) {
		assert_int_equal(vh_conn_recv(p.rx, &in, 0), 0);
		assert_memory_equal(&in.hdr, &out[m].hdr, sizeof(in.hdr));
		assert_memory_equal(in.payload.raw, out[m].payload.raw,
				    size[m]);
		assert_int_equal(in.nfds, nfds[m]);
		for (i = 0; i < nfds[m]; i++)
			assert_same_file(out[m].fds[i], in.fds[i], 2 * i);
		vh_msg_close_fds(&in);
		vh_msg_close_fds(&out[m]);
	}
	assert_int_equal(vh_conn_recv(p.rx, &in, 0), -EAGAIN);
	pair_close(&p);
}

static void payload_of_exactly_the_limit_is_accepted(void **state)
{
	static struct vhost_user_msg out, in;
	struct vh_conn_opts small = {.max_payload = 64};
	struct pair p;

	(void)state;
	pair_open(&p, NULL);
	fill_msg(&out, VHOST_USER_SET_CONFIG, VHOST_USER_MAX_PAYLOAD, 3);
	assert_int_equal(vh_conn_send(p.tx, &out), 0);
	assert_int_equal(vh_conn_recv(p.rx, &in, 1000), 0);
	assert_int_equal(in.hdr.size, VHOST_USER_MAX_PAYLOAD);
	assert_memory_equal(in.payload.raw, out.payload.raw,
			    VHOST_USER_MAX_PAYLOAD);
	pair_close(&p);

	pair_open(&p, &small);
	fill_msg(&out, VHOST_USER_SET_CONFIG, 64, 4);
	assert_int_equal(vh_conn_send(p.tx, &out), 0);
	assert_int_equal(vh_conn_recv(p.rx, &in, 1000), 0);
	assert_int_equal(in.hdr.size, 64);
	assert_memory_equal(in.payload.raw, out.payload.raw, 64);
	pair_close(&p);
}

/* The header arrives in two writes 30 ms apart, fds with the first. */
static void header_split_across_writes_is_reassembled(void **state)
{
	static struct vhost_user_msg in;
	uint8_t wire[VHOST_USER_HDR_SIZE + 8];
	int fds[2] = {make_test_fd(0), make_test_fd(1)};
	struct chunk ch[2] = {
	    {.buf = wire, .len = 5, .fds = fds, .nfds = 2},
	    {.buf = wire + 5, .len = sizeof(wire) - 5, .delay_ms = 30},
	};
	struct peer peer = {.chunks = ch, .nchunks = 2, .close_delay_ms = -1};
	struct vh_conn *rx;
	int sv[2];

	(void)state;
	raw_hdr(wire, VHOST_USER_SET_VRING_KICK, 8);
	memset(wire + VHOST_USER_HDR_SIZE, 0x11, 8);
	assert_int_equal(make_pair(sv), 0);
	peer.fd = sv[0];
	assert_int_equal(vh_conn_new(&rx, sv[1], NULL), 0);
	assert_int_equal(peer_start(&peer), 0);
	assert_int_equal(vh_conn_recv(rx, &in, 1000), 0);
	assert_int_equal(peer_join(&peer), 0);
	assert_int_equal(in.hdr.request, VHOST_USER_SET_VRING_KICK);
	assert_int_equal(in.hdr.size, 8);
	assert_memory_equal(in.payload.raw, wire + VHOST_USER_HDR_SIZE, 8);
	assert_int_equal(in.nfds, 2);
	assert_same_file(fds[0], in.fds[0], 0);
	assert_same_file(fds[1], in.fds[1], 1);
	vh_msg_close_fds(&in);
	close(fds[0]);
	close(fds[1]);
	vh_conn_free(rx);
}

/* A peer may attach its fds to payload bytes; they count all the same. */
static void fds_sent_with_payload_bytes_are_collected(void **state)
{
	static struct vhost_user_msg in;
	uint8_t hdr[VHOST_USER_HDR_SIZE], payload[40] = {0};
	int fds[2] = {make_test_fd(0), make_test_fd(1)};
	struct vh_conn *rx;
	int sv[2];

	(void)state;
	assert_int_equal(make_pair(sv), 0);
	assert_int_equal(vh_conn_new(&rx, sv[1], NULL), 0);
	raw_hdr(hdr, VHOST_USER_SET_MEM_TABLE, sizeof(payload));
	assert_int_equal(raw_send(sv[0], hdr, sizeof(hdr), NULL, 0),
			 sizeof(hdr));
	assert_int_equal(raw_send(sv[0], payload, sizeof(payload), fds, 2),
			 sizeof(payload));
	assert_int_equal(vh_conn_recv(rx, &in, 1000), 0);
	assert_int_equal(in.nfds, 2);
	assert_same_file(fds[0], in.fds[0], 0);
	assert_same_file(fds[1], in.fds[1], 1);
	vh_msg_close_fds(&in);
	close(fds[0]);
	close(fds[1]);
	close(sv[0]);
	vh_conn_free(rx);
}

static void wait_zero_on_empty_socket_returns_eagain_at_once(void **state)
{
	static struct vhost_user_msg in;
	struct pair p;
	int64_t t0;

	(void)state;
	pair_open(&p, NULL);
	in.nfds = 3; /* stale garbage from a previous use */
	t0 = now_ms();
	assert_int_equal(vh_conn_recv(p.rx, &in, 0), -EAGAIN);
	assert_true(now_ms() - t0 < 50);
	assert_int_equal(in.nfds, 0);
	pair_close(&p);
}

static void wait_ms_on_empty_socket_waits_then_returns_eagain(void **state)
{
	static struct vhost_user_msg in;
	struct pair p;
	int64_t t;

	(void)state;
	pair_open(&p, NULL);
	t = now_ms();
	assert_int_equal(vh_conn_recv(p.rx, &in, 60), -EAGAIN);
	t = now_ms() - t;
	assert_true(t >= 59);
	assert_true(t < 1000);
	pair_close(&p);
}

/* Blocking socket, wait -1: the call sleeps until the peer writes. */
static void wait_forever_receives_a_message_sent_later(void **state)
{
	static struct vhost_user_msg in;
	uint8_t wire[VHOST_USER_HDR_SIZE];
	struct chunk ch = {.buf = wire, .len = sizeof(wire), .delay_ms = 40};
	struct peer peer = {.chunks = &ch, .nchunks = 1, .close_delay_ms = -1};
	struct vh_conn *rx;
	int sv[2];

	(void)state;
	raw_hdr(wire, VHOST_USER_GET_FEATURES, 0);
	assert_int_equal(make_pair(sv), 0);
	peer.fd = sv[0];
	assert_int_equal(vh_conn_new(&rx, sv[1], NULL), 0);
	assert_int_equal(peer_start(&peer), 0);
	assert_int_equal(vh_conn_recv(rx, &in, -1), 0);
	assert_int_equal(peer_join(&peer), 0);
	assert_int_equal(in.hdr.request, VHOST_USER_GET_FEATURES);
	assert_int_equal(in.nfds, 0);
	vh_conn_free(rx);
}

/* Event-loop use: non-blocking socket, poll for readable, recv(0). */
static void nonblocking_socket_works_from_an_event_loop(void **state)
{
	static struct vhost_user_msg out, in;
	struct pollfd pfd;
	struct pair p;

	(void)state;
	pair_open(&p, NULL);
	assert_int_equal(fcntl(vh_conn_fd(p.rx), F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(fcntl(vh_conn_fd(p.tx), F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(vh_conn_recv(p.rx, &in, 0), -EAGAIN);
	assert_int_equal(vh_conn_recv(p.rx, &in, 20), -EAGAIN);
	fill_msg(&out, VHOST_USER_SET_VRING_NUM, 8, 9);
	assert_int_equal(vh_conn_send(p.tx, &out), 0);
	pfd.fd = vh_conn_fd(p.rx);
	pfd.events = POLLIN;
	assert_int_equal(poll(&pfd, 1, 1000), 1);
	assert_int_equal(vh_conn_recv(p.rx, &in, 0), 0);
	assert_memory_equal(&in.hdr, &out.hdr, sizeof(in.hdr));
	assert_memory_equal(in.payload.raw, out.payload.raw, 8);
	/* wait -1 on a non-blocking socket still waits (in poll). */
	assert_int_equal(vh_conn_send(p.tx, &out), 0);
	assert_int_equal(vh_conn_recv(p.rx, &in, -1), 0);
	pair_close(&p);
}

/* Read exactly @len bytes from blocking @fd (NULL @buf: discard them). */
static int read_exact(int fd, uint8_t *buf, size_t len)
{
	static uint8_t junk[4096];

	while (len) {
		size_t want = len < sizeof(junk) ? len : sizeof(junk);
		ssize_t n = read(fd, buf ? buf : junk, want);

		if (n <= 0)
			return -1;
		len -= (size_t)n;
		if (buf)
			buf += n;
	}
	return 0;
}

/* After 50 ms, drain @junk bytes, then read one message of @size bytes. */
struct drain {
	int fd;
	size_t junk;
	uint32_t size;
	uint8_t wire[VHOST_USER_HDR_SIZE + VHOST_USER_MAX_PAYLOAD];
	int result;
	pthread_t thread;
};

static void *drain_main(void *arg)
{
	struct drain *d = arg;

	sleep_ms(50);
	d->result = read_exact(d->fd, NULL, d->junk);
	if (!d->result)
		d->result =
		    read_exact(d->fd, d->wire, VHOST_USER_HDR_SIZE + d->size);
	return NULL;
}

/* The send buffer is full when vh_conn_send() starts (non-blocking socket):
 * it waits in poll(), resumes after partial writes, and the peer gets the
 * whole message — fds once, with its first bytes. */
static void send_on_full_nonblocking_socket_completes_after_drain(void **state)
{
	static struct vhost_user_msg out;
	static struct drain d;
	struct vh_conn *tx;
	uint8_t junk[512] = {0};
	int sndbuf = 4096, sv[2], fd;
	struct vhost_user_hdr h;

	(void)state;
	assert_int_equal(make_pair(sv), 0);
	assert_int_equal(
	    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)),
	    0);
	assert_int_equal(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
	d.fd = sv[1];
	d.junk = 0;
	for (;;) {
		ssize_t n = send(sv[0], junk, sizeof(junk), MSG_DONTWAIT);

		if (n < 0) {
			assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
			break;
		}
		d.junk += (size_t)n;
	}
	assert_true(d.junk > 0);
	assert_int_equal(vh_conn_new(&tx, sv[0], NULL), 0);
	fill_msg(&out, VHOST_USER_SET_CONFIG, VHOST_USER_MAX_PAYLOAD, 5);
	fd = make_test_fd(0);
	out.fds[0] = fd;
	out.nfds = 1;
	d.size = out.hdr.size;
	assert_int_equal(pthread_create(&d.thread, NULL, drain_main, &d), 0);
	assert_int_equal(vh_conn_send(tx, &out), 0);
	pthread_join(d.thread, NULL);
	assert_int_equal(d.result, 0);
	memcpy(&h, d.wire, sizeof(h));
	assert_memory_equal(&h, &out.hdr, sizeof(h));
	assert_memory_equal(d.wire + VHOST_USER_HDR_SIZE, out.payload.raw,
			    out.hdr.size);
	close(fd);
	close(sv[1]);
	vh_conn_free(tx);
}

/* SIGPIPE keeps its default action (kill): surviving the call is the proof
 * that MSG_NOSIGNAL is used. */
static void send_to_closed_peer_fails_epipe_without_sigpipe(void **state)
{
	static struct vhost_user_msg out;
	struct vh_conn *tx;
	int sv[2];

	(void)state;
	signal(SIGPIPE, SIG_DFL);
	assert_int_equal(make_pair(sv), 0);
	assert_int_equal(vh_conn_new(&tx, sv[0], NULL), 0);
	close(sv[1]);
	fill_msg(&out, VHOST_USER_GET_FEATURES, 0, 0);
	assert_int_equal(vh_conn_send(tx, &out), -EPIPE);
	vh_conn_free(tx);
}

/* A reply of known size comes in with the header's recvmsg; a shorter one
 * (or none) still reads correctly, and an fd rides along. */
static void recv_expect_reads_a_known_reply_whole(void **state)
{
	static struct vhost_user_msg out, in;
	struct pair p;
	int before = count_fds();

	(void)state;
	pair_open(&p, NULL);
	fill_msg(&out, VHOST_USER_GET_FEATURES, 8, 7);
	out.nfds = 1;
	out.fds[0] = make_test_fd(0);
	assert_int_equal(vh_conn_send(p.tx, &out), 0);
	assert_int_equal(vh_conn_recv_expect(p.rx, &in, 1000, 8), 0);
	assert_memory_equal(&in.hdr, &out.hdr, sizeof(in.hdr));
	assert_memory_equal(in.payload.raw, out.payload.raw, 8);
	assert_int_equal(in.nfds, 1);
	assert_same_file(out.fds[0], in.fds[0], 0);
	vh_msg_close_fds(&in);
	vh_msg_close_fds(&out);

	/* Expecting 8 but the reply is 40 long: the rest is read after. */
	fill_msg(&out, VHOST_USER_GET_CONFIG, 40, 3);
	out.nfds = 0;
	assert_int_equal(vh_conn_send(p.tx, &out), 0);
	assert_int_equal(vh_conn_recv_expect(p.rx, &in, 1000, 8), 0);
	assert_int_equal(in.hdr.size, 40);
	assert_memory_equal(in.payload.raw, out.payload.raw, 40);

	/* Expecting 8 but the reply is empty and nothing follows. */
	fill_msg(&out, VHOST_USER_GET_CONFIG, 0, 0);
	assert_int_equal(vh_conn_send(p.tx, &out), 0);
	assert_int_equal(vh_conn_recv_expect(p.rx, &in, 1000, 8), 0);
	assert_int_equal(in.hdr.size, 0);
	vh_msg_close_fds(&out);
	pair_close(&p);
	assert_int_equal(count_fds(), before);
}

/* Bytes beyond the announced size, read along with the header, mean the
 * peer sent more than one reply: the stream is out of step. */
static void recv_expect_refuses_bytes_beyond_the_reply(void **state)
{
	static struct vhost_user_msg out, in;
	struct pair p;
	int before = count_fds();

	(void)state;
	pair_open(&p, NULL);
	fill_msg(&out, VHOST_USER_SET_OWNER, 0, 0);
	assert_int_equal(vh_conn_send(p.tx, &out), 0);
	fill_msg(&out, VHOST_USER_GET_FEATURES, 8, 1);
	assert_int_equal(vh_conn_send(p.tx, &out), 0);
	assert_int_equal(vh_conn_recv_expect(p.rx, &in, 1000, 8), -EPROTO);
	assert_int_equal(in.nfds, 0);
	pair_close(&p);
	assert_int_equal(count_fds(), before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
		round_trip_carries_0_to_8_fds_with_every_payload_size),
	    cmocka_unit_test(
		messages_sent_back_to_back_keep_boundaries_and_fds),
	    cmocka_unit_test(payload_of_exactly_the_limit_is_accepted),
	    cmocka_unit_test(recv_expect_reads_a_known_reply_whole),
	    cmocka_unit_test(recv_expect_refuses_bytes_beyond_the_reply),
	    cmocka_unit_test(header_split_across_writes_is_reassembled),
	    cmocka_unit_test(fds_sent_with_payload_bytes_are_collected),
	    cmocka_unit_test(wait_zero_on_empty_socket_returns_eagain_at_once),
	    cmocka_unit_test(wait_ms_on_empty_socket_waits_then_returns_eagain),
	    cmocka_unit_test(wait_forever_receives_a_message_sent_later),
	    cmocka_unit_test(nonblocking_socket_works_from_an_event_loop),
	    cmocka_unit_test(
		send_on_full_nonblocking_socket_completes_after_drain),
	    cmocka_unit_test(send_to_closed_peer_fails_epipe_without_sigpipe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
