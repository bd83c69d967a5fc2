"""What the template's tests and benchmarks share: bakes, act, the stand-ins, servers."""
