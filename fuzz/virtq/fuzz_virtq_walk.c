/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the descriptor walker (split and packed): the input
 * becomes a small guest memory (two adjacent regions and a hole) holding
 * the rings, descriptors and indirect tables, plus the ring state; then the
 * device pops until the ring is empty or broken, pushes what it got, and
 * asks the notification questions. It must never crash, hang or touch
 * memory outside the regions (ASan + UBSan).
 *
 * Input layout:
 *   byte 0: bit 0 packed, bit 1 INDIRECT_DESC, bit 2 EVENT_IDX,
 *           bit 3 VH_VIRTQ_F_ANY_ORDER, bit 4 attach an in-flight region
 *           made of the last bytes of the input (exercises recovery)
 *   byte 1: queue size = 1 << (byte & 7)   (1 .. 128)
 *   byte 2-3: little-endian ring base: split last_avail; packed avail/used
 *           index (bits 0-14, mod size) and wrap (bit 15)
 *   rest:   guest memory from guest-physical 0: descriptors at 0x0, driver
 *           area at 0x800, device area at 0xc00, anything else after.
 * Guest memory: gpa [0, 0x8000) and [0x8000, 0xf000), front-end addresses
 * apart; [0xf000, ...) is unmapped.
 *
 * Build: clang -fsanitize=fuzzer,address,undefined -Iinclude
 *        fuzz/virtq/fuzz_virtq_walk.c <libvhost.a>
 * Without libFuzzer: add -DVH_FUZZ_STANDALONE; the program then runs each
 * file named on its command line once.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vhost/log.h"
#include "vhost/mem.h"
#include "vhost/virtq.h"

#define MEM_LEN	   0x10000u
#define DESC_OFF   0x0u
#define DRIVER_OFF 0x800u
#define DEVICE_OFF 0xc00u
#define UVA0	   0x10000000u
#define UVA1	   0x20000000u
#define MAX_ELEMS  256u

static uint8_t *mem; /* our view of the whole memfd */
static struct vh_mem_table *table;
static struct vh_virtq_elem *elems[MAX_ELEMS];
static uint8_t inflight[64 + 128 * 32];

static void quiet(void *opaque, enum vh_log_level level, const char *msg)
{
	(void)opaque;
	(void)level;
	(void)msg;
}

static int init_once(void)
{
	struct vhost_user_mem_region r[2] = {
	    {0x0, 0x8000, UVA0, 0x0},
	    {0x8000, 0x7000, UVA1, 0x8000},
	};
	int fd = memfd_create("fuzz-guest", MFD_CLOEXEC), fds[2];

	if (fd < 0 || ftruncate(fd, MEM_LEN) < 0)
		abort();
	mem = mmap(NULL, MEM_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED)
		abort();
	fds[0] = dup(fd);
	fds[1] = fd;
	if (vh_mem_table_new(r, fds, 2, &table))
		abort();
	for (unsigned i = 0; i < MAX_ELEMS; i++)
		elems[i] = vh_virtq_elem_new(16);
	vh_log_set_handler(quiet, NULL);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct vhost_user_vring_addr a = {
	    .desc_user_addr = UVA0 + DESC_OFF,
	    .avail_user_addr = UVA0 + DRIVER_OFF,
	    .used_user_addr = UVA0 + DEVICE_OFF,
	};
	struct vh_virtq_config cfg = {0};
	struct vh_virtq *vq;
	uint32_t lens[MAX_ELEMS];
	unsigned n = 0, mode, qsize;
	uint16_t base;
	bool packed;

	if (!ready)
		ready = !init_once();
	if (size < 4)
		return 0;
	mode = data[0];
	qsize = 1u << (data[1] & 7);
	base = (uint16_t)(data[2] | data[3] << 8);
	packed = mode & 1;
	memset(mem, 0, MEM_LEN);
	memcpy(mem, data + 4, size - 4 < MEM_LEN ? size - 4 : MEM_LEN);

	cfg.index = 0;
	cfg.features =
	    (packed ? vh_virtio_feature_mask(VH_VIRTIO_F_RING_PACKED) : 0) |
	    (mode & 2 ? vh_virtio_feature_mask(VH_VIRTIO_RING_F_INDIRECT_DESC)
		      : 0) |
	    (mode & 4 ? vh_virtio_feature_mask(VH_VIRTIO_RING_F_EVENT_IDX) : 0);
	cfg.flags = mode & 8 ? VH_VIRTQ_F_ANY_ORDER : 0;
	if (vh_virtq_map_rings(table, &a, (uint16_t)qsize, packed, &cfg))
		abort(); /* our layout always fits */
	cfg.size = (uint16_t)qsize;
	cfg.last_avail_idx = base;
	cfg.packed_base.avail_idx = (uint16_t)((base & 0x7fff) % qsize);
	cfg.packed_base.avail_wrap = base >> 15;
	cfg.packed_base.used_idx = cfg.packed_base.avail_idx;
	cfg.packed_base.used_wrap = cfg.packed_base.avail_wrap;
	if (vh_virtq_new(&cfg, &vq))
		abort();

	if (mode & 16) {
		size_t need = vh_virtq_inflight_size((uint16_t)qsize, packed);
		size_t take = size - 4 < need ? size - 4 : need;

		memset(inflight, 0, sizeof(inflight));
		memcpy(inflight, data + size - take, take);
		vh_virtq_set_inflight(vq, inflight, need);
	}

	/* Each pop consumes at least one ring entry: 4 * size bounds it. */
	for (unsigned i = 0; i < 4 * qsize && n < MAX_ELEMS; i++) {
		int rc = vh_virtq_pop(vq, table, elems[n]);

		if (rc != 1)
			break;
		/* Touch every byte the walker handed out. */
		for (unsigned k = 0; k < elems[n]->out_num + elems[n]->in_num;
		     k++) {
			volatile uint8_t *p = elems[n]->iov[k].iov_base;

			(void)p[0];
			(void)p[elems[n]->iov[k].iov_len - 1];
		}
		lens[n] = elems[n]->in_len / 2;
		n++;
	}
	if (n && !vh_virtq_is_broken(vq)) {
		vh_virtq_push_batch(vq, table, elems, lens, n);
		(void)vh_virtq_should_notify(vq);
	}
	(void)vh_virtq_enable_notify(vq);
	vh_virtq_disable_notify(vq);
	vh_virtq_free(vq);
	return 0;
}

#ifdef VH_FUZZ_STANDALONE
#include <stdio.h>

int main(int argc, char **argv)
{
	static uint8_t buf[MEM_LEN + 4096];

	for (int i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		size_t len;

		if (!f)
			return 1;
		len = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		LLVMFuzzerTestOneInput(buf, len);
	}
	return 0;
}
#endif
