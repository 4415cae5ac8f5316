/* The VMM's own commands: `sandbox vm` (boot a kernel in a microVM, its
 * options parsed into struct vm_config) and `sandbox kvm-check`. */
#include "vmm.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch/x86/layout.h"
#include "devices/modules.h"
#include "vm.h"

#define EXIT_VMM_ERROR 125
#define MAX_MODULES 16

void vmm_usage(FILE *f)
{
	fprintf(f,
		"\n"
		"sandbox vm --kernel FILE [options]\n"
		"  --kernel FILE    vmlinux (ELF, preferred) or bzImage\n"
		"  --initrd FILE    initramfs (uncompressed cpio) to pass to the kernel\n"
		"  --mem SIZE       guest memory, e.g. 128M, 1G (default 128M)\n"
		"  --cpus N         vCPUs, 1..%u (default 1)\n"
		"  --console        guest serial console on stdout (off by default: slower)\n"
		"  --cmdline STR    replace the default kernel command line\n"
		"  --append STR     append to the kernel command line\n"
		"  --timings        print phase timings and memory at exit (stderr)\n"
		"  --timeout SEC    stop the guest after SEC seconds (exit 124)\n"
		"  --allow-pvm      try to boot even on a PVM host (it will fail)\n"
		"  --no-seccomp     run without the per-thread seccomp filters (debugging only)\n"
		"  --jail           confine the VMM (namespaces, a tmpfs root, no capabilities,\n"
		"                   --jail-uid, rlimits, a cgroup); default when run as root\n"
		"  --no-jail        do not (debugging only)\n"
		"  --jail-uid N     the jailed VMM's uid and gid (default 65534)\n",
		MAX_VCPUS);
	for (const struct device_module *const *m = device_modules; *m; m++) {
		int n = fprintf(f, "  --%s %s", (*m)->option, (*m)->arg);
		fprintf(f, "%*s%s\n", n < 19 ? 19 - n : 1, "", (*m)->summary);
	}
	fprintf(f,
		"%s"
		"\n"
		"exit status: the status the guest init reported, 0 if the guest reset\n"
		"without reporting one, 124 on timeout, 125 on a VMM or KVM error.\n",
		devices_usage());
}


int vmm_kvm_check(void)
{
	struct kvm k;
	struct err e;
	if (kvm_host_is_pvm()) {
		printf("pvm: %s\n", kvm_pvm_advice);
		return 1;
	}
	if (kvm_open(&k, KVM_DEV_PATH, false, &e)) {
		printf("no: %s\n", e.msg);
		return 1;
	}
	kvm_close(&k);
	printf("ok: %s can boot Linux guests natively\n", KVM_DEV_PATH);
	return 0;
}

static int parse_vm_args(int argc, char **argv, struct vm_config *c, struct err *e)
{
	enum { O_KERNEL = 256, O_INITRD, O_MEM, O_CPUS, O_CONSOLE, O_CMDLINE, O_APPEND, O_TIMINGS,
	       O_TIMEOUT, O_ALLOW_PVM, O_NO_SECCOMP, O_JAIL, O_NO_JAIL, O_JAIL_UID, O_HELP,
	       O_MODULE /* + the module's index */ };
	static const struct option fixed[] = {
		{ "kernel", required_argument, 0, O_KERNEL },
		{ "initrd", required_argument, 0, O_INITRD },
		{ "mem", required_argument, 0, O_MEM },
		{ "cpus", required_argument, 0, O_CPUS },
		{ "console", no_argument, 0, O_CONSOLE },
		{ "cmdline", required_argument, 0, O_CMDLINE },
		{ "append", required_argument, 0, O_APPEND },
		{ "timings", no_argument, 0, O_TIMINGS },
		{ "timeout", required_argument, 0, O_TIMEOUT },
		{ "allow-pvm", no_argument, 0, O_ALLOW_PVM },
		{ "no-seccomp", no_argument, 0, O_NO_SECCOMP },
		{ "jail", no_argument, 0, O_JAIL },
		{ "no-jail", no_argument, 0, O_NO_JAIL },
		{ "jail-uid", required_argument, 0, O_JAIL_UID },
		{ "help", no_argument, 0, O_HELP },
	};
	/* Then one option per device module (devices/modules.h). */
	struct option opts[ARRAY_SIZE(fixed) + MAX_MODULES + 1];
	unsigned nopts = 0, nmod = 0;
	for (; nopts < ARRAY_SIZE(fixed); nopts++)
		opts[nopts] = fixed[nopts];
	for (; device_modules[nmod] && nmod < MAX_MODULES; nmod++)
		opts[nopts++] = (struct option){ device_modules[nmod]->option, required_argument, 0, O_MODULE + (int)nmod };
	opts[nopts] = (struct option){ 0, 0, 0, 0 };
	*c = (struct vm_config){ .mem_bytes = 128 * MIB, .ncpus = 1 };
	opterr = 0;
	optind = 1;
	int o;
	char *end;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case O_KERNEL: c->kernel = optarg; break;
		case O_INITRD: c->initrd = optarg; break;
		case O_MEM:
			if (parse_size(optarg, &c->mem_bytes))
				return err_set(e, "--mem: '%s' is not a size (try 128M or 1G)", optarg);
			break;
		case O_CPUS: {
			unsigned long n = strtoul(optarg, &end, 10);
			if (*optarg == '\0' || *end || n < 1 || n > MAX_VCPUS)
				return err_set(e, "--cpus: '%s' is not a number from 1 to %u", optarg, MAX_VCPUS);
			c->ncpus = (unsigned)n;
			break;
		}
		case O_CONSOLE: c->console = true; break;
		case O_CMDLINE: c->cmdline = optarg; break;
		case O_APPEND: c->append = optarg; break;
		case O_TIMINGS: c->timings = true; break;
		case O_TIMEOUT: {
			unsigned long n = strtoul(optarg, &end, 10);
			if (*optarg == '\0' || *end || n < 1 || n > 86400 * 365)
				return err_set(e, "--timeout: '%s' is not a number of seconds", optarg);
			c->timeout_s = (unsigned)n;
			break;
		}
		case O_ALLOW_PVM: c->allow_pvm = true; break;
		case O_NO_SECCOMP: c->no_seccomp = true; break;
		case O_JAIL: c->jail = 1; break;
		case O_NO_JAIL: c->jail = -1; break;
		case O_JAIL_UID: {
			unsigned long n = strtoul(optarg, &end, 10);
			if (*optarg == '\0' || *end || n < 1 || n >= 0xffffffffUL)
				return err_set(e, "--jail-uid: '%s' is not a non-zero uid", optarg);
			c->jail_uid = (unsigned)n;
			break;
		}
		case O_HELP: vmm_usage(stdout); exit(0);
		default:
			if (o >= O_MODULE && o < O_MODULE + (int)nmod) {
				if (device_modules[o - O_MODULE]->parse(optarg, c, e))
					return -1;
				break;
			}
			return err_set(e, "unknown or incomplete option '%s' (see sandbox --help)", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return err_set(e, "unexpected argument '%s'", argv[optind]);
	if (!c->kernel)
		return err_set(e, "--kernel is required (e.g. build/guest-vmlinux)");
	if (c->mem_bytes % (2 * MIB))
		c->mem_bytes = (c->mem_bytes + 2 * MIB - 1) & ~(2 * MIB - 1);
	return 0;
}

int vmm_main(int argc, char **argv, uint64_t start)
{
	static struct vm vm; /* large; zeroed */
	struct err e = { 0 };
	vm.t.start = start;
	vm.vm_fd = -1;
	vm.kvm.fd = -1;
	/* As sandbox run does: a console reader that went away (| head) is
	 * EPIPE for the serial port, which then drops output; the guest still
	 * ends and its status is still ours. */
	signal(SIGPIPE, SIG_IGN);
	if (parse_vm_args(argc, argv, &vm.cfg, &e))
		goto fail;
	if (vm_prepare(&vm, &e))
		goto fail;
	e.msg[0] = '\0';
	int status = vm_run(&vm, &e);
	if (e.msg[0])
		fprintf(stderr, "sandbox: %s\n", e.msg);
	/* what its init said through the event port, unless the console
	 * (where it said it too) is already on our stdout */
	const char *words = event_port_words(&vm.events);
	if (words[0] && !vm.cfg.console)
		fprintf(stderr, "sandbox: the guest's last words: %s\n", words);
	vm_destroy(&vm);
	return status;
fail:
	fprintf(stderr, "sandbox: %s\n", e.msg);
	vm_destroy(&vm);
	return EXIT_VMM_ERROR;
}
