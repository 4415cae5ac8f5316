/* One microVM: its KVM handles, memory, buses, devices and vCPUs.
 * All state a snapshot would need lives in plain structs (struct vcpu_state,
 * struct serial_state, ...) apart from host resources (fds, threads).
 *
 * Start-up order (main.c): vm_config → kvm_open() → vm_create() →
 * vm_devices_init() → vm_load() → vm_run() → vm_destroy(). */
#ifndef SANDBOX_VM_H
#define SANDBOX_VM_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "arch/x86/layout.h"
#include "bus.h"
#include "control.h"
#include "config.h"
#include "devices/serial.h"
#include "devices/i8042.h"
#include "devices/event_port.h"
#include "evloop.h"
#include "jail/seccomp.h"
#include "virtio/mmio.h"
#include "kvm.h"
#include "memory.h"
#include "snapshot/workingset.h"
#include "util.h"

#define VM_MAX_VIRTIO 16

/* A virtio-mmio device attached to the VM (virtio/attach.c). */
struct virtio_slot {
	struct vm *vm;
	struct virtio_dev *dev;
	int irqfd;
	int kickfd[VIRTIO_MAX_QUEUES];
	struct virtio_kick {
		struct virtio_slot *slot;
		unsigned q;
	} kick[VIRTIO_MAX_QUEUES];
};

/* A device memory window (vm_map_window): host memory the guest sees at
 * GPA, above RAM, in its own KVM memory slot. The device owns HOST. */
struct vm_window {
	uint64_t gpa, len;
	void *host;
	unsigned slot;
	bool readonly;          /* KVM_MEM_READONLY: guest writes exit as MMIO */
};

/* Why the guest ended. */
enum vm_end {
	VM_RUNNING = 0,
	VM_END_RESET,          /* keyboard-controller or port 0xcf9 reset */
	VM_END_SHUTDOWN,       /* triple fault (KVM_EXIT_SHUTDOWN) or system event */
	VM_END_TIMEOUT,        /* --timeout expired */
	VM_END_ERROR,          /* KVM or VMM failure: see vm.end_msg */
	VM_END_SIGNAL,         /* the VMM got SIGINT/SIGTERM/SIGHUP */
	VM_END_DONE,           /* the embedder has what it needed (sandbox run: the agent's EXIT) */
};

/* Phase timestamps, ns since VMM start (0 = not reached). */
struct vm_timings {
	uint64_t start;            /* absolute now_ns() at main() */
	uint64_t vm_created, kernel_loaded, first_run, init_reached, exit;
	uint64_t prefault_ns;      /* a restore's working set mapped, in */
	long prefault_pages;
	long populated_pages;      /* of them copied up front (written) */
	uint64_t cpu_to_first_run; /* process CPU ns at the first KVM_RUN */
};

struct vcpu {
	struct vm *vm;
	unsigned id;
	int fd;
	uint64_t nruns, nexits_io, nexits_mmio, nintr; /* statistics */
	int stats_fd;              /* KVM's counters (kvm_stats.h), --timings only; -1 */
	struct kvm_run *run;
	pthread_t thread;
	bool started;
};

struct vcpu_state;

/* Pausing (vm_pause): each vCPU thread parks between two KVM_RUNs, after
 * KVM completed any port or MMIO access in flight, so its state is whole;
 * asked to, it saves that state first (snapshots). */
struct vm_pause {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool want;                 /* park (set by vm_pause, cleared by vm_resume) */
	unsigned parked;           /* vCPU threads parked now */
	struct vcpu_state *save;   /* non-NULL: each parked vCPU saves into save[id] */
	int save_failed;           /* a vCPU could not save: its message below */
	char save_msg[600];
};

struct vm {
	struct vm_config cfg;
	struct kvm kvm;
	int vm_fd;
	struct guest_mem mem;
	struct bus pio, mmio;
	struct vcpu vcpus[64];
	unsigned ncpus;
	struct kvm_cpuid2 *cpuid;  /* supported CPUID, before per-vCPU filtering */

	unsigned nwindows;
	struct vm_window windows[VM_MAX_WINDOWS];

	struct serial serial;
	struct i8042 i8042;
	struct event_port events;
	struct evloop loop;        /* the device thread */
	unsigned nvirtio;
	struct virtio_slot virtio[VM_MAX_VIRTIO];
	char virtio_cmdline[VM_MAX_VIRTIO * 48]; /* virtio_mmio.device=... */

	struct vm_pause pause;
	struct vm_control control; /* the control socket, if cfg.control */
	_Atomic int end;           /* enum vm_end; first writer wins */
	char end_msg[512];
	struct vm_timings t;
	/* A restored VM: the snapshot's working set (prefetched by vCPU 0
	 * before the guest runs; NULL if none or unusable), and
	 * /proc/self/pagemap, opened before the jail, to record one. */
	uint8_t *ws_file;
	struct ws ws;
	int pagemap_fd;
	int stats_fd;              /* the VM's KVM counters (kvm_stats.h), --timings only; -1 */
	pthread_t main_thread;     /* woken with SIG_END when the guest ends */
	/* sandbox run: SIGINT, SIGTERM, SIGHUP, SIGQUIT and SIGWINCH, and the
	 * signal carried by SIG_FORWARD, are for the container: vm_run hands
	 * them to this hook (on the main thread) instead of ending the VM. */
	void (*on_signal)(void *arg, int sig);
	void *on_signal_arg;
	/* Called by vm_run once jailed, before any thread starts. */
	int (*on_start)(void *arg, struct err *e);
};

#define SIG_END SIGUSR2
/* `sandbox kill ID SIG` queues this to the VMM with SIG as its value
 * (sigqueue), so that even SIGKILL reaches the container, not the VMM. */
#define SIG_FORWARD (SIGRTMIN + 4)

int vm_create(struct vm *vm, struct err *e);
/* kvm_open → vm_create → vm_devices_init → vm_load, for both commands. */
int vm_prepare(struct vm *vm, struct err *e);
int vm_load(struct vm *vm, struct err *e);
int vm_devices_init(struct vm *vm, struct err *e);
/* Runs until the guest ends; returns the VMM's exit status. */
int vm_run(struct vm *vm, struct err *e);
void vm_destroy(struct vm *vm);

/* Ask every vCPU to stop; REASON is recorded if it is the first. MSG may be
 * NULL. Safe from any thread. */
void vm_request_end(struct vm *vm, enum vm_end reason, const char *msg);
/* Load KIND's seccomp filter on the calling thread unless --no-seccomp;
 * a failure ends the VM (-1). */
int vm_seccomp_enter(struct vm *vm, enum sb_seccomp_thread kind);
/* Raise/lower a GSI on the in-kernel irqchip. */
void vm_irq_line(struct vm *vm, unsigned gsi, int level);
/* ns since VMM start. */
uint64_t vm_elapsed(const struct vm *vm);

/* Stop every started vCPU between two KVM_RUNs and wait until they all
 * are; with SAVE (ncpus entries) each saves its state there first.
 * Returns -1 if the VM ends meanwhile or a save failed. */
int vm_pause(struct vm *vm, struct vcpu_state *save, struct err *e);
/* Let them run again. */
void vm_resume(struct vm *vm);

/* vcpu.c */
int vcpu_create(struct vm *vm, unsigned id, struct err *e);
int vcpu_start(struct vcpu *v, struct err *e);
void vcpu_kick_all(struct vm *vm);

/* virtio/attach.c: give DEV a register window, an interrupt (irqfd) and
 * queue kicks (ioeventfds on the device thread), and announce it on the
 * guest command line. Call between vm_create() and vm_load(). DEV is the
 * VM's from the call on, also when it fails: freed with ops->destroy, at
 * once if it never got a slot, else by vm_destroy(). */
int virtio_attach(struct vm *vm, struct virtio_dev *dev, struct err *e);
struct device_ctx;
/* The same for a device module (devices/modules.h): CTX->host is the VM. */
int virtio_attach_ctx(const struct device_ctx *ctx, struct virtio_dev *dev, struct err *e);
void virtio_detach_all(struct vm *vm);

/* Show LEN bytes of host memory at HOST (page-aligned, LEN a multiple of
 * DEVICE_WINDOW_GRAIN) to the guest at the next free window above RAM
 * (*GPA), in a memory slot of its own; READONLY: a KVM_MEM_READONLY slot,
 * so guest writes never reach HOST (they exit as MMIO and are dropped).
 * The caller keeps HOST mapped for the VM's life. */
int vm_map_window(struct vm *vm, void *host, uint64_t len, bool readonly, uint64_t *gpa, struct err *e);
/* The same for a device module: CTX->host is the VM. */
int vm_map_window_ctx(const struct device_ctx *ctx, void *host, uint64_t len, bool readonly, uint64_t *gpa,
		      struct err *e);
/* The first guest-physical address a device window may use (above RAM). */
uint64_t vm_window_base(const struct guest_mem *gm);

/* The default guest command line (before --append). */
const char *vm_default_cmdline(bool console);

#endif
