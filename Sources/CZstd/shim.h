#ifndef TESSERA_CZSTD_SHIM_H
#define TESSERA_CZSTD_SHIM_H
#include <zstd.h>
#endif
