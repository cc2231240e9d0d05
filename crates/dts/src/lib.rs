//! Device-tree source front end (see ARCHITECTURE.md).
