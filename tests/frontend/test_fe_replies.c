/* SPDX-License-Identifier: MIT */
/*
 * Reply validation: a fake back-end (a raw vh_conn) answers our front-end
 * wrongly, one way per test; each gives the documented error, leaves the
 * front-end broken where the stream can no longer be trusted, and leaks no
 * fd. Also malformed requests on the back-end channel.
 *
 * Replies are queued on the socket before the request is made: the
 * front-end reads them as the answer, so no thread is needed.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fe_test.h"
#include "vhost/log.h"

#define FAKE_FEATURES                                                \
	(vh_virtio_feature_mask(VH_VHOST_USER_F_PROTOCOL_FEATURES) | \
	 vh_virtio_feature_mask(VH_VIRTIO_F_VERSION_1) |             \
	 vh_virtio_feature_mask(VH_VIRTIO_F_ACCESS_PLATFORM))

struct fake {
	struct vh_frontend *f;
	struct vh_conn *be; /* the fake back-end's end */
	int fds_before;
};

static void quiet(void *opaque, enum vh_log_level level, const char *msg)
{
	(void)opaque;
	(void)level;
	(void)msg;
}

static void fake_start(struct fake *k, int reply_timeout_ms)
{
	struct vh_frontend_opts fo = {.reply_timeout_ms = reply_timeout_ms};
	int sv[2];

	vh_log_set_handler(quiet, NULL);
	k->fds_before = count_fds();
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
			 0);
	assert_int_equal(vh_frontend_new(&k->f, sv[0], &fo), 0);
	assert_int_equal(vh_conn_new(&k->be, sv[1], NULL), 0);
}

static void fake_stop(struct fake *k)
{
	vh_frontend_free(k->f);
	vh_conn_free(k->be);
	assert_int_equal(count_fds(), k->fds_before);
}

/* Queue a reply (or any message) from the fake back-end. */
static void put(struct vh_conn *c, uint32_t req, uint32_t flags,
		const void *payload, uint32_t size, int fd)
{
	struct vhost_user_msg m;

	memset(&m.hdr, 0, sizeof(m.hdr));
	m.hdr.request = req;
	m.hdr.flags = flags;
	m.hdr.size = size;
	if (size)
		memcpy(m.payload.raw, payload, size);
	m.nfds = 0;
	if (fd >= 0) {
		m.fds[0] = fd;
		m.nfds = 1;
	}
	assert_int_equal(vh_conn_send(c, &m), 0);
}

static void put_u64(struct vh_conn *c, uint32_t req, uint64_t v)
{
	put(c, req, VHOST_USER_VERSION | VHOST_USER_REPLY_MASK, &v, sizeof(v),
	    -1);
}

/* Take the next request off the fake's socket; its fds are closed. */
static uint32_t take(struct vh_conn *c, uint32_t *flags)
{
	struct vhost_user_msg m;

	assert_int_equal(vh_conn_recv(c, &m, 1000), 0);
	vh_msg_close_fds(&m);
	if (flags)
		*flags = m.hdr.flags;
	return m.hdr.request;
}

static void nothing_more_sent(struct vh_conn *c)
{
	struct vhost_user_msg m;

	assert_int_equal(vh_conn_recv(c, &m, 0), -EAGAIN);
}

/* GET_FEATURES, GET/SET_PROTOCOL_FEATURES with @pf, all answered. */
static void fake_negotiate(struct fake *k, uint64_t pf)
{
	put_u64(k->be, VHOST_USER_GET_FEATURES, FAKE_FEATURES);
	put_u64(k->be, VHOST_USER_GET_PROTOCOL_FEATURES, pf);
	assert_int_equal(vh_frontend_negotiate(k->f, pf, NULL, NULL), 0);
	assert_int_equal(take(k->be, NULL), VHOST_USER_GET_FEATURES);
	assert_int_equal(take(k->be, NULL), VHOST_USER_GET_PROTOCOL_FEATURES);
	assert_int_equal(take(k->be, NULL), VHOST_USER_SET_PROTOCOL_FEATURES);
}

/* A broken front-end refuses everything, sends nothing more, and has
 * closed the connection: the back-end sees an orderly hang-up. */
static void assert_broken(struct fake *k)
{
	struct vhost_user_msg m;

	assert_true(vh_frontend_is_broken(k->f));
	assert_int_equal(vh_frontend_set_owner(k->f), -EPROTO);
	assert_int_equal(vh_frontend_get_features(k->f, NULL), -EPROTO);
	assert_int_equal(vh_conn_recv(k->be, &m, 1000), -ECONNRESET);
}

/* One bad GET_FEATURES reply given by flags/request/size. */
static void bad_get_features_reply(uint32_t req, uint32_t flags, uint32_t size)
{
	struct fake k;
	uint8_t body[16] = {0};

	fake_start(&k, 2000);
	put(k.be, req, flags, body, size, -1);
	assert_int_equal(vh_frontend_get_features(k.f, NULL), -EPROTO);
	assert_int_equal(take(k.be, NULL), VHOST_USER_GET_FEATURES);
	assert_broken(&k);
	fake_stop(&k);
}

static void reply_without_reply_flag_is_a_protocol_error(void **state)
{
	(void)state;
	bad_get_features_reply(VHOST_USER_GET_FEATURES, VHOST_USER_VERSION, 8);
}

static void reply_with_wrong_version_is_a_protocol_error(void **state)
{
	(void)state;
	bad_get_features_reply(VHOST_USER_GET_FEATURES,
			       2 | VHOST_USER_REPLY_MASK, 8);
}

static void reply_with_need_reply_flag_is_a_protocol_error(void **state)
{
	(void)state;
	bad_get_features_reply(VHOST_USER_GET_FEATURES,
			       VHOST_USER_VERSION | VHOST_USER_REPLY_MASK |
				   VHOST_USER_NEED_REPLY_MASK,
			       8);
}

static void reply_to_another_request_is_a_protocol_error(void **state)
{
	(void)state;
	bad_get_features_reply(VHOST_USER_GET_PROTOCOL_FEATURES,
			       VHOST_USER_VERSION | VHOST_USER_REPLY_MASK, 8);
}

static void reply_of_wrong_size_is_a_protocol_error(void **state)
{
	(void)state;
	bad_get_features_reply(VHOST_USER_GET_FEATURES,
			       VHOST_USER_VERSION | VHOST_USER_REPLY_MASK, 4);
	bad_get_features_reply(VHOST_USER_GET_FEATURES,
			       VHOST_USER_VERSION | VHOST_USER_REPLY_MASK, 16);
}

static void reply_with_an_extra_fd_is_refused_and_the_fd_closed(void **state)
{
	struct fake k;
	uint64_t v = FAKE_FEATURES;
	int ev;

	(void)state;
	fake_start(&k, 2000);
	ev = make_eventfd();
	put(k.be, VHOST_USER_GET_FEATURES,
	    VHOST_USER_VERSION | VHOST_USER_REPLY_MASK, &v, 8, ev);
	close(ev);
	assert_int_equal(vh_frontend_get_features(k.f, NULL), -EPROTO);
	assert_int_equal(take(k.be, NULL), VHOST_USER_GET_FEATURES);
	assert_broken(&k);
	fake_stop(&k); /* asserts the received copy was closed */
}

static void nonzero_ack_is_eio_and_the_link_stays(void **state)
{
	struct fake k;
	uint32_t flags;

	(void)state;
	fake_start(&k, 2000);
	fake_negotiate(
	    &k, vh_protocol_feature_mask(VHOST_USER_PROTOCOL_F_REPLY_ACK));
	vh_frontend_set_ack_always(k.f, true);
	put_u64(k.be, VHOST_USER_SET_VRING_NUM, 22);
	assert_int_equal(vh_frontend_set_vring_num(k.f, 0, 64), -EIO);
	assert_int_equal(take(k.be, &flags), VHOST_USER_SET_VRING_NUM);
	assert_true(flags & VHOST_USER_NEED_REPLY_MASK);
	assert_false(vh_frontend_is_broken(k.f));
	put_u64(k.be, VHOST_USER_SET_VRING_NUM, 0);
	assert_int_equal(vh_frontend_set_vring_num(k.f, 0, 64), 0);
	take(k.be, NULL);
	/* Without ack mode no NEED_REPLY goes out. */
	vh_frontend_set_ack_always(k.f, false);
	assert_int_equal(vh_frontend_set_vring_num(k.f, 0, 64), 0);
	assert_int_equal(take(k.be, &flags), VHOST_USER_SET_VRING_NUM);
	assert_false(flags & VHOST_USER_NEED_REPLY_MASK);
	fake_stop(&k);
}

static void ack_of_wrong_size_is_a_protocol_error(void **state)
{
	struct fake k;
	uint32_t v = 0;

	(void)state;
	fake_start(&k, 2000);
	fake_negotiate(
	    &k, vh_protocol_feature_mask(VHOST_USER_PROTOCOL_F_REPLY_ACK));
	assert_int_equal(vh_frontend_ack_next(k.f), 0);
	put(k.be, VHOST_USER_SET_OWNER,
	    VHOST_USER_VERSION | VHOST_USER_REPLY_MASK, &v, 4, -1);
	assert_int_equal(vh_frontend_set_owner(k.f), -EPROTO);
	take(k.be, NULL);
	assert_broken(&k);
	fake_stop(&k);
}

static void backend_hanging_up_before_the_reply(void **state)
{
	struct fake k;

	(void)state;
	fake_start(&k, 2000);
	/* It can still read our request, but will never answer. */
	shutdown(vh_conn_fd(k.be), SHUT_WR);
	assert_int_equal(vh_frontend_get_features(k.f, NULL), -ECONNRESET);
	assert_int_equal(take(k.be, NULL), VHOST_USER_GET_FEATURES);
	assert_broken(&k);
	fake_stop(&k);
}

static void backend_gone_before_the_request(void **state)
{
	struct fake k;
	int r;

	(void)state;
	fake_start(&k, 2000);
	vh_conn_free(k.be);
	r = vh_frontend_set_owner(k.f);
	assert_true(r == -EPIPE || r == -ECONNRESET);
	assert_true(vh_frontend_is_broken(k.f));
	vh_frontend_free(k.f);
	assert_int_equal(count_fds(), k.fds_before);
}

static void reply_cut_short_is_a_protocol_error(void **state)
{
	struct fake k;
	struct vhost_user_hdr h = {VHOST_USER_GET_FEATURES,
				   VHOST_USER_VERSION | VHOST_USER_REPLY_MASK,
				   8};

	(void)state;
	fake_start(&k, 2000);
	/* A header promising 8 bytes, 4 of them, then the end. */
	assert_int_equal(write(vh_conn_fd(k.be), &h, sizeof(h)), sizeof(h));
	assert_int_equal(write(vh_conn_fd(k.be), "abcd", 4), 4);
	shutdown(vh_conn_fd(k.be), SHUT_WR);
	assert_int_equal(vh_frontend_get_features(k.f, NULL), -EPROTO);
	assert_true(vh_frontend_is_broken(k.f));
	fake_stop(&k);
}

static void a_bad_fd_of_ours_fails_without_breaking_the_link(void **state)
{
	struct fake k;
	int ev;

	(void)state;
	fake_start(&k, 2000);
	ev = make_eventfd();
	close(ev); /* stale: sendmsg refuses it, nothing goes out */
	assert_int_equal(vh_frontend_set_vring_kick(k.f, 0, ev), -EBADF);
	assert_false(vh_frontend_is_broken(k.f));
	nothing_more_sent(k.be);
	assert_int_equal(vh_frontend_set_owner(k.f), 0);
	assert_int_equal(take(k.be, NULL), VHOST_USER_SET_OWNER);
	fake_stop(&k);
}

static void no_reply_in_time_is_a_timeout(void **state)
{
	struct fake k;

	(void)state;
	fake_start(&k, 100);
	assert_int_equal(vh_frontend_get_features(k.f, NULL), -ETIMEDOUT);
	assert_int_equal(take(k.be, NULL), VHOST_USER_GET_FEATURES);
	assert_broken(&k);
	fake_stop(&k);
}

static void get_config_reply_size_must_match_the_request(void **state)
{
	struct fake k;
	uint8_t body[12 + 16] = {0}, buf[16];
	struct vhost_user_config_hdr h = {.offset = 0, .size = 8};

	(void)state;
	fake_start(&k, 2000);
	fake_negotiate(&k,
		       vh_protocol_feature_mask(VHOST_USER_PROTOCOL_F_CONFIG));
	/* Empty: the back-end's failure, the link stays. */
	put(k.be, VHOST_USER_GET_CONFIG,
	    VHOST_USER_VERSION | VHOST_USER_REPLY_MASK, NULL, 0, -1);
	assert_int_equal(vh_frontend_get_config(k.f, 0, 8, 0, buf), -EIO);
	take(k.be, NULL);
	assert_false(vh_frontend_is_broken(k.f));
	/* Another range than asked for: protocol error. */
	h.offset = 4;
	memcpy(body, &h, sizeof(h));
	put(k.be, VHOST_USER_GET_CONFIG,
	    VHOST_USER_VERSION | VHOST_USER_REPLY_MASK, body, 12 + 8, -1);
	assert_int_equal(vh_frontend_get_config(k.f, 0, 8, 0, buf), -EPROTO);
	take(k.be, NULL);
	assert_broken(&k);
	fake_stop(&k);

	/* Larger than the request: protocol error. */
	fake_start(&k, 2000);
	fake_negotiate(&k,
		       vh_protocol_feature_mask(VHOST_USER_PROTOCOL_F_CONFIG));
	h.offset = 0;
	h.size = 16;
	memcpy(body, &h, sizeof(h));
	put(k.be, VHOST_USER_GET_CONFIG,
	    VHOST_USER_VERSION | VHOST_USER_REPLY_MASK, body, 12 + 16, -1);
	assert_int_equal(vh_frontend_get_config(k.f, 0, 8, 0, buf), -EPROTO);
	take(k.be, NULL);
	assert_broken(&k);
	fake_stop(&k);
}

static void vring_base_reply_for_another_ring_is_refused(void **state)
{
	struct fake k;
	struct vhost_user_vring_state st = {.index = 1, .num = 9};
	uint32_t base;

	(void)state;
	fake_start(&k, 2000);
	put(k.be, VHOST_USER_GET_VRING_BASE,
	    VHOST_USER_VERSION | VHOST_USER_REPLY_MASK, &st, sizeof(st), -1);
	assert_int_equal(vh_frontend_get_vring_base(k.f, 0, &base), -EPROTO);
	take(k.be, NULL);
	assert_broken(&k);
	fake_stop(&k);
}

static void status_wider_than_a_byte_is_refused(void **state)
{
	struct fake k;
	uint8_t status;

	(void)state;
	fake_start(&k, 2000);
	fake_negotiate(&k,
		       vh_protocol_feature_mask(VHOST_USER_PROTOCOL_F_STATUS));
	put_u64(k.be, VHOST_USER_GET_STATUS, 0x100);
	assert_int_equal(vh_frontend_get_status(k.f, &status), -EPROTO);
	take(k.be, NULL);
	assert_broken(&k);
	fake_stop(&k);
}

static void device_state_reply_with_error_and_fd_is_refused(void **state)
{
	struct fake k;
	uint64_t v = 1; /* error, and NOFD clear */
	int p[2], reply = -2, ev;

	(void)state;
	fake_start(&k, 2000);
	fake_negotiate(
	    &k, vh_protocol_feature_mask(VHOST_USER_PROTOCOL_F_DEVICE_STATE));
	ev = make_eventfd();
	put(k.be, VHOST_USER_SET_DEVICE_STATE_FD,
	    VHOST_USER_VERSION | VHOST_USER_REPLY_MASK, &v, 8, ev);
	close(ev);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(
	    vh_frontend_set_device_state_fd(k.f, 0, 0, p[0], &reply), -EPROTO);
	assert_int_equal(reply, -1);
	close(p[0]);
	close(p[1]);
	take(k.be, NULL);
	assert_broken(&k);
	fake_stop(&k);
}

static void inflight_reply_without_its_fd_is_refused(void **state)
{
	struct fake k;
	struct vhost_user_inflight req = {.num_queues = 1, .queue_size = 64};
	struct vhost_user_inflight rep = {.mmap_size = 4096};
	int fd = -2;

	(void)state;
	fake_start(&k, 2000);
	fake_negotiate(
	    &k, vh_protocol_feature_mask(VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD));
	put(k.be, VHOST_USER_GET_INFLIGHT_FD,
	    VHOST_USER_VERSION | VHOST_USER_REPLY_MASK, &rep, sizeof(rep), -1);
	assert_int_equal(vh_frontend_get_inflight_fd(k.f, &req, &rep, &fd),
			 -EPROTO);
	take(k.be, NULL);
	assert_broken(&k);
	fake_stop(&k);
}

/* ------------------------------------------------------------------------ */
/* Malformed requests on the back-end channel                               */
/* ------------------------------------------------------------------------ */

static unsigned chan_calls;

static int count_cb(void *opaque)
{
	(void)opaque;
	chan_calls++;
	return 0;
}

static int count_index_cb(void *opaque, uint32_t index)
{
	(void)index;
	return count_cb(opaque);
}

static int count_uuid_cb(void *opaque, const struct vhost_user_shared *u)
{
	(void)u;
	return count_cb(opaque);
}

static int count_iotlb_cb(void *opaque, const struct vhost_user_iotlb *m)
{
	(void)m;
	return count_cb(opaque);
}

static const struct vh_frontend_backend_ops counting_ops = {
    .iotlb_msg = count_iotlb_cb,
    .config_change = count_cb,
    .vring_call = count_index_cb,
    .vring_err = count_index_cb,
    .shared_object_add = count_uuid_cb,
};

/* Negotiate @pf (BACKEND_REQ added), set up the channel, send @m on it:
 * the front-end must refuse it, close the channel and keep no fd. */
static void channel_refuses(uint64_t pf, uint32_t req, uint32_t flags,
			    const void *payload, uint32_t size, bool with_fd)
{
	struct fake k;
	struct vhost_user_msg m;
	struct vh_conn *chan;
	int ev = -1;

	fake_start(&k, 2000);
	pf |= vh_protocol_feature_mask(VHOST_USER_PROTOCOL_F_BACKEND_REQ);
	fake_negotiate(&k, pf);
	/* With REPLY_ACK the front-end waits for SET_BACKEND_REQ_FD's ack. */
	if (vh_protocol_has(pf, VHOST_USER_PROTOCOL_F_REPLY_ACK))
		put_u64(k.be, VHOST_USER_SET_BACKEND_REQ_FD, 0);
	assert_int_equal(
	    vh_frontend_enable_backend_channel(k.f, &counting_ops, NULL), 0);
	assert_int_equal(vh_conn_recv(k.be, &m, 1000), 0);
	assert_int_equal(m.hdr.request, VHOST_USER_SET_BACKEND_REQ_FD);
	assert_int_equal(m.nfds, 1);
	assert_int_equal(vh_conn_new(&chan, m.fds[0], NULL), 0);

	if (with_fd)
		ev = make_eventfd();
	put(chan, req, flags, payload, size, ev);
	if (ev >= 0)
		close(ev);
	chan_calls = 0;
	assert_true(vh_frontend_handle_backend_readable(k.f) < 0);
	assert_int_equal(chan_calls, 0);
	assert_int_equal(vh_frontend_backend_channel_fd(k.f), -1);
	/* The main connection is unaffected. */
	assert_false(vh_frontend_is_broken(k.f));
	vh_conn_free(chan);
	fake_stop(&k);
}

static void channel_unknown_request_closes_it(void **state)
{
	(void)state;
	channel_refuses(0, 99, VHOST_USER_VERSION, NULL, 0, false);
}

static void channel_wrong_size_closes_it(void **state)
{
	uint64_t v = 0;

	(void)state;
	channel_refuses(vh_protocol_feature_mask(VHOST_USER_PROTOCOL_F_CONFIG),
			VHOST_USER_BACKEND_CONFIG_CHANGE_MSG,
			VHOST_USER_VERSION, &v, 8, false);
}

static void channel_request_with_reply_flag_closes_it(void **state)
{
	(void)state;
	channel_refuses(vh_protocol_feature_mask(VHOST_USER_PROTOCOL_F_CONFIG),
			VHOST_USER_BACKEND_CONFIG_CHANGE_MSG,
			VHOST_USER_VERSION | VHOST_USER_REPLY_MASK, NULL, 0,
			false);
}

static void channel_request_without_its_feature_closes_it(void **state)
{
	(void)state;
	channel_refuses(0, VHOST_USER_BACKEND_CONFIG_CHANGE_MSG,
			VHOST_USER_VERSION, NULL, 0, false);
}

static void channel_fd_without_backend_send_fd_closes_it(void **state)
{
	struct vhost_user_vring_area a = {.u64 = 0, .size = 4096};

	(void)state;
	channel_refuses(
	    vh_protocol_feature_mask(VHOST_USER_PROTOCOL_F_HOST_NOTIFIER),
	    VHOST_USER_BACKEND_VRING_HOST_NOTIFIER_MSG, VHOST_USER_VERSION, &a,
	    sizeof(a), true);
}

static void channel_vring_call_with_reserved_num_closes_it(void **state)
{
	struct vhost_user_vring_state st = {.index = 0, .num = 1};

	(void)state;
	channel_refuses(
	    vh_protocol_feature_mask(
		VHOST_USER_PROTOCOL_F_INBAND_NOTIFICATIONS) |
		vh_protocol_feature_mask(VHOST_USER_PROTOCOL_F_REPLY_ACK),
	    VHOST_USER_BACKEND_VRING_CALL, VHOST_USER_VERSION, &st, sizeof(st),
	    false);
}

static void channel_invalid_iotlb_closes_it(void **state)
{
	struct vhost_user_iotlb m = {.iova = 1, .type = 9};

	(void)state;
	channel_refuses(0, VHOST_USER_BACKEND_IOTLB_MSG, VHOST_USER_VERSION, &m,
			sizeof(m), false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(reply_without_reply_flag_is_a_protocol_error),
	    cmocka_unit_test(reply_with_wrong_version_is_a_protocol_error),
	    cmocka_unit_test(reply_with_need_reply_flag_is_a_protocol_error),
	    cmocka_unit_test(reply_to_another_request_is_a_protocol_error),
	    cmocka_unit_test(reply_of_wrong_size_is_a_protocol_error),
	    cmocka_unit_test(
		reply_with_an_extra_fd_is_refused_and_the_fd_closed),
	    cmocka_unit_test(nonzero_ack_is_eio_and_the_link_stays),
	    cmocka_unit_test(ack_of_wrong_size_is_a_protocol_error),
	    cmocka_unit_test(backend_hanging_up_before_the_reply),
	    cmocka_unit_test(backend_gone_before_the_request),
	    cmocka_unit_test(reply_cut_short_is_a_protocol_error),
	    cmocka_unit_test(no_reply_in_time_is_a_timeout),
	    cmocka_unit_test(a_bad_fd_of_ours_fails_without_breaking_the_link),
	    cmocka_unit_test(get_config_reply_size_must_match_the_request),
	    cmocka_unit_test(vring_base_reply_for_another_ring_is_refused),
	    cmocka_unit_test(status_wider_than_a_byte_is_refused),
	    cmocka_unit_test(device_state_reply_with_error_and_fd_is_refused),
	    cmocka_unit_test(inflight_reply_without_its_fd_is_refused),
	    cmocka_unit_test(channel_unknown_request_closes_it),
	    cmocka_unit_test(channel_wrong_size_closes_it),
	    cmocka_unit_test(channel_request_with_reply_flag_closes_it),
	    cmocka_unit_test(channel_request_without_its_feature_closes_it),
	    cmocka_unit_test(channel_fd_without_backend_send_fd_closes_it),
	    cmocka_unit_test(channel_vring_call_with_reserved_num_closes_it),
	    cmocka_unit_test(channel_invalid_iotlb_closes_it),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
