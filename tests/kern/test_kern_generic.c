/* SPDX-License-Identifier: MIT */
/*
 * Generic kernel vhost behaviour against the fake device (fake_kern.h):
 * opening, ownership order, address translation, the region limit, ring
 * index checks, features (array fallback), the optional ioctls, error
 * logging, and that no fd is left behind.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fake_kern.h"
#include "vhost/proto.h"

#define GPA  UINT64_C(0x10000000)
#define SIZE UINT64_C(0x100000)

static void *mem;

static int setup(void **state)
{
	(void)state;
	mem = mmap(NULL, SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return mem == MAP_FAILED ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	munmap(mem, SIZE);
	vh_log_set_handler(NULL, NULL);
	vh_log_set_level(VH_LOG_WARN);
	return 0;
}

static struct vh_transport_region region(void)
{
	struct vh_transport_region r = {.guest_phys_addr = GPA,
					.size = SIZE,
					.user_addr = (uint64_t)(uintptr_t)mem,
					.fd = -1};
	return r;
}

/* A fake vhost-net, owned, with the memory table and ring 0 sized 256. */
static struct vh_transport *ready(enum vh_kern_device kind)
{
	struct vh_transport_region r = region();
	struct vh_transport *t;

	fake_reset(kind);
	t = fake_adopt();
	assert_int_equal(vh_transport_set_owner(t), 0);
	assert_int_equal(vh_transport_set_mem_table(t, &r, 1), 0);
	assert_int_equal(vh_transport_set_vring_num(t, 0, 256), 0);
	return t;
}

static void open_of_a_missing_node_is_enoent_and_leaks_nothing(void **state)
{
	struct vh_transport *t = (void *)1;
	int base = fake_fd_count();

	(void)state;
	fake_log_capture();
	assert_int_equal(
	    vh_kern_open(&t, VH_KERN_NET, "/dev/vhost-nonexistent"), -ENOENT);
	assert_null(t);
	assert_non_null(strstr(fake_last_log, "/dev/vhost-nonexistent"));
	assert_int_equal(vh_kern_open(&t, VH_KERN_VDPA, NULL), -EINVAL);
	assert_int_equal(vh_kern_open(&t, (enum vh_kern_device)9, NULL),
			 -EINVAL);
	assert_int_equal(fake_fd_count(), base);
}

static void open_of_a_node_that_is_not_vhost_is_enotty(void **state)
{
	struct vh_transport *t = (void *)1;
	int base = fake_fd_count();

	(void)state;
	fake_log_capture();
	assert_int_equal(vh_kern_open(&t, VH_KERN_NET, "/dev/null"), -ENOTTY);
	assert_null(t);
	assert_non_null(strstr(fake_last_log, "not a vhost device"));
	assert_int_equal(fake_fd_count(), base);
}

static void adopt_takes_the_fd_also_on_failure(void **state)
{
	struct vh_transport *t;
	int base;

	(void)state;
	fake_reset(VH_KERN_NET);
	base = fake_fd_count();
	fake.not_vhost = true;
	assert_int_equal(vh_kern_adopt(&t, VH_KERN_NET, fake.fd, "x"), -ENOTTY);
	assert_int_equal(fake_fd_count(), base - 1);

	fake_reset(VH_KERN_NET);
	base = fake_fd_count();
	t = fake_adopt();
	assert_int_equal(vh_kern_device_type(t), VH_KERN_NET);
	assert_int_equal(vh_kern_fd(t), fake.fd);
	assert_string_equal(vh_transport_kind(t), "vhost-net");
	vh_transport_free(t);
	assert_int_equal(fake_fd_count(), base - 1);
}

static void rings_before_owner_are_eperm_with_a_hint(void **state)
{
	struct vh_transport *t;
	struct vh_transport_region r = region();

	(void)state;
	fake_reset(VH_KERN_NET);
	t = fake_adopt();
	assert_int_equal(vh_transport_set_vring_num(t, 0, 256), -EPERM);
	assert_non_null(strstr(fake_last_log, "VHOST_SET_VRING_NUM (ring 0)"));
	assert_non_null(strstr(fake_last_log, "fake0"));
	assert_non_null(
	    strstr(fake_last_log, "VHOST_SET_OWNER was not called"));
	assert_int_equal(vh_transport_set_mem_table(t, &r, 1), -EPERM);
	assert_int_equal(vh_transport_set_owner(t), 0);
	assert_int_equal(vh_transport_set_vring_num(t, 0, 256), 0);
	/* A second SET_OWNER: the kernel's EBUSY, named. */
	assert_int_equal(vh_transport_set_owner(t), -EBUSY);
	assert_non_null(strstr(fake_last_log, "VHOST_SET_OWNER"));
	/* RESET_OWNER gives it up: the hint is back. */
	assert_int_equal(vh_transport_reset_owner(t), 0);
	assert_int_equal(vh_transport_set_vring_base(t, 0, 0), -EPERM);
	assert_non_null(strstr(fake_last_log, "was not called"));
	vh_transport_free(t);
}

static void ring_addresses_become_process_addresses(void **state)
{
	struct vh_transport *t = ready(VH_KERN_NET);
	struct vh_transport_vring_addr a = {.desc = GPA + 0x1000,
					    .avail = GPA + 0x2000,
					    .used = GPA + 0x3000,
					    .log = GPA + 0x3000,
					    .flags = VH_TRANSPORT_VRING_F_LOG};
	uint64_t base = (uint64_t)(uintptr_t)mem;

	(void)state;
	assert_int_equal(vh_transport_set_vring_addr(t, 0, &a), 0);
	assert_int_equal(fake.addr[0].index, 0);
	assert_true(fake.addr[0].desc_user_addr == base + 0x1000);
	assert_true(fake.addr[0].avail_user_addr == base + 0x2000);
	assert_true(fake.addr[0].used_user_addr == base + 0x3000);
	/* The log address stays guest-physical (the kernel logs by GPA). */
	assert_true(fake.addr[0].log_guest_addr == GPA + 0x3000);
	assert_int_equal(fake.addr[0].flags, 1u << VHOST_VRING_F_LOG);
	assert_int_equal(fake.nregions, 1);
	assert_true(fake.regions[0].guest_phys_addr == GPA);
	assert_true(fake.regions[0].userspace_addr == base);
	vh_transport_free(t);
}

static void ring_outside_the_table_is_refused_before_the_ioctl(void **state)
{
	struct vh_transport *t = ready(VH_KERN_VSOCK);
	/* The used ring of 256 entries (2054 bytes) crosses the end. */
	struct vh_transport_vring_addr a = {
	    .desc = GPA, .avail = GPA + 0x1000, .used = GPA + SIZE - 0x400};

	(void)state;
	assert_int_equal(vh_transport_set_vring_addr(t, 0, &a), -EFAULT);
	a.used = GPA + 0x2000;
	a.desc = GPA - 0x1000;
	assert_int_equal(vh_transport_set_vring_addr(t, 0, &a), -EFAULT);
	assert_non_null(strstr(fake_last_log, "not covered"));
	/* A ring whose size is unknown cannot be checked. */
	a.desc = GPA;
	assert_int_equal(vh_transport_set_vring_addr(t, 1, &a), -EINVAL);
	assert_int_equal(fake_count(VH_K_SET_VRING_ADDR), 0);
	vh_transport_free(t);
}

static void access_platform_passes_iovas_unchanged(void **state)
{
	struct vh_transport *t = ready(VH_KERN_NET);
	struct vh_transport_vring_addr a = {
	    .desc = 0xdead0000, .avail = 0xdead1000, .used = 0xdead2000};

	(void)state;
	assert_int_equal(
	    vh_transport_set_features(
		t, vh_virtio_feature_mask(VH_VIRTIO_F_ACCESS_PLATFORM) |
		       vh_virtio_feature_mask(VH_VIRTIO_F_VERSION_1)),
	    0);
	assert_int_equal(vh_transport_set_vring_addr(t, 0, &a), 0);
	assert_true(fake.addr[0].desc_user_addr == 0xdead0000);
	assert_true(fake.addr[0].used_user_addr == 0xdead2000);
	vh_transport_free(t);
}

static void too_many_regions_is_e2big_before_the_ioctl(void **state)
{
	struct vh_transport_region rg[80];
	struct vh_transport *t;
	uint32_t max = 0;
	unsigned i;

	(void)state;
	fake_reset(VH_KERN_SCSI);
	t = fake_adopt();
	assert_int_equal(vh_transport_set_owner(t), 0);
	assert_int_equal(vh_transport_get_max_mem_slots(t, &max), 0);
	assert_true(max >= 1);
	if (max >= 80)
		skip(); /* this host raised the vhost module's limit */
	for (i = 0; i <= max; i++) {
		rg[i] = region();
		rg[i].guest_phys_addr = GPA + i * SIZE;
	}
	assert_int_equal(vh_transport_set_mem_table(t, rg, max + 1), -E2BIG);
	assert_non_null(strstr(fake_last_log, "max_mem_regions"));
	assert_int_equal(fake_count(VH_K_SET_MEM_TABLE), 0);
	assert_int_equal(vh_transport_set_mem_table(t, rg, max), 0);
	assert_int_equal(fake.nregions, max);
	vh_transport_free(t);
}

static void ring_index_beyond_the_device_is_erange(void **state)
{
	struct vh_transport *t = ready(VH_KERN_NET);
	uint32_t v;

	(void)state;
	/* vhost-net has two rings: refused here, no ioctl. */
	assert_int_equal(vh_transport_set_vring_num(t, 2, 256), -ERANGE);
	assert_non_null(strstr(fake_last_log, "ring 2 out of range"));
	assert_int_equal(vh_transport_get_vring_base(t, 7, &v), -ERANGE);
	assert_int_equal(vh_transport_set_vring_call(t, 2, -1), -ERANGE);
	assert_int_equal(fake_count(VH_K_GET_VRING_BASE), 0);
	vh_transport_free(t);

	/* vhost-scsi's count is the kernel's: its ENOBUFS means the same. */
	t = ready(VH_KERN_SCSI);
	assert_int_equal(vh_transport_set_vring_num(t, 200, 256), -ERANGE);
	assert_int_equal(fake_count(VH_K_SET_VRING_NUM), 2);
	assert_non_null(strstr(fake_last_log, "out of range"));
	vh_transport_free(t);
}

static void get_vring_base_returns_the_kernel_value(void **state)
{
	struct vh_transport *t = ready(VH_KERN_NET);
	uint32_t v = 0;

	(void)state;
	fake.vring_base = 4242;
	assert_int_equal(vh_transport_get_vring_base(t, 1, &v), 0);
	assert_int_equal(v, 4242);
	vh_transport_free(t);
}

static void minus_one_unbinds_kick_call_and_err(void **state)
{
	struct vh_transport *t = ready(VH_KERN_NET);

	(void)state;
	fake.last_file.fd = 5;
	assert_int_equal(vh_transport_set_vring_kick(t, 1, -1), 0);
	assert_int_equal(fake.last_file.fd, -1);
	assert_int_equal(fake.last_file.index, 1);
	fake.last_file.fd = 5;
	assert_int_equal(vh_transport_set_vring_call(t, 0, -1), 0);
	assert_int_equal(fake.last_file.fd, -1);
	fake.last_file.fd = 5;
	assert_int_equal(vh_transport_set_vring_err(t, 0, -1), 0);
	assert_int_equal(fake.last_file.fd, -1);
	assert_int_equal(vh_transport_set_log_fd(t, -1), 0);
	vh_transport_free(t);
}

static void features_array_falls_back_to_64_bits(void **state)
{
	struct vh_transport *t = ready(VH_KERN_VSOCK);
	uint64_t w[3] = {1, 2, 3};

	(void)state;
	assert_int_equal(vh_kern_get_features_array(t, w, 3), 0);
	assert_true(w[0] == fake.features);
	assert_true(w[1] == 0 && w[2] == 0);
	w[0] = vh_virtio_feature_mask(VH_VIRTIO_F_VERSION_1);
	w[1] = 0;
	assert_int_equal(vh_kern_set_features_array(t, w, 2), 0);
	assert_true(fake.acked == w[0]);
	assert_true(vh_transport_features(t) == w[0]);
	assert_int_equal(fake_count(VH_K_SET_FEATURES), 1);
	/* Bits above 63 cannot be expressed with the 64-bit ioctl. */
	w[1] = 1;
	assert_int_equal(vh_kern_set_features_array(t, w, 2), -EOPNOTSUPP);
	assert_non_null(strstr(fake_last_log, "VHOST_SET_FEATURES_ARRAY"));
	assert_int_equal(vh_kern_get_features_array(t, w, 0), -EINVAL);
	/* One word: the old kernel's ring handler answers ENOTTY. */
	assert_int_equal(vh_kern_get_features_array(t, w, 1), 0);
	assert_true(w[0] == fake.features);
	vh_transport_free(t);

	/* Before SET_OWNER an old kernel says EPERM to any unknown ioctl. */
	fake_reset(VH_KERN_NET);
	t = fake_adopt();
	w[2] = 7;
	assert_int_equal(vh_kern_get_features_array(t, w, 3), 0);
	assert_true(w[0] == fake.features && w[2] == 0);
	vh_transport_free(t);
}

static void features_array_is_used_where_the_kernel_has_it(void **state)
{
	struct vh_transport *t = ready(VH_KERN_NET);
	uint64_t w[2] = {0, 0};

	(void)state;
	fake.has_array = true;
	assert_int_equal(vh_kern_get_features_array(t, w, 2), 0);
	assert_true(w[0] == fake.features);
	assert_true(w[1] == 0x5);
	w[0] = vh_virtio_feature_mask(VH_VIRTIO_F_VERSION_1);
	w[1] = 0x4;
	assert_int_equal(vh_kern_set_features_array(t, w, 2), 0);
	assert_true(fake.hi_acked == 0x4);
	assert_true(fake.acked == w[0]);
	assert_int_equal(fake_count(VH_K_SET_FEATURES), 0);
	vh_transport_free(t);
}

static void optional_ioctls_missing_are_eopnotsupp(void **state)
{
	struct vh_transport *t = ready(VH_KERN_NET);
	uint32_t id = 0;
	bool big = true;
	unsigned logs;

	(void)state;
	fake_nlogs = 0;
	assert_int_equal(vh_kern_new_worker(t, &id), -EOPNOTSUPP);
	assert_int_equal(vh_kern_free_worker(t, 1), -EOPNOTSUPP);
	assert_int_equal(vh_kern_attach_vring_worker(t, 0, 1), -EOPNOTSUPP);
	assert_int_equal(vh_kern_get_vring_worker(t, 1, &id), -EOPNOTSUPP);
	assert_int_equal(vh_kern_set_vring_endian(t, 0, true), -EOPNOTSUPP);
	assert_int_equal(vh_kern_get_vring_endian(t, 0, &big), -EOPNOTSUPP);
	logs = fake_nlogs;
	assert_int_equal(logs, 6); /* at info level: one line each */
	assert_non_null(strstr(fake_last_log, "not supported by this kernel"));
	/* With a kernel that has workers. */
	fake.has_workers = true;
	assert_int_equal(vh_kern_new_worker(t, &id), 0);
	assert_int_equal(vh_kern_attach_vring_worker(t, 1, id), 0);
	vh_transport_free(t);
}

static void busyloop_timeout_round_trips(void **state)
{
	struct vh_transport *t = ready(VH_KERN_NET);
	uint32_t us = 0;

	(void)state;
	assert_int_equal(vh_kern_set_vring_busyloop_timeout(t, 1, 50), 0);
	assert_int_equal(vh_kern_get_vring_busyloop_timeout(t, 1, &us), 0);
	assert_int_equal(us, 50);
	assert_int_equal(vh_kern_set_vring_busyloop_timeout(t, 2, 50), -ERANGE);
	vh_transport_free(t);
}

static void backend_features_are_recorded(void **state)
{
	struct vh_transport *t = ready(VH_KERN_NET);
	uint64_t f = 0;

	(void)state;
	assert_int_equal(vh_kern_get_backend_features(t, &f), 0);
	assert_true(f == 0x2);
	assert_int_equal(vh_kern_set_backend_features(t, 0x4), -EOPNOTSUPP);
	assert_non_null(strstr(fake_last_log, "VHOST_SET_BACKEND_FEATURES"));
	assert_int_equal(vh_kern_set_backend_features(t, 0x2), 0);
	assert_true(fake.backend_acked == 0x2);
	vh_transport_free(t);
}

static void kern_calls_on_another_transport_are_einval(void **state)
{
	static const struct vh_transport_ops none = {.kind = "vhost-net"};
	struct vh_transport *t;
	uint64_t f;

	(void)state;
	/* Even a transport whose kind reads the same is not ours. */
	assert_int_equal(vh_transport_create(&t, &none, NULL), 0);
	assert_int_equal(vh_kern_device_type(t), 0);
	assert_int_equal(vh_kern_fd(t), -EINVAL);
	assert_int_equal(vh_kern_get_backend_features(t, &f), -EINVAL);
	assert_int_equal(vh_kern_net_set_backend(t, 0, -1), -EINVAL);
	assert_int_equal(vh_kern_vsock_set_running(t, true), -EINVAL);
	assert_int_equal(vh_kern_vdpa_suspend(t), -EINVAL);
	vh_transport_free(t);
	assert_int_equal(vh_kern_device_type(NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
		open_of_a_missing_node_is_enoent_and_leaks_nothing),
	    cmocka_unit_test(open_of_a_node_that_is_not_vhost_is_enotty),
	    cmocka_unit_test(adopt_takes_the_fd_also_on_failure),
	    cmocka_unit_test(rings_before_owner_are_eperm_with_a_hint),
	    cmocka_unit_test(ring_addresses_become_process_addresses),
	    cmocka_unit_test(
		ring_outside_the_table_is_refused_before_the_ioctl),
	    cmocka_unit_test(access_platform_passes_iovas_unchanged),
	    cmocka_unit_test(too_many_regions_is_e2big_before_the_ioctl),
	    cmocka_unit_test(ring_index_beyond_the_device_is_erange),
	    cmocka_unit_test(get_vring_base_returns_the_kernel_value),
	    cmocka_unit_test(minus_one_unbinds_kick_call_and_err),
	    cmocka_unit_test(features_array_falls_back_to_64_bits),
	    cmocka_unit_test(features_array_is_used_where_the_kernel_has_it),
	    cmocka_unit_test(optional_ioctls_missing_are_eopnotsupp),
	    cmocka_unit_test(busyloop_timeout_round_trips),
	    cmocka_unit_test(backend_features_are_recorded),
	    cmocka_unit_test(kern_calls_on_another_transport_are_einval),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
