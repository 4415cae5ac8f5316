/* The contract between the VMM on the host and the init inside the guest.
 * Shared by vmm/ and guest-init/: change both sides together. */
#ifndef SANDBOX_ABI_H
#define SANDBOX_ABI_H

/* The guest event port: an x86 I/O port range that no PC device uses.
 * Guest init needs CAP_SYS_RAWIO (ioperm) to use it; the container never
 * gets that capability. */
#define SB_EVENT_PORT        0x440
#define SB_EVENT_PORT_LEN    3

/* offset 0, byte write: an event. */
#define SB_EVENT_INIT_REACHED 123   /* init is running: stops the boot timer */

/* offset 1, byte write: the exit status the guest reports before it ends.
 * The VMM exits with it once the guest resets. */
#define SB_EVENT_EXIT_STATUS_OFF 1

/* offset 2, byte writes: the guest's last words, one byte each, for an
 * init that fails before the agent channel exists (nothing else reaches
 * the host then: the console is off). The VMM keeps the first
 * SB_EVENT_WORDS_MAX bytes, printable ones only, and says them if the
 * guest ends without a status from the container. */
#define SB_EVENT_WORDS_OFF 2
#define SB_EVENT_WORDS_MAX 160

#endif
