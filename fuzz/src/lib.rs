//! Shared by the fuzz targets: the properties they check.

pub mod checks;
