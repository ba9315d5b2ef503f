//! Helpers shared by the examples in `examples/`.
