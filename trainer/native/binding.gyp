{
  "targets": [
    {
      "target_name": "refinery_blas",
      "sources": ["blas.c"],
      "include_dirs": ["/usr/include/x86_64-linux-gnu", "/usr/include/openblas"],
      "libraries": ["-lopenblas"],
      "cflags": ["-O2"]
    }
  ]
}
