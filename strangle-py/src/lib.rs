//! Python bindings for strangle (PyO3, built by maturin). Not built yet (issue 8).
