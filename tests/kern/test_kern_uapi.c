/* SPDX-License-Identifier: MIT */
/*
 * The library's copy of the kernel vhost ABI (lib/kern/kern_uapi.h) against
 * the installed <linux/vhost.h>: every ioctl number the header has, every
 * struct's size and field offsets, the IOTLB and backend-feature constants;
 * and the ioctls newer than the installed header against their values in
 * Linux include/uapi/linux/vhost.h (mainline, 2025).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <linux/vhost.h>

#include "kern_uapi.h"
#include "vhost/kern.h"

#define SAME(ours, theirs) \
	assert_int_equal((unsigned long)(ours), (unsigned long)(theirs))

static void generic_ioctl_numbers_match_linux_vhost_h(void **state)
{
	(void)state;
	SAME(VH_K_VIRTIO, VHOST_VIRTIO);
	SAME(VH_K_GET_FEATURES, VHOST_GET_FEATURES);
	SAME(VH_K_SET_FEATURES, VHOST_SET_FEATURES);
	SAME(VH_K_SET_OWNER, VHOST_SET_OWNER);
	SAME(VH_K_RESET_OWNER, VHOST_RESET_OWNER);
	SAME(VH_K_SET_MEM_TABLE, VHOST_SET_MEM_TABLE);
	SAME(VH_K_SET_LOG_BASE, VHOST_SET_LOG_BASE);
	SAME(VH_K_SET_LOG_FD, VHOST_SET_LOG_FD);
	SAME(VH_K_SET_VRING_NUM, VHOST_SET_VRING_NUM);
	SAME(VH_K_SET_VRING_ADDR, VHOST_SET_VRING_ADDR);
	SAME(VH_K_SET_VRING_BASE, VHOST_SET_VRING_BASE);
	SAME(VH_K_GET_VRING_BASE, VHOST_GET_VRING_BASE);
	SAME(VH_K_SET_VRING_ENDIAN, VHOST_SET_VRING_ENDIAN);
	SAME(VH_K_GET_VRING_ENDIAN, VHOST_GET_VRING_ENDIAN);
	SAME(VH_K_SET_VRING_KICK, VHOST_SET_VRING_KICK);
	SAME(VH_K_SET_VRING_CALL, VHOST_SET_VRING_CALL);
	SAME(VH_K_SET_VRING_ERR, VHOST_SET_VRING_ERR);
	SAME(VH_K_SET_VRING_BUSYLOOP_TIMEOUT, VHOST_SET_VRING_BUSYLOOP_TIMEOUT);
	SAME(VH_K_GET_VRING_BUSYLOOP_TIMEOUT, VHOST_GET_VRING_BUSYLOOP_TIMEOUT);
	SAME(VH_K_SET_BACKEND_FEATURES, VHOST_SET_BACKEND_FEATURES);
	SAME(VH_K_GET_BACKEND_FEATURES, VHOST_GET_BACKEND_FEATURES);
	SAME(VHOST_FILE_UNBIND, -1);
}

static void device_ioctl_numbers_match_linux_vhost_h(void **state)
{
	(void)state;
	SAME(VH_K_NET_SET_BACKEND, VHOST_NET_SET_BACKEND);
	SAME(VH_K_SCSI_SET_ENDPOINT, VHOST_SCSI_SET_ENDPOINT);
	SAME(VH_K_SCSI_CLEAR_ENDPOINT, VHOST_SCSI_CLEAR_ENDPOINT);
	SAME(VH_K_SCSI_GET_ABI_VERSION, VHOST_SCSI_GET_ABI_VERSION);
	SAME(VH_K_SCSI_SET_EVENTS_MISSED, VHOST_SCSI_SET_EVENTS_MISSED);
	SAME(VH_K_SCSI_GET_EVENTS_MISSED, VHOST_SCSI_GET_EVENTS_MISSED);
	SAME(VH_K_SCSI_ABI_VERSION, VHOST_SCSI_ABI_VERSION);
	SAME(VH_K_VSOCK_SET_GUEST_CID, VHOST_VSOCK_SET_GUEST_CID);
	SAME(VH_K_VSOCK_SET_RUNNING, VHOST_VSOCK_SET_RUNNING);
	SAME(VH_K_VDPA_GET_DEVICE_ID, VHOST_VDPA_GET_DEVICE_ID);
	SAME(VH_K_VDPA_GET_STATUS, VHOST_VDPA_GET_STATUS);
	SAME(VH_K_VDPA_SET_STATUS, VHOST_VDPA_SET_STATUS);
	SAME(VH_K_VDPA_GET_CONFIG, VHOST_VDPA_GET_CONFIG);
	SAME(VH_K_VDPA_SET_CONFIG, VHOST_VDPA_SET_CONFIG);
	SAME(VH_K_VDPA_SET_VRING_ENABLE, VHOST_VDPA_SET_VRING_ENABLE);
	SAME(VH_K_VDPA_GET_VRING_NUM, VHOST_VDPA_GET_VRING_NUM);
	SAME(VH_K_VDPA_SET_CONFIG_CALL, VHOST_VDPA_SET_CONFIG_CALL);
	SAME(VH_K_VDPA_GET_IOVA_RANGE, VHOST_VDPA_GET_IOVA_RANGE);
	SAME(VH_K_VDPA_GET_CONFIG_SIZE, VHOST_VDPA_GET_CONFIG_SIZE);
	SAME(VH_K_VDPA_GET_VQS_COUNT, VHOST_VDPA_GET_VQS_COUNT);
#ifdef VHOST_VDPA_GET_GROUP_NUM
	SAME(VH_K_VDPA_GET_GROUP_NUM, VHOST_VDPA_GET_GROUP_NUM);
	SAME(VH_K_VDPA_GET_AS_NUM, VHOST_VDPA_GET_AS_NUM);
	SAME(VH_K_VDPA_GET_VRING_GROUP, VHOST_VDPA_GET_VRING_GROUP);
	SAME(VH_K_VDPA_SET_GROUP_ASID, VHOST_VDPA_SET_GROUP_ASID);
#endif
#ifdef VHOST_VDPA_SUSPEND
	SAME(VH_K_VDPA_SUSPEND, VHOST_VDPA_SUSPEND);
#endif
}

/* Ioctls newer than Debian 12's headers: compared with the header when it
 * has them, and always with the numbers _IOx() gives in mainline. */
static void newer_ioctl_numbers_match_mainline(void **state)
{
	(void)state;
	SAME(VH_K_NEW_WORKER, 0x8004af08);
	SAME(VH_K_FREE_WORKER, 0x4004af09);
	SAME(VH_K_ATTACH_VRING_WORKER, 0x4008af15);
	SAME(VH_K_GET_VRING_WORKER, 0xc008af16);
	SAME(VH_K_VDPA_RESUME, 0xaf7e);
	SAME(VH_K_VDPA_GET_VRING_DESC_GROUP, 0xc008af7f);
	SAME(VH_K_VDPA_GET_VRING_SIZE, 0xc008af82);
	SAME(VH_K_GET_FEATURES_ARRAY, 0x8008af83);
	SAME(VH_K_SET_FEATURES_ARRAY, 0x4008af83);
#ifdef VHOST_NEW_WORKER
	SAME(VH_K_NEW_WORKER, VHOST_NEW_WORKER);
	SAME(VH_K_FREE_WORKER, VHOST_FREE_WORKER);
	SAME(VH_K_ATTACH_VRING_WORKER, VHOST_ATTACH_VRING_WORKER);
	SAME(VH_K_GET_VRING_WORKER, VHOST_GET_VRING_WORKER);
#endif
#ifdef VHOST_VDPA_RESUME
	SAME(VH_K_VDPA_RESUME, VHOST_VDPA_RESUME);
#endif
#ifdef VHOST_GET_FEATURES_ARRAY
	SAME(VH_K_GET_FEATURES_ARRAY, VHOST_GET_FEATURES_ARRAY);
	SAME(VH_K_SET_FEATURES_ARRAY, VHOST_SET_FEATURES_ARRAY);
#endif
}

#define SAME_LAYOUT(ours, theirs, f_ours, f_theirs)               \
	do {                                                      \
		SAME(sizeof(struct ours), sizeof(struct theirs)); \
		SAME(offsetof(struct ours, f_ours),               \
		     offsetof(struct theirs, f_theirs));          \
	} while (0)

static void structs_have_the_kernel_layout(void **state)
{
	(void)state;
	SAME_LAYOUT(vh_k_vring_state, vhost_vring_state, num, num);
	SAME_LAYOUT(vh_k_vring_file, vhost_vring_file, fd, fd);
	SAME_LAYOUT(vh_k_vring_addr, vhost_vring_addr, desc_user_addr,
		    desc_user_addr);
	SAME_LAYOUT(vh_k_vring_addr, vhost_vring_addr, used_user_addr,
		    used_user_addr);
	SAME_LAYOUT(vh_k_vring_addr, vhost_vring_addr, avail_user_addr,
		    avail_user_addr);
	SAME_LAYOUT(vh_k_vring_addr, vhost_vring_addr, log_guest_addr,
		    log_guest_addr);
	SAME_LAYOUT(vh_k_memory_region, vhost_memory_region, userspace_addr,
		    userspace_addr);
	SAME_LAYOUT(vh_k_memory, vhost_memory, regions, regions);
	SAME_LAYOUT(vh_k_iotlb_msg, vhost_iotlb_msg, perm, perm);
	SAME_LAYOUT(vh_k_iotlb_msg, vhost_iotlb_msg, type, type);
	SAME_LAYOUT(vh_k_msg_v2, vhost_msg_v2, asid, asid);
	SAME_LAYOUT(vh_k_msg_v2, vhost_msg_v2, u.iotlb, iotlb);
	SAME_LAYOUT(vh_k_scsi_target, vhost_scsi_target, vhost_wwpn,
		    vhost_wwpn);
	SAME_LAYOUT(vh_k_scsi_target, vhost_scsi_target, vhost_tpgt,
		    vhost_tpgt);
	SAME_LAYOUT(vh_k_vdpa_config, vhost_vdpa_config, buf, buf);
	SAME_LAYOUT(vh_k_vdpa_iova_range, vhost_vdpa_iova_range, last, last);
	SAME(sizeof(((struct vh_k_scsi_target *)0)->vhost_wwpn),
	     sizeof(((struct vhost_scsi_target *)0)->vhost_wwpn));
	/* Newer structs: two u32s, one u32, a u64 count. */
	SAME(sizeof(struct vh_k_worker_state), 4);
	SAME(sizeof(struct vh_k_vring_worker), 8);
	SAME(offsetof(struct vh_k_features_array, features), 8);
}

static void iotlb_and_backend_constants_match(void **state)
{
	(void)state;
	SAME(VH_K_IOTLB_MSG_V2, VHOST_IOTLB_MSG_V2);
	SAME(VH_K_IOTLB_UPDATE, VHOST_IOTLB_UPDATE);
	SAME(VH_K_IOTLB_INVALIDATE, VHOST_IOTLB_INVALIDATE);
	SAME(VH_K_IOTLB_BATCH_BEGIN, VHOST_IOTLB_BATCH_BEGIN);
	SAME(VH_K_IOTLB_BATCH_END, VHOST_IOTLB_BATCH_END);
	SAME(VH_K_BACKEND_F_IOTLB_MSG_V2, VHOST_BACKEND_F_IOTLB_MSG_V2);
	SAME(VH_K_BACKEND_F_IOTLB_BATCH, VHOST_BACKEND_F_IOTLB_BATCH);
#ifdef VHOST_BACKEND_F_IOTLB_ASID
	SAME(VH_K_BACKEND_F_IOTLB_ASID, VHOST_BACKEND_F_IOTLB_ASID);
#endif
#ifdef VHOST_BACKEND_F_SUSPEND
	SAME(VH_K_BACKEND_F_SUSPEND, VHOST_BACKEND_F_SUSPEND);
#endif
#ifdef VHOST_BACKEND_F_RESUME
	SAME(VH_K_BACKEND_F_RESUME, VHOST_BACKEND_F_RESUME);
#endif
	SAME(VH_K_NET_F_VIRTIO_NET_HDR, VHOST_NET_F_VIRTIO_NET_HDR);
	SAME(VH_KERN_DMA_RO, VHOST_ACCESS_RO);
	SAME(VH_KERN_DMA_WO, VHOST_ACCESS_WO);
	SAME(VH_KERN_DMA_RW, VHOST_ACCESS_RW);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(generic_ioctl_numbers_match_linux_vhost_h),
	    cmocka_unit_test(device_ioctl_numbers_match_linux_vhost_h),
	    cmocka_unit_test(newer_ioctl_numbers_match_mainline),
	    cmocka_unit_test(structs_have_the_kernel_layout),
	    cmocka_unit_test(iotlb_and_backend_constants_match),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
