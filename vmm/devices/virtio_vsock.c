/* virtio-vsock: not built yet. Asking for it is a clear error. */
#include "../vm.h"
#include "modules.h"

const char vsock_usage[] = "";

int vsock_device_init(struct vm *vm, struct err *e)
{
	if (vm->cfg.vsock_opts)
		return err_set(e, "virtio-vsock is not implemented yet");
	return 0;
}
