/* SPDX-License-Identifier: MIT */
/*
 * vhost-user-blk (the real program, a child process) driven by our
 * front-end and driver queues: every request type with the data checked
 * against the image file, the config space, SET_CONFIG of the write cache,
 * read-only mode, 4096-byte logical blocks, RAM and null modes, a tmpfs
 * image mapped (and truncated under the back-end).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <linux/magic.h>

#include <cmocka.h>

#include "bt.h"

#define MiB	 (1024u * 1024u)
#define ALL	 (~(uint64_t)0)
#define IMG_SIZE (8u * MiB)

static void fill(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 13u + seed * 101u + (i >> 9));
}

static void check_image_pattern(const uint8_t *p, uint64_t off, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != bt_pattern(off + i)) {
			fprintf(stderr, "byte %llu: 0x%02x, expected 0x%02x\n",
				(unsigned long long)(off + i), p[i],
				bt_pattern(off + i));
			fail();
		}
}

static void test_config_space_describes_the_image(void **s)
{
	struct virtio_blk_config c;
	uint64_t want =
	    BLK_FBIT(VIRTIO_BLK_F_SIZE_MAX) | BLK_FBIT(VIRTIO_BLK_F_SEG_MAX) |
	    BLK_FBIT(VIRTIO_BLK_F_BLK_SIZE) | BLK_FBIT(VIRTIO_BLK_F_FLUSH) |
	    BLK_FBIT(VIRTIO_BLK_F_TOPOLOGY) |
	    BLK_FBIT(VIRTIO_BLK_F_CONFIG_WCE) | BLK_FBIT(VIRTIO_BLK_F_MQ) |
	    BLK_FBIT(VIRTIO_BLK_F_DISCARD) |
	    BLK_FBIT(VIRTIO_BLK_F_WRITE_ZEROES) | VH_SERVER_RING_FEATURES;
	uint64_t nq = 0;
	struct bt t;

	(void)s;
	bt_init(&t);
	bt_image(&t, IMG_SIZE + 100, false); /* a partial block is not served */
	bt_start(&t, "--num-queues", "3", NULL);
	bt_connect(&t, ALL);
	assert_int_equal(t.g.offered & want, want);
	assert_false(t.g.offered & BLK_FBIT(VIRTIO_BLK_F_RO));
	assert_int_equal(vh_frontend_get_queue_num(t.g.fe, &nq), 0);
	assert_int_equal(nq, 3);
	bt_config(&t, &c, sizeof(c));
	assert_int_equal(c.capacity, IMG_SIZE / 512);
	assert_int_equal(c.blk_size, 512);
	assert_int_equal(c.seg_max, 126);
	assert_int_equal(c.size_max, 1u << 20);
	assert_int_equal(c.num_queues, 3);
	assert_int_equal(c.writeback, 1);
	assert_int_equal(c.physical_block_exp, 0);
	assert_int_equal(c.min_io_size, 1);
	assert_int_equal(c.max_discard_sectors, 1u << 22);
	assert_int_equal(c.max_discard_seg, 32);
	assert_int_equal(c.discard_sector_alignment, 1);
	assert_int_equal(c.max_write_zeroes_sectors, 1u << 22);
	assert_int_equal(c.max_write_zeroes_seg, 32);
	assert_int_equal(c.write_zeroes_may_unmap, 1);
	/* QEMU reads 60 bytes (up to write_zeroes_may_unmap). */
	bt_config(&t, &c, 60);
	bt_fini(&t);
}

static uint8_t get_wce(struct bt *t)
{
	struct virtio_blk_config c;

	bt_config(t, &c, sizeof(c));
	return c.writeback;
}

static void test_set_config_switches_the_write_cache_only(void **s)
{
	const uint32_t wce = offsetof(struct virtio_blk_config, writeback);
	uint8_t zero = 0, one = 1, two = 2, cap[8];
	struct virtio_blk_config c;
	struct bt t;

	(void)s;
	bt_init(&t);
	bt_image(&t, IMG_SIZE, false);
	bt_start(&t, NULL);
	bt_connect(&t, ALL);
	assert_int_equal(get_wce(&t), 1);
	assert_int_equal(vh_frontend_set_config(t.g.fe, wce, 1, 0, &zero), 0);
	assert_int_equal(get_wce(&t), 0);
	/* Writes still work, now writethrough (RWF_DSYNC). */
	bt_ring(&t, 0, BT_RING);
	{
		uint8_t d[4096];
		uint32_t used;

		fill(d, sizeof(d), 1);
		assert_int_equal(
		    bt_req(&t, 0, VIRTIO_BLK_T_OUT, 8, d, sizeof(d), &used),
		    VIRTIO_BLK_S_OK);
	}
	assert_int_equal(vh_frontend_set_config(t.g.fe, wce, 1, 0, &one), 0);
	assert_int_equal(get_wce(&t), 1);
	assert_true(vh_frontend_set_config(t.g.fe, wce, 1, 0, &two) < 0);
	assert_int_equal(get_wce(&t), 1);
	/* Read-only fields: refused, unless the migration flag is set. */
	memset(cap, 0x11, sizeof(cap));
	assert_true(vh_frontend_set_config(t.g.fe, 0, 8, 0, cap) < 0);
	assert_int_equal(
	    vh_frontend_set_config(t.g.fe, 0, 8,
				   VHOST_USER_CONFIG_FLAG_MIGRATION, cap),
	    0);
	bt_config(&t, &c, sizeof(c));
	assert_int_equal(c.capacity, IMG_SIZE / 512);
	/* Rewriting a read-only field with its own value is harmless. */
	assert_int_equal(vh_frontend_set_config(t.g.fe, 0, 8, 0,
						(const uint8_t *)&c.capacity),
			 0);
	bt_disconnect(&t);

	/* Without VIRTIO_BLK_F_CONFIG_WCE the field is not the driver's. */
	bt_connect(&t, ALL & ~BLK_FBIT(VIRTIO_BLK_F_CONFIG_WCE));
	assert_true(vh_frontend_set_config(t.g.fe, wce, 1, 0, &zero) < 0);
	assert_int_equal(get_wce(&t), 1);
	bt_fini(&t);
}

static void test_every_request_type_against_the_image(void **s)
{
	static uint8_t d[64 * 1024], img[64 * 1024];
	char id[VIRTIO_BLK_ID_BYTES];
	uint32_t used;
	struct bt t;

	(void)s;
	bt_init(&t);
	bt_image(&t, IMG_SIZE, true);
	bt_start(&t, "--serial", "disk-serial-0123", NULL);
	bt_connect(&t, ALL);
	bt_ring(&t, 0, BT_RING);

	/* READ returns the image; used = data + status. */
	assert_int_equal(bt_req(&t, 0, VIRTIO_BLK_T_IN, 24, d, 8192, &used),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(used, 8193);
	check_image_pattern(d, 24 * 512, 8192);

	/* WRITE lands in the file; used = the status byte. */
	fill(d, sizeof(d), 7);
	assert_int_equal(
	    bt_req(&t, 0, VIRTIO_BLK_T_OUT, 100, d, sizeof(d), &used),
	    VIRTIO_BLK_S_OK);
	assert_int_equal(used, 1);
	assert_int_equal(bt_req(&t, 0, VIRTIO_BLK_T_FLUSH, 0, NULL, 0, &used),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(used, 1);
	bt_img_read(&t, 100 * 512, img, sizeof(img));
	assert_memory_equal(img, d, sizeof(d));
	memset(img, 0, sizeof(img));
	assert_int_equal(
	    bt_req(&t, 0, VIRTIO_BLK_T_IN, 100, img, sizeof(img), &used),
	    VIRTIO_BLK_S_OK);
	assert_memory_equal(img, d, sizeof(d));
	bt_img_read(&t, 99 * 512, img, 512); /* neighbours untouched */
	check_image_pattern(img, 99 * 512, 512);

	/* GET_ID: 20 bytes, NUL-padded; a shorter buffer gets a prefix. */
	assert_int_equal(
	    bt_req(&t, 0, VIRTIO_BLK_T_GET_ID, 0, id, sizeof(id), &used),
	    VIRTIO_BLK_S_OK);
	assert_int_equal(used, 21);
	assert_memory_equal(id, "disk-serial-0123\0\0\0\0", 20);
	assert_int_equal(bt_req(&t, 0, VIRTIO_BLK_T_GET_ID, 0, id, 4, &used),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(used, 5);
	assert_memory_equal(id, "disk", 4);

	/* Odd shapes: header in two descriptors, data in three, the status
	 * byte sharing the last data descriptor. */
	{
		uint8_t *h = bt_host(&t, 0, 1, 0);
		uint8_t *buf = bt_host(&t, 0, 1, BT_DATA_OFF);
		uint32_t type = VIRTIO_BLK_T_IN;
		uint64_t sector = 8;
		struct vh_drv_buf out[2] = {{bt_gpa(0, 1, 0), 8},
					    {bt_gpa(0, 1, 8), 8}};
		struct vh_drv_buf in[3] = {
		    {bt_gpa(0, 1, BT_DATA_OFF), 1000},
		    {bt_gpa(0, 1, BT_DATA_OFF + 1000), 24},
		    {bt_gpa(0, 1, BT_DATA_OFF + 1024), 1025}};
		uintptr_t tok;

		memcpy(h, &type, 4);
		memset(h + 4, 0, 4);
		memcpy(h + 8, &sector, 8);
		memset(buf, 0xee, 2049);
		assert_int_equal(bt_add(&t, 0, out, 2, in, 3, 9), 0);
		bt_kick(&t, 0);
		assert_int_equal(bt_reap(&t, 0, TH_TIMEOUT_MS, &tok, &used), 1);
		assert_int_equal(tok, 9);
		assert_int_equal(used, 2049);
		assert_int_equal(buf[2048], VIRTIO_BLK_S_OK);
		check_image_pattern(buf, 8 * 512, 2048);
	}
	bt_fini(&t);
}

static void test_read_only_device_refuses_writes(void **s)
{
	uint8_t d[4096], img[4096];
	uint32_t used;
	struct bt t;

	(void)s;
	bt_init(&t);
	bt_image(&t, IMG_SIZE, true);
	bt_start(&t, "--read-only", NULL);
	bt_connect(&t, ALL);
	assert_true(t.g.features & BLK_FBIT(VIRTIO_BLK_F_RO));
	assert_false(t.g.offered & BLK_FBIT(VIRTIO_BLK_F_DISCARD));
	assert_false(t.g.offered & BLK_FBIT(VIRTIO_BLK_F_WRITE_ZEROES));
	bt_ring(&t, 0, BT_RING);
	fill(d, sizeof(d), 3);
	assert_int_equal(
	    bt_req(&t, 0, VIRTIO_BLK_T_OUT, 0, d, sizeof(d), &used),
	    VIRTIO_BLK_S_IOERR);
	assert_int_equal(used, 1);
	bt_img_read(&t, 0, img, sizeof(img));
	check_image_pattern(img, 0, sizeof(img));
	/* A driver that sends DISCARD anyway: not negotiated. */
	assert_int_equal(bt_req(&t, 0, VIRTIO_BLK_T_DISCARD, 0, d, 16, &used),
			 VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(bt_req(&t, 0, VIRTIO_BLK_T_IN, 0, d, sizeof(d), &used),
			 VIRTIO_BLK_S_OK);
	check_image_pattern(d, 0, sizeof(d));
	assert_int_equal(bt_req(&t, 0, VIRTIO_BLK_T_FLUSH, 0, NULL, 0, &used),
			 VIRTIO_BLK_S_OK);
	bt_fini(&t);
}

static void test_4096_byte_logical_blocks(void **s)
{
	static uint8_t d[8192], img[8192];
	struct virtio_blk_config c;
	uint32_t used;
	struct bt t;

	(void)s;
	bt_init(&t);
	bt_image(&t, IMG_SIZE, true);
	bt_start(&t, "--logical-block-size", "4096", NULL);
	bt_connect(&t, ALL);
	bt_config(&t, &c, sizeof(c));
	assert_int_equal(c.blk_size, 4096);
	assert_int_equal(c.capacity, IMG_SIZE / 512); /* still 512-byte units */
	assert_int_equal(c.discard_sector_alignment, 8);
	bt_ring(&t, 0, BT_RING);
	assert_int_equal(bt_req(&t, 0, VIRTIO_BLK_T_IN, 16, d, 8192, &used),
			 VIRTIO_BLK_S_OK);
	check_image_pattern(d, 16 * 512, 8192);
	/* Sector not on a 4 KiB boundary, or a partial block: IOERR. */
	assert_int_equal(bt_req(&t, 0, VIRTIO_BLK_T_IN, 1, d, 4096, &used),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(used, 1);
	assert_int_equal(bt_req(&t, 0, VIRTIO_BLK_T_IN, 8, d, 512, &used),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(bt_req(&t, 0, VIRTIO_BLK_T_OUT, 4, d, 4096, &used),
			 VIRTIO_BLK_S_IOERR);
	fill(d, sizeof(d), 5);
	assert_int_equal(bt_req(&t, 0, VIRTIO_BLK_T_OUT, 32, d, 8192, &used),
			 VIRTIO_BLK_S_OK);
	bt_img_read(&t, 32 * 512, img, sizeof(img));
	assert_memory_equal(img, d, sizeof(d));
	bt_fini(&t);
}

static void test_ram_and_null_modes(void **s)
{
	uint8_t d[4096], back[4096];
	struct virtio_blk_config c;
	uint32_t used;
	struct bt t;

	(void)s;
	bt_init(&t);
	bt_start(&t, "--ram", "16M", NULL);
	bt_connect(&t, ALL);
	bt_config(&t, &c, sizeof(c));
	assert_int_equal(c.capacity, 16u * MiB / 512);
	bt_ring(&t, 0, BT_RING);
	assert_int_equal(bt_req(&t, 0, VIRTIO_BLK_T_IN, 0, back, 4096, &used),
			 VIRTIO_BLK_S_OK);
	memset(d, 0, sizeof(d));
	assert_memory_equal(back, d, sizeof(d)); /* fresh memory: zeroes */
	fill(d, sizeof(d), 9);
	assert_int_equal(bt_req(&t, 0, VIRTIO_BLK_T_OUT, 2040, d, 4096, &used),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(
	    bt_req(&t, 0, VIRTIO_BLK_T_IN, 2040, back, 4096, &used),
	    VIRTIO_BLK_S_OK);
	assert_memory_equal(back, d, sizeof(d));
	bt_fini(&t);

	/* --null: requests are checked and completed, no data moves. */
	bt_init(&t);
	bt_start(&t, "--null=64M", NULL);
	bt_connect(&t, ALL);
	bt_config(&t, &c, sizeof(c));
	assert_int_equal(c.capacity, 64u * MiB / 512);
	bt_ring(&t, 0, BT_RING);
	assert_int_equal(bt_req(&t, 0, VIRTIO_BLK_T_IN, 8, back, 4096, &used),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(used, 4097);
	assert_int_equal(
	    bt_req(&t, 0, VIRTIO_BLK_T_IN, 64u * MiB / 512, back, 4096, &used),
	    VIRTIO_BLK_S_IOERR);
	bt_fini(&t);
}

/* An image on tmpfs: mapped and served by copies (when it has no holes),
 * with every request type; a truncation under the back-end turns into
 * IOERR for the blocks that went away (SIGBUS caught), the rest is still
 * served, the process lives on. A sparse tmpfs image keeps pread/pwrite
 * (reading a hole through the mapping would allocate it). */
static void test_tmpfs_image_is_mapped_and_survives_truncation(void **s)
{
	static uint8_t d[16384], back[16384], zero[16384];
	struct virtio_blk_discard_write_zeroes r = {0};
	char err[512], out[64];
	struct statfs sf;
	uint32_t used;
	struct bt t;

	(void)s;
	if (statfs("/dev/shm", &sf) || sf.f_type != TMPFS_MAGIC)
		fail_msg("/dev/shm is not tmpfs: nowhere to test the mapping");
	bt_init(&t);
	snprintf(t.img, sizeof(t.img), "/dev/shm/vh-blk-%d.img", (int)getpid());
	bt_image(&t, IMG_SIZE, true);
	bt_start(&t, "-v", NULL);
	assert_true(bt_log_has(&t, "mapped (tmpfs"));
	bt_connect(&t, ALL);
	bt_ring(&t, 0, BT_RING);

	assert_int_equal(bt_req(&t, 0, VIRTIO_BLK_T_IN, 16, d, 8192, &used),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(used, 8193);
	check_image_pattern(d, 16 * 512, 8192);
	fill(d, sizeof(d), 3);
	assert_int_equal(
	    bt_req(&t, 0, VIRTIO_BLK_T_OUT, 40, d, sizeof(d), &used),
	    VIRTIO_BLK_S_OK);
	assert_int_equal(used, 1);
	bt_img_read(&t, 40 * 512, back, sizeof(back));
	assert_memory_equal(back, d, sizeof(d));
	assert_int_equal(bt_req(&t, 0, VIRTIO_BLK_T_FLUSH, 0, NULL, 0, &used),
			 VIRTIO_BLK_S_OK);
	/* DISCARD and WRITE_ZEROES punch holes the mapping then reads as
	 * zeroes. */
	r.sector = 40;
	r.num_sectors = 16;
	assert_int_equal(bt_req(&t, 0, VIRTIO_BLK_T_DISCARD, 0, &r, 16, &used),
			 VIRTIO_BLK_S_OK);
	r.sector = 56;
	r.flags = VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP;
	assert_int_equal(
	    bt_req(&t, 0, VIRTIO_BLK_T_WRITE_ZEROES, 0, &r, 16, &used),
	    VIRTIO_BLK_S_OK);
	assert_int_equal(
	    bt_req(&t, 0, VIRTIO_BLK_T_IN, 40, back, sizeof(back), &used),
	    VIRTIO_BLK_S_OK);
	assert_memory_equal(back, zero, sizeof(zero));

	/* Another process cuts the image in half. */
	assert_int_equal(truncate(t.img, IMG_SIZE / 2), 0);
	assert_int_equal(
	    bt_req(&t, 0, VIRTIO_BLK_T_IN, IMG_SIZE / 512 - 32, d, 4096, &used),
	    VIRTIO_BLK_S_IOERR);
	assert_int_equal(used, 1);
	assert_int_equal(bt_req(&t, 0, VIRTIO_BLK_T_OUT, IMG_SIZE / 512 - 64, d,
				4096, &used),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(used, 1);
	assert_true(bt_log_has(&t, "SIGBUS"));
	assert_int_equal(bt_req(&t, 0, VIRTIO_BLK_T_IN, 16, d, 4096, &used),
			 VIRTIO_BLK_S_OK);
	check_image_pattern(d, 16 * 512, 4096);
	bt_fini(&t); /* exit status 0: it lived on */

	/* Sparse: not mapped. */
	bt_init(&t);
	snprintf(t.img, sizeof(t.img), "/dev/shm/vh-blk-%d.img", (int)getpid());
	bt_image(&t, IMG_SIZE, false);
	bt_start(&t, NULL);
	assert_false(bt_log_has(&t, "mapped"));
	assert_true(bt_log_has(&t, "pread / pwrite"));
	bt_connect(&t, ALL);
	bt_ring(&t, 0, BT_RING);
	assert_int_equal(bt_req(&t, 0, VIRTIO_BLK_T_IN, 0, back, 4096, &used),
			 VIRTIO_BLK_S_OK);
	assert_memory_equal(back, zero, 4096);
	bt_fini(&t);

	/* --aio mmap is for memory file systems only. */
	if (statfs("/tmp", &sf) == 0 && sf.f_type != TMPFS_MAGIC) {
		char img[] = "/tmp/vh-blk-mmap-XXXXXX";
		int fd = mkstemp(img);

		assert_true(fd >= 0);
		assert_int_equal(ftruncate(fd, IMG_SIZE), 0);
		close(fd);
		assert_int_equal(bt_run(out, sizeof(out), err, sizeof(err),
					"--socket-path",
					"/tmp/vh-blk-mmap.sock", "--blk-file",
					img, "--aio", "mmap", NULL),
				 1);
		assert_non_null(strstr(err, "not on tmpfs or ramfs"));
		unlink(img);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_config_space_describes_the_image),
	    cmocka_unit_test(test_set_config_switches_the_write_cache_only),
	    cmocka_unit_test(test_every_request_type_against_the_image),
	    cmocka_unit_test(test_read_only_device_refuses_writes),
	    cmocka_unit_test(test_4096_byte_logical_blocks),
	    cmocka_unit_test(test_ram_and_null_modes),
	    cmocka_unit_test(
		test_tmpfs_image_is_mapped_and_survives_truncation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
