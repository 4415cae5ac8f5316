/* virtio-blk: not built yet. Asking for it is a clear error. */
#include "../vm.h"
#include "modules.h"

const char blk_usage[] = "";

int blk_devices_init(struct vm *vm, struct err *e)
{
	if (vm->cfg.ndisks)
		return err_set(e, "virtio-blk is not implemented yet");
	return 0;
}
