/* SPDX-License-Identifier: MIT */
/*
 * The transport vtable (include/vhost/transport.h): the generic layer
 * (dispatch, -EOPNOTSUPP for missing ops, GPA translation) and the
 * vhost-user implementation driving our back-end dispatcher.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "fe_test.h"
#include "vhost/transport.h"

#define GPA  UINT64_C(0x100000)
#define UVA  UINT64_C(0x7f0000000000)
#define SIZE UINT64_C(0x10000)

static const struct vh_transport_ops no_ops = {.kind = "none"};

static void missing_ops_are_not_supported(void **state)
{
	struct vh_transport *t;
	struct vh_transport_vring_addr a = {0};
	struct vh_transport_region r = {.size = 1, .fd = -1};
	uint64_t f;
	uint32_t v;
	uint8_t b;

	(void)state;
	assert_int_equal(vh_transport_create(&t, &no_ops, NULL), 0);
	assert_string_equal(vh_transport_kind(t), "none");
	assert_int_equal(vh_transport_get_features(t, &f), -EOPNOTSUPP);
	assert_int_equal(vh_transport_set_features(t, 0), -EOPNOTSUPP);
	assert_int_equal(vh_transport_set_owner(t), -EOPNOTSUPP);
	assert_int_equal(vh_transport_reset_owner(t), -EOPNOTSUPP);
	assert_int_equal(vh_transport_set_mem_table(t, &r, 1), -EOPNOTSUPP);
	assert_int_equal(vh_transport_set_log_base(t, NULL), -EOPNOTSUPP);
	assert_int_equal(vh_transport_set_log_fd(t, -1), -EOPNOTSUPP);
	assert_int_equal(vh_transport_set_vring_num(t, 0, 8), -EOPNOTSUPP);
	assert_int_equal(vh_transport_set_vring_addr(t, 0, &a), -EOPNOTSUPP);
	assert_int_equal(vh_transport_set_vring_base(t, 0, 0), -EOPNOTSUPP);
	assert_int_equal(vh_transport_get_vring_base(t, 0, &v), -EOPNOTSUPP);
	assert_int_equal(vh_transport_set_vring_kick(t, 0, -1), -EOPNOTSUPP);
	assert_int_equal(vh_transport_set_vring_call(t, 0, -1), -EOPNOTSUPP);
	assert_int_equal(vh_transport_set_vring_err(t, 0, -1), -EOPNOTSUPP);
	assert_int_equal(vh_transport_set_vring_enable(t, 0, true),
			 -EOPNOTSUPP);
	assert_int_equal(vh_transport_get_config(t, 0, &b, 1), -EOPNOTSUPP);
	assert_int_equal(vh_transport_set_config(t, 0, &b, 1), -EOPNOTSUPP);
	assert_int_equal(vh_transport_set_status(t, 1), -EOPNOTSUPP);
	assert_int_equal(vh_transport_get_status(t, &b), -EOPNOTSUPP);
	assert_int_equal(vh_transport_reset_device(t), -EOPNOTSUPP);
	assert_int_equal(vh_transport_get_queue_num(t, &v), -EOPNOTSUPP);
	assert_int_equal(vh_transport_get_max_mem_slots(t, &v), -EOPNOTSUPP);
	assert_null(vh_transport_vhost_user_frontend(t));
	vh_transport_free(t);
}

/* A fake implementation that accepts a memory table and ring sizes, to
 * test the generic translation. */
static int ok_mem(struct vh_transport *t, const struct vh_transport_region *r,
		  unsigned n)
{
	(void)t;
	(void)r;
	(void)n;
	return 0;
}

static int ok_num(struct vh_transport *t, uint32_t i, uint32_t n)
{
	(void)t;
	(void)i;
	(void)n;
	return 0;
}

static int ok_features(struct vh_transport *t, uint64_t f)
{
	(void)t;
	(void)f;
	return 0;
}

static const struct vh_transport_ops table_ops = {
    .set_mem_table = ok_mem,
    .set_vring_num = ok_num,
    .set_features = ok_features,
};

static void translation_follows_the_memory_table(void **state)
{
	struct vh_transport *t;
	struct vh_transport_region r[2] = {
	    {.guest_phys_addr = 0,
	     .size = 0x1000,
	     .user_addr = 0x5000,
	     .fd = -1},
	    {.guest_phys_addr = GPA, .size = SIZE, .user_addr = UVA, .fd = -1},
	};
	struct vh_transport_vring_addr in = {.desc = GPA,
					     .avail = GPA + 0x1000,
					     .used = GPA + 0x2000},
				       out;
	uint64_t u;

	(void)state;
	assert_int_equal(vh_transport_create(&t, &table_ops, NULL), 0);
	assert_int_equal(vh_transport_translate(t, 0, 1, &u), -ENOENT);
	assert_int_equal(vh_transport_set_mem_table(t, r, 2), 0);
	assert_int_equal(vh_transport_translate(t, 0x10, 0x10, &u), 0);
	assert_int_equal(u, 0x5010);
	assert_int_equal(vh_transport_translate(t, GPA + SIZE - 1, 1, &u), 0);
	assert_int_equal(u, UVA + SIZE - 1);
	/* Crossing the end of a region, a hole, a wrap: not covered. */
	assert_int_equal(vh_transport_translate(t, GPA + SIZE - 1, 2, &u),
			 -EFAULT);
	assert_int_equal(vh_transport_translate(t, 0x2000, 1, &u), -EFAULT);
	assert_int_equal(vh_transport_translate(t, UINT64_MAX, 2, &u), -EFAULT);
	/* Rings need their size first; then every area is translated. */
	assert_int_equal(vh_transport_translate_vring(t, 0, &in, &out),
			 -EINVAL);
	assert_int_equal(vh_transport_set_vring_num(t, 0, 256), 0);
	assert_int_equal(vh_transport_vring_num(t, 0), 256);
	assert_int_equal(vh_transport_translate_vring(t, 0, &in, &out), 0);
	assert_int_equal(out.desc, UVA);
	assert_int_equal(out.avail, UVA + 0x1000);
	assert_int_equal(out.used, UVA + 0x2000);
	/* A used ring of 256 entries (4 + 8 * 256 bytes) past the region. */
	in.used = GPA + SIZE - 0x400;
	assert_int_equal(vh_transport_translate_vring(t, 0, &in, &out),
			 -EFAULT);
	/* Overlapping regions are refused before the implementation runs. */
	r[1].guest_phys_addr = 0x800;
	assert_int_equal(vh_transport_set_mem_table(t, r, 2), -EINVAL);
	vh_transport_free(t);
}

struct tfx {
	struct fixture fx;
	struct vh_transport *t;
	int mem;
};

/* Without GPA_ADDRESSES: ring addresses are translated to user addresses. */
#define TFX_PF         \
	(TDEV_ALL_PF & \
	 ~vh_protocol_feature_mask(VHOST_USER_PROTOCOL_F_GPA_ADDRESSES))

static void tfx_start_pf(struct tfx *x, uint64_t pf)
{
	struct vh_frontend *f;

	fixture_start(&x->fx, TDEV_ALL_PF);
	f = x->fx.f;
	x->fx.f = NULL; /* the transport owns it now */
	assert_int_equal(vh_transport_vhost_user_new(&x->t, f), 0);
	assert_ptr_equal(vh_transport_vhost_user_frontend(x->t), f);
	assert_string_equal(vh_transport_kind(x->t), "vhost-user");
	assert_int_equal(vh_frontend_negotiate(f, pf, NULL, NULL), 0);
	x->mem = make_memfd(SIZE);
}

static void tfx_start(struct tfx *x)
{
	tfx_start_pf(x, TFX_PF);
}

static void tfx_stop(struct tfx *x)
{
	vh_transport_free(x->t);
	close(x->mem);
	fixture_stop(&x->fx);
}

static void vhost_user_transport_drives_a_device(void **state)
{
	struct tfx x;
	struct vh_transport_region r = {
	    .guest_phys_addr = GPA, .size = SIZE, .user_addr = UVA, .fd = -1};
	struct vh_transport_vring_addr a = {.desc = GPA,
					    .avail = GPA + 0x1000,
					    .used = GPA + 0x2000,
					    .log = 0x1234,
					    .flags = VH_TRANSPORT_VRING_F_LOG};
	uint64_t features;
	uint32_t v;
	uint8_t cfg[4], status;
	int kick;

	(void)state;
	tfx_start(&x);
	kick = make_eventfd();
	r.fd = x.mem;
	assert_int_equal(vh_transport_set_owner(x.t), 0);
	assert_int_equal(vh_transport_get_features(x.t, &features), 0);
	/* vhost-user's own bit is hidden from the VMM... */
	assert_false(
	    vh_virtio_has(features, VH_VHOST_USER_F_PROTOCOL_FEATURES));
	features &= ~vh_virtio_feature_mask(VH_VIRTIO_F_ACCESS_PLATFORM);
	assert_int_equal(vh_transport_set_features(x.t, features), 0);
	assert_int_equal(vh_transport_features(x.t), features);
	assert_int_equal(vh_transport_set_mem_table(x.t, &r, 1), 0);
	assert_int_equal(vh_transport_set_vring_num(x.t, 0, 64), 0);
	assert_int_equal(vh_transport_set_vring_base(x.t, 0, 3), 0);
	assert_int_equal(vh_transport_set_vring_addr(x.t, 0, &a), 0);
	assert_int_equal(vh_transport_set_vring_kick(x.t, 0, kick), 0);
	assert_int_equal(vh_transport_set_vring_call(x.t, 0, -1), 0);
	assert_int_equal(vh_transport_set_vring_err(x.t, 0, -1), 0);
	assert_int_equal(vh_transport_set_vring_enable(x.t, 0, true), 0);
	assert_int_equal(vh_transport_get_config(x.t, 0, cfg, 4), 0);
	assert_int_equal(cfg[3], 0xa3);
	assert_int_equal(vh_transport_set_config(x.t, 0, cfg, 4), 0);
	assert_int_equal(vh_transport_set_status(x.t, 0xf), 0);
	assert_int_equal(vh_transport_get_status(x.t, &status), 0);
	assert_int_equal(status, 0xf);
	assert_int_equal(vh_transport_get_queue_num(x.t, &v), 0);
	assert_int_equal(v, TDEV_QUEUES);
	assert_int_equal(vh_transport_get_max_mem_slots(x.t, &v), 0);
	assert_int_equal(v, TDEV_MEM_SLOTS);
	assert_int_equal(vh_transport_get_vring_base(x.t, 0, &v), 0);
	assert_int_equal(v, 3 + 7);
	/* ...but kept in force on the wire, with the ring addresses
	 * translated to the front-end's user addresses. */
	assert_true(vh_virtio_has(vh_backend_features(x.fx.b),
				  VH_VHOST_USER_F_PROTOCOL_FEATURES));
	assert_int_equal(x.fx.dev.addr.desc_user_addr, UVA);
	assert_int_equal(x.fx.dev.addr.avail_user_addr, UVA + 0x1000);
	assert_int_equal(x.fx.dev.addr.used_user_addr, UVA + 0x2000);
	assert_int_equal(x.fx.dev.addr.log_guest_addr, 0x1234);
	assert_int_equal(x.fx.dev.addr.flags, 1u << VHOST_VRING_F_LOG);
	assert_true(x.fx.dev.enabled[0]);
	assert_eventfd_linked(kick, x.fx.dev.kick[0]);
	assert_int_equal(x.fx.dev.call[0], -1);
	assert_int_equal(vh_transport_reset_device(x.t), 0);
	close(kick);
	tfx_stop(&x);
}

static void ring_outside_the_memory_table_is_never_sent(void **state)
{
	struct tfx x;
	struct vh_transport_region r = {
	    .guest_phys_addr = GPA, .size = SIZE, .user_addr = UVA};
	struct vh_transport_vring_addr a = {
	    .desc = 0x1000, .avail = 0x2000, .used = 0x3000};
	uint64_t features;

	(void)state;
	tfx_start(&x);
	r.fd = x.mem;
	assert_int_equal(vh_transport_get_features(x.t, &features), 0);
	assert_int_equal(vh_transport_set_features(
			     x.t, features & ~vh_virtio_feature_mask(
						 VH_VIRTIO_F_ACCESS_PLATFORM)),
			 0);
	assert_int_equal(vh_transport_set_mem_table(x.t, &r, 1), 0);
	assert_int_equal(vh_transport_set_vring_num(x.t, 0, 64), 0);
	assert_int_equal(vh_transport_set_vring_addr(x.t, 0, &a), -EFAULT);
	/* No size yet for ring 1. */
	assert_int_equal(vh_transport_set_vring_addr(x.t, 1, &a), -EINVAL);
	assert_int_equal(vh_frontend_get_features(
			     vh_transport_vhost_user_frontend(x.t), NULL),
			 0);
	assert_int_equal(tdev_calls(&x.fx.dev, VHOST_USER_SET_VRING_ADDR), 0);
	tfx_stop(&x);
}

static void with_access_platform_ring_addresses_are_iovas(void **state)
{
	struct tfx x;
	struct vh_transport_vring_addr a = {
	    .desc = 0x1000, .avail = 0x2000, .used = 0x3000};
	uint64_t features;

	(void)state;
	tfx_start(&x);
	assert_int_equal(vh_transport_get_features(x.t, &features), 0);
	assert_true(vh_virtio_has(features, VH_VIRTIO_F_ACCESS_PLATFORM));
	assert_int_equal(vh_transport_set_features(x.t, features), 0);
	assert_int_equal(vh_transport_set_vring_num(x.t, 0, 64), 0);
	/* No memory table at all: IOVAs are the IOTLB's business. */
	assert_int_equal(vh_transport_set_vring_addr(x.t, 0, &a), 0);
	assert_int_equal(vh_frontend_get_features(
			     vh_transport_vhost_user_frontend(x.t), NULL),
			 0);
	assert_int_equal(x.fx.dev.addr.desc_user_addr, 0x1000);
	assert_int_equal(x.fx.dev.addr.used_user_addr, 0x3000);
	tfx_stop(&x);
}

static void with_gpa_addresses_ring_addresses_stay_guest_physical(void **st)
{
	struct tfx x;
	struct vh_transport_region r = {
	    .guest_phys_addr = GPA, .size = SIZE, .user_addr = UVA};
	struct vh_transport_vring_addr a = {
	    .desc = GPA, .avail = GPA + 0x1000, .used = GPA + 0x2000};
	uint64_t features;

	(void)st;
	tfx_start_pf(&x, TDEV_ALL_PF);
	r.fd = x.mem;
	assert_int_equal(vh_transport_get_features(x.t, &features), 0);
	assert_int_equal(vh_transport_set_features(
			     x.t, features & ~vh_virtio_feature_mask(
						 VH_VIRTIO_F_ACCESS_PLATFORM)),
			 0);
	assert_int_equal(vh_transport_set_mem_table(x.t, &r, 1), 0);
	assert_int_equal(vh_transport_set_vring_num(x.t, 0, 64), 0);
	assert_int_equal(vh_transport_set_vring_addr(x.t, 0, &a), 0);
	assert_int_equal(vh_frontend_get_features(
			     vh_transport_vhost_user_frontend(x.t), NULL),
			 0);
	assert_int_equal(x.fx.dev.addr.desc_user_addr, GPA);
	assert_int_equal(x.fx.dev.addr.used_user_addr, GPA + 0x2000);
	tfx_stop(&x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(missing_ops_are_not_supported),
	    cmocka_unit_test(translation_follows_the_memory_table),
	    cmocka_unit_test(vhost_user_transport_drives_a_device),
	    cmocka_unit_test(ring_outside_the_memory_table_is_never_sent),
	    cmocka_unit_test(with_access_platform_ring_addresses_are_iovas),
	    cmocka_unit_test(
		with_gpa_addresses_ring_addresses_stay_guest_physical),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
