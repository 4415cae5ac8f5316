/* virtio-rng (virtio 1.x, 5.4): entropy for the guest from the host's
 * getrandom(). The guest sees /dev/hwrng and its kernel seeds its own
 * pool from it (snapshot clones will need that to reseed).
 *
 *   --rng on | rate=BYTES[,burst=BYTES]
 *
 * One request queue of device-writable buffers; each is filled with up to
 * RNG_MAX_REQ random bytes and completed with the number written. Every
 * chain goes through the virtq helpers (addresses, lengths, loops and
 * order checked there); a chain with an error or with anything readable
 * or nothing writable in it is completed empty and counted.
 *
 * Rate limit: a token bucket of BURST bytes (default RNG_DEFAULT_BURST)
 * refilled at RATE bytes per second (default RNG_DEFAULT_RATE, 1 MiB/s).
 * A request is served with what the bucket holds; an empty bucket leaves
 * it in the ring and a timer on the device thread comes back when enough
 * has accrued (RNG_MIN_FILL bytes, or the whole request if smaller), so
 * a guest asking without end gets RATE bytes a second and costs the host
 * a bounded amount of work, never a busy loop. */
#include <errno.h>
#include <linux/virtio_ids.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "modules.h"

#define RNG_DEFAULT_RATE (1024u * 1024)     /* bytes per second */
#define RNG_DEFAULT_BURST (64u * 1024)      /* bucket size */
#define RNG_MAX_RATE (1024ULL * 1024 * 1024)
#define RNG_MAX_REQ (64u * 1024)            /* bytes per request */
#define RNG_MIN_FILL 1024u                  /* wait for this much before serving */
#define RNG_BATCH 64                        /* requests per run before yielding */
#define RNG_RETRY_NS 10000000ULL            /* getrandom had nothing: 10 ms */

static const char rng_usage[] =
	"--rng on | rate=BYTES[,burst=BYTES]\n"
	"  virtio-rng device (/dev/hwrng in the guest): random bytes from the host's\n"
	"  getrandom(), at most RATE bytes a second (default 1M) with bursts of up\n"
	"  to BURST bytes (default 64K); sizes take K, M or G (a plain number is\n"
	"  MiB). A guest asking for more waits; the host does no more work.\n";

struct rng {
	struct virtio_dev dev;          /* first: d->priv and the container are the same */
	struct evloop *loop;
	int timer_fd;
	bool timer_armed;               /* under dev.lock */
	uint64_t rate, burst;
	uint64_t tokens;                /* bytes the bucket holds */
	uint64_t last_ns;               /* refilled up to this time */
	uint64_t served, bad;           /* requests: filled / completed empty */
	struct virtq_chain chain;
	uint8_t buf[4096];
};

/* ------------------------------------------------------------------ */
/* the bucket */

static void refill(struct rng *r)
{
	uint64_t now = now_ns();
	if (now <= r->last_ns)
		return;
	unsigned __int128 add = (unsigned __int128)(now - r->last_ns) * r->rate / 1000000000u;
	if (r->tokens + add >= r->burst) {
		r->tokens = r->burst;
		r->last_ns = now;
		return;
	}
	r->tokens += (uint64_t)add;
	/* Keep the fraction of a byte not yet earned for the next refill. */
	r->last_ns += (uint64_t)(add * 1000000000u / r->rate);
}

/* Come back in NS nanoseconds (once: an armed timer stays as it is). */
static void arm(struct rng *r, uint64_t ns)
{
	if (r->timer_armed || r->timer_fd < 0)
		return;
	if (ns < 1000)
		ns = 1000;
	struct itimerspec its = { .it_value = { .tv_sec = (time_t)(ns / 1000000000u),
						 .tv_nsec = (long)(ns % 1000000000u) } };
	if (timerfd_settime(r->timer_fd, 0, &its, NULL) == 0)
		r->timer_armed = true;
}

/* ------------------------------------------------------------------ */
/* requests */

/* Fill LEN bytes of chain C's writable part with random bytes; the bytes
 * written (short only if getrandom is short of entropy right now). */
static uint64_t fill(struct rng *r, const struct virtq_chain *c, uint64_t len)
{
	uint64_t done = 0;
	while (done < len) {
		size_t n = len - done < sizeof(r->buf) ? (size_t)(len - done) : sizeof(r->buf);
		ssize_t got = getrandom(r->buf, n, GRND_NONBLOCK);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		uint64_t w = virtq_chain_write(r->dev.gm, c, done, r->buf, (uint64_t)got);
		done += w;
		if (w < (uint64_t)got)
			break;
	}
	explicit_bzero(r->buf, sizeof(r->buf));
	return done;
}

static void rng_queue_notify(struct virtio_dev *d, unsigned qi)
{
	struct rng *r = d->priv;
	struct virtq *q = &d->vq[qi];
	unsigned done = 0;
	bool yield = false;
	for (;;) {
		if (done == RNG_BATCH) {
			yield = true;
			break;
		}
		if (virtio_next_chain(d, qi, &r->chain) != 1)
			break;
		const struct virtq_chain *c = &r->chain;
		if (c->err || c->read_len || c->write_len == 0) {
			/* Not a request we can serve: give it back empty. */
			r->bad++;
			virtq_push(q, d->gm, c->head, 0);
			done++;
			continue;
		}
		uint64_t want = c->write_len < RNG_MAX_REQ ? c->write_len : RNG_MAX_REQ;
		uint64_t need = want < RNG_MIN_FILL ? want : RNG_MIN_FILL;
		if (need > r->burst)
			need = r->burst; /* a bucket smaller than that never holds more */
		refill(r);
		if (r->tokens < need) {
			/* Leave it in the ring until the bucket holds NEED. */
			virtq_unpop(q, 1);
			arm(r, ((need - r->tokens) * 1000000000u + r->rate - 1) / r->rate);
			break;
		}
		uint64_t n = fill(r, c, want < r->tokens ? want : r->tokens);
		if (n == 0) {
			virtq_unpop(q, 1);
			arm(r, RNG_RETRY_NS);
			break;
		}
		r->tokens -= n;
		r->served++;
		virtq_push(q, d->gm, c->head, (uint32_t)n); /* n <= RNG_MAX_REQ */
		done++;
	}
	if (yield && d->kick)
		d->kick(d, qi); /* let the other devices on this thread run; come back */
	if (done)
		virtio_notify_used(d, qi);
}

/* The bucket has refilled (device thread). */
static void rng_timer(void *ctx, uint32_t events)
{
	struct rng *r = ctx;
	uint64_t n;
	(void)events;
	if (read(r->timer_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return;
	pthread_mutex_lock(&r->dev.lock);
	r->timer_armed = false;
	pthread_mutex_unlock(&r->dev.lock);
	virtio_process_queue(&r->dev, 0);
}

static void rng_destroy(struct virtio_dev *d)
{
	struct rng *r = d->priv;
	/* Not evloop_del(): the teardown's seccomp filter has no epoll_ctl
	 * (it killed the VMM with SIGSYS at exit); closing the fd leaves the
	 * epoll set. */
	if (r->timer_fd >= 0) {
		evloop_forget(r->loop, r->timer_fd);
		close(r->timer_fd);
	}
	pthread_mutex_destroy(&d->lock);
	free(r);
}

static const struct virtio_ops rng_ops = {
	.name = "virtio-rng",
	.device_id = VIRTIO_ID_RNG,
	.nqueues = 1,
	.features = 0,
	.config_size = 0,
	.queue_notify = rng_queue_notify,
	.destroy = rng_destroy,
};

/* ------------------------------------------------------------------ */
/* the module: --rng */

static int parse_bytes(const char *spec, const char *key, const char *v, size_t n, uint64_t *out, struct err *e)
{
	char num[32];
	if (n == 0 || n >= sizeof(num))
		return err_set(e, "--rng '%s': %s wants a size such as 64K or 1M", spec, key);
	memcpy(num, v, n);
	num[n] = '\0';
	if (parse_size(num, out) || *out == 0 || *out > RNG_MAX_RATE)
		return err_set(e, "--rng '%s': %s wants a size from 1 byte to 1G (such as 64K or 1M)", spec, key);
	return 0;
}

static int rng_module_parse(const char *arg, struct vm_config *c, struct err *e)
{
	if (c->has_rng)
		return err_set(e, "--rng: one rng device at most");
	c->rng = (struct rng_config){ 0 };
	if (strcmp(arg, "on")) {
		for (const char *p = arg;;) {
			const char *end = strchr(p, ',');
			size_t n = end ? (size_t)(end - p) : strlen(p);
			if (n > 5 && !strncmp(p, "rate=", 5)) {
				if (parse_bytes(arg, "rate", p + 5, n - 5, &c->rng.rate, e))
					return -1;
			} else if (n > 6 && !strncmp(p, "burst=", 6)) {
				if (parse_bytes(arg, "burst", p + 6, n - 6, &c->rng.burst, e))
					return -1;
			} else {
				return err_set(e, "--rng '%s': unknown option '%.*s' (want on, or rate=BYTES[,burst=BYTES])",
					       arg, (int)n, p);
			}
			if (!end)
				break;
			p = end + 1;
		}
	}
	c->has_rng = true;
	return 0;
}

static int rng_module_create(const struct device_ctx *ctx, const struct vm_config *c, struct err *e)
{
	if (!c->has_rng)
		return 0;
	if (c->rng.rate > RNG_MAX_RATE || c->rng.burst > RNG_MAX_RATE)
		return err_set(e, "--rng: rate and burst are at most 1G");
	/* The host's pool must be ready before the guest asks: the device
	 * thread reads it without blocking, and a host whose CRNG is not yet
	 * initialised (a freshly booted one with little entropy, such as the
	 * nested test host) would otherwise give nothing and the guest's
	 * first read would wait for as long as that lasts. On a host that has
	 * been up this returns at once; else it waits (once per boot) for the
	 * kernel's own seeding. */
	uint8_t probe;
	ssize_t got;
	while ((got = getrandom(&probe, 1, 0)) < 0 && errno == EINTR)
		;
	if (got != 1)
		return err_sys(e, "--rng: getrandom");
	struct rng *r = calloc(1, sizeof(*r));
	if (!r)
		return err_set(e, "--rng: out of memory");
	r->loop = ctx->loop;
	r->rate = c->rng.rate ? c->rng.rate : RNG_DEFAULT_RATE;
	r->burst = c->rng.burst ? c->rng.burst : RNG_DEFAULT_BURST;
	r->tokens = r->burst;
	r->last_ns = now_ns();
	virtio_dev_init(&r->dev, &rng_ops, r, ctx->mem);
	r->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (r->timer_fd < 0) {
		err_sys(e, "--rng: timerfd_create");
		rng_destroy(&r->dev);
		return -1;
	}
	if (evloop_add(ctx->loop, r->timer_fd, EPOLLIN, rng_timer, r, e)) {
		close(r->timer_fd);
		r->timer_fd = -1;
		rng_destroy(&r->dev);
		return err_wrap(e, "--rng");
	}
	if (ctx->attach(ctx, &r->dev, e))
		return err_wrap(e, "--rng");
	return 0;
}

const struct device_module rng_module = {
	.name = "virtio-rng",
	.option = "rng",
	.arg = "SPEC",
	.summary = "virtio-rng device (entropy, rate-limited), see below",
	.usage = rng_usage,
	.parse = rng_module_parse,
	.create = rng_module_create,
};
