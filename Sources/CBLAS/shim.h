#ifndef TESSERA_CBLAS_SHIM_H
#define TESSERA_CBLAS_SHIM_H
#include <cblas.h>

/* OpenBLAS extensions Tessera reads at start-up (declared in openblas_config.h / cblas.h). */
char *openblas_get_corename(void);
char *openblas_get_config(void);
void openblas_set_num_threads(int num_threads);

/* LAPACK's symmetric eigensolver, which libopenblas also exports (Fortran calling convention:
   every argument by pointer, column-major). Declared here because Debian ships no lapack.h with
   OpenBLAS. */
void ssyevd_(const char *jobz, const char *uplo, const int *n, float *a, const int *lda, float *w,
             float *work, const int *lwork, int *iwork, const int *liwork, int *info);
#endif
