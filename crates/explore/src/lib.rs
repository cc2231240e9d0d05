//! bridgesim's interleaving explorer.
//!
//! A program is an entry closure ([`Program`]) re-run on a fresh [`kmodel::Kernel`] for every
//! execution. [`Explorer`] searches its interleavings with one of the [`Strategy`]s:
//!
//! - [`Strategy::Dfs`]: every choice at every point, no reduction (the oracle).
//! - [`Strategy::Dpor`]: source-set DPOR with sleep sets (Abdulla, Aronis, Jonsson, Sagonas,
//!   POPL 2014): at least one execution per Mazurkiewicz trace, usually about one.
//! - [`Strategy::Pct`]: probabilistic concurrency testing (Burckhardt et al., ASPLOS 2010).
//! - [`Strategy::Random`]: a uniformly random enabled thread at every point.
//!
//! [`Options::preemption_bound`] turns the tree strategies into CHESS-style iterative context
//! bounding (Musuvathi & Qadeer, PLDI 2007): bounds 0, 1, … are searched in turn with a
//! *naive* bounded DFS (no DPOR, no sleep sets: combining them with a bound is unsound
//! without extra backtracking, Coons et al. OOPSLA 2013), so the first counterexample has
//! the fewest preemptions.
//!
//! Every counterexample comes with a [`kmodel::Schedule`] string; [`replay`] reproduces the
//! execution byte for byte, and the reported schedule is first shrunk to the fewest
//! preemptions that still fail the same way ([`minimize`]). [`Report::coverage`] says what
//! the search covered, in the one wording every front end prints ([`Coverage`]).
//!
//! Parallelism: tree searches run as on one thread, and idle workers (`threads - 1` OS
//! threads, each with its own kernels) take unexplored subtrees from the running engines;
//! the owner merges each result where it would have explored the subtree itself, so the
//! verdict, the counterexample and every count but [`Stats::handed_out`] are those of one
//! thread. Random strategies give each execution its own seeded RNG stream and hand out
//! chunks of executions. Runs cut short by `max_executions` or an interrupt cover a
//! thread-count-dependent part of the space (each worker may finish the execution it is in:
//! up to `threads - 1` over budget).
//!
//! A host panic in any execution or worker ends the search promptly with
//! [`Outcome::InternalError`], carrying the panic message and the schedule it was on.
//!
//! The explorer knows no command line: a front end passes an interrupt flag
//! ([`Options::interrupt`]) and a progress callback ([`Options::progress`]), and says how to
//! replay a schedule.

use std::sync::Arc;

use kmodel::Kernel;

mod exec;
mod hb;
pub mod models;
mod options;
mod pool;
mod predict;
mod random;
mod replay;
mod report;
mod search;
mod shard;
mod thread_set;
mod tree;

pub use exec::{trace_ops, Counting};
pub use options::{
    available_cores, FreeRule, KrefRule, Options, Progress, Strategy, DEFAULT_SAMPLES,
    PROGRESS_EVERY, TRACE_SET_CAP,
};
pub use random::Rng;
pub use replay::{minimize, replay, replay_with, Replayed};
pub use report::{
    Counterexample, Coverage, Finding, InternalError, Outcome, RaceCount, Report, ShardStats, Stats,
};
pub use search::Explorer;
pub use shard::{Shard, FIRST_VIOLATION_LEAVES, LEAVES_PER_SHARD};

/// A program to explore: the entry closure of thread 0, run once per execution.
pub type Program = Arc<dyn Fn(&Kernel) + Send + Sync>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rng_is_deterministic_and_in_range() {
        let mut a = Rng::for_execution(1, 5);
        let mut b = Rng::for_execution(1, 5);
        for _ in 0..100 {
            let x = a.below(7);
            assert_eq!(x, b.below(7));
            assert!(x < 7);
        }
        assert_ne!(
            Rng::for_execution(1, 5).next_u64(),
            Rng::for_execution(1, 6).next_u64()
        );
    }
}
