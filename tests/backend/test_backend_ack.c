/* SPDX-License-Identifier: MIT */
/*
 * REPLY_ACK and failures: an ack only when NEED_REPLY is set and REPLY_ACK
 * negotiated, never a second message for a request with a reply body, a
 * nack when a callback fails and an ack is owed, a closed connection when
 * it fails and nothing is owed, and the documented forms for missing
 * callbacks. Also the connection-level cases (spurious wake-up, hang-up).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

static struct vhost_user_msg *rep;

static int setup(void **state)
{
	(void)state;
	t_log_capture();
	rep = calloc(1, sizeof(*rep));
	return rep ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(rep);
	return 0;
}

static const struct vhost_user_vring_state ring0 = {.index = 0, .num = 64};

static struct tfe *with_pf(uint64_t pf, const struct vh_backend_ops *ops)
{
	struct tfe *t = tfe_new(NULL, ops);

	tfe_negotiate(t, 0, pf);
	t_log_clear();
	return t;
}

static void ack_sent_when_need_reply_and_reply_ack(void **state)
{
	struct tfe *t = with_pf(T_PF(REPLY_ACK), NULL);

	(void)state;
	tfe_call(t, VHOST_USER_SET_VRING_NUM, T_NEED_REPLY, &ring0,
		 sizeof(ring0), NULL, 0, rep);
	assert_int_equal(rep->hdr.size, 8);
	assert_int_equal(rep->payload.u64, 0);
	assert_int_equal(rep->nfds, 0);
	assert_int_equal(t->rec.n[VHOST_USER_SET_VRING_NUM], 1);
	tfe_free(t);
}

static void no_ack_without_need_reply(void **state)
{
	struct tfe *t = with_pf(T_PF(REPLY_ACK), NULL);

	(void)state;
	tfe_cast(t, VHOST_USER_SET_VRING_NUM, 0, &ring0, sizeof(ring0), NULL,
		 0);
	assert_int_equal(t->rec.n[VHOST_USER_SET_VRING_NUM], 1);
	tfe_free(t);
}

static void no_ack_when_reply_ack_not_negotiated(void **state)
{
	struct tfe *t = with_pf(T_PF(MQ), NULL);

	(void)state;
	tfe_cast(t, VHOST_USER_SET_VRING_NUM, T_NEED_REPLY, &ring0,
		 sizeof(ring0), NULL, 0);
	assert_int_equal(t->rec.n[VHOST_USER_SET_VRING_NUM], 1);
	tfe_free(t);
}

static void request_with_body_gets_one_reply_despite_need_reply(void **state)
{
	struct tfe *t = with_pf(T_PF(REPLY_ACK) | T_PF(MQ), NULL);
	struct vhost_user_vring_state st = {.index = 0, .num = 0};

	(void)state;
	/* tfe_call asserts no second message follows the body. */
	tfe_call(t, VHOST_USER_GET_FEATURES, T_NEED_REPLY, NULL, 0, NULL, 0,
		 rep);
	assert_int_equal(rep->hdr.size, 8);
	tfe_call(t, VHOST_USER_GET_QUEUE_NUM, T_NEED_REPLY, NULL, 0, NULL, 0,
		 rep);
	assert_int_equal(rep->payload.u64, 2);
	tfe_call(t, VHOST_USER_GET_VRING_BASE, T_NEED_REPLY, &st, sizeof(st),
		 NULL, 0, rep);
	assert_int_equal(rep->payload.state.num, 0x1234);
	tfe_free(t);
}

static void set_protocol_features_enabling_reply_ack_is_acked(void **state)
{
	struct tfe *t = tfe_new(NULL, NULL);
	uint64_t pf = T_PF(REPLY_ACK);

	(void)state;
	tfe_call(t, VHOST_USER_SET_PROTOCOL_FEATURES, T_NEED_REPLY, &pf, 8,
		 NULL, 0, rep);
	assert_int_equal(rep->payload.u64, 0);
	tfe_free(t);
}

static void callback_failure_is_nacked_when_ack_owed(void **state)
{
	struct tfe *t = with_pf(T_PF(REPLY_ACK), NULL);

	(void)state;
	t->rec.ret[VHOST_USER_SET_VRING_NUM] = -EINVAL;
	tfe_call(t, VHOST_USER_SET_VRING_NUM, T_NEED_REPLY, &ring0,
		 sizeof(ring0), NULL, 0, rep);
	assert_int_equal(rep->payload.u64, EINVAL);
	/* The connection stays usable. */
	assert_int_equal(tfe_get_features(t) & T_VF(VIRTIO_F_VERSION_1),
			 T_VF(VIRTIO_F_VERSION_1));
	assert_true(t_log_has("t: VHOST_USER_SET_VRING_NUM: failed"));
	tfe_free(t);
}

static void callback_failure_closes_when_nothing_owed(void **state)
{
	struct tfe *t = with_pf(T_PF(REPLY_ACK), NULL);
	int before;

	(void)state;
	t->rec.ret[VHOST_USER_SET_VRING_NUM] = -EINVAL;
	tfe_send(t, VHOST_USER_SET_VRING_NUM, 0, &ring0, sizeof(ring0), NULL,
		 0);
	assert_int_equal(tfe_step(t), -EINVAL);
	tfe_assert_no_reply(t);
	before = t_count_fds();
	tfe_drop_backend(t);
	assert_int_equal(tfe_recv(t, rep, 1000), -ECONNRESET);
	assert_int_equal(t_count_fds(), before - 1);
	tfe_free(t);
}

static void fd_is_closed_when_callback_fails(void **state)
{
	struct tfe *t = with_pf(T_PF(REPLY_ACK), NULL);
	uint64_t u64 = 0;
	int fd = t_eventfd();
	int before = t_count_fds();

	(void)state;
	t->rec.ret[VHOST_USER_SET_VRING_CALL] = -EIO;
	tfe_call(t, VHOST_USER_SET_VRING_CALL, T_NEED_REPLY, &u64, 8, &fd, 1,
		 rep);
	assert_int_equal(rep->payload.u64, EIO);
	assert_int_equal(t_count_fds(), before);
	close(fd);
	tfe_free(t);
}

static void missing_callback_is_nacked_when_ack_owed(void **state)
{
	struct vh_backend_ops ops = t_rec_ops;
	struct tfe *t;
	uint64_t u64 = 1;
	int fd = t_eventfd();
	int before;

	(void)state;
	ops.set_vring_num = NULL;
	ops.set_vring_call = NULL;
	t = with_pf(T_PF(REPLY_ACK), &ops);
	tfe_call(t, VHOST_USER_SET_VRING_NUM, T_NEED_REPLY, &ring0,
		 sizeof(ring0), NULL, 0, rep);
	assert_int_equal(rep->payload.u64, EOPNOTSUPP);
	before = t_count_fds();
	tfe_call(t, VHOST_USER_SET_VRING_CALL, T_NEED_REPLY, &u64, 8, &fd, 1,
		 rep);
	assert_int_equal(rep->payload.u64, EOPNOTSUPP);
	assert_int_equal(t_count_fds(), before);
	close(fd);
	tfe_free(t);
}

static void missing_callback_is_a_warning_when_nothing_owed(void **state)
{
	struct vh_backend_ops ops = t_rec_ops;
	struct tfe *t;

	(void)state;
	ops.set_vring_num = NULL;
	t = with_pf(0, &ops);
	tfe_cast(t, VHOST_USER_SET_VRING_NUM, 0, &ring0, sizeof(ring0), NULL,
		 0);
	assert_true(t_log_has("VHOST_USER_SET_VRING_NUM: not supported"));
	assert_int_equal(tfe_get_features(t) & T_VF(VIRTIO_F_VERSION_1),
			 T_VF(VIRTIO_F_VERSION_1));
	tfe_free(t);
}

static void missing_optional_callbacks_succeed(void **state)
{
	struct vh_backend_ops ops = t_rec_ops;
	struct tfe *t;
	uint64_t f = T_VF(VIRTIO_F_VERSION_1);

	(void)state;
	ops.set_features = NULL;
	ops.set_protocol_features = NULL;
	ops.set_owner = NULL;
	ops.reset_owner = NULL;
	t = with_pf(T_PF(REPLY_ACK), &ops);
	tfe_call(t, VHOST_USER_SET_OWNER, T_NEED_REPLY, NULL, 0, NULL, 0, rep);
	assert_int_equal(rep->payload.u64, 0);
	tfe_call(t, VHOST_USER_SET_FEATURES, T_NEED_REPLY, &f, 8, NULL, 0, rep);
	assert_int_equal(rep->payload.u64, 0);
	assert_int_equal(vh_backend_features(t->b), f);
	tfe_call(t, VHOST_USER_RESET_OWNER, T_NEED_REPLY, NULL, 0, NULL, 0,
		 rep);
	assert_int_equal(rep->payload.u64, 0);
	assert_int_equal(vh_backend_protocol_features(t->b), T_PF(REPLY_ACK));
	tfe_free(t);
}

static void missing_get_vring_base_closes(void **state)
{
	struct vh_backend_ops ops = t_rec_ops;
	struct vhost_user_vring_state st = {.index = 0, .num = 0};
	struct tfe *t;

	(void)state;
	ops.get_vring_base = NULL;
	t = with_pf(0, &ops);
	tfe_send(t, VHOST_USER_GET_VRING_BASE, 0, &st, sizeof(st), NULL, 0);
	assert_true(tfe_step(t) < 0);
	tfe_assert_no_reply(t);
	assert_true(t_log_has("VHOST_USER_GET_VRING_BASE"));
	tfe_free(t);
}

static void failing_get_vring_base_closes(void **state)
{
	struct tfe *t = with_pf(0, NULL);
	struct vhost_user_vring_state st = {.index = 0, .num = 0};

	(void)state;
	t->rec.ret[VHOST_USER_GET_VRING_BASE] = -EIO;
	tfe_send(t, VHOST_USER_GET_VRING_BASE, 0, &st, sizeof(st), NULL, 0);
	assert_int_equal(tfe_step(t), -EIO);
	tfe_assert_no_reply(t);
	tfe_free(t);
}

static void get_config_failure_replies_empty_payload(void **state)
{
	struct tfe *t = with_pf(T_PF(CONFIG) | T_PF(REPLY_ACK), NULL);
	struct vhost_user_config cfg = {.hdr = {.offset = 0, .size = 60}};

	(void)state;
	t->rec.ret[VHOST_USER_GET_CONFIG] = -EIO;
	tfe_call(t, VHOST_USER_GET_CONFIG, T_NEED_REPLY, &cfg, 72, NULL, 0,
		 rep);
	assert_int_equal(rep->hdr.size, 0);
	assert_int_equal(t->rec.n[VHOST_USER_GET_CONFIG], 1);
	/* Still in sync. */
	tfe_call(t, VHOST_USER_GET_CONFIG, 0, &cfg, 72, NULL, 0, rep);
	assert_int_equal(rep->hdr.size, 0);
	t->rec.ret[VHOST_USER_GET_CONFIG] = 0;
	tfe_call(t, VHOST_USER_GET_CONFIG, 0, &cfg, 72, NULL, 0, rep);
	assert_int_equal(rep->hdr.size, 72);
	tfe_free(t);
}

static void invalid_mtu_is_nacked(void **state)
{
	struct tfe *t = with_pf(T_PF(NET_MTU) | T_PF(REPLY_ACK), NULL);
	uint64_t mtu = 70000;

	(void)state;
	tfe_call(t, VHOST_USER_NET_SET_MTU, T_NEED_REPLY, &mtu, 8, NULL, 0,
		 rep);
	assert_int_equal(rep->payload.u64, EINVAL);
	assert_int_equal(t->rec.n[VHOST_USER_NET_SET_MTU], 0);
	tfe_free(t);
}

static void spurious_wakeup_handles_nothing(void **state)
{
	struct tfe *t = tfe_new(NULL, NULL);

	(void)state;
	assert_int_equal(tfe_step(t), 0);
	assert_int_equal(t->rec.calls, 0);
	tfe_free(t);
}

static void front_end_hang_up_is_reported(void **state)
{
	struct tfe *t = tfe_new(NULL, NULL);

	(void)state;
	vh_conn_free(t->c);
	t->c = NULL;
	assert_int_equal(tfe_step(t), -ECONNRESET);
	tfe_free(t);
}

static void new_rejects_bad_configs_and_closes_fd(void **state)
{
	struct vh_backend_config cfg = t_default_cfg();
	struct vh_backend *b = (void *)1;
	int before = t_count_fds();
	int sv[2];

	(void)state;
	cfg.ops = &t_rec_ops;
	cfg.num_queues = 0;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(vh_backend_new(&b, sv[0], &cfg), -EINVAL);
	assert_null(b);
	cfg.num_queues = VHOST_USER_MAX_VRINGS + 1;
	assert_int_equal(vh_backend_new(&b, sv[1], &cfg), -EINVAL);
	assert_int_equal(t_count_fds(), before);

	cfg.num_queues = 1;
	cfg.protocol_features = UINT64_C(1) << 63;
	assert_int_equal(vh_backend_new(&b, -1, &cfg), -EINVAL);
	cfg.protocol_features = 0;
	cfg.ops = NULL;
	assert_int_equal(vh_backend_new(&b, -1, &cfg), -EINVAL);
	/* Not a socket: the conn layer refuses it, and closes it. */
	cfg.ops = &t_rec_ops;
	assert_true(vh_backend_new(&b, t_eventfd(), &cfg) < 0);
	assert_int_equal(t_count_fds(), before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(ack_sent_when_need_reply_and_reply_ack),
	    cmocka_unit_test(no_ack_without_need_reply),
	    cmocka_unit_test(no_ack_when_reply_ack_not_negotiated),
	    cmocka_unit_test(
		request_with_body_gets_one_reply_despite_need_reply),
	    cmocka_unit_test(set_protocol_features_enabling_reply_ack_is_acked),
	    cmocka_unit_test(callback_failure_is_nacked_when_ack_owed),
	    cmocka_unit_test(callback_failure_closes_when_nothing_owed),
	    cmocka_unit_test(fd_is_closed_when_callback_fails),
	    cmocka_unit_test(missing_callback_is_nacked_when_ack_owed),
	    cmocka_unit_test(missing_callback_is_a_warning_when_nothing_owed),
	    cmocka_unit_test(missing_optional_callbacks_succeed),
	    cmocka_unit_test(missing_get_vring_base_closes),
	    cmocka_unit_test(failing_get_vring_base_closes),
	    cmocka_unit_test(get_config_failure_replies_empty_payload),
	    cmocka_unit_test(invalid_mtu_is_nacked),
	    cmocka_unit_test(spurious_wakeup_handles_nothing),
	    cmocka_unit_test(front_end_hang_up_is_reported),
	    cmocka_unit_test(new_rejects_bad_configs_and_closes_fd),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
