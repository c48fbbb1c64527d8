/* SPDX-License-Identifier: MIT */
/*
 * Test harness for the vhost-user-blk program (devices/blk/): the real
 * executable runs as a child process (path in $VH_BLK_BIN), and this
 * process plays QEMU and the guest: our front-end and driver-side queues
 * over a memfd (tests/server/harness.h: th_guest), with virtio-blk
 * requests built by hand so that every chain shape can be tried.
 *
 * Guest memory (th_guest): rings at q * TH_RING_STRIDE; request buffers
 * from BT_AREA: slot s of ring q at bt_slot_gpa(q, s): header (16 bytes)
 * at +0, status at +16, GET_ID / spare at +32, data at +BT_DATA_OFF, up to
 * BT_DATA_MAX bytes.
 */
#ifndef BT_H
#define BT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "blk.h" /* devices/blk: virtio-blk wire structs and constants */
#include "harness.h"

#define BT_AREA	    (TH_GPA + TH_DATA_OFF)
#define BT_SLOT	    0x41000u /* 4 KiB of headers + 256 KiB of data */
#define BT_DATA_OFF 0x1000u
#define BT_DATA_MAX 0x40000u
#define BT_SLOTS    (120u * 1024 * 1024 / BT_SLOT) /* per guest */
#define BT_RING	    128

struct bt {
	char dir[64];
	char sock[108];
	char img[128];
	char log[128]; /* the program's stderr */
	pid_t pid;
	struct th_guest g;
	bool connected;
};

/* Fresh temp dir (socket and image paths inside it) and guest memory. */
void bt_init(struct bt *t);
/* Stop the device (SIGTERM, exit 0 expected), free everything. */
void bt_fini(struct bt *t);

/* Create t->img: @size bytes; @fill: every byte written (a known
 * pattern, bt_pattern), else sparse (a hole). */
void bt_image(struct bt *t, uint64_t size, bool fill);
uint8_t bt_pattern(uint64_t byte_offset);

/* Start vhost-user-blk -s t->sock [-b t->img unless @args has --ram or
 * --null] @args... (NULL-terminated); waits until it listens. */
void bt_start(struct bt *t, ...) __attribute__((sentinel));
/* Run the program with @argv (NULL-terminated; argv[0] not included),
 * capture stderr into @err (NUL-terminated) and stdout into @out; return
 * the exit status (or 128 + signal). Waits at most 10 s. */
int bt_run(char *out, size_t outlen, char *err, size_t errlen, ...)
    __attribute__((sentinel));
/* Whether the program's stderr so far contains @text. */
bool bt_log_has(struct bt *t, const char *text);
/* SIGTERM and wait: returns the exit status. */
int bt_stop(struct bt *t);
/* SIGKILL and reap. */
void bt_kill(struct bt *t);

/* Connect and negotiate (features offered & @mask), memory table. */
void bt_connect(struct bt *t, uint64_t mask);
void bt_disconnect(struct bt *t);
/* Ring @q of @size entries: fresh driver rings, base 0. */
void bt_ring(struct bt *t, unsigned q, uint16_t size);

/* Guest-physical / host address of slot @s of ring @q (+ @off). */
uint64_t bt_gpa(unsigned q, unsigned s, uint32_t off);
void *bt_host(struct bt *t, unsigned q, unsigned s, uint32_t off);

/* Put a request on ring @q slot @s: header (type, sector) at +0, then
 * @nout device-readable and @nin device-writable extra buffers (the
 * caller lays out data and status). Returns vh_drv_add's result. */
int bt_add(struct bt *t, unsigned q, const struct vh_drv_buf *out,
	   unsigned nout, const struct vh_drv_buf *in, unsigned nin,
	   uintptr_t token);
void bt_kick(struct bt *t, unsigned q);
/* Reap one used buffer within @ms: 1 (token, len), 0 on timeout. */
int bt_reap(struct bt *t, unsigned q, int ms, uintptr_t *token, uint32_t *len);

/* One request, the usual layout (header, data, status), waited for:
 * returns the status byte; *used gets the used length. @data is copied in
 * (WRITE, DISCARD ranges) or out (READ, GET_ID) of slot 0's data. */
int bt_req(struct bt *t, unsigned q, uint32_t type, uint64_t sector, void *data,
	   uint32_t len, uint32_t *used);

/* GET_CONFIG of @len bytes at 0 into @buf (the virtio_blk_config). */
void bt_config(struct bt *t, void *buf, uint32_t len);

/* Read @len bytes of the image file at @off. */
void bt_img_read(struct bt *t, uint64_t off, void *buf, size_t len);

#endif /* BT_H */
