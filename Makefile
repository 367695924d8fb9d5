# mbecscope: see README.md.  `make` builds build/mbecscope (and the
# build/mbectop link), `make run` shows it working, `make test` tests it.
PREFIX   ?= /usr/local
BUILD    ?= build
CC       := gcc
CLANG    ?= clang
BPFTOOL  ?= bpftool
Q        := $(if $(V),,@)

# trace.dat is read with libtracecmd and libtraceevent (their headers are in
# subdirectories of /usr/include that pkg-config names).
TRACECMD_CFLAGS := $(shell pkg-config --cflags libtracecmd libtraceevent 2>/dev/null)
TRACECMD_LIBS   := $(shell pkg-config --libs libtracecmd libtraceevent 2>/dev/null)
CPPFLAGS := -Iinclude -Isrc -I$(BUILD)/gen -D_GNU_SOURCE $(TRACECMD_CFLAGS)
CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -Wall -Wextra -Werror -MMD -MP
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
	    -fno-sanitize-recover=all
LDLIBS   := -lbpf -lelf -lz -lzstd -lncursesw -lmicrohttpd -lm $(TRACECMD_LIBS)
# watch --journal sends structured entries with libsystemd when it is there
# (tools/deps.sh build installs it); without it, watch falls back to syslog
# and says so.
SYSTEMD_LIBS := $(shell pkg-config --libs libsystemd 2>/dev/null)
ifneq ($(SYSTEMD_LIBS),)
CPPFLAGS += -DHAVE_SD_JOURNAL
LDLIBS   += $(SYSTEMD_LIBS)
endif

# Everything under src/ (the built-in guest in src/workload too) is one
# library; the CLI's main() is kept out of it so tests can link the rest.
MAIN_SRC := src/cli/main.c
LIB_SRCS := $(sort $(filter-out $(MAIN_SRC),$(wildcard src/*/*.c)))
BPF_SRCS := $(sort $(wildcard bpf/*.bpf.c))
SKELS    := $(patsubst bpf/%.bpf.c,$(BUILD)/gen/%.skel.h,$(BPF_SRCS))
UNIT_SRCS := $(sort $(wildcard tests/unit/*.c))

OBJS      := $(patsubst %.c,$(BUILD)/obj/%.o,$(LIB_SRCS))
ASAN_OBJS := $(patsubst %.c,$(BUILD)/asan/obj/%.o,$(LIB_SRCS))
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/asan/tests/%,$(UNIT_SRCS))

.PHONY: all run test deps deps-test clean install asan unit bench fuzz fuzz-build deb \
	kernel-check kernel-kunit lab help
all: $(BUILD)/mbecscope $(BUILD)/mbectop

help:
	@echo "make               build build/mbecscope and build/mbectop"
	@echo "make deps          install the Debian packages the build needs"
	@echo "make run           install what is missing, build, show the tool working"
	@echo "make test          install what the tests need, build, run every test"
	@echo "make fuzz          fuzz the recording reader, the ftrace importer and trace.dat:"
	@echo "                   $(FUZZ_SECONDS) s per target (FUZZ_SECONDS=N make fuzz)"
	@echo "make bench         the benchmarks (a few minutes; QUICK=1: a smoke run)"
	@echo "make kernel-check  the kernel series, patch by patch"
	@echo "make kernel-kunit  the KVM MMU KUnit suite under QEMU"
	@echo "make lab           mbecscope inside L1 kernels under QEMU and Bochs (about 15 min)"
	@echo "make install       install to PREFIX (/usr/local)"
	@echo "make deb           the Debian package in $(BUILD)/deb/ (lintian-checked)"

deps:
	$(Q)tools/deps.sh build
# Everything `make test` runs, the kernel series check included: the suite
# must never pass by skipping a test for want of a package.
deps-test: deps
	$(Q)tools/deps.sh test kernel deb

# A failed command leaves no half-written target behind.
.DELETE_ON_ERROR:

# Before the first build, one line naming any missing tool or header and
# `make deps`, rather than an error from inside clang or bpftool.
$(BUILD)/gen/.tools-ok:
	$(Q)tools/buildcheck.sh "$(CC)" "$(CLANG)" "$(BPFTOOL)"
	@mkdir -p $(@D) && touch $@

# ---- BPF: object -> skeleton header ----------------------------------------
$(BUILD)/gen/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) $(wildcard include/*.h) vmlinux.h \
		| $(BUILD)/gen/.tools-ok
	@mkdir -p $(@D)
	$(Q)$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -Werror \
		-Iinclude -Ibpf -I. -c $< -o $@
	$(Q)llvm-strip -g $@ 2>/dev/null || true
$(BUILD)/gen/%.skel.h: $(BUILD)/gen/%.bpf.o
	$(Q)$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@ || { rm -f $@.tmp; exit 1; }
# Keep the objects and skeletons: as make intermediates they would be deleted
# and rebuilt (with every user-space object after them) on each make.
.SECONDARY: $(SKELS) $(SKELS:.skel.h=.bpf.o)

# ---- user space ---------------------------------------------------------------
$(BUILD)/obj/%.o: %.c | $(SKELS)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@
$(BUILD)/asan/obj/%.o: %.c | $(SKELS)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(SANFLAGS) -c $< -o $@

$(BUILD)/libmbecscope.a: $(OBJS)
	$(Q)rm -f $@ && ar rcs $@ $^
$(BUILD)/asan/libmbecscope.a: $(ASAN_OBJS)
	@mkdir -p $(@D)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/mbecscope: $(BUILD)/obj/$(MAIN_SRC:.c=.o) $(BUILD)/libmbecscope.a
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/mbectop: $(BUILD)/mbecscope
	$(Q)ln -sf mbecscope $@
$(BUILD)/asan/mbecscope: $(BUILD)/asan/obj/$(MAIN_SRC:.c=.o) $(BUILD)/asan/libmbecscope.a
	$(Q)$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/asan/mbectop: $(BUILD)/asan/mbecscope
	$(Q)ln -sf mbecscope $@

$(BUILD)/asan/tests/%: tests/unit/%.c $(BUILD)/asan/libmbecscope.a tests/tap.h
	@mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) -Itests $(CFLAGS) $(SANFLAGS) -o $@ $< \
		$(BUILD)/asan/libmbecscope.a $(LDLIBS)

# ---- fuzzing: libFuzzer targets for the recording reader, the ftrace
# text importer and trace.dat (tests/fuzz/*.c).  `make test` runs each for a few seconds;
# `make fuzz` for FUZZ_SECONDS each (300 s by default, and says so), keeping
# its corpus in $(BUILD)/fuzz/.
FUZZ_SRCS := src/trace/input.c src/trace/recording.c $(wildcard src/trace/ftrace*.c) src/trace/source.c \
	     src/trace/tracedat.c src/trace/tracedat_form.c src/trace/tracedat_open.c \
	     src/correlate/event.c src/live/btf_layout.c $(sort $(wildcard src/model/*.c))
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(sort $(wildcard tests/fuzz/*.c)))
FUZZ_SECONDS ?= 300
$(BUILD)/fuzz/%: tests/fuzz/%.c $(FUZZ_SRCS) $(wildcard include/*.h src/trace/*.h src/model/*.h)
	@mkdir -p $(@D)
	$(Q)$(CLANG) -g -O1 -std=gnu11 $(CPPFLAGS) -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-o $@ $< $(FUZZ_SRCS) -lbpf -lelf -lz -lzstd $(TRACECMD_LIBS)
fuzz-build: $(FUZZ_BINS)
fuzz: deps-test $(FUZZ_BINS)
	@echo "fuzz: $(words $(FUZZ_BINS)) targets, $(FUZZ_SECONDS) s each (set FUZZ_SECONDS to change)"
	$(Q)BUILD=$(BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_KEEP=1 bash tests/fuzz/fuzz.t

asan: $(BUILD)/asan/mbecscope $(BUILD)/asan/mbectop
unit: $(UNIT_BINS)

# ---- the two commands of the README ------------------------------------------
run: deps all
	$(Q)tools/run-demo.sh $(BUILD)/mbecscope

# Tests run against the ASan+UBSan build; tests/run.sh prints TAP and ends
# with the line "N passed, N failed".
test: deps-test all asan unit fuzz-build
	$(Q)BUILD=$(BUILD) MBECSCOPE=$(BUILD)/asan/mbecscope tests/run.sh

# ---- benchmarks (bench/RESULTS.md): a few minutes; QUICK=1 for a smoke run --------
# Uses the normal (not ASan) build; needs root, /dev/kvm, BPF and tracefs.
bench: all
	$(Q)tools/deps.sh bench
	$(Q)/usr/bin/python3 bench/bench.py --mbecscope $(BUILD)/mbecscope --out $(BUILD)/bench \
		$(if $(filter-out 0,$(QUICK)),--quick)

# ---- the kernel series (kernel/README.md) -------------------------------------
# kernel-check: every patch of kernel/series applied in turn to Debian's
# linux-source-6.12 with git am, arch/x86/kvm built (W=1), checkpatch run.
# kernel-kunit: the KVM MMU KUnit suite, booted under QEMU (TCG).
# tools/kunit-table prints the KUnit tables of the kernel series from the model.
all: $(BUILD)/kunit-table
$(BUILD)/kunit-table: tools/kunit-table/kunit-table.c $(BUILD)/libmbecscope.a
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(BUILD)/libmbecscope.a $(LDLIBS)
# tools/progcost: the BPF programs' cost per run against a floor program
# (bench.py --only progcost, and the lab's progcost step).
all: $(BUILD)/progcost
$(BUILD)/progcost: tools/progcost/progcost.c $(BUILD)/libmbecscope.a
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(BUILD)/libmbecscope.a $(LDLIBS)

kernel-check:
	$(Q)tools/deps.sh kernel
	$(Q)BUILD=$(BUILD) kernel/scripts/check.sh
kernel-kunit:
	$(Q)tools/deps.sh kernel
	$(Q)BUILD=$(BUILD) kernel/scripts/kunit.sh

# ---- the lab (lab/lab.sh, README): L1 kernels under QEMU (NPT) and Bochs (EPT)
# with mbecscope run inside them; not part of make test (Bochs takes minutes,
# the series kernel a long build the first time).
lab: all
	$(Q)tools/deps.sh lab bochs bochs3 kernel qemu-gmet
	$(Q)BUILD=$(BUILD) lab/lab.sh --mbecscope $(BUILD)/mbecscope

install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 0755 $(BUILD)/mbecscope $(DESTDIR)$(PREFIX)/sbin/mbecscope
	ln -sf mbecscope $(DESTDIR)$(PREFIX)/sbin/mbectop
	install -m 0644 $(wildcard docs/*.8) $(DESTDIR)$(PREFIX)/share/man/man8/

# ---- Debian package: dpkg-buildpackage on a copy of the tree (committed
# and new files, not build/), so its outputs land in $(BUILD)/deb/.
deb:
	$(Q)tools/deps.sh build deb
	$(Q)rm -rf $(BUILD)/deb && mkdir -p $(BUILD)/deb/mbecscope
	$(Q)git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t $(BUILD)/deb/mbecscope
	$(Q)cd $(BUILD)/deb/mbecscope && dpkg-buildpackage -b -us -uc >../build.log 2>&1 || \
		{ tail -n 30 ../build.log; echo "make deb: dpkg-buildpackage failed; log: $(BUILD)/deb/build.log" >&2; exit 1; }
	$(Q)lintian --fail-on error $(BUILD)/deb/*.changes
	@ls $(BUILD)/deb/*.deb

clean:
	rm -rf $(BUILD)

-include $(OBJS:.o=.d) $(ASAN_OBJS:.o=.d)
