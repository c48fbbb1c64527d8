/* SPDX-License-Identifier: MIT */
/* vhost-user-blk test harness (bt.h). Failures abort the test (cmocka). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "bt.h"

static const char *bin(void)
{
	const char *b = getenv("VH_BLK_BIN");

	if (!b) {
		fprintf(stderr, "VH_BLK_BIN is not set (meson sets it)\n");
		fail();
	}
	return b;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

void bt_init(struct bt *t)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->dir, sizeof(t->dir), "/tmp/vh-blk-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->sock, sizeof(t->sock), "%s/sock", t->dir);
	snprintf(t->img, sizeof(t->img), "%s/disk.img", t->dir);
	snprintf(t->log, sizeof(t->log), "%s/log", t->dir);
	t->pid = -1;
	th_guest_init(&t->g, 1);
	th_quiet_logs();
}

void bt_fini(struct bt *t)
{
	bt_disconnect(t);
	if (t->pid > 0)
		assert_int_equal(bt_stop(t), 0);
	th_guest_fini(&t->g);
	if (getenv("TH_VERBOSE")) {
		char line[512];
		FILE *f = fopen(t->log, "r");

		while (f && fgets(line, sizeof(line), f))
			fprintf(stderr, "vhost-user-blk: | %s", line);
		if (f)
			fclose(f);
	}
	unlink(t->img);
	unlink(t->log);
	unlink(t->sock);
	rmdir(t->dir);
}

uint8_t bt_pattern(uint64_t o)
{
	return (uint8_t)((o >> 9) * 31u + (o & 511u) * 7u + 3u);
}

void bt_image(struct bt *t, uint64_t size, bool fill)
{
	int fd = open(t->img, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	uint8_t buf[4096];

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	for (uint64_t o = 0; fill && o < size; o += sizeof(buf)) {
		for (unsigned i = 0; i < sizeof(buf); i++)
			buf[i] = bt_pattern(o + i);
		assert_int_equal(pwrite(fd, buf, sizeof(buf), (off_t)o),
				 sizeof(buf));
	}
	close(fd);
}

void bt_img_read(struct bt *t, uint64_t off, void *buf, size_t len)
{
	int fd = open(t->img, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, buf, len, (off_t)off), (ssize_t)len);
	close(fd);
}

/* ---- the child process ----------------------------------------------------
 */

static pid_t spawn(char **argv, int out_fd, int err_fd)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 0);
		dup2(out_fd >= 0 ? out_fd : null, 1);
		if (err_fd >= 0)
			dup2(err_fd, 2);
		else if (!getenv("TH_VERBOSE"))
			dup2(null, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

static int wait_status(pid_t pid, int ms)
{
	long end = now_ms() + ms;
	int st;

	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid)
			break;
		assert_int_equal(r, 0);
		if (now_ms() > end) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			fprintf(stderr, "child %d did not exit in %d ms\n",
				(int)pid, ms);
			fail();
		}
		th_sleep_ms(2);
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

void bt_start(struct bt *t, ...)
{
	char *argv[32];
	unsigned n = 0;
	bool store = false;
	const char *a;
	va_list ap;
	long end;

	argv[n++] = (char *)bin();
	argv[n++] = "--socket-path";
	argv[n++] = t->sock;
	va_start(ap, t);
	while ((a = va_arg(ap, const char *)) && n < 28) {
		if (!strncmp(a, "--ram", 5) || !strncmp(a, "--null", 6))
			store = true;
		argv[n++] = (char *)a;
	}
	va_end(ap);
	if (!store) {
		argv[n++] = "--blk-file";
		argv[n++] = t->img;
	}
	argv[n] = NULL;
	{
		int fd = open(t->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
			      0600);

		assert_true(fd >= 0);
		t->pid = spawn(argv, -1, fd);
		close(fd);
	}
	end = now_ms() + TH_TIMEOUT_MS;
	while (access(t->sock, F_OK) != 0) {
		int st;

		if (waitpid(t->pid, &st, WNOHANG) == t->pid) {
			t->pid = -1;
			fprintf(stderr, "vhost-user-blk exited at start-up\n");
			fail();
		}
		assert_true(now_ms() < end);
		th_sleep_ms(2);
	}
}

int bt_run(char *out, size_t outlen, char *err, size_t errlen, ...)
{
	char *argv[32];
	unsigned n = 0;
	int po[2], pe[2], status;
	const char *a;
	size_t no = 0, ne = 0;
	va_list ap;
	pid_t pid;

	argv[n++] = (char *)bin();
	va_start(ap, errlen);
	while ((a = va_arg(ap, const char *)) && n < 31)
		argv[n++] = (char *)a;
	va_end(ap);
	argv[n] = NULL;
	assert_int_equal(pipe2(po, O_CLOEXEC), 0);
	assert_int_equal(pipe2(pe, O_CLOEXEC), 0);
	pid = spawn(argv, po[1], pe[1]);
	close(po[1]);
	close(pe[1]);
	for (;;) {
		struct pollfd p[2] = {{po[0], POLLIN, 0}, {pe[0], POLLIN, 0}};
		bool open_fds = false;

		if (poll(p, 2, 10000) <= 0)
			break;
		for (int i = 0; i < 2; i++) {
			char *buf = i ? err : out;
			size_t *pos = i ? &ne : &no, cap = i ? errlen : outlen;
			ssize_t r;

			if (!(p[i].revents & (POLLIN | POLLHUP)))
				continue;
			r = read(p[i].fd, buf + *pos, cap - 1 - *pos);
			if (r > 0) {
				*pos += (size_t)r;
				open_fds = true;
			} else {
				p[i].fd = -1;
			}
		}
		if (!open_fds)
			break;
	}
	out[no] = 0;
	err[ne] = 0;
	close(po[0]);
	close(pe[0]);
	status = wait_status(pid, 10000);
	return status;
}

bool bt_log_has(struct bt *t, const char *text)
{
	char buf[16384];
	FILE *f = fopen(t->log, "r");
	size_t n;

	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	return strstr(buf, text) != NULL;
}

int bt_stop(struct bt *t)
{
	int st;

	assert_true(t->pid > 0);
	assert_int_equal(kill(t->pid, SIGTERM), 0);
	st = wait_status(t->pid, TH_TIMEOUT_MS);
	t->pid = -1;
	return st;
}

void bt_kill(struct bt *t)
{
	assert_true(t->pid > 0);
	kill(t->pid, SIGKILL);
	waitpid(t->pid, NULL, 0);
	t->pid = -1;
}

/* ---- the guest ------------------------------------------------------------
 */

void bt_connect(struct bt *t, uint64_t mask)
{
	th_guest_connect(&t->g, t->sock, ~(uint64_t)0, mask, true);
	t->connected = true;
}

void bt_disconnect(struct bt *t)
{
	if (t->connected)
		th_guest_disconnect(&t->g);
	t->connected = false;
}

void bt_ring(struct bt *t, unsigned q, uint16_t size)
{
	th_ring_init(&t->g, q, size); /* fresh rings, also after a reconnect */
	th_ring_setup(&t->g, q, size, 0);
}

uint64_t bt_gpa(unsigned q, unsigned s, uint32_t off)
{
	unsigned k = q * BT_RING + s;

	assert_true(k < BT_SLOTS && off < BT_SLOT);
	return BT_AREA + (uint64_t)k * BT_SLOT + off;
}

void *bt_host(struct bt *t, unsigned q, unsigned s, uint32_t off)
{
	return th_host(&t->g, bt_gpa(q, s, off));
}

int bt_add(struct bt *t, unsigned q, const struct vh_drv_buf *out,
	   unsigned nout, const struct vh_drv_buf *in, unsigned nin,
	   uintptr_t token)
{
	return vh_drv_add(t->g.r[q].drv, out, nout, in, nin, false,
			  (void *)token);
}

void bt_kick(struct bt *t, unsigned q)
{
	th_kick_force(&t->g, q);
}

int bt_reap(struct bt *t, unsigned q, int ms, uintptr_t *token, uint32_t *len)
{
	long end = now_ms() + ms;

	for (;;) {
		void *tok;
		int rc = vh_drv_get_used(t->g.r[q].drv, &tok, len);
		struct pollfd p = {.fd = t->g.r[q].call, .events = POLLIN};
		long left;

		assert_true(rc >= 0);
		if (rc == 1) {
			*token = (uintptr_t)tok;
			return 1;
		}
		left = end - now_ms();
		if (left <= 0)
			return 0;
		if (poll(&p, 1, left < 10 ? (int)left : 10) > 0) {
			uint64_t v;

			(void)!read(t->g.r[q].call, &v, 8);
		}
	}
}

int bt_req(struct bt *t, unsigned q, uint32_t type, uint64_t sector, void *data,
	   uint32_t len, uint32_t *used)
{
	uint8_t *hdr = bt_host(t, q, 0, 0), *status = bt_host(t, q, 0, 16);
	uint8_t *buf = bt_host(t, q, 0, BT_DATA_OFF);
	bool dev_writes =
	    type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID;
	struct vh_drv_buf out[2] = {{bt_gpa(q, 0, 0), 16},
				    {bt_gpa(q, 0, BT_DATA_OFF), len}};
	struct vh_drv_buf in[2] = {{bt_gpa(q, 0, BT_DATA_OFF), len},
				   {bt_gpa(q, 0, 16), 1}};
	uintptr_t tok;

	assert_true(len <= BT_DATA_MAX);
	memcpy(hdr, &type, 4);
	memset(hdr + 4, 0, 4);
	memcpy(hdr + 8, &sector, 8);
	*status = 0xff;
	if (dev_writes)
		memset(buf, 0xee, len);
	else if (len)
		memcpy(buf, data, len);
	if (dev_writes)
		assert_int_equal(
		    bt_add(t, q, out, 1, len ? in : in + 1, len ? 2 : 1, 7), 0);
	else
		assert_int_equal(bt_add(t, q, out, len ? 2 : 1, in + 1, 1, 7),
				 0);
	bt_kick(t, q);
	assert_int_equal(bt_reap(t, q, TH_TIMEOUT_MS, &tok, used), 1);
	assert_int_equal(tok, 7);
	if (dev_writes && len)
		memcpy(data, buf, len);
	return *status;
}

void bt_config(struct bt *t, void *buf, uint32_t len)
{
	assert_int_equal(vh_frontend_get_config(t->g.fe, 0, len, 0, buf), 0);
}
