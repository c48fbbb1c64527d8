/* SPDX-License-Identifier: MIT */
/*
 * Every back-end request (vhost-user.rst "Back-end message types", 1..10)
 * sent by our back-end dispatcher's senders and handled by our front-end's
 * back-end channel, with and without NEED_REPLY / REPLY_ACK, fds checked by
 * using them.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fe_test.h"

#define ALL_FEATURES UINT64_MAX

/* What the front-end's channel callbacks saw. */
struct crec {
	pthread_mutex_t lock;
	unsigned calls[VHOST_USER_BACKEND_MAX];
	int fail_next;
	struct vhost_user_iotlb iotlb;
	uint32_t index;
	uint64_t size, offset;
	int fd; /* the last fd kept (notifier, shmem map) */
	bool got_nofd;
	struct vhost_user_shared uuid;
	struct vhost_user_mmap mmap;
	int export_fd; /* answered to SHARED_OBJECT_LOOKUP for uuid 0x11 */
};

static int rec(struct crec *c, uint32_t req)
{
	int r;

	pthread_mutex_lock(&c->lock);
	c->calls[req]++;
	r = c->fail_next;
	c->fail_next = 0;
	return r;
}

static int done(struct crec *c, int r)
{
	pthread_mutex_unlock(&c->lock);
	return r;
}

#define REC(req)                   \
	struct crec *c = opaque;   \
	int fail_ = rec(c, (req)); \
	if (fail_)                 \
	return done(c, fail_)

static int c_iotlb(void *opaque, const struct vhost_user_iotlb *m)
{
	REC(VHOST_USER_BACKEND_IOTLB_MSG);
	c->iotlb = *m;
	return done(c, 0);
}

static int c_config_change(void *opaque)
{
	REC(VHOST_USER_BACKEND_CONFIG_CHANGE_MSG);
	return done(c, 0);
}

static void keep(struct crec *c, int *fd)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = *fd;
	*fd = -1;
}

static int c_host_notifier(void *opaque, uint32_t index, uint64_t size,
			   uint64_t offset, int *fd)
{
	REC(VHOST_USER_BACKEND_VRING_HOST_NOTIFIER_MSG);
	c->index = index;
	c->size = size;
	c->offset = offset;
	c->got_nofd = *fd < 0;
	if (*fd >= 0)
		keep(c, fd);
	return done(c, 0);
}

static int c_vring_call(void *opaque, uint32_t index)
{
	REC(VHOST_USER_BACKEND_VRING_CALL);
	c->index = index;
	return done(c, 0);
}

static int c_vring_err(void *opaque, uint32_t index)
{
	REC(VHOST_USER_BACKEND_VRING_ERR);
	c->index = index;
	return done(c, 0);
}

static int c_obj_add(void *opaque, const struct vhost_user_shared *u)
{
	REC(VHOST_USER_BACKEND_SHARED_OBJECT_ADD);
	c->uuid = *u;
	return done(c, 0);
}

static int c_obj_remove(void *opaque, const struct vhost_user_shared *u)
{
	REC(VHOST_USER_BACKEND_SHARED_OBJECT_REMOVE);
	c->uuid = *u;
	return done(c, 0);
}

static int c_obj_lookup(void *opaque, const struct vhost_user_shared *u,
			int *fd_out)
{
	REC(VHOST_USER_BACKEND_SHARED_OBJECT_LOOKUP);
	c->uuid = *u;
	*fd_out = u->uuid[0] == 0x11 ? dup(c->export_fd) : -1;
	return done(c, 0);
}

static int c_shmem_map(void *opaque, const struct vhost_user_mmap *m, int *fd)
{
	REC(VHOST_USER_BACKEND_SHMEM_MAP);
	c->mmap = *m;
	keep(c, fd);
	return done(c, 0);
}

static int c_shmem_unmap(void *opaque, const struct vhost_user_mmap *m)
{
	REC(VHOST_USER_BACKEND_SHMEM_UNMAP);
	c->mmap = *m;
	return done(c, 0);
}

static const struct vh_frontend_backend_ops chan_ops = {
    .iotlb_msg = c_iotlb,
    .config_change = c_config_change,
    .host_notifier = c_host_notifier,
    .vring_call = c_vring_call,
    .vring_err = c_vring_err,
    .shared_object_add = c_obj_add,
    .shared_object_remove = c_obj_remove,
    .shared_object_lookup = c_obj_lookup,
    .shmem_map = c_shmem_map,
    .shmem_unmap = c_shmem_unmap,
};

struct chan_fx {
	struct fixture fx;
	struct crec c;
	struct loop chan_loop;
};

static int chan_handle(void *f)
{
	return vh_frontend_handle_backend_readable(f);
}

static int chan_fd(void *f)
{
	return vh_frontend_backend_channel_fd(f);
}

static void chan_start(struct chan_fx *t, uint64_t pf)
{
	fixture_start(&t->fx, TDEV_ALL_PF);
	fixture_negotiate(&t->fx, pf, ALL_FEATURES);
	memset(&t->c, 0, sizeof(t->c));
	pthread_mutex_init(&t->c.lock, NULL);
	t->c.fd = -1;
	t->c.export_fd = make_memfd(4096);
	assert_int_equal(
	    vh_frontend_enable_backend_channel(t->fx.f, &chan_ops, &t->c), 0);
	assert_true(vh_frontend_backend_channel_fd(t->fx.f) >= 0);
	/* Without REPLY_ACK SET_BACKEND_REQ_FD is not acked: sync. */
	fixture_sync(&t->fx);
	loop_start(&t->chan_loop, chan_handle, chan_fd, t->fx.f);
}

static void chan_stop(struct chan_fx *t)
{
	loop_stop(&t->chan_loop);
	if (t->c.fd >= 0)
		close(t->c.fd);
	close(t->c.export_fd);
	pthread_mutex_destroy(&t->c.lock);
	fixture_stop(&t->fx);
}

static unsigned ccalls(struct crec *c, uint32_t req)
{
	unsigned n;

	pthread_mutex_lock(&c->lock);
	n = c->calls[req];
	pthread_mutex_unlock(&c->lock);
	return n;
}

/* Wait (2 s at most) until callback @req ran @n times. */
static void wait_calls(struct crec *c, uint32_t req, unsigned n)
{
	struct timespec ms = {0, 1000000};
	int i;

	for (i = 0; i < 2000 && ccalls(c, req) < n; i++)
		nanosleep(&ms, NULL);
	assert_int_equal(ccalls(c, req), n);
}

static void fail_next(struct crec *c, int err)
{
	pthread_mutex_lock(&c->lock);
	c->fail_next = err;
	pthread_mutex_unlock(&c->lock);
}

static void every_backend_request_reaches_its_callback_acked(void **state)
{
	struct chan_fx t;
	struct vhost_user_iotlb miss = {.iova = 0x4000,
					.perm = VHOST_USER_IOTLB_RO,
					.type = VHOST_USER_IOTLB_MISS};
	struct vhost_user_shared u = {.uuid = {0x33, 1, 2}};
	struct vhost_user_mmap m = {.shmid = 1,
				    .fd_offset = 0,
				    .shm_offset = 0x2000,
				    .len = 0x1000,
				    .flags = VHOST_USER_FLAG_MAP_RW};
	int nfd, sfd;
	uint8_t *mine, *theirs;

	(void)state;
	chan_start(&t, TDEV_ALL_PF);
	nfd = make_memfd(4096);
	sfd = make_memfd(4096);
	assert_int_equal(vh_backend_send_iotlb_msg(t.fx.b, &miss, true), 0);
	assert_memory_equal(&t.c.iotlb, &miss, sizeof(miss));
	assert_int_equal(vh_backend_send_config_change(t.fx.b, true), 0);
	assert_int_equal(ccalls(&t.c, VHOST_USER_BACKEND_CONFIG_CHANGE_MSG), 1);
	/* Host notifier: the area's fd maps the same memory. */
	assert_int_equal(
	    vh_backend_send_host_notifier(t.fx.b, 3, 4096, 0, nfd, true), 0);
	assert_int_equal(t.c.index, 3);
	assert_int_equal(t.c.size, 4096);
	mine = map_fd(t.c.fd, 4096);
	theirs = map_fd(nfd, 4096);
	theirs[8] = 0x42;
	assert_int_equal(mine[8], 0x42);
	munmap(mine, 4096);
	munmap(theirs, 4096);
	assert_int_equal(
	    vh_backend_send_host_notifier(t.fx.b, 3, 0, 0, -1, true), 0);
	assert_true(t.c.got_nofd);
	/* In-band notifications always wait for the ack. */
	assert_int_equal(vh_backend_send_vring_call(t.fx.b, 2), 0);
	assert_int_equal(t.c.index, 2);
	assert_int_equal(vh_backend_send_vring_err(t.fx.b, 1), 0);
	assert_int_equal(t.c.index, 1);
	assert_int_equal(vh_backend_shared_object_add(t.fx.b, &u, true), 0);
	assert_memory_equal(&t.c.uuid, &u, sizeof(u));
	assert_int_equal(vh_backend_shared_object_remove(t.fx.b, &u, true), 0);
	assert_int_equal(ccalls(&t.c, VHOST_USER_BACKEND_SHARED_OBJECT_REMOVE),
			 1);
	assert_int_equal(vh_backend_shmem_map(t.fx.b, &m, sfd, true), 0);
	assert_memory_equal(&t.c.mmap, &m, sizeof(m));
	assert_true(same_file(t.c.fd, sfd));
	m.flags = 0;
	assert_int_equal(vh_backend_shmem_unmap(t.fx.b, &m, true), 0);
	assert_int_equal(ccalls(&t.c, VHOST_USER_BACKEND_SHMEM_UNMAP), 1);
	close(nfd);
	close(sfd);
	chan_stop(&t);
}

static void shared_object_lookup_returns_the_exported_fd(void **state)
{
	struct chan_fx t;
	struct vhost_user_shared known = {.uuid = {0x11}},
				 unknown = {.uuid = {0x99}};
	int fd = -2;
	uint8_t *a, *b;

	(void)state;
	chan_start(&t, TDEV_ALL_PF);
	assert_int_equal(vh_backend_shared_object_lookup(t.fx.b, &known, &fd),
			 0);
	assert_true(same_file(fd, t.c.export_fd));
	a = map_fd(fd, 4096);
	b = map_fd(t.c.export_fd, 4096);
	b[0] = 'x';
	assert_int_equal(a[0], 'x');
	munmap(a, 4096);
	munmap(b, 4096);
	close(fd);
	fd = -2;
	assert_int_equal(vh_backend_shared_object_lookup(t.fx.b, &unknown, &fd),
			 -EIO);
	assert_int_equal(fd, -1);
	chan_stop(&t);
}

static void a_failing_callback_is_nacked_when_asked(void **state)
{
	struct chan_fx t;

	(void)state;
	chan_start(&t, TDEV_ALL_PF);
	fail_next(&t.c, -EINVAL);
	assert_int_equal(vh_backend_send_config_change(t.fx.b, true), -EIO);
	/* The channel survives a nack. */
	assert_int_equal(vh_backend_send_config_change(t.fx.b, true), 0);
	assert_int_equal(vh_frontend_backend_channel_fd(t.fx.f) >= 0, 1);
	chan_stop(&t);
}

static void a_missing_callback_is_nacked(void **state)
{
	static const struct vh_frontend_backend_ops none = {0};
	struct fixture fx;
	struct loop l;

	(void)state;
	fixture_start(&fx, TDEV_ALL_PF);
	fixture_negotiate(&fx, TDEV_ALL_PF, ALL_FEATURES);
	assert_int_equal(vh_frontend_enable_backend_channel(fx.f, &none, NULL),
			 0);
	loop_start(&l, chan_handle, chan_fd, fx.f);
	assert_int_equal(vh_backend_send_config_change(fx.b, true), -EIO);
	assert_int_equal(vh_backend_send_vring_call(fx.b, 0), -EIO);
	assert_int_equal(loop_stop(&l), 0);
	fixture_stop(&fx);
}

static void without_reply_ack_requests_are_handled_unacked(void **state)
{
	struct chan_fx t;
	const uint64_t pf =
	    TDEV_ALL_PF &
	    ~(vh_protocol_feature_mask(VHOST_USER_PROTOCOL_F_REPLY_ACK) |
	      vh_protocol_feature_mask(
		  VHOST_USER_PROTOCOL_F_INBAND_NOTIFICATIONS));
	struct vhost_user_shared u = {.uuid = {0x44}};

	(void)state;
	chan_start(&t, pf);
	/* need_reply is not honoured without REPLY_ACK: returns at once. */
	assert_int_equal(vh_backend_send_config_change(t.fx.b, true), 0);
	assert_int_equal(vh_backend_shared_object_add(t.fx.b, &u, false), 0);
	wait_calls(&t.c, VHOST_USER_BACKEND_CONFIG_CHANGE_MSG, 1);
	wait_calls(&t.c, VHOST_USER_BACKEND_SHARED_OBJECT_ADD, 1);
	/* A failure goes unreported, and the channel stays. */
	fail_next(&t.c, -EINVAL);
	assert_int_equal(vh_backend_send_config_change(t.fx.b, false), 0);
	wait_calls(&t.c, VHOST_USER_BACKEND_CONFIG_CHANGE_MSG, 2);
	assert_int_equal(vh_backend_send_config_change(t.fx.b, false), 0);
	wait_calls(&t.c, VHOST_USER_BACKEND_CONFIG_CHANGE_MSG, 3);
	chan_stop(&t);
}

static void channel_needs_backend_req_and_is_made_once(void **state)
{
	struct fixture fx;
	struct crec c = {.fd = -1};

	(void)state;
	fixture_start(&fx, TDEV_ALL_PF);
	/* (In-band notifications need BACKEND_REQ: leave them out too.) */
	fixture_negotiate(
	    &fx,
	    TDEV_ALL_PF &
		~(vh_protocol_feature_mask(VHOST_USER_PROTOCOL_F_BACKEND_REQ) |
		  vh_protocol_feature_mask(
		      VHOST_USER_PROTOCOL_F_INBAND_NOTIFICATIONS)),
	    ALL_FEATURES);
	assert_int_equal(
	    vh_frontend_enable_backend_channel(fx.f, &chan_ops, &c),
	    -EOPNOTSUPP);
	assert_int_equal(vh_frontend_backend_channel_fd(fx.f), -1);
	assert_int_equal(vh_frontend_handle_backend_readable(fx.f), -ENOTCONN);
	fixture_stop(&fx);

	fixture_start(&fx, TDEV_ALL_PF);
	fixture_negotiate(&fx, TDEV_ALL_PF, ALL_FEATURES);
	assert_int_equal(
	    vh_frontend_enable_backend_channel(fx.f, &chan_ops, &c), 0);
	assert_int_equal(
	    vh_frontend_enable_backend_channel(fx.f, &chan_ops, &c), -EALREADY);
	assert_true(fx.dev.channel_ready);
	fixture_stop(&fx);
}

static void backend_closing_its_channel_is_reported(void **state)
{
	struct chan_fx t;

	(void)state;
	chan_start(&t, TDEV_ALL_PF);
	assert_int_equal(loop_stop(&t.chan_loop), 0);
	/* The back-end goes away: its end of the channel closes with it. */
	shutdown(vh_frontend_fd(t.fx.f), SHUT_RDWR);
	pthread_join(t.fx.th, NULL);
	t.fx.running = false;
	vh_backend_free(t.fx.b);
	t.fx.b = NULL;
	assert_int_equal(vh_frontend_handle_backend_readable(t.fx.f),
			 -ECONNRESET);
	assert_int_equal(vh_frontend_backend_channel_fd(t.fx.f), -1);
	assert_int_equal(vh_frontend_handle_backend_readable(t.fx.f),
			 -ENOTCONN);
	close(t.c.export_fd);
	pthread_mutex_destroy(&t.c.lock);
	fixture_stop(&t.fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(every_backend_request_reaches_its_callback_acked),
	    cmocka_unit_test(shared_object_lookup_returns_the_exported_fd),
	    cmocka_unit_test(a_failing_callback_is_nacked_when_asked),
	    cmocka_unit_test(a_missing_callback_is_nacked),
	    cmocka_unit_test(without_reply_ack_requests_are_handled_unacked),
	    cmocka_unit_test(channel_needs_backend_req_and_is_made_once),
	    cmocka_unit_test(backend_closing_its_channel_is_reported),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
