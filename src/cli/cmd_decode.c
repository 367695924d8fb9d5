// SPDX-License-Identifier: GPL-2.0
/*
 * mbecscope decode KIND VALUE: one value in words.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/json.h"
#include "decode/decode.h"
#include "live/btf_layout.h"

static const char decode_help[] =
"usage: mbecscope decode KIND VALUE [--layout classic|mbec|auto] [--mbec]\n"
"                        [--format ept|legacy] [--btf FILE] [--json]\n"
"\n"
"Decode VALUE (0x... hex or decimal) as KIND, one line per set bit or field,\n"
"flagging bits that are undefined, reserved or ignored in this context.\n"
"\n"
"kinds:\n"
"  exit-qual  EPT-violation exit qualification; also the error code KVM\n"
"             derives from it under the layout (kvm_error_code)\n"
"  pfec       page-fault error code (PFERR_*)\n"
"  npf        AMD #NPF EXITINFO1\n"
"  spte       KVM shadow PTE: present, MMIO, frozen, access-tracked (--format)\n"
"  gpte       guest x86-64 (or NPT) page-table entry\n"
"  ept-pte    guest EPT paging-structure entry\n"
"  role       kvm_mmu_page_role word (32 bits)\n"
"  acc        KVM ACC value (0..0xf) and the SPTE bits it maps to\n"
"\n"
"options:\n"
"  --layout L     KVM ABI: classic (6.12), mbec (with the MBEC/GMET series) or\n"
"                 auto (default: the running kernel's BTF; exit-qual, spte and\n"
"                 acc fall back to mbec when there is no BTF)\n"
"  --btf FILE     read the role layout from FILE instead of the running kernel\n"
"  --mbec         MBEC is on (exit-qual: bit 6 defined; ept-pte: XU honoured)\n"
"  --format F     spte format: ept (default) or legacy (shadow paging, NPT)\n"
"  -v             let libbpf print its diagnostics while reading BTF\n"
"  --json         print one JSON object\n"
"  --pretty       the same, indented\n"
"  -h, --help     this text\n"
"\n"
"exit status: 0 decoded, 2 usage error.\n";

enum { OPT_LAYOUT = 256, OPT_MBEC, OPT_FORMAT, OPT_JSON, OPT_BTF, OPT_PRETTY };

static const struct option decode_opts_long[] = {
	{ "layout", required_argument, NULL, OPT_LAYOUT },
	{ "mbec", no_argument, NULL, OPT_MBEC },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "btf", required_argument, NULL, OPT_BTF },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "pretty", no_argument, NULL, OPT_PRETTY },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static bool kind_has_layout(enum decode_kind k)
{
	return k == DECODE_EXIT_QUAL || k == DECODE_SPTE || k == DECODE_ROLE || k == DECODE_ACC;
}

static bool kind_has_mbec(enum decode_kind k)
{
	return k == DECODE_EXIT_QUAL || k == DECODE_EPT_PTE;
}

/* Name the option getopt stopped at, for unknown / valueless options. */
static const char *bad_opt(int argc, char **argv)
{
	int i = optind - 1;

	return i > 0 && i < argc ? argv[i] : "?";
}

int cmd_decode(int argc, char **argv)
{
	const char *layout_arg = "auto", *format_arg = NULL, *btf_arg = NULL;
	bool json = false, pretty = false, mbec = false;
	struct decode_opts opts = { .layout = MBEC_LAYOUT_MBEC, .format = SPTE_FMT_EPT };
	static struct decode_result res;
	static struct role_layout btf_role;
	char layout_from[ROLE_SOURCE_LEN + ROLE_RELEASE_LEN + 16] = "";
	enum decode_kind kind;
	uint64_t value;
	int c;

	optind = 0;
	opterr = 0;
	if (argc == 2 && !strcmp(argv[1], "--list-options"))
		return cli_list_options(decode_opts_long, ":hv");
	while ((c = getopt_long(argc, argv, ":hv", decode_opts_long, NULL)) != -1) {
		switch (c) {
		case OPT_LAYOUT:
			layout_arg = optarg;
			break;
		case OPT_MBEC:
			mbec = true;
			break;
		case OPT_FORMAT:
			format_arg = optarg;
			break;
		case OPT_BTF:
			btf_arg = optarg;
			break;
		case OPT_JSON:
			json = true;
			break;
		case OPT_PRETTY:
			json = pretty = true;
			break;
		case 'v':
			role_layout_set_verbose(true);
			break;
		case 'h':
			fputs(decode_help, stdout);
			return EXIT_FINE;
		case ':':
			return cli_usage_error("decode", "option '%s' needs a value",
					       bad_opt(argc, argv));
		default:
			return cli_usage_error("decode", "unknown option '%s'; try "
					       "'mbecscope decode --help'", bad_opt(argc, argv));
		}
	}
	if (argc - optind < 2)
		return cli_usage_error("decode", "missing %s; usage: mbecscope decode KIND VALUE",
				       argc - optind == 0 ? "KIND and VALUE" : "VALUE");
	if (argc - optind > 2)
		return cli_usage_error("decode", "unexpected argument '%s' after VALUE",
				       argv[optind + 2]);
	if (decode_kind_parse(argv[optind], &kind))
		return cli_usage_error("decode", "unknown KIND '%s' (exit-qual, pfec, npf, spte, "
				       "gpte, ept-pte, role, acc)", argv[optind]);
	if (decode_parse_u64(argv[optind + 1], &value))
		return cli_usage_error("decode", errno == ERANGE ?
				       "VALUE '%s' is out of range (more than 64 bits)" :
				       "VALUE '%s' is not a number (use 0x... hex or decimal)",
				       argv[optind + 1]);
	if (value > decode_kind_max(kind))
		return cli_usage_error("decode", "VALUE '%s' is out of range for %s (at most 0x%llx)",
				       argv[optind + 1], decode_kind_name(kind),
				       (unsigned long long)decode_kind_max(kind));

	/* Options that mean nothing for this kind are refused, not ignored. */
	if (format_arg && kind != DECODE_SPTE)
		return cli_usage_error("decode", "--format applies to spte only");
	if (mbec && !kind_has_mbec(kind))
		return cli_usage_error("decode", "--mbec applies to exit-qual and ept-pte only");
	if (btf_arg && kind != DECODE_ROLE)
		return cli_usage_error("decode", "--btf applies to role only");
	if (strcmp(layout_arg, "auto") && !kind_has_layout(kind))
		return cli_usage_error("decode", "--layout applies to exit-qual, spte, role and "
				       "acc only");
	opts.mbec = mbec;
	if (format_arg) {
		if (!strcmp(format_arg, "ept"))
			opts.format = SPTE_FMT_EPT;
		else if (!strcmp(format_arg, "legacy"))
			opts.format = SPTE_FMT_LEGACY;
		else
			return cli_usage_error("decode", "--format '%s': use ept or legacy",
					       format_arg);
	}
	if (btf_arg && strcmp(layout_arg, "auto"))
		return cli_usage_error("decode", "--btf and --layout %s conflict", layout_arg);

	if (!strcmp(layout_arg, "auto") && mbec && kind == DECODE_EXIT_QUAL) {
		/* MBEC on means a KVM with the series: no need to ask BTF. */
		opts.layout = MBEC_LAYOUT_MBEC;
		snprintf(layout_from, sizeof(layout_from), "--mbec");
	} else if (!strcmp(layout_arg, "auto")) {
		if (kind_has_layout(kind)) {
			char err[256];

			if (!role_layout_from_btf(btf_arg, &btf_role, err, sizeof(err))) {
				opts.layout = btf_role.abi;
				opts.role = &btf_role;
				if (btf_role.release[0])
					snprintf(layout_from, sizeof(layout_from),
						 "BTF of kernel %s", btf_role.release);
				else
					snprintf(layout_from, sizeof(layout_from), "%s",
						 btf_role.source);
			} else if (kind == DECODE_ROLE || btf_arg) {
				return cli_usage_error("decode", "%s", err);
			} else {
				opts.layout = MBEC_LAYOUT_MBEC;
				snprintf(layout_from, sizeof(layout_from), "%s",
					 strstr(err, "kernel has no BTF") ? "default (no kernel BTF)" :
					 "default (kernel BTF has no usable role)");
			}
		}
	} else if (mbec_layout_parse(layout_arg, &opts.layout)) {
		return cli_usage_error("decode", "--layout '%s': use classic, mbec, kohler or auto",
				       layout_arg);
	} else {
		snprintf(layout_from, sizeof(layout_from), "--layout");
	}
	if (opts.layout == MBEC_LAYOUT_CLASSIC && mbec && kind == DECODE_EXIT_QUAL)
		return cli_usage_error("decode", "--mbec conflicts with the classic layout "
				       "(classic KVM has no MBEC)");

	if (decode_value(kind, value, &opts, &res))
		return cli_usage_error("decode", "VALUE '%s' is out of range for %s",
				       argv[optind + 1], decode_kind_name(kind));
	if (json) {
		struct json_writer jw;

		json_init(&jw, stdout, pretty);
		decode_print_json(&jw, &res, layout_from);
		if (json_finish(&jw))
			return cli_usage_error("decode", "internal error writing JSON");
	} else {
		decode_print_text(stdout, &res, layout_from);
	}
	return EXIT_FINE;
}
