/* TAP backend for virtio-net: open (or create) a tap interface with a
 * virtio-net header in front of every frame, and the few host-side
 * settings the VMM makes on it (up, IPv4 address, bridge port). */
#ifndef SANDBOX_TAP_H
#define SANDBOX_TAP_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "util.h"

/* Open /dev/net/tun and attach to tap NAME (created if missing; a tap
 * created here disappears when the fd closes): IFF_TAP | IFF_NO_PI |
 * IFF_VNET_HDR, header size HDR_LEN, non-blocking, no offloads yet.
 * Returns the fd or -1. */
int tap_open(const char *name, int hdr_len, struct err *e);
/* TUNSETOFFLOAD: which offloaded frames (TUN_F_*) the tap may hand us. */
int tap_set_offload(int fd, unsigned flags);
/* Bring interface NAME up. */
int tap_set_up(const char *name, struct err *e);
/* Give NAME the address ADDR/PREFIX (replacing its first IPv4 address). */
int tap_set_ipv4(const char *name, struct in_addr addr, unsigned prefix, struct err *e);
/* Make NAME a port of the existing bridge BRIDGE. */
int tap_enslave(const char *name, const char *bridge, struct err *e);

#endif
