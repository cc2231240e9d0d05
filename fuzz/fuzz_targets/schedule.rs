//! `--schedule` strings: parsing returns a schedule or an error with its column, never panics
//! or allocates without bound; a parsed schedule prints back to itself, and replaying it on a
//! small two-thread program is deterministic.
#![no_main]

use kmodel::{Config, Kernel, Replay, Schedule};
use libfuzzer_sys::fuzz_target;

fn replay(s: &Schedule) -> (String, usize, Option<u32>) {
    let k = Kernel::new(Config::default());
    let mut rep = Replay::new(s.clone());
    k.run(&mut rep, |k| {
        let counter = k.static_obj("counter", "counter", 0u32);
        let a = k.spawn("a", move |k| {
            k.write(counter, |v| *v += 1);
            k.write(counter, |v| *v += 1);
        });
        let b = k.spawn("b", move |k| {
            k.read(counter, |v| *v);
            k.write(counter, |v| *v += 1);
        });
        k.join(a);
        k.join(b);
    });
    (k.schedule().to_string(), k.steps().len(), rep.diverged())
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(s) = text.parse::<Schedule>() else {
        return;
    };
    let printed = s.to_string();
    assert_eq!(printed.parse::<Schedule>().as_ref(), Ok(&s), "{printed}");
    assert_eq!(replay(&s), replay(&s));
});
