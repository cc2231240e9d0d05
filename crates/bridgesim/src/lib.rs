//! The bridgesim product layer: scenarios, their execution and the reports the CLI prints.

pub mod audit_explore;
pub mod fault;
pub mod output;
pub mod scenario;
pub mod timeline;
pub mod verdict;
