#ifndef TRIDENT_CMPI_SHIM_H
#define TRIDENT_CMPI_SHIM_H
#include <mpi.h>

/* Open MPI's handles are macros that Swift cannot import; these wrap them. */
static inline MPI_Comm trident_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Comm trident_mpi_comm_null(void) { return MPI_COMM_NULL; }
static inline MPI_Datatype trident_mpi_byte(void) { return MPI_BYTE; }
static inline MPI_Datatype trident_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype trident_mpi_int32(void) { return MPI_INT32_T; }
static inline MPI_Datatype trident_mpi_uint16(void) { return MPI_UINT16_T; }
static inline MPI_Op trident_mpi_sum(void) { return MPI_SUM; }
static inline MPI_Op trident_mpi_max(void) { return MPI_MAX; }
static inline MPI_Op trident_mpi_min(void) { return MPI_MIN; }
static inline MPI_Op trident_mpi_op_null(void) { return MPI_OP_NULL; }
static inline void *trident_mpi_in_place(void) { return MPI_IN_PLACE; }
static inline MPI_Status *trident_mpi_status_ignore(void) { return MPI_STATUS_IGNORE; }
static inline MPI_Errhandler trident_mpi_errors_return(void) { return MPI_ERRORS_RETURN; }
static inline int trident_mpi_success(void) { return MPI_SUCCESS; }
static inline int trident_mpi_thread_multiple(void) { return MPI_THREAD_MULTIPLE; }
static inline int trident_mpi_max_error_string(void) { return MPI_MAX_ERROR_STRING; }

#endif
