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
