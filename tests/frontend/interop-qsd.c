/* SPDX-License-Identifier: MIT */
/*
 * interop-qsd: our front-end against qemu-storage-daemon's vhost-user-blk
 * export (a real third-party back-end). Run next to it by
 * tests/interop/with-qsd.sh, which exports:
 *   VU_SOCK      the export's socket (required; without it: SKIP, exit 77)
 *   VU_IMG_SIZE  the image size in bytes (or VU_IMG, the image, to stat)
 *   VU_IMG       the image file (optional: enables the data checks)
 *
 * Negotiates (with REPLY_ACK: every request acked), checks GET_CONFIG's
 * capacity against the image, then through the vhost-user transport:
 * SET_MEM_TABLE with a memfd, ring 0 (num, base, addr, kick, call), enable;
 * moves requests through the ring (GET_ID, and with VU_IMG: READ of a
 * sector written into the image beforehand, WRITE read back from the
 * image); GET_VRING_BASE stops the ring and must report every request.
 * Prints one PASS or FAIL line; exit 0 on success.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "interop_ring.h"
#include "vhost/frontend.h"
#include "vhost/transport.h"

const char *prog_name = "interop-qsd";

#define GPA	     UINT64_C(0x40000000)
#define MEM_SIZE     UINT64_C(0x200000)
#define QSZ	     16
#define REQ_HDR	     0x10000 /* guest offsets of the request buffers */
#define REQ_DATA     0x11000
#define REQ_STATUS   0x12000
#define SECTOR	     512
#define BLK_T_IN     0
#define BLK_T_OUT    1
#define BLK_T_GET_ID 8

static struct guest_mem mem;
static struct split_ring ring;

/* One virtio-blk request (virtio 1.2 §5.2.6): header, data, status. */
static uint8_t blk_request(uint32_t type, uint64_t sector, uint32_t len,
			   bool device_writes, uint32_t *used_len)
{
	struct ring_buf b[3];
	uint8_t *hdr = gpa_ptr(&mem, GPA + REQ_HDR);
	uint8_t *status = gpa_ptr(&mem, GPA + REQ_STATUS);
	uint32_t zero = 0, id;
	uint16_t head;
	unsigned n = 0;

	memcpy(hdr, &type, 4);
	memcpy(hdr + 4, &zero, 4);
	memcpy(hdr + 8, &sector, 8);
	*status = 0xff;
	b[n++] = (struct ring_buf){GPA + REQ_HDR, 16, false};
	if (len)
		b[n++] = (struct ring_buf){GPA + REQ_DATA, len, device_writes};
	b[n++] = (struct ring_buf){GPA + REQ_STATUS, 1, true};
	head = ring_add(&ring, b, n);
	ring_kick(&ring);
	CHECK(ring_wait_used(&ring, 5000, &id, used_len),
	      "request type %u: no used entry within 5 s", type);
	CHECK(id == head, "used id %u, expected head %u", id, head);
	return *status;
}

static uint64_t image_size(void)
{
	const char *s = getenv("VU_IMG_SIZE"), *img = getenv("VU_IMG");
	struct stat st;

	if (s)
		return strtoull(s, NULL, 0);
	if (img && stat(img, &st) == 0)
		return (uint64_t)st.st_size;
	die("neither VU_IMG_SIZE nor VU_IMG is set");
}

int main(void)
{
	const char *sock = getenv("VU_SOCK"), *img = getenv("VU_IMG");
	struct vh_frontend_opts opts = {.name = "interop-qsd"};
	struct vh_frontend *f;
	struct vh_transport *t;
	uint8_t cfg[60];
	uint64_t capacity, features, pf, qnum, size;
	uint16_t num_queues;
	uint32_t base, used_len, requests = 0;
	char pattern[SECTOR], back[SECTOR];
	int r, fd;

	if (!sock) {
		printf("%s: SKIP: VU_SOCK is not set (run it with "
		       "tests/interop/with-qsd.sh)\n",
		       prog_name);
		return 77;
	}
	size = image_size();

	r = vh_frontend_connect(&f, sock, 5000, &opts);
	CHECK(r == 0, "connect %s: %s", sock, strerror(-r));
	CHECK(vh_frontend_set_owner(f) == 0, "SET_OWNER");
	r = vh_frontend_negotiate(
	    f,
	    vh_protocol_feature_mask(VHOST_USER_PROTOCOL_F_MQ) |
		vh_protocol_feature_mask(VHOST_USER_PROTOCOL_F_REPLY_ACK) |
		vh_protocol_feature_mask(VHOST_USER_PROTOCOL_F_CONFIG),
	    &features, &pf);
	CHECK(r == 0, "negotiation: %s", strerror(-r));
	CHECK(vh_protocol_has(pf, VHOST_USER_PROTOCOL_F_CONFIG) &&
		  vh_protocol_has(pf, VHOST_USER_PROTOCOL_F_REPLY_ACK),
	      "QSD offers CONFIG and REPLY_ACK, got 0x%" PRIx64, pf);
	/* From here on every request without a reply body is acked. */
	vh_frontend_set_ack_always(f, true);
	CHECK(vh_frontend_get_queue_num(f, &qnum) == 0, "GET_QUEUE_NUM");

	/* struct virtio_blk_config: capacity in 512-byte sectors. */
	r = vh_frontend_get_config(f, 0, sizeof(cfg), 0, cfg);
	CHECK(r == 0, "GET_CONFIG: %s", strerror(-r));
	memcpy(&capacity, cfg, 8);
	memcpy(&num_queues, cfg + 34, 2);
	CHECK(capacity == size / SECTOR,
	      "capacity %" PRIu64 " sectors, image has %" PRIu64, capacity,
	      size / SECTOR);
	CHECK(num_queues == qnum,
	      "config num_queues %u, GET_QUEUE_NUM %" PRIu64, num_queues, qnum);

	/* The rest through the transport, as a VMM would: GPAs in, the
	 * front-end's user addresses (here: where we mapped the memfd) out. */
	CHECK(vh_transport_vhost_user_new(&t, f) == 0, "transport");
	CHECK(vh_transport_get_features(t, &features) == 0, "GET_FEATURES");
	features &= vh_virtio_feature_mask(VH_VIRTIO_F_VERSION_1) |
		    (UINT64_C(1) << 6) /* VIRTIO_BLK_F_BLK_SIZE */;
	CHECK(vh_transport_set_features(t, features) == 0, "SET_FEATURES");

	guest_mem_init(&mem, GPA, MEM_SIZE);
	{
		struct vh_transport_region rg = {
		    .guest_phys_addr = GPA,
		    .size = MEM_SIZE,
		    .user_addr = (uint64_t)(uintptr_t)mem.base,
		    .mmap_offset = 0,
		    .fd = mem.fd,
		};
		r = vh_transport_set_mem_table(t, &rg, 1);
		CHECK(r == 0, "SET_MEM_TABLE: %s", strerror(-r));
	}
	ring_init(&ring, &mem, QSZ, 0);
	{
		struct vh_transport_vring_addr a = {.desc = ring.desc_gpa,
						    .avail = ring.avail_gpa,
						    .used = ring.used_gpa};

		CHECK(vh_transport_set_vring_num(t, 0, QSZ) == 0, "NUM");
		CHECK(vh_transport_set_vring_base(t, 0, 0) == 0, "BASE");
		r = vh_transport_set_vring_addr(t, 0, &a);
		CHECK(r == 0, "SET_VRING_ADDR: %s", strerror(-r));
		CHECK(vh_transport_set_vring_kick(t, 0, ring.kick) == 0,
		      "KICK");
		CHECK(vh_transport_set_vring_call(t, 0, ring.call) == 0,
		      "CALL");
		/* With PROTOCOL_FEATURES rings start disabled. */
		CHECK(vh_transport_set_vring_enable(t, 0, true) == 0, "ENABLE");
	}

	/* GET_ID: the serial number. */
	CHECK(blk_request(BLK_T_GET_ID, 0, 20, true, &used_len) == 0,
	      "GET_ID status");
	requests++;
	if (img) {
		/* READ a sector we wrote into the image behind QSD's back. */
		memset(pattern, 0, sizeof(pattern));
		snprintf(pattern, sizeof(pattern),
			 "libvhost interop-qsd sector 2 %ld", (long)getpid());
		fd = open(img, O_RDWR | O_CLOEXEC);
		CHECK(fd >= 0, "open %s: %s", img, strerror(errno));
		CHECK(pwrite(fd, pattern, SECTOR, 2 * SECTOR) == SECTOR,
		      "pwrite image");
		CHECK(blk_request(BLK_T_IN, 2, SECTOR, true, &used_len) == 0,
		      "READ status");
		requests++;
		CHECK(memcmp(gpa_ptr(&mem, GPA + REQ_DATA), pattern, SECTOR) ==
			  0,
		      "READ returned other data than the image holds");
		/* WRITE through the ring, read it from the image. */
		pattern[0] = 'L';
		memcpy(gpa_ptr(&mem, GPA + REQ_DATA), pattern, SECTOR);
		CHECK(blk_request(BLK_T_OUT, 3, SECTOR, false, &used_len) == 0,
		      "WRITE status");
		requests++;
		CHECK(pread(fd, back, SECTOR, 3 * SECTOR) == SECTOR,
		      "pread image");
		CHECK(memcmp(back, pattern, SECTOR) == 0,
		      "the image does not hold what was written");
		close(fd);
	}

	/* Stop the ring: the next avail index it would process. */
	r = vh_transport_get_vring_base(t, 0, &base);
	CHECK(r == 0, "GET_VRING_BASE: %s", strerror(-r));
	CHECK(base == requests, "GET_VRING_BASE %u after %u requests", base,
	      requests);

	vh_transport_free(t);
	ring_fini(&ring);
	guest_mem_fini(&mem);
	printf("%s: PASS: capacity %" PRIu64 " sectors, %" PRIu64
	       " queues, %u requests through ring 0%s, GET_VRING_BASE %u\n",
	       prog_name, capacity, qnum, requests,
	       img ? " (data checked against the image)" : "", base);
	return 0;
}
