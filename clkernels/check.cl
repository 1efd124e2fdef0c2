/* The kernel `tools/devinfo --check` runs on every device: y = a * x + b. */
__kernel void check_axpb_float(__global const float *x, __global float *y, float a, float b,
                               int n)
{
    int i = get_global_id(0);
    if (i < n)
        y[i] = a * x[i] + b;
}
