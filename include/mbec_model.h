/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The reference permission model (src/model), in two layers that never
 * call each other:
 *
 *  1. the architectural oracle (mbec_arch_*, src/model/arch.c), written
 *     from the SDM/APM: a walk plus an access give an outcome with its
 *     error code, #NPF EXITINFO1 or EPT exit qualification;
 *  2. the KVM mapping model (mbec_kvm_*, src/model/kvm*.c), computed the way
 *     KVM computes: ACC composed from the walk, a permission bitmask per
 *     mode indexed by error code and ACC, the SPTE bits KVM may install for
 *     an ACC, exit qualification -> error code, nested exit-qualification
 *     synthesis.
 *
 * Their agreement on every input is what tests/unit/test_model*.c proves;
 * it only means something because neither layer uses the other.
 *
 * Pure C, no dependencies beyond libc; user space only.  All functions are
 * pure (no global state) and thread-safe.
 *
 * Conventions shared by both layers:
 *  - walks are given top-down: entries[0] is the entry at level
 *    mode->levels, entries[1] the next level down, and so on.  The walk
 *    stops at the first entry that is not present, at a large-page entry
 *    (PS=1 at level 2 or 3; EPT bit 7 likewise), or at level 1.  Entries
 *    after the stopping point are ignored; too few entries is -EINVAL.
 *  - "level" is 1 for a 4K leaf, 2 for a 2M/4M leaf, 3 for a 1G leaf.
 *  - MAXPHYADDR is taken as 52: only the reserved bits that depend on the
 *    paging mode (NX without EFER.NXE, PS where it is reserved, EPT
 *    memory type and RWX combinations) are modelled.  A/D updates are not
 *    modelled (the walk never writes).
 *  - protection keys, shadow stacks, SGX, SPP and VGP are not modelled.
 */
#ifndef MBEC_MODEL_H
#define MBEC_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "mbec_kvm.h"

enum mbec_mmu {
	MBEC_MMU_LEGACY,	/* x86 paging of a guest (2/3/4/5-level) */
	MBEC_MMU_EPT,		/* Intel EPT (4 or 5 levels) */
	MBEC_MMU_NPT,		/* AMD nested paging (4 or 5 levels) */
	MBEC_MMU_NR,
};

enum mbec_op {
	MBEC_OP_READ,
	MBEC_OP_WRITE,
	MBEC_OP_FETCH,
	MBEC_OP_NR,
};

/*
 * The paging mode a walk happens in.  Which fields matter depends on mmu:
 *
 *  LEGACY: levels 2 (32-bit paging, CR4.PSE assumed 1, entries are 32
 *	    bits), 3 (PAE; the level-3 entry is a PDPTE: only P counts and its
 *	    bits 1, 2 and 63 must be clear, else -EINVAL because hardware
 *	    refuses it at MOV CR3 with #GP, not at the access), 4 or 5.
 *	    cr0_wp, cr4_smep, cr4_smap, eflags_ac, efer_nx.
 *  EPT:    levels 4 or 5.  mbec (the VM-execution control), execonly
 *	    (IA32_VMX_EPT_VPID_CAP bit 0), advanced_info (bits 9-11 of the
 *	    exit qualification are reported).  The CR/EFLAGS fields are
 *	    ignored (EPT does not look at them).
 *  NPT:    levels 4 or 5.  gmet; efer_nx is the *host's* EFER.NXE (the
 *	    nested page table is in the host's format: NX is reserved
 *	    without it); cr4_smep only makes #NPF report ID on fetches the
 *	    way #PF does (?).  Other fields ignored.
 *
 * For the KVM flavours (layer 2) the same struct describes the vCPU state
 * that the MMU serves: the guest's registers for shadow legacy paging,
 * L1's registers and vmcb12/vmcs12 controls for shadow NPT/EPT.
 */
struct mbec_mode {
	enum mbec_mmu mmu;
	int levels;
	bool cr0_wp, cr4_smep, cr4_smap, eflags_ac, efer_nx;
	bool mbec;		/* EPT: mode-based execute control */
	bool execonly;		/* EPT: execute-only entries supported */
	bool advanced_info;	/* EPT: advanced EPT-violation info (bits 9-11) */
	bool gmet;		/* NPT: guest mode execute trap */
};

/*
 * One memory access.
 *
 *  user:	LEGACY: CPL 3.  NPT: CPL 3 of the guest (only matters with
 *		GMET).  EPT: the guest-linear address is a user-mode address
 *		(U=1 in every guest paging-structure entry): it selects XU
 *		over XS for fetches under MBEC and is reported in bit 9.
 *  implicit:	LEGACY: an implicit supervisor-mode access (GDT, IDT, TSS...
 *		even at CPL 3): always supervisor, SMAP applies regardless of
 *		EFLAGS.AC.  Not allowed with FETCH (-EINVAL).
 *  paging_structure: EPT/NPT: the access is to a guest paging-structure
 *		entry rather than to the final translated address (EPT
 *		exit-qualification bit 8 clear, NPF EXITINFO1 bit 33 instead
 *		of 32).  With WRITE it stands for an A/D update (or any
 *		paging-structure access with EPT A/D on, which the SDM treats
 *		as a write): the EPT exit qualification then reports both
 *		read and write.  Not allowed with FETCH.  Ignored for LEGACY.
 *  no_linear:	EPT: the access has no guest-linear address (bit 7 clear).
 *		Not allowed with FETCH or paging_structure.
 *  gva_writable, gva_nx: EPT: what the guest paging entries said, for the
 *		advanced-information bits 10 and 11.
 */
struct mbec_access {
	enum mbec_op op;
	bool user;
	bool implicit;
	bool paging_structure;
	bool no_linear;
	bool gva_writable, gva_nx;
};

enum mbec_result {
	MBEC_RES_OK,
	MBEC_RES_PAGE_FAULT,	/* legacy #PF, error_code valid */
	MBEC_RES_NPF,		/* #NPF, error_code is EXITINFO1 */
	MBEC_RES_EPT_VIOLATION,	/* exit_qual valid */
	MBEC_RES_EPT_MISCONFIG,	/* no qualification (the exit has none) */
};

struct mbec_outcome {
	enum mbec_result result;
	uint64_t error_code;	/* #PF error code or #NPF EXITINFO1 */
	uint64_t exit_qual;	/* EPT violation qualification */
	/*
	 * Bits of exit_qual whose value the architecture leaves undefined
	 * here (bit 6 without MBEC; 9-11 without advanced info or when the
	 * access is not to a translated linear address).  The model reports
	 * them as 0; comparisons must mask them out.
	 */
	uint64_t undefined_mask;
	int level;		/* level of the deciding entry, 1 = 4K leaf */
	int used;		/* entries consumed by the walk */
	/*
	 * The permissions the walk got to, AND-composed over the entries
	 * consumed, in the entry's own bit positions: legacy/NPT P, RW, US
	 * and NX (NX is OR-composed: set if any entry had it); EPT R, W, X
	 * and XU.  Useful to explain an outcome.
	 */
	uint64_t prot;
};

/* ---------------------------------------------------------------------- */
/* Layer 1: the architectural oracle (src/model/arch.c)                   */
/* ---------------------------------------------------------------------- */

/*
 * Walk @n entries (top-down, see above) for @acc in @mode.  Returns 0 and
 * fills @out, or -EINVAL for an impossible input (bad levels, FETCH with
 * implicit, paging_structure or no_linear, too few entries, 32-bit paging with an
 * entry above bit 31, bad PAE PDPTE).
 *
 * Legacy #PF error code: P (0 for not present), W, U (CPL 3 and not
 * implicit), RSVD, I/D (fetch with CR4.SMEP or, in PAE/4/5-level paging,
 * EFER.NXE).
 * #NPF EXITINFO1: P, RW, US (always 1 without GMET: every nested access is
 * a user access; CPL 3 with GMET, and 1 for paging-structure accesses),
 * RSV, ID (fetch with host EFER.NXE, CR4.SMEP or GMET), bit 32 for a final
 * access, bit 33 for a paging-structure access.
 * EPT exit qualification: bits 0-2 from the access, 3-5 the AND of R, W, X
 * (XS) over the entries, 0 if one was not present, 6 the AND of XU with
 * MBEC, 7-8 from the access, 9-11 with advanced info for a translated
 * linear address.
 */
int mbec_arch_walk(const struct mbec_mode *mode, const uint64_t *entries, int n,
		   const struct mbec_access *acc, struct mbec_outcome *out);

/*
 * How many of the @n entries a walk in @mode reads before it ends, 1 to @n,
 * or @n + 1 when it goes on past them.  A walk ends at a not-present entry,
 * at a leaf, and at an entry with reserved bits or an EPT misconfiguration
 * (at any level, leaf or not); none of these depends on the access.
 * Returns -EINVAL for the impossible inputs mbec_arch_walk refuses.
 */
int mbec_arch_walk_length(const struct mbec_mode *mode, const uint64_t *entries, int n);

/* True when the outcome is any kind of fault or exit. */
static inline bool mbec_outcome_faults(const struct mbec_outcome *o)
{
	return o->result != MBEC_RES_OK;
}

/*
 * The architectural permission table for KVM's permission bitmask, for the
 * kernel KUnit generator: out[i] bit a = 1 when an access described by
 * error-code index i faults on a page whose permissions are the ACC value
 * a, in the 4-bit mbec layout (READ 1, WRITE 2, USER/USER_EXEC 4, EXEC 8).
 *
 * Index i is error-code bits [4:1]: bit 0 W, bit 1 U, bit 2 RSVD (KVM's
 * "SMAP does not apply" override), bit 3 F.  The access run is: FETCH if F,
 * else WRITE if W, else READ; user = U; for LEGACY eflags_ac = RSVD and
 * implicit = 0 (so RSVD=0 means SMAP applies to supervisor data accesses);
 * for EPT user means a user-mode linear address, the access is final and
 * has a linear address.  mode->eflags_ac is ignored.
 *
 * The ACC value becomes one synthetic leaf entry at level 1 below
 * non-leaf entries that grant everything (legacy/NPT P|RW|US, EPT
 * R|W|X|XU):
 *	LEGACY/NPT:	READ -> P, WRITE -> RW, USER -> US, EXEC clear -> NX
 *			(NX stays 0 without EFER.NXE, where it is reserved)
 *	EPT:		READ -> R, WRITE -> W, EXEC -> X (XS), USER_EXEC -> XU
 * and the layer-1 walk decides.
 *
 * @care (may be NULL) gets, per index, the ACC values for which out[] is
 * meaningful: 0 for indices with both W and F (no such access); for
 * LEGACY/NPT ACC values without READ (no present entry expresses them);
 * for EPT ACC values whose entry is a misconfiguration (W without R, or
 * execute-only without execonly); for NPT without GMET indices with U=0
 * (hardware reports every nested access as user).  Returns 0 or -EINVAL.
 */
int mbec_arch_perm_table(const struct mbec_mode *mode, uint16_t out[16], uint16_t care[16]);

/* ---------------------------------------------------------------------- */
/* Layer 2: the KVM mapping model (src/model/kvm*.c)                      */
/* ---------------------------------------------------------------------- */

/*
 * Which MMU KVM runs, i.e. whose entries it walks in software and what
 * format its SPTEs have.  MBEC/GMET on or off comes from mode->mbec and
 * mode->gmet; the layout from enum mbec_layout (classic: no MBEC, no GMET).
 *
 *  SHADOW_LEGACY: shadow paging of a legacy guest (tdp off; this machine).
 *		mode = the guest's registers.  SPTEs are legacy entries.
 *  SHADOW_NPT:	L1's NPT shadowed for L2 (nested SVM).  mode = L1's EFER and
 *		CR4, vmcb12's GMET.  SPTEs are NPT entries.
 *  SHADOW_EPT:	L1's EPT shadowed for L2 (nested VMX).  mode = vmcs12's
 *		MBEC, execonly and advanced info offered to L1.  SPTEs are EPT.
 *  TDP_EPT:	KVM's own EPT (no guest EPT to walk; ACC comes from the
 *		root role and memslot).  mode->mbec = kvm_intel.mbec in effect.
 *  TDP_NPT:	KVM's own NPT.  mode->gmet = kvm_amd.gmet in effect.
 */
enum mbec_flavour {
	MBEC_FL_SHADOW_LEGACY,
	MBEC_FL_SHADOW_NPT,
	MBEC_FL_SHADOW_EPT,
	MBEC_FL_TDP_EPT,
	MBEC_FL_TDP_NPT,
	MBEC_FL_NR,
};

/* "shadow-legacy", "shadow-npt", "shadow-ept", "tdp-ept", "tdp-npt". */
const char *mbec_flavour_name(enum mbec_flavour fl);
/* Parse a name as above; -1 if unknown. */
int mbec_flavour_parse(const char *name);
/* "legacy", "ept", "npt". */
const char *mbec_mmu_name(enum mbec_mmu mmu);
/* The architectural format of the flavour's guest entries / SPTEs. */
enum mbec_mmu mbec_flavour_guest_mmu(enum mbec_flavour fl);	/* TDP: the SPTE's */
enum mbec_mmu mbec_flavour_spte_mmu(enum mbec_flavour fl);
static inline bool mbec_flavour_is_tdp(enum mbec_flavour fl)
{
	return fl == MBEC_FL_TDP_EPT || fl == MBEC_FL_TDP_NPT;
}

/*
 * Whether KVM of @layout can run @fl with @mode at all: classic has no
 * MBEC and no GMET and offers L1 no advanced EPT-violation info; KVM
 * forces MBEC off without advanced EPT-violation information; EPT
 * flavours need mmu EPT, NPT ones NPT, shadow legacy LEGACY.  Layer 2
 * answers are only claimed for supported combinations.
 */
bool mbec_kvm_supported(enum mbec_layout layout, enum mbec_flavour fl,
			const struct mbec_mode *mode);

/* ACC_ALL of the layout: 0x7 classic, 0xf mbec. */
unsigned int mbec_kvm_acc_all(enum mbec_layout layout);
/* Number of distinct ACC values: 8 classic, 16 mbec. */
static inline unsigned int mbec_kvm_acc_count(enum mbec_layout layout)
{
	return mbec_kvm_acc_all(layout) + 1;
}

/*
 * The ACC bits one guest entry grants, as KVM's gpte_access computes them
 * (mode is not consulted: KVM composes the raw bits and leaves NX-without-
 * NXE to the reserved-bit check):
 *	legacy/NPT, classic:	RW -> WRITE, US -> USER, !NX -> EXEC
 *	legacy/NPT, mbec:	as classic plus P -> READ
 *	EPT, classic:		R -> USER, W -> WRITE, X -> EXEC
 *	EPT, mbec:		R -> READ, W -> WRITE, XS -> EXEC, XU -> USER_EXEC
 */
unsigned int mbec_kvm_gpte_access(enum mbec_layout layout, enum mbec_flavour fl, uint64_t gpte);

/*
 * The ACC value of a walk: the root role's access (ACC_ALL, or for TDP
 * NPT with GMET everything but USER) ANDed with every entry's
 * gpte_access.  @n entries top-down; the composition stops where the walk
 * stops (not-present, large page, level 1).  For TDP flavours @gptes is
 * ignored and the root access is returned.
 */
unsigned int mbec_kvm_compose_acc(enum mbec_layout layout, enum mbec_flavour fl,
				  const struct mbec_mode *mode, const uint64_t *gptes, int n);

/*
 * The ACC KVM asks for when it installs the SPTE for a fault with error
 * code @pfec on a page the guest walk allows @acc: normally @acc itself;
 * for shadow legacy with CR0.WP=0 and a supervisor write to a read-only
 * page, WRITE is added and USER removed (the page becomes a kernel page so
 * that hardware, which always runs with CR0.WP=1, lets the write through),
 * and with CR4.SMEP EXEC is removed as well (a former user page must not
 * become executable by the kernel).
 */
unsigned int mbec_kvm_fault_acc(enum mbec_layout layout, enum mbec_flavour fl,
				const struct mbec_mode *mode, unsigned int acc, uint64_t pfec);

/*
 * The permission bits (and only those: no PFN, no software bits) of the
 * leaf SPTE KVM may install for @acc: the most it may grant.  KVM may
 * grant less (write-protection, access tracking), never more.
 *	legacy/NPT SPTE: P (classic always, mbec if READ); RW if WRITE; US
 *			if USER; NX if not EXEC (KVM may always use NX).
 *	EPT, classic:	R if USER, W if WRITE, X if EXEC; R also when
 *			!mode->execonly (KVM's present mask is then R).
 *	EPT, mbec:	R if READ, W if WRITE, XS if EXEC, XU if USER_EXEC;
 *			TDP EPT ties XU to XS (both follow EXEC); without MBEC
 *			XU is not honoured by hardware.
 */
uint64_t mbec_kvm_acc_to_spte(enum mbec_layout layout, enum mbec_flavour fl,
			      const struct mbec_mode *mode, unsigned int acc);

/*
 * The ACC value an installed leaf SPTE grants (inverse of acc_to_spte):
 *	legacy/NPT: classic WRITE/USER/EXEC from RW/US/!NX (and nothing if P
 *	is clear); mbec adds READ from P.
 *	EPT classic: R -> USER, W -> WRITE, X -> EXEC; mbec: R -> READ,
 *	W -> WRITE, XS -> EXEC, XU -> USER_EXEC.
 */
unsigned int mbec_kvm_spte_to_acc(enum mbec_layout layout, enum mbec_flavour fl, uint64_t spte);

/*
 * The ACC bits hardware honours in @fl/@mode (USER_EXEC on EPT only with
 * MBEC; READ on legacy/NPT is presence).  Escalation tests should AND with
 * this.
 */
unsigned int mbec_kvm_acc_honoured(enum mbec_layout layout, enum mbec_flavour fl,
				   const struct mbec_mode *mode);

/*
 * ACC bits @spte grants beyond @allowed (0 = no escalation), restricted to
 * what hardware honours.
 */
unsigned int mbec_kvm_acc_escalation(enum mbec_layout layout, enum mbec_flavour fl,
				     const struct mbec_mode *mode, unsigned int allowed,
				     uint64_t spte);

/*
 * KVM's mmu->permissions[16] for @fl in @mode, computed as
 * update_permission_bitmask does: index = error code bits [4:1] (W, U,
 * RSVD = "SMAP does not apply", F), bit a set = ACC value a faults.
 * Classic uses bits 0-7 only.
 *	reads (mbec): fault without READ;
 *	writes: without WRITE (legacy: unless CR0.WP=0 and supervisor);
 *	user (legacy; NPT without GMET, where every access has U): a user
 *	access faults without USER;
 *	fetch: without EXEC when NX is on (legacy/NPT) / always (EPT); EPT
 *	with MBEC and U: without USER_EXEC instead;
 *	SMEP (legacy CR4.SMEP; NPT GMET): supervisor fetch of a USER page;
 *	SMAP (legacy): supervisor data access to a USER page unless RSVD.
 *	EPT classic: U means "read" and faults without USER (R).
 * Shadow NPT with mbec forces CR0.WP=1, SMAP=0 and SMEP=GMET.
 */
void mbec_kvm_permission_bitmask(enum mbec_layout layout, enum mbec_flavour fl,
				 const struct mbec_mode *mode, uint16_t permissions[16]);

/*
 * The bitmask index for @pfec as KVM's permission_fault() forms it: bits
 * [4:1], with RSVD set when SMAP must not apply: EFLAGS.AC set and the
 * access not implicit (PFERR_IMPLICIT_ACCESS, bit 48).
 */
unsigned int mbec_kvm_pfec_index(uint64_t pfec, bool eflags_ac);

/* Whether the bitmask says @pfec on a page with @acc faults. */
bool mbec_kvm_permission_fault(const uint16_t permissions[16], uint64_t pfec, bool eflags_ac,
			       unsigned int acc);

/*
 * The error code KVM converts an EPT exit qualification to (spec 2):
 *	classic: ACC_READ -> USER, ACC_WRITE -> WRITE, ACC_INSTR -> FETCH,
 *		 PRESENT if any of 3-5;
 *	mbec:	 no USER for reads; PRESENT if any of 3-5 or (with @mbec) 6;
 *		 USER (with @mbec: bit 9 is only defined where the CPU
 *		 has the advanced information MBEC needs) when 7, 8 and 9
 *		 are all set;
 *	both:	 with GVA_IS_VALID, GUEST_FINAL if GVA_TRANSLATED else
 *		 GUEST_PAGE.
 */
uint64_t mbec_kvm_exit_qual_to_pfec(enum mbec_layout layout, bool mbec, uint64_t qual);

/*
 * The role flags KVM gives the shadow pages of @fl in @mode (spec 4):
 * meaningful per layout: classic has smep_andnot_wp, mbec has cr4_smep
 * (CR4.SMEP for shadow legacy, MBEC for EPT roots, GMET for NPT roots).
 * Fields that KVM leaves 0 are 0.  access is the root role's ACC (a
 * shadow page below the root has the walk's pt_access instead).
 *	shadow legacy:	efer_nx forced 1, cr0_wp = CR0.WP, *_andnot_wp =
 *			CR4 bit && !WP (mbec: cr4_smep = CR4.SMEP);
 *	shadow NPT:	classic from L1's EFER/CR4 with CR0 = PG only
 *			(cr0_wp 0); mbec cr0_wp 1, no SMAP, cr4_smep = GMET (?);
 *	shadow EPT:	guest_mode only (mbec: cr4_smep = nested MBEC) (?);
 *	TDP:		direct, cr0_wp 1, efer_nx 1 (mbec: cr4_smep = MBEC/GMET).
 */
struct mbec_role_flags {
	bool direct;
	bool guest_mode;
	bool efer_nx;
	bool cr0_wp;
	bool smep_andnot_wp;	/* classic only */
	bool cr4_smep;		/* mbec only */
	bool smap_andnot_wp;
	unsigned int access;
};
void mbec_kvm_role_flags(enum mbec_layout layout, enum mbec_flavour fl,
			 const struct mbec_mode *mode, struct mbec_role_flags *out);

/*
 * KVM's software walk of guest entries (FNAME(walk_addr_generic)): per
 * level presence and reserved bits (EPT: KVM's bad memtype/XWR table),
 * ACC composition, then the permission bitmask.  Not for TDP flavours
 * (nothing to walk: -EINVAL).
 *
 * Input: @fault describes the fault KVM walks for:
 *	SHADOW_LEGACY: error_code = the #PF error code, with
 *		PFERR_IMPLICIT_ACCESS for implicit accesses;
 *	SHADOW_NPT: error_code = vmcb02's EXITINFO1;
 *	SHADOW_EPT: exit_qual = vmcs02's exit qualification (the error code is
 *		derived from it) and hw_violation (false for a fault KVM
 *		synthesizes while emulating).
 * Output: fault, misconfig (reserved bits: #PF RSVD, NPF RSV, EPT
 * misconfiguration), acc (composed up to where the walk stopped),
 * error_code (what KVM's walker reports: for shadow legacy the #PF error
 * code injected, for shadow NPT the EXITINFO1 injected into L1), exit_qual
 * (SHADOW_EPT: the qualification injected into L1), level, used.
 */
struct mbec_kvm_fault {
	uint64_t error_code;
	uint64_t exit_qual;
	bool hw_violation;
};

struct mbec_kvm_walk_out {
	bool fault;
	bool misconfig;
	unsigned int acc;
	uint64_t error_code;
	uint64_t exit_qual;
	int level;
	int used;
};

int mbec_kvm_walk(enum mbec_layout layout, enum mbec_flavour fl, const struct mbec_mode *mode,
		  const uint64_t *gptes, int n, const struct mbec_kvm_fault *fault,
		  struct mbec_kvm_walk_out *out);

/*
 * The fault description hardware gives KVM for @acc (what the caller of
 * mbec_kvm_walk needs): the #PF error code (plus PFERR_IMPLICIT_ACCESS),
 * vmcb02's EXITINFO1 access bits, or vmcs02's exit qualification access
 * and linear-address bits (0-2, 7-11; hardware of the host always has
 * advanced info when KVM uses MBEC).  Only the parts that depend on the
 * access, never on the entries.
 */
void mbec_kvm_fault_for_access(enum mbec_layout layout, enum mbec_flavour fl,
			       const struct mbec_mode *mode, const struct mbec_access *acc,
			       struct mbec_kvm_fault *fault);

/*
 * The exit qualification KVM injects into L1 for an EPT violation found
 * while walking L1's EPT for an L2 access (spec 2, "Nested EPT
 * violations"):
 *	bits 2:0 from the access (paging-structure: read, or read+write for
 *	a write); 5:3 from @l1_prot (R, W, X of L1's EPT ANDed over the walk,
 *	in EPT entry positions), 6 from its XU when nested MBEC;
 *	hw_violation: bits 7-8 copied from @vmcs02_qual, and (mbec layout,
 *	advanced info offered) 9-11;
 *	synthesized: GVA_IS_VALID always, GVA_TRANSLATED for a final access.
 */
struct mbec_nested_ept_in {
	enum mbec_op op;
	bool paging_structure;
	uint64_t l1_prot;	/* EPTE_R | EPTE_W | EPTE_X | EPTE_XU, ANDed */
	bool hw_violation;
	uint64_t vmcs02_qual;
	bool nested_mbec;
	bool nested_advanced_info;
};
uint64_t mbec_kvm_nested_ept_qual(enum mbec_layout layout, const struct mbec_nested_ept_in *in);

#endif /* MBEC_MODEL_H */
