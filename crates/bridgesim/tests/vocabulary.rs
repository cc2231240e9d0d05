//! The documentation spells the typed vocabulary as the types do: the violation kinds an
//! `expect` entry may name are exactly `kmodel::ViolationKind::ALL`.

use kmodel::ViolationKind;

#[test]
fn the_scenario_readme_lists_every_violation_kind() {
    let readme = include_str!("../../../scenarios/README.md");
    let from = readme
        .find("where `kind` is one of")
        .expect("the kind list");
    let to = from + readme[from..].find("and `object`").expect("its end");
    let listed: Vec<&str> = readme[from..to].split('`').skip(3).step_by(2).collect();
    let want: Vec<&str> = ViolationKind::ALL.iter().map(|k| k.name()).collect();
    assert_eq!(listed, want);
}
