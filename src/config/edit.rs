//! Lossless editing of profile files: being written.
