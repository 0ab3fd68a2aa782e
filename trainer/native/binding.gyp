{
  "variables": {
    "blas_include_dirs%": "",
    "blas_libraries%": "-lopenblas"
  },
  "targets": [
    {
      "target_name": "refinery_blas",
      "sources": ["blas.c"],
      "include_dirs": ["<@(blas_include_dirs)"],
      "libraries": ["<@(blas_libraries)"],
      "cflags": ["-O2"]
    }
  ]
}
