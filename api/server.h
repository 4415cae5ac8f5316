/* server.c's start: the daemon on LISTEN_FD (a bound, listening socket). */
#ifndef SANDBOX_API_SERVER_H
#define SANDBOX_API_SERVER_H

#include "api.h"

struct MHD_Daemon;
struct MHD_Daemon *server_start(int listen_fd, const struct server_conf *cf, struct err *e);

#endif
