/* The slice of OpenCL the scheduler uses, declared here so that building needs no OpenCL SDK.
 * Entry points are resolved at run time (dlopen/dlsym) from the loader pyopencl uses.
 * Types and constants follow the OpenCL 1.2 specification. */
#ifndef PYS_CL_H
#define PYS_CL_H

#include <stddef.h>
#include <stdint.h>

typedef int32_t cl_int;
typedef uint32_t cl_uint;
typedef uint64_t cl_ulong;
typedef cl_uint cl_bool;
typedef cl_uint cl_profiling_info;
typedef struct _cl_mem *cl_mem;
typedef struct _cl_kernel *cl_kernel;
typedef struct _cl_command_queue *cl_command_queue;
typedef struct _cl_event *cl_event;

#define CL_SUCCESS 0
#define CL_TRUE 1
#define CL_FALSE 0
#define CL_PROFILING_COMMAND_START 0x1282
#define CL_PROFILING_COMMAND_END 0x1283

typedef cl_int (*pfn_clSetKernelArg)(cl_kernel, cl_uint, size_t, const void *);
typedef cl_int (*pfn_clEnqueueNDRangeKernel)(cl_command_queue, cl_kernel, cl_uint, const size_t *,
                                             const size_t *, const size_t *, cl_uint,
                                             const cl_event *, cl_event *);
typedef cl_int (*pfn_clEnqueueWriteBuffer)(cl_command_queue, cl_mem, cl_bool, size_t, size_t,
                                           const void *, cl_uint, const cl_event *, cl_event *);
typedef cl_int (*pfn_clEnqueueReadBuffer)(cl_command_queue, cl_mem, cl_bool, size_t, size_t,
                                          void *, cl_uint, const cl_event *, cl_event *);
typedef cl_int (*pfn_clEnqueueCopyBuffer)(cl_command_queue, cl_mem, cl_mem, size_t, size_t,
                                          size_t, cl_uint, const cl_event *, cl_event *);
typedef cl_int (*pfn_clEnqueueFillBuffer)(cl_command_queue, cl_mem, const void *, size_t, size_t,
                                          size_t, cl_uint, const cl_event *, cl_event *);
typedef cl_int (*pfn_clFinish)(cl_command_queue);
typedef cl_int (*pfn_clFlush)(cl_command_queue);
typedef cl_int (*pfn_clWaitForEvents)(cl_uint, const cl_event *);
typedef cl_int (*pfn_clReleaseEvent)(cl_event);
typedef cl_int (*pfn_clGetEventProfilingInfo)(cl_event, cl_profiling_info, size_t, void *,
                                              size_t *);
typedef cl_int (*pfn_clRetainMemObject)(cl_mem);
typedef cl_int (*pfn_clReleaseMemObject)(cl_mem);
typedef cl_int (*pfn_clRetainKernel)(cl_kernel);
typedef cl_int (*pfn_clReleaseKernel)(cl_kernel);
typedef cl_int (*pfn_clRetainCommandQueue)(cl_command_queue);
typedef cl_int (*pfn_clReleaseCommandQueue)(cl_command_queue);

#endif
