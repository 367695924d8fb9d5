// SPDX-License-Identifier: GPL-2.0
/*
 * ftrace text -> event records: the fields of each event we read, in
 * every form found in the kernel's history and in trace-cmd's kvm plugin
 * (the framing of lines is in ftrace.c, kvm_mmu_get_page's role forms in
 * ftrace_roles.c).  The forms, and where they come
 * from (arch/x86/kvm/mmutrace.h, later arch/x86/kvm/mmu/mmutrace.h;
 * arch/x86/kvm/trace.h; libtraceevent's plugins/plugin_kvm.c):
 *
 * kvm_mmu_get_page (and its role in the plugin's sync/unsync/zap forms)
 *   3.x to 3.10  "sp gfn G L[ pae] qQ[ direct] wux[ invalid] [!]nxe root R sync new"
 *   3.11 to 4.x  "sp gen N gfn G L[ pae] qQ ... [!]nxe root R sync new"
 *   4.x to 4.19  the same with "lL" and "[!]ad" after "[!]nxe"
 *   4.20 to 5.2  "sp gfn G lL 8-byte qQ[ direct] wux[ invalid] [!]nxe [!]ad root R sync new"
 *   5.3 on       "sp gen N gfn G lL 8-byte qQ ..." (mmu_valid_gen back)
 *   mbec series  the same with four access letters "rwux"
 *   Kohler's     the same with four access letters "xwuX" (x: USER_EXEC, X: EXEC)
 *   plugin       "new sp gfn G L qQ[ direct] wux[ invalid] [!]pae [!]nxe [!]wp[ smep][ smap]
 *                [ smm] root R sync": the role word read with the 3.x field layout, so
 *                "pae" is bit 4 (has_4_byte_gpte today: 64-bit guests show "!pae") and
 *                the flags after the access are whatever the running layout keeps at
 *                bits 11-15; or "new sp gfn G WORD: %08x root R sync" (other endianness).
 * kvm_exit       "reason X rip 0x.. info A B" (3.x to 5.6, and the plugin, which names
 *                SVM reasons EXIT_NPF), "vcpu V reason X rip 0x.. info1 0x.. info2 0x.. ..."
 * kvm_nested_vmexit_inject
 *                "reason: X ext_inf1: 0x.. ext_inf2: 0x.. ext_int: 0x.. ext_int_err: 0x..",
 *                plugin: "reason X info1 A info2 B int_info C int_info_err D"
 * kvm_page_fault "address A error_code E" (3.x to 6.x),
 *                "vcpu V rip 0x.. address 0x.. error_code 0x.."
 * kvm_mmu_set_spte "gfn G spte S (rwx[u]) level L at P" (4.x on); Kohler's "(rwXx[u])"
 * the others (pagetable_walk, paging_element, walker_error, spte_requested,
 *   tdp_mmu_spte_changed, fast_page_fault) kept their fields' keys since they appeared.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "live/btf_layout.h"
#include "mbec_model.h"
#include "trace/ftrace_internal.h"

/* A new fault starts on the thread: forget the previous one's context. */
static void new_fault(struct ft_thread *t)
{
	t->walk_valid = false;
	memset(t->pending_sp, 0, sizeof(t->pending_sp));
}

/* ---- exit reasons (only those the checker uses are imported) ------------ */

static bool exit_reason(const char *p, uint32_t *reason, uint32_t *isa)
{
	static const struct {
		const char *name;
		uint32_t reason, isa;
	} names[] = {
		{ "EPT_VIOLATION", EXIT_REASON_EPT_VIOLATION, 1 },
		{ "EPT_MISCONFIG", EXIT_REASON_EPT_MISCONFIG, 1 },
		{ "npf", SVM_EXIT_NPF, 2 },
		{ "EXIT_NPF", SVM_EXIT_NPF, 2 },	/* trace-cmd's kvm plugin */
	};
	size_t i, n;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		n = strlen(names[i].name);
		if (!strncmp(p, names[i].name, n) && (p[n] == ' ' || !p[n])) {
			*reason = names[i].reason;
			*isa = names[i].isa;
			return true;
		}
	}
	return false;
}

/* ---- events ---------------------------------------------------------------- */

static uint64_t host_writable_bit(const struct ftrace_import *fi)
{
	if (fi->seen_spte_ept != 1)
		return SPTE_LEGACY_HOST_WRITABLE;
	return ft_rec_layout(fi) == MBEC_LAYOUT_MBEC ? MBEC_SPTE_EPT_HOST_WRITABLE :
						   CLASSIC_SPTE_EPT_HOST_WRITABLE;
}
static int ev_set_spte(struct ftrace_import *fi, const struct ft_line *l, struct ft_thread *t)
{
	struct mbec_ev_set_spte *s;
	uint64_t gfn, spte, level, at, page, id = 0;
	const char *p = strchr(l->fields, '('), *q;
	struct ft_binding *b;

	if (!ft_kv_hex(l->fields, "gfn", &gfn) || !ft_kv_hex(l->fields, "spte", &spte) ||
	    !ft_kv_dec(l->fields, "level", &level) || !ft_kv_hex(l->fields, "at", &at) ||
	    level < 1 || level > FT_MAX_LEVEL)
		return ft_bad(fi, "kvm_mmu_set_spte: want gfn, spte, level (1-5) and at");
	/*
	 * The permission letters: classic kernels print "(rwx)" for EPT SPTEs
	 * and "(rwxu)" otherwise; Kohler's series "(rwXx)" and "(rwXxu)" (X:
	 * supervisor, x: user execute), which no other kernel prints.
	 */
	if (p && (q = strchr(p, ')'))) {
		long n = q - p - 1;
		bool kohler = n == 5 || memchr(p, 'X', (size_t)n + 1);

		if (kohler && fi->layout == MBEC_LAYOUT_UNKNOWN &&
		    ft_see_layout(fi, MBEC_LAYOUT_KOHLER, false,
				  "kvm_mmu_set_spte's \"(rwXxu)\"") == FTRACE_BAD)
			return FTRACE_BAD;
		if (fi->seen_spte_ept < 0 && ft_eff_layout(fi) == MBEC_LAYOUT_KOHLER &&
		    (n == 4 || n == 5))
			fi->seen_spte_ept = n == 4;
		else if (fi->seen_spte_ept < 0 && ft_eff_layout(fi) == MBEC_LAYOUT_CLASSIC &&
			 fi->seen_layout == MBEC_LAYOUT_CLASSIC && (n == 3 || n == 4))
			fi->seen_spte_ept = n == 3;
	}

	/* Tie the SPTE's page to the shadow page just created/found at its level. */
	page = at & ~0xfffULL;
	b = &fi->bindings[(page >> 12) * 0x9e3779b1U % FT_NR_BINDINGS];
	if (t->pending_sp[level]) {
		b->page = page;
		b->sp_id = t->pending_sp[level];
		t->pending_sp[level] = 0;
	}
	if (b->page == page)
		id = b->sp_id;

	if (t->req_held) {
		if (t->req.gfn == gfn && (spte & host_writable_bit(fi)))
			t->req.flags |= MBEC_FAULT_MAP_WRITABLE;
		ft_release_req(fi, t);
	}
	s = ft_enqueue(fi, l, MBEC_EV_SET_SPTE, sizeof(*s), t);
	if (!s)
		return ft_bad(fi, "internal queue full");
	s->gfn = gfn;
	s->spte = spte;
	s->sptep = id ? id | (at & 0xfff) : at;
	s->level = (int32_t)level;
	return FTRACE_EVENT;
}

static uint16_t fault_flags(uint64_t ec)
{
	uint16_t f = 0;

	if (ec & PFERR_PRESENT)
		f |= MBEC_FAULT_PRESENT;
	if (ec & PFERR_WRITE)
		f |= MBEC_FAULT_WRITE;
	if (ec & PFERR_USER)
		f |= MBEC_FAULT_USER;
	if (ec & PFERR_RSVD)
		f |= MBEC_FAULT_RSVD;
	if (ec & PFERR_FETCH)
		f |= MBEC_FAULT_EXEC;
	return f;
}

/* "gfn 20 pfn 240e2e level 1": the rest from the thread's fault so far. */
static int ev_spte_requested(struct ftrace_import *fi, const struct ft_line *l, struct ft_thread *t)
{
	struct mbec_ev_spte_requested *r = &t->req;
	uint64_t gfn, pfn, level, acc;

	if (!ft_kv_hex(l->fields, "gfn", &gfn) || !ft_kv_hex(l->fields, "pfn", &pfn) ||
	    !ft_kv_dec(l->fields, "level", &level) || level > FT_MAX_LEVEL)
		return ft_bad(fi, "kvm_mmu_spte_requested: want gfn, pfn and level");
	memset(r, 0, sizeof(*r));
	r->hdr.type = MBEC_EV_SPTE_REQUESTED;
	r->hdr.size = sizeof(*r);
	r->hdr.cpu = l->cpu;
	r->hdr.ts_ns = l->ts_ns;
	r->hdr.pid = l->tgid;
	r->hdr.tid = l->tid;
	r->hdr.vcpu_id = t->vcpu_id;
	r->gfn = gfn;
	r->pfn = pfn;
	r->goal_level = (uint8_t)level;
	/* Kernels with this project's series also print the requested ACC. */
	if (ft_kv_hex(l->fields, "access", &acc) && acc <= 0xff) {
		r->acc = (uint8_t)acc;
		r->flags |= MBEC_FAULT_HAS_ACC;
	}
	r->addr = t->pf_valid ? t->pf_addr : t->walk_valid ? t->walk_addr : gfn << 12;
	if (t->exit_valid && t->exit_isa == 1 && t->exit_reason == EXIT_REASON_EPT_VIOLATION)
		r->error_code = mbec_kvm_exit_qual_to_pfec(ft_eff_layout(fi),
							   ft_eff_layout(fi) == MBEC_LAYOUT_MBEC,
							   t->exit_info1);
	else if (t->pf_valid)
		r->error_code = t->pf_ec;
	else if (t->walk_valid)
		r->error_code = t->walk_pferr;
	r->flags |= fault_flags(r->error_code) | MBEC_FAULT_DERIVED;
	if (t->exit_valid && !t->walk_valid &&
	    (t->exit_reason == EXIT_REASON_EPT_VIOLATION || t->exit_reason == SVM_EXIT_NPF))
		r->flags |= MBEC_FAULT_IS_TDP;
	t->req_held = true;
	return FTRACE_EVENT;
}

static int ev_walk(struct ftrace_import *fi, const struct ft_line *l, struct ft_thread *t)
{
	struct mbec_ev_walk *w;
	uint64_t addr, pferr;

	if (!ft_kv_hex(l->fields, "addr", &addr) || !ft_kv_hex(l->fields, "pferr", &pferr) ||
	    pferr > UINT32_MAX)
		return ft_bad(fi, "kvm_mmu_pagetable_walk: want addr and pferr");
	new_fault(t);
	t->walk_valid = true;
	t->walk_addr = addr;
	t->walk_pferr = (uint32_t)pferr;
	w = ft_enqueue(fi, l, MBEC_EV_PAGETABLE_WALK, sizeof(*w), t);
	if (!w)
		return ft_bad(fi, "internal queue full");
	w->addr = addr;
	w->pferr = (uint32_t)pferr;
	return FTRACE_EVENT;
}

static int ev_paging_element(struct ftrace_import *fi, const struct ft_line *l, struct ft_thread *t)
{
	struct mbec_ev_paging_element *e;
	uint64_t pte, level;

	if (!ft_kv_hex(l->fields, "pte", &pte) || !ft_kv_dec(l->fields, "level", &level) ||
	    level > 16)
		return ft_bad(fi, "kvm_mmu_paging_element: want pte and level");
	e = ft_enqueue(fi, l, MBEC_EV_PAGING_ELEMENT, sizeof(*e), t);
	if (!e)
		return ft_bad(fi, "internal queue full");
	e->pte = pte;
	e->level = (int32_t)level;
	return FTRACE_EVENT;
}

static int ev_walker_error(struct ftrace_import *fi, const struct ft_line *l, struct ft_thread *t)
{
	struct mbec_ev_walker_error *e;
	uint64_t pferr;

	if (!ft_kv_hex(l->fields, "pferr", &pferr) || pferr > UINT32_MAX)
		return ft_bad(fi, "kvm_mmu_walker_error: want pferr");
	e = ft_enqueue(fi, l, MBEC_EV_WALKER_ERROR, sizeof(*e), t);
	if (!e)
		return ft_bad(fi, "internal queue full");
	e->pferr = (uint32_t)pferr;
	return FTRACE_EVENT;
}

/* "vcpu 0 rip 0x.. address 0x.. error_code 0x..", older: "address %lx error_code %x" */
static int ev_page_fault(struct ftrace_import *fi, const struct ft_line *l, struct ft_thread *t)
{
	struct mbec_ev_page_fault *pf;
	uint64_t addr, ec, vcpu;

	if (!ft_kv_hex(l->fields, "address", &addr) || !ft_kv_hex(l->fields, "error_code", &ec))
		return ft_bad(fi, "kvm_page_fault: want address and error_code");
	if (ft_kv_dec(l->fields, "vcpu", &vcpu) && vcpu < MBEC_VCPU_UNKNOWN)
		t->vcpu_id = (uint32_t)vcpu;
	/* A page fault that follows its EPT-violation/NPF exit belongs to it. */
	if (!t->exit_valid || t->pf_valid)
		t->exit_valid = false;
	new_fault(t);
	t->pf_valid = true;
	t->pf_addr = addr;
	t->pf_ec = ec;
	pf = ft_enqueue(fi, l, MBEC_EV_PAGE_FAULT, sizeof(*pf), t);
	if (!pf)
		return ft_bad(fi, "internal queue full");
	pf->address = addr;
	pf->error_code = ec;
	return FTRACE_EVENT;
}

/* "vcpu 0 reason EPT_VIOLATION rip 0x.. info1 0x.. info2 0x.. ..." */
static int ev_exit(struct ftrace_import *fi, const struct ft_line *l, struct ft_thread *t)
{
	struct mbec_ev_exit *x;
	uint64_t info1 = 0, info2 = 0, vcpu;
	uint32_t reason, isa;
	const char *p = ft_kv(l->fields, "reason");

	if (!p)
		return ft_bad(fi, "kvm_exit without a reason");
	if (ft_kv_dec(l->fields, "vcpu", &vcpu) && vcpu < MBEC_VCPU_UNKNOWN)
		t->vcpu_id = (uint32_t)vcpu;
	t->exit_valid = false;
	t->pf_valid = false;
	new_fault(t);
	if (!exit_reason(p, &reason, &isa))
		return ft_skip(fi, FTRACE_SKIP_OTHER_EXIT);	/* the BPF side skips these too */
	if (!ft_kv_hex(l->fields, "info1", &info1) || !ft_kv_hex(l->fields, "info2", &info2)) {
		/* Kernels before 5.7 and trace-cmd's plugin: "info %llx %llx". */
		const char *q = ft_kv(l->fields, "info");

		if (!q || !ft_parse_hex(q, &info1, &q) || !ft_parse_hex(ft_skip_sp(q), &info2, NULL))
			return ft_bad(fi, "kvm_exit: want info1 and info2");
	}
	t->exit_valid = true;
	t->exit_reason = reason;
	t->exit_isa = isa;
	t->exit_info1 = info1;
	x = ft_enqueue(fi, l, MBEC_EV_EXIT, sizeof(*x), t);
	if (!x)
		return ft_bad(fi, "internal queue full");
	x->info1 = info1;
	x->info2 = info2;
	x->reason = reason;
	x->isa = isa;
	/* The event's own TP_fast_assign read the VMCS: its qualification is this exit's. */
	x->flags = MBEC_EXIT_HAS_REASON | MBEC_EXIT_HAS_INFO |
		   (isa == 1 ? MBEC_EXIT_VMX | MBEC_EXIT_INFO1_FRESH : MBEC_EXIT_SVM);
	if (isa == 1 && fi->seen_spte_ept < 0)
		fi->seen_spte_ept = 1;
	else if (isa == 2 && fi->seen_spte_ept < 0)
		fi->seen_spte_ept = 0;
	return FTRACE_EVENT;
}

/* "reason: EPT_VIOLATION ext_inf1: 0x.. ext_inf2: 0x.. ext_int: 0x.. ext_int_err: 0x..", plugin */
static int ev_nested_inject(struct ftrace_import *fi, const struct ft_line *l, struct ft_thread *t)
{
	struct mbec_ev_nested_inject *n;
	uint64_t i1, i2, ii = 0, ie = 0;
	uint32_t reason, isa;
	const char *p = ft_kv(l->fields, "reason");

	if (!p)
		return ft_bad(fi, "kvm_nested_vmexit_inject without a reason");
	if (!exit_reason(p, &reason, &isa))
		return ft_skip(fi, FTRACE_SKIP_OTHER_EXIT);
	if (ft_kv_hex(l->fields, "ext_inf1", &i1) && ft_kv_hex(l->fields, "ext_inf2", &i2)) {
		ft_kv_hex(l->fields, "ext_int", &ii);
		ft_kv_hex(l->fields, "ext_int_err", &ie);
	} else if (ft_kv_hex(l->fields, "info1", &i1) && ft_kv_hex(l->fields, "info2", &i2)) {
		/* trace-cmd's plugin: "reason X info1 A info2 B int_info C int_info_err D" */
		ft_kv_hex(l->fields, "int_info", &ii);
		ft_kv_hex(l->fields, "int_info_err", &ie);
		fi->st.plugin_lines++;
	} else {
		return ft_bad(fi, "kvm_nested_vmexit_inject: want ext_inf1 and ext_inf2 (or the "
			      "plugin's info1 and info2)");
	}
	if (ii > UINT32_MAX || ie > UINT32_MAX)
		return ft_bad(fi, "kvm_nested_vmexit_inject: interrupt info wider than 32 bits");
	n = ft_enqueue(fi, l, MBEC_EV_NESTED_VMEXIT_INJECT, sizeof(*n), t);
	if (!n)
		return ft_bad(fi, "internal queue full");
	n->exit_code = reason;
	n->exit_info1 = i1;
	n->exit_info2 = i2;
	n->exit_int_info = (uint32_t)ii;
	n->exit_int_info_err = (uint32_t)ie;
	n->isa = isa;
	return FTRACE_EVENT;
}

/* "as id 0 gfn 100 level 1 old_spte 0 new_spte 6000000a07" */
static int ev_tdp_changed(struct ftrace_import *fi, const struct ft_line *l, struct ft_thread *t)
{
	struct mbec_ev_tdp_spte_changed *c;
	uint64_t as = 0, gfn, level, o, n;
	const char *p = strstr(l->fields, "as id");

	if (p)
		ft_parse_dec(ft_skip_sp(p + 5), &as, NULL);
	if (!ft_kv_hex(l->fields, "gfn", &gfn) || !ft_kv_dec(l->fields, "level", &level) ||
	    !ft_kv_hex(l->fields, "old_spte", &o) || !ft_kv_hex(l->fields, "new_spte", &n) ||
	    level > FT_MAX_LEVEL || as > 255)
		return ft_bad(fi, "kvm_tdp_mmu_spte_changed: want gfn, level, old_spte and new_spte");
	c = ft_enqueue(fi, l, MBEC_EV_TDP_SPTE_CHANGED, sizeof(*c), t);
	if (!c)
		return ft_bad(fi, "internal queue full");
	c->gfn = gfn;
	c->old_spte = o;
	c->new_spte = n;
	c->as_id = (int32_t)as;
	c->level = (int32_t)level;
	return FTRACE_EVENT;
}

/* "vcpu 0 gva 1000 error_code P|W sptep 0000.. old 0x.. new 6000.. spurious 0 fixed 1" */
static int ev_fast_pf(struct ftrace_import *fi, const struct ft_line *l, struct ft_thread *t)
{
	static const struct {
		const char *name;
		uint64_t bit;
	} flags[] = {
		{ "P", PFERR_PRESENT }, { "W", PFERR_WRITE }, { "U", PFERR_USER },
		{ "RSVD", PFERR_RSVD }, { "F", PFERR_FETCH }, { "PK", MBEC_BIT(5) },
		{ "SS", MBEC_BIT(6) }, { "SGX", MBEC_BIT(15) },
	};
	struct mbec_ev_fast_page_fault *e;
	uint64_t gva, o, n, vcpu, sptep = 0, spurious = 0, fixed = 0, ec = 0;
	const char *p = ft_kv(l->fields, "error_code");
	size_t i, k;

	if (!ft_kv_hex(l->fields, "gva", &gva) || !ft_kv_hex(l->fields, "old", &o) ||
	    !ft_kv_hex(l->fields, "new", &n) || !p)
		return ft_bad(fi, "fast_page_fault: want gva, error_code, old and new");
	/*
	 * error_code is printed as flags ("P|W|U"), possibly empty; bits
	 * without a name come last in hex ("P|W|0x100000000": the NPT exit's
	 * PFERR_GUEST_FINAL, bit 32), or alone ("0x100000000").
	 */
	while (*p && *p != ' ') {
		if (p[0] == '0' && p[1] == 'x') {
			uint64_t rest;
			const char *q;

			if (!ft_parse_hex(p, &rest, &q) || (*q != ' ' && *q))
				return ft_bad(fi, "fast_page_fault: bad error_code bits in \"%.16s\"", p);
			ec |= rest;
			p = q;
			break;
		}
		for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
			k = strlen(flags[i].name);
			if (!strncmp(p, flags[i].name, k) && (p[k] == '|' || p[k] == ' ' || !p[k]))
				break;
		}
		if (i == sizeof(flags) / sizeof(flags[0])) {
			if (!strncmp(p, "sptep", 5))
				break;		/* empty flags */
			return ft_bad(fi, "fast_page_fault: unknown error_code flag in \"%.16s\"", p);
		}
		ec |= flags[i].bit;
		p += k;
		if (*p == '|')
			p++;
	}
	if (ft_kv_dec(l->fields, "vcpu", &vcpu) && vcpu < MBEC_VCPU_UNKNOWN)
		t->vcpu_id = (uint32_t)vcpu;
	ft_kv_hex(l->fields, "sptep", &sptep);
	ft_kv_dec(l->fields, "spurious", &spurious);
	ft_kv_dec(l->fields, "fixed", &fixed);
	e = ft_enqueue(fi, l, MBEC_EV_FAST_PAGE_FAULT, sizeof(*e), t);
	if (!e)
		return ft_bad(fi, "internal queue full");
	e->addr = gva;
	e->error_code = ec;
	e->old_spte = o;
	e->new_spte = n;
	e->sptep = sptep;
	e->ret = spurious ? 6 : fixed ? 5 : 0;	/* RET_PF_SPURIOUS, RET_PF_FIXED */
	return FTRACE_EVENT;
}


/*
 * The events we read.  keeps_req: a held spte_requested waits across
 * these (its set_spte may follow shadow pages created for a guest large
 * page) and goes out when anything else starts on the thread.
 */
static const struct {
	const char *name;
	ft_event_fn fn;
	bool keeps_req;
} events[] = {
	{ "kvm_mmu_pagetable_walk", ev_walk, false },
	{ "kvm_mmu_paging_element", ev_paging_element, true },
	{ "kvm_mmu_walker_error", ev_walker_error, false },
	{ "kvm_mmu_spte_requested", ev_spte_requested, false },
	{ "kvm_mmu_set_spte", ev_set_spte, true },
	{ "kvm_page_fault", ev_page_fault, false },
	{ "kvm_exit", ev_exit, false },
	{ "kvm_mmu_get_page", ft_ev_get_page, true },
	{ "kvm_tdp_mmu_spte_changed", ev_tdp_changed, true },
	{ "fast_page_fault", ev_fast_pf, false },
	{ "kvm_nested_vmexit_inject", ev_nested_inject, false },
};

ft_event_fn ft_event_parser(const char *name, bool *keeps_req)
{
	size_t i;

	for (i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
		if (!strcmp(name, events[i].name)) {
			*keeps_req = events[i].keeps_req;
			return events[i].fn;
		}
	}
	return NULL;
}

