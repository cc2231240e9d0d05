//! What the oracle tests share about naive DFS.

/// An upper bound on naive DFS's executions of a program whose init thread has `init`
/// points and spawns and joins one worker per entry of `workers` (each worker's count of
/// points): the multinomial of the threads' step counts, init's spawns and joins and each
/// worker's first step counted as steps. Saturates instead of overflowing.
pub fn interleavings(init: usize, workers: &[usize]) -> u64 {
    let mut lens = vec![init + 2 * workers.len()];
    lens.extend(workers.iter().map(|n| n + 1));
    let mut total = 0u64;
    let mut r = 1u64;
    for n in lens {
        for i in 1..=n as u64 {
            total += 1;
            r = r.saturating_mul(total) / i;
        }
    }
    r
}

/// A proptest runner for `cases` generated programs, the same ones on every run so the test
/// command is deterministic (`PROPTEST_RNG_SEED=N` explores another set by hand), with no
/// failure files written into the tree.
pub fn oracle_runner(cases: u32) -> proptest::test_runner::TestRunner {
    use proptest::test_runner::{Config, RngSeed, TestRunner};
    let rng_seed = match Config::default().rng_seed {
        RngSeed::Random => RngSeed::Fixed(0x0b51_d9e5),
        chosen => chosen,
    };
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        rng_seed,
        ..Config::default()
    })
}
