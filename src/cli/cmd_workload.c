// SPDX-License-Identifier: GPL-2.0
/*
 * mbecscope workload: run the built-in guest on its own (see
 * src/workload/workload.h).  Exit 0 when the self-check passed, 1 when
 * the guest saw an access outcome its page tables do not dictate, 2 for
 * bad options or no usable KVM.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "workload/workload.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: %s workload [--pattern matrix|storm] [--vcpus N] [--duration S] [--json]\n"
		"       %s workload --nested [--json]\n"
		"\n"
		"Run the built-in guest: a tiny VMM on /dev/kvm whose CPL-3 code reads, writes\n"
		"and fetches through guest pages of every U/W/NX x A/D combination, 4K and 2M.\n"
		"\n"
		"  --pattern matrix  64 pages per vCPU, each read, written and fetched once per\n"
		"                    round; every outcome is checked against the page's bits\n"
		"                    (default)\n"
		"  --pattern storm   re-touch %d pages per vCPU, zapping them after every pass,\n"
		"                    and print SPTE faults per second\n"
		"  --vcpus N         N vCPU threads (1..%d), each with its own pages (default 1)\n"
		"  --duration S      storm: run S seconds (default %.0f); matrix: repeat rounds\n"
		"                    for S seconds (default: one round)\n"
		"  --nested          the guest becomes a hypervisor: its own guest (L3) reads,\n"
		"                    writes and fetches through nested page tables (AMD NPT\n"
		"                    with every U/W/NX leaf, Intel EPT with every R/W/XS/XU\n"
		"                    one) at CPL 3 and CPL 0, first without GMET/MBEC (the\n"
		"                    control), then with it when KVM offers it; each outcome\n"
		"                    and #NPF EXITINFO1 or exit qualification is checked\n"
		"                    against the model.  Needs kvm_amd/kvm_intel nested=1\n"
		"  --json            print one JSON document\n"
		"  -v                print every guest #PF the VMM handled on stderr\n"
		"\n"
		"Needs read/write access to /dev/kvm.  Exit: 0 self-check passed, 1 an access\n"
		"did not do what the guest's page tables say, 2 usage or environment error.\n",
		prog_name, prog_name, WORKLOAD_STORM_PAGES, WORKLOAD_MAX_VCPUS, WORKLOAD_STORM_DEFAULT_S);
}

static void on_sigint(int sig)
{
	(void)sig;
	workload_request_stop();
}

int cmd_workload(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "vcpus", required_argument, NULL, 'n' },
		{ "duration", required_argument, NULL, 'd' },
		{ "pattern", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "nested", no_argument, NULL, 'N' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		/* tests only: make the self-check fail (see workload.h) */
		{ "inject-mismatch", no_argument, NULL, 'I' },
		{ NULL, 0, NULL, 0 },
	};
	struct workload_opts o;
	struct workload_result r;
	struct sigaction sa = { .sa_handler = on_sigint };
	int c;

	workload_opts_init(&o);
	opterr = 0;
	optind = 1;
	if (argc == 2 && !strcmp(argv[1], "--list-options"))
		return cli_list_options(long_opts, ":hvj");
	while ((c = getopt_long(argc, argv, ":hvj", long_opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (cli_parse_vcpus("workload", optarg, &o.vcpus))
				return EXIT_USAGE;
			break;
		case 'd':
			if (cli_parse_duration("workload", optarg, &o.duration))
				return EXIT_USAGE;
			break;
		case 'p':
			if (cli_parse_pattern("workload", optarg, &o.pattern))
				return EXIT_USAGE;
			break;
		case 'j':
			o.json = true;
			break;
		case 'N':
			o.nested = true;
			break;
		case 'I':
			o.inject_mismatch = true;
			break;
		case 'v':
			cli_verbose++;
			o.verbose = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_FINE;
		default:
			return cli_getopt_error("workload", c, argv);
		}
	}
	if (optind < argc)
		return cli_extra_arg("workload", argv[optind]);
	if (o.nested && (o.pattern != WORKLOAD_MATRIX || o.vcpus > 1 || o.duration > 0))
		return cli_usage_error("workload", "--nested runs one matrix round on one vCPU: "
				       "drop --pattern, --vcpus and --duration");

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	workload_run(&o, &r);
	if (r.status)
		fprintf(stderr, "%s workload: %s\n", prog_name, r.error);
	return r.status;
}
