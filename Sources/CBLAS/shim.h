#ifndef TESSERA_CBLAS_SHIM_H
#define TESSERA_CBLAS_SHIM_H
#include <cblas.h>

/* OpenBLAS extensions Tessera reads at start-up (declared in openblas_config.h / cblas.h). */
char *openblas_get_corename(void);
char *openblas_get_config(void);
void openblas_set_num_threads(int num_threads);
#endif
