/* virtio-vsock (virtio 1.x, 5.10): stream sockets between the guest and
 * host sockets, in Firecracker's model. This file is the --vsock module:
 * the option, and the device put together from its layers (vsock_dev.h
 * lists them): the virtio device, the connection layer, the Unix-socket
 * muxer as the default backend, and for sandbox run the agent endpoint on
 * SB_AGENT_PORT.
 *
 *   --vsock cid=N,uds=PATH
 *
 * Host-initiated: a host process connects to the Unix socket PATH (the
 * VMM listens there) and writes "CONNECT <port>\n"; the VMM asks the guest
 * (OP_REQUEST to that port), answers "OK <host_port>\n" when the guest
 * accepts (OP_RESPONSE) or closes the Unix connection when it refuses
 * (OP_RST), then relays bytes both ways. Guest-initiated: a guest connect
 * to (CID 2, port P) makes the VMM connect to the Unix socket "PATH_P";
 * if nothing listens there the guest gets OP_RST.
 *
 * Connections are keyed by (host port, guest port). Flow control is the
 * spec's credit scheme in both directions:
 *  - guest -> host: we advertise VSOCK_BUF_ALLOC bytes per connection and
 *    our fwd_cnt (bytes written to the socket). Payload goes straight
 *    from guest memory to the socket; what the socket does not take waits
 *    in a per-connection ring of at most VSOCK_BUF_ALLOC bytes, so a slow
 *    reader runs the guest out of credit instead of growing our memory. A
 *    guest that sends beyond its credit is reset, never silently cut.
 *    CREDIT_UPDATE goes out when the guest's view of our free space falls
 *    below half and we have drained more.
 *  - host -> guest: we read a socket only while the guest's credit
 *    (buf_alloc - (tx_cnt - fwd_cnt) from its headers) is positive and it
 *    has RX buffers; otherwise the socket leaves the epoll set until a
 *    CREDIT_UPDATE or an RX kick, so the host writer blocks in its socket.
 *    Reads go straight into the guest's RX buffers (several per readv).
 * Half-close: host EOF -> SHUTDOWN(SEND) to the guest after the data;
 * guest SHUTDOWN(SEND) -> shutdown(SHUT_WR) once our ring is drained;
 * guest SHUTDOWN(both) -> RST back and close once drained.
 *
 * Every guest packet is checked: a readable 44-byte header, len within the
 * chain, src_cid = the guest's, dst_cid = 2, a known op and type. A bad
 * packet is dropped (or answered with RST when it names a connection or
 * an unsupported type) and the device keeps serving. */
#include "vsock_dev.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../common/proto.h"
#include "modules.h"

static const char vsock_usage[] =
	"--vsock cid=N,uds=PATH\n"
	"  virtio-vsock device: guest CID N (3 or more) with Unix-socket host ends\n"
	"  (Firecracker's model). The VMM listens on PATH: a host process connects,\n"
	"  writes \"CONNECT <port>\\n\" and gets \"OK <host_port>\\n\" once a guest\n"
	"  socket on <port> accepts (the connection closes if none does). A guest\n"
	"  connect to CID 2 port P goes to the Unix socket PATH_P. PATH must not\n"
	"  contain ','; a stale socket file at PATH is replaced.\n";

int vsock_parse(const char *spec, struct vsock_config *cfg, struct err *e)
{
	memset(cfg, 0, sizeof(*cfg));
	bool have_cid = false;
	const char *p = spec;
	while (*p) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (n > 4 && !strncmp(p, "cid=", 4)) {
			char num[24];
			if (n - 4 >= sizeof(num))
				return err_set(e, "--vsock '%s': bad cid", spec);
			memcpy(num, p + 4, n - 4);
			num[n - 4] = '\0';
			char *x;
			errno = 0;
			unsigned long long v = strtoull(num, &x, 10);
			if (*x || num[0] < '0' || num[0] > '9' || errno || v < 3 || v >= 0xffffffffULL)
				return err_set(e, "--vsock '%s': cid must be a number from 3 to 4294967294", spec);
			cfg->cid = v;
			have_cid = true;
		} else if (n > 4 && !strncmp(p, "uds=", 4)) {
			/* Room for the listener, and for "_PORT" of guest connects. */
			if (n - 4 >= sizeof(cfg->uds))
				return err_set(e, "--vsock '%s': uds path longer than %zu bytes", spec,
					       sizeof(cfg->uds) - 1);
			memcpy(cfg->uds, p + 4, n - 4);
			cfg->uds[n - 4] = '\0';
		} else {
			return err_set(e, "--vsock '%s': unknown option '%.*s' (want cid=N,uds=PATH)", spec, (int)n, p);
		}
		p += n;
		if (*p == ',')
			p++;
	}
	if (!have_cid || !cfg->uds[0])
		return err_set(e, "--vsock '%s': want cid=N,uds=PATH", spec);
	return 0;
}

struct vsock *vsock_create(const struct vsock_config *cfg, struct evloop *loop, const struct guest_mem *gm,
			   struct err *e)
{
	struct vsock *vs = vsock_dev_new(cfg->cid, loop, gm, e);
	if (!vs)
		return NULL;
	if (vsock_add_unix(vs, cfg->uds, e)) {
		vsock_destroy(vsock_virtio(vs));
		return NULL;
	}
	return vs;
}

static int vsock_module_parse(const char *arg, struct vm_config *c, struct err *e)
{
	if (c->has_vsock)
		return err_set(e, "--vsock: one vsock device at most");
	if (vsock_parse(arg, &c->vsock, e))
		return -1;
	c->has_vsock = true;
	return 0;
}

static int vsock_module_create(const struct device_ctx *ctx, const struct vm_config *c, struct err *e)
{
	if (!c->has_vsock)
		return 0;
	struct vsock *vs = vsock_create(&c->vsock, ctx->loop, ctx->mem, e);
	if (!vs) {
		if (c->has_agent)
			close(c->agent_fd);
		return -1;
	}
	/* sandbox run's agent channel: the device's endpoint for the agent's
	 * port, whatever listens beside PATH. */
	if (c->has_agent && vsock_add_agent(vs, SB_AGENT_PORT, c->agent_fd, e)) {
		close(c->agent_fd);
		vsock_destroy(vsock_virtio(vs));
		return -1;
	}
	if (ctx->attach(ctx, vsock_virtio(vs), e))
		return err_wrap(e, "--vsock");
	return 0;
}

const struct device_module vsock_module = {
	.name = "virtio-vsock",
	.option = "vsock",
	.arg = "SPEC",
	.summary = "virtio-vsock device, see below",
	.usage = vsock_usage,
	.parse = vsock_module_parse,
	.create = vsock_module_create,
};
