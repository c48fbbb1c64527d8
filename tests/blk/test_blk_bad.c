/* SPDX-License-Identifier: MIT */
/*
 * vhost-user-blk against hostile or broken requests (virtio 1.2 §5.2.6):
 * each gets the right status and used length, or is handed back
 * unprocessed when it has no status byte; nothing outside the request is
 * touched, the refusal is counted, and the device serves the next request
 * (and the next connection). Also DISCARD / WRITE_ZEROES with UNMAP on a
 * sparse file: the file's allocated blocks shrink and the range reads zero.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "bt.h"

#define MiB	 (1024u * 1024u)
#define ALL	 (~(uint64_t)0)
#define IMG_SIZE (4u * MiB)
#define CAP	 (IMG_SIZE / 512)

static void header(struct bt *t, unsigned slot, uint32_t type, uint64_t sector)
{
	uint8_t *h = bt_host(t, 0, slot, 0);

	memcpy(h, &type, 4);
	memset(h + 4, 0, 4);
	memcpy(h + 8, &sector, 8);
}

/* Submit a hand-made chain on ring 0 and wait: returns the used length. */
static uint32_t submit(struct bt *t, const struct vh_drv_buf *out,
		       unsigned nout, const struct vh_drv_buf *in, unsigned nin)
{
	uintptr_t tok;
	uint32_t used;

	assert_int_equal(bt_add(t, 0, out, nout, in, nin, 42), 0);
	bt_kick(t, 0);
	assert_int_equal(bt_reap(t, 0, TH_TIMEOUT_MS, &tok, &used), 1);
	assert_int_equal(tok, 42);
	return used;
}

static uint8_t status_of(struct bt *t)
{
	return *(uint8_t *)bt_host(t, 0, 1, 16);
}

static void still_serves(struct bt *t)
{
	uint8_t d[512];
	uint32_t used;

	assert_int_equal(bt_req(t, 0, VIRTIO_BLK_T_IN, 0, d, 512, &used),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(used, 513);
	for (unsigned i = 0; i < 512; i++)
		assert_int_equal(d[i], bt_pattern(i));
}

static void expect(struct bt *t, uint32_t type, uint64_t sector, uint32_t len,
		   uint8_t status)
{
	uint8_t d[8192];
	uint32_t used;

	assert_true(len <= sizeof(d));
	memset(d, 0x5a, sizeof(d));
	assert_int_equal(bt_req(t, 0, type, sector, d, len, &used), status);
	assert_int_equal(used, 1);
	if (type == VIRTIO_BLK_T_IN)
		for (unsigned i = 0; i < len; i++)
			assert_int_equal(d[i], 0xee); /* never written */
}

static void test_out_of_range_and_misshapen_io_gets_ioerr(void **s)
{
	struct stat st;
	struct bt t;

	(void)s;
	bt_init(&t);
	bt_image(&t, IMG_SIZE, true);
	bt_start(&t, NULL);
	bt_connect(&t, ALL);
	bt_ring(&t, 0, BT_RING);
	expect(&t, VIRTIO_BLK_T_IN, CAP, 512, VIRTIO_BLK_S_IOERR);
	expect(&t, VIRTIO_BLK_T_IN, CAP - 1, 1024, VIRTIO_BLK_S_IOERR);
	expect(&t, VIRTIO_BLK_T_IN, UINT64_MAX - 1, 1024, VIRTIO_BLK_S_IOERR);
	expect(&t, VIRTIO_BLK_T_IN, UINT64_MAX / 512 + 1, 512,
	       VIRTIO_BLK_S_IOERR);
	expect(&t, VIRTIO_BLK_T_OUT, CAP, 512, VIRTIO_BLK_S_IOERR);
	expect(&t, VIRTIO_BLK_T_IN, 0, 100, VIRTIO_BLK_S_IOERR);
	expect(&t, VIRTIO_BLK_T_OUT, 0, 513, VIRTIO_BLK_S_IOERR);
	expect(&t, 99, 0, 512, VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(stat(t.img, &st), 0);
	assert_int_equal(st.st_size, IMG_SIZE); /* not grown */
	/* The last block itself is fine. */
	{
		uint8_t d[512];
		uint32_t used;

		assert_int_equal(
		    bt_req(&t, 0, VIRTIO_BLK_T_IN, CAP - 1, d, 512, &used),
		    VIRTIO_BLK_S_OK);
		for (unsigned i = 0; i < 512; i++)
			assert_int_equal(d[i], bt_pattern(IMG_SIZE - 512 + i));
	}
	still_serves(&t);
	bt_fini(&t);
}

static void test_bad_chains_are_refused_and_the_device_lives_on(void **s)
{
	uint8_t *data, *st;
	struct bt t;
	uint32_t used;

	(void)s;
	bt_init(&t);
	bt_image(&t, IMG_SIZE, true);
	bt_start(&t, NULL);
	bt_connect(&t, ALL);
	bt_ring(&t, 0, BT_RING);
	data = bt_host(&t, 0, 1, BT_DATA_OFF);
	st = bt_host(&t, 0, 1, 16);

	/* A READ whose data buffer is device-readable (§2.7.5.1: the
	 * device must not write it): IOERR, buffer untouched. */
	{
		struct vh_drv_buf out[2] = {{bt_gpa(0, 1, 0), 16},
					    {bt_gpa(0, 1, BT_DATA_OFF), 512}};
		struct vh_drv_buf in = {bt_gpa(0, 1, 16), 1};

		header(&t, 1, VIRTIO_BLK_T_IN, 0);
		memset(data, 0x77, 512);
		*st = 0xff;
		used = submit(&t, out, 2, &in, 1);
		assert_int_equal(used, 1);
		assert_int_equal(status_of(&t), VIRTIO_BLK_S_IOERR);
		for (unsigned i = 0; i < 512; i++)
			assert_int_equal(data[i], 0x77);
	}
	/* No device-writable byte at all: nowhere to put a status. The
	 * buffer comes back unprocessed (used length 0). */
	{
		struct vh_drv_buf out[2] = {{bt_gpa(0, 1, 0), 16},
					    {bt_gpa(0, 1, BT_DATA_OFF), 512}};

		header(&t, 1, VIRTIO_BLK_T_IN, 0);
		assert_int_equal(submit(&t, out, 1, NULL, 0), 0);
		header(&t, 1, VIRTIO_BLK_T_OUT, 0);
		memset(data, 0x33, 512);
		assert_int_equal(submit(&t, out, 2, NULL, 0), 0);
		still_serves(&t); /* and sector 0 was not written */
	}
	/* A header cut short (8 of 16 bytes): IOERR. */
	{
		struct vh_drv_buf out = {bt_gpa(0, 1, 0), 8};
		struct vh_drv_buf in[2] = {{bt_gpa(0, 1, BT_DATA_OFF), 512},
					   {bt_gpa(0, 1, 16), 1}};

		header(&t, 1, VIRTIO_BLK_T_IN, 0);
		*st = 0xff;
		assert_int_equal(submit(&t, &out, 1, in + 1, 1), 1);
		assert_int_equal(status_of(&t), VIRTIO_BLK_S_IOERR);
		*st = 0xff;
		memset(data, 0x44, 512);
		assert_int_equal(submit(&t, &out, 1, in, 2), 1);
		assert_int_equal(status_of(&t), VIRTIO_BLK_S_IOERR);
		assert_int_equal(data[0], 0x44);
	}
	/* A WRITE with device-writable data: IOERR, nothing written. */
	{
		struct vh_drv_buf out = {bt_gpa(0, 1, 0), 16};
		struct vh_drv_buf in[2] = {{bt_gpa(0, 1, BT_DATA_OFF), 512},
					   {bt_gpa(0, 1, 16), 1}};

		header(&t, 1, VIRTIO_BLK_T_OUT, 0);
		*st = 0xff;
		assert_int_equal(submit(&t, &out, 1, in, 2), 1);
		assert_int_equal(status_of(&t), VIRTIO_BLK_S_IOERR);
	}
	still_serves(&t);
	/* A new connection is served too. */
	bt_disconnect(&t);
	bt_connect(&t, ALL);
	bt_ring(&t, 0, BT_RING);
	still_serves(&t);
	bt_fini(&t);
}

struct dwz {
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;
};

static uint8_t dwz(struct bt *t, uint32_t type, uint64_t sector, uint32_t n,
		   uint32_t flags)
{
	struct dwz r = {sector, n, flags};
	uint32_t used;
	uint8_t status = (uint8_t)bt_req(t, 0, type, 0, &r, sizeof(r), &used);

	assert_int_equal(used, 1);
	return status;
}

static blkcnt_t blocks(struct bt *t)
{
	struct stat st;

	assert_int_equal(stat(t->img, &st), 0);
	return st.st_blocks;
}

static void write_range(struct bt *t, uint64_t sector, uint32_t bytes)
{
	static uint8_t d[BT_DATA_MAX];
	uint32_t used;

	memset(d, 0xab, sizeof(d));
	for (uint32_t o = 0; o < bytes; o += BT_DATA_MAX)
		assert_int_equal(bt_req(t, 0, VIRTIO_BLK_T_OUT,
					sector + o / 512, d, BT_DATA_MAX,
					&used),
				 VIRTIO_BLK_S_OK);
}

static void reads_zero(struct bt *t, uint64_t sector, uint32_t bytes)
{
	static uint8_t d[BT_DATA_MAX], img[BT_DATA_MAX];
	uint32_t used;

	for (uint32_t o = 0; o < bytes; o += BT_DATA_MAX) {
		assert_int_equal(bt_req(t, 0, VIRTIO_BLK_T_IN, sector + o / 512,
					d, BT_DATA_MAX, &used),
				 VIRTIO_BLK_S_OK);
		bt_img_read(t, sector * 512 + o, img, BT_DATA_MAX);
		for (unsigned i = 0; i < BT_DATA_MAX; i++) {
			assert_int_equal(d[i], 0);
			assert_int_equal(img[i], 0);
		}
	}
}

static void test_discard_and_write_zeroes_unmap_a_sparse_file(void **s)
{
	const uint32_t M = MiB / 512; /* sectors per MiB */
	blkcnt_t full, after;
	struct bt t;

	(void)s;
	bt_init(&t);
	bt_image(&t, 16 * MiB, false);
	bt_start(&t, NULL);
	bt_connect(&t, ALL);
	bt_ring(&t, 0, BT_RING);
	write_range(&t, 0, 4 * MiB);
	assert_int_equal(
	    bt_req(&t, 0, VIRTIO_BLK_T_FLUSH, 0, NULL, 0, &(uint32_t){0}),
	    VIRTIO_BLK_S_OK);
	full = blocks(&t);
	assert_true(full >= 4 * MiB / 512);

	/* WRITE_ZEROES with UNMAP: a hole. */
	assert_int_equal(dwz(&t, VIRTIO_BLK_T_WRITE_ZEROES, 0, 2 * M,
			     VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP),
			 VIRTIO_BLK_S_OK);
	after = blocks(&t);
	assert_true(after <= full - 2 * MiB / 512);
	reads_zero(&t, 0, 2 * MiB);
	/* DISCARD: deallocated too (reads are not promised, only space). */
	assert_int_equal(dwz(&t, VIRTIO_BLK_T_DISCARD, 2 * M, M, 0),
			 VIRTIO_BLK_S_OK);
	assert_true(blocks(&t) <= after - MiB / 512);
	/* WRITE_ZEROES without UNMAP: zeroes, whatever the allocation. */
	assert_int_equal(dwz(&t, VIRTIO_BLK_T_WRITE_ZEROES, 3 * M, M / 2, 0),
			 VIRTIO_BLK_S_OK);
	reads_zero(&t, 3 * M, MiB / 2);

	/* Refusals (§5.2.6.2): UNMAP on DISCARD and unknown flags are
	 * UNSUPP; a range past the end or misaligned sizes are IOERR. */
	assert_int_equal(dwz(&t, VIRTIO_BLK_T_DISCARD, 0, 8,
			     VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP),
			 VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(dwz(&t, VIRTIO_BLK_T_WRITE_ZEROES, 0, 8, 2),
			 VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(dwz(&t, VIRTIO_BLK_T_DISCARD, 16 * M - 4, 8, 0),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(
	    dwz(&t, VIRTIO_BLK_T_WRITE_ZEROES, UINT64_MAX - 2, 8, 0),
	    VIRTIO_BLK_S_IOERR);
	assert_int_equal(
	    dwz(&t, VIRTIO_BLK_T_WRITE_ZEROES, 0, (1u << 22) + 1, 0),
	    VIRTIO_BLK_S_IOERR);
	{
		uint8_t junk[24] = {0};
		uint32_t used;

		assert_int_equal(bt_req(&t, 0, VIRTIO_BLK_T_DISCARD, 0, junk,
					sizeof(junk), &used),
				 VIRTIO_BLK_S_IOERR);
	}
	bt_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_out_of_range_and_misshapen_io_gets_ioerr),
	    cmocka_unit_test(
		test_bad_chains_are_refused_and_the_device_lives_on),
	    cmocka_unit_test(test_discard_and_write_zeroes_unmap_a_sparse_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
