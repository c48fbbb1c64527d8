/* SPDX-License-Identifier: MIT */
/*
 * Back-end → front-end requests: each arrives on the front-end's end of the
 * SET_BACKEND_REQ_FD channel with the right payload and fds; NEED_REPLY is
 * set only when asked for and REPLY_ACK is negotiated, and the ack is
 * waited for and checked; feature gating gives -EOPNOTSUPP; four threads
 * sending at once never interleave on the channel.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

enum answer {
	ANSWER_OK,	 /* ack 0; LOOKUP: 0 + a memfd */
	ANSWER_FAIL,	 /* ack 1; LOOKUP: 1, no fd */
	ANSWER_BAD_CODE, /* a reply naming another request */
	ANSWER_NOTHING,	 /* never answer */
};

#define MAX_GOT 16

/* The front-end's channel handler, in a thread. */
struct responder {
	struct vh_conn *c;
	pthread_t th;
	pthread_mutex_t lock;
	_Atomic int answer; /* enum answer */
	atomic_bool stop;
	struct vhost_user_msg got[MAX_GOT]; /* first messages, fds kept */
	unsigned ngot;
	unsigned total; /* every message */
	unsigned bad;	/* messages that broke their shape */
	int lookup_fd;	/* the test's dup of the fd LOOKUP answered */
};

static void *responder_main(void *arg)
{
	struct responder *r = arg;
	struct vhost_user_msg *m = calloc(1, sizeof(*m));
	struct vhost_user_msg *a = calloc(1, sizeof(*a));

	while (m && a && !r->stop) {
		const struct vh_msg_shape *shape;
		bool lookup;
		int err = vh_conn_recv(r->c, m, 50);
		int fd = -1;

		if (err == -EAGAIN)
			continue;
		if (err)
			break;
		shape = vh_proto_backend_request_shape(m->hdr.request);
		lookup =
		    m->hdr.request == VHOST_USER_BACKEND_SHARED_OBJECT_LOOKUP;
		pthread_mutex_lock(&r->lock);
		r->total++;
		if (!shape || vh_proto_check_shape(shape, m) ||
		    vh_proto_validate_hdr(&m->hdr, false,
					  VHOST_USER_MAX_PAYLOAD))
			r->bad++;
		if (r->ngot < MAX_GOT) {
			r->got[r->ngot++] = *m;
		} else {
			vh_msg_close_fds(m);
		}
		pthread_mutex_unlock(&r->lock);
		if (r->answer == ANSWER_NOTHING)
			continue;
		if (!(m->hdr.flags & VHOST_USER_NEED_REPLY_MASK) && !lookup)
			continue;
		memset(a, 0, sizeof(*a));
		vh_proto_init_hdr(&a->hdr, m->hdr.request,
				  VHOST_USER_REPLY_MASK, 8);
		a->hdr.flags |= VHOST_USER_VERSION;
		a->payload.u64 = r->answer == ANSWER_FAIL ? 1 : 0;
		if (r->answer == ANSWER_BAD_CODE)
			a->hdr.request = m->hdr.request + 1;
		if (lookup && r->answer == ANSWER_OK) {
			fd = t_memfd(4096);
			pthread_mutex_lock(&r->lock);
			r->lookup_fd = dup(fd);
			pthread_mutex_unlock(&r->lock);
			a->fds[0] = fd;
			a->nfds = 1;
		}
		vh_conn_send(r->c, a);
		if (fd >= 0)
			close(fd);
	}
	free(m);
	free(a);
	return NULL;
}

struct chan {
	struct tfe *t;
	struct responder r;
};

/* A dispatcher with @pf and @features negotiated and a channel whose
 * front-end end is served by a responder thread. */
static struct chan *chan_new(uint64_t features, uint64_t pf, enum answer answer)
{
	struct chan *ch = calloc(1, sizeof(*ch));
	int sv[2];
	struct vh_backend_config cfg = t_default_cfg();

	assert_non_null(ch);
	cfg.conn.msg_timeout_ms = 300; /* bounds the wait for an ack */
	ch->t = tfe_new(&cfg, NULL);
	tfe_negotiate(ch->t, features, pf | T_PF(BACKEND_REQ));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
			 0);
	tfe_cast(ch->t, VHOST_USER_SET_BACKEND_REQ_FD, 0, NULL, 0, &sv[1], 1);
	close(sv[1]);
	assert_int_equal(vh_conn_new(&ch->r.c, sv[0], NULL), 0);
	ch->r.answer = answer;
	ch->r.lookup_fd = -1;
	pthread_mutex_init(&ch->r.lock, NULL);
	assert_int_equal(
	    pthread_create(&ch->r.th, NULL, responder_main, &ch->r), 0);
	return ch;
}

static void chan_free(struct chan *ch)
{
	unsigned i;

	ch->r.stop = true;
	pthread_join(ch->r.th, NULL);
	for (i = 0; i < ch->r.ngot; i++)
		vh_msg_close_fds(&ch->r.got[i]);
	if (ch->r.lookup_fd >= 0)
		close(ch->r.lookup_fd);
	vh_conn_free(ch->r.c);
	pthread_mutex_destroy(&ch->r.lock);
	tfe_free(ch->t);
	free(ch);
}

static unsigned total(struct chan *ch)
{
	unsigned n;

	pthread_mutex_lock(&ch->r.lock);
	n = ch->r.total;
	pthread_mutex_unlock(&ch->r.lock);
	return n;
}

/* Wait (bounded) until the responder holds @n messages. Reading got[]
 * after this is ordered by the lock, not only by the socket. */
static void wait_got(struct chan *ch, unsigned n)
{
	int i;

	for (i = 0; i < 200; i++) {
		unsigned have;

		pthread_mutex_lock(&ch->r.lock);
		have = ch->r.total;
		pthread_mutex_unlock(&ch->r.lock);
		if (have >= n)
			return;
		usleep(5000);
	}
	fail_msg("responder got fewer than %u messages", n);
}

#define ALL_BACKEND_PF                                          \
	(T_PF(REPLY_ACK) | T_PF(CONFIG) | T_PF(HOST_NOTIFIER) | \
	 T_PF(BACKEND_SEND_FD) | T_PF(INBAND_NOTIFICATIONS) |   \
	 T_PF(SHARED_OBJECT) | T_PF(SHMEM))
#define IOMMU (T_VF(VIRTIO_F_VERSION_1) | T_VF(VIRTIO_F_ACCESS_PLATFORM))

static int setup(void **state)
{
	(void)state;
	t_log_capture();
	return 0;
}

static void iotlb_miss_arrives_without_need_reply(void **state)
{
	struct chan *ch = chan_new(IOMMU, ALL_BACKEND_PF, ANSWER_OK);
	struct vhost_user_iotlb miss = {.iova = 0x5000,
					.perm = VHOST_USER_IOTLB_RO,
					.type = VHOST_USER_IOTLB_MISS};
	struct vhost_user_msg *m;

	(void)state;
	assert_int_equal(vh_backend_send_iotlb_msg(ch->t->b, &miss, false), 0);
	wait_got(ch, 1);
	m = &ch->r.got[0];
	assert_int_equal(m->hdr.request, VHOST_USER_BACKEND_IOTLB_MSG);
	assert_int_equal(m->hdr.flags, VHOST_USER_VERSION);
	assert_int_equal(m->hdr.size, sizeof(miss));
	assert_memory_equal(&m->payload.iotlb, &miss, sizeof(miss));
	chan_free(ch);
}

static void config_change_with_need_reply_waits_for_ack(void **state)
{
	struct chan *ch = chan_new(0, ALL_BACKEND_PF, ANSWER_OK);

	(void)state;
	assert_int_equal(vh_backend_send_config_change(ch->t->b, true), 0);
	wait_got(ch, 1);
	assert_int_equal(total(ch), 1);
	assert_int_equal(ch->r.got[0].hdr.request,
			 VHOST_USER_BACKEND_CONFIG_CHANGE_MSG);
	assert_int_equal(ch->r.got[0].hdr.flags,
			 VHOST_USER_VERSION | VHOST_USER_NEED_REPLY_MASK);
	assert_int_equal(ch->r.got[0].hdr.size, 0);
	chan_free(ch);
}

static void nack_becomes_eio(void **state)
{
	struct chan *ch = chan_new(0, ALL_BACKEND_PF, ANSWER_FAIL);

	(void)state;
	assert_int_equal(vh_backend_send_config_change(ch->t->b, true), -EIO);
	/* The channel is still in sync. */
	ch->r.answer = ANSWER_OK;
	assert_int_equal(vh_backend_send_config_change(ch->t->b, true), 0);
	chan_free(ch);
}

static void need_reply_is_dropped_without_reply_ack(void **state)
{
	/* INBAND_NOTIFICATIONS needs REPLY_ACK: it goes too. */
	struct chan *ch = chan_new(
	    0, ALL_BACKEND_PF & ~T_PF(REPLY_ACK) & ~T_PF(INBAND_NOTIFICATIONS),
	    ANSWER_NOTHING);

	(void)state;
	assert_int_equal(vh_backend_send_config_change(ch->t->b, true), 0);
	wait_got(ch, 1);
	assert_int_equal(ch->r.got[0].hdr.flags, VHOST_USER_VERSION);
	chan_free(ch);
}

static void ack_naming_another_request_drops_channel(void **state)
{
	struct chan *ch = chan_new(0, ALL_BACKEND_PF, ANSWER_BAD_CODE);

	(void)state;
	assert_int_equal(vh_backend_send_config_change(ch->t->b, true),
			 -EPROTO);
	assert_int_equal(vh_backend_send_config_change(ch->t->b, false),
			 -ENOTCONN);
	chan_free(ch);
}

static void missing_ack_times_out_and_drops_channel(void **state)
{
	struct chan *ch = chan_new(0, ALL_BACKEND_PF, ANSWER_NOTHING);

	(void)state;
	assert_int_equal(vh_backend_send_config_change(ch->t->b, true),
			 -ETIMEDOUT);
	assert_int_equal(vh_backend_send_config_change(ch->t->b, false),
			 -ENOTCONN);
	chan_free(ch);
}

static void host_notifier_passes_fd_or_sets_nofd(void **state)
{
	struct chan *ch = chan_new(0, ALL_BACKEND_PF, ANSWER_OK);
	int fd = t_memfd(4096);
	struct vhost_user_msg *m;

	(void)state;
	assert_int_equal(
	    vh_backend_send_host_notifier(ch->t->b, 1, 4096, 0, fd, true), 0);
	assert_int_equal(
	    vh_backend_send_host_notifier(ch->t->b, 0, 0, 0, -1, false), 0);
	wait_got(ch, 2);
	m = &ch->r.got[0];
	assert_int_equal(m->hdr.request,
			 VHOST_USER_BACKEND_VRING_HOST_NOTIFIER_MSG);
	assert_int_equal(m->payload.area.u64, 1);
	assert_int_equal(m->payload.area.size, 4096);
	assert_int_equal(m->nfds, 1);
	t_assert_same_file(fd, m->fds[0]);
	m = &ch->r.got[1];
	assert_int_equal(m->payload.area.u64, VHOST_USER_VRING_NOFD_MASK);
	assert_int_equal(m->nfds, 0);
	close(fd);
	chan_free(ch);
}

static void inband_call_and_err_carry_ring_and_wait(void **state)
{
	struct chan *ch = chan_new(0, ALL_BACKEND_PF, ANSWER_OK);

	(void)state;
	assert_int_equal(vh_backend_send_vring_call(ch->t->b, 1), 0);
	assert_int_equal(vh_backend_send_vring_err(ch->t->b, 0), 0);
	wait_got(ch, 2);
	assert_int_equal(total(ch), 2);
	assert_int_equal(ch->r.got[0].hdr.request,
			 VHOST_USER_BACKEND_VRING_CALL);
	assert_int_equal(ch->r.got[0].payload.state.index, 1);
	assert_int_equal(ch->r.got[0].payload.state.num, 0);
	assert_true(ch->r.got[0].hdr.flags & VHOST_USER_NEED_REPLY_MASK);
	assert_int_equal(ch->r.got[1].hdr.request,
			 VHOST_USER_BACKEND_VRING_ERR);
	assert_int_equal(vh_backend_send_vring_call(ch->t->b, 2), -EINVAL);
	chan_free(ch);
}

static void shared_objects_add_remove_and_lookup(void **state)
{
	struct chan *ch = chan_new(0, ALL_BACKEND_PF, ANSWER_OK);
	struct vhost_user_shared uuid = {.uuid = {0xde, 0xad, 0xbe, 0xef}};
	int fd = -1;

	(void)state;
	assert_int_equal(vh_backend_shared_object_add(ch->t->b, &uuid, true),
			 0);
	assert_int_equal(
	    vh_backend_shared_object_remove(ch->t->b, &uuid, false), 0);
	assert_int_equal(vh_backend_shared_object_lookup(ch->t->b, &uuid, &fd),
			 0);
	assert_true(fd >= 0);
	wait_got(ch, 3);
	assert_int_equal(ch->r.got[0].hdr.request,
			 VHOST_USER_BACKEND_SHARED_OBJECT_ADD);
	assert_memory_equal(&ch->r.got[0].payload.object, &uuid, 16);
	assert_int_equal(ch->r.got[1].hdr.request,
			 VHOST_USER_BACKEND_SHARED_OBJECT_REMOVE);
	/* LOOKUP always gets a reply, so it never sets NEED_REPLY. */
	assert_int_equal(ch->r.got[2].hdr.flags, VHOST_USER_VERSION);
	t_assert_same_file(ch->r.lookup_fd, fd);
	close(fd);

	ch->r.answer = ANSWER_FAIL;
	assert_int_equal(vh_backend_shared_object_lookup(ch->t->b, &uuid, &fd),
			 -EIO);
	assert_int_equal(fd, -1);
	chan_free(ch);
}

static void shmem_map_passes_fd_and_unmap_does_not(void **state)
{
	struct chan *ch = chan_new(0, ALL_BACKEND_PF, ANSWER_OK);
	struct vhost_user_mmap req = {.shmid = 1,
				      .fd_offset = 0,
				      .shm_offset = 0x1000,
				      .len = 0x1000,
				      .flags = VHOST_USER_FLAG_MAP_RW};
	int fd = t_memfd(0x1000);

	(void)state;
	assert_int_equal(vh_backend_shmem_map(ch->t->b, &req, fd, true), 0);
	assert_int_equal(vh_backend_shmem_unmap(ch->t->b, &req, true), 0);
	wait_got(ch, 2);
	assert_int_equal(total(ch), 2);
	assert_int_equal(ch->r.got[0].hdr.request,
			 VHOST_USER_BACKEND_SHMEM_MAP);
	assert_memory_equal(&ch->r.got[0].payload.mmap, &req, sizeof(req));
	assert_int_equal(ch->r.got[0].nfds, 1);
	t_assert_same_file(fd, ch->r.got[0].fds[0]);
	assert_int_equal(ch->r.got[1].nfds, 0);
	req.len = 0;
	assert_int_equal(vh_backend_shmem_map(ch->t->b, &req, fd, false),
			 -EINVAL);
	close(fd);
	chan_free(ch);
}

static void requests_need_their_protocol_feature(void **state)
{
	struct chan *ch =
	    chan_new(T_VF(VIRTIO_F_VERSION_1), T_PF(REPLY_ACK), ANSWER_OK);
	struct vhost_user_shared uuid = {{0}};
	struct vhost_user_iotlb miss = {.type = VHOST_USER_IOTLB_MISS};
	struct vhost_user_mmap req = {.len = 0x1000};
	int fd = -1;

	(void)state;
	assert_int_equal(vh_backend_send_config_change(ch->t->b, false),
			 -EOPNOTSUPP);
	assert_int_equal(
	    vh_backend_send_host_notifier(ch->t->b, 0, 4096, 0, -1, false),
	    -EOPNOTSUPP);
	assert_int_equal(vh_backend_send_vring_call(ch->t->b, 0), -EOPNOTSUPP);
	assert_int_equal(vh_backend_shared_object_add(ch->t->b, &uuid, false),
			 -EOPNOTSUPP);
	assert_int_equal(vh_backend_shared_object_lookup(ch->t->b, &uuid, &fd),
			 -EOPNOTSUPP);
	assert_int_equal(vh_backend_shmem_unmap(ch->t->b, &req, false),
			 -EOPNOTSUPP);
	/* IOTLB needs the virtio bit ACCESS_PLATFORM acked. */
	assert_int_equal(vh_backend_send_iotlb_msg(ch->t->b, &miss, false),
			 -EOPNOTSUPP);
	wait_got(ch, 0);
	assert_int_equal(total(ch), 0);
	chan_free(ch);
}

static void fds_need_backend_send_fd(void **state)
{
	struct chan *ch =
	    chan_new(0, T_PF(HOST_NOTIFIER) | T_PF(SHMEM), ANSWER_OK);
	struct vhost_user_mmap req = {.len = 0x1000};
	int fd = t_memfd(0x1000);

	(void)state;
	assert_int_equal(
	    vh_backend_send_host_notifier(ch->t->b, 0, 4096, 0, fd, false),
	    -EOPNOTSUPP);
	assert_int_equal(vh_backend_shmem_map(ch->t->b, &req, fd, false),
			 -EOPNOTSUPP);
	close(fd);
	chan_free(ch);
}

static void no_channel_gives_enotconn(void **state)
{
	struct tfe *t = tfe_new(NULL, NULL);

	(void)state;
	tfe_negotiate(t, 0, t_all_pf());
	assert_int_equal(vh_backend_send_config_change(t->b, true), -ENOTCONN);
	tfe_free(t);
}

#define SENDERS	   4
#define PER_SENDER 50

static void *sender_main(void *arg)
{
	struct vh_backend *b = arg;
	intptr_t fails = 0;
	int i;

	for (i = 0; i < PER_SENDER; i++) {
		struct vhost_user_shared uuid = {.uuid = {(uint8_t)i}};

		if (vh_backend_send_config_change(b, true))
			fails++;
		if (vh_backend_shared_object_add(b, &uuid, i & 1))
			fails++;
	}
	return (void *)fails;
}

static void four_threads_send_without_interleaving(void **state)
{
	struct chan *ch = chan_new(0, ALL_BACKEND_PF, ANSWER_OK);
	pthread_t th[SENDERS];
	int i;

	(void)state;
	for (i = 0; i < SENDERS; i++)
		assert_int_equal(
		    pthread_create(&th[i], NULL, sender_main, ch->t->b), 0);
	for (i = 0; i < SENDERS; i++) {
		void *fails;

		pthread_join(th[i], &fails);
		assert_int_equal((intptr_t)fails, 0);
	}
	wait_got(ch, SENDERS * PER_SENDER * 2);
	wait_got(ch, SENDERS * PER_SENDER * 2);
	assert_int_equal(total(ch), SENDERS * PER_SENDER * 2);
	assert_int_equal(ch->r.bad, 0);
	chan_free(ch);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(iotlb_miss_arrives_without_need_reply),
	    cmocka_unit_test(config_change_with_need_reply_waits_for_ack),
	    cmocka_unit_test(nack_becomes_eio),
	    cmocka_unit_test(need_reply_is_dropped_without_reply_ack),
	    cmocka_unit_test(ack_naming_another_request_drops_channel),
	    cmocka_unit_test(missing_ack_times_out_and_drops_channel),
	    cmocka_unit_test(host_notifier_passes_fd_or_sets_nofd),
	    cmocka_unit_test(inband_call_and_err_carry_ring_and_wait),
	    cmocka_unit_test(shared_objects_add_remove_and_lookup),
	    cmocka_unit_test(shmem_map_passes_fd_and_unmap_does_not),
	    cmocka_unit_test(requests_need_their_protocol_feature),
	    cmocka_unit_test(fds_need_backend_send_fd),
	    cmocka_unit_test(no_channel_gives_enotconn),
	    cmocka_unit_test(four_threads_send_without_interleaving),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
