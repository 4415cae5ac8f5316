/* vCPU threads: one per vCPU, each looping on KVM_RUN and dispatching port
 * and MMIO exits to the buses. Anything the guest does that we cannot
 * serve ends the VM with a reason; nothing a guest does kills the VMM. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "arch/x86/regs.h"
#include "arch/x86/vcpu_state.h"
#include "jail/seccomp.h"
#include "vm.h"

#define SIG_KICK SIGUSR1

static void kick_handler(int sig) { (void)sig; }

int vcpu_create(struct vm *vm, unsigned id, struct err *e)
{
	struct vcpu *v = &vm->vcpus[id];
	v->vm = vm;
	v->id = id;
	v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (v->fd < 0)
		return err_sys(e, "KVM_CREATE_VCPU %u", id);
	v->run = mmap(NULL, (size_t)vm->kvm.run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) {
		v->run = NULL;
		return err_sys(e, "mapping vCPU %u's kvm_run", id);
	}
	if (regs_set_cpuid(v->fd, vm->cpuid, id, vm->ncpus, vm->kvm.tsc_deadline, e) || regs_set_lapic(v->fd, e))
		return err_wrap(e, "vCPU %u", id);
	return 0;
}

static void handle_io(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint64_t size = run->io.size, count = run->io.count;
	uint64_t off = run->io.data_offset;
	uint64_t total = size * count;
	if (size == 0 || size > 8 || count == 0 || off > (uint64_t)v->vm->kvm.run_size ||
	    total > (uint64_t)v->vm->kvm.run_size - off) {
		vm_request_end(v->vm, VM_END_ERROR, "malformed port I/O exit from KVM");
		return;
	}
	uint8_t *data = (uint8_t *)run + off;
	bool is_write = run->io.direction == KVM_EXIT_IO_OUT;
	for (uint64_t i = 0; i < count; i++)
		bus_dispatch(&v->vm->pio, run->io.port, data + i * size, (uint32_t)size, is_write);
}

static void handle_mmio(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint32_t len = run->mmio.len;
	if (len == 0 || len > sizeof(run->mmio.data)) {
		vm_request_end(v->vm, VM_END_ERROR, "malformed MMIO exit from KVM");
		return;
	}
	bus_dispatch(&v->vm->mmio, run->mmio.phys_addr, run->mmio.data, len, run->mmio.is_write);
}

/* Returns false when the loop should stop. */
static bool handle_exit(struct vcpu *v)
{
	struct vm *vm = v->vm;
	struct kvm_run *run = v->run;
	char msg[400];
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		v->nexits_io++;
		handle_io(v);
		return true;
	case KVM_EXIT_MMIO:
		v->nexits_mmio++;
		handle_mmio(v);
		return true;
	case KVM_EXIT_INTR:
		return true;
	case KVM_EXIT_SHUTDOWN:
		vm_request_end(vm, VM_END_SHUTDOWN, "guest shut down (triple fault)");
		return false;
	case KVM_EXIT_SYSTEM_EVENT:
		if (run->system_event.type == KVM_SYSTEM_EVENT_RESET)
			vm_request_end(vm, VM_END_RESET, "guest reset (system event)");
		else
			vm_request_end(vm, VM_END_SHUTDOWN, "guest shut down (system event)");
		return false;
	case KVM_EXIT_HLT:
		vm_request_end(vm, VM_END_SHUTDOWN, "guest halted");
		return false;
	case KVM_EXIT_INTERNAL_ERROR:
		snprintf(msg, sizeof(msg), "KVM internal error (suberror %u) on vCPU %u%s%s",
			 run->internal.suberror, v->id, vm->kvm.pvm ? "; " : "",
			 vm->kvm.pvm ? "expected here: this host's KVM is PVM, which cannot run a stock Linux guest "
				       "(run it in tests/kvmhost/run)" : "");
		vm_request_end(vm, VM_END_ERROR, msg);
		return false;
	case KVM_EXIT_FAIL_ENTRY:
		snprintf(msg, sizeof(msg), "KVM could not enter the guest on vCPU %u (hardware reason 0x%llx)",
			 v->id, (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		vm_request_end(vm, VM_END_ERROR, msg);
		return false;
	default:
		snprintf(msg, sizeof(msg), "unexpected KVM exit reason %u on vCPU %u", run->exit_reason, v->id);
		vm_request_end(vm, VM_END_ERROR, msg);
		return false;
	}
}

/* vm_pause asked us to stop: KVM_RUN has just returned (so KVM finished
 * any port or MMIO access in flight, as its API asks before a save).
 * Save if asked, count ourselves parked, wait for vm_resume or the end. */
static void park(struct vcpu *v)
{
	struct vm *vm = v->vm;
	struct vm_pause *p = &vm->pause;
	pthread_mutex_lock(&p->lock);
	if (p->want) {
		if (p->save) {
			struct err e;
			if (vcpu_state_save(v->fd, &p->save[v->id], &e)) {
				p->save_failed = 1;
				snprintf(p->save_msg, sizeof(p->save_msg), "vCPU %u: %s", v->id, e.msg);
			}
		}
		p->parked++;
		pthread_cond_broadcast(&p->cond);
		while (p->want && !atomic_load(&vm->end))
			pthread_cond_wait(&p->cond, &p->lock);
		p->parked--;
		/* Run again, unless the VM ends: vm_request_end sets end before
		 * it sets immediate_exit, so an end is never lost here. */
		__atomic_store_n(&v->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
		if (atomic_load(&vm->end))
			__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	}
	pthread_mutex_unlock(&p->lock);
}

int vm_pause(struct vm *vm, struct vcpu_state *save, struct err *e)
{
	struct vm_pause *p = &vm->pause;
	unsigned n = 0;
	for (unsigned i = 0; i < vm->ncpus; i++)
		n += vm->vcpus[i].started;
	pthread_mutex_lock(&p->lock);
	if (p->want) {
		pthread_mutex_unlock(&p->lock);
		return err_set(e, "the sandbox is already paused");
	}
	p->want = true;
	p->save = save;
	p->save_failed = 0;
	for (unsigned i = 0; i < vm->ncpus; i++)
		if (vm->vcpus[i].run)
			__atomic_store_n(&vm->vcpus[i].run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	for (unsigned i = 0; i < vm->ncpus; i++)
		if (vm->vcpus[i].started)
			pthread_kill(vm->vcpus[i].thread, SIGUSR1);
	while (p->parked < n && !atomic_load(&vm->end))
		pthread_cond_wait(&p->cond, &p->lock);
	bool ended = atomic_load(&vm->end) != VM_RUNNING;
	int failed = p->save_failed;
	p->save = NULL;
	if (failed)
		err_set(e, "%s", p->save_msg);
	pthread_mutex_unlock(&p->lock);
	if (ended)
		return err_set(e, "the sandbox ended");
	if (failed) {
		vm_resume(vm);
		return -1;
	}
	return 0;
}

void vm_resume(struct vm *vm)
{
	struct vm_pause *p = &vm->pause;
	pthread_mutex_lock(&p->lock);
	p->want = false;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct vm *vm = v->vm;
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIG_KICK);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	/* A restored VM: the pages its clones are known to write are copied
	 * and KVM maps every page they touch now, each one a fault less once
	 * the guest runs (neither call is in this thread's allowlist: they
	 * come first). */
	if (v->id == 0 && vm->ws_file) {
		uint64_t t0 = now_ns();
		vm->t.populated_pages = ws_populate(&vm->mem, &vm->ws);
		vm->t.prefault_pages = ws_prefault(&vm->mem, v->fd, &vm->ws);
		vm->t.prefault_ns = now_ns() - t0;
	}
	/* This thread's allowlist, before the guest runs an instruction here. */
	if (vm_seccomp_enter(vm, SB_SECCOMP_VCPU))
		return NULL;

	if (v->id == 0) {
		vm->t.cpu_to_first_run = cpu_ns();
		vm->t.first_run = vm_elapsed(vm);
		if (vm->cfg.restore && vm->cfg.timings)
			fprintf(stderr, "sandbox-restore-timings: vm_created_ms=%.3f restored_ms=%.3f first_run_ms=%.3f "
					"prefault_ms=%.3f prefault_pages=%ld populated_pages=%ld\n",
				vm->t.vm_created * 1e-6, vm->t.kernel_loaded * 1e-6, vm->t.first_run * 1e-6,
				vm->t.prefault_ns * 1e-6, vm->t.prefault_pages, vm->t.populated_pages);
	}
	while (!atomic_load(&vm->end)) {
		v->nruns++;
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				v->nintr++;
				if (v->run->immediate_exit)
					park(v);
				continue;
			}
			char msg[128];
			snprintf(msg, sizeof(msg), "KVM_RUN on vCPU %u: %s", v->id, strerror(errno));
			vm_request_end(vm, VM_END_ERROR, msg);
			break;
		}
		if (!handle_exit(v))
			break;
	}
	return NULL;
}

int vcpu_start(struct vcpu *v, struct err *e)
{
	static bool handler_set;
	if (!handler_set) {
		struct sigaction sa = { .sa_handler = kick_handler }; /* no SA_RESTART */
		sigemptyset(&sa.sa_mask);
		if (sigaction(SIG_KICK, &sa, NULL))
			return err_sys(e, "sigaction");
		handler_set = true;
	}
	int r = pthread_create(&v->thread, NULL, vcpu_thread, v);
	if (r) {
		errno = r;
		return err_sys(e, "starting vCPU %u", v->id);
	}
	v->started = true;
	return 0;
}

void vcpu_kick_all(struct vm *vm)
{
	for (unsigned i = 0; i < vm->ncpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		if (v->run)
			__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	}
	for (unsigned i = 0; i < vm->ncpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		if (v->started && !pthread_equal(v->thread, pthread_self()))
			pthread_kill(v->thread, SIG_KICK);
	}
}
