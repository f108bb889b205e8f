//! Benchmarks of polder.
