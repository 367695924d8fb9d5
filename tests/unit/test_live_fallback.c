// SPDX-License-Identifier: GPL-2.0
/*
 * How each tracepoint was attached, and why not the preferred way: the
 * verifier's one-line reason taken from its log, the line the summary and
 * mbectop's header print, and (root, BTF, KVM) a live load where the
 * tp_btf programs of two tracepoints are made to fail the verifier: those
 * two, and only those, go to raw_tp with the verifier's reason.
 */
#include <string.h>
#include <unistd.h>

#include "live/live.h"
#include "tap.h"

static void test_reason(void)
{
	char out[160];

	mbec_live_verifier_reason("reg type unsupported for arg#0 function mbecs_exit#42\n"
				  "0: R1=ctx() R10=fp0\n"
				  "; struct kvm_vcpu *vcpu = (void *)args[0];\n"
				  "0: (79) r8 = *(u64 *)(r1 +0)\n"
				  "1: (61) r2 = *(u32 *)(r8 +36)\n"
				  "R8 invalid mem access 'trusted_ptr_or_null_'\n"
				  "processed 2 insns (limit 1000000) max_states_per_insn 0\n"
				  "verification time 18 usec\n", out, sizeof(out));
	ok(!strcmp(out, "R8 invalid mem access 'trusted_ptr_or_null_'"),
	   "the verifier's reason is the line before its statistics ('%s')", out);

	mbec_live_verifier_reason("0: (b7) r0 = 0\ninvalid bpf_context access off=504 size=8\n",
				  out, sizeof(out));
	ok(!strcmp(out, "invalid bpf_context access off=504 size=8"),
	   "without statistics, the last line ('%s')", out);

	mbec_live_verifier_reason("", out, sizeof(out));
	ok(out[0] == 0, "an empty log gives no reason");

	mbec_live_verifier_reason("R8 invalid mem access 'trusted_ptr_or_null_' and more words\n",
				  out, 16);
	ok(strlen(out) == 15, "a long reason is cut to the room given");
}

static void test_line(void)
{
	struct mbec_live_attach at[MBEC_LIVE_NR_TP];
	char buf[256];
	int i;

	memset(at, 0, sizeof(at));
	for (i = 0; i < MBEC_LIVE_NR_TP; i++) {
		at[i].tracepoint = "tp";
		at[i].how = "tp_btf";
	}
	ok(!strcmp(mbec_live_attach_line(at, buf, sizeof(buf)), "12 tp_btf"),
	   "all tp_btf: '%s'", buf);
	ok(mbec_live_attach_preferred(&at[0]), "tp_btf is the preferred way");

	at[6].tracepoint = "kvm_exit";
	at[6].how = "raw_tp";
	snprintf(at[6].note, sizeof(at[6].note),
		 "tp_btf refused by the verifier: R8 invalid mem access 'trusted_ptr_or_null_'");
	at[9].tracepoint = "kvm_tdp_mmu_spte_changed";
	at[9].how = "no";
	snprintf(at[9].note, sizeof(at[9].note), "no such tracepoint in this kernel");
	mbec_live_attach_line(at, buf, sizeof(buf));
	ok(!strcmp(buf, "10 tp_btf, 1 raw_tp, 1 not attached; kvm_exit raw_tp: tp_btf refused by "
		   "the verifier: R8 invalid mem access 'trusted_ptr_or_null_'; "
		   "kvm_tdp_mmu_spte_changed not attached: no such tracepoint in this kernel"),
	   "each tracepoint not on tp_btf is named with why ('%s')", buf);
	ok(!mbec_live_attach_preferred(&at[6]) && !mbec_live_attach_preferred(&at[9]),
	   "raw_tp and not attached are not the preferred way");
	mbec_live_attach_line(at, buf, 20);
	ok(strlen(buf) == 19, "the line is cut to the room given");
}

static int no_events(void *ctx, const void *rec, size_t len)
{
	(void)ctx;
	(void)rec;
	(void)len;
	return 0;
}

/* Indexes into the attach state (src/live's table order). */
#define TP_SPTE_REQUESTED	3
#define TP_EXIT			6

static void test_live(void)
{
	struct mbec_live_opts lo = { .on_event = no_events, .pid = getpid() };
	const struct mbec_live_attach *at;
	struct mbec_live *l;
	char err[320], line[256];
	int i, n_btf = 0, n_attached = 0;
	bool others_btf = true;

	if (geteuid() != 0 || access("/sys/kernel/btf/vmlinux", R_OK) ||
	    access("/sys/module/kvm", F_OK)) {
		skip("needs root, BTF and KVM", "live: tp_btf refused falls back per tracepoint");
		skip("needs root, BTF and KVM", "live: every tracepoint on tp_btf otherwise");
		return;
	}
	lo.test_refuse_btf = (1U << TP_EXIT) | (1U << TP_SPTE_REQUESTED);
	if (mbec_live_open(&l, &lo, err, sizeof(err))) {
		ok(0, "live open with two tp_btf programs refused: %s", err);
		return;
	}
	at = mbec_live_attach_state(l);
	for (i = 0; i < MBEC_LIVE_NR_TP; i++) {
		diag("%s: %s %s", at[i].tracepoint, at[i].how, at[i].note);
		if (i == TP_EXIT || i == TP_SPTE_REQUESTED || !strcmp(at[i].how, "no"))
			continue;
		others_btf &= !strcmp(at[i].how, "tp_btf");
	}
	ok(!strcmp(at[TP_EXIT].how, "raw_tp") && !strcmp(at[TP_SPTE_REQUESTED].how, "raw_tp"),
	   "the two refused tracepoints are attached with raw_tp");
	ok(!strncmp(at[TP_EXIT].note, "tp_btf refused by the verifier: ", 32) &&
	   strlen(at[TP_EXIT].note) > 32 && !strstr(at[TP_EXIT].note, "processed"),
	   "with the verifier's reason: '%s'", at[TP_EXIT].note);
	ok(others_btf, "every other tracepoint stays on tp_btf");
	mbec_live_attach_line(at, line, sizeof(line));
	ok(strstr(line, "2 raw_tp") && strstr(line, "kvm_exit raw_tp: tp_btf refused"),
	   "the attach line says so: '%s'", line);
	mbec_live_close(l);

	lo.test_refuse_btf = 0;
	if (mbec_live_open(&l, &lo, err, sizeof(err))) {
		ok(0, "live open: %s", err);
		return;
	}
	at = mbec_live_attach_state(l);
	for (i = 0; i < MBEC_LIVE_NR_TP; i++) {
		if (strcmp(at[i].how, "no"))
			n_attached++;
		n_btf += !strcmp(at[i].how, "tp_btf");
	}
	ok(n_attached >= 5 && n_btf == n_attached,
	   "every attached tracepoint is on tp_btf (%d of %d)", n_btf, n_attached);
	mbec_live_close(l);
}

int main(void)
{
	test_reason();
	test_line();
	test_live();
	return done_testing();
}
