/*
 * cpu.c - CPUID/XGETBV feature detection and the kernel path switch.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"

#if defined(__x86_64__)
#include <cpuid.h>

static unsigned long long xgetbv0(void)
{
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}

static unsigned detect(void)
{
    unsigned a, b, c, d, f = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d))
        return 0;
    int osxsave = (c >> 27) & 1, fma = (c >> 12) & 1, avx = (c >> 28) & 1;
    if (!osxsave || !avx)
        return 0;
    unsigned long long xcr0 = xgetbv0();
    int ymm_ok = (xcr0 & 0x6) == 0x6;
    int zmm_ok = (xcr0 & 0xe6) == 0xe6;
    if (__get_cpuid_max(0, NULL) < 7)
        return 0;
    __cpuid_count(7, 0, a, b, c, d);
    unsigned b7 = b, c7 = c;
    __cpuid_count(7, 1, a, b, c, d);
    unsigned a71 = a;
    if (ymm_ok && fma && (b7 & (1u << 5)))
        f |= NLP_CPU_AVX2;
    if ((f & NLP_CPU_AVX2) && (a71 & (1u << 4)))
        f |= NLP_CPU_AVXVNNI;
    /* F (16), DQ (17), BW (30), VL (31) */
    unsigned need = (1u << 16) | (1u << 17) | (1u << 30) | (1u << 31);
    if (zmm_ok && (f & NLP_CPU_AVX2) && (b7 & need) == need) {
        f |= NLP_CPU_AVX512;
        if (c7 & (1u << 11))
            f |= NLP_CPU_AVX512VNNI;
        if (a71 & (1u << 5))
            f |= NLP_CPU_AVX512BF16;
    }
    return f;
}
#else
static unsigned detect(void) { return 0; }
#endif

/* Computed on first use; atomics, because several threads (pipelines) may
 * ask at once.  Detection gives the same answer every time, so a race only
 * repeats it. */
static atomic_int features = -1;
static atomic_int path = -1;

unsigned nlp_cpu_features(void)
{
    int f = atomic_load_explicit(&features, memory_order_relaxed);
    if (f < 0) {
        f = (int)detect();
        atomic_store_explicit(&features, f, memory_order_relaxed);
    }
    return (unsigned)f;
}

int nlp_cpu_path_supported(nlp_kernel_path p)
{
    unsigned f = nlp_cpu_features();
    switch (p) {
    case NLP_PATH_GENERIC: return 1;
    case NLP_PATH_AVX2: return (f & NLP_CPU_AVX2) != 0;
    case NLP_PATH_AVX512: return (f & NLP_CPU_AVX512) != 0;
    }
    return 0;
}

nlp_kernel_path nlp_cpu_path(void)
{
    int cur = atomic_load_explicit(&path, memory_order_relaxed);
    if (cur < 0) {
        int best = nlp_cpu_path_supported(NLP_PATH_AVX512) ? NLP_PATH_AVX512
                 : nlp_cpu_path_supported(NLP_PATH_AVX2) ? NLP_PATH_AVX2
                 : NLP_PATH_GENERIC;
        const char *env = getenv("NLP_KERNEL");
        if (env) {
            int want = !strcmp(env, "generic") ? NLP_PATH_GENERIC
                     : !strcmp(env, "avx2") ? NLP_PATH_AVX2
                     : !strcmp(env, "avx512") ? NLP_PATH_AVX512 : best;
            if (want < best)
                best = want;
        }
        int unset = -1;   /* a forced path set meanwhile wins */
        atomic_compare_exchange_strong(&path, &unset, best);
        cur = atomic_load_explicit(&path, memory_order_relaxed);
    }
    return (nlp_kernel_path)cur;
}

int nlp_cpu_force_path(nlp_kernel_path p)
{
    if (!nlp_cpu_path_supported(p))
        return -1;
    atomic_store_explicit(&path, (int)p, memory_order_relaxed);
    return 0;
}

const char *nlp_cpu_path_name(nlp_kernel_path p)
{
    switch (p) {
    case NLP_PATH_GENERIC: return "generic";
    case NLP_PATH_AVX2: return "avx2";
    case NLP_PATH_AVX512: return "avx512";
    }
    return "unknown";
}
