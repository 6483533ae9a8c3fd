/*
 * cpu.h - run-time CPU feature detection and kernel path selection.
 *
 * One binary carries every kernel; the fastest the CPU supports is chosen
 * at first use.  NLP_KERNEL=generic|avx2|avx512 in the environment (or
 * nlp_cpu_force_path for tests) selects a slower path, never one the CPU
 * lacks.
 */
#ifndef NLP_CPU_H
#define NLP_CPU_H

enum {
    NLP_CPU_AVX2 = 1 << 0,       /* AVX2 and FMA, OS saves YMM */
    NLP_CPU_AVX512 = 1 << 1,     /* AVX-512 F/BW/VL/DQ, OS saves ZMM */
    NLP_CPU_AVX512VNNI = 1 << 2,
    NLP_CPU_AVX512BF16 = 1 << 3,
    NLP_CPU_AVXVNNI = 1 << 4
};

typedef enum nlp_kernel_path {
    NLP_PATH_GENERIC = 0,
    NLP_PATH_AVX2 = 1,
    NLP_PATH_AVX512 = 2
} nlp_kernel_path;

/* Bit set of NLP_CPU_* features this CPU and OS support (cached). */
unsigned nlp_cpu_features(void);

/* The path kernels use now: the best supported one, lowered by
 * NLP_KERNEL or nlp_cpu_force_path. */
nlp_kernel_path nlp_cpu_path(void);

/* 1 if path can run on this CPU. */
int nlp_cpu_path_supported(nlp_kernel_path path);

/* Select path (for tests and benchmarks).  Returns 0 on success, -1 when
 * the CPU cannot run it (the selection is then unchanged).  Not
 * thread-safe against concurrent GEMM calls. */
int nlp_cpu_force_path(nlp_kernel_path path);

/* "generic", "avx2" or "avx512". */
const char *nlp_cpu_path_name(nlp_kernel_path path);

#endif /* NLP_CPU_H */
