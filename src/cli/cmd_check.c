// SPDX-License-Identifier: GPL-2.0
/*
 * mbecscope check: attach to KVM's MMU tracepoints, feed every record to
 * the check engine (src/correlate + src/check), print a summary.  With
 * --workload the built-in guest runs in a child process that waits until
 * the BPF programs are attached and filtered on its pid.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check/check.h"
#include "cli/cli.h"
#include "cli/common.h"
#include "live/kvm_env.h"
#include "cli/json.h"
#include "live/btf_layout.h"
#include "live/guest.h"
#include "live/live.h"
#include "workload/workload.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: %s check [--workload [--pattern matrix|storm] [--vcpus N]] [--duration S]\n"
		"                 [--pid PID] [--layout L] [--json] [-v]\n"
		"\n"
		"Attach to KVM's MMU tracepoints, check every SPTE, exit and role KVM\n"
		"produces against the reference model, and print a summary.\n"
		"\n"
		"  --workload      run the built-in guest (the U/W/NX x A/D matrix) and\n"
		"                  check only its events; ends when the guest is done\n"
		"  --pattern P     the workload's pattern: matrix (default) or storm\n"
		"  --vcpus N       the workload's vCPUs (default 1)\n"
		"  --duration S    stop after S seconds (with --workload: repeat the\n"
		"                  matrix for S seconds); default: until SIGINT/SIGTERM,\n"
		"                  or one matrix round with --workload\n"
		"  --pid PID       check only the VMM process PID\n"
		"  --layout L      KVM ABI for decoding: classic, mbec or auto (from BTF)\n"
		"  --json          print the summary as one JSON document\n"
		"  -v, --verbose   libbpf warnings and the evidence of every anomaly kept;\n"
		"                  -vv adds libbpf's debug log (relocations, verifier)\n"
		"\n"
		"Exit status: 0 no anomaly, 1 anomalies found, 2 usage or environment error\n"
		"(not root, no BTF, no KVM, a tracepoint missing).\n", prog_name);
}

/* Per matrix page of the workload: did KVM install an SPTE for it? */
struct page_seen {
	unsigned long sptes, checked, walks, walk_errors;
};

struct check_run {
	struct mbec_check *engine;
	struct workload_layout *layout;
	struct page_seen *pages;
	uint32_t pid;
	bool tdp;	/* KVM maps guest-physical memory (EPT or NPT): no guest walks traced */
};

static int page_of_gva(const struct workload_layout *l, uint64_t gva)
{
	unsigned int i;

	for (i = 0; i < l->nr_pages; i++)
		if (l->pages[i].kind == WL_PAGE_MATRIX && gva >= l->pages[i].gva &&
		    gva < l->pages[i].gva + l->pages[i].size)
			return (int)i;
	return -1;
}

/*
 * An SPTE maps 4K << 9 * (level - 1) bytes from its gfn: under TDP the
 * guest is mapped with 2M SPTEs, each covering many matrix pages.
 */
static void on_spte(void *ctx, const struct mbec_ev_set_spte *s, enum mbec_coverage cov)
{
	struct check_run *run = ctx;
	const struct workload_layout *l = run->layout;
	unsigned int i;

	if (!l)
		return;
	for (i = 0; i < l->nr_pages; i++) {
		const struct workload_page *p = &l->pages[i];

		if (p->kind != WL_PAGE_MATRIX || !mbec_spte_covers(s->gfn, s->level, p->gpa, p->size))
			continue;
		run->pages[i].sptes++;
		if (cov != MBEC_COV_NONE)
			run->pages[i].checked++;
	}
}

static int on_record(void *ctx, const void *rec, size_t len)
{
	struct check_run *run = ctx;
	const struct mbec_event_hdr *h = rec;
	static uint64_t last_walk_gva;
	int p;

	if (run->layout && len >= sizeof(*h)) {
		if (h->type == MBEC_EV_PAGETABLE_WALK && len >= sizeof(struct mbec_ev_walk)) {
			last_walk_gva = ((const struct mbec_ev_walk *)rec)->addr;
			p = page_of_gva(run->layout, last_walk_gva);
			if (p >= 0)
				run->pages[p].walks++;
		} else if (h->type == MBEC_EV_WALKER_ERROR) {
			p = page_of_gva(run->layout, last_walk_gva);
			if (p >= 0)
				run->pages[p].walk_errors++;
		}
	}
	mbec_check_feed(run->engine, rec, len);
	return 0;
}

/* The workload's page-table entries straight into the engine. */
static int feed_engine(void *ctx, const void *rec, size_t len)
{
	mbec_check_feed(ctx, rec, len);
	return 0;
}

static const char *page_why(const struct check_run *run, const struct workload_page *p,
			    const struct page_seen *s)
{
	if (s->sptes)
		return "SPTEs seen but none could be checked";
	if (run->tdp)
		return !workload_page_faulted_in(p) ?
		       "U=0 page under TDP: CPL-3 accesses fault in the guest's own walk (no exit) "
		       "and no SPTE covers its guest-physical page" :
		       "no TDP SPTE covering its guest-physical page was installed while attached "
		       "(mapped before attach?)";
	if (!workload_page_faulted_in(p) && !workload_page_prefetchable(p))
		return p->level > 1 ? "U=0 2M page: CPL-3 accesses fault in the guest walk and "
				      "KVM never prefetches large pages" :
				      "U=0 page with A=0: CPL-3 accesses fault in the guest walk "
				      "and KVM does not prefetch unaccessed entries";
	if (!workload_page_faulted_in(p))
		return "U=0 page: only a prefetch can map it, and none did";
	if (s->walk_errors)
		return "every guest walk faulted (guest #PF)";
	if (!s->walks)
		return "no traced walk or SPTE: the page was never touched while attached";
	return "walked but KVM installed no SPTE";
}

/*
 * Workload pages without a checked SPTE, grouped by why (text; each page
 * with -v) or listed (JSON).  Returns how many there are.
 */
static unsigned int report_pages(const struct check_run *run, FILE *f, struct json_writer *jw,
				 bool verbose)
{
	const char *whys[8];
	unsigned int nwhy[8], i, j, nw = 0, with = 0, total = 0, missing = 0;

	for (i = 0; i < run->layout->nr_pages; i++) {
		if (run->layout->pages[i].kind != WL_PAGE_MATRIX)
			continue;
		total++;
		if (run->pages[i].checked)
			with++;
	}
	if (jw) {
		json_key(jw, "workload_pages");
		json_obj_begin(jw);
		json_kv_u64(jw, "matrix", total);
		json_kv_u64(jw, "with_checked_spte", with);
		json_key(jw, "without");
		json_arr_begin(jw);
	} else {
		fprintf(f, "workload matrix pages with a checked SPTE: %u of %u\n", with, total);
	}
	for (i = 0; i < run->layout->nr_pages; i++) {
		const struct workload_page *p = &run->layout->pages[i];
		const char *why;

		if (p->kind != WL_PAGE_MATRIX || run->pages[i].checked)
			continue;
		missing++;
		why = page_why(run, p, &run->pages[i]);
		for (j = 0; j < nw && whys[j] != why; j++)
			;
		if (j == nw && nw < 8) {
			whys[nw] = why;
			nwhy[nw++] = 0;
		}
		if (j < nw)
			nwhy[j]++;
		if (jw) {
			json_obj_begin(jw);
			json_kv_hex(jw, "gva", p->gva);
			json_kv_hex(jw, "gpa", p->gpa);
			json_kv_hex(jw, "pte", p->pte);
			json_kv_str(jw, "why", why);
			json_obj_end(jw);
		} else if (verbose) {
			fprintf(f, "  gva 0x%llx pte 0x%llx (%s): %s\n",
				(unsigned long long)p->gva, (unsigned long long)p->pte,
				p->size > 4096 ? "2M" : "4K", why);
		}
	}
	if (jw) {
		json_arr_end(jw);
		json_obj_end(jw);
	} else if (!verbose) {
		for (j = 0; j < nw; j++)
			fprintf(f, "  %3u without: %s\n", nwhy[j], whys[j]);
	}
	return missing;
}

int cmd_check(int argc, char **argv)
{
	struct live_kvm_env kvm;
	static const struct option long_opts[] = {
		{ "workload", no_argument, NULL, 'w' },
		{ "pattern", required_argument, NULL, 'a' },
		{ "vcpus", required_argument, NULL, 'n' },
		{ "duration", required_argument, NULL, 'd' },
		{ "pid", required_argument, NULL, 'p' },
		{ "layout", required_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		/*
		 * tests only: shrink the model (negative control), the repeat
		 * limit, force raw_tp, shrink the ring buffer (to make drops)
		 */
		{ "perturb-model", required_argument, NULL, 'P' },
		{ "repeat-limit", required_argument, NULL, 'R' },
		{ "raw-tp", no_argument, NULL, 'T' },
		{ "ringbuf-kb", required_argument, NULL, 'B' },
		{ NULL, 0, NULL, 0 },
	};
	struct mbec_check_opts copts = { 0 };
	struct mbec_live_opts lopts = { 0 };
	struct mbec_counter kernel[MBEC_EV_MAX];
	struct mbec_live_attach attach[MBEC_LIVE_NR_TP];
	struct workload_child child = { .pid = -1, .go_fd = -1 };
	struct check_run run = { 0 };
	struct mbec_vmm_mem mem = MBEC_VMM_MEM_INIT;
	struct role_layout rl;
	struct mbec_live *live = NULL;
	enum mbec_layout layout = MBEC_LAYOUT_UNKNOWN;
	enum workload_pattern pattern = WORKLOAD_MATRIX;
	bool workload = false, json = false, have_rl = false, storm = false;
	unsigned int vcpus = 1;
	double duration = 0, t0;
	int c, ret, wl_status = -1, rc;
	long pid = 0;
	char err[320], *end;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":hvj", long_opts, NULL)) != -1) {
		switch (c) {
		case 'w':
			workload = true;
			break;
		case 'a':
			if (cli_parse_pattern("check", optarg, &pattern))
				return EXIT_USAGE;
			storm = pattern == WORKLOAD_STORM;
			break;
		case 'n':
			if (cli_parse_vcpus("check", optarg, &vcpus))
				return EXIT_USAGE;
			break;
		case 'd':
			if (cli_parse_duration("check", optarg, &duration))
				return EXIT_USAGE;
			break;
		case 'p':
			if (cli_parse_pid("check", optarg, &pid))
				return EXIT_USAGE;
			break;
		case 'l':
			if (cli_parse_layout("check", optarg, &layout))
				return EXIT_USAGE;
			break;
		case 'j':
			json = true;
			break;
		case 'v':
			cli_verbose++;
			break;
		case 'P':
			if (!strcmp(optarg, "ro"))
				copts.perturb |= MBEC_PERTURB_RO;
			else if (!strcmp(optarg, "nx"))
				copts.perturb |= MBEC_PERTURB_NX;
			else
				return cli_usage_error("check", "--perturb-model is ro or nx, not '%s'",
						       optarg);
			break;
		case 'R':
			copts.repeat_limit = (unsigned int)strtoul(optarg, &end, 10);
			if (*end || !copts.repeat_limit)
				return cli_usage_error("check", "--repeat-limit wants a count, not "
						       "'%s'", optarg);
			break;
		case 'T':
			lopts.force_raw = true;
			break;
		case 'B': {
			unsigned long kb = strtoul(optarg, &end, 10);

			if (*end || kb < 4 || kb > (1UL << 20) || (kb & (kb - 1)))
				return cli_usage_error("check", "--ringbuf-kb wants a power of two from "
						       "4 to 1048576, not '%s'", optarg);
			lopts.ringbuf_bytes = kb << 10;
			break;
		}
		case 'h':
			usage(stdout);
			return EXIT_FINE;
		default:
			return cli_getopt_error("check", c, argv);
		}
	}
	if (optind < argc)
		return cli_extra_arg("check", argv[optind]);
	if (workload && pid)
		return cli_usage_error("check", "--workload and --pid exclude each other: the "
				       "workload's pid is the filter");
	if (!workload && (storm || vcpus != 1))
		return cli_usage_error("check", "--pattern and --vcpus describe the workload: "
				       "add --workload");
	if (pid && cli_pid_exists("check", pid))
		return EXIT_USAGE;

	/* The ABI layout: from BTF unless the user says. */
	if (layout == MBEC_LAYOUT_UNKNOWN) {
		if (role_layout_from_btf(NULL, &rl, err, sizeof(err)))
			return cli_usage_error("check", "%s", err);
		have_rl = true;
		copts.layout = rl.abi;
		copts.role = &rl;
	} else {
		copts.layout = layout;
	}
	live_kvm_env_at("", &kvm);
	copts.spte_ept = kvm.vendor == LIVE_KVM_INTEL && kvm.tdp;
	run.tdp = kvm.tdp;
	copts.mbec = copts.layout == MBEC_LAYOUT_MBEC && kvm.mbec;

	if (workload) {
		struct workload_opts wo;

		workload_opts_init(&wo);
		wo.quiet = true;
		wo.duration = duration;
		wo.vcpus = vcpus;
		wo.pattern = pattern;
		if (cli_workload_spawn("check", &wo, &run.layout, &child))
			return EXIT_USAGE;
		run.pages = calloc(run.layout->nr_pages, sizeof(*run.pages));
		if (!run.pages) {
			if (child.pid > 0)
				workload_kill(&child);
			workload_layout_free(run.layout);
			return cli_usage_error("check", "out of memory");
		}
		pid = child.pid;
		/* The guest's registers: the mode its shadow pages' roles must match. */
		copts.expect_mode_valid = true;
		mbec_workload_mode(run.layout, &copts.expect_mode);
	}

	copts.guest.read_mem = mbec_vmm_mem_read;
	copts.guest.ctx = &mem;
	lopts.pid = (pid_t)pid;
	lopts.use = MBEC_LIVE_USE_CHECK;
	lopts.verbose = cli_verbose;
	lopts.need_kvm_dev = workload;
	lopts.on_event = on_record;
	lopts.ctx = &run;
	/*
	 * Catch SIGINT/SIGTERM before attaching: one that arrives while the
	 * programs load must still end with a detach and a summary, not kill
	 * the process half-way.
	 */
	cli_catch_stop(false);
	ret = mbec_live_open(&live, &lopts, err, sizeof(err));
	if (ret) {
		if (child.pid > 0)
			workload_kill(&child);
		free(run.pages);
		workload_layout_free(run.layout);
		return cli_usage_error("check", "%s", err);
	}

	run.pid = (uint32_t)pid;
	run.engine = mbec_check_new(&copts);
	if (!run.engine) {
		mbec_live_close(live);
		if (child.pid > 0)
			workload_kill(&child);
		free(run.pages);
		workload_layout_free(run.layout);
		return cli_usage_error("check", "out of memory");
	}
	mbec_check_on_spte(run.engine, on_spte, &run);
	if (run.layout)
		mbec_feed_guest_ptes(run.layout, run.pid, feed_engine, run.engine);

	if (child.pid > 0 && workload_start(&child)) {
		mbec_check_free(run.engine);
		mbec_live_close(live);
		workload_kill(&child);
		free(run.pages);
		workload_layout_free(run.layout);
		return cli_usage_error("check", "cannot start the workload");
	}

	t0 = cli_now_s();
	while (!cli_stop_requested) {
		ret = mbec_live_poll(live, 100);
		if (ret < 0 && ret != -EINTR)
			break;
		if (child.pid > 0) {
			int st;

			if (waitpid(child.pid, &st, WNOHANG) == child.pid) {
				wl_status = WIFEXITED(st) ? WEXITSTATUS(st) : 2;
				child.pid = -1;
				break;
			}
		} else if (duration > 0 && cli_now_s() - t0 >= duration) {
			break;
		}
	}
	/* What is still in the ring buffer. */
	while (mbec_live_poll(live, 0) > 0)
		;
	mbec_live_counters(live, kernel);
	memcpy(attach, mbec_live_attach_state(live), sizeof(attach));
	if (child.pid > 0) {
		workload_kill(&child);
		wl_status = -1;
	}
	mbec_live_close(live);
	mbec_check_finish(run.engine);

	if (json) {
		struct json_writer jw;
		const struct mbec_live_attach *at = attach;

		json_init(&jw, stdout, false);
		json_obj_begin(&jw);
		json_kv_str(&jw, "layout", mbec_layout_name(copts.layout));
		if (pid)
			json_kv_u64(&jw, "pid", (uint64_t)pid);
		else
			json_kv_str(&jw, "pid", NULL);
		mbec_check_json_body(run.engine, kernel, &jw);
		json_key(&jw, "attach");
		json_arr_begin(&jw);
		for (c = 0; c < MBEC_LIVE_NR_TP; c++) {
			json_obj_begin(&jw);
			json_kv_str(&jw, "tracepoint", at[c].tracepoint);
			json_kv_str(&jw, "how", at[c].how);
			json_kv_bool(&jw, "preferred", mbec_live_attach_preferred(&at[c]));
			json_kv_str(&jw, "note", at[c].note[0] ? at[c].note : NULL);
			json_obj_end(&jw);
		}
		json_arr_end(&jw);
		if (run.layout && !storm) {
			report_pages(&run, stdout, &jw, false);
			cli_workload_cpl0(&child, stdout, &jw);
		}
		if (wl_status >= 0)
			json_kv_s64(&jw, "workload_status", wl_status);
		json_obj_end(&jw);
		json_finish(&jw);
	} else {
		const struct mbec_live_attach *at = attach;

		if (workload)
			printf("mbecscope check: built-in workload (pid %ld), ", pid);
		else if (pid)
			printf("mbecscope check: VMM pid %ld, ", pid);
		else
			printf("mbecscope check: every VM, ");
		printf("KVM layout %s%s, %s SPTEs\n", mbec_layout_name(copts.layout),
		       have_rl ? " (from BTF)" : "", copts.spte_ept ? "EPT" : "legacy/NPT");
		{
			unsigned int btf = 0;

			for (c = 0; c < MBEC_LIVE_NR_TP; c++)
				btf += mbec_live_attach_preferred(&at[c]);
			printf("tracepoints: %u of %u attached as tp_btf\n", btf, MBEC_LIVE_NR_TP);
		}
		for (c = 0; c < MBEC_LIVE_NR_TP; c++)
			if (at[c].note[0] || !mbec_live_attach_preferred(&at[c]))
				printf("%s: %s (%s)\n", !strcmp(at[c].how, "no") ? "not attached" :
				       !strcmp(at[c].how, "raw_tp") ? "raw_tp" : "note",
				       at[c].tracepoint, at[c].note[0] ? at[c].note : "no reason given");
		mbec_check_print(run.engine, kernel, stdout, cli_verbose > 0);
		if (run.layout && !storm) {
			report_pages(&run, stdout, NULL, cli_verbose > 0);
			cli_workload_cpl0(&child, stdout, NULL);
		}
		if (wl_status > 0)
			printf("workload: exited with status %d%s\n", wl_status,
			       wl_status == 1 ? " (its own self-check failed)" : "");
	}

	rc = mbec_check_summary(run.engine)->anomalies_total ? EXIT_ANOMALY : EXIT_FINE;
	if (wl_status == 2)
		rc = EXIT_USAGE;
	else if (wl_status == 1)
		rc = EXIT_ANOMALY;
	mbec_check_free(run.engine);
	free(run.pages);
	workload_layout_free(run.layout);
	mbec_vmm_mem_close(&mem);
	return rc;
}
