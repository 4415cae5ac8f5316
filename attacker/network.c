/* The network as an attacker sees it: sniffing, the host over vsock,
 * the host's loopback, abstract unix sockets. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/vm_sockets.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "attacker.h"
#include "inside.h"

int a_sniff(void)
{
	long s = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	res("packet_socket", s, 1);
	struct if_nameindex *ifs = if_nameindex(), *i;
	int n = 0;
	printf("interfaces=");
	for (i = ifs; i && i->if_index; i++)
		printf("%s%s", n++ ? "," : "", i->if_name);
	printf("%s\nnon_lo=", n ? "" : "-");
	n = 0;
	for (i = ifs; i && i->if_index; i++)
		if (strcmp(i->if_name, "lo"))
			n++;
	printf("%d\n", n);
	if (ifs)
		if_freenameindex(ifs);
	return 0;
}

int a_vsock(void)
{
	long s = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
	res("socket", s, 0);
	if (s >= 0) {
		struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_HOST, .svm_port = 1024 };
		res("connect_host_1024", connect((int)s, (struct sockaddr *)&a, sizeof(a)), 0);
		close((int)s);
	}
	return 0;
}

/* TCP connect with a 2 s limit: OK or the errno name. */
static const char *tcp_try(const char *addr, int port)
{
	int fd, e = inside_tcp_connect(addr, port, 2000, &fd);
	if (e)
		return ename(e);
	close(fd);
	return "OK";
}

int a_hostlo(int port)
{
	static const char *const addrs[] = { "127.0.0.1", "10.0.2.2", "172.30.0.1", "172.17.0.1" };
	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++)
		printf("%s=%s\n", addrs[i], tcp_try(addrs[i], port));
	return 0;
}

int a_abstract(const char *name)
{
	struct sockaddr_un su;
	socklen_t l = inside_abstract_addr(name, &su);
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		printf("connect=%s\n", ename(errno));
		return 0;
	}
	res("connect", connect(s, (struct sockaddr *)&su, l), 0);
	close(s);
	return 0;
}
