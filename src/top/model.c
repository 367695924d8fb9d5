// SPDX-License-Identifier: GPL-2.0
/*
 * mbectop's data model (see model.h): buckets -> per-vCPU statistics ->
 * per-VM sums -> rates per frame.
 */
#include <stdlib.h>
#include <string.h>

#include "mbec_arch.h"
#include "mbec_vmstats.h"
#include "top/model.h"

static const char *const stat_names[TOP_S_NR] = {
	[TOP_S_FAULTS] = "faults",
	[TOP_S_READ] = "read",
	[TOP_S_WRITE] = "write",
	[TOP_S_FETCH] = "fetch",
	[TOP_S_USER] = "user",
	[TOP_S_SUPV] = "supv",
	[TOP_S_NOTP] = "notp",
	[TOP_S_PERM] = "perm",
	[TOP_S_XS] = "xs",
	[TOP_S_XU] = "xu",
	[TOP_S_RSVD] = "rsvd",
	[TOP_S_GPF] = "gpf",
	[TOP_S_SPTES] = "sptes",
	[TOP_S_SP_R] = "spte-r",
	[TOP_S_SP_W] = "spte-w",
	[TOP_S_SP_XS] = "spte-xs",
	[TOP_S_SP_XU] = "spte-xu",
	[TOP_S_SP_U] = "spte-u",
	[TOP_S_SP_NX] = "spte-nx",
	[TOP_S_SP_4K] = "4k",
	[TOP_S_SP_2M] = "2m",
	[TOP_S_SP_1G] = "1g",
	[TOP_S_ANOM] = "anomalies",
};

const char *top_stat_name(enum top_stat s)
{
	return (unsigned int)s < TOP_S_NR ? stat_names[s] : "?";
}

struct top_model *top_model_new(const struct top_env *env, bool absolute)
{
	struct top_model *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->env = *env;
	m->absolute = absolute;
	return m;
}

void top_model_free(struct top_model *m)
{
	unsigned int i;

	if (!m)
		return;
	for (i = 0; i < m->nr_vms; i++)
		free(m->vms[i].vcpus);
	free(m->vms);
	free(m);
}

struct top_vm *top_model_vm(struct top_model *m, uint32_t pid, bool create)
{
	struct top_vm *vm;
	unsigned int i;

	for (i = 0; i < m->nr_vms; i++)
		if (m->vms[i].pid == pid)
			return &m->vms[i];
	if (!create)
		return NULL;
	if (m->nr_vms == m->cap_vms) {
		unsigned int cap = m->cap_vms ? m->cap_vms * 2 : 8;
		struct top_vm *n = realloc(m->vms, cap * sizeof(*n));

		if (!n)
			return NULL;
		m->vms = n;
		m->cap_vms = cap;
	}
	vm = &m->vms[m->nr_vms++];
	memset(vm, 0, sizeof(*vm));
	vm->pid = pid;
	return vm;
}

struct top_vcpu *top_model_vcpu(struct top_model *m, struct top_vm *vm, uint32_t vcpu_id,
				bool create)
{
	unsigned int i;

	(void)m;
	/* Kept sorted by id: few vCPUs per VM, a linear scan is enough. */
	for (i = 0; i < vm->nr_vcpus && vm->vcpus[i].id < vcpu_id; i++)
		;
	if (i < vm->nr_vcpus && vm->vcpus[i].id == vcpu_id)
		return &vm->vcpus[i];
	if (!create)
		return NULL;
	if (vm->nr_vcpus == vm->cap_vcpus) {
		unsigned int cap = vm->cap_vcpus ? vm->cap_vcpus * 2 : 4;
		struct top_vcpu *n = realloc(vm->vcpus, cap * sizeof(*n));

		if (!n)
			return NULL;
		vm->vcpus = n;
		vm->cap_vcpus = cap;
	}
	memmove(&vm->vcpus[i + 1], &vm->vcpus[i], (vm->nr_vcpus - i) * sizeof(*vm->vcpus));
	vm->nr_vcpus++;
	memset(&vm->vcpus[i], 0, sizeof(vm->vcpus[i]));
	vm->vcpus[i].id = vcpu_id;
	return &vm->vcpus[i];
}

void top_model_sample_begin(struct top_model *m)
{
	unsigned int i, j;
	int s;

	for (i = 0; i < m->nr_vms; i++)
		for (j = 0; j < m->vms[i].nr_vcpus; j++)
			for (s = 0; s < TOP_S_NR; s++)
				if (s != TOP_S_ANOM)
					m->vms[i].vcpus[j].tot[s] = 0;
}

/*
 * A fault bucket: kvm_page_fault's code as the MMU flavour defines it
 * (raw exit qualification on EPT), or KVM's own PFERR code (raw false).
 */
static void classify_pf(const struct top_env *env, bool raw, uint16_t b, uint64_t n, uint64_t *t)
{
	bool fetch, write, present, rsvd = false, user = false, user_known = true;

	if (raw && env->mmu == TOP_MMU_EPT) {
		/* The raw exit qualification, spec section 2. */
		fetch = b & EPT_VIOL_ACC_INSTR;
		write = !fetch && (b & EPT_VIOL_ACC_WRITE);
		present = b & EPT_VIOL_PROT_RWX;
		if (env->mbec && (b & EPT_VIOL_PROT_USER_EXEC))
			present = true;
		/* Bit 9 is defined only with advanced information (MBEC needs it). */
		user_known = env->mbec && (b & EPT_VIOL_GVA_IS_VALID) &&
			     (b & EPT_VIOL_GVA_TRANSLATED);
		user = user_known && (b & EPT_VIOL_GVA_USER);
	} else {
		/* A page-fault or #NPF error code: the same low bits. */
		fetch = b & PFERR_FETCH;
		write = !fetch && (b & PFERR_WRITE);
		present = b & PFERR_PRESENT;
		rsvd = b & PFERR_RSVD;
		user = b & PFERR_USER;
	}
	t[TOP_S_FAULTS] += n;
	t[fetch ? TOP_S_FETCH : write ? TOP_S_WRITE : TOP_S_READ] += n;
	if (user_known)
		t[user ? TOP_S_USER : TOP_S_SUPV] += n;
	if (rsvd) {
		t[TOP_S_RSVD] += n;
	} else if (!present) {
		t[TOP_S_NOTP] += n;
	} else {
		t[TOP_S_PERM] += n;
		/* An execute-permission fault: which of XS/XU was missing. */
		if (fetch)
			t[user ? TOP_S_XU : TOP_S_XS] += n;
	}
}

/* A kvm_mmu_set_spte bucket: permissions granted and page size. */
static void classify_spte(const struct top_env *env, uint16_t b, uint64_t n, uint64_t *t)
{
	unsigned int level = (b >> MBEC_VMSTATS_SPTE_LEVEL_SHIFT) & 7;

	t[TOP_S_SPTES] += n;
	if (b & MBEC_VMSTATS_SPTE_B1)
		t[TOP_S_SP_W] += n;
	if (env->mmu == TOP_MMU_EPT) {
		if (b & MBEC_VMSTATS_SPTE_B0)
			t[TOP_S_SP_R] += n;
		if (b & MBEC_VMSTATS_SPTE_B2)
			t[TOP_S_SP_XS] += n;
		if (b & MBEC_VMSTATS_SPTE_B10)
			t[TOP_S_SP_XU] += n;
	} else {
		if (b & MBEC_VMSTATS_SPTE_B2)
			t[TOP_S_SP_U] += n;
		if (b & MBEC_VMSTATS_SPTE_B63)
			t[TOP_S_SP_NX] += n;
	}
	if (level == 3)
		t[TOP_S_SP_1G] += n;
	else if (level == 2)
		t[TOP_S_SP_2M] += n;
	else if (level == 1)
		t[TOP_S_SP_4K] += n;
}

int top_model_count(struct top_model *m, uint32_t pid, uint32_t vcpu_id, unsigned int type,
		    uint16_t bucket, uint64_t n)
{
	struct top_vcpu *v;
	struct top_vm *vm;

	if (type != MBEC_EV_PAGE_FAULT && type != MBEC_EV_SET_SPTE &&
	    type != MBEC_EV_WALKER_ERROR && type != MBEC_EV_SPTE_REQUESTED)
		return -1;
	/* The faults of one source only, so that they are not counted twice. */
	if ((type == MBEC_EV_PAGE_FAULT && m->env.faults != TOP_FAULTS_EXITS) ||
	    (type == MBEC_EV_SPTE_REQUESTED && m->env.faults != TOP_FAULTS_MAPPED))
		return 0;
	vm = top_model_vm(m, pid, true);
	if (!vm)
		return -1;
	v = top_model_vcpu(m, vm, vcpu_id, true);
	if (!v)
		return -1;
	if (type == MBEC_EV_PAGE_FAULT)
		classify_pf(&m->env, true, bucket, n, v->tot);
	else if (type == MBEC_EV_SPTE_REQUESTED)
		classify_pf(&m->env, false, bucket, n, v->tot);
	else if (type == MBEC_EV_SET_SPTE)
		classify_spte(&m->env, bucket, n, v->tot);
	else
		v->tot[TOP_S_GPF] += n;
	return 0;
}

void top_model_record(struct top_model *m, const struct mbec_event_hdr *h, size_t len)
{
	uint16_t bucket = 0;
	bool per_vm = false;
	size_t min;

	if (len < sizeof(*h) || h->size > len)
		return;
	/* Records of a type's first version are shorter than today's struct. */
	min = mbec_event_min_size(h->type);
	if (!min)
		min = sizeof(*h);
	switch (h->type) {
	case MBEC_EV_LOST:
		if (!m->g_from_kernel && len >= min)
			m->g_tot[TOP_G_LOST] += ((const struct mbec_ev_lost *)h)->count;
		return;
	case MBEC_EV_GUEST_PTE:
	case MBEC_EV_GUEST_MEM:
		return;		/* made by user space, not an event of the kernel */
	case MBEC_EV_PAGE_FAULT:
		if (len >= min) {
			bucket = mbec_vmstats_bucket_pf(
				((const struct mbec_ev_page_fault *)h)->error_code);
			per_vm = true;
		}
		break;
	case MBEC_EV_SPTE_REQUESTED:
		if (len >= min) {
			bucket = mbec_vmstats_bucket_pf(
				((const struct mbec_ev_spte_requested *)h)->error_code);
			per_vm = true;
		}
		break;
	case MBEC_EV_SET_SPTE:
		if (len >= min) {
			const struct mbec_ev_set_spte *s = (const void *)h;

			bucket = mbec_vmstats_bucket_spte(s->spte, s->level);
			per_vm = true;
		}
		break;
	case MBEC_EV_WALKER_ERROR:
		if (len >= min) {
			bucket = mbec_vmstats_bucket_walkerr(
				((const struct mbec_ev_walker_error *)h)->pferr);
			per_vm = true;
		}
		break;
	default:
		break;
	}
	if (!m->g_from_kernel) {
		m->g_tot[TOP_G_EVENTS]++;
		if (h->type == (m->env.faults == TOP_FAULTS_EXITS ? MBEC_EV_PAGE_FAULT :
							     MBEC_EV_SPTE_REQUESTED))
			m->g_tot[TOP_G_FAULTS]++;
		else if (h->type == MBEC_EV_SET_SPTE)
			m->g_tot[TOP_G_SPTES]++;
	}
	if (per_vm && !m->absolute)
		top_model_count(m, h->pid, mbec_vmstats_vcpu(h->vcpu_id, h->tid), h->type, bucket,
				1);
}

void top_model_anomaly(struct top_model *m, uint32_t pid, uint32_t vcpu_id)
{
	/* vcpu_id: already folded with mbec_vmstats_vcpu() by the caller. */
	struct top_vcpu *v;
	struct top_vm *vm;

	m->g_tot[TOP_G_ANOM]++;
	vm = top_model_vm(m, pid, true);
	if (!vm)
		return;
	v = top_model_vcpu(m, vm, vcpu_id, true);
	if (v)
		v->tot[TOP_S_ANOM]++;
}

void top_model_vcpu_retire(struct top_model *m, struct top_vm *vm, uint32_t vcpu_id)
{
	struct top_vcpu *v = top_model_vcpu(m, vm, vcpu_id, false);
	unsigned int i;
	int s;

	if (!v)
		return;
	for (s = 0; s < TOP_S_NR; s++) {
		vm->retired.tot[s] += v->tot[s];
		vm->retired.prev[s] += v->prev[s];
	}
	i = (unsigned int)(v - vm->vcpus);
	memmove(&vm->vcpus[i], &vm->vcpus[i + 1], (vm->nr_vcpus - i - 1) * sizeof(*vm->vcpus));
	vm->nr_vcpus--;
}

void top_model_vm_gone(struct top_model *m, uint32_t pid)
{
	struct top_vm *vm = top_model_vm(m, pid, false);

	if (vm)
		vm->gone = true;
}

void top_model_set_global(struct top_model *m, enum top_global g, uint64_t total)
{
	if ((unsigned int)g >= TOP_G_NR)
		return;
	m->g_from_kernel = true;
	m->g_tot[g] = total;
}

static void drop_vm(struct top_model *m, unsigned int i)
{
	free(m->vms[i].vcpus);
	memmove(&m->vms[i], &m->vms[i + 1], (m->nr_vms - i - 1) * sizeof(*m->vms));
	m->nr_vms--;
}

void top_model_frame(struct top_model *m, uint64_t now_ns)
{
	double dt = 0;
	unsigned int i, j;
	int s;

	/* VMs that were shown as gone in the previous frame leave now. */
	for (i = 0; i < m->nr_vms;) {
		if (m->vms[i].gone_shown) {
			drop_vm(m, i);
			continue;
		}
		m->vms[i].gone_shown = m->vms[i].gone;
		i++;
	}
	if (m->frames && now_ns > m->frame_ns)
		dt = (double)(now_ns - m->frame_ns) / 1e9;
	m->prev_frame_ns = m->frame_ns;
	m->frame_ns = now_ns;
	m->interval_s = dt;
	for (i = 0; i < m->nr_vms; i++) {
		struct top_vm *vm = &m->vms[i];

		memset(vm->tot, 0, sizeof(vm->tot));
		memset(vm->rate, 0, sizeof(vm->rate));
		/* j == nr_vcpus is the retired vCPUs' counts. */
		for (j = 0; j <= vm->nr_vcpus; j++) {
			struct top_vcpu *v = j < vm->nr_vcpus ? &vm->vcpus[j] : &vm->retired;

			for (s = 0; s < TOP_S_NR; s++) {
				/* A total that went down (counters reset): no rate. */
				uint64_t d = v->tot[s] >= v->prev[s] ? v->tot[s] - v->prev[s] : 0;

				v->rate[s] = dt > 0 ? (double)d / dt : 0;
				v->prev[s] = v->tot[s];
				vm->tot[s] += v->tot[s];
				vm->rate[s] += v->rate[s];
			}
		}
	}
	for (s = 0; s < TOP_G_NR; s++) {
		uint64_t d = m->g_tot[s] >= m->g_prev[s] ? m->g_tot[s] - m->g_prev[s] : 0;

		m->g_rate[s] = dt > 0 ? (double)d / dt : 0;
		m->g_prev[s] = m->g_tot[s];
	}
	m->frames++;
}

/* ---- sorting and filtering --------------------------------------------------- */

int top_sort_key(const char *name)
{
	int s;

	if (!strcmp(name, "pid"))
		return TOP_SORT_PID;
	if (!strcmp(name, "name"))
		return TOP_SORT_NAME;
	if (!strcmp(name, "vcpus"))
		return TOP_SORT_VCPUS;
	if (!strcmp(name, "anom"))
		return TOP_S_ANOM;
	for (s = 0; s < TOP_S_NR; s++)
		if (!strcmp(name, stat_names[s]))
			return s;
	return -1;
}

const char *top_sort_name(int key)
{
	if (key == TOP_SORT_PID)
		return "pid";
	if (key == TOP_SORT_NAME)
		return "name";
	if (key == TOP_SORT_VCPUS)
		return "vcpus";
	return top_stat_name(key);
}

struct sort_ctx {
	int key;
	bool reverse;
};

static int cmp_vm(const void *pa, const void *pb, void *arg)
{
	const struct top_vm *a = pa, *b = pb;
	const struct sort_ctx *c = arg;
	int r = 0;

	if (c->key == TOP_SORT_PID) {
		r = 0;
	} else if (c->key == TOP_SORT_NAME) {
		r = strcmp(a->name, b->name);
	} else if (c->key == TOP_SORT_VCPUS) {
		r = a->nr_vcpus < b->nr_vcpus ? 1 : a->nr_vcpus > b->nr_vcpus ? -1 : 0;
	} else if (c->key == TOP_S_ANOM) {
		r = a->tot[TOP_S_ANOM] < b->tot[TOP_S_ANOM] ? 1 :
		    a->tot[TOP_S_ANOM] > b->tot[TOP_S_ANOM] ? -1 : 0;
	} else {
		double x = a->rate[c->key], y = b->rate[c->key];

		/* Equal rates: the larger total first (the first frame has no rates). */
		if (x == y) {
			x = (double)a->tot[c->key];
			y = (double)b->tot[c->key];
		}
		r = x < y ? 1 : x > y ? -1 : 0;
	}
	if (!r)
		r = a->pid < b->pid ? -1 : a->pid > b->pid ? 1 : 0;
	return c->reverse ? -r : r;
}

void top_model_sort(struct top_model *m, int key, bool reverse)
{
	struct sort_ctx c = { .key = key, .reverse = reverse };

	if (key < 0 || key >= TOP_SORT_NR)
		c.key = TOP_S_FAULTS;
	if (m->nr_vms > 1)
		qsort_r(m->vms, m->nr_vms, sizeof(*m->vms), cmp_vm, &c);
}

bool top_vm_matches(const struct top_vm *vm, const char *filter)
{
	char *end;
	unsigned long pid;

	if (!filter || !*filter)
		return true;
	pid = strtoul(filter, &end, 10);
	if (!*end && pid == vm->pid)
		return true;
	return strstr(vm->name, filter) != NULL;
}
