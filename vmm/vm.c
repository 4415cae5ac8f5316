/* VM life cycle: create (KVM objects, memory, vCPUs), load (kernel, initrd,
 * boot tables), devices, run (wait for the guest to end), destroy. */
#include "vm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "../common/abi.h"
#include "arch/x86/boot.h"
#include "arch/x86/layout.h"
#include "arch/x86/mptable.h"
#include "arch/x86/regs.h"
#include "arch/x86/vcpu_state.h"
#include "snapshot/format.h"
#include "snapshot/snapshot.h"
#include "devices/modules.h"
#include "jail/jail.h"
#include "jail/seccomp.h"
#include "kvm_stats.h"

uint64_t vm_elapsed(const struct vm *vm) { return now_ns() - vm->t.start; }

const char *vm_default_cmdline(bool console)
{
	/* No PCI, no ACPI, no keyboard probing; reset through the keyboard
	 * controller; reboot at once on panic so the VMM sees the end.
	 * noreplace-smp: a one-vCPU guest otherwise rewrites every LOCK prefix
	 * of the kernel text at boot, one text_poke each (~150 ms under the
	 * nested test host, measured); keeping them costs nothing measurable.
	 * retain_initrd: the initrd's pages, mapped from its file (boot.c),
	 * stay the host page cache's, shared by every sandbox, where freeing
	 * them would write 0xcc over each (0.9 MiB of the guest's RAM). */
#define CMDLINE_COMMON "reboot=k panic=-1 nomodule no_timer_check tsc=reliable " \
		       "i8042.noaux i8042.nomux i8042.dumbkbd noreplace-smp retain_initrd"
	return console ? "console=ttyS0 " CMDLINE_COMMON : "8250.nr_uarts=0 " CMDLINE_COMMON;
#undef CMDLINE_COMMON
}

void vm_request_end(struct vm *vm, enum vm_end reason, const char *msg)
{
	int expected = VM_RUNNING;
	if (atomic_compare_exchange_strong(&vm->end, &expected, (int)reason)) {
		if (msg)
			snprintf(vm->end_msg, sizeof(vm->end_msg), "%s", msg);
		vm->t.exit = vm_elapsed(vm);
		vcpu_kick_all(vm);
		/* parked vCPUs (vm_pause) and a vm_pause waiting for them */
		pthread_mutex_lock(&vm->pause.lock);
		pthread_cond_broadcast(&vm->pause.cond);
		pthread_mutex_unlock(&vm->pause.lock);
		pthread_kill(vm->main_thread, SIG_END);
	}
}

void vm_irq_line(struct vm *vm, unsigned gsi, int level)
{
	struct kvm_irq_level l = { .irq = gsi, .level = (uint32_t)level };
	ioctl(vm->vm_fd, KVM_IRQ_LINE, &l);
}

static void serial_irq(void *ctx, int level) { vm_irq_line(ctx, SERIAL_COM1_IRQ, level); }
static void guest_reset(void *ctx) { vm_request_end(ctx, VM_END_RESET, "guest reset"); }
static uint64_t event_clock(void *ctx) { return vm_elapsed(ctx); }

int vm_create(struct vm *vm, struct err *e)
{
	pthread_mutex_init(&vm->pause.lock, NULL);
	pthread_cond_init(&vm->pause.cond, NULL);
	vm->ncpus = vm->cfg.ncpus;
	if (vm->ncpus == 0 || vm->ncpus > MAX_VCPUS)
		return err_set(e, "--cpus must be between 1 and %u", MAX_VCPUS);
	vm->vm_fd = ioctl(vm->kvm.fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0)
		return err_sys(e, "KVM_CREATE_VM");
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_ADDR))
		return err_sys(e, "KVM_SET_TSS_ADDR");
	uint64_t idmap = KVM_IDENTITY_MAP_ADDR;
	if (ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap))
		return err_sys(e, "KVM_SET_IDENTITY_MAP_ADDR");
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0))
		return err_sys(e, "KVM_CREATE_IRQCHIP");
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit))
		return err_sys(e, "KVM_CREATE_PIT2");

	if (evloop_init(&vm->loop, e))
		return -1;
	/* A vhost-user device (virtio-fs) needs memory another process can
	 * map: a memfd. Otherwise anonymous memory, as benchmarked. */
	if (vm->cfg.restore) {
		if (vm->cfg.nfs)
			return err_set(e, "a VM restored from a snapshot has no virtio-fs");
		if (gm_init_file(&vm->mem, vm->cfg.mem_bytes, vm->cfg.restore_mem_fd, e))
			return -1;
		/* A clone that will record the working set: no readahead of
		 * the memory file. The kernel's fault-around still maps up to
		 * 15 cached neighbours of each page read, and the record holds
		 * them too: measured, they are worth it (docs/snapshots.md). */
		if (vm->cfg.restore_record_ws)
			madvise(vm->mem.host, vm->mem.size, MADV_RANDOM);
	} else if ((vm->cfg.nfs ? gm_init_shared : gm_init)(&vm->mem, vm->cfg.mem_bytes, e)) {
		return -1;
	}
	for (unsigned i = 0; i < vm->mem.nregions; i++) {
		struct kvm_userspace_memory_region r = {
			.slot = i,
			.guest_phys_addr = vm->mem.r[i].gpa,
			.memory_size = vm->mem.r[i].len,
			.userspace_addr = (uint64_t)(uintptr_t)(vm->mem.host + vm->mem.r[i].host_off),
		};
		if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r))
			return err_sys(e, "KVM_SET_USER_MEMORY_REGION (%llu MiB)",
				       (unsigned long long)(r.memory_size / MIB));
	}
	if (kvm_supported_cpuid(&vm->kvm, &vm->cpuid, e))
		return -1;
	for (unsigned i = 0; i < vm->ncpus; i++)
		if (vcpu_create(vm, i, e))
			return -1;
	vm->t.vm_created = vm_elapsed(vm);
	return 0;
}

uint64_t vm_window_base(const struct guest_mem *gm)
{
	uint64_t end = MMIO_GAP_END;
	for (unsigned i = 0; i < gm->nregions; i++)
		if (gm->r[i].gpa + gm->r[i].len > end)
			end = gm->r[i].gpa + gm->r[i].len;
	return (end + DEVICE_WINDOW_ALIGN - 1) & ~(DEVICE_WINDOW_ALIGN - 1);
}

int vm_map_window(struct vm *vm, void *host, uint64_t len, bool readonly, uint64_t *gpa, struct err *e)
{
	if (vm->nwindows == VM_MAX_WINDOWS)
		return err_set(e, "too many device memory windows (max %u)", VM_MAX_WINDOWS);
	if (!len || len % DEVICE_WINDOW_GRAIN || (uintptr_t)host % 4096)
		return err_set(e, "device memory window of %llu bytes: not a multiple of %llu MiB",
			       (unsigned long long)len, DEVICE_WINDOW_GRAIN / MIB);
	if (readonly && ioctl(vm->kvm.fd, KVM_CHECK_EXTENSION, KVM_CAP_READONLY_MEM) <= 0)
		return err_set(e, "this host's KVM has no read-only memory slots (KVM_CAP_READONLY_MEM)");
	uint64_t at = vm_window_base(&vm->mem);
	if (vm->nwindows) {
		const struct vm_window *last = &vm->windows[vm->nwindows - 1];
		at = (last->gpa + last->len + DEVICE_WINDOW_ALIGN - 1) & ~(DEVICE_WINDOW_ALIGN - 1);
	}
	/* The guest must be able to address it (CPUID 0x80000008: physical
	 * address bits; 40 under QEMU's qemu64). */
	for (unsigned i = 0; vm->cpuid && i < vm->cpuid->nent; i++) {
		const struct kvm_cpuid_entry2 *c = &vm->cpuid->entries[i];
		unsigned bits = c->eax & 0xff;
		if (c->function == 0x80000008 && bits >= 32 && bits < 64 && at + len > (1ULL << bits))
			return err_set(e, "device memory window of %llu MiB at 0x%llx lies beyond the guest's %u "
				       "physical address bits", (unsigned long long)(len / MIB), (unsigned long long)at, bits);
	}
	/* Memory slots 0 and 1 are RAM (vm_create). */
	struct vm_window *w = &vm->windows[vm->nwindows];
	*w = (struct vm_window){ .gpa = at, .len = len, .host = host, .slot = 2 + vm->nwindows, .readonly = readonly };
	struct kvm_userspace_memory_region r = {
		.slot = w->slot,
		.flags = readonly ? KVM_MEM_READONLY : 0,
		.guest_phys_addr = w->gpa,
		.memory_size = w->len,
		.userspace_addr = (uint64_t)(uintptr_t)host,
	};
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r))
		return err_sys(e, "KVM_SET_USER_MEMORY_REGION (device window of %llu MiB at 0x%llx)",
			       (unsigned long long)(len / MIB), (unsigned long long)at);
	vm->nwindows++;
	*gpa = at;
	return 0;
}

int vm_map_window_ctx(const struct device_ctx *ctx, void *host, uint64_t len, bool readonly, uint64_t *gpa,
		      struct err *e)
{
	return vm_map_window(ctx->host, host, len, readonly, gpa, e);
}

static int build_cmdline(const struct vm *vm, char *out, size_t len, struct err *e)
{
	const struct vm_config *c = &vm->cfg;
	const char *base = c->cmdline ? c->cmdline : vm_default_cmdline(c->console);
	const char *dev = vm->virtio_cmdline;
	int n = snprintf(out, len, "%s%s%s%s%s", base, *dev ? " " : "", dev, c->append ? " " : "",
			 c->append ? c->append : "");
	if (n < 0 || (size_t)n >= len)
		return err_set(e, "kernel command line longer than %zu bytes", len - 1);
	return 0;
}

int vm_load(struct vm *vm, struct err *e)
{
	struct boot_image img;
	int fd = open(vm->cfg.kernel, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_sys(e, "kernel %s", vm->cfg.kernel);
	int r = kernel_load(&vm->mem, fd, &img, e);
	close(fd);
	if (r)
		return err_wrap(e, "kernel %s", vm->cfg.kernel);

	uint64_t initrd_addr = 0, initrd_size = 0;
	if (vm->cfg.initrd) {
		fd = open(vm->cfg.initrd, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return err_sys(e, "initrd %s", vm->cfg.initrd);
		r = initrd_load(&vm->mem, fd, &img, &initrd_addr, &initrd_size, e);
		close(fd);
		if (r)
			return err_wrap(e, "initrd %s", vm->cfg.initrd);
	}
	char cmdline[CMDLINE_MAX];
	if (build_cmdline(vm, cmdline, sizeof(cmdline), e))
		return -1;
	if (boot_write_tables(&vm->mem, e) || mptable_write(&vm->mem, vm->ncpus, e) < 0 ||
	    zero_page_setup(&vm->mem, &img, cmdline, initrd_addr, initrd_size, e))
		return -1;
	if (regs_set_boot_cpu(vm->vcpus[0].fd, img.entry, e))
		return err_wrap(e, "vCPU 0");
	vm->t.kernel_loaded = vm_elapsed(vm);
	return 0;
}

int vm_devices_init(struct vm *vm, struct err *e)
{
	serial_init(&vm->serial, vm->cfg.console ? STDOUT_FILENO : -1, serial_irq, vm);
	vm->serial.ending = &vm->end; /* a blocked console gives up once the VM ends */
	i8042_init(&vm->i8042, guest_reset, vm);
	event_port_init(&vm->events, event_clock, vm);
	if (bus_register(&vm->pio, SERIAL_COM1_PORT, 8, serial_io, &vm->serial, "serial", e) ||
	    bus_register(&vm->pio, I8042_DATA_PORT, 5, i8042_io, &vm->i8042, "i8042", e) ||
	    bus_register(&vm->pio, RESET_CF9_PORT, 1, reset_cf9_io, &vm->i8042, "reset", e) ||
	    bus_register(&vm->pio, SB_EVENT_PORT, SB_EVENT_PORT_LEN, event_port_io, &vm->events,
			 "event-port", e))
		return -1;
	/* virtio devices: each module creates what its part of the config
	 * asks for, over a context that is all it sees of the VM */
	const struct device_ctx ctx = { .mem = &vm->mem, .loop = &vm->loop, .attach = virtio_attach_ctx,
					.map_window = vm_map_window_ctx, .host = vm };
	for (const struct device_module *const *m = device_modules; *m; m++)
		if ((*m)->create(&ctx, &vm->cfg, e))
			return -1;
	return 0;
}

/* Append where each vCPU stopped: helps tell a hung guest from a slow one. */
static void describe_vcpus(struct vm *vm, struct err *e)
{
	size_t used = strlen(e->msg);
	for (unsigned i = 0; i < vm->ncpus && used < sizeof(e->msg) - 1; i++) {
		struct kvm_regs r;
		struct kvm_mp_state mp = { 0 };
		if (ioctl(vm->vcpus[i].fd, KVM_GET_REGS, &r))
			break;
		ioctl(vm->vcpus[i].fd, KVM_GET_MP_STATE, &mp);
		int n = snprintf(e->msg + used, sizeof(e->msg) - used, "%s vCPU%u rip=0x%llx%s runs=%llu io=%llu mmio=%llu eintr=%llu",
				 i ? "," : ";", i, (unsigned long long)r.rip,
				 mp.mp_state == KVM_MP_STATE_HALTED ? " (halted)" : "",
				 (unsigned long long)vm->vcpus[i].nruns, (unsigned long long)vm->vcpus[i].nexits_io,
				 (unsigned long long)vm->vcpus[i].nexits_mmio, (unsigned long long)vm->vcpus[i].nintr);
		if (n < 0)
			break;
		used += (size_t)n;
	}
}

static const char *end_name(int end)
{
	switch (end) {
	case VM_END_RESET: return "reset";
	case VM_END_SHUTDOWN: return "shutdown";
	case VM_END_TIMEOUT: return "timeout";
	case VM_END_ERROR: return "error";
	case VM_END_SIGNAL: return "signal";
	case VM_END_DONE: return "done";
	}
	return "running";
}

/* KVM's own counters (kvm_stats.h): what never reaches the VMM as an
 * exit, above all the nested page faults. One line, names prefixed kvm_. */
static void print_kvm_stats(struct vm *vm)
{
	uint64_t sum[KS_N] = { 0 };
	uint32_t found = 0;
	struct err e;
	for (unsigned i = 0; i < vm->ncpus; i++)
		if (vm->vcpus[i].stats_fd >= 0 && kvm_stats_collect(vm->vcpus[i].stats_fd, sum, &found, &e))
			return;
	if (vm->stats_fd >= 0 && kvm_stats_collect(vm->stats_fd, sum, &found, &e))
		return;
	if (!found)
		return;
	fprintf(stderr, "sandbox-kvm-stats:");
	for (unsigned k = 0; k < KS_N; k++)
		if (found & (1u << k))
			fprintf(stderr, " kvm_%s=%llu", kvm_stat_names[k], (unsigned long long)sum[k]);
	fprintf(stderr, "\n");
}

static void print_timings(struct vm *vm, int status)
{
	double ms = 1e-6;
	uint64_t init = atomic_load(&vm->events.init_reached_ns);
	long long guest = gm_resident_bytes(&vm->mem);
	long hwm = proc_status_kib("VmHWM"), rss = proc_status_kib("VmRSS");
	fprintf(stderr,
		"sandbox-timings: vm_created_ms=%.3f kernel_loaded_ms=%.3f first_run_ms=%.3f "
		"init_reached_ms=%.3f exit_ms=%.3f cpu_to_first_run_ms=%.3f end=%s status=%d "
		"rss_peak_kib=%ld rss_kib=%ld guest_resident_kib=%lld vmm_rss_kib=%lld\n",
		vm->t.vm_created * ms, vm->t.kernel_loaded * ms, vm->t.first_run * ms,
		init * ms, vm->t.exit * ms, vm->t.cpu_to_first_run * ms, end_name(atomic_load(&vm->end)),
		status, hwm, rss, guest / 1024, guest >= 0 && rss >= 0 ? rss - guest / 1024 : -1);
	print_kvm_stats(vm);
}

/* The snapshot's state file, whole, into memory: checked as a whole
 * (format.h) before any of it is used. */
static uint8_t *read_state_file(int fd, size_t *len, struct err *e)
{
	size_t cap = SNAP_HDR_SIZE + SNAP_MAX_PAYLOAD + 1, n = 0;
	uint8_t *buf = malloc(cap);
	if (!buf) {
		err_oom(e, "snapshot");
		return NULL;
	}
	for (;;) {
		ssize_t r = pread(fd, buf + n, cap - n, (off_t)n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err_sys(e, "reading the snapshot");
			free(buf);
			return NULL;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n == cap) {
			err_set(e, "the snapshot's state file is larger than any snapshot");
			free(buf);
			return NULL;
		}
	}
	*len = n;
	return buf;
}

/* The snapshot's working set, if it has a usable one (the owner checked
 * it too, and says when it is not: here it is only not used). */
static void load_working_set(struct vm *vm)
{
	int fd = vm->cfg.restore_ws_fd;
	if (fd < 0)
		return;
	size_t cap = ws_file_size(vm->mem.size) + 1, n = 0;
	uint8_t *buf = malloc(cap);
	while (buf && n < cap) {
		ssize_t r = pread(fd, buf + n, cap - n, (off_t)n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	struct err e;
	if (buf && ws_parse(buf, n, vm->mem.size, &vm->ws, &e) == 0) {
		vm->ws_file = buf;
		return;
	}
	free(buf);
}

static int vm_restore(struct vm *vm, struct err *e)
{
	size_t len;
	uint8_t *file = read_state_file(vm->cfg.restore_state_fd, &len, e);
	if (!file)
		return -1;
	int r = snapshot_restore(vm, file, len, e);
	free(file);
	if (r)
		return err_wrap(e, "restoring the snapshot");
	load_working_set(vm);
	/* to record a working set later (control.c), read after the jail */
	vm->pagemap_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	snapshot_kick_devices(vm);
	vm->t.kernel_loaded = vm_elapsed(vm);
	return 0;
}

int vm_prepare(struct vm *vm, struct err *e)
{
	vm->control.listen_fd = vm->control.stop_fd = -1;
	vm->pagemap_fd = -1;
	vm->stats_fd = -1;
	for (unsigned i = 0; i < ARRAY_SIZE(vm->vcpus); i++)
		vm->vcpus[i].stats_fd = -1;
	vm->ws_file = NULL;
	if (kvm_open(&vm->kvm, KVM_DEV_PATH, vm->cfg.allow_pvm, e))
		return -1;
	if (vm->kvm.pvm)
		fprintf(stderr, "sandbox: warning: %s\n", kvm_pvm_advice);
	if (vcpu_state_msr_list(vm->kvm.fd, e))
		return -1;
	if (vm_create(vm, e) || vm_devices_init(vm, e))
		return -1;
	if (vm->cfg.timings) {   /* read at the end, after the jail (read(2) only) */
		vm->stats_fd = kvm_stats_open(vm->vm_fd);
		for (unsigned i = 0; i < vm->ncpus; i++)
			vm->vcpus[i].stats_fd = kvm_stats_open(vm->vcpus[i].fd);
	}
	if (vm->cfg.restore ? vm_restore(vm, e) : vm_load(vm, e))
		return -1;
	if (vm->cfg.control[0] && control_listen(&vm->control, vm->cfg.control, e))
		return -1;
	return 0;
}

int vm_seccomp_enter(struct vm *vm, enum sb_seccomp_thread kind)
{
	if (vm->cfg.no_seccomp)
		return 0;
	struct err e;
	if (seccomp_install(kind, &e)) {
		vm_request_end(vm, VM_END_ERROR, e.msg);
		return -1;
	}
	return 0;
}

/* The device thread's start hook (struct evloop): its filter. */
static int loop_thread_start(void *arg, struct err *e)
{
	struct vm *vm = arg;
	return vm->cfg.no_seccomp ? 0 : seccomp_install(SB_SECCOMP_EVLOOP, e);
}

int vm_run(struct vm *vm, struct err *e)
{
	/* The jail (jail/jail.h): everything is open and no thread runs yet. */
	if (jail_enter(vm, e))
		return 125;
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIG_END);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGWINCH);
	sigaddset(&set, SIG_FORWARD);
	/* Blocked here and in every vCPU thread (they inherit the mask). */
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	vm->main_thread = pthread_self();
	/* sandbox run's relay thread: after the jail (unshare needs a
	 * single-threaded process), with these signals blocked. */
	if (vm->on_start && vm->on_start(vm->on_signal_arg, e))
		return 125;
	if (control_start(&vm->control, vm, e))
		return 125;

	/* Per-thread seccomp filters (jail/seccomp.c): the device thread loads
	 * its own from the loop's start hook, before its first event, and
	 * evloop_start waits for it; the vCPU threads before their first
	 * KVM_RUN; this thread once they are all started. */
	vm->loop.on_start = loop_thread_start;
	vm->loop.on_start_arg = vm;
	if (evloop_start(&vm->loop, e))
		vm_request_end(vm, VM_END_ERROR, e->msg);
	for (unsigned i = 0; i < vm->ncpus && !atomic_load(&vm->end); i++) {
		if (vcpu_start(&vm->vcpus[i], e)) {
			vm_request_end(vm, VM_END_ERROR, e->msg);
			break;
		}
	}
	if (!atomic_load(&vm->end))
		vm_seccomp_enter(vm, SB_SECCOMP_MAIN);
	uint64_t deadline = vm->cfg.timeout_s ? now_ns() + vm->cfg.timeout_s * 1000000000ULL : 0;
	int sig_end = 0;
	while (!atomic_load(&vm->end)) {
		siginfo_t si;
		int sig;
		if (deadline) {
			uint64_t now = now_ns();
			if (now >= deadline) {
				char msg[96];
				snprintf(msg, sizeof(msg), "guest did not end within %u s (--timeout)", vm->cfg.timeout_s);
				vm_request_end(vm, VM_END_TIMEOUT, msg);
				break;
			}
			uint64_t left = deadline - now;
			struct timespec ts = { .tv_sec = (time_t)(left / 1000000000ULL),
					       .tv_nsec = (long)(left % 1000000000ULL) };
			sig = sigtimedwait(&set, &si, &ts);
		} else {
			sig = sigwaitinfo(&set, &si);
		}
		if (sig == SIG_FORWARD) {
			if (vm->on_signal && si.si_code == SI_QUEUE)
				vm->on_signal(vm->on_signal_arg, si.si_value.sival_int);
		} else if (vm->on_signal && sig > 0 && sig != SIG_END) {
			vm->on_signal(vm->on_signal_arg, sig);
		} else if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP || sig == SIGQUIT) {
			sig_end = sig;
			vm_request_end(vm, VM_END_SIGNAL, "VMM interrupted");
		}
	}
	control_stop(&vm->control);
	for (unsigned i = 0; i < vm->ncpus; i++)
		if (vm->vcpus[i].started)
			pthread_join(vm->vcpus[i].thread, NULL);
	evloop_stop(&vm->loop);
	serial_flush(&vm->serial);
	if (!vm->t.exit)
		vm->t.exit = vm_elapsed(vm);
	vm->t.init_reached = atomic_load(&vm->events.init_reached_ns);

	int end = atomic_load(&vm->end), reported = atomic_load(&vm->events.exit_status), status;
	switch (end) {
	case VM_END_RESET:
	case VM_END_SHUTDOWN:
	case VM_END_DONE:
		status = reported >= 0 ? reported : 0;
		break;
	case VM_END_TIMEOUT:
		status = 124;
		err_set(e, "%s", vm->end_msg);
		if (!vm->on_signal)     /* sandbox run: the guest is not the question */
			describe_vcpus(vm, e);
		break;
	case VM_END_SIGNAL:
		status = 128 + sig_end;
		err_set(e, "%s", vm->end_msg);
		break;
	default:
		status = 125;
		err_set(e, "%s", vm->end_msg);
		break;
	}
	if (vm->cfg.timings)
		print_timings(vm, status);
	return status;
}

void vm_destroy(struct vm *vm)
{
	control_stop(&vm->control);
	evloop_stop(&vm->loop);
	for (unsigned i = 0; i < vm->nvirtio; i++) {
		struct virtio_dev *d = vm->virtio[i].dev;
		if (d->ops->destroy)
			d->ops->destroy(d);
	}
	virtio_detach_all(vm);
	evloop_free(&vm->loop);
	for (unsigned i = 0; i < vm->ncpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		if (v->run)
			munmap(v->run, (size_t)vm->kvm.run_size);
		if (v->fd > 0)
			close(v->fd);
		if (v->stats_fd >= 0)
			close(v->stats_fd);
		v->stats_fd = -1;
	}
	if (vm->stats_fd >= 0)
		close(vm->stats_fd);
	vm->stats_fd = -1;
	free(vm->cpuid);
	gm_free(&vm->mem);
	free(vm->ws_file);
	vm->ws_file = NULL;
	if (vm->pagemap_fd >= 0)
		close(vm->pagemap_fd);
	vm->pagemap_fd = -1;
	if (vm->vm_fd > 0)
		close(vm->vm_fd);
	kvm_close(&vm->kvm);
}
