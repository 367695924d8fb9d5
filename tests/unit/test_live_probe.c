// SPDX-License-Identifier: GPL-2.0
/*
 * The tracepoint probe of src/live against synthetic BTF: a kernel with
 * every prototype as the programs read it, one with the mbec
 * spte_requested (requested ACC as an argument), one whose optional
 * tracepoint has another prototype (left out with a note), and ones where
 * a required tracepoint is missing or different (one line, -ENOENT).
 * No privileges needed.
 */
#include <errno.h>
#include <string.h>

#include <bpf/btf.h>

#include "live/live.h"
#include "tap.h"

enum { T_VOIDP, T_SP, T_U64P, T_U64, T_U32, T_INT, T_NR };

struct proto {
	const char *tp;
	int n;
	int params[8];		/* after the leading void *data */
};

static const struct proto good[] = {
	{ "kvm_mmu_pagetable_walk", 2, { T_U64, T_U32 } },
	{ "kvm_mmu_paging_element", 2, { T_U64, T_INT } },
	{ "kvm_mmu_walker_error", 1, { T_U32 } },
	{ "kvm_mmu_spte_requested", 1, { T_SP } },
	{ "kvm_mmu_set_spte", 3, { T_INT, T_U64, T_U64P } },
	{ "kvm_page_fault", 3, { T_SP, T_U64, T_U64 } },
	{ "kvm_exit", 2, { T_SP, T_U32 } },
	{ "kvm_entry", 2, { T_SP, T_INT } },
	{ "kvm_mmu_get_page", 2, { T_SP, T_INT } },
	{ "kvm_tdp_mmu_spte_changed", 5, { T_INT, T_U64, T_INT, T_U64, T_U64 } },
	{ "fast_page_fault", 5, { T_SP, T_SP, T_U64P, T_U64, T_INT } },
	{ "kvm_nested_vmexit_inject", 6, { T_U32, T_U64, T_U64, T_U32, T_U32, T_U32 } },
};

#define NPROTO (sizeof(good) / sizeof(good[0]))

/* A BTF with the protos; `replace` (may be NULL) overrides or (n < 0) removes one. */
static struct btf *make_btf(const struct proto *replace)
{
	struct btf *b = btf__new_empty();
	int t[T_NR], st;
	size_t i;
	int j;

	t[T_U64] = btf__add_int(b, "u64", 8, 0);
	t[T_U32] = btf__add_int(b, "u32", 4, 0);
	t[T_INT] = btf__add_int(b, "int", 4, BTF_INT_SIGNED);
	t[T_VOIDP] = btf__add_ptr(b, 0);
	st = btf__add_struct(b, "kvm_vcpu", 8);
	btf__add_field(b, "x", t[T_U64], 0, 0);
	t[T_SP] = btf__add_ptr(b, st);
	t[T_U64P] = btf__add_ptr(b, t[T_U64]);
	for (i = 0; i < NPROTO; i++) {
		const struct proto *p = &good[i];
		char name[96];
		int fp;

		if (replace && !strcmp(replace->tp, p->tp))
			p = replace;
		if (p->n < 0)
			continue;
		fp = btf__add_func_proto(b, 0);
		btf__add_func_param(b, "__data", t[T_VOIDP]);
		for (j = 0; j < p->n; j++)
			btf__add_func_param(b, "a", t[p->params[j]]);
		snprintf(name, sizeof(name), "btf_trace_%s", p->tp);
		btf__add_typedef(b, name, btf__add_ptr(b, fp));
	}
	return b;
}

static int probe(const struct proto *replace, struct mbec_live_attach *st, bool *en, bool *acc,
		 char *err, size_t errlen)
{
	struct btf *b = make_btf(replace);
	int ret;

	err[0] = 0;
	ret = mbec_live_probe_btf(b, st, en, acc, err, errlen);
	btf__free(b);
	return ret;
}

static int find(const struct mbec_live_attach *st, const char *tp)
{
	int i;

	for (i = 0; i < MBEC_LIVE_NR_TP; i++)
		if (st[i].tracepoint && !strcmp(st[i].tracepoint, tp))
			return i;
	return -1;
}

int main(void)
{
	struct mbec_live_attach st[MBEC_LIVE_NR_TP];
	bool en[MBEC_LIVE_NR_TP], acc;
	char err[320];
	int i, n, ret;
	const struct proto mbec_req = { "kvm_mmu_spte_requested", 2, { T_SP, T_U32 } };
	const struct proto old_fast = { "fast_page_fault", 6,
					{ T_SP, T_U64, T_U32, T_U64P, T_U64, T_INT } };
	const struct proto no_exit = { "kvm_exit", -1, { 0 } };
	const struct proto no_set = { "kvm_mmu_set_spte", -1, { 0 } };
	const struct proto bad_set = { "kvm_mmu_set_spte", 3, { T_U64P, T_U64, T_U64P } };

	memset(st, 0, sizeof(st));
	ret = probe(NULL, st, en, &acc, err, sizeof(err));
	for (i = 0, n = 0; i < MBEC_LIVE_NR_TP; i++)
		n += en[i] && !st[i].note[0];
	ok(ret == 0 && n == MBEC_LIVE_NR_TP && !acc,
	   "every prototype as the programs read it: all %d enabled, no note", n);

	ret = probe(&mbec_req, st, en, &acc, err, sizeof(err));
	i = find(st, "kvm_mmu_spte_requested");
	ok(ret == 0 && i >= 0 && en[i] && acc,
	   "spte_requested with the requested ACC argument (mbec): enabled, ACC read");

	ret = probe(&old_fast, st, en, &acc, err, sizeof(err));
	i = find(st, "fast_page_fault");
	ok(ret == 0 && i >= 0 && !en[i] && strstr(st[i].note, "prototype differs"),
	   "an optional tracepoint with another prototype is left out: %s",
	   i >= 0 ? st[i].note : "?");

	ret = probe(&no_exit, st, en, &acc, err, sizeof(err));
	i = find(st, "kvm_exit");
	ok(ret == 0 && i >= 0 && !en[i] && strstr(st[i].note, "no such tracepoint"),
	   "a missing optional tracepoint is left out with a note");

	ret = probe(&no_set, st, en, &acc, err, sizeof(err));
	ok(ret == -ENOENT && strstr(err, "kvm_mmu_set_spte") && !strchr(err, '\n'),
	   "a missing required tracepoint: -ENOENT and one line: %s", err);

	ret = probe(&bad_set, st, en, &acc, err, sizeof(err));
	ok(ret == -ENOENT && strstr(err, "prototype differs"),
	   "a required tracepoint with another prototype: %s", err);
	return done_testing();
}
