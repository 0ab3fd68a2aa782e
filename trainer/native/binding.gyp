{
  "variables": {
    "blas%": "openblas",
    "portable_too%": 0,
    "blas_include_dirs%": "",
    "blas_libraries%": "-lopenblas"
  },
  "target_defaults": {
    "cflags": ["-O3", "-fno-math-errno", "-fno-trapping-math", "-pthread"],
    "ldflags": ["-pthread"]
  },
  "targets": [
    {
      "target_name": "refinery_blas",
      "sources": ["blas.c", "kernels.c", "pool.c"],
      "conditions": [
        ["blas=='openblas'", {
          "sources": ["gemm-openblas.c"],
          "include_dirs": ["<@(blas_include_dirs)"],
          "libraries": ["<@(blas_libraries)"]
        }, {
          "sources": ["gemm.c"]
        }]
      ]
    }
  ],
  "conditions": [
    ["portable_too==1", {
      "targets": [
        {
          "target_name": "refinery_blas_portable",
          "sources": ["blas.c", "kernels.c", "pool.c", "gemm.c"]
        }
      ]
    }]
  ]
}
