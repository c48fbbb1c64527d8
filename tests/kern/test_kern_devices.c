/* SPDX-License-Identifier: MIT */
/*
 * The per-device ioctls against the fake device (fake_kern.h): vhost-net's
 * bit 27 and backend checks, the tap helper's argument checks, vhost-vsock's
 * CID rules, vhost-scsi's endpoint, and calls made on the wrong kind.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <string.h>
#include <unistd.h>

#include "fake_kern.h"
#include "vhost/proto.h"

#define BIT27 (UINT64_C(1) << 27)
#define V1    (UINT64_C(1) << 32)

static int teardown(void **state)
{
	(void)state;
	vh_log_set_handler(NULL, NULL);
	vh_log_set_level(VH_LOG_WARN);
	return 0;
}

static struct vh_transport *owned(enum vh_kern_device kind)
{
	struct vh_transport *t;

	fake_reset(kind);
	t = fake_adopt();
	assert_int_equal(vh_transport_set_owner(t), 0);
	return t;
}

static void net_bit_27_follows_the_header_mode(void **state)
{
	struct vh_transport *t = owned(VH_KERN_NET);

	(void)state;
	/* The driver's ANY_LAYOUT does not reach vhost-net as "vhost adds
	 * the header" while the tap carries it (the default). */
	assert_int_equal(vh_transport_set_features(t, V1 | BIT27), 0);
	assert_true(fake.acked == V1);
	assert_true(vh_transport_features(t) == (V1 | BIT27));
	/* Mode VHOST: bit 27 set whatever the caller asked. */
	assert_int_equal(vh_kern_net_set_hdr(t, VH_KERN_NET_HDR_VHOST), 0);
	assert_int_equal(vh_transport_set_features(t, V1), 0);
	assert_true(fake.acked == (V1 | BIT27));
	assert_int_equal(vh_kern_net_set_hdr(t, (enum vh_kern_net_hdr)7),
			 -EINVAL);
	vh_transport_free(t);

	/* Other devices take bit 27 as ANY_LAYOUT, unchanged. */
	t = owned(VH_KERN_VSOCK);
	assert_int_equal(vh_transport_set_features(t, V1 | BIT27), 0);
	assert_true(fake.acked == (V1 | BIT27));
	assert_int_equal(vh_kern_net_set_hdr(t, VH_KERN_NET_HDR_VHOST),
			 -ENOTTY);
	vh_transport_free(t);
}

static void net_header_length_follows_the_features(void **state)
{
	(void)state;
	assert_int_equal(vh_kern_net_hdr_len(0), 10);
	assert_int_equal(vh_kern_net_hdr_len(V1), 12);
	assert_int_equal(vh_kern_net_hdr_len(UINT64_C(1) << 15), 12);
}

static void net_backend_checks_the_tap_header(void **state)
{
	struct vh_transport *t = owned(VH_KERN_NET);

	(void)state;
	fake.tap_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	fake.tap_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	fake.tap_hdr_len = 10;
	assert_int_equal(vh_transport_set_features(t, V1), 0);
	/* A 10-byte header where VERSION_1 needs 12: refused. */
	assert_int_equal(vh_kern_net_set_backend(t, 0, fake.tap_fd), -EINVAL);
	assert_non_null(strstr(fake_last_log, "10-byte vnet header"));
	/* No header at all while the mode says the tap carries it. */
	fake.tap_flags = IFF_TAP | IFF_NO_PI;
	assert_int_equal(vh_kern_net_set_backend(t, 0, fake.tap_fd), -EINVAL);
	assert_non_null(strstr(fake_last_log, "lacks IFF_VNET_HDR"));
	assert_int_equal(fake_count(VH_K_NET_SET_BACKEND), 0);
	/* Consistent: attached, and -1 detaches. */
	fake.tap_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	fake.tap_hdr_len = 12;
	assert_int_equal(vh_kern_net_set_backend(t, 1, fake.tap_fd), 0);
	assert_int_equal(fake.last_file.fd, fake.tap_fd);
	assert_int_equal(fake.last_file.index, 1);
	assert_int_equal(vh_kern_net_set_backend(t, 1, -1), 0);
	assert_int_equal(fake.last_file.fd, -1);
	assert_int_equal(vh_kern_net_set_backend(t, 2, -1), -ERANGE);
	assert_int_equal(vh_kern_net_set_backend(t, 0, -2), -EINVAL);
	/* Mode VHOST wants a tap without the header. */
	assert_int_equal(vh_kern_net_set_hdr(t, VH_KERN_NET_HDR_VHOST), 0);
	assert_int_equal(vh_transport_set_features(t, V1), 0);
	assert_int_equal(vh_kern_net_set_backend(t, 0, fake.tap_fd), -EINVAL);
	fake.tap_flags = IFF_TAP | IFF_NO_PI;
	assert_int_equal(vh_kern_net_set_backend(t, 0, fake.tap_fd), 0);
	close(fake.tap_fd);
	fake.tap_fd = -1;
	vh_transport_free(t);
}

static void tap_open_rejects_bad_arguments_first(void **state)
{
	int base = fake_fd_count();

	(void)state;
	assert_int_equal(vh_kern_tap_open("t0", 1u << 5, 12, NULL), -EINVAL);
	assert_int_equal(vh_kern_tap_open("t0", VH_KERN_TAP_VNET_HDR, 11, NULL),
			 -EINVAL);
	assert_int_equal(
	    vh_kern_tap_open("a-name-far-too-long-for-ifnamsiz", 0, 0, NULL),
	    -ENAMETOOLONG);
	assert_int_equal(fake_fd_count(), base);
}

static void vsock_cid_must_be_a_guest_cid(void **state)
{
	struct vh_transport *t = owned(VH_KERN_VSOCK);

	(void)state;
	assert_int_equal(vh_kern_vsock_set_guest_cid(t, 2), -EINVAL);
	assert_non_null(strstr(fake_last_log, "not a guest CID"));
	assert_int_equal(vh_kern_vsock_set_guest_cid(t, UINT32_MAX), -EINVAL);
	assert_int_equal(vh_kern_vsock_set_guest_cid(t, UINT64_C(1) << 33),
			 -EINVAL);
	assert_int_equal(fake_count(VH_K_VSOCK_SET_GUEST_CID), 0);
	assert_int_equal(vh_kern_vsock_set_guest_cid(t, 3), 0);
	assert_true(fake.cid == 3);
	assert_int_equal(vh_kern_vsock_set_running(t, true), 0);
	assert_int_equal(fake.running, 1);
	assert_int_equal(vh_kern_vsock_set_running(t, false), 0);
	assert_int_equal(fake.running, 0);
	vh_transport_free(t);
}

static void scsi_endpoint_carries_wwpn_tpgt_and_abi(void **state)
{
	struct vh_transport *t = owned(VH_KERN_SCSI);
	char longname[300];
	bool missed = false;
	int abi = 0;

	(void)state;
	assert_int_equal(vh_kern_scsi_get_abi_version(t, &abi), 0);
	assert_int_equal(abi, 1);
	assert_int_equal(
	    vh_kern_scsi_set_endpoint(t, "naa.5001405000000001", 1), 0);
	assert_string_equal(fake.target.vhost_wwpn, "naa.5001405000000001");
	assert_int_equal(fake.target.vhost_tpgt, 1);
	assert_int_equal(fake.target.abi_version, 1);
	assert_int_equal(
	    vh_kern_scsi_clear_endpoint(t, "naa.5001405000000001", 1), 0);
	assert_int_equal(fake_count(VH_K_SCSI_CLEAR_ENDPOINT), 1);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(vh_kern_scsi_set_endpoint(t, longname, 1),
			 -ENAMETOOLONG);
	assert_int_equal(vh_kern_scsi_set_endpoint(t, "", 1), -EINVAL);
	assert_int_equal(fake_count(VH_K_SCSI_SET_ENDPOINT), 1);
	assert_int_equal(vh_kern_scsi_set_events_missed(t, true), 0);
	assert_int_equal(vh_kern_scsi_get_events_missed(t, &missed), 0);
	assert_true(missed);
	vh_transport_free(t);
}

static void device_calls_on_the_wrong_kind_are_enotty(void **state)
{
	struct vh_transport *t = owned(VH_KERN_VSOCK);
	uint32_t id;
	int abi;

	(void)state;
	assert_int_equal(vh_kern_net_set_backend(t, 0, -1), -ENOTTY);
	assert_non_null(strstr(fake_last_log, "for vhost-net only"));
	assert_int_equal(vh_kern_scsi_get_abi_version(t, &abi), -ENOTTY);
	assert_int_equal(vh_kern_vdpa_get_device_id(t, &id), -ENOTTY);
	assert_int_equal(vh_kern_vdpa_suspend(t), -ENOTTY);
	vh_transport_free(t);
	t = owned(VH_KERN_NET);
	assert_int_equal(vh_kern_vsock_set_guest_cid(t, 3), -ENOTTY);
	assert_int_equal(vh_kern_scsi_set_endpoint(t, "naa.1", 1), -ENOTTY);
	assert_int_equal(fake.nreqs, 2); /* GET_FEATURES, SET_OWNER */
	/* No status or config on vhost-net. */
	assert_int_equal(vh_transport_set_status(t, 1), -EOPNOTSUPP);
	assert_int_equal(vh_transport_set_vring_enable(t, 0, true),
			 -EOPNOTSUPP);
	vh_transport_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(net_bit_27_follows_the_header_mode),
	    cmocka_unit_test(net_header_length_follows_the_features),
	    cmocka_unit_test(net_backend_checks_the_tap_header),
	    cmocka_unit_test(tap_open_rejects_bad_arguments_first),
	    cmocka_unit_test(vsock_cid_must_be_a_guest_cid),
	    cmocka_unit_test(scsi_endpoint_carries_wwpn_tpgt_and_abi),
	    cmocka_unit_test(device_calls_on_the_wrong_kind_are_enotty),
	};

	return cmocka_run_group_tests(tests, NULL, teardown);
}
