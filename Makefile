SHELL := /bin/bash
# sandbox: `make` builds everything into build/, `make test` runs the unit
# and end-to-end tests, `make check-asan` the same under sanitizers.

CC       ?= gcc
BUILD    ?= build
CFLAGS   ?= -O2 -g
override CFLAGS += -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -Icommon -MMD -MP
LDFLAGS  ?=
LDLIBS   += -lpthread -lm

# The sandbox binary: the command line and owner (cli/), the VMM (vmm/)
# and the library every host program links (common/).
VMM_SRCS := $(wildcard vmm/*.c vmm/arch/x86/*.c vmm/devices/*.c vmm/virtio/*.c vmm/jail/*.c vmm/snapshot/*.c cli/*.c) common/atomic_file.c common/cp.c common/err.c common/mke2fs.c common/memevents.c common/procstat.c common/proto.c common/spec.c common/spec_dec.c common/spec_enc.c common/tar_read.c common/tar_write.c common/util.c
VMM_OBJS := $(VMM_SRCS:%.c=$(BUILD)/obj/%.o)
LIB_OBJS := $(filter-out $(BUILD)/obj/cli/main.o,$(VMM_OBJS))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
HOST_TOOLS := $(patsubst tests/tools/%.c,$(BUILD)/tools/%,$(wildcard tests/tools/*.c))

all: $(BUILD)/sandbox $(BUILD)/sandbox-runtime $(BUILD)/sandbox-image $(BUILD)/sandbox-serve $(BUILD)/sandbox-attacker $(BUILD)/dashboard/app.js $(BUILD)/dashboard/style.css $(BUILD)/guest-init $(BUILD)/guest-initramfs.cpio $(BUILD)/test-initramfs.cpio kernels $(UNIT_BINS) $(HOST_TOOLS) images

# The VMM links statically (sanitizer builds cannot): no dynamic loader at
# start, and only the libc pages it uses are resident — measured in the
# test host, RSS beside guest memory 1.3 MiB instead of 2.1-2.3 MiB, the
# first KVM_RUN twice as soon, process start 3 ms instead of 26 ms (TCG).
VMM_STATIC := $(if $(findstring -fsanitize,$(CFLAGS)),,-static)
$(BUILD)/sandbox: $(VMM_OBJS)
	$(CC) $(CFLAGS) $(LDFLAGS) $(VMM_STATIC) -o $@ $^ $(LDLIBS)

# sandbox-runtime (oci/, docs/oci-runtime.md): runc's command line for
# podman and containerd, over the same owner and VMM code as sandbox (linked
# from the same objects) and json-c for config.json. Static as the VMM is.
OCI_SRCS := $(wildcard oci/*.c)
OCI_OBJS := $(OCI_SRCS:%.c=$(BUILD)/obj/%.o)
$(BUILD)/sandbox-runtime: $(OCI_OBJS) $(LIB_OBJS)
	$(CC) $(CFLAGS) $(LDFLAGS) $(VMM_STATIC) -o $@ $^ -ljson-c $(LDLIBS)
$(BUILD)/obj/oci/%.o: SANDBOX_INC += -Ioci
# Its config.json parser: oci/config.c and the sections' oci/config_*.c.
OCI_CONFIG_SRCS := $(wildcard oci/config*.c)
# Its unit tests link the config parser and the pods' pure logic alone.
$(BUILD)/tests/test_oci_%: tests/unit/test_oci_%.c $(OCI_CONFIG_SRCS:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/oci/podref.o $(BUILD)/obj/common/spec.o $(BUILD)/obj/common/spec_enc.o $(BUILD)/obj/common/spec_dec.o $(BUILD)/obj/common/err.o $(BUILD)/obj/common/util.o
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Ioci -Icli -Itests/unit -o $@ $^ -ljson-c -lcmocka

# Each program sees common/ and its own folder; the sandbox binary is the
# command line (cli/) over the VMM (vmm/).
SANDBOX_INC := -Ivmm -Icli
$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SANDBOX_INC) -c -o $@ $<

# guest-init is static: the initramfs holds nothing else. Of the spec it
# needs the check and the decoder (common/spec.c, spec_dec.c), not the encoder.
$(BUILD)/guest-init: $(wildcard guest-init/*.c guest-init/*.h) common/abi.h common/err.c common/err.h common/memevents.c common/memevents.h common/procstat.c common/procstat.h common/proto.c common/proto.h common/spec.c common/spec_dec.c common/spec.h common/spec_int.h common/tar_read.c common/tar_write.c common/tar.h common/tar_int.h common/cp.c common/cp.h \
		$(BUILD)/gen/seccomp_default.h
	@mkdir -p $(BUILD)
	$(CC) $(filter-out -fsanitize=%,$(CFLAGS)) -I$(BUILD)/gen -static -o $@ $(wildcard guest-init/*.c) common/cp.c common/err.c common/memevents.c common/procstat.c common/proto.c common/spec.c common/spec_dec.c common/tar_read.c common/tar_write.c

# The program `sandbox audit` runs inside each sandbox (docs/audit.md):
# static, so any image can run it.
# Its helpers shared with the tests' probe: common/inside.c.
$(BUILD)/sandbox-attacker: $(wildcard attacker/*.c attacker/*.h) common/inside.c common/inside.h
	@mkdir -p $(BUILD)
	$(CC) $(filter-out -fsanitize=%,$(CFLAGS)) -Iattacker -static -o $@ $(wildcard attacker/*.c) common/inside.c

# The container's seccomp filter, compiled here with libseccomp into the BPF
# program guest-init loads (guest-init/gen/seccomp-bpf.c says why).
$(BUILD)/gen/seccomp-bpf: guest-init/gen/seccomp-bpf.c
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -fsanitize=%,$(CFLAGS)) -o $@ $< -lseccomp
$(BUILD)/gen/seccomp_default.h: $(BUILD)/gen/seccomp-bpf
	$< > $@.tmp && mv $@.tmp $@

# The VMM's per-thread filters, compiled the same way from the tables in
# vmm/jail/seccomp_policy.h (vmm/jail/gen/seccomp-vmm.c says why), so the
# VMM loads them without libseccomp. The unit test builds them again with
# libseccomp at run time and compares.
VMM_SECCOMP_GEN := vmm/jail/gen/seccomp-vmm.c vmm/jail/gen/seccomp_build.c
$(BUILD)/gen/seccomp-vmm: $(VMM_SECCOMP_GEN) vmm/jail/gen/seccomp_build.h vmm/jail/seccomp_policy.h vmm/jail/seccomp.h common/err.c common/err.h common/util.h
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -fsanitize=% -MMD -MP,$(CFLAGS)) -Ivmm -o $@ $(VMM_SECCOMP_GEN) common/err.c -lseccomp
$(BUILD)/gen/vmm_seccomp.h: $(BUILD)/gen/seccomp-vmm
	$< > $@.tmp && mv $@.tmp $@
$(BUILD)/obj/vmm/jail/seccomp.o: $(BUILD)/gen/vmm_seccomp.h
$(BUILD)/obj/vmm/jail/seccomp.o: SANDBOX_INC += -I$(BUILD)/gen

# Image import is its own program (libarchive, json-c, OpenSSL), so none of
# that code or its libraries live in the VMM process. `sandbox image ...`
# runs it.
IMAGE_SRCS := $(wildcard rootfs/*.c)
IMAGE_LIBS := -larchive -ljson-c -lcrypto
IMAGE_COMMON := $(BUILD)/obj/common/err.o $(BUILD)/obj/common/mke2fs.o $(BUILD)/obj/common/util.o
$(BUILD)/sandbox-image: $(IMAGE_SRCS) $(wildcard rootfs/*.h) $(IMAGE_COMMON)
	@mkdir -p $(BUILD)
	$(if $(IMAGE_SRCS),$(CC) $(CFLAGS) -Irootfs -o $@ $(IMAGE_SRCS) $(IMAGE_COMMON) $(IMAGE_LIBS),@echo "no rootfs/ sources yet")

# The HTTP API and dashboard (`sandbox serve`) is its own program
# (libmicrohttpd, json-c, linked dynamically), so no HTTP code lives in
# the VMM's binary; it runs the sandbox binary for every action. Its
# dashboard files go beside it.
API_SRCS := $(wildcard api/*.c)
API_LIB_SRCS := $(filter-out api/main.c,$(API_SRCS))
API_LIBS := -lmicrohttpd -ljson-c -lpthread
$(BUILD)/sandbox-serve: $(API_SRCS) $(wildcard api/*.h) $(BUILD)/obj/common/err.o $(BUILD)/obj/common/util.o
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS) -Iapi -o $@ $(API_SRCS) $(BUILD)/obj/common/err.o $(BUILD)/obj/common/util.o $(API_LIBS)
$(BUILD)/dashboard/%: api/static/%
	@mkdir -p $(dir $@)
	cp $< $@
$(BUILD)/tests/test_api: tests/unit/test_api.c $(API_LIB_SRCS) $(wildcard api/*.h) $(BUILD)/obj/common/err.o $(BUILD)/obj/common/util.o
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Iapi -Itests/unit -o $@ $< $(API_LIB_SRCS) $(BUILD)/obj/common/err.o $(BUILD)/obj/common/util.o $(API_LIBS) -lcmocka

$(BUILD)/guest-initramfs.cpio: $(BUILD)/guest-init
	rm -rf $(BUILD)/initramfs-root && mkdir -p $(BUILD)/initramfs-root/dev $(BUILD)/initramfs-root/proc $(BUILD)/initramfs-root/sys
	strip -o $(BUILD)/initramfs-root/init $(BUILD)/guest-init   # smaller: less of it resident per sandbox
	cd $(BUILD)/initramfs-root && find . | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 > ../guest-initramfs.cpio.tmp
	mv $(BUILD)/guest-initramfs.cpio.tmp $@

# A test initramfs: our init plus busybox and the guest-side test scripts
# (tests/guest/), run with sandbox.run=/tests/NAME.sh on the command line.
# Guest-side test programs: tests/guest/*.c, static, in the test initramfs.
GUEST_TOOLS := $(patsubst tests/guest/%.c,$(BUILD)/guest-tools/%,$(wildcard tests/guest/*.c))
$(BUILD)/guest-tools/%: tests/guest/%.c common/abi.h
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -fsanitize=%,$(CFLAGS)) -static -o $@ $<

# The probe shares the attacker's helpers (common/inside.c).
$(BUILD)/guest-tools/probe: tests/guest/probe.c common/inside.c common/inside.h common/abi.h
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -fsanitize=%,$(CFLAGS)) -static -o $@ tests/guest/probe.c common/inside.c

# Host-side test programs: tests/tools/*.c.
$(BUILD)/tools/%: tests/tools/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LDLIBS)

BUSYBOX ?= /bin/busybox
$(BUILD)/test-initramfs.cpio: $(BUILD)/guest-init $(wildcard tests/guest/*) $(GUEST_TOOLS)
	rm -rf $(BUILD)/test-root && mkdir -p $(BUILD)/test-root/bin $(BUILD)/test-root/tests $(BUILD)/test-root/dev $(BUILD)/test-root/proc $(BUILD)/test-root/sys $(BUILD)/test-root/tmp $(BUILD)/test-root/mnt
	cp $(BUILD)/guest-init $(BUILD)/test-root/init
	cp $(BUSYBOX) $(BUILD)/test-root/bin/busybox
	for a in $$($(BUSYBOX) --list); do [ -e $(BUILD)/test-root/bin/$$a ] || ln -s busybox $(BUILD)/test-root/bin/$$a; done
	cp tests/guest/*.sh $(BUILD)/test-root/tests/ 2>/dev/null || true
	for t in $(GUEST_TOOLS); do cp $$t $(BUILD)/test-root/bin/; done
	cd $(BUILD)/test-root && find . | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 > ../test-initramfs.cpio.tmp
	mv $(BUILD)/test-initramfs.cpio.tmp $@

# Kernels are built from Debian's linux-source and cached outside the tree
# (kernel-config/build.sh); with nothing changed this only copies files.
kernels: $(BUILD)/guest-vmlinux $(BUILD)/testhost-bzImage
$(BUILD)/guest-vmlinux: kernel-config/guest.config kernel-config/build.sh
	kernel-config/build.sh guest $(BUILD)
$(BUILD)/testhost-bzImage: kernel-config/testhost.config kernel-config/build.sh
	kernel-config/build.sh testhost $(BUILD)

# ---- embedded images (rootfs/) ----
# Built-in images as OCI layouts, made by rootfs/mklayout.py (same bytes on
# every build): $(BUILD)/images/busybox (Debian's busybox-static) and
# $(BUILD)/images/testimg (the same plus the guest test programs in
# /usr/bin). `sandbox-image runconf NAME` imports <dir of
# sandbox-image>/images/NAME on first use. Each is made in NAME.tmp and
# then moved into place.
BUSYBOX ?= /bin/busybox
IMAGES := $(BUILD)/images/busybox/index.json $(BUILD)/images/testimg/index.json
images: $(IMAGES)
$(BUILD)/images/busybox/index.json: rootfs/mklayout.py $(BUSYBOX)
	@mkdir -p $(BUILD)/images && rm -rf $(BUILD)/images/busybox.tmp
	python3 rootfs/mklayout.py --busybox $(BUSYBOX) $(BUILD)/images/busybox.tmp
	rm -rf $(BUILD)/images/busybox && mv $(BUILD)/images/busybox.tmp $(BUILD)/images/busybox
$(BUILD)/images/testimg/index.json: rootfs/mklayout.py $(BUSYBOX) $(GUEST_TOOLS)
	@mkdir -p $(BUILD)/images && rm -rf $(BUILD)/images/testimg.tmp
	python3 rootfs/mklayout.py --busybox $(BUSYBOX) $(foreach t,$(GUEST_TOOLS),--add $(t):usr/bin/$(notdir $(t))) $(BUILD)/images/testimg.tmp
	rm -rf $(BUILD)/images/testimg && mv $(BUILD)/images/testimg.tmp $(BUILD)/images/testimg
# Unit tests of the image tool (tests/unit/test_image_*.c): linked with
# rootfs/*.c but main.c, not with the VMM objects.
IMAGE_LIB_SRCS := $(filter-out rootfs/main.c,$(IMAGE_SRCS))
$(BUILD)/tests/test_image_%: tests/unit/test_image_%.c $(IMAGE_LIB_SRCS) $(wildcard rootfs/*.h) $(IMAGE_COMMON)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Irootfs -Itests/unit -o $@ $< $(IMAGE_LIB_SRCS) $(IMAGE_COMMON) $(IMAGE_LIBS) -lcmocka
.PHONY: images
# ---- end of embedded images ----

# Each links the shared virtio test driver too (kept: not an intermediate).
UNIT_DRIVER := $(BUILD)/obj/tests/unit/virtio_driver.o
.SECONDARY: $(UNIT_DRIVER)
$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJS) $(UNIT_DRIVER)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SANDBOX_INC) -Itests/unit -o $@ $< $(LIB_OBJS) $(UNIT_DRIVER) $(LDLIBS) -lcmocka
# test_seccomp_gen also builds the VMM's filters with libseccomp, to compare.
$(BUILD)/tests/test_seccomp_gen: tests/unit/test_seccomp_gen.c $(LIB_OBJS) $(UNIT_DRIVER) $(BUILD)/obj/vmm/jail/gen/seccomp_build.o
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SANDBOX_INC) -Itests/unit -o $@ $< $(LIB_OBJS) $(UNIT_DRIVER) $(BUILD)/obj/vmm/jail/gen/seccomp_build.o $(LDLIBS) -lseccomp -lcmocka

test: all
	tests/run-all.sh $(BUILD)

unit: $(UNIT_BINS)
	tests/run-all.sh --unit-only $(BUILD)

# Sanitizer build in its own tree: ASan + UBSan, no recovery.
check-asan:
	$(MAKE) BUILD=build-asan CFLAGS="-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" all
	tests/run-all.sh --unit-only build-asan
	@# LeakSanitizer's exit-time thread stop was seen to spin forever in the
	@# multi-threaded VMM here, so the VMM runs without leak checking (ASan and
	@# UBSan stay on); the unit tests above keep it.
	ASAN_OPTIONS=detect_leaks=0 KVMHOST_ENV=ASAN_OPTIONS tests/run-all.sh build-asan

# The main job: `sandbox run --rm busybox echo hello` on the built-in image,
# natively where KVM can boot Linux, else in the nested test host (which
# has no mkfs.erofs: the image is imported here first, into the tree).
DEMO_RUN = $(BUILD)/sandbox run --rm busybox echo hello
demo: all
	@if $(BUILD)/sandbox kvm-check >/dev/null; then echo "(KVM boots Linux guests here: running natively)"; $(DEMO_RUN); \
	else echo "(this host's KVM cannot boot Linux natively: using the nested test host, tests/kvmhost/run)"; \
	tests/e2e/prepare.sh $(BUILD) && tests/kvmhost/run env SANDBOX_IMAGE_DIR=$(CURDIR)/$(BUILD)/test-images $(DEMO_RUN); fi

# bench/run.sh: sandbox run end to end vs QEMU microvm boot, vm phases,
# container baselines, idle sandbox density (one table); bench/boot.sh: the
# boot-to-init comparison in detail.
# The sandbox run table, then the snapshot one (each its own test-host
# session): about 30 minutes in all.
bench: all
	bench/run.sh
	$(MAKE) bench-snapshot

bench-boot: all
	bench/boot.sh

bench-io: all
	bench/io.sh

# bench/snapshot.sh: run --from vs a cold run, snapshot time, clone density
# and start rate, in one test-host session (natively where KVM boots Linux).
# The test host's memory is allocated up front (-mem-prealloc): otherwise the
# first sandboxes to touch a page of it pay the emulator's allocation, which
# no hardware host has (~0.6 s over 10 clones, measured).
bench-snapshot: all
	@mkdir -p $(BUILD)/bench && $(MAKE) -s -f bench/Makefile BUILD=$(BUILD)
	tests/e2e/prepare.sh $(BUILD)
	if $(BUILD)/sandbox kvm-check >/dev/null 2>&1; then bench/snapshot.sh $(BUILD); \
	else KVMHOST_TIMEOUT=1800 KVMHOST_QEMU_ARGS="-mem-prealloc $${KVMHOST_QEMU_ARGS:-}" \
		tests/kvmhost/run bench/snapshot.sh $(BUILD); fi | tee $(BUILD)/bench/snapshot-results.txt

# Fuzz targets (libFuzzer, clang): tests/fuzz/fuzz_*.c, each linked with the
# VMM objects built for fuzzing; fuzz_image_*.c link the image tool's code
# instead (without its main.c). Seeds: tests/fuzz/seeds/<target>/ (read
# only); what a run finds goes to build-fuzz/corpus-<target>/.
# `make fuzz-smoke` runs every target for FUZZ_SECONDS each, default 20
# (CI: 15); `make fuzz` runs every target for FUZZ_SECONDS, default 600.
fuzz-smoke: FUZZ_SECONDS ?= 20
fuzz: FUZZ_SECONDS ?= 600
FUZZ_CFLAGS = -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_SRCS := vmm/virtio/virtq.c vmm/virtio/mmio.c vmm/memory.c common/err.c common/util.c vmm/evloop.c common/memevents.c common/proto.c common/spec.c common/spec_dec.c common/spec_enc.c common/tar_read.c common/tar_write.c common/cp.c \
	vmm/virtio/attach.c vmm/bus.c vmm/devices/virtio_blk.c vmm/devices/virtio_net.c vmm/devices/tap.c \
	vmm/devices/virtio_vsock.c $(wildcard vmm/devices/vsock_*.c) vmm/devices/virtio_pmem.c vmm/devices/virtio_balloon.c vmm/arch/x86/boot.c \
	vmm/snapshot/format.c vmm/snapshot/snapshot.c vmm/snapshot/workingset.c vmm/arch/x86/vcpu_state.c
FUZZ_IMAGE_SRCS := $(filter-out rootfs/main.c,$(wildcard rootfs/*.c)) common/err.c common/mke2fs.c common/util.c
FUZZ_BINS := $(patsubst tests/fuzz/%.c,build-fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
# A target that #includes an rootfs/*.c (to reach its static functions)
# names it in FUZZ_IMAGE_INCLUDED so it is not linked twice.
build-fuzz/fuzz_image_manifest: FUZZ_IMAGE_INCLUDED = rootfs/source.c
# sandbox audit's verdicts and reports over evidence from inside a sandbox.
build-fuzz/fuzz_audit: tests/fuzz/fuzz_audit.c cli/audit_catalogue.c cli/audit_report.c cli/audit.h common/err.c
	@mkdir -p build-fuzz
	clang $(FUZZ_CFLAGS) -std=gnu11 -D_GNU_SOURCE -Icommon -Icli -o $@ $< cli/audit_catalogue.c cli/audit_report.c common/err.c
build-fuzz/fuzz_image_%: tests/fuzz/fuzz_image_%.c $(FUZZ_IMAGE_SRCS) $(wildcard rootfs/*.h common/err.h common/util.h)
	@mkdir -p build-fuzz
	clang $(FUZZ_CFLAGS) -std=gnu11 -D_GNU_SOURCE -Icommon -Irootfs -o $@ $< \
		$(filter-out $(FUZZ_IMAGE_INCLUDED),$(FUZZ_IMAGE_SRCS)) $(IMAGE_LIBS)
# Targets that #include a cli/*.c (the command line's parsers of untrusted
# text) depend on it.
build-fuzz/fuzz_log: cli/log_fmt.c cli/json.c cli/logs.h cli/json.h
# The API's request bodies, routes and forms (api/body.c, route.c).
build-fuzz/fuzz_api: tests/fuzz/fuzz_api.c api/body.c api/route.c api/api.h common/err.c
	@mkdir -p build-fuzz
	clang $(FUZZ_CFLAGS) -std=gnu11 -D_GNU_SOURCE -Icommon -Iapi -o $@ $< api/body.c api/route.c common/err.c -ljson-c
build-fuzz/fuzz_oci_%: tests/fuzz/fuzz_oci_%.c $(OCI_CONFIG_SRCS) oci/podref.c common/spec.c common/err.c common/util.c $(wildcard oci/*.h)
	@mkdir -p build-fuzz
	clang $(FUZZ_CFLAGS) -std=gnu11 -D_GNU_SOURCE -Icommon -Ioci -Icli -o $@ $< $(OCI_CONFIG_SRCS) oci/podref.c common/spec.c common/err.c common/util.c -ljson-c
build-fuzz/%: tests/fuzz/%.c $(FUZZ_SRCS) $(wildcard vmm/*.h vmm/*/*.h vmm/arch/x86/*.h)
	@mkdir -p build-fuzz
	clang $(FUZZ_CFLAGS) -std=gnu11 -D_GNU_SOURCE -Icommon -Ivmm -o $@ $< $(FUZZ_SRCS) -lpthread
# fuzz_run SECONDS: every target in turn; stop at the first crash.
# tests/fuzz/run.sh runs the targets FUZZ_JOBS at a time (default: the CPUs).
define fuzz_run
	@tests/fuzz/run.sh $(1) $(FUZZ_BINS)
endef
fuzz-smoke: $(FUZZ_BINS)
	$(call fuzz_run,$(FUZZ_SECONDS))
fuzz: $(FUZZ_BINS)
	$(call fuzz_run,$(FUZZ_SECONDS))

clean:
	rm -rf $(BUILD) build-asan build-fuzz

.PHONY: all kernels test unit check-asan bench bench-boot bench-io bench-snapshot demo fuzz-smoke fuzz clean
-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
