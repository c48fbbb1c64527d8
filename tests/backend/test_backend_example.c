/* SPDX-License-Identifier: MIT */
/*
 * examples/vhost-user-example-backend as a process: it listens on
 * --socket-path, answers a QEMU-ordered handshake (with REPLY_ACK acks),
 * serves a second connection after the first hangs up, and on SIGTERM
 * exits 0 with its socket unlinked. argv[1] is the example's path.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static const char *example;
static char dir[64], sock_path[96];
static pid_t pid = -1;

static int start(void **state)
{
	char arg[128];

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/vh-example-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(sock_path, sizeof(sock_path), "%s/s.sock", dir);
	snprintf(arg, sizeof(arg), "--socket-path=%s", sock_path);
	pid = fork();
	if (pid == 0) {
		if (!getenv("VH_TEST_VERBOSE") &&
		    !freopen("/dev/null", "w", stdout))
			_exit(126);
		execl(example, example, arg, "--num-queues=2",
		      "--capacity=4096", (char *)NULL);
		_exit(127);
	}
	return pid > 0 ? 0 : -1;
}

static int stop(void **state)
{
	(void)state;
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	unlink(sock_path);
	rmdir(dir);
	return 0;
}

static struct vhost_user_msg *msg(void)
{
	static struct vhost_user_msg m;

	memset(&m.hdr, 0, sizeof(m.hdr));
	m.nfds = 0;
	return &m;
}

/* Send @req and, when @want, receive its reply into the static message. */
static struct vhost_user_msg *rpc(struct vh_conn *c, uint32_t req,
				  uint32_t flags, const void *p, uint32_t size,
				  const int *fds, unsigned nfds, bool want)
{
	struct vhost_user_msg *m = msg();

	vh_proto_init_hdr(&m->hdr, req, flags, size);
	if (size)
		memcpy(m->payload.raw, p, size);
	m->nfds = nfds;
	if (nfds)
		memcpy(m->fds, fds, nfds * sizeof(int));
	assert_int_equal(vh_conn_send(c, m), 0);
	if (!want)
		return m;
	m->nfds = 0;
	assert_int_equal(vh_conn_recv(c, m, 3000), 0);
	assert_int_equal(m->hdr.request, req);
	assert_true(m->hdr.flags & VHOST_USER_REPLY_MASK);
	return m;
}

static void ack(struct vh_conn *c, uint32_t req, const void *p, uint32_t size,
		const int *fds, unsigned nfds)
{
	struct vhost_user_msg *m =
	    rpc(c, req, T_NEED_REPLY, p, size, fds, nfds, true);

	assert_int_equal(m->hdr.size, 8);
	assert_int_equal(m->payload.u64, 0);
}

static void answers_a_qemu_ordered_handshake(void **state)
{
	uint64_t pf = T_PF(MQ) | T_PF(REPLY_ACK) | T_PF(CONFIG);
	uint64_t features =
	    T_VF(VIRTIO_F_VERSION_1) | T_VF(VHOST_USER_F_PROTOCOL_FEATURES);
	struct vhost_user_config cfg = {.hdr = {.offset = 0, .size = 60}};
	struct vhost_user_mem_table mt = {.nregions = 1};
	struct vhost_user_vring_state st = {.index = 1, .num = 64};
	struct vhost_user_vring_addr a = {.index = 1,
					  .desc_user_addr = 0x7f0000000000,
					  .avail_user_addr = 0x7f0000000400,
					  .used_user_addr = 0x7f0000000800};
	struct vhost_user_msg *m;
	struct vh_conn *c;
	uint64_t u64, cap;
	uint16_t nq;
	int memfd = t_memfd(0x10000), efd = t_eventfd();
	int fd;

	(void)state;
	fd = vh_sock_connect(sock_path, 5000);
	assert_true(fd >= 0);
	assert_int_equal(vh_conn_new(&c, fd, NULL), 0);

	m = rpc(c, VHOST_USER_GET_FEATURES, 0, NULL, 0, NULL, 0, true);
	assert_true(m->payload.u64 & features);
	m = rpc(c, VHOST_USER_GET_PROTOCOL_FEATURES, 0, NULL, 0, NULL, 0, true);
	assert_int_equal(m->payload.u64 & pf, pf);
	rpc(c, VHOST_USER_SET_PROTOCOL_FEATURES, 0, &pf, 8, NULL, 0, false);
	m = rpc(c, VHOST_USER_GET_QUEUE_NUM, 0, NULL, 0, NULL, 0, true);
	assert_int_equal(m->payload.u64, 2);
	m = rpc(c, VHOST_USER_GET_CONFIG, 0, &cfg, 72, NULL, 0, true);
	assert_int_equal(m->hdr.size, 72);
	memcpy(&cap, m->payload.config.region, 8);
	memcpy(&nq, m->payload.config.region + 34, 2);
	assert_int_equal(cap, 4096);
	assert_int_equal(nq, 2);

	ack(c, VHOST_USER_SET_OWNER, NULL, 0, NULL, 0);
	ack(c, VHOST_USER_SET_FEATURES, &features, 8, NULL, 0);
	mt.regions[0] =
	    (struct vhost_user_mem_region){.guest_phys_addr = 0,
					   .memory_size = 0x10000,
					   .userspace_addr = 0x7f0000000000,
					   .mmap_offset = 0};
	ack(c, VHOST_USER_SET_MEM_TABLE, &mt, VHOST_USER_MEM_TABLE_SIZE(1),
	    &memfd, 1);
	ack(c, VHOST_USER_SET_VRING_NUM, &st, 8, NULL, 0);
	st.num = 7;
	ack(c, VHOST_USER_SET_VRING_BASE, &st, 8, NULL, 0);
	ack(c, VHOST_USER_SET_VRING_ADDR, &a, sizeof(a), NULL, 0);
	u64 = 1;
	ack(c, VHOST_USER_SET_VRING_KICK, &u64, 8, &efd, 1);
	ack(c, VHOST_USER_SET_VRING_CALL, &u64, 8, &efd, 1);
	st.num = 1;
	ack(c, VHOST_USER_SET_VRING_ENABLE, &st, 8, NULL, 0);
	st.num = 0;
	m = rpc(c, VHOST_USER_GET_VRING_BASE, T_NEED_REPLY, &st, 8, NULL, 0,
		true);
	assert_int_equal(m->hdr.size, 8);
	assert_int_equal(m->payload.state.index, 1);
	assert_int_equal(m->payload.state.num, 7);
	vh_conn_free(c);
	close(memfd);
	close(efd);

	/* The next front-end is served too. */
	fd = vh_sock_connect(sock_path, 5000);
	assert_true(fd >= 0);
	assert_int_equal(vh_conn_new(&c, fd, NULL), 0);
	m = rpc(c, VHOST_USER_GET_FEATURES, 0, NULL, 0, NULL, 0, true);
	assert_true(m->payload.u64 & T_VF(VIRTIO_F_VERSION_1));
	vh_conn_free(c);
}

static void sigterm_exits_zero_and_unlinks_socket(void **state)
{
	struct stat st;
	int status = 0, i;
	pid_t done = 0;

	(void)state;
	assert_int_equal(stat(sock_path, &st), 0);
	assert_int_equal(kill(pid, SIGTERM), 0);
	for (i = 0; i < 300 && done == 0; i++) {
		done = waitpid(pid, &status, WNOHANG);
		if (done == 0)
			usleep(10000);
	}
	assert_int_equal(done, pid);
	pid = -1;
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(stat(sock_path, &st), -1);
	assert_int_equal(errno, ENOENT);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(answers_a_qemu_ordered_handshake),
	    cmocka_unit_test(sigterm_exits_zero_and_unlinks_socket),
	};

	if (argc < 2) {
		fprintf(stderr, "usage: %s EXAMPLE-BACKEND\n", argv[0]);
		return 2;
	}
	example = argv[1];
	return cmocka_run_group_tests(tests, start, stop);
}
