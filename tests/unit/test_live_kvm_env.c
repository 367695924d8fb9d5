// SPDX-License-Identifier: GPL-2.0
/*
 * live_kvm_env_at(): which KVM vendor module is in use, and its TDP and
 * execute-control switches, from a made-up /sys and /proc tree.  With KVM
 * built in, both vendor modules show their parameters; the CPU's flag
 * must decide (the lab's series kernel under QEMU/SVM has kvm_intel.ept=Y).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/common.h"
#include "live/kvm_env.h"
#include "tap.h"

static char root[48];

static void put(const char *path, const char *text)
{
	char p[256], cmd[320];
	FILE *f;

	snprintf(p, sizeof(p), "%s%s", root, path);
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", p);
	if (system(cmd))
		abort();
	f = fopen(p, "w");
	if (!f)
		abort();
	fputs(text, f);
	fclose(f);
}

static void fresh(void)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s'", root, root);
	if (system(cmd))
		abort();
}

int main(void)
{
	struct live_kvm_env k;
	char cmd[256];

	snprintf(root, sizeof(root), "/tmp/mbec-kvmenv-%d", (int)getpid());

	fresh();
	live_kvm_env_at(root, &k);
	ok(k.vendor == LIVE_KVM_NONE && !k.tdp && !k.mbec, "no vendor module: no KVM, no TDP");

	/* Built-in KVM on an AMD CPU: kvm_intel says ept=Y, but SVM is in use. */
	put("/sys/module/kvm_intel/parameters/ept", "Y\n");
	put("/sys/module/kvm_intel/parameters/mbec", "Y\n");
	put("/sys/module/kvm_amd/parameters/npt", "1\n");
	put("/sys/module/kvm_amd/parameters/gmet", "0\n");
	put("/proc/cpuinfo", "processor\t: 0\nflags\t\t: fpu vme svm npt lbrv\n");
	live_kvm_env_at(root, &k);
	ok(k.vendor == LIVE_KVM_AMD, "both built in, svm CPU: kvm_amd is the one in use");
	ok(k.tdp && !k.mbec, "its npt and gmet are read, not kvm_intel's ept and mbec");

	put("/proc/cpuinfo", "processor\t: 0\nflags\t\t: fpu vme vmx ept\n");
	live_kvm_env_at(root, &k);
	ok(k.vendor == LIVE_KVM_INTEL && k.tdp && k.mbec, "both built in, vmx CPU: kvm_intel");

	put("/proc/cpuinfo", "processor\t: 0\nflags\t\t: fpu vme svmx\n");
	live_kvm_env_at(root, &k);
	ok(k.vendor == LIVE_KVM_NONE, "both built in, neither flag (a word containing svm is not svm)");

	/* A loaded module alone decides, whatever cpuinfo says. */
	fresh();
	put("/sys/module/kvm_amd/parameters/npt", "N\n");
	live_kvm_env_at(root, &k);
	ok(k.vendor == LIVE_KVM_AMD && !k.tdp, "kvm_amd alone, npt=N: shadow paging");

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd))
		return 1;
	return done_testing();
}
