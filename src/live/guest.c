// SPDX-License-Identifier: GPL-2.0
/* The guest seen from the host: VMM memory and the workload's page tables. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mbec_events.h"
#include "live/guest.h"

int mbec_vmm_mem_read(void *ctx, uint32_t pid, uint64_t hva, uint64_t *val)
{
	struct mbec_vmm_mem *m = ctx;
	char path[32];

	if (m->fd < 0 || m->pid != pid) {
		if (m->fd >= 0)
			close(m->fd);
		snprintf(path, sizeof(path), "/proc/%u/mem", pid);
		m->fd = open(path, O_RDONLY | O_CLOEXEC);
		m->pid = pid;
		if (m->fd < 0)
			return -1;
	}
	return pread(m->fd, val, sizeof(*val), (off_t)hva) == sizeof(*val) ? 0 : -1;
}

void mbec_vmm_mem_close(struct mbec_vmm_mem *m)
{
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
}

int mbec_feed_guest_ptes(const struct workload_layout *l, uint32_t pid,
			 int (*fn)(void *ctx, const void *rec, size_t len), void *ctx)
{
	struct mbec_ev_guest_pte g;
	unsigned int i;

	for (i = 0; i < l->nr_entries; i++) {
		memset(&g, 0, sizeof(g));
		g.hdr.type = MBEC_EV_GUEST_PTE;
		g.hdr.size = sizeof(g);
		g.hdr.pid = pid;
		g.hdr.vcpu_id = MBEC_VCPU_UNKNOWN;
		g.entry_gpa = l->entries[i].gpa;
		g.pte = l->entries[i].value;
		g.level = (int)l->entries[i].level;
		if (fn(ctx, &g, sizeof(g)))
			return -1;
	}
	return 0;
}

unsigned int mbec_workload_alt_modes(const struct mbec_mode *base, struct mbec_mode *out,
				     unsigned int max)
{
	unsigned int i, n = 0;

	for (i = 0; i < WORKLOAD_SMODES && n < max; i++) {
		out[n] = *base;
		out[n].cr0_wp = workload_smodes[i].cr0_wp;
		out[n].cr4_smep = workload_smodes[i].cr4_smep;
		out[n].cr4_smap = workload_smodes[i].cr4_smap;
		out[n].eflags_ac = workload_smodes[i].eflags_ac;
		n++;
	}
	return n;
}

void mbec_workload_mode(const struct workload_layout *l, struct mbec_mode *m)
{
	memset(m, 0, sizeof(*m));
	m->mmu = MBEC_MMU_LEGACY;
	m->levels = (l->cr4 & X86_CR4_LA57) ? 5 : 4;
	m->cr0_wp = l->cr0 & X86_CR0_WP;
	m->cr4_smep = l->cr4 & X86_CR4_SMEP;
	m->cr4_smap = l->cr4 & X86_CR4_SMAP;
	m->efer_nx = l->efer & X86_EFER_NXE;
}
