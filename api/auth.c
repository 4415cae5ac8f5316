/* Who may ask (http.h): the bearer token, or the dashboard's session
 * cookie plus its CSRF token for anything that changes state. */
#include "http.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define SESSION_MAX 64
#define SESSION_SECONDS (12 * 3600)

static struct session sessions[SESSION_MAX];
static pthread_mutex_t session_lock = PTHREAD_MUTEX_INITIALIZER;

bool equal_ct(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char d = la != lb;
	for (size_t i = 0; i < la && i < lb; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return !d;
}

static void random_hex(char out[65])
{
	unsigned char b[32];
	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		abort();        /* no randomness: no sessions worth having */
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

static bool session_find(const char *sid, char csrf[65])
{
	bool ok = false;
	long long now = (long long)time(NULL);
	pthread_mutex_lock(&session_lock);
	for (int i = 0; i < SESSION_MAX; i++)
		if (sessions[i].sid[0] && sessions[i].expires > now && equal_ct(sessions[i].sid, sid)) {
			memcpy(csrf, sessions[i].csrf, 65);
			ok = true;
		}
	pthread_mutex_unlock(&session_lock);
	return ok;
}

void session_new(struct session *out)
{
	long long now = (long long)time(NULL);
	pthread_mutex_lock(&session_lock);
	int slot = 0;
	for (int i = 0; i < SESSION_MAX; i++) {
		if (!sessions[i].sid[0] || sessions[i].expires <= now) {
			slot = i;
			break;
		}
		if (sessions[i].expires < sessions[slot].expires)
			slot = i;
	}
	random_hex(sessions[slot].sid);
	random_hex(sessions[slot].csrf);
	sessions[slot].expires = now + SESSION_SECONDS;
	*out = sessions[slot];
	pthread_mutex_unlock(&session_lock);
}

void session_end(const char *sid)
{
	pthread_mutex_lock(&session_lock);
	for (int i = 0; i < SESSION_MAX; i++)
		if (sessions[i].sid[0] && equal_ct(sessions[i].sid, sid))
			memset(&sessions[i], 0, sizeof(sessions[i]));
	pthread_mutex_unlock(&session_lock);
}

/* Bearer token, or a session cookie; no token configured: everyone that
 * reaches the socket (its mode keeps others out). */
void authenticate(struct MHD_Connection *c, struct req *q)
{
	if (!api_conf.token) {
		q->authed = true;
		return;
	}
	const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	if (auth && !strncmp(auth, "Bearer ", 7) && equal_ct(auth + 7, api_conf.token)) {
		q->authed = true;
		return;
	}
	const char *sid = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "sandbox_session");
	if (sid && session_find(sid, q->csrf)) {
		q->authed = true;
		q->by_cookie = true;
	}
}

/* A request that changes state, authenticated by the cookie alone, must
 * carry the session's CSRF token (header, or the form's csrf field): a
 * page of another site can make the browser send the cookie, not know
 * the token. SameSite=Strict on the cookie is the second wall. */
bool csrf_ok(struct MHD_Connection *c, struct req *q, const char *method)
{
	if (!q->by_cookie || !strcmp(method, "GET") || !strcmp(method, "HEAD"))
		return true;
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-CSRF-Token");
	if (h)
		return equal_ct(h, q->csrf);
	char field[80];
	return q->body && !form_get(q->body, q->len, "csrf", field, sizeof(field)) && equal_ct(field, q->csrf);
}
