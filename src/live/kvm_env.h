/* SPDX-License-Identifier: GPL-2.0 */
#ifndef MBEC_LIVE_KVM_ENV_H
#define MBEC_LIVE_KVM_ENV_H

#include <stdbool.h>

/*
 * The KVM vendor module in use and its switches.  With KVM built in, both
 * kvm_intel and kvm_amd show their parameters (ept=Y on an AMD CPU too), so
 * where both are there the CPU's own flag (vmx or svm) decides.
 */
enum live_kvm_vendor { LIVE_KVM_NONE, LIVE_KVM_INTEL, LIVE_KVM_AMD };
struct live_kvm_env {
	enum live_kvm_vendor vendor;
	bool tdp;	/* kvm_intel.ept or kvm_amd.npt of the module in use */
	bool mbec;	/* kvm_intel.mbec or kvm_amd.gmet of the module in use */
};
/* ROOT prefixes /sys and /proc ("" for the running system; tests pass a tree). */
void live_kvm_env_at(const char *root, struct live_kvm_env *k);

/* Does the parameter or sysctl file at PATH read Y, y or 1? */
bool live_sysfs_yes(const char *path);

#endif
