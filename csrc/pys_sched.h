/* pysession's C scheduler: the public API.
 *
 * This header is read verbatim by cffi's cdef, so it has no #include, #define or #ifdef.
 * OpenCL objects cross it as opaque pointers (the raw handles pyopencl exposes as int_ptr).
 *
 * Example usage (the whole lifecycle):
 *
 *     pys_error err;
 *     pys_load_opencl("/path/to/libOpenCL.so.1", &err);      once per process
 *     void *queues[1] = { queue };
 *     pys_plan *p = pys_plan_new(1, queues, &err);
 *     pys_plan_add_write(p, 0, buf_x, 0, nbytes, 0, -1, 0, NULL, &err);   host slot 0 -> buf_x
 *     pys_arg args[2] = {{PYS_ARG_MEM, 0, buf_x}, {PYS_ARG_MEM, 0, buf_y}};
 *     size_t gws[1] = {n}, lws[1] = {64};
 *     pys_plan_add_kernel(p, 0, kernel, 2, args, 1, gws, lws, node_id, 0, NULL, &err);
 *     pys_plan_add_read(p, 0, buf_y, 0, nbytes, 1, -1, 0, NULL, &err);    buf_y -> host slot 1
 *     void *host[2] = { x_ptr, y_ptr };
 *     if (pys_plan_run(p, host, NULL, &err) != PYS_OK) report(err);       one call, one wait
 *     pys_plan_free(p);                                                    NULL is a no-op
 *
 * Rules: every function returns a pys_status (or NULL on failure for constructors) and fills
 * *err; nothing here aborts or exits.  A plan retains the OpenCL objects it is given and
 * releases them in pys_plan_free.  A plan may be run from several threads: runs of one plan
 * are serialised by its own lock; different plans run concurrently.  Steps on one queue run
 * in the order they were added (in-order queues); a dependency on a step of another queue
 * becomes an OpenCL event wait.
 */

typedef enum {
    PYS_OK = 0,
    PYS_ERR_OPENCL = 1,      /* an OpenCL call failed: cl_code says which error */
    PYS_ERR_ARGUMENT = 2,    /* a bad argument to this API (index out of range, NULL handle) */
    PYS_ERR_NO_MEMORY = 3,   /* host malloc failed */
    PYS_ERR_NOT_LOADED = 4   /* pys_load_opencl was not called or failed */
} pys_status;

typedef enum {
    PYS_STEP_WRITE = 0,      /* host slot -> buffer */
    PYS_STEP_READ = 1,       /* buffer -> host slot */
    PYS_STEP_KERNEL = 2,     /* NDRange launch */
    PYS_STEP_COPY = 3,       /* buffer -> buffer, same context */
    PYS_STEP_XCOPY = 4,      /* buffer -> buffer across contexts, staged through host memory */
    PYS_STEP_FILL = 5        /* fill a buffer range with a byte pattern */
} pys_step_kind;

typedef enum {
    PYS_ARG_MEM = 0,         /* mem: a cl_mem handle (NULL allowed) */
    PYS_ARG_BYTES = 1,       /* size bytes copied from bytes[] (scalars up to 16 bytes) */
    PYS_ARG_LOCAL = 2        /* size bytes of __local memory */
} pys_arg_kind;

typedef struct {
    int kind;
    size_t size;
    void *mem;
    unsigned char bytes[16];
} pys_arg;

typedef struct {
    int status;              /* a pys_status */
    int step;                /* failing step index, -1 if none */
    int node;                /* node id given with that step, -1 if none */
    int cl_code;             /* OpenCL error code, 0 if none */
    char message[256];
} pys_error;

typedef struct pys_plan pys_plan;

int pys_load_opencl(const char *library_path, pys_error *err);
int pys_opencl_loaded(void);
const char *pys_status_to_string(int status);
const char *pys_cl_error_to_string(int cl_code);

pys_plan *pys_plan_new(int n_queues, void **queues, pys_error *err);
void pys_plan_free(pys_plan *plan);
int pys_plan_n_steps(const pys_plan *plan);

int pys_plan_add_write(pys_plan *plan, int queue, void *buffer, size_t offset, size_t nbytes,
                       int host_slot, int node, int n_deps, const int *deps, pys_error *err);
int pys_plan_add_read(pys_plan *plan, int queue, void *buffer, size_t offset, size_t nbytes,
                      int host_slot, int node, int n_deps, const int *deps, pys_error *err);
int pys_plan_add_kernel(pys_plan *plan, int queue, void *kernel, int n_args, const pys_arg *args,
                        int work_dim, const size_t *global_size, const size_t *local_size,
                        int node, int n_deps, const int *deps, pys_error *err);
int pys_plan_add_copy(pys_plan *plan, int queue, void *src, size_t src_offset, void *dst,
                      size_t dst_offset, size_t nbytes, int node, int n_deps, const int *deps,
                      pys_error *err);
int pys_plan_add_xcopy(pys_plan *plan, int src_queue, void *src, size_t src_offset, int dst_queue,
                       void *dst, size_t dst_offset, size_t nbytes, int node, int n_deps,
                       const int *deps, pys_error *err);
int pys_plan_add_fill(pys_plan *plan, int queue, void *buffer, size_t offset, size_t nbytes,
                      const void *pattern, size_t pattern_size, int node, int n_deps,
                      const int *deps, pys_error *err);

/* Run every step, then wait once.  host[k] is the pointer for host slot k (feeds and fetch
 * outputs; they must stay valid for the call).  profile: NULL, or an array of 2*n_steps
 * unsigned 64-bit values that receives each step's OpenCL start and end times in ns (0 for
 * steps that have none); profiling needs queues created with profiling enabled.
 * On failure the queues are drained before returning, so no work still refers to host[]. */
int pys_plan_run(pys_plan *plan, void **host, unsigned long long *profile, pys_error *err);
