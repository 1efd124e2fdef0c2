/* pysession's C scheduler: executes a flat plan of OpenCL steps in one call.
 *
 * Python (pyopencl) owns the cold path: devices, contexts, queues, program builds.  It hands the
 * raw handles here once, when a plan is built; every Session.run then costs one call of
 * pys_plan_run, which enqueues every step and waits once.  Nothing in this file aborts or exits:
 * failures are returned as a status with a pys_error record that Python maps to an exception.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pys_cl.h"
#include "pys_sched.h"

/* ------------------------------------------------------------------ OpenCL entry points */

static struct {
    void *lib;
    pfn_clSetKernelArg SetKernelArg;
    pfn_clEnqueueNDRangeKernel EnqueueNDRangeKernel;
    pfn_clEnqueueWriteBuffer EnqueueWriteBuffer;
    pfn_clEnqueueReadBuffer EnqueueReadBuffer;
    pfn_clEnqueueCopyBuffer EnqueueCopyBuffer;
    pfn_clEnqueueFillBuffer EnqueueFillBuffer;
    pfn_clFinish Finish;
    pfn_clFlush Flush;
    pfn_clWaitForEvents WaitForEvents;
    pfn_clReleaseEvent ReleaseEvent;
    pfn_clGetEventProfilingInfo GetEventProfilingInfo;
    pfn_clRetainMemObject RetainMemObject;
    pfn_clReleaseMemObject ReleaseMemObject;
    pfn_clRetainKernel RetainKernel;
    pfn_clReleaseKernel ReleaseKernel;
    pfn_clRetainCommandQueue RetainCommandQueue;
    pfn_clReleaseCommandQueue ReleaseCommandQueue;
} cl;

static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;

static int set_error(pys_error *err, int status, int step, int node, int cl_code,
                     const char *fmt, ...)
{
    if (err) {
        va_list ap;
        err->status = status;
        err->step = step;
        err->node = node;
        err->cl_code = cl_code;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return status;
}

static int ok(pys_error *err)
{
    if (err) {
        err->status = PYS_OK;
        err->step = -1;
        err->node = -1;
        err->cl_code = 0;
        err->message[0] = '\0';
    }
    return PYS_OK;
}

int pys_load_opencl(const char *library_path, pys_error *err)
{
    int status = PYS_OK;
    pthread_mutex_lock(&load_lock);
    if (cl.lib)
        goto done;
    void *lib = NULL;
    if (library_path && library_path[0])
        lib = dlopen(library_path, RTLD_NOW | RTLD_LOCAL);
    if (!lib)
        lib = dlopen("libOpenCL.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib)
        lib = dlopen("libOpenCL.so", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        status = set_error(err, PYS_ERR_NOT_LOADED, -1, -1, 0,
                           "cannot load the OpenCL library (%s): %s",
                           library_path ? library_path : "libOpenCL.so.1", dlerror());
        goto done;
    }
#define RESOLVE(name)                                                                          \
    do {                                                                                       \
        *(void **)(&cl.name) = dlsym(lib, "cl" #name);                                         \
        if (!cl.name) {                                                                        \
            status = set_error(err, PYS_ERR_NOT_LOADED, -1, -1, 0,                             \
                               "the OpenCL library lacks cl" #name);                           \
            dlclose(lib);                                                                      \
            memset(&cl, 0, sizeof cl);                                                         \
            goto done;                                                                         \
        }                                                                                      \
    } while (0)
    RESOLVE(SetKernelArg);
    RESOLVE(EnqueueNDRangeKernel);
    RESOLVE(EnqueueWriteBuffer);
    RESOLVE(EnqueueReadBuffer);
    RESOLVE(EnqueueCopyBuffer);
    RESOLVE(EnqueueFillBuffer);
    RESOLVE(Finish);
    RESOLVE(Flush);
    RESOLVE(WaitForEvents);
    RESOLVE(ReleaseEvent);
    RESOLVE(GetEventProfilingInfo);
    RESOLVE(RetainMemObject);
    RESOLVE(ReleaseMemObject);
    RESOLVE(RetainKernel);
    RESOLVE(ReleaseKernel);
    RESOLVE(RetainCommandQueue);
    RESOLVE(ReleaseCommandQueue);
#undef RESOLVE
    cl.lib = lib;
done:
    pthread_mutex_unlock(&load_lock);
    return status == PYS_OK ? ok(err) : status;
}

int pys_opencl_loaded(void) { return cl.lib != NULL; }

const char *pys_status_to_string(int status)
{
    switch (status) {
    case PYS_OK: return "ok";
    case PYS_ERR_OPENCL: return "OpenCL error";
    case PYS_ERR_ARGUMENT: return "bad argument";
    case PYS_ERR_NO_MEMORY: return "out of host memory";
    case PYS_ERR_NOT_LOADED: return "OpenCL not loaded";
    default: return "unknown status";
    }
}

const char *pys_cl_error_to_string(int code)
{
    switch (code) {
    case 0: return "CL_SUCCESS";
    case -1: return "CL_DEVICE_NOT_FOUND";
    case -2: return "CL_DEVICE_NOT_AVAILABLE";
    case -4: return "CL_MEM_OBJECT_ALLOCATION_FAILURE";
    case -5: return "CL_OUT_OF_RESOURCES";
    case -6: return "CL_OUT_OF_HOST_MEMORY";
    case -13: return "CL_MISALIGNED_SUB_BUFFER_OFFSET";
    case -14: return "CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST";
    case -30: return "CL_INVALID_VALUE";
    case -34: return "CL_INVALID_CONTEXT";
    case -36: return "CL_INVALID_COMMAND_QUEUE";
    case -38: return "CL_INVALID_MEM_OBJECT";
    case -48: return "CL_INVALID_KERNEL";
    case -49: return "CL_INVALID_ARG_INDEX";
    case -50: return "CL_INVALID_ARG_VALUE";
    case -51: return "CL_INVALID_ARG_SIZE";
    case -52: return "CL_INVALID_KERNEL_ARGS";
    case -53: return "CL_INVALID_WORK_DIMENSION";
    case -54: return "CL_INVALID_WORK_GROUP_SIZE";
    case -55: return "CL_INVALID_WORK_ITEM_SIZE";
    case -56: return "CL_INVALID_GLOBAL_OFFSET";
    case -57: return "CL_INVALID_EVENT_WAIT_LIST";
    case -58: return "CL_INVALID_EVENT";
    case -61: return "CL_INVALID_BUFFER_SIZE";
    case -63: return "CL_INVALID_GLOBAL_WORK_SIZE";
    default: return "CL_UNKNOWN_ERROR";
    }
}

/* ------------------------------------------------------------------ plans */

typedef struct {
    int kind;
    int queue;               /* the queue the step is enqueued on (dst queue for xcopy) */
    int src_queue;           /* xcopy: the queue the source is read on */
    int node;
    int host_slot;
    void *mem_a;             /* write/read/fill: the buffer; copy: src */
    void *mem_b;             /* copy: dst */
    cl_kernel kernel;
    size_t off_a, off_b, nbytes;
    int n_args;
    pys_arg *args;
    int rebind;              /* kernel used by several steps: set its args before each launch */
    cl_uint work_dim;
    size_t gws[3], lws[3];
    int has_lws;
    int n_wait;              /* dependencies on other queues of the same context: event waits */
    int *wait;
    int n_host_wait;         /* dependencies on other contexts: waited for on the host */
    int *host_wait;
    int needs_event;         /* some later step waits on this one */
    cl_event event;
    unsigned char *staging;  /* xcopy */
    unsigned char pattern[128];
    size_t pattern_size;
} step_t;

struct pys_plan {
    int n_queues;
    cl_command_queue *queues;
    int n_steps, cap_steps;
    step_t *steps;
    cl_event *wait_scratch;  /* scratch for building event wait lists */
    int wait_scratch_cap;
    pthread_mutex_t lock;
};

pys_plan *pys_plan_new(int n_queues, void **queues, pys_error *err)
{
    if (!cl.lib) {
        set_error(err, PYS_ERR_NOT_LOADED, -1, -1, 0, "pys_load_opencl was not called");
        return NULL;
    }
    if (n_queues < 1 || !queues) {
        set_error(err, PYS_ERR_ARGUMENT, -1, -1, 0, "a plan needs at least one queue");
        return NULL;
    }
    for (int i = 0; i < n_queues; i++)
        if (!queues[i]) {
            set_error(err, PYS_ERR_ARGUMENT, -1, -1, 0, "queue %d is NULL", i);
            return NULL;
        }
    pys_plan *p = calloc(1, sizeof *p);
    if (!p || !(p->queues = calloc((size_t)n_queues, sizeof *p->queues))) {
        free(p);
        set_error(err, PYS_ERR_NO_MEMORY, -1, -1, 0, "cannot allocate a plan");
        return NULL;
    }
    p->n_queues = n_queues;
    for (int i = 0; i < n_queues; i++) {
        p->queues[i] = (cl_command_queue)queues[i];
        cl.RetainCommandQueue(p->queues[i]);
    }
    pthread_mutex_init(&p->lock, NULL);
    ok(err);
    return p;
}

static void release_events(pys_plan *p)
{
    for (int i = 0; i < p->n_steps; i++)
        if (p->steps[i].event) {
            cl.ReleaseEvent(p->steps[i].event);
            p->steps[i].event = NULL;
        }
}

void pys_plan_free(pys_plan *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    release_events(p);
    for (int i = 0; i < p->n_steps; i++) {
        step_t *s = &p->steps[i];
        if (s->kernel)
            cl.ReleaseKernel(s->kernel);
        if (s->mem_a)
            cl.ReleaseMemObject((cl_mem)s->mem_a);
        if (s->mem_b)
            cl.ReleaseMemObject((cl_mem)s->mem_b);
        for (int a = 0; a < s->n_args; a++)
            if (s->args[a].kind == PYS_ARG_MEM && s->args[a].mem)
                cl.ReleaseMemObject((cl_mem)s->args[a].mem);
        free(s->args);
        free(s->wait);
        free(s->host_wait);
        free(s->staging);
    }
    for (int i = 0; i < p->n_queues; i++)
        cl.ReleaseCommandQueue(p->queues[i]);
    free(p->steps);
    free(p->queues);
    free(p->wait_scratch);
    pthread_mutex_unlock(&p->lock);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

int pys_plan_n_steps(const pys_plan *p) { return p ? p->n_steps : 0; }

/* Appends a blank step after checking the common arguments; NULL (and *err set) on failure. */
static step_t *new_step(pys_plan *p, int kind, int queue, int node, int n_deps, const int *deps,
                        pys_error *err)
{
    if (!p) {
        set_error(err, PYS_ERR_ARGUMENT, -1, node, 0, "plan is NULL");
        return NULL;
    }
    if (queue < 0 || queue >= p->n_queues) {
        set_error(err, PYS_ERR_ARGUMENT, p->n_steps, node, 0, "queue index %d out of range",
                  queue);
        return NULL;
    }
    if (n_deps < 0 || (n_deps > 0 && !deps)) {
        set_error(err, PYS_ERR_ARGUMENT, p->n_steps, node, 0, "bad dependency list");
        return NULL;
    }
    for (int i = 0; i < n_deps; i++)
        if (deps[i] < 0 || deps[i] >= p->n_steps) {
            set_error(err, PYS_ERR_ARGUMENT, p->n_steps, node, 0,
                      "dependency %d names no earlier step", deps[i]);
            return NULL;
        }
    if (p->n_steps == p->cap_steps) {
        int cap = p->cap_steps ? 2 * p->cap_steps : 16;
        step_t *grown = realloc(p->steps, (size_t)cap * sizeof *grown);
        if (!grown) {
            set_error(err, PYS_ERR_NO_MEMORY, p->n_steps, node, 0, "cannot grow the plan");
            return NULL;
        }
        p->steps = grown;
        p->cap_steps = cap;
    }
    step_t *s = &p->steps[p->n_steps];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->queue = queue;
    s->src_queue = queue;
    s->node = node;
    s->host_slot = -1;
    return s;
}

/* Records the cross-queue dependencies of the step being added (index p->n_steps).  Steps on
 * the same queue are ordered by the in-order queue and need nothing.  ctx_of gives the context
 * group of a queue; dependencies across groups are waited for on the host. */
static int set_deps(pys_plan *p, step_t *s, int n_deps, const int *deps, pys_error *err)
{
    int n = 0;
    for (int i = 0; i < n_deps; i++)
        if (p->steps[deps[i]].queue != s->queue)
            n++;
    if (!n)
        return PYS_OK;
    s->wait = malloc((size_t)n * sizeof *s->wait);
    if (!s->wait)
        return set_error(err, PYS_ERR_NO_MEMORY, p->n_steps, s->node, 0, "out of memory");
    for (int i = 0; i < n_deps; i++) {
        step_t *d = &p->steps[deps[i]];
        if (d->queue != s->queue) {
            s->wait[s->n_wait++] = deps[i];
            d->needs_event = 1;
        }
    }
    if (n > p->wait_scratch_cap) {
        cl_event *w = realloc(p->wait_scratch, (size_t)n * sizeof *w);
        if (!w)
            return set_error(err, PYS_ERR_NO_MEMORY, p->n_steps, s->node, 0, "out of memory");
        p->wait_scratch = w;
        p->wait_scratch_cap = n;
    }
    return PYS_OK;
}

/* Frees what a step that failed to be added had allocated; returns status. */
static int discard(step_t *s, int status)
{
    free(s->wait);
    free(s->host_wait);
    free(s->args);
    free(s->staging);
    s->wait = s->host_wait = NULL;
    s->args = NULL;
    s->staging = NULL;
    return status;
}

static void retain_mem(void *m)
{
    if (m)
        cl.RetainMemObject((cl_mem)m);
}

static int add_transfer(pys_plan *p, int kind, int queue, void *buffer, size_t offset,
                        size_t nbytes, int host_slot, int node, int n_deps, const int *deps,
                        pys_error *err)
{
    int rc0;
    step_t *s = new_step(p, kind, queue, node, n_deps, deps, err);
    if (!s)
        return err ? err->status : PYS_ERR_ARGUMENT;
    if (!buffer || host_slot < 0)
        return set_error(err, PYS_ERR_ARGUMENT, p->n_steps, node, 0,
                         "a transfer needs a buffer and a host slot");
    if ((rc0 = set_deps(p, s, n_deps, deps, err)) != PYS_OK)
        return discard(s, rc0);
    s->mem_a = buffer;
    s->off_a = offset;
    s->nbytes = nbytes;
    s->host_slot = host_slot;
    retain_mem(buffer);
    p->n_steps++;
    return ok(err);
}

int pys_plan_add_write(pys_plan *p, int queue, void *buffer, size_t offset, size_t nbytes,
                       int host_slot, int node, int n_deps, const int *deps, pys_error *err)
{
    return add_transfer(p, PYS_STEP_WRITE, queue, buffer, offset, nbytes, host_slot, node,
                        n_deps, deps, err);
}

int pys_plan_add_read(pys_plan *p, int queue, void *buffer, size_t offset, size_t nbytes,
                      int host_slot, int node, int n_deps, const int *deps, pys_error *err)
{
    return add_transfer(p, PYS_STEP_READ, queue, buffer, offset, nbytes, host_slot, node,
                        n_deps, deps, err);
}

int pys_plan_add_kernel(pys_plan *p, int queue, void *kernel, int n_args, const pys_arg *args,
                        int work_dim, const size_t *global_size, const size_t *local_size,
                        int node, int n_deps, const int *deps, pys_error *err)
{
    int rc0;
    step_t *s = new_step(p, PYS_STEP_KERNEL, queue, node, n_deps, deps, err);
    if (!s)
        return err ? err->status : PYS_ERR_ARGUMENT;
    int idx = p->n_steps;
    if (!kernel)
        return set_error(err, PYS_ERR_ARGUMENT, idx, node, 0, "kernel is NULL");
    if (work_dim < 1 || work_dim > 3 || !global_size)
        return set_error(err, PYS_ERR_ARGUMENT, idx, node, 0, "work_dim must be 1..3");
    if (n_args < 0 || (n_args && !args))
        return set_error(err, PYS_ERR_ARGUMENT, idx, node, 0, "bad argument list");
    for (int a = 0; a < n_args; a++)
        if (args[a].kind == PYS_ARG_BYTES && args[a].size > sizeof args[a].bytes)
            return set_error(err, PYS_ERR_ARGUMENT, idx, node, 0,
                             "argument %d: scalars are at most 16 bytes", a);
    if ((rc0 = set_deps(p, s, n_deps, deps, err)) != PYS_OK)
        return discard(s, rc0);
    if (n_args && !(s->args = malloc((size_t)n_args * sizeof *s->args)))
        return discard(s, set_error(err, PYS_ERR_NO_MEMORY, idx, node, 0, "out of memory"));
    if (n_args)
        memcpy(s->args, args, (size_t)n_args * sizeof *args);
    s->n_args = n_args;
    /* Bind the arguments now; a kernel shared with an earlier step is re-bound at each run. */
    for (int i = 0; i < idx; i++)
        if (p->steps[i].kernel == (cl_kernel)kernel)
            s->rebind = p->steps[i].rebind = 1;
    for (int a = 0; a < n_args; a++) {
        const pys_arg *g = &args[a];
        cl_int rc;
        if (g->kind == PYS_ARG_MEM)
            rc = cl.SetKernelArg((cl_kernel)kernel, (cl_uint)a, sizeof(cl_mem), &g->mem);
        else if (g->kind == PYS_ARG_BYTES)
            rc = cl.SetKernelArg((cl_kernel)kernel, (cl_uint)a, g->size, g->bytes);
        else if (g->kind == PYS_ARG_LOCAL)
            rc = cl.SetKernelArg((cl_kernel)kernel, (cl_uint)a, g->size, NULL);
        else
            return set_error(err, PYS_ERR_ARGUMENT, idx, node, 0, "argument %d: bad kind", a);
        if (rc != CL_SUCCESS) {
            return discard(s, set_error(err, PYS_ERR_OPENCL, idx, node, rc,
                                        "clSetKernelArg(%d) failed: %s", a,
                                        pys_cl_error_to_string(rc)));
        }
    }
    for (int a = 0; a < n_args; a++)
        if (args[a].kind == PYS_ARG_MEM)
            retain_mem(args[a].mem);
    s->kernel = (cl_kernel)kernel;
    cl.RetainKernel(s->kernel);
    s->work_dim = (cl_uint)work_dim;
    for (int d = 0; d < work_dim; d++) {
        s->gws[d] = global_size[d];
        s->lws[d] = local_size ? local_size[d] : 0;
    }
    s->has_lws = local_size != NULL;
    p->n_steps++;
    return ok(err);
}

int pys_plan_add_copy(pys_plan *p, int queue, void *src, size_t src_offset, void *dst,
                      size_t dst_offset, size_t nbytes, int node, int n_deps, const int *deps,
                      pys_error *err)
{
    int rc0;
    step_t *s = new_step(p, PYS_STEP_COPY, queue, node, n_deps, deps, err);
    if (!s)
        return err ? err->status : PYS_ERR_ARGUMENT;
    if (!src || !dst)
        return set_error(err, PYS_ERR_ARGUMENT, p->n_steps, node, 0, "copy of a NULL buffer");
    if ((rc0 = set_deps(p, s, n_deps, deps, err)) != PYS_OK)
        return discard(s, rc0);
    s->mem_a = src;
    s->mem_b = dst;
    s->off_a = src_offset;
    s->off_b = dst_offset;
    s->nbytes = nbytes;
    retain_mem(src);
    retain_mem(dst);
    p->n_steps++;
    return ok(err);
}

int pys_plan_add_xcopy(pys_plan *p, int src_queue, void *src, size_t src_offset, int dst_queue,
                       void *dst, size_t dst_offset, size_t nbytes, int node, int n_deps,
                       const int *deps, pys_error *err)
{
    step_t *s = new_step(p, PYS_STEP_XCOPY, dst_queue, node, n_deps, deps, err);
    if (!s)
        return err ? err->status : PYS_ERR_ARGUMENT;
    if (src_queue < 0 || src_queue >= p->n_queues)
        return set_error(err, PYS_ERR_ARGUMENT, p->n_steps, node, 0, "bad source queue");
    if (!src || !dst)
        return set_error(err, PYS_ERR_ARGUMENT, p->n_steps, node, 0, "copy of a NULL buffer");
    /* Every dependency of a cross-context copy is waited for on the host before the blocking
     * read, since events cannot cross contexts. */
    if (n_deps) {
        if (!(s->host_wait = malloc((size_t)n_deps * sizeof *s->host_wait)))
            return set_error(err, PYS_ERR_NO_MEMORY, p->n_steps, node, 0, "out of memory");
        /* needs_event is set only once the step is sure to be added (below). */
        for (int i = 0; i < n_deps; i++)
            s->host_wait[s->n_host_wait++] = deps[i];
    }
    if (!(s->staging = malloc(nbytes ? nbytes : 1)))
        return discard(s, set_error(err, PYS_ERR_NO_MEMORY, p->n_steps, node, 0,
                                    "cannot allocate %zu staging bytes", nbytes));
    for (int i = 0; i < s->n_host_wait; i++)
        p->steps[s->host_wait[i]].needs_event = 1;
    s->src_queue = src_queue;
    s->mem_a = src;
    s->mem_b = dst;
    s->off_a = src_offset;
    s->off_b = dst_offset;
    s->nbytes = nbytes;
    retain_mem(src);
    retain_mem(dst);
    p->n_steps++;
    return ok(err);
}

int pys_plan_add_fill(pys_plan *p, int queue, void *buffer, size_t offset, size_t nbytes,
                      const void *pattern, size_t pattern_size, int node, int n_deps,
                      const int *deps, pys_error *err)
{
    int rc0;
    step_t *s = new_step(p, PYS_STEP_FILL, queue, node, n_deps, deps, err);
    if (!s)
        return err ? err->status : PYS_ERR_ARGUMENT;
    if (!buffer || !pattern || pattern_size == 0 || pattern_size > sizeof s->pattern ||
        (pattern_size & (pattern_size - 1)) || nbytes % pattern_size || offset % pattern_size)
        return set_error(err, PYS_ERR_ARGUMENT, p->n_steps, node, 0,
                         "fill needs a buffer and a power-of-two pattern dividing the range");
    if ((rc0 = set_deps(p, s, n_deps, deps, err)) != PYS_OK)
        return discard(s, rc0);
    s->mem_a = buffer;
    s->off_a = offset;
    s->nbytes = nbytes;
    memcpy(s->pattern, pattern, pattern_size);
    s->pattern_size = pattern_size;
    retain_mem(buffer);
    p->n_steps++;
    return ok(err);
}

/* ------------------------------------------------------------------ running */

static int cl_fail(pys_error *err, int step, const step_t *s, cl_int rc, const char *what)
{
    return set_error(err, PYS_ERR_OPENCL, step, s->node, rc, "%s failed: %s", what,
                     pys_cl_error_to_string(rc));
}

static cl_int bind_args(const step_t *s)
{
    for (int a = 0; a < s->n_args; a++) {
        const pys_arg *g = &s->args[a];
        cl_int rc = g->kind == PYS_ARG_MEM
                        ? cl.SetKernelArg(s->kernel, (cl_uint)a, sizeof(cl_mem), &g->mem)
                    : g->kind == PYS_ARG_BYTES
                        ? cl.SetKernelArg(s->kernel, (cl_uint)a, g->size, g->bytes)
                        : cl.SetKernelArg(s->kernel, (cl_uint)a, g->size, NULL);
        if (rc != CL_SUCCESS)
            return rc;
    }
    return CL_SUCCESS;
}

static int run_locked(pys_plan *p, void **host, unsigned long long *profile, pys_error *err)
{
    for (int i = 0; i < p->n_steps; i++) {
        step_t *s = &p->steps[i];
        cl_command_queue q = p->queues[s->queue];
        cl_event *evp = (s->needs_event || profile) ? &s->event : NULL;
        cl_uint nw = 0;
        for (int w = 0; w < s->n_wait; w++) {
            cl_event e = p->steps[s->wait[w]].event;
            if (e)
                p->wait_scratch[nw++] = e;
        }
        const cl_event *wl = nw ? p->wait_scratch : NULL;
        cl_int rc = CL_SUCCESS;
        void *hp = s->host_slot >= 0 ? host[s->host_slot] : NULL;
        if ((s->kind == PYS_STEP_WRITE || s->kind == PYS_STEP_READ) && !hp && s->nbytes)
            return set_error(err, PYS_ERR_ARGUMENT, i, s->node, 0, "host slot %d is NULL",
                             s->host_slot);
        switch (s->kind) {
        case PYS_STEP_WRITE:
            if (s->nbytes)
                rc = cl.EnqueueWriteBuffer(q, (cl_mem)s->mem_a, CL_FALSE, s->off_a, s->nbytes,
                                           hp, nw, wl, evp);
            break;
        case PYS_STEP_READ:
            if (s->nbytes)
                rc = cl.EnqueueReadBuffer(q, (cl_mem)s->mem_a, CL_FALSE, s->off_a, s->nbytes,
                                          hp, nw, wl, evp);
            break;
        case PYS_STEP_KERNEL:
            if (s->rebind && (rc = bind_args(s)) != CL_SUCCESS)
                return cl_fail(err, i, s, rc, "clSetKernelArg");
            rc = cl.EnqueueNDRangeKernel(q, s->kernel, s->work_dim, NULL, s->gws,
                                         s->has_lws ? s->lws : NULL, nw, wl, evp);
            if (rc != CL_SUCCESS)
                return cl_fail(err, i, s, rc, "clEnqueueNDRangeKernel");
            break;
        case PYS_STEP_COPY:
            if (s->nbytes)
                rc = cl.EnqueueCopyBuffer(q, (cl_mem)s->mem_a, (cl_mem)s->mem_b, s->off_a,
                                          s->off_b, s->nbytes, nw, wl, evp);
            break;
        case PYS_STEP_FILL:
            if (s->nbytes)
                rc = cl.EnqueueFillBuffer(q, (cl_mem)s->mem_a, s->pattern, s->pattern_size,
                                          s->off_a, s->nbytes, nw, wl, evp);
            break;
        case PYS_STEP_XCOPY:
            for (int w = 0; w < s->n_host_wait; w++) {
                step_t *d = &p->steps[s->host_wait[w]];
                if (d->event) {
                    cl.Flush(p->queues[d->queue]);
                    if ((rc = cl.WaitForEvents(1, &d->event)) != CL_SUCCESS)
                        return cl_fail(err, i, s, rc, "clWaitForEvents");
                }
            }
            if (s->nbytes) {
                rc = cl.EnqueueReadBuffer(p->queues[s->src_queue], (cl_mem)s->mem_a, CL_TRUE,
                                          s->off_a, s->nbytes, s->staging, 0, NULL, NULL);
                if (rc != CL_SUCCESS)
                    return cl_fail(err, i, s, rc, "clEnqueueReadBuffer (staging)");
                rc = cl.EnqueueWriteBuffer(q, (cl_mem)s->mem_b, CL_FALSE, s->off_b, s->nbytes,
                                           s->staging, 0, NULL, evp);
            }
            break;
        }
        if (rc != CL_SUCCESS) {
            static const char *what[] = {"clEnqueueWriteBuffer", "clEnqueueReadBuffer", "",
                                         "clEnqueueCopyBuffer", "clEnqueueWriteBuffer (staged)",
                                         "clEnqueueFillBuffer"};
            return cl_fail(err, i, s, rc, what[s->kind]);
        }
    }
    return PYS_OK;
}

int pys_plan_run(pys_plan *p, void **host, unsigned long long *profile, pys_error *err)
{
    if (!p)
        return set_error(err, PYS_ERR_ARGUMENT, -1, -1, 0, "plan is NULL");
    if (!cl.lib)
        return set_error(err, PYS_ERR_NOT_LOADED, -1, -1, 0, "OpenCL not loaded");
    pthread_mutex_lock(&p->lock);
    int status = run_locked(p, host, profile, err);
    /* Flush every queue first so that no queue's finish waits on another's unsubmitted work,
     * then wait once per queue; done on failure too, so nothing still refers to host[]. */
    for (int q = 0; q < p->n_queues; q++)
        cl.Flush(p->queues[q]);
    for (int q = 0; q < p->n_queues; q++) {
        cl_int rc = cl.Finish(p->queues[q]);
        if (rc != CL_SUCCESS && status == PYS_OK)
            status = set_error(err, PYS_ERR_OPENCL, -1, -1, rc, "clFinish failed: %s",
                               pys_cl_error_to_string(rc));
    }
    if (profile) {
        for (int i = 0; i < p->n_steps; i++) {
            cl_ulong t0 = 0, t1 = 0;
            if (p->steps[i].event) {
                cl.GetEventProfilingInfo(p->steps[i].event, CL_PROFILING_COMMAND_START,
                                         sizeof t0, &t0, NULL);
                cl.GetEventProfilingInfo(p->steps[i].event, CL_PROFILING_COMMAND_END,
                                         sizeof t1, &t1, NULL);
            }
            profile[2 * i] = t0;
            profile[2 * i + 1] = t1;
        }
    }
    release_events(p);
    pthread_mutex_unlock(&p->lock);
    return status == PYS_OK ? ok(err) : status;
}
