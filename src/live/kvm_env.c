// SPDX-License-Identifier: GPL-2.0
/*
 * Which KVM vendor module is in use, and its TDP and MBEC/GMET switches
 * (kvm_env.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "live/kvm_env.h"

bool live_sysfs_yes(const char *path)
{
	char buf[8] = "";
	FILE *f = fopen(path, "r");

	if (!f)
		return false;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	return buf[0] == 'Y' || buf[0] == 'y' || buf[0] == '1';
}

static bool kvm_path_exists(const char *root, const char *path)
{
	char p[512];

	snprintf(p, sizeof(p), "%s%s", root, path);
	return access(p, F_OK) == 0;
}

static bool kvm_path_yes(const char *root, const char *path)
{
	char p[512];

	snprintf(p, sizeof(p), "%s%s", root, path);
	return live_sysfs_yes(p);
}

/* Does the "flags" line of ROOT/proc/cpuinfo name FLAG? */
static bool cpu_has_flag(const char *root, const char *flag)
{
	char p[512], *line = NULL, *v, *tok, *save;
	size_t cap = 0;
	bool found = false;
	FILE *f;

	snprintf(p, sizeof(p), "%s/proc/cpuinfo", root);
	f = fopen(p, "r");
	if (!f)
		return false;
	while (!found && getline(&line, &cap, f) > 0) {
		if (strncmp(line, "flags", 5) || !(v = strchr(line, ':')))
			continue;
		for (tok = strtok_r(v + 1, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save))
			if (!strcmp(tok, flag)) {
				found = true;
				break;
			}
		break;
	}
	free(line);
	fclose(f);
	return found;
}

void live_kvm_env_at(const char *root, struct live_kvm_env *k)
{
	bool intel = kvm_path_exists(root, "/sys/module/kvm_intel");
	bool amd = kvm_path_exists(root, "/sys/module/kvm_amd");

	memset(k, 0, sizeof(*k));
	if (intel && amd) {
		intel = cpu_has_flag(root, "vmx");
		amd = !intel && cpu_has_flag(root, "svm");
	}
	if (intel) {
		k->vendor = LIVE_KVM_INTEL;
		k->tdp = kvm_path_yes(root, "/sys/module/kvm_intel/parameters/ept");
		k->mbec = kvm_path_yes(root, "/sys/module/kvm_intel/parameters/mbec");
	} else if (amd) {
		k->vendor = LIVE_KVM_AMD;
		k->tdp = kvm_path_yes(root, "/sys/module/kvm_amd/parameters/npt");
		k->mbec = kvm_path_yes(root, "/sys/module/kvm_amd/parameters/gmet");
	}
}
