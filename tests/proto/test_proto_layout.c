/* SPDX-License-Identifier: MIT */
/*
 * Every payload survives a trip through a byte buffer: bytes a peer wrote at
 * the spec's offsets read back through the union's typed member, and a
 * typed value copied out lands on those offsets. Offsets are written out by
 * hand from vhost-user.rst, not taken from offsetof, so a layout slip in
 * proto.h fails here.
 */
#include "proto_test.h"

static union vhost_user_payload pl;
static uint8_t wire[VHOST_USER_MAX_PAYLOAD];

static void reset(void)
{
	memset(&pl, 0, sizeof(pl));
	memset(wire, 0, sizeof(wire));
}

/* Bytes -> union (what the socket layer does) -> typed member. */
static void from_wire(uint32_t size)
{
	memcpy(pl.raw, wire, size);
}

/* Typed member -> union bytes -> wire. */
static void to_wire(uint32_t size)
{
	memset(wire, 0xee, sizeof(wire));
	memcpy(wire, pl.raw, size);
}

static void header_fields_sit_at_0_4_8(void **state)
{
	struct vhost_user_hdr h;
	uint8_t b[VHOST_USER_HDR_SIZE];

	(void)state;
	put_u32(b, 0, VHOST_USER_GET_VRING_BASE);
	put_u32(b, 4, 0x5);
	put_u32(b, 8, 8);
	memcpy(&h, b, sizeof(h));
	assert_int_equal(h.request, VHOST_USER_GET_VRING_BASE);
	assert_int_equal(h.flags, 0x5);
	assert_int_equal(h.size, 8);

	vh_proto_init_hdr(&h, VHOST_USER_SET_MEM_TABLE,
			  VHOST_USER_NEED_REPLY_MASK, 40);
	memcpy(b, &h, sizeof(h));
	assert_int_equal(get_u32(b, 0), 5);
	assert_int_equal(get_u32(b, 4), 0x9);
	assert_int_equal(get_u32(b, 8), 40);
}

static void u64_round_trips(void **state)
{
	(void)state;
	reset();
	put_u64(wire, 0, UINT64_C(0x0123456789abcdef));
	from_wire(8);
	assert_int_equal(pl.u64, UINT64_C(0x0123456789abcdef));
	pl.u64 = UINT64_MAX - 1;
	to_wire(8);
	assert_int_equal(get_u64(wire, 0), UINT64_MAX - 1);
}

static void vring_state_index_then_num(void **state)
{
	(void)state;
	reset();
	put_u32(wire, 0, 7);
	put_u32(wire, 4, 0x8000ffffu);
	from_wire(8);
	assert_int_equal(pl.state.index, 7);
	assert_int_equal(pl.state.num, 0x8000ffffu);
	pl.state.index = 0x7fff;
	pl.state.num = 256;
	to_wire(8);
	assert_int_equal(get_u32(wire, 0), 0x7fff);
	assert_int_equal(get_u32(wire, 4), 256);
}

static void vring_addr_fields_at_spec_offsets(void **state)
{
	(void)state;
	reset();
	put_u32(wire, 0, 3);
	put_u32(wire, 4, 1);
	put_u64(wire, 8, 0x1000);
	put_u64(wire, 16, 0x2000);
	put_u64(wire, 24, 0x3000);
	put_u64(wire, 32, 0x4000);
	from_wire(40);
	assert_int_equal(pl.addr.index, 3);
	assert_int_equal(pl.addr.flags, 1);
	assert_int_equal(pl.addr.desc_user_addr, 0x1000);
	assert_int_equal(pl.addr.used_user_addr, 0x2000);
	assert_int_equal(pl.addr.avail_user_addr, 0x3000);
	assert_int_equal(pl.addr.log_guest_addr, 0x4000);
	pl.addr.desc_user_addr = 0xa0;
	pl.addr.used_user_addr = 0xb0;
	pl.addr.avail_user_addr = 0xc0;
	pl.addr.log_guest_addr = 0xd0;
	to_wire(40);
	assert_int_equal(get_u64(wire, 8), 0xa0);
	assert_int_equal(get_u64(wire, 16), 0xb0);
	assert_int_equal(get_u64(wire, 24), 0xc0);
	assert_int_equal(get_u64(wire, 32), 0xd0);
}

static void mem_table_regions_start_at_byte_8_every_32(void **state)
{
	(void)state;
	reset();
	put_u32(wire, 0, 2);
	put_u32(wire, 4, 0);
	for (unsigned i = 0; i < 2; i++) {
		size_t r = 8 + 32 * i;

		put_u64(wire, r + 0, 0x100000 * (i + 1));
		put_u64(wire, r + 8, 0x1000 * (i + 1));
		put_u64(wire, r + 16, 0x7f0000000000 + i);
		put_u64(wire, r + 24, 0x10 * i);
	}
	from_wire(VHOST_USER_MEM_TABLE_SIZE(2));
	assert_int_equal(VHOST_USER_MEM_TABLE_SIZE(2), 72);
	assert_int_equal(pl.mem_table.nregions, 2);
	for (unsigned i = 0; i < 2; i++) {
		const struct vhost_user_mem_region *r =
		    &pl.mem_table.regions[i];

		assert_int_equal(r->guest_phys_addr, 0x100000 * (i + 1));
		assert_int_equal(r->memory_size, 0x1000 * (i + 1));
		assert_int_equal(r->userspace_addr, 0x7f0000000000 + i);
		assert_int_equal(r->mmap_offset, 0x10 * i);
	}
	pl.mem_table.regions[0].guest_phys_addr = 0xabc000;
	pl.mem_table.regions[1].mmap_offset = 0x55;
	to_wire(VHOST_USER_MEM_TABLE_SIZE(2));
	assert_int_equal(get_u64(wire, 8), 0xabc000);
	assert_int_equal(get_u64(wire, 8 + 32 + 24), 0x55);
}

static void single_region_sits_after_8_bytes_of_padding(void **state)
{
	(void)state;
	reset();
	put_u64(wire, 0, 0);
	put_u64(wire, 8, 0x40000000);
	put_u64(wire, 16, 0x200000);
	put_u64(wire, 24, 0x7f1234000000);
	put_u64(wire, 32, 0x1000);
	from_wire(40);
	assert_int_equal(pl.mem_reg.region.guest_phys_addr, 0x40000000);
	assert_int_equal(pl.mem_reg.region.memory_size, 0x200000);
	assert_int_equal(pl.mem_reg.region.userspace_addr, 0x7f1234000000);
	assert_int_equal(pl.mem_reg.region.mmap_offset, 0x1000);
	pl.mem_reg.region.guest_phys_addr = 0x80000000;
	to_wire(40);
	assert_int_equal(get_u64(wire, 8), 0x80000000);
}

static void log_size_then_offset(void **state)
{
	(void)state;
	reset();
	put_u64(wire, 0, 0x40000);
	put_u64(wire, 8, 0x1000);
	from_wire(16);
	assert_int_equal(pl.log.mmap_size, 0x40000);
	assert_int_equal(pl.log.mmap_offset, 0x1000);
	pl.log.mmap_offset = 0x2000;
	to_wire(16);
	assert_int_equal(get_u64(wire, 8), 0x2000);
}

static void iotlb_perm_at_24_type_at_25(void **state)
{
	(void)state;
	reset();
	put_u64(wire, 0, 0xfee00000);
	put_u64(wire, 8, 0x1000);
	put_u64(wire, 16, 0x7f0000001000);
	wire[24] = VHOST_USER_IOTLB_RW;
	wire[25] = VHOST_USER_IOTLB_UPDATE;
	from_wire(32);
	assert_int_equal(pl.iotlb.iova, 0xfee00000);
	assert_int_equal(pl.iotlb.size, 0x1000);
	assert_int_equal(pl.iotlb.uaddr, 0x7f0000001000);
	assert_int_equal(pl.iotlb.perm, VHOST_USER_IOTLB_RW);
	assert_int_equal(pl.iotlb.type, VHOST_USER_IOTLB_UPDATE);
	pl.iotlb.type = VHOST_USER_IOTLB_INVALIDATE;
	pl.iotlb.perm = VHOST_USER_IOTLB_RO;
	to_wire(32);
	assert_int_equal(wire[24], VHOST_USER_IOTLB_RO);
	assert_int_equal(wire[25], VHOST_USER_IOTLB_INVALIDATE);
}

static void config_header_then_bytes_at_12(void **state)
{
	(void)state;
	reset();
	put_u32(wire, 0, 0x14);
	put_u32(wire, 4, 4);
	put_u32(wire, 8, VHOST_USER_CONFIG_FLAG_MIGRATION);
	put_u32(wire, 12, 0xdeadbeef);
	from_wire(16);
	assert_int_equal(pl.config.hdr.offset, 0x14);
	assert_int_equal(pl.config.hdr.size, 4);
	assert_int_equal(pl.config.hdr.flags, 1);
	assert_int_equal(get_u32(pl.config.region, 0), 0xdeadbeef);
	pl.config.region[3] = 0x42;
	to_wire(16);
	assert_int_equal(wire[12 + 3], 0x42);
}

static void vring_area_u64_size_offset(void **state)
{
	(void)state;
	reset();
	put_u64(wire, 0, 2 | VHOST_USER_VRING_NOFD_MASK);
	put_u64(wire, 8, 4096);
	put_u64(wire, 16, 0x3000);
	from_wire(24);
	assert_int_equal(pl.area.u64, 0x102);
	assert_int_equal(pl.area.size, 4096);
	assert_int_equal(pl.area.offset, 0x3000);
	pl.area.offset = 0x5000;
	to_wire(24);
	assert_int_equal(get_u64(wire, 16), 0x5000);
}

static void inflight_queues_at_16_and_18(void **state)
{
	(void)state;
	reset();
	put_u64(wire, 0, 0x21000);
	put_u64(wire, 8, 0);
	put_u16(wire, 16, 4);
	put_u16(wire, 18, 256);
	from_wire(24);
	assert_int_equal(pl.inflight.mmap_size, 0x21000);
	assert_int_equal(pl.inflight.num_queues, 4);
	assert_int_equal(pl.inflight.queue_size, 256);
	pl.inflight.num_queues = 2;
	pl.inflight.queue_size = 1024;
	to_wire(24);
	assert_int_equal(get_u16(wire, 16), 2);
	assert_int_equal(get_u16(wire, 18), 1024);
}

static void shared_object_is_16_raw_uuid_bytes(void **state)
{
	(void)state;
	reset();
	for (unsigned i = 0; i < 16; i++)
		wire[i] = (uint8_t)(0xa0 + i);
	from_wire(16);
	for (unsigned i = 0; i < 16; i++)
		assert_int_equal(pl.object.uuid[i], 0xa0 + i);
	pl.object.uuid[15] = 0x01;
	to_wire(16);
	assert_int_equal(wire[15], 0x01);
	assert_int_equal(wire[0], 0xa0);
}

static void transfer_state_direction_then_phase(void **state)
{
	(void)state;
	reset();
	put_u32(wire, 0, VHOST_USER_TRANSFER_STATE_DIRECTION_LOAD);
	put_u32(wire, 4, VHOST_USER_TRANSFER_STATE_PHASE_STOPPED);
	from_wire(8);
	assert_int_equal(pl.transfer_state.direction, 1);
	assert_int_equal(pl.transfer_state.phase, 0);
	pl.transfer_state.direction = VHOST_USER_TRANSFER_STATE_DIRECTION_SAVE;
	to_wire(8);
	assert_int_equal(get_u32(wire, 0), 0);
}

static void mmap_request_fields_at_spec_offsets(void **state)
{
	(void)state;
	reset();
	wire[0] = 3;
	put_u64(wire, 8, 0x1000);
	put_u64(wire, 16, 0x200000);
	put_u64(wire, 24, 0x4000);
	put_u64(wire, 32, VHOST_USER_FLAG_MAP_RW);
	from_wire(40);
	assert_int_equal(pl.mmap.shmid, 3);
	assert_int_equal(pl.mmap.fd_offset, 0x1000);
	assert_int_equal(pl.mmap.shm_offset, 0x200000);
	assert_int_equal(pl.mmap.len, 0x4000);
	assert_int_equal(pl.mmap.flags, 1);
	pl.mmap.len = 0x8000;
	to_wire(40);
	assert_int_equal(get_u64(wire, 24), 0x8000);
}

static void shmem_config_sizes_start_at_8(void **state)
{
	(void)state;
	reset();
	put_u32(wire, 0, 2);
	put_u64(wire, 8, UINT64_C(1) << 32);
	put_u64(wire, 16, 0x100000);
	put_u64(wire, 8 + 8 * 255, 0x77);
	from_wire((uint32_t)sizeof(struct vhost_user_shmem_config));
	assert_int_equal(sizeof(struct vhost_user_shmem_config), 2056);
	assert_int_equal(pl.shmem.nregions, 2);
	assert_int_equal(pl.shmem.memory_sizes[0], UINT64_C(1) << 32);
	assert_int_equal(pl.shmem.memory_sizes[1], 0x100000);
	assert_int_equal(pl.shmem.memory_sizes[255], 0x77);
	pl.shmem.memory_sizes[1] = 0x200000;
	to_wire((uint32_t)sizeof(struct vhost_user_shmem_config));
	assert_int_equal(get_u64(wire, 16), 0x200000);
}

/* A whole message as one byte stream: header, then payload, like the
 * socket carries it; the reader copies each part into place. */
static void whole_message_stream_splits_into_header_and_payload(void **state)
{
	uint8_t stream[VHOST_USER_HDR_SIZE + 40];
	struct vhost_user_msg m;

	(void)state;
	put_u32(stream, 0, VHOST_USER_ADD_MEM_REG);
	put_u32(stream, 4, VHOST_USER_VERSION | VHOST_USER_NEED_REPLY_MASK);
	put_u32(stream, 8, 40);
	put_u64(stream, 12 + 0, 0);
	put_u64(stream, 12 + 8, 0xc0000000);
	put_u64(stream, 12 + 16, 0x40000000);
	put_u64(stream, 12 + 24, 0x7f0000000000);
	put_u64(stream, 12 + 32, 0);
	memset(&m, 0, sizeof(m));
	memcpy(&m.hdr, stream, VHOST_USER_HDR_SIZE);
	memcpy(m.payload.raw, stream + VHOST_USER_HDR_SIZE, m.hdr.size);
	assert_int_equal(vh_proto_validate_hdr(&m.hdr, false, 4096), 0);
	assert_int_equal(m.payload.mem_reg.region.guest_phys_addr, 0xc0000000);
	assert_int_equal(m.payload.mem_reg.region.memory_size, 0x40000000);
	assert_int_equal(vh_proto_validate_region(&m.payload.mem_reg.region),
			 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(header_fields_sit_at_0_4_8),
	    cmocka_unit_test(u64_round_trips),
	    cmocka_unit_test(vring_state_index_then_num),
	    cmocka_unit_test(vring_addr_fields_at_spec_offsets),
	    cmocka_unit_test(mem_table_regions_start_at_byte_8_every_32),
	    cmocka_unit_test(single_region_sits_after_8_bytes_of_padding),
	    cmocka_unit_test(log_size_then_offset),
	    cmocka_unit_test(iotlb_perm_at_24_type_at_25),
	    cmocka_unit_test(config_header_then_bytes_at_12),
	    cmocka_unit_test(vring_area_u64_size_offset),
	    cmocka_unit_test(inflight_queues_at_16_and_18),
	    cmocka_unit_test(shared_object_is_16_raw_uuid_bytes),
	    cmocka_unit_test(transfer_state_direction_then_phase),
	    cmocka_unit_test(mmap_request_fields_at_spec_offsets),
	    cmocka_unit_test(shmem_config_sizes_start_at_8),
	    cmocka_unit_test(
		whole_message_stream_splits_into_header_and_payload),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
