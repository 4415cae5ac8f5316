/* `sandbox run`: its options and --help. */

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/loop.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <stdarg.h>
#include <limits.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "arch/x86/layout.h"
#include "relay.h"
#include "run_impl.h"
#include "state.h"
#include "storage.h"


void run_usage(FILE *f)
{
	fprintf(f,
		"usage: sandbox run [OPTIONS] IMAGE [CMD [ARG...]]\n"
		"\n"
		"  -i, --interactive      relay stdin to the container\n"
		"  -t, --tty              give the container a terminal (a pty in the guest)\n"
		"  -d, --detach           run in the background; print the id (see sandbox logs)\n"
		"      --rm               remove the sandbox's state when it ends\n"
		"      --name NAME        a name for ps, kill, stop, logs, rm, inspect\n"
		"  -e, --env K=V | K      set (K alone: copy from this environment)\n"
		"      --env-file FILE    K=V lines (# comments)\n"
		"  -w, --workdir DIR      working directory (default: the image's, or /)\n"
		"  -u, --user USER[:GROUP] name from the image's /etc/passwd, or numeric\n"
		"  -h, --hostname NAME    host name (default: the id's first 12 digits)\n"
		"      --cpus N           vCPUs (rounded up) and a CPU quota of N\n"
		"      --memory SIZE      the container's memory limit (e.g. 256m); the guest\n"
		"                         gets this plus 96m for its kernel (default guest: 128m)\n"
		"      --pids-limit N     at most N processes\n"
		"      --network none|tap none (default): loopback only; tap: a point-to-point\n"
		"                         link host 172.30.K.1 <-> guest 172.30.K.2 (root only)\n"
		"  -p [IP:]HOST:GUEST     forward TCP port HOST of this host's IP (default\n"
		"                         127.0.0.1; 0.0.0.0: every address) to GUEST (tap only;\n"
		"                         at most 256 connections at once per port)\n"
		"  -v FILE:PATH[:ro]      a disk image (ext4 or erofs) as a volume at PATH\n"
		"  -v DIR:PATH[:ro]       a host directory at PATH (virtio-fs in the VM, root\n"
		"                         only; a bind mount with --isolation container)\n"
		"      --storage SIZE     the writable layer: an ext4 disk of SIZE (default 1g,\n"
		"                         16m to 1024g), a sparse file: writing more is ENOSPC\n"
		"      --read-only        no writable root filesystem (and no --storage file)\n"
		"      --image-transport blk|pmem  how the VM reads the image: blk, a virtio\n"
		"                         disk; pmem, the host's page cache mapped into the\n"
		"                         guest (erofs images; shared by every sandbox)\n"
		"      --init             a reaper as PID 1, the command as its child\n"
		"      --timeout SECONDS  kill the sandbox if it runs longer (exit 124)\n"
		"      --ttl DURATION     stop and remove the sandbox after DURATION (30s, 10m,\n"
		"                         2h, 1d; plain digits: seconds)\n"
		"      --log-driver D     json-file (default with -d): its output kept as JSON\n"
		"                         lines for sandbox logs; journald; none\n"
		"      --log-opt K=V      max-size=SIZE (default 10m), max-file=N (default 2)\n"
		"      --kernel FILE      guest kernel (default: guest-vmlinux beside sandbox)\n"
		"      --initrd FILE      guest initramfs (default: guest-initramfs.cpio)\n"
		"      --from SNAPSHOT    a clone of a snapshot (sandbox snapshot) instead of IMAGE:\n"
		"                         with CMD, run it in the clone, exit with its status\n"
		"      --isolation vm|container  vm (default): own kernel in a microVM;\n"
		"                         container: namespaces on this host (the baseline)\n"
		"\n"
		"exit status: the container's; 125 sandbox failed; 126 the command cannot\n"
		"be run; 127 it was not found; 124 --timeout; 128+N killed by signal N.\n");
}

/* ------------------------------------------------------------------ */
/* options */

static int parse_size_ll(const char *s, long long *out)
{
	uint64_t v;
	if (parse_size(s, &v) || v > (1ULL << 50))
		return -1;
	*out = (long long)v;
	return 0;
}

static int add_env(struct run_opts *o, const char *kv, struct err *e)
{
	if ((size_t)o->nenv >= sizeof(o->env) / sizeof(o->env[0]))
		return err_set(e, "too many environment variables");
	if (!*kv || *kv == '=')
		return err_set(e, "--env '%s': want KEY=VALUE or KEY", kv);
	char *s;
	if (strchr(kv, '=')) {
		s = strdup(kv);
	} else {
		const char *v = getenv(kv);
		if (!v)
			return 0;   /* Docker: unset on the host, not set inside */
		if (asprintf(&s, "%s=%s", kv, v) < 0)
			s = NULL;
	}
	if (!s)
		return err_oom(e, "--env");
	o->env[o->nenv++] = s;
	return 0;
}

static int read_env_file(struct run_opts *o, const char *path, struct err *e)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return err_sys(e, "--env-file %s", path);
	char line[8192];
	int r = 0;
	while (!r && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		char *p = line;
		while (isspace((unsigned char)*p))
			p++;
		if (!*p || *p == '#')
			continue;
		r = add_env(o, p, e);
	}
	fclose(f);
	return r;
}

static bool valid_name(const char *n)
{
	if (!isalnum((unsigned char)n[0]) || strlen(n) > 63)
		return false;
	for (const char *p = n; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("_.-", *p))
			return false;
	return true;
}

int parse_run_args(int argc, char **argv, struct run_opts *o, struct err *e)
{
	enum { O_RM = 256, O_NAME, O_ENV_FILE, O_CPUS, O_MEMORY, O_PIDS, O_NETWORK, O_READ_ONLY, O_TIMEOUT,
	       O_KERNEL, O_INITRD, O_ISOLATION, O_INIT, O_STORAGE, O_FROM, O_IMAGE_TRANSPORT, O_TTL, O_LOG_DRIVER, O_LOG_OPT, O_HELP };
	static const struct option opts[] = {
		{ "interactive", no_argument, 0, 'i' }, { "tty", no_argument, 0, 't' },
		{ "detach", no_argument, 0, 'd' }, { "rm", no_argument, 0, O_RM },
		{ "name", required_argument, 0, O_NAME }, { "env", required_argument, 0, 'e' },
		{ "env-file", required_argument, 0, O_ENV_FILE }, { "workdir", required_argument, 0, 'w' },
		{ "user", required_argument, 0, 'u' }, { "hostname", required_argument, 0, 'h' },
		{ "cpus", required_argument, 0, O_CPUS }, { "memory", required_argument, 0, O_MEMORY },
		{ "pids-limit", required_argument, 0, O_PIDS }, { "network", required_argument, 0, O_NETWORK },
		{ "publish", required_argument, 0, 'p' }, { "volume", required_argument, 0, 'v' },
		{ "read-only", no_argument, 0, O_READ_ONLY }, { "timeout", required_argument, 0, O_TIMEOUT },
		{ "kernel", required_argument, 0, O_KERNEL }, { "initrd", required_argument, 0, O_INITRD },
		{ "isolation", required_argument, 0, O_ISOLATION }, { "init", no_argument, 0, O_INIT },
		{ "storage", required_argument, 0, O_STORAGE }, { "from", required_argument, 0, O_FROM },
		{ "image-transport", required_argument, 0, O_IMAGE_TRANSPORT },
		{ "ttl", required_argument, 0, O_TTL },
		{ "log-driver", required_argument, 0, O_LOG_DRIVER }, { "log-opt", required_argument, 0, O_LOG_OPT },
		{ "help", no_argument, 0, O_HELP }, { 0, 0, 0, 0 },
	};
	memset(o, 0, sizeof(*o));
	o->ready_fd = o->gate_fd = o->booted_fd = -1;
	o->network = "none";
	o->isolation = "vm";
	o->storage = STORAGE_DEFAULT;
	o->log = (struct log_conf){ .driver = LOG_NONE, .max_size = LOG_MAX_SIZE_DEFAULT, .max_files = LOG_MAX_FILES_DEFAULT };
	opterr = 0;
	optind = 1;
	int c;
	char *end;
	/* "+": options end at the image name; what follows is the command. */
	while ((c = getopt_long(argc, argv, "+itde:w:u:h:p:v:", opts, NULL)) != -1) {
		switch (c) {
		case 'i': o->interactive = true; break;
		case 't': o->tty = true; break;
		case 'd': o->detach = true; break;
		case O_RM: o->rm = true; break;
		case O_INIT: o->init = true; break;
		case O_NAME:
			if (!valid_name(optarg))
				return err_set(e, "--name '%s': want letters, digits, '_', '.', '-' (at most 63)", optarg);
			o->name = optarg;
			break;
		case 'e':
			if (add_env(o, optarg, e))
				return -1;
			break;
		case O_ENV_FILE:
			if (read_env_file(o, optarg, e))
				return -1;
			break;
		case 'w':
			if (optarg[0] != '/')
				return err_set(e, "--workdir '%s': must be an absolute path", optarg);
			o->workdir = optarg;
			break;
		case 'u':
			if (!*optarg)
				return err_set(e, "--user: empty");
			o->user = optarg;
			break;
		case 'h':
			if (!*optarg || strlen(optarg) > 63)
				return err_set(e, "--hostname '%s': 1 to 63 characters", optarg);
			o->hostname = optarg;
			break;
		case O_CPUS: {
			double v = strtod(optarg, &end);
			if (end == optarg || *end || !(v > 0) || v > MAX_VCPUS)
				return err_set(e, "--cpus: '%s' is not a number above 0 and at most %u", optarg, MAX_VCPUS);
			o->cpus = optarg;
			break;
		}
		case O_MEMORY:
			if (parse_size_ll(optarg, &o->memory) || o->memory < 4 * (long long)MIB)
				return err_set(e, "--memory: '%s' is not a size of at least 4m (try 256m or 1g)", optarg);
			break;
		case O_STORAGE: {
			uint64_t v;
			if (parse_size(optarg, &v) || v < STORAGE_MIN || v > STORAGE_MAX)
				return err_set(e, "--storage: '%s' is not a size from 16m to 1024g (try 256m or 10g)", optarg);
			o->storage = (v + MIB - 1) & ~(MIB - 1);        /* whole MiB */
			break;
		}
		case O_PIDS: {
			long v = strtol(optarg, &end, 10);
			if (end == optarg || *end || v < 1 || v > 4194304)
				return err_set(e, "--pids-limit: '%s' is not a number from 1 to 4194304", optarg);
			o->pids = v;
			break;
		}
		case O_FROM:
			o->from = optarg;
			break;
		case O_NETWORK:
			if (strcmp(optarg, "none") && strcmp(optarg, "tap"))
				return err_set(e, "--network: '%s' is not none or tap", optarg);
			o->network = optarg;
			o->network_set = true;
			break;
		case 'p': {
			unsigned h, g;
			struct in_addr ip;
			if (proxy_spec_parse(optarg, &ip, &h, &g))
				return err_set(e, "-p '%s': want [HOST_IP:]HOSTPORT:GUESTPORT (ports 1-65535, an IPv4 address)",
					       optarg);
			if (o->nports == 16)
				return err_set(e, "-p: at most 16 ports");
			o->ports[o->nports++] = optarg;
			break;
		}
		case 'v': {
			char *colon = strchr(optarg, ':');
			if (!colon || colon == optarg || colon[1] != '/')
				return err_set(e, "-v '%s': want FILE:/PATH[:ro] or DIR:/PATH[:ro] (a disk image or a host directory)", optarg);
			char *mode = strchr(colon + 1, ':');
			if (mode && strcmp(mode, ":ro") && strcmp(mode, ":rw"))
				return err_set(e, "-v '%s': the mode must be ro or rw", optarg);
			if (o->nvol == (int)(sizeof(o->volumes) / sizeof(o->volumes[0])))
				return err_set(e, "-v: at most %zu volumes", sizeof(o->volumes) / sizeof(o->volumes[0]));
			o->volumes[o->nvol++] = optarg;
			break;
		}
		case O_IMAGE_TRANSPORT:
			if (!strcmp(optarg, "blk"))
				o->image_transport = IMAGE_TRANSPORT_BLK;
			else if (!strcmp(optarg, "pmem"))
				o->image_transport = IMAGE_TRANSPORT_PMEM;
			else
				return err_set(e, "--image-transport: '%s' is not blk or pmem", optarg);
			break;
		case O_READ_ONLY: o->read_only = true; break;
		case O_TIMEOUT: {
			unsigned long v = strtoul(optarg, &end, 10);
			if (end == optarg || *end || v < 1 || v > 86400 * 365)
				return err_set(e, "--timeout: '%s' is not a number of seconds", optarg);
			o->timeout = (unsigned)v;
			break;
		}
		case O_TTL: {
			double v = strtod(optarg, &end);
			double mul = !*end ? 1 : !strcmp(end, "s") ? 1 : !strcmp(end, "m") ? 60 : !strcmp(end, "h") ? 3600 :
				     !strcmp(end, "d") ? 86400 : 0;
			if (end == optarg || !mul || !(v * mul >= 1) || v * mul > 86400.0 * 3650)
				return err_set(e, "--ttl: '%s' is not a duration of at least 1 s (30s, 10m, 2h, 1d)", optarg);
			o->ttl = (unsigned)(v * mul);
			break;
		}
		case O_LOG_DRIVER:
			if (log_parse_driver(optarg, &o->log.driver, e))
				return -1;
			o->log_given = true;
			break;
		case O_LOG_OPT:
			if (log_parse_opt(optarg, &o->log, e))
				return -1;
			break;
		case O_KERNEL: o->kernel = optarg; break;
		case O_INITRD: o->initrd = optarg; break;
		case O_ISOLATION:
			if (strcmp(optarg, "vm") && strcmp(optarg, "container"))
				return err_set(e, "--isolation: '%s' is not vm or container", optarg);
			o->isolation = optarg;
			break;
		case O_HELP:
			run_usage(stdout);
			exit(0);
		default:
			if (optopt && optopt < 256 && !strchr("ewuhpv", optopt))
				return err_set(e, "unknown option '-%c' (see sandbox run --help)", optopt);
			return err_set(e, "unknown or incomplete option '%s' (see sandbox run --help)", argv[optind - 1]);
		}
	}
	if (o->from) {
		/* The VM is the snapshot's: only what may differ between
		 * clones can be given (docs/snapshots.md). */
		if (o->nvol || o->memory || o->cpus || o->storage != STORAGE_DEFAULT || o->read_only || o->init ||
		    o->nenv || o->workdir || o->user || o->pids || o->network_set || o->kernel || o->initrd ||
		    o->image_transport != IMAGE_TRANSPORT_DEFAULT || strcmp(o->isolation, "vm"))
			return err_set(e, "--from: the sandbox is the snapshot's; of the run options only --name, "
					  "--hostname, --rm, -d, -i, -t, -p and --timeout go with it");
		if (argc - optind > 0 && o->detach)
			return err_set(e, "--from with a command runs it in a new clone and ends: it does not go with -d "
					  "(sandbox clone starts detached ones)");
		o->image = NULL;
		o->cmd = argv + optind;
		o->ncmd = argc - optind;
		return 0;
	}
	if (optind >= argc)
		return err_set(e, "no image given (sandbox run [OPTIONS] IMAGE [CMD...])");
	o->image = argv[optind++];
	o->cmd = argv + optind;
	o->ncmd = argc - optind;
	if (o->nports && strcmp(o->network, "tap"))
		return err_set(e, "-p needs --network tap (with --network none nothing can reach the sandbox)");
	if (!strcmp(o->isolation, "container") && strcmp(o->network, "none"))
		return err_set(e, "--isolation container supports --network none only");
	if (o->detach && (o->interactive || o->tty))
		return err_set(e, "-d cannot be combined with -i or -t");
	if (o->detach && !o->log_given)
		o->log.driver = LOG_JSON_FILE;
	if (o->tty && o->log.driver != LOG_NONE)
		return err_set(e, "--log-driver %s with -t: a terminal's output is not collected", log_driver_name(o->log.driver));
	return 0;
}
