/* SPDX-License-Identifier: MIT */
/*
 * vhost-vdpa against the fake device (fake_kern.h): the memory table as
 * IOTLB v2 messages (batched when offered), DMA map/unmap and their
 * rollback, ring addresses checked against the mappings, the IOVA range,
 * backend-feature negotiation, status and config, suspend gating.
 */
#include <errno.h>
#include <string.h>

#include "fake_kern.h"
#include "vhost/proto.h"

#define GPA  UINT64_C(0x40000000)
#define UVA  UINT64_C(0x7f0000000000)
#define SIZE UINT64_C(0x100000)

static int teardown(void **state)
{
	(void)state;
	vh_log_set_handler(NULL, NULL);
	vh_log_set_level(VH_LOG_WARN);
	return 0;
}

static struct vh_transport *vdpa(void)
{
	struct vh_transport *t;

	fake_reset(VH_KERN_VDPA);
	t = fake_adopt();
	assert_int_equal(vh_transport_set_owner(t), 0);
	return t;
}

static void expect_msg(unsigned i, uint8_t op, uint64_t iova, uint64_t size,
		       uint64_t uaddr, uint8_t perm)
{
	const struct vh_k_msg_v2 *m = &fake.msgs[i];

	assert_true(i < fake.nmsgs);
	assert_int_equal(m->type, VH_K_IOTLB_MSG_V2);
	assert_int_equal(m->asid, 0);
	assert_int_equal(m->u.iotlb.type, op);
	if (op == VH_K_IOTLB_UPDATE || op == VH_K_IOTLB_INVALIDATE) {
		assert_true(m->u.iotlb.iova == iova);
		assert_true(m->u.iotlb.size == size);
	}
	if (op == VH_K_IOTLB_UPDATE) {
		assert_true(m->u.iotlb.uaddr == uaddr);
		assert_int_equal(m->u.iotlb.perm, perm);
	}
}

static void memory_table_becomes_batched_iotlb_updates(void **state)
{
	struct vh_transport *t = vdpa();
	struct vh_transport_region rg[2] = {
	    {.guest_phys_addr = GPA, .size = SIZE, .user_addr = UVA, .fd = -1},
	    {.guest_phys_addr = GPA + 2 * SIZE,
	     .size = SIZE,
	     .user_addr = UVA + 4 * SIZE,
	     .fd = -1}};

	(void)state;
	assert_int_equal(vh_transport_set_mem_table(t, rg, 2), 0);
	/* The offered subset of MSG_V2|BATCH|ASID|SUSPEND|RESUME. */
	assert_true(fake.backend_acked == 0x1e);
	assert_int_equal(fake.nmsgs, 4);
	expect_msg(0, VH_K_IOTLB_BATCH_BEGIN, 0, 0, 0, 0);
	expect_msg(1, VH_K_IOTLB_UPDATE, GPA, SIZE, UVA, VH_KERN_DMA_RW);
	expect_msg(2, VH_K_IOTLB_UPDATE, GPA + 2 * SIZE, SIZE, UVA + 4 * SIZE,
		   VH_KERN_DMA_RW);
	expect_msg(3, VH_K_IOTLB_BATCH_END, 0, 0, 0, 0);

	/* The next table replaces it: invalidations first. */
	fake.nmsgs = 0;
	rg[0].user_addr = UVA + 8 * SIZE;
	assert_int_equal(vh_transport_set_mem_table(t, rg, 1), 0);
	assert_int_equal(fake.nmsgs, 5);
	expect_msg(0, VH_K_IOTLB_BATCH_BEGIN, 0, 0, 0, 0);
	assert_int_equal(fake.msgs[1].u.iotlb.type, VH_K_IOTLB_INVALIDATE);
	assert_int_equal(fake.msgs[2].u.iotlb.type, VH_K_IOTLB_INVALIDATE);
	expect_msg(3, VH_K_IOTLB_UPDATE, GPA, SIZE, UVA + 8 * SIZE,
		   VH_KERN_DMA_RW);
	expect_msg(4, VH_K_IOTLB_BATCH_END, 0, 0, 0, 0);
	assert_int_equal(fake_count(VH_K_SET_MEM_TABLE), 0);
	vh_transport_free(t);
}

static void no_batch_messages_without_iotlb_batch(void **state)
{
	struct vh_transport *t = vdpa();
	struct vh_kern_dma d[2] = {
	    {.iova = 0x1000, .size = 0x1000, .uaddr = UVA, .perm = 1},
	    {.iova = 0x3000, .size = 0x1000, .uaddr = UVA, .perm = 2}};

	(void)state;
	fake.backend_offered = 0x2; /* MSG_V2 only */
	assert_int_equal(vh_kern_dma_map(t, 0, d, 2), 0);
	assert_true(fake.backend_acked == 0x2);
	assert_int_equal(fake.nmsgs, 2);
	expect_msg(0, VH_K_IOTLB_UPDATE, 0x1000, 0x1000, UVA, VH_KERN_DMA_RO);
	expect_msg(1, VH_K_IOTLB_UPDATE, 0x3000, 0x1000, UVA, VH_KERN_DMA_WO);
	assert_int_equal(vh_kern_dma_unmap(t, 0, d, 1), 0);
	expect_msg(2, VH_K_IOTLB_INVALIDATE, 0x1000, 0x1000, 0, 0);
	vh_transport_free(t);
}

static void caller_backend_features_are_kept(void **state)
{
	struct vh_transport *t = vdpa();
	struct vh_kern_dma d = {
	    .iova = 0x1000, .size = 0x1000, .uaddr = UVA, .perm = 3};

	(void)state;
	assert_int_equal(vh_kern_set_backend_features(t, 0x2), 0);
	assert_int_equal(vh_kern_dma_map(t, 0, &d, 1), 0);
	assert_true(fake.backend_acked == 0x2);
	assert_int_equal(fake_count(VH_K_SET_BACKEND_FEATURES), 1);
	/* SUSPEND not acknowledged by the caller: refused here. */
	assert_int_equal(vh_kern_vdpa_suspend(t), -EOPNOTSUPP);
	assert_int_equal(fake_count(VH_K_VDPA_SUSPEND), 0);
	vh_transport_free(t);
}

static void suspend_needs_the_backend_feature(void **state)
{
	struct vh_transport *t = vdpa();

	(void)state;
	assert_int_equal(vh_kern_vdpa_suspend(t), 0);
	assert_int_equal(fake_count(VH_K_VDPA_SUSPEND), 1);
	/* RESUME is not offered by a 6.1 kernel. */
	assert_int_equal(vh_kern_vdpa_resume(t), -EOPNOTSUPP);
	assert_non_null(strstr(fake_last_log, "RESUME"));
	assert_int_equal(fake_count(VH_K_VDPA_RESUME), 0);
	vh_transport_free(t);
}

static void a_failed_update_unmaps_what_the_call_mapped(void **state)
{
	struct vh_transport *t = vdpa();
	struct vh_kern_dma d[3] = {
	    {.iova = 0x1000, .size = 0x1000, .uaddr = UVA, .perm = 3},
	    {.iova = 0x2000, .size = 0x1000, .uaddr = UVA, .perm = 3},
	    {.iova = 0x3000, .size = 0x1000, .uaddr = UVA, .perm = 3}};
	struct vh_transport_vring_addr a = {
	    .desc = 0x1000, .avail = 0x1000, .used = 0x1000};

	(void)state;
	fake.fail_write_at = 3; /* BEGIN, UPDATE, UPDATE, *UPDATE* */
	fake.fail_errno = EEXIST;
	assert_int_equal(vh_kern_dma_map(t, 0, d, 3), -EEXIST);
	assert_non_null(strstr(fake_last_log, "VHOST_IOTLB_UPDATE"));
	assert_non_null(strstr(fake_last_log, "File exists"));
	/* BEGIN, 2 UPDATEs, 2 INVALIDATEs, END. */
	assert_int_equal(fake.nmsgs, 6);
	expect_msg(3, VH_K_IOTLB_INVALIDATE, 0x1000, 0x1000, 0, 0);
	expect_msg(4, VH_K_IOTLB_INVALIDATE, 0x2000, 0x1000, 0, 0);
	expect_msg(5, VH_K_IOTLB_BATCH_END, 0, 0, 0, 0);
	/* Nothing is mapped now: a ring there is refused. */
	assert_int_equal(vh_transport_set_vring_num(t, 0, 16), 0);
	assert_int_equal(vh_transport_set_vring_addr(t, 0, &a), -EFAULT);
	vh_transport_free(t);
}

static void rings_must_lie_in_mapped_iovas(void **state)
{
	struct vh_transport *t = vdpa();
	struct vh_kern_dma d = {
	    .iova = 0x10000, .size = 0x4000, .uaddr = UVA, .perm = 3};
	struct vh_transport_vring_addr a = {
	    .desc = 0x10000, .avail = 0x11000, .used = 0x12000};

	(void)state;
	assert_int_equal(vh_kern_dma_map(t, 0, &d, 1), 0);
	assert_int_equal(vh_transport_set_vring_addr(t, 0, &a), -EINVAL);
	assert_int_equal(vh_transport_set_vring_num(t, 0, 256), 0);
	assert_int_equal(vh_transport_set_vring_addr(t, 0, &a), 0);
	/* IOVAs pass unchanged. */
	assert_true(fake.addr[0].desc_user_addr == 0x10000);
	assert_true(fake.addr[0].avail_user_addr == 0x11000);
	assert_true(fake.addr[0].used_user_addr == 0x12000);
	a.used = 0x13c00; /* 2054 bytes from here leave the mapping */
	assert_int_equal(vh_transport_set_vring_addr(t, 0, &a), -EFAULT);
	assert_non_null(strstr(fake_last_log, "device area"));
	assert_int_equal(fake_count(VH_K_SET_VRING_ADDR), 1);
	/* After the unmap, nothing covers the ring any more. */
	assert_int_equal(vh_kern_dma_unmap(t, 0, &d, 1), 0);
	a.used = 0x12000;
	assert_int_equal(vh_transport_set_vring_addr(t, 0, &a), -EFAULT);
	vh_transport_free(t);
}

static void mappings_outside_the_iova_range_are_erange(void **state)
{
	struct vh_transport *t = vdpa();
	struct vh_kern_dma d = {
	    .iova = 0x1000, .size = 0x1000, .uaddr = UVA, .perm = 3};

	(void)state;
	fake.range.first = 0x10000;
	fake.range.last = 0xffffffff;
	assert_int_equal(vh_kern_dma_map(t, 0, &d, 1), -ERANGE);
	assert_non_null(strstr(fake_last_log, "IOVA range"));
	d.iova = 0xfffff000;
	d.size = 0x2000;
	assert_int_equal(vh_kern_dma_map(t, 0, &d, 1), -ERANGE);
	d.size = 0;
	assert_int_equal(vh_kern_dma_map(t, 0, &d, 1), -EINVAL);
	d.size = 0x1000;
	d.perm = 0;
	assert_int_equal(vh_kern_dma_map(t, 0, &d, 1), -EINVAL);
	assert_int_equal(fake.nmsgs, 0);
	d.perm = VH_KERN_DMA_RW;
	assert_int_equal(vh_kern_dma_map(t, 0, &d, 1), 0);
	assert_int_equal(fake.nmsgs, 1);
	vh_transport_free(t);
}

static void status_config_and_enable_go_through_the_transport(void **state)
{
	struct vh_transport *t = vdpa();
	uint8_t st = 0xff, mac[6] = {0}, b = 0x5a;
	uint32_t n = 0, id = 0, g = 9;

	(void)state;
	memcpy(fake.config, "\x52\x54\x00\x12\x34\x56", 6);
	assert_int_equal(vh_transport_get_status(t, &st), 0);
	assert_int_equal(st, 0);
	assert_int_equal(vh_transport_set_status(t, 0xb), 0);
	assert_int_equal(vh_transport_get_status(t, &st), 0);
	assert_int_equal(st, 0xb);
	assert_int_equal(vh_transport_get_config(t, 0, mac, 6), 0);
	assert_memory_equal(mac, "\x52\x54\x00\x12\x34\x56", 6);
	assert_int_equal(vh_transport_set_config(t, 7, &b, 1), 0);
	assert_int_equal(fake.config[7], 0x5a);
	assert_int_equal(vh_transport_get_config(t, 60, mac, 6), -E2BIG);
	assert_non_null(strstr(fake_last_log, "VHOST_VDPA_GET_CONFIG"));
	assert_int_equal(vh_transport_get_config(t, 0, mac, 0), -EINVAL);
	assert_int_equal(vh_transport_reset_device(t), 0);
	assert_int_equal(fake.status, 0);
	assert_int_equal(vh_transport_get_queue_num(t, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(vh_transport_set_vring_enable(t, 1, true), 0);
	/* GET_VQS_COUNT bounds every ring index. */
	assert_int_equal(vh_transport_set_vring_enable(t, 3, true), -ERANGE);
	assert_int_equal(vh_kern_vdpa_get_device_id(t, &id), 0);
	assert_int_equal(id, 1);
	assert_int_equal(vh_kern_vdpa_get_vring_group(t, 2, &g), 0);
	assert_int_equal(g, 1);
	/* Newer than the (fake) kernel. */
	assert_int_equal(vh_kern_vdpa_get_vring_size(t, 0, &n), -EOPNOTSUPP);
	assert_int_equal(vh_kern_vdpa_get_vring_desc_group(t, 0, &g),
			 -EOPNOTSUPP);
	/* No dirty log and no region limit on vhost-vdpa. */
	assert_int_equal(vh_transport_set_log_fd(t, -1), -EOPNOTSUPP);
	assert_int_equal(vh_transport_get_max_mem_slots(t, &n), -EOPNOTSUPP);
	vh_transport_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(memory_table_becomes_batched_iotlb_updates),
	    cmocka_unit_test(no_batch_messages_without_iotlb_batch),
	    cmocka_unit_test(caller_backend_features_are_kept),
	    cmocka_unit_test(suspend_needs_the_backend_feature),
	    cmocka_unit_test(a_failed_update_unmaps_what_the_call_mapped),
	    cmocka_unit_test(rings_must_lie_in_mapped_iovas),
	    cmocka_unit_test(mappings_outside_the_iova_range_are_erange),
	    cmocka_unit_test(status_config_and_enable_go_through_the_transport),
	};

	return cmocka_run_group_tests(tests, NULL, teardown);
}
