# The devices built (configs/devices syntax): the i440FX PC and what its
# defaults create (the parallel port), and isa-debug-exit for lab/qemu/test.
CONFIG_I440FX=y
CONFIG_PARALLEL=y
CONFIG_ISA_DEBUG=y
