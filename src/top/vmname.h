/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What to call a VM in mbectop: QEMU's -name (as libvirt passes it too),
 * else the name libvirt keeps a pid file under, else the process name.
 */
#ifndef MBEC_TOP_VMNAME_H
#define MBEC_TOP_VMNAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The guest name in a command line (/proc/PID/cmdline: arguments separated
 * by NULs, len bytes): `-name NAME`, `-name guest=NAME,debug-threads=on`,
 * `--name ...`; a doubled comma is a comma.  0 with name filled, or -1.
 */
int top_name_from_cmdline(const char *cmdline, size_t len, char *name, size_t namelen);

/* The domain whose pid file (DIR/NAME.pid) holds pid.  0 with name filled, or -1. */
int top_name_from_pidfiles(const char *dir, uint32_t pid, char *name, size_t namelen);

/* The best name for a live process (always fills name: "pid N" at worst). */
void top_vm_name(uint32_t pid, char *name, size_t namelen);

/*
 * Processes that hold a KVM VM (a file descriptor on anon_inode:kvm-vm),
 * so that idle VMs are listed too: up to max pids, how many were found.
 * proc is "/proc" (tests may point elsewhere).
 */
unsigned int top_scan_vms(const char *proc, uint32_t *pids, unsigned int max);

/* Is the process still there? */
bool top_pid_alive(uint32_t pid);

#endif /* MBEC_TOP_VMNAME_H */
