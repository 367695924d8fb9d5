// SPDX-License-Identifier: GPL-2.0
/*
 * The ftrace text importer, line by line: the three line formats (tracefs
 * with and without TGID, trace-cmd report, a comm with spaces), every
 * event's fields, the role word rebuilt for both layouts, what is derived
 * for spte_requested (error code, map_writable, TDP), the shadow-page ids
 * that tie SPTEs to their page, lost-event lines, and bad lines.
 */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "check/check.h"
#include "live/btf_layout.h"
#include "trace/ftrace.h"
#include "trace/source.h"

static struct ftrace_import *fi;
static union {
	struct mbec_event_hdr hdr;
	struct mbec_ev_walk walk;
	struct mbec_ev_paging_element elem;
	struct mbec_ev_spte_requested req;
	struct mbec_ev_set_spte spte;
	struct mbec_ev_page_fault pf;
	struct mbec_ev_exit exit;
	struct mbec_ev_get_page gp;
	struct mbec_ev_tdp_spte_changed tdp;
	struct mbec_ev_fast_page_fault fast;
	struct mbec_ev_nested_inject inj;
	struct mbec_ev_lost lost;
	char raw[128];
} rec[8];
static int nrec;

/* Feed one line; the records it produced land in rec[]. */
static int feed(const char *line)
{
	char buf[FTRACE_LINE_MAX + 1];
	const struct mbec_event_hdr *h;
	int r;

	snprintf(buf, sizeof(buf), "%s", line);
	r = ftrace_import_line(fi, buf);
	nrec = 0;
	while ((h = ftrace_import_pop(fi)) && nrec < 8)
		memcpy(&rec[nrec++], h, h->size);
	return r;
}

static void flush(void)
{
	const struct mbec_event_hdr *h;

	ftrace_import_flush(fi);
	nrec = 0;
	while ((h = ftrace_import_pop(fi)) && nrec < 8)
		memcpy(&rec[nrec++], h, h->size);
}

int main(void)
{
	const struct role_layout *cl = role_layout_builtin(MBEC_LAYOUT_CLASSIC);
	const struct role_layout *mb = role_layout_builtin(MBEC_LAYOUT_MBEC);
	uint64_t sp1;
	int r;

	fi = ftrace_import_new(MBEC_LAYOUT_UNKNOWN);

	/* ---- line formats ---- */
	r = feed("       mbecscope-4129    (   4128) [001] ...1.  1012.564225: kvm_mmu_pagetable_walk: "
		 "addr 20000 pferr 14 U|F");
	ok(r == FTRACE_EVENT && nrec == 1 && rec[0].hdr.type == MBEC_EV_PAGETABLE_WALK,
	   "tracefs line with TGID");
	ok(rec[0].hdr.pid == 4128 && rec[0].hdr.tid == 4129 && rec[0].hdr.cpu == 1 &&
	   rec[0].hdr.ts_ns == 1012564225000ULL, "pid, tid, cpu and time from the prefix");
	ok(rec[0].walk.addr == 0x20000 && rec[0].walk.pferr == 0x14, "walk fields");
	ok(rec[0].hdr.vcpu_id == MBEC_VCPU_UNKNOWN, "no vCPU known yet");
	ok(ftrace_import_seen_tgid(fi), "TGID column seen");

	r = feed("           <...>-77    [000] d..2.   5.000001: kvm_mmu_paging_element: pte 101027 level 4");
	ok(r == FTRACE_EVENT && rec[0].hdr.tid == 77 && rec[0].hdr.pid == 0 &&
	   rec[0].elem.pte == 0x101027 && rec[0].elem.level == 4, "trace_pipe line without TGID");

	r = feed("     CPU 0/KVM-7001  [003]  5000.000100123: kvm_exit:             vcpu 2 reason "
		 "EPT_VIOLATION rip 0xfff0 info1 0x0000000000000181 info2 0x0000000000001000 "
		 "intr_info 0x00000000 error_code 0x00000000 requests 0x0000000000000000");
	ok(r == FTRACE_EVENT && rec[0].hdr.type == MBEC_EV_EXIT && rec[0].hdr.tid == 7001 &&
	   rec[0].hdr.cpu == 3 && rec[0].hdr.ts_ns == 5000000100123ULL,
	   "trace-cmd report line, comm with a space and a slash, ns time");
	ok(rec[0].exit.reason == 48 && rec[0].exit.isa == 1 && rec[0].exit.info1 == 0x181 &&
	   rec[0].exit.info2 == 0x1000 && (rec[0].exit.flags & MBEC_EXIT_VMX) &&
	   (rec[0].exit.flags & MBEC_EXIT_HAS_INFO), "EPT-violation exit fields");
	ok(rec[0].hdr.vcpu_id == 2, "vCPU id from kvm_exit");
	ok(ftrace_import_seen_spte_ept(fi) == 1, "a VMX EPT exit means EPT SPTEs");

	r = feed("     CPU 0/KVM-7001  [003]  5000.000100200: kvm_page_fault: vcpu 2 rip 0xfff0 "
		 "address 0x0000000000001000 error_code 0x181");
	ok(r == FTRACE_EVENT && rec[0].pf.address == 0x1000 && rec[0].pf.error_code == 0x181 &&
	   rec[0].hdr.vcpu_id == 2, "kvm_page_fault, vCPU carried");
	r = feed("     CPU 0/KVM-7001  [003]  5000.000100300: kvm_mmu_spte_requested: gfn 1 pfn 12345 "
		 "level 1");
	ok(r == FTRACE_EVENT && nrec == 0, "spte_requested is held for its set_spte");
	r = feed("     CPU 0/KVM-7001  [003]  5000.000100400: kvm_mmu_set_spte: gfn 1 spte "
		 "600000012345b77 (rwx) level 1 at 10ab3f008");
	ok(r == FTRACE_EVENT && nrec == 2 && rec[0].hdr.type == MBEC_EV_SPTE_REQUESTED &&
	   rec[1].hdr.type == MBEC_EV_SET_SPTE, "then both go out, in order");
	ok(rec[0].req.gfn == 1 && rec[0].req.pfn == 0x12345 && rec[0].req.goal_level == 1 &&
	   rec[0].req.addr == 0x1000, "spte_requested: gfn, pfn, level; address from the fault");
	is_u64(rec[0].req.error_code, 0x100000004ULL,
	       "error code derived from the exit qualification (classic: read -> USER, FINAL)");
	ok((rec[0].req.flags & MBEC_FAULT_IS_TDP) && (rec[0].req.flags & MBEC_FAULT_MAP_WRITABLE),
	   "TDP (no guest walk) and map_writable (EPT host-writable bit 57)");
	ok(rec[0].req.flags & MBEC_FAULT_DERIVED, "the request says its error code was derived");
	ok(rec[1].spte.spte == 0x600000012345b77ULL && rec[1].spte.sptep == 0x10ab3f008ULL &&
	   rec[1].spte.level == 1, "set_spte fields; no shadow page known: sptep kept");

	r = feed("     CPU 0/KVM-7001  [003]  5000.000200000: kvm_exit: vcpu 2 reason HLT rip 0xfff2 "
		 "info1 0x0 info2 0x0 intr_info 0x0 error_code 0x0 requests 0x0");
	ok(r == FTRACE_IGNORED && nrec == 0, "other exits are skipped, as BPF skips them");
	r = feed("  qemu-9001    (   9000) [001] d..1.  6000.000100: kvm_nested_vmexit_inject: reason: "
		 "EPT_VIOLATION ext_inf1: 0x0000000000000181 ext_inf2: 0x0000000000000002 ext_int: "
		 "0x00000003 ext_int_err: 0x00000004");
	ok(r == FTRACE_EVENT && rec[0].inj.exit_code == 48 && rec[0].inj.isa == 1 &&
	   rec[0].inj.exit_info1 == 0x181 && rec[0].inj.exit_info2 == 2 &&
	   rec[0].inj.exit_int_info == 3 && rec[0].inj.exit_int_info_err == 4,
	   "kvm_nested_vmexit_inject");
	r = feed(" qemu-9001 [001] 7.000001: kvm_exit: reason npf rip 0x1000 info 10000000f 2000");
	ok(r == FTRACE_EVENT && rec[0].exit.reason == 0x400 && rec[0].exit.isa == 2 &&
	   rec[0].exit.info1 == 0x10000000fULL && rec[0].exit.info2 == 0x2000,
	   "SVM npf exit in the older 'info a b' form");
	r = feed(" t-5 [000] 8.000001: kvm_tdp_mmu_spte_changed: as id 1 gfn 100 level 2 old_spte 0 "
		 "new_spte 6000000a07");
	ok(r == FTRACE_EVENT && rec[0].tdp.as_id == 1 && rec[0].tdp.gfn == 0x100 &&
	   rec[0].tdp.level == 2 && rec[0].tdp.new_spte == 0x6000000a07ULL,
	   "kvm_tdp_mmu_spte_changed");
	r = feed(" t-5 [000] 8.000002: fast_page_fault: vcpu 1 gva 1000 error_code P|W sptep "
		 "00000000deadbeef old 0x605 new 607 spurious 0 fixed 1");
	ok(r == FTRACE_EVENT && rec[0].fast.addr == 0x1000 && rec[0].fast.error_code == 3 &&
	   rec[0].fast.old_spte == 0x605 && rec[0].fast.new_spte == 0x607 && rec[0].fast.ret == 5 &&
	   rec[0].hdr.vcpu_id == 1, "fast_page_fault, error code from its flags");

	/* ---- get_page: layout detection and the role word ---- */
	ftrace_import_free(fi);
	fi = ftrace_import_new(MBEC_LAYOUT_UNKNOWN);
	feed(" m-10 (   9) [000] .... 1.000000: kvm_mmu_pagetable_walk: addr 20000 pferr 6 W|U");
	r = feed(" m-10 (   9) [000] ...1. 1.000001: kvm_mmu_get_page: sp gen 0 gfn 106 l1 8-byte q0 "
		 "w-x !nxe !ad root 0 unsync new");
	ok(r == FTRACE_EVENT && ftrace_import_seen_layout(fi) == MBEC_LAYOUT_CLASSIC,
	   "3-letter access: classic layout");
	ok(rec[0].gp.gfn == 0x106 && rec[0].gp.level == 1 && rec[0].gp.access == 3 &&
	   !rec[0].gp.efer_nx && rec[0].gp.ad_disabled && rec[0].gp.cr0_wp &&
	   (rec[0].gp.flags & MBEC_SP_CREATED) && (rec[0].gp.flags & MBEC_SP_UNSYNC),
	   "get_page fields (w-x = WRITE|EXEC)");
	ok(role_get(cl, rec[0].gp.role, "level") == 1 && role_get(cl, rec[0].gp.role, "access") == 3 &&
	   role_get(cl, rec[0].gp.role, "efer_nx") == 0 &&
	   role_get(cl, rec[0].gp.role, "ad_disabled") == 1 &&
	   role_get(cl, rec[0].gp.role, "cr0_wp") == 1, "role word built with the classic layout");
	sp1 = rec[0].gp.spt;
	ok(sp1 && sp1 == rec[0].gp.sp && (sp1 & 0xfff) == 0, "the page gets a shadow-page id");
	feed(" m-10 (   9) [000] ...1. 1.000002: kvm_mmu_spte_requested: gfn 30 pfn 250000 level 1");
	r = feed(" m-10 (   9) [000] ...1. 1.000003: kvm_mmu_set_spte: gfn 30 spte 250000a65 (r-xu) "
		 "level 1 at 10ab3f180");
	ok(nrec == 2 && rec[1].spte.sptep == (sp1 | 0x180), "its SPTE is tied to it (id | offset)");
	ok((rec[0].req.flags & MBEC_FAULT_MAP_WRITABLE) && rec[0].req.error_code == 6 &&
	   rec[0].req.addr == 0x20000 && (rec[0].req.flags & MBEC_FAULT_WRITE) &&
	   !(rec[0].req.flags & MBEC_FAULT_IS_TDP),
	   "shadow paging: error code and address from the walk, map_writable from bit 9");
	r = feed(" m-10 (   9) [000] ...1. 1.000004: kvm_mmu_set_spte: gfn 31 spte 250001a05 (r-xu) "
		 "level 1 at 10ab3f188");
	ok(rec[0].spte.sptep == (sp1 | 0x188), "a prefetched SPTE in the same page too");
	feed(" m-10 (   9) [000] .... 1.000010: kvm_mmu_pagetable_walk: addr 31000 pferr 4 U");
	feed(" m-10 (   9) [000] ...1. 1.000011: kvm_mmu_spte_requested: gfn 31 pfn 250001 level 1");
	r = feed(" m-10 (   9) [000] ...1. 1.000012: kvm_mmu_set_spte: gfn 31 spte 250001a05 (r-xu) "
		 "level 1 at 10ab3f188");
	ok(rec[1].spte.sptep == (sp1 | 0x188), "a later fault on the page finds it again");
	feed(" m-10 (   9) [000] .... 1.000015: kvm_mmu_pagetable_walk: addr 33000 pferr 4 U");
	feed(" m-10 (   9) [000] ...1. 1.000016: kvm_mmu_spte_requested: gfn 33 pfn 250003 level 1 "
	     "access d");
	feed(" m-10 (   9) [000] .... 1.000017: kvm_mmu_pagetable_walk: addr 34000 pferr 4 U");
	ok(nrec == 2 && rec[0].hdr.type == MBEC_EV_SPTE_REQUESTED && rec[0].req.acc == 0xd &&
	   (rec[0].req.flags & MBEC_FAULT_HAS_ACC) && (rec[0].req.flags & MBEC_FAULT_USER),
	   "the series' 'access %%x' is the requested ACC; the next walk releases the request");
	feed(" m-10 (   9) [000] .... 1.000020: kvm_mmu_pagetable_walk: addr 32000 pferr 4 U");
	feed(" m-10 (   9) [000] ...1. 1.000021: kvm_mmu_spte_requested: gfn 32 pfn 250002 level 1");
	flush();
	ok(nrec == 1 && rec[0].hdr.type == MBEC_EV_SPTE_REQUESTED &&
	   !(rec[0].req.flags & MBEC_FAULT_MAP_WRITABLE), "end of input releases a held request");

	ftrace_import_free(fi);
	fi = ftrace_import_new(MBEC_LAYOUT_UNKNOWN);
	r = feed(" m-10 [000] 1.000001: kvm_mmu_get_page: sp gen 0 gfn 5 l2 4-byte q1 direct r-u- "
		 "invalid nxe ad root 1 sync existing");
	ok(r == FTRACE_EVENT && ftrace_import_seen_layout(fi) == MBEC_LAYOUT_MBEC,
	   "4-letter access: mbec layout");
	ok(rec[0].gp.access == (MBEC_ACC_READ | MBEC_ACC_USER) && rec[0].gp.direct &&
	   rec[0].gp.has_4_byte_gpte && !(rec[0].gp.flags & MBEC_SP_CREATED) &&
	   role_get(mb, rec[0].gp.role, "access") == 5 && role_get(mb, rec[0].gp.role, "quadrant") == 1 &&
	   role_get(mb, rec[0].gp.role, "invalid") == 1 && role_get(mb, rec[0].gp.role, "direct") == 1,
	   "mbec role word: access r-u- = 5, quadrant, invalid, direct");
	r = feed(" m-10 [000] 1.000002: kvm_mmu_get_page: sp gen 0 gfn 5 l2 8-byte q0 wux nxe ad root "
		 "1 sync new");
	ok(r == FTRACE_BAD && strstr(ftrace_import_error(fi), "changes the layout"),
	   "a layout change within one trace is refused: %s", ftrace_import_error(fi));

	/* ---- lost events, comments, bad lines ---- */
	r = feed("CPU:1 [LOST 123 EVENTS]");
	ok(r == FTRACE_EVENT && rec[0].hdr.type == MBEC_EV_LOST && rec[0].lost.count == 123 &&
	   rec[0].hdr.cpu == 1, "trace_pipe lost-events line");
	ok(feed("# tracer: nop") == FTRACE_IGNORED && feed("") == FTRACE_IGNORED &&
	   feed("cpus=2") == FTRACE_IGNORED && feed("CPU 1 is empty") == FTRACE_IGNORED,
	   "comments and trace-cmd headers are ignored");
	ok(feed(" m-10 [000] 1.000003: sched_switch: prev_comm=a") == FTRACE_IGNORED,
	   "other events are ignored");
	r = feed("garbage that is not a trace line");
	ok(r == FTRACE_BAD && strstr(ftrace_import_error(fi), "not an ftrace line"),
	   "garbage: %s", ftrace_import_error(fi));
	r = feed(" m-10 [000] 1.000004: kvm_mmu_set_spte: gfn 30 spte zz level 1 at 10");
	ok(r == FTRACE_BAD && strstr(ftrace_import_error(fi), "kvm_mmu_set_spte"),
	   "a known event with a bad field: %s", ftrace_import_error(fi));
	r = feed(" m-10 [000] 1.000004: kvm_mmu_paging_element: pte 12345678901234567 level 1");
	ok(r == FTRACE_BAD, "a value over 64 bits is refused");
	r = feed(" m-10 [000] 1.000004: kvm_mmu_get_page: sp gen 0 gfn 5 l9 8-byte q0 wux nxe ad");
	ok(r == FTRACE_BAD && strstr(ftrace_import_error(fi), "level"), "level 9: %s",
	   ftrace_import_error(fi));
	ok(ftrace_line_looks_like_trace(" a-1 [000] 1.5: x: y") &&
	   !ftrace_line_looks_like_trace("1.5: x: y"), "detection helper");
	ftrace_import_free(fi);

	/* ---- trace-cmd's kvm plugin: the role word rebuilt, read back in the layout ---- */
	fi = ftrace_import_new(MBEC_LAYOUT_CLASSIC);
	r = feed(" m-10 [000] 1.000001: kvm_mmu_get_page: new sp gfn 5 1 q0 wux !pae nxe !wp smep root "
		 "0 sync");
	ok(r == FTRACE_EVENT && rec[0].gp.level == 1 && rec[0].gp.access == CLASSIC_ACC_ALL &&
	   !rec[0].gp.has_4_byte_gpte && rec[0].gp.efer_nx && !rec[0].gp.cr0_wp &&
	   rec[0].gp.smep && (rec[0].gp.flags & MBEC_SP_HAS_SMEP_ANDNOT_WP) &&
	   (rec[0].gp.flags & MBEC_SP_CREATED) && !(rec[0].gp.flags & MBEC_SP_CR0_WP_UNKNOWN),
	   "plugin get_page, classic: !wp and smep are the role's, CR0.WP known");
	is_u64(rec[0].gp.role, 0x5701, "plugin: the word as the plugin read it");
	r = feed(" m-10 [000] 1.000002: kvm_mmu_get_page: existing sp gfn 6 WORD: 00003104 root 1 sync");
	ok(r == FTRACE_EVENT && rec[0].gp.role == 0x3104 && rec[0].gp.level == 4 &&
	   rec[0].gp.access == CLASSIC_ACC_EXEC && rec[0].gp.cr0_wp && rec[0].gp.efer_nx &&
	   !(rec[0].gp.flags & MBEC_SP_CREATED), "plugin get_page with the raw WORD");
	r = feed(" m-10 [000] 1.000003: kvm_mmu_get_page: new sp gfn 7 1 q0 wux !pae nxe root 0 sync");
	ok(r == FTRACE_BAD && strstr(ftrace_import_error(fi), "[!]wp"), "plugin without [!]wp: %s",
	   ftrace_import_error(fi));
	r = feed(" m-10 [000] 1.000004: kvm_mmu_get_page: sp gen 0 gfn 8 l1 8-byte q0 wux nxe ad root "
		 "0 sync new");
	ok(r == FTRACE_EVENT && (rec[0].gp.flags & MBEC_SP_CR0_WP_UNKNOWN) &&
	   ftrace_import_stats(fi)->roles_no_wp == 1,
	   "the kernel's form does not show CR0.WP: the record says so, and it is counted");
	ok(ftrace_import_stats(fi)->plugin_lines == 2, "plugin lines counted");
	ftrace_import_free(fi);

	fi = ftrace_import_new(MBEC_LAYOUT_MBEC);
	r = feed(" m-10 [000] 1.000001: kvm_mmu_get_page: new sp gfn 5 4 q0 wux !pae nxe wp root 0 sync");
	ok(r == FTRACE_EVENT && rec[0].gp.access == 7 && role_get(mb, rec[0].gp.role, "invalid") == 1 &&
	   rec[0].gp.efer_nx && !rec[0].gp.cr0_wp && !(rec[0].gp.flags & MBEC_SP_CR0_WP_UNKNOWN),
	   "plugin get_page read in the mbec layout: its nxe is bit 12 (invalid), wp bit 13 (efer_nx)");
	ftrace_import_free(fi);

	/* ---- older kernels' get_page forms ---- */
	fi = ftrace_import_new(MBEC_LAYOUT_UNKNOWN);
	r = feed(" m-10 [000] 1.000001: kvm_mmu_get_page: sp gfn 100 4 q0 direct wux !nxe root 0 "
		 "unsync existing");
	ok(r == FTRACE_EVENT && rec[0].gp.level == 4 && rec[0].gp.has_4_byte_gpte &&
	   rec[0].gp.direct && !rec[0].gp.efer_nx && (rec[0].gp.flags & MBEC_SP_UNSYNC) &&
	   !(rec[0].gp.flags & MBEC_SP_CREATED), "3.x form: no \" pae\" means 4-byte gptes");
	r = feed(" m-10 [000] 1.000002: kvm_mmu_get_page: sp gen 3 gfn 101 l3 pae q1 -u- invalid nxe !ad "
		 "root 2 sync new");
	ok(r == FTRACE_EVENT && rec[0].gp.level == 3 && !rec[0].gp.has_4_byte_gpte &&
	   rec[0].gp.access == CLASSIC_ACC_USER && rec[0].gp.ad_disabled &&
	   role_get(cl, rec[0].gp.role, "quadrant") == 1 && role_get(cl, rec[0].gp.role, "invalid") == 1,
	   "4.x form: l3 pae q1 ... !ad");
	r = feed(" m-10 [000] 1.000003: kvm_mmu_get_page: sp gfn 102 l2 16-byte q0 wux nxe ad root 0 "
		 "sync new");
	ok(r == FTRACE_BAD && strstr(ftrace_import_error(fi), "16 bytes"), "16-byte gptes: %s",
	   ftrace_import_error(fi));
	r = feed(" m-10 [000] 1.000004: kvm_mmu_get_page: sp gfn 102 l2 q0 wux nxe ad root 0 sync");
	ok(r == FTRACE_BAD && strstr(ftrace_import_error(fi), "new/existing"), "cut short: %s",
	   ftrace_import_error(fi));
	ftrace_import_free(fi);

	/* ---- Kohler's series ---- */
	fi = ftrace_import_new(MBEC_LAYOUT_UNKNOWN);
	r = feed(" m-10 [000] 1.000001: kvm_mmu_get_page: sp gen 0 gfn 5 l1 8-byte q0 -wu- nxe ad root 0 "
		 "sync new");
	ok(r == FTRACE_EVENT && ftrace_import_seen_layout(fi) == MBEC_LAYOUT_MBEC &&
	   ftrace_import_layout_assumed(fi), "-wu- fits mbec and kohler: mbec assumed, and said so");
	r = feed(" m-10 [000] 1.000002: kvm_mmu_get_page: sp gen 0 gfn 6 l1 8-byte q0 xw-X nxe ad root 0 "
		 "sync new");
	ok(r == FTRACE_EVENT && ftrace_import_seen_layout(fi) == MBEC_LAYOUT_KOHLER &&
	   !ftrace_import_layout_assumed(fi), "x and X tell: kohler");
	ftrace_import_set_layout(fi, MBEC_LAYOUT_KOHLER);
	r = feed(" m-10 [000] 1.000003: kvm_mmu_get_page: sp gen 0 gfn 7 l1 8-byte q0 xw-X nxe ad root 0 "
		 "sync new");
	ok(r == FTRACE_EVENT && rec[0].gp.access == (CLASSIC_ACC_WRITE | CLASSIC_ACC_EXEC) &&
	   role_get(cl, rec[0].gp.role, "access") == 3 && ftrace_import_stats(fi)->uexec_unchecked == 2,
	   "kohler's xw-X is classic's w-x, USER_EXEC counted as not checked");
	r = feed(" m-10 [000] 1.000004: kvm_mmu_set_spte: gfn 7 spte 600000012345b77 (rwXx) level 1 at "
		 "10ab3f008");
	ok(r == FTRACE_EVENT && ftrace_import_seen_spte_ept(fi) == 1,
	   "kohler's set_spte with four letters is an EPT SPTE");
	r = feed(" m-10 [000] 1.000005: kvm_mmu_get_page: sp gen 0 gfn 8 l1 8-byte q0 wux nxe ad root 0 "
		 "sync new");
	ok(r == FTRACE_BAD && strstr(ftrace_import_error(fi), "is classic's, but the lines are read "
				      "as kohler") && strstr(ftrace_import_error(fi), "--layout classic"),
	   "then classic's letters are refused, with the fix: %s", ftrace_import_error(fi));
	r = feed(" m-10 [000] 1.000006: kvm_mmu_get_page: sp gen 0 gfn 9 l1 8-byte q0 rw-x nxe ad root 0 "
		 "sync new");
	ok(r == FTRACE_BAD && strstr(ftrace_import_error(fi), "is mbec's"),
	   "and mbec's: %s", ftrace_import_error(fi));
	r = feed(" m-10 [000] 1.000007: kvm_mmu_get_page: sp gen 0 gfn 9 l1 8-byte q0 -wu- nxe ad root 0 "
		 "sync new");
	ok(r == FTRACE_EVENT, "letters that fit kohler too are read");
	ftrace_import_free(fi);
	fi = ftrace_import_new(MBEC_LAYOUT_UNKNOWN);
	r = feed(" m-10 [000] 1.000001: kvm_mmu_set_spte: gfn 7 spte 240e2ea25 (r-Xxu) level 1 at 10ab3f100");
	ok(r == FTRACE_EVENT && ftrace_import_seen_layout(fi) == MBEC_LAYOUT_KOHLER &&
	   ftrace_import_seen_spte_ept(fi) == 0, "(r-Xxu) alone tells kohler and legacy SPTEs");
	ftrace_import_free(fi);

	/* ---- drop markers, skipped lines by kind, columns out of range ---- */
	fi = ftrace_import_new(MBEC_LAYOUT_UNKNOWN);
	{
		uint32_t unc;

		r = feed("CPU:3 [EVENTS DROPPED]");
		ok(r == FTRACE_EVENT && rec[0].hdr.type == MBEC_EV_LOST && rec[0].lost.count == 0 &&
		   rec[0].hdr.cpu == 3, "trace-cmd: a drop without a count is a loss");
		r = feed("CPU:2 [7 EVENTS DROPPED]");
		ok(r == FTRACE_EVENT && rec[0].lost.count == 7 && rec[0].hdr.cpu == 2,
		   "trace-cmd: a drop with a count");
		r = feed("  [LOST 4 EVENTS]");
		ok(r == FTRACE_EVENT && rec[0].lost.count == 4, "[LOST n EVENTS] alone");
		ok(ftrace_import_stats(fi)->drop_markers == 3 &&
		   ftrace_import_stats(fi)->lost_events == 11 &&
		   ftrace_import_stats(fi)->drops_uncounted == 1 &&
		   ftrace_import_lost_on(fi, 0, 2, &unc) == 7 && unc == 0 &&
		   ftrace_import_lost_on(fi, 0, 3, &unc) == 0 && unc == 1, "losses counted per CPU");
		r = feed("CPU:2 [many EVENTS DROPPED]");
		ok(r == FTRACE_BAD, "a drop marker that is not one is a bad line");
	}
	ftrace_import_free(fi);

	/*
	 * ---- trace-cmd report of several buffers: "%*s: " (the name right-aligned
	 * to the longest), blanks for the top buffer, the command in 16 columns;
	 * a drop marker and its event share one prefix (tracecmd/trace-read.c,
	 * print_handle_file() and trace_show_data(), trace-cmd 3.1.6 to 3.4).
	 */
	fi = ftrace_import_new(MBEC_LAYOUT_UNKNOWN);
	{
		uint32_t unc;
		char lossbuf[200];

		ok(feed("cpus=2") == FTRACE_IGNORED, "report of buffers: cpus=N without a prefix");
		r = feed("  kvm:  qemu-system-x86-4128  [001] 100.000001: kvm_mmu_pagetable_walk: "
			 "addr 20000 pferr 14 U|F");
		ok(r == FTRACE_EVENT && rec[0].hdr.tid == 4128 && rec[0].hdr.cpu == 1 &&
		   ftrace_import_buffers(fi) == 2 &&
		   !strcmp(ftrace_import_buffer_name(fi, 1), "kvm") &&
		   ftrace_import_buffer_events(fi, 1) == 1, "\"  kvm: \" before the command: buffer kvm");
		r = feed("       CPU:1 [5 EVENTS DROPPED]");
		ok(r == FTRACE_EVENT && rec[0].lost.count == 5 &&
		   ftrace_import_lost_on(fi, 0, 1, &unc) == 5 &&
		   ftrace_import_lost_on(fi, 1, 1, &unc) == 0, "a blank prefix: the top buffer's drop");
		r = feed("  kvm: CPU:1 [EVENTS DROPPED]");
		ok(r == FTRACE_EVENT && ftrace_import_lost_on(fi, 1, 1, &unc) == 0 && unc == 1 &&
		   ftrace_import_lost_on(fi, 0, 1, &unc) == 5 && unc == 0,
		   "\"kvm: CPU:1 [EVENTS DROPPED]\": kvm's CPU 1, apart from the top buffer's");
		r = feed(" qemu-system-x86-4128  [001] 100.000002: kvm_mmu_pagetable_walk: addr 21000 "
			 "pferr 14 U|F");
		ok(r == FTRACE_EVENT && ftrace_import_buffer_events(fi, 1) == 2 &&
		   ftrace_import_buffer_events(fi, 0) == 0,
		   "the event after a drop marker, unprefixed, is the marker's buffer");
		r = feed(" qemu-system-x86-4128  [001] 100.000003: kvm_mmu_pagetable_walk: addr 22000 "
			 "pferr 14 U|F");
		ok(r == FTRACE_EVENT && ftrace_import_buffer_events(fi, 0) == 1,
		   "the line after that, unprefixed, is the top buffer's");
		r = feed("sched:      kworker/0:1-12    [000] 100.000004: sched_switch: prev_comm=a");
		ok(r == FTRACE_IGNORED && ftrace_import_buffers(fi) == 3 &&
		   !strcmp(ftrace_import_buffer_name(fi, 2), "sched"), "another buffer, other events");
		r = feed("   a: b-12    [000] 100.000005: kvm_mmu_walker_error: pferr 5 P|U");
		ok(r == FTRACE_EVENT && ftrace_import_buffers(fi) == 3,
		   "a command holding \": \" that is not 16 columns wide is no prefix");
		ftrace_import_describe_losses(fi, lossbuf, sizeof(lossbuf));
		ok(!strcmp(lossbuf, "CPU 1: 5, kvm CPU 1: 0 + unknown"), "losses described per buffer: %s",
		   lossbuf);
		ok(ftrace_import_stats(fi)->buffer_prefixed == 3, "prefixed lines counted: %llu",
		   (unsigned long long)ftrace_import_stats(fi)->buffer_prefixed);
		ftrace_import_buffer_hint(fi, "kvm");
		r = feed("CPU:0 [LOST 3 EVENTS]");
		ok(r == FTRACE_EVENT && ftrace_import_lost_on(fi, 1, 0, &unc) == 3,
		   "the caller's buffer (trace.dat) takes the drop");
		ok(ftrace_line_looks_like_trace("  kvm: CPU:1 [EVENTS DROPPED]") &&
		   ftrace_line_looks_like_trace("trace.dat: cpus=4"), "prefixed markers are ftrace text");
		ok(feed("CPU:1 [SUBBUFFER START] [1234:0x3000]") == FTRACE_IGNORED &&
		   ftrace_import_last_skip(fi) == FTRACE_SKIP_MARKER,
		   "report --debug's sub-buffer marker is a marker");
	}
	ok(feed(" => kvm_mmu_page_fault+0x2a/0x5c0") == FTRACE_IGNORED &&
	   ftrace_import_last_skip(fi) == FTRACE_SKIP_STACK, "stack line \" => func\"");
	ok(feed("  m-10 (   9) [000] .... 1.000001: <stack trace>") == FTRACE_IGNORED &&
	   ftrace_import_last_skip(fi) == FTRACE_SKIP_STACK, "stack header \"<stack trace>\"");
	ok(feed(" m-10 [000] 1.000001: kernel_stack:  <stack trace >") == FTRACE_IGNORED &&
	   ftrace_import_last_skip(fi) == FTRACE_SKIP_STACK, "trace-cmd's kernel_stack event");
	ok(feed("##### CPU 2 buffer started ####") == FTRACE_IGNORED &&
	   ftrace_import_last_skip(fi) == FTRACE_SKIP_MARKER && feed("CPU 0 is empty") ==
	   FTRACE_IGNORED && ftrace_import_last_skip(fi) == FTRACE_SKIP_MARKER, "buffer markers");
	ok(feed("cpus=4") == FTRACE_IGNORED && ftrace_import_last_skip(fi) == FTRACE_SKIP_HEADER &&
	   feed("#   TASK-PID") == FTRACE_IGNORED && ftrace_import_last_skip(fi) == FTRACE_SKIP_COMMENT &&
	   feed("   ") == FTRACE_IGNORED && ftrace_import_last_skip(fi) == FTRACE_SKIP_BLANK,
	   "headers, comments, blank lines");
	ok(feed(" m-10 [000] 1.000003: kvm_exit: reason UNKNOWN (77) rip 0x1 info 0 0") ==
	   FTRACE_IGNORED && ftrace_import_last_skip(fi) == FTRACE_SKIP_OTHER_EXIT &&
	   feed(" m-10 [000] 1.000003: kvm_entry: vcpu 0") == FTRACE_IGNORED &&
	   ftrace_import_last_skip(fi) == FTRACE_SKIP_OTHER_EVENT, "other exits and events");
	ok(ftrace_import_stats(fi)->skipped[FTRACE_SKIP_STACK] == 3 &&
	   ftrace_import_stats(fi)->skipped[FTRACE_SKIP_MARKER] == 3, "skips counted by kind");
	r = feed("  m-10 (99999999999) [000] .... 1.000001: kvm_mmu_walker_error: pferr 5 P|U");
	ok(r == FTRACE_BAD && strstr(ftrace_import_error(fi), "TGID column is out of range"),
	   "TGID over 32 bits: %s", ftrace_import_error(fi));
	r = feed("  m-10 (-------) [000] .... 1.000001: kvm_mmu_walker_error: pferr 5 P|U");
	ok(r == FTRACE_EVENT && rec[0].hdr.pid == 0, "TGID (-------) is unknown: 0");
	r = feed("  m-10 [70000] 1.000001: kvm_mmu_walker_error: pferr 5 P|U");
	ok(r == FTRACE_BAD && strstr(ftrace_import_error(fi), "CPU column"), "CPU 70000: %s",
	   ftrace_import_error(fi));
	ok(ftrace_line_looks_like_trace("cpus=2") && ftrace_line_looks_like_trace("CPU:1 [EVENTS DROPPED]") &&
	   !ftrace_line_looks_like_trace(" => func") && !ftrace_line_looks_like_trace("# x"),
	   "detection: headers and drop markers are ftrace, stack tails and comments say nothing");
	ftrace_import_free(fi);

	/* ---- whether a text is ftrace text does not depend on where an odd line sits ---- */
	{
		static const char first[] = "not a trace line\n"
			" m-10 [000] 1.000001: kvm_mmu_walker_error: pferr 5 P|U\n";
		static const char only[] = "not a trace line\nnor this\n";
		struct trace_source *s;
		const struct mbec_event_hdr *h;
		char err[300];
		int n = 0;

		ok(!trace_source_open_mem(&s, first, strlen(first), NULL, err, sizeof(err)),
		   "an odd first line: still ftrace text");
		while (trace_source_next(s, &h) > 0)
			n++;
		ok(n == 1 && trace_source_damaged(s) &&
		   strstr(trace_source_problem(s), "line 1: not an ftrace line"),
		   "... and damaged, with the line named: %s", trace_source_problem(s));
		trace_source_free(s);
		ok(trace_source_open_mem(&s, only, strlen(only), NULL, err, sizeof(err)) &&
		   strstr(err, "neither a recording nor ftrace text"), "no ftrace line at all: %s", err);
	}

	/*
	 * ---- the engine does not compare a derived error code with the
	 * exit qualification it was derived from, but does a traced one ----
	 */
	{
		struct mbec_check_opts o = { .layout = MBEC_LAYOUT_CLASSIC, .spte_ept = true };
		struct mbec_ev_exit x = { .hdr = { .type = MBEC_EV_EXIT, .size = sizeof(x),
						   .tid = 5, .ts_ns = 1 } };
		struct mbec_ev_spte_requested q = { .hdr = { .type = MBEC_EV_SPTE_REQUESTED,
							     .size = sizeof(q), .tid = 5,
							     .ts_ns = 2 } };
		unsigned int derived;

		x.reason = 48;
		x.isa = 1;
		x.flags = MBEC_EXIT_HAS_REASON | MBEC_EXIT_HAS_INFO | MBEC_EXIT_VMX |
			  MBEC_EXIT_INFO1_FRESH;
		x.info1 = 0x181;
		q.gfn = 1;
		q.error_code = 0x2;	/* not what 0x181 gives */
		for (derived = 0; derived < 2; derived++) {
			struct mbec_check *e = mbec_check_new(&o);

			q.flags = derived ? MBEC_FAULT_DERIVED : 0;
			mbec_check_feed(e, &x, sizeof(x));
			mbec_check_feed(e, &q, sizeof(q));
			mbec_check_finish(e);
			ok(mbec_check_summary(e)->anomalies[MBEC_AN_EXIT_QUAL] == !derived &&
			   mbec_check_summary(e)->exits_checked == 1,
			   derived ? "a derived error code is not judged against its own source" :
				     "a traced error code that differs is an exit-qual anomaly");
			mbec_check_free(e);
		}
	}

	/* ---- the source: a line longer than the limit ---- */
	{
		size_t len = 3 * FTRACE_LINE_MAX;
		char *text = malloc(len + 200);
		struct trace_source *s;
		const struct mbec_event_hdr *h;
		char err[300];
		int n = 0;

		memset(text, 'a', len);
		snprintf(text + len, 200, "\n m-10 [000] 1.000001: kvm_mmu_walker_error: pferr 5 P|U\n");
		ok(!trace_source_open_mem(&s, text, strlen(text), NULL, err, sizeof(err)),
		   "a text with an over-long line opens");
		while (trace_source_next(s, &h) > 0)
			n++;
		ok(n == 1 && trace_source_damaged(s) &&
		   strstr(trace_source_problem(s), "line 1: line longer than 4096 bytes"),
		   "the long line is skipped and named: %s", trace_source_problem(s));
		trace_source_free(s);
		free(text);
	}
	return done_testing();
}
