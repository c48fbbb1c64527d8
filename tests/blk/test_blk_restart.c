/* SPDX-License-Identifier: MIT */
/*
 * vhost-user-blk killed (SIGKILL) while it holds requests, and restarted:
 * the front-end hands the new process the same in-flight region
 * (INFLIGHT_SHMFD, vhost-user.rst "Inflight I/O tracking"), as QEMU does
 * after a back-end crash. Every request completes exactly once, with status
 * OK, and the image holds exactly what was written. Split and packed rings.
 *
 * Requests: WRITEs of 64 KiB, each to its own range with its own
 * pattern, 64 in flight, to an image in /tmp with O_DIRECT. The device is
 * frozen (SIGSTOP) at a moment when the region shows requests in flight
 * (retrying until it does), then killed.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "bt.h"

#define ALL   (~(uint64_t)0)
#define RING  128
#define DEPTH 32
#define NREQ  2048
#define RLEN  65536u /* bytes per request */

struct run {
	struct bt t;
	bool packed;
	uint32_t done[NREQ];
	unsigned next, ndone, inflight;
	uint16_t free_slots[DEPTH];
	unsigned nfree;
	uint8_t *region;
	size_t region_len;
};

static uint8_t byte_of(unsigned id, uint32_t i)
{
	return (uint8_t)(id * 29u + i * 3u + (i >> 12) + 1u);
}

static void submit(struct run *r, unsigned id)
{
	unsigned s = r->free_slots[--r->nfree];
	uint8_t *h = bt_host(&r->t, 0, s, 0), *d;
	uint32_t type = VIRTIO_BLK_T_OUT;
	uint64_t sector = (uint64_t)id * (RLEN / 512);
	struct vh_drv_buf out[2] = {{bt_gpa(0, s, 0), 16},
				    {bt_gpa(0, s, BT_DATA_OFF), RLEN}};
	struct vh_drv_buf in = {bt_gpa(0, s, 16), 1};

	memcpy(h, &type, 4);
	memset(h + 4, 0, 4);
	memcpy(h + 8, &sector, 8);
	h[16] = 0xff;
	d = bt_host(&r->t, 0, s, BT_DATA_OFF);
	for (uint32_t i = 0; i < RLEN; i++)
		d[i] = byte_of(id, i);
	assert_int_equal(
	    bt_add(&r->t, 0, out, 2, &in, 1, ((uintptr_t)id << 8) | s), 0);
	r->inflight++;
}

/* Reap what is there (or wait up to @ms for one). */
static unsigned reap(struct run *r, int ms)
{
	unsigned n = 0;
	uintptr_t tok;
	uint32_t len;

	while (bt_reap(&r->t, 0, n ? 0 : ms, &tok, &len) == 1) {
		unsigned id = (unsigned)(tok >> 8), s = tok & 0xff;

		assert_true(id < NREQ && s < DEPTH);
		assert_int_equal(len, 1);
		assert_int_equal(*(uint8_t *)bt_host(&r->t, 0, s, 16),
				 VIRTIO_BLK_S_OK);
		r->done[id]++;
		assert_int_equal(r->done[id], 1); /* exactly once */
		r->free_slots[r->nfree++] = (uint16_t)s;
		r->inflight--;
		r->ndone++;
		n++;
	}
	return n;
}

static void pump(struct run *r, unsigned until_done)
{
	while (r->ndone < until_done) {
		while (r->next < NREQ && r->nfree)
			submit(r, r->next++);
		bt_kick(&r->t, 0);
		assert_true(reap(r, TH_TIMEOUT_MS) > 0);
	}
}

static unsigned held(const struct run *r)
{
	size_t hdr = r->packed ? 32 : 16, ent = r->packed ? 32 : 16;
	unsigned n = 0;

	for (unsigned i = 0; i < RING; i++)
		n += r->region[hdr + i * ent] == 1;
	return n;
}

static void connect(struct run *r, const struct vhost_user_inflight *inf,
		    int ifd, uint32_t base)
{
	bt_connect(&r->t, r->packed ? ALL
				    : ALL & ~vh_virtio_feature_mask(
						VH_VIRTIO_F_RING_PACKED));
	assert_int_equal(r->t.g.packed, r->packed);
	assert_int_equal(vh_frontend_set_inflight_fd(r->t.g.fe, inf, ifd), 0);
	th_ring_setup(&r->t.g, 0, RING, base);
}

static void killed_mid_io(bool packed)
{
	static struct run r;
	struct vhost_user_inflight req = {.num_queues = 1, .queue_size = RING};
	struct vhost_user_inflight rep;
	unsigned tries = 0, at_kill = 0;
	uint32_t base = 0;
	int ifd;

	memset(&r, 0, sizeof(r));
	r.packed = packed;
	for (unsigned s = DEPTH; s-- > 0;)
		r.free_slots[r.nfree++] = (uint16_t)s;
	bt_init(&r.t);
	bt_image(&r.t, (uint64_t)NREQ * RLEN, false);
	bt_start(&r.t, "--direct", "on", NULL);

	/* QEMU's order: GET_INFLIGHT_FD, SET_INFLIGHT_FD, then the rings. */
	bt_connect(&r.t, packed ? ALL
				: ALL & ~vh_virtio_feature_mask(
					    VH_VIRTIO_F_RING_PACKED));
	assert_true(
	    vh_protocol_has(r.t.g.pf, VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD));
	assert_int_equal(
	    vh_frontend_get_inflight_fd(r.t.g.fe, &req, &rep, &ifd), 0);
	r.region_len = rep.mmap_size;
	r.region = mmap(NULL, r.region_len, PROT_READ | PROT_WRITE, MAP_SHARED,
			ifd, 0);
	assert_true(r.region != MAP_FAILED);
	assert_int_equal(vh_frontend_set_inflight_fd(r.t.g.fe, &rep, ifd), 0);
	th_ring_setup(&r.t.g, 0, RING, 0);

	/* Run, then freeze the device at a moment it holds requests. */
	pump(&r, NREQ / 4);
	for (;;) {
		while (r.next < NREQ && r.nfree)
			submit(&r, r.next++);
		bt_kick(&r.t, 0);
		th_sleep_ms(tries % 3);
		assert_int_equal(kill(r.t.pid, SIGSTOP), 0);
		th_sleep_ms(5);
		at_kill = held(&r);
		if (at_kill > 0 || ++tries > 300)
			break;
		assert_int_equal(kill(r.t.pid, SIGCONT), 0);
		reap(&r, 0);
	}
	assert_true(at_kill > 0);
	bt_kill(&r.t);
	bt_disconnect(&r.t);
	reap(&r, 0); /* what the dead one had pushed */
	print_message("killed holding %u requests (%u done, %u in flight)\n",
		      at_kill, r.ndone, r.inflight);
	assert_true(r.ndone < NREQ);

	/* The restarted back-end, same region; the base QEMU sends after a
	 * crash is the used index; the region decides. */
	bt_start(&r.t, "--direct", "on", NULL);
	if (!packed) {
		uint16_t used_idx;

		memcpy(&used_idx, r.t.g.mem + 0x2000 + 2, 2);
		base = used_idx;
	}
	connect(&r, &rep, ifd, base);
	pump(&r, NREQ);
	assert_int_equal(held(&r), 0);
	for (unsigned i = 0; i < NREQ; i++)
		assert_int_equal(r.done[i], 1);

	/* The image holds every request's data, once. */
	{
		static uint8_t img[RLEN];

		for (unsigned id = 0; id < NREQ; id++) {
			bt_img_read(&r.t, (uint64_t)id * RLEN, img, RLEN);
			for (uint32_t i = 0; i < RLEN; i++)
				if (img[i] != byte_of(id, i)) {
					fprintf(stderr,
						"request %u byte %u: 0x%02x\n",
						id, i, img[i]);
					fail();
				}
		}
	}
	munmap(r.region, r.region_len);
	close(ifd);
	bt_fini(&r.t);
}

static void test_split_ring_restart_completes_every_request_once(void **s)
{
	(void)s;
	killed_mid_io(false);
}

static void test_packed_ring_restart_completes_every_request_once(void **s)
{
	(void)s;
	killed_mid_io(true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
		test_split_ring_restart_completes_every_request_once),
	    cmocka_unit_test(
		test_packed_ring_restart_completes_every_request_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
