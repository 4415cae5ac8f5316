/* virtio-net: not built yet. Asking for it is a clear error. */
#include "../vm.h"
#include "modules.h"

const char net_usage[] = "";

int net_device_init(struct vm *vm, struct err *e)
{
	if (vm->cfg.net_opts)
		return err_set(e, "virtio-net is not implemented yet");
	return 0;
}
